/* soak-streams.c: keeps N Mesos SUBSCRIBE event streams open through a target
 * (mesos-leaderd) for as long as it runs, opening each one again when it
 * ends, as frameworks do; the stream half of bench/soak's load.
 *
 * Raw non-blocking sockets and one epoll loop. Each stream POSTs a small JSON
 * SUBSCRIBE call with "Connection: close" (so the end of a stream is the end
 * of its connection) and reads the answer without decoding it: any bytes
 * count as life. A stream counts as open on a 200 head. A stream that was
 * open is opened again after 0-250 ms, a failed attempt after 0.5-1.5 s.
 * Every 100 ms it rewrites --status FILE with one line of counters (and the
 * wall-clock time, so that a reader can tell a fresh line); with
 * --id-file it keeps there the framework ID and Mesos-Stream-Id of one open
 * stream (for the scheduler calls of the load). SIGTERM or SIGINT closes
 * every stream, prints the final status line to stdout and exits 0. */
#include "config.h"

#include "benchutil.h"
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

#define MAX_HEAD      (16 * 1024) /* largest response head accepted */
#define MAX_ID_SCAN   (16 * 1024) /* body bytes searched for the framework ID */
#define MAX_EVENTS    256
#define READ_BUF      (64 * 1024)
#define NS_PER_MS     1000000LL
#define NS_PER_S      1000000000LL
#define STATUS_PERIOD (100 * NS_PER_MS)

struct options {
    struct sockaddr_in target;
    const char *target_text;
    unsigned long streams, silent_after_s, open_timeout_s;
    const char *status_file, *id_file;
};

enum sstate { S_WAIT, S_CONNECTING, S_HEAD, S_OPEN };

struct stream {
    int fd;
    enum sstate st;
    int64_t due;        /* S_WAIT: when to connect; S_CONNECTING/S_HEAD: give up */
    int64_t last_rx;    /* S_OPEN: when bytes last arrived */
    bool silent;        /* S_OPEN: counted in silent_total already */
    struct strbuf buf;  /* response head, then the start of the body */
    char stream_id[64]; /* Mesos-Stream-Id of the answer */
    bool id_done;       /* the body was searched for the framework ID */
};

struct soak {
    struct options opt;
    int ep;
    struct stream *streams;
    char *request;
    size_t request_len;
    long id_owner; /* stream whose IDs the --id-file holds, or -1 */
    uint64_t opened_total, ended_total, failed_connect, failed_status, failed_closed,
        failed_timeout, silent_total, bytes;
    int64_t t0;
};

static volatile sig_atomic_t interrupted;

static void usage(FILE *f)
{
    fprintf(f, "Usage: soak-streams --target HOST:PORT [OPTIONS]\n"
               "Keeps N SUBSCRIBE streams open through HOST:PORT, opening each again when it "
               "ends.\n\n"
               "  --target HOST:PORT   where to connect (mesos-leaderd)\n"
               "  --streams N          streams to keep open (default 200)\n"
               "  --status FILE        rewrite FILE every 100 ms with the counters\n"
               "  --id-file FILE       keep the framework ID and Mesos-Stream-Id of an open\n"
               "                       stream in FILE (two lines)\n"
               "  --silent-after S     an open stream silent this long counts as silent "
               "(default 10)\n"
               "  --open-timeout S     give up an attempt without an answer after S s "
               "(default 90)\n"
               "  -h, --help           print this help\n"
               "SIGTERM or SIGINT closes every stream, prints the counters and exits 0.\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"target", required_argument, NULL, 't'},
                                             {"streams", required_argument, NULL, 'n'},
                                             {"status", required_argument, NULL, 's'},
                                             {"id-file", required_argument, NULL, 'i'},
                                             {"silent-after", required_argument, NULL, 'q'},
                                             {"open-timeout", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int ch, rc = 0;

    *o = (struct options){.streams = 200, .silent_after_s = 10, .open_timeout_s = 90};
    while (rc == 0 && (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 't':
            o->target_text = optarg;
            rc = bench_parse_target(optarg, &o->target);
            break;
        case 'n':
            rc = bench_parse_ulong(optarg, 1000000, &o->streams);
            break;
        case 's':
            o->status_file = optarg;
            break;
        case 'i':
            o->id_file = optarg;
            break;
        case 'q':
            rc = bench_parse_ulong(optarg, 86400, &o->silent_after_s);
            break;
        case 'o':
            rc = bench_parse_ulong(optarg, 86400, &o->open_timeout_s);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            rc = -EINVAL;
        }
    }
    if (rc == 0 && (optind != argc || !o->target_text || o->streams == 0))
        rc = -EINVAL;
    if (rc < 0)
        usage(stderr);
    return rc;
}

/* A random delay in [lo_ms, hi_ms), in ns. */
static int64_t jitter_ns(int lo_ms, int hi_ms)
{
    return ((int64_t)lo_ms + random() % (hi_ms - lo_ms)) * NS_PER_MS;
}

/* ---- the --id-file ------------------------------------------------------- */

/* Writes @fid and @sid to the --id-file atomically (rename). */
static void write_ids(const struct soak *k, const char *fid, size_t fid_len, const char *sid)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", k->opt.id_file);
    f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "%.*s\n%s\n", (int)fid_len, fid, sid);
    if (fclose(f) == 0)
        rename(tmp, k->opt.id_file);
}

