/* exec.c - the only code that runs anything on the workspace's DuckDB connection: the
 * client's statements through the sandbox (exec_prepare), their execution, our own SQL
 * (transactions, session macros), and interrupting it. Every entry parks the suspended
 * portals first (exec_park), so that no streaming result is cut short silently; and
 * statement text reaches DuckDB in exec_prepare alone, the place for a rewrite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/internal.h"
#include "util/dberr.h"
#include "util/log.h"
#include "util/sqlscan.h"

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

int exec_park(pgx *x, const pgx_portal *keep, bool report) {
    size_t limit = (size_t)x->suspended_result_memory;
    for (pgx_portal *p = x->portals; p; p = p->next) {
        if (p == keep || !p->has_res || p->done || p->parked_all ||
            duckdb_result_return_type(p->res) != DUCKDB_RESULT_TYPE_QUERY_RESULT)
            continue;
        /* Memory is the price: PostgreSQL would keep the portal's executor instead. An
         * error in the rest of the result stays in p->res and is sent when reached. */
        while (x->parked_bytes <= limit) {
            if (p->nparked == p->parked_cap) { /* room first: a fetched chunk is never dropped */
                size_t ncap = p->parked_cap ? p->parked_cap * 2 : 16;
                struct pgx_parked *np = realloc(p->parked, ncap * sizeof *np);
                if (!np) {
                    if (report) msg_error(x, "ERROR", "53200", "out of memory keeping the rest of a cursor", 0);
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
            p->parked[p->nparked++] = (struct pgx_parked){c, b};
            x->parked_bytes += b;
        }
        if (!p->parked_all) {
            if (report) {
                char m[400];
                snprintf(m, sizeof m,
                         "cannot run another statement while %s \"%.100s\" has more than %lld MB of rows unread "
                         "(setting suspended_result_memory): fetch the rest or close it first",
                         p->owns_stmt ? "cursor" : "portal", p->name ? p->name : "", (long long)(limit >> 20));
                msg_error(x, "ERROR", "54000", m, 0);
            }
            return -1;
        }
    }
    return 0;
}

/* ---- running: what the watchdog and cancel requests see ---- */

/* The statement's watch: statement_timeout and cancel requests apply from here (the
 * watchdog and pgx_interrupt look at running and deadline_ms). DuckDB's planning is
 * watched too: it can run for long (constant folding evaluates a function call, e.g.
 * levenshtein of two long strings) and cannot be interrupted, so one that will not stop
 * gets its worker ended (worker/). */
static void watch_begin(pgx *x) {
    atomic_store(&x->cancel_reason, PGX_STOP_NONE);
    atomic_store(&x->interrupted_ms, 0);
    int64_t t = x->statement_timeout_ms;
    double dl = x->msg_deadline_ms > 0 ? x->msg_deadline_ms : t > 0 ? pgx_now_ms() + (double)t : 0;
    atomic_store(&x->deadline_ms, (long long)dl);
    atomic_store(&x->running, true);
}

/* A statement runs: watched, counted, and under the size guard. */
static void begin_running(pgx *x) {
    watch_begin(x);
    atomic_fetch_add(&x->query_count, 1);
    ws_conn_begin(x->wc);
}

void exec_end_running(pgx *x) {
    atomic_store(&x->running, false);
    atomic_store(&x->deadline_ms, 0);
    ws_conn_end(x->wc);
}

void exec_ready(pgx *x) {
    if (x->tx == PqTrans_Idle) ws_conn_reclaim(x->wc);
    msg_ready(x);
}

void exec_copy_running(pgx *x, bool on) {
    if (on) begin_running(x);
    else exec_end_running(x);
}

int exec_appender_open(pgx *x, const char *schema, const char *table, const char *const *cols, int ncols,
                       duckdb_appender *app, char ***names, int *nnames, ds_err *e) {
    ds_err_clear(e);
    if (exec_park(x, NULL, true) != 0) return -1;
    return ws_appender_open(x->wc, schema, table, cols, ncols, app, names, nnames, e) ? -1 : 0;
}

