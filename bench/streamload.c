/* streamload.c: opens many concurrent Mesos SUBSCRIBE event streams and
 * measures how they are opened and how fast their HEARTBEAT events arrive.
 *
 * Raw non-blocking sockets and one epoll loop. Each stream POSTs a small JSON
 * SUBSCRIBE call and parses the chunked RecordIO answer incrementally. A
 * stream counts as opened on status 200 plus its first record. Once every
 * stream is opened or has failed, heartbeats are measured for --duration
 * seconds: relay delay = now(CLOCK_MONOTONIC) - the record's "sent_ns" (the
 * backend and this program share the machine's monotonic clock). With --pid
 * it samples that process's VmRSS before any stream, after opening them all,
 * and at the end, and its CPU use during the measurement. */
#include "config.h"

#include "benchutil.h"
#include "procstat.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEAD   (16 * 1024) /* largest response head accepted */
#define MAX_RECORD (4 << 20)   /* largest RecordIO record accepted */
#define MAX_EVENTS 512
#define READ_BUF   (64 * 1024)

struct options {
    struct sockaddr_in target;
    const char *target_text;
    const char *path;
    unsigned long streams, rate, inflight, duration_s, open_timeout_s;
    long pid;
    bool json;
    const char *samples_file;
};

enum sstate { S_NEW, S_CONNECTING, S_HEAD, S_BODY, S_DONE };
enum cstate { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_TRAILER };

struct stream {
    int fd;
    enum sstate st;
    struct strbuf head; /* response head until complete */
    bool chunked;
    enum cstate ck; /* chunked decoder */
    uint64_t ck_left;
    bool ck_line_empty; /* trailer: the line read so far is empty */
    bool rec_in_len;    /* RecordIO decoder: reading the length line */
    uint64_t rec_len;
    struct strbuf rec;
    bool opened;
    int64_t t_start, t_open;
    uint64_t beats; /* heartbeats during the measurement */
};

/* A growable array of int64 samples (nanoseconds). */
struct samples {
    int64_t *v;
    size_t n, cap;
};

struct load {
    struct options opt;
    int ep;
    struct stream *streams;
    char *request;
    size_t request_len;
    unsigned long started, inflight, opened, failed, ended_early;
    int64_t t0, t_all_open, t_measure, t_end;
    bool measuring;
    struct samples delays, open_lat;
    struct samples recv_at; /* with --samples: when each delay was seen */
    uint64_t records;
    double cpu_pct; /* of --pid during the measurement, or -1 */
    char first_error[160];
    unsigned long fail_connect, fail_status, fail_closed, fail_timeout;
};

static volatile sig_atomic_t interrupted;

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: streamload --target HOST:PORT [OPTIONS]\n"
            "Opens N concurrent Mesos SUBSCRIBE streams and measures heartbeat relay delay.\n\n"
            "  --target HOST:PORT   where to connect (the daemon, or the backend directly)\n"
            "  --path PATH          request path (default /api/v1/scheduler)\n"
            "  --streams N          concurrent streams (default 1000)\n"
            "  --rate R             new streams per second; 0 = as fast as possible (default 0)\n"
            "  --inflight N         at most N streams connecting/not yet open (default 500)\n"
            "  --duration S         measure heartbeats for S seconds once all are open "
            "(default 10)\n"
            "  --open-timeout S     give up opening after S seconds (default 120)\n"
            "  --pid PID            sample VmRSS and CPU of this process (the daemon)\n"
            "  --json               print a one-line JSON summary instead of text\n"
            "  --samples FILE       write every heartbeat as \"<ms since start> <delay ms>\"\n"
            "  -h, --help           print this help\n");
}

