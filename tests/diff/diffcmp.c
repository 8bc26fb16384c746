/* diffcmp.c: comparing the two sides of an exchange (see diffcmp.h). The
 * allowed differences are the list just below; everything else that
 * differs is reported with both sides. */
#include "config.h"

#include "diff/diffcmp.h"
#include "diff/diffhttp.h"

#include "base/mem.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ===========================================================================
 * The allowed differences, all of them; mesos-leaderd(8) lists the same.
 * The brackets say where each is coded.
 *
 *  1. Hop-by-hop headers (Connection, Keep-Alive, Proxy-*, TE, Trailer,
 *     Transfer-Encoding, Upgrade, and any header a Connection header of the
 *     same message names) and the framing they imply: those headers are
 *     left out on both sides, bodies are compared with the chunked framing
 *     removed, and a Content-Length may appear on one side only (when both
 *     have one, they must agree). For answers and for the requests the
 *     master receives. [header_rules, view_build, diffhttp.c]
 *  2. Date, on both sides. [header_rules]
 *  3. X-Forwarded-For and Via added on the request the master receives: one
 *     element more at the end; the client's own elements all kept, in order.
 *     [header_rules, added_at_end]
 *  4. Host on the request the master receives (the daemon names the
 *     master). [header_rules]
 *  5. Expect is not forwarded. [header_rules]
 *  6. The request line the master receives says HTTP/1.1, also for an
 *     HTTP/1.0 client. [UPSTREAM_VERSION]
 *  7. Request trailers and chunk extensions are not forwarded: the stand-in
 *     records neither, so there is nothing to leave out.
 *  8. Interim 1xx answers from the master are not relayed: the master's are
 *     left out; the client sees only the final answer, and libmicrohttpd in
 *     the daemon answers "100 Continue" itself to a request that expects it.
 *     [OWN_INTERIM_STATUS, check_interim]
 *  9. Answer trailers are not relayed: left out on both sides (diffhttp.c
 *     keeps them apart from the headers).
 * 10. An answer the master cuts short: when it is small enough to be read
 *     whole first, the client gets 502 with the daemon's JSON error
 *     ({"error":...,"source":"mesos-leaderd"}); a larger one, or an event
 *     stream, ends abnormally (closed before its end), as it did: the same
 *     head and a prefix of the body. [READ_WHOLE_MAX, compare_answer]
 * 11. An answer head above 8 KiB: 502 with the daemon's JSON error (as
 *     nginx does with its default buffers). [HEAD_MAX, compare_answer]
 * 12. The reason phrase of the status line: libmicrohttpd writes its own
 *     for each status (clients ignore it, RFC 9112 4). [compare_heads]
 * ========================================================================= */

/* Where a header rule applies. */
#define IN_ANSWERS  1u
#define IN_RECEIVED 2u /* the requests the master receives */

enum treatment {
    LEFT_OUT,      /* not compared (rules 1, 2, 4) */
    ONE_SIDED,     /* compared only when both sides have it (rule 1) */
    ADDED_AT_END,  /* the daemon's side may add one element at the end (rule 3) */
    NOT_FORWARDED, /* left out of the master's side only (rule 5) */
};

static const struct header_rule {
    const char *name; /* a final '*' matches any rest */
    unsigned where;
    enum treatment how;
} header_rules[] = {
    {"Connection", IN_ANSWERS | IN_RECEIVED, LEFT_OUT},        /* 1 */
    {"Keep-Alive", IN_ANSWERS | IN_RECEIVED, LEFT_OUT},        /* 1 */
    {"Proxy-*", IN_ANSWERS | IN_RECEIVED, LEFT_OUT},           /* 1 */
    {"TE", IN_ANSWERS | IN_RECEIVED, LEFT_OUT},                /* 1 */
    {"Trailer", IN_ANSWERS | IN_RECEIVED, LEFT_OUT},           /* 1 */
    {"Transfer-Encoding", IN_ANSWERS | IN_RECEIVED, LEFT_OUT}, /* 1 */
    {"Upgrade", IN_ANSWERS | IN_RECEIVED, LEFT_OUT},           /* 1 */
    {"Content-Length", IN_ANSWERS | IN_RECEIVED, ONE_SIDED},   /* 1 */
    {"Date", IN_ANSWERS | IN_RECEIVED, LEFT_OUT},              /* 2 */
    {"X-Forwarded-For", IN_RECEIVED, ADDED_AT_END},            /* 3 */
    {"Via", IN_RECEIVED, ADDED_AT_END},                        /* 3 */
    {"Host", IN_RECEIVED, LEFT_OUT},                           /* 4 */
    {"Expect", IN_RECEIVED, NOT_FORWARDED},                    /* 5 */
};
#define N_RULES (sizeof(header_rules) / sizeof(header_rules[0]))

