/* http1.h: reading an HTTP/1.x answer as it arrives, for the upstream
 * client: the head line by line, then the body by its framing
 * (Content-Length, chunked, or until the connection closes), with the chunk
 * framing removed. Pure: no I/O, no clock; the caller feeds what it read.
 *
 * The parser is strict where a lenient one could be made to read one answer
 * as two (a master is trusted, but its bytes still reach our clients):
 * Content-Length together with Transfer-Encoding, two different
 * Content-Lengths, a transfer coding other than "chunked", and malformed
 * chunk framing are all rejected. */
#ifndef MLD_HTTP1_H
#define MLD_HTTP1_H

#include "base/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP1_HEAD_MAX (64u * 1024u) /* a head (every line of it) at most */

/* Where the answer's consumer is told of it. */
struct http1_handler {
    /* One head line as received, line end included: the status line, each
     * header line, then the blank line. Interim (1xx) heads come the same
     * way before the final one. Returns false to reject the answer. */
    bool (*line)(void *data, const char *line, size_t len);
    /* Body bytes, framing removed. Returns how many it took: 0 pauses the
     * parser (the bytes not used must be fed again later); after a part,
     * the rest is offered at once. */
    size_t (*body)(void *data, const char *bytes, size_t len);
};

enum http1_phase { HTTP1_HEAD, HTTP1_BODY, HTTP1_DONE };

struct http1_response {
    enum http1_phase phase;
    bool head_request; /* the answer to a HEAD has no body */
    bool started;      /* a byte of the answer was seen */
    struct strbuf line;
    size_t head_bytes;
    int status, minor;
    bool status_seen;
    int64_t content_length; /* -1: none */
    bool chunked, close, keep_alive;
    int body_kind;
    uint64_t left; /* of the body, or of the current chunk */
    int chunk_state;
    unsigned chunk_digits;
    const char *error; /* why the answer was rejected (static text) */
};

/* Starts reading one answer (to a HEAD when @head_request). @r must be
 * zeroed the first time; after that it may be initialised again. */
void http1_response_init(struct http1_response *r, bool head_request);

/* Frees what the parser holds; it can be initialised again. */
void http1_response_done(struct http1_response *r);

/* Feeds @len bytes. Returns how many were used: all of them, unless the body
 * handler paused or the answer ended before them (phase HTTP1_DONE; the rest
 * is not part of it). -EBADMSG when the answer is malformed or the line
 * handler refused it (r->error says why). */
ssize_t http1_response_feed(struct http1_response *r, const char *buf, size_t len,
                            const struct http1_handler *h, void *data);

/* The connection closed. 0 when that ends the answer (a body delimited by
 * the close), -EPIPE when the answer was cut short. */
int http1_response_eof(struct http1_response *r);

/* Whether the connection may carry another call after this complete answer. */
bool http1_response_reusable(const struct http1_response *r);

#endif
