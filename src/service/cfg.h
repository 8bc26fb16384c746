/* cfg.h: mesos-leaderd's configuration.
 *
 * Every setting has one key, used in three places: the long option
 * (--max-body), the environment (MESOS_LEADERD_MAX_BODY) and the
 * configuration file ("max-body = 16MiB"). Precedence: command line, then
 * environment, then file, then defaults. Errors name the option, the
 * variable, or the file and line.
 *
 * One table in cfg_table.c describes every setting: its key, type, range,
 * default, whether a reload applies it, and whether it belongs to a cluster
 * or to the whole daemon. The defaults, --help, the reload warnings and the
 * comparison of clusters all read it (cfg_setting_at() lists it).
 *
 * Clusters. The file may hold "[cluster NAME]" sections. Settings before the
 * first section are the defaults of every cluster (and the daemon-wide
 * settings); each section sets its own "zk" and "listen" and may override
 * any other per-cluster setting. A file without sections describes one
 * cluster whose name is "". With sections, a per-cluster setting from the
 * environment or the command line applies to every cluster (over the file);
 * "zk" and "listen" cannot come from there.
 *
 * Files. This header is the whole interface; the code is split by concern,
 * each file calling only those after it in this list:
 *   cfg.c          loading (cfg_load(), cfg_load_file()) and cfg_done()
 *   cfg_args.c     the command line (cfg_args.h)
 *   cfg_env.c      the environment (cfg_env.h)
 *   cfg_file.c     the file and its [cluster] sections (cfg_file.h)
 *   cfg_check.c    checks once all is read (cfg_check.h), cfg_warn()
 *   cfg_cluster.c  one cluster: derived values, copy, compare, reload rules
 *   cfg_help.c     --help (cfg_usage())
 *   cfg_table.c    the table, the defaults, reading and writing a value
 *                  (cfg_table.h)
 * The headers named here are private to these files. */
#ifndef MLD_CFG_H
#define MLD_CFG_H

#include "base/errbuf.h"
#include "proxy/proxy.h"
#include "zk/zkurl.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The default configuration file. */
#define CFG_DEFAULT_FILE SYSCONFDIR "/mesos-leaderd.conf"

/* The environment variable prefix. */
#define CFG_ENV_PREFIX "MESOS_LEADERD_"

/* Room for this many settings in the per-setting arrays below. */
#define CFG_MAX_SETTINGS 48

/* The most [cluster] sections a file may hold, and the longest name. */
#define CFG_MAX_CLUSTERS     64
#define CFG_CLUSTER_NAME_MAX 64

/* Where a setting belongs. */
enum cfg_scope {
    CFG_SCOPE_CLUSTER, /* each cluster has its own value */
    CFG_SCOPE_DAEMON,  /* one value for the whole daemon */
};

/* What a reload (SIGHUP) does with a changed value. */
enum cfg_reload {
    CFG_RELOAD_APPLIES,    /* the new value applies */
    CFG_RELOAD_RESTART,    /* the value at start stays until a restart (warning) */
    CFG_RELOAD_LOWER_ONLY, /* may go down, and up again to the value at start */
};

/* One setting as the table describes it. */
struct cfg_setting {
    const char *key;           /* "max-body" */
    int short_opt;             /* 'l', or 0 */
    const char *arg;           /* what --help shows as its value: "SIZE" */
    const char *default_value; /* as it would be written in the file, or NULL */
    const char *help;          /* one line for --help */
    enum cfg_scope scope;
    enum cfg_reload reload;
};

/* The settings of one cluster (every per-cluster setting) and what is
 * derived from them. */
