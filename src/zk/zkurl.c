/* zkurl.c: parsing and validation of zk:// and file:// URLs. */
#include "config.h"

#include "zk/zkurl.h"
#include "base/mem.h"
#include "base/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ZK_DEFAULT_PORT "2181"
#define URL_FILE_MAX    4096

static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

/* Returns a copy of @s without leading and trailing white space. */
static char *trimmed_copy(const char *s)
{
    const char *start = skip_space(s);
    size_t n = strlen(start);

    while (n > 0 && isspace((unsigned char)start[n - 1]))
        n--;
    return xstrndup(start, n);
}

static int parse_port(const char *text, size_t len, const char *host, struct errbuf *err)
{
    unsigned long port = 0;

    if (len == 0)
        return errbuf_set(err, -EINVAL, "host '%s' has an empty port", host);
    if (len > 5)
        return errbuf_set(err, -EINVAL, "port '%.*s' of host '%s' is out of range (1-65535)",
                          (int)len, text, host);
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return errbuf_set(err, -EINVAL, "port '%.*s' of host '%s' is not a number", (int)len,
                              text, host);
        port = port * 10 + (unsigned long)(text[i] - '0');
    }
    if (port < 1 || port > 65535)
        return errbuf_set(err, -EINVAL, "port '%.*s' of host '%s' is out of range (1-65535)",
                          (int)len, text, host);
    return 0;
}

static bool valid_host_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* Splits "[v6]:port" in @item: the host part (brackets included) and the
 * port text (or NULL when there is none). */
static int split_ipv6(const char *item, size_t *host_len, const char **port, struct errbuf *err)
{
    const char *close = strchr(item, ']');

    if (!close || close == item + 1)
        return errbuf_set(err, -EINVAL, "host '%s' has an unterminated IPv6 address", item);
    for (const char *p = item + 1; p < close; p++) {
        if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
            return errbuf_set(err, -EINVAL, "host '%s' is not a valid IPv6 address", item);
    }
    if (close[1] != ':' && close[1] != '\0')
        return errbuf_set(err, -EINVAL, "host '%s' has text after the IPv6 address", item);
    *host_len = (size_t)(close - item) + 1;
    *port = close[1] == ':' ? close + 2 : NULL;
    return 0;
}

/* Splits "name[:port]" in @item, checking the name's characters. */
static int split_name(const char *item, size_t *host_len, const char **port, struct errbuf *err)
{
    const char *colon = strchr(item, ':');
    size_t n = colon ? (size_t)(colon - item) : strlen(item);

    if (n == 0)
        return errbuf_set(err, -EINVAL, "host '%s' has an empty name", item);
    for (size_t i = 0; i < n; i++) {
        if (!valid_host_char(item[i]))
            return errbuf_set(err, -EINVAL, "host '%s' contains an invalid character", item);
    }
    *host_len = n;
    *port = colon ? colon + 1 : NULL;
    return 0;
}

/* Validates one "host[:port]" or "[v6]:port" item and appends it, with a port,
 * to @out. */
static int add_host(const char *item, size_t len, struct strbuf *out, struct errbuf *err)
{
    char *copy = xstrndup(item, len);
    const char *port = NULL;
    size_t host_len = 0;
    int r;

    if (len == 0)
        r = errbuf_set(err, -EINVAL, "empty host in the host list");
    else if (copy[0] == '[')
        r = split_ipv6(copy, &host_len, &port, err);
    else
        r = split_name(copy, &host_len, &port, err);
    if (r == 0 && port)
        r = parse_port(port, strlen(port), copy, err);
    if (r == 0) {
        if (out->len)
            strbuf_append(out, ",", 1);
        strbuf_append(out, copy, host_len);
        strbuf_append(out, ":", 1);
        strbuf_puts(out, port ? port : ZK_DEFAULT_PORT);
    }
    free(copy);
    return r;
}

