/* check_backoff.c: unit tests of the randomised, growing delays between
 * reconnects. */
#include "config.h"

#include "zk/backoff.h"

#include "unit/unit.h"

#include <check.h>

START_TEST(windows_double_up_to_the_maximum)
{
    /* With many draws, the largest delay of each attempt approaches its
     * window, and no delay ever exceeds it. */
    const int windows[] = {250, 500, 1000, 2000, 2500, 2500};
    int largest[6] = {0};

    for (uint64_t seed = 1; seed <= 500; seed++) {
        struct backoff b;
        backoff_init(&b, 250, 2500, seed);
        for (int i = 0; i < 6; i++) {
            int d = backoff_next(&b);
            ck_assert_int_ge(d, 0);
            ck_assert_int_le(d, windows[i]);
            if (d > largest[i])
                largest[i] = d;
        }
    }
    for (int i = 0; i < 6; i++)
        ck_assert_int_ge(largest[i], windows[i] * 9 / 10);
}
END_TEST

START_TEST(owners_do_not_retry_in_step)
{
    /* 1,000 owners failing together: their first delays spread over the
     * whole first window, not onto a few instants. */
    int per_tenth[10] = {0};

    for (uint64_t seed = 0; seed < 1000; seed++) {
        struct backoff b;
        backoff_init(&b, 1000, 10000, seed * 7919 + 13);
        per_tenth[backoff_next(&b) * 10 / 1001]++;
    }
    for (int i = 0; i < 10; i++)
        ck_assert_msg(per_tenth[i] >= 50 && per_tenth[i] <= 150, "%d in tenth %d", per_tenth[i], i);
}
END_TEST

START_TEST(reset_starts_from_the_first_window)
{
    struct backoff b;

    backoff_init(&b, 100, 800, 42);
    for (int i = 0; i < 10; i++)
        backoff_next(&b);
    ck_assert_int_eq(b.window_ms, 800);
    backoff_reset(&b);
    ck_assert_int_le(backoff_next(&b), 100);
    ck_assert_int_eq(b.window_ms, 200);
}
END_TEST

START_TEST(nonsense_bounds_are_tamed)
{
    struct backoff b;

    backoff_init(&b, 0, -5, 7); /* a session timeout of 0 would give these */
    ck_assert_int_le(backoff_next(&b), 1);
    ck_assert_int_le(backoff_next(&b), 1);
    backoff_init(&b, 1 << 30, 1 << 30, 7); /* no overflow when doubling */
    ck_assert_int_ge(backoff_next(&b), 0);
    ck_assert_int_ge(backoff_next(&b), 0);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {windows_double_up_to_the_maximum, owners_do_not_retry_in_step,
                                  reset_starts_from_the_first_window, nonsense_bounds_are_tamed,
                                  NULL};

    return unit_run(unit_suite("backoff", tests));
}
