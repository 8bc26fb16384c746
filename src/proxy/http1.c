/* http1.c: reading an HTTP/1.x answer as it arrives (see http1.h). */
#include "config.h"

#include "proxy/http1.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#define CHUNK_SIZE_DIGITS_MAX 15   /* below 2^60 */
#define CHUNK_EXT_MAX         1024 /* chunk extensions are skipped, within reason */
#define CONTENT_LENGTH_MAX    (INT64_C(1) << 60)

enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

enum chunk_state {
    CS_SIZE,          /* hex digits of a chunk's size */
    CS_SIZE_WS,       /* white space after them, before ';' or the line end */
    CS_EXT,           /* extensions, up to the line end */
    CS_SIZE_LF,       /* the LF after the size line's CR */
    CS_DATA,          /* the chunk's bytes */
    CS_DATA_CR,       /* the CRLF after them */
    CS_DATA_LF,       /* its LF */
    CS_TRAILER_START, /* a trailer line, or the final blank line */
    CS_TRAILER,       /* within a trailer line (dropped) */
    CS_FINAL_LF       /* the LF of the final blank line */
};

static void reset_head(struct http1_response *r)
{
    r->status_seen = false;
    r->status = 0;
    r->minor = 0;
    r->content_length = -1;
    r->chunked = false;
    r->close = false;
    r->keep_alive = false;
}

void http1_response_init(struct http1_response *r, bool head_request)
{
    struct strbuf line = r->line; /* its memory serves the next answer */

    strbuf_reset(&line);
    *r = (struct http1_response){.head_request = head_request, .line = line};
    reset_head(r);
}

void http1_response_done(struct http1_response *r)
{
    strbuf_done(&r->line);
}

static int reject(struct http1_response *r, const char *why)
{
    r->error = why;
    return -EBADMSG;
}

/* --- the head ------------------------------------------------------------- */

static bool name_is(const char *line, size_t name_len, const char *name)
{
    return name_len == strlen(name) && strncasecmp(line, name, name_len) == 0;
}

/* The value of a header line, blanks and line end trimmed. */
static void field_value(const char *line, size_t len, size_t name_len, const char **ret,
                        size_t *ret_len)
{
    const char *v = line + name_len + 1, *end = line + len;

    while (end > v && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    *ret = v;
    *ret_len = (size_t)(end - v);
}

static int content_length(struct http1_response *r, const char *v, size_t n)
{
    int64_t value = 0;

    if (n == 0)
        return reject(r, "an empty Content-Length");
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)v[i]) || value > CONTENT_LENGTH_MAX / 10)
            return reject(r, "a Content-Length that is not a number");
        value = value * 10 + (v[i] - '0');
    }
    if (r->content_length >= 0 && r->content_length != value)
        return reject(r, "two different Content-Lengths");
    r->content_length = value;
    return 0;
}

static void connection_tokens(struct http1_response *r, const char *v, size_t n)
{
    const char *end = v + n;

    while (v < end) {
        const char *comma = memchr(v, ',', (size_t)(end - v));
        const char *tok_end = comma ? comma : end;
        while (v < tok_end && (*v == ' ' || *v == '\t'))
            v++;
        size_t len = (size_t)(tok_end - v);
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        if (len == 5 && strncasecmp(v, "close", 5) == 0)
            r->close = true;
        else if (len == 10 && strncasecmp(v, "keep-alive", 10) == 0)
            r->keep_alive = true;
        v = comma ? comma + 1 : end;
    }
}

/* Notes what a header line says about the framing. */
static int framing_field(struct http1_response *r, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len), *v;
    size_t name_len, n;

    if (!colon)
        return 0; /* the line handler judges it */
    name_len = (size_t)(colon - line);
    field_value(line, len, name_len, &v, &n);
    if (name_is(line, name_len, "Content-Length"))
        return content_length(r, v, n);
    if (name_is(line, name_len, "Transfer-Encoding")) {
        if (r->chunked || n != 7 || strncasecmp(v, "chunked", 7) != 0)
            return reject(r, "a transfer coding other than chunked");
        r->chunked = true;
    } else if (name_is(line, name_len, "Connection")) {
        connection_tokens(r, v, n);
    }
    return 0;
}

static int status_line(struct http1_response *r, const char *line, size_t len)
{
    if (len < 13 || memcmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
        line[8] != ' ')
        return reject(r, "not an HTTP/1.x status line");
    for (int i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)line[i]))
            return reject(r, "not an HTTP/1.x status line");
    }
    if (line[12] != ' ' && line[12] != '\r' && line[12] != '\n')
        return reject(r, "not an HTTP/1.x status line");
    r->minor = line[7] - '0';
    r->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (r->status < 100)
        return reject(r, "a status code below 100");
    r->status_seen = true;
    return 0;
}

