/* Unit tests for pgexec/types/ (text output): every expected string is what PostgreSQL 15 prints for
 * the same value (psql -At, DateStyle ISO, IntervalStyle postgres, TimeZone UTC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/types/types.h"

typedef struct {
    duckdb_database db;
    duckdb_connection con;
} fixture;

typedef struct {
    const char *expr; /* DuckDB expression */
    const char *want; /* PostgreSQL text output */
    uint32_t oid;
} tcase;

static int setup(void **st) {
    fixture *f = calloc(1, sizeof *f);
    if (!f || duckdb_open(NULL, &f->db) != DuckDBSuccess || duckdb_connect(f->db, &f->con) != DuckDBSuccess)
        return -1;
    duckdb_result r;
    if (duckdb_query(f->con, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'so so')", &r) != DuckDBSuccess)
        return -1;
    duckdb_destroy_result(&r);
    *st = f;
    return 0;
}

static int teardown(void **st) {
    fixture *f = *st;
    duckdb_disconnect(&f->con);
    duckdb_close(&f->db);
    free(f);
    return 0;
}

/* Formats row 0 of the single column of `SELECT expr` with a plan and with the one-shot
 * function, and checks both against the expected text and the announced OID. */
static void check(fixture *f, const tcase *c) {
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s", c->expr);
    duckdb_result r;
    if (duckdb_query(f->con, sql, &r) != DuckDBSuccess) {
        print_error("query failed: %s: %s\n", sql, duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        fail();
    }
    duckdb_logical_type t = duckdb_column_logical_type(&r, 0);
    duckdb_data_chunk ch = duckdb_fetch_chunk(r);
    assert_non_null(ch);
    duckdb_vector v = duckdb_data_chunk_get_vector(ch, 0);
    assert_false(pgt_is_null(v, 0));

    pgt_col col;
    assert_int_equal(pgt_col_init(&col, t), 0);
    pgt_buf a = {0}, b = {0};
    assert_int_equal(pgt_col_format(&col, v, 0, &a), 0);
    assert_int_equal(pgt_format_text(v, t, 0, &b), 0);
    assert_int_equal(pgt_buf_append(&a, "", 1), 0);
    assert_int_equal(pgt_buf_append(&b, "", 1), 0);
    if (strcmp(a.data, c->want) != 0 || strcmp(b.data, c->want) != 0)
        print_error("SELECT %s: got \"%s\" / \"%s\", want \"%s\"\n", c->expr, a.data, b.data, c->want);
    assert_string_equal(a.data, c->want);
    assert_string_equal(b.data, c->want);
    if (pgt_oid(t) != c->oid)
        print_error("SELECT %s: oid %u, want %u\n", c->expr, pgt_oid(t), c->oid);
    assert_int_equal(pgt_oid(t), c->oid);

    pgt_buf_free(&a);
    pgt_buf_free(&b);
    pgt_col_destroy(&col);
    duckdb_destroy_logical_type(&t);
    duckdb_destroy_data_chunk(&ch);
    duckdb_destroy_result(&r);
}

#define CHECK_ALL(st, cases)                                  \
    do {                                                      \
        for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases)[0]; i_++) \
            check(*(st), &(cases)[i_]);                       \
    } while (0)

static void test_bool_and_integers_print_like_postgres(void **st) {
    static const tcase cases[] = {
        {"true", "t", 16},
        {"false", "f", 16},
        {"1::TINYINT", "1", 21},
        {"(-128)::TINYINT", "-128", 21},
        {"(-32768)::SMALLINT", "-32768", 21},
        {"255::UTINYINT", "255", 21},
        {"2147483647::INTEGER", "2147483647", 23},
        {"(-2147483648)::INTEGER", "-2147483648", 23},
        {"65535::USMALLINT", "65535", 23},
        {"(-9223372036854775808)::BIGINT", "-9223372036854775808", 20},
        {"4294967295::UINTEGER", "4294967295", 26},
        {"18446744073709551615::UBIGINT", "18446744073709551615", 1700},
        {"170141183460469231731687303715884105727::HUGEINT", "170141183460469231731687303715884105727", 1700},
        {"(-170141183460469231731687303715884105727)::HUGEINT - 1", "-170141183460469231731687303715884105728", 1700},
        {"(-10000000000000000000)::HUGEINT", "-10000000000000000000", 1700},
        {"0::HUGEINT", "0", 1700},
        {"340282366920938463463374607431768211455::UHUGEINT", "340282366920938463463374607431768211455", 1700},
    };
    CHECK_ALL(st, cases);
}

