/* it_proxy.c: integration tests of forwarding through mesos-leaderd: a real
 * ZooKeeper, stand-in masters and the daemon, checked from the client's
 * side and from what reached the masters. */
#include "config.h"

#include "integration/itlib.h"
#include "integration/itload.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/* A leader, a standby and the daemon, on a fresh election path. */
struct pair {
    char *zk_url;
    struct it_master *leader, *standby;
    struct it_daemon *d;
};

static struct pair pair_start(const char *const *daemon_args, const char *const *leader_args)
{
    struct pair p = {.zk_url = it_new_zk_url()};

    p.leader = it_master_start(p.zk_url, "m-leader", leader_args);
    p.standby = it_master_start(p.zk_url, "m-standby", NULL);
    p.d = it_daemon_start(p.zk_url, daemon_args);
    it_daemon_wait_leader(p.d, p.leader);
    return p;
}

static void pair_stop(struct pair *p)
{
    it_daemon_stop(p->d);
    it_master_stop(p->leader);
    it_master_stop(p->standby);
    free(p->zk_url);
}

/* Every path form (/state, /master/state, ...) reaches the leader only,
 * never the standby, and answers as the leader does directly. */
START_TEST(paths_reach_only_the_leader)
{
    struct pair p = pair_start(NULL, NULL);
    const char *paths[] = {
        "/state",   "/master/state", "/flags",         "/master/flags",  "/metrics/snapshot",
        "/version", "/health",       "/master/health", "/state-summary", "/master/frameworks"};
    const size_t n = sizeof(paths) / sizeof(paths[0]);

    it_master_clear_requests(p.standby);
    for (size_t i = 0; i < n; i++) {
        struct http_resp via = {0}, direct = {0};
        char url[128];
        long s1 = it_request("GET", it_url(p.d, paths[i]), NULL, NULL, &via);
        snprintf(url, sizeof(url), "%s%s", p.leader->base, paths[i]);
        long s2 = it_request("GET", url, NULL, NULL, &direct);
        ck_assert_msg(s1 == s2, "%s: %ld through the proxy, %ld direct", paths[i], s1, s2);
        ck_assert_msg(via.body_len == direct.body_len &&
                          memcmp(via.body, direct.body, via.body_len) == 0,
                      "%s: body differs", paths[i]);
        http_resp_free(&via);
        http_resp_free(&direct);
    }
    ck_assert_int_eq(it_master_request_count(p.leader), 2 * (int)n);
    ck_assert_int_eq(it_master_request_count(p.standby), 0);
    pair_stop(&p);
}
END_TEST

/* Method, target, end-to-end headers and body reach the master byte for
 * byte; hop-by-hop headers do not; X-Forwarded-For is added; nothing is
 * added that the client did not send. */
START_TEST(request_passes_byte_for_byte)
{
    struct pair p = pair_start(NULL, NULL);
    const char *headers[] = {"Content-Type: application/json",
                             "Accept: application/json;q=0.9, */*;q=0.1",
                             "Authorization: Bearer abc.def.ghi",
                             "Mesos-Stream-Id: 0b7b8c0e-aaaa-bbbb-cccc-000000000001",
                             "Message-Accept: application/json",
                             "X-Custom: one",
                             "X-Custom: two",
                             "x-lower-case: Mixed Case Value",
                             "Connection: keep-alive, X-Hop",
                             "X-Hop: must-not-pass",
                             "Keep-Alive: timeout=5",
                             "Proxy-Authorization: Basic c2VjcmV0",
                             "TE: trailers",
                             "X-Forwarded-For: 10.9.8.7",
                             NULL};
    const char *body = "{\"type\":\"DECLINE\",\"framework_id\":{\"value\":\"f\"},"
                       "\"decline\":{\"offer_ids\":[]},\"note\":\"\\u00e9 binary-ish \\n\"}";
    json_object *reqs, *req, *v;
    char *b64 = harness_base64(body, strlen(body));

    it_master_clear_requests(p.leader);
    it_request("POST", it_url(p.d, "/master/api/v1/scheduler?a=1&b=%20x&a=2"), headers, body, NULL);
    reqs = it_master_requests(p.leader);
    ck_assert_int_eq(json_object_array_length(reqs), 1);
    req = json_object_array_get_idx(reqs, 0);
    ck_assert_str_eq(it_json_string(req, "method"), "POST");
    ck_assert_str_eq(it_json_string(req, "target"), "/master/api/v1/scheduler?a=1&b=%20x&a=2");
    ck_assert_str_eq(it_json_string(req, "body"), b64);
    ck_assert(json_object_object_get_ex(req, "body_len", &v));
    ck_assert_int_eq(json_object_get_int(v), (int)strlen(body));
    ck_assert_str_eq(it_request_header(reqs, 0, "Content-Type"), "application/json");
    ck_assert_str_eq(it_request_header(reqs, 0, "Accept"), "application/json;q=0.9, */*;q=0.1");
    ck_assert_str_eq(it_request_header(reqs, 0, "Authorization"), "Bearer abc.def.ghi");
    ck_assert_str_eq(it_request_header(reqs, 0, "Mesos-Stream-Id"),
                     "0b7b8c0e-aaaa-bbbb-cccc-000000000001");
    ck_assert_str_eq(it_request_header(reqs, 0, "Message-Accept"), "application/json");
    ck_assert_int_eq(it_request_header_count(reqs, 0, "X-Custom"), 2);
    ck_assert_str_eq(it_request_header(reqs, 0, "x-lower-case"), "Mixed Case Value");
    ck_assert_str_eq(it_request_header(reqs, 0, "X-Forwarded-For"), "10.9.8.7, 127.0.0.1");
    ck_assert_ptr_null(it_request_header(reqs, 0, "X-Hop"));
    ck_assert_ptr_null(it_request_header(reqs, 0, "Keep-Alive"));
    ck_assert_ptr_null(it_request_header(reqs, 0, "Proxy-Authorization"));
    ck_assert_ptr_null(it_request_header(reqs, 0, "TE"));
    ck_assert_ptr_null(it_request_header(reqs, 0, "Expect"));
    ck_assert_int_eq(it_request_header_count(reqs, 0, "Host"), 1);
    json_object_put(reqs);

    /* Nothing the client did not send: no Accept, no Content-Type. */
    it_master_clear_requests(p.leader);
    it_request("GET", it_url(p.d, "/master/state"), (const char *[]){"Accept:", NULL}, NULL, NULL);
    reqs = it_master_requests(p.leader);
    ck_assert_ptr_null(it_request_header(reqs, 0, "Accept"));
    ck_assert_ptr_null(it_request_header(reqs, 0, "Content-Type"));
    ck_assert_str_eq(it_request_header(reqs, 0, "X-Forwarded-For"), "127.0.0.1");
    json_object_put(reqs);
    free(b64);
    pair_stop(&p);
}
END_TEST

