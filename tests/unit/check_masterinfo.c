/* check_masterinfo.c: unit tests of MasterInfo decoding and the address rule. */
#include "config.h"

#include "zk/masterinfo.h"

#include "unit/unit.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registration from a Mesos 1.6.0 cluster quoted in the reference docs. */
static const char REAL_JSON[] =
    "{\"address\":{\"hostname\":\"10.1.1.9\",\"ip\":\"10.1.1.9\",\"port\":5050},"
    "\"capabilities\":[{\"type\":\"AGENT_UPDATE\"}],\"hostname\":\"10.1.1.9\","
    "\"id\":\"96e29ec4-9c04-4ed7-b72e-9016a64f4903\",\"ip\":151060746,"
    "\"pid\":\"master@10.1.1.9:5050\",\"port\":5050,\"version\":\"1.6.0\"}";

static struct master_info json_ok(const char *text)
{
    struct master_info mi = {0};
    struct errbuf err = {{0}};

    ck_assert_msg(masterinfo_from_json(text, strlen(text), &mi, &err) == 0, "%s: %s", text,
                  err.msg);
    return mi;
}

static void json_fails_n(const char *text, size_t len, const char *needle)
{
    struct master_info mi = {0};
    struct errbuf err = {{0}};

    ck_assert_msg(masterinfo_from_json(text, len, &mi, &err) < 0, "accepted: %.*s", (int)len, text);
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
    ck_assert_ptr_null(mi.id);
}

static void json_fails(const char *text, const char *needle)
{
    json_fails_n(text, strlen(text), needle);
}

static struct master_endpoint endpoint_of(const struct master_info *mi)
{
    struct master_endpoint ep;
    struct errbuf err = {{0}};

    ck_assert_msg(masterinfo_endpoint(mi, &ep, &err) == 0, "%s", err.msg);
    return ep;
}

START_TEST(real_example)
{
    struct master_info mi = json_ok(REAL_JSON);
    struct master_endpoint ep = endpoint_of(&mi);
    char *again;

    ck_assert_str_eq(mi.id, "96e29ec4-9c04-4ed7-b72e-9016a64f4903");
    ck_assert_str_eq(mi.version, "1.6.0");
    ck_assert_uint_eq(mi.ip, 151060746u);
    ck_assert_uint_eq(mi.n_capabilities, 1);
    ck_assert_str_eq(mi.capabilities[0], "AGENT_UPDATE");
    ck_assert_str_eq(ep.host, "10.1.1.9");
    ck_assert_uint_eq(ep.port, 5050);
    ck_assert_str_eq(ep.source, "address");
    /* Re-encoding gives Mesos's own bytes back (sorted keys, set fields). */
    again = masterinfo_to_json(&mi);
    ck_assert_str_eq(again, REAL_JSON);
    free(again);
    masterinfo_done(&mi);
}
END_TEST

START_TEST(address_ip_preferred_over_hostname)
{
    struct master_info mi =
        json_ok("{\"id\":\"a\",\"ip\":1,\"port\":5050,\"address\":"
                "{\"hostname\":\"m1.example\",\"ip\":\"10.0.0.7\",\"port\":5051}}");
    struct master_endpoint ep = endpoint_of(&mi);

    ck_assert_str_eq(ep.host, "10.0.0.7");
    ck_assert_uint_eq(ep.port, 5051);
    masterinfo_done(&mi);
    mi = json_ok("{\"id\":\"a\",\"ip\":1,\"port\":5050,\"address\":"
                 "{\"hostname\":\"m1.example\",\"port\":5052}}");
    ep = endpoint_of(&mi);
    ck_assert_str_eq(ep.host, "m1.example");
    ck_assert_uint_eq(ep.port, 5052);
    masterinfo_done(&mi);
}
END_TEST

START_TEST(missing_address_uses_pid)
{
    struct master_info mi =
        json_ok("{\"id\":\"x\",\"ip\":0,\"port\":5050,\"pid\":\"master@192.168.1.51:5051\"}");
    struct master_endpoint ep = endpoint_of(&mi);

    ck_assert_str_eq(ep.host, "192.168.1.51");
    ck_assert_uint_eq(ep.port, 5051);
    ck_assert_str_eq(ep.source, "pid");
    masterinfo_done(&mi);
}
END_TEST

