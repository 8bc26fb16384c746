/* backend.c: a fast stand-in for a LEADING Mesos master, for benchmarks.
 *
 * A single-threaded epoll HTTP/1.1 server built never to be the bottleneck:
 *   POST /api/v1/scheduler, /master/api/v1/scheduler
 *       body containing "SUBSCRIBE": 200, chunked RecordIO event stream: a
 *       SUBSCRIBED event, then a HEARTBEAT every --heartbeat-ms carrying
 *       "sent_ns" (CLOCK_MONOTONIC when written), phase-offset by the
 *       stream's open time so heartbeats of many streams spread evenly;
 *       any other body: 202 Accepted, empty body.
 *   GET /master/state, /state: 200, ~--state-kb KB of deterministic JSON.
 *   GET /backend/counters: 200, {"requests":N,"state_requests":N,
 *       "streams":N}: what it answered so far (this call included in
 *       "requests"), so that a benchmark can count the calls a proxy made.
 *   Anything else: 404.
 * Keep-alive and pipelining are supported (responses strictly in order; one
 * response is written before the next request is parsed). With --zk it
 * registers itself as a master (see zkreg.h) and closes the session on
 * SIGTERM/SIGINT so the znode goes at once. With --exit-when-deposed as
 * well it acts as a Mesos master that lost its leadership: once its znode
 * is deleted (by someone else), it stops listening (new connections are
 * refused), closes every connection (streams end without their last chunk)
 * and exits, printing "backend deposed ..." with the time it took. Prints
 * "backend ready port=N" on stdout once it listens (and is registered). */
#include "config.h"

#include "benchutil.h"
#include "zkreg.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_HEAD       (64 * 1024)   /* largest request head accepted */
#define MAX_BODY       (1024 * 1024) /* largest request body accepted */
#define READ_CHUNK     (16 * 1024)
#define STREAM_BACKLOG (256 * 1024) /* skip heartbeats while this much is unsent */
#define MAX_EVENTS     256
#define MESOS_VERSION  "1.11.0"

struct options {
    const char *host;
    unsigned long port;
    const char *zk;
    const char *id;
    unsigned long heartbeat_ms;
    unsigned long state_kb;
    bool exit_when_deposed;
};

/* What an epoll registration points at; the first member of its owner. */
enum kind { K_LISTEN, K_TIMER, K_SIGNAL, K_DEPOSED, K_CONN };
struct watch {
    enum kind kind;
};

struct conn {
    struct watch w;
    int fd;
    uint32_t events;   /* the epoll mask registered now */
    struct strbuf in;  /* request bytes not parsed yet */
    struct strbuf out; /* response bytes; written up to out_off */
    size_t out_off;
    const char *ext; /* a shared body written after out (the state) */
    size_t ext_len, ext_off;
    bool streaming;   /* an event stream: input is discarded */
    bool close_after; /* close once the output is written */
    bool peer_closed;
    bool closed;                      /* fd closed; freed after the epoll batch */
    int64_t due_ns;                   /* next heartbeat (streams) */
    struct conn *prev, *next;         /* heartbeat queue by due_ns; once closed: s->dead */
    struct conn *all_prev, *all_next; /* every connection */
};

struct server {
    struct options opt;
    int ep, listen_fd, timer_fd, signal_fd, deposed_fd;
    struct watch w_listen, w_timer, w_signal, w_deposed;
    bool accept_paused, stop;
    struct conn *hb_head, *hb_tail;
    struct conn *all;  /* every connection, to close them at exit */
    struct conn *dead; /* closed connections, freed once no event can name them */
    int64_t armed_ns;
    int64_t interval_ns;
    int port;            /* the port listened on */
    char *master_json;   /* MasterInfo of this backend */
    struct strbuf state; /* the /master/state body */
    uint64_t rng;
    uint64_t n_requests, n_streams, n_heartbeats, n_skipped;
    uint64_t n_state_requests; /* GETs of the state answered */
};

