/* Unit tests for util/sqlscan: splitting, keywords and function calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sqlscan.h"

typedef struct {
    const char *sql;
    char parts[8][128];
    int n;
} parts;

static void collect(void *ud, size_t start, size_t n) {
    parts *p = ud;
    if (p->n < 8) snprintf(p->parts[p->n++], 128, "%.*s", (int)n, p->sql + start);
}

static int split(const char *sql, parts *p) {
    memset(p, 0, sizeof *p);
    p->sql = sql;
    return sqlscan_split(sql, strlen(sql), collect, p);
}

static void test_split_respects_quotes_comments_and_dollar_quotes(void **st) {
    (void)st;
    parts p;
    assert_int_equal(split("SELECT 1; SELECT 2", &p), 2);
    assert_string_equal(p.parts[1], " SELECT 2");
    assert_int_equal(split("SELECT 'a;b'; SELECT \"x;y\" FROM t", &p), 2);
    assert_string_equal(p.parts[0], "SELECT 'a;b'");
    assert_int_equal(split("SELECT 1 -- ; not here\n; SELECT /* ; /* nested ; */ ; */ 2", &p), 2);
    assert_int_equal(split("SELECT $$a;b$$, $tag$ ; $tag$; SELECT 3", &p), 2);
    assert_int_equal(split("SELECT E'it\\'s;' ; SELECT 'it''s;'", &p), 2);
    assert_int_equal(split(" ; ;  -- only a comment\n ;", &p), 0);
    assert_int_equal(split("SELECT 'unterminated; SELECT 2", &p), 1);
}

static void test_keywords_skip_comments_and_lowercase(void **st) {
    (void)st;
    char w[4][32];
    const char *s = "/* hi */ Begin -- x\n ISOLATION level SERIALIZABLE";
    assert_int_equal(sqlscan_keywords(s, strlen(s), w, 4), 4);
    assert_string_equal(w[0], "begin");
    assert_string_equal(w[1], "isolation");
    assert_string_equal(w[3], "serializable");
    s = "SET search_path = 'a'";
    assert_int_equal(sqlscan_keywords(s, strlen(s), w, 4), 2);
    assert_string_equal(w[1], "search_path");
    assert_true(sqlscan_is_empty(" -- c\n /* d */ ", 15));
    assert_false(sqlscan_is_empty(" x ", 3));
}

static void test_calls_finds_function_calls_outside_strings(void **st) {
    (void)st;
    static const char *const names[] = {"read_csv", "glob", "getenv", NULL};
    const char *s = "SELECT * FROM Read_CSV ('/etc/passwd')";
    assert_string_equal(sqlscan_calls(s, strlen(s), names), "read_csv");
    s = "SELECT 'read_csv(x)', \"glob\" FROM t -- getenv('HOME')";
    assert_null(sqlscan_calls(s, strlen(s), names));
    s = "SELECT main.getenv('X')";
    assert_string_equal(sqlscan_calls(s, strlen(s), names), "getenv");
    s = "SELECT \"glob\"('/*')";
    assert_string_equal(sqlscan_calls(s, strlen(s), names), "glob");
    s = "SELECT read_csv_auto2(1), glob_x(2)";
    assert_null(sqlscan_calls(s, strlen(s), names));
}

