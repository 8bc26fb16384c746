/* masterpair.c: two Mesos masters registered in ZooKeeper by a benchmark
 * (see masterpair.h). */
#include "config.h"

#include "masterpair.h"
#include "benchutil.h"
#include "zkreg.h"
#include "base/errbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_master(struct pair_args *a, const char *arg)
{
    const char *eq = strchr(arg, '=');

    if (a->n == 2 || !eq || eq == arg || (size_t)(eq - arg) >= MASTER_ID_MAX ||
        bench_parse_ulong(eq + 1, 65535, &a->port[a->n]) < 0)
        return -EINVAL;
    memcpy(a->id[a->n], arg, (size_t)(eq - arg));
    a->id[a->n][eq - arg] = '\0';
    a->n++;
    return 0;
}

int pair_args_option(struct pair_args *a, int ch, const char *arg)
{
    switch (ch) {
    case 'z':
        a->zk = arg;
        return 0;
    case 't':
        a->have_target = true;
        return bench_parse_target(arg, &a->target);
    case 'm':
        return add_master(a, arg);
    default:
        return -EINVAL;
    }
}

bool pair_args_complete(const struct pair_args *a)
{
    return a->zk && a->have_target && a->n == 2 && strcmp(a->id[0], a->id[1]) != 0;
}

void master_pair_local(struct master_pair *p, const struct pair_args *a)
{
    for (int i = 0; i < 2; i++) {
        p->m[i].id = a->id[i];
        p->m[i].json = zkreg_master_json(a->id[i], "127.0.0.1", (unsigned)a->port[i], "1.11.0");
    }
}

int master_pair_start(struct master_pair *p, const char *hosts, int session_ms, int wait_ms)
{
    struct errbuf err = {{0}};

    p->zh = zkreg_connect(hosts, NULL, session_ms, wait_ms, &err);
    if (!p->zh || zkreg_create_path(p->zh, p->path, &err) < 0) {
        fprintf(stderr, "%s: %s\n", p->prog, err.msg);
        return -EIO;
    }
    for (int i = 0; i < 2; i++) {
        if (master_pair_register(p, i) < 0)
            return -EIO;
    }
    return 0;
}

int master_pair_register(struct master_pair *p, int i)
{
    struct errbuf err = {{0}};
    struct master *m = &p->m[i];

    if (zkreg_create_member(p->zh, p->path, m->json, m->znode, sizeof(m->znode), &err) < 0) {
        fprintf(stderr, "%s: cannot register %s: %s\n", p->prog, m->id, err.msg);
        return -EIO;
    }
    return 0;
}

int master_pair_delete(struct master_pair *p, int i)
{
    int rc = zoo_delete(p->zh, p->m[i].znode, -1);

    if (rc != ZOK) {
        fprintf(stderr, "%s: cannot delete '%s': %s\n", p->prog, p->m[i].znode, zerror(rc));
        return -EIO;
    }
    return 0;
}

int master_pair_watch(struct master_pair *p)
{
    struct errbuf err = {{0}};

    if (zkreg_watch_group(p->zh, p->path, &p->watch, &err) < 0) {
        fprintf(stderr, "%s: %s\n", p->prog, err.msg);
        return -EIO;
    }
    return 0;
}

void master_pair_done(struct master_pair *p)
{
    if (p->zh)
        zookeeper_close(p->zh);
    p->zh = NULL;
    for (int i = 0; i < 2; i++) {
        free(p->m[i].json);
        p->m[i].json = NULL;
    }
}
