/* it_diff.c: the differential test. A client must not be able to tell
 * mesos-leaderd from the leading master: every case of tests/diff/corpus/
 * is played once straight against a stand-in master and once through the
 * daemon (that stand-in registered as the leader in a real ZooKeeper), on
 * the harness's own sockets, byte for byte. What the client received and
 * what the master received must be the same in both runs, but for the
 * allowed differences listed in tests/diff/diffcmp.c. After each case a
 * plain call through the daemon must still be served normally.
 *
 * The corpus runs twice: with the master registered by IP address (the
 * daemon's own HTTP/1.1 client) and by the host name "localhost" only (no
 * address.ip in its MasterInfo: the daemon then uses libcurl).
 * DIFF_CASES=name[,name...] plays only the named cases; DIFF_VERBOSE=1 also
 * prints the start of what each side received. */
#include "config.h"

#include "diff/diffcase.h"
#include "diff/diffcmp.h"
#include "diff/diffhttp.h"
#include "integration/itlib.h"

#include "base/mem.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long the client waits for what one step calls for. */
#define STEP_TIMEOUT_MS 10000

/* The call made through the daemon after each case. */
#define FOLLOW_UP "GET /master/health HTTP/1.1\r\nHost: diff\r\nConnection: close\r\n\r\n"

struct diff_env {
    const char *engine;
    char *zk_url;
    struct it_master *m;
    struct it_daemon *d;
};

/* --- the client --------------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "cannot connect to %d: %s",
                  port, strerror(errno));
    ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    return fd;
}

/* Reads what has arrived; notes the end of the connection. */
static void read_some(int fd, struct dc_side *s)
{
    char buf[65536];

    while (!s->server_closed) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0)
            strbuf_append(&s->got, buf, (size_t)n);
        else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            s->server_closed = true; /* closed, or reset */
        else
            return;
    }
}

/* Whether what the client sent so far has the answers it calls for: a final
 * answer to each complete request, and an interim one to a request that
 * waits for "100 Continue" before its body. After a failed write, only the
 * end of the connection will do. */
static bool answers_in(const struct dc_side *s, bool write_failed)
{
    struct dh_requests reqs;
    struct dh_answers got;
    size_t complete = 0;
    bool pending_expect = false, in;

    if (s->server_closed)
        return true;
    if (write_failed)
        return false;
    dh_requests_parse(s->sent.data, s->sent.len, &reqs);
    for (size_t i = 0; i < reqs.n; i++) {
        const struct dh_message *r = &reqs.v[i];
        const char *expect = dh_field_get(&r->headers, "Expect");
        complete += r->complete;
        pending_expect =
            !r->complete && r->head_done && expect && strcasecmp(expect, "100-continue") == 0;
    }
    dh_answers_parse(s->got.data, s->got.len, false, &reqs, &got);
    in = dh_answers_complete(&got) >= complete;
    if (in && pending_expect)
        in = got.n > complete && (got.v[complete].n_interim > 0 || got.v[complete].final.start);
    dh_requests_free(&reqs);
    dh_answers_free(&got);
    return in;
}

/* Sends @bytes while reading what comes back; stops writing when the other
 * end goes away. Returns false when a write failed. */
static bool send_step(int fd, struct dc_side *s, const struct strbuf *bytes, uint64_t deadline)
{
    size_t off = 0;

    while (off < bytes->len && !s->server_closed) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
        int left = (int)(deadline > now_ms() ? deadline - now_ms() : 0);
        if (left == 0) {
            s->timed_out = true;
            return false;
        }
        if (poll(&pfd, 1, left) <= 0)
            continue;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
            read_some(fd, s);
        if (!(pfd.revents & POLLOUT))
            continue;
        ssize_t n = send(fd, bytes->data + off, bytes->len - off, MSG_NOSIGNAL);
        if (n > 0) {
            strbuf_append(&s->sent, bytes->data + off, (size_t)n);
            off += (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
        }
    }
    return off == bytes->len;
}

/* Reads until @done holds, the connection ends or the deadline passes. */
static void read_while(int fd, struct dc_side *s,
                       bool (*done)(const struct dc_side *, const void *), const void *arg,
                       uint64_t deadline)
{
    while (!done(s, arg) && !s->server_closed) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = now_ms();
        if (now >= deadline) {
            s->timed_out = true;
            return;
        }
        if (poll(&pfd, 1, (int)(deadline - now)) > 0)
            read_some(fd, s);
    }
}

