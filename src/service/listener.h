/* listener.h: the listening socket: TCP, a Unix socket, or the one systemd
 * hands over (socket activation). */
#ifndef MLD_LISTENER_H
#define MLD_LISTENER_H

#include "base/errbuf.h"

#include <stdbool.h>
#include <stddef.h>

/* A listening socket, opened. */
struct listener {
    int fd;         /* non-blocking, close-on-exec, listening */
    char name[300]; /* what it is: "127.0.0.1:5050", "unix:/run/x.sock" */
    bool activated; /* passed by systemd (socket activation) */
};

/* Opens the socket for the cluster named @cluster ("" for the one cluster of
 * a configuration without sections): the socket systemd passed for it when
 * there is one (its FileDescriptorName= is the cluster's name; without
 * sections, the only socket passed), else the one @spec names ("HOST:PORT",
 * "[V6]:PORT", "unix:/PATH", the latter with permissions @unix_mode). A port
 * in use is an error naming it. */
int listener_open(const char *spec, unsigned unix_mode, const char *cluster, struct listener *ret,
                  struct errbuf *err);

/* Removes the socket file of a Unix listener that @spec opened (at exit). */
void listener_cleanup(const struct listener *l, const char *spec);

#endif
