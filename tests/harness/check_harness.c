/* check_harness.c: tests of the test harness itself, against a real
 * standalone ZooKeeper (started in a suite-level unchecked fixture, as
 * integration tests do), /bin/sh children, and a tiny HTTP server thread. */
#include "config.h"

#include "harness/harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_TIMEOUT_S 30

/* ---------------------------------------------------------------------------
 * Utilities: digests, ports, waiting, paths
 * ------------------------------------------------------------------------- */

static char *sha1_hex(const char *text)
{
    static char hex[41];
    uint8_t d[20];

    harness_sha1(text, strlen(text), d);
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return hex;
}

START_TEST(sha1_and_base64_vectors)
{
    static const char *const b64[][2] = {{"", ""},
                                         {"f", "Zg=="},
                                         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},
                                         {"foob", "Zm9vYg=="},
                                         {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    char *id = zkh_digest_id("super", "test");

    ck_assert_str_eq(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    ck_assert_str_eq(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    ck_assert_str_eq(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                     "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    for (size_t i = 0; i < sizeof(b64) / sizeof(b64[0]); i++) {
        char *s = harness_base64(b64[i][0], strlen(b64[i][0]));
        ck_assert_str_eq(s, b64[i][1]);
        free(s);
    }
    /* The example of ZooKeeper's DigestAuthenticationProvider. */
    ck_assert_str_eq(id, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    free(id);
}
END_TEST

static bool never(void *arg)
{
    (*(int *)arg)++;
    return false;
}

static bool third_time(void *arg)
{
    return ++*(int *)arg >= 3;
}

START_TEST(wait_until_and_ports)
{
    int calls = 0, ports[8];
    char *self = harness_builddir_path("tests/harness/check_harness");

    ck_assert(wait_until(third_time, &calls, 5000));
    ck_assert_int_eq(calls, 3);
    calls = 0;
    ck_assert(!wait_until(never, &calls, 30));
    ck_assert_int_ge(calls, 3); /* polled, and tried again at the deadline */
    ck_assert_int_gt(harness_free_port(), 0);
    ck_assert_int_eq(harness_free_ports(ports, 8), 0);
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < i; j++)
            ck_assert_int_ne(ports[i], ports[j]);
    }
    ck_assert_msg(access(self, X_OK) == 0, "'%s' not found", self);
    free(self);
}
END_TEST

/* ---------------------------------------------------------------------------
 * ZooKeeper: one standalone server for the whole case, in the parent
 * ------------------------------------------------------------------------- */

static struct zk_cluster *zk;
static pid_t zk_pid_at_teardown;

static void zk_setup(void)
{
    zk = zkh_start(1, NULL);
    if (!zk) {
        fprintf(stderr, "cannot start ZooKeeper: %s\n", harness_error());
        exit(99);
    }
}

static void zk_teardown(void)
{
    /* A forked test restarted the server: the parent must still stop it. */
    zk_pid_at_teardown = zkh_node_pid(zk, 0);
    zkh_stop(zk);
    zk = NULL;
}

START_TEST(zk_standalone_serves)
{
    char expect[64], *answer = NULL;

    snprintf(expect, sizeof(expect), "127.0.0.1:%d", zkh_node_port(zk, 0));
    ck_assert_str_eq(zkh_connect_string(zk), expect);
    ck_assert_int_eq(zkh_nodes(zk), 1);
    ck_assert_int_gt(zkh_node_pid(zk, 0), 0);
    ck_assert_str_eq(zkh_node_mode(zk, 0), "standalone");
    ck_assert_int_eq(zkh_4lw(zk, 0, "ruok", &answer), 0);
    ck_assert_str_eq(answer, "imok");
    free(answer);
    ck_assert_int_eq(zkh_wait_leader(zk, 1000, NULL), 0);
}
END_TEST

START_TEST(zk_client_znodes)
{
    static const char data[] = {'{', 0, '\xff', '}'};
    struct zkh_client *c = zkh_client_open(zkh_connect_string(zk), NULL);
    char *created = NULL, *got = NULL, **names = NULL;
    size_t len = 0, n = 0;

    ck_assert_msg(c, "%s", harness_error());
    ck_assert_int_eq(zkh_client_create_path(c, "/harness/a/b"), 0);
    ck_assert_int_eq(zkh_client_create_path(c, "/harness/a/b"), 0);
    ck_assert_int_eq(zkh_client_create(c, "/harness/a/b/json.info_", data, sizeof(data),
                                       ZKH_EPHEMERAL | ZKH_SEQUENTIAL, &created),
                     0);
    ck_assert_str_eq(created, "/harness/a/b/json.info_0000000000");
    ck_assert_int_eq(zkh_client_get(c, created, &got, &len), 0);
    ck_assert_uint_eq(len, sizeof(data));
    ck_assert(memcmp(got, data, len) == 0);
    free(got);
    ck_assert_int_eq(zkh_client_set(c, created, "master@10.0.0.1:5050", 20), 0);
    ck_assert_int_eq(zkh_client_get(c, created, &got, NULL), 0);
    ck_assert_str_eq(got, "master@10.0.0.1:5050");
    free(got);
    ck_assert_int_eq(zkh_client_create(c, "/harness/a/b/log_replicas", NULL, 0, 0, NULL), 0);
    ck_assert_int_eq(zkh_client_children(c, "/harness/a/b", &names, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(names[0], "json.info_0000000000");
    ck_assert_str_eq(names[1], "log_replicas");
    ck_assert_ptr_null(names[2]);
    harness_strv_free(names);
    ck_assert_int_eq(zkh_client_create(c, "/harness/x/y", "", 0, 0, NULL), -ENOENT);
    ck_assert_int_eq(zkh_client_create(c, "/harness/x/y", "", 0, ZKH_PARENTS, NULL), 0);
    ck_assert_int_eq(zkh_client_create(c, "/harness/x/y", "", 0, 0, NULL), -EEXIST);
    ck_assert_int_eq(zkh_client_delete(c, "/harness", false), -ENOTEMPTY);
    ck_assert_int_eq(zkh_client_delete(c, "/harness", true), 0);
    ck_assert_int_eq(zkh_client_exists(c, "/harness"), -ENOENT);
    ck_assert_int_eq(zkh_client_get(c, "/harness", &got, NULL), -ENOENT);
    free(created);
    zkh_client_close(c);
}
END_TEST

START_TEST(zk_digest_acl)
{
    struct zkh_client *bob = zkh_client_open(zkh_connect_string(zk), "bob:secret");
    struct zkh_client *anon = zkh_client_open(zkh_connect_string(zk), NULL);
    char *id = zkh_digest_id("bob", "secret"), *got = NULL, **names = NULL;
    struct zkh_acl acl[] = {{"digest", id, ZKH_PERM_ALL}};

    ck_assert(bob && anon);
    ck_assert_int_eq(zkh_client_create(bob, "/secure", "s3", 2, 0, NULL), 0);
    ck_assert_int_eq(zkh_client_set_acl(bob, "/secure", acl, 1), 0);
    ck_assert_int_eq(zkh_client_get(anon, "/secure", &got, NULL), -EACCES);
    ck_assert_int_eq(zkh_client_children(anon, "/secure", &names, NULL), -EACCES);
    ck_assert_int_eq(zkh_client_get(bob, "/secure", &got, NULL), 0);
    ck_assert_str_eq(got, "s3");
    free(got);
    ck_assert_int_eq(zkh_client_delete(bob, "/secure", true), 0);
    free(id);
    zkh_client_close(anon);
    zkh_client_close(bob);
}
END_TEST

struct gone_arg {
    struct zkh_client *c;
    const char *path;
};

static bool znode_gone(void *arg)
{
    struct gone_arg *g = arg;

    return zkh_client_exists(g->c, g->path) == -ENOENT;
}

START_TEST(zk_expire_session)
{
    struct zkh_client_options opt = {.session_timeout_ms = 400};
    struct zkh_client *master = zkh_client_open_opts(zkh_connect_string(zk), NULL, &opt);
    struct zkh_client *watcher = zkh_client_open(zkh_connect_string(zk), NULL);
    char *created = NULL;
    struct gone_arg g;

    ck_assert(master && watcher);
    ck_assert_int_eq(zkh_client_create(master, "/expire/info_", "x", 1,
                                       ZKH_EPHEMERAL | ZKH_SEQUENTIAL | ZKH_PARENTS, &created),
                     0);
    ck_assert_int_eq(zkh_client_exists(watcher, created), 0);
    ck_assert_int_eq(zkh_client_expire(master), 0);
    g = (struct gone_arg){watcher, created};
    ck_assert(wait_until(znode_gone, &g, 20000));
    zkh_client_close(master);
    ck_assert_int_eq(zkh_client_delete(watcher, "/expire", true), 0);
    zkh_client_close(watcher);
    free(created);
}
END_TEST

START_TEST(zk_restart_node)
{
    pid_t before = zkh_node_pid(zk, 0);
    struct zkh_client *c;

    ck_assert_int_eq(zkh_stop_node(zk, 0), 0);
    ck_assert_int_eq(zkh_node_pid(zk, 0), 0);
    ck_assert_ptr_null(zkh_node_mode(zk, 0));
    ck_assert_int_eq(zkh_stop_node(zk, 0), -ESRCH);
    ck_assert_int_eq(zkh_start_node(zk, 0), 0);
    ck_assert_int_eq(zkh_start_node(zk, 0), -EALREADY);
    ck_assert_str_eq(zkh_node_mode(zk, 0), "standalone");
    ck_assert_int_ne(zkh_node_pid(zk, 0), before);
    c = zkh_client_open(zkh_connect_string(zk), NULL);
    ck_assert_msg(c, "%s", harness_error());
    zkh_client_close(c);
}
END_TEST

START_TEST(zk_pause_and_resume)
{
    ck_assert_int_eq(zkh_pause_node(zk, 0), 0);
    ck_assert_ptr_null(zkh_node_mode(zk, 0)); /* no answer within a second */
    ck_assert_int_eq(zkh_resume_node(zk, 0), 0);
    ck_assert_int_eq(zkh_wait_serving(zk, 0, 5000), 0);
    ck_assert_str_eq(zkh_node_mode(zk, 0), "standalone");
}
END_TEST

START_TEST(zk_state_survives_forked_tests)
{
    /* The previous test (another child) restarted the node. */
    ck_assert_int_gt(zkh_node_pid(zk, 0), 0);
    ck_assert_str_eq(zkh_node_mode(zk, 0), "standalone");
}
END_TEST

/* ---------------------------------------------------------------------------
 * Processes
 * ------------------------------------------------------------------------- */

static struct proc *sh(const char *script, const char *const *env, int grace_ms)
{
    const char *argv[] = {"sh", "-c", script, NULL};
    struct proc_options opt = {.stop_grace_ms = grace_ms};
    struct proc *p = proc_start(argv, env, &opt);

    ck_assert_msg(p, "%s", harness_error());
    return p;
}

START_TEST(proc_output_env_and_exit)
{
    const char *env[] = {"HARNESS_TEST_VAR=from the test", NULL};
    struct proc *p = sh("echo out; echo err >&2; echo \"var=$HARNESS_TEST_VAR\"; exit 3", env, 0);
    char *line = NULL, *err;
    int status = 0;

    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "var=", 5000, &line), 0);
    ck_assert_str_eq(line, "var=from the test");
    free(line);
    ck_assert_int_eq(proc_wait_exit(p, 5000, &status), 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    ck_assert(!proc_running(p));
    err = proc_output(p, PROC_STDERR);
    ck_assert_str_eq(err, "err\n");
    free(err);
    ck_assert_int_eq(proc_signal(p, SIGTERM), -ESRCH);
    ck_assert_int_eq(proc_stop(p), status);
}
END_TEST

START_TEST(proc_marks_find_new_lines)
{
    struct proc *p =
        sh("echo tick 1; read x </dev/null; sleep 0.2; echo tick 2; exec sleep 30", NULL, 0);
    char *line = NULL;
    int status;

    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "tick", 5000, &line), 0);
    ck_assert_str_eq(line, "tick 1");
    free(line);
    proc_output_mark(p, PROC_STDOUT);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "tick", 5000, &line), 0);
    ck_assert_str_eq(line, "tick 2");
    free(line);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "tick", 20, NULL), 0);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "tick 1", 20, NULL), -ETIMEDOUT);
    /* No descriptor of ours leaks into children: just 0, 1 and 2. */
    ck_assert_int_eq(proc_fd_count(proc_pid(p)), 3);
    ck_assert_int_gt(proc_rss_kb(proc_pid(p)), 0);
    status = proc_stop(p);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}
