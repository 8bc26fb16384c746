/* daemon.h: mesos-leaderd as a running service: it wires the tracker, the
 * proxy, signals and systemd notifications together and runs the loop. */
#ifndef MLD_DAEMON_H
#define MLD_DAEMON_H

#include "service/cfg.h"

/* Runs the daemon until SIGTERM or SIGINT; @argc/@argv are read again on
 * SIGHUP. Takes over @cfg. Returns the process exit status. */
int daemon_run(struct cfg *cfg, int argc, char *const argv[]);

#endif
