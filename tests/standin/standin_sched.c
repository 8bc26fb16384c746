/* standin_sched.c: the scheduler API (/api/v1/scheduler) and the frameworks.
 *
 * Follows Master::Http::scheduler() after the method and Content-Type checks:
 * the JSON-to-Call conversion errors, validation ("Failed to validate
 * scheduler::Call: ..."), Accept for SUBSCRIBE and RECONCILE_OPERATIONS (406),
 * then for SUBSCRIBE a new stream with a new Mesos-Stream-Id and, for any other
 * call, the framework lookup (400 "Framework cannot be found"), the
 * subscription (403 "Framework is not subscribed"), and the stream ID (400).
 *
 * A framework keeps its ID while the stand-in runs. SUBSCRIBE without an ID
 * gets "<master id>-NNNN"; a SUBSCRIBE for a framework that is already
 * subscribed fails the old stream over: it gets ERROR "Framework failed over"
 * and then a clean end. When a subscriber's connection goes away the
 * framework is disconnected (403 until it subscribes again). TEARDOWN removes
 * the framework (its stream ends cleanly); a later SUBSCRIBE with that ID is
 * refused with ERROR "Framework has been removed", as Mesos does. */
#include "config.h"

#include "standin.h"

#include "base/log.h"
#include "base/mem.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMEWORKS 10000
#define MAX_REMOVED    1000
#define MAX_ID         256

struct framework {
    char *id;
    struct st_stream *stream; /* the current subscription, or NULL */
    char stream_id[37];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct framework *fws;
static size_t n_fws, cap_fws;
static unsigned next_framework;
static char *removed[MAX_REMOVED]; /* ring of torn-down IDs */
static size_t n_removed;

/* Call types of v1 scheduler.proto and the field each one needs. */
static const struct {
    const char *type;
    const char *field;
} call_types[] = {
    {"SUBSCRIBE", "subscribe"},
    {"TEARDOWN", NULL},
    {"ACCEPT", "accept"},
    {"DECLINE", "decline"},
    {"ACCEPT_INVERSE_OFFERS", "accept_inverse_offers"},
    {"DECLINE_INVERSE_OFFERS", "decline_inverse_offers"},
    {"REVIVE", NULL},
    {"KILL", "kill"},
    {"SHUTDOWN", "shutdown"},
    {"ACKNOWLEDGE", "acknowledge"},
    {"ACKNOWLEDGE_OPERATION_STATUS", "acknowledge_operation_status"},
    {"RECONCILE", "reconcile"},
    {"RECONCILE_OPERATIONS", "reconcile_operations"},
    {"MESSAGE", "message"},
    {"REQUEST", "request"},
    {"SUPPRESS", NULL},
    {"UPDATE_FRAMEWORK", "update_framework"},
    {"UNKNOWN", NULL},
};

/* ---------------------------------------------------------------------------
 * JSON helpers
 * ------------------------------------------------------------------------- */

static struct json_object *member(struct json_object *obj, const char *key)
{
    struct json_object *v = NULL;

