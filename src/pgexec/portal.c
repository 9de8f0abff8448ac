/* portal.c - statements and portals: their lifetimes, starting a portal's result,
 * streaming its rows chunk by chunk into the sink, command tags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/internal.h"
#include "util/dberr.h"

/* Statements that can make the workspace bigger; refused once it is at its limit. */
static bool grows(int t) {
    return t == DUCKDB_STATEMENT_TYPE_INSERT || t == DUCKDB_STATEMENT_TYPE_UPDATE ||
           t == DUCKDB_STATEMENT_TYPE_CREATE || t == DUCKDB_STATEMENT_TYPE_ALTER || t == DUCKDB_STATEMENT_TYPE_COPY;
}


/* Makes p->chunk the portal's next chunk: from the parked rest, else from DuckDB.
 * Returns 1, 0 at the end of the result, -1 on an error (sent). */
static int next_chunk(pgx *x, pgx_portal *p) {
    if (p->parked_pos < p->nparked) {
        struct pgx_parked *k = &p->parked[p->parked_pos++];
        p->chunk = k->chunk;
        k->chunk = NULL;
        x->parked_bytes -= k->bytes;
    } else if (p->parked_all) {
        p->chunk = NULL;
    } else {
        p->chunk = duckdb_fetch_chunk(p->res);
    }
    p->chunk_row = 0;
    if (p->chunk) return 1;
    if (duckdb_result_error(&p->res)) {
        portal_result_error(x, &p->res);
        return -1;
    }
    return 0;
}

int portal_stream(pgx *x, pgx_portal *p, int64_t max_rows, uint64_t *sent) {
    *sent = 0;
    for (;;) {
        if (!p->chunk) {
            int nc = next_chunk(x, p);
            if (nc <= 0) return nc;
        }
        idx_t n = duckdb_data_chunk_get_size(p->chunk);
        duckdb_vector *vecs = p->vecs;
        int nc = p->ncols;
        for (int c = 0; c < nc; c++) vecs[c] = duckdb_data_chunk_get_vector(p->chunk, (idx_t)c);
        while (p->chunk_row < n) {
            if (max_rows > 0 && (int64_t)*sent >= max_rows) return 1;
            idx_t row = p->chunk_row++;
            wire_wb_begin(x->out, PqMsg_DataRow);
            wire_wb_i16(x->out, (int16_t)nc);
            for (int c = 0; c < nc; c++) {
                if (pgt_is_null(vecs[c], row)) {
                    wire_wb_i32(x->out, -1);
                    continue;
                }
                x->cell.len = 0;
                if (msg_col_format(p->formats, p->nformats, c) == 1) {
                    if (pgt_col_format_binary(&p->cols[c], vecs[c], row, &x->cell, &x->cell2) != 0) x->out->failed = true;
                } else if (pgt_col_format(&p->cols[c], vecs[c], row, &x->cell) != 0) {
                    x->out->failed = true;
                }
                wire_wb_i32(x->out, (int32_t)x->cell.len);
                wire_wb_bytes(x->out, x->cell.data, x->cell.len);
            }
            wire_wb_end(x->out);
            (*sent)++;
            p->rows++;
        }
        duckdb_destroy_data_chunk(&p->chunk);
        p->chunk = NULL;
        /* Rows go out chunk by chunk, through the sink's back-pressure; a receiver that
         * is gone stops the query. */
        if (x->out->len >= PGX_FLUSH_AT && msg_flush(x) != 0) {
            exec_stop(x, PGX_STOP_DISCONNECTED);
            return -1;
        }
    }
}

/* MOVE: like stream_rows, but the rows are passed over, not sent. */
int portal_skip(pgx *x, pgx_portal *p, int64_t max_rows, uint64_t *skipped) {
    *skipped = 0;
    for (;;) {
        if (!p->chunk) {
            int nc = next_chunk(x, p);
            if (nc <= 0) return nc;
        }
        idx_t n = duckdb_data_chunk_get_size(p->chunk);
        idx_t take = n - p->chunk_row;
        if (max_rows > 0 && (int64_t)take > max_rows - (int64_t)*skipped) take = (idx_t)(max_rows - (int64_t)*skipped);
        p->chunk_row += take;
        *skipped += take;
        p->rows += take;
        if (p->chunk_row < n) return 1;
        duckdb_destroy_data_chunk(&p->chunk);
        p->chunk = NULL;
        if (max_rows > 0 && (int64_t)*skipped >= max_rows) return 1;
    }
}

/* ErrorResponse for a failed DuckDB result: 57014 when the watchdog or a cancel request
 * interrupted it, else DuckDB's error with its SQLSTATE. */
