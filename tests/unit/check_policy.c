/* check_policy.c: unit tests of the proxy's decisions (proxy/policy.h). */
#include "config.h"

#include "proxy/policy.h"

#include "unit/unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* Which answers are relayed as they come, read whole, or tried again. */
START_TEST(answer_plans)
{
    ck_assert_int_eq(policy_answer_plan(307, 0, false, false), PLAN_RETRY);
    ck_assert_int_eq(policy_answer_plan(503, 17, false, false), PLAN_INSPECT);
    ck_assert_int_eq(policy_answer_plan(503, -1, false, false), PLAN_BUFFER);
    ck_assert_int_eq(policy_answer_plan(503, POLICY_INSPECT_MAX + 1, false, false), PLAN_BUFFER);
    ck_assert_int_eq(policy_answer_plan(200, 100, false, false), PLAN_BUFFER);
    ck_assert_int_eq(policy_answer_plan(200, POLICY_BUFFER_MAX, false, false), PLAN_BUFFER);
    ck_assert_int_eq(policy_answer_plan(200, POLICY_BUFFER_MAX + 1, false, false), PLAN_STREAM);
    ck_assert_int_eq(policy_answer_plan(200, -1, false, false), PLAN_BUFFER);
    ck_assert_int_eq(policy_answer_plan(200, -1, true, false), PLAN_STREAM);
    /* Nothing to relay without a body, whatever the length says. */
    ck_assert_int_eq(policy_answer_plan(200, 5l << 20, false, true), PLAN_BUFFER);
    ck_assert_int_eq(policy_answer_plan(304, 5l << 20, false, false), PLAN_BUFFER);
    ck_assert_int_eq(policy_answer_plan(204, -1, true, false), PLAN_BUFFER);
}
END_TEST

/* A bodiless answer announcing a huge length reserves nothing (it once
 * made the daemon try to allocate the announced petabyte and abort). */
START_TEST(body_reserves)
{
    ck_assert_uint_eq(policy_body_reserve(200, 1000, false), 1000);
    ck_assert_uint_eq(policy_body_reserve(200, POLICY_BUFFER_MAX + 1, false), POLICY_BUFFER_MAX);
    ck_assert_uint_eq(policy_body_reserve(200, -1, false), 0);
    ck_assert_uint_eq(policy_body_reserve(200, 1000, true), 0);
    ck_assert_uint_eq(policy_body_reserve(204, 1000000000000000ll, false), 0);
    ck_assert_uint_eq(policy_body_reserve(304, 1000000000000000ll, false), 0);
    ck_assert_uint_eq(policy_body_reserve(101, 10, false), 0);
}
END_TEST

START_TEST(verdicts_503)
{
    const char *no_leader = "No leader elected";
    const char *recovering = "Master has not finished recovery";

    ck_assert_int_eq(policy_503(no_leader, strlen(no_leader)), V503_NO_LEADER);
    ck_assert_int_eq(policy_503(recovering, strlen(recovering)), V503_RECOVERING);
    ck_assert_int_eq(policy_503("No leader", 9), V503_RELAY); /* cut short */
    ck_assert_int_eq(policy_503("Service Unavailable", 19), V503_RELAY);
    ck_assert_int_eq(policy_503(NULL, 0), V503_RELAY);
}
END_TEST

/* Only GET and HEAD are ever sent twice. */
START_TEST(resending)
{
    ck_assert(policy_method_resendable("GET"));
    ck_assert(policy_method_resendable("HEAD"));
    ck_assert(!policy_method_resendable("POST"));
    ck_assert(!policy_method_resendable("PUT"));
    ck_assert(!policy_method_resendable("DELETE"));
    ck_assert(!policy_method_resendable("get"));
    ck_assert(policy_resend_after_drop("GET", false, false));
    ck_assert(!policy_resend_after_drop("GET", true, false));
    ck_assert(!policy_resend_after_drop("POST", false, false));
    ck_assert(!policy_resend_after_drop("GET", false, true));
}
END_TEST

START_TEST(request_bodies)
{
    ck_assert(policy_request_has_body("POST", 0));
    ck_assert(policy_request_has_body("PUT", 0));
    ck_assert(policy_request_has_body("PATCH", 0));
    ck_assert(policy_request_has_body("DELETE", 3));
    ck_assert(!policy_request_has_body("GET", 0));
    ck_assert(!policy_request_has_body("DELETE", 0));
}
END_TEST

START_TEST(redirect_loops)
{
    struct redirect_log log = {0};

    ck_assert(policy_redirect_loops(&log, "a:1", "a:1")); /* to itself */
    ck_assert(!policy_redirect_loops(&log, "a:1", "b:1"));
    ck_assert(!policy_redirect_loops(&log, "b:1", "c:1"));
    ck_assert(policy_redirect_loops(&log, "b:1", "a:1")); /* back */
    /* More than it remembers: no overflow. */
    for (int i = 0; i < 20; i++) {
        char to[16];
        snprintf(to, sizeof(to), "m%d:1", i);
        ck_assert(!policy_redirect_loops(&log, "x:1", to));
    }
    ck_assert_uint_eq(log.n, POLICY_REDIRECTS_MAX);
}
END_TEST

