/* tables.c - tables: create (JSON columns, CSV or Parquet), list, detail, delete,
 * import (full or incremental) and preview. */
#include <duckdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"
#include "util/jsonx.h"

#define MAX_COLUMNS 1000

json_t *table_json(const cat_table *t, bool in_branch) {
    char id[CAT_ID_MAX + DS_NAME_MAX + 2], schema[CAT_ID_MAX];
    snprintf(id, sizeof id, "%s.%s", t->bucket_id, t->name);
    bucket_schema_name(t->bucket_id, schema, sizeof schema);
    json_error_t je;
    json_t *cols = json_loads(t->columns_json, 0, &je), *pk = json_loads(t->primary_key_json, 0, &je);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I}", "id", id, "bucket_id", t->bucket_id, "name",
                          t->name, "schema", schema, "columns", cols ? cols : json_array(), "primary_key",
                          pk ? pk : json_array(), "rows", (json_int_t)t->rows, "size_bytes", (json_int_t)t->size_bytes);
    jx_set_time(j, "created_at", t->created_at);
    jx_set_time(j, "updated_at", t->updated_at);
    json_object_set_new(j, "source", json_string(in_branch && t->branch_id[0] ? "branch" : "main"));
    return j;
}

/* Project, branch and a well-formed table from the path: .../tables/{table_id}
 * ("in.c-sales.orders"), or .../buckets/{bucket_id}/tables/{table} with the table id
 * or just the table name. */
static int table_route(http_req *r, char bucket[CAT_ID_MAX], char name[DS_NAME_MAX + 1]) {
    if (require_project(r) || require_branch(r)) return -1;
    bool under_bucket = r->nseg > 5 && strcmp(r->segs[2], "buckets") == 0;
    const char *id = under_bucket ? r->segs[5] : r->nseg > 3 ? r->segs[3] : "";
    if (under_bucket) {
        char stage[4], bname[DS_NAME_MAX + 1];
        if (!bucket_id_parse(r->segs[3], stage, bname)) {
            http_fail(r, DS_E_INVALID_REQUEST, "invalid bucket id \"%.80s\"", r->segs[3]);
            return -1;
        }
        if (name_is_valid_table(id)) {
            snprintf(bucket, CAT_ID_MAX, "%s", r->segs[3]);
            snprintf(name, DS_NAME_MAX + 1, "%s", id);
            return 0;
        }
    }
    if (!table_id_parse(id, bucket, CAT_ID_MAX, name) || (under_bucket && strcmp(bucket, r->segs[3]) != 0)) {
        http_fail(r, DS_E_INVALID_REQUEST, "invalid table id \"%.140s\": expected in.c-BUCKET.TABLE", id);
        return -1;
    }
    return 0;
}

static stor_format body_format(http_req *r) {
    const char *ct = http_header(r, "Content-Type");
    if (!ct || r->body != BODY_FILE) return STOR_FMT_NONE;
    return strncasecmp(ct, "text/csv", 8) == 0 ? STOR_FMT_CSV : STOR_FMT_PARQUET;
}

