/* policy.h: the proxy's decisions, as pure functions.
 *
 * What to do with a master's answer (relay it as it comes, read it whole
 * first, or try again elsewhere), when a call may be sent again, how long to
 * wait before the next try, which status a failure becomes, and which client
 * requests are refused before anything is forwarded. No I/O, no clock, no
 * libmicrohttpd: everything is decided from the values passed in, and each
 * rule is unit-tested in tests/unit/check_policy.c. */
#ifndef MLD_POLICY_H
#define MLD_POLICY_H

#include "proxy/metrics.h"
#include "proxy/upstream.h"
#include "zk/leader.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Answers up to this size are read whole before the client gets them, so
 * that a master's answer that breaks off becomes a clean 502. */
#define POLICY_BUFFER_MAX (1024l * 1024l)

/* A 503 body up to this size is read to decide whether to try again. */
#define POLICY_INSPECT_MAX (64l * 1024l)

/* The most redirects remembered per call, to find loops. */
#define POLICY_REDIRECTS_MAX 8

/* What to do with the master's answer once its head is in. */
enum answer_plan {
    PLAN_RETRY,   /* 307: discard it, try the leader ZooKeeper names */
    PLAN_INSPECT, /* 503 with a small body: read it, then decide */
    PLAN_BUFFER,  /* read it whole, then answer */
    PLAN_STREAM,  /* answer now, relay the body as it arrives */
};

/* @content_length is -1 when the answer has none; @subscribe whether the call
 * is a SUBSCRIBE (its answer is an endless event stream); @head whether it is
 * a HEAD (its answer has no body, whatever its length says). */
enum answer_plan policy_answer_plan(int status, int64_t content_length, bool subscribe, bool head);

/* How many bytes to set aside for the body of an answer read whole: its
 * announced length, none when the answer has no body (HEAD, 1xx, 204, 304,
 * whatever the length says), never more than POLICY_BUFFER_MAX. */
size_t policy_body_reserve(int status, int64_t content_length, bool head);

/* What a master's 503 means, from the start of its body. */
enum verdict_503 {
    V503_NO_LEADER,  /* "No leader elected": it disagrees with ZooKeeper, try again */
    V503_RECOVERING, /* "Master has not finished recovery": try again in the budget */
    V503_RELAY,      /* anything else: relay it as it is */
};
enum verdict_503 policy_503(const char *body, size_t len);

/* Whether a call with @method may ever be sent a second time (RFC 9110
 * 9.2.2, as the daemon applies it: GET and HEAD only). */
bool policy_method_resendable(const char *method);

/* Whether a call whose connection ended before any byte of the answer is
 * sent once more: only a GET or HEAD that was not resent for this already. */
bool policy_resend_after_drop(const char *method, bool resent_once, bool subscribe);

/* Whether the request to the master carries a body (and Content-Length),
 * given the client's method and body length. */
bool policy_request_has_body(const char *method, size_t body_len);

/* The redirects one call met, to find loops. */
struct redirect_log {
    struct {
        char from[MASTERINFO_HOST_MAX + 10];
        char to[MASTERINFO_HOST_MAX + 10];
    } edge[POLICY_REDIRECTS_MAX];
    unsigned n;
};

/* Records the redirect @from -> @to; true when it closes a loop (a master
 * redirecting to itself, or A->B after B->A). */
bool policy_redirect_loops(struct redirect_log *log, const char *from, const char *to);

/* Delay before try number @tries + 1: 250 ms, 1 s, 4 s, ... (ns). */
uint64_t policy_backoff_ns(unsigned tries);

/* When the next try may start (ns), or 0 when the budget (@max_tries tries,
 * all before @deadline_ns) does not allow one after @tries. */
uint64_t policy_next_try_ns(unsigned tries, unsigned max_tries, uint64_t now_ns,
                            uint64_t deadline_ns);

/* Whether a call with no leader known waits (the leader's data is being
 * read, or the first session is still being set up) rather than being
 * answered 503 at once. */
bool policy_wait_for_leader(const struct leader_snapshot *s);

/* The metric class of a failed call. */
enum upstream_error policy_error_class(enum upstream_result r);

/* How a failed call is answered: its status, and the "error" code of the
 * JSON body. */
struct failure_answer {
    unsigned status;
    const char *code;
    unsigned retry_after_s; /* 0: no Retry-After */
};
struct failure_answer policy_failure_answer(enum upstream_result r);

/* Whether @method is an HTTP token (RFC 9110 5.6.2) that may be put into a
 * request line. */
bool policy_method_is_token(const char *method);

/* What a request's Transfer-Encoding header (NULL: none) asks for. */
enum request_coding {
    CODING_NONE,        /* no Transfer-Encoding */
    CODING_CHUNKED,     /* exactly "chunked" (any case) */
    CODING_UNSUPPORTED, /* anything else: answered 501 */
};
enum request_coding policy_request_coding(const char *transfer_encoding, unsigned count);

#endif
