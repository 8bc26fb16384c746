/* watch.c: the leader document and the clients waiting for it to change:
 * long polls and server-sent events (see watch.h). */
#include "config.h"

#include "proxy/watch.h"
#include "base/log.h"
#include "base/mem.h"
#include "proxy/local.h"
#include "proxy/stream.h"
#include "zk/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static struct log_ratelimit watch_limit = LOG_RATELIMIT_INIT(60000, 10);

/* --- the document ---------------------------------------------------------- */

void watch_document(const struct proxy *p, struct strbuf *out)
{
    const struct watch_state *w = &p->watch;

    /* {"index":N,"state":... : the index goes first. */
    strbuf_printf(out, "{\"index\":%" PRIu64 ",", w->index);
    if (w->doc.len > 1)
        strbuf_append(out, w->doc.data + 1, w->doc.len - 1);
    else
        strbuf_puts(out, "}");
}

/* One server-sent event: the document under its index. */
static void event_of(const struct proxy *p, struct strbuf *out)
{
    strbuf_printf(out, "id: %" PRIu64 "\nevent: leader\ndata: ", p->watch.index);
    watch_document(p, out);
    strbuf_puts(out, "\n\n");
}

/* --- long polls -------------------------------------------------------------- */

/* Answers a waiting long poll with the current document. */
static void answer_poll(struct exchange *ex)
{
    struct strbuf doc = {0};

    registry_delist(ex);
    loop_timer_cancel(ex->p->loop, &ex->timer);
    watch_document(ex->p, &doc);
    strbuf_puts(&doc, "\n");
    metrics_count_status(&ex->p->metrics, 200);
    ex->state = EX_LOCAL;
    if (local_send_json(ex->conn, 200, &doc) != MHD_YES)
        log_ratelimited(&watch_limit, LOG_WARNING, "cannot queue a long poll's answer");
    registry_resume(ex);
}

static void on_poll_timeout(struct loop_timer *timer)
{
    answer_poll(timer->data);
}

/* A non-negative integer query argument @name into @ret (@dflt if absent);
 * false when present but not a number. */
static bool query_number(struct MHD_Connection *conn, const char *name, uint64_t dflt,
                         uint64_t *ret)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
    char *end;
    unsigned long long n;

    *ret = dflt;
    if (!v)
        return true;
    if (*v < '0' || *v > '9')
        return false;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (*end || errno)
        return false;
    *ret = n;
    return true;
}

/* A client that waits has sent its request: the idle timeout is not its
 * own until it is answered (registry.c then makes it idle again). */
static void mark_waiting(struct exchange *ex)
{
    if (ex->client)
        clients_set_busy(ex->client, true);
}

static enum MHD_Result start_poll(struct exchange *ex, uint64_t after, uint64_t timeout_s)
{
    if (timeout_s > WATCH_TIMEOUT_MAX_S)
        timeout_s = WATCH_TIMEOUT_MAX_S;
    mark_waiting(ex);
    ex->state = EX_WAITING;
    ex->watch_after = after;
    registry_enlist(ex, &ex->p->watch.polls);
    registry_set_timer(ex, on_poll_timeout, loop_now_ns(ex->p->loop) + timeout_s * 1000000000ull);
    registry_suspend(ex);
    return MHD_YES;
}

/* --- event streams ------------------------------------------------------------ */

static void on_event_stream_gone(void *owner)
{
    registry_free_soon(owner); /* from the loop: this may come from inside a write */
}

static void on_event_stream_drained(void *owner)
{
}

static const struct stream_events event_stream_events = {
    on_event_stream_drained, on_event_stream_gone, on_event_stream_gone};

/* Writes one piece to an event stream; a client that lets a backlog build
 * up is too slow to follow and is let go. */
static void send_to(struct exchange *ex, const char *text, size_t len)
{
    long backlog = stream_out_write(ex->relay.out, text, len);

    if (backlog >= (long)STREAM_HIGH_WATER) {
        registry_delist(ex);
        stream_out_abort(ex->relay.out);
        registry_free_soon(ex);
    }
}

/* libmicrohttpd sent the head: the socket becomes ours, as an event
 * stream's (stream.h); the first event goes now. */
static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct exchange *ex = cls;
    int fd = ex->client ? clients_take_over(ex->client) : -1;
    struct strbuf first = {0};

    if (fd < 0) {
        log_ratelimited(&watch_limit, LOG_WARNING, "cannot take an event stream over: %m");
        return MHD_CONTENT_READER_END_WITH_ERROR; /* the client connects again */
    }
    ex->relay.out = stream_out_new(ex->p->loop, fd, !ex->req.http10,
                                   (uint64_t)ex->p->cfg.client_idle_timeout_s * 1000u,
                                   &event_stream_events, ex);
    ex->relay.detached = true;
    registry_enlist(ex, &ex->p->watch.events);
    if (!loop_timer_armed(&ex->p->watch.keepalive))
        loop_timer_arm_ms(ex->p->loop, &ex->p->watch.keepalive, WATCH_KEEPALIVE_S * 1000u);
    if (ex->watch_after != ex->p->watch.index) { /* an older one, or another run's */
        event_of(ex->p, &first);
        send_to(ex, first.data, first.len);
    }
    strbuf_done(&first);
    front_kick(ex->p->front);
    return MHD_CONTENT_READER_END_WITH_ERROR; /* libmicrohttpd lets go */
}

