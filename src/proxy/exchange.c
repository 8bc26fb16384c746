/* exchange.c: one proxied call, from the client's request to the answer.
 *
 * Life of an exchange:
 *   READING    the request body arrives (buffered, so that retries can resend)
 *   WAITING    parked: the new leader's data is being read, or a retry waits
 *   UPSTREAM   a transfer to the leader runs; the client connection is
 *              suspended until the answer starts
 *   RELAYING   the answer is being sent: buffered, or streamed as it arrives
 * An event stream's exchange outlives its libmicrohttpd connection: once the
 * headers are out, the socket is ours (see stream.h) and libmicrohttpd frees
 * the connection and its memory; the exchange is freed when the stream ends.
 * A 307 or a "503 No leader elected" from a master means ZooKeeper and the
 * masters disagree: the call is sent again to the leader ZooKeeper names,
 * within a budget of tries and time, and never passed on. */
#include "config.h"

#include "base/log.h"
#include "base/mem.h"
#include "proxy/headers.h"
#include "proxy/internal.h"
#include "proxy/route.h"
#include "proxy/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER_MAX            (1024l * 1024l) /* larger answers are streamed */
#define INSPECT_MAX           (64l * 1024l)   /* a 503 body we read to decide */
#define RESPONSE_HEADERS_MAX  (64ul * 1024ul) /* a master's header block */
#define MAX_REDIRECTS         8
#define CLIENT_WATCH_DELAY_MS 200 /* a call waiting longer gets its client watched */
#define HOSTPORT_MAX          (MASTERINFO_HOST_MAX + 10)

enum ex_state { EX_READING, EX_WAITING, EX_UPSTREAM, EX_RELAYING, EX_LOCAL };

/* What to do with the master's answer once its headers are in. */
enum ex_plan {
    PLAN_NONE,    /* headers not complete yet */
    PLAN_RETRY,   /* 307: discard, try again */
    PLAN_INSPECT, /* 503 with a small body: read it, then decide */
    PLAN_BUFFER,  /* read it whole, then answer */
    PLAN_STREAM,  /* answer now, relay the body as it arrives */
};

/* Why a parked exchange waits. */
enum park_reason { PARK_ELECTING, PARK_BACKOFF };

struct redirect_edge {
    char from[HOSTPORT_MAX];
    char to[HOSTPORT_MAX];
};

struct exchange {
    struct proxy *p;
    struct MHD_Connection *conn;
    enum ex_state state;
    bool seen_headers;
    bool suspended;
    bool client_gone;
    char *target; /* raw request target, as received */
    char *method;
    char *path;
    bool http10;
    struct strbuf body;
    bool body_too_large;
    bool subscribe;
    struct strbuf headers; /* for the master, "Name: value\r\n" lines */
    bool headers_built;
    uint64_t started_ns;
    uint64_t deadline_ns; /* of the retry budget */
    unsigned tries;
    struct redirect_edge *redirects; /* MAX_REDIRECTS, allocated on the first */
    unsigned n_redirects;
    enum retry_reason last_retry;
    bool dropped_once; /* a GET/HEAD was already sent again after a drop */
    enum park_reason park;
    uint64_t park_epoch;
    struct exchange *prev, *next; /* in p->parked or p->streams */
    struct exchange_list *list;
    struct exchange *all_prev, *all_next; /* in p->all */
    /* The attempt in progress. */
    uint64_t epoch;
    char leader[HOSTPORT_MAX];
    struct upstream_transfer xfer;
    struct loop_timer timer;
    struct loop_timer watch_timer; /* starts watching a client that waits */
    struct loop_io client_io;
    /* The master's answer. */
    int status;
    enum ex_plan plan;
    struct strbuf resp_headers; /* "name\0value\0" pairs */
    size_t resp_header_bytes;
    int64_t content_length;
    char location[HOSTPORT_MAX];
    char *stream_id;
    struct strbuf data; /* buffered body, or the stream's backlog */
    size_t data_off;    /* stream: bytes of data already handed to the client */
    bool paused;
    bool upstream_done;
    bool reader_waiting;
    struct stream_out *out; /* an event stream's body, once we own the socket */
    bool detached;          /* libmicrohttpd let go of the connection */
    bool end_abnormally;
    uint64_t last_data_ns;
    int local_route; /* a route from route.h to answer locally, or -1 */
};

static struct log_ratelimit relay_limit = LOG_RATELIMIT_INIT(60000, 20);

static void start_attempt(struct exchange *ex, const struct leader_snapshot *s);
static void dispatch(struct exchange *ex);

/* --- the exchange's one timer --------------------------------------------- */

/* (Re)arms the exchange's timer to call @fn at @at_ns. */
static void set_timer(struct exchange *ex, loop_timer_fn fn, uint64_t at_ns)
{
    loop_timer_cancel(ex->p->loop, &ex->timer);
    loop_timer_init(&ex->timer, fn, ex);
    loop_timer_arm_at(ex->p->loop, &ex->timer, at_ns);
}

static uint64_t ms_from_now(struct exchange *ex, uint64_t ms)
{
    return loop_now_ns(ex->p->loop) + ms * 1000000u;
}

/* --- lists ---------------------------------------------------------------- */

static void xlist_add(struct exchange_list *l, struct exchange *ex)
{
    ex->prev = NULL;
    ex->next = l->head;
    if (l->head)
        l->head->prev = ex;
    l->head = ex;
    ex->list = l;
    l->count++;
}

static void xlist_remove(struct exchange *ex)
{
    struct exchange_list *l = ex->list;

    if (!l)
        return;
    if (ex->prev)
        ex->prev->next = ex->next;
    else
        l->head = ex->next;
    if (ex->next)
        ex->next->prev = ex->prev;
    ex->prev = ex->next = NULL;
    ex->list = NULL;
    l->count--;
}

