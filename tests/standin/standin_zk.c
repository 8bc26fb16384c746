/* standin_zk.c: joining the masters' election group, and this master's own
 * view of who leads.
 *
 * Registration follows Mesos's GroupProcess: create the group path and its
 * ancestors when missing (empty data; ignore "exists"), then an ephemeral
 * sequential member "<path>/json.info_" holding MasterInfo JSON ("info_" with
 * binary protobuf, or no label with the UPID text, by --format). With digest
 * credentials the client authenticates first and every znode it creates gets
 * Mesos's EVERYONE_READ_CREATOR_ALL ACL.
 *
 * The leader view is deliberately independent of the daemon's tracker: one
 * thread (never ZooKeeper's completion thread) lists the children with a watch,
 * takes the member with the lowest sequence number across all labels (names
 * whose last '_' piece is not a number are skipped), and, when that is not us,
 * reads and decodes the leader's data. The ZooKeeper watcher only records what
 * happened and wakes that thread.
 *
 * Like a real master, the stand-in "commits suicide" (exit 1) when its session
 * expires, when it stays disconnected longer than the session timeout, when
 * authentication fails, or when its own znode disappears. */
#include "config.h"

#include "standin.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#define RETRY_MS      1000
#define START_WAIT_MS 60000
#define MAX_NAME      256

static struct {
    zhandle_t *zh;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    int state;
    bool connected_once;
    bool expired;
    bool auth_failed;
    bool auth_done;
    int auth_rc;
    uint64_t disconnected_since_ms;
    bool dirty;
    bool stop;
    bool fatal;
    bool have_view;
    char *path;    /* the group path */
    char *my_name; /* our member's name */
    struct st_leader view;
    char leader_name[MAX_NAME];
    pthread_t thread;
    bool thread_started;
    bool cond_ready;
    struct ACL acl_entries[2];
    struct ACL_vector acl;
} zk = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---------------------------------------------------------------------------
 * MasterInfo encodings
 * ------------------------------------------------------------------------- */

static void pb_varint(struct strbuf *out, uint64_t v)
{
    unsigned char b;

    do {
        b = v & 0x7f;
        v >>= 7;
        if (v)
            b |= 0x80;
        strbuf_append(out, &b, 1);
    } while (v);
}

static void pb_bytes(struct strbuf *out, unsigned field, const void *data, size_t len)
{
    pb_varint(out, (uint64_t)field << 3 | 2);
    pb_varint(out, len);
    strbuf_append(out, data, len);
}

static void pb_string(struct strbuf *out, unsigned field, const char *s)
{
    if (s)
        pb_bytes(out, field, s, strlen(s));
}

static void pb_uint(struct strbuf *out, unsigned field, uint64_t v)
{
    pb_varint(out, (uint64_t)field << 3);
    pb_varint(out, v);
}

/* MasterInfo.Capability.Type numbers (mesos.proto). */
static unsigned capability_number(const char *name)
{
    static const char *const names[] = {"UNKNOWN", "AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"};

    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return 0;
}

void st_masterinfo_protobuf(const struct master_info *mi, struct strbuf *out)
{
    pb_string(out, 1, mi->id);
    pb_uint(out, 2, mi->ip);
    pb_uint(out, 3, mi->port);
    pb_string(out, 4, mi->pid);
    pb_string(out, 5, mi->hostname);
    pb_string(out, 6, mi->version);
    if (mi->has_address) {
        struct strbuf a = {0};
        pb_string(&a, 1, mi->address.hostname);
        pb_string(&a, 2, mi->address.ip);
        /* int32: negative values would take ten bytes; ports are positive */
        pb_uint(&a, 3, (uint64_t)(uint32_t)mi->address.port);
        pb_bytes(out, 7, a.data, a.len);
        strbuf_done(&a);
    }
    for (size_t i = 0; i < mi->n_capabilities; i++) {
        struct strbuf c = {0};
        pb_uint(&c, 1, capability_number(mi->capabilities[i]));
        pb_bytes(out, 9, c.data, c.len);
        strbuf_done(&c);
    }
}

static void json_field(struct strbuf *sb, const char *key, const char *value, bool *first)
{
    if (!value)
        return;
    strbuf_printf(sb, "%s\"%s\":", *first ? "" : ",", key);
    strbuf_json_string(sb, value);
    *first = false;
}

