/* notify.c: sd_notify messages through libsystemd. */
#include "config.h"

#include "service/notify.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

static void notify(const char *message)
{
    int r = sd_notify(0, message);

    if (r < 0)
        log_debug("sd_notify failed: %s", strerror(-r));
}

/* Sends @head followed by "STATUS=<status>" (newlines in it flattened). */
static void notify_with_status(const char *head, const char *status)
{
    char buf[1024];

    snprintf(buf, sizeof(buf), "%sSTATUS=%s", head, status);
    for (char *p = buf + strlen(head); *p; p++) {
        if (*p == '\n')
            *p = ' ';
    }
    notify(buf);
}

void notify_ready(const char *status)
{
    notify_with_status("READY=1\n", status);
}

void notify_status(const char *status)
{
    notify_with_status("", status);
}

void notify_reloading(void)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)(time_now_ns() / 1000u));
    notify(buf);
}

void notify_stopping(const char *status)
{
    notify_with_status("STOPPING=1\n", status);
}

void notify_watchdog(void)
{
    notify("WATCHDOG=1");
}

uint64_t notify_watchdog_interval_ms(void)
{
    uint64_t usec = 0;

    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return usec / 1000u;
}