/* --- client connection ---------------------------------------------------- */

static void on_client_event(struct loop_io *io, uint32_t events);

/* Suspends the client connection while the answer is being prepared. */
static void suspend(struct exchange *ex)
{
    if (ex->suspended)
        return;
    MHD_suspend_connection(ex->conn);
    ex->suspended = true;
}

/* Watches the suspended client connection so that a client who leaves is
 * noticed at once (libmicrohttpd does not watch suspended connections).
 * Only calls that wait get it: a quick answer does not pay for it. */
static void watch_client(struct exchange *ex)
{
    const union MHD_ConnectionInfo *info;

    if (ex->client_io.active || ex->client_gone || ex->out)
        return;
    info = MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info)
        loop_io_add(ex->p->loop, &ex->client_io, info->connect_fd, EPOLLRDHUP | EPOLLET,
                    on_client_event, ex);
}

static void on_watch_timer(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    if (ex->suspended)
        watch_client(ex);
}

static void resume(struct exchange *ex)
{
    if (!ex->suspended)
        return;
    ex->suspended = false;
    MHD_resume_connection(ex->conn);
    proxy_kick(ex->p);
}

/* --- answering ------------------------------------------------------------ */

static void count_answer(struct exchange *ex, unsigned status)
{
    metrics_count_status(&ex->p->metrics, status);
}

/* Queues a daemon-made error on a connection that may be suspended. */
static void answer_error(struct exchange *ex, unsigned status, const char *code,
                         const char *message, unsigned retry_after)
{
    ex->state = EX_LOCAL;
    count_answer(ex, status);
    if (local_error(ex->p, ex->conn, status, code, message, retry_after, false) != MHD_YES)
        log_ratelimited(&relay_limit, LOG_WARNING, "cannot queue a %u answer", status);
    resume(ex);
}

static void add_response_headers(struct exchange *ex, struct MHD_Response *r)
{
    const char *p = ex->resp_headers.data;
    const char *end = p + ex->resp_headers.len;

    while (p && p < end) {
        const char *name = p;
        const char *value = name + strlen(name) + 1;
        if (MHD_add_response_header(r, name, value) != MHD_YES)
            log_ratelimited(&relay_limit, LOG_INFO,
                            "dropped response header '%s' that the HTTP server refused", name);
        p = value + strlen(value) + 1;
    }
}

static void queue(struct exchange *ex, struct MHD_Response *r)
{
    add_response_headers(ex, r);
    if (MHD_queue_response(ex->conn, (unsigned)ex->status, r) != MHD_YES)
        log_ratelimited(&relay_limit, LOG_WARNING, "cannot queue the master's %d answer",
                        ex->status);
    MHD_destroy_response(r);
    count_answer(ex, (unsigned)ex->status);
    ex->state = EX_RELAYING;
    resume(ex);
}

/* Sends the buffered answer; the body moves to libmicrohttpd. */
static void answer_buffered(struct exchange *ex)
{
    size_t len = ex->data.len;
    char *body = strbuf_steal(&ex->data);
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);

    if (!r) {
        free(body);
        answer_error(ex, 500, "internal", "cannot build the answer", 0);
        return;
    }
    ex->p->metrics.bytes_downstream += len;
    queue(ex, r);
}

/* --- streaming ------------------------------------------------------------ */

/* Ends the answer abnormally: the client sees the connection close with no
 * terminating chunk. Shutting the socket down (rather than only telling
 * libmicrohttpd) makes the end immediate, and gives libmicrohttpd an event
 * so that it cleans the connection up at once. */
static ssize_t end_with_error(struct exchange *ex)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

    loop_io_remove(ex->p->loop, &ex->client_io);
    if (info)
        shutdown(info->connect_fd, SHUT_RDWR);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void settle(struct exchange *ex);

static void on_client_left(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    if (ex->list == &ex->p->streams)
        exchange_end_stream(ex, "the client went away");
    else
        settle(ex); /* the master had finished; the client left before the end */
}

static void exchange_free(struct exchange *ex);

static void on_release(struct loop_timer *timer)
{
    exchange_free(timer->data);
}

/* A detached stream has ended: its exchange goes, from the loop (never from
 * inside a callback of the upstream transfer or of the stream). */
static void release_soon(struct exchange *ex)
{
    set_timer(ex, on_release, loop_now_ns(ex->p->loop));
}

static void stream_drained(void *owner)
{
    struct exchange *ex = owner;

    if (ex->paused) {
        ex->paused = false;
        upstream_unpause(ex->p->upstream, &ex->xfer);
    }
}

/* May come from inside an upstream callback: the work waits for the loop. */
static void stream_client_gone(void *owner)
{
    struct exchange *ex = owner;

    ex->client_gone = true;
    set_timer(ex, on_client_left, loop_now_ns(ex->p->loop));
}

/* Everything is sent, the terminating chunk included. */
static void stream_flushed(void *owner)
{
    release_soon(owner);
}

static const struct stream_events stream_events = {stream_drained, stream_client_gone,
                                                   stream_flushed};

/* Once we own the socket and the master's side has ended, ends ours. */
static void settle(struct exchange *ex)
{
    if (!ex->out || !ex->upstream_done)
        return;
    if (ex->end_abnormally || ex->client_gone) {
        stream_out_abort(ex->out);
        release_soon(ex);
    } else {
        stream_out_finish(ex->out);
    }
}

/* The reader's first call: libmicrohttpd has sent the headers. From now on
 * the stream's bytes go straight to the socket, through a descriptor of our
 * own: libmicrohttpd is told to drop the connection (it does not shut the
 * socket down, in its turbo mode), which frees its memory, and the exchange
 * lives on until the stream ends. */
