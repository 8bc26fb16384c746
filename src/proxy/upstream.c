/* upstream.c: calls to the leading master: picks the engine for each call
 * and keeps what both share (settings, the running count, unpausing). */
#include "config.h"

#include "proxy/upstream_engine.h"
#include "base/log.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

void upstream_started(struct upstream *u, struct upstream_transfer *t,
                      const struct upstream_callbacks *cb, void *owner)
{
    t->cb = cb;
    t->owner = owner;
    t->running = true;
    t->answered = false;
    u->running++;
}

void upstream_finished(struct upstream *u, struct upstream_transfer *t, enum upstream_result r,
                       const char *detail, bool silent)
{
    struct upstream_transfer **p = &u->unpause_head;

    if (!t->running)
        return;
    t->running = false;
    u->running--;
    if (t->unpause_pending) {
        while (*p && *p != t)
            p = &(*p)->next_unpause;
        if (*p)
            *p = t->next_unpause;
        t->unpause_pending = false;
        t->next_unpause = NULL;
    }
    if (!silent)
        t->cb->done(t->owner, r, detail ? detail : "");
}

/* Unpausing hands bytes to the owner at once, so it waits for the end of
 * the loop iteration, outside every other callback. */
static void run_unpauses(void *data)
{
    struct upstream *u = data;

    while (u->unpause_head) {
        struct upstream_transfer *t = u->unpause_head;
        u->unpause_head = t->next_unpause;
        t->next_unpause = NULL;
        t->unpause_pending = false;
        if (!t->running)
            continue;
        if (t->conn)
            native_unpause(u, t);
        else
            curl_engine_unpause(u, t);
    }
    curl_engine_collect(u);
}

/* The master's IP address and port into @sa; false for a host name. */
static bool ip_endpoint(const char *host, uint16_t port, struct sockaddr_storage *sa,
                        socklen_t *len)
{
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;

    memset(sa, 0, sizeof(*sa));
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *len = sizeof(*in);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
        return true;
    }
    return false;
}

/* --- public -------------------------------------------------------------- */

void upstream_set_config(struct upstream *u, const struct upstream_config *cfg)
{
    free(u->ca_file);
    free(u->cert_file);
    free(u->key_file);
    u->https = cfg->https;
    u->ca_file = xstrdup(cfg->ca_file);
    u->cert_file = xstrdup(cfg->cert_file);
    u->key_file = xstrdup(cfg->key_file);
    u->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 3000;
    u->config_gen++;
    if (u->curl)
        curl_engine_flush_pool(u->curl);
    if (u->native)
        native_flush_idle(u->native);
}

struct upstream *upstream_new(struct loop *loop, const struct upstream_config *cfg)
{
    struct upstream *u = xnew(struct upstream);

    u->loop = loop;
    upstream_set_config(u, cfg);
    u->native = native_new(u);
    u->curl = curl_engine_new(u);
    if (!u->native || !u->curl) {
        upstream_free(u);
        return NULL;
    }
    loop_hook_add(loop, &u->unpause_hook, run_unpauses, u);
    return u;
}

void upstream_free(struct upstream *u)
{
    if (!u)
        return;
    loop_hook_remove(u->loop, &u->unpause_hook);
    native_free(u->native);
    curl_engine_free(u->curl);
    free(u->ca_file);
    free(u->cert_file);
    free(u->key_file);
    free(u);
}

int upstream_start(struct upstream *u, struct upstream_transfer *t,
                   const struct upstream_request *req, const struct upstream_callbacks *cb,
                   void *owner)
{
    struct sockaddr_storage sa;
    socklen_t sa_len;
    int r;

    if (t->running)
        return -EBUSY;
    upstream_started(u, t, cb, owner);
    if (!u->https && ip_endpoint(req->host, req->port, &sa, &sa_len))
        r = native_start(u, t, req, (struct sockaddr *)&sa, sa_len);
    else
        r = curl_engine_start(u, t, req);
    if (r < 0)
        upstream_finished(u, t, UPSTREAM_PROTOCOL, NULL, true);
    return r;
}

void upstream_abort(struct upstream *u, struct upstream_transfer *t)
{
    if (!t->running)
        return;
    if (t->conn)
        native_abort(u, t);
    else
        curl_engine_abort(u, t);
    upstream_finished(u, t, UPSTREAM_OK, NULL, true);
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