void portal_result_error(pgx *x, duckdb_result *res) {
    int why = atomic_load(&x->cancel_reason);
    if (exec_size_stopped(x)) { /* the workspace's size guard interrupted it */
        char m[200];
        snprintf(m, sizeof m, "workspace size limit exceeded: the statement was stopped when the workspace grew past "
                              "its size limit of %lld GB", (long long)(x->size_limit_bytes >> 30));
        msg_error(x, "ERROR", "53100", m, 0);
    } else if (why == PGX_STOP_TIMEOUT) {
        msg_error(x, "ERROR", "57014", "canceling statement due to statement timeout", 0);
    } else if (why == PGX_STOP_USER) {
        msg_error(x, "ERROR", "57014", "canceling statement due to user request", 0);
    } else {
        ds_err e;
        ds_err_clear(&e);
        dberr_fail(&e, DS_E_INVALID_REQUEST, duckdb_result_error_type(res), duckdb_result_error(res));
        msg_error_from(x, &e, 0);
    }
}

void portal_clear_result(pgx *x, pgx_portal *p) {
    if (p->chunk) duckdb_destroy_data_chunk(&p->chunk);
    p->chunk = NULL;
    for (size_t i = p->parked_pos; i < p->nparked; i++) {
        duckdb_destroy_data_chunk(&p->parked[i].chunk);
        x->parked_bytes -= p->parked[i].bytes;
    }
    free(p->parked);
    p->parked = NULL;
    p->nparked = p->parked_cap = p->parked_pos = 0;
    p->parked_all = false;
    if (p->has_res) duckdb_destroy_result(&p->res);
    p->has_res = false;
    for (int i = 0; i < p->ncols; i++) pgt_col_destroy(&p->cols[i]);
    free(p->cols);
    free(p->vecs);
    p->cols = NULL;
    p->vecs = NULL;
    p->ncols = 0;
}

/* Starts executing stmt for portal p (streaming). Returns 0, or -1 with an error sent. */
int portal_start(pgx *x, pgx_portal *p) {
    if (grows(p->stmt->runs) && exec_size_reached(x)) {
        char m[200];
        snprintf(m, sizeof m, "could not extend the workspace: its size limit of %lld GB is reached",
                 (long long)(x->size_limit_bytes >> 30));
        msg_error(x, "ERROR", "53100", m, 0);
        return -1;
    }
    if (p->stmt->bound_by != p && p->bind_body) {
        pgx_bind_msg m;
        if (pgx_parse_bind(p->bind_body, p->bind_len, &m) != 0) {
            msg_error(x, "ERROR", "XX000", "the portal's parameters could not be bound again", 0);
            return -1;
        }
        int brc = bind_values(x, p->stmt, &m);
        pgx_bind_msg_free(&m);
        if (brc != 0) return -1;
        p->stmt->bound_by = p;
    }
    int st = exec_execute(x, p, p->stmt->st, &p->res, EXEC_REPORT | EXEC_STREAM);
    if (st == -1) return -1; /* a suspended portal could not be parked (54000 sent) */
    p->has_res = true;
    p->started = true;
    if (st != 0) {
        portal_result_error(x, &p->res);
        exec_end_running(x);
        return -1;
    }
    if (msg_too_wide(x, duckdb_column_count(&p->res))) {
        exec_end_running(x);
        return -1;
    }
    int nc = (int)duckdb_column_count(&p->res);
    p->cols = calloc((size_t)(nc ? nc : 1), sizeof *p->cols);
    p->vecs = calloc((size_t)(nc ? nc : 1), sizeof *p->vecs);
    if (!p->cols || !p->vecs) {
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        exec_end_running(x);
        return -1;
    }
    p->ncols = nc;
    for (int i = 0; i < p->ncols; i++) {
        duckdb_logical_type lt = duckdb_column_logical_type(&p->res, (idx_t)i);
        pgt_col_init(&p->cols[i], lt);
        pgt_col_set_tz(&p->cols[i], x->tz);
        duckdb_destroy_logical_type(&lt);
        /* Every type has a binary form (types/binary.c): no column is refused. */
    }
    return 0;
}

/* Runs/continues a DuckDB portal: rows (up to max_rows) then CommandComplete, or
 * PortalSuspended. send_desc: a RowDescription goes first (simple protocol). */
