/* internal.h - what the pgexec/ files share: the executor's state, its statements and
 * portals, and the functions each file offers the others.
 *
 * Who does what: tcop.c says what a statement is (from its text); exec.c is the only
 * code that runs anything on the workspace connection (and parks suspended portals
 * before, always); portal.c streams results; simple.c and extended.c are the two query
 * protocols; utility.c runs the statements answered here (transactions, DEALLOCATE,
 * LISTEN, settings); cursor.c the SQL cursors; settings.c the client settings; msg.c
 * writes backend messages. */
#ifndef DS_PGX_INTERNAL_H
#define DS_PGX_INTERNAL_H

#include "pgexec/analyze.h"
#include <duckdb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pgexec/frontend.h"
#include "pgexec/pgexec.h"
#include "pgexec/tcop.h"
#include "pgexec/types/types.h"
#include "pgexec/types/tz.h"
#include "util/err.h"

#define PGX_MAX_COLUMNS 1664 /* result columns, as PostgreSQL's target lists (54011) */
#define PGX_MAX_SETTINGS 64

/* A client setting (SET/SHOW/RESET), kept per session. */
typedef struct {
    char name[64];
    char value[256];
    bool report; /* sent as ParameterStatus when it changes */
    /* A SET inside a transaction: the value before it, restored by ROLLBACK (and by
     * COMMIT for SET LOCAL). */
    bool has_saved, saved_local;
    char saved[256];
} pgx_setting;

typedef enum { STMT_DUCK = 0, STMT_LOCAL, STMT_EMPTY } pgx_stmt_kind;

typedef struct pgx_stmt {
    struct pgx_stmt *next;
    char *name; /* "" for the unnamed statement */
    char *sql;
    pgx_stmt_kind kind;
    duckdb_prepared_statement st;
    int runs; /* duckdb_statement_type of what executing st does (EXPLAIN ANALYZE INSERT: INSERT) */
    pga_result an; /* the analysis (analyze.h): PostgreSQL's names for the result columns */
    int nparams;
    uint32_t *param_oids;
    bool unresolved; /* DuckDB could not infer a parameter's type at Parse */
    duckdb_type *param_types; /* as inferred at Parse */
    uint32_t *slot_oids;      /* the PostgreSQL OIDs of those types (0: not inferred) */
    /* Portals bound to it. A Parse that replaces the unnamed statement leaves its
     * portals running (as PostgreSQL does): the statement is unlinked from the session's
     * list and freed with its last portal. */
    int nportals;
    bool unlinked;
    struct pgx_portal *bound_by; /* whose parameter values are bound in st */
} pgx_stmt;

typedef struct pgx_portal {
    struct pgx_portal *next;
    char *name;
    pgx_stmt *stmt;
    int16_t *formats; /* result formats as Bind gave them */
    int nformats;
    bool started, done;
    duckdb_result res;
    bool has_res;
    int ncols;
    pgt_col *cols;
    duckdb_vector *vecs;     /* ncols: the current chunk's columns, while sending it */
    duckdb_data_chunk chunk; /* the chunk being sent, when suspended mid-chunk */
    idx_t chunk_row;
    uint64_t rows;
    bool owns_stmt; /* a SQL cursor (DECLARE): its statement goes with it */
    bool hold;         /* DECLARE ... WITH HOLD: survives COMMIT */
    bool hold_pending; /* ... declared in a transaction not yet committed */
    /* The rest of a suspended result, fetched before another statement ran on the
     * connection (see exec_park); parked[parked_pos..nparked) are still to send. */
    bool parked_all; /* ... up to its end (else the rest is still in res) */
    struct pgx_parked {
        duckdb_data_chunk chunk;
        size_t bytes; /* estimated, counted in the executor's parked_bytes */
    } *parked;
    size_t nparked, parked_cap, parked_pos;
    /* The Bind message, when it had parameters (see bound_by in pgx_stmt). */
    uint8_t *bind_body;
    size_t bind_len;
} pgx_portal;

/* A savepoint (savepoint.c): its name and how many possibly-writing statements the
 * transaction had run when it was set. */
typedef struct {
    char name[64];
    uint64_t writes_at;
} pgx_savepoint;

