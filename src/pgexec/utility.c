/* utility.c - the statements answered by the executor rather than DuckDB: transaction
 * control, DEALLOCATE, LISTEN and friends, savepoints (savepoint.c), COPY FROM STDIN /
 * TO STDOUT (copy.c), and the setting
 * statements (settings.c), as PostgreSQL's tcop/utility.c. */
#include <stdio.h>
#include <string.h>

#include "pgexec/internal.h"

/* DEALLOCATE [PREPARE] name | ALL: drops protocol-level prepared statements. */
static int deallocate(pgx *x, const char *sql, size_t len) {
    char name[32];
    int d = tcop_deallocate(sql, len, name);
    if (d < 0) {
        msg_error(x, "ERROR", "42601", "DEALLOCATE needs a statement name or ALL", 0);
        return -1;
    }
    if (d == 1) {
        while (x->stmts) stmt_free(x, x->stmts);
        msg_complete(x, "DEALLOCATE ALL");
        return 1;
    }
    pgx_stmt *t = stmt_find(x, name);
    if (!t) return msg_missing(x, "prepared statement", name, "26000");
    stmt_free(x, t);
    msg_complete(x, "DEALLOCATE");
    return 1;
}

static int begin(pgx *x) {
    if (x->tx != PqTrans_Idle) {
        msg_notice(x, "WARNING", "25001", "there is already a transaction in progress");
    } else {
        /* Isolation levels and READ ONLY are accepted: DuckDB runs every transaction
         * with snapshot isolation. */
        if (exec_sql(x, "BEGIN TRANSACTION", EXEC_REPORT, NULL) != 0) return -1;
        x->tx = PqTrans_InBlock;
        savepoint_end_transaction(x);
    }
    msg_complete(x, "BEGIN");
    return 1;
}

static int commit(pgx *x) {
    if (x->tx == PqTrans_Idle) {
        msg_notice(x, "WARNING", "25P01", "there is no transaction in progress");
        msg_complete(x, "COMMIT");
        return 1;
    }
    if (x->tx == PqTrans_Failed) {
        utility_rollback(x);
        msg_complete(x, "ROLLBACK");
        return 1;
    }
    cursor_close_transaction_portals(x, false);
    /* WITH HOLD cursors outlive the transaction: their rows are kept now, and a cursor
     * with too many unread rows fails the COMMIT (54000) while it is still open. */
    if (exec_park(x, NULL, true) != 0) return -1;
    x->tx = PqTrans_Idle;
    savepoint_end_transaction(x);
    int crc = exec_sql(x, "COMMIT", EXEC_REPORT, NULL);
    settings_end_transaction(x, crc == 0);
    cursor_end_transaction(x, crc == 0);
    if (crc != 0) return -1;
    msg_complete(x, "COMMIT");
    return 1;
}

void utility_rollback(pgx *x) {
    cursor_close_transaction_portals(x, true);
    if (exec_park(x, NULL, false) != 0) {
        /* Held cursors from earlier transactions were kept at their COMMIT; one that was
         * declared outside a block and is still streaming, with too much unread, is
         * closed rather than cut short silently by the ROLLBACK. */
        for (pgx_portal *pt = x->portals, *nx; pt; pt = nx) {
            nx = pt->next;
            if (pt->has_res && !pt->done && !pt->parked_all) portal_free(x, pt);
        }
    }
    exec_sql(x, "ROLLBACK", 0, NULL);
    x->tx = PqTrans_Idle;
    savepoint_end_transaction(x);
    settings_end_transaction(x, false);
    cursor_end_transaction(x, false);
}

/* SET/RESET/SHOW and set_config(); a changed setting remakes current_setting(). */
static int setting_statement(pgx *x, const char *sql, size_t len, bool describe_only) {
    if (!describe_only) {
        int sc = settings_set_config(x, sql, len);
        if (sc) return sc;
    }
    int r = settings_statement(x, sql, len, describe_only);
    char w[32];
    if (r == 1 && !describe_only && tcop_first_word(sql, len, w) && strcmp(w, "show") != 0) settings_sync_macro(x);
    return r;
}

int utility_statement(pgx *x, const char *sql, size_t len, bool describe_only) {
    tcop_kind k = tcop_classify(sql, len);
    switch (k) {
    case TC_DEALLOCATE:
        return describe_only ? 1 : deallocate(x, sql, len);
    case TC_DECLARE:
    case TC_FETCH:
    case TC_MOVE:
    case TC_CLOSE:
        return describe_only ? 1 : cursor_statement(x, k, sql, len);
    case TC_BEGIN:
        return describe_only ? 1 : begin(x);
    case TC_COMMIT:
        return describe_only ? 1 : commit(x);
    case TC_ROLLBACK:
        if (describe_only) return 1;
        if (x->tx == PqTrans_Idle) msg_notice(x, "WARNING", "25P01", "there is no transaction in progress");
        else utility_rollback(x);
        msg_complete(x, "ROLLBACK");
        return 1;
    case TC_SAVEPOINT:
    case TC_RELEASE:
    case TC_ROLLBACK_TO:
        return describe_only ? 1 : savepoint_statement(x, k, sql, len);
    case TC_LISTEN:
        if (describe_only) return 1;
        {
            char tag[32];
            tcop_verb_tag(sql, len, tag);
            msg_complete(x, tag); /* accepted, nothing to notify about */
        }
        return 1;
    case TC_COPY_STDIO:
        if (describe_only) return 1;
        return copy_statement(x, sql, len, x->in_execute);
    default:
        return setting_statement(x, sql, len, describe_only);
    }
}
