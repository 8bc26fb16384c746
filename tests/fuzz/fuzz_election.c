/* fuzz_election.c: libFuzzer target for the leader rule.
 *
 * The input is split on newlines into child names. Each name goes through
 * election_parse_name(), checked against a plain reading of the rule in
 * election.h; then election_order() must keep exactly the members, in
 * order (lowest sequence first, ties by name). */
#include "config.h"

#include "zk/election.h"
#include "base/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) fail(const char *what, const char *name)
{
    fprintf(stderr, "fuzz_election: %s: '%s'\n", what, name);
    abort();
}

/* Whether @s is an optional '-' and one or more decimal digits. */
static bool plain_number(const char *s)
{
    if (*s == '-')
        s++;
    return *s && s[strspn(s, "0123456789")] == '\0';
}

/* The rule, read plainly: split on '_', drop empty pieces; the last piece
 * must be [-]digits fitting int64; the label is the first of several. */
static bool reference(const char *name, int64_t *seq, char **label)
{
    char *copy = xstrdup(name), *save = NULL, *first = NULL, *last = NULL, *end;
    size_t pieces = 0;
    bool ok;

    for (char *p = strtok_r(copy, "_", &save); p; p = strtok_r(NULL, "_", &save)) {
        if (!first)
            first = p;
        last = p;
        pieces++;
    }
    ok = last && plain_number(last);
    if (ok) {
        errno = 0;
        *seq = strtoll(last, &end, 10);
        ok = errno == 0 && *end == '\0';
    }
    *label = ok && pieces > 1 ? xstrdup(first) : NULL;
    free(copy);
    return ok;
}

static void check_name(const char *name)
{
    struct election_member m = {0};
    char *label = NULL;
    int64_t seq = 0;
    bool want = reference(name, &seq, &label);
    bool got = election_parse_name(name, &m) == 0;

    if (want != got)
        fail(got ? "accepted a non-member" : "rejected a member", name);
    if (got && (m.sequence != seq || !!m.label != !!label ||
                (label && strcmp(label, m.label) != 0) || strcmp(m.name, name) != 0))
        fail("parsed differently", name);
    free(label);
    free(m.name);
    free(m.label);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xstrndup((const char *)data, size), *save = NULL;
    const char *names[MAX_NAMES];
    struct election_member *members;
    size_t n = 0, n_members = 0, expected = 0;

    for (char *p = strtok_r(text, "\n", &save); p && n < MAX_NAMES; p = strtok_r(NULL, "\n", &save))
        names[n++] = p;
    for (size_t i = 0; i < n; i++) {
        struct election_member m;
        check_name(names[i]);
        if (election_parse_name(names[i], &m) == 0) {
            expected++;
            free(m.name);
            free(m.label);
        }
    }
    election_order(names, n, &members, &n_members);
    if (n_members != expected)
        fail("election_order() lost or invented members", text);
    for (size_t i = 1; i < n_members; i++) {
        const struct election_member *a = &members[i - 1], *b = &members[i];
        if (a->sequence > b->sequence ||
            (a->sequence == b->sequence && strcmp(a->name, b->name) > 0))
            fail("members out of order", b->name);
    }
    election_members_free(members, n_members);
    free(text);
    return 0;
}
