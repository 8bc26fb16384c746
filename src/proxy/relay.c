/* relay.c: answers relayed to the client as they arrive from the master:
 * event streams, and bodies too large to read whole first (see exchange.h).
 *
 * libmicrohttpd writes the head. An event stream's socket is then taken
 * over (a descriptor of our own; libmicrohttpd lets go of the connection
 * and its memory) and each piece the master sends becomes one chunk written
 * at once (stream.h). A large body of known length stays with
 * libmicrohttpd, which pulls it through read_stream(). Either way at most
 * about STREAM_HIGH_WATER bytes wait for a slow client: above it the master
 * is paused, and what was sent is given back as it goes (bufq.h). */
#include "config.h"

#include "proxy/exchange.h"
#include "base/log.h"
#include "proxy/answer.h"
#include "proxy/stream.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RETAKE_INTERVAL_MS 1000 /* a stream not taken over tries again this often */

static struct log_ratelimit relay_limit = LOG_RATELIMIT_INIT(60000, 20);

static uint64_t ms_from_now(struct exchange *ex, uint64_t ms)
{
    return loop_now_ns(ex->p->loop) + ms * 1000000u;
}

/* Wakes libmicrohttpd's reader if it waits for bytes or for the end. */
static void wake_reader(struct exchange *ex)
{
    if (ex->relay.reader_waiting) {
        ex->relay.reader_waiting = false;
        registry_resume(ex);
    }
}

/* The transfer was paused for a slow client that took enough since. */
static void resume_master(struct exchange *ex)
{
    if (ex->ans.paused) {
        ex->ans.paused = false;
        upstream_unpause(ex->p->upstream, &ex->xfer);
    }
}

/* --- the socket, once ours ------------------------------------------------ */

static void on_client_left_due(struct loop_timer *timer)
{
    relay_client_left(timer->data);
}

static void stream_drained(void *owner)
{
    resume_master(owner);
}

/* May come from inside an upstream callback: the work waits for the loop. */
static void stream_client_gone(void *owner)
{
    struct exchange *ex = owner;

    ex->client_gone = true;
    if (stream_out_stalled(ex->relay.out))
        ex->p->metrics.clients_stalled++;
    registry_set_timer(ex, on_client_left_due, loop_now_ns(ex->p->loop));
}

/* Everything is sent, the terminating chunk included. */
static void stream_flushed(void *owner)
{
    registry_free_soon(owner);
}

static const struct stream_events stream_events = {stream_drained, stream_client_gone,
                                                   stream_flushed};

/* Once we own the socket and the master's side has ended, ends ours. */
static void settle(struct exchange *ex)
{
    if (!ex->relay.out || !ex->ans.upstream_done)
        return;
    if (ex->ans.end_abnormally || ex->client_gone) {
        stream_out_abort(ex->relay.out);
        registry_free_soon(ex);
    } else {
        stream_out_finish(ex->relay.out, false);
    }
}

/* Ends the answer abnormally: the client sees the connection close with no
 * terminating chunk. Shutting the socket down (rather than only telling
 * libmicrohttpd) makes the end immediate, and gives libmicrohttpd an event
 * so that it cleans the connection up at once. */
