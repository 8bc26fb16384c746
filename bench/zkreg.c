/* zkreg.c: Mesos masters in ZooKeeper, as the benchmark programs register
 * them (see zkreg.h). Uses the synchronous API of libzookeeper_mt. */
#include "config.h"

#include "zkreg.h"
#include "benchutil.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "zk/masterinfo.h"
#include "zk/zkurl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define SESSION_TIMEOUT_MS 10000
#define CONNECT_WAIT_MS    15000

struct zkreg {
    zhandle_t *zh;
    char *znode;    /* the member znode created */
    int removal_fd; /* eventfd told when the znode goes, or -1 */
};

/* The session's watcher: nothing to do, zkreg_connect() polls the state. */
static void on_session(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
}

static int authenticate(zhandle_t *zh, const char *credentials, struct errbuf *err)
{
    int rc;

    if (!credentials)
        return 0;
    rc = zoo_add_auth(zh, "digest", credentials, (int)strlen(credentials), NULL, NULL);
    if (rc != ZOK)
        return errbuf_set(err, -EACCES, "digest authentication failed: %s", zerror(rc));
    return 0;
}

zhandle_t *zkreg_connect(const char *hosts, const char *credentials, int session_ms, int wait_ms,
                         struct errbuf *err)
{
    uint64_t deadline = time_now_ms() + (uint64_t)wait_ms;
    zhandle_t *zh = zookeeper_init(hosts, on_session, session_ms, NULL, NULL, 0);
    int state;

    if (!zh) {
        errbuf_set(err, -errno, "zookeeper_init('%s') failed", hosts);
        return NULL;
    }
    while ((state = zoo_state(zh)) != ZOO_CONNECTED_STATE && state != ZOO_AUTH_FAILED_STATE &&
           state != ZOO_EXPIRED_SESSION_STATE && time_now_ms() < deadline)
        bench_sleep_ms(10);
    if (state != ZOO_CONNECTED_STATE)
        errbuf_set(err, -ETIMEDOUT, "cannot connect to ZooKeeper at '%s'", hosts);
    if (state != ZOO_CONNECTED_STATE || authenticate(zh, credentials, err) < 0) {
        zookeeper_close(zh);
        return NULL;
    }
    return zh;
}

int zkreg_create_path(zhandle_t *zh, const char *path, struct errbuf *err)
{
    char *prefix = xstrdup(path);
    int rc = ZOK;

    for (char *p = prefix + 1; rc == ZOK || rc == ZNODEEXISTS; p++) {
        bool last = (*p == '\0');

        if (*p != '/' && !last)
            continue;
        *p = '\0';
        rc = zoo_create(zh, prefix, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
        if (last)
            break;
        *p = '/';
    }
    if (rc != ZOK && rc != ZNODEEXISTS)
        errbuf_set(err, -EIO, "cannot create '%s': %s", prefix, zerror(rc));
    free(prefix);
    return (rc == ZOK || rc == ZNODEEXISTS) ? 0 : -EIO;
}

int zkreg_create_member(zhandle_t *zh, const char *path, const char *json, char *ret_path,
                        size_t size, struct errbuf *err)
{
    char *node = xasprintf("%s/json.info_", path);
    int rc = zoo_create(zh, node, json, (int)strlen(json), &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_EPHEMERAL_SEQUENTIAL, ret_path, (int)size);

    if (rc != ZOK)
        errbuf_set(err, -EIO, "cannot create '%s': %s", node, zerror(rc));
    free(node);
    return rc == ZOK ? 0 : -EIO;
}

static void on_group(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct zkreg_watch *w = ctx;
    uint64_t none = 0;

    if (type == ZOO_CHILD_EVENT)
        atomic_compare_exchange_strong(&w->fired_ns, &none, time_now_ns());
}

int zkreg_watch_group(zhandle_t *zh, const char *path, struct zkreg_watch *w, struct errbuf *err)
{
    struct String_vector children = {0, NULL};
    int rc;

    atomic_store(&w->fired_ns, 0);
    rc = zoo_wget_children(zh, path, on_group, w, &children);

    if (rc != ZOK)
        return errbuf_set(err, -EIO, "cannot watch '%s': %s", path, zerror(rc));
    deallocate_String_vector(&children);
    return 0;
}

char *zkreg_master_json(const char *id, const char *ip, unsigned port, const char *version)
{
    struct master_info mi = {0};
    struct in_addr a;
    char *json;

    inet_pton(AF_INET, ip, &a);
    mi.id = xstrdup(id);
    mi.ip = a.s_addr;
    mi.port = port;
    mi.pid = xasprintf("master@%s:%u", ip, port);
    mi.hostname = xstrdup(ip);
    mi.version = xstrdup(version);
    mi.has_address = true;
    mi.address.hostname = xstrdup(ip);
    mi.address.ip = xstrdup(ip);
    mi.address.port = (int32_t)port;
    json = masterinfo_to_json(&mi);
    masterinfo_done(&mi);
    return json;
}

const char *zkreg_member_name(const char *znode)
{
    const char *slash = strrchr(znode, '/');

    return slash ? slash + 1 : znode;
}

int zkreg_register(const char *url, const char *data, struct zkreg **ret, char *ret_path,
                   size_t size, struct errbuf *err)
{
    struct zkurl u = {0};
    struct zkreg *r = NULL;
    int rc = zkurl_parse(url, &u, err);

    if (rc < 0)
        return rc;
    r = xcalloc(1, sizeof(*r));
    r->removal_fd = -1;
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    r->zh = zkreg_connect(u.hosts, u.credentials, SESSION_TIMEOUT_MS, CONNECT_WAIT_MS, err);
    rc = r->zh ? zkreg_create_path(r->zh, u.path, err) : -EIO;
    if (rc == 0)
        rc = zkreg_create_member(r->zh, u.path, data, ret_path, size, err);
    if (rc < 0)
        goto fail;
    r->znode = xstrdup(ret_path);
    zkurl_done(&u);
    *ret = r;
    return 0;
fail:
    zkurl_done(&u);
    zkreg_close(r);
    return rc;
}

static void notify_removal(struct zkreg *r)
{
    uint64_t one = 1;

    if (write(r->removal_fd, &one, sizeof(one)) < 0)
        perror("zkreg: eventfd");
}

static int watch_member(struct zkreg *r);

/* Watcher of the member znode: a data change sets the watch again; the
 * client library keeps it across reconnections by itself. */
static void on_member(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct zkreg *r = ctx;

    if (type == ZOO_DELETED_EVENT)
        notify_removal(r);
    else if (type != ZOO_SESSION_EVENT)
        (void)watch_member(r);
}

static int watch_member(struct zkreg *r)
{
    struct Stat st;
    int rc = zoo_wexists(r->zh, r->znode, on_member, r, &st);

    if (rc == ZNONODE) {
        notify_removal(r);
        return 0;
    }
    return rc == ZOK ? 0 : -EIO;
}

int zkreg_watch_removal(struct zkreg *r, int efd)
{
    r->removal_fd = efd;
    return watch_member(r);
}

void zkreg_close(struct zkreg *r)
{
    if (!r)
        return;
    if (r->zh)
        zookeeper_close(r->zh);
    free(r->znode);
    free(r);
}
