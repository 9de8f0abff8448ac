/* libFuzzer target: the column type allow-list parses user JSON strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char out[64];
    if (stor_type_normalize(s, out, sizeof out) == 0) {
        /* Whatever is accepted is one of the canonical names: letters, spaces, digits, (,). */
        for (const char *p = out; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ (),0123456789", *p)) abort();
    }
    free(s);
    return 0;
}
