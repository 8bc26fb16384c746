/* proc.c: child processes for tests (the daemon, stand-ins, shells) with
 * their output captured to files, waiting for lines and for exit, stopping,
 * and /proc probes for leak tests. */
#include "config.h"

#include "internal.h"
#include "base/mem.h"
#include "base/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_GRACE_MS 5000
#define EXIT_DUMP_BYTES  4096

extern char **environ;

struct proc {
    pid_t pid;
    pid_t owner; /* the process that started it */
    char *dir;
    char *paths[3]; /* [PROC_STDOUT], [PROC_STDERR] */
    size_t marks[3];
    char *name;
    bool reaped;
    int status;
    int grace_ms;
    struct proc *next; /* in the registry */
};

/* Every live proc of this process (and the ones inherited over fork). */
static struct proc *registry;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

/* The directory holding every proc's captured output, with a guard that
 * removes it when no process that could use it is left (check _exit()s a
 * test whose assertion failed, so atexit handlers cannot be relied on). */
static char *root;
static pid_t root_owner;
static struct harness_guard root_guard = {.fd = -1};

static void remove_dir(struct proc *p)
{
    if (harness_keep())
        fprintf(stderr, "harness: kept the output of %s (pid %d) in %s\n", p->name, (int)p->pid,
                p->dir);
    else
        harness_rm_rf(p->dir);
}

/* Prints the end of a process's stderr: why a test failed is often there. */
static void dump_stderr_tail(const struct proc *p)
{
    char *text = NULL;
    size_t len = 0, from;

    if (harness_read_file(p->paths[PROC_STDERR], &text, &len) < 0 || len == 0) {
        free(text);
        return;
    }
    from = len > EXIT_DUMP_BYTES ? len - EXIT_DUMP_BYTES : 0;
    fprintf(stderr, "harness: %s (pid %d) was still running at exit; its stderr%s:\n%s%s", p->name,
            (int)p->pid, from ? " ends with" : " was", text + from,
            text[len - 1] == '\n' ? "" : "\n");
    free(text);
}

/* At exit, kill what this process started and did not stop. */
static void cleanup_at_exit(void)
{
    pid_t self = getpid();

    pthread_mutex_lock(&registry_lock);
    for (struct proc *p = registry; p; p = p->next) {
        if (p->owner != self || p->reaped)
            continue;
        dump_stderr_tail(p);
        killpg(p->pid, SIGKILL);
        kill(p->pid, SIGKILL);
        harness_pid_wait(p->pid, 2000, true, NULL);
        remove_dir(p);
    }
    if (root && root_owner == self) {
        harness_guard_dismiss(&root_guard);
        if (!harness_keep())
            harness_rm_rf(root);
    }
    pthread_mutex_unlock(&registry_lock);
}

static void register_atexit(void)
{
    atexit(cleanup_at_exit);
}

/* Returns the directory for captured output, creating it on first use. */
static const char *output_root(void)
{
    const char *r;

    pthread_once(&atexit_once, register_atexit);
    pthread_mutex_lock(&registry_lock);
    if (!root) {
        root = harness_mkdtemp("harness-procs");
        if (root && harness_guard_start(root, &root_guard) < 0) {
            harness_rm_rf(root);
            freep(&root);
        }
        if (root && harness_keep())
            fprintf(stderr, "harness: keeping the output of processes in %s\n", root);
        root_owner = getpid();
    }
    r = root;
    pthread_mutex_unlock(&registry_lock);
    return r;
}

static void registry_add(struct proc *p)
{
    pthread_mutex_lock(&registry_lock);
    p->next = registry;
    registry = p;
    pthread_mutex_unlock(&registry_lock);
}

