/* mesos-leader.c: prints the leading Mesos master once, for scripts.
 *
 * Exit status: 0 a leader was printed; 1 usage, URL or connection error;
 * 2 no leader appeared within the timeout. */
#include "config.h"

#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "zk/report.h"
#include "zk/tracker.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_NO_LEADER     2
#define DEFAULT_URL        "zk://127.0.0.1:2181/mesos"
#define DEFAULT_TIMEOUT_MS 5000

struct options {
    const char *url;
    bool all;
    bool json;
    int timeout_ms;
    bool verbose;
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "Usage: mesos-leader [OPTIONS]\n"
        "Print the leading Mesos master, as found in ZooKeeper.\n"
        "\n"
        "  -z, --zk URL         ZooKeeper URL (default $MESOS_LEADERD_ZK, else " DEFAULT_URL ");\n"
        "                       zk://[user:pass@]host:port[,host:port...]/path or file:///path\n"
        "  -a, --all            print every registered master in election order\n"
        "  -j, --json           print MasterInfo as JSON\n"
        "  -t, --timeout SECS   wait at most SECS for a leader (default %d)\n"
        "  -v, --verbose        log what happens to stderr\n"
        "  -h, --help           print this help\n"
        "  -V, --version        print the version\n"
        "\n"
        "Exit status: 0 a leader was printed; 1 usage, URL or connection error;\n"
        "2 no leader appeared within the timeout.\n",
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

/* Returns 0, or the exit status to use now. */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"zk", required_argument, NULL, 'z'}, {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},     {"timeout", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},  {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},  {NULL, 0, NULL, 0},
    };
    int c;

    /* The daemon's variable, so that a sidecar's environment serves both. */
    const char *env_url = secure_getenv("MESOS_LEADERD_ZK");

    *o = (struct options){.url = env_url && *env_url ? env_url : DEFAULT_URL,
                          .timeout_ms = DEFAULT_TIMEOUT_MS};
    while ((c = getopt_long(argc, argv, "z:ajt:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'z':
            o->url = optarg;
            break;
        case 'a':
            o->all = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 't':
            if (parse_timeout(optarg, &o->timeout_ms) < 0) {
                fprintf(stderr, "mesos-leader: invalid timeout '%s' (seconds, > 0)\n", optarg);
                return EXIT_FAILURE;
            }
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_SUCCESS);
        case 'V':
            printf("mesos-leader %s\n", PACKAGE_VERSION);
            exit(EXIT_SUCCESS);
        default:
            usage(stderr);
            return EXIT_FAILURE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mesos-leader: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_FAILURE;
    }
    return 0;
}

/* Waits until a settled snapshot names a leader, or the deadline passes. */
static const struct leader_snapshot *wait_for_leader(struct leader_store *store, int timeout_ms)
{
    uint64_t deadline = time_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        const struct leader_snapshot *s = leader_store_get(store);
        uint64_t now = time_now_ms();
        if ((s->state == LEADER_KNOWN && s->settled) || s->session == ZK_SESSION_AUTH_FAILED ||
            now >= deadline)
            return s;
        uint64_t gen = s->generation;
        leader_snapshot_unref(s);
        leader_store_wait(store, gen, (int)(deadline - now));
    }
}

static void print_result(const struct options *o, const struct leader_snapshot *s)
{
    struct strbuf out = {0};

    if (o->all && o->json) {
        report_masters_json(s, &out);
        strbuf_puts(&out, "\n");
    } else if (o->all) {
        report_masters_text(s, &out);
    } else if (o->json) {
        char *json = masterinfo_to_json(&s->info);
        strbuf_printf(&out, "%s\n", json);
        free(json);
    } else {
        strbuf_printf(&out, "%s\n", s->address);
    }
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    strbuf_done(&out);
}

static int report_failure(const struct options *o, const struct leader_snapshot *s)
{
    if (s->session == ZK_SESSION_AUTH_FAILED) {
        fprintf(stderr, "mesos-leader: ZooKeeper refused the credentials in the URL\n");
        return EXIT_FAILURE;
    }
    if (s->session == ZK_SESSION_NEVER_CONNECTED ||
        (s->session != ZK_SESSION_CONNECTED && !s->settled)) {
        fprintf(stderr, "mesos-leader: cannot connect to ZooKeeper at %s within %.1f s (%s)\n",
                s->zk_url ? s->zk_url : o->url, o->timeout_ms / 1000.0,
                s->reason ? s->reason : "unknown");
        return EXIT_FAILURE;
    }
    if (o->all)
        print_result(o, s);
    fprintf(stderr, "mesos-leader: no leader within %.1f s: %s\n", o->timeout_ms / 1000.0,
            s->reason ? s->reason : "unknown");
    return EXIT_NO_LEADER;
}

int main(int argc, char **argv)
{
    struct tracker_config cfg = {0};
    struct errbuf err = {{0}};
    struct leader_store *store;
    struct tracker *tracker;
    struct zkurl url = {0};
    const struct leader_snapshot *s;
    struct options o;
    int status;

    status = parse_args(argc, argv, &o);
    if (status != 0)
        return status;
    log_init("mesos-leader", o.verbose ? LOG_DEBUG : LOG_ERR);
    if (zkurl_parse(o.url, &url, &err) < 0) {
        fprintf(stderr, "mesos-leader: invalid ZooKeeper URL: %s\n", err.msg);
        return EXIT_FAILURE;
    }
    store = leader_store_new();
    cfg.url = &url;
    cfg.read_all = o.all;
    if (tracker_start(&cfg, store, &tracker) < 0) {
        zkurl_done(&url);
        leader_store_free(store);
        return EXIT_FAILURE;
    }
    s = wait_for_leader(store, o.timeout_ms);
    /* A leader known at the deadline is printed even if some standby's data
     * could not be read yet (--all marks it "unread"). */
    if (s->state == LEADER_KNOWN) {
        print_result(&o, s);
        status = EXIT_SUCCESS;
    } else {
        status = report_failure(&o, s);
    }
    leader_snapshot_unref(s);
    tracker_stop(tracker);
    leader_store_free(store);
    zkurl_done(&url);
    return fflush(stdout) == 0 ? status : EXIT_FAILURE;
}
