/* zkreg.h: Mesos masters in ZooKeeper, as the benchmark programs register
 * them.
 *
 * A master registers the ephemeral sequential znode <path>/json.info_NNNNNNNNNN
 * holding its MasterInfo JSON (the parent path created first), as a Mesos
 * master does. Two ways to use it:
 *   - a benchmark that plays the masters keeps its own session
 *     (zkreg_connect) and registers, deletes and watches the znodes itself
 *     (see also masterpair.h);
 *   - a process that registers itself (bench/backend --zk) uses struct
 *     zkreg: it keeps the session until zkreg_close(), which closes it so
 *     that the znode disappears at once instead of after the session
 *     timeout, and on request tells when that znode is deleted by someone
 *     else (a benchmark deposing this master).
 * The client library's log level is the caller's (zoo_set_debug_level());
 * zkreg_register() sets it to errors only. */
#ifndef MLD_ZKREG_H
#define MLD_ZKREG_H

#include "base/errbuf.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <zookeeper/zookeeper.h>

/* Opens a session to @hosts ("host:port,...") with a timeout of
 * @session_ms, waits at most @wait_ms until it is connected, and adds the
 * digest @credentials ("user:password"; NULL for none). Returns the handle
 * (zookeeper_close() it), or NULL with the reason in @err. */
zhandle_t *zkreg_connect(const char *hosts, const char *credentials, int session_ms, int wait_ms,
                         struct errbuf *err);

/* Creates every ancestor of @path and @path itself, as persistent znodes,
 * where they are missing. 0 or -EIO. */
int zkreg_create_path(zhandle_t *zh, const char *path, struct errbuf *err);

/* Registers a master below @path: creates <path>/json.info_N holding @json
 * (ephemeral, sequential) and copies its path into @ret_path (of @size
 * bytes). 0 or -EIO. */
int zkreg_create_member(zhandle_t *zh, const char *path, const char *json, char *ret_path,
                        size_t size, struct errbuf *err);

/* When a one-time watch on a group's children fired. */
struct zkreg_watch {
    _Atomic uint64_t fired_ns; /* CLOCK_MONOTONIC ns, 0 until it fires */
};

/* Sets a one-time watch on the children of @path: from now, @w->fired_ns
 * notes when the next member joins or leaves (the notification ZooKeeper
 * sends every watcher, before it answers the change). @w must outlive the
 * session. 0 or -EIO. */
int zkreg_watch_group(zhandle_t *zh, const char *path, struct zkreg_watch *w, struct errbuf *err);

/* MasterInfo JSON of master @id at @ip:@port (an IPv4 literal), running
 * Mesos @version, with an address as Mesos 1.x writes it; free() it. */
char *zkreg_master_json(const char *id, const char *ip, unsigned port, const char *version);

/* The member's name within the group: @znode without its parent path. */
const char *zkreg_member_name(const char *znode);

struct zkreg;

/* Connects to the ensemble named by the Mesos-style @url (zk://hosts/path)
 * and creates the znode with @data. Sets @ret and copies the created path
 * into @ret_path (of @size bytes). */
int zkreg_register(const char *url, const char *data, struct zkreg **ret, char *ret_path,
                   size_t size, struct errbuf *err);

/* Watches the znode created by zkreg_register(): once it is gone (deleted
 * by anyone, or already gone now), writes 1 to the eventfd @efd, once.
 * 0 or -EIO. */
int zkreg_watch_removal(struct zkreg *r, int efd);

/* Closes the session (the znode goes with it) and frees @r; NULL is fine. */
void zkreg_close(struct zkreg *r);

#endif
