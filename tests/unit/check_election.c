/* check_election.c: unit tests of the leader rule: the order of the
 * members, and the decision from the members and their decoded data. */
#include "config.h"

#include "zk/election.h"

#include "unit/unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct election_member *order(const char *const *names, size_t n, size_t *ret_n)
{
    struct election_member *m;

    election_order(names, n, &m, ret_n);
    return m;
}

START_TEST(lowest_sequence_wins_across_labels)
{
    const char *names[] = {"json.info_0000000007", "log_replicas", "info_0000000005", "0000000006",
                           "json.info_0000000009"};
    size_t n;
    struct election_member *m = order(names, 5, &n);

    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(m[0].name, "info_0000000005");
    ck_assert_str_eq(m[0].label, "info");
    ck_assert_str_eq(m[1].name, "0000000006");
    ck_assert_ptr_null(m[1].label);
    ck_assert_str_eq(m[2].name, "json.info_0000000007");
    ck_assert_str_eq(m[2].label, "json.info");
    ck_assert_str_eq(m[3].name, "json.info_0000000009");
    election_members_free(m, n);
}
END_TEST

START_TEST(numeric_not_string_order_and_gaps)
{
    /* Unpadded numbers: "10" sorts before "9" as text but not as a number. */
    const char *names[] = {"json.info_10", "json.info_9", "json.info_0000000100"};
    size_t n;
    struct election_member *m = order(names, 3, &n);

    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(m[0].sequence, 9);
    ck_assert_int_eq(m[1].sequence, 10);
    ck_assert_int_eq(m[2].sequence, 100);
    election_members_free(m, n);
}
END_TEST

START_TEST(non_numeric_children_skipped)
{
    const char *names[] = {
        "log_replicas",   "json.info_", "json.info_12ab", "json.info_+5", "json.info_ 5",
        "json.info_0x10", "",           "____",           "json.info_-"};
    size_t n;
    struct election_member *m = order(names, 9, &n);

    ck_assert_uint_eq(n, 0);
    election_members_free(m, n);
}
END_TEST