static void registry_remove(struct proc *p)
{
    pthread_mutex_lock(&registry_lock);
    for (struct proc **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

/* Our environment (unless @clear) with @extra's KEY=VALUE entries on top. */
static char **build_env(const char *const extra[], bool clear)
{
    size_t n = 0, n_extra = 0, k = 0;
    char **env;

    while (extra && extra[n_extra])
        n_extra++;
    while (!clear && environ[n])
        n++;
    env = xcalloc(n + n_extra + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t keylen = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        bool overridden = false;
        for (size_t j = 0; j < n_extra && !overridden; j++)
            overridden = strncmp(extra[j], environ[i], keylen) == 0;
        if (!overridden)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < n_extra; j++)
        env[k++] = (char *)extra[j];
    return env;
}

static void proc_free(struct proc *p)
{
    free(p->dir);
    free(p->paths[PROC_STDOUT]);
    free(p->paths[PROC_STDERR]);
    free(p->name);
    free(p);
}

static int open_capture(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);

    if (fd < 0)
        return harness_set_error(-errno, "cannot create '%s': %s", path, strerror(errno));
    return fd;
}

/* Opens the descriptors and spawns; the caller owns @p's paths. */
static int spawn_proc(struct proc *p, const char *const argv[], char **env,
                      const struct proc_options *opt)
{
    struct harness_spawn sp = {.argv = (char *const *)argv,
                               .envp = env,
                               .cwd = opt ? opt->cwd : NULL,
                               .die_with_parent = true};
    const char *in = opt && opt->stdin_path ? opt->stdin_path : "/dev/null";
    char *path = NULL;
    int r;

    sp.stdin_fd = open(in, O_RDONLY | O_CLOEXEC);
    sp.stdout_fd = open_capture(p->paths[PROC_STDOUT]);
    sp.stderr_fd = open_capture(p->paths[PROC_STDERR]);
    if (sp.stdin_fd < 0)
        r = harness_set_error(-errno, "cannot open '%s': %s", in, strerror(errno));
    else if (sp.stdout_fd < 0 || sp.stderr_fd < 0)
        r = sp.stdout_fd < 0 ? sp.stdout_fd : sp.stderr_fd;
    else if ((r = harness_find_program(argv[0], &path)) == 0) {
        sp.path = path;
        r = harness_spawn(&sp, &p->pid);
    }
    free(path);
    for (int fd = 0; fd < 3; fd++) {
        int f = fd == 0 ? sp.stdin_fd : fd == 1 ? sp.stdout_fd : sp.stderr_fd;
        if (f >= 0)
            close(f);
    }
    return r;
}

struct proc *proc_start(const char *const argv[], const char *const env[],
                        const struct proc_options *opt)
{
    struct proc *p;
    char **envp;
    const char *base, *dir_root;
    int r;

    if (!argv || !argv[0]) {
        harness_set_error(-EINVAL, "proc_start: no program given");
        harness_print_error();
        return NULL;
    }
    p = xnew(struct proc);
    base = strrchr(argv[0], '/');
    p->name = xstrdup(base ? base + 1 : argv[0]);
    p->owner = getpid();
    p->grace_ms = opt && opt->stop_grace_ms > 0 ? opt->stop_grace_ms : DEFAULT_GRACE_MS;
    dir_root = output_root();
    p->dir = dir_root ? harness_mkdtemp_in(dir_root, "proc") : NULL;
    if (!p->dir) {
        harness_print_error();
        proc_free(p);
        return NULL;
    }
    p->paths[PROC_STDOUT] = xasprintf("%s/stdout", p->dir);
    p->paths[PROC_STDERR] = xasprintf("%s/stderr", p->dir);
    envp = build_env(env, opt && opt->clear_env);
    r = spawn_proc(p, argv, envp, opt);
    free(envp);
    if (r < 0) {
        harness_print_error();
        harness_rm_rf(p->dir);
        proc_free(p);
        return NULL;
    }
    registry_add(p);
    return p;
}

pid_t proc_pid(const struct proc *p)
{
    return p->pid;
}

const char *proc_output_path(const struct proc *p, enum proc_stream which)
{
    return p->paths[which == PROC_STDERR ? PROC_STDERR : PROC_STDOUT];
}

char *proc_output(const struct proc *p, enum proc_stream which)
{
    char *text;

    if (harness_read_file(proc_output_path(p, which), &text, NULL) < 0)
        return xstrdup("");
    return text;
}

static off_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) < 0 ? 0 : st.st_size;
}

void proc_output_mark(struct proc *p, enum proc_stream which)
{
    which = which == PROC_STDERR ? PROC_STDERR : PROC_STDOUT;
    p->marks[which] = (size_t)file_size(p->paths[which]);
}

/* Reads @path from @offset to its end; NULL when there is nothing new. */
static char *read_from(const char *path, size_t offset, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    ssize_t n = 0;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size > offset) {
        size_t want = (size_t)st.st_size - offset;
        buf = xmalloc(want + 1);
        n = pread(fd, buf, want, (off_t)offset);
        if (n <= 0) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    close(fd);
    *ret_len = n > 0 ? (size_t)n : 0;
    return buf;
}

