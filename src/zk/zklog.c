/* zklog.c: libzookeeper's log lines: priority, text, connection failures. */
#include "config.h"

#include "zk/zklog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

void zklog_parse(const char *message, struct zklog_line *ret)
{
    const char *lvl = strstr(message, "ZOO_");
    size_t n;

    ret->priority = LOG_DEBUG;
    ret->text = message;
    if (lvl) {
        if (strncmp(lvl, "ZOO_ERROR", 9) == 0)
            ret->priority = LOG_WARNING;
        else if (strncmp(lvl, "ZOO_WARN", 8) == 0)
            ret->priority = LOG_INFO;
        const char *colon = strstr(lvl, ": ");
        if (colon)
            ret->text = colon + 2;
    }
    n = strlen(ret->text);
    while (n > 0 && (ret->text[n - 1] == '\n' || ret->text[n - 1] == ' '))
        n--;
    ret->len = n;
}

/* Whether the @len bytes at @s contain @needle. */
static bool contains(const char *s, size_t len, const char *needle)
{
    return memmem(s, len, needle, strlen(needle)) != NULL;
}

/* The parts of "Socket <server> zk retcode=<rc>, errno=<e>(<why>): <detail>". */
struct socket_error {
    const char *server;
    int server_len;
    int err;
    const char *detail;
    int detail_len;
};

static bool parse_socket_error(const char *text, size_t len, struct socket_error *ret)
{
    static const char head[] = "Socket ";
    const char *end = text + len, *p, *q;

    if (len < sizeof(head) - 1 || memcmp(text, head, sizeof(head) - 1) != 0)
        return false;
    p = text + sizeof(head) - 1;
    q = memchr(p, ' ', (size_t)(end - p));
    if (!q || q == p || q - p > 200)
        return false;
    ret->server = p;
    ret->server_len = (int)(q - p);
    p = memmem(q, (size_t)(end - q), "errno=", 6);
    if (!p)
        return false;
    ret->err = (int)strtol(p + 6, NULL, 10);
    q = memmem(p, (size_t)(end - p), "): ", 3);
    ret->detail = q ? q + 3 : end;
    ret->detail_len = (int)(end - ret->detail);
    return true;
}

static void describe_socket_error(const struct socket_error *e, char *buf, size_t size)
{
    const char *detail = e->detail;
    size_t dlen = (size_t)e->detail_len;

    if (e->err == ECONNREFUSED)
        snprintf(buf, size, "connection refused by %.*s", e->server_len, e->server);
    else if (contains(detail, dlen, "timed out"))
        snprintf(buf, size, "no answer from %.*s in time", e->server_len, e->server);
    else if (e->err == ECONNRESET)
        snprintf(buf, size, "connection reset by %.*s", e->server_len, e->server);
    else if (e->err == EHOSTUNREACH || e->err == ENETUNREACH)
        snprintf(buf, size, "%.*s is unreachable", e->server_len, e->server);
    else if (contains(detail, dlen, "receiving a server response"))
        snprintf(buf, size, "%.*s closed the connection", e->server_len, e->server);
    else
        snprintf(buf, size, "connection to %.*s failed: %.*s", e->server_len, e->server,
                 e->detail_len > 120 ? 120 : e->detail_len, detail);
}

bool zklog_connection_error(const char *text, size_t len, const char *hosts, char *buf, size_t size)
{
    static const char resolve[] = "getaddrinfo: ";
    struct socket_error e;

    if (len >= sizeof(resolve) - 1 && memcmp(text, resolve, sizeof(resolve) - 1) == 0) {
        int n = (int)(len - (sizeof(resolve) - 1));
        snprintf(buf, size, "cannot resolve %s: %.*s", hosts ? hosts : "the host names",
                 n > 120 ? 120 : n, text + sizeof(resolve) - 1);
        return true;
    }
    if (!parse_socket_error(text, len, &e))
        return false;
    /* The server ending our session is no connection failure. */
    if (contains(e.detail, (size_t)e.detail_len, "session expired"))
        return false;
    describe_socket_error(&e, buf, size);
    return true;
}
