/* request.c: checks on a client's request, and its headers for the master
 * (see request.h). */
#include "config.h"

#include "proxy/request.h"
#include "proxy/headers.h"
#include "proxy/policy.h"
#include "proxy/route.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* What one walk over the request's headers found. */
struct head_walk {
    unsigned content_length, transfer_encoding, invalid, fields;
    const char *te_value;
    size_t bytes;
    bool via_loop;
    /* Every value of these headers, comma-joined. */
    struct strbuf connection, forwarded_for, via;
};

static void join(struct strbuf *joined, const char *value)
{
    if (!*value)
        return;
    if (joined->len)
        strbuf_append(joined, ", ", 2);
    strbuf_puts(joined, value);
}

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   const char *value)
{
    struct head_walk *w = cls;

    value = value ? value : "";
    w->fields++;
    w->bytes += strlen(name) + strlen(value) + 4;
    if (!headers_valid(name, value))
        w->invalid++;
    if (strcasecmp(name, "Content-Length") == 0) {
        w->content_length++;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        w->transfer_encoding++;
        w->te_value = value;
    } else if (strcasecmp(name, "Connection") == 0) {
        join(&w->connection, value);
    } else if (strcasecmp(name, "X-Forwarded-For") == 0) {
        join(&w->forwarded_for, value);
    } else if (strcasecmp(name, "Via") == 0) {
        w->via_loop |= headers_via_names(value, HEADERS_VIA_NAME);
        join(&w->via, value);
    }
    return MHD_YES;
}

static bool refuse(struct request_refusal *ret, unsigned status, const char *code,
                   const char *message, bool close)
{
    *ret = (struct request_refusal){status, code, message, close};
    return true;
}

bool request_refused_early(const char *method, const char *target, struct request_refusal *ret)
{
    if (!route_target_acceptable(target) || strcmp(method, "CONNECT") == 0)
        return refuse(ret, 400, "bad_target",
                      "only origin-form request targets ('/path?query') are served", true);
    if (!policy_method_is_token(method))
        return refuse(ret, 400, "bad_method", "the method is not an HTTP token", true);
    return false;
}

static bool body_too_large(struct MHD_Connection *conn, uint64_t max_body)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");

    return cl && strtoull(cl, NULL, 10) > max_body;
}

/* The verdict on the head @w describes. */
static bool judge(struct MHD_Connection *conn, const struct head_walk *w, uint64_t max_body,
                  struct request_refusal *ret)
{
    if (w->content_length > 1 || (w->content_length && w->transfer_encoding) || w->invalid)
        /* RFC 9112 6.3: a request smuggling attempt; never forward it. */
        return refuse(ret, 400, "bad_framing",
                      "ambiguous framing: Content-Length with Transfer-Encoding, several "
                      "Content-Length, or an invalid header line",
                      true);
    if (policy_request_coding(w->te_value, w->transfer_encoding) == CODING_UNSUPPORTED)
        return refuse(ret, 501, "unsupported_transfer_coding",
                      "only the chunked transfer coding is supported", true);
    if (w->bytes > HEADERS_BYTES_MAX || w->fields > HEADERS_MAX)
        return refuse(ret, 431, "headers_too_large",
                      "the request head is larger than 8 KiB or has more than 128 headers", true);
    if (w->via_loop)
        return refuse(ret, 508, "loop_detected",
                      "the request already came through mesos-leaderd: the leader ZooKeeper "
                      "names is this daemon itself, or another one",
                      true);
    if (body_too_large(conn, max_body))
        return refuse(ret, 413, "body_too_large",
                      "the request body is larger than the configured max-body", true);
    return false;
}

static void build_headers(struct MHD_Connection *conn, const struct head_walk *w, bool http10,
                          struct strbuf *out);

bool request_check(struct MHD_Connection *conn, const char *method, const char *target,
                   uint64_t max_body, bool http10, struct strbuf *headers,
                   struct request_refusal *ret)
{
    struct head_walk w = {.bytes = strlen(method) + strlen(target) + 12};
    bool refused;

    MHD_get_connection_values(conn, MHD_HEADER_KIND, walk_header, &w);
    refused = judge(conn, &w, max_body, ret);
    if (!refused)
        build_headers(conn, &w, http10, headers);
    strbuf_done(&w.connection);
    strbuf_done(&w.forwarded_for);
    strbuf_done(&w.via);
    return refused;
}

/* --- the headers the master gets ---------------------------------------------- */

struct copy_walk {
    const char *connection;
    struct strbuf *out;
};

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   const char *value)
{
    struct copy_walk *w = cls;

    if (!headers_drop_from_request(name, w->connection))
        headers_append_line(name, value ? value : "", w->out);
    return MHD_YES;
}

static void client_address(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;

    buf[0] = '\0';
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)size);
}

static void add_forwarded_for(struct MHD_Connection *conn, const struct strbuf *prior,
                              struct strbuf *out)
{
    char client[INET6_ADDRSTRLEN];

    client_address(conn, client, sizeof(client));
    if (client[0]) {
        strbuf_puts(out, "X-Forwarded-For: ");
        headers_forwarded_for(prior->data, client, out);
        strbuf_append(out, "\r\n", 2);
    } else if (prior->len) {
        strbuf_puts(out, "X-Forwarded-For: ");
        strbuf_append(out, prior->data, prior->len);
        strbuf_append(out, "\r\n", 2);
    }
}

static void add_via(const struct strbuf *prior, bool http10, struct strbuf *out)
{
    strbuf_puts(out, "Via: ");
    if (prior->len) {
        strbuf_append(out, prior->data, prior->len);
        strbuf_append(out, ", ", 2);
    }
    strbuf_puts(out, http10 ? "1.0 " HEADERS_VIA_NAME "\r\n" : "1.1 " HEADERS_VIA_NAME "\r\n");
}

/* The client's end-to-end headers in order, then X-Forwarded-For and Via
 * with this hop added. */
static void build_headers(struct MHD_Connection *conn, const struct head_walk *w, bool http10,
                          struct strbuf *out)
{
    struct copy_walk c = {.connection = w->connection.data, .out = out};

    MHD_get_connection_values(conn, MHD_HEADER_KIND, copy_header, &c);
    add_forwarded_for(conn, &w->forwarded_for, out);
    add_via(&w->via, http10, out);
}
