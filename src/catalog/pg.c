/* pg.c - the catalog on PostgreSQL (15 or later) through libpq: the store several
 * duckspace processes can share (../shared/spec/scale-out.md, S1).
 *
 * Two connections per process:
 *   - "duckspace": runs the catalog's statements, one at a time (catalog.c's mutex).
 *     Lost, it is reconnected at the next statement, at most every RECONNECT_MS;
 *     meanwhile statements fail at once with CATDB_UNAVAILABLE (clients see 57P03 or
 *     HTTP 503), nothing waits on a dead server.
 *   - "duckspace-listener": LISTEN ds_catalog. Triggers on the catalog's tables send a
 *     notification for every change, whoever makes it (another node, psql), delivered
 *     at COMMIT. On each notification catalog.c drops cached logins ("w:<workspace>")
 *     or bumps the catalog version ("t:<project>"), which open workspaces check at
 *     their next statement. PostgreSQL keeps nothing for a listener that was away, so
 *     every (re)subscription drops every cache (cat_feed_state), and while the feed is
 *     down a cached login is trusted only for a few seconds.
 *
 * Schema "duckspace" in the target database, created and migrated at start-up under an
 * advisory lock (two processes starting together migrate once). Every text column
 * collates "C", so listings sort as on the DuckDB backend whatever the database's
 * locale. Messages never carry the connection string (it can hold a password). */
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/internal.h"
#include "util/log.h"
#include "util/timeutil.h"

#define PG_SCHEMA_VERSION 1
#define RECONNECT_MS 250
#define LISTEN_BACKOFF_MAX_MS 1000
#define MIGRATION_LOCK_KEY 0x6475636b73706163LL /* "duckspac" */

typedef struct {
    cat *owner;
    char *conninfo;
    char where[300]; /* host:port/dbname, for messages */
    PGconn *conn;
    bool broken;               /* conn must be replaced before the next statement */
    double next_attempt;       /* ds_monotonic() before which no reconnect is tried */
    atomic_bool reset_main;    /* set by the listener after an outage: reconnect first */
    /* Statements prepared on conn (parsed and planned once: a cold login's lookup costs
     * about 0.3 ms of PostgreSQL's time instead of 0.7, bench/catalog.sh). Keyed by
     * the statement's text; emptied with every new connection. */
    struct prepared {
        uint64_t hash;
        char *sql;
    } prepared[64];
    int nprepared;
    pthread_t listener;
    bool listener_started;
    int stop_pipe[2];
    atomic_bool stopping;
} pgdb;

/* ---- connections ---- */

