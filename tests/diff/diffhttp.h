/* diffhttp.h: HTTP/1.x messages as the differential harness reads them:
 * the requests a client sent and the answers it received, split one by one,
 * with their framing removed (chunked bodies decoded, trailers apart).
 *
 * This is the test's own reading, written apart from the daemon's parser
 * (src/proxy/http1.c) so that the two do not share a mistake. It never
 * fails: it reads as far as the bytes make sense, says whether each message
 * is complete, and says why it stopped when the bytes are not HTTP. Pure:
 * no I/O. */
#ifndef MLD_DIFFHTTP_H
#define MLD_DIFFHTTP_H

#include "base/strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One header or trailer line: the name as sent, the value without the blanks
 * around it. */
struct dh_field {
    char *name;
    char *value;
};

struct dh_fields {
    struct dh_field *v;
    size_t n;
};

/* How a message's body is delimited. */
enum dh_framing {
    DH_NONE,    /* no body (a HEAD's answer, 1xx, 204, 304, a request without one) */
    DH_LENGTH,  /* Content-Length */
    DH_CHUNKED, /* Transfer-Encoding: chunked */
    DH_CLOSE,   /* an answer that ends when the connection closes */
};

struct dh_message {
    char *start; /* the start line without its line end */
    /* a request's start line */
    char *method;
    char *target;
    /* both */
    char *version;
    /* an answer's status line */
    int status;
    char *reason;
    struct dh_fields headers;
    struct dh_fields trailers;
    enum dh_framing framing;
    int64_t content_length; /* -1: none */
    struct strbuf body;     /* framing removed */
    size_t head_len;        /* bytes of the head, start line to blank line */
    bool head_done;         /* the head is complete */
    bool complete;          /* the body is complete too */
    bool chunk_extensions;  /* a chunk size line carried an extension */
    size_t raw_len;         /* bytes of the message read so far */
};

/* Every request in what a client sent (the last one may be incomplete). */
struct dh_requests {
    struct dh_message *v;
    size_t n;
    const char *error; /* why reading stopped early (static text), or NULL */
};

/* An answer: the interim (1xx) heads, then the final answer. */
struct dh_answer {
    struct dh_message *interim;
    size_t n_interim;
    struct dh_message final; /* final.start is NULL while only interim heads came */
};

/* The answers to a list of requests, in order (the last may be incomplete). */
struct dh_answers {
    struct dh_answer *v;
    size_t n;
    size_t extra;      /* bytes after the answer to the last request */
    const char *error; /* why reading stopped early (static text), or NULL */
};

/* Splits @len bytes a client sent into requests. */
void dh_requests_parse(const char *buf, size_t len, struct dh_requests *ret);

/* Splits @len bytes a client received into the answers to @reqs (a HEAD's
 * answer has no body); @eof says the connection was closed after them,
 * which completes a close-delimited body. */
void dh_answers_parse(const char *buf, size_t len, bool eof, const struct dh_requests *reqs,
                      struct dh_answers *ret);

/* Free what the lists hold; NULL is fine. */
void dh_requests_free(struct dh_requests *r);
void dh_answers_free(struct dh_answers *a);

/* The value of the first field named @name (any case), or NULL. */
const char *dh_field_get(const struct dh_fields *f, const char *name);

/* Whether a field named @name (any case) lists @token among its
 * comma-separated elements (any case). */
bool dh_fields_list(const struct dh_fields *f, const char *name, const char *token);

/* How many complete final answers @a holds. */
size_t dh_answers_complete(const struct dh_answers *a);

#endif
