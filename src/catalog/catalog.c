/* catalog.c - the rules of the metadata catalog, on either backend (internal.h).
 *
 * Every statement is written once, in SQL both DuckDB and PostgreSQL accept ($n
 * placeholders, ON CONFLICT, CAST), and every value reaches it as a bound parameter.
 * One connection behind a mutex per process: metadata operations are small next to
 * queries. Each rule that several processes sharing a PostgreSQL catalog could break is
 * one transaction that holds across them: a row lock for the per-project workspace
 * limit, a compare-and-set for publishing a table generation, a unique key and a retry
 * for a new project id. */
#include "catalog/catalog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "util/log.h"
#include "util/secure.h"
#include "util/timeutil.h"

/* ---- results ---- */

const char *cat_cell(const cat_rows *r, int row, int col) {
    const char *v = r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
    return v ? v : "";
}

bool cat_cell_null(const cat_rows *r, int row, int col) {
    return r->cells[(size_t)row * (size_t)r->ncols + (size_t)col] == NULL;
}

int64_t cat_cell_i64(const cat_rows *r, int row, int col) { return strtoll(cat_cell(r, row, col), NULL, 10); }

void cat_rows_free(cat_rows *r) {
    if (!r || !r->cells) return;
    for (size_t i = 0; i < (size_t)r->nrows * (size_t)r->ncols; i++) free(r->cells[i]);
    free(r->cells);
    r->cells = NULL;
    r->nrows = r->ncols = 0;
}

static void copy_cell(const cat_rows *r, int row, int col, char *out, size_t outsz) {
    snprintf(out, outsz, "%s", cat_cell(r, row, col));
}

/* ---- running statements (c->mu held) ---- */

#define CAT_MAX_PARAMS 16

static void bump_logins(cat *c) { atomic_fetch_add(&c->login_gen, 1); }

int cat_run_values(cat *c, cat_rows *out, ds_code on_conflict, ds_err *err, const char *sql, int n,
                   const char *const *vals, const char *types) {
    /* Any write may change what a cached login would read. */
    if (strncmp(sql, "SELECT ", 7) != 0) bump_logins(c);
    cat_rows r = {0};
    switch (c->ops->exec(c->db, sql, n, vals, types, out ? out : &r)) {
    case CATDB_OK:
        if (!out) cat_rows_free(&r);
        return 0;
    case CATDB_CONFLICT:
        if (on_conflict != DS_OK) return ds_fail(err, on_conflict, "already exists");
        return ds_fail(err, DS_E_INTERNAL, "metadata store error");
    case CATDB_UNAVAILABLE:
        return ds_fail(err, DS_E_CATALOG_UNAVAILABLE, "the metadata catalog is unavailable; try again later");
    default:
        return ds_fail(err, DS_E_INTERNAL, "metadata store error");
    }
}

static int vrun(cat *c, cat_rows *out, ds_code on_conflict, ds_err *err, const char *sql, const char *fmt,
                va_list ap) {
    const char *vals[CAT_MAX_PARAMS];
    char nums[CAT_MAX_PARAMS][24];
    int n = 0;
    for (; fmt && fmt[n]; n++) {
        if (n == CAT_MAX_PARAMS) return ds_fail(err, DS_E_INTERNAL, "metadata store error (parameters)");
        if (fmt[n] == 's') {
            vals[n] = va_arg(ap, const char *);
        } else {
            snprintf(nums[n], sizeof nums[n], "%lld", (long long)va_arg(ap, int64_t));
            vals[n] = nums[n];
        }
    }
    return cat_run_values(c, out, on_conflict, err, sql, n, vals, fmt ? fmt : "");
}

int cat_run(cat *c, cat_rows *out, ds_code on_conflict, ds_err *err, const char *sql, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vrun(c, out, on_conflict, err, sql, fmt, ap);
    va_end(ap);
    return rc;
}

#define run cat_run

static int begin(cat *c, ds_err *err) { return run(c, NULL, DS_OK, err, "BEGIN TRANSACTION", ""); }

/* Ends the transaction begun by begin(): COMMIT when rc is 0 (returning its outcome),
 * else ROLLBACK (returning rc). */
static int finish(cat *c, int rc, ds_err *err) {
    ds_err ignored;
    if (rc) {
        run(c, NULL, DS_OK, &ignored, "ROLLBACK", "");
        return rc;
    }
    return run(c, NULL, DS_OK, err, "COMMIT", "");
}

#define LOCK(c) pthread_mutex_lock(&(c)->mu)
#define UNLOCK(c) pthread_mutex_unlock(&(c)->mu)