static int parse_hosts(const char *text, size_t len, char **ret_hosts, struct errbuf *err)
{
    struct strbuf out = {0};
    const char *p = text, *end = text + len;

    if (len == 0)
        return errbuf_set(err, -EINVAL, "no ZooKeeper hosts given");
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        int r = add_host(p, (size_t)(item_end - p), &out, err);
        if (r < 0) {
            strbuf_done(&out);
            return r;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    *ret_hosts = strbuf_steal(&out);
    return 0;
}

/* ZooKeeper's own rules: absolute, no empty, "." or ".." component, no
 * control characters; the root alone is not a usable election path. */
static int validate_path(const char *path, struct errbuf *err)
{
    const char *p;

    if (path[0] == '\0' || strcmp(path, "/") == 0)
        return errbuf_set(err, -EINVAL,
                          "expecting a path below the root, e.g. zk://host:2181/mesos ('/' is "
                          "not supported)");
    for (p = path; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            return errbuf_set(err, -EINVAL, "path contains a control character");
        if (isspace(c))
            return errbuf_set(err, -EINVAL, "path '%s' contains white space", path);
    }
    p = path;
    while (*p) {
        const char *start = ++p; /* skip the '/' */
        const char *slash = strchr(start, '/');
        size_t n = slash ? (size_t)(slash - start) : strlen(start);
        if (n == 0)
            return errbuf_set(err, -EINVAL, "path '%s' has an empty component", path);
        if ((n == 1 && start[0] == '.') || (n == 2 && start[0] == '.' && start[1] == '.'))
            return errbuf_set(err, -EINVAL, "path '%s' has a relative component", path);
        p = start + n;
    }
    return 0;
}

static int parse_credentials(const char *text, size_t len, char **ret, struct errbuf *err)
{
    const char *colon = memchr(text, ':', len);

    if (!colon || colon == text)
        return errbuf_set(err, -EINVAL, "credentials must be 'user:password'");
    if ((size_t)(colon - text) == len - 1)
        return errbuf_set(err, -EINVAL, "credentials have an empty password");
    *ret = xstrndup(text, len);
    return 0;
}

static int parse_zk(const char *text, struct zkurl *ret, struct errbuf *err)
{
    const char *authority = text + strlen("zk://");
    const char *slash = strchr(authority, '/');
    const char *auth_end = slash ? slash : authority + strlen(authority);
    const char *at = NULL;
    struct zkurl url = {0};
    size_t path_len;
    int r;

    /* The last '@' before the path ends the credentials (passwords may hold '@'). */
    for (const char *p = authority; p < auth_end; p++) {
        if (*p == '@')
            at = p;
    }
    if (at) {
        r = parse_credentials(authority, (size_t)(at - authority), &url.credentials, err);
        if (r < 0)
            goto fail;
        authority = at + 1;
    }
    r = parse_hosts(authority, (size_t)(auth_end - authority), &url.hosts, err);
    if (r < 0)
        goto fail;
    if (!slash) {
        r = errbuf_set(err, -EINVAL, "no path given, e.g. zk://host:2181/mesos");
        goto fail;
    }
    path_len = strlen(slash);
    while (path_len > 1 && slash[path_len - 1] == '/')
        path_len--;
    url.path = xstrndup(slash, path_len);
    r = validate_path(url.path, err);
    if (r < 0)
        goto fail;
    *ret = url;
    return 0;
fail:
    zkurl_done(&url);
    return r;
}

static int read_url_file(const char *path, char **ret, struct errbuf *err)
{
    char buf[URL_FILE_MAX + 1];
    ssize_t n;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return errbuf_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
    while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t)n;
    if (n < 0) {
        int e = errno;
        close(fd);
        return errbuf_set(err, -e, "cannot read '%s': %s", path, strerror(e));
    }
    close(fd);
    if (len > URL_FILE_MAX)
        return errbuf_set(err, -EFBIG, "'%s' is larger than %d bytes", path, URL_FILE_MAX);
    if (memchr(buf, '\0', len))
        return errbuf_set(err, -EINVAL, "'%s' contains a NUL byte", path);
    buf[len] = '\0';
    *ret = trimmed_copy(buf);
    return 0;
}

static int parse_depth(const char *text, struct zkurl *ret, struct errbuf *err, int depth)
{
    char *url = trimmed_copy(text);
    int r;

    if (strncmp(url, "zk://", 5) == 0) {
        r = parse_zk(url, ret, err);
    } else if (strncmp(url, "file://", 7) == 0) {
        char *content = NULL;
        if (depth > 0) {
            r = errbuf_set(err, -ELOOP, "a file:// URL may not point to another file:// URL");
        } else if (url[7] != '/') {
            r = errbuf_set(err, -EINVAL, "file:// needs an absolute path: file:///path/to/file");
        } else if ((r = read_url_file(url + 7, &content, err)) == 0) {
            r = parse_depth(content, ret, err, depth + 1);
            if (r < 0)
                errbuf_prefix(err, r, "in '%s'", url + 7);
        }
        free(content);
    } else if (url[0] == '\0') {
        r = errbuf_set(err, -EINVAL, "the ZooKeeper URL is empty");
    } else {
        const char *sep = strstr(url, "://");
        if (sep)
            r = errbuf_set(err, -EINVAL, "unknown scheme '%.*s' (expecting zk:// or file://)",
                           (int)(sep - url), url);
        else
            r = errbuf_set(err, -EINVAL, "expecting 'zk://' at the beginning of the URL");
    }
    free(url);
    return r;
}

int zkurl_parse(const char *text, struct zkurl *ret, struct errbuf *err)
{
    if (!text)
        return errbuf_set(err, -EINVAL, "the ZooKeeper URL is empty");
    return parse_depth(text, ret, err, 0);
}

char *zkurl_to_redacted(const struct zkurl *url)
{
    char *user = zkurl_user(url);
    char *s;

    if (user)
        s = xasprintf("zk://%s:***@%s%s", user, url->hosts, url->path);
    else
        s = xasprintf("zk://%s%s", url->hosts, url->path);
    free(user);
    return s;
}

char *zkurl_user(const struct zkurl *url)
{
    const char *colon;

    if (!url->credentials)
        return NULL;
    colon = strchr(url->credentials, ':');
    return xstrndup(url->credentials,
                    colon ? (size_t)(colon - url->credentials) : strlen(url->credentials));
}

static int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

int zkurl_equal(const struct zkurl *a, const struct zkurl *b)
{
    return str_eq(a->hosts, b->hosts) && str_eq(a->path, b->path) &&
           str_eq(a->credentials, b->credentials);
}

void zkurl_done(struct zkurl *url)
{
    freep(&url->hosts);
    freep(&url->path);
    if (url->credentials) {
        explicit_bzero(url->credentials, strlen(url->credentials));
        freep(&url->credentials);
    }
}
