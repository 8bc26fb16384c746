/* itload.h: a steady load through the daemon while a test injects a fault:
 * short calls back to back on a few connections, plus open event streams,
 * counted as a client would see them. */
#ifndef MLD_ITLOAD_H
#define MLD_ITLOAD_H

#include <stdbool.h>

/* What the load saw. */
struct it_load_report {
    long sent;         /* calls started */
    long ok;           /* answered 2xx */
    long failed;       /* answered otherwise, or no answer (error) */
    long hung;         /* no answer within the hang limit */
    long status[6];    /* answers by class: [2] = 2xx ... [5] = 5xx; [0] = none */
    long streams;      /* streams opened */
    long streams_cut;  /* streams that ended while the load ran */
    double recover_ms; /* from it_load_mark() to the last failed call (0: none failed) */
    double hang_limit_ms;
};

struct it_load;

/* Starts @calls concurrent back-to-back GETs of @path and @streams SUBSCRIBE
 * streams against @base ("http://127.0.0.1:PORT"). A call with no answer
 * after @hang_ms counts as hung (and is given up). */
struct it_load *it_load_start(const char *base, const char *path, int calls, int streams,
                              int hang_ms);

/* Marks the moment the fault is injected (recovery is measured from it). */
void it_load_mark(struct it_load *l);

/* Lets the fault last: returns once @ms have passed since it_load_mark()
 * (a fault's duration is part of its definition, not a wait for a state). */
void it_load_hold_fault(struct it_load *l, int ms);

/* Counts so far (the load goes on). */
void it_load_peek(struct it_load *l, struct it_load_report *ret);

/* Waits until @n more calls have been answered 2xx than at the call (the
 * service recovered), or @timeout_ms pass; returns whether they were. */
bool it_load_wait_ok(struct it_load *l, long n, int timeout_ms);

/* Waits until @n more calls have failed than at the call, or @timeout_ms
 * pass; returns whether they did. */
bool it_load_wait_failed(struct it_load *l, long n, int timeout_ms);

/* Stops the load (calls in flight finish or are given up at the hang
 * limit), fills @ret, frees @l. */
void it_load_stop(struct it_load *l, struct it_load_report *ret);

/* Prints @r as one line on stderr and appends it as JSON (with @fault) to
 * $HARNESS_BUILDDIR/tests/integration/reliability.jsonl, from which
 * docs/reliability.md is written. */
void it_load_record(const char *fault, const struct it_load_report *r, const char *outcome);

/* Records what a hostile or broken client got, for docs/reliability.md:
 * how many were sent, the answer, how many reached a master. */
void it_record_hostile(const char *input, long sent, const char *answer, long forwarded,
                       const char *outcome);

#endif
