/* failover.c: how fast the tracker follows a change of leader (built as
 * bench/failover-probe, run by the script bench/failover).
 *
 * It starts nothing: the script starts ZooKeeper. With its own ZooKeeper
 * client it registers two masters (ephemeral sequential json.info_ znodes
 * holding MasterInfo JSON, as Mesos does) under the path of --zk, runs the
 * tracker in this process (as mesos-leaderd does), then --rounds times:
 *
 *   t0  just before a synchronous zoo_delete() of the leader's znode;
 *   t1  when zoo_delete() returned (the server has applied the deletion);
 *   t2  when this thread sees the store publish the other master as the
 *       known leader (woken by the store's condition variable);
 *
 * then registers a new master (the standby of the next round) and waits
 * until the tracker has read the new member list, so that rounds never
 * overlap. It prints the distribution of t2 - t1 and t2 - t0, and of the
 * part of t2 - t1 until the next master is named (the children read, before
 * its data is read), in milliseconds, as "key=value" lines.
 *
 * With --rss SECS it only tracks the leader of --zk for SECS seconds (every
 * member read, as the daemon does) and prints its own resident set size. */
#include "config.h"

#include "benchutil.h"
#include "procstat.h"
#include "zkreg.h"
#include "base/errbuf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "zk/leader.h"
#include "zk/tracker.h"
#include "zk/zkurl.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define DEFAULT_ROUNDS    200
#define DEFAULT_WARMUP    20
#define MAX_ROUNDS        100000
#define CONNECT_WAIT_MS   15000
#define ROUND_WAIT_MS     15000
#define CLIENT_SESSION_MS 10000
#define FIRST_PORT        30000

struct options {
    const char *zk;
    unsigned long rounds;
    unsigned long warmup;      /* rounds first run and not counted */
    unsigned long rss_seconds; /* 0: measure failover */
};

/* One registered master. */
struct master {
    char name[128]; /* "json.info_0000000007" */
    char address[32];
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: failover-probe --zk zk://HOSTS/PATH [--rounds N] [--warmup N]\n"
                 "       failover-probe --zk zk://HOSTS/PATH --rss SECS\n"
                 "Measures how fast the tracker follows a leader change (see bench/failover).\n");
}

