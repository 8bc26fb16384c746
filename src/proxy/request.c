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
};

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
    } else if (strcasecmp(name, "Via") == 0 && headers_via_names(value, HEADERS_VIA_NAME)) {
        w->via_loop = true;
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

bool request_refused(struct MHD_Connection *conn, const char *method, const char *target,
                     uint64_t max_body, struct request_refusal *ret)
{
    struct head_walk w = {.bytes = strlen(method) + strlen(target) + 12};

    MHD_get_connection_values(conn, MHD_HEADER_KIND, walk_header, &w);
    if (w.content_length > 1 || (w.content_length && w.transfer_encoding) || w.invalid)
        /* RFC 9112 6.3: a request smuggling attempt; never forward it. */
        return refuse(ret, 400, "bad_framing",
                      "ambiguous framing: Content-Length with Transfer-Encoding, several "
                      "Content-Length, or an invalid header line",
                      true);
    if (policy_request_coding(w.te_value, w.transfer_encoding) == CODING_UNSUPPORTED)
        return refuse(ret, 501, "unsupported_transfer_coding",
                      "only the chunked transfer coding is supported", true);
    if (w.bytes > HEADERS_BYTES_MAX || w.fields > HEADERS_MAX)
        return refuse(ret, 431, "headers_too_large",
                      "the request head is larger than 8 KiB or has more than 128 headers", true);
    if (w.via_loop)
        return refuse(ret, 508, "loop_detected",
                      "the request already came through mesos-leaderd: the leader ZooKeeper "
                      "names is this daemon itself, or another one",
                      true);
    if (body_too_large(conn, max_body))
        return refuse(ret, 413, "body_too_large",
                      "the request body is larger than the configured max-body", true);
    return false;
}

/* --- the headers the master gets ---------------------------------------------- */

/* Values of the headers named @name, comma-joined. */
struct joined {
    const char *name;
    struct strbuf value;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *name,
                                   const char *value)
{
    struct joined *j = cls;

    if (strcasecmp(name, j->name) != 0 || !value || !*value)
        return MHD_YES;
    if (j->value.len)
        strbuf_append(&j->value, ", ", 2);
    strbuf_puts(&j->value, value);
    return MHD_YES;
}

static void join(struct MHD_Connection *conn, const char *name, struct joined *ret)
{
    *ret = (struct joined){.name = name};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, join_header, ret);
}

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

static void add_forwarded_for(struct MHD_Connection *conn, struct strbuf *out)
{
    struct joined prior;
    char client[INET6_ADDRSTRLEN];

    join(conn, "X-Forwarded-For", &prior);
    client_address(conn, client, sizeof(client));
    if (client[0]) {
        strbuf_puts(out, "X-Forwarded-For: ");
        headers_forwarded_for(prior.value.data, client, out);
        strbuf_append(out, "\r\n", 2);
    } else if (prior.value.len) {
        strbuf_printf(out, "X-Forwarded-For: %s\r\n", prior.value.data);
    }
    strbuf_done(&prior.value);
}

static void add_via(struct MHD_Connection *conn, bool http10, struct strbuf *out)
{
    struct joined prior;

    join(conn, "Via", &prior);
    strbuf_puts(out, "Via: ");
    if (prior.value.len) {
        strbuf_append(out, prior.value.data, prior.value.len);
        strbuf_append(out, ", ", 2);
    }
    strbuf_printf(out, "%s %s\r\n", http10 ? "1.0" : "1.1", HEADERS_VIA_NAME);
    strbuf_done(&prior.value);
}

void request_build_headers(struct MHD_Connection *conn, bool http10, struct strbuf *out)
{
    struct joined connection;
    struct copy_walk w = {.out = out};

    join(conn, "Connection", &connection);
    w.connection = connection.value.data;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, copy_header, &w);
    strbuf_done(&connection.value);
    add_forwarded_for(conn, out);
    add_via(conn, http10, out);
}