struct pgx {
    /* The workspace connection (borrowed) and its limits. */
    ws_instance *inst;
    ws_conn *wc;
    duckdb_connection con; /* wc's: used by exec.c alone */
    int64_t size_limit_bytes;
    size_t suspended_result_memory;
    int64_t default_statement_timeout_ms, default_idle_timeout_ms;
    /* Output. */
    pgx_sink sink;
    wire_wb *out; /* sink.out */
    pgt_buf cell;  /* scratch for one formatted value */
    pgt_buf cell2; /* more scratch (binary numeric goes through text) */
    /* State. */
    char tx;           /* PqTrans_Idle, PqTrans_InBlock or PqTrans_Failed */
    bool ext_error;    /* extended protocol: discard until Sync */
    bool in_execute;   /* extended Execute: the RowDescription went with Describe */
    bool macros_ready; /* version() and current_setting() made (on first use) */
    bool identity_ready; /* the connection knows the login (ws_conn_set_identity), on first use */
    pgx_setting settings[PGX_MAX_SETTINGS];
    int nsettings;
    int64_t statement_timeout_ms;
    int64_t idle_timeout_ms; /* idle_session_timeout (0: none) */
    struct pgt_tz *tz;       /* the TimeZone setting (NULL: UTC) */
    char *user, *database; /* this login: what current_user and current_database() answer */
    char default_search_path[256]; /* "$user", public, then the bucket schemas */
    pgx_stmt *stmts;
    pgx_portal *portals;
    pgx_savepoint *savepoints; /* of the open transaction block, oldest first */
    int nsavepoints, savepoints_cap;
    uint64_t tx_writes; /* statements other than SELECT run in this transaction block */
    struct pgx_copy *copy; /* COPY FROM STDIN in progress (copy.c): the protocol's copy-in sub-state */
    size_t parked_bytes;   /* of all portals, at most suspended_result_memory (+ a chunk) */
    double msg_deadline_ms; /* a simple query's statement_timeout covers the whole message; 0 = none */
    /* Shared with the watchdog, cancel requests and the session list. */
    atomic_bool running;      /* a statement is executing */
    atomic_llong deadline_ms; /* monotonic ms; 0 = none */
    atomic_int cancel_reason; /* a pgx_stop */
    atomic_llong interrupted_ms; /* monotonic ms of the first interrupt of the running statement; 0 none */
    atomic_uint cancel_seq;   /* counts cancel requests, also those between statements */
    atomic_llong query_count;
};

/* msg.c: backend messages into x->out. */
void msg_complete(pgx *x, const char *tag);
void msg_empty(pgx *x, char type); /* a message without a body */
void msg_error(pgx *x, const char *severity, const char *sqlstate, const char *msg, int position);
/* ERROR '<what> "<name>" does not exist' with sqlstate (26000 statements, 34000 portals and
 * cursors, 3B001 savepoints); returns -1. */
int msg_missing(pgx *x, const char *what, const char *name, const char *sqlstate);
void msg_notice(pgx *x, const char *severity, const char *sqlstate, const char *msg);
/* An ERROR with a CONTEXT line (field 'W'; context NULL or "": none). */
void msg_error_context(pgx *x, const char *sqlstate, const char *msg, const char *context);
/* ErrorResponse from a ds_err (its sqlstate when set, else the code's). */
void msg_error_from(pgx *x, const ds_err *e, int position_offset);
void msg_ready(pgx *x);
void msg_parameter_status(pgx *x, const char *name, const char *value);
/* RowDescription of n text columns (SHOW, set_config()), and one DataRow of n texts. */
void msg_text_row_description(pgx *x, int n, const char *const *names);
void msg_text_row(pgx *x, int n, const char *const *values);
/* The format of result column i as Bind asked: none = text, one = all, else each. */
int16_t msg_col_format(const int16_t *fmts, int nfmts, int i);
/* 54011 past PGX_MAX_COLUMNS result columns; returns true (error sent) then. */
bool msg_too_wide(pgx *x, idx_t ncols);
/* RowDescription from column names and types, with the result formats of the portal
 * (fmts NULL: text, as for the simple protocol and Describe of a statement). */
void msg_row_description(pgx *x, int n, char *(*name)(void *, int), duckdb_logical_type (*type)(void *, int), void *ud,
                         const int16_t *fmts, int nfmts, const pga_result *an);
