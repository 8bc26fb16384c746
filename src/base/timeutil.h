/* timeutil.h: monotonic and wall-clock time in the units the code uses. */
#ifndef MLD_TIMEUTIL_H
#define MLD_TIMEUTIL_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in nanoseconds. */
static inline uint64_t time_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Monotonic time in milliseconds. */
static inline uint64_t time_now_ms(void)
{
    return time_now_ns() / 1000000u;
}

/* Wall-clock time in milliseconds since the epoch. */
static inline uint64_t time_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Formats a wall-clock time in milliseconds as RFC 3339 UTC
 * ("2026-11-25T16:22:17.123Z") into @buf (at least 25 bytes). */
void time_format_rfc3339(uint64_t wall_ms, char *buf, size_t size);

#endif
