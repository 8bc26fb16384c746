/* wait.c: waiting for conditions with a monotonic deadline (instead of
 * fixed sleeps), and free loopback ports. */
#include "config.h"

#include "internal.h"
#include "base/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define POLL_MS 5

bool wait_until(bool (*cond)(void *arg), void *arg, int timeout_ms)
{
    uint64_t deadline = time_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

    for (;;) {
        if (cond(arg))
            return true;
        uint64_t now = time_now_ms();
        if (now >= deadline)
            return cond(arg);
        harness_nap_ms(deadline - now < POLL_MS ? (int)(deadline - now) : POLL_MS);
    }
}

#define LOW_PORT 15000

/* Binds a socket to 127.0.0.1:@port (0: any); returns it, -errno on failure. */
static int bind_port(int port, int *ret_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    *ret_port = ntohs(sa.sin_port);
    return fd;
}

/* The first port the kernel hands out to outgoing connections. */
static int ephemeral_low(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    int low = 32768, high;

    if (f) {
        if (fscanf(f, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* Binds a free port below the ephemeral range, where no outgoing connection
 * (such as a client reconnecting to a stopped server) can take it before the
 * server that should listen there binds it; any port when none is found. */
static int bind_free_port(unsigned *seed, int *ret_port)
{
    int low = ephemeral_low(), fd;

    for (int attempt = 0; low > LOW_PORT + 100 && attempt < 200; attempt++) {
        fd = bind_port(LOW_PORT + (int)(rand_r(seed) % (unsigned)(low - LOW_PORT)), ret_port);
        if (fd >= 0)
            return fd;
    }
    fd = bind_port(0, ret_port);
    if (fd < 0)
        return harness_set_error(fd, "cannot bind a free port: %s", strerror(-fd));
    return fd;
}

int harness_free_ports(int *ports, int n)
{
    unsigned seed = (unsigned)getpid() ^ (unsigned)time_now_ns();
    int fds[64];
    int r = 0, i;

    if (n < 0 || n > 64)
        return harness_set_error(-EINVAL, "cannot pick %d ports at once", n);
    /* Keep every socket bound until all are picked, so the ports differ. */
    for (i = 0; i < n; i++) {
        fds[i] = bind_free_port(&seed, &ports[i]);
        if (fds[i] < 0) {
            r = fds[i];
            break;
        }
    }
    while (i-- > 0)
        close(fds[i]);
    return r;
}

int harness_free_port(void)
{
    int port, r = harness_free_ports(&port, 1);

    return r < 0 ? r : port;
}
