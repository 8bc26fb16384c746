/* standin_raw.c: raw answers, scripted bytes the stand-in writes straight to
 * a connection's socket instead of answering through libmicrohttpd.
 *
 * A test installs one per request path (POST /__standin/faults with
 * "raw_answer"). It plays what libmicrohttpd cannot produce: interim 1xx
 * answers, close-delimited bodies, trailers, huge heads, answers written
 * before the request body is read, answers trickled byte by byte, answers cut
 * short. The table of answers has its own lock; a request thread takes a copy
 * and plays it on its own connection (libmicrohttpd runs one thread per
 * connection, so the handler may block while it writes, trickles or holds).
 * Parsing a specification and playing one on a descriptor are independent of
 * libmicrohttpd (tests/standin/check_standin_raw.c tests them). */
#include "config.h"

#include "standin.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How long one write may wait for a reader that does not read. */
#define WRITE_TIMEOUT_MS 30000
/* How often a blocked writer or holder looks at the stop flag. */
#define POLL_SLICE_MS 100

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct st_raw_answer table[ST_RAW_MAX_ANSWERS];
static size_t table_len;

/* ---------------------------------------------------------------------------
 * Specifications (pure)
 * ------------------------------------------------------------------------- */

void st_raw_answer_done(struct st_raw_answer *a)
{
    if (!a)
        return;
    freep(&a->path);
    strbuf_done(&a->bytes);
    memset(a, 0, sizeof(*a));
}

static int raw_uint(struct json_object *v, const char *key, unsigned max, unsigned *ret,
                    struct errbuf *err)
{
    int64_t n;

    if (!json_object_is_type(v, json_type_int))
        return errbuf_set(err, -EINVAL, "'raw_answer.%s' must be an integer", key);
    n = json_object_get_int64(v);
    if (n < 0 || (uint64_t)n > max)
        return errbuf_set(err, -EINVAL, "'raw_answer.%s' must be from 0 to %u", key, max);
    *ret = (unsigned)n;
    return 0;
}

static int raw_path(struct json_object *v, struct st_raw_answer *a, struct errbuf *err)
{
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

    if (!s || s[0] != '/' || strchr(s, '?') || strlen(s) > ST_RAW_MAX_PATH)
        return errbuf_set(err, -EINVAL,
                          "'raw_answer.path' must be a path starting with '/', without a query, "
                          "of at most %u bytes",
                          ST_RAW_MAX_PATH);
    if (strncmp(s, "/__standin/", 11) == 0)
        return errbuf_set(err, -EINVAL, "'raw_answer.path' cannot be a control endpoint");
    a->path = xstrdup(s);
    return 0;
}

static int raw_bytes(struct json_object *v, struct st_raw_answer *a, struct errbuf *err)
{
    const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    size_t len = s ? (size_t)json_object_get_string_len(v) : 0;

    if (!s)
        return errbuf_set(err, -EINVAL, "'raw_answer.bytes' must be a base64 string");
    if (len / 4 * 3 > ST_RAW_MAX_BYTES + 3)
        return errbuf_set(err, -EINVAL, "'raw_answer.bytes' holds more than %u bytes",
                          ST_RAW_MAX_BYTES);
    if (st_base64_decode(s, len, &a->bytes) < 0)
        return errbuf_set(err, -EINVAL, "'raw_answer.bytes' is not valid base64");
    if (a->bytes.len > ST_RAW_MAX_BYTES)
        return errbuf_set(err, -EINVAL, "'raw_answer.bytes' holds more than %u bytes",
                          ST_RAW_MAX_BYTES);
    return 0;
}

static int raw_key(const char *key, struct json_object *v, struct st_raw_answer *a,
                   struct errbuf *err)
{
    if (strcmp(key, "path") == 0)
        return raw_path(v, a, err);
    if (strcmp(key, "bytes") == 0)
        return raw_bytes(v, a, err);
    if (strcmp(key, "trickle_ms") == 0)
        return raw_uint(v, key, ST_RAW_MAX_TRICKLE_MS, &a->trickle_ms, err);
    if (strcmp(key, "hold_ms") == 0)
        return raw_uint(v, key, ST_RAW_MAX_HOLD_MS, &a->hold_ms, err);
    if (strcmp(key, "before_body") == 0) {
        if (!json_object_is_type(v, json_type_boolean))
            return errbuf_set(err, -EINVAL, "'raw_answer.before_body' must be true or false");
        a->before_body = json_object_get_boolean(v);
        return 0;
    }
    return errbuf_set(err, -EINVAL, "unknown 'raw_answer' key '%s'", key);
}

int st_raw_parse(struct json_object *spec, struct st_raw_answer *ret, struct errbuf *err)
{
    struct st_raw_answer a = {0};
    int rc = 0;

    if (!json_object_is_type(spec, json_type_object))
        return errbuf_set(err, -EINVAL, "'raw_answer' must be null or an object");
    json_object_object_foreach(spec, key, val)
    {
        rc = raw_key(key, val, &a, err);
        if (rc < 0)
            break;
    }
    if (rc == 0 && !a.path)
        rc = errbuf_set(err, -EINVAL, "'raw_answer' needs a 'path'");
    if (rc == 0 && !a.bytes.data && a.hold_ms == 0)
        rc = errbuf_set(err, -EINVAL, "'raw_answer' needs 'bytes' (or a 'hold_ms' to say nothing)");
    if (rc == 0 && a.trickle_ms &&
        (uint64_t)a.bytes.len * a.trickle_ms > ST_RAW_MAX_TRICKLE_TOTAL_MS)
        rc = errbuf_set(err, -EINVAL, "trickling %zu bytes every %u ms takes longer than %u ms",
                        a.bytes.len, a.trickle_ms, ST_RAW_MAX_TRICKLE_TOTAL_MS);
    if (rc < 0) {
        st_raw_answer_done(&a);
        return rc;
    }
    *ret = a;
    return 0;
}

