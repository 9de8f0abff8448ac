/* workspace.h - a workspace's sandboxed DuckDB instance, as a worker process holds it
 * (worker/worker.c: one instance per worker; the main process never opens one).
 *
 * An instance holds the workspace's own database (read-write, its default catalog) and
 * reaches the project's tables read-only as schema.table through views in an in-memory
 * catalog. Project tables are attached on first use (a query that names one), never all
 * up front, so opening a workspace of a 1000-table project stays cheap. After set-up the
 * instance is sandboxed: no file access except the workspace's own link directory, no
 * extension loading, configuration locked; ws_prepare refuses the statement types that
 * could leave the sandbox. */
#ifndef DS_WORKSPACE_H
#define DS_WORKSPACE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "config.h"
#include "storage/storage.h"
#include "util/err.h"

typedef struct ws_registry ws_registry;
typedef struct ws_instance ws_instance;

/* Where an instance learns of its project's tables (as its branch sees them) and gets
 * one linked for reading. The metadata catalog and the table files are the main
 * process's: a worker asks it over its channel (worker/worker.c). */
typedef struct {
    void *ud;
    /* A counter that changes whenever buckets or tables change (cheap: called before
     * every statement). */
    uint64_t (*version)(void *ud);
    int (*table_get)(void *ud, const char *bucket_id, const char *name, cat_table *out, ds_err *err);
    int (*table_list)(void *ud, cat_tables *out, ds_err *err);
    /* Links the table's current generation into the workspace's links directory: path
     * is the link to ATTACH READ_ONLY, *t the table's row (caller clears). */
    int (*link_table)(void *ud, const char *bucket_id, const char *name, char *path, size_t pathsz, cat_table *t,
                      ds_err *err);
} ws_source;

/* Starts the size guard. src is copied. */
int ws_registry_new(const ds_config *cfg, const ws_source *src, ws_registry **out, ds_err *err);
/* Closes every instance. NULL is a no-op. */
void ws_registry_free(ws_registry *r);
/* The compatibility catalog: a database that every instance opened from now on attaches
 * READ_ONLY and puts last in each connection's search path, so its views and macros
 * answer unqualified names that neither the workspace nor the project defines; nobody
 * can write into it. ws_compat_build makes the database file at path from SQL that is
 * opaque here (the SQL front end's catalog.sql), which names its own objects
 * <compat>.main.x, where <compat> is the catalog name it is attached under (ds_compat),
 * and can use the table functions of project_catalog.c. It runs at build time
 * (src/pgexec/compat/compat_db_gen.c): the server embeds the file, the main process
 * writes it into the data directory and each worker attaches it from there. */
int ws_compat_build(const char *sql, const char *path, ds_err *err);
/* Where the compat database file is (call before any instance opens). */
void ws_registry_set_compat_path(ws_registry *r, const char *path);
/* DuckDB threads of the instances opened from now on (0: DuckDB's default, one per core). */
void ws_registry_set_threads(ws_registry *r, int threads);

/* The open instance of workspace w whose files are paths (opened now if needed,
 * creating the database of a new workspace). Reference counted: every acquire is
 * paired with a release. */
int ws_acquire(ws_registry *r, const cat_workspace *w, const stor_ws_paths *paths, ws_instance **out, ds_err *err);
void ws_release(ws_registry *r, ws_instance *inst);

/* A DuckDB connection of an instance, for one REST call or one SQL session. */
typedef struct ws_conn ws_conn;
int ws_conn_open(ws_instance *inst, ws_conn **out, ds_err *err);
void ws_conn_close(ws_conn *c);
void *ws_conn_duckdb(ws_conn *c); /* duckdb_connection */
/* A statement starts / ends on c (NULL: no-op). While any runs, the size guard samples
 * the workspace every 200 ms, and stops every running statement of a workspace that
 * grows past its size limit plus workspace_size_allowance (duckdb_interrupt; the
 * statement fails and its changes roll back). */
void ws_conn_begin(ws_conn *c);
void ws_conn_end(ws_conn *c);
/* Whether the size guard stopped c's current or last statement (report SQLSTATE 53100,
 * not a cancel). Cleared by ws_conn_begin. */
bool ws_conn_size_stopped(ws_conn *c);
/* Called when c's session is idle (no transaction open on c): if the size guard stopped
 * a statement of the workspace, checkpoints so that the blocks the rolled-back statement
 * wrote stop counting against the limit; otherwise a statement the client runs next
 * (even a read) would be stopped too. Cheap when there is nothing to give back; tried
 * again next time while another connection holds a transaction open. */
