/* check_upstream.c: unit tests of the upstream interface (proxy/upstream.h)
 * with fake engines: each call goes to the first engine that accepts it,
 * unpausing waits for the end of the loop's iteration, aborting is silent,
 * and a new configuration reaches every engine. No sockets. */
#include "config.h"

#include "proxy/upstream_engine.h"

#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
    const TTest *const tests[] = {first_engine_that_accepts, unpause_after_the_iteration,
                                  configuration_reaches_every_engine, NULL};

    return unit_run(unit_suite("upstream", tests));
}
