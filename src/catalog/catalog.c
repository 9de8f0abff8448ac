/* catalog.c - metadata.duckdb behind the narrow interface of catalog.h.
 *
 * One DuckDB connection guarded by a mutex: metadata operations are small and rare next
 * to queries, and serialising them keeps multi-step updates consistent. Every value
 * reaches SQL through a bound parameter, never by pasting text. */
#include "catalog/catalog.h"

#include <duckdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/timeutil.h"

#define CAT_SCHEMA_VERSION 1

#define CAT_VERIFIER_MAX 256 /* a SCRAM verifier as text (scram.h: at most 160) */

struct cat {
    atomic_uint_fast64_t version; /* bumped by every change to buckets and tables */
    _Atomic uint64_t *_Atomic mirror; /* a copy of version others read (cat_set_version_mirror) */
    duckdb_database db;
    duckdb_connection con;
    pthread_mutex_t mu;
    /* Logins read their workspace and verifier from here rather than from DuckDB: the
     * lookup (a join) costs ~1 ms of CPU, a third of a login's server time (measured
     * with pgbench -C). An entry is good while writes_seen equals writes; every write
     * statement (run() of anything but a SELECT) counts one, all under mu. */
    uint64_t writes;
    struct login_entry {
        uint64_t writes_seen;
        bool used;
        cat_workspace w;
        char verifier[CAT_VERIFIER_MAX];
    } logins[64];
};

static const char *schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
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
    /* From the workspace design note; filled by the workspace issue. No foreign keys:
     * DuckDB checks them on UPDATE of any column (seed note, quirk 3). */
    "CREATE TABLE IF NOT EXISTS workspaces (id VARCHAR PRIMARY KEY, project_id VARCHAR NOT NULL,"
    " branch_id VARCHAR NOT NULL DEFAULT '', name VARCHAR NOT NULL, created_at BIGINT NOT NULL,"
    " expires_at BIGINT, size_limit_bytes BIGINT NOT NULL, status VARCHAR NOT NULL DEFAULT 'active')",
    "CREATE TABLE IF NOT EXISTS workspace_credentials (workspace_id VARCHAR PRIMARY KEY,"
    " username VARCHAR NOT NULL UNIQUE, scram_verifier VARCHAR NOT NULL, created_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions (id VARCHAR PRIMARY KEY, workspace_id VARCHAR NOT NULL,"
    " client_addr VARCHAR NOT NULL, connected_at BIGINT NOT NULL)",
};

/* ---- small query helpers (called with the mutex held) ---- */

/* Prepares sql and binds args described by fmt: 's' const char* (NULL binds NULL),
 * 'l' int64_t. Returns 0 or -1 with err filled. */
static int prep(cat *c, duckdb_prepared_statement *st, const char *sql, const char *fmt, va_list ap,
                ds_err *err) {
    if (duckdb_prepare(c->con, sql, st) == DuckDBError) {
        log_error("catalog: prepare failed: %s", duckdb_prepare_error(*st));
        duckdb_destroy_prepare(st);
        return ds_fail(err, DS_E_INTERNAL, "metadata store error");
    }
    for (idx_t i = 0; fmt && fmt[i]; i++) {
        duckdb_state s;
        if (fmt[i] == 's') {
            const char *v = va_arg(ap, const char *);
            s = v ? duckdb_bind_varchar(*st, i + 1, v) : duckdb_bind_null(*st, i + 1);
        } else {
            s = duckdb_bind_int64(*st, i + 1, va_arg(ap, int64_t));
        }
        if (s == DuckDBError) {
            duckdb_destroy_prepare(st);
            return ds_fail(err, DS_E_INTERNAL, "metadata store error (bind)");
        }
    }
    return 0;
}

/* Runs a statement; with res non-NULL the caller gets the result to read and destroy.
 * On a constraint violation returns DS_E_..._EXISTS-style code given by on_conflict
 * (DS_OK: treat as internal error). */
static int run(cat *c, duckdb_result *res, ds_code on_conflict, ds_err *err, const char *sql, const char *fmt,
               ...) {
    if (strncmp(sql, "SELECT ", 7) != 0) c->writes++; /* cached logins may be stale now */
    duckdb_prepared_statement st;
    va_list ap;
    va_start(ap, fmt);
    int rc = prep(c, &st, sql, fmt, ap, err);
    va_end(ap);
    if (rc) return rc;
    duckdb_result r;
    if (duckdb_execute_prepared(st, &r) == DuckDBError) {
        duckdb_error_type et = duckdb_result_error_type(&r);
        if (et == DUCKDB_ERROR_CONSTRAINT && on_conflict != DS_OK) {
            rc = ds_fail(err, on_conflict, "already exists");
        } else {
            log_error("catalog: query failed: %s", duckdb_result_error(&r));
            rc = ds_fail(err, DS_E_INTERNAL, "metadata store error");
        }
        duckdb_destroy_result(&r);
        duckdb_destroy_prepare(&st);
        return rc;
    }
    duckdb_destroy_prepare(&st);
    if (res) *res = r;
    else duckdb_destroy_result(&r);
    return 0;
}