static void test_floats_are_shortest_round_trip(void **st) {
    static const tcase cases[] = {
        {"1.5::FLOAT", "1.5", 700},
        {"0.1::FLOAT", "0.1", 700},
        {"0.3::FLOAT", "0.3", 700},
        {"3.4e38::FLOAT", "3.4e+38", 700},
        {"1.17549435e-38::FLOAT", "1.1754944e-38", 700},
        {"1e-45::FLOAT", "1e-45", 700},
        {"100::FLOAT", "100", 700},
        {"100000::FLOAT", "100000", 700},
        {"999999::FLOAT", "999999", 700},
        {"1234567::FLOAT", "1.234567e+06", 700},
        {"16777216::FLOAT", "1.6777216e+07", 700},
        {"1e-7::FLOAT", "1e-07", 700},
        {"0.00001::FLOAT", "1e-05", 700},
        {"'-inf'::FLOAT", "-Infinity", 700},
        {"'-0'::FLOAT", "-0", 700},
        {"0.1::DOUBLE", "0.1", 701},
        {"'nan'::DOUBLE", "NaN", 701},
        {"'inf'::DOUBLE", "Infinity", 701},
        {"'-0'::DOUBLE", "-0", 701},
        {"0::DOUBLE", "0", 701},
        {"1e20::DOUBLE", "1e+20", 701},
        {"1e15::DOUBLE", "1e+15", 701},
        {"1e16::DOUBLE", "1e+16", 701},
        {"1e22::DOUBLE", "1e+22", 701},
        {"123456789::DOUBLE", "123456789", 701},
        {"123456789012345678::DOUBLE", "1.2345678901234568e+17", 701},
        {"1e-5::DOUBLE", "1e-05", 701},
        {"2.5e-5::DOUBLE", "2.5e-05", 701},
        {"0.0001::DOUBLE", "0.0001", 701},
        {"0.0001234::DOUBLE", "0.0001234", 701},
        {"1.0::DOUBLE / 3", "0.3333333333333333", 701},
        {"5e-324::DOUBLE", "5e-324", 701},
        {"-1.5e300::DOUBLE", "-1.5e+300", 701},
        /* PostgreSQL's Ryu never prints an exact midpoint between two floats. */
        {"3e10::FLOAT", "3.0000001e+10", 700},
        {"57221448::FLOAT", "5.7221448e+07", 700},
        {"6.701367231200538e+16::DOUBLE", "6.7013672312005376e+16", 701},
        {"506386.2796268815::DOUBLE", "506386.2796268815", 701},
    };
    CHECK_ALL(st, cases);
}

static void test_decimal_keeps_its_scale(void **st) {
    static const tcase cases[] = {
        {"12.50::DECIMAL(10,2)", "12.50", 1700},
        {"-0.05::DECIMAL(4,2)", "-0.05", 1700},
        {"0::DECIMAL(5,3)", "0.000", 1700},
        {"12.5::DECIMAL(9,1)", "12.5", 1700},
        {"-1234567.891::DECIMAL(18,3)", "-1234567.891", 1700},
        {"42::DECIMAL(18,0)", "42", 1700},
        {"123456789012345678.9::DECIMAL(38,1)", "123456789012345678.9", 1700},
        {"-0.00000000000000000000000000000000000001::DECIMAL(38,38)", "-0.00000000000000000000000000000000000001",
         1700},
        {"-99999999999999999999999999999999999999::DECIMAL(38,0)", "-99999999999999999999999999999999999999", 1700},
    };
    CHECK_ALL(st, cases);
}

