/* exchange.c: one proxied call: the request, the attempts to the leader, the
 * answers read whole, and the leader the proxy follows (see exchange.h).
 *
 * A 307 or a "503 No leader elected" from a master means ZooKeeper and the
 * masters disagree: the call is sent again to the leader ZooKeeper names,
 * within a budget of tries and time, and never passed on. A call that may
 * have reached a master is never sent again unless it is a GET or HEAD. */
#include "config.h"

#include "proxy/exchange.h"
#include "base/log.h"
#include "base/mem.h"
#include "proxy/answer.h"
#include "proxy/headers.h"
#include "proxy/local.h"
#include "proxy/request.h"
#include "proxy/route.h"
#include "proxy/share.h"
#include "proxy/stream.h"
#include "proxy/watch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define CLIENT_WATCH_DELAY_MS 200 /* a call waiting longer gets its client watched */
#define STALE_BATCH           256 /* streams of an old leader ended per turn of the loop */

static struct log_ratelimit exchange_limit = LOG_RATELIMIT_INIT(60000, 20);

static void dispatch(struct exchange *ex);

/* The joiners of a shared read @ex leads go their own way: each makes its
 * own call (share.h). */
static void release_joiners(struct exchange *ex)
{
    struct list released;
    struct list_node *n;

    list_init(&released);
    share_release(ex, &released);
    while ((n = list_first(&released))) {
        struct exchange *j = list_entry(n, struct exchange, node);
        registry_delist(j);
        j->share_released = true;
        dispatch(j);
    }
}

/* Answers @ex with a daemon-made error; what it led goes on without it. */
static void fail(struct exchange *ex, unsigned status, const char *code, const char *message,
                 unsigned retry_after)
{
    release_joiners(ex);
    answer_error(ex, status, code, message, retry_after);
}

/* The answer was read whole: it goes to @ex, and to every read that joined
 * it. */
static void answer_read_whole(struct exchange *ex)
{
    if (!share_deliver(ex))
        answer_buffered(ex);
}

/* The answer is relayed as it comes: too big to share. */
static void start_relay(struct exchange *ex)
{
    release_joiners(ex);
    relay_start(ex);
}

static uint64_t ms_from_now(struct exchange *ex, uint64_t ms)
{
    return loop_now_ns(ex->p->loop) + ms * 1000000u;
}

/* --- the leader ------------------------------------------------------------ */

/* Ends up to STALE_BATCH streams bound to a leader other than the current
 * one, and comes back at the next turn of the loop for the rest: between
 * two batches the loop accepts the connections of the clients that
 * subscribe again, so that thousands of streams ending at once do not fill
 * the listen queue. */
static void end_stale_streams(struct loop_timer *timer)
{
    struct proxy *p = timer->data;
    struct list_node *n, *tmp;
    unsigned ended = 0;

    list_for_each_safe (n, tmp, &p->exchanges.streams) {
        struct exchange *ex = list_entry(n, struct exchange, node);
        if (ex->att.epoch == p->leader->epoch)
            continue;
        if (ended++ == STALE_BATCH) {
            /* Due after this turn's timers (whose "now" is older): the
             * loop reads its descriptors first. */
            loop_timer_arm_ms(p->loop, timer, 0);
            return;
        }
        p->metrics.streams_ended_by_leader_change++;
        relay_end_stream(ex, "the leader changed");
    }
}

/* The leader changed (or its state did): streams bound to another leader
 * end, parked calls wake. */
static void leader_changed(struct proxy *p, const struct leader_snapshot *s, bool epoch_changed)
{
    /* An armed timer has more batches to come: they end the streams of
     * every older leader, this change's too. */
    if (epoch_changed && p->exchanges.streams.count > 0 && !loop_timer_armed(&p->stale_streams)) {
        loop_timer_init(&p->stale_streams, end_stale_streams, p);
        end_stale_streams(&p->stale_streams);
    }
    /* A woken call may park again (at the back): visit each one once. */
    for (unsigned left = p->exchanges.parked.count; left > 0; left--) {
        struct exchange *ex = list_entry(p->exchanges.parked.head.next, struct exchange, node);
        registry_delist(ex);
        if (ex->park == PARK_ELECTING || s->epoch != ex->park_epoch) {
            loop_timer_cancel(p->loop, &ex->timer);
            dispatch(ex);
        } else {
            registry_enlist(ex, &p->exchanges.parked); /* its timer still runs */
        }
    }
}