#define UPSTREAM_VERSION   "HTTP/1.1"      /* 6 */
#define OWN_INTERIM_STATUS 100             /* 8 */
#define READ_WHOLE_MAX     (1024l * 1024l) /* 10 */
#define HEAD_MAX           8192u           /* 11 */

/* ===========================================================================
 * Reporting
 * ========================================================================= */

struct cmp {
    struct strbuf *report;
    int differences;
    const char *dname, *pname;
    char where[64]; /* "answer 2: " when there are several */
};

static void __attribute__((format(printf, 2, 3))) differ(struct cmp *c, const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        abort();
    va_end(ap);
    strbuf_printf(c->report, "  - %s%s\n", c->where, text);
    free(text);
    c->differences++;
}

void dc_escape(struct strbuf *out, const char *bytes, size_t len, size_t max)
{
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char ch = (unsigned char)bytes[i];
        if (ch == '\r')
            strbuf_puts(out, "\\r");
        else if (ch == '\n')
            strbuf_puts(out, "\\n");
        else if (ch == '\t')
            strbuf_puts(out, "\\t");
        else if (ch == '\\')
            strbuf_puts(out, "\\\\");
        else if (ch < 0x20 || ch >= 0x7f)
            strbuf_printf(out, "\\x%02x", ch);
        else
            strbuf_append(out, &bytes[i], 1);
    }
    if (len > max)
        strbuf_puts(out, "...");
}

/* Reports where two byte strings first differ; with @prefix_ok the daemon's
 * may be a shorter prefix of the master's. */
static void compare_bytes(struct cmp *c, const char *what, const char *d, size_t dlen,
                          const char *p, size_t plen, bool prefix_ok)
{
    size_t n = dlen < plen ? dlen : plen, first = 0, from;
    struct strbuf dv = {0}, pv = {0};

    while (first < n && d[first] == p[first])
        first++;
    if (first == n && (dlen == plen || (prefix_ok && plen < dlen)))
        return;
    from = first > 16 ? first - 16 : 0;
    dc_escape(&dv, d + from, dlen - from, 48);
    dc_escape(&pv, p + from, plen - from, 48);
    differ(c,
           "%s differs at byte %zu (%s: %zu bytes, %s: %zu bytes%s)\n      %s from byte %zu: %s\n"
           "      %s from byte %zu: %s",
           what, first, c->dname, dlen, c->pname, plen, prefix_ok ? ", may be a prefix" : "",
           c->dname, from, dv.data ? dv.data : "", c->pname, from, pv.data ? pv.data : "");
    strbuf_done(&dv);
    strbuf_done(&pv);
}

/* ===========================================================================
 * Header views: what is left to compare after rules 1 to 5
 * ========================================================================= */

struct view {
    const struct dh_field **v; /* compared in order */
    size_t n;
    char *joined[N_RULES]; /* ONE_SIDED and ADDED_AT_END values, joined by ", " */
};

static bool name_matches(const char *pattern, const char *name)
{
    size_t n = strlen(pattern);

    if (n > 0 && pattern[n - 1] == '*')
        return strncasecmp(pattern, name, n - 1) == 0;
    return strcasecmp(pattern, name) == 0;
}

static const struct header_rule *rule_of(const char *name, unsigned where, size_t *ret_index)
{
    for (size_t i = 0; i < N_RULES; i++) {
        if ((header_rules[i].where & where) && name_matches(header_rules[i].name, name)) {
            *ret_index = i;
            return &header_rules[i];
        }
    }
    return NULL;
}

static void join(char **joined, const char *value)
{
    char *more = *joined ? xasprintf("%s, %s", *joined, value) : xstrdup(value);

    free(*joined);
    *joined = more;
}

