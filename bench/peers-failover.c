/* peers-failover.c: leader changes under load through mesos-leaderd (built
 * as bench/peers-failover, run by the script bench/peers).
 *
 * It starts nothing: the script starts ZooKeeper, two bench/backend
 * processes WITHOUT --zk (each with its own --id) and mesos-leaderd. This
 * program registers both backends as masters with its own ZooKeeper session
 * (MasterInfo JSON in ephemeral sequential json.info_ znodes, as Mesos does:
 * the first one leads), waits until --target answers GET --path with the
 * first master's id in the body, then keeps a steady stream of calls going
 * through --target (--rate calls/s spread over --connections keep-alive
 * connections, one blocking thread each) and, --warmup + --rounds times:
 *
 *   t0  just before a synchronous zoo_delete() of the leader's znode;
 *   tw  when its own child watch on the path fires (the notification the
 *       daemon waits for too; ZooKeeper sends it before the delete's answer);
 *   t1  when zoo_delete() returned: the znode has left ZooKeeper;
 *   tn  when the first call answered by the other master (its "id" in the
 *       body of /master/state) has been received;
 *
 * then registers the deleted master again (it is the standby now) and waits
 * until the daemon lists it with its address in /leaderd/v1/leader, so that
 * rounds never overlap. Calls answered by the old master after t1 ("stale")
 * and failed calls (status other than 200, broken connections) between t0
 * and tn are counted. Prints one "round ..." line per round and a "summary
 * ..." line, as key=value pairs; times in milliseconds (CLOCK_MONOTONIC). */
#include "config.h"

#include "benchutil.h"
#include "masterpair.h"
#include "zkreg.h"
#include "base/errbuf.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "zk/zkurl.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define MAX_ROUNDS      10000
#define MAX_CONNECTIONS 256
#define ID_MAX          64
#define ZK_SESSION_MS   10000
#define WAIT_MS         30000 /* for ZooKeeper, the daemon, a switch, the standby */
#define IO_TIMEOUT_S    15
#define MAX_RESPONSE    (8 << 20)

struct options {
    struct pair_args pair;
    const char *path;
    unsigned long rounds, warmup, connections, rate;
};

/* One leader change in progress, filled in by the load threads. */
struct change {
    bool active;
    const char *old_id, *new_id;
    uint64_t t0, tw, t1, tn;
    uint64_t stale, failed, calls, max_call_ns;
};

struct shared {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct options opt;
    atomic_bool stop;
    char last_id[ID_MAX];
    uint64_t calls, failed;
    struct change ch;
};

struct loader {
    struct shared *sh;
    unsigned index;
    pthread_t thread;
};

/* A parsed answer. */
struct answer {
    int status;
    bool close;
    char id[ID_MAX];
};

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: peers-failover --zk URL --target HOST:PORT --master ID=PORT --master "
            "ID=PORT [OPTIONS]\n"
            "Leader changes in ZooKeeper under a steady load of calls through mesos-leaderd.\n\n"
            "%s"
            "  --rounds N          measured leader changes (default 10)\n"
            "  --warmup N          leader changes first made and not counted (default 2)\n"
            "  --connections N     keep-alive connections carrying the calls (default 8)\n"
            "  --rate R            calls per second over all connections (default 4000)\n"
            "  --path PATH         the call, answered with the master's id (/master/state)\n"
            "  -h, --help          print this help\n",
            PAIR_ARGS_HELP);
}

