/* dberr.c - DuckDB errors mapped to PostgreSQL's SQLSTATE classes. */
#include "util/dberr.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_member(json_t *j, const char *key, char *out, size_t outsz) {
    const char *v = json_string_value(json_object_get(j, key));
    if (v) snprintf(out, outsz, "%s", v);
}

void dberr_parse(const char *text, db_error *out) {
    memset(out, 0, sizeof *out);
    if (!text) {
        snprintf(out->message, sizeof out->message, "unknown error");
        return;
    }
    const char *brace = strchr(text, '{');
    json_error_t je;
    json_t *j = brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, &je) : NULL;
    if (j && json_is_object(j) && json_object_get(j, "exception_message")) {
        copy_member(j, "exception_type", out->type, sizeof out->type);
        copy_member(j, "exception_message", out->message, sizeof out->message);
        copy_member(j, "error_subtype", out->subtype, sizeof out->subtype);
        copy_member(j, "type", out->entry_type, sizeof out->entry_type);
        copy_member(j, "name", out->name, sizeof out->name);
        const char *pos = json_string_value(json_object_get(j, "position"));
        if (pos) out->position = atoi(pos) + 1; /* DuckDB counts from 0 */
    } else {
        /* "Catalog Error: Table with name x does not exist!" */
        const char *sep = strstr(text, " Error: ");
        if (sep && sep - text < (long)sizeof out->type) {
            snprintf(out->type, sizeof out->type, "%.*s", (int)(sep - text), text);
            text = sep + 8;
        }
        snprintf(out->message, sizeof out->message, "%s", text);
    }
    json_decref(j);
    /* Drop DuckDB's trailing "LINE 1: ..." excerpt; the position says where. */
    char *line = strstr(out->message, "\n\nLINE ");
    if (line) *line = '\0';
}

static bool has(const db_error *e, const char *s) { return strstr(e->message, s) != NULL; }

const char *dberr_sqlstate(duckdb_error_type et, const db_error *e) {
    if (has(e, "Current transaction is aborted")) return "25P02";
    if (has(e, "attached in read-only mode") || has(e, "is not an table") || has(e, "read-only")) return "25006";
    switch (et) {
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_SYNTAX: return "42601";
    case DUCKDB_ERROR_CATALOG:
        if (!strcmp(e->entry_type, "Schema") || has(e, "Schema with name")) return "3F000";
        if (!strcmp(e->entry_type, "Table") || has(e, "Table with name") || has(e, "Table or view")) return "42P01";
        if (has(e, "unction")) return "42883";
        if (has(e, "already exists")) return "42P07";
        if (has(e, "Catalog with name")) return "3D000";
        return "42704";
    case DUCKDB_ERROR_BINDER:
        if (!strcmp(e->subtype, "COLUMN_NOT_FOUND") || has(e, "Referenced column")) return "42703";
        if (has(e, "No function matches") || has(e, "unction")) return "42883";
        if (has(e, "ambiguous")) return "42702";
        return "42P18";
    case DUCKDB_ERROR_CONSTRAINT:
        if (has(e, "NOT NULL")) return "23502";
        if (has(e, "oreign key")) return "23503";
        if (has(e, "CHECK")) return "23514";
        if (has(e, "uplicate key") || has(e, "unique") || has(e, "primary key")) return "23505";
        return "23000";
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_INVALID_TYPE: return has(e, "out of range") ? "22003" : "22P02";
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_DECIMAL: return "22003";
    case DUCKDB_ERROR_DIVIDE_BY_ZERO: return "22012";
    case DUCKDB_ERROR_MISMATCH_TYPE: return "42804";
    case DUCKDB_ERROR_TRANSACTION: return has(e, "onflict") ? "40001" : "25000";
    case DUCKDB_ERROR_NOT_IMPLEMENTED: return "0A000";
    case DUCKDB_ERROR_INTERRUPT: return "57014";
    case DUCKDB_ERROR_OUT_OF_MEMORY: return "53200";
    case DUCKDB_ERROR_PERMISSION:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_AUTOLOAD: return "42501";
    case DUCKDB_ERROR_IO: return "58030";
    case DUCKDB_ERROR_DEPENDENCY: return "2BP01";
    case DUCKDB_ERROR_SEQUENCE: return "2200H";
    case DUCKDB_ERROR_PARAMETER_NOT_RESOLVED:
    case DUCKDB_ERROR_PARAMETER_NOT_ALLOWED: return "42P18";
    case DUCKDB_ERROR_INVALID_INPUT: return "22023";
    case DUCKDB_ERROR_SETTINGS: return "42501";
    default: return "XX000";
    }
}

int dberr_fail(ds_err *err, ds_code code, duckdb_error_type et, const char *text) {
    db_error d;
    dberr_parse(text, &d);
    int rc = ds_fail(err, code, "%s", d.message);
    if (err) {
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", dberr_sqlstate(et, &d));
        err->position = d.position;
    }
    return rc;
}
