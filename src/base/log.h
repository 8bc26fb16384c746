/* log.h: the one logger of mesos-leaderd and mesos-leader.
 *
 * Lines go to stderr. When stderr is the journal (JOURNAL_STREAM names it),
 * each line carries a "<N>" priority prefix that journald understands;
 * otherwise each line starts with a timestamp and the level.
 *
 * Level policy (syslog priorities):
 *   LOG_ERR      the daemon cannot do what it was asked (startup fails, a
 *                connection to a client dies because of us);
 *   LOG_WARNING  behaviour differs from what the operator expects (no leader,
 *                ZooKeeper unreachable, a master answered garbage);
 *   LOG_NOTICE   normal but significant: leader changes, start, stop, reload;
 *   LOG_INFO     routine events (ZooKeeper session established);
 *   LOG_DEBUG    detail for developers (every request, every ZooKeeper reply).
 *
 * Library code returns errors; the caller logs once. User-controlled strings
 * are quoted. Thread-safe: each line is written with one write(2). */
#ifndef MLD_LOG_H
#define MLD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Sets the program name shown in each line and the highest priority logged. */
void log_init(const char *ident, int max_priority);

/* Changes the highest priority logged (LOG_ERR .. LOG_DEBUG). */
void log_set_max_priority(int max_priority);

/* Returns whether a message at @priority would be written. */
bool log_enabled(int priority);

/* Parses "error", "warning", "notice", "info" or "debug"; -EINVAL otherwise. */
int log_level_parse(const char *name, int *ret_priority);

/* Returns the name of a priority, as log_level_parse() accepts it. */
const char *log_level_name(int priority);

/* Writes one line at @priority. */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes one line at @priority from a va_list. */
void log_msgv(int priority, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_error(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                       \
    do {                                     \
        if (log_enabled(LOG_DEBUG))          \
            log_msg(LOG_DEBUG, __VA_ARGS__); \
    } while (0)

/* A rate limit for a message that may repeat: at most @burst lines per
 * @interval_ms; the first line after a quiet period says how many were
 * suppressed. Zero-initialise with LOG_RATELIMIT_INIT. */
struct log_ratelimit {
    uint64_t interval_ms;
    unsigned burst;
    uint64_t window_start_ms;
    unsigned printed;
    unsigned suppressed;
};

#define LOG_RATELIMIT_INIT(interval_ms_, burst_)         \
    {                                                    \
        .interval_ms = (interval_ms_), .burst = (burst_) \
    }

/* Writes one line unless @rl has used up its burst in this interval. Not
 * thread-safe per @rl: each limit belongs to one thread. */
void log_ratelimited(struct log_ratelimit *rl, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
