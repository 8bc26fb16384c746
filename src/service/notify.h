/* notify.h: telling systemd how the service is doing (sd_notify).
 *
 * Everything here does nothing when the service manager did not ask for
 * notifications (no NOTIFY_SOCKET). */
#ifndef MLD_NOTIFY_H
#define MLD_NOTIFY_H

#include <stdint.h>

/* Sends READY=1 with a STATUS= line. */
void notify_ready(const char *status);

/* Sends STATUS=. */
void notify_status(const char *status);

/* Sends RELOADING=1 (with MONOTONIC_USEC=, as systemd wants). */
void notify_reloading(void);

/* Sends STOPPING=1 with a STATUS= line. */
void notify_stopping(const char *status);

/* Sends WATCHDOG=1. */
void notify_watchdog(void);

/* The watchdog interval systemd set (WatchdogSec=), in ms, or 0. */
uint64_t notify_watchdog_interval_ms(void);

#endif
