/* standin_operator.c: the operator API (/api/v1) and the master's documents.
 *
 * Follows Master::Http::api() after the method and Content-Type checks: the
 * JSON-to-Call conversion, validation ("Failed to validate master::Call: ..."),
 * Accept for every call (406), then the call. GET_* calls answer 200 with a
 * JSON Response; calls that change something answer 200 with an empty body;
 * SUBSCRIBE answers a RecordIO stream (no Mesos-Stream-Id) whose first record
 * is SUBSCRIBED with the full get_state, then HEARTBEATs. Above
 * --max-operator-subscribers the oldest subscriber's stream ends cleanly.
 *
 * The state documents (/master/state and get_state) are built once: they are
 * deterministic for a given configuration and padded with made-up frameworks
 * to about --state-size KiB, so tests can compare large bodies byte for byte.
 * Real subscriptions are not listed there (that would break determinism). */
#include "config.h"

#include "standin.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUILD_DATE "2020-11-24 00:00:00"
#define BUILD_TIME 1606176000.0
#define BUILD_USER "mesos-standin"

static char *state_json;     /* /master/state */
static char *get_state_json; /* Response.get_state */
static char *flags_json;     /* /flags */
static uint64_t start_ms;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct st_stream **subs; /* operator subscribers, oldest first */
static size_t n_subs, cap_subs;

/* ---------------------------------------------------------------------------
 * Documents
 * ------------------------------------------------------------------------- */

static void flag(struct strbuf *sb, const char *name, const char *value, bool *first)
{
    strbuf_puts(sb, *first ? "" : ",");
    strbuf_json_string(sb, name);
    strbuf_puts(sb, ":");
    strbuf_json_string(sb, value);
    *first = false;
}

/* The master's flags as strings, sorted by name (stout's flag map). */
static void flags_object(struct strbuf *sb)
{
    const struct st_config *cfg = st_cfg();
    char *zk = cfg->zk_text ? zkurl_to_redacted(&cfg->zk) : NULL;
    char port[16], timeout[32], subs_max[16];
    bool first = true;

    snprintf(port, sizeof(port), "%u", cfg->bound_port);
    if (cfg->zk_session_timeout_ms % 1000 == 0) /* stout's Duration */
        snprintf(timeout, sizeof(timeout), "%usecs", cfg->zk_session_timeout_ms / 1000);
    else
        snprintf(timeout, sizeof(timeout), "%ums", cfg->zk_session_timeout_ms);
    snprintf(subs_max, sizeof(subs_max), "%u", cfg->max_operator_subscribers);
    strbuf_puts(sb, "{");
    flag(sb, "authenticate_http_frameworks", cfg->require_auth ? "true" : "false", &first);
    flag(sb, "authenticate_http_readonly", cfg->require_auth ? "true" : "false", &first);
    flag(sb, "authenticate_http_readwrite", cfg->require_auth ? "true" : "false", &first);
    flag(sb, "hostname", cfg->hostname, &first);
    flag(sb, "hostname_lookup", "true", &first);
    flag(sb, "ip", cfg->ip, &first);
    flag(sb, "max_operator_event_stream_subscribers", subs_max, &first);
    flag(sb, "port", port, &first);
    flag(sb, "quorum", "1", &first);
    flag(sb, "registry", "in_memory", &first);
    if (zk) {
        flag(sb, "zk", zk, &first);
        flag(sb, "zk_session_timeout", timeout, &first);
    }
    strbuf_puts(sb, "}");
    free(zk);
}

