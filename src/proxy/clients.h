/* clients.h: client connections: accepting them, counting them, and closing
 * the ones too slow to send a request.
 *
 * The daemon accepts connections itself (libmicrohttpd gets each accepted
 * socket) so that every connection is counted once, from accept until its
 * socket is closed for good (an event stream that left libmicrohttpd
 * included), before another is accepted. Each one may need two descriptors
 * (its socket and its upstream connection); descriptors are the process's,
 * so the connections of every listener (every cluster) share one count, and
 * at most fdlimit_max_connections(open-files limit, listeners) of them are
 * served (base/fdlimit.h). Up to `max-connections` of a listener's are
 * served, a few more are accepted only to be answered 503 (or to read the
 * daemon's own endpoints), and past that accepting pauses: new clients wait
 * in the listen queue, and nothing spins. When accept() itself runs out of
 * descriptors it pauses too, and tries again after a backoff (50 ms,
 * doubling up to 1 s). */
#ifndef MLD_CLIENTS_H
#define MLD_CLIENTS_H

#include "base/list.h"
#include "base/loop.h"
#include "proxy/metrics.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Past `max-connections`, this many more are accepted to be answered 503
 * (or to read the daemon's status); past what descriptors allow, only
 * CLIENTS_FD_HEADROOM per listener, which fdlimit.h reserves. */
#define CLIENTS_HEADROOM    64
#define CLIENTS_FD_HEADROOM 16

struct clients_limits {
    unsigned max_connections;  /* served at once */
    uint64_t idle_timeout_ms;  /* a request must arrive in full within this */
    uint64_t open_files_limit; /* the soft RLIMIT_NOFILE (0: read it when set) */
};

/* One client connection. */
struct client {
    struct clients *owner;
    int fd;
    bool over_cap;   /* accepted past max-connections: answer 503 and close */
    bool busy;       /* a request is being answered, or waits: no deadline */
    bool taken_over; /* its socket left libmicrohttpd: clients_take_over() */
    void *conn;      /* libmicrohttpd's connection, while it has one */
    uint64_t deadline_ns;
    struct list_node node;      /* in owner->all */
    struct list_node idle_node; /* in owner->idle while not busy, by deadline */
};

/* Called for every accepted connection: hand @c->fd on (to libmicrohttpd).
 * When that fails, call clients_release(). */
typedef void (*clients_accept_fn)(void *data, struct client *c, const struct sockaddr *sa,
                                  socklen_t sa_len);

struct clients;

/* Starts accepting on @listen_fd (owned from now on), counting into @m. */
struct clients *clients_new(struct loop *loop, int listen_fd, const struct clients_limits *lim,
                            struct metrics *m, clients_accept_fn fn, void *data);

/* Closes the listener and forgets every client (their sockets are their
 * owners' to close); NULL is fine. */
void clients_free(struct clients *cs);

/* New limits for connections from now on. */
void clients_set_limits(struct clients *cs, const struct clients_limits *lim);

/* Stops accepting for good and closes the listener (a graceful stop). */
void clients_stop_accepting(struct clients *cs);

/* A request on @c was received in full, or waits for something to answer
 * with (@busy), or was answered (not busy: the next one must arrive in full
 * within the idle timeout). */
void clients_set_busy(struct client *c, bool busy);

/* Takes @c's socket over from libmicrohttpd (see stream.h): returns a copy
 * of it that is the caller's to close, or -1 (errno set) when no descriptor
 * is free. libmicrohttpd closes @c->fd, a number that another connection
 * may get next, once the caller lets go of its connection. From now on @c
 * has no idle deadline (its stream has deadlines of its own); it stays
 * counted until clients_release(). */
int clients_take_over(struct client *c);

/* @c's socket is closed for good: forget it (and accept again if paused). */
void clients_release(struct client *c);

/* libmicrohttpd closed its connection for @c (and freed its memory): the
 * client goes too, unless its socket was taken over. */
void clients_server_closed(struct client *c);

/* Connections counted now. */
unsigned clients_count(const struct clients *cs);

#endif