static bool answers_done(const struct dc_side *s, const void *write_failed)
{
    return answers_in(s, *(const bool *)write_failed);
}

/* Whether the body of the last answer holds the text @until, or that
 * answer is complete without it (the text will not come). */
static bool until_done(const struct dc_side *s, const void *until)
{
    struct dh_requests reqs;
    struct dh_answers got;
    bool done = false;

    dh_requests_parse(s->sent.data, s->sent.len, &reqs);
    dh_answers_parse(s->got.data, s->got.len, s->server_closed, &reqs, &got);
    if (got.n > 0) {
        const struct dh_message *last = &got.v[got.n - 1].final;
        done = last->complete ||
               (last->body.data && memmem(last->body.data, last->body.len, until, strlen(until)));
    }
    dh_requests_free(&reqs);
    dh_answers_free(&got);
    return done;
}

/* Plays the client's side of @c against @port into @s. */
static void play(int port, const struct dcase *c, struct dc_side *s)
{
    int fd = connect_to(port);
    bool write_failed = false;

    for (size_t i = 0; i < c->n_steps && !s->timed_out; i++) {
        const struct dcase_step *step = &c->steps[i];
        uint64_t deadline = now_ms() + STEP_TIMEOUT_MS;
        if (step->kind == DCASE_UNTIL) {
            s->until = step->bytes.data;
            read_while(fd, s, until_done, step->bytes.data, deadline);
            if (!s->server_closed && !s->timed_out) {
                s->client_closed = true;
                break;
            }
            continue;
        }
        if (s->server_closed)
            break;
        write_failed |= !send_step(fd, s, &step->bytes, deadline);
        if (i + 1 < c->n_steps && c->steps[i + 1].kind == DCASE_UNTIL)
            continue;
        read_while(fd, s, answers_done, &write_failed, deadline);
    }
    close(fd);
}

/* --- one case ----------------------------------------------------------------- */

static void install_raw_answer(struct diff_env *e, const struct dcase *c)
{
    char *b64 = harness_base64(c->raw_bytes.data ? c->raw_bytes.data : "", c->raw_bytes.len);
    struct strbuf json = {0};

    strbuf_puts(&json, "{\"raw_answer\":{\"path\":");
    strbuf_json_string(&json, c->raw_path);
    strbuf_printf(&json, ",\"bytes\":\"%s\",\"trickle_ms\":%u,\"hold_ms\":%u,\"before_body\":%s}}",
                  b64, c->trickle_ms, c->hold_ms, c->before_body ? "true" : "false");
    it_master_faults(e->m, json.data);
    strbuf_done(&json);
    free(b64);
}

/* The requests the master recorded since the last call; forgets them. */
static json_object *take_received(struct diff_env *e)
{
    json_object *reqs = it_master_requests(e->m);

    it_master_clear_requests(e->m);
    return reqs;
}

/* After a case, a plain call through the daemon is served as always. */
static void check_follow_up(struct diff_env *e, struct strbuf *report, int *differences)
{
    char *answer = NULL;
    long status = it_raw(e->d, FOLLOW_UP, &answer);
    int at_master = it_master_request_count_for(e->m, "/master/health");

    if (status != 200 || at_master != 1) {
        struct strbuf text = {0};
        dc_escape(&text, answer, strlen(answer), 300);
        strbuf_printf(report,
                      "  - the next call through the daemon was not served normally: "
                      "'GET /master/health' answered %ld, received by the master %d times\n"
                      "      answer: %s\n",
                      status, at_master, text.data ? text.data : "");
        strbuf_done(&text);
        (*differences)++;
    }
    free(answer);
    it_master_clear_requests(e->m);
}

/* With DIFF_VERBOSE=1: the start of what @s received. */
static void show(const struct dc_side *s)
{
    struct strbuf text = {0};
    const char *v = getenv("DIFF_VERBOSE");

    if (!v || strcmp(v, "1") != 0)
        return;
    dc_escape(&text, s->got.data ? s->got.data : "", s->got.len, 1500);
    printf("  %s received %zu bytes%s%s%s: %s\n", s->name, s->got.len,
           s->server_closed ? ", then the connection closed" : "",
           s->client_closed ? ", then the client hung up" : "", s->timed_out ? ", timed out" : "",
           text.data ? text.data : "");
    strbuf_done(&text);
}