START_TEST(packed_ip_byte_order)
{
    static const struct {
        uint32_t packed;
        const char *dotted;
    } cases[] = {
        {169978048u, "192.168.33.10"}, {151060746u, "10.1.1.9"}, {855746752u, "192.168.1.51"}};
    char buf[32];

    for (size_t i = 0; i < 3; i++) {
        char text[128];
        struct master_info mi;
        struct master_endpoint ep;

        masterinfo_ip_to_string(cases[i].packed, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[i].dotted);
        snprintf(text, sizeof(text), "{\"id\":\"x\",\"ip\":%u,\"port\":5055}", cases[i].packed);
        mi = json_ok(text);
        ep = endpoint_of(&mi);
        ck_assert_str_eq(ep.host, cases[i].dotted);
        ck_assert_uint_eq(ep.port, 5055);
        ck_assert_str_eq(ep.source, "ip");
        masterinfo_done(&mi);
    }
}
END_TEST

START_TEST(garbage_and_truncation)
{
    size_t n = strlen(REAL_JSON);

    json_fails("", "empty");
    json_fails("hello", "invalid JSON");
    json_fails("[1,2]", "not an object");
    json_fails("{} {}", "invalid JSON");
    json_fails("{\"id\":\"a\",\"ip\":1,\"port\":1}  x", "invalid JSON");
    json_fails_n("\x00\x01\x02", 3, "invalid JSON");
    for (size_t cut = 1; cut < n; cut += 7)
        json_fails_n(REAL_JSON, cut, "invalid JSON");
}
END_TEST

START_TEST(required_fields_and_types)
{
    json_fails("{\"ip\":1,\"port\":5050}", "'id' is missing");
    json_fails("{\"id\":\"a\",\"port\":5050}", "'ip' is missing");
    json_fails("{\"id\":\"a\",\"ip\":1}", "'port' is missing");
    json_fails("{\"id\":7,\"ip\":1,\"port\":1}", "'id' is not a string");
    json_fails("{\"id\":\"a\",\"ip\":\"1\",\"port\":1}", "'ip' is not an integer");
    json_fails("{\"id\":\"a\",\"ip\":1,\"port\":1,\"address\":{\"ip\":\"1.2.3.4\"}}",
               "address.port");
    json_fails("{\"id\":\"a\",\"ip\":1,\"port\":1,\"address\":[]}", "'address' is not an object");
}
END_TEST

START_TEST(huge_values)
{
    const char *cases[] = {
        "{\"id\":\"a\",\"ip\":4294967296,\"port\":5050}",
        "{\"id\":\"a\",\"ip\":-1,\"port\":5050}",
        "{\"id\":\"a\",\"ip\":1,\"port\":99999999999999999999999}",
        "{\"id\":\"a\",\"ip\":1,\"port\":1e309}",
        "{\"id\":\"a\",\"ip\":1,\"port\":1,\"address\":{\"port\":2147483648}}",
    };
    char *deep = malloc(20000);
    char *long_id = malloc(10000);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct master_info mi = {0};
        ck_assert_msg(masterinfo_from_json(cases[i], strlen(cases[i]), &mi, NULL) < 0, "%s",
                      cases[i]);
    }
    /* Deep nesting is refused without recursion trouble. */
    memset(deep, '[', 19999);
    deep[19999] = '\0';
    json_fails(deep, "invalid JSON");
    /* A field longer than any real one is refused. */
    strcpy(long_id, "{\"ip\":1,\"port\":1,\"id\":\"");
    memset(long_id + strlen(long_id), 'x', 5000);
    strcpy(long_id + strlen("{\"ip\":1,\"port\":1,\"id\":\"") + 5000, "\"}");
    json_fails(long_id, "longer than");
    free(deep);
    free(long_id);
}
END_TEST

