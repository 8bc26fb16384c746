/* itlib.c: ZooKeeper, stand-ins and the daemon for integration tests. */
#include "config.h"

#include "integration/itlib.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct zk_cluster *suite_zk;
static int path_counter;

/* IT_ONLY=name[,name...] runs only the named tests (when chasing one). */
static bool test_selected(const char *test)
{
    const char *only = getenv("IT_ONLY");
    size_t len = strlen(test);

    if (!only || !*only)
        return true;
    for (const char *p = only; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, test, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            return true;
    return false;
}

Suite *it_suite(const char *name, const TTest *const *tests, int timeout_s)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout_s);
    for (size_t i = 0; tests[i]; i++)
        if (test_selected(tests[i]->name))
            tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return s;
}

int it_run(Suite *s, int nodes)
{
    SRunner *sr;
    int failed;

    zkh_skip_if_unavailable();
    suite_zk = zkh_start(nodes, NULL);
    if (!suite_zk) {
        fprintf(stderr, "cannot start ZooKeeper: %s\n", harness_error());
        return 99;
    }
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    zkh_stop(suite_zk);
    suite_zk = NULL;
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

struct zk_cluster *it_zk(void)
{
    return suite_zk;
}

char *it_new_zk_url(void)
{
    char *url = NULL;

    /* Tests run in forked children: the pid keeps their paths apart. */
    ck_assert_int_gt(asprintf(&url, "zk://%s/it%d_%d/mesos", zkh_connect_string(suite_zk),
                              (int)getpid(), ++path_counter),
                     0);
    return url;
}

/* --- stand-ins ------------------------------------------------------------ */

struct it_master *it_master_start(const char *zk_url, const char *id, const char *const *extra)
{
    char *bin = harness_builddir_path("tests/standin/mesos-standin");
    const char *argv[40] = {bin, "--port", "0", "--id", id};
    struct it_master *m = calloc(1, sizeof(*m));
    char *line = NULL, *p;
    int argc = 5;

    if (zk_url) {
        argv[argc++] = "--zk";
        argv[argc++] = zk_url;
        argv[argc++] = "--zk-session-timeout";
        argv[argc++] = "2000";
    } else {
        argv[argc++] = "--no-register";
    }
    for (size_t i = 0; extra && extra[i] && argc < 39; i++)
        argv[argc++] = extra[i];
    m->proc = proc_start(argv, NULL, NULL);
    ck_assert_msg(m->proc, "cannot start the stand-in: %s", harness_error());
    ck_assert_msg(proc_wait_output(m->proc, PROC_STDOUT, "standin ready", IT_TIMEOUT_MS, &line) ==
                      0,
                  "stand-in %s not ready", id);
    p = strstr(line, "port=");
    m->port = atoi(p + 5);
    p = strstr(line, "znode=");
    m->znode = strdup(p + 6);
    snprintf(m->id, sizeof(m->id), "%s", id);
    snprintf(m->base, sizeof(m->base), "http://127.0.0.1:%d", m->port);
    snprintf(m->address, sizeof(m->address), "127.0.0.1:%d", m->port);
    free(line);
    free(bin);
    return m;
}

void it_master_stop(struct it_master *m)
{
    if (!m)
        return;
    proc_stop(m->proc);
    free(m->znode);
    free(m);
}

void it_master_kill(struct it_master *m)
{
    proc_signal(m->proc, SIGKILL);
    proc_wait_exit(m->proc, IT_TIMEOUT_MS, NULL);
}

static char *control_url(struct it_master *m, const char *what)
{
    char *url = NULL;

    ck_assert_int_gt(asprintf(&url, "%s/__standin/%s", m->base, what), 0);
    return url;
}

void it_master_faults(struct it_master *m, const char *json)
{
    char *url = control_url(m, "faults");
    long status = it_post_json(url, json, NULL);

    ck_assert_msg(status == 200, "faults %s refused (%ld)", json, status);
    free(url);
}

/* GET /__standin/@what, parsed. */
static json_object *control_get(struct it_master *m, const char *what)
{
    char *url = control_url(m, what);
    struct http_resp r = {0};
    json_object *obj;

    ck_assert_int_eq(http_get(url, &r), 0);
    obj = it_json_parse(r.body);
    http_resp_free(&r);
    free(url);
    return obj;
}

json_object *it_master_requests(struct it_master *m)
{
    return control_get(m, "requests");
}

int it_master_request_count(struct it_master *m)
{
    json_object *reqs = it_master_requests(m);
    int n = (int)json_object_array_length(reqs);

    json_object_put(reqs);
    return n;
}

int it_master_request_count_for(struct it_master *m, const char *target)
{
    json_object *reqs = it_master_requests(m);
    int n = 0;

    for (size_t i = 0; i < json_object_array_length(reqs); i++) {
        const char *t = it_json_string(json_object_array_get_idx(reqs, i), "target");

        n += t && strcmp(t, target) == 0;
    }
    json_object_put(reqs);
    return n;
}

bool it_master_has_requests(void *m)
{
    return it_master_request_count(m) > 0;
}

void it_master_clear_requests(struct it_master *m)
{
    char *url = control_url(m, "requests");

    ck_assert_int_eq(it_request("DELETE", url, NULL, NULL, NULL), 200);
    free(url);
}

json_object *it_master_status(struct it_master *m)
{
    return control_get(m, "status");
}

/* --- the daemon ----------------------------------------------------------- */

struct it_daemon *it_daemon_start(const char *zk_url, const char *const *extra)
{
    const char *args[48] = {"--zk", zk_url, "--zk-session-timeout", "2s", "--config", "/dev/null"};
    int argc = 6;

    for (size_t i = 0; extra && extra[i] && argc < 47; i++)
        args[argc++] = extra[i];
    return it_daemon_start_args(args);
}

int it_daemon_argv(const char **argv, int max)
{
    static char wrapper[512];
    static char *bin;
    const char *env = getenv("IT_DAEMON_WRAPPER");
    int argc = 0;

    if (!bin)
        bin = harness_builddir_path("src/cmd/mesos-leaderd");
    if (env && *env) {
        snprintf(wrapper, sizeof(wrapper), "%s", env);
        for (char *tok = strtok(wrapper, " "); tok && argc < max - 1; tok = strtok(NULL, " "))
            argv[argc++] = tok;
    }
    argv[argc++] = bin;
    return argc;
}

struct it_daemon *it_daemon_start_args(const char *const *args)
{
    struct it_daemon *d = calloc(1, sizeof(*d));
    char listen[64];
    const char *argv[64];
    int argc = it_daemon_argv(argv, 16);

    d->port = harness_free_port();
    ck_assert_int_gt(d->port, 0);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", d->port);
    argv[argc++] = "--listen";
    argv[argc++] = listen;
    argv[argc++] = "--log-level";
    argv[argc++] = "debug";
    for (size_t i = 0; args && args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    d->proc = proc_start(argv, NULL, NULL);
    ck_assert_msg(d->proc, "cannot start mesos-leaderd: %s", harness_error());
    ck_assert_msg(proc_wait_output(d->proc, PROC_STDERR, "listening on", IT_TIMEOUT_MS, NULL) == 0,
                  "mesos-leaderd did not start");
    snprintf(d->base, sizeof(d->base), "http://127.0.0.1:%d", d->port);
    return d;
}

static void daemon_log_tail(struct it_daemon *d, int lines);

void it_daemon_stop(struct it_daemon *d)
{
    int status;

    if (!d)
        return;
    proc_signal(d->proc, SIGTERM);
    ck_assert_int_eq(proc_wait_exit(d->proc, IT_TIMEOUT_MS, &status), 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        daemon_log_tail(d, 150); /* an ASan report, or why it gave up */
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "mesos-leaderd exited with wait status %d", status);
    proc_stop(d->proc);
    free(d);
}

const char *it_url(const struct it_daemon *d, const char *path)
{
    static __thread char buf[1024];

    snprintf(buf, sizeof(buf), "%s%s", d->base, path);
    return buf;
}

struct leader_wait {
    struct it_daemon *d;
    const char *field;
    const char *want;
};

static bool leader_field_is(void *arg)
{
    struct leader_wait *w = arg;
    struct http_resp r = {0};
    bool yes = false;

    if (http_get(it_url(w->d, "/leaderd/v1/leader"), &r) == 0 && r.status == 200) {
        json_object *obj = json_tokener_parse(r.body);
        const char *v = obj ? it_json_string(obj, w->field) : NULL;
        yes = v && strcmp(v, w->want) == 0;
        json_object_put(obj);
    }
    http_resp_free(&r);
    return yes;
}

void it_daemon_wait_leader(struct it_daemon *d, const struct it_master *m)
{
    struct leader_wait w = {d, "leader.address", m->address};

    ck_assert_msg(wait_until(leader_field_is, &w, IT_TIMEOUT_MS), "the daemon never routed to %s",
                  m->address);
}

/* Prints the last @lines lines the daemon logged, to tell why a wait failed. */
static void daemon_log_tail(struct it_daemon *d, int lines)
{
    char *out = proc_output(d->proc, PROC_STDERR);
    const char *p;

    if (!out)
        return;
    p = out + strlen(out);
    while (p > out && lines >= 0)
        if (*--p == '\n')
            lines--;
    fprintf(stderr, "--- the daemon's last log lines ---\n%s--- end ---\n", p);
    free(out);
}

void it_daemon_wait_field_ms(struct it_daemon *d, const char *path, const char *value,
                             int timeout_ms)
{
    struct leader_wait w = {d, path, value};

    if (!wait_until(leader_field_is, &w, timeout_ms)) {
        daemon_log_tail(d, 150); /* an ASan report is that long */
        ck_abort_msg("'%s' never '%s'", path, value);
    }
}

void it_daemon_wait_field(struct it_daemon *d, const char *path, const char *value)
{
    it_daemon_wait_field_ms(d, path, value, IT_TIMEOUT_MS);
}

void it_daemon_wait_state(struct it_daemon *d, const char *state)
{
    it_daemon_wait_field(d, "zookeeper.session", "connected");
    it_daemon_wait_field(d, "state", state);
}

long it_daemon_metric(struct it_daemon *d, const char *name)
{
    struct http_resp r = {0};
    size_t n = strlen(name);
    long value = -1;

    ck_assert_int_eq(http_get(it_url(d, "/leaderd/metrics"), &r), 0);
    for (char *line = r.body; line && *line;) {
        char *next = strchr(line, '\n');
        if (strncmp(line, name, n) == 0 && line[n] == ' ')
            value = atol(line + n + 1);
        line = next ? next + 1 : NULL;
    }
    http_resp_free(&r);
    ck_assert_msg(value >= 0, "no metric '%s'", name);
    return value;
}

struct metric_wait {
    struct it_daemon *d;
    const char *name;
    long value;
};

static bool metric_is(void *arg)
{
    struct metric_wait *w = arg;

    return it_daemon_metric(w->d, w->name) == w->value;
}

void it_daemon_wait_metric(struct it_daemon *d, const char *name, long value)
{
    struct metric_wait w = {d, name, value};

    if (!wait_until(metric_is, &w, IT_TIMEOUT_MS)) {
        daemon_log_tail(d, getenv("IT_LOG_LINES") ? atoi(getenv("IT_LOG_LINES")) : 60);
        ck_abort_msg("metric %s never %ld (now %ld)", name, value, it_daemon_metric(d, name));
    }
}

/* --- requests ------------------------------------------------------------- */

long it_request(const char *method, const char *url, const char *const *headers, const char *body,
                struct http_resp *ret)
{
    struct http_req req = {.method = method,
                           .url = url,
                           .headers = headers,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .no_follow = true};
    struct http_resp local = {0}, *r = ret ? ret : &local;
    long status;

    http_request(&req, r);
    status = r->status;
    if (!ret)
        http_resp_free(&local);
    return status;
}

long it_post_json(const char *url, const char *body, struct http_resp *ret)
{
    const char *headers[] = {"Content-Type: application/json", NULL};

    return it_request("POST", url, headers, body, ret);
}

struct http_stream *it_subscribe(const char *base, const char *name, const char *const *headers)
{
    static const char *const json_headers[] = {"Content-Type: application/json", NULL};
    char *url = NULL, *body = NULL;
    struct http_req req = {.method = "POST"};
    struct http_stream *s;

    ck_assert_int_gt(asprintf(&url, "%s/api/v1/scheduler", base), 0);
    ck_assert_int_gt(asprintf(&body,
                              "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
                              "{\"user\":\"test\",\"name\":\"%s\"}}}",
                              name),
                     0);
    req.url = url;
    req.headers = headers ? headers : json_headers;
    req.body = body;
    req.body_len = strlen(body);
    s = http_stream_open(&req);
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(http_stream_wait_headers(s, IT_TIMEOUT_MS) == 0, "no SUBSCRIBE answer at %s",
                  url);
    free(url);
    free(body);
    return s;
}

/* Sends @raw on the connected @fd and reads until the peer closes or 5 s
 * pass; returns the status of the first answer. */
static long raw_exchange(int fd, const char *raw, char **ret)
{
    struct timeval tv = {.tv_sec = 5};
    char *got = NULL, buf[4096];
    size_t len = 0;
    long status = 0;
    ssize_t n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(write(fd, raw, strlen(raw)), (ssize_t)strlen(raw));
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        got = realloc(got, len + (size_t)n + 1);
        memcpy(got + len, buf, (size_t)n);
        len += (size_t)n;
        got[len] = '\0';
    }
    close(fd);
    if (got && len > 12 && strncmp(got, "HTTP/1.", 7) == 0)
        status = strtol(got + 9, NULL, 10);
    if (ret)
        *ret = got ? got : strdup("");
    else
        free(got);
    return status;
}

long it_raw(const struct it_daemon *d, const char *raw, char **ret)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return raw_exchange(fd, raw, ret);
}