/* Once the body holds the framework ID, stream @i may become the owner of
 * the --id-file. */
static void scan_ids(struct soak *k, long i)
{
    static const char key[] = "\"framework_id\":{\"value\":\"";
    struct stream *s = &k->streams[i];
    const char *p, *q = NULL, *end = s->buf.data + s->buf.len;

    if (s->id_done)
        return;
    if (!k->opt.id_file) {
        s->id_done = true;
        strbuf_done(&s->buf);
        return;
    }
    p = memmem(s->buf.data, s->buf.len, key, sizeof(key) - 1);
    if (p) {
        p += sizeof(key) - 1;
        q = memchr(p, '"', (size_t)(end - p));
    }
    if (!q && s->buf.len < MAX_ID_SCAN)
        return; /* not all there yet */
    s->id_done = true;
    if (q && k->id_owner < 0 && s->stream_id[0]) {
        write_ids(k, p, (size_t)(q - p), s->stream_id);
        k->id_owner = i;
    }
    strbuf_done(&s->buf);
}

/* ---- streams ------------------------------------------------------------- */

/* Closes stream @i; it is opened again after @pause ns. */
static void stream_close(struct soak *k, long i, int64_t now, int64_t pause)
{
    struct stream *s = &k->streams[i];

    if (s->fd >= 0) {
        epoll_ctl(k->ep, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
        s->fd = -1;
    }
    if (k->id_owner == i)
        k->id_owner = -1;
    strbuf_done(&s->buf);
    s->st = S_WAIT;
    s->silent = false;
    s->stream_id[0] = '\0';
    s->id_done = false;
    s->due = now + pause;
}

/* Attempt @i failed before it opened: count it under @counter. */
static void stream_fail(struct soak *k, long i, int64_t now, uint64_t *counter)
{
    (*counter)++;
    stream_close(k, i, now, jitter_ns(500, 1500));
}

/* Open stream @i ended. */
static void stream_ended(struct soak *k, long i, int64_t now)
{
    k->ended_total++;
    stream_close(k, i, now, jitter_ns(0, 250));
}

static void stream_connect(struct soak *k, long i, int64_t now)
{
    struct stream *s = &k->streams[i];
    struct epoll_event e = {.events = EPOLLOUT, .data.u64 = (uint64_t)i};

    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        stream_fail(k, i, now, &k->failed_connect);
        return;
    }
    bench_socket_setup(s->fd);
    s->st = S_CONNECTING;
    s->due = now + (int64_t)k->opt.open_timeout_s * NS_PER_S;
    if (connect(s->fd, (struct sockaddr *)&k->opt.target, sizeof(k->opt.target)) < 0 &&
        errno != EINPROGRESS) {
        stream_fail(k, i, now, &k->failed_connect);
        return;
    }
    epoll_ctl(k->ep, EPOLL_CTL_ADD, s->fd, &e);
}

