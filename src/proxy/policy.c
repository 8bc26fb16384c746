/* policy.c: the proxy's decisions (see policy.h). */
#include "config.h"

#include "proxy/policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Answers that never have a body (RFC 9110 6.4.1). */
static bool bodiless(int status, bool head)
{
    return head || status < 200 || status == 204 || status == 304;
}

enum answer_plan policy_answer_plan(int status, int64_t content_length, bool subscribe, bool head)
{
    if (status == 307)
        return PLAN_RETRY;
    if (status == 503 && content_length >= 0 && content_length <= POLICY_INSPECT_MAX)
        return PLAN_INSPECT;
    if (bodiless(status, head))
        return PLAN_BUFFER;
    if (content_length > POLICY_BUFFER_MAX || (content_length < 0 && subscribe))
        return PLAN_STREAM;
    return PLAN_BUFFER;
}

size_t policy_body_reserve(int status, int64_t content_length, bool head)
{
    if (bodiless(status, head) || content_length <= 0)
        return 0;
    return content_length > POLICY_BUFFER_MAX ? POLICY_BUFFER_MAX : (size_t)content_length;
}

static bool starts_with(const char *body, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(body, prefix, n) == 0;
}

enum verdict_503 policy_503(const char *body, size_t len)
{
    if (!body)
        return V503_RELAY;
    if (starts_with(body, len, "No leader elected"))
        return V503_NO_LEADER;
    if (starts_with(body, len, "Master has not finished recovery"))
        return V503_RECOVERING;
    return V503_RELAY;
}

bool policy_method_resendable(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

bool policy_resend_after_drop(const char *method, bool resent_once, bool subscribe)
{
    return !resent_once && !subscribe && policy_method_resendable(method);
}

bool policy_request_has_body(const char *method, size_t body_len)
{
    return body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

bool policy_redirect_loops(struct redirect_log *log, const char *from, const char *to)
{
    if (strcmp(from, to) == 0)
        return true;
    for (unsigned i = 0; i < log->n; i++) {
        if (strcmp(log->edge[i].from, to) == 0 && strcmp(log->edge[i].to, from) == 0)
            return true;
    }
    if (log->n < POLICY_REDIRECTS_MAX) {
        snprintf(log->edge[log->n].from, sizeof(log->edge[0].from), "%s", from);
        snprintf(log->edge[log->n].to, sizeof(log->edge[0].to), "%s", to);
        log->n++;
    }
    return false;
}

uint64_t policy_backoff_ns(unsigned tries)
{
    uint64_t ms = 250;

    for (unsigned i = 1; i < tries && ms < 60000; i++)
        ms *= 4;
    return ms * 1000000u;
}

uint64_t policy_next_try_ns(unsigned tries, unsigned max_tries, uint64_t now_ns,
                            uint64_t deadline_ns)
{
    uint64_t at = now_ns + policy_backoff_ns(tries);

    if (tries >= max_tries || at >= deadline_ns)
        return 0;
    return at;
}

bool policy_wait_for_leader(const struct leader_snapshot *s)
{
    if (s->state == LEADER_ELECTING)
        return true;
    return s->state != LEADER_KNOWN && !s->settled && s->session != ZK_SESSION_EXPIRED &&
           s->session != ZK_SESSION_AUTH_FAILED;
}

enum upstream_error policy_error_class(enum upstream_result r)
{
    switch (r) {
    case UPSTREAM_REFUSED:
    case UPSTREAM_UNRESOLVED:
    case UPSTREAM_NO_DESCRIPTORS:
        return UPSTREAM_ERR_CONNECT;
    case UPSTREAM_TIMEOUT:
        return UPSTREAM_ERR_TIMEOUT;
    case UPSTREAM_TLS:
        return UPSTREAM_ERR_TLS;
    case UPSTREAM_DROPPED:
    case UPSTREAM_BROKEN:
        return UPSTREAM_ERR_BROKEN;
    case UPSTREAM_OK:
    case UPSTREAM_PROTOCOL:
    case UPSTREAM_HEAD_TOO_LARGE:
        break;
    }
    return UPSTREAM_ERR_PROTOCOL;
}

struct failure_answer policy_failure_answer(enum upstream_result r)
{
    switch (r) {
    case UPSTREAM_TIMEOUT:
        return (struct failure_answer){504, "upstream_timeout", 0};
    case UPSTREAM_NO_DESCRIPTORS:
        return (struct failure_answer){503, "out_of_descriptors", 1};
    case UPSTREAM_DROPPED:
        return (struct failure_answer){502, "upstream_dropped", 0};
    case UPSTREAM_HEAD_TOO_LARGE:
        return (struct failure_answer){502, "upstream_head_too_large", 0};
    default:
        return (struct failure_answer){502, "bad_upstream", 0};
    }
}

bool policy_method_is_token(const char *method)
{
    if (!method || !*method)
        return false;
    for (const unsigned char *p = (const unsigned char *)method; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *p))
            return false;
    }
    return true;
}

enum request_coding policy_request_coding(const char *transfer_encoding, unsigned count)
{
    if (count == 0)
        return CODING_NONE;
    if (count == 1 && transfer_encoding && strcasecmp(transfer_encoding, "chunked") == 0)
        return CODING_CHUNKED;
    return CODING_UNSUPPORTED;
}
