/* it_tracking.c: integration tests of leader tracking, against real
 * ZooKeeper 3.8 servers (standalone and a 3-node ensemble) on free loopback
 * ports, real stand-in masters, the real mesos-leader and mesos-leaderd.
 *
 * Every test asserts on what a user sees: mesos-leader's output and exit
 * status, the daemon's GET /leaderd/v1/leader, or the leader snapshots of a
 * tracker linked into the test (tracker_start + leader_store_wait), which
 * allows exact "never without a leader" checks.
 *
 * ZooKeeper is started once per suite in unchecked fixtures (the parent): a
 * standalone server shared by the standalone, leader-rule, mesos-leader and
 * regressions cases, and a 3-node ensemble for the ensemble case; the test
 * that stops ZooKeeper starts a server of its own. Each test uses its own
 * election path ("/s1/mesos", ...), so tests are independent of each other
 * and of their order. Session timeouts are short (stand-ins 2 s, trackers
 * 2 s) so that expiry takes seconds. No test sleeps: they wait for
 * conditions with deadlines (wait_until, proc_wait_output,
 * leader_store_wait). */
#include "config.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "harness/harness.h"
#include "zk/leader.h"
#include "zk/tracker.h"
#include "zk/zkurl.h"

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#define TEST_TIMEOUT_S 90
/* The bound for what should happen soon; never reached when all is well. */
#define WAIT_MS            20000
#define STANDIN_SESSION_MS "2000"
#define TRACKER_SESSION_MS 2000
/* mesos-leader's --timeout when no leader is expected: it waits that long. */
#define CLI_NO_LEADER_TIMEOUT "1.5"

static struct zk_cluster *zk1; /* standalone */
static struct zk_cluster *zk3; /* ensemble */

/* ---------------------------------------------------------------------------
 * ZooKeeper clusters (fixtures) and URLs
 * ------------------------------------------------------------------------- */

/* Every four-letter word, for "wchp" (which paths have watches). */
static const char *const zk_extra_cfg[] = {"4lw.commands.whitelist=*", NULL};

static struct zk_cluster *start_cluster(int nodes)
{
    struct zkh_options opt = {.extra_cfg = zk_extra_cfg};
    struct zk_cluster *zk = zkh_start(nodes, &opt);

    if (!zk) {
        fprintf(stderr, "it_tracking: cannot start %d ZooKeeper server(s): %s\n", nodes,
                harness_error());
        exit(99);
    }
    return zk;
}

/* The standalone server serves several test cases: started by the first
 * one's fixture, stopped by main() after the run. */
static void standalone_setup(void)
{
    if (!zk1)
        zk1 = start_cluster(1);
}

static void ensemble_setup(void)
{
    zk3 = start_cluster(3);
}

static void ensemble_teardown(void)
{
    zkh_stop(zk3);
    zk3 = NULL;
}

/* "zk://<hosts><path>"; the caller frees it. */
static char *zk_url(const struct zk_cluster *zk, const char *path)
{
    return xasprintf("zk://%s%s", zkh_connect_string(zk), path);
}

static struct zkh_client *client(const struct zk_cluster *zk)
{
    struct zkh_client *c = zkh_client_open(zkh_connect_string(zk), NULL);

    ck_assert_msg(c, "cannot open a ZooKeeper client: %s", harness_error());
    return c;
}

/* Creates @parent/@name with @data (ZKH_* @flags, parents created) and
 * returns the created child's name ("json.info_0000000003"). */
static char *raw_create(struct zkh_client *c, const char *parent, const char *name,
                        const void *data, size_t len, int flags)
{
    char *path = xasprintf("%s/%s", parent, name), *created = NULL, *child;
    int r = zkh_client_create(c, path, data, len, flags | ZKH_PARENTS, &created);

    ck_assert_msg(r == 0, "cannot create '%s': %s", path, harness_error());
    child = xstrdup(strrchr(created, '/') + 1);
    free(created);
    free(path);
    return child;
}

static void raw_delete(struct zkh_client *c, const char *parent, const char *name)
{
    char *path = xasprintf("%s/%s", parent, name);

    ck_assert_msg(zkh_client_delete(c, path, false) == 0, "cannot delete '%s': %s", path,
                  harness_error());
    free(path);
}

/* MasterInfo JSON as Mesos 1.x writes it, for a master at 127.0.0.1:@port. */
static char *master_json(const char *id, int port)
{
    return xasprintf("{\"address\":{\"hostname\":\"127.0.0.1\",\"ip\":\"127.0.0.1\",\"port\":%d},"
                     "\"hostname\":\"127.0.0.1\",\"id\":\"%s\",\"ip\":16777343,"
                     "\"pid\":\"master@127.0.0.1:%d\",\"port\":%d,\"version\":\"1.11.0\"}",
                     port, id, port, port);
}

/* A json.info_ member written raw (ephemeral, sequential); returns its name. */
static char *raw_json_master(struct zkh_client *c, const char *parent, const char *id, int port)
{
    char *json = master_json(id, port);
    char *name =
        raw_create(c, parent, "json.info_", json, strlen(json), ZKH_EPHEMERAL | ZKH_SEQUENTIAL);

    free(json);
    return name;
}

/* --- a binary protobuf MasterInfo (mesos.proto), as Mesos 0.17-0.23 wrote ---
 * MasterInfo: id 1, ip 2 (uint32), port 3, pid 4, hostname 5, version 6,
 * address 7 (Address: hostname 1, ip 2, port 3 int32). */

static void pb_varint(struct strbuf *b, uint64_t v)
{
    while (v >= 0x80) {
        uint8_t byte = (uint8_t)(v | 0x80);
        strbuf_append(b, &byte, 1);
        v >>= 7;
    }
    uint8_t last = (uint8_t)v;
    strbuf_append(b, &last, 1);
}

static void pb_uint(struct strbuf *b, unsigned field, uint64_t v)
{
    pb_varint(b, (uint64_t)field << 3);
    pb_varint(b, v);
}

static void pb_bytes(struct strbuf *b, unsigned field, const void *data, size_t len)
{
    pb_varint(b, (uint64_t)field << 3 | 2);
    pb_varint(b, len);
    strbuf_append(b, data, len);
}

static void pb_string(struct strbuf *b, unsigned field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

/* 127.0.0.1 as MasterInfo.ip: the address bytes in network order, read as a
 * little-endian uint32. */
#define LOOPBACK_PACKED 16777343u

static void protobuf_master(struct strbuf *out, const char *id, const char *hostname, int port,
                            const char *version)
{
    struct strbuf addr = {0};
    char pid[64];

    snprintf(pid, sizeof(pid), "master@127.0.0.1:%d", port);
    pb_string(&addr, 1, hostname);
    pb_string(&addr, 2, "127.0.0.1");
    pb_uint(&addr, 3, (uint64_t)port);
    pb_string(out, 1, id);
    pb_uint(out, 2, LOOPBACK_PACKED);
    pb_uint(out, 3, (uint64_t)port);
    pb_string(out, 4, pid);
    pb_string(out, 5, hostname);
    pb_string(out, 6, version);
    pb_bytes(out, 7, addr.data, addr.len);
    strbuf_done(&addr);
}

/* ---------------------------------------------------------------------------
 * Stand-in masters
 * ------------------------------------------------------------------------- */

struct standin {
    struct proc *p;
    int port;
    char address[32]; /* "127.0.0.1:port" */
    char *znode;      /* full path */
    const char *name; /* its last component, in znode */
};

/* Starts a stand-in registering in @url; @extra: more options (NULL-terminated
 * or NULL). Waits for its "ready" line: its znode exists then. */
static struct standin *standin_start(const char *url, const char *const *extra)
{
    char *bin = harness_builddir_path("tests/standin/mesos-standin");
    const char *argv[32] = {
        bin,           "--zk",   url, "--port", "0", "--zk-session-timeout", STANDIN_SESSION_MS,
        "--log-level", "warning"};
    size_t n = 9;
    struct standin *s = xnew(struct standin);
    char *line = NULL, znode[512];
    int r;

    for (size_t i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    s->p = proc_start(argv, NULL, NULL);
    ck_assert_msg(s->p, "cannot start mesos-standin: %s", harness_error());
    r = proc_wait_output(s->p, PROC_STDOUT, "standin ready ", WAIT_MS, &line);
    if (r < 0) {
        char *err = proc_output(s->p, PROC_STDERR);
        ck_abort_msg("mesos-standin for %s not ready (%s); stderr:\n%s", url, strerror(-r), err);
    }
    ck_assert_msg(sscanf(line, "standin ready port=%d znode=%511s", &s->port, znode) == 2,
                  "unexpected ready line '%s'", line);
    snprintf(s->address, sizeof(s->address), "127.0.0.1:%d", s->port);
    s->znode = xstrdup(znode);
    s->name = strrchr(s->znode, '/') + 1;
    free(line);
    free(bin);
    return s;
}

/* SIGTERM: the stand-in closes its session, its znode goes at once. */
static void standin_stop(struct standin *s)
{
    if (!s)
        return;
    proc_stop(s->p);
    free(s->znode);
    free(s);
}

/* SIGKILL: the znode stays until the session expires. */
static void standin_kill9(struct standin *s)
{
    ck_assert_int_eq(proc_signal(s->p, SIGKILL), 0);
    ck_assert_int_eq(proc_wait_exit(s->p, WAIT_MS, NULL), 0);
}

/* ---------------------------------------------------------------------------
 * mesos-leader
 * ------------------------------------------------------------------------- */

struct cli {
    int status; /* exit status, or -1 if killed */
    char *out, *err;
};

static struct proc *cli_startv(const char *first, va_list ap)
{
    char *bin = harness_builddir_path("src/cmd/mesos-leader");
    const char *argv[32] = {bin};
    size_t n = 1;
    struct proc *p;

    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = a;
    argv[n] = NULL;
    p = proc_start(argv, NULL, NULL);
    ck_assert_msg(p, "cannot start mesos-leader: %s", harness_error());
    free(bin);
    return p;
}

/* Starts mesos-leader with the NULL-terminated arguments. */
static struct proc *cli_start(const char *first, ...)
{
    va_list ap;
    struct proc *p;

    va_start(ap, first);
    p = cli_startv(first, ap);
    va_end(ap);
    return p;
}

/* Waits for mesos-leader to exit and collects what it printed. */
static void cli_finish(struct proc *p, struct cli *ret)
{
    int status = 0;

    ck_assert_int_eq(proc_wait_exit(p, 60000, &status), 0);
    ret->out = proc_output(p, PROC_STDOUT);
    ret->err = proc_output(p, PROC_STDERR);
    ret->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    proc_stop(p);
}

/* Runs mesos-leader with the NULL-terminated arguments. */
static void cli(struct cli *ret, const char *first, ...)
{
    va_list ap;
    struct proc *p;

    va_start(ap, first);
    p = cli_startv(first, ap);
    va_end(ap);
    cli_finish(p, ret);
}

static void cli_done(struct cli *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
}

/* Asserts exit 0 and exactly @address printed. */
static void assert_cli_prints(const char *url, const char *address)
{
    struct cli r;
    char *want = xasprintf("%s\n", address);

    cli(&r, "--zk", url, NULL);
    ck_assert_msg(r.status == 0 && strcmp(r.out, want) == 0,
                  "mesos-leader --zk %s: exit %d, stdout '%s', stderr '%s'; expected exit 0 and "
                  "'%s'",
                  url, r.status, r.out, r.err, address);
    cli_done(&r);
    free(want);
}

/* Asserts that @text contains @needle. */
#define assert_has(text, needle) \
    ck_assert_msg(strstr((text), (needle)) != NULL, "'%s' does not contain '%s'", (text), (needle))

/* ---------------------------------------------------------------------------
 * mesos-leaderd and its /leaderd/v1/leader
 * ------------------------------------------------------------------------- */

struct daemon {
    struct proc *p;
    int port;
    char url[64]; /* of /leaderd/v1/leader */
};

static struct daemon *daemon_start(const char *zk)
{
    char *bin = harness_builddir_path("src/cmd/mesos-leaderd");
    const char *argv[] = {
        bin,  "--zk",     zk,          "--listen",    "127.0.0.1:0", "--zk-session-timeout",
        "2s", "--config", "/dev/null", "--log-level", "info",        NULL};
    struct daemon *d = xnew(struct daemon);
    char *line = NULL, *at;

    d->p = proc_start(argv, NULL, NULL);
    ck_assert_msg(d->p, "cannot start mesos-leaderd: %s", harness_error());
    if (proc_wait_output(d->p, PROC_STDERR, " listening on ", WAIT_MS, &line) < 0) {
        char *err = proc_output(d->p, PROC_STDERR);
        ck_abort_msg("mesos-leaderd did not start listening; stderr:\n%s", err);
    }
    at = strstr(line, " listening on 127.0.0.1:");
    ck_assert_msg(at, "unexpected line '%s'", line);
    d->port = atoi(at + strlen(" listening on 127.0.0.1:"));
    ck_assert_int_gt(d->port, 0);
    snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d/leaderd/v1/leader", d->port);
    free(line);
    free(bin);
    return d;
}

static void daemon_stop(struct daemon *d)
{
    if (!d)
        return;
    proc_stop(d->p);
    free(d);
}

/* GET /leaderd/v1/leader: the parsed body (caller puts it), or NULL; the raw
 * body in *ret_body when not NULL (caller frees). */
static json_object *daemon_get(const struct daemon *d, char **ret_body)
{
    struct http_resp resp = {0};
    json_object *j = NULL;

    if (http_get(d->url, &resp) == 0 && resp.status == 200)
        j = json_tokener_parse(resp.body);
    if (ret_body)
        *ret_body = xstrdup(resp.body ? resp.body : "");
    http_resp_free(&resp);
    return j;
}

/* The value at a dotted path ("leader.address"), or NULL. */
static json_object *jget(json_object *o, const char *path)
{
    char *copy = xstrdup(path), *save = NULL;

    for (char *key = strtok_r(copy, ".", &save); key && o; key = strtok_r(NULL, ".", &save)) {
        json_object *next = NULL;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &next))
            next = NULL;
        o = next;
    }
    free(copy);
    return o;
}

