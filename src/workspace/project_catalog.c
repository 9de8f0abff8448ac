/* project_catalog.c - the project's tables as rows, for PostgreSQL's catalogs in a
 * workspace, without attaching them: table functions registered on the instance that
 * read duckspace's metadata catalog (the tables the workspace's branch sees).
 *
 *   ds_project_schemas()      schema_name, schema_oid, bucket_id
 *   ds_project_tables()       oid, schema_name, schema_oid, table_name, bucket_id, row_count,
 *                             size_bytes, column_count, has_pk, pk_index_oid, pk_constraint_oid
 *   ds_project_columns()      table_oid, schema_name, table_name, column_name, column_index
 *                             (1-based), data_type (DuckDB's type name), is_nullable, pk_position
 *   ds_project_constraints()  table_oid, schema_name, table_name, constraint_oid, index_oid,
 *                             constraint_name, constraint_type, column_name, column_index,
 *                             key_position (one row per primary key column)
 *
 * Stable OIDs (the same across statements, sessions and server restarts, as long as the
 * table exists): no numeric id is stored for buckets and tables, so the OIDs are hashes
 * of the names into reserved ranges, below 2^31 (clients read OIDs as Java ints):
 *   bucket schema     20,000,000 + fnv1a(bucket_id) mod 10,000,000
 *   project table     1,000,000,000 + 3 * (fnv1a(bucket_id NUL name) mod 300,000,000)
 *   its PK index      table oid + 1;  its PK constraint  table oid + 2
 * PostgreSQL's own objects are below 16,384 and workspace objects use DuckDB's oids
 * offset into 100,000,000..999,999,999 (catalog.sql). Two names hashing to the same
 * slot: the one first in (bucket_id, name) order keeps it and the next takes the next
 * free slot, so only a table involved in a collision can see its OID change (when the
 * other is created or dropped); with up to a few thousand tables in 300 million slots
 * that is about one project in 10^5.
 *
 * The rows are cached per instance and rebuilt when cat_version() changes. A function
 * registered without an instance (the build of the compat catalog) returns no rows. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"
#include "workspace/internal.h"

#define NS_BASE 20000000LL
#define NS_SLOTS 10000000LL
#define TAB_BASE 1000000000LL
#define TAB_SLOTS 300000000LL

typedef struct {
    char *name, *type;
    bool nullable;
    int pk_pos; /* 1-based position in the primary key, 0: not in it */
} pcat_col;

typedef struct {
    char bucket_id[CAT_ID_MAX];
    char schema[CAT_ID_MAX];
    char name[DS_NAME_MAX + 1];
    int64_t oid, ns_oid, rows, size;
    pcat_col *cols;
    int ncols, npk;
} pcat_table;

typedef struct {
    char bucket_id[CAT_ID_MAX];
    char schema[CAT_ID_MAX];
    int64_t oid;
} pcat_schema;

struct pcat_snap {
    atomic_int refs;
    uint64_t version;
    pcat_table *tables;
    int ntables;
    pcat_schema *schemas;
    int nschemas;
};

static uint64_t fnv1a(const char *a, const char *b) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    if (b) {
        h = (h ^ 0) * 1099511628211ULL;
        for (const unsigned char *p = (const unsigned char *)b; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    }
    return h;
}

static void snap_unref(pcat_snap *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (int i = 0; i < s->ntables; i++) {
        for (int k = 0; k < s->tables[i].ncols; k++) {
            free(s->tables[i].cols[k].name);
            free(s->tables[i].cols[k].type);
        }
        free(s->tables[i].cols);
    }
    free(s->tables);
    free(s->schemas);
    free(s);
}

static int cmp_table(const void *a, const void *b) {
    const pcat_table *x = a, *y = b;
    int c = strcmp(x->bucket_id, y->bucket_id);
    return c ? c : strcmp(x->name, y->name);
}