/* Sends the same request to the leader directly and through the proxy and
 * asserts the same status, body and listed headers. */
static void same_answer(struct pair *p, const char *method, const char *path,
                        const char *const *headers, const char *body, long want_status,
                        const char *const *same_headers)
{
    struct http_resp via = {0}, direct = {0};
    char url[256];

    snprintf(url, sizeof(url), "%s%s", p->leader->base, path);
    ck_assert_int_eq(it_request(method, url, headers, body, &direct), want_status);
    ck_assert_int_eq(it_request(method, it_url(p->d, path), headers, body, &via), want_status);
    ck_assert_msg(
        via.body_len == direct.body_len && memcmp(via.body, direct.body, via.body_len) == 0,
        "%s %s: bodies differ: '%.100s' vs '%.100s'", method, path, via.body, direct.body);
    for (size_t i = 0; same_headers && same_headers[i]; i++) {
        const char *a = http_resp_header(&via, same_headers[i]);
        const char *b = http_resp_header(&direct, same_headers[i]);
        ck_assert_msg(a && b && strcmp(a, b) == 0, "%s %s: header %s: '%s' vs '%s'", method, path,
                      same_headers[i], a ? a : "(none)", b ? b : "(none)");
    }
    http_resp_free(&via);
    http_resp_free(&direct);
}

/* Every answer of the master, its refusals included (415, 400, 405, 406,
 * 404) and a gzip-encoded body, reaches the client as it is: the same
 * status, body and headers as from the leader directly. */
START_TEST(answers_relayed_verbatim)
{
    struct pair p = pair_start(NULL, NULL);
    const char *ct[] = {"Content-Type", NULL};
    const char *charset[] = {"Content-Type: application/json; charset=utf-8", NULL};
    const char *json[] = {"Content-Type: application/json", NULL};
    const char *with_id[] = {"Content-Type: application/json", "Mesos-Stream-Id: x", NULL};
    const char *recordio[] = {"Content-Type: application/json", "Accept: application/recordio",
                              NULL};
    const char *gzip[] = {"Content-Type: application/json", "Accept-Encoding: gzip", NULL};
    const char *gz_headers[] = {"Content-Type", "Content-Encoding", NULL};
    const char *allow[] = {"Allow", NULL};
    const char *call = "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"nope\"}}";
    const char *sub = "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
                      "{\"user\":\"u\",\"name\":\"n\"}}}";

    same_answer(&p, "POST", "/api/v1/scheduler", charset, call, 415, NULL);
    same_answer(&p, "POST", "/api/v1/scheduler", (const char *[]){"Content-Type:", NULL}, call, 400,
                ct);
    same_answer(&p, "POST", "/api/v1/scheduler", json, call, 400, ct);
    same_answer(&p, "POST", "/api/v1/scheduler", with_id, sub, 400, ct);
    same_answer(&p, "GET", "/api/v1/scheduler", NULL, NULL, 405, allow);
    same_answer(&p, "POST", "/api/v1", recordio, "{\"type\":\"SUBSCRIBE\"}", 406, ct);
    same_answer(&p, "POST", "/api/v1", gzip, "{\"type\":\"GET_STATE\"}", 200, gz_headers);
    same_answer(&p, "POST", "/api/v1", json, "{\"type\":\"GET_VERSION\"}", 200, ct);
    same_answer(&p, "GET", "/no/such/endpoint", NULL, NULL, 404, NULL);
    pair_stop(&p);
}
END_TEST