void exec_resume_running(pgx *x) { atomic_store(&x->running, true); }

static void note_interrupt(pgx *x) {
    long long zero = 0;
    atomic_compare_exchange_strong(&x->interrupted_ms, &zero, (long long)pgx_now_ms());
}

void exec_stop(pgx *x, pgx_stop reason) {
    duckdb_interrupt(x->con);
    atomic_store(&x->cancel_reason, reason);
    note_interrupt(x);
}

void pgx_interrupt(pgx *x, pgx_stop reason) {
    if (x && atomic_load(&x->running)) {
        atomic_store(&x->cancel_reason, reason);
        duckdb_interrupt(x->con);
        note_interrupt(x);
    }
}

double pgx_interrupted_for_ms(pgx *x, double now_ms) {
    if (!x || !atomic_load(&x->running)) return 0;
    long long t = atomic_load(&x->interrupted_ms);
    return t > 0 ? now_ms - (double)t : 0;
}

void pgx_cancel(pgx *x) {
    if (!x) return;
    atomic_fetch_add(&x->cancel_seq, 1); /* seen between the statements of a script too */
    pgx_interrupt(x, PGX_STOP_USER);
}

bool pgx_watch(pgx *x, double now_ms) {
    if (!x || !atomic_load(&x->running) || atomic_load(&x->cancel_reason)) return false;
    long long dl = atomic_load(&x->deadline_ms);
    if (dl > 0 && now_ms >= (double)dl) {
        pgx_interrupt(x, PGX_STOP_TIMEOUT);
        return false;
    }
    return true;
}

bool exec_size_stopped(pgx *x) { return ws_conn_size_stopped(x->wc); }
bool exec_size_reached(pgx *x) { return ws_size_reached(x->inst); }

/* ---- statements ---- */

int exec_prepare(pgx *x, const char *sql, unsigned flags, int pos_offset, duckdb_prepared_statement *st, int *runs,
                 pga_result *an) {
    if (exec_park(x, NULL, flags & EXEC_REPORT) != 0) return -1;
    if (flags & EXEC_MACROS) exec_session_macros(x, sql, strlen(sql));
    pga_result mine;
    pga_result *a = an ? an : &mine;
    pga_session who = {x->user, x->database};
    if (pga_analyze(sql, strlen(sql), &who, a) != 0) {
        if (flags & EXEC_REPORT) msg_error(x, "ERROR", "53200", "out of memory", 0);
        return -1;
    }
    if (a->rules) log_debug("pgexec: statement rewritten for DuckDB (rules %#x)", a->rules);
    /* The compat catalog's views answer for this login once the connection knows it: two
     * DDL statements, made on the first statement that is not a plain one (quick.c sends
     * anything naming pg_* or ds_* to the parser), not at every login (measured: +13 %
     * server CPU per SCRAM connection when made at login). */
    if (!a->fast && !x->identity_ready) {
        ds_err ie;
        if (ws_conn_set_identity(x->wc, x->user, x->database, &ie) != 0) {
            if (flags & EXEC_REPORT) msg_error(x, "ERROR", "58000", "the session cannot be set up", 0);
            if (!an) pga_result_free(&mine);
            else pga_result_free(a);
            return -1;
        }
        x->identity_ready = true;
    }
    ds_err e;
    ds_err_clear(&e);
    int rc = 0;
    /* The gate in ws_prepare judges the text DuckDB will run, rewritten or not. */
    watch_begin(x); /* planning: not a statement of its own (no count, no size guard) */
    int prc = ws_prepare(x->wc, a->sql ? a->sql : sql, st, runs, &e);
    atomic_store(&x->running, false);
    atomic_store(&x->deadline_ms, 0);
    if (prc != 0) {
        if (a->sql) e.position = 0; /* a position in the rewritten text means nothing to the client */
        if (flags & EXEC_REPORT) msg_error_from(x, &e, pos_offset);
        rc = -1;
    }
    if (!an || rc) pga_result_free(a); /* on failure *an is left empty */
    return rc;
}

void exec_note_write(pgx *x) {
    if (x->tx != PqTrans_Idle) x->tx_writes++;
}