char *st_masterinfo_json_fields(const struct master_info *mi)
{
    struct strbuf sb = {0};
    bool first = false;

    strbuf_puts(&sb, "{\"id\":");
    strbuf_json_string(&sb, mi->id ? mi->id : "");
    strbuf_printf(&sb, ",\"ip\":%u,\"port\":%u", mi->ip, mi->port);
    json_field(&sb, "pid", mi->pid, &first);
    json_field(&sb, "hostname", mi->hostname, &first);
    json_field(&sb, "version", mi->version, &first);
    if (mi->has_address) {
        bool afirst = true;
        strbuf_puts(&sb, ",\"address\":{");
        json_field(&sb, "hostname", mi->address.hostname, &afirst);
        json_field(&sb, "ip", mi->address.ip, &afirst);
        strbuf_printf(&sb, "%s\"port\":%d}", afirst ? "" : ",", mi->address.port);
    }
    if (mi->n_capabilities) {
        strbuf_puts(&sb, ",\"capabilities\":[");
        for (size_t i = 0; i < mi->n_capabilities; i++) {
            strbuf_puts(&sb, i ? ",{\"type\":" : "{\"type\":");
            strbuf_json_string(&sb, mi->capabilities[i]);
            strbuf_puts(&sb, "}");
        }
        strbuf_puts(&sb, "]");
    }
    strbuf_puts(&sb, "}");
    return strbuf_steal(&sb);
}

/* ---------------------------------------------------------------------------
 * Watcher (ZooKeeper's completion thread): record and wake, nothing else.
 * ------------------------------------------------------------------------- */

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)path;
    (void)ctx;
    pthread_mutex_lock(&zk.mu);
    if (type == ZOO_SESSION_EVENT) {
        zk.state = state;
        if (state == ZOO_CONNECTED_STATE) {
            zk.connected_once = true;
            zk.disconnected_since_ms = 0;
            zk.dirty = true; /* re-read after a reconnect */
        } else if (state == ZOO_EXPIRED_SESSION_STATE) {
            zk.expired = true;
        } else if (state == ZOO_AUTH_FAILED_STATE) {
            zk.auth_failed = true;
        } else if (zk.connected_once && !zk.disconnected_since_ms) {
            zk.disconnected_since_ms = time_now_ms();
        }
    } else {
        zk.dirty = true; /* children changed, or a watch was removed */
    }
    pthread_cond_broadcast(&zk.cond);
    pthread_mutex_unlock(&zk.mu);
}

static void auth_done(int rc, const void *data)
{
    (void)data;
    pthread_mutex_lock(&zk.mu);
    zk.auth_done = true;
    zk.auth_rc = rc;
    pthread_cond_broadcast(&zk.cond);
    pthread_mutex_unlock(&zk.mu);
}

/* Waits on zk.cond until @deadline_ms (monotonic); zk.mu held. */
static void wait_until(uint64_t deadline_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
                          .tv_nsec = (long)(deadline_ms % 1000) * 1000000};

    pthread_cond_timedwait(&zk.cond, &zk.mu, &ts);
}

/* ---------------------------------------------------------------------------
 * The leader view
 * ------------------------------------------------------------------------- */

/* Splits a child name as Mesos's group does: '_'-separated tokens (empty ones
 * dropped), the sequence is the last token as a number, the label the first
 * token when there are several. False for non-members ("log_replicas"). */
static bool member_parse(const char *name, char *label, size_t label_size, int64_t *ret_seq)
{
    const char *first = NULL, *last = NULL;
    size_t first_len = 0, last_len = 0, n = 0;
    char num[24], *end;
    long long v;

    for (const char *p = name; *p;) {
        const char *start;
        while (*p == '_')
            p++;
        if (!*p)
            break;
        start = p;
        while (*p && *p != '_')
            p++;
        if (!n++) {
            first = start;
            first_len = (size_t)(p - start);
        }
        last = start;
        last_len = (size_t)(p - start);
    }
    if (!n || last_len >= sizeof(num) || !(last[0] == '-' || (last[0] >= '0' && last[0] <= '9')))
        return false;
    memcpy(num, last, last_len);
    num[last_len] = '\0';
    errno = 0;
    v = strtoll(num, &end, 10);
    if (*end || errno)
        return false;
    snprintf(label, label_size, "%.*s", n > 1 ? (int)first_len : 0, n > 1 ? first : "");
    *ret_seq = v;
    return true;
}

