/* standin.c: main() of mesos-standin, the stand-in Mesos master.
 *
 * Reads the command line, binds HTTP, registers in ZooKeeper, and then prints
 * exactly one line to stdout, "standin ready port=<port> znode=<path>", so
 * that a test can start it and wait for that line. SIGTERM or SIGINT close the
 * ZooKeeper session first (the znode goes at once) and exit 0; a fatal
 * ZooKeeper event (session expired, lost candidacy) exits 1 like a real
 * master's "committing suicide". Run with --help for the options. */
#include "config.h"

#include "standin.h"

#include "base/log.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct st_config cfg;
static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_signal;
static atomic_int exit_code = -1;

const struct st_config *st_cfg(void)
{
    return &cfg;
}

static void wake(char c)
{
    int saved = errno;

    if (write(wake_pipe[1], &c, 1) < 0) {
        /* the pipe is full: main is already on its way */
    }
    errno = saved;
}

static void on_signal(int sig)
{
    (void)sig;
    got_signal = 1;
    wake('s');
}

void st_request_exit(int code)
{
    int none = -1;

    atomic_compare_exchange_strong(&exit_code, &none, code);
    wake('x');
}

bool st_stop_requested(void)
{
    return got_signal || atomic_load(&exit_code) >= 0;
}

/* ---------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------- */

enum {
    OPT_ZK = 256,
    OPT_PORT,
    OPT_IP,
    OPT_HOSTNAME,
    OPT_ID,
    OPT_VERSION,
    OPT_FORMAT,
    OPT_ZK_TIMEOUT,
    OPT_HEARTBEAT,
    OPT_STATE_SIZE,
    OPT_MAX_SUBS,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_NO_REGISTER,
    OPT_NO_ADDRESS_IP,
    OPT_AUTH,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_FAULT, /* every fault option: the name tells which */
};

static const struct option options[] = {
    {"zk", required_argument, NULL, OPT_ZK},
    {"port", required_argument, NULL, OPT_PORT},
    {"ip", required_argument, NULL, OPT_IP},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"id", required_argument, NULL, OPT_ID},
    {"version", required_argument, NULL, OPT_VERSION},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"zk-session-timeout", required_argument, NULL, OPT_ZK_TIMEOUT},
    {"heartbeat-interval", required_argument, NULL, OPT_HEARTBEAT},
    {"state-size", required_argument, NULL, OPT_STATE_SIZE},
    {"max-operator-subscribers", required_argument, NULL, OPT_MAX_SUBS},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"no-register", no_argument, NULL, OPT_NO_REGISTER},
    {"no-address-ip", no_argument, NULL, OPT_NO_ADDRESS_IP},
    {"require-auth", required_argument, NULL, OPT_AUTH},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"recovery-ms", required_argument, NULL, OPT_FAULT},
    {"delay-ms", required_argument, NULL, OPT_FAULT},
    {"hang", no_argument, NULL, OPT_FAULT},
    {"drop-streams-after", required_argument, NULL, OPT_FAULT},
    {"split-records", optional_argument, NULL, OPT_FAULT},
    {"coalesce-records", required_argument, NULL, OPT_FAULT},
    {"hold-after-first", no_argument, NULL, OPT_FAULT},
    {"redirect-to", required_argument, NULL, OPT_FAULT},
    {"no-leader", no_argument, NULL, OPT_FAULT},
    {"status-override", required_argument, NULL, OPT_FAULT},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
    fputs("usage: mesos-standin --zk zk://[user:pass@]HOSTS/PATH [options]\n"
          "       mesos-standin --no-register [options]\n"
          "A stand-in Mesos master for tests: joins the ZooKeeper election group as\n"
          "Mesos does and answers the Mesos HTTP API as a leader or a standby.\n"
          "  --port N                    HTTP port (0, the default: any free one)\n"
          "  --ip ADDR                   IPv4 address to bind and advertise (127.0.0.1)\n"
          "  --hostname NAME             advertised hostname (default: the ip)\n"
          "  --no-address-ip             leave address.ip out of MasterInfo: known by\n"
          "                              --hostname only\n"
          "  --id ID                     master ID (default: a random UUID)\n"
          "  --version V                 Mesos version to claim (1.11.0)\n"
          "  --format json|protobuf|upid znode format (json: json.info_, protobuf: info_,\n"
          "                              upid: no label, data master@ip:port)\n"
          "  --zk-session-timeout MS     (10000)\n"
          "  --heartbeat-interval SECS   stream heartbeat interval (15)\n"
          "  --state-size KB             pad /master/state to about this size (100)\n"
          "  --max-operator-subscribers N  (1000)\n"
          "  --tls-cert FILE --tls-key FILE  serve HTTPS\n"
          "  --no-register               never join ZooKeeper; act as the leader\n"
          "  --require-auth USER:PASS    HTTP Basic authentication as Mesos does it\n"
          "  --log-level LEVEL           error, warning, notice, info (default), debug\n"
          "Faults (also settable with POST /__standin/faults):\n"
          "  --recovery-ms N  --delay-ms N  --hang  --drop-streams-after N\n"
          "  --split-records[=N]  --coalesce-records N  --hold-after-first\n"
          "  --redirect-to HOST:PORT  --no-leader  --status-override CODE[:BODY]\n"
          "On start it prints one line: standin ready port=<port> znode=<path or ->\n",
          out);
}