long it_raw_unix(const char *path, const char *raw, char **ret)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    return raw_exchange(fd, raw, ret);
}

/* --- JSON ----------------------------------------------------------------- */

json_object *it_json_parse(const char *text)
{
    json_object *obj = json_tokener_parse(text ? text : "");

    ck_assert_msg(obj, "not JSON: %.200s", text ? text : "(null)");
    return obj;
}

const char *it_json_string(json_object *obj, const char *path)
{
    char key[128];
    const char *p = path;

    while (obj && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(obj, key, &obj))
            return NULL;
        p = dot ? dot + 1 : p + n;
    }
    return obj && json_object_is_type(obj, json_type_string) ? json_object_get_string(obj) : NULL;
}

static json_object *request_headers(json_object *requests, int i)
{
    json_object *req = json_object_array_get_idx(requests, (size_t)i), *headers = NULL;

    ck_assert_msg(req, "no request %d", i);
    ck_assert(json_object_object_get_ex(req, "headers", &headers));
    return headers;
}

const char *it_request_header(json_object *requests, int i, const char *name)
{
    json_object *headers = request_headers(requests, i);

    for (size_t k = 0; k < json_object_array_length(headers); k++) {
        json_object *pair = json_object_array_get_idx(headers, k);
        if (strcasecmp(json_object_get_string(json_object_array_get_idx(pair, 0)), name) == 0)
            return json_object_get_string(json_object_array_get_idx(pair, 1));
    }
    return NULL;
}

