/* varint.h: reading a protobuf base-128 varint (the wire format's integers),
 * for the two places that read protobuf without a library: MasterInfo
 * znodes (zk/masterinfo.c) and SUBSCRIBE call bodies (proxy/route.c). */
#ifndef MLD_VARINT_H
#define MLD_VARINT_H

#include <stdbool.h>
#include <stdint.h>

/* Reads one varint from *@p (not past @end) into @ret and moves *@p past
 * it. False, *@p unchanged, when it is cut short or longer than 10 bytes. */
bool varint_read(const uint8_t **p, const uint8_t *end, uint64_t *ret);

#endif
