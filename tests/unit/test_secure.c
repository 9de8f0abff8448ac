/* Unit tests for util/secure: token shape, hashing, constant-time equality. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/secure.h"

static void test_api_keys_are_random_and_well_formed(void **st) {
    (void)st;
    char a[SEC_API_KEY_LEN + 1], b[SEC_API_KEY_LEN + 1];
    assert_int_equal(sec_new_api_key(a), 0);
    assert_int_equal(sec_new_api_key(b), 0);
    assert_int_equal(strlen(a), SEC_API_KEY_LEN);
    assert_memory_equal(a, "dsk_", 4);
    assert_string_not_equal(a, b);
    for (size_t i = 4; i < SEC_API_KEY_LEN; i++) assert_non_null(strchr("0123456789abcdef", a[i]));
}

static void test_sha256_known_vector(void **st) {
    (void)st;
    char h[65];
    sec_sha256_hex("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_equal(void **st) {
    (void)st;
    assert_true(sec_equal("secret", "secret"));
    assert_false(sec_equal("secret", "secreT"));
    assert_false(sec_equal("secret", "secret2"));
    assert_false(sec_equal("", "x"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_keys_are_random_and_well_formed),
        cmocka_unit_test(test_sha256_known_vector),
        cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
