/* diffcase.c: reading the differential harness's case files (format in
 * tests/diff/README.md). */
#include "config.h"

#include "diff/diffcase.h"

#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASE_FILE_MAX (1024 * 1024)
#define REPEAT_MAX    (16ul * 1024 * 1024) /* bytes one \{N:text} may make */

enum section { S_TOP, S_MASTER, S_ANSWER, S_SEND, S_UNTIL };

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int unescape_until(const char **p, const char *end, bool nested, struct strbuf *out,
                          struct errbuf *err);

/* \{N:text}: @p is after the '{'. */
static int repeat(const char **p, const char *end, struct strbuf *out, struct errbuf *err)
{
    struct strbuf once = {0};
    char *stop;
    unsigned long n = strtoul(*p, &stop, 10);
    int rc;

    if (stop == *p || stop >= end || *stop != ':')
        return errbuf_set(err, -EINVAL, "'\\{' must be followed by a count and ':'");
    *p = stop + 1;
    rc = unescape_until(p, end, true, &once, err);
    if (rc == 0 && (n == 0 || once.len == 0 || n > REPEAT_MAX / once.len))
        rc = errbuf_set(err, -EINVAL, "'\\{%lu:...}' makes nothing or more than %lu bytes", n,
                        REPEAT_MAX);
    if (rc == 0) {
        strbuf_reserve(out, n * once.len);
        for (unsigned long i = 0; i < n; i++)
            strbuf_append(out, once.data, once.len);
    }
    strbuf_done(&once);
    return rc;
}

static int escape(const char **p, const char *end, struct strbuf *out, struct errbuf *err)
{
    char c = **p;

    (*p)++;
    switch (c) {
    case 'r':
        strbuf_append(out, "\r", 1);
        return 0;
    case 'n':
        strbuf_append(out, "\n", 1);
        return 0;
    case 't':
        strbuf_append(out, "\t", 1);
        return 0;
    case '\\':
    case '}':
        strbuf_append(out, &c, 1);
        return 0;
    case 'x': {
        int hi = *p < end ? hex_value((*p)[0]) : -1;
        int lo = *p + 1 < end ? hex_value((*p)[1]) : -1;
        unsigned char byte = (unsigned char)(hi * 16 + lo);
        if (hi < 0 || lo < 0)
            return errbuf_set(err, -EINVAL, "'\\x' must be followed by two hex digits");
        strbuf_append(out, &byte, 1);
        *p += 2;
        return 0;
    }
    case '{':
        return repeat(p, end, out, err);
    }
    return errbuf_set(err, -EINVAL, "unknown escape '\\%c'", c);
}

/* Decodes up to @end, or with @nested up to the closing '}'. */
static int unescape_until(const char **p, const char *end, bool nested, struct strbuf *out,
                          struct errbuf *err)
{
    while (*p < end) {
        char c = **p;
        if (nested && c == '}') {
            (*p)++;
            return 0;
        }
        if (c == '\\' && *p + 1 < end) {
            (*p)++;
            if (escape(p, end, out, err) < 0)
                return -EINVAL;
            continue;
        }
        if (c == '\\')
            return errbuf_set(err, -EINVAL, "a line ends with a lone '\\'");
        strbuf_append(out, &c, 1);
        (*p)++;
    }
    strbuf_append(out, "", 0);
    return nested ? errbuf_set(err, -EINVAL, "'\\{' without its '}'") : 0;
}

int dcase_unescape(const char *text, size_t len, struct strbuf *out, struct errbuf *err)
{
    const char *p = text;

    return unescape_until(&p, text + len, false, out, err);
}

/* --- sections --------------------------------------------------------------- */

static int section_of(const char *line, size_t len, enum section *ret)
{
    static const struct {
        const char *name;
        enum section s;
    } names[] = {
        {"[master]", S_MASTER}, {"[answer]", S_ANSWER}, {"[send]", S_SEND}, {"[until]", S_UNTIL}};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (len == strlen(names[i].name) && memcmp(line, names[i].name, len) == 0) {
            *ret = names[i].s;
            return 1;
        }
    }
    return 0;
}

static int parse_ms(const char *v, unsigned *ret, struct errbuf *err)
{
    char *end;
    unsigned long n = strtoul(v, &end, 10);

    if (!*v || *end || n > 60000)
        return errbuf_set(err, -EINVAL, "'%s' is not a number of milliseconds up to 60000", v);
    *ret = (unsigned)n;
    return 0;
}

/* One "key value" line of the [master] section or of the top. */
static int setting(struct dcase *c, enum section s, const char *line, size_t len,
                   struct errbuf *err)
{
    char *text = xstrndup(line, len), *value = strchr(text, ' ');
    int rc = 0;