const struct leader_snapshot *exchange_leader(struct proxy *p)
{
    if (p->applying_leader)
        return p->leader; /* held until the change is applied: never freed under it */
    p->applying_leader = true;
    for (;;) {
        const struct leader_snapshot *s = leader_store_get(p->store);
        bool epoch_changed;

        if (p->leader && s->generation == p->leader->generation) {
            leader_snapshot_unref(s);
            break;
        }
        epoch_changed = !p->leader || s->epoch != p->leader->epoch;
        leader_snapshot_unref(p->leader);
        p->leader = s;
        leader_changed(p, s, epoch_changed);
        if (epoch_changed)
            share_leader_changed(p);
        watch_snapshot(p, s);
        if (p->observer)
            p->observer(p->observer_data, s);
    }
    p->applying_leader = false;
    return p->leader;
}

/* --- the client ------------------------------------------------------------ */

static void on_client_event(struct loop_io *io, uint32_t events);

/* Watches the suspended client connection so that a client who leaves is
 * noticed at once (libmicrohttpd does not watch suspended connections).
 * Only calls that wait get it: a quick answer does not pay for it. */
static void watch_client(struct exchange *ex)
{
    if (ex->client_io.active || ex->client_gone || ex->relay.out || !ex->client)
        return;
    loop_io_add(ex->p->loop, &ex->client_io, ex->client->fd, EPOLLRDHUP | EPOLLET, on_client_event,
                ex);
}

static void on_watch_timer(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    if (ex->suspended)
        watch_client(ex);
}

/* Stops working for the client of @ex: no answer will come. */
static void abandon(struct exchange *ex)
{
    ex->client_gone = true;
    loop_io_remove(ex->p->loop, &ex->client_io);
    log_debug("client of %s %s went away", ex->req.method ? ex->req.method : "?", ex->req.target);
    if (registry_is_open_stream(ex)) {
        relay_end_stream(ex, "the client went away");
        return;
    }
    release_joiners(ex);
    registry_delist(ex);
    registry_stop_upstream(ex);
    ex->ans.upstream_done = true;
    ex->ans.end_abnormally = true;
    ex->relay.reader_waiting = false;
    registry_resume(ex);
}

/* The client's connection broke: no answer can reach it. A client that
 * only closed its sending side (EPOLLRDHUP alone: a half-close, or a close
 * we cannot tell from one until we write) still gets its answer, as from
 * the master itself; the call goes on within its timeouts. */
static void on_client_event(struct loop_io *io, uint32_t events)
{
    struct exchange *ex = io->data;

    if (ex->client_gone)
        return;
    if (events & (EPOLLHUP | EPOLLERR))
        abandon(ex);
    else if (events & EPOLLRDHUP)
        log_debug("the client of %s %s closed its sending side; the answer still goes to it",
                  ex->req.method ? ex->req.method : "?", ex->req.target);
}

/* --- retries --------------------------------------------------------------- */

static void on_park_timer(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    registry_delist(ex);
    dispatch(ex);
}

static void park(struct exchange *ex, enum park_reason why, uint64_t until_ns)
{
    ex->state = EX_WAITING;
    ex->park = why;
    ex->park_epoch = ex->p->leader ? ex->p->leader->epoch : 0;
    registry_enlist(ex, &ex->p->exchanges.parked);
    registry_set_timer(ex, on_park_timer, until_ns);
    registry_suspend(ex);
    watch_client(ex);
}

static const char *retry_message(enum retry_reason r)
{
    switch (r) {
    case RETRY_REDIRECT:
        return "the master ZooKeeper names as leader redirected the call elsewhere";
    case RETRY_NO_LEADER:
        return "the master ZooKeeper names as leader says no leader is elected";
    case RETRY_RECOVERING:
        return "the leading master has not finished recovery";
    case RETRY_REFUSED:
        return "no connection to the leading master (refused, or not within the connect "
               "timeout)";
    case RETRY_DROPPED:
        return "the leading master closed the connection without answering";
    case RETRY_COUNT:
        break;
    }
    return "the leading master did not take the call";
}

