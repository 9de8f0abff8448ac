/* catalog.h - the metadata store: projects, API keys, branches, buckets, tables and
 * workspaces. The one module that knows where metadata lives: an embedded DuckDB file
 * (DATA_DIR/metadata.duckdb, the default) or a PostgreSQL database several processes
 * share (internal.h); everything else sees only these records and functions.
 *
 * All functions are thread-safe. They return 0 or a negative ds_code with *err filled;
 * DS_E_CATALOG_UNAVAILABLE when a PostgreSQL catalog cannot be reached (clients see
 * 57P03 or HTTP 503; the next call tries again). branch_id "" means the main branch. */
#ifndef DS_CATALOG_H
#define DS_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/str.h"

#define CAT_ID_MAX 80
#define CAT_DESC_MAX 1024

typedef struct cat cat;

typedef struct {
    char id[DS_NAME_MAX + 1];
    char name[257];
    int64_t created_at;
    int64_t bucket_count, table_count, size_bytes; /* main branch */
} cat_project;

typedef struct {
    char id[24];
    char project_id[DS_NAME_MAX + 1];
    char name[DS_NAME_MAX + 1];
    char description[CAT_DESC_MAX + 1];
    int64_t created_at;
} cat_branch;

typedef struct {
    char project_id[DS_NAME_MAX + 1];
    char branch_id[DS_NAME_MAX + 1]; /* "" for a main bucket */
    char id[CAT_ID_MAX];
    char stage[4];
    char name[DS_NAME_MAX + 1];
    char description[CAT_DESC_MAX + 1];
    int64_t created_at;
} cat_bucket;

typedef struct {
    char project_id[DS_NAME_MAX + 1];
    char branch_id[DS_NAME_MAX + 1]; /* "" for a main table */
    char bucket_id[CAT_ID_MAX];
    char name[DS_NAME_MAX + 1];
    char *columns_json;     /* [{"name","type","nullable"}], owned */
    char *primary_key_json; /* ["id"], owned */
    int64_t generation;
    int64_t rows, size_bytes;
    int64_t created_at, updated_at;
    int64_t copied_at; /* branch copy of a main table: when copied; else 0 */
} cat_table;

void cat_table_clear(cat_table *t); /* frees owned strings; safe on a zeroed record */

typedef struct {
    cat_table *items;
    int count;
} cat_tables;
void cat_tables_free(cat_tables *l);

/* where: a DuckDB file path (optionally "duckdb:PATH"), or PostgreSQL as a
 * postgresql:// URL or a libpq "key=value" string (multi-host strings work). */
int cat_open(const char *where, cat **out, ds_err *err);
/* True when where names PostgreSQL (a URL with the scheme postgresql or postgres, or a
 * libpq key=value string). */
bool cat_is_postgres(const char *where);
void cat_close(cat *c);
const char *cat_backend(cat *c); /* "duckdb" or "postgresql" */
/* A random identity made when the catalog was created (and kept by cat_copy): the
 * data directory records it, so a server never treats another catalog's data
 * directory as its own. */
const char *cat_id(cat *c);
/* Copies every project, branch, bucket, table row, workspace and credential of from
 * into to, which must hold no project or workspace (then DS_E_PROJECT_EXISTS), in one
 * transaction. Offline: no server uses either. summary gets one line of counts. */
int cat_copy(cat *from, cat *to, char *summary, size_t summary_sz, ds_err *err);

/* A counter that changes whenever buckets or tables change, here or (PostgreSQL) in
 * another process (cheap to poll). */
uint64_t cat_version(cat *c);
/* Keeps *mirror equal to cat_version() from now on (NULL: stop): a page shared with
 * worker processes, which read the version there instead of asking. */
void cat_set_version_mirror(cat *c, _Atomic uint64_t *mirror);

/* Projects. key_hash is the SHA-256 hex of the project's API key. id may be NULL: then
 * the next free decimal id is chosen and written to out->id. */
int cat_project_create(cat *c, const char *id, const char *name, const char *key_hash, cat_project *out,
                       ds_err *err);
int cat_project_get(cat *c, const char *id, cat_project *out, ds_err *err);
int cat_project_list(cat *c, cat_project **out, int *count, ds_err *err);
/* Finds the project whose key hash matches; 0 with id filled, or DS_E_UNAUTHORIZED. */
int cat_project_by_key(cat *c, const char *key_hash, char id[DS_NAME_MAX + 1], ds_err *err);
int cat_project_delete(cat *c, const char *id, ds_err *err);