    if (!obj || !json_object_is_type(obj, json_type_object))
        return NULL;
    if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return v;
}

/* The "value" of a FrameworkID object, or NULL. */
static const char *id_value(struct json_object *id)
{
    struct json_object *v = member(id, "value");

    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Adds "path" to the missing-fields list when @obj lacks string @key. */
static void require_string(struct json_object *obj, const char *key, const char *path,
                           struct strbuf *missing)
{
    struct json_object *v = member(obj, key);

    if (v && json_object_is_type(v, json_type_string))
        return;
    strbuf_puts(missing, missing->len ? ", " : "");
    strbuf_puts(missing, path);
}

/* The required fields protobuf would insist on, as "Missing required fields". */
static void missing_fields(struct json_object *call, struct strbuf *missing)
{
    struct json_object *sub = member(call, "subscribe");
    struct json_object *fid = member(call, "framework_id");

    if (fid)
        require_string(fid, "value", "framework_id.value", missing);
    if (sub) {
        struct json_object *fi = member(sub, "framework_info");
        if (!fi) {
            strbuf_puts(missing, missing->len ? ", " : "");
            strbuf_puts(missing, "subscribe.framework_info");
        } else {
            require_string(fi, "user", "subscribe.framework_info.user", missing);
            require_string(fi, "name", "subscribe.framework_info.name", missing);
        }
    }
}

/* Finds the call type; NULL when absent or unknown (proto2 drops unknown
 * enum values of an optional field, so both read as "no type"). */
static int call_index(struct json_object *call)
{
    struct json_object *t = member(call, "type");
    const char *name =
        t && json_object_is_type(t, json_type_string) ? json_object_get_string(t) : NULL;

    for (size_t i = 0; name && i < sizeof(call_types) / sizeof(call_types[0]); i++)
        if (strcmp(name, call_types[i].type) == 0)
            return (int)i;
    return -1;
}

/* validation::scheduler::call::validate(); returns an error text or NULL. */
static const char *validate(struct json_object *call, int idx, char *buf, size_t size)
{
    const char *fid = id_value(member(call, "framework_id"));

    if (idx < 0)
        return "Expecting 'type' to be present";
    if (strcmp(call_types[idx].type, "SUBSCRIBE") == 0) {
        struct json_object *fi = member(member(call, "subscribe"), "framework_info");
        const char *fi_id = id_value(member(fi, "id"));
        if (!member(call, "subscribe"))
            return "Expecting 'subscribe' to be present";
        if (strcmp(fi_id ? fi_id : "", fid ? fid : "") != 0)
            return "'framework_id' differs from 'subscribe.framework_info.id'";
        return NULL;
    }
    if (!fid)
        return "Expecting 'framework_id' to be present";
    if (call_types[idx].field && !member(call, call_types[idx].field)) {
        snprintf(buf, size, "Expecting '%s' to be present", call_types[idx].field);
        return buf;
    }
    if (strcmp(call_types[idx].type, "UPDATE_FRAMEWORK") == 0) {
        struct json_object *fi = member(member(call, "update_framework"), "framework_info");
        const char *fi_id = id_value(member(fi, "id"));
        if (strcmp(fi_id ? fi_id : "", fid) != 0)
            return "'framework_id' differs from 'update_framework.framework_info.id'";
    }
    return NULL;
}

/* ---------------------------------------------------------------------------
 * The registry (lock held)
 * ------------------------------------------------------------------------- */

static struct framework *find(const char *id)
{
    for (size_t i = 0; i < n_fws; i++)
        if (strcmp(fws[i].id, id) == 0)
            return &fws[i];
    return NULL;
}

static bool was_removed(const char *id)
{
    for (size_t i = 0; i < n_removed && i < MAX_REMOVED; i++)
        if (strcmp(removed[i], id) == 0)
            return true;
    return false;
}

static struct framework *add(const char *id)
{
    struct framework *fw;

    if (n_fws == cap_fws) {
        cap_fws = cap_fws ? cap_fws * 2 : 16;
        fws = xreallocarray(fws, cap_fws, sizeof(*fws));
    }
    fw = &fws[n_fws++];
    memset(fw, 0, sizeof(*fw));
    fw->id = id ? xstrdup(id) : xasprintf("%s-%04u", st_cfg()->id, next_framework++);
    return fw;
}

static void remove_framework(struct framework *fw)
{
    size_t slot = n_removed++ % MAX_REMOVED;

    free(removed[slot]);
    removed[slot] = fw->id;
    if (fw->stream) {
        st_stream_end(fw->stream);
        st_stream_unref(fw->stream);
    }
    *fw = fws[--n_fws];
}

/* A subscriber's connection is gone: the framework is disconnected. */
static void stream_closed(struct st_stream *s)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_fws; i++) {
        if (fws[i].stream != s)
            continue;
        log_info("framework %s disconnected (stream %u closed)", fws[i].id, st_stream_serial(s));
        fws[i].stream = NULL;
        fws[i].stream_id[0] = '\0';
        st_stream_unref(s);
        break;
    }
    pthread_mutex_unlock(&lock);
}

/* ---------------------------------------------------------------------------
 * SUBSCRIBE
 * ------------------------------------------------------------------------- */

