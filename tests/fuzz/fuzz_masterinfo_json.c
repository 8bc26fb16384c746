/* fuzz_masterinfo_json.c: libFuzzer target for MasterInfo JSON.
 *
 * Decodes arbitrary bytes with masterinfo_from_json(); what decodes must give
 * the same endpoint (or the same failure) after masterinfo_to_json() and a
 * second decode, and encoding must be a fixed point. */
#include "config.h"

#include "zk/masterinfo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) fail(const char *what, const char *json)
{
    fprintf(stderr, "fuzz_masterinfo_json: %s; re-encoded JSON: %s\n", what, json);
    abort();
}

/* Fails unless @a and @b name the same endpoint (or both none). */
static void same_endpoint(const struct master_info *a, const struct master_info *b,
                          const char *json)
{
    struct master_endpoint ea, eb;
    int ra = masterinfo_endpoint(a, &ea, NULL), rb = masterinfo_endpoint(b, &eb, NULL);
    char buf[MASTERINFO_HOST_MAX + 16];

    if (ra != rb)
        fail("the endpoint differs after a round trip", json);
    if (ra < 0)
        return;
    if (strcmp(ea.host, eb.host) != 0 || ea.port != eb.port || strcmp(ea.source, eb.source) != 0)
        fail("the endpoint differs after a round trip", json);
    masterinfo_endpoint_format(&ea, buf, sizeof(buf));
    if (ea.port == 0 || !strchr(buf, ':'))
        fail("an endpoint without a port", json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct master_info mi, again, copy;
    struct errbuf err = {{0}};
    char *json, *json2, *json3;

    if (masterinfo_from_json((const char *)data, size, &mi, &err) < 0) {
        if (!err.msg[0])
            fail("a rejection without a reason", "(none)");
        return 0;
    }
    json = masterinfo_to_json(&mi);
    if (masterinfo_from_json(json, strlen(json), &again, &err) < 0) {
        fprintf(stderr, "second decode: %s\n", err.msg);
        fail("the re-encoded JSON does not decode", json);
    }
    same_endpoint(&mi, &again, json);
    json2 = masterinfo_to_json(&again);
    if (strcmp(json, json2) != 0)
        fail("encoding is not a fixed point", json2);
    masterinfo_copy(&copy, &mi);
    json3 = masterinfo_to_json(&copy);
    if (strcmp(json, json3) != 0)
        fail("a copy encodes differently", json3);
    masterinfo_done(&copy);
    masterinfo_done(&again);
    masterinfo_done(&mi);
    free(json);
    free(json2);
    free(json3);
    return 0;
}
