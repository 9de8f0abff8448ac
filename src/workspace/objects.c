/* objects.c - the user's objects in a workspace: listing, clearing, dropping, and
 * loading copies of project tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dberr.h"
#include "util/log.h"
#include "util/sqlscan.h"
#include "util/str.h"
#include "workspace/internal.h"

/* duckspace's own questions about the user's objects run on the admin connection,
 * whose search path is system.main (instance.c): the system functions are always named
 * system.main.*, the user's objects always "<db>".schema.name, and every listing keeps
 * to the workspace's database, so objects the user made (a macro duckdb_tables(), a
 * table or schema named like a system one) change neither what is listed nor what is
 * dropped (audit S50/S51). */

/* Runs sql on the admin connection (mu held); a failure is the caller's 500. */
static int admin_query_locked(ws_instance *inst, const char *sql, duckdb_result *res, ds_err *err) {
    if (duckdb_query(inst->admin, sql, res) == DuckDBError) {
        log_error("workspace %s: %s: %s", inst->w.id, sql, duckdb_result_error(res));
        duckdb_destroy_result(res);
        return ds_fail(err, DS_E_INTERNAL, "cannot read the workspace's objects");
    }
    return 0;
}

/* "<db>".schema.name of a user object. */
static void qualified_name(sb *q, const ws_instance *inst, const char *schema, const char *name) {
    sb_ident(q, inst->dbname);
    sb_append(q, ".");
    sb_ident(q, schema);
    if (name) {
        sb_append(q, ".");
        sb_ident(q, name);
    }
}

/* Tables and views of the workspace's own database, with their schema. */
static char *objects_sql(const ws_instance *inst) {
    sb q;
    sb_init(&q);
    sb_append(&q, "SELECT schema_name, table_name, 'table' AS kind FROM system.main.duckdb_tables()"
                  " WHERE database_name = ");
    sb_literal(&q, inst->dbname);
    sb_append(&q, " AND NOT internal UNION ALL SELECT schema_name, view_name, 'view' FROM system.main.duckdb_views()"
                  " WHERE database_name = ");
    sb_literal(&q, inst->dbname);
    sb_append(&q, " AND NOT internal ORDER BY 1, 2");
    return sb_take(&q);
}

int ws_objects(ws_instance *inst, json_t **out, ds_err *err) {
    char *sql = objects_sql(inst);
    if (!sql) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    duckdb_result res;
    pthread_mutex_lock(&inst->mu);
    int rc = admin_query_locked(inst, sql, &res, err);
    free(sql);
    if (rc) {
        pthread_mutex_unlock(&inst->mu);
        return rc;
    }
    json_t *arr = json_array();
    for (idx_t i = 0; i < duckdb_row_count(&res); i++) {
        char *schema = duckdb_value_varchar(&res, 0, i), *name = duckdb_value_varchar(&res, 1, i),
             *kind = duckdb_value_varchar(&res, 2, i);
        if (!schema || !name || !kind) {
            duckdb_free(schema);
            duckdb_free(name);
            duckdb_free(kind);
            continue;
        }
        char full[300];
        /* Objects in the default schema by name; others as schema.name. */
        snprintf(full, sizeof full, "%s%s%s", strcmp(schema, "main") ? schema : "", strcmp(schema, "main") ? "." : "",
                 name);
        json_t *o = json_pack("{s:s, s:s}", "name", full, "type", kind);
        if (strcmp(kind, "table") == 0) {
            sb q;
            sb_init(&q);
            sb_append(&q, "SELECT count(*) FROM ");
            qualified_name(&q, inst, schema, name);
            duckdb_result cr;
            if (!sb_failed(&q) && duckdb_query(inst->admin, q.data, &cr) != DuckDBError)
                json_object_set_new(o, "rows", json_integer(duckdb_value_int64(&cr, 0, 0)));
            else
                json_object_set_new(o, "rows", json_null());
            if (!sb_failed(&q)) duckdb_destroy_result(&cr);
            sb_free(&q);
        } else {
            json_object_set_new(o, "rows", json_null()); /* a view is not run to be counted */
        }
        json_array_append_new(arr, o);
        duckdb_free(schema);
        duckdb_free(name);
        duckdb_free(kind);
    }
    duckdb_destroy_result(&res);
    pthread_mutex_unlock(&inst->mu);
    *out = arr;
    return 0;
}

/* Every object the user made in the workspace's database, as (kind for DROP, schema,
 * name), in an order that respects dependencies: schemas other than main whole (with
 * CASCADE), then in main views, tables (CASCADE: their indexes), indexes, sequences,
 * macros, table macros, types. Empty when the workspace is clear. */