static void quiet_notices(void *arg, const char *msg) {
    (void)arg;
    log_debug("catalog: PostgreSQL says: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* Opens a connection: our defaults first (the user's string can override them), then
 * the string, then the application name (always ours: it names the connection's role
 * in pg_stat_activity). NULL when out of memory; else check PQstatus. */
static PGconn *connect_as(pgdb *d, const char *appname) {
    const char *keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "tcp_user_timeout", "dbname", "application_name", NULL};
    const char *vals[] = {"5", "10", "3", "3", "15000", d->conninfo, appname, NULL};
    PGconn *pc = PQconnectdbParams(keys, vals, 1);
    if (pc && PQstatus(pc) == CONNECTION_OK) {
        PQsetNoticeProcessor(pc, quiet_notices, NULL);
        /* A catalog statement waits at most 5 s for a lock another session holds (an
         * operator's open transaction in psql) and runs at most 30 s: then it fails
         * as "unavailable" (retry) instead of stalling every catalog call behind it. */
        PGresult *r = PQexec(pc, "SELECT pg_catalog.set_config('search_path', 'duckspace', false),"
                                 " pg_catalog.set_config('lock_timeout', '5s', false),"
                                 " pg_catalog.set_config('statement_timeout', '30s', false)");
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        if (!ok) {
            PQfinish(pc);
            return NULL;
        }
    }
    return pc;
}

/* The first line of libpq's message (it never contains the password). */
static void pq_reason(PGconn *pc, char *out, size_t outsz) {
    const char *m = pc ? PQerrorMessage(pc) : "out of memory";
    snprintf(out, outsz, "%.*s", (int)strcspn(m, "\n"), m);
}

static void forget_prepared(pgdb *d) {
    for (int i = 0; i < d->nprepared; i++) free(d->prepared[i].sql);
    d->nprepared = 0;
}

static catdb_status ensure_conn(pgdb *d) {
    /* The listener asks for a fresh connection after an outage; never inside a
     * transaction (its later statements would run outside it, without its locks). */
    if (d->conn && PQtransactionStatus(d->conn) == PQTRANS_IDLE && atomic_exchange(&d->reset_main, false))
        d->broken = true;
    if (d->conn && !d->broken && PQstatus(d->conn) == CONNECTION_OK) return CATDB_OK;
    double now = ds_monotonic();
    if (now < d->next_attempt) return CATDB_UNAVAILABLE;
    if (d->conn) PQfinish(d->conn);
    forget_prepared(d);
    d->conn = connect_as(d, "duckspace");
    d->broken = false;
    if (d->conn && PQstatus(d->conn) == CONNECTION_OK) {
        log_info("catalog: connected to PostgreSQL at %s", d->where);
        return CATDB_OK;
    }
    char why[300];
    pq_reason(d->conn, why, sizeof why);
    log_warn("catalog: cannot connect to PostgreSQL at %s: %s", d->where, why);
    if (d->conn) PQfinish(d->conn);
    d->conn = NULL;
    d->next_attempt = ds_monotonic() + RECONNECT_MS / 1000.0; /* from the end of an attempt that timed out */
    return CATDB_UNAVAILABLE;
}

/* ---- statements ---- */

static bool lost_connection(PGconn *pc, const char *sqlstate) {
    if (PQstatus(pc) != CONNECTION_OK || !sqlstate) return true;
    return strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 || strcmp(sqlstate, "57P02") == 0 ||
           strcmp(sqlstate, "57P03") == 0;
}

static catdb_status to_rows(PGresult *res, cat_rows *out) {
    memset(out, 0, sizeof *out);
    const char *ct = PQcmdTuples(res);
    out->changed = ct && *ct ? strtoll(ct, NULL, 10) : 0;
    int n = PQntuples(res), k = PQnfields(res);
    if (k == 0) return CATDB_OK;
    size_t cells = (size_t)n * (size_t)k;
    out->cells = calloc(cells > 0 ? cells : 1, sizeof *out->cells);
    if (!out->cells) return CATDB_ERROR;
    out->nrows = n;
    out->ncols = k;
    for (int row = 0; row < n; row++)
        for (int col = 0; col < k; col++) {
            if (PQgetisnull(res, row, col)) continue;
            char *v = strdup(PQgetvalue(res, row, col));
            if (!v) {
                cat_rows_free(out);
                return CATDB_ERROR;
            }
            out->cells[(size_t)row * (size_t)k + (size_t)col] = v;
        }
    return CATDB_OK;
}

/* Runs sql with parameters, prepared once per connection (as "s<index>") when it has
 * parameters and a slot is free; else sent whole. A failed Parse is reported like a
 * failed statement. */
static PGresult *run_statement(pgdb *d, const char *sql, int n, const Oid *oids, const char *const *vals) {
    if (n == 0) return PQexecParams(d->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = sql; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    char name[16];
    for (int i = 0; i < d->nprepared; i++)
        if (d->prepared[i].hash == h && strcmp(d->prepared[i].sql, sql) == 0) {
            snprintf(name, sizeof name, "s%d", i);
            return PQexecPrepared(d->conn, name, n, vals, NULL, NULL, 0);
        }
    if (d->nprepared == (int)(sizeof d->prepared / sizeof d->prepared[0]))
        return PQexecParams(d->conn, sql, n, oids, vals, NULL, NULL, 0);
    char *copy = strdup(sql);
    if (!copy) return PQexecParams(d->conn, sql, n, oids, vals, NULL, NULL, 0);
    snprintf(name, sizeof name, "s%d", d->nprepared);
    PGresult *pr = PQprepare(d->conn, name, sql, n, oids);
    if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
        free(copy);
        return pr;
    }
    PQclear(pr);
    d->prepared[d->nprepared].hash = h;
    d->prepared[d->nprepared].sql = copy;
    d->nprepared++;
    return PQexecPrepared(d->conn, name, n, vals, NULL, NULL, 0);
}

static catdb_status pg_exec(void *db, const char *sql, int n, const char *const *vals, const char *types,
                            cat_rows *out) {
    pgdb *d = db;
    catdb_status st = ensure_conn(d);
    if (st != CATDB_OK) return st;
    Oid oids[32];
    if (n > (int)(sizeof oids / sizeof oids[0])) return CATDB_ERROR;
    for (int i = 0; i < n; i++) oids[i] = types[i] == 'l' ? 20 /* int8 */ : 25 /* text */;
    PGresult *res = run_statement(d, sql, n, oids, vals);
    ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
        st = to_rows(res, out);
    } else {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (lost_connection(d->conn, state)) {
            char why[300];
            pq_reason(d->conn, why, sizeof why);
            log_warn("catalog: lost the connection to PostgreSQL at %s: %s", d->where, why);
            d->broken = true;
            st = CATDB_UNAVAILABLE;
        } else if (strcmp(state, "23505") == 0) {
            st = CATDB_CONFLICT;
        } else if (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0) {
            log_warn("catalog: a statement gave up waiting (%s: %s); is a session holding locks on the catalog?",
                     state, strcmp(state, "55P03") == 0 ? "lock_timeout" : "statement_timeout");
            st = CATDB_UNAVAILABLE;
        } else {
            const char *m = res ? PQresultErrorMessage(res) : "";
            log_error("catalog: query failed (%s): %.*s", state, (int)strcspn(m, "\n"), m);
            st = CATDB_ERROR;
        }
    }
    PQclear(res);
    return st;
}