static int parse_number(int opt, const char *arg, struct options *o)
{
    unsigned long v;
    int rc = bench_parse_ulong(arg, 100000000, &v);

    if (rc < 0)
        return rc;
    switch (opt) {
    case 'n':
        o->streams = v;
        break;
    case 'r':
        o->rate = v;
        break;
    case 'i':
        o->inflight = v ? v : 1;
        break;
    case 'd':
        o->duration_s = v;
        break;
    case 'o':
        o->open_timeout_s = v;
        break;
    case 'P':
        o->pid = (long)v;
        break;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"target", required_argument, NULL, 't'},
                                             {"path", required_argument, NULL, 'p'},
                                             {"streams", required_argument, NULL, 'n'},
                                             {"rate", required_argument, NULL, 'r'},
                                             {"inflight", required_argument, NULL, 'i'},
                                             {"duration", required_argument, NULL, 'd'},
                                             {"open-timeout", required_argument, NULL, 'o'},
                                             {"pid", required_argument, NULL, 'P'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"samples", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct options){.path = "/api/v1/scheduler",
                          .streams = 1000,
                          .inflight = 500,
                          .duration_s = 10,
                          .open_timeout_s = 120};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (ch == 't') {
            o->target_text = optarg;
            rc = bench_parse_target(optarg, &o->target);
        } else if (ch == 'p') {
            o->path = optarg;
        } else if (ch == 'j') {
            o->json = true;
        } else if (ch == 's') {
            o->samples_file = optarg;
        } else if (ch == 'h') {
            usage(stdout);
            exit(0);
        } else if (ch == '?') {
            rc = -EINVAL;
        } else {
            rc = parse_number(ch, optarg, o);
        }
    }
    if (rc == 0 && (optind != argc || !o->target_text || o->streams == 0))
        rc = -EINVAL;
    if (rc < 0)
        usage(stderr);
    return rc;
}

/* ---- samples --------------------------------------------------------- */

static void samples_add(struct samples *s, int64_t v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4096;
        s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
    }
    s->v[s->n++] = v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Returns the @p-th percentile (0..100) in ms of sorted samples, or -1. */
static double percentile_ms(const struct samples *s, double p)
{
    size_t i;

    if (s->n == 0)
        return -1;
    i = (size_t)(p / 100.0 * (double)(s->n - 1) + 0.5);
    return (double)s->v[i] / 1e6;
}

/* ---- streams ---------------------------------------------------------- */

static void fail_note(struct load *l, const char *what, int err)
{
    if (!l->first_error[0])
        snprintf(l->first_error, sizeof(l->first_error), "%s%s%s", what, err ? ": " : "",
                 err ? strerror(err) : "");
}

/* Ends stream @s; @ok says whether it ended in an orderly way (at the end). */
static void stream_end(struct load *l, struct stream *s, unsigned long *reason)
{
    if (s->fd >= 0) {
        epoll_ctl(l->ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
    }
    if (s->st != S_DONE && !s->opened) {
        l->inflight--;
        l->failed++;
        if (reason)
            (*reason)++;
    } else if (s->st != S_DONE && reason) {
        l->ended_early++;
    }
    s->st = S_DONE;
    strbuf_done(&s->head);
    strbuf_done(&s->rec);
}

static void stream_start(struct load *l, struct stream *s)
{
    struct epoll_event e = {.events = EPOLLOUT, .data.ptr = s};

    l->started++;
    l->inflight++;
    s->t_start = (int64_t)time_now_ns();
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        fail_note(l, "socket", errno);
        stream_end(l, s, &l->fail_connect);
        return;
    }
    bench_socket_setup(s->fd);
    s->st = S_CONNECTING;
    if (connect(s->fd, (struct sockaddr *)&l->opt.target, sizeof(l->opt.target)) < 0 &&
        errno != EINPROGRESS) {
        fail_note(l, "connect", errno);
        stream_end(l, s, &l->fail_connect);
        return;
    }
    epoll_ctl(l->ep, EPOLL_CTL_ADD, s->fd, &e);
}

