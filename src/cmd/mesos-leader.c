/* mesos-leader.c: prints the leading Mesos master, once or at every change
 * (--watch), for scripts: the options, where ZooKeeper is, and a tracker;
 * the printing and watching is src/service/leaderwatch.c.
 *
 * Exit status: 0 a leader was printed (--watch: stopped by SIGINT or
 * SIGTERM); 1 usage, URL or connection error; 2 no leader appeared within
 * the timeout. */
#include "config.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "service/cfg.h"
#include "service/leaderwatch.h"
#include "zk/tracker.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_URL        "zk://127.0.0.1:2181/mesos"
#define DEFAULT_TIMEOUT_MS 5000

struct options {
    const char *url;    /* --zk, or NULL */
    const char *config; /* --config, or NULL */
    const char *cluster;
    bool all;
    bool json;
    bool watch;
    int timeout_ms;
    bool verbose;
    char *const *exec_argv; /* after --exec, or NULL */
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mesos-leader [OPTIONS]\n"
            "       mesos-leader --watch [OPTIONS] [--exec COMMAND [ARGS...]]\n"
            "Print the leading Mesos master, as found in ZooKeeper.\n"
            "\n"
            "  -z, --zk URL          ZooKeeper URL: zk://[user:pass@]host:port[,...]/path\n"
            "                        or file:///path; default $MESOS_LEADERD_ZK, else\n"
            "                        " DEFAULT_URL "\n"
            "  -c, --config FILE     the URL of mesos-leaderd's configuration file\n"
            "  -C, --cluster NAME    ... of its [cluster NAME] section (default file:\n"
            "                        " CFG_DEFAULT_FILE ")\n"
            "  -a, --all             every registered master in election order\n"
            "  -j, --json            MasterInfo as JSON\n"
            "  -w, --watch           go on: print a new line at every change, until\n"
            "                        SIGINT or SIGTERM\n"
            "      --exec COMMAND [ARGS...]\n"
            "                        with --watch: instead, run COMMAND (no shell) at start\n"
            "                        and after each change, one run at a time, with\n"
            "                        MESOS_LEADER=host:port (empty: none) and\n"
            "                        MESOS_LEADER_JSON set; last option\n"
            "  -t, --timeout SECS    wait at most SECS for a leader (default %d); with\n"
            "                        --watch, for ZooKeeper's first answer\n"
            "  -v, --verbose         log what happens to stderr\n"
            "  -h, --help            print this help\n"
            "  -V, --version         print the version\n"
            "\n"
            "Exit status: 0 a leader was printed (--watch: stopped by a signal);\n"
            "1 usage, URL or connection error; 2 no leader appeared within the timeout.\n",
            DEFAULT_TIMEOUT_MS / 1000);
}

static int parse_timeout(const char *text, int *ret)
{
    char *end;
    double secs;

    errno = 0;
    secs = strtod(text, &end);
    if (errno || end == text || *end != '\0' || secs <= 0 || secs > 86400)
        return -EINVAL;
    *ret = (int)(secs * 1000.0 + 0.5);
    return 0;
}

/* Everything after --exec is the command: cut it off before getopt sees it.
 * Returns the new argc, or -1 when --exec names no command. */
static int split_exec(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--exec") != 0)
            continue;
        if (i + 1 >= argc)
            return -1;
        o->exec_argv = &argv[i + 1];
        argv[i] = NULL;
        return i;
    }
    return argc;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "mesos-leader: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see --help)\n");
    return EXIT_FAILURE;
}

/* Checks what the options say together; 0 or the exit status. */
static int check_options(const struct options *o)
{
    if (o->url && (o->config || o->cluster))
        return usage_error("--zk and --config/--cluster both say where ZooKeeper is");
    if (o->exec_argv && !o->watch)
        return usage_error("--exec runs a command at every change: add --watch");
    if (o->exec_argv && (o->all || o->json))
        return usage_error("--all and --json shape printed lines; --exec prints none");
    return 0;
}

/* Takes option @c; 0, or the exit status to use now. */
static int take_option(int c, char **argv, struct options *o)
{
    switch (c) {
    case 'z':
        o->url = optarg;
        return 0;
    case 'c':
        o->config = optarg;
        return 0;
    case 'C':
        o->cluster = optarg;
        return 0;
    case 'a':
        o->all = true;
        return 0;
    case 'j':
        o->json = true;
        return 0;
    case 'w':
        o->watch = true;
        return 0;
    case 'v':
        o->verbose = true;
        return 0;
    case 't':
        if (parse_timeout(optarg, &o->timeout_ms) < 0)
            return usage_error("invalid timeout '%s' (seconds, > 0)", optarg);
        return 0;
    case 'h':
        usage(stdout);
        exit(EXIT_SUCCESS);
    case 'V':
        printf("mesos-leader %s\n", PACKAGE_VERSION);
        exit(EXIT_SUCCESS);
    case ':':
        return usage_error("option '%s' needs a value", argv[optind - 1]);
    default:
        return usage_error("unknown option '%s'", argv[optind - 1]);
    }
}