/* The blank line: an interim head starts over, a final one sets the body. */
static int end_of_head(struct http1_response *r)
{
    if (r->status == 101)
        return reject(r, "a switch of protocols nobody asked for");
    if (r->status < 200) {
        reset_head(r);
        return 0;
    }
    if (r->chunked && r->content_length >= 0)
        return reject(r, "both Content-Length and Transfer-Encoding");
    r->phase = HTTP1_BODY;
    if (r->head_request || r->status == 204 || r->status == 304) {
        r->body_kind = BODY_NONE;
        r->phase = HTTP1_DONE;
    } else if (r->chunked) {
        r->body_kind = BODY_CHUNKED;
        r->chunk_state = CS_SIZE;
        r->chunk_digits = 0;
        r->left = 0;
    } else if (r->content_length >= 0) {
        r->body_kind = BODY_LENGTH;
        r->left = (uint64_t)r->content_length;
        if (r->left == 0)
            r->phase = HTTP1_DONE;
    } else {
        r->body_kind = BODY_CLOSE;
        r->close = true;
    }
    return 0;
}

static int head_line(struct http1_response *r, const char *line, size_t len,
                     const struct http1_handler *h, void *data)
{
    bool blank = (len == 1 && line[0] == '\n') || (len == 2 && line[0] == '\r');
    int rc;

    if (!r->status_seen)
        rc = status_line(r, line, len);
    else
        rc = blank ? 0 : framing_field(r, line, len);
    if (rc < 0)
        return rc;
    if (!h->line(data, line, len))
        return reject(r, "a head line that is not valid");
    return blank && r->status_seen ? end_of_head(r) : 0;
}

/* Takes one line of the head (or what there is of it). */
static ssize_t feed_head(struct http1_response *r, const char *p, size_t n,
                         const struct http1_handler *h, void *data)
{
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) + 1 : n;
    int rc;

    if (r->head_bytes + take > HTTP1_HEAD_MAX)
        return reject(r, "a head larger than 64 KiB");
    r->head_bytes += take;
    if (!nl) {
        strbuf_append(&r->line, p, n);
        return (ssize_t)n;
    }
    if (r->line.len) {
        strbuf_append(&r->line, p, take);
        rc = head_line(r, r->line.data, r->line.len, h, data);
        strbuf_reset(&r->line);
    } else {
        rc = head_line(r, p, take, h, data);
    }
    if (r->phase != HTTP1_HEAD)
        r->head_bytes = 0;
    return rc < 0 ? rc : (ssize_t)take;
}

/* --- the body ------------------------------------------------------------- */