static void test_text_json_and_bytea(void **st) {
    static const tcase cases[] = {
        {"'x\"y'::VARCHAR", "x\"y", 25},
        {"''::VARCHAR", "", 25},
        {"'a string longer than twelve bytes'", "a string longer than twelve bytes", 25},
        {"'{\"a\": 1}'::JSON", "{\"a\": 1}", 114},
        {"'\\x01\\xFF'::BLOB", "\\x01ff", 17},
        {"''::BLOB", "\\x", 17},
        {"'happy'::mood", "happy", 25},
        {"'so so'::mood", "so so", 25},
    };
    CHECK_ALL(st, cases);
}

static void test_dates_with_bc_and_infinity(void **st) {
    static const tcase cases[] = {
        {"DATE '2024-01-31'", "2024-01-31", 1082},
        {"DATE '1970-01-01'", "1970-01-01", 1082},
        {"DATE '1969-12-31'", "1969-12-31", 1082},
        {"DATE '2000-02-29'", "2000-02-29", 1082},
        {"DATE '0001-01-01'", "0001-01-01", 1082},
        {"DATE '0000-12-31'", "0001-12-31 BC", 1082},
        {"DATE '-0043-03-15'", "0044-03-15 BC", 1082},
        {"DATE '10000-01-01'", "10000-01-01", 1082},
        {"'infinity'::DATE", "infinity", 1082},
        {"'-infinity'::DATE", "-infinity", 1082},
    };
    CHECK_ALL(st, cases);
}

static void test_times_and_timestamps(void **st) {
    static const tcase cases[] = {
        {"TIME '13:45:00.5'", "13:45:00.5", 1083},
        {"TIME '00:00:00'", "00:00:00", 1083},
        {"TIME '23:59:59.999999'", "23:59:59.999999", 1083},
        {"TIME '24:00:00'", "24:00:00", 1083},
        {"TIMETZ '13:45:00.5+02'", "13:45:00.5+02", 1266},
        {"TIMETZ '13:45:00-05:30'", "13:45:00-05:30", 1266},
        {"TIMESTAMP '2024-01-31 13:45:00.123'", "2024-01-31 13:45:00.123", 1114},
        {"TIMESTAMP '2024-01-31 13:45:00'", "2024-01-31 13:45:00", 1114},
        {"TIMESTAMP '1969-12-31 23:59:59.999999'", "1969-12-31 23:59:59.999999", 1114},
        {"TIMESTAMP '-0043-03-15 12:00:00'", "0044-03-15 12:00:00 BC", 1114},
        {"'infinity'::TIMESTAMP", "infinity", 1114},
        {"'-infinity'::TIMESTAMP", "-infinity", 1114},
        {"TIMESTAMP_S '2024-01-31 13:45:07'", "2024-01-31 13:45:07", 1114},
        {"TIMESTAMP_S '1969-12-31 23:59:59'", "1969-12-31 23:59:59", 1114},
        {"TIMESTAMP_MS '2024-01-31 13:45:00.123'", "2024-01-31 13:45:00.123", 1114},
        {"TIMESTAMP_NS '2024-01-31 13:45:00.123456789'", "2024-01-31 13:45:00.123457", 1114},
        {"TIMESTAMP_NS '1969-12-31 23:59:59.9999999'", "1970-01-01 00:00:00", 1114},
        {"'infinity'::TIMESTAMP_NS", "infinity", 1114},
        {"TIMESTAMPTZ '2024-01-31 13:45:00.123+00'", "2024-01-31 13:45:00.123+00", 1184},
        {"TIMESTAMPTZ '2024-01-31 15:45:00.5+02'", "2024-01-31 13:45:00.5+00", 1184},
        {"TIMESTAMPTZ '-0043-03-15 12:00:00+00'", "0044-03-15 12:00:00+00 BC", 1184},
        {"'infinity'::TIMESTAMPTZ", "infinity", 1184},
    };
    CHECK_ALL(st, cases);
}

