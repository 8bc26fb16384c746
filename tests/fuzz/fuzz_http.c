/* fuzz_http.c: libFuzzer target for the proxy's handling of request and
 * response headers and request targets (src/proxy/headers.c, route.c).
 *
 * The input is split into lines; each goes through every parser and
 * classifier, and their results are checked against what they promise:
 * a parsed field lies inside its line, a header that formats for libcurl
 * has no line break, a target judged acceptable is origin-form. The whole
 * input is also tried as a call body, JSON and protobuf. */
#include "config.h"

#include "proxy/headers.h"
#include "proxy/route.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) fail(const char *what, const char *line)
{
    fprintf(stderr, "fuzz_http: %s: '%s'\n", what, line);
    abort();
}

static void check_field(const char *line, size_t len)
{
    struct header_field f;
    int r = headers_parse_field(line, len, &f);

    if (r != 0)
        return;
    if (f.name < line || f.name + f.name_len > line + len || f.value < line ||
        f.value + f.value_len > line + len || f.name_len == 0)
        fail("a field outside its line", line);
    if (memchr(f.value, '\r', f.value_len) || memchr(f.value, '\n', f.value_len))
        fail("a field value with a line break", line);
}

/* route_canonical() gives the path without its trailing slashes ("/"
 * stays "/"). */
static void check_canonical(const char *line)
{
    char canon[256];
    size_t n;

    if (route_canonical(line, canon, sizeof(canon)) < 0)
        return;
    n = strlen(canon);
    if (strncmp(canon, line, n) != 0 || strspn(line + n, "/") != strlen(line + n) ||
        (n > 1 && canon[n - 1] == '/'))
        fail("a canonical path that is not the path without its trailing slashes", line);
}

static void check_line(const char *line, size_t len)
{
    struct strbuf out = {0};
    char host[300];
    int status;

    if (headers_parse_status_line(line, len, &status) == 0 && (status < 100 || status > 999))
        fail("a status out of range", line);
    check_field(line, len);
    if (headers_location_host(line, host, sizeof(host)) == 0 &&
        (strchr(host, '/') || strlen(host) >= sizeof(host)))
        fail("a location host with a path", line);
    if (headers_append_line(line, line, &out) == 0 &&
        (memchr(out.data, '\r', out.len - 2) || memchr(out.data, '\n', out.len - 2)))
        fail("a header line with a line break inside", line);
    strbuf_done(&out);
    (void)headers_connection_lists(line, "x-hop");
    (void)headers_drop_from_request(line, line);
    (void)headers_answer_drops(line, strlen(line));
    check_canonical(line);
    if (route_target_acceptable(line) && (line[0] != '/' || strpbrk(line, " #\r\n")))
        fail("an unacceptable target accepted", line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *line, *save = NULL;

    memcpy(text, data, size);
    text[size] = '\0';
    (void)route_is_subscribe("/api/v1/scheduler", "application/json", text, size);
    (void)route_is_subscribe("/api/v1/scheduler", "application/x-protobuf", text, size);
    (void)route_is_subscribe("/master/api/v1", "application/x-protobuf", text, size);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        check_line(line, strlen(line));
    free(text);
    return 0;
}
