/* simple.c - the simple query protocol: a Query message's statements, one after the
 * other, each prepared and run to its end; errors end the script. */
#include <stdlib.h>
#include <string.h>

#include "pgexec/internal.h"
#include "util/sqlscan.h"

typedef struct {
    pgx *x;
    const char *sql;
    bool failed;
    bool copying;   /* a COPY FROM STDIN started: the rest waits for its end */
    size_t rest_at; /* where the statements after it start */
    unsigned cancels; /* x->cancel_seq when the message arrived */
} simple_ctx;

/* As in PostgreSQL, statement_timeout and a cancel request apply to the whole Query
 * message: a script of many statements (each cheap, or each costly to parse, which
 * DuckDB cannot interrupt) stops at the next statement once either has struck. */
static bool script_stopped(simple_ctx *c) {
    pgx *x = c->x;
    const char *why = NULL;
    /* A SET earlier in the message starts the timeout from here (PostgreSQL's
     * enable_statement_timeout: armed if it is not running yet). */
    if (x->msg_deadline_ms <= 0 && x->statement_timeout_ms > 0)
        x->msg_deadline_ms = pgx_now_ms() + (double)x->statement_timeout_ms;
    if (atomic_load(&x->cancel_seq) != c->cancels) why = "canceling statement due to user request";
    else if (x->msg_deadline_ms > 0 && pgx_now_ms() >= x->msg_deadline_ms)
        why = "canceling statement due to statement timeout";
    if (!why) return false;
    msg_error(x, "ERROR", "57014", why, 0);
    c->failed = true;
    return true;
}

static void simple_one(void *ud, size_t start, size_t n) {
    simple_ctx *c = ud;
    pgx *x = c->x;
    if (c->copying) {
        if (!c->rest_at) c->rest_at = start;
        return;
    }
    if (c->failed || script_stopped(c)) return;
    const char *text = c->sql + start;
    if (x->tx == PqTrans_Failed) {
        tcop_kind k = tcop_classify(text, n);
        if (!tcop_allowed_when_failed(k)) {
            msg_error(x, "ERROR", "25P02", "current transaction is aborted, commands ignored until end of transaction block",
                      0);
            c->failed = true;
            return;
        }
    }
    int lr = utility_statement(x, text, n, false);
    if (lr != 0) {
        if (lr < 0) c->failed = true;
        if (x->copy) c->copying = true;
        return;
    }
    char *sql = strndup(text, n);
    if (!sql) {
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        c->failed = true;
        return;
    }
    pgx_stmt st = {.sql = sql, .kind = STMT_DUCK};
    /* Positions are counted in the whole query string. */
    if (exec_prepare(x, sql, EXEC_REPORT | EXEC_MACROS, (int)start, &st.st, &st.runs, &st.an) != 0) {
        c->failed = true;
        free(sql);
        return;
    }
    pgx_portal p = {.stmt = &st};
    if (portal_run(x, &p, 0, true) != 0) c->failed = true;
    portal_clear_result(x, &p);
    duckdb_destroy_prepare(&st.st);
    pga_result_free(&st.an);
    free(sql);
}

void simple_query(pgx *x, const char *sql, size_t len) {
    simple_ctx c = {.x = x, .sql = sql, .cancels = atomic_load(&x->cancel_seq)};
    x->msg_deadline_ms = x->statement_timeout_ms > 0 ? pgx_now_ms() + (double)x->statement_timeout_ms : 0;
    int n = sqlscan_split(sql, len, simple_one, &c);
    x->msg_deadline_ms = 0;
    if (c.copying) {
        /* COPY FROM STDIN takes the client's CopyData now; its end (copy.c) answers
         * ReadyForQuery, after the rest of the script when it went well. */
        if (c.rest_at) copy_set_rest(x, sql + c.rest_at);
        return;
    }
    if (n == 0) msg_empty(x, PqMsg_EmptyQueryResponse);
    if (c.failed && x->tx == PqTrans_InBlock) x->tx = PqTrans_Failed;
    exec_ready(x);
}
