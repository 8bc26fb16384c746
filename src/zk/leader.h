/* leader.h: the leader as the rest of the program sees it.
 *
 * The tracker (one thread) publishes immutable, reference-counted snapshots
 * into a store; readers (the proxy's event loop, mesos-leader, the status
 * endpoints) take a reference to the current one under a single lock, read it
 * without locking, and drop the reference. The store tells of every new
 * snapshot through an eventfd (for event loops) and a condition variable (for
 * threads that wait).
 *
 * "Epoch" names one leader: it changes whenever the leader seen in ZooKeeper
 * changes, including to nobody. Losing our own ZooKeeper session does not
 * change it: we do not route new calls while the session is lost, but nothing
 * says the leader changed, so streams bound to it may live on. */
#ifndef MLD_LEADER_H
#define MLD_LEADER_H

#include "zk/masterinfo.h"

#include <stdbool.h>
#include <stdint.h>

/* The state of our ZooKeeper session. */
enum zk_session {
    ZK_SESSION_CONNECTING, /* connection lost, the session may live: reconnecting */
    ZK_SESSION_CONNECTED,
    ZK_SESSION_EXPIRED,         /* expired (or treated so); a new session is being opened */
    ZK_SESSION_AUTH_FAILED,     /* the server refused our credentials */
    ZK_SESSION_CLOSED,          /* we closed it (shutdown) */
    ZK_SESSION_NEVER_CONNECTED, /* no session established yet since the start */
};

/* Whether calls can be routed. */
enum leader_state {
    LEADER_NONE,     /* no leader known: answer 503 */
    LEADER_ELECTING, /* the lowest znode changed and its data is being read: wait */
    LEADER_KNOWN,    /* route to the endpoint */
};

/* One registered master, in election order. */
struct leader_master {
    char *znode;
    int64_t sequence;
    bool decoded;            /* info/endpoint are valid */
    bool read;               /* its data was read (decoded or not) */
    struct master_info info; /* when decoded */
    struct master_endpoint endpoint;
    bool has_endpoint;
    char *error; /* why it could not be decoded, or NULL */
};

/* An immutable view; read it freely while holding a reference. */
struct leader_snapshot {
    enum leader_state state;
    enum zk_session session;
    char *reason;            /* why there is no leader (state != KNOWN), or NULL; without a
                              * session, why not ("connection refused by 127.0.0.1:2181") */
    char *znode;             /* the leading znode's name (KNOWN, ELECTING, or undecodable) */
    struct master_info info; /* KNOWN only */
    struct master_endpoint endpoint;
    char address[MASTERINFO_HOST_MAX + 10]; /* "host:port", KNOWN only */
    struct leader_master *masters; /* the first ELECTION_LIST_MAX members, in election order */
    size_t n_masters;
    size_t n_registered; /* members of the election group, all of them */
    /* A full read finished since the session connected; or nothing is to be
     * waited for: ZooKeeper refused our credentials, or no session could be
     * established within the session timeout since the start. */
    bool settled;
    char *zk_url;           /* the URL in use, password redacted */
    char *zk_error;         /* without a connected session, the last connection failure
                             * ("connection refused by 127.0.0.1:2181"), or NULL */
    uint64_t epoch;         /* changes with the leader (see above); set by the store */
    uint64_t changes;       /* how often the epoch changed; set by the store */
    uint64_t generation;    /* increments with every snapshot; set by the store */
    uint64_t since_wall_ms; /* when this epoch began (wall clock); set by the store */
    uint64_t since_mono_ns; /* the same on the monotonic clock; set by the store */
    int refs;               /* managed by the store */
};

struct leader_store;

/* Creates a store holding a "never_connected" snapshot. */
struct leader_store *leader_store_new(void);

/* Names the cluster the store is about in its log lines ("cluster 'name':
 * leader changed: ..."); NULL or "" for none. */
void leader_store_set_name(struct leader_store *store, const char *name);

/* "cluster 'name': " or "", for other log lines about the same cluster;
 * valid as long as the store, unchanged once a tracker runs. */
const char *leader_store_log_prefix(const struct leader_store *store);

/* Frees the store; NULL is fine. Snapshots still referenced stay valid. */
void leader_store_free(struct leader_store *store);

/* Returns a new reference to the current snapshot (never NULL). */
const struct leader_snapshot *leader_store_get(struct leader_store *store);

/* Drops a reference; NULL is fine. */
void leader_snapshot_unref(const struct leader_snapshot *snap);

/* Allocates an empty snapshot for a publisher to fill. */
struct leader_snapshot *leader_snapshot_new(void);

/* Publishes @snap (the store takes it over), sets its epoch, change count,
 * generation and "since" fields, logs a leader change, and wakes the waiters.
 * Returns whether the epoch changed. */
bool leader_store_publish(struct leader_store *store, struct leader_snapshot *snap);

/* Returns an eventfd that becomes readable after a publication; read it
 * (8 bytes) to reset. Owned by the store. */
int leader_store_eventfd(struct leader_store *store);

/* Waits until the generation differs from @generation or @timeout_ms passes.
 * Returns 0 when it changed, -ETIMEDOUT otherwise. */
int leader_store_wait(struct leader_store *store, uint64_t generation, int timeout_ms);

/* Returns a name for a session state: "never_connected", "connected",
 * "connecting" (reconnecting), "expired", "auth_failed", "closed". */
const char *zk_session_name(enum zk_session s);

/* Returns a name for a leader state ("known", ...). */
const char *leader_state_name(enum leader_state s);

/* Whether two snapshots name the same leader (or both nobody): the same
 * leading znode, and the same address unless one of them has none (its data
 * not read yet). */
bool leader_same_identity(const struct leader_snapshot *a, const struct leader_snapshot *b);

#endif