static char *user_objects_sql(const ws_instance *inst) {
    static const struct {
        const char *kind, *fn, *name_col, *extra;
    } parts[] = {
        {"SCHEMA", "duckdb_schemas", "NULL", "NOT internal AND schema_name <> 'main'"},
        {"VIEW", "duckdb_views", "view_name", "NOT internal AND schema_name = 'main'"},
        {"TABLE", "duckdb_tables", "table_name", "schema_name = 'main'"},
        {"INDEX", "duckdb_indexes", "index_name", "schema_name = 'main'"},
        {"SEQUENCE", "duckdb_sequences", "sequence_name", "schema_name = 'main'"},
        {"MACRO", "duckdb_functions", "function_name",
         "NOT internal AND schema_name = 'main' AND function_type = 'macro'"},
        {"MACRO TABLE", "duckdb_functions", "function_name",
         "NOT internal AND schema_name = 'main' AND function_type = 'table_macro'"},
        {"TYPE", "duckdb_types", "type_name", "NOT internal AND schema_name = 'main'"},
    };
    sb q;
    sb_init(&q);
    sb_append(&q, "SELECT kind, schema_name, name FROM (");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        sb_printf(&q, "%sSELECT DISTINCT %zu AS ord, '%s' AS kind, schema_name, %s AS name FROM system.main.%s() WHERE "
                      "database_name = ",
                  i ? " UNION ALL " : "", i, parts[i].kind, parts[i].name_col, parts[i].fn);
        sb_literal(&q, inst->dbname);
        sb_printf(&q, " AND %s", parts[i].extra);
    }
    sb_append(&q, ") ORDER BY ord, schema_name, name");
    return sb_take(&q);
}

/* Runs the DROP of each object user_objects_sql lists (mu held). Returns how many it
 * listed, or -1 when it could not list them. */
static int drop_user_objects_locked(ws_instance *inst, const char *list_sql, ds_err *err) {
    duckdb_result res;
    if (admin_query_locked(inst, list_sql, &res, err) != 0) return -1;
    int n = (int)duckdb_row_count(&res);
    for (idx_t i = 0; i < duckdb_row_count(&res); i++) {
        char *kind = duckdb_value_varchar(&res, 0, i), *schema = duckdb_value_varchar(&res, 1, i),
             *name = duckdb_value_varchar(&res, 2, i);
        sb q;
        sb_init(&q);
        if (kind && schema) {
            sb_printf(&q, "DROP %s IF EXISTS ", kind);
            qualified_name(&q, inst, schema, strcmp(kind, "SCHEMA") ? name : NULL);
            if (!strcmp(kind, "SCHEMA") || !strcmp(kind, "TABLE")) sb_append(&q, " CASCADE");
            duckdb_result r2;
            if (sb_failed(&q)) {
                log_error("workspace %s: clear: out of memory", inst->w.id);
            } else {
                if (duckdb_query(inst->admin, q.data, &r2) == DuckDBError)
                    log_warn("workspace %s: clear: %s: %s", inst->w.id, q.data, duckdb_result_error(&r2));
                duckdb_destroy_result(&r2);
            }
        }
        sb_free(&q);
        duckdb_free(kind);
        duckdb_free(schema);
        duckdb_free(name);
    }
    duckdb_destroy_result(&res);
    return n;
}

int ws_clear(ws_instance *inst, ds_err *err) {
    char *list = user_objects_sql(inst);
    if (!list) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    int rc = 0;
    pthread_mutex_lock(&inst->mu);
    /* Rounds until a listing comes back empty: a drop refused for a dependency the
     * order did not foresee succeeds once what depends on it is gone. The answer says
     * the workspace is clear only when a listing found nothing left. */
    int listed = 0;
    for (int round = 0; round < 5; round++)
        if ((listed = drop_user_objects_locked(inst, list, err)) <= 0) break;
    if (listed < 0) {
        rc = -(int)err->code;
    } else if (listed > 0) {
        duckdb_result res;
        if ((rc = admin_query_locked(inst, list, &res, err)) == 0) {
            idx_t remaining = duckdb_row_count(&res);
            duckdb_destroy_result(&res);
            if (remaining) {
                log_error("workspace %s: clear: %llu object(s) could not be dropped", inst->w.id,
                          (unsigned long long)remaining);
                rc = ds_fail(err, DS_E_INTERNAL, "cannot drop every object");
            }
        }
    }
    pthread_mutex_unlock(&inst->mu);
    free(list);
    /* The space is free for new objects only after a checkpoint. */
    if (rc == 0) inst_checkpoint(inst);
    return rc;
}

