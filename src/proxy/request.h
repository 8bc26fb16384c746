/* request.h: a client's request before anything of it is forwarded: what is
 * refused at once, and the header block the master gets.
 *
 * Refused at once (answered by the daemon, nothing forwarded): a target that
 * is not origin-form, CONNECT, a method that is not a token; ambiguous
 * framing (Content-Length with Transfer-Encoding, several Content-Length, a
 * header that cannot be forwarded as it is); a transfer coding other than
 * "chunked" (501); a head above HEADERS_BYTES_MAX or HEADERS_MAX headers
 * (431); a request that already came through this daemon (508: a proxy
 * loop); a Content-Length above max-body (413). */
#ifndef MLD_REQUEST_H
#define MLD_REQUEST_H

#include "base/strbuf.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

/* How a refused request is answered. */
struct request_refusal {
    unsigned status;
    const char *code;    /* the JSON "error" */
    const char *message; /* the JSON "message" */
    bool close;          /* and the connection closed */
};

/* Whether the request on @conn is refused before its method and target are
 * looked at further (@ret says how). */
bool request_refused_early(const char *method, const char *target, struct request_refusal *ret);

/* Whether the head of the request on @conn, bound for the leader, is
 * refused (@ret says how). If not, appends the header lines the master gets
 * to @headers: the client's end-to-end headers in order, then
 * X-Forwarded-For and Via with this hop added (@http10: the client spoke
 * HTTP/1.0). One walk over the headers judges them, one copies them. */
bool request_check(struct MHD_Connection *conn, const char *method, const char *target,
                   uint64_t max_body, bool http10, struct strbuf *headers,
                   struct request_refusal *ret);

#endif
