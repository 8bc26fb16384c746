/* cfg.c: one table of settings read from the command line, the
 * environment and the configuration file (with its [cluster] sections),
 * with typed, bounded readers; checks, comparison and reload rules of
 * clusters. */
#include "config.h"

#include "service/cfg.h"
#include "base/log.h"
#include "base/mem.h"
#include "service/cfgvalue.h"
#include "service/listenaddr.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096
#define HELP_WIDTH   80

enum value_type {
    T_STRING,    /* any non-empty text */
    T_LISTEN,    /* a listen address, checked by listenaddr_parse() */
    T_ZK,        /* a ZooKeeper URL, checked by zkurl_parse() once all is read */
    T_SCHEME,    /* http or https */
    T_PATH_LIST, /* comma-separated URL paths, may be empty */
    T_DURATION_MS,
    T_SIZE,
    T_UINT,
    T_MODE,
    T_LOGLEVEL,
};

/* One setting: what cfg.h shows of it, and how it is stored. Numbers are
 * bounded by [min, max] in their unit. */
struct setting {
    struct cfg_setting pub;
    enum value_type type;
    size_t offset; /* into struct cfg_cluster, or struct cfg for CFG_SCOPE_DAEMON */
    unsigned long long min, max;
};

#define CL(field) offsetof(struct cfg_cluster, field)
#define DM(field) offsetof(struct cfg, field)
#define CLUSTER   CFG_SCOPE_CLUSTER
#define DAEMON    CFG_SCOPE_DAEMON
#define APPLIES   CFG_RELOAD_APPLIES
#define RESTART   CFG_RELOAD_RESTART

/* Adding a setting: a line here, a field where it is stored, its entry in
 * docs/mesos-leaderd.conf.5.in (a unit test checks it), and the code that
 * uses it. */
static const struct setting settings[] = {
    {{"listen", 'l', "ADDR", "127.0.0.1:5050",
      "where to listen: HOST:PORT, [V6]:PORT or unix:/PATH", CLUSTER, RESTART},
     T_LISTEN,
     CL(listen),
     0,
     0},
    {{"listen-mode", 0, "MODE", "0660", "permissions of a Unix socket listener, in octal", CLUSTER,
      RESTART},
     T_MODE,
     CL(listen_mode),
     0,
     0777},
    {{"zk", 'z', "URL", "zk://127.0.0.1:2181/mesos",
      "ZooKeeper URL of the masters, as Mesos's --zk", CLUSTER, APPLIES},
     T_ZK,
     CL(zk),
     0,
     0},
    {{"zk-session-timeout", 0, "TIME", "10s", "ZooKeeper session timeout", CLUSTER, APPLIES},
     T_DURATION_MS,
     CL(zk_session_timeout_ms),
     1000,
     600000},
    {{"upstream-scheme", 0, "http|https", "http", "how to talk to the masters", CLUSTER, APPLIES},
     T_SCHEME,
     CL(upstream_scheme),
     0,
     0},
    {{"ca-file", 0, "FILE", NULL, "CA certificates to verify HTTPS masters (default: the system's)",
      CLUSTER, APPLIES},
     T_STRING,
     CL(ca_file),
     0,
     0},
    {{"cert-file", 0, "FILE", NULL, "client certificate for HTTPS masters", CLUSTER, APPLIES},
     T_STRING,
     CL(cert_file),
     0,
     0},
    {{"key-file", 0, "FILE", NULL, "key of the client certificate", CLUSTER, APPLIES},
     T_STRING,
     CL(key_file),
     0,
     0},
    {{"max-body", 0, "SIZE", "16MiB", "largest request body accepted, 413 above", CLUSTER, APPLIES},
     T_SIZE,
     CL(max_body),
     0,
     1ull << 30},
    {{"max-connections", 0, "N", "10000", "client connections served at once, 503 above", CLUSTER,
      CFG_RELOAD_LOWER_ONLY},
     T_UINT,
     CL(max_connections),
     1,
     1000000},
    {{"client-idle-timeout", 0, "TIME", "60s", "close idle kept-alive client connections after",
      CLUSTER, RESTART},
     T_DURATION_MS,
     CL(client_idle_timeout_ms),
     1000,
     86400000},
    {{"stream-idle-timeout", 0, "TIME", "75s", "end a stream that carries no data for", CLUSTER,
      APPLIES},
     T_DURATION_MS,
     CL(stream_idle_timeout_ms),
     100,
     86400000},
    {{"upstream-timeout", 0, "TIME", "75s", "limit for a call, and for a stream's headers", CLUSTER,
      APPLIES},
     T_DURATION_MS,
     CL(upstream_timeout_ms),
     100,
     86400000},
    {{"connect-timeout", 0, "TIME", "3s", "limit for connecting to a master", CLUSTER, APPLIES},
     T_DURATION_MS,
     CL(connect_timeout_ms),
     10,
     600000},
    {{"retry-tries", 0, "N", "3", "attempts per call when masters disagree with ZooKeeper", CLUSTER,
      APPLIES},
     T_UINT,
     CL(retry_tries),
     1,
     20},
    {{"retry-budget", 0, "TIME", "5s", "... all within this time", CLUSTER, APPLIES},
     T_DURATION_MS,
     CL(retry_budget_ms),
     0,
     600000},
    {{"state-cache-ttl", 0, "TIME", "0", "reuse an answer of a shared read for this long (0: off)",
      CLUSTER, APPLIES},
     T_DURATION_MS,
     CL(state_cache_ttl_ms),
     0,
     600000},
    {{"shared-reads", 0, "PATHS",
      "/state,/state-summary,/frameworks,/slaves,/tasks,/roles,"
      "/metrics/snapshot",
      "paths (also under /master/) whose identical concurrent GETs share one call to the "
      "master; empty: none",
      CLUSTER, APPLIES},
     T_PATH_LIST,
     CL(shared_reads),
     0,
     0},
    {{"startup-wait", 0, "TIME", "10s", "report ready to systemd after this even without a leader",
      DAEMON, APPLIES},
     T_DURATION_MS,
     DM(startup_wait_ms),
     0,
     600000},
    {{"drain-timeout", 0, "TIME", "5s", "on stop, let short calls finish for", DAEMON, APPLIES},
     T_DURATION_MS,
     DM(drain_timeout_ms),
     0,
     600000},
    {{"log-level", 0, "LEVEL", "info", "error, warning, notice, info or debug", DAEMON, APPLIES},
     T_LOGLEVEL,
     DM(log_level),
     LOG_ERR,
     LOG_DEBUG},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))
