/* headers.h: which HTTP headers cross the proxy, and how.
 *
 * Pure functions, no I/O. End-to-end headers pass byte for byte; hop-by-hop
 * headers (RFC 9110 7.6.1: Connection, Keep-Alive, Proxy-*, TE, Trailer,
 * Transfer-Encoding, Upgrade, and every header the Connection header names)
 * stop here. Host and Content-Length are set by the upstream client;
 * Expect is suppressed so that a large POST never stalls; X-Forwarded-For
 * and Via are rewritten with this hop added. */
#ifndef MLD_HEADERS_H
#define MLD_HEADERS_H

#include "base/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* The most headers one message's head may carry through the proxy, and the
 * most bytes its head (request or status line, headers) may take: above
 * either, a request gets 431 and a master's answer becomes a 502. */
#define HEADERS_MAX       128
#define HEADERS_BYTES_MAX (8u * 1024u)

/* The name this daemon gives itself in Via headers (RFC 9110 7.6.3). */
#define HEADERS_VIA_NAME "mesos-leaderd"

/* Whether @name appears as a token in the value of a Connection header
 * (@connection is the comma-separated value, or NULL). */
bool headers_connection_lists(const char *connection, const char *name);

/* Whether a request header must not be forwarded upstream as it is: hop-by-hop,
 * listed in @connection, or one libcurl sets itself (Host, Content-Length,
 * Expect) or we rewrite (X-Forwarded-For). */
bool headers_drop_from_request(const char *name, const char *connection);

/* Whether an answer header named @name (@len bytes, not NUL-terminated)
 * stops at the proxy by itself: hop-by-hop, or framing the HTTP server sets
 * (those its Connection header names are dropped separately). */
bool headers_answer_drops(const char *name, size_t len);

/* Appends the header line "Name: value\r\n" ("Name:\r\n" for an empty value)
 * to @out. Returns -EINVAL, appending nothing, for names or values that
 * cannot be sent (control characters). */
int headers_append_line(const char *name, const char *value, struct strbuf *out);

/* Whether a request header can be forwarded as it is: a token name, a value
 * without control characters (CR, LF, NUL...). */
bool headers_valid(const char *name, const char *value);

/* Whether the Via header value @via has an entry received by @name (a
 * request that already went through a proxy of that name). */
bool headers_via_names(const char *via, const char *name);

/* Appends @client to an X-Forwarded-For value: "prior, client" or "client". */
void headers_forwarded_for(const char *prior, const char *client, struct strbuf *out);

/* One parsed response header line. */
struct header_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Parses an HTTP status line ("HTTP/1.1 307 Temporary Redirect\r\n") into the
 * status code. Returns -EINVAL if it is not one. */
int headers_parse_status_line(const char *line, size_t len, int *ret_status);

/* Parses one header line ("Name: value\r\n"); value has surrounding blanks
 * removed. Returns -EINVAL for a malformed line, -EAGAIN for a folded
 * continuation line (starts with a blank), 1 for the blank line that ends the
 * header block, and 0 for a header. */
int headers_parse_field(const char *line, size_t len, struct header_field *ret);

/* Extracts "host:port" from a Location value such as "//m2:5050/master/x",
 * "http://m2:5050/x" or "m2:5050" into @out. Returns -EINVAL if none. */
int headers_location_host(const char *location, char *out, size_t size);

#endif
