/* cfg.c: one table of settings read from the command line, the
 * environment and the configuration file, with typed, bounded readers. */
#include "config.h"

#include "service/cfg.h"
#include "base/log.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

enum value_type { T_STRING, T_DURATION_MS, T_SIZE, T_UINT, T_LOGLEVEL, T_SCHEME, T_MODE };

/* One setting. Numbers are bounded by [min, max] in their unit. */
struct setting {
    const char *key;
    int short_opt;
    enum value_type type;
    size_t offset; /* into struct cfg */
    unsigned long long min, max;
    const char *arg;
    const char *help;
};

#define OFF(field) offsetof(struct cfg, field)

static const struct setting settings[] = {
    {"listen", 'l', T_STRING, OFF(listen), 0, 0, "ADDR",
     "where to listen: HOST:PORT, [V6]:PORT or unix:/PATH (default 127.0.0.1:5050)"},
    {"listen-mode", 0, T_MODE, OFF(listen_mode), 0, 0777, "MODE",
     "permissions of a Unix socket listener, in octal (default 0660)"},
    {"zk", 'z', T_STRING, OFF(zk), 0, 0, "URL",
     "ZooKeeper URL of the masters, as Mesos's --zk (default zk://127.0.0.1:2181/mesos)"},
    {"zk-session-timeout", 0, T_DURATION_MS, OFF(zk_session_timeout_ms), 1000, 600000, "TIME",
     "ZooKeeper session timeout (default 10s)"},
    {"upstream-scheme", 0, T_SCHEME, OFF(upstream_scheme), 0, 0, "http|https",
     "how to talk to the masters (default http)"},
    {"ca-file", 0, T_STRING, OFF(ca_file), 0, 0, "FILE",
     "CA certificates to verify HTTPS masters (default: the system's)"},
    {"cert-file", 0, T_STRING, OFF(cert_file), 0, 0, "FILE",
     "client certificate for HTTPS masters"},
    {"key-file", 0, T_STRING, OFF(key_file), 0, 0, "FILE", "key of the client certificate"},
    {"max-body", 0, T_SIZE, OFF(max_body), 0, 1ull << 30, "SIZE",
     "largest request body accepted, 413 above (default 16MiB)"},
    {"max-connections", 0, T_UINT, OFF(max_connections), 1, 1000000, "N",
     "client connections served at once, 503 above (default 10000)"},
    {"client-idle-timeout", 0, T_DURATION_MS, OFF(client_idle_timeout_ms), 1000, 86400000, "TIME",
     "close idle kept-alive client connections after (default 60s)"},
    {"stream-idle-timeout", 0, T_DURATION_MS, OFF(stream_idle_timeout_ms), 100, 86400000, "TIME",
     "end a stream that carries no data for (default 75s)"},
    {"upstream-timeout", 0, T_DURATION_MS, OFF(upstream_timeout_ms), 100, 86400000, "TIME",
     "limit for a call, and for a stream's headers (default 75s)"},
    {"connect-timeout", 0, T_DURATION_MS, OFF(connect_timeout_ms), 10, 600000, "TIME",
     "limit for connecting to a master (default 3s)"},
    {"retry-tries", 0, T_UINT, OFF(retry_tries), 1, 20, "N",
     "attempts per call when masters disagree with ZooKeeper (default 3)"},
    {"retry-budget", 0, T_DURATION_MS, OFF(retry_budget_ms), 0, 600000, "TIME",
     "... all within this time (default 5s)"},
    {"startup-wait", 0, T_DURATION_MS, OFF(startup_wait_ms), 0, 600000, "TIME",
     "report ready to systemd after this even without a leader (default 10s)"},
    {"drain-timeout", 0, T_DURATION_MS, OFF(drain_timeout_ms), 0, 600000, "TIME",
     "on stop, let short calls finish for (default 5s)"},
    {"log-level", 0, T_LOGLEVEL, OFF(log_level), 0, 0, "LEVEL",
     "error, warning, notice, info or debug (default info)"},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* --- value readers ------------------------------------------------------- */

static int parse_number(const char *text, unsigned long long *ret, const char **ret_unit)
{
    char *end;
    unsigned long long v;

    if (!isdigit((unsigned char)*text))
        return -EINVAL;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno)
        return -ERANGE;
    while (*end == ' ')
        end++;
    *ret = v;
    *ret_unit = end;
    return 0;
}