int it_request_header_count(json_object *requests, int i, const char *name)
{
    json_object *headers = request_headers(requests, i);
    int n = 0;

    for (size_t k = 0; k < json_object_array_length(headers); k++) {
        json_object *pair = json_object_array_get_idx(headers, k);
        if (strcasecmp(json_object_get_string(json_object_array_get_idx(pair, 0)), name) == 0)
            n++;
    }
    return n;
}

/* --- scripted masters ----------------------------------------------------- */

struct script_thread {
    pthread_t thread;
    struct it_script_conn conn;
    struct script_thread *next;
};

struct it_script {
    it_script_fn serve;
    void *arg;
    int port;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int listen_fd;  /* -1 while closed */
    int closing_fd; /* shut down, to be closed by the accept thread */
    bool stopping;
    pthread_t acceptor;
    struct script_thread *threads;
    char (*log)[600]; /* "METHOD TARGET" of recorded calls */
    int n_log, log_cap;
};

static int script_listen(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "cannot bind port %d: %m",
                  port);
    ck_assert_int_eq(listen(fd, 4096), 0);
    return fd;
}

static void *script_conn_main(void *arg)
{
    struct script_thread *t = arg;
    struct it_script *s = t->conn.script;

    s->serve(&t->conn, s->arg);
    pthread_mutex_lock(&s->lock);
    close(t->conn.fd);
    t->conn.fd = -1;
    pthread_mutex_unlock(&s->lock);
    free(t->conn.in);
    t->conn.in = NULL;
    return NULL;
}

