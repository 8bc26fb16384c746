/* check_cfg.c: unit tests of configuration loading and precedence, the
 * [cluster] sections, the comparison and reload rules of clusters, the
 * value readers (cfgvalue.c), the listen address parser (listenaddr.c), the
 * open-files arithmetic (fdlimit.c), and that --help, the man page and the
 * service unit agree with the table of settings. */
#include "config.h"

#include "service/cfg.h"
#include "service/cfgvalue.h"
#include "base/fdlimit.h"
#include "service/listenaddr.h"
#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
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
    ck_assert_str_eq(cfg.clusters[0].listen, "127.0.0.1:5050");
    ck_assert_str_eq(cfg.clusters[0].zk_url.hosts, "127.0.0.1:2181");
    ck_assert_str_eq(cfg.clusters[0].zk_url.path, "/mesos");
    ck_assert_uint_eq(cfg.clusters[0].proxy.max_body, 16u * 1024 * 1024);
    ck_assert_uint_eq(cfg.clusters[0].proxy.retry_tries, 3);
    ck_assert_uint_eq(cfg.clusters[0].proxy.retry_budget_ms, 5000);
    ck_assert_uint_eq(cfg.clusters[0].proxy.stream_idle_timeout_ms, 75000);
    ck_assert_uint_eq(cfg.clusters[0].zk_session_timeout_ms, 10000);
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
    ck_assert_str_eq(cfg.clusters[0].listen, "127.0.0.1:6000");          /* file */
    ck_assert_uint_eq(cfg.clusters[0].proxy.max_body, 2u * 1024 * 1024); /* environment over file */
    ck_assert_uint_eq(cfg.clusters[0].proxy.retry_tries, 7); /* command line over both */
    ck_assert_str_eq(cfg.clusters[0].zk_url.hosts, "file:2181");
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
    ck_assert_uint_eq(cfg.clusters[0].proxy.stream_idle_timeout_ms, 90000);
    ck_assert_uint_eq(cfg.clusters[0].proxy.upstream_timeout_ms, 1500);
    ck_assert_uint_eq(cfg.clusters[0].proxy.client_idle_timeout_s, 120);
    ck_assert_uint_eq(cfg.clusters[0].proxy.max_body, 65536);
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
    ck_assert_uint_eq(cfg.clusters[0].listen_mode, 0600);
    ck_assert(!cfg.clusters[0].zk_from_file);
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
    ck_assert(cfg.clusters[0].zk_from_file);
    cfg_done(&cfg);
    unlink(file);
    free(file);
}
END_TEST

/* --- helpers --------------------------------------------------------------- */

/* Loads @content as the file, with @extra arguments; fails the test on error. */
static void load_ok(const char *content, const char *const *extra, struct cfg *cfg)
{
    char *file = unit_write_temp(content);
    struct errbuf err = {{0}};

    ck_assert_msg(load(file, extra, cfg, &err) == 0, "'%s' refused: %s", content, err.msg);
    unlink(file);
    free(file);
}

/* Loads @content with @extra arguments and expects an error containing
 * @needle, and the file name when @with_file. */
static void load_fails(const char *content, const char *const *extra, const char *needle,
                       bool with_file)
{
    char *file = unit_write_temp(content);
    struct cfg cfg;
    struct errbuf err = {{0}};

    ck_assert_msg(load(file, extra, &cfg, &err) < 0, "accepted: %s", content);
    ck_assert_msg(strstr(err.msg, needle), "'%s' lacks '%s'", err.msg, needle);
    ck_assert_msg(!with_file || strstr(err.msg, file), "'%s' lacks the file name", err.msg);
    unlink(file);
    free(file);
}

