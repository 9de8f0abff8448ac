/* Unit tests for util/scram: verifiers must match PostgreSQL's byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verifier_matches_postgresql_for_same_password_and_salt),
        cmocka_unit_test(test_fresh_verifiers_are_salted),
        cmocka_unit_test(test_malformed_verifiers_are_refused),
        cmocka_unit_test(test_random_password_is_long_and_url_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
