/* dberr.h - DuckDB's error text to a message, position and PostgreSQL SQLSTATE, so
 * both front ends report DuckDB errors alike. (errors_as_json would give structured
 * errors, but it is a per-connection setting that the locked sandbox configuration
 * cannot take: measured with DuckDB 1.4.4. So the text is parsed.) */
#ifndef DS_DBERR_H
#define DS_DBERR_H

#include <duckdb.h>

#include "util/err.h"

typedef struct {
    char type[48];     /* "Catalog", "Parser", ... */
    char message[900]; /* the human part */
    char subtype[48];  /* "MISSING_ENTRY", "COLUMN_NOT_FOUND", ... */
    char entry_type[32];
    char name[128]; /* the missing entry's name, when given */
    int position;   /* 1-based character position in the statement, 0 when unknown */
} db_error;

/* Parses DuckDB's error text: plain "X Error: message\n\nLINE n: excerpt\n   ^" or
 * JSON ({"exception_type":...}). sql (may be NULL) is the statement, to turn the
 * excerpt's caret into a position. */
void dberr_parse(const char *text, const char *sql, db_error *out);
/* The SQLSTATE for a DuckDB error. */
const char *dberr_sqlstate(duckdb_error_type et, const db_error *e);
/* Fills *err from a DuckDB error: code (REST), message, SQLSTATE and position. */
int dberr_fail(ds_err *err, ds_code code, duckdb_error_type et, const char *text);
/* The same, with the statement for the position. */
int dberr_fail_sql(ds_err *err, ds_code code, duckdb_error_type et, const char *text, const char *sql);

#endif