/* Text that reaches logs and status JSON must be printable UTF-8. */
START_TEST(control_characters_and_bad_utf8)
{
    json_fails("{\"id\":\"\xff\x1b[31mred\",\"ip\":1,\"port\":1}", "invalid JSON");
    json_fails("{\"id\":\"a\\u001b[31m\",\"ip\":1,\"port\":1}", "control character");
    json_fails("{\"id\":\"a\",\"version\":\"1\\n2\",\"ip\":1,\"port\":1}", "control character");
    struct master_info mi = json_ok("{\"id\":\"caf\xc3\xa9\",\"ip\":1,\"port\":1}");
    ck_assert_str_eq(mi.id, "caf\xc3\xa9");
    masterinfo_done(&mi);
}
END_TEST

/* address.ip is used only when it is an IP address. */
START_TEST(address_ip_must_be_an_ip)
{
    struct master_info mi = json_ok("{\"id\":\"a\",\"ip\":1,\"port\":5050,\"address\":"
                                    "{\"hostname\":\"m3\",\"ip\":\"foo:bar\",\"port\":5053}}");
    struct master_endpoint ep = endpoint_of(&mi);

    ck_assert_str_eq(ep.host, "m3");
    masterinfo_done(&mi);
    mi = json_ok("{\"id\":\"a\",\"ip\":1,\"port\":5050,\"address\":"
                 "{\"ip\":\"fd00::5\",\"port\":5053}}");
    ep = endpoint_of(&mi);
    ck_assert_str_eq(ep.host, "fd00::5");
    masterinfo_done(&mi);
}
END_TEST

START_TEST(port_out_of_reach_is_unusable)
{
    struct master_info mi = json_ok("{\"id\":\"a\",\"ip\":0,\"port\":70000}");
    struct master_endpoint ep;
    struct errbuf err = {{0}};

    ck_assert_int_lt(masterinfo_endpoint(&mi, &ep, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "no usable address"));
    masterinfo_done(&mi);
}
END_TEST

/* A minimal protobuf encoder for building test inputs. */
struct pbw {
    uint8_t buf[512];
    size_t len;
};

