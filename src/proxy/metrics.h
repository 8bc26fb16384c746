/* metrics.h: the proxy's counters and their Prometheus text form.
 *
 * Counters are plain integers: only the event loop's thread touches them. */
#ifndef MLD_METRICS_H
#define MLD_METRICS_H

#include "base/strbuf.h"
#include "zk/leader.h"

#include <stdint.h>

/* Why an upstream attempt failed. */
enum upstream_error {
    UPSTREAM_ERR_CONNECT,  /* connection refused or unreachable */
    UPSTREAM_ERR_TIMEOUT,  /* no answer in time (headers, idle, total) */
    UPSTREAM_ERR_PROTOCOL, /* not HTTP, bad chunking, truncated body */
    UPSTREAM_ERR_TLS,      /* TLS handshake or verification */
    UPSTREAM_ERR_BROKEN,   /* connection broke mid-response */
    UPSTREAM_ERR_COUNT
};

/* Why a call was tried again. */
enum retry_reason {
    RETRY_REDIRECT,   /* 307 from a master that is not the leader */
    RETRY_NO_LEADER,  /* 503 No leader elected */
    RETRY_RECOVERING, /* 503 Master has not finished recovery */
    RETRY_REFUSED,    /* connection refused before anything was sent */
    RETRY_DROPPED,    /* a GET/HEAD whose connection closed before any answer */
    RETRY_COUNT
};

struct metrics {
    uint64_t requests[6]; /* by status class: [1]=1xx ... [5]=5xx */
    uint64_t requests_local;
    uint64_t upstream_errors[UPSTREAM_ERR_COUNT];
    uint64_t retries[RETRY_COUNT];
    uint64_t retry_budget_exhausted;
    uint64_t no_leader_answers;
    uint64_t streams_total;
    uint64_t streams_ended_by_leader_change;
    uint64_t bytes_upstream;   /* request bodies sent to masters */
    uint64_t bytes_downstream; /* response bodies relayed to clients */
    uint64_t connections_total;
    uint64_t connections_rejected;  /* over the connection cap */
    uint64_t connections_timed_out; /* too slow to send a request */
    uint64_t clients_stalled;       /* given up on: took no byte for the write timeout */
    uint64_t accept_pauses;         /* accepting paused: out of descriptors */
    uint64_t takeovers_deferred;    /* a stream's socket could not be taken over yet */
    uint64_t loops_detected;        /* requests that came back through this daemon */
    uint64_t shared_joined;         /* reads that joined a call already on its way */
    uint64_t shared_cached;         /* reads answered from the state cache */
};

/* What is open now (counted where it is kept, read when rendering). */
struct metrics_gauges {
    uint64_t connections_open;
    uint64_t streams_open;
    uint64_t long_polls;    /* clients waiting for the leader document to change */
    uint64_t event_streams; /* clients following it as server-sent events */
};

/* Counts an answer by status class. */
void metrics_count_status(struct metrics *m, unsigned status);

/* Writes the Prometheus text exposition of @m, @g and @leader into @out;
 * with a @cluster name (not NULL or ""), every series is labelled with it. */
void metrics_render(const struct metrics *m, const struct metrics_gauges *g,
                    const struct leader_snapshot *leader, const char *cluster, struct strbuf *out);

/* The metric label of an upstream error. */
const char *metrics_upstream_error_name(enum upstream_error e);

/* The metric label of a retry reason. */
const char *metrics_retry_reason_name(enum retry_reason r);

#endif