static int parse_number(const char *name, const char *text, unsigned long min, unsigned long max,
                        unsigned long *ret)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 10);
    if (!*text || *end || errno || text[0] == '-' || v < min || v > max) {
        fprintf(stderr, "mesos-standin: --%s '%s' is not a number from %lu to %lu\n", name, text,
                min, max);
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

static int parse_format(const char *text)
{
    if (strcmp(text, "json") == 0)
        cfg.format = ST_FORMAT_JSON;
    else if (strcmp(text, "protobuf") == 0)
        cfg.format = ST_FORMAT_PROTOBUF;
    else if (strcmp(text, "upid") == 0)
        cfg.format = ST_FORMAT_UPID;
    else {
        fprintf(stderr, "mesos-standin: --format must be json, protobuf or upid\n");
        return -EINVAL;
    }
    return 0;
}

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value);
}

/* The options that set a string field. */
static char **string_field(int c)
{
    switch (c) {
    case OPT_ZK:
        return &cfg.zk_text;
    case OPT_IP:
        return &cfg.ip;
    case OPT_HOSTNAME:
        return &cfg.hostname;
    case OPT_ID:
        return &cfg.id;
    case OPT_VERSION:
        return &cfg.version;
    case OPT_TLS_CERT:
        return &cfg.tls_cert;
    case OPT_TLS_KEY:
        return &cfg.tls_key;
    default:
        return NULL;
    }
}

/* The options that set a number: their field and bounds. */
static unsigned *number_field(int c, unsigned long *min, unsigned long *max)
{
    *min = 0;
    switch (c) {
    case OPT_PORT:
        *max = 65535;
        return &cfg.port;
    case OPT_ZK_TIMEOUT:
        *min = 100;
        *max = 3600000;
        return &cfg.zk_session_timeout_ms;
    case OPT_STATE_SIZE:
        *max = 64 * 1024;
        return &cfg.state_size_kb;
    case OPT_MAX_SUBS:
        *min = 1;
        *max = 100000;
        return &cfg.max_operator_subscribers;
    default:
        return NULL;
    }
}

/* Handles one option; @name is the long option's name. */
static int parse_one(int c, const char *name, const char *arg, int *log_level)
{
    unsigned long v, min, max;
    char **str = string_field(c);
    unsigned *num = number_field(c, &min, &max);
    struct errbuf err = {{0}};

    if (str) {
        set_string(str, arg);
        return 0;
    }
    if (num) {
        if (parse_number(name, arg, min, max, &v) < 0)
            return -EINVAL;
        *num = (unsigned)v;
        return 0;
    }
    switch (c) {
    case OPT_FORMAT:
        return parse_format(arg);
    case OPT_NO_ADDRESS_IP:
        cfg.no_address_ip = true;
        return 0;
    case OPT_NO_REGISTER:
        cfg.no_register = true;
        return 0;
    case OPT_AUTH:
        if (!strchr(arg, ':')) {
            fprintf(stderr, "mesos-standin: --require-auth wants USER:PASSWORD\n");
            return -EINVAL;
        }
        set_string(&cfg.require_auth, arg);
        return 0;
    case OPT_LOG_LEVEL:
        if (log_level_parse(arg, log_level) < 0) {
            fprintf(stderr, "mesos-standin: unknown --log-level '%s'\n", arg);
            return -EINVAL;
        }
        return 0;
    case OPT_HEARTBEAT: /* the fault module checks and keeps the value */
    case OPT_FAULT:
        if (st_faults_apply_option(name, arg, &err) < 0) {
            fprintf(stderr, "mesos-standin: %s\n", err.msg);
            return -EINVAL;
        }
        return 0;
    default:
        return -EINVAL;
    }
}

static int check_config(void)
{
    struct errbuf err = {{0}};

    if (!cfg.no_register && !cfg.zk_text) {
        fprintf(stderr, "mesos-standin: --zk is required (or --no-register)\n");
        return -EINVAL;
    }
    if (cfg.zk_text && zkurl_parse(cfg.zk_text, &cfg.zk, &err) < 0) {
        fprintf(stderr, "mesos-standin: --zk: %s\n", err.msg);
        return -EINVAL;
    }
    if (!cfg.tls_cert != !cfg.tls_key) {
        fprintf(stderr, "mesos-standin: --tls-cert and --tls-key go together\n");
        return -EINVAL;
    }
    if (!cfg.hostname)
        cfg.hostname = xstrdup(cfg.ip);
    if (!cfg.id) {
        char uuid[37];
        st_uuid(uuid);
        cfg.id = xstrdup(uuid);
    }
    return 0;
}

