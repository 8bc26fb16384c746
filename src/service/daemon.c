/* daemon.c: the service's life: start, ready, reload, drain, stop.
 *
 * Threads: the ZooKeeper tracker runs its own thread (plus libzookeeper's);
 * everything else runs in the event loop of the main thread. Signals are
 * blocked in every thread and read through a signalfd in the loop. */
#include "config.h"

#include "service/daemon.h"
#include "base/fdlimit.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "service/cluster.h"
#include "service/notify.h"

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
    struct cluster **clusters; /* one per cluster of cfg, in the same order */
    size_t n_clusters;
    int signal_fd;
    struct loop_io signal_io;
    struct loop_timer startup_timer;
    struct loop_timer watchdog_timer;
    struct loop_timer drain_timer;
    uint64_t watchdog_ms;
    uint64_t drain_deadline_ns;
    bool ready;
    bool stopping;
    char *last_status;
};

/* --- status and readiness ------------------------------------------------- */

/* STATUS=: the one cluster's status line, or one "NAME: status" per cluster. */
static void status_line(const struct daemon *d, struct strbuf *out)
{
    for (size_t i = 0; i < d->n_clusters; i++) {
        const struct cluster *c = d->clusters[i];
        if (i)
            strbuf_puts(out, "; ");
        if (*cluster_name(c))
            strbuf_printf(out, "%s: ", cluster_name(c));
        strbuf_puts(out, cluster_status(c));
    }
}

static bool every_cluster_led(const struct daemon *d)
{
    for (size_t i = 0; i < d->n_clusters; i++)
        if (!cluster_had_leader(d->clusters[i]))
            return false;
    return true;
}

static void become_ready(struct daemon *d, const char *status)
{
    struct strbuf where = {0};

    if (d->ready)
        return;
    d->ready = true;
    loop_timer_cancel(d->loop, &d->startup_timer);
    notify_ready(status);
    for (size_t i = 0; i < d->n_clusters; i++)
        strbuf_printf(&where, "%s%s", i ? ", " : "", cluster_listen_name(d->clusters[i]));
    log_notice("ready on %s: %s", where.data ? where.data : "nothing", status);
    strbuf_done(&where);
}

/* Called whenever a cluster's leader snapshot changes. */
static void on_leader(void *data, struct cluster *c, const struct leader_snapshot *s)
{
    struct daemon *d = data;
    struct strbuf line = {0};

    status_line(d, &line);
    /* No cluster (one being renamed stopped before its new name starts):
     * an empty line. */
    const char *text = line.data ? line.data : "";
    if (!d->last_status || strcmp(d->last_status, text) != 0) {
        if (d->ready)
            notify_status(text);
        free(d->last_status);
        d->last_status = xstrdup(text);
    }
    if (!d->stopping && d->n_clusters && every_cluster_led(d))
        become_ready(d, text);
    strbuf_done(&line);
}

static void on_startup_timer(struct loop_timer *timer)
{
    struct daemon *d = timer->data;

    log_warning("no leader within the startup wait%s; ready anyway, answering 503 until one is "
                "known",
                d->n_clusters > 1 ? " for every cluster" : "");
    become_ready(d, d->last_status ? d->last_status : "no leader yet");
}

static void on_watchdog_timer(struct loop_timer *timer)
{
    struct daemon *d = timer->data;
    bool healthy = true;

    /* Only a loop that runs and reports no internal trouble feeds the dog. */
    for (size_t i = 0; i < d->n_clusters; i++)
        healthy &= cluster_healthy(d->clusters[i]);
    if (healthy)
        notify_watchdog();
    loop_timer_arm_ms(d->loop, timer, d->watchdog_ms / 2);
}

static void log_cfg_warning(void *data, const char *msg)
{
    (void)data;
    log_warning("%s", msg);
}

/* --- clusters ------------------------------------------------------------- */

/* The running cluster named @name, or NULL. */
static struct cluster *running(const struct daemon *d, const char *name)
{
    for (size_t i = 0; i < d->n_clusters; i++)
        if (strcmp(cluster_name(d->clusters[i]), name) == 0)
            return d->clusters[i];
    return NULL;
}

static struct cluster *start_cluster(struct daemon *d, const struct cfg_cluster *cfg)
{
    struct errbuf err = {{0}};
    struct cluster *c = cluster_start(d->loop, cfg, on_leader, d, &err);
    char *url;

    if (!c) {
        log_error("%s%s%s%s", *cfg->name ? "cluster '" : "", cfg->name, *cfg->name ? "': " : "",
                  err.msg);
        return NULL;
    }
    url = zkurl_to_redacted(&cfg->zk_url);
    if (*cfg->name)
        log_notice("cluster '%s': listening on %s%s, following %s", cfg->name,
                   cluster_listen_name(c), cluster_activated(c) ? " (socket activation)" : "", url);
    else
        log_notice("mesos-leaderd %s listening on %s%s, following %s", PACKAGE_VERSION,
                   cluster_listen_name(c), cluster_activated(c) ? " (socket activation)" : "", url);
    free(url);
    return c;
}

/* Stops the clusters that @next does not have, and forgets them. */
static void stop_removed(struct daemon *d, const struct cfg *next)
{
    size_t kept = 0;

    for (size_t i = 0; i < d->n_clusters; i++) {
        struct cluster *c = d->clusters[i];
        if (cfg_find_cluster(next, cluster_name(c))) {
            d->clusters[kept++] = c;
            continue;
        }
        log_notice("cluster '%s' removed from the configuration: stopping it", cluster_name(c));
        cluster_stop(c);
    }
    d->n_clusters = kept;
}

