/* upstream_native.c: the native engine of upstream.h: HTTP/1.1 over plain
 * TCP to a master's IP address, driven by the event loop.
 *
 * A call on a kept-alive connection costs one writev() for the request and
 * one recv() per arrival of the answer: the connection stays registered for
 * input while idle, so nothing is re-registered per call, and answers are
 * read into one buffer shared by all connections and handed on from there.
 * Only bytes the owner pauses on are copied. A kept-alive connection that
 * the master closed just as it was reused fails before any byte of the
 * answer; the call is then sent once more on a new connection, as libcurl
 * does. */
#include "config.h"

#include "proxy/http1.h"
#include "proxy/upstream_engine.h"
#include "base/log.h"
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

#define IDLE_MAX        64    /* kept-alive connections waiting for a call */
#define IDLE_TIMEOUT_MS 60000 /* closed after a minute unused */
#define READ_SIZE       (64 * 1024)

enum conn_state { C_CONNECTING, C_SENDING, C_RECEIVING, C_IDLE };

/* What feeding bytes to the answer's parser left behind. */
enum fed { FED_MORE, FED_PAUSED, FED_GONE };

struct upstream_conn {
    struct upstream *u;
    struct loop_io io;
    struct loop_timer timer; /* connect timeout, a failure to report, idle expiry */
    int fd;
    enum conn_state state;
    struct sockaddr_storage sa;
    socklen_t sa_len;
    unsigned config_gen;
    bool reused;  /* it carried an earlier call */
    bool retried; /* the call was already sent again on a new connection */
    bool stream;  /* never reused */
    bool in_callback, aborted, owner_refused, paused;
    struct upstream_conn *prev, *next; /* in the idle list */
    struct upstream_transfer *t;
    /* the request */
    struct strbuf head;
    const char *body;
    size_t body_len, sent;
    /* the answer */
    struct http1_response resp;
    struct strbuf held; /* bytes the owner paused on */
    size_t held_off;
    enum upstream_result failure;
    const char *failure_detail;
};

struct native_engine {
    struct upstream *u;
    struct upstream_conn *idle; /* most recently used first */
    unsigned idle_count;
    char buf[READ_SIZE];
};

static void on_event(struct loop_io *io, uint32_t events);

/* --- connections --------------------------------------------------------- */

static void close_fd(struct upstream_conn *c)
{
    if (c->fd < 0)
        return;
    loop_io_remove(c->u->loop, &c->io);
    close(c->fd);
    c->fd = -1;
}

static void conn_free(struct upstream_conn *c)
{
    close_fd(c);
    loop_timer_cancel(c->u->loop, &c->timer);
    strbuf_done(&c->head);
    strbuf_done(&c->held);
    http1_response_done(&c->resp);
    free(c);
}

static void set_timer(struct upstream_conn *c, loop_timer_fn fn, uint64_t ms)
{
    loop_timer_cancel(c->u->loop, &c->timer);
    loop_timer_init(&c->timer, fn, c);
    loop_timer_arm_ms(c->u->loop, &c->timer, ms);
}

static void watch(struct upstream_conn *c, uint32_t events)
{
    if (c->io.active)
        loop_io_modify(c->u->loop, &c->io, events);
    else if (loop_io_add(c->u->loop, &c->io, c->fd, events, on_event, c) < 0)
        log_warning("cannot watch a connection to a master: %m");
}

static void idle_unlink(struct native_engine *n, struct upstream_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        n->idle = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    n->idle_count--;
}

static void on_idle_expired(struct loop_timer *timer)
{
    struct upstream_conn *c = timer->data;

    idle_unlink(c->u->native, c);
    conn_free(c);
}

static void idle_put(struct native_engine *n, struct upstream_conn *c)
{
    c->state = C_IDLE;
    c->reused = true;
    strbuf_done(&c->held);
    c->held_off = 0;
    c->next = n->idle;
    c->prev = NULL;
    if (n->idle)
        n->idle->prev = c;
    n->idle = c;
    n->idle_count++;
    set_timer(c, on_idle_expired, IDLE_TIMEOUT_MS);
    if (n->idle_count > IDLE_MAX) {
        struct upstream_conn *oldest = n->idle;
        while (oldest->next)
            oldest = oldest->next;
        idle_unlink(n, oldest);
        conn_free(oldest);
    }
}

static struct upstream_conn *idle_take(struct native_engine *n, const struct sockaddr *sa,
                                       socklen_t len)
{
    for (struct upstream_conn *c = n->idle; c; c = c->next) {
        if (c->sa_len == len && memcmp(&c->sa, sa, len) == 0 && c->config_gen == n->u->config_gen) {
            idle_unlink(n, c);
            loop_timer_cancel(n->u->loop, &c->timer);
            return c;
        }
    }
    return NULL;
}

/* --- ending a call ------------------------------------------------------- */

/* Detaches the call from @c; @c is then idle or freed. */
static struct upstream_transfer *detach(struct upstream_conn *c, bool keep)
{
    struct upstream_transfer *t = c->t;

