/* cfg_help.c: mesos-leaderd --help: every setting from the table, with its
 * option, default and reload rule, within 80 columns. cfg_usage() is
 * declared in cfg.h; this file reads only what cfg.h shows of the table. */
#include "config.h"

#include "service/cfg.h"

#include <stdio.h>
#include <string.h>

#define HELP_WIDTH 80

/* Writes @text from column @indent, wrapped at word boundaries so that no
 * line passes HELP_WIDTH columns. */
static void print_wrapped(FILE *out, const char *text, int indent)
{
    int col = 0;

    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > indent && col + 1 + (int)word > HELP_WIDTH) {
            fputc('\n', out);
            col = 0;
        }
        if (col == 0)
            col = fprintf(out, "%*s", indent, "");
        else
            col += fprintf(out, " ");
        col += fprintf(out, "%.*s", (int)word, text);
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

static void usage_setting(FILE *out, const struct cfg_setting *s)
{
    char opt[64], line[256], help[512];
    const char *tag = s->reload == CFG_RELOAD_RESTART      ? " [restart]"
                      : s->reload == CFG_RELOAD_LOWER_ONLY ? " [restart to raise]"
                                                           : "";

    if (s->short_opt)
        snprintf(opt, sizeof(opt), "  -%c, --%s %s", s->short_opt, s->key, s->arg);
    else
        snprintf(opt, sizeof(opt), "      --%s %s", s->key, s->arg);
    snprintf(help, sizeof(help), "%s%s%s", s->help, tag,
             s->scope == CFG_SCOPE_DAEMON ? " [daemon-wide]" : "");
    snprintf(line, sizeof(line), "%-32s (default %s)", opt,
             s->default_value ? s->default_value : "");
    if (s->default_value && strlen(line) <= HELP_WIDTH) {
        fprintf(out, "%s\n", line);
    } else {
        fprintf(out, "%s\n", opt);
        /* A list is shown with spaces after its commas, so that it wraps. */
        for (const char *p = s->default_value; p && *p; p++)
            snprintf(help + strlen(help), sizeof(help) - strlen(help), "%s%.1s%s",
                     p == s->default_value ? "; default " : "", p, *p == ',' ? " " : "");
    }
    print_wrapped(out, help, 8);
}

void cfg_usage(FILE *out)
{
    const struct cfg_setting *s;

    fprintf(out, "Usage: mesos-leaderd [OPTIONS]\n"
                 "Serve a stable local endpoint that forwards every Mesos HTTP call to the\n"
                 "leading master found in ZooKeeper.\n\n"
                 "Settings:\n");
    for (size_t i = 0; (s = cfg_setting_at(i)); i++)
        usage_setting(out, s);
    fprintf(out, "\nOther options:\n"
                 "  -c, --config FILE\n"
                 "        configuration file (default " CFG_DEFAULT_FILE ")\n"
                 "  -t, --test-config\n"
                 "        check the configuration and exit\n"
                 "  -h, --help\n"
                 "        print this help\n"
                 "  -V, --version\n"
                 "        print the version\n\n");
    print_wrapped(out,
                  "Every setting can also come from the environment (MESOS_LEADERD_MAX_BODY for "
                  "--max-body) or the configuration file (\"max-body = 16MiB\"); the command "
                  "line wins over the environment, which wins over the file. [restart]: a reload "
                  "keeps the value the daemon started with. The file may describe several "
                  "clusters in [cluster NAME] sections; [daemon-wide] settings go before the "
                  "first one. See mesos-leaderd.conf(5).",
                  0);
}
