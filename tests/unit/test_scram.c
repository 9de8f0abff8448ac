/* Unit tests for util/scram: verifiers must match PostgreSQL's byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "util/scram.h"

/* Made by PostgreSQL 15: SET password_encryption = 'scram-sha-256';
 * CREATE ROLE probe PASSWORD 'correct horse battery staple'; SELECT rolpassword ... */
static const char *pg_verifier =
    "SCRAM-SHA-256$4096:BLxkb+ySj39Ha4QC71LSaQ==$YwDcXd47/2bkF6yfRVyYdTo79CR+XuzqgdNB8dd/6F4=:"
    "VAOc/rjlFSw7BayavhmmDpghjms2n8BVIZRk++GNYxY=";

static void test_verifier_matches_postgresql_for_same_password_and_salt(void **st) {
    (void)st;
    scram_verifier v;
    assert_int_equal(scram_parse_verifier(pg_verifier, &v), 0);
    assert_int_equal(v.iterations, 4096);
    assert_int_equal(v.salt_len, 16);
    char out[SCRAM_VERIFIER_MAX];
    assert_int_equal(scram_make_verifier_with_salt("correct horse battery staple", v.salt, v.salt_len, 4096, out), 0);
    assert_string_equal(out, pg_verifier);
    assert_int_equal(scram_make_verifier_with_salt("correct horse battery stapl", v.salt, v.salt_len, 4096, out), 0);
    assert_string_not_equal(out, pg_verifier);
}

static void test_fresh_verifiers_are_salted(void **st) {
    (void)st;
    char a[SCRAM_VERIFIER_MAX], b[SCRAM_VERIFIER_MAX];
    /* '-' is not in the base64 alphabet: the password cannot show up in a verifier by chance. */
    assert_int_equal(scram_make_verifier("pass-word", a), 0);
    assert_int_equal(scram_make_verifier("pass-word", b), 0);
    assert_string_not_equal(a, b); /* different salts */
    assert_null(strstr(a, "pass-word"));
    scram_verifier v;
    assert_int_equal(scram_parse_verifier(a, &v), 0);
    assert_int_equal(v.iterations, SCRAM_ITERATIONS);
    assert_int_equal(v.salt_len, SCRAM_SALT_LEN);
}

static void test_malformed_verifiers_are_refused(void **st) {
    (void)st;
    scram_verifier v;
    const char *bad[] = {"", "md5abc", "SCRAM-SHA-256$", "SCRAM-SHA-256$0:AAAA$AAAA:AAAA", "SCRAM-SHA-256$4096:AAAA",
                         "SCRAM-SHA-256$4096:AAAA$AAAA:AAAA", "SCRAM-SHA-256$4096:!!!!$x:y",
                         "SCRAM-SHA-256$-1:BLxkb+ySj39Ha4QC71LSaQ==$YwDcXd47/2bkF6yfRVyYdTo79CR+XuzqgdNB8dd/6F4=:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (scram_parse_verifier(bad[i], &v) == 0) fail_msg("accepted \"%s\"", bad[i]);
}