/* Gives up: the budget is spent or a redirect loop was found. */
static void give_up(struct exchange *ex, enum retry_reason why, const char *detail)
{
    char msg[512];

    ex->p->metrics.retry_budget_exhausted++;
    snprintf(msg, sizeof(msg), "%s (%s; %u %s in %.1f s)", retry_message(why), detail,
             ex->budget.tries, ex->budget.tries == 1 ? "try" : "tries",
             (double)(loop_now_ns(ex->p->loop) - ex->budget.started_ns) / 1e9);
    log_ratelimited(&exchange_limit, LOG_WARNING, "%s %s: answering 503: %s", ex->req.method,
                    ex->req.target, msg);
    fail(ex, 503, "leader_unavailable", msg, 1);
}

/* Tries again if the budget allows; returns false when it does not. */
static bool retry(struct exchange *ex, enum retry_reason why)
{
    uint64_t now = loop_now_ns(ex->p->loop);
    uint64_t at =
        policy_next_try_ns(ex->budget.tries, ex->p->cfg.retry_tries, now, ex->budget.deadline_ns);

    if (!at)
        return false;
    ex->p->metrics.retries[why]++;
    log_debug("%s %s: %s; trying again in %llu ms", ex->req.method, ex->req.target,
              retry_message(why), (unsigned long long)((at - now) / 1000000u));
    park(ex, PARK_BACKOFF, at);
    return true;
}

/* --- the master's answer ------------------------------------------------------ */

static bool on_header_line(void *owner, const char *line, size_t len)
{
    struct exchange *ex = owner;

    switch (answer_head_line(ex, line, len)) {
    case HEAD_BAD:
        return false;
    case HEAD_DONE:
        if (ex->ans.plan == PLAN_STREAM)
            start_relay(ex);
        else if (ex->ans.plan == PLAN_BUFFER) /* one allocation */
            bufq_reserve(&ex->ans.data,
                         policy_body_reserve(ex->ans.status, ex->ans.content_length, ex->req.head));
        return true;
    case HEAD_MORE:
        break;
    }
    return true;
}

static size_t on_body(void *owner, const char *bytes, size_t len)
{
    struct exchange *ex = owner;
    struct ex_answer *a = &ex->ans;
    size_t limit = a->plan == PLAN_INSPECT ? POLICY_INSPECT_MAX : POLICY_BUFFER_MAX;

    switch (a->plan) {
    case PLAN_RETRY:
        return len;
    case PLAN_STREAM:
        return relay_body(ex, bytes, len);
    case PLAN_BUFFER:
        if (bufq_len(&a->data) + len > POLICY_BUFFER_MAX && a->content_length < 0) {
            a->plan = PLAN_STREAM; /* too big to hold after all */
            start_relay(ex);
            return relay_body(ex, bytes, len);
        }
        /* fall through */
    case PLAN_INSPECT:
        if (bufq_len(&a->data) + len > limit)
            return 0;
        bufq_push(&a->data, bytes, len);
        return len;
    }
    return 0;
}

static void fail_upstream(struct exchange *ex, enum upstream_result r, const char *detail)
{
    struct failure_answer fa = policy_failure_answer(r);
    char msg[512];

    ex->p->metrics.upstream_errors[policy_error_class(r)]++;
    switch (r) {
    case UPSTREAM_DROPPED:
        snprintf(msg, sizeof(msg),
                 "the leading master %s closed the connection after the call was sent, before "
                 "answering (%s); it may have acted on it, and only a GET or HEAD is ever sent "
                 "twice",
                 ex->att.leader, detail);
        break;
    case UPSTREAM_HEAD_TOO_LARGE:
        snprintf(msg, sizeof(msg), "the leading master %s answered with a head above %u bytes",
                 ex->att.leader, HEADERS_BYTES_MAX);
        break;
    default:
        snprintf(msg, sizeof(msg), "the leading master %s %s: %s", ex->att.leader,
                 r == UPSTREAM_TIMEOUT ? "did not answer in time" : "gave no valid answer", detail);
    }
    log_ratelimited(&exchange_limit, LOG_WARNING, "%s %s: %s", ex->req.method, ex->req.target, msg);
    fail(ex, fa.status, fa.code, msg, fa.retry_after_s);
}