/* Finds the leading member's name; sets *ret_me when we are still a member. */
static bool pick_leader(const struct String_vector *sv, char *ret_name, char *ret_label,
                        bool *ret_me)
{
    int64_t best = 0;
    bool found = false;

    *ret_me = false;
    for (int32_t i = 0; i < sv->count; i++) {
        char label[MAX_NAME];
        int64_t seq;
        const char *name = sv->data[i];

        if (strcmp(name, zk.my_name) == 0)
            *ret_me = true;
        if (strlen(name) >= MAX_NAME || !member_parse(name, label, sizeof(label), &seq))
            continue;
        if (!found || seq < best || (seq == best && strcmp(name, ret_name) < 0)) {
            best = seq;
            found = true;
            snprintf(ret_name, MAX_NAME, "%s", name);
            snprintf(ret_label, MAX_NAME, "%s", label);
        }
    }
    return found;
}

/* Reads and decodes the leader's znode into @view. */
static int read_leader(const char *name, const char *label, struct st_leader *view)
{
    char *path = xasprintf("%s/%s", zk.path, name);
    int len = MASTERINFO_MAX_DATA;
    char *data = xmalloc(MASTERINFO_MAX_DATA);
    struct master_info mi = {0};
    struct errbuf err = {{0}};
    int rc = zoo_get(zk.zh, path, 0, data, &len, NULL);

    if (rc != ZOK) {
        log_warning("cannot read leader znode '%s': %s", path, zerror(rc));
        rc = rc == ZNONODE ? 0 : -EAGAIN; /* gone: the watch fires again */
        goto out;
    }
    if (masterinfo_decode(*label ? label : NULL, data, len < 0 ? 0 : (size_t)len, &mi, &err) < 0) {
        log_warning("cannot decode leader znode '%s': %s", path, err.msg);
        goto out;
    }
    if (mi.hostname)
        snprintf(view->host, sizeof(view->host), "%s", mi.hostname);
    else if (mi.has_address && mi.address.ip)
        snprintf(view->host, sizeof(view->host), "%s", mi.address.ip);
    else
        masterinfo_ip_to_string(mi.ip, view->host, sizeof(view->host));
    view->port = mi.port;
    view->known = true;
out:
    masterinfo_done(&mi);
    free(data);
    free(path);
    return rc;
}

static void publish(const struct st_leader *view, const char *leader_name)
{
    bool changed;

    pthread_mutex_lock(&zk.mu);
    changed = !zk.have_view || view->elected != zk.view.elected || view->known != zk.view.known ||
              strcmp(leader_name, zk.leader_name) != 0;
    zk.view = *view;
    snprintf(zk.leader_name, sizeof(zk.leader_name), "%s", leader_name);
    zk.have_view = true;
    pthread_cond_broadcast(&zk.cond);
    pthread_mutex_unlock(&zk.mu);
    if (!changed)
        return;
    if (view->elected)
        log_notice("elected leader (%s)", leader_name);
    else if (view->known)
        log_notice("standby; leader is %s:%u (%s)", view->host, view->port, leader_name);
    else
        log_notice("standby; no leader known");
}

static void fatal(const char *why)
{
    pthread_mutex_lock(&zk.mu);
    if (zk.fatal) {
        pthread_mutex_unlock(&zk.mu);
        return;
    }
    zk.fatal = true;
    pthread_mutex_unlock(&zk.mu);
    log_error("%s: committing suicide", why);
    st_request_exit(1);
}

/* One pass: list, pick, read. -EAGAIN asks for a retry. */
static int refresh(void)
{
    struct String_vector sv = {0};
    struct st_leader view = {0};
    char name[MAX_NAME] = "", label[MAX_NAME] = "";
    bool me;
    int rc = zoo_wget_children(zk.zh, zk.path, watcher, NULL, &sv);

    if (rc != ZOK && rc != ZNONODE) {
        log_warning("cannot list '%s': %s", zk.path, zerror(rc));
        return -EAGAIN;
    }
    if (rc == ZNONODE || !pick_leader(&sv, name, label, &me) || !me) {
        deallocate_String_vector(&sv);
        fatal("lost candidacy: our znode is gone");
        return 0;
    }
    deallocate_String_vector(&sv);
    if (strcmp(name, zk.my_name) == 0) {
        view.elected = view.known = true;
        snprintf(view.host, sizeof(view.host), "%s", st_cfg()->hostname);
        view.port = st_cfg()->bound_port;
    } else if (read_leader(name, label, &view) < 0) {
        return -EAGAIN;
    }
    publish(&view, name);
    return 0;
}

/* Checks the fatal session states; zk.mu held. */
static const char *session_trouble(void)
{
    int timeout = zoo_recv_timeout(zk.zh);

    if (zk.expired)
        return "ZooKeeper session expired";
    if (zk.auth_failed)
        return "ZooKeeper authentication failed";
    if (zk.disconnected_since_ms && timeout > 0 &&
        time_now_ms() - zk.disconnected_since_ms >= (uint64_t)timeout)
        return "disconnected from ZooKeeper for longer than the session timeout";
    return NULL;
}

