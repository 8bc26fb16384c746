/* fleet.c: a fleet of mesos-leaderd on one ZooKeeper ensemble, simulated
 * (built as bench/fleet-run, run by the script bench/fleet).
 *
 * For each size N (--sizes), it starts a fresh three-node ensemble
 * (fleet_ens.c), registers two masters as Mesos does (MasterInfo JSON in
 * ephemeral sequential json.info_ znodes; the first leads), and measures
 * the ensemble alone for --idle seconds. Then it starts N trackers -- the
 * daemon's own ZooKeeper code, one session each -- in worker processes of
 * at most --per-worker trackers (fleet_worker.c; a process holds at most
 * 20,000 open files and each tracker takes four), at --rate sessions per
 * second in all, waits until every tracker knows the leader, and measures:
 *
 *   idle      the CPU time ZooKeeper (the three servers) and the trackers
 *             use per second over --idle seconds (session pings only);
 *   memory    each server's resident set and live Java heap (jcmd GC.run,
 *             GC.heap_info), against the ensemble alone;
 *   change    --rounds leader changes: t0 just before zoo_delete() of the
 *             leading master's znode; for each tracker, the first time it
 *             reports the standby as the known leader; p50, p99 and max over
 *             the trackers (then the deleted master registers again);
 *   restart   the follower with the most sessions is stopped (SIGTERM) and
 *             started again: when each of its sessions was lost and when it
 *             was back (connected to another server, leader read again),
 *             sessions expired (trackers and server logs);
 *   kill      the same after SIGKILL of the ensemble's leader: every session
 *             is lost until a new leader is elected.
 *
 * Prints one line per measurement as "what key=value ..." (times in ms). */
#include "config.h"

#include "fleet.h"
#include "benchutil.h"
#include "masterpair.h"
#include "procstat.h"
#include "zkreg.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define MAX_SIZES   8
#define MAX_WORKERS 64
#define PATH        "/fleet/mesos"
#define SETTLE_MS   180000 /* for every tracker to reach a state */
#define LINE_MAX_B  (4 << 20)

struct options {
    unsigned long sizes[MAX_SIZES];
    int n_sizes;
    unsigned long per_worker, rate, rounds, idle_s, heap_mb, session_ms, worker_nice;
    const char *dir;
};

struct worker {
    pid_t pid;
    FILE *in, *out;
    unsigned long count;
};

struct run {
    const struct options *o;
    unsigned long n;
    struct ens ens;
    struct worker w[MAX_WORKERS];
    int n_workers;
    struct master_pair pair; /* m1 and m2, on 10.0.0.1 and 10.0.0.2 */
    int leader;              /* index into pair.m of the leading master */
    char *line;
};

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "Usage: fleet-run --dir DIR [--sizes N,N,...] [--per-worker N] [--rate R]\n"
               "                 [--rounds N] [--idle S] [--heap MB] [--session-timeout MS]\n"
               "                 [--worker-nice N]\n"
               "Trackers (the daemon's ZooKeeper code) against a fresh 3-node ZooKeeper\n"
               "ensemble per size; see the top of bench/fleet.c.\n");
}

static int parse_sizes(char *text, struct options *o)
{
    for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
        if (o->n_sizes == MAX_SIZES || bench_parse_ulong(tok, 1000000, &o->sizes[o->n_sizes]) < 0 ||
            o->sizes[o->n_sizes] == 0)
            return -EINVAL;
        o->n_sizes++;
    }
    return o->n_sizes ? 0 : -EINVAL;
}

