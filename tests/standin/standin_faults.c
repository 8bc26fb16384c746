/* standin_faults.c: the fault switches a test flips on a running stand-in.
 *
 * One lock guards the settings; copies go out to the request and stream
 * threads. The same lock and one condition variable carry the "hang" switch
 * and the shut-down flag, so that every blocked request thread wakes up when
 * either changes. Settings come from the command line (st_faults_apply_option)
 * or from POST /__standin/faults (st_faults_apply_json). */
#include "config.h"

#include "standin.h"

#include "base/mem.h"
#include "base/timeutil.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bounds on what a test may ask for. */
#define MAX_DELAY_MS      (10u * 60 * 1000)
#define MAX_RECOVERY_MS   (24u * 3600 * 1000)
#define MAX_COUNT         1000000u
#define MAX_OVERRIDE_BODY (1024u * 1024)
#define MIN_HEARTBEAT     0.01
#define MAX_HEARTBEAT     86400.0

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond; /* CLOCK_MONOTONIC */
static struct st_faults cur;
static bool shutting_down;

void st_faults_init(double heartbeat_interval)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
    memset(&cur, 0, sizeof(cur));
    cur.heartbeat_interval = heartbeat_interval;
}

void st_faults_cleanup(void)
{
    st_raw_clear();
    freep(&cur.override_body);
    pthread_cond_destroy(&cond);
}

void st_faults_get(struct st_faults *ret)
{
    pthread_mutex_lock(&lock);
    *ret = cur;
    ret->override_body = xstrdup(cur.override_body);
    pthread_mutex_unlock(&lock);
}

void st_faults_done(struct st_faults *f)
{
    freep(&f->override_body);
}

bool st_faults_recovering(void)
{
    bool on = false;

    pthread_mutex_lock(&lock);
    on = cur.recovery_until_ms && time_now_ms() < cur.recovery_until_ms;
    pthread_mutex_unlock(&lock);
    return on;
}

/* ---------------------------------------------------------------------------
 * Parsing values (shared by JSON and the command line)
 * ------------------------------------------------------------------------- */

static int parse_uint(const char *name, const char *text, unsigned max, unsigned *ret,
                      struct errbuf *err)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 10);
    if (!*text || *end || errno || text[0] == '-' || v > max)
        return errbuf_set(err, -EINVAL, "'%s' for %s is not a number from 0 to %u", text, name,
                          max);
    *ret = (unsigned)v;
    return 0;
}

static int check_heartbeat(double v, struct errbuf *err)
{
    if (!isfinite(v) || v < MIN_HEARTBEAT || v > MAX_HEARTBEAT)
        return errbuf_set(err, -EINVAL, "heartbeat_interval must be from %g to %g seconds",
                          MIN_HEARTBEAT, MAX_HEARTBEAT);
    return 0;
}

static int check_redirect(const char *v, struct errbuf *err)
{
    const char *colon = strrchr(v, ':');
    unsigned port;

    if (!*v)
        return 0;
    if (strlen(v) >= sizeof(cur.redirect_to) || !colon || colon == v)
        return errbuf_set(err, -EINVAL, "redirect_to '%s' is not host:port", v);
    if (parse_uint("redirect_to port", colon + 1, 65535, &port, err) < 0 || port == 0)
        return errbuf_set(err, -EINVAL, "redirect_to '%s' is not host:port", v);
    return 0;
}

static int check_override_code(unsigned code, struct errbuf *err)
{
    if (code < 100 || code > 599)
        return errbuf_set(err, -EINVAL, "status_override code %u is not 100..599", code);
    return 0;
}

/* ---------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------- */

static int get_uint(struct json_object *v, const char *key, unsigned max, unsigned *ret,
                    struct errbuf *err)
{
    int64_t n;

    if (!json_object_is_type(v, json_type_int))
        return errbuf_set(err, -EINVAL, "'%s' must be an integer", key);
    n = json_object_get_int64(v);
    if (n < 0 || (uint64_t)n > max)
        return errbuf_set(err, -EINVAL, "'%s' must be from 0 to %u", key, max);
    *ret = (unsigned)n;
    return 0;
}

