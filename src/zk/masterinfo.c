/* masterinfo.c: decoding MasterInfo from JSON, protobuf and UPID znodes. */
#include "config.h"

#include "zk/masterinfo.h"
#include "base/varint.h"
#include "base/mem.h"
#include "base/strbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH   16
#define MAX_CAPABILITIES 64
#define MAX_STRING       4096

/* ---------------------------------------------------------------------------
 * Shared helpers
 * ------------------------------------------------------------------------- */

/* Whether @s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
static bool valid_utf8(const unsigned char *s, size_t len)
{
    static const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            n = 1, cp = c & 0x1fu;
        else if ((c & 0xf0) == 0xe0)
            n = 2, cp = c & 0x0fu;
        else if ((c & 0xf8) == 0xf0)
            n = 3, cp = c & 0x07u;
        else
            return false;
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* Text fields end up in logs, status JSON and HTTP headers: printable UTF-8
 * only, bounded. */
static int check_text(const char *s, size_t len, const char *field, struct errbuf *err)
{
    if (len > MAX_STRING)
        return errbuf_set(err, -EINVAL, "field '%s' is longer than %d bytes", field, MAX_STRING);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return errbuf_set(err, -EINVAL, "field '%s' contains a control character", field);
    }
    if (!valid_utf8((const unsigned char *)s, len))
        return errbuf_set(err, -EINVAL, "field '%s' is not valid UTF-8", field);
    return 0;
}

static void add_capability(struct master_info *mi, const char *name)
{
    mi->capabilities = xreallocarray(mi->capabilities, mi->n_capabilities + 1, sizeof(char *));
    mi->capabilities[mi->n_capabilities++] = xstrdup(name);
}

void masterinfo_ip_to_string(uint32_t packed, char *buf, size_t size)
{
    snprintf(buf, size, "%u.%u.%u.%u", packed & 0xffu, (packed >> 8) & 0xffu,
             (packed >> 16) & 0xffu, (packed >> 24) & 0xffu);
}

/* ---------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------- */

static int json_get_string(json_object *obj, const char *key, char **ret, struct errbuf *err)
{
    json_object *v;
    int r;

    if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return errbuf_set(err, -EINVAL, "field '%s' is not a string", key);
    r = check_text(json_object_get_string(v), (size_t)json_object_get_string_len(v), key, err);
    if (r < 0)
        return r;
    free(*ret);
    *ret = xstrdup(json_object_get_string(v));
    return 0;
}

/* Reads an integer field in [min, max]; returns 1 when set, 0 when absent. */
static int json_get_int(json_object *obj, const char *key, int64_t min, int64_t max, int64_t *ret,
                        struct errbuf *err)
{
    json_object *v;
    int64_t n;

    if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_int))
        return errbuf_set(err, -EINVAL, "field '%s' is not an integer", key);
    n = json_object_get_int64(v);
    if (n < min || n > max)
        return errbuf_set(err, -ERANGE, "field '%s' is out of range", key);
    *ret = n;
    return 1;
}

static int json_address(json_object *obj, struct master_info *mi, struct errbuf *err)
{
    json_object *a;
    int64_t port = 0;
    int r;

    if (!json_object_object_get_ex(obj, "address", &a) || json_object_is_type(a, json_type_null))
        return 0;
    if (!json_object_is_type(a, json_type_object))
        return errbuf_set(err, -EINVAL, "field 'address' is not an object");
    r = json_get_string(a, "hostname", &mi->address.hostname, err);
    if (r == 0)
        r = json_get_string(a, "ip", &mi->address.ip, err);
    if (r < 0)
        return errbuf_prefix(err, r, "in 'address'");
    r = json_get_int(a, "port", INT32_MIN, INT32_MAX, &port, err);
    if (r < 0)
        return errbuf_prefix(err, r, "in 'address'");
    if (r == 0)
        return errbuf_set(err, -EINVAL, "required field 'address.port' is missing");
    mi->address.port = (int32_t)port;
    mi->has_address = true;
    return 0;
}