/* ---- open / close, version, change feed ---- */

bool cat_is_postgres(const char *where) {
    return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0 ||
           strchr(where, '=') != NULL;
}

/* Reads the catalog's identity, making one first when the catalog has none (new, or
 * made before identities existed); of two processes doing so at once one wins. */
static int load_id(cat *c, ds_err *err) {
    char fresh[33];
    if (sec_random_hex(fresh, 16) != 0) return ds_fail(err, DS_E_INTERNAL, "no randomness");
    LOCK(c);
    int rc = run(c, NULL, DS_OK, err,
                 "INSERT INTO catalog_info (id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM catalog_info)", "s", fresh);
    cat_rows r;
    if (!rc) rc = run(c, &r, DS_OK, err, "SELECT id FROM catalog_info ORDER BY id LIMIT 1", "");
    UNLOCK(c);
    if (rc) return rc;
    if (r.nrows == 1) copy_cell(&r, 0, 0, c->id, sizeof c->id);
    else rc = ds_fail(err, DS_E_INTERNAL, "the catalog has no identity");
    cat_rows_free(&r);
    return rc;
}

int cat_open(const char *where, cat **out, ds_err *err) {
    cat *c = calloc(1, sizeof *c);
    if (!c) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->cache_mu, NULL);
    atomic_store(&c->feed_live, true); /* the PostgreSQL backend says otherwise until subscribed */
    int rc;
    if (cat_is_postgres(where)) rc = catdb_pg_open(where, c, err);
    else rc = catdb_duckdb_open(strncmp(where, "duckdb:", 7) == 0 ? where + 7 : where, c, err);
    if (rc) {
        pthread_mutex_destroy(&c->cache_mu);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return rc;
    }
    if ((rc = load_id(c, err)) != 0) {
        cat_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

const char *cat_id(cat *c) { return c->id; }

const char *cat_backend(cat *c) { return c->ops->name; }

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

void cat_feed_changed(cat *c, char kind, const char *id) {
    (void)id; /* the login cache is small: dropping all of it is simplest and safe */
    if (kind == 'w') bump_logins(c);
    else bump(c);
}

void cat_feed_state(cat *c, bool live) {
    if (live) {
        bump_logins(c);
        bump(c);
    }
    atomic_store(&c->feed_live, live);
}

void cat_close(cat *c) {
    if (!c) return;
    c->ops->close(c->db);
    explicit_bzero(c->logins, sizeof c->logins);
    pthread_mutex_destroy(&c->cache_mu);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Reads every row of r into a new array of elements of `size` bytes (caller frees),
 * with read() filling one element per row; frees r. */
static int read_list(cat_rows *r, size_t size, void (*read)(const cat_rows *, int, void *), void **out, int *count,
                     ds_err *err) {
    int n = r->nrows;
    char *items = calloc(n ? (size_t)n : 1, size);
    if (!items) {
        cat_rows_free(r);
        return ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    for (int i = 0; i < n; i++) read(r, i, items + (size_t)i * size);
    cat_rows_free(r);
    *out = items;
    *count = n;
    return 0;
}

/* ---- projects ---- */

static const char *project_select =
    "SELECT p.id, p.name, p.created_at,"
    " (SELECT count(*) FROM buckets b WHERE b.project_id = p.id AND b.branch_id = ''),"
    " (SELECT count(*) FROM tables t WHERE t.project_id = p.id AND t.branch_id = ''),"
    " (SELECT coalesce(sum(size_bytes), 0) FROM tables t WHERE t.project_id = p.id AND t.branch_id = '')"
    " FROM projects p";

static void read_project(const cat_rows *r, int row, void *dst) {
    cat_project *p = dst;
    copy_cell(r, row, 0, p->id, sizeof p->id);
    copy_cell(r, row, 1, p->name, sizeof p->name);
    p->created_at = cat_cell_i64(r, row, 2);
    p->bucket_count = cat_cell_i64(r, row, 3);
    p->table_count = cat_cell_i64(r, row, 4);
    p->size_bytes = cat_cell_i64(r, row, 5);
}

static int project_get_locked(cat *c, const char *id, cat_project *out, ds_err *err) {
    char sql[1024];
    snprintf(sql, sizeof sql, "%s WHERE p.id = $1", project_select);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, sql, "s", id);
    if (rc) return rc;
    if (r.nrows == 0) rc = ds_fail(err, DS_E_PROJECT_NOT_FOUND, "project \"%s\" not found", id);
    else read_project(&r, 0, out);
    cat_rows_free(&r);
    return rc;
}

int cat_project_create(cat *c, const char *id, const char *name, const char *key_hash, cat_project *out,
                       ds_err *err) {
    char gen[DS_NAME_MAX + 1];
    LOCK(c);
    int rc;
    /* Without an id: the next free number. Another process can take the same number
     * between the read and the insert; the primary key refuses the second, which reads
     * again (each round is one more project created by someone else). */
    for (int attempt = 0;; attempt++) {
        const char *use = id;
        if (!id) {
            cat_rows r;
            rc = run(c, &r, DS_OK, err,
                     "SELECT coalesce(max(CAST(id AS BIGINT)), 0) + 1 FROM projects WHERE id ~ '^[0-9]{1,18}$'", "");
            if (rc) goto out;
            snprintf(gen, sizeof gen, "%lld", (long long)cat_cell_i64(&r, 0, 0));
            cat_rows_free(&r);
            use = gen;
        }
        rc = run(c, NULL, DS_E_PROJECT_EXISTS, err,
                 "INSERT INTO projects (id, name, api_key_hash, created_at) VALUES ($1, $2, $3, $4)", "sssl", use,
                 name, key_hash, ds_now());
        if (rc == -(int)DS_E_PROJECT_EXISTS && !id && attempt < 50) continue;
        if (rc == -(int)DS_E_PROJECT_EXISTS) ds_fail(err, DS_E_PROJECT_EXISTS, "project \"%s\" already exists", use);
        if (rc) goto out;
        rc = project_get_locked(c, use, out, err);
        break;
    }
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
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, sql, "");
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_project, (void **)out, count, err);
}

