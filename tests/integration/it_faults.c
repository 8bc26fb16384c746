/* it_faults.c: faults under load (issue "reliability"): a 3-node ZooKeeper
 * ensemble, stand-in masters, the daemon, a steady load of calls and open
 * streams; each test injects one fault, asserts what clients see, and
 * records sent / failed / hung / time to recover for docs/reliability.md. */
#include "config.h"

#include "integration/itlib.h"
#include "integration/itload.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HANG_MS 10000 /* a call without an answer this long has hung */

/* Masters that outlive a ZooKeeper outage (Mesos masters would not: they
 * exit when their session is gone; these model masters whose sessions
 * survive). */
static const char *const sturdy[] = {"--heartbeat-interval", "1", NULL};

struct setup {
    char *zk_url;
    struct it_master *a, *b;
    struct it_daemon *d;
};

static struct it_master *master(const char *zk_url, const char *id, int session_ms)
{
    char session[16];
    const char *args[] = {"--heartbeat-interval", "1", "--zk-session-timeout", session, NULL};

    snprintf(session, sizeof(session), "%d", session_ms);
    return it_master_start(zk_url, id, args);
}

static struct setup setup(int master_session_ms, const char *const *daemon_args)
{
    struct setup s = {.zk_url = it_new_zk_url()};

    s.a = master(s.zk_url, "fa", master_session_ms);
    s.b = master(s.zk_url, "fb", master_session_ms);
    s.d = it_daemon_start(s.zk_url, daemon_args);
    it_daemon_wait_leader(s.d, s.a);
    return s;
}

/* GET /master/state sent after a fault, with a query of its own: identical
 * reads share one call to the master, and a read of the load that the
 * master had answered just before the fault would answer this one too. */
static long probe_state(struct setup *s, struct http_resp *resp)
{
    static int probes;
    char path[64];

    snprintf(path, sizeof(path), "/master/state?probe=%d", ++probes);
    return it_request("GET", it_url(s->d, path), NULL, NULL, resp);
}

static void teardown(struct setup *s)
{
    it_daemon_stop(s->d);
    it_master_stop(s->a);
    it_master_stop(s->b);
    free(s->zk_url);
}

/* One ZooKeeper server of three killed, then restarted (each in turn): no
 * failed call, no stream cut. */
START_TEST(one_zk_server_lost)
{
    struct setup s = setup(8000, NULL);
    struct it_load *load = it_load_start(s.d->base, "/master/state", 4, 20, HANG_MS);
    struct it_load_report r;

    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    it_load_mark(load);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(zkh_kill_node(it_zk(), i), 0);
        ck_assert(it_load_wait_ok(load, 100, IT_TIMEOUT_MS));
        ck_assert_int_eq(zkh_start_node(it_zk(), i), 0);
        ck_assert(it_load_wait_ok(load, 100, IT_TIMEOUT_MS));
    }
    it_load_stop(load, &r);
    it_load_record("one ZooKeeper server of three killed, then restarted (each in turn)", &r,
                   "no call failed, no stream cut");
    ck_assert_int_eq(r.failed, 0);
    ck_assert_int_eq(r.hung, 0);
    ck_assert_int_eq(r.streams_cut, 0);
    teardown(&s);
}
END_TEST

struct session_wait {
    struct it_daemon *d;
    const char *state;
};

/* Every ZooKeeper server down for 20 s, masters alive: calls reach the last
 * leader until the session timeout, then 503; tracking resumes after. */
START_TEST(all_zk_servers_down)
{
    const char *daemon_args[] = {"--zk-session-timeout", "8s", NULL};
    struct setup s = setup(40000, daemon_args);
    struct it_load *load = it_load_start(s.d->base, "/master/state", 4, 10, HANG_MS);
    struct it_load_report before, during, r;

    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    it_load_mark(load);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zkh_stop_node(it_zk(), i), 0);
    /* Within the session timeout: still the last-known leader. */
    ck_assert(it_load_wait_ok(load, 100, IT_TIMEOUT_MS));
    it_load_peek(load, &before);
    ck_assert_int_eq(before.failed, 0);
    /* Past it: the session is treated as expired; no leader, 503. */
    it_daemon_wait_field(s.d, "zookeeper.session", "expired");
    it_load_peek(load, &during);
    ck_assert_int_eq(probe_state(&s, NULL), 503);
    /* The outage lasts 20 s in all. */
    it_load_hold_fault(load, 20000);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zkh_start_node(it_zk(), i), 0);
    it_daemon_wait_field_ms(s.d, "zookeeper.session", "connected", IT_RECOVERY_MS);
    it_daemon_wait_state(s.d, "known");
    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    it_load_stop(load, &r);
    it_load_record("all ZooKeeper servers down for 20 s (session timeout 8 s)", &r,
                   "last leader used until the session timeout, then 503; resumed after");
    ck_assert_int_eq(r.hung, 0);
    ck_assert_int_eq(r.status[5], r.failed); /* every failure is a clear 503 */
    ck_assert_int_gt(r.failed, 0);
    teardown(&s);
}
END_TEST

