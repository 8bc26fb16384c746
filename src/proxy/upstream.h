/* upstream.h: the libcurl side of the proxy: one multi handle in the loop.
 *
 * Transfers are libcurl easy handles taken from a pool, configured by the
 * caller (URL, method, headers, callbacks), and run by one multi handle whose
 * sockets and timer live in the event loop. Kept-alive connections to the
 * leader are reused for short calls; a stream asks for a fresh connection
 * that is never reused. Everything runs in the loop's thread. */
#ifndef MLD_UPSTREAM_H
#define MLD_UPSTREAM_H

#include "proxy/loop.h"

#include <curl/curl.h>
#include <stdbool.h>

/* How upstream connections are made. */
struct upstream_config {
    bool https;              /* talk HTTPS to the masters */
    const char *ca_file;     /* CA bundle to verify them, or NULL for the system's */
    const char *cert_file;   /* client certificate, or NULL */
    const char *key_file;    /* its key, or NULL */
    long connect_timeout_ms; /* TCP (and TLS) connect */
};

struct upstream;
struct upstream_transfer;

/* Called when a transfer ends, with libcurl's result. The transfer has left
 * the multi handle; the callee releases or reuses the easy handle. */
typedef void (*upstream_done_fn)(struct upstream_transfer *t, CURLcode result);

/* One transfer; embed it in the owner. */
struct upstream_transfer {
    CURL *easy;
    upstream_done_fn done;
    bool running;
    bool unpause_pending;
    struct upstream_transfer *next_unpause;
    unsigned config_gen;
};

/* Creates the multi handle and registers it with @loop. */
struct upstream *upstream_new(struct loop *loop, const struct upstream_config *cfg);

/* Aborts every transfer (without calling done) and frees; NULL is fine. */
void upstream_free(struct upstream *u);

/* Replaces the TLS and timeout settings (for a reload); new transfers use them. */
void upstream_set_config(struct upstream *u, const struct upstream_config *cfg);

/* "http" or "https". */
const char *upstream_scheme(const struct upstream *u);

/* Takes an easy handle (in @t->easy) from the pool with the options every
 * transfer shares already set. The caller must set every other option it
 * relies on, for every transfer (URL, target, method, body, headers,
 * callbacks): pooled handles keep the previous transfer's values. */
void upstream_prepare(struct upstream *u, struct upstream_transfer *t, upstream_done_fn done,
                      bool fresh_connection);

/* Starts a prepared transfer. */
int upstream_start(struct upstream *u, struct upstream_transfer *t);

/* Stops a running transfer at once (the connection is closed, never reused)
 * and returns its handle to the pool; done is not called. Safe on a transfer
 * that is not running. Never call it from inside a libcurl callback. */
void upstream_abort(struct upstream *u, struct upstream_transfer *t);

/* Returns a finished transfer's handle to the pool. */
void upstream_release(struct upstream *u, struct upstream_transfer *t);

/* Resumes a transfer paused by its write callback; done after the current
 * loop iteration, outside every library callback. */
void upstream_unpause(struct upstream *u, struct upstream_transfer *t);

/* How many transfers are running. */
unsigned upstream_running(const struct upstream *u);

#endif