/* Hands up to r->left bytes to the body handler; 0 when it paused. */
static ssize_t deliver(struct http1_response *r, const char *p, size_t n,
                       const struct http1_handler *h, void *data, bool bounded)
{
    size_t offer = bounded && r->left < n ? (size_t)r->left : n;
    size_t took = h->body(data, p, offer);

    if (took > offer)
        took = offer;
    if (bounded)
        r->left -= took;
    return (ssize_t)took;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void end_of_size_line(struct http1_response *r)
{
    r->chunk_digits = 0; /* the next size line counts from nothing */
    r->chunk_state = r->left == 0 ? CS_TRAILER_START : CS_DATA;
}

/* After a chunk size (and white space): ';' starts the extensions, else the
 * line must end. */
static int after_size(struct http1_response *r, char c)
{
    r->chunk_digits = 0;
    if (c == '\r')
        r->chunk_state = CS_SIZE_LF;
    else if (c == '\n')
        end_of_size_line(r);
    else if (c == ';')
        r->chunk_state = CS_EXT;
    else if (c == ' ' || c == '\t')
        r->chunk_state = CS_SIZE_WS;
    else
        return reject(r, "a chunk size that is not hexadecimal");
    return 0;
}

/* One byte of chunk framing. */
/* One character of a chunk-size line: digits, blanks, extensions, CR LF. */
static int size_line_char(struct http1_response *r, char c)
{
    int v;

    switch ((enum chunk_state)r->chunk_state) {
    case CS_SIZE:
        v = hex_value(c);
        if (v >= 0) {
            if (++r->chunk_digits > CHUNK_SIZE_DIGITS_MAX)
                return reject(r, "a chunk size too large");
            r->left = r->left * 16 + (uint64_t)v;
            return 0;
        }
        if (r->chunk_digits == 0)
            return reject(r, "a chunk size that is not hexadecimal");
        return after_size(r, c);
    case CS_SIZE_WS:
        return after_size(r, c);
    case CS_EXT:
        if (++r->chunk_digits > CHUNK_EXT_MAX)
            return reject(r, "chunk extensions too long");
        if (c == '\n')
            end_of_size_line(r);
        else if (c == '\r')
            r->chunk_state = CS_SIZE_LF;
        return 0;
    default: /* CS_SIZE_LF */
        if (c != '\n')
            return reject(r, "a chunk size line without its line end");
        end_of_size_line(r);
        return 0;
    }
}

/* One character after the last chunk: trailer lines, then the blank line. */
static int trailer_char(struct http1_response *r, char c)
{
    switch ((enum chunk_state)r->chunk_state) {
    case CS_TRAILER_START:
        if (c == '\n')
            r->phase = HTTP1_DONE;
        else
            r->chunk_state = c == '\r' ? CS_FINAL_LF : CS_TRAILER;
        return 0;
    case CS_TRAILER:
        if (++r->head_bytes > HTTP1_HEAD_MAX)
            return reject(r, "trailers larger than 64 KiB");
        if (c == '\n')
            r->chunk_state = CS_TRAILER_START;
        return 0;
    default: /* CS_FINAL_LF */
        if (c != '\n')
            return reject(r, "a trailer line that is not valid");
        r->phase = HTTP1_DONE;
        return 0;
    }
}

static int chunk_framing(struct http1_response *r, char c)
{
    switch ((enum chunk_state)r->chunk_state) {
    case CS_SIZE:
    case CS_SIZE_WS:
    case CS_EXT:
    case CS_SIZE_LF:
        return size_line_char(r, c);
    case CS_DATA_CR:
        if (c == '\r')
            r->chunk_state = CS_DATA_LF;
        else if (c == '\n')
            r->chunk_state = CS_SIZE;
        else
            return reject(r, "a chunk longer than its size");
        return 0;
    case CS_DATA_LF:
        if (c != '\n')
            return reject(r, "a chunk longer than its size");
        r->chunk_state = CS_SIZE;
        return 0;
    case CS_TRAILER_START:
    case CS_TRAILER:
    case CS_FINAL_LF:
        return trailer_char(r, c);
    case CS_DATA:
        break;
    }
    return reject(r, "a broken chunk parser state");
}

static ssize_t feed_chunked(struct http1_response *r, const char *p, size_t n,
                            const struct http1_handler *h, void *data)
{
    ssize_t took;

    if (r->chunk_state != CS_DATA)
        return chunk_framing(r, *p) < 0 ? -EBADMSG : 1;
    took = deliver(r, p, n, h, data, true);
    if (r->left == 0)
        r->chunk_state = CS_DATA_CR;
    return took;
}

static ssize_t feed_body(struct http1_response *r, const char *p, size_t n,
                         const struct http1_handler *h, void *data)
{
    ssize_t took;

    switch ((enum body_kind)r->body_kind) {
    case BODY_CHUNKED:
        return feed_chunked(r, p, n, h, data);
    case BODY_LENGTH:
        took = deliver(r, p, n, h, data, true);
        if (r->left == 0)
            r->phase = HTTP1_DONE;
        return took;
    case BODY_CLOSE:
        return deliver(r, p, n, h, data, false);
    case BODY_NONE:
        break;
    }
    r->phase = HTTP1_DONE;
    return 0;
}

ssize_t http1_response_feed(struct http1_response *r, const char *buf, size_t len,
                            const struct http1_handler *h, void *data)
{
    size_t pos = 0;

    if (r->error)
        return -EBADMSG;
    if (len > 0)
        r->started = true;
    while (pos < len && r->phase != HTTP1_DONE) {
        ssize_t n = r->phase == HTTP1_HEAD ? feed_head(r, buf + pos, len - pos, h, data)
                                           : feed_body(r, buf + pos, len - pos, h, data);
        if (n < 0)
            return -EBADMSG;
        if (n == 0)
            break; /* the body handler paused */
        pos += (size_t)n;
    }
    return (ssize_t)pos;
}

int http1_response_eof(struct http1_response *r)
{
    if (r->phase == HTTP1_BODY && r->body_kind == BODY_CLOSE)
        r->phase = HTTP1_DONE;
    return r->phase == HTTP1_DONE ? 0 : -EPIPE;
}

bool http1_response_reusable(const struct http1_response *r)
{
    if (r->phase != HTTP1_DONE || r->close || r->body_kind == BODY_CLOSE)
        return false;
    return r->minor >= 1 || r->keep_alive;
}