/* Builds the view of @f for the @direct side (the master's) or the daemon's. */
static void view_build(struct view *w, const struct dh_fields *f, unsigned where, bool direct)
{
    memset(w, 0, sizeof(*w));
    w->v = xcalloc(f->n + 1, sizeof(*w->v));
    for (size_t i = 0; i < f->n; i++) {
        const struct dh_field *h = &f->v[i];
        size_t k;
        const struct header_rule *r = rule_of(h->name, where, &k);
        if (dh_fields_list(f, "Connection", h->name))
            continue; /* 1: named in a Connection header */
        if (r && (r->how == LEFT_OUT || (r->how == NOT_FORWARDED && direct)))
            continue;
        if (r && (r->how == ONE_SIDED || r->how == ADDED_AT_END)) {
            join(&w->joined[k], h->value);
            continue;
        }
        w->v[w->n++] = h;
    }
}

static void view_done(struct view *w)
{
    free(w->v);
    for (size_t i = 0; i < N_RULES; i++)
        free(w->joined[i]);
}

static void list_fields(struct strbuf *out, const struct view *w, const char *indent)
{
    if (w->n == 0)
        strbuf_printf(out, "\n%s(none)", indent);
    for (size_t i = 0; i < w->n; i++) {
        strbuf_printf(out, "\n%s%s: ", indent, w->v[i]->name);
        dc_escape(out, w->v[i]->value, strlen(w->v[i]->value), 200);
    }
}

/* Rule 3: @p is @d with at most one element added at the end. */
static bool added_at_end(const char *d, const char *p)
{
    size_t n = d ? strlen(d) : 0;
    const char *added;

    if (!p || (d && strcmp(d, p) == 0))
        return !p == !d;
    if (d && (strncmp(p, d, n) != 0 || strncmp(p + n, ", ", 2) != 0))
        return false;
    added = d ? p + n + 2 : p;
    return *added && !strchr(added, ',');
}

static void compare_joined(struct cmp *c, const char *what, const struct view *d,
                           const struct view *p)
{
    for (size_t k = 0; k < N_RULES; k++) {
        const char *dv = d->joined[k], *pv = p->joined[k];
        const char *name = header_rules[k].name;
        if (header_rules[k].how == ONE_SIDED && dv && pv && strcmp(dv, pv) != 0)
            differ(c, "%s %s differs: %s '%s', %s '%s'", what, name, c->dname, dv, c->pname, pv);
        if (header_rules[k].how == ADDED_AT_END && !added_at_end(dv, pv))
            differ(c, "%s %s is not the client's with one element added: %s '%s', %s '%s'", what,
                   name, c->dname, dv ? dv : "(none)", c->pname, pv ? pv : "(none)");
    }
}

static void compare_fields(struct cmp *c, const char *what, const struct dh_fields *df,
                           const struct dh_fields *pf, unsigned where)
{
    struct view d, p;
    size_t i;

    view_build(&d, df, where, true);
    view_build(&p, pf, where, false);
    for (i = 0; i < d.n && i < p.n; i++)
        if (strcmp(d.v[i]->name, p.v[i]->name) != 0 || strcmp(d.v[i]->value, p.v[i]->value) != 0)
            break;
    if (i < d.n || i < p.n) {
        struct strbuf text = {0};
        strbuf_printf(&text,
                      "%s headers differ from header %zu on (allowed differences left out)"
                      "\n      %s:",
                      what, i + 1, c->dname);
        list_fields(&text, &d, "        ");
        strbuf_printf(&text, "\n      %s:", c->pname);
        list_fields(&text, &p, "        ");
        differ(c, "%s", text.data);
        strbuf_done(&text);
    }
    compare_joined(c, what, &d, &p);
    view_done(&d);
    view_done(&p);
}

/* ===========================================================================
 * Answers
 * ========================================================================= */

bool dc_is_daemon_error(const char *body, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    json_object *obj = json_tokener_parse_ex(tok, body ? body : "", (int)len), *error, *source;
    bool yes = obj && json_object_is_type(obj, json_type_object) &&
               json_object_object_get_ex(obj, "error", &error) &&
               json_object_is_type(error, json_type_string) &&
               json_object_object_get_ex(obj, "source", &source) &&
               json_object_is_type(source, json_type_string) &&
               strcmp(json_object_get_string(source), "mesos-leaderd") == 0;

    json_object_put(obj);
    json_tokener_free(tok);
    return yes;
}