START_TEST(past_two_to_the_31)
{
    /* Values past 2^31 compare as numbers; ZooKeeper's wrapped (negative)
     * counter is lower than any positive one, as it is for Mesos. */
    const char *names[] = {"json.info_2147483648", "json.info_4294967296", "json.info_2147483647",
                           "json.info_99999999999999999999"};
    const char *wrapped[] = {"json.info_2147483647", "json.info_-2147483648"};
    size_t n;
    struct election_member *m = order(names, 4, &n);

    ck_assert_uint_eq(n, 3); /* the last overflows 64 bits */
    ck_assert_int_eq(m[0].sequence, 2147483647LL);
    ck_assert_int_eq(m[1].sequence, 2147483648LL);
    ck_assert_int_eq(m[2].sequence, 4294967296LL);
    election_members_free(m, n);

    m = order(wrapped, 2, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(m[0].name, "json.info_-2147483648");
    election_members_free(m, n);
}
END_TEST

START_TEST(label_is_first_piece)
{
    struct election_member m;

    ck_assert_int_eq(election_parse_name("a_b_0000000003", &m), 0);
    ck_assert_str_eq(m.label, "a");
    ck_assert_int_eq(m.sequence, 3);
    free(m.name);
    free(m.label);
    ck_assert_int_eq(election_parse_name("_0000000004", &m), 0);
    ck_assert_ptr_null(m.label);
    ck_assert_int_eq(m.sequence, 4);
    free(m.name);
    free(m.label);
}
END_TEST

START_TEST(empty_group)
{
    size_t n = 99;
    struct election_member *m = order(NULL, 0, &n);

    ck_assert_uint_eq(n, 0);
    election_members_free(m, n);
}
END_TEST

/* ---------------------------------------------------------------------------
 * The decision
 * ------------------------------------------------------------------------- */

#define MASTER_JSON(id, ip, port)                                                         \
    "{\"address\":{\"hostname\":\"" ip "\",\"ip\":\"" ip "\",\"port\":" #port             \
    "},\"hostname\":\"" ip "\",\"id\":\"" id "\",\"ip\":1,\"pid\":\"master@" ip ":" #port \
    "\",\"port\":" #port ",\"version\":\"1.11.0\"}"

/* An election group: members from child names, data read for some. */
struct group {
    struct election_member *members;
    size_t n_members;
    struct election_data data[8];
    size_t n_data;
    struct election_view view;
};

static void group_init(struct group *g, const char *const *names, size_t n)
{
    memset(g, 0, sizeof(*g));
    election_order(names, n, &g->members, &g->n_members);
    g->view = (struct election_view){.path = "/mesos", .members = g->members};
}

/* Records that @znode's data @text was read (NULL: its read is under way). */
static int group_read(struct group *g, const char *znode, const char *text)
{
    struct election_data *d = &g->data[g->n_data++];
    int r = 0;

    d->znode = strdup(znode);
    if (text)
        r = election_decode(znode, text, strlen(text), d);
    return r;
}

/* Decides into a new snapshot (leader_snapshot_unref() it). */
static struct leader_snapshot *group_decide(struct group *g)
{
    struct leader_snapshot *s = leader_snapshot_new();

    g->view.members = g->members;
    g->view.n_members = g->n_members;
    g->view.data = g->data;
    g->view.n_data = g->n_data;
    election_decide(&g->view, s);
    return s;
}

static void group_done(struct group *g)
{
    election_members_free(g->members, g->n_members);
    for (size_t i = 0; i < g->n_data; i++)
        election_data_done(&g->data[i]);
}

START_TEST(decide_lowest_decoded_leads)
{
    const char *names[] = {"json.info_0000000009", "json.info_0000000004", "log_replicas"};
    struct group g;
    struct leader_snapshot *s;

    group_init(&g, names, 3);
    ck_assert_int_eq(group_read(&g, "json.info_0000000004", MASTER_JSON("m4", "10.0.0.4", 5050)),
                     0);
    s = group_decide(&g);
    ck_assert_int_eq(s->state, LEADER_KNOWN);
    ck_assert_str_eq(s->znode, "json.info_0000000004");
    ck_assert_str_eq(s->address, "10.0.0.4:5050");
    ck_assert_str_eq(s->info.id, "m4");
    ck_assert_ptr_null(s->reason);
    /* Every member is listed in election order; the standby is unread. */
    ck_assert_uint_eq(s->n_masters, 2);
    ck_assert_str_eq(s->masters[0].znode, "json.info_0000000004");
    ck_assert(s->masters[0].read && s->masters[0].decoded && s->masters[0].has_endpoint);
    ck_assert_str_eq(s->masters[1].znode, "json.info_0000000009");
    ck_assert(!s->masters[1].read);
    ck_assert_int_eq(s->masters[1].sequence, 9);
    ck_assert(election_reads_complete(&g.view));
    g.view.read_all = true;
    ck_assert_uint_eq(election_wanted(&g.view), 2);
    ck_assert(!election_reads_complete(&g.view));
    leader_snapshot_unref(s);
    group_done(&g);
}
END_TEST

/* Thousands of members (anyone who may create znodes under the path): only
 * the first ELECTION_LIST_MAX are listed and have their data wanted; the
 * count says how many there are. */
START_TEST(decide_many_members_capped)
{
    enum { N = 4000 };
    static char names_buf[N][32];
    const char *names[N];
    struct group g;
    struct leader_snapshot *s;

    for (int i = 0; i < N; i++) {
        snprintf(names_buf[i], sizeof(names_buf[i]), "json.info_%010d", N - i);
        names[i] = names_buf[i];
    }
    group_init(&g, names, N);
    ck_assert_int_eq(group_read(&g, "json.info_0000000001", MASTER_JSON("m1", "10.0.0.1", 5050)),
                     0);
    s = group_decide(&g);
    ck_assert_int_eq(s->state, LEADER_KNOWN);
    ck_assert_uint_eq(s->n_registered, N);
    ck_assert_uint_eq(s->n_masters, ELECTION_LIST_MAX);
    ck_assert_str_eq(s->masters[ELECTION_LIST_MAX - 1].znode, "json.info_0000000064");
    g.view.read_all = true;
    ck_assert_uint_eq(election_wanted(&g.view), ELECTION_LIST_MAX);
    leader_snapshot_unref(s);
    group_done(&g);
}
END_TEST

START_TEST(decide_electing_while_leader_unread)
{
    const char *names[] = {"json.info_0000000002", "json.info_0000000001"};
    struct group g;
    struct leader_snapshot *s;

    group_init(&g, names, 2);
    /* The standby's data is known, the new leader's read is under way. */
    group_read(&g, "json.info_0000000002", MASTER_JSON("m2", "10.0.0.2", 5050));
    group_read(&g, "json.info_0000000001", NULL);
    s = group_decide(&g);
    ck_assert_int_eq(s->state, LEADER_ELECTING);
    ck_assert_str_eq(s->znode, "json.info_0000000001");
    ck_assert_str_eq(s->address, "");
    ck_assert_str_eq(s->reason, "reading the data of the new leader 'json.info_0000000001'");
    ck_assert(!election_reads_complete(&g.view));
    leader_snapshot_unref(s);
    group_done(&g);
}
END_TEST

START_TEST(decide_undecodable_lowest_is_no_leader)
{
    /* A standby that could lead is never promoted past an unusable lowest. */
    const char *names[] = {"json.info_0000000001", "json.info_0000000002"};
    struct group g;
    struct leader_snapshot *s;

    group_init(&g, names, 2);
    ck_assert_int_lt(group_read(&g, "json.info_0000000001", "{not json"), 0);
    group_read(&g, "json.info_0000000002", MASTER_JSON("m2", "10.0.0.2", 5050));
    s = group_decide(&g);
    ck_assert_int_eq(s->state, LEADER_NONE);
    ck_assert_str_eq(s->znode, "json.info_0000000001");
    ck_assert_ptr_nonnull(
        strstr(s->reason, "the leading znode 'json.info_0000000001' cannot be used: "));
    ck_assert(s->masters[0].read && !s->masters[0].decoded);
    ck_assert_ptr_nonnull(s->masters[0].error);
    ck_assert(s->masters[1].has_endpoint);
    leader_snapshot_unref(s);
    group_done(&g);
}
END_TEST

START_TEST(decide_decoded_without_address_is_no_leader)
{
    const char *names[] = {"json.info_0000000003"};
    struct group g;
    struct leader_snapshot *s;

    group_init(&g, names, 1);
    ck_assert_int_lt(group_read(&g, names[0], "{\"id\":\"m3\",\"ip\":0,\"port\":0}"), 0);
    ck_assert(g.data[0].ok && !g.data[0].has_endpoint); /* its information stays */
    s = group_decide(&g);
    ck_assert_int_eq(s->state, LEADER_NONE);
    ck_assert_ptr_nonnull(strstr(s->reason, "no usable address"));
    ck_assert(s->masters[0].decoded && !s->masters[0].has_endpoint);
    ck_assert_str_eq(s->masters[0].info.id, "m3");
    leader_snapshot_unref(s);
    group_done(&g);
}
END_TEST

START_TEST(decide_empty_group_and_path_problem)
{
    const char *names[] = {"log_replicas"};
    struct group g;
    struct leader_snapshot *s;

    group_init(&g, names, 1);
    s = group_decide(&g);
    ck_assert_int_eq(s->state, LEADER_NONE);
    ck_assert_ptr_null(s->znode);
    ck_assert_str_eq(s->reason, "no master is registered under '/mesos'");
    ck_assert_uint_eq(s->n_masters, 0);
    ck_assert(election_reads_complete(&g.view));
    leader_snapshot_unref(s);
    g.view.path_problem = "the path '/mesos' does not exist in ZooKeeper";
    s = group_decide(&g);
    ck_assert_int_eq(s->state, LEADER_NONE);
    ck_assert_str_eq(s->reason, "the path '/mesos' does not exist in ZooKeeper");
    leader_snapshot_unref(s);
    group_done(&g);
}
END_TEST

START_TEST(decode_by_label_and_legacy_formats)
{
    struct election_data d = {0};

    /* The unlabelled format holds a UPID (Mesos < 0.17): usable, warned of. */
    ck_assert_int_eq(election_decode("0000000005", "master@10.0.0.5:5050", 20, &d), 0);
    ck_assert(d.done && d.ok && d.has_endpoint);
    ck_assert_ptr_nonnull(strstr(d.legacy, "UPID"));
    election_data_done(&d);
    memset(&d, 0, sizeof(d));
    /* JSON under a label other than json.info cannot be decoded. */
    ck_assert_int_lt(election_decode("other_0000000006", MASTER_JSON("m6", "10.0.0.6", 5050),
                                     strlen(MASTER_JSON("m6", "10.0.0.6", 5050)), &d),
                     0);
    ck_assert(d.done && !d.ok);
    ck_assert_ptr_nonnull(d.error);
    election_data_done(&d);
    memset(&d, 0, sizeof(d));
    ck_assert_int_lt(election_decode("log_replicas", "", 0, &d), 0);
    ck_assert_str_eq(d.error, "not an election member");
    election_data_done(&d);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {lowest_sequence_wins_across_labels,
                                  decide_many_members_capped,
                                  numeric_not_string_order_and_gaps,
                                  non_numeric_children_skipped,
                                  past_two_to_the_31,
                                  label_is_first_piece,
                                  empty_group,
                                  decide_lowest_decoded_leads,
                                  decide_electing_while_leader_unread,
                                  decide_undecodable_lowest_is_no_leader,
                                  decide_decoded_without_address_is_no_leader,
                                  decide_empty_group_and_path_problem,
                                  decode_by_label_and_legacy_formats,
                                  NULL};

    return unit_run(unit_suite("election", tests));
}
