/* check_standin_raw.c: unit tests of the stand-in's raw answers: what a
 * "raw_answer" setting accepts, the table of answers by path, and playing an
 * answer on a socket pair (bytes, trickle, hold, the end of the connection). */
#include "config.h"

#include "standin/standin.h"

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Parses @json as a raw_answer object; returns the result of st_raw_parse. */
static int parse(const char *json, struct st_raw_answer *ret, struct errbuf *err)
{
    json_object *obj = json_tokener_parse(json);
    int rc;

    ck_assert_ptr_nonnull(obj);
    rc = st_raw_parse(obj, ret, err);
    json_object_put(obj);
    return rc;
}

START_TEST(parse_full_spec)
{
    struct st_raw_answer a = {0};
    struct errbuf err = {{0}};

    /* "SFRUUC8xLjEgMjA0IE5vIENvbnRlbnQNCg0K" is "HTTP/1.1 204 No Content\r\n\r\n". */
    ck_assert_int_eq(parse("{\"path\":\"/x/y\",\"bytes\":\"SFRUUC8xLjEgMjA0IE5vIENvbnRlbnQNCg0K\","
                           "\"trickle_ms\":2,\"hold_ms\":50,\"before_body\":true}",
                           &a, &err),
                     0);
    ck_assert_str_eq(a.path, "/x/y");
    ck_assert_uint_eq(a.bytes.len, 27);
    ck_assert_int_eq(memcmp(a.bytes.data, "HTTP/1.1 204 No Content\r\n\r\n", 27), 0);
    ck_assert_uint_eq(a.trickle_ms, 2);
    ck_assert_uint_eq(a.hold_ms, 50);
    ck_assert(a.before_body);
    st_raw_answer_done(&a);
    ck_assert_ptr_null(a.path);
}
END_TEST

START_TEST(parse_rejects_bad_specs)
{
    static const char *const bad[] = {
        "[]",
        "{\"bytes\":\"QQ==\"}",                                /* no path */
        "{\"path\":\"x\",\"bytes\":\"QQ==\"}",                 /* not a path */
        "{\"path\":\"/x?q\",\"bytes\":\"QQ==\"}",              /* a query */
        "{\"path\":\"/__standin/faults\",\"bytes\":\"QQ==\"}", /* control */
        "{\"path\":\"/x\"}",                                   /* nothing to say, no hold */
        "{\"path\":\"/x\",\"bytes\":\"Q!==\"}",                /* not base64 */
        "{\"path\":\"/x\",\"bytes\":7}",
        "{\"path\":\"/x\",\"bytes\":\"QQ==\",\"trickle_ms\":-1}",
        "{\"path\":\"/x\",\"bytes\":\"QQ==\",\"trickle_ms\":1001}",
        "{\"path\":\"/x\",\"bytes\":\"QQ==\",\"hold_ms\":60001}",
        "{\"path\":\"/x\",\"bytes\":\"QQ==\",\"before_body\":1}",
        "{\"path\":\"/x\",\"bytes\":\"QQ==\",\"colour\":1}",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct st_raw_answer a = {0};
        struct errbuf err = {{0}};
        ck_assert_msg(parse(bad[i], &a, &err) == -EINVAL, "accepted %s", bad[i]);
        ck_assert_msg(err.msg[0], "no reason for %s", bad[i]);
        ck_assert_ptr_null(a.path);
    }
}
END_TEST

/* 30 KiB trickled every 1 ms would take 30 s: more than the stand-in allows. */
START_TEST(parse_bounds_trickle_time)
{
    struct strbuf big = {0}, json = {0};
    struct st_raw_answer a = {0};
    struct errbuf err = {{0}};
    char *zeros = calloc(1, 30 * 1024);

    st_base64_encode(&big, zeros, 30 * 1024);
    strbuf_printf(&json, "{\"path\":\"/x\",\"trickle_ms\":1,\"bytes\":\"%s\"}", big.data);
    ck_assert_int_eq(parse(json.data, &a, &err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "longer than"));
    free(zeros);
    strbuf_done(&big);
    strbuf_done(&json);
}
END_TEST

static struct st_raw_answer answer(const char *path, const char *bytes, bool before_body)
{
    struct st_raw_answer a = {.path = strdup(path), .before_body = before_body};

    strbuf_puts(&a.bytes, bytes);
    return a;
}

