/* headers.c: the header rules of the proxy. */
#include "config.h"

#include "proxy/headers.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* What the proxy does with a header it knows, by name. */
enum {
    KNOWN_HOP = 1,     /* hop-by-hop */
    KNOWN_SET = 2,     /* the upstream client sets it */
    KNOWN_REWRITE = 4, /* rewritten with this hop added */
    KNOWN_FRAMING = 8, /* the HTTP server sets it on answers */
};

/* Compared by length first: most names are told apart without a byte. */
static const struct known_header {
    const char *name;
    size_t len;
    unsigned what;
} known[] = {
    {"TE", 2, KNOWN_HOP},
    {"Via", 3, KNOWN_REWRITE},
    {"Host", 4, KNOWN_SET},
    {"Expect", 6, KNOWN_SET},
    {"Trailer", 7, KNOWN_HOP},
    {"Upgrade", 7, KNOWN_HOP},
    {"Connection", 10, KNOWN_HOP},
    {"Keep-Alive", 10, KNOWN_HOP},
    {"Content-Length", 14, KNOWN_SET | KNOWN_FRAMING},
    {"X-Forwarded-For", 15, KNOWN_REWRITE},
    {"Transfer-Encoding", 17, KNOWN_HOP},
};

static unsigned what_of_n(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && known[i].len <= len; i++) {
        if (known[i].len == len && strncasecmp(name, known[i].name, len) == 0)
            return known[i].what;
    }
    return len > 6 && strncasecmp(name, "Proxy-", 6) == 0 ? KNOWN_HOP : 0;
}

static unsigned what_of(const char *name)
{
    return what_of_n(name, strlen(name));
}

bool headers_answer_drops(const char *name, size_t len)
{
    return (what_of_n(name, len) & (KNOWN_HOP | KNOWN_FRAMING)) != 0;
}

bool headers_connection_lists(const char *connection, const char *name)
{
    size_t n = strlen(name);
    const char *p = connection;

    if (!connection || n == 0)
        return false;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) == n && strncasecmp(start, name, n) == 0)
            return true;
    }
    return false;
}

bool headers_drop_from_request(const char *name, const char *connection)
{
    return (what_of(name) & (KNOWN_HOP | KNOWN_SET | KNOWN_REWRITE)) ||
           headers_connection_lists(connection, name);
}

/* Skips blanks; returns the first other character. */
static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The received-by of one Via entry ("1.1 name (comment)") starting at @p;
 * sets *@end past the entry. */
static bool via_entry_is(const char *p, const char *name, const char **end)
{
    size_t n = strlen(name);
    const char *by;

    p = skip_blanks(p);
    while (*p && *p != ' ' && *p != '\t' && *p != ',') /* received-protocol */
        p++;
    by = skip_blanks(p);
    p = by;
    while (*p && *p != ' ' && *p != '\t' && *p != ',')
        p++;
    bool match = (size_t)(p - by) == n && strncasecmp(by, name, n) == 0;
    int depth = 0;
    while (*p && (*p != ',' || depth > 0)) { /* a comment may hold commas */
        depth += *p == '(' ? 1 : *p == ')' && depth > 0 ? -1 : 0;
        p++;
    }
    *end = p;
    return match;
}

bool headers_via_names(const char *via, const char *name)
{
    const char *p = via;

    while (p && *p) {
        const char *end;
        if (via_entry_is(p, name, &end))
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

static bool valid_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

bool headers_valid(const char *name, const char *value)
{
    if (!*name)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (!valid_token_char(*p))
            return false;
    }
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    }
    return true;
}

int headers_append_line(const char *name, const char *value, struct strbuf *out)
{
    if (!headers_valid(name, value))
        return -EINVAL;
    strbuf_puts(out, name);
    strbuf_append(out, *value ? ": " : ":", *value ? 2 : 1);
    strbuf_puts(out, value);
    strbuf_append(out, "\r\n", 2);
    return 0;
}

void headers_forwarded_for(const char *prior, const char *client, struct strbuf *out)
{
    if (prior && *prior) {
        strbuf_puts(out, prior);
        strbuf_append(out, ", ", 2);
    }
    strbuf_puts(out, client);
}

int headers_parse_status_line(const char *line, size_t len, int *ret_status)
{
    int status = 0;
    size_t i;

    if (len < 12 || strncmp(line, "HTTP/", 5) != 0)
        return -EINVAL;
    for (i = 5; i < len && line[i] != ' '; i++) {
        if (!isdigit((unsigned char)line[i]) && line[i] != '.')
            return -EINVAL;
    }
    if (i + 4 > len || line[i] != ' ')
        return -EINVAL;
    for (size_t k = i + 1; k < i + 4; k++) {
        if (!isdigit((unsigned char)line[k]))
            return -EINVAL;
        status = status * 10 + (line[k] - '0');
    }
    if (i + 4 < len && line[i + 4] != ' ' && line[i + 4] != '\r' && line[i + 4] != '\n')
        return -EINVAL;
    if (status < 100)
        return -EINVAL;
    *ret_status = status;
    return 0;
}

static size_t trim_crlf(const char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    return len;
}

int headers_parse_field(const char *line, size_t len, struct header_field *ret)
{
    const char *colon, *v, *end;

    len = trim_crlf(line, len);
    if (len == 0)
        return 1;
    if (line[0] == ' ' || line[0] == '\t')
        return -EAGAIN;
    colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return -EINVAL;
    for (const char *p = line; p < colon; p++) {
        if (!valid_token_char((unsigned char)*p))
            return -EINVAL;
    }
    v = colon + 1;
    end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (const char *p = v; p < end; p++) {
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return -EINVAL;
    }
    ret->name = line;
    ret->name_len = (size_t)(colon - line);
    ret->value = v;
    ret->value_len = (size_t)(end - v);
    return 0;
}

int headers_location_host(const char *location, char *out, size_t size)
{
    const char *p = location, *end;

    if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    else if (strncasecmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncmp(p, "//", 2) == 0)
        p += 2;
    end = p;
    while (*end && *end != '/' && *end != '?' && *end != '#')
        end++;
    if (end == p || (size_t)(end - p) >= size)
        return -EINVAL;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return 0;
}