/* A file of the source tree (make check sets HARNESS_SRCDIR), whole. */
static char *read_source(const char *rel)
{
    const char *top = getenv("HARNESS_SRCDIR") ? getenv("HARNESS_SRCDIR") : "..";
    char path[4096];
    FILE *f;
    char *text = calloc(1, 1 << 20);
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", top, rel);
    f = fopen(path, "r");
    ck_assert_msg(f, "cannot read %s", path);
    n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* --- what an operator hits ------------------------------------------------- */

/* A listen value the daemon cannot open is refused when read, saying why,
 * wherever it comes from; the file names its line. */
START_TEST(listen_checked_when_read)
{
    static const struct {
        const char *value, *why;
    } bad[] = {
        {"5050", "not HOST:PORT, [V6]:PORT or unix:/PATH (127.0.0.1:5050"},
        {"localhost", "the port is missing"},
        {":5054", "the host is missing (127.0.0.1:5054"},
        {"127.0.0.1:", "the port is missing"},
        {"127.0.0.1:abc", "the port 'abc' is not a number from 0 to 65535"},
        {"127.0.0.1:65536", "the port '65536' is not a number"},
        {"[::1]5050", "the port is missing"},
        {"[::1:5050", "'[' without ']'"},
        {"unix:api.sock", "a Unix socket needs an absolute path"},
    };
    static const char *const good[] = {"127.0.0.1:0", "[::1]:5050", "0.0.0.0:80", "localhost:5050",
                                       "unix:/run/mesos-leaderd/api.sock"};
    char content[128];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        load_fails("", (const char *[]){"--listen", bad[i].value, NULL}, bad[i].why, false);
        load_fails("", (const char *[]){"--listen", bad[i].value, NULL}, "option --listen", false);
        snprintf(content, sizeof(content), "# one\nlisten = %s\n", bad[i].value);
        load_fails(content, NULL, ":2: 'listen' = ", true);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct cfg cfg;
        load_ok("", (const char *[]){"--listen", good[i], NULL}, &cfg);
        ck_assert_str_eq(cfg.clusters[0].listen, good[i]);
        cfg_done(&cfg);
    }
}
END_TEST

START_TEST(listenaddr_parse_and_conflicts)
{
    struct listenaddr a, b;

    ck_assert_int_eq(listenaddr_parse("[::1]:5050", &a, NULL), 0);
    ck_assert_str_eq(a.host, "::1");
    ck_assert_uint_eq(a.port, 5050);
    ck_assert(listenaddr_is_loopback(&a));
    ck_assert_int_eq(listenaddr_parse("0.0.0.0:5050", &b, NULL), 0);
    ck_assert(!listenaddr_is_loopback(&b));
    ck_assert(listenaddr_conflict(&a, &b)); /* the wildcard takes every address */
    ck_assert_int_eq(listenaddr_parse("127.0.0.1:5051", &b, NULL), 0);
    ck_assert(!listenaddr_conflict(&a, &b));
    ck_assert_int_eq(listenaddr_parse("127.0.0.1:0", &a, NULL), 0);
    ck_assert_int_eq(listenaddr_parse("127.0.0.1:0", &b, NULL), 0);
    ck_assert(!listenaddr_conflict(&a, &b)); /* any free port: never the same */
    ck_assert_int_eq(listenaddr_parse("unix:/run/a.sock", &a, NULL), 0);
    ck_assert(a.is_unix && listenaddr_is_loopback(&a));
    ck_assert(listenaddr_conflict(&a, &a));
}
END_TEST

/* A directory given as the file is an error, not the defaults. */
START_TEST(directory_is_not_a_file)
{
    struct cfg cfg;
    struct errbuf err = {{0}};

    ck_assert_int_lt(load("/tmp", NULL, &cfg, &err), 0);
    ck_assert_msg(strstr(err.msg, "cannot read the configuration file '/tmp': Is a directory"),
                  "%s", err.msg);
}
END_TEST

/* A misspelled key, variable or option gets the closest key suggested; a
 * missing value is called so. */
