/* check_upstream.c: unit tests of the upstream interface (proxy/upstream.h)
 * with fake engines: each call goes to the first engine that accepts it,
 * unpausing waits for the end of the loop's iteration, aborting is silent,
 * and a new configuration reaches every engine. Then the native engine
 * against a master the test plays on 127.0.0.1, in the same event loop: a
 * connection not made in time, kept-alive connections after a paused answer
 * and with bytes nobody asked for, a socket that finds no descriptor. */
#include "config.h"

#include "proxy/upstream_engine.h"

#include "unit/unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* What a fake engine saw. */
struct fake {
    const char *only_host; /* accepts calls to this host only (NULL: all) */
    int started, aborted, unpaused, config_changes;
    struct upstream_transfer *last;
    struct upstream_core *core;
};

static struct fake fakes[2];

static bool fake_accepts(const struct upstream_core *core, const struct upstream_request *req,
                         struct fake *f)
{
    return !f->only_host || strcmp(f->only_host, req->host) == 0;
}

static bool accepts0(const struct upstream_core *c, const struct upstream_request *r)
{
    return fake_accepts(c, r, &fakes[0]);
}

static bool accepts1(const struct upstream_core *c, const struct upstream_request *r)
{
    return fake_accepts(c, r, &fakes[1]);
}

static void *create0(struct upstream_core *core)
{
    fakes[0].core = core;
    return &fakes[0];
}

static void *create1(struct upstream_core *core)
{
    fakes[1].core = core;
    return &fakes[1];
}

static void fake_destroy(void *engine)
{
}

static int fake_start(void *engine, struct upstream_transfer *t, const struct upstream_request *r)
{
    struct fake *f = engine;

    f->started++;
    f->last = t;
    t->priv = f;
    return 0;
}

static void fake_abort(void *engine, struct upstream_transfer *t)
{
    ((struct fake *)engine)->aborted++;
}

static void fake_unpause(void *engine, struct upstream_transfer *t)
{
    ((struct fake *)engine)->unpaused++;
}

static void fake_config_changed(void *engine)
{
    ((struct fake *)engine)->config_changes++;
}

static const struct upstream_engine_ops fake0 = {"fake0",      accepts0,           create0,
                                                 fake_destroy, fake_start,         fake_abort,
                                                 fake_unpause, fake_config_changed};
static const struct upstream_engine_ops fake1 = {"fake1",      accepts1,           create1,
                                                 fake_destroy, fake_start,         fake_abort,
                                                 fake_unpause, fake_config_changed};

/* The owner's side. */
struct owner {
    int done;
    enum upstream_result result;
};

static bool on_line(void *o, const char *line, size_t len)
{
    return true;
}

static size_t on_body(void *o, const char *b, size_t len)
{
    return len;
}

static void on_done(void *o, enum upstream_result r, const char *detail)
{
    struct owner *w = o;

    w->done++;
    w->result = r;
}

static const struct upstream_callbacks callbacks = {on_line, on_body, on_done};

static struct upstream *new_upstream(struct loop *loop)
{
    const struct upstream_engine_ops *const ops[] = {&fake0, &fake1};
    struct upstream_config cfg = {.connect_timeout_ms = 100};

    memset(fakes, 0, sizeof(fakes));
    fakes[0].only_host = "10.0.0.1";
    return upstream_new_with(loop, &cfg, ops, 2);
}

START_TEST(first_engine_that_accepts)
{
    struct loop *loop = loop_new();
    struct upstream *u = new_upstream(loop);
    struct upstream_transfer a = {0}, b = {0};
    struct owner o = {0};
    struct upstream_request ra = {.host = "10.0.0.1", .method = "GET", .target = "/"};
    struct upstream_request rb = {.host = "master.example", .method = "GET", .target = "/"};

    ck_assert_int_eq(upstream_start(u, &a, &ra, &callbacks, &o), 0);
    ck_assert_int_eq(upstream_start(u, &b, &rb, &callbacks, &o), 0);
    ck_assert_int_eq(fakes[0].started, 1);
    ck_assert_int_eq(fakes[1].started, 1);
    ck_assert_int_eq(upstream_start(u, &a, &ra, &callbacks, &o), -EBUSY); /* runs already */
    upstream_call_finished(fakes[0].core, &a, UPSTREAM_DROPPED, "gone", false);
    ck_assert_int_eq(o.done, 1);
    ck_assert_int_eq(o.result, UPSTREAM_DROPPED);
    upstream_abort(u, &a); /* not running: nothing */
    upstream_abort(u, &b);
    ck_assert_int_eq(fakes[1].aborted, 1);
    ck_assert_int_eq(o.done, 1); /* aborting is silent */
    upstream_free(u);
    loop_free(loop);
}
END_TEST