static_assert(N_SETTINGS <= CFG_MAX_SETTINGS, "raise CFG_MAX_SETTINGS");

#define IDX_LISTEN 0
#define IDX_ZK     2

const struct cfg_setting *cfg_setting_at(size_t i)
{
    return i < N_SETTINGS ? &settings[i].pub : NULL;
}

int cfg_setting_index(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (strcmp(settings[i].pub.key, key) == 0)
            return (int)i;
    }
    return -1;
}

static const struct setting *find_setting(const char *key)
{
    int i = cfg_setting_index(key);

    return i < 0 ? NULL : &settings[i];
}

static void env_name(const struct setting *s, char *var, size_t size);

static size_t index_of(const struct setting *s)
{
    return (size_t)(s - settings);
}

/* " (did you mean 'max-body'?)" when @word is close to a key, else "";
 * with @as_variable, the hint names the variable (MESOS_LEADERD_MAX_BODY). */
static void suggest_key(const char *word, bool as_variable, char *out, size_t size)
{
    const char *keys[N_SETTINGS];
    const char *best;
    char var[64];

    for (size_t i = 0; i < N_SETTINGS; i++)
        keys[i] = settings[i].pub.key;
    best = cfgvalue_closest(word, keys, N_SETTINGS);
    if (!best) {
        snprintf(out, size, "%s", "");
        return;
    }
    for (size_t i = 0; as_variable && i < N_SETTINGS; i++) {
        if (keys[i] == best) {
            env_name(&settings[i], var, sizeof(var));
            best = var;
        }
    }
    snprintf(out, size, " (did you mean '%s'?)", best);
}

/* --- values --------------------------------------------------------------- */

static bool is_string(enum value_type t)
{
    return t <= T_PATH_LIST;
}

static void *field_of(void *base, const struct setting *s)
{
    return (char *)base + s->offset;
}

static const void *cfield_of(const void *base, const struct setting *s)
{
    return (const char *)base + s->offset;
}