int cat_project_by_key(cat *c, const char *key_hash, char id[DS_NAME_MAX + 1], ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, "SELECT id FROM projects WHERE api_key_hash = $1", "s", key_hash);
    UNLOCK(c);
    if (rc) return rc;
    if (r.nrows == 0) rc = ds_fail(err, DS_E_UNAUTHORIZED, "unknown API key");
    else copy_cell(&r, 0, 0, id, DS_NAME_MAX + 1);
    cat_rows_free(&r);
    return rc;
}

int cat_project_delete(cat *c, const char *id, ds_err *err) {
    static const char *dels[] = {
        "DELETE FROM workspace_credentials WHERE workspace_id IN (SELECT id FROM workspaces WHERE project_id = $1)",
        "DELETE FROM sessions WHERE workspace_id IN (SELECT id FROM workspaces WHERE project_id = $1)",
        "DELETE FROM workspaces WHERE project_id = $1",
        "DELETE FROM tables WHERE project_id = $1",
        "DELETE FROM buckets WHERE project_id = $1",
        "DELETE FROM branches WHERE project_id = $1",
        "DELETE FROM projects WHERE id = $1",
    };
    LOCK(c);
    int rc = begin(c, err);
    if (!rc) {
        for (size_t i = 0; !rc && i < sizeof dels / sizeof dels[0]; i++) rc = run(c, NULL, DS_OK, err, dels[i], "s", id);
        rc = finish(c, rc, err);
    }
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

/* ---- branches ---- */

static void read_branch(const cat_rows *r, int row, void *dst) {
    cat_branch *b = dst;
    copy_cell(r, row, 0, b->project_id, sizeof b->project_id);
    copy_cell(r, row, 1, b->id, sizeof b->id);
    copy_cell(r, row, 2, b->name, sizeof b->name);
    copy_cell(r, row, 3, b->description, sizeof b->description);
    b->created_at = cat_cell_i64(r, row, 4);
}

#define BRANCH_COLS "project_id, id, name, description, created_at"

int cat_branch_create(cat *c, const char *pid, const char *name, const char *description, cat_branch *out,
                      ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, "SELECT nextval('branch_ids')", "");
    if (rc) goto out;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)cat_cell_i64(&r, 0, 0));
    cat_rows_free(&r);
    rc = run(c, NULL, DS_E_BRANCH_EXISTS, err, "INSERT INTO branches (" BRANCH_COLS ") VALUES ($1, $2, $3, $4, $5)",
             "ssssl", pid, id, name, description ? description : "", ds_now());
    if (rc == -(int)DS_E_BRANCH_EXISTS) ds_fail(err, DS_E_BRANCH_EXISTS, "branch \"%s\" already exists", name);
    if (rc) goto out;
    rc = run(c, &r, DS_OK, err, "SELECT " BRANCH_COLS " FROM branches WHERE project_id = $1 AND id = $2", "ss", pid,
             id);
    if (rc) goto out;
    if (r.nrows == 1) read_branch(&r, 0, out);
    else rc = ds_fail(err, DS_E_INTERNAL, "metadata store error");
    cat_rows_free(&r);