/* A 503 whose body we read: decide between a retry and relaying it. */
static void decide_503(struct exchange *ex)
{
    switch (policy_503(bufq_head(&ex->ans.data), bufq_len(&ex->ans.data))) {
    case V503_NO_LEADER:
        if (!retry(ex, RETRY_NO_LEADER))
            give_up(ex, RETRY_NO_LEADER, "budget spent");
        return;
    case V503_RECOVERING:
        if (retry(ex, RETRY_RECOVERING))
            return;
        break;
    case V503_RELAY:
        break;
    }
    answer_read_whole(ex); /* relayed as it is */
}

/* A 307 whose body we read: follow ZooKeeper, not the Location. */
static void redirected(struct exchange *ex)
{
    char detail[2 * HOSTPORT_MAX + 32];

    snprintf(detail, sizeof(detail), "%s redirected to %s", ex->att.leader,
             ex->ans.location[0] ? ex->ans.location : "nowhere");
    if (!ex->budget.redirects)
        ex->budget.redirects = xnew(struct redirect_log);
    if (ex->ans.location[0] &&
        policy_redirect_loops(ex->budget.redirects, ex->att.leader, ex->ans.location))
        give_up(ex, RETRY_REDIRECT, "redirect loop");
    else if (!retry(ex, RETRY_REDIRECT))
        give_up(ex, RETRY_REDIRECT, detail);
}

/* The attempt ended without an answer, or with a broken one. */
static void attempt_failed(struct exchange *ex, enum upstream_result rc, const char *detail)
{
    if (rc == UPSTREAM_REFUSED && ex->ans.status == 0) {
        /* Nothing was sent: any call may go again. */
        ex->p->metrics.upstream_errors[UPSTREAM_ERR_CONNECT]++;
        if (!retry(ex, RETRY_REFUSED))
            give_up(ex, RETRY_REFUSED, "budget spent");
        return;
    }
    if (rc == UPSTREAM_DROPPED &&
        policy_resend_after_drop(ex->req.method, ex->budget.resent_after_drop, ex->req.subscribe)) {
        ex->budget.resent_after_drop = true;
        if (retry(ex, RETRY_DROPPED)) {
            ex->p->metrics.upstream_errors[UPSTREAM_ERR_BROKEN]++;
            return;
        }
    }
    fail_upstream(ex, ex->ans.head_too_large ? UPSTREAM_HEAD_TOO_LARGE : rc, detail);
}

static void on_upstream_done(void *owner, enum upstream_result rc, const char *detail)
{
    struct exchange *ex = owner;

    if (ex->ans.planned && ex->ans.plan == PLAN_STREAM) {
        relay_upstream_done(ex, rc, detail);
        return;
    }
    loop_timer_cancel(ex->p->loop, &ex->timer);
    if (rc == UPSTREAM_OK && !ex->ans.planned) {
        fail_upstream(ex, UPSTREAM_PROTOCOL, "the answer ended within its head");
        return;
    }
    if (rc != UPSTREAM_OK && !(ex->ans.planned && ex->ans.plan == PLAN_RETRY)) {
        attempt_failed(ex, rc, detail);
        return;
    }
    if (ex->ans.plan == PLAN_RETRY)
        redirected(ex);
    else if (ex->ans.plan == PLAN_INSPECT)
        decide_503(ex);
    else
        answer_read_whole(ex);
}

static void on_upstream_timeout(struct loop_timer *timer)
{
    struct exchange *ex = timer->data;

    upstream_abort(ex->p->upstream, &ex->xfer);
    fail_upstream(ex, UPSTREAM_TIMEOUT, "no answer within the upstream timeout");
}

static const struct upstream_callbacks upstream_callbacks = {on_header_line, on_body,
                                                             on_upstream_done};

