/* upstream_curl.c: the libcurl engine (upstream_engine.h), for HTTPS and for
 * masters known by a host name: one multi handle whose sockets and timer
 * live in the event loop, and a pool of easy handles.
 *
 * libcurl sends a call again on a fresh connection when a reused one closes
 * before any answer byte, whatever the method. For a call that must not go
 * twice, the body is handed over through a read callback whose rewind
 * always fails, so libcurl cannot send it again once any of it was sent
 * (CURLE_SEND_FAIL_REWIND: the call may have reached the master); such a
 * call without a body gets a fresh connection, which libcurl never retries.
 *
 * libcurl forbids adding or removing a handle from inside its own
 * callbacks: a call aborted there (by its owner, or by another call's owner)
 * is muted at once and removed once libcurl returns; a call started there
 * (a call whose answer turns out too big to share lets the reads that
 * joined it make their own, from its header or write callback) is added
 * once libcurl returns. */
#include "config.h"

#include "proxy/policy.h"
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

#define POOL_MAX 64

/* One socket libcurl asked us to watch. */
struct curl_socket {
    struct loop_io io;
    struct curl_engine *e;
};

/* One call (the transfer's priv). */
struct curl_call {
    struct curl_engine *e;
    struct upstream_transfer *t; /* NULL once aborted */
    CURL *easy;
    struct curl_slist *headers;
    const char *body;
    size_t body_len, body_off;
    unsigned config_gen;
    struct list_node node; /* in e->waiting, e->calls, or e->dead once aborted */
    struct list *list;     /* which */
};

struct curl_engine {
    struct upstream_core *core;
    CURLM *multi;
    struct loop_timer timer;
    CURL *pool[POOL_MAX];
    unsigned pool_len;
    unsigned in_multi;   /* inside a libcurl call that may run callbacks */
    struct list waiting; /* started from inside libcurl, to add */
    struct list calls;   /* running */
    struct list dead;    /* aborted from inside libcurl, to remove */
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
        /* Only CURLOPT_CONNECTTIMEOUT_MS is set: no connection (TCP or TLS)
         * in time, nothing sent; the daemon's own timer bounds the rest. */
        return UPSTREAM_REFUSED;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return UPSTREAM_TLS;
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_FAIL_REWIND:
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

/* Puts @call on @l, off any other. */
static void call_move(struct curl_call *call, struct list *l)
{
    if (call->list)
        list_remove(call->list, &call->node);
    list_push_back(l, &call->node);
    call->list = l;
}

static void call_free(struct curl_call *call)
{
    struct curl_engine *e = call->e;

    if (call->easy) {
        curl_multi_remove_handle(e->multi, call->easy);
        if (e->pool_len < POOL_MAX && call->config_gen == e->core->config_gen)
            e->pool[e->pool_len++] = call->easy;
        else
            curl_easy_cleanup(call->easy);
    }
    curl_slist_free_all(call->headers);
    list_remove(call->list, &call->node);
    free(call);
}

/* Removes what was aborted from inside libcurl, once outside it. */
static void bury_dead(struct curl_engine *e)
{
    struct list_node *n;

    if (e->in_multi)
        return;
    while ((n = list_first(&e->dead)))
        call_free(list_entry(n, struct curl_call, node));
}

/* Hands @call to libcurl. */
static int add_call(struct curl_engine *e, struct curl_call *call)
{
    CURLMcode rc = curl_multi_add_handle(e->multi, call->easy);

    call_move(call, &e->calls);
    if (rc == CURLM_OK)
        return 0;
    log_ratelimited(&curl_limit, LOG_WARNING, "cannot start an upstream call: %s",
                    curl_multi_strerror(rc));
    return -EIO;
}

/* Adds what was started from inside libcurl, once outside it. */
static void add_waiting(struct curl_engine *e)
{
    struct list_node *n;

    while (!e->in_multi && (n = list_first(&e->waiting))) {
        struct curl_call *call = list_entry(n, struct curl_call, node);
        struct upstream_transfer *t = call->t;
        if (add_call(e, call) == 0)
            continue;
        t->priv = NULL;
        call_free(call);
        upstream_call_finished(e->core, t, UPSTREAM_PROTOCOL, "libcurl refused the call", false);
    }
}

static void collect(struct curl_engine *e)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(e->multi, &left))) {
        struct curl_call *call = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        struct upstream_transfer *t = call->t;
        enum upstream_result r = t ? result_of(rc, t->answered) : UPSTREAM_OK;
        /* libcurl may have sent the call on a kept-alive connection, then
         * failed to connect again for its own retry: not "nothing sent". */
        if (r == UPSTREAM_REFUSED && call->body_off > 0)
            r = UPSTREAM_DROPPED;
        call_free(call);
        if (t)
            upstream_call_finished(e->core, t, r, rc == CURLE_OK ? "" : curl_easy_strerror(rc),
                                   false);
    }
}