static ssize_t end_with_error(struct exchange *ex)
{
    loop_io_remove(ex->p->loop, &ex->client_io);
    if (ex->client)
        shutdown(ex->client->fd, SHUT_RDWR);
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void on_retake(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    if (!ex->relay.out && registry_is_open_stream(ex))
        wake_reader(ex); /* its reader takes the socket over */
}

/* A stream whose socket could not be taken over is relayed by libmicrohttpd
 * meanwhile, and tried again: in the next turn of the loop, when
 * libmicrohttpd has closed its copies of the sockets taken over in this one
 * (they hold descriptors until the end of its turn), then every second. */
static void retake_later(struct exchange *ex)
{
    if (loop_timer_armed(&ex->relay.retake))
        return;
    loop_timer_init(&ex->relay.retake, on_retake, ex);
    loop_timer_arm_ms(ex->p->loop, &ex->relay.retake, ex->relay.retakes++ ? RETAKE_INTERVAL_MS : 0);
}

/* libmicrohttpd has sent the head: from now on the stream's bytes go
 * straight to the socket, through a descriptor of our own; libmicrohttpd is
 * told to drop the connection (it does not shut the socket down, in its
 * turbo mode), which frees its memory. Returns false when no descriptor is
 * free: libmicrohttpd then goes on relaying, and we try again later. */
static bool take_over(struct exchange *ex)
{
    int fd = ex->client ? clients_take_over(ex->client) : -1;

    if (fd < 0) {
        if (!ex->client)
            return false;             /* nothing to take over: libmicrohttpd relays it to the end */
        if (ex->relay.retakes == 0) { /* once a stream */
            log_ratelimited(&relay_limit, LOG_WARNING,
                            "cannot take a stream's socket over yet (%m): libmicrohttpd relays it "
                            "meanwhile");
            ex->p->metrics.takeovers_deferred++;
        }
        retake_later(ex);
        return false;
    }
    loop_io_remove(ex->p->loop, &ex->client_io); /* the stream watches it now */
    ex->relay.out =
        stream_out_new(ex->p->loop, fd, !ex->req.http10,
                       (uint64_t)ex->p->cfg.client_idle_timeout_s * 1000u, &stream_events, ex);
    ex->relay.detached = true;
    front_kick(ex->p->front); /* so that it cleans its connection up now */
    if (bufq_len(&ex->ans.data) > 0) {
        ex->p->metrics.bytes_downstream += bufq_len(&ex->ans.data);
        stream_out_write(ex->relay.out, bufq_head(&ex->ans.data), bufq_len(&ex->ans.data));
    }
    bufq_free(&ex->ans.data);
    if (stream_out_backlog(ex->relay.out) < STREAM_LOW_WATER)
        resume_master(ex);
    return true;
}

/* Hands queued bytes to libmicrohttpd (bodies of known length, and streams
 * not taken over), giving back what it took. */
static ssize_t read_queued(struct exchange *ex, char *buf, size_t max)
{
    size_t avail = bufq_len(&ex->ans.data);
    size_t n = avail < max ? avail : max;

    if (n == 0) {
        if (ex->ans.upstream_done)
            return ex->ans.end_abnormally ? end_with_error(ex) : MHD_CONTENT_READER_END_OF_STREAM;
        /* Nothing yet: wait for the master without holding MHD's attention. */
        MHD_suspend_connection(ex->conn);
        ex->suspended = true;
        ex->relay.reader_waiting = true;
        return 0;
    }
    memcpy(buf, bufq_head(&ex->ans.data), n);
    bufq_drop(&ex->ans.data, n);
    ex->p->metrics.bytes_downstream += n;
    if (bufq_len(&ex->ans.data) < STREAM_LOW_WATER)
        resume_master(ex);
    return (ssize_t)n;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct exchange *ex = cls;

    if (ex->client_gone && !ex->relay.out)
        return end_with_error(ex);
    if (ex->ans.content_length < 0 && !ex->relay.out && !ex->ans.upstream_done && take_over(ex))
        return MHD_CONTENT_READER_END_WITH_ERROR; /* libmicrohttpd lets go */
    return read_queued(ex, buf, max);
}

/* --- the master's side ------------------------------------------------------ */

size_t relay_body(struct exchange *ex, const char *bytes, size_t len)
{
    if (ex->relay.out) {
        if (stream_out_backlog(ex->relay.out) >= STREAM_HIGH_WATER) {
            ex->ans.paused = true;
            return UPSTREAM_PAUSE;
        }
        if (stream_out_write(ex->relay.out, bytes, len) < 0)
            return 0; /* the client left: the call ends */
        ex->p->metrics.bytes_downstream += len;
    } else {
        if (bufq_len(&ex->ans.data) >= STREAM_HIGH_WATER) {
            ex->ans.paused = true;
            return UPSTREAM_PAUSE;
        }
        bufq_push(&ex->ans.data, bytes, len);
        wake_reader(ex);
    }
    ex->relay.last_data_ns = loop_now_ns(ex->p->loop);
    return len;
}

/* A stream that carries nothing for the idle timeout ends; so does a large
 * answer of known size that stalls. */
static void on_idle(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;
    uint64_t idle_ns = ex->p->cfg.stream_idle_timeout_ms * 1000000u;

    if (ex->ans.paused || loop_now_ns(ex->p->loop) - ex->relay.last_data_ns < idle_ns) {
        /* A paused master is waiting for the client, not silent. */
        uint64_t from = ex->ans.paused ? loop_now_ns(ex->p->loop) : ex->relay.last_data_ns;
        loop_timer_arm_at(ex->p->loop, timer, from + idle_ns);
        return;
    }
    ex->p->metrics.upstream_errors[UPSTREAM_ERR_TIMEOUT]++;
    if (registry_is_open_stream(ex)) {
        relay_end_stream(ex, "no data from the master within the idle timeout");
        return;
    }
    upstream_abort(ex->p->upstream, &ex->xfer);
    ex->ans.upstream_done = true;
    ex->ans.end_abnormally = true;
    wake_reader(ex);
}

void relay_start(struct exchange *ex)
{
    bool known = ex->ans.content_length >= 0;
    /* The block is only used for answers of known size; streams need none. */
    struct MHD_Response *r = MHD_create_response_from_callback(
        known ? (uint64_t)ex->ans.content_length : MHD_SIZE_UNKNOWN, known ? 64ul * 1024ul : 16,
        read_stream, ex, NULL);

    if (!r) {
        registry_stop_upstream(ex);
        answer_error(ex, 500, "internal", "cannot build the answer", 0);
        return;
    }
    if (!known) {
        registry_enlist(ex, &ex->p->exchanges.streams);
        ex->p->metrics.streams_total++;
    }
    ex->relay.last_data_ns = loop_now_ns(ex->p->loop);
    registry_set_timer(ex, on_idle, ms_from_now(ex, ex->p->cfg.stream_idle_timeout_ms));
    answer_queue(ex, r);
}

void relay_end_stream(struct exchange *ex, const char *why)
{
    if (!registry_is_open_stream(ex))
        return; /* already ended */
    log_debug("ending the stream of %s %s from %s (stream id '%s'): %s", ex->req.method,
              ex->req.target, ex->att.leader, ex->ans.stream_id ? ex->ans.stream_id : "none", why);
    registry_delist(ex);
    registry_stop_upstream(ex);
    /* Abnormal end at once: drop what was not sent, no terminating chunk. */
    bufq_free(&ex->ans.data);
    ex->ans.upstream_done = true;
    ex->ans.end_abnormally = true;
    if (ex->relay.out)
        settle(ex);
    else
        wake_reader(ex);
    front_kick(ex->p->front);
}

void relay_upstream_done(struct exchange *ex, enum upstream_result rc, const char *detail)
{
    if (rc != UPSTREAM_OK)
        ex->p->metrics.upstream_errors[policy_error_class(rc)]++;
    registry_delist(ex);
    loop_timer_cancel(ex->p->loop, &ex->timer);
    ex->ans.upstream_done = true;
    ex->ans.end_abnormally = rc != UPSTREAM_OK;
    if (rc != UPSTREAM_OK && !ex->client_gone)
        log_debug("the answer to %s %s from %s broke: %s", ex->req.method, ex->req.target,
                  ex->att.leader, detail);
    if (ex->relay.out)
        settle(ex);
    else
        wake_reader(ex);
}

void relay_client_left(struct exchange *ex)
{
    if (registry_is_open_stream(ex))
        relay_end_stream(ex, "the client went away");
    else
        settle(ex); /* the master had finished; the client left before the end */
}
