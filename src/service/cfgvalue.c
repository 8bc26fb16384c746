/* cfgvalue.c: reading and writing the values of settings. */
#include "config.h"

#include "service/cfgvalue.h"
#include "base/mem.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A unit suffix and what it multiplies by. */
struct unit {
    const char *name;
    unsigned long long factor;
};

static const struct unit duration_units[] = {
    {"h", 3600000}, {"min", 60000}, {"m", 60000}, {"s", 1000}, {"ms", 1}, {"", 1000}, {NULL, 0}};

static const struct unit size_units[] = {{"", 1},
                                         {"B", 1},
                                         {"k", 1ull << 10},
                                         {"K", 1ull << 10},
                                         {"KiB", 1ull << 10},
                                         {"KB", 1ull << 10},
                                         {"M", 1ull << 20},
                                         {"MiB", 1ull << 20},
                                         {"MB", 1ull << 20},
                                         {"G", 1ull << 30},
                                         {"GiB", 1ull << 30},
                                         {"GB", 1ull << 30},
                                         {NULL, 0}};

static int parse_number(const char *text, unsigned long long *ret, const char **ret_unit)
{
    char *end;
    unsigned long long v;

    if (!isdigit((unsigned char)*text))
        return -EINVAL;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno)
        return -ERANGE;
    while (*end == ' ')
        end++;
    *ret = v;
    *ret_unit = end;
    return 0;
}

/* Reads "<number><unit>" where the unit is one of @units; the result must
 * not overflow. */
static int parse_with_units(const char *text, const struct unit *units, unsigned long long *ret)
{
    unsigned long long v;
    const char *unit;
    int r = parse_number(text, &v, &unit);

    if (r < 0)
        return r;
    for (const struct unit *u = units; u->name; u++) {
        if (strcmp(unit, u->name) == 0) {
            if (v > ULLONG_MAX / u->factor)
                return -ERANGE;
            *ret = v * u->factor;
            return 0;
        }
    }
    return -EINVAL;
}

int cfgvalue_duration_ms(const char *text, unsigned long long *ret)
{
    return parse_with_units(text, duration_units, ret);
}

int cfgvalue_size(const char *text, unsigned long long *ret)
{
    return parse_with_units(text, size_units, ret);
}

int cfgvalue_mode(const char *text, unsigned long long *ret)
{
    if (!*text || strspn(text, "01234567") != strlen(text) || strlen(text) > 4)
        return -EINVAL;
    *ret = strtoull(text, NULL, 8);
    return 0;
}

int cfgvalue_uint(const char *text, unsigned long long *ret)
{
    const char *unit;
    unsigned long long v;
    int r = parse_number(text, &v, &unit);

    if (r < 0)
        return r;
    if (*unit)
        return -EINVAL;
    *ret = v;
    return 0;
}

void cfgvalue_format_duration(unsigned long long ms, char *out, size_t size)
{
    static const struct unit units[] = {{"h", 3600000}, {"m", 60000}, {"s", 1000}, {NULL, 0}};

    if (ms == 0) {
        snprintf(out, size, "0");
        return;
    }
    /* The largest unit that gives a whole number of at least 2: 90s, 2m, 60s. */
    for (const struct unit *u = units; u->name; u++) {
        if (ms % u->factor == 0 && (ms / u->factor >= 2 || u->factor == 1000)) {
            snprintf(out, size, "%llu%s", ms / u->factor, u->name);
            return;
        }
    }
    snprintf(out, size, "%llums", ms);
}

void cfgvalue_format_size(unsigned long long bytes, char *out, size_t size)
{
    static const struct unit units[] = {
        {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}, {NULL, 0}};

    for (const struct unit *u = units; u->name && bytes; u++) {
        if (bytes % u->factor == 0) {
            snprintf(out, size, "%llu%s", bytes / u->factor, u->name);
            return;
        }
    }
    snprintf(out, size, "%llu", bytes);
}

/* --- path lists ---------------------------------------------------------- */

/* The next element of a list at *@pos: its start and length, spaces around
 * it left out; advances *@pos past the comma. Returns false at the end. */
static bool next_element(const char **pos, const char **ret_start, size_t *ret_len)
{
    const char *p = *pos, *end;

    if (!p)
        return false;
    while (*p == ' ' || *p == '\t')
        p++;
    end = strchr(p, ',');
    *pos = end ? end + 1 : NULL;
    if (!end)
        end = p + strlen(p);
    *ret_start = p;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *ret_len = (size_t)(end - p);
    return true;
}

static bool list_is_empty(const char *text)
{
    return text[strspn(text, " \t")] == '\0';
}

int cfgvalue_check_paths(const char *text, struct errbuf *err)
{
    const char *pos = text, *p;
    size_t len, n = 0;

    if (list_is_empty(text))
        return 0;
    while (next_element(&pos, &p, &len)) {
        if (++n > CFGVALUE_PATHS_MAX)
            return errbuf_set(err, -E2BIG, "more than %d paths", CFGVALUE_PATHS_MAX);
        if (len == 0)
            return errbuf_set(err, -EINVAL, "path %zu is empty (two commas in a row?)", n);
        if (len > CFGVALUE_PATH_LEN_MAX)
            return errbuf_set(err, -EINVAL, "path %zu is longer than %d bytes", n,
                              CFGVALUE_PATH_LEN_MAX);
        if (p[0] != '/')
            return errbuf_set(err, -EINVAL, "the path '%.*s' does not start with '/'", (int)len, p);
        for (size_t i = 0; i < len; i++) {
            if (isspace((unsigned char)p[i]) || p[i] == '?' || p[i] == '#' ||
                iscntrl((unsigned char)p[i]))
                return errbuf_set(err, -EINVAL,
                                  "the path '%.*s' holds a space, a control character, '?' or "
                                  "'#'",
                                  (int)len, p);
        }
    }
    return 0;
}

char **cfgvalue_split_paths(const char *text)
{
    const char *pos = text, *p;
    size_t len, n = 0;
    char **paths = xcalloc(CFGVALUE_PATHS_MAX + 1, sizeof(char *));

    if (list_is_empty(text))
        return paths;
    while (n < CFGVALUE_PATHS_MAX && next_element(&pos, &p, &len)) {
        if (len > 0)
            paths[n++] = xstrndup(p, len);
    }
    return paths;
}

void cfgvalue_free_paths(char **paths)
{
    for (size_t i = 0; paths && paths[i]; i++)
        free(paths[i]);
    free(paths);
}

/* --- suggestions --------------------------------------------------------- */

static int fold(char c)
{
    return c == '_' ? '-' : tolower((unsigned char)c);
}

unsigned cfgvalue_distance(const char *a, const char *b)
{
    unsigned row[65];
    size_t la = strlen(a), lb = strlen(b);

    if (la > 64 || lb > 64)
        return 255;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb] > 255 ? 255 : row[lb];
}

const char *cfgvalue_closest(const char *word, const char *const *words, size_t n)
{
    const char *best = NULL;
    unsigned best_d = 255;
    size_t len = strlen(word);

    for (size_t i = 0; i < n; i++) {
        unsigned d = cfgvalue_distance(word, words[i]);
        if (d < best_d) {
            best_d = d;
            best = words[i];
        }
    }
    if (!best || best_d > 3 || 3 * best_d > len)
        return NULL;
    return best;
}