/* A unit suffix and what it multiplies by. */
struct unit {
    const char *name;
    unsigned long long factor;
};

/* Reads "<number><unit>" where the unit is one of @units (ending with a NULL
 * name); the result must not overflow. */
static int parse_with_units(const char *text, const struct unit *units, unsigned long long *ret)
{
    unsigned long long v;
    const char *unit;

    if (parse_number(text, &v, &unit) < 0)
        return -EINVAL;
    for (const struct unit *u = units; u->name; u++) {
        if (strcmp(unit, u->name) == 0) {
            if (v > ULLONG_MAX / u->factor)
                return -ERANGE;
            *ret = v * u->factor;
            return 0;
        }
    }
    return -EINVAL;
}

/* "500ms", "10s", "2m", "1h", or a bare number of seconds; in ms. */
static int parse_duration_ms(const char *text, unsigned long long *ret)
{
    static const struct unit units[] = {{"", 1000},     {"ms", 1},      {"s", 1000}, {"m", 60000},
                                        {"min", 60000}, {"h", 3600000}, {NULL, 0}};

    return parse_with_units(text, units, ret);
}

/* "1024", "64k", "16MiB", "1G"... (binary multiples). */
static int parse_size(const char *text, unsigned long long *ret)
{
    static const struct unit units[] = {{"", 1},
                                        {"B", 1},
                                        {"k", 1ull << 10},
                                        {"K", 1ull << 10},
                                        {"KiB", 1ull << 10},
                                        {"KB", 1ull << 10},
                                        {"M", 1ull << 20},
                                        {"MiB", 1ull << 20},
                                        {"MB", 1ull << 20},
                                        {"G", 1ull << 30},
                                        {"GiB", 1ull << 30},
                                        {"GB", 1ull << 30},
                                        {NULL, 0}};

    return parse_with_units(text, units, ret);
}

static int parse_mode(const char *text, unsigned long long *ret)
{
    char *end;

    if (!*text || strspn(text, "01234567") != strlen(text) || strlen(text) > 4)
        return -EINVAL;
    *ret = strtoull(text, &end, 8);
    return 0;
}

static int parse_uint(const char *text, unsigned long long *ret)
{
    const char *unit;

    if (parse_number(text, ret, &unit) < 0 || *unit)
        return -EINVAL;
    return 0;
}

static void store_number(struct cfg *cfg, const struct setting *s, unsigned long long v)
{
    char *field = (char *)cfg + s->offset;

    if (s->type == T_UINT || s->type == T_MODE)
        *(unsigned *)field = (unsigned)v;
    else
        *(uint64_t *)field = v; /* durations (ms) and sizes */
}

static int read_number(const struct setting *s, const char *value, unsigned long long *ret)
{
    switch (s->type) {
    case T_DURATION_MS:
        return parse_duration_ms(value, ret);
    case T_SIZE:
        return parse_size(value, ret);
    case T_MODE:
        return parse_mode(value, ret);
    default:
        return parse_uint(value, ret);
    }
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
    case T_STRING:
        break;
    }
    return "a value";
}

/* Sets @s from text; @where says where it came from, for errors. */
static int apply(struct cfg *cfg, const struct setting *s, const char *value, const char *where,
                 struct errbuf *err)
{
    char **str = (char **)((char *)cfg + s->offset);
    unsigned long long v;
    int level;

    switch (s->type) {
    case T_STRING:
        if (!*value)
            return errbuf_set(err, -EINVAL, "%s: '%s' must not be empty", where, s->key);
        free(*str);
        *str = xstrdup(value);
        return 0;
    case T_SCHEME:
        if (strcmp(value, "http") != 0 && strcmp(value, "https") != 0)
            break;
        free(*str);
        *str = xstrdup(value);
        return 0;
    case T_LOGLEVEL:
        if (log_level_parse(value, &level) < 0)
            break;
        cfg->log_level = level;
        return 0;
    default:
        if (read_number(s, value, &v) < 0)
            break;
        if (v < s->min || v > s->max)
            return errbuf_set(err, -ERANGE, "%s: '%s' = '%s' is out of range", where, s->key,
                              value);
        store_number(cfg, s, v);
        return 0;
    }
    return errbuf_set(err, -EINVAL, "%s: '%s' = '%s' is not %s", where, s->key, value,
                      type_hint(s->type));
}