/* One made-up framework as the state endpoint writes frameworks. */
static void padding_framework(struct strbuf *sb, unsigned i)
{
    const struct st_config *cfg = st_cfg();
    static const char resources[] = "{\"disk\":0.0,\"mem\":0.0,\"gpus\":0.0,\"cpus\":0.0}";

    strbuf_printf(sb, "{\"id\":\"%s-P%04u\",\"name\":\"standin-padding-%04u\",", cfg->id, i, i);
    strbuf_printf(sb, "\"used_resources\":%s,\"offered_resources\":%s,\"capabilities\":[],",
                  resources, resources);
    strbuf_puts(sb, "\"hostname\":");
    strbuf_json_string(sb, cfg->hostname);
    strbuf_puts(sb, ",\"webui_url\":\"\",\"active\":true,\"connected\":true,\"recovered\":false,"
                    "\"user\":\"root\",\"failover_timeout\":0.0,\"checkpoint\":false,");
    strbuf_printf(sb, "\"registered_time\":%.1f,\"unregistered_time\":0.0,\"resources\":%s,",
                  BUILD_TIME + i, resources);
    strbuf_puts(sb, "\"role\":\"*\",\"tasks\":[],\"unreachable_tasks\":[],\"completed_tasks\":[],"
                    "\"offers\":[],\"executors\":[]}");
}

/* The same framework as GetFrameworks.Framework. */
static void padding_v1_framework(struct strbuf *sb, unsigned i)
{
    const struct st_config *cfg = st_cfg();

    strbuf_puts(sb, "{\"framework_info\":{\"user\":\"root\",");
    strbuf_printf(sb, "\"name\":\"standin-padding-%04u\",\"id\":{\"value\":\"%s-P%04u\"},", i,
                  cfg->id, i);
    strbuf_puts(sb, "\"failover_timeout\":0.0,\"checkpoint\":false,\"role\":\"*\",\"hostname\":");
    strbuf_json_string(sb, cfg->hostname);
    strbuf_printf(sb,
                  "},\"active\":true,\"connected\":true,\"registered_time\":{\"nanoseconds\":"
                  "%llu},\"recovered\":false}",
                  (unsigned long long)(BUILD_TIME + i) * 1000000000ull);
}

/* Appends padding frameworks (comma-separated) until @sb + @tail reach @target. */
static void pad(struct strbuf *sb, size_t tail, size_t target,
                void (*one)(struct strbuf *, unsigned))
{
    for (unsigned i = 0; sb->len + tail < target; i++) {
        if (i)
            strbuf_puts(sb, ",");
        one(sb, i);
    }
}

static void build_state(void)
{
    const struct st_config *cfg = st_cfg();
    static const char tail[] = "],\"completed_frameworks\":[],\"orphan_tasks\":[],"
                               "\"unregistered_frameworks\":[]}";
    struct strbuf sb = {0};

    strbuf_puts(&sb, "{\"version\":");
    strbuf_json_string(&sb, cfg->version);
    strbuf_printf(&sb, ",\"build_date\":\"%s\",\"build_time\":%.1f,\"build_user\":\"%s\",",
                  BUILD_DATE, BUILD_TIME, BUILD_USER);
    strbuf_puts(&sb, "\"id\":");
    strbuf_json_string(&sb, cfg->id);
    strbuf_puts(&sb, ",\"pid\":");
    strbuf_json_string(&sb, cfg->pid);
    strbuf_puts(&sb, ",\"hostname\":");
    strbuf_json_string(&sb, cfg->hostname);
    strbuf_puts(&sb, ",\"capabilities\":[{\"type\":\"AGENT_UPDATE\"},{\"type\":\"AGENT_DRAINING\"},"
                     "{\"type\":\"QUOTA_V2\"}],\"activated_slaves\":0,\"deactivated_slaves\":0,"
                     "\"unreachable_slaves\":0,\"leader\":");
    strbuf_json_string(&sb, cfg->pid);
    strbuf_printf(&sb, ",\"leader_info\":%s,\"flags\":", cfg->info_json_fields);
    flags_object(&sb);
    strbuf_puts(&sb, ",\"slaves\":[],\"recovered_slaves\":[],\"frameworks\":[");
    pad(&sb, sizeof(tail) - 1, (size_t)cfg->state_size_kb * 1024, padding_framework);
    strbuf_puts(&sb, tail);
    state_json = strbuf_steal(&sb);
}

static void build_get_state(void)
{
    static const char tail[] = "]},\"get_agents\":{}}";
    struct strbuf sb = {0};

    strbuf_puts(&sb, "{\"get_tasks\":{},\"get_executors\":{},\"get_frameworks\":{\"frameworks\":[");
    pad(&sb, sizeof(tail) - 1, (size_t)st_cfg()->state_size_kb * 1024, padding_v1_framework);
    strbuf_puts(&sb, tail);
    get_state_json = strbuf_steal(&sb);
}