static char *subscribed_event(const char *framework_id)
{
    struct strbuf sb = {0};
    struct st_faults f;

    st_faults_get(&f);
    strbuf_puts(&sb, "{\"type\":\"SUBSCRIBED\",\"subscribed\":{\"framework_id\":{\"value\":");
    strbuf_json_string(&sb, framework_id);
    strbuf_puts(&sb, "},\"heartbeat_interval_seconds\":");
    st_json_double(&sb, f.heartbeat_interval);
    strbuf_printf(&sb, ",\"master_info\":%s}}", st_cfg()->info_json_fields);
    st_faults_done(&f);
    return strbuf_steal(&sb);
}

static char *error_event(const char *message)
{
    struct strbuf sb = {0};

    strbuf_puts(&sb, "{\"type\":\"ERROR\",\"error\":{\"message\":");
    strbuf_json_string(&sb, message);
    strbuf_puts(&sb, "}}");
    return strbuf_steal(&sb);
}

/* Creates the subscription under the lock; returns the new stream with a
 * reference for the caller and its stream ID in @sid. */
static struct st_stream *subscribe_locked(struct st_request *rq, const char *id, char sid[37],
                                          struct st_stream **ret_old)
{
    struct framework *fw = id ? find(id) : NULL;
    struct st_stream *s;
    char *event;

    *ret_old = NULL;
    st_uuid(sid);
    if (id && was_removed(id)) {
        event = error_event("Framework has been removed");
        s = st_stream_new(rq->conn, NULL, event, false);
        free(event);
        return s;
    }
    if (!fw && n_fws >= MAX_FRAMEWORKS)
        return NULL;
    if (!fw)
        fw = add(id);
    event = subscribed_event(fw->id);
    s = st_stream_new(rq->conn, stream_closed, event, true);
    free(event);
    *ret_old = fw->stream;
    fw->stream = s; /* the registry's reference */
    snprintf(fw->stream_id, sizeof(fw->stream_id), "%s", sid);
    st_stream_ref(s); /* the caller's */
    log_info("framework %s subscribed (stream %u%s)", fw->id, st_stream_serial(s),
             *ret_old ? ", failing over the old one" : "");
    return s;
}

static enum MHD_Result subscribe(struct st_request *rq, struct json_object *call)
{
    struct json_object *fi = member(member(call, "subscribe"), "framework_info");
    const char *id = id_value(member(fi, "id"));
    struct st_stream *s, *old;
    char sid[37];
    enum MHD_Result ret;

    if (st_header(rq, "Mesos-Stream-Id"))
        return st_reply_text(rq, MHD_HTTP_BAD_REQUEST,
                             "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    if (id && (!*id || strlen(id) > MAX_ID))
        id = NULL; /* Mesos treats an empty ID as none; bound what we store */
    pthread_mutex_lock(&lock);
    s = subscribe_locked(rq, id, sid, &old);
    if (old) {
        char *event = error_event("Framework failed over");
        st_stream_push(old, event);
        st_stream_end(old);
        st_stream_unref(old);
        free(event);
    }
    pthread_mutex_unlock(&lock);
    if (!s)
        return st_reply_text(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "stand-in framework limit reached");
    ret = st_reply_stream(rq, s, sid);
    st_stream_unref(s);
    return ret;
}

/* ---------------------------------------------------------------------------
 * Other calls
 * ------------------------------------------------------------------------- */

static enum MHD_Result other_call(struct st_request *rq, struct json_object *call, int idx)
{
    const char *fid = id_value(member(call, "framework_id"));
    const char *sid = st_header(rq, "Mesos-Stream-Id");
    const char *type = call_types[idx].type;
    struct framework *fw;
    char *msg = NULL;
    unsigned code = 0;
    enum MHD_Result ret;