static void test_balanced_refuses_escapes(void **st) {
    (void)st;
    const char *ok[] = {"amount > 10", "id IN (SELECT 1)", "name = ')'", "x = 1 -- comment ) here", "f(g(1), 2) = 3",
                        "s = 'it''s'"};
    const char *bad[] = {"1=1) UNION ALL SELECT * FROM t WHERE (1=1", "(1=1", "1=1; DROP TABLE x", "x = 'open",
                         "x /* open", "a) OR (b"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!sqlscan_balanced(ok[i], strlen(ok[i]))) fail_msg("refused %s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sqlscan_balanced(bad[i], strlen(bad[i]))) fail_msg("accepted %s", bad[i]);
}

static void test_public_schema_becomes_main(void **st) {
    (void)st;
    const char *s = "CREATE TABLE public.t AS SELECT 'public.x', \"public\".\"y\" FROM Public . z, republic.q, public";
    char *o = sqlscan_rewrite_pg_names(s, strlen(s));
    assert_string_equal(o, "CREATE TABLE main.t AS SELECT 'public.x', main.\"y\" FROM main.z, republic.q, public");
    free(o);
}

static void test_pg_catalog_qualifier_dropped_before_calls_only(void **st) {
    (void)st;
    const char *s = "select pg_catalog.version(), PG_CATALOG . current_setting ('x'), \"pg_catalog\".\"lower\"('A'), "
                    "'pg_catalog.version()', t.oid FROM pg_catalog.pg_type t, my_pg_catalog.f(), pg_catalog.x.y(1) "
                    "-- pg_catalog.version()\n";
    char *o = sqlscan_rewrite_pg_names(s, strlen(s));
    assert_string_equal(o, "select version(), current_setting ('x'), \"lower\"('A'), "
                           "'pg_catalog.version()', t.oid FROM pg_catalog.pg_type t, my_pg_catalog.f(), pg_catalog.x.y(1) "
                           "-- pg_catalog.version()\n");
    free(o);
    /* a truncated text never reads past its end */
    const char *cut[] = {"pg_catalog", "pg_catalog.", "pg_catalog . ver", "\"pg_catalog\"", "\"pg_catalog", "public ."};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        o = sqlscan_rewrite_pg_names(cut[i], strlen(cut[i]));
        assert_non_null(o);
        assert_true(strlen(o) <= strlen(cut[i]));
        free(o);
    }
}

static void test_read_quoted_undoubles_and_stays_in_bounds(void **st) {
    (void)st;
    char out[8];
    size_t o = 0;
    const char *s = "'it''s' rest";
    const char *after = sqlscan_read_quoted(s, s + strlen(s), out, sizeof out, &o);
    assert_string_equal(out, "it's");
    assert_string_equal(after, " rest");
    /* too long for out: cut, still terminated; the whole quoted part is skipped */
    o = 0;
    s = "\"abcdefghij\"x";
    after = sqlscan_read_quoted(s, s + strlen(s), out, sizeof out, &o);
    assert_string_equal(out, "abcdefg");
    assert_string_equal(after, "x");
    /* unterminated: runs to end, never past it */
    o = 0;
    s = "'ab";
    after = sqlscan_read_quoted(s, s + 3, out, sizeof out, &o);
    assert_string_equal(out, "ab");
    assert_ptr_equal(after, s + 3);
    /* appends after what is already in out */
    memcpy(out, "x, ", 4);
    o = 3;
    s = "'y'";
    sqlscan_read_quoted(s, s + 3, out, sizeof out, &o);
    assert_string_equal(out, "x, y");
}

static void test_mentions_finds_names_in_any_position_and_spelling(void **st) {
    (void)st;
    static const char *const names[] = {"duckdb_databases", "pg_settings", NULL};
    const char *hit[] = {"SELECT * FROM duckdb_databases", "SELECT * FROM system.main.duckdb_databases",
                         "SELECT * FROM \"DuckDB_Databases\"", "SELECT (SELECT max(path) FROM duckdb_databases())",
                         "SELECT name FROM pg_catalog . pg_settings", "CREATE VIEW v AS FROM pg_settings"};
    for (size_t i = 0; i < sizeof hit / sizeof hit[0]; i++) assert_non_null(sqlscan_mentions(hit[i], strlen(hit[i]), names));
    const char *miss[] = {"SELECT 'duckdb_databases'", "SELECT 1 -- pg_settings", "SELECT /* pg_settings */ 1",
                          "SELECT $$pg_settings$$", "SELECT my_duckdb_databases, pg_settings2 FROM t",
                          "SELECT E'pg_settings\\' pg_settings'", "SELECT 1e5duckdb_databases"};
    for (size_t i = 0; i < sizeof miss / sizeof miss[0]; i++) {
        const char *got = sqlscan_mentions(miss[i], strlen(miss[i]), names);
        if (got) fail_msg("%s: found %s", miss[i], got);
    }
}

