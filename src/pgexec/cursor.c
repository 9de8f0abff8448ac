/* cursor.c - SQL cursors (DECLARE / FETCH / MOVE / CLOSE) as portals by that name, and
 * what the end of a transaction does to portals and cursors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/internal.h"

static int no_cursor(pgx *x, const char *name) { return msg_missing(x, "cursor", name, "34000"); }

static int declare(pgx *x, const char *sql, size_t len, const tcop_cursor *c) {
    if (!c->hold && x->tx == PqTrans_Idle) {
        msg_error(x, "ERROR", "25P01", "DECLARE CURSOR can only be used in transaction blocks", 0);
        return -1;
    }
    if (portal_find(x, c->name)) {
        char m[200];
        snprintf(m, sizeof m, "cursor \"%.100s\" already exists", c->name);
        msg_error(x, "ERROR", "42P03", m, 0);
        return -1;
    }
    pgx_stmt *t = calloc(1, sizeof *t);
    pgx_portal *pt = calloc(1, sizeof *pt);
    if (!t || !pt || !(t->sql = strndup(sql + c->query_at, len - c->query_at)) || !(t->name = strdup("")) ||
        !(pt->name = strdup(c->name))) {
        free(t ? t->sql : NULL);
        free(t ? t->name : NULL);
        free(t);
        free(pt);
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        return -1;
    }
    if (exec_prepare(x, t->sql, EXEC_REPORT, (int)c->query_at, &t->st, &t->runs, &t->an) != 0) {
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
    pt->hold = c->hold;
    pt->hold_pending = c->hold && x->tx != PqTrans_Idle; /* kept only if its transaction commits */
    pt->next = x->portals;
    x->portals = pt;
    msg_complete(x, "DECLARE CURSOR");
    return 1;
}

static int close_cursor(pgx *x, const tcop_cursor *c) {
    if (c->all) {
        for (pgx_portal *pt = x->portals, *nx; pt; pt = nx) {
            nx = pt->next;
            if (pt->owns_stmt) portal_free(x, pt);
        }
    } else {
        pgx_portal *pt = portal_find(x, c->name);
        if (!pt) return no_cursor(x, c->name);
        portal_free(x, pt);
    }
    msg_complete(x, "CLOSE CURSOR");
    return 1;
}

static int fetch(pgx *x, tcop_kind k, const tcop_cursor *c) {
    pgx_portal *pt = portal_find(x, c->name);
    if (!pt) return no_cursor(x, c->name);
    if (!pt->started && portal_start(x, pt) != 0) return -1;
    exec_resume_running(x);
    uint64_t sent = 0;
    int r = 0;
    bool rows = duckdb_result_return_type(pt->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT;
    if (rows && !pt->done && (c->all || c->count > 0)) {
        if (k == TC_MOVE) {
            r = portal_skip(x, pt, c->all ? 0 : c->count, &sent);
        } else {
            msg_rowdesc(x, pt->ncols, msg_res_name, msg_res_type, &pt->res, &pt->stmt->an);
            r = portal_stream(x, pt, c->all ? 0 : c->count, &sent);
        }
        if (r == 0) pt->done = true;
    } else if (k == TC_FETCH && rows) {
        msg_rowdesc(x, pt->ncols, msg_res_name, msg_res_type, &pt->res, &pt->stmt->an); /* FETCH 0, or past the end */
    }
    exec_end_running(x);
    if (r < 0) return -1;
    char tag[48];
    snprintf(tag, sizeof tag, "%s %llu", k == TC_MOVE ? "MOVE" : "FETCH", (unsigned long long)sent);
    msg_complete(x, tag);
    return 1;
}

int cursor_statement(pgx *x, tcop_kind k, const char *sql, size_t len) {
    tcop_cursor c;
    switch (tcop_parse_cursor(k, sql, len, &c)) {
    case TCOP_CURSOR_SYNTAX:
        msg_error(x, "ERROR", "42601", "syntax error in DECLARE: expected DECLARE name CURSOR FOR query", 0);
        return -1;
    case TCOP_CURSOR_BACKWARD:
        msg_error(x, "ERROR", "0A000", "cursors only move forward", 0);
        return -1;
    default:
        break;
    }
    if (k == TC_DECLARE) return declare(x, sql, len, &c);
    if (k == TC_CLOSE) return close_cursor(x, &c);
    return fetch(x, k, &c);
}

/* PostgreSQL keeps WITH HOLD cursors until CLOSE or the session's end. */
void cursor_end_transaction(pgx *x, bool committed) {
    for (pgx_portal *pt = x->portals, *nx; pt; pt = nx) {
        nx = pt->next;
        if (!pt->owns_stmt) continue;
        if (pt->hold && (committed || !pt->hold_pending)) pt->hold_pending = false;
        else portal_free(x, pt);
    }
}

/* What ends with the transaction goes first, so that it is not kept in memory for
 * nothing: cursors without HOLD, and protocol portals that started executing
 * (PostgreSQL drops every portal at transaction end). The portal running the COMMIT
 * itself has no DuckDB result and stays. On ROLLBACK, WITH HOLD cursors of this
 * transaction go too. */
void cursor_close_transaction_portals(pgx *x, bool rollback) {
    for (pgx_portal *pt = x->portals, *nx; pt; pt = nx) {
        nx = pt->next;
        if (pt->owns_stmt ? !pt->hold || (rollback && pt->hold_pending) : pt->has_res) portal_free(x, pt);
    }
}