void st_operator_init(void)
{
    struct strbuf sb = {0};

    start_ms = time_now_ms();
    strbuf_puts(&sb, "{\"flags\":");
    flags_object(&sb);
    strbuf_puts(&sb, "}");
    flags_json = strbuf_steal(&sb);
    build_state();
    build_get_state();
}

void st_operator_done(void)
{
    freep(&state_json);
    freep(&get_state_json);
    freep(&flags_json);
}

const char *st_state_json(void)
{
    return state_json;
}

const char *st_flags_json(void)
{
    return flags_json;
}

void st_metrics_json(struct strbuf *out)
{
    struct st_leader l;

    st_effective_leader(&l);
    strbuf_printf(out, "{\"master/elected\":%s,\"master/operator_event_stream_subscribers\":",
                  l.elected ? "1.0" : "0.0");
    st_json_double(out, (double)st_operator_subscribers());
    strbuf_puts(out, ",\"master/uptime_secs\":");
    st_json_double(out, (double)((time_now_ms() - start_ms) / 1000));
    strbuf_puts(out, "}");
}

void st_version_json(struct strbuf *out)
{
    strbuf_printf(out,
                  "{\"build_date\":\"%s\",\"build_time\":%.1f,\"build_user\":\"%s\","
                  "\"version\":",
                  BUILD_DATE, BUILD_TIME, BUILD_USER);
    strbuf_json_string(out, st_cfg()->version);
    strbuf_puts(out, "}");
}

/* ---------------------------------------------------------------------------
 * SUBSCRIBE
 * ------------------------------------------------------------------------- */

static void sub_closed(struct st_stream *s)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_subs; i++) {
        if (subs[i] != s)
            continue;
        memmove(&subs[i], &subs[i + 1], (n_subs - i - 1) * sizeof(*subs));
        n_subs--;
        st_stream_unref(s);
        break;
    }
    pthread_mutex_unlock(&lock);
}

static enum MHD_Result subscribe(struct st_request *rq)
{
    struct strbuf ev = {0};
    struct st_faults f;
    struct st_stream *s;
    enum MHD_Result ret;

    st_faults_get(&f);
    strbuf_printf(&ev, "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"get_state\":%s,",
                  get_state_json);
    strbuf_puts(&ev, "\"heartbeat_interval_seconds\":");
    st_json_double(&ev, f.heartbeat_interval);
    strbuf_puts(&ev, "}}");
    st_faults_done(&f);

    pthread_mutex_lock(&lock);
    s = st_stream_new(rq->conn, sub_closed, ev.data, true);
    while (n_subs && n_subs >= st_cfg()->max_operator_subscribers) {
        log_info("operator subscribers at the limit (%u): closing the oldest (stream %u)",
                 st_cfg()->max_operator_subscribers, st_stream_serial(subs[0]));
        st_stream_end(subs[0]);
        st_stream_unref(subs[0]);
        memmove(&subs[0], &subs[1], (n_subs - 1) * sizeof(*subs));
        n_subs--;
    }
    if (n_subs == cap_subs) {
        cap_subs = cap_subs ? cap_subs * 2 : 16;
        subs = xreallocarray(subs, cap_subs, sizeof(*subs));
    }
    subs[n_subs++] = s; /* the list's reference */
    st_stream_ref(s);   /* the caller's */
    pthread_mutex_unlock(&lock);
    strbuf_done(&ev);

    ret = st_reply_stream(rq, s, NULL);
    st_stream_unref(s);
    return ret;
}

size_t st_operator_subscribers(void)
{
    size_t n;

    pthread_mutex_lock(&lock);
    n = n_subs;
    pthread_mutex_unlock(&lock);
    return n;
}

void st_operator_cleanup(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_subs; i++)
        st_stream_unref(subs[i]);
    freep(&subs);
    n_subs = cap_subs = 0;
    pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------------- */