/* request: one parsed request; pointers into the connection's input. */
struct request {
    const char *method, *target, *body;
    size_t method_len, target_len, body_len, total;
    bool close, chunked;
};

static int conn_flush(struct server *s, struct conn *c);

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "Usage: backend [OPTIONS]\n"
               "A fast HTTP server answering like a leading Mesos master (benchmarks).\n\n"
               "  --host ADDR          IPv4 address to listen on (default 127.0.0.1)\n"
               "  --port N             port (default 0: any free port; printed when ready)\n"
               "  --zk URL             register as a master in ZooKeeper (zk://hosts/path)\n"
               "  --id ID              MasterInfo id (default bench)\n"
               "  --heartbeat-ms N     interval of HEARTBEAT events (default 1000)\n"
               "  --state-kb N         size of the /master/state body (default 100)\n"
               "  --exit-when-deposed  with --zk: once the znode is deleted, stop listening,\n"
               "                       close every connection and exit (as a deposed master)\n"
               "  -h, --help           print this help\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"host", required_argument, NULL, 'H'},
                                             {"port", required_argument, NULL, 'p'},
                                             {"zk", required_argument, NULL, 'z'},
                                             {"id", required_argument, NULL, 'i'},
                                             {"heartbeat-ms", required_argument, NULL, 'b'},
                                             {"state-kb", required_argument, NULL, 's'},
                                             {"exit-when-deposed", no_argument, NULL, 'x'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct options){"127.0.0.1", 0, NULL, "bench", 1000, 100, false};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            rc = bench_parse_ulong(optarg, 65535, &o->port);
            break;
        case 'z':
            o->zk = optarg;
            break;
        case 'i':
            o->id = optarg;
            break;
        case 'b':
            rc = bench_parse_ulong(optarg, 3600000, &o->heartbeat_ms);
            break;
        case 's':
            rc = bench_parse_ulong(optarg, 1024 * 1024, &o->state_kb);
            break;
        case 'x':
            o->exit_when_deposed = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            rc = -EINVAL;
        }
    }
    if (rc == 0 && (optind != argc || o->heartbeat_ms == 0 || (o->exit_when_deposed && !o->zk)))
        rc = -EINVAL;
    if (rc < 0)
        usage(stderr);
    return rc;
}

/* ---- canned bodies ---------------------------------------------------- */

static void append_agent(struct strbuf *sb, unsigned i)
{
    strbuf_printf(sb,
                  "%s{\"id\":\"b3c0ffee-0000-4000-8000-000000000000-S%u\","
                  "\"hostname\":\"agent-%04u.bench\",\"port\":5051,"
                  "\"pid\":\"slave(1)@10.0.%u.%u:5051\",\"registered_time\":1600000000.%03u,"
                  "\"resources\":{\"cpus\":8.0,\"mem\":31744.0,\"disk\":102400.0,"
                  "\"ports\":\"[31000-32000]\"},\"used_resources\":{\"cpus\":%u.0,"
                  "\"mem\":%u.0,\"disk\":0.0},\"offered_resources\":{},\"reserved_resources\":{},"
                  "\"attributes\":{\"rack\":\"r%u\"},\"active\":true,\"version\":\"%s\","
                  "\"capabilities\":[\"MULTI_ROLE\",\"HIERARCHICAL_ROLE\","
                  "\"RESERVATION_REFINEMENT\"]}",
                  i ? "," : "", i, i, i / 250, i % 250 + 1, i % 1000, i % 8, (i % 8) * 2048, i % 16,
                  MESOS_VERSION);
}

/* Builds the deterministic /master/state body: agents until the target size. */
static void make_state(struct server *s)
{
    size_t target = s->opt.state_kb * 1024;
    struct strbuf agents = {0};
    unsigned n = 0;

    strbuf_reserve(&agents, target);
    while (agents.len + 1024 < target)
        append_agent(&agents, n++);
    strbuf_printf(&s->state,
                  "{\"version\":\"%s\",\"id\":\"%s\",\"hostname\":\"%s\","
                  "\"pid\":\"master@%s:%d\",\"leader_info\":%s,\"activated_slaves\":%u,"
                  "\"deactivated_slaves\":0,\"frameworks\":[],\"completed_frameworks\":[],"
                  "\"slaves\":[%s]}",
                  MESOS_VERSION, s->opt.id, s->opt.host, s->opt.host, s->port, s->master_json, n,
                  agents.len ? agents.data : ""); /* reserved, maybe never written */
    strbuf_done(&agents);
}

