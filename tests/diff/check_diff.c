/* check_diff.c: unit tests of the differential harness's pure parts:
 * splitting requests and answers (diffhttp), reading case files
 * (diffcase), and the comparison with its allowed differences (diffcmp). */
#include "config.h"

#include "diff/diffcase.h"
#include "diff/diffcmp.h"
#include "diff/diffhttp.h"

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- diffhttp ------------------------------------------------------------------ */

static void requests(const char *bytes, struct dh_requests *ret)
{
    dh_requests_parse(bytes, strlen(bytes), ret);
}

START_TEST(requests_split_by_framing)
{
    struct dh_requests r;

    requests("GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
             "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
             "PUT /c HTTP/1.0\nTransfer-Encoding: chunked\n\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
             "HEAD /d HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\nshort",
             &r);
    ck_assert_ptr_null(r.error);
    ck_assert_uint_eq(r.n, 4);
    ck_assert_str_eq(r.v[0].method, "GET");
    ck_assert_str_eq(r.v[0].target, "/a?x=1");
    ck_assert_str_eq(r.v[0].version, "HTTP/1.1");
    ck_assert_str_eq(dh_field_get(&r.v[0].headers, "host"), "h");
    ck_assert(r.v[0].complete);
    ck_assert_str_eq(r.v[1].body.data, "hello");
    ck_assert_str_eq(r.v[2].version, "HTTP/1.0"); /* bare LF line ends */
    ck_assert_str_eq(r.v[2].body.data, "abc");
    ck_assert(r.v[2].chunk_extensions);
    ck_assert_str_eq(dh_field_get(&r.v[2].trailers, "X-T"), "1");
    ck_assert(r.v[3].head_done);
    ck_assert(!r.v[3].complete); /* 5 of 9 body bytes */
    dh_requests_free(&r);
}
END_TEST

START_TEST(requests_incomplete_head)
{
    struct dh_requests r;

    requests("GET / HTTP/1.1\r\nHost: h\r\n", &r);
    ck_assert_uint_eq(r.n, 1);
    ck_assert(!r.v[0].head_done);
    ck_assert(!r.v[0].complete);
    dh_requests_free(&r);
}
END_TEST

/* Answers to GET, HEAD, POST, GET: interim heads, no body for HEAD, 204
 * and 304, chunked with trailers, and a close-delimited body. */
START_TEST(answers_by_request)
{
    static const char sent[] = "GET / HTTP/1.1\r\n\r\nHEAD / HTTP/1.1\r\n\r\n"
                               "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    static const char got[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "2;x=y\r\nab\r\n1\r\nc\r\n0\r\nX-Sum: 3\r\n\r\n"
                              "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                              "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
                              "HTTP/1.1 200 Fine\r\n\r\nto the end";
    struct dh_requests r;
    struct dh_answers a;

    requests(sent, &r);
    dh_answers_parse(got, strlen(got), false, &r, &a);
    ck_assert_uint_eq(a.n, 4);
    ck_assert_uint_eq(a.v[0].n_interim, 2);
    ck_assert_int_eq(a.v[0].interim[1].status, 102);
    ck_assert_str_eq(a.v[0].final.body.data, "abc");
    ck_assert_str_eq(dh_field_get(&a.v[0].final.trailers, "x-sum"), "3");
    ck_assert(a.v[1].final.complete); /* HEAD: no body, whatever the length says */
    ck_assert_int_eq(a.v[1].final.content_length, 100);
    ck_assert(a.v[2].final.complete);
    ck_assert_str_eq(a.v[3].final.reason, "Fine");
    ck_assert(!a.v[3].final.complete); /* until the connection closes */
    ck_assert_uint_eq(dh_answers_complete(&a), 3);
    dh_answers_free(&a);
    dh_answers_parse(got, strlen(got), true, &r, &a);
    ck_assert(a.v[3].final.complete);
    ck_assert_str_eq(a.v[3].final.body.data, "to the end");
    dh_answers_free(&a);
    dh_requests_free(&r);
}
END_TEST