static void test_intervals_in_postgres_style(void **st) {
    static const tcase cases[] = {
        {"INTERVAL '1 year 2 months 3 days 4 hours 5 minutes 6.5 seconds'", "1 year 2 mons 3 days 04:05:06.5", 1186},
        {"INTERVAL '-1 second'", "-00:00:01", 1186},
        {"INTERVAL '0 seconds'", "00:00:00", 1186},
        {"INTERVAL '1 day'", "1 day", 1186},
        {"INTERVAL '-1 year'", "-1 years", 1186},
        {"INTERVAL '-1 day' + INTERVAL '2 hours'", "-1 days +02:00:00", 1186},
        {"INTERVAL '1 month' - INTERVAL '1 day'", "1 mon -1 days", 1186},
        {"-(INTERVAL '2 months 3 days 04:05:06.000001')", "-2 mons -3 days -04:05:06.000001", 1186},
        {"INTERVAL '100 hours'", "100:00:00", 1186},
        {"INTERVAL '0.000001 seconds'", "00:00:00.000001", 1186},
        {"INTERVAL '-1 month' + INTERVAL '1 day' - INTERVAL '1 second'", "-1 mons +1 day -00:00:01", 1186},
        {"INTERVAL '13 months'", "1 year 1 mon", 1186},
        {"INTERVAL '-13 months'", "-1 years -1 mons", 1186},
        {"INTERVAL '2 years'", "2 years", 1186},
        {"INTERVAL '1 day 0.1 seconds'", "1 day 00:00:00.1", 1186},
    };
    CHECK_ALL(st, cases);
}

static void test_uuid_is_unflipped(void **st) {
    static const tcase cases[] = {
        {"UUID '550e8400-e29b-41d4-a716-446655440000'", "550e8400-e29b-41d4-a716-446655440000", 2950},
        {"UUID '00000000-0000-0000-0000-000000000000'", "00000000-0000-0000-0000-000000000000", 2950},
        {"UUID 'ffffffff-ffff-ffff-ffff-ffffffffffff'", "ffffffff-ffff-ffff-ffff-ffffffffffff", 2950},
    };
    CHECK_ALL(st, cases);
}

static void test_arrays_quote_like_array_out(void **st) {
    static const tcase cases[] = {
        {"[1, 2, NULL]", "{1,2,NULL}", 1007},
        {"['a b', NULL, '', 'x,y', 'null', 'NULL', 'q\"r', 'b\\c', '{x}', 'é']",
         "{\"a b\",NULL,\"\",\"x,y\",\"null\",\"NULL\",\"q\\\"r\",\"b\\\\c\",\"{x}\",é}", 1009},
        {"[' x', 'a' || chr(9) || 'b']", "{\" x\",\"a\tb\"}", 1009},
        {"[]::INTEGER[]", "{}", 1007},
        {"[true, false]", "{t,f}", 1000},
        {"[1::SMALLINT]", "{1}", 1005},
        {"[1::BIGINT]", "{1}", 1016},
        {"[1.5::FLOAT]", "{1.5}", 1021},
        {"[1.5::DOUBLE, 'nan', 'inf']", "{1.5,NaN,Infinity}", 1022},
        {"[1.50::DECIMAL(5,2)]", "{1.50}", 1231},
        {"['\\x01\\xFF'::BLOB]", "{\"\\\\x01ff\"}", 1001},
        {"[TIMESTAMP '2024-01-01 01:02:03']", "{\"2024-01-01 01:02:03\"}", 1115},
        {"[TIMESTAMPTZ '2024-01-01 01:02:03+00']", "{\"2024-01-01 01:02:03+00\"}", 1185},
        {"[DATE '2024-01-01']", "{2024-01-01}", 1182},
        {"[TIME '01:02:03']", "{01:02:03}", 1183},
        {"[INTERVAL '1 day']", "{\"1 day\"}", 1187},
        {"[UUID '550e8400-e29b-41d4-a716-446655440000']", "{550e8400-e29b-41d4-a716-446655440000}", 2951},
        {"['{\"a\":1}'::JSON]", "{\"{\\\"a\\\":1}\"}", 199},
        {"['happy'::mood, 'so so'::mood]", "{happy,\"so so\"}", 1009},
        {"[[1, 2], [3]]", "{\"{1,2}\",\"{3}\"}", 1009},
        {"[{'a': 1, 'b': 'a'}]", "{\"(1,a)\"}", 1009},
        {"array_value(1, 2, 3)", "{1,2,3}", 1007},
        {"[1, NULL]::INTEGER[2]", "{1,NULL}", 1007},
    };
    CHECK_ALL(st, cases);
}

