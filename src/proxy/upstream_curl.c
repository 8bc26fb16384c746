/* upstream_curl.c: the libcurl engine of upstream.h, for HTTPS and for
 * masters known by a host name: one multi handle whose sockets and timer
 * live in the event loop, and a pool of easy handles. */
#include "config.h"

#include "proxy/upstream_engine.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#define POOL_MAX 256

/* One socket libcurl asked us to watch. */
struct curl_socket {
    struct loop_io io;
    struct upstream *u;
};

struct curl_engine {
    struct upstream *u;
    CURLM *multi;
    struct loop_timer timer;
    CURL *pool[POOL_MAX];
    unsigned pool_len;
};

static struct log_ratelimit curl_limit = LOG_RATELIMIT_INIT(60000, 5);

/* --- results ------------------------------------------------------------- */

static enum upstream_result result_of(CURLcode rc, bool answered)
{
    switch (rc) {
    case CURLE_OK:
        return UPSTREAM_OK;
    case CURLE_COULDNT_CONNECT:
        return UPSTREAM_REFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return UPSTREAM_UNRESOLVED;
    case CURLE_OPERATION_TIMEDOUT:
        return UPSTREAM_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return UPSTREAM_TLS;
    case CURLE_GOT_NOTHING:
        return UPSTREAM_DROPPED;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return answered ? UPSTREAM_BROKEN : UPSTREAM_DROPPED;
    case CURLE_PARTIAL_FILE:
        return UPSTREAM_BROKEN;
    default:
        return UPSTREAM_PROTOCOL;
    }
}

static void release_handle(struct upstream *u, struct upstream_transfer *t)
{
    struct curl_engine *c = u->curl;

    curl_multi_remove_handle(c->multi, t->easy);
    if (c->pool_len < POOL_MAX && t->config_gen == u->config_gen)
        c->pool[c->pool_len++] = t->easy;
    else
        curl_easy_cleanup(t->easy);
    t->easy = NULL;
    curl_slist_free_all(t->curl_headers);
    t->curl_headers = NULL;
}

void curl_engine_collect(struct upstream *u)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(u->curl->multi, &left))) {
        struct upstream_transfer *t = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        release_handle(u, t);
        upstream_finished(u, t, result_of(rc, t->answered),
                          rc == CURLE_OK ? "" : curl_easy_strerror(rc), false);
    }
}

/* --- loop glue ----------------------------------------------------------- */

static void socket_action(struct upstream *u, curl_socket_t fd, int mask)
{
    int still;
    CURLMcode rc = curl_multi_socket_action(u->curl->multi, fd, mask, &still);

    if (rc != CURLM_OK)
        log_ratelimited(&curl_limit, LOG_WARNING, "libcurl: %s", curl_multi_strerror(rc));
    curl_engine_collect(u);
}

static void on_socket_event(struct loop_io *io, uint32_t events)
{
    struct curl_socket *s = io->data;
    int mask = 0;

    if (events & EPOLLIN)
        mask |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        mask |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        mask |= CURL_CSELECT_ERR;
    socket_action(s->u, io->fd, mask);
}

static uint32_t epoll_events_for(int what)
{
    uint32_t ev = 0;

    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= EPOLLOUT;
    return ev;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct upstream *u = userp;
    struct curl_socket *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            loop_io_remove(u->loop, &s->io);
            curl_multi_assign(u->curl->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = xnew(struct curl_socket);
        s->u = u;
        if (loop_io_add(u->loop, &s->io, fd, epoll_events_for(what), on_socket_event, s) < 0) {
            log_warning("cannot watch an upstream socket: %m");
            free(s);
            return -1;
        }
        curl_multi_assign(u->curl->multi, fd, s);
        return 0;
    }
    loop_io_modify(u->loop, &s->io, epoll_events_for(what));
    return 0;
}

static void on_timer(struct loop_timer *timer)
{
    socket_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct upstream *u = userp;

    if (timeout_ms < 0)
        loop_timer_cancel(u->loop, &u->curl->timer);
    else
        loop_timer_arm_ms(u->loop, &u->curl->timer, (uint64_t)timeout_ms);
    return 0;
}

/* --- one call ------------------------------------------------------------ */

static size_t on_header(char *line, size_t size, size_t n, void *data)
{
    struct upstream_transfer *t = data;
    size_t len = size * n;

    t->answered = true;
    return t->cb->header_line(t->owner, line, len) ? len : 0;
}

static size_t on_write(char *bytes, size_t size, size_t n, void *data)
{
    struct upstream_transfer *t = data;
    size_t len = size * n, took = t->cb->body(t->owner, bytes, len);

    if (took == UPSTREAM_PAUSE)
        return CURL_WRITEFUNC_PAUSE;
    return took == len ? len : 0;
}

