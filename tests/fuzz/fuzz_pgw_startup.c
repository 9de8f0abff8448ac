/* libFuzzer target: the startup packet and the bounded message reader (pgwire/proto.c)
 * parse bytes straight from the network before authentication. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pgwire/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pgw_startup st;
    pgw_parse_startup(data, size, &st);
    if (st.kind == PGW_START_V3) {
        /* Every string handed out lies inside the input. */
        for (int i = 0; i < st.nparams; i++) {
            if ((const uint8_t *)st.keys[i] < data || (const uint8_t *)st.values[i] >= data + size) __builtin_trap();
            (void)strlen(st.values[i]);
        }
    }
    /* The reader over arbitrary bytes, as message parsers use it. */
    wire_rd r;
    wire_rd_init(&r, data, size);
    for (int i = 0; i < 64 && !r.bad; i++) {
        uint8_t t;
        int16_t s;
        int32_t n;
        const char *c;
        const uint8_t *b;
        if (!wire_rd_u8(&r, &t)) break;
        switch (t % 4) {
        case 0: wire_rd_i16(&r, &s); break;
        case 1: wire_rd_cstr(&r, &c); break;
        case 2:
            if (wire_rd_i32(&r, &n) && n >= 0) wire_rd_bytes(&r, (size_t)n, &b);
            break;
        default: wire_rd_i32(&r, &n); break;
        }
    }
    return 0;
}