START_TEST(suggestions_and_missing_values)
{
    load_fails("max-bdy = 1MiB\n", NULL, ":1: unknown key 'max-bdy' (did you mean 'max-body'?)",
               true);
    load_fails("frobnicate = 1\n", NULL, ":1: unknown key 'frobnicate'", true);
    load_fails("", (const char *[]){"--max-bdy", "1", NULL},
               "unknown option '--max-bdy' (did you mean '--max-body'?)", false);
    load_fails("", (const char *[]){"--tset-config", NULL}, "(did you mean '--test-config'?)",
               false);
    load_fails("", (const char *[]){"--zk", NULL}, "option '--zk' needs a value (URL)", false);
    load_fails("", (const char *[]){"-z", NULL}, "option '--zk' needs a value (URL)", false);
    load_fails("", (const char *[]){"--config", NULL}, "option '--config' needs a value", false);
    setenv("MESOS_LEADERD_LISTN", "127.0.0.1:1", 1);
    load_fails("", NULL,
               "unknown variable 'MESOS_LEADERD_LISTN' (did you mean 'MESOS_LEADERD_LISTEN'?)",
               false);
    unsetenv("MESOS_LEADERD_LISTN");
    ck_assert_ptr_null(cfgvalue_closest("zz", (const char *[]){"zk"}, 1));
    ck_assert_str_eq(cfgvalue_closest("log_level", (const char *[]){"listen", "log-level"}, 2),
                     "log-level");
    ck_assert_uint_eq(cfgvalue_distance("kitten", "sitting"), 3);
}
END_TEST

/* A file that cannot be read is named with where it was set. */
START_TEST(unreadable_files_name_their_line)
{
    load_fails("\ncert-file = /nonexistent/c.pem\nkey-file = /etc/hostname\n", NULL,
               ":2: 'cert-file' = '/nonexistent/c.pem' cannot be read: No such file", true);
    load_fails("key-file = /etc/hostname\n", NULL, ":1: 'cert-file' and 'key-file' go together",
               true);
    load_fails("", (const char *[]){"--ca-file", "/nonexistent/ca", NULL},
               "option --ca-file: 'ca-file' = '/nonexistent/ca' cannot be read", false);
    load_fails("zk = zk://h:2181/\n", NULL, ":1: 'zk' is invalid", true);
}
END_TEST

/* Collects warnings. */
struct warnings {
    char text[4096];
    int count;
};

static void collect(void *data, const char *msg)
{
    struct warnings *w = data;

    w->count++;
    strncat(w->text, msg, sizeof(w->text) - strlen(w->text) - 2);
    strcat(w->text, "\n");
}

/* Credentials in a file every user can read are warned about; a file://
 * URL in such a file is not (the file holds no password), but its target
 * is when every user can read it. */
START_TEST(credential_warnings)
{
    char *secret = unit_write_temp("zk://u:pw@h:2181/mesos\n"), content[256], *file;
    struct warnings w = {.count = 0};
    struct cfg cfg;

    file = unit_write_temp("zk = zk://u:pw@h:2181/mesos\n");
    chmod(file, 0644);
    ck_assert_int_eq(load(file, NULL, &cfg, NULL), 0);
    cfg_warn(&cfg, collect, &w);
    ck_assert_msg(strstr(w.text, "the configuration file '") && strstr(w.text, "readable by every"),
                  "%s", w.text);
    cfg_done(&cfg);
    unlink(file);
    free(file);
    snprintf(content, sizeof(content), "zk = file://%s\n", secret);
    file = unit_write_temp(content);
    chmod(file, 0644);
    chmod(secret, 0600);
    w = (struct warnings){.count = 0};
    ck_assert_int_eq(load(file, NULL, &cfg, NULL), 0);
    cfg_warn(&cfg, collect, &w);
    ck_assert_msg(w.count == 0, "%s", w.text);
    chmod(secret, 0644);
    cfg_warn(&cfg, collect, &w);
    ck_assert_msg(w.count == 1 && strstr(w.text, "the ZooKeeper URL file '"), "%s", w.text);
    cfg_done(&cfg);
    unlink(file);
    unlink(secret);
    free(file);
    free(secret);
}
END_TEST

/* --- one table ---------------------------------------------------------------- */

