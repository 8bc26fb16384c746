/* cfg_file.c: the configuration file: "key = value" lines, '#' comments,
 * [cluster NAME] sections and what each must hold. */
#include "config.h"

#include "service/cfg_file.h"
#include "base/mem.h"
#include "service/cfg_table.h"
#include "service/listenaddr.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 4096

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* What reading a file needs to know. */
struct reader {
    struct cfg *cfg;
    struct cfg_cluster *base; /* the defaults of every cluster */
    size_t section;           /* 1 + the index of the cluster being read; 0: before any */
};

static bool valid_cluster_name(const char *name)
{
    size_t len = strlen(name);

    return len > 0 && len <= CFG_CLUSTER_NAME_MAX &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* "[cluster NAME]": starts a new cluster, a copy of the defaults. */
static int section_line(struct reader *rd, char *line, const char *where, struct errbuf *err)
{
    struct cfg *cfg = rd->cfg;
    char *name, *end = line + strlen(line) - 1;
    const struct cfg_cluster *twin;
    struct cfg_cluster *c;

    if (*end != ']')
        return errbuf_set(err, -EINVAL, "%s: expecting '[cluster NAME]'", where);
    *end = '\0';
    name = trim(line + 1);
    if (strncmp(name, "cluster", 7) != 0 || (name[7] && !isspace((unsigned char)name[7])))
        return errbuf_set(err, -EINVAL, "%s: expecting '[cluster NAME]', not '[%s]'", where, name);
    name = trim(name + 7);
    if (!valid_cluster_name(name))
        return errbuf_set(err, -EINVAL,
                          "%s: the cluster name '%s' is not 1 to %d letters, digits, '.', '_' "
                          "or '-'",
                          where, name, CFG_CLUSTER_NAME_MAX);
    if ((twin = cfg_find_cluster(cfg, name)))
        return errbuf_set(err, -EEXIST, "%s: cluster '%s' is defined twice (first at %s)", where,
                          name, twin->section);
    if (cfg->n_clusters == CFG_MAX_CLUSTERS)
        return errbuf_set(err, -E2BIG, "%s: more than %d clusters", where, CFG_MAX_CLUSTERS);
    cfg->clusters = xreallocarray(cfg->clusters, cfg->n_clusters + 1, sizeof(*cfg->clusters));
    c = &cfg->clusters[cfg->n_clusters++];
    cfg_cluster_copy(c, rd->base);
    free(c->name);
    c->name = xstrdup(name);
    c->section = xstrdup(where);
    c->set_in_section = 0;
    cfg->has_sections = true;
    rd->section = cfg->n_clusters;
    return 0;
}

/* Parses one "key = value" line; blank lines and '#' comments are fine. */
static int file_line(struct reader *rd, char *line, const char *where, struct errbuf *err)
{
    char *eq, *key, *value, hint[96];
    const struct setting *s;
    struct cfg_cluster *target;

    line = trim(line);
    if (*line == '\0' || *line == '#')
        return 0;
    if (*line == '[')
        return section_line(rd, line, where, err);
    eq = strchr(line, '=');
    if (!eq)
        return errbuf_set(err, -EINVAL, "%s: expecting 'key = value'", where);
    *eq = '\0';
    key = trim(line);
    value = trim(eq + 1);
    if (strlen(value) >= 2 && value[0] == '"' && value[strlen(value) - 1] == '"') {
        value[strlen(value) - 1] = '\0';
        value++;
    }
    s = cfg_table_find(key);
    if (!s) {
        cfg_table_suggest(key, false, hint, sizeof(hint));
        return errbuf_set(err, -EINVAL, "%s: unknown key '%s'%s", where, key, hint);
    }
    if (rd->section && s->pub.scope == CFG_SCOPE_DAEMON)
        return errbuf_set(err, -EINVAL,
                          "%s: '%s' applies to the whole daemon: set it before the first "
                          "[cluster] section",
                          where, key);
    target = rd->section ? &rd->cfg->clusters[rd->section - 1] : rd->base;
    if (rd->section)
        target->set_in_section |= 1ull << cfg_table_index(s);
    return cfg_table_apply(rd->cfg, target, s, value, CFG_SRC_FILE, where, err);
}

/* What a cluster of a file with sections must have: its own zk and listen,
 * a listener no other cluster uses. */
static int check_section(const struct cfg *cfg, size_t k, struct errbuf *err)
{
    const struct cfg_cluster *c = &cfg->clusters[k];
    struct listenaddr mine, theirs;

    for (size_t i = 0; i < 2; i++) {
        size_t need = i == 0 ? CFG_IDX_ZK : CFG_IDX_LISTEN;
        if (!(c->set_in_section & (1ull << need)))
            return errbuf_set(err, -EINVAL,
                              "%s: cluster '%s' sets no '%s' (each [cluster] section sets its "
                              "own 'zk' and 'listen')",
                              c->section, c->name, cfg_table_at(need)->pub.key);
    }
    if (listenaddr_parse(c->listen, &mine, NULL) < 0)
        return -EINVAL; /* checked when it was read */
    for (size_t j = 0; j < k; j++) {
        const struct cfg_cluster *o = &cfg->clusters[j];
        if (listenaddr_parse(o->listen, &theirs, NULL) == 0 && listenaddr_conflict(&mine, &theirs))
            return errbuf_set(err, -EADDRINUSE,
                              "%s: cluster '%s' listens on '%s', as cluster '%s' does on '%s' "
                              "(%s)",
                              c->origin[CFG_IDX_LISTEN], c->name, c->listen, o->name, o->listen,
                              o->origin[CFG_IDX_LISTEN]);
    }
    return 0;
}

static int check_sections(const struct cfg *cfg, const struct cfg_cluster *base, struct errbuf *err)
{
    int r;

    for (size_t i = 0; i < 2; i++) {
        size_t idx = i == 0 ? CFG_IDX_ZK : CFG_IDX_LISTEN;
        if (base->origin[idx])
            return errbuf_set(err, -EINVAL,
                              "%s: '%s' before the first [cluster] section: each section sets "
                              "its own",
                              base->origin[idx], cfg_table_at(idx)->pub.key);
    }
    for (size_t k = 0; k < cfg->n_clusters; k++) {
        if ((r = check_section(cfg, k, err)) < 0)
            return r;
    }
    return 0;
}

static int read_lines(struct reader *rd, FILE *f, const char *path, struct errbuf *err)
{
    char line[LINE_MAX_LEN], where[PATH_MAX + 32];
    unsigned lineno = 0;
    int r = 0;

    while (r == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        snprintf(where, sizeof(where), "%s:%u", path, lineno);
        if (!strchr(line, '\n') && !feof(f))
            r = errbuf_set(err, -EINVAL, "%s: line longer than %d bytes", where, LINE_MAX_LEN);
        else
            r = file_line(rd, line, where, err);
    }
    /* fgets() says "end" on a read error too (a directory: EISDIR). */
    if (r == 0 && ferror(f))
        r = errbuf_set(err, errno ? -errno : -EIO, "cannot read the configuration file '%s': %s",
                       path, strerror(errno ? errno : EIO));
    return r;
}

int cfg_file_read(struct cfg *cfg, struct cfg_cluster *base, const char *path, bool must_exist,
                  struct errbuf *err)
{
    struct reader rd = {.cfg = cfg, .base = base};
    FILE *f = fopen(path, "re");
    int r;

    if (!f) {
        if (errno == ENOENT && !must_exist)
            return 0;
        return errbuf_set(err, -errno, "cannot read the configuration file '%s': %s", path,
                          strerror(errno));
    }
    free(cfg->config_file);
    cfg->config_file = xstrdup(path);
    errno = 0;
    r = read_lines(&rd, f, path, err);
    fclose(f);
    if (r == 0 && cfg->has_sections)
        r = check_sections(cfg, base, err);
    return r;
}

void cfg_file_settle(struct cfg *cfg, struct cfg_cluster *base)
{
    if (cfg->n_clusters == 0) {
        cfg->clusters = xnew(struct cfg_cluster);
        cfg->clusters[0] = *base;
        cfg->n_clusters = 1;
    } else {
        cfg_cluster_done(base);
    }
    *base = (struct cfg_cluster){0};
}