static void copy_str(duckdb_result *r, idx_t col, idx_t row, char *out, size_t outsz) {
    char *v = duckdb_value_varchar(r, col, row);
    snprintf(out, outsz, "%s", v ? v : "");
    duckdb_free(v);
}

static char *dup_str(duckdb_result *r, idx_t col, idx_t row) {
    char *v = duckdb_value_varchar(r, col, row);
    char *d = strdup(v ? v : "");
    duckdb_free(v);
    return d;
}

static int exec_plain(cat *c, const char *sql) {
    duckdb_result r;
    int rc = duckdb_query(c->con, sql, &r) == DuckDBError ? -1 : 0;
    if (rc) log_error("catalog: %s: %s", sql, duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return rc;
}

#define LOCK(c) pthread_mutex_lock(&(c)->mu)
#define UNLOCK(c) pthread_mutex_unlock(&(c)->mu)

/* ---- open / close ---- */

int cat_open(const char *path, cat **out, ds_err *err) {
    cat *c = calloc(1, sizeof *c);
    if (!c) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    char *oerr = NULL;
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    duckdb_set_config(cfg, "threads", "1");
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    if (duckdb_open_ext(path, &c->db, cfg, &oerr) == DuckDBError) {
        duckdb_destroy_config(&cfg);
        ds_fail(err, DS_E_INTERNAL, "cannot open metadata store %s: %s", path, oerr ? oerr : "unknown error");
        duckdb_free(oerr);
        goto fail_db;
    }
    duckdb_destroy_config(&cfg);
    if (duckdb_connect(c->db, &c->con) == DuckDBError) {
        ds_fail(err, DS_E_INTERNAL, "cannot connect to metadata store");
        goto fail_con;
    }
    for (size_t i = 0; i < sizeof schema_sql / sizeof schema_sql[0]; i++)
        if (exec_plain(c, schema_sql[i]) != 0) {
            ds_fail(err, DS_E_INTERNAL, "cannot create metadata schema");
            goto fail_schema;
        }
    duckdb_result r;
    if (run(c, &r, DS_OK, err, "SELECT max(version) FROM schema_version", "") != 0) goto fail_schema;
    int64_t ver = duckdb_value_is_null(&r, 0, 0) ? 0 : duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    if (ver == 0) {
        if (run(c, NULL, DS_OK, err, "INSERT INTO schema_version VALUES (?)", "l", (int64_t)CAT_SCHEMA_VERSION))
            goto fail_schema;
    } else if (ver > CAT_SCHEMA_VERSION) {
        ds_fail(err, DS_E_INTERNAL, "metadata schema version %lld is newer than this server (%d)", (long long)ver,
                CAT_SCHEMA_VERSION);
        goto fail_schema;
    }
    /* Migrations from older versions go here, one step per version. */
    *out = c;
    return 0;
fail_schema:
    duckdb_disconnect(&c->con);
fail_con:
    duckdb_close(&c->db);
fail_db:
    pthread_mutex_destroy(&c->mu);
    free(c);
    return -(int)err->code;
}

uint64_t cat_version(cat *c) { return atomic_load(&c->version); }

static void bump(cat *c) {
    uint64_t v = atomic_fetch_add(&c->version, 1) + 1;
    _Atomic uint64_t *m = atomic_load(&c->mirror);
    if (m) atomic_store(m, v);
}

void cat_set_version_mirror(cat *c, _Atomic uint64_t *mirror) {
    if (mirror) atomic_store(mirror, atomic_load(&c->version));
    atomic_store(&c->mirror, mirror);
}

void cat_close(cat *c) {
    if (!c) return;
    explicit_bzero(c->logins, sizeof c->logins);
    exec_plain(c, "CHECKPOINT");
    duckdb_disconnect(&c->con);
    duckdb_close(&c->db);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Reads every row of r into a new array of elements of `size` bytes (caller frees),
 * with read() filling one element per row; destroys r. */
static int read_list(duckdb_result *r, size_t size, void (*read)(duckdb_result *, idx_t, void *), void **out,
                     int *count, ds_err *err) {
    idx_t n = duckdb_row_count(r);
    char *items = calloc(n ? n : 1, size);
    if (!items) {
        duckdb_destroy_result(r);
        return ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    for (idx_t i = 0; i < n; i++) read(r, i, items + i * size);
    duckdb_destroy_result(r);
    *out = items;
    *count = (int)n;
    return 0;
}

/* ---- projects ---- */

static const char *project_select =
    "SELECT p.id, p.name, p.created_at,"
    " (SELECT count(*) FROM buckets b WHERE b.project_id = p.id AND b.branch_id = ''),"
    " (SELECT count(*) FROM tables t WHERE t.project_id = p.id AND t.branch_id = ''),"
    " (SELECT coalesce(sum(size_bytes), 0) FROM tables t WHERE t.project_id = p.id AND t.branch_id = '')"
    " FROM projects p";

static void read_project(duckdb_result *r, idx_t row, void *dst) {
    cat_project *p = dst;
    copy_str(r, 0, row, p->id, sizeof p->id);
    copy_str(r, 1, row, p->name, sizeof p->name);
    p->created_at = duckdb_value_int64(r, 2, row);
    p->bucket_count = duckdb_value_int64(r, 3, row);
    p->table_count = duckdb_value_int64(r, 4, row);
    p->size_bytes = duckdb_value_int64(r, 5, row);
}

static int project_get_locked(cat *c, const char *id, cat_project *out, ds_err *err) {
    char sql[1024];
    snprintf(sql, sizeof sql, "%s WHERE p.id = ?", project_select);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, sql, "s", id);
    if (rc) return rc;
    if (duckdb_row_count(&r) == 0) rc = ds_fail(err, DS_E_PROJECT_NOT_FOUND, "project \"%s\" not found", id);
    else read_project(&r, 0, out);
    duckdb_destroy_result(&r);
    return rc;
}

int cat_project_create(cat *c, const char *id, const char *name, const char *key_hash, cat_project *out,
                       ds_err *err) {
    char gen[DS_NAME_MAX + 1];
    LOCK(c);
    int rc;
    if (!id) {
        /* Next free decimal id. */
        duckdb_result r;
        rc = run(c, &r, DS_OK, err,
                 "SELECT coalesce(max(TRY_CAST(id AS BIGINT)), 0) + 1 FROM projects", "");
        if (rc) goto out;
        snprintf(gen, sizeof gen, "%lld", (long long)duckdb_value_int64(&r, 0, 0));
        duckdb_destroy_result(&r);
        id = gen;
    }
    rc = run(c, NULL, DS_E_PROJECT_EXISTS, err, "INSERT INTO projects VALUES (?, ?, ?, ?)", "sssl", id, name,
             key_hash, ds_now());
    if (rc == -(int)DS_E_PROJECT_EXISTS) ds_fail(err, DS_E_PROJECT_EXISTS, "project \"%s\" already exists", id);
    if (rc) goto out;
    rc = project_get_locked(c, id, out, err);
out:
    UNLOCK(c);
    return rc;
}

int cat_project_get(cat *c, const char *id, cat_project *out, ds_err *err) {
    LOCK(c);
    int rc = project_get_locked(c, id, out, err);
    UNLOCK(c);
    return rc;
}

int cat_project_list(cat *c, cat_project **out, int *count, ds_err *err) {
    char sql[1024];
    snprintf(sql, sizeof sql, "%s ORDER BY p.created_at, p.id", project_select);
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, sql, "");
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_project, (void **)out, count, err);
}

