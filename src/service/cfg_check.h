/* cfg_check.h: what is checked once every source has been read, and the
 * values derived then. Private to the files of the configuration (cfg.h
 * declares cfg_warn(), which lives in cfg_check.c too). */
#ifndef MLD_CFG_CHECK_H
#define MLD_CFG_CHECK_H

#include "base/errbuf.h"
#include "service/cfg.h"

#include <stdbool.h>

/* Checks every cluster of @cfg: a valid ZooKeeper URL (parsed into
 * zk_url), readable ca-file, cert-file and key-file (with
 * @files_readable), cert-file and key-file together; then derives each
 * cluster's values (cfg_cluster_derive()). Errors name where the value
 * came from, and the cluster when the file has sections. */
int cfg_check_clusters(struct cfg *cfg, bool files_readable, struct errbuf *err);

#endif