    c->t = NULL;
    t->conn = NULL;
    if (keep)
        idle_put(c->u->native, c);
    else
        conn_free(c);
    return t;
}

static void fail(struct upstream_conn *c, enum upstream_result r, const char *detail)
{
    struct upstream *u = c->u;
    struct upstream_transfer *t = detach(c, false);

    upstream_finished(u, t, r, detail, false);
}

static void on_failure_due(struct loop_timer *timer)
{
    struct upstream_conn *c = timer->data;

    fail(c, c->failure, c->failure_detail);
}

/* Fails the call from the loop, never from inside upstream_start(). */
static void fail_soon(struct upstream_conn *c, enum upstream_result r, const char *detail)
{
    close_fd(c);
    c->failure = r;
    c->failure_detail = detail;
    set_timer(c, on_failure_due, 0);
}

static void complete(struct upstream_conn *c, bool clean)
{
    struct upstream *u = c->u;
    bool keep =
        clean && !c->stream && http1_response_reusable(&c->resp) && c->config_gen == u->config_gen;
    struct upstream_transfer *t = detach(c, keep);

    upstream_finished(u, t, UPSTREAM_OK, "", false);
}

/* --- connecting and sending ---------------------------------------------- */

static void on_connect_timeout(struct loop_timer *timer)
{
    fail(timer->data, UPSTREAM_TIMEOUT, "Connection timed out");
}

static void send_request(struct upstream_conn *c);

static void open_connection(struct upstream_conn *c)
{
    int one = 1;

    c->fd = socket(c->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        fail_soon(c, UPSTREAM_REFUSED, "cannot create a socket");
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&c->sa, c->sa_len) == 0) {
        c->state = C_SENDING;
        send_request(c);
        return;
    }
    if (errno != EINPROGRESS) {
        fail_soon(c, UPSTREAM_REFUSED,
                  errno == ECONNREFUSED ? "Connection refused" : "the master is unreachable");
        return;
    }
    c->state = C_CONNECTING;
    watch(c, EPOLLOUT);
    set_timer(c, on_connect_timeout, (uint64_t)c->u->connect_timeout_ms);
}

static void connected(struct upstream_conn *c)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        fail(c, UPSTREAM_REFUSED,
             err == ECONNREFUSED ? "Connection refused" : "the master is unreachable");
        return;
    }
    loop_timer_cancel(c->u->loop, &c->timer);
    c->state = C_SENDING;
    send_request(c);
}

/* The connection was kept alive, but the master had closed it: the call is
 * sent again on a new one. */
static void send_again(struct upstream_conn *c)
{
    close_fd(c);
    c->reused = false;
    c->retried = true;
    c->sent = 0;
    http1_response_init(&c->resp, c->resp.head_request);
    open_connection(c);
}

static void send_request(struct upstream_conn *c)
{
    size_t head_len = c->head.len, total = head_len + c->body_len;

    while (c->sent < total) {
        struct iovec iov[2];
        int n_iov = 0;
        if (c->sent < head_len)
            iov[n_iov++] = (struct iovec){c->head.data + c->sent, head_len - c->sent};
        if (c->body_len) {
            size_t off = c->sent > head_len ? c->sent - head_len : 0;
            iov[n_iov++] = (struct iovec){(void *)(c->body + off), c->body_len - off};
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            watch(c, EPOLLOUT | EPOLLIN);
            return;
        }
        if (n < 0) {
            if (c->reused && !c->retried)
                send_again(c);
            else
                fail_soon(c, UPSTREAM_DROPPED, "the connection closed as the call was sent");
            return;
        }
        c->sent += (size_t)n;
    }
    if (c->stream)
        strbuf_done(&c->head); /* never sent again: its memory goes */
    c->state = C_RECEIVING;
    watch(c, EPOLLIN);
}

/* --- receiving ------------------------------------------------------------ */

static bool on_line(void *data, const char *line, size_t len)
{
    struct upstream_conn *c = data;

    if (c->aborted)
        return false;
    c->t->answered = true;
    if (!c->t->cb->header_line(c->t->owner, line, len))
        c->owner_refused = true;
    return !c->owner_refused && !c->aborted;
}

static size_t on_body(void *data, const char *bytes, size_t len)
{
    struct upstream_conn *c = data;
    size_t took;

    if (c->aborted)
        return 0;
    took = c->t->cb->body(c->t->owner, bytes, len);
    if (took == UPSTREAM_PAUSE) {
        c->paused = true;
        return 0;
    }
    if (took != len) {
        c->owner_refused = true;
        return 0;
    }
    return len;
}

static const struct http1_handler handler = {on_line, on_body};

/* Keeps what the owner paused on, and stops reading until it unpauses. */
static void hold(struct upstream_conn *c, const char *rest, size_t len, bool from_held)
{
    if (from_held) {
        c->held_off = (size_t)(rest - c->held.data);
    } else {
        strbuf_append(&c->held, rest, len);
    }
    loop_io_remove(c->u->loop, &c->io);
}

/* Hands @len bytes of the answer on. */
static enum fed feed(struct upstream_conn *c, const char *data, size_t len, bool from_held)
{
    ssize_t used;