int cat_project_by_key(cat *c, const char *key_hash, char id[DS_NAME_MAX + 1], ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT id FROM projects WHERE api_key_hash = ?", "s", key_hash);
    UNLOCK(c);
    if (rc) return rc;
    if (duckdb_row_count(&r) == 0) rc = ds_fail(err, DS_E_UNAUTHORIZED, "unknown API key");
    else copy_str(&r, 0, 0, id, DS_NAME_MAX + 1);
    duckdb_destroy_result(&r);
    return rc;
}

int cat_project_delete(cat *c, const char *id, ds_err *err) {
    static const char *dels[] = {
        "DELETE FROM workspace_credentials WHERE workspace_id IN (SELECT id FROM workspaces WHERE project_id = ?)",
        "DELETE FROM sessions WHERE workspace_id IN (SELECT id FROM workspaces WHERE project_id = ?)",
        "DELETE FROM workspaces WHERE project_id = ?",
        "DELETE FROM tables WHERE project_id = ?",
        "DELETE FROM buckets WHERE project_id = ?",
        "DELETE FROM branches WHERE project_id = ?",
        "DELETE FROM projects WHERE id = ?",
    };
    LOCK(c);
    int rc = exec_plain(c, "BEGIN TRANSACTION") ? ds_fail(err, DS_E_INTERNAL, "metadata store error") : 0;
    for (size_t i = 0; !rc && i < sizeof dels / sizeof dels[0]; i++) rc = run(c, NULL, DS_OK, err, dels[i], "s", id);
    if (rc) exec_plain(c, "ROLLBACK");
    else if (exec_plain(c, "COMMIT")) rc = ds_fail(err, DS_E_INTERNAL, "metadata store error");
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

/* ---- branches ---- */

static void read_branch(duckdb_result *r, idx_t row, void *dst) {
    cat_branch *b = dst;
    copy_str(r, 0, row, b->project_id, sizeof b->project_id);
    copy_str(r, 1, row, b->id, sizeof b->id);
    copy_str(r, 2, row, b->name, sizeof b->name);
    copy_str(r, 3, row, b->description, sizeof b->description);
    b->created_at = duckdb_value_int64(r, 4, row);
}

#define BRANCH_COLS "project_id, id, name, description, created_at"

int cat_branch_create(cat *c, const char *pid, const char *name, const char *description, cat_branch *out,
                      ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT nextval('branch_ids')", "");
    if (rc) goto out;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)duckdb_value_int64(&r, 0, 0));
    duckdb_destroy_result(&r);
    rc = run(c, NULL, DS_E_BRANCH_EXISTS, err, "INSERT INTO branches VALUES (?, ?, ?, ?, ?)", "ssssl", pid, id, name,
             description ? description : "", ds_now());
    if (rc == -(int)DS_E_BRANCH_EXISTS) ds_fail(err, DS_E_BRANCH_EXISTS, "branch \"%s\" already exists", name);
    if (rc) goto out;
    rc = run(c, &r, DS_OK, err, "SELECT " BRANCH_COLS " FROM branches WHERE project_id = ? AND id = ?", "ss", pid, id);
    if (rc) goto out;
    read_branch(&r, 0, out);
    duckdb_destroy_result(&r);
