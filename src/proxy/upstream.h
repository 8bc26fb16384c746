/* upstream.h: calls to the leading master.
 *
 * Engines behind one interface (upstream_engine.h), all driven by the event
 * loop: a small HTTP/1.1 client of our own for plain HTTP to a master known
 * by its IP address (the usual case: few system calls, no allocation per
 * call on a kept-alive connection), and libcurl for HTTPS and for masters
 * known only by a host name (resolving it is libcurl's). The first engine
 * whose accepts() takes a call runs it. Kept-alive connections to the leader
 * are reused for short calls; a stream gets a connection of its own that is
 * never reused.
 *
 * No call is ever sent twice unless it may be (req->resendable: GET, HEAD):
 * when a kept-alive connection turns out closed after a call's bytes went
 * out, only a resendable call goes again on a new connection; any other ends
 * with UPSTREAM_DROPPED. Everything runs in the loop's thread, and no
 * callback is ever made from inside upstream_start(). */
#ifndef MLD_UPSTREAM_H
#define MLD_UPSTREAM_H

#include "base/list.h"
#include "base/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How upstream connections are made. */
struct upstream_config {
    bool https;              /* talk HTTPS to the masters */
    const char *ca_file;     /* CA bundle to verify them, or NULL for the system's */
    const char *cert_file;   /* client certificate, or NULL */
    const char *key_file;    /* its key, or NULL */
    long connect_timeout_ms; /* TCP (and TLS) connect */
};

/* How a call ended. */
enum upstream_result {
    UPSTREAM_OK,
    UPSTREAM_REFUSED,        /* no connection: refused, unreachable, or not made within the
                                connect timeout (either engine); nothing was sent */
    UPSTREAM_UNRESOLVED,     /* the master's host name did not resolve */
    UPSTREAM_TIMEOUT,        /* the owner's deadline passed (no engine reports it) */
    UPSTREAM_DROPPED,        /* it ended after the call was sent, before any answer byte */
    UPSTREAM_BROKEN,         /* it ended or failed within the answer */
    UPSTREAM_PROTOCOL,       /* not a valid HTTP/1.x answer, or the owner refused it */
    UPSTREAM_TLS,            /* TLS handshake or verification */
    UPSTREAM_NO_DESCRIPTORS, /* no socket could be opened: out of file descriptors */
    UPSTREAM_HEAD_TOO_LARGE, /* the answer's head is above HEADERS_BYTES_MAX (headers.h) */
};

/* A body callback's answer: keep the bytes and offer them again once
 * upstream_unpause() is called. */
#define UPSTREAM_PAUSE SIZE_MAX

struct upstream_callbacks {
    /* One line of the answer's head, line end included: the status line,
     * each header, the blank line (interim 1xx heads too). False stops the
     * call with UPSTREAM_PROTOCOL. */
    bool (*header_line)(void *owner, const char *line, size_t len);
    /* Body bytes, framing removed: returns @len, UPSTREAM_PAUSE, or anything
     * else to stop the call with UPSTREAM_PROTOCOL. */
    size_t (*body)(void *owner, const char *bytes, size_t len);
    /* The call ended (it no longer runs; the transfer may be started again).
     * @detail says what went wrong in words, "" when nothing did. */
    void (*done)(void *owner, enum upstream_result result, const char *detail);
};

/* What to send. Every pointer must stay valid until the call ends. */
struct upstream_request {
    const char *address; /* "host:port" or "[v6]:port": the Host header, libcurl's URL */
    const char *host;    /* the same host alone (an IPv6 address without brackets) */
    uint16_t port;
    const char *method;
    const char *target;  /* as the client sent it */
    const char *headers; /* "Name: value\r\n" lines (no Host, no framing) */
    size_t headers_len;
    const char *body;
    size_t body_len;
    bool has_body;   /* send Content-Length (also when 0) */
    bool stream;     /* a long answer: a connection of its own, never reused */
    bool resendable; /* may be sent again when a kept-alive connection drops it */
};

struct upstream;
struct upstream_engine;

/* One call; embed it in the owner, zeroed. The engine that runs it keeps
 * its state behind @priv. */
struct upstream_transfer {
    const struct upstream_callbacks *cb;
    void *owner;
    struct upstream_engine *engine; /* NULL when not running */
    void *priv;                     /* the engine's state for this call */
    bool answered;                  /* a byte of the answer arrived */
    struct list_node unpause_node;  /* queued for upstream_unpause() */
};

/* Creates the engines and registers them with @loop. */
struct upstream *upstream_new(struct loop *loop, const struct upstream_config *cfg);

/* Aborts every call (without calling done) and frees; NULL is fine. */
void upstream_free(struct upstream *u);

/* Replaces the TLS and timeout settings (for a reload); new calls use them,
 * and no connection set up with the old ones is reused. */
void upstream_set_config(struct upstream *u, const struct upstream_config *cfg);

/* Starts a call. 0, or -errno when it could not even start (nothing is
 * called back then). Failures to connect come through done. */
int upstream_start(struct upstream *u, struct upstream_transfer *t,
                   const struct upstream_request *req, const struct upstream_callbacks *cb,
                   void *owner);

/* Stops a running call at once (its connection is closed, never reused);
 * done is not called. Safe on a transfer that is not running, and from
 * inside the call's own callbacks. */
void upstream_abort(struct upstream *u, struct upstream_transfer *t);

/* Resumes a call paused by its body callback; the bytes it refused come
 * again after the current loop iteration, outside every other callback. */
void upstream_unpause(struct upstream *u, struct upstream_transfer *t);

#endif