static void set_common_options(struct upstream *u, CURL *easy)
{
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never an environment proxy */
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L); /* never decode gzip */
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, u->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    if (u->https) {
        if (u->ca_file)
            curl_easy_setopt(easy, CURLOPT_CAINFO, u->ca_file);
        if (u->cert_file)
            curl_easy_setopt(easy, CURLOPT_SSLCERT, u->cert_file);
        if (u->key_file)
            curl_easy_setopt(easy, CURLOPT_SSLKEY, u->key_file);
    }
}

/* A pooled handle keeps the options every call shares; the rest is set
 * (and so overwritten) for each call. */
static CURL *take_handle(struct upstream *u)
{
    struct curl_engine *c = u->curl;
    CURL *easy;

    if (c->pool_len)
        return c->pool[--c->pool_len];
    easy = curl_easy_init();
    if (!easy) {
        log_error("cannot create a libcurl easy handle");
        abort();
    }
    set_common_options(u, easy);
    return easy;
}

/* The header lines as libcurl takes them, with its own defaults turned off
 * where the client's request had no such header. */
static struct curl_slist *header_list(const struct upstream_request *req)
{
    struct curl_slist *list = NULL;
    const char *p = req->headers, *end = req->headers + req->headers_len;
    bool has_content_type = false, has_accept = false;
    struct strbuf line = {0};

    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        strbuf_reset(&line);
        strbuf_append(&line, p, len);
        if (len > 0 && line.data[len - 1] == ':')
            line.data[len - 1] = ';'; /* libcurl's way to send an empty header */
        has_content_type |= strncasecmp(p, "Content-Type:", 13) == 0;
        has_accept |= strncasecmp(p, "Accept:", 7) == 0;
        list = curl_slist_append(list, line.data);
        p = eol ? eol + 1 : end;
    }
    strbuf_done(&line);
    if (!has_content_type)
        list = curl_slist_append(list, "Content-Type:");
    if (!has_accept)
        list = curl_slist_append(list, "Accept:");
    return curl_slist_append(list, "Expect:");
}

static void set_method_and_body(CURL *easy, const struct upstream_request *req)
{
    /* A pooled handle remembers the previous method: start from GET. */
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(req->method, "GET") == 0 && !req->has_body)
        return;
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->has_body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    }
}

int curl_engine_start(struct upstream *u, struct upstream_transfer *t,
                      const struct upstream_request *req)
{
    CURL *easy = take_handle(u);
    char url[320];
    CURLMcode rc;

    snprintf(url, sizeof(url), "%s://%s/", u->https ? "https" : "http", req->address);
    t->easy = easy;
    t->config_gen = u->config_gen;
    t->curl_headers = header_list(req);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_REQUEST_TARGET, req->target);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->curl_headers);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, req->stream ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, req->stream ? 1L : 0L);
    /* A stream lives long and carries small records: a small buffer. */
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, req->stream ? 4096L : 65536L);
    set_method_and_body(easy, req);
    rc = curl_multi_add_handle(u->curl->multi, easy);
    if (rc != CURLM_OK) {
        log_warning("cannot start an upstream call: %s", curl_multi_strerror(rc));
        release_handle(u, t);
        return -EIO;
    }
    return 0;
}

void curl_engine_abort(struct upstream *u, struct upstream_transfer *t)
{
    /* Removing a handle mid-transfer makes libcurl close its connection. */
    if (t->easy)
        release_handle(u, t);
}

void curl_engine_unpause(struct upstream *u, struct upstream_transfer *t)
{
    if (t->easy)
        curl_easy_pause(t->easy, CURLPAUSE_CONT);
}

/* --- the engine ---------------------------------------------------------- */

void curl_engine_flush_pool(struct curl_engine *c)
{
    while (c->pool_len)
        curl_easy_cleanup(c->pool[--c->pool_len]);
}

struct curl_engine *curl_engine_new(struct upstream *u)
{
    struct curl_engine *c = xnew(struct curl_engine);

    c->multi = curl_multi_init();
    if (!c->multi) {
        log_error("cannot create a libcurl multi handle");
        free(c);
        return NULL;
    }
    c->u = u;
    loop_timer_init(&c->timer, on_timer, u);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, u);
    /* Plenty of idle keep-alive connections to the leader for short calls. */
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 256L);
    return c;
}

void curl_engine_free(struct curl_engine *c)
{
    if (!c)
        return;
    curl_engine_flush_pool(c);
    loop_timer_cancel(c->u->loop, &c->timer);
    curl_multi_cleanup(c->multi); /* closes the sockets through on_curl_socket */
    free(c);
}
