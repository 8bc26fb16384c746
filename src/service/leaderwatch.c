/* leaderwatch.c: mesos-leader's work: the leader printed once, or a line
 * or a command run at every change (--watch, --exec).
 *
 * Once, it waits on the store until a settled snapshot names a leader or
 * the timeout passes. Watching is one thread: it polls the store's eventfd
 * (a new snapshot) and a signalfd (SIGINT, SIGTERM, SIGCHLD). The command
 * (--exec) runs one at a time: a change that comes while it runs marks a
 * run as pending, and when it ends it runs once more if the leader differs
 * from what the last run was given, so that any number of changes during
 * one run make one later run. */
#include "config.h"

#include "service/leaderwatch.h"
#include "base/mem.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "zk/report.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct watcher {
    const struct leaderwatch_options *o;
    struct leader_store *store;
    int signal_fd;
    char *shown;     /* what identifies the last line printed */
    char *given;     /* MESOS_LEADER and MESOS_LEADER_JSON of the last run */
    pid_t child;     /* the command while it runs, else 0 */
    bool pending;    /* a change came while it ran */
    int stop_signal; /* SIGINT or SIGTERM once received */
    int status;      /* the exit status when it is not 0 */
};

int leaderwatch_block_signals(void)
{
    sigset_t set;
    int r, fd;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    r = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (r != 0)
        return -r;
    fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* --- what is printed and what a run is given ------------------------------- */

static void members_text(const struct leader_snapshot *s, struct strbuf *out)
{
    struct strbuf lines = {0};

    report_masters_text(s, &lines);
    for (size_t i = 0; i < lines.len; i++) {
        if (lines.data[i] != '\n')
            strbuf_append(out, &lines.data[i], 1);
        else if (i + 1 < lines.len)
            strbuf_puts(out, "; ");
    }
    strbuf_done(&lines);
}

/* The line for @s (without its newline): "host:port" or "no leader: why";
 * with @json the leader's MasterInfo or "null"; with @all the members in
 * election order ("; "-separated text, or a JSON array). */
static void leader_line(const struct leader_snapshot *s, bool all, bool json, struct strbuf *out)
{
    char *info;

    if (all && json) {
        report_masters_json(s, out);
    } else if (all && s->n_masters > 0) {
        members_text(s, out);
    } else if (s->state == LEADER_KNOWN && json) {
        info = masterinfo_to_json(&s->info);
        strbuf_puts(out, info);
        free(info);
    } else if (s->state == LEADER_KNOWN) {
        strbuf_puts(out, s->address);
    } else if (json) {
        strbuf_puts(out, "null");
    } else {
        strbuf_printf(out, "no leader: %s", s->reason ? s->reason : "unknown");
    }
}

/* Prints the line for @s unless it says what the last one said: without
 * --all, a line without a leader is the same as the last such line
 * whatever its reason. */
static void show(struct watcher *w, const struct leader_snapshot *s)
{
    struct strbuf line = {0};
    const char *key;

    leader_line(s, w->o->all, w->o->json, &line);
    key = w->o->all || s->state == LEADER_KNOWN ? line.data : "";
    if (!w->shown || strcmp(w->shown, key) != 0) {
        printf("%s\n", line.data);
        if (fflush(stdout) != 0) {
            fprintf(stderr, "mesos-leader: cannot write to standard output: %m\n");
            w->status = EXIT_FAILURE;
        }
        free(w->shown);
        w->shown = xstrdup(key);
    }
    strbuf_done(&line);
}

/* --- the command ------------------------------------------------------------ */

/* Our environment without MESOS_LEADER and MESOS_LEADER_JSON, plus both as
 * given; the last two entries are new strings. */
static char **command_env(const char *leader, const char *json)
{
    size_t n = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    env = xcalloc(n + 3, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "MESOS_LEADER=", 13) != 0 &&
            strncmp(environ[i], "MESOS_LEADER_JSON=", 18) != 0)
            env[k++] = environ[i];
    }
    env[k++] = xasprintf("MESOS_LEADER=%s", leader);
    env[k] = xasprintf("MESOS_LEADER_JSON=%s", json);
    return env;
}

/* Starts the command with our descriptors 0-2 only, default signal
 * handling and no signal blocked. */
