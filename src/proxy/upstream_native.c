/* upstream_native.c: the native engine (upstream_engine.h): HTTP/1.1 over
 * plain TCP to a master's IP address, driven by the event loop.
 *
 * A call on a kept-alive connection costs one recv(MSG_PEEK) to check that
 * nothing came on it while idle, one sendmsg() for the request, and one
 * recv() per arrival of the answer: the connection stays registered for
 * input while idle, so nothing is re-registered per call, and answers are
 * read into one buffer shared by all connections and handed on from there.
 * Only bytes the owner pauses on are copied.
 *
 * Sending and receiving overlap: a master may answer before it has read the
 * whole request (a 413 to a large body, say). The answer is read as it
 * comes while the rest is still offered; a connection whose request was not
 * sent whole, or whose answer does not allow it, is never reused.
 *
 * A kept-alive connection that the master closed just as it was reused
 * fails before any byte of the answer. A call that may be sent twice (GET,
 * HEAD) is then sent once more on a new connection; any other ends with
 * UPSTREAM_DROPPED: its bytes may have reached the master. A connection
 * not made at all (refused, unreachable, or not within the connect timeout)
 * ends with UPSTREAM_REFUSED: nothing was sent. */
#include "config.h"

#include "proxy/http1.h"
#include "proxy/upstream_engine.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"

#include <arpa/inet.h>
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

#define IDLE_MAX        32    /* kept-alive connections waiting for a call */
#define IDLE_TIMEOUT_MS 60000 /* closed after a minute unused */
#define READ_SIZE       (64 * 1024)

/* What feeding bytes to the answer's parser left behind. */
enum fed { FED_MORE, FED_PAUSED, FED_GONE };

struct upstream_conn {
    struct native_engine *n;
    struct loop_io io;
    struct loop_timer timer; /* connect timeout, a failure to report, idle expiry */
    int fd;
    bool connecting; /* the TCP connection is being made */
    bool sending;    /* request bytes remain to be sent */
    struct sockaddr_storage sa;
    socklen_t sa_len;
    unsigned config_gen;
    bool reused;         /* it carried an earlier call */
    bool resendable;     /* the call may go again on a new connection */
    bool resent;         /* ... and it did */
    bool stream;         /* never reused */
    bool socket_retried; /* a socket found no descriptor once */
    bool in_callback, aborted, owner_refused, paused;
    struct list_node node; /* in the engine's idle or busy list */
    struct list *list;     /* which one, or NULL */
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
    struct upstream_core *core;
    struct list idle; /* kept alive, most recently used first */
    struct list busy; /* carrying a call */
    char buf[READ_SIZE];
};

static void on_event(struct loop_io *io, uint32_t events);

/* --- connections --------------------------------------------------------- */

static void close_fd(struct upstream_conn *c)
{
    if (c->fd < 0)
        return;
    loop_io_remove(c->n->core->loop, &c->io);
    close(c->fd);
    c->fd = -1;
}

static void unlink_conn(struct upstream_conn *c)
{
    if (c->list)
        list_remove(c->list, &c->node);
    c->list = NULL;
}

static void link_conn(struct upstream_conn *c, struct list *l)
{
    unlink_conn(c);
    list_push_front(l, &c->node);
    c->list = l;
}

static void conn_free(struct upstream_conn *c)
{
    close_fd(c);
    unlink_conn(c);
    loop_timer_cancel(c->n->core->loop, &c->timer);
    strbuf_done(&c->head);
    strbuf_done(&c->held);
    http1_response_done(&c->resp);
    free(c);
}

static void set_timer(struct upstream_conn *c, loop_timer_fn fn, uint64_t ms)
{
    loop_timer_cancel(c->n->core->loop, &c->timer);
    loop_timer_init(&c->timer, fn, c);
    loop_timer_arm_ms(c->n->core->loop, &c->timer, ms);
}

static void watch(struct upstream_conn *c, uint32_t events)
{
    struct loop *loop = c->n->core->loop;

    if (c->io.active)
        loop_io_modify(loop, &c->io, events);
    else if (loop_io_add(loop, &c->io, c->fd, events, on_event, c) < 0)
        log_warning("cannot watch a connection to a master: %m");
}

static void on_idle_expired(struct loop_timer *timer)
{
    conn_free(timer->data);
}

/* Watches @c for input only (no system call when that is what it watches):
 * false when the loop cannot. */