out:
    UNLOCK(c);
    return rc;
}

int cat_branch_get(cat *c, const char *pid, const char *bid, cat_branch *out, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, "SELECT " BRANCH_COLS " FROM branches WHERE project_id = $1 AND id = $2", "ss",
                 pid, bid);
    UNLOCK(c);
    if (rc) return rc;
    if (r.nrows == 0) rc = ds_fail(err, DS_E_BRANCH_NOT_FOUND, "branch \"%s\" not found", bid);
    else read_branch(&r, 0, out);
    cat_rows_free(&r);
    return rc;
}

int cat_branch_list(cat *c, const char *pid, cat_branch **out, int *count, ds_err *err) {
    LOCK(c);
    cat_rows r;
    /* Branch ids come from a sequence: always numbers. */
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " BRANCH_COLS " FROM branches WHERE project_id = $1 ORDER BY CAST(id AS BIGINT)", "s", pid);
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_branch, (void **)out, count, err);
}

int cat_branch_delete(cat *c, const char *pid, const char *bid, ds_err *err) {
    static const char *dels[] = {
        ("DELETE FROM workspace_credentials WHERE workspace_id IN"
         " (SELECT id FROM workspaces WHERE project_id = $1 AND branch_id = $2)"),
        "DELETE FROM sessions WHERE workspace_id IN (SELECT id FROM workspaces WHERE project_id = $1 AND branch_id = $2)",
        "DELETE FROM workspaces WHERE project_id = $1 AND branch_id = $2",
        "DELETE FROM tables WHERE project_id = $1 AND branch_id = $2",
        "DELETE FROM buckets WHERE project_id = $1 AND branch_id = $2",
        "DELETE FROM branches WHERE project_id = $1 AND id = $2",
    };
    LOCK(c);
    int rc = begin(c, err);
    if (!rc) {
        for (size_t i = 0; !rc && i < sizeof dels / sizeof dels[0]; i++)
            rc = run(c, NULL, DS_OK, err, dels[i], "ss", pid, bid);
        rc = finish(c, rc, err);
    }
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

/* ---- buckets ---- */

#define BUCKET_COLS "project_id, branch_id, id, stage, name, description, created_at"

static void read_bucket(const cat_rows *r, int row, void *dst) {
    cat_bucket *b = dst;
    copy_cell(r, row, 0, b->project_id, sizeof b->project_id);
    copy_cell(r, row, 1, b->branch_id, sizeof b->branch_id);
    copy_cell(r, row, 2, b->id, sizeof b->id);
    copy_cell(r, row, 3, b->stage, sizeof b->stage);
    copy_cell(r, row, 4, b->name, sizeof b->name);
    copy_cell(r, row, 5, b->description, sizeof b->description);
    b->created_at = cat_cell_i64(r, row, 6);
}

int cat_bucket_create(cat *c, const cat_bucket *b, ds_err *err) {
    LOCK(c);
    /* A branch cannot create a bucket main already has (nor main one a branch has:
     * that would shadow a branch-only bucket, so it is refused too). */
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT count(*) FROM buckets WHERE project_id = $1 AND id = $2 AND (branch_id = $3 OR branch_id = '')",
                 "sss", b->project_id, b->id, b->branch_id);
    if (rc) goto out;
    int64_t n = cat_cell_i64(&r, 0, 0);
    cat_rows_free(&r);
    if (n > 0) {
        rc = ds_fail(err, DS_E_BUCKET_EXISTS, "bucket \"%s\" already exists", b->id);
        goto out;
    }
    rc = run(c, NULL, DS_E_BUCKET_EXISTS, err,
             "INSERT INTO buckets (" BUCKET_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)", "ssssssl", b->project_id,
             b->branch_id, b->id, b->stage, b->name, b->description, b->created_at);
    if (rc == -(int)DS_E_BUCKET_EXISTS) ds_fail(err, DS_E_BUCKET_EXISTS, "bucket \"%s\" already exists", b->id);
    if (!rc) bump(c);
out:
    UNLOCK(c);
    return rc;
}