static int parse_option(int ch, char *arg, struct options *o)
{
    switch (ch) {
    case 'n':
        return parse_sizes(arg, o);
    case 'p':
        return bench_parse_ulong(arg, 4500, &o->per_worker);
    case 'r':
        return bench_parse_ulong(arg, 100000, &o->rate);
    case 'R':
        return bench_parse_ulong(arg, 1000, &o->rounds);
    case 'i':
        return bench_parse_ulong(arg, 3600, &o->idle_s);
    case 'H':
        return bench_parse_ulong(arg, 65536, &o->heap_mb);
    case 's':
        return bench_parse_ulong(arg, 600000, &o->session_ms);
    case 'N':
        return bench_parse_ulong(arg, 19, &o->worker_nice);
    case 'd':
        o->dir = arg;
        return 0;
    case 'h':
        usage(stdout);
        exit(0);
    default:
        return -EINVAL;
    }
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"sizes", required_argument, NULL, 'n'},
                                             {"per-worker", required_argument, NULL, 'p'},
                                             {"rate", required_argument, NULL, 'r'},
                                             {"rounds", required_argument, NULL, 'R'},
                                             {"idle", required_argument, NULL, 'i'},
                                             {"heap", required_argument, NULL, 'H'},
                                             {"dir", required_argument, NULL, 'd'},
                                             {"session-timeout", required_argument, NULL, 's'},
                                             {"worker-nice", required_argument, NULL, 'N'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct options){.per_worker = 2000,
                          .rate = 400,
                          .rounds = 5,
                          .idle_s = 20,
                          .heap_mb = 1024,
                          .session_ms = 10000,
                          .worker_nice = 10};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        rc = parse_option(ch, optarg, o);
    if (rc == 0 && o->n_sizes == 0)
        rc = parse_sizes((char[]){"100,1000"}, o);
    if (rc < 0 || !o->dir || o->per_worker == 0 || o->rate == 0) {
        usage(stderr);
        return -EINVAL;
    }
    return 0;
}

/* ---- statistics --------------------------------------------------------- */

/* A percentile as the lines print it: -1 for none. */
static double pct(double *v, size_t n, double p)
{
    return n ? bench_percentile(v, n, p) : -1;
}

static double ms_between(uint64_t from_ns, uint64_t to_ns)
{
    return ((double)to_ns - (double)from_ns) / 1e6;
}

/* ---- workers ------------------------------------------------------------ */

static int spawn_worker(struct run *r, struct worker *w, unsigned long count, unsigned long rate)
{
    int to[2], from[2];
    char count_s[32], rate_s[32], session_s[32], url[256], *log;

    snprintf(count_s, sizeof(count_s), "%lu", count);
    snprintf(rate_s, sizeof(rate_s), "%lu", rate ? rate : 1);
    snprintf(session_s, sizeof(session_s), "%lu", r->o->session_ms);
    snprintf(url, sizeof(url), "zk://%s%s", r->ens.connect, PATH);
    log = xasprintf("%s/%lu/worker%d.log", r->o->dir, r->n, r->n_workers);
    if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0)
        return -errno;
    w->count = count;
    w->pid = fork();
    if (w->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(to[0], 0);
        dup2(from[1], 1);
        dup2(fd, 2);
        /* ZooKeeper first: on a real fleet it does not share its CPUs. */
        if (nice((int)r->o->worker_nice) < 0) {
            /* Then at our own priority. */
        }
        execl("/proc/self/exe", "fleet-worker", "--worker", "--zk", url, "--count", count_s,
              "--rate", rate_s, "--session-timeout", session_s, (char *)NULL);
        _exit(127);
    }
    free(log);
    close(to[0]);
    close(from[1]);
    w->in = fdopen(to[1], "w");
    w->out = fdopen(from[0], "r");
    return w->pid < 0 ? -errno : 0;
}

/* Sends @cmd to every worker; their answers are read with answer(). */
static void tell_all(struct run *r, const char *cmd)
{
    for (int i = 0; i < r->n_workers; i++) {
        fprintf(r->w[i].in, "%s\n", cmd);
        fflush(r->w[i].in);
    }
}

/* Reads worker @i's next line into r->line; NULL when it has gone. */
static const char *answer(struct run *r, int i)
{
    if (!fgets(r->line, LINE_MAX_B, r->w[i].out)) {
        fprintf(stderr, "fleet: worker %d has gone (see %s/%lu/worker%d.log)\n", i, r->o->dir, r->n,
                i);
        exit(1);
    }
    return r->line;
}

/* Sends @cmd to all and adds up the first number of each answer (after its
 * first word), and the second and third into @ret2, @ret3 (may be NULL). */
static unsigned long sum_all(struct run *r, const char *cmd, unsigned long *ret2,
                             unsigned long *ret3)
{
    unsigned long total = 0, t2 = 0, t3 = 0;

    tell_all(r, cmd);
    for (int i = 0; i < r->n_workers; i++) {
        unsigned long a = 0, b = 0, c = 0;
        sscanf(answer(r, i), "%*s %lu %lu %lu", &a, &b, &c);
        total += a;
        t2 += b;
        t3 += c;
    }
    if (ret2)
        *ret2 = t2;
    if (ret3)
        *ret3 = t3;
    return total;
}