/* Under the lock: a thread for the new connection @fd. */
static void script_spawn(struct it_script *s, int fd)
{
    struct script_thread *t = calloc(1, sizeof(*t));

    t->conn.script = s;
    t->conn.fd = fd;
    pthread_attr_t attr;

    t->next = s->threads;
    s->threads = t;
    /* Small stacks: a scripted master may hold thousands of connections. */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    ck_assert_int_eq(pthread_create(&t->thread, &attr, script_conn_main, t), 0);
    pthread_attr_destroy(&attr);
}

static void *script_accept_main(void *arg)
{
    struct it_script *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stopping && s->listen_fd < 0)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->stopping)
            break;
        int fd = s->listen_fd;
        pthread_mutex_unlock(&s->lock);
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        int err = errno;
        pthread_mutex_lock(&s->lock);
        if (c >= 0) {
            script_spawn(s, c);
        } else if (err != EINTR && err != ECONNABORTED && fd == s->closing_fd) {
            close(fd); /* shut down by it_script_close_listener() or _stop() */
            s->closing_fd = -1;
            pthread_cond_broadcast(&s->cond);
        } else if (err != EINTR && err != ECONNABORTED) {
            fprintf(stderr, "scripted master: accept: %s\n", strerror(err));
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct it_script *it_script_start(it_script_fn serve, void *arg)
{
    struct it_script *s = calloc(1, sizeof(*s));
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    s->serve = serve;
    s->arg = arg;
    s->closing_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->listen_fd = script_listen(0);
    getsockname(s->listen_fd, (struct sockaddr *)&sa, &len);
    s->port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&s->acceptor, NULL, script_accept_main, s), 0);
    return s;
}