static void *view_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&zk.mu);
    while (!zk.stop) {
        const char *trouble = zk.fatal ? NULL : session_trouble();

        if (trouble) {
            pthread_mutex_unlock(&zk.mu);
            fatal(trouble);
            pthread_mutex_lock(&zk.mu);
            continue;
        }
        if (!zk.fatal && zk.dirty && zk.state == ZOO_CONNECTED_STATE) {
            zk.dirty = false;
            pthread_mutex_unlock(&zk.mu);
            int rc = refresh();
            pthread_mutex_lock(&zk.mu);
            if (rc < 0) {
                zk.dirty = true;
                wait_until(time_now_ms() + RETRY_MS);
            }
            continue;
        }
        wait_until(time_now_ms() + 250);
    }
    pthread_mutex_unlock(&zk.mu);
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------- */

/* Waits until @done() holds; gives up on stop signals and after START_WAIT_MS. */
static int wait_for(bool (*done)(void), const char *what, struct errbuf *err)
{
    uint64_t deadline = time_now_ms() + START_WAIT_MS;
    int rc = 0;

    pthread_mutex_lock(&zk.mu);
    while (!done()) {
        if (zk.expired || zk.auth_failed) {
            rc = errbuf_set(err, -ECONNREFUSED, "ZooKeeper %s while %s",
                            zk.expired ? "session expired" : "authentication failed", what);
            break;
        }
        if (st_stop_requested()) {
            rc = errbuf_set(err, -ECANCELED, "stopped while %s", what);
            break;
        }
        if (time_now_ms() >= deadline) {
            rc = errbuf_set(err, -ETIMEDOUT, "timed out while %s", what);
            break;
        }
        wait_until(time_now_ms() + 100);
    }
    pthread_mutex_unlock(&zk.mu);
    return rc;
}

static bool is_connected(void)
{
    return zk.state == ZOO_CONNECTED_STATE;
}

static bool is_auth_done(void)
{
    return zk.auth_done;
}

static bool has_view(void)
{
    return zk.have_view || zk.fatal;
}

static void setup_acl(void)
{
    if (!st_cfg()->zk.credentials) {
        zk.acl = ZOO_OPEN_ACL_UNSAFE;
        return;
    }
    /* Mesos's EVERYONE_READ_CREATOR_ALL */
    zk.acl_entries[0].perms = ZOO_PERM_READ;
    zk.acl_entries[0].id = ZOO_ANYONE_ID_UNSAFE;
    zk.acl_entries[1].perms = ZOO_PERM_ALL;
    zk.acl_entries[1].id = ZOO_AUTH_IDS;
    zk.acl.count = 2;
    zk.acl.data = zk.acl_entries;
}

static int authenticate(struct errbuf *err)
{
    const char *cred = st_cfg()->zk.credentials;
    int rc;

    if (!cred)
        return 0;
    rc = zoo_add_auth(zk.zh, "digest", cred, (int)strlen(cred), auth_done, NULL);
    if (rc != ZOK)
        return errbuf_set(err, -EACCES, "zoo_add_auth: %s", zerror(rc));
    rc = wait_for(is_auth_done, "authenticating", err);
    if (rc < 0)
        return rc;
    if (zk.auth_rc != ZOK)
        return errbuf_set(err, -EACCES, "ZooKeeper digest authentication failed: %s",
                          zerror(zk.auth_rc));
    return 0;
}

/* Creates @path and its ancestors, persistent and empty, as Mesos does. */
static int create_parents(struct errbuf *err)
{
    char *p = xstrdup(zk.path);
    int rc = 0;

    for (char *slash = p + 1;; slash++) {
        char saved = *slash;
        if (saved != '/' && saved != '\0')
            continue;
        *slash = '\0';
        int zrc = zoo_exists(zk.zh, p, 0, NULL);
        if (zrc == ZNONODE)
            zrc = zoo_create(zk.zh, p, "", 0, &zk.acl, 0, NULL, 0);
        if (zrc != ZOK && zrc != ZNODEEXISTS) {
            rc = errbuf_set(err, -EIO, "cannot create '%s': %s", p, zerror(zrc));
            break;
        }
        *slash = saved;
        if (!saved)
            break;
    }
    free(p);
    return rc;
}

