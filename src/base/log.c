/* log.c: stderr logging with journald priority prefixes or timestamps. */
#include "config.h"

#include "base/log.h"
#include "base/timeutil.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "mesos-leaderd";
static atomic_int log_max_priority = LOG_INFO;
static bool log_to_journal;

static const char *const level_names[] = {
    [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "error",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* JOURNAL_STREAM is "device:inode" of the journal socket systemd connected
 * to our stderr; it is only trusted when stderr still is that socket. */
static bool stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, int max_priority)
{
    log_ident = ident;
    log_set_max_priority(max_priority);
    log_to_journal = stderr_is_journal();
}

void log_set_max_priority(int max_priority)
{
    if (max_priority < LOG_ERR)
        max_priority = LOG_ERR;
    if (max_priority > LOG_DEBUG)
        max_priority = LOG_DEBUG;
    atomic_store(&log_max_priority, max_priority);
}

bool log_enabled(int priority)
{
    return priority <= atomic_load(&log_max_priority);
}

int log_level_parse(const char *name, int *ret_priority)
{
    for (int p = LOG_ERR; p <= LOG_DEBUG; p++) {
        if (strcmp(name, level_names[p]) == 0) {
            *ret_priority = p;
            return 0;
        }
    }
    if (strcmp(name, "warn") == 0 || strcmp(name, "err") == 0) {
        *ret_priority = name[0] == 'w' ? LOG_WARNING : LOG_ERR;
        return 0;
    }
    return -EINVAL;
}

const char *log_level_name(int priority)
{
    if (priority < LOG_EMERG || priority > LOG_DEBUG)
        return "unknown";
    return level_names[priority];
}

/* Formats the line prefix into @buf; returns its length. */
static size_t format_prefix(char *buf, size_t size, int priority)
{
    struct timespec ts;
    struct tm tm;
    int n;

    if (log_to_journal)
        return (size_t)snprintf(buf, size, "<%d>", priority);

    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    n = snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s[%ld] %s: ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                 log_ident, (long)getpid(), level_names[priority]);
    return n < 0 ? 0 : (size_t)n;
}

void log_msgv(int priority, const char *fmt, va_list ap)
{
    char line[4096];
    size_t len;
    int n;
    int saved_errno = errno;

    if (!log_enabled(priority))
        return;
    if (priority < LOG_EMERG || priority > LOG_DEBUG)
        priority = LOG_ERR;
    len = format_prefix(line, sizeof(line), priority);
    if (len >= sizeof(line))
        len = 0;
    n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
    if (n < 0)
        n = 0;
    len += (size_t)n;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* Control characters from untrusted text must not forge log lines or
     * drive a terminal. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\n' || c == '\r')
            line[i] = ' ';
        else if ((c < 0x20 && c != '\t') || c == 0x7f)
            line[i] = '?';
    }
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0) {
        /* Nowhere left to report it. */
    }
    errno = saved_errno;
}

void log_msg(int priority, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_msgv(priority, fmt, ap);
    va_end(ap);
}

void log_ratelimited(struct log_ratelimit *rl, int priority, const char *fmt, ...)
{
    uint64_t now = time_now_ms();
    char text[3072];
    va_list ap;

    if (!log_enabled(priority))
        return;
    if (rl->window_start_ms == 0 || now - rl->window_start_ms >= rl->interval_ms) {
        rl->window_start_ms = now;
        rl->printed = 0;
    }
    if (rl->printed >= rl->burst) {
        rl->suppressed++;
        return;
    }
    rl->printed++;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (rl->suppressed > 0) {
        log_msg(priority, "%s (%u similar messages suppressed)", text, rl->suppressed);
        rl->suppressed = 0;
    } else {
        log_msg(priority, "%s", text);
    }
}
