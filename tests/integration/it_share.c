/* it_share.c: heavy state reads served once, against a real ZooKeeper:
 * concurrent identical reads of /master/state cost the master one call, a
 * read after a write never sees the state from before the write (nor does
 * the optional cache give it), the cache answers with an Age header and
 * empties on writes, answers too big to share reach every reader with both
 * upstream engines. The stand-in serves the many-readers and the big-state
 * cases; a scripted master, whose state says how many writes it had taken
 * when the read arrived, the others. */
#include "config.h"

#include "integration/itlib.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READERS 50

/* --- many readers, the stand-in ---------------------------------------------- */

struct reader {
    const char *url;
    long status;
    char *body;
};

static void *read_state(void *arg)
{
    struct reader *r = arg;
    struct http_resp resp = {0};

    r->status = it_request("GET", r->url, NULL, NULL, &resp);
    r->body = resp.body ? strdup(resp.body) : NULL;
    http_resp_free(&resp);
    return NULL;
}

/* READERS reads at once, while the master takes its time to answer. */
static void read_all_at_once(const char *url)
{
    struct reader r[READERS];
    pthread_t t[READERS];

    for (int i = 0; i < READERS; i++) {
        r[i] = (struct reader){.url = url};
        ck_assert_int_eq(pthread_create(&t[i], NULL, read_state, &r[i]), 0);
    }
    for (int i = 0; i < READERS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(r[i].status, 200);
        ck_assert_ptr_nonnull(r[i].body);
        ck_assert_str_eq(r[i].body, r[0].body); /* the same bytes for everyone */
    }
    for (int i = 0; i < READERS; i++)
        free(r[i].body);
}

/* 50 concurrent readers of /master/state cost the stand-in one call each
 * round; the daemon counts the reads that joined. */
START_TEST(concurrent_reads_share_one_call)
{
    char *zk_url = it_new_zk_url();
    struct it_master *m = it_master_start(zk_url, "sh", NULL);
    struct it_daemon *d = it_daemon_start(zk_url, NULL);
    const char *url;

    it_daemon_wait_leader(d, m);
    url = strdup(it_url(d, "/master/state"));
    it_master_faults(m, "{\"delay_ms\":1500}"); /* every read arrives while the first waits */
    for (int round = 1; round <= 2; round++) {
        it_master_clear_requests(m);
        read_all_at_once(url);
        ck_assert_int_eq(it_master_request_count_for(m, "/master/state"), 1);
    }
    ck_assert_int_ge(it_daemon_metric(d, "mesos_leaderd_shared_reads_joined_total"),
                     2 * (READERS - 1));
    it_master_faults(m, "{\"delay_ms\":0}");
    free((char *)url);
    it_daemon_stop(d);
    it_master_stop(m);
    free(zk_url);
}
END_TEST

/* A big answer read by one of several readers. */
struct big_reader {
    const char *url;
    long status;
    int curl_code;
    char *body;
    size_t len;
};

static void *read_big(void *arg)
{
    struct big_reader *r = arg;
    struct http_resp resp = {0};

    r->status = it_request("GET", r->url, NULL, NULL, &resp);
    r->curl_code = resp.curl_code;
    r->len = resp.body_len;
    r->body = resp.body ? malloc(resp.body_len + 1) : NULL;
    if (r->body)
        memcpy(r->body, resp.body, resp.body_len + 1);
    http_resp_free(&resp);
    return NULL;
}

#define BIG_READERS 4

/* BIG_READERS reads of @url at once; each must get 200 and, whole, @want
 * (@want_len bytes), or just @want_len bytes when @want is NULL. */
