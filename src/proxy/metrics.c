/* metrics.c: Prometheus text exposition of the proxy's counters. Every
 * series of a named cluster carries the label cluster="NAME". */
#include "config.h"

#include "proxy/metrics.h"

#include <stdarg.h>
#include <stdio.h>

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

/* Where the text goes, and the cluster label every series gets. */
struct exposition {
    struct strbuf *out;
    const char *cluster; /* NULL: none */
};

static void header(struct exposition *x, const char *name, const char *type, const char *help)
{
    strbuf_printf(x->out, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name,
                  type);
}

/* One series: @labels ("kind=\"x\"", or NULL) after the cluster's. */
static void series(struct exposition *x, const char *name, const char *labels, uint64_t v)
{
    strbuf_printf(x->out, PREFIX "%s", name);
    if (x->cluster || labels) {
        strbuf_puts(x->out, "{");
        if (x->cluster) {
            strbuf_puts(x->out, "cluster=");
            strbuf_json_string(x->out, x->cluster);
        }
        if (labels)
            strbuf_printf(x->out, "%s%s", x->cluster ? "," : "", labels);
        strbuf_puts(x->out, "}");
    }
    strbuf_printf(x->out, " %llu\n", (unsigned long long)v);
}

static void __attribute__((format(printf, 4, 5)))
labelled(struct exposition *x, const char *name, uint64_t v, const char *fmt, ...)
{
    char labels[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(labels, sizeof(labels), fmt, ap);
    va_end(ap);
    series(x, name, labels, v);
}

static void counter(struct exposition *x, const char *name, const char *help, uint64_t v)
{
    header(x, name, "counter", help);
    series(x, name, NULL, v);
}

static void gauge(struct exposition *x, const char *name, const char *help, uint64_t v)
{
    header(x, name, "gauge", help);
    series(x, name, NULL, v);
}

static void render_requests(struct exposition *x, const struct metrics *m)
{
    header(x, "requests_total", "counter", "Requests answered, by status class.");
    for (unsigned c = 1; c <= 5; c++)
        labelled(x, "requests_total", m->requests[c], "class=\"%uxx\"", c);
    counter(x, "local_requests_total",
            "Requests answered by the daemon itself (/leaderd, /redirect).", m->requests_local);
    counter(x, "no_leader_answers_total", "Calls answered 503 for want of a leader.",
            m->no_leader_answers);
    header(x, "upstream_errors_total", "counter", "Failed upstream attempts, by kind.");
    for (int e = 0; e < UPSTREAM_ERR_COUNT; e++)
        labelled(x, "upstream_errors_total", m->upstream_errors[e], "kind=\"%s\"",
                 metrics_upstream_error_name((enum upstream_error)e));
    header(x, "retries_total", "counter", "Calls sent again, by reason.");
    for (int r = 0; r < RETRY_COUNT; r++)
        labelled(x, "retries_total", m->retries[r], "reason=\"%s\"",
                 metrics_retry_reason_name((enum retry_reason)r));
    counter(x, "retry_budget_exhausted_total",
            "Calls answered 503 because the retry budget ran out.", m->retry_budget_exhausted);
}

static void render_streams(struct exposition *x, const struct metrics *m,
                           const struct metrics_gauges *g)
{
    gauge(x, "streams_open", "Event streams being relayed now.", g->streams_open);
    counter(x, "streams_total", "Event streams relayed since start.", m->streams_total);
    counter(x, "streams_ended_by_leader_change_total",
            "Streams still open when the leader changed, ended for it.",
            m->streams_ended_by_leader_change);
    header(x, "bytes_relayed_total", "counter", "Body bytes relayed, by direction.");
    labelled(x, "bytes_relayed_total", m->bytes_upstream, "direction=\"upstream\"");
    labelled(x, "bytes_relayed_total", m->bytes_downstream, "direction=\"downstream\"");
    header(x, "leader_watchers", "gauge",
           "Clients waiting for the leader document to change, by kind.");
    labelled(x, "leader_watchers", g->long_polls, "kind=\"long_poll\"");
    labelled(x, "leader_watchers", g->event_streams, "kind=\"event_stream\"");
}

static void render_connections(struct exposition *x, const struct metrics *m,
                               const struct metrics_gauges *g)
{
    gauge(x, "connections_open", "Client connections open now.", g->connections_open);
    counter(x, "connections_total", "Client connections accepted.", m->connections_total);
    counter(x, "connections_rejected_total",
            "Requests answered 503 because the connection cap was reached.",
            m->connections_rejected);
    counter(x, "connections_timed_out_total",
            "Client connections closed for sending a request too slowly.",
            m->connections_timed_out);
    counter(x, "clients_stalled_total",
            "Client connections closed because they took no byte of their answer in time.",
            m->clients_stalled);
    counter(x, "accept_pauses_total", "Times accepting paused because no file descriptor was free.",
            m->accept_pauses);
    counter(x, "stream_takeovers_deferred_total",
            "Streams whose socket stayed with the HTTP server for a while, for want of a "
            "descriptor.",
            m->takeovers_deferred);
    counter(x, "loops_detected_total",
            "Requests that came back through this daemon (answered 508).", m->loops_detected);
}

static void render_shared(struct exposition *x, const struct metrics *m)
{
    counter(x, "shared_reads_joined_total",
            "Reads of state endpoints answered by a call another read had sent.", m->shared_joined);
    counter(x, "shared_reads_cached_total",
            "Reads of state endpoints answered from the state cache (state-cache-ttl).",
            m->shared_cached);
    counter(x, "upstream_calls_saved_total",
            "Calls to the leader that shared reads and the cache made unnecessary.",
            m->shared_joined + m->shared_cached);
}

static void render_leader(struct exposition *x, const struct leader_snapshot *s)
{
    static const enum zk_session states[] = {ZK_SESSION_NEVER_CONNECTED, ZK_SESSION_CONNECTING,
                                             ZK_SESSION_CONNECTED,       ZK_SESSION_EXPIRED,
                                             ZK_SESSION_AUTH_FAILED,     ZK_SESSION_CLOSED};

    gauge(x, "leader_known", "1 when a leading master is known.", s->state == LEADER_KNOWN);
    counter(x, "leader_changes_total", "Leader changes seen in ZooKeeper.", s->changes);
    gauge(x, "registered_masters", "Masters registered in the election group.", s->n_registered);
    header(x, "zookeeper_session_state", "gauge",
           "1 for the current state of the ZooKeeper session.");
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        labelled(x, "zookeeper_session_state", s->session == states[i], "state=\"%s\"",
                 zk_session_name(states[i]));
}

void metrics_render(const struct metrics *m, const struct metrics_gauges *g,
                    const struct leader_snapshot *leader, const char *cluster, struct strbuf *out)
{
    struct exposition x = {out, cluster && *cluster ? cluster : NULL};

    render_requests(&x, m);
    render_streams(&x, m, g);
    render_connections(&x, m, g);
    render_shared(&x, m);
    render_leader(&x, leader);
}
