/* cfg_cluster.h: what the configuration's own files need of a cluster's
 * settings besides cfg.h (which declares copying, comparing and the reload
 * rules, all in cfg_cluster.c). Private to the files of the configuration. */
#ifndef MLD_CFG_CLUSTER_H
#define MLD_CFG_CLUSTER_H

#include "service/cfg.h"

/* Derives @c's values from its settings: the list of shared read paths and
 * the proxy configuration. */
void cfg_cluster_derive(struct cfg_cluster *c);

#endif
