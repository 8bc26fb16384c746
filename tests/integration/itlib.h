/* itlib.h: the pieces integration tests of the daemon share: one ZooKeeper
 * per suite, stand-in masters, the daemon, and reading their answers.
 *
 * Built on tests/harness/harness.h; every wait is a wait for a condition. A
 * function that cannot do its job fails the current check test with a
 * message (ck_abort_msg), so tests read as a list of steps. */
#ifndef MLD_ITLIB_H
#define MLD_ITLIB_H

#include "harness/harness.h"

#include <check.h>
#include <json-c/json.h>
#include <stdbool.h>

/* How long a step may take before the test fails. */
#define IT_TIMEOUT_MS 20000

/* How long recovering from a ZooKeeper outage may take (a loaded CI machine
 * restarts a Java ensemble slowly). */
#define IT_RECOVERY_MS 60000

/* A suite of one test case holding @tests (NULL-terminated), each allowed
 * @timeout_s seconds. */
Suite *it_suite(const char *name, const TTest *const *tests, int timeout_s);

/* Starts the suite's ZooKeeper (@nodes 1 or 3), runs @s (each test in a
 * forked child), stops ZooKeeper, and returns the exit status for main().
 * Exits 77 when Java or ZooKeeper is missing. */
int it_run(Suite *s, int nodes);

/* The suite's cluster. */
struct zk_cluster *it_zk(void);

/* A zk:// URL with an election path no other test uses; caller frees. */
char *it_new_zk_url(void);

/* A stand-in master. */
struct it_master {
    struct proc *proc;
    int port;
    char *znode;
    char id[64];
    char base[64];    /* "http://127.0.0.1:PORT" */
    char address[32]; /* "127.0.0.1:PORT" */
};

/* Starts a stand-in registered under @zk_url (NULL: --no-register) with id
 * @id and extra options (NULL-terminated, may be NULL); waits until ready. */
struct it_master *it_master_start(const char *zk_url, const char *id, const char *const *extra);

/* Stops it cleanly (SIGTERM: its znode goes at once) and frees it. */
void it_master_stop(struct it_master *m);

/* Kills it with SIGKILL (its znode stays until its session expires). */
void it_master_kill(struct it_master *m);

/* Sets fault switches: @json is an object for POST /__standin/faults. */
void it_master_faults(struct it_master *m, const char *json);

/* The requests the master received (GET /__standin/requests), parsed; the
 * caller puts it. */
json_object *it_master_requests(struct it_master *m);

/* How many requests the master received (excluding control ones). */
int it_master_request_count(struct it_master *m);
/* How many of the recorded requests have exactly this request target. */
int it_master_request_count_for(struct it_master *m, const char *target);

/* wait_until() predicate: @m (a struct it_master) received a request. */
bool it_master_has_requests(void *m);

/* Forgets them (DELETE /__standin/requests). */
void it_master_clear_requests(struct it_master *m);

/* GET /__standin/status, parsed; the caller puts it. */
json_object *it_master_status(struct it_master *m);

/* The daemon under test. */
struct it_daemon {
    struct proc *proc;
    int port;
    char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Starts mesos-leaderd on a free port following @zk_url, with extra
 * options (NULL-terminated, may be NULL); waits until it listens. */
struct it_daemon *it_daemon_start(const char *zk_url, const char *const *extra);

/* Fills @argv (room for @max entries) with how to run mesos-leaderd: the
 * program, preceded by the words of $IT_DAEMON_WRAPPER when it is set (e.g.
 * "valgrind --leak-check=full --error-exitcode=99"). Returns the count. */
int it_daemon_argv(const char **argv, int max);

/* Starts mesos-leaderd on a free port with exactly @args (NULL-terminated)
 * plus --listen and --log-level debug; waits until it listens. */
struct it_daemon *it_daemon_start_args(const char *const *args);

/* Stops it with SIGTERM, expects exit status 0, frees it. */
void it_daemon_stop(struct it_daemon *d);

/* Waits until the daemon routes to @m (its /leaderd/v1/leader names it). */
void it_daemon_wait_leader(struct it_daemon *d, const struct it_master *m);

/* Waits until /leaderd/v1/leader reports state @state ("none", "known")
 * with the ZooKeeper session connected. */
void it_daemon_wait_state(struct it_daemon *d, const char *state);

/* Waits until the string at @path in /leaderd/v1/leader equals @value. */
void it_daemon_wait_field(struct it_daemon *d, const char *path, const char *value);

/* The same, for at most @timeout_ms. */
void it_daemon_wait_field_ms(struct it_daemon *d, const char *path, const char *value,
                             int timeout_ms);

/* The value of metric line @name (e.g. "mesos_leaderd_streams_open" or
 * "mesos_leaderd_retries_total{reason=\"redirect\"}") in /leaderd/metrics. */
long it_daemon_metric(struct it_daemon *d, const char *name);

/* Waits until metric @name equals @value. */
void it_daemon_wait_metric(struct it_daemon *d, const char *name, long value);

/* "http://127.0.0.1:PORT@path" into a static buffer of the calling test. */
const char *it_url(const struct it_daemon *d, const char *path);

/* Sends one request and returns its status; the response goes to @ret
 * (may be NULL: freed here). Extra headers NULL-terminated, may be NULL. */
long it_request(const char *method, const char *url, const char *const *headers, const char *body,
                struct http_resp *ret);

/* A JSON POST of @body to @url with Content-Type application/json. */
long it_post_json(const char *url, const char *body, struct http_resp *ret);

/* Sends @raw as it is on a new connection to the daemon and returns the
 * status of the first answer (0 if none arrived before the connection
 * closed or 5 s passed); the whole answer goes to @ret (may be NULL). */
long it_raw(const struct it_daemon *d, const char *raw, char **ret);

/* it_raw() over a Unix socket at @path. */
long it_raw_unix(const char *path, const char *raw, char **ret);

/* Opens a scheduler SUBSCRIBE stream at @base ("http://host:port") for a new
 * framework named @name; waits for its headers. */
struct http_stream *it_subscribe(const char *base, const char *name, const char *const *headers);

/* The string at a dotted path ("leader.address") in a JSON object, or NULL. */
const char *it_json_string(json_object *obj, const char *path);

/* Parses @text as JSON (fails the test if it is not). */
json_object *it_json_parse(const char *text);

/* The header value @name of request @i (0-based) in a requests array, or NULL. */
const char *it_request_header(json_object *requests, int i, const char *name);

/* Counts the headers named @name (any case) of request @i. */
int it_request_header_count(json_object *requests, int i, const char *name);

#endif
