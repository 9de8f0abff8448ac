/* libFuzzer target: the TZif reader (pgexec/tz.c) parses zone files named by clients'
 * SET TimeZone; they come from the system, but the parser must not trust them. */
#include <stddef.h>
#include <stdint.h>

#include "pgexec/types/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pgt_tz *tz = pgt_tz_parse(data, size);
    if (tz) {
        for (int64_t t = -4000000000LL; t < 8000000000LL; t += 123456789) (void)pgt_tz_offset(tz, t);
        pgt_tz_free(tz);
    }
    return 0;
}
