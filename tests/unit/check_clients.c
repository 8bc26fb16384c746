/* check_clients.c: unit tests of client connection accounting
 * (proxy/clients.h): the connections of every listener share the
 * descriptors the open-files limit allows, max-connections is each
 * listener's, each listener accepts a few connections past the limit of its
 * own (to answer them 503), and a connection that closes, or a listener
 * that goes, lets any paused listener accept again. Real sockets on
 * 127.0.0.1 and one event loop; the accepted sockets go nowhere (no
 * libmicrohttpd). */
#include "config.h"

#include "base/fdlimit.h"
#include "proxy/clients.h"

#include "unit/unit.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>

#define MAX_HELD   64
#define GIVE_UP_MS 2000 /* a wait for accepts that do come */
#define QUIET_MS   200  /* how long nothing more must happen */

/* One listener of the daemon and what it accepted. */
struct listener {
    struct clients *cs;
    int port;
    struct metrics m;
    struct client *accepted[MAX_HELD];
    int n_accepted;
    int peers[MAX_HELD]; /* the test's ends of its connections */
    int n_peers;
};

static struct loop *loop;
static int accepts_awaited; /* the loop stops once this many more came */

static void on_accept(void *data, struct client *c, const struct sockaddr *sa, socklen_t len)
{
    struct listener *l = data;

    ck_assert_int_lt(l->n_accepted, MAX_HELD);
    l->accepted[l->n_accepted++] = c;
    if (--accepts_awaited == 0)
        loop_stop(loop);
}

static void stop_loop(struct loop_timer *t)
{
    loop_stop(t->data);
}

/* Runs the loop until @n more connections were accepted (any listener), or
 * for @give_up_ms. */
static void run_until_accepted(int n, int give_up_ms)
{
    struct loop_timer give_up;

    accepts_awaited = n;
    loop_timer_init(&give_up, stop_loop, loop);
    loop_timer_arm_ms(loop, &give_up, (uint64_t)give_up_ms);
    loop_run(loop);
    loop_timer_cancel(loop, &give_up);
}

static void listener_start(struct listener *l, unsigned max_connections, uint64_t open_files)
{
    struct clients_limits lim = {max_connections, 60000, open_files};
    int fd = unit_listen_loopback(MAX_HELD, &l->port);

    ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0); /* as the daemon's */
    l->cs = clients_new(loop, fd, &lim, &l->m, on_accept, l);
}

static void listener_stop(struct listener *l)
{
    for (int i = 0; i < l->n_accepted; i++)
        close(l->accepted[i]->fd);
    clients_free(l->cs);
    for (int i = 0; i < l->n_peers; i++)
        close(l->peers[i]);
}

/* Opens @n connections to @l. */
static void connect_to(struct listener *l, int n)
{
    for (int i = 0; i < n; i++) {
        ck_assert_int_lt(l->n_peers, MAX_HELD);
        l->peers[l->n_peers++] = unit_connect_loopback(l->port);
    }
}

static int served(const struct listener *l)
{
    int n = 0;

    for (int i = 0; i < l->n_accepted; i++)
        n += !l->accepted[i]->over_cap;
    return n;
}

/* Two listeners whose open files allow @cap connections in all. */
static void start_two(struct listener l[2], unsigned max_connections, int cap)
{
    loop = loop_new();
    memset(l, 0, 2 * sizeof(*l));
    listener_start(&l[0], max_connections, fdlimit_needed((uint64_t)cap, 2));
    listener_start(&l[1], max_connections, fdlimit_needed((uint64_t)cap, 2));
}

static void stop_two(struct listener l[2])
{
    listener_stop(&l[0]);
    listener_stop(&l[1]);
    loop_free(loop);
}

/* Descriptors are the process's: two listeners serve 3 connections in all,
 * not 3 each; the fourth is accepted only to be answered 503. */
START_TEST(listeners_share_descriptors)
{
    struct listener l[2];

    start_two(l, 100, 3);
    connect_to(&l[0], 2);
    run_until_accepted(2, GIVE_UP_MS);
    connect_to(&l[1], 2);
    run_until_accepted(2, GIVE_UP_MS);
    ck_assert_int_eq(served(&l[0]), 2);
    ck_assert_int_eq(l[1].n_accepted, 2);
    ck_assert_int_eq(served(&l[1]), 1);
    ck_assert_int_eq(clients_count(l[0].cs) + clients_count(l[1].cs), 4);
    stop_two(l);
}
END_TEST

