/* http.c: HTTP for tests with libcurl: one-shot requests that capture the
 * status, the raw header block, each header and the body (binary safe), and
 * long-lived streams read on a background thread (a curl multi loop) that a
 * test can watch grow, see end cleanly or abnormally, or walk away from. */
#include "config.h"

#include "internal.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_TIMEOUT_MS         10000
#define DEFAULT_CONNECT_TIMEOUT_MS 5000

/* What a transfer collects; @lock is NULL for one-shot requests. */
struct transfer {
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    struct strbuf body;
    struct strbuf raw;
    struct http_header *headers;
    size_t n_headers;
    long status;
    bool headers_done;
    struct curl_slist *slist;
    char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void lock(struct transfer *t)
{
    if (t->lock)
        pthread_mutex_lock(t->lock);
}

static void unlock_and_signal(struct transfer *t)
{
    if (t->lock) {
        pthread_cond_broadcast(t->cond);
        pthread_mutex_unlock(t->lock);
    }
}

static void free_headers(struct http_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

/* Adds "Name: value" (without its line end) to the header list. */
static void add_header(struct transfer *t, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    const char *v, *end = line + len;

    if (!colon)
        return;
    for (v = colon + 1; v < end && isspace((unsigned char)*v); v++) {
    }
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    t->headers = xreallocarray(t->headers, t->n_headers + 1, sizeof(*t->headers));
    t->headers[t->n_headers].name = xstrndup(line, (size_t)(colon - line));
    t->headers[t->n_headers].value = xstrndup(v, (size_t)(end - v));
    t->n_headers++;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * nitems, text = len;

    while (text > 0 && (buf[text - 1] == '\n' || buf[text - 1] == '\r'))
        text--;
    lock(t);
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or a 1xx): keep only the last. */
        const char *sp = memchr(buf, ' ', len);
        strbuf_reset(&t->raw);
        free_headers(t->headers, t->n_headers);
        t->headers = NULL;
        t->n_headers = 0;
        t->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        t->headers_done = false;
    } else if (text == 0) {
        t->headers_done = t->status >= 200;
    } else {
        add_header(t, buf, text);
    }
    strbuf_append(&t->raw, buf, len);
    unlock_and_signal(t);
    return len;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct transfer *t = userdata;

    lock(t);
    strbuf_append(&t->body, buf, size * nitems);
    unlock_and_signal(t);
    return size * nitems;
}

static void set_method_and_body(CURL *easy, const struct http_req *req)
{
    const char *method = req->method ? req->method : req->body ? "POST" : "GET";

    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        return;
    }
    if (req->body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body ? req->body_len : 0));
        curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, req->body ? req->body : "");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "GET") == 0 && req->body)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "GET");
}

/* Creates an easy handle for @req that fills @t. */
static CURL *make_easy(const struct http_req *req, struct transfer *t, bool stream)
{
    CURL *easy;
    bool has_expect = false;
    int timeout = req->timeout_ms > 0 ? req->timeout_ms : stream ? 0 : DEFAULT_TIMEOUT_MS;
    int connect_timeout =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;

    pthread_once(&curl_once, curl_init);
    easy = curl_easy_init();
    if (!easy) {
        harness_set_error(-ENOMEM, "cannot create a curl handle");
        return NULL;
    }
    curl_easy_setopt(easy, CURLOPT_URL, req->url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* ignore http_proxy and friends */
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, !req->no_follow && !stream ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     req->http10 ? CURL_HTTP_VERSION_1_0 : CURL_HTTP_VERSION_1_1);
    set_method_and_body(easy, req);
    for (const char *const *h = req->headers; h && *h; h++) {
        t->slist = curl_slist_append(t->slist, *h);
        has_expect |= strncasecmp(*h, "Expect:", 7) == 0;
    }
    if (!has_expect) /* no "Expect: 100-continue" round trip for larger bodies */
        t->slist = curl_slist_append(t->slist, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->slist);
    return easy;
}

static void transfer_done(struct transfer *t)
{
    strbuf_done(&t->body);
    strbuf_done(&t->raw);
    free_headers(t->headers, t->n_headers);
    t->headers = NULL;
    t->n_headers = 0;
    curl_slist_free_all(t->slist);
    t->slist = NULL;
}

