/* storm-load.c: the clients of the re-subscribe storm benchmark (built as
 * bench/storm-load, run by the script bench/storm).
 *
 * It starts nothing: the script starts ZooKeeper, two bench/backend
 * processes registered as masters with --exit-when-deposed (the first one
 * leads) and, for a proxy, the proxy. This program opens --streams SUBSCRIBE
 * event streams through --target (raw non-blocking sockets, one epoll loop,
 * at most --inflight connecting at once), each counted as open on status 200
 * and its first RecordIO record, which must come from the master named by
 * --old-id. Once all are open and --settle-ms has passed, it deletes the
 * leader's znode --znode with its own ZooKeeper session (asynchronously, so
 * that its loop never blocks) and, from then on, every client whose stream
 * ends subscribes again at once, through --then (default: --target; the
 * new leader itself for the direct floor). A re-subscription is done on
 * status 200 and a first record from the master named by --new-id. An
 * attempt that fails (the connection refused or broken before that record,
 * or a status other than 200) is counted and tried again after --retry-ms.
 *
 * Instants (CLOCK_MONOTONIC):
 *   t0  just before zoo_adelete() is called;
 *   tw  when its own child watch on the znode's parent fires: ZooKeeper has
 *       applied the deletion and notifies the watchers (the daemon and the
 *       deposed master are told by the same notification); every time it
 *       prints is relative to tw;
 *   t1  when the deletion's answer arrived.
 * Per client: when its old stream ended, when the connection of its last
 * attempt was established and answered, when the first record of the new
 * leader arrived. The storm ends when every client has re-subscribed, or at
 * t0 + --bound-s (the clients without a new stream then count as failed);
 * the streams are then held for --hold-ms more (a new stream that ends in
 * that time counts as lost).
 *
 * With --pid, the CPU time (utime + stime from /proc) of that process from
 * t0 to the end of the hold, its VmRSS at t0 and at the end, and its peak
 * (VmHWM after "5" was written to its clear_refs at t0). The listen queue
 * counters ListenOverflows and ListenDrops of /proc/net/netstat, and the
 * packets dropped from full input backlogs (/proc/net/softnet_stat), are
 * read at t0 and at the end of the storm (they count for the whole machine).
 *
 * Prints "storm-load open ..." once every stream is open, "storm-load done
 * ..." when the storm is over (before the hold), then one
 * "summary ..." line of key=value pairs (times in ms; watch_ns is tw itself,
 * to line up other CLOCK_MONOTONIC traces); with --samples, one
 * line per client. Exits 0 when the storm ran (whatever its outcome), 1 when
 * the streams could not all be opened or ZooKeeper failed, 2 on a usage
 * error. */
#include "config.h"

#include "benchutil.h"
#include "procstat.h"
#include "zkreg.h"
#include "base/errbuf.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "zk/zkurl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define MAX_FIRST      (64 * 1024) /* response bytes kept until the first record */
#define MAX_EVENTS     512
#define READ_BUF       (64 * 1024)
#define ID_MAX         64
#define ZK_SESSION_MS  10000
#define ZK_WAIT_S      15
#define OPEN_TIMEOUT_S 120
#define TCPEXT_MAX     256
/* A connect that takes this long waited for a SYN sent again: the first one
 * was dropped (a listen queue overflow; the kernel resends it after 1 s). */
#define SLOW_CONNECT_NS 900000000

struct options {
    struct sockaddr_in target, then;
    const char *target_text, *then_text, *zk, *znode, *samples;
    char old_id[ID_MAX], new_id[ID_MAX];
    unsigned long streams, inflight, settle_ms, retry_ms, bound_s, hold_ms;
    long pid;
};

/* Which master the current connection's stream comes from. */
enum source { SRC_NONE, SRC_OLD, SRC_NEW };
enum cstate { C_IDLE, C_RETRY, C_CONNECTING, C_READING, C_STREAMING };

struct client {
    int fd;
    enum cstate st;
    enum source src;
    bool moving;       /* the old stream ended in the storm: re-subscribing */
    struct strbuf in;  /* response bytes until the first record */
    int64_t retry_at;  /* C_RETRY: when to try again */
    int64_t t_ended;   /* the old stream ended */
    int64_t t_attempt; /* this attempt's connect() called */
    int64_t t_connect; /* this attempt's connection established */
    int64_t t_answer;  /* this attempt's status line received */
    int64_t t_new;     /* first record of the new leader */
    unsigned attempts; /* connections opened after the old stream ended */
    unsigned errors;   /* of those, failed ones */
    bool saw_error_status;
};