static void test_structs_quote_like_record_out(void **st) {
    static const tcase cases[] = {
        {"{'a': 1, 'b': 'x y'}", "(1,\"x y\")", 25},
        {"{'a': 1, 'b': NULL, 'c': ''}", "(1,,\"\")", 25},
        {"{'a': 'a\"b', 'b': 'c\\d', 'c': '(x)', 'd': [1, 2]}", "(\"a\"\"b\",\"c\\\\d\",\"(x)\",\"{1,2}\")", 25},
        {"{'x': {'a': 1, 'b': 2}}", "(\"(1,2)\")", 25},
    };
    CHECK_ALL(st, cases);
}

/* No PostgreSQL counterpart: DuckDB's own text for MAP, the member for UNION. */
static void test_map_union_bit_bignum_are_readable(void **st) {
    static const tcase cases[] = {
        {"MAP {'a': 1, 'b b': 2}", "{a=1, b b=2}", 25},
        {"MAP {'k': NULL}::MAP(VARCHAR, INTEGER)", "{k=NULL}", 25},
        {"union_value(num := 2)::UNION(num INTEGER, str VARCHAR)", "2", 25},
        {"union_value(str := 'x y')::UNION(num INTEGER, str VARCHAR)", "x y", 25},
        {"'0101'::BIT", "0101", 25},
        {"'10101010101'::BIT", "10101010101", 25},
        {"0::BIGNUM", "0", 1700},
        {"(-1)::BIGNUM", "-1", 1700},
        {"256::BIGNUM", "256", 1700},
        {"(-256)::BIGNUM", "-256", 1700},
        {"'12345678901234567890123456789012345678901234567890'::BIGNUM",
         "12345678901234567890123456789012345678901234567890", 1700},
        {"'-12345678901234567890123456789012345678901234567890000000001'::BIGNUM",
         "-12345678901234567890123456789012345678901234567890000000001", 1700},
    };
    CHECK_ALL(st, cases);
}

/* Rows past the first chunk, NULL cells and lists whose offsets point far into the
 * child vector. */
