/* local.h: answers mesos-leaderd gives itself: its status endpoints under
 * /leaderd/, /redirect, and its own errors (always JSON, never mistaken for
 * a master's: they carry "source":"mesos-leaderd").
 *
 * The endpoints are one table (local.c): a path the table does not know
 * goes to the leader, and an unknown path under /leaderd/ gets 404. */
#ifndef MLD_LOCAL_H
#define MLD_LOCAL_H

#include "base/strbuf.h"
#include "proxy/metrics.h"
#include "zk/leader.h"

#include <microhttpd.h>
#include <stdbool.h>

/* What an endpoint's answer may read. */
struct local_context {
    const struct leader_snapshot *leader;
    const char *leader_document; /* the document of /leaderd/v1/leader (watch.h) */
    struct metrics *metrics;     /* statuses are counted here */
    const struct metrics_gauges *gauges;
    const char *cluster; /* the cluster's name, a label on every metric (or NULL) */
};

struct local_endpoint;

/* The endpoint that answers @path (a request path, no query string), or
 * NULL when the call goes to the leader. */
const struct local_endpoint *local_find(const char *path);

/* Queues the endpoint's answer to a @method request on @conn. */
enum MHD_Result local_answer(const struct local_endpoint *e, struct MHD_Connection *conn,
                             const char *method, const struct local_context *ctx);

/* Whether @e is the leader document, which clients may wait on (watch.h). */
bool local_watchable(const struct local_endpoint *e);

/* Queues @text (taken) as a JSON answer with @status. */
enum MHD_Result local_send_json(struct MHD_Connection *conn, unsigned status, struct strbuf *text);

/* Queues a JSON error answer: {"error": code, "message": ..., "source":
 * "mesos-leaderd"}. Adds Retry-After when @retry_after_s > 0, and
 * Connection: close when asked. */
enum MHD_Result local_error(struct MHD_Connection *conn, unsigned status, const char *code,
                            const char *message, unsigned retry_after_s, bool close_connection);

#endif