/* --- attempts ---------------------------------------------------------------- */

static void start_attempt(struct exchange *ex, const struct leader_snapshot *s)
{
    struct ex_request *rq = &ex->req;
    struct upstream_request req = {
        .address = s->address,
        .host = s->endpoint.host,
        .port = s->endpoint.port,
        .method = rq->method,
        .target = rq->target,
        .headers = rq->headers.data ? rq->headers.data : "",
        .headers_len = rq->headers.len,
        .body = rq->body.data ? rq->body.data : "",
        .body_len = rq->body.len,
        .has_body = policy_request_has_body(rq->method, rq->body.len),
        .stream = rq->subscribe,
        .resendable = rq->resendable,
    };

    ex->budget.tries++;
    ex->att = (struct ex_attempt){.epoch = s->epoch};
    share_sending(ex);
    snprintf(ex->att.leader, sizeof(ex->att.leader), "%s", s->address);
    registry_reset_answer(ex);
    ex->p->metrics.bytes_upstream += rq->body.len;
    registry_set_timer(ex, on_upstream_timeout, ms_from_now(ex, ex->p->cfg.upstream_timeout_ms));
    if (!loop_timer_armed(&ex->watch_timer) && !ex->client_io.active)
        loop_timer_arm_ms(ex->p->loop, &ex->watch_timer, CLIENT_WATCH_DELAY_MS);
    ex->state = EX_UPSTREAM;
    registry_suspend(ex);
    if (upstream_start(ex->p->upstream, &ex->xfer, &req, &upstream_callbacks, ex) < 0) {
        loop_timer_cancel(ex->p->loop, &ex->timer);
        fail(ex, 500, "internal", "cannot start the upstream call", 0);
    }
}

/* Sends the call to the leader, or waits for one, or says there is none. */
static void dispatch(struct exchange *ex)
{
    const struct leader_snapshot *s = exchange_leader(ex->p);
    char msg[512];

    if (s->state == LEADER_KNOWN) {
        start_attempt(ex, s);
        return;
    }
    if (policy_wait_for_leader(s) && loop_now_ns(ex->p->loop) < ex->budget.deadline_ns) {
        park(ex, PARK_ELECTING, ex->budget.deadline_ns);
        return;
    }
    ex->p->metrics.no_leader_answers++;
    snprintf(msg, sizeof(msg), "no leading Mesos master is known: %s",
             s->reason ? s->reason : "unknown");
    fail(ex, 503, "no_leader", msg, 1);
}

/* --- the request ---------------------------------------------------------------- */

/* Answers at once, before reading any body (libmicrohttpd then closes the
 * connection when asked, and never reads the rest). */
static enum MHD_Result answer_now(struct exchange *ex, const struct request_refusal *r)
{
    if (r->status == 508)
        ex->p->metrics.loops_detected++;
    if (strcmp(r->code, "too_many_connections") == 0)
        ex->p->metrics.connections_rejected++;
    if (r->status != 503 && r->status != 413)
        log_ratelimited(&exchange_limit, LOG_WARNING, "refused %s %s with %u: %s", ex->req.method,
                        ex->req.target, r->status, r->message);
    ex->state = EX_LOCAL;
    metrics_count_status(&ex->p->metrics, r->status);
    return local_error(ex->conn, r->status, r->code, r->message, r->status == 503 ? 1 : 0,
                       r->close);
}

/* Decides what to do once the request line and headers are in. Returns
 * MHD_YES to read the body. */
