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

static bool json_is_subscribe(const char *body, size_t len)
{
    json_tokener *tok;
    json_object *obj, *type;
    bool yes = false;

    /* Cheap filter before a parse. */
    if (!memmem(body, len, "SUBSCRIBE", 9))
        return false;
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
