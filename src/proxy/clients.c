/* clients.c: accepting client connections within the descriptors there
 * are, counting each once, and closing the ones too slow to send a request
 * (see clients.h). */
#include "config.h"

#include "proxy/clients.h"
#include "base/fdlimit.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH      256 /* accepted per wake-up, so that others get a turn */
#define SWEEP_INTERVAL_MS 500 /* how often slow connections are looked for */
#define BACKOFF_MIN_MS    50  /* accept() out of descriptors: first pause */
#define BACKOFF_MAX_MS    1000
#define TRIM_AFTER_CLOSED 256 /* connections gone before the heap is trimmed */

struct clients {
    struct loop *loop;
    struct metrics *m;
    struct clients_limits lim;
    int listen_fd;
    struct loop_io listen_io;
    bool accepting; /* the listener is watched */
    bool stopped;   /* for good (quiesced) */
    bool backing_off;
    uint64_t backoff_ms;
    struct loop_timer backoff_timer;
    struct loop_timer sweep_timer;
    struct list_node node; /* in listeners */
    unsigned over_cap;     /* connections accepted only to be answered 503 */
    struct list all;       /* struct client, by node */
    struct list idle;      /* not busy, oldest deadline first */
    unsigned closed_since_trim;
    clients_accept_fn on_accept;
    void *data;
};

static struct log_ratelimit accept_limit = LOG_RATELIMIT_INIT(60000, 5);

/* --- limits --------------------------------------------------------------- */

static uint64_t open_files_limit(const struct clients_limits *lim)
{
    struct rlimit rl;

    if (lim->open_files_limit)
        return lim->open_files_limit;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1u << 20;
    return rl.rlim_cur;
}

/* Descriptors are the process's, whichever listener (cluster) a connection
 * came to: so are the count of connections that may hold them and the list
 * of listeners the reserve is kept for. Only the loop's thread uses them. */
static struct list listeners = {{&listeners.head, &listeners.head}, 0};
static unsigned process_connections;

/* Connections that the descriptors allow to be served, every listener's. */
static uint64_t fd_capacity(const struct clients *cs)
{
    return fdlimit_max_connections(cs->lim.open_files_limit, listeners.count);
}

/* Whether a connection accepted now is served (not answered 503). */
static bool may_serve(const struct clients *cs)
{
    return cs->all.count < cs->lim.max_connections && process_connections < fd_capacity(cs);
}

/* Whether another connection may be accepted: one to serve, or one of a few
 * per listener that get only a 503 or the daemon's own endpoints (one
 * descriptor each, no upstream): CLIENTS_HEADROOM past max-connections, and
 * CLIENTS_FD_HEADROOM (out of the listener's reserve) past what descriptors
 * allow. Each listener has its own few, so that another cluster's clients
 * never keep it from answering. */
static bool may_accept(const struct clients *cs)
{
    bool fds_short = process_connections >= fd_capacity(cs);

    return may_serve(cs) || cs->over_cap < (fds_short ? CLIENTS_FD_HEADROOM : CLIENTS_HEADROOM);
}

/* --- accepting ------------------------------------------------------------ */

static void on_listen(struct loop_io *io, uint32_t events);

static void set_accepting(struct clients *cs, bool on)
{
    if (cs->stopped || cs->listen_fd < 0 || on == cs->accepting)
        return;
    if (on && loop_io_add(cs->loop, &cs->listen_io, cs->listen_fd, EPOLLIN, on_listen, cs) < 0) {
        log_warning("cannot watch the listening socket: %m");
        return;
    }
    if (!on)
        loop_io_remove(cs->loop, &cs->listen_io);
    cs->accepting = on;
}

/* Accepts again if there is room and no backoff runs. */
static void maybe_resume(struct clients *cs)
{
    if (!cs->backing_off && may_accept(cs))
        set_accepting(cs, true);
}

/* A connection closed, or a listener went: any listener may have room. */
static void resume_all(void)
{
    struct list_node *n, *tmp;

    list_for_each_safe (n, tmp, &listeners)
        maybe_resume(list_entry(n, struct clients, node));
}

static void on_backoff_over(struct loop_timer *timer)
{
    struct clients *cs = timer->data;

    cs->backing_off = false;
    maybe_resume(cs);
}

/* accept() ran out of descriptors (or memory): wait, then try again. */
static void back_off(struct clients *cs, int err)
{
    cs->backoff_ms = cs->backoff_ms ? cs->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (cs->backoff_ms > BACKOFF_MAX_MS)
        cs->backoff_ms = BACKOFF_MAX_MS;
    log_ratelimited(&accept_limit, LOG_WARNING,
                    "cannot accept connections (%s): pausing %llu ms, %u connections open",
                    strerror(err), (unsigned long long)cs->backoff_ms, cs->all.count);
    cs->m->accept_pauses++;
    cs->backing_off = true;
    set_accepting(cs, false);
    loop_timer_arm_ms(cs->loop, &cs->backoff_timer, cs->backoff_ms);
}

static void track(struct clients *cs, struct client *c)
{
    list_push_back(&cs->all, &c->node);
    process_connections++;
    c->deadline_ns = loop_now_ns(cs->loop) + cs->lim.idle_timeout_ms * 1000000u;
    list_push_back(&cs->idle, &c->idle_node);
}

