/* varint.c: protobuf varints (see varint.h). */
#include "config.h"

#include "base/varint.h"

bool varint_read(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
    const uint8_t *q = *p;
    uint64_t v = 0;

    for (int shift = 0; shift < 64 && q < end; shift += 7) {
        uint8_t b = *q++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *ret = v;
            *p = q;
            return true;
        }
    }
    return false;
}