static catdb_status pg_get_sequence(void *db, const char *name, int64_t *next) {
    /* Read from the sequence itself: pg_sequences shows no last_value after
     * setval(..., false), which is what a copied catalog's sequence has. name is one of
     * ours, never input. */
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s", name);
    cat_rows r;
    catdb_status st = pg_exec(db, sql, 0, NULL, "", &r);
    if (st != CATDB_OK) return st;
    if (r.nrows != 1) st = CATDB_ERROR;
    else *next = cat_cell_i64(&r, 0, 0);
    cat_rows_free(&r);
    return st;
}

static catdb_status pg_set_sequence(void *db, const char *name, int64_t next) {
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)next);
    const char *vals[] = {name, num};
    cat_rows r;
    catdb_status st = pg_exec(db, "SELECT setval($1::regclass, $2, false)", 2, vals, "sl", &r);
    if (st == CATDB_OK) cat_rows_free(&r);
    return st;
}

/* ---- schema ---- */

#define T "text COLLATE \"C\""
/* Migration 1: the tables of the DuckDB backend, the same columns, plus what one
 * process had for free: foreign keys (DuckDB cannot have them, see duckdb.c) and the
 * triggers of the change feed. */
static const char *migration_1[] = {
    "CREATE TABLE catalog_info (id " T " PRIMARY KEY)",
    "CREATE TABLE projects (id " T " PRIMARY KEY, name " T " NOT NULL, api_key_hash " T " NOT NULL UNIQUE,"
    " created_at bigint NOT NULL)",
    "CREATE SEQUENCE branch_ids START 1",
    "CREATE TABLE branches (project_id " T " NOT NULL REFERENCES projects ON DELETE CASCADE, id " T " NOT NULL,"
    " name " T " NOT NULL, description " T " NOT NULL DEFAULT '', created_at bigint NOT NULL,"
    " PRIMARY KEY (project_id, id), UNIQUE (project_id, name))",
    "CREATE TABLE buckets (project_id " T " NOT NULL REFERENCES projects ON DELETE CASCADE, branch_id " T " NOT NULL,"
    " id " T " NOT NULL, stage " T " NOT NULL, name " T " NOT NULL, description " T " NOT NULL DEFAULT '',"
    " created_at bigint NOT NULL, PRIMARY KEY (project_id, branch_id, id))",
    "CREATE TABLE tables (project_id " T " NOT NULL REFERENCES projects ON DELETE CASCADE, branch_id " T " NOT NULL,"
    " bucket_id " T " NOT NULL, name " T " NOT NULL, columns_json " T " NOT NULL, primary_key_json " T " NOT NULL,"
    " generation bigint NOT NULL, row_count bigint NOT NULL, size_bytes bigint NOT NULL, created_at bigint NOT NULL,"
    " updated_at bigint NOT NULL, copied_at bigint NOT NULL DEFAULT 0,"
    " PRIMARY KEY (project_id, branch_id, bucket_id, name))",
    "CREATE TABLE workspaces (id " T " PRIMARY KEY, project_id " T " NOT NULL REFERENCES projects ON DELETE CASCADE,"
    " branch_id " T " NOT NULL DEFAULT '', name " T " NOT NULL, created_at bigint NOT NULL, expires_at bigint,"
    " size_limit_bytes bigint NOT NULL, status " T " NOT NULL DEFAULT 'active')",
    "CREATE INDEX workspaces_project ON workspaces (project_id, created_at)",
    "CREATE TABLE workspace_credentials (workspace_id " T " PRIMARY KEY REFERENCES workspaces ON DELETE CASCADE,"
    " username " T " NOT NULL UNIQUE, scram_verifier " T " NOT NULL, created_at bigint NOT NULL)",
    "CREATE TABLE sessions (id " T " PRIMARY KEY, workspace_id " T " NOT NULL, client_addr " T " NOT NULL,"
    " connected_at bigint NOT NULL)",
    /* The change feed: one notification per changed row, folded by PostgreSQL when a
     * transaction repeats one. Payloads stay far below NOTIFY's 8000-byte limit (ids
     * are at most 255 bytes). */
    "CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
    "DECLARE r record; k text;\n"
    "BEGIN\n"
    "  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;\n"
    "  IF TG_TABLE_NAME = 'workspaces' THEN k := 'w:' || r.id;\n"
    "  ELSIF TG_TABLE_NAME = 'workspace_credentials' THEN k := 'w:' || r.workspace_id;\n"
    "  ELSIF TG_TABLE_NAME = 'projects' THEN k := 't:' || r.id;\n"
    "  ELSE k := 't:' || r.project_id;\n"
    "  END IF;\n"
    "  PERFORM pg_catalog.pg_notify('ds_catalog', k);\n"
    "  RETURN NULL;\n"
    "END $f$",
    "CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON projects FOR EACH ROW EXECUTE FUNCTION notify_change()",
    "CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON branches FOR EACH ROW EXECUTE FUNCTION notify_change()",
    "CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON buckets FOR EACH ROW EXECUTE FUNCTION notify_change()",
    "CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON tables FOR EACH ROW EXECUTE FUNCTION notify_change()",
    "CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON workspaces FOR EACH ROW EXECUTE FUNCTION notify_change()",
    "CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON workspace_credentials FOR EACH ROW"
    " EXECUTE FUNCTION notify_change()",
    NULL,
};
#undef T

