/* tracker.c: the ZooKeeper session, the children watch and the leader rule.
 *
 * Threading: libzookeeper-mt calls our watcher and completions on its own
 * completion thread; they queue events (zkevents.h). The tracker's thread
 * owns every other piece of state, issues every request, and runs the
 * session timers. Each handle has a generation number so that events from a
 * closed handle are recognised and dropped. */
#include "config.h"

#include "zk/tracker.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "zk/election.h"
#include "zk/zklog.h"
#include "zk/zkevents.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zookeeper/zookeeper.h>

#define RETRY_MIN_MS       500
#define RETRY_MAX_MS       30000
#define FAILURE_PUBLISH_MS 1000 /* publish a new connection failure at most this often */
/* While connected, resolve the host names again at most this often.
 * libzookeeper 3.8 otherwise resolves them on every turn of its I/O loop
 * (every ping, request and answer): with DNS names, a DNS query for each,
 * from every host of the fleet. Disconnected, it resolves before every
 * attempt, and a new handle resolves anew. */
#define RESOLVE_INTERVAL_MS 60000

/* What to do when the retry timer fires. */
enum retry_kind { RETRY_NONE, RETRY_REOPEN, RETRY_REREAD };

struct tracker {
    struct zk_events events; /* from libzookeeper's threads */

    /* Owned by the tracker's thread. */
    pthread_t thread;
    struct zkurl url;
    char *url_text; /* redacted */
    int session_timeout_ms;
    bool read_all;
    struct leader_store *store;
    zhandle_t *zh;
    struct zk_handle_ctx *hctx;
    uint64_t gen;
    enum zk_session session;
    bool ever_connected;          /* this handle */
    bool had_session;             /* any handle of this tracker */
    bool gave_up_first;           /* no session within the first handle's deadline */
    int failed_handles;           /* handles in a row that never connected (deadline backoff) */
    uint64_t session_deadline_ms; /* 0: none; else give up on the session then */
    bool failure_unpublished;     /* conn_error changed since the last publication */
    bool publish_due;             /* something changed: publish after this batch */
    const char *log_prefix;       /* the store's: "cluster 'name': ", or "" */
    uint64_t failure_published_ms;
    enum retry_kind retry;
    uint64_t retry_at_ms;
    int retry_ms;
    bool children_inflight, children_dirty;
    bool have_children; /* members reflect a successful read */
    bool seeded;        /* members and cache came from a previous tracker */
    bool path_missing;
    char *path_problem; /* why the path cannot be read, or NULL */
    struct election_member *members;
    size_t n_members;
    struct election_data *cache; /* the members' data, read or being read */
    size_t n_cache;
    char *identity_znode; /* the leader identity to keep while the session is lost */
    char identity_address[MASTERINFO_HOST_MAX + 10];
    struct log_ratelimit err_limit;    /* our own repeated failures */
    struct log_ratelimit zk_log_limit; /* libzookeeper's lines, under zk_log_lock */
    char conn_error[256];              /* the last connection failure, under zk_log_lock */
    pthread_mutex_t zk_log_lock;
};

/* ---------------------------------------------------------------------------
 * ZooKeeper's own log lines, through our logger
 * ------------------------------------------------------------------------- */

static struct tracker *log_owner;
static pthread_mutex_t log_owner_lock = PTHREAD_MUTEX_INITIALIZER;

/* Takes libzookeeper's lines into our log, and remembers the last
 * connection failure for the reasons we publish (see zklog.h). The line does
 * not say which handle it is about: it is taken to be about the tracker
 * started last, the only one but while a reload replaces it. */
