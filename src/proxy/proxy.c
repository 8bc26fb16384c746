/* proxy.c: one proxy, put together: the listener and its clients, the HTTP
 * server, the upstream engines and the calls, in one event loop (see
 * proxy.h; how the parts depend on each other is in docs/HACKING.md). */
#include "config.h"

#include "proxy/exchange.h"
#include "proxy/share.h"
#include "proxy/watch.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

static void on_leader_event(struct loop_io *io, uint32_t events)
{
    struct proxy *p = io->data;
    uint64_t count;

    if (read(io->fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        log_warning("cannot read the leader eventfd: %m");
    exchange_leader(p);
}

static void on_accept(void *data, struct client *c, const struct sockaddr *sa, socklen_t len)
{
    struct proxy *p = data;

    if (!front_add(p->front, c, sa, len))
        clients_release(c);
}

static struct clients_limits limits_of(const struct proxy_config *cfg)
{
    return (struct clients_limits){.max_connections = cfg->max_connections,
                                   .idle_timeout_ms = cfg->client_idle_timeout_s * 1000ull};
}

struct proxy *proxy_new(struct loop *loop, struct leader_store *store,
                        const struct proxy_config *cfg, int listen_fd, const char *listen_name)
{
    struct proxy *p = xnew(struct proxy);
    struct clients_limits lim = limits_of(cfg);

    p->loop = loop;
    p->store = store;
    p->cfg = *cfg;
    p->listen_name = xstrdup(listen_name);
    registry_init(&p->exchanges);
    watch_init(p);
    share_init(p);
    p->upstream = upstream_new(loop, &cfg->upstream);
    p->front = front_new(loop, cfg->client_idle_timeout_s, &exchange_handlers, p);
    if (!p->upstream || !p->front) {
        close(listen_fd);
        goto fail;
    }
    if (loop_io_add(loop, &p->leader_io, leader_store_eventfd(store), EPOLLIN, on_leader_event, p) <
        0) {
        log_error("cannot watch the leader store");
        close(listen_fd);
        goto fail;
    }
    p->clients = clients_new(loop, listen_fd, &lim, &p->metrics, on_accept, p);
    exchange_leader(p);
    return p;
fail:
    proxy_free(p);
    return NULL;
}

void proxy_set_observer(struct proxy *p, void (*fn)(void *data, const struct leader_snapshot *s),
                        void *data)
{
    p->observer = fn;
    p->observer_data = data;
    if (fn && p->leader)
        fn(data, p->leader);
}

void proxy_end_streams(struct proxy *p, const char *why)
{
    exchange_end_streams(p, why);
    watch_end_all(p);
    if (p->front)
        front_run(p->front);
}

void proxy_free(struct proxy *p)
{
    if (!p)
        return;
    p->draining = true; /* requests libmicrohttpd still reads get 503 at once */
    if (p->clients)
        clients_stop_accepting(p->clients);
    if (p->front) {
        proxy_end_streams(p, "the daemon is stopping");
        /* libmicrohttpd must not be stopped with suspended connections. */
        exchange_abort_all(p);
        share_done(p);
        for (int i = 0; i < 10 && p->exchanges.all.count > 0; i++) {
            front_run(p->front);
            exchange_abort_all(p);
        }
        /* Stopping it completes every request (freeing exchanges) and
         * releases the clients it still has. */
        front_free(p->front);
    }
    exchange_free_detached(p);
    clients_free(p->clients);
    loop_io_remove(p->loop, &p->leader_io);
    loop_timer_cancel(p->loop, &p->stale_streams);
    upstream_free(p->upstream);
    watch_done(p);
    share_done(p);
    leader_snapshot_unref(p->leader);
    free(p->listen_name);
    free(p);
}

void proxy_reconfigure(struct proxy *p, const struct proxy_config *cfg)
{
    struct clients_limits lim = limits_of(cfg);

    p->cfg = *cfg;
    clients_set_limits(p->clients, &lim);
    upstream_set_config(p->upstream, &cfg->upstream);
}

void proxy_quiesce(struct proxy *p)
{
    p->draining = true;
    clients_stop_accepting(p->clients);
    front_kick(p->front);
}

unsigned proxy_pending_calls(const struct proxy *p)
{
    return exchange_pending(p);
}

unsigned proxy_open_streams(const struct proxy *p)
{
    return p->exchanges.streams.count + watch_event_streams(p);
}

bool proxy_healthy(struct proxy *p)
{
    return front_healthy(p->front);
}