static const char *const *migrations[] = {migration_1}; /* migrations[v - 1] makes version v */

static int plain(PGconn *pc, const char *sql, char *why, size_t whysz) {
    PGresult *r = PQexec(pc, sql);
    ExecStatusType es = PQresultStatus(r);
    int rc = es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK ? 0 : -1;
    if (rc) {
        const char *m = PQresultErrorMessage(r);
        snprintf(why, whysz, "%.*s", (int)strcspn(m, "\n"), m);
    }
    PQclear(r);
    return rc;
}

/* Creates or upgrades the schema in one transaction, under an advisory lock. */
static int migrate(pgdb *d, ds_err *err) {
    char why[400] = "", sql[120];
    PGconn *pc = d->conn;
    int from = 0;
    if (plain(pc, "BEGIN", why, sizeof why)) goto fail;
    snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", (long long)MIGRATION_LOCK_KEY);
    if (plain(pc, sql, why, sizeof why) || plain(pc, "CREATE SCHEMA IF NOT EXISTS duckspace", why, sizeof why) ||
        plain(pc, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", why, sizeof why))
        goto fail;
    PGresult *r = PQexec(pc, "SELECT coalesce(max(version), 0) FROM schema_version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        snprintf(why, sizeof why, "cannot read the schema version");
        goto fail;
    }
    from = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (from > PG_SCHEMA_VERSION) {
        plain(pc, "ROLLBACK", why, sizeof why);
        return ds_fail(err, DS_E_INTERNAL, "the catalog's schema version %d is newer than this server's (%d)", from,
                       PG_SCHEMA_VERSION);
    }
    for (int v = from + 1; v <= PG_SCHEMA_VERSION; v++) {
        for (const char *const *s = migrations[v - 1]; *s; s++)
            if (plain(pc, *s, why, sizeof why)) goto fail;
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d)", v);
        if (plain(pc, sql, why, sizeof why)) goto fail;
    }
    if (plain(pc, "COMMIT", why, sizeof why)) goto fail;
    if (from < PG_SCHEMA_VERSION)
        log_info("catalog: schema duckspace at %s migrated from version %d to %d", d->where, from, PG_SCHEMA_VERSION);
    return 0;
fail:;
    char ignored[64];
    plain(pc, "ROLLBACK", ignored, sizeof ignored);
    return ds_fail(err, DS_E_INTERNAL, "cannot create the catalog schema at %s: %s", d->where, why);
}

/* ---- the change feed ---- */

/* Waits up to ms for the stop pipe; true when asked to stop. */
static bool wait_stop(pgdb *d, int ms) {
    struct pollfd p = {.fd = d->stop_pipe[0], .events = POLLIN};
    return poll(&p, 1, ms) > 0 || atomic_load(&d->stopping);
}

static void on_notify(pgdb *d, const char *payload) {
    if ((payload[0] == 't' || payload[0] == 'w') && payload[1] == ':') {
        cat_feed_changed(d->owner, payload[0], payload + 2);
    } else { /* not ours to read: assume anything changed */
        cat_feed_changed(d->owner, 'w', "");
        cat_feed_changed(d->owner, 't', "");
    }
}

static void *listener_main(void *arg) {
    pgdb *d = arg;
    int backoff = 50;
    bool was_up = false, said_down = false;
    while (!atomic_load(&d->stopping)) {
        PGconn *l = connect_as(d, "duckspace-listener");
        char why[300] = "";
        if (!l || PQstatus(l) != CONNECTION_OK || plain(l, "LISTEN ds_catalog", why, sizeof why) != 0) {
            if (!why[0]) pq_reason(l, why, sizeof why);
            if (!said_down) log_warn("catalog: change feed cannot subscribe at %s: %s; retrying", d->where, why);
            said_down = true;
            if (l) PQfinish(l);
            if (wait_stop(d, backoff)) break;
            backoff = backoff * 2 > LISTEN_BACKOFF_MAX_MS ? LISTEN_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = 50;
        /* Changes made while we were away were not reported: drop every cache; and
         * the statement connection likely died in the same outage. */
        if (was_up) atomic_store(&d->reset_main, true);
        cat_feed_state(d->owner, true);
        if (was_up || said_down) log_info("catalog: change feed resubscribed at %s; caches dropped", d->where);
        was_up = true;
        said_down = false;
        for (;;) {
            struct pollfd p[2] = {{.fd = PQsocket(l), .events = POLLIN}, {.fd = d->stop_pipe[0], .events = POLLIN}};
            int pr = poll(p, 2, 5000);
            if (atomic_load(&d->stopping) || (pr > 0 && p[1].revents)) break;
            if (pr > 0 && PQconsumeInput(l) == 0) break;
            PGnotify *n;
            while ((n = PQnotifies(l)) != NULL) {
                on_notify(d, n->extra);
                PQfreemem(n);
            }
            if (PQstatus(l) != CONNECTION_OK) break;
        }
        cat_feed_state(d->owner, false);
        if (!atomic_load(&d->stopping)) {
            pq_reason(l, why, sizeof why);
            log_warn("catalog: change feed lost at %s: %s; resubscribing", d->where, why);
        }
        PQfinish(l);
    }
    return NULL;
}

/* ---- open / close ---- */

static void pg_close(void *db) {
    pgdb *d = db;
    if (!d) return;
    atomic_store(&d->stopping, true);
    if (d->listener_started) {
        ssize_t w = write(d->stop_pipe[1], "x", 1);
        (void)w;
        pthread_join(d->listener, NULL);
    }
    if (d->stop_pipe[0] >= 0) close(d->stop_pipe[0]);
    if (d->stop_pipe[1] >= 0) close(d->stop_pipe[1]);
    if (d->conn) PQfinish(d->conn);
    forget_prepared(d);
    if (d->conninfo) explicit_bzero(d->conninfo, strlen(d->conninfo));
    free(d->conninfo);
    free(d);
}

static const catdb_ops pg_ops = {
    .name = "postgresql",
    .for_update = " FOR UPDATE",
    .exec = pg_exec,
    .get_sequence = pg_get_sequence,
    .set_sequence = pg_set_sequence,
    .close = pg_close,
};

/* host:port/dbname of a connection string, without anything else (no password). */
static void describe(const char *conninfo, char *out, size_t outsz) {
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);
    PQfreemem(perr);
    const char *host = NULL, *port = NULL, *db = NULL;
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val) continue;
        if (strcmp(o->keyword, "host") == 0) host = o->val;
        else if (strcmp(o->keyword, "port") == 0) port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0) db = o->val;
    }
    snprintf(out, outsz, "%.120s%s%.40s/%.100s", host ? host : "(default host)", port ? ":" : "", port ? port : "",
             db ? db : "(default database)");
    PQconninfoFree(opts);
}

