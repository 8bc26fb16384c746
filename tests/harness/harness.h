/* harness.h: a library for integration tests that run REAL parts.
 *
 * Real ZooKeeper servers on free loopback ports, a ZooKeeper client to write
 * registrations, child processes with captured output, waiting for
 * conditions instead of sleeping, and HTTP requests and long-lived streams.
 *
 * Conventions. Operations return 0 or a negative errno. Constructors
 * (zkh_start, zkh_client_open, proc_start, http_stream_open) return NULL on
 * failure; then harness_error() says why (the message is also printed on
 * stderr). Node indexes are 0-based (node i has ZooKeeper myid i + 1).
 *
 * check's fork mode. Everything here may be created in a suite-level
 * unchecked fixture (the parent) and used from the tests (forked children):
 * the state of a ZooKeeper cluster lives in its directory (PID files), so a
 * node a test restarts is still known to the parent's zkh_stop(). Cleanup is
 * automatic, also when check _exit()s a test whose assertion failed or
 * SIGKILLs one that timed out: at exit, a process stops what it created
 * itself (not what its parent created); a guard process kills a cluster's
 * servers and removes temporary directories once every process that could
 * use them is gone; a child started with proc_start() gets SIGKILL when the
 * thread that started it exits.
 *
 * Environment: HARNESS_BUILDDIR and HARNESS_SRCDIR (set by make check) name
 * the top build and source directories; HARNESS_KEEP=1 keeps temporary
 * directories (ZooKeeper's logs, captured output) and prints their paths;
 * HARNESS_VERBOSE=1 shows libzookeeper's log lines of the test client;
 * HARNESS_JAVA and HARNESS_ZK_CLASSPATH override where Java and ZooKeeper
 * are found. */
#ifndef MLD_HARNESS_H
#define MLD_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---------------------------------------------------------------------------
 * General (util.c)
 * ------------------------------------------------------------------------- */

/* Returns the last failure message of the calling thread ("" if none). */
const char *harness_error(void);

/* Returns "$HARNESS_BUILDDIR/@rel" (the current directory when unset), e.g.
 * harness_builddir_path("src/cmd/mesos-leader"); the caller frees it. */
char *harness_builddir_path(const char *rel);

/* Returns "$HARNESS_SRCDIR/@rel" (the current directory when unset). */
char *harness_srcdir_path(const char *rel);

/* Creates a fresh directory "$TMPDIR/@prefix-XXXXXX" (/tmp without TMPDIR);
 * returns its path (caller frees) or NULL. */
char *harness_mkdtemp(const char *prefix);

/* Removes @path and everything below it; a missing path is fine. */
int harness_rm_rf(const char *path);

/* Reads a whole file; *ret gets a NUL-terminated copy (binary safe with
 * *ret_len, which may be NULL). */
int harness_read_file(const char *path, char **ret, size_t *ret_len);

/* Writes @len bytes to @path (created or truncated, mode 0644). */
int harness_write_file(const char *path, const void *data, size_t len);

/* SHA-1 of @len bytes into @out. */
void harness_sha1(const void *data, size_t len, uint8_t out[20]);

/* Standard base64 (with padding) of @len bytes; the caller frees it. */
char *harness_base64(const void *data, size_t len);

/* ---------------------------------------------------------------------------
 * Waiting (wait.c)
 * ------------------------------------------------------------------------- */

/* Polls @cond(@arg) every 5 ms until it returns true or @timeout_ms pass on
 * the monotonic clock (it is always tried once more at the deadline).
 * Returns the last result. Use it instead of sleeping. */
bool wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms);

/* Returns a TCP port on 127.0.0.1 that was free a moment ago, or -errno. */
int harness_free_port(void);

/* Fills @ports with @n distinct free ports; 0 or -errno. */
int harness_free_ports(int *ports, int n);

/* ---------------------------------------------------------------------------
 * ZooKeeper servers (zkserver.c)
 * ------------------------------------------------------------------------- */

