/* fdlimit.c: open-file arithmetic and raising RLIMIT_NOFILE. */
#include "config.h"

#include "base/fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

uint64_t fdlimit_reserved(unsigned listeners)
{
    return FDLIMIT_RESERVED_PROCESS + (uint64_t)listeners * FDLIMIT_RESERVED_LISTENER;
}

uint64_t fdlimit_max_connections(uint64_t limit, unsigned listeners)
{
    uint64_t reserved = fdlimit_reserved(listeners);

    if (limit <= reserved)
        return 0;
    return (limit - reserved) / FDLIMIT_PER_CONNECTION;
}

uint64_t fdlimit_needed(uint64_t connections, unsigned listeners)
{
    return connections * FDLIMIT_PER_CONNECTION + fdlimit_reserved(listeners);
}

int fdlimit_raise(uint64_t *ret_before, uint64_t *ret_after)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    *ret_before = *ret_after = (uint64_t)rl.rlim_cur;
    if (rl.rlim_cur == rl.rlim_max)
        return 0;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    *ret_after = (uint64_t)rl.rlim_cur;
    return 0;
}
