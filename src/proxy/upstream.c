/* upstream.c: calls to the leading master: the table of engines, and the
 * public functions of upstream.h, which hand each call to the first engine
 * that accepts it (see upstream_engine.h). */
#include "config.h"

#include "proxy/upstream_engine.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>

/* Asked in this order: the first that accepts a call runs it. */
static const struct upstream_engine_ops *const default_engines[] = {
    &upstream_native_ops,
    &upstream_curl_ops,
};

#define ENGINES_MAX 4

struct upstream {
    struct upstream_core core;
    struct upstream_engine engine[ENGINES_MAX];
    size_t n_engines;
};

void upstream_set_config(struct upstream *u, const struct upstream_config *cfg)
{
    upstream_core_configure(&u->core, cfg);
    for (size_t i = 0; i < u->n_engines; i++)
        u->engine[i].ops->config_changed(u->engine[i].state);
}

struct upstream *upstream_new_with(struct loop *loop, const struct upstream_config *cfg,
                                   const struct upstream_engine_ops *const *ops, size_t n)
{
    struct upstream *u = xnew(struct upstream);

    upstream_core_init(&u->core, loop);
    upstream_core_configure(&u->core, cfg);
    for (size_t i = 0; i < n && i < ENGINES_MAX; i++) {
        void *state = ops[i]->create(&u->core);
        if (!state) {
            upstream_free(u);
            return NULL;
        }
        u->engine[u->n_engines++] = (struct upstream_engine){ops[i], state};
    }
    return u;
}

struct upstream *upstream_new(struct loop *loop, const struct upstream_config *cfg)
{
    size_t n = sizeof(default_engines) / sizeof(default_engines[0]);

    return upstream_new_with(loop, cfg, default_engines, n);
}

void upstream_free(struct upstream *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n_engines; i++)
        u->engine[i].ops->destroy(u->engine[i].state);
    upstream_core_done(&u->core);
    free(u);
}

int upstream_start(struct upstream *u, struct upstream_transfer *t,
                   const struct upstream_request *req, const struct upstream_callbacks *cb,
                   void *owner)
{
    if (t->engine)
        return -EBUSY;
    for (size_t i = 0; i < u->n_engines; i++) {
        struct upstream_engine *e = &u->engine[i];
        int r;
        if (!e->ops->accepts(&u->core, req))
            continue;
        upstream_call_started(t, e, cb, owner);
        r = e->ops->start(e->state, t, req);
        if (r < 0)
            upstream_call_finished(&u->core, t, UPSTREAM_PROTOCOL, NULL, true);
        return r;
    }
    return -EPROTONOSUPPORT;
}

void upstream_abort(struct upstream *u, struct upstream_transfer *t)
{
    if (!t->engine)
        return;
    t->engine->ops->abort(t->engine->state, t);
    upstream_call_finished(&u->core, t, UPSTREAM_OK, NULL, true);
}

void upstream_unpause(struct upstream *u, struct upstream_transfer *t)
{
    upstream_core_queue_unpause(&u->core, t);
}