    if (value)
        *value++ = '\0';
    if (s == S_TOP && strcmp(text, "stream") == 0 && !value)
        c->stream = true;
    else if (s == S_MASTER && strcmp(text, "path") == 0 && value && value[0] == '/')
        c->raw_path = xstrdup(value);
    else if (s == S_MASTER && strcmp(text, "trickle-ms") == 0 && value)
        rc = parse_ms(value, &c->trickle_ms, err);
    else if (s == S_MASTER && strcmp(text, "hold-ms") == 0 && value)
        rc = parse_ms(value, &c->hold_ms, err);
    else if (s == S_MASTER && strcmp(text, "before-body") == 0 && !value)
        c->before_body = true;
    else
        rc = errbuf_set(err, -EINVAL, "'%s' is not a setting here", text);
    free(text);
    return rc;
}

static struct strbuf *new_step(struct dcase *c, enum dcase_step_kind kind)
{
    c->steps = xreallocarray(c->steps, c->n_steps + 1, sizeof(*c->steps));
    c->steps[c->n_steps] = (struct dcase_step){.kind = kind};
    return &c->steps[c->n_steps++].bytes;
}

static void add_about(struct dcase *c, const char *line, size_t len)
{
    char *more;

    while (len > 0 && (*line == '#' || *line == ' ')) {
        line++;
        len--;
    }
    more = xasprintf("%s%s%.*s", c->about ? c->about : "", c->about ? "\n" : "", (int)len, line);
    free(c->about);
    c->about = more;
}

/* Handles one line of the file. */
static int line_of(struct dcase *c, enum section *s, struct strbuf **bytes, const char *line,
                   size_t len, struct errbuf *err)
{
    enum section next;

    if (len > 0 && line[0] == '#') {
        if (*s == S_TOP && c->n_steps == 0 && !c->raw_path)
            add_about(c, line, len);
        return 0;
    }
    if (section_of(line, len, &next)) {
        if (next == S_UNTIL && (c->n_steps == 0 || c->steps[c->n_steps - 1].kind != DCASE_SEND))
            return errbuf_set(err, -EINVAL, "[until] must follow a [send]");
        if (next == S_ANSWER && !c->raw_path)
            return errbuf_set(err, -EINVAL, "[answer] needs a [master] with a path first");
        *s = next;
        *bytes = next == S_ANSWER  ? &c->raw_bytes
                 : next == S_SEND  ? new_step(c, DCASE_SEND)
                 : next == S_UNTIL ? new_step(c, DCASE_UNTIL)
                                   : NULL;
        c->raw |= next == S_MASTER;
        return 0;
    }
    if (len == 0)
        return 0;
    if (*s == S_TOP || *s == S_MASTER)
        return setting(c, *s, line, len, err);
    return dcase_unescape(line, len, *bytes, err);
}

int dcase_parse(const char *name, const char *text, size_t len, struct dcase *ret,
                struct errbuf *err)
{
    struct dcase c = {.name = xstrdup(name)};
    enum section s = S_TOP;
    struct strbuf *bytes = NULL;
    const char *p = text, *end = text + len;
    int rc = 0, line_no = 0;

    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line_no++;
        rc = line_of(&c, &s, &bytes, p, n, err);
        p = nl ? nl + 1 : end;
    }
    if (rc == 0 && c.n_steps == 0)
        rc = errbuf_set(err, -EINVAL, "no [send] section");
    if (rc == 0 && c.raw && (!c.raw_path || (!c.raw_bytes.len && !c.hold_ms)))
        rc = errbuf_set(err, -EINVAL, "[master] needs a path, and an [answer] or a hold-ms");
    for (size_t i = 0; rc == 0 && i < c.n_steps; i++)
        if (c.steps[i].bytes.len == 0)
            rc = errbuf_set(err, -EINVAL, "an empty [send] or [until]");
    if (rc < 0) {
        errbuf_prefix(err, rc, "%s, line %d", name, line_no);
        dcase_free(&c);
        return rc;
    }
    *ret = c;
    return 0;
}

int dcase_load(const char *path, struct dcase *ret, struct errbuf *err)
{
    FILE *f = fopen(path, "rb");
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n_base = strlen(base);
    char *text = xmalloc(CASE_FILE_MAX + 1), *name;
    size_t len;
    int rc;

    if (!f) {
        free(text);
        return errbuf_set(err, -errno, "cannot open '%s': %m", path);
    }
    len = fread(text, 1, CASE_FILE_MAX + 1, f);
    fclose(f);
    if (len > CASE_FILE_MAX) {
        free(text);
        return errbuf_set(err, -EFBIG, "'%s' is larger than %d bytes", path, CASE_FILE_MAX);
    }
    if (n_base > 5 && strcmp(base + n_base - 5, ".case") == 0)
        n_base -= 5;
    name = xstrndup(base, n_base);
    rc = dcase_parse(name, text, len, ret, err);
    free(name);
    free(text);
    return rc;
}

void dcase_free(struct dcase *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->about);
    free(c->raw_path);
    strbuf_done(&c->raw_bytes);
    for (size_t i = 0; i < c->n_steps; i++)
        strbuf_done(&c->steps[i].bytes);
    free(c->steps);
    memset(c, 0, sizeof(*c));
}
