/* answer.c: the master's answer on its way to the client: reading its head
 * line by line, and giving libmicrohttpd what it sends (see answer.h). */
#include "config.h"

#include "proxy/answer.h"
#include "base/log.h"
#include "base/mem.h"
#include "proxy/headers.h"
#include "proxy/local.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct log_ratelimit answer_limit = LOG_RATELIMIT_INIT(60000, 20);

/* --- reading the head ------------------------------------------------------ */

static void parse_content_length(struct ex_answer *a, const char *v, size_t len)
{
    char value[32];
    char *end;
    long long cl;

    if (len >= sizeof(value))
        return;
    memcpy(value, v, len);
    value[len] = '\0';
    cl = strtoll(value, &end, 10);
    if (*end == '\0' && cl >= 0)
        a->content_length = cl;
}

/* Whether the field's name is @name (any case). */
static bool named(const struct header_field *f, const char *name, size_t len)
{
    return f->name_len == len && strncasecmp(f->name, name, len) == 0;
}

/* Remembers what the proxy acts on; the rest only passes through. */
static void note_header(struct ex_answer *a, const struct header_field *f)
{
    if (named(f, "Content-Length", 14)) {
        parse_content_length(a, f->value, f->value_len);
    } else if (named(f, "Location", 8)) {
        char *loc = xstrndup(f->value, f->value_len);
        if (headers_location_host(loc, a->location, sizeof(a->location)) < 0)
            a->location[0] = '\0';
        free(loc);
    } else if (named(f, "Mesos-Stream-Id", 15) && !a->stream_id) {
        a->stream_id = xstrndup(f->value, f->value_len);
    } else if (named(f, "Connection", 10)) {
        if (a->connection.len)
            strbuf_append(&a->connection, ",", 1);
        strbuf_append(&a->connection, f->value, f->value_len);
    }
}

static void keep_header(struct ex_answer *a, const struct header_field *f)
{
    note_header(a, f);
    /* Hop-by-hop headers stop here; those the Connection header names are
     * dropped when the head is complete (answer_queue). */
    if (headers_answer_drops(f->name, f->name_len))
        return;
    strbuf_reserve(&a->head, f->name_len + f->value_len + 2);
    strbuf_append(&a->head, f->name, f->name_len);
    strbuf_append(&a->head, "", 1);
    strbuf_append(&a->head, f->value, f->value_len);
    strbuf_append(&a->head, "", 1);
}

enum head_step answer_head_line(struct exchange *ex, const char *line, size_t len)
{
    struct ex_answer *a = &ex->ans;
    struct header_field f;
    int status, r;

    a->head_bytes += len;
    if (a->head_bytes > HEADERS_BYTES_MAX) {
        a->head_too_large = true;
        return HEAD_BAD;
    }
    if (a->planned)
        return HEAD_MORE; /* trailers: not relayed */
    if (a->status == 0) {
        if (headers_parse_status_line(line, len, &status) < 0)
            return HEAD_BAD;
        a->status = status;
        return HEAD_MORE;
    }
    r = headers_parse_field(line, len, &f);
    if (r == -EINVAL)
        return HEAD_BAD;
    if (r == 0 && ++a->head_fields > HEADERS_MAX) {
        a->head_too_large = true;
        return HEAD_BAD;
    }
    if (r == 0)
        keep_header(a, &f);
    if (r != 1)
        return HEAD_MORE; /* folded lines (-EAGAIN) are obsolete: dropped */
    if (a->status < 200) {
        registry_reset_answer(ex); /* an interim answer; the real one follows */
        return HEAD_MORE;
    }
    a->planned = true;
    a->plan = policy_answer_plan(a->status, a->content_length, ex->req.subscribe, ex->req.head);
    return HEAD_DONE;
}

/* --- giving it to libmicrohttpd ---------------------------------------------- */

static void add_headers(const struct ex_answer *a, struct MHD_Response *r)
{
    const char *p = a->head.data;
    const char *end = p + a->head.len;
    const char *connection = a->connection.len ? a->connection.data : NULL;

    while (p && p < end) {
        const char *name = p;
        const char *value = name + strlen(name) + 1;
        p = value + strlen(value) + 1;
        if (headers_connection_lists(connection, name))
            continue;
        /* libmicrohttpd refuses an empty value: a blank is the same field
         * value once the client trims it (RFC 9110 5.5). */
        if (MHD_add_response_header(r, name, *value ? value : " ") != MHD_YES)
            log_ratelimited(&answer_limit, LOG_INFO,
                            "dropped answer header '%s' that the HTTP server refused", name);
    }
}