static int spawn(char *const argv[], char *const env[], pid_t *ret_pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    int r;

    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGCHLD);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    r = posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return -r;
}

/* Runs the command with @key ("MESOS_LEADER\nMESOS_LEADER_JSON", taken
 * over). */
static void run(struct watcher *w, char *key)
{
    const char *json = strchr(key, '\n') + 1;
    char *leader = xstrndup(key, (size_t)(json - key - 1));
    char **env = command_env(leader, json);
    size_t n = 0;
    int r;

    r = spawn(w->o->exec_argv, env, &w->child);
    if (r < 0) {
        fprintf(stderr, "mesos-leader: cannot run '%s': %s\n", w->o->exec_argv[0], strerror(-r));
        w->status = EXIT_FAILURE;
        w->child = 0;
    }
    while (env[n])
        n++;
    free(env[n - 1]);
    free(env[n - 2]);
    free(env);
    free(leader);
    free(w->given);
    w->given = key;
}

/* "host:port\nJSON" for @s: what a run is given ("\nnull" without a leader). */
static char *run_key(const struct leader_snapshot *s)
{
    char *json, *key;

    if (s->state != LEADER_KNOWN)
        return xstrdup("\nnull");
    json = masterinfo_to_json(&s->info);
    key = xasprintf("%s\n%s", s->address, json);
    free(json);
    return key;
}

/* Runs the command for @s now, later (one is running), or not at all (the
 * last run was given the same). */
static void run_if_changed(struct watcher *w, const struct leader_snapshot *s)
{
    char *key = run_key(s);

    if (w->given && strcmp(w->given, key) == 0) {
        free(key);
        return;
    }
    if (w->child) {
        w->pending = true;
        free(key);
        return;
    }
    run(w, key);
}

static void handle(struct watcher *w, const struct leader_snapshot *s)
{
    if (s->session == ZK_SESSION_AUTH_FAILED) {
        fprintf(stderr, "mesos-leader: ZooKeeper refused the credentials in the URL\n");
        w->status = EXIT_FAILURE;
    } else if (w->o->exec_argv) {
        run_if_changed(w, s);
    } else {
        show(w, s);
    }
}

