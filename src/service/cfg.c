/* cfg.c: loading the configuration: the defaults, then the file, the
 * environment and the command line over each other, then the checks; and
 * freeing it. Each step lives in a file of its own (see cfg.h). */
#include "config.h"

#include "service/cfg.h"
#include "service/cfg_args.h"
#include "service/cfg_check.h"
#include "service/cfg_env.h"
#include "service/cfg_file.h"
#include "service/cfg_table.h"

#include <stdlib.h>

int cfg_load(int argc, char *const argv[], struct cfg *ret, enum cfg_action *ret_action,
             struct errbuf *err)
{
    struct cfg cfg = {0}, first = {0};
    struct cfg_cluster base;
    enum cfg_action action = CFG_RUN;
    int r;

    r = cfg_args_scan(argc, argv, &first, false, &action, err);
    if (r < 0 || action != CFG_RUN) {
        cfg_done(&first);
        *ret_action = action;
        return r;
    }
    cfg_table_defaults(&cfg, &base);
    cfg.test_only = first.test_only;
    cfg.config_file_explicit = first.config_file_explicit;
    r = cfg_file_read(&cfg, &base, first.config_file ? first.config_file : CFG_DEFAULT_FILE,
                      first.config_file_explicit, err);
    cfg_done(&first);
    cfg_file_settle(&cfg, &base);
    if (r == 0)
        r = cfg_env_read(&cfg, err);
    if (r == 0)
        r = cfg_args_scan(argc, argv, &cfg, true, &action, err);
    if (r == 0)
        r = cfg_check_clusters(&cfg, true, err);
    if (r < 0) {
        cfg_done(&cfg);
        return r;
    }
    *ret = cfg;
    *ret_action = action;
    return 0;
}

int cfg_load_file(const char *path, struct cfg *ret, struct errbuf *err)
{
    struct cfg cfg = {0};
    struct cfg_cluster base;
    int r;

    cfg_table_defaults(&cfg, &base);
    cfg.config_file_explicit = true;
    r = cfg_file_read(&cfg, &base, path, true, err);
    cfg_file_settle(&cfg, &base);
    if (r == 0)
        r = cfg_check_clusters(&cfg, false, err);
    if (r < 0) {
        cfg_done(&cfg);
        return r;
    }
    *ret = cfg;
    return 0;
}

void cfg_done(struct cfg *cfg)
{
    for (size_t k = 0; k < cfg->n_clusters; k++)
        cfg_cluster_done(&cfg->clusters[k]);
    free(cfg->clusters);
    free(cfg->config_file);
    *cfg = (struct cfg){0};
}
