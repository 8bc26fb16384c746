/* front.c: the listening side: libmicrohttpd in epoll mode inside our loop,
 * connection accounting, and the leader snapshot the loop works with. */
#include "config.h"

#include "base/log.h"
#include "base/mem.h"
#include "proxy/internal.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECTION_HEADROOM 64  /* past the cap, room to answer 503 */
#define SWEEP_INTERVAL_MS   500 /* how often slow connections are looked for */
#define TRIM_AFTER_CLOSED   256 /* connections gone before the heap is trimmed */
/* Per connection: the request's headers, then the answer's headers; a
 * request whose headers do not fit (about half of it) gets 431, as nginx's
 * default 8 KiB header buffers do. An event stream gives it back once its
 * headers are out (see stream.h). */
#define CONNECTION_MEMORY (16ul * 1024ul)

static struct log_ratelimit mhd_limit = LOG_RATELIMIT_INIT(60000, 10);

/* --- leader snapshot ----------------------------------------------------- */

const struct leader_snapshot *proxy_leader(struct proxy *p)
{
    if (p->applying_leader)
        return p->leader; /* held until the change is applied: never freed under it */
    p->applying_leader = true;
    for (;;) {
        const struct leader_snapshot *s = leader_store_get(p->store);
        bool epoch_changed;

        if (p->leader && s->generation == p->leader->generation) {
            leader_snapshot_unref(s);
            break;
        }
        epoch_changed = !p->leader || s->epoch != p->leader->epoch;
        leader_snapshot_unref(p->leader);
        p->leader = s;
        exchange_leader_changed(p, s, epoch_changed);
        if (p->observer)
            p->observer(p->observer_data, s);
    }
    p->applying_leader = false;
    return p->leader;
}

void proxy_set_observer(struct proxy *p, void (*fn)(void *data, const struct leader_snapshot *s),
                        void *data)
{
    p->observer = fn;
    p->observer_data = data;
    if (fn && p->leader)
        fn(data, p->leader);
}

static void on_leader_event(struct loop_io *io, uint32_t events)
{
    struct proxy *p = io->data;
    uint64_t count;

    if (read(io->fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        log_warning("cannot read the leader eventfd: %m");
    proxy_leader(p);
}

/* --- running libmicrohttpd ----------------------------------------------- */

void proxy_kick(struct proxy *p)
{
    p->mhd_kick = true;
}

static void run_mhd(struct proxy *p)
{
    MHD_UNSIGNED_LONG_LONG timeout;

    p->mhd_kick = false;
    if (MHD_run(p->mhd) != MHD_YES) {
        p->unhealthy = true;
        log_ratelimited(&mhd_limit, LOG_WARNING, "libmicrohttpd reported an internal error");
    }
    if (MHD_get_timeout(p->mhd, &timeout) == MHD_YES)
        loop_timer_arm_ms(p->loop, &p->mhd_timer, timeout);
    else
        loop_timer_cancel(p->loop, &p->mhd_timer);
}

static void on_mhd_event(struct loop_io *io, uint32_t events)
{
    run_mhd(io->data);
}

static void on_mhd_timer(struct loop_timer *timer)
{
    run_mhd(timer->data);
}

static void after_iteration(void *data)
{
    struct proxy *p = data;

    if (p->mhd_kick)
        run_mhd(p);
}

/* --- libmicrohttpd callbacks --------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    return exchange_new(cls, uri);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    return exchange_on_access(*req_cls, conn, url, method, version, upload_data, upload_data_size);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    if (*req_cls)
        exchange_on_completed(*req_cls, toe);
    *req_cls = NULL;
}

static uint64_t request_deadline(struct proxy *p)
{
    return loop_now_ns(p->loop) + (uint64_t)p->cfg.client_idle_timeout_s * 1000000000u;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct proxy *p = cls;
    struct client_conn *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        p->metrics.connections_open++;
        p->metrics.connections_total++;
        c = xnew(struct client_conn);
        c->conn = conn;
        c->deadline_ns = request_deadline(p);
        c->next = p->conns;
        if (p->conns)
            p->conns->prev = c;
        p->conns = c;
        *socket_context = c;
        return;
    }
    if (p->metrics.connections_open > 0)
        p->metrics.connections_open--;
    p->closed_since_trim++;
    if (!c)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    *socket_context = NULL;
}

void proxy_conn_busy(struct proxy *p, struct MHD_Connection *conn, bool busy)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct client_conn *c = info ? info->socket_context : NULL;

    if (!c)
        return;
    c->busy = busy;
    if (!busy)
        c->deadline_ns = request_deadline(p);
}

/* Each connection has a memory pool of CONNECTION_MEMORY in the heap, freed
 * when it closes (or when its stream is taken over): after many, the freed
 * pages go back to the system instead of staying resident. At most twice a
 * second, and only after a wave of closes. */
static void trim_heap(struct proxy *p)
{
    if (p->closed_since_trim < TRIM_AFTER_CLOSED)
        return;
    p->closed_since_trim = 0;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* libmicrohttpd's idle timeout restarts with every byte, so a client that
 * trickles a request (slowloris) would hold its connection forever: each
 * request must arrive in full within the idle timeout instead. */
static void on_sweep_timer(struct loop_timer *timer)
{
    struct proxy *p = timer->data;
    uint64_t now = loop_now_ns(p->loop);

    for (struct client_conn *c = p->conns; c; c = c->next) {
        if (c->busy || now < c->deadline_ns)
            continue;
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info) {
            shutdown(info->connect_fd, SHUT_RDWR); /* libmicrohttpd closes it */
            p->metrics.connections_timed_out++;
            c->busy = true; /* once */
        }
    }
    proxy_kick(p);
    trim_heap(p);
    loop_timer_arm_ms(p->loop, timer, SWEEP_INTERVAL_MS);
}

/* Keeps the request target byte for byte: no percent-decoding of the path. */
static size_t no_unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
    return strlen(uri);
}

static void __attribute__((format(printf, 2, 0))) on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char text[512];
    size_t n;

    vsnprintf(text, sizeof(text), fmt, ap);
    n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    /* Connections we end on purpose (streams, clients that left) are routine. */
    if (strstr(text, "application error generating response") ||
        strstr(text, "Application reported internal error") || strstr(text, "Connection reset") ||
        strstr(text, "Broken pipe")) {
        log_debug("libmicrohttpd: %s", text);
        return;
    }
    log_ratelimited(&mhd_limit, LOG_INFO, "libmicrohttpd: %s", text);
}