/* ---- connections ------------------------------------------------------ */

static bool conn_pending(const struct conn *c)
{
    return c->out_off < c->out.len || c->ext_off < c->ext_len;
}

static void conn_want(struct server *s, struct conn *c)
{
    uint32_t ev = 0;

    if (conn_pending(c))
        ev |= EPOLLOUT;
    if (!c->peer_closed && (c->streaming || !conn_pending(c)))
        ev |= EPOLLIN | EPOLLRDHUP;
    if (ev == c->events)
        return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void hb_remove(struct server *s, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (s->hb_head == c)
        s->hb_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else if (s->hb_tail == c)
        s->hb_tail = c->prev;
    c->prev = c->next = NULL;
}

/* Inserts @c by due time, scanning from the tail (usually O(1)). */
static void hb_insert(struct server *s, struct conn *c)
{
    struct conn *after = s->hb_tail;

    while (after && after->due_ns > c->due_ns)
        after = after->prev;
    c->prev = after;
    c->next = after ? after->next : s->hb_head;
    if (c->next)
        c->next->prev = c;
    else
        s->hb_tail = c;
    if (after)
        after->next = c;
    else
        s->hb_head = c;
}

/* Arms the timer for the earliest heartbeat (or disarms it). */
static void timer_arm(struct server *s)
{
    int64_t due = s->hb_head ? s->hb_head->due_ns : 0;
    struct itimerspec its = {{0, 0}, {due / 1000000000, due % 1000000000}};

    if (due == s->armed_ns)
        return;
    timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
    s->armed_ns = due;
}

static void listen_resume(struct server *s)
{
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &s->w_listen};

    if (s->accept_paused && s->listen_fd >= 0 &&
        epoll_ctl(s->ep, EPOLL_CTL_ADD, s->listen_fd, &e) == 0)
        s->accept_paused = false;
}

/* Closes @c but only queues it for conns_free(): the epoll batch being
 * handled may still hold events naming it. */
static void conn_close(struct server *s, struct conn *c)
{
    if (c->closed)
        return;
    if (c->streaming)
        hb_remove(s, c);
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        s->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->closed = true;
    c->next = s->dead; /* off the heartbeat queue now */
    s->dead = c;
    listen_resume(s);
}

/* Frees the closed connections; only between epoll batches. */
static void conns_free(struct server *s)
{
    while (s->dead) {
        struct conn *c = s->dead;

        s->dead = c->next;
        strbuf_done(&c->in);
        strbuf_done(&c->out);
        free(c);
    }
}

/* ---- responses -------------------------------------------------------- */

static void respond_empty(struct conn *c, const char *status, const char *extra)
{
    strbuf_printf(&c->out, "HTTP/1.1 %s\r\nContent-Length: 0\r\n%s%s\r\n", status, extra,
                  c->close_after ? "Connection: close\r\n" : "");
}

static void respond_state(struct server *s, struct conn *c)
{
    strbuf_printf(&c->out,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\n%s\r\n",
                  s->state.len, c->close_after ? "Connection: close\r\n" : "");
    c->ext = s->state.data;
    c->ext_len = s->state.len;
    c->ext_off = 0;
}

static void respond_counters(struct server *s, struct conn *c)
{
    char json[160];
    int n = snprintf(json, sizeof(json),
                     "{\"requests\":%" PRIu64 ",\"state_requests\":%" PRIu64 ",\"streams\":%" PRIu64
                     "}\n",
                     s->n_requests, s->n_state_requests, s->n_streams);

    strbuf_printf(&c->out,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n%s\r\n%s",
                  n, c->close_after ? "Connection: close\r\n" : "", json);
}

