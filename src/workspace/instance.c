/* instance.c - one sandboxed DuckDB instance per workspace: opening and locking it,
 * making project tables reachable on first use, and preparing user SQL inside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dberr.h"
#include "util/log.h"
#include "util/sqlscan.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "workspace/internal.h"

/* How project tables are reached: each table's file (a published generation) holds the
 * table in its bucket's schema; the file is attached READ_ONLY under an alias (t1, t2,
 * ...) on first use, and the connection's search path lists "<ws>".main first, then
 * alias."schema" for every attached table, so in_c_sales.orders resolves to it
 * (duckdb-facts.md, "Two-part names across catalogs"). Nothing of this is stored in the
 * workspace file. A new generation is attached under a new alias and replaces the old
 * one in the search path; a query that is running keeps reading the old one.
 * (Views in an in-memory catalog were tried first: a view created after a session's
 * transaction began is invisible to it, so lazy attachment failed inside
 * transactions, measured with DuckDB 1.4.4.) */

static int admin_exec_locked(ws_instance *inst, const char *sql, ds_err *err) {
    duckdb_result r;
    int rc = 0;
    if (duckdb_query(inst->admin, sql, &r) == DuckDBError) {
        log_error("workspace %s: %s: %s", inst->w.id, sql, duckdb_result_error(&r));
        rc = ds_fail(err, DS_E_INTERNAL, "workspace set-up failed");
    }
    duckdb_destroy_result(&r);
    return rc;
}

int inst_admin_exec(ws_instance *inst, const char *sql, ds_err *err) {
    pthread_mutex_lock(&inst->mu);
    int rc = admin_exec_locked(inst, sql, err);
    pthread_mutex_unlock(&inst->mu);
    return rc;
}

/* ---- search path and schemas ---- */

static int rebuild_search_path(ws_instance *inst) {
    sb b;
    sb_init(&b);
    sb_printf(&b, "\"%s\".main", inst->dbname);
    for (int i = 0; i < inst->nrefs; i++)
        if (inst->refs[i].present) sb_printf(&b, ",%s.\"%s\"", inst->refs[i].alias, inst->refs[i].schema);
    /* Last: the compat catalog answers only names that nothing of the user's or the
     * project's takes (and unqualified CREATE still goes to the first entry's database:
     * with the compat schema first, DuckDB 1.4.4 tried to create there). */
    if (inst->compat) sb_append(&b, "," WS_COMPAT_ALIAS ".main");
    char *sp = sb_take(&b);
    if (!sp) return -1;
    free(inst->search_path);
    inst->search_path = sp;
    inst->sp_version++;
    return 0;
}

/* ---- project tables ---- */

static ws_table_ref *find_ref(ws_instance *inst, const char *bucket_id, const char *name) {
    for (int i = 0; i < inst->nrefs; i++)
        if (strcmp(inst->refs[i].bucket_id, bucket_id) == 0 && strcmp(inst->refs[i].name, name) == 0)
            return &inst->refs[i];
    return NULL;
}

/* Attaches the current generation of (bucket_id, name) and points its view at it
 * (mu held). An older generation stays attached for queries that still read it. */
