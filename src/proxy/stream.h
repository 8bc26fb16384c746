/* stream.h: bytes written straight to a client's socket that the daemon
 * took over from libmicrohttpd (an event stream's body, or an answer given
 * while the client is still sending).
 *
 * Each piece becomes one chunk (or goes as it is, for HTTP/1.0 and raw
 * answers), written at once, with a backlog when the client reads slowly:
 * the writer is told to stop above STREAM_HIGH_WATER and may go on below
 * STREAM_LOW_WATER, so the backlog's memory stays within about twice the
 * high-water mark whatever passes through. Every byte owed has a deadline:
 * when the client takes nothing for the write timeout while bytes wait, the
 * stream ends as if the client had left. At the end we write the
 * terminating chunk and close (a clean end), or shut the socket down (an
 * abnormal end). */
#ifndef MLD_STREAM_H
#define MLD_STREAM_H

#include "base/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Backlog above which the writer should stop reading the master, and below
 * which it may start again. */
#define STREAM_HIGH_WATER (256ul * 1024ul)
#define STREAM_LOW_WATER  (64ul * 1024ul)

struct stream_out;

/* What the stream tells its owner; called from the event loop. */
struct stream_events {
    void (*drained)(void *owner);     /* backlog fell below the low water */
    void (*client_gone)(void *owner); /* the client closed, reset, or stopped reading */
    void (*flushed)(void *owner);     /* after stream_out_finish(): all sent */
};

/* Takes over @fd (a client socket; closed by stream_out_free()). @chunked
 * frames each write as an HTTP/1.1 chunk, else bytes go as they are. A
 * client that takes no byte for @write_timeout_ms while bytes wait is gone.
 * A socket the loop cannot watch is gone at once: writes fail, and
 * events.client_gone comes from the loop (never from inside this call). */
struct stream_out *stream_out_new(struct loop *loop, int fd, bool chunked,
                                  uint64_t write_timeout_ms, const struct stream_events *events,
                                  void *owner);

/* Sends @len bytes (one chunk when chunked) now, or queues what the socket
 * does not take. Returns the backlog size afterwards, or -EPIPE if the
 * client left. */
long stream_out_write(struct stream_out *s, const void *data, size_t len);

/* The same, never framed (a whole answer written by the daemon). */
long stream_out_write_raw(struct stream_out *s, const void *data, size_t len);

/* Bytes queued and not yet sent. */
size_t stream_out_backlog(const struct stream_out *s);

/* Whether the client was given up on because it stopped reading. */
bool stream_out_stalled(const struct stream_out *s);

/* Ends the body (the terminating chunk when chunked) and asks for
 * events.flushed once everything is sent. With @linger, the socket's
 * sending side is then shut and what the client still sends is read and
 * dropped for a moment before flushed, so that closing does not reset the
 * connection before the client read the answer. */
void stream_out_finish(struct stream_out *s, bool linger);

/* Drops the backlog and shuts the socket down: an abnormal end the client
 * sees at once. */
void stream_out_abort(struct stream_out *s);

/* Stops watching the socket, closes it and frees; NULL is fine. */
void stream_out_free(struct stream_out *s);

#endif
