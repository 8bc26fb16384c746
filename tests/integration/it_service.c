/* it_service.c: integration tests of mesos-leaderd as a service: what it
 * tells systemd, socket activation, reload, draining stop, configuration
 * errors and precedence, the Unix socket listener, journal logging. */
#include "config.h"

#include "base/fdlimit.h"
#include "base/strbuf.h"
#include "integration/itlib.h"
#include "integration/itload.h"

#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- a NOTIFY_SOCKET of our own ------------------------------------------- */

struct notify_sock {
    int fd;
    char path[108];
    char env[128];
    char log[16384]; /* every message received, one per line */
};

static void notify_open(struct notify_sock *n)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    char *dir = harness_mkdtemp("it-notify");

    snprintf(n->path, sizeof(n->path), "%s/notify", dir);
    snprintf(n->env, sizeof(n->env), "NOTIFY_SOCKET=%s", n->path);
    n->log[0] = '\0';
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(n->fd, 0);
    strcpy(sun.sun_path, n->path);
    ck_assert_int_eq(bind(n->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    free(dir);
}

/* Reads every datagram waiting (without blocking). */
static void notify_drain(struct notify_sock *n)
{
    char msg[2048];
    ssize_t len;

    while ((len = recv(n->fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
        msg[len] = '\0';
        for (char *p = msg; *p; p++) {
            if (*p == '\n')
                *p = '|';
        }
        strncat(n->log, msg, sizeof(n->log) - strlen(n->log) - 2);
        strcat(n->log, "\n");
    }
}

struct notify_wait {
    struct notify_sock *n;
    const char *needle;
};

static bool notify_has(void *arg)
{
    struct notify_wait *w = arg;

    notify_drain(w->n);
    return strstr(w->n->log, w->needle) != NULL;
}

static void notify_expect(struct notify_sock *n, const char *needle)
{
    struct notify_wait w = {n, needle};

    ck_assert_msg(wait_until(notify_has, &w, IT_TIMEOUT_MS), "no '%s' in:\n%s", needle, n->log);
}

static void notify_close(struct notify_sock *n)
{
    close(n->fd);
    unlink(n->path);
    *strrchr(n->path, '/') = '\0';
    rmdir(n->path);
}

/* Starts the daemon with @env entries added (NULL-terminated) and @args. */
static struct proc *daemon_with_env(const char *const *env, const char *const *args)
{
    const char *argv[48];
    int argc = it_daemon_argv(argv, 16);
    struct proc *p;

    for (size_t i = 0; args && args[i] && argc < 47; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    p = proc_start(argv, env, NULL);
    ck_assert_msg(p, "cannot start the daemon: %s", harness_error());
    return p;
}

static int wait_status(struct proc *p)
{
    int status = -1;

    ck_assert_int_eq(proc_wait_exit(p, IT_TIMEOUT_MS, &status), 0);
    return status;
}

/* --- tests ---------------------------------------------------------------- */

/* sd_notify: READY=1 once a leader is known, STATUS= naming it and its
 * changes, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1, WATCHDOG=1. */
START_TEST(notifications)
{
    char *zk_url = it_new_zk_url();
    struct notify_sock n;
    struct it_master *m = it_master_start(zk_url, "nm", NULL), *m2;
    char listen[64], want[128];
    struct proc *d;

    notify_open(&n);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", harness_free_port());
    d = daemon_with_env(
        (const char *[]){n.env, "WATCHDOG_USEC=400000", NULL},
        (const char *[]){"--zk", zk_url, "--listen", listen, "--config", "/dev/null", NULL});
    snprintf(want, sizeof(want), "READY=1|STATUS=leader %s (id nm", m->address);
    notify_expect(&n, want);
    notify_expect(&n, "WATCHDOG=1");
    m2 = it_master_start(zk_url, "nm2", NULL);
    it_master_stop(m);
    snprintf(want, sizeof(want), "STATUS=leader %s (id nm2", m2->address);
    notify_expect(&n, want);
    proc_signal(d, SIGHUP);
    notify_expect(&n, "RELOADING=1|MONOTONIC_USEC=");
    ck_assert_int_eq(
        proc_wait_output(d, PROC_STDERR, "configuration reloaded", IT_TIMEOUT_MS, NULL), 0);
    proc_signal(d, SIGTERM);
    notify_expect(&n, "STOPPING=1");
    ck_assert_int_eq(WEXITSTATUS(wait_status(d)), 0);
    /* READY=1 comes once at start and once after the reload. */
    ck_assert_ptr_nonnull(strstr(strstr(n.log, "RELOADING=1"), "READY=1"));
    proc_stop(d);
    it_master_stop(m2);
    notify_close(&n);
    free(zk_url);
}
END_TEST

/* READY=1 without a leader once the startup wait is over (serving 503). */
START_TEST(ready_after_startup_wait_without_leader)
{
    char *zk_url = it_new_zk_url();
    struct notify_sock n;
    char listen[64], url[96];
    struct proc *d;

    notify_open(&n);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", harness_free_port());
    snprintf(url, sizeof(url), "http://%s/master/state", listen);
    d = daemon_with_env((const char *[]){n.env, NULL},
                        (const char *[]){"--zk", zk_url, "--listen", listen, "--startup-wait",
                                         "300ms", "--config", "/dev/null", NULL});
    notify_expect(&n, "READY=1|STATUS=no leader");
    ck_assert_int_eq(it_request("GET", url, NULL, NULL, NULL), 503);
    proc_signal(d, SIGTERM);
    ck_assert_int_eq(WEXITSTATUS(wait_status(d)), 0);
    proc_stop(d);
    notify_close(&n);
    free(zk_url);
}
END_TEST

/* Socket activation: the listening socket comes from systemd-socket-activate. */
START_TEST(socket_activation)
{
    char *zk_url = it_new_zk_url();
    char *bin = harness_builddir_path("src/cmd/mesos-leaderd");
    struct it_master *m = it_master_start(zk_url, "sa", NULL);
    int port = harness_free_port();
    char listen[64], url[96];
    struct http_resp r = {0};
    struct proc *p;

    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(url, sizeof(url), "http://%s/master/state", listen);
    p = proc_start((const char *[]){"systemd-socket-activate", "-l", listen, bin, "--zk", zk_url,
                                    "--listen", "127.0.0.1:1", "--config", "/dev/null", NULL},
                   NULL, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDERR, "Listening on", IT_TIMEOUT_MS, NULL), 0);
    /* The first connection starts the daemon, which takes over the socket. */
    ck_assert_int_eq(it_request("GET", url, NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"sa\""));
    http_resp_free(&r);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDERR, "(socket activation)", IT_TIMEOUT_MS, NULL),
                     0);
    proc_stop(p);
    it_master_stop(m);
    free(bin);
    free(zk_url);
}
END_TEST

/* SIGHUP with a changed ZooKeeper URL (another connect string for the same
 * ensemble): the listener and a stream of the unchanged leader survive. */
START_TEST(reload_new_zk_url_keeps_stream)
{
    char *zk_url = it_new_zk_url();
    struct it_master *m =
        it_master_start(zk_url, "rl", (const char *[]){"--heartbeat-interval", "0.2", NULL});
    char *dir = harness_mkdtemp("it-reload"), conf[512], content[512], *alt = NULL;
    struct it_daemon *d;
    struct http_stream *s;
    size_t before;
    char *body;

    /* The same ensemble named another way: "localhost" instead of 127.0.0.1. */
    ck_assert_int_gt(
        asprintf(&alt, "zk://localhost:%d%s", zkh_node_port(it_zk(), 0), strchr(zk_url + 5, '/')),
        0);
    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    snprintf(content, sizeof(content), "zk = %s\n", zk_url);
    ck_assert_int_eq(harness_write_file(conf, content, strlen(content)), 0);
    /* Only the file names ZooKeeper, so that a reload can change it. */
    d = it_daemon_start_args((const char *[]){"--config", conf, NULL});
    it_daemon_wait_leader(d, m);
    s = it_subscribe(d->base, "reload", NULL);
    ck_assert_int_eq(http_stream_wait_contains(s, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    snprintf(content, sizeof(content), "zk = %s\n", alt);
    ck_assert_int_eq(harness_write_file(conf, content, strlen(content)), 0);
    proc_output_mark(d->proc, PROC_STDERR);
    proc_signal(d->proc, SIGHUP);
    ck_assert_int_eq(
        proc_wait_output(d->proc, PROC_STDERR, "now tracking zk://localhost", IT_TIMEOUT_MS, NULL),
        0);
    ck_assert_int_eq(
        proc_wait_output(d->proc, PROC_STDERR, "configuration reloaded", IT_TIMEOUT_MS, NULL), 0);
    it_daemon_wait_field(d, "zookeeper.url", alt);
    it_daemon_wait_state(d, "known");
    /* The stream still flows, and calls still work. */
    body = http_stream_body(s, &before);
    free(body);
    ck_assert_int_eq(http_stream_wait_bytes(s, before + 50, IT_TIMEOUT_MS), 0);
    ck_assert(!http_stream_ended(s, NULL));
    ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, NULL), 200);
    /* An invalid configuration is refused; the old one stays. */
    ck_assert_int_eq(harness_write_file(conf, "zk = nonsense\n", 14), 0);
    proc_signal(d->proc, SIGHUP);
    ck_assert_int_eq(
        proc_wait_output(d->proc, PROC_STDERR, "configuration refused", IT_TIMEOUT_MS, NULL), 0);
    ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, NULL), 200);
    ck_assert(!http_stream_ended(s, NULL));
    http_stream_close(s);
    it_daemon_stop(d);
    it_master_stop(m);
    harness_rm_rf(dir);
    free(dir);
    free(alt);
    free(zk_url);
}
END_TEST