static void on_zk_log(const char *message)
{
    struct zklog_line line;
    char failure[sizeof(((struct tracker *)0)->conn_error)];
    bool failed;

    zklog_parse(message, &line);
    pthread_mutex_lock(&log_owner_lock);
    failed = log_owner && zklog_connection_error(line.text, line.len, log_owner->url.hosts, failure,
                                                 sizeof(failure));
    if (log_owner && (failed || line.priority < LOG_DEBUG)) {
        pthread_mutex_lock(&log_owner->zk_log_lock);
        if (failed && strcmp(failure, log_owner->conn_error) != 0) {
            struct zk_event *ev = xnew(struct zk_event);
            memcpy(log_owner->conn_error, failure, sizeof(failure));
            ev->type = ZKEV_FAILURE;
            zk_events_push(&log_owner->events, ev);
        }
        /* Its warnings repeat while servers are down ("Delaying connection..."
         * every 50 ms): all but debug lines go through the rate limit. */
        if (line.priority < LOG_DEBUG && log_enabled(line.priority))
            log_ratelimited(&log_owner->zk_log_limit, line.priority, "zookeeper: %.*s",
                            (int)line.len, line.text);
        pthread_mutex_unlock(&log_owner->zk_log_lock);
    } else if (log_enabled(line.priority)) {
        log_msg(line.priority, "zookeeper: %.*s", (int)line.len, line.text);
    }
    pthread_mutex_unlock(&log_owner_lock);
}

/* Copies the last connection failure into @buf ("" for none). */
static void last_conn_error(struct tracker *t, char *buf, size_t size)
{
    pthread_mutex_lock(&t->zk_log_lock);
    snprintf(buf, size, "%s", t->conn_error);
    pthread_mutex_unlock(&t->zk_log_lock);
}

static void forget_conn_error(struct tracker *t)
{
    pthread_mutex_lock(&t->zk_log_lock);
    t->conn_error[0] = '\0';
    pthread_mutex_unlock(&t->zk_log_lock);
}

/* ---------------------------------------------------------------------------
 * Publishing
 * ------------------------------------------------------------------------- */

static struct election_view view_of(const struct tracker *t)
{
    return (struct election_view){.path = t->url.path,
                                  .path_problem = t->path_problem,
                                  .members = t->members,
                                  .n_members = t->n_members,
                                  .data = t->cache,
                                  .n_data = t->n_cache,
                                  .read_all = t->read_all};
}

static struct election_data *cache_find(struct tracker *t, const char *znode)
{
    struct election_view v = view_of(t);

    return (struct election_data *)election_find(&v, znode);
}

/* Drops cache entries of znodes that are no longer members. */
static void cache_prune(struct tracker *t)
{
    size_t keep = 0;

    for (size_t i = 0; i < t->n_cache; i++) {
        bool member = false;
        for (size_t j = 0; j < t->n_members && !member; j++)
            member = strcmp(t->members[j].name, t->cache[i].znode) == 0;
        if (member)
            t->cache[keep++] = t->cache[i];
        else
            election_data_done(&t->cache[i]);
    }
    t->n_cache = keep;
}

/* Why there is no leader while no session can be used; @failure: the last
 * connection failure, or NULL. */
static char *reason_without_session(const struct tracker *t, const char *failure)
{
    if (!failure)
        failure = "";
    switch (t->session) {
    case ZK_SESSION_AUTH_FAILED:
        return xstrdup("ZooKeeper refused our credentials");
    case ZK_SESSION_CONNECTED:
        return xstrdup("reading the election group in ZooKeeper");
    case ZK_SESSION_NEVER_CONNECTED:
        return failure[0] ? xasprintf("no ZooKeeper session yet: %s", failure)
                          : xasprintf("no ZooKeeper session yet (connecting to %s)", t->url.hosts);
    case ZK_SESSION_EXPIRED:
        return failure[0] ? xasprintf("ZooKeeper session expired; no new session yet: %s", failure)
                          : xstrdup("ZooKeeper session expired; opening a new one");
    default:
        return failure[0] ? xasprintf("connection to ZooKeeper lost; reconnecting: %s", failure)
                          : xstrdup("connection to ZooKeeper lost; reconnecting");
    }
}