static unsigned long long number_of(const void *base, const struct setting *s)
{
    const void *f = cfield_of(base, s);

    if (s->type == T_UINT || s->type == T_MODE)
        return *(const unsigned *)f;
    if (s->type == T_LOGLEVEL)
        return (unsigned long long)*(const int *)f;
    return *(const uint64_t *)f;
}

static void store_number(void *base, const struct setting *s, unsigned long long v)
{
    void *f = field_of(base, s);

    if (s->type == T_UINT || s->type == T_MODE)
        *(unsigned *)f = (unsigned)v;
    else if (s->type == T_LOGLEVEL)
        *(int *)f = (int)v;
    else
        *(uint64_t *)f = v; /* durations (ms) and sizes */
}

static void store_string(void *base, const struct setting *s, const char *value)
{
    char **f = field_of(base, s);

    free(*f);
    *f = xstrdup(value);
}

static const char *type_hint(enum value_type t)
{
    switch (t) {
    case T_DURATION_MS:
        return "a duration such as 500ms, 10s or 2m";
    case T_SIZE:
        return "a size such as 65536, 64KiB or 16MiB";
    case T_UINT:
        return "a whole number";
    case T_LOGLEVEL:
        return "one of error, warning, notice, info, debug";
    case T_SCHEME:
        return "http or https";
    case T_MODE:
        return "an octal mode such as 0660";
    default:
        return "a value";
    }
}

static int read_number(const struct setting *s, const char *value, unsigned long long *ret)
{
    int level;

    switch (s->type) {
    case T_DURATION_MS:
        return cfgvalue_duration_ms(value, ret);
    case T_SIZE:
        return cfgvalue_size(value, ret);
    case T_MODE:
        return cfgvalue_mode(value, ret);
    case T_LOGLEVEL:
        if (log_level_parse(value, &level) < 0)
            return -EINVAL;
        *ret = (unsigned long long)level;
        return 0;
    default:
        return cfgvalue_uint(value, ret);
    }
}

/* Checks text values; 0 when @value may be stored. */
static int check_text(const struct setting *s, const char *value, struct errbuf *err)
{
    struct listenaddr spec;
    const char *key = s->pub.key;
    int r;

    if (s->type == T_PATH_LIST) {
        r = cfgvalue_check_paths(value, err);
        return r < 0 ? errbuf_prefix(err, r, "'%s' = '%s'", key, value) : 0;
    }
    if (!*value)
        return errbuf_set(err, -EINVAL, "'%s' must not be empty", key);
    if (s->type == T_SCHEME && strcmp(value, "http") != 0 && strcmp(value, "https") != 0)
        return errbuf_set(err, -EINVAL, "'%s' = '%s' is not %s", key, value, type_hint(s->type));
    if (s->type == T_LISTEN && (r = listenaddr_parse(value, &spec, err)) < 0)
        return errbuf_prefix(err, r, "'%s' = '%s'", key, value);
    return 0;
}

/* Stores @value into @base (a struct cfg_cluster or struct cfg). */
static int store_value(void *base, const struct setting *s, const char *value, struct errbuf *err)
{
    unsigned long long v;
    int r;

    if (is_string(s->type)) {
        r = check_text(s, value, err);
        if (r == 0)
            store_string(base, s, value);
        return r;
    }
    r = read_number(s, value, &v);
    if (r == -ERANGE || (r == 0 && (v < s->min || v > s->max)))
        return errbuf_set(err, -ERANGE, "'%s' = '%s' is out of range", s->pub.key, value);
    if (r < 0)
        return errbuf_set(err, -EINVAL, "'%s' = '%s' is not %s", s->pub.key, value,
                          type_hint(s->type));
    store_number(base, s, v);
    return 0;
}

/* The value in @base as it would be written in the file. */
static void format_value(const void *base, const struct setting *s, char *out, size_t size)
{
    unsigned long long v;

    if (is_string(s->type)) {
        const char *text = *(char *const *)cfield_of(base, s);
        snprintf(out, size, "%s", text ? text : "(none)");
        return;
    }
    v = number_of(base, s);
    if (s->type == T_DURATION_MS)
        cfgvalue_format_duration(v, out, size);
    else if (s->type == T_SIZE)
        cfgvalue_format_size(v, out, size);
    else if (s->type == T_MODE)
        snprintf(out, size, "%04llo", v);
    else if (s->type == T_LOGLEVEL)
        snprintf(out, size, "%s", log_level_name((int)v));
    else
        snprintf(out, size, "%llu", v);
}