/* SIGTERM: a short call in flight finishes, streams end, exit 0. */
START_TEST(sigterm_drains)
{
    char *zk_url = it_new_zk_url();
    struct it_master *m = it_master_start(zk_url, "dr", NULL);
    struct it_daemon *d = it_daemon_start(zk_url, NULL);
    struct http_req slow = {.url = NULL};
    struct http_stream *call, *stream;
    enum http_stream_end how;
    int status;

    it_daemon_wait_leader(d, m);
    stream = it_subscribe(d->base, "drain", NULL);
    it_master_faults(m, "{\"delay_ms\":1500}");
    it_master_clear_requests(m);
    slow.url = it_url(d, "/master/state");
    call = http_stream_open(&slow);
    ck_assert(wait_until(it_master_has_requests, m, IT_TIMEOUT_MS));
    proc_signal(d->proc, SIGTERM);
    ck_assert_int_eq(http_stream_wait_end(stream, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    ck_assert_int_eq(http_stream_wait_end(call, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_CLEAN);
    ck_assert_int_eq(http_stream_status(call), 200);
    ck_assert_int_eq(proc_wait_exit(d->proc, IT_TIMEOUT_MS, &status), 0);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    http_stream_close(call);
    http_stream_close(stream);
    proc_stop(d->proc);
    free(d);
    it_master_stop(m);
    free(zk_url);
}
END_TEST

/* Configuration errors name the file and line, the variable, the option;
 * -t checks and exits. */
START_TEST(configuration_errors)
{
    char *dir = harness_mkdtemp("it-conf"), conf[512], *err;
    struct proc *p;

    snprintf(conf, sizeof(conf), "%s/bad.conf", dir);
    ck_assert_int_eq(harness_write_file(conf, "# comment\nmax-body = huge\n", 26), 0);
    p = daemon_with_env(NULL, (const char *[]){"-t", "-c", conf, NULL});
    ck_assert_int_eq(WEXITSTATUS(wait_status(p)), 1);
    err = proc_output(p, PROC_STDERR);
    ck_assert_ptr_nonnull(strstr(err, "bad.conf:2: 'max-body' = 'huge' is not a size"));
    free(err);
    proc_stop(p);
    p = daemon_with_env((const char *[]){"MESOS_LEADERD_RETRY_BUDGET=soon", NULL},
                        (const char *[]){"-t", "-c", "/dev/null", NULL});
    ck_assert_int_eq(WEXITSTATUS(wait_status(p)), 1);
    err = proc_output(p, PROC_STDERR);
    ck_assert_ptr_nonnull(strstr(err, "MESOS_LEADERD_RETRY_BUDGET"));
    free(err);
    proc_stop(p);
    ck_assert_int_eq(harness_write_file(conf, "listen = 127.0.0.1:6001\n", 24), 0);
    p = daemon_with_env(NULL, (const char *[]){"-t", "-c", conf, NULL});
    ck_assert_int_eq(WEXITSTATUS(wait_status(p)), 0);
    err = proc_output(p, PROC_STDOUT);
    ck_assert_ptr_nonnull(strstr(err, "configuration OK"));
    free(err);
    proc_stop(p);
    /* A port in use is a clear startup error. */
    {
        struct it_daemon *first = it_daemon_start("zk://127.0.0.1:1/x", NULL);
        char listen[64];
        snprintf(listen, sizeof(listen), "127.0.0.1:%d", first->port);
        p = daemon_with_env(NULL, (const char *[]){"--listen", listen, "-c", "/dev/null", NULL});
        ck_assert_int_eq(WEXITSTATUS(wait_status(p)), 1);
        err = proc_output(p, PROC_STDERR);
        ck_assert_ptr_nonnull(strstr(err, "Address already in use"));
        free(err);
        proc_stop(p);
        it_daemon_stop(first);
    }
    harness_rm_rf(dir);
    free(dir);
}
END_TEST

/* Environment over file, command line over environment, for real. */
START_TEST(environment_precedence)
{
    char *zk_url = it_new_zk_url();
    struct it_master *m = it_master_start(zk_url, "env", NULL);
    char *dir = harness_mkdtemp("it-env"), conf[512], content[256], env_zk[300], env_listen[64];
    char listen[64], url[96];
    int port = harness_free_port();
    struct proc *d;

    snprintf(conf, sizeof(conf), "%s/c.conf", dir);
    snprintf(content, sizeof(content), "zk = zk://127.0.0.1:1/nowhere\nlisten = 127.0.0.1:1\n");
    ck_assert_int_eq(harness_write_file(conf, content, strlen(content)), 0);
    snprintf(env_zk, sizeof(env_zk), "MESOS_LEADERD_ZK=%s", zk_url);
    snprintf(env_listen, sizeof(env_listen), "MESOS_LEADERD_LISTEN=127.0.0.1:2");
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(url, sizeof(url), "http://%s/master/state", listen);
    /* zk from the environment (over the file); listen from the command line. */
    d = daemon_with_env((const char *[]){env_zk, env_listen, NULL},
                        (const char *[]){"-c", conf, "--listen", listen, NULL});
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR, "ready on", IT_TIMEOUT_MS, NULL), 0);
    ck_assert_int_eq(it_request("GET", url, NULL, NULL, NULL), 200);
    proc_signal(d, SIGTERM);
    ck_assert_int_eq(WEXITSTATUS(wait_status(d)), 0);
    proc_stop(d);
    it_master_stop(m);
    harness_rm_rf(dir);
    free(dir);
    free(zk_url);
}
END_TEST

/* Listening on a Unix socket (sidecars sharing a volume). */
START_TEST(unix_socket)
{
    char *zk_url = it_new_zk_url();
    struct it_master *m = it_master_start(zk_url, "ux", NULL);
    char *dir = harness_mkdtemp("it-unix"), listen[512];
    struct proc *d;
    struct stat st;
    char *answer = NULL;

    snprintf(listen, sizeof(listen), "unix:%s/api.sock", dir);
    d = daemon_with_env(
        NULL, (const char *[]){"--zk", zk_url, "--listen", listen, "-c", "/dev/null", NULL});
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR, "ready on", IT_TIMEOUT_MS, NULL), 0);
    ck_assert_int_eq(it_raw_unix(listen + 5,
                                 "GET /master/state HTTP/1.1\r\nHost: localhost\r\n"
                                 "Connection: close\r\n\r\n",
                                 &answer),
                     200);
    ck_assert_ptr_nonnull(strstr(answer, "\"ux\""));
    free(answer);
    proc_signal(d, SIGTERM);
    ck_assert_int_eq(WEXITSTATUS(wait_status(d)), 0);
    ck_assert_int_ne(stat(listen + 5, &st), 0); /* removed on exit */
    proc_stop(d);
    it_master_stop(m);
    harness_rm_rf(dir);
    free(dir);
    free(zk_url);
}
END_TEST

