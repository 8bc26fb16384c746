/* it_sessions.c: integration tests of the ZooKeeper session as users see it.
 *
 * - With no server listening, mesos-leader, /leaderd/v1/leader and
 *   /leaderd/health say that no session was ever established and why
 *   ("connection refused by 127.0.0.1:PORT"), also past the session
 *   timeout: never "expired".
 * - A server that is no ZooKeeper (it answers the handshake with a session
 *   timeout of 24 days, then hangs up) does not keep the last-known leader
 *   beyond our own session timeout.
 * - Against an ensemble with an observer, a daemon that knows only the
 *   observer follows a leader change made through the voting member.
 * - A tracker does not resolve the ZooKeeper host names again for every
 *   request and answer while its session is connected.
 *
 * The suite's ZooKeeper is one voting member and one observer (two JVMs). */
#include "config.h"

#include "base/mem.h"
#include "zk/tracker.h"
#include "zk/zkurl.h"

#include "harness/harness.h"
#include "integration/itlib.h"

#include <arpa/inet.h>
#include <check.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_TIMEOUT_S 90

static struct zk_cluster *cluster; /* node 0 votes, node 1 observes */

/* ---------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* /leaderd/v1/leader of @d, parsed; the caller puts it. */
static json_object *leader_json(struct it_daemon *d)
{
    struct http_resp r = {0};
    json_object *j;

    ck_assert_int_eq(it_request("GET", it_url(d, "/leaderd/v1/leader"), NULL, NULL, &r), 200);
    j = it_json_parse(r.body);
    http_resp_free(&r);
    return j;
}

/* Runs mesos-leader with @args (NULL-terminated); returns its exit status
 * and its stderr in @ret_err (caller frees). */
static int run_cli(const char *const *args, char **ret_err)
{
    const char *argv[16];
    char *prog = harness_builddir_path("src/cmd/mesos-leader");
    struct proc *p;
    int n = 0, status = -1;

    argv[n++] = prog;
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    p = proc_start(argv, NULL, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(proc_wait_exit(p, IT_TIMEOUT_MS, &status), 0);
    *ret_err = proc_output(p, PROC_STDERR);
    proc_stop(p);
    free(prog);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* ---------------------------------------------------------------------------
 * Never connected
 * ------------------------------------------------------------------------- */

START_TEST(refused_is_not_expired)
{
    int port = harness_free_port();
    char url[64], refused[64], *err = NULL;
    const char *cli_args[] = {"--zk", url, "--timeout", "1", NULL};
    const char *daemon_args[] = {"--zk-session-timeout", "1s", NULL};
    struct it_daemon *d;
    struct http_resp r = {0};
    json_object *j;

    ck_assert_int_gt(port, 0);
    snprintf(url, sizeof(url), "zk://127.0.0.1:%d/mesos", port);
    snprintf(refused, sizeof(refused), "connection refused by 127.0.0.1:%d", port);
    /* mesos-leader says why it cannot connect. */
    ck_assert_int_eq(run_cli(cli_args, &err), 1);
    ck_assert_msg(strstr(err, "cannot connect to ZooKeeper") && strstr(err, refused), "%s", err);
    free(err);
    /* So does the daemon, past its session timeout (1 s) too. */
    d = it_daemon_start(url, daemon_args);
    it_daemon_wait_field(d, "zookeeper.error", refused);
    ck_assert_int_eq(
        proc_wait_output(d->proc, PROC_STDERR, "within the session timeout", IT_TIMEOUT_MS, NULL),
        0);
    j = leader_json(d);
    ck_assert_str_eq(it_json_string(j, "state"), "none");
    ck_assert_str_eq(it_json_string(j, "zookeeper.session"), "never_connected");
    ck_assert_ptr_nonnull(strstr(it_json_string(j, "reason"), refused));
    ck_assert_ptr_null(strstr(it_json_string(j, "reason"), "expired"));
    json_object_put(j);
    ck_assert_int_eq(it_request("GET", it_url(d, "/leaderd/health"), NULL, NULL, &r), 503);
    j = it_json_parse(r.body);
    ck_assert_str_eq(it_json_string(j, "zookeeper_session"), "never_connected");
    ck_assert_ptr_nonnull(strstr(it_json_string(j, "reason"), refused));
    ck_assert_str_eq(it_json_string(j, "zookeeper_error"), refused);
    json_object_put(j);
    http_resp_free(&r);
    ck_assert_int_eq(it_request("GET", it_url(d, "/leaderd/metrics"), NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(
        strstr(r.body, "mesos_leaderd_zookeeper_session_state{state=\"never_connected\"} 1"));
    http_resp_free(&r);
    /* Calls are answered at once: there is nothing to wait for. */
    ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, NULL), 503);
    it_daemon_stop(d);
}
END_TEST

/* ---------------------------------------------------------------------------
 * A server that is no ZooKeeper
 * ------------------------------------------------------------------------- */

struct fake_server {
    int fd;
    int port;
    pthread_t thread;
};

/* The ZooKeeper handshake answer: length, protocol version, timeout,
 * session id, password (length and 16 bytes), read-only flag. */
static void answer_handshake(int fd)
{
    unsigned char buf[4 + 4 + 4 + 8 + 4 + 16 + 1] = {0}, in[256];
    uint32_t len = htonl(sizeof(buf) - 4), timeout = htonl(0x7fffffff), pw = htonl(16);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    if (poll(&pfd, 1, 5000) <= 0 || recv(fd, in, sizeof(in), 0) <= 0)
        return;
    memcpy(buf, &len, 4);
    memcpy(buf + 8, &timeout, 4);
    memset(buf + 12, 0x42, 8);
    memcpy(buf + 20, &pw, 4);
    (void)!send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
}

/* Answers every connection with a handshake claiming a session of 24 days,
 * then closes it. */
static void *fake_server_main(void *arg)
{
    struct fake_server *f = arg;

    for (;;) {
        int c = accept(f->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        answer_handshake(c);
        close(c);
    }
}

static void fake_server_start(struct fake_server *f)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);

    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(f->fd, 0);
    ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(f->fd, 16), 0);
    ck_assert_int_eq(getsockname(f->fd, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_server_main, f), 0);
}

