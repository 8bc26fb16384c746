/* check_route.c: unit tests of request classification. */
#include "config.h"

#include "proxy/route.h"

#include "unit/unit.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Paths compare as libprocess compares them: trailing slashes do not count. */
START_TEST(canonical)
{
    char out[32];

    ck_assert_int_eq(route_canonical("/api/v1/scheduler/", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/api/v1/scheduler");
    ck_assert_int_eq(route_canonical("/master/state//", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/master/state");
    ck_assert_int_eq(route_canonical("/", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/");
    ck_assert_int_eq(route_canonical("/state", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "/state");
    ck_assert_int_eq(route_canonical("/a/very/long/path/that/does/not/fit", out, 8), -ENAMETOOLONG);
}
END_TEST

START_TEST(targets)
{
    ck_assert(route_target_acceptable("/api/v1?x=1&y=%20"));
    ck_assert(route_target_acceptable("//double/slash"));
    ck_assert(!route_target_acceptable("http://evil.example/api/v1"));
    ck_assert(!route_target_acceptable("evil.example:443"));
    ck_assert(!route_target_acceptable("*"));
    ck_assert(!route_target_acceptable("/a#frag"));
    ck_assert(!route_target_acceptable("/a b"));
    ck_assert(!route_target_acceptable("/a\x01"));
    ck_assert(!route_target_acceptable(""));
}
END_TEST

START_TEST(subscribe_json)
{
    const char *sub = "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{}}}";
    const char *accept = "{\"type\":\"ACCEPT\",\"accept\":{\"note\":\"SUBSCRIBE\"}}";

    ck_assert(route_is_subscribe("/api/v1/scheduler", "application/json", sub, strlen(sub)));
    ck_assert(route_is_subscribe("/master/api/v1", "application/json", sub, strlen(sub)));
    ck_assert(route_is_subscribe("/api/v1/scheduler/", "application/json", sub, strlen(sub)));
    ck_assert(route_is_subscribe("/master/api/v1//", "application/json", sub, strlen(sub)));
    ck_assert(!route_is_subscribe("/api/v1/scheduler", "application/json", accept, strlen(accept)));
    ck_assert(!route_is_subscribe("/state", "application/json", sub, strlen(sub)));
    ck_assert(!route_is_subscribe("/api/v1/scheduler", "text/plain", sub, strlen(sub)));
    ck_assert(!route_is_subscribe("/api/v1/scheduler", "application/json", "{\"type\":", 8));
    ck_assert(!route_is_subscribe("/api/v1/scheduler", NULL, sub, strlen(sub)));
}
END_TEST

/* The top-level "type" is found without a full parse, and agrees with one:
 * nested "type"s, strings holding braces or quotes, blanks, duplicates. */
START_TEST(subscribe_json_scan)
{
    static const struct {
        const char *body;
        bool subscribe;
    } cases[] = {
        {"{ \"type\" : \"SUBSCRIBE\" }", true},
        {"\n{\"subscribe\":{\"type\":\"X\"},\"type\":\"SUBSCRIBE\"}", true},
        {"{\"subscribe\":{\"type\":\"SUBSCRIBE\"},\"type\":\"ACCEPT\"}", false},
        {"{\"note\":\"}{\\\"type\\\":\\\"SUBSCRIBE\",\"type\":\"DECLINE\"}", false},
        {"{\"type\":\"ACCEPT\",\"type\":\"SUBSCRIBE\"}", true},
        {"{\"types\":\"SUBSCRIBE\"}", false},
        {"{\"type\":[\"SUBSCRIBE\"]}", false},
        {"{\"type\":\"SUBSCRIBEX\"}", false},
        {"{\"ty\\u0070e\":\"SUBSCRIBE\"}", true}, /* an escape: parsed in full */
        {"{\"type\":\"SUBSCRIB\\u0045\"}", true}, /* ... in the value too */
        {"[\"type\",\"SUBSCRIBE\"]", false},
        {"{\"type\":\"SUBSCRIBE\"", false}, /* cut short: json-c refuses it */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(route_is_subscribe("/api/v1/scheduler", "application/json", cases[i].body,
                                         strlen(cases[i].body)) == cases[i].subscribe,
                      "case %zu: %s", i, cases[i].body);
}
END_TEST

START_TEST(subscribe_protobuf)
{
    /* scheduler Call: framework_id (1, bytes) then type (2) = SUBSCRIBE (1). */
    static const uint8_t sched[] = {0x0a, 0x03, 0x0a, 0x01, 'x', 0x10, 0x01};
    static const uint8_t sched_accept[] = {0x10, 0x03};
    /* master Call: type (1) = SUBSCRIBE (18). */
    static const uint8_t oper[] = {0x08, 0x12};
    static const uint8_t truncated[] = {0x0a, 0x7f};

    ck_assert(route_is_subscribe("/api/v1/scheduler", "application/x-protobuf", (const char *)sched,
                                 sizeof(sched)));
    ck_assert(!route_is_subscribe("/api/v1/scheduler", "application/x-protobuf",
                                  (const char *)sched_accept, sizeof(sched_accept)));
    ck_assert(
        route_is_subscribe("/api/v1", "application/x-protobuf", (const char *)oper, sizeof(oper)));
    ck_assert(!route_is_subscribe("/api/v1/scheduler", "application/x-protobuf", (const char *)oper,
                                  sizeof(oper)));
    ck_assert(!route_is_subscribe("/api/v1/scheduler", "application/x-protobuf",
                                  (const char *)truncated, sizeof(truncated)));
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {canonical,          targets, subscribe_json, subscribe_json_scan,
                                  subscribe_protobuf, NULL};

    return unit_run(unit_suite("route", tests));
}
