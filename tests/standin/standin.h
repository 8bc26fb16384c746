/* standin.h: what the parts of the stand-in Mesos master share.
 *
 * mesos-standin plays one Mesos master for the integration tests and the
 * README sandbox: it joins the masters' election group in ZooKeeper exactly as
 * Mesos does and answers the Mesos HTTP endpoints (scheduler and operator API,
 * redirects, state) as a leading or a standby master would. Its parts:
 *
 *   standin.c           main(), the command line, start-up and shut-down order
 *   standin_zk.c        registration in ZooKeeper and the master's own leader view
 *   standin_http.c      the HTTP server, routing, authentication, redirects
 *   standin_sched.c     the scheduler API and the framework registry
 *   standin_operator.c  the operator API and the state documents
 *   standin_stream.c    RecordIO event streams (heartbeats, shaping faults)
 *   standin_faults.c    the fault switches tests flip at run time
 *   standin_control.c   the /__standin/ test-control endpoints, request log
 *   standin_raw.c       raw answers: scripted bytes written to the socket
 *   standin_codec.c     base64, gzip (stored deflate), CRC-32, UUIDs, Accept
 *
 * Every function here is called from many MHD connection threads at once
 * unless its comment says otherwise. */
#ifndef STANDIN_H
#define STANDIN_H

#include "base/errbuf.h"
#include "base/strbuf.h"
#include "zk/masterinfo.h"
#include "zk/zkurl.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest request body we accept; larger ones get 413. */
#define ST_MAX_BODY (16u * 1024 * 1024)

/* ---------------------------------------------------------------------------
 * Configuration (standin.c): set once before any thread starts, then read-only.
 * ------------------------------------------------------------------------- */

enum st_format { ST_FORMAT_JSON, ST_FORMAT_PROTOBUF, ST_FORMAT_UPID };

struct st_config {
    char *zk_text;   /* --zk as given, or NULL */
    struct zkurl zk; /* parsed --zk */
    unsigned port;   /* --port (0: any free one) */
    char *ip;
    char *hostname;
    char *id;
    char *version;
    enum st_format format;
    unsigned zk_session_timeout_ms;
    unsigned state_size_kb;
    unsigned max_operator_subscribers;
    char *tls_cert;
    char *tls_key;
    bool no_register;
    bool no_address_ip; /* MasterInfo without address.ip */
    char *require_auth; /* "user:password" or NULL */

    /* Known once HTTP is bound. */
    unsigned bound_port;
    char *pid;               /* "master@ip:port" */
    struct master_info info; /* this master's MasterInfo */
    char *info_json_sorted;  /* as written to ZooKeeper (keys sorted) */
    char *info_json_fields;  /* as in HTTP bodies (proto field order) */
    char *znode;             /* our member znode, or NULL */
};

/* Returns the configuration. */
const struct st_config *st_cfg(void);

/* ---------------------------------------------------------------------------
 * Leadership (standin_zk.c)
 * ------------------------------------------------------------------------- */

/* What this master believes about the election. */
struct st_leader {
    bool elected; /* this master leads */
    bool known;   /* some leader is known (always when elected) */
    char host[MASTERINFO_HOST_MAX + 1];
    unsigned port;
};

/* Connects, registers and starts the leader-view thread; returns once the
 * first view is known. Writes the created znode path into @ret_znode (owned by
 * the caller). Called once, from main. */
int st_zk_start(char **ret_znode, struct errbuf *err);

/* Stops the view thread and closes the session (the znode goes at once). */
void st_zk_stop(void);

/* Returns the leader view from ZooKeeper (or "elected" with --no-register). */
void st_zk_leader(struct st_leader *ret);

/* Returns the view the HTTP side acts on: st_zk_leader() overridden by the
 * no_leader and redirect_to faults. */
void st_effective_leader(struct st_leader *ret);

/* Encodes this master's MasterInfo as binary protobuf (for --format protobuf). */
void st_masterinfo_protobuf(const struct master_info *mi, struct strbuf *out);

/* Encodes MasterInfo as JSON in protobuf field order (HTTP bodies). */
char *st_masterinfo_json_fields(const struct master_info *mi);

/* ---------------------------------------------------------------------------
 * Fatal events (standin.c): ask main() to exit with @code (from any thread).
 * ------------------------------------------------------------------------- */
void st_request_exit(int code);

/* Returns whether a stop signal or a fatal event arrived (start-up waits). */
bool st_stop_requested(void);

/* ---------------------------------------------------------------------------
 * Faults (standin_faults.c)
 * ------------------------------------------------------------------------- */

struct st_faults {
    uint64_t recovery_until_ms; /* monotonic ms; 0 = off */
    unsigned delay_ms;
    bool hang;
    unsigned drop_streams_after;
    unsigned split_records;    /* piece size in bytes; 0 = off */
    unsigned coalesce_records; /* records per chunk; 0 or 1 = off */
    bool hold_after_first;
    char redirect_to[MASTERINFO_HOST_MAX + 8]; /* "host:port" or "" */
    bool no_leader;
    double heartbeat_interval;
    unsigned override_code; /* 0 = off */
    char *override_body;    /* owned by the copy */
};

