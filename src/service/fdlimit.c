/* fdlimit.c: open-file arithmetic and raising RLIMIT_NOFILE. */
#include "config.h"

#include "service/fdlimit.h"

#include <errno.h>
#include <sys/resource.h>

uint64_t fdlimit_max_connections(uint64_t limit)
{
    if (limit <= FDLIMIT_RESERVED)
        return 0;
    return (limit - FDLIMIT_RESERVED) / FDLIMIT_PER_CONNECTION;
}

uint64_t fdlimit_needed(uint64_t connections)
{
    return connections * FDLIMIT_PER_CONNECTION + FDLIMIT_RESERVED;
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