out:
    UNLOCK(c);
    return rc;
}

int cat_branch_get(cat *c, const char *pid, const char *bid, cat_branch *out, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT " BRANCH_COLS " FROM branches WHERE project_id = ? AND id = ?", "ss",
                 pid, bid);
    UNLOCK(c);
    if (rc) return rc;
    if (duckdb_row_count(&r) == 0) rc = ds_fail(err, DS_E_BRANCH_NOT_FOUND, "branch \"%s\" not found", bid);
    else read_branch(&r, 0, out);
    duckdb_destroy_result(&r);
    return rc;
}

int cat_branch_list(cat *c, const char *pid, cat_branch **out, int *count, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " BRANCH_COLS " FROM branches WHERE project_id = ? ORDER BY TRY_CAST(id AS BIGINT)", "s", pid);
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_branch, (void **)out, count, err);
}

int cat_branch_delete(cat *c, const char *pid, const char *bid, ds_err *err) {
    static const char *dels[] = {
        "DELETE FROM workspace_credentials WHERE workspace_id IN"
        " (SELECT id FROM workspaces WHERE project_id = ? AND branch_id = ?)",
        "DELETE FROM sessions WHERE workspace_id IN (SELECT id FROM workspaces WHERE project_id = ? AND branch_id = ?)",
        "DELETE FROM workspaces WHERE project_id = ? AND branch_id = ?",
        "DELETE FROM tables WHERE project_id = ? AND branch_id = ?",
        "DELETE FROM buckets WHERE project_id = ? AND branch_id = ?",
        "DELETE FROM branches WHERE project_id = ? AND id = ?",
    };
    LOCK(c);
    int rc = exec_plain(c, "BEGIN TRANSACTION") ? ds_fail(err, DS_E_INTERNAL, "metadata store error") : 0;
    for (size_t i = 0; !rc && i < sizeof dels / sizeof dels[0]; i++)
        rc = run(c, NULL, DS_OK, err, dels[i], "ss", pid, bid);
    if (rc) exec_plain(c, "ROLLBACK");
    else if (exec_plain(c, "COMMIT")) rc = ds_fail(err, DS_E_INTERNAL, "metadata store error");
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

/* ---- buckets ---- */

#define BUCKET_COLS "project_id, branch_id, id, stage, name, description, created_at"

static void read_bucket(duckdb_result *r, idx_t row, void *dst) {
    cat_bucket *b = dst;
    copy_str(r, 0, row, b->project_id, sizeof b->project_id);
    copy_str(r, 1, row, b->branch_id, sizeof b->branch_id);
    copy_str(r, 2, row, b->id, sizeof b->id);
    copy_str(r, 3, row, b->stage, sizeof b->stage);
    copy_str(r, 4, row, b->name, sizeof b->name);
    copy_str(r, 5, row, b->description, sizeof b->description);
    b->created_at = duckdb_value_int64(r, 6, row);
}

int cat_bucket_create(cat *c, const cat_bucket *b, ds_err *err) {
    LOCK(c);
    /* A branch cannot create a bucket main already has (nor main one a branch has:
     * that would shadow a branch-only bucket, so it is refused too). */
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT count(*) FROM buckets WHERE project_id = ? AND id = ? AND (branch_id = ? OR branch_id = '')",
                 "sss", b->project_id, b->id, b->branch_id);
    if (rc) goto out;
    int64_t n = duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    if (n > 0) {
        rc = ds_fail(err, DS_E_BUCKET_EXISTS, "bucket \"%s\" already exists", b->id);
        goto out;
    }
    rc = run(c, NULL, DS_E_BUCKET_EXISTS, err, "INSERT INTO buckets VALUES (?, ?, ?, ?, ?, ?, ?)", "ssssssl",
             b->project_id, b->branch_id, b->id, b->stage, b->name, b->description, b->created_at);
    if (rc == -(int)DS_E_BUCKET_EXISTS) ds_fail(err, DS_E_BUCKET_EXISTS, "bucket \"%s\" already exists", b->id);
    if (!rc) bump(c);
out:
    UNLOCK(c);
    return rc;
}

