/* cfg.h: mesos-leaderd's configuration.
 *
 * Every setting has one key, used in three places: the long option
 * (--max-body), the environment (MESOS_LEADERD_MAX_BODY) and the
 * configuration file ("max-body = 16MiB"). Precedence: command line, then
 * environment, then file, then defaults. Errors name the option, the
 * variable, or the file and line. */
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

struct cfg {
    char *listen; /* "127.0.0.1:5050", "[::1]:5050" or "unix:/path" */
    char *zk;     /* the URL as given */
    struct zkurl zk_url;
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
    uint64_t startup_wait_ms;
    uint64_t drain_timeout_ms;
    int log_level;             /* syslog priority */
    struct proxy_config proxy; /* derived from the above; its strings point here */
    unsigned listen_mode;      /* permissions of a Unix socket listener */
    char *config_file;         /* the file read, or NULL */
    bool zk_from_file;         /* the zk URL came from the configuration file */
    bool config_file_explicit; /* given with --config */
    bool test_only;            /* -t: check and exit */
};

/* What the command line asked for besides settings. */
enum cfg_action { CFG_RUN, CFG_HELP, CFG_VERSION };

/* Reads the command line, the environment and the file into @ret, then
 * checks the result. On failure @err says what and where. */
int cfg_load(int argc, char *const argv[], struct cfg *ret, enum cfg_action *ret_action,
             struct errbuf *err);

/* Prints the --help text. */
void cfg_usage(FILE *out);

/* Frees what @cfg owns. */
void cfg_done(struct cfg *cfg);

/* Logs warnings about a valid but risky configuration (a non-loopback listen
 * address, credentials in a file others can read). */
void cfg_warn(const struct cfg *cfg);

#endif
