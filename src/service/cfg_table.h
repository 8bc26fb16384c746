/* cfg_table.h: the settings table as the configuration's own files see it:
 * each setting's type, where its value is stored and its bounds; reading,
 * storing and writing back a value; the defaults. Private to the files of
 * the configuration (cfg*.c); the rest of the program uses cfg.h.
 *
 * A value lives in a struct cfg_cluster (per-cluster settings) or in the
 * struct cfg (daemon-wide ones); the functions below take either as @base,
 * whichever the setting's scope names. */
#ifndef MLD_CFG_TABLE_H
#define MLD_CFG_TABLE_H

#include "base/errbuf.h"
#include "service/cfg.h"

#include <stdbool.h>
#include <stddef.h>

/* The kinds of values; the text kinds come first. */
enum value_type {
    T_STRING,    /* any non-empty text */
    T_LISTEN,    /* a listen address, checked by listenaddr_parse() */
    T_ZK,        /* a ZooKeeper URL, checked by zkurl_parse() once all is read */
    T_SCHEME,    /* http or https */
    T_PATH_LIST, /* comma-separated URL paths, may be empty */
    T_DURATION_MS,
    T_SIZE,
    T_UINT,
    T_MODE,
    T_LOGLEVEL,
};

/* One setting: what cfg.h shows of it, and how it is stored. Numbers are
 * bounded by [min, max] in their unit. */
struct setting {
    struct cfg_setting pub;
    enum value_type type;
    size_t offset; /* into struct cfg_cluster, or struct cfg for CFG_SCOPE_DAEMON */
    unsigned long long min, max;
};

/* The table indexes of "listen" and "zk", which [cluster] sections and
 * the checks treat apart. */
#define CFG_IDX_LISTEN 0
#define CFG_IDX_ZK     2

/* Where a value came from. */
enum cfg_source { CFG_SRC_DEFAULT, CFG_SRC_FILE, CFG_SRC_ENV, CFG_SRC_ARGS };

/* Setting @i, or NULL past the last one. */
const struct setting *cfg_table_at(size_t i);

/* How many settings the table holds (at most CFG_MAX_SETTINGS). */
size_t cfg_table_count(void);

/* The setting @key, or NULL. */
const struct setting *cfg_table_find(const char *key);

/* The index of @s in the table. */
size_t cfg_table_index(const struct setting *s);

/* MESOS_LEADERD_<KEY> for @s into @var. */
void cfg_table_env_name(const struct setting *s, char *var, size_t size);

/* " (did you mean 'max-body'?)" when @word is close to a key, else "";
 * with @as_variable, the hint names the variable (MESOS_LEADERD_MAX_BODY). */
void cfg_table_suggest(const char *word, bool as_variable, char *out, size_t size);

/* Whether @s holds text (a char * field) rather than a number. */
bool cfg_table_is_text(const struct setting *s);

/* The text field of @s in @base, for the text kinds. */
char **cfg_table_text_field(void *base, const struct setting *s);

/* The text of @s in @base (NULL when unset), for the text kinds. */
const char *cfg_table_text(const void *base, const struct setting *s);

/* The number of @s in @base, for the number kinds. */
unsigned long long cfg_table_number(const void *base, const struct setting *s);

/* Stores the number @v as @s in @base, unchecked. */
void cfg_table_store_number(void *base, const struct setting *s, unsigned long long v);

/* Stores a copy of @value (may be NULL) as @s in @base, unchecked. */
void cfg_table_store_text(void *base, const struct setting *s, const char *value);

/* The value of @s in @base as it would be written in the file. */
void cfg_table_format(const void *base, const struct setting *s, char *out, size_t size);

/* Sets @s from text in @cfg (daemon-wide) or @cl; @where says where the
 * value came from, for errors and for later checks (NULL: a default). */
int cfg_table_apply(struct cfg *cfg, struct cfg_cluster *cl, const struct setting *s,
                    const char *value, enum cfg_source src, const char *where, struct errbuf *err);

/* Sets @s from the environment or the command line: daemon-wide, or in
 * every cluster. With sections, "zk" and "listen" cannot come from there. */
int cfg_table_apply_everywhere(struct cfg *cfg, const struct setting *s, const char *value,
                               enum cfg_source src, const char *where, struct errbuf *err);

/* Sets the daemon-wide defaults in @cfg, and makes @base a cluster named ""
 * with the per-cluster ones. */
void cfg_table_defaults(struct cfg *cfg, struct cfg_cluster *base);

#endif
