/* cfg_cluster.c: the settings of one cluster as a whole: what is derived
 * from them (the proxy configuration), deep copies, comparison, and what a
 * reload may change (cfg_cluster_hold_restart()). */
#include "config.h"

#include "service/cfg_cluster.h"
#include "base/mem.h"
#include "service/cfg_table.h"
#include "service/cfgvalue.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- derived values ---------------------------------------------------------- */

/* Fills the proxy configuration from the cluster's own values. */
static void fill_proxy(struct cfg_cluster *c)
{
    c->proxy = (struct proxy_config){
        .max_body = (size_t)c->max_body,
        .max_connections = c->max_connections,
        .client_idle_timeout_s = (unsigned)((c->client_idle_timeout_ms + 999) / 1000),
        .stream_idle_timeout_ms = c->stream_idle_timeout_ms,
        .upstream_timeout_ms = c->upstream_timeout_ms,
        .retry_tries = c->retry_tries,
        .retry_budget_ms = c->retry_budget_ms,
        .upstream = {.https = strcmp(c->upstream_scheme, "https") == 0,
                     .ca_file = c->ca_file,
                     .cert_file = c->cert_file,
                     .key_file = c->key_file,
                     .connect_timeout_ms = (long)c->connect_timeout_ms},
        .state_cache_ttl_ms = c->state_cache_ttl_ms,
        .shared_reads = (const char *const *)c->shared_read_paths,
        .cluster = c->name,
    };
}

void cfg_cluster_derive(struct cfg_cluster *c)
{
    cfgvalue_free_paths(c->shared_read_paths);
    c->shared_read_paths = cfgvalue_split_paths(c->shared_reads);
    fill_proxy(c);
}

/* --- copies ------------------------------------------------------------------ */

void cfg_cluster_done(struct cfg_cluster *c)
{
    const struct setting *s;

    if (!c)
        return;
    free(c->name);
    for (size_t i = 0; (s = cfg_table_at(i)); i++) {
        if (s->pub.scope == CFG_SCOPE_CLUSTER && cfg_table_is_text(s))
            free(*cfg_table_text_field(c, s));
        free(c->origin[i]);
    }
    zkurl_done(&c->zk_url);
    cfgvalue_free_paths(c->shared_read_paths);
    free(c->section);
    *c = (struct cfg_cluster){0};
}

void cfg_cluster_copy(struct cfg_cluster *ret, const struct cfg_cluster *src)
{
    const struct setting *s;

    *ret = *src;
    ret->name = xstrdup(src->name);
    for (size_t i = 0; (s = cfg_table_at(i)); i++) {
        if (s->pub.scope == CFG_SCOPE_CLUSTER && cfg_table_is_text(s)) {
            char **f = cfg_table_text_field(ret, s);
            *f = xstrdup(*f);
        }
        ret->origin[i] = xstrdup(src->origin[i]);
    }
    ret->zk_url = (struct zkurl){xstrdup(src->zk_url.hosts), xstrdup(src->zk_url.path),
                                 xstrdup(src->zk_url.credentials)};
    ret->shared_read_paths = NULL;
    if (src->shared_read_paths) {
        size_t n = 0;
        while (src->shared_read_paths[n])
            n++;
        ret->shared_read_paths = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
            ret->shared_read_paths[i] = xstrdup(src->shared_read_paths[i]);
    }
    ret->section = xstrdup(src->section);
    fill_proxy(ret);
}

const struct cfg_cluster *cfg_find_cluster(const struct cfg *cfg, const char *name)
{
    for (size_t k = 0; k < cfg->n_clusters; k++) {
        if (strcmp(cfg->clusters[k].name, name) == 0)
            return &cfg->clusters[k];
    }
    return NULL;
}

/* --- comparison and reloads ---------------------------------------------------- */

static bool same_value(const struct cfg_cluster *a, const struct cfg_cluster *b,
                       const struct setting *s)
{
    const char *x, *y;

    if (!cfg_table_is_text(s))
        return cfg_table_number(a, s) == cfg_table_number(b, s);
    if (s->type == T_ZK && a->zk_url.hosts && b->zk_url.hosts)
        return zkurl_equal(&a->zk_url, &b->zk_url);
    x = cfg_table_text(a, s);
    y = cfg_table_text(b, s);
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

size_t cfg_cluster_diff(const struct cfg_cluster *a, const struct cfg_cluster *b,
                        void (*fn)(void *data, const struct cfg_setting *s), void *data)
{
    const struct setting *s;
    size_t n = 0;

    for (size_t i = 0; (s = cfg_table_at(i)); i++) {
        if (s->pub.scope != CFG_SCOPE_CLUSTER || same_value(a, b, s))
            continue;
        n++;
        if (fn)
            fn(data, &s->pub);
    }
    return n;
}

bool cfg_cluster_equal(const struct cfg_cluster *a, const struct cfg_cluster *b)
{
    return cfg_cluster_diff(a, b, NULL, NULL) == 0;
}

/* Puts the value of @s in @from into @to. */
static void copy_value(struct cfg_cluster *to, const struct cfg_cluster *from,
                       const struct setting *s)
{
    if (cfg_table_is_text(s))
        cfg_table_store_text(to, s, cfg_table_text(from, s));
    else
        cfg_table_store_number(to, s, cfg_table_number(from, s));
}

/* Keeps the value at start of one setting, if it must be kept; says so. */
static void hold_one(const struct cfg_cluster *started, struct cfg_cluster *next,
                     const struct setting *s, cfg_warn_fn *fn, void *data)
{
    char was[256], wanted[256], msg[1024], who[CFG_CLUSTER_NAME_MAX + 16] = "";

    if (s->pub.reload == CFG_RELOAD_APPLIES || same_value(started, next, s))
        return;
    if (s->pub.reload == CFG_RELOAD_LOWER_ONLY &&
        cfg_table_number(next, s) <= cfg_table_number(started, s))
        return;
    cfg_table_format(started, s, was, sizeof(was));
    cfg_table_format(next, s, wanted, sizeof(wanted));
    if (next->name[0])
        snprintf(who, sizeof(who), "cluster '%s': ", next->name);
    if (s->pub.reload == CFG_RELOAD_LOWER_ONLY)
        snprintf(msg, sizeof(msg), "%s'%s' = %s: it can grow past %s only with a restart; still %s",
                 who, s->pub.key, wanted, was, was);
    else
        snprintf(msg, sizeof(msg), "%s'%s' changed to %s: that takes a restart; still %s", who,
                 s->pub.key, wanted, was);
    copy_value(next, started, s);
    fn(data, msg);
}

void cfg_cluster_hold_restart(const struct cfg_cluster *started, struct cfg_cluster *next,
                              cfg_warn_fn *fn, void *data)
{
    const struct setting *s;

    for (size_t i = 0; (s = cfg_table_at(i)); i++) {
        if (s->pub.scope == CFG_SCOPE_CLUSTER)
            hold_one(started, next, s, fn, data);
    }
    cfg_cluster_derive(next);
}
