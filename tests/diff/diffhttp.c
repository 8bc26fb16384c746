/* diffhttp.c: splitting what a client sent and received into HTTP/1.x
 * messages, for the differential harness (see diffhttp.h). Lenient as a
 * client is: bare LF line ends, any reason phrase, obsolete folded lines
 * joined to the value before them. */
#include "config.h"

#include "diff/diffhttp.h"

#include "base/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A reader over a byte range. */
struct cursor {
    const char *p;
    const char *end;
};

/* Takes one line (without its line end) from @c; false when no line end
 * arrived yet. */
static bool take_line(struct cursor *c, const char **ret, size_t *ret_len)
{
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    size_t len;

    if (!nl)
        return false;
    len = (size_t)(nl - c->p);
    if (len > 0 && c->p[len - 1] == '\r')
        len--;
    *ret = c->p;
    *ret_len = len;
    c->p = nl + 1;
    return true;
}

static char *trimmed(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return xstrndup(s, len);
}

static void fields_add(struct dh_fields *f, const char *line, size_t len, const char *colon)
{
    f->v = xreallocarray(f->v, f->n + 1, sizeof(*f->v));
    f->v[f->n].name = xstrndup(line, (size_t)(colon - line));
    f->v[f->n].value = trimmed(colon + 1, (size_t)(line + len - colon - 1));
    f->n++;
}

/* Joins an obsolete folded line to the value before it. */
static void fields_fold(struct dh_fields *f, const char *line, size_t len)
{
    struct dh_field *last = &f->v[f->n - 1];
    char *more = trimmed(line, len);
    char *joined = xasprintf("%s %s", last->value, more);

    free(last->value);
    free(more);
    last->value = joined;
}

static void fields_free(struct dh_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].value);
    }
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

const char *dh_field_get(const struct dh_fields *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcasecmp(f->v[i].name, name) == 0)
            return f->v[i].value;
    return NULL;
}

static bool list_has(const char *list, const char *token)
{
    size_t n = strlen(token);

    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) == n && n && strncasecmp(start, token, n) == 0)
            return true;
    }
    return false;
}

bool dh_fields_list(const struct dh_fields *f, const char *name, const char *token)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcasecmp(f->v[i].name, name) == 0 && list_has(f->v[i].value, token))
            return true;
    return false;
}

/* Reads header (or trailer) lines up to the blank line. Returns 1 when the
 * block is complete, 0 when more bytes are needed, -1 when a line is not a
 * header line. */
static int read_fields(struct cursor *c, struct dh_fields *f)
{
    const char *line;
    size_t len;

    while (take_line(c, &line, &len)) {
        const char *colon = memchr(line, ':', len);
        if (len == 0)
            return 1;
        if ((line[0] == ' ' || line[0] == '\t') && f->n > 0)
            fields_fold(f, line, len);
        else if (!colon || colon == line)
            return -1;
        else
            fields_add(f, line, len, colon);
    }
    return 0;
}

/* --- start lines ---------------------------------------------------------- */

/* The next word of @s (up to a space); advances @s. */
static char *word(const char **s, const char *end)
{
    const char *start = *s, *sp = memchr(start, ' ', (size_t)(end - start));
    const char *stop = sp ? sp : end;

    *s = sp ? sp + 1 : end;
    return xstrndup(start, (size_t)(stop - start));
}

static bool parse_request_line(struct dh_message *m, const char *line, size_t len)
{
    const char *p = line, *end = line + len;

    m->start = xstrndup(line, len);
    m->method = word(&p, end);
    m->target = word(&p, end);
    m->version = xstrndup(p, (size_t)(end - p));
    return *m->method && *m->target && strncmp(m->version, "HTTP/", 5) == 0;
}

