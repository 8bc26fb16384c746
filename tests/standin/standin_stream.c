/* standin_stream.c: RecordIO event streams, as a Mesos master sends them.
 *
 * A stream is the body of a SUBSCRIBE answer: a chunked HTTP/1.1 response of
 * unknown length whose bytes are RecordIO records, "<decimal length>\n<json>".
 * MHD runs each connection in its own thread and asks our reader callback for
 * the next chunk; the reader blocks on the stream's condition variable until a
 * record is queued, a heartbeat is due, the stream is ended, or the client is
 * gone (checked on the socket every POLL_MS). By default every record goes out
 * as one chunk (a record larger than MHD's buffer spans several). The
 * shaping faults change that: split_records (small pieces), coalesce_records
 * (several records per chunk), hold_after_first (send one record, then wait
 * for "release") and drop_streams_after (close without the terminating chunk).
 *
 * Lifetime: a stream is reference-counted. The registry that owns it (a
 * framework, or the operator subscriber list) holds one reference, the MHD
 * response holds another. When MHD frees the response, the connection is over:
 * the owner's callback runs so that it can forget the stream.
 *
 * Lock order: owner registry lock, then list_lock, then a stream's mu. */
#include "config.h"

#include "standin.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS    200
#define MAX_QUEUED 4096 /* records waiting; beyond that the client is hopeless */
#define HEARTBEAT  "{\"type\":\"HEARTBEAT\"}"
#define BLOCK_HINT (64 * 1024)

struct record {
    struct record *next;
    size_t len;
    char data[]; /* "<len>\n<json>" */
};

struct st_stream {
    struct st_stream *prev, *next; /* in the list of open streams */
    atomic_int refs;
    unsigned serial;
    int fd; /* the client socket, polled for hang-ups */
    st_stream_closed_fn on_closed;

