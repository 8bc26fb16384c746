/* stream.c: chunk framing, non-blocking writes with a bounded backlog and a
 * write deadline, and lingering close, on a client socket (see stream.h). */
#include "config.h"

#include "proxy/stream.h"
#include "base/bufq.h"
#include "base/mem.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define LINGER_MS   2000        /* reading what a client still sends after our answer */
#define LINGER_READ (16 * 1024) /* per read while lingering */

struct stream_out {
    struct loop *loop;
    struct loop_io io;
    struct loop_timer timer; /* the write deadline, or the end of lingering */
    int fd;
    bool chunked;
    bool broken;    /* the client left, or we aborted */
    bool stalled;   /* ... because it took nothing for the write timeout */
    bool finishing; /* flushed is due once the backlog is empty */
    bool linger;    /* ... after lingering */
    bool lingering;
    bool paused_writer;
    bool gone_untold; /* broken before the owner could be told: the timer tells it */
    uint64_t write_timeout_ns;
    uint64_t last_progress_ns; /* when the client last took bytes */
    struct bufq backlog;
    const struct stream_events *events;
    void *owner;
};

static void watch(struct stream_out *s, uint32_t extra)
{
    if (s->io.active)
        loop_io_modify(s->loop, &s->io, EPOLLRDHUP | extra);
}

static void broken(struct stream_out *s)
{
    if (s->broken)
        return;
    s->broken = true;
    loop_io_remove(s->loop, &s->io);
    loop_timer_cancel(s->loop, &s->timer);
    bufq_free(&s->backlog);
    s->events->client_gone(s->owner);
}

/* The write deadline: bytes wait and the client took none for the timeout. */
static void on_timer(struct loop_timer *timer)
{
    struct stream_out *s = timer->data;
    uint64_t due = s->last_progress_ns + s->write_timeout_ns;

    if (s->gone_untold) {
        s->gone_untold = false;
        s->events->client_gone(s->owner);
        return;
    }
    if (s->lingering) {
        s->lingering = false;
        loop_io_remove(s->loop, &s->io);
        s->events->flushed(s->owner);
        return;
    }
    if (bufq_len(&s->backlog) == 0)
        return;
    if (loop_now_ns(s->loop) < due) {
        loop_timer_arm_at(s->loop, timer, due);
        return;
    }
    s->stalled = true;
    broken(s);
}

static void progress(struct stream_out *s)
{
    s->last_progress_ns = loop_now_ns(s->loop);
}

/* Writes as much of the backlog as the socket takes. */
static void flush(struct stream_out *s)
{
    while (bufq_len(&s->backlog) > 0) {
        ssize_t n =
            send(s->fd, bufq_head(&s->backlog), bufq_len(&s->backlog), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(s, EPOLLOUT);
            return;
        }
        if (n <= 0) {
            broken(s);
            return;
        }
        bufq_drop(&s->backlog, (size_t)n);
        progress(s);
    }
    watch(s, 0);
}

/* Reads and drops what the client still sends; its end ends lingering. */
static void drain(struct stream_out *s)
{
    char buf[LINGER_READ];
    ssize_t n;

    while ((n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        s->lingering = false;
        loop_io_remove(s->loop, &s->io);
        loop_timer_cancel(s->loop, &s->timer);
        s->events->flushed(s->owner);
    }
}

static void start_lingering(struct stream_out *s)
{
    shutdown(s->fd, SHUT_WR);
    s->lingering = true;
    loop_io_modify(s->loop, &s->io, EPOLLIN);
    loop_timer_arm_ms(s->loop, &s->timer, LINGER_MS);
    drain(s);
}

static void after_progress(struct stream_out *s)
{
    if (s->broken)
        return;
    if (s->paused_writer && bufq_len(&s->backlog) < STREAM_LOW_WATER) {
        s->paused_writer = false;
        s->events->drained(s->owner);
    }
    if (s->finishing && bufq_len(&s->backlog) == 0) {
        s->finishing = false;
        if (s->linger && s->io.active)
            start_lingering(s);
        else
            s->events->flushed(s->owner);
    }
}

static void on_socket(struct loop_io *io, uint32_t events)
{
    struct stream_out *s = io->data;

    if (s->lingering) {
        drain(s);
        return;
    }
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        broken(s);
        return;
    }
    if (events & EPOLLOUT) {
        flush(s);
        after_progress(s);
    }
}

