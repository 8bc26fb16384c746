/* check_http1.c: unit tests of the HTTP/1.x answer parser (src/proxy/http1.c):
 * what its consumer is told of an answer fed whole, in pieces or one byte at
 * a time (the head lines, the body without its framing, where the answer
 * ends, whether the connection can be used again) and which answers it
 * rejects. */
#include "config.h"

#include "proxy/http1.h"

#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(lit) lit, sizeof(lit) - 1

/* What the consumer of one answer was told, and how it behaves. */
struct sink {
    struct strbuf head; /* every head line, as received */
    struct strbuf body; /* every body byte taken */
    unsigned lines, body_calls;
    size_t budget;      /* body bytes it will still take (SIZE_MAX: any) */
    size_t per_call;    /* at most this many in one call (0: no limit) */
    const char *refuse; /* refuses a head line starting with this */
};

struct run {
    struct http1_response r;
    struct sink s;
};

static bool on_line(void *data, const char *line, size_t len)
{
    struct sink *s = data;

    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(line[len - 1], '\n');
    s->lines++;
    strbuf_append(&s->head, line, len);
    return !s->refuse || strncmp(line, s->refuse, strlen(s->refuse)) != 0;
}

static size_t on_body(void *data, const char *bytes, size_t len)
{
    struct sink *s = data;
    size_t take = len < s->budget ? len : s->budget;

    ck_assert_uint_gt(len, 0);
    if (s->per_call && take > s->per_call)
        take = s->per_call;
    if (s->budget != SIZE_MAX)
        s->budget -= take;
    s->body_calls++;
    strbuf_append(&s->body, bytes, take);
    return take;
}

static const struct http1_handler handler = {on_line, on_body};

static const char *text(const struct strbuf *sb)
{
    return sb->data ? sb->data : "";
}

/* Starts an answer; @t->r is zeroed first, as the first init wants. */
static void run_start(struct run *t, bool head_request)
{
    memset(t, 0, sizeof(*t));
    t->s.budget = SIZE_MAX;
    http1_response_init(&t->r, head_request);
}

/* A new consumer for the next answer on the same parser. */
static void sink_reset(struct sink *s)
{
    strbuf_done(&s->head);
    strbuf_done(&s->body);
    memset(s, 0, sizeof(*s));
    s->budget = SIZE_MAX;
}

static void run_end(struct run *t)
{
    http1_response_done(&t->r);
    strbuf_done(&t->s.head);
    strbuf_done(&t->s.body);
}

/* Feeds @len bytes @step at a time (0: all at once) until they are all used,
 * or the parser stops short (the answer ended, or the body handler paused).
 * Returns the bytes used, or what the parser returned when it rejected. */
static ssize_t feed_steps(struct run *t, const char *in, size_t len, size_t step)
{
    size_t pos = 0;

    while (pos < len) {
        size_t n = step && step < len - pos ? step : len - pos;
        ssize_t used = http1_response_feed(&t->r, in + pos, n, &handler, &t->s);

        if (used < 0)
            return used;
        ck_assert_uint_le((size_t)used, n);
        pos += (size_t)used;
        if ((size_t)used < n)
            break;
    }
    return (ssize_t)pos;
}

#define CHUNKED_HEAD "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

/* A rejected answer stays rejected: more bytes, the close, reuse. */
static void assert_stays_rejected(struct run *t, const char *more)
{
    ck_assert_ptr_nonnull(t->r.error);
    ck_assert_int_ne(t->r.phase, HTTP1_DONE);
    ck_assert_int_eq(http1_response_feed(&t->r, more, strlen(more), &handler, &t->s), -EBADMSG);
    ck_assert_int_eq(http1_response_eof(&t->r), -EPIPE);
    ck_assert(!http1_response_reusable(&t->r));
}

static const size_t steps[] = {0, 1, 2, 3, 7, 64};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

START_TEST(content_length_body)
{
    static const char head[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/plain\r\n"
                               "content-length:  5 \r\n"
                               "\r\n";
    static const char in[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "content-length:  5 \r\n"
                             "\r\n"
                             "hello";

    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, S(in), steps[i]), (ssize_t)strlen(in));
        ck_assert_str_eq(text(&t.s.head), head);
        ck_assert_uint_eq(t.s.lines, 4);
        ck_assert_str_eq(text(&t.s.body), "hello");
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert_int_eq(t.r.status, 200);
        ck_assert_int_eq(t.r.minor, 1);
        ck_assert_ptr_null(t.r.error);
        ck_assert_int_eq(http1_response_eof(&t.r), 0);
        ck_assert(http1_response_reusable(&t.r));
        run_end(&t);
    }
}
END_TEST

