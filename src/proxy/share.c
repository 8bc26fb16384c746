/* share.c: heavy state reads served once: calls shared by identical
 * concurrent reads, and the optional cache (see share.h). */
#include "config.h"

#include "proxy/share.h"
#include "base/log.h"
#include "base/mem.h"
#include "proxy/answer.h"
#include "proxy/route.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CACHE_MAX 64 /* answers kept at most (distinct reads) */

/* A call on its way to the leader that others may join. */
struct shared_call {
    char *key;
    struct exchange *leader;
    struct list joiners;     /* struct exchange, by node */
    uint64_t writes_at_send; /* writes answered when it was (last) sent */
    struct list_node node;   /* in p->share.calls */
};

/* An answer kept for state-cache-ttl. */
struct cached {
    char *key;
    struct ex_answer ans; /* status, head, connection tokens, length */
    struct shared_body *body;
    uint64_t stored_ns;
    uint64_t writes_at_send; /* writes answered when its call was sent */
    struct list_node node;   /* in p->share.cache, newest first */
};

/* --- which reads ---------------------------------------------------------- */

/* Whether @path (canonical, any /master alias) is one of @paths. */
static bool listed(const char *const *paths, const char *path)
{
    char canonical[256];
    const char *p = canonical;

    if (!paths || route_canonical(path, canonical, sizeof(canonical)) < 0)
        return false;
    if (strncmp(p, "/master/", 8) == 0)
        p += 7;
    for (size_t i = 0; paths[i]; i++) {
        const char *q = strncmp(paths[i], "/master/", 8) == 0 ? paths[i] + 7 : paths[i];
        if (strcmp(p, q) == 0)
            return true;
    }
    return false;
}

static void add_field(struct strbuf *key, struct MHD_Connection *conn, const char *name)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

    strbuf_append(key, "\n", 1);
    if (v)
        strbuf_puts(key, v);
}

/* What makes two reads identical: method, target, and the headers Mesos
 * answers differently for. */
static char *key_of(const struct exchange *ex)
{
    struct strbuf key = {0};

    strbuf_printf(&key, "%s %s", ex->req.method, ex->req.target);
    add_field(&key, ex->conn, "Authorization");
    add_field(&key, ex->conn, "Accept");
    add_field(&key, ex->conn, "Accept-Encoding");
    return strbuf_steal(&key);
}

static bool shareable(const struct exchange *ex)
{
    return ex->req.resendable && !ex->req.subscribe && !ex->share_released &&
           ex->req.body.len == 0 && listed(ex->p->cfg.shared_reads, ex->req.path);
}

/* --- the cache -------------------------------------------------------------- */

static void cached_free(struct proxy *p, struct cached *c)
{
    list_remove(&p->share.cache, &c->node);
    strbuf_done(&c->ans.head);
    strbuf_done(&c->ans.connection);
    answer_body_unref(c->body);
    free(c->key);
    free(c);
}

static void cache_empty(struct proxy *p)
{
    struct list_node *n;

    while ((n = list_first(&p->share.cache)))
        cached_free(p, list_entry(n, struct cached, node));
}

static bool wants_fresh(struct MHD_Connection *conn)
{
    const char *cc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cache-Control");

    return cc && (strcasestr(cc, "no-cache") || strcasestr(cc, "no-store"));
}

/* Answers @ex from the cache when a fresh answer to @key is there, from a
 * call sent after every write answered before @ex arrived
 * (read-your-writes, as for joining a call). */
static bool from_cache(struct exchange *ex, const char *key)
{
    struct proxy *p = ex->p;
    uint64_t now = loop_now_ns(p->loop), ttl = p->cfg.state_cache_ttl_ms * 1000000u;
    struct list_node *n, *tmp;

    if (ttl == 0 || wants_fresh(ex->conn))
        return false;
    list_for_each_safe (n, tmp, &p->share.cache) {
        struct cached *c = list_entry(n, struct cached, node);
        if (now - c->stored_ns >= ttl) {
            cached_free(p, c);
            continue;
        }
        if (strcmp(c->key, key) != 0 || c->writes_at_send < ex->writes_seen)
            continue;
        p->metrics.shared_cached++;
        answer_copy(ex, &c->ans, c->body, (long)((now - c->stored_ns) / 1000000000u));
        return true;
    }
    return false;
}

/* Keeps the answer to @call. Not one whose call went before a write that
 * was answered since: every read from now on must see that write. */