/* The connection is up: send the whole (small) request at once. */
static void stream_connected(struct load *l, struct stream *s)
{
    int err = 0;
    socklen_t len = sizeof(err);
    struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = s};
    ssize_t n;

    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        fail_note(l, "connect", err);
        stream_end(l, s, &l->fail_connect);
        return;
    }
    n = send(s->fd, l->request, l->request_len, MSG_NOSIGNAL);
    if (n != (ssize_t)l->request_len) {
        fail_note(l, "send", n < 0 ? errno : EAGAIN);
        stream_end(l, s, &l->fail_connect);
        return;
    }
    s->st = S_HEAD;
    s->rec_in_len = true;
    epoll_ctl(l->ep, EPOLL_CTL_MOD, s->fd, &e);
}

static void on_record(struct load *l, struct stream *s, const char *rec, size_t len)
{
    const char *p;
    int64_t now = (int64_t)time_now_ns();

    l->records++;
    if (!s->opened) {
        s->opened = true;
        s->t_open = now;
        l->opened++;
        l->inflight--;
        samples_add(&l->open_lat, now - s->t_start);
        return;
    }
    if (!memmem(rec, len, "\"HEARTBEAT\"", 11))
        return;
    p = memmem(rec, len, "\"sent_ns\":", 10);
    if (!l->measuring)
        return; /* only heartbeats after every stream is open count */
    s->beats++;
    if (!p)
        return;
    samples_add(&l->delays, now - strtoll(p + 10, NULL, 10));
    if (l->opt.samples_file)
        samples_add(&l->recv_at, now - l->t_measure);
}