/* domain.fault_domain.{region,zone}.name */
static int json_domain_name(json_object *fd, const char *key, char **ret, struct errbuf *err)
{
    json_object *o;

    if (!json_object_object_get_ex(fd, key, &o))
        return errbuf_set(err, -EINVAL, "required field 'domain.fault_domain.%s' is missing", key);
    if (!json_object_is_type(o, json_type_object))
        return errbuf_set(err, -EINVAL, "field 'domain.fault_domain.%s' is not an object", key);
    if (json_get_string(o, "name", ret, err) < 0 || !*ret)
        return errbuf_set(err, -EINVAL, "field 'domain.fault_domain.%s.name' is invalid", key);
    return 0;
}

static int json_domain(json_object *obj, struct master_info *mi, struct errbuf *err)
{
    json_object *d, *fd;
    int r;

    if (!json_object_object_get_ex(obj, "domain", &d) || json_object_is_type(d, json_type_null))
        return 0;
    if (!json_object_is_type(d, json_type_object))
        return errbuf_set(err, -EINVAL, "field 'domain' is not an object");
    if (!json_object_object_get_ex(d, "fault_domain", &fd))
        return 0;
    if (!json_object_is_type(fd, json_type_object))
        return errbuf_set(err, -EINVAL, "field 'domain.fault_domain' is not an object");
    r = json_domain_name(fd, "region", &mi->region, err);
    if (r == 0)
        r = json_domain_name(fd, "zone", &mi->zone, err);
    return r;
}

static int json_capabilities(json_object *obj, struct master_info *mi, struct errbuf *err)
{
    json_object *caps;
    size_t n;

    if (!json_object_object_get_ex(obj, "capabilities", &caps) ||
        json_object_is_type(caps, json_type_null))
        return 0;
    if (!json_object_is_type(caps, json_type_array))
        return errbuf_set(err, -EINVAL, "field 'capabilities' is not an array");
    n = json_object_array_length(caps);
    if (n > MAX_CAPABILITIES)
        return errbuf_set(err, -EINVAL, "field 'capabilities' has more than %d entries",
                          MAX_CAPABILITIES);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(caps, i);
        char *type = NULL;
        if (!json_object_is_type(c, json_type_object))
            return errbuf_set(err, -EINVAL, "a capability is not an object");
        if (json_get_string(c, "type", &type, err) < 0)
            return -EINVAL;
        add_capability(mi, type ? type : "UNKNOWN");
        free(type);
    }
    return 0;
}

static int json_fields(json_object *obj, struct master_info *mi, struct errbuf *err)
{
    static const struct {
        const char *key;
        size_t offset;
    } strings[] = {
        {"id", offsetof(struct master_info, id)},
        {"pid", offsetof(struct master_info, pid)},
        {"hostname", offsetof(struct master_info, hostname)},
        {"version", offsetof(struct master_info, version)},
    };
    int64_t n = 0;
    int r;

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        r = json_get_string(obj, strings[i].key, (char **)((char *)mi + strings[i].offset), err);
        if (r < 0)
            return r;
    }
    if (!mi->id)
        return errbuf_set(err, -EINVAL, "required field 'id' is missing");
    r = json_get_int(obj, "ip", 0, UINT32_MAX, &n, err);
    if (r <= 0)
        return r < 0 ? r : errbuf_set(err, -EINVAL, "required field 'ip' is missing");
    mi->ip = (uint32_t)n;
    r = json_get_int(obj, "port", 0, UINT32_MAX, &n, err);
    if (r <= 0)
        return r < 0 ? r : errbuf_set(err, -EINVAL, "required field 'port' is missing");
    mi->port = (uint32_t)n;
    r = json_address(obj, mi, err);
    if (r == 0)
        r = json_domain(obj, mi, err);
    if (r == 0)
        r = json_capabilities(obj, mi, err);
    return r;
}