#define msg_rowdesc(x, n, name, type, ud, an) msg_row_description(x, n, name, type, ud, NULL, 0, an)
/* Column name/type readers for msg_row_description: of a result, of a prepared statement. */
char *msg_res_name(void *res, int i);
duckdb_logical_type msg_res_type(void *res, int i);
char *msg_st_name(void *stmt, int i);
duckdb_logical_type msg_st_type(void *stmt, int i);
/* Sends out what the sink holds (Sync, Flush, back-pressure): 0, or -1 when gone. */
int msg_flush(pgx *x);

/* exec.c: the only code that runs anything on the workspace connection. Each function
 * first parks the suspended portals (exec_park), whatever it runs. */
#define EXEC_REPORT 1u /* send the error (54000 when parking fails, DuckDB's otherwise) */
#define EXEC_MACROS 2u /* make version()/current_setting() first when the text calls them */
#define EXEC_STREAM 4u /* a streaming result that counts as a running statement */
/* DuckDB keeps one running result per connection: preparing or running anything else on
 * it ends a suspended streaming result without an error (measured with DuckDB 1.4.4, a
 * later duckdb_fetch_chunk just returns NULL). So before anything else runs on the
 * connection, every suspended portal but `keep` fetches the rest of its rows into
 * memory, up to suspended_result_memory. Returns 0, or -1 when a portal has more rows
 * than that (the portal keeps them; nothing may run), with a 54000 error sent when
 * report is set. */
int exec_park(pgx *x, const pgx_portal *keep, bool report);
/* The client's SQL text through the workspace's sandbox (ws_prepare): THE place where
 * statement text reaches DuckDB. Returns 0, or -1 (with EXEC_REPORT an error was sent;
 * its position counted from pos_offset). */
/* Analyses sql once (analyze.h) into *an (NULL: not kept; left empty on failure), and
 * prepares what DuckDB runs: the rewritten text when a rule fired, else sql. */
int exec_prepare(pgx *x, const char *sql, unsigned flags, int pos_offset, duckdb_prepared_statement *st, int *runs,
                 pga_result *an);
/* Executes st (parking all but keep). Returns 0; -1 when parking refused (res
 * untouched); -2 when DuckDB failed (res holds the error and must be destroyed). With
 * EXEC_STREAM the statement counts as running (exec_end_running ends that). */
int exec_execute(pgx *x, const pgx_portal *keep, duckdb_prepared_statement st, duckdb_result *res, unsigned flags);
/* Runs SQL of our own (transaction control, macros: never the client's text). Returns
 * 0; -1 when parking refused; -2 when DuckDB failed (e gets the error when not NULL,
 * and with EXEC_REPORT it is sent). */
int exec_sql(pgx *x, const char *sql, unsigned flags, ds_err *e);
/* Whether DuckDB has a setting by that name (picks 42501 over 42704). */
bool exec_duckdb_has_setting(pgx *x, const char *name);
/* Makes version() and current_setting() when sql calls one (once per session). */
void exec_session_macros(pgx *x, const char *sql, size_t len);
/* Installs current_setting()'s macro (sql NULL: could not be built). The gate refuses
 * current_setting() until it is made. Returns 0, 1 (sql NULL), -1 (not made). */
int exec_settings_macro(pgx *x, const char *sql);
void exec_end_running(pgx *x);
/* ReadyForQuery, after giving back (ws_conn_reclaim) what a statement the size guard
 * stopped wrote, when no transaction is open: the client's next statement then sees the
 * workspace's real size. Every ReadyForQuery after a statement goes through it. */
void exec_ready(pgx *x);
/* A statement that may write ran in the open transaction block (exec_execute counts
 * its own; COPY FROM calls this): savepoint.c needs to know. */
void exec_note_write(pgx *x);
/* Marks x running again (resuming a suspended portal). */
void exec_resume_running(pgx *x);
/* COPY FROM STDIN: the copy-in counts as a running statement (cancel, statement_timeout,
 * the size guard) from CopyInResponse to its end. */
void exec_copy_running(pgx *x, bool on);
/* ws_appender_open (workspace.h) on the connection, after parking. -1 with e empty when
 * parking refused (error sent), else its return. */
int exec_appender_open(pgx *x, const char *schema, const char *table, const char *const *cols, int ncols,
                       duckdb_appender *app, char ***names, int *nnames, ds_err *e);
/* The client is gone mid-result: stops the statement. */
void exec_stop(pgx *x, pgx_stop reason);
/* The workspace's size guard stopped the last statement; the size limit is reached. */
bool exec_size_stopped(pgx *x);
bool exec_size_reached(pgx *x);