/* Logging: "<N>" prefixes when stderr is the journal, timestamps otherwise;
 * one line per leader change, old and new. */
START_TEST(journal_prefixes)
{
    char *zk_url = it_new_zk_url();
    char *bin = harness_builddir_path("src/cmd/mesos-leaderd");
    struct it_master *m = it_master_start(zk_url, "jr", NULL);
    char script[1024], listen[64];
    struct proc *p;
    char *err;

    snprintf(listen, sizeof(listen), "127.0.0.1:%d", harness_free_port());
    /* JOURNAL_STREAM names the device and inode of stderr, as systemd does. */
    snprintf(script, sizeof(script),
             "export JOURNAL_STREAM=$(stat -L -c %%d:%%i /proc/self/fd/2); exec '%s' --zk '%s' "
             "--listen %s -c /dev/null",
             bin, zk_url, listen);
    p = proc_start((const char *[]){"/bin/sh", "-c", script, NULL}, NULL, NULL);
    ck_assert_int_eq(
        proc_wait_output(p, PROC_STDERR, "<5>leader changed: now", IT_TIMEOUT_MS, NULL), 0);
    err = proc_output(p, PROC_STDERR);
    ck_assert_ptr_nonnull(strstr(err, "was none"));
    ck_assert_ptr_null(strstr(err, " notice: ")); /* no timestamped format */
    free(err);
    proc_stop(p);
    it_master_stop(m);
    free(bin);
    free(zk_url);
}
END_TEST

/* ZooKeeper credentials from the configuration file appear nowhere: not in
 * the log (even at debug level), the status endpoints, STATUS= or the
 * command line; a world-readable file holding them draws a warning. */