static ssize_t take_over(struct exchange *ex)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = info ? fcntl(info->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;

    loop_io_remove(ex->p->loop, &ex->client_io); /* the stream watches it now */
    if (fd < 0) {
        log_ratelimited(&relay_limit, LOG_WARNING, "cannot take over a stream's socket: %m");
        exchange_end_stream(ex, "its socket could not be taken over");
        return end_with_error(ex);
    }
    ex->out = stream_out_new(ex->p->loop, fd, !ex->http10, &stream_events, ex);
    ex->detached = true;
    ex->p->metrics.connections_open++; /* still open, no longer libmicrohttpd's */
    proxy_kick(ex->p);                 /* so that it cleans its connection up now */
    if (ex->data.len > ex->data_off) {
        ex->p->metrics.bytes_downstream += ex->data.len - ex->data_off;
        stream_out_write(ex->out, ex->data.data + ex->data_off, ex->data.len - ex->data_off);
    }
    strbuf_done(&ex->data);
    ex->data_off = 0;
    if (ex->paused && stream_out_backlog(ex->out) < STREAM_LOW_WATER)
        stream_drained(ex);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

/* Hands buffered bytes to libmicrohttpd (answers of known size, and streams
 * whose master already finished before the headers went out). */
static ssize_t read_buffered(struct exchange *ex, char *buf, size_t max)
{
    size_t avail = ex->data.len - ex->data_off;
    size_t n = avail < max ? avail : max;

    if (n == 0) {
        if (ex->upstream_done)
            return ex->end_abnormally ? end_with_error(ex) : MHD_CONTENT_READER_END_OF_STREAM;
        /* Nothing yet: wait for the master without holding MHD's attention. */
        MHD_suspend_connection(ex->conn);
        ex->suspended = true;
        ex->reader_waiting = true;
        return 0;
    }
    memcpy(buf, ex->data.data + ex->data_off, n);
    ex->data_off += n;
    if (ex->data_off == ex->data.len) {
        strbuf_reset(&ex->data);
        ex->data_off = 0;
    }
    ex->p->metrics.bytes_downstream += n;
    if (ex->paused && ex->data.len - ex->data_off < STREAM_LOW_WATER)
        stream_drained(ex);
    return (ssize_t)n;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct exchange *ex = cls;

    if (ex->client_gone && !ex->out)
        return end_with_error(ex);
    if (ex->content_length < 0 && !ex->out && !ex->upstream_done)
        return take_over(ex);
    return read_buffered(ex, buf, max);
}

/* Wakes the reader if it waits for data or for the end. */
static void wake_reader(struct exchange *ex)
{
    if (ex->reader_waiting) {
        ex->reader_waiting = false;
        resume(ex);
    }
}

/* Takes one piece of a streamed body from the master. */
static size_t stream_body(struct exchange *ex, const char *bytes, size_t len)
{
    if (ex->out) {
        if (stream_out_backlog(ex->out) >= STREAM_HIGH_WATER) {
            ex->paused = true;
            return UPSTREAM_PAUSE;
        }
        if (stream_out_write(ex->out, bytes, len) < 0)
            return 0; /* the client left: the call ends */
        ex->p->metrics.bytes_downstream += len;
    } else {
        if (ex->data.len - ex->data_off >= STREAM_HIGH_WATER) {
            ex->paused = true;
            return UPSTREAM_PAUSE;
        }
        strbuf_append(&ex->data, bytes, len);
        wake_reader(ex);
    }
    ex->last_data_ns = loop_now_ns(ex->p->loop);
    return len;
}

static void on_stream_idle(struct loop_timer *timer);

static void start_stream(struct exchange *ex)
{
    uint64_t size = ex->content_length >= 0 ? (uint64_t)ex->content_length : MHD_SIZE_UNKNOWN;
    /* The block is only used for answers of known size; streams need none. */
    size_t block = ex->content_length >= 0 ? 64ul * 1024ul : 16;
    struct MHD_Response *r = MHD_create_response_from_callback(size, block, read_stream, ex, NULL);

    if (!r) {
        answer_error(ex, 500, "internal", "cannot build the answer", 0);
        return;
    }
    if (ex->content_length < 0) {
        xlist_add(&ex->p->streams, ex);
        ex->p->metrics.streams_total++;
        ex->p->metrics.streams_open++;
    }
    ex->last_data_ns = loop_now_ns(ex->p->loop);
    set_timer(ex, on_stream_idle, ms_from_now(ex, ex->p->cfg.stream_idle_timeout_ms));
    queue(ex, r);
}

void exchange_end_stream(struct exchange *ex, const char *why)
{
    if (ex->list != &ex->p->streams)
        return; /* already ended */
    log_debug("ending the stream of %s %s from %s (stream id '%s'): %s", ex->method, ex->target,
              ex->leader, ex->stream_id ? ex->stream_id : "none", why);
    xlist_remove(ex);
    ex->p->metrics.streams_open--;
    upstream_abort(ex->p->upstream, &ex->xfer);
    loop_timer_cancel(ex->p->loop, &ex->timer);
    /* Abnormal end at once: drop what was not sent, no terminating chunk. */
    strbuf_reset(&ex->data);
    ex->data_off = 0;
    ex->upstream_done = true;
    ex->end_abnormally = true;
    if (ex->out)
        settle(ex);
    else
        wake_reader(ex);
    proxy_kick(ex->p);
}

static void on_stream_idle(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;
    uint64_t idle_ns = ex->p->cfg.stream_idle_timeout_ms * 1000000u;
    uint64_t now = loop_now_ns(ex->p->loop);

    if (now - ex->last_data_ns < idle_ns) {
        loop_timer_arm_at(ex->p->loop, timer, ex->last_data_ns + idle_ns);
        return;
    }
    ex->p->metrics.upstream_errors[UPSTREAM_ERR_TIMEOUT]++;
    if (ex->list == &ex->p->streams) {
        exchange_end_stream(ex, "no data from the master within the idle timeout");
        return;
    }
    /* A large answer of known size stalled. */
    upstream_abort(ex->p->upstream, &ex->xfer);
    ex->upstream_done = true;
    ex->end_abnormally = true;
    wake_reader(ex);
}

/* --- retries -------------------------------------------------------------- */

/* Whether a redirect from @from to @to closes a cycle (A->B then B->A, or a
 * master redirecting to itself). */
static bool redirect_loops(struct exchange *ex, const char *from, const char *to)
{
    if (strcmp(from, to) == 0)
        return true;
    for (unsigned i = 0; i < ex->n_redirects; i++) {
        if (strcmp(ex->redirects[i].from, to) == 0 && strcmp(ex->redirects[i].to, from) == 0)
            return true;
    }
    if (!ex->redirects)
        ex->redirects = xcalloc(MAX_REDIRECTS, sizeof(*ex->redirects));
    if (ex->n_redirects < MAX_REDIRECTS) {
        snprintf(ex->redirects[ex->n_redirects].from, HOSTPORT_MAX, "%s", from);
        snprintf(ex->redirects[ex->n_redirects].to, HOSTPORT_MAX, "%s", to);
        ex->n_redirects++;
    }
    return false;
}

static void park(struct exchange *ex, enum park_reason why, uint64_t until_ns);

static void on_park_timer(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    xlist_remove(ex);
    dispatch(ex);
}

static void park(struct exchange *ex, enum park_reason why, uint64_t until_ns)
{
    ex->state = EX_WAITING;
    ex->park = why;
    ex->park_epoch = ex->p->leader ? ex->p->leader->epoch : 0;
    xlist_add(&ex->p->parked, ex);
    set_timer(ex, on_park_timer, until_ns);
    suspend(ex);
    watch_client(ex);
}

static const char *retry_message(enum retry_reason r)
{
    switch (r) {
    case RETRY_REDIRECT:
        return "the master ZooKeeper names as leader redirected the call elsewhere";
    case RETRY_NO_LEADER:
        return "the master ZooKeeper names as leader says no leader is elected";
    case RETRY_RECOVERING:
        return "the leading master has not finished recovery";
    case RETRY_REFUSED:
        return "the leading master refused the connection";
    case RETRY_DROPPED:
        return "the leading master closed the connection without answering";
    case RETRY_COUNT:
        break;
    }
    return "the leading master did not take the call";
}

/* Gives up: the budget is spent or a redirect loop was found. */
static void give_up(struct exchange *ex, enum retry_reason why, const char *detail)
{
    char msg[512];

    ex->p->metrics.retry_budget_exhausted++;
    snprintf(msg, sizeof(msg), "%s (%s; %u %s in %.1f s)", retry_message(why), detail, ex->tries,
             ex->tries == 1 ? "try" : "tries",
             (double)(loop_now_ns(ex->p->loop) - ex->started_ns) / 1e9);
    log_ratelimited(&relay_limit, LOG_WARNING, "%s %s: answering 503: %s", ex->method, ex->target,
                    msg);
    answer_error(ex, 503, "leader_unavailable", msg, 1);
}

/* Delay before try number @tries + 1: 250 ms, 1 s, 4 s, ... */
static uint64_t backoff_ns(unsigned tries)
{
    uint64_t ms = 250;

    for (unsigned i = 1; i < tries && ms < 60000; i++)
        ms *= 4;
    return ms * 1000000u;
}

/* Tries again if the budget allows; returns false when it does not. */
static bool retry(struct exchange *ex, enum retry_reason why)
{
    uint64_t now = loop_now_ns(ex->p->loop);
    uint64_t at = now + backoff_ns(ex->tries);

    ex->last_retry = why;
    if (ex->tries >= ex->p->cfg.retry_tries || at >= ex->deadline_ns)
        return false;
    ex->p->metrics.retries[why]++;
    log_debug("%s %s: %s; trying again in %llu ms", ex->method, ex->target, retry_message(why),
              (unsigned long long)((at - now) / 1000000u));
    park(ex, PARK_BACKOFF, at);
    return true;
}

/* --- the master's answer -------------------------------------------------- */

static void reset_answer(struct exchange *ex)
{
    ex->status = 0;
    ex->plan = PLAN_NONE;
    strbuf_reset(&ex->resp_headers);
    ex->resp_header_bytes = 0;
    ex->content_length = -1;
    ex->location[0] = '\0';
    freep(&ex->stream_id);
    strbuf_reset(&ex->data);
    ex->data_off = 0;
    ex->upstream_done = false;
    ex->end_abnormally = false;
    ex->paused = false;
}

static void keep_header(struct exchange *ex, const struct header_field *f)
{
    char name[128];
    int64_t cl;
    char *end;

    if (f->name_len >= sizeof(name))
        return;
    memcpy(name, f->name, f->name_len);
    name[f->name_len] = '\0';
    if (strcasecmp(name, "Content-Length") == 0) {
        char value[32];
        if (f->value_len < sizeof(value)) {
            memcpy(value, f->value, f->value_len);
            value[f->value_len] = '\0';
            cl = strtoll(value, &end, 10);
            if (*end == '\0' && cl >= 0)
                ex->content_length = cl;
        }
    } else if (strcasecmp(name, "Location") == 0) {
        char *loc = xstrndup(f->value, f->value_len);
        if (headers_location_host(loc, ex->location, sizeof(ex->location)) < 0)
            ex->location[0] = '\0';
        free(loc);
    } else if (strcasecmp(name, "Mesos-Stream-Id") == 0 && !ex->stream_id) {
        ex->stream_id = xstrndup(f->value, f->value_len);
    }
    /* Hop-by-hop headers stop here; Connection-named ones too (checked when
     * the block is complete would need two passes: masters never name any). */
    if (headers_drop_from_response(name, NULL))
        return;
    strbuf_append(&ex->resp_headers, f->name, f->name_len);
    strbuf_append(&ex->resp_headers, "", 1);
    strbuf_append(&ex->resp_headers, f->value, f->value_len);
    strbuf_append(&ex->resp_headers, "", 1);
}

static void on_headers_complete(struct exchange *ex)
{
    bool head = strcmp(ex->method, "HEAD") == 0;

    if (ex->status == 307) {
        ex->plan = PLAN_RETRY;
    } else if (ex->status == 503 && ex->content_length >= 0 && ex->content_length <= INSPECT_MAX) {
        ex->plan = PLAN_INSPECT;
    } else if (ex->content_length > BUFFER_MAX || (ex->content_length < 0 && ex->subscribe)) {
        /* An event stream, or too big to hold: relayed as it comes. */
        ex->plan = PLAN_STREAM;
        start_stream(ex);
    } else {
        /* Read whole first, so that a master's broken answer becomes a clean
         * 502 (a body of unknown length becomes a stream past BUFFER_MAX). */
        ex->plan = PLAN_BUFFER;
        if (ex->content_length > 0 && !head)
            strbuf_reserve(&ex->data, (size_t)ex->content_length);
    }
}

static bool on_header_line(void *owner, const char *line, size_t len)
{
    struct exchange *ex = owner;
    struct header_field f;
    int status, r;

    ex->resp_header_bytes += len;
    if (ex->resp_header_bytes > RESPONSE_HEADERS_MAX)
        return false; /* fails the call: 502 */
    if (ex->plan != PLAN_NONE)
        return true; /* trailers: dropped */
    if (ex->status == 0) {
        if (headers_parse_status_line(line, len, &status) < 0)
            return false;
        ex->status = status;
        return true;
    }
    r = headers_parse_field(line, len, &f);
    if (r == 1) {
        if (ex->status < 200) {
            reset_answer(ex); /* an interim answer; the real one follows */
            return true;
        }
        on_headers_complete(ex);
    } else if (r == 0) {
        keep_header(ex, &f);
    } else if (r == -EINVAL) {
        return false;
    } /* folded lines (-EAGAIN) are obsolete; drop them */
    return true;
}

static size_t on_body(void *owner, const char *bytes, size_t len)
{
    struct exchange *ex = owner;

    switch (ex->plan) {
    case PLAN_RETRY:
        return len;
    case PLAN_BUFFER:
        if (ex->data.len + len > BUFFER_MAX && ex->content_length < 0) {
            ex->plan = PLAN_STREAM; /* too big to hold after all */
            start_stream(ex);
            return stream_body(ex, bytes, len);
        }
        /* fall through */
    case PLAN_INSPECT:
        if (ex->data.len + len > (ex->plan == PLAN_INSPECT ? INSPECT_MAX : BUFFER_MAX))
            return 0;
        if (ex->data.len == 0 && ex->content_length > 0 && ex->content_length <= BUFFER_MAX)
            strbuf_reserve(&ex->data, (size_t)ex->content_length); /* one allocation */
        strbuf_append(&ex->data, bytes, len);
        return len;
    case PLAN_STREAM:
        return stream_body(ex, bytes, len);
    case PLAN_NONE:
        break;
    }
    return 0;
}

/* --- end of a transfer ---------------------------------------------------- */

static enum upstream_error classify(enum upstream_result r)
{
    switch (r) {
    case UPSTREAM_REFUSED:
    case UPSTREAM_UNRESOLVED:
        return UPSTREAM_ERR_CONNECT;
    case UPSTREAM_TIMEOUT:
        return UPSTREAM_ERR_TIMEOUT;
    case UPSTREAM_TLS:
        return UPSTREAM_ERR_TLS;
    case UPSTREAM_DROPPED:
    case UPSTREAM_BROKEN:
        return UPSTREAM_ERR_BROKEN;
    case UPSTREAM_OK:
    case UPSTREAM_PROTOCOL:
        break;
    }
    return UPSTREAM_ERR_PROTOCOL;
}

static void fail_upstream(struct exchange *ex, enum upstream_result r, const char *detail)
{
    enum upstream_error kind = classify(r);
    char msg[512];
    unsigned status = kind == UPSTREAM_ERR_TIMEOUT ? 504 : 502;

    ex->p->metrics.upstream_errors[kind]++;
    snprintf(msg, sizeof(msg), "the leading master %s %s: %s", ex->leader,
             kind == UPSTREAM_ERR_TIMEOUT ? "did not answer in time" : "gave no valid answer",
             detail);
    log_ratelimited(&relay_limit, LOG_WARNING, "%s %s: %s", ex->method, ex->target, msg);
    answer_error(ex, status, kind == UPSTREAM_ERR_TIMEOUT ? "upstream_timeout" : "bad_upstream",
                 msg, 0);
}

/* A 503 whose body we read: decide between a retry and relaying it. */
static void decide_503(struct exchange *ex)
{
    const char *body = ex->data.data ? ex->data.data : "";

    if (strncmp(body, "No leader elected", 17) == 0) {
        if (!retry(ex, RETRY_NO_LEADER))
            give_up(ex, RETRY_NO_LEADER, "budget spent");
        return;
    }
    if (strncmp(body, "Master has not finished recovery", 32) == 0 && retry(ex, RETRY_RECOVERING))
        return;
    answer_buffered(ex); /* relayed as it is */
}

/* A master that restarts, or a pooled connection that it closed as it was
 * reused, drops a call before any answer. A GET or HEAD changes nothing on
 * the master and is sent once more, as a proxy in front of it should;
 * anything else may have been acted on and gets its 502. */
static bool dropped_before_answer(const struct exchange *ex, enum upstream_result r)
{
    if (r != UPSTREAM_DROPPED || ex->status != 0 || ex->dropped_once || ex->subscribe)
        return false;
    return strcmp(ex->method, "GET") == 0 || strcmp(ex->method, "HEAD") == 0;
}

/* A 307 whose body we read: follow ZooKeeper, not the Location. */
static void redirected(struct exchange *ex)
{
    char detail[2 * HOSTPORT_MAX + 32];

    snprintf(detail, sizeof(detail), "%s redirected to %s", ex->leader,
             ex->location[0] ? ex->location : "nowhere");
    if (ex->location[0] && redirect_loops(ex, ex->leader, ex->location))
        give_up(ex, RETRY_REDIRECT, "redirect loop");
    else if (!retry(ex, RETRY_REDIRECT))
        give_up(ex, RETRY_REDIRECT, detail);
}

static void on_upstream_done(void *owner, enum upstream_result rc, const char *detail)
{
    struct exchange *ex = owner;

    if (ex->plan == PLAN_STREAM) {
        if (rc != UPSTREAM_OK)
            ex->p->metrics.upstream_errors[classify(rc)]++;
        if (ex->list == &ex->p->streams) {
            xlist_remove(ex);
            ex->p->metrics.streams_open--;
        }
        loop_timer_cancel(ex->p->loop, &ex->timer);
        ex->upstream_done = true;
        ex->end_abnormally = rc != UPSTREAM_OK;
        if (rc != UPSTREAM_OK && !ex->client_gone)
            log_debug("the stream of %s %s from %s broke: %s", ex->method, ex->target, ex->leader,
                      detail);
        if (ex->out)
            settle(ex);
        else
            wake_reader(ex);
        return;
    }
    loop_timer_cancel(ex->p->loop, &ex->timer);
    if (rc == UPSTREAM_REFUSED && ex->status == 0) {
        ex->p->metrics.upstream_errors[UPSTREAM_ERR_CONNECT]++;
        if (!retry(ex, RETRY_REFUSED))
            give_up(ex, RETRY_REFUSED, "budget spent");
        return;
    }
    if (dropped_before_answer(ex, rc)) {
        ex->dropped_once = true;
        if (retry(ex, RETRY_DROPPED)) {
            ex->p->metrics.upstream_errors[UPSTREAM_ERR_BROKEN]++;
            return;
        }
    }
    if (rc != UPSTREAM_OK && ex->plan != PLAN_RETRY) {
        fail_upstream(ex, rc, detail);
        return;
    }
    if (ex->plan == PLAN_RETRY)
        redirected(ex);
    else if (ex->plan == PLAN_INSPECT)
        decide_503(ex);
    else
        answer_buffered(ex);
}

static void on_upstream_timeout(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    upstream_abort(ex->p->upstream, &ex->xfer);
    fail_upstream(ex, UPSTREAM_TIMEOUT, "no answer within the upstream timeout");
}

/* --- the request ---------------------------------------------------------- */

struct header_walk {
    struct exchange *ex;
    const char *connection;
    const char *forwarded_for;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                      const char *value)
{
    struct header_walk *w = cls;

    if (strcasecmp(name, "X-Forwarded-For") == 0 && !w->forwarded_for)
        w->forwarded_for = value;
    if (headers_drop_from_request(name, w->connection))
        return MHD_YES;
    headers_append_line(name, value ? value : "", &w->ex->headers);
    return MHD_YES;
}

static void client_address(struct exchange *ex, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;

    buf[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)size);
}

