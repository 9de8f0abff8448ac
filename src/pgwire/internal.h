/* internal.h - what the pgwire/ files share: the session and the server. */
#ifndef DS_PGW_INTERNAL_H
#define DS_PGW_INTERNAL_H

#include <duckdb.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pgwire/pgwire.h"
#include "pgwire/proto.h"
#include "pgexec/frontend.h"
#include "pgexec/types.h"
#include "pgexec/tz.h"

#define PGW_STARTUP_MAX 10000        /* bytes of a startup packet */
#define PGW_PREAUTH_MSG_MAX 10000    /* any message before authentication */
#define PGW_MSG_MAX (256u << 20)     /* any message after it */
#define PGW_FREE_FAILURES 3          /* failed logins from an address before the slow-down */
#define PGW_FORGIVE_S 60.0           /* ... forgotten after this many quiet seconds */
#define PGW_FAIL_SLOTS 4096          /* addresses remembered */
#define PGW_FLUSH_AT (64u << 10)     /* result bytes buffered before a write */
#define PGW_MAX_COLUMNS 1664         /* result columns, as PostgreSQL's target lists (54011) */

typedef struct pgw_session pgw_session;

/* A client setting (SET/SHOW/RESET), kept per session. */
typedef struct {
    char name[64];
    char value[256];
    bool report; /* sent as ParameterStatus when it changes */
    /* A SET inside a transaction: the value before it, restored by ROLLBACK (and by
     * COMMIT for SET LOCAL). */
    bool has_saved, saved_local;
    char saved[256];
} pgw_setting;

#define PGW_MAX_SETTINGS 64

typedef enum { STMT_DUCK = 0, STMT_LOCAL, STMT_EMPTY } pgw_stmt_kind;

typedef struct pgw_stmt {
    struct pgw_stmt *next;
    char *name; /* "" for the unnamed statement */
    char *sql;
    pgw_stmt_kind kind;
    duckdb_prepared_statement st;
    int runs; /* duckdb_statement_type of what executing st does (EXPLAIN ANALYZE INSERT: INSERT) */
    int nparams;
    uint32_t *param_oids;
    bool unresolved; /* DuckDB could not infer a parameter's type at Parse */
    duckdb_type *param_types; /* as inferred at Parse */
    /* Portals bound to it. A Parse that replaces the unnamed statement leaves its
     * portals running (as PostgreSQL does): the statement is unlinked from the session's
     * list and freed with its last portal. */
    int nportals;
    bool unlinked;
    struct pgw_portal *bound_by; /* whose parameter values are bound in st */
} pgw_stmt;

typedef struct pgw_portal {
    struct pgw_portal *next;
    char *name;
    pgw_stmt *stmt;
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
     * connection (see pgw_park_portals); parked[parked_pos..nparked) are still to send. */
    bool parked_all; /* ... up to its end (else the rest is still in res) */
    struct pgw_parked {
        duckdb_data_chunk chunk;
        size_t bytes; /* estimated, counted in the session's parked_bytes */
    } *parked;
    size_t nparked, parked_cap, parked_pos;
    /* The Bind message, when it had parameters (see bound_by in pgw_stmt). */
    uint8_t *bind_body;
    size_t bind_len;
} pgw_portal;

struct pgw_session {
    pgw_server *srv;
    pgw_session *next; /* server list, under srv->mu */
    int fd;
    SSL *ssl;
    char client_addr[64];
    /* Whose budget of unauthenticated connections this one counts in: the IPv4 address,
     * or the /64 prefix of an IPv6 one (a single host usually holds a whole /64). */
    char addr_key[64];
    char id[24];
    int32_t pid, secret;
    pthread_t thread;
    /* Received bytes not yet consumed (one recv takes what the client pipelined). */
    uint8_t rbuf[16384];
    size_t r_len, r_pos;
    /* The body of the current message. */
    uint8_t *in;
    size_t in_cap;
    wire_wb out;
    pgt_buf cell;  /* scratch for one formatted value */
    pgt_buf cell2; /* more scratch (binary numeric goes through text) */
    /* Who. */
    char user[128];
    cat_workspace w;
    ws_instance *inst;
    ws_conn *wc;
    duckdb_connection con;
    /* State. */
    char tx;             /* 'I', 'T' or 'E' */
    bool ext_error;      /* extended protocol: discard until Sync */
    bool in_execute;     /* extended Execute: the RowDescription went with Describe */
    bool macros_ready;   /* version() and current_setting() made (on first use) */
    pgw_setting settings[PGW_MAX_SETTINGS];
    int nsettings;
    int64_t statement_timeout_ms;
    int64_t idle_timeout_ms; /* idle_session_timeout (0: none) */
    struct pgt_tz *tz; /* the TimeZone setting (NULL: UTC) */
    pgw_stmt *stmts;
    pgw_portal *portals;
    size_t parked_bytes; /* of all portals, at most cfg->suspended_result_memory (+ a chunk) */
    /* Shared with the watchdog, cancel requests and REST (atomics or srv->mu). */
    atomic_bool running;      /* a statement is executing */
    atomic_llong deadline_ms; /* monotonic ms; 0 = none */
    atomic_int cancel_reason; /* 0 none, 1 user, 2 timeout, 3 disconnected, 4 killed */
    atomic_uint cancel_seq;   /* counts cancel requests, also those between statements */
    double msg_deadline_ms;   /* a simple query's statement_timeout covers the whole message; 0 = none */
    atomic_bool killed;
    char kill_message[200];
    int64_t connected_at;
    atomic_llong last_activity;
    atomic_llong query_count;
    /* Before authentication (srv->mu): on srv->startups, counted in the pre-auth budget. */
    pgw_session *next_startup;
    bool in_startup;
    double accepted_ms;    /* monotonic: when it was accepted (the oldest is evicted first) */
    double auth_deadline_ms; /* monotonic: TLS, startup and authentication end by then */
    atomic_bool evicted;   /* pushed out of the pre-auth budget by a newcomer */
};