static const char *jstr(json_object *o, const char *path)
{
    json_object *v = jget(o, path);

    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t jint(json_object *o, const char *path)
{
    json_object *v = jget(o, path);

    return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

static bool str_is(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* What a daemon should report; NULL fields are not checked. */
struct daemon_expect {
    const struct daemon *d;
    const char *state;      /* "known", "none", ... */
    const char *address;    /* leader.address */
    const char *session;    /* zookeeper.session */
    const char *reason_has; /* a piece of "reason" */
    char *last;             /* the last body seen */
};

static bool daemon_matches(void *arg)
{
    struct daemon_expect *e = arg;
    json_object *j;
    const char *reason;
    bool ok;

    free(e->last);
    j = daemon_get(e->d, &e->last);
    if (!j)
        return false;
    reason = jstr(j, "reason");
    ok = (!e->state || str_is(jstr(j, "state"), e->state)) &&
         (!e->address || str_is(jstr(j, "leader.address"), e->address)) &&
         (!e->session || str_is(jstr(j, "zookeeper.session"), e->session)) &&
         (!e->reason_has || (reason && strstr(reason, e->reason_has)));
    json_object_put(j);
    return ok;
}

/* Waits until the daemon reports what @e expects; returns that body parsed
 * (caller puts it). */
static json_object *daemon_wait(struct daemon_expect e)
{
    json_object *j;

    if (!wait_until(daemon_matches, &e, WAIT_MS))
        ck_abort_msg("mesos-leaderd never reported state=%s address=%s session=%s reason~%s; "
                     "last answer: %s",
                     e.state ? e.state : "*", e.address ? e.address : "*",
                     e.session ? e.session : "*", e.reason_has ? e.reason_has : "*", e.last);
    j = json_tokener_parse(e.last);
    free(e.last);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Waits until the daemon names @address the leader, connected. */
static json_object *daemon_wait_leader(const struct daemon *d, const char *address)
{
    return daemon_wait((struct daemon_expect){
        .d = d, .state = "known", .address = address, .session = "connected"});
}

/* ---------------------------------------------------------------------------
 * A tracker in this process
 * ------------------------------------------------------------------------- */

struct inproc {
    struct zkurl url;
    struct leader_store *store;
    struct tracker *t;
};

static struct inproc *inproc_start(const char *url, bool read_all)
{
    struct inproc *ip = xnew(struct inproc);
    struct errbuf err = {{0}};
    struct tracker_config cfg = {0};

    ck_assert_msg(zkurl_parse(url, &ip->url, &err) == 0, "bad URL '%s': %s", url, err.msg);
    ip->store = leader_store_new();
    cfg.url = &ip->url;
    cfg.session_timeout_ms = TRACKER_SESSION_MS;
    cfg.read_all = read_all;
    ck_assert_int_eq(tracker_start(&cfg, ip->store, &ip->t), 0);
    return ip;
}

static void inproc_stop(struct inproc *ip)
{
    if (!ip)
        return;
    tracker_stop(ip->t);
    leader_store_free(ip->store);
    zkurl_done(&ip->url);
    free(ip);
}

static void describe(const struct leader_snapshot *s, char *buf, size_t size)
{
    snprintf(buf, size, "generation %llu: state %s, session %s, znode %s, address '%s', reason %s",
             (unsigned long long)s->generation, leader_state_name(s->state),
             zk_session_name(s->session), s->znode ? s->znode : "-", s->address,
             s->reason ? s->reason : "-");
}

/* What a snapshot should say; NULL/0 fields are not checked. */
struct snap_expect {
    enum leader_state state;
    bool check_state;
    const char *address;    /* KNOWN: the leader's address */
    const char *reason_has; /* a piece of the reason */
    bool connected;         /* session CONNECTED and settled */
};

static bool snap_matches(const struct leader_snapshot *s, const struct snap_expect *e)
{
    return (!e->check_state || s->state == e->state) &&
           (!e->address || (s->state == LEADER_KNOWN && strcmp(s->address, e->address) == 0)) &&
           (!e->reason_has || (s->reason && strstr(s->reason, e->reason_has))) &&
           (!e->connected || (s->session == ZK_SESSION_CONNECTED && s->settled));
}

/* Waits (on the store's condition variable) until the current snapshot
 * matches; returns a reference to it. */
static const struct leader_snapshot *inproc_wait(struct inproc *ip, struct snap_expect e)
{
    uint64_t deadline = time_now_ms() + WAIT_MS;
    char last[512] = "";

    for (;;) {
        const struct leader_snapshot *s = leader_store_get(ip->store);
        uint64_t now = time_now_ms(), gen = s->generation;
        if (snap_matches(s, &e))
            return s;
        describe(s, last, sizeof(last));
        leader_snapshot_unref(s);
        if (now >= deadline)
            ck_abort_msg("the tracker never reported state=%s address=%s reason~%s; last: %s",
                         e.check_state ? leader_state_name(e.state) : "*",
                         e.address ? e.address : "*", e.reason_has ? e.reason_has : "*", last);
        leader_store_wait(ip->store, gen, (int)(deadline - now));
    }
}

static const struct leader_snapshot *inproc_wait_leader(struct inproc *ip, const char *address)
{
    return inproc_wait(
        ip, (struct snap_expect){
                .state = LEADER_KNOWN, .check_state = true, .address = address, .connected = true});
}

static const struct leader_snapshot *inproc_wait_none(struct inproc *ip, const char *reason_has)
{
    return inproc_wait(ip, (struct snap_expect){.state = LEADER_NONE,
                                                .check_state = true,
                                                .reason_has = reason_has,
                                                .connected = true});
}

/* --- a recorder of every snapshot it sees, for "no gap" checks --- */

struct seen {
    uint64_t mono_ns; /* when seen */
    uint64_t generation;
    enum leader_state state;
    enum zk_session session;
    char znode[64];
};

struct recorder {
    struct leader_store *store;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;
    struct seen *seen;
    size_t n, cap;
    uint64_t skipped; /* generations published and replaced before we looked */
};

static void *recorder_main(void *arg)
{
    struct recorder *r = arg;
    uint64_t last = 0;

    while (!atomic_load(&r->stop)) {
        const struct leader_snapshot *s = leader_store_get(r->store);
        if (s->generation != last) {
            pthread_mutex_lock(&r->lock);
            if (r->n == r->cap) {
                r->cap = r->cap ? 2 * r->cap : 64;
                r->seen = xreallocarray(r->seen, r->cap, sizeof(*r->seen));
            }
            r->seen[r->n] = (struct seen){time_now_ns(), s->generation, s->state, s->session, ""};
            snprintf(r->seen[r->n].znode, sizeof(r->seen[r->n].znode), "%s",
                     s->znode ? s->znode : "");
            r->n++;
            if (last && s->generation > last + 1)
                r->skipped += s->generation - last - 1;
            pthread_mutex_unlock(&r->lock);
            last = s->generation;
        }
        leader_snapshot_unref(s);
        leader_store_wait(r->store, last, 50);
    }
    return NULL;
}

static struct recorder *recorder_start(struct leader_store *store)
{
    struct recorder *r = xnew(struct recorder);

    r->store = store;
    pthread_mutex_init(&r->lock, NULL);
    ck_assert_int_eq(pthread_create(&r->thread, NULL, recorder_main, r), 0);
    return r;
}

static void recorder_stop(struct recorder *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->lock);
    free(r->seen);
    free(r);
}

/* Asserts that every snapshot seen from index @from on names @znode as a
 * known leader. */
static void recorder_assert_leader(struct recorder *r, size_t from, const char *znode)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = from; i < r->n; i++) {
        const struct seen *s = &r->seen[i];
        ck_assert_msg(s->state == LEADER_KNOWN && strcmp(s->znode, znode) == 0,
                      "gap: generation %llu has state %s (session %s, znode '%s'); expected "
                      "'%s' known throughout",
                      (unsigned long long)s->generation, leader_state_name(s->state),
                      zk_session_name(s->session), s->znode, znode);
    }
    pthread_mutex_unlock(&r->lock);
}

/* The longest time, in ms, between a snapshot seen with a lost connection
 * and the next one seen connected. */
static double recorder_longest_disconnection_ms(struct recorder *r)
{
    uint64_t longest = 0, since = 0;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++) {
        const struct seen *s = &r->seen[i];
        if (s->session != ZK_SESSION_CONNECTED && !since)
            since = s->mono_ns;
        if (s->session == ZK_SESSION_CONNECTED && since) {
            if (s->mono_ns - since > longest)
                longest = s->mono_ns - since;
            since = 0;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return (double)longest / 1e6;
}

static size_t recorder_count(struct recorder *r)
{
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* ---------------------------------------------------------------------------
 * Bodies shared by the standalone and the ensemble test cases
 * ------------------------------------------------------------------------- */

/* The leader appears, the same for mesos-leader, the daemon and a tracker. */
static void check_leader_appears(struct zk_cluster *zk, const char *path)
{
    char *url = zk_url(zk, path);
    struct standin *a = standin_start(url, (const char *const[]){"--id", "master-a", NULL});
    struct inproc *ip = inproc_start(url, true);
    struct daemon *d = daemon_start(url);
    const struct leader_snapshot *s;
    json_object *j, *masters;

    assert_cli_prints(url, a->address);

    s = inproc_wait_leader(ip, a->address);
    ck_assert_str_eq(s->znode, a->name);
    ck_assert_str_eq(s->info.id, "master-a");
    ck_assert_uint_eq(s->n_masters, 1);
    ck_assert(s->masters[0].decoded);
    ck_assert_uint_eq(s->changes, 1);
    leader_snapshot_unref(s);

    j = daemon_wait_leader(d, a->address);
    ck_assert_str_eq(jstr(j, "leader.id"), "master-a");
    ck_assert_str_eq(jstr(j, "leader.znode"), a->name);
    ck_assert_int_eq(jint(j, "leader_changes"), 1);
    ck_assert(jget(j, "reason") == NULL); /* null when there is a leader */
    masters = jget(j, "masters");
    ck_assert_int_eq(json_object_array_length(masters), 1);
    ck_assert(json_object_get_boolean(jget(json_object_array_get_idx(masters, 0), "leader")));
    json_object_put(j);

    daemon_stop(d);
    inproc_stop(ip);
    standin_stop(a);
    free(url);
}

/* The leader's stand-in stops (SIGTERM: its session is closed, its znode
 * goes at once): the next master leads, one change, seen by everyone. */
static void check_failover_on_stop(struct zk_cluster *zk, const char *path)
{
    char *url = zk_url(zk, path);
    struct standin *a = standin_start(url, NULL), *b = standin_start(url, NULL);
    struct inproc *ip = inproc_start(url, false);
    struct daemon *d = daemon_start(url);
    const struct leader_snapshot *s;
    json_object *j;

    leader_snapshot_unref(inproc_wait_leader(ip, a->address));
    json_object_put(daemon_wait_leader(d, a->address));

    standin_stop(a);

    s = inproc_wait_leader(ip, b->address);
    ck_assert_str_eq(s->znode, b->name);
    ck_assert_uint_eq(s->changes, 2); /* none -> a -> b */
    leader_snapshot_unref(s);
    j = daemon_wait_leader(d, b->address);
    ck_assert_str_eq(jstr(j, "leader.znode"), b->name);
    ck_assert_int_eq(jint(j, "leader_changes"), 2);
    json_object_put(j);
    assert_cli_prints(url, b->address);

    daemon_stop(d);
    inproc_stop(ip);
    standin_stop(b);
    free(url);
}

struct exists_arg {
    struct zkh_client *c;
    const char *path;
};

/* The leader's stand-in is killed -9: its znode stays until ZooKeeper
 * expires its session (2 s), and only then does the leader change. */
static void check_failover_on_kill9(struct zk_cluster *zk, const char *path)
{
    char *url = zk_url(zk, path);
    struct standin *a = standin_start(url, NULL), *b = standin_start(url, NULL);
    struct daemon *d = daemon_start(url);
    struct zkh_client *c = client(zk);
    uint64_t killed_at;
    json_object *j;

    json_object_put(daemon_wait_leader(d, a->address));

    standin_kill9(a);
    killed_at = time_now_ms();
    /* Nothing tells anyone yet: the session of a lives on (2 s). */
    j = daemon_get(d, NULL);
    if (time_now_ms() - killed_at < 1000) {
        ck_assert_int_eq(zkh_client_exists(c, a->znode), 0);
        ck_assert_str_eq(jstr(j, "state"), "known");
        ck_assert_str_eq(jstr(j, "leader.address"), a->address);
    }
    json_object_put(j);

    j = daemon_wait_leader(d, b->address);
    /* The change came from the expiry: ZooKeeper removed a's znode. */
    ck_assert_int_eq(zkh_client_exists(c, a->znode), -ENOENT);
    ck_assert_int_eq(jint(j, "leader_changes"), 2);
    json_object_put(j);
    assert_cli_prints(url, b->address);

    zkh_client_close(c);
    daemon_stop(d);
    standin_stop(a);
    standin_stop(b);
    free(url);
}

/* ---------------------------------------------------------------------------
 * Standalone: leader appears, changes, disappears
 * ------------------------------------------------------------------------- */

START_TEST(standalone_leader_appears)
{
    check_leader_appears(zk1, "/s1/mesos");
}
END_TEST

START_TEST(standalone_failover_on_stop)
{
    check_failover_on_stop(zk1, "/s2/mesos");
}
END_TEST

START_TEST(standalone_failover_on_kill9)
{
    check_failover_on_kill9(zk1, "/s3/mesos");
}
END_TEST

/* Every master goes: no leader, and the daemon and mesos-leader say why. */
START_TEST(all_masters_gone_no_leader)
{
    char *url = zk_url(zk1, "/s4/mesos");
    struct standin *a = standin_start(url, NULL), *b = standin_start(url, NULL);
    struct daemon *d = daemon_start(url);
    struct cli r;
    json_object *j;

    json_object_put(daemon_wait_leader(d, a->address));
    standin_stop(a);
    json_object_put(daemon_wait_leader(d, b->address));
    standin_stop(b);

    j = daemon_wait((struct daemon_expect){.d = d,
                                           .state = "none",
                                           .session = "connected",
                                           .reason_has = "no master is registered under "
                                                         "'/s4/mesos'"});
    ck_assert(json_object_is_type(jget(j, "leader"), json_type_null));
    ck_assert_int_eq(json_object_array_length(jget(j, "masters")), 0);
    ck_assert_int_eq(jint(j, "leader_changes"), 3); /* none -> a -> b -> none */
    json_object_put(j);

    cli(&r, "--zk", url, "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    assert_has(r.err, "no leader within");
    assert_has(r.err, "no master is registered under '/s4/mesos'");
    cli_done(&r);

    daemon_stop(d);
    free(url);
}
END_TEST

/* ---------------------------------------------------------------------------
 * The Mesos leader rule, end to end
 * ------------------------------------------------------------------------- */

/* mesos-leader names the protobuf master of rule_lowest_sequence_across_labels
 * (info_0000000000), lists the others as standbys, and prints its MasterInfo
 * as Mesos would write it in JSON. */
static void assert_cli_protobuf_leads(const char *url)
{
    struct cli r;

    assert_cli_prints(url, "127.0.0.1:5101");
    cli(&r, "--zk", url, "--all", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "127.0.0.1:5101 info_0000000000 leader\n"
                            "127.0.0.1:5102 json.info_0000000001 standby\n"
                            "127.0.0.1:5103 0000000003 standby\n");
    cli_done(&r);
    cli(&r, "--zk", url, "--json", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(
        r.out, "{\"address\":{\"hostname\":\"pb.example\",\"ip\":\"127.0.0.1\",\"port\":5101},"
               "\"hostname\":\"pb.example\",\"id\":\"pb-master\",\"ip\":16777343,"
               "\"pid\":\"master@127.0.0.1:5101\",\"port\":5101,\"version\":\"0.23.1\"}\n");
    cli_done(&r);
}

/* The lowest sequence leads across labels: a protobuf info_ written before a
 * json.info_ wins (Mesos does not prefer JSON); log_replicas is no member; an
 * unlabelled UPID node leads when it is the lowest. */
START_TEST(rule_lowest_sequence_across_labels)
{
    static const char path[] = "/r1/mesos";
    char *url = zk_url(zk1, path), *json = master_json("json-master", 5102);
    struct zkh_client *c = client(zk1);
    struct strbuf pb = {0};
    char *pb_name, *json_name, *upid_name;
    struct inproc *ip;
    struct cli r;

    protobuf_master(&pb, "pb-master", "pb.example", 5101, "0.23.1");
    pb_name = raw_create(c, path, "info_", pb.data, pb.len, ZKH_EPHEMERAL | ZKH_SEQUENTIAL);
    json_name =
        raw_create(c, path, "json.info_", json, strlen(json), ZKH_EPHEMERAL | ZKH_SEQUENTIAL);
    free(raw_create(c, path, "log_replicas", NULL, 0, 0));
    upid_name =
        raw_create(c, path, "", "master@127.0.0.1:5103", 21, ZKH_EPHEMERAL | ZKH_SEQUENTIAL);
    ck_assert_str_eq(pb_name, "info_0000000000");
    ck_assert_str_eq(json_name, "json.info_0000000001");
    ck_assert_str_eq(upid_name, "0000000003");

    assert_cli_protobuf_leads(url);

    /* Followed by a tracker: each deletion hands over to the next lowest. */
    ip = inproc_start(url, true);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5101"));
    raw_delete(c, path, pb_name);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5102"));
    raw_delete(c, path, json_name);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5103"));
    cli(&r, "--zk", url, "--json", NULL);
    ck_assert_int_eq(r.status, 0);
    assert_has(r.out, "\"pid\":\"master@127.0.0.1:5103\"");
    cli_done(&r);
    raw_delete(c, path, upid_name);
    /* Only log_replicas is left: no member, no leader. */
    leader_snapshot_unref(inproc_wait_none(ip, "no master is registered"));

    inproc_stop(ip);
    zkh_client_close(c);
    strbuf_done(&pb);
    free(pb_name);
    free(json_name);
    free(upid_name);
    free(json);
    free(url);
}
END_TEST

/* A lowest znode that cannot be decoded means NO leader (as in Mesos), never
 * the next one: mesos-leader exits 2 and says which znode and why. */
static const struct {
    const char *label;
    const char *data;
    const char *why; /* a piece of the reason */
} bad_leaders[] = {
    {"json.info_", "{\"id\":\"cut-short\",", "invalid JSON"},
    {"json.info_", "{\"id\":\"no-ip\",\"port\":5050}", "required field 'ip' is missing"},
    {"info_", "this is not a protobuf message", ""},
    {"foo_", "{\"id\":\"x\",\"ip\":16777343,\"port\":5050}", "unknown label 'foo'"},
};

START_TEST(rule_undecodable_lowest_gives_no_leader)
{
    char path[32], *url, *bad, *good, want[128], reason[128];
    struct zkh_client *c = client(zk1);
    struct daemon *d;
    struct proc *plain, *all;
    struct cli r1, r2;
    json_object *j;

    snprintf(path, sizeof(path), "/r2-%d/mesos", _i);
    url = zk_url(zk1, path);
    bad = raw_create(c, path, bad_leaders[_i].label, bad_leaders[_i].data,
                     strlen(bad_leaders[_i].data), ZKH_EPHEMERAL | ZKH_SEQUENTIAL);
    good = raw_json_master(c, path, "good", 5104);
    snprintf(reason, sizeof(reason), "the leading znode '%s' cannot be used", bad);

    /* Both wait for the whole timeout: run them side by side. */
    plain = cli_start("--zk", url, "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);
    all = cli_start("--zk", url, "--timeout", CLI_NO_LEADER_TIMEOUT, "--all", NULL);
    d = daemon_start(url);
    cli_finish(plain, &r1);
    cli_finish(all, &r2);
    ck_assert_int_eq(r1.status, 2);
    ck_assert_str_eq(r1.out, ""); /* never the next one */
    assert_has(r1.err, reason);
    assert_has(r1.err, bad_leaders[_i].why);
    ck_assert_int_eq(r2.status, 2);
    snprintf(want, sizeof(want), "- %s unusable: ", bad);
    ck_assert_msg(strncmp(r2.out, want, strlen(want)) == 0, "--all printed '%s'", r2.out);
    snprintf(want, sizeof(want), "\n127.0.0.1:5104 %s standby\n", good);
    assert_has(r2.out, want);
    cli_done(&r1);
    cli_done(&r2);

    j = daemon_wait((struct daemon_expect){
        .d = d, .state = "none", .session = "connected", .reason_has = reason});
    ck_assert(json_object_is_type(jget(j, "leader"), json_type_null));
    json_object_put(j);

    /* Once the bad znode goes, the next one leads. */
    raw_delete(c, path, bad);
    json_object_put(daemon_wait_leader(d, "127.0.0.1:5104"));
    assert_cli_prints(url, "127.0.0.1:5104");

    daemon_stop(d);
    zkh_client_close(c);
    free(bad);
    free(good);
    free(url);
}
END_TEST

/* Sequence numbers compare as numbers, gaps are fine: the leader's znode
 * appears with a gap, then an unpadded lower number leads although it sorts
 * after as text, then a wrapped (negative) sequence leads. */
START_TEST(rule_gaps_and_numeric_order)
{
    static const char path[] = "/r3/mesos";
    char *url = zk_url(zk1, path), *first, *json, lower[64], want[256];
    struct zkh_client *c = client(zk1);
    struct inproc *ip;
    const struct leader_snapshot *s;
    struct cli r;
    long seq;

    ck_assert_int_eq(zkh_client_create_path(c, path), 0);
    ip = inproc_start(url, true);
    leader_snapshot_unref(inproc_wait_none(ip, "no master is registered"));
    /* Each create and delete of a child advances the parent's counter. */
    for (int i = 0; i < 3; i++) {
        char *burn = raw_create(c, path, "burn", NULL, 0, 0);
        raw_delete(c, path, burn);
        free(burn);
    }
    first = raw_json_master(c, path, "first", 5105);
    seq = strtol(first + strlen("json.info_"), NULL, 10);
    ck_assert_msg(seq >= 3, "no gap before '%s'", first);
    s = inproc_wait_leader(ip, "127.0.0.1:5105");
    ck_assert_int_eq(s->masters[0].sequence, seq);
    leader_snapshot_unref(s);
    assert_cli_prints(url, "127.0.0.1:5105");

    /* "json.info_<seq - 1>" sorts after "json.info_000000000<seq>" as text. */
    snprintf(lower, sizeof(lower), "json.info_%ld", seq - 1);
    json = master_json("lower", 5106);
    free(raw_create(c, path, lower, json, strlen(json), ZKH_EPHEMERAL));
    free(json);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5106"));

    json = master_json("wrapped", 5107);
    free(raw_create(c, path, "json.info_-2147483647", json, strlen(json), ZKH_EPHEMERAL));
    free(json);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5107"));

    cli(&r, "--zk", url, "--all", NULL);
    ck_assert_int_eq(r.status, 0);
    snprintf(want, sizeof(want),
             "127.0.0.1:5107 json.info_-2147483647 leader\n127.0.0.1:5106 %s standby\n"
             "127.0.0.1:5105 %s standby\n",
             lower, first);
    ck_assert_str_eq(r.out, want);
    cli_done(&r);

    inproc_stop(ip);
    zkh_client_close(c);
    free(first);
    free(url);
}
END_TEST

/* ---------------------------------------------------------------------------
 * mesos-leader as scripts use it
 * ------------------------------------------------------------------------- */

START_TEST(cli_exit_codes)
{
    static const char *const bad_urls[] = {
        "http://127.0.0.1:2181/mesos", /* not zk:// */
        "zk://127.0.0.1:2181/",        /* no path below the root */
        "zk://127.0.0.1:2181",         /* no path at all */
        "file:///nonexistent/it_tracking/zk-url",
    };
    char *unreachable, *empty = zk_url(zk1, "/c1/empty"), *missing = zk_url(zk1, "/c1/missing");
    struct zkh_client *c = client(zk1);
    struct proc *p_unreachable, *p_empty, *p_missing;
    struct cli r;

    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        cli(&r, "--zk", bad_urls[i], NULL);
        ck_assert_msg(r.status == 1, "'%s': exit %d", bad_urls[i], r.status);
        assert_has(r.err, "invalid ZooKeeper URL");
        ck_assert_str_eq(r.out, "");
        cli_done(&r);
    }
    cli(&r, "--timeout", "soon", NULL);
    ck_assert_int_eq(r.status, 1);
    cli_done(&r);
    cli(&r, "--no-such-option", NULL);
    ck_assert_int_eq(r.status, 1);
    cli_done(&r);

    /* Nothing listens there: a connection error within the timeout. */
    unreachable = xasprintf("zk://127.0.0.1:%d/c1/mesos", harness_free_port());
    ck_assert_int_eq(zkh_client_create_path(c, "/c1/empty"), 0);
    p_unreachable = cli_start("--zk", unreachable, "--timeout", "1", NULL);
    p_empty = cli_start("--zk", empty, "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);
    p_missing = cli_start("--zk", missing, "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);

    cli_finish(p_unreachable, &r);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    assert_has(r.err, "cannot connect to ZooKeeper");
    cli_done(&r);
    cli_finish(p_empty, &r);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    assert_has(r.err, "no master is registered under '/c1/empty'");
    cli_done(&r);
    cli_finish(p_missing, &r);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    assert_has(r.err, "the path '/c1/missing' does not exist");
    cli_done(&r);

    zkh_client_close(c);
    free(unreachable);
    free(empty);
    free(missing);
}
END_TEST

/* --json prints MasterInfo exactly as the master wrote it in its znode. */
START_TEST(cli_json_as_registered)
{
    char *url = zk_url(zk1, "/c2/mesos"), *data = NULL, *want;
    struct standin *a =
        standin_start(url, (const char *const[]){"--id", "7f0c-json", "--version", "1.9.0", NULL});
    struct zkh_client *c = client(zk1);
    struct cli r;

    ck_assert_int_eq(zkh_client_get(c, a->znode, &data, NULL), 0);
    want = xasprintf("%s\n", data);
    cli(&r, "--zk", url, "--json", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, want);
    cli_done(&r);

    zkh_client_close(c);
    standin_stop(a);
    free(want);
    free(data);
    free(url);
}
END_TEST

/* --all lists every master in election order, the first marked leader. */
START_TEST(cli_all_in_election_order)
{
    char *url = zk_url(zk1, "/c3/mesos"), want[512];
    struct standin *a = standin_start(url, NULL), *b = standin_start(url, NULL);
    struct standin *m3 = standin_start(url, NULL);
    json_object *j, *e;
    struct cli r;

    cli(&r, "--zk", url, "--all", NULL);
    ck_assert_int_eq(r.status, 0);
    snprintf(want, sizeof(want), "%s %s leader\n%s %s standby\n%s %s standby\n", a->address,
             a->name, b->address, b->name, m3->address, m3->name);
    ck_assert_str_eq(r.out, want);
    cli_done(&r);

    standin_stop(b);
    cli(&r, "--zk", url, "--all", "--json", NULL);
    ck_assert_int_eq(r.status, 0);
    j = json_tokener_parse(r.out);
    ck_assert_msg(j && json_object_is_type(j, json_type_array), "not a JSON array: %s", r.out);
    ck_assert_int_eq(json_object_array_length(j), 2);
    e = json_object_array_get_idx(j, 0);
    ck_assert_str_eq(jstr(e, "znode"), a->name);
    ck_assert_str_eq(jstr(e, "address"), a->address);
    ck_assert(json_object_get_boolean(jget(e, "leader")));
    ck_assert_int_eq(jint(e, "info.port"), a->port);
    e = json_object_array_get_idx(j, 1);
    ck_assert_str_eq(jstr(e, "znode"), m3->name);
    ck_assert(!json_object_get_boolean(jget(e, "leader")));
    json_object_put(j);
    cli_done(&r);

    standin_stop(a);
    standin_stop(m3);
    free(url);
}
END_TEST

/* file:// names a file holding the URL, as Mesos's --zk accepts. */
START_TEST(cli_file_url)
{
    char *url = zk_url(zk1, "/c4/mesos"), *dir = harness_mkdtemp("it-tracking");
    char *file = xasprintf("%s/zk", dir), *file_url = xasprintf("file://%s", file);
    char *content = xasprintf("  %s\n", url);
    struct standin *a = standin_start(url, NULL);

    ck_assert_int_eq(harness_write_file(file, content, strlen(content)), 0);
    assert_cli_prints(file_url, a->address);

    standin_stop(a);
    harness_rm_rf(dir);
    free(content);
    free(file_url);
    free(file);
    free(dir);
    free(url);
}
END_TEST

/* A path with a digest ACL only: without credentials (or with wrong ones)
 * nobody can list it, so no leader within the timeout and the reason; with
 * the credentials in the URL, the leader. The password never shows. */
START_TEST(acl_digest_credentials)
{
    static const char path[] = "/c5/mesos";
    const char *hosts = zkh_connect_string(zk1);
    char *id = zkh_digest_id("bob", "s3cret");
    struct zkh_acl acl[] = {{"digest", id, ZKH_PERM_ALL}};
    struct zkh_client *bob = zkh_client_open(hosts, "bob:s3cret");
    char *plain = zk_url(zk1, path), *good = xasprintf("zk://bob:s3cret@%s%s", hosts, path);
    char *wrong = xasprintf("zk://bob:guess@%s%s", hosts, path), *body = NULL;
    struct standin *a;
    struct proc *p_plain, *p_wrong;
    struct daemon *d;
    struct cli r;
    json_object *j;

    ck_assert_msg(bob, "%s", harness_error());
    ck_assert_int_eq(zkh_client_create_path(bob, path), 0);
    ck_assert_int_eq(zkh_client_set_acl(bob, path, acl, 1), 0);
    a = standin_start(good, NULL);

    p_plain = cli_start("--zk", plain, "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);
    p_wrong = cli_start("--zk", wrong, "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);
    cli_finish(p_plain, &r);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    assert_has(r.err, "not allowed to read '/c5/mesos'");
    cli_done(&r);
    cli_finish(p_wrong, &r);
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, "not allowed to read '/c5/mesos'");
    ck_assert_msg(!strstr(r.err, "guess"), "the password shows: %s", r.err);
    cli_done(&r);

    assert_cli_prints(good, a->address);

    d = daemon_start(good);
    json_object_put(daemon_wait_leader(d, a->address));
    j = daemon_get(d, &body);
    ck_assert_msg(!strstr(body, "s3cret"), "the password shows: %s", body);
    assert_has(jstr(j, "zookeeper.url"), "zk://bob:***@");
    json_object_put(j);
    free(body);

    daemon_stop(d);
    standin_stop(a);
    zkh_client_close(bob);
    free(wrong);
    free(good);
    free(plain);
    free(id);
}
END_TEST

/* A nested election path works like any other. */
START_TEST(nested_path)
{
    char *url = zk_url(zk1, "/n1/a/b/mesos");
    struct standin *a = standin_start(url, NULL);
    struct daemon *d = daemon_start(url);

    assert_cli_prints(url, a->address);
    json_object_put(daemon_wait_leader(d, a->address));

    daemon_stop(d);
    standin_stop(a);
    free(url);
}
END_TEST

struct watch_arg {
    struct zk_cluster *zk;
    const char *path;
    int sessions; /* how many sessions should watch it */
    char *last;   /* the last answer to "wchp" */
};

/* Whether "wchp" (watches by path) lists @path with enough sessions. */
static bool path_watched(void *arg)
{
    struct watch_arg *w = arg;
    char *at;
    int n = 0;

    free(w->last);
    w->last = NULL;
    if (zkh_4lw(w->zk, 0, "wchp", &w->last) < 0)
        return false;
    at = strstr(w->last, w->path);
    if (!at || at[strlen(w->path)] != '\n')
        return false;
    /* The sessions follow, one per line, indented, until the next path. */
    for (at = strchr(at, '\n'); at && at[1] && at[1] != '/'; at = strchr(at + 1, '\n'))
        n += strncmp(at + 1, "\t0x", 3) == 0;
    return n >= w->sessions;
}

/* The path is created only after tracking started: the tracker says so,
 * waits on a ZooKeeper watch (no polling) and follows once it exists. */
START_TEST(path_created_after_start)
{
    static const char path[] = "/late/a/b/mesos";
    char *url = zk_url(zk1, path);
    struct zkh_client *c = client(zk1);
    struct inproc *ip = inproc_start(url, false);
    struct watch_arg wa;
    struct daemon *d = daemon_start(url);
    const struct leader_snapshot *s;
    struct standin *a;
    json_object *j;
    uint64_t gen;

    s = inproc_wait_none(ip, "the path '/late/a/b/mesos' does not exist");
    gen = s->generation;
    leader_snapshot_unref(s);
    j = daemon_wait((struct daemon_expect){
        .d = d, .state = "none", .session = "connected", .reason_has = "does not exist"});
    json_object_put(j);
    /* ZooKeeper holds a watch on the missing path for each of them... */
    wa = (struct watch_arg){zk1, path, 2, NULL};
    ck_assert_msg(wait_until(path_watched, &wa, WAIT_MS),
                  "not 2 sessions watching '%s'; wchp says:\n%s", path, wa.last);
    free(wa.last);
    /* ... and nothing happens meanwhile (nothing to publish, no retries). */
    ck_assert_int_eq(leader_store_wait(ip->store, gen, 1000), -ETIMEDOUT);

    ck_assert_int_eq(zkh_client_create_path(c, path), 0);
    leader_snapshot_unref(inproc_wait_none(ip, "no master is registered"));
    a = standin_start(url, NULL);
    leader_snapshot_unref(inproc_wait_leader(ip, a->address));
    json_object_put(daemon_wait_leader(d, a->address));

    daemon_stop(d);
    inproc_stop(ip);
    standin_stop(a);
    zkh_client_close(c);
    free(url);
}
END_TEST

/* ---------------------------------------------------------------------------
 * ZooKeeper itself goes away
 * ------------------------------------------------------------------------- */

/* ZooKeeper is gone (the leader was @address): the daemon keeps the leader
 * while the session may live ("connecting"), then reports none ("expired");
 * so does the tracker; mesos-leader cannot connect. */
static void assert_zookeeper_gone(struct daemon *d, struct inproc *ip, const char *url,
                                  const char *address)
{
    const struct leader_snapshot *s;
    json_object *j;
    struct cli r;

    json_object_put(daemon_wait((struct daemon_expect){
        .d = d, .state = "known", .address = address, .session = "connecting"}));
    j = daemon_wait((struct daemon_expect){
        .d = d, .state = "none", .session = "expired", .reason_has = "session expired"});
    ck_assert(json_object_is_type(jget(j, "leader"), json_type_null));
    json_object_put(j);
    s = inproc_wait(ip, (struct snap_expect){.state = LEADER_NONE, .check_state = true});
    ck_assert_int_ne(s->session, ZK_SESSION_CONNECTED);
    leader_snapshot_unref(s);
    cli(&r, "--zk", url, "--timeout", "1", NULL);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "cannot connect to ZooKeeper");
    cli_done(&r);
}

/* The daemon's log names a ZooKeeper session established after the first
 * one, with another id. */
static void assert_new_session(struct daemon *d)
{
    char *log = proc_output(d->p, PROC_STDERR), *first, *last = NULL;
    unsigned long long id1 = 0, id2 = 0;

    first = strstr(log, "ZooKeeper session 0x");
    ck_assert_msg(first, "no session in the daemon's log:\n%s", log);
    for (char *at = first; at; at = strstr(at + 1, "ZooKeeper session 0x"))
        last = at;
    ck_assert(sscanf(first, "ZooKeeper session 0x%llx", &id1) == 1);
    ck_assert(sscanf(last, "ZooKeeper session 0x%llx", &id2) == 1);
    ck_assert_msg(id1 != id2 && strstr(last, "established"), "no new session:\n%s", log);
    free(log);
}

/* ZooKeeper is stopped for longer than the session timeout, then started
 * again: the daemon keeps the leader while the session may live
 * ("connecting"), then reports none ("expired"), and resumes by itself with
 * a new session and a working watch. This test has its own server. */
START_TEST(zk_restart_tracking_resumes)
{
    static const char path[] = "/z1/mesos";
    struct zk_cluster *zk = start_cluster(1);
    char *url = zk_url(zk, path), *json = master_json("persistent", 5201), *name;
    struct zkh_client *c = client(zk);
    struct inproc *ip;
    struct daemon *d;
    json_object *j;

    /* A persistent member: it outlives the restart (a master's session
     * would not, and the test is about our session). */
    name = raw_create(c, path, "json.info_", json, strlen(json), ZKH_SEQUENTIAL);
    zkh_client_close(c);
    ip = inproc_start(url, false);
    d = daemon_start(url);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5201"));
    json_object_put(daemon_wait_leader(d, "127.0.0.1:5201"));

    ck_assert_int_eq(zkh_stop_node(zk, 0), 0);
    assert_zookeeper_gone(d, ip, url, "127.0.0.1:5201");

    ck_assert_int_eq(zkh_start_node(zk, 0), 0);
    j = daemon_wait_leader(d, "127.0.0.1:5201");
    ck_assert_str_eq(jstr(j, "leader.znode"), name);
    /* Losing our session is no leader change: the same leader throughout. */
    ck_assert_int_eq(jint(j, "leader_changes"), 1);
    json_object_put(j);
    assert_new_session(d);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5201"));
    assert_cli_prints(url, "127.0.0.1:5201");

    /* The new session watches again: a change is seen (the next master
     * registers before the old one goes: one change, never none). */
    c = client(zk);
    free(raw_json_master(c, path, "after-restart", 5202));
    raw_delete(c, path, name);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5202"));
    j = daemon_wait_leader(d, "127.0.0.1:5202");
    ck_assert_int_eq(jint(j, "leader_changes"), 2);
    json_object_put(j);

    zkh_client_close(c);
    daemon_stop(d);
    inproc_stop(ip);
    zkh_stop(zk);
    free(name);
    free(json);
    free(url);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Ensemble
 * ------------------------------------------------------------------------- */

START_TEST(ensemble_leader_appears)
{
    check_leader_appears(zk3, "/e1/mesos");
}
END_TEST

START_TEST(ensemble_failover_on_stop)
{
    check_failover_on_stop(zk3, "/e2/mesos");
}
END_TEST

START_TEST(ensemble_failover_on_kill9)
{
    check_failover_on_kill9(zk3, "/e3/mesos");
}
END_TEST

/* Waits until the tracker lost its connection and is back (connected, its
 * children read again): at least two more snapshots than @gen (lost,
 * regained) and the current one connected and settled. Fails at once when
 * a snapshot seen since @from does not name @znode as the known leader. */
static void wait_reconnected(struct inproc *ip, struct recorder *rec, size_t from, uint64_t gen,
                             const char *znode)
{
    uint64_t deadline = time_now_ms() + WAIT_MS;

    for (;;) {
        const struct leader_snapshot *s = leader_store_get(ip->store);
        bool back = s->session == ZK_SESSION_CONNECTED && s->settled && s->generation >= gen + 2;
        uint64_t now_gen = s->generation, now = time_now_ms();
        char last[512];

        describe(s, last, sizeof(last));
        leader_snapshot_unref(s);
        recorder_assert_leader(rec, from, znode);
        if (back)
            return;
        ck_assert_msg(now < deadline, "the tracker did not lose and regain its connection; %s",
                      last);
        leader_store_wait(ip->store, now_gen, (int)(deadline - now));
    }
}

/* The current generation. */
static uint64_t generation(struct inproc *ip)
{
    const struct leader_snapshot *s = leader_store_get(ip->store);
    uint64_t gen = s->generation;

    leader_snapshot_unref(s);
    return gen;
}

/* Kills ZooKeeper node @node (one the tracker is connected to) and waits
 * until the tracker has reconnected, failing at once on a snapshot that does
 * not name @znode the known leader. */
static void kill_and_wait_reconnected(struct inproc *ip, struct recorder *rec, int node,
                                      const char *znode)
{
    size_t mark = recorder_count(rec);
    uint64_t gen = generation(ip);

    ck_assert_int_eq(zkh_kill_node(zk3, node), 0);
    wait_reconnected(ip, rec, mark, gen, znode);
}

/* Prints what the recorder saw (how close to the session timeout it came). */
static void recorder_report(struct recorder *r, const char *test)
{
    double longest = recorder_longest_disconnection_ms(r);
    size_t lost = 0;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->n; i++)
        lost += r->seen[i].session != ZK_SESSION_CONNECTED;
    fprintf(stderr,
            "%s: %zu snapshots seen, %zu of them while disconnected (at most %.0f ms in a row, "
            "session timeout %d ms), %llu replaced before seen\n",
            test, r->n, lost, longest, TRACKER_SESSION_MS, (unsigned long long)r->skipped);
    pthread_mutex_unlock(&r->lock);
}

/* The daemon kept @address as the leader: one leader change ever, none to
 * "none" in its log. */
static void assert_daemon_kept_leader(struct daemon *d, const char *address)
{
    json_object *j = daemon_wait_leader(d, address);
    char *log;

    ck_assert_int_eq(jint(j, "leader_changes"), 1);
    json_object_put(j);
    log = proc_output(d->p, PROC_STDERR);
    ck_assert_msg(!strstr(log, "leader changed: now none"), "the daemon lost the leader:\n%s", log);
    free(log);
}

/* One ZooKeeper server is lost, twice: the server the tracker is connected
 * to (a follower), then the quorum leader (every client is disconnected while
 * the two others elect a new one). The tracker reconnects within its session
 * and the leader never becomes unknown: every snapshot it publishes names
 * the same leader. */
START_TEST(ensemble_server_lost_no_gap)
{
    static const char path[] = "/e4/mesos";
    int leader = -1, follower, other;
    char *url, *any_url = zk_url(zk3, path);
    struct standin *a;
    struct inproc *ip;
    struct recorder *rec;
    struct daemon *d;
    const struct leader_snapshot *s;
    uint64_t changes;

    ck_assert_int_eq(zkh_wait_leader(zk3, WAIT_MS, &leader), 0);
    follower = (leader + 1) % 3;
    other = (leader + 2) % 3;
    /* The tracker connects to the hosts in order: the follower first. */
    url = xasprintf("zk://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d%s", zkh_node_port(zk3, follower),
                    zkh_node_port(zk3, other), zkh_node_port(zk3, leader), path);
    zoo_deterministic_conn_order(1);

    /* The master must outlive the election itself: a longer session. */
    a = standin_start(any_url, (const char *const[]){"--zk-session-timeout", "8000", NULL});
    ip = inproc_start(url, false);
    d = daemon_start(any_url);
    s = inproc_wait_leader(ip, a->address);
    changes = s->changes;
    leader_snapshot_unref(s);
    json_object_put(daemon_wait_leader(d, a->address));
    rec = recorder_start(ip->store);

    /* 1. The follower the tracker talks to. */
    kill_and_wait_reconnected(ip, rec, follower, a->name);
    ck_assert_int_eq(zkh_start_node(zk3, follower), 0);
    /* 2. The quorum leader: everyone is disconnected during the election. */
    kill_and_wait_reconnected(ip, rec, leader, a->name);
    ck_assert_int_eq(zkh_wait_leader(zk3, WAIT_MS, NULL), 0);

    recorder_assert_leader(rec, 0, a->name);
    s = leader_store_get(ip->store);
    ck_assert_uint_eq(s->changes, changes); /* never another leader, nor none */
    leader_snapshot_unref(s);
    recorder_report(rec, "ensemble_server_lost_no_gap");
    assert_daemon_kept_leader(d, a->address);
    assert_cli_prints(any_url, a->address);

    ck_assert_int_eq(zkh_start_node(zk3, leader), 0);
    recorder_stop(rec);
    daemon_stop(d);
    inproc_stop(ip);
    standin_stop(a);
    zoo_deterministic_conn_order(0);
    free(any_url);
    free(url);
}
END_TEST

/* ---------------------------------------------------------------------------
 * mesos-leader --watch, --exec, --config
 * ------------------------------------------------------------------------- */

/* Waits until @p printed a line holding @needle on stdout (after the mark). */
static void wait_stdout(struct proc *p, const char *needle)
{
    int r = proc_wait_output(p, PROC_STDOUT, needle, WAIT_MS, NULL);

    if (r < 0) {
        char *out = proc_output(p, PROC_STDOUT), *err = proc_output(p, PROC_STDERR);
        ck_abort_msg("no line with '%s' (%s); stdout:\n%s\nstderr:\n%s", needle, strerror(-r), out,
                     err);
    }
}

/* Ends a watcher with @sig and returns what it printed; asserts exit 0. */
static char *stop_watcher(struct proc *p, int sig)
{
    struct cli r;

    ck_assert_int_eq(proc_signal(p, sig), 0);
    cli_finish(p, &r);
    ck_assert_msg(r.status == 0, "exit %d after signal %d; stderr '%s'", r.status, sig, r.err);
    free(r.err);
    return r.out;
}

/* --watch prints the leader, then one line per change: plain, --json and
 * --all, until SIGTERM or SIGINT, which end it with status 0. */
START_TEST(watch_prints_each_change)
{
    char *url = zk_url(zk1, "/w1/mesos"), *out, *second, want[4096], a1[512], ab[1024], b1[512];
    struct standin *a = standin_start(url, (const char *const[]){"--id", "watch-a", NULL}), *b;
    struct proc *plain = cli_start("--zk", url, "--watch", NULL);
    struct proc *json = cli_start("--zk", url, "--watch", "--json", NULL);
    struct proc *all = cli_start("--zk", url, "--watch", "--all", NULL);
    const char *none = "no leader: no master is registered under '/w1/mesos'";
    json_object *j;

    snprintf(a1, sizeof(a1), "%s %s leader", a->address, a->name);
    wait_stdout(all, a1);
    wait_stdout(plain, a->address);
    wait_stdout(json, "\"watch-a\"");
    b = standin_start(url, (const char *const[]){"--id", "watch-b", NULL});
    snprintf(ab, sizeof(ab), "%s; %s %s standby", a1, b->address, b->name);
    snprintf(b1, sizeof(b1), "%s %s leader", b->address, b->name);
    snprintf(want, sizeof(want), "%s\n%s\n%s\n", a->address, b->address, none);
    wait_stdout(all, ab);
    standin_stop(a);
    wait_stdout(plain, b->address);
    wait_stdout(json, "\"watch-b\"");
    wait_stdout(all, b1);
    standin_stop(b);
    wait_stdout(plain, none);
    wait_stdout(json, "null");
    wait_stdout(all, none);

    out = stop_watcher(plain, SIGTERM);
    ck_assert_str_eq(out, want);
    free(out);
    out = stop_watcher(json, SIGINT);
    second = strchr(out, '\n') + 1;
    j = json_tokener_parse(out); /* parses the first line */
    ck_assert_str_eq(jstr(j, "id"), "watch-a");
    json_object_put(j);
    j = json_tokener_parse(second);
    ck_assert_str_eq(jstr(j, "id"), "watch-b");
    json_object_put(j);
    ck_assert_str_eq(strchr(second, '\n') + 1, "null\n");
    free(out);
    out = stop_watcher(all, SIGTERM);
    snprintf(want, sizeof(want), "%s\n%s\n%s\n%s\n", a1, ab, b1, none);
    ck_assert_str_eq(out, want);
    free(out);
    free(url);
}
END_TEST

/* What the command of watch_exec_one_run_at_a_time uses. */
struct exec_dir {
    char *dir, *runs, *gate, *script;
};

/* The command records the start of a run (with the time, the leader's id
 * from MESOS_LEADER_JSON and MESOS_LEADER), waits until the test lets it
 * go (a line in a FIFO), and records its end. Each record is one line
 * appended with O_APPEND in one write: no lock needed. */
static struct exec_dir exec_dir_new(void)
{
    struct exec_dir e = {.dir = harness_mkdtemp("it-exec")};
    char *text;

    e.runs = xasprintf("%s/runs", e.dir);
    e.gate = xasprintf("%s/gate", e.dir);
    e.script = xasprintf("%s/record.sh", e.dir);
    ck_assert_int_eq(mkfifo(e.gate, 0600), 0);
    text = xasprintf("json=$(printf '%%s' \"$MESOS_LEADER_JSON\" | grep -o '\"id\":\"[^\"]*\"' ||\n"
                     "      printf '%%s' \"$MESOS_LEADER_JSON\")\n"
                     "echo \"start $(date +%%s%%N) json=$json leader=$MESOS_LEADER\" >>'%s'\n"
                     "read _ <'%s'\n"
                     "echo \"end $(date +%%s%%N)\" >>'%s'\n",
                     e.runs, e.gate, e.runs);
    ck_assert_int_eq(harness_write_file(e.script, text, strlen(text)), 0);
    free(text);
    return e;
}

static void exec_dir_free(struct exec_dir *e)
{
    harness_rm_rf(e->dir);
    free(e->dir);
    free(e->runs);
    free(e->gate);
    free(e->script);
}

/* Counts the lines of the record starting with @word. */
static int count_lines(const char *path, const char *word)
{
    char *text = NULL;
    int n = 0;

    if (harness_read_file(path, &text, NULL) < 0)
        return 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, word, strlen(word)) == 0)
            n++;
    }
    free(text);
    return n;
}

struct run_count {
    const char *path, *word;
    int n;
};

static bool has_runs(void *arg)
{
    struct run_count *c = arg;

    return count_lines(c->path, c->word) >= c->n;
}

/* Lets the run waiting on the gate go on: opening the FIFO without a
 * reader fails, so this succeeds once the command waits on it. */
static bool release_once(void *arg)
{
    const struct exec_dir *e = arg;
    int fd = open(e->gate, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return false;
    ck_assert_int_eq(write(fd, "\n", 1), 1);
    close(fd);
    return true;
}

/* Waits for run @n to start, checks that it started after run n-1 ended,
 * that it was given @id and @leader, and lets it go on if @release. */
static void expect_run(const struct exec_dir *e, int n, const char *id, const char *leader,
                       bool release)
{
    struct run_count starts = {e->runs, "start ", n};
    char *text = NULL, want[256];
    const char *last;

    ck_assert_msg(wait_until(has_runs, &starts, WAIT_MS), "run %d did not start", n);
    ck_assert_int_eq(count_lines(e->runs, "start "), n);
    ck_assert_int_eq(count_lines(e->runs, "end "), n - 1);
    ck_assert_int_eq(harness_read_file(e->runs, &text, NULL), 0);
    last = text;
    for (const char *l = text; (l = strstr(l, "start ")); l++)
        last = l;
    snprintf(want, sizeof(want), " json=%s leader=%s\n", id, leader);
    ck_assert_msg(strstr(last, want), "run %d: '%s' lacks '%s'", n, last, want);
    free(text);
    if (release)
        ck_assert_msg(wait_until(release_once, (void *)e, WAIT_MS), "run %d never waited", n);
}

/* The record alternates start and end lines, each run starting after the
 * previous one ended. */
static void assert_no_overlap(const char *path, int runs)
{
    char *text = NULL, *save = NULL;
    long long last_end = 0, start = 0, t;
    int i = 0;

    ck_assert_int_eq(harness_read_file(path, &text, NULL), 0);
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), i++) {
        bool is_start = strncmp(l, "start ", 6) == 0;
        ck_assert_msg(is_start == (i % 2 == 0), "line %d out of order: '%s'", i, l);
        t = atoll(strchr(l, ' ') + 1);
        ck_assert_msg(is_start ? t >= last_end : t >= start, "line %d: '%s' overlaps", i, l);
        if (is_start)
            start = t;
        else
            last_end = t;
    }
    ck_assert_int_eq(i, 2 * runs);
    free(text);
}

/* --exec runs the command at start and once per change, never two at once;
 * changes while it runs make one later run, with the leader of the moment. */
START_TEST(watch_exec_one_run_at_a_time)
{
    char *url = zk_url(zk1, "/w2/mesos"), *out;
    struct exec_dir e = exec_dir_new();
    struct standin *a = standin_start(url, (const char *const[]){"--id", "x-a", NULL}), *b, *c, *d;
    struct proc *w;

    w = cli_start("--zk", url, "--watch", "--verbose", "--exec", "sh", e.script, NULL);
    expect_run(&e, 1, "\"id\":\"x-a\"", a->address, true);
    b = standin_start(url, (const char *const[]){"--id", "x-b", NULL}); /* a standby: no run */
    standin_stop(a);
    expect_run(&e, 2, "\"id\":\"x-b\"", b->address, false);
    /* Two changes while run 2 waits (the watcher logs each): one run 3. */
    c = standin_start(url, (const char *const[]){"--id", "x-c", NULL});
    standin_stop(b);
    ck_assert_int_eq(proc_wait_output(w, PROC_STDERR, c->address, WAIT_MS, NULL), 0);
    d = standin_start(url, (const char *const[]){"--id", "x-d", NULL});
    standin_stop(c);
    ck_assert_int_eq(proc_wait_output(w, PROC_STDERR, d->address, WAIT_MS, NULL), 0);
    ck_assert_msg(wait_until(release_once, &e, WAIT_MS), "run 2 never waited");
    expect_run(&e, 3, "\"id\":\"x-d\"", d->address, true);
    standin_stop(d);
    expect_run(&e, 4, "null", "", true);
    ck_assert(wait_until(has_runs, &(struct run_count){e.runs, "end ", 4}, WAIT_MS));

    out = stop_watcher(w, SIGTERM);
    ck_assert_str_eq(out, ""); /* with --exec, the command speaks */
    free(out);
    assert_no_overlap(e.runs, 4);
    exec_dir_free(&e);
    free(url);
}
END_TEST

/* --config and --cluster take the URL from the daemon's file. */
START_TEST(cli_config_and_cluster)
{
    char *url_a = zk_url(zk1, "/w3/a"), *url_b = zk_url(zk1, "/w3/b");
    char *dir = harness_mkdtemp("it-tracking"), *multi = xasprintf("%s/multi.conf", dir);
    char *single = xasprintf("%s/single.conf", dir), *text;
    struct standin *a = standin_start(url_a, NULL), *b = standin_start(url_b, NULL);
    struct cli r;

    text = xasprintf("[cluster a]\nzk = %s\nlisten = 127.0.0.1:5050\n\n[cluster b]\nzk = %s\n"
                     "listen = 127.0.0.1:5051\n",
                     url_a, url_b);
    ck_assert_int_eq(harness_write_file(multi, text, strlen(text)), 0);
    free(text);
    text = xasprintf("zk = %s\n", url_b);
    ck_assert_int_eq(harness_write_file(single, text, strlen(text)), 0);
    free(text);

    cli(&r, "--config", multi, "--cluster", "b", NULL);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    text = xasprintf("%s\n", b->address);
    ck_assert_str_eq(r.out, text);
    free(text);
    cli_done(&r);
    cli(&r, "--config", single, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(strtok(r.out, "\n"), b->address);
    cli_done(&r);
    cli(&r, "--config", multi, NULL);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "describes several clusters: name one with --cluster (a, b)");
    cli_done(&r);
    cli(&r, "--config", multi, "--cluster", "c", NULL);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "has no cluster 'c' (it has: a, b)");
    cli_done(&r);
    cli(&r, "--config", single, "--cluster", "a", NULL);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "has no [cluster] sections");
    cli_done(&r);

    standin_stop(a);
    standin_stop(b);
    harness_rm_rf(dir);
    free(multi);
    free(single);
    free(dir);
    free(url_a);
    free(url_b);
}
END_TEST

/* Every line of --help fits 80 columns; a bad URL names where it came from;
 * usage errors say what is wrong. */
START_TEST(cli_help_and_usage_errors)
{
    char *bin = harness_builddir_path("src/cmd/mesos-leader"), *save = NULL;
    char *url = zk_url(zk1, "/w4/mesos");
    struct proc *p;
    struct cli r;

    cli(&r, "--help", NULL);
    ck_assert_int_eq(r.status, 0);
    /* The line naming the daemon's configuration file is as long as the
     * install prefix makes it: left out. */
    for (char *l = strtok_r(r.out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        ck_assert_msg(strlen(l) <= 80 || strstr(l, "mesos-leaderd.conf"), "%zu columns: '%s'",
                      strlen(l), l);
    cli_done(&r);
    p = proc_start((const char *[]){bin, NULL}, (const char *[]){"MESOS_LEADERD_ZK=bogus", NULL},
                   NULL);
    ck_assert_ptr_nonnull(p);
    cli_finish(p, &r);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "invalid ZooKeeper URL (MESOS_LEADERD_ZK): ");
    cli_done(&r);
    cli(&r, "--zk", NULL);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "option '--zk' needs a value");
    cli_done(&r);
    cli(&r, "--exec", "true", NULL);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "add --watch");
    cli_done(&r);
    cli(&r, "--zk", url, "--watch", "--exec", "/nonexistent/cmd", NULL);
    ck_assert_int_eq(r.status, 1);
    assert_has(r.err, "cannot run '/nonexistent/cmd': No such file or directory");
    cli_done(&r);
    free(url);
    free(bin);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Regressions: bugs of src/zk/tracker.c this suite found
 * ------------------------------------------------------------------------- */

/* Writes a configuration file naming the ZooKeeper URL. */
static void write_config(const char *file, const char *url)
{
    char *text = xasprintf("# it_tracking\nzk = %s\n", url);

    ck_assert_int_eq(harness_write_file(file, text, strlen(text)), 0);
    free(text);
}

/* A reload (SIGHUP) that moves mesos-leaderd to another election path follows
 * the new group's leader. Two fresh groups both start at json.info_0000000000:
 * the tracker once kept the data read under the old path for the new path's
 * znode of the same name (seed_from + cache_prune), so the daemon went on
 * naming, and routing to, the old group's leader. */
START_TEST(reload_to_another_path_follows_its_leader)
{
    struct zkh_client *c = client(zk1);
    char *old_url = zk_url(zk1, "/b1/mesos"), *new_url = zk_url(zk1, "/b2/mesos");
    char *old_name = raw_json_master(c, "/b1/mesos", "old-group", 5401);
    char *new_name = raw_json_master(c, "/b2/mesos", "new-group", 5402);
    char *dir = harness_mkdtemp("it-tracking"), *file = xasprintf("%s/leaderd.conf", dir);
    char *bin = harness_builddir_path("src/cmd/mesos-leaderd");
    const char *argv[] = {bin,  "--config", file, "--listen", "127.0.0.1:0", "--zk-session-timeout",
                          "2s", NULL};
    struct daemon d = {0};
    char *line = NULL;

    ck_assert_str_eq(old_name, new_name); /* both groups are fresh */
    write_config(file, old_url);
    d.p = proc_start(argv, NULL, NULL);
    ck_assert_msg(d.p, "%s", harness_error());
    ck_assert_int_eq(proc_wait_output(d.p, PROC_STDERR, " listening on 127.0.0.1:", WAIT_MS, &line),
                     0);
    d.port = atoi(strstr(line, " listening on 127.0.0.1:") + strlen(" listening on 127.0.0.1:"));
    snprintf(d.url, sizeof(d.url), "http://127.0.0.1:%d/leaderd/v1/leader", d.port);
    json_object_put(daemon_wait_leader(&d, "127.0.0.1:5401"));

    write_config(file, new_url);
    proc_output_mark(d.p, PROC_STDERR);
    ck_assert_int_eq(proc_signal(d.p, SIGHUP), 0);
    ck_assert_int_eq(proc_wait_output(d.p, PROC_STDERR, "configuration reloaded", WAIT_MS, NULL),
                     0);
    json_object_put(daemon_wait((struct daemon_expect){
        .d = &d, .state = "known", .address = "127.0.0.1:5402", .session = "connected"}));

    proc_stop(d.p);
    harness_rm_rf(dir);
    zkh_client_close(c);
    free(line);
    free(bin);
    free(file);
    free(dir);
    free(old_name);
    free(new_name);
    free(old_url);
    free(new_url);
}
END_TEST

/* The same at the tracker's interface: started on another path with the old
 * view as its seed (as the daemon's reload does), it reads the data again. */
START_TEST(seeded_tracker_rereads_another_path)
{
    struct zkh_client *c = client(zk1);
    char *old_url = zk_url(zk1, "/b4/mesos"), *new_url = zk_url(zk1, "/b5/mesos");
    char *old_name = raw_json_master(c, "/b4/mesos", "old-group", 5405);
    char *new_name = raw_json_master(c, "/b5/mesos", "new-group", 5406);
    struct errbuf err = {{0}};
    struct zkurl url = {0};
    const struct leader_snapshot *seed;
    struct tracker_config cfg;
    struct inproc *ip;

    ck_assert_str_eq(old_name, new_name);
    ip = inproc_start(old_url, true);
    leader_snapshot_unref(inproc_wait_leader(ip, "127.0.0.1:5405"));
    seed = leader_store_get(ip->store);
    tracker_stop(ip->t);
    ck_assert_int_eq(zkurl_parse(new_url, &url, &err), 0);
    cfg = (struct tracker_config){
        .url = &url, .session_timeout_ms = TRACKER_SESSION_MS, .read_all = true, .seed = seed};
    ck_assert_int_eq(tracker_start(&cfg, ip->store, &ip->t), 0);
    leader_snapshot_unref(seed);
    leader_snapshot_unref(inproc_wait(ip, (struct snap_expect){.state = LEADER_KNOWN,
                                                               .check_state = true,
                                                               .address = "127.0.0.1:5406",
                                                               .connected = true}));
    inproc_stop(ip);
    zkurl_done(&url);
    zkh_client_close(c);
    free(old_name);
    free(new_name);
    free(old_url);
    free(new_url);
}
END_TEST

/* The leading znode's data cannot be read (its ACL hides it): the leader is
 * unusable, as with undecodable data: no leader, and why. The tracker once
 * retried silently and reported "electing: reading the data of the new
 * leader" for ever. */
START_TEST(unreadable_leader_znode_gives_no_leader)
{
    static const char path[] = "/b3/mesos";
    const char *hosts = zkh_connect_string(zk1);
    char *id = zkh_digest_id("carol", "pw"), *url = zk_url(zk1, path), *leader, *znode, *why;
    struct zkh_acl acl[] = {{"digest", id, ZKH_PERM_ALL}};
    struct zkh_client *carol = zkh_client_open(hosts, "carol:pw");
    struct inproc *ip;
    struct cli r;

    ck_assert_msg(carol, "%s", harness_error());
    leader = raw_json_master(carol, path, "hidden", 5403);
    znode = xasprintf("%s/%s", path, leader);
    ck_assert_int_eq(zkh_client_set_acl(carol, znode, acl, 1), 0);
    free(raw_json_master(carol, path, "visible", 5404));
    why = xasprintf("the leading znode '%s' cannot be used", leader);

    ip = inproc_start(url, true);
    leader_snapshot_unref(inproc_wait(
        ip, (struct snap_expect){.state = LEADER_NONE, .check_state = true, .reason_has = why}));
    inproc_stop(ip);
    cli(&r, "--zk", url, "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);
    ck_assert_int_eq(r.status, 2);
    assert_has(r.err, why);
    assert_has(r.err, "not allowed");
    cli_done(&r);

    zkh_client_close(carol);
    free(why);
    free(znode);
    free(leader);
    free(url);
    free(id);
}
END_TEST

/* mesos-leader --all with a standby whose data cannot be read: the leader
 * and the standby shown as unusable, with the reason; exit 0. The snapshot
 * once never settled, so --all printed the leader, then "no leader within
 * 1.5 s: unknown" and exited 2. */
START_TEST(all_with_unreadable_standby)
{
    static const char path[] = "/b6/mesos";
    const char *hosts = zkh_connect_string(zk1);
    char *id = zkh_digest_id("carol", "pw"), *url = zk_url(zk1, path), *leader, *standby;
    char *znode, want[256];
    struct zkh_acl acl[] = {{"digest", id, ZKH_PERM_ALL}};
    struct zkh_client *carol = zkh_client_open(hosts, "carol:pw");
    struct cli r;

    ck_assert_msg(carol, "%s", harness_error());
    leader = raw_json_master(carol, path, "visible", 5407);
    standby = raw_json_master(carol, path, "hidden", 5408);
    znode = xasprintf("%s/%s", path, standby);
    ck_assert_int_eq(zkh_client_set_acl(carol, znode, acl, 1), 0);

    cli(&r, "--zk", url, "--all", "--timeout", CLI_NO_LEADER_TIMEOUT, NULL);
    snprintf(want, sizeof(want), "127.0.0.1:5407 %s leader\n- %s unusable: ", leader, standby);
    ck_assert_msg(r.status == 0 && strncmp(r.out, want, strlen(want)) == 0,
                  "mesos-leader --all: exit %d, stdout '%s', stderr '%s'", r.status, r.out, r.err);
    assert_has(r.out, "not allowed");
    cli_done(&r);

    zkh_client_close(carol);
    free(znode);
    free(standby);
    free(leader);
    free(url);
    free(id);
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

static Suite *tracking_suite(void)
{
    Suite *s = suite_create("tracking");
    TCase *standalone = tcase("standalone"), *rule = tcase("leader-rule");
    TCase *cli_tc = tcase("mesos-leader"), *restart = tcase("zookeeper-restart");
    TCase *ensemble = tcase("ensemble"), *regressions = tcase("regressions");

    tcase_add_unchecked_fixture(standalone, standalone_setup, NULL);
    tcase_add_test(standalone, standalone_leader_appears);
    tcase_add_test(standalone, standalone_failover_on_stop);
    tcase_add_test(standalone, standalone_failover_on_kill9);
    tcase_add_test(standalone, all_masters_gone_no_leader);
    tcase_add_test(standalone, nested_path);
    tcase_add_test(standalone, path_created_after_start);
    suite_add_tcase(s, standalone);

    tcase_add_unchecked_fixture(rule, standalone_setup, NULL);
    tcase_add_test(rule, rule_lowest_sequence_across_labels);
    tcase_add_loop_test(rule, rule_undecodable_lowest_gives_no_leader, 0,
                        (int)(sizeof(bad_leaders) / sizeof(bad_leaders[0])));
    tcase_add_test(rule, rule_gaps_and_numeric_order);
    suite_add_tcase(s, rule);

    tcase_add_unchecked_fixture(cli_tc, standalone_setup, NULL);
    tcase_add_test(cli_tc, cli_exit_codes);
    tcase_add_test(cli_tc, cli_json_as_registered);
    tcase_add_test(cli_tc, cli_all_in_election_order);
    tcase_add_test(cli_tc, cli_file_url);
    tcase_add_test(cli_tc, acl_digest_credentials);
    tcase_add_test(cli_tc, watch_prints_each_change);
    tcase_add_test(cli_tc, watch_exec_one_run_at_a_time);
    tcase_add_test(cli_tc, cli_config_and_cluster);
    tcase_add_test(cli_tc, cli_help_and_usage_errors);
    suite_add_tcase(s, cli_tc);

    tcase_add_test(restart, zk_restart_tracking_resumes);
    suite_add_tcase(s, restart);

    tcase_add_unchecked_fixture(regressions, standalone_setup, NULL);
    tcase_add_test(regressions, reload_to_another_path_follows_its_leader);
    tcase_add_test(regressions, seeded_tracker_rereads_another_path);
    tcase_add_test(regressions, unreadable_leader_znode_gives_no_leader);
    tcase_add_test(regressions, all_with_unreadable_standby);
    suite_add_tcase(s, regressions);

    tcase_add_unchecked_fixture(ensemble, ensemble_setup, ensemble_teardown);
    tcase_add_test(ensemble, ensemble_leader_appears);
    tcase_add_test(ensemble, ensemble_failover_on_stop);
    tcase_add_test(ensemble, ensemble_failover_on_kill9);
    tcase_add_test(ensemble, ensemble_server_lost_no_gap);
    suite_add_tcase(s, ensemble);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    zkh_skip_if_unavailable();
    log_init("it_tracking", LOG_WARNING);
    sr = srunner_create(tracking_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    zkh_stop(zk1);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
