/* zkreg.c: registering a benchmark process as a Mesos master in ZooKeeper
 * (see zkreg.h). Uses the synchronous API of libzookeeper_mt. */
#include "config.h"

#include "zkreg.h"
#include "base/mem.h"
#include "zk/zkurl.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define SESSION_TIMEOUT_MS 10000
#define CONNECT_WAIT_S     15

struct zkreg {
    zhandle_t *zh;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int state;      /* the last session state seen */
    char *znode;    /* the member znode created */
    int removal_fd; /* eventfd told when the znode goes, or -1 */
};

/* Session watcher: records the state and wakes up wait_connected(). */
static void on_session(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    struct zkreg *r = ctx;

    if (type != ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&r->lock);
    r->state = state;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static int wait_connected(struct zkreg *r)
{
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += CONNECT_WAIT_S;
    pthread_mutex_lock(&r->lock);
    while (r->state != ZOO_CONNECTED_STATE && rc == 0) {
        if (r->state == ZOO_AUTH_FAILED_STATE || r->state == ZOO_EXPIRED_SESSION_STATE)
            rc = EACCES;
        else
            rc = pthread_cond_timedwait(&r->cond, &r->lock, &deadline);
    }
    pthread_mutex_unlock(&r->lock);
    return -rc;
}

/* Creates every ancestor of @path and @path itself, as persistent znodes. */
static int create_path(zhandle_t *zh, const char *path, struct errbuf *err)
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

static int create_member(zhandle_t *zh, const char *path, const char *data, char *ret_path,
                         size_t size, struct errbuf *err)
{
    char *node = xasprintf("%s/json.info_", path);
    int rc = zoo_create(zh, node, data, (int)strlen(data), &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_EPHEMERAL_SEQUENTIAL, ret_path, (int)size);

    if (rc != ZOK)
        errbuf_set(err, -EIO, "cannot create '%s': %s", node, zerror(rc));
    free(node);
    return rc == ZOK ? 0 : -EIO;
}

static int authenticate(struct zkreg *r, const char *credentials, struct errbuf *err)
{
    int rc;

    if (!credentials)
        return 0;
    rc = zoo_add_auth(r->zh, "digest", credentials, (int)strlen(credentials), NULL, NULL);
    if (rc != ZOK)
        return errbuf_set(err, -EACCES, "digest authentication failed: %s", zerror(rc));
    return 0;
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
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    r->zh = zookeeper_init(u.hosts, on_session, SESSION_TIMEOUT_MS, NULL, r, 0);
    if (!r->zh) {
        rc = errbuf_set(err, -errno, "zookeeper_init('%s') failed", u.hosts);
        goto fail;
    }
    rc = wait_connected(r);
    if (rc < 0) {
        errbuf_set(err, rc, "cannot connect to ZooKeeper at '%s'", u.hosts);
        goto fail;
    }
    rc = authenticate(r, u.credentials, err);
    if (rc == 0)
        rc = create_path(r->zh, u.path, err);
    if (rc == 0)
        rc = create_member(r->zh, u.path, data, ret_path, size, err);
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
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
