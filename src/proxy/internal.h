/* internal.h: state shared by the proxy's own modules (front, exchange,
 * local). Nothing outside src/proxy/ includes this. */
#ifndef MLD_PROXY_INTERNAL_H
#define MLD_PROXY_INTERNAL_H

#include "base/strbuf.h"
#include "proxy/proxy.h"

#include <curl/curl.h>
#include <microhttpd.h>

struct exchange;

/* One client connection, for the request deadline (slow clients). */
struct client_conn {
    struct MHD_Connection *conn;
    uint64_t deadline_ns; /* a request must be fully received by then */
    bool busy;            /* a request is being answered: no deadline */
    struct client_conn *prev, *next;
};

/* A doubly linked list of exchanges (streams, parked calls). */
struct exchange_list {
    struct exchange *head;
    unsigned count;
};

struct proxy {
    struct loop *loop;
    struct leader_store *store;
    struct upstream *upstream;
    struct proxy_config cfg;
    struct MHD_Daemon *mhd;
    int listen_fd;
    char *listen_name;
    struct loop_io mhd_io;
    struct loop_io leader_io;
    struct loop_timer mhd_timer;
    struct loop_timer sweep_timer; /* closes connections past their deadline */
    struct loop_hook after_hook;
    struct client_conn *conns;
    bool mhd_kick;                        /* run libmicrohttpd at the end of this iteration */
    bool unhealthy;                       /* an internal error happened since proxy_healthy() */
    const struct leader_snapshot *leader; /* latest snapshot seen by the loop */
    bool applying_leader;                 /* proxy_leader() is applying a change */
    struct exchange_list streams;         /* relaying an unbounded response */
    struct exchange_list parked;          /* waiting for a leader or a retry */
    struct exchange *all;                 /* every exchange alive */
    unsigned live;                        /* how many */
    bool draining;                        /* stopping: new requests get 503 */
    unsigned closed_since_trim;           /* libmicrohttpd connections gone since */
    void (*observer)(void *data, const struct leader_snapshot *s);
    void *observer_data;
    struct metrics metrics;
};

/* Returns the current leader snapshot (owned by the proxy), first applying a
 * change if the store has a newer one: streams of an old leader end and
 * parked calls wake. Cheap: one uncontended lock. Called again while a change
 * is being applied (a woken call asking for the leader), it returns the
 * snapshot being applied; a newer one is applied right after. */
const struct leader_snapshot *proxy_leader(struct proxy *p);

/* Asks for libmicrohttpd to run at the end of this loop iteration. */
void proxy_kick(struct proxy *p);

/* The request on @conn is fully received (@busy true) or answered (false):
 * a received request has no deadline; after an answer, the next request
 * must arrive in full within the client idle timeout. */
void proxy_conn_busy(struct proxy *p, struct MHD_Connection *conn, bool busy);

/* --- exchange.c: one proxied call --------------------------------------- */

/* Creates the state of a request whose raw target is @target. */
struct exchange *exchange_new(struct proxy *p, const char *target);

/* Handles one call of libmicrohttpd's access handler for @ex. */
enum MHD_Result exchange_on_access(struct exchange *ex, struct MHD_Connection *conn,
                                   const char *url, const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size);

/* Frees @ex when libmicrohttpd is done with its request. */
void exchange_on_completed(struct exchange *ex, enum MHD_RequestTerminationCode toe);

/* The leader changed (or its state did): end streams bound to another epoch,
 * wake parked calls. */
void exchange_leader_changed(struct proxy *p, const struct leader_snapshot *s, bool epoch_changed);

/* Ends one stream abnormally at once. */
void exchange_end_stream(struct exchange *ex, const char *why);

/* Gives up every call still waiting (shutdown): their connections close. */
void exchange_abort_all(struct proxy *p);

/* Frees the exchanges of streams libmicrohttpd no longer knows (taken over,
 * see stream.h), when the proxy goes; their streams must have ended. */
void exchange_free_detached(struct proxy *p);

/* --- local.c: answers the daemon gives itself ---------------------------- */

/* Queues a JSON error answer: {"error": code, "message": ...}. Adds
 * Retry-After when @retry_after_s > 0 and Connection: close when asked. */
enum MHD_Result local_error(struct proxy *p, struct MHD_Connection *conn, unsigned status,
                            const char *code, const char *message, unsigned retry_after_s,
                            bool close_connection);

/* Answers /leaderd/..., /redirect and /redirect/... (route from route.h). */
enum MHD_Result local_answer(struct proxy *p, struct MHD_Connection *conn, int route,
                             const char *method);

#endif
