/* auth.c - SCRAM-SHA-256 (RFC 5802/7677, as PostgreSQL does it) against the stored
 * verifier, found by user name alone. Unknown users go through the same exchange with a
 * mock verifier; wrong databases and expired workspaces with the real one. All fail at
 * the same point with the same message, so a client learns nothing about which it was. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "pgwire/internal.h"
#include "util/log.h"
#include "util/scram.h"
#include "util/timeutil.h"

#define SASL_MAX 2048

static void hmac(const unsigned char *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32]) {
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n);
}

/* A verifier for a user that may not log in: deterministic per user name (so repeated
 * attempts look alike), never matching any password. */
static void mock_verifier(pgw_server *srv, const char *user, scram_verifier *v) {
    memset(v, 0, sizeof *v);
    unsigned char h[32];
    hmac(srv->mock_secret, sizeof srv->mock_secret, user, strlen(user), h);
    memcpy(v->salt, h, SCRAM_SALT_LEN);
    v->salt_len = SCRAM_SALT_LEN;
    v->iterations = SCRAM_ITERATIONS;
    RAND_bytes(v->stored_key, sizeof v->stored_key);
    RAND_bytes(v->server_key, sizeof v->server_key);
}

static void send_auth(pgw_session *s, int32_t code, const void *data, size_t n) {
    wire_wb_begin(&s->out, PqMsg_AuthenticationRequest);
    wire_wb_i32(&s->out, code);
    if (data) wire_wb_bytes(&s->out, data, n);
    wire_wb_end(&s->out);
}

/* Reads the next SASL message (PqMsg_SASLResponse); returns its payload in *data. The initial one names
 * the mechanism: SCRAM-SHA-256, or SCRAM-SHA-256-PLUS when offered (then *plus is set). */
static int read_sasl(pgw_session *s, bool initial, bool plus_offered, bool *plus, const uint8_t **data, size_t *n) {
    char type;
    const uint8_t *body;
    size_t len;
    if (pgw_read_msg(s, &type, &body, &len, SASL_MAX, pgw_auth_remaining_ms(s)) != 1) return -1;
    if (type != PqMsg_SASLResponse) {
        pgw_error(s, "FATAL", "08P01", "expected a SASL response message", 0);
        return -1;
    }
    wire_rd r;
    wire_rd_init(&r, body, len);
    if (initial) {
        const char *mech;
        int32_t dlen;
        if (!wire_rd_cstr(&r, &mech) || !wire_rd_i32(&r, &dlen) || dlen < 0 || (size_t)dlen != wire_rd_left(&r)) {
            pgw_error(s, "FATAL", "08P01", "malformed SASLInitialResponse message", 0);
            return -1;
        }
        *plus = plus_offered && strcmp(mech, "SCRAM-SHA-256-PLUS") == 0;
        if (!*plus && strcmp(mech, "SCRAM-SHA-256") != 0) {
            pgw_error(s, "FATAL", "28000", "client selected an invalid SASL authentication mechanism", 0);
            return -1;
        }
    }
    *n = wire_rd_left(&r);
    wire_rd_bytes(&r, *n, data);
    return 0;
}

/* Whether the client's channel binding flag fits the mechanism it chose and what was
 * offered (RFC 5802 section 6, as PostgreSQL judges it). NULL when it does, else the
 * message of the 08P01 to send. */
static const char *cbind_check(const scram_client_first *cf, bool plus, bool plus_offered) {
    static const char end_point[] = "tls-server-end-point";
    if (plus && cf->cbind_flag != 'p')
        return "malformed SCRAM message: the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
               "include channel binding data";
    if (!plus && cf->cbind_flag == 'p')
        return "malformed SCRAM message: the client selected SCRAM-SHA-256 without channel binding, but the SCRAM "
               "message includes channel binding data";
    /* 'y': the client could bind but believes we cannot; we offered it, so the list of
     * mechanisms was changed on its way (a downgrade). */
    if (cf->cbind_flag == 'y' && plus_offered)
        return "SCRAM channel binding negotiation error: the client supports SCRAM channel binding but thinks the "
               "server does not, although this server does support channel binding";
    if (cf->cbind_flag == 'p' &&
        (cf->cbind_name_len != sizeof end_point - 1 || memcmp(cf->cbind_name, end_point, cf->cbind_name_len) != 0))
        return "unsupported SCRAM channel-binding type (only tls-server-end-point is supported)";
    return NULL;
}