int masterinfo_from_json(const char *data, size_t len, struct master_info *ret, struct errbuf *err)
{
    struct master_info mi = {0};
    json_tokener *tok;
    json_object *obj;
    size_t used;
    int r;

    if (len > MASTERINFO_MAX_DATA)
        return errbuf_set(err, -EFBIG, "data is larger than %d bytes", MASTERINFO_MAX_DATA);
    if (len == 0)
        return errbuf_set(err, -EINVAL, "data is empty, not JSON");
    tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok)
        return errbuf_set(err, -ENOMEM, "cannot allocate a JSON parser");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, data, (int)len);
    if (!obj) {
        enum json_tokener_error e = json_tokener_get_error(tok);
        r = errbuf_set(err, -EINVAL, "invalid JSON: %s",
                       e == json_tokener_continue ? "truncated" : json_tokener_error_desc(e));
        json_tokener_free(tok);
        return r;
    }
    used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (used < len && isspace((unsigned char)data[used]))
        used++;
    if (used < len) {
        r = errbuf_set(err, -EINVAL, "invalid JSON: text after the object");
    } else if (!json_object_is_type(obj, json_type_object)) {
        r = errbuf_set(err, -EINVAL, "JSON is not an object");
    } else {
        r = json_fields(obj, &mi, err);
    }
    json_object_put(obj);
    if (r < 0) {
        masterinfo_done(&mi);
        return r;
    }
    *ret = mi;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Protobuf (wire format, only the fields MasterInfo has)
 * ------------------------------------------------------------------------- */

struct pb {
    const uint8_t *p, *end;
};

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_BYTES = 2, PB_FIXED32 = 5 };

static int pb_varint(struct pb *r, uint64_t *ret)
{
    return varint_read(&r->p, r->end, ret) ? 0 : -EINVAL;
}

