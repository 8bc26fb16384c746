/* fdlimit.h: how many client connections a number of open files allows.
 *
 * Each client connection may hold two descriptors: its socket and its
 * upstream connection (an event stream holds both for its whole life). The
 * daemon keeps FDLIMIT_RESERVED more for itself: ZooKeeper, epoll, eventfds,
 * the listeners, the signalfd and the idle upstream pool. The proxy and the
 * daemon use these numbers, so that what the daemon warns about and what
 * the proxy enforces agree. */
#ifndef MLD_FDLIMIT_H
#define MLD_FDLIMIT_H

#include <stdint.h>

/* Descriptors the daemon keeps for itself, and per client connection. */
#define FDLIMIT_RESERVED       64
#define FDLIMIT_PER_CONNECTION 2

/* The most client connections @limit open files allow:
 * floor((limit - FDLIMIT_RESERVED) / FDLIMIT_PER_CONNECTION), 0 below. */
uint64_t fdlimit_max_connections(uint64_t limit);

/* The open files @connections client connections need:
 * connections * FDLIMIT_PER_CONNECTION + FDLIMIT_RESERVED. */
uint64_t fdlimit_needed(uint64_t connections);

/* Raises the soft RLIMIT_NOFILE to the hard limit. *ret_before and
 * *ret_after get the soft limit before and after (equal when it was
 * already there, or could not be raised: then -errno is returned). */
int fdlimit_raise(uint64_t *ret_before, uint64_t *ret_after);

#endif