static bool watch_input(struct upstream_conn *c)
{
    struct loop *loop = c->n->core->loop;

    if (c->io.active)
        return loop_io_modify(loop, &c->io, EPOLLIN) == 0;
    return loop_io_add(loop, &c->io, c->fd, EPOLLIN, on_event, c) == 0;
}

/* Keeps @c for a next call. It stays watched, also when a pause had taken
 * it out of the loop, so that a master closing it is seen at once. */
static void idle_put(struct native_engine *n, struct upstream_conn *c)
{
    if (!watch_input(c)) {
        conn_free(c);
        return;
    }
    c->reused = true;
    strbuf_done(&c->held);
    c->held_off = 0;
    link_conn(c, &n->idle);
    set_timer(c, on_idle_expired, IDLE_TIMEOUT_MS);
    if (n->idle.count > IDLE_MAX)
        conn_free(list_entry(list_last(&n->idle), struct upstream_conn, node));
}

/* Whether nothing came on idle @c that the loop has not seen yet: bytes
 * nobody asked for (an extra answer) or the master's close, which may have
 * arrived since the last epoll_wait(), even in the iteration that completed
 * its answer. Either makes it useless: what came would be taken for the
 * next call's answer. One recv() per reuse. */
static bool idle_quiet(const struct upstream_conn *c)
{
    char byte;

    return recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
           (errno == EAGAIN || errno == EWOULDBLOCK);
}

static struct upstream_conn *idle_take(struct native_engine *n, const struct sockaddr *sa,
                                       socklen_t len)
{
    struct list_node *node, *tmp;

    list_for_each_safe (node, tmp, &n->idle) {
        struct upstream_conn *c = list_entry(node, struct upstream_conn, node);
        if (c->sa_len != len || memcmp(&c->sa, sa, len) != 0 ||
            c->config_gen != n->core->config_gen)
            continue;
        if (!idle_quiet(c)) {
            conn_free(c);
            continue;
        }
        unlink_conn(c);
        loop_timer_cancel(n->core->loop, &c->timer);
        return c;
    }
    return NULL;
}

static void flush_idle(struct native_engine *n)
{
    struct list_node *node;

    while ((node = list_first(&n->idle)))
        conn_free(list_entry(node, struct upstream_conn, node));
}

/* --- ending a call ------------------------------------------------------- */

/* Detaches the call from @c; @c is then idle or freed. */
static struct upstream_transfer *detach(struct upstream_conn *c, bool keep)
{
    struct upstream_transfer *t = c->t;

    c->t = NULL;
    t->priv = NULL;
    if (keep)
        idle_put(c->n, c);
    else
        conn_free(c);
    return t;
}

static void fail(struct upstream_conn *c, enum upstream_result r, const char *detail)
{
    struct upstream_core *core = c->n->core;
    struct upstream_transfer *t = detach(c, false);

    upstream_call_finished(core, t, r, detail, false);
}

static void on_failure_due(struct loop_timer *timer)
{
    struct upstream_conn *c = timer->data;

    fail(c, c->failure, c->failure_detail);
}

/* Fails the call from the loop, never from inside start(). */
static void fail_soon(struct upstream_conn *c, enum upstream_result r, const char *detail)
{
    close_fd(c);
    c->failure = r;
    c->failure_detail = detail;
    set_timer(c, on_failure_due, 0);
}

/* The answer is complete; @clean when nothing followed it. */
static void complete(struct upstream_conn *c, bool clean)
{
    struct upstream_core *core = c->n->core;
    bool keep = clean && !c->sending && !c->stream && http1_response_reusable(&c->resp) &&
                c->config_gen == core->config_gen;
    struct upstream_transfer *t = detach(c, keep);

    upstream_call_finished(core, t, UPSTREAM_OK, "", false);
}

/* --- connecting and sending ---------------------------------------------- */

/* No connection within the connect timeout: nothing was sent (a host that
 * drops connection attempts), so the call ends as a refused one does, and
 * any call may go again. */
static void on_connect_timeout(struct loop_timer *timer)
{
    fail(timer->data, UPSTREAM_REFUSED, "no connection within the connect timeout");
}

static void send_request(struct upstream_conn *c);