/* Feeds body bytes to the RecordIO decoder; -1 on a framing error. */
static int recordio_feed(struct load *l, struct stream *s, const char *p, size_t n)
{
    while (n > 0) {
        if (s->rec_in_len) {
            if (*p == '\n') {
                if (s->rec_len == 0 || s->rec_len > MAX_RECORD)
                    return -1;
                s->rec_in_len = false;
                strbuf_reset(&s->rec);
            } else if (*p >= '0' && *p <= '9' && s->rec_len < MAX_RECORD) {
                s->rec_len = s->rec_len * 10 + (uint64_t)(*p - '0');
            } else {
                return -1;
            }
            p++, n--;
            continue;
        }
        size_t take = s->rec_len - s->rec.len < n ? s->rec_len - s->rec.len : n;
        strbuf_append(&s->rec, p, take);
        p += take, n -= take;
        if (s->rec.len == s->rec_len) {
            on_record(l, s, s->rec.data, s->rec.len);
            s->rec_in_len = true;
            s->rec_len = 0;
        }
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* One byte of chunk framing (size line, CRLF after data, trailer);
 * returns 0, 1 at the end of the body, or -1 on an error. */
static int chunk_frame_byte(struct stream *s, char c)
{
    switch (s->ck) {
    case CK_SIZE:
        if (hexval(c) >= 0 && s->ck_left < (1ULL << 40))
            s->ck_left = s->ck_left * 16 + (uint64_t)hexval(c);
        else if (c == ';' || c == ' ')
            s->ck = CK_EXT;
        else if (c == '\r')
            s->ck = CK_SIZE_LF;
        else
            return -1;
        return 0;
    case CK_EXT:
        if (c == '\r')
            s->ck = CK_SIZE_LF;
        return 0;
    case CK_SIZE_LF:
        if (c != '\n')
            return -1;
        s->ck = s->ck_left ? CK_DATA : CK_TRAILER;
        s->ck_line_empty = true;
        return 0;
    case CK_DATA_CR:
        s->ck = CK_DATA_LF;
        return c == '\r' ? 0 : -1;
    case CK_DATA_LF:
        s->ck = CK_SIZE;
        return c == '\n' ? 0 : -1;
    case CK_TRAILER:
        if (c == '\n' && s->ck_line_empty)
            return 1;
        if (c == '\n')
            s->ck_line_empty = true;
        else if (c != '\r')
            s->ck_line_empty = false;
        return 0;
    case CK_DATA:
        break;
    }
    return -1;
}

/* Feeds response body bytes; 0, 1 at the end of the body, -1 on an error. */
static int body_feed(struct load *l, struct stream *s, const char *p, size_t n)
{
    if (!s->chunked)
        return recordio_feed(l, s, p, n);
    while (n > 0) {
        if (s->ck == CK_DATA) {
            size_t take = s->ck_left < n ? (size_t)s->ck_left : n;

            if (recordio_feed(l, s, p, take) < 0)
                return -1;
            p += take, n -= take;
            s->ck_left -= take;
            if (s->ck_left == 0)
                s->ck = CK_DATA_CR;
            continue;
        }
        int rc = chunk_frame_byte(s, *p);
        if (rc != 0)
            return rc;
        p++, n--;
    }
    return 0;
}

/* Parses the response head once complete; returns the bytes it used,
 * -2 for a status other than 200, or -1 for a head too large. */
static long head_feed(struct load *l, struct stream *s, const char *p, size_t n)
{
    const char *end, *v;
    size_t used, vlen, before = s->head.len;
    int status = 0;

    strbuf_append(&s->head, p, n);
    end = memmem(s->head.data, s->head.len, "\r\n\r\n", 4);
    if (!end) {
        if (s->head.len <= MAX_HEAD)
            return (long)n;
        fail_note(l, "response head too large", 0);
        return -1;
    }
    used = (size_t)(end + 4 - s->head.data) - before;
    if (sscanf(s->head.data, "HTTP/1.%*c %d", &status) != 1 || status != 200) {
        char what[64];

        snprintf(what, sizeof(what), "HTTP status %d", status);
        fail_note(l, what, 0);
        return -2;
    }
    v = bench_header(s->head.data, (size_t)(end - s->head.data), "Transfer-Encoding", &vlen);
    s->chunked = v && bench_contains_nocase(v, vlen, "chunked");
    s->st = S_BODY;
    strbuf_done(&s->head);
    return (long)used;
}

/* Handles the bytes read from a stream; -1 when it must end (-2 when the
 * status was not 200). */
static int stream_input(struct load *l, struct stream *s, const char *p, size_t n)
{
    if (s->st == S_HEAD) {
        long used = head_feed(l, s, p, n);

        if (used < 0)
            return (int)used;
        p += used, n -= (size_t)used;
    }
    if (s->st == S_BODY && n > 0) {
        int rc = body_feed(l, s, p, n);

        if (rc < 0)
            fail_note(l, "bad chunked RecordIO framing", 0);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void stream_readable(struct load *l, struct stream *s)
{
    static char buf[READ_BUF];

    for (;;) {
        ssize_t n = read(s->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (!s->opened)
                fail_note(l, "closed before the first record", n < 0 ? errno : 0);
            stream_end(l, s, &l->fail_closed);
            return;
        }
        int rc = stream_input(l, s, buf, (size_t)n);
        if (rc < 0) {
            stream_end(l, s, rc == -2 ? &l->fail_status : &l->fail_closed);
            return;
        }
        if ((size_t)n < sizeof(buf))
            return;
    }
}

/* ---- the run ---------------------------------------------------------- */

/* Starts the streams that are due; returns ms until the next is due. */
static int start_due(struct load *l, int64_t now)
{
    while (l->started < l->opt.streams && l->inflight < l->opt.inflight) {
        if (l->opt.rate) {
            int64_t due = l->t0 + (int64_t)(l->started * 1000000000ULL / l->opt.rate);

            if (due > now)
                return (int)((due - now + 999999) / 1000000);
        }
        stream_start(l, &l->streams[l->started]);
    }
    return -1;
}

static void open_phase_over(struct load *l, int64_t now)
{
    for (unsigned long i = 0; i < l->started; i++) {
        struct stream *s = &l->streams[i];

        if (s->st != S_DONE && !s->opened) {
            fail_note(l, "not open at --open-timeout", 0);
            stream_end(l, s, &l->fail_timeout);
        }
    }
    l->t_all_open = now;
    l->t_measure = now;
    l->t_end = now + (int64_t)l->opt.duration_s * 1000000000;
    l->measuring = true;
}

static int timeout_ms(const struct load *l, int next_start, int64_t now)
{
    int64_t deadline =
        l->measuring ? l->t_end : l->t0 + (int64_t)l->opt.open_timeout_s * 1000000000;
    int ms = (int)((deadline - now + 999999) / 1000000);

    if (next_start >= 0 && next_start < ms)
        ms = next_start;
    return ms < 0 ? 0 : ms;
}

static void dispatch(struct load *l, struct stream *s, uint32_t ev)
{
    if (s->st == S_CONNECTING)
        stream_connected(l, s);
    else if (s->st == S_HEAD || s->st == S_BODY)
        stream_readable(l, s);
    (void)ev;
}

static void run(struct load *l, long *rss_open)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t now = l->t0 = (int64_t)time_now_ns();
    long long cpu0 = -1;

    for (;;) {
        int next = l->measuring ? -1 : start_due(l, now);
        int n;

        if (!l->measuring && (l->opened + l->failed == l->opt.streams ||
                              now >= l->t0 + (int64_t)l->opt.open_timeout_s * 1000000000)) {
            open_phase_over(l, now);
            *rss_open = l->opt.pid ? proc_status_kb(l->opt.pid, "VmRSS") : -1;
            cpu0 = l->opt.pid ? proc_cpu_ticks(l->opt.pid) : -1;
        }
        if ((l->measuring && (now >= l->t_end || l->opened == 0)) || interrupted)
            break;
        n = epoll_wait(l->ep, evs, MAX_EVENTS, timeout_ms(l, next, now));
        for (int i = 0; i < n; i++)
            dispatch(l, evs[i].data.ptr, evs[i].events);
        now = (int64_t)time_now_ns();
    }
    l->t_end = now;
    l->cpu_pct = -1;
    if (cpu0 >= 0) {
        long long cpu1 = proc_cpu_ticks(l->opt.pid);
        double secs = (double)(l->t_end - l->t_measure) / 1e9;

        if (secs > 0 && cpu1 >= cpu0)
            l->cpu_pct = 100.0 * (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) / secs;
    }
}

/* ---- report ----------------------------------------------------------- */

struct summary {
    double open_s, p50, p99, max, open_p50, open_p99, cpu_pct, per_stream_kb;
    unsigned long still_open, silent;
    long rss_idle, rss_open, rss_end;
};

/* Writes the raw samples (before they are sorted) for plotting. */
static void write_samples(const struct load *l)
{
    FILE *f = fopen(l->opt.samples_file, "w");

    if (!f) {
        perror(l->opt.samples_file);
        return;
    }
    for (size_t i = 0; i < l->delays.n && i < l->recv_at.n; i++)
        fprintf(f, "%.3f %.3f\n", (double)l->recv_at.v[i] / 1e6, (double)l->delays.v[i] / 1e6);
    fclose(f);
}

static void summarize(struct load *l, long rss_idle, long rss_open, struct summary *r)
{
    *r = (struct summary){.rss_idle = rss_idle, .rss_open = rss_open, .per_stream_kb = -1};
    for (unsigned long i = 0; i < l->started; i++) {
        const struct stream *s = &l->streams[i];

        if (s->opened && s->st != S_DONE) {
            r->still_open++;
            if (s->beats == 0)
                r->silent++;
        }
    }
    if (l->delays.n)
        qsort(l->delays.v, l->delays.n, sizeof(int64_t), cmp_i64);
    if (l->open_lat.n)
        qsort(l->open_lat.v, l->open_lat.n, sizeof(int64_t), cmp_i64);
    r->open_s = (double)(l->t_all_open - l->t0) / 1e9;
    r->p50 = percentile_ms(&l->delays, 50);
    r->p99 = percentile_ms(&l->delays, 99);
    r->max = percentile_ms(&l->delays, 100);
    r->open_p50 = percentile_ms(&l->open_lat, 50);
    r->open_p99 = percentile_ms(&l->open_lat, 99);
    r->cpu_pct = l->cpu_pct;
    r->rss_end = l->opt.pid ? proc_status_kb(l->opt.pid, "VmRSS") : -1;
    if (rss_idle >= 0 && rss_open >= 0 && l->opened)
        r->per_stream_kb = (double)(rss_open - rss_idle) / (double)l->opened;
}

static void print_json(const struct load *l, const struct summary *r)
{
    printf("{\"target\":\"%s\",\"streams\":%lu,\"opened\":%lu,\"failed\":%lu,"
           "\"open_s\":%.3f,\"open_p50_ms\":%.3f,\"open_p99_ms\":%.3f,"
           "\"measure_s\":%.3f,\"heartbeats\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"max_ms\":%.3f,\"still_open\":%lu,\"ended_early\":%lu,\"silent\":%lu,"
           "\"rss_idle_kb\":%ld,\"rss_open_kb\":%ld,\"rss_end_kb\":%ld,"
           "\"rss_per_stream_kb\":%.2f,\"cpu_pct\":%.1f,\"first_error\":\"%s\"}\n",
           l->opt.target_text, l->opt.streams, l->opened, l->failed, r->open_s, r->open_p50,
           r->open_p99, (double)(l->t_end - l->t_measure) / 1e9, l->delays.n, r->p50, r->p99,
           r->max, r->still_open, l->ended_early, r->silent, r->rss_idle, r->rss_open, r->rss_end,
           r->per_stream_kb, r->cpu_pct, l->first_error);
}

static void print_text(const struct load *l, const struct summary *r)
{
    printf("target %s: %lu streams, opened %lu, failed %lu (connect %lu, status %lu, "
           "closed %lu, timeout %lu)%s%s\n",
           l->opt.target_text, l->opt.streams, l->opened, l->failed, l->fail_connect,
           l->fail_status, l->fail_closed, l->fail_timeout, l->first_error[0] ? "; first: " : "",
           l->first_error);
    printf("open: all done in %.3f s; per stream p50 %.3f ms, p99 %.3f ms\n", r->open_s,
           r->open_p50, r->open_p99);
    printf("heartbeats: %zu in %.1f s; relay delay p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           l->delays.n, (double)(l->t_end - l->t_measure) / 1e9, r->p50, r->p99, r->max);
    printf("at the end: %lu still open, %lu ended early, %lu silent during the measurement\n",
           r->still_open, l->ended_early, r->silent);
    if (l->opt.pid)
        printf("pid %ld: VmRSS idle %ld KiB, open %ld KiB, end %ld KiB; %.2f KiB per stream; "
               "CPU %.1f%% during the measurement\n",
               l->opt.pid, r->rss_idle, r->rss_open, r->rss_end, r->per_stream_kb, r->cpu_pct);
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv)
{
    struct load l = {0};
    struct summary r;
    long rss_idle = -1, rss_open = -1;

    if (parse_options(argc, argv, &l.opt) < 0)
        return 2;
    if (bench_raise_nofile() < (long)l.opt.streams + 16)
        fprintf(stderr, "streamload: warning: the open-files limit is below --streams\n");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    l.streams = xcalloc(l.opt.streams, sizeof(*l.streams));
    for (unsigned long i = 0; i < l.opt.streams; i++)
        l.streams[i].fd = -1;
    l.request =
        bench_subscribe_request(l.opt.path, l.opt.target_text, "streamload", false, &l.request_len);
    if (l.opt.pid && (rss_idle = proc_status_kb(l.opt.pid, "VmRSS")) < 0) {
        fprintf(stderr, "streamload: cannot read /proc/%ld/status\n", l.opt.pid);
        return 1;
    }
    run(&l, &rss_open);
    if (l.opt.samples_file)
        write_samples(&l);
    summarize(&l, rss_idle, rss_open, &r);
    if (l.opt.json)
        print_json(&l, &r);
    else
        print_text(&l, &r);
    for (unsigned long i = 0; i < l.started; i++)
        stream_end(&l, &l.streams[i], NULL);
    free(l.streams);
    free(l.request);
    free(l.delays.v);
    free(l.open_lat.v);
    free(l.recv_at.v);
    return l.opened == l.opt.streams ? 0 : 3;
}
