/* bufq.c: a byte queue whose memory follows what is queued. */
#include "config.h"

#include "base/bufq.h"
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>

/* Moves the queued bytes to the front when the space before them is at
 * least as large as they are: each byte is moved at most once per time the
 * queue's length is taken through the front, so the cost stays linear. */
static void compact(struct bufq *q)
{
    size_t len = bufq_len(q);

    if (q->off == 0 || q->off < len)
        return;
    if (len)
        memmove(q->data, q->data + q->off, len);
    q->off = 0;
    q->end = len;
}

void bufq_reserve(struct bufq *q, size_t n)
{
    size_t need, cap;

    if (q->cap - q->end >= n)
        return;
    compact(q);
    need = q->end + n;
    if (need <= q->cap)
        return;
    cap = q->cap ? q->cap : 1024;
    while (cap < need)
        cap *= 2;
    q->data = xrealloc(q->data, cap);
    q->cap = cap;
}

void bufq_push(struct bufq *q, const void *bytes, size_t n)
{
    if (n == 0)
        return;
    bufq_reserve(q, n);
    memcpy(q->data + q->end, bytes, n);
    q->end += n;
}

void bufq_drop(struct bufq *q, size_t n)
{
    size_t len = bufq_len(q);

    q->off += n < len ? n : len;
    if (q->off == q->end)
        bufq_clear(q);
}

void bufq_clear(struct bufq *q)
{
    q->off = q->end = 0;
    if (q->cap > BUFQ_KEEP) {
        q->data = xrealloc(q->data, BUFQ_KEEP);
        q->cap = BUFQ_KEEP;
    }
}

void bufq_free(struct bufq *q)
{
    free(q->data);
    *q = (struct bufq){0};
}

char *bufq_steal(struct bufq *q, size_t *ret_len)
{
    size_t len = bufq_len(q);
    char *data;

    *ret_len = len;
    if (len == 0) {
        bufq_clear(q);
        return NULL;
    }
    if (q->off)
        memmove(q->data, q->data + q->off, len);
    data = q->data;
    *q = (struct bufq){0};
    return data;
}