static void parse_columns(pcat_table *t, const cat_table *ct) {
    json_t *cols = ct->columns_json ? json_loads(ct->columns_json, 0, NULL) : NULL;
    json_t *pk = ct->primary_key_json ? json_loads(ct->primary_key_json, 0, NULL) : NULL;
    size_t n = json_is_array(cols) ? json_array_size(cols) : 0;
    t->cols = n ? calloc(n, sizeof *t->cols) : NULL;
    for (size_t i = 0; t->cols && i < n; i++) {
        json_t *c = json_array_get(cols, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *type = json_string_value(json_object_get(c, "type"));
        if (!name) continue;
        pcat_col *col = &t->cols[t->ncols];
        col->name = strdup(name);
        col->type = strdup(type ? type : "VARCHAR");
        if (!col->name || !col->type) {
            free(col->name);
            free(col->type);
            continue;
        }
        json_t *nl = json_object_get(c, "nullable");
        col->nullable = !json_is_false(nl);
        for (size_t k = 0; json_is_array(pk) && k < json_array_size(pk); k++) {
            const char *p = json_string_value(json_array_get(pk, k));
            if (p && strcmp(p, name) == 0) {
                col->pk_pos = (int)k + 1;
                col->nullable = false;
                t->npk++;
            }
        }
        t->ncols++;
    }
    json_decref(cols);
    json_decref(pk);
}

/* Slot-probing in a small open-address set of the OIDs taken so far. */
static bool oid_taken(const int64_t *taken, int n, int64_t oid) {
    for (int i = 0; i < n; i++)
        if (taken[i] == oid) return true;
    return false;
}

static pcat_snap *snap_build(ws_instance *inst, uint64_t version) {
    cat_tables l = {0};
    ds_err e;
    if (inst->reg->src.table_list(inst->reg->src.ud, &l, &e) != 0) {
        log_error("workspace %s: project catalog: %s", inst->w.id, e.message);
        return NULL;
    }
    pcat_snap *s = calloc(1, sizeof *s);
    if (!s) goto out;
    atomic_init(&s->refs, 1);
    s->version = version;
    s->tables = l.count ? calloc((size_t)l.count, sizeof *s->tables) : NULL;
    s->schemas = l.count ? calloc((size_t)l.count, sizeof *s->schemas) : NULL;
    if (l.count && (!s->tables || !s->schemas)) {
        snap_unref(s);
        s = NULL;
        goto out;
    }
    for (int i = 0; i < l.count; i++) {
        pcat_table *t = &s->tables[s->ntables++];
        snprintf(t->bucket_id, sizeof t->bucket_id, "%s", l.items[i].bucket_id);
        snprintf(t->name, sizeof t->name, "%s", l.items[i].name);
        bucket_schema_name(t->bucket_id, t->schema, sizeof t->schema);
        t->rows = l.items[i].rows;
        t->size = l.items[i].size_bytes;
        parse_columns(t, &l.items[i]);
    }
    if (s->ntables) qsort(s->tables, (size_t)s->ntables, sizeof *s->tables, cmp_table); /* NULL when none (UBSan) */
    int64_t *taken = s->ntables ? calloc((size_t)s->ntables, sizeof *taken) : NULL;
    for (int i = 0; i < s->ntables; i++) {
        pcat_table *t = &s->tables[i];
        int64_t slot = (int64_t)(fnv1a(t->bucket_id, t->name) % (uint64_t)TAB_SLOTS);
        while (taken && oid_taken(taken, i, TAB_BASE + 3 * slot)) slot = (slot + 1) % TAB_SLOTS;
        t->oid = TAB_BASE + 3 * slot;
        if (taken) taken[i] = t->oid;
        /* its schema */
        int k = 0;
        while (k < s->nschemas && strcmp(s->schemas[k].bucket_id, t->bucket_id) != 0) k++;
        if (k == s->nschemas) {
            pcat_schema *sc = &s->schemas[s->nschemas++];
            snprintf(sc->bucket_id, sizeof sc->bucket_id, "%s", t->bucket_id);
            snprintf(sc->schema, sizeof sc->schema, "%s", t->schema);
            int64_t ns = (int64_t)(fnv1a(t->bucket_id, NULL) % (uint64_t)NS_SLOTS);
            for (;;) {
                bool dup = false;
                for (int j = 0; j < s->nschemas - 1; j++) dup |= s->schemas[j].oid == NS_BASE + ns;
                if (!dup) break;
                ns = (ns + 1) % NS_SLOTS;
            }
            sc->oid = NS_BASE + ns;
        }
        t->ns_oid = s->schemas[k].oid;
    }
    free(taken);
out:
    cat_tables_free(&l);
    return s;
}

/* The instance's current snapshot, with a reference (NULL: no instance, or failure). */
static pcat_snap *snap_get(ws_instance *inst) {
    if (!inst) return NULL;
    uint64_t v = inst->reg->src.version(inst->reg->src.ud);
    pthread_mutex_lock(&inst->pcat_mu);
    pcat_snap *s = inst->pcat;
    if (!s || s->version != v) {
        pcat_snap *n = snap_build(inst, v);
        if (n) {
            snap_unref(inst->pcat);
            inst->pcat = s = n;
        }
    }
    if (s) atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&inst->pcat_mu);
    return s;
}