START_TEST(zero_content_length)
{
    static const char in[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    struct run t;

    run_start(&t, false);
    ck_assert_int_eq(feed_steps(&t, S(in), 0), (ssize_t)strlen(in));
    ck_assert_int_eq(t.r.phase, HTTP1_DONE);
    ck_assert_int_eq(t.r.status, 404);
    ck_assert_uint_eq(t.s.body_calls, 0);
    ck_assert(http1_response_reusable(&t.r));
    run_end(&t);
}
END_TEST

/* Two equal Content-Lengths are taken as one (only different ones are
 * rejected); leading zeros are allowed. */
START_TEST(equal_content_lengths)
{
    static const char in[] = "HTTP/1.1 200 OK\r\n"
                             "Content-Length: 3\r\n"
                             "Content-Length: 003\r\n"
                             "\r\n"
                             "abcdef";
    struct run t;

    run_start(&t, false);
    ck_assert_int_eq(feed_steps(&t, S(in), 0), (ssize_t)strlen(in) - 3);
    ck_assert_ptr_null(t.r.error);
    ck_assert_str_eq(text(&t.s.body), "abc");
    ck_assert_int_eq(t.r.phase, HTTP1_DONE);
    run_end(&t);
}
END_TEST

static const char chunked_in[] = "HTTP/1.1 200 OK\r\n"
                                 "Transfer-Encoding: Chunked\r\n"
                                 "\r\n"
                                 "4;name=value\r\n"
                                 "Wiki\r\n"
                                 "5 ; x ; y=\"z\"\r\n"
                                 "pedia\r\n"
                                 "e\r\n"
                                 " in\r\n\r\nchunks.\r\n"
                                 "1A\r\n"
                                 "abcdefghijklmnopqrstuvwxyz\r\n"
                                 "0;last\r\n"
                                 "X-Trailer: yes\r\n"
                                 "Checksum: 1234\r\n"
                                 "\r\n";
static const char chunked_head[] = "HTTP/1.1 200 OK\r\n"
                                   "Transfer-Encoding: Chunked\r\n"
                                   "\r\n";
static const char chunked_want[] = "Wikipedia in\r\n\r\nchunks.abcdefghijklmnopqrstuvwxyz";

/* The trailers are read and dropped: the line handler sees the head only. */
START_TEST(chunked_body)
{
    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, S(chunked_in), steps[i]), (ssize_t)strlen(chunked_in));
        ck_assert_ptr_null(t.r.error);
        ck_assert_str_eq(text(&t.s.head), chunked_head);
        ck_assert_str_eq(text(&t.s.body), chunked_want);
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert_int_eq(http1_response_eof(&t.r), 0);
        ck_assert(http1_response_reusable(&t.r));
        run_end(&t);
    }
}
END_TEST

/* Extensions, short or long, and white space before them are skipped; each
 * size line is read on its own. */
START_TEST(chunk_extensions)
{
    static const char in[] = CHUNKED_HEAD "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=\"b c\"\r\nA\r\n"
                                          "5 \t;x\r\nhello\r\n"
                                          "0;last\r\n\r\n";

    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, S(in), steps[i]), (ssize_t)strlen(in));
        ck_assert_ptr_null(t.r.error);
        ck_assert_str_eq(text(&t.s.body), "Ahello");
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        run_end(&t);
    }
}
END_TEST

/* Fed one byte at a time (with a call per byte), the consumer sees exactly
 * what it sees when the answer comes whole. */
