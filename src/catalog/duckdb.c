/* duckdb.c - the embedded catalog backend: DATA_DIR/metadata.duckdb, the default.
 *
 * One process owns the file (DuckDB's lock refuses a second), so nothing else writes
 * it and there is no change feed: local writes are all the changes there are. */
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "util/log.h"

#define CAT_SCHEMA_VERSION 1

typedef struct {
    duckdb_database db;
    duckdb_connection con;
} ddb;

static const char *schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    /* One row: the catalog's random identity, which the data directory records
     * (catalog.id) so that a server never cleans a data directory up against another
     * catalog (main.c). Added without a version step: created when missing. */
    "CREATE TABLE IF NOT EXISTS catalog_info (id VARCHAR PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS projects (id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL,"
    " api_key_hash VARCHAR NOT NULL UNIQUE, created_at BIGINT NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS branch_ids START 1",
    "CREATE TABLE IF NOT EXISTS branches (project_id VARCHAR NOT NULL, id VARCHAR NOT NULL,"
    " name VARCHAR NOT NULL, description VARCHAR NOT NULL DEFAULT '', created_at BIGINT NOT NULL,"
    " PRIMARY KEY (project_id, id), UNIQUE (project_id, name))",
    "CREATE TABLE IF NOT EXISTS buckets (project_id VARCHAR NOT NULL, branch_id VARCHAR NOT NULL,"
    " id VARCHAR NOT NULL, stage VARCHAR NOT NULL, name VARCHAR NOT NULL,"
    " description VARCHAR NOT NULL DEFAULT '', created_at BIGINT NOT NULL,"
    " PRIMARY KEY (project_id, branch_id, id))",
    "CREATE TABLE IF NOT EXISTS tables (project_id VARCHAR NOT NULL, branch_id VARCHAR NOT NULL,"
    " bucket_id VARCHAR NOT NULL, name VARCHAR NOT NULL, columns_json VARCHAR NOT NULL,"
    " primary_key_json VARCHAR NOT NULL, generation BIGINT NOT NULL, row_count BIGINT NOT NULL,"
    " size_bytes BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " copied_at BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (project_id, branch_id, bucket_id, name))",
    /* No foreign keys: DuckDB checks them on UPDATE of any column (seed note, quirk 3). */
    "CREATE TABLE IF NOT EXISTS workspaces (id VARCHAR PRIMARY KEY, project_id VARCHAR NOT NULL,"
    " branch_id VARCHAR NOT NULL DEFAULT '', name VARCHAR NOT NULL, created_at BIGINT NOT NULL,"
    " expires_at BIGINT, size_limit_bytes BIGINT NOT NULL, status VARCHAR NOT NULL DEFAULT 'active')",
    "CREATE TABLE IF NOT EXISTS workspace_credentials (workspace_id VARCHAR PRIMARY KEY,"
    " username VARCHAR NOT NULL UNIQUE, scram_verifier VARCHAR NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions (id VARCHAR PRIMARY KEY, workspace_id VARCHAR NOT NULL,"
    " client_addr VARCHAR NOT NULL, connected_at BIGINT NOT NULL)",
};

static catdb_status to_rows(duckdb_result *res, cat_rows *out) {
    idx_t n = duckdb_row_count(res), k = duckdb_column_count(res);
    memset(out, 0, sizeof *out);
    out->changed = (int64_t)duckdb_rows_changed(res);
    if (k == 0) return CATDB_OK;
    out->cells = calloc(n * k > 0 ? n * k : 1, sizeof *out->cells);
    if (!out->cells) return CATDB_ERROR;
    out->nrows = (int)n;
    out->ncols = (int)k;
    for (idx_t row = 0; row < n; row++)
        for (idx_t col = 0; col < k; col++) {
            if (duckdb_value_is_null(res, col, row)) continue;
            char *v = duckdb_value_varchar(res, col, row);
            char *d = strdup(v ? v : "");
            duckdb_free(v);
            if (!d) {
                cat_rows_free(out);
                return CATDB_ERROR;
            }
            out->cells[row * k + col] = d;
        }
    return CATDB_OK;
}