static int attach_table(ws_instance *inst, const char *bucket_id, const char *name, ds_err *err) {
    ws_table_ref *ref = find_ref(inst, bucket_id, name);
    if (!ref) {
        int live = 0;
        for (int i = 0; i < inst->nrefs; i++) live += inst->refs[i].present;
        if (live >= inst->reg->cfg->max_attached_tables) {
            int rc = ds_fail(err, DS_E_LIMIT_EXCEEDED, "a workspace can reach at most %lld project tables",
                             (long long)inst->reg->cfg->max_attached_tables);
            char lim[32];
            snprintf(lim, sizeof lim, "%lld", (long long)inst->reg->cfg->max_attached_tables);
            ds_err_detail(err, "limit", lim, 1);
            return rc;
        }
        if (inst->nrefs == inst->caprefs) {
            int cap = inst->caprefs ? inst->caprefs * 2 : 16;
            ws_table_ref *g = realloc(inst->refs, (size_t)cap * sizeof *g);
            if (!g) return ds_fail(err, DS_E_INTERNAL, "out of memory");
            inst->refs = g;
            inst->caprefs = cap;
        }
        ref = &inst->refs[inst->nrefs++];
        memset(ref, 0, sizeof *ref);
        snprintf(ref->bucket_id, sizeof ref->bucket_id, "%s", bucket_id);
        snprintf(ref->name, sizeof ref->name, "%s", name);
        bucket_schema_name(bucket_id, ref->schema, sizeof ref->schema);
    }
    char path[8400];
    cat_table t;
    const ws_source *src = &inst->reg->src;
    int rc = src->link_table(src->ud, bucket_id, name, path, sizeof path, &t, err);
    if (rc) return rc;
    if (!(ref->present && ref->generation == t.generation && strcmp(ref->src_branch, t.branch_id) == 0)) {
        char alias[24];
        snprintf(alias, sizeof alias, "t%lu", ++inst->alias_seq);
        sb q;
        sb_init(&q);
        sb_append(&q, "ATTACH ");
        sb_literal(&q, path);
        sb_printf(&q, " AS %s (READ_ONLY)", alias);
        rc = sb_failed(&q) ? ds_fail(err, DS_E_INTERNAL, "out of memory") : admin_exec_locked(inst, q.data, err);
        sb_free(&q);
        if (rc) goto out;
        snprintf(ref->alias, sizeof ref->alias, "%s", alias);
        ref->generation = t.generation;
        snprintf(ref->src_branch, sizeof ref->src_branch, "%s", t.branch_id);
        ref->present = true;
        if (rebuild_search_path(inst) != 0) rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
out:
    cat_table_clear(&t);
    return rc;
}

/* Follows the catalog: new bucket schemas, new generations of the tables already
 * reachable, dropped tables (mu held). Cheap when nothing changed. */
static int sync_locked(ws_instance *inst, ds_err *err) {
    const ws_source *src = &inst->reg->src;
    uint64_t v = src->version(src->ud);
    if (v == inst->synced_version) return 0;
    int rc = 0;
    for (int i = 0; rc == 0 && i < inst->nrefs; i++) {
        ws_table_ref *ref = &inst->refs[i];
        if (!ref->present) continue;
        cat_table t;
        ds_err e2;
        int grc = src->table_get(src->ud, ref->bucket_id, ref->name, &t, &e2);
        if (grc == -(int)DS_E_TABLE_NOT_FOUND) {
            ref->present = false; /* dropped: it leaves the search path */
            if (rebuild_search_path(inst) != 0) rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
            continue;
        }
        if (grc) {
            *err = e2;
            rc = grc;
            break;
        }
        bool stale = t.generation != ref->generation || strcmp(t.branch_id, ref->src_branch) != 0;
        cat_table_clear(&t);
        if (stale) rc = attach_table(inst, ref->bucket_id, ref->name, err);
    }
    if (rc == 0) inst->synced_version = v;
    return rc;
}

int inst_ensure_table(ws_instance *inst, const char *bucket_id, const char *name, ds_err *err) {
    pthread_mutex_lock(&inst->mu);
    int rc = sync_locked(inst, err);
    if (rc == 0) {
        ws_table_ref *ref = find_ref(inst, bucket_id, name);
        if (!ref || !ref->present) rc = attach_table(inst, bucket_id, name, err);
    }
    pthread_mutex_unlock(&inst->mu);
    return rc;
}

/* After "Table with name X does not exist": makes every project table named X
 * reachable; after "Schema/Catalog with name S does not exist": every table of the
 * buckets whose schema is S. Returns how many it made reachable (0: none matched). */
static int attach_by_name(ws_instance *inst, const char *name, bool is_schema, ds_err *err) {
    cat_tables l = {0};
    int n = 0;
    if (!is_schema && !name_is_valid_table(name)) return 0;
    if (inst->reg->src.table_list(inst->reg->src.ud, &l, err) != 0) return -1;
    pthread_mutex_lock(&inst->mu);
    for (int i = 0; i < l.count; i++) {
        char schema[CAT_ID_MAX];
        bucket_schema_name(l.items[i].bucket_id, schema, sizeof schema);
        if (strcmp(is_schema ? schema : l.items[i].name, name) != 0) continue;
        ws_table_ref *ref = find_ref(inst, l.items[i].bucket_id, l.items[i].name);
        if (is_schema && ref && ref->present) continue;
        if (attach_table(inst, l.items[i].bucket_id, l.items[i].name, err) != 0) {
            n = -1;
            break;
        }
        n++;
    }
    pthread_mutex_unlock(&inst->mu);
    cat_tables_free(&l);
    return n;
}

/* ---- open / close ---- */

int inst_open(ws_registry *r, const cat_workspace *w, const stor_ws_paths *paths, ws_instance **out, ds_err *err) {
    double t0 = ds_monotonic();
    ws_instance *inst = calloc(1, sizeof *inst);
    if (!inst) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    inst->reg = r;
    inst->w = *w;
    pthread_mutex_init(&inst->mu, NULL);
    pthread_mutex_init(&inst->conns_mu, NULL);
    pthread_mutex_init(&inst->pcat_mu, NULL);
    inst->paths = *paths;
    int rc = 0;
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    char mem[32], tmp[32];
    snprintf(mem, sizeof mem, "%lldB", (long long)r->cfg->workspace_memory_limit);
    snprintf(tmp, sizeof tmp, "%lldB", (long long)r->cfg->workspace_temp_limit);
    duckdb_set_config(cfg, "memory_limit", mem);
    if (r->threads > 0) {
        char th[16];
        snprintf(th, sizeof th, "%d", r->threads);
        duckdb_set_config(cfg, "threads", th);
    }
    duckdb_set_config(cfg, "temp_directory", inst->paths.tmp);
    duckdb_set_config(cfg, "max_temp_directory_size", tmp);
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    char *oerr = NULL;
    if (duckdb_open_ext(inst->paths.db, &inst->db, cfg, &oerr) == DuckDBError) {
        duckdb_destroy_config(&cfg);
        log_error("workspace %s: cannot open %s: %s", w->id, inst->paths.db, oerr ? oerr : "?");
        duckdb_free(oerr);
        rc = ds_fail(err, DS_E_INTERNAL, "cannot open the workspace database");
        goto fail;
    }
    duckdb_destroy_config(&cfg);
    if (duckdb_connect(inst->db, &inst->admin) == DuckDBError) {
        duckdb_close(&inst->db);
        rc = ds_fail(err, DS_E_INTERNAL, "cannot connect to the workspace database");
        goto fail;
    }
    duckdb_result res;
    if (duckdb_query(inst->admin, "SELECT current_database()", &res) == DuckDBError) {
        duckdb_destroy_result(&res);
        rc = ds_fail(err, DS_E_INTERNAL, "cannot read the workspace database name");
        goto fail_open;
    }
    char *dbname = duckdb_value_varchar(&res, 0, 0);
    snprintf(inst->dbname, sizeof inst->dbname, "%s", dbname ? dbname : "");
    duckdb_free(dbname);
    duckdb_destroy_result(&res);
    /* duckspace's own queries (objects, clear, size) run on the admin connection and
     * the size guard's: with the search path system.main, neither a user's macro named
     * like a system function nor a user schema "system" can stand in for the system
     * catalog's functions, also inside the system views those bind (DuckDB 1.4.4,
     * probed: with the default search path, a user macro duckdb_tables() broke even
     * system.main.duckdb_views()). Names of user objects are always fully qualified. */
    if (duckdb_connect(inst->db, &inst->guard) == DuckDBError) {
        rc = ds_fail(err, DS_E_INTERNAL, "cannot connect to the workspace database");
        goto fail_open;
    }
    if ((rc = admin_exec_locked(inst, "SET search_path = 'system.main'", err))) goto fail_open;
    /* The compat catalog (ws_registry_set_compat_db) and the project table functions its
     * views read, before the sandbox closes file access. */
    if (r->compat_path[0]) {
        if (pcat_register(inst->admin, inst) != 0) {
            rc = ds_fail(err, DS_E_INTERNAL, "workspace set-up failed");
            goto fail_open;
        }
        sb a;
        sb_init(&a);
        sb_append(&a, "ATTACH ");
        sb_literal(&a, r->compat_path);
        sb_append(&a, " AS " WS_COMPAT_ALIAS " (READ_ONLY)");
        rc = sb_failed(&a) ? ds_fail(err, DS_E_INTERNAL, "out of memory") : admin_exec_locked(inst, a.data, err);
        sb_free(&a);
        if (rc) goto fail_open;
        inst->compat = true;
    }
    if (duckdb_query(inst->guard, "SET search_path = 'system.main'", &res) == DuckDBError) {
        duckdb_destroy_result(&res);
        rc = ds_fail(err, DS_E_INTERNAL, "workspace set-up failed");
        goto fail_open;
    }
    duckdb_destroy_result(&res);

    /* The sandbox: from here on DuckDB opens no file but the workspace's own links. */
    sb q;
    sb_init(&q);
    sb_append(&q, "SET allowed_directories = [");
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/", inst->paths.links);
    sb_literal(&q, dir);
    sb_append(&q, "]; SET enable_external_access = false; SET lock_configuration = true");
    rc = sb_failed(&q) ? ds_fail(err, DS_E_INTERNAL, "out of memory") : admin_exec_locked(inst, q.data, err);
    sb_free(&q);
    if (rc) goto fail_open;
    pthread_mutex_lock(&inst->mu);
    rc = rebuild_search_path(inst) ? ds_fail(err, DS_E_INTERNAL, "out of memory") : 0;
    inst->synced_version = r->src.version(r->src.ud);
    pthread_mutex_unlock(&inst->mu);
    if (rc) goto fail_open;
    log_info("workspace %s: instance opened in %.1f ms", w->id, (ds_monotonic() - t0) * 1000);
    *out = inst;
    return 0;
fail_open:
    if (inst->guard) duckdb_disconnect(&inst->guard);
    duckdb_disconnect(&inst->admin);
    duckdb_close(&inst->db);
fail:
    pcat_free(inst);
    pthread_mutex_destroy(&inst->pcat_mu);
    pthread_mutex_destroy(&inst->conns_mu);
    pthread_mutex_destroy(&inst->mu);
    free(inst);
    return rc;
}

void inst_close(ws_instance *inst) {
    if (!inst) return;
    duckdb_disconnect(&inst->guard);
    duckdb_disconnect(&inst->admin);
    duckdb_close(&inst->db);
    /* (The links that kept superseded generations alive for this instance's readers are
     * removed by whoever made them, once the instance's process is gone: worker/pool.c.) */
    free(inst->refs);
    free(inst->search_path);
    pcat_free(inst);
    pthread_mutex_destroy(&inst->pcat_mu);
    pthread_mutex_destroy(&inst->conns_mu);
    pthread_mutex_destroy(&inst->mu);
    free(inst);
}

/* ---- connections and statements ---- */

int ws_conn_open(ws_instance *inst, ws_conn **out, ds_err *err) {
    ws_conn *c = calloc(1, sizeof *c);
    if (!c) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    c->inst = inst;
    if (duckdb_connect(inst->db, &c->con) == DuckDBError) {
        free(c);
        return ds_fail(err, DS_E_INTERNAL, "cannot connect to the workspace");
    }
    atomic_init(&c->size_stopped, false);
    pthread_mutex_lock(&inst->conns_mu);
    c->next = inst->conns;
    inst->conns = c;
    pthread_mutex_unlock(&inst->conns_mu);
    *out = c;
    return 0;
}

void ws_conn_close(ws_conn *c) {
    if (!c) return;
    ws_instance *inst = c->inst;
    pthread_mutex_lock(&inst->conns_mu);
    for (ws_conn **pp = &inst->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->running) atomic_fetch_sub(&inst->nrunning, 1);
    pthread_mutex_unlock(&inst->conns_mu);
    duckdb_disconnect(&c->con);
    free(c);
}

/* Under conns_mu, so that the guard never interrupts a connection between statements
 * by mistake: it looks at running and interrupts in one hold of the lock. */
void ws_conn_begin(ws_conn *c) {
    if (!c) return;
    pthread_mutex_lock(&c->inst->conns_mu);
    atomic_store(&c->size_stopped, false);
    if (!c->running) {
        c->running = true;
        atomic_fetch_add(&c->inst->nrunning, 1);
    }
    pthread_mutex_unlock(&c->inst->conns_mu);
}

void ws_conn_end(ws_conn *c) {
    if (!c) return;
    pthread_mutex_lock(&c->inst->conns_mu);
    if (c->running) {
        c->running = false;
        atomic_fetch_sub(&c->inst->nrunning, 1);
    }
    pthread_mutex_unlock(&c->inst->conns_mu);
}

bool ws_conn_size_stopped(ws_conn *c) { return c && atomic_load(&c->size_stopped); }

void *ws_conn_duckdb(ws_conn *c) { return c->con; }

/* Brings the instance up to date and gives the connection the current search path. */
static int conn_sync(ws_conn *c, ds_err *err) {
    ws_instance *inst = c->inst;
    pthread_mutex_lock(&inst->mu);
    int rc = sync_locked(inst, err);
    char *sp = NULL;
    uint64_t v = inst->sp_version;
    if (rc == 0 && c->sp_version != v) sp = strdup(inst->search_path);
    pthread_mutex_unlock(&inst->mu);
    if (rc || !sp) return rc;
    sb q;
    sb_init(&q);
    sb_append(&q, "SET search_path = ");
    sb_literal(&q, sp);
    free(sp);
    duckdb_result r;
    if (sb_failed(&q) || duckdb_query(c->con, q.data, &r) == DuckDBError) {
        if (!sb_failed(&q)) {
            log_error("workspace %s: search path: %s", inst->w.id, duckdb_result_error(&r));
            duckdb_destroy_result(&r);
        }
        sb_free(&q);
        return ds_fail(err, DS_E_INTERNAL, "cannot set the search path");
    }
    duckdb_destroy_result(&r);
    sb_free(&q);
    c->sp_version = v;
    return 0;
}

static int prepare_text(ws_conn *c, const char *sql, duckdb_prepared_statement *st, int *runs, ds_err *err);

int ws_prepare(ws_conn *c, const char *sql, void *out, int *runs, ds_err *err) {
    /* public. -> main., pg_catalog.fn( -> fn( */
    char *text = sqlscan_rewrite_pg_names(sql, strlen(sql));
    if (!text) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    int rc = prepare_text(c, text, out, runs, err);
    free(text);
    return rc;
}

void ws_conn_set_setting_shim(ws_conn *c, bool on) { c->setting_shim = on; }

/* TEMP macros of this connection: the temp catalog comes first in DuckDB's name
 * resolution, also for names used inside the compat catalog's views and macros (they
 * bind in the caller's search path: probed with DuckDB 1.4.4), so the compat catalog's
 * defaults (ds_compat.main.ds_session_user() ...) give way to these. */
int ws_conn_set_identity(ws_conn *c, const char *user, const char *database, ds_err *err) {
    if (!user || !database || strlen(user) > 63 || strlen(database) > 63)
        return ds_fail(err, DS_E_INTERNAL, "invalid session identity");
    sb q;
    sb_init(&q);
    sb_append(&q, "CREATE OR REPLACE TEMP MACRO ds_session_user() AS ");
    sb_literal(&q, user);
    sb_append(&q, "; CREATE OR REPLACE TEMP MACRO ds_session_database() AS ");
    sb_literal(&q, database);
    int rc = 0;
    duckdb_result r;
    if (sb_failed(&q)) {
        rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
    } else if (duckdb_query(c->con, q.data, &r) == DuckDBError) {
        log_error("workspace %s: session identity: %s", c->inst->w.id, duckdb_result_error(&r));
        rc = ds_fail(err, DS_E_INTERNAL, "cannot set the session identity");
        duckdb_destroy_result(&r);
    } else {
        duckdb_destroy_result(&r);
    }
    sb_free(&q);
    return rc;
}

/* st prepared an EXPLAIN: judges the statement it explains (and, with ANALYZE, runs) as
 * if it came alone, and sets *runs to what executing st really does. */
static int check_explained(ws_conn *c, const char *sql, int *runs, ds_err *err) {
    size_t inner;
    bool analyze;
    if (!sqlscan_explain(sql, strlen(sql), &inner, &analyze))
        return gate_refuse_type(DUCKDB_STATEMENT_TYPE_INVALID, true, err);
    duckdb_prepared_statement ist;
    duckdb_statement_type t = DUCKDB_STATEMENT_TYPE_INVALID;
    if (duckdb_prepare(c->con, sql + inner, &ist) != DuckDBError) t = duckdb_prepared_statement_type(ist);
    duckdb_destroy_prepare(&ist);
    int rc = gate_refuse_type(t, true, err);
    if (rc == 0 && runs) *runs = analyze ? (int)t : (int)DUCKDB_STATEMENT_TYPE_EXPLAIN;
    return rc;
}

static int prepare_text(ws_conn *c, const char *sql, duckdb_prepared_statement *st, int *runs, ds_err *err) {
    int rc = gate_text(sql, c->setting_shim, c->inst->compat, err);
    if (rc) return rc;
    if ((rc = conn_sync(c, err))) return rc;
    /* One statement at a time: callers split scripts first, and DuckDB refuses to
     * prepare several at once without running any of them (measured, DuckDB 1.4.4). */
    char last_missing[128] = "";
    for (int attempt = 0; attempt < 64; attempt++) {
        if (duckdb_prepare(c->con, sql, st) != DuckDBError) {
            duckdb_statement_type t = duckdb_prepared_statement_type(*st);
            if (runs) *runs = (int)t;
            rc = t == DUCKDB_STATEMENT_TYPE_EXPLAIN ? check_explained(c, sql, runs, err) : gate_refuse_type(t, false, err);
            if (rc) duckdb_destroy_prepare(st);
            return rc;
        }
        const char *msg = duckdb_prepare_error(*st);
        db_error d;
        dberr_parse(msg, sql, &d);
        log_debug("workspace %s: prepare failed (%s/%s/%s): %s", c->inst->w.id, d.subtype, d.entry_type, d.name, d.message);
        /* A project table not reachable yet: attach it and try again. */
        bool is_schema = !strcmp(d.entry_type, "Schema") || !strcmp(d.entry_type, "Catalog");
        if (strcmp(d.subtype, "MISSING_ENTRY") == 0 && (is_schema || strcmp(d.entry_type, "Table") == 0) &&
            strcmp(d.name, last_missing) != 0) {
            ds_err e2;
            int got = attach_by_name(c->inst, d.name, is_schema, &e2);
            if (got > 0) {
                snprintf(last_missing, sizeof last_missing, "%s", d.name);
                duckdb_destroy_prepare(st);
                if ((rc = conn_sync(c, err)) != 0) return rc;
                continue;
            }
            if (got < 0) {
                duckdb_destroy_prepare(st);
                *err = e2;
                return -(int)e2.code;
            }
        }
        /* Prepare errors carry no error type in the C API: infer it from the JSON. */
        duckdb_error_type et = DUCKDB_ERROR_INVALID;
        static const struct { const char *name; duckdb_error_type t; } types[] = {
            {"Catalog", DUCKDB_ERROR_CATALOG},         {"Parser", DUCKDB_ERROR_PARSER},
            {"Binder", DUCKDB_ERROR_BINDER},           {"Conversion", DUCKDB_ERROR_CONVERSION},
            {"Permission", DUCKDB_ERROR_PERMISSION},   {"Invalid Input", DUCKDB_ERROR_INVALID_INPUT},
            {"Constraint", DUCKDB_ERROR_CONSTRAINT},   {"Not implemented", DUCKDB_ERROR_NOT_IMPLEMENTED},
            {"Out of Range", DUCKDB_ERROR_OUT_OF_RANGE}, {"Syntax", DUCKDB_ERROR_SYNTAX},
            {"TransactionContext", DUCKDB_ERROR_TRANSACTION}, {"Dependency", DUCKDB_ERROR_DEPENDENCY},
            {"Extension Autoloading", DUCKDB_ERROR_AUTOLOAD}, {"Missing Extension", DUCKDB_ERROR_MISSING_EXTENSION},
        };
        for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
            if (strcmp(d.type, types[k].name) == 0) et = types[k].t;
        rc = dberr_fail_sql(err, et == DUCKDB_ERROR_PERMISSION ? DS_E_FORBIDDEN : DS_E_INVALID_REQUEST, et,
                            msg ? msg : "cannot prepare the statement", sql);
        duckdb_destroy_prepare(st);
        return rc;
    }
    return ds_fail(err, DS_E_INVALID_REQUEST, "the statement names too many tables");
}

/* ---- COPY FROM STDIN's appender ---- */

/* Which catalog of c's own ones ("temp" or the workspace's) holds schema.table, in
 * the order the search path resolves an unqualified name. Writes the names as DuckDB
 * stores them. Returns 1 found, 0 not, -1 on error. */
static int own_table(ws_conn *c, const char *schema, const char *table, char db[64], char sch[128], char tb[128],
                     bool *is_view) {
    static const char *q =
        "SELECT * FROM (SELECT database_name, schema_name, table_name, 0 AS v FROM duckdb_tables() "
        "WHERE database_name IN ('temp', $1) AND lower(schema_name) = lower($2) AND lower(table_name) = lower($3) "
        "UNION ALL SELECT database_name, schema_name, view_name, 1 FROM duckdb_views() "
        "WHERE NOT internal AND database_name IN ('temp', $1) AND lower(schema_name) = lower($2) "
        "AND lower(view_name) = lower($3)) ORDER BY database_name <> 'temp', v";
    duckdb_prepared_statement st;
    int found = -1;
    if (duckdb_prepare(c->con, q, &st) == DuckDBError) {
        log_error("workspace %s: COPY target: %s", c->inst->w.id, duckdb_prepare_error(st));
        goto out;
    }
    duckdb_bind_varchar(st, 1, c->inst->dbname);
    duckdb_bind_varchar(st, 2, schema ? schema : "main");
    duckdb_bind_varchar(st, 3, table);
    duckdb_result r;
    if (duckdb_execute_prepared(st, &r) == DuckDBError) {
        log_error("workspace %s: COPY target: %s", c->inst->w.id, duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        goto out;
    }
    found = 0;
    if (duckdb_row_count(&r) > 0) {
        char *a = duckdb_value_varchar(&r, 0, 0), *b = duckdb_value_varchar(&r, 1, 0), *t = duckdb_value_varchar(&r, 2, 0);
        if (a && b && t) {
            snprintf(db, 64, "%s", a);
            snprintf(sch, 128, "%s", b);
            snprintf(tb, 128, "%s", t);
            *is_view = duckdb_value_int32(&r, 3, 0) != 0;
            found = 1;
        }
        duckdb_free(a);
        duckdb_free(b);
        duckdb_free(t);
    }
    duckdb_destroy_result(&r);
out:
    duckdb_destroy_prepare(&st);
    return found;
}

void ws_names_free(char **names, int n) {
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

/* The columns of db.sch.tb in order; -1 on error. */
static int table_columns(ws_conn *c, const char *db, const char *sch, const char *tb, char ***names, int *n) {
    duckdb_prepared_statement st;
    int rc = -1;
    *names = NULL;
    *n = 0;
    if (duckdb_prepare(c->con,
                       "SELECT column_name FROM duckdb_columns() WHERE database_name = $1 AND schema_name = $2 "
                       "AND table_name = $3 ORDER BY column_index",
                       &st) == DuckDBError)
        goto out;
    duckdb_bind_varchar(st, 1, db);
    duckdb_bind_varchar(st, 2, sch);
    duckdb_bind_varchar(st, 3, tb);
    duckdb_result r;
    if (duckdb_execute_prepared(st, &r) == DuckDBError) {
        duckdb_destroy_result(&r);
        goto out;
    }
    idx_t rows = duckdb_row_count(&r);
    *names = calloc(rows ? rows : 1, sizeof **names);
    if (*names) {
        rc = 0;
        for (idx_t i = 0; i < rows; i++) {
            char *v = duckdb_value_varchar(&r, 0, i);
            (*names)[i] = v ? strdup(v) : NULL;
            duckdb_free(v);
            if (!(*names)[i]) rc = -1;
            *n = (int)i + 1;
        }
    }
    duckdb_destroy_result(&r);
out:
    duckdb_destroy_prepare(&st);
    if (rc) {
        ws_names_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

int ws_appender_open(ws_conn *c, const char *schema, const char *table, const char *const *cols, int ncols, void *out,
                     char ***names, int *nnames, ds_err *err) {
    duckdb_appender *app = out;
    *app = NULL;
    *names = NULL;
    *nnames = 0;
    int rc = conn_sync(c, err);
    if (rc) return rc;
    char db[64], sch[128], tb[128];
    bool is_view = false;
    int f = own_table(c, schema, table, db, sch, tb, &is_view);
    if (f < 0) return ds_fail(err, DS_E_INTERNAL, "cannot look up the table");
    if (f == 0 || is_view) {
        /* Not a table of the workspace: resolve the name as a query would (the gate,
         * project tables attached on first use), to tell a missing table from one that
         * cannot be written. */
        sb q;
        sb_init(&q);
        sb_append(&q, "SELECT * FROM ");
        if (schema) {
            sb_ident(&q, schema);
            sb_append(&q, ".");
        }
        sb_ident(&q, table);
        if (sb_failed(&q)) {
            sb_free(&q);
            return ds_fail(err, DS_E_INTERNAL, "out of memory");
        }
        duckdb_prepared_statement st;
        rc = prepare_text(c, q.data, &st, NULL, err);
        sb_free(&q);
        if (rc) {
            err->position = 0;
            return rc;
        }
        duckdb_destroy_prepare(&st);
        if (is_view) {
            rc = ds_fail(err, DS_E_INVALID_REQUEST, "cannot copy to view \"%s\"", table);
            snprintf(err->sqlstate, sizeof err->sqlstate, "42809");
            return rc;
        }
        bool catalog = schema && (!strcmp(schema, "pg_catalog") || !strcmp(schema, "information_schema"));
        rc = ds_fail(err, DS_E_FORBIDDEN,
                     catalog ? "permission denied: cannot execute COPY FROM on a system catalog (pg_catalog is read-only)"
                             : "cannot execute COPY FROM on a project table: project tables are read-only in a workspace "
                               "(copy it into the workspace first)");
        snprintf(err->sqlstate, sizeof err->sqlstate, "%s", catalog ? "42501" : "25006");
        return rc;
    }
    if (ws_size_reached(c->inst)) {
        rc = ds_fail(err, DS_E_LIMIT_EXCEEDED, "could not extend the workspace: its size limit of %lld GB is reached",
                     (long long)(c->inst->w.size_limit_bytes >> 30));
        snprintf(err->sqlstate, sizeof err->sqlstate, "53100");
        return rc;
    }
    if (duckdb_appender_create_ext(c->con, db, sch, tb, app) == DuckDBError) {
        log_warn("workspace %s: appender: %s", c->inst->w.id, *app ? duckdb_appender_error(*app) : "?");
        duckdb_appender_destroy(app);
        return ds_fail(err, DS_E_INTERNAL, "cannot open the table for COPY");
    }
    for (int i = 0; i < ncols; i++) {
        if (duckdb_appender_add_column(*app, cols[i]) == DuckDBError) {
            duckdb_appender_destroy(app);
            rc = ds_fail(err, DS_E_INVALID_REQUEST, "column \"%.100s\" of relation \"%.100s\" does not exist", cols[i],
                         table);
            snprintf(err->sqlstate, sizeof err->sqlstate, "42703");
            return rc;
        }
    }
    if (ncols > 0) {
        *names = calloc((size_t)ncols, sizeof **names);
        for (int i = 0; *names && i < ncols; i++) {
            (*names)[i] = strdup(cols[i]);
            *nnames = i + 1;
            if (!(*names)[i]) break;
        }
        if (!*names || !(*names)[ncols - 1]) {
            ws_names_free(*names, *nnames);
            *names = NULL;
        }
    } else if (table_columns(c, db, sch, tb, names, nnames) != 0) {
        *names = NULL;
    }
    if (!*names) {
        duckdb_appender_destroy(app);
        return ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    return 0;
}
