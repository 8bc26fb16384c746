/* fuzz_masterinfo_upid.c: libFuzzer target for unlabelled znodes holding a
 * libprocess UPID ("master@10.0.0.1:5050", Mesos before 0.17).
 *
 * What masterinfo_from_upid() accepts must yield an endpoint equal to the
 * UPID's host and port. */
#include "config.h"

#include "zk/masterinfo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct master_info mi;
    struct master_endpoint ep;
    struct errbuf err = {{0}};
    char buf[MASTERINFO_HOST_MAX + 16];

    if (masterinfo_decode(NULL, data, size, &mi, &err) < 0) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    if (masterinfo_endpoint(&mi, &ep, &err) < 0 || strcmp(ep.source, "pid") != 0 ||
        ep.port != mi.port || strcmp(ep.host, mi.hostname) != 0) {
        fprintf(stderr, "fuzz_masterinfo_upid: pid '%s' gives no matching endpoint: %s\n", mi.pid,
                err.msg);
        abort();
    }
    masterinfo_endpoint_format(&ep, buf, sizeof(buf));
    masterinfo_done(&mi);
    return 0;
}