/* How an answer the client read ended. */
static const char *ending(const struct dc_side *s, const struct dh_message *m)
{
    if (m->complete)
        return "complete";
    if (s->client_closed)
        return "the client hung up after its [until] text";
    if (s->server_closed)
        return m->head_done ? "the connection closed within the body"
                            : "the connection closed within the head";
    return s->timed_out ? "it never completed (timed out)" : "incomplete";
}

/* Rules 10 and 11: the daemon answers 502 with its JSON error. */
static void expect_daemon_502(struct cmp *c, const struct dc_side *ps, const struct dh_answer *p,
                              const char *why)
{
    struct strbuf body = {0};

    if (!p || !p->final.complete) {
        differ(c, "%s, so %s should answer 502 with its JSON error; its answer: %s", why, c->pname,
               p ? ending(ps, &p->final) : "none");
        return;
    }
    if (p->final.status == 502 && dc_is_daemon_error(p->final.body.data, p->final.body.len))
        return;
    dc_escape(&body, p->final.body.data ? p->final.body.data : "", p->final.body.len, 120);
    differ(c, "%s, so %s should answer 502 with its JSON error; it answered '%s' with body '%s'",
           why, c->pname, p->final.start, body.data ? body.data : "");
    strbuf_done(&body);
}

/* Rule 8: the interim heads the daemon may send. */
static void check_interim(struct cmp *c, const struct dh_answer *p, const struct dh_message *req)
{
    bool expects = req && dh_field_get(&req->headers, "Expect") &&
                   strcasecmp(dh_field_get(&req->headers, "Expect"), "100-continue") == 0;

    for (size_t i = 0; i < p->n_interim; i++)
        if (p->interim[i].status != OWN_INTERIM_STATUS || !expects)
            differ(c, "%s sent an interim '%s'%s", c->pname, p->interim[i].start,
                   expects ? "" : " to a request that expected none");
}

static void compare_heads(struct cmp *c, const struct dh_message *d, const struct dh_message *p)
{
    if (strcmp(d->version, p->version) != 0 || d->status != p->status) /* 12: not the reason */
        differ(c, "status lines differ: %s '%s', %s '%s'", c->dname, d->start, c->pname, p->start);
    compare_fields(c, "answer", &d->headers, &p->headers, IN_ANSWERS);
}

/* An answer that ended when the client hung up: the bodies up to the end
 * of the [until] text. */
static void compare_until(struct cmp *c, const char *until, const struct dh_message *d,
                          const struct dh_message *p)
{
    size_t n = strlen(until);
    const char *de = d->body.data ? memmem(d->body.data, d->body.len, until, n) : NULL;
    const char *pe = p->body.data ? memmem(p->body.data, p->body.len, until, n) : NULL;

    if (!pe) {
        differ(c, "%s's answer never carried the [until] text '%s' (%zu body bytes)", c->pname,
               until, p->body.len);
        return;
    }
    compare_bytes(c, "the body up to the [until] text", d->body.data,
                  de ? (size_t)(de - d->body.data) + n : d->body.len, p->body.data,
                  (size_t)(pe - p->body.data) + n, false);
}

/* Rule 10: a cut answer relayed as it came must end abnormally too. */
static void compare_cut(struct cmp *c, const struct dh_message *d, const struct dh_message *p)
{
    if (p->complete) {
        differ(c, "%s's answer was cut short, but %s's is complete ('%s', %zu body bytes)",
               c->dname, c->pname, p->start, p->body.len);
        return;
    }
    if (!p->head_done)
        return; /* nothing but the end, like the master's */
    compare_heads(c, d, p);
    compare_bytes(c, "the body", d->body.data, d->body.len, p->body.data, p->body.len, true);
}

static bool cut_is_small(const struct dh_message *d, const struct dc_expect *e)
{
    if (e->stream && d->head_done)
        return false;
    if (d->content_length >= 0)
        return d->content_length <= READ_WHOLE_MAX;
    return d->body.len <= (size_t)READ_WHOLE_MAX;
}

/* Says what @a (may be NULL) on side @s came to. */
static void describe(struct strbuf *out, const struct dc_side *s, const struct dh_answer *a)
{
    if (!a || !a->final.start) {
        strbuf_printf(out, "no answer (%s)",
                      s->timed_out       ? "timed out"
                      : s->server_closed ? "connection closed"
                                         : "none");
        return;
    }
    strbuf_printf(out, "'%s', %s after %zu body bytes", a->final.start, ending(s, &a->final),
                  a->final.body.len);
}

