/* listener.h: the listening socket: TCP, a Unix socket, or the one systemd
 * hands over (socket activation). */
#ifndef MLD_LISTENER_H
#define MLD_LISTENER_H

#include "base/errbuf.h"

#include <stddef.h>

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
