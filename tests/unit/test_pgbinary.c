/* Unit tests for the binary result format (pgexec/types.c): bytes as PostgreSQL's
 * send functions produce them (int4send, numeric_send, date_send, ...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <duckdb.h>
#include <stdio.h>
#include <string.h>

#include "pgexec/types/types.h"

static duckdb_database db;
static duckdb_connection con;

static int setup(void **st) {
    (void)st;
    return duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError;
}

static int teardown(void **st) {
    (void)st;
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return 0;
}

/* Formats column 0 of `SELECT expr` in binary and compares with want[0..n). */
static void expect_binary(const char *expr, const uint8_t *want, size_t n) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s", expr);
    duckdb_result r;
    assert_int_equal(duckdb_query(con, sql, &r), DuckDBSuccess);
    duckdb_data_chunk ch = duckdb_fetch_chunk(r);
    assert_non_null(ch);
    duckdb_logical_type t = duckdb_column_logical_type(&r, 0);
    pgt_col c;
    assert_int_equal(pgt_col_init(&c, t), 0);
    assert_true(pgt_col_binary_ok(&c));
    pgt_buf out = {0}, scratch = {0};
    assert_int_equal(pgt_col_format_binary(&c, duckdb_data_chunk_get_vector(ch, 0), 0, &out, &scratch), 0);
    if (out.len != n || memcmp(out.data, want, n) != 0) {
        char got[200] = "";
        for (size_t i = 0; i < out.len && i < 60; i++) snprintf(got + strlen(got), sizeof got - strlen(got), "%02x", (uint8_t)out.data[i]);
        fail_msg("%s: got %s (%zu bytes), want %zu bytes", expr, got, out.len, n);
    }
    pgt_buf_free(&out);
    pgt_buf_free(&scratch);
    pgt_col_destroy(&c);
    duckdb_destroy_logical_type(&t);
    duckdb_destroy_data_chunk(&ch);
    duckdb_destroy_result(&r);
}

static void test_integers_floats_bool(void **st) {
    (void)st;
    expect_binary("42::INTEGER", (const uint8_t[]){0, 0, 0, 42}, 4);
    expect_binary("-2::BIGINT", (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, 8);
    expect_binary("7::SMALLINT", (const uint8_t[]){0, 7}, 2);
    expect_binary("1.5::DOUBLE", (const uint8_t[]){0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, 8);
    expect_binary("1.5::FLOAT", (const uint8_t[]){0x3f, 0xc0, 0, 0}, 4);
    expect_binary("true", (const uint8_t[]){1}, 1);
}

static void test_numeric_matches_numeric_send(void **st) {
    (void)st;
    /* 12345.678: ndigits 3, weight 1, sign +, dscale 3, digits 1 2345 6780 */
    expect_binary("12345.678::DECIMAL(10,3)", (const uint8_t[]){0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c}, 14);
    /* -0.05: ndigits 1, weight -1, sign -, dscale 2, digits 500 */
    expect_binary("-0.05::DECIMAL(4,2)", (const uint8_t[]){0, 1, 0xff, 0xff, 0x40, 0, 0, 2, 0x01, 0xf4}, 10);
    /* 0.00: ndigits 0, weight 0, sign +, dscale 2 */
    expect_binary("0::DECIMAL(4,2)", (const uint8_t[]){0, 0, 0, 0, 0, 0, 0, 2}, 8);
    /* 10000: ndigits 1, weight 1, digits 1 */
    expect_binary("10000::HUGEINT", (const uint8_t[]){0, 1, 0, 1, 0, 0, 0, 0, 0, 1}, 10);
}

static void test_dates_times_uuid_text(void **st) {
    (void)st;
    expect_binary("DATE '2000-01-02'", (const uint8_t[]){0, 0, 0, 1}, 4);
    expect_binary("DATE '1999-12-31'", (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, 4);
    expect_binary("TIMESTAMP '2000-01-01 00:00:01'", (const uint8_t[]){0, 0, 0, 0, 0, 0x0f, 0x42, 0x40}, 8);
    expect_binary("UUID '00112233-4455-6677-8899-aabbccddeeff'",
                  (const uint8_t[]){0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
                                    0xee, 0xff},
                  16);
    expect_binary("'héllo'", (const uint8_t *)"h\xc3\xa9llo", 6);
    expect_binary("INTERVAL '1 day 1 second'", (const uint8_t[]){0, 0, 0, 0, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 1, 0, 0, 0, 0}, 16);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_floats_bool),
        cmocka_unit_test(test_numeric_matches_numeric_send),
        cmocka_unit_test(test_dates_times_uuid_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
