/* local.c: answers mesos-leaderd gives itself: its status endpoints under
 * /leaderd/, /redirect, and its own errors (always JSON, never mistaken for
 * a master's). */
#include "config.h"

#include "base/log.h"
#include "base/mem.h"
#include "proxy/internal.h"
#include "proxy/route.h"
#include "zk/report.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Queues @body (taken over) with @status and a content type. */
static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned status, char *body,
                                 size_t len, const char *content_type, struct MHD_Response **ret)
{
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    enum MHD_Result rc;

    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (ret) {
        *ret = r; /* the caller adds headers and queues */
        return MHD_YES;
    }
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result local_error(struct proxy *p, struct MHD_Connection *conn, unsigned status,
                            const char *code, const char *message, unsigned retry_after_s,
                            bool close_connection)
{
    struct strbuf body = {0};
    struct MHD_Response *r;
    enum MHD_Result rc;
    size_t len;

    strbuf_puts(&body, "{\"error\":");
    strbuf_json_string(&body, code);
    strbuf_puts(&body, ",\"message\":");
    strbuf_json_string(&body, message);
    strbuf_puts(&body, ",\"source\":\"mesos-leaderd\"}\n");
    len = body.len;
    if (send_body(conn, status, strbuf_steal(&body), len, "application/json", &r) != MHD_YES)
        return MHD_NO;
    if (retry_after_s > 0) {
        char v[16];
        snprintf(v, sizeof(v), "%u", retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (close_connection)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, struct strbuf *text,
                                 const char *content_type)
{
    size_t len = text->len;

    return send_body(conn, status, strbuf_steal(text), len, content_type, NULL);
}

static enum MHD_Result answer_leader(struct proxy *p, struct MHD_Connection *conn)
{
    struct strbuf out = {0};

    report_status_json(proxy_leader(p), &out);
    strbuf_puts(&out, "\n");
    return send_text(conn, 200, &out, "application/json");
}

static enum MHD_Result answer_health(struct proxy *p, struct MHD_Connection *conn)
{
    const struct leader_snapshot *s = proxy_leader(p);
    struct strbuf out = {0};
    bool ok = s->state == LEADER_KNOWN && s->session == ZK_SESSION_CONNECTED;

    strbuf_printf(&out, "{\"healthy\":%s,\"zookeeper_session\":\"%s\"", ok ? "true" : "false",
                  zk_session_name(s->session));
    if (s->state == LEADER_KNOWN) {
        strbuf_puts(&out, ",\"leader\":");
        strbuf_json_string(&out, s->address);
    }
    if (!ok) {
        strbuf_puts(&out, ",\"reason\":");
        strbuf_json_string(&out, s->session != ZK_SESSION_CONNECTED
                                     ? "the ZooKeeper session is not connected"
                                 : s->reason ? s->reason
                                             : "no leader is known");
    }
    strbuf_puts(&out, "}\n");
    metrics_count_status(&p->metrics, ok ? 200 : 503);
    return send_text(conn, ok ? 200 : 503, &out, "application/json");
}

static enum MHD_Result answer_metrics(struct proxy *p, struct MHD_Connection *conn)
{
    struct strbuf out = {0};

    metrics_render(&p->metrics, proxy_leader(p), &out);
    return send_text(conn, 200, &out, "text/plain; version=0.0.4; charset=utf-8");
}

/* "host:port" of the socket the client reached us on, for /redirect. */
static void own_address(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "";
    const char *h;

    buf[0] = '\0';
    if (!info || getsockname(info->connect_fd, (struct sockaddr *)&ss, &len) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        /* A Unix socket has no address a client could use: the Host header
         * is how this client named us. */
        h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        snprintf(buf, size, "%s", h ? h : "localhost");
    }
}

static enum MHD_Result answer_redirect(struct MHD_Connection *conn)
{
    char addr[300], location[310];
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (!r)
        return MHD_NO;
    own_address(conn, addr, sizeof(addr));
    snprintf(location, sizeof(location), "//%s", addr);
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    rc = MHD_queue_response(conn, 307, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result local_answer(struct proxy *p, struct MHD_Connection *conn, int route,
                             const char *method)
{
    bool read_only = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    struct strbuf text = {0};
    enum MHD_Result rc;

    p->metrics.requests_local++;
    switch ((enum route)route) {
    case ROUTE_REDIRECT:
        metrics_count_status(&p->metrics, 307);
        return answer_redirect(conn);
    case ROUTE_REDIRECT_SUB:
    case ROUTE_LEADERD_UNKNOWN:
        metrics_count_status(&p->metrics, 404);
        return local_error(p, conn, 404, "not_found", "no such endpoint", 0, false);
    default:
        break;
    }
    if (!read_only) {
        struct MHD_Response *r;
        metrics_count_status(&p->metrics, 405);
        strbuf_puts(&text, "{\"error\":\"method_not_allowed\",\"message\":\"use GET\","
                           "\"source\":\"mesos-leaderd\"}\n");
        size_t len = text.len;
        if (send_body(conn, 405, strbuf_steal(&text), len, "application/json", &r) != MHD_YES)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        rc = MHD_queue_response(conn, 405, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (route == ROUTE_LEADERD_LEADER) {
        metrics_count_status(&p->metrics, 200);
        return answer_leader(p, conn);
    }
    if (route == ROUTE_LEADERD_METRICS) {
        metrics_count_status(&p->metrics, 200);
        return answer_metrics(p, conn);
    }
    return answer_health(p, conn);
}