static void test_nulls_and_offsets_across_chunks(void **st) {
    fixture *f = *st;
    duckdb_result r;
    assert_int_equal(duckdb_query(f->con,
                                  "SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS n, "
                                  "CASE WHEN i % 5 = 0 THEN NULL ELSE [i, NULL, i + 1] END AS l "
                                  "FROM range(5000) t(i) ORDER BY i",
                                  &r),
                     DuckDBSuccess);
    duckdb_logical_type tn = duckdb_column_logical_type(&r, 0), tl = duckdb_column_logical_type(&r, 1);
    assert_int_equal(pgt_oid(tn), 20);
    assert_int_equal(pgt_oid(tl), 1016);
    pgt_col cn, cl;
    assert_int_equal(pgt_col_init(&cn, tn), 0);
    assert_int_equal(pgt_col_init(&cl, tl), 0);
    pgt_buf b = {0};
    int64_t i = 0;
    duckdb_data_chunk ch;
    while ((ch = duckdb_fetch_chunk(r))) {
        duckdb_vector vn = duckdb_data_chunk_get_vector(ch, 0), vl = duckdb_data_chunk_get_vector(ch, 1);
        idx_t n = duckdb_data_chunk_get_size(ch);
        for (idx_t row = 0; row < n; row++, i++) {
            char want[64];
            assert_int_equal(pgt_is_null(vn, row), i % 3 == 0);
            if (i % 3) {
                b.len = 0;
                assert_int_equal(pgt_col_format(&cn, vn, row, &b), 0);
                snprintf(want, sizeof want, "%lld", (long long)i);
                assert_int_equal(b.len, strlen(want));
                assert_memory_equal(b.data, want, b.len);
            }
            assert_int_equal(pgt_is_null(vl, row), i % 5 == 0);
            if (i % 5) {
                b.len = 0;
                assert_int_equal(pgt_col_format(&cl, vl, row, &b), 0);
                snprintf(want, sizeof want, "{%lld,NULL,%lld}", (long long)i, (long long)i + 1);
                assert_int_equal(b.len, strlen(want));
                assert_memory_equal(b.data, want, b.len);
            }
        }
        duckdb_destroy_data_chunk(&ch);
    }
    assert_int_equal(i, 5000);
    pgt_buf_free(&b);
    pgt_col_destroy(&cn);
    pgt_col_destroy(&cl);
    duckdb_destroy_logical_type(&tn);
    duckdb_destroy_logical_type(&tl);
    duckdb_destroy_result(&r);
}

static void test_typlen_of_fixed_and_varlena_types(void **st) {
    (void)st;
    assert_int_equal(pgt_typlen(16), 1);
    assert_int_equal(pgt_typlen(21), 2);
    assert_int_equal(pgt_typlen(23), 4);
    assert_int_equal(pgt_typlen(20), 8);
    assert_int_equal(pgt_typlen(700), 4);
    assert_int_equal(pgt_typlen(701), 8);
    assert_int_equal(pgt_typlen(1082), 4);
    assert_int_equal(pgt_typlen(1083), 8);
    assert_int_equal(pgt_typlen(1114), 8);
    assert_int_equal(pgt_typlen(1184), 8);
    assert_int_equal(pgt_typlen(1266), 12);
    assert_int_equal(pgt_typlen(1186), 16);
    assert_int_equal(pgt_typlen(2950), 16);
    assert_int_equal(pgt_typlen(25), -1);
    assert_int_equal(pgt_typlen(1700), -1);
    assert_int_equal(pgt_typlen(1007), -1);
}

static void test_buf_grows_and_free_null_is_noop(void **st) {
    (void)st;
    pgt_buf b;
    pgt_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pgt_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 10000);
    assert_true(b.cap >= b.len);
    assert_memory_equal(b.data + 9990, "0123456789", 10);
    pgt_buf_free(&b);
    assert_null(b.data);
    pgt_buf_free(NULL);
    pgt_col_destroy(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bool_and_integers_print_like_postgres),
        cmocka_unit_test(test_floats_are_shortest_round_trip),
        cmocka_unit_test(test_decimal_keeps_its_scale),
        cmocka_unit_test(test_text_json_and_bytea),
        cmocka_unit_test(test_dates_with_bc_and_infinity),
        cmocka_unit_test(test_times_and_timestamps),
        cmocka_unit_test(test_intervals_in_postgres_style),
        cmocka_unit_test(test_uuid_is_unflipped),
        cmocka_unit_test(test_arrays_quote_like_array_out),
        cmocka_unit_test(test_structs_quote_like_record_out),
        cmocka_unit_test(test_map_union_bit_bignum_are_readable),
        cmocka_unit_test(test_nulls_and_offsets_across_chunks),
        cmocka_unit_test(test_typlen_of_fixed_and_varlena_types),
        cmocka_unit_test(test_buf_grows_and_free_null_is_noop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
