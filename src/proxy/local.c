/* local.c: the daemon's own answers (see local.h). */
#include "config.h"

#include "proxy/local.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "proxy/route.h"
#include "zk/report.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef enum MHD_Result (*local_fn)(struct MHD_Connection *conn, const struct local_context *ctx);

struct local_endpoint {
    const char *path; /* canonical (route.h) */
    bool alias;       /* also under /master, as the masters' own endpoints */
    bool below;       /* also every path below it */
    bool read_only;   /* GET and HEAD only (405 else) */
    local_fn answer;
};

/* Queues @body (taken over) with @status and a content type; with @ret,
 * returns the response for the caller to add headers and queue. */
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
        *ret = r;
        return MHD_YES;
    }
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

enum MHD_Result local_send_json(struct MHD_Connection *conn, unsigned status, struct strbuf *text)
{
    size_t len = text->len;

    return send_body(conn, status, strbuf_steal(text), len, "application/json", NULL);
}

enum MHD_Result local_error(struct MHD_Connection *conn, unsigned status, const char *code,
                            const char *message, unsigned retry_after_s, bool close_connection)
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

/* --- the endpoints ---------------------------------------------------------- */

static enum MHD_Result answer_leader(struct MHD_Connection *conn, const struct local_context *ctx)
{
    struct strbuf out = {0};

    strbuf_puts(&out, ctx->leader_document);
    strbuf_puts(&out, "\n");
    metrics_count_status(ctx->metrics, 200);
    return local_send_json(conn, 200, &out);
}

static enum MHD_Result answer_health(struct MHD_Connection *conn, const struct local_context *ctx)
{
    const struct leader_snapshot *s = ctx->leader;
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
        bool connected = s->session == ZK_SESSION_CONNECTED;
        strbuf_json_string(&out, s->reason   ? s->reason
                                 : connected ? "no leader is known"
                                             : "the ZooKeeper session is not connected");
    }
    if (s->zk_error) {
        strbuf_puts(&out, ",\"zookeeper_error\":");
        strbuf_json_string(&out, s->zk_error);
    }
    strbuf_puts(&out, "}\n");
    metrics_count_status(ctx->metrics, ok ? 200 : 503);
    return local_send_json(conn, ok ? 200 : 503, &out);
}

static enum MHD_Result answer_metrics(struct MHD_Connection *conn, const struct local_context *ctx)
{
    struct strbuf out = {0};
    size_t len;

    metrics_count_status(ctx->metrics, 200);
    metrics_render(ctx->metrics, ctx->gauges, ctx->leader, ctx->cluster, &out);
    len = out.len;
    return send_body(conn, 200, strbuf_steal(&out), len, "text/plain; version=0.0.4; charset=utf-8",
                     NULL);
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

/* /redirect: 307 to the daemon itself, as a leading master answers. */
static enum MHD_Result answer_redirect(struct MHD_Connection *conn, const struct local_context *ctx)
{
    char addr[300], location[310];
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (!r)
        return MHD_NO;
    own_address(conn, addr, sizeof(addr));
    snprintf(location, sizeof(location), "//%s", addr);
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    metrics_count_status(ctx->metrics, 307);
    rc = MHD_queue_response(conn, 307, r);
    MHD_destroy_response(r);
    return rc;
}

/* /redirect/...: 404, as Mesos answers (a guard against redirect loops). */
static enum MHD_Result answer_not_found(struct MHD_Connection *conn,
                                        const struct local_context *ctx)
{
    metrics_count_status(ctx->metrics, 404);
    return local_error(conn, 404, "not_found", "no such endpoint", 0, false);
}

/* Longest match first: an exact path before the prefix that holds it. */
static const struct local_endpoint endpoints[] = {
    {"/redirect", true, false, false, answer_redirect},
    {"/redirect", true, true, false, answer_not_found},
    {ROUTE_LEADERD_PREFIX "/v1/leader", false, false, true, answer_leader},
    {ROUTE_LEADERD_PREFIX "/health", false, false, true, answer_health},
    {ROUTE_LEADERD_PREFIX "/metrics", false, false, true, answer_metrics},
    {ROUTE_LEADERD_PREFIX, false, true, false, answer_not_found},
};

static bool matches(const struct local_endpoint *e, const char *path)
{
    size_t n = strlen(e->path);

    if (e->alias && strncmp(path, "/master/", 8) == 0)
        path += 7;
    if (strncmp(path, e->path, n) != 0)
        return false;
    return e->below ? path[n] == '/' || path[n] == '\0' : path[n] == '\0';
}

bool local_watchable(const struct local_endpoint *e)
{
    return e->answer == answer_leader;
}

const struct local_endpoint *local_find(const char *path)
{
    char canonical[256];

    if (route_canonical(path, canonical, sizeof(canonical)) < 0)
        return NULL;
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        if (matches(&endpoints[i], canonical))
            return &endpoints[i];
    }
    return NULL;
}

enum MHD_Result local_answer(const struct local_endpoint *e, struct MHD_Connection *conn,
                             const char *method, const struct local_context *ctx)
{
    bool read_only = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    struct MHD_Response *r;
    struct strbuf text = {0};
    enum MHD_Result rc;
    size_t len;

    ctx->metrics->requests_local++;
    if (!e->read_only || read_only)
        return e->answer(conn, ctx);
    metrics_count_status(ctx->metrics, 405);
    strbuf_puts(&text, "{\"error\":\"method_not_allowed\",\"message\":\"use GET\","
                       "\"source\":\"mesos-leaderd\"}\n");
    len = text.len;
    if (send_body(conn, 405, strbuf_steal(&text), len, "application/json", &r) != MHD_YES)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    rc = MHD_queue_response(conn, 405, r);
    MHD_destroy_response(r);
    return rc;
}
