/* masterinfo.h: what a Mesos master says about itself in its znode.
 *
 * Three encodings exist, chosen by the znode's label:
 *   "json.info_NNNNNNNNNN"  MasterInfo as JSON (Mesos >= 0.24 writes only this);
 *   "info_NNNNNNNNNN"       MasterInfo as binary protobuf (Mesos 0.17 - 0.23);
 *   "NNNNNNNNNN"            the libprocess UPID "master@ip:port" (before 0.17).
 * Any other label cannot be decoded, exactly as in Mesos.
 *
 * All input is untrusted: decoding never crashes, bounds every length and
 * rejects what Mesos would reject (missing required fields id, ip, port). */
#ifndef MLD_MASTERINFO_H
#define MLD_MASTERINFO_H

#include "base/errbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest znode payload we accept (ZooKeeper's own default limit). */
#define MASTERINFO_MAX_DATA (1024 * 1024)

/* The longest host name or address text we accept. */
#define MASTERINFO_HOST_MAX 255

/* MasterInfo.address. */
struct master_address {
    char *hostname; /* or NULL */
    char *ip;       /* textual IPv4/IPv6, or NULL */
    int32_t port;
};

/* The decoded MasterInfo; strings are owned, NULL when absent. */
struct master_info {
    char *id;
    uint32_t ip; /* IPv4 in network byte order as Mesos stores it: first octet is ip & 0xff */
    uint32_t port;
    char *pid;
    char *hostname;
    char *version;
    bool has_address;
    struct master_address address;
    char *region; /* domain.fault_domain.region.name */
    char *zone;   /* domain.fault_domain.zone.name */
    char **capabilities;
    size_t n_capabilities;
};

/* Where to reach a master, and which field said so. */
struct master_endpoint {
    char host[MASTERINFO_HOST_MAX + 1]; /* IPv6 without brackets */
    uint16_t port;
    const char *source; /* "address", "pid" or "ip" */
};

/* Decodes znode data by its label ("json.info", "info", or NULL for none). */
int masterinfo_decode(const char *label, const void *data, size_t len, struct master_info *ret,
                      struct errbuf *err);

/* Decodes MasterInfo JSON as Mesos writes it. */
int masterinfo_from_json(const char *data, size_t len, struct master_info *ret, struct errbuf *err);

/* Decodes a binary protobuf MasterInfo. */
int masterinfo_from_protobuf(const uint8_t *data, size_t len, struct master_info *ret,
                             struct errbuf *err);

/* Decodes a UPID "master@ip:port" into a MasterInfo as Mesos does for the
 * unlabelled format. */
int masterinfo_from_upid(const char *data, size_t len, struct master_info *ret, struct errbuf *err);

/* Picks the address to reach: address.ip (else address.hostname) with
 * address.port; else the pid's ip:port; else the packed ip with port. */
int masterinfo_endpoint(const struct master_info *mi, struct master_endpoint *ret,
                        struct errbuf *err);

/* Formats "host:port" (IPv6 in brackets) into @buf. */
void masterinfo_endpoint_format(const struct master_endpoint *ep, char *buf, size_t size);

/* Encodes @mi as JSON the way Mesos does: keys sorted, set fields only.
 * The caller frees the result. */
char *masterinfo_to_json(const struct master_info *mi);

/* Formats the packed ip as dotted IPv4 into @buf (at least 16 bytes). */
void masterinfo_ip_to_string(uint32_t packed, char *buf, size_t size);

/* Deep-copies @src into @dst. */
void masterinfo_copy(struct master_info *dst, const struct master_info *src);

/* Frees what @mi owns and zeroes it. */
void masterinfo_done(struct master_info *mi);

#endif
