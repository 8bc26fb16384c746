/* diffcmp.h: the comparison at the heart of the differential harness: one
 * exchange played straight against the master and once through
 * mesos-leaderd must look the same to the client, and the master must
 * receive the same requests, but for the short list of allowed differences
 * kept in diffcmp.c (mesos-leaderd(8) lists the same).
 *
 * Pure: it reads bytes and the stand-in's request records, and writes what
 * differs, for people, into a report. */
#ifndef MLD_DIFFCMP_H
#define MLD_DIFFCMP_H

#include "base/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* One side of an exchange, as the client saw it. */
struct dc_side {
    const char *name;   /* "master" or "daemon", for the report */
    struct strbuf sent; /* every byte the client sent */
    struct strbuf got;  /* every byte it received */
    bool server_closed; /* the other end closed (or reset) the connection */
    bool client_closed; /* the client hung up after its [until] text arrived */
    bool timed_out;     /* it waited in vain for an answer to complete */
    const char *until;  /* the [until] text, or NULL */
};

/* What the case says about its exchange. */
struct dc_expect {
    bool stream; /* the answer is an event stream (relayed as it comes) */
};

/* Compares the answers @direct (straight to the master) and @proxied
 * (through the daemon) received. Returns how many differences are not
 * allowed, each described in @report. */
int dc_compare_answers(const struct dc_side *direct, const struct dc_side *proxied,
                       const struct dc_expect *expect, struct strbuf *report);

/* Compares the requests the master recorded (arrays as GET
 * /__standin/requests answers them) in the two runs. Returns how many
 * differences are not allowed, each described in @report. */
int dc_compare_received(struct json_object *direct, struct json_object *proxied,
                        struct strbuf *report);

/* Whether @body (of @len bytes) is the daemon's own JSON error:
 * {"error": "...", ..., "source": "mesos-leaderd"}. */
bool dc_is_daemon_error(const char *body, size_t len);

/* Appends @len bytes as readable text: printable ASCII as is, the rest as
 * \r, \n, \t or \xHH; at most @max bytes, then "...". */
void dc_escape(struct strbuf *out, const char *bytes, size_t len, size_t max);

/* Frees what a side holds. */
void dc_side_done(struct dc_side *s);

#endif