/* Branches. bid "default" is not stored: callers map it to "". */
int cat_branch_create(cat *c, const char *pid, const char *name, const char *description, cat_branch *out,
                      ds_err *err);
int cat_branch_get(cat *c, const char *pid, const char *bid, cat_branch *out, ds_err *err);
int cat_branch_list(cat *c, const char *pid, cat_branch **out, int *count, ds_err *err);
int cat_branch_delete(cat *c, const char *pid, const char *bid, ds_err *err);

/* Buckets, seen from branch bid (main buckets plus the branch's own). */
int cat_bucket_create(cat *c, const cat_bucket *b, ds_err *err);
int cat_bucket_get(cat *c, const char *pid, const char *bid, const char *bucket_id, cat_bucket *out, ds_err *err);
int cat_bucket_list(cat *c, const char *pid, const char *bid, cat_bucket **out, int *count, ds_err *err);
int cat_bucket_delete(cat *c, const char *pid, const char *bid, const char *bucket_id, ds_err *err);

/* Tables, seen from branch bid: the branch's own row if any, else main's.
 * cat_table_get returns DS_E_TABLE_NOT_FOUND when neither exists. */
int cat_table_get(cat *c, const char *pid, const char *bid, const char *bucket_id, const char *name,
                  cat_table *out, ds_err *err);
/* bucket_id NULL lists every table the branch sees. */
int cat_table_list(cat *c, const char *pid, const char *bid, const char *bucket_id, cat_tables *out,
                   ds_err *err);
/* Inserts or replaces the row (project_id, branch_id, bucket_id, name) of t. With
 * expect_generation >= 0 the existing row must still have that generation (0: must not
 * exist, else DS_E_TABLE_EXISTS; else DS_E_TABLE_CHANGED): that keeps two publishers,
 * in any processes, from overwriting each other. */
int cat_table_put(cat *c, const cat_table *t, int64_t expect_generation, ds_err *err);
int cat_table_delete(cat *c, const char *pid, const char *bid, const char *bucket_id, const char *name,
                     ds_err *err);
/* Every table row of every project and branch (for start-up clean-up). */
int cat_table_list_all(cat *c, cat_tables *out, ds_err *err);
/* Number of table rows in a bucket of one branch (not inherited ones). */
int cat_bucket_table_count(cat *c, const char *pid, const char *bid, const char *bucket_id, int64_t *out,
                           ds_err *err);

/* Workspaces. expires_at 0 means never. username is "{id}_" + 8 hex characters. */
typedef struct {
    char id[24];
    char project_id[DS_NAME_MAX + 1];
    char branch_id[DS_NAME_MAX + 1]; /* "" for main */
    char name[257];
    int64_t created_at, expires_at;
    int64_t size_limit_bytes;
    char status[16];
    char username[48];
} cat_workspace;

/* Creates the workspace and its credentials in one transaction; fails with
 * DS_E_LIMIT_EXCEEDED when the project already has max_per_project workspaces. */
int cat_workspace_create(cat *c, const cat_workspace *w, const char *verifier, int64_t max_per_project,
                         ds_err *err);
int cat_workspace_get(cat *c, const char *id, cat_workspace *out, ds_err *err);
/* Workspaces of project pid in branch bid (NULL: every branch), ordered by creation;
 * *total is the number without limit/offset. limit <= 0: all. */
int cat_workspace_list(cat *c, const char *pid, const char *bid, int64_t limit, int64_t offset,
                       cat_workspace **out, int *count, int64_t *total, ds_err *err);
int cat_workspace_delete(cat *c, const char *id, ds_err *err);
int cat_workspace_set_verifier(cat *c, const char *id, const char *verifier, ds_err *err);
/* The workspace and verifier of a login name (DS_E_UNAUTHORIZED when unknown). */
int cat_workspace_by_username(cat *c, const char *username, cat_workspace *out, char *verifier, size_t verifier_sz,
                              ds_err *err);
/* Workspaces whose expires_at is set and not after now. */
int cat_workspace_expired(cat *c, int64_t now, cat_workspace **out, int *count, ds_err *err);
/* Every workspace of every project (start-up clean-up). */
int cat_workspace_all(cat *c, cat_workspace **out, int *count, ds_err *err);

#endif