struct stream_out *stream_out_new(struct loop *loop, int fd, bool chunked,
                                  uint64_t write_timeout_ms, const struct stream_events *events,
                                  void *owner)
{
    struct stream_out *s = xnew(struct stream_out);
    int one = 1, zero = 0;

    s->loop = loop;
    s->fd = fd;
    s->chunked = chunked;
    s->events = events;
    s->owner = owner;
    s->write_timeout_ns = write_timeout_ms * 1000000u;
    loop_timer_init(&s->timer, on_timer, s);
    progress(s);
    /* Whatever libmicrohttpd corked (the headers) goes out now. */
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (loop_io_add(loop, &s->io, fd, EPOLLRDHUP, on_socket, s) < 0) {
        /* Nothing can be sent: the owner hears it from the loop, as it is
         * still setting the stream up. */
        s->broken = true;
        s->gone_untold = true;
        loop_timer_arm_ms(loop, &s->timer, 0);
    }
    return s;
}

/* Sends the pieces at once when nothing waits; queues what the socket does
 * not take, in order. */
static long write_pieces(struct stream_out *s, struct iovec *iov, int n_iov)
{
    ssize_t sent = 0;
    size_t total = 0;

    if (s->broken)
        return -EPIPE;
    for (int i = 0; i < n_iov; i++)
        total += iov[i].iov_len;
    if (bufq_len(&s->backlog) == 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
        sent = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            broken(s);
            return -EPIPE;
        }
        if (sent < 0)
            sent = 0;
        if (sent > 0)
            progress(s);
    }
    for (int i = 0; i < n_iov && (size_t)sent < total; i++) {
        size_t skip = (size_t)sent < iov[i].iov_len ? (size_t)sent : iov[i].iov_len;
        bufq_push(&s->backlog, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
        sent -= (ssize_t)skip;
    }
    if (bufq_len(&s->backlog) > 0) {
        watch(s, EPOLLOUT);
        if (!loop_timer_armed(&s->timer))
            loop_timer_arm_at(s->loop, &s->timer, s->last_progress_ns + s->write_timeout_ns);
    }
    if (bufq_len(&s->backlog) >= STREAM_HIGH_WATER)
        s->paused_writer = true;
    return (long)bufq_len(&s->backlog);
}

long stream_out_write(struct stream_out *s, const void *data, size_t len)
{
    char head[24];
    struct iovec iov[3];

    if (len == 0)
        return s->broken ? -EPIPE : (long)bufq_len(&s->backlog);
    if (!s->chunked)
        return stream_out_write_raw(s, data, len);
    iov[0] = (struct iovec){head, (size_t)snprintf(head, sizeof(head), "%zx\r\n", len)};
    iov[1] = (struct iovec){(void *)data, len};
    iov[2] = (struct iovec){(void *)"\r\n", 2};
    return write_pieces(s, iov, 3);
}

long stream_out_write_raw(struct stream_out *s, const void *data, size_t len)
{
    struct iovec iov = {(void *)data, len};

    if (len == 0)
        return s->broken ? -EPIPE : (long)bufq_len(&s->backlog);
    return write_pieces(s, &iov, 1);
}

size_t stream_out_backlog(const struct stream_out *s)
{
    return bufq_len(&s->backlog);
}

bool stream_out_stalled(const struct stream_out *s)
{
    return s->stalled;
}

void stream_out_finish(struct stream_out *s, bool linger)
{
    if (s->chunked && !s->broken) {
        bufq_push(&s->backlog, "0\r\n\r\n", 5);
        if (!loop_timer_armed(&s->timer))
            loop_timer_arm_at(s->loop, &s->timer, s->last_progress_ns + s->write_timeout_ns);
        flush(s);
    }
    s->finishing = true;
    s->linger = linger;
    after_progress(s);
}

void stream_out_abort(struct stream_out *s)
{
    loop_io_remove(s->loop, &s->io);
    loop_timer_cancel(s->loop, &s->timer);
    bufq_free(&s->backlog);
    s->broken = true;
    s->finishing = false;
    s->lingering = false;
    shutdown(s->fd, SHUT_RDWR);
}

void stream_out_free(struct stream_out *s)
{
    if (!s)
        return;
    loop_io_remove(s->loop, &s->io);
    loop_timer_cancel(s->loop, &s->timer);
    close(s->fd);
    bufq_free(&s->backlog);
    free(s);
}
