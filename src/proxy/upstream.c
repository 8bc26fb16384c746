/* upstream.c: libcurl's multi interface driven by our event loop. */
#include "config.h"

#include "proxy/upstream.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define POOL_MAX 256

/* One socket libcurl asked us to watch. */
struct upstream_socket {
    struct loop_io io;
    struct upstream *u;
};

struct upstream {
    struct loop *loop;
    CURLM *multi;
    struct loop_timer timer;
    bool https;
    char *ca_file, *cert_file, *key_file;
    long connect_timeout_ms;
    CURL *pool[POOL_MAX];
    unsigned pool_len;
    unsigned config_gen; /* pooled handles set up with an older one are reset */
    unsigned running;
    struct upstream_transfer *unpause_head;
};

static struct log_ratelimit curl_limit = LOG_RATELIMIT_INIT(60000, 5);

/* --- completion ---------------------------------------------------------- */

static void finish_done_transfers(struct upstream *u)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(u->multi, &left))) {
        struct upstream_transfer *t = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(u->multi, easy);
        u->running--;
        t->running = false;
        t->done(t, result);
    }
}

static void socket_action(struct upstream *u, curl_socket_t fd, int mask)
{
    int still;
    CURLMcode rc = curl_multi_socket_action(u->multi, fd, mask, &still);

    if (rc != CURLM_OK)
        log_ratelimited(&curl_limit, LOG_WARNING, "libcurl: %s", curl_multi_strerror(rc));
    finish_done_transfers(u);
}

/* --- loop glue ----------------------------------------------------------- */

static void on_socket_event(struct loop_io *io, uint32_t events)
{
    struct upstream_socket *s = io->data;
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
    struct upstream_socket *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            loop_io_remove(u->loop, &s->io);
            curl_multi_assign(u->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = xnew(struct upstream_socket);
        s->u = u;
        if (loop_io_add(u->loop, &s->io, fd, epoll_events_for(what), on_socket_event, s) < 0) {
            log_warning("cannot watch an upstream socket: %m");
            free(s);
            return -1;
        }
        curl_multi_assign(u->multi, fd, s);
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
        loop_timer_cancel(u->loop, &u->timer);
    else
        loop_timer_arm_ms(u->loop, &u->timer, (uint64_t)timeout_ms);
    return 0;
}

/* Unpausing may call our write callback at once, so it waits for the end of
 * the loop iteration, outside every other callback. */
static void run_unpauses(void *data)
{
    struct upstream *u = data;

    while (u->unpause_head) {
        struct upstream_transfer *t = u->unpause_head;
        u->unpause_head = t->next_unpause;
        t->next_unpause = NULL;
        t->unpause_pending = false;
        if (t->running)
            curl_easy_pause(t->easy, CURLPAUSE_CONT);
    }
    finish_done_transfers(u);
}

/* --- public -------------------------------------------------------------- */

void upstream_set_config(struct upstream *u, const struct upstream_config *cfg)
{
    /* Pooled handles carry the old TLS and timeout settings. */
    while (u->pool_len)
        curl_easy_cleanup(u->pool[--u->pool_len]);
    free(u->ca_file);
    free(u->cert_file);
    free(u->key_file);
    u->https = cfg->https;
    u->ca_file = xstrdup(cfg->ca_file);
    u->cert_file = xstrdup(cfg->cert_file);
    u->key_file = xstrdup(cfg->key_file);
    u->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 3000;
    u->config_gen++;
}

struct upstream *upstream_new(struct loop *loop, const struct upstream_config *cfg)
{
    struct upstream *u = xnew(struct upstream);

    u->loop = loop;
    u->multi = curl_multi_init();
    if (!u->multi) {
        log_error("cannot create a libcurl multi handle");
        free(u);
        return NULL;
    }
    upstream_set_config(u, cfg);
    loop_timer_init(&u->timer, on_timer, u);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
    /* Plenty of idle keep-alive connections to the leader for short calls. */
    curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, 256L);
    loop_add_after_hook(loop, run_unpauses, u);
    return u;
}