/* --- sources -------------------------------------------------------------- */

enum source { SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_ARGS };

/* Sets @s from text in @cfg (daemon-wide) or @cl; @where says where the
 * value came from, for errors and for later checks (NULL: a default). */
static int apply(struct cfg *cfg, struct cfg_cluster *cl, const struct setting *s,
                 const char *value, enum source src, const char *where, struct errbuf *err)
{
    bool daemon_wide = s->pub.scope == CFG_SCOPE_DAEMON;
    int r = store_value(daemon_wide ? (void *)cfg : (void *)cl, s, value, err);

    if (r < 0)
        return where ? errbuf_prefix(err, r, "%s", where) : r;
    if (daemon_wide)
        return 0;
    free(cl->origin[index_of(s)]);
    cl->origin[index_of(s)] = xstrdup(where);
    if (index_of(s) == IDX_ZK)
        cl->zk_from_file = src == SRC_FILE;
    return 0;
}

/* Sets @s from the environment or the command line: daemon-wide, or in
 * every cluster. With sections, "zk" and "listen" cannot come from there. */
static int apply_everywhere(struct cfg *cfg, const struct setting *s, const char *value,
                            enum source src, const char *where, struct errbuf *err)
{
    size_t i = index_of(s);
    int r;

    if (s->pub.scope == CFG_SCOPE_DAEMON)
        return apply(cfg, NULL, s, value, src, where, err);
    if (cfg->has_sections && (i == IDX_ZK || i == IDX_LISTEN))
        return errbuf_set(err, -EINVAL,
                          "%s: '%s' cannot be set here: '%s' has [cluster] sections, each of "
                          "which sets its own",
                          where, s->pub.key, cfg->config_file);
    for (size_t k = 0; k < cfg->n_clusters; k++) {
        r = apply(cfg, &cfg->clusters[k], s, value, src, where, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static void set_defaults(struct cfg *cfg, struct cfg_cluster *base)
{
    *base = (struct cfg_cluster){0};
    base->name = xstrdup("");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        /* The table's defaults are valid: the unit tests load them. */
        if (s->pub.default_value &&
            apply(cfg, base, s, s->pub.default_value, SRC_DEFAULT, NULL, NULL) < 0)
            abort();
    }
}

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

/* --- the file and its sections -------------------------------------------- */

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
    s = find_setting(key);
    if (!s) {
        suggest_key(key, false, hint, sizeof(hint));
        return errbuf_set(err, -EINVAL, "%s: unknown key '%s'%s", where, key, hint);
    }
    if (rd->section && s->pub.scope == CFG_SCOPE_DAEMON)
        return errbuf_set(err, -EINVAL,
                          "%s: '%s' applies to the whole daemon: set it before the first "
                          "[cluster] section",
                          where, key);
    target = rd->section ? &rd->cfg->clusters[rd->section - 1] : rd->base;
    if (rd->section)
        target->set_in_section |= 1ull << index_of(s);
    return apply(rd->cfg, target, s, value, SRC_FILE, where, err);
}

/* What a cluster of a file with sections must have: its own zk and listen,
 * a listener no other cluster uses. */
static int check_section(const struct cfg *cfg, size_t k, struct errbuf *err)
{
    const struct cfg_cluster *c = &cfg->clusters[k];
    struct listenaddr mine, theirs;

    for (size_t i = 0; i < 2; i++) {
        size_t need = i == 0 ? IDX_ZK : IDX_LISTEN;
        if (!(c->set_in_section & (1ull << need)))
            return errbuf_set(err, -EINVAL,
                              "%s: cluster '%s' sets no '%s' (each [cluster] section sets its "
                              "own 'zk' and 'listen')",
                              c->section, c->name, settings[need].pub.key);
    }
    if (listenaddr_parse(c->listen, &mine, NULL) < 0)
        return -EINVAL; /* checked when it was read */
    for (size_t j = 0; j < k; j++) {
        const struct cfg_cluster *o = &cfg->clusters[j];
        if (listenaddr_parse(o->listen, &theirs, NULL) == 0 && listenaddr_conflict(&mine, &theirs))
            return errbuf_set(err, -EADDRINUSE,
                              "%s: cluster '%s' listens on '%s', as cluster '%s' does on '%s' "
                              "(%s)",
                              c->origin[IDX_LISTEN], c->name, c->listen, o->name, o->listen,
                              o->origin[IDX_LISTEN]);
    }
    return 0;
}

static int check_sections(const struct cfg *cfg, const struct cfg_cluster *base, struct errbuf *err)
{
    int r;

    for (size_t i = 0; i < 2; i++) {
        size_t idx = i == 0 ? IDX_ZK : IDX_LISTEN;
        if (base->origin[idx])
            return errbuf_set(err, -EINVAL,
                              "%s: '%s' before the first [cluster] section: each section sets "
                              "its own",
                              base->origin[idx], settings[idx].pub.key);
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

static int read_file(struct cfg *cfg, struct cfg_cluster *base, const char *path, bool must_exist,
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

/* After the file: without sections, the defaults are the one cluster. */
static void settle_clusters(struct cfg *cfg, struct cfg_cluster *base)
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

/* --- the environment ------------------------------------------------------ */

/* MESOS_LEADERD_<KEY> for @s into @var. */
static void env_name(const struct setting *s, char *var, size_t size)
{
    size_t n = (size_t)snprintf(var, size, CFG_ENV_PREFIX "%s", s->pub.key);

    for (size_t k = strlen(CFG_ENV_PREFIX); k < n && k < size; k++)
        var[k] = var[k] == '-' ? '_' : (char)toupper((unsigned char)var[k]);
}

static bool known_variable(const char *name, size_t len)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char var[64];
        env_name(&settings[i], var, sizeof(var));
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
        suggest_key(name, true, hint, sizeof(hint));
        return errbuf_set(err, -EINVAL, "unknown variable '%.*s'%s", (int)(eq - *e), *e,
                          hint[0] ? hint : " (see --help)");
    }
    return 0;
}

static int read_environment(struct cfg *cfg, struct errbuf *err)
{
    int r = check_unknown_variables(err);

    for (size_t i = 0; r == 0 && i < N_SETTINGS; i++) {
        char var[64];
        const char *value;
        env_name(&settings[i], var, sizeof(var));
        value = secure_getenv(var);
        if (value)
            r = apply_everywhere(cfg, &settings[i], value, SRC_ENV, var, err);
    }
    return r;
}

/* --- the command line ----------------------------------------------------- */

enum { OPT_CONFIG = 'c', OPT_TEST = 't', OPT_HELP = 'h', OPT_VERSION = 'V', OPT_BASE = 256 };

static const char *const other_options[] = {"config", "test-config", "help", "version"};

static void build_options(struct option *longopts, char *shortopts)
{
    size_t n = 0, k = 0;

    shortopts[k++] = ':'; /* a missing value is ':', an unknown option '?' */
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct cfg_setting *s = &settings[i].pub;
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
    if (c >= OPT_BASE && (size_t)(c - OPT_BASE) < N_SETTINGS)
        return &settings[c - OPT_BASE];
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].pub.short_opt && settings[i].pub.short_opt == c)
            return &settings[i];
    }
    return NULL;
}