START_TEST(chunked_byte_by_byte)
{
    struct run whole, bytes;
    size_t len = strlen(chunked_in);

    run_start(&whole, false);
    ck_assert_int_eq(http1_response_feed(&whole.r, chunked_in, len, &handler, &whole.s),
                     (ssize_t)len);
    run_start(&bytes, false);
    for (size_t i = 0; i < len; i++) {
        ck_assert_int_eq(bytes.r.phase, i < strlen(chunked_head) ? HTTP1_HEAD : HTTP1_BODY);
        ck_assert_int_eq(http1_response_feed(&bytes.r, chunked_in + i, 1, &handler, &bytes.s), 1);
    }
    ck_assert_str_eq(text(&bytes.s.head), text(&whole.s.head));
    ck_assert_str_eq(text(&bytes.s.body), text(&whole.s.body));
    ck_assert_uint_eq(bytes.s.lines, whole.s.lines);
    ck_assert_int_eq(bytes.r.phase, HTTP1_DONE);
    ck_assert_int_eq(whole.r.phase, HTTP1_DONE);
    ck_assert_uint_eq(whole.s.body_calls, 4); /* one per chunk */
    run_end(&whole);
    run_end(&bytes);
}
END_TEST

/* Line ends may be a bare LF, in the head and in the chunk framing. */
START_TEST(bare_lf_line_ends)
{
    static const char in[] = "HTTP/1.1 200\n"
                             "Transfer-Encoding: chunked\n"
                             "\n"
                             "3\nabc\n"
                             "0\n"
                             "T: x\n"
                             "\n";

    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, S(in), steps[i]), (ssize_t)strlen(in));
        ck_assert_str_eq(text(&t.s.head), "HTTP/1.1 200\nTransfer-Encoding: chunked\n\n");
        ck_assert_str_eq(text(&t.s.body), "abc");
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert_int_eq(t.r.status, 200);
        run_end(&t);
    }
}
END_TEST

/* With neither Content-Length nor chunked, the body runs until the close;
 * the connection is not reused. */
START_TEST(close_delimited)
{
    static const char in[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes";
    static const char more[] = ", more\r\n\r\n0\r\n\r\n";
    static const char in10[] = "HTTP/1.0 200 OK\r\n\r\n";

    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, S(in), steps[i]), (ssize_t)strlen(in));
        ck_assert_int_eq(t.r.phase, HTTP1_BODY);
        ck_assert(!http1_response_reusable(&t.r));
        ck_assert_int_eq(http1_response_feed(&t.r, S(more), &handler, &t.s), (ssize_t)strlen(more));
        ck_assert_int_eq(t.r.phase, HTTP1_BODY);
        ck_assert_int_eq(http1_response_eof(&t.r), 0);
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert_str_eq(text(&t.s.body), "some bytes, more\r\n\r\n0\r\n\r\n");
        ck_assert(!http1_response_reusable(&t.r));
        run_end(&t);
    }

    /* also with no body at all before the close */
    struct run t;

    run_start(&t, false);
    ck_assert_int_eq(feed_steps(&t, S(in10), 0), (ssize_t)strlen(in10));
    ck_assert_int_eq(t.r.phase, HTTP1_BODY);
    ck_assert_int_eq(http1_response_eof(&t.r), 0);
    ck_assert_uint_eq(t.s.body_calls, 0);
    ck_assert(!http1_response_reusable(&t.r));
    run_end(&t);
}
END_TEST

/* The connection closing before the answer's end cuts it short. */
START_TEST(cut_short)
{
    static const char *const cut[] = {
        "",
        "HTTP/1.1 200 OK\r\nContent-Len",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n012345678",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r",
        "HTTP/1.1 100 Continue\r\n\r\n",
    };

    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        struct run t;
        size_t len = strlen(cut[i]);

        run_start(&t, false);
        ck_assert_msg(feed_steps(&t, cut[i], len, 0) == (ssize_t)len, "%s", cut[i]);
        ck_assert_msg(t.r.phase != HTTP1_DONE, "%s", cut[i]);
        ck_assert_msg(http1_response_eof(&t.r) == -EPIPE, "%s", cut[i]);
        ck_assert_msg(!http1_response_reusable(&t.r), "%s", cut[i]);
        run_end(&t);
    }
}
END_TEST

/* The answer to a HEAD, and a 204 or 304, end with the head whatever its
 * framing headers say; what follows is not theirs. */
