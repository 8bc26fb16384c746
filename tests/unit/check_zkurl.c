/* check_zkurl.c: unit tests of ZooKeeper URL parsing. */
#include "config.h"

#include "zk/zkurl.h"

#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses @text, expecting success. */
static struct zkurl parse_ok(const char *text)
{
    struct zkurl u = {0};
    struct errbuf err = {{0}};
    int r = zkurl_parse(text, &u, &err);

    ck_assert_msg(r == 0, "'%s' failed: %s", text, err.msg);
    return u;
}

/* Parses @text, expecting failure with a message containing @needle. */
static void parse_fails(const char *text, const char *needle)
{
    struct zkurl u = {0};
    struct errbuf err = {{0}};
    int r = zkurl_parse(text, &u, &err);

    ck_assert_msg(r < 0, "'%s' was accepted", text);
    ck_assert_msg(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", text, err.msg, needle);
    ck_assert_ptr_null(u.hosts);
}

START_TEST(single_host)
{
    struct zkurl u = parse_ok("zk://10.0.0.1:2181/mesos");

    ck_assert_str_eq(u.hosts, "10.0.0.1:2181");
    ck_assert_str_eq(u.path, "/mesos");
    ck_assert_ptr_null(u.credentials);
    zkurl_done(&u);
}
END_TEST

START_TEST(several_hosts_nested_path)
{
    struct zkurl u = parse_ok("zk://10.10.1.1:2181,10.10.0.81:2181/mesos/test/path");

    ck_assert_str_eq(u.hosts, "10.10.1.1:2181,10.10.0.81:2181");
    ck_assert_str_eq(u.path, "/mesos/test/path");
    zkurl_done(&u);
}
END_TEST

START_TEST(credentials_last_at_wins)
{
    struct zkurl u = parse_ok("zk://jake:p@ss@host1:2181,host2:2182/path/to/znode");
    char *user = zkurl_user(&u);
    char *redacted = zkurl_to_redacted(&u);

    ck_assert_str_eq(u.credentials, "jake:p@ss");
    ck_assert_str_eq(u.hosts, "host1:2181,host2:2182");
    ck_assert_str_eq(user, "jake");
    ck_assert_str_eq(redacted, "zk://jake:***@host1:2181,host2:2182/path/to/znode");
    ck_assert_ptr_null(strstr(redacted, "p@ss"));
    free(user);
    free(redacted);
    zkurl_done(&u);
}
END_TEST

START_TEST(default_port_ipv6_trailing_slash_whitespace)
{
    struct zkurl u = parse_ok("  zk://zk1,[::1]:2182,zk3:2183/mesos/  \n");

    ck_assert_str_eq(u.hosts, "zk1:2181,[::1]:2182,zk3:2183");
    ck_assert_str_eq(u.path, "/mesos");
    zkurl_done(&u);
}
END_TEST

START_TEST(malformed)
{
    parse_fails("zk:///mesos", "no ZooKeeper hosts");
    parse_fails("zk://:2181/mesos", "empty name");
    parse_fails("zk://h1:2181,,h2:2181/mesos", "empty host");
    parse_fails("zk://h1:21a1/mesos", "not a number");
    parse_fails("zk://h1:0/mesos", "out of range");
    parse_fails("zk://h1:65536/mesos", "out of range");
    parse_fails("zk://h1:123456/mesos", "out of range");
    parse_fails("zk://h1:/mesos", "empty port");
    parse_fails("zk://h1:2181", "no path");
    parse_fails("zk://h1:2181/", "'/' is not supported");
    parse_fails("zk://h1:2181//", "'/' is not supported");
    parse_fails("zk://h1:2181/a//b", "empty component");
    parse_fails("zk://h1:2181/a/../b", "relative component");
    parse_fails("http://h1:2181/mesos", "unknown scheme 'http'");
    parse_fails("h1:2181/mesos", "expecting 'zk://'");
    parse_fails("", "empty");
    parse_fails("zk://:secret@h1:2181/mesos", "user:password");
    parse_fails("zk://user:@h1:2181/mesos", "empty password");
    parse_fails("zk://h o:2181/mesos", "invalid character");
    parse_fails("zk://[::1/mesos", "unterminated IPv6");
    parse_fails("zk://h1:2181/me\x01sos", "control character");
    parse_fails("zk://h/mesos /", "white space");
    parse_fails("zk://h/ /", "white space");
}
END_TEST

START_TEST(file_url)
{
    char *path = unit_write_temp("zk://u:pw@h1:2181,h2:2181/a/b/mesos\n");
    char *url = NULL;
    struct zkurl u;

    ck_assert_int_gt(asprintf(&url, "file://%s", path), 0);
    u = parse_ok(url);
    ck_assert_str_eq(u.hosts, "h1:2181,h2:2181");
    ck_assert_str_eq(u.path, "/a/b/mesos");
    ck_assert_str_eq(u.credentials, "u:pw");
    zkurl_done(&u);
    unlink(path);
    free(path);
    free(url);
}
END_TEST

START_TEST(file_url_errors)
{
    char *bad = unit_write_temp("zk://h1:99999/mesos");
    char *loop = unit_write_temp("file:///etc/hostname");
    char *url = NULL;

    parse_fails("file:///nonexistent/zk-url", "cannot read '/nonexistent/zk-url'");
    parse_fails("file://relative/path", "absolute path");
    ck_assert_int_gt(asprintf(&url, "file://%s", bad), 0);
    parse_fails(url, "out of range");
    free(url);
    ck_assert_int_gt(asprintf(&url, "file://%s", loop), 0);
    parse_fails(url, "may not point to another file://");
    free(url);
    unlink(bad);
    unlink(loop);
    free(bad);
    free(loop);
}
END_TEST

START_TEST(equality)
{
    struct zkurl a = parse_ok("zk://h1:2181/mesos"), b = parse_ok("zk://h1/mesos/"),
                 c = parse_ok("zk://u:p@h1:2181/mesos");

    ck_assert(zkurl_equal(&a, &b));
    ck_assert(!zkurl_equal(&a, &c));
    zkurl_done(&a);
    zkurl_done(&b);
    zkurl_done(&c);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {single_host,
                                  several_hosts_nested_path,
                                  credentials_last_at_wins,
                                  default_port_ipv6_trailing_slash_whitespace,
                                  malformed,
                                  file_url,
                                  file_url_errors,
                                  equality,
                                  NULL};

    return unit_run(unit_suite("zkurl", tests));
}