static void test_random_password_is_long_and_url_safe(void **st) {
    (void)st;
    char a[44], b[44];
    assert_int_equal(scram_random_password(a), 0);
    assert_int_equal(scram_random_password(b), 0);
    assert_int_equal(strlen(a), 43);
    assert_string_not_equal(a, b);
    for (size_t i = 0; i < 43; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
}

/* RFC 7677's example exchange. */
static const char rfc_first[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
static const char rfc_final[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

static void test_client_first_parsed(void **st) {
    (void)st;
    scram_client_first f;
    assert_int_equal(scram_parse_client_first(rfc_first, strlen(rfc_first), &f), 0);
    assert_int_equal(f.cbind_flag, 'n');
    assert_int_equal(f.gs2_len, 3);
    assert_memory_equal(f.gs2, "n,,", 3);
    assert_null(f.cbind_name);
    assert_int_equal(f.bare_len, strlen("n=user,r=rOprNGfwEbeRWgbNEkqO"));
    assert_memory_equal(f.bare, "n=user,r=rOprNGfwEbeRWgbNEkqO", f.bare_len);
    assert_int_equal(f.nonce_len, 20);
    assert_memory_equal(f.nonce, "rOprNGfwEbeRWgbNEkqO", 20);
    /* libpq sends an empty user name; an extension after the nonce is ignored */
    const char *ok[] = {"n,,n=,r=abc", "y,,n=x,r=abc", "n,,n=a=2Cb,r=abc,x=ext"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (scram_parse_client_first(ok[i], strlen(ok[i]), &f) != 0) fail_msg("refused %s", ok[i]);
}

static void test_client_first_with_channel_binding_parsed(void **st) {
    (void)st;
    static const char m[] = "p=tls-server-end-point,,n=,r=abc";
    scram_client_first f;
    assert_int_equal(scram_parse_client_first(m, strlen(m), &f), 0);
    assert_int_equal(f.cbind_flag, 'p');
    assert_int_equal(f.cbind_name_len, strlen("tls-server-end-point"));
    assert_memory_equal(f.cbind_name, "tls-server-end-point", f.cbind_name_len);
    assert_int_equal(f.gs2_len, strlen("p=tls-server-end-point,,"));
    assert_ptr_equal(f.gs2, m);
    assert_int_equal(f.bare_len, strlen("n=,r=abc"));
    assert_memory_equal(f.bare, "n=,r=abc", f.bare_len);
    assert_int_equal(f.nonce_len, 3);
    /* another type is the caller's to refuse; the parser only checks its shape */
    assert_int_equal(scram_parse_client_first("p=tls-unique,,n=,r=abc", 22, &f), 0);
    assert_int_equal(f.cbind_name_len, strlen("tls-unique"));
    assert_int_equal(scram_parse_client_first("y,,n=,r=abc", 11, &f), 0);
    assert_int_equal(f.cbind_flag, 'y');
}

static void test_client_first_malformed(void **st) {
    (void)st;
    const char *bad[] = {"", "n", "n,", "n,,", "p", "p=", "p=,,n=,r=abc", "p,,n=,r=abc", "p=tls server,,n=,r=abc",
                         "p=tls-server-end-point", "p=tls-server-end-point,", "p=tls-server-end-point,,",
                         "p=tls-server-end-point,n=,r=abc", "p=tls-server-end-point,a=x,n=,r=abc",
                         "p=tls_server,,n=,r=abc", "y,a=x,n=,r=abc", "n,a=admin,n=,r=abc", "x,,n=,r=abc",
                         "n,,r=abc", "n,,n=u", "n,,n=u,", "n,,n=u,r=", "n,,n=u,r=a b", "n,,n=u,r=abc,",
                         "n,,n=u,r=abc,m=must", "n,,n=u,x=1,r=abc", "n,,n=ur=abc", "n,,=u,r=abc", "n,,n=u,r=abc,,"};
    scram_client_first f;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (scram_parse_client_first(bad[i], strlen(bad[i]), &f) == 0) fail_msg("accepted \"%s\"", bad[i]);
    /* a NUL inside, and a length shorter than the text: only len bytes count */
    assert_int_equal(scram_parse_client_first("n,,n=u\0,r=abc", 13, &f), -1);
    assert_int_equal(scram_parse_client_first(rfc_first, 10, &f), -1);
}

static void test_client_final_parsed(void **st) {
    (void)st;
    scram_client_final f;
    assert_int_equal(scram_parse_client_final(rfc_final, strlen(rfc_final), &f), 0);
    assert_int_equal(f.channel_binding_len, 4);
    assert_memory_equal(f.channel_binding, "biws", 4);
    assert_int_equal(f.nonce_len, strlen("rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"));
    assert_int_equal(f.without_proof_len, strlen("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"));
    unsigned char want[32];
    assert_int_equal(scram_b64_decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", 44, want, 33), 32);
    assert_memory_equal(f.proof, want, 32);
    const char ext[] = "c=biws,r=abc,x=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    assert_int_equal(scram_parse_client_final(ext, strlen(ext), &f), 0);
    assert_int_equal(f.without_proof_len, strlen("c=biws,r=abc,x=1"));
}

static void test_client_final_malformed(void **st) {
    (void)st;
    const char *p = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    char buf[200];
    const char *pre[] = {"", "c=biws,", "r=abc,c=biws,", "c=,r=abc,", "c=biws,r=,", "c=biws,r=abc,m=x,",
                         "c=biws,r=abc,,", "c=biws,r=a,b,"};
    scram_client_final f;
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", pre[i], p);
        if (scram_parse_client_final(buf, strlen(buf), &f) == 0) fail_msg("accepted \"%s\"", buf);
    }
    const char *bad[] = {"c=biws,r=abc", "c=biws,r=abc,p=", "c=biws,r=abc,p=AAAA",
                         "c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1",
                         "c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,",
                         "c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndV!=",
                         "c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ==AAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (scram_parse_client_final(bad[i], strlen(bad[i]), &f) == 0) fail_msg("accepted \"%s\"", bad[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verifier_matches_postgresql_for_same_password_and_salt),
        cmocka_unit_test(test_fresh_verifiers_are_salted),
        cmocka_unit_test(test_malformed_verifiers_are_refused),
        cmocka_unit_test(test_random_password_is_long_and_url_safe),
        cmocka_unit_test(test_client_first_parsed),
        cmocka_unit_test(test_client_first_with_channel_binding_parsed),
        cmocka_unit_test(test_client_first_malformed),
        cmocka_unit_test(test_client_final_parsed),
        cmocka_unit_test(test_client_final_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