/* --- lifetime ------------------------------------------------------------ */

static struct MHD_Daemon *start_mhd(struct proxy *p)
{
    unsigned int flags =
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG;

    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, p, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, p,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)p->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)(p->cfg.max_connections + CONNECTION_HEADROOM), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)p->cfg.client_idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_URI_LOG_CALLBACK, on_uri, p,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, p, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        p, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, p, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_END);
}

struct proxy *proxy_new(struct loop *loop, struct leader_store *store,
                        const struct proxy_config *cfg, int listen_fd, const char *listen_name)
{
    struct proxy *p = xnew(struct proxy);
    const union MHD_DaemonInfo *info;

    p->loop = loop;
    p->store = store;
    p->cfg = *cfg;
    p->listen_fd = listen_fd;
    p->listen_name = xstrdup(listen_name);
    p->upstream = upstream_new(loop, &cfg->upstream);
    if (!p->upstream)
        goto fail;
    p->mhd = start_mhd(p);
    if (!p->mhd) {
        log_error("cannot start the HTTP server on %s", listen_name);
        goto fail;
    }
    info = MHD_get_daemon_info(p->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || loop_io_add(loop, &p->mhd_io, info->epoll_fd, EPOLLIN, on_mhd_event, p) < 0) {
        log_error("cannot watch the HTTP server's epoll descriptor");
        goto fail;
    }
    if (loop_io_add(loop, &p->leader_io, leader_store_eventfd(store), EPOLLIN, on_leader_event, p) <
        0) {
        log_error("cannot watch the leader store");
        goto fail;
    }
    loop_timer_init(&p->mhd_timer, on_mhd_timer, p);
    loop_timer_init(&p->sweep_timer, on_sweep_timer, p);
    loop_timer_arm_ms(loop, &p->sweep_timer, SWEEP_INTERVAL_MS);
    loop_hook_add(loop, &p->after_hook, after_iteration, p);
    proxy_leader(p);
    p->mhd_kick = true;
    return p;
fail:
    proxy_free(p);
    return NULL;
}

void proxy_end_streams(struct proxy *p, const char *why)
{
    while (p->streams.head)
        exchange_end_stream(p->streams.head, why);
    if (p->mhd)
        run_mhd(p);
}

void proxy_free(struct proxy *p)
{
    if (!p)
        return;
    if (p->mhd) {
        proxy_end_streams(p, "the daemon is stopping");
        /* libmicrohttpd must not be stopped with suspended connections. */
        exchange_abort_all(p);
        for (int i = 0; i < 10 && p->all; i++)
            run_mhd(p);
        loop_io_remove(p->loop, &p->mhd_io);
        /* Stopping the daemon completes every request (freeing exchanges). */
        MHD_stop_daemon(p->mhd);
        exchange_free_detached(p);
    } else if (p->listen_fd >= 0) {
        close(p->listen_fd);
    }
    loop_io_remove(p->loop, &p->leader_io);
    loop_hook_remove(p->loop, &p->after_hook);
    loop_timer_cancel(p->loop, &p->mhd_timer);
    loop_timer_cancel(p->loop, &p->sweep_timer);
    upstream_free(p->upstream);
    leader_snapshot_unref(p->leader);
    free(p->listen_name);
    free(p);
}

void proxy_reconfigure(struct proxy *p, const struct proxy_config *cfg)
{
    p->cfg.max_body = cfg->max_body;
    p->cfg.stream_idle_timeout_ms = cfg->stream_idle_timeout_ms;
    p->cfg.upstream_timeout_ms = cfg->upstream_timeout_ms;
    p->cfg.retry_tries = cfg->retry_tries;
    p->cfg.retry_budget_ms = cfg->retry_budget_ms;
    p->cfg.max_connections = cfg->max_connections;
    p->cfg.upstream = cfg->upstream;
    upstream_set_config(p->upstream, &cfg->upstream);
}

void proxy_quiesce(struct proxy *p)
{
    MHD_socket fd = MHD_quiesce_daemon(p->mhd);

    p->draining = true;
    if (fd != MHD_INVALID_SOCKET) {
        close(fd);
        p->listen_fd = -1;
    }
    p->mhd_kick = true;
}

unsigned proxy_pending_calls(const struct proxy *p)
{
    return p->live - p->streams.count;
}

unsigned proxy_open_streams(const struct proxy *p)
{
    return p->streams.count;
}

bool proxy_healthy(struct proxy *p)
{
    bool ok = !p->unhealthy;

    p->unhealthy = false;
    return ok;
}

const struct metrics *proxy_metrics(const struct proxy *p)
{
    return &p->metrics;
}