static void read_big_at_once(const char *url, const char *want, size_t want_len)
{
    struct big_reader r[BIG_READERS];
    pthread_t t[BIG_READERS];

    for (int i = 0; i < BIG_READERS; i++) {
        r[i] = (struct big_reader){.url = url};
        ck_assert_int_eq(pthread_create(&t[i], NULL, read_big, &r[i]), 0);
    }
    for (int i = 0; i < BIG_READERS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < BIG_READERS; i++) {
        ck_assert_msg(r[i].status == 200, "reader %d got %ld: %.200s", i, r[i].status,
                      r[i].body ? r[i].body : "");
        ck_assert_int_eq(r[i].curl_code, 0);
        ck_assert_uint_eq(r[i].len, want_len);
        if (want)
            ck_assert(memcmp(r[i].body, want, want_len) == 0);
        free(r[i].body);
    }
}

/* A master known by host name only is reached through libcurl. Its state,
 * above what is read whole, is relayed to the first reader; the reads that
 * had joined it each make their own call, and every one gets the whole
 * state. */
START_TEST(large_answers_through_libcurl)
{
    const char *extra[] = {"--hostname",   "localhost", "--no-address-ip",
                           "--state-size", "2000",      NULL};
    char *zk_url = it_new_zk_url();
    struct it_master *m = it_master_start(zk_url, "big", extra);
    struct it_daemon *d = it_daemon_start(zk_url, NULL);
    struct http_resp direct = {0};
    char direct_url[128];
    char *url;

    it_daemon_wait_address(d, "localhost", m->port);
    snprintf(direct_url, sizeof(direct_url), "%s/master/state", m->base);
    ck_assert_int_eq(http_get(direct_url, &direct), 0);
    ck_assert_int_eq(direct.status, 200);
    ck_assert_uint_gt(direct.body_len, 1024 * 1024);
    url = strdup(it_url(d, "/master/state"));
    it_master_clear_requests(m);
    it_master_faults(m, "{\"delay_ms\":1000}"); /* the others arrive while the first waits */
    read_big_at_once(url, direct.body, direct.body_len);
    ck_assert_int_eq(it_master_request_count_for(m, "/master/state"), BIG_READERS);
    it_master_faults(m, "{\"delay_ms\":0}");
    http_resp_free(&direct);
    free(url);
    it_daemon_stop(d);
    it_master_stop(m);
    free(zk_url);
}
END_TEST

/* --- a master whose state tells what it had seen --------------------------- */

struct counting {
    atomic_int writes;      /* writes taken */
    atomic_int state_calls; /* reads of /master/state */
    atomic_int slow_ms;     /* how long a read of the state takes */
    atomic_int big;         /* the state is padded past 1 MiB */
    atomic_int chunked;     /* ... and sent in chunks, without a length */
    atomic_int hold_writes; /* a write is answered once this is 0 again */
};

static bool writes_released(void *arg)
{
    struct counting *k = arg;

    return atomic_load(&k->hold_writes) == 0;
}

#define BIG_STATE (1200 * 1024)

/* A piece of the body, as one chunk when @chunked. */
static bool write_piece(struct it_script_conn *c, const char *data, size_t n, bool chunked)
{
    char size[24];

    snprintf(size, sizeof(size), "%zx\r\n", n);
    if (chunked && !it_script_write(c, size, strlen(size)))
        return false;
    if (n > 0 && !it_script_write(c, data, n))
        return false;
    return !chunked || it_script_write(c, "\r\n", 2);
}

/* A state past what is read whole first: its head, then BIG_STATE bytes
 * (in chunks, when @chunked: its size is known only at the end). */
static bool write_big(struct it_script_conn *c, bool chunked)
{
    static char pad[64 * 1024];
    char head[128];
    size_t left = BIG_STATE;

    memset(pad, 'x', sizeof(pad));
    if (chunked)
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    else
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG_STATE);
    if (!it_script_write(c, head, strlen(head)))
        return false;
    while (left > 0) {
        size_t n = left < sizeof(pad) ? left : sizeof(pad);
        if (!write_piece(c, pad, n, chunked))
            return false;
        left -= n;
    }
    return !chunked || write_piece(c, NULL, 0, true);
}

