/* listenaddr.h: listen addresses as the configuration names them:
 * "HOST:PORT", "[V6]:PORT" or "unix:/PATH". One parser, used when the
 * configuration is read (src/service/cfg.c) and when the socket is opened
 * (src/service/listener.c), so that what --test-config accepts opens. */
#ifndef MLD_LISTENADDR_H
#define MLD_LISTENADDR_H

#include "base/errbuf.h"

#include <stdbool.h>

/* Longest host in a TCP spec, and longest Unix socket path (sun_path less
 * its terminating NUL). */
#define LISTENADDR_HOST_MAX 255
#define LISTENADDR_PATH_MAX 107

/* A listen spec taken apart. */
struct listenaddr {
    bool is_unix;
    char host[LISTENADDR_HOST_MAX + 1]; /* TCP: name or address, without brackets */
    unsigned port;                      /* TCP: 0 to 65535 (0: any free port) */
    char path[LISTENADDR_PATH_MAX + 1]; /* Unix: absolute path */
};

/* Parses @spec ("HOST:PORT", "[V6]:PORT", "unix:/PATH") as listener_open()
 * will use it, without resolving the host. On failure @err says what is
 * wrong with it (the caller adds where the value came from). */
int listenaddr_parse(const char *spec, struct listenaddr *ret, struct errbuf *err);

/* Whether @spec (valid for listenaddr_parse()) is reachable from this host
 * only: a Unix socket, 127.0.0.0/8, ::1 or "localhost". */
bool listenaddr_is_loopback(const struct listenaddr *spec);

/* Whether two specs cannot both listen: the same Unix path, or the same
 * non-zero port on the same host or where either host is a wildcard
 * (0.0.0.0, ::). Host names are compared as written, not resolved. */
bool listenaddr_conflict(const struct listenaddr *a, const struct listenaddr *b);

#endif
