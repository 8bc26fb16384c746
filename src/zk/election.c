/* election.c: parsing election znode names and ordering the members. */
#include "config.h"

#include "zk/election.h"
#include "base/mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Parses a whole decimal number with an optional '-' (as Mesos's numify does
 * for decimal text); rejects empty text, '+', spaces and overflow. */
static int parse_sequence(const char *s, size_t n, int64_t *ret)
{
    bool negative = false;
    uint64_t v = 0, limit;

    if (n > 0 && s[0] == '-') {
        negative = true;
        s++;
        n--;
    }
    if (n == 0)
        return -EINVAL;
    limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10u)
            return -ERANGE;
        v = v * 10u + d;
    }
    *ret = negative ? (int64_t)(0u - v) : (int64_t)v;
    return 0;
}

int election_parse_name(const char *name, struct election_member *ret)
{
    const char *first_start = NULL, *last_start = NULL;
    size_t first_len = 0, last_len = 0, pieces = 0;
    const char *p = name;
    int64_t seq;

    /* Walk the non-empty '_'-separated pieces, remembering the first and last. */
    while (*p) {
        while (*p == '_')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != '_')
            p++;
        if (pieces++ == 0) {
            first_start = start;
            first_len = (size_t)(p - start);
        }
        last_start = start;
        last_len = (size_t)(p - start);
    }
    if (pieces == 0 || parse_sequence(last_start, last_len, &seq) < 0)
        return -EINVAL;
    ret->name = xstrdup(name);
    ret->label = pieces > 1 ? xstrndup(first_start, first_len) : NULL;
    ret->sequence = seq;
    return 0;
}

static int compare_members(const void *a, const void *b)
{
    const struct election_member *x = a, *y = b;

    if (x->sequence != y->sequence)
        return x->sequence < y->sequence ? -1 : 1;
    return strcmp(x->name, y->name);
}

void election_order(const char *const *names, size_t n, struct election_member **ret, size_t *ret_n)
{
    struct election_member *members = xcalloc(n ? n : 1, sizeof(*members));
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        if (names[i] && election_parse_name(names[i], &members[count]) == 0)
            count++;
    }
    qsort(members, count, sizeof(*members), compare_members);
    *ret = members;
    *ret_n = count;
}

void election_members_free(struct election_member *members, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(members[i].name);
        free(members[i].label);
    }
    free(members);
}