void pcat_free(ws_instance *inst) {
    snap_unref(inst->pcat);
    inst->pcat = NULL;
}

/* ---- the table functions ---- */

enum { F_SCHEMAS, F_TABLES, F_COLUMNS, F_CONSTRAINTS };

typedef struct {
    const char *name;
    duckdb_type type;
} pcat_colspec;

static const pcat_colspec schema_cols[] = {
    {"schema_name", DUCKDB_TYPE_VARCHAR}, {"schema_oid", DUCKDB_TYPE_BIGINT}, {"bucket_id", DUCKDB_TYPE_VARCHAR}, {0}};
static const pcat_colspec table_cols[] = {
    {"oid", DUCKDB_TYPE_BIGINT},          {"schema_name", DUCKDB_TYPE_VARCHAR},     {"schema_oid", DUCKDB_TYPE_BIGINT},
    {"table_name", DUCKDB_TYPE_VARCHAR},  {"bucket_id", DUCKDB_TYPE_VARCHAR},       {"row_count", DUCKDB_TYPE_BIGINT},
    {"size_bytes", DUCKDB_TYPE_BIGINT},   {"column_count", DUCKDB_TYPE_INTEGER},    {"has_pk", DUCKDB_TYPE_BOOLEAN},
    {"pk_index_oid", DUCKDB_TYPE_BIGINT}, {"pk_constraint_oid", DUCKDB_TYPE_BIGINT}, {0}};
static const pcat_colspec column_cols[] = {
    {"table_oid", DUCKDB_TYPE_BIGINT},    {"schema_name", DUCKDB_TYPE_VARCHAR},  {"table_name", DUCKDB_TYPE_VARCHAR},
    {"column_name", DUCKDB_TYPE_VARCHAR}, {"column_index", DUCKDB_TYPE_INTEGER}, {"data_type", DUCKDB_TYPE_VARCHAR},
    {"is_nullable", DUCKDB_TYPE_BOOLEAN}, {"pk_position", DUCKDB_TYPE_INTEGER},  {0}};
static const pcat_colspec constraint_cols[] = {
    {"table_oid", DUCKDB_TYPE_BIGINT},       {"schema_name", DUCKDB_TYPE_VARCHAR},     {"table_name", DUCKDB_TYPE_VARCHAR},
    {"constraint_oid", DUCKDB_TYPE_BIGINT},  {"index_oid", DUCKDB_TYPE_BIGINT},        {"constraint_name", DUCKDB_TYPE_VARCHAR},
    {"constraint_type", DUCKDB_TYPE_VARCHAR}, {"column_name", DUCKDB_TYPE_VARCHAR},    {"column_index", DUCKDB_TYPE_INTEGER},
    {"key_position", DUCKDB_TYPE_INTEGER},   {0}};

static const pcat_colspec *const specs[] = {schema_cols, table_cols, column_cols, constraint_cols};
static const char *const fnames[] = {"ds_project_schemas", "ds_project_tables", "ds_project_columns",
                                     "ds_project_constraints"};

typedef struct {
    ws_instance *inst;
    int kind;
} pcat_fn_info;

typedef struct {
    pcat_snap *snap;
    int kind;
} pcat_bind;

typedef struct {
    int t, k; /* cursor: table (or schema) index, column index within it */
} pcat_init;

static void bind_free(void *p) {
    pcat_bind *b = p;
    if (b) snap_unref(b->snap);
    free(b);
}

static void fn_bind(duckdb_bind_info info) {
    pcat_fn_info *fi = duckdb_bind_get_extra_info(info);
    for (const pcat_colspec *c = specs[fi->kind]; c->name; c++) {
        duckdb_logical_type lt = duckdb_create_logical_type(c->type);
        duckdb_bind_add_result_column(info, c->name, lt);
        duckdb_destroy_logical_type(&lt);
    }
    pcat_bind *b = calloc(1, sizeof *b);
    if (!b) {
        duckdb_bind_set_error(info, "out of memory");
        return;
    }
    b->kind = fi->kind;
    b->snap = snap_get(fi->inst);
    duckdb_bind_set_bind_data(info, b, bind_free);
}