/* Waits until every tracker reports @znode leading @n masters. */
static int wait_all_at(struct run *r, const char *znode, int n)
{
    char cmd[300];
    uint64_t deadline = time_now_ms() + SETTLE_MS;
    unsigned long c = 0;

    snprintf(cmd, sizeof(cmd), "count %s %d", znode, n);
    while ((c = sum_all(r, cmd, NULL, NULL)) < r->n) {
        if (time_now_ms() > deadline) {
            fprintf(stderr, "fleet: only %lu of %lu trackers report '%s'\n", c, r->n, znode);
            return -ETIMEDOUT;
        }
        bench_sleep_ms(20);
    }
    return 0;
}

static int start_workers(struct run *r)
{
    unsigned long left = r->n;
    int n = (int)((r->n + r->o->per_worker - 1) / r->o->per_worker);

    if (n > MAX_WORKERS)
        return -E2BIG;
    for (int i = 0; i < n; i++) {
        unsigned long count = left / (unsigned long)(n - i);
        if (spawn_worker(r, &r->w[i], count, r->o->rate / (unsigned long)n) < 0)
            return -EIO;
        left -= count;
        r->n_workers++;
    }
    for (int i = 0; i < n; i++) {
        if (strncmp(answer(r, i), "started", 7) != 0 || !strstr(r->line, " ok")) {
            fprintf(stderr, "fleet: worker %d could not start its trackers\n", i);
            return -EIO;
        }
    }
    return 0;
}

static void stop_workers(struct run *r)
{
    tell_all(r, "quit");
    for (int i = 0; i < r->n_workers; i++) {
        while (fgets(r->line, LINE_MAX_B, r->w[i].out) && strncmp(r->line, "bye", 3) != 0)
            ;
        fclose(r->w[i].in);
        fclose(r->w[i].out);
        waitpid(r->w[i].pid, NULL, 0);
    }
    r->n_workers = 0;
}

static long workers_cpu_ms(const struct run *r)
{
    long total = 0;

    for (int i = 0; i < r->n_workers; i++)
        total += proc_cpu_ms(r->w[i].pid);
    return total;
}

/* ---- the masters in ZooKeeper ------------------------------------------- */

/* The znode's name within the group. */
static const char *base(const struct master *m)
{
    return zkreg_member_name(m->znode);
}

/* ---- measurements ------------------------------------------------------- */

static long ens_cpu_total(const struct run *r)
{
    long total = 0;

    for (int i = 0; i < ENS_NODES; i++)
        total += r->ens.pid[i] > 0 ? ens_cpu_ms(&r->ens, i) : 0;
    return total;
}

/* CPU ms per second of ZooKeeper and of the workers over --idle seconds. */
static void measure_idle(struct run *r, double *ret_zk, double *ret_workers)
{
    long zk0 = ens_cpu_total(r), w0 = workers_cpu_ms(r);
    uint64_t t0 = time_now_ms();

    bench_sleep_ms(r->o->idle_s * 1000);
    *ret_zk = (double)(ens_cpu_total(r) - zk0) * 1000.0 / (double)(time_now_ms() - t0);
    *ret_workers = (double)(workers_cpu_ms(r) - w0) * 1000.0 / (double)(time_now_ms() - t0);
}

static void measure_memory(struct run *r, long *heap_kb, long *rss_kb)
{
    for (int i = 0; i < ENS_NODES; i++) {
        heap_kb[i] = ens_heap_used_kb(&r->ens, i);
        rss_kb[i] = ens_rss_kb(&r->ens, i);
    }
}

/* The times the workers noted since "mark", as ms after @t0_ns. */
static size_t collect_times(struct run *r, uint64_t t0_ns, double *out, unsigned long *unseen)
{
    size_t n = 0;

    *unseen = 0;
    tell_all(r, "times");
    for (int i = 0; i < r->n_workers; i++) {
        char *p = (char *)answer(r, i) + 6, *end;
        unsigned long k = strtoul(p, &end, 10);
        for (unsigned long j = 0; j < k; j++) {
            unsigned long long t = strtoull(end, &end, 10);
            if (t == 0)
                (*unseen)++;
            else
                out[n++] = ms_between(t0_ns, t);
        }
    }
    return n;
}