    c->in_callback = true;
    used = http1_response_feed(&c->resp, data, len, &handler, c);
    c->in_callback = false;
    if (c->aborted) {
        conn_free(c);
        return FED_GONE;
    }
    if (c->owner_refused || used < 0) {
        fail(c, UPSTREAM_PROTOCOL,
             c->owner_refused ? "the answer could not be relayed" : c->resp.error);
        return FED_GONE;
    }
    if (c->resp.phase == HTTP1_DONE) {
        complete(c, (size_t)used == len);
        return FED_GONE;
    }
    if (c->paused) {
        hold(c, data + used, len - (size_t)used, from_held);
        return FED_PAUSED;
    }
    return FED_MORE;
}

static void ended(struct upstream_conn *c, int err)
{
    if (!c->resp.started) {
        if (c->reused && !c->retried)
            send_again(c);
        else
            fail(c, UPSTREAM_DROPPED,
                 err ? "the connection was reset before any answer"
                     : "the connection closed before any answer");
        return;
    }
    if (http1_response_eof(&c->resp) == 0)
        complete(c, false);
    else
        fail(c, UPSTREAM_BROKEN,
             err ? "the connection was reset within the answer"
                 : "the connection closed within the answer");
}

static void receive(struct upstream_conn *c)
{
    char *buf = c->u->native->buf;
    ssize_t n = recv(c->fd, buf, READ_SIZE, 0);

    if (n > 0)
        feed(c, buf, (size_t)n, false);
    else if (n == 0)
        ended(c, 0);
    else if (errno != EAGAIN && errno != EINTR)
        ended(c, errno);
}

static void on_event(struct loop_io *io, uint32_t events)
{
    struct upstream_conn *c = io->data;

    switch (c->state) {
    case C_CONNECTING:
        connected(c);
        break;
    case C_SENDING:
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            c->state = C_RECEIVING; /* it answers before taking the whole call */
            receive(c);
        } else {
            send_request(c);
        }
        break;
    case C_RECEIVING:
        receive(c);
        break;
    case C_IDLE:
        /* A kept-alive connection that speaks up was closed by the master
         * (or says something nobody asked for): it is no longer of use. */
        idle_unlink(c->u->native, c);
        conn_free(c);
        break;
    }
}

/* --- the engine's interface ---------------------------------------------- */

static void build_head(struct upstream_conn *c, const struct upstream_request *req)
{
    strbuf_reset(&c->head);
    strbuf_printf(&c->head, "%s %s HTTP/1.1\r\nHost: %s\r\n", req->method, req->target,
                  req->address);
    strbuf_append(&c->head, req->headers, req->headers_len);
    if (req->has_body)
        strbuf_printf(&c->head, "Content-Length: %zu\r\n", req->body_len);
    strbuf_append(&c->head, "\r\n", 2);
}

int native_start(struct upstream *u, struct upstream_transfer *t,
                 const struct upstream_request *req, const struct sockaddr *sa, socklen_t sa_len)
{
    struct upstream_conn *c = req->stream ? NULL : idle_take(u->native, sa, sa_len);

    if (!c) {
        c = xnew(struct upstream_conn);
        c->u = u;
        c->fd = -1;
        memcpy(&c->sa, sa, sa_len);
        c->sa_len = sa_len;
        c->config_gen = u->config_gen;
    }
    c->t = t;
    t->conn = c;
    c->stream = req->stream;
    c->retried = c->aborted = c->owner_refused = c->paused = false;
    c->body = req->body;
    c->body_len = req->body_len;
    c->sent = 0;
    build_head(c, req);
    http1_response_init(&c->resp, strcmp(req->method, "HEAD") == 0);
    if (c->fd >= 0) {
        c->state = C_SENDING;
        send_request(c);
    } else {
        open_connection(c);
    }
    return 0;
}

void native_abort(struct upstream *u, struct upstream_transfer *t)
{
    struct upstream_conn *c = t->conn;

    t->conn = NULL;
    c->t = NULL;
    if (c->in_callback)
        c->aborted = true; /* feed() frees it on its way out */
    else
        conn_free(c);
}

void native_unpause(struct upstream *u, struct upstream_transfer *t)
{
    struct upstream_conn *c = t->conn;

    if (!c->paused)
        return;
    c->paused = false;
    if (feed(c, c->held.data + c->held_off, c->held.len - c->held_off, true) != FED_MORE)
        return;
    strbuf_reset(&c->held);
    c->held_off = 0;
    watch(c, EPOLLIN);
}

void native_flush_idle(struct native_engine *n)
{
    struct upstream_conn *c = n->idle, *next;

    for (; c; c = next) {
        next = c->next;
        conn_free(c);
    }
    n->idle = NULL;
    n->idle_count = 0;
}

struct native_engine *native_new(struct upstream *u)
{
    struct native_engine *n = xnew(struct native_engine);

    n->u = u;
    return n;
}

void native_free(struct native_engine *n)
{
    if (n)
        native_flush_idle(n);
    free(n);
}
