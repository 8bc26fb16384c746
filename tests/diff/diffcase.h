/* diffcase.h: the differential harness's cases: one file per exchange in
 * tests/diff/corpus/, in the text format tests/diff/README.md describes:
 * what the client sends (exact bytes, in steps), and optionally the raw
 * answer the master gives. Pure: parsing only. */
#ifndef MLD_DIFFCASE_H
#define MLD_DIFFCASE_H

#include "base/errbuf.h"
#include "base/strbuf.h"

#include <stdbool.h>
#include <stddef.h>

enum dcase_step_kind {
    DCASE_SEND,  /* send these bytes, then wait for the answers they call for */
    DCASE_UNTIL, /* read until the answer's body holds this text, then hang up */
};

struct dcase_step {
    enum dcase_step_kind kind;
    struct strbuf bytes;
};

struct dcase {
    char *name;  /* the file name without ".case" */
    char *about; /* the leading comment, one line per comment line */
    bool stream; /* the answer is an event stream */
    /* the raw answer, when the case has a [master] section */
    bool raw;
    char *raw_path;
    struct strbuf raw_bytes;
    unsigned trickle_ms, hold_ms;
    bool before_body;
    struct dcase_step *steps;
    size_t n_steps;
};

/* Decodes one line of byte text (escapes: \r \n \t \\ \xHH and \{N:text},
 * text repeated N times) and appends it to @out. */
int dcase_unescape(const char *text, size_t len, struct strbuf *out, struct errbuf *err);

/* Parses the case @name from @len bytes of @text. */
int dcase_parse(const char *name, const char *text, size_t len, struct dcase *ret,
                struct errbuf *err);

/* Reads and parses the file at @path (its name gives the case's name). */
int dcase_load(const char *path, struct dcase *ret, struct errbuf *err);

/* Frees what @c holds; NULL is fine. */
void dcase_free(struct dcase *c);

#endif