static enum MHD_Result on_request_headers(struct exchange *ex, const char *url, const char *method,
                                          const char *version)
{
    struct proxy *p = ex->p;
    struct request_refusal r;

    ex->req.method = xstrdup(method);
    ex->req.path = xstrdup(url);
    ex->req.http10 = strcmp(version, MHD_HTTP_VERSION_1_0) == 0;
    ex->req.head = strcmp(method, "HEAD") == 0;
    ex->req.resendable = policy_method_resendable(method);
    ex->writes_seen = p->share.writes_done;
    ex->local = local_find(url);
    if (ex->client && ex->client->over_cap && !ex->local)
        return answer_now(ex, &(struct request_refusal){503, "too_many_connections",
                                                        "the connection limit of mesos-leaderd "
                                                        "is reached",
                                                        true});
    if (p->draining)
        return answer_now(
            ex, &(struct request_refusal){503, "stopping", "mesos-leaderd is stopping", true});
    if (request_refused_early(method, ex->req.target, &r))
        return answer_now(ex, &r);
    if (ex->local) {
        ex->state = EX_LOCAL; /* answered once the (ignored) body is read */
        return MHD_YES;
    }
    if (request_check(ex->conn, method, ex->req.target, p->cfg.max_body, ex->req.http10,
                      &ex->req.headers, &r))
        return answer_now(ex, &r);
    ex->state = EX_READING;
    return MHD_YES;
}

static void on_refusal_sent(void *owner)
{
    registry_free_soon(owner);
}

static void on_refusal_client_gone(void *owner)
{
    registry_free_soon(owner);
}

static void on_refusal_drained(void *owner)
{
}

static const struct stream_events refusal_events = {on_refusal_drained, on_refusal_client_gone,
                                                    on_refusal_sent};

/* A chunked body passed max-body while the client still sends it: answer
 * 413 now, on a socket of our own (libmicrohttpd cannot answer in the middle
 * of a body), then read and drop what still comes for a moment before
 * closing, so that the client reads the answer rather than a reset. */
static enum MHD_Result refuse_mid_body(struct exchange *ex)
{
    static const char body[] = "{\"error\":\"body_too_large\",\"message\":\"the request body is "
                               "larger than the configured max-body\",\"source\":\"mesos-"
                               "leaderd\"}\n";
    int fd = ex->client ? clients_take_over(ex->client) : -1;
    struct strbuf answer = {0};

    metrics_count_status(&ex->p->metrics, 413);
    ex->state = EX_LOCAL;
    if (fd < 0)
        return MHD_NO; /* no descriptor to answer with: the connection just closes */
    strbuf_printf(&answer,
                  "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
                  "Cache-Control: no-store\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                  sizeof(body) - 1, body);
    ex->relay.out =
        stream_out_new(ex->p->loop, fd, false, (uint64_t)ex->p->cfg.client_idle_timeout_s * 1000u,
                       &refusal_events, ex);
    ex->relay.detached = true;
    stream_out_write_raw(ex->relay.out, answer.data, answer.len);
    stream_out_finish(ex->relay.out, true);
    strbuf_done(&answer);
    return MHD_NO; /* libmicrohttpd lets go of the connection; the socket is ours */
}

static void on_body_complete(struct exchange *ex)
{
    const char *ct = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, "Content-Type");

    if (ex->client)
        clients_set_busy(ex->client, true);
    if (ex->p->draining) { /* its head came before the daemon began to stop */
        fail(ex, 503, "stopping", "mesos-leaderd is stopping", 1);
        return;
    }
    ex->req.subscribe = route_is_subscribe(ex->req.path, ct, ex->req.body.data, ex->req.body.len);
    ex->budget.deadline_ns = ms_from_now(ex, ex->p->cfg.retry_budget_ms);
    if (!share_request(ex))
        dispatch(ex);
}

static enum MHD_Result read_body(struct exchange *ex, const char *upload, size_t *upload_size)
{
    if (*upload_size == 0) {
        on_body_complete(ex);
        return MHD_YES;
    }
    if (ex->req.body.len + *upload_size > ex->p->cfg.max_body)
        return refuse_mid_body(ex);
    strbuf_append(&ex->req.body, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
}

static enum MHD_Result answer_locally(struct exchange *ex, size_t *upload_size)
{
    struct proxy *p = ex->p;
    struct metrics_gauges g = {clients_count(p->clients), p->exchanges.streams.count,
                               watch_polls(p), watch_event_streams(p)};
    struct local_context ctx = {.leader = exchange_leader(p),
                                .metrics = &p->metrics,
                                .gauges = &g,
                                .cluster = p->cfg.cluster};
    const struct local_endpoint *e = ex->local;
    struct strbuf doc = {0};
    enum MHD_Result rc;