/* --- loop glue ----------------------------------------------------------- */

static void socket_action(struct curl_engine *e, curl_socket_t fd, int mask)
{
    int still;
    CURLMcode rc;

    e->in_multi++;
    rc = curl_multi_socket_action(e->multi, fd, mask, &still);
    e->in_multi--;
    if (rc != CURLM_OK)
        log_ratelimited(&curl_limit, LOG_WARNING, "libcurl: %s", curl_multi_strerror(rc));
    bury_dead(e);
    add_waiting(e);
    collect(e);
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
    socket_action(s->e, io->fd, mask);
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
    struct curl_engine *e = userp;
    struct curl_socket *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            loop_io_remove(e->core->loop, &s->io);
            curl_multi_assign(e->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = xnew(struct curl_socket);
        s->e = e;
        if (loop_io_add(e->core->loop, &s->io, fd, epoll_events_for(what), on_socket_event, s) <
            0) {
            log_warning("cannot watch an upstream socket: %m");
            free(s);
            return -1;
        }
        curl_multi_assign(e->multi, fd, s);
        return 0;
    }
    loop_io_modify(e->core->loop, &s->io, epoll_events_for(what));
    return 0;
}

static void on_timer(struct loop_timer *timer)
{
    socket_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct curl_engine *e = userp;

    if (timeout_ms < 0)
        loop_timer_cancel(e->core->loop, &e->timer);
    else
        loop_timer_arm_ms(e->core->loop, &e->timer, (uint64_t)timeout_ms);
    return 0;
}

/* --- one call: libcurl's callbacks ---------------------------------------- */

static size_t on_header(char *line, size_t size, size_t n, void *data)
{
    struct curl_call *call = data;
    struct upstream_transfer *t = call->t;
    size_t len = size * n;

    if (!t)
        return 0; /* aborted: libcurl ends it */
    t->answered = true;
    return t->cb->header_line(t->owner, line, len) ? len : 0;
}

static size_t on_write(char *bytes, size_t size, size_t n, void *data)
{
    struct curl_call *call = data;
    struct upstream_transfer *t = call->t;
    size_t len = size * n, took;

    if (!t)
        return 0;
    took = t->cb->body(t->owner, bytes, len);
    if (took == UPSTREAM_PAUSE)
        return CURL_WRITEFUNC_PAUSE;
    return took == len ? len : 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *data)
{
    struct curl_call *call = data;
    size_t left = call->body_len - call->body_off, max = size * n;
    size_t take = left < max ? left : max;

    if (!call->t)
        return CURL_READFUNC_ABORT;
    memcpy(buf, call->body + call->body_off, take);
    call->body_off += take;
    return take;
}

/* Going back to the start would send the body a second time: refused,
 * unless none of it was sent yet. */
static int on_seek(void *data, curl_off_t offset, int origin)
{
    struct curl_call *call = data;

    if (origin == SEEK_SET && offset == 0 && call->body_off == 0)
        return CURL_SEEKFUNC_OK;
    return CURL_SEEKFUNC_FAIL;
}

/* --- one call: setting it up ---------------------------------------------- */

static void set_common_options(struct curl_engine *e, CURL *easy)
{
    const struct upstream_core *core = e->core;

    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* never an environment proxy */
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L); /* never decode gzip */
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, core->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
    if (core->https) {
        if (core->ca_file)
            curl_easy_setopt(easy, CURLOPT_CAINFO, core->ca_file);
        if (core->cert_file)
            curl_easy_setopt(easy, CURLOPT_SSLCERT, core->cert_file);
        if (core->key_file)
            curl_easy_setopt(easy, CURLOPT_SSLKEY, core->key_file);
    }
}

/* A pooled handle keeps the options every call shares; the rest is set
 * (and so overwritten) for each call. */
static CURL *take_handle(struct curl_engine *e)
{
    CURL *easy;

    if (e->pool_len)
        return e->pool[--e->pool_len];
    easy = curl_easy_init();
    if (!easy) {
        log_error("cannot create a libcurl easy handle");
        abort();
    }
    set_common_options(e, easy);
    return easy;
}

/* One "Name: value" line as libcurl takes it: "Name:" alone would make it
 * drop the header, so an empty value is written "Name;". */
static struct curl_slist *append_line(struct curl_slist *list, const char *p, size_t len,
                                      struct strbuf *line)
{
    const char *colon = memchr(p, ':', len);

