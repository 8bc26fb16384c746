/* check_loop.c: unit tests of the event loop: timers and watcher removal. */
#include "config.h"

#include "base/loop.h"
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
    if (x->order->n == 4)
        loop_stop(x->order->loop);
}

START_TEST(timers_fire_in_deadline_order)
{
    struct order o = {.loop = loop_new()};
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

int main(void)
{
    const TTest *const tests[] = {timers_fire_in_deadline_order,
                                  removed_watcher_gets_no_pending_event,
                                  hooks_unbounded_and_removable, NULL};

    return unit_run(unit_suite("loop", tests));
}