START_TEST(table_by_path)
{
    struct st_raw_answer a = answer("/a", "one", false), b = answer("/a", "two", false);
    struct st_raw_answer c = answer("/c", "early", true), got = {0};
    struct strbuf json = {0};

    ck_assert_int_eq(st_raw_set(&a), 0);
    ck_assert_ptr_null(a.path);          /* taken over */
    ck_assert_int_eq(st_raw_set(&b), 0); /* replaces the one for /a */
    ck_assert_int_eq(st_raw_set(&c), 0);
    ck_assert(st_raw_find("/a", false, &got));
    ck_assert_str_eq(got.bytes.data, "two");
    st_raw_answer_done(&got);
    ck_assert(!st_raw_find("/a", true, &got));
    ck_assert(!st_raw_find("/a/", false, &got));
    ck_assert(st_raw_find("/c", true, &got));
    st_raw_answer_done(&got);
    ck_assert_uint_eq(st_raw_room(NULL), ST_RAW_MAX_ANSWERS - 2);
    ck_assert_uint_eq(st_raw_room("/a"), ST_RAW_MAX_ANSWERS - 1);
    st_raw_to_json(&json);
    ck_assert_str_eq(json.data, "[{\"before_body\":false,\"bytes_len\":3,\"hold_ms\":0,\"path\":"
                                "\"/a\",\"trickle_ms\":0},{\"before_body\":true,\"bytes_len\":5,"
                                "\"hold_ms\":0,\"path\":\"/c\",\"trickle_ms\":0}]");
    strbuf_done(&json);
    st_raw_clear();
    ck_assert(!st_raw_find("/a", false, &got));
    ck_assert_uint_eq(st_raw_room(NULL), ST_RAW_MAX_ANSWERS);
}
END_TEST

START_TEST(table_is_bounded)
{
    char path[32];

    for (unsigned i = 0; i < ST_RAW_MAX_ANSWERS; i++) {
        snprintf(path, sizeof(path), "/p%u", i);
        struct st_raw_answer a = answer(path, "x", false);
        ck_assert_int_eq(st_raw_set(&a), 0);
    }
    struct st_raw_answer extra = answer("/one-too-many", "x", false);
    ck_assert_int_eq(st_raw_set(&extra), -ENOSPC);
    ck_assert_uint_eq(st_raw_room("/one-too-many"), 0);
    ck_assert_uint_eq(st_raw_room("/p3"), 1);
    st_raw_answer_done(&extra);
    st_raw_clear();
}
END_TEST

/* Reads @fd until end of file into @out. */
static void read_to_eof(int fd, struct strbuf *out)
{
    char buf[4096];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        strbuf_append(out, buf, (size_t)n);
    ck_assert_int_eq(n, 0);
}

START_TEST(play_writes_then_ends)
{
    int sv[2];
    struct st_raw_answer a = answer("/x", "HTTP/1.1 200 OK\r\n\r\nclose-delimited", false);
    struct strbuf got = {0};

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(st_raw_play(sv[0], &a, NULL), 0);
    read_to_eof(sv[1], &got); /* the sending side was shut down */
    ck_assert_str_eq(got.data, "HTTP/1.1 200 OK\r\n\r\nclose-delimited");
    close(sv[0]);
    close(sv[1]);
    strbuf_done(&got);
    st_raw_answer_done(&a);
}
END_TEST

START_TEST(play_trickles_every_byte)
{
    int sv[2];
    struct st_raw_answer a = answer("/x", "HTTP/1.1 204 No Content\r\n\r\n", false);
    struct strbuf got = {0};

    a.trickle_ms = 1;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(st_raw_play(sv[0], &a, NULL), 0);
    read_to_eof(sv[1], &got);
    ck_assert_str_eq(got.data, "HTTP/1.1 204 No Content\r\n\r\n");
    close(sv[0]);
    close(sv[1]);
    strbuf_done(&got);
    st_raw_answer_done(&a);
}
END_TEST

struct player {
    int fd;
    struct st_raw_answer *a;
    int rc;
};

static void *play_thread(void *arg)
{
    struct player *p = arg;

    p->rc = st_raw_play(p->fd, p->a, NULL);
    return NULL;
}

/* A hold ends as soon as the peer closes (the test would time out if it
 * lasted its full minute); what the peer sends meanwhile is read and dropped. */
START_TEST(play_holds_until_the_peer_closes)
{
    int sv[2];
    struct st_raw_answer a =
        answer("/x", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false);
    struct player p = {.a = &a};
    pthread_t t;
    char buf[64];

    a.hold_ms = ST_RAW_MAX_HOLD_MS;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    p.fd = sv[0];
    ck_assert_int_eq(pthread_create(&t, NULL, play_thread, &p), 0);
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), (ssize_t)a.bytes.len);
    ck_assert_int_eq(write(sv[1], "ignored", 7), 7);
    shutdown(sv[1], SHUT_WR);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(p.rc, 0);
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 0);
    close(sv[0]);
    close(sv[1]);
    st_raw_answer_done(&a);
}
END_TEST

START_TEST(play_reports_a_peer_gone)
{
    int sv[2];
    struct st_raw_answer a = answer("/x", "HTTP/1.1 200 OK\r\n\r\n", false);

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    ck_assert_int_eq(st_raw_play(sv[0], &a, NULL), -EPIPE);
    close(sv[0]);
    st_raw_answer_done(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("standin_raw");
    TCase *tc = tcase_create("raw");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, parse_full_spec);
    tcase_add_test(tc, parse_rejects_bad_specs);
    tcase_add_test(tc, parse_bounds_trickle_time);
    tcase_add_test(tc, table_by_path);
    tcase_add_test(tc, table_is_bounded);
    tcase_add_test(tc, play_writes_then_ends);
    tcase_add_test(tc, play_trickles_every_byte);
    tcase_add_test(tc, play_holds_until_the_peer_closes);
    tcase_add_test(tc, play_reports_a_peer_gone);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
