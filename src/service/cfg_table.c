/* cfg_table.c: the table of every setting (key, option, type, bounds,
 * default, scope, reload rule), the defaults it gives, and how a value is
 * read from text, checked, stored and written back (see cfg_table.h). */
#include "config.h"

#include "service/cfg_table.h"
#include "base/log.h"
#include "base/mem.h"
#include "service/cfgvalue.h"
#include "service/listenaddr.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const struct setting *cfg_table_at(size_t i)
{
    return i < N_SETTINGS ? &settings[i] : NULL;
}

size_t cfg_table_count(void)
{
    return N_SETTINGS;
}

const struct setting *cfg_table_find(const char *key)
{
    int i = cfg_setting_index(key);

    return i < 0 ? NULL : &settings[i];
}

size_t cfg_table_index(const struct setting *s)
{
    return (size_t)(s - settings);
}

void cfg_table_env_name(const struct setting *s, char *var, size_t size)
{
    size_t n = (size_t)snprintf(var, size, CFG_ENV_PREFIX "%s", s->pub.key);

    for (size_t k = strlen(CFG_ENV_PREFIX); k < n && k < size; k++)
        var[k] = var[k] == '-' ? '_' : (char)toupper((unsigned char)var[k]);
}

void cfg_table_suggest(const char *word, bool as_variable, char *out, size_t size)
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
            cfg_table_env_name(&settings[i], var, sizeof(var));
            best = var;
        }
    }
    snprintf(out, size, " (did you mean '%s'?)", best);
}

/* --- values --------------------------------------------------------------- */

bool cfg_table_is_text(const struct setting *s)
{
    return s->type <= T_PATH_LIST;
}

static void *field_of(void *base, const struct setting *s)
{
    return (char *)base + s->offset;
}

static const void *cfield_of(const void *base, const struct setting *s)
{
    return (const char *)base + s->offset;
}

char **cfg_table_text_field(void *base, const struct setting *s)
{
    return field_of(base, s);
}

const char *cfg_table_text(const void *base, const struct setting *s)
{
    return *(char *const *)cfield_of(base, s);
}

unsigned long long cfg_table_number(const void *base, const struct setting *s)
{
    const void *f = cfield_of(base, s);

    if (s->type == T_UINT || s->type == T_MODE)
        return *(const unsigned *)f;
    if (s->type == T_LOGLEVEL)
        return (unsigned long long)*(const int *)f;
    return *(const uint64_t *)f;
}

void cfg_table_store_number(void *base, const struct setting *s, unsigned long long v)
{
    void *f = field_of(base, s);

    if (s->type == T_UINT || s->type == T_MODE)
        *(unsigned *)f = (unsigned)v;
    else if (s->type == T_LOGLEVEL)
        *(int *)f = (int)v;
    else
        *(uint64_t *)f = v; /* durations (ms) and sizes */
}

void cfg_table_store_text(void *base, const struct setting *s, const char *value)
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

    if (cfg_table_is_text(s)) {
        r = check_text(s, value, err);
        if (r == 0)
            cfg_table_store_text(base, s, value);
        return r;
    }
    r = read_number(s, value, &v);
    if (r == -ERANGE || (r == 0 && (v < s->min || v > s->max)))
        return errbuf_set(err, -ERANGE, "'%s' = '%s' is out of range", s->pub.key, value);
    if (r < 0)
        return errbuf_set(err, -EINVAL, "'%s' = '%s' is not %s", s->pub.key, value,
                          type_hint(s->type));
    cfg_table_store_number(base, s, v);
    return 0;
}

void cfg_table_format(const void *base, const struct setting *s, char *out, size_t size)
{
    unsigned long long v;

    if (cfg_table_is_text(s)) {
        const char *text = cfg_table_text(base, s);
        snprintf(out, size, "%s", text ? text : "(none)");
        return;
    }
    v = cfg_table_number(base, s);
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

/* --- applying a value ------------------------------------------------------- */

int cfg_table_apply(struct cfg *cfg, struct cfg_cluster *cl, const struct setting *s,
                    const char *value, enum cfg_source src, const char *where, struct errbuf *err)
{
    bool daemon_wide = s->pub.scope == CFG_SCOPE_DAEMON;
    size_t i = cfg_table_index(s);
    int r = store_value(daemon_wide ? (void *)cfg : (void *)cl, s, value, err);

    if (r < 0)
        return where ? errbuf_prefix(err, r, "%s", where) : r;
    if (daemon_wide)
        return 0;
    free(cl->origin[i]);
    cl->origin[i] = xstrdup(where);
    if (i == CFG_IDX_ZK)
        cl->zk_from_file = src == CFG_SRC_FILE;
    return 0;
}

int cfg_table_apply_everywhere(struct cfg *cfg, const struct setting *s, const char *value,
                               enum cfg_source src, const char *where, struct errbuf *err)
{
    size_t i = cfg_table_index(s);
    int r;

    if (s->pub.scope == CFG_SCOPE_DAEMON)
        return cfg_table_apply(cfg, NULL, s, value, src, where, err);
    if (cfg->has_sections && (i == CFG_IDX_ZK || i == CFG_IDX_LISTEN))
        return errbuf_set(err, -EINVAL,
                          "%s: '%s' cannot be set here: '%s' has [cluster] sections, each of "
                          "which sets its own",
                          where, s->pub.key, cfg->config_file);
    for (size_t k = 0; k < cfg->n_clusters; k++) {
        r = cfg_table_apply(cfg, &cfg->clusters[k], s, value, src, where, err);
        if (r < 0)
            return r;
    }
    return 0;
}

void cfg_table_defaults(struct cfg *cfg, struct cfg_cluster *base)
{
    *base = (struct cfg_cluster){0};
    base->name = xstrdup("");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        /* The table's defaults are valid: the unit tests load them. */
        if (s->pub.default_value &&
            cfg_table_apply(cfg, base, s, s->pub.default_value, CFG_SRC_DEFAULT, NULL, NULL) < 0)
            abort();
    }
}