static int parse_option(int ch, const char *arg, struct options *o)
{
    switch (ch) {
    case 'r':
        return bench_parse_ulong(arg, MAX_ROUNDS, &o->rounds);
    case 'w':
        return bench_parse_ulong(arg, MAX_ROUNDS, &o->warmup);
    case 'c':
        return bench_parse_ulong(arg, MAX_CONNECTIONS, &o->connections);
    case 'R':
        return bench_parse_ulong(arg, 1000000, &o->rate);
    case 'p':
        o->path = arg;
        return 0;
    case 'h':
        usage(stdout);
        exit(0);
    default:
        return pair_args_option(&o->pair, ch, arg);
    }
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"zk", required_argument, NULL, 'z'},     {"target", required_argument, NULL, 't'},
        {"master", required_argument, NULL, 'm'}, {"rounds", required_argument, NULL, 'r'},
        {"warmup", required_argument, NULL, 'w'}, {"connections", required_argument, NULL, 'c'},
        {"rate", required_argument, NULL, 'R'},   {"path", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct options){
        .path = "/master/state", .rounds = 10, .warmup = 2, .connections = 8, .rate = 4000};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        rc = parse_option(ch, optarg, o);
    if (rc == 0 && (optind != argc || !pair_args_complete(&o->pair) || o->rounds == 0 ||
                    o->connections == 0 || o->rate == 0))
        rc = -EINVAL;
    if (rc < 0)
        usage(stderr);
    return rc;
}

/* ---- HTTP over blocking sockets ---------------------------------------- */