START_TEST(answers_without_body)
{
    static const struct {
        bool head_request;
        const char *head;
    } cases[] = {
        {true, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"},
        {true, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
        {true, "HTTP/1.1 200 OK\r\n\r\n"},
        {true, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"},
        {false, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"},
        {false, "HTTP/1.1 204 No Content\r\n\r\n"},
        {false, "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"},
        {false, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"},
    };
    static const char next[] = "hello";

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t j = 0; j < NSTEPS; j++) {
            char in[256];
            struct run t;
            size_t head_len = strlen(cases[i].head);

            snprintf(in, sizeof(in), "%s%s", cases[i].head, next);
            run_start(&t, cases[i].head_request);
            ck_assert_msg(feed_steps(&t, in, strlen(in), steps[j]) == (ssize_t)head_len, "%s",
                          cases[i].head);
            ck_assert_int_eq(t.r.phase, HTTP1_DONE);
            ck_assert_ptr_null(t.r.error);
            ck_assert_str_eq(text(&t.s.head), cases[i].head);
            ck_assert_uint_eq(t.s.body_calls, 0);
            ck_assert_int_eq(http1_response_feed(&t.r, S(next), &handler, &t.s), 0);
            ck_assert_int_eq(http1_response_eof(&t.r), 0);
            ck_assert(http1_response_reusable(&t.r));
            run_end(&t);
        }
    }
}
END_TEST

/* Interim heads reach the line handler before the final one; their framing
 * headers do not count. */
START_TEST(interim_heads)
{
    static const char heads[] = "HTTP/1.1 100 Continue\r\n"
                                "\r\n"
                                "HTTP/1.1 102 Processing\r\n"
                                "Content-Length: 7\r\n"
                                "Connection: close\r\n"
                                "\r\n"
                                "HTTP/1.1 200 OK\r\n"
                                "Content-Length: 2\r\n"
                                "\r\n";
    char in[sizeof(heads) + 2];

    snprintf(in, sizeof(in), "%sok", heads);
    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, in, strlen(in), steps[i]), (ssize_t)strlen(in));
        ck_assert_ptr_null(t.r.error);
        ck_assert_str_eq(text(&t.s.head), heads);
        ck_assert_uint_eq(t.s.lines, 9);
        ck_assert_str_eq(text(&t.s.body), "ok");
        ck_assert_int_eq(t.r.status, 200);
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert(http1_response_reusable(&t.r));
        run_end(&t);
    }
}
END_TEST

START_TEST(interim_then_head_request)
{
    static const char in[] = "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
    struct run t;

    run_start(&t, true);
    ck_assert_int_eq(http1_response_feed(&t.r, S("HTTP/1.1 100 Continue\r\n\r\n"), &handler, &t.s),
                     25);
    ck_assert_int_eq(t.r.phase, HTTP1_HEAD);
    ck_assert_int_eq(http1_response_eof(&t.r), -EPIPE);
    http1_response_init(&t.r, true);
    sink_reset(&t.s);
    ck_assert_int_eq(feed_steps(&t, S(in), 0), (ssize_t)strlen(in));
    ck_assert_int_eq(t.r.phase, HTTP1_DONE);
    ck_assert_uint_eq(t.s.body_calls, 0);
    run_end(&t);
}
END_TEST

/* A 101 nobody asked for is rejected at the end of its head. */
START_TEST(switching_protocols)
{
    static const char in[] = "HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: upgrade\r\n"
                             "\r\n";

    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, S(in), steps[i]), -EBADMSG);
        assert_stays_rejected(&t, "HTTP/1.1 200 OK\r\n");
        run_end(&t);
    }
}
END_TEST

/* Answers that must be rejected, whole or in pieces, before the consumer
 * takes a body byte of them (the body ones: before it takes a wrong one). */
