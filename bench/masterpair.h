/* masterpair.h: two Mesos masters registered in ZooKeeper by a benchmark
 * that moves the leadership between them (bench/peers-failover and
 * bench/watch-probe, whose masters are two bench/backend processes on
 * 127.0.0.1 named by --master ID=PORT; bench/fleet-run, whose masters exist
 * only in ZooKeeper).
 *
 * One session of the benchmark holds both znodes (see zkreg.h): the master
 * registered first leads; deleting the leader's znode hands the leadership
 * to the other, and registering the deleted one again makes it the standby.
 * Failures are told on stderr, prefixed with the program's name. */
#ifndef MLD_MASTERPAIR_H
#define MLD_MASTERPAIR_H

#include "zkreg.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <zookeeper/zookeeper.h>

#define MASTER_ID_MAX 64

/* The options that place a benchmark whose masters are two bench/backend
 * processes on 127.0.0.1: where it registers them, and the mesos-leaderd
 * that follows them. */
struct pair_args {
    const char *zk;            /* --zk URL */
    struct sockaddr_in target; /* --target HOST:PORT */
    bool have_target;
    char id[2][MASTER_ID_MAX]; /* --master ID=PORT, twice */
    unsigned long port[2];
    int n; /* how many --master were given */
};

/* Their lines in the help text. */
#define PAIR_ARGS_HELP                                                               \
    "  --zk URL            where to register the masters (zk://hosts/path)\n"        \
    "  --target HOST:PORT  mesos-leaderd following that path\n"                      \
    "  --master ID=PORT    a bench/backend on 127.0.0.1:PORT started with --id ID\n" \
    "                      (twice; the first one leads at the start)\n"

/* Takes the option getopt_long() returned as @ch with @arg: 'z' for --zk,
 * 't' for --target, 'm' for --master. 0, or -EINVAL for a bad value (a
 * third --master, an empty or too long id, a port that is not a number up
 * to 65535) or any other option. */
int pair_args_option(struct pair_args *a, int ch, const char *arg);

/* Whether --zk, --target and two --master with different ids were given. */
bool pair_args_complete(const struct pair_args *a);

struct master {
    const char *id;
    char *json;      /* its MasterInfo */
    char znode[512]; /* full path of its current znode */
};

struct master_pair {
    const char *prog; /* the program's name, for messages */
    const char *path; /* the group's znode */
    zhandle_t *zh;    /* the session holding both znodes */
    struct master m[2];
    struct zkreg_watch watch; /* see master_pair_watch() */
};

/* Names the masters of @a (bench/backend processes on 127.0.0.1) in @p. */
void master_pair_local(struct master_pair *p, const struct pair_args *a);

/* Connects to @hosts (a session of @session_ms; waits at most @wait_ms),
 * creates the group's path and registers m[0], then m[1], whose id and
 * json the caller has set. 0 or a negative errno. */
int master_pair_start(struct master_pair *p, const char *hosts, int session_ms, int wait_ms);

/* Registers master @i again (its znode was deleted); 0 or -EIO. */
int master_pair_register(struct master_pair *p, int i);

/* Deletes master @i's znode; 0 or -EIO. */
int master_pair_delete(struct master_pair *p, int i);

/* Watches the group: from now, p->watch.fired_ns notes when the next
 * member joins or leaves. 0 or -EIO. */
int master_pair_watch(struct master_pair *p);

/* Closes the session (the znodes go with it) and frees the JSON. */
void master_pair_done(struct master_pair *p);

#endif