static bool parse_status_line(struct dh_message *m, const char *line, size_t len)
{
    const char *p = line, *end = line + len;
    char *code;
    bool ok;

    m->start = xstrndup(line, len);
    m->version = word(&p, end);
    code = word(&p, end);
    m->reason = xstrndup(p, (size_t)(end - p));
    ok = strncmp(m->version, "HTTP/", 5) == 0 && strlen(code) == 3 &&
         isdigit((unsigned char)code[0]) && isdigit((unsigned char)code[1]) &&
         isdigit((unsigned char)code[2]);
    m->status = ok ? atoi(code) : 0;
    free(code);
    return ok;
}

/* --- bodies --------------------------------------------------------------- */

static bool content_length(const struct dh_fields *f, int64_t *ret)
{
    const char *v = dh_field_get(f, "Content-Length");
    char *end;
    long long n;

    *ret = -1;
    if (!v)
        return true;
    if (!isdigit((unsigned char)*v))
        return false;
    n = strtoll(v, &end, 10);
    if (*end)
        return false;
    *ret = n;
    return true;
}

static bool chunked(const struct dh_fields *f)
{
    const char *te = dh_field_get(f, "Transfer-Encoding");
    size_t n = te ? strlen(te) : 0;

    return te && n >= 7 && strcasecmp(te + n - 7, "chunked") == 0;
}

/* Reads a chunked body. Returns 1 when it ended (trailers read), 0 when more
 * is needed, -1 when the framing is broken. */
static int read_chunks(struct cursor *c, struct dh_message *m)
{
    for (;;) {
        const char *line;
        size_t len, digits = 0;
        uint64_t size = 0;

        if (!take_line(c, &line, &len))
            return 0;
        while (digits < len && isxdigit((unsigned char)line[digits]) && digits < 15) {
            char ch = (char)tolower((unsigned char)line[digits]);
            size = size * 16 + (uint64_t)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
            digits++;
        }
        if (digits == 0)
            return -1;
        m->chunk_extensions |= digits < len && memchr(line + digits, ';', len - digits);
        if (size == 0)
            return read_fields(c, &m->trailers);
        if ((uint64_t)(c->end - c->p) < size) {
            strbuf_append(&m->body, c->p, (size_t)(c->end - c->p)); /* a partial chunk */
            c->p = c->end;
            return 0;
        }
        strbuf_append(&m->body, c->p, (size_t)size);
        c->p += size;
        if (!take_line(c, &line, &len))
            return c->p == c->end ? 0 : -1;
        if (len != 0)
            return -1;
    }
}

/* Reads the body by its framing; false when the bytes are broken. */
static bool read_body(struct cursor *c, bool eof, struct dh_message *m)
{
    size_t avail = (size_t)(c->end - c->p);

    switch (m->framing) {
    case DH_NONE:
        m->complete = true;
        return true;
    case DH_LENGTH: {
        size_t want = (size_t)m->content_length - m->body.len;
        size_t n = avail < want ? avail : want;
        strbuf_append(&m->body, c->p, n);
        c->p += n;
        m->complete = m->body.len == (size_t)m->content_length;
        return true;
    }
    case DH_CHUNKED: {
        int r = read_chunks(c, m);
        m->complete = r == 1;
        return r >= 0;
    }
    case DH_CLOSE:
        strbuf_append(&m->body, c->p, avail);
        c->p = c->end;
        m->complete = eof;
        return true;
    }
    return false;
}

/* --- messages ------------------------------------------------------------- */

static void message_free(struct dh_message *m)
{
    free(m->start);
    free(m->method);
    free(m->target);
    free(m->version);
    free(m->reason);
    fields_free(&m->headers);
    fields_free(&m->trailers);
    strbuf_done(&m->body);
    memset(m, 0, sizeof(*m));
}

static void set_framing(struct dh_message *m, bool answer, bool head_request)
{
    bool no_body = answer && (head_request || (m->status >= 100 && m->status < 200) ||
                              m->status == 204 || m->status == 304);

    if (no_body)
        m->framing = DH_NONE;
    else if (chunked(&m->headers))
        m->framing = DH_CHUNKED;
    else if (m->content_length >= 0)
        m->framing = DH_LENGTH;
    else
        m->framing = answer ? DH_CLOSE : DH_NONE;
}