static int get_bool(struct json_object *v, const char *key, bool *ret, struct errbuf *err)
{
    if (!json_object_is_type(v, json_type_boolean))
        return errbuf_set(err, -EINVAL, "'%s' must be true or false", key);
    *ret = json_object_get_boolean(v);
    return 0;
}

/* "split_records" takes true/false (3-byte pieces) or a piece size. */
static int json_split(struct json_object *v, unsigned *ret, struct errbuf *err)
{
    bool on = false;

    if (json_object_is_type(v, json_type_int))
        return get_uint(v, "split_records", 65536, ret, err);
    if (get_bool(v, "split_records", &on, err) < 0)
        return errbuf_set(err, -EINVAL, "'split_records' must be a boolean or a piece size");
    *ret = on ? 3 : 0;
    return 0;
}

static int json_override(struct json_object *v, struct st_faults *f, struct errbuf *err)
{
    struct json_object *code, *body;
    unsigned c;

    freep(&f->override_body);
    f->override_code = 0;
    if (json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, "code", &code))
        return errbuf_set(err, -EINVAL, "'status_override' must be null or {\"code\":N,...}");
    if (get_uint(code, "status_override.code", 599, &c, err) < 0 || check_override_code(c, err) < 0)
        return -EINVAL;
    if (json_object_object_get_ex(v, "body", &body) && !json_object_is_type(body, json_type_null)) {
        if (!json_object_is_type(body, json_type_string) ||
            (size_t)json_object_get_string_len(body) > MAX_OVERRIDE_BODY)
            return errbuf_set(err, -EINVAL, "'status_override.body' must be a string");
        f->override_body = xstrdup(json_object_get_string(body));
    }
    f->override_code = c;
    return 0;
}

static int json_recovery(struct json_object *v, struct st_faults *f, struct errbuf *err)
{
    unsigned ms;

    if (get_uint(v, "recovery_ms", MAX_RECOVERY_MS, &ms, err) < 0)
        return -EINVAL;
    f->recovery_until_ms = ms ? time_now_ms() + ms : 0;
    return 0;
}

