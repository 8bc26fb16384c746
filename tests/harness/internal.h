/* internal.h: what the harness's files share and tests do not see.
 *
 * The last-error buffer, spawning a program with chosen descriptors and
 * process group, and telling whether a PID has exited (also for processes
 * this process did not start, as in check's forked tests). */
#ifndef MLD_HARNESS_INTERNAL_H
#define MLD_HARNESS_INTERNAL_H

#include "harness.h"

#include <stdbool.h>
#include <sys/types.h>

/* Records a failure message for harness_error() and returns @code. */
int harness_set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the recorded message on stderr, prefixed with "harness: ". */
void harness_print_error(void);

/* How to start a program. */
struct harness_spawn {
    const char *path;  /* executable, with a '/' */
    char *const *argv; /* NULL-terminated */
    char *const *envp; /* NULL-terminated; NULL for our environment */
    const char *cwd;   /* or NULL */
    int stdin_fd;      /* descriptors for 0, 1, 2; all others are closed */
    int stdout_fd;
    int stderr_fd;
    bool new_session;     /* setsid() instead of a new process group */
    bool die_with_parent; /* SIGKILL when the starting thread exits */
};

/* Forks and executes; *ret_pid gets the child. Fails with the exec errno
 * when the program cannot be executed. */
int harness_spawn(const struct harness_spawn *sp, pid_t *ret_pid);

/* Resolves @name through PATH unless it contains a '/'; caller frees.
 * -ENOENT when not found. */
int harness_find_program(const char *name, char **ret);

/* Returns 1 when @pid has exited, 0 while it runs, -errno on failure. A
 * child of ours is reaped when @reap (*ret_status, may be NULL, gets its
 * wait status; -1 when unknown) and left a zombie otherwise; a process that
 * is not our child counts as exited when it is gone or a zombie. */
int harness_pid_exited(pid_t pid, bool reap, int *ret_status);

/* Polls harness_pid_exited() every 5 ms for up to @timeout_ms; 1 when it
 * exited, 0 on timeout, -errno on failure. */
int harness_pid_wait(pid_t pid, int timeout_ms, bool reap, int *ret_status);

/* The state letter of /proc/PID/stat ('R', 'S', 'T', 'Z'...), or 0 when the
 * process is gone. */
char harness_pid_state(pid_t pid);

/* Sends SIGSTOP (@stop) or SIGCONT and waits until every thread of @pid is
 * stopped, or the process no longer is; -ETIMEDOUT after @timeout_ms. */
int harness_freeze_pid(pid_t pid, bool stop, int timeout_ms);

/* A guard: a /bin/sh process in a session of its own holding one end of a
 * socket pair whose other end (@fd) this process and every process forked
 * from it hold. When all of them are gone without dismissing it (a crash, a
 * test killed by check's timeout, check's _exit() after a failed assertion),
 * it kills the processes whose PIDs are in "<dir>/<any>/pid" (when their
 * command line names <dir>) and removes <dir> (unless HARNESS_KEEP). */
struct harness_guard {
    int fd; /* -1 when none */
    pid_t pid;
    pid_t owner;
};

/* Starts a guard for @dir. */
int harness_guard_start(const char *dir, struct harness_guard *ret);

/* Tells the guard that all is cleaned up: it exits without doing anything. */
void harness_guard_dismiss(struct harness_guard *g);

/* Sleeps for @ms milliseconds (polling loops only). */
void harness_nap_ms(int ms);

/* harness_mkdtemp() in @parent. */
char *harness_mkdtemp_in(const char *parent, const char *prefix);

/* Returns the temporary directory to use ($TMPDIR or /tmp). */
const char *harness_tmpdir(void);

/* Returns whether HARNESS_KEEP asks to keep temporary directories. */
bool harness_keep(void);

#endif
