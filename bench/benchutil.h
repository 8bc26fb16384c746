/* benchutil.h: small helpers shared by the benchmark programs under bench/:
 * the open-files limit, option parsing, HTTP header lookup and chunked
 * bodies, the SUBSCRIBE call, sleeping and deadlines, percentiles. Buffers,
 * allocation and clocks come from src/base. */
#ifndef MLD_BENCHUTIL_H
#define MLD_BENCHUTIL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Raises the RLIMIT_NOFILE soft limit to the hard limit; returns the new
 * soft limit. */
long bench_raise_nofile(void);

/* Parses "HOST:PORT" (an IPv4 literal or "localhost") into @ret; 0 or -EINVAL. */
int bench_parse_target(const char *text, struct sockaddr_in *ret);

/* Parses a decimal number in [0, @max] into @ret; 0 or -EINVAL. */
int bench_parse_ulong(const char *text, unsigned long max, unsigned long *ret);

/* Finds header @name (case-insensitive) in the header block @head of @len
 * bytes (the lines after the start line); returns its value and sets
 * @ret_len, or returns NULL. */
const char *bench_header(const char *head, size_t len, const char *name, size_t *ret_len);

/* Returns whether the @len bytes at @s contain @token, ignoring case. */
bool bench_contains_nocase(const char *s, size_t len, const char *token);

/* A SUBSCRIBE call as a scheduler sends it: "POST @path" to @host, the
 * framework named @name, with "Connection: close" when @close; returns the
 * request (free() it) and its length in @ret_len. */
char *bench_subscribe_request(const char *path, const char *host, const char *name, bool close,
                              size_t *ret_len);

/* Length of the complete chunked body at @p (@len bytes; trailers are not
 * expected), or 0 while it is incomplete. */
size_t bench_chunked_length(const char *p, size_t len);

/* Makes @fd non-blocking and, for TCP, disables Nagle; 0 or -errno. */
int bench_socket_setup(int fd);

/* Sleeps @ms milliseconds (again after a signal). */
void bench_sleep_ms(unsigned long ms);

/* Sets @ts to @ms milliseconds from now on CLOCK_REALTIME, the clock of
 * pthread_cond_timedwait(). */
void bench_deadline_in(struct timespec *ts, unsigned ms);

/* Nearest-rank percentile @p (0-100) of the @n values at @v, which it
 * sorts; NAN when @n is 0. */
double bench_percentile(double *v, size_t n, double p);

#endif
