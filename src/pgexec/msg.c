/* msg.c - backend messages into the sink: RowDescription, DataRow of texts,
 * CommandComplete, ErrorResponse/NoticeResponse, ReadyForQuery, ParameterStatus. */
#include <stdio.h>
#include <string.h>

#include "pgexec/internal.h"
#include "util/timeutil.h"

double pgx_now_ms(void) { return ds_monotonic() * 1000.0; }

int msg_flush(pgx *x) { return x->sink.flush(x->sink.ud); }

void msg_complete(pgx *x, const char *tag) {
    wire_wb_begin(x->out, PqMsg_CommandComplete);
    wire_wb_cstr(x->out, tag);
    wire_wb_end(x->out);
}

void msg_empty(pgx *x, char type) {
    wire_wb_begin(x->out, type);
    wire_wb_end(x->out);
}

void pgx_msg_error_fields(wire_wb *out, char type, const char *severity, const char *sqlstate, const char *msg,
                          int position) {
    wire_wb_begin(out, type);
    wire_wb_u8(out, 'S');
    wire_wb_cstr(out, severity);
    wire_wb_u8(out, 'V');
    wire_wb_cstr(out, severity);
    wire_wb_u8(out, 'C');
    wire_wb_cstr(out, sqlstate);
    wire_wb_u8(out, 'M');
    wire_wb_cstr(out, msg);
    if (position > 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", position);
        wire_wb_u8(out, 'P');
        wire_wb_cstr(out, p);
    }
    wire_wb_u8(out, 0);
    wire_wb_end(out);
}

int msg_missing(pgx *x, const char *what, const char *name, const char *sqlstate) {
    char m[200];
    snprintf(m, sizeof m, "%s \"%.100s\" does not exist", what, name);
    msg_error(x, "ERROR", sqlstate, m, 0);
    return -1;
}

void msg_error(pgx *x, const char *severity, const char *sqlstate, const char *msg, int position) {
    pgx_msg_error_fields(x->out, PqMsg_ErrorResponse, severity, sqlstate, msg, position);
}

void msg_error_context(pgx *x, const char *sqlstate, const char *msg, const char *context) {
    wire_wb_begin(x->out, PqMsg_ErrorResponse);
    wire_wb_u8(x->out, 'S');
    wire_wb_cstr(x->out, "ERROR");
    wire_wb_u8(x->out, 'V');
    wire_wb_cstr(x->out, "ERROR");
    wire_wb_u8(x->out, 'C');
    wire_wb_cstr(x->out, sqlstate);
    wire_wb_u8(x->out, 'M');
    wire_wb_cstr(x->out, msg);
    if (context && *context) { /* 'W': where, as PostgreSQL's CONTEXT line */
        wire_wb_u8(x->out, 'W');
        wire_wb_cstr(x->out, context);
    }
    wire_wb_u8(x->out, 0);
    wire_wb_end(x->out);
}

void msg_notice(pgx *x, const char *severity, const char *sqlstate, const char *msg) {
    pgx_msg_error_fields(x->out, PqMsg_NoticeResponse, severity, sqlstate, msg, 0);
}

void msg_error_from(pgx *x, const ds_err *e, int position_offset) {
    const char *state = e->sqlstate[0] ? e->sqlstate : ds_code_sqlstate(e->code);
    msg_error(x, "ERROR", state, e->message[0] ? e->message : "error", e->position ? e->position + position_offset : 0);
}

void msg_ready(pgx *x) {
    wire_wb_begin(x->out, PqMsg_ReadyForQuery);
    wire_wb_u8(x->out, (uint8_t)x->tx);
    wire_wb_end(x->out);
}

void msg_parameter_status(pgx *x, const char *name, const char *value) {
    wire_wb_begin(x->out, PqMsg_ParameterStatus);
    wire_wb_cstr(x->out, name);
    wire_wb_cstr(x->out, value);
    wire_wb_end(x->out);
}

