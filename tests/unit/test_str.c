/* Unit tests for util/str: the name rules of rest-api.md, SQL quoting and
 * percent-decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

static void test_name_accepts_letters_digits_dash_underscore(void **st) {
    (void)st;
    assert_true(name_is_valid("123"));
    assert_true(name_is_valid("feature-x_2"));
    assert_true(name_is_valid("a"));
    char max[65];
    memset(max, 'a', 64);
    max[64] = '\0';
    assert_true(name_is_valid(max));
}

static void test_name_rejects_dots_slashes_empty_long_nonascii(void **st) {
    (void)st;
    assert_false(name_is_valid(""));
    assert_false(name_is_valid(NULL));
    assert_false(name_is_valid("."));
    assert_false(name_is_valid(".."));
    assert_false(name_is_valid("a/b"));
    assert_false(name_is_valid("../etc"));
    assert_false(name_is_valid("a.b"));
    assert_false(name_is_valid("a b"));
    assert_false(name_is_valid("caf\xc3\xa9"));
    assert_false(name_is_valid("a\\b"));
    char long65[66];
    memset(long65, 'a', 65);
    long65[65] = '\0';
    assert_false(name_is_valid(long65));
}

static void test_table_name_rejects_dash(void **st) {
    (void)st;
    assert_true(name_is_valid_table("orders_2024"));
    assert_false(name_is_valid_table("orders-2024"));
    assert_false(name_is_valid_table(".."));
    assert_true(name_is_valid_column("_x1"));
    assert_false(name_is_valid_column("1x"));
    assert_false(name_is_valid_column("a\"b"));
}

static void test_bucket_id_parse_and_schema(void **st) {
    (void)st;
    char stage[4], name[DS_NAME_MAX + 1], schema[80];
    assert_true(bucket_id_parse("in.c-sales", stage, name));
    assert_string_equal(stage, "in");
    assert_string_equal(name, "sales");
    assert_true(bucket_id_parse("out.c-my-reports", stage, name));
    assert_string_equal(stage, "out");
    assert_string_equal(name, "my-reports");
    assert_false(bucket_id_parse("sys.c-x", stage, name));
    assert_false(bucket_id_parse("in.c-", stage, name));
    assert_false(bucket_id_parse("in.c-..", stage, name));
    assert_false(bucket_id_parse("in.c-a/b", stage, name));
    bucket_schema_name("in.c-sales", schema, sizeof schema);
    assert_string_equal(schema, "in_c_sales");
    bucket_schema_name("out.c-my-reports", schema, sizeof schema);
    assert_string_equal(schema, "out_c_my_reports");
}

static void test_table_id_parse_splits_at_last_dot(void **st) {
    (void)st;
    char bucket[80], table[DS_NAME_MAX + 1];
    assert_true(table_id_parse("in.c-sales.orders", bucket, sizeof bucket, table));
    assert_string_equal(bucket, "in.c-sales");
    assert_string_equal(table, "orders");
    assert_false(table_id_parse("in.c-sales", bucket, sizeof bucket, table));
    assert_false(table_id_parse("in.c-sales.", bucket, sizeof bucket, table));
    assert_false(table_id_parse("in.c-sales.a-b", bucket, sizeof bucket, table));
    assert_false(table_id_parse("in.c-../x.orders", bucket, sizeof bucket, table));
    assert_false(table_id_parse("orders", bucket, sizeof bucket, table));
}

static void test_sb_quotes_identifiers_and_literals(void **st) {
    (void)st;
    sb b;
    sb_init(&b);
    sb_ident(&b, "a\"b");
    sb_append(&b, " ");
    sb_literal(&b, "it's");
    sb_printf(&b, " %d", 42);
    assert_false(sb_failed(&b));
    char *s = sb_take(&b);
    assert_string_equal(s, "\"a\"\"b\" 'it''s' 42");
    free(s);
    sb_free(&b);
}

static void test_pct_decode_decodes_each_escape_once(void **st) {
    (void)st;
    char out[64];
    assert_int_equal(str_pct_decode("in.c-crm%2Eorders", 17, out), 15);
    assert_string_equal(out, "in.c-crm.orders");
    assert_int_equal(str_pct_decode("%2541", 5, out), 3); /* once: "%41", not "A" */
    assert_string_equal(out, "%41");
    assert_int_equal(str_pct_decode("a+b%2b%2F%2f", 12, out), 6); /* '+' stays '+' */
    assert_string_equal(out, "a+b+//");
    assert_int_equal(str_pct_decode("%c3%A9", 6, out), 2);
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(str_pct_decode("", 0, out), 0);
    assert_string_equal(out, "");
    /* Only the first n bytes count: the "%41" after them is not read. */
    assert_int_equal(str_pct_decode("ab%41", 2, out), 2);
    assert_string_equal(out, "ab");
}

static void test_pct_decode_keeps_nul_visible_in_the_length(void **st) {
    (void)st;
    char out[16];
    assert_int_equal(str_pct_decode("a%00b", 5, out), 3);
    assert_int_equal(strlen(out), 1); /* a caller comparing the two sees the NUL */
    assert_memory_equal(out, "a\0b", 3);
}

static void test_pct_decode_rejects_malformed_escapes(void **st) {
    (void)st;
    char out[16];
    const char *bad[] = {"%", "a%", "%4", "a%4", "%zz", "%4g", "%g4", "%%41", "% 41", "%-1", "%+1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_int_equal(str_pct_decode(bad[i], strlen(bad[i]), out), -1);
    /* An escape cut by n is malformed even when the text goes on after n. */
    assert_int_equal(str_pct_decode("a%41", 3, out), -1);
}

static void test_pct_decode_works_in_place(void **st) {
    (void)st;
    char buf[] = "%61%62c%2F%64";
    assert_int_equal(str_pct_decode(buf, strlen(buf), buf), 5);
    assert_string_equal(buf, "abc/d");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_accepts_letters_digits_dash_underscore),
        cmocka_unit_test(test_name_rejects_dots_slashes_empty_long_nonascii),
        cmocka_unit_test(test_table_name_rejects_dash),
        cmocka_unit_test(test_bucket_id_parse_and_schema),
        cmocka_unit_test(test_table_id_parse_splits_at_last_dot),
        cmocka_unit_test(test_sb_quotes_identifiers_and_literals),
        cmocka_unit_test(test_pct_decode_decodes_each_escape_once),
        cmocka_unit_test(test_pct_decode_keeps_nul_visible_in_the_length),
        cmocka_unit_test(test_pct_decode_rejects_malformed_escapes),
        cmocka_unit_test(test_pct_decode_works_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