/* Returns 0, 1 to exit 0 at once (--help), or -EINVAL. */
static int parse_args(int argc, char **argv, int *log_level)
{
    int c, index;

    cfg.ip = xstrdup("127.0.0.1");
    cfg.version = xstrdup("1.11.0");
    cfg.zk_session_timeout_ms = 10000;
    cfg.state_size_kb = 100;
    cfg.max_operator_subscribers = 1000;
    while ((c = getopt_long(argc, argv, "h", options, &index)) != -1) {
        if (c == 'h' || c == OPT_HELP) {
            usage(stdout);
            return 1;
        }
        if (c == '?' || parse_one(c, options[index].name, optarg, log_level) < 0) {
            if (c == '?')
                usage(stderr);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mesos-standin: unexpected argument '%s'\n", argv[optind]);
        return -EINVAL;
    }
    return check_config();
}

/* ---------------------------------------------------------------------------
 * Identity
 * ------------------------------------------------------------------------- */

static void build_identity(void)
{
    static const char *const caps[] = {"AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"};
    struct master_info *mi = &cfg.info;
    struct in_addr a;
    const unsigned char *b = (const unsigned char *)&a.s_addr;

    inet_pton(AF_INET, cfg.ip, &a); /* checked when HTTP was bound */
    cfg.pid = xasprintf("master@%s:%u", cfg.ip, cfg.bound_port);
    mi->id = xstrdup(cfg.id);
    mi->ip = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    mi->port = cfg.bound_port;
    mi->pid = xstrdup(cfg.pid);
    mi->hostname = xstrdup(cfg.hostname);
    mi->version = xstrdup(cfg.version);
    mi->has_address = true;
    mi->address.hostname = xstrdup(cfg.hostname);
    mi->address.ip = cfg.no_address_ip ? NULL : xstrdup(cfg.ip);
    mi->address.port = (int32_t)cfg.bound_port;
    mi->n_capabilities = sizeof(caps) / sizeof(caps[0]);
    mi->capabilities = xcalloc(mi->n_capabilities, sizeof(char *));
    for (size_t i = 0; i < mi->n_capabilities; i++)
        mi->capabilities[i] = xstrdup(caps[i]);
    cfg.info_json_sorted = masterinfo_to_json(mi);
    cfg.info_json_fields = st_masterinfo_json_fields(mi);
}

static void free_config(void)
{
    free(cfg.zk_text);
    zkurl_done(&cfg.zk);
    free(cfg.ip);
    free(cfg.hostname);
    free(cfg.id);
    free(cfg.version);
    free(cfg.tls_cert);
    free(cfg.tls_key);
    free(cfg.require_auth);
    free(cfg.pid);
    masterinfo_done(&cfg.info);
    free(cfg.info_json_sorted);
    free(cfg.info_json_fields);
    free(cfg.znode);
    memset(&cfg, 0, sizeof(cfg));
}

/* ---------------------------------------------------------------------------
 * Running
 * ------------------------------------------------------------------------- */

static int setup_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};

    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Waits for a signal or a fatal event; returns the exit code. */
static int wait_for_end(void)
{
    struct pollfd p = {.fd = wake_pipe[0], .events = POLLIN};
    char buf[16];

    for (;;) {
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            return 1;
        while (read(wake_pipe[0], buf, sizeof(buf)) > 0) {
        }
        if (atomic_load(&exit_code) >= 0)
            return atomic_load(&exit_code);
        if (got_signal)
            return 0;
    }
}

static int start(void)
{
    struct errbuf err = {{0}};

    if (st_http_start(&cfg.bound_port, &err) < 0) {
        log_error("%s", err.msg);
        return -1;
    }
    build_identity();
    st_operator_init();
    if (!cfg.no_register && st_zk_start(&cfg.znode, &err) < 0) {
        log_error("cannot register in ZooKeeper: %s", err.msg);
        return -1;
    }
    log_notice("master %s at %s:%u (%s)", cfg.id, cfg.hostname, cfg.bound_port,
               cfg.znode ? cfg.znode : "not registered");
    printf("standin ready port=%u znode=%s\n", cfg.bound_port, cfg.znode ? cfg.znode : "-");
    fflush(stdout);
    return 0;
}

static void stop(void)
{
    st_faults_shutdown();
    st_streams_kick();
    st_zk_stop(); /* first: the znode goes at once */
    st_http_stop();
    st_sched_cleanup();
    st_operator_cleanup();
    st_operator_done();
    st_control_cleanup();
    st_faults_cleanup();
}

int main(int argc, char **argv)
{
    int log_level = LOG_INFO;
    int rc;

    log_init("mesos-standin", LOG_INFO);
    st_faults_init(15.0);
    rc = parse_args(argc, argv, &log_level);
    if (rc != 0) {
        free_config();
        st_faults_cleanup();
        return rc > 0 ? 0 : 2;
    }
    log_set_max_priority(log_level);
    if (setup_signals() < 0) {
        log_error("cannot create the wake-up pipe: %s", strerror(errno));
        return 1;
    }
    if (start() < 0)
        rc = got_signal ? 0 : 1; /* a signal during start-up is a normal stop */
    else
        rc = got_signal ? 0 : wait_for_end();
    log_notice("stopping (exit code %d)", rc);
    stop();
    free_config();
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    return rc;
}
