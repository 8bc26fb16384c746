/* it_watch.c: clients that wait for the leader to change, against a real
 * ZooKeeper and stand-in masters: the document's index, long polls
 * (?wait=N) and server-sent events (Accept: text/event-stream). Each
 * receives the new leader's document, with a higher index, after a leader
 * change; waiting clients count and end when the daemon stops. */
#include "config.h"

#include "integration/itlib.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How the document names the second master as the leader. */
#define NEW_LEADER "\"leader\":{\"id\":\"wb\""

struct env {
    char *zk_url;
    struct it_master *m[2];
    struct it_daemon *d;
};

/* Whether the daemon's document lists both masters with their data read:
 * from then on only a change in ZooKeeper changes it. */
static bool both_masters_read(void *arg)
{
    struct it_daemon *d = arg;
    struct http_resp r = {0};
    bool read = false;

    if (it_request("GET", it_url(d, "/leaderd/v1/leader"), NULL, NULL, &r) == 200 && r.body) {
        const char *first = strstr(r.body, "\"info\":");
        read =
            strstr(r.body, "\"registered_masters\":2") && first && strstr(first + 1, "\"info\":");
    }
    http_resp_free(&r);
    return read;
}

/* Two masters; the first leads. The daemon gets @daemon_args (may be NULL). */
static struct env env_start_with(const char *const *daemon_args)
{
    struct env e = {.zk_url = it_new_zk_url()};

    e.m[0] = it_master_start(e.zk_url, "wa", NULL);
    e.m[1] = it_master_start(e.zk_url, "wb", NULL);
    e.d = it_daemon_start(e.zk_url, daemon_args);
    it_daemon_wait_leader(e.d, e.m[0]);
    ck_assert(wait_until(both_masters_read, e.d, IT_TIMEOUT_MS));
    return e;
}

static struct env env_start(void)
{
    return env_start_with(NULL);
}

static void env_stop(struct env *e)
{
    it_daemon_stop(e->d);
    for (int i = 0; i < 2; i++)
        if (e->m[i])
            it_master_stop(e->m[i]);
    free(e->zk_url);
}

/* The document's index now. */
static long index_now(struct it_daemon *d)
{
    struct http_resp r = {0};
    json_object *doc, *index;
    long n;

    ck_assert_int_eq(it_request("GET", it_url(d, "/leaderd/v1/leader"), NULL, NULL, &r), 200);
    doc = it_json_parse(r.body);
    ck_assert(json_object_object_get_ex(doc, "index", &index));
    n = json_object_get_int64(index);
    json_object_put(doc);
    http_resp_free(&r);
    return n;
}

/* Sends a request on a new connection; returns the socket. */
static int send_request(struct it_daemon *d, const char *request)
{
    int fd = it_connect(d->port);

    ck_assert_int_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    return fd;
}

/* Reads from @fd until @needle has arrived (appended to *@buf, *@len) or
 * @timeout_ms pass; returns whether it did. */
static bool read_until(int fd, const char *needle, char **buf, size_t *len, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    while (!(*buf && strstr(*buf, needle))) {
        char chunk[4096];
        ssize_t n;
        if (poll(&pfd, 1, timeout_ms) <= 0)
            return false;
        n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            return false;
        *buf = realloc(*buf, *len + (size_t)n + 1);
        memcpy(*buf + *len, chunk, (size_t)n);
        *len += (size_t)n;
        (*buf)[*len] = '\0';
    }
    return true;
}

/* The index of the document in an answer's JSON body (after the head). */
static long body_index(const char *answer)
{
    const char *p = strstr(answer, "\"index\":");

    ck_assert_ptr_nonnull(p);
    return strtol(p + 8, NULL, 10);
}

/* The id of the last event in @text. */
static long last_id(const char *text)
{
    const char *p = text, *last = NULL;

    while ((p = strstr(p, "\nid: ")))
        last = ++p;
    ck_assert_ptr_nonnull(last);
    return strtol(last + 4, NULL, 10);
}

/* The index grows with every change of the document, and only then. */
START_TEST(index_grows_with_changes)
{
    struct env e = env_start();
    long before = index_now(e.d);

    ck_assert_int_ge(before, 1);
    ck_assert_int_eq(index_now(e.d), before); /* reading changes nothing */
    it_master_stop(e.m[0]);
    e.m[0] = NULL;
    it_daemon_wait_leader(e.d, e.m[1]);
    ck_assert_int_gt(index_now(e.d), before);
    env_stop(&e);
}
END_TEST