/* A master that requires authentication: its 401 and realm are relayed,
 * and the client's credentials pass unchanged. */
START_TEST(authentication_relayed)
{
    const char *auth[] = {"--require-auth", "alice:s3cret", NULL};
    struct pair p = pair_start(NULL, auth);
    const char *realm[] = {"WWW-Authenticate", NULL};
    const char *good[] = {"Content-Type: application/json", "Authorization: Basic YWxpY2U6czNjcmV0",
                          NULL};
    json_object *reqs;

    same_answer(&p, "POST", "/api/v1/scheduler", NULL, "{}", 401, realm);
    it_master_clear_requests(p.leader);
    ck_assert_int_eq(
        it_request("POST", it_url(p.d, "/api/v1"), good, "{\"type\":\"GET_HEALTH\"}", NULL), 200);
    reqs = it_master_requests(p.leader);
    ck_assert_str_eq(it_request_header(reqs, 0, "Authorization"), "Basic YWxpY2U6czNjcmV0");
    json_object_put(reqs);
    pair_stop(&p);
}
END_TEST

/* The stream id flow, end to end: the Mesos-Stream-Id of a SUBSCRIBE is
 * relayed, and a call carrying it is accepted; without it, or with a wrong
 * one, the master's 400 is relayed. */
START_TEST(stream_id_flow)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *s = it_subscribe(p.d->base, "flow", NULL);
    const char *id = http_stream_header(s, "Mesos-Stream-Id");
    const char *fid_call = "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"m-leader-0000\"}}";
    char header[200];

    ck_assert_int_eq(http_stream_status(s), 200);
    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(http_stream_wait_contains(s, "\"value\":\"m-leader-0000\"", IT_TIMEOUT_MS), 0);
    snprintf(header, sizeof(header), "Mesos-Stream-Id: %s", id);
    ck_assert_int_eq(it_request("POST", it_url(p.d, "/api/v1/scheduler"),
                                (const char *[]){"Content-Type: application/json", header, NULL},
                                fid_call, NULL),
                     202);
    ck_assert_int_eq(it_post_json(it_url(p.d, "/api/v1/scheduler"), fid_call, NULL), 400);
    ck_assert_int_eq(it_request("POST", it_url(p.d, "/api/v1/scheduler"),
                                (const char *[]){"Content-Type: application/json",
                                                 "Mesos-Stream-Id: wrong", NULL},
                                fid_call, NULL),
                     400);
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

/* No master registered: 503 at once, with a JSON reason, and no retry. */
START_TEST(no_leader_answers_503_at_once)
{
    char *zk_url = it_new_zk_url();
    struct it_daemon *d = it_daemon_start(zk_url, NULL);
    struct http_resp r = {0};
    json_object *body;

    it_daemon_wait_state(d, "none");
    ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, &r), 503);
    ck_assert_str_eq(http_resp_header(&r, "Retry-After"), "1");
    ck_assert_str_eq(http_resp_header(&r, "Content-Type"), "application/json");
    body = it_json_parse(r.body);
    ck_assert_str_eq(it_json_string(body, "error"), "no_leader");
    ck_assert_ptr_nonnull(strstr(it_json_string(body, "message"), "does not exist"));
    ck_assert_int_eq(it_daemon_metric(d, "mesos_leaderd_no_leader_answers_total"), 1);
    ck_assert_int_eq(it_daemon_metric(d, "mesos_leaderd_retries_total{reason=\"refused\"}"), 0);
    json_object_put(body);
    http_resp_free(&r);
    it_daemon_stop(d);
    free(zk_url);
}
END_TEST

/* The leader ZooKeeper names redirects elsewhere: retried in the budget,
 * the 307 never reaches the client, 503 when it runs out. */
START_TEST(redirect_retried_then_503)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_resp r = {0};
    json_object *body;

    it_master_faults(p.leader, "{\"redirect_to\":\"127.0.0.1:1\"}");
    it_master_clear_requests(p.leader);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/master/state"), NULL, NULL, &r), 503);
    ck_assert_ptr_null(http_resp_header(&r, "Location"));
    ck_assert_ptr_nonnull(http_resp_header(&r, "Retry-After"));
    body = it_json_parse(r.body);
    ck_assert_str_eq(it_json_string(body, "error"), "leader_unavailable");
    ck_assert_ptr_nonnull(strstr(it_json_string(body, "message"), "redirected"));
    ck_assert_int_eq(it_master_request_count(p.leader), 3); /* --retry-tries default */
    ck_assert_int_eq(it_master_request_count(p.standby), 0);
    ck_assert_int_eq(it_daemon_metric(p.d, "mesos_leaderd_retries_total{reason=\"redirect\"}"), 2);
    json_object_put(body);
    http_resp_free(&r);
    pair_stop(&p);
}
END_TEST