/* What the ZooKeeper threads record. */
struct zkside {
    struct zkreg_watch watch;
    atomic_int_fast64_t t_deleted;
    atomic_int delete_rc;
};

/* The TcpExt counters of /proc/net/netstat (a line of names followed by a
 * line of values). */
struct tcpext {
    char names[8192];
    const char *name[TCPEXT_MAX];
    long long value[TCPEXT_MAX];
    int n;
};

struct counters {
    struct tcpext ext;
    long long overflows, drops, syn_retrans, backlog_drops, cpu_ticks;
    long rss_kb;
};

struct storm {
    struct options opt;
    int ep;
    struct client *c;
    char *request_old, *request_new;
    size_t request_old_len, request_new_len;
    char old_needle[ID_MAX + 32], new_needle[ID_MAX + 32];
    unsigned long opened, inflight, started, moved, n_retry;
    unsigned long ended_before, wrong_source, stale, error_status, error_connect, lost;
    unsigned long slow_connects; /* re-subscriptions whose connect took >= 1 s */
    int64_t next_retry;
    bool in_storm;
    int64_t t0, t_done;
    struct counters before, after;
    long rss_peak_kb;
    bool peak_known;
    struct zkside zk;
    zhandle_t *zh;
};

static volatile sig_atomic_t interrupted;

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: storm-load --target HOST:PORT --zk URL --znode PATH --old-id ID --new-id ID "
            "[OPTIONS]\n"
            "Opens N SUBSCRIBE streams, deletes the leader's znode and times every client's\n"
            "re-subscription to the new leader.\n\n"
            "  --target HOST:PORT  where the streams are opened (a proxy, or the old leader)\n"
            "  --then HOST:PORT    where the clients re-subscribe (default: --target)\n"
            "  --zk URL            the masters' ZooKeeper (zk://hosts/path)\n"
            "  --znode PATH        the leader's znode, deleted to start the storm\n"
            "  --old-id ID         the id of the leading master (bench/backend --id)\n"
            "  --new-id ID         the id of the master that leads after it\n"
            "  --streams N         streams (default 1000)\n"
            "  --inflight N        streams connecting at once while opening (default 500)\n"
            "  --settle-ms N       wait after all are open, before the storm (default 1000)\n"
            "  --retry-ms N        wait before trying a failed attempt again (default 100)\n"
            "  --bound-s N         a client not re-subscribed N s after the deletion fails "
            "(default 30)\n"
            "  --hold-ms N         keep the new streams open that long after (default 1000)\n"
            "  --pid PID           CPU time and RSS of this process (the proxy)\n"
            "  --samples FILE      one line per client: ended, connected, answered and new-leader\n"
            "                      times (ms after the watch), attempts, errors\n"
            "  -h, --help          print this help\n");
}

static int parse_id(const char *arg, char *id)
{
    size_t n = strlen(arg);

    if (n == 0 || n >= ID_MAX || strpbrk(arg, "\"\\"))
        return -EINVAL;
    memcpy(id, arg, n + 1);
    return 0;
}

static int parse_number(int ch, const char *arg, struct options *o)
{
    unsigned long v;
    int rc = bench_parse_ulong(arg, 100000000, &v);

    if (rc < 0)
        return rc;
    if (ch == 'n')
        o->streams = v;
    else if (ch == 'i')
        o->inflight = v ? v : 1;
    else if (ch == 's')
        o->settle_ms = v;
    else if (ch == 'r')
        o->retry_ms = v;
    else if (ch == 'b')
        o->bound_s = v;
    else if (ch == 'H')
        o->hold_ms = v;
    else
        o->pid = (long)v;
    return 0;
}

