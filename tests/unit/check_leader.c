/* check_leader.c: unit tests of the leader store: when a snapshot names
 * another leader (the epoch changes), and that the "leader changed" log line
 * follows the same rule. */
#include "config.h"

#include "base/log.h"
#include "base/mem.h"
#include "zk/leader.h"

#include "unit/unit.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A snapshot naming @znode (or nobody) at @address ("" when unknown). */
static struct leader_snapshot *snap(enum leader_state state, enum zk_session session,
                                    const char *znode, const char *address)
{
    struct leader_snapshot *s = leader_snapshot_new();

    s->state = state;
    s->session = session;
    s->znode = xstrdup(znode);
    snprintf(s->address, sizeof(s->address), "%s", address);
    if (state == LEADER_KNOWN)
        s->info.id = xstrdup("id");
    else
        s->reason = xstrdup("why");
    return s;
}

/* Sends the log (stderr) to a new temporary file; returns the saved stderr. */
static int capture_log(char **ret_path)
{
    int saved = dup(STDERR_FILENO), fd;

    *ret_path = strdup("/tmp/check_leader_XXXXXX");
    fd = mkstemp(*ret_path);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return saved;
}

/* Restores stderr; returns how many "leader changed" lines were logged and
 * the log in @ret_text (caller frees). */
static int end_capture(int saved, char *path, char **ret_text)
{
    char *text = xcalloc(1, 65536);
    int fd = open(path, O_RDONLY), count = 0;

    dup2(saved, STDERR_FILENO);
    close(saved);
    ck_assert_int_ge(read(fd, text, 65535), 0);
    close(fd);
    unlink(path);
    free(path);
    for (const char *p = strstr(text, "leader changed"); p; p = strstr(p + 1, "leader changed"))
        count++;
    *ret_text = text;
    return count;
}

START_TEST(same_identity_rule)
{
    struct leader_snapshot *a = snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_1", "h:1");
    struct leader_snapshot *unread = snap(LEADER_ELECTING, ZK_SESSION_CONNECTED, "json.info_1", "");
    struct leader_snapshot *moved = snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_1", "h:2");
    struct leader_snapshot *other = snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_2", "h:1");
    struct leader_snapshot *none1 = snap(LEADER_NONE, ZK_SESSION_CONNECTED, NULL, "");
    struct leader_snapshot *none2 = snap(LEADER_NONE, ZK_SESSION_EXPIRED, NULL, "");

    ck_assert(leader_same_identity(a, a));
    ck_assert(leader_same_identity(a, unread)); /* its data not read yet */
    ck_assert(leader_same_identity(unread, a));
    ck_assert(!leader_same_identity(a, moved)); /* the same name elsewhere */
    ck_assert(!leader_same_identity(a, other));
    ck_assert(!leader_same_identity(a, none1));
    ck_assert(!leader_same_identity(none1, a));
    ck_assert(leader_same_identity(none1, none2));
    leader_snapshot_unref(a);
    leader_snapshot_unref(unread);
    leader_snapshot_unref(moved);
    leader_snapshot_unref(other);
    leader_snapshot_unref(none1);
    leader_snapshot_unref(none2);
}
END_TEST

/* A life: elected, read, connection lost, expired, read again, a new
 * leader, nobody. Three changes of leader, each counted and logged once. */
START_TEST(epoch_and_log_agree)
{
    struct leader_snapshot *life[] = {
        snap(LEADER_ELECTING, ZK_SESSION_CONNECTED, "json.info_1", ""),
        snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_1", "10.0.0.1:5050"),
        snap(LEADER_KNOWN, ZK_SESSION_CONNECTING, "json.info_1", "10.0.0.1:5050"),
        snap(LEADER_NONE, ZK_SESSION_EXPIRED, "json.info_1", "10.0.0.1:5050"),
        snap(LEADER_NONE, ZK_SESSION_CONNECTED, "json.info_1", "10.0.0.1:5050"),
        snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_1", "10.0.0.1:5050"),
        snap(LEADER_ELECTING, ZK_SESSION_CONNECTED, "json.info_2", ""),
        snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_2", "10.0.0.2:5050"),
        snap(LEADER_NONE, ZK_SESSION_CONNECTED, NULL, ""),
    };
    const bool changes[] = {true, false, false, false, false, false, true, false, true};
    struct leader_store *store = leader_store_new();
    const struct leader_snapshot *now;
    char *path, *log;
    int saved, lines;

    log_init("check_leader", LOG_NOTICE);
    saved = capture_log(&path);
    for (size_t i = 0; i < sizeof(life) / sizeof(life[0]); i++)
        ck_assert_msg(leader_store_publish(store, life[i]) == changes[i], "snapshot %zu", i);
    lines = end_capture(saved, path, &log);
    now = leader_store_get(store);
    ck_assert_int_eq(now->changes, 3);
    ck_assert_int_eq(lines, 3);
    ck_assert_ptr_nonnull(strstr(log, "now 10.0.0.1:5050 (znode 'json.info_1'"));
    ck_assert_ptr_nonnull(strstr(log, "now 10.0.0.2:5050 (znode 'json.info_2', id 'id', version "
                                      "unknown), was 10.0.0.1:5050"));
    ck_assert_ptr_nonnull(strstr(log, "now none (why), was 10.0.0.2:5050"));
    leader_snapshot_unref(now);
    leader_store_free(store);
    free(log);
}
END_TEST

/* The same znode name at another address (a reload to another ensemble)
 * is another leader, for the epoch and the log alike. */
START_TEST(same_name_elsewhere_is_a_change)
{
    struct leader_store *store = leader_store_new();
    char *path, *log;
    int saved, lines;

    log_init("check_leader", LOG_NOTICE);
    saved = capture_log(&path);
    ck_assert(leader_store_publish(
        store, snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_1", "10.0.0.1:5050")));
    ck_assert(leader_store_publish(
        store, snap(LEADER_KNOWN, ZK_SESSION_CONNECTED, "json.info_1", "10.9.9.9:5050")));
    lines = end_capture(saved, path, &log);
    ck_assert_int_eq(lines, 2);
    ck_assert_ptr_nonnull(strstr(log, "now 10.9.9.9:5050 (znode 'json.info_1', id 'id', version "
                                      "unknown), was 10.0.0.1:5050"));
    leader_store_free(store);
    free(log);
}
END_TEST

START_TEST(new_store_has_no_session_yet)
{
    struct leader_store *store = leader_store_new();
    const struct leader_snapshot *s = leader_store_get(store);

    ck_assert_int_eq(s->session, ZK_SESSION_NEVER_CONNECTED);
    ck_assert_str_eq(zk_session_name(s->session), "never_connected");
    ck_assert_str_eq(zk_session_name(ZK_SESSION_CONNECTING), "connecting");
    ck_assert_str_eq(zk_session_name(ZK_SESSION_EXPIRED), "expired");
    ck_assert_int_eq(s->state, LEADER_NONE);
    leader_snapshot_unref(s);
    leader_store_free(store);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {same_identity_rule, epoch_and_log_agree,
                                  same_name_elsewhere_is_a_change, new_store_has_no_session_yet,
                                  NULL};

    return unit_run(unit_suite("leader", tests));
}
