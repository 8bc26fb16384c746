/* internal.h: the proxy as its own files see it: one struct, whose parts
 * each belong to one file (named beside them). Nothing outside src/proxy/
 * includes this. */
#ifndef MLD_PROXY_INTERNAL_H
#define MLD_PROXY_INTERNAL_H

#include "base/list.h"
#include "base/strbuf.h"
#include "proxy/clients.h"
#include "proxy/front.h"
#include "proxy/proxy.h"

/* The lists every call is on (registry.c keeps them). */
struct exchange_lists {
    struct list all;     /* every exchange alive */
    struct list streams; /* relaying an event stream */
    struct list parked;  /* waiting for a leader or a retry */
};

/* The leader document and who waits for it (watch.c keeps it). */
struct watch_state {
    struct strbuf doc;  /* the document without its index */
    uint64_t index;     /* grows with every change of it */
    struct list polls;  /* struct exchange: long polls */
    struct list events; /* struct exchange: event streams */
    struct loop_timer keepalive;
};

/* Shared reads of state endpoints (share.c keeps them). */
struct share_state {
    struct list calls;    /* struct shared_call: on their way, open to joiners */
    struct list cache;    /* struct cached: answers kept for state-cache-ttl */
    uint64_t writes_done; /* calls other than GET/HEAD answered so far */
};

struct proxy {
    struct loop *loop;
    struct proxy_config cfg;         /* proxy.c */
    char *listen_name;               /* proxy.c */
    struct clients *clients;         /* clients.c: accepting, counting, slow clients */
    struct front *front;             /* front.c: libmicrohttpd */
    struct upstream *upstream;       /* upstream.c: calls to the master */
    struct exchange_lists exchanges; /* registry.c: every call, streams, parked calls */
    struct watch_state watch;        /* watch.c: the leader document, waiting clients */
    struct share_state share;        /* share.c: shared reads and their cache */
    struct leader_store *store;      /* exchange.c: the leader in use, and changes to it */
    const struct leader_snapshot *leader;
    bool applying_leader;
    struct loop_timer stale_streams; /* ends streams of an old leader, a batch a turn */
    struct loop_io leader_io;
    void (*observer)(void *data, const struct leader_snapshot *s);
    void *observer_data;
    bool draining;          /* proxy.c: stopping, new requests get 503 */
    struct metrics metrics; /* counted by every file; rendered by metrics.c */
};

#endif
