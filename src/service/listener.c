/* listener.c: opening the listening socket with precise errors. */
#include "config.h"

#include "service/listener.h"
#include "service/listenaddr.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define BACKLOG 4096

/* The sockets systemd passed, read once (FileDescriptorName= names them). */
#define PASSED_MAX 64
static struct passed {
    int fd;
    char *name;
    bool taken;
} passed[PASSED_MAX];
static int n_passed = -1;

static void read_passed(void)
{
    char **names = NULL;
    int n;

    if (n_passed >= 0)
        return;
    n = sd_listen_fds_with_names(0, &names);
    n_passed = 0;
    for (int i = 0; i < n && i < PASSED_MAX; i++) {
        passed[n_passed++] = (struct passed){.fd = SD_LISTEN_FDS_START + i,
                                             .name = xstrdup(names && names[i] ? names[i] : "")};
    }
    for (int i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
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

/* The passed socket for @cluster: the one named so, or (for the one
 * cluster of a configuration without sections) the only one passed. NULL
 * when there is none for it. */
static struct passed *passed_for(const char *cluster, struct errbuf *err, int *r)
{
    *r = 0;
    read_passed();
    for (int i = 0; *cluster && i < n_passed; i++) {
        if (!passed[i].taken && strcmp(passed[i].name, cluster) == 0)
            return &passed[i];
    }
    if (*cluster || n_passed == 0)
        return NULL;
    if (n_passed != 1)
        *r = errbuf_set(err, -EINVAL, "systemd passed %d sockets; expecting one", n_passed);
    return *r == 0 && !passed[0].taken ? &passed[0] : NULL;
}

static int from_systemd(struct passed *p, struct listener *ret, struct errbuf *err)
{
    if (sd_is_socket(p->fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
        return errbuf_set(err, -EINVAL, "the socket systemd passed%s%s is not a listening stream",
                          *p->name ? " as " : "", p->name);
    fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
    fcntl(p->fd, F_SETFD, FD_CLOEXEC);
    p->taken = true;
    ret->fd = p->fd;
    ret->activated = true;
    describe(p->fd, ret->name, sizeof(ret->name));
    return 0;
}

static int open_tcp(const char *spec, int *ret_fd, struct errbuf *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct listenaddr parsed;
    char port[8];
    struct addrinfo *ai;
    int fd, rc, one = 1;

    rc = listenaddr_parse(spec, &parsed, err);
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

int listener_open(const char *spec, unsigned unix_mode, const char *cluster, struct listener *ret,
                  struct errbuf *err)
{
    struct passed *p;
    int fd = -1, r;

    *ret = (struct listener){.fd = -1};
    p = passed_for(cluster ? cluster : "", err, &r);
    if (r < 0)
        return r;
    if (p)
        return from_systemd(p, ret, err);
    if (strncmp(spec, "unix:", 5) == 0)
        r = open_unix(spec + 5, unix_mode, &fd, err);
    else
        r = open_tcp(spec, &fd, err);
    if (r < 0)
        return r;
    describe(fd, ret->name, sizeof(ret->name));
    ret->fd = fd;
    return 0;
}

void listener_cleanup(const struct listener *l, const char *spec)
{
    if (!l->activated && strncmp(spec, "unix:", 5) == 0)
        unlink(spec + 5);
}
