/* standin_http.c: the stand-in master's HTTP server and its routing.
 *
 * libmicrohttpd runs one thread per connection, so a handler may block (the
 * hang and delay faults, event streams). Each request keeps its raw target
 * (from MHD's URI log callback, before any decoding) and its body, capped at
 * ST_MAX_BODY (413 above it).
 *
 * Routing copies libprocess: the first path segment names a process. "master"
 * is the master itself; "metrics" (/metrics/snapshot) and "version" (/version)
 * are their own processes; anything else is delegated to the master, so /X and
 * /master/X are the same master endpoint. Within a process the longest prefix
 * of the path with a route wins (/master/state/x is /master/state), and a
 * trailing '/' is ignored. Authentication (--require-auth) runs before the
 * handler, the leader check first thing in a leader-only handler, then the
 * recovery check for the v1 APIs, then the method and Content-Type checks.
 * Answers copy libprocess's bodies ("405 Method Not Allowed. ...") and its
 * text/plain; charset=utf-8 Content-Type for text bodies; bodies of 1024 bytes
 * or more are gzipped when the request accepts gzip. */
#include "config.h"

#include "standin.h"

#include "base/log.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define GZIP_MIN       1024
#define JSON_MAX_DEPTH 64

static struct MHD_Daemon *daemon_handle;
static char *tls_cert, *tls_key; /* MHD keeps pointers to them */

enum realm { REALM_NONE, REALM_SCHEDULER, REALM_READWRITE, REALM_READONLY };

static const char *const realm_names[] = {
    [REALM_NONE] = NULL,
    [REALM_SCHEDULER] = "mesos-master-scheduler",
    [REALM_READWRITE] = "mesos-master-readwrite",
    [REALM_READONLY] = "mesos-master-readonly",
};

/* Where a request goes: the master path ("/master/..." form) for Location. */
struct target {
    char *master_path; /* NULL unless the master handles it */
    const char *name;  /* the matched route name */
};

typedef enum MHD_Result (*handler_fn)(struct st_request *rq, const struct target *t);

struct route {
    const char *name;
    enum realm realm;
    bool leader_only;
    handler_fn fn;
};

/* ---------------------------------------------------------------------------
 * Replies
 * ------------------------------------------------------------------------- */