/* The command ended: say how if it failed; run it again if a change came. */
static void reap(struct watcher *w)
{
    const struct leader_snapshot *s;
    int st;

    if (!w->child || waitpid(w->child, &st, WNOHANG) != w->child)
        return;
    w->child = 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        fprintf(stderr, "mesos-leader: '%s' exited with status %d\n", w->o->exec_argv[0],
                WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        fprintf(stderr, "mesos-leader: '%s' was killed by signal %d\n", w->o->exec_argv[0],
                WTERMSIG(st));
    if (!w->pending || w->stop_signal)
        return;
    w->pending = false;
    s = leader_store_get(w->store);
    if (s->settled)
        handle(w, s);
    else
        w->pending = true; /* the next settled snapshot runs it */
    leader_snapshot_unref(s);
}

/* --- the loop --------------------------------------------------------------- */

/* Waits up to @timeout_ms (-1: no limit) for a snapshot or a signal and
 * handles the signals. */
static void wait_event(struct watcher *w, int timeout_ms)
{
    struct pollfd fds[2] = {{.fd = leader_store_eventfd(w->store), .events = POLLIN},
                            {.fd = w->signal_fd, .events = POLLIN}};
    struct signalfd_siginfo si;
    uint64_t count;

    if (poll(fds, 2, timeout_ms) <= 0)
        return;
    if (fds[0].revents && read(fds[0].fd, &count, sizeof(count)) < 0) {
        /* Nothing to reset: another reader got there first. */
    }
    while (read(w->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGCHLD)
            reap(w);
        else if (!w->stop_signal)
            w->stop_signal = (int)si.ssi_signo;
    }
}

/* The first snapshot that says something: settled, refused, or the one at
 * the deadline. NULL when a signal came first. */
static const struct leader_snapshot *wait_first(struct watcher *w)
{
    uint64_t deadline = time_now_ms() + (uint64_t)w->o->timeout_ms;

    for (;;) {
        const struct leader_snapshot *s = leader_store_get(w->store);
        uint64_t now = time_now_ms();
        if (s->settled || s->session == ZK_SESSION_AUTH_FAILED || now >= deadline)
            return s;
        leader_snapshot_unref(s);
        wait_event(w, (int)(deadline - now));
        if (w->stop_signal)
            return NULL;
    }
}

/* No session: never one (whatever the settling), or none yet and not settled. */
static bool cannot_connect(const struct leader_snapshot *s)
{
    return s->session == ZK_SESSION_NEVER_CONNECTED ||
           (s->session != ZK_SESSION_CONNECTED && s->session != ZK_SESSION_AUTH_FAILED &&
            !s->settled);
}

static void say_cannot_connect(const struct leader_snapshot *s, const struct leaderwatch_options *o)
{
    fprintf(stderr, "mesos-leader: cannot connect to ZooKeeper at %s within %.1f s (%s)\n",
            s->zk_url ? s->zk_url : o->url, o->timeout_ms / 1000.0,
            s->reason ? s->reason : "unknown");
}

static bool first_failed(struct watcher *w, const struct leader_snapshot *s)
{
    if (!cannot_connect(s))
        return false;
    say_cannot_connect(s, w->o);
    w->status = EXIT_FAILURE;
    return true;
}

/* Stops a command still running (with the signal we got) and waits for it. */
static void finish(struct watcher *w)
{
    if (w->child) {
        kill(w->child, w->stop_signal ? w->stop_signal : SIGTERM);
        waitpid(w->child, NULL, 0);
    }
    free(w->shown);
    free(w->given);
}

int leaderwatch_run(struct leader_store *store, int signal_fd, const struct leaderwatch_options *o)
{
    struct watcher w = {.o = o, .store = store, .signal_fd = signal_fd};
    const struct leader_snapshot *s = wait_first(&w);

    if (s && !first_failed(&w, s))
        handle(&w, s);
    leader_snapshot_unref(s);
    while (!w.stop_signal && w.status == 0) {
        wait_event(&w, -1);
        s = leader_store_get(store);
        if (s->settled || s->session == ZK_SESSION_AUTH_FAILED)
            handle(&w, s);
        leader_snapshot_unref(s);
    }
    finish(&w);
    return w.status;
}

/* --- once ---------------------------------------------------------------------- */

/* Waits until a settled snapshot names a leader, or the deadline passes. */
static const struct leader_snapshot *wait_for_leader(struct leader_store *store, int timeout_ms)
{
    uint64_t deadline = time_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        const struct leader_snapshot *s = leader_store_get(store);
        uint64_t now = time_now_ms();
        if ((s->state == LEADER_KNOWN && s->settled) || s->session == ZK_SESSION_AUTH_FAILED ||
            now >= deadline)
            return s;
        uint64_t gen = s->generation;
        leader_snapshot_unref(s);
        leader_store_wait(store, gen, (int)(deadline - now));
    }
}

static void print_result(const struct leaderwatch_options *o, const struct leader_snapshot *s)
{
    struct strbuf out = {0};

    if (o->all && !o->json) {
        report_masters_text(s, &out);
    } else {
        leader_line(s, o->all, o->json, &out);
        strbuf_puts(&out, "\n");
    }
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    strbuf_done(&out);
}

static int report_failure(const struct leaderwatch_options *o, const struct leader_snapshot *s)
{
    if (s->session == ZK_SESSION_AUTH_FAILED) {
        fprintf(stderr, "mesos-leader: ZooKeeper refused the credentials in the URL\n");
        return EXIT_FAILURE;
    }
    if (cannot_connect(s)) {
        say_cannot_connect(s, o);
        return EXIT_FAILURE;
    }
    if (o->all)
        print_result(o, s);
    fprintf(stderr, "mesos-leader: no leader within %.1f s: %s\n", o->timeout_ms / 1000.0,
            s->reason ? s->reason : "unknown");
    return LEADERWATCH_EXIT_NO_LEADER;
}

int leaderwatch_once(struct leader_store *store, const struct leaderwatch_options *o)
{
    const struct leader_snapshot *s = wait_for_leader(store, o->timeout_ms);
    int status;

    /* A leader known at the deadline is printed even if some standby's data
     * could not be read yet (--all marks it "unread"). */
    if (s->state == LEADER_KNOWN) {
        print_result(o, s);
        status = EXIT_SUCCESS;
    } else {
        status = report_failure(o, s);
    }
    leader_snapshot_unref(s);
    return status;
}