static void fail_auth(pgw_session *s, const char *user) {
    pgw_login_failed(s->srv, s->addr_key);
    char m[200];
    snprintf(m, sizeof m, "password authentication failed for user \"%.100s\"", user);
    pgw_error(s, "FATAL", "28P01", m, 0);
    pgw_flush(s);
    log_info("pgwire: %s: authentication failed", s->client_addr);
}

/* An exchange that stopped after the server's first message: counted, answered by the
 * caller (or not at all: the client is gone). Returns -1. */
static int abandoned(pgw_session *s) {
    pgw_login_failed(s->srv, s->addr_key);
    log_info("pgwire: %s: SCRAM exchange abandoned after the server's first message", s->client_addr);
    return -1;
}

int pgw_authenticate(pgw_session *s, const pgw_startup *st) {
    snprintf(s->user, sizeof s->user, "%s", st->user);
    /* An address that failed recently waits for its turn, before any work. */
    int t = pgw_throttle_wait(s);
    if (t == -1)
        pgw_error(s, "FATAL", "53300", "too many failed login attempts from this address; try again later", 0);
    if (t != 0) return -1;
    /* The verifier is looked up by user name alone, as PostgreSQL does: a real user gets
     * its real salt whatever database it asks for and whether or not its workspace has
     * expired, an unknown one a mock salt that depends on the name alone. So the salt
     * tells nothing about which names exist. The database and the expiry are judged
     * after the proof, with the same 28P01 (pgwire.md: one message for every failure). */
    char vtext[SCRAM_VERIFIER_MAX] = "";
    ds_err e;
    int lrc = cat_workspace_by_username(s->srv->cat, st->user, &s->w, vtext, sizeof vtext, &e);
    if (lrc == -(int)DS_E_CATALOG_UNAVAILABLE) {
        /* Nothing can be judged without the catalog (a PostgreSQL one that cannot be
         * reached): said before any exchange, and not counted as a failed login. */
        pgw_error(s, "FATAL", "57P03", e.message, 0);
        log_warn("pgwire: %s: login refused: the catalog is unavailable", s->client_addr);
        return -1;
    }
    bool known = lrc == 0;
    scram_verifier v;
    if (!known || scram_parse_verifier(vtext, &v) != 0) {
        known = false;
        mock_verifier(s->srv, st->user, &v);
    }
    OPENSSL_cleanse(vtext, sizeof vtext);
    bool allowed = false;
    if (known) {
        char want_db[64];
        snprintf(want_db, sizeof want_db, "workspace_%s", s->w.id);
        allowed = strcmp(st->database, want_db) == 0 && !(s->w.expires_at > 0 && s->w.expires_at <= ds_now());
    }

    /* Over TLS, channel binding to the server's certificate (RFC 5929
     * tls-server-end-point) is offered too, first, as PostgreSQL does. */
    bool plus_offered = s->ssl && s->srv->cbind_len > 0, plus = false;
    static const char mechs[] = "SCRAM-SHA-256\0", mechs_plus[] = "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0";
    if (plus_offered) send_auth(s, 10, mechs_plus, sizeof mechs_plus);
    else send_auth(s, 10, mechs, sizeof mechs);
    if (pgw_flush(s) != 0) return -1;

    /* client-first-message: the gs2 header, then the bare part. */
    const uint8_t *data;
    size_t n;
    if (read_sasl(s, true, plus_offered, &plus, &data, &n) != 0) return -1;
    char first[SASL_MAX + 1]; /* kept: the next read reuses the buffer data points into */
    memcpy(first, data, n);
    first[n] = '\0';
    scram_client_first cf;
    if (scram_parse_client_first(first, n, &cf) != 0) {
        pgw_error(s, "FATAL", "08P01", "malformed SCRAM message", 0);
        return -1;
    }
    const char *cb_err = cbind_check(&cf, plus, plus_offered);
    if (cb_err) {
        pgw_error(s, "FATAL", "08P01", cb_err, 0);
        return -1;
    }
    unsigned char sn_raw[18];
    char snonce[32], salt64[100], server_first[400];
    RAND_bytes(sn_raw, sizeof sn_raw);
    scram_b64_encode(sn_raw, sizeof sn_raw, snonce, sizeof snonce);
    scram_b64_encode(v.salt, v.salt_len, salt64, sizeof salt64);
    int sf = snprintf(server_first, sizeof server_first, "r=%.*s%s,s=%s,i=%d", (int)cf.nonce_len, cf.nonce, snonce,
                      salt64, v.iterations);
    if (sf <= 0 || (size_t)sf >= sizeof server_first) {
        pgw_error(s, "FATAL", "08P01", "SCRAM nonce too long", 0);
        return -1;
    }
    send_auth(s, 11, server_first, (size_t)sf);
    /* From here on the client has a salt: an exchange that ends without a valid proof,
     * abandoned ones included, counts as a failed login (salt probes are throttled). */
    if (pgw_flush(s) != 0) return abandoned(s);

    /* client-final-message: c=<gs2 b64>,r=<nonce>,p=<proof> */
    if (read_sasl(s, false, false, &plus, &data, &n) != 0) return abandoned(s);
    char fin[SASL_MAX + 1];
    memcpy(fin, data, n);
    fin[n] = '\0';
    scram_client_final cl;
    if (scram_parse_client_final(fin, n, &cl) != 0) {
        pgw_error(s, "FATAL", "08P01", "malformed SCRAM message", 0);
        return abandoned(s);
    }
    /* c= must be the gs2 header followed, with channel binding, by the hash of our
     * certificate (so that a man in the middle with another certificate fails), and the
     * nonce must be ours, whole. Compared in constant time. */
    unsigned char cb_raw[sizeof s->srv->cbind + 64];
    char cb_expect[sizeof cb_raw * 4 / 3 + 8];
    size_t cb_raw_len = cf.gs2_len; /* under 64: cbind_check allows no other header */
    memcpy(cb_raw, cf.gs2, cf.gs2_len);
    if (cf.cbind_flag == 'p') {
        memcpy(cb_raw + cb_raw_len, s->srv->cbind, s->srv->cbind_len);
        cb_raw_len += s->srv->cbind_len;
    }
    int cbl = scram_b64_encode(cb_raw, cb_raw_len, cb_expect, sizeof cb_expect);
    size_t snl = strlen(snonce);
    bool shape_ok = cbl > 0 && cl.channel_binding_len == (size_t)cbl &&
                    CRYPTO_memcmp(cl.channel_binding, cb_expect, (size_t)cbl) == 0 &&
                    cl.nonce_len == cf.nonce_len + snl && CRYPTO_memcmp(cl.nonce, cf.nonce, cf.nonce_len) == 0 &&
                    CRYPTO_memcmp(cl.nonce + cf.nonce_len, snonce, snl) == 0;
    if (!shape_ok) {
        log_debug("pgwire: SCRAM final message does not match (channel binding or nonce)");
        fail_auth(s, st->user);
        return -1;
    }
    const unsigned char *proof = cl.proof;
    /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
    char authmsg[SASL_MAX * 2 + 512];
    int am = snprintf(authmsg, sizeof authmsg, "%.*s,%s,%.*s", (int)cf.bare_len, cf.bare, server_first,
                      (int)cl.without_proof_len, fin);
    if (am <= 0 || (size_t)am >= sizeof authmsg) { /* cannot happen: both parts are under SASL_MAX */
        fail_auth(s, st->user);
        return -1;
    }
    unsigned char sig[32], client_key[32], stored[32];
    hmac(v.stored_key, 32, authmsg, (size_t)am, sig);
    for (int i = 0; i < 32; i++) client_key[i] = proof[i] ^ sig[i];
    unsigned int sl = 0;
    EVP_Digest(client_key, 32, stored, &sl, EVP_sha256(), NULL);
    bool match = CRYPTO_memcmp(stored, v.stored_key, 32) == 0;
    OPENSSL_cleanse(client_key, sizeof client_key);
    if (!match || !allowed) {
        fail_auth(s, st->user);
        return -1;
    }
    unsigned char server_sig[32];
    char final[80] = "v=";
    hmac(v.server_key, 32, authmsg, (size_t)am, server_sig);
    scram_b64_encode(server_sig, 32, final + 2, sizeof final - 2);
    send_auth(s, 12, final, strlen(final));
    send_auth(s, 0, NULL, 0);
    pgw_login_ok(s->srv, s->addr_key);
    return 0;
}