int cat_bucket_get(cat *c, const char *pid, const char *bid, const char *bucket_id, cat_bucket *out, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " BUCKET_COLS " FROM buckets WHERE project_id = ? AND id = ? AND (branch_id = ? OR branch_id = '')"
                 " ORDER BY branch_id DESC LIMIT 1",
                 "sss", pid, bucket_id, bid);
    UNLOCK(c);
    if (rc) return rc;
    if (duckdb_row_count(&r) == 0) rc = ds_fail(err, DS_E_BUCKET_NOT_FOUND, "bucket \"%s\" not found", bucket_id);
    else read_bucket(&r, 0, out);
    duckdb_destroy_result(&r);
    return rc;
}

int cat_bucket_list(cat *c, const char *pid, const char *bid, cat_bucket **out, int *count, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " BUCKET_COLS " FROM buckets WHERE project_id = ? AND (branch_id = ? OR branch_id = '')"
                 " ORDER BY id",
                 "ss", pid, bid);
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_bucket, (void **)out, count, err);
}

int cat_bucket_delete(cat *c, const char *pid, const char *bid, const char *bucket_id, ds_err *err) {
    LOCK(c);
    int rc = exec_plain(c, "BEGIN TRANSACTION") ? ds_fail(err, DS_E_INTERNAL, "metadata store error") : 0;
    if (!rc)
        rc = run(c, NULL, DS_OK, err, "DELETE FROM tables WHERE project_id = ? AND branch_id = ? AND bucket_id = ?",
                 "sss", pid, bid, bucket_id);
    if (!rc)
        rc = run(c, NULL, DS_OK, err, "DELETE FROM buckets WHERE project_id = ? AND branch_id = ? AND id = ?", "sss",
                 pid, bid, bucket_id);
    if (rc) exec_plain(c, "ROLLBACK");
    else if (exec_plain(c, "COMMIT")) rc = ds_fail(err, DS_E_INTERNAL, "metadata store error");
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

int cat_bucket_table_count(cat *c, const char *pid, const char *bid, const char *bucket_id, int64_t *out,
                           ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT count(*) FROM tables WHERE project_id = ? AND branch_id = ? AND bucket_id = ?", "sss", pid,
                 bid, bucket_id);
    UNLOCK(c);
    if (rc) return rc;
    *out = duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    return 0;
}

/* ---- tables ---- */

#define TABLE_COLS                                                                                      \
    "project_id, branch_id, bucket_id, name, columns_json, primary_key_json, generation, row_count,"    \
    " size_bytes, created_at, updated_at, copied_at"

void cat_table_clear(cat_table *t) {
    if (!t) return;
    free(t->columns_json);
    free(t->primary_key_json);
    memset(t, 0, sizeof *t);
}

