/* loop.c: an epoll loop with a binary-heap timer queue and after-iteration hooks. */
#include "config.h"

#include "base/loop.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct loop {
    int epoll_fd;
    bool stopping;
    uint64_t now_ns;
    struct epoll_event events[MAX_EVENTS];
    int n_events;             /* events of the batch being dispatched */
    struct loop_timer **heap; /* 1-based */
    size_t heap_len, heap_cap;
    struct list hooks;           /* struct loop_hook, run in the order added */
    struct list_node *hook_next; /* the hook to run after the one running */
};

struct loop *loop_new(void)
{
    struct loop *loop = xnew(struct loop);

    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epoll_fd < 0) {
        log_error("cannot create an epoll instance: %m");
        free(loop);
        return NULL;
    }
    loop->heap_cap = 64;
    loop->heap = xcalloc(loop->heap_cap + 1, sizeof(*loop->heap));
    loop->now_ns = time_now_ns();
    list_init(&loop->hooks);
    return loop;
}

void loop_free(struct loop *loop)
{
    if (!loop)
        return;
    close(loop->epoll_fd);
    free(loop->heap);
    free(loop);
}

int loop_io_add(struct loop *loop, struct loop_io *io, int fd, uint32_t events, loop_io_fn fn,
                void *data)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};

    io->fd = fd;
    io->events = events;
    io->fn = fn;
    io->data = data;
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    io->active = true;
    return 0;
}

int loop_io_modify(struct loop *loop, struct loop_io *io, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};

    if (!io->active)
        return -EINVAL;
    if (io->events == events)
        return 0;
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
        return -errno;
    io->events = events;
    return 0;
}

void loop_io_remove(struct loop *loop, struct loop_io *io)
{
    if (!io->active)
        return;
    /* The descriptor may already be closed by its owner (libcurl does that);
     * the kernel then dropped it from the set, so ENOENT/EBADF are fine. */
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, io->fd, NULL);
    io->active = false;
    for (int i = 0; i < loop->n_events; i++) {
        if (loop->events[i].data.ptr == io)
            loop->events[i].data.ptr = NULL;
    }
}

/* --- timer heap ---------------------------------------------------------- */

static void heap_set(struct loop *loop, size_t i, struct loop_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void heap_up(struct loop *loop, size_t i)
{
    struct loop_timer *t = loop->heap[i];

    while (i > 1 && loop->heap[i / 2]->at_ns > t->at_ns) {
        heap_set(loop, i, loop->heap[i / 2]);
        i /= 2;
    }
    heap_set(loop, i, t);
}

static void heap_down(struct loop *loop, size_t i)
{
    struct loop_timer *t = loop->heap[i];

    for (;;) {
        size_t c = 2 * i;
        if (c > loop->heap_len)
            break;
        if (c + 1 <= loop->heap_len && loop->heap[c + 1]->at_ns < loop->heap[c]->at_ns)
            c++;
        if (loop->heap[c]->at_ns >= t->at_ns)
            break;
        heap_set(loop, i, loop->heap[c]);
        i = c;
    }
    heap_set(loop, i, t);
}

void loop_timer_init(struct loop_timer *timer, loop_timer_fn fn, void *data)
{
    timer->at_ns = 0;
    timer->heap_index = 0;
    timer->fn = fn;
    timer->data = data;
}

bool loop_timer_armed(const struct loop_timer *timer)
{
    return timer->heap_index != 0;
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *timer)
{
    size_t i = timer->heap_index;
    struct loop_timer *last;

    if (i == 0)
        return;
    last = loop->heap[loop->heap_len--];
    timer->heap_index = 0;
    if (last == timer)
        return;
    heap_set(loop, i, last);
    heap_up(loop, i);
    heap_down(loop, last->heap_index);
}

void loop_timer_arm_at(struct loop *loop, struct loop_timer *timer, uint64_t at_ns)
{
    if (timer->heap_index) {
        uint64_t old = timer->at_ns;
        timer->at_ns = at_ns;
        if (at_ns < old)
            heap_up(loop, timer->heap_index);
        else
            heap_down(loop, timer->heap_index);
        return;
    }
    if (loop->heap_len == loop->heap_cap) {
        loop->heap_cap *= 2;
        loop->heap = xreallocarray(loop->heap, loop->heap_cap + 1, sizeof(*loop->heap));
    }
    timer->at_ns = at_ns;
    loop->heap_len++;
    heap_set(loop, loop->heap_len, timer);
    heap_up(loop, loop->heap_len);
}

void loop_timer_arm_ms(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms)
{
    loop_timer_arm_at(loop, timer, time_now_ns() + delay_ms * 1000000u);
}

static void run_timers(struct loop *loop)
{
    while (loop->heap_len > 0 && loop->heap[1]->at_ns <= loop->now_ns) {
        struct loop_timer *t = loop->heap[1];
        loop_timer_cancel(loop, t);
        t->fn(t);
    }
}

/* Milliseconds until the first timer (rounded up), or -1 for none. */
static int next_timeout_ms(struct loop *loop)
{
    uint64_t at;

    if (loop->heap_len == 0)
        return -1;
    at = loop->heap[1]->at_ns;
    if (at <= loop->now_ns)
        return 0;
    uint64_t ms = (at - loop->now_ns + 999999u) / 1000000u;
    return ms > 60000 ? 60000 : (int)ms;
}

/* --- running ------------------------------------------------------------- */

void loop_hook_add(struct loop *loop, struct loop_hook *hook, void (*fn)(void *data), void *data)
{
    loop_hook_remove(loop, hook);
    hook->fn = fn;
    hook->data = data;
    list_push_back(&loop->hooks, &hook->node);
}

void loop_hook_remove(struct loop *loop, struct loop_hook *hook)
{
    if (loop->hook_next == &hook->node)
        loop->hook_next = hook->node.next;
    list_remove(&loop->hooks, &hook->node);
}

/* A hook may remove itself or any other one while they run. */
static void run_hooks(struct loop *loop)
{
    struct list_node *n = loop->hooks.head.next;

    while (n != &loop->hooks.head) {
        struct loop_hook *h = list_entry(n, struct loop_hook, node);
        loop->hook_next = n->next;
        h->fn(h->data);
        n = loop->hook_next;
    }
    loop->hook_next = NULL;
}

static void dispatch(struct loop *loop)
{
    for (int i = 0; i < loop->n_events; i++) {
        struct loop_io *io = loop->events[i].data.ptr;
        if (io && io->active)
            io->fn(io, loop->events[i].events);
    }
    loop->n_events = 0;
}

int loop_run(struct loop *loop)
{
    while (!loop->stopping) {
        int n;

        loop->now_ns = time_now_ns();
        run_timers(loop);
        run_hooks(loop);
        if (loop->stopping)
            break;
        n = epoll_wait(loop->epoll_fd, loop->events, MAX_EVENTS, next_timeout_ms(loop));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_wait failed: %m");
            return -errno;
        }
        loop->now_ns = time_now_ns();
        loop->n_events = n;
        dispatch(loop);
        run_hooks(loop);
    }
    loop->stopping = false; /* one loop_stop() ends one loop_run() */
    return 0;
}

void loop_stop(struct loop *loop)
{
    loop->stopping = true;
}

uint64_t loop_now_ns(const struct loop *loop)
{
    return loop->now_ns;
}