static int json_redirect(struct json_object *v, struct st_faults *f, struct errbuf *err)
{
    const char *s;

    if (json_object_is_type(v, json_type_null)) {
        f->redirect_to[0] = '\0';
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return errbuf_set(err, -EINVAL, "'redirect_to' must be a string");
    s = json_object_get_string(v);
    if (check_redirect(s, err) < 0)
        return -EINVAL;
    snprintf(f->redirect_to, sizeof(f->redirect_to), "%s", s);
    return 0;
}

static int json_heartbeat(struct json_object *v, struct st_faults *f, struct errbuf *err)
{
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return errbuf_set(err, -EINVAL, "'heartbeat_interval' must be a number");
    if (check_heartbeat(json_object_get_double(v), err) < 0)
        return -EINVAL;
    f->heartbeat_interval = json_object_get_double(v);
    return 0;
}

/* What one POST changes besides the settings: held streams to release, and
 * the raw answers (applied only once every key was accepted). */
struct apply_extra {
    bool release;
    bool raw_given;           /* "raw_answer" was there */
    struct st_raw_answer raw; /* the answer to install; no path: remove them all */
};

static int json_raw_answer(struct json_object *v, struct apply_extra *x, struct errbuf *err)
{
    st_raw_answer_done(&x->raw);
    x->raw_given = true;
    if (json_object_is_type(v, json_type_null))
        return 0;
    if (st_cfg()->tls_cert)
        return errbuf_set(err, -EINVAL, "raw answers need plain HTTP (no --tls-cert)");
    if (st_raw_parse(v, &x->raw, err) < 0)
        return -EINVAL;
    if (st_raw_room(x->raw.path) == 0)
        return errbuf_set(err, -EINVAL, "at most %u paths may have a raw answer",
                          ST_RAW_MAX_ANSWERS);
    return 0;
}

/* Applies one key to @f or @x. */
static int json_key(const char *key, struct json_object *v, struct st_faults *f,
                    struct apply_extra *x, struct errbuf *err)
{
    if (strcmp(key, "recovery_ms") == 0)
        return json_recovery(v, f, err);
    if (strcmp(key, "delay_ms") == 0)
        return get_uint(v, key, MAX_DELAY_MS, &f->delay_ms, err);
    if (strcmp(key, "hang") == 0)
        return get_bool(v, key, &f->hang, err);
    if (strcmp(key, "drop_streams_after") == 0)
        return get_uint(v, key, MAX_COUNT, &f->drop_streams_after, err);
    if (strcmp(key, "split_records") == 0)
        return json_split(v, &f->split_records, err);
    if (strcmp(key, "coalesce_records") == 0)
        return get_uint(v, key, 1000, &f->coalesce_records, err);
    if (strcmp(key, "hold_after_first") == 0)
        return get_bool(v, key, &f->hold_after_first, err);
    if (strcmp(key, "release") == 0)
        return get_bool(v, key, &x->release, err);
    if (strcmp(key, "redirect_to") == 0)
        return json_redirect(v, f, err);
    if (strcmp(key, "no_leader") == 0)
        return get_bool(v, key, &f->no_leader, err);
    if (strcmp(key, "heartbeat_interval") == 0)
        return json_heartbeat(v, f, err);
    if (strcmp(key, "status_override") == 0)
        return json_override(v, f, err);
    if (strcmp(key, "raw_answer") == 0)
        return json_raw_answer(v, x, err);
    return errbuf_set(err, -EINVAL, "unknown fault '%s'", key);
}

/* Installs or removes the raw answers a POST asked for. */
static void apply_raw(struct apply_extra *x)
{
    if (!x->raw_given)
        return;
    if (!x->raw.path)
        st_raw_clear();
    else if (st_raw_set(&x->raw) < 0)
        st_raw_answer_done(&x->raw); /* cannot happen: room was checked */
}

int st_faults_apply_json(const char *text, size_t len, struct errbuf *err)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    struct st_faults next;
    struct apply_extra x = {0};
    bool was_holding;
    int rc = 0;

    if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
        !json_object_is_type(obj, json_type_object)) {
        rc = errbuf_set(err, -EINVAL, "the body must be one JSON object");
        goto out;
    }
    st_faults_get(&next);
    json_object_object_foreach(obj, key, val)
    {
        rc = json_key(key, val, &next, &x, err);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        st_faults_done(&next);
        goto out;
    }
    pthread_mutex_lock(&lock);
    was_holding = cur.hold_after_first;
    freep(&cur.override_body);
    cur = next; /* takes next.override_body */
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    apply_raw(&x);
    if (x.release || (was_holding && !next.hold_after_first))
        st_streams_release();
    st_streams_kick(); /* the shaping or heartbeat interval may have changed */
out:
    st_raw_answer_done(&x.raw);
    json_object_put(obj);
    json_tokener_free(tok);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Command line
 * ------------------------------------------------------------------------- */

static int option_override(const char *value, struct errbuf *err)
{
    const char *colon = strchr(value, ':');
    char *code_text = xstrndup(value, colon ? (size_t)(colon - value) : strlen(value));
    unsigned code;
    int rc = parse_uint("--status-override", code_text, 599, &code, err);

    free(code_text);
    if (rc < 0 || check_override_code(code, err) < 0)
        return -EINVAL;
    cur.override_code = code;
    free(cur.override_body);
    cur.override_body = colon ? xstrdup(colon + 1) : NULL;
    return 0;
}

static int option_heartbeat(const char *value, struct errbuf *err)
{
    char *end;
    double v = strtod(value, &end);

    if (!*value || *end)
        return errbuf_set(err, -EINVAL, "'%s' is not a number of seconds", value);
    if (check_heartbeat(v, err) < 0)
        return -EINVAL;
    cur.heartbeat_interval = v;
    return 0;
}