const char *st_header(const struct st_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result queue(struct st_request *rq, unsigned code, struct MHD_Response *resp)
{
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    ret = MHD_queue_response(rq->conn, code, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result st_reply(struct st_request *rq, unsigned code, const char *content_type,
                         const char *body, size_t len)
{
    struct strbuf gz = {0};
    struct MHD_Response *resp;
    bool gzip = !rq->control && body && len >= GZIP_MIN &&
                st_accepts_encoding(st_header(rq, "Accept-Encoding"), "gzip");

    if (gzip) {
        st_gzip_stored(&gz, body, len);
        body = gz.data;
        len = gz.len;
    }
    resp = MHD_create_response_from_buffer(len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
    strbuf_done(&gz);
    if (resp && content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (resp && gzip)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    return queue(rq, code, resp);
}

enum MHD_Result st_reply_text(struct st_request *rq, unsigned code, const char *text)
{
    return st_reply(rq, code, "text/plain; charset=utf-8", text, strlen(text));
}

enum MHD_Result st_reply_json(struct st_request *rq, unsigned code, const char *json)
{
    return st_reply(rq, code, "application/json", json, strlen(json));
}

static enum MHD_Result reply_empty(struct st_request *rq, unsigned code)
{
    return st_reply(rq, code, NULL, NULL, 0);
}

enum MHD_Result st_reply_post_only(struct st_request *rq)
{
    char *body = xasprintf("405 Method Not Allowed. Expecting one of { 'POST' }, but received "
                           "'%s'.",
                           rq->method);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);

    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    return queue(rq, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}

enum MHD_Result st_reply_stream(struct st_request *rq, struct st_stream *s, const char *stream_id)
{
    struct MHD_Response *resp = st_stream_response(s);

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (stream_id)
        MHD_add_response_header(resp, "Mesos-Stream-Id", stream_id);
    return queue(rq, MHD_HTTP_OK, resp);
}

static enum MHD_Result reply_location(struct st_request *rq, const char *location)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    return queue(rq, MHD_HTTP_TEMPORARY_REDIRECT, resp);
}

static enum MHD_Result reply_not_found(struct st_request *rq)
{
    return st_reply_text(rq, MHD_HTTP_NOT_FOUND, "404 Not Found.");
}

/* ---------------------------------------------------------------------------
 * Leadership and redirects (Master::Http::redirect)
 * ------------------------------------------------------------------------- */

static enum MHD_Result redirect(struct st_request *rq, const struct target *t)
{
    struct st_leader l;
    struct strbuf loc = {0};
    enum MHD_Result ret;

    st_effective_leader(&l);
    if (!l.known)
        return st_reply_text(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "No leader elected");
    strbuf_printf(&loc, "//%s:%u", l.host, l.port);
    if (strcmp(t->master_path, "/master/redirect") == 0) {
        /* the base URL only, even when we lead: no loops */
    } else if (strncmp(t->master_path, "/master/redirect/", 17) == 0) {
        strbuf_done(&loc);
        return reply_not_found(rq);
    } else {
        strbuf_puts(&loc, t->master_path);
        if (rq->query && *rq->query)
            strbuf_printf(&loc, "?%s", rq->query);
    }
    ret = reply_location(rq, loc.data);
    strbuf_done(&loc);
    return ret;
}

static bool elected(void)
{
    struct st_leader l;

    st_effective_leader(&l);
    return l.elected;
}

/* ---------------------------------------------------------------------------
 * The v1 APIs: the checks both share, in Mesos's order.
 * ------------------------------------------------------------------------- */

/* Parses the body as one JSON value (trailing blanks allowed). */
static struct json_object *parse_json(const struct st_request *rq, char **ret_error)
{
    struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    const char *text = rq->body.data ? rq->body.data : "";
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)rq->body.len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);

    if (!obj && jerr == json_tokener_continue)
        jerr = json_tokener_error_parse_eof;
    for (; obj && end < rq->body.len; end++) {
        if (!strchr(" \t\r\n", text[end])) {
            json_object_put(obj);
            obj = NULL;
            *ret_error = xasprintf("syntax error at line 1 near: %.32s", text + end);
            break;
        }
    }
    if (!obj && !*ret_error)
        *ret_error = xstrdup(json_tokener_error_desc(jerr));
    json_tokener_free(tok);
    return obj;
}

static enum MHD_Result api(struct st_request *rq, bool scheduler)
{
    const char *ctype;
    struct json_object *call;
    char *error = NULL, *msg;
    enum MHD_Result ret;

    if (st_faults_recovering())
        return st_reply_text(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "Master has not finished recovery");
    if (strcmp(rq->method, "POST") != 0)
        return st_reply_post_only(rq);
    ctype = st_header(rq, "Content-Type");
    if (!ctype)
        return st_reply_text(rq, MHD_HTTP_BAD_REQUEST, "Expecting 'Content-Type' to be present");
    if (strcmp(ctype, "application/x-protobuf") == 0)
        return st_reply_text(rq, MHD_HTTP_BAD_REQUEST, "stand-in speaks JSON only");
    if (strcmp(ctype, "application/json") != 0)
        return st_reply_text(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             "Expecting 'Content-Type' of application/json or "
                             "application/x-protobuf");
    call = parse_json(rq, &error);
    if (!call) {
        msg = xasprintf("Failed to parse body into JSON: %s", error);
        ret = st_reply_text(rq, MHD_HTTP_BAD_REQUEST, msg);
        free(msg);
        free(error);
        return ret;
    }
    if (!json_object_is_type(call, json_type_object))
        ret = st_reply_text(rq, MHD_HTTP_BAD_REQUEST,
                            "Failed to convert JSON into Call protobuf: Expecting a JSON object");
    else
        ret = scheduler ? st_sched_call(rq, call) : st_operator_call(rq, call);
    json_object_put(call);
    return ret;
}

static enum MHD_Result h_scheduler(struct st_request *rq, const struct target *t)
{
    if (!elected())
        return redirect(rq, t);
    return api(rq, true);
}

static enum MHD_Result h_operator(struct st_request *rq, const struct target *t)
{
    if (!elected())
        return redirect(rq, t);
    return api(rq, false);
}

/* ---------------------------------------------------------------------------
 * Other master endpoints
 * ------------------------------------------------------------------------- */

static enum MHD_Result h_redirect(struct st_request *rq, const struct target *t)
{
    return redirect(rq, t);
}

static enum MHD_Result h_health(struct st_request *rq, const struct target *t)
{
    (void)t;
    return reply_empty(rq, MHD_HTTP_OK);
}

static enum MHD_Result h_flags(struct st_request *rq, const struct target *t)
{
    (void)t;
    return st_reply_json(rq, MHD_HTTP_OK, st_flags_json());
}

static enum MHD_Result h_state(struct st_request *rq, const struct target *t)
{
    if (!elected())
        return redirect(rq, t);
    return st_reply_json(rq, MHD_HTTP_OK, st_state_json());
}

/* Leader-only read endpoints with fixed, empty answers. */
static enum MHD_Result h_fixed(struct st_request *rq, const struct target *t)
{
    static const struct {
        const char *name;
        const char *body;
    } bodies[] = {
        {"frameworks", "{\"frameworks\":[],\"completed_frameworks\":[],"
                       "\"unregistered_frameworks\":[]}"},
        {"slaves", "{\"slaves\":[],\"recovered_slaves\":[]}"},
        {"tasks", "{\"tasks\":[]}"},
        {"roles", "{\"roles\":[]}"},
        {"maintenance/status", "{\"draining_machines\":[],\"down_machines\":[]}"},
        {"maintenance/schedule", "{}"},
        {"weights", "[]"},
        {"quota", "{}"},
    };

    if (!elected())
        return redirect(rq, t);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        if (strcmp(t->name, bodies[i].name) != 0)
            continue;
        if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
            return reply_empty(rq, MHD_HTTP_OK); /* an update: accepted as is */
        return st_reply_json(rq, MHD_HTTP_OK, bodies[i].body);
    }
    return reply_not_found(rq);
}

static enum MHD_Result h_state_summary(struct st_request *rq, const struct target *t)
{
    struct strbuf sb = {0};
    enum MHD_Result ret;

    if (!elected())
        return redirect(rq, t);
    strbuf_puts(&sb, "{\"hostname\":");
    strbuf_json_string(&sb, st_cfg()->hostname);
    strbuf_puts(&sb, ",\"slaves\":[],\"frameworks\":[]}");
    ret = st_reply_json(rq, MHD_HTTP_OK, sb.data);
    strbuf_done(&sb);
    return ret;
}

/* Leader-only POST endpoints (teardown, reserve, volumes, machines). */
static enum MHD_Result h_post(struct st_request *rq, const struct target *t)
{
    bool async = strstr(t->name, "reserve") || strstr(t->name, "volumes");

    if (!elected())
        return redirect(rq, t);
    if (strcmp(rq->method, "POST") != 0)
        return st_reply_post_only(rq);
    return reply_empty(rq, async ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK);
}

static enum MHD_Result h_metrics(struct st_request *rq, const struct target *t)
{
    struct strbuf sb = {0};
    enum MHD_Result ret;

    (void)t;
    st_metrics_json(&sb);
    ret = st_reply_json(rq, MHD_HTTP_OK, sb.data);
    strbuf_done(&sb);
    return ret;
}

static enum MHD_Result h_version(struct st_request *rq, const struct target *t)
{
    struct strbuf sb = {0};
    enum MHD_Result ret;

    (void)t;
    st_version_json(&sb);
    ret = st_reply_json(rq, MHD_HTTP_OK, sb.data);
    strbuf_done(&sb);
    return ret;
}

/* Master routes and realms, from Master::initialize(). */
static const struct route master_routes[] = {
    {"api/v1", REALM_READWRITE, true, h_operator},
    {"api/v1/scheduler", REALM_SCHEDULER, true, h_scheduler},
    {"create-volumes", REALM_READWRITE, true, h_post},
    {"destroy-volumes", REALM_READWRITE, true, h_post},
    {"frameworks", REALM_READONLY, true, h_fixed},
    {"flags", REALM_READONLY, false, h_flags},
    {"health", REALM_NONE, false, h_health},
    {"redirect", REALM_NONE, false, h_redirect},
    {"reserve", REALM_READWRITE, true, h_post},
    {"roles", REALM_READONLY, true, h_fixed},
    {"teardown", REALM_READWRITE, true, h_post},
    {"slaves", REALM_READONLY, true, h_fixed},
    {"state", REALM_READONLY, true, h_state},
    {"state-summary", REALM_READONLY, true, h_state_summary},
    {"tasks", REALM_READONLY, true, h_fixed},
    {"maintenance/schedule", REALM_READWRITE, true, h_fixed},
    {"maintenance/status", REALM_READONLY, true, h_fixed},
    {"machine/down", REALM_READWRITE, true, h_post},
    {"machine/up", REALM_READWRITE, true, h_post},
    {"unreserve", REALM_READWRITE, true, h_post},
    {"weights", REALM_READWRITE, true, h_fixed},
    {"quota", REALM_READWRITE, true, h_fixed},
    {NULL, REALM_NONE, false, NULL},
};

static const struct route metrics_routes[] = {
    {"snapshot", REALM_READONLY, false, h_metrics},
    {NULL, REALM_NONE, false, NULL},
};

static const struct route version_routes[] = {
    {"", REALM_NONE, false, h_version},
    {NULL, REALM_NONE, false, NULL},
};

/* ---------------------------------------------------------------------------
 * Routing
 * ------------------------------------------------------------------------- */

/* Longest-prefix match of @name (no leading or trailing '/') in @routes. */
static const struct route *match(const struct route *routes, char *name)
{
    for (;;) {
        for (const struct route *r = routes; r->name; r++)
            if (strcmp(r->name, name) == 0)
                return r;
        char *slash = strrchr(name, '/');
        if (slash)
            *slash = '\0';
        else if (*name)
            *name = '\0';
        else
            return NULL;
    }
}

/* Basic authentication as libprocess's basic authenticator does it. */
static bool authenticated(const struct st_request *rq)
{
    const char *want = st_cfg()->require_auth;
    const char *h = st_header(rq, "Authorization");
    struct strbuf plain = {0};
    bool ok;

    if (!want)
        return true;
    if (!h || strncmp(h, "Basic ", 6) != 0)
        return false;
    ok = st_base64_decode(h + 6, strlen(h + 6), &plain) == 0 && plain.len == strlen(want) &&
         memcmp(plain.data, want, plain.len) == 0;
    strbuf_done(&plain);
    return ok;
}

static enum MHD_Result reply_unauthorized(struct st_request *rq, enum realm realm)
{
    static const char body[] = "401 Unauthorized.";
    char *challenge = xasprintf("Basic realm=\"%s\"", realm_names[realm]);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);

    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge);
    }
    free(challenge);
    return queue(rq, MHD_HTTP_UNAUTHORIZED, resp);
}

