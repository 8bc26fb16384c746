/* election.h: the leader rule of Mesos, as pure functions: from the child
 * names of the election path and the members' decoded data to the leader.
 *
 * Masters join the election by creating ephemeral sequential znodes named
 * "<label>_<sequence>" (or just "<sequence>"). Like Mesos's group membership
 * code, a name is split on '_' (empty pieces dropped): the label is the first
 * piece when there is more than one, the sequence is the last piece read as a
 * decimal number. Names whose last piece is not a number ("log_replicas") are
 * not members. The leader is the member with the lowest sequence, compared as
 * a number across all labels. Sequences are signed 64-bit: ZooKeeper's counter
 * is a signed 32-bit value that wraps to negative numbers after 2^31-1, and a
 * wrapped number is then the lowest, as it is for Mesos.
 *
 * The decision: the lowest member leads. Until its data has been read the
 * leader is being elected; if its data cannot be decoded (or names no
 * address) there is no leader, as in Mesos: a standby is never promoted in
 * its place. */
#ifndef MLD_ELECTION_H
#define MLD_ELECTION_H

#include "zk/leader.h"
#include "zk/masterinfo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One member of the election group. */
struct election_member {
    char *name;  /* the znode's name, owned */
    char *label; /* "json.info", "info", ..., or NULL for none; owned */
    int64_t sequence;
};

/* Splits one child name; -EINVAL when it is not a member. */
int election_parse_name(const char *name, struct election_member *ret);

/* Builds the members from @n child names, sorted in election order (lowest
 * sequence first, ties by name), into a new array in @ret (*ret_n entries).
 * Non-members are skipped. */
void election_order(const char *const *names, size_t n, struct election_member **ret,
                    size_t *ret_n);

/* Frees an array from election_order(). */
void election_members_free(struct election_member *members, size_t n);

/* One member's data, as read from ZooKeeper and decoded. Zero-initialise;
 * an entry with done false is being read. */
struct election_data {
    char *znode; /* the member's name, owned */
    bool done;   /* read (decoded or not) */
    bool retry;  /* the read was refused (ACL): to be read again later */
    bool ok;     /* info is valid */
    struct master_info info;
    struct master_endpoint endpoint;
    bool has_endpoint;
    char *error;        /* why it cannot be used, or NULL; owned */
    const char *legacy; /* an outdated encoding worth a warning, or NULL; static */
};

/* Decodes the @len bytes at @data (NUL-terminated) read from member @znode
 * by its label, into @ret (whose znode is set by the caller); marks it
 * done. Returns 0 when it names an address, -EINVAL (error set) otherwise. */
int election_decode(const char *znode, const char *data, size_t len, struct election_data *ret);

/* Frees what @d owns (not @d itself). */
void election_data_done(struct election_data *d);

/* What a tracker knows of the election group, for the decision. */
struct election_view {
    const char *path;                      /* the election path, for reasons */
    const char *path_problem;              /* why it cannot be listed, or NULL */
    const struct election_member *members; /* in election order */
    size_t n_members;
    const struct election_data *data; /* the members' data, in any order */
    size_t n_data;
    bool read_all; /* every member's data is wanted, not only the leader's */
};

/* At most this many members, from the lowest, are listed in a snapshot and
 * have their data read (a Mesos cluster has a handful of masters: anyone
 * who may create znodes under the election path must not make every daemon
 * read and publish thousands). */
#define ELECTION_LIST_MAX 64

/* The data of @znode in @v, or NULL. */
const struct election_data *election_find(const struct election_view *v, const char *znode);

/* How many members, from the lowest, have their data wanted. */
size_t election_wanted(const struct election_view *v);

/* Whether the data of every wanted member has been read. */
bool election_reads_complete(const struct election_view *v);

/* Decides: fills the leader part of @s (state, reason, znode, info,
 * endpoint, address) and its masters, in election order. */
void election_decide(const struct election_view *v, struct leader_snapshot *s);

#endif