static enum MHD_Result start_events(struct exchange *ex, uint64_t last_seen)
{
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16, read_events, ex, NULL);
    enum MHD_Result rc;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    mark_waiting(ex);
    ex->state = EX_RELAYING;
    ex->watch_after = last_seen;
    metrics_count_status(&ex->p->metrics, 200);
    rc = MHD_queue_response(ex->conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static void on_keepalive(struct loop_timer *timer)
{
    struct proxy *p = timer->data;
    static const char comment[] = ": keepalive\n\n";
    struct list_node *n, *tmp;

    list_for_each_safe (n, tmp, &p->watch.events)
        send_to(list_entry(n, struct exchange, node), comment, sizeof(comment) - 1);
    if (!list_empty(&p->watch.events))
        loop_timer_arm_ms(p->loop, timer, WATCH_KEEPALIVE_S * 1000u);
}

/* --- requests ------------------------------------------------------------------ */

static bool wants_events(struct MHD_Connection *conn)
{
    const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");

    return accept && strcasestr(accept, "text/event-stream");
}

static enum MHD_Result refuse(struct exchange *ex, const char *what)
{
    metrics_count_status(&ex->p->metrics, 400);
    ex->state = EX_LOCAL;
    return local_error(ex->conn, 400, "bad_query", what, 0, false);
}

bool watch_request(struct exchange *ex, enum MHD_Result *ret)
{
    struct MHD_Connection *conn = ex->conn;
    bool has_wait = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "wait") != NULL;
    uint64_t after, timeout_s;

    if (strcmp(ex->req.method, "GET") != 0)
        return false; /* HEAD never waits */
    if (wants_events(conn)) {
        const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
        *ret = start_events(ex, id ? strtoull(id, NULL, 10) : 0);
        return true;
    }
    if (!has_wait)
        return false;
    if (!query_number(conn, "wait", 0, &after) ||
        !query_number(conn, "timeout", WATCH_TIMEOUT_DEFAULT_S, &timeout_s)) {
        *ret = refuse(ex, "'wait' and 'timeout' must be non-negative integers");
        return true;
    }
    /* Changed already, or an index of the daemon before a restart (it
     * counts from its start): a plain read answers it. */
    if (after != ex->p->watch.index)
        return false;
    *ret = start_poll(ex, after, timeout_s);
    return true;
}

/* --- changes ------------------------------------------------------------------- */

static void notify(struct proxy *p)
{
    struct strbuf event = {0};
    struct list_node *n, *tmp;

    list_for_each_safe (n, tmp, &p->watch.polls)
        answer_poll(list_entry(n, struct exchange, node));
    if (list_empty(&p->watch.events))
        return;
    event_of(p, &event);
    list_for_each_safe (n, tmp, &p->watch.events)
        send_to(list_entry(n, struct exchange, node), event.data, event.len);
    strbuf_done(&event);
}

void watch_snapshot(struct proxy *p, const struct leader_snapshot *s)
{
    struct strbuf doc = {0};

    report_status_json(s, &doc);
    if (p->watch.doc.len == doc.len && memcmp(p->watch.doc.data, doc.data, doc.len) == 0) {
        strbuf_done(&doc);
        return;
    }
    strbuf_done(&p->watch.doc);
    p->watch.doc = doc;
    p->watch.index++;
    notify(p);
}

/* --- lifetime -------------------------------------------------------------------- */

void watch_init(struct proxy *p)
{
    list_init(&p->watch.polls);
    list_init(&p->watch.events);
    loop_timer_init(&p->watch.keepalive, on_keepalive, p);
}

void watch_end_all(struct proxy *p)
{
    struct list_node *n;

    while ((n = list_first(&p->watch.polls)))
        answer_poll(list_entry(n, struct exchange, node));
    while ((n = list_first(&p->watch.events))) {
        struct exchange *ex = list_entry(n, struct exchange, node);
        registry_delist(ex);
        stream_out_finish(ex->relay.out, false); /* flushed frees it */
    }
    loop_timer_cancel(p->loop, &p->watch.keepalive);
}

void watch_done(struct proxy *p)
{
    loop_timer_cancel(p->loop, &p->watch.keepalive);
    strbuf_done(&p->watch.doc);
}

unsigned watch_polls(const struct proxy *p)
{
    return p->watch.polls.count;
}

unsigned watch_event_streams(const struct proxy *p)
{
    return p->watch.events.count;
}
