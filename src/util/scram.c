/* scram.c - SCRAM-SHA-256 verifier creation and parsing (OpenSSL). */
#include "util/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scram_b64_encode(const unsigned char *in, size_t n, char *out, size_t outsz) {
    size_t need = 4 * ((n + 2) / 3) + 1;
    if (need > outsz || n > 1 << 20) return -1;
    return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int scram_b64_decode(const char *in, size_t n, unsigned char *out, size_t outsz) {
    if (n % 4 != 0 || n / 4 * 3 > outsz) return -1;
    if (n == 0) return 0;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0) return -1;
    /* EVP_DecodeBlock counts padding as zero bytes. */
    if (in[n - 1] == '=') len--;
    if (in[n - 2] == '=') len--;
    return len;
}

static int hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[SCRAM_KEY_LEN]) {
    unsigned int len = 0;
    return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len) && len == SCRAM_KEY_LEN
               ? 0
               : -1;
}

int scram_make_verifier_with_salt(const char *password, const unsigned char *salt, size_t salt_len, int iterations,
                                  char out[SCRAM_VERIFIER_MAX]) {
    unsigned char salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN], server[SCRAM_KEY_LEN];
    unsigned int slen = 0;
    int rc = -1;
    /* PostgreSQL runs SASLprep on the password; ours are ASCII, for which it is the identity. */
    if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, iterations, EVP_sha256(),
                           SCRAM_KEY_LEN, salted))
        goto out;
    if (hmac(salted, SCRAM_KEY_LEN, "Client Key", client_key) || hmac(salted, SCRAM_KEY_LEN, "Server Key", server))
        goto out;
    if (!EVP_Digest(client_key, SCRAM_KEY_LEN, stored, &slen, EVP_sha256(), NULL)) goto out;
    char salt64[100], stored64[64], server64[64];
    if (scram_b64_encode(salt, salt_len, salt64, sizeof salt64) < 0 ||
        scram_b64_encode(stored, SCRAM_KEY_LEN, stored64, sizeof stored64) < 0 ||
        scram_b64_encode(server, SCRAM_KEY_LEN, server64, sizeof server64) < 0)
        goto out;
    if (snprintf(out, SCRAM_VERIFIER_MAX, "SCRAM-SHA-256$%d:%s$%s:%s", iterations, salt64, stored64, server64) >=
        SCRAM_VERIFIER_MAX)
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(client_key, sizeof client_key);
    return rc;
}

int scram_make_verifier(const char *password, char out[SCRAM_VERIFIER_MAX]) {
    unsigned char salt[SCRAM_SALT_LEN];
    if (RAND_bytes(salt, sizeof salt) != 1) return -1;
    return scram_make_verifier_with_salt(password, salt, sizeof salt, SCRAM_ITERATIONS, out);
}

int scram_parse_verifier(const char *text, scram_verifier *v) {
    memset(v, 0, sizeof *v);
    const char *p = text;
    if (strncmp(p, "SCRAM-SHA-256$", 14) != 0) return -1;
    p += 14;
    char *end;
    long it = strtol(p, &end, 10);
    if (end == p || *end != ':' || it < 1 || it > 1000000) return -1;
    v->iterations = (int)it;
    p = end + 1;
    const char *dollar = strchr(p, '$');
    if (!dollar) return -1;
    int n = scram_b64_decode(p, (size_t)(dollar - p), v->salt, sizeof v->salt);
    if (n <= 0) return -1;
    v->salt_len = (size_t)n;
    p = dollar + 1;
    const char *colon = strchr(p, ':');
    if (!colon) return -1;
    unsigned char buf[48];
    if (scram_b64_decode(p, (size_t)(colon - p), buf, sizeof buf) != SCRAM_KEY_LEN) return -1;
    memcpy(v->stored_key, buf, SCRAM_KEY_LEN);
    if (scram_b64_decode(colon + 1, strlen(colon + 1), buf, sizeof buf) != SCRAM_KEY_LEN) return -1;
    memcpy(v->server_key, buf, SCRAM_KEY_LEN);
    return 0;
}

int scram_random_password(char out[44]) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) return -1;
    /* 43 characters of 6 bits each = 258 bits drawn from 256 random bits. */
    unsigned bits = 0, acc = 0;
    size_t o = 0, i = 0;
    while (o < 43) {
        if (bits < 6) {
            acc = (acc << 8) | (i < sizeof raw ? raw[i++] : 0);
            bits += 8;
        }
        out[o++] = alphabet[(acc >> (bits - 6)) & 63];
        bits -= 6;
    }
    out[43] = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

