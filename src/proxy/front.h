/* front.h: libmicrohttpd, the HTTP server that reads clients' requests,
 * run inside the event loop.
 *
 * It parses every request (untrusted input) and writes answers of the
 * daemon's making; the daemon accepts the connections itself (clients.h)
 * and hands each socket over. What to do with a request is not decided
 * here: the front calls the handlers it is given. */
#ifndef MLD_FRONT_H
#define MLD_FRONT_H

#include "base/loop.h"
#include "proxy/clients.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

/* What the front calls; @data is front_new()'s. */
struct front_handlers {
    /* A request's line arrived: returns the state it is served with. */
    void *(*started)(void *data, const char *target, struct MHD_Connection *conn);
    /* libmicrohttpd's access handler (see MHD_AccessHandlerCallback). */
    enum MHD_Result (*access)(void *request, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size);
    /* libmicrohttpd is done with the request. */
    void (*completed)(void *request, enum MHD_RequestTerminationCode how);
};

struct front;

/* Starts libmicrohttpd in @loop with connections idle for @idle_timeout_s
 * closed. NULL (logged) on failure. */
struct front *front_new(struct loop *loop, unsigned idle_timeout_s,
                        const struct front_handlers *handlers, void *data);

/* Serves the accepted connection @c. False when libmicrohttpd refused it:
 * the socket is closed and the caller releases @c. */
bool front_add(struct front *f, struct client *c, const struct sockaddr *sa, socklen_t sa_len);

/* The client record of a connection. */
struct client *front_client(struct MHD_Connection *conn);

/* Runs libmicrohttpd at the end of this loop iteration (after a resume, a
 * queued answer, a connection added). */
void front_kick(struct front *f);

/* Runs libmicrohttpd now (for a stop: until its connections are done). */
void front_run(struct front *f);

/* Whether libmicrohttpd ran without internal errors since the last call. */
bool front_healthy(struct front *f);

/* Stops libmicrohttpd (every request completes) and frees; NULL is fine. */
void front_free(struct front *f);

#endif
