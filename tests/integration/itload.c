/* itload.c: the load generator of the fault tests (libcurl multi, one
 * background thread), crowds of streams and slow clients. */
#include "config.h"

#include "integration/itload.h"
#include "integration/itlib.h"
#include "harness/harness.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* --- crowds of streams ---------------------------------------------------- */

#define CROWD_KEEP 8192 /* bytes of each answer kept to look for its outcome */

enum crowd_phase { CR_CONNECTING, CR_SENT, CR_STREAMING, CR_SUBSCRIBED, CR_REJECTED, CR_CUT };

struct crowd_member {
    int fd;
    enum crowd_phase phase;
    char *got;
    size_t len;
};

struct it_crowd {
    int n, port;
    char name[64];
    struct crowd_member *m;
    struct pollfd *pfd;
    int *index; /* member of each pfd entry */
    char sample[512];
};

static void crowd_send(struct it_crowd *c, int i)
{
    struct crowd_member *m = &c->m[i];
    char body[256], req[512];
    int err = 0, blen, rlen;
    socklen_t len = sizeof(err);

    getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    blen = snprintf(body, sizeof(body),
                    "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"test\","
                    "\"name\":\"%s-%d\"}}}",
                    c->name, i);
    rlen = snprintf(req, sizeof(req),
                    "POST /api/v1/scheduler HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                    c->port, blen, body);
    if (err || send(m->fd, req, (size_t)rlen, MSG_NOSIGNAL) != rlen) {
        m->phase = CR_CUT;
        if (!c->sample[0])
            snprintf(c->sample, sizeof(c->sample), "stream %d: cannot connect or send: %s", i,
                     strerror(err ? err : errno));
        return;
    }
    m->phase = CR_SENT;
}

/* Judges what member @i has received. */
static void crowd_judge(struct it_crowd *c, int i)
{
    struct crowd_member *m = &c->m[i];

    if (m->phase == CR_SENT && m->len >= 12 && strstr(m->got, "\r\n\r\n")) {
        m->phase = strncmp(m->got + 9, "200", 3) == 0 ? CR_STREAMING : CR_REJECTED;
        if (m->phase == CR_REJECTED && !c->sample[0])
            snprintf(c->sample, sizeof(c->sample), "stream %d: %s", i, m->got);
    }
    if (m->phase == CR_STREAMING && strstr(m->got, "SUBSCRIBED")) {
        m->phase = CR_SUBSCRIBED;
        free(m->got); /* what follows is only read and dropped */
        m->got = NULL;
        m->len = 0;
    }
}

static void crowd_read(struct it_crowd *c, int i)
{
    struct crowd_member *m = &c->m[i];
    char buf[16384];
    ssize_t n = recv(m->fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (m->phase != CR_REJECTED && !c->sample[0])
            snprintf(c->sample, sizeof(c->sample), "stream %d ended %s: %.300s", i,
                     m->phase == CR_SENT ? "before any answer" : "after its 200",
                     m->got ? m->got : "");
        if (m->phase != CR_REJECTED)
            m->phase = CR_CUT;
        return;
    }
    if (m->phase == CR_SUBSCRIBED || m->len >= CROWD_KEEP)
        return;
    size_t take = (size_t)n < CROWD_KEEP - m->len ? (size_t)n : CROWD_KEEP - m->len;
    m->got = realloc(m->got, m->len + take + 1);
    memcpy(m->got + m->len, buf, take);
    m->len += take;
    m->got[m->len] = '\0';
    crowd_judge(c, i);
}

struct it_crowd *it_crowd_open(int port, int n, const char *name)
{
    struct it_crowd *c = calloc(1, sizeof(*c));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->n = n;
    c->port = port;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->m = calloc((size_t)n, sizeof(*c->m));
    c->pfd = calloc((size_t)n, sizeof(*c->pfd));
    c->index = calloc((size_t)n, sizeof(*c->index));
    for (int i = 0; i < n; i++) {
        struct crowd_member *m = &c->m[i];
        m->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ck_assert_msg(m->fd >= 0, "cannot create socket %d of the crowd: %m", i);
        if (connect(m->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            crowd_send(c, i);
        else if (errno == EINPROGRESS || errno == EAGAIN)
            m->phase = CR_CONNECTING;
        else
            crowd_send(c, i); /* reports the error */
    }
    return c;
}

/* One round of poll over the members still in play; false when none is. */
static bool crowd_round(struct it_crowd *c, int timeout_ms)
{
    int np = 0, ready;

    for (int i = 0; i < c->n; i++) {
        enum crowd_phase ph = c->m[i].phase;
        if (ph == CR_REJECTED || ph == CR_CUT)
            continue;
        c->pfd[np] =
            (struct pollfd){.fd = c->m[i].fd, .events = ph == CR_CONNECTING ? POLLOUT : POLLIN};
        c->index[np++] = i;
    }
    if (np == 0)
        return false;
    ready = poll(c->pfd, (nfds_t)np, timeout_ms);
    for (int k = 0; k < np && ready > 0; k++) {
        int i = c->index[k];
        if (!c->pfd[k].revents)
            continue;
        if (c->m[i].phase == CR_CONNECTING)
            crowd_send(c, i);
        else
            crowd_read(c, i);
    }
    return true;
}

static void crowd_report(struct it_crowd *c, struct it_crowd_report *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->n = c->n;
    for (int i = 0; i < c->n; i++) {
        struct crowd_member *m = &c->m[i];
        switch (m->phase) {
        case CR_SUBSCRIBED:
            ret->subscribed++;
            break;
        case CR_REJECTED:
            ret->rejected++;
            ret->rejected_503 += strncmp(m->got + 9, "503", 3) == 0;
            ret->rejected_busy += strncmp(m->got + 9, "503", 3) == 0 &&
                                  strstr(m->got, "too_many_connections") != NULL;
            break;
        case CR_CUT:
            ret->cut++;
            break;
        default:
            ret->waiting++;
        }
    }
    snprintf(ret->sample, sizeof(ret->sample), "%s", c->sample);
}

bool it_crowd_wait(struct it_crowd *c, int timeout_ms, struct it_crowd_report *ret)
{
    double deadline = now_ms() + timeout_ms;

    for (;;) {
        crowd_report(c, ret);
        if (ret->waiting == 0 || now_ms() >= deadline)
            return ret->waiting == 0;
        double left = deadline - now_ms();
        crowd_round(c, left < 100 ? (int)left + 1 : 100);
    }
}

void it_crowd_peek(struct it_crowd *c, struct it_crowd_report *ret)
{
    crowd_round(c, 0);
    crowd_report(c, ret);
}

void it_crowd_close(struct it_crowd *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++) {
        close(c->m[i].fd);
        free(c->m[i].got);
    }
    free(c->m);
    free(c->pfd);
    free(c->index);
    free(c);
}

/* --- slow clients and measuring windows ----------------------------------- */

static void sleep_ms(double ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1e3)};

    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1e3) * 1e6);
    nanosleep(&ts, NULL);
}