START_TEST(answers_garbage_and_extra)
{
    struct dh_requests r;
    struct dh_answers a;
    static const char twice[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n";
    static const char broken[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";

    requests("GET / HTTP/1.1\r\n\r\n", &r);
    dh_answers_parse("SSH-2.0-x\r\n", 11, true, &r, &a);
    ck_assert_str_eq(a.error, "not an HTTP status line");
    dh_answers_free(&a);
    dh_answers_parse(twice, strlen(twice), false, &r, &a);
    ck_assert_ptr_null(a.error);
    ck_assert_uint_eq(a.extra, 17); /* nobody asked for the second one */
    dh_answers_free(&a);
    dh_answers_parse(broken, strlen(broken), false, &r, &a);
    ck_assert_str_eq(a.error, "broken chunk framing");
    dh_answers_free(&a);
    dh_requests_free(&r);
}
END_TEST

START_TEST(fields_list_tokens)
{
    struct dh_requests r;

    requests("GET / HTTP/1.1\r\nConnection: keep-alive\r\nconnection: X-A , x-b\r\n\r\n", &r);
    ck_assert(dh_fields_list(&r.v[0].headers, "Connection", "x-a"));
    ck_assert(dh_fields_list(&r.v[0].headers, "Connection", "X-B"));
    ck_assert(!dh_fields_list(&r.v[0].headers, "Connection", "X"));
    dh_requests_free(&r);
}
END_TEST

/* --- diffcase ------------------------------------------------------------------ */

START_TEST(unescape_all_escapes)
{
    struct strbuf out = {0};
    struct errbuf err = {{0}};
    static const char text[] = "a\\r\\n\\t\\\\\\x00\\xfF\\{3:ab}\\{2:\\{2:x}-}\\}";

    ck_assert_int_eq(dcase_unescape(text, strlen(text), &out, &err), 0);
    ck_assert_uint_eq(out.len, 20);
    ck_assert_int_eq(memcmp(out.data,
                            "a\r\n\t\\\0\xff"
                            "ababab"
                            "xx-xx-}",
                            20),
                     0);
    strbuf_done(&out);
}
END_TEST

START_TEST(unescape_rejects)
{
    static const char *const bad[] = {"\\q",     "\\x4",    "\\xzz",           "\\{3ab}",
                                      "\\{3:ab", "\\{0:x}", "\\{99999999:xy}", "end\\"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct strbuf out = {0};
        struct errbuf err = {{0}};
        ck_assert_msg(dcase_unescape(bad[i], strlen(bad[i]), &out, &err) == -EINVAL,
                      "accepted '%s'", bad[i]);
        ck_assert(err.msg[0]);
        strbuf_done(&out);
    }
}
END_TEST

START_TEST(case_sections)
{
    static const char text[] = "# What it checks.\n# Second line.\nstream\n\n"
                               "[master]\npath /x\ntrickle-ms 2\nhold-ms 300\nbefore-body\n"
                               "[answer]\nHTTP/1.1 200 OK\\r\\n\n\\r\\n\n"
                               "[send]\nGET /x HTTP/1.1\\r\\n\n# a comment\n\\r\\n\n[until]\nBYE\n"
                               "[send]\n[]\n";
    struct dcase c;
    struct errbuf err = {{0}};

    ck_assert_int_eq(dcase_parse("one", text, strlen(text), &c, &err), 0);
    ck_assert_str_eq(c.name, "one");
    ck_assert_str_eq(c.about, "What it checks.\nSecond line.");
    ck_assert(c.stream && c.raw && c.before_body);
    ck_assert_str_eq(c.raw_path, "/x");
    ck_assert_uint_eq(c.trickle_ms, 2);
    ck_assert_uint_eq(c.hold_ms, 300);
    ck_assert_str_eq(c.raw_bytes.data, "HTTP/1.1 200 OK\r\n\r\n");
    ck_assert_uint_eq(c.n_steps, 3);
    ck_assert_int_eq(c.steps[0].kind, DCASE_SEND);
    ck_assert_str_eq(c.steps[0].bytes.data, "GET /x HTTP/1.1\r\n\r\n");
    ck_assert_int_eq(c.steps[1].kind, DCASE_UNTIL);
    ck_assert_str_eq(c.steps[1].bytes.data, "BYE");
    ck_assert_str_eq(c.steps[2].bytes.data, "[]"); /* not a section name */
    dcase_free(&c);
}
END_TEST

START_TEST(case_rejects)
{
    static const char *const bad[] = {
        "# nothing to send\n",
        "[until]\nx\n",
        "[answer]\nx\n[send]\ny\n",
        "[master]\nhold-ms 5\n[send]\ny\n",
        "[master]\npath /x\n[send]\ny\n",
        "colour blue\n[send]\ny\n",
        "[master]\npath /x\ntrickle-ms 99999\n[answer]\nz\n[send]\ny\n",
        "[send]\n\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dcase c;
        struct errbuf err = {{0}};
        ck_assert_msg(dcase_parse("bad", bad[i], strlen(bad[i]), &c, &err) < 0, "accepted %s",
                      bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "bad, line"));
    }
}
END_TEST

/* --- diffcmp ------------------------------------------------------------------- */

static struct dc_side side(const char *name, const char *sent, const char *got, bool closed)
{
    struct dc_side s = {.name = name, .server_closed = closed};

    strbuf_puts(&s.sent, sent);
    strbuf_puts(&s.got, got);
    return s;
}

/* Compares; returns the number of differences and keeps the report. */
static int compare(const char *sent, const char *direct, bool direct_closed, const char *proxied,
                   bool stream, struct strbuf *report)
{
    struct dc_side d = side("master", sent, direct, direct_closed);
    struct dc_side p = side("daemon", sent, proxied, false);
    struct dc_expect e = {.stream = stream};
    int n = dc_compare_answers(&d, &p, &e, report);

    dc_side_done(&d);
    dc_side_done(&p);
    return n;
}

#define GET "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"

START_TEST(compare_allows_the_listed_differences)
{
    struct strbuf report = {0};

    /* Hop-by-hop headers, a header the Connection header names, Date, chunked
     * versus length, trailers, and a Content-Length on one side only. */
    ck_assert_int_eq(compare(GET,
                             "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
                             "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nX-A: 1\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 9\r\n\r\n",
                             false,
                             "HTTP/1.1 200 OK\r\nDate: Tue, 02 Jan 2024 00:00:00 GMT\r\n"
                             "X-A:  1 \r\nContent-Length: 3\r\nKeep-Alive: timeout=5\r\n\r\nabc",
                             false, &report),
                     0);
    /* The master's interim answers are not relayed. */
    ck_assert_int_eq(compare(GET, "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
                             false, "HTTP/1.1 204 No Content\r\n\r\n", false, &report),
                     0);
    ck_assert_str_eq(report.data ? report.data : "", "");
    strbuf_done(&report);
}
END_TEST

START_TEST(compare_reports_differences)
{
    struct strbuf report = {0};

    ck_assert_int_eq(compare(GET, "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello",
                             false, "HTTP/1.1 200 OK\r\nX-A: 2\r\nContent-Length: 5\r\n\r\nhellp",
                             false, &report),
                     2);
    ck_assert_ptr_nonnull(strstr(report.data, "headers differ from header 1 on"));
    ck_assert_ptr_nonnull(strstr(report.data, "the body differs at byte 4"));
    strbuf_reset(&report);
    ck_assert_int_eq(compare("HEAD /x HTTP/1.1\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", false,
                             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, &report),
                     1);
    ck_assert_ptr_nonnull(strstr(report.data, "Content-Length differs: master '1234', daemon '0'"));
    strbuf_reset(&report);
    /* The reason phrase may differ (libmicrohttpd writes its own). */
    ck_assert_int_eq(compare(GET, "HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\n", false,
                             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0"
                             "\r\n\r\nHTTP/1.1 200 OK\r\n",
                             false, &report),
                     2);
    ck_assert_ptr_null(strstr(report.data, "status lines differ"));
    ck_assert_ptr_nonnull(strstr(report.data, "interim 'HTTP/1.1 100 Continue' to a request"));
    ck_assert_ptr_nonnull(strstr(report.data, "bytes after the last answer"));
    strbuf_reset(&report);
    ck_assert_int_eq(compare(GET, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", false,
                             "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, &report),
                     1);
    ck_assert_ptr_nonnull(strstr(report.data, "status lines differ"));
    strbuf_done(&report);
}
END_TEST

#define DAEMON_502                                                                             \
    "HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 49\r\n\r\n" \
    "{\"error\":\"bad_upstream\",\"source\":\"mesos-leaderd\"}"

START_TEST(compare_cut_answers)
{
    static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    struct strbuf report = {0};

    /* Small: the daemon's own 502. */
    ck_assert_int_eq(compare(GET, cut, true, DAEMON_502, false, &report), 0);
    ck_assert_int_eq(
        compare(GET, cut, true, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab", false, &report),
        1);
    ck_assert_ptr_nonnull(strstr(report.data, "should answer 502 with its JSON error"));
    strbuf_reset(&report);
    /* An event stream: the same head, a prefix of the body, no end. */
    ck_assert_int_eq(
        compare(GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", true,
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab", true, &report),
        0);
    ck_assert_int_eq(
        compare(GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", true,
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", true, &report),
        1);
    ck_assert_ptr_nonnull(strstr(report.data, "cut short, but daemon's is complete"));
    strbuf_done(&report);
}
END_TEST

START_TEST(compare_large_heads)
{
    struct strbuf big = {0}, report = {0};

    strbuf_puts(&big, "HTTP/1.1 200 OK\r\nX-Big: ");
    for (int i = 0; i < 9000; i++)
        strbuf_puts(&big, "h");
    strbuf_puts(&big, "\r\nContent-Length: 0\r\n\r\n");
    ck_assert_int_eq(compare(GET, big.data, false, DAEMON_502, false, &report), 0);
    ck_assert_int_eq(compare(GET, big.data, false, big.data, false, &report), 1);
    ck_assert_ptr_nonnull(strstr(report.data, "above 8192"));
    strbuf_done(&big);
    strbuf_done(&report);
}
END_TEST

/* A request record as GET /__standin/requests has it. */
static json_object *record(const char *version, const char *headers_json, const char *body_b64)
{
    char *text = NULL;
    json_object *obj;

    ck_assert_int_gt(asprintf(&text,
                              "[{\"method\":\"POST\",\"target\":\"/t?q\",\"version\":\"%s\","
                              "\"headers\":%s,\"body_len\":%zu,\"body\":\"%s\"}]",
                              version, headers_json, strlen(body_b64) / 4 * 3, body_b64),
                     0);
    obj = json_tokener_parse(text);
    ck_assert_ptr_nonnull(obj);
    free(text);
    return obj;
}

START_TEST(compare_received_requests)
{
    json_object *d =
        record("HTTP/1.0",
               "[[\"Host\",\"x\"],[\"Expect\",\"100-continue\"],[\"X-A\",\"1\"],"
               "[\"X-Forwarded-For\",\"10.0.0.1\"],[\"Transfer-Encoding\",\"chunked\"]]",
               "aGVsbG8h");
    json_object *p = record("HTTP/1.1",
                            "[[\"Host\",\"127.0.0.1:5050\"],[\"X-A\",\"1\"],"
                            "[\"X-Forwarded-For\",\"10.0.0.1, 127.0.0.1\"],"
                            "[\"Content-Length\",\"6\"]]",
                            "aGVsbG8h");
    json_object *dropped = record("HTTP/1.0",
                                  "[[\"X-A\",\"1\"],[\"X-Forwarded-For\",\"127.0.0.1\"],"
                                  "[\"Expect\",\"100-continue\"]]",
                                  "aGVsbG8_");
    struct strbuf report = {0};

    ck_assert_int_eq(dc_compare_received(d, p, &report), 0);
    ck_assert_int_eq(dc_compare_received(d, dropped, &report), 4);
    ck_assert_ptr_nonnull(strstr(report.data, "X-Forwarded-For is not the client's"));
    ck_assert_ptr_nonnull(strstr(report.data, "Expect: 100-continue"));
    ck_assert_ptr_nonnull(strstr(report.data, "request versions differ"));
    ck_assert_ptr_nonnull(strstr(report.data, "the request body differs at byte 5"));
    json_object_put(d);
    json_object_put(p);
    json_object_put(dropped);
    strbuf_done(&report);
}
END_TEST

START_TEST(daemon_error_shape)
{
    ck_assert(
        dc_is_daemon_error("{\"error\":\"x\",\"message\":\"m\",\"source\":\"mesos-leaderd\"}", 54));
    ck_assert(!dc_is_daemon_error("{\"error\":\"x\"}", 13));
    ck_assert(!dc_is_daemon_error("{\"error\":1,\"source\":\"mesos-leaderd\"}", 36));
    ck_assert(!dc_is_daemon_error("502 Bad Gateway", 15));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diff");
    TCase *tc = tcase_create("diff");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, requests_split_by_framing);
    tcase_add_test(tc, requests_incomplete_head);
    tcase_add_test(tc, answers_by_request);
    tcase_add_test(tc, answers_garbage_and_extra);
    tcase_add_test(tc, fields_list_tokens);
    tcase_add_test(tc, unescape_all_escapes);
    tcase_add_test(tc, unescape_rejects);
    tcase_add_test(tc, case_sections);
    tcase_add_test(tc, case_rejects);
    tcase_add_test(tc, compare_allows_the_listed_differences);
    tcase_add_test(tc, compare_reports_differences);
    tcase_add_test(tc, compare_cut_answers);
    tcase_add_test(tc, compare_large_heads);
    tcase_add_test(tc, compare_received_requests);
    tcase_add_test(tc, daemon_error_shape);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
