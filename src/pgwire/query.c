/* query.c - the simple and extended query protocols: statements run in the
 * workspace's sandbox (ws_prepare), results stream chunk by chunk to the socket. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgwire/internal.h"
#include "util/dberr.h"
#include "util/log.h"
#include "util/sqlscan.h"
#include "util/str.h"
#include "util/timeutil.h"

/* ---- small message helpers ---- */

static void complete(pgw_session *s, const char *tag) {
    wire_wb_begin(&s->out, 'C');
    wire_wb_cstr(&s->out, tag);
    wire_wb_end(&s->out);
}

static void simple_msg(pgw_session *s, char type) {
    wire_wb_begin(&s->out, type);
    wire_wb_end(&s->out);
}

/* The format of result column i as Bind asked: none = text, one = all, else each. */
static int16_t col_format(const int16_t *fmts, int nfmts, int i) {
    if (nfmts == 0 || !fmts) return 0;
    return nfmts == 1 ? fmts[0] : i < nfmts ? fmts[i] : 0;
}

/* PostgreSQL refuses more than 1664 result columns while parsing (54011); DuckDB does
 * not, and RowDescription counts them in 16 bits. Returns true (error sent) past it. */
static bool too_wide(pgw_session *s, idx_t ncols) {
    if (ncols <= PGW_MAX_COLUMNS) return false;
    pgw_error(s, "ERROR", "54011", "target lists can have at most 1664 entries", 0);
    return true;
}

/* RowDescription from column names and types, with the result formats of the portal
 * (fmts NULL: text, as for the simple protocol and Describe of a statement). */
static void row_description_f(pgw_session *s, int n, char *(*name)(void *, int), duckdb_logical_type (*type)(void *, int),
                              void *ud, const int16_t *fmts, int nfmts) {
    wire_wb_begin(&s->out, 'T');
    wire_wb_i16(&s->out, (int16_t)n);
    for (int i = 0; i < n; i++) {
        duckdb_logical_type t = type(ud, i);
        uint32_t oid = pgt_oid(t);
        duckdb_destroy_logical_type(&t);
        char *nm = name(ud, i); /* owned: freed with duckdb_free */
        wire_wb_cstr(&s->out, nm ? nm : "?column?");
        duckdb_free(nm);
        wire_wb_i32(&s->out, 0); /* table oid */
        wire_wb_i16(&s->out, 0); /* column number */
        wire_wb_i32(&s->out, (int32_t)oid);
        wire_wb_i16(&s->out, pgt_typlen(oid));
        wire_wb_i32(&s->out, -1); /* typmod */
        wire_wb_i16(&s->out, col_format(fmts, nfmts, i));
    }
    wire_wb_end(&s->out);
}

#define row_description(s, n, name, type, ud) row_description_f(s, n, name, type, ud, NULL, 0)

static char *res_name(void *ud, int i) {
    const char *n = duckdb_column_name(ud, (idx_t)i);
    size_t len = n ? strlen(n) : 0;
    char *d = duckdb_malloc(len + 1);
    if (d) memcpy(d, n ? n : "", len + 1);
    return d;
}
static duckdb_logical_type res_type(void *ud, int i) { return duckdb_column_logical_type(ud, (idx_t)i); }
static char *st_name(void *ud, int i) {
    return (char *)duckdb_prepared_statement_column_name(*(duckdb_prepared_statement *)ud, (idx_t)i);
}
static duckdb_logical_type st_type(void *ud, int i) {
    return duckdb_prepared_statement_column_logical_type(*(duckdb_prepared_statement *)ud, (idx_t)i);
}

/* ---- statement classification ---- */

typedef enum {
    K_OTHER = 0, K_BEGIN, K_COMMIT, K_ROLLBACK, K_SAVEPOINT, K_COPY_STDIO, K_LISTEN, K_DEALLOCATE, K_DECLARE, K_FETCH,
    K_CLOSE, K_MOVE
} kw_kind;

static kw_kind classify(const char *sql, size_t len) {
    char w[4][32];
    int n = sqlscan_keywords(sql, len, w, 4);
    if (n == 0) return K_OTHER;
    if (!strcmp(w[0], "begin") || (!strcmp(w[0], "start") && n > 1 && !strcmp(w[1], "transaction"))) return K_BEGIN;
    if (!strcmp(w[0], "commit") || !strcmp(w[0], "end")) return K_COMMIT;
    if (!strcmp(w[0], "rollback") || !strcmp(w[0], "abort")) {
        if (n > 1 && !strcmp(w[1], "to")) return K_SAVEPOINT;
        return K_ROLLBACK;
    }
    if (!strcmp(w[0], "savepoint") || !strcmp(w[0], "release")) return K_SAVEPOINT;
    if (!strcmp(w[0], "deallocate")) return K_DEALLOCATE;
    if (!strcmp(w[0], "declare")) return K_DECLARE;
    if (!strcmp(w[0], "fetch")) return K_FETCH;
    if (!strcmp(w[0], "move")) return K_MOVE;
    if (!strcmp(w[0], "close")) return K_CLOSE;
    if (!strcmp(w[0], "listen") || !strcmp(w[0], "unlisten") || !strcmp(w[0], "notify") || !strcmp(w[0], "discard"))
        return K_LISTEN;
    if (!strcmp(w[0], "copy")) {
        /* COPY ... FROM STDIN / TO STDOUT (the protocol's COPY) vs files (refused in the sandbox). */
        for (size_t i = 0; i + 5 <= len; i++)
            if (!strncasecmp(sql + i, "stdin", 5) || (i + 6 <= len && !strncasecmp(sql + i, "stdout", 6)))
                return K_COPY_STDIO;
    }
    return K_OTHER;
}

static int duck_exec_plain(pgw_session *s, const char *sql) {
    duckdb_result r;
    if (pgw_park_portals(s, NULL, true) != 0) return -1;
    int rc = duckdb_query(s->con, sql, &r) == DuckDBError ? -1 : 0;
    if (rc) {
        ds_err e;
        ds_err_clear(&e);
        dberr_fail(&e, DS_E_INVALID_REQUEST, duckdb_result_error_type(&r), duckdb_result_error(&r));
        pgw_error_from(s, &e, 0);
    }
    duckdb_destroy_result(&r);
    return rc;
}

static pgw_stmt *find_stmt(pgw_session *s, const char *name);
static void free_stmt(pgw_session *s, pgw_stmt *t);
static void destroy_stmt(pgw_stmt *t);
static int bind_values(pgw_session *s, pgw_stmt *t, const pgx_bind_msg *m);
static int cursor_statement(pgw_session *s, kw_kind k, const char *sql, size_t len);

/* DEALLOCATE [PREPARE] name | ALL: drops protocol-level prepared statements. */
static int deallocate(pgw_session *s, const char *sql, size_t len) {
    char w[3][32];
    int n = sqlscan_keywords(sql, len, w, 3);
    int k = n > 1 && !strcmp(w[1], "prepare") ? 2 : 1;
    if (k >= n) {
        /* A quoted or odd name: look for it as text after the keyword. */
        pgw_error(s, "ERROR", "42601", "DEALLOCATE needs a statement name or ALL", 0);
        return -1;
    }
    if (!strcmp(w[k], "all")) {
        while (s->stmts) free_stmt(s, s->stmts);
        complete(s, "DEALLOCATE ALL");
        return 1;
    }
    pgw_stmt *t = find_stmt(s, w[k]);
    if (!t) {
        char m[128];
        snprintf(m, sizeof m, "prepared statement \"%s\" does not exist", w[k]);
        pgw_error(s, "ERROR", "26000", m, 0);
        return -1;
    }
    free_stmt(s, t);
    complete(s, "DEALLOCATE");
    return 1;
}

static void close_transaction_portals(pgw_session *s, bool rollback);
static void end_transaction_cursors(pgw_session *s, bool committed);
static void rollback_transaction(pgw_session *s);