/* Session expiry (every server paused past the session timeout): no stale
 * leader after the expiry, a new session, the watch re-armed. */
START_TEST(session_expiry_by_pause)
{
    const char *daemon_args[] = {"--zk-session-timeout", "3s", NULL};
    struct setup s = setup(40000, daemon_args);
    struct it_load *load = it_load_start(s.d->base, "/master/state", 2, 5, HANG_MS);
    struct it_load_report r;

    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    it_load_mark(load);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zkh_pause_node(it_zk(), i), 0);
    it_daemon_wait_field(s.d, "zookeeper.session", "expired");
    /* Calls sent before the expiry may still land: let some 503s pass. */
    ck_assert(it_load_wait_failed(load, 20, IT_TIMEOUT_MS));
    it_master_clear_requests(s.a);
    it_master_clear_requests(s.b);
    ck_assert(it_load_wait_failed(load, 50, IT_TIMEOUT_MS));
    /* While expired: answered 503, and nothing reaches a master. */
    ck_assert_int_eq(probe_state(&s, NULL), 503);
    ck_assert_int_eq(it_master_request_count(s.a), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(zkh_resume_node(it_zk(), i), 0);
    it_daemon_wait_field_ms(s.d, "zookeeper.session", "connected", IT_RECOVERY_MS);
    it_daemon_wait_state(s.d, "known");
    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    /* The watch is armed again: a leader change is followed. (The znode is
     * deleted by hand: a master stopped now might not have reconnected yet,
     * and its znode would then wait for its 40 s session to end.) */
    {
        struct zkh_client *c = zkh_client_open(zkh_connect_string(it_zk()), NULL);
        ck_assert_int_eq(zkh_client_delete(c, s.a->znode, false), 0);
        zkh_client_close(c);
    }
    it_daemon_wait_leader(s.d, s.b);
    ck_assert(it_load_wait_ok(load, 20, IT_TIMEOUT_MS));
    it_load_stop(load, &r);
    it_load_record("session expiry (every ZooKeeper server paused past the 3 s timeout)", &r,
                   "503 while expired, nothing routed; new session, watch re-armed");
    ck_assert_int_eq(r.hung, 0);
    ck_assert_int_eq(r.status[5], r.failed);
    teardown(&s);
}
END_TEST

/* Registers @m's MasterInfo under @parent (ephemeral, sequential); returns
 * the znode path. */
static char *register_master(struct zkh_client *c, const char *parent, const struct it_master *m)
{
    char path[256], data[512], *created = NULL;

    snprintf(path, sizeof(path), "%s/json.info_", parent);
    snprintf(data, sizeof(data),
             "{\"address\":{\"hostname\":\"127.0.0.1\",\"ip\":\"127.0.0.1\",\"port\":%d},"
             "\"hostname\":\"127.0.0.1\",\"id\":\"%s\",\"ip\":16777343,\"pid\":"
             "\"master@127.0.0.1:%d\",\"port\":%d,\"version\":\"1.11.0\"}",
             m->port, m->id, m->port, m->port);
    ck_assert_int_eq(zkh_client_create(c, path, data, strlen(data),
                                       ZKH_EPHEMERAL | ZKH_SEQUENTIAL | ZKH_PARENTS, &created),
                     0);
    return created;
}

/* Leader flapping: 50 changes in about 10 s. After each, no call reaches
 * the master that stopped leading; at the end the daemon follows the last. */
