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

/* --- scripted masters ----------------------------------------------------- */

/* A "master" the test plays itself over raw TCP, for what the stand-in
 * cannot do: close a kept-alive connection after reading a call, answer
 * garbage, pour megabytes into a stream as fast as TCP takes them. It
 * listens on 127.0.0.1 and serves each connection on a thread of its own
 * with the test's @serve; the connection closes when @serve returns. Put it
 * in ZooKeeper with it_register_master(). */
struct it_script;

/* One connection of a scripted master, as @serve sees it. */
struct it_script_conn {
    struct it_script *script;
    int fd;
    unsigned served; /* for @serve to count calls answered on it (0 at first) */
    char *in;        /* bytes read and not yet consumed */
    size_t in_len, in_cap;
};

/* One call read by it_script_read_request(). */
struct it_script_request {
    char method[64];
    char target[512];
    char *head; /* request line and header lines, NUL-terminated */
    size_t body_len;
};

typedef void (*it_script_fn)(struct it_script_conn *c, void *arg);

/* Starts listening on a free port of 127.0.0.1. */
struct it_script *it_script_start(it_script_fn serve, void *arg);

/* Its port. */
int it_script_port(const struct it_script *s);

/* Stops listening (connections to the port are refused from now on);
 * connections already open go on. */
void it_script_close_listener(struct it_script *s);

/* Listens again on the same port. */
void it_script_reopen_listener(struct it_script *s);

/* Stops listening, shuts every open connection down, waits for the
 * threads and frees @s; NULL is fine. */
void it_script_stop(struct it_script *s);

/* Reads one call (head, and a body of Content-Length) from @c; 0, or -1
 * when the connection ended first. Free @ret with it_script_request_done(). */
int it_script_read_request(struct it_script_conn *c, struct it_script_request *ret);
void it_script_request_done(struct it_script_request *r);

/* The value of header @name of @r (first one, any case) into @buf; NULL
 * when it has none. */
const char *it_script_header(const struct it_script_request *r, const char *name, char *buf,
                             size_t size);

/* Writes all of @len bytes; false when the peer went away. */
bool it_script_write(struct it_script_conn *c, const void *data, size_t len);

/* Notes a call @r in the master's log (method and target). */
void it_script_record(struct it_script *s, const struct it_script_request *r);

/* How many logged calls had @method and @target. */
int it_script_count(struct it_script *s, const char *method, const char *target);

/* Answers a scheduler SUBSCRIBE as a master would (200, chunked RecordIO,
 * a SUBSCRIBED record first) with records of @record_bytes each until @total
 * body bytes are written, as fast as TCP takes them, then the terminating
 * chunk. False when the peer went away first. */
bool it_script_stream(struct it_script_conn *c, size_t total, size_t record_bytes);

/* A master answering garbage: one canned @reply per connection, read after
 * the first read of the call; the first @drops connections are closed
 * after reading the call, without a reply (tests may change drops). */
struct it_garbage {
    struct it_script *script;
    int port;
    const char *reply;
    int drops;
};
void it_garbage_start(struct it_garbage *g, const char *reply, int drops);
void it_garbage_stop(struct it_garbage *g);

/* Registers a master at @host:@port (an IP address, or a name such as
 * "localhost": then MasterInfo carries no address.ip) in the election group
 * of @zk_url as Mesos does (ephemeral, sequential json.info_); returns the
 * znode's path (the caller frees it). */
char *it_register_master(struct zkh_client *c, const char *zk_url, const char *host, int port,
                         const char *id);

/* Waits until the daemon routes to "@host:@port". */
void it_daemon_wait_address(struct it_daemon *d, const char *host, int port);

/* A scripted master registered as the leader at @host on a ZooKeeper path
 * of its own, and a daemon (with @daemon_args, may be NULL) routing to it. */
struct it_scripted {
    char *zk_url;
    struct zkh_client *zk;
    struct it_script *m;
    char *node;
    struct it_daemon *d;
};
void it_scripted_start(struct it_scripted *s, it_script_fn serve, void *arg, const char *host,
                       const char *const *daemon_args);
/* Stops the daemon (unless the test stopped it and set @s->d to NULL), the
 * master, and removes its znode. */
void it_scripted_stop(struct it_scripted *s);

/* --- the daemon's resources ---------------------------------------------- */

/* it_daemon_start() with @prefix (NULL-terminated) run before the daemon's
 * program, e.g. {"prlimit", "--nofile=128:128", "--", NULL}. */
struct it_daemon *it_daemon_start_prefixed(const char *const *prefix, const char *zk_url,
                                           const char *const *extra);

/* The daemon's pid, descriptors open (/proc/PID/fd) and VmRSS in KiB. */
pid_t it_daemon_pid(const struct it_daemon *d);
int it_daemon_fds(const struct it_daemon *d);
long it_daemon_rss_kb(const struct it_daemon *d);

/* CPU time @pid has used (utime + stime of /proc/PID/stat), in ms. */
long it_cpu_ms(pid_t pid);

/* Waits until the daemon has at most @n descriptors open; false after
 * @timeout_ms. */
bool it_daemon_wait_fds_at_most(struct it_daemon *d, int n, int timeout_ms);

/* How many lines of the daemon's log contain @needle. */
int it_daemon_log_lines(struct it_daemon *d, const char *needle);

/* --- raw connections ------------------------------------------------------ */

/* A TCP connection to 127.0.0.1:@port (blocking); fails the test if none. */
int it_connect(int port);

/* The same with a receive buffer of @rcvbuf bytes and a maximum segment
 * size of @mss announced to the daemon (0: the system's defaults): a client
 * whose socket holds little of what the daemon sends it. */
int it_connect_small(int port, int rcvbuf, int mss);

/* Reads one answer from @fd: its head, then a body of Content-Length (or up
 * to the connection's end when it has none), for at most @timeout_ms.
 * Returns the status (0 when no head arrived); *ret (may be NULL) gets the
 * answer as read. With @ret_closed, waits (within @timeout_ms) for the
 * daemon to close the connection after the answer and says whether it did
 * (a connection kept alive makes it wait that long). */
long it_read_answer(int fd, int timeout_ms, char **ret, bool *ret_closed);

/* The body of a raw answer (after the blank line), or "" when none. */
const char *it_answer_body(const char *answer);

#endif
