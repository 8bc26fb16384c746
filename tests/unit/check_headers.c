/* check_headers.c: unit tests of the proxy's header rules. */
#include "config.h"

#include "proxy/headers.h"

#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* What answer.c asks of a master's header: dropped by its name alone... */
static bool answer_drops(const char *name)
{
    return headers_answer_drops(name, strlen(name));
}

/* ...or also because the answer's Connection header (@connection) lists it. */
static bool answer_drops_listed(const char *name, const char *connection)
{
    return answer_drops(name) || headers_connection_lists(connection, name);
}

START_TEST(hop_by_hop)
{
    const char *hop[] = {
        "Connection",          "keep-alive",      "TE", "Trailer", "Transfer-Encoding", "upgrade",
        "Proxy-Authorization", "Proxy-Connection"};
    const char *end_to_end[] = {"Content-Type",    "Accept",         "Authorization",
                                "Mesos-Stream-Id", "Message-Accept", "Accept-Encoding",
                                "Content-Encoding"};

    for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
        ck_assert_msg(answer_drops(hop[i]), "%s", hop[i]);
    for (size_t i = 0; i < sizeof(end_to_end) / sizeof(end_to_end[0]); i++) {
        ck_assert_msg(!answer_drops(end_to_end[i]), "%s", end_to_end[i]);
        ck_assert(!headers_drop_from_request(end_to_end[i], NULL));
        ck_assert(!answer_drops_listed(end_to_end[i], NULL));
    }
}
END_TEST

START_TEST(connection_named_headers)
{
    ck_assert(headers_connection_lists("close, X-Secret , foo", "x-secret"));
    ck_assert(headers_connection_lists("foo", "Foo"));
    ck_assert(!headers_connection_lists("foobar", "foo"));
    ck_assert(!headers_connection_lists(NULL, "foo"));
    ck_assert(headers_drop_from_request("X-Secret", "keep-alive, X-Secret"));
    ck_assert(answer_drops_listed("X-Secret", "X-Secret"));
}
END_TEST

START_TEST(request_only_and_response_only)
{
    ck_assert(headers_drop_from_request("Host", NULL));
    ck_assert(headers_drop_from_request("content-length", NULL));
    ck_assert(headers_drop_from_request("Expect", NULL));
    ck_assert(headers_drop_from_request("X-Forwarded-For", NULL));
    ck_assert(answer_drops_listed("Content-Length", NULL));
    ck_assert(!answer_drops_listed("Location", NULL));
    ck_assert(!answer_drops_listed("WWW-Authenticate", NULL));
    ck_assert(!answer_drops_listed("Date", NULL));
}
END_TEST

START_TEST(line_format)
{
    struct strbuf sb = {0};

    ck_assert_int_eq(headers_append_line("Accept", "application/json", &sb), 0);
    ck_assert_str_eq(sb.data, "Accept: application/json\r\n");
    ck_assert_int_eq(headers_append_line("X-Empty", "", &sb), 0);
    ck_assert_str_eq(sb.data, "Accept: application/json\r\nX-Empty:\r\n");
    strbuf_reset(&sb);
    ck_assert_int_eq(headers_append_line("Bad Name", "v", &sb), -EINVAL);
    ck_assert_int_eq(headers_append_line("X", "a\r\nInjected: 1", &sb), -EINVAL);
    ck_assert_int_eq(headers_append_line("", "v", &sb), -EINVAL);
    ck_assert_uint_eq(sb.len, 0);
    strbuf_done(&sb);
}
END_TEST

START_TEST(forwarded_for)
{
    struct strbuf sb = {0};

    headers_forwarded_for(NULL, "127.0.0.1", &sb);
    ck_assert_str_eq(sb.data, "127.0.0.1");
    strbuf_reset(&sb);
    headers_forwarded_for("10.0.0.1, 10.0.0.2", "::1", &sb);
    ck_assert_str_eq(sb.data, "10.0.0.1, 10.0.0.2, ::1");
    strbuf_done(&sb);
}
END_TEST

START_TEST(status_lines)
{
    int status = 0;
    const char *bad[] = {"HTTP/1.1 20 OK\r\n",
                         "HTTX/1.1 200 OK\r\n",
                         "HTTP/1.1 2000 OK\r\n",
                         "HTTP/1.1 abc\r\n",
                         "garbage",
                         "HTTP/1.1 099 x\r\n"};

    ck_assert_int_eq(headers_parse_status_line("HTTP/1.1 307 Temporary Redirect\r\n", 34, &status),
                     0);
    ck_assert_int_eq(status, 307);
    ck_assert_int_eq(headers_parse_status_line("HTTP/1.0 200\r\n", 14, &status), 0);
    ck_assert_int_eq(status, 200);
    ck_assert_int_eq(headers_parse_status_line("HTTP/2 503 \r\n", 13, &status), 0);
    ck_assert_int_eq(status, 503);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(headers_parse_status_line(bad[i], strlen(bad[i]), &status) < 0, "%s", bad[i]);
}
END_TEST

START_TEST(fields)
{
    struct header_field f;
    const char *line = "Mesos-Stream-Id:  abc-123 \r\n";

    ck_assert_int_eq(headers_parse_field(line, strlen(line), &f), 0);
    ck_assert_int_eq((int)f.name_len, 15);
    ck_assert(strncmp(f.name, "Mesos-Stream-Id", 15) == 0);
    ck_assert_int_eq((int)f.value_len, 7);
    ck_assert(strncmp(f.value, "abc-123", 7) == 0);
    ck_assert_int_eq(headers_parse_field("\r\n", 2, &f), 1);
    ck_assert_int_eq(headers_parse_field(" folded\r\n", 9, &f), -EAGAIN);
    ck_assert_int_eq(headers_parse_field("NoColon\r\n", 9, &f), -EINVAL);
    ck_assert_int_eq(headers_parse_field("Bad Name: x\r\n", 13, &f), -EINVAL);
    ck_assert_int_eq(headers_parse_field(": x\r\n", 5, &f), -EINVAL);
    ck_assert_int_eq(headers_parse_field("Empty:\r\n", 8, &f), 0);
    ck_assert_int_eq((int)f.value_len, 0);
}
END_TEST

START_TEST(location_host)
{
    char host[64];

    ck_assert_int_eq(
        headers_location_host("//m2:5050/master/api/v1/scheduler?x=1", host, sizeof(host)), 0);
    ck_assert_str_eq(host, "m2:5050");
    ck_assert_int_eq(headers_location_host("http://10.0.0.2:5050", host, sizeof(host)), 0);
    ck_assert_str_eq(host, "10.0.0.2:5050");
    ck_assert_int_eq(headers_location_host("masterhost2:5050", host, sizeof(host)), 0);
    ck_assert_str_eq(host, "masterhost2:5050");
    ck_assert_int_eq(headers_location_host("//[::1]:5050/x", host, sizeof(host)), 0);
    ck_assert_str_eq(host, "[::1]:5050");
    ck_assert_int_lt(headers_location_host("/relative/only", host, sizeof(host)), 0);
    ck_assert_int_lt(headers_location_host("", host, sizeof(host)), 0);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {hop_by_hop,
                                  connection_named_headers,
                                  request_only_and_response_only,
                                  line_format,
                                  forwarded_for,
                                  status_lines,
                                  fields,
                                  location_host,
                                  NULL};

    return unit_run(unit_suite("headers", tests));
}