static void test_plain_calls_only_refuses_qualified_and_bare_mentions(void **st) {
    (void)st;
    const char *ok[] = {"SELECT current_setting('x')", "SELECT CURRENT_SETTING ('x'), 1", "SELECT 'system.main.current_setting'",
                        "SELECT 1", "CREATE OR REPLACE TEMP MACRO current_setting(n) AS n"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(sqlscan_plain_calls_only(ok[i], strlen(ok[i]), "current_setting"));
    const char *bad[] = {"SELECT system.main.current_setting('x')", "SELECT main . current_setting('x')",
                         "SELECT \"main\".\"current_setting\"('x')", "DROP MACRO current_setting",
                         "SELECT x./* c */current_setting('y')", "SELECT current_setting"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sqlscan_plain_calls_only(bad[i], strlen(bad[i]), "current_setting"));
}

static void test_block_comments_counts_nested_and_stops_past_limit(void **st) {
    (void)st;
    const char *s = "SELECT /* a /* b */ */ 1 /**/ -- /* not */\n '/* no */' \"/* no */\" $$/* no */$$";
    assert_int_equal(sqlscan_block_comments(s, strlen(s), 100), 3);
    char big[4096];
    size_t n = 0;
    for (int i = 0; i < 1000; i++) n += (size_t)snprintf(big + n, sizeof big - n, "/*");
    assert_int_equal(sqlscan_block_comments(big, n, 10), 11);
    assert_int_equal(sqlscan_block_comments(big, n, 5000), 1000);
    assert_int_equal(sqlscan_block_comments("/", 1, 10), 0);
}

static void test_explain_finds_the_statement_it_runs(void **st) {
    (void)st;
    static const struct {
        const char *sql, *inner;
        bool analyze;
    } cases[] = {
        {"EXPLAIN SELECT 1", "SELECT 1", false},
        {"explain analyze COPY t TO 'x'", "COPY t TO 'x'", true},
        {"EXPLAIN ANALYSE VERBOSE SELECT 1", "SELECT 1", true},
        {" /* c */ EXPLAIN /* d */ ANALYZE -- e\n COPY x", "COPY x", true},
        {"EXPLAIN (ANALYZE) CHECKPOINT", "CHECKPOINT", true},
        {"explain(analyze)select 1", "select 1", true},
        {"EXPLAIN (FORMAT 'json(', ANALYZE false) INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)", true},
        {"EXPLAIN (FORMAT JSON) SELECT 1", "SELECT 1", false},
        {"EXPLAIN ANALYZE (SELECT 1)", "(SELECT 1)", true},
        {"EXPLAIN (ANALYZE", "", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t inner = 99;
        bool analyze = !cases[i].analyze;
        assert_true(sqlscan_explain(cases[i].sql, strlen(cases[i].sql), &inner, &analyze));
        assert_string_equal(cases[i].sql + inner, cases[i].inner);
        assert_int_equal(analyze, cases[i].analyze);
    }
    size_t inner;
    bool analyze;
    assert_false(sqlscan_explain("SELECT 1", 8, &inner, &analyze));
    assert_false(sqlscan_explain("EXPLAINx SELECT 1", 17, &inner, &analyze));
    assert_false(sqlscan_explain("", 0, &inner, &analyze));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_respects_quotes_comments_and_dollar_quotes),
        cmocka_unit_test(test_keywords_skip_comments_and_lowercase),
        cmocka_unit_test(test_calls_finds_function_calls_outside_strings),
        cmocka_unit_test(test_public_schema_becomes_main),
        cmocka_unit_test(test_pg_catalog_qualifier_dropped_before_calls_only),
        cmocka_unit_test(test_balanced_refuses_escapes),
        cmocka_unit_test(test_read_quoted_undoubles_and_stays_in_bounds),
        cmocka_unit_test(test_mentions_finds_names_in_any_position_and_spelling),
        cmocka_unit_test(test_plain_calls_only_refuses_qualified_and_bare_mentions),
        cmocka_unit_test(test_block_comments_counts_nested_and_stops_past_limit),
        cmocka_unit_test(test_explain_finds_the_statement_it_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