/* Splits the path into a process and the rest, as libprocess delegates. */
static const struct route *route_of(const char *path, struct target *t, char **ret_name)
{
    const char *rest = path;
    const struct route *routes = master_routes;
    size_t len = strcspn(path + 1, "/");

    if (path[0] != '/')
        return NULL;
    if (len == 6 && strncmp(path + 1, "master", 6) == 0) {
        rest = path + 7;
    } else if (len == 7 && strncmp(path + 1, "metrics", 7) == 0) {
        rest = path + 8;
        routes = metrics_routes;
    } else if (len == 7 && strncmp(path + 1, "version", 7) == 0) {
        rest = path + 8;
        routes = version_routes;
    }
    if (routes == master_routes)
        t->master_path = xasprintf("/master%s", rest);
    while (*rest == '/')
        rest++;
    *ret_name = xstrdup(rest);
    for (size_t n = strlen(*ret_name); n > 0 && (*ret_name)[n - 1] == '/'; n--)
        (*ret_name)[n - 1] = '\0';
    return match(routes, *ret_name);
}

static enum MHD_Result dispatch(struct st_request *rq)
{
    struct target t = {0};
    char *name = NULL;
    const struct route *r = route_of(rq->path, &t, &name);
    enum MHD_Result ret;

    if (!r) {
        ret = reply_not_found(rq);
    } else if (r->realm != REALM_NONE && !authenticated(rq)) {
        ret = reply_unauthorized(rq, r->realm);
    } else {
        t.name = r->name;
        if (!t.master_path)
            t.master_path = xstrdup(rq->path);
        ret = r->fn(rq, &t);
    }
    free(t.master_path);
    free(name);
    return ret;
}

