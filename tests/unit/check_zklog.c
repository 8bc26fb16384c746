/* check_zklog.c: unit tests of reading libzookeeper's log lines: their
 * priority, and the connection failures people are told about. */
#include "config.h"

#include "zk/zklog.h"

#include "unit/unit.h"

#include <check.h>
#include <string.h>
#include <syslog.h>

/* The description of the failure in libzookeeper's line @message, or NULL. */
static const char *failure(const char *message, const char *hosts)
{
    static char buf[256];
    struct zklog_line line;

    zklog_parse(message, &line);
    strcpy(buf, "untouched");
    if (!zklog_connection_error(line.text, line.len, hosts, buf, sizeof(buf))) {
        ck_assert_str_eq(buf, "untouched");
        return NULL;
    }
    return buf;
}

START_TEST(priority_and_text)
{
    struct zklog_line line;

    zklog_parse("2026-01-01 10:00:00,000:42(0x7f):ZOO_ERROR@handle_socket_error_msg@2185: "
                "Socket 127.0.0.1:2181 zk retcode=-4, errno=111(Connection refused): x \n",
                &line);
    ck_assert_int_eq(line.priority, LOG_WARNING);
    ck_assert_int_eq((int)line.len, (int)strlen(line.text) - 2);
    ck_assert(strncmp(line.text, "Socket 127.0.0.1:2181 zk", 24) == 0);
    zklog_parse("1:2(3):ZOO_WARN@zookeeper_interest@2000: Delaying connection", &line);
    ck_assert_int_eq(line.priority, LOG_INFO);
    ck_assert_str_eq(line.text, "Delaying connection");
    zklog_parse("1:2(3):ZOO_INFO@check_events@2500: initiated connection", &line);
    ck_assert_int_eq(line.priority, LOG_DEBUG);
    zklog_parse("no prefix at all", &line);
    ck_assert_int_eq(line.priority, LOG_DEBUG);
    ck_assert_str_eq(line.text, "no prefix at all");
}
END_TEST

START_TEST(refused_reset_closed_timed_out)
{
    ck_assert_str_eq(failure("1:2(3):ZOO_ERROR@f@1: Socket 127.0.0.1:2181 zk retcode=-4, "
                             "errno=111(Connection refused): server refused to accept the client",
                             "127.0.0.1:2181"),
                     "connection refused by 127.0.0.1:2181");
    ck_assert_str_eq(failure("1:2(3):ZOO_ERROR@f@1: Socket [::1]:2181 zk retcode=-4, "
                             "errno=104(Connection reset by peer): failed while receiving a "
                             "server response",
                             NULL),
                     "connection reset by [::1]:2181");
    ck_assert_str_eq(failure("1:2(3):ZOO_ERROR@f@1: Socket 10.0.0.1:2181 zk retcode=-4, "
                             "errno=112(Host is down): failed while receiving a server response",
                             NULL),
                     "10.0.0.1:2181 closed the connection");
    ck_assert_str_eq(failure("1:2(3):ZOO_ERROR@f@1: Socket 10.0.0.1:2181 zk retcode=-7, "
                             "errno=110(Connection timed out): connection to 10.0.0.1:2181 timed "
                             "out (exceeded timeout by 3ms)",
                             NULL),
                     "no answer from 10.0.0.1:2181 in time");
    ck_assert_str_eq(failure("1:2(3):ZOO_ERROR@f@1: Socket 10.0.0.1:2181 zk retcode=-4, "
                             "errno=113(No route to host): connect() call failed",
                             NULL),
                     "10.0.0.1:2181 is unreachable");
    ck_assert_str_eq(failure("1:2(3):ZOO_ERROR@f@1: Socket 10.0.0.1:2181 zk retcode=-4, "
                             "errno=32(Broken pipe): failed while flushing send queue",
                             NULL),
                     "connection to 10.0.0.1:2181 failed: failed while flushing send queue");
}
END_TEST

START_TEST(resolution_and_other_lines)
{
    ck_assert_str_eq(failure("1:2(3):ZOO_ERROR@f@1: getaddrinfo: Name or service not known",
                             "zk1.invalid:2181,zk2.invalid:2181"),
                     "cannot resolve zk1.invalid:2181,zk2.invalid:2181: Name or service not known");
    /* The server ending our session is told by the session state instead. */
    ck_assert_ptr_null(failure("1:2(3):ZOO_ERROR@f@1: Socket 127.0.0.1:2181 zk retcode=-112, "
                               "errno=116(Stale file handle): sessionId=0x1 has expired.: "
                               "session expired",
                               NULL));
    ck_assert_ptr_null(failure("1:2(3):ZOO_WARN@f@1: Delaying connection after exhaustively "
                               "trying all servers [127.0.0.1:2181]",
                               NULL));
    ck_assert_ptr_null(failure("1:2(3):ZOO_ERROR@f@1: Socket ", NULL));
    ck_assert_ptr_null(failure("1:2(3):ZOO_ERROR@f@1: Socket 127.0.0.1:2181 without errno", NULL));
    ck_assert_ptr_null(failure("", NULL));
}
END_TEST

START_TEST(hostile_lengths_are_bounded)
{
    char line[4096] = "1:2(3):ZOO_ERROR@f@1: Socket 1.2.3.4:5 zk retcode=-4, errno=5(x): ";
    char buf[64];
    struct zklog_line parsed;

    memset(line + strlen(line), 'a', 3000);
    zklog_parse(line, &parsed);
    ck_assert(zklog_connection_error(parsed.text, parsed.len, NULL, buf, sizeof(buf)));
    ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
    ck_assert(strncmp(buf, "connection to 1.2.3.4:5 failed: aaa", 35) == 0);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {priority_and_text, refused_reset_closed_timed_out,
                                  resolution_and_other_lines, hostile_lengths_are_bounded, NULL};

    return unit_run(unit_suite("zklog", tests));
}
