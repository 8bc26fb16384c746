/* report.h: a leader snapshot as text and JSON, for people and scripts.
 *
 * Shared by mesos-leader (its output) and mesos-leaderd (its status
 * endpoint and STATUS= line), so both say the same thing the same way. */
#ifndef MLD_REPORT_H
#define MLD_REPORT_H

#include "base/strbuf.h"
#include "zk/leader.h"

/* One line per registered master in election order:
 * "<host:port> <znode> leader|standby", or "- <znode> unusable: <why>". */
void report_masters_text(const struct leader_snapshot *s, struct strbuf *out);

/* A JSON array of {"znode", "leader", "info"} (or "error") in election order. */
void report_masters_json(const struct leader_snapshot *s, struct strbuf *out);

/* The daemon's view as one JSON object: leader, session (its state, URL and
 * last connection failure), changes, masters. */
void report_status_json(const struct leader_snapshot *s, struct strbuf *out);

/* A one-line summary: "leader 10.0.0.1:5050 (id ...)" or "no leader: why". */
void report_summary(const struct leader_snapshot *s, struct strbuf *out);

#endif