/* Publishes what we know now. With no usable session, there is no leader but
 * the identity of the last one is kept (see leader.h). */
static void publish_now(struct tracker *t)
{
    struct leader_snapshot *s = leader_snapshot_new();
    struct election_view v = view_of(t);

    s->session = t->session;
    s->zk_url = xstrdup(t->url_text);
    if (t->session != ZK_SESSION_CONNECTED) {
        char failure[sizeof(t->conn_error)];
        last_conn_error(t, failure, sizeof(failure));
        s->zk_error = failure[0] ? xstrdup(failure) : NULL;
    }
    if (t->session == ZK_SESSION_CONNECTED && t->have_children) {
        election_decide(&v, s);
        s->settled = election_reads_complete(&v) && !t->children_inflight;
        free(t->identity_znode);
        t->identity_znode = xstrdup(s->znode);
        snprintf(t->identity_address, sizeof(t->identity_address), "%s", s->address);
    } else if (t->session == ZK_SESSION_CONNECTING && t->have_children) {
        /* Connection lost, session may live: keep routing to the last leader. */
        election_decide(&v, s);
        s->settled = true;
    } else {
        s->state = LEADER_NONE;
        s->znode = xstrdup(t->identity_znode);
        snprintf(s->address, sizeof(s->address), "%s", t->identity_address);
        s->reason = reason_without_session(t, s->zk_error);
        s->settled = t->session == ZK_SESSION_AUTH_FAILED ||
                     (t->session == ZK_SESSION_NEVER_CONNECTED && t->gave_up_first);
    }
    leader_store_publish(t->store, s);
}

/* Publishes once the events at hand are handled: one snapshot for a batch of
 * results, not one per member read. */
static void publish(struct tracker *t)
{
    t->publish_due = true;
}

static void publish_if_due(struct tracker *t)
{
    if (t->publish_due) {
        t->publish_due = false;
        publish_now(t);
    }
}

/* ---------------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------------- */

static void set_retry(struct tracker *t, enum retry_kind kind, int delay_ms)
{
    /* Reopening the handle also re-reads; never downgrade it. */
    if (t->retry == RETRY_REOPEN && kind == RETRY_REREAD)
        return;
    t->retry = kind;
    t->retry_at_ms = time_now_ms() + (uint64_t)delay_ms;
}

static void set_session_deadline(struct tracker *t, int delay_ms)
{
    t->session_deadline_ms = time_now_ms() + (uint64_t)(delay_ms > 0 ? delay_ms : 1);
}

static int next_retry(struct tracker *t)
{
    int ms = t->retry_ms ? t->retry_ms : RETRY_MIN_MS;

    t->retry_ms = ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ms * 2;
    return ms;
}

static void request_children(struct tracker *t)
{
    int rc;

    if (!t->zh || t->session != ZK_SESSION_CONNECTED)
        return;
    if (t->children_inflight) {
        t->children_dirty = true;
        return;
    }
    rc = zoo_aget_children2(t->zh, t->url.path, 1, zk_events_on_children, t->hctx);
    if (rc != ZOK) {
        log_warning("%scannot list '%s' in ZooKeeper: %s", t->log_prefix, t->url.path, zerror(rc));
        set_retry(t, RETRY_REREAD, next_retry(t));
        return;
    }
    t->children_inflight = true;
    t->children_dirty = false;
}

static void request_data(struct tracker *t, const char *znode)
{
    struct zk_data_req *req = xnew(struct zk_data_req);
    char *path = xasprintf("%s/%s", t->url.path, znode);
    struct election_data *c;
    int rc;

    req->h = t->hctx;
    req->znode = xstrdup(znode);
    rc = zoo_aget(t->zh, path, 0, zk_events_on_data, req);
    free(path);
    if (rc != ZOK) {
        log_warning("%scannot read '%s/%s' in ZooKeeper: %s", t->log_prefix, t->url.path, znode,
                    zerror(rc));
        free(req->znode);
        free(req);
        set_retry(t, RETRY_REREAD, next_retry(t));
        return;
    }
    t->cache = xreallocarray(t->cache, t->n_cache + 1, sizeof(*t->cache));
    c = &t->cache[t->n_cache++];
    memset(c, 0, sizeof(*c));
    c->znode = xstrdup(znode);
}