static int new_socket(struct upstream_conn *c)
{
    int fd = socket(c->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
        /* Kept-alive connections are the descriptors we can spare. */
        flush_idle(c->n);
        fd = socket(c->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    return fd;
}

static void open_connection(struct upstream_conn *c);

static void on_socket_retry(struct loop_timer *timer)
{
    open_connection(timer->data);
}

static void open_connection(struct upstream_conn *c)
{
    int one = 1;

    c->fd = new_socket(c);
    if (c->fd < 0) {
        bool no_fds = errno == EMFILE || errno == ENFILE;
        if (no_fds && !c->socket_retried) {
            /* A call that comes in while libmicrohttpd hands streams over
             * finds their sockets twice: libmicrohttpd closes its copies at
             * the end of its turn (relay.c). The next turn of the loop has
             * them back. */
            c->socket_retried = true;
            set_timer(c, on_socket_retry, 0);
            return;
        }
        fail_soon(c, no_fds ? UPSTREAM_NO_DESCRIPTORS : UPSTREAM_REFUSED,
                  no_fds ? "no socket: too many open files" : "cannot create a socket");
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->sending = true;
    if (connect(c->fd, (struct sockaddr *)&c->sa, c->sa_len) == 0) {
        send_request(c);
        return;
    }
    if (errno != EINPROGRESS) {
        fail_soon(c, UPSTREAM_REFUSED,
                  errno == ECONNREFUSED ? "Connection refused" : "the master is unreachable");
        return;
    }
    c->connecting = true;
    watch(c, EPOLLOUT);
    set_timer(c, on_connect_timeout, (uint64_t)c->n->core->connect_timeout_ms);
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
    loop_timer_cancel(c->n->core->loop, &c->timer);
    c->connecting = false;
    send_request(c);
}

/* The connection was kept alive, but the master had closed it: a call that
 * may go twice goes again on a new one. */
static void send_again(struct upstream_conn *c)
{
    close_fd(c);
    c->reused = false;
    c->resent = true;
    c->sent = 0;
    http1_response_init(&c->resp, c->resp.head_request);
    open_connection(c);
}

/* Whether a call that failed on a reused connection before any answer goes
 * again: once, and only when it may be sent twice or none of it was sent. */
static bool may_send_again(const struct upstream_conn *c)
{
    return c->reused && !c->resent && !c->resp.started && (c->resendable || c->sent == 0);
}

static bool receive(struct upstream_conn *c);

static void on_send_failed(struct loop_timer *timer)
{
    receive(timer->data); /* an answer waiting, or the end: ended() decides */
}

/* Sending failed: the master stopped reading. It may have answered first (a
 * 413 to a body too large): that answer decides, so what it sent is read
 * before anything is concluded (from the loop: never inside start()). */
static void send_failed(struct upstream_conn *c)
{
    c->sending = false;
    watch(c, EPOLLIN);
    set_timer(c, on_send_failed, 0);
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
            send_failed(c);
            return;
        }
        c->sent += (size_t)n;
    }
    c->sending = false;
    if (c->stream)
        strbuf_done(&c->head); /* never sent again: its memory goes */
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
    if (from_held)
        c->held_off = (size_t)(rest - c->held.data);
    else
        strbuf_append(&c->held, rest, len);
    loop_io_remove(c->n->core->loop, &c->io);
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
        if (may_send_again(c))
            send_again(c);
        else if (c->sent == 0)
            fail(c, UPSTREAM_REFUSED, "the connection closed before the call was sent");
        else
            fail(c, UPSTREAM_DROPPED,
                 err ? "the connection was reset before any answer"
                     : "the connection closed before any answer");
        return;
    }
    c->sending = false;
    if (http1_response_eof(&c->resp) == 0)
        complete(c, false);
    else
        fail(c, UPSTREAM_BROKEN,
             err ? "the connection was reset within the answer"
                 : "the connection closed within the answer");
}

/* Returns false when @c is gone. */
static bool receive(struct upstream_conn *c)
{
    char *buf = c->n->buf;
    ssize_t n = recv(c->fd, buf, READ_SIZE, 0);

    if (n > 0)
        return feed(c, buf, (size_t)n, false) == FED_MORE;
    if (n == 0)
        ended(c, 0);
    else if (errno != EAGAIN && errno != EINTR)
        ended(c, errno);
    else
        return true;
    return false;
}

static void on_event(struct loop_io *io, uint32_t events)
{
    struct upstream_conn *c = io->data;

    if (!c->t) {
        /* A kept-alive connection that speaks up was closed by the master
         * (or says something nobody asked for): it is no longer of use. */
        conn_free(c);
        return;
    }
    if (c->connecting) {
        connected(c);
        return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !receive(c))
        return;
    if (c->sending && (events & EPOLLOUT))
        send_request(c);
}

/* --- the engine's operations --------------------------------------------- */