    pthread_mutex_lock(&lock);
    fw = find(fid);
    if (!fw) {
        code = MHD_HTTP_BAD_REQUEST;
        msg = xstrdup("Framework cannot be found");
    } else if (!fw->stream) {
        code = MHD_HTTP_FORBIDDEN;
        msg = xstrdup("Framework is not subscribed");
    } else if (!sid) {
        code = MHD_HTTP_BAD_REQUEST;
        msg = xstrdup("All non-subscribe calls should include the 'Mesos-Stream-Id' header");
    } else if (strcmp(sid, fw->stream_id) != 0) {
        code = MHD_HTTP_BAD_REQUEST;
        msg = xasprintf("The stream ID '%s' included in this request didn't match the stream ID "
                        "currently associated with framework ID %s",
                        sid, fw->id);
    } else if (strcmp(type, "TEARDOWN") == 0) {
        log_info("framework %s torn down", fw->id);
        remove_framework(fw);
    }
    pthread_mutex_unlock(&lock);
    if (code) {
        ret = st_reply_text(rq, code, msg);
        free(msg);
        return ret;
    }
    if (strcmp(type, "UNKNOWN") == 0)
        return st_reply_text(rq, MHD_HTTP_NOT_IMPLEMENTED, "501 Not Implemented.");
    if (strcmp(type, "UPDATE_FRAMEWORK") == 0)
        return st_reply(rq, MHD_HTTP_OK, NULL, NULL, 0);
    if (strcmp(type, "RECONCILE_OPERATIONS") == 0)
        return st_reply_json(rq, MHD_HTTP_OK,
                             "{\"type\":\"RECONCILE_OPERATIONS\",\"reconcile_operations\":{}}");
    return st_reply(rq, MHD_HTTP_ACCEPTED, NULL, NULL, 0);
}

enum MHD_Result st_sched_call(struct st_request *rq, struct json_object *call)
{
    struct strbuf missing = {0};
    struct json_object *type = member(call, "type");
    const char *err;
    char buf[160];
    char *msg;
    int idx;
    enum MHD_Result ret;

    if (type && !json_object_is_type(type, json_type_string))
        return st_reply_text(rq, MHD_HTTP_BAD_REQUEST,
                             "Failed to convert JSON into Call protobuf: Not expecting a JSON "
                             "value other than a string for field 'type'");
    missing_fields(call, &missing);
    if (missing.len) {
        msg = xasprintf("Failed to convert JSON into Call protobuf: Missing required fields: %s",
                        missing.data);
        ret = st_reply_text(rq, MHD_HTTP_BAD_REQUEST, msg);
        free(msg);
        strbuf_done(&missing);
        return ret;
    }
    idx = call_index(call);
    err = validate(call, idx, buf, sizeof(buf));
    if (err) {
        msg = xasprintf("Failed to validate scheduler::Call: %s", err);
        ret = st_reply_text(rq, MHD_HTTP_BAD_REQUEST, msg);
        free(msg);
        return ret;
    }
    if ((strcmp(call_types[idx].type, "SUBSCRIBE") == 0 ||
         strcmp(call_types[idx].type, "RECONCILE_OPERATIONS") == 0) &&
        !st_accepts_media_type(st_header(rq, "Accept"), "application/json"))
        return st_reply_text(rq, MHD_HTTP_NOT_ACCEPTABLE,
                             "Expecting 'Accept' to allow 'application/x-protobuf' or "
                             "'application/json'");
    if (strcmp(call_types[idx].type, "SUBSCRIBE") == 0)
        return subscribe(rq, call);
    return other_call(rq, call, idx);
}

/* ---------------------------------------------------------------------------
 * Status and cleanup
 * ------------------------------------------------------------------------- */

void st_sched_status(struct strbuf *out)
{
    pthread_mutex_lock(&lock);
    strbuf_puts(out, "[");
    for (size_t i = 0; i < n_fws; i++) {
        strbuf_puts(out, i ? ",{\"id\":" : "{\"id\":");
        strbuf_json_string(out, fws[i].id);
        strbuf_printf(out, ",\"connected\":%s,\"stream_id\":", fws[i].stream ? "true" : "false");
        strbuf_json_string(out, fws[i].stream_id);
        strbuf_puts(out, "}");
    }
    strbuf_puts(out, "]");
    pthread_mutex_unlock(&lock);
}

void st_sched_cleanup(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_fws; i++) {
        st_stream_unref(fws[i].stream);
        free(fws[i].id);
    }
    freep(&fws);
    n_fws = cap_fws = 0;
    for (size_t i = 0; i < MAX_REMOVED; i++)
        freep(&removed[i]);
    n_removed = 0;
    pthread_mutex_unlock(&lock);
}