/* Whether our own session (the masters') is connected to node @i. */
static bool driver_on_node(struct run *r, int i)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    return zookeeper_get_connected_host(r->pair.zh, (struct sockaddr *)&ss, &len) &&
           ss.ss_family == AF_INET &&
           ntohs(((struct sockaddr_in *)&ss)->sin_port) == r->ens.client_port[i];
}

/* The trackers connected to node @i. */
static int trackers_on_node(struct run *r, int i, char *mode, size_t size)
{
    int conns = -1;

    if (ens_mode(&r->ens, i, mode, size, &conns) < 0)
        return -1;
    return conns - (driver_on_node(r, i) ? 1 : 0);
}

/* Which node leads and how many trackers each serves. */
static void print_connections(struct run *r)
{
    printf("connections n=%lu", r->n);
    for (int i = 0; i < ENS_NODES; i++) {
        char mode[32] = "down";
        int conns = trackers_on_node(r, i, mode, sizeof(mode));
        printf(" node%d=%s:%d", i + 1, mode, conns);
    }
    printf("\n");
    fflush(stdout);
}

/* ---- leader changes ----------------------------------------------------- */

/* Deletes the leading master's znode; reports when each tracker knew the
 * standby; registers the deleted master again as the next standby. */
static int change_leader(struct run *r, unsigned long round, double *lat)
{
    int old = r->leader;
    const struct master *new = &r->pair.m[1 - old];
    char cmd[300];
    long zk0, w0;
    uint64_t t0, t1, t2;
    unsigned long unseen;
    size_t n;
    int rc;

    snprintf(cmd, sizeof(cmd), "mark %s", base(new));
    tell_all(r, cmd);
    for (int i = 0; i < r->n_workers; i++)
        answer(r, i);
    zk0 = ens_cpu_total(r);
    w0 = workers_cpu_ms(r);
    t0 = time_now_ns();
    rc = master_pair_delete(&r->pair, old);
    t1 = time_now_ns();
    if (rc < 0 || wait_all_at(r, base(new), 1) < 0)
        return -EIO;
    t2 = time_now_ns();
    n = collect_times(r, t0, lat, &unseen);
    printf("change n=%lu round=%lu delete_ms=%.1f p50_ms=%.1f p99_ms=%.1f max_ms=%.1f "
           "all_ms=%.1f unseen=%lu zk_cpu_ms=%ld trackers_cpu_ms=%ld\n",
           r->n, round, ms_between(t0, t1), pct(lat, n, 50), pct(lat, n, 99), pct(lat, n, 100),
           ms_between(t0, t2), unseen, ens_cpu_total(r) - zk0, workers_cpu_ms(r) - w0);
    fflush(stdout);
    r->leader = 1 - r->leader;
    if (master_pair_register(&r->pair, old) < 0)
        return -EIO;
    return wait_all_at(r, base(new), 2);
}

/* ---- reconnect storms --------------------------------------------------- */

/* The follower with the most trackers, and how many it has. */
static int busiest_follower(struct run *r, int *ret_conns)
{
    int best = -1, most = -1;

    for (int i = 0; i < ENS_NODES; i++) {
        char mode[32];
        int conns = trackers_on_node(r, i, mode, sizeof(mode));
        if (conns >= 0 && strcmp(mode, "follower") == 0 && conns > most) {
            best = i;
            most = conns;
        }
    }
    *ret_conns = most;
    return best;
}

/* How many lines of all server logs contain @needle. */
static long in_logs(struct run *r, const char *needle)
{
    long total = 0;

    for (int i = 0; i < ENS_NODES; i++)
        total += ens_log_count(&r->ens, i, needle);
    return total;
}

/* Server-side counts around a storm. */
struct storm_logs {
    long expired;     /* sessions ZooKeeper expired */
    long rejected;    /* connections refused for want of a quorum */
    long election_ms; /* how long the new leader's election took, or -1 */
};

static void storm_logs(struct run *r, struct storm_logs *ret)
{
    ret->expired = in_logs(r, "Expiring session");
    ret->rejected = in_logs(r, "ZooKeeperServer not running");
    ret->election_ms = -1;
}

/* The election that made the current leader, from its log. */
static long last_election_ms(struct run *r)
{
    for (int i = 0; i < ENS_NODES; i++) {
        char mode[32];
        if (ens_mode(&r->ens, i, mode, sizeof(mode), NULL) == 0 && strcmp(mode, "leader") == 0)
            return ens_last_election_ms(&r->ens, i);
    }
    return -1;
}