/* The master catches up within the budget: the retry succeeds. */
START_TEST(redirect_then_leader_catches_up)
{
    const char *slow[] = {"--retry-budget", "10s", NULL};
    struct pair p = pair_start(slow, NULL);
    struct http_stream *s;
    struct http_req req = {.url = it_url(p.d, "/master/state")};

    it_master_faults(p.leader, "{\"redirect_to\":\"127.0.0.1:1\"}");
    it_master_clear_requests(p.leader);
    s = http_stream_open(&req);
    ck_assert(wait_until(it_master_has_requests, p.leader, IT_TIMEOUT_MS));
    it_master_faults(p.leader, "{\"redirect_to\":\"\"}");
    ck_assert_int_eq(http_stream_wait_headers(s, IT_TIMEOUT_MS), 0);
    ck_assert_int_eq(http_stream_status(s), 200);
    ck_assert_int_ge(it_master_request_count(p.leader), 2);
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

/* A master redirecting to itself is a loop: one try, 503. */
START_TEST(redirect_loop_detected)
{
    struct pair p = pair_start(NULL, NULL);
    char fault[128];
    struct http_resp r = {0};
    json_object *body;

    snprintf(fault, sizeof(fault), "{\"redirect_to\":\"%s\"}", p.leader->address);
    it_master_faults(p.leader, fault);
    it_master_clear_requests(p.leader);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/master/state"), NULL, NULL, &r), 503);
    body = it_json_parse(r.body);
    ck_assert_ptr_nonnull(strstr(it_json_string(body, "message"), "redirect loop"));
    ck_assert_int_eq(it_master_request_count(p.leader), 1);
    json_object_put(body);
    http_resp_free(&r);
    pair_stop(&p);
}
END_TEST

/* A loop across masters: A says B leads, then ZooKeeper moves to B, and B
 * says A leads. */
START_TEST(redirect_loop_across_masters)
{
    const char *slow[] = {"--retry-budget", "20s", "--retry-tries", "5", NULL};
    struct pair p = pair_start(slow, NULL);
    char fault[128];
    struct http_stream *s;
    struct http_req req = {.url = it_url(p.d, "/master/state")};
    json_object *body;
    char *text;

    snprintf(fault, sizeof(fault), "{\"redirect_to\":\"%s\"}", p.standby->address);
    it_master_faults(p.leader, fault);
    snprintf(fault, sizeof(fault), "{\"redirect_to\":\"%s\"}", p.leader->address);
    it_master_faults(p.standby, fault);
    it_master_clear_requests(p.leader);
    s = http_stream_open(&req);
    ck_assert(wait_until(it_master_has_requests, p.leader, IT_TIMEOUT_MS));
    it_master_stop(p.leader); /* its znode goes: ZooKeeper now names the standby */
    p.leader = NULL;
    ck_assert_int_eq(http_stream_wait_end(s, IT_TIMEOUT_MS, NULL), 0);
    ck_assert_int_eq(http_stream_status(s), 503);
    text = http_stream_body(s, NULL);
    body = it_json_parse(text);
    ck_assert_ptr_nonnull(strstr(it_json_string(body, "message"), "redirect loop"));
    json_object_put(body);
    free(text);
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

/* A master's "503 No leader elected" is retried and never relayed; its
 * "503 Master has not finished recovery" is retried, then relayed. */
START_TEST(master_503s)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_resp r = {0};
    const char *json[] = {"Content-Type: application/json", NULL};

    it_master_faults(p.leader, "{\"no_leader\":true}");
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/master/state"), NULL, NULL, &r), 503);
    ck_assert_ptr_null(strstr(r.body, "No leader elected"));
    ck_assert_ptr_nonnull(strstr(r.body, "no leader is elected"));
    http_resp_free(&r);
    it_master_faults(p.leader, "{\"no_leader\":false,\"recovery_ms\":60000}");
    ck_assert_int_eq(
        it_request("POST", it_url(p.d, "/api/v1"), json, "{\"type\":\"GET_HEALTH\"}", &r), 503);
    ck_assert_str_eq(r.body, "Master has not finished recovery");
    ck_assert_int_eq(it_daemon_metric(p.d, "mesos_leaderd_retries_total{reason=\"recovering\"}"),
                     2);
    http_resp_free(&r);
    /* Recovery ending within the budget: the call succeeds. */
    it_master_faults(p.leader, "{\"recovery_ms\":400}");
    ck_assert_int_eq(
        it_request("POST", it_url(p.d, "/api/v1"), json, "{\"type\":\"GET_HEALTH\"}", NULL), 200);
    pair_stop(&p);
}
END_TEST

/* A refused connection (nothing sent) is retried, then 503 with the reason. */
START_TEST(refused_connection_retried)
{
    char *zk_url = it_new_zk_url();
    const char *path = strchr(zk_url + 5, '/');
    struct zkh_client *c = zkh_client_open(zkh_connect_string(it_zk()), NULL);
    int dead = harness_free_port();
    char node[256], data[512];
    struct it_daemon *d;
    struct http_resp r = {0};

    snprintf(node, sizeof(node), "%s/json.info_", path);
    snprintf(data, sizeof(data),
             "{\"address\":{\"hostname\":\"127.0.0.1\",\"ip\":\"127.0.0.1\",\"port\":%d},"
             "\"hostname\":\"127.0.0.1\",\"id\":\"dead\",\"ip\":16777343,\"pid\":"
             "\"master@127.0.0.1:%d\",\"port\":%d,\"version\":\"1.11.0\"}",
             dead, dead, dead);
    ck_assert_int_eq(zkh_client_create_path(c, path), 0);
    ck_assert_int_eq(
        zkh_client_create(c, node, data, strlen(data), ZKH_EPHEMERAL | ZKH_SEQUENTIAL, NULL), 0);
    d = it_daemon_start(zk_url, NULL);
    it_daemon_wait_state(d, "known");
    ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, &r), 503);
    ck_assert_ptr_nonnull(strstr(r.body, "refused"));
    ck_assert_int_eq(it_daemon_metric(d, "mesos_leaderd_retries_total{reason=\"refused\"}"), 2);
    http_resp_free(&r);
    it_daemon_stop(d);
    zkh_client_close(c);
    free(zk_url);
}
END_TEST

