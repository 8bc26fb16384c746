/* cfg_args.h: settings and other options from the command line. Private to
 * the files of the configuration (cfg.h declares cfg_args_test_only()). */
#ifndef MLD_CFG_ARGS_H
#define MLD_CFG_ARGS_H

#include "base/errbuf.h"
#include "service/cfg.h"

#include <stdbool.h>

/* Reads the command line in two passes. Pass 1 (@apply_settings false)
 * finds --config, -t, -h and -V and sets @cfg's config_file,
 * config_file_explicit and test_only, and *@action for -h and -V; pass 2
 * applies the settings over what the environment and the file gave. Both
 * refuse unknown options and stray arguments. */
int cfg_args_scan(int argc, char *const argv[], struct cfg *cfg, bool apply_settings,
                  enum cfg_action *action, struct errbuf *err);

#endif
