/* zkurl.h: ZooKeeper URLs exactly as Mesos's --zk flag takes them.
 *
 *   zk://host:port[,host:port...]/path
 *   zk://user:password@host:port[,...]/path     (ZooKeeper "digest" auth)
 *   file:///path/to/file                         (the file holds one of the above)
 *
 * A host without a port gets ZooKeeper's 2181. IPv6 hosts are written in
 * brackets: zk://[::1]:2181/mesos. The path must name a znode below the root. */
#ifndef MLD_ZKURL_H
#define MLD_ZKURL_H

#include "base/errbuf.h"

/* A parsed URL; every string is owned. */
struct zkurl {
    char *hosts;       /* connect string for zookeeper_init: "h1:p1,h2:p2" */
    char *path;        /* znode path, no trailing slash: "/mesos" */
    char *credentials; /* "user:password" for digest auth, or NULL */
};

/* Parses @text into @ret. On failure @err says what is wrong and @ret is
 * untouched. A file:// URL is read and its content parsed (at most one level
 * of indirection). */
int zkurl_parse(const char *text, struct zkurl *ret, struct errbuf *err);

/* Returns the URL as text with the password replaced by "***" (for logs and
 * status lines); the caller frees it. */
char *zkurl_to_redacted(const struct zkurl *url);

/* Returns the digest user name (the part before ':'), or NULL; caller frees. */
char *zkurl_user(const struct zkurl *url);

/* Returns whether two URLs name the same ensemble, path and credentials. */
int zkurl_equal(const struct zkurl *a, const struct zkurl *b);

/* Frees the strings; @url may be zeroed or partly filled. */
void zkurl_done(struct zkurl *url);

#endif
