/* pgexec.h - the executor: what PostgreSQL's SQL and its query protocols mean on one
 * workspace connection. The front door of pgexec/.
 *
 * One executor per SQL session. It takes framed frontend messages (type byte and body,
 * already length-checked by the client side) and writes backend messages into a sink.
 * It never touches a socket: when a result grows past PGX_FLUSH_AT bytes, or at Sync and
 * Flush, it calls the sink's flush callback, which applies the back-pressure (the client
 * side writes to its socket; a worker process would write to its pipe). Everything here
 * runs on the session's thread except the functions marked thread-safe, which other
 * threads (watchdog, cancel requests, the session list) may call while the executor
 * lives. */
#ifndef DS_PGEXEC_H
#define DS_PGEXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgexec/protocol.h"
#include "util/wire.h"
#include "workspace/workspace.h"

#define PGX_FLUSH_AT (64u << 10) /* result bytes buffered before the sink is flushed */

typedef struct pgx pgx;

/* Where backend messages go. The executor appends to *out; flush sends out's bytes on
 * and empties it, returning 0, or -1 when the receiver is gone (a running statement is
 * then stopped, as for a client that hung up). */
typedef struct {
    wire_wb *out;
    int (*flush)(void *ud);
    void *ud;
} pgx_sink;

/* What an executor needs to start. Pointers are borrowed for its lifetime (inst and
 * wc) or only during pgx_new (strings, startup parameters). */
typedef struct {
    ws_instance *inst;                  /* the workspace instance (size limit checks) */
    ws_conn *wc;                        /* the session's own connection to it */
    int64_t size_limit_bytes;           /* the workspace's, for messages */
    int64_t suspended_result_memory;    /* bytes of rows parked for suspended portals */
    int64_t statement_timeout_s;        /* defaults of the settings of the same names */
    int64_t idle_session_timeout_s;
    const char *user;                   /* session_authorization */
    const char *database;               /* the database the client connected to */
    const char *const *keys, *const *values; /* startup parameters (settings among them apply) */
    int nparams;
} pgx_params;

/* Why a running statement was interrupted (0: it was not). */
typedef enum {
    PGX_STOP_NONE = 0,
    PGX_STOP_USER = 1,         /* a cancel request */
    PGX_STOP_TIMEOUT = 2,      /* statement_timeout */
    PGX_STOP_DISCONNECTED = 3, /* the client is gone */
    PGX_STOP_KILLED = 4,       /* the session is being ended */
} pgx_stop;

/* NULL when out of memory or when the connection cannot take the session's identity.
 * Applies the startup parameters that are settings; sends nothing yet. */
pgx *pgx_new(const pgx_params *p, pgx_sink sink);
/* Frees statements and portals and rolls an open transaction back. NULL is a no-op.
 * The connection itself stays the caller's. */
void pgx_free(pgx *x);
/* After login: a ParameterStatus for every reported setting. */
void pgx_report_settings(pgx *x);
/* ReadyForQuery with the transaction status. */
void pgx_ready(pgx *x);
/* One frontend message after login, any type: the query protocols (Query, Parse, Bind,
 * Describe, Execute, Close, Sync, Flush), COPY's CopyData, CopyDone, CopyFail (the
 * copy-in sub-state of COPY FROM STDIN takes every message but Terminate), Terminate.
 * Returns 0 to go on, -1 when the session ends: Terminate, a FATAL in the sink (an
 * unknown message type, a malformed Query, a message with no place in copy-in), or the
 * sink's flush failed. A Query's responses end with ReadyForQuery but are left in the
 * sink for the caller to flush. */
int pgx_message(pgx *x, char type, const uint8_t *body, size_t len);
/* idle_session_timeout while idle outside a transaction block, in ms; 0 for none. */
int64_t pgx_idle_timeout_ms(const pgx *x);

/* Thread-safe. */
/* Interrupts the running statement, if any, for reason. */
void pgx_interrupt(pgx *x, pgx_stop reason);
/* A cancel request: also stops a simple-query script between its statements. */
void pgx_cancel(pgx *x);
/* For the watchdog: true while a statement runs and was not interrupted yet. One past
 * its statement_timeout (now_ms: monotonic) is interrupted here, and false returned. */
bool pgx_watch(pgx *x, double now_ms);
/* For the session list: "active", "idle", "idle in transaction" or "idle in
 * transaction (aborted)", and the count of statements run. */
const char *pgx_state(pgx *x);
/* How long the running statement has been interrupted without stopping, in ms (0: it
 * runs normally, or nothing runs). DuckDB cannot interrupt every function call: past a
 * grace period the worker that runs it is ended (worker/). */
double pgx_interrupted_for_ms(pgx *x, double now_ms);
long long pgx_query_count(pgx *x);

/* Monotonic milliseconds, the clock of deadlines. */
double pgx_now_ms(void);
/* An ErrorResponse (type PqMsg_ErrorResponse) or NoticeResponse into out: also for the
 * client side's own FATAL errors, so that there is one writer of their fields. */
void pgx_msg_error_fields(wire_wb *out, char type, const char *severity, const char *sqlstate, const char *msg,
                          int position);

#endif
