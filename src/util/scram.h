/* scram.h - SCRAM-SHA-256 verifiers in PostgreSQL's format (RFC 5802/7677):
 *   SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>
 * The workspace password is stored only as such a verifier; the wire server checks a
 * client's proof against StoredKey and signs with ServerKey. */
#ifndef DS_SCRAM_H
#define DS_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAM_KEY_LEN 32
#define SCRAM_SALT_LEN 16
#define SCRAM_ITERATIONS 4096
#define SCRAM_VERIFIER_MAX 160

typedef struct {
    int iterations;
    unsigned char salt[64];
    size_t salt_len;
    unsigned char stored_key[SCRAM_KEY_LEN];
    unsigned char server_key[SCRAM_KEY_LEN];
} scram_verifier;

/* Verifier for password with a fresh random salt. Returns 0 or -1. */
int scram_make_verifier(const char *password, char out[SCRAM_VERIFIER_MAX]);
/* Verifier for password with the given salt and iteration count (deterministic). */
int scram_make_verifier_with_salt(const char *password, const unsigned char *salt, size_t salt_len, int iterations,
                                  char out[SCRAM_VERIFIER_MAX]);
/* Parses a verifier string. Returns 0 or -1 when malformed. */
int scram_parse_verifier(const char *text, scram_verifier *out);

/* Base64 helpers (standard alphabet, padded). Return the output length or -1. */
int scram_b64_encode(const unsigned char *in, size_t n, char *out, size_t outsz);
int scram_b64_decode(const char *in, size_t n, unsigned char *out, size_t outsz);

/* The client's messages of the exchange (RFC 5802 section 7), as PostgreSQL takes them:
 * no authzid, extensions other than m= ignored. These read bytes from the network
 * before authentication; they never read past len, and the spans they give point into
 * msg. Both return 0, or -1 when the message is malformed. Whether the channel binding
 * flag fits the mechanism and the connection is the caller's to judge. */
typedef struct {
    /* gs2-cbind-flag: 'n' (client without channel binding), 'y' (client with it, that
     * thinks the server has none) or 'p' (binding of type cbind_name used). */
    char cbind_flag;
    const char *cbind_name;     /* with 'p': the type, e.g. "tls-server-end-point" */
    size_t cbind_name_len;
    const char *gs2;            /* the whole gs2 header ("n,,", "p=tls-server-end-point,,"), */
    size_t gs2_len;             /* which the final message's c= repeats */
    const char *bare;           /* client-first-message-bare ("n=...,r=...") */
    size_t bare_len;
    const char *nonce;          /* the client nonce (r=) */
    size_t nonce_len;
} scram_client_first;
int scram_parse_client_first(const char *msg, size_t len, scram_client_first *out);

typedef struct {
    size_t without_proof_len;   /* msg[0..this) is client-final-message-without-proof */
    const char *channel_binding; /* c= (base64 of the gs2 header and, with 'p', the binding data) */
    size_t channel_binding_len;
    const char *nonce;          /* r= (client nonce + server nonce) */
    size_t nonce_len;
    unsigned char proof[SCRAM_KEY_LEN]; /* p=, decoded */
} scram_client_final;
int scram_parse_client_final(const char *msg, size_t len, scram_client_final *out);

/* A random password: 32 bytes (256 bits) from the CSPRNG, base64url without padding
 * (43 characters, safe in a URL). out must hold 44 bytes. Returns 0 or -1. */
int scram_random_password(char out[44]);

#endif
