/* route.h: what kind of request this is, decided from its path and body.
 *
 * Pure functions. The daemon answers its own endpoints (under /leaderd/, a
 * prefix no Mesos path uses) and /redirect itself; everything else goes to
 * the leader. SUBSCRIBE calls are recognised so that each gets a fresh
 * upstream connection that is never reused. */
#ifndef MLD_ROUTE_H
#define MLD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* Where a request goes. */
enum route {
    ROUTE_PROXY,           /* forward to the leader */
    ROUTE_REDIRECT,        /* /redirect or /master/redirect: 307 to ourselves */
    ROUTE_REDIRECT_SUB,    /* /redirect/... or /master/redirect/...: 404 */
    ROUTE_LEADERD_LEADER,  /* /leaderd/v1/leader */
    ROUTE_LEADERD_HEALTH,  /* /leaderd/health */
    ROUTE_LEADERD_METRICS, /* /leaderd/metrics */
    ROUTE_LEADERD_UNKNOWN, /* anything else under /leaderd */
};

/* The prefix of the daemon's own endpoints. */
#define ROUTE_LEADERD_PREFIX "/leaderd"

/* Classifies a request path (without the query string). */
enum route route_classify(const char *path);

/* Whether a raw request target is acceptable to forward: origin-form (it
 * starts with '/'), no fragment, no control characters or spaces. Absolute-form
 * ("http://host/...") and authority-form (CONNECT) targets are refused, so
 * that no request can choose its upstream host. */
bool route_target_acceptable(const char *target);

/* Whether a call body is a SUBSCRIBE of the scheduler API (Call.type = 1) or
 * of the operator API (master Call.type = 18), in JSON or protobuf. */
bool route_is_subscribe(const char *path, const char *content_type, const char *body, size_t len);

#endif