/* Transaction control and other statements handled here. Returns 1 done, -1 error
 * sent, 0 not ours. */
static int local_statement(pgw_session *s, const char *sql, size_t len, bool describe_only) {
    switch (classify(sql, len)) {
    case K_DEALLOCATE:
        return describe_only ? 1 : deallocate(s, sql, len);
    case K_DECLARE:
    case K_FETCH:
    case K_MOVE:
    case K_CLOSE:
        return describe_only ? 1 : cursor_statement(s, classify(sql, len), sql, len);
    case K_BEGIN:
        if (describe_only) return 1;
        if (s->tx != 'I') {
            pgw_notice(s, "WARNING", "25001", "there is already a transaction in progress");
        } else {
            /* Isolation levels and READ ONLY are accepted: DuckDB runs every
             * transaction with snapshot isolation. */
            if (duck_exec_plain(s, "BEGIN TRANSACTION") != 0) return -1;
            s->tx = 'T';
        }
        complete(s, "BEGIN");
        return 1;
    case K_COMMIT:
        if (describe_only) return 1;
        if (s->tx == 'I') {
            pgw_notice(s, "WARNING", "25P01", "there is no transaction in progress");
            complete(s, "COMMIT");
        } else if (s->tx == 'E') {
            rollback_transaction(s);
            complete(s, "ROLLBACK");
        } else {
            close_transaction_portals(s, false);
            /* WITH HOLD cursors outlive the transaction: their rows are kept now, and a
             * cursor with too many unread rows fails the COMMIT (54000). */
            if (pgw_park_portals(s, NULL, true) != 0) return -1;
            s->tx = 'I';
            int crc = duck_exec_plain(s, "COMMIT");
            pgw_settings_end_transaction(s, crc == 0);
            end_transaction_cursors(s, crc == 0);
            if (crc != 0) return -1;
            complete(s, "COMMIT");
        }
        return 1;
    case K_ROLLBACK:
        if (describe_only) return 1;
        if (s->tx == 'I') pgw_notice(s, "WARNING", "25P01", "there is no transaction in progress");
        else rollback_transaction(s);
        complete(s, "ROLLBACK");
        return 1;
    case K_SAVEPOINT:
        pgw_error(s, "ERROR", "0A000", "savepoints are not supported", 0);
        return -1;
    case K_LISTEN:
        if (describe_only) return 1;
        {
            char w[1][32];
            sqlscan_keywords(sql, len, w, 1);
            for (char *p = w[0]; *p; p++) *p = (char)(*p - 32 * (*p >= 'a' && *p <= 'z'));
            complete(s, w[0]); /* accepted, nothing to notify about */
        }
        return 1;
    case K_COPY_STDIO:
        pgw_error(s, "ERROR", "0A000", "COPY FROM STDIN / TO STDOUT is not supported yet", 0);
        return -1;
    default: {
        if (!describe_only) {
            int sc = pgw_settings_set_config(s, sql, len);
            if (sc) return sc;
        }
        int r = pgw_settings_statement(s, sql, len, describe_only);
        char w[1][32];
        if (r == 1 && !describe_only && sqlscan_keywords(sql, len, w, 1) == 1 && strcmp(w[0], "show") != 0)
            pgw_settings_sync_macro(s);
        return r;
    }
    }
}

/* ---- running DuckDB statements ---- */

/* Statements that can make the workspace bigger; refused once it is at its limit. */
static bool grows(int t) {
    return t == DUCKDB_STATEMENT_TYPE_INSERT || t == DUCKDB_STATEMENT_TYPE_UPDATE ||
           t == DUCKDB_STATEMENT_TYPE_CREATE || t == DUCKDB_STATEMENT_TYPE_ALTER || t == DUCKDB_STATEMENT_TYPE_COPY;
}

static void tag_for(pgw_session *s, const char *sql, size_t len, duckdb_statement_type t, bool changed,
                    uint64_t n, char *out, size_t outsz) {
    (void)s;
    char w[6][32];
    int nw = sqlscan_keywords(sql, len, w, 6);
    switch (t) {
    case DUCKDB_STATEMENT_TYPE_INSERT: snprintf(out, outsz, "INSERT 0 %llu", (unsigned long long)n); return;
    case DUCKDB_STATEMENT_TYPE_UPDATE: snprintf(out, outsz, "UPDATE %llu", (unsigned long long)n); return;
    case DUCKDB_STATEMENT_TYPE_DELETE:
        if (nw && !strcmp(w[0], "truncate")) snprintf(out, outsz, "TRUNCATE TABLE");
        else snprintf(out, outsz, "DELETE %llu", (unsigned long long)n);
        return;
    case DUCKDB_STATEMENT_TYPE_SELECT: snprintf(out, outsz, "SELECT %llu", (unsigned long long)n); return;
    default: break;
    }
    if (changed && t == DUCKDB_STATEMENT_TYPE_CREATE) { /* CREATE TABLE AS */
        snprintf(out, outsz, "SELECT %llu", (unsigned long long)n);
        return;
    }
    if (nw == 0) {
        snprintf(out, outsz, "OK");
        return;
    }
    /* "CREATE [OR REPLACE] [TEMP] TABLE" -> "CREATE TABLE"; "DROP VIEW" ... */
    static const char *skip[] = {"or", "replace", "temp", "temporary", "unique", "unlogged", "materialized", NULL};
    const char *obj = NULL;
    for (int i = 1; i < nw && !obj; i++) {
        bool sk = false;
        for (int k = 0; skip[k]; k++)
            if (!strcmp(w[i], skip[k])) sk = true;
        if (!sk) obj = w[i];
    }
    char a[32], b[32] = "";
    snprintf(a, sizeof a, "%s", w[0]);
    if (obj && (t == DUCKDB_STATEMENT_TYPE_CREATE || t == DUCKDB_STATEMENT_TYPE_DROP || t == DUCKDB_STATEMENT_TYPE_ALTER ||
                t == DUCKDB_STATEMENT_TYPE_CREATE_FUNC))
        snprintf(b, sizeof b, "%s", !strcmp(obj, "macro") ? "function" : obj);
    for (char *p = a; *p; p++) *p = (char)(*p - 32 * (*p >= 'a' && *p <= 'z'));
    for (char *p = b; *p; p++) *p = (char)(*p - 32 * (*p >= 'a' && *p <= 'z'));
    snprintf(out, outsz, "%s%s%s", a, b[0] ? " " : "", b);
}

/* Sends rows of the current chunk from portal->chunk_row on, fetching chunks until
 * max_rows (0: all) are sent or the result ends. Returns 1 when suspended (more rows),
 * 0 when done, -1 on an error (sent). */
static void result_error(pgw_session *s, duckdb_result *res);

/* Makes p->chunk the portal's next chunk: from the parked rest, else from DuckDB.
 * Returns 1, 0 at the end of the result, -1 on an error (sent). */
static int next_chunk(pgw_session *s, pgw_portal *p) {
    if (p->parked_pos < p->nparked) {
        struct pgw_parked *k = &p->parked[p->parked_pos++];
        p->chunk = k->chunk;
        k->chunk = NULL;
        s->parked_bytes -= k->bytes;
    } else if (p->parked_all) {
        p->chunk = NULL;
    } else {
        p->chunk = duckdb_fetch_chunk(p->res);
    }
    p->chunk_row = 0;
    if (p->chunk) return 1;
    if (duckdb_result_error(&p->res)) {
        result_error(s, &p->res);
        return -1;
    }
    return 0;
}