static int parse_ulong(const char *text, unsigned long max, unsigned long *ret)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v == 0 || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"zk", required_argument, NULL, 'z'},     {"rounds", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'}, {"rss", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;

    *o = (struct options){.rounds = DEFAULT_ROUNDS, .warmup = DEFAULT_WARMUP};
    while ((c = getopt_long(argc, argv, "z:n:w:r:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'z':
            o->zk = optarg;
            break;
        case 'n':
            if (parse_ulong(optarg, MAX_ROUNDS, &o->rounds) < 0) {
                fprintf(stderr, "failover-probe: --rounds '%s' is not 1..%d\n", optarg, MAX_ROUNDS);
                return -EINVAL;
            }
            break;
        case 'w':
            if (strcmp(optarg, "0") == 0) {
                o->warmup = 0;
            } else if (parse_ulong(optarg, MAX_ROUNDS, &o->warmup) < 0) {
                fprintf(stderr, "failover-probe: --warmup '%s' is not 0..%d\n", optarg, MAX_ROUNDS);
                return -EINVAL;
            }
            break;
        case 'r':
            if (parse_ulong(optarg, 3600, &o->rss_seconds) < 0) {
                fprintf(stderr, "failover-probe: --rss '%s' is not 1..3600 seconds\n", optarg);
                return -EINVAL;
            }
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_SUCCESS);
        default:
            usage(stderr);
            return -EINVAL;
        }
    }
    if (!o->zk || optind < argc) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Our ZooKeeper client: registering masters
 * ------------------------------------------------------------------------- */

/* Registers master number @k as Mesos does; fills @m. */
static int register_master(zhandle_t *zh, const char *path, unsigned k, struct master *m,
                           struct errbuf *err)
{
    unsigned port = FIRST_PORT + k % 30000;
    char id[32], created[512];
    char *json;
    int rc;

    snprintf(id, sizeof(id), "failover-%u", k);
    json = zkreg_master_json(id, "127.0.0.1", port, "1.11.0");
    rc = zkreg_create_member(zh, path, json, created, sizeof(created), err);
    free(json);
    if (rc < 0)
        return rc;
    snprintf(m->name, sizeof(m->name), "%s", zkreg_member_name(created));
    snprintf(m->address, sizeof(m->address), "127.0.0.1:%u", port);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Waiting for the store
 * ------------------------------------------------------------------------- */

/* Waits until the tracker names @m the known leader and has read @n members
 * (0: any number); returns a reference to that snapshot, or NULL on timeout. */
static const struct leader_snapshot *wait_leader(struct leader_store *store, const struct master *m,
                                                 size_t n, int timeout_ms)
{
    uint64_t deadline = time_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        const struct leader_snapshot *s = leader_store_get(store);
        uint64_t now = time_now_ms(), gen = s->generation;
        if (s->state == LEADER_KNOWN && s->session == ZK_SESSION_CONNECTED && s->znode &&
            strcmp(s->znode, m->name) == 0 && (n == 0 || (s->n_masters == n && s->settled)))
            return s;
        leader_snapshot_unref(s);
        if (now >= deadline)
            return NULL;
        leader_store_wait(store, gen, (int)(deadline - now));
    }
}

static void describe_current(struct leader_store *store)
{
    const struct leader_snapshot *s = leader_store_get(store);

    fprintf(stderr, "failover-probe: the tracker says: %s, session %s, leader znode %s%s%s\n",
            leader_state_name(s->state), zk_session_name(s->session), s->znode ? s->znode : "-",
            s->reason ? ", " : "", s->reason ? s->reason : "");
    leader_snapshot_unref(s);
}

/* ---------------------------------------------------------------------------
 * Figures
 * ------------------------------------------------------------------------- */

/* Prints the distribution of the @n values at @v (sorted here). */
static void print_stats(const char *key, double *v, size_t n)
{
    double p50 = bench_percentile(v, n, 50), sum = 0; /* sorts @v */

    for (size_t i = 0; i < n; i++)
        sum += v[i];
    printf("%s p50=%.3f p90=%.3f p99=%.3f max=%.3f min=%.3f mean=%.3f\n", key, p50,
           bench_percentile(v, n, 90), bench_percentile(v, n, 99), v[n - 1], v[0], sum / (double)n);
}

static double ms_between(uint64_t from_ns, uint64_t to_ns)
{
    return ((double)to_ns - (double)from_ns) / 1e6;
}

/* ---------------------------------------------------------------------------
 * The two modes
 * ------------------------------------------------------------------------- */

static int start_tracker(const struct zkurl *url, bool read_all, struct leader_store **ret_store,
                         struct tracker **ret)
{
    struct tracker_config cfg = {.url = url, .read_all = read_all};
    struct leader_store *store = leader_store_new();
    int r = tracker_start(&cfg, store, ret);

    if (r < 0) {
        leader_store_free(store);
        return r;
    }
    *ret_store = store;
    return 0;
}

/* The rounds; fills @notify (t2 - t1), @call (t2 - t0), @named (epoch start
 * - t1). */
static int run_rounds(zhandle_t *zh, const struct zkurl *url, struct leader_store *store,
                      struct master m[2], unsigned *next, unsigned long rounds, double *notify,
                      double *call, double *named)
{
    struct errbuf err = {{0}};
    char path[1024];

    for (unsigned long i = 0; i < rounds; i++) {
        const struct leader_snapshot *s;
        uint64_t t0, t1, t2;
        int rc;

        snprintf(path, sizeof(path), "%s/%s", url->path, m[0].name);
        t0 = time_now_ns();
        rc = zoo_delete(zh, path, -1);
        t1 = time_now_ns();
        if (rc != ZOK) {
            fprintf(stderr, "failover-probe: cannot delete '%s': %s\n", path, zerror(rc));
            return -EIO;
        }
        s = wait_leader(store, &m[1], 0, ROUND_WAIT_MS);
        t2 = time_now_ns();
        if (!s) {
            fprintf(stderr, "failover-probe: round %lu: '%s' not the leader after %d ms\n", i + 1,
                    m[1].name, ROUND_WAIT_MS);
            describe_current(store);
            return -ETIMEDOUT;
        }
        notify[i] = ms_between(t1, t2);
        call[i] = ms_between(t0, t2);
        named[i] = ms_between(t1, s->since_mono_ns);
        leader_snapshot_unref(s);

        /* The next round's standby; wait until the tracker has read it. */
        m[0] = m[1];
        if (register_master(zh, url->path, (*next)++, &m[1], &err) < 0) {
            fprintf(stderr, "failover-probe: %s\n", err.msg);
            return -EIO;
        }
        s = wait_leader(store, &m[0], 2, ROUND_WAIT_MS);
        if (!s) {
            fprintf(stderr, "failover-probe: round %lu: the new standby was never read\n", i + 1);
            describe_current(store);
            return -ETIMEDOUT;
        }
        leader_snapshot_unref(s);
    }
    return 0;
}

static int measure_failover(const struct options *o, const struct zkurl *url)
{
    zhandle_t *zh;
    struct master m[2];
    struct errbuf err = {{0}};
    struct leader_store *store = NULL;
    struct tracker *t = NULL;
    double *notify = xcalloc(o->rounds, sizeof(double));
    double *call = xcalloc(o->rounds, sizeof(double));
    double *named = xcalloc(o->rounds, sizeof(double));
    const struct leader_snapshot *s;
    unsigned next = 2;
    int r;

    zh = zkreg_connect(url->hosts, url->credentials, CLIENT_SESSION_MS, CONNECT_WAIT_MS, &err);
    r = zh ? zkreg_create_path(zh, url->path, &err) : -EIO;
    if (r == 0)
        r = register_master(zh, url->path, 0, &m[0], &err);
    if (r == 0)
        r = register_master(zh, url->path, 1, &m[1], &err);
    if (r < 0) {
        fprintf(stderr, "failover-probe: %s\n", err.msg);
        goto out;
    }
    r = start_tracker(url, false, &store, &t);
    if (r < 0)
        goto out;
    s = wait_leader(store, &m[0], 2, ROUND_WAIT_MS);
    if (!s) {
        fprintf(stderr, "failover-probe: the tracker never named '%s' the leader\n", m[0].name);
        describe_current(store);
        r = -ETIMEDOUT;
        goto out;
    }
    leader_snapshot_unref(s);
    /* Warm-up rounds (ZooKeeper's JIT, caches) go into the same arrays and
     * are overwritten by the counted ones. */
    for (unsigned long done = 0; r == 0 && done < o->warmup; done += o->rounds)
        r = run_rounds(zh, url, store, m, &next,
                       o->warmup - done < o->rounds ? o->warmup - done : o->rounds, notify, call,
                       named);
    if (r == 0)
        r = run_rounds(zh, url, store, m, &next, o->rounds, notify, call, named);
    if (r == 0) {
        printf("rounds=%lu warmup=%lu\n", o->rounds, o->warmup);
        print_stats("delete_returned_to_published_ms", notify, o->rounds);
        print_stats("delete_called_to_published_ms", call, o->rounds);
        print_stats("delete_returned_to_named_ms", named, o->rounds);
    }
out:
    tracker_stop(t);
    leader_store_free(store);
    if (zh)
        zookeeper_close(zh);
    free(notify);
    free(call);
    free(named);
    return r;
}

static int measure_rss(const struct options *o, const struct zkurl *url)
{
    uint64_t deadline = time_now_ms() + o->rss_seconds * 1000u;
    struct leader_store *store = NULL;
    struct tracker *t = NULL;
    const struct leader_snapshot *s;
    int r = start_tracker(url, true, &store, &t);

    if (r < 0)
        return r;
    for (;;) {
        uint64_t now = time_now_ms(), gen;
        s = leader_store_get(store);
        gen = s->generation;
        leader_snapshot_unref(s);
        if (now >= deadline)
            break;
        leader_store_wait(store, gen, (int)(deadline - now));
    }
    s = leader_store_get(store);
    printf("rss_kb=%ld state=%s leader=%s masters=%zu\n", proc_status_kb(getpid(), "VmRSS"),
           leader_state_name(s->state), s->state == LEADER_KNOWN ? s->address : "-", s->n_masters);
    r = s->state == LEADER_KNOWN ? 0 : -ENOENT;
    leader_snapshot_unref(s);
    tracker_stop(t);
    leader_store_free(store);
    return r;
}

int main(int argc, char **argv)
{
    struct options o;
    struct zkurl url = {0};
    struct errbuf err = {{0}};
    int r;

    if (parse_args(argc, argv, &o) < 0)
        return 2;
    /* Leader changes are logged at "notice": not 2 lines per round here. */
    log_init("failover-probe", LOG_WARNING);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    if (zkurl_parse(o.zk, &url, &err) < 0) {
        fprintf(stderr, "failover-probe: invalid ZooKeeper URL: %s\n", err.msg);
        return 2;
    }
    r = o.rss_seconds ? measure_rss(&o, &url) : measure_failover(&o, &url);
    zkurl_done(&url);
    if (fflush(stdout) != 0)
        r = -EIO;
    return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