    if (*upload_size > 0) {
        *upload_size = 0; /* our endpoints take no body */
        return MHD_YES;
    }
    ex->local = NULL;
    if (local_watchable(e) && watch_request(ex, &rc)) {
        if (ex->suspended)
            watch_client(ex); /* a long poll: notice a client that leaves */
        return rc;
    }
    watch_document(p, &doc);
    ctx.leader_document = doc.data;
    rc = local_answer(e, ex->conn, ex->req.method, &ctx);
    strbuf_done(&doc);
    return rc;
}

/* --- libmicrohttpd's handlers -------------------------------------------------------- */

static void *on_started(void *data, const char *target, struct MHD_Connection *conn)
{
    struct exchange *ex = registry_new(data, target, conn);

    loop_timer_init(&ex->watch_timer, on_watch_timer, ex);
    return ex;
}

static enum MHD_Result on_access(void *request, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size)
{
    struct exchange *ex = request;

    if (!ex)
        return MHD_NO;
    if (!ex->seen_headers) {
        ex->seen_headers = true;
        return on_request_headers(ex, url, method, version);
    }
    if (ex->state == EX_LOCAL && ex->local)
        return answer_locally(ex, upload_size);
    if (ex->state == EX_READING)
        return read_body(ex, upload, upload_size);
    /* Resumed without an answer: the client left. Close the connection. */
    return ex->client_gone ? MHD_NO : MHD_YES;
}

static void on_completed(void *request, enum MHD_RequestTerminationCode how)
{
    struct exchange *ex = request;

    if (ex->relay.detached) {
        /* libmicrohttpd let go of a socket we took over: it goes on. */
        ex->conn = NULL;
        return;
    }
    registry_free(ex);
}

const struct front_handlers exchange_handlers = {on_started, on_access, on_completed};

/* --- stopping ---------------------------------------------------------------------- */

void exchange_end_streams(struct proxy *p, const char *why)
{
    struct list_node *n;

    while ((n = list_first(&p->exchanges.streams)))
        relay_end_stream(list_entry(n, struct exchange, node), why);
}

/* Cut off at the end of the drain: say so rather than hang up (its joiners,
 * if it leads a read, get the same below). A call at the master that must
 * not go twice is not invited to be sent again: it may have taken effect. */
static void cut_off(struct exchange *ex)
{
    struct list released;
    bool may_have_acted = ex->state == EX_UPSTREAM && !ex->req.resendable;

    list_init(&released);
    share_release(ex, &released);
    while (list_first(&released))
        registry_delist(list_entry(list_first(&released), struct exchange, node));
    registry_delist(ex);
    registry_stop_upstream(ex);
    if (may_have_acted)
        answer_error(ex, 502, "stopped_mid_call",
                     "mesos-leaderd stopped while the master was answering: the call may have "
                     "taken effect",
                     0);
    else
        answer_error(ex, 503, "stopping", "mesos-leaderd is stopping", 1);
}

void exchange_abort_all(struct proxy *p)
{
    struct list_node *n, *tmp;

    list_for_each_safe (n, tmp, &p->exchanges.all) {
        struct exchange *ex = list_entry(n, struct exchange, all_node);
        /* An answer being relayed that libmicrohttpd is not waiting for
         * now would wait for it later: it ends too. */
        bool relaying = ex->state == EX_RELAYING && !ex->relay.detached;
        if (ex->client_gone || (!ex->suspended && !relaying))
            continue;
        if (ex->state == EX_UPSTREAM || ex->state == EX_WAITING)
            cut_off(ex);
        else
            abandon(ex);
    }
}

void exchange_free_detached(struct proxy *p)
{
    struct list_node *n, *tmp;

    list_for_each_safe (n, tmp, &p->exchanges.all) {
        struct exchange *ex = list_entry(n, struct exchange, all_node);
        if (ex->relay.detached && !ex->conn)
            registry_free(ex);
    }
}

unsigned exchange_pending(const struct proxy *p)
{
    return p->exchanges.all.count - p->exchanges.streams.count - watch_polls(p) -
           watch_event_streams(p);
}