int cat_bucket_get(cat *c, const char *pid, const char *bid, const char *bucket_id, cat_bucket *out, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " BUCKET_COLS " FROM buckets WHERE project_id = $1 AND id = $2 AND (branch_id = $3 OR branch_id = '')"
                 " ORDER BY branch_id DESC LIMIT 1",
                 "sss", pid, bucket_id, bid);
    UNLOCK(c);
    if (rc) return rc;
    if (r.nrows == 0) rc = ds_fail(err, DS_E_BUCKET_NOT_FOUND, "bucket \"%s\" not found", bucket_id);
    else read_bucket(&r, 0, out);
    cat_rows_free(&r);
    return rc;
}

int cat_bucket_list(cat *c, const char *pid, const char *bid, cat_bucket **out, int *count, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " BUCKET_COLS " FROM buckets WHERE project_id = $1 AND (branch_id = $2 OR branch_id = '')"
                 " ORDER BY id",
                 "ss", pid, bid);
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_bucket, (void **)out, count, err);
}

int cat_bucket_delete(cat *c, const char *pid, const char *bid, const char *bucket_id, ds_err *err) {
    LOCK(c);
    int rc = begin(c, err);
    if (!rc) {
        rc = run(c, NULL, DS_OK, err,
                 "DELETE FROM tables WHERE project_id = $1 AND branch_id = $2 AND bucket_id = $3", "sss", pid, bid,
                 bucket_id);
        if (!rc)
            rc = run(c, NULL, DS_OK, err, "DELETE FROM buckets WHERE project_id = $1 AND branch_id = $2 AND id = $3",
                     "sss", pid, bid, bucket_id);
        rc = finish(c, rc, err);
    }
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

int cat_bucket_table_count(cat *c, const char *pid, const char *bid, const char *bucket_id, int64_t *out,
                           ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT count(*) FROM tables WHERE project_id = $1 AND branch_id = $2 AND bucket_id = $3", "sss", pid,
                 bid, bucket_id);
    UNLOCK(c);
    if (rc) return rc;
    *out = cat_cell_i64(&r, 0, 0);
    cat_rows_free(&r);
    return 0;
}

/* ---- tables ---- */

#define TABLE_COLS                                                                                      \
    "project_id, branch_id, bucket_id, name, columns_json, primary_key_json, generation, row_count,"    \
    " size_bytes, created_at, updated_at, copied_at"

static int read_table(const cat_rows *r, int row, cat_table *t) {
    memset(t, 0, sizeof *t);
    copy_cell(r, row, 0, t->project_id, sizeof t->project_id);
    copy_cell(r, row, 1, t->branch_id, sizeof t->branch_id);
    copy_cell(r, row, 2, t->bucket_id, sizeof t->bucket_id);
    copy_cell(r, row, 3, t->name, sizeof t->name);
    t->columns_json = strdup(cat_cell(r, row, 4));
    t->primary_key_json = strdup(cat_cell(r, row, 5));
    t->generation = cat_cell_i64(r, row, 6);
    t->rows = cat_cell_i64(r, row, 7);
    t->size_bytes = cat_cell_i64(r, row, 8);
    t->created_at = cat_cell_i64(r, row, 9);
    t->updated_at = cat_cell_i64(r, row, 10);
    t->copied_at = cat_cell_i64(r, row, 11);
    return t->columns_json && t->primary_key_json ? 0 : -1;
}

static int read_tables(cat_rows *r, cat_tables *out, ds_err *err) {
    int n = r->nrows;
    out->count = 0;
    out->items = calloc(n ? (size_t)n : 1, sizeof *out->items);
    if (!out->items) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    for (int i = 0; i < n; i++) {
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
    " WHERE t.project_id = $1 AND (t.branch_id = $2 OR (t.branch_id = '' AND NOT EXISTS (SELECT 1 FROM tables b" \
    " WHERE b.project_id = t.project_id AND b.branch_id = $2 AND b.bucket_id = t.bucket_id AND b.name = t.name)))"

int cat_table_get(cat *c, const char *pid, const char *bid, const char *bucket_id, const char *name,
                  cat_table *out, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " TABLE_COLS " FROM tables t" TABLE_VIEW_WHERE " AND t.bucket_id = $3 AND t.name = $4", "ssss",
                 pid, bid, bucket_id, name);
    UNLOCK(c);
    if (rc) return rc;
    if (r.nrows == 0)
        rc = ds_fail(err, DS_E_TABLE_NOT_FOUND, "table \"%s.%s\" not found", bucket_id, name);
    else if (read_table(&r, 0, out) != 0) {
        cat_table_clear(out);
        rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    cat_rows_free(&r);
    return rc;
}

int cat_table_list(cat *c, const char *pid, const char *bid, const char *bucket_id, cat_tables *out,
                   ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " TABLE_COLS " FROM tables t" TABLE_VIEW_WHERE
                 " AND ($3 IS NULL OR t.bucket_id = $3) ORDER BY t.bucket_id, t.name",
                 "sss", pid, bid, bucket_id);
    UNLOCK(c);
    if (rc) return rc;
    rc = read_tables(&r, out, err);
    cat_rows_free(&r);
    return rc;
}

int cat_table_list_all(cat *c, cat_tables *out, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, "SELECT " TABLE_COLS " FROM tables", "");
    UNLOCK(c);
    if (rc) return rc;
    rc = read_tables(&r, out, err);
    cat_rows_free(&r);
    return rc;
}