START_TEST(rejected)
{
    static const struct {
        const char *in;
        const char *body; /* what the consumer took before the rejection */
    } cases[] = {
        /* framing headers */
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello", ""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello",
         ""},
        {"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", ""},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", ""},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", ""},
        {"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n", ""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ""},
        {"HTTP/1.1 100 Continue\r\nTransfer-Encoding: gzip\r\n\r\n", ""},
        /* chunk sizes */
        {CHUNKED_HEAD "zz\r\nhello\r\n0\r\n\r\n", ""},
        {CHUNKED_HEAD "\r\n", ""},
        {CHUNKED_HEAD ";ext\r\n", ""},
        {CHUNKED_HEAD "-1\r\n", ""},
        {CHUNKED_HEAD "0x5\r\nhello\r\n", ""},
        {CHUNKED_HEAD "5x\r\nhello\r\n", ""},
        {CHUNKED_HEAD "1000000000000000\r\n", ""}, /* 2^60: 16 digits */
        {CHUNKED_HEAD "ffffffffffffffffff\r\n", ""},
        {CHUNKED_HEAD "5\rhello\r\n", ""},
        {CHUNKED_HEAD "5 6\r\nhello\r\n", ""},
        /* an extension must not make the next size line count as one */
        {CHUNKED_HEAD "1;x\r\nA\r\n\r\n\r\n", "A"},
        /* the line end after the chunk data */
        {CHUNKED_HEAD "3\r\nabcd\r\n0\r\n\r\n", "abc"},
        {CHUNKED_HEAD "3\r\nabc\rd\r\n0\r\n\r\n", "abc"},
        {CHUNKED_HEAD "3\r\nabc0\r\n\r\n", "abc"},
        /* the final line end */
        {CHUNKED_HEAD "0\r\n\rX", ""},
        {CHUNKED_HEAD "0\r\nX-T: 1\r\n\rX", ""},
        /* status lines */
        {"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ""},
        {"HTTP/2 200 OK\r\n\r\n", ""},
        {"HTTP/2.0 200 OK\r\n\r\n", ""},
        {"HTTP/1.1 20 OK\r\n\r\n", ""},
        {"HTTP/1.1 2000 OK\r\n\r\n", ""},
        {"HTTP/1.1  200 OK\r\n\r\n", ""},
        {"HTTP/1.1 099 Low\r\n\r\n", ""},
        {"HTTP/1.1 abc OK\r\n\r\n", ""},
        {"HTTP/1.x 200 OK\r\n\r\n", ""},
        {"HTTP/11 200 OK\r\n\r\n", ""},
        {"http/1.1 200 OK\r\n\r\n", ""},
        {"ICY 200 OK\r\n\r\n", ""},
        {"HTTP/1.1 200X\r\n\r\n", ""},
        {"garbage\r\n", ""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t j = 0; j < NSTEPS; j++) {
            struct run t;
            const char *in = cases[i].in;

            run_start(&t, false);
            ck_assert_msg(feed_steps(&t, in, strlen(in), steps[j]) == -EBADMSG, "#%zu %s", i, in);
            ck_assert_msg(t.r.error != NULL, "#%zu %s", i, in);
            ck_assert_msg(strcmp(text(&t.s.body), cases[i].body) == 0, "#%zu %s: took '%s'", i, in,
                          text(&t.s.body));
            assert_stays_rejected(&t, "\r\n");
            run_end(&t);
        }
    }
}
END_TEST

/* Status lines taken: the reason phrase may be missing or empty, the line
 * end a bare LF, the minor version any digit. */
START_TEST(status_line_forms)
{
    static const struct {
        const char *in;
        int status, minor;
    } cases[] = {
        {"HTTP/1.0 404\r\n\r\n", 404, 0},
        {"HTTP/1.1 200\n\n", 200, 1},
        {"HTTP/1.1 599 \r\n\r\n", 599, 1},
        {"HTTP/1.9 200 Whatever it says\r\n\r\n", 200, 9},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, cases[i].in, strlen(cases[i].in), 0),
                         (ssize_t)strlen(cases[i].in));
        ck_assert_ptr_null(t.r.error);
        ck_assert_int_eq(t.r.status, cases[i].status);
        ck_assert_int_eq(t.r.minor, cases[i].minor);
        ck_assert_int_eq(t.r.phase, HTTP1_BODY); /* until the close */
        run_end(&t);
    }
}
END_TEST

/* A head line the line handler refuses rejects the answer; lines without a
 * colon are left for the line handler to judge. */
START_TEST(line_handler_refuses)
{
    static const char in[] = "HTTP/1.1 200 OK\r\n"
                             "NoColonHere\r\n"
                             "X-Bad: 1\r\n"
                             "Content-Length: 2\r\n"
                             "\r\n"
                             "ok";

    for (size_t i = 0; i < NSTEPS; i++) {
        struct run t;

        run_start(&t, false);
        t.s.refuse = "X-Bad";
        ck_assert_int_eq(feed_steps(&t, S(in), steps[i]), -EBADMSG);
        ck_assert_ptr_nonnull(t.r.error);
        ck_assert_uint_eq(t.s.lines, 3);
        ck_assert_uint_eq(t.s.body_calls, 0);
        ck_assert_int_eq(http1_response_feed(&t.r, S("ok"), &handler, &t.s), -EBADMSG);
        ck_assert(!http1_response_reusable(&t.r));
        run_end(&t);
    }

    /* the status line itself, and the blank line */
    struct run t;

    run_start(&t, false);
    t.s.refuse = "HTTP/";
    ck_assert_int_eq(feed_steps(&t, S(in), 0), -EBADMSG);
    ck_assert_uint_eq(t.s.lines, 1);
    run_end(&t);
    run_start(&t, false);
    t.s.refuse = "\r\n";
    ck_assert_int_eq(feed_steps(&t, S(in), 0), -EBADMSG);
    ck_assert_uint_eq(t.s.lines, 5);
    ck_assert_int_ne(t.r.phase, HTTP1_DONE);
    ck_assert_uint_eq(t.s.body_calls, 0);
    run_end(&t);
}
END_TEST