static void serve_counting(struct it_script_conn *c, void *arg)
{
    struct counting *k = arg;
    struct it_script_request r;
    char answer[256], body[96];

    while (it_script_read_request(c, &r) == 0) {
        bool state = strcmp(r.method, "GET") == 0; /* every read is one of the state */
        int writes = atomic_load(&k->writes);      /* what the state says: as it arrived */
        it_script_request_done(&r);
        if (state) {
            atomic_fetch_add(&k->state_calls, 1);
            usleep((useconds_t)atomic_load(&k->slow_ms) * 1000u);
        } else {
            atomic_fetch_add(&k->writes, 1);
            if (!wait_until(writes_released, k, IT_TIMEOUT_MS))
                return;
        }
        if (state && atomic_load(&k->big)) {
            if (!write_big(c, atomic_load(&k->chunked)))
                return;
            continue;
        }
        snprintf(body, sizeof(body), "{\"writes\":%d}", writes);
        snprintf(
            answer, sizeof(answer),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
            strlen(body), body);
        if (!it_script_write(c, answer, strlen(answer)))
            return;
    }
}

/* The scripted master counting calls, and the daemon routing to it. */
struct scripted {
    struct it_scripted base;
    struct counting k;
};

static void scripted_start(struct scripted *s, const char *const *daemon_args)
{
    it_scripted_start(&s->base, serve_counting, &s->k, "127.0.0.1", daemon_args);
}

/* The same master known by host name only: the daemon reaches it through
 * libcurl. */
static void scripted_start_by_name(struct scripted *s, const char *const *daemon_args)
{
    it_scripted_start(&s->base, serve_counting, &s->k, "localhost", daemon_args);
}

static bool state_calls_at_least(void *arg)
{
    struct scripted *s = arg;

    return atomic_load(&s->k.state_calls) >= 1;
}

/* A read that arrives after a write was answered does not join a read sent
 * before it: it sees the state after the write. */
START_TEST(read_your_writes)
{
    struct scripted s = {0};
    struct reader first = {0}, second = {0};
    pthread_t t1, t2;

    scripted_start(&s, NULL);
    atomic_store(&s.k.slow_ms, 1500);
    first.url = strdup(it_url(s.base.d, "/master/state"));
    second.url = first.url;
    ck_assert_int_eq(pthread_create(&t1, NULL, read_state, &first), 0);
    ck_assert(wait_until(state_calls_at_least, &s, IT_TIMEOUT_MS)); /* on its way */
    ck_assert_int_eq(it_post_json(it_url(s.base.d, "/master/teardown"), "{}", NULL), 200);
    ck_assert_int_eq(pthread_create(&t2, NULL, read_state, &second), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ck_assert_int_eq(first.status, 200);
    ck_assert_str_eq(first.body, "{\"writes\":0}"); /* sent before the write */
    ck_assert_int_eq(second.status, 200);
    ck_assert_str_eq(second.body, "{\"writes\":1}"); /* its own call, after it */
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 2);
    free(first.body);
    free(second.body);
    free((char *)first.url);
    it_scripted_stop(&s.base);
}
END_TEST

/* With the cache on: a read sent before a write, whose answer arrives after
 * the write was answered, is not what a read after the write is given. */
