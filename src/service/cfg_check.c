/* cfg_check.c: the checks made once every source has been read (errors),
 * and the valid but risky configurations cfg_warn() tells about. */
#include "config.h"

#include "service/cfg_check.h"
#include "service/cfg_cluster.h"
#include "service/cfg_table.h"
#include "service/listenaddr.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- errors ------------------------------------------------------------------ */

/* "ORIGIN: " for setting @idx of @c, or "" for a default. */
static const char *origin_prefix(const struct cfg_cluster *c, size_t idx, char *buf, size_t size)
{
    if (!c->origin[idx])
        return "";
    snprintf(buf, size, "%s: ", c->origin[idx]);
    return buf;
}

static int check_readable(const struct cfg_cluster *c, const char *key, struct errbuf *err)
{
    int i = cfg_setting_index(key);
    const char *path = i < 0 ? NULL : cfg_table_text(c, cfg_table_at((size_t)i));
    char where[PATH_MAX + 48];

    if (path && access(path, R_OK) < 0)
        return errbuf_set(err, -errno, "%s'%s' = '%s' cannot be read: %s",
                          origin_prefix(c, (size_t)i, where, sizeof(where)), key, path,
                          strerror(errno));
    return 0;
}

static int check_cluster(struct cfg_cluster *c, bool files_readable, struct errbuf *err)
{
    char where[PATH_MAX + 48];
    int r;

    zkurl_done(&c->zk_url);
    r = zkurl_parse(c->zk, &c->zk_url, err);
    if (r < 0)
        return errbuf_prefix(err, r, "%s'zk' is invalid",
                             origin_prefix(c, CFG_IDX_ZK, where, sizeof(where)));
    if (files_readable && ((r = check_readable(c, "ca-file", err)) < 0 ||
                           (r = check_readable(c, "cert-file", err)) < 0 ||
                           (r = check_readable(c, "key-file", err)) < 0))
        return r;
    if ((c->cert_file != NULL) != (c->key_file != NULL)) {
        int set = cfg_setting_index(c->cert_file ? "cert-file" : "key-file");
        return errbuf_set(err, -EINVAL, "%s'cert-file' and 'key-file' go together",
                          origin_prefix(c, (size_t)set, where, sizeof(where)));
    }
    cfg_cluster_derive(c);
    return 0;
}

int cfg_check_clusters(struct cfg *cfg, bool files_readable, struct errbuf *err)
{
    int r;

    for (size_t k = 0; k < cfg->n_clusters; k++) {
        r = check_cluster(&cfg->clusters[k], files_readable, err);
        if (r < 0)
            return cfg->has_sections ? errbuf_prefix(err, r, "cluster '%s'", cfg->clusters[k].name)
                                     : r;
    }
    return 0;
}

/* --- warnings --------------------------------------------------------------- */

static void warnf(cfg_warn_fn *fn, void *data, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warnf(cfg_warn_fn *fn, void *data, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fn(data, msg);
}

/* Warns when @path, which holds ZooKeeper credentials, is world-readable. */
static void warn_if_readable(const char *path, const char *what, cfg_warn_fn *fn, void *data)
{
    struct stat st;

    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
        warnf(fn, data,
              "%s '%s' holds ZooKeeper credentials and is readable by every user; chmod o-r it",
              what, path);
}

void cfg_warn(const struct cfg *cfg, cfg_warn_fn *fn, void *data)
{
    bool file_warned = false;

    for (size_t k = 0; k < cfg->n_clusters; k++) {
        const struct cfg_cluster *c = &cfg->clusters[k];
        struct listenaddr spec;
        char who[CFG_CLUSTER_NAME_MAX + 16] = "";
        if (c->name[0])
            snprintf(who, sizeof(who), "cluster '%s': ", c->name);
        if (listenaddr_parse(c->listen, &spec, NULL) == 0 && !listenaddr_is_loopback(&spec))
            warnf(fn, data,
                  "%slistening on '%s', which is not a loopback address: every host that can "
                  "reach it can use the Mesos API with the credentials its calls carry",
                  who, c->listen);
        if (!c->zk_url.credentials)
            continue;
        /* The password sits in the configuration file itself only when the
         * file names a zk:// URL (a file:// URL points to where it is). */
        if (c->zk_from_file && cfg->config_file && strncmp(c->zk, "zk://", 5) == 0 &&
            !file_warned) {
            warn_if_readable(cfg->config_file, "the configuration file", fn, data);
            file_warned = true;
        }
        if (strncmp(c->zk, "file://", 7) == 0)
            warn_if_readable(c->zk + 7, "the ZooKeeper URL file", fn, data);
    }
}