void upstream_free(struct upstream *u)
{
    if (!u)
        return;
    loop_timer_cancel(u->loop, &u->timer);
    for (unsigned i = 0; i < u->pool_len; i++)
        curl_easy_cleanup(u->pool[i]);
    curl_multi_cleanup(u->multi); /* closes the sockets through on_curl_socket */
    free(u->ca_file);
    free(u->cert_file);
    free(u->key_file);
    free(u);
}

const char *upstream_scheme(const struct upstream *u)
{
    return u->https ? "https" : "http";
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
    if (u->https) {
        if (u->ca_file)
            curl_easy_setopt(easy, CURLOPT_CAINFO, u->ca_file);
        if (u->cert_file)
            curl_easy_setopt(easy, CURLOPT_SSLCERT, u->cert_file);
        if (u->key_file)
            curl_easy_setopt(easy, CURLOPT_SSLKEY, u->key_file);
    }
}

/* A pooled handle keeps the options every transfer shares; the caller sets
 * (and so overwrites) all the others for each transfer. */
static CURL *take_handle(struct upstream *u)
{
    CURL *easy;

    if (u->pool_len)
        return u->pool[--u->pool_len];
    easy = curl_easy_init();
    if (!easy) {
        log_error("cannot create a libcurl easy handle");
        abort();
    }
    set_common_options(u, easy);
    return easy;
}

void upstream_prepare(struct upstream *u, struct upstream_transfer *t, upstream_done_fn done,
                      bool fresh_connection)
{
    CURL *easy = take_handle(u);

    t->easy = easy;
    t->done = done;
    t->running = false;
    t->config_gen = u->config_gen;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, fresh_connection ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, fresh_connection ? 1L : 0L);
    /* A stream lives long and carries small records: a small buffer. */
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, fresh_connection ? 4096L : 65536L);
}

int upstream_start(struct upstream *u, struct upstream_transfer *t)
{
    CURLMcode rc = curl_multi_add_handle(u->multi, t->easy);

    if (rc != CURLM_OK) {
        log_warning("cannot start an upstream transfer: %s", curl_multi_strerror(rc));
        return -EIO;
    }
    t->running = true;
    u->running++;
    return 0;
}

static void pool_put(struct upstream *u, CURL *easy, unsigned config_gen)
{
    if (u->pool_len < POOL_MAX && config_gen == u->config_gen)
        u->pool[u->pool_len++] = easy;
    else
        curl_easy_cleanup(easy);
}

static void drop_unpause(struct upstream *u, struct upstream_transfer *t)
{
    struct upstream_transfer **p = &u->unpause_head;

    if (!t->unpause_pending)
        return;
    while (*p && *p != t)
        p = &(*p)->next_unpause;
    if (*p)
        *p = t->next_unpause;
    t->unpause_pending = false;
    t->next_unpause = NULL;
}

void upstream_abort(struct upstream *u, struct upstream_transfer *t)
{
    if (!t->easy)
        return;
    drop_unpause(u, t);
    if (t->running) {
        /* Removing a handle mid-transfer makes libcurl close its connection. */
        curl_multi_remove_handle(u->multi, t->easy);
        u->running--;
        t->running = false;
    }
    pool_put(u, t->easy, t->config_gen);
    t->easy = NULL;
}

void upstream_release(struct upstream *u, struct upstream_transfer *t)
{
    upstream_abort(u, t);
}

void upstream_unpause(struct upstream *u, struct upstream_transfer *t)
{
    if (t->unpause_pending || !t->running)
        return;
    t->unpause_pending = true;
    t->next_unpause = u->unpause_head;
    u->unpause_head = t;
}

unsigned upstream_running(const struct upstream *u)
{
    return u->running;
}
