/* zkreg.h: registering a benchmark process as a Mesos master in ZooKeeper.
 *
 * Creates the ephemeral sequential znode <path>/json.info_NNNNNNNNNN holding
 * MasterInfo JSON, as a Mesos master does (creating the parent path first),
 * and keeps the session until zkreg_close(), which closes it so that the
 * znode disappears at once instead of after the session timeout. */
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

/* Closes the session (the znode goes with it) and frees @r; NULL is fine. */
void zkreg_close(struct zkreg *r);

#endif
