/* daemon.c: the service's life: start, ready, reload, drain, stop.
 *
 * Threads: the ZooKeeper tracker runs its own thread (plus libzookeeper's);
 * everything else runs in the event loop of the main thread. Signals are
 * blocked in every thread and read through a signalfd in the loop. */
#include "config.h"

#include "service/daemon.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "proxy/proxy.h"
#include "service/fdlimit.h"
#include "service/listener.h"
#include "service/notify.h"
#include "zk/report.h"
#include "zk/tracker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define DRAIN_CHECK_MS 20

struct daemon {
    struct cfg cfg;
    int argc;
    char *const *argv;
    struct loop *loop;
    struct leader_store *store;
    struct tracker *tracker;
    struct proxy *proxy;
    char listen_name[300];
    int signal_fd;
    struct loop_io signal_io;
    struct loop_timer startup_timer;
    struct loop_timer watchdog_timer;
    struct loop_timer drain_timer;
    uint64_t watchdog_ms;
    uint64_t drain_deadline_ns;
    bool ready;
    bool stopping;
    struct cfg_cluster started; /* the cluster as started: what only a restart changes */
    char *last_status;
};

/* --- status and readiness ------------------------------------------------- */

static void status_line(const struct leader_snapshot *s, struct strbuf *out)
{
    report_summary(s, out);
    strbuf_printf(out, "; zookeeper %s", zk_session_name(s->session));
}

static void become_ready(struct daemon *d, const char *status)
{
    if (d->ready)
        return;
    d->ready = true;
    loop_timer_cancel(d->loop, &d->startup_timer);
    notify_ready(status);
    log_notice("ready on %s: %s", d->listen_name, status);
}

/* Called by the proxy whenever the snapshot changes. */
static void on_leader(void *data, const struct leader_snapshot *s)
{
    struct daemon *d = data;
    struct strbuf line = {0};

    status_line(s, &line);
    if (!d->last_status || strcmp(d->last_status, line.data) != 0) {
        if (d->ready)
            notify_status(line.data);
        free(d->last_status);
        d->last_status = xstrdup(line.data);
    }
    if (s->state == LEADER_KNOWN && !d->stopping)
        become_ready(d, line.data);
    strbuf_done(&line);
}

static void on_startup_timer(struct loop_timer *timer)
{
    struct daemon *d = timer->data;

    log_warning("no leader within the startup wait; ready anyway, answering 503 until one is "
                "known");
    become_ready(d, d->last_status ? d->last_status : "no leader yet");
}

static void on_watchdog_timer(struct loop_timer *timer)
{
    struct daemon *d = timer->data;

    /* Only a loop that runs and reports no internal trouble feeds the dog. */
    if (proxy_healthy(d->proxy))
        notify_watchdog();
    loop_timer_arm_ms(d->loop, timer, d->watchdog_ms / 2);
}

/* --- reload --------------------------------------------------------------- */

static void restart_tracker(struct daemon *d, const struct cfg_cluster *cfg)
{
    const struct leader_snapshot *seed = leader_store_get(d->store);
    struct tracker_config tc = {.url = &cfg->zk_url,
                                .session_timeout_ms = (int)cfg->zk_session_timeout_ms,
                                .read_all = true,
                                .seed = seed};

    tracker_stop(d->tracker);
    d->tracker = NULL;
    if (tracker_start(&tc, d->store, &d->tracker) < 0)
        log_error("cannot start tracking the new ZooKeeper URL");
    leader_snapshot_unref(seed);
}

static void log_cfg_warning(void *data, const char *msg)
{
    (void)data;
    log_warning("%s", msg);
}

/* Until the daemon serves several clusters, a configuration with sections
 * must name exactly one. */
static int check_one_cluster(const struct cfg *cfg, struct errbuf *err)
{
    if (cfg->n_clusters == 1)
        return 0;
    return errbuf_set(err, -ENOTSUP, "'%s' describes %zu clusters; this daemon serves one",
                      cfg->config_file, cfg->n_clusters);
}

static int load_next(struct daemon *d, struct cfg *ret, struct errbuf *err)
{
    enum cfg_action action;
    int r = cfg_load(d->argc, d->argv, ret, &action, err);

    if (r == 0 && (r = check_one_cluster(ret, err)) < 0)
        cfg_done(ret);
    return r;
}