/* Brings the clusters running in line with @next: removed ones stop first
 * (their calls in progress are answered, see proxy.h; a renamed cluster
 * frees its address for its new name), new ones start, changed ones take
 * their new settings, and those whose settings did not change are not
 * touched. */
static void apply_clusters(struct daemon *d, const struct cfg *next)
{
    struct cluster **now = xcalloc(next->n_clusters ? next->n_clusters : 1, sizeof(*now));
    size_t n = 0;

    stop_removed(d, next);
    for (size_t i = 0; i < next->n_clusters; i++) {
        const struct cfg_cluster *cfg = &next->clusters[i];
        struct cluster *c = running(d, cfg->name);
        if (!c)
            c = start_cluster(d, cfg);
        else if (cluster_changed(c, cfg))
            cluster_reconfigure(c, cfg);
        if (c)
            now[n++] = c;
    }
    free(d->clusters);
    d->clusters = now;
    d->n_clusters = n;
}

/* Raises the soft limit of open files to the hard one (once: it stays) and
 * warns when max-connections needs more than that (see fdlimit.h). */
static void check_open_files(const struct cfg *cfg)
{
    uint64_t before, limit, wanted = 0;
    unsigned clusters = (unsigned)cfg->n_clusters;
    int r = fdlimit_raise(&before, &limit);

    if (r < 0)
        log_warning("cannot raise the open files limit from %llu: %s", (unsigned long long)before,
                    strerror(-r));
    else if (limit != before)
        log_debug("raised the open files limit from %llu to %llu", (unsigned long long)before,
                  (unsigned long long)limit);
    for (size_t k = 0; k < cfg->n_clusters; k++)
        wanted += cfg->clusters[k].max_connections;
    if (wanted > fdlimit_max_connections(limit, clusters))
        log_warning("'max-connections' = %llu needs %llu open files (%d per connection and %llu), "
                    "but the limit is %llu: at most %llu connections can be served; raise "
                    "LimitNOFILE= (or ulimit -n) or lower max-connections",
                    (unsigned long long)wanted,
                    (unsigned long long)fdlimit_needed(wanted, clusters), FDLIMIT_PER_CONNECTION,
                    (unsigned long long)fdlimit_reserved(clusters), (unsigned long long)limit,
                    (unsigned long long)fdlimit_max_connections(limit, clusters));
}

/* --- reload --------------------------------------------------------------- */

static void reload(struct daemon *d)
{
    struct cfg next;
    enum cfg_action action;
    struct errbuf err = {{0}};

    notify_reloading();
    log_notice("reloading the configuration");
    if (cfg_load(d->argc, d->argv, &next, &action, &err) < 0) {
        log_error("configuration refused, keeping the old one: %s", err.msg);
        notify_ready(d->last_status ? d->last_status : "reload refused");
        return;
    }
    cfg_warn(&next, log_cfg_warning, NULL);
    log_set_max_priority(next.log_level);
    check_open_files(&next); /* clusters added or removed change what is kept */
    apply_clusters(d, &next);
    cfg_done(&d->cfg);
    d->cfg = next;
    notify_ready(d->last_status ? d->last_status : "reloaded");
    log_notice("configuration reloaded: %zu cluster%s", d->n_clusters,
               d->n_clusters == 1 ? "" : "s");
}

/* --- stopping ------------------------------------------------------------- */

static unsigned pending_calls(const struct daemon *d)
{
    unsigned n = 0;

    for (size_t i = 0; i < d->n_clusters; i++)
        n += cluster_pending_calls(d->clusters[i]);
    return n;
}

static void on_drain_timer(struct loop_timer *timer)
{
    struct daemon *d = timer->data;
    unsigned pending = pending_calls(d);

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
    unsigned streams = 0;

    if (d->stopping)
        return;
    d->stopping = true;
    for (size_t i = 0; i < d->n_clusters; i++)
        streams += cluster_open_streams(d->clusters[i]);
    log_notice("%s received: stopping (%u calls to finish, %u streams to end)", signame,
               pending_calls(d), streams);
    notify_stopping("stopping");
    for (size_t i = 0; i < d->n_clusters; i++)
        cluster_quiesce(d->clusters[i]);
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

static int start(struct daemon *d)
{
    int r;

    if ((r = setup_signals(d)) < 0) {
        log_error("cannot set up signal handling: %s", strerror(-r));
        return -1;
    }
    check_open_files(&d->cfg);
    d->loop = loop_new();
    if (!d->loop)
        return -1;
    loop_timer_init(&d->startup_timer, on_startup_timer, d);
    loop_timer_init(&d->watchdog_timer, on_watchdog_timer, d);
    loop_timer_init(&d->drain_timer, on_drain_timer, d);
    if (d->cfg.has_sections)
        log_notice("mesos-leaderd %s starting %zu cluster%s", PACKAGE_VERSION, d->cfg.n_clusters,
                   d->cfg.n_clusters == 1 ? "" : "s");
    apply_clusters(d, &d->cfg);
    if (d->n_clusters < d->cfg.n_clusters)
        return -1; /* a cluster could not start: logged */
    loop_io_add(d->loop, &d->signal_io, d->signal_fd, EPOLLIN, on_signal, d);
    loop_timer_arm_ms(d->loop, &d->startup_timer, d->cfg.startup_wait_ms);
    d->watchdog_ms = notify_watchdog_interval_ms();
    if (d->watchdog_ms > 0)
        loop_timer_arm_ms(d->loop, &d->watchdog_timer, d->watchdog_ms / 2);
    if (every_cluster_led(d))
        become_ready(d, d->last_status);
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
    for (size_t i = 0; i < d->n_clusters; i++)
        cluster_stop(d->clusters[i]);
    free(d->clusters);
    loop_free(d->loop);
    if (d->signal_fd >= 0)
        close(d->signal_fd);
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
