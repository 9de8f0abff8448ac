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
/* Server paths kept out of client messages. DuckDB names files in its errors (the
 * upload being read, a table file, the extension directory under $HOME), and those
 * messages reach clients through both front ends. dberr_parse, and so dberr_fail,
 * replaces every registered path with its label; http_error does too, for messages
 * that did not come through here.
 *
 * dberr_scrub_init registers, once at start-up before any thread reads them: the data
 * directory (as given and resolved) as "<data-dir>", the working directory as
 * "<server-dir>", $HOME as "<home>" and $TMPDIR (or /tmp) as "<tmp>". Not thread-safe
 * against dberr_scrub; call it before the servers start. */
void dberr_scrub_init(const char *data_dir);
/* Registers one more path (at most 16 in all; paths of one character, such as "/",
 * are ignored: they would eat every slash). */
void dberr_scrub_add(const char *path, const char *label);
/* The same for a name prefix, replaced also where a name goes on after it. */
void dberr_scrub_prefix_add(const char *prefix, const char *label);
/* Replaces, in the NUL-terminated text (capacity cap), every registered path that
 * stands as a path (not inside a longer name) with its label; longer paths first, so
 * the data directory wins over the working directory that contains it. The result is
 * cut to cap - 1 bytes when the labels make it longer. */
void dberr_scrub(char *text, size_t cap);
/* The same for one path given here (e.g. an upload's file name). */
void dberr_scrub_path(char *text, size_t cap, const char *path, const char *label);
/* Fills *err from a DuckDB error: code (REST), message, SQLSTATE and position. */
int dberr_fail(ds_err *err, ds_code code, duckdb_error_type et, const char *text);
/* The same, with the statement for the position. */
int dberr_fail_sql(ds_err *err, ds_code code, duckdb_error_type et, const char *text, const char *sql);

#endif