static int pb_key(struct pb *r, uint32_t *field, uint32_t *wire)
{
    uint64_t key;

    if (pb_varint(r, &key) < 0 || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return -EINVAL;
    *field = (uint32_t)(key >> 3);
    *wire = (uint32_t)(key & 7);
    return 0;
}

static int pb_bytes(struct pb *r, struct pb *ret)
{
    uint64_t n;

    if (pb_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
        return -EINVAL;
    ret->p = r->p;
    ret->end = r->p + n;
    r->p += n;
    return 0;
}

static int pb_skip(struct pb *r, uint32_t wire)
{
    uint64_t v;
    struct pb sub;

    switch (wire) {
    case PB_VARINT:
        return pb_varint(r, &v);
    case PB_FIXED64:
    case PB_FIXED32: {
        size_t n = wire == PB_FIXED64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n)
            return -EINVAL;
        r->p += n;
        return 0;
    }
    case PB_BYTES:
        return pb_bytes(r, &sub);
    default:
        return -EINVAL; /* groups (3, 4) and reserved types: MasterInfo has none */
    }
}

static int pb_string(struct pb *r, uint32_t wire, const char *field, char **ret, struct errbuf *err)
{
    struct pb s;
    int rc;

    if (wire != PB_BYTES || pb_bytes(r, &s) < 0)
        return errbuf_set(err, -EINVAL, "field '%s' is malformed", field);
    rc = check_text((const char *)s.p, (size_t)(s.end - s.p), field, err);
    if (rc < 0)
        return rc;
    free(*ret);
    *ret = xstrndup((const char *)s.p, (size_t)(s.end - s.p));
    return 0;
}

static int pb_uint(struct pb *r, uint32_t wire, const char *field, uint64_t max, uint64_t *ret,
                   struct errbuf *err)
{
    uint64_t v;

    if (wire != PB_VARINT || pb_varint(r, &v) < 0)
        return errbuf_set(err, -EINVAL, "field '%s' is malformed", field);
    if (v > max)
        return errbuf_set(err, -ERANGE, "field '%s' is out of range", field);
    *ret = v;
    return 0;
}

static int pb_address(struct pb *m, struct master_info *mi, struct errbuf *err)
{
    bool has_port = false;
    uint32_t field, wire;
    uint64_t v = 0;
    int r = 0;

    while (r == 0 && m->p < m->end) {
        if (pb_key(m, &field, &wire) < 0)
            return errbuf_set(err, -EINVAL, "field 'address' is malformed");
        if (field == 1) {
            r = pb_string(m, wire, "address.hostname", &mi->address.hostname, err);
        } else if (field == 2) {
            r = pb_string(m, wire, "address.ip", &mi->address.ip, err);
        } else if (field == 3) {
            /* int32 is sign-extended to 64 bits on the wire. */
            r = pb_uint(m, wire, "address.port", UINT64_MAX, &v, err);
            mi->address.port = (int32_t)(uint32_t)v;
            has_port = true;
        } else if (pb_skip(m, wire) < 0) {
            return errbuf_set(err, -EINVAL, "field 'address' is malformed");
        }
    }
    if (r == 0 && !has_port)
        return errbuf_set(err, -EINVAL, "required field 'address.port' is missing");
    mi->has_address = r == 0;
    return r;
}

/* A message whose field 1 is a string "name" (RegionInfo, ZoneInfo). */
static int pb_named(struct pb *m, const char *what, char **ret, struct errbuf *err)
{
    uint32_t field, wire;
    int r = 0;

    while (r == 0 && m->p < m->end) {
        if (pb_key(m, &field, &wire) < 0)
            return errbuf_set(err, -EINVAL, "field '%s' is malformed", what);
        if (field == 1)
            r = pb_string(m, wire, what, ret, err);
        else if (pb_skip(m, wire) < 0)
            return errbuf_set(err, -EINVAL, "field '%s' is malformed", what);
    }
    if (r == 0 && !*ret)
        return errbuf_set(err, -EINVAL, "required field '%s' is missing", what);
    return r;
}

static int pb_domain(struct pb *m, struct master_info *mi, struct errbuf *err)
{
    uint32_t field, wire;
    struct pb fd, sub;
    int r = 0;

    while (m->p < m->end) {
        if (pb_key(m, &field, &wire) < 0)
            return errbuf_set(err, -EINVAL, "field 'domain' is malformed");
        if (field != 1) {
            if (pb_skip(m, wire) < 0)
                return errbuf_set(err, -EINVAL, "field 'domain' is malformed");
            continue;
        }
        if (wire != PB_BYTES || pb_bytes(m, &fd) < 0)
            return errbuf_set(err, -EINVAL, "field 'domain.fault_domain' is malformed");
        while (r == 0 && fd.p < fd.end) {
            if (pb_key(&fd, &field, &wire) < 0)
                return errbuf_set(err, -EINVAL, "field 'domain.fault_domain' is malformed");
            if ((field == 1 || field == 2) && wire == PB_BYTES && pb_bytes(&fd, &sub) == 0)
                r = pb_named(&sub,
                             field == 1 ? "domain.fault_domain.region.name"
                                        : "domain.fault_domain.zone.name",
                             field == 1 ? &mi->region : &mi->zone, err);
            else if (field == 1 || field == 2 || pb_skip(&fd, wire) < 0)
                return errbuf_set(err, -EINVAL, "field 'domain.fault_domain' is malformed");
        }
        if (r == 0 && (!mi->region || !mi->zone))
            return errbuf_set(err, -EINVAL, "field 'domain.fault_domain' is incomplete");
    }
    return r;
}

static int pb_capability(struct pb *m, struct master_info *mi, struct errbuf *err)
{
    static const char *const names[] = {"UNKNOWN", "AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"};
    uint32_t field, wire;
    uint64_t type = 0;

    if (mi->n_capabilities >= MAX_CAPABILITIES)
        return errbuf_set(err, -EINVAL, "more than %d capabilities", MAX_CAPABILITIES);
    while (m->p < m->end) {
        if (pb_key(m, &field, &wire) < 0)
            return errbuf_set(err, -EINVAL, "field 'capabilities' is malformed");
        if (field == 1) {
            if (pb_uint(m, wire, "capabilities.type", UINT64_MAX, &type, err) < 0)
                return -EINVAL;
        } else if (pb_skip(m, wire) < 0) {
            return errbuf_set(err, -EINVAL, "field 'capabilities' is malformed");
        }
    }
    add_capability(mi, type < 4 ? names[type] : "UNKNOWN");
    return 0;
}

/* Dispatches one top-level MasterInfo field; @seen collects required fields. */
static int pb_field(struct pb *r, uint32_t field, uint32_t wire, struct master_info *mi,
                    unsigned *seen, struct errbuf *err)
{
    static const char *const string_names[] = {[4] = "pid", [5] = "hostname", [6] = "version"};
    char **const strings[] = {[4] = &mi->pid, [5] = &mi->hostname, [6] = &mi->version};
    struct pb sub;
    uint64_t v = 0;
    int rc;

    switch (field) {
    case 1:
        *seen |= 1;
        return pb_string(r, wire, "id", &mi->id, err);
    case 2:
    case 3:
        rc = pb_uint(r, wire, field == 2 ? "ip" : "port", UINT32_MAX, &v, err);
        *(field == 2 ? &mi->ip : &mi->port) = (uint32_t)v;
        *seen |= 1u << (field - 1);
        return rc;
    case 4:
    case 5:
    case 6:
        return pb_string(r, wire, string_names[field], strings[field], err);
    case 7:
    case 8:
    case 9:
        if (wire != PB_BYTES || pb_bytes(r, &sub) < 0)
            return errbuf_set(err, -EINVAL, "field %u is malformed", field);
        if (field == 7)
            return pb_address(&sub, mi, err);
        return field == 8 ? pb_domain(&sub, mi, err) : pb_capability(&sub, mi, err);
    default:
        if (pb_skip(r, wire) < 0)
            return errbuf_set(err, -EINVAL, "unknown field %u is malformed", field);
        return 0;
    }
}

int masterinfo_from_protobuf(const uint8_t *data, size_t len, struct master_info *ret,
                             struct errbuf *err)
{
    struct master_info mi = {0};
    struct pb r = {data, data + len};
    uint32_t field, wire;
    unsigned seen = 0;
    int rc = 0;

    if (len > MASTERINFO_MAX_DATA)
        return errbuf_set(err, -EFBIG, "data is larger than %d bytes", MASTERINFO_MAX_DATA);
    while (rc == 0 && r.p < r.end) {
        if (pb_key(&r, &field, &wire) < 0)
            rc = errbuf_set(err, -EINVAL, "not a protobuf message (bad field key)");
        else
            rc = pb_field(&r, field, wire, &mi, &seen, err);
    }
    if (rc == 0 && seen != 7)
        rc = errbuf_set(err, -EINVAL, "required field '%s' is missing",
                        !(seen & 1)   ? "id"
                        : !(seen & 2) ? "ip"
                                      : "port");
    if (rc < 0) {
        masterinfo_done(&mi);
        return rc;
    }
    *ret = mi;
    return 0;
}

/* ---------------------------------------------------------------------------
 * UPID "id@host:port"
 * ------------------------------------------------------------------------- */

/* Splits "host:port" (host may be "[v6]") into @host and @port. */
static int split_host_port(const char *s, char *host, size_t host_size, uint16_t *port)
{
    const char *colon, *h = s;
    size_t hlen;
    char *end;
    unsigned long p;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -EINVAL;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= host_size || !isdigit((unsigned char)colon[1]))
        return -EINVAL;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno || *end != '\0' || p == 0 || p > 65535)
        return -EINVAL;
    for (size_t i = 0; i < hlen; i++) {
        if (!isalnum((unsigned char)h[i]) && !strchr("-._:", h[i]))
            return -EINVAL;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* Parses "id@host:port"; fills @host and @port. */
static int upid_parse(const char *upid, char *host, size_t host_size, uint16_t *port)
{
    const char *at = strchr(upid, '@');

    if (!at || at == upid)
        return -EINVAL;
    return split_host_port(at + 1, host, host_size, port);
}

int masterinfo_from_upid(const char *data, size_t len, struct master_info *ret, struct errbuf *err)
{
    struct master_info mi = {0};
    char host[MASTERINFO_HOST_MAX + 1];
    struct in_addr addr;
    uint16_t port;
    char *text;
    int r;

    if (len > MASTERINFO_HOST_MAX + 64)
        return errbuf_set(err, -EINVAL, "a UPID is never %zu bytes long", len);
    r = check_text(data, len, "pid", err);
    if (r < 0)
        return r;
    text = xstrndup(data, len);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        text[--len] = '\0';
    if (upid_parse(text, host, sizeof(host), &port) < 0) {
        r = errbuf_set(err, -EINVAL, "'%s' is not a UPID like master@10.0.0.1:5050", text);
        free(text);
        return r;
    }
    mi.id = xstrdup(text);
    mi.pid = text;
    mi.port = port;
    if (inet_pton(AF_INET, host, &addr) == 1)
        mi.ip = addr.s_addr; /* network order in memory, as Mesos stores it */
    mi.hostname = xstrdup(host);
    *ret = mi;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Dispatch, endpoint, encoding, lifetime
 * ------------------------------------------------------------------------- */

int masterinfo_decode(const char *label, const void *data, size_t len, struct master_info *ret,
                      struct errbuf *err)
{
    if (!label)
        return masterinfo_from_upid(data, len, ret, err);
    if (strcmp(label, "json.info") == 0)
        return masterinfo_from_json(data, len, ret, err);
    if (strcmp(label, "info") == 0)
        return masterinfo_from_protobuf(data, len, ret, err);
    return errbuf_set(err, -EPROTONOSUPPORT, "unknown label '%s'", label);
}

static bool usable_host(const char *h)
{
    size_t n;

    if (!h)
        return false;
    n = strlen(h);
    if (n == 0 || n > MASTERINFO_HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)h[i]) && !strchr("-._:", h[i]))
            return false;
    }
    return true;
}

