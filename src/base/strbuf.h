/* strbuf.h: a growable byte buffer (bodies, JSON text, header blocks). */
#ifndef MLD_STRBUF_H
#define MLD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialise; data is always NUL-terminated once anything was added. */
struct strbuf {
    char *data;
    size_t len;
    size_t cap;
};

/* Appends @n bytes. */
void strbuf_append(struct strbuf *sb, const void *bytes, size_t n);

/* Appends a NUL-terminated string. */
void strbuf_puts(struct strbuf *sb, const char *s);

/* Appends formatted text. */
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends @s as a JSON string literal, quotes included. */
void strbuf_json_string(struct strbuf *sb, const char *s);

/* Makes room for @n more bytes without changing len. */
void strbuf_reserve(struct strbuf *sb, size_t n);

/* Drops the first @n bytes. */
void strbuf_consume(struct strbuf *sb, size_t n);

/* Empties the buffer but keeps its memory. */
void strbuf_reset(struct strbuf *sb);

/* Frees the memory; the buffer is empty and reusable afterwards. */
void strbuf_done(struct strbuf *sb);

/* Hands the data to the caller (never NULL) and empties the buffer. */
char *strbuf_steal(struct strbuf *sb);

#endif