/* A head of HTTP1_HEAD_MAX bytes with @extra more: a status line, a filler
 * header, Content-Length: 0 and the blank line. */
static char *big_head(size_t extra)
{
    static const char status[] = "HTTP/1.1 200 OK\r\n", cl[] = "Content-Length: 0\r\n\r\n";
    size_t len = HTTP1_HEAD_MAX + extra, fill = len - strlen(status) - strlen(cl) - 10;
    char *in = malloc(len + 1);

    ck_assert_ptr_nonnull(in);
    strcpy(in, status);
    strcat(in, "X-Fill: ");
    memset(in + strlen(in), 'a', fill);
    strcpy(in + strlen(status) + 8 + fill, "\r\n");
    strcat(in, cl);
    ck_assert_uint_eq(strlen(in), len);
    return in;
}

START_TEST(head_size_limit)
{
    static const size_t head_steps[] = {0, 1, 4096};
    char *fits = big_head(0), *over = big_head(1), *endless;

    for (size_t i = 0; i < sizeof(head_steps) / sizeof(head_steps[0]); i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, fits, strlen(fits), head_steps[i]), (ssize_t)strlen(fits));
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert_str_eq(text(&t.s.head), fits);
        run_end(&t);

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, over, strlen(over), head_steps[i]), -EBADMSG);
        ck_assert_ptr_nonnull(t.r.error);
        ck_assert_int_eq(t.r.phase, HTTP1_HEAD);
        run_end(&t);
    }

    /* a line that never ends is rejected as soon as it is too long */
    endless = malloc(HTTP1_HEAD_MAX + 1);
    ck_assert_ptr_nonnull(endless);
    memset(endless, 'a', HTTP1_HEAD_MAX + 1);
    memcpy(endless, "HTTP/1.1 200 OK\r\nX: ", 20);

    struct run t;

    run_start(&t, false);
    ck_assert_int_eq(feed_steps(&t, endless, HTTP1_HEAD_MAX, 1000), HTTP1_HEAD_MAX);
    ck_assert_int_eq(http1_response_feed(&t.r, endless + HTTP1_HEAD_MAX, 1, &handler, &t.s),
                     -EBADMSG);
    ck_assert_ptr_nonnull(t.r.error);
    ck_assert_uint_eq(t.s.lines, 1);
    run_end(&t);
    free(endless);
    free(fits);
    free(over);
}
END_TEST

/* Trailers are bounded like a head. */
START_TEST(trailer_size_limit)
{
    size_t len = strlen(CHUNKED_HEAD) + 3 + 2 * HTTP1_HEAD_MAX;
    char *in = malloc(len + 1);
    struct run t;

    ck_assert_ptr_nonnull(in);
    memset(in, 'a', len);
    memcpy(in, S(CHUNKED_HEAD "0\r\n"));
    in[len] = '\0';
    run_start(&t, false);
    ck_assert_int_eq(feed_steps(&t, in, len, 0), -EBADMSG);
    ck_assert_ptr_nonnull(t.r.error);
    run_end(&t);
    free(in);
}
END_TEST

/* A body handler that takes nothing pauses the parser; what it did not take
 * is fed again later and the answer goes on from there. */