/* Appends one RecordIO record ("<len>\n<json>") as one HTTP chunk. */
static void append_record(struct strbuf *out, const char *json, size_t len)
{
    char prefix[24];
    int plen = snprintf(prefix, sizeof(prefix), "%zu\n", len);

    strbuf_printf(out, "%zx\r\n%s", (size_t)plen + len, prefix);
    strbuf_append(out, json, len);
    strbuf_append(out, "\r\n", 2);
}

static uint64_t next_random(struct server *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

static void start_stream(struct server *s, struct conn *c)
{
    uint64_t a = next_random(s), b = next_random(s);
    char json[2048];
    int n;

    s->n_streams++;
    strbuf_printf(&c->out,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  "Mesos-Stream-Id: %08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-a%03" PRIx64
                  "-%012" PRIx64 "\r\nTransfer-Encoding: chunked\r\n\r\n",
                  a >> 32, (a >> 16) & 0xffff, a & 0xfff, b >> 52, b & UINT64_C(0xffffffffffff));
    n = snprintf(json, sizeof(json),
                 "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":"
                 "\"%s-%04" PRIu64 "\"},\"heartbeat_interval_seconds\":%.3f,"
                 "\"master_info\":%s},\"sent_ns\":%" PRIu64 "}",
                 s->opt.id, s->n_streams, (double)s->opt.heartbeat_ms / 1000.0, s->master_json,
                 time_now_ns());
    append_record(&c->out, json, (size_t)n < sizeof(json) ? (size_t)n : sizeof(json) - 1);
    c->streaming = true;
    c->due_ns = (int64_t)time_now_ns() + s->interval_ns;
    hb_insert(s, c);
    timer_arm(s);
}

/* Sends one HEARTBEAT stamped with the time it is written; -1 if @c closed. */
static int send_heartbeat(struct server *s, struct conn *c)
{
    char json[80];
    int n;

    if (c->out.len - c->out_off > STREAM_BACKLOG) {
        s->n_skipped++;
        return 0;
    }
    n = snprintf(json, sizeof(json), "{\"type\":\"HEARTBEAT\",\"sent_ns\":%" PRIu64 "}",
                 time_now_ns());
    append_record(&c->out, json, (size_t)n);
    s->n_heartbeats++;
    return conn_flush(s, c);
}

/* ---- requests --------------------------------------------------------- */

static bool path_is(const struct request *r, const char *path)
{
    size_t n = strlen(path);
    const char *q = memchr(r->target, '?', r->target_len);
    size_t len = q ? (size_t)(q - r->target) : r->target_len;

    return len == n && memcmp(r->target, path, n) == 0;
}

static bool method_is(const struct request *r, const char *m)
{
    return r->method_len == strlen(m) && memcmp(r->method, m, r->method_len) == 0;
}

static void handle_request(struct server *s, struct conn *c, const struct request *r)
{
    s->n_requests++;
    c->close_after = c->close_after || r->close;
    if (path_is(r, "/api/v1/scheduler") || path_is(r, "/master/api/v1/scheduler")) {
        if (!method_is(r, "POST"))
            respond_empty(c, "405 Method Not Allowed", "Allow: POST\r\n");
        else if (r->body_len && memmem(r->body, r->body_len, "SUBSCRIBE", 9))
            start_stream(s, c);
        else
            respond_empty(c, "202 Accepted", "");
    } else if (path_is(r, "/master/state") || path_is(r, "/state")) {
        if (method_is(r, "GET")) {
            s->n_state_requests++;
            respond_state(s, c);
        } else
            respond_empty(c, "405 Method Not Allowed", "Allow: GET\r\n");
    } else if (path_is(r, "/backend/counters") && method_is(r, "GET")) {
        respond_counters(s, c);
    } else {
        respond_empty(c, "404 Not Found", "");
    }
}

/* Reads the request line and headers of a complete head of @hlen bytes. */
static int parse_head(const char *buf, size_t hlen, struct request *r)
{
    const char *eol = memmem(buf, hlen, "\r\n", 2);
    const char *sp1 = memchr(buf, ' ', (size_t)(eol - buf));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    const char *v;
    size_t vlen;
    bool http10;
    unsigned long cl = 0;

    if (!sp2 || sp1 == buf || sp2 == sp1 + 1)
        return -EINVAL;
    r->method = buf;
    r->method_len = (size_t)(sp1 - buf);
    r->target = sp1 + 1;
    r->target_len = (size_t)(sp2 - sp1 - 1);
    http10 = (size_t)(eol - sp2 - 1) == 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
    v = bench_header(eol + 2, hlen - (size_t)(eol + 2 - buf), "Content-Length", &vlen);
    if (v) {
        char num[24];

        if (vlen == 0 || vlen >= sizeof(num))
            return -EINVAL;
        memcpy(num, v, vlen);
        num[vlen] = '\0';
        if (bench_parse_ulong(num, ULONG_MAX, &cl) < 0)
            return -EINVAL;
    }
    r->chunked =
        bench_header(eol + 2, hlen - (size_t)(eol + 2 - buf), "Transfer-Encoding", &vlen) != NULL;
    v = bench_header(eol + 2, hlen - (size_t)(eol + 2 - buf), "Connection", &vlen);
    r->close = v ? bench_contains_nocase(v, vlen, "close") : http10;
    if (http10 && v && bench_contains_nocase(v, vlen, "keep-alive"))
        r->close = false;
    r->body_len = cl;
    return cl > MAX_BODY ? -EFBIG : 0;
}

/* Parses one request from @buf: 0 (complete), -EAGAIN (need more) or an error. */
static int parse_request(const char *buf, size_t len, struct request *r)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    size_t hlen;
    int rc;

    if (!end)
        return len > MAX_HEAD ? -E2BIG : -EAGAIN;
    hlen = (size_t)(end - buf) + 4;
    rc = parse_head(buf, hlen, r);
    if (rc < 0)
        return rc;
    if (len - hlen < r->body_len)
        return -EAGAIN;
    r->body = buf + hlen;
    r->total = hlen + r->body_len;
    return 0;
}

