/* Unit tests for pgexec/analyze + rewrite: PostgreSQL's parse of a statement, the names
 * PostgreSQL gives result columns, and golden rewrites of PostgreSQL's dialect into
 * DuckDB's (one per rule, the forms real clients send). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/analyze.h"
#include "pgexec/quick.h"

#define S(x) x, strlen(x)

static const pga_session ss = {"ws_1_alice", "workspace_ws_1"};

/* The text DuckDB runs for sql ("" when it runs sql as written). */
static char *rewritten(const char *sql, unsigned *rules) {
    pga_result r;
    assert_int_equal(pga_analyze(sql, strlen(sql), &ss, &r), 0);
    char *out = strdup(r.sql ? r.sql : "");
    if (rules) *rules = r.rules;
    pga_result_free(&r);
    return out;
}

#define assert_rewrite(sql, want, rule)                                                                                \
    do {                                                                                                               \
        unsigned got_rules;                                                                                            \
        char *got = rewritten(sql, &got_rules);                                                                        \
        assert_string_equal(got, want);                                                                                \
        if (rule) assert_true(got_rules &(unsigned)(rule));                                                            \
        free(got);                                                                                                     \
    } while (0)

static void test_plain_sql_is_not_rewritten(void **st) {
    (void)st;
    assert_rewrite("SELECT a, count(*) FROM t WHERE b > 1 GROUP BY a", "", 0);
    assert_rewrite("INSERT INTO t VALUES (1, 'x')", "", 0);
    assert_rewrite("CREATE TABLE t (id bigint PRIMARY KEY, v varchar(10))", "", 0);
    /* int, varchar, timestamp are qualified with pg_catalog by the grammar itself */
    assert_rewrite("SELECT x::int, y::varchar(3), z::timestamp with time zone FROM t", "", 0);
}

static void test_operator_collate_and_regex(void **st) {
    (void)st;
    assert_rewrite("SELECT c.relname FROM pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$' "
                   "COLLATE pg_catalog.default",
                   "SELECT c.relname FROM pg_class c WHERE regexp_matches(c.relname, '^(orders)$')",
                   PGA_R_OPERATOR | PGA_R_COLLATE);
    /* PostgreSQL's ~ searches; DuckDB's is a full match */
    assert_rewrite("SELECT 'pg_catalog' ~ '^pg_', 'A' ~* 'a', 'b' !~ 'x', 'B' !~* 'b'",
                   "SELECT regexp_matches('pg_catalog', '^pg_'), regexp_matches('A', 'a', 'i'), "
                   "NOT regexp_matches('b', 'x'), NOT regexp_matches('B', 'b', 'i')",
                   PGA_R_REGEX);
    assert_rewrite("SELECT 'x' COLLATE \"C\"", "SELECT 'x'", PGA_R_COLLATE);
    /* ~~ is LIKE, and a prefix ~ is a bitwise NOT: neither is a regular expression */
    assert_rewrite("SELECT 'ab' ~~ 'a%', ~5", "", 0);
}

static void test_catalog_names(void **st) {
    (void)st;
    assert_rewrite("SELECT n.nspname FROM pg_catalog.pg_namespace n",
                   "SELECT n.nspname FROM ds_compat.main.pg_namespace n", PGA_R_CATALOG);
    assert_rewrite("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
                   "SELECT table_name FROM ds_compat.main.information_schema_tables WHERE table_schema = 'public'",
                   PGA_R_CATALOG);
    assert_rewrite("SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_attribute a",
                   "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a", PGA_R_CATALOG);
    assert_rewrite("SELECT (information_schema._pg_expandarray(i.indkey)).n FROM pg_index i",
                   "SELECT (_pg_expandarray(i.indkey)).n FROM pg_index i", PGA_R_CATALOG);
    assert_rewrite("SELECT * FROM public.big JOIN \"public\".v ON true", "SELECT * FROM main.big JOIN main.v ON true",
                   PGA_R_PUBLIC);
    /* a string is not a name */
    assert_rewrite("SELECT 'pg_catalog.pg_class'", "", 0);
}

