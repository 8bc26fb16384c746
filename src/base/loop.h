/* loop.h: the event loop the daemon runs in (one thread, epoll).
 *
 * File descriptors and timers are registered with caller-owned structs, so
 * the loop allocates nothing per event. A watcher removed while events are
 * being dispatched gets none of the events still pending in that batch, so a
 * callback may free the object behind any other watcher. "After" hooks run
 * after all events of an iteration, and once more before the loop waits
 * again (so that work one hook asks of another is done before it sleeps):
 * the place for work that must not happen inside a library callback
 * (running libmicrohttpd, unpausing libcurl). */
#ifndef MLD_LOOP_H
#define MLD_LOOP_H

#include "base/list.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_io;
struct loop_timer;

/* Called with the epoll events of @io's descriptor. */
typedef void (*loop_io_fn)(struct loop_io *io, uint32_t events);

/* Called when @timer expires (it is disarmed first). */
typedef void (*loop_timer_fn)(struct loop_timer *timer);

/* A watched descriptor; embed it and recover the owner in the callback. */
struct loop_io {
    int fd;
    uint32_t events;
    loop_io_fn fn;
    void *data;
    bool active;
};

/* A one-shot timer; embed it. */
struct loop_timer {
    uint64_t at_ns;
    size_t heap_index; /* 0 when not armed */
    loop_timer_fn fn;
    void *data;
};

/* Creates a loop. Returns NULL (and logs) if epoll is unavailable. */
struct loop *loop_new(void);

/* Frees the loop; watchers must have been removed. NULL is fine. */
void loop_free(struct loop *loop);

/* Watches @fd for @events (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLET, ...). */
int loop_io_add(struct loop *loop, struct loop_io *io, int fd, uint32_t events, loop_io_fn fn,
                void *data);

/* Changes the events watched. */
int loop_io_modify(struct loop *loop, struct loop_io *io, uint32_t events);

/* Stops watching; pending events for @io in this iteration are dropped.
 * Safe on an inactive watcher. Call it before closing the descriptor. */
void loop_io_remove(struct loop *loop, struct loop_io *io);

/* Initialises a timer (not armed). */
void loop_timer_init(struct loop_timer *timer, loop_timer_fn fn, void *data);

/* Arms (or re-arms) @timer to fire in @delay_ms milliseconds. A timer armed
 * from a timer's callback with 0 ms fires at the next iteration, after the
 * loop has read its descriptors (the loop's time of this iteration is older):
 * the way to cut long work into batches. */
void loop_timer_arm_ms(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms);

/* Arms (or re-arms) @timer at the monotonic time @at_ns. */
void loop_timer_arm_at(struct loop *loop, struct loop_timer *timer, uint64_t at_ns);

/* Disarms @timer; safe when not armed. */
void loop_timer_cancel(struct loop *loop, struct loop_timer *timer);

/* Whether @timer is armed. */
bool loop_timer_armed(const struct loop_timer *timer);

/* A function run after the events of every iteration; embed it. */
struct loop_hook {
    struct list_node node;
    void (*fn)(void *data);
    void *data;
};

/* Runs @fn(@data) after the events of every iteration, until removed. */
void loop_hook_add(struct loop *loop, struct loop_hook *hook, void (*fn)(void *data), void *data);

/* Stops running @hook; safe when not added, and from inside any hook. */
void loop_hook_remove(struct loop *loop, struct loop_hook *hook);

/* Runs until loop_stop() (one made before it included), and can run again
 * after. Returns 0, or a negative errno if epoll fails. */
int loop_run(struct loop *loop);

/* Makes loop_run() return after the current iteration. */
void loop_stop(struct loop *loop);

/* Monotonic time of the current iteration, in nanoseconds (cheap). */
uint64_t loop_now_ns(const struct loop *loop);

#endif