/* portal.c */
pgx_stmt *stmt_find(pgx *x, const char *name);
pgx_portal *portal_find(pgx *x, const char *name);
void portal_free(pgx *x, pgx_portal *p);
void stmt_destroy(pgx_stmt *t);
/* Close, DEALLOCATE: the statement and the portals made from it. */
void stmt_free(pgx *x, pgx_stmt *t);
/* A Parse into the unnamed statement: the old one's portals keep running. */
void stmt_replace_unnamed(pgx *x, pgx_stmt *t);
void stmt_free_all(pgx *x);
void portal_clear_result(pgx *x, pgx_portal *p);
/* Starts executing p's statement (streaming). Returns 0, or -1 with an error sent. */
int portal_start(pgx *x, pgx_portal *p);
/* Runs/continues a DuckDB portal: rows (up to max_rows) then CommandComplete, or
 * PortalSuspended. send_desc: a RowDescription goes first (simple protocol). */
int portal_run(pgx *x, pgx_portal *p, int64_t max_rows, bool send_desc);
/* Sends rows from p (max_rows 0: all). Returns 1 when suspended, 0 at the end, -1 on
 * an error (sent). skip: MOVE passes the rows over instead. */
int portal_stream(pgx *x, pgx_portal *p, int64_t max_rows, uint64_t *sent);
int portal_skip(pgx *x, pgx_portal *p, int64_t max_rows, uint64_t *skipped);

/* ErrorResponse for a failed DuckDB result (57014 for a cancel or timeout, 53100 for
 * the size guard, else DuckDB's error). */
void portal_result_error(pgx *x, duckdb_result *res);

/* copy.c: COPY ... FROM STDIN / TO STDOUT. copy_statement runs COPY TO to its end, or
 * starts COPY FROM (CopyInResponse; x->copy set): 1 done or started, -1 error sent.
 * extended: started by Execute (after an error, discard until Sync).
 * copy_message takes every message while x->copy is set; copy_abort drops a COPY FROM
 * in progress (session end). */
int copy_statement(pgx *x, const char *sql, size_t len, bool extended);
int copy_message(pgx *x, char type, const uint8_t *body, size_t len);
void copy_abort(pgx *x);
/* The script's statements after a COPY FROM STDIN, run when it ends well. */
void copy_set_rest(pgx *x, const char *rest);

/* extended.c */
/* Binds Bind's parameter values into t's DuckDB statement; -1 with an error sent. */
int bind_values(pgx *x, pgx_stmt *t, const pgx_bind_msg *m);
int extended_message(pgx *x, char type, const uint8_t *body, size_t len);

/* simple.c */
void simple_query(pgx *x, const char *sql, size_t len);

/* utility.c: statements answered here. Returns 1 done, -1 error sent, 0 not ours. */
int utility_statement(pgx *x, const char *sql, size_t len, bool describe_only);
void utility_rollback(pgx *x);

/* savepoint.c: SAVEPOINT, RELEASE, ROLLBACK TO (k says which). 1 done, -1 error sent. */
int savepoint_statement(pgx *x, tcop_kind k, const char *sql, size_t len);
/* At transaction end (and BEGIN): no savepoints, nothing written. */
void savepoint_end_transaction(pgx *x);
void savepoint_free(pgx *x);

/* cursor.c */
int cursor_statement(pgx *x, tcop_kind k, const char *sql, size_t len);
/* At the end of a transaction: its cursors close, but WITH HOLD ones once committed. */
void cursor_end_transaction(pgx *x, bool committed);
/* Before COMMIT or ROLLBACK runs: what ends with the transaction goes first. */
void cursor_close_transaction_portals(pgx *x, bool rollback);

/* settings.c */
void settings_init(pgx *x, const char *user, const char *const *keys, const char *const *values, int n);
void settings_report_all(pgx *x);
/* SET/RESET/SHOW: 1 when handled (response written, or an error sent and -1
 * returned), 0 when the statement is not one of these. */
int settings_statement(pgx *x, const char *sql, size_t len, bool describe_only);
const char *setting_get(pgx *x, const char *name);
/* At transaction end: undo SET LOCAL (commit) or every SET of the transaction (rollback). */
void settings_end_transaction(pgx *x, bool commit);
void settings_sync_macro(pgx *x);
/* SELECT set_config('name', 'value', is_local): 1 done, -1 error sent, 0 not exactly that. */
int settings_set_config(pgx *x, const char *sql, size_t len);

#endif
