/* itload.c: the load generator of the fault tests (libcurl multi, one
 * background thread). */
#include "config.h"

#include "integration/itload.h"
#include "harness/harness.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CALLS   64
#define MAX_STREAMS 256

struct slot {
    CURL *easy;
    double started_ms;
    bool stream;
    bool ended;
};

struct it_load {
    pthread_t thread;
    pthread_mutex_t lock;
    bool stopping;
    CURLM *multi;
    char call_url[256], stream_url[256];
    struct curl_slist *json;
    struct slot calls[MAX_CALLS];
    int n_calls;
    struct slot streams[MAX_STREAMS];
    int n_streams;
    int active_calls; /* calls in flight */
    double mark_ms, last_failure_ms;
    struct it_load_report r;
};

static const char subscribe_body[] =
    "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"load\","
    "\"name\":\"load\"}}}";

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    return size * n;
}

static void start_call(struct it_load *l, struct slot *s)
{
    curl_easy_reset(s->easy);
    curl_easy_setopt(s->easy, CURLOPT_URL, l->call_url);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, (long)l->r.hang_limit_ms);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    s->started_ms = now_ms();
    l->r.sent++;
    l->active_calls++;
    curl_multi_add_handle(l->multi, s->easy);
}

static void start_stream(struct it_load *l, struct slot *s)
{
    curl_easy_setopt(s->easy, CURLOPT_URL, l->stream_url);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, subscribe_body);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, l->json);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    s->stream = true;
    l->r.streams++;
    curl_multi_add_handle(l->multi, s->easy);
}

/* Counts a finished call (under the lock). */
static void count_call(struct it_load *l, struct slot *s, CURLcode rc)
{
    long status = 0;

    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        l->r.hung++;
    l->r.status[rc == CURLE_OK && status >= 200 && status < 600 ? status / 100 : 0]++;
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        l->r.ok++;
    } else {
        l->r.failed++;
        l->last_failure_ms = now_ms();
    }
}

static void reap(struct it_load *l)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(l->multi, &left))) {
        struct slot *s = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(l->multi, s->easy);
        pthread_mutex_lock(&l->lock);
        if (s->stream) {
            s->ended = true;
            l->r.streams_cut++;
        } else {
            l->active_calls--;
            count_call(l, s, rc);
            if (!l->stopping)
                start_call(l, s);
        }
        pthread_mutex_unlock(&l->lock);
    }
}

static void *run(void *arg)
{
    struct it_load *l = arg;
    int running;

    for (;;) {
        curl_multi_perform(l->multi, &running);
        reap(l);
        pthread_mutex_lock(&l->lock);
        bool done = l->stopping && l->active_calls == 0;
        pthread_mutex_unlock(&l->lock);
        if (done)
            break;
        curl_multi_poll(l->multi, NULL, 0, 20, NULL);
    }
    return NULL;
}

struct it_load *it_load_start(const char *base, const char *path, int calls, int streams,
                              int hang_ms)
{
    struct it_load *l = calloc(1, sizeof(*l));

    pthread_mutex_init(&l->lock, NULL);
    l->multi = curl_multi_init();
    snprintf(l->call_url, sizeof(l->call_url), "%s%s", base, path);
    snprintf(l->stream_url, sizeof(l->stream_url), "%s/api/v1/scheduler", base);
    l->json = curl_slist_append(NULL, "Content-Type: application/json");
    l->r.hang_limit_ms = hang_ms;
    l->n_calls = calls < MAX_CALLS ? calls : MAX_CALLS;
    l->n_streams = streams < MAX_STREAMS ? streams : MAX_STREAMS;
    for (int i = 0; i < l->n_streams; i++) {
        l->streams[i].easy = curl_easy_init();
        start_stream(l, &l->streams[i]);
    }
    for (int i = 0; i < l->n_calls; i++) {
        l->calls[i].easy = curl_easy_init();
        start_call(l, &l->calls[i]);
    }
    l->mark_ms = now_ms();
    pthread_create(&l->thread, NULL, run, l);
    return l;
}

void it_load_mark(struct it_load *l)
{
    pthread_mutex_lock(&l->lock);
    l->mark_ms = now_ms();
    l->last_failure_ms = 0;
    pthread_mutex_unlock(&l->lock);
}