START_TEST(secrets_stay_secret)
{
    char *plain = it_new_zk_url();
    char *dir = harness_mkdtemp("it-secret"), conf[512], content[1024], url[512], listen[64];
    char cmdline_path[64], *cmdline = NULL, *log;
    const char *endpoints[] = {"/leaderd/v1/leader", "/leaderd/health", "/leaderd/metrics"};
    struct it_master *m;
    struct notify_sock n;
    struct http_resp r = {0};
    struct proc *d;

    /* The same path, with digest credentials (the stand-in's znodes get
     * world:read + creator:all, as Mesos's do). */
    snprintf(url, sizeof(url), "zk://alice:s3cr3t-pw@%s", plain + 5);
    m = it_master_start(url, "sec", NULL);
    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    snprintf(content, sizeof(content), "zk = %s\nlog-level = debug\n", url);
    ck_assert_int_eq(harness_write_file(conf, content, strlen(content)), 0);
    ck_assert_int_eq(chmod(conf, 0644), 0);
    notify_open(&n);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", harness_free_port());
    d = daemon_with_env((const char *[]){n.env, NULL},
                        (const char *[]){"-c", conf, "--listen", listen, NULL});
    notify_expect(&n, "READY=1");
    ck_assert_int_eq(
        proc_wait_output(d, PROC_STDERR, "readable by every user", IT_TIMEOUT_MS, NULL), 0);
    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
        char u[128];
        snprintf(u, sizeof(u), "http://%s%s", listen, endpoints[i]);
        ck_assert_int_eq(it_request("GET", u, NULL, NULL, &r), 200);
        ck_assert_msg(!strstr(r.body, "s3cr3t-pw"), "%s shows the password", endpoints[i]);
        http_resp_free(&r);
    }
    snprintf(cmdline_path, sizeof(cmdline_path), "/proc/%d/cmdline", (int)proc_pid(d));
    ck_assert_int_eq(harness_read_file(cmdline_path, &cmdline, NULL), 0);
    proc_signal(d, SIGTERM);
    ck_assert_int_eq(WEXITSTATUS(wait_status(d)), 0);
    notify_drain(&n);
    ck_assert_ptr_null(strstr(n.log, "s3cr3t-pw"));
    log = proc_output(d, PROC_STDERR);
    ck_assert_ptr_null(strstr(log, "s3cr3t-pw"));
    ck_assert_ptr_nonnull(strstr(log, "alice:***@"));
    free(log);
    proc_stop(d);
    /* Not readable by others: no warning. */
    ck_assert_int_eq(chmod(conf, 0600), 0);
    d = daemon_with_env(NULL, (const char *[]){"-t", "-c", conf, NULL});
    ck_assert_int_eq(WEXITSTATUS(wait_status(d)), 0);
    log = proc_output(d, PROC_STDERR);
    ck_assert_ptr_null(strstr(log, "readable by every user"));
    free(log);
    proc_stop(d);
    notify_close(&n);
    it_master_stop(m);
    harness_rm_rf(dir);
    free(cmdline);
    free(dir);
    free(plain);
}
END_TEST

/* Runs the daemon with @args (and @env), waits for its exit and returns
 * its exit status; its stdout and stderr go to *@ret_out and *@ret_err. */
static int run_daemon(const char *const *env, const char *const *args, char **ret_out,
                      char **ret_err)
{
    struct proc *p = daemon_with_env(env, args);
    int status = WEXITSTATUS(wait_status(p));

    *ret_out = proc_output(p, PROC_STDOUT);
    *ret_err = proc_output(p, PROC_STDERR);
    proc_stop(p);
    return status;
}

/* --test-config refuses a listen value the daemon could not open, saying
 * why on plain lines (no log prefix), and a directory as the file; the
 * daemon says what is wrong with a port instead of "cannot resolve". */
START_TEST(test_config_says_what_is_wrong)
{
    static const struct {
        const char *value, *why;
    } bad[] = {
        {"5050", "mesos-leaderd: option --listen: 'listen' = '5050': not HOST:PORT, [V6]:PORT or "
                 "unix:/PATH (127.0.0.1:5050: port 5050 on loopback)\n"},
        {"localhost", "'listen' = 'localhost': the port is missing"},
        {":5054", "'listen' = ':5054': the host is missing"},
        {"127.0.0.1:", "'listen' = '127.0.0.1:': the port is missing"},
    };
    char *dir = harness_mkdtemp("it-test-config"), *out, *err, listen[64];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(
            run_daemon(NULL,
                       (const char *[]){"-t", "-c", "/dev/null", "--listen", bad[i].value, NULL},
                       &out, &err),
            1);
        ck_assert_str_eq(out, "");
        ck_assert_msg(strstr(err, bad[i].why), "'%s' lacks '%s'", err, bad[i].why);
        ck_assert_msg(strncmp(err, "mesos-leaderd: ", 15) == 0, "not a plain line: '%s'", err);
        ck_assert_ptr_null(strstr(err, "loopback address"));
        free(out);
        free(err);
    }
    ck_assert_int_eq(run_daemon(NULL, (const char *[]){"-t", "-c", dir, NULL}, &out, &err), 1);
    ck_assert_ptr_nonnull(strstr(err, "cannot read the configuration file"));
    ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
    free(out);
    free(err);
    /* A warning of -t is a plain line too. */
    snprintf(listen, sizeof(listen), "0.0.0.0:%d", harness_free_port());
    ck_assert_int_eq(
        run_daemon(NULL, (const char *[]){"-t", "-c", "/dev/null", "-l", listen, NULL}, &out, &err),
        0);
    ck_assert_ptr_nonnull(strstr(out, "configuration OK"));
    ck_assert_msg(strncmp(err, "mesos-leaderd: warning: listening on '0.0.0.0:", 46) == 0, "%s",
                  err);
    free(out);
    free(err);
    /* Starting for real: the port is named as what is wrong. */
    ck_assert_int_eq(
        run_daemon(NULL, (const char *[]){"-c", "/dev/null", "--listen", "127.0.0.1:abc", NULL},
                   &out, &err),
        1);
    ck_assert_ptr_nonnull(strstr(err, "the port 'abc' is not a number from 0 to 65535"));
    ck_assert_ptr_null(strstr(err, "resolve"));
    free(out);
    free(err);
    harness_rm_rf(dir);
    free(dir);
}
END_TEST

/* A reload checks listen as a start would, and warns about every setting
 * that only a restart changes, keeping the value it started with. */
