/* pgexec.c - the executor's front door: its lifetime, and the messages it takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/internal.h"

pgx *pgx_new(const pgx_params *p, pgx_sink sink) {
    pgx *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->inst = p->inst;
    x->wc = p->wc;
    x->con = ws_conn_duckdb(p->wc);
    x->size_limit_bytes = p->size_limit_bytes;
    x->suspended_result_memory = (size_t)p->suspended_result_memory;
    x->default_statement_timeout_ms = p->statement_timeout_s * 1000;
    x->default_idle_timeout_ms = p->idle_session_timeout_s * 1000;
    x->sink = sink;
    x->out = sink.out;
    pgt_buf_init(&x->cell);
    pgt_buf_init(&x->cell2);
    x->tx = PqTrans_Idle;
    /* search_path as the workspace resolves names: its own schema, then the buckets' */
    char buckets[200];
    ws_project_schemas(p->inst, buckets, sizeof buckets);
    snprintf(x->default_search_path, sizeof x->default_search_path, "\"$user\", public%s%s", buckets[0] ? ", " : "", buckets);
    settings_init(x, p->user, p->keys, p->values, p->nparams);
    /* Who is asking, for the SQL analysis (current_user, current_database()) and for the
     * compat catalog's views on this connection (pg_roles, pg_database, ...: given to the
     * connection on the first statement that may read them, exec_prepare). */
    x->user = strdup(p->user ? p->user : "");
    x->database = strdup(p->database ? p->database : "");
    if (!x->user || !x->database) {
        pgx_free(x);
        return NULL;
    }
    return x;
}

void pgx_free(pgx *x) {
    if (!x) return;
    copy_abort(x);
    stmt_free_all(x);
    if (x->tx != PqTrans_Idle) exec_sql(x, "ROLLBACK", 0, NULL);
    savepoint_free(x);
    pgt_buf_free(&x->cell);
    pgt_buf_free(&x->cell2);
    pgt_tz_free(x->tz);
    free(x->user);
    free(x->database);
    free(x);
}

void pgx_report_settings(pgx *x) { settings_report_all(x); }

void pgx_ready(pgx *x) { exec_ready(x); }

/* THE switch over every frontend message type after login. */
int pgx_message(pgx *x, char type, const uint8_t *body, size_t len) {
    /* The copy-in sub-state: every message but Terminate is the COPY's (CopyData,
     * CopyDone, CopyFail; Flush and Sync ignored; anything else an error that ends it). */
    if (x->copy && type != PqMsg_Terminate) return copy_message(x, type, body, len);
    switch (type) {
    case PqMsg_Terminate:
        return -1;
    case PqMsg_Query:
        if (len == 0 || body[len - 1] != 0) {
            msg_error(x, "FATAL", "08P01", "invalid Query message", 0);
            return -1;
        }
        simple_query(x, (const char *)body, len - 1);
        return 0;
    case PqMsg_Parse:
    case PqMsg_Bind:
    case PqMsg_Describe:
    case PqMsg_Execute:
    case PqMsg_Close:
    case PqMsg_Sync:
    case PqMsg_Flush:
        return extended_message(x, type, body, len);
    case PqMsg_CopyData:
    case PqMsg_CopyDone:
    case PqMsg_CopyFail:
        return 0; /* after a failed COPY the client may still be sending: dropped */
    case PqMsg_FunctionCall:
    default: {
        char m[64];
        snprintf(m, sizeof m, "invalid frontend message type %d", (unsigned char)type);
        msg_error(x, "FATAL", "08P01", m, 0);
        return -1;
    }
    }
}

/* A session in COPY FROM STDIN is not idle, whatever its transaction state. */
int64_t pgx_idle_timeout_ms(const pgx *x) { return x->tx == PqTrans_Idle && !x->copy ? x->idle_timeout_ms : 0; }

const char *pgx_state(pgx *x) {
    if (!x) return "idle";
    return atomic_load(&x->running)     ? "active"
           : x->tx == PqTrans_InBlock  ? "idle in transaction"
           : x->tx == PqTrans_Failed   ? "idle in transaction (aborted)"
                                        : "idle";
}

long long pgx_query_count(pgx *x) { return x ? (long long)atomic_load(&x->query_count) : 0; }
