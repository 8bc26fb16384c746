/* zkreg.h: registering a benchmark process as a Mesos master in ZooKeeper.
 *
 * Creates the ephemeral sequential znode <path>/json.info_NNNNNNNNNN holding
 * MasterInfo JSON, as a Mesos master does (creating the parent path first),
 * and keeps the session until zkreg_close(), which closes it so that the
 * znode disappears at once instead of after the session timeout. On request
 * it tells when that znode is deleted by someone else (a benchmark deposing
 * this master). */
#ifndef MLD_ZKREG_H
#define MLD_ZKREG_H

#include "base/errbuf.h"

#include <stddef.h>

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