/* Sets the defaults (heartbeat interval from @heartbeat_interval). */
void st_faults_init(double heartbeat_interval);

/* Frees what the fault settings own. */
void st_faults_cleanup(void);

/* Copies the settings; release the copy with st_faults_done(). */
void st_faults_get(struct st_faults *ret);

/* Frees what a copy owns. */
void st_faults_done(struct st_faults *f);

/* Applies a JSON object of settings (POST /__standin/faults). All or nothing. */
int st_faults_apply_json(const char *text, size_t len, struct errbuf *err);

/* Applies one command-line fault option: @name without the leading "--". */
int st_faults_apply_option(const char *name, const char *value, struct errbuf *err);

/* Returns the settings as a JSON object; the caller frees it. */
char *st_faults_to_json(void);

/* Blocks while the hang fault is on; false when shutting down. */
bool st_faults_wait_unhung(void);

/* Sleeps @ms milliseconds; false when shutting down. */
bool st_sleep_ms(unsigned ms);

/* Returns whether the recovery fault is active now. */
bool st_faults_recovering(void);

/* Wakes every waiter for shut-down; afterwards st_shutting_down() is true. */
void st_faults_shutdown(void);

/* Returns whether the process is shutting down. */
bool st_shutting_down(void);

/* ---------------------------------------------------------------------------
 * Streams (standin_stream.c)
 * ------------------------------------------------------------------------- */

struct st_stream;

/* Called once when a stream's connection is gone (from an MHD thread, with no
 * stand-in lock held). */
typedef void (*st_stream_closed_fn)(struct st_stream *s);

/* Creates a stream for the connection @conn, with one reference for the
 * caller. @first_json is queued as the first record; with @heartbeats a
 * HEARTBEAT follows at once and then one every heartbeat interval (as Mesos
 * does), without it the stream ends after the first record (a refusal). */
struct st_stream *st_stream_new(struct MHD_Connection *conn, st_stream_closed_fn on_closed,
                                const char *first_json, bool heartbeats);

/* Takes or drops a reference. */
void st_stream_ref(struct st_stream *s);
void st_stream_unref(struct st_stream *s);

/* Creates the MHD response that plays the stream (it holds a reference until
 * MHD frees it, which calls the stream's on_closed). On failure on_closed has
 * run and NULL is returned. Call it with no registry lock held. */
struct MHD_Response *st_stream_response(struct st_stream *s);

/* Queues one JSON event as a RecordIO record. */
void st_stream_push(struct st_stream *s, const char *json);

/* Ends the stream cleanly once the queued records are sent. */
void st_stream_end(struct st_stream *s);

/* Returns the stream's serial number (for logs and status). */
unsigned st_stream_serial(const struct st_stream *s);

/* Releases every stream held by hold_after_first. */
void st_streams_release(void);

/* Wakes every stream (a fault changed); with shutting down they end abruptly. */
void st_streams_kick(void);

/* Returns how many streams are open. */
size_t st_streams_count(void);

/* ---------------------------------------------------------------------------
 * HTTP (standin_http.c)
 * ------------------------------------------------------------------------- */

/* One request being answered. */
struct st_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *version;
    char *target;      /* raw request target as received: path?query */
    char *path;        /* raw path (target up to '?') */
    const char *query; /* raw query after '?', or NULL when there is no '?' */
    struct strbuf body;
    size_t body_len; /* bytes received (body holds at most ST_MAX_BODY) */
    bool started;
    bool too_large;
    bool control; /* a /__standin/ request */
};

/* Starts the HTTP server on --ip/--port; the bound port goes to @ret_port. */
int st_http_start(unsigned *ret_port, struct errbuf *err);

/* Stops the HTTP server (after st_faults_shutdown()). */
void st_http_stop(void);

/* Returns a request header (case-insensitive name), or NULL. */
const char *st_header(const struct st_request *rq, const char *name);

/* Answers with @body (may be NULL for none) and @content_type (NULL: none);
 * gzips bodies of 1024 bytes or more when the request accepts gzip. */
enum MHD_Result st_reply(struct st_request *rq, unsigned code, const char *content_type,
                         const char *body, size_t len);

/* Answers with a text/plain; charset=utf-8 body, as libprocess does. */
enum MHD_Result st_reply_text(struct st_request *rq, unsigned code, const char *text);

/* Answers with a JSON body (application/json). */
enum MHD_Result st_reply_json(struct st_request *rq, unsigned code, const char *json);

/* Answers 405 with Allow: POST. */
enum MHD_Result st_reply_post_only(struct st_request *rq);

/* Answers with a stream response; @stream_id (or NULL) goes in Mesos-Stream-Id. */
enum MHD_Result st_reply_stream(struct st_request *rq, struct st_stream *s, const char *stream_id);

/* ---------------------------------------------------------------------------
 * The two v1 APIs (standin_sched.c, standin_operator.c)
 * ------------------------------------------------------------------------- */

struct json_object;

/* Handles a parsed scheduler call (leader, method and Content-Type checked). */
enum MHD_Result st_sched_call(struct st_request *rq, struct json_object *call);

