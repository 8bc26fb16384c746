/* zkclient.c: a synchronous ZooKeeper client for tests (libzookeeper_mt),
 * to register masters the way Mesos does and the ways it never would
 * (undecodable data, protobuf, unlabelled UPIDs), set ACLs and end sessions. */
#include "config.h"

#include "internal.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zookeeper/zookeeper.h>

#define DEFAULT_SESSION_MS 10000
#define DEFAULT_CONNECT_MS 10000
#define MAX_DATA           (1024 * 1024)
#define MAX_PATH           4096

struct zkh_client {
    zhandle_t *zh;
    char *connect;
    int session_ms;
    pthread_mutex_t lock;
    int state; /* the last session state */
    bool auth_done;
    int auth_rc;
};

/* libzookeeper's own lines: only when HARNESS_VERBOSE asks for them. */
static void on_zk_log(const char *message)
{
    const char *v = getenv("HARNESS_VERBOSE");

    if (v && *v && strcmp(v, "0") != 0)
        fprintf(stderr, "harness zk client: %s\n", message);
}

static void on_session(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct zkh_client *c = ctx;

    if (type != ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&c->lock);
    c->state = state;
    pthread_mutex_unlock(&c->lock);
}

static void on_auth(int rc, const void *data)
{
    struct zkh_client *c = (struct zkh_client *)data;

    pthread_mutex_lock(&c->lock);
    c->auth_done = true;
    c->auth_rc = rc;
    pthread_mutex_unlock(&c->lock);
}

/* Maps a ZooKeeper result to -errno and records what failed. */
static int zk_error(int rc, const char *what, const char *path)
{
    int e;

    switch (rc) {
    case ZOK:
        return 0;
    case ZNONODE:
        e = ENOENT;
        break;
    case ZNODEEXISTS:
        e = EEXIST;
        break;
    case ZNOTEMPTY:
        e = ENOTEMPTY;
        break;
    case ZNOAUTH:
    case ZAUTHFAILED:
        e = EACCES;
        break;
    case ZBADVERSION:
        e = ESTALE;
        break;
    case ZCONNECTIONLOSS:
        e = ECONNRESET;
        break;
    case ZOPERATIONTIMEOUT:
        e = ETIMEDOUT;
        break;
    case ZSESSIONEXPIRED:
        e = ETIME;
        break;
    case ZINVALIDACL:
    case ZBADARGUMENTS:
        e = EINVAL;
        break;
    default:
        e = EIO;
    }
    return harness_set_error(-e, "ZooKeeper %s '%s': %s", what, path ? path : "", zerror(rc));
}

/* Waits until @c's state is @want (or a hopeless one), or the deadline. */
static int wait_state(struct zkh_client *c, int want, uint64_t deadline)
{
    int state;

    pthread_mutex_lock(&c->lock);
    while (c->state != want && c->state != ZOO_AUTH_FAILED_STATE &&
           c->state != ZOO_EXPIRED_SESSION_STATE && time_now_ms() < deadline) {
        pthread_mutex_unlock(&c->lock);
        harness_nap_ms(5);
        pthread_mutex_lock(&c->lock);
    }
    state = c->state;
    pthread_mutex_unlock(&c->lock);
    return state == want ? 0 : state == ZOO_AUTH_FAILED_STATE ? -EACCES : -ETIMEDOUT;
}

static int authenticate(struct zkh_client *c, const char *credentials, uint64_t deadline)
{
    int rc = zoo_add_auth(c->zh, "digest", credentials, (int)strlen(credentials), on_auth, c);
    bool done;

    if (rc != ZOK)
        return zk_error(rc, "digest authentication at", c->connect);
    do {
        harness_nap_ms(2);
        pthread_mutex_lock(&c->lock);
        done = c->auth_done;
        rc = c->auth_rc;
        pthread_mutex_unlock(&c->lock);
    } while (!done && time_now_ms() < deadline);
    if (!done)
        return harness_set_error(-ETIMEDOUT, "no answer to digest authentication from %s",
                                 c->connect);
    return zk_error(rc, "digest authentication at", c->connect);
}

static struct zkh_client *client_new(const char *connect, int session_ms)
{
    struct zkh_client *c = xnew(struct zkh_client);

