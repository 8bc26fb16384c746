/* leaderwatch.h: what mesos-leader does with the leader: print it once, or
 * follow it (--watch) and print a line, or run a command (--exec), at every
 * change.
 *
 * The leader comes from a tracker (zk/tracker.h) publishing into a
 * leader_store: no polling. Only settled snapshots count (ZooKeeper read in
 * full), so that a change shows once, never the moments in between; while
 * ZooKeeper cannot be reached the last leader stays. Lines go to stdout;
 * errors to stderr, as "mesos-leader: ...". */
#ifndef MLD_LEADERWATCH_H
#define MLD_LEADERWATCH_H

#include "zk/leader.h"

#include <stdbool.h>

/* The exit status when no leader appeared within the timeout. */
#define LEADERWATCH_EXIT_NO_LEADER 2

/* What to print and how long to wait. */
struct leaderwatch_options {
    bool all;               /* the member list, not only the leader */
    bool json;              /* JSON instead of text */
    int timeout_ms;         /* once: for a leader; watching: for ZooKeeper's first answer */
    const char *url;        /* for messages, password redacted */
    char *const *exec_argv; /* watching: run this at every change (NULL-terminated), or NULL */
};

/* Waits until a settled snapshot of @store names a leader, or the timeout
 * passes, and prints it: "host:port"; with json its MasterInfo; with all
 * every member in election order (text lines, or a JSON array). Returns
 * the exit status: 0 printed; 1 ZooKeeper refused the credentials or could
 * not be reached; LEADERWATCH_EXIT_NO_LEADER no leader in time (with all,
 * the members are printed anyway). */
int leaderwatch_once(struct leader_store *store, const struct leaderwatch_options *o);

/* Blocks SIGINT, SIGTERM and SIGCHLD in the calling thread, so that the
 * threads started afterwards (the tracker's) inherit the mask and
 * leaderwatch_run() reads them; call it before tracker_start(). Returns a
 * signalfd, or -errno. */
int leaderwatch_block_signals(void);

/* Watches @store until SIGINT or SIGTERM arrives on @signal_fd (exit status
 * 0), ZooKeeper refuses the credentials, cannot be reached within the
 * timeout at first, or the command cannot be started (1). Each line is
 * "host:port" or "no leader: why"; with json the leader's MasterInfo or
 * "null"; with all the members in election order ("; "-separated text, or
 * a JSON array). */
int leaderwatch_run(struct leader_store *store, int signal_fd, const struct leaderwatch_options *o);

#endif