/* ---------------------------------------------------------------------------
 * MHD callbacks
 * ------------------------------------------------------------------------- */

static struct st_request *request_new(const char *uri)
{
    struct st_request *rq = xnew(struct st_request);
    const char *q = strchr(uri, '?');

    rq->target = xstrdup(uri);
    rq->path = xstrndup(uri, q ? (size_t)(q - uri) : strlen(uri));
    rq->query = q ? rq->target + (q - uri) + 1 : NULL;
    rq->control = strncmp(rq->path, "/__standin/", 11) == 0;
    return rq;
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    return request_new(uri ? uri : "");
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct st_request *rq = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (!rq)
        return;
    strbuf_done(&rq->body);
    free(rq->path);
    free(rq->target);
    free(rq);
    *con_cls = NULL;
}

/* Answers with the raw answer for the request's path, if one is installed
 * (for this moment: before or after the body): records the request, writes
 * the bytes to the socket and ends the connection (MHD_NO makes
 * libmicrohttpd close it without writing anything itself). */
static bool raw_answered(struct st_request *rq, bool before_body)
{
    struct st_raw_answer a;
    const union MHD_ConnectionInfo *ci;
    int rc;

    if (rq->control || !st_raw_find(rq->path, before_body, &a))
        return false;
    st_control_record(rq);
    ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    rc = ci ? st_raw_play(ci->connect_fd, &a, st_shutting_down) : -EBADF;
    log_debug("%s %s: raw answer of %zu bytes%s%s", rq->method, rq->target, a.bytes.len,
              before_body ? " before the body" : "", rc < 0 ? " (not all written)" : "");
    st_raw_answer_done(&a);
    return true;
}

