/* stream.h: an event stream's body, written straight to the client's socket.
 *
 * Once libmicrohttpd has sent the answer's headers, the client's socket is
 * ours (a descriptor of its own; libmicrohttpd lets go of the connection and
 * its memory): each piece the master sends becomes one chunk, written at
 * once (no batching, no waiting for another library's turn), with a bounded
 * backlog when the client reads slowly. At the end we write the terminating
 * chunk and close (a clean end), or shut the socket down (an abnormal end). */
#ifndef MLD_STREAM_H
#define MLD_STREAM_H

#include "base/loop.h"

#include <stdbool.h>
#include <stddef.h>

/* Backlog above which the writer should stop reading the master, and below
 * which it may start again. */
#define STREAM_HIGH_WATER (256ul * 1024ul)
#define STREAM_LOW_WATER  (64ul * 1024ul)

struct stream_out;

/* What the stream tells its owner; called from the event loop. */
struct stream_events {
    void (*drained)(void *owner);     /* backlog fell below the low water */
    void (*client_gone)(void *owner); /* the client closed or reset */
    void (*flushed)(void *owner);     /* after stream_out_finish(): all sent */
};

/* Takes over @fd (a client socket whose answer headers are sent; closed by
 * stream_out_free()); @chunked frames each write as an HTTP/1.1 chunk, else
 * bytes go as they are (HTTP/1.0, close-delimited). */
struct stream_out *stream_out_new(struct loop *loop, int fd, bool chunked,
                                  const struct stream_events *events, void *owner);

/* Sends @len bytes as one chunk now, or queues what the socket does not
 * take. Returns the backlog size afterwards, or -EPIPE if the client left. */
long stream_out_write(struct stream_out *s, const void *data, size_t len);

/* Bytes queued and not yet sent. */
size_t stream_out_backlog(const struct stream_out *s);

/* Ends the body (the terminating chunk when chunked) and asks for
 * events.flushed once everything is sent. */
void stream_out_finish(struct stream_out *s);

/* Drops the backlog and shuts the socket down: an abnormal end the client
 * sees at once. */
void stream_out_abort(struct stream_out *s);

/* Stops watching the socket, closes it and frees; NULL is fine. */
void stream_out_free(struct stream_out *s);

#endif