START_TEST(negotiated_timeout_is_bounded)
{
    const char *daemon_args[] = {"--zk-session-timeout", "1s", NULL};
    struct fake_server f;
    struct it_daemon *d;
    char url[64], *line = NULL;

    fake_server_start(&f);
    snprintf(url, sizeof(url), "zk://127.0.0.1:%d/mesos", f.port);
    d = it_daemon_start(url, daemon_args);
    /* It takes the handshake for a session and loses it at once: it keeps
     * what it knew for its own 1 s, not for the 24 days "negotiated"... */
    ck_assert_int_eq(proc_wait_output(d->proc, PROC_STDERR, "keeping the last-known leader",
                                      IT_TIMEOUT_MS, &line),
                     0);
    ck_assert_msg(strstr(line, "for up to 1000 ms"), "%s", line);
    free(line);
    /* ...and then gives the session up. */
    ck_assert_int_eq(proc_wait_output(d->proc, PROC_STDERR,
                                      "no reconnection to ZooKeeper within the session timeout",
                                      IT_TIMEOUT_MS, NULL),
                     0);
    it_daemon_stop(d);
    shutdown(f.fd, SHUT_RDWR);
    close(f.fd);
    pthread_join(f.thread, NULL);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Host name resolution
 * ------------------------------------------------------------------------- */

/* getaddrinfo() as libzookeeper calls it (host, then port as the service),
 * counted for one port and passed on to the C library's: a counter, not a
 * stand-in. */
static char counted_service[16];
static atomic_int resolutions;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
    if (service && counted_service[0] && strcmp(service, counted_service) == 0)
        atomic_fetch_add(&resolutions, 1);
    return real(node, service, hints, res);
}

struct registered {
    struct leader_store *store;
    size_t masters;
};

/* wait_until(): the tracker is connected and lists exactly @masters. */
static bool lists_masters(void *arg)
{
    struct registered *r = arg;
    const struct leader_snapshot *s = leader_store_get(r->store);
    bool yes = s->session == ZK_SESSION_CONNECTED && s->settled && s->n_masters == r->masters;

    leader_snapshot_unref(s);
    return yes;
}