    c->connect = xstrdup(connect);
    c->session_ms = session_ms;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void client_free(struct zkh_client *c)
{
    if (c->zh)
        zookeeper_close(c->zh);
    pthread_mutex_destroy(&c->lock);
    free(c->connect);
    free(c);
}

struct zkh_client *zkh_client_open_opts(const char *connect, const char *credentials,
                                        const struct zkh_client_options *opt)
{
    int session_ms =
        opt && opt->session_timeout_ms > 0 ? opt->session_timeout_ms : DEFAULT_SESSION_MS;
    int connect_ms =
        opt && opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : DEFAULT_CONNECT_MS;
    uint64_t deadline = time_now_ms() + (uint64_t)connect_ms;
    struct zkh_client *c = client_new(connect, session_ms);
    int r;

    c->zh = zookeeper_init2(connect, on_session, session_ms, NULL, c, 0, on_zk_log);
    if (!c->zh)
        r = harness_set_error(-errno, "cannot start a ZooKeeper client for '%s': %s", connect,
                              strerror(errno));
    else if ((r = wait_state(c, ZOO_CONNECTED_STATE, deadline)) < 0)
        harness_set_error(r, "no ZooKeeper session with '%s' within %d ms", connect, connect_ms);
    else if (credentials)
        r = authenticate(c, credentials, deadline);
    if (r < 0) {
        harness_print_error();
        client_free(c);
        return NULL;
    }
    return c;
}

struct zkh_client *zkh_client_open(const char *connect, const char *credentials)
{
    return zkh_client_open_opts(connect, credentials, NULL);
}

int zkh_client_create_path(struct zkh_client *c, const char *path)
{
    char *copy = xstrdup(path);
    int r = 0;

    if (path[0] != '/') {
        free(copy);
        return harness_set_error(-EINVAL, "ZooKeeper path '%s' is not absolute", path);
    }
    /* Create each prefix in turn: "/a", "/a/b", "/a/b/c". */
    for (char *p = copy + 1; r == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int rc = zoo_create(c->zh, copy, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        if (rc != ZOK && rc != ZNODEEXISTS)
            r = zk_error(rc, "create", copy);
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    return r;
}

int zkh_client_create(struct zkh_client *c, const char *path, const void *data, size_t len,
                      int flags, char **ret_path)
{
    char created[MAX_PATH];
    int zflags = 0, rc;

    if (len > MAX_DATA)
        return harness_set_error(-EFBIG, "ZooKeeper data for '%s' exceeds 1 MiB", path);
    if (flags & ZKH_PARENTS) {
        char *parent = xstrdup(path);
        char *slash = strrchr(parent, '/');
        int r = 0;
        if (slash && slash != parent) {
            *slash = '\0';
            r = zkh_client_create_path(c, parent);
        }
        free(parent);
        if (r < 0)
            return r;
    }
    if (flags & ZKH_EPHEMERAL)
        zflags |= ZOO_EPHEMERAL;
    if (flags & ZKH_SEQUENTIAL)
        zflags |= ZOO_SEQUENCE;
    rc = zoo_create(c->zh, path, data, data ? (int)len : -1, &ZOO_OPEN_ACL_UNSAFE, zflags, created,
                    sizeof(created));
    if (rc != ZOK)
        return zk_error(rc, "create", path);
    if (ret_path)
        *ret_path = xstrdup(created);
    return 0;
}

int zkh_client_set(struct zkh_client *c, const char *path, const void *data, size_t len)
{
    if (len > MAX_DATA)
        return harness_set_error(-EFBIG, "ZooKeeper data for '%s' exceeds 1 MiB", path);
    return zk_error(zoo_set(c->zh, path, data, data ? (int)len : -1, -1), "set", path);
}

int zkh_client_get(struct zkh_client *c, const char *path, char **ret, size_t *ret_len)
{
    char *buf = xmalloc(MAX_DATA + 1);
    int len = MAX_DATA;
    int rc = zoo_get(c->zh, path, 0, buf, &len, NULL);

    if (rc != ZOK) {
        free(buf);
        return zk_error(rc, "get", path);
    }
    if (len < 0)
        len = 0; /* a znode without data */
    buf[len] = '\0';
    *ret = xrealloc(buf, (size_t)len + 1);
    if (ret_len)
        *ret_len = (size_t)len;
    return 0;
}

int zkh_client_exists(struct zkh_client *c, const char *path)
{
    struct Stat st;

    return zk_error(zoo_exists(c->zh, path, 0, &st), "exists", path);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int zkh_client_children(struct zkh_client *c, const char *path, char ***ret, size_t *ret_n)
{
    struct String_vector sv = {0};
    char **names;
    int rc = zoo_get_children(c->zh, path, 0, &sv);

    if (rc != ZOK)
        return zk_error(rc, "list", path);
    names = xcalloc((size_t)sv.count + 1, sizeof(char *));
    for (int i = 0; i < sv.count; i++)
        names[i] = xstrdup(sv.data[i]);
    qsort(names, (size_t)sv.count, sizeof(char *), compare_strings);
    if (ret_n)
        *ret_n = (size_t)sv.count;
    deallocate_String_vector(&sv);
    *ret = names;
    return 0;
}

int zkh_client_delete(struct zkh_client *c, const char *path, bool recursive)
{
    char **children = NULL;
    int r;

    if (recursive) {
        r = zkh_client_children(c, path, &children, NULL);
        if (r < 0)
            return r;
        for (char **child = children; *child && r == 0; child++) {
            char *sub = xasprintf("%s%s%s", path, strcmp(path, "/") ? "/" : "", *child);
            r = zkh_client_delete(c, sub, true);
            if (r == -ENOENT)
                r = 0; /* an ephemeral went meanwhile */
            free(sub);
        }
        harness_strv_free(children);
        if (r < 0)
            return r;
    }
    return zk_error(zoo_delete(c->zh, path, -1), "delete", path);
}

int zkh_client_set_acl(struct zkh_client *c, const char *path, const struct zkh_acl *acl, size_t n)
{
    struct ACL_vector vec = {.count = (int32_t)n, .data = xcalloc(n ? n : 1, sizeof(struct ACL))};
    int rc;

    for (size_t i = 0; i < n; i++) {
        vec.data[i].perms = acl[i].perms;
        vec.data[i].id.scheme = (char *)acl[i].scheme;
        vec.data[i].id.id = (char *)acl[i].id;
    }
    rc = zoo_set_acl(c->zh, path, -1, &vec);
    free(vec.data);
    return zk_error(rc, "set the ACL of", path);
}

int64_t zkh_client_session_id(const struct zkh_client *c)
{
    return zoo_client_id(c->zh)->client_id;
}

/* One attempt: a second connection to the same session that closes it ends
 * the session on the server, as an expiry would. */
static int close_session_from_twin(struct zkh_client *c, clientid_t id)
{
    struct zkh_client *twin = client_new(c->connect, c->session_ms);
    int r;

    twin->zh = zookeeper_init2(c->connect, on_session, c->session_ms, &id, twin, 0, on_zk_log);
    if (!twin->zh)
        r = harness_set_error(-errno, "cannot start a ZooKeeper client for '%s'", c->connect);
    else
        r = wait_state(twin, ZOO_CONNECTED_STATE, time_now_ms() + DEFAULT_CONNECT_MS);
    if (r == 0 && zoo_client_id(twin->zh)->client_id != id.client_id)
        r = harness_set_error(-ETIME, "the session 0x%llx was already gone",
                              (unsigned long long)id.client_id);
    client_free(twin); /* zookeeper_close() ends the session */
    return r;
}

static int client_state(struct zkh_client *c)
{
    int state;

    pthread_mutex_lock(&c->lock);
    state = c->state;
    pthread_mutex_unlock(&c->lock);
    return state;
}

int zkh_client_expire(struct zkh_client *c)
{
    clientid_t id = *zoo_client_id(c->zh);
    int attempt, r = 0;

    /* The original handle reconnects as soon as the twin takes its
     * connection over; if it does so before the twin's close reaches the
     * server, the close is lost with the twin's connection and the session
     * lives on.  So the attempt is repeated until @c itself is told that its
     * session expired. */
    for (attempt = 0; attempt < 5; attempt++) {
        if (client_state(c) == ZOO_EXPIRED_SESSION_STATE)
            return 0;
        r = close_session_from_twin(c, id);
        if (r == -ETIME)
            return 0; /* gone already: what was wanted */
        if (r < 0)
            continue;
        r = wait_state(c, ZOO_EXPIRED_SESSION_STATE, time_now_ms() + 2 * c->session_ms + 2000);
        if (client_state(c) == ZOO_EXPIRED_SESSION_STATE)
            return 0;
    }
    return r < 0 ? r
                 : harness_set_error(-ETIMEDOUT, "the session 0x%llx outlived 5 attempts to end it",
                                     (unsigned long long)id.client_id);
}

void zkh_client_close(struct zkh_client *c)
{
    if (c)
        client_free(c);
}
