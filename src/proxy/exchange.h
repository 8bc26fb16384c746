/* exchange.h: one proxied call, from the client's request to the answer.
 *
 * The state of a call, in the open, grouped by how long each part lives:
 *   req      the client's request, set once it is in;
 *   budget   the tries left across attempts (retries, redirects);
 *   att      one attempt with one leader;
 *   ans      the master's answer to that attempt (reset with the attempt);
 *   relay    how the answer reaches the client once it is relayed.
 * Three files work on it: registry.c (lifetime and the lists every call is
 * on), exchange.c (the request, the attempts, answers read whole) and
 * relay.c (answers relayed as they arrive: event streams, large bodies).
 * Dependencies run one way: exchange.c -> relay.c -> registry.c.
 *
 * Life of a call (ex->state):
 *   EX_READING   the request body arrives (buffered, so that retries can resend)
 *   EX_WAITING   parked: the new leader's data is being read, or a retry waits
 *   EX_UPSTREAM  a transfer to the leader runs; the client connection is
 *                suspended until the answer starts
 *   EX_RELAYING  the answer is being sent: buffered, or relayed as it arrives
 *   EX_LOCAL     the daemon answers itself (its endpoints, its errors)
 * An event stream's exchange outlives its libmicrohttpd connection: once the
 * head is out, the socket is ours (see stream.h) and libmicrohttpd frees the
 * connection and its memory; the exchange goes when the stream ends. */
#ifndef MLD_EXCHANGE_H
#define MLD_EXCHANGE_H

#include "base/bufq.h"
#include "base/strbuf.h"
#include "proxy/internal.h"
#include "proxy/policy.h"

#include <microhttpd.h>

#define HOSTPORT_MAX (MASTERINFO_HOST_MAX + 10)

enum ex_state { EX_READING, EX_WAITING, EX_UPSTREAM, EX_RELAYING, EX_LOCAL };

/* Why a parked exchange waits. */
enum park_reason { PARK_ELECTING, PARK_BACKOFF };

struct ex_request {
    char *target; /* raw request target, as received */
    char *method;
    char *path;
    bool http10;
    bool head;       /* a HEAD: the answer has no body */
    bool resendable; /* a GET or HEAD: may be sent twice */
    bool subscribe;  /* a SUBSCRIBE: its answer is an event stream */
    struct strbuf body;
    bool body_too_large;
    struct strbuf headers; /* for the master: "Name: value\r\n" lines */
};

struct ex_budget {
    uint64_t started_ns;
    uint64_t deadline_ns; /* every try starts before it */
    unsigned tries;
    bool resent_after_drop;         /* a GET/HEAD went once more after a drop */
    struct redirect_log *redirects; /* allocated at the first redirect */
};

struct ex_attempt {
    uint64_t epoch;            /* of the leader it went to */
    char leader[HOSTPORT_MAX]; /* "host:port" */
};

struct ex_answer {
    int status;
    bool planned; /* the head is in and plan is set */
    enum answer_plan plan;
    struct strbuf head; /* "name\0value\0" pairs for the client */
    size_t head_bytes;
    unsigned head_fields;
    bool head_too_large;
    int64_t content_length; /* -1: none */
    char location[HOSTPORT_MAX];
    char *stream_id;
    struct strbuf connection; /* tokens of the master's Connection headers, comma-joined */
    struct bufq data;         /* a body read whole, or bytes not yet relayed */
    bool upstream_done;
    bool end_abnormally;
    bool paused; /* the transfer waits for the client to take bytes */
};

struct ex_relay {
    struct stream_out *out;   /* the socket, once taken over */
    bool detached;            /* libmicrohttpd let go of the connection */
    bool reader_waiting;      /* libmicrohttpd's reader waits for bytes */
    uint64_t last_data_ns;    /* the master last sent something */
    struct loop_timer retake; /* take the socket over again: no descriptor was free */
    unsigned retakes;         /* ... how many times */
};