/* A long poll waits for the change, then gets the new leader's document
 * with a higher index; one that is behind already is answered at once; bad
 * numbers get 400; a timeout gives the unchanged document. */
START_TEST(long_poll)
{
    struct env e = env_start();
    long index = index_now(e.d);
    char request[256], *answer = NULL;
    size_t len = 0;
    int fd;

    snprintf(request, sizeof(request),
             "GET /leaderd/v1/leader?wait=%ld&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n", index);
    fd = send_request(e.d, request);
    ck_assert(!read_until(fd, "\r\n\r\n", &answer, &len, 300)); /* it waits */
    it_daemon_wait_metric(e.d, "mesos_leaderd_leader_watchers{kind=\"long_poll\"}", 1);
    it_master_stop(e.m[0]);
    e.m[0] = NULL;
    ck_assert_int_eq(it_read_answer(fd, IT_TIMEOUT_MS, &answer, NULL), 200);
    ck_assert_int_gt(body_index(answer), index);
    close(fd);
    /* The change may come in steps (no leader, then the new one): a client
     * polls again from the index it got, as this one does. */
    for (int i = 0; i < 5 && !strstr(answer, NEW_LEADER); i++) {
        long got = body_index(answer);
        free(answer);
        snprintf(request, sizeof(request),
                 "GET /leaderd/v1/leader?wait=%ld&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n", got);
        fd = send_request(e.d, request);
        ck_assert_int_eq(it_read_answer(fd, IT_TIMEOUT_MS, &answer, NULL), 200);
        ck_assert_int_gt(body_index(answer), got);
        close(fd);
    }
    ck_assert_ptr_nonnull(strstr(answer, NEW_LEADER));
    free(answer);
    ck_assert_int_eq(it_daemon_metric(e.d, "mesos_leaderd_leader_watchers{kind=\"long_poll\"}"), 0);

    snprintf(request, sizeof(request),
             "GET /leaderd/v1/leader?wait=%ld HTTP/1.1\r\nHost: x\r\n\r\n", index);
    fd = send_request(e.d, request); /* behind: at once */
    ck_assert_int_eq(it_read_answer(fd, 2000, &answer, NULL), 200);
    ck_assert_int_gt(body_index(answer), index);
    free(answer);
    close(fd);

    fd = send_request(e.d, "GET /leaderd/v1/leader?wait=x HTTP/1.1\r\nHost: x\r\n\r\n");
    ck_assert_int_eq(it_read_answer(fd, 2000, &answer, NULL), 400);
    ck_assert_ptr_nonnull(strstr(answer, "bad_query"));
    free(answer);
    close(fd);

    index = index_now(e.d);
    snprintf(request, sizeof(request),
             "GET /leaderd/v1/leader?wait=%ld&timeout=1 HTTP/1.1\r\nHost: x\r\n\r\n", index);
    fd = send_request(e.d, request);
    ck_assert_int_eq(it_read_answer(fd, IT_TIMEOUT_MS, &answer, NULL), 200);
    ck_assert_int_eq(body_index(answer), index); /* unchanged */
    free(answer);
    close(fd);
    env_stop(&e);
}
END_TEST

/* A long poll is a request that has arrived: it waits for its own timeout
 * (3 s) even past client-idle-timeout (1 s), and gets the unchanged
 * document. Once answered, the kept-alive connection is idle again: left
 * without a next request, it is closed. */
START_TEST(long_poll_outlives_idle_timeout)
{
    static const char *const args[] = {"--client-idle-timeout", "1s", NULL};
    struct env e = env_start_with(args);
    long index = index_now(e.d);
    char request[256], *answer = NULL;
    bool closed = false;
    int fd;

    snprintf(request, sizeof(request),
             "GET /leaderd/v1/leader?wait=%ld&timeout=3 HTTP/1.1\r\nHost: x\r\n\r\n", index);
    fd = send_request(e.d, request);
    ck_assert_int_eq(it_read_answer(fd, IT_TIMEOUT_MS, &answer, NULL), 200);
    ck_assert_int_eq(body_index(answer), index);
    free(answer);
    ck_assert_int_eq(it_read_answer(fd, IT_TIMEOUT_MS, NULL, &closed), 0);
    ck_assert(closed);
    close(fd);
    env_stop(&e);
}
END_TEST

