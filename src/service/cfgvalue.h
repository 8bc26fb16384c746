/* cfgvalue.h: the kinds of values settings take, read from text and written
 * back as text: durations, sizes, octal modes, whole numbers, lists of URL
 * paths; and the closest known word to a misspelled one.
 *
 * Pure functions: no allocation except where stated, no global state. */
#ifndef MLD_CFGVALUE_H
#define MLD_CFGVALUE_H

#include "base/errbuf.h"

#include <stddef.h>

/* The most paths a path list may hold, and the longest path. */
#define CFGVALUE_PATHS_MAX    64
#define CFGVALUE_PATH_LEN_MAX 1024

/* "500ms", "10s", "2m", "2min", "1h", or a bare number of seconds, into
 * milliseconds. -EINVAL, or -ERANGE when it overflows. */
int cfgvalue_duration_ms(const char *text, unsigned long long *ret);

/* "1024", "64k", "64KiB", "16M", "1G"... (binary multiples) into bytes. */
int cfgvalue_size(const char *text, unsigned long long *ret);

/* One to four octal digits ("0660"). */
int cfgvalue_mode(const char *text, unsigned long long *ret);

/* A whole number without a unit. */
int cfgvalue_uint(const char *text, unsigned long long *ret);

/* Writes a duration in milliseconds in the largest unit that gives a whole
 * number of at least 2 (seconds always do): "2h", "2m", "60s", "1500ms", "0". */
void cfgvalue_format_duration(unsigned long long ms, char *out, size_t size);

/* Writes a size as the largest whole binary unit: "16MiB", "64KiB", "100". */
void cfgvalue_format_size(unsigned long long bytes, char *out, size_t size);

/* Checks a comma-separated list of URL paths ("/state, /tasks"); spaces
 * around the commas are allowed, an empty list (or only spaces) means none.
 * Each path starts with '/' and holds no space, '?' or '#'. */
int cfgvalue_check_paths(const char *text, struct errbuf *err);

/* The paths of a list that cfgvalue_check_paths() accepted, as a
 * NULL-terminated array of new strings (free with cfgvalue_free_paths()). */
char **cfgvalue_split_paths(const char *text);

/* Frees what cfgvalue_split_paths() returned; NULL is fine. */
void cfgvalue_free_paths(char **paths);

/* The edit distance (insertions, deletions, substitutions) between @a and
 * @b, ignoring case and counting '_' and '-' as equal; capped at 255. */
unsigned cfgvalue_distance(const char *a, const char *b);

/* The word among @n @words closest to @word, if it is close enough to be a
 * misspelling of it (at most 3 edits, and at most a third of its length);
 * NULL otherwise. */
const char *cfgvalue_closest(const char *word, const char *const *words, size_t n);

#endif