/* Requests the data we want and do not have (nor have asked for). */
static void request_missing_data(struct tracker *t)
{
    struct election_view v = view_of(t);
    size_t want = election_wanted(&v);

    for (size_t i = 0; i < want; i++) {
        if (!cache_find(t, t->members[i].name))
            request_data(t, t->members[i].name);
    }
}

/* ---------------------------------------------------------------------------
 * Handles and sessions
 * ------------------------------------------------------------------------- */

static void forget_election(struct tracker *t)
{
    election_members_free(t->members, t->n_members);
    t->members = NULL;
    t->n_members = 0;
    for (size_t i = 0; i < t->n_cache; i++)
        election_data_done(&t->cache[i]);
    free(t->cache);
    t->cache = NULL;
    t->n_cache = 0;
    t->have_children = false;
    t->seeded = false;
    t->children_inflight = t->children_dirty = false;
    freep(&t->path_problem);
}

static void close_handle(struct tracker *t)
{
    if (t->zh) {
        zookeeper_close(t->zh); /* pending completions run with ZCLOSING */
        t->zh = NULL;
    }
    free(t->hctx);
    t->hctx = NULL;
    forget_election(t);
}

static void on_auth(int rc, const void *data)
{
    /* A refusal arrives as ZOO_AUTH_FAILED_STATE through the watcher. */
    (void)rc;
    (void)data;
}

static void open_handle(struct tracker *t)
{
    t->gen++;
    t->hctx = xnew(struct zk_handle_ctx);
    t->hctx->queue = &t->events;
    t->hctx->gen = t->gen;
    t->ever_connected = false;
    t->zh = zookeeper_init2(t->url.hosts, zk_events_on_watch, t->session_timeout_ms, NULL, t->hctx,
                            0, on_zk_log);
    if (!t->zh) {
        log_ratelimited(&t->err_limit, LOG_WARNING,
                        "%scannot start a ZooKeeper session with %s: %m", t->log_prefix,
                        t->url.hosts);
        free(t->hctx);
        t->hctx = NULL;
        set_retry(t, RETRY_REOPEN, next_retry(t));
        return;
    }
    zoo_set_servers_resolution_delay(t->zh, RESOLVE_INTERVAL_MS);
    if (t->url.credentials) {
        int rc = zoo_add_auth(t->zh, "digest", t->url.credentials, (int)strlen(t->url.credentials),
                              on_auth, NULL);
        if (rc != ZOK)
            log_warning("%scannot queue ZooKeeper digest authentication: %s", t->log_prefix,
                        zerror(rc));
    }
    /* If no session is established within the timeout, start over; while
     * the servers stay unreachable, give each new handle longer (up to
     * 4 timeouts) so that a slow server can finish the handshake. */
    set_session_deadline(t, t->session_timeout_ms * (1 << t->failed_handles));
    if (t->failed_handles < 2)
        t->failed_handles++;
}

/* The session is gone (expired, or treated so): no leader, a new handle. */
static void expire_session(struct tracker *t, const char *why)
{
    log_ratelimited(&t->err_limit, LOG_WARNING,
                    "%s%s; reporting no leader and opening a new ZooKeeper session", t->log_prefix,
                    why);
    close_handle(t);
    t->session = ZK_SESSION_EXPIRED;
    publish(t);
    open_handle(t);
}

/* No session has ever been established and this handle's time is up: a new
 * handle (resolving the names again), and no leader from a previous tracker
 * any more. It is no expiry: the state stays "never connected". */