/* Says what is wrong with the option getopt_long() refused. */
static int bad_option(int c, const char *arg, struct errbuf *err)
{
    const char *words[N_SETTINGS + 4], *best;
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
    for (size_t i = 0; i < N_SETTINGS; i++)
        words[i] = settings[i].pub.key;
    memcpy(words + N_SETTINGS, other_options, sizeof(other_options));
    best = strncmp(arg, "--", 2) == 0 ? cfgvalue_closest(name, words, N_SETTINGS + 4) : NULL;
    if (best)
        return errbuf_set(err, -EINVAL, "unknown option '%s' (did you mean '--%s'?)", arg, best);
    return errbuf_set(err, -EINVAL, "unknown option '%s' (see --help)", arg);
}

/* Pass 1 (@apply_settings false) finds --config, -t, -h, -V; pass 2 applies
 * the settings over what the environment and the file gave. */
static int scan_args(int argc, char *const argv[], struct cfg *cfg, bool apply_settings,
                     enum cfg_action *action, struct errbuf *err)
{
    struct option longopts[N_SETTINGS + 5];
    char shortopts[2 * N_SETTINGS + 10], where[96];
    int c;

    build_options(longopts, shortopts);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct setting *s = setting_for_option(c);
        if (s && apply_settings) {
            snprintf(where, sizeof(where), "option --%s", s->pub.key);
            if (apply_everywhere(cfg, s, optarg, SRC_ARGS, where, err) < 0)
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

/* --- checks and derived values -------------------------------------------- */

/* "ORIGIN: " for setting @idx of @c, or "" for a default. */
static const char *origin_prefix(const struct cfg_cluster *c, size_t idx, char *buf, size_t size)
{
    if (!c->origin[idx])
        return "";
    snprintf(buf, size, "%s: ", c->origin[idx]);
    return buf;
}

static int check_readable(const struct cfg_cluster *c, const char *key, struct errbuf *err)
{
    int i = cfg_setting_index(key);
    const char *path = i < 0 ? NULL : *(char *const *)cfield_of(c, &settings[i]);
    char where[PATH_MAX + 48];

    if (path && access(path, R_OK) < 0)
        return errbuf_set(err, -errno, "%s'%s' = '%s' cannot be read: %s",
                          origin_prefix(c, (size_t)i, where, sizeof(where)), key, path,
                          strerror(errno));
    return 0;
}

/* Fills the proxy configuration from the cluster's own values. */
static void fill_proxy(struct cfg_cluster *c)
{
    c->proxy = (struct proxy_config){
        .max_body = (size_t)c->max_body,
        .max_connections = c->max_connections,
        .client_idle_timeout_s = (unsigned)((c->client_idle_timeout_ms + 999) / 1000),
        .stream_idle_timeout_ms = c->stream_idle_timeout_ms,
        .upstream_timeout_ms = c->upstream_timeout_ms,
        .retry_tries = c->retry_tries,
        .retry_budget_ms = c->retry_budget_ms,
        .upstream = {.https = strcmp(c->upstream_scheme, "https") == 0,
                     .ca_file = c->ca_file,
                     .cert_file = c->cert_file,
                     .key_file = c->key_file,
                     .connect_timeout_ms = (long)c->connect_timeout_ms},
        .state_cache_ttl_ms = c->state_cache_ttl_ms,
        .shared_reads = (const char *const *)c->shared_read_paths,
        .cluster = c->name,
    };
}

static void derive(struct cfg_cluster *c)
{
    cfgvalue_free_paths(c->shared_read_paths);
    c->shared_read_paths = cfgvalue_split_paths(c->shared_reads);
    fill_proxy(c);
}

static int check_cluster(struct cfg_cluster *c, bool files_readable, struct errbuf *err)
{
    char where[PATH_MAX + 48];
    int r;

    zkurl_done(&c->zk_url);
    r = zkurl_parse(c->zk, &c->zk_url, err);
    if (r < 0)
        return errbuf_prefix(err, r, "%s'zk' is invalid",
                             origin_prefix(c, IDX_ZK, where, sizeof(where)));
    if (files_readable && ((r = check_readable(c, "ca-file", err)) < 0 ||
                           (r = check_readable(c, "cert-file", err)) < 0 ||
                           (r = check_readable(c, "key-file", err)) < 0))
        return r;
    if ((c->cert_file != NULL) != (c->key_file != NULL)) {
        int set = cfg_setting_index(c->cert_file ? "cert-file" : "key-file");
        return errbuf_set(err, -EINVAL, "%s'cert-file' and 'key-file' go together",
                          origin_prefix(c, (size_t)set, where, sizeof(where)));
    }
    derive(c);
    return 0;
}

static int check(struct cfg *cfg, bool files_readable, struct errbuf *err)
{
    int r;

    for (size_t k = 0; k < cfg->n_clusters; k++) {
        r = check_cluster(&cfg->clusters[k], files_readable, err);
        if (r < 0)
            return cfg->has_sections ? errbuf_prefix(err, r, "cluster '%s'", cfg->clusters[k].name)
                                     : r;
    }
    return 0;
}

/* --- loading -------------------------------------------------------------- */

int cfg_load(int argc, char *const argv[], struct cfg *ret, enum cfg_action *ret_action,
             struct errbuf *err)
{
    struct cfg cfg = {0}, first = {0};
    struct cfg_cluster base;
    enum cfg_action action = CFG_RUN;
    int r;

    r = scan_args(argc, argv, &first, false, &action, err);
    if (r < 0 || action != CFG_RUN) {
        cfg_done(&first);
        *ret_action = action;
        return r;
    }
    set_defaults(&cfg, &base);
    cfg.test_only = first.test_only;
    cfg.config_file_explicit = first.config_file_explicit;
    r = read_file(&cfg, &base, first.config_file ? first.config_file : CFG_DEFAULT_FILE,
                  first.config_file_explicit, err);
    cfg_done(&first);
    settle_clusters(&cfg, &base);
    if (r == 0)
        r = read_environment(&cfg, err);
    if (r == 0)
        r = scan_args(argc, argv, &cfg, true, &action, err);
    if (r == 0)
        r = check(&cfg, true, err);
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

    set_defaults(&cfg, &base);
    cfg.config_file_explicit = true;
    r = read_file(&cfg, &base, path, true, err);
    settle_clusters(&cfg, &base);
    if (r == 0)
        r = check(&cfg, false, err);
    if (r < 0) {
        cfg_done(&cfg);
        return r;
    }
    *ret = cfg;
    return 0;
}

/* --- --help ----------------------------------------------------------------- */

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
    fprintf(out, "Usage: mesos-leaderd [OPTIONS]\n"
                 "Serve a stable local endpoint that forwards every Mesos HTTP call to the\n"
                 "leading master found in ZooKeeper.\n\n"
                 "Settings:\n");
    for (size_t i = 0; i < N_SETTINGS; i++)
        usage_setting(out, &settings[i].pub);
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

/* --- clusters --------------------------------------------------------------- */

void cfg_cluster_done(struct cfg_cluster *c)
{
    if (!c)
        return;
    free(c->name);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].pub.scope == CFG_SCOPE_CLUSTER && is_string(settings[i].type))
            free(*(char **)field_of(c, &settings[i]));
        free(c->origin[i]);
    }
    zkurl_done(&c->zk_url);
    cfgvalue_free_paths(c->shared_read_paths);
    free(c->section);
    *c = (struct cfg_cluster){0};
}

