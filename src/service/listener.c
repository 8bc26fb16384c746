/* listener.c: opening the listening socket with precise errors. */
#include "config.h"

#include "service/listener.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define BACKLOG 4096

static int activated;

int listener_is_activated(void)
{
    return activated;
}

static void describe(int fd, char *name, size_t size)
{
    struct sockaddr_storage ss = {0};
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(name, size, "fd %d", fd);
    } else if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(name, size, "%s:%u", host, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(name, size, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (ss.ss_family == AF_UNIX) {
        snprintf(name, size, "unix:%s", ((const struct sockaddr_un *)&ss)->sun_path);
    }
}

static int from_systemd(int *ret_fd, char *name, size_t size, struct errbuf *err)
{
    int n = sd_listen_fds(1);
    int fd = SD_LISTEN_FDS_START;

    if (n < 0)
        return errbuf_set(err, n, "cannot read the sockets systemd passed: %s", strerror(-n));
    if (n != 1)
        return errbuf_set(err, -EINVAL, "systemd passed %d sockets; expecting one", n);
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
        return errbuf_set(err, -EINVAL, "the socket systemd passed is not a listening stream");
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    *ret_fd = fd;
    describe(fd, name, size);
    activated = 1;
    return 0;
}

/* The host part of "[v6]:port" or "host:port"; *ret_rest gets what follows
 * it (":port", or something else when the spec is malformed). */
static int split_host(const char *spec, struct listener_spec *ret, const char **ret_rest,
                      struct errbuf *err)
{
    const char *end;
    size_t len;

    if (spec[0] == '[') {
        end = strchr(spec, ']');
        if (!end)
            return errbuf_set(err, -EINVAL, "'[' without ']' around an IPv6 address");
        spec++;
        *ret_rest = end + 1;
    } else {
        end = strrchr(spec, ':');
        if (!end)
            end = spec + strlen(spec);
        *ret_rest = end;
    }
    len = (size_t)(end - spec);
    if (len > LISTENER_HOST_MAX)
        return errbuf_set(err, -EINVAL, "the host is longer than %d bytes", LISTENER_HOST_MAX);
    memcpy(ret->host, spec, len);
    ret->host[len] = '\0';
    return 0;
}

static int parse_port(const char *text, unsigned *ret, struct errbuf *err)
{
    size_t digits = strspn(text, "0123456789");

    if (!*text)
        return errbuf_set(err, -EINVAL, "the port is missing: expecting HOST:PORT");
    if (digits == 0 || digits > 5 || text[digits] != '\0' || strtoul(text, NULL, 10) > 65535)
        return errbuf_set(err, -EINVAL, "the port '%.16s' is not a number from 0 to 65535", text);
    *ret = (unsigned)strtoul(text, NULL, 10);
    return 0;
}

static int parse_tcp(const char *spec, struct listener_spec *ret, struct errbuf *err)
{
    const char *rest = "";
    int r;

    if (strspn(spec, "0123456789") == strlen(spec))
        return errbuf_set(err, -EINVAL,
                          "not HOST:PORT, [V6]:PORT or unix:/PATH (127.0.0.1:%.5s: port %.5s "
                          "on loopback)",
                          spec, spec);
    r = split_host(spec, ret, &rest, err);
    if (r < 0)
        return r;
    if (*rest != ':')
        return errbuf_set(err, -EINVAL,
                          "the port is missing: expecting HOST:PORT, [V6]:PORT or "
                          "unix:/PATH");
    if (!ret->host[0])
        return errbuf_set(err, -EINVAL,
                          "the host is missing (127.0.0.1%s: loopback, 0.0.0.0%s: every IPv4 "
                          "address)",
                          rest, rest);
    return parse_port(rest + 1, &ret->port, err);
}

int listener_parse(const char *spec, struct listener_spec *ret, struct errbuf *err)
{
    struct listener_spec out = {0};
    int r;

    if (strncmp(spec, "unix:", 5) == 0) {
        if (spec[5] != '/')
            return errbuf_set(err, -EINVAL, "a Unix socket needs an absolute path (unix:/PATH)");
        if (strlen(spec + 5) > LISTENER_PATH_MAX)
            return errbuf_set(err, -ENAMETOOLONG, "the socket path is longer than %d bytes",
                              LISTENER_PATH_MAX);
        out.is_unix = true;
        snprintf(out.path, sizeof(out.path), "%s", spec + 5);
    } else if ((r = parse_tcp(spec, &out, err)) < 0) {
        return r;
    }
    *ret = out;
    return 0;
}

bool listener_is_loopback(const struct listener_spec *spec)
{
    return spec->is_unix || strncmp(spec->host, "127.", 4) == 0 || strcmp(spec->host, "::1") == 0 ||
           strcmp(spec->host, "localhost") == 0;
}

static bool wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "*") == 0;
}

