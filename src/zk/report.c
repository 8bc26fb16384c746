/* report.c: formatting of leader snapshots. */
#include "config.h"

#include "zk/report.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <stdlib.h>
#include <string.h>

static bool is_leader(const struct leader_snapshot *s, size_t i)
{
    return i == 0 && s->state == LEADER_KNOWN;
}

void report_masters_text(const struct leader_snapshot *s, struct strbuf *out)
{
    for (size_t i = 0; i < s->n_masters; i++) {
        const struct leader_master *m = &s->masters[i];
        char addr[MASTERINFO_HOST_MAX + 10];

        if (m->has_endpoint) {
            masterinfo_endpoint_format(&m->endpoint, addr, sizeof(addr));
            strbuf_printf(out, "%s %s %s\n", addr, m->znode,
                          is_leader(s, i) ? "leader" : "standby");
        } else if (m->read) {
            strbuf_printf(out, "- %s unusable: %s\n", m->znode, m->error ? m->error : "no address");
        } else {
            strbuf_printf(out, "- %s unread\n", m->znode);
        }
    }
}

static void master_json(const struct leader_snapshot *s, size_t i, struct strbuf *out)
{
    const struct leader_master *m = &s->masters[i];

    strbuf_puts(out, "{\"znode\":");
    strbuf_json_string(out, m->znode);
    strbuf_printf(out, ",\"sequence\":%lld,\"leader\":%s", (long long)m->sequence,
                  is_leader(s, i) ? "true" : "false");
    if (m->has_endpoint) {
        char addr[MASTERINFO_HOST_MAX + 10];
        masterinfo_endpoint_format(&m->endpoint, addr, sizeof(addr));
        strbuf_puts(out, ",\"address\":");
        strbuf_json_string(out, addr);
    }
    if (m->decoded) {
        char *json = masterinfo_to_json(&m->info);
        strbuf_puts(out, ",\"info\":");
        strbuf_puts(out, json);
        free(json);
    }
    if (m->error) {
        strbuf_puts(out, ",\"error\":");
        strbuf_json_string(out, m->error);
    }
    strbuf_puts(out, "}");
}

void report_masters_json(const struct leader_snapshot *s, struct strbuf *out)
{
    strbuf_puts(out, "[");
    for (size_t i = 0; i < s->n_masters; i++) {
        if (i)
            strbuf_puts(out, ",");
        master_json(s, i, out);
    }
    strbuf_puts(out, "]");
}

static void json_field_string(struct strbuf *out, const char *key, const char *value)
{
    strbuf_printf(out, ",\"%s\":", key);
    if (value)
        strbuf_json_string(out, value);
    else
        strbuf_puts(out, "null");
}

void report_status_json(const struct leader_snapshot *s, struct strbuf *out)
{
    char since[40];

    time_format_rfc3339(s->since_wall_ms, since, sizeof(since));
    strbuf_puts(out, "{\"state\":");
    strbuf_json_string(out, leader_state_name(s->state));
    if (s->state == LEADER_KNOWN) {
        strbuf_puts(out, ",\"leader\":{\"id\":");
        strbuf_json_string(out, s->info.id ? s->info.id : "");
        json_field_string(out, "address", s->address);
        json_field_string(out, "hostname", s->info.hostname);
        json_field_string(out, "version", s->info.version);
        json_field_string(out, "znode", s->znode);
        strbuf_puts(out, "}");
    } else {
        strbuf_puts(out, ",\"leader\":null");
    }
    json_field_string(out, "reason", s->state == LEADER_KNOWN ? NULL : s->reason);
    json_field_string(out, "since", since);
    strbuf_printf(out, ",\"leader_changes\":%llu", (unsigned long long)s->changes);
    strbuf_puts(out, ",\"zookeeper\":{\"session\":");
    strbuf_json_string(out, zk_session_name(s->session));
    json_field_string(out, "url", s->zk_url);
    json_field_string(out, "error", s->zk_error);
    strbuf_printf(out, "},\"registered_masters\":%zu,\"masters\":", s->n_registered);
    report_masters_json(s, out);
    strbuf_puts(out, "}");
}

void report_summary(const struct leader_snapshot *s, struct strbuf *out)
{
    if (s->state == LEADER_KNOWN)
        strbuf_printf(out, "leader %s (id %s, version %s)", s->address,
                      s->info.id ? s->info.id : "?", s->info.version ? s->info.version : "?");
    else
        strbuf_printf(out, "no leader: %s", s->reason ? s->reason : "unknown");
}
