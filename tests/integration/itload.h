/* itload.h: a steady load through the daemon while a test injects a fault:
 * short calls back to back on a few connections, plus open event streams,
 * counted as a client would see them. */
#ifndef MLD_ITLOAD_H
#define MLD_ITLOAD_H

#include <stdbool.h>
#include <sys/types.h>

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

/* --- crowds of streams ---------------------------------------------------- */

/* Many SUBSCRIBE streams from one thread (raw sockets, poll): thousands
 * cost a descriptor each, no thread. */
struct it_crowd;

/* What a crowd's streams got so far. */
struct it_crowd_report {
    int n;
    int subscribed;    /* 200 and the SUBSCRIBED record, still open */
    int rejected;      /* answered with a status other than 200 */
    int rejected_503;  /* ... of which 503 */
    int rejected_busy; /* ... of which 503 too_many_connections */
    int cut;           /* ended after a 200, or closed before any answer */
    int waiting;       /* no answer yet, or a 200 without its first record */
    char sample[512];  /* the first answer other than 200, or the first cut */
};

/* Opens @n connections to 127.0.0.1:@port at once (non-blocking) and sends
 * each a scheduler SUBSCRIBE for a framework "@name-i" as soon as it is
 * connected; returns without waiting for answers. */
struct it_crowd *it_crowd_open(int port, int n, const char *name);

/* Reads what arrives until no stream waits any longer or @timeout_ms pass;
 * fills @ret; returns whether none waits. */
bool it_crowd_wait(struct it_crowd *c, int timeout_ms, struct it_crowd_report *ret);

/* Reads what has arrived, without waiting, and fills @ret. */
void it_crowd_peek(struct it_crowd *c, struct it_crowd_report *ret);

/* Closes every connection (clients going away) and frees @c. */
void it_crowd_close(struct it_crowd *c);

/* --- slow clients and measuring windows ----------------------------------- */

/* Reads from @fd at about @bytes_per_s (the pace of a slow client) until the
 * connection ends; calls @tick(@arg) about every 100 ms, and stops early
 * when it returns false. *ret gets every byte read (the caller frees it),
 * *ret_len how many. Returns whether it read to the end. */
bool it_read_paced(int fd, double bytes_per_s, bool (*tick)(void *arg), void *arg, char **ret,
                   size_t *ret_len);

/* Decodes a chunked body of @len bytes in place; returns the decoded
 * length, or -1 when the framing is broken or the terminating chunk is
 * missing. */
long it_dechunk(char *body, size_t len);

/* CPU time (ms) @pid uses over the next @window_ms of wall-clock time: a
 * measuring window, not a wait for a state. */
long it_cpu_ms_over(pid_t pid, int window_ms);

#endif
