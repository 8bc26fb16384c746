/* check_bufq.c: unit tests of the byte queue (base/bufq.h): order, and
 * memory that follows what is queued rather than what went through. */
#include "config.h"

#include "base/bufq.h"

#include "unit/unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(keeps_order_across_pieces)
{
    struct bufq q = {0};
    char out[64] = "";
    size_t n = 0;

    bufq_push(&q, "hello ", 6);
    bufq_push(&q, "world", 5);
    ck_assert_uint_eq(bufq_len(&q), 11);
    memcpy(out, bufq_head(&q), 3);
    bufq_drop(&q, 3);
    n = 3;
    bufq_push(&q, "!", 1);
    memcpy(out + n, bufq_head(&q), bufq_len(&q));
    n += bufq_len(&q);
    out[n] = '\0';
    ck_assert_str_eq(out, "hello world!");
    bufq_drop(&q, 100); /* more than there is */
    ck_assert_uint_eq(bufq_len(&q), 0);
    ck_assert_ptr_null(bufq_head(&q));
    bufq_free(&q);
}
END_TEST

/* A slow reader: 64 MiB pass through a queue that never holds more than
 * 256 KiB; its memory stays near that, not near the total. */
START_TEST(memory_follows_what_is_queued)
{
    struct bufq q = {0};
    static char piece[16 * 1024];
    size_t max_cap = 0, dropped = 0;

    for (int i = 0; i < 4096; i++) {
        memset(piece, (unsigned char)i, sizeof(piece));
        bufq_push(&q, piece, sizeof(piece));
        while (bufq_len(&q) > 256 * 1024) {
            const char *head = bufq_head(&q);
            ck_assert_ptr_nonnull(head);
            ck_assert_uint_eq((unsigned char)(head ? head[0] : 0),
                              (unsigned char)(dropped / sizeof(piece)));
            bufq_drop(&q, sizeof(piece) / 2);
            dropped += sizeof(piece) / 2;
        }
        if (bufq_capacity(&q) > max_cap)
            max_cap = bufq_capacity(&q);
    }
    ck_assert_uint_le(max_cap, 1024 * 1024);
    bufq_clear(&q);
    ck_assert_uint_le(bufq_capacity(&q), BUFQ_KEEP); /* an emptied queue gives memory back */
    bufq_free(&q);
}
END_TEST

START_TEST(steal_hands_over_the_bytes)
{
    struct bufq q = {0};
    size_t len;
    char *data;

    ck_assert_ptr_null(bufq_steal(&q, &len));
    ck_assert_uint_eq(len, 0);
    bufq_push(&q, "xxabc", 5);
    bufq_drop(&q, 2);
    data = bufq_steal(&q, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(data, "abc", 3), 0);
    ck_assert_uint_eq(bufq_len(&q), 0);
    free(data);
    bufq_free(&q);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {keeps_order_across_pieces, memory_follows_what_is_queued,
                                  steal_hands_over_the_bytes, NULL};

    return unit_run(unit_suite("bufq", tests));
}