enum call_kind { CALL_GET, CALL_UPDATE, CALL_SPECIAL };

/* v1 master.proto call types; "field" is the payload Mesos requires. */
static const struct {
    const char *type;
    enum call_kind kind;
    const char *field;
} call_types[] = {
    {"UNKNOWN", CALL_SPECIAL, NULL},
    {"GET_HEALTH", CALL_SPECIAL, NULL},
    {"GET_FLAGS", CALL_SPECIAL, NULL},
    {"GET_VERSION", CALL_SPECIAL, NULL},
    {"GET_METRICS", CALL_SPECIAL, "get_metrics"},
    {"GET_LOGGING_LEVEL", CALL_SPECIAL, NULL},
    {"SET_LOGGING_LEVEL", CALL_UPDATE, "set_logging_level"},
    {"LIST_FILES", CALL_GET, "list_files"},
    {"READ_FILE", CALL_SPECIAL, "read_file"},
    {"GET_STATE", CALL_SPECIAL, NULL},
    {"GET_AGENTS", CALL_GET, NULL},
    {"GET_FRAMEWORKS", CALL_SPECIAL, NULL},
    {"GET_EXECUTORS", CALL_GET, NULL},
    {"GET_OPERATIONS", CALL_GET, NULL},
    {"GET_TASKS", CALL_GET, NULL},
    {"GET_ROLES", CALL_GET, NULL},
    {"GET_WEIGHTS", CALL_GET, NULL},
    {"UPDATE_WEIGHTS", CALL_UPDATE, "update_weights"},
    {"GET_MASTER", CALL_SPECIAL, NULL},
    {"SUBSCRIBE", CALL_SPECIAL, NULL},
    {"RESERVE_RESOURCES", CALL_UPDATE, "reserve_resources"},
    {"UNRESERVE_RESOURCES", CALL_UPDATE, "unreserve_resources"},
    {"CREATE_VOLUMES", CALL_UPDATE, "create_volumes"},
    {"DESTROY_VOLUMES", CALL_UPDATE, "destroy_volumes"},
    {"GROW_VOLUME", CALL_UPDATE, "grow_volume"},
    {"SHRINK_VOLUME", CALL_UPDATE, "shrink_volume"},
    {"GET_MAINTENANCE_STATUS", CALL_GET, NULL},
    {"GET_MAINTENANCE_SCHEDULE", CALL_GET, NULL},
    {"UPDATE_MAINTENANCE_SCHEDULE", CALL_UPDATE, "update_maintenance_schedule"},
    {"START_MAINTENANCE", CALL_UPDATE, "start_maintenance"},
    {"STOP_MAINTENANCE", CALL_UPDATE, "stop_maintenance"},
    {"DRAIN_AGENT", CALL_UPDATE, "drain_agent"},
    {"DEACTIVATE_AGENT", CALL_UPDATE, "deactivate_agent"},
    {"REACTIVATE_AGENT", CALL_UPDATE, "reactivate_agent"},
    {"GET_QUOTA", CALL_GET, NULL},
    {"UPDATE_QUOTA", CALL_UPDATE, "update_quota"},
    {"SET_QUOTA", CALL_UPDATE, "set_quota"},
    {"REMOVE_QUOTA", CALL_UPDATE, "remove_quota"},
    {"TEARDOWN", CALL_UPDATE, "teardown"},
    {"MARK_AGENT_GONE", CALL_UPDATE, "mark_agent_gone"},
};