static int parse_option(int ch, const char *arg, struct options *o)
{
    switch (ch) {
    case 't':
        o->target_text = arg;
        return bench_parse_target(arg, &o->target);
    case 'T':
        o->then_text = arg;
        return bench_parse_target(arg, &o->then);
    case 'z':
        o->zk = arg;
        return 0;
    case 'Z':
        o->znode = arg;
        return 0;
    case 'o':
        return parse_id(arg, o->old_id);
    case 'N':
        return parse_id(arg, o->new_id);
    case 'S':
        o->samples = arg;
        return 0;
    case 'h':
        usage(stdout);
        exit(0);
    case '?':
        return -EINVAL;
    default:
        return parse_number(ch, arg, o);
    }
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"target", required_argument, NULL, 't'},
                                             {"then", required_argument, NULL, 'T'},
                                             {"zk", required_argument, NULL, 'z'},
                                             {"znode", required_argument, NULL, 'Z'},
                                             {"old-id", required_argument, NULL, 'o'},
                                             {"new-id", required_argument, NULL, 'N'},
                                             {"streams", required_argument, NULL, 'n'},
                                             {"inflight", required_argument, NULL, 'i'},
                                             {"settle-ms", required_argument, NULL, 's'},
                                             {"retry-ms", required_argument, NULL, 'r'},
                                             {"bound-s", required_argument, NULL, 'b'},
                                             {"hold-ms", required_argument, NULL, 'H'},
                                             {"pid", required_argument, NULL, 'P'},
                                             {"samples", required_argument, NULL, 'S'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct options){.streams = 1000,
                          .inflight = 500,
                          .settle_ms = 1000,
                          .retry_ms = 100,
                          .bound_s = 30,
                          .hold_ms = 1000};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        rc = parse_option(ch, optarg, o);
    if (rc == 0 &&
        (optind != argc || !o->target_text || !o->zk || !o->znode || !o->old_id[0] ||
         !o->new_id[0] || o->streams == 0 || o->bound_s == 0 || strcmp(o->old_id, o->new_id) == 0))
        rc = -EINVAL;
    if (rc < 0) {
        usage(stderr);
        return rc;
    }
    if (!o->then_text) {
        o->then = o->target;
        o->then_text = o->target_text;
    }
    return 0;
}

/* ---- /proc ------------------------------------------------------------ */

static void tcpext_read(struct tcpext *t)
{
    char values[8192], *sn, *sv;
    FILE *f = fopen("/proc/net/netstat", "r");

    t->n = 0;
    if (!f)
        return;
    while (fgets(t->names, sizeof(t->names), f) && fgets(values, sizeof(values), f)) {
        if (strncmp(t->names, "TcpExt:", 7) != 0)
            continue;
        char *n = strtok_r(t->names, " \n", &sn), *x = strtok_r(values, " \n", &sv);
        while ((n = strtok_r(NULL, " \n", &sn)) && (x = strtok_r(NULL, " \n", &sv)) &&
               t->n < TCPEXT_MAX) {
            t->name[t->n] = n;
            t->value[t->n++] = strtoll(x, NULL, 10);
        }
        break;
    }
    fclose(f);
}

/* The counter @name, or -1 if absent. */
static long long tcpext_get(const struct tcpext *t, const char *name)
{
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->name[i], name) == 0)
            return t->value[i];
    }
    return -1;
}

/* Packets dropped because a CPU's input backlog (netdev_max_backlog, which
 * loopback traffic goes through) was full: the second column of
 * /proc/net/softnet_stat (hex), summed over the CPUs; -1 if unreadable. */
static long long backlog_drops(void)
{
    char line[512];
    long long sum = 0;
    unsigned long processed, dropped;
    FILE *f = fopen("/proc/net/softnet_stat", "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%lx %lx", &processed, &dropped) == 2)
            sum += (long long)dropped;
    }
    fclose(f);
    return sum;
}

static void read_counters(const struct options *o, struct counters *c)
{
    tcpext_read(&c->ext);
    c->overflows = tcpext_get(&c->ext, "ListenOverflows");
    c->drops = tcpext_get(&c->ext, "ListenDrops");
    c->syn_retrans = tcpext_get(&c->ext, "TCPSynRetrans");
    c->backlog_drops = backlog_drops();
    c->cpu_ticks = o->pid ? proc_cpu_ticks(o->pid) : -1;
    c->rss_kb = o->pid ? proc_status_kb(o->pid, "VmRSS") : -1;
}

