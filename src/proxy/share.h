/* share.h: heavy state reads served once.
 *
 * Identical concurrent GETs (and HEADs) of the read-only state endpoints
 * (the `shared-reads` paths, each also under /master/) share one call to
 * the leader when their method, target, Authorization, Accept and
 * Accept-Encoding are equal (Mesos filters state per principal). The first
 * request leads: its call goes to the leader as any other; later ones join
 * it and wait. Every joiner then gets the leader's status, headers and
 * bytes, from one copy of the body, at its own pace.
 *
 * Read-your-writes: a request joins only a call that was sent after every
 * call other than GET/HEAD that the daemon had finished answering when the
 * request arrived (a TEARDOWN, then a read of the state, sees the state
 * after the TEARDOWN).
 *
 * Answers read whole (up to 1 MiB) are shared; when the leader's answer
 * turns out to be larger, or it fails, or its client leaves, the joiners go
 * their own way (each makes its own call).
 *
 * The optional cache (`state-cache-ttl`) keeps the last 200 answer of each
 * such read for that long and serves it with an Age header; a request with
 * Cache-Control: no-cache bypasses it; a leader change or any forwarded
 * call other than GET/HEAD empties it. Read-your-writes holds for it too: an
 * answer is kept only when no write was answered while its call was on its
 * way, and given only to requests that arrived before any write answered
 * after its call was sent. */
#ifndef MLD_SHARE_H
#define MLD_SHARE_H

#include "proxy/exchange.h"

/* Sets up and frees @p->share. */
void share_init(struct proxy *p);
void share_done(struct proxy *p);

/* A request is in (@ex->req complete): whether it is a shared read. If so,
 * it is answered from the cache (true, answer queued), or it joins a call
 * on its way (true: it waits, suspended), or it leads a new one (false: it
 * goes to the leader, and its answer is shared). */
bool share_request(struct exchange *ex);

/* @ex's call goes to the leader now: a call it leads counts as sent after
 * the writes answered so far; any other call than GET/HEAD empties the
 * cache. */
void share_sending(struct exchange *ex);

/* The call @ex leads was read whole: answers @ex and every joiner with it
 * (and keeps it in the cache when one is configured). False when @ex leads
 * nothing: the caller answers it alone. */
bool share_deliver(struct exchange *ex);

/* @ex (a leader) will not be answered by a shared answer (it failed, its
 * answer is relayed as a stream, its client left): its joiners go onto
 * @ret, for the caller to send on their own way. */
void share_release(struct exchange *ex, struct list *ret);

/* The leader changed: the cache empties. */
void share_leader_changed(struct proxy *p);

#endif