int cat_table_put(cat *c, const cat_table *t, int64_t expect_generation, ds_err *err) {
    LOCK(c);
    int rc = 0;
    {
        /* The table's project, branch and bucket must still exist (deletes can run
         * while an import builds its file). */
        cat_rows r;
        rc = run(c, &r, DS_OK, err,
                 "SELECT (SELECT count(*) FROM projects WHERE id = $1),"
                 " CASE WHEN $2 = '' OR EXISTS (SELECT 1 FROM branches WHERE project_id = $1 AND id = $2) THEN 1 ELSE 0 END,"
                 " CASE WHEN EXISTS (SELECT 1 FROM buckets WHERE project_id = $1 AND id = $3"
                 " AND (branch_id = $2 OR branch_id = '')) THEN 1 ELSE 0 END",
                 "sss", t->project_id, t->branch_id, t->bucket_id);
        if (rc) goto out;
        int64_t has_p = cat_cell_i64(&r, 0, 0), has_b = cat_cell_i64(&r, 0, 1), has_bucket = cat_cell_i64(&r, 0, 2);
        cat_rows_free(&r);
        if (!has_p) rc = ds_fail(err, DS_E_PROJECT_NOT_FOUND, "project \"%s\" not found", t->project_id);
        else if (!has_b) rc = ds_fail(err, DS_E_BRANCH_NOT_FOUND, "branch \"%s\" not found", t->branch_id);
        else if (!has_bucket) rc = ds_fail(err, DS_E_BUCKET_NOT_FOUND, "bucket \"%s\" not found", t->bucket_id);
        if (rc) goto out;
    }
    /* Publishing is a compare-and-set in one statement, so that of two publishers (two
     * processes on one PostgreSQL catalog) exactly one replaces the generation both
     * started from: generation 0 means the row must not exist yet. */
    cat_rows r = {0};
    if (expect_generation == 0) {
        rc = run(c, &r, DS_OK, err,
                 "INSERT INTO tables (" TABLE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                 " ON CONFLICT DO NOTHING",
                 "ssssssllllll", t->project_id, t->branch_id, t->bucket_id, t->name, t->columns_json,
                 t->primary_key_json, t->generation, t->rows, t->size_bytes, t->created_at, t->updated_at,
                 t->copied_at);
        if (!rc && r.changed != 1)
            rc = ds_fail(err, DS_E_TABLE_EXISTS, "table \"%s.%s\" already exists", t->bucket_id, t->name);
    } else if (expect_generation > 0) {
        rc = run(c, &r, DS_OK, err,
                 "UPDATE tables SET columns_json = $5, primary_key_json = $6, generation = $7, row_count = $8,"
                 " size_bytes = $9, created_at = $10, updated_at = $11, copied_at = $12"
                 " WHERE project_id = $1 AND branch_id = $2 AND bucket_id = $3 AND name = $4 AND generation = $13",
                 "sssssslllllll", t->project_id, t->branch_id, t->bucket_id, t->name, t->columns_json,
                 t->primary_key_json, t->generation, t->rows, t->size_bytes, t->created_at, t->updated_at,
                 t->copied_at, expect_generation);
        if (!rc && r.changed != 1)
            rc = ds_fail(err, DS_E_TABLE_CHANGED, "table \"%s.%s\" was changed by another import meanwhile; retry",
                         t->bucket_id, t->name);
    } else {
        rc = run(c, &r, DS_OK, err,
                 "INSERT INTO tables (" TABLE_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                 " ON CONFLICT (project_id, branch_id, bucket_id, name) DO UPDATE SET"
                 " columns_json = EXCLUDED.columns_json, primary_key_json = EXCLUDED.primary_key_json,"
                 " generation = EXCLUDED.generation, row_count = EXCLUDED.row_count, size_bytes = EXCLUDED.size_bytes,"
                 " created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, copied_at = EXCLUDED.copied_at",
                 "ssssssllllll", t->project_id, t->branch_id, t->bucket_id, t->name, t->columns_json,
                 t->primary_key_json, t->generation, t->rows, t->size_bytes, t->created_at, t->updated_at,
                 t->copied_at);
    }
    cat_rows_free(&r);
    if (!rc) bump(c);
out:
    UNLOCK(c);
    return rc;
}