START_TEST(backoff_and_budget)
{
    const uint64_t ms = 1000000u;

    ck_assert_uint_eq(policy_backoff_ns(0), 250 * ms);
    ck_assert_uint_eq(policy_backoff_ns(1), 250 * ms);
    ck_assert_uint_eq(policy_backoff_ns(2), 1000 * ms);
    ck_assert_uint_eq(policy_backoff_ns(3), 4000 * ms);
    ck_assert_uint_le(policy_backoff_ns(100), 64000 * ms); /* capped */
    ck_assert_uint_eq(policy_next_try_ns(1, 3, 0, 5000 * ms), 250 * ms);
    ck_assert_uint_eq(policy_next_try_ns(2, 3, 10 * ms, 5000 * ms), 1010 * ms);
    ck_assert_uint_eq(policy_next_try_ns(3, 3, 0, 5000 * ms), 0);         /* tries spent */
    ck_assert_uint_eq(policy_next_try_ns(2, 9, 4500 * ms, 5000 * ms), 0); /* time spent */
}
END_TEST

START_TEST(waiting_for_a_leader)
{
    struct leader_snapshot s = {.state = LEADER_ELECTING, .settled = true};

    ck_assert(policy_wait_for_leader(&s));
    s = (struct leader_snapshot){.state = LEADER_NONE, .session = ZK_SESSION_CONNECTING};
    ck_assert(policy_wait_for_leader(&s)); /* just started */
    s.settled = true;
    ck_assert(!policy_wait_for_leader(&s)); /* ZooKeeper says nobody */
    s = (struct leader_snapshot){.state = LEADER_NONE, .session = ZK_SESSION_EXPIRED};
    ck_assert(!policy_wait_for_leader(&s));
    s.session = ZK_SESSION_AUTH_FAILED;
    ck_assert(!policy_wait_for_leader(&s));
}
END_TEST

/* How each failure reaches the client. */
START_TEST(failure_answers)
{
    ck_assert_uint_eq(policy_failure_answer(UPSTREAM_TIMEOUT).status, 504);
    ck_assert_str_eq(policy_failure_answer(UPSTREAM_DROPPED).code, "upstream_dropped");
    ck_assert_uint_eq(policy_failure_answer(UPSTREAM_DROPPED).status, 502);
    ck_assert_uint_eq(policy_failure_answer(UPSTREAM_NO_DESCRIPTORS).status, 503);
    ck_assert_uint_eq(policy_failure_answer(UPSTREAM_NO_DESCRIPTORS).retry_after_s, 1);
    ck_assert_uint_eq(policy_failure_answer(UPSTREAM_HEAD_TOO_LARGE).status, 502);
    ck_assert_uint_eq(policy_failure_answer(UPSTREAM_PROTOCOL).status, 502);
    ck_assert_int_eq(policy_error_class(UPSTREAM_NO_DESCRIPTORS), UPSTREAM_ERR_CONNECT);
    ck_assert_int_eq(policy_error_class(UPSTREAM_DROPPED), UPSTREAM_ERR_BROKEN);
    ck_assert_int_eq(policy_error_class(UPSTREAM_HEAD_TOO_LARGE), UPSTREAM_ERR_PROTOCOL);
}
END_TEST

START_TEST(methods_and_codings)
{
    ck_assert(policy_method_is_token("GET"));
    ck_assert(policy_method_is_token("M-SEARCH"));
    ck_assert(!policy_method_is_token("GE(T"));
    ck_assert(!policy_method_is_token("GE T"));
    ck_assert(!policy_method_is_token(""));
    ck_assert(!policy_method_is_token("G\x7f"));
    ck_assert_int_eq(policy_request_coding(NULL, 0), CODING_NONE);
    ck_assert_int_eq(policy_request_coding("chunked", 1), CODING_CHUNKED);
    ck_assert_int_eq(policy_request_coding("Chunked", 1), CODING_CHUNKED);
    ck_assert_int_eq(policy_request_coding("gzip, chunked", 1), CODING_UNSUPPORTED);
    ck_assert_int_eq(policy_request_coding("identity", 1), CODING_UNSUPPORTED);
    ck_assert_int_eq(policy_request_coding("chunked", 2), CODING_UNSUPPORTED);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {answer_plans,
                                  body_reserves,
                                  verdicts_503,
                                  resending,
                                  request_bodies,
                                  redirect_loops,
                                  backoff_and_budget,
                                  waiting_for_a_leader,
                                  failure_answers,
                                  methods_and_codings,
                                  NULL};

    return unit_run(unit_suite("policy", tests));
}