START_TEST(cache_read_your_writes)
{
    struct scripted s = {0};
    struct reader first = {0}, second = {0};
    pthread_t t1;

    scripted_start(&s, (const char *[]){"--state-cache-ttl", "60s", NULL});
    atomic_store(&s.k.slow_ms, 1500);
    first.url = strdup(it_url(s.base.d, "/master/state"));
    second.url = first.url;
    ck_assert_int_eq(pthread_create(&t1, NULL, read_state, &first), 0);
    ck_assert(wait_until(state_calls_at_least, &s, IT_TIMEOUT_MS)); /* on its way */
    ck_assert_int_eq(it_post_json(it_url(s.base.d, "/master/teardown"), "{}", NULL), 200);
    pthread_join(t1, NULL); /* its answer arrived after the write's */
    ck_assert_int_eq(first.status, 200);
    ck_assert_str_eq(first.body, "{\"writes\":0}");
    read_state(&second);
    ck_assert_int_eq(second.status, 200);
    ck_assert_str_eq(second.body, "{\"writes\":1}");
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 2);
    free(first.body);
    free(second.body);
    free((char *)first.url);
    it_scripted_stop(&s.base);
}
END_TEST

static bool writes_at_least(void *arg)
{
    struct scripted *s = arg;

    return atomic_load(&s->k.writes) >= 1;
}

static void *post_teardown(void *arg)
{
    struct reader *r = arg;

    r->status = it_post_json(r->url, "{}", NULL);
    return NULL;
}

/* With the cache on: a read answered while a write it went before was
 * still on its way, the write then answered, is not what a read after the
 * write is given. */
START_TEST(cache_read_your_writes_write_in_flight)
{
    struct scripted s = {0};
    struct reader first = {0}, second = {0}, write = {0};
    pthread_t t1, tw;

    scripted_start(&s, (const char *[]){"--state-cache-ttl", "60s", NULL});
    atomic_store(&s.k.slow_ms, 1500);
    atomic_store(&s.k.hold_writes, 1);
    first.url = strdup(it_url(s.base.d, "/master/state"));
    second.url = first.url;
    write.url = strdup(it_url(s.base.d, "/master/teardown"));
    ck_assert_int_eq(pthread_create(&t1, NULL, read_state, &first), 0);
    ck_assert(wait_until(state_calls_at_least, &s, IT_TIMEOUT_MS)); /* on its way */
    ck_assert_int_eq(pthread_create(&tw, NULL, post_teardown, &write), 0);
    ck_assert(wait_until(writes_at_least, &s, IT_TIMEOUT_MS)); /* the master has it */
    pthread_join(t1, NULL);                                    /* answered before the write */
    ck_assert_int_eq(first.status, 200);
    ck_assert_str_eq(first.body, "{\"writes\":0}");
    atomic_store(&s.k.hold_writes, 0);
    pthread_join(tw, NULL);
    ck_assert_int_eq(write.status, 200);
    read_state(&second);
    ck_assert_int_eq(second.status, 200);
    ck_assert_str_eq(second.body, "{\"writes\":1}");
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 2);
    free(first.body);
    free(second.body);
    free((char *)first.url);
    free((char *)write.url);
    it_scripted_stop(&s.base);
}
END_TEST

/* GET @path with extra headers; the answer into @ret. */
static long get(struct it_daemon *d, const char *path, const char *const *headers,
                struct http_resp *ret)
{
    return it_request("GET", it_url(d, path), headers, NULL, ret);
}

/* The cache: a second read within the time to live is answered from it
 * (Age header); Cache-Control: no-cache and any write go to the master. */
START_TEST(state_cache)
{
    struct scripted s = {0};
    struct http_resp r = {0};

    scripted_start(&s, (const char *[]){"--state-cache-ttl", "60s", NULL});
    ck_assert_int_eq(get(s.base.d, "/master/state", NULL, &r), 200);
    ck_assert_ptr_null(http_resp_header(&r, "Age"));
    http_resp_free(&r);
    ck_assert_int_eq(get(s.base.d, "/state", NULL, &r), 200); /* another path: its own entry */
    http_resp_free(&r);
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 2);
    ck_assert_int_eq(get(s.base.d, "/master/state", NULL, &r), 200);
    ck_assert_ptr_nonnull(http_resp_header(&r, "Age"));
    ck_assert_str_eq(r.body, "{\"writes\":0}");
    http_resp_free(&r);
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 2); /* from the cache */
    ck_assert_int_eq(
        get(s.base.d, "/master/state", (const char *[]){"Cache-Control: no-cache", NULL}, &r), 200);
    http_resp_free(&r);
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 3); /* bypassed */
    ck_assert_int_eq(it_post_json(it_url(s.base.d, "/master/teardown"), "{}", NULL), 200);
    ck_assert_int_eq(get(s.base.d, "/master/state", NULL, &r), 200);
    ck_assert_str_eq(r.body, "{\"writes\":1}"); /* emptied by the write */
    ck_assert_ptr_null(http_resp_header(&r, "Age"));
    http_resp_free(&r);
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 4);
    ck_assert_int_ge(it_daemon_metric(s.base.d, "mesos_leaderd_shared_reads_cached_total"), 1);
    it_scripted_stop(&s.base);
}
END_TEST

