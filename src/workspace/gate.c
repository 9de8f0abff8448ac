/* gate.c - duckspace's own gate on user SQL in a workspace: the first of the sandbox's
 * three walls (overview.md, "Isolation"). It decides on what DuckDB will execute, not on
 * how the text starts: the statement inside EXPLAIN [ANALYZE] is judged as if sent
 * alone, statement kinds are an allow-list, and names that reach outside the workspace
 * are refused wherever they appear (a call, a view, a qualifier, quoted or not). */
#include <stdio.h>
#include <string.h>

#include "util/sqlscan.h"
#include "workspace/internal.h"

/* DuckDB's parser takes time quadratic in the number of block comments and cannot be
 * interrupted (measured with DuckDB 1.4.4: 1,000 comments 0.03 s, 3,000 0.3 s, 10,000
 * 3 s, nested or not; line comments and length alone cost nothing). */
#define GATE_MAX_BLOCK_COMMENTS 1000

/* Fills err with "<what><tail>" (DS_E_FORBIDDEN, sqlstate) and returns its code. */
static int refuse(ds_err *err, const char *sqlstate, const char *what, const char *tail) {
    int rc = ds_fail(err, DS_E_FORBIDDEN, "%s%s", what, tail);
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate);
    return rc;
}

/* CREATE [OR REPLACE] [PERSISTENT|TEMP|TEMPORARY] SECRET: a CREATE to DuckDB, but it
 * stores credentials for external storage: refused by name. */
static bool is_create_secret(const char *sql, size_t len) {
    static const char *skip[] = {"or", "replace", "persistent", "temp", "temporary", NULL};
    char w[6][32];
    int n = sqlscan_keywords(sql, len, w, 6);
    if (n < 2 || strcmp(w[0], "create") != 0) return false;
    for (int i = 1; i < n; i++) {
        if (strcmp(w[i], "secret") == 0) return true;
        bool skippable = false;
        for (int k = 0; skip[k]; k++)
            if (strcmp(w[i], skip[k]) == 0) skippable = true;
        if (!skippable) return false;
    }
    return false;
}

/* Statements refused before DuckDB parses them: IMPORT DATABASE reads files while
 * parsing, and COPY ... FROM a file opens and sniffs it while binding (both measured);
 * the others have no business in a workspace at all. */
static int check_leading_keyword(const char *sql, size_t len, ds_err *err) {
    static const struct {
        const char *kw, *what;
    } refused[] = {{"pragma", "PRAGMA"}, {"import", "IMPORT"},   {"export", "EXPORT"},
                   {"attach", "ATTACH"}, {"detach", "DETACH"},   {"install", "INSTALL"},
                   {"load", "LOAD"},     {"use", "USE"},         {"copy", "COPY to or from a file"},
                   {"prepare", "SQL-level PREPARE/EXECUTE"},         {"execute", "SQL-level PREPARE/EXECUTE"}};
    char kw[1][32];
    if (sqlscan_keywords(sql, len, kw, 1) != 1) return 0;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (!strcmp(kw[0], refused[i].kw)) return refuse(err, "42501", refused[i].what, " is not allowed in a workspace");
    return 0;
}

