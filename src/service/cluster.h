/* cluster.h: one Mesos cluster the daemon serves: its listening socket, its
 * ZooKeeper session (the tracker and its leader store), and the proxy that
 * forwards to its leader. The daemon runs one per [cluster] section (one in
 * all without sections), each on its own listener, all in one event loop. */
#ifndef MLD_CLUSTER_H
#define MLD_CLUSTER_H

#include "base/errbuf.h"
#include "base/loop.h"
#include "service/cfg.h"
#include "zk/leader.h"

#include <stdbool.h>

struct cluster;

/* Called whenever the cluster's leader snapshot changes. */
typedef void (*cluster_observer)(void *data, struct cluster *c, const struct leader_snapshot *s);

/* Starts serving @cfg (copied) in @loop: opens its listener, starts
 * following its ZooKeeper ensemble. NULL, with @err set, on failure. */
struct cluster *cluster_start(struct loop *loop, const struct cfg_cluster *cfg, cluster_observer fn,
                              void *data, struct errbuf *err);

/* Applies @next, a new configuration of the same cluster: settings that
 * take a restart keep the values it started with (a warning says so), a
 * new ZooKeeper URL or session timeout starts a new session, the rest
 * applies to calls from now on. Connections and streams stay. */
void cluster_reconfigure(struct cluster *c, const struct cfg_cluster *next);

/* Whether @next differs from the configuration @c runs with. */
bool cluster_changed(const struct cluster *c, const struct cfg_cluster *next);

/* Stops accepting connections (a graceful stop), and ends the streams. */
void cluster_quiesce(struct cluster *c);

/* Calls still being answered, streams open. */
unsigned cluster_pending_calls(const struct cluster *c);
unsigned cluster_open_streams(const struct cluster *c);

/* Whether its event-loop side ran without internal errors since the last
 * call (for the watchdog). */
bool cluster_healthy(struct cluster *c);

/* Its name ("" without sections), where it listens, and its last status
 * line ("leader 10.0.0.1:5050 (id ...); zookeeper connected"). */
const char *cluster_name(const struct cluster *c);
const char *cluster_listen_name(const struct cluster *c);
const char *cluster_status(const struct cluster *c);

/* Whether its socket came from systemd (socket activation). */
bool cluster_activated(const struct cluster *c);

/* Whether a leader has been known since it started. */
bool cluster_had_leader(const struct cluster *c);

/* Stops everything at once and frees; NULL is fine. */
void cluster_stop(struct cluster *c);

#endif
