/* cfg_file.h: reading the configuration file, its [cluster] sections
 * included. Private to the files of the configuration (see cfg.h for the
 * format). */
#ifndef MLD_CFG_FILE_H
#define MLD_CFG_FILE_H

#include "base/errbuf.h"
#include "service/cfg.h"

#include <stdbool.h>

/* Reads the file @path into @cfg and @base (the defaults of every cluster,
 * as cfg_table_defaults() made them): settings before the first section go
 * to @base (or @cfg when daemon-wide), each [cluster] section adds a cluster
 * to @cfg that starts as a copy of @base. A missing file is fine unless
 * @must_exist. Checks what the sections must hold. */
int cfg_file_read(struct cfg *cfg, struct cfg_cluster *base, const char *path, bool must_exist,
                  struct errbuf *err);

/* After cfg_file_read(), successful or not: without sections, @base becomes
 * the one cluster of @cfg; with them, it is freed. Leaves @base zeroed. */
void cfg_file_settle(struct cfg *cfg, struct cfg_cluster *base);

#endif