static void stop_loop(struct loop_timer *t)
{
    loop_stop(t->data);
}

/* Unpausing runs after the loop's iteration, once per transfer however
 * often it is asked, and never for a transfer that stopped meanwhile. */
START_TEST(unpause_after_the_iteration)
{
    struct loop *loop = loop_new();
    struct upstream *u = new_upstream(loop);
    struct upstream_transfer a = {0}, b = {0};
    struct owner o = {0};
    struct upstream_request r = {.host = "master.example", .method = "GET", .target = "/"};
    struct loop_timer stop;

    upstream_start(u, &a, &r, &callbacks, &o);
    upstream_start(u, &b, &r, &callbacks, &o);
    upstream_unpause(u, &a);
    upstream_unpause(u, &a);
    upstream_unpause(u, &b);
    ck_assert_int_eq(fakes[1].unpaused, 0);
    upstream_abort(u, &b);
    loop_timer_init(&stop, stop_loop, loop);
    loop_timer_arm_ms(loop, &stop, 0);
    loop_run(loop);
    ck_assert_int_eq(fakes[1].unpaused, 1);
    upstream_abort(u, &a);
    upstream_free(u);
    loop_free(loop);
}
END_TEST

START_TEST(configuration_reaches_every_engine)
{
    struct loop *loop = loop_new();
    struct upstream *u = new_upstream(loop);
    struct upstream_config cfg = {.https = true, .ca_file = "/etc/ca.pem"};
    unsigned gen = fakes[0].core->config_gen;

    upstream_set_config(u, &cfg);
    ck_assert_int_eq(fakes[0].config_changes, 1);
    ck_assert_int_eq(fakes[1].config_changes, 1);
    ck_assert(fakes[0].core->https);
    ck_assert_str_eq(fakes[0].core->ca_file, "/etc/ca.pem");
    ck_assert_uint_eq(fakes[0].core->config_gen, gen + 1);
    ck_assert_int_eq(fakes[0].core->connect_timeout_ms, 3000); /* the default */
    upstream_free(u);
    loop_free(loop);
}
END_TEST

/* --- the native engine, against a master played by the test ---------------- */

#define GIVE_UP_MS 2000 /* a test that waits this long fails on what it saw */

/* One connection of the test's master: it answers each call with @answer. */
struct master_conn {
    struct loop_io io;
    int fd;
    const char *answer;
    int calls;          /* calls read on it */
    char last_call[64]; /* the request line of the last one */
    bool peer_closed;   /* the engine closed its end */
};

/* The test's master: a listener on 127.0.0.1 and up to two connections. */
struct master {
    struct loop *loop;
    int listen_fd, port;
    struct loop_io listen_io;
    const char *answers[2]; /* for the first and the second connection */
    struct master_conn conn[2];
    int n_conns;
    bool stop_when_closed; /* stop the loop when the engine closes one */
};

