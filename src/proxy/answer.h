/* answer.h: the master's answer on its way to the client.
 *
 * Its head is read line by line into the exchange's answer (ex->ans): the
 * status, the headers that pass through (hop-by-hop ones, and those the
 * master's Connection headers name, stop here), what the proxy acts on
 * (Content-Length, Location, Mesos-Stream-Id). A head larger than
 * HEADERS_BYTES_MAX, or with more than HEADERS_MAX headers, is refused; the
 * call then gets 502. Interim 1xx answers and trailers are not relayed.
 * Then libmicrohttpd is handed what the client gets: a body read whole, no
 * body (HEAD and 304 keep the master's Content-Length), or the daemon's own
 * error. */
#ifndef MLD_ANSWER_H
#define MLD_ANSWER_H

#include "proxy/exchange.h"

/* What one head line did. */
enum head_step {
    HEAD_MORE, /* more lines follow */
    HEAD_DONE, /* the head is complete: ex->ans.plan says what to do */
    HEAD_BAD,  /* refused (malformed, or too large: ex->ans.head_too_large) */
};

/* Takes one line of the master's head, line end included. */
enum head_step answer_head_line(struct exchange *ex, const char *line, size_t len);

/* Queues @r (taken) with the master's status and headers, and resumes the
 * client connection. */
void answer_queue(struct exchange *ex, struct MHD_Response *r);

/* Sends the answer read whole (or a bodiless one). */
void answer_buffered(struct exchange *ex);

/* A body read whole, shared by several answers (share.h); refcounted. */
struct shared_body;

/* Takes the body @ex read whole into a shared body (one reference). */
struct shared_body *answer_share_body(struct exchange *ex);

/* Takes and drops a reference. */
struct shared_body *answer_body_ref(struct shared_body *b);
void answer_body_unref(struct shared_body *b);

/* Queues on @ex the answer @from (its status, headers and length) with the
 * body @b, and resumes @ex's connection; with @age_s >= 0, adds an Age
 * header (an answer from the cache). */
void answer_copy(struct exchange *ex, const struct ex_answer *from, struct shared_body *b,
                 long age_s);

/* Queues a daemon-made JSON error (see local.h) on a connection that may be
 * suspended, and resumes it. */
void answer_error(struct exchange *ex, unsigned status, const char *code, const char *message,
                  unsigned retry_after);

#endif