/* --help: every line within 80 columns, every setting with its default. */
START_TEST(help_fits_and_shows_every_default)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    cfg_usage(out);
    fclose(out);
    for (size_t i = 0; cfg_setting_at(i); i++) {
        const struct cfg_setting *s = cfg_setting_at(i);
        char want[160];
        snprintf(want, sizeof(want), "--%s %s", s->key, s->arg);
        ck_assert_msg(strstr(text, want), "--help lacks '%s'", want);
        snprintf(want, sizeof(want), "(default %s)", s->default_value);
        ck_assert_msg(!s->default_value || strchr(s->default_value, ',') || strstr(text, want),
                      "--help lacks '%s'", want);
    }
    /* The installed configuration file's path is as long as the prefix
     * makes it: its line is left out. */
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        ck_assert_msg(strlen(line) <= 80 || strstr(line, CFG_DEFAULT_FILE), "%zu columns: '%s'",
                      strlen(line), line);
    free(text);
}
END_TEST

/* Every default in the table loads, and is what a file without settings
 * gives: compared through cfg_cluster_diff() with the written defaults. */
START_TEST(table_defaults_are_the_defaults)
{
    struct cfg none, written;
    char content[4096] = "";

    load_ok("", NULL, &none);
    for (size_t i = 0; cfg_setting_at(i); i++) {
        const struct cfg_setting *s = cfg_setting_at(i);
        if (s->default_value)
            snprintf(content + strlen(content), sizeof(content) - strlen(content), "%s = %s\n",
                     s->key, s->default_value);
    }
    load_ok(content, NULL, &written);
    ck_assert(cfg_cluster_equal(&none.clusters[0], &written.clusters[0]));
    ck_assert_int_eq(none.log_level, written.log_level);
    ck_assert_uint_eq(none.startup_wait_ms, 10000);
    ck_assert_uint_eq(none.drain_timeout_ms, 5000);
    cfg_done(&none);
    cfg_done(&written);
}
END_TEST

/* Turns the man page's "\-" back into "-" and drops its "\:" (a place
 * where a line may break). */
static void unescape_man(char *text)
{
    char *w = text;

    for (const char *r = text; *r; r++) {
        if (r[0] == '\\' && r[1] == ':') {
            r++;
            continue;
        }
        if (r[0] == '\\' && r[1] == '-')
            r++;
        *w++ = *r;
    }
    *w = '\0';
}

/* The lines of one entry: from @at to the next .TP, .SS or .SH. */
static char *entry_of(const char *at)
{
    const char *end = at + 1;

    while ((end = strchr(end, '\n')) && strncmp(end + 1, ".TP", 3) != 0 &&
           strncmp(end + 1, ".SS", 3) != 0 && strncmp(end + 1, ".SH", 3) != 0)
        end++;
    return strndup(at, end ? (size_t)(end - at) : strlen(at));
}

/* mesos-leaderd.conf(5) lists every setting with its default, marks those
 * a reload does not change and the daemon-wide ones, and names its
 * variable: a setting added to the table without its man page entry, or a
 * default changed in one place only, fails here. */
START_TEST(man_page_lists_every_setting)
{
    char *man = read_source("docs/mesos-leaderd.conf.5.in");

    unescape_man(man);
    for (size_t i = 0; cfg_setting_at(i); i++) {
        const struct cfg_setting *s = cfg_setting_at(i);
        char want[256], var[96], *at, *entry;
        if (s->default_value)
            snprintf(want, sizeof(want), "\n.BR %s \" = \" %s\n", s->key, s->default_value);
        else
            snprintf(want, sizeof(want), "\n.BI %s \" = \" ", s->key);
        at = strstr(man, want);
        ck_assert_msg(at, "mesos-leaderd.conf.5.in lacks the line '%s'", want + 1);
        entry = entry_of(at + 1);
        ck_assert_msg(!!strstr(entry, ".I [restart]") == (s->reload == CFG_RELOAD_RESTART),
                      "'%s': [restart] in the man page differs from the table", s->key);
        ck_assert_msg(!!strstr(entry, ".I [daemon-wide]") == (s->scope == CFG_SCOPE_DAEMON),
                      "'%s': [daemon-wide] in the man page differs from the table", s->key);
        free(entry);
        snprintf(var, sizeof(var), ".BR MESOS_LEADERD_");
        for (const char *k = s->key; *k; k++)
            snprintf(var + strlen(var), sizeof(var) - strlen(var), "%c",
                     *k == '-' ? '_' : (char)(*k - ('a' <= *k && *k <= 'z' ? 32 : 0)));
        ck_assert_msg(strstr(man, var), "the man page's ENVIRONMENT lacks '%s'", var + 4);
    }
    free(man);
}
END_TEST