/* Zero-initialise; every 0/NULL field takes its default. */
struct zkh_options {
    int tick_ms;                  /* tickTime, default 200 */
    int min_session_ms;           /* minSessionTimeout, default 2 * tick_ms (400 ms) */
    int max_session_ms;           /* maxSessionTimeout, default 60000 */
    int start_timeout_ms;         /* how long to wait for "serving", default 30000 */
    int heap_mb;                  /* -Xmx, default 128 */
    const char *const *extra_cfg; /* NULL-terminated zoo.cfg lines, appended
                                   * last (a repeated key overrides ours) */
    int observers;                /* the last @observers nodes are observers
                                   * (peerType=observer), default 0 */
};

struct zk_cluster;

/* Returns whether Java and the ZooKeeper jar are installed; otherwise
 * harness_error() says what is missing. */
bool zkh_available(void);

/* Exits with 77 (automake's "skip") after printing why when
 * zkh_available() is false. Call it from main() before running a suite. */
void zkh_skip_if_unavailable(void);

/* Starts @nodes (1: standalone, 3: an ensemble) ZooKeeper 3.8 servers on
 * free loopback ports in a fresh temporary directory and waits until every
 * node serves (answers "srvr" with a Mode). @opt may be NULL. */
struct zk_cluster *zkh_start(int nodes, const struct zkh_options *opt);

/* "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"; valid until zkh_stop(). */
const char *zkh_connect_string(const struct zk_cluster *zk);

/* The number of nodes. */
int zkh_nodes(const struct zk_cluster *zk);

/* The client port of node @i. */
int zkh_node_port(const struct zk_cluster *zk, int i);

/* The PID of node @i, or 0 when it is not running. */
pid_t zkh_node_pid(const struct zk_cluster *zk, int i);

/* The cluster's directory (node i lives in "<dir>/node<i+1>", with its
 * zoo.cfg, data/, server.log and pid). */
const char *zkh_dir(const struct zk_cluster *zk);

/* Stops node @i with SIGTERM (a clean shutdown; SIGKILL after 10 s) and
 * waits until it has exited. */
int zkh_stop_node(struct zk_cluster *zk, int i);

/* Kills node @i with SIGKILL and waits until it has exited. */
int zkh_kill_node(struct zk_cluster *zk, int i);

/* Starts a stopped or killed node @i again on the same ports and data. When
 * a quorum of nodes is running, waits until every running node serves (a
 * restarted follower has rejoined); otherwise returns once it is started.
 * -EALREADY if it is running. */
int zkh_start_node(struct zk_cluster *zk, int i);

/* Freezes (SIGSTOP) or thaws (SIGCONT) node @i: its connections stay open
 * but nothing answers, as with a hung server or a network partition. */
int zkh_pause_node(struct zk_cluster *zk, int i);
int zkh_resume_node(struct zk_cluster *zk, int i);

/* "leader", "follower", "standalone" or "observer" when node @i serves;
 * NULL when it does not (stopped, paused, no quorum). Asks "srvr" with a
 * one-second timeout. */
const char *zkh_node_mode(const struct zk_cluster *zk, int i);

/* Waits until node @i serves; 0 or -ETIMEDOUT. */
int zkh_wait_serving(const struct zk_cluster *zk, int i, int timeout_ms);

/* Waits until some running node is the leader (or standalone) and every
 * running node serves; *ret_index (may be NULL) gets the leader's index. */
int zkh_wait_leader(const struct zk_cluster *zk, int timeout_ms, int *ret_index);

/* Sends a four-letter command (srvr, ruok, stat, mntr, conf) to node @i
 * and returns its whole answer in *ret (caller frees). */
int zkh_4lw(const struct zk_cluster *zk, int i, const char *cmd, char **ret);

/* Kills every node (SIGKILL: the data is thrown away), waits for them to
 * exit and removes the directory; frees @zk. NULL is fine. */
void zkh_stop(struct zk_cluster *zk);

