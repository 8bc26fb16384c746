/* fuzz_masterinfo_protobuf.c: libFuzzer target for binary protobuf
 * MasterInfo (Mesos 0.17 - 0.23 znodes).
 *
 * Decodes arbitrary bytes with masterinfo_from_protobuf() and picks the
 * endpoint; what decodes is also encoded as JSON (as the status endpoints
 * show it), which must decode to the same endpoint. */
#include "config.h"

#include "zk/masterinfo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn)) fail(const char *what, const char *json)
{
    fprintf(stderr, "fuzz_masterinfo_protobuf: %s; JSON: %s\n", what, json);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct master_info mi, again;
    struct master_endpoint ep, ep2;
    struct errbuf err = {{0}};
    char *json;
    int r, r2;

    if (masterinfo_from_protobuf(data, size, &mi, &err) < 0) {
        if (!err.msg[0])
            fail("a rejection without a reason", "(none)");
        return 0;
    }
    if (!mi.id)
        fail("decoded without the required id", "(none)");
    r = masterinfo_endpoint(&mi, &ep, &err);
    json = masterinfo_to_json(&mi);
    if (masterinfo_from_json(json, strlen(json), &again, &err) < 0) {
        fprintf(stderr, "JSON decode: %s\n", err.msg);
        fail("the JSON encoding does not decode", json);
    }
    r2 = masterinfo_endpoint(&again, &ep2, NULL);
    if (r != r2 || (r == 0 && (strcmp(ep.host, ep2.host) != 0 || ep.port != ep2.port)))
        fail("the endpoint differs between protobuf and JSON", json);
    masterinfo_done(&again);
    masterinfo_done(&mi);
    free(json);
    return 0;
}
