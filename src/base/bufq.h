/* bufq.h: a byte queue: bytes are added at the back and taken from the
 * front, in any pieces.
 *
 * Memory follows what is queued, not what ever went through: the sent prefix
 * is given back as the queue moves on (its space is reused once it is at
 * least as large as what is still queued), and an emptied queue keeps at most
 * BUFQ_KEEP bytes. So a queue that never holds more than N bytes never takes
 * much more than 2 N, whatever the total that passes through it. */
#ifndef MLD_BUFQ_H
#define MLD_BUFQ_H

#include <stdbool.h>
#include <stddef.h>

/* An emptied queue keeps this much memory for the next bytes. */
#define BUFQ_KEEP (16u * 1024u)

/* Zero-initialise. */
struct bufq {
    char *data;
    size_t off; /* first byte still queued */
    size_t end; /* one past the last */
    size_t cap;
};

/* Bytes queued. */
static inline size_t bufq_len(const struct bufq *q)
{
    return q->end - q->off;
}

/* The first queued byte (bufq_len() of them follow), or NULL when empty. */
static inline const char *bufq_head(const struct bufq *q)
{
    return q->end > q->off ? q->data + q->off : NULL;
}

/* Adds @n bytes at the back. */
void bufq_push(struct bufq *q, const void *bytes, size_t n);

/* Makes room for @n more bytes at the back without moving again. */
void bufq_reserve(struct bufq *q, size_t n);

/* Takes @n bytes (at most bufq_len()) off the front. */
void bufq_drop(struct bufq *q, size_t n);

/* Empties the queue (keeping at most BUFQ_KEEP bytes of memory). */
void bufq_clear(struct bufq *q);

/* Frees the memory; the queue is empty and usable again. */
void bufq_free(struct bufq *q);

/* Hands the queued bytes to the caller as one malloc()ed block of @ret_len
 * bytes (NULL when empty) and empties the queue. */
char *bufq_steal(struct bufq *q, size_t *ret_len);

/* Memory the queue holds (for tests and accounting). */
static inline size_t bufq_capacity(const struct bufq *q)
{
    return q->cap;
}

#endif