/* ---------------------------------------------------------------------------
 * ZooKeeper client for tests (zkclient.c; synchronous libzookeeper_mt)
 *
 * ZooKeeper errors map to errno: ZNONODE -ENOENT, ZNODEEXISTS -EEXIST,
 * ZNOTEMPTY -ENOTEMPTY, ZNOAUTH and ZAUTHFAILED -EACCES, ZBADVERSION -ESTALE,
 * ZCONNECTIONLOSS -ECONNRESET, ZOPERATIONTIMEOUT -ETIMEDOUT,
 * ZSESSIONEXPIRED -ETIME, ZINVALIDACL and bad arguments -EINVAL, others
 * -EIO; harness_error() names the ZooKeeper error.
 * ------------------------------------------------------------------------- */

struct zkh_client;

/* Create flags. */
#define ZKH_EPHEMERAL  0x1
#define ZKH_SEQUENTIAL 0x2
#define ZKH_PARENTS    0x4 /* create missing parents (persistent, empty) */

/* ACL permissions (ZooKeeper's values). */
#define ZKH_PERM_READ   0x01
#define ZKH_PERM_WRITE  0x02
#define ZKH_PERM_CREATE 0x04
#define ZKH_PERM_DELETE 0x08
#define ZKH_PERM_ADMIN  0x10
#define ZKH_PERM_ALL    0x1f

/* One ACL entry: {"digest", "user:base64hash", ZKH_PERM_ALL},
 * {"world", "anyone", ZKH_PERM_READ}. */
struct zkh_acl {
    const char *scheme;
    const char *id;
    int perms;
};

/* Zero-initialise; 0 fields take their default. */
struct zkh_client_options {
    int session_timeout_ms; /* default 10000 (the server clamps it) */
    int connect_timeout_ms; /* how long to wait for the session, default 10000 */
};

/* Connects to @connect ("host:port,...") and waits until the session is
 * established; with @credentials ("user:password") also authenticates with
 * the digest scheme and waits for the server's verdict. */
struct zkh_client *zkh_client_open(const char *connect, const char *credentials);

/* zkh_client_open() with options (@opt may be NULL). */
struct zkh_client *zkh_client_open_opts(const char *connect, const char *credentials,
                                        const struct zkh_client_options *opt);

/* Creates @path and its missing parents, persistent and empty, like
 * "mkdir -p" (existing znodes are fine). */
int zkh_client_create_path(struct zkh_client *c, const char *path);

/* Creates @path with @len bytes of @data (any bytes; NULL for none) and
 * ZKH_* @flags. *ret_path (may be NULL) gets the created path, which differs
 * from @path with ZKH_SEQUENTIAL ("/mesos/json.info_0000000003"). */
int zkh_client_create(struct zkh_client *c, const char *path, const void *data, size_t len,
                      int flags, char **ret_path);

/* Replaces the data of @path (any version). */
int zkh_client_set(struct zkh_client *c, const char *path, const void *data, size_t len);

/* Reads the data of @path (up to 1 MiB) into a NUL-terminated *ret (binary
 * safe with *ret_len, which may be NULL). */
int zkh_client_get(struct zkh_client *c, const char *path, char **ret, size_t *ret_len);

/* 0 when @path exists, -ENOENT when it does not. */
int zkh_client_exists(struct zkh_client *c, const char *path);

/* The child names of @path, sorted, as a NULL-terminated array (free it with
 * harness_strv_free); *ret_n (may be NULL) gets their number. */
int zkh_client_children(struct zkh_client *c, const char *path, char ***ret, size_t *ret_n);

/* Deletes @path (any version); with @recursive its descendants first. */
int zkh_client_delete(struct zkh_client *c, const char *path, bool recursive);

/* Replaces the ACL of @path with @n entries. */
int zkh_client_set_acl(struct zkh_client *c, const char *path, const struct zkh_acl *acl, size_t n);

/* Returns the digest ACL id ZooKeeper derives from @user and @password:
 * "user:base64(sha1("user:password"))"; the caller frees it. */
char *zkh_digest_id(const char *user, const char *password);

/* The session id (as ZooKeeper's logs print it, in hex). */
int64_t zkh_client_session_id(const struct zkh_client *c);