static void cache_keep(struct proxy *p, const struct shared_call *call, struct shared_body *b)
{
    const struct ex_answer *a = &call->leader->ans;
    struct cached *c;
    struct list_node *n, *tmp;

    if (p->cfg.state_cache_ttl_ms == 0 || a->status != 200 ||
        call->writes_at_send < p->share.writes_done)
        return;
    list_for_each_safe (n, tmp, &p->share.cache) { /* one per key: the newest */
        struct cached *old = list_entry(n, struct cached, node);
        if (strcmp(old->key, call->key) == 0)
            cached_free(p, old);
    }
    if (p->share.cache.count >= CACHE_MAX)
        cached_free(p, list_entry(list_last(&p->share.cache), struct cached, node));
    c = xnew(struct cached);
    c->key = xstrdup(call->key);
    c->ans = (struct ex_answer){.status = a->status, .content_length = a->content_length};
    strbuf_append(&c->ans.head, a->head.data, a->head.len);
    strbuf_append(&c->ans.connection, a->connection.data, a->connection.len);
    c->body = answer_body_ref(b);
    c->stored_ns = loop_now_ns(p->loop);
    c->writes_at_send = call->writes_at_send;
    list_push_front(&p->share.cache, &c->node);
}

/* --- calls shared ------------------------------------------------------------ */

static struct shared_call *call_for(struct proxy *p, const char *key, uint64_t writes_seen)
{
    struct list_node *n;

    for (n = p->share.calls.head.next; n != &p->share.calls.head; n = n->next) {
        struct shared_call *call = list_entry(n, struct shared_call, node);
        /* Read-your-writes: only a call sent after every write this read
         * could have seen answered. */
        if (strcmp(call->key, key) == 0 && call->writes_at_send >= writes_seen)
            return call;
    }
    return NULL;
}

static void call_free(struct proxy *p, struct shared_call *call)
{
    list_remove(&p->share.calls, &call->node);
    call->leader->shared = NULL;
    free(call->key);
    free(call);
}

bool share_request(struct exchange *ex)
{
    struct proxy *p = ex->p;
    struct shared_call *call;
    char *key;

    if (!shareable(ex))
        return false;
    key = key_of(ex);
    if (from_cache(ex, key)) {
        free(key);
        return true;
    }
    call = call_for(p, key, ex->writes_seen);
    if (call) {
        free(key);
        ex->state = EX_WAITING;
        registry_enlist(ex, &call->joiners);
        registry_suspend(ex);
        return true;
    }
    call = xnew(struct shared_call);
    call->key = key;
    call->leader = ex;
    list_init(&call->joiners);
    list_push_back(&p->share.calls, &call->node);
    ex->shared = call;
    return false;
}

void share_sending(struct exchange *ex)
{
    if (ex->shared)
        ex->shared->writes_at_send = ex->p->share.writes_done;
    if (!ex->req.resendable)
        cache_empty(ex->p); /* a write may change what the state says */
}

bool share_deliver(struct exchange *ex)
{
    struct shared_call *call = ex->shared;
    struct shared_body *b;
    struct list_node *n;

    if (!call)
        return false;
    b = answer_share_body(ex);
    cache_keep(ex->p, call, b);
    while ((n = list_first(&call->joiners))) {
        struct exchange *j = list_entry(n, struct exchange, node);
        registry_delist(j);
        ex->p->metrics.shared_joined++; /* counted once served: a call saved */
        answer_copy(j, &ex->ans, b, -1);
    }
    answer_copy(ex, &ex->ans, b, -1);
    call_free(ex->p, call);
    answer_body_unref(b);
    return true;
}

void share_release(struct exchange *ex, struct list *ret)
{
    struct shared_call *call = ex->shared;
    struct list_node *n;

    if (!call)
        return;
    while ((n = list_first(&call->joiners))) {
        struct exchange *j = list_entry(n, struct exchange, node);
        registry_enlist(j, ret);
    }
    call_free(ex->p, call);
}

void share_leader_changed(struct proxy *p)
{
    cache_empty(p);
}

void share_init(struct proxy *p)
{
    list_init(&p->share.calls);
    list_init(&p->share.cache);
}

void share_done(struct proxy *p)
{
    struct list_node *n;

    cache_empty(p);
    while ((n = list_first(&p->share.calls)))
        call_free(p, list_entry(n, struct shared_call, node));
}