END_TEST

START_TEST(proc_signals_and_escalation)
{
    struct proc *p = sh("trap 'echo got USR1' USR1; trap '' TERM; echo armed; "
                        "while :; do sleep 0.02; done",
                        NULL, 200);
    int status;

    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "armed", 5000, NULL), 0);
    ck_assert_int_eq(proc_signal(p, SIGUSR1), 0);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "got USR1", 5000, NULL), 0);
    ck_assert_int_eq(proc_wait_exit(p, 20, NULL), -ETIMEDOUT);
    status = proc_stop(p); /* ignores SIGTERM: killed after 200 ms */
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

START_TEST(proc_failures_are_quick)
{
    const char *missing[] = {"/nonexistent/mesos-leaderd", NULL};
    struct proc *p = sh("printf 'no newline at the end'", NULL, 0);

    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "never written", 10000, NULL), -ESRCH);
    ck_assert_int_eq(proc_wait_output(p, PROC_STDOUT, "newline", 10, NULL), 0);
    ck_assert_int_eq(proc_stop(p), 0);
    ck_assert_ptr_null(proc_start(missing, NULL, NULL));
    ck_assert_ptr_nonnull(strstr(harness_error(), "No such file"));
    ck_assert_int_gt(proc_fd_count(getpid()), 2);
    ck_assert_int_gt(proc_rss_kb(getpid()), 0);
}
END_TEST

