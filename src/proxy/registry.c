/* registry.c: an exchange's lifetime, and the lists of calls the proxy
 * keeps (every call, open streams, parked calls); see exchange.h. */
#include "config.h"

#include "proxy/exchange.h"
#include "base/mem.h"
#include "proxy/stream.h"

#include <stdlib.h>

void registry_init(struct exchange_lists *l)
{
    list_init(&l->all);
    list_init(&l->streams);
    list_init(&l->parked);
}

struct exchange *registry_new(struct proxy *p, const char *target, struct MHD_Connection *conn)
{
    struct exchange *ex = xnew(struct exchange);

    ex->p = p;
    ex->conn = conn;
    ex->client = front_client(conn);
    ex->req.target = xstrdup(target);
    ex->budget.started_ns = loop_now_ns(p->loop);
    ex->ans.content_length = -1;
    loop_timer_init(&ex->timer, NULL, ex);
    list_push_back(&p->exchanges.all, &ex->all_node);
    return ex;
}

void registry_enlist(struct exchange *ex, struct list *l)
{
    registry_delist(ex);
    list_push_back(l, &ex->node);
    ex->list = l;
}

void registry_delist(struct exchange *ex)
{
    if (!ex->list)
        return;
    list_remove(ex->list, &ex->node);
    ex->list = NULL;
}

bool registry_is_open_stream(const struct exchange *ex)
{
    return ex->list == &ex->p->exchanges.streams;
}

void registry_set_timer(struct exchange *ex, loop_timer_fn fn, uint64_t at_ns)
{
    loop_timer_cancel(ex->p->loop, &ex->timer);
    loop_timer_init(&ex->timer, fn, ex);
    loop_timer_arm_at(ex->p->loop, &ex->timer, at_ns);
}

void registry_suspend(struct exchange *ex)
{
    if (ex->suspended || !ex->conn)
        return;
    MHD_suspend_connection(ex->conn);
    ex->suspended = true;
}

void registry_resume(struct exchange *ex)
{
    if (!ex->suspended)
        return;
    ex->suspended = false;
    MHD_resume_connection(ex->conn);
    front_kick(ex->p->front);
}

void registry_stop_upstream(struct exchange *ex)
{
    upstream_abort(ex->p->upstream, &ex->xfer);
    loop_timer_cancel(ex->p->loop, &ex->timer);
}

/* The client record of a socket we took over goes with its last copy:
 * ours now, or libmicrohttpd's if it has not closed its own yet. */
static void let_go_of_client(struct exchange *ex)
{
    struct client *c = ex->client;

    if (!c)
        return;
    if (!ex->relay.detached) {
        if (ex->conn)
            clients_set_busy(c, false);
        return;
    }
    if (c->conn)
        c->taken_over = false; /* libmicrohttpd releases it when it closes */
    else
        clients_release(c);
}

static void free_answer(struct ex_answer *a)
{
    strbuf_done(&a->head);
    strbuf_done(&a->connection);
    bufq_free(&a->data);
    free(a->stream_id);
}

static void free_request(struct ex_request *r)
{
    strbuf_done(&r->headers);
    strbuf_done(&r->body);
    free(r->target);
    free(r->method);
    free(r->path);
}

void registry_reset_answer(struct exchange *ex)
{
    free_answer(&ex->ans);
    ex->ans = (struct ex_answer){.content_length = -1};
}

void registry_free(struct exchange *ex)
{
    struct proxy *p = ex->p;

    let_go_of_client(ex);
    registry_delist(ex);
    list_remove(&p->exchanges.all, &ex->all_node);
    loop_io_remove(p->loop, &ex->client_io);
    loop_timer_cancel(p->loop, &ex->timer);
    loop_timer_cancel(p->loop, &ex->watch_timer);
    loop_timer_cancel(p->loop, &ex->relay.retake);
    upstream_abort(p->upstream, &ex->xfer);
    stream_out_free(ex->relay.out);
    free(ex->budget.redirects);
    free_request(&ex->req);
    free_answer(&ex->ans);
    free(ex);
}

static void on_free_due(struct loop_timer *timer)
{
    registry_free(timer->data);
}

void registry_free_soon(struct exchange *ex)
{
    registry_set_timer(ex, on_free_due, loop_now_ns(ex->p->loop));
}
