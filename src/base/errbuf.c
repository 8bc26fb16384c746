/* errbuf.c: formatting of error reasons. */
#include "config.h"

#include "base/errbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int errbuf_set(struct errbuf *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

int errbuf_prefix(struct errbuf *err, int code, const char *fmt, ...)
{
    char joined[2 * sizeof(err->msg) + 4];
    size_t n;
    int len;
    va_list ap;

    if (!err)
        return code;
    va_start(ap, fmt);
    len = vsnprintf(joined, sizeof(err->msg), fmt, ap);
    va_end(ap);
    n = len < 0 ? 0 : strlen(joined);
    memcpy(joined + n, ": ", 2);
    memcpy(joined + n + 2, err->msg, strnlen(err->msg, sizeof(err->msg) - 1) + 1);
    /* Truncation to the buffer is intended: the start says the most. */
    n = strnlen(joined, sizeof(err->msg) - 1);
    memcpy(err->msg, joined, n);
    err->msg[n] = '\0';
    return code;
}