/* ---------------------------------------------------------------------------
 * HTTP against a tiny server thread
 * ------------------------------------------------------------------------- */

struct server {
    int fd, port;
    pthread_t thread;
    atomic_bool stop, go, client_left;
};

static void send_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* Reads one request: request line in @line, body in @body. */
static bool read_request(int fd, char *line, size_t line_size, char *body, size_t *body_len)
{
    char buf[8192];
    size_t len = 0, want = 0;
    char *end = NULL, *cl;

    while (!end || len < (size_t)(end + 4 - buf) + want) {
        ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (!end && (end = strstr(buf, "\r\n\r\n"))) {
            cl = strcasestr(buf, "\r\nContent-Length:");
            want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
        }
    }
    snprintf(line, line_size, "%.*s", (int)strcspn(buf, "\r"), buf);
    *body_len = want;
    memcpy(body, end + 4, want);
    return true;
}

static void serve_stream(struct server *s, int fd, const char *path)
{
    char buf[16];

    send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    if (strcmp(path, "/cut") == 0)
        return; /* closed without the terminating chunk */
    if (strcmp(path, "/forever") == 0) {
        while (recv(fd, buf, sizeof(buf), 0) > 0) {
        }
        atomic_store(&s->client_left, true);
        return;
    }
    while (!atomic_load(&s->go) && !atomic_load(&s->stop))
        usleep(1000);
    send_str(fd, "5\r\nworld\r\n0\r\n\r\n");
}

