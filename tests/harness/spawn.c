/* spawn.c: starting programs with chosen descriptors, process group and
 * death signal, and telling whether a PID has exited, also for processes
 * this process did not start (a check test forked after they were). */
#include "config.h"

#include "internal.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int harness_find_program(const char *name, char **ret)
{
    const char *path = getenv("PATH");
    char *copy, *dir, *save = NULL;

    if (strchr(name, '/')) {
        *ret = xstrdup(name);
        return 0;
    }
    copy = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *candidate = xasprintf("%s/%s", *dir ? dir : ".", name);
        if (access(candidate, X_OK) == 0) {
            free(copy);
            *ret = candidate;
            return 0;
        }
        free(candidate);
    }
    free(copy);
    return harness_set_error(-ENOENT, "'%s' is not in PATH", name);
}

/* Makes @from the descriptor @to, open across exec. */
static int move_fd(int from, int to)
{
    if (from == to)
        return fcntl(to, F_SETFD, 0);
    return dup2(from, to);
}

/* Runs in the child between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn))
child_exec(const struct harness_spawn *sp, pid_t parent, int err_fd)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigset_t none;
    int e;

    if (sp->new_session)
        setsid();
    else
        setpgid(0, 0);
    if (sp->die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
    }
    /* Ignored signals and the mask survive exec: start from defaults. */
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if ((sp->cwd && chdir(sp->cwd) < 0) || move_fd(sp->stdin_fd, 0) < 0 ||
        move_fd(sp->stdout_fd, 1) < 0 || move_fd(sp->stderr_fd, 2) < 0)
        goto fail;
    /* Nothing of ours leaks into the program but the exec-error pipe, which
     * closes on exec. */
    if (err_fd > 3)
        close_range(3, (unsigned)err_fd - 1, 0);
    close_range((unsigned)err_fd + 1, ~0u, 0);
    execve(sp->path, sp->argv, sp->envp ? sp->envp : environ);
fail:
    e = errno;
    if (write(err_fd, &e, sizeof(e)) < 0) {
        /* The parent sees the exit code instead. */
    }
    _exit(127);
}

int harness_spawn(const struct harness_spawn *sp, pid_t *ret_pid)
{
    pid_t parent = getpid(), pid;
    int pipefd[2], e = 0, status;
    ssize_t n;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return harness_set_error(-errno, "pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0) {
        e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return harness_set_error(-e, "fork: %s", strerror(e));
    }
    if (pid == 0)
        child_exec(sp, parent, pipefd[1]);
    close(pipefd[1]);
    if (!sp->new_session)
        setpgid(pid, pid); /* also here, so that it holds before we return */
    do {
        n = read(pipefd[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof(e)) {
        waitpid(pid, &status, 0);
        return harness_set_error(-e, "cannot execute '%s': %s", sp->path, strerror(e));
    }
    *ret_pid = pid;
    return 0;
}

/* The state letter in /proc/PID/stat, or /proc/PID/task/TID/stat when @tid
 * is given; 0 when gone. */
static char thread_state(pid_t pid, const char *tid)
{
    char path[96], buf[512], *paren;
    FILE *f;
    size_t n;

    if (tid)
        snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
    else
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    paren = strrchr(buf, ')'); /* the command name may hold anything */
    if (!paren || paren[1] != ' ')
        return 0;
    return paren[2];
}

char harness_pid_state(pid_t pid)
{
    return thread_state(pid, NULL);
}

/* Whether every thread of @pid is stopped (state 'T' or 't'); a group stop
 * reaches the threads one by one. */
static bool all_threads_stopped(pid_t pid)
{
    char path[64];
    DIR *dir;
    struct dirent *e;
    bool stopped = true, any = false;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    dir = opendir(path);
    if (!dir)
        return false;
    while (stopped && (e = readdir(dir))) {
        char state;

        if (e->d_name[0] == '.')
            continue;
        state = thread_state(pid, e->d_name);
        any = true;
        stopped = state == 'T' || state == 't';
    }
    closedir(dir);
    return any && stopped;
}

int harness_freeze_pid(pid_t pid, bool stop, int timeout_ms)
{
    uint64_t deadline = time_now_ms() + (uint64_t)timeout_ms;

    if (kill(pid, stop ? SIGSTOP : SIGCONT) < 0)
        return harness_set_error(-errno, "cannot signal process %d: %s", (int)pid, strerror(errno));
    while (stop ? !all_threads_stopped(pid) : harness_pid_state(pid) == 'T') {
        if (time_now_ms() >= deadline)
            return harness_set_error(-ETIMEDOUT, "process %d did not %s", (int)pid,
                                     stop ? "stop" : "continue");
        harness_nap_ms(2);
    }
    return 0;
}

int harness_pid_exited(pid_t pid, bool reap, int *ret_status)
{
    char state;

    if (pid <= 0)
        return -EINVAL;
    if (reap) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (ret_status)
                *ret_status = status;
            return 1;
        }
        if (r == 0)
            return 0;
        if (errno != ECHILD)
            return -errno;
    } else {
        siginfo_t si = {0};
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
            return si.si_pid == pid ? 1 : 0;
        if (errno != ECHILD)
            return -errno;
    }
    /* Not our child: gone, or a zombie its parent has not reaped yet. */
    state = harness_pid_state(pid);
    if (ret_status)
        *ret_status = -1;
    return state == 0 || state == 'Z' || state == 'X' ? 1 : 0;
}