static int stream_rows(pgw_session *s, pgw_portal *p, int64_t max_rows, uint64_t *sent) {
    *sent = 0;
    for (;;) {
        if (!p->chunk) {
            int nc = next_chunk(s, p);
            if (nc <= 0) return nc;
        }
        idx_t n = duckdb_data_chunk_get_size(p->chunk);
        duckdb_vector *vecs = p->vecs;
        int nc = p->ncols;
        for (int c = 0; c < nc; c++) vecs[c] = duckdb_data_chunk_get_vector(p->chunk, (idx_t)c);
        while (p->chunk_row < n) {
            if (max_rows > 0 && (int64_t)*sent >= max_rows) return 1;
            idx_t row = p->chunk_row++;
            wire_wb_begin(&s->out, 'D');
            wire_wb_i16(&s->out, (int16_t)nc);
            for (int c = 0; c < nc; c++) {
                if (pgt_is_null(vecs[c], row)) {
                    wire_wb_i32(&s->out, -1);
                    continue;
                }
                s->cell.len = 0;
                if (col_format(p->formats, p->nformats, c) == 1) {
                    if (pgt_col_format_binary(&p->cols[c], vecs[c], row, &s->cell, &s->cell2) != 0) s->out.failed = true;
                } else if (pgt_col_format(&p->cols[c], vecs[c], row, &s->cell) != 0) {
                    s->out.failed = true;
                }
                wire_wb_i32(&s->out, (int32_t)s->cell.len);
                wire_wb_bytes(&s->out, s->cell.data, s->cell.len);
            }
            wire_wb_end(&s->out);
            (*sent)++;
            p->rows++;
        }
        duckdb_destroy_data_chunk(&p->chunk);
        p->chunk = NULL;
        /* Rows go out chunk by chunk; a client that is gone stops the query. */
        if (s->out.len >= PGW_FLUSH_AT && pgw_flush(s) != 0) {
            duckdb_interrupt(s->con);
            atomic_store(&s->cancel_reason, 3);
            return -1;
        }
    }
}