static const struct setting *find_setting(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    }
    return NULL;
}

/* --- sources ------------------------------------------------------------- */

static void set_defaults(struct cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = xstrdup("127.0.0.1:5050");
    cfg->zk = xstrdup("zk://127.0.0.1:2181/mesos");
    cfg->zk_session_timeout_ms = 10000;
    cfg->upstream_scheme = xstrdup("http");
    cfg->max_body = 16ull * 1024 * 1024;
    cfg->max_connections = 10000;
    cfg->client_idle_timeout_ms = 60000;
    cfg->stream_idle_timeout_ms = 75000; /* 5 missed 15 s heartbeats */
    cfg->upstream_timeout_ms = 75000;
    cfg->connect_timeout_ms = 3000;
    cfg->retry_tries = 3;
    cfg->retry_budget_ms = 5000;
    cfg->startup_wait_ms = 10000;
    cfg->drain_timeout_ms = 5000;
    cfg->log_level = LOG_INFO;
    cfg->listen_mode = 0660;
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

/* Parses one "key = value" line; blank lines and '#' comments are fine. */
static int file_line(struct cfg *cfg, char *line, const char *where, struct errbuf *err)
{
    char *eq, *key, *value;
    const struct setting *s;

    line = trim(line);
    if (*line == '\0' || *line == '#')
        return 0;
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
    if (!s)
        return errbuf_set(err, -EINVAL, "%s: unknown key '%s'", where, key);
    if (s->offset == OFF(zk))
        cfg->zk_from_file = true;
    return apply(cfg, s, value, where, err);
}

static int read_file(struct cfg *cfg, const char *path, bool must_exist, struct errbuf *err)
{
    char line[LINE_MAX_LEN], where[PATH_MAX + 32];
    unsigned lineno = 0;
    FILE *f = fopen(path, "re");
    int r = 0;

    if (!f) {
        if (errno == ENOENT && !must_exist)
            return 0;
        return errbuf_set(err, -errno, "cannot read the configuration file '%s': %s", path,
                          strerror(errno));
    }
    free(cfg->config_file);
    cfg->config_file = xstrdup(path);
    while (r == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        snprintf(where, sizeof(where), "%s:%u", path, lineno);
        if (!strchr(line, '\n') && !feof(f))
            r = errbuf_set(err, -EINVAL, "%s: line longer than %d bytes", where, LINE_MAX_LEN);
        else
            r = file_line(cfg, line, where, err);
    }
    fclose(f);
    return r;
}

/* MESOS_LEADERD_<KEY> for @s into @var. */
static void env_name(const struct setting *s, char *var, size_t size)
{
    size_t n = (size_t)snprintf(var, size, CFG_ENV_PREFIX "%s", s->key);

    for (size_t k = strlen(CFG_ENV_PREFIX); k < n && k < size; k++)
        var[k] = var[k] == '-' ? '_' : (char)toupper((unsigned char)var[k]);
}

/* A misspelled variable would be ignored silently: refuse it instead. */
static int check_unknown_variables(struct errbuf *err)
{
    extern char **environ;
    size_t plen = strlen(CFG_ENV_PREFIX);

    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        bool known = false;
        if (strncmp(*e, CFG_ENV_PREFIX, plen) != 0 || !eq)
            continue;
        for (size_t i = 0; i < N_SETTINGS && !known; i++) {
            char var[64];
            env_name(&settings[i], var, sizeof(var));
            known = strlen(var) == (size_t)(eq - *e) && strncmp(var, *e, strlen(var)) == 0;
        }
        if (!known)
            return errbuf_set(err, -EINVAL, "unknown variable '%.*s' (see --help)", (int)(eq - *e),
                              *e);
    }
    return 0;
}

static int read_environment(struct cfg *cfg, struct errbuf *err)
{
    int r = check_unknown_variables(err);

    if (r < 0)
        return r;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char var[64];
        const char *value;
        env_name(&settings[i], var, sizeof(var));
        value = secure_getenv(var);
        if (value && apply(cfg, &settings[i], value, var, err) < 0)
            return -EINVAL;
        if (value && settings[i].offset == OFF(zk))
            cfg->zk_from_file = false;
    }
    return 0;
}