START_TEST(reload_checks_and_warns_from_the_table)
{
    char *zk_url = it_new_zk_url();
    struct it_master *m = it_master_start(zk_url, "rt", NULL);
    char *dir = harness_mkdtemp("it-reload-rules"), conf[512], content[512], url[96], want[256];
    int port = harness_free_port(), other = harness_free_port();
    struct proc *d;

    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    snprintf(content, sizeof(content), "zk = %s\nlisten = 127.0.0.1:%d\n", zk_url, port);
    ck_assert_int_eq(harness_write_file(conf, content, strlen(content)), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/master/state", port);
    d = daemon_with_env(NULL, (const char *[]){"-c", conf, NULL});
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR, "ready on", IT_TIMEOUT_MS, NULL), 0);
    /* A listen value that a restart could not open is refused. */
    snprintf(content, sizeof(content), "zk = %s\nlisten = localhost\n", zk_url);
    ck_assert_int_eq(harness_write_file(conf, content, strlen(content)), 0);
    proc_signal(d, SIGHUP);
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR,
                                      "configuration refused, keeping the old one: ", IT_TIMEOUT_MS,
                                      NULL),
                     0);
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR,
                                      ":2: 'listen' = 'localhost': the port is "
                                      "missing",
                                      IT_TIMEOUT_MS, NULL),
                     0);
    /* Settings only a restart changes: warned about, the old value kept. */
    snprintf(content, sizeof(content),
             "zk = %s\nlisten = 127.0.0.1:%d\nclient-idle-timeout = 90s\n"
             "max-connections = 20000\nmax-body = 1MiB\n",
             zk_url, other);
    ck_assert_int_eq(harness_write_file(conf, content, strlen(content)), 0);
    proc_output_mark(d, PROC_STDERR);
    proc_signal(d, SIGHUP);
    ck_assert_int_eq(
        proc_wait_output(d, PROC_STDERR, "configuration reloaded", IT_TIMEOUT_MS, NULL), 0);
    snprintf(want, sizeof(want),
             "'listen' changed to 127.0.0.1:%d: that takes a restart; still 127.0.0.1:%d", other,
             port);
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR, want, IT_TIMEOUT_MS, NULL), 0);
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR,
                                      "'client-idle-timeout' changed to 90s: that takes a "
                                      "restart; still 60s",
                                      IT_TIMEOUT_MS, NULL),
                     0);
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR,
                                      "'max-connections' = 20000: it can grow past 10000 only "
                                      "with a restart; still 10000",
                                      IT_TIMEOUT_MS, NULL),
                     0);
    ck_assert_int_eq(it_request("GET", url, NULL, NULL, NULL), 200);
    proc_signal(d, SIGTERM);
    ck_assert_int_eq(WEXITSTATUS(wait_status(d)), 0);
    proc_stop(d);
    it_master_stop(m);
    harness_rm_rf(dir);
    free(dir);
    free(zk_url);
}
END_TEST

/* The daemon raises its soft limit of open files to the hard one, and warns
 * when max-connections needs more than that. */
START_TEST(open_files_limit)
{
    const char *argv[20];
    char script[1024], listen[64], limits_path[64], want[128], *limits = NULL, *err;
    int argc = it_daemon_argv(argv, 16);
    struct rlimit rl;
    struct proc *p;

    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", harness_free_port());
    /* Hard and soft 1000, one cluster: (1000 - 80) / 2 = 460 connections. */
    snprintf(script, sizeof(script),
             "ulimit -n 1000 && exec '%s' -c /dev/null --zk zk://127.0.0.1:1/x --listen %s",
             argv[argc - 1], listen);
    p = proc_start((const char *[]){"/bin/sh", "-c", script, NULL}, NULL, NULL);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDERR,
                                      "'max-connections' = 10000 needs 20080 open files (2 per "
                                      "connection and 80), but the limit is 1000: at most 460 "
                                      "connections can be served",
                                      IT_TIMEOUT_MS, NULL),
                     0);
    proc_stop(p);
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max <= 256)
        return; /* nothing to raise */
    snprintf(script, sizeof(script),
             "ulimit -S -n 256 && exec '%s' -c /dev/null --zk zk://127.0.0.1:1/x --listen %s "
             "--log-level debug --max-connections 10",
             argv[argc - 1], listen);
    p = proc_start((const char *[]){"/bin/sh", "-c", script, NULL}, NULL, NULL);
    snprintf(want, sizeof(want), "raised the open files limit from 256 to %llu",
             (unsigned long long)rl.rlim_max);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDERR, want, IT_TIMEOUT_MS, NULL), 0);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDERR, "listening on", IT_TIMEOUT_MS, NULL), 0);
    snprintf(limits_path, sizeof(limits_path), "/proc/%d/limits", (int)proc_pid(p));
    ck_assert_int_eq(harness_read_file(limits_path, &limits, NULL), 0);
    snprintf(want, sizeof(want), "Max open files            %-20llu %-20llu",
             (unsigned long long)rl.rlim_max, (unsigned long long)rl.rlim_max);
    ck_assert_msg(strstr(limits, want), "%s lacks '%s'", limits, want);
    err = proc_output(p, PROC_STDERR);
    ck_assert_ptr_null(strstr(err, "open files (2 per")); /* 10 connections fit */
    free(err);
    free(limits);
    proc_stop(p);
}
END_TEST

/* --test-config checks [cluster] sections; errors name the line. */
START_TEST(test_config_clusters)
{
    char *dir = harness_mkdtemp("it-clusters"), conf[512], want[1200], *out, *err;
    const char *two = "max-body = 1MiB\n\n[cluster a]\nzk = zk://127.0.0.1:1/a\n"
                      "listen = 127.0.0.1:15050\n\n[cluster b]\nzk = zk://127.0.0.1:1/b\n"
                      "listen = 127.0.0.1:15051\n";
    const char *twice = "[cluster a]\nzk = zk://127.0.0.1:1/a\nlisten = 127.0.0.1:15050\n"
                        "[cluster a]\nzk = zk://127.0.0.1:1/b\nlisten = 127.0.0.1:15051\n";

    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    ck_assert_int_eq(harness_write_file(conf, two, strlen(two)), 0);
    ck_assert_int_eq(run_daemon(NULL, (const char *[]){"-t", "-c", conf, NULL}, &out, &err), 0);
    snprintf(want, sizeof(want), "configuration OK (%s, 2 clusters)\n", conf);
    ck_assert_str_eq(out, want);
    free(out);
    free(err);
    ck_assert_int_eq(harness_write_file(conf, twice, strlen(twice)), 0);
    ck_assert_int_eq(run_daemon(NULL, (const char *[]){"-t", "-c", conf, NULL}, &out, &err), 1);
    snprintf(want, sizeof(want),
             "mesos-leaderd: %s:4: cluster 'a' is defined twice (first at %s:1)", conf, conf);
    ck_assert_msg(strstr(err, want), "'%s' lacks '%s'", err, want);
    free(out);
    free(err);
    harness_rm_rf(dir);
    free(dir);
}
END_TEST

/* --- several clusters ------------------------------------------------------ */

/* One cluster of a multi-cluster test: its election path, master, port. */
struct cl {
    const char *name;
    char *zk_url;
    struct it_master *m;
    int port;
    char base[64];
};

static void cl_start(struct cl *c, const char *name, const char *master_id)
{
    c->name = name;
    c->zk_url = it_new_zk_url();
    c->m = it_master_start(c->zk_url, master_id,
                           (const char *[]){"--heartbeat-interval", "0.2", NULL});
    c->port = harness_free_port();
    snprintf(c->base, sizeof(c->base), "http://127.0.0.1:%d", c->port);
}