static void serve(struct server *s, int fd)
{
    char line[512], method[16], path[256], body[4096], out[8192];
    size_t body_len = 0;
    int n;

    if (!read_request(fd, line, sizeof(line), body, &body_len) ||
        sscanf(line, "%15s %255s", method, path) != 2)
        return;
    if (strcmp(path, "/plain") == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     "X-Test: a\r\nx-test:  b \r\nContent-Length: 5\r\n\r\n");
        send_all(fd, "a\0b\r\n", 5);
    } else if (strcmp(path, "/redirect") == 0) {
        send_str(fd, "HTTP/1.1 307 Temporary Redirect\r\nLocation: /plain\r\n"
                     "Content-Length: 0\r\n\r\n");
    } else if (strcmp(path, "/echo") == 0) {
        n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s:",
                     strlen(method) + 1 + body_len, method);
        send_all(fd, out, (size_t)n);
        send_all(fd, body, body_len);
    } else if (strcmp(path, "/line") == 0) {
        n = snprintf(out, sizeof(out), "HTTP/1.0 200 OK\r\n\r\n%s", line);
        send_all(fd, out, (size_t)n);
    } else {
        serve_stream(s, fd, path);
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;

    while (!atomic_load(&s->stop)) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(s, fd);
        close(fd);
    }
    return NULL;
}

