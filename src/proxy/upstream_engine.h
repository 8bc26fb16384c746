/* upstream_engine.h: what upstream.c shares with its two engines,
 * upstream_native.c (our HTTP/1.1 client) and upstream_curl.c (libcurl).
 * Not for the rest of the program: it uses upstream.h. */
#ifndef MLD_UPSTREAM_ENGINE_H
#define MLD_UPSTREAM_ENGINE_H

#include "proxy/upstream.h"

#include <sys/socket.h>

struct native_engine;
struct curl_engine;

struct upstream {
    struct loop *loop;
    bool https;
    char *ca_file, *cert_file, *key_file;
    long connect_timeout_ms;
    unsigned config_gen; /* what was set up with an older one is not reused */
    unsigned running;
    struct upstream_transfer *unpause_head;
    struct loop_hook unpause_hook;
    struct native_engine *native;
    struct curl_engine *curl;
};

/* Marks @t running for @owner and counts it. */
void upstream_started(struct upstream *u, struct upstream_transfer *t,
                      const struct upstream_callbacks *cb, void *owner);

/* Marks @t stopped and calls its done callback (unless @silent). */
void upstream_finished(struct upstream *u, struct upstream_transfer *t, enum upstream_result r,
                       const char *detail, bool silent);

/* The native engine: plain HTTP to an IP address. */
struct native_engine *native_new(struct upstream *u);
void native_free(struct native_engine *n);
void native_flush_idle(struct native_engine *n); /* closes kept-alive connections */
int native_start(struct upstream *u, struct upstream_transfer *t,
                 const struct upstream_request *req, const struct sockaddr *sa, socklen_t sa_len);
void native_abort(struct upstream *u, struct upstream_transfer *t);
void native_unpause(struct upstream *u, struct upstream_transfer *t);

/* The libcurl engine: HTTPS, and masters known by a host name. */
struct curl_engine *curl_engine_new(struct upstream *u);
void curl_engine_free(struct curl_engine *c);
void curl_engine_flush_pool(struct curl_engine *c); /* handles set up with an old config */
int curl_engine_start(struct upstream *u, struct upstream_transfer *t,
                      const struct upstream_request *req);
void curl_engine_abort(struct upstream *u, struct upstream_transfer *t);
void curl_engine_unpause(struct upstream *u, struct upstream_transfer *t);
/* Finishes what libcurl has finished (after unpausing, say). */
void curl_engine_collect(struct upstream *u);

#endif
