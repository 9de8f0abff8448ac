/* libFuzzer target: the extended-protocol message parsers (Bind, Parse) that read
 * bytes from authenticated clients (pgwire/proto.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pgx_bind_msg b;
    if (pgx_parse_bind(data, size, &b) == 0) {
        size_t total = 0;
        for (int i = 0; i < b.nparams; i++) {
            if (b.lengths[i] >= 0) {
                if (b.values[i] < data || b.values[i] + b.lengths[i] > data + size) abort();
                total += (size_t)b.lengths[i];
            }
            (void)pgx_bind_param_format(&b, i);
        }
        if (total > size) abort();
        pgx_bind_msg_free(&b);
    }
    pgx_parse_msg p;
    if (pgx_parse_parse(data, size, &p) == 0) (void)strlen(p.query);
    free(p.oids);
    return 0;
}