void ws_conn_reclaim(ws_conn *c);

/* The bucket schemas of the workspace's project (branch view), sorted, joined by ", "
 * into out (cut at a name boundary when it does not fit; "" when there are none). They
 * are on every user connection's search path, after the workspace's own schema. */
void ws_project_schemas(ws_instance *inst, char *out, size_t outsz);

/* Prepares one statement of user SQL in the sandbox (the gate is src/workspace/gate.c).
 * Refuses (DS_E_FORBIDDEN, SQLSTATE 42501) what could leave it, however wrapped: ATTACH,
 * DETACH, USE, COPY, EXPORT/IMPORT, INSTALL/LOAD, PRAGMA, CALL, CHECKPOINT, VACUUM, SET
 * of settings, SQL-level PREPARE/EXECUTE, functions and views that reach files, server
 * paths or settings; also inside EXPLAIN [ANALYZE]. Attaches the project tables the
 * statement names. *out is a duckdb_prepared_statement; *runs (when not NULL) the
 * duckdb_statement_type of what executing it does (for EXPLAIN ANALYZE INSERT: INSERT).
 * SQL errors come back as DS_E_INVALID_REQUEST with DuckDB's message. */
int ws_prepare(ws_conn *c, const char *sql, void *out, int *runs, ds_err *err);
/* COPY FROM STDIN's sink: a DuckDB appender (*out, a duckdb_appender) on c for the
 * table [schema.]table of the workspace's own database (temporary tables first when
 * schema is NULL, as the search path resolves them), on the columns cols[0..ncols)
 * (ncols 0: every column, in order). Nothing but the workspace's own tables: a project
 * table, a view or a catalog answers 25006 / 42809 / 42501, an unknown table 42P01
 * (the name is resolved through the gate, as a query's would be), an unknown column
 * 42703, a workspace at its size limit 53100. Runs on c's connection: callers park
 * their results first. *names (malloc'd array of malloc'd strings, *nnames of them;
 * free with ws_names_free) are the target's columns in appender order. */
int ws_appender_open(ws_conn *c, const char *schema, const char *table, const char *const *cols, int ncols, void *out,
                     char ***names, int *nnames, ds_err *err);
void ws_names_free(char **names, int n);
/* Who is connected, for the compat catalog's identity macros: creates the connection's
 * TEMP macros ds_session_user() and ds_session_database() (what current_database(),
 * pg_roles, ... of the compat catalog answer). Names are checked (at most 63 bytes,
 * no NUL). 0, or DS_E_INTERNAL. */
int ws_conn_set_identity(ws_conn *c, const char *user, const char *database, ds_err *err);
/* Tells the gate that current_setting() on this connection is the SQL front end's
 * per-session macro (made successfully), not DuckDB's, which shows server settings. */
void ws_conn_set_setting_shim(ws_conn *c, bool on);

/* Bytes the workspace uses, as counted against its size limit: the blocks of its
 * database that hold data (DuckDB's used blocks x block size: space freed by DROP or
 * DELETE counts once a checkpoint has released it), its WAL, and the files in its temp
 * directory. At or past the limit it checkpoints first (so what was dropped is freed)
 * and measures again. */
int64_t ws_size_bytes(ws_instance *inst);
/* ws_size_bytes(inst) >= its size limit, cheaply while the files are well below it
 * (two stat calls; DuckDB is asked only when their length reaches the limit). */
bool ws_size_reached(ws_instance *inst);
/* [{"name","type":"table"|"view","rows"}] of the user's objects. */
int ws_objects(ws_instance *inst, json_t **out, ds_err *err);
/* Drops every object the user created (schemas, tables, views, macros, sequences,
 * types, indexes), checks that none is left (DS_E_INTERNAL otherwise) and checkpoints,
 * so the space is free again; project tables stay reachable. */
int ws_clear(ws_instance *inst, ds_err *err);
/* Drops one table or view; DS_E_OBJECT_NOT_FOUND when there is none by that name. */
int ws_drop_object(ws_instance *inst, const char *name, ds_err *err);

/* One table to copy in. */
typedef struct {
    const char *source;      /* "in.c-sales.orders" */
    const char *destination; /* NULL: the table's name */
    json_t *columns;         /* NULL or array of column names */
    const char *where;       /* NULL or a filter, run in the sandbox */
} ws_load_item;
/* Copies project tables into the workspace, all or nothing. On success *out is
 * [{"source","destination","rows","size_bytes"}]. */
int ws_load(ws_instance *inst, const ws_load_item *items, int n, json_t **out, ds_err *err);

#endif