/* --- command line -------------------------------------------------------- */

enum { OPT_CONFIG = 'c', OPT_TEST = 't', OPT_HELP = 'h', OPT_VERSION = 'V', OPT_BASE = 256 };

static void build_options(struct option *longopts, char *shortopts)
{
    size_t n = 0, k = 0;

    for (size_t i = 0; i < N_SETTINGS; i++) {
        longopts[n++] =
            (struct option){settings[i].key, required_argument, NULL,
                            settings[i].short_opt ? settings[i].short_opt : OPT_BASE + (int)i};
        if (settings[i].short_opt) {
            shortopts[k++] = (char)settings[i].short_opt;
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
        if (settings[i].short_opt && settings[i].short_opt == c)
            return &settings[i];
    }
    return NULL;
}

/* Pass 1 (@apply_settings false) finds --config, -t, -h, -V; pass 2 applies
 * the settings over what the environment and the file gave. */
static int scan_args(int argc, char *const argv[], struct cfg *cfg, bool apply_settings,
                     enum cfg_action *action, struct errbuf *err)
{
    struct option longopts[N_SETTINGS + 5];
    char shortopts[2 * N_SETTINGS + 8], where[96];
    int c;

    build_options(longopts, shortopts);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct setting *s = setting_for_option(c);
        if (s) {
            snprintf(where, sizeof(where), "option --%s", s->key);
            if (apply_settings && apply(cfg, s, optarg, where, err) < 0)
                return -EINVAL;
            if (apply_settings && s->offset == OFF(zk))
                cfg->zk_from_file = false;
        } else if (c == OPT_CONFIG) {
            free(cfg->config_file);
            cfg->config_file = xstrdup(optarg);
            cfg->config_file_explicit = true;
        } else if (c == OPT_TEST) {
            cfg->test_only = true;
        } else if (c == OPT_HELP || c == OPT_VERSION) {
            *action = c == OPT_HELP ? CFG_HELP : CFG_VERSION;
        } else {
            return errbuf_set(err, -EINVAL, "unknown option or missing value: '%s' (see --help)",
                              argv[optind - 1]);
        }
    }
    if (optind < argc)
        return errbuf_set(err, -EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

/* --- checks -------------------------------------------------------------- */

static int check_readable(const char *path, const char *key, struct errbuf *err)
{
    if (path && access(path, R_OK) < 0)
        return errbuf_set(err, -errno, "'%s' = '%s' cannot be read: %s", key, path,
                          strerror(errno));
    return 0;
}

static int check(struct cfg *cfg, struct errbuf *err)
{
    int r;

    zkurl_done(&cfg->zk_url);
    r = zkurl_parse(cfg->zk, &cfg->zk_url, err);
    if (r < 0)
        return errbuf_prefix(err, r, "'zk' is invalid");
    if (strncmp(cfg->listen, "unix:", 5) == 0 && cfg->listen[5] != '/')
        return errbuf_set(err, -EINVAL, "'listen' = '%s': a Unix socket needs an absolute path",
                          cfg->listen);
    if ((r = check_readable(cfg->ca_file, "ca-file", err)) < 0 ||
        (r = check_readable(cfg->cert_file, "cert-file", err)) < 0 ||
        (r = check_readable(cfg->key_file, "key-file", err)) < 0)
        return r;
    if ((cfg->cert_file != NULL) != (cfg->key_file != NULL))
        return errbuf_set(err, -EINVAL, "'cert-file' and 'key-file' go together");
    cfg->proxy.max_body = (size_t)cfg->max_body;
    cfg->proxy.max_connections = cfg->max_connections;
    cfg->proxy.client_idle_timeout_s = (unsigned)((cfg->client_idle_timeout_ms + 999) / 1000);
    cfg->proxy.stream_idle_timeout_ms = cfg->stream_idle_timeout_ms;
    cfg->proxy.upstream_timeout_ms = cfg->upstream_timeout_ms;
    cfg->proxy.upstream.connect_timeout_ms = (long)cfg->connect_timeout_ms;
    cfg->proxy.retry_tries = cfg->retry_tries;
    cfg->proxy.retry_budget_ms = cfg->retry_budget_ms;
    cfg->proxy.upstream.https = strcmp(cfg->upstream_scheme, "https") == 0;
    cfg->proxy.upstream.ca_file = cfg->ca_file;
    cfg->proxy.upstream.cert_file = cfg->cert_file;
    cfg->proxy.upstream.key_file = cfg->key_file;
    return 0;
}

int cfg_load(int argc, char *const argv[], struct cfg *ret, enum cfg_action *ret_action,
             struct errbuf *err)
{
    struct cfg cfg, first = {0};
    enum cfg_action action = CFG_RUN;
    int r;

    r = scan_args(argc, argv, &first, false, &action, err);
    if (r < 0 || action != CFG_RUN) {
        cfg_done(&first);
        *ret_action = action;
        return r;
    }
    set_defaults(&cfg);
    cfg.test_only = first.test_only;
    cfg.config_file_explicit = first.config_file_explicit;
    r = read_file(&cfg, first.config_file ? first.config_file : CFG_DEFAULT_FILE,
                  first.config_file_explicit, err);
    cfg_done(&first);
    if (r == 0)
        r = read_environment(&cfg, err);
    if (r == 0)
        r = scan_args(argc, argv, &cfg, true, &action, err);
    if (r == 0)
        r = check(&cfg, err);
    if (r < 0) {
        cfg_done(&cfg);
        return r;
    }
    *ret = cfg;
    *ret_action = action;
    return 0;
}

void cfg_usage(FILE *out)
{
    fprintf(out, "Usage: mesos-leaderd [OPTIONS]\n"
                 "Serve a stable local endpoint that forwards every Mesos HTTP call to the\n"
                 "leading master found in ZooKeeper.\n\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char opt[64];
        if (settings[i].short_opt)
            snprintf(opt, sizeof(opt), "-%c, --%s %s", settings[i].short_opt, settings[i].key,
                     settings[i].arg);
        else
            snprintf(opt, sizeof(opt), "    --%s %s", settings[i].key, settings[i].arg);
        fprintf(out, "  %-34s %s\n", opt, settings[i].help);
    }
    fprintf(out,
            "  %-34s %s\n  %-34s %s\n  %-34s %s\n  %-34s %s\n\n"
            "Every setting can also come from the environment (MESOS_LEADERD_MAX_BODY for\n"
            "--max-body) or the configuration file (\"max-body = 16MiB\"); the command line\n"
            "wins over the environment, which wins over the file.\n",
            "-c, --config FILE", "configuration file (default " CFG_DEFAULT_FILE ")",
            "-t, --test-config", "check the configuration and exit", "-h, --help",
            "print this help", "-V, --version", "print the version");
}

void cfg_done(struct cfg *cfg)
{
    free(cfg->listen);
    free(cfg->zk);
    zkurl_done(&cfg->zk_url);
    free(cfg->upstream_scheme);
    free(cfg->ca_file);
    free(cfg->cert_file);
    free(cfg->key_file);
    free(cfg->config_file);
    memset(cfg, 0, sizeof(*cfg));
}

static bool loopback_listen(const char *listen)
{
    return strncmp(listen, "unix:", 5) == 0 || strncmp(listen, "127.", 4) == 0 ||
           strncmp(listen, "[::1]:", 6) == 0 || strncmp(listen, "localhost:", 10) == 0;
}

/* Warns when @path, which holds ZooKeeper credentials, is world-readable. */
static void warn_if_readable(const char *path, const char *what)
{
    struct stat st;

    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
        log_warning("%s '%s' holds ZooKeeper credentials and is readable by every user; "
                    "chmod o-r it",
                    what, path);
}

void cfg_warn(const struct cfg *cfg)
{
    if (!loopback_listen(cfg->listen))
        log_warning("listening on '%s', which is not a loopback address: every host that can "
                    "reach it can use the Mesos API with the credentials its calls carry",
                    cfg->listen);
    if (!cfg->zk_url.credentials)
        return;
    /* The password sits in the configuration file itself only when the
     * file names a zk:// URL (a file:// URL points to where it is). */
    if (cfg->zk_from_file && cfg->config_file && strncmp(cfg->zk, "zk://", 5) == 0)
        warn_if_readable(cfg->config_file, "the configuration file");
    if (strncmp(cfg->zk, "file://", 7) == 0)
        warn_if_readable(cfg->zk + 7, "the ZooKeeper URL file");
}
