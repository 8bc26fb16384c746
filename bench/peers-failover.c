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
#include "base/errbuf.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "zk/masterinfo.h"
#include "zk/zkurl.h"

#include <arpa/inet.h>
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
    const char *zk, *path;
    struct sockaddr_in target;
    char ids[2][ID_MAX];
    unsigned long ports[2];
    int n_masters;
    unsigned long rounds, warmup, connections, rate;
};

struct master {
    const char *id;
    char *json;      /* MasterInfo */
    char znode[512]; /* full path of its current znode */
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
    int zk_state;
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
    fprintf(f, "Usage: peers-failover --zk URL --target HOST:PORT --master ID=PORT --master "
               "ID=PORT [OPTIONS]\n"
               "Leader changes in ZooKeeper under a steady load of calls through mesos-leaderd.\n\n"
               "  --zk URL            where to register the masters (zk://hosts/path)\n"
               "  --target HOST:PORT  mesos-leaderd following that path\n"
               "  --master ID=PORT    a bench/backend on 127.0.0.1:PORT started with --id ID\n"
               "                      (twice; the first one leads at the start)\n"
               "  --rounds N          measured leader changes (default 10)\n"
               "  --warmup N          leader changes first made and not counted (default 2)\n"
               "  --connections N     keep-alive connections carrying the calls (default 8)\n"
               "  --rate R            calls per second over all connections (default 4000)\n"
               "  --path PATH         the call, answered with the master's id (/master/state)\n"
               "  -h, --help          print this help\n");
}

static int parse_master(const char *arg, struct options *o)
{
    const char *eq = strchr(arg, '=');

    if (o->n_masters == 2 || !eq || eq == arg || (size_t)(eq - arg) >= ID_MAX ||
        bench_parse_ulong(eq + 1, 65535, &o->ports[o->n_masters]) < 0)
        return -EINVAL;
    memcpy(o->ids[o->n_masters], arg, (size_t)(eq - arg));
    o->ids[o->n_masters][eq - arg] = '\0';
    o->n_masters++;
    return 0;
}