    strbuf_reset(line);
    strbuf_append(line, p, len);
    if (colon && (size_t)(colon - p) == len - 1)
        line->data[len - 1] = ';';
    return curl_slist_append(list, line->data);
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
        has_content_type |= strncasecmp(p, "Content-Type:", 13) == 0;
        has_accept |= strncasecmp(p, "Accept:", 7) == 0;
        list = append_line(list, p, len, &line);
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
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, req->stream ? 1L : 0L);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return;
    }
    if (strcmp(req->method, "GET") == 0 && !req->has_body)
        return;
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->has_body) {
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    if (!req->resendable && req->body_len == 0)
        curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
}

static bool curl_accepts(const struct upstream_core *core, const struct upstream_request *req)
{
    return true; /* the engine of last resort */
}

static int curl_start(void *engine, struct upstream_transfer *t, const struct upstream_request *req)
{
    struct curl_engine *e = engine;
    struct curl_call *call = xnew(struct curl_call);
    char url[320];

    *call = (struct curl_call){.e = e,
                               .t = t,
                               .easy = take_handle(e),
                               .body = req->body,
                               .body_len = req->body_len,
                               .config_gen = e->core->config_gen};
    call_move(call, &e->waiting);
    t->priv = call;
    snprintf(url, sizeof(url), "%s://%s/", e->core->https ? "https" : "http", req->address);
    call->headers = header_list(req);
    curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call);
    curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call);
    curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(call->easy, CURLOPT_READDATA, call);
    curl_easy_setopt(call->easy, CURLOPT_SEEKDATA, call);
    curl_easy_setopt(call->easy, CURLOPT_URL, url);
    curl_easy_setopt(call->easy, CURLOPT_REQUEST_TARGET, req->target);
    curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers);
    curl_easy_setopt(call->easy, CURLOPT_FORBID_REUSE, req->stream ? 1L : 0L);
    /* A stream lives long and carries small records: a small buffer. */
    curl_easy_setopt(call->easy, CURLOPT_BUFFERSIZE, req->stream ? 4096L : 65536L);
    set_method_and_body(call->easy, req);
    if (e->in_multi)
        return 0; /* inside libcurl: added once it returns */
    if (add_call(e, call) < 0) {
        call_free(call);
        t->priv = NULL;
        return -EIO;
    }
    return 0;
}

static void curl_abort(void *engine, struct upstream_transfer *t)
{
    struct curl_engine *e = engine;
    struct curl_call *call = t->priv;

    t->priv = NULL;
    call->t = NULL; /* its callbacks now end it */
    if (!e->in_multi) {
        call_free(call);
        return;
    }
    call_move(call, &e->dead);
}

static void curl_unpause(void *engine, struct upstream_transfer *t)
{
    struct curl_engine *e = engine;
    struct curl_call *call = t->priv;

    e->in_multi++;
    curl_easy_pause(call->easy, CURLPAUSE_CONT);
    e->in_multi--;
    bury_dead(e);
    add_waiting(e);
    collect(e);
}

/* --- the engine ---------------------------------------------------------- */

static void flush_pool(struct curl_engine *e)
{
    while (e->pool_len)
        curl_easy_cleanup(e->pool[--e->pool_len]);
}

static void *curl_create(struct upstream_core *core)
{
    struct curl_engine *e = xnew(struct curl_engine);

    e->multi = curl_multi_init();
    if (!e->multi) {
        log_error("cannot create a libcurl multi handle");
        free(e);
        return NULL;
    }
    e->core = core;
    list_init(&e->waiting);
    list_init(&e->calls);
    list_init(&e->dead);
    loop_timer_init(&e->timer, on_timer, e);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    /* Idle keep-alive connections to the leader for short calls; as few as
     * the native engine keeps, so that descriptors go to clients. */
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, 32L);
    return e;
}

static void curl_destroy(void *engine)
{
    struct curl_engine *e = engine;
    struct list_node *n;

    if (!e)
        return;
    while ((n = list_first(&e->waiting)) || (n = list_first(&e->calls))) {
        struct curl_call *call = list_entry(n, struct curl_call, node);
        if (call->t)
            upstream_call_finished(e->core, call->t, UPSTREAM_OK, NULL, true);
        call_free(call);
    }
    bury_dead(e);
    flush_pool(e);
    loop_timer_cancel(e->core->loop, &e->timer);
    curl_multi_cleanup(e->multi); /* closes the sockets through on_curl_socket */
    free(e);
}

static void curl_config_changed(void *engine)
{
    flush_pool(engine);
}

const struct upstream_engine_ops upstream_curl_ops = {
    .name = "libcurl",
    .accepts = curl_accepts,
    .create = curl_create,
    .destroy = curl_destroy,
    .start = curl_start,
    .abort = curl_abort,
    .unpause = curl_unpause,
    .config_changed = curl_config_changed,
};
