/* listenaddr.c: parsing listen addresses, without resolving anything. */
#include "config.h"

#include "service/listenaddr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The host part of "[v6]:port" or "host:port"; *ret_rest gets what follows
 * it (":port", or something else when the spec is malformed). */
static int split_host(const char *spec, struct listenaddr *ret, const char **ret_rest,
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
    if (len > LISTENADDR_HOST_MAX)
        return errbuf_set(err, -EINVAL, "the host is longer than %d bytes", LISTENADDR_HOST_MAX);
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

static int parse_tcp(const char *spec, struct listenaddr *ret, struct errbuf *err)
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

int listenaddr_parse(const char *spec, struct listenaddr *ret, struct errbuf *err)
{
    struct listenaddr out = {0};
    int r;

    if (strncmp(spec, "unix:", 5) == 0) {
        if (spec[5] != '/')
            return errbuf_set(err, -EINVAL, "a Unix socket needs an absolute path (unix:/PATH)");
        if (strlen(spec + 5) > LISTENADDR_PATH_MAX)
            return errbuf_set(err, -ENAMETOOLONG, "the socket path is longer than %d bytes",
                              LISTENADDR_PATH_MAX);
        out.is_unix = true;
        snprintf(out.path, sizeof(out.path), "%s", spec + 5);
    } else if ((r = parse_tcp(spec, &out, err)) < 0) {
        return r;
    }
    *ret = out;
    return 0;
}

bool listenaddr_is_loopback(const struct listenaddr *spec)
{
    return spec->is_unix || strncmp(spec->host, "127.", 4) == 0 || strcmp(spec->host, "::1") == 0 ||
           strcmp(spec->host, "localhost") == 0;
}

static bool wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "*") == 0;
}

bool listenaddr_conflict(const struct listenaddr *a, const struct listenaddr *b)
{
    if (a->is_unix || b->is_unix)
        return a->is_unix && b->is_unix && strcmp(a->path, b->path) == 0;
    if (a->port == 0 || a->port != b->port)
        return false;
    return strcasecmp(a->host, b->host) == 0 || wildcard(a->host) || wildcard(b->host);
}
