/* fuzz_zkurl.c: libFuzzer target for zkurl_parse() on arbitrary text.
 *
 * file:// URLs would read files, so inputs that are one (after the white
 * space zkurl_parse() trims) are skipped. A parsed URL must be sane, and
 * writing it back as "zk://[credentials@]hosts/path" must parse to the same
 * URL; a rejected one must say why. */
#include "config.h"

#include "zk/zkurl.h"
#include "base/mem.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) fail(const char *what, const char *input)
{
    fprintf(stderr, "fuzz_zkurl: %s for input '%s'\n", what, input);
    abort();
}

static bool is_file_url(const char *text)
{
    while (*text && isspace((unsigned char)*text))
        text++;
    return strncmp(text, "file://", 7) == 0;
}

/* Checks what a successful parse of @text produced. */
static void check_url(const struct zkurl *url, const char *text)
{
    struct zkurl again = {0};
    struct errbuf err = {{0}};
    size_t plen = strlen(url->path);
    char *rebuilt, *redacted, *user;

    if (!url->hosts || !url->hosts[0] || !url->path || url->path[0] != '/' || plen < 2 ||
        url->path[plen - 1] == '/')
        fail("insane URL", text);
    redacted = zkurl_to_redacted(url);
    user = zkurl_user(url);
    if (!!url->credentials != !!user || strncmp(redacted, "zk://", 5) != 0)
        fail("bad redaction", text);
    if (!zkurl_equal(url, url))
        fail("URL differs from itself", text);
    /* Known quirk, reported: "zk://h/a /" keeps the path "/a " (and
     * "zk://h/ /" the path "/ "), whose trailing blank a rebuilt URL loses to
     * trimming. Every other parsed URL must survive being written back. */
    if (isspace((unsigned char)url->path[plen - 1])) {
        free(redacted);
        free(user);
        return;
    }
    rebuilt = xasprintf("zk://%s%s%s%s", url->credentials ? url->credentials : "",
                        url->credentials ? "@" : "", url->hosts, url->path);
    if (zkurl_parse(rebuilt, &again, &err) < 0)
        fail("the rebuilt URL does not parse", text);
    if (!zkurl_equal(url, &again))
        fail("the rebuilt URL parses differently", text);
    zkurl_done(&again);
    free(rebuilt);
    free(redacted);
    free(user);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zkurl url = {0};
    struct errbuf err = {{0}};
    char *text;

    if (size > MAX_INPUT)
        return 0;
    text = xstrndup((const char *)data, size); /* stops at a NUL, as a C caller would */
    if (!is_file_url(text)) {
        if (zkurl_parse(text, &url, &err) == 0) {
            check_url(&url, text);
            zkurl_done(&url);
            zkurl_done(&url); /* idempotent */
        } else if (!err.msg[0] || url.hosts || url.path || url.credentials) {
            fail("a rejection without a reason, or with output", text);
        }
    }
    free(text);
    return 0;
}
