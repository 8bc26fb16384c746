/* upstream_engine.h: what an upstream engine is, and what it may call.
 *
 * An engine is one table of operations (struct upstream_engine_ops) and one
 * file: upstream_native.c (our HTTP/1.1 client), upstream_curl.c (libcurl).
 * upstream.c lists the engines and gives each call to the first that
 * accepts it; an engine reports the end of a call through
 * upstream_call_finished() (upstream_core.c), never by calling upstream.c.
 * Dependencies run one way: upstream.c -> engines -> upstream_core.c.
 * Models: chrony's refclock driver table, nginx's event actions. */
#ifndef MLD_UPSTREAM_ENGINE_H
#define MLD_UPSTREAM_ENGINE_H

#include "proxy/upstream.h"

/* What every engine shares: the loop, the settings, and the calls waiting
 * to be unpaused. Owned by upstream.c; engines read it. */
struct upstream_core {
    struct loop *loop;
    bool https;
    char *ca_file, *cert_file, *key_file;
    long connect_timeout_ms;
    unsigned config_gen; /* connections set up with an older one are not reused */
    struct list unpause; /* struct upstream_transfer, by unpause_node */
    struct loop_hook unpause_hook;
};

struct upstream_engine_ops {
    const char *name;
    /* Whether this engine runs @req (given the settings in @core). */
    bool (*accepts)(const struct upstream_core *core, const struct upstream_request *req);
    /* Creates the engine's state, or NULL (logged) when it cannot run. */
    void *(*create)(struct upstream_core *core);
    /* Aborts what runs (without calling done) and frees. */
    void (*destroy)(void *engine);
    /* Starts @t (marked running by the caller); failures come through
     * upstream_call_finished(), never from inside start. 0 or -errno. */
    int (*start)(void *engine, struct upstream_transfer *t, const struct upstream_request *req);
    /* Stops @t at once and frees its state; done is not called. Safe from
     * inside @t's own callbacks. */
    void (*abort)(void *engine, struct upstream_transfer *t);
    /* Offers the bytes @t paused on again (from the loop, outside callbacks). */
    void (*unpause)(void *engine, struct upstream_transfer *t);
    /* The settings changed: drop what was set up with the old ones. */
    void (*config_changed)(void *engine);
};

/* An engine of a running upstream: its table and its state. */
struct upstream_engine {
    const struct upstream_engine_ops *ops;
    void *state;
};

/* The engines, in the order they are asked (upstream.c). */
extern const struct upstream_engine_ops upstream_native_ops;
extern const struct upstream_engine_ops upstream_curl_ops;

/* Creates an upstream with the engines @ops, asked in that order (at most
 * four; tests pass a fake one). upstream_new() passes the two above. */
struct upstream *upstream_new_with(struct loop *loop, const struct upstream_config *cfg,
                                   const struct upstream_engine_ops *const *ops, size_t n);

/* --- upstream_core.c ------------------------------------------------------ */

/* Sets up the shared part (and its unpause hook in @loop). */
void upstream_core_init(struct upstream_core *core, struct loop *loop);

/* Frees what the shared part holds. */
void upstream_core_done(struct upstream_core *core);

/* Copies @cfg into the shared settings and bumps the generation. */
void upstream_core_configure(struct upstream_core *core, const struct upstream_config *cfg);

/* Marks @t running on @engine for @owner. */
void upstream_call_started(struct upstream_transfer *t, struct upstream_engine *engine,
                           const struct upstream_callbacks *cb, void *owner);

/* Marks @t stopped (out of the unpause queue) and calls its done callback,
 * unless @silent. */
void upstream_call_finished(struct upstream_core *core, struct upstream_transfer *t,
                            enum upstream_result r, const char *detail, bool silent);

/* Queues @t to be unpaused after this loop iteration. */
void upstream_core_queue_unpause(struct upstream_core *core, struct upstream_transfer *t);

#endif