/* Resets the peak RSS of @pid (Linux >= 4.0); whether that worked. */
static bool reset_peak(long pid)
{
    char path[64];
    FILE *f;
    bool ok;

    snprintf(path, sizeof(path), "/proc/%ld/clear_refs", pid);
    f = fopen(path, "w");
    if (!f)
        return false;
    ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* ---- responses ------------------------------------------------------- */

/* De-chunks as much of the chunked body at @p as is complete into @out. */
static void dechunk(const char *p, size_t len, struct strbuf *out)
{
    size_t off = 0;

    while (off < len) {
        const char *lf = memchr(p + off, '\n', len - off);
        char *end;
        unsigned long size;

        if (!lf)
            return;
        size = strtoul(p + off, &end, 16);
        if (end == p + off || size == 0)
            return;
        off = (size_t)(lf - p) + 1;
        if (len - off < size)
            size = len - off; /* a partial chunk: what is there */
        strbuf_append(out, p + off, size);
        off += size + 2;
    }
}

/* Whether @body (de-chunked) holds a whole first RecordIO record; sets it. */
static bool first_record(const char *body, size_t len, const char **ret, size_t *ret_len)
{
    const char *lf = memchr(body, '\n', len);
    unsigned long n;
    char *end;

    if (!lf)
        return false;
    n = strtoul(body, &end, 10);
    if (end != lf || (size_t)(len - (size_t)(lf + 1 - body)) < n)
        return false;
    *ret = lf + 1;
    *ret_len = n;
    return true;
}

/* What the response so far says: 0 (need more), 200 with the first record
 * found (its source in @ret_src), or another status (> 0), or -1 (garbage). */
static int parse_answer(struct storm *s, struct client *c, enum source *ret_src)
{
    const char *head_end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
    struct strbuf body = {0};
    const char *rec, *v;
    size_t hlen, rlen, vlen;
    int status;

    if (!head_end)
        return c->in.len > MAX_FIRST ? -1 : 0;
    if (c->in.len < 12 || strncmp(c->in.data, "HTTP/1.", 7) != 0)
        return -1;
    if (c->t_answer == 0)
        c->t_answer = (int64_t)time_now_ns();
    status = atoi(c->in.data + 9);
    if (status != 200)
        return status > 0 ? status : -1;
    hlen = (size_t)(head_end - c->in.data) + 4;
    v = bench_header(c->in.data, hlen, "Transfer-Encoding", &vlen);
    if (v && bench_contains_nocase(v, vlen, "chunked"))
        dechunk(c->in.data + hlen, c->in.len - hlen, &body);
    else
        strbuf_append(&body, c->in.data + hlen, c->in.len - hlen);
    status = 0;
    if (body.len && first_record(body.data, body.len, &rec, &rlen)) {
        status = 200;
        *ret_src = memmem(rec, rlen, s->new_needle, strlen(s->new_needle))   ? SRC_NEW
                   : memmem(rec, rlen, s->old_needle, strlen(s->old_needle)) ? SRC_OLD
                                                                             : SRC_NONE;
    }
    strbuf_done(&body);
    if (status == 0 && c->in.len > MAX_FIRST)
        return -1;
    return status;
}

/* ---- clients ---------------------------------------------------------- */

static void client_close(struct storm *s, struct client *c)
{
    if (c->fd >= 0) {
        epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    strbuf_done(&c->in);
    c->src = SRC_NONE;
}

static void schedule_retry(struct storm *s, struct client *c)
{
    int64_t at = (int64_t)time_now_ns() + (int64_t)s->opt.retry_ms * 1000000;

    client_close(s, c);
    c->st = C_RETRY;
    c->retry_at = at;
    s->n_retry++;
    if (s->next_retry == 0 || at < s->next_retry)
        s->next_retry = at;
}

/* Opens a connection and sends SUBSCRIBE: to --target before the storm,
 * to --then once the client's old stream has ended. */
static void client_connect(struct storm *s, struct client *c)
{
    const struct sockaddr_in *sa = c->moving ? &s->opt.then : &s->opt.target;
    struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};

    c->t_connect = c->t_answer = 0;
    c->t_attempt = (int64_t)time_now_ns();
    c->attempts += c->moving;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("storm-load: socket");
        schedule_retry(s, c);
        return;
    }
    bench_socket_setup(c->fd);
    c->st = C_CONNECTING;
    if ((connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS) ||
        epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &e) < 0) {
        s->error_connect += c->moving;
        c->errors += c->moving;
        schedule_retry(s, c);
    }
}

