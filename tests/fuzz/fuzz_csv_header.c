/* libFuzzer target: the CSV header parser (storage/csv.c) reads untrusted upload bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "storage/storage.h"

static void sink(void *ud, const char *name, size_t n) {
    size_t *total = ud;
    /* Touch every byte the parser hands out: ASan catches reads past the buffer. */
    for (size_t i = 0; i < n; i++) *total += (unsigned char)name[i];
    *total += strlen(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t total = 0;
    stor_csv_header((const char *)data, size, sink, &total);
    return 0;
}