int harness_pid_wait(pid_t pid, int timeout_ms, bool reap, int *ret_status)
{
    uint64_t deadline = time_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    for (;;) {
        int r = harness_pid_exited(pid, reap, ret_status);
        if (r != 0)
            return r;
        if (time_now_ms() >= deadline)
            return 0;
        harness_nap_ms(5);
    }
}

/* Waits for EOF unless told "done" first; then kills and removes (see
 * internal.h). $2 is "keep" to leave the directory. */
static const char guard_script[] = "dir=$1\n"
                                   "read -r msg && [ \"$msg\" = done ] && exit 0\n"
                                   "alive() {\n"
                                   "  pid=$(cat \"$1\" 2>/dev/null) || return 1\n"
                                   "  case $(tr '\\0' ' ' </proc/\"$pid\"/cmdline 2>/dev/null) in\n"
                                   "  *\"$dir\"/*) return 0 ;;\n"
                                   "  esac\n"
                                   "  return 1\n"
                                   "}\n"
                                   "for f in \"$dir\"/*/pid; do\n"
                                   "  alive \"$f\" && kill -9 \"$pid\" 2>/dev/null\n"
                                   "done\n"
                                   "i=0\n"
                                   "while [ $i -lt 100 ]; do\n"
                                   "  n=0\n"
                                   "  for f in \"$dir\"/*/pid; do alive \"$f\" && n=1; done\n"
                                   "  [ $n = 0 ] && break\n"
                                   "  sleep 0.05; i=$((i+1))\n"
                                   "done\n"
                                   "[ \"$2\" = keep ] || rm -rf \"$dir\"\n";

int harness_guard_start(const char *dir, struct harness_guard *ret)
{
    const char *argv[] = {
        "sh", "-c", guard_script, "harness-guard", dir, harness_keep() ? "keep" : "remove", NULL};
    struct harness_spawn sp = {.path = "/bin/sh", .argv = (char *const *)argv, .new_session = true};
    int sv[2], r;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return harness_set_error(-errno, "socketpair: %s", strerror(errno));
    sp.stdin_fd = sv[1];
    sp.stdout_fd = sp.stderr_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    r = sp.stdout_fd < 0 ? harness_set_error(-errno, "/dev/null: %s", strerror(errno))
                         : harness_spawn(&sp, &ret->pid);
    if (sp.stdout_fd >= 0)
        close(sp.stdout_fd);
    close(sv[1]);
    if (r < 0) {
        close(sv[0]);
        return r;
    }
    ret->fd = sv[0];
    ret->owner = getpid();
    return 0;
}

void harness_guard_dismiss(struct harness_guard *g)
{
    if (g->fd < 0)
        return;
    send(g->fd, "done\n", 5, MSG_NOSIGNAL); /* fails harmlessly if it is gone */
    close(g->fd);
    g->fd = -1;
    if (g->owner == getpid())
        harness_pid_wait(g->pid, 2000, true, NULL);
}