static void give_up_first_handles(struct tracker *t)
{
    char failure[sizeof(t->conn_error)];

    last_conn_error(t, failure, sizeof(failure));
    log_ratelimited(&t->err_limit, LOG_WARNING,
                    "%sno ZooKeeper session established with %s within the session timeout%s%s; "
                    "still trying",
                    t->log_prefix, t->url.hosts, failure[0] ? ": " : "", failure);
    close_handle(t);
    t->session = ZK_SESSION_NEVER_CONNECTED;
    t->gave_up_first = true;
    publish(t);
    open_handle(t);
}

static void on_connected(struct tracker *t)
{
    const clientid_t *id = zoo_client_id(t->zh);

    if (!t->ever_connected)
        log_info("%sZooKeeper session 0x%llx established with %s (timeout %d ms)", t->log_prefix,
                 (unsigned long long)id->client_id, t->url.hosts, zoo_recv_timeout(t->zh));
    else
        log_info("%sreconnected to ZooKeeper, session 0x%llx", t->log_prefix,
                 (unsigned long long)id->client_id);
    t->ever_connected = true;
    t->had_session = true;
    t->failed_handles = 0;
    forget_conn_error(t);
    t->session = ZK_SESSION_CONNECTED;
    t->session_deadline_ms = 0;
    if (t->retry == RETRY_REREAD)
        t->retry = RETRY_NONE; /* the read below replaces it */
    t->retry_ms = 0;
    /* Always read again: events may have been missed while disconnected. */
    t->children_inflight = false;
    request_children(t);
    publish(t);
}

static void on_session_event(struct tracker *t, int state)
{
    if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) {
        on_connected(t);
    } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
        if (t->session == ZK_SESSION_CONNECTED) {
            /* As Mesos does, never longer than our own timeout: what the
             * server negotiated comes from the network (a server that is no
             * ZooKeeper "negotiates" days). */
            int timeout = zoo_recv_timeout(t->zh);
            if (timeout <= 0 || timeout > t->session_timeout_ms)
                timeout = t->session_timeout_ms;
            log_warning("%slost the connection to ZooKeeper; keeping the last-known leader for up "
                        "to %d ms while reconnecting",
                        t->log_prefix, timeout);
            t->session = ZK_SESSION_CONNECTING;
            set_session_deadline(t, timeout);
            publish(t);
        }
    } else if (state == ZOO_EXPIRED_SESSION_STATE) {
        expire_session(t, "ZooKeeper session expired");
    } else if (state == ZOO_AUTH_FAILED_STATE) {
        log_error("%sZooKeeper refused the digest credentials for %s; retrying later",
                  t->log_prefix, t->url_text);
        close_handle(t);
        t->session = ZK_SESSION_AUTH_FAILED;
        publish(t);
        set_retry(t, RETRY_REOPEN, next_retry(t));
    }
}

/* ---------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------- */

