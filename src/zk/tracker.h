/* tracker.h: follows the leading Mesos master in ZooKeeper.
 *
 * A tracker owns one libzookeeper-mt session and one thread. It watches the
 * children of the election path (no polling), reads the data of the lowest
 * member (or of every member with read_all), and publishes a leader snapshot
 * into a leader_store after every change.
 *
 * Sessions are handled as Mesos handles them: when the connection is lost the
 * last-known leader is kept while the session may still live; if no
 * reconnection happens within the session timeout the session is treated as
 * expired, no leader is reported, and a new handle is opened (which resolves
 * the host names again). On expiry: a new handle, a fresh read, a new watch. */
#ifndef MLD_TRACKER_H
#define MLD_TRACKER_H

#include "zk/leader.h"
#include "zk/zkurl.h"

#include <stdbool.h>

/* The default ZooKeeper session timeout, as Mesos's --zk_session_timeout. */
#define TRACKER_DEFAULT_SESSION_TIMEOUT_MS 10000

/* How a tracker runs. */
struct tracker_config {
    const struct zkurl *url; /* copied by tracker_start() */
    int session_timeout_ms;  /* 0 for the default */
    bool read_all;           /* read every master's data, not only the leader's */
    /* What a previous tracker knew (on a reload), or NULL: its leader stays
     * usable until this tracker's first read, or its session timeout. */
    const struct leader_snapshot *seed;
};

struct tracker;

/* Starts tracking into @store. Fails only if the thread cannot start. */
int tracker_start(const struct tracker_config *cfg, struct leader_store *store,
                  struct tracker **ret);

/* Closes the session (its znode watches go with it), stops the thread and
 * frees the tracker; NULL is fine. Publishes nothing. */
void tracker_stop(struct tracker *t);

#endif
