/* check_cfg.c: unit tests of configuration loading and precedence. */
#include "config.h"

#include "service/cfg.h"
#include "unit/unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Loads with argv {"mesos-leaderd", "-c", file, extra...}. */
static int load(const char *file, const char *const *extra, struct cfg *cfg, struct errbuf *err)
{
    char *argv[16] = {(char *)"mesos-leaderd", (char *)"-c", (char *)file};
    int argc = 3;
    enum cfg_action action;

    for (size_t i = 0; extra && extra[i]; i++)
        argv[argc++] = (char *)extra[i];
    return cfg_load(argc, argv, cfg, &action, err);
}

START_TEST(defaults)
{
    char *file = unit_write_temp("# nothing but a comment\n\n");
    struct cfg cfg;
    struct errbuf err = {{0}};

    ck_assert_msg(load(file, NULL, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cfg.listen, "127.0.0.1:5050");
    ck_assert_str_eq(cfg.zk_url.hosts, "127.0.0.1:2181");
    ck_assert_str_eq(cfg.zk_url.path, "/mesos");
    ck_assert_uint_eq(cfg.proxy.max_body, 16u * 1024 * 1024);
    ck_assert_uint_eq(cfg.proxy.retry_tries, 3);
    ck_assert_uint_eq(cfg.proxy.retry_budget_ms, 5000);
    ck_assert_uint_eq(cfg.proxy.stream_idle_timeout_ms, 75000);
    ck_assert_uint_eq(cfg.zk_session_timeout_ms, 10000);
    cfg_done(&cfg);
    unlink(file);
    free(file);
}
END_TEST

START_TEST(precedence)
{
    char *file = unit_write_temp("listen = 127.0.0.1:6000\nmax-body = 1MiB\nretry-tries = 5\n"
                                 "zk = \"zk://file:2181/mesos\"\n");
    const char *args[] = {"--retry-tries", "7", NULL};
    struct cfg cfg;
    struct errbuf err = {{0}};

    setenv("MESOS_LEADERD_MAX_BODY", "2MiB", 1);
    setenv("MESOS_LEADERD_RETRY_TRIES", "6", 1);
    ck_assert_msg(load(file, args, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cfg.listen, "127.0.0.1:6000");          /* file */
    ck_assert_uint_eq(cfg.proxy.max_body, 2u * 1024 * 1024); /* environment over file */
    ck_assert_uint_eq(cfg.proxy.retry_tries, 7);             /* command line over both */
    ck_assert_str_eq(cfg.zk_url.hosts, "file:2181");
    unsetenv("MESOS_LEADERD_MAX_BODY");
    unsetenv("MESOS_LEADERD_RETRY_TRIES");
    cfg_done(&cfg);
    unlink(file);
    free(file);
}
END_TEST

START_TEST(units)
{
    char *file = unit_write_temp("stream-idle-timeout = 90s\nupstream-timeout = 1500ms\n"
                                 "client-idle-timeout = 2m\nmax-body = 64k\n");
    struct cfg cfg;
    struct errbuf err = {{0}};

    ck_assert_msg(load(file, NULL, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(cfg.proxy.stream_idle_timeout_ms, 90000);
    ck_assert_uint_eq(cfg.proxy.upstream_timeout_ms, 1500);
    ck_assert_uint_eq(cfg.proxy.client_idle_timeout_s, 120);
    ck_assert_uint_eq(cfg.proxy.max_body, 65536);
    cfg_done(&cfg);
    unlink(file);
    free(file);
}
END_TEST

/* Loads @content and expects an error message containing @needle. */
static void file_fails(const char *content, const char *needle)
{
    char *file = unit_write_temp(content);
    struct cfg cfg;
    struct errbuf err = {{0}};

    ck_assert_msg(load(file, NULL, &cfg, &err) < 0, "accepted: %s", content);
    ck_assert_msg(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
    ck_assert_msg(strstr(err.msg, file) || strstr(needle, "zk"), "'%s' lacks the file name",
                  err.msg);
    unlink(file);
    free(file);
}

START_TEST(errors_name_file_and_line)
{
    file_fails("# ok\nmax-body = lots\n", ":2: 'max-body' = 'lots' is not a size");
    file_fails("nonsense\n", ":1: expecting 'key = value'");
    file_fails("\n\nno-such-key = 1\n", ":3: unknown key 'no-such-key'");
    file_fails("retry-tries = 0\n", ":1: 'retry-tries' = '0' is out of range");
    file_fails("log-level = loud\n", "is not one of error, warning");
    file_fails("upstream-scheme = ftp\n", "http or https");
    file_fails("zk = zk://h:2181/\n", "'zk' is invalid");
}
END_TEST

START_TEST(errors_name_variable_and_option)
{
    const char *args[] = {"--connect-timeout", "soon", NULL};
    const char *unknown[] = {"--frobnicate", NULL};
    struct cfg cfg;
    struct errbuf err = {{0}};
    char *file = unit_write_temp("");

    setenv("MESOS_LEADERD_STREAM_IDLE_TIMEOUT", "forever", 1);
    ck_assert_int_lt(load(file, NULL, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "MESOS_LEADERD_STREAM_IDLE_TIMEOUT"));
    unsetenv("MESOS_LEADERD_STREAM_IDLE_TIMEOUT");
    ck_assert_int_lt(load(file, args, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "option --connect-timeout"));
    ck_assert_int_lt(load(file, unknown, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "--frobnicate"));
    ck_assert_int_lt(load("/nonexistent/leaderd.conf", NULL, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/leaderd.conf"));
    unlink(file);
    free(file);
}
END_TEST

START_TEST(tls_files_checked)
{
    const char *args[] = {"--upstream-scheme", "https", "--ca-file", "/nonexistent/ca.pem", NULL};
    const char *half[] = {"--cert-file", "/etc/hostname", NULL};
    struct cfg cfg;
    struct errbuf err = {{0}};
    char *file = unit_write_temp("");

    ck_assert_int_lt(load(file, args, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "ca-file"));
    ck_assert_int_lt(load(file, half, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "go together"));
    unlink(file);
    free(file);
}
END_TEST

START_TEST(listen_mode_and_unknown_variables)
{
    char *file = unit_write_temp("listen-mode = 0600\n");
    struct cfg cfg;
    struct errbuf err = {{0}};

    ck_assert_msg(load(file, NULL, &cfg, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(cfg.listen_mode, 0600);
    ck_assert(!cfg.zk_from_file);
    cfg_done(&cfg);
    unlink(file);
    free(file);
    file = unit_write_temp("listen-mode = 0999\nzk = zk://h:1/x\n");
    ck_assert_int_lt(load(file, NULL, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "octal mode"));
    unlink(file);
    free(file);
    /* A misspelled variable is an error, not silently ignored. */
    file = unit_write_temp("zk = zk://h:1/x\n");
    setenv("MESOS_LEADERD_RETRY_TRIESS", "4", 1);
    ck_assert_int_lt(load(file, NULL, &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown variable 'MESOS_LEADERD_RETRY_TRIESS'"));
    unsetenv("MESOS_LEADERD_RETRY_TRIESS");
    ck_assert_msg(load(file, NULL, &cfg, &err) == 0, "%s", err.msg);
    ck_assert(cfg.zk_from_file);
    cfg_done(&cfg);
    unlink(file);
    free(file);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {defaults,
                                  precedence,
                                  units,
                                  errors_name_file_and_line,
                                  errors_name_variable_and_option,
                                  tls_files_checked,
                                  listen_mode_and_unknown_variables,
                                  NULL};

    return unit_run(unit_suite("cfg", tests));
}
