/* metrics.c: Prometheus text exposition of the proxy's counters. */
#include "config.h"

#include "proxy/metrics.h"

#define PREFIX "mesos_leaderd_"

void metrics_count_status(struct metrics *m, unsigned status)
{
    unsigned cls = status / 100;

    if (cls >= 1 && cls <= 5)
        m->requests[cls]++;
}

const char *metrics_upstream_error_name(enum upstream_error e)
{
    static const char *const names[] = {"connect", "timeout", "protocol", "tls", "broken"};

    return e < UPSTREAM_ERR_COUNT ? names[e] : "unknown";
}

const char *metrics_retry_reason_name(enum retry_reason r)
{
    static const char *const names[] = {"redirect", "no_leader_elected", "recovering", "refused",
                                        "dropped"};

    return r < RETRY_COUNT ? names[r] : "unknown";
}

static void header(struct strbuf *out, const char *name, const char *type, const char *help)
{
    strbuf_printf(out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

static void value(struct strbuf *out, const char *name, uint64_t v)
{
    strbuf_printf(out, PREFIX "%s %llu\n", name, (unsigned long long)v);
}

static void render_requests(const struct metrics *m, struct strbuf *out)
{
    header(out, "requests_total", "counter", "Requests answered, by status class.");
    for (unsigned c = 1; c <= 5; c++)
        strbuf_printf(out, PREFIX "requests_total{class=\"%uxx\"} %llu\n", c,
                      (unsigned long long)m->requests[c]);
    header(out, "local_requests_total", "counter",
           "Requests answered by the daemon itself (/leaderd, /redirect).");
    value(out, "local_requests_total", m->requests_local);
    header(out, "no_leader_answers_total", "counter", "Calls answered 503 for want of a leader.");
    value(out, "no_leader_answers_total", m->no_leader_answers);
    header(out, "upstream_errors_total", "counter", "Failed upstream attempts, by kind.");
    for (int e = 0; e < UPSTREAM_ERR_COUNT; e++)
        strbuf_printf(out, PREFIX "upstream_errors_total{kind=\"%s\"} %llu\n",
                      metrics_upstream_error_name((enum upstream_error)e),
                      (unsigned long long)m->upstream_errors[e]);
    header(out, "retries_total", "counter", "Calls sent again, by reason.");
    for (int r = 0; r < RETRY_COUNT; r++)
        strbuf_printf(out, PREFIX "retries_total{reason=\"%s\"} %llu\n",
                      metrics_retry_reason_name((enum retry_reason)r),
                      (unsigned long long)m->retries[r]);
    header(out, "retry_budget_exhausted_total", "counter",
           "Calls answered 503 because the retry budget ran out.");
    value(out, "retry_budget_exhausted_total", m->retry_budget_exhausted);
}

static void render_streams(const struct metrics *m, const struct metrics_gauges *g,
                           struct strbuf *out)
{
    header(out, "streams_open", "gauge", "Event streams being relayed now.");
    value(out, "streams_open", g->streams_open);
    header(out, "streams_total", "counter", "Event streams relayed since start.");
    value(out, "streams_total", m->streams_total);
    header(out, "streams_ended_by_leader_change_total", "counter",
           "Streams still open when the leader changed, ended for it.");
    value(out, "streams_ended_by_leader_change_total", m->streams_ended_by_leader_change);
    header(out, "bytes_relayed_total", "counter", "Body bytes relayed, by direction.");
    strbuf_printf(out, PREFIX "bytes_relayed_total{direction=\"upstream\"} %llu\n",
                  (unsigned long long)m->bytes_upstream);
    strbuf_printf(out, PREFIX "bytes_relayed_total{direction=\"downstream\"} %llu\n",
                  (unsigned long long)m->bytes_downstream);
}

static void render_connections(const struct metrics *m, const struct metrics_gauges *g,
                               struct strbuf *out)
{
    header(out, "connections_open", "gauge", "Client connections open now.");
    value(out, "connections_open", g->connections_open);
    header(out, "leader_watchers", "gauge",
           "Clients waiting for the leader document to change, by kind.");
    strbuf_printf(out, PREFIX "leader_watchers{kind=\"long_poll\"} %llu\n",
                  (unsigned long long)g->long_polls);
    strbuf_printf(out, PREFIX "leader_watchers{kind=\"event_stream\"} %llu\n",
                  (unsigned long long)g->event_streams);
    header(out, "connections_total", "counter", "Client connections accepted.");
    value(out, "connections_total", m->connections_total);
    header(out, "connections_rejected_total", "counter",
           "Requests answered 503 because the connection cap was reached.");
    value(out, "connections_rejected_total", m->connections_rejected);
    header(out, "connections_timed_out_total", "counter",
           "Client connections closed for sending a request too slowly.");
    value(out, "connections_timed_out_total", m->connections_timed_out);
    header(out, "clients_stalled_total", "counter",
           "Client connections closed because they took no byte of their answer in time.");
    value(out, "clients_stalled_total", m->clients_stalled);
    header(out, "accept_pauses_total", "counter",
           "Times accepting paused because no file descriptor was free.");
    value(out, "accept_pauses_total", m->accept_pauses);
    header(out, "stream_takeovers_deferred_total", "counter",
           "Streams left with the HTTP server for a while for want of a descriptor.");
    value(out, "stream_takeovers_deferred_total", m->takeovers_deferred);
    header(out, "loops_detected_total", "counter",
           "Requests that came back through this daemon (answered 508).");
    value(out, "loops_detected_total", m->loops_detected);
}

static void render_leader(const struct leader_snapshot *s, struct strbuf *out)
{
    static const enum zk_session states[] = {ZK_SESSION_CONNECTING, ZK_SESSION_CONNECTED,
                                             ZK_SESSION_EXPIRED, ZK_SESSION_AUTH_FAILED,
                                             ZK_SESSION_CLOSED};

    header(out, "leader_known", "gauge", "1 when a leading master is known.");
    value(out, "leader_known", s->state == LEADER_KNOWN);
    header(out, "leader_changes_total", "counter", "Leader changes seen in ZooKeeper.");
    value(out, "leader_changes_total", s->changes);
    header(out, "registered_masters", "gauge", "Masters registered in the election group.");
    value(out, "registered_masters", s->n_masters);
    header(out, "zookeeper_session_state", "gauge",
           "1 for the current state of the ZooKeeper session.");
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        strbuf_printf(out, PREFIX "zookeeper_session_state{state=\"%s\"} %d\n",
                      zk_session_name(states[i]), s->session == states[i]);
}

void metrics_render(const struct metrics *m, const struct metrics_gauges *g,
                    const struct leader_snapshot *leader, struct strbuf *out)
{
    render_requests(m, out);
    render_streams(m, g, out);
    render_connections(m, g, out);
    render_leader(leader, out);
}
