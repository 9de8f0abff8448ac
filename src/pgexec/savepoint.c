/* savepoint.c - SAVEPOINT, RELEASE and ROLLBACK TO SAVEPOINT on top of DuckDB, which has
 * no savepoints at all.
 *
 * What DuckDB 1.4.4 does (measured with a probe against the library):
 *   - SAVEPOINT is a syntax error;
 *   - a statement that fails before it runs (parser, binder, catalog errors: a misspelt
 *     column or table) leaves the transaction as it was, usable;
 *   - a statement that fails while it runs (a conversion, a constraint, division by an
 *     integer zero) aborts the whole transaction: every later statement gets
 *     "Current transaction is aborted (please ROLLBACK)", and COMMIT rolls back.
 * DuckDB cannot undo part of a transaction, so the executor keeps the savepoints itself,
 * each with the count of possibly-writing statements run before it (tx_writes), and:
 *   - RELEASE forgets savepoints, as in PostgreSQL;
 *   - ROLLBACK TO a savepoint after which nothing was written, in a transaction that
 *     DuckDB still runs, only clears the failed state (psqlODBC's per-statement savepoint
 *     around a statement that failed to bind; a nested block that only read);
 *   - ROLLBACK TO a savepoint before which nothing was written rolls DuckDB's
 *     transaction back and starts a new one: the same state (asyncpg's and SQLAlchemy's
 *     nested transactions at the start of a transaction; anything read-only);
 *   - anything else (data written before the savepoint, and then either written after
 *     it or lost by DuckDB aborting the transaction) fails loudly with 0A000 and leaves
 *     the transaction failed: the client rolls it back whole. Rows are never kept or
 *     lost silently.
 * Not undone by ROLLBACK TO (as PostgreSQL would): SET made after the savepoint and
 * cursors declared after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/internal.h"

#define PGX_MAX_SAVEPOINTS 10000 /* a client looping SAVEPOINT without RELEASE */

void savepoint_end_transaction(pgx *x) {
    x->nsavepoints = 0;
    x->tx_writes = 0;
}

void savepoint_free(pgx *x) {
    free(x->savepoints);
    x->savepoints = NULL;
    x->nsavepoints = x->savepoints_cap = 0;
}

/* The most recent savepoint of that name (PostgreSQL allows the same name twice), or -1. */
static int find(const pgx *x, const char *name) {
    for (int i = x->nsavepoints - 1; i >= 0; i--)
        if (!strcmp(x->savepoints[i].name, name)) return i;
    return -1;
}

static int define(pgx *x, const char *name) {
    if (x->nsavepoints == PGX_MAX_SAVEPOINTS) {
        msg_error(x, "ERROR", "54000", "too many savepoints in this transaction", 0);
        return -1;
    }
    if (x->nsavepoints == x->savepoints_cap) {
        int cap = x->savepoints_cap ? x->savepoints_cap * 2 : 8;
        pgx_savepoint *g = realloc(x->savepoints, (size_t)cap * sizeof *g);
        if (!g) {
            msg_error(x, "ERROR", "53200", "out of memory", 0);
            return -1;
        }
        x->savepoints = g;
        x->savepoints_cap = cap;
    }
    pgx_savepoint *sp = &x->savepoints[x->nsavepoints++];
    snprintf(sp->name, sizeof sp->name, "%s", name);
    sp->writes_at = x->tx_writes;
    msg_complete(x, "SAVEPOINT");
    return 1;
}

/* DuckDB's transaction is still running (it was not aborted by a failed statement). */
static bool duckdb_tx_usable(pgx *x) { return exec_sql(x, "SELECT 1", 0, NULL) == 0; }

/* Rolls DuckDB's transaction back and begins a new one, keeping the portals that are
 * open (their rows are fetched first, as at COMMIT). Returns 0, or -1 with an error sent. */
static int restart(pgx *x) {
    if (exec_park(x, NULL, true) != 0) return -1;
    exec_sql(x, "ROLLBACK", 0, NULL);
    /* The session's macros, made on first use, may have been made in this transaction
     * and went with it (see settings_end_transaction). */
    x->macros_ready = false;
    x->identity_ready = false;
    exec_settings_macro(x, NULL);
    if (exec_sql(x, "BEGIN TRANSACTION", EXEC_REPORT, NULL) != 0) {
        x->tx = PqTrans_Idle; /* nothing is open any more */
        savepoint_end_transaction(x);
        return -1;
    }
    x->tx_writes = 0;
    return 0;
}

static int rollback_to(pgx *x, const char *name) {
    int i = find(x, name);
    if (i < 0) return msg_missing(x, "savepoint", name, "3B001");
    const pgx_savepoint *sp = &x->savepoints[i];
    bool nothing_to_undo = x->tx_writes == sp->writes_at;
    if (nothing_to_undo && (x->tx != PqTrans_Failed || duckdb_tx_usable(x))) {
        /* the failed statement, if any, never ran: DuckDB's transaction is as it was */
    } else if (sp->writes_at == 0) {
        if (restart(x) != 0) return -1;
    } else {
        char m[256];
        snprintf(m, sizeof m,
                 "cannot roll back to savepoint \"%s\": the transaction wrote data before it, and a workspace cannot "
                 "undo part of a transaction; roll back the whole transaction",
                 name);
        msg_error(x, "ERROR", "0A000", m, 0);
        x->tx = PqTrans_Failed;
        return -1;
    }
    x->nsavepoints = i + 1; /* the savepoint stays; the ones after it are gone */
    x->tx = PqTrans_InBlock;
    msg_complete(x, "ROLLBACK");
    return 1;
}

int savepoint_statement(pgx *x, tcop_kind k, const char *sql, size_t len) {
    static const char *const verb[] = {[TC_SAVEPOINT] = "SAVEPOINT", [TC_RELEASE] = "RELEASE SAVEPOINT",
                                       [TC_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT"};
    char name[64];
    int pr = pga_savepoint_name(sql, len, name);
    if (pr < 0) {
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        return -1;
    }
    if (pr == 0) {
        msg_error(x, "ERROR", "42601", "syntax error in savepoint statement", 0);
        return -1;
    }
    if (x->tx == PqTrans_Idle) {
        char m[96];
        snprintf(m, sizeof m, "%s can only be used in transaction blocks", verb[k]);
        msg_error(x, "ERROR", "25P01", m, 0);
        return -1;
    }
    if (k == TC_SAVEPOINT) return define(x, name);
    if (k == TC_ROLLBACK_TO) return rollback_to(x, name);
    int i = find(x, name);
    if (i < 0) return msg_missing(x, "savepoint", name, "3B001");
    x->nsavepoints = i; /* it and every later one */
    msg_complete(x, "RELEASE");
    return 1;
}