/* ---- the client's messages ---- */

/* One attribute "x=value" at msg[*pos..len): its letter and value span; *pos moves past
 * the ',' that ends it (or to len). -1 when there is no "x=". */
static int next_attr(const char *msg, size_t len, size_t *pos, char *name, const char **val, size_t *vlen) {
    size_t i = *pos;
    if (i + 2 > len || msg[i + 1] != '=' || !((msg[i] >= 'a' && msg[i] <= 'z') || (msg[i] >= 'A' && msg[i] <= 'Z')))
        return -1;
    *name = msg[i];
    size_t start = i + 2, end = start;
    while (end < len && msg[end] != ',') end++;
    *val = msg + start;
    *vlen = end - start;
    *pos = end < len ? end + 1 : len;
    return 0;
}

/* A nonce: printable ASCII but ',' (RFC 5802), at least one character. */
static bool nonce_ok(const char *v, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x21 || v[i] > 0x7e || v[i] == ',') return false;
    return true;
}

/* A channel binding type name: 1*(ALPHA / DIGIT / "." / "-") (RFC 5056). */
static bool cb_name_ok(const char *v, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int scram_parse_client_first(const char *msg, size_t len, scram_client_first *out) {
    memset(out, 0, sizeof *out);
    if (len < 3 || memchr(msg, '\0', len)) return -1;
    /* gs2-header: gs2-cbind-flag "," [authzid] ",": "n,," / "y,," / "p=<type>,,"; an
     * authzid is refused (PostgreSQL does not support one either). */
    size_t pos;
    if (msg[0] == 'n' || msg[0] == 'y') {
        if (msg[1] != ',') return -1;
        pos = 2;
    } else if (msg[0] == 'p') {
        if (msg[1] != '=') return -1;
        size_t end = 2;
        while (end < len && msg[end] != ',') end++;
        if (end == len || !cb_name_ok(msg + 2, end - 2)) return -1;
        out->cbind_name = msg + 2;
        out->cbind_name_len = end - 2;
        pos = end + 1;
    } else {
        return -1;
    }
    if (pos >= len || msg[pos] != ',') return -1;
    pos++;
    out->cbind_flag = msg[0];
    out->gs2 = msg;
    out->gs2_len = pos;
    out->bare = msg + pos;
    out->bare_len = len - pos;
    char name;
    const char *v;
    size_t vn;
    if (next_attr(msg, len, &pos, &name, &v, &vn) || name != 'n') return -1; /* user: PostgreSQL ignores it */
    if (next_attr(msg, len, &pos, &name, &v, &vn) || name != 'r' || !nonce_ok(v, vn)) return -1;
    out->nonce = v;
    out->nonce_len = vn;
    while (pos < len) { /* extensions: ignored, but a mandatory one (m=) cannot be honoured */
        if (next_attr(msg, len, &pos, &name, &v, &vn) || name == 'm') return -1;
    }
    return msg[len - 1] == ',' ? -1 : 0;
}

int scram_parse_client_final(const char *msg, size_t len, scram_client_final *out) {
    memset(out, 0, sizeof *out);
    if (len == 0 || memchr(msg, '\0', len)) return -1;
    size_t pos = 0;
    char name;
    const char *v;
    size_t vn;
    if (next_attr(msg, len, &pos, &name, &v, &vn) || name != 'c' || vn == 0) return -1;
    out->channel_binding = v;
    out->channel_binding_len = vn;
    if (next_attr(msg, len, &pos, &name, &v, &vn) || name != 'r' || !nonce_ok(v, vn)) return -1;
    out->nonce = v;
    out->nonce_len = vn;
    for (;;) { /* extensions, then the proof, which comes last */
        size_t at = pos;
        if (next_attr(msg, len, &pos, &name, &v, &vn)) return -1;
        if (name == 'm') return -1;
        if (name != 'p') continue;
        if (pos != len || msg[len - 1] == ',' || at == 0) return -1;
        out->without_proof_len = at - 1; /* without the ',' before p= */
        unsigned char proof[SCRAM_KEY_LEN + 3]; /* base64 decodes in blocks of 3 */
        if (scram_b64_decode(v, vn, proof, sizeof proof) != SCRAM_KEY_LEN) return -1;
        memcpy(out->proof, proof, SCRAM_KEY_LEN);
        return 0;
    }
}