static void cl_stop(struct cl *c)
{
    it_master_stop(c->m);
    free(c->zk_url);
}

/* Writes a configuration file with one [cluster] section per cluster. */
static void write_clusters(const char *conf, struct cl *cls, int n)
{
    struct strbuf text = {0};

    strbuf_puts(&text, "# several clusters\nclient-idle-timeout = 30s\n");
    for (int i = 0; i < n; i++)
        strbuf_printf(&text, "\n[cluster %s]\nzk = %s\nlisten = 127.0.0.1:%d\n", cls[i].name,
                      cls[i].zk_url, cls[i].port);
    ck_assert_int_eq(harness_write_file(conf, text.data, text.len), 0);
    strbuf_done(&text);
}

/* Clusters "east" and "west", each with a master, in @dir's leaderd.conf
 * (its path in @conf). */
static void east_and_west(struct cl *cls, const char *dir, char *conf, size_t size)
{
    cl_start(&cls[0], "east", "east-1");
    cl_start(&cls[1], "west", "west-1");
    snprintf(conf, size, "%s/leaderd.conf", dir);
    write_clusters(conf, cls, 2);
}

/* Stops the daemon (it must exit 0), the clusters' masters, and removes @dir. */
static void clusters_stop(struct proc *d, struct notify_sock *n, struct cl *cls, int count,
                          char *dir)
{
    ck_assert_int_eq(proc_stop(d), 0);
    notify_close(n);
    for (int i = 0; i < count; i++)
        cl_stop(&cls[i]);
    harness_rm_rf(dir);
    free(dir);
}

/* GET @path on @base: the status, and the body in *@ret (caller frees). */
static long get(const char *base, const char *path, char **ret)
{
    char url[160];
    struct http_resp r = {0};
    long status;

    snprintf(url, sizeof(url), "%s%s", base, path);
    status = it_request("GET", url, NULL, NULL, &r);
    *ret = r.body ? strdup(r.body) : strdup("");
    http_resp_free(&r);
    return status;
}

/* Each listener serves its own cluster: calls reach that cluster's leader,
 * /leaderd/ speaks of it, its metrics carry its name; READY=1 comes once
 * both have a leader, STATUS= names each. */