int exec_execute(pgx *x, const pgx_portal *keep, duckdb_prepared_statement st, duckdb_result *res, unsigned flags) {
    if (exec_park(x, keep, flags & EXEC_REPORT) != 0) return -1;
    /* Counted before it runs: one that fails while running aborts DuckDB's transaction,
     * which savepoint.c must know as much as about one that wrote. */
    if (duckdb_prepared_statement_type(st) != DUCKDB_STATEMENT_TYPE_SELECT) exec_note_write(x);
    if (flags & EXEC_STREAM) {
        begin_running(x);
        return duckdb_execute_prepared_streaming(st, res) == DuckDBError ? -2 : 0;
    }
    return duckdb_execute_prepared(st, res) == DuckDBError ? -2 : 0;
}

int exec_sql(pgx *x, const char *sql, unsigned flags, ds_err *e) {
    if (exec_park(x, NULL, flags & EXEC_REPORT) != 0) return -1;
    duckdb_result r;
    int rc = duckdb_query(x->con, sql, &r) == DuckDBError ? -2 : 0;
    if (rc && (e || (flags & EXEC_REPORT))) {
        ds_err mine;
        ds_err *err = e ? e : &mine;
        ds_err_clear(err);
        dberr_fail(err, DS_E_INVALID_REQUEST, duckdb_result_error_type(&r), duckdb_result_error(&r));
        if (flags & EXEC_REPORT) msg_error_from(x, err, 0);
    }
    duckdb_destroy_result(&r);
    return rc;
}

bool exec_duckdb_has_setting(pgx *x, const char *name) {
    duckdb_prepared_statement st;
    bool found = false;
    if (exec_park(x, NULL, false) != 0) return false; /* only picks 42501 over 42704 */
    if (duckdb_prepare(x->con, "SELECT 1 FROM duckdb_settings() WHERE lower(name) = lower($1)", &st) == DuckDBSuccess) {
        duckdb_bind_varchar(st, 1, name);
        duckdb_result r;
        if (duckdb_execute_prepared(st, &r) == DuckDBSuccess) found = duckdb_row_count(&r) > 0;
        duckdb_destroy_result(&r);
    }
    duckdb_destroy_prepare(&st);
    return found;
}

/* Session-local helpers in DuckDB: version() answers like PostgreSQL, current_setting()
 * answers the client settings. Made on first use (a statement that calls one of them):
 * two DDL statements per connection would cost more than the rest of the login. */
void exec_session_macros(pgx *x, const char *sql, size_t len) {
    static const char *const names[] = {"version", "current_setting", NULL};
    static const char *const views[] = {"pg_settings", NULL}; /* the compat view reads current_setting() */
    if (x->macros_ready || (!sqlscan_calls(sql, len, names) && !sqlscan_mentions(sql, len, views))) return;
    if (exec_park(x, NULL, false) != 0) return; /* made at a later statement */
    x->macros_ready = true;
    char q[512];
    snprintf(q, sizeof q,
             "CREATE OR REPLACE TEMP MACRO version() AS 'PostgreSQL 15.0 (duckspace %s, DuckDB 1.4.4) on "
             "x86_64-pc-linux-gnu, compiled by gcc, 64-bit'",
             DUCKSPACE_VERSION);
    ds_err e;
    if (exec_sql(x, q, 0, &e) == -2) log_warn("pgwire: version(): %s", e.message);
    settings_sync_macro(x);
}

int exec_settings_macro(pgx *x, const char *sql) {
    /* Until the macro is made again, the gate refuses current_setting(): DuckDB's own
     * would answer with the server's settings. */
    ws_conn_set_setting_shim(x->wc, false);
    if (!sql) return 1;
    if (exec_park(x, NULL, false) != 0) return -1; /* made again, up to date, when next used */
    duckdb_result r;
    int rc = duckdb_query(x->con, sql, &r) == DuckDBError ? -1 : 0;
    duckdb_destroy_result(&r);
    if (rc == 0) ws_conn_set_setting_shim(x->wc, true);
    return rc;
}
