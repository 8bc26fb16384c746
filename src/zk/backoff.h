/* backoff.h: randomised, growing delays between attempts ("full jitter").
 *
 * When a ZooKeeper server fails, every client connected to it fails at the
 * same instant; if each then retries on a fixed schedule, they all retry
 * together, again and again. Each delay here is drawn uniformly from
 * [0, window], and the window doubles with every attempt up to a maximum,
 * so that the attempts of many clients spread out, and thin out while the
 * failure lasts. Each backoff has its own random state (seeded per process
 * and per owner). */
#ifndef MLD_BACKOFF_H
#define MLD_BACKOFF_H

#include <stdint.h>

struct backoff {
    unsigned short state[3]; /* erand48() */
    int first_ms;            /* the first window */
    int max_ms;              /* the largest window */
    int window_ms;           /* the next window */
};

/* Sets up @b with windows from @first_ms doubling to @max_ms; @seed makes
 * its sequence differ from every other backoff's. */
void backoff_init(struct backoff *b, int first_ms, int max_ms, uint64_t seed);

/* Starts again from the first window (after a success). */
void backoff_reset(struct backoff *b);

/* The next delay, in [0, window] ms; widens the window. */
int backoff_next(struct backoff *b);

#endif
