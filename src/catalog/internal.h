/* internal.h - what catalog.c needs of a metadata backend, and the state they share.
 * Private to src/catalog/: catalog.c holds every rule and every statement (written in
 * the SQL both engines accept); a backend only runs statements and reports changes.
 *
 *   duckdb.c  the embedded default: DATA_DIR/metadata.duckdb, one process
 *   pg.c      PostgreSQL 15 through libpq, shared by several processes, with a change
 *             feed (LISTEN/NOTIFY) that tells this process about other writers
 *   copy.c    `duckspace catalog copy`: every row from one backend to the other
 *   records.c freeing catalog.h's records (no backend needed) */
#ifndef DS_CATALOG_INTERNAL_H
#define DS_CATALOG_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"

#define CAT_VERIFIER_MAX 256 /* a SCRAM verifier as text (scram.h: at most 160) */
/* While the change feed is down, a cached login is trusted at most this long: a broken
 * feed must not keep a deleted workspace's password working (the bound). */
#define CAT_LOGIN_TTL_FEED_DOWN_MS 5000

/* A result, every cell as text (NULL: SQL NULL). Metadata results are small. */
typedef struct {
    int nrows, ncols;
    char **cells;    /* nrows * ncols, row-major, owned */
    int64_t changed; /* rows an INSERT, UPDATE or DELETE changed */
} cat_rows;

const char *cat_cell(const cat_rows *r, int row, int col); /* "" for NULL */
int64_t cat_cell_i64(const cat_rows *r, int row, int col); /* 0 for NULL */
bool cat_cell_null(const cat_rows *r, int row, int col);
void cat_rows_free(cat_rows *r);

/* How a statement ended. */
typedef enum {
    CATDB_OK = 0,
    CATDB_CONFLICT,    /* a unique or primary key violation */
    CATDB_UNAVAILABLE, /* the store cannot be reached now (connection lost, shut down) */
    CATDB_ERROR,       /* anything else (logged by the backend) */
} catdb_status;

typedef struct catdb_ops {
    const char *name; /* "duckdb" or "postgresql", for messages */
    /* Appended to a SELECT that must lock the rows it reads until COMMIT ("" where one
     * process with one connection serialises everything anyway). */
    const char *for_update;
    /* Runs sql ($1..$n placeholders) with n parameters: text values or NULL, types[i]
     * 's' text or 'l' a decimal int64. out may be NULL; else filled (free with
     * cat_rows_free) on CATDB_OK. Called with the catalog's mutex held. */
    catdb_status (*exec)(void *db, const char *sql, int n, const char *const *vals, const char *types,
                         cat_rows *out);
    /* The value nextval(name) would return next / makes it return next (catalog copy). */
    catdb_status (*get_sequence)(void *db, const char *name, int64_t *next);
    catdb_status (*set_sequence)(void *db, const char *name, int64_t next);
    void (*close)(void *db);
} catdb_ops;

struct cat {
    const catdb_ops *ops;
    void *db;
    char id[CAT_ID_MAX]; /* the catalog's identity (catalog_info), see cat_id() */
    pthread_mutex_t mu;               /* one statement or transaction at a time */
    atomic_uint_fast64_t version;     /* bumped by every change to buckets and tables */
    _Atomic uint64_t *_Atomic mirror; /* a copy of version others read (cat_set_version_mirror) */

    /* Logins read their workspace and verifier from here rather than from the store: the
     * lookup costs ~1 ms of CPU on DuckDB (a third of a login's server time, measured
     * with pgbench -C) and a round trip on PostgreSQL. An entry is good while its gen
     * equals login_gen, which every local write and every change the feed reports
     * bumps; while the feed is down (feed_live false) only for
     * CAT_LOGIN_TTL_FEED_DOWN_MS. Its own mutex: a warm login never waits behind a
     * statement to an unreachable store. */
    pthread_mutex_t cache_mu;
    atomic_uint_fast64_t login_gen;
    atomic_bool feed_live;
    struct login_entry {
        uint64_t gen;
        double fetched; /* ds_monotonic() */
        bool used;
        cat_workspace w;
        char verifier[CAT_VERIFIER_MAX];
    } logins[64];
};

/* Backends. Each opens its store, creates or migrates its schema, and fills *ops and c->db.
 * The PostgreSQL backend starts its change-feed listener, which reports to c. */
int catdb_duckdb_open(const char *path, cat *c, ds_err *err);
int catdb_pg_open(const char *conninfo, cat *c, ds_err *err);

/* Called by a backend's change feed (any thread): kind 't' (buckets or tables of
 * project id changed) or 'w' (workspace or credentials id changed). */
void cat_feed_changed(cat *c, char kind, const char *id);
/* The feed is up (just (re)subscribed: everything cached is dropped, since changes made
 * while it was away were not reported) or down. */
void cat_feed_state(cat *c, bool live);

/* Runs a statement with parameters described by fmt ('s' const char * or NULL, 'l'
 * int64_t), under c->mu held by the caller. A unique violation becomes on_conflict
 * (DS_OK: an internal error), an unreachable store DS_E_CATALOG_UNAVAILABLE. */
int cat_run(cat *c, cat_rows *out, ds_code on_conflict, ds_err *err, const char *sql, const char *fmt, ...);

/* The same with the parameters in arrays (n values, types as for catdb_ops.exec). */
int cat_run_values(cat *c, cat_rows *out, ds_code on_conflict, ds_err *err, const char *sql, int n,
                   const char *const *vals, const char *types);

#endif
