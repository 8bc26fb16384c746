/* standin_control.c: the /__standin/ endpoints tests use to watch and steer
 * a stand-in, and the request log behind them.
 *
 *   GET    /__standin/requests  the last 1000 requests (not /__standin/ ones),
 *                               oldest first, exactly as they arrived
 *   DELETE /__standin/requests  empties the log
 *   GET    /__standin/faults    the fault settings
 *   POST   /__standin/faults    changes some of them (a JSON object)
 *   GET    /__standin/status    leadership, frameworks, subscribers
 *
 * They answer 200 with JSON whatever the leadership, the faults or the
 * authentication settings; their bodies are never gzipped. */
#include "config.h"

#include "standin.h"

#include "base/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define LOG_SIZE 1000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *entries[LOG_SIZE]; /* JSON objects; ring */
static size_t next_entry;       /* total recorded */
static size_t cleared_at;       /* next_entry when last cleared */

/* ---------------------------------------------------------------------------
 * The request log
 * ------------------------------------------------------------------------- */

struct header_walk {
    struct strbuf *sb;
    bool first;
};

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct header_walk *w = cls;

    (void)kind;
    strbuf_puts(w->sb, w->first ? "[" : ",[");
    strbuf_json_string(w->sb, key ? key : "");
    strbuf_puts(w->sb, ",");
    strbuf_json_string(w->sb, value ? value : "");
    strbuf_puts(w->sb, "]");
    w->first = false;
    return MHD_YES;
}

static void remote_address(struct MHD_Connection *conn, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ci->client_addr;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        port = ntohs(sin->sin_port);
    }
    snprintf(buf, size, "%s:%u", ip, port);
}

void st_control_record(const struct st_request *rq)
{
    struct strbuf sb = {0};
    struct header_walk w = {&sb, true};
    char remote[INET6_ADDRSTRLEN + 8];
    size_t seq;

    remote_address(rq->conn, remote, sizeof(remote));
    strbuf_puts(&sb, "{\"method\":");
    strbuf_json_string(&sb, rq->method);
    strbuf_puts(&sb, ",\"target\":");
    strbuf_json_string(&sb, rq->target);
    strbuf_puts(&sb, ",\"path\":");
    strbuf_json_string(&sb, rq->path);
    strbuf_puts(&sb, ",\"query\":");
    strbuf_json_string(&sb, rq->query ? rq->query : "");
    strbuf_puts(&sb, ",\"version\":");
    strbuf_json_string(&sb, rq->version);
    strbuf_puts(&sb, ",\"headers\":[");
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, add_header, &w);
    strbuf_printf(&sb, "],\"body_len\":%zu,\"body_truncated\":%s,\"body\":\"", rq->body_len,
                  rq->too_large ? "true" : "false");
    st_base64_encode(&sb, rq->body.data, rq->too_large ? 0 : rq->body.len);
    strbuf_puts(&sb, "\",\"remote\":");
    strbuf_json_string(&sb, remote);

    pthread_mutex_lock(&lock);
    seq = next_entry++;
    strbuf_printf(&sb, ",\"seq\":%zu}", seq);
    free(entries[seq % LOG_SIZE]);
    entries[seq % LOG_SIZE] = strbuf_steal(&sb);
    pthread_mutex_unlock(&lock);
}

/* The sequence number of the oldest entry still shown; lock held. */
static size_t first_visible(void)
{
    size_t first = next_entry > LOG_SIZE ? next_entry - LOG_SIZE : 0;

    return first < cleared_at ? cleared_at : first;
}

static char *log_json(void)
{
    struct strbuf sb = {0};
    size_t first;

    pthread_mutex_lock(&lock);
    first = first_visible();
    strbuf_puts(&sb, "[");
    for (size_t i = first; i < next_entry; i++) {
        if (i > first)
            strbuf_puts(&sb, ",");
        strbuf_puts(&sb, entries[i % LOG_SIZE]);
    }
    strbuf_puts(&sb, "]");
    pthread_mutex_unlock(&lock);
    return strbuf_steal(&sb);
}