bool it_read_paced(int fd, double bytes_per_s, bool (*tick)(void *arg), void *arg, char **ret,
                   size_t *ret_len)
{
    double start = now_ms(), next_tick = start + 100;
    size_t len = 0, cap = 1 << 20;
    char *got = malloc(cap);
    bool ended = false;

    while (!ended) {
        double now = now_ms();
        /* What the pace allows so far, with 50 ms worth at the start. */
        double allowed = (now - start + 50) / 1e3 * bytes_per_s;
        if (now >= next_tick) {
            next_tick += 100;
            if (!tick(arg))
                break;
        }
        if ((double)len >= allowed) {
            sleep_ms(((double)len - allowed) / bytes_per_s * 1e3 + 1);
            continue;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) != 1)
            continue;
        size_t want = (size_t)(allowed - (double)len) + 1;
        if (cap - len < want) {
            cap = 2 * cap + want;
            got = realloc(got, cap);
        }
        ssize_t n = recv(fd, got + len, want, 0);
        if (n > 0)
            len += (size_t)n;
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            ended = true;
    }
    got = realloc(got, len + 1);
    got[len] = '\0';
    *ret = got;
    *ret_len = len;
    return ended;
}

long it_dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;

    for (;;) {
        char *end;
        unsigned long size = strtoul(body + in, &end, 16);
        if (end == body + in || (size_t)(end - body) + 2 > len || end[0] != '\r' || end[1] != '\n')
            return -1;
        in = (size_t)(end - body) + 2;
        if (size == 0)
            return len - in >= 2 && body[in] == '\r' && body[in + 1] == '\n' ? (long)out : -1;
        if (in + size + 2 > len || body[in + size] != '\r' || body[in + size + 1] != '\n')
            return -1;
        memmove(body + out, body + in, size);
        out += size;
        in += size + 2;
    }
}

long it_cpu_ms_over(pid_t pid, int window_ms)
{
    long before = it_cpu_ms(pid);

    sleep_ms(window_ms);
    return it_cpu_ms(pid) - before;
}