/* --- open files ------------------------------------------------------------- */

START_TEST(open_files_arithmetic)
{
    /* One cluster: 16 + 64 kept, 2 per connection. */
    ck_assert_uint_eq(fdlimit_reserved(1), 80);
    ck_assert_uint_eq(fdlimit_max_connections(20000, 1), 9960);
    ck_assert_uint_eq(fdlimit_needed(10000, 1), 20080);
    ck_assert_uint_eq(fdlimit_max_connections(20080, 1), 10000);
    ck_assert_uint_eq(fdlimit_max_connections(1024, 1), 472);
    ck_assert_uint_eq(fdlimit_max_connections(80, 1), 0);
    ck_assert_uint_eq(fdlimit_max_connections(0, 1), 0);
    /* Several clusters share the descriptors: each keeps 64 more. */
    ck_assert_uint_eq(fdlimit_reserved(3), 208);
    ck_assert_uint_eq(fdlimit_max_connections(20000, 3), 9896);
    for (unsigned listeners = 1; listeners <= 4; listeners++)
        for (uint64_t limit = fdlimit_reserved(listeners); limit < 5000; limit += 7) {
            uint64_t most = fdlimit_max_connections(limit, listeners);
            ck_assert_uint_le(fdlimit_needed(most, listeners), limit);
            ck_assert_uint_gt(fdlimit_needed(most + 1, listeners), limit);
        }
}
END_TEST

/* The service's LimitNOFILE= serves the default max-connections. */
START_TEST(unit_limit_fits_default_connections)
{
    char *unit = read_source("systemd/mesos-leaderd.service.in"), *at;
    const struct cfg_setting *s = cfg_setting_at((size_t)cfg_setting_index("max-connections"));
    unsigned long long limit;

    at = strstr(unit, "\nLimitNOFILE=");
    ck_assert_ptr_nonnull(at);
    limit = strtoull(at + strlen("\nLimitNOFILE="), NULL, 10);
    ck_assert_msg(limit >= fdlimit_needed(strtoull(s->default_value, NULL, 10), 1),
                  "LimitNOFILE=%llu serves %llu connections, less than the default %s", limit,
                  (unsigned long long)fdlimit_max_connections(limit, 1), s->default_value);
    free(unit);
}
END_TEST

/* --- clusters ----------------------------------------------------------------- */

static const char two_clusters[] = "# defaults of every cluster\n"
                                   "max-body = 1MiB\n"
                                   "log-level = debug\n"
                                   "\n"
                                   "[cluster prod]\n"
                                   "zk = zk://zk1:2181/mesos\n"
                                   "listen = 127.0.0.1:5050\n"
                                   "\n"
                                   "[ cluster  staging ]\n"
                                   "zk = zk://zk2:2181/mesos\n"
                                   "listen = 127.0.0.1:5051\n"
                                   "max-body = 2MiB\n"
                                   "shared-reads =\n";