START_TEST(leader_flapping)
{
    char *zk_url = it_new_zk_url();
    const char *parent = strchr(zk_url + 5, '/');
    struct zkh_client *c = zkh_client_open(zkh_connect_string(it_zk()), NULL);
    struct it_master *m[2] = {it_master_start(NULL, "flap-a", sturdy),
                              it_master_start(NULL, "flap-b", sturdy)};
    char *node[2];
    struct it_daemon *d;
    struct it_load *load;
    struct it_load_report r;
    int leader = 0;
    char probe[64];

    node[0] = register_master(c, parent, m[0]);
    node[1] = register_master(c, parent, m[1]);
    d = it_daemon_start(zk_url, NULL);
    it_daemon_wait_leader(d, m[0]);
    load = it_load_start(d->base, "/master/state", 2, 5, HANG_MS);
    it_load_mark(load);
    for (int change = 0; change < 50; change++) {
        int next = 1 - leader;
        /* The leader's znode goes: the other (registered earlier) leads;
         * the old one registers again, behind it. */
        ck_assert_int_eq(zkh_client_delete(c, node[leader], false), 0);
        it_daemon_wait_leader(d, m[next]);
        /* A load call forwarded just before the change may still land on
         * the old leader; a call made after the change never may. */
        snprintf(probe, sizeof(probe), "/master/state?change=%d", change);
        /* The stand-in keeps its last 1000 requests: make room for the
         * probe among the load's. */
        it_master_clear_requests(m[next]);
        ck_assert_int_eq(it_request("GET", it_url(d, probe), NULL, NULL, NULL), 200);
        ck_assert_int_eq(it_master_request_count_for(m[leader], probe), 0);
        ck_assert_int_eq(it_master_request_count_for(m[next], probe), 1);
        it_master_clear_requests(m[leader]);
        free(node[leader]);
        node[leader] = register_master(c, parent, m[leader]);
        leader = next;
    }
    it_load_stop(load, &r);
    it_load_record("leader flapping: 50 changes in about 10 s", &r,
                   "followed every change; no call to a master after it stopped leading");
    ck_assert_int_eq(r.hung, 0);
    ck_assert_int_eq(it_daemon_metric(d, "mesos_leaderd_leader_changes_total"), 51);
    it_daemon_stop(d);
    it_master_stop(m[0]);
    it_master_stop(m[1]);
    free(node[0]);
    free(node[1]);
    zkh_client_close(c);
    free(zk_url);
}
END_TEST

/* The leader killed -9 (its znode stays until its session expires): 503
 * with Retry-After within the budget, no call hangs; then the new leader. */
START_TEST(leader_killed)
{
    struct setup s = setup(8000, NULL);
    struct it_load *load = it_load_start(s.d->base, "/master/state", 4, 10, HANG_MS);
    struct it_load_report r;
    struct http_resp resp = {0};

    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    it_load_mark(load);
    it_master_kill(s.a);
    ck_assert_int_eq(probe_state(&s, &resp), 503);
    ck_assert_ptr_nonnull(http_resp_header(&resp, "Retry-After"));
    http_resp_free(&resp);
    it_daemon_wait_leader(s.d, s.b);
    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    it_load_stop(load, &r);
    it_load_record(
        "the leader killed -9 (znode stays for its 8 s session)", &r,
        "503 with Retry-After within the 5 s budget, none hung; new leader after expiry");
    ck_assert_int_eq(r.hung, 0);
    ck_assert_int_eq(r.status[5], r.failed);
    ck_assert_int_eq(r.streams_cut, r.streams);
    teardown(&s);
}
END_TEST

/* The leader hung (SIGSTOP): calls end with 504 after the upstream timeout;
 * streams end by the idle watchdog (or the leader change). */
START_TEST(leader_hung)
{
    const char *daemon_args[] = {"--upstream-timeout", "2s", "--stream-idle-timeout", "3s", NULL};
    struct setup s = setup(8000, daemon_args);
    struct it_load *load = it_load_start(s.d->base, "/master/state", 4, 10, HANG_MS);
    struct it_load_report r;
    struct http_resp resp = {0};
    long status;

    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    it_load_mark(load);
    ck_assert_int_eq(proc_pause(s.a->proc), 0);
    status = probe_state(&s, &resp);
    ck_assert_msg(status == 504, "status %ld from a hung leader: %.200s", status,
                  resp.body ? resp.body : "");
    http_resp_free(&resp);
    it_daemon_wait_leader(s.d, s.b); /* its session expired meanwhile */
    ck_assert(it_load_wait_ok(load, 50, IT_TIMEOUT_MS));
    ck_assert_int_eq(proc_resume(s.a->proc), 0);
    it_load_stop(load, &r);
    it_load_record("the leader hung (SIGSTOP; upstream timeout 2 s, stream idle 3 s)", &r,
                   "504 after the upstream timeout, none hung; streams ended; new leader");
    ck_assert_int_eq(r.hung, 0);
    ck_assert_int_eq(r.streams_cut, r.streams);
    ck_assert_int_ge(it_daemon_metric(s.d, "mesos_leaderd_upstream_errors_total{kind=\"timeout\"}"),
                     1);
    teardown(&s);
}
END_TEST