static size_t log_clear(void)
{
    size_t n;

    pthread_mutex_lock(&lock);
    n = next_entry - first_visible();
    cleared_at = next_entry;
    for (size_t i = 0; i < LOG_SIZE; i++)
        freep(&entries[i]);
    pthread_mutex_unlock(&lock);
    return n;
}

void st_control_cleanup(void)
{
    log_clear();
}

/* ---------------------------------------------------------------------------
 * Endpoints
 * ------------------------------------------------------------------------- */

static void leader_object(struct strbuf *sb, const struct st_leader *l)
{
    strbuf_printf(sb, "{\"elected\":%s,\"known\":%s,\"host\":", l->elected ? "true" : "false",
                  l->known ? "true" : "false");
    strbuf_json_string(sb, l->host);
    strbuf_printf(sb, ",\"port\":%u}", l->port);
}

static char *status_json(void)
{
    const struct st_config *cfg = st_cfg();
    struct strbuf sb = {0};
    struct st_leader l;

    strbuf_puts(&sb, "{\"id\":");
    strbuf_json_string(&sb, cfg->id);
    strbuf_printf(&sb, ",\"port\":%u,\"pid\":", cfg->bound_port);
    strbuf_json_string(&sb, cfg->pid);
    strbuf_puts(&sb, ",\"znode\":");
    strbuf_json_string(&sb, cfg->znode ? cfg->znode : "");
    st_zk_leader(&l);
    strbuf_puts(&sb, ",\"zk_view\":");
    leader_object(&sb, &l);
    st_effective_leader(&l);
    strbuf_puts(&sb, ",\"leader\":");
    leader_object(&sb, &l);
    strbuf_puts(&sb, ",\"frameworks\":");
    st_sched_status(&sb);
    strbuf_printf(&sb, ",\"operator_subscribers\":%zu,\"streams\":%zu}", st_operator_subscribers(),
                  st_streams_count());
    return strbuf_steal(&sb);
}

static enum MHD_Result reply_owned(struct st_request *rq, unsigned code, char *json)
{
    enum MHD_Result ret = st_reply_json(rq, code, json);

    free(json);
    return ret;
}

static enum MHD_Result reply_error(struct st_request *rq, unsigned code, const char *msg)
{
    struct strbuf sb = {0};

    strbuf_puts(&sb, "{\"error\":");
    strbuf_json_string(&sb, msg);
    strbuf_puts(&sb, "}");
    return reply_owned(rq, code, strbuf_steal(&sb));
}

static enum MHD_Result faults(struct st_request *rq)
{
    struct errbuf err = {{0}};

    if (strcmp(rq->method, "GET") == 0)
        return reply_owned(rq, MHD_HTTP_OK, st_faults_to_json());
    if (strcmp(rq->method, "POST") != 0)
        return reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET or POST");
    if (rq->too_large ||
        st_faults_apply_json(rq->body.data ? rq->body.data : "", rq->body.len, &err) < 0)
        return reply_error(rq, MHD_HTTP_BAD_REQUEST, err.msg[0] ? err.msg : "body too large");
    return reply_owned(rq, MHD_HTTP_OK, st_faults_to_json());
}

enum MHD_Result st_control_handle(struct st_request *rq)
{
    const char *what = rq->path + strlen("/__standin/");

    if (strcmp(what, "requests") == 0) {
        if (strcmp(rq->method, "GET") == 0)
            return reply_owned(rq, MHD_HTTP_OK, log_json());
        if (strcmp(rq->method, "DELETE") == 0)
            return reply_owned(rq, MHD_HTTP_OK, xasprintf("{\"cleared\":%zu}", log_clear()));
        return reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET or DELETE");
    }
    if (strcmp(what, "faults") == 0)
        return faults(rq);
    if (strcmp(what, "status") == 0)
        return reply_owned(rq, MHD_HTTP_OK, status_json());
    return reply_error(rq, MHD_HTTP_NOT_FOUND, "unknown control endpoint");
}
