/* fleet.h: the parts of bench/fleet-run (see bench/fleet.c): a three-node
 * ZooKeeper ensemble started and measured by PID (fleet_ens.c), and the
 * worker processes that each run many trackers (fleet_worker.c). */
#ifndef MLD_BENCH_FLEET_H
#define MLD_BENCH_FLEET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define ENS_NODES 3

/* A ZooKeeper ensemble on loopback, one directory per node. */
struct ens {
    char *dir;
    char *java;
    char *classpath;
    int heap_mb;
    int client_port[ENS_NODES], quorum_port[ENS_NODES], election_port[ENS_NODES];
    pid_t pid[ENS_NODES];
    char connect[128]; /* "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3" */
};

/* Writes the configurations under @dir and starts the three nodes, each
 * with a Java heap of at most @heap_mb; waits until all serve. 0 or a
 * negative errno (the reason on stderr). */
int ens_start(struct ens *e, const char *dir, int heap_mb);

/* Starts node @i again with its configuration and data; waits until it
 * serves (at most @timeout_ms). */
int ens_start_node(struct ens *e, int i, int timeout_ms);

/* Sends @sig to node @i and waits until it has exited. */
int ens_end_node(struct ens *e, int i, int sig);

/* Stops every running node (SIGTERM, then SIGKILL after 10 s) and frees
 * what ens_start() allocated. */
void ens_stop(struct ens *e);

/* Node @i's mode ("leader", "follower") into @buf, and its number of client
 * connections (the asking one excluded) into @ret_conns (may be NULL);
 * -EIO when it does not serve. */
int ens_mode(const struct ens *e, int i, char *buf, size_t size, int *ret_conns);

/* The index of the node that leads, waiting up to @timeout_ms until every
 * running node serves; -ETIMEDOUT otherwise. */
int ens_leader(const struct ens *e, int timeout_ms);

/* CPU time (user + system) of node @i so far, in milliseconds. */
long ens_cpu_ms(const struct ens *e, int i);

/* Node @i's resident set in KiB. */
long ens_rss_kb(const struct ens *e, int i);

/* Node @i's live Java heap in KiB, after a full collection (jcmd); -1 when
 * jcmd cannot tell. */
long ens_heap_used_kb(const struct ens *e, int i);

/* How many lines of node @i's log contain @needle. */
long ens_log_count(const struct ens *e, int i, const char *needle);

/* How long node @i's last election took when it became the leader, in ms
 * (from its log), or -1. */
long ens_last_election_ms(const struct ens *e, int i);

/* Runs a worker (fleet-run --worker ...); returns the exit status. */
int worker_main(int argc, char **argv);

#endif