/* Validates [{"name","type"}] into canonical [{"name","type"}]; NULL with err. */
static json_t *check_columns(json_t *cols, ds_err *e) {
    if (!json_is_array(cols) || json_array_size(cols) == 0 || json_array_size(cols) > MAX_COLUMNS) {
        ds_fail(e, DS_E_INVALID_REQUEST, "\"columns\" must be an array of 1 to %d {\"name\", \"type\"} objects",
                MAX_COLUMNS);
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        const char *name = NULL, *type = NULL;
        char canon[64];
        static const char *const allowed[] = {"name", "type", "nullable", NULL};
        if (!json_is_object(c)) {
            ds_fail(e, DS_E_INVALID_REQUEST, "columns[%zu] must be an object", i);
            goto fail;
        }
        if (jx_only(c, allowed, e) || jx_string(c, "name", true, DS_NAME_MAX, &name, e) ||
            jx_string(c, "type", true, 63, &type, e))
            goto fail;
        if (!name_is_valid_column(name)) {
            ds_fail(e, DS_E_INVALID_REQUEST, "invalid column name \"%s\": use [A-Za-z_][A-Za-z0-9_]*, at most 64", name);
            goto fail;
        }
        if (stor_type_normalize(type, canon, sizeof canon) != 0) {
            ds_fail(e, DS_E_INVALID_REQUEST,
                    "unsupported column type \"%.63s\" (allowed: integer, bigint, smallint, double, real, "
                    "decimal(p,s), varchar/text, boolean, date, time, timestamp, timestamptz, json, uuid, blob, "
                    "interval)",
                    type);
            goto fail;
        }
        json_t *nl = json_object_get(c, "nullable");
        if (nl && !json_is_boolean(nl)) {
            ds_fail(e, DS_E_INVALID_REQUEST, "columns[%zu].nullable must be a boolean", i);
            goto fail;
        }
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(json_string_value(json_object_get(json_array_get(out, k), "name")), name) == 0) {
                ds_fail(e, DS_E_INVALID_REQUEST, "column \"%s\" appears twice", name);
                goto fail;
            }
        json_t *o = json_pack("{s:s, s:s}", "name", name, "type", canon);
        if (nl) json_object_set(o, "nullable", nl);
        json_array_append_new(out, o);
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* primary_key: a JSON array of column names, or "a,b" from the query string. */
static json_t *check_pk(json_t *pk, const char *query, ds_err *e) {
    json_t *out = json_array();
    if (query) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", query);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(out, json_string(t));
    } else if (pk && !json_is_null(pk)) {
        if (!json_is_array(pk)) {
            ds_fail(e, DS_E_INVALID_REQUEST, "\"primary_key\" must be an array of column names");
            goto fail;
        }
        size_t i;
        json_t *c;
        json_array_foreach(pk, i, c) {
            if (!jx_is_text(c)) {
                ds_fail(e, DS_E_INVALID_REQUEST, "\"primary_key\" must be an array of column names");
                goto fail;
            }
            json_array_append(out, c);
        }
    }
    size_t i;
    json_t *c;
    json_array_foreach(out, i, c) {
        if (json_string_length(c) == 0 || json_string_length(c) > 255) {
            ds_fail(e, DS_E_INVALID_REQUEST, "invalid primary key column name");
            goto fail;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(json_string_value(json_array_get(out, k)), json_string_value(c)) == 0) {
                ds_fail(e, DS_E_INVALID_REQUEST, "primary key column \"%s\" appears twice", json_string_value(c));
                goto fail;
            }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

void h_table_create(http_req *r) {
    const char *bucket_id;
    if (bucket_route(r, &bucket_id)) return;
    ds_err e;
    cat_bucket b;
    json_t *body = NULL, *cols = NULL, *pk = NULL;
    char *cols_text = NULL, *pk_text = NULL;
    const char *name = NULL;
    stor_import_req req = {.project_id = r->pid, .branch_id = r->bid, .bucket_id = bucket_id, .mode = STOR_CREATE};
    req.format = body_format(r);
    if (req.format == STOR_FMT_NONE) {
        /* JSON (server.c refused any other non-empty body with 415). */
        static const char *const allowed[] = {"name", "columns", "primary_key", NULL};
        if (!(body = jx_parse_object(r->json.data, r->json.len, &e)) || jx_only(body, allowed, &e) ||
            jx_string(body, "name", true, 255, &name, &e))
            goto fail;
        if (!(cols = check_columns(json_object_get(body, "columns"), &e))) goto fail;
        if (!(pk = check_pk(json_object_get(body, "primary_key"), NULL, &e))) goto fail;
    } else {
        name = http_query(r, "name");
        if (!name) {
            ds_fail(&e, DS_E_INVALID_REQUEST, "the table name is required: ?name=...");
            goto fail;
        }
        if (!(pk = check_pk(NULL, http_query(r, "primary_key"), &e))) goto fail;
        req.src_path = r->spool_path;
    }
    if (!name_is_valid_table(name)) {
        ds_fail(&e, DS_E_INVALID_REQUEST, "invalid table name: use 1-64 characters of A-Z a-z 0-9 _");
        goto fail;
    }
    if (cat_bucket_get(r->app->cat, r->pid, r->bid, bucket_id, &b, &e) != 0) goto fail;
    if (cols && json_array_size(pk)) {
        size_t i;
        json_t *p;
        json_array_foreach(pk, i, p) {
            bool found = false;
            for (size_t k = 0; k < json_array_size(cols); k++)
                if (strcmp(json_string_value(json_object_get(json_array_get(cols, k), "name")), json_string_value(p)) == 0)
                    found = true;
            if (!found) {
                ds_fail(&e, DS_E_INVALID_REQUEST, "primary key column \"%s\" is not a column", json_string_value(p));
                goto fail;
            }
        }
    }
    req.table = name;
    cols_text = cols ? json_dumps(cols, JSON_COMPACT) : NULL;
    pk_text = json_dumps(pk, JSON_COMPACT);
    req.columns_json = cols_text;
    req.primary_key_json = pk_text;
    cat_table t;
    if (stor_import(r->app->stor, &req, NULL, &t, &e) != 0) goto fail;
    http_json(r, 201, table_json(&t, r->bid[0] != 0));
    cat_table_clear(&t);
    goto out;
fail:
    http_error(r, &e);
out:
    free(cols_text);
    free(pk_text);
    json_decref(body);
    json_decref(cols);
    json_decref(pk);
}

void h_table_list(http_req *r) {
    const char *bucket_id;
    if (bucket_route(r, &bucket_id)) return;
    ds_err e;
    cat_bucket b;
    cat_tables l = {0};
    if (cat_bucket_get(r->app->cat, r->pid, r->bid, bucket_id, &b, &e) != 0 ||
        cat_table_list(r->app->cat, r->pid, r->bid, bucket_id, &l, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < l.count; i++) json_array_append_new(arr, table_json(&l.items[i], r->bid[0] != 0));
    cat_tables_free(&l);
    http_json(r, 200, json_pack("{s:o}", "tables", arr));
}

void h_table_get(http_req *r) {
    char bucket[CAT_ID_MAX], name[DS_NAME_MAX + 1];
    if (table_route(r, bucket, name)) return;
    cat_table t;
    ds_err e;
    if (cat_table_get(r->app->cat, r->pid, r->bid, bucket, name, &t, &e) != 0) {
        http_error(r, &e);
        return;
    }
    http_json(r, 200, table_json(&t, r->bid[0] != 0));
    cat_table_clear(&t);
}

void h_table_delete(http_req *r) {
    char bucket[CAT_ID_MAX], name[DS_NAME_MAX + 1];
    if (table_route(r, bucket, name)) return;
    cat_table t;
    ds_err e;
    if (cat_table_get(r->app->cat, r->pid, r->bid, bucket, name, &t, &e) != 0) {
        http_error(r, &e);
        return;
    }
    if (strcmp(t.branch_id, r->bid) != 0) {
        http_fail(r, DS_E_INVALID_REQUEST,
                  "table \"%s.%s\" belongs to the main branch: it cannot be deleted from a branch", bucket, name);
    } else if (stor_table_drop(r->app->stor, &t, &e) != 0) {
        http_error(r, &e);
    } else {
        http_no_content(r);
    }
    cat_table_clear(&t);
}

void h_table_import(http_req *r) {
    char bucket[CAT_ID_MAX], name[DS_NAME_MAX + 1];
    if (table_route(r, bucket, name)) return;
    stor_format fmt = body_format(r);
    if (fmt == STOR_FMT_NONE) {
        http_fail(r, DS_E_UNSUPPORTED_MEDIA_TYPE,
                  "send the data as Content-Type: text/csv or application/vnd.apache.parquet");
        return;
    }
    const char *inc = http_query(r, "incremental");
    bool incremental = false;
    if (inc) {
        if (strcmp(inc, "true") == 0 || strcmp(inc, "1") == 0) incremental = true;
        else if (strcmp(inc, "false") != 0 && strcmp(inc, "0") != 0) {
            http_fail(r, DS_E_INVALID_REQUEST, "\"incremental\" must be true or false");
            return;
        }
    }
    stor_import_req req = {.project_id = r->pid,
                           .branch_id = r->bid,
                           .bucket_id = bucket,
                           .table = name,
                           .mode = incremental ? STOR_APPEND : STOR_REPLACE,
                           .format = fmt,
                           .src_path = r->spool_path};
    cat_table t;
    ds_err e;
    int64_t imported = 0;
    if (stor_import(r->app->stor, &req, &imported, &t, &e) != 0) {
        http_error(r, &e);
        return;
    }
    char id[CAT_ID_MAX + DS_NAME_MAX + 2];
    snprintf(id, sizeof id, "%s.%s", bucket, name);
    http_json(r, 200, json_pack("{s:s, s:I, s:I, s:I}", "table_id", id, "imported_rows", (json_int_t)imported, "rows",
                                (json_int_t)t.rows, "size_bytes", (json_int_t)t.size_bytes));
    cat_table_clear(&t);
}

/* One preview cell: integers and floats as JSON numbers, booleans, null; every other
 * type (decimal, dates, text...) as DuckDB's text, so nothing loses precision. */
static json_t *cell_json(duckdb_result *res, idx_t col, idx_t row) {
    if (duckdb_value_is_null(res, col, row)) return json_null();
    switch (duckdb_column_type(res, col)) {
    case DUCKDB_TYPE_BOOLEAN:
        return json_boolean(duckdb_value_boolean(res, col, row));
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
        return json_integer(duckdb_value_int64(res, col, row));
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: {
        double d = duckdb_value_double(res, col, row);
        if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) break; /* NaN/inf: text */
        return json_real(d);
    }
    default:
        break;
    }
    char *v = duckdb_value_varchar(res, col, row);
    json_t *j = json_string(v ? v : "");
    if (!j && v) j = json_stringn_nocheck(v, strlen(v)); /* not UTF-8 (blob text): keep it visible */
    duckdb_free(v);
    return j ? j : json_null();
}

void h_table_preview(http_req *r) {
    char bucket[CAT_ID_MAX], name[DS_NAME_MAX + 1];
    if (table_route(r, bucket, name)) return;
    long limit = 100;
    const char *ls = http_query(r, "limit");
    if (ls) {
        char *end;
        limit = strtol(ls, &end, 10);
        if (!*ls || *end || limit < 1 || limit > 10000) {
            http_fail(r, DS_E_INVALID_REQUEST, "\"limit\" must be an integer from 1 to 10000");
            return;
        }
    }
    stor_read rd;
    cat_table t;
    ds_err e;
    if (stor_read_begin(r->app->stor, r->pid, r->bid, bucket, name, &rd, &t, &e) != 0) {
        http_error(r, &e);
        return;
    }
    /* Numbers and booleans as they are; every other type cast to text by DuckDB. */
    sb q;
    sb_init(&q);
    sb_append(&q, "SELECT ");
    json_error_t je;
    json_t *cols_meta = json_loads(t.columns_json, 0, &je);
    size_t ci;
    json_t *cm;
    json_array_foreach(cols_meta, ci, cm) {
        const char *cname = json_string_value(json_object_get(cm, "name"));
        const char *ctype = json_string_value(json_object_get(cm, "type"));
        static const char *const plain[] = {"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT",
                                            "USMALLINT", "UINTEGER", "FLOAT", "DOUBLE", NULL};
        bool keep = false;
        for (int k = 0; ctype && plain[k]; k++)
            if (strcmp(ctype, plain[k]) == 0) keep = true;
        if (ci) sb_append(&q, ", ");
        sb_ident(&q, cname ? cname : "");
        if (!keep) {
            sb_append(&q, "::VARCHAR AS ");
            sb_ident(&q, cname ? cname : "");
        }
    }
    if (json_array_size(cols_meta) == 0) sb_append(&q, "*");
    json_decref(cols_meta);
    sb_printf(&q, " FROM %s LIMIT %ld", rd.relation, limit);
    duckdb_result res;
    duckdb_connection con = rd.con;
    if (sb_failed(&q) || duckdb_query(con, q.data, &res) == DuckDBError) {
        http_fail(r, DS_E_INTERNAL, "cannot read the table: %s", sb_failed(&q) ? "out of memory" : duckdb_result_error(&res));
    } else {
        json_t *cols = json_array(), *rows = json_array();
        idx_t nc = duckdb_column_count(&res), nr = duckdb_row_count(&res);
        for (idx_t c = 0; c < nc; c++) json_array_append_new(cols, json_string(duckdb_column_name(&res, c)));
        for (idx_t i = 0; i < nr; i++) {
            json_t *row = json_array();
            for (idx_t c = 0; c < nc; c++) json_array_append_new(row, cell_json(&res, c, i));
            json_array_append_new(rows, row);
        }
        http_json(r, 200, json_pack("{s:o, s:o, s:I}", "columns", cols, "rows", rows, "total_rows", (json_int_t)t.rows));
    }
    if (!sb_failed(&q)) duckdb_destroy_result(&res);
    sb_free(&q);
    stor_read_end(r->app->stor, &rd);
    cat_table_clear(&t);
}
