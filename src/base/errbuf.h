/* errbuf.h: the reason behind a failure, for errors a user must read.
 *
 * The error convention of the whole code base: functions return 0 on success
 * or a negative errno on failure, and set their ret_ out-parameters only on
 * success. Functions that judge untrusted input (URLs, configuration, znode
 * data) also take an optional struct errbuf to say what exactly is wrong:
 *
 *     return errbuf_set(err, -EINVAL, "port '%s' is not a number", p);
 */
#ifndef MLD_ERRBUF_H
#define MLD_ERRBUF_H

/* Holds one message; an empty msg means none was set. */
struct errbuf {
    char msg[512];
};

/* Formats a message into @err (which may be NULL) and returns @code. */
int errbuf_set(struct errbuf *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in @err with a formatted context and returns
 * @code: "while reading 'f': <old message>". */
int errbuf_prefix(struct errbuf *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
