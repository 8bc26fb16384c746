/* route.c: request classification and SUBSCRIBE detection. */
#include "config.h"

#include "proxy/route.h"
#include "base/varint.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

/* Bodies larger than this are never SUBSCRIBE calls (those carry a
 * FrameworkInfo, a few KiB at most). */
#define SUBSCRIBE_BODY_MAX (256ul * 1024ul)

#define SCHEDULER_SUBSCRIBE 1
#define OPERATOR_SUBSCRIBE  18

/* Strips one "/master" alias prefix: "/master/x" -> "/x". */
static const char *unalias(const char *path)
{
    if (strncmp(path, "/master/", 8) == 0)
        return path + 7;
    return path;
}

int route_canonical(const char *path, char *out, size_t size)
{
    size_t n = strlen(path);

    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n >= size)
        return -ENAMETOOLONG;
    memcpy(out, path, n);
    out[n] = '\0';
    return 0;
}

bool route_target_acceptable(const char *target)
{
    if (target[0] != '/')
        return false;
    for (const unsigned char *p = (const unsigned char *)target; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '#')
            return false;
    }
    return true;
}

enum api { API_NONE, API_SCHEDULER, API_OPERATOR };

static enum api api_of(const char *raw_path)
{
    char path[64];
    const char *p;

    if (route_canonical(raw_path, path, sizeof(path)) < 0)
        return API_NONE;
    p = unalias(path);

    if (strcmp(p, "/api/v1/scheduler") == 0)
        return API_SCHEDULER;
    if (strcmp(p, "/api/v1") == 0)
        return API_OPERATOR;
    return API_NONE;
}

/* The slow way: a full parse with json-c. */
static bool json_parse_is_subscribe(const char *body, size_t len)
{
    json_tokener *tok;
    json_object *obj, *type;
    bool yes = false;

    tok = json_tokener_new_ex(16);
    if (!tok)
        return false;
    obj = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    if (obj && json_object_object_get_ex(obj, "type", &type) &&
        json_object_is_type(type, json_type_string))
        yes = strcmp(json_object_get_string(type), "SUBSCRIBE") == 0;
    json_object_put(obj);
    return yes;
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Reads the string that starts at @p (its opening quote): sets *@ret_end
 * past its closing quote and whether it holds an escape; false when it is
 * not closed. */
static bool scan_string(const char *p, const char *end, const char **ret_end, bool *ret_escape)
{
    *ret_escape = false;
    for (p++; p < end; p++) {
        if (*p == '\\') {
            *ret_escape = true;
            p++;
        } else if (*p == '"') {
            *ret_end = p + 1;
            return true;
        }
    }
    return false;
}

/* The top-level "type" of the JSON object in [p, end), as raw bytes between
 * its quotes, without a full parse: strings are skipped (escapes included)
 * and nesting is counted. 1 when found (the last one, as a parser keeps
 * it), 0 when there is none, -1 when a cheap scan cannot tell (not an
 * object, an escape in a top-level key or in the value): parse it. */
static int scan_top_type(const char *p, const char *end, const char **ret, size_t *ret_len)
{
    int depth = 0, found = 0;
    bool want_value = false, escape;
    const char *s;

    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    while (p < end) {
        if (*p != '"') {
            depth += *p == '{' || *p == '[' ? 1 : *p == '}' || *p == ']' ? -1 : 0;
            want_value = want_value && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r');
            p++;
            continue;
        }
        s = p;
        if (!scan_string(s, end, &p, &escape))
            return -1;
        if (depth != 1)
            continue;
        if (want_value) {
            if (escape)
                return -1;
            *ret = s + 1;
            *ret_len = (size_t)(p - s) - 2;
            found = 1;
            want_value = false;
        } else if ((p = skip_ws(p, end)) < end && *p == ':') {
            if (escape)
                return -1;
            want_value = p - s >= 6 && memcmp(s, "\"type\"", 6) == 0 && skip_ws(s + 6, end) == p;
            p++;
        }
    }
    return depth == 0 ? found : -1; /* not closed: let the parser judge it */
}

static bool json_is_subscribe(const char *body, size_t len)
{
    const char *type = NULL;
    size_t type_len = 0;

    /* Cheap filter before anything else (an escape may spell it otherwise). */
    if (!memmem(body, len, "SUBSCRIBE", 9) && !memchr(body, '\\', len))
        return false;
    switch (scan_top_type(body, body + len, &type, &type_len)) {
    case 1:
        return type_len == 9 && memcmp(type, "SUBSCRIBE", 9) == 0;
    case 0:
        return false;
    default:
        return json_parse_is_subscribe(body, len);
    }
}

/* Finds the varint value of top-level field @field in a protobuf message. */
static bool protobuf_field(const uint8_t *p, const uint8_t *end, uint32_t field, uint64_t *ret)
{
    uint64_t key, v;

    while (p < end && varint_read(&p, end, &key)) {
        uint32_t wire = (uint32_t)(key & 7);
        if (wire == 0) {
            if (!varint_read(&p, end, &v))
                return false;
            if ((key >> 3) == field) {
                *ret = v;
                return true;
            }
        } else if (wire == 2) {
            if (!varint_read(&p, end, &v) || v > (uint64_t)(end - p))
                return false;
            p += v;
        } else if (wire == 1 || wire == 5) {
            size_t n = wire == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return false;
            p += n;
        } else {
            return false;
        }
    }
    return false;
}

bool route_is_subscribe(const char *path, const char *content_type, const char *body, size_t len)
{
    enum api api = api_of(path);
    uint64_t type;

    if (api == API_NONE || !content_type || !body || len == 0 || len > SUBSCRIBE_BODY_MAX)
        return false;
    if (strcmp(content_type, "application/json") == 0)
        return json_is_subscribe(body, len);
    if (strcmp(content_type, "application/x-protobuf") == 0) {
        const uint8_t *p = (const uint8_t *)body;
        if (api == API_SCHEDULER)
            return protobuf_field(p, p + len, 2, &type) && type == SCHEDULER_SUBSCRIBE;
        return protobuf_field(p, p + len, 1, &type) && type == OPERATOR_SUBSCRIBE;
    }
    return false;
}