static void reject(struct conn *c, int rc)
{
    c->close_after = true;
    if (rc == -EFBIG)
        respond_empty(c, "413 Content Too Large", "");
    else if (rc == -E2BIG)
        respond_empty(c, "431 Request Header Fields Too Large", "");
    else if (rc == -ENOSYS)
        respond_empty(c, "411 Length Required", "");
    else
        respond_empty(c, "400 Bad Request", "");
}

/* Answers complete requests while nothing is pending; -1 if @c closed. */
static int process_input(struct server *s, struct conn *c)
{
    while (!c->streaming && !c->close_after && !conn_pending(c)) {
        struct request r = {0};
        size_t skip = 0;
        int rc;

        while (skip + 2 <= c->in.len && memcmp(c->in.data + skip, "\r\n", 2) == 0)
            skip += 2; /* stray CRLFs between requests */
        strbuf_consume(&c->in, skip);
        rc = parse_request(c->in.data, c->in.len, &r);
        if (rc == -EAGAIN)
            break;
        if (rc == 0 && r.chunked)
            rc = -ENOSYS;
        if (rc < 0) {
            reject(c, rc);
        } else {
            handle_request(s, c, &r);
            strbuf_consume(&c->in, r.total);
        }
        if (conn_flush(s, c) < 0)
            return -1;
    }
    if (c->streaming)
        strbuf_reset(&c->in);
    return 0;
}

/* Writes what is pending; closes @c and returns -1 on error or when done
 * with a connection that must close. */