/* Builds the upstream header list once; retries reuse it. */
static void build_headers(struct exchange *ex)
{
    struct header_walk w = {.ex = ex};
    char client[INET6_ADDRSTRLEN];

    ex->headers_built = true;
    w.connection = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, "Connection");
    MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, collect_header, &w);
    client_address(ex, client, sizeof(client));
    if (client[0]) {
        strbuf_puts(&ex->headers, "X-Forwarded-For: ");
        headers_forwarded_for(w.forwarded_for, client, &ex->headers);
        strbuf_append(&ex->headers, "\r\n", 2);
    } else if (w.forwarded_for) {
        strbuf_printf(&ex->headers, "X-Forwarded-For: %s\r\n", w.forwarded_for);
    }
}

static const struct upstream_callbacks upstream_callbacks = {on_header_line, on_body,
                                                             on_upstream_done};

static void start_attempt(struct exchange *ex, const struct leader_snapshot *s)
{
    struct upstream_request req = {
        .address = s->address,
        .host = s->endpoint.host,
        .port = s->endpoint.port,
        .method = ex->method,
        .target = ex->target,
        .body = ex->body.data ? ex->body.data : "",
        .body_len = ex->body.len,
        .has_body = ex->body.len > 0 || strcmp(ex->method, "POST") == 0 ||
                    strcmp(ex->method, "PUT") == 0 || strcmp(ex->method, "PATCH") == 0,
        .stream = ex->subscribe,
    };

    ex->tries++;
    ex->epoch = s->epoch;
    snprintf(ex->leader, sizeof(ex->leader), "%s", s->address);
    reset_answer(ex);
    if (!ex->headers_built)
        build_headers(ex);
    req.headers = ex->headers.data ? ex->headers.data : "";
    req.headers_len = ex->headers.len;
    ex->p->metrics.bytes_upstream += ex->body.len;
    set_timer(ex, on_upstream_timeout, ms_from_now(ex, ex->p->cfg.upstream_timeout_ms));
    if (!loop_timer_armed(&ex->watch_timer) && !ex->client_io.active)
        loop_timer_arm_ms(ex->p->loop, &ex->watch_timer, CLIENT_WATCH_DELAY_MS);
    ex->state = EX_UPSTREAM;
    suspend(ex);
    if (upstream_start(ex->p->upstream, &ex->xfer, &req, &upstream_callbacks, ex) < 0) {
        loop_timer_cancel(ex->p->loop, &ex->timer);
        answer_error(ex, 500, "internal", "cannot start the upstream call", 0);
    }
}