static void on_children_result(struct tracker *t, struct zk_event *ev)
{
    t->children_inflight = false;
    if (ev->rc == ZOK) {
        if (t->seeded) {
            /* Our own first read: the same names may mean other masters
             * (another path, another ensemble), so read every data again. */
            for (size_t i = 0; i < t->n_cache; i++)
                election_data_done(&t->cache[i]);
            t->n_cache = 0;
            t->seeded = false;
        }
        election_members_free(t->members, t->n_members);
        election_order((const char *const *)ev->names, ev->n_names, &t->members, &t->n_members);
        t->have_children = true;
        t->retry_ms = 0;
        freep(&t->path_problem);
        cache_prune(t);
        request_missing_data(t);
        if (t->children_dirty)
            request_children(t);
        publish(t);
    } else if (ev->rc == ZNONODE) {
        election_members_free(t->members, t->n_members);
        t->members = NULL;
        t->n_members = 0;
        cache_prune(t);
        t->have_children = true;
        free(t->path_problem);
        t->path_problem = xasprintf("the path '%s' does not exist in ZooKeeper", t->url.path);
        if (!t->path_missing)
            log_warning("%s%s; waiting for it to be created", t->log_prefix, t->path_problem);
        t->path_missing = true;
        /* A watch on the path's existence tells us when it appears. */
        if (zoo_aexists(t->zh, t->url.path, 1, zk_events_on_exists, t->hctx) != ZOK)
            set_retry(t, RETRY_REREAD, next_retry(t));
        publish(t);
    } else if (ev->rc == ZNOAUTH) {
        t->have_children = true;
        free(t->path_problem);
        t->path_problem = xasprintf("not allowed to read '%s' (ZooKeeper ACL)", t->url.path);
        log_ratelimited(&t->err_limit, LOG_ERR, "%s%s; retrying later", t->log_prefix,
                        t->path_problem);
        set_retry(t, RETRY_REREAD, next_retry(t));
        publish(t);
    } else if (ev->rc != ZCLOSING && ev->rc != ZCONNECTIONLOSS && ev->rc != ZSESSIONEXPIRED &&
               ev->rc != ZINVALIDSTATE) {
        /* Connection trouble is handled by the session events; others retry. */
        log_ratelimited(&t->err_limit, LOG_WARNING, "%scannot list '%s' in ZooKeeper: %s",
                        t->log_prefix, t->url.path, zerror(ev->rc));
        set_retry(t, RETRY_REREAD, next_retry(t));
    }
    if (ev->rc == ZOK && t->path_missing) {
        log_info("%sthe path '%s' exists now", t->log_prefix, t->url.path);
        t->path_missing = false;
    }
}

static void decode_member(struct tracker *t, struct election_data *c, const struct zk_event *ev)
{
    if (election_decode(c->znode, ev->data, ev->len, c) == 0) {
        if (c->legacy)
            log_warning("%smaster znode '%s/%s' %s", t->log_prefix, t->url.path, c->znode,
                        c->legacy);
    } else {
        log_warning("%scannot decode master znode '%s/%s': %s", t->log_prefix, t->url.path,
                    c->znode, c->error);
    }
}

static void on_data_result(struct tracker *t, struct zk_event *ev)
{
    struct election_data *c = cache_find(t, ev->znode);

    if (!c || c->done)
        return; /* no longer a member */
    if (ev->rc == ZOK) {
        decode_member(t, c, ev);
        publish(t);
        return;
    }
    if (ev->rc == ZNOAUTH) {
        /* Its ACL hides it from us: as undecodable as garbage (Mesos would
         * fail the same way), and retrying will not help. */
        c->done = true;
        c->retry = true; /* the ACL may be fixed: ask again, with backoff */
        c->error = xstrdup("not allowed to read its data (ZooKeeper ACL)");
        log_ratelimited(&t->err_limit, LOG_WARNING, "%scannot read master znode '%s/%s': %s",
                        t->log_prefix, t->url.path, c->znode, c->error);
        set_retry(t, RETRY_REREAD, next_retry(t));
        publish(t);
        return;
    }
    /* Not read: forget the entry so that the next children read asks again. */
    election_data_done(c);
    *c = t->cache[--t->n_cache];
    if (ev->rc == ZNONODE)
        request_children(t); /* it left before we could read it */
    else if (ev->rc != ZCLOSING && ev->rc != ZCONNECTIONLOSS && ev->rc != ZSESSIONEXPIRED &&
             ev->rc != ZINVALIDSTATE)
        set_retry(t, RETRY_REREAD, next_retry(t));
}