bool listener_conflict(const struct listener_spec *a, const struct listener_spec *b)
{
    if (a->is_unix || b->is_unix)
        return a->is_unix && b->is_unix && strcmp(a->path, b->path) == 0;
    if (a->port == 0 || a->port != b->port)
        return false;
    return strcasecmp(a->host, b->host) == 0 || wildcard(a->host) || wildcard(b->host);
}

static int open_tcp(const char *spec, int *ret_fd, struct errbuf *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct listener_spec parsed;
    char port[8];
    struct addrinfo *ai;
    int fd, rc, one = 1;

    rc = listener_parse(spec, &parsed, err);
    if (rc < 0)
        return errbuf_prefix(err, rc, "cannot listen on '%s'", spec);
    snprintf(port, sizeof(port), "%u", parsed.port);
    rc = getaddrinfo(parsed.host, port, &hints, &ai);
    if (rc != 0)
        return errbuf_set(err, -EINVAL, "cannot resolve the host '%s' of listen address '%s': %s",
                          parsed.host, spec, gai_strerror(rc));
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = errbuf_set(err, -errno, "cannot create a socket for '%s': %m", spec);
        freeaddrinfo(ai);
        return rc;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
        int e = errno;
        rc = errbuf_set(err, -e, "cannot listen on %s: %s%s", spec, strerror(e),
                        e == EADDRINUSE ? " (another program uses this port)" : "");
        close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    *ret_fd = fd;
    return 0;
}

/* A socket file nobody accepts on is stale and may be replaced; one that
 * answers belongs to a running program. */
static int unix_path_in_use(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int in_use;

    if (fd < 0)
        return 0;
    in_use = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
    close(fd);
    return in_use;
}

static int open_unix(const char *path, unsigned mode, int *ret_fd, struct errbuf *err)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, rc;

    if (strlen(path) >= sizeof(sun.sun_path))
        return errbuf_set(err, -ENAMETOOLONG, "the socket path '%s' is too long", path);
    memcpy(sun.sun_path, path, strlen(path) + 1); /* length checked above */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return errbuf_set(err, -EEXIST, "'%s' exists and is not a socket", path);
        if (unix_path_in_use(&sun))
            return errbuf_set(err, -EADDRINUSE,
                              "cannot listen on unix:%s: another program "
                              "accepts connections there",
                              path);
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errbuf_set(err, -errno, "cannot create a Unix socket: %m");
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, mode) < 0 ||
        listen(fd, BACKLOG) < 0) {
        rc = errbuf_set(err, -errno, "cannot listen on unix:%s: %m", path);
        close(fd);
        return rc;
    }
    *ret_fd = fd;
    return 0;
}

int listener_open(const char *spec, unsigned unix_mode, int *ret_fd, char *name, size_t name_size,
                  struct errbuf *err)
{
    int fd = -1, r;

    if (sd_listen_fds(0) > 0)
        return from_systemd(ret_fd, name, name_size, err);
    if (strncmp(spec, "unix:", 5) == 0)
        r = open_unix(spec + 5, unix_mode, &fd, err);
    else
        r = open_tcp(spec, &fd, err);
    if (r < 0)
        return r;
    describe(fd, name, name_size);
    *ret_fd = fd;
    return 0;
}

void listener_cleanup(const char *spec)
{
    if (!activated && strncmp(spec, "unix:", 5) == 0)
        unlink(spec + 5);
}
