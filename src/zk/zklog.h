/* zklog.h: reading libzookeeper's log lines.
 *
 * libzookeeper formats "<time>:<pid>(<tid>):ZOO_<LEVEL>@<func>@<line>: <text>"
 * and hands each line to a callback without saying which handle it is about.
 * It has no other way to tell why a connection failed: the line
 * "Socket 127.0.0.1:2181 zk retcode=-4, errno=111(Connection refused): ..."
 * is the only place where "connection refused" appears. These functions
 * turn such lines into our log priorities and into a short description of
 * the failure for people ("connection refused by 127.0.0.1:2181"). */
#ifndef MLD_ZKLOG_H
#define MLD_ZKLOG_H

#include <stdbool.h>
#include <stddef.h>

/* A line, split. */
struct zklog_line {
    int priority;     /* LOG_WARNING for ZOO_ERROR, LOG_INFO for ZOO_WARN, else LOG_DEBUG */
    const char *text; /* the text after the prefix, inside the message */
    size_t len;       /* without trailing newlines and spaces */
};

/* Splits @message (NUL-terminated) into priority and text. */
void zklog_parse(const char *message, struct zklog_line *ret);

/* When the @len bytes at @text (a line's text) tell of a failed connection
 * to a server, or of host names that do not resolve (@hosts: the connect
 * string, named then), writes a short description into @buf and returns
 * true; otherwise returns false and leaves @buf alone. */
bool zklog_connection_error(const char *text, size_t len, const char *hosts, char *buf,
                            size_t size);

#endif