START_TEST(pause_content_length)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789NEXT";
    size_t head_len = strlen(head), len = strlen(in);
    struct run t;

    run_start(&t, false);
    t.s.budget = 4;
    ck_assert_int_eq(http1_response_feed(&t.r, in, len, &handler, &t.s), (ssize_t)head_len + 4);
    ck_assert_int_eq(t.r.phase, HTTP1_BODY);
    ck_assert_str_eq(text(&t.s.body), "0123");
    ck_assert_int_eq(http1_response_eof(&t.r), -EPIPE); /* a close now cuts it short */

    /* still paused: nothing used */
    ck_assert_int_eq(
        http1_response_feed(&t.r, in + head_len + 4, len - head_len - 4, &handler, &t.s), 0);
    ck_assert_int_eq(t.r.phase, HTTP1_BODY);

    t.s.budget = SIZE_MAX;
    ck_assert_int_eq(
        http1_response_feed(&t.r, in + head_len + 4, len - head_len - 4, &handler, &t.s), 6);
    ck_assert_int_eq(t.r.phase, HTTP1_DONE);
    ck_assert_str_eq(text(&t.s.body), "0123456789");
    ck_assert_int_eq(http1_response_eof(&t.r), 0);
    ck_assert(http1_response_reusable(&t.r));
    run_end(&t);
}
END_TEST

/* Paused within chunks, at every budget, the body comes out whole. */
START_TEST(pause_chunked)
{
    size_t len = strlen(chunked_in);

    for (size_t budget = 1; budget <= 8; budget++) {
        struct run t;
        size_t pos = 0;
        unsigned feeds = 0;

        run_start(&t, false);
        while (pos < len) {
            ssize_t used;

            t.s.budget = budget;
            used = http1_response_feed(&t.r, chunked_in + pos, len - pos, &handler, &t.s);
            ck_assert_int_ge(used, 0);
            if ((size_t)used < len - pos) { /* paused: it took all it would */
                ck_assert_uint_eq(t.s.budget, 0);
                ck_assert_int_eq(t.r.phase, HTTP1_BODY);
            }
            pos += (size_t)used;
            ck_assert_uint_lt(++feeds, 1000);
        }
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert_str_eq(text(&t.s.head), chunked_head);
        ck_assert_str_eq(text(&t.s.body), chunked_want);
        ck_assert(http1_response_reusable(&t.r));
        run_end(&t);
    }
}
END_TEST

/* A handler that takes some but not all of what it is offered is offered the
 * rest at once, within the same feed: only taking nothing pauses. (http1.h
 * says "fewer than @len pauses the parser".) */
START_TEST(partial_take_offered_rest)
{
    static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    struct run t;

    run_start(&t, false);
    t.s.per_call = 2;
    ck_assert_int_eq(http1_response_feed(&t.r, S(in), &handler, &t.s), (ssize_t)strlen(in));
    ck_assert_uint_eq(t.s.body_calls, 3);
    ck_assert_str_eq(text(&t.s.body), "hello");
    ck_assert_int_eq(t.r.phase, HTTP1_DONE);
    run_end(&t);
}
END_TEST

