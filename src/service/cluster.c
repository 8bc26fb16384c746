/* cluster.c: one Mesos cluster the daemon serves (see cluster.h). */
#include "config.h"

#include "service/cluster.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "proxy/proxy.h"
#include "service/listener.h"
#include "zk/report.h"
#include "zk/tracker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cluster {
    struct loop *loop;
    struct cfg_cluster cfg;     /* what runs (the proxy's strings point into it) */
    struct cfg_cluster started; /* as started: what only a restart changes */
    struct listener listener;
    struct leader_store *store;
    struct tracker *tracker;
    struct proxy *proxy;
    char *status;
    bool had_leader;
    cluster_observer observer;
    void *observer_data;
};

static void log_warning_line(void *data, const char *msg)
{
    const struct cluster *c = data;

    if (*c->cfg.name)
        log_warning("cluster '%s': %s", c->cfg.name, msg);
    else
        log_warning("%s", msg);
}

static void on_leader(void *data, const struct leader_snapshot *s)
{
    struct cluster *c = data;
    struct strbuf line = {0};

    report_summary(s, &line);
    strbuf_printf(&line, "; zookeeper %s", zk_session_name(s->session));
    free(c->status);
    c->status = strbuf_steal(&line);
    if (s->state == LEADER_KNOWN)
        c->had_leader = true;
    if (c->observer)
        c->observer(c->observer_data, c, s);
}

static int start_tracker(struct cluster *c, const struct leader_snapshot *seed)
{
    struct tracker_config tc = {.url = &c->cfg.zk_url,
                                .session_timeout_ms = (int)c->cfg.zk_session_timeout_ms,
                                .read_all = true,
                                .seed = seed};

    return tracker_start(&tc, c->store, &c->tracker);
}

struct cluster *cluster_start(struct loop *loop, const struct cfg_cluster *cfg, cluster_observer fn,
                              void *data, struct errbuf *err)
{
    struct cluster *c = xnew(struct cluster);

    c->loop = loop;
    c->observer = fn;
    c->observer_data = data;
    c->listener.fd = -1;
    cfg_cluster_copy(&c->cfg, cfg);
    cfg_cluster_copy(&c->started, cfg);
    if (listener_open(cfg->listen, cfg->listen_mode, cfg->name, &c->listener, err) < 0)
        goto fail;
    c->store = leader_store_new();
    leader_store_set_name(c->store, cfg->name);
    if (start_tracker(c, NULL) < 0) {
        errbuf_set(err, -EIO, "cannot start following ZooKeeper");
        goto fail;
    }
    c->proxy = proxy_new(loop, c->store, &c->cfg.proxy, c->listener.fd, c->listener.name);
    c->listener.fd = -1; /* the proxy's now, closed even if it failed */
    if (!c->proxy) {
        errbuf_set(err, -EIO, "cannot start serving on %s", c->listener.name);
        goto fail;
    }
    proxy_set_observer(c->proxy, on_leader, c);
    return c;
fail:
    cluster_stop(c);
    return NULL;
}

bool cluster_changed(const struct cluster *c, const struct cfg_cluster *next)
{
    return !cfg_cluster_equal(&c->cfg, next);
}

void cluster_reconfigure(struct cluster *c, const struct cfg_cluster *next)
{
    struct cfg_cluster old = c->cfg;
    bool new_session;

    cfg_cluster_copy(&c->cfg, next);
    /* Compared with what runs since the start, not with the last reload. */
    cfg_cluster_hold_restart(&c->started, &c->cfg, log_warning_line, c);
    new_session = !zkurl_equal(&c->cfg.zk_url, &old.zk_url) ||
                  c->cfg.zk_session_timeout_ms != old.zk_session_timeout_ms;
    proxy_reconfigure(c->proxy, &c->cfg.proxy);
    cfg_cluster_done(&old);
    if (new_session) {
        const struct leader_snapshot *seed = leader_store_get(c->store);
        char *url = zkurl_to_redacted(&c->cfg.zk_url);
        log_notice("%s%s%sZooKeeper settings changed; now tracking %s",
                   *c->cfg.name ? "cluster '" : "", c->cfg.name, *c->cfg.name ? "': " : "", url);
        free(url);
        tracker_stop(c->tracker);
        c->tracker = NULL;
        if (start_tracker(c, seed) < 0)
            log_error("cannot start tracking the new ZooKeeper URL");
        leader_snapshot_unref(seed);
    }
}

void cluster_quiesce(struct cluster *c)
{
    proxy_quiesce(c->proxy);
    proxy_end_streams(c->proxy, "the daemon is stopping");
}

unsigned cluster_pending_calls(const struct cluster *c)
{
    return proxy_pending_calls(c->proxy);
}

unsigned cluster_open_streams(const struct cluster *c)
{
    return proxy_open_streams(c->proxy);
}

bool cluster_healthy(struct cluster *c)
{
    return proxy_healthy(c->proxy);
}

const char *cluster_name(const struct cluster *c)
{
    return c->cfg.name;
}

const char *cluster_listen_name(const struct cluster *c)
{
    return c->listener.name;
}

const char *cluster_status(const struct cluster *c)
{
    return c->status ? c->status : "no leader yet";
}

bool cluster_activated(const struct cluster *c)
{
    return c->listener.activated;
}

bool cluster_had_leader(const struct cluster *c)
{
    return c->had_leader;
}

void cluster_stop(struct cluster *c)
{
    if (!c)
        return;
    proxy_free(c->proxy);
    if (c->listener.fd >= 0)
        close(c->listener.fd);
    tracker_stop(c->tracker); /* closes the ZooKeeper session */
    leader_store_free(c->store);
    if (c->started.listen && c->listener.name[0])
        listener_cleanup(&c->listener, c->started.listen);
    cfg_cluster_done(&c->started);
    cfg_cluster_done(&c->cfg);
    free(c->status);
    free(c);
}