static void lower(char *out, const char *in, size_t size)
{
    size_t i = 0;

    for (; in[i] && i + 1 < size; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
    out[i] = '\0';
}

/* Answers {"type":T,"<t>":<payload>}. */
static enum MHD_Result reply_response(struct st_request *rq, const char *type, const char *payload)
{
    struct strbuf sb = {0};
    char key[64];
    enum MHD_Result ret;

    lower(key, type, sizeof(key));
    strbuf_printf(&sb, "{\"type\":\"%s\",\"%s\":%s}", type, key, payload);
    ret = st_reply_json(rq, MHD_HTTP_OK, sb.data);
    strbuf_done(&sb);
    return ret;
}

static enum MHD_Result special(struct st_request *rq, const char *type)
{
    struct strbuf sb = {0};
    enum MHD_Result ret;

    if (strcmp(type, "UNKNOWN") == 0)
        return st_reply_text(rq, MHD_HTTP_NOT_IMPLEMENTED, "501 Not Implemented.");
    if (strcmp(type, "SUBSCRIBE") == 0)
        return subscribe(rq);
    if (strcmp(type, "GET_HEALTH") == 0)
        return reply_response(rq, type, "{\"healthy\":true}");
    if (strcmp(type, "GET_LOGGING_LEVEL") == 0)
        return reply_response(rq, type, "{\"level\":0}");
    if (strcmp(type, "READ_FILE") == 0)
        return reply_response(rq, type, "{\"size\":0,\"data\":\"\"}");
    if (strcmp(type, "GET_STATE") == 0) {
        strbuf_puts(&sb, get_state_json);
    } else if (strcmp(type, "GET_FRAMEWORKS") == 0) {
        const char *fw = strstr(get_state_json, "\"get_frameworks\":");
        const char *end = strstr(get_state_json, ",\"get_agents\"");
        strbuf_append(&sb, fw + 17, (size_t)(end - fw - 17));
    } else if (strcmp(type, "GET_VERSION") == 0) {
        strbuf_puts(&sb, "{\"version_info\":{\"version\":");
        strbuf_json_string(&sb, st_cfg()->version);
        strbuf_printf(&sb, ",\"build_date\":\"%s\",\"build_time\":%.1f,\"build_user\":\"%s\"}}",
                      BUILD_DATE, BUILD_TIME, BUILD_USER);
    } else if (strcmp(type, "GET_MASTER") == 0) {
        strbuf_printf(&sb, "{\"master_info\":%s}", st_cfg()->info_json_fields);
    } else if (strcmp(type, "GET_FLAGS") == 0) {
        strbuf_puts(&sb, "{\"flags\":[]}"); /* see /flags for the values */
    } else {                                /* GET_METRICS */
        struct st_leader l;
        st_effective_leader(&l);
        strbuf_printf(&sb, "{\"metrics\":[{\"name\":\"master/elected\",\"value\":%s}]}",
                      l.elected ? "1.0" : "0.0");
    }
    ret = reply_response(rq, type, sb.data);
    strbuf_done(&sb);
    return ret;
}

enum MHD_Result st_operator_call(struct st_request *rq, struct json_object *call)
{
    struct json_object *t = NULL, *payload = NULL;
    const char *name = NULL;
    char *msg;
    enum MHD_Result ret;
    size_t i, n = sizeof(call_types) / sizeof(call_types[0]);

    if (json_object_object_get_ex(call, "type", &t) && json_object_is_type(t, json_type_string))
        name = json_object_get_string(t);
    for (i = 0; name && i < n; i++)
        if (strcmp(name, call_types[i].type) == 0)
            break;
    if (!name || i == n)
        return st_reply_text(rq, MHD_HTTP_BAD_REQUEST,
                             "Failed to validate master::Call: Expecting 'type' to be present");
    if (call_types[i].field && (!json_object_object_get_ex(call, call_types[i].field, &payload) ||
                                json_object_is_type(payload, json_type_null))) {
        msg = xasprintf("Failed to validate master::Call: Expecting '%s' to be present",
                        call_types[i].field);
        ret = st_reply_text(rq, MHD_HTTP_BAD_REQUEST, msg);
        free(msg);
        return ret;
    }
    if (!st_accepts_media_type(st_header(rq, "Accept"), "application/json"))
        return st_reply_text(rq, MHD_HTTP_NOT_ACCEPTABLE,
                             "Expecting 'Accept' to allow 'application/x-protobuf' or "
                             "'application/json'");
    log_debug("operator call %s", call_types[i].type);
    if (call_types[i].kind == CALL_UPDATE)
        return st_reply(rq, MHD_HTTP_OK, NULL, NULL, 0);
    if (call_types[i].kind == CALL_GET)
        return reply_response(rq, call_types[i].type, "{}");
    return special(rq, call_types[i].type);
}