/* Reads that differ in what Mesos answers for (Authorization) share
 * nothing; with shared-reads empty, nothing is shared. */
START_TEST(different_principals_not_shared)
{
    struct scripted s = {0};
    struct http_resp r = {0};

    scripted_start(&s, (const char *[]){"--state-cache-ttl", "60s", NULL});
    ck_assert_int_eq(
        get(s.base.d, "/master/state", (const char *[]){"Authorization: Basic YTpi", NULL}, &r),
        200);
    http_resp_free(&r);
    ck_assert_int_eq(
        get(s.base.d, "/master/state", (const char *[]){"Authorization: Basic Yzpk", NULL}, &r),
        200);
    http_resp_free(&r);
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 2);
    it_scripted_stop(&s.base);

    memset(&s, 0, sizeof(s));
    scripted_start(&s, (const char *[]){"--state-cache-ttl", "60s", "--shared-reads", "", NULL});
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(get(s.base.d, "/master/state", NULL, &r), 200);
        http_resp_free(&r);
    }
    ck_assert_int_eq(atomic_load(&s.k.state_calls), 2);
    it_scripted_stop(&s.base);
}
END_TEST

/* BIG_READERS read a state too large to be read whole at once, from a
 * master that answers after a second: each gets its own call, and none
 * counts as joined. */
static void big_readers_each_own_call(struct scripted *s)
{
    char *url;

    atomic_store(&s->k.big, 1);
    atomic_store(&s->k.slow_ms, 1000);
    url = strdup(it_url(s->base.d, "/master/state"));
    read_big_at_once(url, NULL, BIG_STATE);
    free(url);
    ck_assert_int_eq(atomic_load(&s->k.state_calls), BIG_READERS);
    ck_assert_int_eq(it_daemon_metric(s->base.d, "mesos_leaderd_shared_reads_joined_total"), 0);
    ck_assert_int_eq(it_daemon_metric(s->base.d, "mesos_leaderd_upstream_calls_saved_total"), 0);
    it_scripted_stop(&s->base);
}

/* An answer larger than what is read whole is not shared. */
START_TEST(large_answers_not_shared)
{
    struct scripted s = {0};

    scripted_start(&s, NULL);
    big_readers_each_own_call(&s);
}
END_TEST

/* The same through libcurl, with a state sent in chunks: the first reader's
 * answer turns out too big to hold only as its bytes arrive. */
START_TEST(large_chunked_answers_through_libcurl)
{
    struct scripted s = {0};

    scripted_start_by_name(&s, NULL);
    atomic_store(&s.k.chunked, 1);
    big_readers_each_own_call(&s);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {concurrent_reads_share_one_call,
                                  read_your_writes,
                                  cache_read_your_writes,
                                  cache_read_your_writes_write_in_flight,
                                  state_cache,
                                  different_principals_not_shared,
                                  large_answers_not_shared,
                                  large_answers_through_libcurl,
                                  large_chunked_answers_through_libcurl,
                                  NULL};

    return it_run(it_suite("share", tests, 90), 1);
}