/* Makes the server expire this client's session now (its ephemeral znodes
 * vanish, as when a master dies and its session times out); the client is
 * unusable afterwards except for zkh_client_close(). */
int zkh_client_expire(struct zkh_client *c);

/* Closes the session (its ephemeral znodes go) and frees @c; NULL is fine. */
void zkh_client_close(struct zkh_client *c);

/* Frees a NULL-terminated array of strings; NULL is fine. */
void harness_strv_free(char **v);

/* ---------------------------------------------------------------------------
 * Processes (proc.c)
 * ------------------------------------------------------------------------- */

enum proc_stream { PROC_STDOUT = 1, PROC_STDERR = 2 };

/* Zero-initialise; 0/NULL fields take their default. */
struct proc_options {
    const char *cwd;        /* working directory, default: ours */
    const char *stdin_path; /* default /dev/null */
    bool clear_env;         /* start from an empty environment, not ours */
    int stop_grace_ms;      /* proc_stop()'s SIGTERM grace, default 5000 */
};

struct proc;

/* Starts @argv (argv[0] is searched in PATH unless it has a '/') in its own
 * process group, with our environment plus @env ("KEY=VALUE" entries that
 * override ours; NULL-terminated, may be NULL), stdin from /dev/null, and
 * stdout and stderr captured to files in a temporary directory. Fails (NULL)
 * when the program cannot be executed. */
struct proc *proc_start(const char *const argv[], const char *const env[],
                        const struct proc_options *opt);

/* The process ID. */
pid_t proc_pid(const struct proc *p);

/* The file that captures @which. */
const char *proc_output_path(const struct proc *p, enum proc_stream which);

/* Everything captured on @which so far, NUL-terminated; the caller frees it
 * ("" when nothing was written). */
char *proc_output(const struct proc *p, enum proc_stream which);

/* Makes later proc_wait_output() calls on @which ignore what was captured up
 * to now (call it before causing the event whose line you await). */
void proc_output_mark(struct proc *p, enum proc_stream which);

/* Waits until a complete line of @which (after the mark) contains @needle;
 * *ret_line (may be NULL) gets that line without its newline. Lines seen
 * before are found again: mark to wait for a new one. -ETIMEDOUT, or -ESRCH
 * as soon as the process has exited without writing such a line. */
int proc_wait_output(struct proc *p, enum proc_stream which, const char *needle, int timeout_ms,
                     char **ret_line);

/* Sends @sig to the process (not to its group); -ESRCH once it was reaped. */
int proc_signal(struct proc *p, int sig);

/* SIGSTOP, then waits until every thread of the process is stopped (a hung
 * program); proc_resume() sends SIGCONT and waits until it runs again. */
int proc_pause(struct proc *p);
int proc_resume(struct proc *p);

/* Returns whether the process has not exited yet. */
bool proc_running(struct proc *p);

/* Waits until the process exits; *ret_status (may be NULL) gets the wait
 * status (use WIFEXITED/WEXITSTATUS). -ETIMEDOUT, or -ECHILD when this
 * process did not start it (a forked test): it has exited, status unknown. */
int proc_wait_exit(struct proc *p, int timeout_ms, int *ret_status);

/* Stops the process: SIGTERM, SIGKILL to its group after the grace period,
 * then reaps it, removes the captured output and frees @p. Returns the wait
 * status (>= 0) or a negative errno. NULL is fine (returns 0). */
int proc_stop(struct proc *p);

/* The number of open file descriptors of @pid (entries of /proc/PID/fd). */
int proc_fd_count(pid_t pid);

/* The resident set size of @pid in KiB (VmRSS in /proc/PID/status). */
long proc_rss_kb(pid_t pid);

/* ---------------------------------------------------------------------------
 * HTTP (http.c; libcurl)
 * ------------------------------------------------------------------------- */