/* Connected: send the whole (small) request at once. */
static void stream_send(struct soak *k, long i, int64_t now)
{
    struct stream *s = &k->streams[i];
    struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)i};
    int err = 0;
    socklen_t len = sizeof(err);

    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err || send(s->fd, k->request, k->request_len, MSG_NOSIGNAL) != (ssize_t)k->request_len) {
        stream_fail(k, i, now, &k->failed_connect);
        return;
    }
    s->st = S_HEAD;
    epoll_ctl(k->ep, EPOLL_CTL_MOD, s->fd, &e);
}

/* The head is complete in s->buf up to @end: 0 when the stream opened,
 * -1 when the answer is not 200. */
static int head_done(struct soak *k, long i, const char *end, int64_t now)
{
    struct stream *s = &k->streams[i];
    const char *v;
    size_t vlen, used = (size_t)(end + 4 - s->buf.data);
    int status = 0;

    if (sscanf(s->buf.data, "HTTP/1.%*c %d", &status) != 1 || status != 200)
        return -1;
    v = bench_header(s->buf.data, used, "Mesos-Stream-Id", &vlen);
    if (v && vlen < sizeof(s->stream_id)) {
        memcpy(s->stream_id, v, vlen);
        s->stream_id[vlen] = '\0';
    }
    strbuf_consume(&s->buf, used);
    s->st = S_OPEN;
    s->last_rx = now;
    k->opened_total++;
    return 0;
}

static void stream_input(struct soak *k, long i, const char *p, size_t n, int64_t now)
{
    struct stream *s = &k->streams[i];
    const char *end;

    k->bytes += n;
    if (s->st == S_OPEN) {
        s->last_rx = now;
        s->silent = false;
        if (!s->id_done) {
            strbuf_append(&s->buf, p, n);
            scan_ids(k, i);
        }
        return;
    }
    strbuf_append(&s->buf, p, n);
    end = memmem(s->buf.data, s->buf.len, "\r\n\r\n", 4);
    if (!end) {
        if (s->buf.len > MAX_HEAD)
            stream_fail(k, i, now, &k->failed_status);
        return;
    }
    if (head_done(k, i, end, now) < 0) {
        stream_fail(k, i, now, &k->failed_status);
        return;
    }
    scan_ids(k, i);
}

static void stream_readable(struct soak *k, long i, int64_t now)
{
    static char buf[READ_BUF];
    struct stream *s = &k->streams[i];

    for (;;) {
        ssize_t n = read(s->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            if (s->st == S_OPEN)
                stream_ended(k, i, now);
            else
                stream_fail(k, i, now, &k->failed_closed);
            return;
        }
        stream_input(k, i, buf, (size_t)n, now);
        if (s->st == S_WAIT || (size_t)n < sizeof(buf))
            return;
    }
}

/* ---- the run ------------------------------------------------------------- */

/* Starts due streams, gives up stalled attempts, marks silent streams;
 * returns the time of the next such event. */
static int64_t run_timers(struct soak *k, int64_t now)
{
    int64_t next = now + STATUS_PERIOD, silent = (int64_t)k->opt.silent_after_s * NS_PER_S;

    for (long i = 0; i < (long)k->opt.streams; i++) {
        struct stream *s = &k->streams[i];

        if (s->st == S_WAIT && s->due <= now)
            stream_connect(k, i, now);
        else if ((s->st == S_CONNECTING || s->st == S_HEAD) && s->due <= now)
            stream_fail(k, i, now, &k->failed_timeout);
        if (s->st == S_OPEN && !s->silent && now - s->last_rx >= silent) {
            s->silent = true;
            k->silent_total++;
        }
        if (s->st != S_OPEN && s->due < next)
            next = s->due;
        else if (s->st == S_OPEN && !s->silent && s->last_rx + silent < next)
            next = s->last_rx + silent;
    }
    return next;
}

