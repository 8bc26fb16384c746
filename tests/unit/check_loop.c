/* check_loop.c: unit tests of the event loop: timers, the loop's time, watcher removal and
 * hooks. */
#include "config.h"

#include "base/loop.h"
#include "base/timeutil.h"
#include "unit/unit.h"

#include <check.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct order {
    struct loop *loop;
    int fired[8];
    int n;
    int stop_after; /* timers fired when the loop is stopped */
};

struct tagged {
    struct loop_timer timer;
    struct order *order;
    int tag;
};

static void on_fire(struct loop_timer *t)
{
    struct tagged *x = t->data;

    x->order->fired[x->order->n++] = x->tag;
    if (x->order->n == x->order->stop_after)
        loop_stop(x->order->loop);
}

START_TEST(timers_fire_in_deadline_order)
{
    struct order o = {.loop = loop_new(), .stop_after = 4};
    struct tagged t[5];
    const int delays[] = {30, 10, 20, 5, 1};

    for (int i = 0; i < 5; i++) {
        t[i] = (struct tagged){.order = &o, .tag = i};
        loop_timer_init(&t[i].timer, on_fire, &t[i]);
        loop_timer_arm_ms(o.loop, &t[i].timer, (uint64_t)delays[i]);
    }
    loop_timer_cancel(o.loop, &t[4].timer);    /* cancelled: never fires */
    loop_timer_arm_ms(o.loop, &t[0].timer, 2); /* re-armed earlier */
    ck_assert(!loop_timer_armed(&t[4].timer));
    ck_assert_int_eq(loop_run(o.loop), 0);
    ck_assert_int_eq(o.n, 4);
    ck_assert_int_eq(o.fired[0], 0);
    ck_assert_int_eq(o.fired[1], 3);
    ck_assert_int_eq(o.fired[2], 1);
    ck_assert_int_eq(o.fired[3], 2);
    loop_free(o.loop);
}
END_TEST

/* Timers already due when the loop runs all expire in the same iteration:
 * they still fire in deadline order, whatever the order they were armed in. */
START_TEST(timers_due_together_fire_in_deadline_order)
{
    struct order o = {.loop = loop_new(), .stop_after = 6};
    struct tagged t[6];
    const int ago_us[] = {300, 900, 100, 700, 500, 200};
    uint64_t now = loop_now_ns(o.loop);

    for (int i = 0; i < 6; i++) {
        t[i] = (struct tagged){.order = &o, .tag = i};
        loop_timer_init(&t[i].timer, on_fire, &t[i]);
        loop_timer_arm_at(o.loop, &t[i].timer, now - (uint64_t)ago_us[i] * 1000u);
    }
    ck_assert_int_eq(loop_run(o.loop), 0);
    ck_assert_int_eq(o.n, 6);
    ck_assert_int_eq(o.fired[0], 1);
    ck_assert_int_eq(o.fired[1], 3);
    ck_assert_int_eq(o.fired[2], 4);
    ck_assert_int_eq(o.fired[3], 0);
    ck_assert_int_eq(o.fired[4], 5);
    ck_assert_int_eq(o.fired[5], 2);
    loop_free(o.loop);
}
END_TEST

struct clocked {
    struct loop *loop;
    struct loop_timer timer;
    uint64_t now_at_fire, now_later;
};

/* Records loop_now_ns() when the timer fires and again once the clock has
 * moved on by 200 us: the loop's time is the iteration's, it does not move. */
static void on_clocked(struct loop_timer *t)
{
    struct clocked *c = t->data;
    uint64_t start = time_now_ns();

    c->now_at_fire = loop_now_ns(c->loop);
    while (time_now_ns() - start < 200000u)
        ;
    c->now_later = loop_now_ns(c->loop);
    loop_stop(c->loop);
}

/* A deadline that is not a whole microsecond: when the timer fires, the
 * loop's time has reached it (a callback that compares loop_now_ns() with
 * its deadline does not find itself early and re-arm for ever). */
START_TEST(timer_fires_at_or_after_its_deadline_by_loop_time)
{
    struct clocked c = {.loop = loop_new()};
    uint64_t at = time_now_ns() + 2000001u;

    loop_timer_init(&c.timer, on_clocked, &c);
    loop_timer_arm_at(c.loop, &c.timer, at);
    ck_assert_int_eq(loop_run(c.loop), 0);
    ck_assert_uint_ge(c.now_at_fire, at);
    ck_assert_uint_eq(c.now_later, c.now_at_fire);
    ck_assert(!loop_timer_armed(&c.timer));
    loop_free(c.loop);
}
END_TEST