static int curl_errno(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return 0;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return -ECONNRESET;
    case CURLE_PARTIAL_FILE:
        return -EPIPE;
    default:
        return -EPROTO;
    }
}

int http_request(const struct http_req *req, struct http_resp *ret)
{
    struct transfer t = {0};
    CURL *easy;
    CURLcode code;

    memset(ret, 0, sizeof(*ret));
    easy = make_easy(req, &t, false);
    if (!easy) {
        transfer_done(&t);
        ret->body = xstrdup("");
        ret->headers_raw = xstrdup("");
        ret->curl_code = CURLE_FAILED_INIT;
        return -ENOMEM;
    }
    code = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    ret->status = t.status;
    ret->headers_raw = strbuf_steal(&t.raw);
    ret->headers = t.headers;
    ret->n_headers = t.n_headers;
    t.headers = NULL;
    t.n_headers = 0;
    ret->body_len = t.body.len;
    ret->body = strbuf_steal(&t.body);
    ret->curl_code = (int)code;
    snprintf(ret->error, sizeof(ret->error), "%s",
             t.errbuf[0] ? t.errbuf : curl_easy_strerror(code));
    transfer_done(&t);
    if (code != CURLE_OK)
        return harness_set_error(curl_errno(code), "%s %s: %s",
                                 req->method ? req->method : "request", req->url, ret->error);
    return 0;
}

int http_get(const char *url, struct http_resp *ret)
{
    struct http_req req = {.url = url};

    return http_request(&req, ret);
}

static const char *find_header(const struct http_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    }
    return NULL;
}

const char *http_resp_header(const struct http_resp *resp, const char *name)
{
    return find_header(resp->headers, resp->n_headers, name);
}

