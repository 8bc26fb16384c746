/* cfg_env.c: settings from the environment: one MESOS_LEADERD_<KEY>
 * variable per setting; a misspelled one is refused, not ignored. */
#include "config.h"

#include "service/cfg_env.h"
#include "service/cfg_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool known_variable(const char *name, size_t len)
{
    const struct setting *s;

    for (size_t i = 0; (s = cfg_table_at(i)); i++) {
        char var[64];
        cfg_table_env_name(s, var, sizeof(var));
        if (strlen(var) == len && strncmp(var, name, len) == 0)
            return true;
    }
    return false;
}

/* A misspelled variable would be ignored silently: refuse it instead. */
static int check_unknown_variables(struct errbuf *err)
{
    extern char **environ;
    size_t plen = strlen(CFG_ENV_PREFIX);

    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        char name[128], hint[96];
        if (strncmp(*e, CFG_ENV_PREFIX, plen) != 0 || !eq || known_variable(*e, (size_t)(eq - *e)))
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(eq - *e - (long)plen), *e + plen);
        cfg_table_suggest(name, true, hint, sizeof(hint));
        return errbuf_set(err, -EINVAL, "unknown variable '%.*s'%s", (int)(eq - *e), *e,
                          hint[0] ? hint : " (see --help)");
    }
    return 0;
}

int cfg_env_read(struct cfg *cfg, struct errbuf *err)
{
    const struct setting *s;
    int r = check_unknown_variables(err);

    for (size_t i = 0; r == 0 && (s = cfg_table_at(i)); i++) {
        char var[64];
        const char *value;
        cfg_table_env_name(s, var, sizeof(var));
        value = secure_getenv(var);
        if (value)
            r = cfg_table_apply_everywhere(cfg, s, value, CFG_SRC_ENV, var, err);
    }
    return r;
}