/* Server-sent events: the current document at once, then one event per
 * change with a higher id; Last-Event-ID naming the current document skips
 * it. The stream ends cleanly when the daemon stops. */
START_TEST(server_sent_events)
{
    struct env e = env_start();
    long index = index_now(e.d);
    char request[256], id_line[32], *got = NULL, *seen = NULL;
    size_t len = 0, seen_len = 0;
    int fd, resumed;

    fd = send_request(e.d, "GET /leaderd/v1/leader HTTP/1.1\r\nHost: x\r\n"
                           "Accept: text/event-stream\r\n\r\n");
    snprintf(id_line, sizeof(id_line), "id: %ld\n", index);
    ck_assert(read_until(fd, id_line, &got, &len, IT_TIMEOUT_MS));
    ck_assert_ptr_nonnull(strstr(got, "HTTP/1.1 200"));
    ck_assert_ptr_nonnull(strstr(got, "Content-Type: text/event-stream"));
    ck_assert_ptr_nonnull(strstr(got, "event: leader\ndata: {\"index\":"));

    snprintf(request, sizeof(request),
             "GET /leaderd/v1/leader HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
             "Last-Event-ID: %ld\r\n\r\n",
             index);
    resumed = send_request(e.d, request);
    ck_assert(read_until(resumed, "\r\n\r\n", &seen, &seen_len, IT_TIMEOUT_MS));
    it_daemon_wait_metric(e.d, "mesos_leaderd_leader_watchers{kind=\"event_stream\"}", 2);

    it_master_stop(e.m[0]);
    e.m[0] = NULL;
    ck_assert(read_until(fd, NEW_LEADER, &got, &len, IT_TIMEOUT_MS));
    ck_assert_int_gt(last_id(got), index);
    ck_assert(read_until(resumed, NEW_LEADER, &seen, &seen_len, IT_TIMEOUT_MS));
    snprintf(id_line, sizeof(id_line), "id: %ld\n", index);
    ck_assert_ptr_null(strstr(seen, id_line)); /* the one it had seen: skipped */
    ck_assert_int_gt(last_id(seen), index);
    free(seen);
    close(resumed);

    it_daemon_stop(e.d); /* the stream ends with its last chunk */
    e.d = NULL;
    ck_assert(read_until(fd, "\r\n0\r\n\r\n", &got, &len, IT_TIMEOUT_MS));
    free(got);
    close(fd);
    it_master_stop(e.m[1]);
    free(e.zk_url);
}
END_TEST

/* The index counts from the daemon's start: a client that kept an index
 * from before a restart (above the current one) gets the current document
 * at once, on a long poll and on a stream, instead of waiting for a change
 * that may not come (it once waited for its timeout). */
START_TEST(index_from_before_a_restart)
{
    struct env e = env_start();
    long index = index_now(e.d), old = index + 7;
    char request[256], id_line[32], *answer = NULL;
    size_t len = 0;
    int fd;

    snprintf(request, sizeof(request),
             "GET /leaderd/v1/leader?wait=%ld&timeout=60 HTTP/1.1\r\nHost: x\r\n\r\n", old);
    fd = send_request(e.d, request);
    ck_assert_int_eq(it_read_answer(fd, 2000, &answer, NULL), 200);
    ck_assert_int_eq(body_index(answer), index);
    free(answer);
    answer = NULL;
    close(fd);

    snprintf(request, sizeof(request),
             "GET /leaderd/v1/leader HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
             "Last-Event-ID: %ld\r\n\r\n",
             old);
    fd = send_request(e.d, request);
    snprintf(id_line, sizeof(id_line), "id: %ld\n", index);
    ck_assert(read_until(fd, id_line, &answer, &len, 2000));
    free(answer);
    close(fd);
    env_stop(&e);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {index_grows_with_changes,        long_poll,
                                  long_poll_outlives_idle_timeout, server_sent_events,
                                  index_from_before_a_restart,     NULL};

    return it_run(it_suite("watch", tests, 240), 1);
}