static struct server *server_start(void)
{
    struct server *s = calloc(1, sizeof(*s));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);

    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(s->fd, 16), 0);
    ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
    s->port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
    return s;
}

static void server_stop(struct server *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    close(s->fd);
    free(s);
}

/* Formats the URL of @path on port @port into @buf (128 bytes). */
static const char *url(int port, const char *path, char *buf)
{
    snprintf(buf, 128, "http://127.0.0.1:%d%s", port, path);
    return buf;
}

START_TEST(http_requests)
{
    struct server *s = server_start();
    char u[5][128];
    struct http_resp r;
    struct http_req post = {.url = url(s->port, "/echo", u[0]), .body = "x\0y", .body_len = 3};
    struct http_req del = {.method = "DELETE", .url = u[0]};
    struct http_req nofollow = {.url = url(s->port, "/redirect", u[1]), .no_follow = true};
    struct http_req old = {.url = url(s->port, "/line", u[2]), .http10 = true};

    ck_assert_int_eq(http_get(url(s->port, "/plain", u[3]), &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 5);
    ck_assert(memcmp(r.body, "a\0b\r\n", 5) == 0);
    ck_assert_str_eq(http_resp_header(&r, "x-TEST"), "a");
    ck_assert_uint_eq(r.n_headers, 4);
    ck_assert_str_eq(r.headers[2].value, "b");
    ck_assert(strncmp(r.headers_raw, "HTTP/1.1 200 OK\r\n", 17) == 0);
    ck_assert_ptr_nonnull(strstr(r.headers_raw, "x-test:  b \r\n"));
    http_resp_free(&r);

    ck_assert_int_eq(http_request(&post, &r), 0);
    ck_assert_uint_eq(r.body_len, 8);
    ck_assert(memcmp(r.body, "POST:x\0y", 8) == 0);
    http_resp_free(&r);
    ck_assert_int_eq(http_request(&del, &r), 0);
    ck_assert_str_eq(r.body, "DELETE:");
    http_resp_free(&r);

    ck_assert_int_eq(http_get(u[1], &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 5);
    http_resp_free(&r);
    ck_assert_int_eq(http_request(&nofollow, &r), 0);
    ck_assert_int_eq(r.status, 307);
    ck_assert_str_eq(http_resp_header(&r, "Location"), "/plain");
    http_resp_free(&r);

    ck_assert_int_eq(http_request(&old, &r), 0);
    ck_assert_str_eq(r.body, "GET /line HTTP/1.0");
    http_resp_free(&r);
    server_stop(s);

    ck_assert_int_eq(http_get(url(harness_free_port(), "/", u[4]), &r), -ECONNREFUSED);
    ck_assert_int_eq(r.status, 0);
    http_resp_free(&r);
}
END_TEST

START_TEST(http_stream_clean_and_cut)
{
    struct server *s = server_start();
    char u[2][128];
    struct http_req clean = {.url = url(s->port, "/clean", u[0])};
    struct http_stream *st = http_stream_open(&clean);
    enum http_stream_end how = 0;
    char *body;

    ck_assert_int_eq(http_stream_wait_headers(st, 5000), 0);
    ck_assert_int_eq(http_stream_status(st), 200);
    ck_assert_str_eq(http_stream_header(st, "transfer-encoding"), "chunked");
    ck_assert_int_eq(http_stream_wait_contains(st, "hello", 5000), 0);
    ck_assert(!http_stream_ended(st, &how));
    ck_assert_int_eq(http_stream_wait_bytes(st, 6, 20), -ETIMEDOUT);
    atomic_store(&s->go, true);
    ck_assert_int_eq(http_stream_wait_end(st, 5000, &how), 0);
    ck_assert_int_eq(how, HTTP_END_CLEAN);
    ck_assert_int_eq(http_stream_curl_code(st), 0);
    body = http_stream_body(st, NULL);
    ck_assert_str_eq(body, "helloworld");
    free(body);
    ck_assert_int_eq(http_stream_wait_bytes(st, 11, 5000), -EPIPE);
    http_stream_close(st);

    st = http_stream_open(&(struct http_req){.url = url(s->port, "/cut", u[1])});
    ck_assert_int_eq(http_stream_wait_end(st, 5000, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    ck_assert_int_eq(http_stream_curl_code(st), 18); /* CURLE_PARTIAL_FILE */
    http_stream_close(st);
    server_stop(s);
}
END_TEST

static bool client_left(void *arg)
{
    return atomic_load(&((struct server *)arg)->client_left);
}

START_TEST(http_stream_client_goes_away)
{
    struct server *s = server_start();
    char u[128];
    struct http_stream *st =
        http_stream_open(&(struct http_req){.url = url(s->port, "/forever", u)});

    ck_assert_int_eq(http_stream_wait_bytes(st, 5, 5000), 0);
    ck_assert(!client_left(s));
    http_stream_close(st);
    ck_assert(wait_until(client_left, s, 5000));
    server_stop(s);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Suite
 * ------------------------------------------------------------------------- */

static TCase *tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, TEST_TIMEOUT_S);
    return tc;
}

static Suite *harness_suite(void)
{
    Suite *s = suite_create("harness");
    TCase *util = tcase("util"), *zkc = tcase("zookeeper"), *proc = tcase("proc");
    TCase *http = tcase("http");

    tcase_add_test(util, sha1_and_base64_vectors);
    tcase_add_test(util, wait_until_and_ports);
    suite_add_tcase(s, util);

    tcase_add_unchecked_fixture(zkc, zk_setup, zk_teardown);
    tcase_add_test(zkc, zk_standalone_serves);
    tcase_add_test(zkc, zk_client_znodes);
    tcase_add_test(zkc, zk_digest_acl);
    tcase_add_test(zkc, zk_expire_session);
    tcase_add_test(zkc, zk_restart_node);
    tcase_add_test(zkc, zk_pause_and_resume);
    tcase_add_test(zkc, zk_state_survives_forked_tests);
    suite_add_tcase(s, zkc);

    tcase_add_test(proc, proc_output_env_and_exit);
    tcase_add_test(proc, proc_marks_find_new_lines);
    tcase_add_test(proc, proc_signals_and_escalation);
    tcase_add_test(proc, proc_failures_are_quick);
    suite_add_tcase(s, proc);

    tcase_add_test(http, http_requests);
    tcase_add_test(http, http_stream_clean_and_cut);
    tcase_add_test(http, http_stream_client_goes_away);
    suite_add_tcase(s, http);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    zkh_skip_if_unavailable();
    sr = srunner_create(harness_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    /* The teardown ran in this process: the restarted server must be gone. */
    if (zk_pid_at_teardown > 0 && kill(zk_pid_at_teardown, 0) == 0) {
        char path[64], *stat = NULL;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)zk_pid_at_teardown);
        if (harness_read_file(path, &stat, NULL) == 0 && !strstr(stat, ") Z ")) {
            fprintf(stderr, "ZooKeeper (pid %d) survived zkh_stop()\n", (int)zk_pid_at_teardown);
            failed++;
        }
        free(stat);
    }
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