int catdb_pg_open(const char *conninfo, cat *c, ds_err *err) {
    char *perr = NULL;
    PQconninfoOption *check = PQconninfoParse(conninfo, &perr);
    if (!check) {
        /* libpq's message quotes no value of the string, only what was wrong. */
        ds_fail(err, DS_E_INVALID_REQUEST, "invalid PostgreSQL catalog connection string: %.*s",
                perr ? (int)strcspn(perr, "\n") : 13, perr ? perr : "out of memory");
        PQfreemem(perr);
        return -(int)err->code;
    }
    PQconninfoFree(check);
    pgdb *d = calloc(1, sizeof *d);
    if (!d || !(d->conninfo = strdup(conninfo))) {
        free(d);
        return ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    d->owner = c;
    d->stop_pipe[0] = d->stop_pipe[1] = -1;
    describe(conninfo, d->where, sizeof d->where);
    if (pipe(d->stop_pipe) != 0) {
        pg_close(d);
        return ds_fail(err, DS_E_INTERNAL, "pipe failed");
    }
    d->conn = connect_as(d, "duckspace");
    if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
        char why[300];
        pq_reason(d->conn, why, sizeof why);
        ds_fail(err, DS_E_CATALOG_UNAVAILABLE, "cannot connect to the PostgreSQL catalog at %s: %s", d->where, why);
        pg_close(d);
        return -(int)err->code;
    }
    if (migrate(d, err) != 0) {
        pg_close(d);
        return -(int)err->code;
    }
    c->ops = &pg_ops;
    c->db = d;
    atomic_store(&c->feed_live, false); /* until the listener has subscribed */
    if (pthread_create(&d->listener, NULL, listener_main, d) != 0) {
        c->ops = NULL;
        c->db = NULL;
        pg_close(d);
        return ds_fail(err, DS_E_INTERNAL, "cannot start the catalog's change feed");
    }
    d->listener_started = true;
    log_info("catalog: PostgreSQL at %s (schema duckspace, version %d)", d->where, PG_SCHEMA_VERSION);
    return 0;
}