/* Both sides answered completely: the same answer but for the rules. */
static void compare_complete(struct cmp *c, const struct dc_side *ps, const struct dh_answer *d,
                             const struct dh_answer *p)
{
    if (!p || !p->final.complete) {
        struct strbuf text = {0};
        describe(&text, ps, p);
        differ(c, "%s answered '%s' in full; %s: %s", c->dname, d->final.start, c->pname,
               text.data);
        strbuf_done(&text);
        return;
    }
    compare_heads(c, &d->final, &p->final);
    compare_bytes(c, "the body", d->final.body.data, d->final.body.len, p->final.body.data,
                  p->final.body.len, false);
}

static void compare_answer(struct cmp *c, const struct dc_side *ds, const struct dc_side *ps,
                           const struct dh_answer *d, const struct dh_answer *p,
                           const struct dh_message *req, const struct dc_expect *e)
{
    if (p)
        check_interim(c, p, req);
    if (!d || (!d->final.start && !d->final.complete)) {
        if (p && p->final.start)
            differ(c, "%s gave no answer, %s answered '%s'", c->dname, c->pname, p->final.start);
        return;
    }
    if (d->final.head_done && d->final.head_len > HEAD_MAX) {
        char why[96];
        snprintf(why, sizeof(why), "%s's answer head has %zu bytes, above %u", c->dname,
                 d->final.head_len, HEAD_MAX);
        expect_daemon_502(c, ps, p, why);
    } else if (d->final.complete) {
        compare_complete(c, ps, d, p);
    } else if (ds->client_closed && ds->until) {
        if (!p || !p->final.head_done) {
            differ(c, "%s's answer never started", c->pname);
        } else {
            compare_heads(c, &d->final, &p->final);
            compare_until(c, ds->until, &d->final, &p->final);
        }
    } else if (ds->server_closed && cut_is_small(&d->final, e)) {
        expect_daemon_502(c, ps, p, "the master cut its answer short within the first MiB");
    } else if (ds->server_closed) {
        if (!p)
            differ(c, "%s's cut answer has no counterpart at %s", c->dname, c->pname);
        else
            compare_cut(c, &d->final, &p->final);
    } else {
        differ(c, "%s's own answer never completed: the case or the stand-in is broken", c->dname);
    }
}

int dc_compare_answers(const struct dc_side *direct, const struct dc_side *proxied,
                       const struct dc_expect *expect, struct strbuf *report)
{
    struct cmp c = {.report = report, .dname = direct->name, .pname = proxied->name};
    struct dh_requests dreq, preq;
    struct dh_answers d, p;
    size_t n;

    dh_requests_parse(direct->sent.data, direct->sent.len, &dreq);
    dh_requests_parse(proxied->sent.data, proxied->sent.len, &preq);
    dh_answers_parse(direct->got.data, direct->got.len, direct->server_closed, &dreq, &d);
    dh_answers_parse(proxied->got.data, proxied->got.len, proxied->server_closed, &preq, &p);
    n = d.n > p.n ? d.n : p.n;
    for (size_t i = 0; i < n; i++) {
        if (n > 1)
            snprintf(c.where, sizeof(c.where), "answer %zu: ", i + 1);
        compare_answer(&c, direct, proxied, i < d.n ? &d.v[i] : NULL, i < p.n ? &p.v[i] : NULL,
                       i < dreq.n ? &dreq.v[i] : NULL, expect);
    }
    c.where[0] = '\0';
    if (p.error && !d.error)
        differ(&c, "%s's bytes stop making sense: %s", c.pname, p.error);
    if (d.error)
        differ(&c, "%s's bytes stop making sense: %s (the case is broken)", c.dname, d.error);
    if (p.extra > d.extra)
        differ(&c, "%s sent %zu bytes after the last answer", c.pname, p.extra);
    dh_requests_free(&dreq);
    dh_requests_free(&preq);
    dh_answers_free(&d);
    dh_answers_free(&p);
    return c.differences;
}

/* ===========================================================================
 * What the master received
 * ========================================================================= */

static const char *jstr(json_object *obj, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(obj, key, &v))
        return "";
    return json_object_get_string(v);
}