static void on_master_conn(struct loop_io *io, uint32_t events)
{
    struct master *m = io->data;
    struct master_conn *mc = &m->conn[io == &m->conn[0].io ? 0 : 1];
    char buf[4096];
    ssize_t n = recv(mc->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

    if (n < 0 && errno == EAGAIN)
        return;
    if (n <= 0) {
        mc->peer_closed = true;
        loop_io_remove(m->loop, io);
        if (m->stop_when_closed)
            loop_stop(m->loop);
        return;
    }
    buf[n] = '\0';
    for (const char *p = buf; (p = strstr(p, " HTTP/1.1\r\n")); p++)
        mc->calls++;
    snprintf(mc->last_call, sizeof(mc->last_call), "%.*s", (int)strcspn(buf, "\r"), buf);
    ck_assert_int_eq(write(mc->fd, mc->answer, strlen(mc->answer)), (ssize_t)strlen(mc->answer));
}

static void on_master_listen(struct loop_io *io, uint32_t events)
{
    struct master *m = io->data;
    int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    struct master_conn *mc;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_lt(m->n_conns, 2);
    mc = &m->conn[m->n_conns];
    mc->fd = fd;
    mc->answer = m->answers[m->n_conns++];
    ck_assert_int_eq(loop_io_add(m->loop, &mc->io, fd, EPOLLIN, on_master_conn, m), 0);
}

static void master_start(struct master *m, struct loop *loop, const char *first, const char *second)
{
    *m = (struct master){.loop = loop, .answers = {first, second}};
    m->listen_fd = unit_listen_loopback(8, &m->port);
    ck_assert_int_eq(loop_io_add(loop, &m->listen_io, m->listen_fd, EPOLLIN, on_master_listen, m),
                     0);
}

static void master_stop(struct master *m)
{
    loop_io_remove(m->loop, &m->listen_io);
    close(m->listen_fd);
    for (int i = 0; i < m->n_conns; i++) {
        loop_io_remove(m->loop, &m->conn[i].io);
        close(m->conn[i].fd);
    }
}

/* A call's owner: keeps the answer's body, may pause once on it, and may
 * take a next step when the call ends. */
struct caller {
    struct loop *loop;
    struct upstream *u;
    struct upstream_transfer t;
    struct upstream_request req;
    bool pause_once;
    void (*then)(struct caller *c); /* when it ended; NULL: stop the loop */
    void *data;
    int done;
    enum upstream_result result;
    char detail[128];
    char body[64];
    size_t body_len;
};

static bool caller_line(void *o, const char *line, size_t len)
{
    return true;
}

static size_t caller_body(void *o, const char *bytes, size_t len)
{
    struct caller *c = o;

    if (c->pause_once) {
        c->pause_once = false;
        upstream_unpause(c->u, &c->t); /* offered again after this iteration */
        return UPSTREAM_PAUSE;
    }
    if (len >= sizeof(c->body) - c->body_len)
        return 0;
    memcpy(c->body + c->body_len, bytes, len);
    c->body_len += len;
    return len;
}

static void caller_done(void *o, enum upstream_result r, const char *detail)
{
    struct caller *c = o;

    c->done++;
    c->result = r;
    snprintf(c->detail, sizeof(c->detail), "%s", detail);
    if (c->then)
        c->then(c);
    else
        loop_stop(c->loop);
}

static const struct upstream_callbacks caller_callbacks = {caller_line, caller_body, caller_done};

static void caller_start(struct caller *c, struct upstream *u, int port, const char *method,
                         const char *target)
{
    static char address[32];

    snprintf(address, sizeof(address), "127.0.0.1:%d", port);
    c->u = u;
    c->req = (struct upstream_request){.address = address,
                                       .host = "127.0.0.1",
                                       .port = (uint16_t)port,
                                       .method = method,
                                       .target = target,
                                       .headers = "",
                                       .body = "",
                                       .has_body = strcmp(method, "POST") == 0,
                                       .resendable = strcmp(method, "GET") == 0};
    ck_assert_int_eq(upstream_start(u, &c->t, &c->req, &caller_callbacks, c), 0);
}

/* Runs @loop until something stops it, for GIVE_UP_MS at most. */
static void run_loop(struct loop *loop)
{
    struct loop_timer give_up;

    loop_timer_init(&give_up, stop_loop, loop);
    loop_timer_arm_ms(loop, &give_up, GIVE_UP_MS);
    loop_run(loop);
    loop_timer_cancel(loop, &give_up);
}

static struct upstream *native_upstream(struct loop *loop, long connect_timeout_ms)
{
    struct upstream_config cfg = {.connect_timeout_ms = connect_timeout_ms};

    return upstream_new(loop, &cfg);
}

/* A master host that drops SYNs: its listen queue is full. A connection not
 * made within the connect timeout sent nothing: the call says so (as a
 * refused one does), so that the owner may try again, even for a POST. */
START_TEST(native_connect_timeout_sent_nothing)
{
    struct loop *loop = loop_new();
    struct upstream *u = native_upstream(loop, 100);
    struct caller c = {.loop = loop};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int port, filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int lfd = unit_listen_loopback(0, &port);

    sa.sin_port = htons((uint16_t)port);
    ck_assert_int_eq(connect(filler, (struct sockaddr *)&sa, sizeof(sa)), 0); /* queue full */
    caller_start(&c, u, port, "POST", "/api/v1/scheduler");
    run_loop(loop);
    ck_assert_int_eq(c.done, 1);
    ck_assert_msg(c.result == UPSTREAM_REFUSED,
                  "a connect timeout ended the call with result %d (%s), not as one that sent "
                  "nothing",
                  (int)c.result, c.detail);
    ck_assert_msg(strstr(c.detail, "connect timeout"), "detail: %s", c.detail);
    upstream_free(u);
    close(filler);
    close(lfd);
    loop_free(loop);
}
END_TEST

static void master_closes_first(struct caller *c)
{
    struct master *m = c->data;

    ck_assert_int_eq(shutdown(m->conn[0].fd, SHUT_WR), 0);
}

/* An answer the owner paused on completes from the bytes held for it: its
 * connection is kept alive, and still watched, so that the master closing
 * it is noticed (the engine closes its end) rather than failing the next
 * call sent on it. */
START_TEST(native_paused_answer_keeps_watch)
{
    struct loop *loop = loop_new();
    struct upstream *u = native_upstream(loop, 1000);
    struct master m;
    struct caller c = {.loop = loop, .pause_once = true, .then = master_closes_first, .data = &m};

    master_start(&m, loop, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", NULL);
    m.stop_when_closed = true;
    caller_start(&c, u, m.port, "GET", "/paused");
    run_loop(loop);
    ck_assert_int_eq(c.done, 1);
    ck_assert_int_eq(c.result, UPSTREAM_OK);
    ck_assert_str_eq(c.body, "hello");
    ck_assert_msg(m.conn[0].peer_closed,
                  "the master closed a kept-alive connection; the engine did not notice in %d ms",
                  GIVE_UP_MS);
    upstream_free(u);
    master_stop(&m);
    loop_free(loop);
}
END_TEST

static const char stale_answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale";

/* Writes @len bytes on @fd and waits until the peer's kernel holds them
 * (nothing left unacknowledged). */
static void deliver(int fd, const char *bytes, size_t len)
{
    int unacked = 1;

    ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
    for (int i = 0; i < GIVE_UP_MS && unacked > 0; i++) {
        ck_assert_int_eq(ioctl(fd, SIOCOUTQ, &unacked), 0);
        if (unacked > 0)
            poll(NULL, 0, 1);
    }
    ck_assert_int_eq(unacked, 0);
}

/* The first call ended: the master sends an answer nobody asked for on its
 * kept-alive connection, and it has arrived before the next call starts, in
 * the same loop iteration. */
static void stale_then_post(struct caller *first)
{
    struct master *m = first->data;
    struct caller *second = first + 1;

    deliver(m->conn[0].fd, stale_answer, sizeof(stale_answer) - 1);
    caller_start(second, first->u, m->port, "POST", "/two");
}

/* Bytes that arrived on an idle kept-alive connection are never taken for
 * the answer to the next call sent on it: that connection is not reused. */
START_TEST(native_stale_bytes_not_an_answer)
{
    struct loop *loop = loop_new();
    struct upstream *u = native_upstream(loop, 1000);
    struct master m;
    struct caller c[2] = {{.loop = loop, .then = stale_then_post, .data = &m}, {.loop = loop}};

    master_start(&m, loop, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none",
                 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh");
    caller_start(&c[0], u, m.port, "GET", "/one");
    run_loop(loop);
    ck_assert_str_eq(c[0].body, "one");
    ck_assert_int_eq(c[1].done, 1);
    ck_assert_int_eq(c[1].result, UPSTREAM_OK);
    ck_assert_msg(strcmp(c[1].body, "fresh") == 0,
                  "the POST got the bytes sent before it as its answer: '%s'", c[1].body);
    ck_assert_int_eq(m.conn[0].calls, 1);
    ck_assert_int_eq(m.n_conns, 2);
    ck_assert_str_eq(m.conn[1].last_call, "POST /two HTTP/1.1");
    upstream_free(u);
    master_stop(&m);
    loop_free(loop);
}
END_TEST

/* --- out of descriptors ------------------------------------------------------ */

/* Every descriptor number below a lowered soft limit in use: the next
 * socket() fails with EMFILE until squeeze_end(). */
struct squeeze {
    struct rlimit saved;
    int spare; /* the last number free, held */
};

static void squeeze_start(struct squeeze *q)
{
    struct rlimit rl;

    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &q->saved), 0);
    q->spare = open("/dev/null", O_RDONLY | O_CLOEXEC); /* the lowest number free */
    ck_assert_int_ge(q->spare, 0);
    rl = q->saved;
    rl.rlim_cur = (rlim_t)q->spare + 1;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_int_eq(socket(AF_INET, SOCK_STREAM, 0), -1);
    ck_assert_int_eq(errno, EMFILE);
}

static void squeeze_end(struct squeeze *q)
{
    close(q->spare);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &q->saved), 0);
}