static void fn_init(duckdb_init_info info) {
    pcat_init *in = calloc(1, sizeof *in);
    if (!in) return;
    duckdb_init_set_init_data(info, in, free);
}

typedef struct {
    duckdb_data_chunk out;
    idx_t row;
} emit;

static void put_str(emit *e, idx_t col, const char *v) {
    duckdb_vector vec = duckdb_data_chunk_get_vector(e->out, col);
    if (!v) {
        duckdb_vector_ensure_validity_writable(vec);
        duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vec), e->row);
        return;
    }
    duckdb_vector_assign_string_element(vec, e->row, v);
}
static void put_i64(emit *e, idx_t col, int64_t v) {
    ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(e->out, col)))[e->row] = v;
}
static void put_i32(emit *e, idx_t col, int32_t v, bool null) {
    duckdb_vector vec = duckdb_data_chunk_get_vector(e->out, col);
    if (null) {
        duckdb_vector_ensure_validity_writable(vec);
        duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vec), e->row);
        return;
    }
    ((int32_t *)duckdb_vector_get_data(vec))[e->row] = v;
}
static void put_bool(emit *e, idx_t col, bool v) {
    ((bool *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(e->out, col)))[e->row] = v;
}

static void fn_run(duckdb_function_info info, duckdb_data_chunk output) {
    pcat_bind *b = duckdb_function_get_bind_data(info);
    pcat_init *in = duckdb_function_get_init_data(info);
    emit e = {output, 0};
    idx_t cap = duckdb_vector_size();
    pcat_snap *s = b ? b->snap : NULL;
    if (!s || !in) {
        duckdb_data_chunk_set_size(output, 0);
        return;
    }
    char name[2 * DS_NAME_MAX + 8];
    switch (b->kind) {
    case F_SCHEMAS:
        for (; in->t < s->nschemas && e.row < cap; in->t++, e.row++) {
            put_str(&e, 0, s->schemas[in->t].schema);
            put_i64(&e, 1, s->schemas[in->t].oid);
            put_str(&e, 2, s->schemas[in->t].bucket_id);
        }
        break;
    case F_TABLES:
        for (; in->t < s->ntables && e.row < cap; in->t++, e.row++) {
            const pcat_table *t = &s->tables[in->t];
            put_i64(&e, 0, t->oid);
            put_str(&e, 1, t->schema);
            put_i64(&e, 2, t->ns_oid);
            put_str(&e, 3, t->name);
            put_str(&e, 4, t->bucket_id);
            put_i64(&e, 5, t->rows);
            put_i64(&e, 6, t->size);
            put_i32(&e, 7, t->ncols, false);
            put_bool(&e, 8, t->npk > 0);
            put_i64(&e, 9, t->oid + 1);
            put_i64(&e, 10, t->oid + 2);
        }
        break;
    case F_COLUMNS:
    case F_CONSTRAINTS:
        while (in->t < s->ntables && e.row < cap) {
            const pcat_table *t = &s->tables[in->t];
            if (in->k >= t->ncols) {
                in->t++;
                in->k = 0;
                continue;
            }
            const pcat_col *c = &t->cols[in->k++];
            if (b->kind == F_COLUMNS) {
                put_i64(&e, 0, t->oid);
                put_str(&e, 1, t->schema);
                put_str(&e, 2, t->name);
                put_str(&e, 3, c->name);
                put_i32(&e, 4, in->k, false);
                put_str(&e, 5, c->type);
                put_bool(&e, 6, c->nullable);
                put_i32(&e, 7, c->pk_pos, c->pk_pos == 0);
            } else {
                if (!c->pk_pos) continue;
                put_i64(&e, 0, t->oid);
                put_str(&e, 1, t->schema);
                put_str(&e, 2, t->name);
                put_i64(&e, 3, t->oid + 2);
                put_i64(&e, 4, t->oid + 1);
                snprintf(name, sizeof name, "%s_pkey", t->name);
                put_str(&e, 5, name);
                put_str(&e, 6, "PRIMARY KEY");
                put_str(&e, 7, c->name);
                put_i32(&e, 8, in->k, false);
                put_i32(&e, 9, c->pk_pos, false);
            }
            e.row++;
        }
        break;
    }
    duckdb_data_chunk_set_size(output, e.row);
}