struct pair {
    struct loop *loop;
    struct loop_io a, b;
    int calls;
};

/* Whichever fires first removes the other: the other must not run. */
static void on_ready(struct loop_io *io, uint32_t events)
{
    struct pair *p = io->data;
    struct loop_io *other = io == &p->a ? &p->b : &p->a;

    p->calls++;
    loop_io_remove(p->loop, other);
    loop_io_remove(p->loop, io);
    loop_stop(p->loop);
}

START_TEST(removed_watcher_gets_no_pending_event)
{
    struct pair p = {.loop = loop_new()};
    int fa = eventfd(1, EFD_NONBLOCK), fb = eventfd(1, EFD_NONBLOCK);

    ck_assert_int_eq(loop_io_add(p.loop, &p.a, fa, EPOLLIN, on_ready, &p), 0);
    ck_assert_int_eq(loop_io_add(p.loop, &p.b, fb, EPOLLIN, on_ready, &p), 0);
    ck_assert_int_eq(loop_run(p.loop), 0);
    ck_assert_int_eq(p.calls, 1);
    close(fa);
    close(fb);
    loop_free(p.loop);
}
END_TEST

/* Hooks: any number of them, run once per iteration in the order added; one
 * removes the hook that follows it and itself, and they run no more. */
struct hooks {
    struct loop *loop;
    struct loop_hook h[12];
    int runs[12];
    int iterations;
};

static struct hooks *hooks_of;

static void count_hook(void *data)
{
    int i = (int)(long)data;

    hooks_of->runs[i]++;
    if (i == 5 && hooks_of->runs[i] == 1) {
        loop_hook_remove(hooks_of->loop, &hooks_of->h[6]);
        loop_hook_remove(hooks_of->loop, &hooks_of->h[5]);
    }
    if (i == 11 && ++hooks_of->iterations == 3)
        loop_stop(hooks_of->loop);
}

static void on_tick(struct loop_timer *t)
{
    loop_timer_arm_ms(t->data, t, 1);
}

START_TEST(hooks_unbounded_and_removable)
{
    struct hooks hs = {.loop = loop_new()};
    struct loop_timer tick;

    hooks_of = &hs;
    for (long i = 0; i < 12; i++)
        loop_hook_add(hs.loop, &hs.h[i], count_hook, (void *)i);
    loop_timer_init(&tick, on_tick, hs.loop);
    loop_timer_arm_ms(hs.loop, &tick, 1);
    ck_assert_int_eq(loop_run(hs.loop), 0);
    for (int i = 0; i < 12; i++)
        ck_assert_int_eq(hs.runs[i], i == 5 ? 1 : i == 6 ? 0 : 3);
    loop_timer_cancel(hs.loop, &tick);
    for (int i = 0; i < 12; i++)
        loop_hook_remove(hs.loop, &hs.h[i]); /* twice for 5 and 6: harmless */
    loop_free(hs.loop);
}
END_TEST

/* A hook that asks another (earlier) one for work, as libcurl's unpausing
 * kicks libmicrohttpd: the work is done before the loop sleeps, without
 * waiting for an event that may never come. */
struct kick {
    struct loop *loop;
    struct loop_io io;
    struct loop_hook worker, asker;
    struct loop_timer give_up;
    bool event_seen, asked, kicked, done, gave_up;
};

static void on_kick_event(struct loop_io *io, uint32_t events)
{
    struct kick *k = io->data;
    uint64_t count;

    ck_assert_int_eq(read(io->fd, &count, sizeof(count)), (ssize_t)sizeof(count));
    k->event_seen = true;
}

static void worker_hook(void *data)
{
    struct kick *k = data;

    if (!k->kicked)
        return;
    k->done = true;
    loop_stop(k->loop);
}

static void asker_hook(void *data)
{
    struct kick *k = data;

    if (k->event_seen && !k->asked)
        k->asked = k->kicked = true;
}

static void on_give_up(struct loop_timer *t)
{
    struct kick *k = t->data;

    k->gave_up = true;
    loop_stop(k->loop);
}