int it_script_port(const struct it_script *s)
{
    return s->port;
}

void it_script_close_listener(struct it_script *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->listen_fd >= 0) {
        s->closing_fd = s->listen_fd;
        s->listen_fd = -1;
        shutdown(s->closing_fd, SHUT_RDWR); /* wakes accept(): the thread closes it */
        while (s->closing_fd >= 0)
            pthread_cond_wait(&s->cond, &s->lock);
    }
    pthread_mutex_unlock(&s->lock);
}

void it_script_reopen_listener(struct it_script *s)
{
    pthread_mutex_lock(&s->lock);
    if (s->listen_fd < 0) {
        s->listen_fd = script_listen(s->port);
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
}

void it_script_stop(struct it_script *s)
{
    struct script_thread *t, *next;

    if (!s)
        return;
    it_script_close_listener(s);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    for (t = s->threads; t; t = t->next)
        if (t->conn.fd >= 0)
            shutdown(t->conn.fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->acceptor, NULL);
    for (t = s->threads; t; t = next) {
        next = t->next;
        pthread_join(t->thread, NULL);
        free(t);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->log);
    free(s);
}

/* Reads more bytes into @c->in; false at the connection's end. */
static bool script_fill(struct it_script_conn *c)
{
    ssize_t n;

    if (c->in_cap - c->in_len < 4096) {
        c->in_cap = c->in_cap ? 2 * c->in_cap : 16384;
        c->in = realloc(c->in, c->in_cap + 1);
    }
    do
        n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return false;
    c->in_len += (size_t)n;
    c->in[c->in_len] = '\0';
    return true;
}

static void script_consume(struct it_script_conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    c->in[c->in_len] = '\0';
}

int it_script_read_request(struct it_script_conn *c, struct it_script_request *ret)
{
    char *end, cl[32];
    size_t head_len, body_left;

    memset(ret, 0, sizeof(*ret));
    while (!c->in || !(end = strstr(c->in, "\r\n\r\n")))
        if (c->in_len > 65536 || !script_fill(c))
            return -1;
    head_len = (size_t)(end - c->in) + 4;
    ret->head = strndup(c->in, head_len);
    script_consume(c, head_len);
    sscanf(ret->head, "%63s %511s", ret->method, ret->target);
    body_left = it_script_header(ret, "Content-Length", cl, sizeof(cl)) ? strtoul(cl, NULL, 10) : 0;
    ret->body_len = body_left;
    while (body_left > 0) {
        size_t n;
        if (c->in_len == 0 && !script_fill(c)) {
            it_script_request_done(ret);
            return -1;
        }
        n = c->in_len < body_left ? c->in_len : body_left;
        script_consume(c, n);
        body_left -= n;
    }
    return 0;
}

void it_script_request_done(struct it_script_request *r)
{
    free(r->head);
    r->head = NULL;
}

const char *it_script_header(const struct it_script_request *r, const char *name, char *buf,
                             size_t size)
{
    size_t n = strlen(name);

    for (const char *line = strstr(r->head, "\r\n"); line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *p = line + 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *eol = strstr(v, "\r\n");
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(buf, size, "%.*s", (int)(eol - v), v);
            return buf;
        }
    }
    return NULL;
}