struct cfg_cluster {
    char *name;           /* "" for the one cluster of a configuration without sections */
    char *listen;         /* "127.0.0.1:5050", "[::1]:5050" or "unix:/path" */
    unsigned listen_mode; /* permissions of a Unix socket listener */
    char *zk;             /* the URL as given */
    uint64_t zk_session_timeout_ms;
    char *upstream_scheme; /* "http" or "https" */
    char *ca_file, *cert_file, *key_file;
    uint64_t max_body;
    unsigned max_connections;
    uint64_t client_idle_timeout_ms;
    uint64_t stream_idle_timeout_ms;
    uint64_t upstream_timeout_ms;
    uint64_t connect_timeout_ms;
    unsigned retry_tries;
    uint64_t retry_budget_ms;
    uint64_t state_cache_ttl_ms;
    char *shared_reads; /* as given: comma-separated paths, "" for none */
    /* Derived by cfg_load(): */
    struct zkurl zk_url;
    char **shared_read_paths;  /* NULL-terminated */
    struct proxy_config proxy; /* its strings point into this struct */
    bool zk_from_file;         /* the zk URL came from the configuration file */
    /* Where each setting was set ("FILE:LINE", "MESOS_LEADERD_ZK", "option
     * --zk"), by table index; NULL for a default. */
    char *origin[CFG_MAX_SETTINGS];
    char *section;           /* "FILE:LINE" of its [cluster] line, or NULL */
    uint64_t set_in_section; /* bit i: its own section set setting i */
};

struct cfg {
    struct cfg_cluster *clusters; /* at least one */
    size_t n_clusters;
    bool has_sections; /* the file holds [cluster] sections */
    /* Daemon-wide settings. */
    uint64_t startup_wait_ms;
    uint64_t drain_timeout_ms;
    int log_level;             /* syslog priority */
    char *config_file;         /* the file read, or NULL */
    bool config_file_explicit; /* given with --config */
    bool test_only;            /* -t: check and exit */
};

/* What the command line asked for besides settings. */
enum cfg_action { CFG_RUN, CFG_HELP, CFG_VERSION };

/* Reads the command line, the environment and the file into @ret, then
 * checks the result. On failure @err says what and where. */
int cfg_load(int argc, char *const argv[], struct cfg *ret, enum cfg_action *ret_action,
             struct errbuf *err);

/* Reads the file @path alone (no environment, no command line), as the
 * daemon would, and checks it, except that the files it names (ca-file,
 * cert-file, key-file) need not be readable. For mesos-leader --config. */
int cfg_load_file(const char *path, struct cfg *ret, struct errbuf *err);

/* Whether the command line asks for --test-config (even when it holds
 * errors): such errors are printed plainly, not logged. */
bool cfg_args_test_only(int argc, char *const argv[]);

/* Prints the --help text (every line within 80 columns). */
void cfg_usage(FILE *out);

/* Frees what @cfg owns; a zeroed @cfg is fine. */
void cfg_done(struct cfg *cfg);

/* The cluster named @name, or NULL. */
const struct cfg_cluster *cfg_find_cluster(const struct cfg *cfg, const char *name);

/* A deep copy of @src into @ret (derived fields included). */
void cfg_cluster_copy(struct cfg_cluster *ret, const struct cfg_cluster *src);

/* Frees what @c owns; a zeroed @c is fine. */
void cfg_cluster_done(struct cfg_cluster *c);

/* Calls @fn for every per-cluster setting whose value differs between @a
 * and @b (the name and origins are not compared; "zk" compares the parsed
 * URL, so a file:// URL whose file changed differs). Returns how many. */
size_t cfg_cluster_diff(const struct cfg_cluster *a, const struct cfg_cluster *b,
                        void (*fn)(void *data, const struct cfg_setting *s), void *data);

/* Whether two clusters have the same settings: cfg_cluster_diff() == 0. */
bool cfg_cluster_equal(const struct cfg_cluster *a, const struct cfg_cluster *b);

/* Receives one warning, a complete sentence without a trailing newline. */
typedef void cfg_warn_fn(void *data, const char *msg);

/* For a reload: in @next, puts back the values of @started (the cluster as
 * the daemon started it) for every setting marked CFG_RELOAD_RESTART that
 * differs, and caps those marked CFG_RELOAD_LOWER_ONLY at their value in
 * @started; tells @fn about each ("'listen' changed: that takes a restart;
 * still 127.0.0.1:5050"), and derives @next's proxy configuration again. */
void cfg_cluster_hold_restart(const struct cfg_cluster *started, struct cfg_cluster *next,
                              cfg_warn_fn *fn, void *data);

/* Tells @fn about a valid but risky configuration (a non-loopback listen
 * address, credentials in a file others can read). */
void cfg_warn(const struct cfg *cfg, cfg_warn_fn *fn, void *data);

/* The table: setting @i, or NULL past the last one. */
const struct cfg_setting *cfg_setting_at(size_t i);

/* The index of the setting @key in the table, or -1. */
int cfg_setting_index(const char *key);

#endif
