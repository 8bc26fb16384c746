/* it_streams.c: integration tests of event streams through mesos-leaderd:
 * unbuffered relay, RecordIO intact, leader changes, breaks, clients that
 * leave, watchdogs, and no leak over many cycles. */
#include "config.h"

#include "integration/itlib.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair {
    char *zk_url;
    struct it_master *a, *b;
    struct it_daemon *d;
};

/* Master a leads (registered first), b stands by; both heartbeat fast. */
static struct pair pair_start(const char *const *daemon_args, const char *const *master_args)
{
    struct pair p = {.zk_url = it_new_zk_url()};
    const char *def[] = {"--heartbeat-interval", "0.2", NULL};

    p.a = it_master_start(p.zk_url, "ma", master_args ? master_args : def);
    p.b = it_master_start(p.zk_url, "mb", master_args ? master_args : def);
    p.d = it_daemon_start(p.zk_url, daemon_args);
    it_daemon_wait_leader(p.d, p.a);
    return p;
}

static void pair_stop(struct pair *p)
{
    it_daemon_stop(p->d);
    it_master_stop(p->a);
    it_master_stop(p->b);
    free(p->zk_url);
}

/* Splits a RecordIO byte stream into records; returns how many complete
 * records it holds, or -1 when the framing is broken. */
static int recordio_count(const char *data, size_t len, const char *must_contain_first)
{
    size_t pos = 0;
    int n = 0;

    while (pos < len) {
        char *end;
        unsigned long size = strtoul(data + pos, &end, 10);
        if (end == data + pos || (size_t)(end - data) >= len)
            return n; /* an incomplete tail */
        if (*end != '\n' || size == 0)
            return -1;
        if ((size_t)(end + 1 - data) + size > len)
            return n;
        if (n == 0 && must_contain_first &&
            !memmem(end + 1, size, must_contain_first, strlen(must_contain_first)))
            return -1;
        if (((end + 1)[0] != '{') || (end + 1)[size - 1] != '}')
            return -1;
        pos = (size_t)(end + 1 - data) + size;
        n++;
    }
    return n;
}

/* A SUBSCRIBE's headers reach the client at once, and its first record
 * too while the master still holds back the rest: nothing is buffered. */