START_TEST(hook_asked_by_another_runs_before_the_loop_sleeps)
{
    struct kick k = {.loop = loop_new()};
    int fd = eventfd(1, EFD_NONBLOCK);

    ck_assert_int_eq(loop_io_add(k.loop, &k.io, fd, EPOLLIN, on_kick_event, &k), 0);
    loop_hook_add(k.loop, &k.worker, worker_hook, &k);
    loop_hook_add(k.loop, &k.asker, asker_hook, &k);
    loop_timer_init(&k.give_up, on_give_up, &k);
    loop_timer_arm_ms(k.loop, &k.give_up, 2000);
    ck_assert_int_eq(loop_run(k.loop), 0);
    ck_assert(k.done);
    ck_assert(!k.gave_up);
    loop_timer_cancel(k.loop, &k.give_up);
    loop_hook_remove(k.loop, &k.worker);
    loop_hook_remove(k.loop, &k.asker);
    loop_io_remove(k.loop, &k.io);
    close(fd);
    loop_free(k.loop);
}
END_TEST

/* A timer that re-arms itself 0 ms ahead runs again only after the loop
 * has read its descriptors: work cut into batches lets events in between
 * (ending thousands of streams once ran every batch before any accept). */
struct batches {
    struct loop *loop;
    struct loop_timer timer;
    struct loop_io io;
    int fd;
    int batches_before_event;
    bool event_seen;
};

static void on_batch(struct loop_timer *t)
{
    struct batches *b = t->data;

    uint64_t one = 1;

    if (b->batches_before_event == 0)
        ck_assert_int_eq(write(b->fd, &one, sizeof(one)), sizeof(one)); /* the event */
    if (!b->event_seen)
        b->batches_before_event++;
    if (b->batches_before_event < 5)
        loop_timer_arm_ms(b->loop, t, 0);
}

static void on_batch_event(struct loop_io *io, uint32_t events)
{
    struct batches *b = io->data;

    (void)events;
    b->event_seen = true;
    loop_stop(b->loop);
}

START_TEST(timer_rearmed_now_waits_for_events)
{
    struct batches b = {.loop = loop_new(), .fd = eventfd(0, EFD_NONBLOCK)};

    ck_assert_int_eq(loop_io_add(b.loop, &b.io, b.fd, EPOLLIN, on_batch_event, &b), 0);
    loop_timer_init(&b.timer, on_batch, &b);
    loop_timer_arm_ms(b.loop, &b.timer, 0);
    ck_assert_int_eq(loop_run(b.loop), 0);
    ck_assert(b.event_seen);
    ck_assert_int_le(b.batches_before_event, 1);
    loop_timer_cancel(b.loop, &b.timer);
    loop_io_remove(b.loop, &b.io);
    close(b.fd);
    loop_free(b.loop);
}
END_TEST

/* One loop_stop() ends one loop_run(), even one made before it: the loop
 * runs again after, and its timers with it. */
START_TEST(stopped_loop_runs_again)
{
    struct loop *loop = loop_new();
    struct order o = {.loop = loop, .stop_after = 1};
    struct tagged x = {.order = &o, .tag = 1};

    loop_stop(loop);
    ck_assert_int_eq(loop_run(loop), 0); /* returns at once */
    ck_assert_int_eq(o.n, 0);
    loop_timer_init(&x.timer, on_fire, &x);
    loop_timer_arm_ms(loop, &x.timer, 1);
    ck_assert_int_eq(loop_run(loop), 0);
    ck_assert_int_eq(o.n, 1);
    o.stop_after = 2;
    x.tag = 2;
    loop_timer_arm_ms(loop, &x.timer, 1);
    ck_assert_int_eq(loop_run(loop), 0);
    ck_assert_int_eq(o.n, 2);
    ck_assert_int_eq(o.fired[1], 2);
    loop_free(loop);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {timers_fire_in_deadline_order,
                                  timers_due_together_fire_in_deadline_order,
                                  timer_fires_at_or_after_its_deadline_by_loop_time,
                                  removed_watcher_gets_no_pending_event,
                                  hooks_unbounded_and_removable,
                                  hook_asked_by_another_runs_before_the_loop_sleeps,
                                  timer_rearmed_now_waits_for_events,
                                  stopped_loop_runs_again,
                                  NULL};

    return unit_run(unit_suite("loop", tests));
}
