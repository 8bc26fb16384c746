/* watch.h: the daemon's view of the leader (GET /leaderd/v1/leader), and
 * clients that wait for it to change.
 *
 * The document carries an "index" that grows with every change of it (the
 * leader, its state, the ZooKeeper session, the list of masters). A client
 * may wait for a change in two ways:
 *   - a long poll, ?wait=N[&timeout=S]: answered at once when the index is
 *     above N, else when the document changes, else after S seconds
 *     (default 60, at most 300) with the unchanged document; always 200;
 *   - server-sent events, Accept: text/event-stream: the current document
 *     at once (unless Last-Event-ID names it), then one event per change
 *     ("id: INDEX", "event: leader", "data: DOCUMENT"), and a comment line
 *     every 15 s while nothing happens.
 * Both count as client connections and end when the daemon stops. */
#ifndef MLD_WATCH_H
#define MLD_WATCH_H

#include "base/strbuf.h"
#include "proxy/exchange.h"

/* Seconds between comment lines on an idle event stream. */
#define WATCH_KEEPALIVE_S 15

/* A long poll waits this long by default, and at most WATCH_TIMEOUT_MAX_S. */
#define WATCH_TIMEOUT_DEFAULT_S 60
#define WATCH_TIMEOUT_MAX_S     300

/* Sets up @p->watch. */
void watch_init(struct proxy *p);

/* Ends every waiting client (their connections are answered or closed) and
 * frees what @p->watch holds. */
void watch_done(struct proxy *p);

/* The snapshot @s is now the one in use: when the document it gives differs
 * from the last one, its index grows and every waiting client hears of it. */
void watch_snapshot(struct proxy *p, const struct leader_snapshot *s);

/* Appends the current document, with its index, on one line, to @out. */
void watch_document(const struct proxy *p, struct strbuf *out);

/* Takes a GET of the leader document that asks to wait (a long poll or an
 * event stream): true when it did (its answer is queued, or it waits), with
 * libmicrohttpd's result in @ret; false for a plain read. */
bool watch_request(struct exchange *ex, enum MHD_Result *ret);

/* Ends every wait now: long polls get the current document, event streams
 * their end (the daemon stops). */
void watch_end_all(struct proxy *p);

/* How many clients wait now, by kind. */
unsigned watch_polls(const struct proxy *p);
unsigned watch_event_streams(const struct proxy *p);

#endif
