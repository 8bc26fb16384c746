/* fleet_worker.c: one process of simulated hosts for bench/fleet-run.
 *
 * "fleet-run --worker --zk URL --count K" starts K trackers (src/zk/tracker.h,
 * the daemon's own code: one ZooKeeper session and three threads each, as
 * in mesos-leaderd), each publishing into its own leader store, at --rate
 * per second. One thread watches every store's eventfd and keeps what
 * each tracker reports; the driver asks over stdin, one command a line, and the worker answers on
 * stdout:
 *
 *   mark ZNODE       forget the times seen; from now, note when each tracker
 *                    first reports ZNODE as the known leader   -> "ok"
 *   count ZNODE N    how many report ZNODE as the known leader, among N
 *                    registered masters, connected and settled  -> "count C"
 *   times            the times noted since "mark" (CLOCK_MONOTONIC ns, 0 if
 *                    not yet)                                 -> "times K t..."
 *   arm              from now, note when each tracker loses its session and
 *                    when it is back (connected, leader read)  -> "ok"
 *   lost             how many lost their session since "arm", how many are
 *                    back, how many saw it expire   -> "lost LOST BACK EXPIRED"
 *   storm            the same and the times noted since "arm"
 *                    -> "storm LOST BACK EXPIRED lost_ns back_ns ..." (pairs
 *                       for the trackers that lost their session)
 *   quit             stop every tracker (closing its session)  -> "bye"
 *
 * A tracker can publish several times before the watcher looks (a session
 * lost and regained quickly): after "arm", any new snapshot counts as a
 * loss, since nothing else makes a tracker publish while the masters stay
 * put. The driver compares the losses with the sessions the server had. */
#include "config.h"

#include "fleet.h"
#include "benchutil.h"
#include "base/errbuf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "zk/tracker.h"
#include "zk/zkurl.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define STDIN_KEY UINT32_MAX

/* One simulated host. */
struct host {
    struct leader_store *store;
    struct tracker *tracker;
    int efd;
    uint64_t seen_ns;          /* first reported the marked znode as the known leader */
    uint64_t armed_generation; /* the store's generation at "arm" */
    uint64_t lost_ns, back_ns;
    bool expired;
};

struct worker {
    struct host *hosts;
    unsigned long n;
    char mark[128];
    bool armed;
    int epfd;
};

struct worker_options {
    const char *zk;
    unsigned long count, rate, session_ms;
};