void cat_tables_free(cat_tables *l) {
    if (!l) return;
    for (int i = 0; i < l->count; i++) cat_table_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int read_table(duckdb_result *r, idx_t row, cat_table *t) {
    memset(t, 0, sizeof *t);
    copy_str(r, 0, row, t->project_id, sizeof t->project_id);
    copy_str(r, 1, row, t->branch_id, sizeof t->branch_id);
    copy_str(r, 2, row, t->bucket_id, sizeof t->bucket_id);
    copy_str(r, 3, row, t->name, sizeof t->name);
    t->columns_json = dup_str(r, 4, row);
    t->primary_key_json = dup_str(r, 5, row);
    t->generation = duckdb_value_int64(r, 6, row);
    t->rows = duckdb_value_int64(r, 7, row);
    t->size_bytes = duckdb_value_int64(r, 8, row);
    t->created_at = duckdb_value_int64(r, 9, row);
    t->updated_at = duckdb_value_int64(r, 10, row);
    t->copied_at = duckdb_value_int64(r, 11, row);
    return t->columns_json && t->primary_key_json ? 0 : -1;
}

static int read_tables(duckdb_result *r, cat_tables *out, ds_err *err) {
    idx_t n = duckdb_row_count(r);
    out->count = 0;
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    for (idx_t i = 0; i < n; i++) {
        out->count++;
        if (read_table(r, i, &out->items[i]) != 0) {
            cat_tables_free(out);
            return ds_fail(err, DS_E_INTERNAL, "out of memory");
        }
    }
    return 0;
}

/* The rows branch bid sees: its own, and main's that it has not copied. */
#define TABLE_VIEW_WHERE                                                                                    \
    " WHERE t.project_id = ?1 AND (t.branch_id = ?2 OR (t.branch_id = '' AND NOT EXISTS (SELECT 1 FROM tables b" \
    " WHERE b.project_id = t.project_id AND b.branch_id = ?2 AND b.bucket_id = t.bucket_id AND b.name = t.name)))"

int cat_table_get(cat *c, const char *pid, const char *bid, const char *bucket_id, const char *name,
                  cat_table *out, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " TABLE_COLS " FROM tables t" TABLE_VIEW_WHERE " AND t.bucket_id = ?3 AND t.name = ?4", "ssss",
                 pid, bid, bucket_id, name);
    UNLOCK(c);
    if (rc) return rc;
    if (duckdb_row_count(&r) == 0)
        rc = ds_fail(err, DS_E_TABLE_NOT_FOUND, "table \"%s.%s\" not found", bucket_id, name);
    else if (read_table(&r, 0, out) != 0) {
        cat_table_clear(out);
        rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    duckdb_destroy_result(&r);
    return rc;
}

int cat_table_list(cat *c, const char *pid, const char *bid, const char *bucket_id, cat_tables *out,
                   ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " TABLE_COLS " FROM tables t" TABLE_VIEW_WHERE
                 " AND (?3 IS NULL OR t.bucket_id = ?3) ORDER BY t.bucket_id, t.name",
                 "sss", pid, bid, bucket_id);
    UNLOCK(c);
    if (rc) return rc;
    rc = read_tables(&r, out, err);
    duckdb_destroy_result(&r);
    return rc;
}

int cat_table_list_all(cat *c, cat_tables *out, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT " TABLE_COLS " FROM tables", "");
    UNLOCK(c);
    if (rc) return rc;
    rc = read_tables(&r, out, err);
    duckdb_destroy_result(&r);
    return rc;
}