void cfg_cluster_copy(struct cfg_cluster *ret, const struct cfg_cluster *src)
{
    *ret = *src;
    ret->name = xstrdup(src->name);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].pub.scope == CFG_SCOPE_CLUSTER && is_string(settings[i].type)) {
            char **f = field_of(ret, &settings[i]);
            *f = xstrdup(*f);
        }
        ret->origin[i] = xstrdup(src->origin[i]);
    }
    ret->zk_url = (struct zkurl){xstrdup(src->zk_url.hosts), xstrdup(src->zk_url.path),
                                 xstrdup(src->zk_url.credentials)};
    ret->shared_read_paths = NULL;
    if (src->shared_read_paths) {
        size_t n = 0;
        while (src->shared_read_paths[n])
            n++;
        ret->shared_read_paths = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            ret->shared_read_paths[i] = xstrdup(src->shared_read_paths[i]);
    }
    ret->section = xstrdup(src->section);
    fill_proxy(ret);
}

const struct cfg_cluster *cfg_find_cluster(const struct cfg *cfg, const char *name)
{
    for (size_t k = 0; k < cfg->n_clusters; k++) {
        if (strcmp(cfg->clusters[k].name, name) == 0)
            return &cfg->clusters[k];
    }
    return NULL;
}

static bool same_value(const struct cfg_cluster *a, const struct cfg_cluster *b,
                       const struct setting *s)
{
    const char *x, *y;

    if (!is_string(s->type))
        return number_of(a, s) == number_of(b, s);
    if (s->type == T_ZK && a->zk_url.hosts && b->zk_url.hosts)
        return zkurl_equal(&a->zk_url, &b->zk_url);
    x = *(char *const *)cfield_of(a, s);
    y = *(char *const *)cfield_of(b, s);
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

size_t cfg_cluster_diff(const struct cfg_cluster *a, const struct cfg_cluster *b,
                        void (*fn)(void *data, const struct cfg_setting *s), void *data)
{
    size_t n = 0;

    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].pub.scope != CFG_SCOPE_CLUSTER || same_value(a, b, &settings[i]))
            continue;
        n++;
        if (fn)
            fn(data, &settings[i].pub);
    }
    return n;
}