static int parse_worker_options(int argc, char **argv, struct worker_options *o)
{
    static const struct option longopts[] = {{"worker", no_argument, NULL, 'W'},
                                             {"zk", required_argument, NULL, 'z'},
                                             {"count", required_argument, NULL, 'c'},
                                             {"rate", required_argument, NULL, 'r'},
                                             {"session-timeout", required_argument, NULL, 's'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct worker_options){.rate = 500, .session_ms = 10000};
    optind = 1;
    while (rc == 0 && (ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'z')
            o->zk = optarg;
        else if (ch == 'c')
            rc = bench_parse_ulong(optarg, 100000, &o->count);
        else if (ch == 'r')
            rc = bench_parse_ulong(optarg, 1000000, &o->rate);
        else if (ch == 's')
            rc = bench_parse_ulong(optarg, 600000, &o->session_ms);
        else if (ch != 'W')
            rc = -EINVAL;
    }
    return rc == 0 && o->zk && o->count > 0 && o->rate > 0 ? 0 : -EINVAL;
}

/* Starts the trackers, paced at the rate; -errno when one cannot start. */
static int start_hosts(struct worker *w, const struct zkurl *url, const struct worker_options *o)
{
    struct tracker_config cfg = {.url = url, .session_timeout_ms = (int)o->session_ms};
    uint64_t t0 = time_now_ns(), period = 1000000000u / o->rate;

    for (unsigned long i = 0; i < w->n; i++) {
        struct host *h = &w->hosts[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        uint64_t at = t0 + i * period, now = time_now_ns();
        int r;

        if (at > now) {
            struct timespec ts = {(time_t)((at - now) / 1000000000u),
                                  (long)((at - now) % 1000000000u)};
            nanosleep(&ts, NULL);
        }
        h->store = leader_store_new();
        h->efd = leader_store_eventfd(h->store);
        r = tracker_start(&cfg, h->store, &h->tracker);
        if (r < 0) {
            fprintf(stderr, "fleet-worker: tracker %lu: %s\n", i, strerror(-r));
            return r;
        }
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, h->efd, &ev);
    }
    return 0;
}

/* Takes in what tracker @i publishes now. */
static void observe(struct worker *w, uint32_t i)
{
    struct host *h = &w->hosts[i];
    uint64_t count, now = time_now_ns();
    const struct leader_snapshot *s;
    bool connected, known;

    if (read(h->efd, &count, sizeof(count)) < 0) {
        /* Nothing new: the counter was reset already. */
    }
    s = leader_store_get(h->store);
    connected = s->session == ZK_SESSION_CONNECTED;
    known = s->state == LEADER_KNOWN && s->znode;
    if (known && h->seen_ns == 0 && strcmp(s->znode, w->mark) == 0)
        h->seen_ns = now;
    if (w->armed) {
        /* In a storm only the session makes a tracker publish: a new
         * snapshot means it was lost, even if it is back already. */
        if ((!connected || s->generation != h->armed_generation) && h->lost_ns == 0)
            h->lost_ns = now;
        if (h->lost_ns && !h->back_ns && connected && s->settled && known)
            h->back_ns = now;
        h->expired |= s->session == ZK_SESSION_EXPIRED;
    }
    leader_snapshot_unref(s);
}

/* How many report @znode with @n masters, connected and settled. */
static unsigned long count_at(struct worker *w, const char *znode, size_t n)
{
    unsigned long c = 0;

    for (unsigned long i = 0; i < w->n; i++) {
        const struct leader_snapshot *s = leader_store_get(w->hosts[i].store);
        c += s->state == LEADER_KNOWN && s->session == ZK_SESSION_CONNECTED && s->settled &&
             s->znode && strcmp(s->znode, znode) == 0 && s->n_masters == n;
        leader_snapshot_unref(s);
    }
    return c;
}

static void print_times(struct worker *w)
{
    printf("times %lu", w->n);
    for (unsigned long i = 0; i < w->n; i++)
        printf(" %llu", (unsigned long long)w->hosts[i].seen_ns);
    printf("\n");
}

static void print_storm(struct worker *w, bool times)
{
    unsigned long lost = 0, back = 0, expired = 0;

    for (unsigned long i = 0; i < w->n; i++) {
        lost += w->hosts[i].lost_ns != 0;
        back += w->hosts[i].back_ns != 0;
        expired += w->hosts[i].expired;
    }
    printf("%s %lu %lu %lu", times ? "storm" : "lost", lost, back, expired);
    for (unsigned long i = 0; times && i < w->n; i++) {
        if (w->hosts[i].lost_ns)
            printf(" %llu %llu", (unsigned long long)w->hosts[i].lost_ns,
                   (unsigned long long)w->hosts[i].back_ns);
    }
    printf("\n");
}

/* Runs one command line; returns false on "quit". */
static bool command(struct worker *w, char *line)
{
    char znode[128];
    unsigned long n;

    line[strcspn(line, "\n")] = '\0';
    if (sscanf(line, "mark %127s", znode) == 1) {
        snprintf(w->mark, sizeof(w->mark), "%s", znode);
        for (unsigned long i = 0; i < w->n; i++)
            w->hosts[i].seen_ns = 0;
        printf("ok\n");
    } else if (sscanf(line, "count %127s %lu", znode, &n) == 2) {
        printf("count %lu\n", count_at(w, znode, n));
    } else if (strcmp(line, "times") == 0) {
        print_times(w);
    } else if (strcmp(line, "arm") == 0) {
        for (unsigned long i = 0; i < w->n; i++) {
            const struct leader_snapshot *s = leader_store_get(w->hosts[i].store);
            w->hosts[i].armed_generation = s->generation;
            leader_snapshot_unref(s);
            w->hosts[i].lost_ns = w->hosts[i].back_ns = 0;
            w->hosts[i].expired = false;
        }
        w->armed = true;
        printf("ok\n");
    } else if (strcmp(line, "lost") == 0 || strcmp(line, "storm") == 0) {
        print_storm(w, strcmp(line, "storm") == 0);
    } else if (strcmp(line, "quit") == 0) {
        return false;
    } else {
        printf("error unknown command '%s'\n", line);
    }
    fflush(stdout);
    return true;
}

static void serve(struct worker *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = STDIN_KEY}, events[256];
    char line[512];

    epoll_ctl(w->epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
    for (;;) {
        int n = epoll_wait(w->epfd, events, 256, -1);
        for (int k = 0; k < n; k++) {
            if (events[k].data.u32 != STDIN_KEY) {
                observe(w, events[k].data.u32);
                continue;
            }
            if (!fgets(line, sizeof(line), stdin) || !command(w, line))
                return;
        }
    }
}

int worker_main(int argc, char **argv)
{
    struct worker_options o;
    struct worker w = {0};
    struct zkurl url = {0};
    struct errbuf err = {{0}};
    int r;

    if (parse_worker_options(argc, argv, &o) < 0 || zkurl_parse(o.zk, &url, &err) < 0) {
        fprintf(stderr, "fleet-worker: bad options %s\n", err.msg);
        return 2;
    }
    log_init("fleet-worker", LOG_WARNING);
    bench_raise_nofile();
    setvbuf(stdin, NULL, _IOLBF, 0);
    w.n = o.count;
    w.hosts = xcalloc(w.n, sizeof(*w.hosts));
    w.epfd = epoll_create1(EPOLL_CLOEXEC);
    r = start_hosts(&w, &url, &o);
    printf("started %lu %s\n", w.n, r == 0 ? "ok" : "failed");
    fflush(stdout);
    if (r == 0)
        serve(&w);
    for (unsigned long i = 0; i < w.n; i++) {
        tracker_stop(w.hosts[i].tracker);
        leader_store_free(w.hosts[i].store);
    }
    printf("bye\n");
    fflush(stdout);
    free(w.hosts);
    zkurl_done(&url);
    return r == 0 ? 0 : 1;
}