static int connect_target(const struct sockaddr_in *sa)
{
    struct timeval tv = {IO_TIMEOUT_S, 0};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The id of the master that answered: the first "id" string of the body. */
static void find_id(const char *body, size_t len, char *id)
{
    const char *p = memmem(body, len < 4096 ? len : 4096, "\"id\":\"", 6);
    const char *q = p ? memchr(p + 6, '"', len - (size_t)(p + 6 - body)) : NULL;

    id[0] = '\0';
    if (q && (size_t)(q - p - 6) < ID_MAX) {
        memcpy(id, p + 6, (size_t)(q - p - 6));
        id[q - p - 6] = '\0';
    }
}

/* Whether @buf holds a whole response; then fills @a and the body bounds. */
static bool response_complete(const struct strbuf *buf, bool eof, struct answer *a,
                              size_t *ret_body, size_t *ret_body_len)
{
    const char *end = buf->len ? memmem(buf->data, buf->len, "\r\n\r\n", 4) : NULL;
    const char *v;
    size_t hlen, vlen, blen;

    if (!end)
        return false;
    hlen = (size_t)(end - buf->data) + 4;
    a->status = buf->len > 12 ? atoi(buf->data + 9) : 0;
    v = bench_header(buf->data, hlen, "Connection", &vlen);
    a->close = v && bench_contains_nocase(v, vlen, "close");
    if ((v = bench_header(buf->data, hlen, "Content-Length", &vlen)) != NULL) {
        blen = strtoul(v, NULL, 10);
        if (buf->len - hlen < blen)
            return false;
    } else if ((v = bench_header(buf->data, hlen, "Transfer-Encoding", &vlen)) != NULL) {
        blen = bench_chunked_length(buf->data + hlen, buf->len - hlen);
        if (blen == 0)
            return false;
    } else {
        if (!eof)
            return false;
        blen = buf->len - hlen;
        a->close = true;
    }
    *ret_body = hlen;
    *ret_body_len = blen;
    return true;
}

/* Sends @req on @fd and reads one whole response into @buf; 0 or -EIO. */
static int http_call(int fd, const char *req, struct strbuf *buf, struct answer *a)
{
    size_t body = 0, blen = 0;
    bool eof = false;

    strbuf_reset(buf);
    if (write_all(fd, req, strlen(req)) < 0)
        return -EIO;
    while (!response_complete(buf, eof, a, &body, &blen)) {
        ssize_t n;

        if (eof || buf->len > MAX_RESPONSE)
            return -EIO;
        strbuf_reserve(buf, 64 * 1024);
        n = recv(fd, buf->data + buf->len, buf->cap - buf->len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -EIO;
        eof = (n == 0);
        buf->len += (size_t)n;
        buf->data[buf->len] = '\0';
    }
    find_id(buf->data + body, blen, a->id);
    return 0;
}

/* One call on a new connection (closed after); 0 or a negative errno. */
static int call_once(const struct sockaddr_in *sa, const char *path, struct strbuf *buf,
                     struct answer *a)
{
    char req[512];
    int fd = connect_target(sa), rc;

    if (fd < 0)
        return fd;
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
             path);
    rc = http_call(fd, req, buf, a);
    close(fd);
    return rc;
}

/* ---- the load ----------------------------------------------------------- */

static void record(struct shared *sh, const struct answer *a, bool ok, uint64_t ts, uint64_t tr)
{
    struct change *c = &sh->ch;

    pthread_mutex_lock(&sh->lock);
    sh->calls++;
    ok = ok && a->status == 200;
    if (!ok)
        sh->failed++;
    else
        snprintf(sh->last_id, sizeof(sh->last_id), "%s", a->id);
    if (c->active && tr >= c->t0 && c->tn == 0) {
        c->calls++;
        if (tr - ts > c->max_call_ns)
            c->max_call_ns = tr - ts;
        if (!ok)
            c->failed++;
        else if (strcmp(a->id, c->new_id) == 0)
            c->tn = tr;
        else if (c->t1 && strcmp(a->id, c->old_id) == 0)
            c->stale++;
        pthread_cond_broadcast(&sh->cond);
    }
    pthread_mutex_unlock(&sh->lock);
}

static void sleep_until(uint64_t t_ns)
{
    struct timespec ts = {(time_t)(t_ns / 1000000000u), (long)(t_ns % 1000000000u)};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void *load_main(void *arg)
{
    struct loader *ld = arg;
    struct shared *sh = ld->sh;
    uint64_t period = sh->opt.connections * 1000000000u / sh->opt.rate;
    uint64_t next = time_now_ns() + period * ld->index / sh->opt.connections;
    struct strbuf buf = {0};
    char req[512];
    int fd = -1;

    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", sh->opt.path);
    while (!sh->stop) {
        struct answer a = {0};
        uint64_t ts, now = time_now_ns();
        bool ok;

        if (now < next)
            sleep_until(next);
        next = (now > next ? now : next) + period;
        if (fd < 0)
            fd = connect_target(&sh->opt.pair.target);
        ts = time_now_ns();
        ok = fd >= 0 && http_call(fd, req, &buf, &a) == 0;
        record(sh, &a, ok, ts, time_now_ns());
        if (fd >= 0 && (!ok || a.close)) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    strbuf_done(&buf);
    return NULL;
}

/* ---- waiting ------------------------------------------------------------ */

/* Waits on the condition for at most WAIT_MS in all; false on timeout. */
static bool cond_wait_deadline(struct shared *sh, const struct timespec *deadline)
{
    return pthread_cond_timedwait(&sh->cond, &sh->lock, deadline) != ETIMEDOUT;
}

/* ---- rounds ------------------------------------------------------------- */

/* Polls the target (every 10 ms, at most WAIT_MS) until GET @path answers
 * 200 and the body contains @needle (and, with @after, @after follows it
 * before the next '}'). */
static int wait_target(const struct options *o, const char *path, const char *needle,
                       const char *after)
{
    struct strbuf buf = {0};
    uint64_t deadline = time_now_ns() + (uint64_t)WAIT_MS * 1000000u;
    int rc = -ETIMEDOUT;

    while (time_now_ns() < deadline) {
        struct answer a = {0};

        if (call_once(&o->pair.target, path, &buf, &a) == 0 && a.status == 200) {
            const char *p = strstr(buf.data, needle);
            const char *brace = p ? strchr(p, '}') : NULL;
            const char *q = p && after ? strstr(p, after) : p;

            if (p && q && (!after || (brace && q < brace))) {
                rc = 0;
                break;
            }
        }
        sleep_until(time_now_ns() + 10000000u);
    }
    strbuf_done(&buf);
    return rc;
}

static int wait_standby_known(const struct options *o, const struct master *m)
{
    return wait_target(o, "/leaderd/v1/leader", zkreg_member_name(m->znode), "\"address\"");
}

static double ms(uint64_t a, uint64_t b)
{
    return ((double)a - (double)b) / 1e6;
}

struct run {
    struct shared *sh;
    struct master_pair pair;
    double *routed, *after_watch, *deleted;
    size_t n;
    uint64_t stale, failed, calls, max_call_ns, no_watch;
};

/* One leader change: deletes the znode of master @old, waits for a call
 * that the other answered. */
static int change_leader(struct run *r, int old, struct change *ret)
{
    struct shared *sh = r->sh;
    const struct master *from = &r->pair.m[old], *to = &r->pair.m[1 - old];
    struct timespec deadline;
    uint64_t t1;
    bool ok = true;
    int rc = master_pair_watch(&r->pair);

    if (rc < 0)
        return rc;
    pthread_mutex_lock(&sh->lock);
    sh->ch = (struct change){.active = true, .old_id = from->id, .new_id = to->id};
    sh->ch.t0 = time_now_ns();
    pthread_mutex_unlock(&sh->lock);
    rc = master_pair_delete(&r->pair, old);
    t1 = time_now_ns();
    pthread_mutex_lock(&sh->lock);
    sh->ch.t1 = t1;
    bench_deadline_in(&deadline, WAIT_MS);
    while (ok && rc == 0 && sh->ch.tn == 0)
        ok = cond_wait_deadline(sh, &deadline);
    sh->ch.active = false;
    sh->ch.tw = atomic_load(&r->pair.watch.fired_ns);
    *ret = sh->ch;
    pthread_mutex_unlock(&sh->lock);
    if (rc < 0)
        return rc;
    if (!ok) {
        fprintf(stderr, "peers-failover: no call answered by '%s' %d s after '%s' left\n", to->id,
                WAIT_MS / 1000, from->znode);
        return -ETIMEDOUT;
    }
    return 0;
}

static void report_round(struct run *r, unsigned long i, const struct change *c)
{
    bool warm = i < r->sh->opt.warmup;

    printf("round %lu warmup=%d from=%s to=%s delete_ms=%.3f watch_ms=%.3f routed_ms=%.3f "
           "after_watch_ms=%.3f stale=%llu failed=%llu calls=%llu max_call_ms=%.3f\n",
           i + 1, warm, c->old_id, c->new_id, ms(c->t1, c->t0), c->tw ? ms(c->tw, c->t0) : -1.0,
           ms(c->tn, c->t1), c->tw ? ms(c->tn, c->tw) : -1.0, (unsigned long long)c->stale,
           (unsigned long long)c->failed, (unsigned long long)c->calls,
           (double)c->max_call_ns / 1e6);
    fflush(stdout);
    if (warm)
        return;
    r->routed[r->n] = ms(c->tn, c->t1);
    r->deleted[r->n] = ms(c->t1, c->t0);
    r->after_watch[r->n] = c->tw ? ms(c->tn, c->tw) : r->routed[r->n];
    r->no_watch += c->tw == 0;
    r->n++;
    r->stale += c->stale;
    r->failed += c->failed;
    r->calls += c->calls;
    if (c->max_call_ns > r->max_call_ns)
        r->max_call_ns = c->max_call_ns;
}

static int run_rounds(struct run *r)
{
    const struct options *o = &r->sh->opt;
    int cur = 0;

    for (unsigned long i = 0; i < o->warmup + o->rounds; i++) {
        const struct master *standby = &r->pair.m[1 - cur];
        struct change c;
        int rc;

        if (wait_standby_known(o, standby) < 0) {
            fprintf(stderr, "peers-failover: the daemon does not list '%s' with an address\n",
                    standby->znode);
            return -ETIMEDOUT;
        }
        rc = change_leader(r, cur, &c);
        if (rc < 0)
            return rc;
        report_round(r, i, &c);
        rc = master_pair_register(&r->pair, cur); /* the standby of the next round */
        if (rc < 0)
            return rc;
        cur = 1 - cur;
    }
    return 0;
}

static void summarize(struct run *r)
{
    struct shared *sh = r->sh;
    size_t n = r->n;

    pthread_mutex_lock(&sh->lock);
    printf("summary rounds=%zu routed_p50_ms=%.3f routed_p90_ms=%.3f routed_max_ms=%.3f "
           "after_watch_p50_ms=%.3f after_watch_max_ms=%.3f delete_p50_ms=%.3f "
           "no_watch=%llu stale=%llu failed=%llu switch_calls=%llu max_call_ms=%.3f "
           "calls=%llu calls_failed=%llu connections=%lu rate=%lu\n",
           n, bench_percentile(r->routed, n, 50), bench_percentile(r->routed, n, 90),
           bench_percentile(r->routed, n, 100), bench_percentile(r->after_watch, n, 50),
           bench_percentile(r->after_watch, n, 100), bench_percentile(r->deleted, n, 50),
           (unsigned long long)r->no_watch, (unsigned long long)r->stale,
           (unsigned long long)r->failed, (unsigned long long)r->calls,
           (double)r->max_call_ns / 1e6, (unsigned long long)sh->calls,
           (unsigned long long)sh->failed, sh->opt.connections, sh->opt.rate);
    pthread_mutex_unlock(&sh->lock);
    fflush(stdout);
}

/* Connects, registers both masters (the first leads) and waits until the
 * target routes to the first. */
static int setup(struct run *r, const struct zkurl *u)
{
    const struct options *o = &r->sh->opt;
    char needle[MASTER_ID_MAX + 16];

    r->pair = (struct master_pair){.prog = "peers-failover", .path = u->path};
    master_pair_local(&r->pair, &o->pair);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    if (master_pair_start(&r->pair, u->hosts, ZK_SESSION_MS, WAIT_MS) < 0)
        return -EIO;
    printf("peers-failover registered leader=%s standby=%s\n", r->pair.m[0].znode,
           r->pair.m[1].znode);
    fflush(stdout);
    snprintf(needle, sizeof(needle), "\"id\":\"%s\"", o->pair.id[0]);
    if (wait_target(o, o->path, needle, NULL) < 0) {
        fprintf(stderr, "peers-failover: the target does not route to '%s'\n", o->pair.id[0]);
        return -ETIMEDOUT;
    }
    return 0;
}

static int start_load(struct shared *sh, struct loader *ld)
{
    for (unsigned i = 0; i < sh->opt.connections; i++) {
        ld[i] = (struct loader){.sh = sh, .index = i};
        if (pthread_create(&ld[i].thread, NULL, load_main, &ld[i]) != 0) {
            sh->stop = true;
            for (unsigned j = 0; j < i; j++)
                pthread_join(ld[j].thread, NULL);
            return -EAGAIN;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct shared sh;
    struct run r = {.sh = &sh};
    struct zkurl u = {0};
    struct errbuf err = {{0}};
    struct loader *ld;
    int rc;

    if (parse_options(argc, argv, &sh.opt) < 0)
        return 2;
    if (zkurl_parse(sh.opt.pair.zk, &u, &err) < 0) {
        fprintf(stderr, "peers-failover: %s\n", err.msg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.cond, NULL);
    r.routed = xcalloc(sh.opt.rounds, sizeof(double));
    r.after_watch = xcalloc(sh.opt.rounds, sizeof(double));
    r.deleted = xcalloc(sh.opt.rounds, sizeof(double));
    ld = xcalloc(sh.opt.connections, sizeof(*ld));
    rc = setup(&r, &u);
    if (rc == 0)
        rc = start_load(&sh, ld);
    if (rc == 0) {
        rc = run_rounds(&r);
        sh.stop = true;
        for (unsigned i = 0; i < sh.opt.connections; i++)
            pthread_join(ld[i].thread, NULL);
        if (rc == 0)
            summarize(&r);
    }
    master_pair_done(&r.pair); /* the ephemeral znodes go with the session */
    free(ld);
    free(r.routed);
    free(r.after_watch);
    free(r.deleted);
    zkurl_done(&u);
    return rc == 0 ? 0 : 1;
}