/* Sends the call to the leader, or waits for one, or says there is none. */
static void dispatch(struct exchange *ex)
{
    const struct leader_snapshot *s = proxy_leader(ex->p);
    char msg[512];

    if (s->state == LEADER_KNOWN) {
        start_attempt(ex, s);
        return;
    }
    /* The new leader's data is being read, or the first ZooKeeper session
     * is still being set up (the daemon just started): wait, in the budget. */
    if ((s->state == LEADER_ELECTING || (!s->settled && s->session != ZK_SESSION_EXPIRED &&
                                         s->session != ZK_SESSION_AUTH_FAILED)) &&
        loop_now_ns(ex->p->loop) < ex->deadline_ns) {
        park(ex, PARK_ELECTING, ex->deadline_ns);
        return;
    }
    ex->p->metrics.no_leader_answers++;
    snprintf(msg, sizeof(msg), "no leading Mesos master is known: %s",
             s->reason ? s->reason : "unknown");
    answer_error(ex, 503, "no_leader", msg, 1);
}

void exchange_leader_changed(struct proxy *p, const struct leader_snapshot *s, bool epoch_changed)
{
    struct exchange *ex, *next;

    if (epoch_changed) {
        for (ex = p->streams.head; ex; ex = next) {
            next = ex->next;
            if (ex->epoch != s->epoch) {
                p->metrics.streams_ended_by_leader_change++;
                exchange_end_stream(ex, "the leader changed");
            }
        }
    }
    for (ex = p->parked.head; ex; ex = next) {
        next = ex->next;
        if (ex->park == PARK_ELECTING || s->epoch != ex->park_epoch) {
            xlist_remove(ex);
            loop_timer_cancel(p->loop, &ex->timer);
            dispatch(ex);
        }
    }
}

