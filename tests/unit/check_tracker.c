/* check_tracker.c: unit tests of the tracker that need no ZooKeeper: when
 * its thread cannot start, tracker_start() fails and keeps nothing. */
#include "config.h"

#include "base/mem.h"
#include "zk/tracker.h"

#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define WARMUP   50
#define ATTEMPTS 200

/* What a previous tracker knew: two masters, both read and decoded; a new
 * tracker copies all of it. */
static struct leader_snapshot *seed_of_two(void)
{
    struct leader_snapshot *s = leader_snapshot_new();

    s->state = LEADER_KNOWN;
    s->znode = xstrdup("json.info_0000000001");
    s->masters = xcalloc(2, sizeof(*s->masters));
    s->n_masters = 2;
    for (int i = 0; i < 2; i++) {
        struct leader_master *m = &s->masters[i];
        m->znode = xasprintf("json.info_000000000%d", i + 1);
        m->sequence = i + 1;
        m->read = m->decoded = m->has_endpoint = true;
        m->info.id = xasprintf("master-%d-with-a-long-enough-id-to-be-seen", i);
        m->info.hostname = xstrdup("m.example");
        m->info.pid = xstrdup("master@10.0.0.1:5050");
        m->error = xstrdup("kept from before");
        snprintf(m->endpoint.host, sizeof(m->endpoint.host), "10.0.0.%d", i + 1);
        m->endpoint.port = 5050;
    }
    return s;
}

/* Threads get a stack no mmap() can provide: pthread_create() fails with
 * EAGAIN, as when the process runs out of threads or memory. */
static void make_thread_creation_fail(void)
{
    pthread_attr_t attr;

    pthread_attr_init(&attr);
    ck_assert_int_eq(pthread_attr_setstacksize(&attr, (size_t)1 << 62), 0);
    ck_assert_int_eq(pthread_setattr_default_np(&attr), 0);
    pthread_attr_destroy(&attr);
}

START_TEST(failed_thread_start_frees_what_it_copied)
{
    char hosts[] = "127.0.0.1:1", path[] = "/mesos", credentials[] = "u:p";
    struct zkurl url = {.hosts = hosts, .path = path, .credentials = credentials};
    struct leader_snapshot *seed = seed_of_two();
    struct tracker_config cfg = {.url = &url, .seed = seed};
    struct leader_store *store = leader_store_new();
    struct tracker *t = NULL;
    struct mallinfo2 before, after;

    int refused = 0, saved_stderr = dup(STDERR_FILENO), devnull = open("/dev/null", O_WRONLY);

    make_thread_creation_fail();
    ck_assert_int_eq(tracker_start(&cfg, store, &t), -EAGAIN); /* logs why, once */
    ck_assert_ptr_null(t);
    dup2(devnull, STDERR_FILENO); /* not 200 times more */
    /* Freed chunks kept in glibc's per-thread cache count as in use: let the
     * cache fill up before measuring. */
    for (int i = 0; i < WARMUP; i++)
        refused += tracker_start(&cfg, store, &t) == -EAGAIN;
    before = mallinfo2();
    for (int i = 0; i < ATTEMPTS; i++)
        refused += tracker_start(&cfg, store, &t) == -EAGAIN; /* check's asserts allocate */
    after = mallinfo2();
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(devnull);
    ck_assert_int_eq(refused, WARMUP + ATTEMPTS);
    /* Each attempt copies the URL and both masters (well over 200 bytes):
     * the heap in use must not grow by 200 attempts' worth of them. */
    ck_assert_msg(after.uordblks <= before.uordblks + 1024,
                  "the heap grew by %zu bytes over %d failed starts",
                  after.uordblks - before.uordblks, ATTEMPTS);
    leader_snapshot_unref(seed);
    leader_store_free(store);
}
END_TEST

START_TEST(stop_of_nothing)
{
    tracker_stop(NULL);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {failed_thread_start_frees_what_it_copied, stop_of_nothing, NULL};

    return unit_run(unit_suite("tracker", tests));
}