static void reload(struct daemon *d)
{
    struct cfg next;
    struct cfg_cluster *c;
    struct errbuf err = {{0}};

    notify_reloading();
    log_notice("reloading the configuration");
    if (load_next(d, &next, &err) < 0) {
        log_error("configuration refused, keeping the old one: %s", err.msg);
        notify_ready(d->last_status ? d->last_status : "reload refused");
        return;
    }
    cfg_warn(&next, log_cfg_warning, NULL);
    log_set_max_priority(next.log_level);
    c = &next.clusters[0];
    /* Compared with what runs since the start, not with the last reload. */
    cfg_cluster_hold_restart(&d->started, c, log_cfg_warning, NULL);
    if (!zkurl_equal(&c->zk_url, &d->cfg.clusters[0].zk_url) ||
        c->zk_session_timeout_ms != d->cfg.clusters[0].zk_session_timeout_ms) {
        char *url = zkurl_to_redacted(&c->zk_url);
        log_notice("ZooKeeper settings changed; now tracking %s", url);
        free(url);
        restart_tracker(d, c);
    }
    cfg_done(&d->cfg);
    d->cfg = next;
    proxy_reconfigure(d->proxy, &d->cfg.clusters[0].proxy);
    notify_ready(d->last_status ? d->last_status : "reloaded");
    log_notice("configuration reloaded");
}

/* --- stopping ------------------------------------------------------------- */

static void on_drain_timer(struct loop_timer *timer)
{
    struct daemon *d = timer->data;
    unsigned pending = proxy_pending_calls(d->proxy);

    if (pending == 0 || loop_now_ns(d->loop) >= d->drain_deadline_ns) {
        if (pending > 0)
            log_warning("drain timeout: %u calls still unanswered get 503", pending);
        loop_stop(d->loop);
        return;
    }
    loop_timer_arm_ms(d->loop, timer, DRAIN_CHECK_MS);
}

static void begin_stop(struct daemon *d, const char *signame)
{
    if (d->stopping)
        return;
    d->stopping = true;
    log_notice("%s received: stopping (%u calls to finish, %u streams to end)", signame,
               proxy_pending_calls(d->proxy), proxy_open_streams(d->proxy));
    notify_stopping("stopping");
    proxy_quiesce(d->proxy);
    proxy_end_streams(d->proxy, "the daemon is stopping");
    d->drain_deadline_ns = loop_now_ns(d->loop) + d->cfg.drain_timeout_ms * 1000000u;
    loop_timer_arm_ms(d->loop, &d->drain_timer, 0);
}

/* As PID 1 of a container, orphans are ours to reap (we start none). */
static void reap_children(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

static void on_signal(struct loop_io *io, uint32_t events)
{
    struct daemon *d = io->data;
    struct signalfd_siginfo si;

    while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD)
            reap_children();
        else if (si.ssi_signo == SIGHUP && !d->stopping)
            reload(d);
        else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
            begin_stop(d, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
    }
}

/* --- setup ---------------------------------------------------------------- */

/* Blocks the signals we read through a signalfd, before any thread starts. */
static int setup_signals(struct daemon *d)
{
    sigset_t set;
    int r;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (getpid() == 1)
        sigaddset(&set, SIGCHLD);
    /* pthread_sigmask() returns its error; it does not set errno. */
    r = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (r != 0)
        return -r;
    d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return d->signal_fd < 0 ? -errno : 0;
}

/* Raises the soft limit of open files to the hard one and warns when
 * max-connections needs more than that (see fdlimit.h). */