/* Looks for @needle in the lines of @buf: complete lines only, unless
 * @final (the process exited, its last line may lack a newline). */
static bool find_line(const char *buf, size_t len, const char *needle, bool final, char **ret_line)
{
    size_t start = 0, nlen = strlen(needle);

    while (start < len) {
        const char *nl = memchr(buf + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - buf) : len;
        if (!nl && !final)
            break;
        if (memmem(buf + start, end - start, needle, nlen)) {
            if (ret_line)
                *ret_line = xstrndup(buf + start, end - start);
            return true;
        }
        start = end + 1;
    }
    return false;
}

/* The length of @buf up to and including its last newline. */
static size_t complete_lines_len(const char *buf, size_t len)
{
    while (len > 0 && buf[len - 1] != '\n')
        len--;
    return len;
}

int proc_wait_output(struct proc *p, enum proc_stream which, const char *needle, int timeout_ms,
                     char **ret_line)
{
    uint64_t deadline = time_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    size_t offset;

    which = which == PROC_STDERR ? PROC_STDERR : PROC_STDOUT;
    offset = p->marks[which];
    for (;;) {
        /* Whether it exited is asked first: what it wrote before is then all there. */
        bool exited = p->reaped || harness_pid_exited(p->pid, false, NULL) != 0;
        size_t len;
        char *buf = read_from(p->paths[which], offset, &len);
        bool found = buf && find_line(buf, len, needle, exited, ret_line);

        if (buf && !found)
            offset += complete_lines_len(buf, len); /* looked at: skip next time */
        free(buf);
        if (found)
            return 0;
        if (exited)
            return harness_set_error(-ESRCH, "%s (pid %d) exited without writing '%s'", p->name,
                                     (int)p->pid, needle);
        if (time_now_ms() >= deadline)
            return harness_set_error(-ETIMEDOUT, "%s (pid %d) did not write '%s' in %d ms", p->name,
                                     (int)p->pid, needle, timeout_ms);
        harness_nap_ms(5);
    }
}

int proc_signal(struct proc *p, int sig)
{
    if (p->reaped)
        return -ESRCH;
    if (kill(p->pid, sig) < 0)
        return -errno;
    return 0;
}

int proc_pause(struct proc *p)
{
    return p->reaped ? -ESRCH : harness_freeze_pid(p->pid, true, 5000);
}

int proc_resume(struct proc *p)
{
    return p->reaped ? -ESRCH : harness_freeze_pid(p->pid, false, 5000);
}

bool proc_running(struct proc *p)
{
    return !p->reaped && harness_pid_exited(p->pid, false, NULL) == 0;
}

int proc_wait_exit(struct proc *p, int timeout_ms, int *ret_status)
{
    int status = -1, r;

    if (!p->reaped) {
        r = harness_pid_wait(p->pid, timeout_ms, true, &status);
        if (r < 0)
            return r;
        if (r == 0)
            return harness_set_error(-ETIMEDOUT, "%s (pid %d) did not exit in %d ms", p->name,
                                     (int)p->pid, timeout_ms);
        if (status == -1)
            return -ECHILD;
        p->reaped = true;
        p->status = status;
    }
    if (ret_status)
        *ret_status = p->status;
    return 0;
}

int proc_stop(struct proc *p)
{
    int r;

    if (!p)
        return 0;
    if (!p->reaped) {
        if (harness_pid_exited(p->pid, false, NULL) == 0) {
            kill(p->pid, SIGTERM);
            kill(p->pid, SIGCONT); /* a stopped process cannot act on SIGTERM */
            harness_pid_wait(p->pid, p->grace_ms, false, NULL);
        }
        /* Not reaped yet, so the group ID cannot have been reused. */
        killpg(p->pid, SIGKILL);
    }
    r = proc_wait_exit(p, 10000, NULL);
    if (r == 0)
        r = p->status;
    registry_remove(p);
    remove_dir(p);
    proc_free(p);
    return r;
}

int proc_fd_count(pid_t pid)
{
    char path[64];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    if (!d)
        return harness_set_error(-errno, "cannot list '%s': %s", path, strerror(errno));
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

long proc_rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -ENOENT;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return harness_set_error(-errno, "cannot open '%s': %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}