START_TEST(two_clusters_one_daemon)
{
    struct cl cls[2];
    char *dir = harness_mkdtemp("it-clusters"), conf[512], *body;
    struct notify_sock n;
    struct proc *d;

    east_and_west(cls, dir, conf, sizeof(conf));
    notify_open(&n);
    d = daemon_with_env((const char *[]){n.env, NULL},
                        (const char *[]){"--config", conf, "--log-level", "debug", NULL});
    notify_expect(&n, "READY=1");
    notify_expect(&n, "east: leader 127.0.0.1:");
    notify_expect(&n, "west: leader 127.0.0.1:");
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(get(cls[i].base, "/master/state", &body), 200);
        ck_assert_ptr_nonnull(strstr(body, i == 0 ? "\"east-1\"" : "\"west-1\""));
        ck_assert_ptr_null(strstr(body, i == 0 ? "\"west-1\"" : "\"east-1\""));
        free(body);
        ck_assert_int_eq(get(cls[i].base, "/leaderd/v1/leader", &body), 200);
        ck_assert_ptr_nonnull(strstr(body, i == 0 ? "\"id\":\"east-1\"" : "\"id\":\"west-1\""));
        free(body);
        ck_assert_int_eq(get(cls[i].base, "/leaderd/metrics", &body), 200);
        ck_assert_ptr_nonnull(strstr(body, i == 0
                                               ? "mesos_leaderd_leader_known{cluster=\"east\"} 1"
                                               : "mesos_leaderd_leader_known{cluster=\"west\"} 1"));
        ck_assert_ptr_nonnull(strstr(body, "requests_total{cluster="));
        free(body);
    }
    /* Log lines about one cluster name it. */
    body = proc_output(d, PROC_STDERR);
    ck_assert_ptr_nonnull(strstr(body, "cluster 'east': leader changed: now 127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(body, "cluster 'west': leader changed: now 127.0.0.1:"));
    ck_assert_ptr_nonnull(strstr(body, "cluster 'west': ZooKeeper session 0x"));
    free(body);
    clusters_stop(d, &n, cls, 2, dir);
}
END_TEST

/* Streams opened on @c's listener: all answered, none cut; each either
 * subscribed or answered 503 too_many_connections. */
static struct it_crowd *crowd_settled(const struct cl *c, int n, struct it_crowd_report *r)
{
    struct it_crowd *crowd = it_crowd_open(c->port, n, c->name);

    ck_assert_msg(it_crowd_wait(crowd, IT_TIMEOUT_MS, r), "%s: %d of %d streams still wait",
                  c->name, r->waiting, n);
    fprintf(stderr, "%s: %d streams: %d subscribed, %d answered 503 too_many_connections\n",
            c->name, n, r->subscribed, r->rejected_busy);
    ck_assert_msg(r->cut == 0 && r->rejected == r->rejected_busy,
                  "%s: %d cut, %d rejected other than by too_many_connections: %.300s", c->name,
                  r->cut, r->rejected - r->rejected_busy, r->sample);
    return crowd;
}

/* wait_until() predicate: the process @arg (a struct fds_at_most) has at
 * most that many descriptors open. */
struct fds_at_most {
    pid_t pid;
    int n;
};

static bool fds_at_most(void *arg)
{
    const struct fds_at_most *w = arg;

    return proc_fd_count(w->pid) <= w->n;
}

#define IDLE_HELD 40 /* idle connections, more than a listener answers past the limit */

/* The open files are the process's: two clusters share what they allow.
 * With a limit of 200, each alone would serve (200 - 80) / 2 = 60 streams;
 * together they serve (200 - 16 - 2 x 64) / 2 = 28, and past that both
 * answer 503 too_many_connections, never out_of_descriptors, never a cut. */
START_TEST(clusters_share_descriptors)
{
    const int limit = 200, crowd = 68;
    int cap = (int)fdlimit_max_connections(limit, 2), wrapped = getenv("IT_DAEMON_WRAPPER") != NULL;
    struct cl cls[2];
    char *dir = harness_mkdtemp("it-clusters"), conf[512], nofile[32];
    const char *argv[32] = {"prlimit", nofile, "--"};
    int argc = 3 + it_daemon_argv(argv + 3, 16);
    struct it_crowd_report r[3];
    struct it_crowd *east, *west, *again;
    struct fds_at_most idle;
    int idle_fds[IDLE_HELD];
    char *body;
    struct notify_sock n;
    struct proc *d;

    east_and_west(cls, dir, conf, sizeof(conf));
    snprintf(nofile, sizeof(nofile), "--nofile=%d:%d", limit, limit);
    argv[argc++] = "--config";
    argv[argc++] = conf;
    argv[argc] = NULL;
    notify_open(&n);
    d = proc_start(argv, (const char *[]){n.env, NULL}, NULL);
    ck_assert_ptr_nonnull(d);
    notify_expect(&n, "east: leader 127.0.0.1:");
    notify_expect(&n, "west: leader 127.0.0.1:");
    idle.pid = proc_pid(d);
    idle.n = proc_fd_count(idle.pid);
    east = crowd_settled(&cls[0], crowd, &r[0]);
    west = crowd_settled(&cls[1], crowd, &r[1]);
    /* East's clients take every descriptor, and more of them wait idle:
     * west still answers (its own few connections past the limit). */
    for (int i = 0; i < IDLE_HELD; i++)
        idle_fds[i] = it_connect(cls[0].port);
    ck_assert_int_eq(get(cls[1].base, "/leaderd/health", &body), 200);
    free(body);
    for (int i = 0; i < IDLE_HELD; i++)
        close(idle_fds[i]);
    /* Under valgrind, which keeps a few descriptors, a few less. */
    ck_assert_msg(r[0].subscribed + r[1].subscribed <= cap &&
                      r[0].subscribed + r[1].subscribed >= cap - (wrapped ? 8 : 0),
                  "%d + %d streams served with %d open files for two clusters, not %d",
                  r[0].subscribed, r[1].subscribed, limit, cap);
    /* What one cluster's streams give back, the other's get. The daemon is
     * back to its idle descriptors once east's streams are closed: west
     * served none, and its answered connections were closed. */
    it_crowd_close(east);
    ck_assert(wait_until(fds_at_most, &idle, IT_TIMEOUT_MS)); /* every connection closed */
    again = crowd_settled(&cls[1], r[0].subscribed, &r[2]);
    ck_assert_int_eq(r[2].subscribed, r[0].subscribed);
    it_crowd_close(again);
    it_crowd_close(west);
    clusters_stop(d, &n, cls, 2, dir);
}
END_TEST

/* A reload adds a third cluster and keeps the first two's streams and
 * sessions; a reload that removes one stops its listener and its streams
 * only. */
START_TEST(reload_adds_and_removes_clusters)
{
    struct cl cls[3];
    char *dir = harness_mkdtemp("it-clusters"), conf[512], *body;
    struct http_stream *s[2];
    struct proc *d;
    size_t before[2];

    cl_start(&cls[0], "a", "a-1");
    cl_start(&cls[1], "b", "b-1");
    cl_start(&cls[2], "c", "c-1");
    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    write_clusters(conf, cls, 2);
    d = daemon_with_env(NULL, (const char *[]){"--config", conf, "--log-level", "debug", NULL});
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR, "ready on", IT_TIMEOUT_MS, NULL), 0);
    for (int i = 0; i < 2; i++) {
        s[i] = it_subscribe(cls[i].base, cls[i].name, NULL);
        ck_assert_int_eq(http_stream_wait_contains(s[i], "HEARTBEAT", IT_TIMEOUT_MS), 0);
    }
    write_clusters(conf, cls, 3);
    proc_output_mark(d, PROC_STDERR);
    proc_signal(d, SIGHUP);
    ck_assert_int_eq(
        proc_wait_output(d, PROC_STDERR, "configuration reloaded: 3 clusters", IT_TIMEOUT_MS, NULL),
        0);
    ck_assert_int_eq(get(cls[2].base, "/master/state", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"c-1\""));
    free(body);
    for (int i = 0; i < 2; i++) { /* untouched: still flowing, same session */
        free(http_stream_body(s[i], &before[i]));
        ck_assert_int_eq(http_stream_wait_bytes(s[i], before[i] + 50, IT_TIMEOUT_MS), 0);
        ck_assert(!http_stream_ended(s[i], NULL));
    }
    body = proc_output(d, PROC_STDERR);
    ck_assert_ptr_null(
        strstr(strstr(body, "reloading") ? strstr(body, "reloading") : body, "now tracking"));
    free(body);

    /* Remove b: its listener closes, its stream ends; a goes on. */
    write_clusters(conf, cls, 1);
    proc_signal(d, SIGHUP);
    ck_assert_int_eq(
        proc_wait_output(d, PROC_STDERR, "configuration reloaded: 1 cluster", IT_TIMEOUT_MS, NULL),
        0);
    ck_assert_int_eq(get(cls[1].base, "/master/state", &body), 0); /* refused */
    free(body);
    ck_assert_int_eq(http_stream_wait_end(s[1], IT_TIMEOUT_MS, NULL), 0);
    free(http_stream_body(s[0], &before[0]));
    ck_assert_int_eq(http_stream_wait_bytes(s[0], before[0] + 50, IT_TIMEOUT_MS), 0);
    ck_assert(!http_stream_ended(s[0], NULL));
    for (int i = 0; i < 2; i++)
        http_stream_close(s[i]);
    ck_assert_int_eq(proc_stop(d), 0);
    for (int i = 0; i < 3; i++)
        cl_stop(&cls[i]);
    harness_rm_rf(dir);
    free(dir);
}
END_TEST

struct master_count {
    struct it_master *m;
    int n;
};

static bool master_received(void *arg)
{
    struct master_count *c = arg;

    return it_master_request_count(c->m) >= c->n;
}

/* Removing a cluster while its master holds calls: a GET with a second one
 * pipelined behind it, and a POST. The daemon once parsed the pipelined
 * request while stopping the cluster, suspended it, and libmicrohttpd
 * aborted the whole process. The GET may go again: 503 with Retry-After; the
 * POST may have taken effect: 502, no invitation to send it again. */