/* /redirect and /master/redirect are answered locally (307 to the
 * daemon's own address); /redirect/... is 404; none reaches a master. */
START_TEST(redirect_endpoints_local)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_resp r = {0};
    char want[64];

    snprintf(want, sizeof(want), "//127.0.0.1:%d", p.d->port);
    it_master_clear_requests(p.leader);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/redirect"), NULL, NULL, &r), 307);
    ck_assert_str_eq(http_resp_header(&r, "Location"), want);
    http_resp_free(&r);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/master/redirect"), NULL, NULL, &r), 307);
    ck_assert_str_eq(http_resp_header(&r, "Location"), want);
    http_resp_free(&r);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/redirect/x"), NULL, NULL, NULL), 404);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/master/redirect/y"), NULL, NULL, NULL), 404);
    ck_assert_int_eq(it_master_request_count(p.leader), 0);
    pair_stop(&p);
}
END_TEST

/* The daemon's own endpoints: /leaderd/v1/leader, /leaderd/health (which
 * follows the leader), /leaderd/metrics; others under /leaderd/ are 404. */
START_TEST(own_endpoints)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_resp r = {0};
    json_object *obj;

    ck_assert_int_eq(it_request("GET", it_url(p.d, "/leaderd/v1/leader"), NULL, NULL, &r), 200);
    obj = it_json_parse(r.body);
    ck_assert_str_eq(it_json_string(obj, "leader.id"), "m-leader");
    ck_assert_str_eq(it_json_string(obj, "leader.address"), p.leader->address);
    ck_assert_str_eq(it_json_string(obj, "leader.version"), "1.11.0");
    ck_assert_str_eq(it_json_string(obj, "zookeeper.session"), "connected");
    ck_assert_ptr_nonnull(it_json_string(obj, "since"));
    ck_assert_int_eq(json_object_get_int(json_object_object_get(obj, "leader_changes")), 1);
    json_object_put(obj);
    http_resp_free(&r);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/leaderd/health"), NULL, NULL, NULL), 200);
    ck_assert_int_eq(it_request("POST", it_url(p.d, "/leaderd/health"), NULL, "x", &r), 405);
    ck_assert_str_eq(http_resp_header(&r, "Allow"), "GET, HEAD");
    http_resp_free(&r);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/leaderd/nope"), NULL, NULL, NULL), 404);
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/leaderd/metrics"), NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "mesos_leaderd_requests_total{class=\"2xx\"}"));
    ck_assert_ptr_nonnull(
        strstr(r.body, "mesos_leaderd_zookeeper_session_state{state=\"connected\"} 1"));
    ck_assert_ptr_nonnull(strstr(r.body, "mesos_leaderd_leader_known 1"));
    http_resp_free(&r);
    /* Health follows the leader. */
    it_master_stop(p.leader);
    it_master_stop(p.standby);
    p.leader = p.standby = NULL;
    it_daemon_wait_state(p.d, "none");
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/leaderd/health"), NULL, NULL, &r), 503);
    ck_assert_ptr_nonnull(strstr(r.body, "no master is registered"));
    http_resp_free(&r);
    pair_stop(&p);
}
END_TEST

