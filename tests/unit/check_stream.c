/* check_stream.c: unit tests of writing to a client socket the daemon took
 * over (proxy/stream.h), on a socket pair in a real event loop: chunk
 * framing, the bounded backlog, the write deadline, lingering close, and a
 * socket the loop cannot watch. */
#include "config.h"

#include "proxy/stream.h"

#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct seen {
    struct loop *loop;
    int drained, gone, flushed;
};

static void on_drained(void *o)
{
    ((struct seen *)o)->drained++;
}

static void on_gone(void *o)
{
    struct seen *s = o;

    s->gone++;
    loop_stop(s->loop);
}

static void on_flushed(void *o)
{
    struct seen *s = o;

    s->flushed++;
    loop_stop(s->loop);
}

static const struct stream_events events = {on_drained, on_gone, on_flushed};

static void pair(int sv[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
}

static void on_give_up(struct loop_timer *t)
{
    loop_stop(t->data); /* a test that waits too long fails on its counts */
}

static void run_for_at_most(struct loop *loop, uint64_t ms)
{
    struct loop_timer t;

    loop_timer_init(&t, on_give_up, loop);
    loop_timer_arm_ms(loop, &t, ms);
    loop_run(loop);
    loop_timer_cancel(loop, &t);
}

START_TEST(chunks_then_terminator)
{
    struct seen s = {.loop = loop_new()};
    int sv[2];
    char buf[64] = "";
    struct stream_out *out;

    pair(sv);
    out = stream_out_new(s.loop, sv[0], true, 1000, &events, &s);
    ck_assert_int_eq(stream_out_write(out, "abc", 3), 0);
    ck_assert_int_eq(stream_out_write(out, "0123456789abcdefg", 17), 0);
    stream_out_finish(out, false);
    ck_assert_int_eq(s.flushed, 1);
    ck_assert_int_gt(read(sv[1], buf, sizeof(buf) - 1), 0);
    ck_assert_str_eq(buf, "3\r\nabc\r\n11\r\n0123456789abcdefg\r\n0\r\n\r\n");
    stream_out_free(out);
    close(sv[1]);
    loop_free(s.loop);
}
END_TEST

/* A client that does not read: the writer is told to stop at the high
 * water, the backlog never grows far past it, and once the client reads the
 * writer may go on. */
START_TEST(backlog_bounded)
{
    struct seen s = {.loop = loop_new()};
    static char piece[16 * 1024];
    int sv[2];
    long backlog = 0;
    struct stream_out *out;

    pair(sv);
    out = stream_out_new(s.loop, sv[0], false, 60000, &events, &s);
    while (backlog < (long)STREAM_HIGH_WATER)
        backlog = stream_out_write(out, piece, sizeof(piece));
    ck_assert_int_lt(backlog, (long)(STREAM_HIGH_WATER + sizeof(piece)));
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 10000 && s.drained == 0; i++) {
        char sink[64 * 1024];
        while (read(sv[1], sink, sizeof(sink)) > 0) {
        }
        run_for_at_most(s.loop, 1);
    }
    ck_assert_int_eq(s.drained, 1);
    ck_assert_uint_lt(stream_out_backlog(out), STREAM_LOW_WATER);
    stream_out_free(out);
    close(sv[1]);
    loop_free(s.loop);
}
END_TEST

/* A client that takes nothing for the write timeout while bytes wait is
 * given up on, even after the stream was finished cleanly. */
START_TEST(write_deadline)
{
    struct seen s = {.loop = loop_new()};
    static char piece[64 * 1024];
    int sv[2];
    struct stream_out *out;

    pair(sv);
    out = stream_out_new(s.loop, sv[0], true, 100, &events, &s);
    while (stream_out_backlog(out) == 0)
        ck_assert_int_ge(stream_out_write(out, piece, sizeof(piece)), 0);
    stream_out_finish(out, false);
    ck_assert_int_eq(s.flushed, 0);
    run_for_at_most(s.loop, 5000);
    ck_assert_int_eq(s.gone, 1);
    ck_assert(stream_out_stalled(out));
    ck_assert_int_eq(s.flushed, 0);
    ck_assert_int_eq(stream_out_write(out, "x", 1), -EPIPE);
    stream_out_free(out);
    close(sv[1]);
    loop_free(s.loop);
}
END_TEST

/* After a lingering finish, what the client still sends is read and
 * dropped until it closes; then the stream is done. */
START_TEST(lingering_close)
{
    struct seen s = {.loop = loop_new()};
    int sv[2];
    char buf[256] = "";
    struct stream_out *out;

    pair(sv);
    out = stream_out_new(s.loop, sv[0], false, 1000, &events, &s);
    stream_out_write_raw(out, "HTTP/1.1 413 Payload Too Large\r\n\r\n", 35);
    ck_assert_int_eq(write(sv[1], "more body", 9), 9);
    stream_out_finish(out, true);
    ck_assert_int_eq(s.flushed, 0); /* lingering */
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf) - 1), 35);
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf) - 1), 0); /* our side is shut */
    close(sv[1]);
    run_for_at_most(s.loop, 5000);
    ck_assert_int_eq(s.flushed, 1);
    stream_out_free(out);
    loop_free(s.loop);
}
END_TEST

/* A descriptor epoll refuses (a regular file): the owner is told the
 * client is gone, from the loop rather than while it sets the stream up, so
 * that it frees what it holds for the client. */
START_TEST(unwatchable_socket_reported)
{
    struct seen s = {.loop = loop_new()};
    FILE *file = tmpfile();
    struct stream_out *out;

    ck_assert_ptr_nonnull(file);
    out = stream_out_new(s.loop, dup(fileno(file)), true, 1000, &events, &s);
    fclose(file);
    ck_assert_int_eq(s.gone, 0); /* not from inside stream_out_new() */
    ck_assert_int_eq(stream_out_write(out, "abc", 3), -EPIPE);
    stream_out_finish(out, false);
    run_for_at_most(s.loop, 2000);
    ck_assert_msg(s.gone == 1, "a stream the loop cannot watch: client_gone called %d times",
                  s.gone);
    ck_assert_int_eq(s.flushed, 0);
    stream_out_free(out);
    loop_free(s.loop);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {chunks_then_terminator,
                                  backlog_bounded,
                                  write_deadline,
                                  lingering_close,
                                  unwatchable_socket_reported,
                                  NULL};

    return unit_run(unit_suite("stream", tests));
}