/* Prints the counters to @f. */
static void print_status(const struct soak *k, FILE *f, int64_t now)
{
    unsigned long open = 0, opening = 0, silent = 0;
    int64_t max_quiet = 0;

    for (unsigned long i = 0; i < k->opt.streams; i++) {
        const struct stream *s = &k->streams[i];

        if (s->st == S_OPEN) {
            open++;
            silent += s->silent;
            if (now - s->last_rx > max_quiet)
                max_quiet = now - s->last_rx;
        } else if (s->st != S_WAIT) {
            opening++;
        }
    }
    fprintf(f,
            "wall_ms=%" PRIu64
            " t=%.1f open=%lu opening=%lu silent=%lu max_quiet_s=%.1f opened_total=%" PRIu64
            " ended_total=%" PRIu64 " failed_connect=%" PRIu64 " failed_status=%" PRIu64
            " failed_closed=%" PRIu64 " failed_timeout=%" PRIu64 " silent_total=%" PRIu64
            " bytes=%" PRIu64 "\n",
            time_wall_ms(), (double)(now - k->t0) / 1e9, open, opening, silent,
            (double)max_quiet / 1e9, k->opened_total, k->ended_total, k->failed_connect,
            k->failed_status, k->failed_closed, k->failed_timeout, k->silent_total, k->bytes);
}

static void write_status(const struct soak *k, int64_t now)
{
    char tmp[4096];
    FILE *f;

    if (!k->opt.status_file)
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", k->opt.status_file);
    f = fopen(tmp, "w");
    if (!f)
        return;
    print_status(k, f, now);
    if (fclose(f) == 0)
        rename(tmp, k->opt.status_file);
}

static void run(struct soak *k)
{
    struct epoll_event evs[MAX_EVENTS];
    int64_t now = k->t0 = (int64_t)time_now_ns(), next_status = now;

    while (!interrupted) {
        int64_t next = run_timers(k, now);
        int n, ms;

        if (now >= next_status) {
            write_status(k, now);
            next_status = now + STATUS_PERIOD;
        }
        if (next_status < next)
            next = next_status;
        ms = (int)((next - now + NS_PER_MS - 1) / NS_PER_MS);
        n = epoll_wait(k->ep, evs, MAX_EVENTS, ms < 1 ? 1 : ms);
        now = (int64_t)time_now_ns();
        for (int j = 0; j < n; j++) {
            long i = (long)evs[j].data.u64;

            if (k->streams[i].st == S_CONNECTING)
                stream_send(k, i, now);
            else if (k->streams[i].st == S_HEAD || k->streams[i].st == S_OPEN)
                stream_readable(k, i, now);
        }
    }
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

int main(int argc, char **argv)
{
    struct soak k = {.id_owner = -1};
    struct sigaction sa = {.sa_handler = on_signal};
    int64_t now;

    if (parse_options(argc, argv, &k.opt) < 0)
        return 2;
    if (bench_raise_nofile() < (long)k.opt.streams + 16)
        fprintf(stderr, "soak-streams: warning: the open-files limit is below --streams\n");
    signal(SIGPIPE, SIG_IGN);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    srandom((unsigned)getpid());
    k.ep = epoll_create1(EPOLL_CLOEXEC);
    if (k.ep < 0) {
        perror("soak-streams: epoll_create1");
        return 1;
    }
    k.streams = xcalloc(k.opt.streams, sizeof(*k.streams));
    for (unsigned long i = 0; i < k.opt.streams; i++)
        k.streams[i] = (struct stream){.fd = -1, .st = S_WAIT};
    k.request = bench_subscribe_request("/api/v1/scheduler", k.opt.target_text, "soak", true,
                                        &k.request_len);
    run(&k);
    now = (int64_t)time_now_ns();
    print_status(&k, stdout, now);
    write_status(&k, now);
    for (long i = 0; i < (long)k.opt.streams; i++)
        stream_close(&k, i, now, 0);
    close(k.ep);
    free(k.streams);
    free(k.request);
    return 0;
}