static int parse_option(int ch, const char *arg, struct options *o, bool *have_target)
{
    switch (ch) {
    case 'z':
        o->zk = arg;
        return 0;
    case 't':
        *have_target = true;
        return bench_parse_target(arg, &o->target);
    case 'm':
        return parse_master(arg, o);
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
        return -EINVAL;
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
    bool have_target = false;
    int ch, rc = 0;

    *o = (struct options){
        .path = "/master/state", .rounds = 10, .warmup = 2, .connections = 8, .rate = 4000};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        rc = parse_option(ch, optarg, o, &have_target);
    if (rc == 0 &&
        (optind != argc || !o->zk || !have_target || o->n_masters != 2 || o->rounds == 0 ||
         o->connections == 0 || o->rate == 0 || strcmp(o->ids[0], o->ids[1]) == 0))
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

/* Length of a complete chunked body at @p, or 0 while it is incomplete
 * (trailers are not expected and not supported). */
static size_t chunked_length(const char *p, size_t len)
{
    size_t off = 0;

    for (;;) {
        const char *lf = memchr(p + off, '\n', len - off);
        char *end;
        unsigned long size;

        if (!lf)
            return 0;
        size = strtoul(p + off, &end, 16);
        off = (size_t)(lf - p) + 1;
        if (size == 0)
            return len - off >= 2 ? off + 2 : 0; /* the empty line after "0" */
        if (len - off < size + 2)
            return 0;
        off += size + 2;
    }
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
        blen = chunked_length(buf->data + hlen, buf->len - hlen);
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
            fd = connect_target(&sh->opt.target);
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

/* ---- ZooKeeper ---------------------------------------------------------- */

static void on_session(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct shared *sh = ctx;

    if (type != ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&sh->lock);
    sh->zk_state = state;
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
}

static void on_children(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct shared *sh = ctx;
    uint64_t now = time_now_ns();

    if (type != ZOO_CHILD_EVENT)
        return;
    pthread_mutex_lock(&sh->lock);
    if (sh->ch.active && sh->ch.tw == 0)
        sh->ch.tw = now;
    pthread_mutex_unlock(&sh->lock);
}

/* Waits on the condition for at most WAIT_MS in all; false on timeout. */
static bool cond_wait_deadline(struct shared *sh, const struct timespec *deadline)
{
    return pthread_cond_timedwait(&sh->cond, &sh->lock, deadline) != ETIMEDOUT;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static zhandle_t *zk_connect(struct shared *sh, const char *hosts)
{
    struct timespec deadline;
    zhandle_t *zh;
    bool ok = true;

    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    zh = zookeeper_init(hosts, on_session, ZK_SESSION_MS, NULL, sh, 0);
    if (!zh)
        return NULL;
    deadline_in(&deadline, WAIT_MS);
    pthread_mutex_lock(&sh->lock);
    while (ok && sh->zk_state != ZOO_CONNECTED_STATE)
        ok = cond_wait_deadline(sh, &deadline);
    pthread_mutex_unlock(&sh->lock);
    if (!ok) {
        zookeeper_close(zh);
        return NULL;
    }
    return zh;
}

/* Creates @path and its ancestors (persistent). */
static int zk_create_path(zhandle_t *zh, const char *path)
{
    char *p = xstrdup(path);
    int rc = ZOK;

    for (char *s = p + 1; *s && (rc == ZOK || rc == ZNODEEXISTS); s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        rc = zoo_create(zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        *s = '/';
    }
    if (rc == ZOK || rc == ZNODEEXISTS)
        rc = zoo_create(zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    free(p);
    return rc == ZOK || rc == ZNODEEXISTS ? 0 : -EIO;
}

static int zk_register(zhandle_t *zh, const char *path, struct master *m)
{
    char *node = xasprintf("%s/json.info_", path);
    int rc = zoo_create(zh, node, m->json, (int)strlen(m->json), &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_EPHEMERAL | ZOO_SEQUENCE, m->znode, (int)sizeof(m->znode));

    free(node);
    if (rc != ZOK) {
        fprintf(stderr, "peers-failover: cannot register %s: %s\n", m->id, zerror(rc));
        return -EIO;
    }
    return 0;
}

static char *master_json(const char *id, unsigned port)
{
    struct master_info mi = {0};
    struct in_addr a;
    char *json;

    inet_pton(AF_INET, "127.0.0.1", &a);
    mi.id = xstrdup(id);
    mi.ip = a.s_addr;
    mi.port = port;
    mi.pid = xasprintf("master@127.0.0.1:%u", port);
    mi.hostname = xstrdup("127.0.0.1");
    mi.version = xstrdup("1.11.0");
    mi.has_address = true;
    mi.address.hostname = xstrdup("127.0.0.1");
    mi.address.ip = xstrdup("127.0.0.1");
    mi.address.port = (int32_t)port;
    json = masterinfo_to_json(&mi);
    masterinfo_done(&mi);
    return json;
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

        if (call_once(&o->target, path, &buf, &a) == 0 && a.status == 200) {
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
    const char *base = strrchr(m->znode, '/');

    return wait_target(o, "/leaderd/v1/leader", base ? base + 1 : m->znode, "\"address\"");
}

static double ms(uint64_t a, uint64_t b)
{
    return ((double)a - (double)b) / 1e6;
}

struct run {
    struct shared *sh;
    zhandle_t *zh;
    const char *path; /* the parent znode of the masters */
    struct master m[2];
    double *routed, *after_watch, *deleted;
    size_t n;
    uint64_t stale, failed, calls, max_call_ns, no_watch;
};

/* One leader change: deletes the znode of @old, waits for a call that @new
 * answered. */
static int change_leader(struct run *r, const struct master *old, const struct master *new,
                         struct change *ret)
{
    struct shared *sh = r->sh;
    struct String_vector children = {0, NULL};
    struct timespec deadline;
    uint64_t t1;
    bool ok = true;
    int rc = zoo_wget_children(r->zh, r->path, on_children, sh, &children);

    if (rc != ZOK) {
        fprintf(stderr, "peers-failover: cannot watch '%s': %s\n", r->path, zerror(rc));
        return -EIO;
    }
    deallocate_String_vector(&children);
    pthread_mutex_lock(&sh->lock);
    sh->ch = (struct change){.active = true, .old_id = old->id, .new_id = new->id};
    sh->ch.t0 = time_now_ns();
    pthread_mutex_unlock(&sh->lock);
    rc = zoo_delete(r->zh, old->znode, -1);
    t1 = time_now_ns();
    pthread_mutex_lock(&sh->lock);
    sh->ch.t1 = t1;
    deadline_in(&deadline, WAIT_MS);
    while (ok && rc == ZOK && sh->ch.tn == 0)
        ok = cond_wait_deadline(sh, &deadline);
    sh->ch.active = false;
    *ret = sh->ch;
    pthread_mutex_unlock(&sh->lock);
    if (rc != ZOK) {
        fprintf(stderr, "peers-failover: cannot delete '%s': %s\n", old->znode, zerror(rc));
        return -EIO;
    }
    if (!ok) {
        fprintf(stderr, "peers-failover: no call answered by '%s' %d s after '%s' left\n", new->id,
                WAIT_MS / 1000, old->znode);
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
        struct master *old = &r->m[cur], *new = &r->m[1 - cur];
        struct change c;
        int rc;

        if (wait_standby_known(o, new) < 0) {
            fprintf(stderr, "peers-failover: the daemon does not list '%s' with an address\n",
                    new->znode);
            return -ETIMEDOUT;
        }
        rc = change_leader(r, old, new, &c);
        if (rc < 0)
            return rc;
        report_round(r, i, &c);
        rc = zk_register(r->zh, r->path, old); /* the standby of the next round */
        if (rc < 0)
            return rc;
        cur = 1 - cur;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile @p (0-100) of the @n values at @v (sorted here). */
static double percentile(double *v, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return -1;
    qsort(v, n, sizeof(*v), cmp_double);
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    return v[rank == 0 ? 0 : rank - 1];
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
           n, percentile(r->routed, n, 50), percentile(r->routed, n, 90),
           percentile(r->routed, n, 100), percentile(r->after_watch, n, 50),
           percentile(r->after_watch, n, 100), percentile(r->deleted, n, 50),
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
    char needle[ID_MAX + 16];

    r->zh = zk_connect(r->sh, u->hosts);
    if (!r->zh) {
        fprintf(stderr, "peers-failover: cannot connect to ZooKeeper at '%s'\n", u->hosts);
        return -EIO;
    }
    if (zk_create_path(r->zh, r->path) < 0) {
        fprintf(stderr, "peers-failover: cannot create '%s'\n", r->path);
        return -EIO;
    }
    for (int i = 0; i < 2; i++) {
        r->m[i].id = o->ids[i];
        r->m[i].json = master_json(o->ids[i], (unsigned)o->ports[i]);
        if (zk_register(r->zh, r->path, &r->m[i]) < 0)
            return -EIO;
    }
    printf("peers-failover registered leader=%s standby=%s\n", r->m[0].znode, r->m[1].znode);
    fflush(stdout);
    snprintf(needle, sizeof(needle), "\"id\":\"%s\"", o->ids[0]);
    if (wait_target(o, o->path, needle, NULL) < 0) {
        fprintf(stderr, "peers-failover: the target does not route to '%s'\n", o->ids[0]);
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
    if (zkurl_parse(sh.opt.zk, &u, &err) < 0) {
        fprintf(stderr, "peers-failover: %s\n", err.msg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.cond, NULL);
    r.path = u.path;
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
    if (r.zh)
        zookeeper_close(r.zh); /* the ephemeral znodes go with the session */
    for (int i = 0; i < 2; i++)
        free(r.m[i].json);
    free(ld);
    free(r.routed);
    free(r.after_watch);
    free(r.deleted);
    zkurl_done(&u);
    return rc == 0 ? 0 : 1;
}
