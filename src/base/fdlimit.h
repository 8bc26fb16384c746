/* fdlimit.h: how many client connections a number of open files allows,
 * and raising RLIMIT_NOFILE.
 *
 * Each client connection may hold two descriptors: its socket and its
 * upstream connection (an event stream holds both for its whole life). The
 * daemon keeps FDLIMIT_RESERVED_PROCESS more for itself (standard streams,
 * epoll, the signalfd, name lookups, reading its configuration again) and
 * FDLIMIT_RESERVED_LISTENER per listener, that is per cluster (its
 * ZooKeeper session, libmicrohttpd's epoll and eventfd, the listening
 * socket, up to 32 idle upstream connections, and the 16 connections
 * accepted past the limit only to be answered 503). The descriptors are the
 * process's: with several clusters, their connections share one count. The
 * proxy, which enforces these numbers, and the daemon, which warns about
 * them, both read them here. */
#ifndef MLD_FDLIMIT_H
#define MLD_FDLIMIT_H

#include <stdint.h>

#define FDLIMIT_RESERVED_PROCESS  16
#define FDLIMIT_RESERVED_LISTENER 64
#define FDLIMIT_PER_CONNECTION    2

/* Descriptors kept for the daemon itself with @listeners listeners:
 * FDLIMIT_RESERVED_PROCESS + @listeners * FDLIMIT_RESERVED_LISTENER. */
uint64_t fdlimit_reserved(unsigned listeners);

/* The most client connections, over every listener, that @limit open files
 * allow: floor((limit - reserved) / FDLIMIT_PER_CONNECTION), 0 below. */
uint64_t fdlimit_max_connections(uint64_t limit, unsigned listeners);

/* The open files @connections client connections need:
 * connections * FDLIMIT_PER_CONNECTION + reserved. */
uint64_t fdlimit_needed(uint64_t connections, unsigned listeners);

/* Raises the soft RLIMIT_NOFILE to the hard limit. *ret_before and
 * *ret_after get the soft limit before and after (equal when it was
 * already there, or could not be raised: then -errno is returned). */
int fdlimit_raise(uint64_t *ret_before, uint64_t *ret_after);

#endif
