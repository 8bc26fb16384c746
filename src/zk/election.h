/* election.h: the leader rule of Mesos, as a pure function of child names.
 *
 * Masters join the election by creating ephemeral sequential znodes named
 * "<label>_<sequence>" (or just "<sequence>"). Like Mesos's group membership
 * code, a name is split on '_' (empty pieces dropped): the label is the first
 * piece when there is more than one, the sequence is the last piece read as a
 * decimal number. Names whose last piece is not a number ("log_replicas") are
 * not members. The leader is the member with the lowest sequence, compared as
 * a number across all labels. Sequences are signed 64-bit: ZooKeeper's counter
 * is a signed 32-bit value that wraps to negative numbers after 2^31-1, and a
 * wrapped number is then the lowest, as it is for Mesos. */
#ifndef MLD_ELECTION_H
#define MLD_ELECTION_H

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

#endif
