/* upstream_core.c: what the upstream engines share: the settings, the
 * running/stopped bookkeeping of a call, and unpausing after the loop's
 * iteration (see upstream_engine.h). */
#include "config.h"

#include "proxy/upstream_engine.h"
#include "base/mem.h"

#include <stdlib.h>

/* Unpausing hands bytes to the owner at once, so it waits for the end of
 * the loop iteration, outside every other callback. */
static void run_unpauses(void *data)
{
    struct upstream_core *core = data;
    struct list_node *n;

    while ((n = list_first(&core->unpause))) {
        struct upstream_transfer *t = list_entry(n, struct upstream_transfer, unpause_node);
        list_remove(&core->unpause, n);
        if (t->engine)
            t->engine->ops->unpause(t->engine->state, t);
    }
}

void upstream_core_init(struct upstream_core *core, struct loop *loop)
{
    *core = (struct upstream_core){.loop = loop};
    list_init(&core->unpause);
    loop_hook_add(loop, &core->unpause_hook, run_unpauses, core);
}

void upstream_core_done(struct upstream_core *core)
{
    loop_hook_remove(core->loop, &core->unpause_hook);
    freep(&core->ca_file);
    freep(&core->cert_file);
    freep(&core->key_file);
}

void upstream_core_configure(struct upstream_core *core, const struct upstream_config *cfg)
{
    free(core->ca_file);
    free(core->cert_file);
    free(core->key_file);
    core->https = cfg->https;
    core->ca_file = xstrdup(cfg->ca_file);
    core->cert_file = xstrdup(cfg->cert_file);
    core->key_file = xstrdup(cfg->key_file);
    core->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 3000;
    core->config_gen++;
}

void upstream_call_started(struct upstream_transfer *t, struct upstream_engine *engine,
                           const struct upstream_callbacks *cb, void *owner)
{
    t->cb = cb;
    t->owner = owner;
    t->engine = engine;
    t->priv = NULL;
    t->answered = false;
}

void upstream_call_finished(struct upstream_core *core, struct upstream_transfer *t,
                            enum upstream_result r, const char *detail, bool silent)
{
    if (!t->engine)
        return;
    t->engine = NULL;
    t->priv = NULL;
    list_remove(&core->unpause, &t->unpause_node);
    if (!silent)
        t->cb->done(t->owner, r, detail ? detail : "");
}

void upstream_core_queue_unpause(struct upstream_core *core, struct upstream_transfer *t)
{
    if (t->engine && !list_linked(&t->unpause_node))
        list_push_back(&core->unpause, &t->unpause_node);
}