static void client_connected(struct storm *s, struct client *c)
{
    int err = 0;
    socklen_t len = sizeof(err);
    struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    const char *req = c->moving ? s->request_new : s->request_old;
    size_t req_len = c->moving ? s->request_new_len : s->request_old_len;

    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0 && send(c->fd, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
        err = EIO;
    if (err) {
        s->error_connect += c->moving;
        c->errors += c->moving;
        schedule_retry(s, c);
        return;
    }
    c->t_connect = (int64_t)time_now_ns();
    if (c->moving && c->t_connect - c->t_attempt >= SLOW_CONNECT_NS)
        s->slow_connects++;
    c->st = C_READING;
    epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* The first record arrived, from @src. */
static void client_subscribed(struct storm *s, struct client *c, enum source src)
{
    strbuf_done(&c->in);
    c->st = C_STREAMING;
    c->src = src;
    if (!c->moving) {
        s->wrong_source += src != SRC_OLD;
        c->src = SRC_OLD; /* before the storm, only the old leader leads */
        s->opened++;
        s->inflight--;
    } else if (src == SRC_NEW) {
        c->t_new = (int64_t)time_now_ns();
        s->moved++;
    } else {
        s->stale++; /* the old leader answered again: wait for this one to end */
    }
}

/* The client's connection ended or failed (at @now). */
static void client_ended(struct storm *s, struct client *c, bool answered_error)
{
    enum source src = c->st == C_STREAMING ? c->src : SRC_NONE;

    if (src == SRC_NEW) {
        s->lost++; /* a new stream that ended: not retried */
        client_close(s, c);
        c->st = C_IDLE;
        return;
    }
    if (src == SRC_OLD && s->in_storm) {
        if (!c->moving) {
            c->t_ended = (int64_t)time_now_ns();
            c->moving = true;
        }
        client_close(s, c);
        client_connect(s, c);
        return;
    }
    if (src == SRC_OLD) {
        s->ended_before++; /* before the storm: opened again */
        s->opened--;
        s->inflight++;
    } else if (c->moving) {
        c->errors++;
        if (answered_error) {
            s->error_status++;
            c->saw_error_status = true;
        } else {
            s->error_connect++;
        }
    }
    schedule_retry(s, c);
}

/* Reads what arrived; -1 when the connection ended. */
static int client_read(struct client *c, bool *ret_new_data)
{
    static char buf[READ_BUF];

    *ret_new_data = false;
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        if (c->st == C_READING) {
            strbuf_append(&c->in, buf, (size_t)n);
            *ret_new_data = true;
        }
    }
}

static void client_readable(struct storm *s, struct client *c)
{
    bool fresh;
    int rc = client_read(c, &fresh), status = 0;
    enum source src = SRC_NONE;

    if (fresh)
        status = parse_answer(s, c, &src);
    if (status == 200)
        client_subscribed(s, c, src);
    else if (status != 0)
        rc = -2;
    if (rc == -1 && c->st == C_STREAMING) {
        client_ended(s, c, false);
        return;
    }
    if (rc < 0)
        client_ended(s, c, rc == -2 && status > 0);
}

static void dispatch(struct storm *s, struct client *c, uint32_t ev)
{
    if (c->st == C_CONNECTING)
        client_connected(s, c);
    else if (c->st == C_READING || c->st == C_STREAMING)
        client_readable(s, c);
    (void)ev;
}

/* Starts the retries that are due; keeps next_retry up to date. */
static void run_retries(struct storm *s, int64_t now)
{
    int64_t next = 0;

    if (s->n_retry == 0 || now < s->next_retry)
        return;
    for (unsigned long i = 0; i < s->started; i++) {
        struct client *c = &s->c[i];

        if (c->st != C_RETRY)
            continue;
        if (c->retry_at <= now) {
            s->n_retry--;
            client_connect(s, c);
        } else if (next == 0 || c->retry_at < next) {
            next = c->retry_at;
        }
    }
    s->next_retry = next;
}

/* ---- ZooKeeper ------------------------------------------------------- */

static void on_deleted(int rc, const void *data)
{
    struct zkside *z = (struct zkside *)data;

    atomic_store(&z->delete_rc, rc);
    atomic_store(&z->t_deleted, (int_fast64_t)time_now_ns());
}

static int zk_connect(struct storm *s)
{
    struct zkurl u = {0};
    struct errbuf err = {{0}};

    if (zkurl_parse(s->opt.zk, &u, &err) < 0) {
        fprintf(stderr, "storm-load: %s\n", err.msg);
        return -EINVAL;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    s->zh = zkreg_connect(u.hosts, NULL, ZK_SESSION_MS, ZK_WAIT_S * 1000, &err);
    zkurl_done(&u);
    return s->zh ? 0 : -EIO;
}

/* Watches the znode's parent, then deletes the znode (t0 just before). */
static int start_storm(struct storm *s)
{
    char *parent = xstrdup(s->opt.znode), *slash = strrchr(parent, '/');
    struct errbuf err = {{0}};
    int rc;

    if (slash && slash != parent)
        *slash = '\0';
    rc = zkreg_watch_group(s->zh, parent, &s->zk.watch, &err);
    free(parent);
    if (rc < 0) {
        fprintf(stderr, "storm-load: %s\n", err.msg);
        return -EIO;
    }
    read_counters(&s->opt, &s->before);
    s->peak_known = s->opt.pid && reset_peak(s->opt.pid);
    s->in_storm = true;
    s->t0 = (int64_t)time_now_ns();
    rc = zoo_adelete(s->zh, s->opt.znode, -1, on_deleted, &s->zk);
    if (rc != ZOK) {
        fprintf(stderr, "storm-load: cannot delete '%s': %s\n", s->opt.znode, zerror(rc));
        return -EIO;
    }
    return 0;
}

/* ---- the run ---------------------------------------------------------- */

/* Starts the streams of the open phase, at most --inflight at once. */
static void start_due(struct storm *s)
{
    while (s->started < s->opt.streams && s->inflight < s->opt.inflight) {
        s->inflight++;
        client_connect(s, &s->c[s->started++]);
    }
}

/* One loop iteration: waits at most @timeout_ms, dispatches, retries. */
static void turn(struct storm *s, int timeout_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t now = (int64_t)time_now_ns();
    int n;

    if (s->n_retry && s->next_retry) {
        int ms = (int)((s->next_retry - now + 999999) / 1000000);
        if (ms < timeout_ms)
            timeout_ms = ms < 0 ? 0 : ms;
    }
    n = epoll_wait(s->ep, evs, MAX_EVENTS, timeout_ms);
    for (int i = 0; i < n; i++)
        dispatch(s, evs[i].data.ptr, evs[i].events);
    run_retries(s, (int64_t)time_now_ns());
}

/* Opens every stream; 0, or -ETIMEDOUT. */
static int open_all(struct storm *s)
{
    int64_t deadline = (int64_t)time_now_ns() + (int64_t)OPEN_TIMEOUT_S * 1000000000;

    while (s->opened < s->opt.streams && !interrupted) {
        start_due(s);
        if ((int64_t)time_now_ns() > deadline)
            return -ETIMEDOUT;
        turn(s, 100);
    }
    return interrupted ? -EINTR : 0;
}

/* Runs the loop until @until (ns), or until @stop_when_moved and all moved. */
static void run_until(struct storm *s, int64_t until, bool stop_when_moved)
{
    for (;;) {
        int64_t now = (int64_t)time_now_ns();

        if (now >= until || interrupted || (stop_when_moved && s->moved == s->opt.streams))
            return;
        turn(s, (int)((until - now + 999999) / 1000000));
    }
}

static int storm(struct storm *s)
{
    int64_t t_open = (int64_t)time_now_ns();

    printf("storm-load open streams=%lu ended_before=%lu\n", s->opened, s->ended_before);
    fflush(stdout);
    run_until(s, t_open + (int64_t)s->opt.settle_ms * 1000000, false);
    if (start_storm(s) < 0)
        return -EIO;
    run_until(s, s->t0 + (int64_t)s->opt.bound_s * 1000000000, true);
    s->t_done = (int64_t)time_now_ns();
    read_counters(&s->opt, &s->after); /* CPU and RSS: read again after the hold */
    printf("storm-load done resubscribed=%lu\n", s->moved);
    fflush(stdout);
    run_until(s, s->t_done + (int64_t)s->opt.hold_ms * 1000000, false);
    if (s->opt.pid) {
        s->after.cpu_ticks = proc_cpu_ticks(s->opt.pid);
        s->after.rss_kb = proc_status_kb(s->opt.pid, "VmRSS");
        s->rss_peak_kb = s->peak_known ? proc_status_kb(s->opt.pid, "VmHWM") : -1;
    }
    return 0;
}

/* ---- report ----------------------------------------------------------- */

/* Milliseconds from the watch @tw to @t (0 = never: not collected). */
static bool since(int64_t t, int64_t tw, double *ret)
{
    if (t == 0)
        return false;
    *ret = (double)(t - tw) / 1e6;
    return true;
}

struct dist {
    double *v;
    size_t n;
};

static void dist_print(const char *name, struct dist *d)
{
    printf(" %s_n=%zu %s_p50_ms=%.3f %s_p99_ms=%.3f %s_max_ms=%.3f", name, d->n, name,
           bench_percentile(d->v, d->n, 50), name, bench_percentile(d->v, d->n, 99), name,
           bench_percentile(d->v, d->n, 100));
}

/* The instant everything is measured from: the watch, else the delete's answer. */
static int64_t watch_instant(const struct storm *s)
{
    int64_t tw = (int64_t)atomic_load(&s->zk.watch.fired_ns);

    return tw ? tw : (int64_t)atomic_load(&s->zk.t_deleted);
}

/* Distributions over the clients: times after the watch, and "served", the
 * time from the connection of the successful attempt to its first record. */
static void print_times(const struct storm *s, int64_t tw)
{
    struct dist d[5];
    const char *names[5] = {"ended", "connected", "answered", "new", "served"};

    for (int k = 0; k < 5; k++)
        d[k] = (struct dist){xcalloc(s->opt.streams, sizeof(double)), 0};
    for (unsigned long i = 0; i < s->opt.streams; i++) {
        const struct client *c = &s->c[i];
        bool moved = c->t_new != 0;

        d[0].n += since(c->t_ended, tw, &d[0].v[d[0].n]);
        d[1].n += moved && since(c->t_connect, tw, &d[1].v[d[1].n]);
        d[2].n += moved && since(c->t_answer, tw, &d[2].v[d[2].n]);
        d[3].n += since(c->t_new, tw, &d[3].v[d[3].n]);
        d[4].n += moved && since(c->t_new, c->t_connect, &d[4].v[d[4].n]);
    }
    for (int k = 0; k < 5; k++) {
        dist_print(names[k], &d[k]);
        free(d[k].v);
    }
}

static double delta_s(long long a, long long b)
{
    return a < 0 || b < 0 ? -1 : (double)(b - a) / (double)sysconf(_SC_CLK_TCK);
}

/* Every TcpExt counter that changed during the storm, as one more key:
 * tcpext_changed=Name:delta,... (for the machine; not only the storm's). */
static void print_tcpext_changes(const struct storm *s)
{
    const struct tcpext *a = &s->before.ext, *b = &s->after.ext;
    const char *sep = "";

    printf(" tcpext_changed=");
    for (int i = 0; i < a->n && i < b->n; i++) {
        if (b->value[i] != a->value[i] && strcmp(a->name[i], b->name[i]) == 0) {
            printf("%s%s:%lld", sep, a->name[i], b->value[i] - a->value[i]);
            sep = ",";
        }
    }
}

static void summarize(const struct storm *s)
{
    int64_t tw = watch_instant(s), td = (int64_t)atomic_load(&s->zk.t_deleted);
    unsigned long with_status = 0, retried = 0;

    for (unsigned long i = 0; i < s->opt.streams; i++) {
        with_status += s->c[i].saw_error_status;
        retried += s->c[i].errors > 0;
    }
    printf("summary streams=%lu resubscribed=%lu failed=%lu watch_fired=%d watch_ns=%" PRId64
           " watch_ms=%.3f delete_ms=%.3f delete_rc=%d",
           s->opt.streams, s->moved, s->opt.streams - s->moved,
           atomic_load(&s->zk.watch.fired_ns) != 0, tw, (double)(tw - s->t0) / 1e6,
           td ? (double)(td - s->t0) / 1e6 : -1.0, atomic_load(&s->zk.delete_rc));
    print_times(s, tw);
    printf(" storm_ms=%.3f slow_connects=%lu error_status=%lu error_connect=%lu "
           "streams_with_error_status=%lu streams_retried=%lu stale=%lu lost=%lu ended_before=%lu "
           "wrong_source=%lu "
           "listen_overflows=%lld listen_drops=%lld syn_retrans=%lld backlog_drops=%lld cpu_s=%.2f "
           "rss_before_kb=%ld rss_peak_kb=%ld "
           "rss_after_kb=%ld",
           (double)(s->t_done - tw) / 1e6, s->slow_connects, s->error_status, s->error_connect,
           with_status, retried, s->stale, s->lost, s->ended_before, s->wrong_source,
           s->after.overflows - s->before.overflows, s->after.drops - s->before.drops,
           s->after.syn_retrans - s->before.syn_retrans,
           s->after.backlog_drops - s->before.backlog_drops,
           delta_s(s->before.cpu_ticks, s->after.cpu_ticks), s->before.rss_kb, s->rss_peak_kb,
           s->after.rss_kb);
    print_tcpext_changes(s);
    printf("\n");
    fflush(stdout);
}

static void write_samples(const struct storm *s)
{
    int64_t tw = watch_instant(s);
    FILE *f = fopen(s->opt.samples, "w");

    if (!f) {
        perror(s->opt.samples);
        return;
    }
    fprintf(f, "# ms after the watch (-1: never): ended connected answered new; attempts errors\n");
    for (unsigned long i = 0; i < s->opt.streams; i++) {
        const struct client *c = &s->c[i];
        double v[4] = {-1, -1, -1, -1};

        since(c->t_ended, tw, &v[0]);
        since(c->t_connect, tw, &v[1]);
        since(c->t_answer, tw, &v[2]);
        since(c->t_new, tw, &v[3]);
        fprintf(f, "%.3f %.3f %.3f %.3f %u %u\n", v[0], v[1], v[2], v[3], c->attempts, c->errors);
    }
    fclose(f);
}

/* ---- main ------------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void setup(struct storm *s)
{
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->c = xcalloc(s->opt.streams, sizeof(*s->c));
    for (unsigned long i = 0; i < s->opt.streams; i++)
        s->c[i].fd = -1;
    s->request_old = bench_subscribe_request("/api/v1/scheduler", s->opt.target_text, "storm",
                                             false, &s->request_old_len);
    s->request_new = bench_subscribe_request("/api/v1/scheduler", s->opt.then_text, "storm", false,
                                             &s->request_new_len);
    snprintf(s->old_needle, sizeof(s->old_needle), "\"framework_id\":{\"value\":\"%s-",
             s->opt.old_id);
    snprintf(s->new_needle, sizeof(s->new_needle), "\"framework_id\":{\"value\":\"%s-",
             s->opt.new_id);
}

static void teardown(struct storm *s)
{
    for (unsigned long i = 0; i < s->opt.streams; i++)
        client_close(s, &s->c[i]);
    if (s->zh)
        zookeeper_close(s->zh);
    free(s->c);
    free(s->request_old);
    free(s->request_new);
    close(s->ep);
}

int main(int argc, char **argv)
{
    static struct storm s;
    int rc;

    s.rss_peak_kb = -1;
    if (parse_options(argc, argv, &s.opt) < 0)
        return 2;
    if (bench_raise_nofile() < (long)s.opt.streams + 64)
        fprintf(stderr, "storm-load: warning: the open-files limit is below --streams\n");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setup(&s);
    rc = zk_connect(&s);
    if (rc < 0)
        fprintf(stderr, "storm-load: cannot connect to ZooKeeper (%s)\n", s.opt.zk);
    if (rc == 0 && (rc = open_all(&s)) < 0)
        fprintf(stderr, "storm-load: %lu of %lu streams open after %d s\n", s.opened, s.opt.streams,
                OPEN_TIMEOUT_S);
    if (rc == 0)
        rc = storm(&s);
    if (rc == 0) {
        summarize(&s);
        if (s.opt.samples)
            write_samples(&s);
    }
    teardown(&s);
    return rc == 0 ? 0 : 1;
}
