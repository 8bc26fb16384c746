/* cfg_env.h: settings from the environment (MESOS_LEADERD_MAX_BODY for
 * max-body). Private to the files of the configuration. */
#ifndef MLD_CFG_ENV_H
#define MLD_CFG_ENV_H

#include "base/errbuf.h"
#include "service/cfg.h"

/* Applies every MESOS_LEADERD_* variable over what @cfg holds (daemon-wide,
 * or in every cluster); refuses a variable that names no setting. */
int cfg_env_read(struct cfg *cfg, struct errbuf *err);

#endif