static void test_types_and_reg_casts(void **st) {
    (void)st;
    assert_rewrite("SELECT 'x'::pg_catalog.text", "SELECT 'x'::text", PGA_R_TYPES);
    assert_rewrite("SELECT a::name, b::oid FROM t", "SELECT a::\"varchar\", b::\"bigint\" FROM t", PGA_R_TYPES);
    /* a name -> its oid; an oid shown or made text -> the name; an oid compared stays one */
    assert_rewrite("SELECT d.objoid FROM pg_description d WHERE d.classoid = 'pg_class'::regclass",
                   "SELECT d.objoid FROM pg_description d WHERE d.classoid = ds_regclass_in('pg_class')", PGA_R_REGCAST);
    assert_rewrite("SELECT c.oid::pg_catalog.regclass::pg_catalog.text FROM pg_class c",
                   "SELECT ds_regclass_out(c.oid) FROM pg_class c", PGA_R_REGCAST);
    assert_rewrite("SELECT c.oid::regclass FROM pg_class c", "SELECT ds_regclass_out(c.oid) FROM pg_class c",
                   PGA_R_REGCAST);
    assert_rewrite("SELECT 1 FROM pg_class c WHERE c.oid::regclass = c.oid", "SELECT 1 FROM pg_class c WHERE c.oid = c.oid",
                   PGA_R_REGCAST);
    assert_rewrite("SELECT t.oid FROM pg_type t WHERE t.oid = $1::regtype",
                   "SELECT t.oid FROM pg_type t WHERE t.oid = ds_regtype_in($1)", PGA_R_REGCAST);
    assert_rewrite("SELECT typinput = 'pg_catalog.array_in'::regproc FROM pg_type",
                   "SELECT typinput = ds_regproc_in('pg_catalog.array_in') FROM pg_type", PGA_R_REGCAST);
    assert_rewrite("SELECT c.relnamespace::regnamespace FROM pg_class c",
                   "SELECT ds_regnamespace_out(c.relnamespace) FROM pg_class c", PGA_R_REGCAST);
}

static void test_arrays(void **st) {
    (void)st;
    assert_rewrite("SELECT '{a,\"b c\",NULL,\"NULL\"}'::text[]", "SELECT ARRAY['a', 'b c', NULL, 'NULL']::text[]",
                   PGA_R_ARRAY);
    assert_rewrite("SELECT 1 FROM pg_class c WHERE c.relkind = ANY('{r,p}')",
                   "SELECT 1 FROM pg_class c WHERE c.relkind IN ('r', 'p')", PGA_R_ARRAY);
    assert_rewrite("SELECT word FROM k WHERE word <> ALL ('{a,b}'::text[])",
                   "SELECT word FROM k WHERE word NOT IN ('a', 'b')", PGA_R_ARRAY);
    assert_rewrite("SELECT 1 WHERE 'x' = ANY('{}')", "SELECT 1 WHERE false", PGA_R_ARRAY);
    assert_rewrite("SELECT 1 FROM pg_attribute a WHERE a.attnum = ANY(ix.indkey)",
                   "SELECT 1 FROM pg_attribute a WHERE list_contains(ix.indkey, a.attnum)", PGA_R_ARRAY);
    assert_rewrite("SELECT 1 FROM t WHERE x = any(array(select y from u))",
                   "SELECT 1 FROM t WHERE x = ANY (SELECT y FROM u)", PGA_R_ARRAY);
    /* not array literals: left alone */
    assert_rewrite("SELECT '{\"a\": 1}'::json, '{{1,2},{3,4}}'::int[]", "", 0);
    assert_rewrite("SELECT 1 WHERE 'x' = ANY(SELECT 'x')", "", 0);
}

static void test_from_items_order_by_and_vectors(void **st) {
    (void)st;
    /* the alias of a scalar-returning set function names its column too */
    assert_rewrite("SELECT attname FROM pg_catalog.generate_series(0, 3) s, pg_attribute WHERE attnum = prattrs[s]",
                   "SELECT attname FROM generate_series(0, 3) s(s), pg_attribute WHERE attnum = prattrs[s]", PGA_R_CATALOG);
    /* a function returning one value, used as a table */
    assert_rewrite("SELECT s[1] FROM string_to_array('a,b', ',') s",
                   "SELECT s[1] FROM (SELECT string_to_array('a,b', ',') AS s) s", PGA_R_CATALOG);
    /* ORDER BY an output column's name that is also an input column's (Npgsql) */
    assert_rewrite("SELECT pg_type.oid, enumlabel FROM pg_enum JOIN pg_type ON pg_type.oid = enumtypid ORDER BY oid, enumsortorder",
                   "SELECT pg_type.oid, enumlabel FROM pg_enum JOIN pg_type ON pg_type.oid = enumtypid ORDER BY 1, enumsortorder",
                   PGA_R_CATALOG);
    assert_rewrite("SELECT a AS k FROM t ORDER BY k", "SELECT a AS k FROM t ORDER BY 1", PGA_R_CATALOG);
    assert_rewrite("SELECT a FROM t ORDER BY a", "", 0);
    /* int2vector subscripts count from 0 (psqlODBC's SQLPrimaryKeys) */
    assert_rewrite("SELECT 1 FROM pg_index i, pg_attribute ia WHERE ia.attnum = i.indkey[ia.attnum - 1]",
                   "SELECT 1 FROM pg_index i, pg_attribute ia WHERE ia.attnum = i.indkey[(ia.attnum - 1) + 1]", PGA_R_CATALOG);
    assert_rewrite("SELECT c.conkey[1] FROM pg_constraint c", "", 0); /* a real array: from 1 */
    /* a list of oids as type names (pgcli) */
    assert_rewrite("SELECT proargtypes::regtype[] FROM pg_proc", "SELECT ds_regtype_array_out(proargtypes) FROM pg_proc",
                   PGA_R_REGCAST);
}