static void handle_event(struct tracker *t, struct zk_event *ev)
{
    if (ev->type == ZKEV_FAILURE) {
        t->failure_unpublished = true; /* see run_timers() */
        return;
    }
    if (ev->gen != t->gen || !t->zh)
        return; /* from a handle we closed */
    switch (ev->type) {
    case ZKEV_SESSION:
        on_session_event(t, ev->state);
        break;
    case ZKEV_WATCH:
        if (ev->state == ZOO_CHILD_EVENT || ev->state == ZOO_CREATED_EVENT ||
            ev->state == ZOO_DELETED_EVENT || ev->state == ZOO_NOTWATCHING_EVENT) {
            log_debug("%swatch fired on '%s' (type %d)", t->log_prefix, t->url.path, ev->state);
            request_children(t);
        }
        break;
    case ZKEV_CHILDREN:
        on_children_result(t, ev);
        break;
    case ZKEV_DATA:
        on_data_result(t, ev);
        break;
    case ZKEV_EXISTS:
        if (ev->rc == ZOK)
            request_children(t); /* created between our two reads */
        break;
    case ZKEV_FAILURE:
        break;
    }
}

/* Drops the entries whose read was refused, so that they are read again. */
static void forget_refused_reads(struct tracker *t)
{
    size_t keep = 0;

    for (size_t i = 0; i < t->n_cache; i++) {
        if (t->cache[i].retry)
            election_data_done(&t->cache[i]);
        else
            t->cache[keep++] = t->cache[i];
    }
    t->n_cache = keep;
}

/* Tells why there is no session, once the failure changed, at most every
 * FAILURE_PUBLISH_MS (failures repeat while the servers are down). */
static void publish_failure(struct tracker *t, uint64_t now)
{
    if (!t->failure_unpublished || now < t->failure_published_ms + FAILURE_PUBLISH_MS)
        return;
    t->failure_unpublished = false;
    if (t->session == ZK_SESSION_CONNECTED)
        return;
    t->failure_published_ms = now;
    publish(t);
}

static void run_timers(struct tracker *t)
{
    uint64_t now = time_now_ms();

    publish_failure(t, now);
    if (t->session_deadline_ms && now >= t->session_deadline_ms) {
        t->session_deadline_ms = 0;
        if (t->session != ZK_SESSION_CONNECTED && !t->had_session)
            give_up_first_handles(t);
        else if (t->session != ZK_SESSION_CONNECTED)
            expire_session(t, t->ever_connected
                                  ? "no reconnection to ZooKeeper within the session timeout"
                                  : "no ZooKeeper session established within the session timeout");
    }
    if (t->retry != RETRY_NONE && now >= t->retry_at_ms) {
        enum retry_kind kind = t->retry;
        t->retry = RETRY_NONE;
        if (kind == RETRY_REOPEN) {
            close_handle(t);
            open_handle(t);
        } else {
            forget_refused_reads(t);
            request_children(t);
            request_missing_data(t);
        }
    }
}

/* The earliest timer, or 0 for none. */
static uint64_t next_deadline(const struct tracker *t)
{
    uint64_t at = t->session_deadline_ms;

    if (t->retry != RETRY_NONE && (at == 0 || t->retry_at_ms < at))
        at = t->retry_at_ms;
    if (t->failure_unpublished) {
        uint64_t failure_at = t->failure_published_ms + FAILURE_PUBLISH_MS;
        if (at == 0 || failure_at < at)
            at = failure_at;
    }
    return at;
}

/* ---------------------------------------------------------------------------
 * The thread
 * ------------------------------------------------------------------------- */

static void *tracker_main(void *arg)
{
    struct tracker *t = arg;
    bool stopping = false;

    open_handle(t);
    publish_now(t);
    while (!stopping) {
        struct zk_event *ev = zk_events_wait(&t->events, next_deadline(t), &stopping);
        while (ev) {
            struct zk_event *next = ev->next;
            if (!stopping)
                handle_event(t, ev);
            zk_event_free(ev);
            ev = next;
        }
        if (!stopping)
            run_timers(t);
        publish_if_due(t);
    }
    close_handle(t);
    publish_if_due(t);
    return NULL;
}

/* Starts from what a previous tracker knew: its members and their data, as
 * if our connection were lost (see tracker.h). */