void msg_text_row_description(pgx *x, int n, const char *const *names) {
    wire_wb_begin(x->out, PqMsg_RowDescription);
    wire_wb_i16(x->out, (int16_t)n);
    for (int i = 0; i < n; i++) {
        wire_wb_cstr(x->out, names[i]);
        wire_wb_i32(x->out, 0);  /* table oid */
        wire_wb_i16(x->out, 0);  /* column number */
        wire_wb_i32(x->out, 25); /* text */
        wire_wb_i16(x->out, -1);
        wire_wb_i32(x->out, -1);
        wire_wb_i16(x->out, 0); /* text format */
    }
    wire_wb_end(x->out);
}

void msg_text_row(pgx *x, int n, const char *const *values) {
    wire_wb_begin(x->out, PqMsg_DataRow);
    wire_wb_i16(x->out, (int16_t)n);
    for (int i = 0; i < n; i++) {
        wire_wb_i32(x->out, (int32_t)strlen(values[i]));
        wire_wb_bytes(x->out, values[i], strlen(values[i]));
    }
    wire_wb_end(x->out);
}

int16_t msg_col_format(const int16_t *fmts, int nfmts, int i) {
    if (nfmts == 0 || !fmts) return 0;
    return nfmts == 1 ? fmts[0] : i < nfmts ? fmts[i] : 0;
}

/* PostgreSQL refuses more than 1664 result columns while parsing (54011); DuckDB does
 * not, and RowDescription counts them in 16 bits. */
bool msg_too_wide(pgx *x, idx_t ncols) {
    if (ncols <= PGX_MAX_COLUMNS) return false;
    msg_error(x, "ERROR", "54011", "target lists can have at most 1664 entries", 0);
    return true;
}

void msg_row_description(pgx *x, int n, char *(*name)(void *, int), duckdb_logical_type (*type)(void *, int), void *ud,
                         const int16_t *fmts, int nfmts, const pga_result *an) {
    wire_wb_begin(x->out, PqMsg_RowDescription);
    wire_wb_i16(x->out, (int16_t)n);
    for (int i = 0; i < n; i++) {
        duckdb_logical_type t = type(ud, i);
        uint32_t oid = pgt_oid(t);
        /* numeric(p,s) carries ((p << 16) | s) + 4, as PostgreSQL's atttypmod */
        int32_t typmod = -1;
        if (t && duckdb_get_type_id(t) == DUCKDB_TYPE_DECIMAL && oid == 1700)
            typmod = (int32_t)(((uint32_t)duckdb_decimal_width(t) << 16) | duckdb_decimal_scale(t)) + 4;
        duckdb_destroy_logical_type(&t);
        /* PostgreSQL's name where DuckDB's differs (count, ?column?, int4, ...) */
        const char *pgname = pga_colname(an, n, i);
        char *nm = pgname ? NULL : name(ud, i); /* owned: freed with duckdb_free */
        wire_wb_cstr(x->out, pgname ? pgname : nm ? nm : "?column?");
        duckdb_free(nm);
        wire_wb_i32(x->out, 0); /* table oid */
        wire_wb_i16(x->out, 0); /* column number */
        wire_wb_i32(x->out, (int32_t)oid);
        wire_wb_i16(x->out, pgt_typlen(oid));
        wire_wb_i32(x->out, typmod);
        wire_wb_i16(x->out, msg_col_format(fmts, nfmts, i));
    }
    wire_wb_end(x->out);
}

char *msg_res_name(void *res, int i) {
    const char *n = duckdb_column_name(res, (idx_t)i);
    size_t len = n ? strlen(n) : 0;
    char *d = duckdb_malloc(len + 1);
    if (d) memcpy(d, n ? n : "", len + 1);
    return d;
}
duckdb_logical_type msg_res_type(void *res, int i) { return duckdb_column_logical_type(res, (idx_t)i); }
char *msg_st_name(void *stmt, int i) {
    return (char *)duckdb_prepared_statement_column_name(*(duckdb_prepared_statement *)stmt, (idx_t)i);
}
duckdb_logical_type msg_st_type(void *stmt, int i) {
    return duckdb_prepared_statement_column_logical_type(*(duckdb_prepared_statement *)stmt, (idx_t)i);
}