/* Only main() calls this, before any other thread exists. */
int st_faults_apply_option(const char *name, const char *value, struct errbuf *err)
{
    unsigned v;

    if (strcmp(name, "recovery-ms") == 0) {
        if (parse_uint(name, value, MAX_RECOVERY_MS, &v, err) < 0)
            return -EINVAL;
        cur.recovery_until_ms = v ? time_now_ms() + v : 0;
        return 0;
    }
    if (strcmp(name, "delay-ms") == 0)
        return parse_uint(name, value, MAX_DELAY_MS, &cur.delay_ms, err);
    if (strcmp(name, "drop-streams-after") == 0)
        return parse_uint(name, value, MAX_COUNT, &cur.drop_streams_after, err);
    if (strcmp(name, "split-records") == 0)
        return parse_uint(name, value ? value : "3", 65536, &cur.split_records, err);
    if (strcmp(name, "coalesce-records") == 0)
        return parse_uint(name, value, 1000, &cur.coalesce_records, err);
    if (strcmp(name, "redirect-to") == 0) {
        if (check_redirect(value, err) < 0)
            return -EINVAL;
        snprintf(cur.redirect_to, sizeof(cur.redirect_to), "%s", value);
        return 0;
    }
    if (strcmp(name, "status-override") == 0)
        return option_override(value, err);
    if (strcmp(name, "heartbeat-interval") == 0)
        return option_heartbeat(value, err);
    if (strcmp(name, "hang") == 0)
        cur.hang = true;
    else if (strcmp(name, "hold-after-first") == 0)
        cur.hold_after_first = true;
    else if (strcmp(name, "no-leader") == 0)
        cur.no_leader = true;
    else
        return errbuf_set(err, -EINVAL, "unknown fault option '--%s'", name);
    return 0;
}

char *st_faults_to_json(void)
{
    struct strbuf sb = {0};
    struct st_faults f;
    uint64_t now = time_now_ms();

    st_faults_get(&f);
    strbuf_printf(&sb, "{\"coalesce_records\":%u,\"delay_ms\":%u,\"drop_streams_after\":%u,",
                  f.coalesce_records, f.delay_ms, f.drop_streams_after);
    strbuf_printf(&sb, "\"hang\":%s,\"heartbeat_interval\":", f.hang ? "true" : "false");
    st_json_double(&sb, f.heartbeat_interval);
    strbuf_printf(&sb, ",\"hold_after_first\":%s,\"no_leader\":%s,\"raw_answers\":",
                  f.hold_after_first ? "true" : "false", f.no_leader ? "true" : "false");
    st_raw_to_json(&sb);
    strbuf_printf(&sb, ",\"recovery_ms\":%llu,",
                  (unsigned long long)(f.recovery_until_ms > now ? f.recovery_until_ms - now : 0));
    strbuf_puts(&sb, "\"redirect_to\":");
    strbuf_json_string(&sb, f.redirect_to);
    strbuf_printf(&sb, ",\"split_records\":%u,\"status_override\":", f.split_records);
    if (f.override_code) {
        strbuf_printf(&sb, "{\"code\":%u,\"body\":", f.override_code);
        strbuf_json_string(&sb, f.override_body ? f.override_body : "");
        strbuf_puts(&sb, "}");
    } else {
        strbuf_puts(&sb, "null");
    }
    strbuf_puts(&sb, "}");
    st_faults_done(&f);
    return strbuf_steal(&sb);
}

/* ---------------------------------------------------------------------------
 * Waiting
 * ------------------------------------------------------------------------- */

bool st_faults_wait_unhung(void)
{
    bool ok;

    pthread_mutex_lock(&lock);
    while (cur.hang && !shutting_down)
        pthread_cond_wait(&cond, &lock);
    ok = !shutting_down;
    pthread_mutex_unlock(&lock);
    return ok;
}

bool st_sleep_ms(unsigned ms)
{
    uint64_t deadline = time_now_ns() + (uint64_t)ms * 1000000u;
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u),
                          .tv_nsec = (long)(deadline % 1000000000u)};
    bool ok;

    pthread_mutex_lock(&lock);
    while (!shutting_down && time_now_ns() < deadline)
        pthread_cond_timedwait(&cond, &lock, &ts);
    ok = !shutting_down;
    pthread_mutex_unlock(&lock);
    return ok;
}

void st_faults_shutdown(void)
{
    pthread_mutex_lock(&lock);
    shutting_down = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

bool st_shutting_down(void)
{
    bool v;

    pthread_mutex_lock(&lock);
    v = shutting_down;
    pthread_mutex_unlock(&lock);
    return v;
}