static void check_open_files(const struct cfg *cfg)
{
    uint64_t before, limit, wanted = 0;
    int r = fdlimit_raise(&before, &limit);

    if (r < 0)
        log_warning("cannot raise the open files limit from %llu: %s", (unsigned long long)before,
                    strerror(-r));
    else if (limit != before)
        log_debug("raised the open files limit from %llu to %llu", (unsigned long long)before,
                  (unsigned long long)limit);
    for (size_t k = 0; k < cfg->n_clusters; k++)
        wanted += cfg->clusters[k].max_connections;
    if (wanted > fdlimit_max_connections(limit))
        log_warning("'max-connections' = %llu needs %llu open files (%d per connection and %d), "
                    "but the limit is %llu: at most %llu connections can be served; raise "
                    "LimitNOFILE= (or ulimit -n) or lower max-connections",
                    (unsigned long long)wanted, (unsigned long long)fdlimit_needed(wanted),
                    FDLIMIT_PER_CONNECTION, FDLIMIT_RESERVED, (unsigned long long)limit,
                    (unsigned long long)fdlimit_max_connections(limit));
}

static int start(struct daemon *d)
{
    struct cfg_cluster *c = &d->cfg.clusters[0];
    struct tracker_config tc = {
        .url = &c->zk_url, .session_timeout_ms = (int)c->zk_session_timeout_ms, .read_all = true};
    struct errbuf err = {{0}};
    int fd, r;

    if ((r = setup_signals(d)) < 0) {
        log_error("cannot set up signal handling: %s", strerror(-r));
        return -1;
    }
    if (check_one_cluster(&d->cfg, &err) < 0) {
        log_error("%s", err.msg);
        return -1;
    }
    check_open_files(&d->cfg);
    if (listener_open(c->listen, c->listen_mode, &fd, d->listen_name, sizeof(d->listen_name),
                      &err) < 0) {
        log_error("%s", err.msg);
        return -1;
    }
    cfg_cluster_copy(&d->started, c); /* what runs until a restart; its socket file goes at exit */
    d->loop = loop_new();
    d->store = leader_store_new();
    if (!d->loop || tracker_start(&tc, d->store, &d->tracker) < 0) {
        close(fd);
        return -1;
    }
    d->proxy = proxy_new(d->loop, d->store, &c->proxy, fd, d->listen_name);
    if (!d->proxy)
        return -1;
    loop_io_add(d->loop, &d->signal_io, d->signal_fd, EPOLLIN, on_signal, d);
    loop_timer_init(&d->startup_timer, on_startup_timer, d);
    loop_timer_init(&d->watchdog_timer, on_watchdog_timer, d);
    loop_timer_init(&d->drain_timer, on_drain_timer, d);
    loop_timer_arm_ms(d->loop, &d->startup_timer, d->cfg.startup_wait_ms);
    d->watchdog_ms = notify_watchdog_interval_ms();
    if (d->watchdog_ms > 0)
        loop_timer_arm_ms(d->loop, &d->watchdog_timer, d->watchdog_ms / 2);
    proxy_set_observer(d->proxy, on_leader, d);
    char *url = zkurl_to_redacted(&c->zk_url);
    log_notice("mesos-leaderd %s listening on %s%s, following %s", PACKAGE_VERSION, d->listen_name,
               listener_is_activated() ? " (socket activation)" : "", url);
    free(url);
    return 0;
}

static void teardown(struct daemon *d)
{
    if (d->loop) {
        loop_timer_cancel(d->loop, &d->startup_timer);
        loop_timer_cancel(d->loop, &d->watchdog_timer);
        loop_timer_cancel(d->loop, &d->drain_timer);
        loop_io_remove(d->loop, &d->signal_io);
    }
    proxy_free(d->proxy);
    tracker_stop(d->tracker); /* closes the ZooKeeper session */
    leader_store_free(d->store);
    loop_free(d->loop);
    if (d->signal_fd >= 0)
        close(d->signal_fd);
    if (d->started.listen)
        listener_cleanup(d->started.listen);
    cfg_cluster_done(&d->started);
    free(d->last_status);
    cfg_done(&d->cfg);
}

int daemon_run(struct cfg *cfg, int argc, char *const argv[])
{
    struct daemon d = {.cfg = *cfg, .argc = argc, .argv = argv, .signal_fd = -1};
    int status = EXIT_SUCCESS;

    memset(cfg, 0, sizeof(*cfg));
    cfg_warn(&d.cfg, log_cfg_warning, NULL);
    if (start(&d) < 0 || loop_run(d.loop) < 0)
        status = EXIT_FAILURE;
    if (status == EXIT_SUCCESS)
        log_notice("stopped");
    teardown(&d);
    return status;
}