int cat_table_put(cat *c, const cat_table *t, int64_t expect_generation, ds_err *err) {
    LOCK(c);
    int rc = 0;
    {
        /* The table's project, branch and bucket must still exist (deletes can run
         * while an import builds its file). */
        duckdb_result r;
        rc = run(c, &r, DS_OK, err,
                 "SELECT (SELECT count(*) FROM projects WHERE id = ?1),"
                 " (?2 = '' OR EXISTS (SELECT 1 FROM branches WHERE project_id = ?1 AND id = ?2)),"
                 " EXISTS (SELECT 1 FROM buckets WHERE project_id = ?1 AND id = ?3 AND (branch_id = ?2 OR branch_id = ''))",
                 "sss", t->project_id, t->branch_id, t->bucket_id);
        if (rc) goto out;
        int64_t has_p = duckdb_value_int64(&r, 0, 0);
        bool has_b = duckdb_value_boolean(&r, 1, 0), has_bucket = duckdb_value_boolean(&r, 2, 0);
        duckdb_destroy_result(&r);
        if (!has_p) rc = ds_fail(err, DS_E_PROJECT_NOT_FOUND, "project \"%s\" not found", t->project_id);
        else if (!has_b) rc = ds_fail(err, DS_E_BRANCH_NOT_FOUND, "branch \"%s\" not found", t->branch_id);
        else if (!has_bucket) rc = ds_fail(err, DS_E_BUCKET_NOT_FOUND, "bucket \"%s\" not found", t->bucket_id);
        if (rc) goto out;
    }
    if (expect_generation >= 0) {
        duckdb_result r;
        rc = run(c, &r, DS_OK, err,
                 "SELECT coalesce(max(generation), 0) FROM tables WHERE project_id = ? AND branch_id = ?"
                 " AND bucket_id = ? AND name = ?",
                 "ssss", t->project_id, t->branch_id, t->bucket_id, t->name);
        if (rc) goto out;
        int64_t g = duckdb_value_int64(&r, 0, 0);
        duckdb_destroy_result(&r);
        if (g != expect_generation) {
            rc = expect_generation == 0
                     ? ds_fail(err, DS_E_TABLE_EXISTS, "table \"%s.%s\" already exists", t->bucket_id, t->name)
                     : ds_fail(err, DS_E_INTERNAL, "table changed during the import");
            goto out;
        }
    }
    rc = run(c, NULL, DS_OK, err,
             "INSERT OR REPLACE INTO tables (" TABLE_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             "ssssssllllll", t->project_id, t->branch_id, t->bucket_id, t->name, t->columns_json, t->primary_key_json,
             t->generation, t->rows, t->size_bytes, t->created_at, t->updated_at, t->copied_at);
    if (!rc) bump(c);
out:
    UNLOCK(c);
    return rc;
}

int cat_table_delete(cat *c, const char *pid, const char *bid, const char *bucket_id, const char *name,
                     ds_err *err) {
    LOCK(c);
    int rc = run(c, NULL, DS_OK, err,
                 "DELETE FROM tables WHERE project_id = ? AND branch_id = ? AND bucket_id = ? AND name = ?", "ssss", pid,
                 bid, bucket_id, name);
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

/* ---- workspaces ---- */

#define WS_COLS                                                                                        \
    "w.id, w.project_id, w.branch_id, w.name, w.created_at, coalesce(w.expires_at, 0), w.size_limit_bytes," \
    " w.status, coalesce(c.username, '')"
#define WS_FROM " FROM workspaces w LEFT JOIN workspace_credentials c ON c.workspace_id = w.id"

static void read_ws(duckdb_result *r, idx_t row, void *dst) {
    cat_workspace *w = dst;
    memset(w, 0, sizeof *w);
    copy_str(r, 0, row, w->id, sizeof w->id);
    copy_str(r, 1, row, w->project_id, sizeof w->project_id);
    copy_str(r, 2, row, w->branch_id, sizeof w->branch_id);
    copy_str(r, 3, row, w->name, sizeof w->name);
    w->created_at = duckdb_value_int64(r, 4, row);
    w->expires_at = duckdb_value_int64(r, 5, row);
    w->size_limit_bytes = duckdb_value_int64(r, 6, row);
    copy_str(r, 7, row, w->status, sizeof w->status);
    copy_str(r, 8, row, w->username, sizeof w->username);
}


int cat_workspace_create(cat *c, const cat_workspace *w, const char *verifier, int64_t max_per_project,
                         ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT count(*) FROM workspaces WHERE project_id = ?", "s", w->project_id);
    if (rc) goto out;
    int64_t n = duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    if (n >= max_per_project) {
        rc = ds_fail(err, DS_E_LIMIT_EXCEEDED, "project \"%s\" already has %lld workspaces (the limit)", w->project_id,
                     (long long)n);
        char lim[32];
        snprintf(lim, sizeof lim, "%lld", (long long)max_per_project);
        ds_err_detail(err, "limit", lim, 1);
        goto out;
    }
    rc = exec_plain(c, "BEGIN TRANSACTION") ? ds_fail(err, DS_E_INTERNAL, "metadata store error") : 0;
    if (!rc)
        rc = run(c, NULL, DS_OK, err, "INSERT INTO workspaces VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "ssssllls", w->id,
                 w->project_id, w->branch_id, w->name, w->created_at, w->expires_at, w->size_limit_bytes, "active");
    if (!rc)
        rc = run(c, NULL, DS_OK, err, "INSERT INTO workspace_credentials VALUES (?, ?, ?, ?)", "sssl", w->id,
                 w->username, verifier, w->created_at);
    if (rc) exec_plain(c, "ROLLBACK");
    else if (exec_plain(c, "COMMIT")) rc = ds_fail(err, DS_E_INTERNAL, "metadata store error");
    if (!rc) bump(c);
out:
    UNLOCK(c);
    return rc;
}

int cat_workspace_get(cat *c, const char *id, cat_workspace *out, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT " WS_COLS WS_FROM " WHERE w.id = ?", "s", id);
    UNLOCK(c);
    if (rc) return rc;
    if (duckdb_row_count(&r) == 0) rc = ds_fail(err, DS_E_WORKSPACE_NOT_FOUND, "workspace \"%s\" not found", id);
    else read_ws(&r, 0, out);
    duckdb_destroy_result(&r);
    return rc;
}

int cat_workspace_list(cat *c, const char *pid, const char *bid, int64_t limit, int64_t offset,
                       cat_workspace **out, int *count, int64_t *total, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT count(*) FROM workspaces WHERE project_id = ?1 AND (?2 IS NULL OR branch_id = ?2)", "ss", pid,
                 bid);
    if (rc) goto out;
    *total = duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    rc = run(c, &r, DS_OK, err,
             "SELECT " WS_COLS WS_FROM " WHERE w.project_id = ?1 AND (?2 IS NULL OR w.branch_id = ?2)"
             " ORDER BY w.created_at, w.id LIMIT ?3 OFFSET ?4",
             "ssll", pid, bid, limit > 0 ? limit : INT64_MAX, offset);
    if (rc) goto out;
    rc = read_list(&r, sizeof **out, read_ws, (void **)out, count, err);
out:
    UNLOCK(c);
    return rc;
}