static void test_identity(void **st) {
    (void)st;
    assert_rewrite("SELECT current_user, session_user, current_database(), current_schema()",
                   "SELECT 'ws_1_alice', 'ws_1_alice', 'workspace_ws_1', 'public'", PGA_R_IDENTITY);
    assert_rewrite("SELECT pg_catalog.current_database()", "SELECT 'workspace_ws_1'", PGA_R_IDENTITY);
    /* a user's own function of that name in another schema is not the built-in */
    assert_rewrite("SELECT myschema.current_database()", "", 0);
}

static char *colnames(const char *sql, int duck_ncols) {
    pga_result r;
    assert_int_equal(pga_analyze(sql, strlen(sql), &ss, &r), 0);
    char out[512] = "";
    for (int i = 0; i < duck_ncols; i++) {
        const char *n = pga_colname(&r, duck_ncols, i);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "", n ? n : "-");
    }
    pga_result_free(&r);
    return strdup(out);
}

#define assert_colnames(sql, n, want)                                                                                  \
    do {                                                                                                               \
        char *got = colnames(sql, n);                                                                                  \
        assert_string_equal(got, want);                                                                                \
        free(got);                                                                                                     \
    } while (0)

static void test_result_column_names(void **st) {
    (void)st;
    /* PostgreSQL 15's names (checked against psql): count, ?column?, the cast type, ... */
    assert_colnames("SELECT count(*), sum(x), a + 1, 1::int, 'a'::text, t.col, CASE WHEN a THEN 1 END FROM t", 7,
                    "count,sum,?column?,int4,text,col,case");
    assert_colnames("SELECT x::int, (SELECT max(y) FROM u), EXISTS (SELECT 1), ARRAY[1], ROW(1), coalesce(a, b)", 6,
                    "x,max,exists,array,row,coalesce");
    assert_colnames("SELECT current_user, now(), nullif(a, b), greatest(1, 2), a AS \"Mixed\", b AS Lower", 6,
                    "current_user,now,nullif,greatest,Mixed,lower");
    assert_colnames("VALUES (1, 2)", 2, "column1,column2");
    assert_colnames("SELECT 1 AS a UNION ALL SELECT 2", 1, "a");
    /* one '*' stands for the columns DuckDB returned beyond the others */
    assert_colnames("SELECT *, count(*) OVER () FROM t", 4, "-,-,-,count");
    assert_colnames("INSERT INTO t VALUES (1) RETURNING id, v || 'x'", 2, "id,?column?");
    /* counts that do not fit, and two stars: DuckDB's names stand */
    assert_colnames("SELECT 1, 2", 3, "-,-,-");
    assert_colnames("SELECT a.*, b.* FROM a, b", 2, "-,-");
    assert_colnames("CREATE TABLE x (a int)", 1, "-");
}

