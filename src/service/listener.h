/* listener.h: the listening socket: TCP, a Unix socket, or the one systemd
 * hands over (socket activation). */
#ifndef MLD_LISTENER_H
#define MLD_LISTENER_H

#include "base/errbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest host in a TCP spec, and longest Unix socket path (sun_path less
 * its terminating NUL). */
#define LISTENER_HOST_MAX 255
#define LISTENER_PATH_MAX 107

/* A listen spec taken apart. */
struct listener_spec {
    bool is_unix;
    char host[LISTENER_HOST_MAX + 1]; /* TCP: name or address, without brackets */
    unsigned port;                    /* TCP: 0 to 65535 (0: any free port) */
    char path[LISTENER_PATH_MAX + 1]; /* Unix: absolute path */
};

/* Parses @spec ("HOST:PORT", "[V6]:PORT", "unix:/PATH") as listener_open()
 * will use it, without resolving the host. On failure @err says what is
 * wrong with it (the caller adds where the value came from). */
int listener_parse(const char *spec, struct listener_spec *ret, struct errbuf *err);

/* Whether @spec (valid for listener_parse()) is reachable from this host
 * only: a Unix socket, 127.0.0.0/8, ::1 or "localhost". */
bool listener_is_loopback(const struct listener_spec *spec);

/* Whether two specs cannot both listen: the same Unix path, or the same
 * non-zero port on the same host or where either host is a wildcard
 * (0.0.0.0, ::). Host names are compared as written, not resolved. */
bool listener_conflict(const struct listener_spec *a, const struct listener_spec *b);

/* Opens the socket named by @spec ("HOST:PORT", "[V6]:PORT", "unix:/PATH",
 * the latter with permissions @unix_mode), or takes the socket passed by
 * systemd when there is one. Sets *@ret_fd (non-blocking, close-on-exec,
 * listening) and writes a description such as "127.0.0.1:5050" into @name.
 * A port in use is an error naming it. */
int listener_open(const char *spec, unsigned unix_mode, int *ret_fd, char *name, size_t name_size,
                  struct errbuf *err);

/* Removes the socket file of a Unix listener (at exit); others: nothing. */
void listener_cleanup(const char *spec);

/* Whether the socket was passed by systemd. */
int listener_is_activated(void);

#endif