static void seed_from(struct tracker *t, const struct leader_snapshot *seed)
{
    if (!seed || seed->state != LEADER_KNOWN || seed->n_masters == 0)
        return;
    t->members = xcalloc(seed->n_masters, sizeof(*t->members));
    t->cache = xcalloc(seed->n_masters, sizeof(*t->cache));
    for (size_t i = 0; i < seed->n_masters; i++) {
        const struct leader_master *m = &seed->masters[i];
        if (election_parse_name(m->znode, &t->members[t->n_members]) < 0)
            continue;
        t->n_members++;
        if (!m->read)
            continue;
        struct election_data *c = &t->cache[t->n_cache++];
        c->znode = xstrdup(m->znode);
        c->done = true;
        c->ok = m->decoded;
        if (m->decoded)
            masterinfo_copy(&c->info, &m->info);
        c->endpoint = m->endpoint;
        c->has_endpoint = m->has_endpoint;
        c->error = xstrdup(m->error);
    }
    t->have_children = t->n_members > 0;
    t->seeded = t->have_children;
}

/* Frees everything a tracker owns once its thread is gone, or never ran
 * (the copies tracker_start() made: URL, seeded members and data). */
static void tracker_free(struct tracker *t)
{
    pthread_mutex_lock(&log_owner_lock);
    if (log_owner == t)
        log_owner = NULL;
    pthread_mutex_unlock(&log_owner_lock);
    zk_events_done(&t->events);
    forget_election(t);
    zkurl_done(&t->url);
    free(t->url_text);
    free(t->identity_znode);
    pthread_mutex_destroy(&t->zk_log_lock);
    free(t);
}

int tracker_start(const struct tracker_config *cfg, struct leader_store *store,
                  struct tracker **ret)
{
    struct tracker *t = xnew(struct tracker);
    const struct leader_snapshot *cur;
    int r;

    zk_events_init(&t->events);
    pthread_mutex_init(&t->zk_log_lock, NULL);
    t->url.hosts = xstrdup(cfg->url->hosts);
    t->url.path = xstrdup(cfg->url->path);
    t->url.credentials = xstrdup(cfg->url->credentials);
    t->url_text = zkurl_to_redacted(&t->url);
    t->session_timeout_ms =
        cfg->session_timeout_ms > 0 ? cfg->session_timeout_ms : TRACKER_DEFAULT_SESSION_TIMEOUT_MS;
    t->read_all = cfg->read_all;
    t->store = store;
    t->log_prefix = leader_store_log_prefix(store);
    t->session = ZK_SESSION_NEVER_CONNECTED;
    t->zk_log_limit = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 5);
    t->err_limit = (struct log_ratelimit)LOG_RATELIMIT_INIT(60000, 5);
    /* Keep the identity of a leader a previous tracker found (reload). */
    cur = leader_store_get(store);
    t->identity_znode = xstrdup(cur->znode);
    snprintf(t->identity_address, sizeof(t->identity_address), "%s", cur->address);
    leader_snapshot_unref(cur);
    seed_from(t, cfg->seed);
    if (t->have_children) {
        /* As if our connection were lost: the previous tracker's session
         * stands for ours until our own session timeout. */
        t->session = ZK_SESSION_CONNECTING;
        t->had_session = true;
    }
    zoo_set_debug_level(log_enabled(LOG_DEBUG) ? ZOO_LOG_LEVEL_INFO : ZOO_LOG_LEVEL_WARN);
    pthread_mutex_lock(&log_owner_lock);
    log_owner = t;
    pthread_mutex_unlock(&log_owner_lock);
    r = pthread_create(&t->thread, NULL, tracker_main, t);
    if (r != 0) {
        log_error("cannot start the ZooKeeper tracker thread: %s", strerror(r));
        tracker_free(t);
        return -r;
    }
    *ret = t;
    return 0;
}

void tracker_stop(struct tracker *t)
{
    if (!t)
        return;
    zk_events_stop(&t->events);
    pthread_join(t->thread, NULL);
    tracker_free(t);
}