void http_resp_free(struct http_resp *resp)
{
    if (!resp)
        return;
    free(resp->headers_raw);
    free_headers(resp->headers, resp->n_headers);
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

/* ---------------------------------------------------------------------------
 * Streams
 * ------------------------------------------------------------------------- */

struct http_stream {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    CURLM *multi;
    CURL *easy;
    struct transfer t;
    bool ended, closing;
    int curl_code;
};

static void *stream_main(void *arg)
{
    struct http_stream *s = arg;
    bool stop = false;

    while (!stop) {
        int running = 0, queued = 0;
        CURLMsg *msg;
        curl_multi_perform(s->multi, &running);
        pthread_mutex_lock(&s->lock);
        while ((msg = curl_multi_info_read(s->multi, &queued))) {
            if (msg->msg == CURLMSG_DONE) {
                s->ended = true;
                s->curl_code = (int)msg->data.result;
            }
        }
        stop = s->ended || s->closing;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        if (!stop)
            curl_multi_poll(s->multi, NULL, 0, 200, NULL);
    }
    return NULL;
}

struct http_stream *http_stream_open(const struct http_req *req)
{
    struct http_stream *s = xnew(struct http_stream);
    pthread_condattr_t attr;
    int r;

    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    s->t.lock = &s->lock;
    s->t.cond = &s->cond;
    s->curl_code = -1;
    s->easy = make_easy(req, &s->t, true);
    s->multi = s->easy ? curl_multi_init() : NULL;
    if (!s->multi || curl_multi_add_handle(s->multi, s->easy) != CURLM_OK) {
        harness_set_error(-ENOMEM, "cannot set up a stream to %s", req->url);
        goto fail;
    }
    r = pthread_create(&s->thread, NULL, stream_main, s);
    if (r != 0) {
        harness_set_error(-r, "cannot start a stream thread: %s", strerror(r));
        curl_multi_remove_handle(s->multi, s->easy);
        goto fail;
    }
    return s;
fail:
    harness_print_error();
    if (s->multi)
        curl_multi_cleanup(s->multi);
    if (s->easy)
        curl_easy_cleanup(s->easy);
    transfer_done(&s->t);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

/* A condition on a stream, checked under its lock. */
typedef bool (*stream_cond)(const struct http_stream *s, const void *arg);

/* Waits until @cond holds; 0, -EPIPE when the stream ended first, or
 * -ETIMEDOUT. */
static int stream_wait(struct http_stream *s, stream_cond cond, const void *arg, int timeout_ms)
{
    struct timespec at;
    uint64_t ns;
    int r = 0;

    clock_gettime(CLOCK_MONOTONIC, &at);
    ns = (uint64_t)at.tv_nsec + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
    at.tv_sec += (time_t)(ns / 1000000000u);
    at.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&s->lock);
    while (!cond(s, arg) && !s->ended && r == 0)
        r = pthread_cond_timedwait(&s->cond, &s->lock, &at);
    r = cond(s, arg) ? 0 : s->ended ? -EPIPE : -ETIMEDOUT;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static bool have_headers(const struct http_stream *s, const void *arg)
{
    return s->t.headers_done;
}

static bool have_bytes(const struct http_stream *s, const void *arg)
{
    return s->t.body.len >= *(const size_t *)arg;
}

static bool have_needle(const struct http_stream *s, const void *arg)
{
    const char *needle = arg;

    return s->t.body.len > 0 && memmem(s->t.body.data, s->t.body.len, needle, strlen(needle));
}

static bool has_ended(const struct http_stream *s, const void *arg)
{
    return s->ended;
}

int http_stream_wait_headers(struct http_stream *s, int timeout_ms)
{
    return stream_wait(s, have_headers, NULL, timeout_ms);
}

long http_stream_status(struct http_stream *s)
{
    long status;

    pthread_mutex_lock(&s->lock);
    status = s->t.headers_done ? s->t.status : 0;
    pthread_mutex_unlock(&s->lock);
    return status;
}

const char *http_stream_header(struct http_stream *s, const char *name)
{
    const char *v = NULL;

    /* Once complete, the header list never changes: the value stays valid. */
    pthread_mutex_lock(&s->lock);
    if (s->t.headers_done)
        v = find_header(s->t.headers, s->t.n_headers, name);
    pthread_mutex_unlock(&s->lock);
    return v;
}

int http_stream_wait_bytes(struct http_stream *s, size_t n, int timeout_ms)
{
    return stream_wait(s, have_bytes, &n, timeout_ms);
}

int http_stream_wait_contains(struct http_stream *s, const char *needle, int timeout_ms)
{
    return stream_wait(s, have_needle, needle, timeout_ms);
}

char *http_stream_body(struct http_stream *s, size_t *ret_len)
{
    char *copy;

    pthread_mutex_lock(&s->lock);
    copy = xmalloc(s->t.body.len + 1);
    if (s->t.body.len)
        memcpy(copy, s->t.body.data, s->t.body.len);
    copy[s->t.body.len] = '\0';
    if (ret_len)
        *ret_len = s->t.body.len;
    pthread_mutex_unlock(&s->lock);
    return copy;
}

bool http_stream_ended(struct http_stream *s, enum http_stream_end *ret_how)
{
    bool ended;

    pthread_mutex_lock(&s->lock);
    ended = s->ended;
    if (ended && ret_how)
        *ret_how = s->curl_code == CURLE_OK ? HTTP_END_CLEAN : HTTP_END_ABNORMAL;
    pthread_mutex_unlock(&s->lock);
    return ended;
}

int http_stream_wait_end(struct http_stream *s, int timeout_ms, enum http_stream_end *ret_how)
{
    int r = stream_wait(s, has_ended, NULL, timeout_ms);

    if (r < 0 && r != -EPIPE)
        return r;
    http_stream_ended(s, ret_how);
    return 0;
}

int http_stream_curl_code(struct http_stream *s)
{
    int code;

    pthread_mutex_lock(&s->lock);
    code = s->ended ? s->curl_code : -1;
    pthread_mutex_unlock(&s->lock);
    return code;
}

void http_stream_close(struct http_stream *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_mutex_unlock(&s->lock);
    curl_multi_wakeup(s->multi);
    pthread_join(s->thread, NULL);
    /* Removing an unfinished transfer closes its connection. */
    curl_multi_remove_handle(s->multi, s->easy);
    curl_easy_cleanup(s->easy);
    curl_multi_cleanup(s->multi);
    transfer_done(&s->t);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