static enum MHD_Result finish(struct st_request *rq)
{
    struct st_faults f;
    enum MHD_Result ret;

    if (rq->control)
        return st_control_handle(rq);
    if (raw_answered(rq, false))
        return MHD_NO;
    st_control_record(rq);
    log_debug("%s %s", rq->method, rq->target);
    if (rq->too_large)
        return st_reply_text(rq, MHD_HTTP_CONTENT_TOO_LARGE, "Request body is too large");
    if (!st_faults_wait_unhung())
        return MHD_NO;
    st_faults_get(&f);
    if (f.delay_ms && !st_sleep_ms(f.delay_ms)) {
        st_faults_done(&f);
        return MHD_NO;
    }
    if (f.override_code)
        ret = f.override_body && *f.override_body
                  ? st_reply_text(rq, f.override_code, f.override_body)
                  : reply_empty(rq, f.override_code);
    else
        ret = dispatch(rq);
    st_faults_done(&f);
    return ret;
}

/* Content-Length above the cap: answer 413 before reading the body. */
static bool declared_too_large(const struct st_request *rq)
{
    const char *cl = st_header(rq, "Content-Length");
    char *end;
    unsigned long long v;

    if (!cl)
        return false;
    errno = 0;
    v = strtoull(cl, &end, 10);
    return !errno && *end == '\0' && v > ST_MAX_BODY;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct st_request *rq = *con_cls;

    (void)cls;
    if (!rq)
        rq = *con_cls = request_new(url);
    if (!rq->started) {
        rq->started = true;
        rq->conn = conn;
        rq->method = method;
        rq->version = version;
        if (raw_answered(rq, true))
            return MHD_NO;
        if (!declared_too_large(rq))
            return MHD_YES;
        rq->too_large = true;
        return finish(rq);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (!rq->too_large && rq->body.len + n > ST_MAX_BODY)
            rq->too_large = true; /* keep reading and dropping: answer 413 at the end */
        if (!rq->too_large)
            strbuf_append(&rq->body, upload_data, n);
        rq->body_len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return finish(rq);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    log_msgv(LOG_DEBUG, fmt, ap);
}

/* ---------------------------------------------------------------------------
 * Start and stop
 * ------------------------------------------------------------------------- */

static int load_tls(char **ret_cert, char **ret_key, struct errbuf *err)
{
    const struct st_config *cfg = st_cfg();
    size_t len;

    if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
        return errbuf_set(err, -ENOTSUP, "this libmicrohttpd has no TLS support");
    if (st_read_file(cfg->tls_cert, 1024 * 1024, ret_cert, &len, err) < 0)
        return -EINVAL;
    if (st_read_file(cfg->tls_key, 1024 * 1024, ret_key, &len, err) < 0) {
        freep(ret_cert);
        return -EINVAL;
    }
    return 0;
}

int st_http_start(unsigned *ret_port, struct errbuf *err)
{
    const struct st_config *cfg = st_cfg();
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
    const union MHD_DaemonInfo *info;

    if (inet_pton(AF_INET, cfg->ip, &sin.sin_addr) != 1)
        return errbuf_set(err, -EINVAL, "--ip '%s' is not an IPv4 address", cfg->ip);
    if (cfg->tls_cert) {
        if (load_tls(&tls_cert, &tls_key, err) < 0)
            return -EINVAL;
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key};
        flags |= MHD_USE_TLS;
    }
    daemon_handle = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_CONNECTION_LIMIT,
        4000u, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024), MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, NULL, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!daemon_handle)
        return errbuf_set(err, -EADDRINUSE, "cannot serve HTTP on %s:%u", cfg->ip, cfg->port);
    info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    *ret_port = info && info->port ? info->port : cfg->port;
    return 0;
}

void st_http_stop(void)
{
    if (daemon_handle) {
        MHD_stop_daemon(daemon_handle);
        daemon_handle = NULL;
    }
    freep(&tls_cert);
    freep(&tls_key);
}