bool cfg_cluster_equal(const struct cfg_cluster *a, const struct cfg_cluster *b)
{
    return cfg_cluster_diff(a, b, NULL, NULL) == 0;
}

/* Puts the value of @s in @from into @to. */
static void copy_value(struct cfg_cluster *to, const struct cfg_cluster *from,
                       const struct setting *s)
{
    if (is_string(s->type))
        store_string(to, s, *(char *const *)cfield_of(from, s));
    else
        store_number(to, s, number_of(from, s));
}

/* Keeps the value at start of one setting, if it must be kept; says so. */
static void hold_one(const struct cfg_cluster *started, struct cfg_cluster *next,
                     const struct setting *s, cfg_warn_fn *fn, void *data)
{
    char was[256], wanted[256], msg[1024], who[CFG_CLUSTER_NAME_MAX + 16] = "";

    if (s->pub.reload == CFG_RELOAD_APPLIES || same_value(started, next, s))
        return;
    if (s->pub.reload == CFG_RELOAD_LOWER_ONLY && number_of(next, s) <= number_of(started, s))
        return;
    format_value(started, s, was, sizeof(was));
    format_value(next, s, wanted, sizeof(wanted));
    if (next->name[0])
        snprintf(who, sizeof(who), "cluster '%s': ", next->name);
    if (s->pub.reload == CFG_RELOAD_LOWER_ONLY)
        snprintf(msg, sizeof(msg), "%s'%s' = %s: it can grow past %s only with a restart; still %s",
                 who, s->pub.key, wanted, was, was);
    else
        snprintf(msg, sizeof(msg), "%s'%s' changed to %s: that takes a restart; still %s", who,
                 s->pub.key, wanted, was);
    copy_value(next, started, s);
    fn(data, msg);
}