static int create_member(char **ret_znode, struct errbuf *err)
{
    const struct st_config *cfg = st_cfg();
    static const char *const labels[] = {"json.info_", "info_", ""};
    char *prefix = xasprintf("%s/%s", zk.path, labels[cfg->format]);
    struct strbuf data = {0};
    size_t size = strlen(prefix) + 32;
    char *created = xmalloc(size);
    int rc;

    if (cfg->format == ST_FORMAT_JSON)
        strbuf_puts(&data, cfg->info_json_sorted);
    else if (cfg->format == ST_FORMAT_PROTOBUF)
        st_masterinfo_protobuf(&cfg->info, &data);
    else
        strbuf_puts(&data, cfg->pid);
    rc = zoo_create(zk.zh, prefix, data.data, (int)data.len, &zk.acl, ZOO_EPHEMERAL | ZOO_SEQUENCE,
                    created, (int)size);
    if (rc != ZOK) {
        rc = errbuf_set(err, -EIO, "cannot create '%s': %s", prefix, zerror(rc));
        free(created);
    } else {
        const char *slash = strrchr(created, '/');
        zk.my_name = xstrdup(slash ? slash + 1 : created);
        *ret_znode = created;
    }
    strbuf_done(&data);
    free(prefix);
    return rc;
}

int st_zk_start(char **ret_znode, struct errbuf *err)
{
    const struct st_config *cfg = st_cfg();
    pthread_condattr_t attr;
    int rc;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&zk.cond, &attr);
    pthread_condattr_destroy(&attr);
    zk.cond_ready = true;
    zk.path = xstrdup(cfg->zk.path);
    setup_acl();
    zoo_set_debug_level(log_enabled(LOG_DEBUG) ? ZOO_LOG_LEVEL_INFO : ZOO_LOG_LEVEL_ERROR);
    zk.zh = zookeeper_init(cfg->zk.hosts, watcher, (int)cfg->zk_session_timeout_ms, NULL, NULL, 0);
    if (!zk.zh)
        return errbuf_set(err, -errno ? -errno : -EINVAL, "zookeeper_init('%s') failed",
                          cfg->zk.hosts);
    rc = wait_for(is_connected, "connecting to ZooKeeper", err);
    if (rc == 0)
        rc = authenticate(err);
    if (rc == 0)
        rc = create_parents(err);
    if (rc == 0)
        rc = create_member(ret_znode, err);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&zk.mu);
    zk.dirty = true;
    pthread_mutex_unlock(&zk.mu);
    if (pthread_create(&zk.thread, NULL, view_main, NULL) != 0)
        return errbuf_set(err, -EAGAIN, "cannot start the leader-view thread");
    zk.thread_started = true;
    return wait_for(has_view, "reading the election group", err);
}

void st_zk_stop(void)
{
    if (zk.thread_started) {
        pthread_mutex_lock(&zk.mu);
        zk.stop = true;
        pthread_cond_broadcast(&zk.cond);
        pthread_mutex_unlock(&zk.mu);
        pthread_join(zk.thread, NULL);
        zk.thread_started = false;
    }
    if (zk.zh) {
        int rc = zookeeper_close(zk.zh);
        if (rc != ZOK)
            log_warning("closing the ZooKeeper session: %s", zerror(rc));
        zk.zh = NULL;
    }
    if (zk.cond_ready) {
        pthread_cond_destroy(&zk.cond);
        zk.cond_ready = false;
    }
    freep(&zk.path);
    freep(&zk.my_name);
}

/* ---------------------------------------------------------------------------
 * Views
 * ------------------------------------------------------------------------- */

void st_zk_leader(struct st_leader *ret)
{
    const struct st_config *cfg = st_cfg();

    memset(ret, 0, sizeof(*ret));
    if (cfg->no_register) {
        ret->elected = ret->known = true;
        snprintf(ret->host, sizeof(ret->host), "%s", cfg->hostname);
        ret->port = cfg->bound_port;
        return;
    }
    pthread_mutex_lock(&zk.mu);
    if (zk.have_view && !zk.fatal)
        *ret = zk.view;
    pthread_mutex_unlock(&zk.mu);
}

void st_effective_leader(struct st_leader *ret)
{
    struct st_faults f;

    st_faults_get(&f);
    if (f.no_leader) {
        memset(ret, 0, sizeof(*ret));
    } else if (f.redirect_to[0]) {
        const char *colon = strrchr(f.redirect_to, ':');
        memset(ret, 0, sizeof(*ret));
        ret->known = true;
        snprintf(ret->host, sizeof(ret->host), "%.*s", (int)(colon - f.redirect_to), f.redirect_to);
        ret->port = (unsigned)strtoul(colon + 1, NULL, 10);
    } else {
        st_zk_leader(ret);
    }
    st_faults_done(&f);
}