/* ---- ds_project_schema_list(): the bucket schemas as a sorted VARCHAR[] ----
 * A scalar function, not a subquery over ds_project_schemas(), so that current_schemas()
 * works inside table function arguments, where DuckDB refuses subqueries. */

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static void schema_list_fn(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
    ws_instance *inst = duckdb_scalar_function_get_extra_info(info);
    pcat_snap *s = snap_get(inst);
    idx_t rows = duckdb_data_chunk_get_size(input);
    idx_t ns = s ? (idx_t)s->nschemas : 0;
    const char **names = ns ? malloc(ns * sizeof *names) : NULL;
    if (ns && !names) {
        snap_unref(s);
        duckdb_scalar_function_set_error(info, "out of memory");
        return;
    }
    for (idx_t k = 0; k < ns; k++) names[k] = s->schemas[k].schema;
    if (ns) qsort(names, ns, sizeof *names, cmp_str);
    if (duckdb_list_vector_reserve(output, rows * ns) == DuckDBError ||
        duckdb_list_vector_set_size(output, rows * ns) == DuckDBError) {
        free(names);
        snap_unref(s);
        duckdb_scalar_function_set_error(info, "out of memory");
        return;
    }
    duckdb_vector child = duckdb_list_vector_get_child(output);
    duckdb_list_entry *e = duckdb_vector_get_data(output);
    for (idx_t r = 0; r < rows; r++) {
        e[r].offset = r * ns;
        e[r].length = ns;
        for (idx_t k = 0; k < ns; k++) duckdb_vector_assign_string_element(child, r * ns + k, names[k]);
    }
    free(names);
    snap_unref(s);
}

void ws_project_schemas(ws_instance *inst, char *out, size_t outsz) {
    if (outsz) out[0] = '\0';
    pcat_snap *s = snap_get(inst);
    if (!s || !outsz) {
        snap_unref(s);
        return;
    }
    const char **names = s->nschemas ? malloc((size_t)s->nschemas * sizeof *names) : NULL;
    if (names) {
        for (int k = 0; k < s->nschemas; k++) names[k] = s->schemas[k].schema;
        qsort(names, (size_t)s->nschemas, sizeof *names, cmp_str);
        size_t o = 0;
        for (int k = 0; k < s->nschemas; k++) {
            size_t need = strlen(names[k]) + (o ? 2 : 0);
            if (o + need + 1 > outsz) break;
            o += (size_t)snprintf(out + o, outsz - o, "%s%s", o ? ", " : "", names[k]);
        }
    }
    free(names);
    snap_unref(s);
}

static int register_schema_list(duckdb_connection con, ws_instance *inst) {
    duckdb_scalar_function f = duckdb_create_scalar_function();
    duckdb_scalar_function_set_name(f, "ds_project_schema_list");
    duckdb_logical_type vt = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    duckdb_logical_type lt = duckdb_create_list_type(vt);
    duckdb_scalar_function_set_return_type(f, lt);
    duckdb_destroy_logical_type(&lt);
    duckdb_destroy_logical_type(&vt);
    duckdb_scalar_function_set_volatile(f); /* the list follows the catalog: never folded */
    duckdb_scalar_function_set_extra_info(f, inst, NULL);
    duckdb_scalar_function_set_function(f, schema_list_fn);
    duckdb_state st = duckdb_register_scalar_function(con, f);
    duckdb_destroy_scalar_function(&f);
    return st == DuckDBError ? -1 : 0;
}

int pcat_register(duckdb_connection con, ws_instance *inst) {
    if (register_schema_list(con, inst) != 0) return -1;
    for (int kind = F_SCHEMAS; kind <= F_CONSTRAINTS; kind++) {
        pcat_fn_info *fi = malloc(sizeof *fi);
        if (!fi) return -1;
        fi->inst = inst;
        fi->kind = kind;
        duckdb_table_function tf = duckdb_create_table_function();
        duckdb_table_function_set_name(tf, fnames[kind]);
        duckdb_table_function_set_extra_info(tf, fi, free);
        duckdb_table_function_set_bind(tf, fn_bind);
        duckdb_table_function_set_init(tf, fn_init);
        duckdb_table_function_set_function(tf, fn_run);
        duckdb_state st = duckdb_register_table_function(con, tf);
        duckdb_destroy_table_function(&tf);
        if (st == DuckDBError) return -1;
    }
    return 0;
}
