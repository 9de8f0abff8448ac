/* secure.c - CSPRNG tokens, SHA-256, constant-time equality. */
#include "util/secure.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static void to_hex(const unsigned char *in, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int sec_random_hex(char *out, size_t nbytes) {
    unsigned char buf[64];
    if (nbytes > sizeof buf) return -1;
    if (RAND_bytes(buf, (int)nbytes) != 1) return -1;
    to_hex(buf, nbytes, out);
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

int sec_new_api_key(char out[SEC_API_KEY_LEN + 1]) {
    memcpy(out, "dsk_", 4);
    return sec_random_hex(out + 4, 24);
}

void sec_sha256_hex(const char *s, char out[65]) {
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, 32, out);
}

bool sec_equal(const char *a, const char *b) {
    /* Compare hashes of both so that the length of the secret does not leak either. */
    char ha[65], hb[65];
    sec_sha256_hex(a, ha);
    sec_sha256_hex(b, hb);
    return CRYPTO_memcmp(ha, hb, 64) == 0;
}