int cat_workspace_delete(cat *c, const char *id, ds_err *err) {
    LOCK(c);
    int rc = exec_plain(c, "BEGIN TRANSACTION") ? ds_fail(err, DS_E_INTERNAL, "metadata store error") : 0;
    if (!rc) rc = run(c, NULL, DS_OK, err, "DELETE FROM workspace_credentials WHERE workspace_id = ?", "s", id);
    if (!rc) rc = run(c, NULL, DS_OK, err, "DELETE FROM sessions WHERE workspace_id = ?", "s", id);
    if (!rc) rc = run(c, NULL, DS_OK, err, "DELETE FROM workspaces WHERE id = ?", "s", id);
    if (rc) exec_plain(c, "ROLLBACK");
    else if (exec_plain(c, "COMMIT")) rc = ds_fail(err, DS_E_INTERNAL, "metadata store error");
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

int cat_workspace_set_verifier(cat *c, const char *id, const char *verifier, ds_err *err) {
    LOCK(c);
    int rc = run(c, NULL, DS_OK, err, "UPDATE workspace_credentials SET scram_verifier = ? WHERE workspace_id = ?", "ss",
                 verifier, id);
    UNLOCK(c);
    return rc;
}

int cat_workspace_by_username(cat *c, const char *username, cat_workspace *out, char *verifier, size_t verifier_sz,
                              ds_err *err) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = username; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    LOCK(c);
    struct login_entry *le = &c->logins[h % (sizeof c->logins / sizeof c->logins[0])];
    if (le->used && le->writes_seen == c->writes && strcmp(le->w.username, username) == 0) {
        *out = le->w;
        snprintf(verifier, verifier_sz, "%s", le->verifier);
        UNLOCK(c);
        return 0;
    }
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT " WS_COLS ", c.scram_verifier" WS_FROM " WHERE c.username = ?", "s",
                 username);
    if (rc) {
        UNLOCK(c);
        return rc;
    }
    if (duckdb_row_count(&r) == 0) {
        rc = ds_fail(err, DS_E_UNAUTHORIZED, "unknown user");
    } else {
        read_ws(&r, 0, out);
        copy_str(&r, 9, 0, verifier, verifier_sz);
        le->used = true;
        le->writes_seen = c->writes;
        le->w = *out;
        copy_str(&r, 9, 0, le->verifier, sizeof le->verifier);
    }
    duckdb_destroy_result(&r);
    UNLOCK(c);
    return rc;
}

int cat_workspace_expired(cat *c, int64_t now, cat_workspace **out, int *count, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " WS_COLS WS_FROM " WHERE w.expires_at IS NOT NULL AND w.expires_at > 0 AND w.expires_at <= ?",
                 "l", now);
    UNLOCK(c);
    if (rc) return rc;
    rc = read_list(&r, sizeof **out, read_ws, (void **)out, count, err);
    return rc;
}

int cat_workspace_all(cat *c, cat_workspace **out, int *count, ds_err *err) {
    LOCK(c);
    duckdb_result r;
    int rc = run(c, &r, DS_OK, err, "SELECT " WS_COLS WS_FROM, "");
    UNLOCK(c);
    if (rc) return rc;
    rc = read_list(&r, sizeof **out, read_ws, (void **)out, count, err);
    return rc;
}
