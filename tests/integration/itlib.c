/* itlib.c: ZooKeeper, stand-ins and the daemon for integration tests. */
#include "config.h"

#include "integration/itlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
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

void it_daemon_stop(struct it_daemon *d)
{
    int status;

    if (!d)
        return;
    proc_signal(d->proc, SIGTERM);
    ck_assert_int_eq(proc_wait_exit(d->proc, IT_TIMEOUT_MS, &status), 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "mesos-leaderd exited with status %d", status);
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

    ck_assert_msg(wait_until(metric_is, &w, IT_TIMEOUT_MS), "metric %s never %ld (now %ld)", name,
                  value, it_daemon_metric(d, name));
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