void cfg_cluster_hold_restart(const struct cfg_cluster *started, struct cfg_cluster *next,
                              cfg_warn_fn *fn, void *data)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].pub.scope == CFG_SCOPE_CLUSTER)
            hold_one(started, next, &settings[i], fn, data);
    }
    derive(next);
}

/* --- warnings --------------------------------------------------------------- */

static void warnf(cfg_warn_fn *fn, void *data, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warnf(cfg_warn_fn *fn, void *data, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fn(data, msg);
}

/* Warns when @path, which holds ZooKeeper credentials, is world-readable. */
static void warn_if_readable(const char *path, const char *what, cfg_warn_fn *fn, void *data)
{
    struct stat st;

    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
        warnf(fn, data,
              "%s '%s' holds ZooKeeper credentials and is readable by every user; chmod o-r it",
              what, path);
}

void cfg_warn(const struct cfg *cfg, cfg_warn_fn *fn, void *data)
{
    bool file_warned = false;

    for (size_t k = 0; k < cfg->n_clusters; k++) {
        const struct cfg_cluster *c = &cfg->clusters[k];
        struct listenaddr spec;
        char who[CFG_CLUSTER_NAME_MAX + 16] = "";
        if (c->name[0])
            snprintf(who, sizeof(who), "cluster '%s': ", c->name);
        if (listenaddr_parse(c->listen, &spec, NULL) == 0 && !listenaddr_is_loopback(&spec))
            warnf(fn, data,
                  "%slistening on '%s', which is not a loopback address: every host that can "
                  "reach it can use the Mesos API with the credentials its calls carry",
                  who, c->listen);
        if (!c->zk_url.credentials)
            continue;
        /* The password sits in the configuration file itself only when the
         * file names a zk:// URL (a file:// URL points to where it is). */
        if (c->zk_from_file && cfg->config_file && strncmp(c->zk, "zk://", 5) == 0 &&
            !file_warned) {
            warn_if_readable(cfg->config_file, "the configuration file", fn, data);
            file_warned = true;
        }
        if (strncmp(c->zk, "file://", 7) == 0)
            warn_if_readable(c->zk + 7, "the ZooKeeper URL file", fn, data);
    }
}

void cfg_done(struct cfg *cfg)
{
    for (size_t k = 0; k < cfg->n_clusters; k++)
        cfg_cluster_done(&cfg->clusters[k]);
    free(cfg->clusters);
    free(cfg->config_file);
    *cfg = (struct cfg){0};
}
