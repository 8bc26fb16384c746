/* leader.c: the store of leader snapshots shared between threads. */
#include "config.h"

#include "zk/leader.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct leader_store {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct leader_snapshot *current;
    int event_fd;
    char *logged_znode;  /* the leader named in the last "leader changed" line */
    char log_prefix[80]; /* "cluster 'name': ", or "" */
    char logged_address[MASTERINFO_HOST_MAX + 10];
};

const char *zk_session_name(enum zk_session s)
{
    switch (s) {
    case ZK_SESSION_CONNECTING:
        return "connecting";
    case ZK_SESSION_CONNECTED:
        return "connected";
    case ZK_SESSION_EXPIRED:
        return "expired";
    case ZK_SESSION_AUTH_FAILED:
        return "auth_failed";
    case ZK_SESSION_CLOSED:
        return "closed";
    case ZK_SESSION_NEVER_CONNECTED:
        return "never_connected";
    }
    return "unknown";
}

const char *leader_state_name(enum leader_state s)
{
    switch (s) {
    case LEADER_NONE:
        return "none";
    case LEADER_ELECTING:
        return "electing";
    case LEADER_KNOWN:
        return "known";
    }
    return "unknown";
}

struct leader_snapshot *leader_snapshot_new(void)
{
    struct leader_snapshot *s = xnew(struct leader_snapshot);

    s->refs = 1;
    return s;
}

static void snapshot_free(struct leader_snapshot *s)
{
    free(s->reason);
    free(s->znode);
    free(s->zk_url);
    free(s->zk_error);
    masterinfo_done(&s->info);
    for (size_t i = 0; i < s->n_masters; i++) {
        free(s->masters[i].znode);
        free(s->masters[i].error);
        masterinfo_done(&s->masters[i].info);
    }
    free(s->masters);
    free(s);
}

void leader_snapshot_unref(const struct leader_snapshot *snap)
{
    struct leader_snapshot *s = (struct leader_snapshot *)snap;

    if (s && atomic_fetch_sub_explicit((_Atomic int *)&s->refs, 1, memory_order_acq_rel) == 1)
        snapshot_free(s);
}

struct leader_store *leader_store_new(void)
{
    struct leader_store *store = xnew(struct leader_store);
    pthread_condattr_t attr;

    pthread_mutex_init(&store->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&store->changed, &attr);
    pthread_condattr_destroy(&attr);
    store->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (store->event_fd < 0) {
        log_error("cannot create an eventfd: %m");
        abort();
    }
    store->current = leader_snapshot_new();
    store->current->state = LEADER_NONE;
    store->current->session = ZK_SESSION_NEVER_CONNECTED;
    store->current->reason = xstrdup("no ZooKeeper session yet");
    store->current->since_wall_ms = time_wall_ms();
    store->current->since_mono_ns = time_now_ns();
    return store;
}

void leader_store_set_name(struct leader_store *store, const char *name)
{
    if (name && *name)
        snprintf(store->log_prefix, sizeof(store->log_prefix), "cluster '%s': ", name);
    else
        store->log_prefix[0] = '\0';
}

const char *leader_store_log_prefix(const struct leader_store *store)
{
    return store->log_prefix;
}

void leader_store_free(struct leader_store *store)
{
    if (!store)
        return;
    leader_snapshot_unref(store->current);
    free(store->logged_znode);
    close(store->event_fd);
    pthread_cond_destroy(&store->changed);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

const struct leader_snapshot *leader_store_get(struct leader_store *store)
{
    struct leader_snapshot *s;

    pthread_mutex_lock(&store->lock);
    s = store->current;
    atomic_fetch_add_explicit((_Atomic int *)&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&store->lock);
    return s;
}

/* The rule of leader_same_identity() on its parts: @address_* are "" when
 * unknown. */
static bool same_identity(const char *znode_a, const char *address_a, const char *znode_b,
                          const char *address_b)
{
    if (!znode_a || !znode_b)
        return !znode_a && !znode_b;
    if (strcmp(znode_a, znode_b) != 0)
        return false;
    return address_a[0] == '\0' || address_b[0] == '\0' || strcmp(address_a, address_b) == 0;
}

bool leader_same_identity(const struct leader_snapshot *a, const struct leader_snapshot *b)
{
    return same_identity(a->znode, a->address, b->znode, b->address);
}

/* Logs one line per leader change, old and new, once the new leader is
 * known or known to be missing (not while its data is being read). */
static void log_change(struct leader_store *store, const struct leader_snapshot *now)
{
    const char *was = store->logged_address[0] ? store->logged_address
                      : store->logged_znode    ? store->logged_znode
                                               : "none";
    const char *addr = now->state == LEADER_KNOWN ? now->address : "";

    if (now->state == LEADER_ELECTING)
        return;
    /* The same leader (a lost session, a new session reading again) is no
     * change: the same rule as the epoch's. */
    if (same_identity(now->znode, addr, store->logged_znode, store->logged_address)) {
        if (addr[0] && !store->logged_address[0])
            snprintf(store->logged_address, sizeof(store->logged_address), "%s", addr);
        return;
    }
    if (now->state == LEADER_KNOWN)
        log_notice("%sleader changed: now %s (znode '%s', id '%s', version %s), was %s",
                   store->log_prefix, now->address, now->znode, now->info.id ? now->info.id : "",
                   now->info.version ? now->info.version : "unknown", was);
    else
        log_notice("%sleader changed: now none (%s), was %s", store->log_prefix,
                   now->reason ? now->reason : "unknown", was);
    free(store->logged_znode);
    store->logged_znode = xstrdup(now->znode);
    snprintf(store->logged_address, sizeof(store->logged_address), "%s", addr);
}

bool leader_store_publish(struct leader_store *store, struct leader_snapshot *snap)
{
    struct leader_snapshot *old;
    uint64_t one = 1;
    bool changed;

    pthread_mutex_lock(&store->lock);
    old = store->current;
    changed = !leader_same_identity(old, snap);
    /* An address learnt for the same znode (electing -> known) is no change. */
    snap->epoch = old->epoch + (changed ? 1 : 0);
    snap->changes = old->changes + (changed ? 1 : 0);
    snap->generation = old->generation + 1;
    snap->since_wall_ms = changed ? time_wall_ms() : old->since_wall_ms;
    snap->since_mono_ns = changed ? time_now_ns() : old->since_mono_ns;
    if (snap->session != ZK_SESSION_EXPIRED && snap->session != ZK_SESSION_CLOSED)
        log_change(store, snap);
    store->current = snap;
    pthread_cond_broadcast(&store->changed);
    pthread_mutex_unlock(&store->lock);
    if (write(store->event_fd, &one, sizeof(one)) < 0) {
        /* The counter saturates only after 2^64 wakeups; nothing to do. */
    }
    leader_snapshot_unref(old);
    return changed;
}

int leader_store_eventfd(struct leader_store *store)
{
    return store->event_fd;
}

int leader_store_wait(struct leader_store *store, uint64_t generation, int timeout_ms)
{
    struct timespec deadline;
    int r = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    bool changed;

    pthread_mutex_lock(&store->lock);
    while (store->current->generation == generation && r == 0)
        r = pthread_cond_timedwait(&store->changed, &store->lock, &deadline);
    changed = store->current->generation != generation;
    pthread_mutex_unlock(&store->lock);
    return changed ? 0 : -ETIMEDOUT;
}