/* The bytes after the answer's end are left to the caller. */
START_TEST(bytes_after_the_answer)
{
    static const char *const answers[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        CHUNKED_HEAD "3\r\nabc\r\n0\r\n\r\n",
        CHUNKED_HEAD "3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    };
    static const char next[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        for (size_t j = 0; j < NSTEPS; j++) {
            char in[256];
            size_t len = strlen(answers[i]);
            struct run t;

            snprintf(in, sizeof(in), "%s%s", answers[i], next);
            run_start(&t, false);
            ck_assert_msg(feed_steps(&t, in, strlen(in), steps[j]) == (ssize_t)len, "%s",
                          answers[i]);
            ck_assert_int_eq(t.r.phase, HTTP1_DONE);
            ck_assert_str_eq(text(&t.s.body), "abc");
            ck_assert_int_eq(http1_response_feed(&t.r, in + len, strlen(in) - len, &handler, &t.s),
                             0);
            ck_assert_int_eq(http1_response_eof(&t.r), 0);
            ck_assert(http1_response_reusable(&t.r));
            run_end(&t);
        }
    }
}
END_TEST

START_TEST(reusable)
{
    static const struct {
        const char *in;
        bool reusable;
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.1 200 OK\r\nconnection: Keep-Alive , CLOSE\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.1 200 OK\r\nConnection: x-close, closed\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.1 200 OK\r\nConnection: foo\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
         false},
        {CHUNKED_HEAD "0\r\n\r\n", true},
        {"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", false},
        {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true},
        {"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n", false},
        {"HTTP/1.0 204 No Content\r\n\r\n", false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, cases[i].in, strlen(cases[i].in), 0),
                         (ssize_t)strlen(cases[i].in));
        ck_assert_int_eq(t.r.phase, HTTP1_DONE);
        ck_assert_msg(http1_response_reusable(&t.r) == cases[i].reusable, "%s", cases[i].in);
        run_end(&t);
    }

    /* a close-delimited body, even with keep-alive, and an unfinished one */
    static const char *const never[] = {
        "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nabc",
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nabc",
    };
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        struct run t;

        run_start(&t, false);
        ck_assert_int_eq(feed_steps(&t, never[i], strlen(never[i]), 0), (ssize_t)strlen(never[i]));
        ck_assert(!http1_response_reusable(&t.r));
        ck_assert_int_eq(http1_response_eof(&t.r), 0);
        ck_assert(!http1_response_reusable(&t.r));
        run_end(&t);
    }

    struct run t;

    run_start(&t, false);
    ck_assert_int_eq(feed_steps(&t, S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"), 0), 41);
    ck_assert(!http1_response_reusable(&t.r));
    run_end(&t);
}
END_TEST

/* One parser serves answer after answer: initialised again after a complete
 * answer, a rejected one, or in the middle of a head line. */
START_TEST(init_again)
{
    static const char first[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc";
    static const char second[] = CHUNKED_HEAD "3\r\nxyz\r\n0\r\n\r\n";
    struct run t;

    run_start(&t, false);
    ck_assert_int_eq(feed_steps(&t, S(first), 3), (ssize_t)strlen(first));
    ck_assert_int_eq(t.r.phase, HTTP1_DONE);
    ck_assert(!http1_response_reusable(&t.r));

    /* after a complete answer: nothing of it is left (not Connection: close) */
    http1_response_init(&t.r, false);
    sink_reset(&t.s);
    ck_assert_int_eq(t.r.phase, HTTP1_HEAD);
    ck_assert_int_eq(feed_steps(&t, S(second), 5), (ssize_t)strlen(second));
    ck_assert_str_eq(text(&t.s.head), CHUNKED_HEAD);
    ck_assert_str_eq(text(&t.s.body), "xyz");
    ck_assert(http1_response_reusable(&t.r));

    /* after a rejection */
    http1_response_init(&t.r, false);
    sink_reset(&t.s);
    ck_assert_int_eq(feed_steps(&t, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), 4),
                     -EBADMSG);
    ck_assert_ptr_nonnull(t.r.error);
    http1_response_init(&t.r, false);
    sink_reset(&t.s);
    ck_assert_ptr_null(t.r.error);
    ck_assert_int_eq(feed_steps(&t, S(first), 0), (ssize_t)strlen(first));
    ck_assert_str_eq(text(&t.s.body), "abc");

    /* in the middle of a head line: its start is forgotten */
    http1_response_init(&t.r, false);
    sink_reset(&t.s);
    ck_assert_int_eq(feed_steps(&t, S("HTTP/1.1 200 OK\r\nContent-Le"), 0), 27);
    http1_response_init(&t.r, true);
    sink_reset(&t.s);
    ck_assert_int_eq(feed_steps(&t, S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), 0), 38);
    ck_assert_str_eq(text(&t.s.head), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
    ck_assert_int_eq(t.r.phase, HTTP1_DONE);

    /* after done, it can be initialised again */
    http1_response_done(&t.r);
    http1_response_init(&t.r, false);
    sink_reset(&t.s);
    ck_assert_int_eq(feed_steps(&t, S(second), 1), (ssize_t)strlen(second));
    ck_assert_str_eq(text(&t.s.body), "xyz");
    run_end(&t);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {content_length_body,
                                  zero_content_length,
                                  equal_content_lengths,
                                  chunked_body,
                                  chunk_extensions,
                                  chunked_byte_by_byte,
                                  bare_lf_line_ends,
                                  close_delimited,
                                  cut_short,
                                  answers_without_body,
                                  interim_heads,
                                  interim_then_head_request,
                                  switching_protocols,
                                  rejected,
                                  status_line_forms,
                                  line_handler_refuses,
                                  head_size_limit,
                                  trailer_size_limit,
                                  pause_content_length,
                                  pause_chunked,
                                  partial_take_offered_rest,
                                  bytes_after_the_answer,
                                  reusable,
                                  init_again,
                                  NULL};

    return unit_run(unit_suite("http1", tests));
}
