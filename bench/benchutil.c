/* benchutil.c: helpers shared by the benchmark programs (see benchutil.h). */
#include "config.h"

#include "benchutil.h"
#include "base/strbuf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

long bench_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return -errno;
    }
    return (long)rl.rlim_cur;
}

int bench_parse_ulong(const char *text, unsigned long max, unsigned long *ret)
{
    char *end;
    unsigned long v;

    if (!text || !isdigit((unsigned char)*text))
        return -EINVAL;
    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int bench_parse_target(const char *text, struct sockaddr_in *ret)
{
    const char *colon = strrchr(text, ':');
    char host[64];
    unsigned long port;
    struct sockaddr_in sa = {.sin_family = AF_INET};

    if (!colon || colon == text || (size_t)(colon - text) >= sizeof(host))
        return -EINVAL;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -EINVAL;
    if (bench_parse_ulong(colon + 1, 65535, &port) < 0 || port == 0)
        return -EINVAL;
    sa.sin_port = htons((uint16_t)port);
    *ret = sa;
    return 0;
}

/* Returns the end of the line starting at @p (at its CR or LF), or @end. */
static const char *line_end(const char *p, const char *end)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));

    if (!lf)
        return end;
    return (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
}

const char *bench_header(const char *head, size_t len, const char *name, size_t *ret_len)
{
    const char *p = head, *end = head + len;
    size_t nlen = strlen(name);

    while (p < end) {
        const char *eol = line_end(p, end);

        if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;

            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t'))
                eol--;
            *ret_len = (size_t)(eol - v);
            return v;
        }
        p = memchr(p, '\n', (size_t)(end - p));
        if (!p)
            break;
        p++;
    }
    return NULL;
}

bool bench_contains_nocase(const char *s, size_t len, const char *token)
{
    size_t tlen = strlen(token);

    for (size_t i = 0; i + tlen <= len; i++) {
        if (strncasecmp(s + i, token, tlen) == 0)
            return true;
    }
    return false;
}

size_t bench_chunked_length(const char *p, size_t len)
{
    size_t off = 0;

    for (;;) {
        const char *lf = memchr(p + off, '\n', len - off);
        unsigned long size;

        if (!lf)
            return 0;
        size = strtoul(p + off, NULL, 16);
        off = (size_t)(lf - p) + 1;
        if (size == 0)
            return len - off >= 2 ? off + 2 : 0; /* the empty line after "0" */
        if (len - off < size + 2)
            return 0;
        off += size + 2;
    }
}

int bench_socket_setup(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    int one = 1;

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return 0;
}

char *bench_subscribe_request(const char *path, const char *host, const char *name, bool close,
                              size_t *ret_len)
{
    struct strbuf sb = {0};
    struct strbuf body = {0};

    strbuf_printf(&body,
                  "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
                  "{\"user\":\"bench\",\"name\":\"%s\",\"failover_timeout\":0}}}",
                  name);
    strbuf_printf(&sb,
                  "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                  "Accept: application/json\r\n%sContent-Length: %zu\r\n\r\n%s",
                  path, host, close ? "Connection: close\r\n" : "", body.len, body.data);
    strbuf_done(&body);
    *ret_len = sb.len;
    return strbuf_steal(&sb);
}

void bench_sleep_ms(unsigned long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void bench_deadline_in(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    return v[rank == 0 ? 0 : rank - 1];
}
