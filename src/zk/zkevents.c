/* zkevents.c: the queue between libzookeeper's threads and the tracker's
 * thread, and the callbacks that fill it (see zkevents.h). */
#include "config.h"

#include "zk/zkevents.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void zk_events_init(struct zk_events *q)
{
    pthread_condattr_t attr;

    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->wake, &attr);
    pthread_condattr_destroy(&attr);
}

void zk_events_done(struct zk_events *q)
{
    struct zk_event *ev;

    while ((ev = q->head)) {
        q->head = ev->next;
        zk_event_free(ev);
    }
    q->tail = NULL;
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
}

void zk_events_push(struct zk_events *q, struct zk_event *ev)
{
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = ev;
    else
        q->head = ev;
    q->tail = ev;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

void zk_events_stop(struct zk_events *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

static void wait_until(struct zk_events *q, uint64_t deadline_ms)
{
    uint64_t now = time_now_ms();
    struct timespec at;

    if (now >= deadline_ms)
        return;
    clock_gettime(CLOCK_MONOTONIC, &at);
    uint64_t ns = (uint64_t)at.tv_nsec + (deadline_ms - now) * 1000000u;
    at.tv_sec += (time_t)(ns / 1000000000u);
    at.tv_nsec = (long)(ns % 1000000000u);
    pthread_cond_timedwait(&q->wake, &q->lock, &at);
}

struct zk_event *zk_events_wait(struct zk_events *q, uint64_t deadline_ms, bool *stopping)
{
    struct zk_event *list;

    pthread_mutex_lock(&q->lock);
    while (!q->head && !q->stopping) {
        if (deadline_ms == 0) {
            pthread_cond_wait(&q->wake, &q->lock);
            continue;
        }
        if (time_now_ms() >= deadline_ms)
            break;
        wait_until(q, deadline_ms);
    }
    list = q->head;
    q->head = q->tail = NULL;
    *stopping = q->stopping;
    pthread_mutex_unlock(&q->lock);
    return list;
}

void zk_event_free(struct zk_event *ev)
{
    for (size_t i = 0; i < ev->n_names; i++)
        free(ev->names[i]);
    free(ev->names);
    free(ev->znode);
    free(ev->data);
    free(ev);
}

void zk_events_on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    const struct zk_handle_ctx *h = ctx;
    struct zk_event *ev = xnew(struct zk_event);

    (void)zh;
    (void)path;
    ev->gen = h->gen;
    if (type == ZOO_SESSION_EVENT) {
        ev->type = ZKEV_SESSION;
        ev->state = state;
    } else {
        ev->type = ZKEV_WATCH;
        ev->state = type;
    }
    zk_events_push(h->queue, ev);
}

void zk_events_on_children(int rc, const struct String_vector *strings, const struct Stat *stat,
                           const void *data)
{
    const struct zk_handle_ctx *h = data;
    struct zk_event *ev = xnew(struct zk_event);

    (void)stat;
    ev->type = ZKEV_CHILDREN;
    ev->gen = h->gen;
    ev->rc = rc;
    if (rc == ZOK && strings && strings->count > 0) {
        ev->names = xcalloc((size_t)strings->count, sizeof(char *));
        for (int i = 0; i < strings->count; i++)
            ev->names[i] = xstrdup(strings->data[i]);
        ev->n_names = (size_t)strings->count;
    }
    zk_events_push(h->queue, ev);
}

void zk_events_on_data(int rc, const char *value, int len, const struct Stat *stat,
                       const void *data)
{
    struct zk_data_req *req = (struct zk_data_req *)data;
    struct zk_event *ev = xnew(struct zk_event);

    (void)stat;
    ev->type = ZKEV_DATA;
    ev->gen = req->h->gen;
    ev->rc = rc;
    ev->znode = req->znode;
    if (rc == ZOK && value && len > 0) {
        ev->data = xmalloc((size_t)len + 1);
        memcpy(ev->data, value, (size_t)len);
        ev->data[len] = '\0';
        ev->len = (size_t)len;
    }
    zk_events_push(req->h->queue, ev);
    free(req);
}

void zk_events_on_exists(int rc, const struct Stat *stat, const void *data)
{
    const struct zk_handle_ctx *h = data;
    struct zk_event *ev = xnew(struct zk_event);

    (void)stat;
    ev->type = ZKEV_EXISTS;
    ev->gen = h->gen;
    ev->rc = rc;
    zk_events_push(h->queue, ev);
}