START_TEST(sections_make_clusters)
{
    struct cfg cfg;
    const struct cfg_cluster *prod, *staging;

    load_ok(two_clusters, (const char *[]){"--retry-tries", "5", NULL}, &cfg);
    ck_assert(cfg.has_sections);
    ck_assert_uint_eq(cfg.n_clusters, 2);
    ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
    prod = cfg_find_cluster(&cfg, "prod");
    staging = cfg_find_cluster(&cfg, "staging");
    ck_assert(prod && staging && !cfg_find_cluster(&cfg, "dev"));
    ck_assert_str_eq(prod->zk_url.hosts, "zk1:2181");
    ck_assert_str_eq(staging->listen, "127.0.0.1:5051");
    ck_assert_uint_eq(prod->proxy.max_body, 1u << 20);    /* the defaults */
    ck_assert_uint_eq(staging->proxy.max_body, 2u << 20); /* its own */
    ck_assert_uint_eq(prod->proxy.retry_tries, 5);        /* the command line: every cluster */
    ck_assert_uint_eq(staging->proxy.retry_tries, 5);
    ck_assert_str_eq(prod->proxy.shared_reads[0], "/state");
    ck_assert_ptr_null(staging->proxy.shared_reads[0]); /* empty: no sharing */
    ck_assert(!cfg_cluster_equal(prod, staging));
    cfg_done(&cfg);
    /* Without sections: one cluster without a name. */
    load_ok("zk = zk://zk1:2181/mesos\n", NULL, &cfg);
    ck_assert(!cfg.has_sections);
    ck_assert_uint_eq(cfg.n_clusters, 1);
    ck_assert_str_eq(cfg.clusters[0].name, "");
    cfg_done(&cfg);
}
END_TEST

START_TEST(section_errors)
{
    static const char head[] = "[cluster a]\nzk = zk://h:1/a\nlisten = 127.0.0.1:5050\n";
    char content[512];

    snprintf(content, sizeof(content), "%s[cluster a]\nzk = zk://h:1/b\n", head);
    load_fails(content, NULL, ":4: cluster 'a' is defined twice (first at ", true);
    snprintf(content, sizeof(content), "%s[cluster b]\nzk = zk://h:1/b\nlisten = 0.0.0.0:5050\n",
             head);
    load_fails(content, NULL, ":6: cluster 'b' listens on '0.0.0.0:5050', as cluster 'a' does",
               true);
    snprintf(content, sizeof(content), "%s[cluster b]\nlisten = 127.0.0.1:5051\n", head);
    load_fails(content, NULL, ":4: cluster 'b' sets no 'zk'", true);
    snprintf(content, sizeof(content), "%s[cluster b]\nzk = zk://h:1/b\n", head);
    load_fails(content, NULL, ":4: cluster 'b' sets no 'listen'", true);
    snprintf(content, sizeof(content), "%smax-bdy = 1\n", head);
    load_fails(content, NULL, ":4: unknown key 'max-bdy' (did you mean 'max-body'?)", true);
    snprintf(content, sizeof(content), "%slog-level = debug\n", head);
    load_fails(content, NULL, ":4: 'log-level' applies to the whole daemon", true);
    snprintf(content, sizeof(content), "zk = zk://h:1/x\n%s", head);
    load_fails(content, NULL, ":1: 'zk' before the first [cluster] section", true);
    load_fails("[cluster a b]\n", NULL, ":1: the cluster name 'a b' is not", true);
    load_fails("[clusters a]\n", NULL, ":1: expecting '[cluster NAME]', not '[clusters a]'", true);
    load_fails("[cluster a\n", NULL, ":1: expecting '[cluster NAME]'", true);
    load_fails(head, (const char *[]){"--zk", "zk://h:1/y", NULL},
               "option --zk: 'zk' cannot be set here", false);
    setenv("MESOS_LEADERD_LISTEN", "127.0.0.1:6000", 1);
    load_fails(head, NULL, "MESOS_LEADERD_LISTEN: 'listen' cannot be set here", false);
    unsetenv("MESOS_LEADERD_LISTEN");
    snprintf(content, sizeof(content), "%sca-file = /nonexistent/ca\n", head);
    load_fails(content, NULL, "cluster 'a': ", true);
}
END_TEST