/* --- libmicrohttpd entry points ------------------------------------------- */

struct exchange *exchange_new(struct proxy *p, const char *target)
{
    struct exchange *ex = xnew(struct exchange);

    ex->p = p;
    ex->target = xstrdup(target);
    ex->all_next = p->all;
    if (p->all)
        p->all->all_prev = ex;
    p->all = ex;
    p->live++;
    ex->started_ns = loop_now_ns(p->loop);
    ex->content_length = -1;
    ex->local_route = -1;
    loop_timer_init(&ex->timer, on_upstream_timeout, ex);
    loop_timer_init(&ex->watch_timer, on_watch_timer, ex);
    return ex;
}

struct framing {
    unsigned content_length, transfer_encoding, invalid;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *name,
                                     const char *value)
{
    struct framing *f = cls;

    if (!headers_valid(name, value ? value : ""))
        f->invalid++;
    if (strcasecmp(name, "Content-Length") == 0)
        f->content_length++;
    else if (strcasecmp(name, "Transfer-Encoding") == 0)
        f->transfer_encoding++;
    return MHD_YES;
}

/* Whether the request's body length could be read two ways, or a header
 * holds what cannot be forwarded (a folded line's CR LF, a NUL). */
static bool ambiguous_framing(struct MHD_Connection *conn)
{
    struct framing f = {0};

    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    return f.content_length > 1 || (f.content_length && f.transfer_encoding) || f.invalid;
}

