/* libFuzzer target: COPY FROM STDIN's csv input (pgexec/copyparse.c), client bytes cut
 * into CopyData messages at places the input chooses. The first byte picks options. */
#include "fuzz_copy_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_copy_one(CP_CSV, data, size); }
