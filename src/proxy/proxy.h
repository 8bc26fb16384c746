/* proxy.h: the HTTP side of mesos-leaderd, as the service sees it.
 *
 * One proxy serves one listening socket: it accepts the connections itself,
 * parses requests with libmicrohttpd, and forwards every call to the leader
 * named by a leader_store through the upstream engines (upstream.h), all in
 * one event loop. */
#ifndef MLD_PROXY_H
#define MLD_PROXY_H

#include "base/loop.h"
#include "proxy/metrics.h"
#include "proxy/upstream.h"
#include "zk/leader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Everything the proxy can be told. */
struct proxy_config {
    size_t max_body;                 /* request body cap (413 above) */
    unsigned max_connections;        /* client connections served (503 above) */
    unsigned client_idle_timeout_s;  /* idle kept-alive client connections close */
    uint64_t stream_idle_timeout_ms; /* a stream with no data for this long ends */
    uint64_t upstream_timeout_ms;    /* short calls: total; streams: until headers */
    unsigned retry_tries;            /* attempts per call (307, 503, refused) */
    uint64_t retry_budget_ms;        /* ... all within this time */
    struct upstream_config upstream;
    /* Shared reads of heavy state endpoints: identical concurrent GETs of
     * one of @shared_reads (each also matching under "/master/") share one
     * upstream call; an answer may be reused for @state_cache_ttl_ms. */
    uint64_t state_cache_ttl_ms;     /* 0: answers are not reused */
    const char *const *shared_reads; /* paths ("/state"), NULL-terminated; NULL or empty: off */
    /* The cluster's name, a label on every metric; NULL or "": none. */
    const char *cluster;
};

struct proxy;

/* Starts serving on the listening socket @listen_fd (the proxy owns it from
 * now on); @listen_name is how it was configured, for logs. */
struct proxy *proxy_new(struct loop *loop, struct leader_store *store,
                        const struct proxy_config *cfg, int listen_fd, const char *listen_name);

/* Calls @fn in the loop whenever the leader snapshot changes. */
void proxy_set_observer(struct proxy *p, void (*fn)(void *data, const struct leader_snapshot *s),
                        void *data);

/* Stops everything at once and frees; NULL is fine. */
void proxy_free(struct proxy *p);

/* Applies a new configuration to calls and connections from now on (every
 * field; the listening socket stays). */
void proxy_reconfigure(struct proxy *p, const struct proxy_config *cfg);

/* Stops accepting connections (for a graceful stop). */
void proxy_quiesce(struct proxy *p);

/* Ends every open stream abnormally (shutdown). */
void proxy_end_streams(struct proxy *p, const char *why);

/* Calls still being answered (streams and clients waiting for the leader
 * to change excluded). */
unsigned proxy_pending_calls(const struct proxy *p);

/* Streams open: event streams relayed, and the daemon's own event streams
 * of leader changes. */
unsigned proxy_open_streams(const struct proxy *p);

/* Whether the event loop side is healthy (for the watchdog): libmicrohttpd
 * ran without internal errors since the last call. */
bool proxy_healthy(struct proxy *p);

#endif