/* Zero-initialise; 0/NULL fields take their default. */
struct http_req {
    const char *method;         /* default GET, or POST with a body */
    const char *url;            /* "http://127.0.0.1:5050/master/state" */
    const char *const *headers; /* NULL-terminated "Name: value" lines; "Name:"
                                 * removes one curl would send */
    const void *body;           /* any bytes, or NULL */
    size_t body_len;
    int timeout_ms;         /* whole transfer; default 10000 (streams: none) */
    int connect_timeout_ms; /* default 5000 */
    bool no_follow;         /* do not follow redirects (streams never do) */
    bool http10;            /* speak HTTP/1.0 */
};

struct http_header {
    char *name;
    char *value; /* without surrounding white space */
};

/* A response; the header fields describe the last response when redirects
 * were followed. */
struct http_resp {
    long status;                 /* 0 when no response arrived */
    char *headers_raw;           /* status line, header lines, blank line, as received */
    struct http_header *headers; /* in order */
    size_t n_headers;
    char *body; /* NUL-terminated, binary safe with body_len */
    size_t body_len;
    int curl_code;   /* CURLE_OK (0) when the transfer completed */
    char error[256]; /* curl's explanation when it did not */
};

/* Performs one request. Returns 0 when a complete response arrived;
 * otherwise -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET (nothing or a reset),
 * -EPIPE (response cut short) or -EPROTO. Unlike the project convention,
 * @ret is filled in both cases (with what arrived) and must be freed with
 * http_resp_free(). */
int http_request(const struct http_req *req, struct http_resp *ret);

/* http_request() for a plain GET of @url. */
int http_get(const char *url, struct http_resp *ret);

/* The value of the first header named @name (case-insensitive), or NULL. */
const char *http_resp_header(const struct http_resp *resp, const char *name);

/* Frees what @resp holds and zeroes it; NULL is fine. */
void http_resp_free(struct http_resp *resp);

/* How a stream ended. */
enum http_stream_end {
    HTTP_END_CLEAN = 1, /* complete (terminating chunk or full length): CURLE_OK */
    HTTP_END_ABNORMAL,  /* cut short, reset, refused, timed out: any other code */
};

struct http_stream;

/* Starts @req on a background thread that accumulates the body (redirects
 * are not followed; no default timeout). Connection failures show up as an
 * abnormal end. NULL only when the request cannot be set up. */
struct http_stream *http_stream_open(const struct http_req *req);

/* Waits until the response headers arrived; 0, -ETIMEDOUT, or -EPIPE when
 * the stream ended without a response. */
int http_stream_wait_headers(struct http_stream *s, int timeout_ms);

/* The response status, or 0 while the headers have not arrived. */
long http_stream_status(struct http_stream *s);

/* The value of the first response header named @name (case-insensitive), or
 * NULL; valid until http_stream_close(). */
const char *http_stream_header(struct http_stream *s, const char *name);

/* Waits until at least @n body bytes arrived; 0, -ETIMEDOUT, or -EPIPE when
 * the stream ended before. */
int http_stream_wait_bytes(struct http_stream *s, size_t n, int timeout_ms);

/* Waits until the body contains @needle; 0, -ETIMEDOUT or -EPIPE. */
int http_stream_wait_contains(struct http_stream *s, const char *needle, int timeout_ms);

/* A NUL-terminated copy of the body so far (caller frees); *ret_len (may be
 * NULL) gets its length. */
char *http_stream_body(struct http_stream *s, size_t *ret_len);

/* Returns whether the transfer has ended; if so *ret_how (may be NULL) says
 * how. */
bool http_stream_ended(struct http_stream *s, enum http_stream_end *ret_how);

/* Waits until the transfer ends; 0 or -ETIMEDOUT. */
int http_stream_wait_end(struct http_stream *s, int timeout_ms, enum http_stream_end *ret_how);

/* curl's result code once ended (CURLE_PARTIAL_FILE, CURLE_RECV_ERROR...),
 * -1 while running. */
int http_stream_curl_code(struct http_stream *s);

/* Goes away as a client would: closes the connection mid-stream if it is
 * still open, stops the thread and frees @s. NULL is fine. */
void http_stream_close(struct http_stream *s);

#endif