int gate_text(const char *sql, bool setting_shim, bool compat, ds_err *err) {
    size_t len = strlen(sql);
    if (sqlscan_block_comments(sql, len, GATE_MAX_BLOCK_COMMENTS) > GATE_MAX_BLOCK_COMMENTS) {
        int rc = ds_fail(err, DS_E_INVALID_REQUEST, "statement too complex: more than %d block comments",
                         GATE_MAX_BLOCK_COMMENTS);
        snprintf(err->sqlstate, sizeof err->sqlstate, "54001");
        return rc;
    }
    int rc = check_leading_keyword(sql, len, err);
    size_t inner;
    bool analyze;
    if (rc == 0 && sqlscan_explain(sql, len, &inner, &analyze)) rc = check_leading_keyword(sql + inner, len - inner, err);
    if (rc) return rc;
    if (is_create_secret(sql, len)) return refuse(err, "42501", "CREATE SECRET", " is not allowed in a workspace");
    /* Functions that read files, run SQL given as text, or reach the server's
     * environment, refused when called. DuckDB's own sandbox already limits file access
     * to the workspace's directories; this is the wall in front of it. */
    static const char *const refused_calls[] = {
        "read_csv", "read_csv_auto", "sniff_csv", "read_parquet", "parquet_scan", "parquet_metadata",
        "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "parquet_bloom_probe", "read_json",
        "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto",
        "read_ndjson_objects", "read_text", "read_blob", "glob", "query", "query_table", "checkpoint",
        "force_checkpoint", NULL};
    const char *bad = sqlscan_calls(sql, len, refused_calls);
    if (bad) return refuse(err, "42501", bad, "() is not allowed in a workspace: it reaches outside it");
    /* Names refused wherever they appear: they show server paths or settings (as a
     * table function or as a view without parentheses), run serialized SQL past this
     * gate, read raw memory (arrow_scan takes pointers), complete file names, or change
     * the instance's logging. Column names rarely collide with these. */
    static const char *const refused_names[] = {
        "duckdb_databases", "pragma_database_list", "duckdb_settings", "duckdb_temporary_files",
        "duckdb_extensions", "duckdb_external_file_cache", "duckdb_secrets", "which_secret", "duckdb_logs",
        "duckdb_logs_parsed", "duckdb_log_contexts", "json_execute_serialized_sql", "sql_auto_complete",
        "arrow_scan", "arrow_scan_dumb", "enable_logging", "disable_logging", "truncate_duckdb_logs", "write_log",
        "getenv", "load_extension", "check_peg_parser",
        /* binds SQL given as text past this gate, with DuckDB's own current_setting() */
        "json_serialize_plan",
        /* shows memory_limit */
        "pragma_database_size", NULL};
    bad = sqlscan_mentions(sql, len, refused_names);
    if (bad) return refuse(err, "42501", bad, " is not allowed in a workspace: it reaches outside it");
    /* pg_settings: unqualified it is the compat catalog's PostgreSQL-shaped view (last in
     * the search path; pg_catalog.pg_settings was rewritten to it before this gate).
     * Qualified any other way (system.pg_catalog., pg_catalog. in quotes, <db>.pg_catalog.:
     * DuckDB reserves pg_catalog in every catalog) it is DuckDB's own view, which shows
     * the server's settings and paths; so is an unqualified one without the compat
     * catalog. */
    if (!compat && sqlscan_mentions(sql, len, (const char *const[]){"pg_settings", NULL}))
        return refuse(err, "42501", "pg_settings", " is not allowed in a workspace: it reaches outside it");
    if (!sqlscan_qualified_only_by(sql, len, "pg_settings", WS_COMPAT_ALIAS ".main."))
        return refuse(err, "42501", "this use of pg_settings", " is not allowed in a workspace: it reaches outside it");
    /* current_setting(): the PostgreSQL front end shadows DuckDB's (which shows the
     * server's settings and paths) with a per-session macro. Only a plain call reaches
     * that macro; system.main.current_setting(...) or DROP MACRO current_setting would
     * reach DuckDB's, and so would any call on a connection without the macro. */
    if (!sqlscan_plain_calls_only(sql, len, "current_setting") ||
        (!setting_shim && sqlscan_calls(sql, len, (const char *const[]){"current_setting", NULL})))
        return refuse(err, "42501", "this use of current_setting()", " is not allowed here");
    return 0;
}

const char *gate_refused_type(duckdb_statement_type t) {
    switch (t) {
    case DUCKDB_STATEMENT_TYPE_SELECT:
    case DUCKDB_STATEMENT_TYPE_INSERT:
    case DUCKDB_STATEMENT_TYPE_UPDATE:
    case DUCKDB_STATEMENT_TYPE_DELETE:
    case DUCKDB_STATEMENT_TYPE_EXPLAIN:
    case DUCKDB_STATEMENT_TYPE_CREATE:
    case DUCKDB_STATEMENT_TYPE_ALTER:
    case DUCKDB_STATEMENT_TYPE_DROP:
    case DUCKDB_STATEMENT_TYPE_TRANSACTION:
    case DUCKDB_STATEMENT_TYPE_ANALYZE:
    case DUCKDB_STATEMENT_TYPE_CREATE_FUNC:
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET:
        return NULL;
    case DUCKDB_STATEMENT_TYPE_COPY: return "COPY to or from a file";
    case DUCKDB_STATEMENT_TYPE_EXPORT: return "EXPORT/IMPORT DATABASE";
    case DUCKDB_STATEMENT_TYPE_ATTACH: return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH: return "DETACH";
    case DUCKDB_STATEMENT_TYPE_LOAD: return "LOAD";
    case DUCKDB_STATEMENT_TYPE_EXTENSION: return "INSTALL";
    case DUCKDB_STATEMENT_TYPE_PRAGMA: return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_CALL: return "CALL";
    case DUCKDB_STATEMENT_TYPE_SET: return "SET or USE of a database setting";
    case DUCKDB_STATEMENT_TYPE_PREPARE:
    case DUCKDB_STATEMENT_TYPE_EXECUTE: return "SQL-level PREPARE/EXECUTE";
    case DUCKDB_STATEMENT_TYPE_VACUUM: return "VACUUM";
    default: return "this statement";
    }
}

int gate_refuse_type(duckdb_statement_type t, bool in_explain, ds_err *err) {
    const char *why = gate_refused_type(t);
    if (in_explain && t == DUCKDB_STATEMENT_TYPE_EXPLAIN) why = "EXPLAIN of EXPLAIN";
    if (!why) return 0;
    if (!in_explain) return refuse(err, "42501", why, " is not allowed in a workspace");
    int rc = ds_fail(err, DS_E_FORBIDDEN, "EXPLAIN of %s is not allowed in a workspace", why);
    snprintf(err->sqlstate, sizeof err->sqlstate, "42501");
    return rc;
}