/* Past what descriptors allow, a listener accepts CLIENTS_FD_HEADROOM more
 * (to answer them 503), then waits; another listener still has its own. */
START_TEST(each_listener_answers_past_the_limit)
{
    struct listener l[2];

    start_two(l, 100, 3);
    connect_to(&l[0], 3 + CLIENTS_FD_HEADROOM + 4);
    run_until_accepted(3 + CLIENTS_FD_HEADROOM + 4, QUIET_MS); /* 4 are not accepted */
    ck_assert_int_eq(served(&l[0]), 3);
    ck_assert_int_eq(l[0].n_accepted, 3 + CLIENTS_FD_HEADROOM);
    connect_to(&l[1], 1);
    run_until_accepted(1, GIVE_UP_MS);
    ck_assert_int_eq(l[1].n_accepted, 1);
    ck_assert_msg(l[1].accepted[0]->over_cap, "served past what descriptors allow");
    stop_two(l);
}
END_TEST

/* Connections that close on one listener let the other, paused, accept
 * again; the connection it takes is served. (The connections accepted past
 * the limit count too, until they close.) */
START_TEST(release_resumes_every_listener)
{
    struct listener l[2];
    const int cap = 20;

    start_two(l, 100, cap);
    connect_to(&l[0], cap);
    run_until_accepted(cap, GIVE_UP_MS);
    connect_to(&l[1], CLIENTS_FD_HEADROOM + 1);
    run_until_accepted(CLIENTS_FD_HEADROOM + 1, QUIET_MS); /* one waits */
    ck_assert_int_eq(l[1].n_accepted, CLIENTS_FD_HEADROOM);
    while (l[0].n_accepted > cap - CLIENTS_FD_HEADROOM - 1) { /* room for one more */
        struct client *gone = l[0].accepted[--l[0].n_accepted];
        close(gone->fd);
        clients_release(gone);
    }
    run_until_accepted(1, GIVE_UP_MS);
    ck_assert_int_eq(l[1].n_accepted, CLIENTS_FD_HEADROOM + 1);
    ck_assert_msg(!l[1].accepted[CLIENTS_FD_HEADROOM]->over_cap,
                  "the descriptors freed did not serve the connection that waited");
    stop_two(l);
}
END_TEST

/* max-connections is each listener's: past it, CLIENTS_HEADROOM more are
 * accepted to be answered 503, while the other listener serves on. */
START_TEST(max_connections_per_listener)
{
    struct listener l[2];

    start_two(l, 1, 1000);
    connect_to(&l[0], 3);
    run_until_accepted(3, GIVE_UP_MS);
    connect_to(&l[1], 1);
    run_until_accepted(1, GIVE_UP_MS);
    ck_assert_int_eq(served(&l[0]), 1);
    ck_assert_int_eq(l[0].n_accepted, 3);
    ck_assert_int_eq(served(&l[1]), 1);
    stop_two(l);
}
END_TEST

/* A listener that goes (a cluster removed on reload) gives its reserve back:
 * the other, paused, serves more. */
START_TEST(listener_gone_gives_its_reserve_back)
{
    struct listener l[2];

    start_two(l, 100, 3);
    connect_to(&l[0], 3 + CLIENTS_FD_HEADROOM + 1);
    run_until_accepted(3 + CLIENTS_FD_HEADROOM + 1, QUIET_MS); /* one waits */
    ck_assert_int_eq(l[0].n_accepted, 3 + CLIENTS_FD_HEADROOM);
    listener_stop(&l[1]);
    run_until_accepted(1, GIVE_UP_MS);
    ck_assert_int_eq(l[0].n_accepted, 3 + CLIENTS_FD_HEADROOM + 1);
    ck_assert_msg(!l[0].accepted[3 + CLIENTS_FD_HEADROOM]->over_cap,
                  "the reserve of the listener gone did not serve the connection that waited");
    listener_stop(&l[0]);
    loop_free(loop);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        listeners_share_descriptors,    each_listener_answers_past_the_limit,
        release_resumes_every_listener, listener_gone_gives_its_reserve_back,
        max_connections_per_listener,   NULL};

    return unit_run(unit_suite("clients", tests));
}
