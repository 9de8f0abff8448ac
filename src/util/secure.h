/* secure.h - random tokens, hashing and constant-time comparison (OpenSSL). */
#ifndef DS_SECURE_H
#define DS_SECURE_H

#include <stdbool.h>
#include <stddef.h>

/* Fills out with 2*nbytes lowercase hex characters from the CSPRNG plus a NUL.
 * Returns 0, or -1 when the CSPRNG fails (callers must not fall back). */
int sec_random_hex(char *out, size_t nbytes);
/* API key: "dsk_" + 48 hex characters (192 bits). out must hold SEC_API_KEY_LEN + 1. */
#define SEC_API_KEY_LEN 52
int sec_new_api_key(char out[SEC_API_KEY_LEN + 1]);
/* SHA-256 of s as 64 hex characters + NUL. */
void sec_sha256_hex(const char *s, char out[65]);
/* Compares two strings in time independent of where they differ. */
bool sec_equal(const char *a, const char *b);

#endif