static void test_kinds_and_duckdb_only_sql(void **st) {
    (void)st;
    static const struct {
        const char *sql;
        pga_kind kind;
    } cases[] = {
        {"SELECT 1", PGA_SELECT},       {"VALUES (1)", PGA_SELECT},           {"WITH a AS (SELECT 1) SELECT * FROM a", PGA_SELECT},
        {"INSERT INTO t VALUES (1)", PGA_INSERT}, {"UPDATE t SET a = 1", PGA_UPDATE}, {"DELETE FROM t", PGA_DELETE},
        {"CREATE TABLE x AS SELECT 1", PGA_CREATE_TABLE_AS}, {"SELECT 1 INTO x", PGA_CREATE_TABLE_AS},
        {"BEGIN", PGA_TRANSACTION},     {"SAVEPOINT s", PGA_TRANSACTION},     {"SET search_path = public", PGA_SET},
        {"RESET ALL", PGA_SET},         {"SHOW TimeZone", PGA_SHOW},          {"DECLARE c CURSOR FOR SELECT 1", PGA_CURSOR},
        {"FETCH 10 FROM c", PGA_CURSOR}, {"CLOSE c", PGA_CURSOR},             {"COPY t FROM STDIN", PGA_COPY},
        {"EXPLAIN SELECT 1", PGA_EXPLAIN}, {"CREATE VIEW v AS SELECT 1", PGA_OTHER},
        /* DuckDB-only syntax PostgreSQL's grammar refuses: passed through untouched */
        {"FROM t SELECT a", PGA_UNPARSED}, {"SUMMARIZE t", PGA_UNPARSED},   {"PIVOT t ON a USING sum(b)", PGA_UNPARSED},
        {"SELECT [1, 2, 3]", PGA_UNPARSED}, {"CREATE MACRO m(x) AS x + 1", PGA_UNPARSED},
        {"SELECT list_transform([1], x -> x + 1)", PGA_UNPARSED},
        /* more than one statement, an embedded NUL, nothing: not analysed */
        {"SELECT 1; SELECT 2", PGA_UNPARSED}, {"", PGA_UNPARSED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pga_result r;
        assert_int_equal(pga_analyze(cases[i].sql, strlen(cases[i].sql), &ss, &r), 0);
        if (r.kind != cases[i].kind) fail_msg("%s: kind %d, want %d", cases[i].sql, r.kind, cases[i].kind);
        if (r.kind == PGA_UNPARSED) assert_null(r.sql);
        pga_result_free(&r);
    }
    pga_result r;
    assert_int_equal(pga_analyze("SELECT 1\0; DROP TABLE t", 24, &ss, &r), 0);
    assert_int_equal(r.kind, PGA_UNPARSED);
    pga_result_free(&r);
}

static void test_deep_and_long_input(void **st) {
    (void)st;
    /* PostgreSQL's parser bounds nesting; what it accepts, the walk either rewrites whole or
     * leaves to DuckDB as written, and never crashes. */
    size_t n = 20000;
    char *sql = malloc(n * 2 + 64);
    strcpy(sql, "SELECT ");
    for (size_t i = 0; i < n; i++) strcat(sql + i, "(");
    size_t l = strlen(sql);
    sql[l++] = '1';
    for (size_t i = 0; i < n; i++) sql[l++] = ')';
    sql[l] = '\0';
    pga_result r;
    assert_int_equal(pga_analyze(sql, l, &ss, &r), 0);
    pga_result_free(&r);
    /* a deep tree where a rule fires */
    strcpy(sql, "SELECT ");
    l = 7;
    for (size_t i = 0; i < 3000; i++) l += (size_t)sprintf(sql + l, "'a' ~ ");
    strcpy(sql + l, "'b'");
    assert_int_equal(pga_analyze(sql, strlen(sql), &ss, &r), 0);
    pga_result_free(&r);
    free(sql);
}

/* The fast path answers for plain statements, exactly as the full parse would, and
 * leaves everything a rule could touch to the parser. */
static void test_fast_path(void **st) {
    (void)st;
    static const char *sure[] = {
        "SELECT 1", "SELECT * FROM lookup WHERE id = 5", "SELECT a, b AS c, t.d, \"E\", 'x', $1, u.* FROM t, u",
        "select a from t union all select b from u", "UPDATE t SET a = 1 WHERE b = 'x'", "DELETE FROM t WHERE id = $1",
        "INSERT INTO t VALUES (1, 'a')", "SELECT Name FROM t -- comment\n;", "SELECT a FROM t JOIN u USING (a)",
        "SELECT a FROM t WHERE f(b) > 1", "SELECT a FROM (SELECT 1 a) s",
        "SELECT a FROM t WHERE b LIKE 'x%' AND c = 'y'", "SELECT a FROM t LIMIT $1 OFFSET $2",
        "SELECT a FROM t WHERE b BETWEEN $1 AND $2",
    };
    for (size_t i = 0; i < sizeof sure / sizeof sure[0]; i++) {
        pga_result q, f;
        assert_int_equal(pga_quick(sure[i], strlen(sure[i]), &q), 1);
        assert_int_equal(pga_analyze_full(sure[i], strlen(sure[i]), &ss, &f), 0);
        if (q.kind != f.kind || f.rules != 0 || q.ncols != f.ncols) fail_msg("%s: fast path disagrees", sure[i]);
        for (int k = 0; k < q.ncols; k++)
            if ((q.colnames[k] == NULL) != (f.colnames[k] == NULL) || (q.colnames[k] && strcmp(q.colnames[k], f.colnames[k])))
                fail_msg("%s: column %d", sure[i], k);
        pga_result_free(&q);
        pga_result_free(&f);
    }
    static const char *unsure[] = {
        "SELECT count(*) FROM t", "SELECT a FROM t WHERE b ~ 'x'", "SELECT a FROM t WHERE b !~* 'x'",
        "SELECT a FROM pg_catalog.pg_class", "SELECT a FROM public.t", "SELECT x::int FROM t", "SELECT current_user",
        "SELECT a FROM t WHERE b = ANY('{1,2}')", "SELECT '{a}'", "SELECT E'x'", "SELECT $$x$$", "SELECT 0x1F",
        "SELECT 1e5", "SELECT a /* c */ FROM t", "SELECT DISTINCT a FROM t", "BEGIN", "SELECT 1; SELECT 2",
        "INSERT INTO t VALUES (1) RETURNING *", "WITH a AS (SELECT 1) SELECT * FROM a", "SELECT true",
        "SELECT a FROM t WHERE c COLLATE \"C\" = 'x'", "FROM t SELECT a", "SELECT \"a\"\"b\" FROM t",
        "SELECT name FROM \"pg_catalog\".\"pg_settings\"", "SELECT a FROM \"public\".t",
        /* found by fuzz_analyze: an aliased function in FROM names its column after the alias */
        "SELECT * FROM unnest(current_schemas(urue))x", "SELECT * FROM t, generate_series(1, 2) g",
        "SELECT * FROM t JOIN LATERAL f(t.a) x ON true", "UPDATE t SET a = 1 WHERE b =oidvector 'x'",
        "SELECT int4 '1'", "SELECT t.oid, b\nORDER BY oid, c",
        /* found by fuzz_analyze: a typed parameter (the parser reads name $2 as $2::name) */
        "INSERT INTO t3 VALUES ($1,name $2,$3,ame$4)", "SELECT a FROM t WHERE b = int4 $1",
    };
    for (size_t i = 0; i < sizeof unsure / sizeof unsure[0]; i++) {
        pga_result q;
        if (pga_quick(unsure[i], strlen(unsure[i]), &q) != 0) fail_msg("%s: the fast path answered", unsure[i]);
    }
}

/* Savepoint names as PostgreSQL's parser reads them. */
static void test_savepoint_names(void **st) {
    (void)st;
    char n[64];
    assert_int_equal(pga_savepoint_name(S("SAVEPOINT Abc"), n), 1);
    assert_string_equal(n, "abc");
    assert_int_equal(pga_savepoint_name(S("release savepoint \"Mixed Case\""), n), 1);
    assert_string_equal(n, "Mixed Case");
    assert_int_equal(pga_savepoint_name(S("ROLLBACK WORK TO SAVEPOINT _per_query_svp_"), n), 1);
    assert_string_equal(n, "_per_query_svp_");
    assert_int_equal(pga_savepoint_name(S("RELEASE x"), n), 1);
    assert_string_equal(n, "x");
    /* NAMEDATALEN: a longer name is truncated to 63 bytes, as PostgreSQL does */
    char longsql[200];
    snprintf(longsql, sizeof longsql, "SAVEPOINT %0100d", 0);
    longsql[10] = 'a';
    assert_int_equal(pga_savepoint_name(longsql, strlen(longsql), n), 1);
    assert_int_equal(strlen(n), 63);
    assert_int_equal(pga_savepoint_name(S("SAVEPOINT"), n), 0);
    assert_int_equal(pga_savepoint_name(S("ROLLBACK"), n), 0);
    assert_int_equal(pga_savepoint_name(S("SAVEPOINT a; SAVEPOINT b"), n), 0);
    assert_int_equal(pga_savepoint_name(S("SELECT 1"), n), 0);
    assert_int_equal(pga_savepoint_name("SAVEPOINT a\0b", 13, n), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_sql_is_not_rewritten),
        cmocka_unit_test(test_operator_collate_and_regex),
        cmocka_unit_test(test_catalog_names),
        cmocka_unit_test(test_types_and_reg_casts),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_from_items_order_by_and_vectors),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_result_column_names),
        cmocka_unit_test(test_kinds_and_duckdb_only_sql),
        cmocka_unit_test(test_deep_and_long_input),
        cmocka_unit_test(test_fast_path),
        cmocka_unit_test(test_savepoint_names),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pga_thread_exit();
    return rc;
}