/* Waits until at least @expect trackers lost their session and all of
 * those are back; gives up after SETTLE_MS. */
static void wait_back(struct run *r, unsigned long expect)
{
    uint64_t deadline = time_now_ms() + SETTLE_MS;
    unsigned long lost, back;

    for (;;) {
        lost = sum_all(r, "lost", &back, NULL);
        if ((lost >= expect && back == lost) || time_now_ms() > deadline)
            return;
        bench_sleep_ms(20);
    }
}

/* " back_per_100ms=a,b,..": how many sessions came back in each 100 ms
 * from @from_ms on (the first loss); @v sorted. */
static void print_histogram(const double *v, size_t n, double from_ms)
{
    size_t i = 0;

    printf(" back_per_100ms=");
    for (int bucket = 0; i < n && bucket < 600; bucket++) {
        size_t count = 0;
        while (i < n && v[i] < from_ms + 100.0 * (bucket + 1)) {
            count++;
            i++;
        }
        printf("%s%zu", bucket ? "," : "", count);
    }
    printf("\n");
}

/* Reports the storm noted since "arm", times after @t0_ns. */
static void report_storm(struct run *r, const char *kind, int node, int conns, uint64_t t0_ns,
                         const struct storm_logs *logs, double *lost_ms, double *back_ms)
{
    unsigned long lost = 0, back = 0, expired = 0;
    size_t nl = 0, nb = 0;

    tell_all(r, "storm");
    for (int i = 0; i < r->n_workers; i++) {
        char *p = (char *)answer(r, i) + 6, *end;
        unsigned long l = strtoul(p, &end, 10);
        back += strtoul(end, &end, 10);
        expired += strtoul(end, &end, 10);
        lost += l;
        for (unsigned long j = 0; j < l; j++) {
            unsigned long long a = strtoull(end, &end, 10), b = strtoull(end, &end, 10);
            lost_ms[nl++] = ms_between(t0_ns, a);
            if (b)
                back_ms[nb++] = ms_between(t0_ns, b);
        }
    }
    printf(
        "storm n=%lu kind=%s session_timeout_ms=%lu node=%d sessions_on_node=%d lost=%lu back=%lu "
        "expired=%lu expired_in_server_logs=%ld refused_without_quorum=%ld election_ms=%ld "
        "lost_first_ms=%.1f lost_last_ms=%.1f back_first_ms=%.1f back_p10_ms=%.1f "
        "back_p50_ms=%.1f back_p90_ms=%.1f back_p99_ms=%.1f back_max_ms=%.1f",
        r->n, kind, r->o->session_ms, node + 1, conns, lost, back, expired, logs->expired,
        logs->rejected, logs->election_ms, pct(lost_ms, nl, 0), pct(lost_ms, nl, 100),
        pct(back_ms, nb, 0), pct(back_ms, nb, 10), pct(back_ms, nb, 50), pct(back_ms, nb, 90),
        pct(back_ms, nb, 99), pct(back_ms, nb, 100));
    print_histogram(back_ms, nb, pct(lost_ms, nl, 0));
    fflush(stdout);
}

/* Stops (restart) or kills (kill) a server, measures the storm, starts the
 * server again. */
static int storm(struct run *r, bool kill_leader, double *lost_ms, double *back_ms)
{
    int conns = (int)r->n,
        node = kill_leader ? ens_leader(&r->ens, 30000) : busiest_follower(r, &conns);
    struct storm_logs before, after;
    uint64_t t0;

    if (node < 0)
        return -EIO;
    storm_logs(r, &before);
    tell_all(r, "arm");
    for (int i = 0; i < r->n_workers; i++)
        answer(r, i);
    t0 = time_now_ns();
    ens_end_node(&r->ens, node, kill_leader ? SIGKILL : SIGTERM);
    wait_back(r, (unsigned long)(conns > 0 ? conns : 1));
    storm_logs(r, &after);
    after.expired -= before.expired;
    after.rejected -= before.rejected;
    after.election_ms = kill_leader ? last_election_ms(r) : -1;
    report_storm(r, kill_leader ? "kill-leader" : "restart-follower", node, conns, t0, &after,
                 lost_ms, back_ms);
    if (ens_start_node(&r->ens, node, 60000) < 0 || ens_leader(&r->ens, 60000) < 0)
        return -EIO;
    return wait_all_at(r, base(&r->pair.m[r->leader]), 2);
}

/* ---- one size ----------------------------------------------------------- */

