/* watch.h: mesos-leader --watch: follow the leader, print a line at every
 * change, or run a command at every change.
 *
 * The leader comes from a tracker (zk/tracker.h) publishing into a
 * leader_store: no polling. Only settled snapshots count (ZooKeeper read in
 * full), so that a change shows once, never the moments in between; while
 * ZooKeeper cannot be reached the last leader stays. */
#ifndef MLD_WATCH_H
#define MLD_WATCH_H

#include "base/strbuf.h"
#include "zk/leader.h"

#include <stdbool.h>

/* How to watch. */
struct watch_options {
    bool all;               /* the member list, not only the leader */
    bool json;              /* JSON instead of text */
    int timeout_ms;         /* how long to wait for ZooKeeper's first answer */
    const char *url;        /* for messages, password redacted */
    char *const *exec_argv; /* run this at every change (NULL-terminated), or NULL */
};

/* Blocks SIGINT, SIGTERM and SIGCHLD in the calling thread, so that the
 * threads started afterwards (the tracker's) inherit the mask and
 * watch_run() reads them; call it before tracker_start(). Returns a
 * signalfd, or -errno. */
int watch_block_signals(void);

/* Watches @store until SIGINT or SIGTERM arrives on @signal_fd (exit status
 * 0), ZooKeeper refuses the credentials, cannot be reached within the
 * timeout at first, or the command cannot be started (1). */
int watch_run(struct leader_store *store, int signal_fd, const struct watch_options *o);

/* The line --watch prints for @s (without its newline): "host:port" or
 * "no leader: why"; with --json the leader's MasterInfo or "null"; with
 * --all the members in election order ("; "-separated text, or a JSON
 * array). */
void watch_line(const struct leader_snapshot *s, bool all, bool json, struct strbuf *out);

#endif