START_TEST(names_not_resolved_per_request)
{
    char hosts[32], path[64], node[80];
    struct zkurl url = {.hosts = hosts, .path = path};
    struct tracker_config cfg = {.url = &url, .session_timeout_ms = 10000};
    struct registered r = {.store = leader_store_new()};
    struct tracker *t = NULL;
    char *created[10] = {0}, observer[32];
    struct zkh_client *c;
    int before;

    /* The tracker talks to the voting member, our own client to the
     * observer: only the tracker's look-ups are counted. */
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%d", zkh_node_port(cluster, 0));
    snprintf(counted_service, sizeof(counted_service), "%d", zkh_node_port(cluster, 0));
    snprintf(observer, sizeof(observer), "127.0.0.1:%d", zkh_node_port(cluster, 1));
    snprintf(path, sizeof(path), "/res%d/mesos", (int)getpid());
    snprintf(node, sizeof(node), "%s/json.info_", path);
    c = zkh_client_open(observer, NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(zkh_client_create_path(c, path), 0);
    ck_assert_int_eq(tracker_start(&cfg, r.store, &t), 0);
    ck_assert(wait_until(lists_masters, &r, IT_TIMEOUT_MS));
    before = atomic_load(&resolutions);
    /* Twenty changes of the group: twenty watches, reads and answers. */
    for (r.masters = 1; r.masters <= 10; r.masters++) {
        ck_assert_int_eq(zkh_client_create(c, node, "x", 1, ZKH_EPHEMERAL | ZKH_SEQUENTIAL,
                                           &created[r.masters - 1]),
                         0);
        ck_assert(wait_until(lists_masters, &r, IT_TIMEOUT_MS));
    }
    for (r.masters = 9;; r.masters--) {
        ck_assert_int_eq(zkh_client_delete(c, created[r.masters], false), 0);
        ck_assert(wait_until(lists_masters, &r, IT_TIMEOUT_MS));
        free(created[r.masters]);
        if (r.masters == 0)
            break;
    }
    ck_assert_msg(atomic_load(&resolutions) - before <= 2,
                  "the host names were resolved %d times for 20 changes",
                  atomic_load(&resolutions) - before);
    tracker_stop(t);
    leader_store_free(r.store);
    zkh_client_close(c);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Observers
 * ------------------------------------------------------------------------- */

START_TEST(daemon_follows_through_observer)
{
    char voter[96], observer[96];
    struct it_master *a, *b;
    struct it_daemon *d;

    ck_assert_str_eq(zkh_node_mode(cluster, 1), "observer");
    snprintf(voter, sizeof(voter), "zk://127.0.0.1:%d/obs%d/mesos", zkh_node_port(cluster, 0),
             (int)getpid());
    snprintf(observer, sizeof(observer), "zk://127.0.0.1:%d/obs%d/mesos", zkh_node_port(cluster, 1),
             (int)getpid());
    /* The masters register through the voting member... */
    a = it_master_start(voter, "a", NULL);
    b = it_master_start(voter, "b", NULL);
    /* ...the daemon knows only the observer. */
    d = it_daemon_start(observer, NULL);
    it_daemon_wait_leader(d, a);
    it_master_stop(a);
    it_daemon_wait_leader(d, b);
    it_daemon_wait_field(d, "zookeeper.session", "connected");
    it_daemon_stop(d);
    it_master_stop(b);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {refused_is_not_expired, negotiated_timeout_is_bounded,
                                  names_not_resolved_per_request, daemon_follows_through_observer,
                                  NULL};
    const char *const cfg[] = {"standaloneEnabled=false", NULL};
    struct zkh_options opt = {.observers = 1, .extra_cfg = cfg};
    SRunner *sr;
    int failed;

    zkh_skip_if_unavailable();
    cluster = zkh_start(2, &opt);
    if (!cluster) {
        fprintf(stderr, "cannot start ZooKeeper: %s\n", harness_error());
        return 99;
    }
    sr = srunner_create(it_suite("sessions", tests, TEST_TIMEOUT_S));
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    zkh_stop(cluster);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
