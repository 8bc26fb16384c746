/* backoff.c: randomised, growing delays between attempts. */
#include "config.h"

#include "zk/backoff.h"

#include <stdlib.h>

/* SplitMix64's finaliser: nearby seeds (consecutive, or clock readings a
 * few microseconds apart) give unrelated states; erand48() alone would
 * start their sequences almost alike. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

void backoff_init(struct backoff *b, int first_ms, int max_ms, uint64_t seed)
{
    seed = mix(seed);
    b->state[0] = (unsigned short)seed;
    b->state[1] = (unsigned short)(seed >> 16);
    b->state[2] = (unsigned short)((seed >> 32) ^ (seed >> 48));
    b->first_ms = first_ms > 0 ? first_ms : 1;
    b->max_ms = max_ms > b->first_ms ? max_ms : b->first_ms;
    b->window_ms = b->first_ms;
}

void backoff_reset(struct backoff *b)
{
    b->window_ms = b->first_ms;
}

int backoff_next(struct backoff *b)
{
    int delay = (int)(erand48(b->state) * (b->window_ms + 1));

    if (delay > b->window_ms)
        delay = b->window_ms;
    b->window_ms = b->window_ms > b->max_ms / 2 ? b->max_ms : b->window_ms * 2;
    return delay;
}