/* Returns 0, or the exit status to use now. */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"zk", required_argument, NULL, 'z'},
        {"config", required_argument, NULL, 'c'},
        {"cluster", required_argument, NULL, 'C'},
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"watch", no_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c, r;

    *o = (struct options){.timeout_ms = DEFAULT_TIMEOUT_MS};
    argc = split_exec(argc, argv, o);
    if (argc < 0)
        return usage_error("--exec needs a command");
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":z:c:C:ajwt:vhV", longopts, NULL)) != -1) {
        if ((r = take_option(c, argv, o)) != 0)
            return r;
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    return check_options(o);
}

/* --- where ZooKeeper is ------------------------------------------------------ */

/* The cluster of the daemon's configuration file that the options name. */
static int cluster_from_config(const struct options *o, const struct cfg *cfg,
                               const struct cfg_cluster **ret)
{
    struct strbuf names = {0};

    if (!o->cluster && !cfg->has_sections) {
        *ret = &cfg->clusters[0];
        return 0;
    }
    if (o->cluster && !cfg->has_sections) {
        fprintf(stderr, "mesos-leader: '%s' has no [cluster] sections; leave out --cluster\n",
                cfg->config_file);
        return -EINVAL;
    }
    if (o->cluster && (*ret = cfg_find_cluster(cfg, o->cluster)))
        return 0;
    for (size_t k = 0; k < cfg->n_clusters; k++)
        strbuf_printf(&names, "%s%s", k ? ", " : "", cfg->clusters[k].name);
    if (o->cluster)
        fprintf(stderr, "mesos-leader: '%s' has no cluster '%s' (it has: %s)\n", cfg->config_file,
                o->cluster, names.data);
    else
        fprintf(stderr,
                "mesos-leader: '%s' describes several clusters: name one with "
                "--cluster (%s)\n",
                cfg->config_file, names.data);
    strbuf_done(&names);
    return -EINVAL;
}

/* The URL from the daemon's configuration file (--config, --cluster). */
static int url_from_config(const struct options *o, struct zkurl *ret)
{
    const char *file = o->config ? o->config : CFG_DEFAULT_FILE;
    const struct cfg_cluster *c;
    struct errbuf err = {{0}};
    struct cfg cfg;
    int r = cfg_load_file(file, &cfg, &err);

    if (r < 0) {
        fprintf(stderr, "mesos-leader: %s\n", err.msg);
        return r;
    }
    r = cluster_from_config(o, &cfg, &c);
    if (r == 0) /* parsed by cfg_load_file() */
        *ret = (struct zkurl){xstrdup(c->zk_url.hosts), xstrdup(c->zk_url.path),
                              xstrdup(c->zk_url.credentials)};
    cfg_done(&cfg);
    return r;
}

/* The URL the options, the environment or the daemon's file name. */
static int find_url(const struct options *o, struct zkurl *ret)
{
    const char *env = secure_getenv("MESOS_LEADERD_ZK");
    struct errbuf err = {{0}};
    const char *url, *from;

    if (o->config || o->cluster)
        return url_from_config(o, ret);
    if (o->url) {
        url = o->url;
        from = "--zk";
    } else if (env && *env) {
        url = env;
        from = "MESOS_LEADERD_ZK";
    } else {
        url = DEFAULT_URL;
        from = "the default";
    }
    if (zkurl_parse(url, ret, &err) < 0) {
        fprintf(stderr, "mesos-leader: invalid ZooKeeper URL (%s): %s\n", from, err.msg);
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct tracker_config cfg = {0};
    struct leader_store *store;
    struct tracker *tracker = NULL;
    struct zkurl url = {0};
    struct leaderwatch_options wo;
    struct options o;
    char *redacted;
    int status, signal_fd = -1;

    status = parse_args(argc, argv, &o);
    if (status != 0)
        return status;
    log_init("mesos-leader", o.verbose ? LOG_DEBUG : LOG_ERR);
    if (find_url(&o, &url) < 0)
        return EXIT_FAILURE;
    /* Before any thread starts, so that every thread blocks them. */
    if (o.watch && (signal_fd = leaderwatch_block_signals()) < 0) {
        fprintf(stderr, "mesos-leader: cannot set up signals: %s\n", strerror(-signal_fd));
        zkurl_done(&url);
        return EXIT_FAILURE;
    }
    store = leader_store_new();
    cfg.url = &url;
    cfg.read_all = o.all;
    redacted = zkurl_to_redacted(&url);
    wo = (struct leaderwatch_options){.all = o.all,
                                      .json = o.json,
                                      .timeout_ms = o.timeout_ms,
                                      .url = redacted,
                                      .exec_argv = o.exec_argv};
    if (tracker_start(&cfg, store, &tracker) < 0)
        status = EXIT_FAILURE;
    else if (o.watch)
        status = leaderwatch_run(store, signal_fd, &wo);
    else
        status = leaderwatch_once(store, &wo);
    tracker_stop(tracker);
    leader_store_free(store);
    zkurl_done(&url);
    free(redacted);
    if (signal_fd >= 0)
        close(signal_fd);
    return fflush(stdout) == 0 ? status : EXIT_FAILURE;
}