    pthread_mutex_t mu;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    struct record *head, *tail;
    size_t queued;
    bool held;          /* hold_after_first: wait for release after the first unit */
    bool ending;        /* end cleanly once the queue is empty */
    bool gone;          /* the client hung up */
    struct strbuf unit; /* bytes of the unit being sent */
    size_t unit_off;
    unsigned unit_records;
    unsigned sent_records;
    uint64_t last_heartbeat_ms;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct st_stream *streams;
static size_t n_streams;
static unsigned next_serial;

static void enqueue_locked(struct st_stream *s, const char *json)
{
    size_t jlen = strlen(json);
    char prefix[24];
    int plen = snprintf(prefix, sizeof(prefix), "%zu\n", jlen);
    struct record *r = xmalloc(sizeof(*r) + (size_t)plen + jlen);

    r->next = NULL;
    r->len = (size_t)plen + jlen;
    memcpy(r->data, prefix, (size_t)plen);
    memcpy(r->data + plen, json, jlen);
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    s->queued++;
}

struct st_stream *st_stream_new(struct MHD_Connection *conn, st_stream_closed_fn on_closed,
                                const char *first_json, bool heartbeats)
{
    struct st_stream *s = xnew(struct st_stream);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    pthread_condattr_t attr;
    struct st_faults f;

    atomic_init(&s->refs, 1);
    s->fd = ci ? ci->connect_fd : -1;
    s->on_closed = on_closed;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    st_faults_get(&f);
    s->held = f.hold_after_first;
    st_faults_done(&f);
    enqueue_locked(s, first_json);
    if (heartbeats) {
        /* Mesos starts the heartbeater right after SUBSCRIBED: one at once. */
        enqueue_locked(s, HEARTBEAT);
    } else {
        s->ending = true; /* a refusal: the one record, then the end */
    }
    s->last_heartbeat_ms = time_now_ms();
    pthread_mutex_lock(&list_lock);
    s->serial = ++next_serial;
    pthread_mutex_unlock(&list_lock);
    return s;
}

void st_stream_ref(struct st_stream *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void st_stream_unref(struct st_stream *s)
{
    struct record *r, *next;

    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (r = s->head; r; r = next) {
        next = r->next;
        free(r);
    }
    strbuf_done(&s->unit);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

unsigned st_stream_serial(const struct st_stream *s)
{
    return s->serial;
}

void st_stream_push(struct st_stream *s, const char *json)
{
    pthread_mutex_lock(&s->mu);
    if (!s->ending && !s->gone) {
        enqueue_locked(s, json);
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->mu);
}

void st_stream_end(struct st_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->ending = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void for_each_stream(void (*fn)(struct st_stream *))
{
    pthread_mutex_lock(&list_lock);
    for (struct st_stream *s = streams; s; s = s->next) {
        pthread_mutex_lock(&s->mu);
        fn(s);
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&list_lock);
}

static void release_one(struct st_stream *s)
{
    s->held = false;
}

static void kick_one(struct st_stream *s)
{
    (void)s;
}

void st_streams_release(void)
{
    for_each_stream(release_one);
}

void st_streams_kick(void)
{
    for_each_stream(kick_one);
}

size_t st_streams_count(void)
{
    size_t n;

    pthread_mutex_lock(&list_lock);
    n = n_streams;
    pthread_mutex_unlock(&list_lock);
    return n;
}

/* ---------------------------------------------------------------------------
 * The reader: one call per chunk.
 * ------------------------------------------------------------------------- */

/* Whether the client closed its side (polled without blocking). */
static bool client_gone(const struct st_stream *s)
{
    struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};

    if (s->fd < 0)
        return false;
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* Moves up to @max records from the queue into the unit being sent. */
static void take_unit(struct st_stream *s, unsigned max)
{
    strbuf_reset(&s->unit);
    s->unit_off = 0;
    s->unit_records = 0;
    while (s->head && s->unit_records < max) {
        struct record *r = s->head;
        s->head = r->next;
        if (!s->head)
            s->tail = NULL;
        s->queued--;
        strbuf_append(&s->unit, r->data, r->len);
        s->unit_records++;
        free(r);
    }
}

/* Copies the next piece of the unit into @buf. */
static ssize_t emit(struct st_stream *s, char *buf, size_t max, unsigned split)
{
    size_t n = s->unit.len - s->unit_off;

    if (n > max)
        n = max;
    if (split && n > split)
        n = split;
    memcpy(buf, s->unit.data + s->unit_off, n);
    s->unit_off += n;
    if (s->unit_off == s->unit.len)
        s->sent_records += s->unit_records;
    return (ssize_t)n;
}

/* Whether a new unit can be taken now. */
static bool unit_ready(const struct st_stream *s, unsigned coalesce)
{
    if (!s->head)
        return false;
    if (s->held && s->sent_records > 0 && !s->ending)
        return false;
    return s->ending || s->queued >= (coalesce > 1 ? coalesce : 1);
}

/* Waits until @deadline_ms or a signal; polls the client every POLL_MS. */
static void wait_a_while(struct st_stream *s, uint64_t deadline_ms)
{
    uint64_t now = time_now_ms();
    uint64_t until = deadline_ms < now + POLL_MS ? deadline_ms : now + POLL_MS;
    struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                          .tv_nsec = (long)(until % 1000) * 1000000};

    pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    if (!s->gone && client_gone(s))
        s->gone = true;
}

static ssize_t next_chunk(struct st_stream *s, char *buf, size_t max)
{
    for (;;) {
        struct st_faults f;
        uint64_t interval_ms, due;

        if (s->gone || st_shutting_down())
            return MHD_CONTENT_READER_END_WITH_ERROR;
        st_faults_get(&f);
        st_faults_done(&f);
        if (s->unit_off < s->unit.len)
            return emit(s, buf, max, f.split_records);
        if (f.drop_streams_after && s->sent_records >= f.drop_streams_after) {
            log_info("stream %u: dropping the connection after %u records (fault)", s->serial,
                     s->sent_records);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (unit_ready(s, f.coalesce_records)) {
            take_unit(s, f.coalesce_records > 1 ? f.coalesce_records : 1);
            continue;
        }
        if (s->ending && !s->head)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (s->queued > MAX_QUEUED)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        interval_ms = (uint64_t)(f.heartbeat_interval * 1000.0);
        due = s->last_heartbeat_ms + (interval_ms ? interval_ms : 1);
        if (time_now_ms() >= due) {
            enqueue_locked(s, HEARTBEAT);
            s->last_heartbeat_ms = time_now_ms();
            continue;
        }
        wait_a_while(s, due);
    }
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct st_stream *s = cls;
    ssize_t n;

    (void)pos;
    if (max == 0)
        return 0;
    pthread_mutex_lock(&s->mu);
    n = next_chunk(s, buf, max);
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* MHD is done with the response: the connection is over. */
static void reader_free(void *cls)
{
    struct st_stream *s = cls;

    pthread_mutex_lock(&list_lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    n_streams--;
    pthread_mutex_unlock(&list_lock);

    pthread_mutex_lock(&s->mu);
    s->gone = true;
    pthread_mutex_unlock(&s->mu);
    log_debug("stream %u closed after %u records", s->serial, s->sent_records);
    if (s->on_closed)
        s->on_closed(s);
    st_stream_unref(s);
}

struct MHD_Response *st_stream_response(struct st_stream *s)
{
    struct MHD_Response *resp;

    st_stream_ref(s);
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_HINT, reader, s, reader_free);
    if (!resp) {
        if (s->on_closed)
            s->on_closed(s);
        st_stream_unref(s);
        return NULL;
    }
    pthread_mutex_lock(&list_lock);
    s->next = streams;
    if (streams)
        streams->prev = s;
    streams = s;
    n_streams++;
    pthread_mutex_unlock(&list_lock);
    return resp;
}