START_TEST(removed_cluster_with_calls_in_flight)
{
    static const char get_twice[] = "GET /master/flags HTTP/1.1\r\nHost: b\r\n\r\n"
                                    "GET /master/flags HTTP/1.1\r\nHost: b\r\n\r\n";
    static const char post[] = "POST /master/teardown HTTP/1.1\r\nHost: b\r\n"
                               "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    struct cl cls[2];
    char *dir = harness_mkdtemp("it-clusters"), conf[512], *body, *answer = NULL;
    struct proc *d;
    int get_fd, post_fd;

    cl_start(&cls[0], "a", "a-1");
    cl_start(&cls[1], "b", "b-1");
    it_master_faults(cls[1].m, "{\"delay_ms\":20000}");
    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    write_clusters(conf, cls, 2);
    d = daemon_with_env(NULL, (const char *[]){"--config", conf, NULL});
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR, "ready on", IT_TIMEOUT_MS, NULL), 0);
    get_fd = it_connect(cls[1].port);
    post_fd = it_connect(cls[1].port);
    ck_assert_int_eq(write(get_fd, get_twice, sizeof(get_twice) - 1), sizeof(get_twice) - 1);
    ck_assert_int_eq(write(post_fd, post, sizeof(post) - 1), sizeof(post) - 1);
    ck_assert(wait_until(master_received, &(struct master_count){cls[1].m, 2}, IT_TIMEOUT_MS));
    write_clusters(conf, cls, 1);
    proc_signal(d, SIGHUP);
    ck_assert_int_eq(it_read_answer(get_fd, IT_TIMEOUT_MS, &answer, NULL), 503);
    ck_assert_ptr_nonnull(strstr(answer, "Retry-After: 1"));
    free(answer);
    ck_assert_int_eq(it_read_answer(post_fd, IT_TIMEOUT_MS, &answer, NULL), 502);
    ck_assert_ptr_nonnull(strstr(answer, "stopped_mid_call"));
    ck_assert_ptr_null(strstr(answer, "Retry-After"));
    free(answer);
    ck_assert_int_eq(
        proc_wait_output(d, PROC_STDERR, "configuration reloaded: 1 cluster", IT_TIMEOUT_MS, NULL),
        0);
    ck_assert_int_eq(get(cls[0].base, "/master/state", &body), 200); /* a goes on */
    free(body);
    close(get_fd);
    close(post_fd);
    ck_assert_int_eq(proc_stop(d), 0);
    for (int i = 0; i < 2; i++)
        cl_stop(&cls[i]);
    harness_rm_rf(dir);
    free(dir);
}
END_TEST

/* A cluster renamed on reload keeps its address: the old name stops before
 * the new one listens (it once failed with "Address already in use"). */
START_TEST(renamed_cluster_keeps_address)
{
    struct cl c;
    char *dir = harness_mkdtemp("it-clusters"), conf[512], *body;
    struct proc *d;

    cl_start(&c, "old", "r-1");
    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    write_clusters(conf, &c, 1);
    d = daemon_with_env(NULL, (const char *[]){"--config", conf, NULL});
    ck_assert_int_eq(proc_wait_output(d, PROC_STDERR, "ready on", IT_TIMEOUT_MS, NULL), 0);
    c.name = "new";
    write_clusters(conf, &c, 1);
    proc_output_mark(d, PROC_STDERR);
    proc_signal(d, SIGHUP);
    ck_assert_int_eq(
        proc_wait_output(d, PROC_STDERR, "configuration reloaded: 1 cluster", IT_TIMEOUT_MS, NULL),
        0);
    ck_assert_int_eq(get(c.base, "/master/state", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"r-1\""));
    free(body);
    body = proc_output(d, PROC_STDERR);
    ck_assert_ptr_null(strstr(body, "in use"));
    free(body);
    ck_assert_int_eq(proc_stop(d), 0);
    cl_stop(&c);
    harness_rm_rf(dir);
    free(dir);
}
END_TEST

/* Socket activation with several clusters: each takes the socket whose
 * FileDescriptorName= is its name (its own listen value is not used). */
START_TEST(socket_activation_by_name)
{
    struct cl cls[2];
    char *dir = harness_mkdtemp("it-clusters"), conf[512], *body;
    char *bin = harness_builddir_path("src/cmd/mesos-leaderd");
    char l0[64], l1[64];
    int ports[2];
    struct proc *p;

    cl_start(&cls[0], "one", "one-1");
    cl_start(&cls[1], "two", "two-1");
    snprintf(conf, sizeof(conf), "%s/leaderd.conf", dir);
    for (int i = 0; i < 2; i++) {
        ports[i] = cls[i].port;
        cls[i].port = harness_free_port(); /* never opened: the passed sockets are used */
    }
    write_clusters(conf, cls, 2);
    snprintf(l0, sizeof(l0), "127.0.0.1:%d", ports[0]);
    snprintf(l1, sizeof(l1), "127.0.0.1:%d", ports[1]);
    p = proc_start((const char *[]){"systemd-socket-activate", "-l", l0, "-l", l1,
                                    "--fdname=one:two", bin, "--config", conf, NULL},
                   NULL, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDERR, "Listening on", IT_TIMEOUT_MS, NULL), 0);
    /* The first connection starts the daemon, which takes both sockets. */
    for (int i = 0; i < 2; i++) {
        snprintf(cls[i].base, sizeof(cls[i].base), "http://127.0.0.1:%d", ports[i]);
        ck_assert_int_eq(get(cls[i].base, "/master/state", &body), 200);
        ck_assert_ptr_nonnull(strstr(body, i == 0 ? "\"one-1\"" : "\"two-1\""));
        free(body);
    }
    ck_assert_int_eq(proc_wait_output(p, PROC_STDERR, "(socket activation)", IT_TIMEOUT_MS, NULL),
                     0);
    for (int i = 0; i < 2; i++) { /* the ports of the file stay closed */
        snprintf(cls[i].base, sizeof(cls[i].base), "http://127.0.0.1:%d", cls[i].port);
        ck_assert_int_eq(get(cls[i].base, "/master/state", &body), 0);
        free(body);
    }
    proc_stop(p);
    for (int i = 0; i < 2; i++)
        cl_stop(&cls[i]);
    free(bin);
    harness_rm_rf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {notifications,
                                  ready_after_startup_wait_without_leader,
                                  socket_activation,
                                  reload_new_zk_url_keeps_stream,
                                  sigterm_drains,
                                  configuration_errors,
                                  environment_precedence,
                                  unix_socket,
                                  journal_prefixes,
                                  secrets_stay_secret,
                                  test_config_says_what_is_wrong,
                                  reload_checks_and_warns_from_the_table,
                                  open_files_limit,
                                  test_config_clusters,
                                  two_clusters_one_daemon,
                                  clusters_share_descriptors,
                                  reload_adds_and_removes_clusters,
                                  removed_cluster_with_calls_in_flight,
                                  renamed_cluster_keeps_address,
                                  socket_activation_by_name,
                                  NULL};

    return it_run(it_suite("service", tests, 90), 1);
}
