/* cfg_args.c: the command line: one long option per setting (some with a
 * short one too), and --config, --test-config, --help, --version. */
#include "config.h"

#include "service/cfg_args.h"
#include "base/mem.h"
#include "service/cfg_table.h"
#include "service/cfgvalue.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_CONFIG = 'c', OPT_TEST = 't', OPT_HELP = 'h', OPT_VERSION = 'V', OPT_BASE = 256 };

static const char *const other_options[] = {"config", "test-config", "help", "version"};

static void build_options(struct option *longopts, char *shortopts)
{
    const struct cfg_setting *s;
    size_t n = 0, k = 0;

    shortopts[k++] = ':'; /* a missing value is ':', an unknown option '?' */
    for (size_t i = 0; (s = cfg_setting_at(i)); i++) {
        longopts[n++] = (struct option){s->key, required_argument, NULL,
                                        s->short_opt ? s->short_opt : OPT_BASE + (int)i};
        if (s->short_opt) {
            shortopts[k++] = (char)s->short_opt;
            shortopts[k++] = ':';
        }
    }
    longopts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    longopts[n++] = (struct option){"test-config", no_argument, NULL, OPT_TEST};
    longopts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longopts[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    memcpy(shortopts + k, "c:thV", 6);
}

static const struct setting *setting_for_option(int c)
{
    const struct setting *s;

    if (c >= OPT_BASE)
        return cfg_table_at((size_t)(c - OPT_BASE));
    for (size_t i = 0; (s = cfg_table_at(i)); i++) {
        if (s->pub.short_opt && s->pub.short_opt == c)
            return s;
    }
    return NULL;
}

/* Says what is wrong with the option getopt_long() refused. */
static int bad_option(int c, const char *arg, struct errbuf *err)
{
    const char *words[CFG_MAX_SETTINGS + 4], *best;
    size_t n = cfg_table_count();
    const struct setting *s;
    char name[64];

    if (c == ':') {
        s = setting_for_option(optopt);
        if (s)
            return errbuf_set(err, -EINVAL, "option '--%s' needs a value (%s)", s->pub.key,
                              s->pub.arg);
        return errbuf_set(err, -EINVAL, "option '%s' needs a value", arg);
    }
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg + strspn(arg, "-"), "="),
             arg + strspn(arg, "-"));
    for (size_t i = 0; i < n; i++)
        words[i] = cfg_table_at(i)->pub.key;
    memcpy(words + n, other_options, sizeof(other_options));
    best = strncmp(arg, "--", 2) == 0 ? cfgvalue_closest(name, words, n + 4) : NULL;
    if (best)
        return errbuf_set(err, -EINVAL, "unknown option '%s' (did you mean '--%s'?)", arg, best);
    return errbuf_set(err, -EINVAL, "unknown option '%s' (see --help)", arg);
}

int cfg_args_scan(int argc, char *const argv[], struct cfg *cfg, bool apply_settings,
                  enum cfg_action *action, struct errbuf *err)
{
    struct option longopts[CFG_MAX_SETTINGS + 5];
    char shortopts[2 * CFG_MAX_SETTINGS + 10], where[96];
    int c;

    build_options(longopts, shortopts);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct setting *s = setting_for_option(c);
        if (s && apply_settings) {
            snprintf(where, sizeof(where), "option --%s", s->pub.key);
            if (cfg_table_apply_everywhere(cfg, s, optarg, CFG_SRC_ARGS, where, err) < 0)
                return -EINVAL;
        } else if (s) {
            continue;
        } else if (c == OPT_CONFIG) {
            free(cfg->config_file);
            cfg->config_file = xstrdup(optarg);
            cfg->config_file_explicit = true;
        } else if (c == OPT_TEST) {
            cfg->test_only = true;
        } else if (c == OPT_HELP || c == OPT_VERSION) {
            *action = c == OPT_HELP ? CFG_HELP : CFG_VERSION;
        } else {
            return bad_option(c, argv[optind - 1], err);
        }
    }
    if (optind < argc)
        return errbuf_set(err, -EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

bool cfg_args_test_only(int argc, char *const argv[])
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        size_t len = strlen(argv[i]);
        if (strcmp(argv[i], "-t") == 0 || (len >= 4 && strncmp(argv[i], "--test-config", len) == 0))
            return true;
    }
    return false;
}