static bool accept_one(struct clients *cs)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    int fd = accept4(cs->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct client *c;

    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            back_off(cs, errno);
        return errno == EINTR || errno == ECONNABORTED || errno == EPROTO;
    }
    cs->backoff_ms = 0;
    c = xnew(struct client);
    c->owner = cs;
    c->fd = fd;
    c->over_cap = !may_serve(cs);
    cs->over_cap += c->over_cap;
    track(cs, c);
    cs->m->connections_total++;
    cs->on_accept(cs->data, c, (struct sockaddr *)&sa, len);
    return true;
}

static void on_listen(struct loop_io *io, uint32_t events)
{
    struct clients *cs = io->data;

    for (int i = 0; i < ACCEPT_BATCH && cs->accepting; i++) {
        if (!may_accept(cs)) {
            set_accepting(cs, false);
            break;
        }
        if (!accept_one(cs))
            break;
    }
}

/* Each connection's request memory (libmicrohttpd's pool) is freed when it
 * closes or its stream is taken over: after a wave of those, the freed pages
 * go back to the system instead of staying resident. At most once per
 * sweep. */
static void trim_heap(struct clients *cs)
{
    if (cs->closed_since_trim < TRIM_AFTER_CLOSED)
        return;
    cs->closed_since_trim = 0;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* --- slow clients ---------------------------------------------------------- */

/* libmicrohttpd's idle timeout restarts with every byte, so a client that
 * trickles a request (slowloris) would hold its connection forever: each
 * request must arrive in full within the idle timeout instead. Deadlines
 * are set now + the timeout, so the idle list is in deadline order. Only a
 * socket libmicrohttpd still has is shut down: once it closed its
 * descriptor, the number may be another connection's. */
static void on_sweep(struct loop_timer *timer)
{
    struct clients *cs = timer->data;
    uint64_t now = loop_now_ns(cs->loop);
    struct list_node *n;

    while ((n = list_first(&cs->idle))) {
        struct client *c = list_entry(n, struct client, idle_node);
        if (c->deadline_ns > now)
            break;
        list_remove(&cs->idle, n); /* once */
        if (c->taken_over || !c->conn)
            continue;
        shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes it */
        cs->m->connections_timed_out++;
    }
    trim_heap(cs);
    loop_timer_arm_ms(cs->loop, timer, SWEEP_INTERVAL_MS);
}

void clients_set_busy(struct client *c, bool busy)
{
    struct clients *cs = c->owner;

    c->busy = busy;
    list_remove(&cs->idle, &c->idle_node);
    if (busy || c->taken_over)
        return;
    c->deadline_ns = loop_now_ns(cs->loop) + cs->lim.idle_timeout_ms * 1000000u;
    list_push_back(&cs->idle, &c->idle_node);
}

int clients_take_over(struct client *c)
{
    int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    c->taken_over = true;
    clients_set_busy(c, true);
    return fd;
}

void clients_release(struct client *c)
{
    struct clients *cs = c->owner;

    list_remove(&cs->all, &c->node);
    list_remove(&cs->idle, &c->idle_node);
    process_connections--;
    cs->over_cap -= c->over_cap;
    free(c);
    resume_all();
}

void clients_server_closed(struct client *c)
{
    c->conn = NULL;
    c->owner->closed_since_trim++;
    if (!c->taken_over)
        clients_release(c);
}

/* --- lifetime --------------------------------------------------------------- */

struct clients *clients_new(struct loop *loop, int listen_fd, const struct clients_limits *lim,
                            struct metrics *m, clients_accept_fn fn, void *data)
{
    struct clients *cs = xnew(struct clients);

    cs->loop = loop;
    cs->m = m;
    cs->lim = *lim;
    cs->lim.open_files_limit = open_files_limit(lim); /* once, not per connection */
    cs->listen_fd = listen_fd;
    cs->on_accept = fn;
    cs->data = data;
    list_init(&cs->all);
    list_init(&cs->idle);
    list_push_back(&listeners, &cs->node);
    loop_timer_init(&cs->backoff_timer, on_backoff_over, cs);
    loop_timer_init(&cs->sweep_timer, on_sweep, cs);
    loop_timer_arm_ms(loop, &cs->sweep_timer, SWEEP_INTERVAL_MS);
    maybe_resume(cs);
    return cs;
}

void clients_set_limits(struct clients *cs, const struct clients_limits *lim)
{
    cs->lim = *lim;
    cs->lim.open_files_limit = open_files_limit(lim);
    if (!may_accept(cs))
        set_accepting(cs, false);
    else
        maybe_resume(cs);
}

void clients_stop_accepting(struct clients *cs)
{
    set_accepting(cs, false);
    cs->stopped = true;
    loop_timer_cancel(cs->loop, &cs->backoff_timer);
    if (cs->listen_fd >= 0)
        close(cs->listen_fd);
    cs->listen_fd = -1;
}

void clients_free(struct clients *cs)
{
    struct list_node *n;

    if (!cs)
        return;
    clients_stop_accepting(cs);
    loop_timer_cancel(cs->loop, &cs->sweep_timer);
    while ((n = list_first(&cs->all))) {
        struct client *c = list_entry(n, struct client, node);
        list_remove(&cs->all, n);
        list_remove(&cs->idle, &c->idle_node);
        process_connections--;
        free(c);
    }
    list_remove(&listeners, &cs->node);
    free(cs);
    resume_all(); /* the reserve kept for it is free */
}

unsigned clients_count(const struct clients *cs)
{
    return cs->all.count;
}
