/* storage.h - the data directory: table files, their generations, branches, uploads.
 *
 * The only module that knows file paths. Layout (documented in docs/user-guide.md):
 *   DATA_DIR/metadata.duckdb                              (opened by catalog/)
 *   DATA_DIR/project_{pid}/{schema}/{table}.g{N}.duckdb    main tables, generation N
 *   DATA_DIR/project_{pid}_branch_{bid}/{schema}/...       a dev branch's tables
 *   DATA_DIR/tmp/                                          upload spool, DuckDB temp files
 *
 * Publishing: an import writes generation N+1 to "<final>.tmp", checkpoints and fsyncs
 * it, renames it into place, then commits the new generation to the catalog. A crash
 * before the commit leaves an orphan that start-up removes; after it, the old generation
 * is the orphan. Published files are never written again: they are mode 0444 from
 * before their rename (start-up makes older ones so too), and the process cannot
 * override file modes (util/privs.h), so even a workspace's hard link to one cannot be
 * opened for writing. Nothing here opens a published file read-write: an incremental
 * import or a branch's copy on write copies it to a new file first. */
#ifndef DS_STORAGE_H
#define DS_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "util/err.h"

typedef struct stor stor;

typedef enum { STOR_FMT_NONE = 0, STOR_FMT_CSV, STOR_FMT_PARQUET } stor_format;
typedef enum { STOR_CREATE = 0, STOR_REPLACE, STOR_APPEND } stor_mode;

/* Opens the data directory (created when missing), removes what a crash left behind
 * (temporary files, unpublished or superseded generations, directories of deleted
 * projects and branches). import_threads 0 means one per core; preserve_order keeps
 * the uploaded file's row order (slower on big files). */
int stor_open(const char *data_dir, cat *c, int import_threads, bool preserve_order, stor **out, ds_err *err);
void stor_close(stor *s);

typedef struct {
    const char *project_id;
    const char *branch_id; /* "" main */
    const char *bucket_id;
    const char *table;
    stor_mode mode;
    stor_format format;       /* NONE only with STOR_CREATE: an empty table from columns_json */
    const char *src_path;     /* the uploaded data (a spool file), format CSV or PARQUET */
    const char *columns_json; /* STOR_CREATE + NONE: [{"name","type"}], types already normalised */
    const char *primary_key_json; /* STOR_CREATE: ["col", ...] or NULL */
} stor_import_req;

/* Creates or loads a table and publishes the new generation. In a dev branch the first
 * write to a main table makes the branch's own copy (copy on write). On failure the
 * table is exactly as before: DS_E_IMPORT_FAILED carries the parser's message.
 * imported_rows: rows inserted or replaced; out: the new catalog row (caller clears). */
int stor_import(stor *s, const stor_import_req *req, int64_t *imported_rows, cat_table *out, ds_err *err);

/* Drops a table row of branch bid (not an inherited one) and its file. */
int stor_table_drop(stor *s, const cat_table *t, ds_err *err);
/* Drops a bucket of branch bid with every table in it (files included). */
int stor_bucket_drop(stor *s, const char *pid, const char *bid, const char *bucket_id, ds_err *err);
/* Removes the files of a branch / a project (with its branches), after the catalog rows
 * are gone. Missing files are not an error. */
int stor_branch_remove_files(stor *s, const char *pid, const char *bid, ds_err *err);
int stor_project_remove_files(stor *s, const char *pid, const char *const *branch_ids, int nbranches, ds_err *err);

/* Upload spool: a new empty file in DATA_DIR/tmp opened for writing. The caller writes,
 * closes, passes the path to stor_import and unlinks it. */
int stor_spool_create(stor *s, int *fd, char *path, size_t pathsz, ds_err *err);

/* Reading a table's current generation: pins the file (so it is not removed while in
 * use) and attaches it READ_ONLY in the process's reader instance. relation is the
 * quoted SQL name to select from; run queries on con. */
typedef struct {
    void *con; /* duckdb_connection */
    char relation[256];
    char path[4096];
} stor_read;
/* Looks the table up as branch bid sees it (filling *t; the caller clears it after a
 * success, nothing to clear after a failure) and pins it. */
int stor_read_begin(stor *s, const char *pid, const char *bid, const char *bucket_id, const char *name,
                    stor_read *out, cat_table *t, ds_err *err);
void stor_read_end(stor *s, stor_read *r);

/* Workspace files, under DATA_DIR/project_{pid}[_branch_{bid}]/_workspaces/:
 *   {ws}/             the workspace's own directory (its worker may write only here):
 *   {ws}/{ws}.duckdb  its database (+ .wal), {ws}/tmp/ DuckDB's temp space;
 *   {ws}.tables/      links to the table generations the workspace reads (read-only to
 *                     its worker: the only project files it may open). */
typedef struct {
    char dir[4096];
    char db[4200];
    char wal[4200];
    char links[4200];
    char tmp[4200];
} stor_ws_paths;
/* Fills the paths; with create, makes the directories. */
int stor_workspace_paths(stor *s, const char *pid, const char *bid, const char *ws_id, bool create,
                         stor_ws_paths *out, ds_err *err);
/* Removes every file of a workspace. */
void stor_workspace_remove(stor *s, const stor_ws_paths *p);
/* Removes the workspace's links to table generations (when its instance closes). */
void stor_workspace_drop_links(const stor_ws_paths *p);
/* What a workspace's files take on disk: its database file's length (free blocks
 * included), its WAL, and the space allocated to the files in its temp directory
 * (DuckDB's temp files may be sparse). Missing files count 0. */
typedef struct {
    int64_t db, wal, tmp;
} stor_ws_disk;
void stor_workspace_disk(const stor_ws_paths *p, stor_ws_disk *out);
/* Makes table (pid, bid view, bucket, name) readable by a workspace: hard-links its
 * current generation into links_dir (out_path) and fills *t (caller clears). The lookup
 * and link happen under the storage lock, so the generation cannot vanish in between. */
int stor_link_table(stor *s, const char *pid, const char *bid, const char *bucket_id, const char *name,
                    const char *links_dir, char *out_path, size_t outsz, cat_table *t, ds_err *err);

/* Normalises a column type from the allow-list ("int4" -> "INTEGER",
 * "numeric(10, 2)" -> "DECIMAL(10,2)"). Returns 0, or -1 for anything not allowed. */
int stor_type_normalize(const char *in, char *out, size_t outsz);

/* Parses the header line of a CSV body (RFC 4180: comma separated, double quotes,
 * optional UTF-8 byte-order mark) from buf[0..len). Calls cb for each field name.
 * Returns the number of fields, or -1 when no complete header line is in buf or a name
 * is malformed (empty, over 255 bytes, an unterminated quote). */
int stor_csv_header(const char *buf, size_t len, void (*cb)(void *ud, const char *name, size_t n), void *ud);

#endif
