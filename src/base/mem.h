/* mem.h: allocation that never returns NULL.
 *
 * Running out of memory is not an error the daemon can answer sensibly in the
 * middle of a request, so these wrappers log and abort, and callers never
 * check for NULL (as chrony does). Limits on what clients and masters can make
 * us allocate live where the input is read, not here. */
#ifndef MLD_MEM_H
#define MLD_MEM_H

#include <stddef.h>

/* malloc() that aborts on failure. */
void *xmalloc(size_t size) __attribute__((malloc, returns_nonnull));

/* calloc() that aborts on failure and on overflow of @n * @size. */
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));

/* realloc() that aborts on failure. */
void *xrealloc(void *ptr, size_t size) __attribute__((returns_nonnull));

/* reallocarray() that aborts on failure and on overflow. */
void *xreallocarray(void *ptr, size_t n, size_t size) __attribute__((returns_nonnull));

/* strdup() that aborts on failure; NULL stays NULL. */
char *xstrdup(const char *s) __attribute__((malloc));

/* strndup() that aborts on failure. */
char *xstrndup(const char *s, size_t n) __attribute__((malloc, returns_nonnull));

/* asprintf() that aborts on failure. */
char *xasprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), malloc, returns_nonnull));

/* Allocates one zeroed object of type T. */
#define xnew(T) ((T *)xcalloc(1, sizeof(T)))

/* free() that also clears the pointer: freep(&p). */
#define freep(pp)     \
    do {              \
        free(*(pp));  \
        *(pp) = NULL; \
    } while (0)

#endif