int ws_drop_object(ws_instance *inst, const char *name, ds_err *err) {
    sb q;
    sb_init(&q);
    sb_append(&q, "SELECT 'table' FROM system.main.duckdb_tables() WHERE database_name = ");
    sb_literal(&q, inst->dbname);
    sb_append(&q, " AND schema_name = 'main' AND table_name = ");
    sb_literal(&q, name);
    sb_append(&q, " UNION ALL SELECT 'view' FROM system.main.duckdb_views() WHERE NOT internal AND database_name = ");
    sb_literal(&q, inst->dbname);
    sb_append(&q, " AND schema_name = 'main' AND view_name = ");
    sb_literal(&q, name);
    if (sb_failed(&q)) {
        sb_free(&q);
        return ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    duckdb_result res;
    pthread_mutex_lock(&inst->mu);
    int rc = admin_query_locked(inst, q.data, &res, err);
    sb_free(&q);
    if (rc == 0) {
        if (duckdb_row_count(&res) == 0) {
            rc = ds_fail(err, DS_E_OBJECT_NOT_FOUND, "the workspace has no table or view \"%s\"", name);
        } else {
            char *kind = duckdb_value_varchar(&res, 0, 0);
            bool view = kind && strcmp(kind, "view") == 0;
            sb d;
            sb_init(&d);
            sb_printf(&d, "DROP %s ", view ? "VIEW" : "TABLE");
            qualified_name(&d, inst, "main", name);
            if (!view) sb_append(&d, " CASCADE");
            duckdb_result r2;
            if (sb_failed(&d) || duckdb_query(inst->admin, d.data, &r2) == DuckDBError)
                rc = ds_fail(err, DS_E_INVALID_REQUEST, "%s", sb_failed(&d) ? "out of memory" : duckdb_result_error(&r2));
            if (!sb_failed(&d)) duckdb_destroy_result(&r2);
            sb_free(&d);
            duckdb_free(kind);
        }
        duckdb_destroy_result(&res);
    }
    pthread_mutex_unlock(&inst->mu);
    return rc;
}

/* ---- load ---- */

static bool column_exists(const cat_table *t, const char *name) {
    json_error_t je;
    json_t *cols = json_loads(t->columns_json, 0, &je);
    bool found = false;
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0) found = true;
    }
    json_decref(cols);
    return found;
}

typedef struct {
    char bucket[CAT_ID_MAX];
    char table[DS_NAME_MAX + 1];
    char dest[DS_NAME_MAX + 1];
    char *sql;
    duckdb_prepared_statement st;
} load_step;