/* Reads one message at @c. Returns NULL, or why the bytes are not HTTP. */
static const char *read_message(struct cursor *c, bool eof, bool answer, bool head_request,
                                struct dh_message *m)
{
    const char *begin = c->p, *line;
    size_t len;
    int r;

    m->content_length = -1;
    if (!take_line(c, &line, &len)) {
        c->p = c->end;
        return NULL;
    }
    if (!(answer ? parse_status_line(m, line, len) : parse_request_line(m, line, len)))
        return answer ? "not an HTTP status line" : "not an HTTP request line";
    r = read_fields(c, &m->headers);
    if (r < 0)
        return "a header line without a colon";
    if (r == 0) {
        c->p = c->end;
        return NULL;
    }
    m->head_done = true;
    m->head_len = (size_t)(c->p - begin);
    if (!content_length(&m->headers, &m->content_length))
        return "a Content-Length that is not a number";
    set_framing(m, answer, head_request);
    if (!read_body(c, eof, m))
        return "broken chunk framing";
    m->raw_len = (size_t)(c->p - begin);
    return NULL;
}

void dh_requests_parse(const char *buf, size_t len, struct dh_requests *ret)
{
    struct cursor c = {buf, buf + len};

    memset(ret, 0, sizeof(*ret));
    while (c.p < c.end && !ret->error) {
        struct dh_message *m;
        ret->v = xreallocarray(ret->v, ret->n + 1, sizeof(*ret->v));
        m = &ret->v[ret->n++];
        memset(m, 0, sizeof(*m));
        ret->error = read_message(&c, false, false, false, m);
        if (!m->complete)
            break;
    }
}

static bool is_interim(const struct dh_message *m)
{
    return m->head_done && m->status >= 100 && m->status < 200 && m->status != 101;
}

/* Reads the answer to @req at @c into @a. */
static const char *read_answer(struct cursor *c, bool eof, const struct dh_message *req,
                               struct dh_answer *a)
{
    bool head = req && req->method && strcmp(req->method, "HEAD") == 0;

    while (c->p < c->end) {
        struct dh_message m = {0};
        const char *error = read_message(c, eof, true, head, &m);
        if (error || !is_interim(&m)) {
            a->final = m;
            return error;
        }
        a->interim = xreallocarray(a->interim, a->n_interim + 1, sizeof(*a->interim));
        a->interim[a->n_interim++] = m;
    }
    return NULL;
}

void dh_answers_parse(const char *buf, size_t len, bool eof, const struct dh_requests *reqs,
                      struct dh_answers *ret)
{
    struct cursor c = {buf, buf + len};

    memset(ret, 0, sizeof(*ret));
    if (reqs && reqs->n == 0) {
        ret->extra = len; /* nothing was asked */
        return;
    }
    for (size_t i = 0; c.p < c.end && !ret->error; i++) {
        struct dh_answer *a;
        ret->v = xreallocarray(ret->v, ret->n + 1, sizeof(*ret->v));
        a = &ret->v[ret->n++];
        memset(a, 0, sizeof(*a));
        ret->error = read_answer(&c, eof, reqs && i < reqs->n ? &reqs->v[i] : NULL, a);
        if (!a->final.complete)
            break;
        if (reqs && i + 1 >= reqs->n) {
            ret->extra = (size_t)(c.end - c.p);
            break;
        }
    }
}

void dh_requests_free(struct dh_requests *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        message_free(&r->v[i]);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

void dh_answers_free(struct dh_answers *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        for (size_t k = 0; k < a->v[i].n_interim; k++)
            message_free(&a->v[i].interim[k]);
        free(a->v[i].interim);
        message_free(&a->v[i].final);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

size_t dh_answers_complete(const struct dh_answers *a)
{
    size_t n = 0;

    for (size_t i = 0; i < a->n; i++)
        n += a->v[i].final.complete;
    return n;
}