bool it_script_write(struct it_script_conn *c, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

void it_script_record(struct it_script *s, const struct it_script_request *r)
{
    pthread_mutex_lock(&s->lock);
    if (s->n_log == s->log_cap) {
        s->log_cap = s->log_cap ? 2 * s->log_cap : 64;
        s->log = realloc(s->log, (size_t)s->log_cap * sizeof(*s->log));
    }
    snprintf(s->log[s->n_log++], sizeof(*s->log), "%s %s", r->method, r->target);
    pthread_mutex_unlock(&s->lock);
}

int it_script_count(struct it_script *s, const char *method, const char *target)
{
    char want[600];
    int n = 0;

    snprintf(want, sizeof(want), "%s %s", method, target);
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n_log; i++)
        n += strcmp(s->log[i], want) == 0;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static int decimal_digits(size_t v)
{
    int d = 1;

    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/* Writes one RecordIO record of @size bytes in all (its length line
 * included) as one chunk: @json_start, padding, "\"}". */
static bool script_record_chunk(struct it_script_conn *c, const char *json_start, size_t size,
                                char *buf)
{
    size_t json_len = 0, n;

    for (int d = 1; d < 20; d++) {
        json_len = size - 1 - (size_t)d;
        if (decimal_digits(json_len) == d)
            break;
    }
    n = (size_t)sprintf(buf, "%zx\r\n%zu\n%s", size, json_len, json_start);
    memset(buf + n, 'x', json_len - strlen(json_start) - 2);
    n += json_len - strlen(json_start) - 2;
    memcpy(buf + n, "\"}\r\n", 4);
    return it_script_write(c, buf, n + 4);
}

bool it_script_stream(struct it_script_conn *c, size_t total, size_t record_bytes)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    char *buf = malloc(record_bytes + 64);
    size_t sent = 0;
    bool ok = it_script_write(c, head, sizeof(head) - 1);

    ck_assert(record_bytes >= 128 && total % record_bytes == 0);
    while (ok && sent < total) {
        ok = script_record_chunk(
            c, sent ? "{\"type\":\"HEARTBEAT\",\"pad\":\"" : "{\"type\":\"SUBSCRIBED\",\"pad\":\"",
            record_bytes, buf);
        sent += record_bytes;
    }
    free(buf);
    return ok && it_script_write(c, "0\r\n\r\n", 5);
}

static void serve_garbage(struct it_script_conn *c, void *arg)
{
    struct it_garbage *g = arg;
    char buf[4096];

    if (read(c->fd, buf, sizeof(buf)) > 0 &&
        __atomic_sub_fetch(&g->drops, 1, __ATOMIC_SEQ_CST) < 0 &&
        write(c->fd, g->reply, strlen(g->reply)) < 0) {
        /* the daemon went away */
    }
}

void it_garbage_start(struct it_garbage *g, const char *reply, int drops)
{
    g->reply = reply;
    g->drops = drops;
    g->script = it_script_start(serve_garbage, g);
    g->port = it_script_port(g->script);
}

void it_garbage_stop(struct it_garbage *g)
{
    it_script_stop(g->script);
    g->script = NULL;
}

char *it_register_master(struct zkh_client *c, const char *zk_url, const char *host, int port,
                         const char *id)
{
    const char *parent = strchr(zk_url + strlen("zk://"), '/');
    bool by_ip = strspn(host, "0123456789.") == strlen(host);
    char path[256], address[256], data[1024], *created = NULL;

    snprintf(path, sizeof(path), "%s/json.info_", parent);
    if (by_ip)
        snprintf(address, sizeof(address), "{\"hostname\":\"%s\",\"ip\":\"%s\",\"port\":%d}", host,
                 host, port);
    else
        snprintf(address, sizeof(address), "{\"hostname\":\"%s\",\"port\":%d}", host, port);
    snprintf(data, sizeof(data),
             "{\"address\":%s,\"hostname\":\"%s\",\"id\":\"%s\",\"ip\":16777343,\"pid\":"
             "\"master@127.0.0.1:%d\",\"port\":%d,\"version\":\"1.11.0\"}",
             address, host, id, port, port);
    ck_assert_int_eq(zkh_client_create(c, path, data, strlen(data),
                                       ZKH_EPHEMERAL | ZKH_SEQUENTIAL | ZKH_PARENTS, &created),
                     0);
    return created;
}

void it_scripted_start(struct it_scripted *s, it_script_fn serve, void *arg, const char *host,
                       const char *const *daemon_args)
{
    s->zk_url = it_new_zk_url();
    s->zk = zkh_client_open(zkh_connect_string(it_zk()), NULL);
    ck_assert_ptr_nonnull(s->zk);
    s->m = it_script_start(serve, arg);
    s->node = it_register_master(s->zk, s->zk_url, host, it_script_port(s->m), "scripted");
    s->d = it_daemon_start(s->zk_url, daemon_args);
    it_daemon_wait_address(s->d, host, it_script_port(s->m));
}

void it_scripted_stop(struct it_scripted *s)
{
    if (s->d)
        it_daemon_stop(s->d);
    it_script_stop(s->m);
    zkh_client_delete(s->zk, s->node, false);
    zkh_client_close(s->zk);
    free(s->node);
    free(s->zk_url);
}

void it_daemon_wait_address(struct it_daemon *d, const char *host, int port)
{
    char address[300];

    snprintf(address, sizeof(address), "%s:%d", host, port);
    it_daemon_wait_field(d, "leader.address", address);
}

/* --- the daemon's resources ---------------------------------------------- */

struct it_daemon *it_daemon_start_prefixed(const char *const *prefix, const char *zk_url,
                                           const char *const *extra)
{
    static char words[512];
    const char *env = getenv("IT_DAEMON_WRAPPER");
    char *saved = env ? strdup(env) : NULL;
    struct it_daemon *d;
    size_t n = 0;

    /* The prefix goes before any wrapper of the environment. */
    for (size_t i = 0; prefix[i]; i++)
        n += (size_t)snprintf(words + n, sizeof(words) - n, "%s ", prefix[i]);
    snprintf(words + n, sizeof(words) - n, "%s", saved ? saved : "");
    setenv("IT_DAEMON_WRAPPER", words, 1);
    d = it_daemon_start(zk_url, extra);
    if (saved)
        setenv("IT_DAEMON_WRAPPER", saved, 1);
    else
        unsetenv("IT_DAEMON_WRAPPER");
    free(saved);
    return d;
}

pid_t it_daemon_pid(const struct it_daemon *d)
{
    return proc_pid(d->proc);
}

int it_daemon_fds(const struct it_daemon *d)
{
    return proc_fd_count(proc_pid(d->proc));
}

long it_daemon_rss_kb(const struct it_daemon *d)
{
    return proc_rss_kb(proc_pid(d->proc));
}

long it_cpu_ms(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long utime = 0, stime = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    ck_assert_msg(f, "cannot open %s", path);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15, counted after the command name's closing parenthesis. */
    p = strrchr(buf, ')');
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime), 2);
    return (long)((utime + stime) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

struct fd_wait {
    struct it_daemon *d;
    int n;
};

static bool fds_at_most(void *arg)
{
    struct fd_wait *w = arg;

    return it_daemon_fds(w->d) <= w->n;
}

bool it_daemon_wait_fds_at_most(struct it_daemon *d, int n, int timeout_ms)
{
    struct fd_wait w = {d, n};

    return wait_until(fds_at_most, &w, timeout_ms);
}

int it_daemon_log_lines(struct it_daemon *d, const char *needle)
{
    char *log = proc_output(d->proc, PROC_STDERR);
    int n = 0;

    for (char *p = log; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(log);
    return n;
}

/* --- raw connections ------------------------------------------------------ */

int it_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "cannot connect to %d: %m",
                  port);
    return fd;
}