int ws_load(ws_instance *inst, const ws_load_item *items, int n, json_t **out, ds_err *err) {
    load_step *steps = calloc((size_t)(n ? n : 1), sizeof *steps);
    if (!steps) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    ws_conn *c = NULL;
    int rc = 0;
    /* 1. Check every item before touching anything. */
    for (int i = 0; i < n && rc == 0; i++) {
        load_step *s = &steps[i];
        if (!table_id_parse(items[i].source, s->bucket, sizeof s->bucket, s->table)) {
            rc = ds_fail(err, DS_E_INVALID_REQUEST, "invalid source table id \"%.140s\"", items[i].source);
            break;
        }
        cat_table t;
        rc = inst->reg->src.table_get(inst->reg->src.ud, s->bucket, s->table, &t, err);
        if (rc) break;
        const char *dest = items[i].destination ? items[i].destination : s->table;
        if (!name_is_valid_column(dest)) {
            cat_table_clear(&t);
            rc = ds_fail(err, DS_E_INVALID_REQUEST, "invalid destination \"%.64s\": use [A-Za-z_][A-Za-z0-9_]*", dest);
            break;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(steps[k].dest, dest) == 0) rc = ds_fail(err, DS_E_INVALID_REQUEST, "destination \"%s\" twice", dest);
        snprintf(s->dest, sizeof s->dest, "%s", dest);
        sb q;
        sb_init(&q);
        sb_printf(&q, "CREATE OR REPLACE TABLE \"%s\".main.", inst->dbname);
        sb_ident(&q, dest);
        sb_append(&q, " AS SELECT ");
        if (items[i].columns && json_array_size(items[i].columns) > 0) {
            size_t k;
            json_t *col;
            json_array_foreach(items[i].columns, k, col) {
                if (!json_is_string(col) || !column_exists(&t, json_string_value(col))) {
                    rc = ds_fail(err, DS_E_INVALID_REQUEST, "table \"%s\" has no column \"%.64s\"", items[i].source,
                                 json_is_string(col) ? json_string_value(col) : "?");
                    break;
                }
                if (k) sb_append(&q, ", ");
                sb_ident(&q, json_string_value(col));
            }
        } else {
            sb_append(&q, "*");
        }
        char schema[CAT_ID_MAX];
        bucket_schema_name(s->bucket, schema, sizeof schema);
        sb_append(&q, " FROM ");
        sb_ident(&q, schema);
        sb_append(&q, ".");
        sb_ident(&q, s->table);
        /* The filter is user SQL: it runs in the sandbox, inside parentheses, as part of
         * one statement that must stay a CREATE TABLE ... AS SELECT. */
        if (items[i].where && *items[i].where) {
            if (!sqlscan_balanced(items[i].where, strlen(items[i].where))) {
                rc = ds_fail(err, DS_E_INVALID_REQUEST,
                             "\"where\" must be one filter expression (unbalanced parentheses, quotes or a ';')");
                sb_free(&q);
                cat_table_clear(&t);
                break;
            }
            sb_printf(&q, " WHERE (%s\n)", items[i].where);
        }
        cat_table_clear(&t);
        s->sql = sb_take(&q);
        if (!rc && !s->sql) rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    if (rc) goto out;
    if ((rc = ws_conn_open(inst, &c, err))) goto out;
    /* 2. Prepare each (this attaches the tables they read), outside any transaction. */
    for (int i = 0; i < n && rc == 0; i++) {
        if ((rc = inst_ensure_table(inst, steps[i].bucket, steps[i].table, err))) break;
        rc = ws_prepare(c, steps[i].sql, &steps[i].st, NULL, err);
        if (rc == 0 && duckdb_prepared_statement_type(steps[i].st) != DUCKDB_STATEMENT_TYPE_CREATE)
            rc = ds_fail(err, DS_E_INVALID_REQUEST, "\"where\" must be a filter expression");
        if (rc && err->code == DS_E_FORBIDDEN) err->code = DS_E_INVALID_REQUEST; /* a REST 400, per the contract */
    }
    if (rc) goto out;
    /* 3. Run them in one transaction: all or nothing. The size guard watches it. */
    duckdb_result r;
    ws_conn_begin(c);
    duckdb_query(c->con, "BEGIN TRANSACTION", &r);
    duckdb_destroy_result(&r);
    for (int i = 0; i < n && rc == 0; i++) {
        if (duckdb_execute_prepared(steps[i].st, &r) == DuckDBError)
            rc = dberr_fail(err, DS_E_INVALID_REQUEST, duckdb_result_error_type(&r), duckdb_result_error(&r));
        duckdb_destroy_result(&r);
    }
    if (duckdb_query(c->con, rc ? "ROLLBACK" : "COMMIT", &r) == DuckDBError && rc == 0)
        rc = dberr_fail(err, DS_E_INVALID_REQUEST, duckdb_result_error_type(&r), duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    ws_conn_end(c);
    if (rc && ws_conn_size_stopped(c)) {
        rc = ds_fail(err, DS_E_LIMIT_EXCEEDED, "the load was stopped: the workspace grew past its size limit of %lld GB",
                     (long long)(inst->w.size_limit_bytes >> 30));
        char lim[32];
        snprintf(lim, sizeof lim, "%lld", (long long)(inst->w.size_limit_bytes >> 30));
        ds_err_detail(err, "limit", lim, 1);
    }
    if (rc) goto out;
    inst_checkpoint(inst);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char sql[700];
        snprintf(sql, sizeof sql, "SELECT count(*), (SELECT count(DISTINCT block_id) * 262144 FROM "
                 "system.main.pragma_storage_info('\"%s\".main.\"%s\"')) FROM \"%s\".main.\"%s\"",
                 inst->dbname, steps[i].dest, inst->dbname, steps[i].dest);
        int64_t rows = 0, bytes = 0;
        pthread_mutex_lock(&inst->mu); /* on the admin connection: see the top of this file */
        if (duckdb_query(inst->admin, sql, &r) != DuckDBError) {
            rows = duckdb_value_int64(&r, 0, 0);
            bytes = duckdb_value_int64(&r, 1, 0);
        }
        duckdb_destroy_result(&r);
        pthread_mutex_unlock(&inst->mu);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I}", "source", items[i].source, "destination",
                                             steps[i].dest, "rows", (json_int_t)rows, "size_bytes", (json_int_t)bytes));
    }
    *out = arr;
out:
    for (int i = 0; i < n; i++) {
        free(steps[i].sql);
        if (steps[i].st) duckdb_destroy_prepare(&steps[i].st);
    }
    free(steps);
    ws_conn_close(c);
    return rc;
}