void it_load_hold_fault(struct it_load *l, int ms)
{
    double until;
    struct timespec ts;

    pthread_mutex_lock(&l->lock);
    until = l->mark_ms + ms;
    pthread_mutex_unlock(&l->lock);
    while (now_ms() < until) {
        double left = until - now_ms();
        ts.tv_sec = (time_t)(left / 1e3);
        ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1e3) * 1e6);
        nanosleep(&ts, NULL);
    }
}

void it_load_peek(struct it_load *l, struct it_load_report *ret)
{
    pthread_mutex_lock(&l->lock);
    *ret = l->r;
    ret->recover_ms = l->last_failure_ms > l->mark_ms ? l->last_failure_ms - l->mark_ms : 0;
    pthread_mutex_unlock(&l->lock);
}

struct ok_wait {
    struct it_load *l;
    long target;
    bool failures;
};

static bool enough_ok(void *arg)
{
    struct ok_wait *w = arg;
    struct it_load_report r;

    it_load_peek(w->l, &r);
    return (w->failures ? r.failed : r.ok) >= w->target;
}

bool it_load_wait_ok(struct it_load *l, long n, int timeout_ms)
{
    struct it_load_report r;
    struct ok_wait w = {l, 0, false};

    it_load_peek(l, &r);
    w.target = r.ok + n;
    return wait_until(enough_ok, &w, timeout_ms);
}

bool it_load_wait_failed(struct it_load *l, long n, int timeout_ms)
{
    struct it_load_report r;
    struct ok_wait w = {l, 0, true};

    it_load_peek(l, &r);
    w.target = r.failed + n;
    return wait_until(enough_ok, &w, timeout_ms);
}

void it_load_stop(struct it_load *l, struct it_load_report *ret)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    it_load_peek(l, ret);
    for (int i = 0; i < l->n_streams; i++) {
        curl_multi_remove_handle(l->multi, l->streams[i].easy);
        curl_easy_cleanup(l->streams[i].easy);
    }
    for (int i = 0; i < l->n_calls; i++) {
        curl_multi_remove_handle(l->multi, l->calls[i].easy);
        curl_easy_cleanup(l->calls[i].easy);
    }
    curl_slist_free_all(l->json);
    curl_multi_cleanup(l->multi);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void it_load_record(const char *fault, const struct it_load_report *r, const char *outcome)
{
    char *path = harness_builddir_path("tests/integration/reliability.jsonl");
    FILE *f = fopen(path, "a");

    fprintf(stderr,
            "fault '%s': sent %ld, ok %ld, failed %ld, hung %ld, recovered in %.0f ms, streams "
            "%ld (cut %ld): %s\n",
            fault, r->sent, r->ok, r->failed, r->hung, r->recover_ms, r->streams, r->streams_cut,
            outcome);
    if (f) {
        fprintf(f,
                "{\"fault\":\"%s\",\"sent\":%ld,\"ok\":%ld,\"failed\":%ld,\"hung\":%ld,"
                "\"recover_ms\":%.0f,\"streams\":%ld,\"streams_cut\":%ld,\"status_5xx\":%ld,"
                "\"outcome\":\"%s\"}\n",
                fault, r->sent, r->ok, r->failed, r->hung, r->recover_ms, r->streams,
                r->streams_cut, r->status[5], outcome);
        fclose(f);
    }
    free(path);
}

void it_record_hostile(const char *input, long sent, const char *answer, long forwarded,
                       const char *outcome)
{
    char *path = harness_builddir_path("tests/integration/reliability.jsonl");
    FILE *f = fopen(path, "a");

    fprintf(stderr, "hostile input '%s': sent %ld, answer %s, forwarded %ld: %s\n", input, sent,
            answer, forwarded, outcome);
    if (f) {
        fprintf(f,
                "{\"hostile\":\"%s\",\"sent\":%ld,\"answer\":\"%s\",\"forwarded\":%ld,"
                "\"outcome\":\"%s\"}\n",
                input, sent, answer, forwarded, outcome);
        fclose(f);
    }
    free(path);
}
