/* copy.c - `duckspace catalog copy`: every row of one catalog into another, e.g. from
 * the embedded DuckDB file to PostgreSQL when one server becomes several (or back).
 *
 * Offline: the server using the source is stopped (a DuckDB catalog's file lock
 * enforces that for DuckDB; for PostgreSQL the operator does). The destination must
 * hold no project; everything is written in one transaction there, so a failed copy
 * leaves it empty. Values travel as text and are cast back to BIGINT where the column
 * is one: NULLs stay NULL, verifiers and key hashes are copied as they are (nothing
 * secret is ever in clear in a catalog). */
#include <stdio.h>
#include <string.h>

#include "catalog/internal.h"

typedef struct {
    const char *table;
    const char *cols[12];
    const char *types; /* per column: 's' text, 'l' BIGINT */
} copied_table;

/* In dependency order (the PostgreSQL schema has foreign keys). The sessions table
 * holds nothing lasting and is not copied. */
static const copied_table tables[] = {
    {"projects", {"id", "name", "api_key_hash", "created_at"}, "sssl"},
    {"branches", {"project_id", "id", "name", "description", "created_at"}, "ssssl"},
    {"buckets", {"project_id", "branch_id", "id", "stage", "name", "description", "created_at"}, "ssssssl"},
    {"tables",
     {"project_id", "branch_id", "bucket_id", "name", "columns_json", "primary_key_json", "generation", "row_count",
      "size_bytes", "created_at", "updated_at", "copied_at"},
     "ssssssllllll"},
    {"workspaces",
     {"id", "project_id", "branch_id", "name", "created_at", "expires_at", "size_limit_bytes", "status"},
     "sssslll" "s"},
    {"workspace_credentials", {"workspace_id", "username", "scram_verifier", "created_at"}, "sssl"},
};
#define NTABLES (sizeof tables / sizeof tables[0])

static int copy_table(cat *from, cat *to, const copied_table *t, int64_t *count, ds_err *err) {
    char sel[600], ins[900];
    size_t sl = (size_t)snprintf(sel, sizeof sel, "SELECT ");
    size_t il = (size_t)snprintf(ins, sizeof ins, "INSERT INTO %s (", t->table);
    int n = (int)strlen(t->types);
    for (int i = 0; i < n; i++) {
        sl += (size_t)snprintf(sel + sl, sizeof sel - sl, "%s%s", i ? ", " : "", t->cols[i]);
        il += (size_t)snprintf(ins + il, sizeof ins - il, "%s%s", i ? ", " : "", t->cols[i]);
    }
    snprintf(sel + sl, sizeof sel - sl, " FROM %s ORDER BY 1, 2", t->table);
    il += (size_t)snprintf(ins + il, sizeof ins - il, ") VALUES (");
    for (int i = 0; i < n; i++)
        il += (size_t)snprintf(ins + il, sizeof ins - il, t->types[i] == 'l' ? "%sCAST($%d AS BIGINT)" : "%s$%d",
                               i ? ", " : "", i + 1);
    snprintf(ins + il, sizeof ins - il, ")");

    cat_rows r;
    pthread_mutex_lock(&from->mu);
    int rc = cat_run(from, &r, DS_OK, err, sel, "");
    pthread_mutex_unlock(&from->mu);
    if (rc) return rc;
    char types[16];
    memset(types, 's', sizeof types); /* every value as text; the INSERT casts */
    for (int row = 0; !rc && row < r.nrows; row++) {
        const char *vals[12];
        for (int i = 0; i < n; i++) vals[i] = cat_cell_null(&r, row, i) ? NULL : cat_cell(&r, row, i);
        rc = cat_run_values(to, NULL, DS_OK, err, ins, n, vals, types);
    }
    *count = r.nrows;
    cat_rows_free(&r);
    return rc;
}

int cat_copy(cat *from, cat *to, char *summary, size_t summary_sz, ds_err *err) {
    cat_rows r;
    pthread_mutex_lock(&to->mu);
    int rc = cat_run(to, &r, DS_OK, err, "SELECT (SELECT count(*) FROM projects) + (SELECT count(*) FROM workspaces)", "");
    if (!rc) {
        if (cat_cell_i64(&r, 0, 0) != 0)
            rc = ds_fail(err, DS_E_PROJECT_EXISTS,
                         "the destination catalog is not empty (it has projects or workspaces): nothing copied");
        cat_rows_free(&r);
    }
    int64_t counts[NTABLES] = {0};
    if (!rc) rc = cat_run(to, NULL, DS_OK, err, "BEGIN TRANSACTION", "");
    if (!rc) {
        for (size_t i = 0; !rc && i < NTABLES; i++) rc = copy_table(from, to, &tables[i], &counts[i], err);
        /* The destination takes the source's identity: data directories that recorded
         * it (main.c) keep working with the copy. */
        if (!rc) rc = cat_run(to, NULL, DS_OK, err, "DELETE FROM catalog_info", "");
        if (!rc) rc = cat_run(to, NULL, DS_OK, err, "INSERT INTO catalog_info (id) VALUES ($1)", "s", from->id);
        ds_err ignored;
        if (rc) cat_run(to, NULL, DS_OK, &ignored, "ROLLBACK", "");
        else rc = cat_run(to, NULL, DS_OK, err, "COMMIT", "");
    }
    /* Branch ids continue after the highest copied one. */
    if (!rc) {
        pthread_mutex_lock(&from->mu);
        rc = cat_run(from, &r, DS_OK, err, "SELECT coalesce(max(CAST(id AS BIGINT)), 0) FROM branches", "");
        pthread_mutex_unlock(&from->mu);
        if (!rc) {
            int64_t next = cat_cell_i64(&r, 0, 0) + 1;
            cat_rows_free(&r);
            if (to->ops->set_sequence(to->db, "branch_ids", next) != CATDB_OK)
                rc = ds_fail(err, DS_E_INTERNAL, "cannot set the branch id sequence of the destination");
        }
    }
    if (!rc) snprintf(to->id, sizeof to->id, "%s", from->id);
    pthread_mutex_unlock(&to->mu);
    if (!rc)
        snprintf(summary, summary_sz,
                 "copied %lld projects, %lld branches, %lld buckets, %lld tables, %lld workspaces from %s to %s",
                 (long long)counts[0], (long long)counts[1], (long long)counts[2], (long long)counts[3],
                 (long long)counts[4], from->ops->name, to->ops->name);
    return rc;
}
