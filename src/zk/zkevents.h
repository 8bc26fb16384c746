/* zkevents.h: what libzookeeper's threads hand to the tracker's thread.
 *
 * libzookeeper-mt calls watchers and completions on its own threads. The
 * callbacks below only copy what they got into an event and queue it; the
 * tracker's thread takes the queue and owns every other piece of state. Each
 * handle has a generation number so that events from a closed handle can be
 * recognised and dropped. */
#ifndef LEADERD_ZK_ZKEVENTS_H
#define LEADERD_ZK_ZKEVENTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zookeeper/zookeeper.h>

enum zk_event_type {
    ZKEV_SESSION,  /* session state change */
    ZKEV_WATCH,    /* a watch on the path fired */
    ZKEV_CHILDREN, /* result of get_children */
    ZKEV_DATA,     /* result of get on one member */
    ZKEV_EXISTS,   /* result of exists on the path */
    ZKEV_FAILURE,  /* libzookeeper logged another connection failure */
};

struct zk_event {
    struct zk_event *next;
    enum zk_event_type type;
    uint64_t gen;
    int state; /* ZKEV_SESSION: the session state; ZKEV_WATCH: the event type */
    int rc;    /* results */
    char **names;
    size_t n_names;
    char *znode; /* ZKEV_DATA */
    char *data;
    size_t len;
};

struct zk_events {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct zk_event *head, *tail;
    bool stopping;
};

/* The context given to libzookeeper for one handle (watcher and the
 * completions of children and exists requests). */
struct zk_handle_ctx {
    struct zk_events *queue;
    uint64_t gen;
};

/* The context of one data request: zk_events_on_data() frees it. */
struct zk_data_req {
    struct zk_handle_ctx *h;
    char *znode;
};

void zk_events_init(struct zk_events *q);
/* Frees the events still queued. */
void zk_events_done(struct zk_events *q);

void zk_events_push(struct zk_events *q, struct zk_event *ev);
/* Makes zk_events_wait() return with *stopping set. */
void zk_events_stop(struct zk_events *q);
/* Waits until events are queued, a stop is asked for, or the monotonic
 * @deadline_ms passes (0: no deadline); returns the queued events in order
 * (NULL for none) and whether to stop. */
struct zk_event *zk_events_wait(struct zk_events *q, uint64_t deadline_ms, bool *stopping);
void zk_event_free(struct zk_event *ev);

/* libzookeeper's callbacks: their context is a struct zk_handle_ctx (a
 * struct zk_data_req for zk_events_on_data). */
void zk_events_on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx);
void zk_events_on_children(int rc, const struct String_vector *strings, const struct Stat *stat,
                           const void *data);
void zk_events_on_data(int rc, const char *value, int len, const struct Stat *stat,
                       const void *data);
void zk_events_on_exists(int rc, const struct Stat *stat, const void *data);

#endif