static catdb_status ddb_exec(void *db, const char *sql, int n, const char *const *vals, const char *types,
                             cat_rows *out) {
    ddb *d = db;
    duckdb_prepared_statement st;
    if (duckdb_prepare(d->con, sql, &st) == DuckDBError) {
        log_error("catalog: prepare failed: %s", duckdb_prepare_error(st));
        duckdb_destroy_prepare(&st);
        return CATDB_ERROR;
    }
    for (int i = 0; i < n; i++) {
        duckdb_state s;
        if (!vals[i]) s = duckdb_bind_null(st, (idx_t)i + 1);
        else if (types[i] == 'l') s = duckdb_bind_int64(st, (idx_t)i + 1, strtoll(vals[i], NULL, 10));
        else s = duckdb_bind_varchar(st, (idx_t)i + 1, vals[i]);
        if (s == DuckDBError) {
            log_error("catalog: cannot bind parameter %d", i + 1);
            duckdb_destroy_prepare(&st);
            return CATDB_ERROR;
        }
    }
    duckdb_result r;
    catdb_status rc = CATDB_OK;
    if (duckdb_execute_prepared(st, &r) == DuckDBError) {
        if (duckdb_result_error_type(&r) == DUCKDB_ERROR_CONSTRAINT) {
            rc = CATDB_CONFLICT;
        } else {
            log_error("catalog: query failed: %s", duckdb_result_error(&r));
            rc = CATDB_ERROR;
        }
    } else {
        rc = to_rows(&r, out);
    }
    duckdb_destroy_result(&r);
    duckdb_destroy_prepare(&st);
    return rc;
}

static int exec_plain(ddb *d, const char *sql) {
    duckdb_result r;
    int rc = duckdb_query(d->con, sql, &r) == DuckDBError ? -1 : 0;
    if (rc) log_error("catalog: %s: %s", sql, duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return rc;
}

static catdb_status ddb_set_sequence(void *db, const char *name, int64_t next) {
    /* DuckDB cannot alter a sequence; nothing depends on this one, so it is made anew. */
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE OR REPLACE SEQUENCE %s START %lld", name, (long long)next);
    return exec_plain(db, sql) ? CATDB_ERROR : CATDB_OK;
}

static void ddb_close(void *db) {
    ddb *d = db;
    exec_plain(d, "CHECKPOINT");
    duckdb_disconnect(&d->con);
    duckdb_close(&d->db);
    free(d);
}

static const catdb_ops ddb_ops = {
    .name = "duckdb",
    .for_update = "", /* no row locks in DuckDB; one connection behind the mutex serialises */
    .exec = ddb_exec,
    .set_sequence = ddb_set_sequence,
    .close = ddb_close,
};

int catdb_duckdb_open(const char *path, cat *c, ds_err *err) {
    ddb *d = calloc(1, sizeof *d);
    if (!d) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    char *oerr = NULL;
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    duckdb_set_config(cfg, "threads", "1");
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    if (duckdb_open_ext(path, &d->db, cfg, &oerr) == DuckDBError) {
        duckdb_destroy_config(&cfg);
        ds_fail(err, DS_E_INTERNAL, "cannot open metadata store %s: %s", path, oerr ? oerr : "unknown error");
        duckdb_free(oerr);
        free(d);
        return -(int)err->code;
    }
    duckdb_destroy_config(&cfg);
    if (duckdb_connect(d->db, &d->con) == DuckDBError) {
        duckdb_close(&d->db);
        free(d);
        return ds_fail(err, DS_E_INTERNAL, "cannot connect to metadata store");
    }
    c->ops = &ddb_ops;
    c->db = d;
    for (size_t i = 0; i < sizeof schema_sql / sizeof schema_sql[0]; i++)
        if (exec_plain(d, schema_sql[i]) != 0) {
            ds_fail(err, DS_E_INTERNAL, "cannot create metadata schema");
            goto fail;
        }
    cat_rows r;
    if (ddb_exec(d, "SELECT max(version) FROM schema_version", 0, NULL, "", &r) != CATDB_OK) {
        ds_fail(err, DS_E_INTERNAL, "cannot read the metadata schema version");
        goto fail;
    }
    int64_t ver = cat_cell_i64(&r, 0, 0);
    cat_rows_free(&r);
    if (ver == 0) {
        char sql[80];
        snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES (%d)", CAT_SCHEMA_VERSION);
        if (exec_plain(d, sql)) {
            ds_fail(err, DS_E_INTERNAL, "cannot write the metadata schema version");
            goto fail;
        }
    } else if (ver > CAT_SCHEMA_VERSION) {
        ds_fail(err, DS_E_INTERNAL, "metadata schema version %lld is newer than this server (%d)", (long long)ver,
                CAT_SCHEMA_VERSION);
        goto fail;
    }
    /* Migrations from older versions go here, one step per version. */
    return 0;
fail:
    duckdb_disconnect(&d->con);
    duckdb_close(&d->db);
    free(d);
    c->db = NULL;
    c->ops = NULL;
    return -(int)err->code;
}
