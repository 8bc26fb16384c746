/* election.c: parsing election znode names, ordering the members, decoding
 * their data and deciding who leads. */
#include "config.h"

#include "zk/election.h"
#include "base/errbuf.h"
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

int election_decode(const char *znode, const char *data, size_t len, struct election_data *ret)
{
    struct election_member m = {0};
    struct errbuf err = {{0}};
    int r;

    ret->done = true;
    if (election_parse_name(znode, &m) < 0) {
        ret->error = xstrdup("not an election member");
        return -EINVAL;
    }
    r = masterinfo_decode(m.label, data ? data : "", len, &ret->info, &err);
    if (r == 0)
        r = masterinfo_endpoint(&ret->info, &ret->endpoint, &err);
    if (r == 0) {
        ret->ok = true;
        ret->has_endpoint = true;
        if (!m.label)
            ret->legacy = "has data in the old UPID format (Mesos < 0.17)";
        else if (strcmp(m.label, "info") == 0)
            ret->legacy = "holds protobuf MasterInfo (Mesos < 0.24, deprecated by MESOS-2340)";
    } else {
        /* Decoded without an address: the information stays, unusable. */
        if (r != -EADDRNOTAVAIL)
            masterinfo_done(&ret->info);
        ret->ok = r == -EADDRNOTAVAIL;
        ret->error = xstrdup(err.msg);
    }
    free(m.name);
    free(m.label);
    return r == 0 ? 0 : -EINVAL;
}

void election_data_done(struct election_data *d)
{
    free(d->znode);
    free(d->error);
    masterinfo_done(&d->info);
}

const struct election_data *election_find(const struct election_view *v, const char *znode)
{
    for (size_t i = 0; i < v->n_data; i++) {
        if (strcmp(v->data[i].znode, znode) == 0)
            return &v->data[i];
    }
    return NULL;
}

size_t election_wanted(const struct election_view *v)
{
    if (!v->read_all)
        return v->n_members ? 1 : 0;
    return v->n_members < ELECTION_LIST_MAX ? v->n_members : ELECTION_LIST_MAX;
}

bool election_reads_complete(const struct election_view *v)
{
    size_t want = election_wanted(v);

    for (size_t i = 0; i < want; i++) {
        const struct election_data *d = election_find(v, v->members[i].name);
        if (!d || !d->done)
            return false;
    }
    return true;
}

static void fill_masters(const struct election_view *v, struct leader_snapshot *s)
{
    size_t n = v->n_members < ELECTION_LIST_MAX ? v->n_members : ELECTION_LIST_MAX;

    s->masters = xcalloc(n ? n : 1, sizeof(*s->masters));
    s->n_masters = n;
    s->n_registered = v->n_members;
    for (size_t i = 0; i < n; i++) {
        struct leader_master *m = &s->masters[i];
        const struct election_data *d = election_find(v, v->members[i].name);
        m->znode = xstrdup(v->members[i].name);
        m->sequence = v->members[i].sequence;
        if (!d || !d->done)
            continue;
        m->read = true;
        m->decoded = d->ok;
        m->error = xstrdup(d->error);
        if (d->ok)
            masterinfo_copy(&m->info, &d->info);
        m->endpoint = d->endpoint;
        m->has_endpoint = d->has_endpoint;
    }
}

static void fill_leader(const struct election_view *v, struct leader_snapshot *s)
{
    const struct election_data *d;

    if (v->path_problem) {
        s->state = LEADER_NONE;
        s->reason = xstrdup(v->path_problem);
        return;
    }
    if (v->n_members == 0) {
        s->state = LEADER_NONE;
        s->reason = xasprintf("no master is registered under '%s'", v->path);
        return;
    }
    s->znode = xstrdup(v->members[0].name);
    d = election_find(v, v->members[0].name);
    if (!d || !d->done) {
        s->state = LEADER_ELECTING;
        s->reason = xasprintf("reading the data of the new leader '%s'", s->znode);
    } else if (!d->ok || !d->has_endpoint) {
        s->state = LEADER_NONE;
        s->reason = xasprintf("the leading znode '%s' cannot be used: %s", s->znode,
                              d->error ? d->error : "no address");
    } else {
        s->state = LEADER_KNOWN;
        masterinfo_copy(&s->info, &d->info);
        s->endpoint = d->endpoint;
        masterinfo_endpoint_format(&d->endpoint, s->address, sizeof(s->address));
    }
}

void election_decide(const struct election_view *v, struct leader_snapshot *s)
{
    fill_leader(v, s);
    fill_masters(v, s);
}