struct exchange {
    struct proxy *p;
    struct MHD_Connection *conn; /* NULL once libmicrohttpd let go */
    struct client *client;
    enum ex_state state;
    bool seen_headers;
    bool suspended;
    bool client_gone;
    const struct local_endpoint *local; /* answered by the daemon itself */
    struct ex_request req;
    struct ex_budget budget;
    struct ex_attempt att;
    struct ex_answer ans;
    struct ex_relay relay;
    struct upstream_transfer xfer;
    struct loop_timer timer;       /* one at a time: upstream timeout, wake-up, idle, release */
    struct loop_timer watch_timer; /* starts watching a client that waits */
    struct loop_io client_io;      /* a waiting client that leaves */
    enum park_reason park;
    uint64_t park_epoch;
    uint64_t watch_after;       /* a watcher: the document index it has seen */
    uint64_t writes_seen;       /* writes answered when the request arrived (share.h) */
    struct shared_call *shared; /* the shared read it leads, or NULL */
    bool share_released;        /* joined a read that could not be shared after all */
    struct list_node all_node;  /* in p->exchanges.all */
    struct list_node node;      /* in p->exchanges.streams or .parked */
    struct list *list;          /* which, or NULL */
};

/* --- exchange.c: the calls, as the rest of the proxy sees them ---------------- */

/* What libmicrohttpd calls for each request (front.h). */
extern const struct front_handlers exchange_handlers;

/* The leader snapshot in use (owned by the proxy), first applying a change
 * if the store has a newer one: streams of an old leader end and parked
 * calls wake. Cheap: one uncontended lock. Called again while a change is
 * being applied (a woken call asking for the leader), it returns the
 * snapshot being applied; a newer one is applied right after. */
const struct leader_snapshot *exchange_leader(struct proxy *p);

/* Ends every open stream abnormally. */
void exchange_end_streams(struct proxy *p, const char *why);

/* Gives up every call still waiting (shutdown): they get 503, or their
 * connections close. */
void exchange_abort_all(struct proxy *p);

/* Frees the exchanges of streams libmicrohttpd no longer knows (their
 * streams must have ended), when the proxy goes. */
void exchange_free_detached(struct proxy *p);

/* Calls still being answered (streams excluded). */
unsigned exchange_pending(const struct proxy *p);

/* --- registry.c: lifetime and lists --------------------------------------- */

void registry_init(struct exchange_lists *l);

/* Creates the state of a request whose raw target is @target on @conn. */
struct exchange *registry_new(struct proxy *p, const char *target, struct MHD_Connection *conn);

/* Frees @ex and everything it holds (its transfer, its socket, its client
 * record when the socket is ours). */
void registry_free(struct exchange *ex);

/* Forgets the master's answer (for the next attempt). */
void registry_reset_answer(struct exchange *ex);

/* Frees @ex from the loop, soon (never from inside a callback of its
 * transfer or its stream). */
void registry_free_soon(struct exchange *ex);

/* Puts @ex on @l (streams or parked), off any other. */
void registry_enlist(struct exchange *ex, struct list *l);

/* Takes @ex off streams or parked. */
void registry_delist(struct exchange *ex);

/* Whether @ex relays an open event stream. */
bool registry_is_open_stream(const struct exchange *ex);

/* (Re)arms the exchange's one timer to call @fn at @at_ns. */
void registry_set_timer(struct exchange *ex, loop_timer_fn fn, uint64_t at_ns);

/* Suspends / resumes the client connection while the answer is prepared. */
void registry_suspend(struct exchange *ex);
void registry_resume(struct exchange *ex);

/* Stops the transfer and its timer: the master's side is over. */
void registry_stop_upstream(struct exchange *ex);

/* --- relay.c: answers relayed as they arrive --------------------------------- */

/* Starts relaying the answer whose head is in (plan PLAN_STREAM). */
void relay_start(struct exchange *ex);

/* Takes one piece of a relayed body from the master. */
size_t relay_body(struct exchange *ex, const char *bytes, size_t len);

/* The master's side of a relayed answer ended (@rc: how). */
void relay_upstream_done(struct exchange *ex, enum upstream_result rc, const char *detail);

/* Ends one stream abnormally at once. */
void relay_end_stream(struct exchange *ex, const char *why);

/* The client of a relayed answer left. */
void relay_client_left(struct exchange *ex);

#endif