/* A body over 1 MiB with Expect: 100-continue passes with no Expect
 * header upstream (the cause of a 1 s stall). */
START_TEST(large_body_no_expect)
{
    struct pair p = pair_start(NULL, NULL);
    size_t big = 1536 * 1024;
    char *body = malloc(big + 1);
    const char *expect[] = {"Content-Type: application/json", "Expect: 100-continue", NULL};
    json_object *reqs, *len;

    memset(body, 'a', big);
    body[big] = '\0';
    it_master_clear_requests(p.leader);
    it_request("POST", it_url(p.d, "/api/v1/scheduler"), expect, body, NULL);
    reqs = it_master_requests(p.leader);
    ck_assert_int_eq(json_object_array_length(reqs), 1);
    ck_assert_ptr_null(it_request_header(reqs, 0, "Expect"));
    ck_assert(json_object_object_get_ex(json_object_array_get_idx(reqs, 0), "body_len", &len));
    ck_assert_int_eq(json_object_get_int(len), (int)big);
    json_object_put(reqs);
    free(body);
    pair_stop(&p);
}
END_TEST

/* Limits: a body over --max-body is 413 (chunked too), headers too large
 * for a connection 431; Expect is never sent upstream. */
START_TEST(limits)
{
    const char *small[] = {"--max-body", "64k", NULL};
    struct pair p = pair_start(small, NULL);
    size_t big = 80 * 1024;
    char *body = malloc(big + 1);
    char *header = malloc(40000);
    const char *expect[] = {"Content-Type: application/json", "Expect: 100-continue", NULL};
    struct http_req chunked = {.method = "POST",
                               .url = it_url(p.d, "/api/v1/scheduler"),
                               .headers = (const char *[]){"Content-Type: application/json",
                                                           "Transfer-Encoding: chunked", NULL}};
    struct http_resp r = {0};
    json_object *reqs;

    memset(body, 'x', big);
    body[big] = '\0';
    ck_assert_int_eq(it_request("POST", it_url(p.d, "/api/v1/scheduler"), NULL, body, NULL), 413);
    chunked.body = body;
    chunked.body_len = big;
    http_request(&chunked, &r);
    ck_assert_int_eq(r.status, 413);
    http_resp_free(&r);
    /* A body under the cap with Expect: 100-continue passes, without Expect. */
    it_master_clear_requests(p.leader);
    body[60 * 1024] = '\0';
    it_request("POST", it_url(p.d, "/api/v1/scheduler"), expect, body, NULL);
    reqs = it_master_requests(p.leader);
    ck_assert_int_eq(json_object_array_length(reqs), 1);
    ck_assert_ptr_null(it_request_header(reqs, 0, "Expect"));
    json_object_put(reqs);
    /* Headers larger than a connection's memory: 431. */
    strcpy(header, "X-Huge: ");
    memset(header + 8, 'h', 39000);
    header[39008] = '\0';
    ck_assert_int_eq(
        it_request("GET", it_url(p.d, "/master/state"), (const char *[]){header, NULL}, NULL, NULL),
        431);
    free(body);
    free(header);
    pair_stop(&p);
}
END_TEST

/* Never an open proxy: absolute-form targets and CONNECT never leave. */
START_TEST(no_open_proxy)
{
    struct pair p = pair_start(NULL, NULL);
    char *answer = NULL;

    it_master_clear_requests(p.leader);
    ck_assert_int_eq(it_raw(p.d,
                            "GET http://example.invalid/master/state HTTP/1.1\r\n"
                            "Host: example.invalid\r\nConnection: close\r\n\r\n",
                            &answer),
                     400);
    ck_assert_ptr_nonnull(strstr(answer, "origin-form"));
    free(answer);
    ck_assert_int_eq(it_raw(p.d,
                            "CONNECT example.invalid:443 HTTP/1.1\r\n"
                            "Host: example.invalid:443\r\n\r\n",
                            NULL),
                     400);
    ck_assert_int_eq(
        it_raw(p.d, "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NULL), 400);
    ck_assert_int_eq(it_master_request_count(p.leader), 0);
    it_record_hostile("absolute-form target, CONNECT, OPTIONS *", 3, "400", 0,
                      "never an open proxy");
    pair_stop(&p);
}
END_TEST

/* An HTTP/1.0 client's short call is answered, and HEAD is relayed. */
START_TEST(http10_and_head)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_req old = {.url = it_url(p.d, "/master/state"), .http10 = true};
    struct http_resp r = {0};

    ck_assert_int_eq(http_request(&old, &r), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "m-leader"));
    http_resp_free(&r);
    ck_assert_int_eq(it_request("HEAD", it_url(p.d, "/health"), NULL, NULL, NULL), 200);
    pair_stop(&p);
}
END_TEST