int cat_table_delete(cat *c, const char *pid, const char *bid, const char *bucket_id, const char *name,
                     ds_err *err) {
    LOCK(c);
    int rc = run(c, NULL, DS_OK, err,
                 "DELETE FROM tables WHERE project_id = $1 AND branch_id = $2 AND bucket_id = $3 AND name = $4", "ssss",
                 pid, bid, bucket_id, name);
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

/* ---- workspaces ---- */

#define WS_COLS                                                                                        \
    "w.id, w.project_id, w.branch_id, w.name, w.created_at, coalesce(w.expires_at, 0), w.size_limit_bytes," \
    " w.status, coalesce(c.username, '')"
#define WS_FROM " FROM workspaces w LEFT JOIN workspace_credentials c ON c.workspace_id = w.id"

static void read_ws(const cat_rows *r, int row, void *dst) {
    cat_workspace *w = dst;
    memset(w, 0, sizeof *w);
    copy_cell(r, row, 0, w->id, sizeof w->id);
    copy_cell(r, row, 1, w->project_id, sizeof w->project_id);
    copy_cell(r, row, 2, w->branch_id, sizeof w->branch_id);
    copy_cell(r, row, 3, w->name, sizeof w->name);
    w->created_at = cat_cell_i64(r, row, 4);
    w->expires_at = cat_cell_i64(r, row, 5);
    w->size_limit_bytes = cat_cell_i64(r, row, 6);
    copy_cell(r, row, 7, w->status, sizeof w->status);
    copy_cell(r, row, 8, w->username, sizeof w->username);
}

int cat_workspace_create(cat *c, const cat_workspace *w, const char *verifier, int64_t max_per_project,
                         ds_err *err) {
    char lock_sql[128];
    snprintf(lock_sql, sizeof lock_sql, "SELECT id FROM projects WHERE id = $1%s", c->ops->for_update);
    LOCK(c);
    int rc = begin(c, err);
    if (rc) goto out;
    /* The project's row is locked until COMMIT: creates for one project, from any
     * process on the catalog, count and insert one after the other. */
    cat_rows r;
    rc = run(c, &r, DS_OK, err, lock_sql, "s", w->project_id);
    if (!rc) {
        if (r.nrows == 0) rc = ds_fail(err, DS_E_PROJECT_NOT_FOUND, "project \"%s\" not found", w->project_id);
        cat_rows_free(&r);
    }
    if (!rc) rc = run(c, &r, DS_OK, err, "SELECT count(*) FROM workspaces WHERE project_id = $1", "s", w->project_id);
    if (!rc) {
        int64_t n = cat_cell_i64(&r, 0, 0);
        cat_rows_free(&r);
        if (n >= max_per_project) {
            rc = ds_fail(err, DS_E_LIMIT_EXCEEDED, "project \"%s\" already has %lld workspaces (the limit)",
                         w->project_id, (long long)n);
            char lim[32];
            snprintf(lim, sizeof lim, "%lld", (long long)max_per_project);
            ds_err_detail(err, "limit", lim, 1);
        }
    }
    if (!rc)
        rc = run(c, NULL, DS_OK, err,
                 "INSERT INTO workspaces (id, project_id, branch_id, name, created_at, expires_at, size_limit_bytes,"
                 " status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                 "ssssllls", w->id, w->project_id, w->branch_id, w->name, w->created_at, w->expires_at,
                 w->size_limit_bytes, "active");
    if (!rc)
        rc = run(c, NULL, DS_OK, err,
                 "INSERT INTO workspace_credentials (workspace_id, username, scram_verifier, created_at)"
                 " VALUES ($1, $2, $3, $4)",
                 "sssl", w->id, w->username, verifier, w->created_at);
    rc = finish(c, rc, err);
    if (!rc) bump(c);
out:
    UNLOCK(c);
    return rc;
}

int cat_workspace_get(cat *c, const char *id, cat_workspace *out, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, "SELECT " WS_COLS WS_FROM " WHERE w.id = $1", "s", id);
    UNLOCK(c);
    if (rc) return rc;
    if (r.nrows == 0) rc = ds_fail(err, DS_E_WORKSPACE_NOT_FOUND, "workspace \"%s\" not found", id);
    else read_ws(&r, 0, out);
    cat_rows_free(&r);
    return rc;
}

