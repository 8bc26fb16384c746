/* check_election.c: unit tests of the leader rule. */
#include "config.h"

#include "zk/election.h"

#include "unit/unit.h"

#include <check.h>
#include <stdlib.h>

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

int main(void)
{
    const TTest *const tests[] = {lowest_sequence_wins_across_labels,
                                  numeric_not_string_order_and_gaps,
                                  non_numeric_children_skipped,
                                  past_two_to_the_31,
                                  label_is_first_piece,
                                  empty_group,
                                  NULL};

    return unit_run(unit_suite("election", tests));
}