/* The leader hangs: a short call ends with 504 after the upstream timeout. */
START_TEST(hung_leader_504)
{
    const char *quick[] = {"--upstream-timeout", "1s", NULL};
    struct pair p = pair_start(quick, NULL);
    struct http_resp r = {0};

    it_master_faults(p.leader, "{\"hang\":true}");
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/master/state"), NULL, NULL, &r), 504);
    ck_assert_ptr_nonnull(strstr(r.body, "upstream_timeout"));
    http_resp_free(&r);
    it_master_faults(p.leader, "{\"hang\":false}");
    ck_assert_int_eq(it_daemon_metric(p.d, "mesos_leaderd_upstream_errors_total{kind=\"timeout\"}"),
                     1);
    pair_stop(&p);
}
END_TEST

/* HTTPS toward the masters, verified against a CA file. */
START_TEST(tls_upstream)
{
    char *dir = harness_mkdtemp("it-tls"), *cmd = NULL, *zk_url = it_new_zk_url();
    char cert[512], key[512], ca[512], other_ca[512];
    struct it_master *m;
    struct it_daemon *good, *bad;
    struct http_resp r = {0};

    ck_assert_int_gt(
        asprintf(&cmd,
                 "cd '%s' && (openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem "
                 "-days 2 -subj /CN=it-ca && openssl req -newkey rsa:2048 -nodes -keyout srv.key "
                 "-out srv.csr -subj /CN=127.0.0.1 && printf 'subjectAltName=IP:127.0.0.1\\n' "
                 "> ext && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
                 "-CAcreateserial -out srv.pem -days 2 -extfile ext && openssl req -x509 "
                 "-newkey rsa:2048 -nodes -keyout o.key -out other.pem -days 2 -subj /CN=other)"
                 " >/dev/null 2>&1",
                 dir),
        0);
    ck_assert_msg(system(cmd) == 0, "openssl failed: %s", cmd);
    snprintf(cert, sizeof(cert), "%s/srv.pem", dir);
    snprintf(key, sizeof(key), "%s/srv.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    snprintf(other_ca, sizeof(other_ca), "%s/other.pem", dir);
    m = it_master_start(zk_url, "m-tls",
                        (const char *[]){"--tls-cert", cert, "--tls-key", key, NULL});
    good = it_daemon_start(zk_url,
                           (const char *[]){"--upstream-scheme", "https", "--ca-file", ca, NULL});
    bad = it_daemon_start(
        zk_url, (const char *[]){"--upstream-scheme", "https", "--ca-file", other_ca, NULL});
    it_daemon_wait_state(good, "known");
    it_daemon_wait_state(bad, "known");
    ck_assert_int_eq(it_request("GET", it_url(good, "/master/state"), NULL, NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "m-tls"));
    http_resp_free(&r);
    ck_assert_int_eq(it_request("GET", it_url(bad, "/master/state"), NULL, NULL, &r), 502);
    ck_assert_ptr_nonnull(strstr(r.body, "bad_upstream"));
    http_resp_free(&r);
    ck_assert_int_eq(it_daemon_metric(bad, "mesos_leaderd_upstream_errors_total{kind=\"tls\"}"), 1);
    it_daemon_stop(good);
    it_daemon_stop(bad);
    it_master_stop(m);
    harness_rm_rf(dir);
    free(dir);
    free(cmd);
    free(zk_url);
}
END_TEST

/* Opens a TCP connection to the daemon and leaves it idle; returns the fd. */
static int idle_connection(const struct it_daemon *d)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

struct metric_wait {
    struct it_daemon *d;
    const char *name;
    long at_least;
};

static bool metric_reaches(void *arg)
{
    struct metric_wait *w = arg;

    return it_daemon_metric(w->d, w->name) >= w->at_least;
}

static bool metric_at_most(void *arg)
{
    struct metric_wait *w = arg;

    return it_daemon_metric(w->d, w->name) <= w->at_least;
}

/* Past --max-connections, 503 (and the daemon lives on). */
START_TEST(connection_cap)
{
    struct pair p = pair_start((const char *[]){"--max-connections", "3", NULL}, NULL);
    struct metric_wait w = {p.d, "mesos_leaderd_connections_open", 4};
    int fds[3];
    char *answer = NULL;

    for (int i = 0; i < 3; i++)
        fds[i] = idle_connection(p.d);
    ck_assert(wait_until(metric_reaches, &w, IT_TIMEOUT_MS));
    ck_assert_int_eq(it_raw(p.d, "GET /master/state HTTP/1.1\r\nHost: x\r\n\r\n", &answer), 503);
    ck_assert_ptr_nonnull(strstr(answer, "too_many_connections"));
    ck_assert_ptr_nonnull(strcasestr(answer, "Connection: close"));
    free(answer);
    ck_assert_int_eq(it_daemon_metric(p.d, "mesos_leaderd_connections_rejected_total"), 1);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    w.at_least = 1; /* only the connection asking */
    ck_assert(wait_until(metric_at_most, &w, IT_TIMEOUT_MS));
    ck_assert_int_eq(it_request("GET", it_url(p.d, "/master/state"), NULL, NULL, NULL), 200);
    pair_stop(&p);
}
END_TEST

static bool state_answered(void *arg)
{
    return it_request("GET", it_url(arg, "/master/state"), NULL, NULL, NULL) == 200;
}

/* An event stream's connection is the daemon's own once the stream runs (its
 * libmicrohttpd connection is let go): it still counts against the cap, and
 * a client that leaves frees its place. */
START_TEST(connection_cap_counts_streams)
{
    struct pair p = pair_start((const char *[]){"--max-connections", "3", NULL},
                               (const char *[]){"--heartbeat-interval", "0.2", NULL});
    struct http_stream *s[3];
    char *answer = NULL;

    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cap-%d", i);
        s[i] = it_subscribe(p.d->base, name, NULL);
        ck_assert_msg(http_stream_wait_contains(s[i], "SUBSCRIBED", IT_TIMEOUT_MS) == 0,
                      "stream %d not subscribed (connections_open %ld)", i,
                      it_daemon_metric(p.d, "mesos_leaderd_connections_open"));
    }
    it_daemon_wait_metric(p.d, "mesos_leaderd_streams_open", 3);
    ck_assert_int_eq(it_raw(p.d, "GET /master/state HTTP/1.1\r\nHost: x\r\n\r\n", &answer), 503);
    ck_assert_ptr_nonnull(strstr(answer, "too_many_connections"));
    free(answer);
    /* the streams still flow */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(http_stream_wait_contains(s[i], "HEARTBEAT", IT_TIMEOUT_MS), 0);
    http_stream_close(s[0]);
    it_daemon_wait_metric(p.d, "mesos_leaderd_streams_open", 2);
    /* its place is free again (once the daemon has seen the close) */
    ck_assert(wait_until(state_answered, p.d, IT_TIMEOUT_MS));
    http_stream_close(s[1]);
    http_stream_close(s[2]);
    it_daemon_wait_metric(p.d, "mesos_leaderd_streams_open", 0);
    pair_stop(&p);
}
END_TEST