/* A call other than GET/HEAD answered: reads that arrive from now on must
 * not share an answer sent before it (share.h). */
static void count_write(struct exchange *ex)
{
    if (ex->req.method && !ex->req.resendable)
        ex->p->share.writes_done++;
}

/* Queues @r with @a's status and headers on @ex, and resumes it. */
static void queue_as(struct exchange *ex, const struct ex_answer *a, struct MHD_Response *r)
{
    add_headers(a, r);
    if (MHD_queue_response(ex->conn, (unsigned)a->status, r) != MHD_YES)
        log_ratelimited(&answer_limit, LOG_WARNING, "cannot queue the master's %d answer",
                        a->status);
    MHD_destroy_response(r);
    metrics_count_status(&ex->p->metrics, (unsigned)a->status);
    count_write(ex);
    ex->state = EX_RELAYING;
    registry_resume(ex);
}

void answer_queue(struct exchange *ex, struct MHD_Response *r)
{
    queue_as(ex, &ex->ans, r);
}

static ssize_t no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    return MHD_CONTENT_READER_END_OF_STREAM;
}

/* An answer without a body (HEAD, 304) keeps the length the master gave it,
 * or has none: then libmicrohttpd must not frame one either (it would write
 * a last chunk after the head), and it closes the connection instead. */
static struct MHD_Response *bodiless_response(const struct ex_answer *a)
{
    struct MHD_Response *r;

    if (a->content_length >= 0)
        return MHD_create_response_from_callback((uint64_t)a->content_length, 16, no_body, NULL,
                                                 NULL);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16, no_body, NULL, NULL);
    if (r)
        MHD_set_response_options(r, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    return r;
}

void answer_buffered(struct exchange *ex)
{
    bool bodiless = ex->req.head || ex->ans.status == 304 || ex->ans.status == 204;
    size_t len = 0;
    char *body = bodiless ? NULL : bufq_steal(&ex->ans.data, &len);
    struct MHD_Response *r =
        bodiless ? bodiless_response(&ex->ans)
                 : MHD_create_response_from_buffer_with_free_callback(len, body, free);

    if (!r) {
        free(body);
        answer_error(ex, 500, "internal", "cannot build the answer", 0);
        return;
    }
    ex->p->metrics.bytes_downstream += len;
    answer_queue(ex, r);
}

/* --- one body, several answers --------------------------------------------------- */

struct shared_body {
    unsigned refs;
    size_t len;
    char *data;
};

struct shared_body *answer_share_body(struct exchange *ex)
{
    struct shared_body *b = xnew(struct shared_body);

    b->refs = 1;
    b->data = bufq_steal(&ex->ans.data, &b->len);
    return b;
}

struct shared_body *answer_body_ref(struct shared_body *b)
{
    b->refs++;
    return b;
}

void answer_body_unref(struct shared_body *b)
{
    if (!b || --b->refs > 0)
        return;
    free(b->data);
    free(b);
}

static void unref_body(void *cls)
{
    answer_body_unref(cls);
}

static bool is_bodiless(const struct exchange *ex, const struct ex_answer *a)
{
    return ex->req.head || a->status == 304 || a->status == 204;
}

void answer_copy(struct exchange *ex, const struct ex_answer *from, struct shared_body *b,
                 long age_s)
{
    struct MHD_Response *r;
    char age[24];

    if (is_bodiless(ex, from))
        r = bodiless_response(from);
    else
        r = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, unref_body,
                                                                   answer_body_ref(b));
    if (!r) {
        if (!is_bodiless(ex, from))
            answer_body_unref(b);
        answer_error(ex, 500, "internal", "cannot build the answer", 0);
        return;
    }
    if (age_s >= 0) {
        snprintf(age, sizeof(age), "%ld", age_s);
        MHD_add_response_header(r, "Age", age);
    }
    ex->p->metrics.bytes_downstream += is_bodiless(ex, from) ? 0 : b->len;
    queue_as(ex, from, r);
}

void answer_error(struct exchange *ex, unsigned status, const char *code, const char *message,
                  unsigned retry_after)
{
    count_write(ex);
    ex->state = EX_LOCAL;
    metrics_count_status(&ex->p->metrics, status);
    if (local_error(ex->conn, status, code, message, retry_after, false) != MHD_YES)
        log_ratelimited(&answer_limit, LOG_WARNING, "cannot queue a %u answer", status);
    registry_resume(ex);
}
