/* front.c: libmicrohttpd in epoll mode inside our loop, fed with the
 * connections clients.c accepts (see front.h). */
#include "config.h"

#include "proxy/front.h"
#include "base/log.h"
#include "base/mem.h"
#include "proxy/headers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

/* Per connection: the request's head, then the answer's head. Sized so that
 * the largest request head accepted and the largest answer head relayed
 * (HEADERS_BYTES_MAX each) fit together, with libmicrohttpd's own records of
 * the headers. An event stream gives it back once its head is out (see
 * stream.h). At most 32 KiB: larger pools cost libmicrohttpd an mmap() per
 * connection. */
#define CONNECTION_MEMORY (2u * HEADERS_BYTES_MAX + 8u * 1024u)

/* Connections are counted and limited by clients.c before they get here. */
#define MHD_CONNECTION_CAP 1000000u

_Static_assert(CONNECTION_MEMORY <= 32u * 1024u, "a connection's pool must stay malloc()ed");

struct front {
    struct loop *loop;
    struct MHD_Daemon *mhd;
    struct loop_io mhd_io;
    struct loop_timer mhd_timer;
    struct loop_hook hook;
    bool kick;             /* run libmicrohttpd at the end of this iteration */
    bool unhealthy;        /* an internal error happened since front_healthy() */
    struct client *adding; /* the connection MHD_add_connection() is given */
    int adding_fd;         /* its socket, while it is being added */
    bool add_released;     /* ... which libmicrohttpd started, then closed */
    const struct front_handlers *h;
    void *data;
};

static struct log_ratelimit mhd_limit = LOG_RATELIMIT_INIT(60000, 10);

/* --- running libmicrohttpd ----------------------------------------------- */

void front_run(struct front *f)
{
    MHD_UNSIGNED_LONG_LONG timeout;

    f->kick = false;
    if (MHD_run(f->mhd) != MHD_YES) {
        f->unhealthy = true;
        log_ratelimited(&mhd_limit, LOG_WARNING, "libmicrohttpd reported an internal error");
    }
    if (MHD_get_timeout(f->mhd, &timeout) == MHD_YES)
        loop_timer_arm_ms(f->loop, &f->mhd_timer, timeout);
    else
        loop_timer_cancel(f->loop, &f->mhd_timer);
}

void front_kick(struct front *f)
{
    f->kick = true;
}

static void on_mhd_event(struct loop_io *io, uint32_t events)
{
    front_run(io->data);
}

static void on_mhd_timer(struct loop_timer *timer)
{
    front_run(timer->data);
}

static void after_iteration(void *data)
{
    struct front *f = data;

    if (f->kick)
        front_run(f);
}

/* --- libmicrohttpd callbacks --------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct front *f = cls;

    return f->h->started(f->data, uri, conn);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    struct front *f = cls;

    return f->h->access(*req_cls, conn, url, method, version, upload_data, upload_data_size);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct front *f = cls;

    if (*req_cls)
        f->h->completed(*req_cls, toe);
    *req_cls = NULL;
}

/* A connection starts (inside front_add()) or its socket closes. A socket
 * taken over by a stream lives on: its owner releases the client. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct front *f = cls;
    struct client *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        c = f->adding;
        f->adding = NULL;
        if (c)
            c->conn = conn;
        *socket_context = c;
        return;
    }
    *socket_context = NULL;
    if (!c)
        return;
    if (c->fd == f->adding_fd && !c->taken_over)
        f->add_released = true;
    clients_server_closed(c);
}

struct client *front_client(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info ? info->socket_context : NULL;
}

bool front_add(struct front *f, struct client *c, const struct sockaddr *sa, socklen_t sa_len)
{
    enum MHD_Result r;

    f->adding = c;
    f->adding_fd = c->fd;
    f->add_released = false;
    r = MHD_add_connection(f->mhd, c->fd, sa, sa_len);
    f->adding = NULL;
    f->adding_fd = -1;
    if (r != MHD_YES) {
        log_ratelimited(&mhd_limit, LOG_WARNING, "libmicrohttpd refused a connection: %m");
        return f->add_released; /* started, then closed: already released */
    }
    f->kick = true;
    return true;
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

static struct MHD_Daemon *start_mhd(struct front *f, unsigned idle_timeout_s)
{
    unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
                         MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;

    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, f, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, f,
        MHD_OPTION_CONNECTION_LIMIT, MHD_CONNECTION_CAP, MHD_OPTION_CONNECTION_TIMEOUT,
        idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, f, MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, f, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
        f, MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
}

struct front *front_new(struct loop *loop, unsigned idle_timeout_s,
                        const struct front_handlers *handlers, void *data)
{
    struct front *f = xnew(struct front);
    const union MHD_DaemonInfo *info;

    f->loop = loop;
    f->adding_fd = -1;
    f->h = handlers;
    f->data = data;
    loop_timer_init(&f->mhd_timer, on_mhd_timer, f);
    f->mhd = start_mhd(f, idle_timeout_s);
    if (!f->mhd) {
        log_error("cannot start the HTTP server (libmicrohttpd)");
        goto fail;
    }
    info = MHD_get_daemon_info(f->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info || loop_io_add(loop, &f->mhd_io, info->epoll_fd, EPOLLIN, on_mhd_event, f) < 0) {
        log_error("cannot watch the HTTP server's epoll descriptor");
        goto fail;
    }
    loop_hook_add(loop, &f->hook, after_iteration, f);
    return f;
fail:
    front_free(f);
    return NULL;
}

bool front_healthy(struct front *f)
{
    bool ok = !f->unhealthy;

    f->unhealthy = false;
    return ok;
}

void front_free(struct front *f)
{
    if (!f)
        return;
    loop_hook_remove(f->loop, &f->hook);
    loop_io_remove(f->loop, &f->mhd_io);
    loop_timer_cancel(f->loop, &f->mhd_timer);
    if (f->mhd)
        MHD_stop_daemon(f->mhd); /* completes every request, closes every socket */
    free(f);
}
