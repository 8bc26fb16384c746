/* benchutil.h: small helpers shared by the benchmark programs (bench/backend,
 * bench/streamload, bench/soak-streams): the open-files limit, option
 * parsing, HTTP header lookup and the SUBSCRIBE call. Buffers, allocation and clocks come from
 * src/base. */
#ifndef MLD_BENCHUTIL_H
#define MLD_BENCHUTIL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

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

/* Makes @fd non-blocking and, for TCP, disables Nagle; 0 or -errno. */
int bench_socket_setup(int fd);

#endif