/* Idle kept-alive client connections are closed after
 * --client-idle-timeout. */
START_TEST(idle_client_connection_closed)
{
    struct pair p = pair_start((const char *[]){"--client-idle-timeout", "1s", NULL}, NULL);
    int fd = idle_connection(p.d);
    const char *req = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    char buf[4096];
    ssize_t n, total = 0;

    ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    /* The answer, then (after the idle timeout) the end of the connection. */
    while (poll(&pfd, 1, IT_TIMEOUT_MS) == 1 && (n = read(fd, buf, sizeof(buf))) > 0)
        total += n;
    ck_assert_int_gt(total, 0);
    ck_assert_int_eq(read(fd, buf, sizeof(buf)), 0);
    close(fd);
    pair_stop(&p);
}
END_TEST

/* A client that closes its sending side after its request (a half-close)
 * still gets the answer, as from the master itself: the daemon once took it
 * for gone and dropped the call, a POST the master may have acted on. */
START_TEST(half_closed_client_gets_answer)
{
    static const char *const requests[] = {
        "GET /master/flags HTTP/1.0\r\n\r\n",
        "POST /master/teardown HTTP/1.0\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\n\r\n{}",
    };
    struct pair p = pair_start(NULL, NULL);

    /* Long enough for the daemon to watch the waiting client. */
    it_master_faults(p.leader, "{\"delay_ms\":1500}");
    for (size_t i = 0; i < 2; i++) {
        int fd = it_connect(p.d->port);
        char *answer = NULL;
        ck_assert_int_eq(write(fd, requests[i], strlen(requests[i])), (ssize_t)strlen(requests[i]));
        ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
        ck_assert_int_eq(it_read_answer(fd, IT_TIMEOUT_MS, &answer, NULL), 200);
        free(answer);
        close(fd);
    }
    ck_assert_int_eq(it_master_request_count_for(p.leader, "/master/teardown"), 1);
    pair_stop(&p);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {paths_reach_only_the_leader,
                                  request_passes_byte_for_byte,
                                  answers_relayed_verbatim,
                                  authentication_relayed,
                                  stream_id_flow,
                                  no_leader_answers_503_at_once,
                                  redirect_retried_then_503,
                                  redirect_then_leader_catches_up,
                                  redirect_loop_detected,
                                  redirect_loop_across_masters,
                                  master_503s,
                                  refused_connection_retried,
                                  redirect_endpoints_local,
                                  own_endpoints,
                                  limits,
                                  large_body_no_expect,
                                  no_open_proxy,
                                  http10_and_head,
                                  hung_leader_504,
                                  tls_upstream,
                                  connection_cap,
                                  connection_cap_counts_streams,
                                  idle_client_connection_closed,
                                  half_closed_client_gets_answer,
                                  NULL};

    return it_run(it_suite("proxy", tests, 60), 1);
}