int it_connect_small(int port, int rcvbuf, int mss)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    if (rcvbuf > 0)
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    if (mss > 0)
        ck_assert_int_eq(setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "cannot connect to %d: %m",
                  port);
    return fd;
}

const char *it_answer_body(const char *answer)
{
    const char *p = answer ? strstr(answer, "\r\n\r\n") : NULL;

    return p ? p + 4 : "";
}

/* Whether @got (@len bytes) holds a whole answer: head and Content-Length. */
static bool answer_complete(const char *got, size_t len)
{
    const char *end = got ? strstr(got, "\r\n\r\n") : NULL, *cl;

    if (!end)
        return false;
    cl = strcasestr(got, "\r\nContent-Length:");
    if (!cl || cl > end)
        return false; /* to the connection's end */
    return len >= (size_t)(end + 4 - got) + strtoul(cl + 17, NULL, 10);
}

/* Polls @fd for input until @deadline_ms (monotonic); false when it passed. */
static bool poll_until(int fd, double deadline_ms)
{
    struct timespec ts;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    double now;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    return now < deadline_ms && poll(&pfd, 1, (int)(deadline_ms - now) + 1) == 1;
}

long it_read_answer(int fd, int timeout_ms, char **ret, bool *ret_closed)
{
    struct timespec ts;
    char *got = calloc(1, 1), buf[16384];
    size_t len = 0;
    bool closed = false;
    long status = 0;
    double deadline;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    deadline = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 + timeout_ms;
    while (!answer_complete(got, len) && poll_until(fd, deadline)) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            closed = true;
            break;
        }
        got = realloc(got, len + (size_t)n + 1);
        memcpy(got + len, buf, (size_t)n);
        len += (size_t)n;
        got[len] = '\0';
    }
    /* Past the answer, only the connection's end may come. */
    if (ret_closed && !closed && answer_complete(got, len) && poll_until(fd, deadline))
        closed = read(fd, buf, sizeof(buf)) <= 0;
    if (len > 12 && strncmp(got, "HTTP/1.", 7) == 0)
        status = strtol(got + 9, NULL, 10);
    if (ret_closed)
        *ret_closed = closed;
    if (ret)
        *ret = got;
    else
        free(got);
    return status;
}
