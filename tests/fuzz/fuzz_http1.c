/* fuzz_http1.c: libFuzzer target for the HTTP/1.x answer parser
 * (src/proxy/http1.c).
 *
 * The first input byte says whether the answers are to a HEAD (bit 0) and
 * the size of the pieces they are fed in (bits 1-5, 0: all at once); the
 * second when the body handler pauses or takes only part of what it is
 * offered. The rest is a stream of answers, read twice: whole, by a handler
 * that takes everything, and in those pieces, fed again after each pause.
 * After each complete answer both parsers are initialised again for the next.
 *
 * Both readings must agree (the head lines and body bytes their handlers saw,
 * how much of the input each answer used, whether and why it was rejected,
 * what the close and reuse of the connection mean), and the parser must keep
 * its word: it never uses more than it was given, stops short only at the end
 * of an answer or a pause, says why it rejected, and its head lines are the
 * input as received. */
#include "config.h"

#include "proxy/http1.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWERS_MAX 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) fail(const char *what)
{
    fprintf(stderr, "fuzz_http1: %s\n", what);
    abort();
}

/* What one reading's consumer saw, and how it behaves. */
struct seen {
    struct strbuf head, body;
    bool greedy;     /* takes every body byte offered */
    uint8_t pattern; /* otherwise: 2 bits a call say what it takes */
    unsigned calls;  /* body calls so far */
    bool paused;     /* the last one took nothing */
};

static bool on_line(void *data, const char *line, size_t len)
{
    struct seen *s = data;

    if (len == 0 || line[len - 1] != '\n' || len > HTTP1_HEAD_MAX)
        fail("a head line that is not a whole line");
    strbuf_append(&s->head, line, len);
    return !(len >= 8 && memcmp(line, "X-Refuse", 8) == 0);
}

static size_t on_body(void *data, const char *bytes, size_t len)
{
    struct seen *s = data;
    size_t take = len;

    if (len == 0)
        fail("an empty body piece");
    if (!s->greedy) {
        switch ((s->pattern >> (2 * (s->calls % 4))) & 3) {
        case 0:
            take = len;
            break;
        case 1:
            take = len / 2;
            break;
        case 2:
            take = 0;
            break;
        default:
            take = 1;
            break;
        }
        if (take == 0 && s->paused)
            take = len; /* after a pause it takes something */
    }
    s->calls++;
    s->paused = take == 0;
    strbuf_append(&s->body, bytes, take);
    return take;
}

static const struct http1_handler handler = {on_line, on_body};

/* Feeds @len bytes @step at a time (0: all at once), again after each pause,
 * until the answer ends, is rejected or the input runs out. Returns the bytes
 * used, or -EBADMSG. */
static ssize_t feed(struct http1_response *r, const char *in, size_t len, size_t step,
                    struct seen *s)
{
    size_t pos = 0;

    while (pos < len) {
        size_t n = step && step < len - pos ? step : len - pos;
        unsigned calls = s->calls;
        ssize_t used;

        used = http1_response_feed(r, in + pos, n, &handler, s);
        if (used < 0) {
            if (used != -EBADMSG || !r->error)
                fail("a rejection without -EBADMSG and its reason");
            return used;
        }
        if ((size_t)used > n)
            fail("more used than fed");
        if (r->error)
            fail("a reason without a rejection");
        pos += (size_t)used;
        if ((size_t)used < n) {
            if (r->phase == HTTP1_DONE)
                break;
            if (s->calls == calls || !s->paused || r->phase != HTTP1_BODY)
                fail("stopped short without an end or a pause");
        }
    }
    return (ssize_t)pos;
}

