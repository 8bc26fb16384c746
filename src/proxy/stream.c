/* stream.c: chunk framing and non-blocking writes to a client socket. */
#include "config.h"

#include "proxy/stream.h"
#include "base/mem.h"
#include "base/strbuf.h"

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

struct stream_out {
    struct loop *loop;
    struct loop_io io;
    int fd;
    bool chunked;
    bool broken;    /* the client left, or we aborted */
    bool finishing; /* flushed is due once the backlog is empty */
    bool paused_writer;
    struct strbuf backlog;
    size_t backlog_off;
    const struct stream_events *events;
    void *owner;
};

static size_t backlog_len(const struct stream_out *s)
{
    return s->backlog.len - s->backlog_off;
}

static void watch(struct stream_out *s, bool want_write)
{
    uint32_t ev = EPOLLRDHUP | (want_write ? EPOLLOUT : 0);

    if (s->io.active)
        loop_io_modify(s->loop, &s->io, ev);
}

static void broken(struct stream_out *s)
{
    if (s->broken)
        return;
    s->broken = true;
    loop_io_remove(s->loop, &s->io);
    strbuf_reset(&s->backlog);
    s->backlog_off = 0;
    s->events->client_gone(s->owner);
}

/* Writes as much of the backlog as the socket takes. */
static void flush(struct stream_out *s)
{
    while (backlog_len(s) > 0) {
        ssize_t n = send(s->fd, s->backlog.data + s->backlog_off, backlog_len(s),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(s, true);
            return;
        }
        if (n <= 0) {
            broken(s);
            return;
        }
        s->backlog_off += (size_t)n;
    }
    strbuf_reset(&s->backlog);
    s->backlog_off = 0;
    watch(s, false);
}

static void after_progress(struct stream_out *s)
{
    if (s->broken)
        return;
    if (s->paused_writer && backlog_len(s) < STREAM_LOW_WATER) {
        s->paused_writer = false;
        s->events->drained(s->owner);
    }
    if (s->finishing && backlog_len(s) == 0) {
        s->finishing = false;
        s->events->flushed(s->owner);
    }
}

static void on_socket(struct loop_io *io, uint32_t events)
{
    struct stream_out *s = io->data;

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
                                  const struct stream_events *events, void *owner)
{
    struct stream_out *s = xnew(struct stream_out);
    int one = 1, zero = 0;

    s->loop = loop;
    s->fd = fd;
    s->chunked = chunked;
    s->events = events;
    s->owner = owner;
    /* Whatever libmicrohttpd corked (the headers) goes out now. */
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (loop_io_add(loop, &s->io, fd, EPOLLRDHUP, on_socket, s) < 0)
        s->broken = true;
    return s;
}

long stream_out_write(struct stream_out *s, const void *data, size_t len)
{
    char head[24];
    size_t head_len = 0;
    struct iovec iov[3];
    ssize_t sent = 0;
    size_t total;

    if (s->broken)
        return -EPIPE;
    if (len == 0)
        return (long)backlog_len(s);
    if (s->chunked)
        head_len = (size_t)snprintf(head, sizeof(head), "%zx\r\n", len);
    iov[0] = (struct iovec){head, head_len};
    iov[1] = (struct iovec){(void *)data, len};
    iov[2] = (struct iovec){(void *)"\r\n", s->chunked ? 2 : 0};
    total = head_len + len + iov[2].iov_len;
    if (backlog_len(s) == 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
        sent = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            broken(s);
            return -EPIPE;
        }
        if (sent < 0)
            sent = 0;
    }
    /* Queue what the socket did not take, in order. */
    for (int i = 0; i < 3 && (size_t)sent < total; i++) {
        size_t skip = (size_t)sent < iov[i].iov_len ? (size_t)sent : iov[i].iov_len;
        strbuf_append(&s->backlog, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
        sent -= (ssize_t)skip;
    }
    if (backlog_len(s) > 0)
        watch(s, true);
    if (backlog_len(s) >= STREAM_HIGH_WATER)
        s->paused_writer = true;
    return (long)backlog_len(s);
}

size_t stream_out_backlog(const struct stream_out *s)
{
    return backlog_len(s);
}

void stream_out_finish(struct stream_out *s)
{
    if (s->chunked && !s->broken) {
        strbuf_append(&s->backlog, "0\r\n\r\n", 5);
        flush(s);
    }
    s->finishing = true;
    after_progress(s);
}

void stream_out_abort(struct stream_out *s)
{
    loop_io_remove(s->loop, &s->io);
    strbuf_reset(&s->backlog);
    s->backlog_off = 0;
    s->broken = true;
    s->finishing = false;
    shutdown(s->fd, SHUT_RDWR);
}

void stream_out_free(struct stream_out *s)
{
    if (!s)
        return;
    loop_io_remove(s->loop, &s->io);
    close(s->fd);
    strbuf_done(&s->backlog);
    free(s);
}