/* Decides what to do once the request line and headers are in. Returns
 * MHD_YES to read the body. */
static enum MHD_Result on_request_headers(struct exchange *ex, const char *url, const char *method,
                                          const char *version)
{
    struct proxy *p = ex->p;
    const char *cl;
    enum route route;

    ex->method = xstrdup(method);
    ex->path = xstrdup(url);
    ex->http10 = strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
    route = route_classify(url);
    if (p->metrics.connections_open > p->cfg.max_connections && route == ROUTE_PROXY) {
        p->metrics.connections_rejected++;
        ex->state = EX_LOCAL;
        metrics_count_status(&p->metrics, 503);
        return local_error(p, ex->conn, 503, "too_many_connections",
                           "the connection limit of mesos-leaderd is reached", 1, true);
    }
    if (p->draining) {
        ex->state = EX_LOCAL;
        metrics_count_status(&p->metrics, 503);
        return local_error(p, ex->conn, 503, "stopping", "mesos-leaderd is stopping", 1, true);
    }
    if (!route_target_acceptable(ex->target) || strcmp(method, "CONNECT") == 0) {
        ex->state = EX_LOCAL;
        metrics_count_status(&p->metrics, 400);
        return local_error(p, ex->conn, 400, "bad_target",
                           "only origin-form request targets ('/path?query') are served", 0, true);
    }
    if (route != ROUTE_PROXY) {
        /* Answered once the (ignored) body is read, so the connection lives on. */
        ex->state = EX_LOCAL;
        ex->local_route = (int)route;
        return MHD_YES;
    }
    if (ambiguous_framing(ex->conn)) {
        /* RFC 9112 6.3: a request smuggling attempt; never forward it. */
        ex->state = EX_LOCAL;
        metrics_count_status(&p->metrics, 400);
        log_ratelimited(&relay_limit, LOG_WARNING,
                        "refused a request with ambiguous framing (Content-Length with "
                        "Transfer-Encoding, several Content-Length, or a header that cannot "
                        "be forwarded)");
        return local_error(p, ex->conn, 400, "bad_framing",
                           "Content-Length with Transfer-Encoding, several Content-Length, or an "
                           "invalid header line",
                           0, true);
    }
    cl = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > p->cfg.max_body) {
        ex->state = EX_LOCAL;
        metrics_count_status(&p->metrics, 413);
        return local_error(p, ex->conn, 413, "body_too_large",
                           "the request body is larger than the configured max-body", 0, true);
    }
    ex->state = EX_READING;
    return MHD_YES;
}