/* Handles a parsed operator call (leader, method and Content-Type checked). */
enum MHD_Result st_operator_call(struct st_request *rq, struct json_object *call);

/* Writes the frameworks and their subscriptions as a JSON array (status). */
void st_sched_status(struct strbuf *out);

/* Closes every scheduler and operator stream's registry entry (shut-down). */
void st_sched_cleanup(void);
void st_operator_cleanup(void);

/* Returns the number of operator subscribers. */
size_t st_operator_subscribers(void);

/* Builds the cached documents once this master's identity is known. */
void st_operator_init(void);

/* The /master/state body (deterministic for a given configuration). */
const char *st_state_json(void);

/* The /flags body. */
const char *st_flags_json(void);

/* Writes the /metrics/snapshot body. */
void st_metrics_json(struct strbuf *out);

/* Writes the /version body. */
void st_version_json(struct strbuf *out);

/* Releases the cached documents. */
void st_operator_done(void);

/* ---------------------------------------------------------------------------
 * Test control (standin_control.c)
 * ------------------------------------------------------------------------- */

/* Records a finished request in the request log. */
void st_control_record(const struct st_request *rq);

/* Answers a /__standin/ request. */
enum MHD_Result st_control_handle(struct st_request *rq);

/* Frees the request log. */
void st_control_cleanup(void);

/* ---------------------------------------------------------------------------
 * Raw answers (standin_raw.c): scripted bytes written straight to the socket
 * of a request for one path, then the connection ends.
 * ------------------------------------------------------------------------- */

#define ST_RAW_MAX_ANSWERS          32
#define ST_RAW_MAX_PATH             1024
#define ST_RAW_MAX_BYTES            (8u * 1024 * 1024)
#define ST_RAW_MAX_TRICKLE_MS       1000
#define ST_RAW_MAX_TRICKLE_TOTAL_MS 20000 /* bytes times trickle_ms */
#define ST_RAW_MAX_HOLD_MS          60000

struct st_raw_answer {
    char *path;          /* the raw request path it answers (no query) */
    struct strbuf bytes; /* written as they are */
    unsigned trickle_ms; /* 0: at once; else one byte, then a pause of this many ms */
    unsigned hold_ms;    /* keep the connection open this long after the bytes, or
                          * until the peer closes; 0: close at once */
    bool before_body;    /* answer as soon as the request head is in */
};

struct json_object;

/* Parses the object of a "raw_answer" setting into @ret. */
int st_raw_parse(struct json_object *spec, struct st_raw_answer *ret, struct errbuf *err);

/* Frees what @a holds and zeroes it; NULL is fine. */
void st_raw_answer_done(struct st_raw_answer *a);

/* Installs @a (taken over: zeroed on success), replacing the answer for the
 * same path; -ENOSPC when ST_RAW_MAX_ANSWERS paths have one. */
int st_raw_set(struct st_raw_answer *a);

/* How many more answers st_raw_set() would take for @path (may be NULL). */
size_t st_raw_room(const char *path);

/* Removes every raw answer. */
void st_raw_clear(void);

/* Copies the answer for @path with this @before_body into @ret (free it with
 * st_raw_answer_done); false when there is none. */
bool st_raw_find(const char *path, bool before_body, struct st_raw_answer *ret);

/* Appends the installed answers as a JSON array (lengths, not bytes). */
void st_raw_to_json(struct strbuf *out);

/* Plays @a on the connected socket @fd: writes the bytes (trickled if asked),
 * holds, then shuts the sending side down (the caller closes @fd). Stops
 * early when @stopping (may be NULL) returns true. 0, or a negative errno
 * when the peer went away or did not read. */
int st_raw_play(int fd, const struct st_raw_answer *a, bool (*stopping)(void));

/* ---------------------------------------------------------------------------
 * Codecs (standin_codec.c): pure functions.
 * ------------------------------------------------------------------------- */

/* Appends @len bytes as base64 (RFC 4648, padded). */
void st_base64_encode(struct strbuf *out, const void *data, size_t len);

/* Decodes base64 (padding optional); -EINVAL on bad input. */
int st_base64_decode(const char *text, size_t len, struct strbuf *out);

/* Returns the CRC-32 (IEEE 802.3, as gzip uses) of @len bytes. */
uint32_t st_crc32(const void *data, size_t len);

/* Appends a gzip member holding @data in stored (uncompressed) deflate blocks. */
void st_gzip_stored(struct strbuf *out, const void *data, size_t len);

/* Writes a random version 4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"). */
void st_uuid(char out[37]);

/* libprocess's Request::acceptsMediaType(): @header is the Accept value or
 * NULL when absent. */
bool st_accepts_media_type(const char *header, const char *type);

/* libprocess's Request::acceptsEncoding(): @header is Accept-Encoding or NULL. */
bool st_accepts_encoding(const char *header, const char *encoding);

/* Appends a double the way Mesos's JSON writer does ("15.0", "0.5"). */
void st_json_double(struct strbuf *out, double v);

/* Reads a whole file of at most @max bytes, NUL-terminated. */
int st_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct errbuf *err);

#endif
