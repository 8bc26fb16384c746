/* route.h: what kind of request this is, decided from its path and body.
 *
 * Pure functions. Paths are compared as libprocess compares them (a
 * trailing slash does not count; "/X" and "/master/X" name one master
 * endpoint). SUBSCRIBE calls are recognised so that each gets a fresh
 * upstream connection that is never reused, and its answer is relayed as a
 * stream. Which paths the daemon answers itself is local.c's table. */
#ifndef MLD_ROUTE_H
#define MLD_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

/* The prefix of the daemon's own endpoints. */
#define ROUTE_LEADERD_PREFIX "/leaderd"

/* A request path as libprocess routes it: trailing slashes do not count
 * ("/api/v1/scheduler/" is "/api/v1/scheduler"; "/" stays "/"). Writes it
 * into @out; -ENAMETOOLONG when it does not fit. */
int route_canonical(const char *path, char *out, size_t size);

/* Whether a raw request target is acceptable to forward: origin-form (it
 * starts with '/'), no fragment, no control characters or spaces. Absolute-form
 * ("http://host/...") and authority-form (CONNECT) targets are refused, so
 * that no request can choose its upstream host. */
bool route_target_acceptable(const char *target);

/* Whether a call body is a SUBSCRIBE of the scheduler API (Call.type = 1) or
 * of the operator API (master Call.type = 18), in JSON or protobuf. */
bool route_is_subscribe(const char *path, const char *content_type, const char *body, size_t len);

#endif