START_TEST(first_record_not_buffered)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *s;
    json_object *status;
    const char *sid;

    it_master_faults(p.a, "{\"hold_after_first\":true}");
    s = it_subscribe(p.d->base, "held", NULL);
    ck_assert_int_eq(http_stream_status(s), 200);
    ck_assert_str_eq(http_stream_header(s, "Content-Type"), "application/json");
    ck_assert_ptr_null(http_stream_header(s, "Content-Length"));
    sid = http_stream_header(s, "Mesos-Stream-Id");
    ck_assert_ptr_nonnull(sid);
    ck_assert_int_eq(http_stream_wait_contains(s, "SUBSCRIBED", IT_TIMEOUT_MS), 0);
    /* The master's own record of the stream id is the one relayed. */
    status = it_master_status(p.a);
    ck_assert_ptr_nonnull(
        strstr(json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN), sid));
    json_object_put(status);
    it_master_faults(p.a, "{\"release\":true}");
    ck_assert_int_eq(http_stream_wait_contains(s, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

/* Records split across chunks and many in one chunk arrive as an intact
 * RecordIO byte stream. */
START_TEST(recordio_intact_across_chunkings)
{
    struct pair p = pair_start(NULL, NULL);
    const char *faults[] = {"{\"split_records\":1}", "{\"split_records\":3,\"coalesce_records\":0}",
                            "{\"split_records\":false,\"coalesce_records\":4}"};

    for (size_t i = 0; i < 3; i++) {
        struct http_stream *s;
        char name[16], *body;
        size_t len;

        it_master_faults(p.a, faults[i]);
        snprintf(name, sizeof(name), "chunks%zu", i);
        s = it_subscribe(p.d->base, name, NULL);
        ck_assert_int_eq(http_stream_wait_bytes(s, 600, IT_TIMEOUT_MS), 0);
        body = http_stream_body(s, &len);
        ck_assert_msg(recordio_count(body, len, "SUBSCRIBED") >= 2,
                      "broken RecordIO with %s: %.200s", faults[i], body);
        free(body);
        http_stream_close(s);
    }
    pair_stop(&p);
}
END_TEST

/* The leader leaves: the stream ends at once and abnormally, so that the
 * client subscribes again; that reaches the new leader with a new id. */
START_TEST(leader_change_ends_stream)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *s = it_subscribe(p.d->base, "fw", NULL), *again;
    enum http_stream_end how;
    char *old_id = strdup(http_stream_header(s, "Mesos-Stream-Id"));

    ck_assert_int_eq(http_stream_wait_contains(s, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    it_master_stop(p.a);
    p.a = NULL;
    ck_assert_int_eq(http_stream_wait_end(s, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    it_daemon_wait_leader(p.d, p.b);
    again = it_subscribe(p.d->base, "fw", NULL);
    ck_assert_int_eq(http_stream_status(again), 200);
    ck_assert_str_ne(http_stream_header(again, "Mesos-Stream-Id"), old_id);
    ck_assert_int_eq(http_stream_wait_contains(again, "\"mb-0000\"", IT_TIMEOUT_MS), 0);
    /* Whether the ZooKeeper event or the broken connection ended it first is
     * a race; partition_ends_stream_on_zk_event pins the former down. */
    free(old_id);
    http_stream_close(s);
    http_stream_close(again);
    pair_stop(&p);
}
END_TEST

/* The leader killed (its sockets reset) ends the stream abnormally even
 * though ZooKeeper still names it. */
START_TEST(killed_leader_ends_stream)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *s = it_subscribe(p.d->base, "fw", NULL);
    enum http_stream_end how;

    ck_assert_int_eq(http_stream_wait_contains(s, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    it_master_kill(p.a);
    ck_assert_int_eq(http_stream_wait_end(s, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

/* The leader is partitioned (silent, connection open) while ZooKeeper
 * moves the leadership: the stream ends on the ZooKeeper event. */
START_TEST(partition_ends_stream_on_zk_event)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *s = it_subscribe(p.d->base, "fw", NULL);
    struct zkh_client *c = zkh_client_open(zkh_connect_string(it_zk()), NULL);
    enum http_stream_end how;

    ck_assert_int_eq(http_stream_wait_contains(s, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    ck_assert_int_eq(proc_pause(p.a->proc), 0);
    ck_assert_int_eq(zkh_client_delete(c, p.a->znode, false), 0);
    ck_assert_int_eq(http_stream_wait_end(s, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    it_daemon_wait_leader(p.d, p.b);
    ck_assert_int_eq(it_daemon_metric(p.d, "mesos_leaderd_streams_ended_by_leader_change_total"),
                     1);
    ck_assert_int_eq(proc_resume(p.a->proc), 0);
    http_stream_close(s);
    zkh_client_close(c);
    pair_stop(&p);
}
END_TEST

/* A stream on which the master sends nothing, not even a heartbeat, for
 * longer than --stream-idle-timeout ends abnormally (an upstream timeout). */
START_TEST(idle_watchdog)
{
    const char *quick[] = {"--stream-idle-timeout", "800ms", NULL};
    const char *slow[] = {"--heartbeat-interval", "30", NULL};
    struct pair p = pair_start(quick, slow);
    struct http_stream *s = it_subscribe(p.d->base, "quiet", NULL);
    enum http_stream_end how;

    ck_assert_int_eq(http_stream_wait_contains(s, "SUBSCRIBED", IT_TIMEOUT_MS), 0);
    ck_assert_int_eq(http_stream_wait_end(s, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    ck_assert_int_eq(it_daemon_metric(p.d, "mesos_leaderd_upstream_errors_total{kind=\"timeout\"}"),
                     1);
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

/* A stream is not a call: it outlives --upstream-timeout (which limits
 * only its headers) as long as data flows. */
START_TEST(no_total_timeout_on_streams)
{
    const char *quick[] = {"--upstream-timeout", "500ms", "--stream-idle-timeout", "2s", NULL};
    struct pair p = pair_start(quick, NULL);
    struct http_stream *s = it_subscribe(p.d->base, "long", NULL);
    size_t first;
    char *body;

    ck_assert_int_eq(http_stream_wait_contains(s, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    body = http_stream_body(s, &first);
    free(body);
    /* 3 s later (six times the upstream timeout) heartbeats still arrive. */
    ck_assert_int_eq(http_stream_wait_bytes(s, first + 15 * 25, IT_TIMEOUT_MS), 0);
    ck_assert(!http_stream_ended(s, NULL));
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

struct disconnected {
    struct it_master *m;
};

static bool framework_disconnected(void *arg)
{
    struct disconnected *w = arg;
    json_object *status = it_master_status(w->m);
    const char *text = json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN);
    bool yes = strstr(text, "\"connected\":false") != NULL;

    json_object_put(status);
    return yes;
}

/* A client that leaves a stream aborts the upstream transfer at once: the
 * master sees the framework disconnected. */
START_TEST(client_leaving_aborts_upstream)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *s = it_subscribe(p.d->base, "leaver", NULL);
    struct disconnected w = {p.a};

    ck_assert_int_eq(http_stream_wait_contains(s, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    http_stream_close(s);
    ck_assert_msg(wait_until(framework_disconnected, &w, 5000),
                  "the master still sees the framework connected");
    pair_stop(&p);
}
END_TEST

struct fd_probe {
    pid_t pid;
    int want;
};

static bool fds_back_to(void *arg)
{
    struct fd_probe *f = arg;

    return proc_fd_count(f->pid) <= f->want;
}

/* 1,000 subscribe/disconnect cycles leave no descriptor and no memory
 * behind. */
START_TEST(thousand_cycles_no_leak)
{
    struct pair p = pair_start(NULL, NULL);
    pid_t pid = proc_pid(p.d->proc);
    struct fd_probe probe = {pid, 0};
    long rss_before, rss_after;
#ifdef BUILT_WITH_SANITIZERS
    const bool sanitized = true;
#else
    const bool sanitized = false;
#endif

    /* Warm up allocator pools and connection caches first. */
    for (int i = 0; i < 50; i++) {
        struct http_stream *s = it_subscribe(p.d->base, "cycle", NULL);
        ck_assert_int_eq(http_stream_wait_contains(s, "SUBSCRIBED", IT_TIMEOUT_MS), 0);
        http_stream_close(s);
    }
    probe.want = proc_fd_count(pid);
    ck_assert(wait_until(fds_back_to, &probe, 5000));
    rss_before = proc_rss_kb(pid);
    for (int i = 0; i < 1000; i++) {
        struct http_stream *s = it_subscribe(p.d->base, "cycle", NULL);
        ck_assert_int_eq(http_stream_wait_contains(s, "SUBSCRIBED", IT_TIMEOUT_MS), 0);
        http_stream_close(s);
    }
    ck_assert_msg(wait_until(fds_back_to, &probe, 5000), "descriptors grew from %d to %d",
                  probe.want, proc_fd_count(pid));
    rss_after = proc_rss_kb(pid);
    /* ASan keeps freed memory in quarantine, valgrind has its own heap:
     * there only descriptors count, and the tools check the heap when the
     * daemon exits. */
    if (!sanitized && !getenv("IT_DAEMON_WRAPPER"))
        ck_assert_msg(rss_after - rss_before < 1024, "RSS grew by %ld KiB over 1000 cycles",
                      rss_after - rss_before);
    it_daemon_wait_metric(p.d, "mesos_leaderd_streams_open", 0);
    pair_stop(&p);
}
END_TEST

/* A second SUBSCRIBE of the same framework fails the first over: the first
 * stream gets the master's ERROR event and ends cleanly. */
START_TEST(failover_subscribe_ends_first_cleanly)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *first = it_subscribe(p.d->base, "fo", NULL), *second;
    const char *json[] = {"Content-Type: application/json", NULL};
    const char *resub = "{\"type\":\"SUBSCRIBE\",\"framework_id\":{\"value\":\"ma-0000\"},"
                        "\"subscribe\":{\"framework_info\":{\"user\":\"t\",\"name\":\"fo\","
                        "\"id\":{\"value\":\"ma-0000\"}}}}";
    struct http_req req = {.method = "POST",
                           .url = it_url(p.d, "/api/v1/scheduler"),
                           .headers = json,
                           .body = resub,
                           .body_len = strlen(resub)};
    enum http_stream_end how;

    ck_assert_int_eq(http_stream_wait_contains(first, "\"ma-0000\"", IT_TIMEOUT_MS), 0);
    second = http_stream_open(&req);
    ck_assert_int_eq(http_stream_wait_headers(second, IT_TIMEOUT_MS), 0);
    ck_assert_int_eq(http_stream_status(second), 200);
    ck_assert_int_eq(http_stream_wait_contains(first, "Framework failed over", IT_TIMEOUT_MS), 0);
    ck_assert_int_eq(http_stream_wait_end(first, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_CLEAN);
    http_stream_close(first);
    http_stream_close(second);
    pair_stop(&p);
}
END_TEST

/* Above the operator subscriber limit the master closes the oldest
 * stream; the close is relayed cleanly. */
START_TEST(operator_subscriber_limit)
{
    const char *limited[] = {"--max-operator-subscribers", "2", "--heartbeat-interval", "0.2",
                             NULL};
    struct pair p = pair_start(NULL, limited);
    const char *json[] = {"Content-Type: application/json", NULL};
    struct http_req req = {.method = "POST",
                           .url = it_url(p.d, "/api/v1"),
                           .headers = json,
                           .body = "{\"type\":\"SUBSCRIBE\"}",
                           .body_len = 20};
    struct http_stream *s[3];
    enum http_stream_end how;

    for (int i = 0; i < 3; i++) {
        s[i] = http_stream_open(&req);
        ck_assert_int_eq(http_stream_wait_contains(s[i], "SUBSCRIBED", IT_TIMEOUT_MS), 0);
        ck_assert_ptr_null(http_stream_header(s[i], "Mesos-Stream-Id"));
    }
    ck_assert_int_eq(http_stream_wait_end(s[0], IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_CLEAN);
    ck_assert(!http_stream_ended(s[2], NULL));
    for (int i = 0; i < 3; i++)
        http_stream_close(s[i]);
    pair_stop(&p);
}
END_TEST

/* An HTTP/1.0 client's SUBSCRIBE gets a close-delimited stream (no
 * chunked coding, which HTTP/1.0 does not know). */
START_TEST(http10_subscribe_close_delimited)
{
    struct pair p = pair_start(NULL, NULL);
    char *answer = NULL;
    const char *body = "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
                       "{\"user\":\"u\",\"name\":\"old\"}}}";
    char raw[512];

    /* The stream is cut when the leader goes: read until then. */
    it_master_faults(p.a, "{\"drop_streams_after\":3}");
    snprintf(raw, sizeof(raw),
             "POST /api/v1/scheduler HTTP/1.0\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    ck_assert_int_eq(it_raw(p.d, raw, &answer), 200);
    ck_assert_ptr_null(strcasestr(answer, "Transfer-Encoding: chunked"));
    ck_assert_ptr_nonnull(strstr(answer, "SUBSCRIBED"));
    free(answer);
    pair_stop(&p);
}
END_TEST

/* A master that drops the stream midway: the client sees an abnormal end. */
START_TEST(upstream_drop_ends_abnormally)
{
    struct pair p = pair_start(NULL, NULL);
    struct http_stream *s;
    enum http_stream_end how;

    it_master_faults(p.a, "{\"drop_streams_after\":3}");
    s = it_subscribe(p.d->base, "dropped", NULL);
    ck_assert_int_eq(http_stream_wait_end(s, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    it_daemon_wait_metric(p.d, "mesos_leaderd_streams_open", 0);
    http_stream_close(s);
    pair_stop(&p);
}
END_TEST

/* Registers MasterInfo for @m under @parent as znode @name (flags: ZKH_*). */
static void register_raw(struct zkh_client *c, const char *parent, const char *name,
                         const struct it_master *m, int flags)
{
    char path[256], data[512];

    snprintf(path, sizeof(path), "%s/%s", parent, name);
    snprintf(data, sizeof(data),
             "{\"address\":{\"hostname\":\"127.0.0.1\",\"ip\":\"127.0.0.1\",\"port\":%d},"
             "\"hostname\":\"127.0.0.1\",\"id\":\"%s\",\"ip\":16777343,"
             "\"pid\":\"master@127.0.0.1:%d\",\"port\":%d,\"version\":\"1.11.0\"}",
             m->port, m->id, m->port, m->port);
    ck_assert_int_eq(zkh_client_create(c, path, data, strlen(data), flags, NULL), 0);
}

/* A flap A -> B -> A: no stream stays on a master that stopped leading,
 * and no call goes to B once the watch that replaced it fired. */
START_TEST(flap_leaves_no_stream_behind)
{
    const char *fast[] = {"--heartbeat-interval", "0.2", NULL};
    char *zk_url = it_new_zk_url();
    const char *parent = strchr(zk_url + 5, '/');
    struct zkh_client *c = zkh_client_open(zkh_connect_string(it_zk()), NULL);
    struct it_master *a = it_master_start(NULL, "fa", fast), *b = it_master_start(NULL, "fb", fast);
    struct it_daemon *d;
    struct http_stream *on_a, *on_b;
    enum http_stream_end how;
    char path[256];

    ck_assert_int_eq(zkh_client_create_path(c, parent), 0);
    register_raw(c, parent, "json.info_0000000005", a, ZKH_EPHEMERAL);
    register_raw(c, parent, "json.info_0000000007", b, ZKH_EPHEMERAL);
    d = it_daemon_start(zk_url, NULL);
    it_daemon_wait_leader(d, a);
    on_a = it_subscribe(d->base, "flap", NULL);
    ck_assert_int_eq(http_stream_wait_contains(on_a, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    /* A -> B */
    snprintf(path, sizeof(path), "%s/json.info_0000000005", parent);
    ck_assert_int_eq(zkh_client_delete(c, path, false), 0);
    ck_assert_int_eq(http_stream_wait_end(on_a, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    it_daemon_wait_leader(d, b);
    on_b = it_subscribe(d->base, "flap", NULL);
    ck_assert_int_eq(http_stream_wait_contains(on_b, "HEARTBEAT", IT_TIMEOUT_MS), 0);
    /* B -> A: a lower sequence appears */
    register_raw(c, parent, "json.info_0000000002", a, ZKH_EPHEMERAL);
    ck_assert_int_eq(http_stream_wait_end(on_b, IT_TIMEOUT_MS, &how), 0);
    ck_assert_int_eq(how, HTTP_END_ABNORMAL);
    it_daemon_wait_leader(d, a);
    it_master_clear_requests(b);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, NULL), 200);
    ck_assert_int_eq(it_master_request_count(b), 0);
    ck_assert_int_eq(it_daemon_metric(d, "mesos_leaderd_streams_ended_by_leader_change_total"), 2);
    http_stream_close(on_a);
    http_stream_close(on_b);
    it_daemon_stop(d);
    it_master_stop(a);
    it_master_stop(b);
    zkh_client_close(c);
    free(zk_url);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {first_record_not_buffered,
                                  recordio_intact_across_chunkings,
                                  leader_change_ends_stream,
                                  killed_leader_ends_stream,
                                  partition_ends_stream_on_zk_event,
                                  idle_watchdog,
                                  no_total_timeout_on_streams,
                                  client_leaving_aborts_upstream,
                                  thousand_cycles_no_leak,
                                  failover_subscribe_ends_first_cleanly,
                                  operator_subscriber_limit,
                                  http10_subscribe_close_delimited,
                                  upstream_drop_ends_abnormally,
                                  flap_leaves_no_stream_behind,
                                  NULL};

    return it_run(it_suite("streams", tests, 120), 1);
}