START_TEST(garbage_master)
{
    static const char *const replies[] = {
        "HELLO THERE\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nnot a chunk\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short",
        "HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
    };
    char *zk_url = it_new_zk_url();
    const char *parent = strchr(zk_url + 5, '/');
    struct zkh_client *c = zkh_client_open(zkh_connect_string(it_zk()), NULL);
    struct it_daemon *d = NULL;
    long sent = 0, failed = 0;

    for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        struct it_garbage g;
        struct it_master fake = {0};
        char *node;

        it_garbage_start(&g, replies[i], 0);
        fake.port = g.port;
        snprintf(fake.id, sizeof(fake.id), "garbage-%zu", i);
        snprintf(fake.address, sizeof(fake.address), "127.0.0.1:%d", g.port);
        node = register_master(c, parent, &fake);
        if (!d)
            d = it_daemon_start(zk_url, NULL);
        it_daemon_wait_leader(d, &fake);
        for (int k = 0; k < 5; k++) {
            sent++;
            long status = it_request("GET", it_url(d, "/master/state"), NULL, NULL, NULL);
            ck_assert_msg(status == 502, "reply %zu: %ld", i, status);
            failed++;
        }
        ck_assert_int_eq(it_request("GET", it_url(d, "/leaderd/health"), NULL, NULL, NULL), 200);
        ck_assert_int_eq(zkh_client_delete(c, node, false), 0);
        free(node);
        it_garbage_stop(&g);
    }
    {
        struct it_load_report r = {.sent = sent, .failed = failed, .status = {[5] = failed}};
        it_load_record("a master answering garbage (not HTTP, bad chunking, truncated body, bad "
                       "header)",
                       &r, "502 every time; the daemon goes on");
    }
    it_daemon_stop(d);
    zkh_client_close(c);
    free(zk_url);
}
END_TEST

/* A master that closes a connection without answering (it restarts, or a
 * pooled connection it had closed was reused): a GET is sent once more, a
 * POST (which it may have acted on) gets 502. */
START_TEST(master_drops_connection)
{
    char *zk_url = it_new_zk_url();
    const char *parent = strchr(zk_url + 5, '/');
    struct zkh_client *c = zkh_client_open(zkh_connect_string(it_zk()), NULL);
    struct it_garbage g;
    struct it_master fake = {.id = "dropper"};
    struct it_daemon *d;
    struct http_resp resp = {0};
    char *node;

    it_garbage_start(&g, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1);
    fake.port = g.port;
    snprintf(fake.address, sizeof(fake.address), "127.0.0.1:%d", g.port);
    node = register_master(c, parent, &fake);
    d = it_daemon_start(zk_url, NULL);
    it_daemon_wait_leader(d, &fake);
    ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, &resp), 200);
    ck_assert_str_eq(resp.body, "ok");
    http_resp_free(&resp);
    ck_assert_int_eq(it_daemon_metric(d, "mesos_leaderd_retries_total{reason=\"dropped\"}"), 1);
    __atomic_store_n(&g.drops, 1, __ATOMIC_SEQ_CST);
    ck_assert_int_eq(it_post_json(it_url(d, "/api/v1/scheduler"), "{}", &resp), 502);
    ck_assert_ptr_nonnull(strstr(resp.body, "\"upstream_dropped\""));
    http_resp_free(&resp);
    ck_assert_int_eq(it_daemon_metric(d, "mesos_leaderd_retries_total{reason=\"dropped\"}"), 1);
    __atomic_store_n(&g.drops, 2, __ATOMIC_SEQ_CST);
    ck_assert_int_eq(it_request("GET", it_url(d, "/master/state"), NULL, NULL, NULL), 502);
    {
        struct it_load_report r = {.sent = 3, .ok = 1, .failed = 2, .status = {[2] = 1, [5] = 2}};
        it_load_record(
            "a master closing the connection before answering (once, then twice in a row)", &r,
            "a GET is sent once more (200); a POST, or a second drop, gets 502");
    }
    it_daemon_stop(d);
    ck_assert_int_eq(zkh_client_delete(c, node, false), 0);
    free(node);
    it_garbage_stop(&g);
    zkh_client_close(c);
    free(zk_url);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        one_zk_server_lost, all_zk_servers_down,     session_expiry_by_pause,
        leader_flapping,    leader_killed,           leader_hung,
        garbage_master,     master_drops_connection, NULL};

    return it_run(it_suite("faults", tests, 240), 3);
}
