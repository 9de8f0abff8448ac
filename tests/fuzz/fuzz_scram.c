/* libFuzzer target: the client's SCRAM messages (util/scram.c), read from the network
 * before authentication. Every span they give must lie inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/scram.h"

static void inside(const uint8_t *data, size_t size, const char *p, size_t n) {
    if (n == 0) return;
    if (!p || (const uint8_t *)p < data || (const uint8_t *)p + n > data + size) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    scram_client_first f;
    if (scram_parse_client_first(s, size, &f) == 0) {
        inside(data, size, f.gs2, f.gs2_len);
        inside(data, size, f.cbind_name, f.cbind_name_len);
        inside(data, size, f.bare, f.bare_len);
        /* the header and the bare message tile the input; a type comes with 'p' only */
        if (f.gs2 != s || f.gs2_len < 3 || f.bare != s + f.gs2_len || f.gs2_len + f.bare_len != size) abort();
        if ((f.cbind_flag == 'p') != (f.cbind_name_len > 0)) abort();
        if (f.cbind_flag != 'n' && f.cbind_flag != 'y' && f.cbind_flag != 'p') abort();
        inside(data, size, f.nonce, f.nonce_len);
        if (f.nonce_len == 0) abort();
    }
    scram_client_final c;
    if (scram_parse_client_final(s, size, &c) == 0) {
        inside(data, size, c.channel_binding, c.channel_binding_len);
        inside(data, size, c.nonce, c.nonce_len);
        if (c.without_proof_len >= size) abort();
    }
    return 0;
}
