/* standin_codec.c: small pure codecs of the stand-in master.
 *
 * base64 (request log bodies, Basic credentials), CRC-32 and a gzip writer
 * that needs no zlib (a gzip member whose deflate data is "stored" blocks, so
 * every gzip reader accepts it), random UUIDs, the Accept and Accept-Encoding
 * rules of libprocess, and Mesos's way of printing doubles. */
#include "config.h"

#include "standin.h"

#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void st_base64_encode(struct strbuf *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    char quad[4];

    strbuf_reserve(out, (len + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t n = len - i < 3 ? len - i : 3;

        if (n > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (n > 2)
            v |= p[i + 2];
        quad[0] = b64_alphabet[(v >> 18) & 63];
        quad[1] = b64_alphabet[(v >> 12) & 63];
        quad[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
        quad[3] = n > 2 ? b64_alphabet[v & 63] : '=';
        strbuf_append(out, quad, 4);
    }
    strbuf_append(out, "", 0); /* NUL-terminated even when empty */
}

static int b64_value(char c)
{
    const char *hit = c ? strchr(b64_alphabet, c) : NULL;

    return hit ? (int)(hit - b64_alphabet) : -1;
}

int st_base64_decode(const char *text, size_t len, struct strbuf *out)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t i = 0;

    for (; i < len && text[i] != '='; i++) {
        int v = b64_value(text[i]);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            unsigned char byte = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
            strbuf_append(out, &byte, 1);
        }
    }
    for (; i < len; i++)
        if (text[i] != '=')
            return -EINVAL;
    if (bits >= 6)
        return -EINVAL; /* a lone sextet cannot end a valid encoding */
    strbuf_append(out, "", 0);
    return 0;
}

uint32_t st_crc32(const void *data, size_t len)
{
    static uint32_t table[256];
    static bool ready;
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;

    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[n] = c; /* every thread computes the same values */
        }
        __atomic_store_n(&ready, true, __ATOMIC_RELEASE);
    }
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

static void put_le32(struct strbuf *out, uint32_t v)
{
    unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};

    strbuf_append(out, b, 4);
}

/* RFC 1952 member: header, RFC 1951 stored blocks, CRC-32, ISIZE. */
void st_gzip_stored(struct strbuf *out, const void *data, size_t len)
{
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    const unsigned char *p = data;
    size_t off = 0;

    strbuf_reserve(out, len + len / 65535 * 5 + 32);
    strbuf_append(out, header, sizeof(header));
    do {
        size_t n = len - off > 65535 ? 65535 : len - off;
        bool final = off + n == len;
        unsigned char block[5] = {final ? 1 : 0, n & 0xff, (n >> 8) & 0xff, ~n & 0xff,
                                  (~n >> 8) & 0xff};

        strbuf_append(out, block, sizeof(block));
        strbuf_append(out, p + off, n);
        off += n;
    } while (off < len);
    put_le32(out, st_crc32(data, len));
    put_le32(out, (uint32_t)len);
}

void st_uuid(char out[37])
{
    unsigned char b[16];
    size_t got = 0;

    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            abort(); /* the kernel has had getrandom() since 3.17 */
        }
        got += (size_t)n;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* Copies @s without blanks (libprocess removes spaces, tabs and newlines). */
static char *strip_blanks(const char *s)
{
    char *r = xstrdup(s), *w = r;

    for (const char *p = s; *p; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n')
            *w++ = *p;
    *w = '\0';
    return r;
}

/* In one "name;k=v;..." element, finds whether q says "not acceptable". A
 * missing or malformed q means acceptable, as in libprocess. */
static bool element_acceptable(const char *params)
{
    const char *q = NULL;
    unsigned nq = 0;

    for (const char *p = params; p && *p; p = strchr(p, ';')) {
        if (*p == ';')
            p++;
        if (strncmp(p, "q=", 2) == 0) {
            q = p + 2;
            nq++;
        }
    }
    if (!q || nq != 1)
        return true;
    char *end;
    double v = strtod(q, &end);
    if (end == q || (*end != '\0' && *end != ';'))
        return false; /* libprocess: numify fails, so not acceptable */
    return v > 0;
}

/* Looks for @candidate among the comma-separated elements of @list: returns 1
 * acceptable, 0 refused, -1 not listed. */
static int list_lookup(const char *list, const char *candidate)
{
    size_t clen = strlen(candidate);

    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t elen = end ? (size_t)(end - p) : strlen(p);
        const char *semi = memchr(p, ';', elen);
        size_t nlen = semi ? (size_t)(semi - p) : elen;

        if (nlen == clen && strncasecmp(p, candidate, clen) == 0) {
            char *params = xstrndup(semi ? semi : "", semi ? elen - nlen : 0);
            int ok = element_acceptable(params);
            free(params);
            return ok;
        }
        p += elen;
        if (*p == ',')
            p++;
    }
    return -1;
}

bool st_accepts_media_type(const char *header, const char *type)
{
    const char *slash = strchr(type, '/');
    char *list, *family;
    const char *candidates[3];
    bool ok = false;

    if (!header)
        return true;
    list = strip_blanks(header);
    family = xasprintf("%.*s/*", (int)(slash - type), type);
    candidates[0] = type;
    candidates[1] = family;
    candidates[2] = "*/*";
    for (size_t i = 0; i < 3; i++) {
        int r = list_lookup(list, candidates[i]);
        if (r >= 0) {
            ok = r == 1;
            break;
        }
    }
    free(family);
    free(list);
    return ok;
}

bool st_accepts_encoding(const char *header, const char *encoding)
{
    char *list;
    int r;

    if (!header || !*header)
        return false;
    list = strip_blanks(header);
    r = list_lookup(list, encoding);
    if (r < 0)
        r = list_lookup(list, "*");
    free(list);
    return r == 1;
}

void st_json_double(struct strbuf *out, double v)
{
    char buf[40];

    if (isfinite(v) && fabs(v) < 1e15 && v == (double)(long long)v) {
        strbuf_printf(out, "%.1f", v); /* integral: rapidjson writes "15.0" */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    strbuf_puts(out, buf);
}

int st_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct errbuf *err)
{
    struct strbuf sb = {0};
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return errbuf_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = errbuf_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (sb.len + (size_t)n > max) {
            rc = errbuf_set(err, -EFBIG, "'%s' is larger than %zu bytes", path, max);
            goto out;
        }
        strbuf_append(&sb, buf, (size_t)n);
    }
    strbuf_append(&sb, "", 0);
    *ret_len = sb.len;
    *ret = strbuf_steal(&sb);
out:
    close(fd);
    strbuf_done(&sb);
    return rc;
}