/* What mesos-leader --config reads: the file alone, files it names unread. */
START_TEST(load_file_alone)
{
    char *file = unit_write_temp("[cluster a]\nzk = zk://h:1/a\nlisten = 127.0.0.1:1\n"
                                 "cert-file = /nonexistent/c\nkey-file = /nonexistent/k\n");
    struct errbuf err = {{0}};
    struct cfg cfg;

    setenv("MESOS_LEADERD_NOT_A_SETTING", "1", 1);
    ck_assert_msg(cfg_load_file(file, &cfg, &err) == 0, "%s", err.msg);
    unsetenv("MESOS_LEADERD_NOT_A_SETTING");
    ck_assert_str_eq(cfg_find_cluster(&cfg, "a")->zk, "zk://h:1/a");
    cfg_done(&cfg);
    ck_assert_int_lt(cfg_load_file("/nonexistent/leaderd.conf", &cfg, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/leaderd.conf"));
    unlink(file);
    free(file);
}
END_TEST

static void count_key(void *data, const struct cfg_setting *s)
{
    strcat(data, s->key);
    strcat(data, " ");
}

/* Which settings of a cluster differ, and what a reload keeps. */
START_TEST(cluster_diff_and_reload_rules)
{
    struct cfg a, b;
    struct cfg_cluster started, copy;
    struct warnings w = {.count = 0};
    char keys[256] = "";

    load_ok("zk = zk://h:1/a\nmax-connections = 100\n", NULL, &a);
    load_ok("zk = zk://h:1/b\nlisten = 127.0.0.1:6000\nclient-idle-timeout = 90s\n"
            "max-connections = 200\nmax-body = 2MiB\nlog-level = debug\n",
            NULL, &b);
    ck_assert_uint_eq(cfg_cluster_diff(&a.clusters[0], &b.clusters[0], count_key, keys), 5);
    ck_assert_str_eq(keys, "listen zk max-body max-connections client-idle-timeout ");
    cfg_cluster_copy(&copy, &a.clusters[0]);
    ck_assert(cfg_cluster_equal(&copy, &a.clusters[0]));
    ck_assert_uint_eq(copy.proxy.max_connections, 100);
    cfg_cluster_done(&copy);
    /* Reload from a to b: listen and client-idle-timeout keep their values
     * at start, max-connections cannot grow past it; the rest applies. */
    cfg_cluster_copy(&started, &a.clusters[0]);
    cfg_cluster_hold_restart(&started, &b.clusters[0], collect, &w);
    ck_assert_int_eq(w.count, 3);
    ck_assert_msg(strstr(w.text, "'listen' changed to 127.0.0.1:6000: that takes a restart; "
                                 "still 127.0.0.1:5050\n"),
                  "%s", w.text);
    ck_assert_msg(strstr(w.text, "'client-idle-timeout' changed to 90s: that takes a restart; "
                                 "still 60s\n"),
                  "%s", w.text);
    ck_assert_msg(strstr(w.text, "'max-connections' = 200: it can grow past 100 only with a "
                                 "restart; still 100\n"),
                  "%s", w.text);
    ck_assert_str_eq(b.clusters[0].listen, "127.0.0.1:5050");
    ck_assert_uint_eq(b.clusters[0].proxy.max_connections, 100);
    ck_assert_uint_eq(b.clusters[0].proxy.client_idle_timeout_s, 60);
    ck_assert_uint_eq(b.clusters[0].proxy.max_body, 2u << 20);
    ck_assert_str_eq(b.clusters[0].zk_url.path, "/b");
    /* Lowering max-connections applies. */
    b.clusters[0].max_connections = 50;
    w = (struct warnings){.count = 0};
    cfg_cluster_hold_restart(&started, &b.clusters[0], collect, &w);
    ck_assert_int_eq(w.count, 0);
    ck_assert_uint_eq(b.clusters[0].proxy.max_connections, 50);
    cfg_cluster_done(&started);
    cfg_done(&a);
    cfg_done(&b);
}
END_TEST

/* state-cache-ttl and shared-reads: read, checked, in the proxy config. */
START_TEST(shared_reads_and_cache_ttl)
{
    static const char *const paths[] = {"/state", "/state-summary", "/frameworks",      "/slaves",
                                        "/tasks", "/roles",         "/metrics/snapshot"};
    struct cfg cfg;
    size_t n = 0;

    load_ok("", NULL, &cfg);
    ck_assert_uint_eq(cfg.clusters[0].proxy.state_cache_ttl_ms, 0);
    for (; cfg.clusters[0].proxy.shared_reads[n]; n++)
        ck_assert_str_eq(cfg.clusters[0].proxy.shared_reads[n], paths[n]);
    ck_assert_uint_eq(n, sizeof(paths) / sizeof(paths[0]));
    cfg_done(&cfg);
    load_ok("state-cache-ttl = 2s\nshared-reads = /state , /master/tasks\n", NULL, &cfg);
    ck_assert_uint_eq(cfg.clusters[0].proxy.state_cache_ttl_ms, 2000);
    ck_assert_str_eq(cfg.clusters[0].proxy.shared_reads[0], "/state");
    ck_assert_str_eq(cfg.clusters[0].proxy.shared_reads[1], "/master/tasks");
    ck_assert_ptr_null(cfg.clusters[0].proxy.shared_reads[2]);
    cfg_done(&cfg);
    setenv("MESOS_LEADERD_SHARED_READS", "", 1); /* empty: off */
    load_ok("", NULL, &cfg);
    ck_assert_ptr_null(cfg.clusters[0].proxy.shared_reads[0]);
    cfg_done(&cfg);
    unsetenv("MESOS_LEADERD_SHARED_READS");
    load_fails("shared-reads = state\n", NULL,
               ":1: 'shared-reads' = 'state': the path 'state' does not start with '/'", true);
    load_fails("shared-reads = /a,,/b\n", NULL, "path 2 is empty", true);
    load_fails("shared-reads = /a?b=1\n", NULL, "'?'", true);
    load_fails("state-cache-ttl = 11min\n", NULL, "out of range", true);
}
END_TEST

START_TEST(value_formats)
{
    char out[32];
    unsigned long long v;

    cfgvalue_format_duration(90000, out, sizeof(out));
    ck_assert_str_eq(out, "90s");
    cfgvalue_format_duration(120000, out, sizeof(out));
    ck_assert_str_eq(out, "2m");
    cfgvalue_format_duration(60000, out, sizeof(out));
    ck_assert_str_eq(out, "60s");
    cfgvalue_format_duration(1000, out, sizeof(out));
    ck_assert_str_eq(out, "1s");
    cfgvalue_format_duration(1500, out, sizeof(out));
    ck_assert_str_eq(out, "1500ms");
    ck_assert_int_eq(cfgvalue_duration_ms(out, &v), 0);
    ck_assert_uint_eq(v, 1500);
    cfgvalue_format_size(16u << 20, out, sizeof(out));
    ck_assert_str_eq(out, "16MiB");
    cfgvalue_format_size(1000, out, sizeof(out));
    ck_assert_str_eq(out, "1000");
    ck_assert_int_eq(cfgvalue_size("99999999999999999999G", &v), -ERANGE);
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
                                  listen_checked_when_read,
                                  listenaddr_parse_and_conflicts,
                                  directory_is_not_a_file,
                                  suggestions_and_missing_values,
                                  unreadable_files_name_their_line,
                                  credential_warnings,
                                  help_fits_and_shows_every_default,
                                  table_defaults_are_the_defaults,
                                  man_page_lists_every_setting,
                                  open_files_arithmetic,
                                  unit_limit_fits_default_connections,
                                  sections_make_clusters,
                                  section_errors,
                                  load_file_alone,
                                  cluster_diff_and_reload_rules,
                                  shared_reads_and_cache_ttl,
                                  value_formats,
                                  NULL};

    return unit_run(unit_suite("cfg", tests));
}