struct pgw_server {
    const ds_config *cfg;
    cat *cat;
    ws_registry *reg;
    SSL_CTX *tls;
    int listen_fd;
    int port; /* bound */
    int wake[2]; /* pipe that stops the listener */
    pthread_t listener, watchdog;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pgw_session *sessions;
    int nsessions;    /* authenticated, counted against limits */
    pgw_session *startups; /* not yet authenticated, oldest first */
    int nstartups;
    int nthreads;     /* session threads alive */
    bool stopping;
    unsigned char mock_secret[32]; /* for mock SCRAM of unknown users */
    /* tls-server-end-point channel binding data (RFC 5929): the hash of our certificate;
     * cbind_len 0 when TLS is off or the certificate's signature has no usable hash. */
    unsigned char cbind[EVP_MAX_MD_SIZE];
    size_t cbind_len;
    /* Failed logins per client address (the slow-down; see server.c). */
    struct pgw_addr_fails {
        char addr[64];   /* addr_key; "" for a free entry */
        int failures;    /* since the last quiet PGW_FORGIVE_S */
        double last;     /* monotonic s of the last failure */
        double next_at;  /* monotonic s of the next free turn */
    } *fails;            /* PGW_FAIL_SLOTS entries */
};

/* conn.c */
/* Milliseconds left of s's handshake (TLS, startup, authentication); 0 when past. */
int pgw_auth_remaining_ms(const pgw_session *s);
int pgw_read_exact(pgw_session *s, void *buf, size_t n, int timeout_ms);
/* Reads one message: type byte, length, body (into s->in). Returns 1 with the message,
 * 0 on a clean EOF, -1 on an error or a message over max (after sending 08P01),
 * -2 on idle timeout. */
int pgw_read_msg(pgw_session *s, char *type, const uint8_t **body, size_t *len, size_t max, int timeout_ms);
int pgw_flush(pgw_session *s);
void pgw_error(pgw_session *s, const char *severity, const char *sqlstate, const char *msg, int position);
void pgw_notice(pgw_session *s, const char *severity, const char *sqlstate, const char *msg);
/* ErrorResponse from a ds_err (its sqlstate when set, else the code's). */
void pgw_error_from(pgw_session *s, const ds_err *e, int position_offset);
void pgw_ready(pgw_session *s);
/* RowDescription of n text columns (SHOW, set_config()). */
void pgw_text_row_description(pgw_session *s, int n, const char *const *names);

/* auth.c: runs SCRAM; on success fills s->w and returns 0; on failure has sent 28P01. */
int pgw_authenticate(pgw_session *s, const pgw_startup *st);

/* settings.c */
void pgw_settings_init(pgw_session *s, const pgw_startup *st);
void pgw_settings_report_all(pgw_session *s);
/* Handles SET/RESET/SHOW text; returns 1 when handled (response written, or an
 * error sent and -1 returned), 0 when the statement is not one of these. */
int pgw_settings_statement(pgw_session *s, const char *sql, size_t len, bool describe_only);
const char *pgw_setting_get(pgw_session *s, const char *name);
/* At transaction end: undo SET LOCAL (commit) or every SET of the transaction (rollback). */
void pgw_settings_end_transaction(pgw_session *s, bool commit);
void pgw_settings_sync_macro(pgw_session *s);
/* Makes version()/current_setting() when sql calls one of them (once per session). */
void pgw_session_macros(pgw_session *s, const char *sql, size_t len);
/* SELECT set_config('name', 'value', is_local): applied here; 1 done, -1 error sent,
 * 0 when the statement is not exactly that. */
int pgw_settings_set_config(pgw_session *s, const char *sql, size_t len);

/* query.c */
/* DuckDB keeps one running result per connection: preparing or running anything else on
 * it ends a suspended streaming result without an error (measured with DuckDB 1.4.4, a
 * later duckdb_fetch_chunk just returns NULL). So before anything else runs on s->con,
 * every suspended portal but `keep` fetches the rest of its rows into memory, up to the
 * setting suspended_result_memory. Returns 0, or -1 when a portal has more rows than
 * that (the portal keeps them; the caller must not use s->con), with a 54000 error sent
 * when report is set. */
int pgw_park_portals(pgw_session *s, const pgw_portal *keep, bool report);
void pgw_simple_query(pgw_session *s, const char *sql, size_t len);
int pgw_extended(pgw_session *s, char type, const uint8_t *body, size_t len);
void pgw_free_statements(pgw_session *s);

/* server.c */
/* Before a password attempt: waits for the address's next turn when it has failed
 * recently (see server.c). 0 to go on; -1 when the turn would come after the handshake
 * deadline (nothing sent; the caller refuses); -2 when the server stops or s was evicted. */
int pgw_throttle_wait(pgw_session *s);
/* A failed (or abandoned) SCRAM exchange, and a successful one, from addr (an addr_key). */
void pgw_login_failed(pgw_server *srv, const char *addr);
void pgw_login_ok(pgw_server *srv, const char *addr);
double pgw_now_ms(void);

#endif