static void pbw_varint(struct pbw *w, uint64_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        w->buf[w->len++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
}

static void pbw_uint(struct pbw *w, unsigned field, uint64_t v)
{
    pbw_varint(w, (uint64_t)field << 3);
    pbw_varint(w, v);
}

static void pbw_bytes(struct pbw *w, unsigned field, const void *data, size_t n)
{
    pbw_varint(w, ((uint64_t)field << 3) | 2);
    pbw_varint(w, n);
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void pbw_string(struct pbw *w, unsigned field, const char *s)
{
    pbw_bytes(w, field, s, strlen(s));
}

START_TEST(protobuf_masterinfo)
{
    struct pbw w = {0}, addr = {0}, cap = {0}, region = {0}, zone = {0}, fd = {0}, dom = {0};
    struct master_info mi = {0};
    struct master_endpoint ep;
    struct errbuf err = {{0}};

    pbw_string(&addr, 1, "m2.example");
    pbw_string(&addr, 2, "10.2.3.4");
    pbw_uint(&addr, 3, 5051);
    pbw_uint(&cap, 1, 2);
    pbw_string(&region, 1, "eu");
    pbw_string(&zone, 1, "eu-1a");
    pbw_bytes(&fd, 1, region.buf, region.len);
    pbw_bytes(&fd, 2, zone.buf, zone.len);
    pbw_bytes(&dom, 1, fd.buf, fd.len);
    pbw_string(&w, 1, "pb-id");
    pbw_uint(&w, 2, 151060746u);
    pbw_uint(&w, 3, 5050);
    pbw_string(&w, 4, "master@10.1.1.9:5050");
    pbw_string(&w, 5, "m2");
    pbw_string(&w, 6, "0.23.0");
    pbw_bytes(&w, 7, addr.buf, addr.len);
    pbw_bytes(&w, 8, dom.buf, dom.len);
    pbw_bytes(&w, 9, cap.buf, cap.len);
    pbw_uint(&w, 42, 7); /* unknown fields are skipped */

    ck_assert_msg(masterinfo_decode("info", w.buf, w.len, &mi, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(mi.id, "pb-id");
    ck_assert_uint_eq(mi.port, 5050);
    ck_assert_str_eq(mi.version, "0.23.0");
    ck_assert_str_eq(mi.region, "eu");
    ck_assert_str_eq(mi.zone, "eu-1a");
    ck_assert_str_eq(mi.capabilities[0], "AGENT_DRAINING");
    ep = endpoint_of(&mi);
    ck_assert_str_eq(ep.host, "10.2.3.4");
    ck_assert_uint_eq(ep.port, 5051);
    masterinfo_done(&mi);

    /* Every truncation of the message is rejected or decodes cleanly. */
    for (size_t cut = 0; cut < w.len; cut++) {
        if (masterinfo_from_protobuf(w.buf, cut, &mi, NULL) == 0)
            masterinfo_done(&mi);
    }
}
END_TEST

START_TEST(protobuf_required_and_malformed)
{
    struct pbw w = {0};
    struct master_info mi = {0};
    struct errbuf err = {{0}};
    static const uint8_t overlong_varint[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff,
                                              0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t bad_length[] = {0x0a, 0x7f, 'a'};
    static const uint8_t group[] = {0x0b, 0x0c};

    pbw_string(&w, 1, "only-id");
    pbw_uint(&w, 3, 5050);
    ck_assert_int_lt(masterinfo_from_protobuf(w.buf, w.len, &mi, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "'ip' is missing"));
    ck_assert_int_lt(masterinfo_from_protobuf(overlong_varint, sizeof(overlong_varint), &mi, NULL),
                     0);
    ck_assert_int_lt(masterinfo_from_protobuf(bad_length, sizeof(bad_length), &mi, NULL), 0);
    ck_assert_int_lt(masterinfo_from_protobuf(group, sizeof(group), &mi, NULL), 0);
    /* JSON is not protobuf. */
    ck_assert_int_lt(masterinfo_decode("info", REAL_JSON, strlen(REAL_JSON), &mi, NULL), 0);
}
END_TEST

START_TEST(upid_old_format)
{
    struct master_info mi = {0};
    struct master_endpoint ep;
    struct errbuf err = {{0}};
    const char *upid = "master@10.0.0.5:5050";

    ck_assert_int_eq(masterinfo_decode(NULL, upid, strlen(upid), &mi, &err), 0);
    ep = endpoint_of(&mi);
    ck_assert_str_eq(ep.host, "10.0.0.5");
    ck_assert_uint_eq(ep.port, 5050);
    ck_assert_uint_eq(mi.ip & 0xff, 10);
    masterinfo_done(&mi);
    ck_assert_int_lt(masterinfo_decode(NULL, "garbage", 7, &mi, &err), 0);
    ck_assert_int_lt(masterinfo_decode(NULL, "master@10.0.0.5:0", 17, &mi, NULL), 0);
    ck_assert_int_lt(masterinfo_decode(NULL, "master@:5050", 12, &mi, NULL), 0);
}
END_TEST

START_TEST(unknown_label)
{
    struct master_info mi = {0};
    struct errbuf err = {{0}};

    ck_assert_int_lt(masterinfo_decode("foo", REAL_JSON, strlen(REAL_JSON), &mi, &err), 0);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown label 'foo'"));
}
END_TEST

START_TEST(copy_is_deep)
{
    struct master_info mi = json_ok(REAL_JSON), copy;

    masterinfo_copy(&copy, &mi);
    masterinfo_done(&mi);
    ck_assert_str_eq(copy.id, "96e29ec4-9c04-4ed7-b72e-9016a64f4903");
    ck_assert_str_eq(copy.address.ip, "10.1.1.9");
    ck_assert_str_eq(copy.capabilities[0], "AGENT_UPDATE");
    masterinfo_done(&copy);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {real_example,
                                  address_ip_preferred_over_hostname,
                                  missing_address_uses_pid,
                                  packed_ip_byte_order,
                                  garbage_and_truncation,
                                  required_fields_and_types,
                                  huge_values,
                                  port_out_of_reach_is_unusable,
                                  protobuf_masterinfo,
                                  protobuf_required_and_malformed,
                                  upid_old_format,
                                  unknown_label,
                                  copy_is_deep,
                                  control_characters_and_bad_utf8,
                                  address_ip_must_be_an_ip,
                                  NULL};

    return unit_run(unit_suite("masterinfo", tests));
}