int cat_workspace_list(cat *c, const char *pid, const char *bid, int64_t limit, int64_t offset,
                       cat_workspace **out, int *count, int64_t *total, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT count(*) FROM workspaces WHERE project_id = $1 AND ($2 IS NULL OR branch_id = $2)", "ss", pid,
                 bid);
    if (rc) goto out;
    *total = cat_cell_i64(&r, 0, 0);
    cat_rows_free(&r);
    rc = run(c, &r, DS_OK, err,
             "SELECT " WS_COLS WS_FROM " WHERE w.project_id = $1 AND ($2 IS NULL OR w.branch_id = $2)"
             " ORDER BY w.created_at, w.id LIMIT $3 OFFSET $4",
             "ssll", pid, bid, limit > 0 ? limit : INT64_MAX, offset);
    if (rc) goto out;
    rc = read_list(&r, sizeof **out, read_ws, (void **)out, count, err);
out:
    UNLOCK(c);
    return rc;
}

int cat_workspace_delete(cat *c, const char *id, ds_err *err) {
    LOCK(c);
    int rc = begin(c, err);
    if (!rc) {
        rc = run(c, NULL, DS_OK, err, "DELETE FROM workspace_credentials WHERE workspace_id = $1", "s", id);
        if (!rc) rc = run(c, NULL, DS_OK, err, "DELETE FROM sessions WHERE workspace_id = $1", "s", id);
        if (!rc) rc = run(c, NULL, DS_OK, err, "DELETE FROM workspaces WHERE id = $1", "s", id);
        rc = finish(c, rc, err);
    }
    if (!rc) bump(c);
    UNLOCK(c);
    return rc;
}

int cat_workspace_set_verifier(cat *c, const char *id, const char *verifier, ds_err *err) {
    LOCK(c);
    int rc = run(c, NULL, DS_OK, err,
                 "UPDATE workspace_credentials SET scram_verifier = $1 WHERE workspace_id = $2", "ss", verifier, id);
    UNLOCK(c);
    return rc;
}

int cat_workspace_by_username(cat *c, const char *username, cat_workspace *out, char *verifier, size_t verifier_sz,
                              ds_err *err) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = username; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    struct login_entry *le = &c->logins[h % (sizeof c->logins / sizeof c->logins[0])];
    pthread_mutex_lock(&c->cache_mu);
    uint64_t gen = atomic_load(&c->login_gen);
    if (le->used && le->gen == gen && strcmp(le->w.username, username) == 0 &&
        (atomic_load(&c->feed_live) || (ds_monotonic() - le->fetched) * 1000 < CAT_LOGIN_TTL_FEED_DOWN_MS)) {
        *out = le->w;
        snprintf(verifier, verifier_sz, "%s", le->verifier);
        pthread_mutex_unlock(&c->cache_mu);
        return 0;
    }
    pthread_mutex_unlock(&c->cache_mu);
    /* gen was read before the lookup: a write that lands meanwhile leaves the entry
     * stored below already stale. */
    double fetched = ds_monotonic();
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, "SELECT " WS_COLS ", c.scram_verifier" WS_FROM " WHERE c.username = $1", "s",
                 username);
    UNLOCK(c);
    if (rc) return rc;
    if (r.nrows == 0) {
        rc = ds_fail(err, DS_E_UNAUTHORIZED, "unknown user");
    } else {
        read_ws(&r, 0, out);
        copy_cell(&r, 0, 9, verifier, verifier_sz);
        pthread_mutex_lock(&c->cache_mu);
        le->used = true;
        le->gen = gen;
        le->fetched = fetched;
        le->w = *out;
        copy_cell(&r, 0, 9, le->verifier, sizeof le->verifier);
        pthread_mutex_unlock(&c->cache_mu);
    }
    cat_rows_free(&r);
    return rc;
}

int cat_workspace_expired(cat *c, int64_t now, cat_workspace **out, int *count, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err,
                 "SELECT " WS_COLS WS_FROM " WHERE w.expires_at IS NOT NULL AND w.expires_at > 0 AND w.expires_at <= $1",
                 "l", now);
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_ws, (void **)out, count, err);
}

int cat_workspace_all(cat *c, cat_workspace **out, int *count, ds_err *err) {
    LOCK(c);
    cat_rows r;
    int rc = run(c, &r, DS_OK, err, "SELECT " WS_COLS WS_FROM, "");
    UNLOCK(c);
    if (rc) return rc;
    return read_list(&r, sizeof **out, read_ws, (void **)out, count, err);
}