static void fields_from_json(json_object *req, struct dh_fields *ret)
{
    json_object *headers;
    size_t n;

    memset(ret, 0, sizeof(*ret));
    if (!json_object_object_get_ex(req, "headers", &headers))
        return;
    n = json_object_array_length(headers);
    ret->v = xcalloc(n + 1, sizeof(*ret->v));
    for (size_t i = 0; i < n; i++) {
        json_object *pair = json_object_array_get_idx(headers, i);
        ret->v[i].name = (char *)json_object_get_string(json_object_array_get_idx(pair, 0));
        ret->v[i].value = (char *)json_object_get_string(json_object_array_get_idx(pair, 1));
    }
    ret->n = n;
}

/* Standard base64 (the stand-in's "body"); bad input decodes to what came
 * before it. */
static void base64_decode(const char *in, struct strbuf *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0, bits = 0;

    for (; *in && *in != '='; in++) {
        const char *pos = strchr(alphabet, *in);
        if (!pos)
            return;
        acc = (acc << 6) | (unsigned)(pos - alphabet);
        bits += 6;
        if (bits >= 8) {
            unsigned char byte = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
            strbuf_append(out, &byte, 1);
        }
    }
}

static void compare_request(struct cmp *c, json_object *d, json_object *p)
{
    const char *dv = jstr(d, "version"), *pv = jstr(p, "version");
    struct dh_fields df, pf;
    struct strbuf db = {0}, pb = {0};

    if (strcmp(jstr(d, "method"), jstr(p, "method")) != 0 ||
        strcmp(jstr(d, "target"), jstr(p, "target")) != 0)
        differ(c, "request lines differ: %s '%s %s', %s '%s %s'", c->dname, jstr(d, "method"),
               jstr(d, "target"), c->pname, jstr(p, "method"), jstr(p, "target"));
    if (strcmp(pv, strcmp(dv, "HTTP/1.0") == 0 ? UPSTREAM_VERSION : dv) != 0)
        differ(c, "request versions differ: %s '%s', %s '%s'", c->dname, dv, c->pname, pv);
    fields_from_json(d, &df);
    fields_from_json(p, &pf);
    compare_fields(c, "request", &df, &pf, IN_RECEIVED);
    free(df.v);
    free(pf.v);
    base64_decode(jstr(d, "body"), &db);
    base64_decode(jstr(p, "body"), &pb);
    if (strcmp(jstr(d, "body_len"), jstr(p, "body_len")) != 0)
        differ(c, "request body lengths differ: %s %s, %s %s", c->dname, jstr(d, "body_len"),
               c->pname, jstr(p, "body_len"));
    compare_bytes(c, "the request body", db.data ? db.data : "", db.len, pb.data ? pb.data : "",
                  pb.len, false);
    strbuf_done(&db);
    strbuf_done(&pb);
}

static void list_requests(struct strbuf *out, json_object *reqs)
{
    size_t n = json_object_array_length(reqs);

    if (n == 0)
        strbuf_puts(out, " none");
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(reqs, i);
        strbuf_printf(out, "%s'%s %s'", i ? ", " : " ", jstr(r, "method"), jstr(r, "target"));
    }
}

int dc_compare_received(json_object *direct, json_object *proxied, struct strbuf *report)
{
    struct cmp c = {
        .report = report, .dname = "master (direct)", .pname = "master (through the daemon)"};
    size_t dn = json_object_array_length(direct), pn = json_object_array_length(proxied);

    if (dn != pn) {
        struct strbuf text = {0};
        strbuf_printf(&text,
                      "the master received %zu requests directly, %zu through the daemon"
                      "\n      directly:",
                      dn, pn);
        list_requests(&text, direct);
        strbuf_puts(&text, "\n      through the daemon:");
        list_requests(&text, proxied);
        differ(&c, "%s", text.data);
        strbuf_done(&text);
    }
    for (size_t i = 0; i < dn && i < pn; i++) {
        if (dn > 1)
            snprintf(c.where, sizeof(c.where), "received request %zu: ", i + 1);
        compare_request(&c, json_object_array_get_idx(direct, i),
                        json_object_array_get_idx(proxied, i));
    }
    return c.differences;
}

void dc_side_done(struct dc_side *s)
{
    strbuf_done(&s->sent);
    strbuf_done(&s->got);
}