static const char ok_answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* Sends a POST while no descriptor is free; one comes back before the
 * loop's next turn when @freed. */
static void call_squeezed(struct caller *c, struct master *m, bool freed)
{
    struct loop *loop = c->loop;
    struct upstream *u = native_upstream(loop, 1000);
    struct squeeze q;

    master_start(m, loop, ok_answer, NULL);
    squeeze_start(&q);
    caller_start(c, u, m->port, "POST", "/api/v1/scheduler");
    if (freed)
        squeeze_end(&q);
    run_loop(loop);
    if (!freed)
        squeeze_end(&q);
    ck_assert_int_eq(c->done, 1);
    upstream_free(u);
    master_stop(m);
}

/* A call that finds no descriptor for its socket while libmicrohttpd still
 * holds its copies of streams' sockets (it closes them at the end of its
 * turn) is tried again in the next turn of the loop: it reaches the master,
 * once, and is answered. */
START_TEST(native_no_descriptor_tried_next_turn)
{
    struct caller c = {.loop = loop_new()};
    struct master m;

    call_squeezed(&c, &m, true);
    ck_assert_msg(c.result == UPSTREAM_OK, "the call ended with result %d (%s)", (int)c.result,
                  c.detail);
    ck_assert_str_eq(c.body, "ok");
    ck_assert_int_eq(m.n_conns, 1);
    ck_assert_int_eq(m.conn[0].calls, 1);
    loop_free(c.loop);
}
END_TEST

/* No descriptor in the next turn either: the call ends as one that found
 * none (its owner answers 503 out_of_descriptors), having sent nothing. */
START_TEST(native_no_descriptor_reported)
{
    struct caller c = {.loop = loop_new()};
    struct master m;

    call_squeezed(&c, &m, false);
    ck_assert_msg(c.result == UPSTREAM_NO_DESCRIPTORS, "the call ended with result %d (%s)",
                  (int)c.result, c.detail);
    ck_assert_int_eq(m.n_conns, 0);
    loop_free(c.loop);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {first_engine_that_accepts,
                                  unpause_after_the_iteration,
                                  configuration_reaches_every_engine,
                                  native_connect_timeout_sent_nothing,
                                  native_paused_answer_keeps_watch,
                                  native_stale_bytes_not_an_answer,
                                  native_no_descriptor_tried_next_turn,
                                  native_no_descriptor_reported,
                                  NULL};

    return unit_run(unit_suite("upstream", tests));
}