/* The master's IP address and port into @sa; false for a host name. */
static bool ip_endpoint(const char *host, uint16_t port, struct sockaddr_storage *sa,
                        socklen_t *len)
{
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

    memset(sa, 0, sizeof(*sa));
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *len = sizeof(*in);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
        return true;
    }
    return false;
}

static bool native_accepts(const struct upstream_core *core, const struct upstream_request *req)
{
    struct sockaddr_storage sa;
    socklen_t len;

    return !core->https && ip_endpoint(req->host, req->port, &sa, &len);
}

static void build_head(struct upstream_conn *c, const struct upstream_request *req)
{
    char length[24];
    int n;

    strbuf_reset(&c->head);
    strbuf_reserve(&c->head, req->headers_len + 256);
    strbuf_puts(&c->head, req->method);
    strbuf_append(&c->head, " ", 1);
    strbuf_puts(&c->head, req->target);
    strbuf_append(&c->head, " HTTP/1.1\r\nHost: ", 17);
    strbuf_puts(&c->head, req->address);
    strbuf_append(&c->head, "\r\n", 2);
    strbuf_append(&c->head, req->headers, req->headers_len);
    if (req->has_body) {
        n = snprintf(length, sizeof(length), "%zu", req->body_len);
        strbuf_append(&c->head, "Content-Length: ", 16);
        strbuf_append(&c->head, length, (size_t)n);
        strbuf_append(&c->head, "\r\n", 2);
    }
    strbuf_append(&c->head, "\r\n", 2);
}

static struct upstream_conn *conn_for(struct native_engine *n, const struct upstream_request *req)
{
    struct sockaddr_storage sa;
    socklen_t sa_len;
    struct upstream_conn *c;

    ip_endpoint(req->host, req->port, &sa, &sa_len);
    c = req->stream ? NULL : idle_take(n, (struct sockaddr *)&sa, sa_len);
    if (c)
        return c;
    c = xnew(struct upstream_conn);
    c->n = n;
    c->fd = -1;
    memcpy(&c->sa, &sa, sa_len);
    c->sa_len = sa_len;
    c->config_gen = n->core->config_gen;
    return c;
}

static int native_start(void *engine, struct upstream_transfer *t,
                        const struct upstream_request *req)
{
    struct native_engine *n = engine;
    struct upstream_conn *c = conn_for(n, req);

    link_conn(c, &n->busy);
    c->t = t;
    t->priv = c;
    c->stream = req->stream;
    c->resendable = req->resendable;
    c->resent = c->aborted = c->owner_refused = c->paused = c->socket_retried = false;
    c->body = req->body;
    c->body_len = req->body_len;
    c->sent = 0;
    build_head(c, req);
    http1_response_init(&c->resp, strcmp(req->method, "HEAD") == 0);
    if (c->fd >= 0) {
        c->sending = true;
        send_request(c);
    } else {
        open_connection(c);
    }
    return 0;
}

static void native_abort(void *engine, struct upstream_transfer *t)
{
    struct upstream_conn *c = t->priv;

    t->priv = NULL;
    c->t = NULL;
    unlink_conn(c);
    if (c->in_callback)
        c->aborted = true; /* feed() frees it on its way out */
    else
        conn_free(c);
}

static void native_unpause(void *engine, struct upstream_transfer *t)
{
    struct upstream_conn *c = t->priv;

    if (!c->paused)
        return;
    c->paused = false;
    if (feed(c, c->held.data + c->held_off, c->held.len - c->held_off, true) != FED_MORE)
        return;
    strbuf_reset(&c->held);
    c->held_off = 0;
    watch(c, EPOLLIN | (c->sending ? EPOLLOUT : 0));
}

static void *native_create(struct upstream_core *core)
{
    struct native_engine *n = xnew(struct native_engine);

    n->core = core;
    list_init(&n->idle);
    list_init(&n->busy);
    return n;
}

static void native_destroy(void *engine)
{
    struct native_engine *n = engine;

    struct list_node *node;

    if (!n)
        return;
    flush_idle(n);
    while ((node = list_first(&n->busy))) {
        struct upstream_conn *c = list_entry(node, struct upstream_conn, node);
        upstream_call_finished(n->core, c->t, UPSTREAM_OK, NULL, true);
        conn_free(c);
    }
    free(n);
}

static void native_config_changed(void *engine)
{
    flush_idle(engine);
}

const struct upstream_engine_ops upstream_native_ops = {
    .name = "native",
    .accepts = native_accepts,
    .create = native_create,
    .destroy = native_destroy,
    .start = native_start,
    .abort = native_abort,
    .unpause = native_unpause,
    .config_changed = native_config_changed,
};