static int conn_flush(struct server *s, struct conn *c)
{
    while (conn_pending(c)) {
        struct iovec iov[2];
        int n = 0;
        ssize_t w;

        if (c->out_off < c->out.len)
            iov[n++] = (struct iovec){c->out.data + c->out_off, c->out.len - c->out_off};
        if (c->ext_off < c->ext_len)
            iov[n++] = (struct iovec){(void *)(c->ext + c->ext_off), c->ext_len - c->ext_off};
        w = writev(c->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w < 0) {
            conn_close(s, c);
            return -1;
        }
        size_t a = c->out.len - c->out_off < (size_t)w ? c->out.len - c->out_off : (size_t)w;
        c->out_off += a;
        c->ext_off += (size_t)w - a;
    }
    if (!conn_pending(c)) {
        strbuf_reset(&c->out);
        c->out_off = 0;
        c->ext = NULL;
        c->ext_len = c->ext_off = 0;
        if (c->close_after) {
            conn_close(s, c);
            return -1;
        }
    }
    conn_want(s, c);
    return 0;
}

/* Reads what the socket has; 0 or -1 if @c closed. */
static int conn_read(struct server *s, struct conn *c)
{
    for (;;) {
        ssize_t n;

        if (c->in.len > MAX_HEAD + MAX_BODY)
            return 0; /* enough buffered; parse first */
        strbuf_reserve(&c->in, READ_CHUNK);
        n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
        if (n > 0) {
            c->in.len += (size_t)n;
            if (c->streaming)
                strbuf_reset(&c->in);
            continue;
        }
        if (n == 0) {
            c->peer_closed = true;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return 0;
        conn_close(s, c);
        return -1;
    }
}

static void on_conn(struct server *s, struct conn *c, uint32_t ev)
{
    if (c->closed)
        return; /* closed earlier in this batch (by the timer, say) */
    if (ev & EPOLLOUT) {
        if (conn_flush(s, c) < 0)
            return;
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
        if (conn_read(s, c) < 0)
            return;
    }
    if (process_input(s, c) < 0)
        return;
    if (c->peer_closed && (c->streaming || !conn_pending(c)))
        conn_close(s, c); /* else: closed once the pending answer is written */
}

static void on_accept(struct server *s)
{
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                fprintf(stderr, "backend: out of file descriptors; pausing accept\n");
                epoll_ctl(s->ep, EPOLL_CTL_DEL, s->listen_fd, NULL);
                s->accept_paused = true;
            }
            return;
        }
        bench_socket_setup(fd);
        c = xcalloc(1, sizeof(*c));
        c->all_next = s->all;
        if (s->all)
            s->all->all_prev = c;
        s->all = c;
        c->w.kind = K_CONN;
        c->fd = fd;
        c->events = EPOLLIN | EPOLLRDHUP;
        struct epoll_event e = {.events = c->events, .data.ptr = c};
        epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e);
    }
}

static void on_timer(struct server *s)
{
    uint64_t ticks;
    int64_t now = (int64_t)time_now_ns();

    if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
        perror("backend: timerfd");
    s->armed_ns = -1; /* expired: must be armed again */
    while (s->hb_head && s->hb_head->due_ns <= now) {
        struct conn *c = s->hb_head;

        hb_remove(s, c);
        if (send_heartbeat(s, c) < 0)
            continue; /* closed (hb_remove is idempotent) */
        while (c->due_ns <= now)
            c->due_ns += s->interval_ns; /* keep the phase, skip missed beats */
        hb_insert(s, c);
    }
    timer_arm(s);
}

/* The znode is gone: refuse new connections first, so that nobody reaches
 * this master again, then end every connection, and stop. */
static void on_deposed(struct server *s)
{
    int64_t t0 = (int64_t)time_now_ns();
    unsigned long n = 0;

    epoll_ctl(s->ep, EPOLL_CTL_DEL, s->listen_fd, NULL);
    close(s->listen_fd);
    s->listen_fd = -1;
    s->accept_paused = false;
    while (s->all) {
        conn_close(s, s->all);
        n++;
    }
    printf("backend deposed at_ns=%" PRId64 " closed=%lu close_ms=%.3f\n", t0, n,
           (double)((int64_t)time_now_ns() - t0) / 1e6);
    fflush(stdout);
    s->stop = true;
}