static void on_body_complete(struct exchange *ex)
{
    proxy_conn_busy(ex->p, ex->conn, true);
    const char *ct = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, "Content-Type");

    ex->subscribe = route_is_subscribe(ex->path, ct, ex->body.data, ex->body.len);
    ex->deadline_ns = loop_now_ns(ex->p->loop) + ex->p->cfg.retry_budget_ms * 1000000u;
    dispatch(ex);
}

enum MHD_Result exchange_on_access(struct exchange *ex, struct MHD_Connection *conn,
                                   const char *url, const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size)
{
    if (!ex)
        return MHD_NO;
    ex->conn = conn;
    if (!ex->seen_headers) {
        ex->seen_headers = true;
        return on_request_headers(ex, url, method, version);
    }
    if (ex->state == EX_LOCAL && ex->local_route >= 0) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0; /* our endpoints take no body */
            return MHD_YES;
        }
        int route = ex->local_route;
        ex->local_route = -1;
        return local_answer(ex->p, conn, route, ex->method);
    }
    if (ex->state == EX_READING && *upload_data_size > 0) {
        if (ex->body.len + *upload_data_size > ex->p->cfg.max_body)
            ex->body_too_large = true;
        else
            strbuf_append(&ex->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ex->state == EX_READING) {
        if (ex->body_too_large) {
            ex->state = EX_LOCAL;
            count_answer(ex, 413);
            return local_error(ex->p, conn, 413, "body_too_large",
                               "the request body is larger than the configured max-body", 0, true);
        }
        on_body_complete(ex);
        return MHD_YES;
    }
    /* Resumed without an answer: the client left. Close the connection. */
    return ex->client_gone ? MHD_NO : MHD_YES;
}

/* Stops working for the client of @ex: no answer will come. */
static void abandon(struct exchange *ex)
{
    ex->client_gone = true;
    loop_io_remove(ex->p->loop, &ex->client_io);
    log_debug("client of %s %s went away", ex->method ? ex->method : "?", ex->target);
    if (ex->list == &ex->p->streams) {
        exchange_end_stream(ex, "the client went away");
        return;
    }
    xlist_remove(ex);
    loop_timer_cancel(ex->p->loop, &ex->timer);
    upstream_abort(ex->p->upstream, &ex->xfer);
    ex->upstream_done = true;
    ex->end_abnormally = true;
    ex->reader_waiting = false;
    resume(ex);
}

/* The client closed its side. */
static void on_client_event(struct loop_io *io, uint32_t events)
{
    struct exchange *ex = io->data;

    if (!ex->client_gone && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        abandon(ex);
}

void exchange_abort_all(struct proxy *p)
{
    for (struct exchange *ex = p->all; ex; ex = ex->all_next) {
        if (!ex->suspended || ex->client_gone)
            continue;
        if (ex->state == EX_UPSTREAM || ex->state == EX_WAITING) {
            /* Cut off at the end of the drain: say so rather than hang up. */
            xlist_remove(ex);
            loop_timer_cancel(p->loop, &ex->timer);
            upstream_abort(p->upstream, &ex->xfer);
            answer_error(ex, 503, "stopping", "mesos-leaderd is stopping", 1);
        } else {
            abandon(ex);
        }
    }
}

static void exchange_free(struct exchange *ex)
{
    struct proxy *p = ex->p;

    if (ex->conn)
        proxy_conn_busy(p, ex->conn, false);
    if (ex->detached && p->metrics.connections_open > 0)
        p->metrics.connections_open--;
    if (ex->list == &p->streams && p->metrics.streams_open > 0)
        p->metrics.streams_open--;
    xlist_remove(ex);
    if (ex->all_prev)
        ex->all_prev->all_next = ex->all_next;
    else
        p->all = ex->all_next;
    if (ex->all_next)
        ex->all_next->all_prev = ex->all_prev;
    p->live--;
    loop_io_remove(p->loop, &ex->client_io);
    loop_timer_cancel(p->loop, &ex->timer);
    loop_timer_cancel(p->loop, &ex->watch_timer);
    upstream_abort(p->upstream, &ex->xfer);
    stream_out_free(ex->out);
    free(ex->redirects);
    strbuf_done(&ex->headers);
    strbuf_done(&ex->body);
    strbuf_done(&ex->data);
    strbuf_done(&ex->resp_headers);
    free(ex->stream_id);
    free(ex->target);
    free(ex->method);
    free(ex->path);
    free(ex);
}

void exchange_on_completed(struct exchange *ex, enum MHD_RequestTerminationCode toe)
{
    if (ex->detached && ex->conn) {
        /* libmicrohttpd let go of a stream we took over: it goes on. */
        proxy_conn_busy(ex->p, ex->conn, false);
        ex->conn = NULL;
        return;
    }
    exchange_free(ex);
}

void exchange_free_detached(struct proxy *p)
{
    struct exchange *ex = p->all, *next;

    for (; ex; ex = next) {
        next = ex->all_next;
        if (ex->detached && !ex->conn)
            exchange_free(ex);
    }
}