/* Plays @c both ways; returns how many differences are not allowed. */
static int run_case(struct diff_env *e, const struct dcase *c, struct strbuf *report)
{
    struct dc_side direct = {.name = "master"}, proxied = {.name = "daemon"};
    struct dc_expect expect = {.stream = c->stream};
    json_object *rd, *rp;
    int differences;

    if (c->raw)
        install_raw_answer(e, c);
    it_master_clear_requests(e->m);
    play(e->m->port, c, &direct);
    rd = take_received(e);
    play(e->d->port, c, &proxied);
    rp = take_received(e);
    show(&direct);
    show(&proxied);
    differences = dc_compare_answers(&direct, &proxied, &expect, report);
    differences += dc_compare_received(rd, rp, report);
    check_follow_up(e, report, &differences);
    if (c->raw)
        it_master_faults(e->m, "{\"raw_answer\":null}");
    json_object_put(rd);
    json_object_put(rp);
    dc_side_done(&direct);
    dc_side_done(&proxied);
    return differences;
}

/* --- the corpus ----------------------------------------------------------------- */

static bool case_selected(const char *name)
{
    const char *only = getenv("DIFF_CASES");
    size_t len = strlen(name);

    if (!only || !*only)
        return true;
    for (const char *p = only; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
            return true;
    return false;
}

static int case_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return n > 5 && strcmp(d->d_name + n - 5, ".case") == 0;
}

/* Prints what a case checks, indented, above its differences. */
static void print_about(const char *about)
{
    for (const char *p = about; p && *p;) {
        size_t n = strcspn(p, "\n");
        printf("  | %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* Plays every selected case; returns how many differ, naming them in
 * @failed. */
static int run_corpus(struct diff_env *e, struct strbuf *failed)
{
    char *dir = harness_srcdir_path("tests/diff/corpus");
    struct dirent **files = NULL;
    int n = scandir(dir, &files, case_file, alphasort), played = 0, n_failed = 0;
    uint64_t started = now_ms();

    ck_assert_msg(n > 0, "no cases in %s", dir);
    for (int i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", dir, files[i]->d_name);
        struct errbuf err = {{0}};
        struct dcase c;
        ck_assert_msg(dcase_load(path, &c, &err) == 0, "%s", err.msg);
        if (case_selected(c.name)) {
            struct strbuf report = {0};
            uint64_t case_started = now_ms();
            int differences = run_case(e, &c, &report);
            played++;
            printf("%s %-6s %s (%llu ms)\n", differences ? "FAIL" : "ok  ", e->engine, c.name,
                   (unsigned long long)(now_ms() - case_started));
            if (differences) {
                print_about(c.about);
                fputs(report.data, stdout);
                strbuf_printf(failed, "%s%s", n_failed++ ? ", " : "", c.name);
            }
            fflush(stdout);
            strbuf_done(&report);
        }
        dcase_free(&c);
        free(path);
        free(files[i]);
    }
    free(files);
    free(dir);
    printf("%s: %d of %d cases differ (played in %.2f s)\n", e->engine, n_failed, played,
           (double)(now_ms() - started) / 1000.0);
    fflush(stdout);
    ck_assert_msg(played > 0, "DIFF_CASES selects no case");
    return n_failed;
}

static void run_engine(const char *engine, const char *hostname)
{
    const char *extra[] = {"--hostname", hostname, "--no-address-ip", NULL};
    struct diff_env e = {.engine = engine, .zk_url = it_new_zk_url()};
    struct strbuf failed = {0};
    char address[96];
    int n_failed;

    e.m = it_master_start(e.zk_url, "diff", hostname ? extra : NULL);
    e.d = it_daemon_start(e.zk_url, NULL);
    snprintf(address, sizeof(address), "%s:%d", hostname ? hostname : "127.0.0.1", e.m->port);
    it_daemon_wait_field(e.d, "leader.address", address);
    it_master_clear_requests(e.m);
    n_failed = run_corpus(&e, &failed);
    it_daemon_stop(e.d); /* it must also exit cleanly */
    it_master_stop(e.m);
    free(e.zk_url);
    ck_assert_msg(n_failed == 0, "%s engine: %d cases differ: %s", engine, n_failed, failed.data);
    strbuf_done(&failed);
}

/* The master registered by its IP address: the daemon's own HTTP/1.1 client. */
START_TEST(corpus_native)
{
    run_engine("native", NULL);
}
END_TEST

/* The master registered by host name: the daemon's libcurl engine. */
START_TEST(corpus_curl)
{
    run_engine("curl", "localhost");
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {corpus_native, corpus_curl, NULL};

    return it_run(it_suite("diff", tests, 120), 1);
}