/* ---------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------- */

int st_raw_set(struct st_raw_answer *a)
{
    size_t i;

    pthread_mutex_lock(&lock);
    for (i = 0; i < table_len && strcmp(table[i].path, a->path) != 0; i++)
        ;
    if (i == ST_RAW_MAX_ANSWERS) {
        pthread_mutex_unlock(&lock);
        return -ENOSPC;
    }
    if (i < table_len)
        st_raw_answer_done(&table[i]);
    else
        table_len++;
    table[i] = *a;
    memset(a, 0, sizeof(*a));
    pthread_mutex_unlock(&lock);
    return 0;
}

size_t st_raw_room(const char *path)
{
    size_t room;

    pthread_mutex_lock(&lock);
    room = ST_RAW_MAX_ANSWERS - table_len;
    for (size_t i = 0; path && i < table_len; i++)
        if (strcmp(table[i].path, path) == 0)
            room++;
    pthread_mutex_unlock(&lock);
    return room;
}

void st_raw_clear(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < table_len; i++)
        st_raw_answer_done(&table[i]);
    table_len = 0;
    pthread_mutex_unlock(&lock);
}

bool st_raw_find(const char *path, bool before_body, struct st_raw_answer *ret)
{
    bool found = false;

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < table_len && !found; i++) {
        const struct st_raw_answer *a = &table[i];
        if (strcmp(a->path, path) != 0 || a->before_body != before_body)
            continue;
        *ret = *a;
        ret->path = xstrdup(a->path);
        ret->bytes = (struct strbuf){0};
        strbuf_append(&ret->bytes, a->bytes.data ? a->bytes.data : "", a->bytes.len);
        found = true;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

void st_raw_to_json(struct strbuf *out)
{
    pthread_mutex_lock(&lock);
    strbuf_puts(out, "[");
    for (size_t i = 0; i < table_len; i++) {
        const struct st_raw_answer *a = &table[i];
        strbuf_puts(out, i ? ",{\"before_body\":" : "{\"before_body\":");
        strbuf_printf(out, "%s,\"bytes_len\":%zu,\"hold_ms\":%u,\"path\":",
                      a->before_body ? "true" : "false", a->bytes.len, a->hold_ms);
        strbuf_json_string(out, a->path);
        strbuf_printf(out, ",\"trickle_ms\":%u}", a->trickle_ms);
    }
    strbuf_puts(out, "]");
    pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------------------
 * Playing one on a socket
 * ------------------------------------------------------------------------- */

/* Waits for @events on @fd for at most one slice; -errno on a poll error. */
static int wait_slice(int fd, short events, short *ret_revents)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int n = poll(&pfd, 1, POLL_SLICE_MS);

    if (n < 0 && errno != EINTR)
        return -errno;
    *ret_revents = n > 0 ? pfd.revents : 0;
    return 0;
}

/* Writes all @len bytes to @fd (blocking or not). */
static int write_all(int fd, const char *data, size_t len, bool (*stopping)(void))
{
    uint64_t deadline = time_now_ms() + WRITE_TIMEOUT_MS;

    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        short revents;
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -errno;
        if ((stopping && stopping()) || time_now_ms() >= deadline)
            return -ETIMEDOUT;
        if (wait_slice(fd, POLLOUT, &revents) < 0)
            return -EIO;
    }
    return 0;
}

/* Keeps the connection open for @ms, reading and dropping what the peer
 * sends, until it closes its side. */
static void hold(int fd, unsigned ms, bool (*stopping)(void))
{
    uint64_t deadline = time_now_ms() + ms;
    char buf[4096];

    while (time_now_ms() < deadline && !(stopping && stopping())) {
        short revents = 0;
        if (wait_slice(fd, POLLIN, &revents) < 0)
            return;
        if (!(revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return;
    }
}

static int trickle(int fd, const struct st_raw_answer *a, bool (*stopping)(void))
{
    int one = 1;

    /* One segment per byte: no coalescing while an acknowledgement is due. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (size_t i = 0; i < a->bytes.len; i++) {
        int rc = write_all(fd, a->bytes.data + i, 1, stopping);
        if (rc < 0)
            return rc;
        if (i + 1 < a->bytes.len && poll(NULL, 0, (int)a->trickle_ms) < 0 && errno != EINTR)
            return -errno;
        if (stopping && stopping())
            return -ECANCELED;
    }
    return 0;
}

int st_raw_play(int fd, const struct st_raw_answer *a, bool (*stopping)(void))
{
    int rc = 0;

    if (a->bytes.len)
        rc = a->trickle_ms ? trickle(fd, a, stopping)
                           : write_all(fd, a->bytes.data, a->bytes.len, stopping);
    if (rc == 0 && a->hold_ms)
        hold(fd, a->hold_ms, stopping);
    /* The end of a close-delimited body; what the peer still sends is not
     * read, so closing the descriptor then resets the connection. */
    shutdown(fd, SHUT_WR);
    return rc;
}