static struct run *current_run; /* killed on a signal or an early exit */

static void kill_current_run(void)
{
    for (int i = 0; current_run && i < current_run->n_workers; i++)
        kill(current_run->w[i].pid, SIGKILL);
    for (int i = 0; current_run && i < ENS_NODES; i++) {
        if (current_run->ens.pid[i] > 0)
            kill(current_run->ens.pid[i], SIGKILL);
    }
}

static void on_signal(int sig)
{
    kill_current_run();
    _exit(128 + sig);
}

static void print_kb(const char *key, const long *kb)
{
    printf(" %s=%ld,%ld,%ld", key, kb[0], kb[1], kb[2]);
}

/* The ensemble alone, then with the trackers started: start, idle, memory. */
static int start_fleet(struct run *r)
{
    long heap0[ENS_NODES], rss0[ENS_NODES], heap[ENS_NODES], rss[ENS_NODES];
    double zk0, zk, trackers, none;
    uint64_t t0;

    measure_idle(r, &zk0, &none);
    measure_memory(r, heap0, rss0);
    t0 = time_now_ms();
    if (start_workers(r) < 0 || wait_all_at(r, base(&r->pair.m[0]), 2) < 0)
        return -EIO;
    printf("start n=%lu workers=%d seconds=%.1f\n", r->n, r->n_workers,
           (double)(time_now_ms() - t0) / 1000.0);
    print_connections(r);
    bench_sleep_ms(5000);
    measure_idle(r, &zk, &trackers);
    measure_memory(r, heap, rss);
    printf("idle n=%lu seconds=%lu zk_cpu_ms_per_s=%.2f zk_alone_cpu_ms_per_s=%.2f "
           "trackers_cpu_ms_per_s=%.2f\n",
           r->n, r->o->idle_s, zk, zk0, trackers);
    printf("memory n=%lu", r->n);
    print_kb("heap_kb", heap);
    print_kb("heap_alone_kb", heap0);
    print_kb("rss_kb", rss);
    print_kb("rss_alone_kb", rss0);
    printf("\n");
    fflush(stdout);
    return 0;
}

static int measure_fleet(struct run *r)
{
    double *a = xcalloc(r->n + 1, sizeof(double)), *b = xcalloc(r->n + 1, sizeof(double));
    int rc = 0;

    for (unsigned long i = 0; i < r->o->rounds && rc == 0; i++)
        rc = change_leader(r, i + 1, a);
    if (rc == 0)
        rc = storm(r, false, a, b);
    if (rc == 0)
        rc = storm(r, true, a, b);
    if (rc == 0)
        print_connections(r);
    free(a);
    free(b);
    return rc;
}

static int run_size(const struct options *o, unsigned long n, char *line)
{
    struct run r = {.o = o, .n = n, .line = line};
    char *dir = xasprintf("%s/%lu", o->dir, n);
    int rc;

    mkdir(dir, 0755);
    current_run = &r;
    rc = ens_start(&r.ens, dir, (int)o->heap_mb);
    r.pair = (struct master_pair){.prog = "fleet", .path = PATH};
    r.pair.m[0] =
        (struct master){.id = "m1", .json = zkreg_master_json("m1", "10.0.0.1", 5050, "1.11.0")};
    r.pair.m[1] =
        (struct master){.id = "m2", .json = zkreg_master_json("m2", "10.0.0.2", 5050, "1.11.0")};
    zoo_set_debug_level((ZooLogLevel)0); /* its reconnects are no news here */
    if (rc == 0)
        rc = master_pair_start(&r.pair, r.ens.connect, 30000, 30000);
    if (rc == 0)
        rc = start_fleet(&r);
    if (rc == 0)
        rc = measure_fleet(&r);
    if (r.n_workers)
        stop_workers(&r);
    master_pair_done(&r.pair);
    ens_stop(&r.ens);
    current_run = NULL;
    free(dir);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    char *line;
    int rc = 0;

    if (argc > 1 && strcmp(argv[1], "--worker") == 0)
        return worker_main(argc, argv);
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    atexit(kill_current_run);
    bench_raise_nofile();
    srandom((unsigned)getpid());
    line = xmalloc(LINE_MAX_B);
    for (int i = 0; i < o.n_sizes && rc == 0; i++)
        rc = run_size(&o, o.sizes[i], line);
    free(line);
    return rc == 0 ? 0 : 1;
}