int portal_run(pgx *x, pgx_portal *p, int64_t max_rows, bool send_desc) {
    if (!p->started && portal_start(x, p) != 0) return -1;
    exec_resume_running(x); /* also when resuming a suspended portal */
    duckdb_result_type rt = duckdb_result_return_type(p->res);
    duckdb_statement_type t = duckdb_prepared_statement_type(p->stmt->st);
    char tag[64];
    if (rt == DUCKDB_RESULT_TYPE_QUERY_RESULT) {
        if (send_desc && p->rows == 0) msg_rowdesc(x, p->ncols, msg_res_name, msg_res_type, &p->res, &p->stmt->an);
        uint64_t sent = 0;
        int r = portal_stream(x, p, max_rows, &sent);
        if (r < 0) {
            exec_end_running(x);
            return -1;
        }
        if (r == 1) {
            msg_empty(x, PqMsg_PortalSuspended);
            exec_end_running(x);
            return 0;
        }
        /* Like PostgreSQL: the rows of this Execute (all of them unless resumed). */
        tcop_tag(p->stmt->sql, strlen(p->stmt->sql), t == DUCKDB_STATEMENT_TYPE_INSERT ||
                t == DUCKDB_STATEMENT_TYPE_UPDATE || t == DUCKDB_STATEMENT_TYPE_DELETE ? t : DUCKDB_STATEMENT_TYPE_SELECT,
                false, sent, tag, sizeof tag);
    } else {
        uint64_t n = 0;
        bool changed = rt == DUCKDB_RESULT_TYPE_CHANGED_ROWS;
        /* Row counts come as one BIGINT "Count" row: for INSERT/UPDATE/DELETE and also
         * for CREATE TABLE AS, whose result type is "nothing" (DuckDB 1.4.4). */
        if (duckdb_column_count(&p->res) == 1) {
            duckdb_data_chunk c = duckdb_fetch_chunk(p->res);
            const char *cn = duckdb_column_name(&p->res, 0);
            if (c) {
                duckdb_vector v = duckdb_data_chunk_get_vector(c, 0);
                int64_t *d = duckdb_vector_get_data(v);
                if (duckdb_data_chunk_get_size(c) > 0 && d && cn && !strcmp(cn, "Count") &&
                    duckdb_column_type(&p->res, 0) == DUCKDB_TYPE_BIGINT) {
                    n = (uint64_t)d[0];
                    changed = true;
                }
                duckdb_destroy_data_chunk(&c);
            } else if (duckdb_result_error(&p->res)) {
                portal_result_error(x, &p->res);
                exec_end_running(x);
                return -1;
            }
        }
        tcop_tag(p->stmt->sql, strlen(p->stmt->sql), t, changed, n, tag, sizeof tag);
    }
    exec_end_running(x);
    p->done = true;
    msg_complete(x, tag);
    return 0;
}

/* ---- lifetimes ---- */

pgx_stmt *stmt_find(pgx *x, const char *name) {
    for (pgx_stmt *t = x->stmts; t; t = t->next)
        if (!strcmp(t->name, name)) return t;
    return NULL;
}

pgx_portal *portal_find(pgx *x, const char *name) {
    for (pgx_portal *p = x->portals; p; p = p->next)
        if (!strcmp(p->name, name)) return p;
    return NULL;
}

void portal_free(pgx *x, pgx_portal *p) {
    for (pgx_portal **pp = &x->portals; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    portal_clear_result(x, p);
    free(p->bind_body);
    if (p->stmt && p->stmt->bound_by == p) p->stmt->bound_by = NULL;
    if (p->owns_stmt && p->stmt) {
        stmt_destroy(p->stmt); /* a cursor's own statement */
    } else if (p->stmt && --p->stmt->nportals == 0 && p->stmt->unlinked) {
        stmt_destroy(p->stmt);
    }
    free(p->formats);
    free(p->name);
    free(p);
}

void stmt_destroy(pgx_stmt *t) {
    if (t->st) duckdb_destroy_prepare(&t->st);
    free(t->param_types);
    free(t->slot_oids);
    pga_result_free(&t->an);
    free(t->param_oids);
    free(t->sql);
    free(t->name);
    free(t);
}

static void unlink_stmt(pgx *x, pgx_stmt *t) {
    for (pgx_stmt **pp = &x->stmts; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
}

/* Close, DEALLOCATE: the statement and the portals made from it. */
void stmt_free(pgx *x, pgx_stmt *t) {
    for (pgx_portal *p = x->portals, *next; p; p = next) {
        next = p->next;
        if (p->stmt == t && !p->owns_stmt) {
            p->stmt->nportals--;
            p->stmt = NULL;
            portal_free(x, p);
        }
    }
    unlink_stmt(x, t);
    stmt_destroy(t);
}

/* A Parse into the unnamed statement: the old one's portals keep running. */
void stmt_replace_unnamed(pgx *x, pgx_stmt *t) {
    unlink_stmt(x, t);
    if (t->nportals > 0) t->unlinked = true;
    else stmt_destroy(t);
}

void stmt_free_all(pgx *x) {
    while (x->portals) portal_free(x, x->portals);
    while (x->stmts) stmt_free(x, x->stmts);
}

