/* check_answer.c: unit tests of reading a master's answer head
 * (proxy/answer.h): what passes to the client, what the proxy acts on, and
 * the limit on a head's size. No sockets: lines are fed as the upstream
 * engines feed them. */
#include "config.h"

#include "proxy/answer.h"
#include "proxy/headers.h"

#include "unit/unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void init(struct exchange *ex, bool head, bool subscribe)
{
    memset(ex, 0, sizeof(*ex));
    ex->ans.content_length = -1;
    ex->req.head = head;
    ex->req.subscribe = subscribe;
}

/* Feeds the lines of @head ("\r\n"-separated) and returns the last step. */
static enum head_step feed(struct exchange *ex, const char *head)
{
    enum head_step step = HEAD_MORE;

    for (const char *p = head; *p && step != HEAD_BAD;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) + 2 : strlen(p);
        step = answer_head_line(ex, p, len);
        p += len;
    }
    return step;
}

/* The value kept for the client under @name, or NULL. */
static const char *kept(const struct exchange *ex, const char *name)
{
    const char *p = ex->ans.head.data, *end = p + ex->ans.head.len;

    while (p && p < end) {
        const char *value = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

START_TEST(head_kept_and_acted_on)
{
    struct exchange ex;

    init(&ex, false, true);
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Mesos-Stream-Id: abc\r\nTransfer-Encoding: chunked\r\n"
                               "Keep-Alive: timeout=5\r\n\r\n"),
                     HEAD_DONE);
    ck_assert_int_eq(ex.ans.status, 200);
    ck_assert_int_eq(ex.ans.plan, PLAN_STREAM);
    ck_assert_str_eq(ex.ans.stream_id, "abc");
    ck_assert_str_eq(kept(&ex, "Content-Type"), "application/json");
    ck_assert_ptr_null(kept(&ex, "Transfer-Encoding")); /* hop-by-hop */
    ck_assert_ptr_null(kept(&ex, "Keep-Alive"));
    registry_reset_answer(&ex);
}
END_TEST

/* Headers a Connection header names (any of several) never reach the
 * client; all of them are found once the head is complete. */
START_TEST(connection_named_headers)
{
    struct exchange ex;

    init(&ex, false, false);
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 200 OK\r\nX-Hop: 1\r\nConnection: keep-alive\r\n"
                               "Connection: X-Hop, X-Other\r\nX-Other: 2\r\nX-End: 3\r\n\r\n"),
                     HEAD_DONE);
    ck_assert(headers_connection_lists(ex.ans.connection.data, "X-Hop"));
    ck_assert(headers_connection_lists(ex.ans.connection.data, "X-Other"));
    ck_assert(!headers_connection_lists(ex.ans.connection.data, "X-End"));
    registry_reset_answer(&ex);
}
END_TEST

/* An interim answer is dropped; the final one counts. */
START_TEST(interim_answers_dropped)
{
    struct exchange ex;

    init(&ex, false, false);
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"), HEAD_MORE);
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"), HEAD_DONE);
    ck_assert_int_eq(ex.ans.status, 202);
    ck_assert_ptr_null(kept(&ex, "X-Interim"));
    ck_assert_int_eq(ex.ans.content_length, 0);
    registry_reset_answer(&ex);
}
END_TEST

/* A HEAD or a 304 keeps the length it announces, and is never streamed. */
START_TEST(bodiless_answers_keep_their_length)
{
    struct exchange ex;

    init(&ex, true, false);
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 200 OK\r\nContent-Length: 5242880\r\n\r\n"), HEAD_DONE);
    ck_assert_int_eq(ex.ans.content_length, 5242880);
    ck_assert_int_eq(ex.ans.plan, PLAN_BUFFER);
    registry_reset_answer(&ex);
}
END_TEST

/* Long header names pass; a head above the limit is refused as too large. */
START_TEST(head_size_limit)
{
    struct exchange ex;
    char name[200], line[HEADERS_BYTES_MAX + 64];

    init(&ex, false, false);
    memset(name, 'N', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(line, sizeof(line), "HTTP/1.1 200 OK\r\n%s: v\r\n\r\n", name);
    ck_assert_int_eq(feed(&ex, line), HEAD_DONE);
    ck_assert_str_eq(kept(&ex, name), "v");
    registry_reset_answer(&ex);

    init(&ex, false, false);
    memset(line, 'v', sizeof(line));
    memcpy(line, "X-Big: ", 7);
    strcpy(line + HEADERS_BYTES_MAX, "\r\n");
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 200 OK\r\n"), HEAD_MORE);
    ck_assert_int_eq(feed(&ex, line), HEAD_BAD);
    ck_assert(ex.ans.head_too_large);
    registry_reset_answer(&ex);
}
END_TEST

START_TEST(too_many_headers)
{
    struct exchange ex;

    init(&ex, false, false);
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 200 OK\r\n"), HEAD_MORE);
    for (int i = 0; i < HEADERS_MAX; i++)
        ck_assert_int_eq(feed(&ex, "X-A: 1\r\n"), HEAD_MORE);
    ck_assert_int_eq(feed(&ex, "X-A: 1\r\n"), HEAD_BAD);
    ck_assert(ex.ans.head_too_large);
    registry_reset_answer(&ex);
}
END_TEST

START_TEST(malformed_heads_refused)
{
    struct exchange ex;

    init(&ex, false, false);
    ck_assert_int_eq(feed(&ex, "HTTX/1.1 200 OK\r\n"), HEAD_BAD);
    init(&ex, false, false);
    ck_assert_int_eq(feed(&ex, "HTTP/1.1 200 OK\r\nno colon here\r\n"), HEAD_BAD);
    registry_reset_answer(&ex);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {head_kept_and_acted_on,  connection_named_headers,
                                  interim_answers_dropped, bodiless_answers_keep_their_length,
                                  head_size_limit,         too_many_headers,
                                  malformed_heads_refused, NULL};

    return unit_run(unit_suite("answer", tests));
}