static bool is_ip_address(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

int masterinfo_endpoint(const struct master_info *mi, struct master_endpoint *ret,
                        struct errbuf *err)
{
    struct master_endpoint ep = {0};

    if (mi->has_address && mi->address.port > 0 && mi->address.port <= 65535) {
        const char *h = is_ip_address(mi->address.ip) ? mi->address.ip : mi->address.hostname;
        if (usable_host(h)) {
            snprintf(ep.host, sizeof(ep.host), "%s", h);
            ep.port = (uint16_t)mi->address.port;
            ep.source = "address";
            *ret = ep;
            return 0;
        }
    }
    if (mi->pid && upid_parse(mi->pid, ep.host, sizeof(ep.host), &ep.port) == 0) {
        ep.source = "pid";
        *ret = ep;
        return 0;
    }
    if (mi->ip != 0 && mi->port > 0 && mi->port <= 65535) {
        masterinfo_ip_to_string(mi->ip, ep.host, sizeof(ep.host));
        ep.port = (uint16_t)mi->port;
        ep.source = "ip";
        *ret = ep;
        return 0;
    }
    return errbuf_set(err, -EADDRNOTAVAIL,
                      "no usable address: neither 'address', 'pid' nor 'ip' with 'port'");
}

void masterinfo_endpoint_format(const struct master_endpoint *ep, char *buf, size_t size)
{
    if (strchr(ep->host, ':'))
        snprintf(buf, size, "[%s]:%u", ep->host, ep->port);
    else
        snprintf(buf, size, "%s:%u", ep->host, ep->port);
}

static void json_key(struct strbuf *sb, const char *key, bool *first)
{
    if (!*first)
        strbuf_append(sb, ",", 1);
    *first = false;
    strbuf_json_string(sb, key);
    strbuf_append(sb, ":", 1);
}

static void json_opt_string(struct strbuf *sb, const char *key, const char *value, bool *first)
{
    if (!value)
        return;
    json_key(sb, key, first);
    strbuf_json_string(sb, value);
}

static void json_address_out(struct strbuf *sb, const struct master_info *mi, bool *first)
{
    bool afirst = true;

    if (!mi->has_address)
        return;
    json_key(sb, "address", first);
    strbuf_append(sb, "{", 1);
    json_opt_string(sb, "hostname", mi->address.hostname, &afirst);
    json_opt_string(sb, "ip", mi->address.ip, &afirst);
    json_key(sb, "port", &afirst);
    strbuf_printf(sb, "%d}", mi->address.port);
}

static void json_domain_out(struct strbuf *sb, const struct master_info *mi, bool *first)
{
    if (!mi->region || !mi->zone)
        return;
    json_key(sb, "domain", first);
    strbuf_puts(sb, "{\"fault_domain\":{\"region\":{\"name\":");
    strbuf_json_string(sb, mi->region);
    strbuf_puts(sb, "},\"zone\":{\"name\":");
    strbuf_json_string(sb, mi->zone);
    strbuf_puts(sb, "}}}");
}

char *masterinfo_to_json(const struct master_info *mi)
{
    struct strbuf sb = {0};
    bool first = true;

    strbuf_append(&sb, "{", 1);
    json_address_out(&sb, mi, &first);
    if (mi->n_capabilities > 0) {
        json_key(&sb, "capabilities", &first);
        strbuf_append(&sb, "[", 1);
        for (size_t i = 0; i < mi->n_capabilities; i++) {
            strbuf_puts(&sb, i ? ",{\"type\":" : "{\"type\":");
            strbuf_json_string(&sb, mi->capabilities[i]);
            strbuf_append(&sb, "}", 1);
        }
        strbuf_append(&sb, "]", 1);
    }
    json_domain_out(&sb, mi, &first);
    json_opt_string(&sb, "hostname", mi->hostname, &first);
    json_opt_string(&sb, "id", mi->id ? mi->id : "", &first);
    json_key(&sb, "ip", &first);
    strbuf_printf(&sb, "%u", mi->ip);
    json_opt_string(&sb, "pid", mi->pid, &first);
    json_key(&sb, "port", &first);
    strbuf_printf(&sb, "%u", mi->port);
    json_opt_string(&sb, "version", mi->version, &first);
    strbuf_append(&sb, "}", 1);
    return strbuf_steal(&sb);
}

void masterinfo_copy(struct master_info *dst, const struct master_info *src)
{
    *dst = *src;
    dst->id = xstrdup(src->id);
    dst->pid = xstrdup(src->pid);
    dst->hostname = xstrdup(src->hostname);
    dst->version = xstrdup(src->version);
    dst->address.hostname = xstrdup(src->address.hostname);
    dst->address.ip = xstrdup(src->address.ip);
    dst->region = xstrdup(src->region);
    dst->zone = xstrdup(src->zone);
    dst->capabilities = NULL;
    dst->n_capabilities = 0;
    for (size_t i = 0; i < src->n_capabilities; i++)
        add_capability(dst, src->capabilities[i]);
}

void masterinfo_done(struct master_info *mi)
{
    free(mi->id);
    free(mi->pid);
    free(mi->hostname);
    free(mi->version);
    free(mi->address.hostname);
    free(mi->address.ip);
    free(mi->region);
    free(mi->zone);
    for (size_t i = 0; i < mi->n_capabilities; i++)
        free(mi->capabilities[i]);
    free(mi->capabilities);
    memset(mi, 0, sizeof(*mi));
}