/* ---- setup and main --------------------------------------------------- */

static int open_listener(struct server *s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->opt.port)};
    socklen_t len = sizeof(sa);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 || inet_pton(AF_INET, s->opt.host, &sa.sin_addr) != 1)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        goto fail;
    s->listen_fd = fd;
    return ntohs(sa.sin_port);
fail:
    fprintf(stderr, "backend: cannot listen on %s:%lu: %s\n", s->opt.host, s->opt.port,
            strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static void watch_fd(struct server *s, int fd, struct watch *w, enum kind kind)
{
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = w};

    w->kind = kind;
    epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &e);
}

/* Blocks the stop signals (before any thread starts) and opens a signalfd. */
static int open_signals(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* With --exit-when-deposed: an eventfd that zkreg writes to when the znode goes. */
static int watch_deposed(struct server *s, struct zkreg *reg)
{
    s->deposed_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->deposed_fd < 0 || zkreg_watch_removal(reg, s->deposed_fd) < 0) {
        fprintf(stderr, "backend: cannot watch the znode\n");
        return -1;
    }
    watch_fd(s, s->deposed_fd, &s->w_deposed, K_DEPOSED);
    return 0;
}

static void run(struct server *s)
{
    struct epoll_event evs[MAX_EVENTS];

    while (!s->stop) {
        int n = epoll_wait(s->ep, evs, MAX_EVENTS, -1);

        for (int i = 0; i < n; i++) {
            struct watch *w = evs[i].data.ptr;

            if (w->kind == K_LISTEN)
                on_accept(s);
            else if (w->kind == K_TIMER)
                on_timer(s);
            else if (w->kind == K_SIGNAL)
                s->stop = true;
            else if (w->kind == K_DEPOSED)
                on_deposed(s);
            else
                on_conn(s, (struct conn *)w, evs[i].events);
        }
        conns_free(s);
    }
}

int main(int argc, char **argv)
{
    struct server s = {.deposed_fd = -1};
    struct zkreg *reg = NULL;
    char znode[512] = "";
    struct errbuf err = {{0}};
    int port;

    if (parse_options(argc, argv, &s.opt) < 0)
        return 2;
    bench_raise_nofile();
    s.signal_fd = open_signals();
    s.ep = epoll_create1(EPOLL_CLOEXEC);
    s.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    s.interval_ns = (int64_t)s.opt.heartbeat_ms * 1000000;
    s.rng = time_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
    port = open_listener(&s);
    if (port < 0 || s.signal_fd < 0 || s.ep < 0 || s.timer_fd < 0)
        return 1;
    s.port = port;
    s.master_json = zkreg_master_json(s.opt.id, s.opt.host, (unsigned)port, MESOS_VERSION);
    make_state(&s);
    if (s.opt.zk && zkreg_register(s.opt.zk, s.master_json, &reg, znode, sizeof(znode), &err) < 0) {
        fprintf(stderr, "backend: %s\n", err.msg);
        return 1;
    }
    watch_fd(&s, s.listen_fd, &s.w_listen, K_LISTEN);
    watch_fd(&s, s.timer_fd, &s.w_timer, K_TIMER);
    watch_fd(&s, s.signal_fd, &s.w_signal, K_SIGNAL);
    if (s.opt.exit_when_deposed && watch_deposed(&s, reg) < 0)
        return 1;
    printf("backend ready port=%d%s%s\n", port, reg ? " znode=" : "", znode);
    fflush(stdout);
    run(&s);
    zkreg_close(reg);
    while (s.all)
        conn_close(&s, s.all);
    conns_free(&s);
    free(s.master_json);
    strbuf_done(&s.state);
    fprintf(stderr,
            "backend: %" PRIu64 " requests, %" PRIu64 " streams, %" PRIu64
            " heartbeats sent, %" PRIu64 " skipped (stream backlog)\n",
            s.n_requests, s.n_streams, s.n_heartbeats, s.n_skipped);
    return 0;
}