/* MOVE: like stream_rows, but the rows are passed over, not sent. */
static int skip_rows(pgw_session *s, pgw_portal *p, int64_t max_rows, uint64_t *skipped) {
    *skipped = 0;
    for (;;) {
        if (!p->chunk) {
            int nc = next_chunk(s, p);
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
static void result_error(pgw_session *s, duckdb_result *res) {
    int why = atomic_load(&s->cancel_reason);
    if (ws_conn_size_stopped(s->wc)) { /* the workspace's size guard interrupted it */
        char m[200];
        snprintf(m, sizeof m, "workspace size limit exceeded: the statement was stopped when the workspace grew past "
                              "its size limit of %lld GB", (long long)(s->w.size_limit_bytes >> 30));
        pgw_error(s, "ERROR", "53100", m, 0);
    } else if (why == 2) {
        pgw_error(s, "ERROR", "57014", "canceling statement due to statement timeout", 0);
    } else if (why == 1) {
        pgw_error(s, "ERROR", "57014", "canceling statement due to user request", 0);
    } else {
        ds_err e;
        ds_err_clear(&e);
        dberr_fail(&e, DS_E_INVALID_REQUEST, duckdb_result_error_type(res), duckdb_result_error(res));
        pgw_error_from(s, &e, 0);
    }
}

static void portal_clear_result(pgw_session *s, pgw_portal *p) {
    if (p->chunk) duckdb_destroy_data_chunk(&p->chunk);
    p->chunk = NULL;
    for (size_t i = p->parked_pos; i < p->nparked; i++) {
        duckdb_destroy_data_chunk(&p->parked[i].chunk);
        s->parked_bytes -= p->parked[i].bytes;
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

/* What a fetched chunk holds, roughly: 16 bytes a value, the bytes of strings too long
 * to be inlined, 48 more a value of a nested type. */
static size_t chunk_bytes(duckdb_data_chunk c) {
    idx_t rows = duckdb_data_chunk_get_size(c), ncols = duckdb_data_chunk_get_column_count(c);
    size_t b = (size_t)rows * (size_t)ncols * 16 + 64;
    for (idx_t i = 0; i < ncols; i++) {
        duckdb_vector v = duckdb_data_chunk_get_vector(c, i);
        duckdb_logical_type t = duckdb_vector_get_column_type(v);
        duckdb_type id = duckdb_get_type_id(t);
        duckdb_destroy_logical_type(&t);
        if (id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_STRUCT || id == DUCKDB_TYPE_MAP || id == DUCKDB_TYPE_ARRAY ||
            id == DUCKDB_TYPE_UNION) {
            b += (size_t)rows * 48;
        } else if (id == DUCKDB_TYPE_VARCHAR || id == DUCKDB_TYPE_BLOB) {
            duckdb_string_t *d = duckdb_vector_get_data(v);
            uint64_t *valid = duckdb_vector_get_validity(v);
            for (idx_t r = 0; d && r < rows; r++)
                if ((!valid || duckdb_validity_row_is_valid(valid, r)) && d[r].value.inlined.length > 12)
                    b += d[r].value.inlined.length;
        }
    }
    return b;
}

int pgw_park_portals(pgw_session *s, const pgw_portal *keep, bool report) {
    size_t limit = (size_t)s->srv->cfg->suspended_result_memory;
    for (pgw_portal *p = s->portals; p; p = p->next) {
        if (p == keep || !p->has_res || p->done || p->parked_all ||
            duckdb_result_return_type(p->res) != DUCKDB_RESULT_TYPE_QUERY_RESULT)
            continue;
        /* Memory is the price: PostgreSQL would keep the portal's executor instead. An
         * error in the rest of the result stays in p->res and is sent when reached. */
        while (s->parked_bytes <= limit) {
            if (p->nparked == p->parked_cap) { /* room first: a fetched chunk is never dropped */
                size_t ncap = p->parked_cap ? p->parked_cap * 2 : 16;
                struct pgw_parked *np = realloc(p->parked, ncap * sizeof *np);
                if (!np) {
                    if (report) pgw_error(s, "ERROR", "53200", "out of memory keeping the rest of a cursor", 0);
                    return -1;
                }
                p->parked = np;
                p->parked_cap = ncap;
            }
            duckdb_data_chunk c = duckdb_fetch_chunk(p->res);
            if (!c) {
                p->parked_all = true;
                break;
            }
            size_t b = chunk_bytes(c);
            p->parked[p->nparked++] = (struct pgw_parked){c, b};
            s->parked_bytes += b;
        }
        if (!p->parked_all) {
            if (report) {
                char m[400];
                snprintf(m, sizeof m,
                         "cannot run another statement while %s \"%.100s\" has more than %lld MB of rows unread "
                         "(setting suspended_result_memory): fetch the rest or close it first",
                         p->owns_stmt ? "cursor" : "portal", p->name ? p->name : "", (long long)(limit >> 20));
                pgw_error(s, "ERROR", "54000", m, 0);
            }
            return -1;
        }
    }
    return 0;
}

static void begin_running(pgw_session *s) {
    atomic_store(&s->cancel_reason, 0);
    int64_t t = s->statement_timeout_ms;
    double dl = s->msg_deadline_ms > 0 ? s->msg_deadline_ms : t > 0 ? pgw_now_ms() + (double)t : 0;
    atomic_store(&s->deadline_ms, (long long)dl);
    atomic_store(&s->running, true);
    atomic_fetch_add(&s->query_count, 1);
    ws_conn_begin(s->wc);
}

static void end_running(pgw_session *s) {
    atomic_store(&s->running, false);
    atomic_store(&s->deadline_ms, 0);
    ws_conn_end(s->wc);
}

/* Starts executing stmt for portal p (streaming). Returns 0, or -1 with an error sent. */
static int start_portal(pgw_session *s, pgw_portal *p) {
    if (grows(p->stmt->runs) && ws_size_reached(s->inst)) {
        char m[200];
        snprintf(m, sizeof m, "could not extend the workspace: its size limit of %lld GB is reached",
                 (long long)(s->w.size_limit_bytes >> 30));
        pgw_error(s, "ERROR", "53100", m, 0);
        return -1;
    }
    if (p->stmt->bound_by != p && p->bind_body) {
        pgx_bind_msg m;
        if (pgx_parse_bind(p->bind_body, p->bind_len, &m) != 0) {
            pgw_error(s, "ERROR", "XX000", "the portal's parameters could not be bound again", 0);
            return -1;
        }
        int brc = bind_values(s, p->stmt, &m);
        pgx_bind_msg_free(&m);
        if (brc != 0) return -1;
        p->stmt->bound_by = p;
    }
    if (pgw_park_portals(s, p, true) != 0) return -1;
    begin_running(s);
    duckdb_state st = duckdb_execute_prepared_streaming(p->stmt->st, &p->res);
    p->has_res = true;
    p->started = true;
    if (st == DuckDBError) {
        result_error(s, &p->res);
        end_running(s);
        return -1;
    }
    if (too_wide(s, duckdb_column_count(&p->res))) {
        end_running(s);
        return -1;
    }
    int nc = (int)duckdb_column_count(&p->res);
    p->cols = calloc((size_t)(nc ? nc : 1), sizeof *p->cols);
    p->vecs = calloc((size_t)(nc ? nc : 1), sizeof *p->vecs);
    if (!p->cols || !p->vecs) {
        pgw_error(s, "ERROR", "53200", "out of memory", 0);
        end_running(s);
        return -1;
    }
    p->ncols = nc;
    for (int i = 0; i < p->ncols; i++) {
        duckdb_logical_type lt = duckdb_column_logical_type(&p->res, (idx_t)i);
        pgt_col_init(&p->cols[i], lt);
        pgt_col_set_tz(&p->cols[i], s->tz);
        duckdb_destroy_logical_type(&lt);
        if (duckdb_result_return_type(p->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT &&
            col_format(p->formats, p->nformats, i) == 1 && !pgt_col_binary_ok(&p->cols[i])) {
            char m[200];
            snprintf(m, sizeof m, "binary format is not supported for result column %d (\"%.80s\"): ask for text", i + 1,
                     duckdb_column_name(&p->res, (idx_t)i));
            pgw_error(s, "ERROR", "0A000", m, 0);
            end_running(s);
            return -1;
        }
    }
    return 0;
}

/* Runs/continues a DuckDB portal: rows (up to max_rows) then CommandComplete, or
 * PortalSuspended. send_desc: a RowDescription goes first (simple protocol). */
static int run_portal(pgw_session *s, pgw_portal *p, int64_t max_rows, bool send_desc) {
    if (!p->started && start_portal(s, p) != 0) return -1;
    atomic_store(&s->running, true); /* also when resuming a suspended portal */
    duckdb_result_type rt = duckdb_result_return_type(p->res);
    duckdb_statement_type t = duckdb_prepared_statement_type(p->stmt->st);
    char tag[64];
    if (rt == DUCKDB_RESULT_TYPE_QUERY_RESULT) {
        if (send_desc && p->rows == 0) row_description(s, p->ncols, res_name, res_type, &p->res);
        uint64_t sent = 0;
        int r = stream_rows(s, p, max_rows, &sent);
        if (r < 0) {
            end_running(s);
            return -1;
        }
        if (r == 1) {
            simple_msg(s, 's'); /* PortalSuspended */
            end_running(s);
            return 0;
        }
        /* Like PostgreSQL: the rows of this Execute (all of them unless resumed). */
        tag_for(s, p->stmt->sql, strlen(p->stmt->sql), t == DUCKDB_STATEMENT_TYPE_INSERT ||
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
                result_error(s, &p->res);
                end_running(s);
                return -1;
            }
        }
        tag_for(s, p->stmt->sql, strlen(p->stmt->sql), t, changed, n, tag, sizeof tag);
    }
    end_running(s);
    p->done = true;
    complete(s, tag);
    return 0;
}

/* ---- simple query ---- */

typedef struct {
    pgw_session *s;
    const char *sql;
    bool failed;
    unsigned cancels; /* s->cancel_seq when the message arrived */
} simple_ctx;

/* As in PostgreSQL, statement_timeout and a cancel request apply to the whole Query
 * message: a script of many statements (each cheap, or each costly to parse, which
 * DuckDB cannot interrupt) stops at the next statement once either has struck. */
static bool script_stopped(simple_ctx *c) {
    pgw_session *s = c->s;
    const char *why = NULL;
    /* A SET earlier in the message starts the timeout from here (PostgreSQL's
     * enable_statement_timeout: armed if it is not running yet). */
    if (s->msg_deadline_ms <= 0 && s->statement_timeout_ms > 0)
        s->msg_deadline_ms = pgw_now_ms() + (double)s->statement_timeout_ms;
    if (atomic_load(&s->cancel_seq) != c->cancels) why = "canceling statement due to user request";
    else if (s->msg_deadline_ms > 0 && pgw_now_ms() >= s->msg_deadline_ms)
        why = "canceling statement due to statement timeout";
    if (!why) return false;
    pgw_error(s, "ERROR", "57014", why, 0);
    c->failed = true;
    return true;
}

static void simple_one(void *ud, size_t start, size_t n) {
    simple_ctx *c = ud;
    pgw_session *s = c->s;
    if (c->failed || script_stopped(c)) return;
    const char *text = c->sql + start;
    if (s->tx == 'E') {
        kw_kind k = classify(text, n);
        if (k != K_ROLLBACK && k != K_COMMIT) {
            pgw_error(s, "ERROR", "25P02", "current transaction is aborted, commands ignored until end of transaction block",
                      0);
            c->failed = true;
            return;
        }
    }
    int lr = local_statement(s, text, n, false);
    if (lr != 0) {
        if (lr < 0) c->failed = true;
        return;
    }
    char *sql = strndup(text, n);
    if (!sql) {
        pgw_error(s, "ERROR", "53200", "out of memory", 0);
        c->failed = true;
        return;
    }
    pgw_stmt st = {.sql = sql, .kind = STMT_DUCK};
    ds_err e;
    ds_err_clear(&e);
    if (pgw_park_portals(s, NULL, true) != 0) {
        c->failed = true;
        free(sql);
        return;
    }
    pgw_session_macros(s, sql, n);
    if (ws_prepare(s->wc, sql, &st.st, &st.runs, &e) != 0) {
        /* Positions are counted in the whole query string. */
        pgw_error_from(s, &e, (int)start);
        c->failed = true;
        free(sql);
        return;
    }
    pgw_portal p = {.stmt = &st};
    if (run_portal(s, &p, 0, true) != 0) c->failed = true;
    portal_clear_result(s, &p);
    duckdb_destroy_prepare(&st.st);
    free(sql);
}

void pgw_simple_query(pgw_session *s, const char *sql, size_t len) {
    simple_ctx c = {.s = s, .sql = sql, .cancels = atomic_load(&s->cancel_seq)};
    s->msg_deadline_ms = s->statement_timeout_ms > 0 ? pgw_now_ms() + (double)s->statement_timeout_ms : 0;
    int n = sqlscan_split(sql, len, simple_one, &c);
    s->msg_deadline_ms = 0;
    if (n == 0) simple_msg(s, 'I'); /* EmptyQueryResponse */
    if (c.failed && s->tx == 'T') s->tx = 'E';
    pgw_ready(s);
}

/* ---- extended protocol ---- */

static pgw_stmt *find_stmt(pgw_session *s, const char *name) {
    for (pgw_stmt *t = s->stmts; t; t = t->next)
        if (!strcmp(t->name, name)) return t;
    return NULL;
}

static pgw_portal *find_portal(pgw_session *s, const char *name) {
    for (pgw_portal *p = s->portals; p; p = p->next)
        if (!strcmp(p->name, name)) return p;
    return NULL;
}

static void free_portal(pgw_session *s, pgw_portal *p) {
    for (pgw_portal **pp = &s->portals; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    portal_clear_result(s, p);
    free(p->bind_body);
    if (p->stmt && p->stmt->bound_by == p) p->stmt->bound_by = NULL;
    if (p->owns_stmt && p->stmt) {
        if (p->stmt->st) duckdb_destroy_prepare(&p->stmt->st);
        free(p->stmt->sql);
        free(p->stmt->name);
        free(p->stmt);
    } else if (p->stmt && --p->stmt->nportals == 0 && p->stmt->unlinked) {
        destroy_stmt(p->stmt);
    }
    free(p->formats);
    free(p->name);
    free(p);
}

static void destroy_stmt(pgw_stmt *t) {
    if (t->st) duckdb_destroy_prepare(&t->st);
    free(t->param_types);
    free(t->param_oids);
    free(t->sql);
    free(t->name);
    free(t);
}

static void unlink_stmt(pgw_session *s, pgw_stmt *t) {
    for (pgw_stmt **pp = &s->stmts; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
}

/* Close, DEALLOCATE: the statement and the portals made from it. */
static void free_stmt(pgw_session *s, pgw_stmt *t) {
    for (pgw_portal *p = s->portals, *next; p; p = next) {
        next = p->next;
        if (p->stmt == t && !p->owns_stmt) {
            p->stmt->nportals--;
            p->stmt = NULL;
            free_portal(s, p);
        }
    }
    unlink_stmt(s, t);
    destroy_stmt(t);
}

/* A Parse into the unnamed statement: the old one's portals keep running. */
static void replace_unnamed_stmt(pgw_session *s, pgw_stmt *t) {
    unlink_stmt(s, t);
    if (t->nportals > 0) t->unlinked = true;
    else destroy_stmt(t);
}

void pgw_free_statements(pgw_session *s) {
    while (s->portals) free_portal(s, s->portals);
    while (s->stmts) free_stmt(s, s->stmts);
}

/* ERROR "<what> "<name>" does not exist" with sqlstate; returns -1. */
static int missing(pgw_session *s, const char *what, const char *name, const char *sqlstate) {
    char m[200];
    snprintf(m, sizeof m, "%s \"%.100s\" does not exist", what, name);
    pgw_error(s, "ERROR", sqlstate, m, 0);
    return -1;
}

static int protocol_error(pgw_session *s, const char *what) {
    char m[128];
    snprintf(m, sizeof m, "invalid %s message", what);
    pgw_error(s, "ERROR", "08P01", m, 0);
    return -1;
}

typedef struct {
    int count;
    size_t first_start, first_len;
} count_ctx;

static void count_one(void *ud, size_t start, size_t n) {
    count_ctx *c = ud;
    if (c->count++ == 0) {
        c->first_start = start;
        c->first_len = n;
    }
}

static bool unresolved(pgw_stmt *t) { return t->unresolved; }

/* Judged at Parse: once a value is bound, DuckDB reports the value's type instead. */
static bool params_unresolved(duckdb_prepared_statement st) {
    for (idx_t i = 1; i <= duckdb_nparams(st); i++)
        if (duckdb_param_type(st, i) == DUCKDB_TYPE_INVALID) return true;
    return false;
}

static int do_parse(pgw_session *s, const uint8_t *body, size_t len) {
    pgx_parse_msg pm;
    if (pgx_parse_parse(body, len, &pm) != 0) {
        free(pm.oids);
        return protocol_error(s, "Parse");
    }
    const char *name = pm.name, *query = pm.query;
    int np = pm.noids;
    uint32_t *oids = pm.oids ? pm.oids : calloc(1, sizeof *oids);
    if (!oids) return protocol_error(s, "Parse");
    if (*name && find_stmt(s, name)) {
        free(oids);
        char m[200];
        snprintf(m, sizeof m, "prepared statement \"%.100s\" already exists", name);
        pgw_error(s, "ERROR", "42P05", m, 0);
        return -1;
    }
    if (!*name && find_stmt(s, "")) replace_unnamed_stmt(s, find_stmt(s, ""));
    count_ctx cc = {0};
    sqlscan_split(query, strlen(query), count_one, &cc);
    if (cc.count > 1) {
        free(oids);
        pgw_error(s, "ERROR", "42601", "cannot insert multiple commands into a prepared statement", 0);
        return -1;
    }
    pgw_stmt *t = calloc(1, sizeof *t);
    if (!t) {
        free(oids);
        return protocol_error(s, "Parse");
    }
    t->name = strdup(name);
    t->sql = strdup(query);
    t->param_oids = oids;
    t->nparams = np;
    if (cc.count == 0) {
        t->kind = STMT_EMPTY;
    } else {
        /* Transaction control and settings run here; their text is enough. */
        char w[2][32];
        sqlscan_keywords(query, strlen(query), w, 2);
        bool local = classify(query, strlen(query)) != K_OTHER || !strcmp(w[0], "set") || !strcmp(w[0], "reset") ||
                     (!strcmp(w[0], "show") && pgw_setting_get(s, w[1])) ||
                     (!strcmp(w[0], "select") && (!strcmp(w[1], "set_config") || !strcmp(w[1], "pg_catalog")) &&
                      strcasestr(query, "set_config"));
        if (local) {
            t->kind = STMT_LOCAL;
        } else {
            ds_err e;
            ds_err_clear(&e);
            int prc = pgw_park_portals(s, NULL, true);
            if (prc == 0) pgw_session_macros(s, t->sql, strlen(t->sql));
            if (prc != 0 || ws_prepare(s->wc, t->sql, &t->st, &t->runs, &e) != 0) {
                if (prc == 0) pgw_error_from(s, &e, 0);
                free(t->name);
                free(t->sql);
                free(oids);
                free(t);
                return -1;
            }
            t->kind = STMT_DUCK;
            t->unresolved = params_unresolved(t->st);
            /* The parameter types DuckDB inferred, before any value is bound. */
            idx_t npar = duckdb_nparams(t->st);
            t->param_types = calloc(npar ? npar : 1, sizeof *t->param_types);
            for (idx_t k = 0; t->param_types && k < npar; k++) t->param_types[k] = duckdb_param_type(t->st, k + 1);
            int n = (int)duckdb_nparams(t->st);
            if (n > t->nparams) {
                uint32_t *g = realloc(t->param_oids, (size_t)n * sizeof *g);
                if (g) {
                    for (int i = t->nparams; i < n; i++) g[i] = 0;
                    t->param_oids = g;
                    t->nparams = n;
                }
            }
        }
    }
    t->next = s->stmts;
    s->stmts = t;
    simple_msg(s, '1'); /* ParseComplete */
    return 0;
}

/* Binds one parameter value (text or, for a few types, binary). */
/* A text parameter for an integer or floating-point slot, bound with its own type:
 * binding VARCHAR to an INTEGER parameter makes DuckDB re-plan the statement at every
 * execution (ClientContext::RebindPreparedStatement; measured with DuckDB 1.4.4).
 * Returns 1 when bound, 0 when the text is not a plain number (DuckDB then casts it). */
static int bind_text_typed(pgw_stmt *t, idx_t idx, const uint8_t *v, int32_t len) {
    if (len <= 0 || len > 40) return 0;
    char buf[48];
    memcpy(buf, v, (size_t)len);
    buf[len] = '\0';
    char *end;
    switch (t->param_types ? t->param_types[idx - 1] : DUCKDB_TYPE_INVALID) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: {
        errno = 0;
        long long n = strtoll(buf, &end, 10);
        if (errno || end == buf || *end) return 0;
        duckdb_type pt = t->param_types[idx - 1];
        duckdb_state st = pt == DUCKDB_TYPE_BIGINT ? duckdb_bind_int64(t->st, idx, n)
                          : pt == DUCKDB_TYPE_INTEGER && n >= INT32_MIN && n <= INT32_MAX ? duckdb_bind_int32(t->st, idx, (int32_t)n)
                          : pt == DUCKDB_TYPE_SMALLINT && n >= INT16_MIN && n <= INT16_MAX ? duckdb_bind_int16(t->st, idx, (int16_t)n)
                          : pt == DUCKDB_TYPE_TINYINT && n >= INT8_MIN && n <= INT8_MAX ? duckdb_bind_int8(t->st, idx, (int8_t)n)
                                                                                         : DuckDBError;
        return st == DuckDBSuccess;
    }
    case DUCKDB_TYPE_DOUBLE: {
        errno = 0;
        double d = strtod(buf, &end);
        if (errno || end == buf || *end) return 0;
        return duckdb_bind_double(t->st, idx, d) == DuckDBSuccess;
    }
    default:
        return 0;
    }
}

static int bind_param(pgw_session *s, pgw_stmt *t, int i, int16_t fmt, const uint8_t *v, int32_t len) {
    idx_t idx = (idx_t)i + 1;
    if (len < 0) return duckdb_bind_null(t->st, idx) == DuckDBSuccess ? 0 : -1;
    if (fmt == 0 && bind_text_typed(t, idx, v, len)) return 0;
    if (fmt == 0) return duckdb_bind_varchar_length(t->st, idx, (const char *)v, (idx_t)len) == DuckDBSuccess ? 0 : -1;
    uint32_t oid = i < t->nparams ? t->param_oids[i] : 0;
    int64_t iv = 0;
    for (int k = 0; k < len && k < 8; k++) iv = (int64_t)(((uint64_t)iv << 8) | v[k]);
    switch (oid) {
    case 16: return len == 1 ? (duckdb_bind_boolean(t->st, idx, v[0] != 0) == DuckDBSuccess ? 0 : -1) : -1;
    case 21: return len == 2 ? (duckdb_bind_int16(t->st, idx, (int16_t)iv) == DuckDBSuccess ? 0 : -1) : -1;
    case 23: return len == 4 ? (duckdb_bind_int32(t->st, idx, (int32_t)iv) == DuckDBSuccess ? 0 : -1) : -1;
    case 20: return len == 8 ? (duckdb_bind_int64(t->st, idx, iv) == DuckDBSuccess ? 0 : -1) : -1;
    case 700: {
        if (len != 4) return -1;
        uint32_t u = (uint32_t)iv;
        float f;
        memcpy(&f, &u, 4);
        return duckdb_bind_float(t->st, idx, f) == DuckDBSuccess ? 0 : -1;
    }
    case 701: {
        if (len != 8) return -1;
        uint64_t u = (uint64_t)iv;
        double d;
        memcpy(&d, &u, 8);
        return duckdb_bind_double(t->st, idx, d) == DuckDBSuccess ? 0 : -1;
    }
    case 17: return duckdb_bind_blob(t->st, idx, v, (idx_t)len) == DuckDBSuccess ? 0 : -1;
    case 25:
    case 1043:
    case 0: return duckdb_bind_varchar_length(t->st, idx, (const char *)v, (idx_t)len) == DuckDBSuccess ? 0 : -1;
    default: (void)s; return -2;
    }
}

/* Binds Bind's parameter values into t's DuckDB statement; -1 with an error sent. */
static int bind_values(pgw_session *s, pgw_stmt *t, const pgx_bind_msg *m) {
    duckdb_clear_bindings(t->st);
    for (int i = 0; i < m->nparams; i++) {
        int br = bind_param(s, t, i, pgx_bind_param_format(m, i), m->values[i], m->lengths[i]);
        if (br != 0) {
            char msg[120];
            snprintf(msg, sizeof msg,
                     br == -2 ? "binary format is not supported for parameter $%d" : "invalid value for parameter $%d",
                     i + 1);
            pgw_error(s, "ERROR", br == -2 ? "0A000" : "22P02", msg, 0);
            return -1;
        }
    }
    return 0;
}

static int do_bind(pgw_session *s, const uint8_t *body, size_t len) {
    pgx_bind_msg m;
    if (pgx_parse_bind(body, len, &m) != 0) return protocol_error(s, "Bind");
    int rc = -1;
    pgw_stmt *t = find_stmt(s, m.stmt);
    char msg[200];
    if (!t) {
        snprintf(msg, sizeof msg, "prepared statement \"%.100s\" does not exist", m.stmt);
        pgw_error(s, "ERROR", "26000", msg, 0);
        goto out;
    }
    if (t->kind == STMT_DUCK && m.nparams != (int)duckdb_nparams(t->st)) {
        snprintf(msg, sizeof msg, "bind message supplies %d parameters, but prepared statement \"%.100s\" requires %d",
                 m.nparams, m.stmt, (int)duckdb_nparams(t->st));
        pgw_error(s, "ERROR", "08P01", msg, 0);
        goto out;
    }
    if (t->kind == STMT_DUCK && bind_values(s, t, &m) != 0) goto out;
    pgw_portal *old = find_portal(s, m.portal);
    if (old) {
        if (*m.portal) {
            snprintf(msg, sizeof msg, "portal \"%.100s\" already exists", m.portal);
            pgw_error(s, "ERROR", "42P03", msg, 0);
            goto out;
        }
        free_portal(s, old);
    }
    pgw_portal *p = calloc(1, sizeof *p);
    if (!p || !(p->name = strdup(m.portal))) {
        free(p);
        pgw_error(s, "ERROR", "53200", "out of memory", 0);
        goto out;
    }
    p->stmt = t;
    t->nportals++;
    p->nformats = m.nresults;
    p->formats = m.results; /* taken */
    m.results = NULL;
    if (t->kind == STMT_DUCK && m.nparams > 0) {
        /* The values live in the DuckDB statement, which other portals of it may bind
         * again before this one runs: keep the message to bind them again then. */
        p->bind_body = malloc(len ? len : 1);
        if (!p->bind_body) {
            free_portal(s, p);
            pgw_error(s, "ERROR", "53200", "out of memory", 0);
            goto out;
        }
        memcpy(p->bind_body, body, len);
        p->bind_len = len;
    }
    t->bound_by = p;
    p->next = s->portals;
    s->portals = p;
    simple_msg(s, '2'); /* BindComplete */
    rc = 0;
out:
    pgx_bind_msg_free(&m);
    return rc;
}

static bool returns_rows(pgw_stmt *t) {
    duckdb_statement_type st = duckdb_prepared_statement_type(t->st);
    idx_t n = duckdb_prepared_statement_column_count(t->st);
    if (n == 0) return false;
    if (st == DUCKDB_STATEMENT_TYPE_INSERT || st == DUCKDB_STATEMENT_TYPE_UPDATE || st == DUCKDB_STATEMENT_TYPE_DELETE) {
        char *nm = (char *)duckdb_prepared_statement_column_name(t->st, 0); /* owned */
        bool count_only = n == 1 && nm && !strcmp(nm, "Count");
        duckdb_free(nm);
        return !count_only;
    }
    return st == DUCKDB_STATEMENT_TYPE_SELECT || st == DUCKDB_STATEMENT_TYPE_EXPLAIN || st == DUCKDB_STATEMENT_TYPE_CALL ||
           st == DUCKDB_STATEMENT_TYPE_PRAGMA;
}

/* DuckDB cannot give result columns of a statement whose parameter types it could not
 * infer ("SELECT $1, $2::int" reports one column): measured with DuckDB 1.4.4. */


/* Columns of a SELECT with unresolved parameters: run it wrapped in LIMIT 0 with NULLs. */
static int describe_by_running(pgw_session *s, pgw_stmt *t) {
    sb q;
    sb_init(&q);
    sb_printf(&q, "SELECT * FROM (%s\n) AS _describe LIMIT 0", t->sql);
    duckdb_prepared_statement st = NULL;
    ds_err e;
    ds_err_clear(&e);
    int rc = sb_failed(&q) || pgw_park_portals(s, NULL, false) != 0 ? -1 : ws_prepare(s->wc, q.data, &st, NULL, &e);
    sb_free(&q);
    if (rc) return -1;
    for (idx_t i = 1; i <= duckdb_nparams(st); i++) duckdb_bind_null(st, i);
    duckdb_result r;
    if (duckdb_execute_prepared(st, &r) == DuckDBError) {
        duckdb_destroy_result(&r);
        duckdb_destroy_prepare(&st);
        return -1;
    }
    row_description(s, (int)duckdb_column_count(&r), res_name, res_type, &r);
    duckdb_destroy_result(&r);
    duckdb_destroy_prepare(&st);
    return 0;
}

/* The RowDescription (or NoData) of statement t; -1 with an error sent. */
static int describe_stmt_rows(pgw_session *s, pgw_stmt *t) {
    char w0[2][32];
    if (t->kind == STMT_LOCAL && sqlscan_keywords(t->sql, strlen(t->sql), w0, 1) == 1 && !strcmp(w0[0], "select")) {
        static const char *const col[] = {"set_config"}; /* SELECT set_config(...): one text column */
        pgw_text_row_description(s, 1, col);
        return 0;
    }
    if (t->kind == STMT_LOCAL) {
        if (pgw_settings_statement(s, t->sql, strlen(t->sql), true) == 1) {
            char w[1][32];
            sqlscan_keywords(t->sql, strlen(t->sql), w, 1);
            if (!strcmp(w[0], "show")) return 0; /* RowDescription written */
        }
        simple_msg(s, 'n');
        return 0;
    }
    if (t->kind == STMT_EMPTY || !returns_rows(t)) {
        simple_msg(s, 'n'); /* NoData */
        return 0;
    }
    if (unresolved(t) && duckdb_prepared_statement_type(t->st) == DUCKDB_STATEMENT_TYPE_SELECT &&
        describe_by_running(s, t) == 0)
        return 0;
    if (too_wide(s, duckdb_prepared_statement_column_count(t->st))) return -1;
    row_description(s, (int)duckdb_prepared_statement_column_count(t->st), st_name, st_type, &t->st);
    return 0;
}

static int do_describe(pgw_session *s, wire_rd *r) {
    uint8_t kind;
    const char *name;
    if (!wire_rd_u8(r, &kind) || !wire_rd_cstr(r, &name) || (kind != 'S' && kind != 'P')) return protocol_error(s, "Describe");
    if (kind == 'S') {
        pgw_stmt *t = find_stmt(s, name);
        if (!t) return missing(s, "prepared statement", name, "26000");
        wire_wb_begin(&s->out, 't'); /* ParameterDescription */
        wire_wb_i16(&s->out, (int16_t)t->nparams);
        for (int i = 0; i < t->nparams; i++) {
            uint32_t oid = t->param_oids[i];
            if (!oid && t->kind == STMT_DUCK) {
                duckdb_logical_type lt = duckdb_param_logical_type(t->st, (idx_t)i + 1);
                oid = lt ? pgt_oid(lt) : 25;
                if (lt && duckdb_get_type_id(lt) == DUCKDB_TYPE_INVALID) oid = 25;
                if (lt) duckdb_destroy_logical_type(&lt);
            }
            wire_wb_i32(&s->out, (int32_t)(oid ? oid : 25));
        }
        wire_wb_end(&s->out);
        return describe_stmt_rows(s, t);
    }
    pgw_portal *p = find_portal(s, name);
    if (!p) return missing(s, "portal", name, "34000");
    pgw_stmt *t = p->stmt;
    if (t->kind == STMT_DUCK && unresolved(t) && returns_rows(t)) {
        /* The bound values decide the columns: start the portal, describe its result. */
        if (!p->started && start_portal(s, p) != 0) return -1;
        end_running(s);
        if (duckdb_result_return_type(p->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT)
            row_description_f(s, p->ncols, res_name, res_type, &p->res, p->formats, p->nformats);
        else
            simple_msg(s, 'n');
        return 0;
    }
    if (t->kind == STMT_DUCK && returns_rows(t)) {
        if (too_wide(s, duckdb_prepared_statement_column_count(t->st))) return -1;
        row_description_f(s, (int)duckdb_prepared_statement_column_count(t->st), st_name, st_type, &t->st, p->formats,
                          p->nformats);
        return 0;
    }
    return describe_stmt_rows(s, t);
}

static int do_execute(pgw_session *s, wire_rd *r) {
    const char *name;
    int32_t max;
    if (!wire_rd_cstr(r, &name) || !wire_rd_i32(r, &max)) return protocol_error(s, "Execute");
    pgw_portal *p = find_portal(s, name);
    if (!p) return missing(s, "portal", name, "34000");
    pgw_stmt *t = p->stmt;
    if (s->tx == 'E') {
        kw_kind k = t->kind == STMT_LOCAL ? classify(t->sql, strlen(t->sql)) : K_OTHER;
        if (k != K_ROLLBACK && k != K_COMMIT) {
            pgw_error(s, "ERROR", "25P02", "current transaction is aborted, commands ignored until end of transaction block",
                      0);
            return -1;
        }
    }
    if (t->kind == STMT_EMPTY) {
        simple_msg(s, 'I');
        return 0;
    }
    if (t->kind == STMT_LOCAL) {
        s->in_execute = true;
        int lr = local_statement(s, t->sql, strlen(t->sql), false);
        s->in_execute = false;
        if (lr == 0) {
            pgw_error(s, "ERROR", "0A000", "this statement is not supported in the extended query protocol", 0);
            return -1;
        }
        return lr < 0 ? -1 : 0;
    }
    if (p->done) {
        complete(s, "SELECT 0");
        return 0;
    }
    return run_portal(s, p, max > 0 ? max : 0, false);
}

static int do_close(pgw_session *s, wire_rd *r) {
    uint8_t kind;
    const char *name;
    if (!wire_rd_u8(r, &kind) || !wire_rd_cstr(r, &name) || (kind != 'S' && kind != 'P')) return protocol_error(s, "Close");
    if (kind == 'S') {
        pgw_stmt *t = find_stmt(s, name);
        if (t) free_stmt(s, t);
    } else {
        pgw_portal *p = find_portal(s, name);
        if (p) free_portal(s, p);
    }
    simple_msg(s, '3'); /* CloseComplete */
    return 0;
}

int pgw_extended(pgw_session *s, char type, const uint8_t *body, size_t len) {
    if (type == 'S') { /* Sync */
        /* The unnamed portal ends at Sync; a failed implicit transaction is over. */
        pgw_portal *p = find_portal(s, "");
        if (p) free_portal(s, p);
        if (s->ext_error && s->tx == 'T') s->tx = 'E';
        s->ext_error = false;
        pgw_ready(s);
        return pgw_flush(s);
    }
    if (type == 'H') return pgw_flush(s); /* Flush */
    if (s->ext_error) return 0;           /* discard until Sync */
    wire_rd r;
    wire_rd_init(&r, body, len);
    int rc;
    switch (type) {
    case 'P': rc = do_parse(s, body, len); break;
    case 'B': rc = do_bind(s, body, len); break;
    case 'D': rc = do_describe(s, &r); break;
    case 'E': rc = do_execute(s, &r); break;
    case 'C': rc = do_close(s, &r); break;
    default: rc = protocol_error(s, "frontend");
    }
    if (rc != 0) s->ext_error = true;
    if (s->out.len >= PGW_FLUSH_AT) return pgw_flush(s);
    return 0;
}

/* ---- SQL cursors (DECLARE / FETCH / MOVE / CLOSE), as portals by that name ---- */

/* Next token: a bare word (lower-cased) or a "quoted identifier"; returns the end. */
static const char *next_token(const char *p, const char *end, char *out, size_t outsz, bool *quoted) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    size_t o = 0;
    *quoted = false;
    if (p < end && *p == '"') {
        *quoted = true;
        p = sqlscan_read_quoted(p, end, out, outsz, &o);
    } else {
        while (p < end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') {
            if (o + 1 < outsz) out[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            p++;
        }
    }
    out[o] = '\0';
    return p;
}

static int cursor_statement(pgw_session *s, kw_kind k, const char *sql, size_t len) {
    const char *p = sql, *end = sql + len;
    char tok[128], name[128] = "";
    bool q;
    p = next_token(p, end, tok, sizeof tok, &q); /* the verb */
    if (k == K_DECLARE) {
        p = next_token(p, end, name, sizeof name, &q);
        /* ... [BINARY] [[NO] SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR <query> */
        bool hold = false, with = false;
        while (p < end) {
            p = next_token(p, end, tok, sizeof tok, &q);
            if (!q && !strcmp(tok, "for")) break;
            if (!*tok) break;
            if (!q && !strcmp(tok, "hold")) hold = with;
            with = !q && !strcmp(tok, "with");
        }
        if (!*name || p >= end) {
            pgw_error(s, "ERROR", "42601", "syntax error in DECLARE: expected DECLARE name CURSOR FOR query", 0);
            return -1;
        }
        if (!hold && s->tx == 'I') {
            pgw_error(s, "ERROR", "25P01", "DECLARE CURSOR can only be used in transaction blocks", 0);
            return -1;
        }
        if (find_portal(s, name)) {
            char m[200];
            snprintf(m, sizeof m, "cursor \"%.100s\" already exists", name);
            pgw_error(s, "ERROR", "42P03", m, 0);
            return -1;
        }
        pgw_stmt *t = calloc(1, sizeof *t);
        pgw_portal *pt = calloc(1, sizeof *pt);
        if (!t || !pt || !(t->sql = strndup(p, (size_t)(end - p))) || !(t->name = strdup("")) ||
            !(pt->name = strdup(name))) {
            free(t ? t->sql : NULL);
            free(t ? t->name : NULL);
            free(t);
            free(pt);
            pgw_error(s, "ERROR", "53200", "out of memory", 0);
            return -1;
        }
        ds_err e;
        ds_err_clear(&e);
        int prc = pgw_park_portals(s, NULL, true);
        if (prc != 0 || ws_prepare(s->wc, t->sql, &t->st, &t->runs, &e) != 0) {
            if (prc == 0) pgw_error_from(s, &e, (int)(p - sql));
            free(t->sql);
            free(t->name);
            free(t);
            free(pt->name);
            free(pt);
            return -1;
        }
        t->kind = STMT_DUCK;
        pt->stmt = t;
        pt->owns_stmt = true;
        pt->hold = hold;
        pt->hold_pending = hold && s->tx != 'I'; /* kept only if its transaction commits */
        pt->next = s->portals;
        s->portals = pt;
        complete(s, "DECLARE CURSOR");
        return 1;
    }
    if (k == K_CLOSE) {
        p = next_token(p, end, name, sizeof name, &q);
        if (!q && !strcmp(name, "all")) {
            for (pgw_portal *pt = s->portals, *nx; pt; pt = nx) {
                nx = pt->next;
                if (pt->owns_stmt) free_portal(s, pt);
            }
        } else {
            pgw_portal *pt = find_portal(s, name);
            if (!pt) {
                char m[200];
                snprintf(m, sizeof m, "cursor \"%.100s\" does not exist", name);
                pgw_error(s, "ERROR", "34000", m, 0);
                return -1;
            }
            free_portal(s, pt);
        }
        complete(s, "CLOSE CURSOR");
        return 1;
    }
    /* FETCH|MOVE [FORWARD|NEXT] [count|ALL] [FROM|IN] name */
    int64_t count = 1;
    bool all = false;
    for (;;) {
        const char *before = p;
        p = next_token(p, end, tok, sizeof tok, &q);
        if (!*tok) {
            p = before;
            break;
        }
        if (!q && (!strcmp(tok, "forward") || !strcmp(tok, "next"))) continue;
        if (!q && (!strcmp(tok, "from") || !strcmp(tok, "in"))) {
            p = next_token(p, end, name, sizeof name, &q);
            break;
        }
        if (!q && !strcmp(tok, "all")) {
            all = true;
            continue;
        }
        if (!q && tok[0] >= '0' && tok[0] <= '9') {
            count = strtoll(tok, NULL, 10);
            continue;
        }
        if (!q && (!strcmp(tok, "backward") || !strcmp(tok, "prior") || !strcmp(tok, "absolute") ||
                   !strcmp(tok, "relative") || !strcmp(tok, "first") || !strcmp(tok, "last"))) {
            pgw_error(s, "ERROR", "0A000", "cursors only move forward", 0);
            return -1;
        }
        snprintf(name, sizeof name, "%s", tok); /* FETCH 10 name */
        break;
    }
    pgw_portal *pt = find_portal(s, name);
    if (!pt) {
        char m[200];
        snprintf(m, sizeof m, "cursor \"%.100s\" does not exist", name);
        pgw_error(s, "ERROR", "34000", m, 0);
        return -1;
    }
    if (!pt->started && start_portal(s, pt) != 0) return -1;
    atomic_store(&s->running, true);
    uint64_t sent = 0;
    int r = 0;
    if (duckdb_result_return_type(pt->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT && !pt->done && (all || count > 0)) {
        if (k == K_MOVE) {
            r = skip_rows(s, pt, all ? 0 : count, &sent);
        } else {
            row_description(s, pt->ncols, res_name, res_type, &pt->res);
            r = stream_rows(s, pt, all ? 0 : count, &sent);
        }
        if (r == 0) pt->done = true;
    } else if (k == K_FETCH && duckdb_result_return_type(pt->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT) {
        row_description(s, pt->ncols, res_name, res_type, &pt->res); /* FETCH 0, or past the end */
    }
    end_running(s);
    if (r < 0) return -1;
    char tag[48];
    snprintf(tag, sizeof tag, "%s %llu", k == K_MOVE ? "MOVE" : "FETCH", (unsigned long long)sent);
    complete(s, tag);
    return 1;
}

/* At the end of a transaction: its cursors close, but for WITH HOLD cursors once their
 * transaction committed (PostgreSQL keeps those until CLOSE or the session's end). */
static void end_transaction_cursors(pgw_session *s, bool committed) {
    for (pgw_portal *pt = s->portals, *nx; pt; pt = nx) {
        nx = pt->next;
        if (!pt->owns_stmt) continue;
        if (pt->hold && (committed || !pt->hold_pending)) pt->hold_pending = false;
        else free_portal(s, pt);
    }
}

/* Before COMMIT or ROLLBACK runs: what ends with the transaction goes first, so that it
 * is not kept in memory for nothing: cursors without HOLD, and protocol portals that
 * started executing (PostgreSQL drops every portal at transaction end). The portal
 * running the COMMIT itself has no DuckDB result and stays. On ROLLBACK, WITH HOLD
 * cursors of this transaction go too. */
static void close_transaction_portals(pgw_session *s, bool rollback) {
    for (pgw_portal *pt = s->portals, *nx; pt; pt = nx) {
        nx = pt->next;
        if (pt->owns_stmt ? !pt->hold || (rollback && pt->hold_pending) : pt->has_res) free_portal(s, pt);
    }
}

static void rollback_transaction(pgw_session *s) {
    close_transaction_portals(s, true);
    if (pgw_park_portals(s, NULL, false) != 0) {
        /* Held cursors from earlier transactions were kept at their COMMIT; one that was
         * declared outside a block and is still streaming, with too much unread, is
         * closed rather than cut short silently by the ROLLBACK. */
        for (pgw_portal *pt = s->portals, *nx; pt; pt = nx) {
            nx = pt->next;
            if (pt->has_res && !pt->done && !pt->parked_all) free_portal(s, pt);
        }
    }
    duckdb_result r;
    duckdb_query(s->con, "ROLLBACK", &r);
    duckdb_destroy_result(&r);
    s->tx = 'I';
    pgw_settings_end_transaction(s, false);
    end_transaction_cursors(s, false);
}