static bool same(const struct strbuf *a, const struct strbuf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* What a complete, accepted answer must look like to its consumer. */
static void check_answer(const struct http1_response *r, const char *in, size_t used,
                         const struct seen *s, bool head_request)
{
    size_t head_len = s->head.len;

    if (head_len > used || head_len == 0)
        fail("a head longer than the answer");
    if (r->status < 200 || r->status > 999)
        fail("a final status out of range");
    if ((head_request || r->status == 204 || r->status == 304) && s->body.len)
        fail("a body where there is none");
    if (r->chunked && r->content_length >= 0)
        fail("both Content-Length and chunked accepted");
    if (!r->chunked && !head_request && r->status != 204 && r->status != 304) {
        /* the body is the input after the head, as it came */
        if (head_len + s->body.len != used ||
            (s->body.len && memcmp(s->body.data, in + head_len, s->body.len) != 0))
            fail("a body that is not what followed the head");
        if (r->content_length >= 0 && s->body.len != (size_t)r->content_length)
            fail("a body not of its Content-Length");
    }
    if (r->chunked && s->body.len > used - head_len)
        fail("more body than chunks");
}

/* Reads one answer both ways; returns the bytes it used when it is complete,
 * 0 when it is not (rejected, or the input ran out). */
static size_t one_answer(struct http1_response *ra, struct http1_response *rb, const char *in,
                         size_t len, size_t step, uint8_t pattern, bool head_request)
{
    struct seen a = {.greedy = true}, b = {.pattern = pattern};
    ssize_t used_a = feed(ra, in, len, 0, &a);
    ssize_t used_b = feed(rb, in, len, step, &b);
    size_t done = 0;

    if (used_a != used_b)
        fail("the readings used different amounts");
    if (!same(&a.head, &b.head) || !same(&a.body, &b.body))
        fail("the readings saw different answers");
    if ((ra->error == NULL) != (rb->error == NULL) ||
        (ra->error && strcmp(ra->error, rb->error) != 0))
        fail("the readings were rejected differently");
    if (ra->phase != rb->phase)
        fail("the readings ended in different phases");
    if (a.head.len > len || (a.head.len && memcmp(a.head.data, in, a.head.len) != 0))
        fail("head lines that are not the input");
    if (a.body.len > len)
        fail("a body longer than the input");

    if (used_a < 0) {
        if (ra->phase == HTTP1_DONE || http1_response_reusable(ra))
            fail("a rejected answer complete");
        if (http1_response_feed(ra, "x", 1, &handler, &a) != -EBADMSG)
            fail("a rejected answer taking more");
        if (http1_response_eof(ra) != -EPIPE || http1_response_eof(rb) != -EPIPE)
            fail("a rejected answer ended by the close");
    } else if (ra->phase == HTTP1_DONE) {
        check_answer(ra, in, (size_t)used_a, &a, head_request);
        if ((size_t)used_a < len &&
            http1_response_feed(ra, in + used_a, len - (size_t)used_a, &handler, &a) != 0)
            fail("an answer taking bytes after its end");
        if (http1_response_reusable(ra) != http1_response_reusable(rb))
            fail("the readings disagree on reuse");
        if (http1_response_eof(ra) != 0 || http1_response_eof(rb) != 0)
            fail("a complete answer cut short by the close");
        done = (size_t)used_a;
    } else {
        /* the input ran out within the answer: the connection closes */
        int eof_a, eof_b;

        if ((size_t)used_a != len)
            fail("an unfinished answer that left input unused");
        if (http1_response_reusable(ra) || http1_response_reusable(rb))
            fail("an unfinished answer reusable");
        eof_a = http1_response_eof(ra);
        eof_b = http1_response_eof(rb);
        if (eof_a != eof_b || (eof_a != 0 && eof_a != -EPIPE))
            fail("the readings disagree on the close");
        if ((eof_a == 0) != (ra->phase == HTTP1_DONE))
            fail("a close that ends the answer without completing it");
        if (eof_a == 0 && (ra->chunked || ra->content_length >= 0 || head_request))
            fail("a framed answer ended by the close");
        if (eof_a == 0 && http1_response_reusable(ra))
            fail("a close-delimited answer reusable");
        if (eof_a == 0)
            check_answer(ra, in, len, &a, head_request);
    }
    if (http1_response_reusable(ra) &&
        (ra->phase != HTTP1_DONE || ra->close || (ra->minor < 1 && !ra->keep_alive)))
        fail("a connection reusable that should not be");
    strbuf_done(&a.head);
    strbuf_done(&a.body);
    strbuf_done(&b.head);
    strbuf_done(&b.body);
    return done;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http1_response ra = {0}, rb = {0};
    const char *in = (const char *)data + 2;
    size_t len, step;
    bool head_request;
    uint8_t pattern;

    if (size < 2)
        return 0;
    head_request = data[0] & 1;
    step = (data[0] >> 1) & 31;
    pattern = data[1];
    len = size - 2;

    for (int i = 0; i < ANSWERS_MAX; i++) {
        size_t used;

        http1_response_init(&ra, head_request);
        http1_response_init(&rb, head_request);
        used = one_answer(&ra, &rb, in, len, step, pattern, head_request);
        if (used == 0 || used >= len)
            break;
        in += used;
        len -= used;
    }
    http1_response_done(&ra);
    http1_response_done(&rb);
    return 0;
}
