/* registry.c - the instances a worker process has open (one: its workspace's), their
 * reference counts, the compat catalog they attach, and the size guard. Starting,
 * closing and deleting workspaces is the main process's (worker/pool.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/dberr.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "workspace/internal.h"

static void *guard_main(void *arg);

/* How often the size guard looks at workspaces with statements running. */
#define GUARD_INTERVAL_MS 200

int ws_registry_new(const ds_config *cfg, const ws_source *src, ws_registry **out, ds_err *err) {
    ws_registry *r = calloc(1, sizeof *r);
    if (!r) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    r->cfg = cfg;
    r->src = *src;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_cond_init(&r->guard_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&r->guard, NULL, guard_main, r) != 0) {
        ws_registry_free(r);
        return ds_fail(err, DS_E_INTERNAL, "cannot start the size guard thread");
    }
    r->guard_started = true;
    *out = r;
    return 0;
}

/* Builds the compat database file: a private in-memory instance (with the project
 * table functions registered, returning nothing, so that views over them bind) attaches
 * the new file as WS_COMPAT_ALIAS, runs the SQL and detaches it, which checkpoints it:
 * instances then attach a finished file READ_ONLY. Measured with DuckDB 1.4.4: DuckDB
 * refuses CREATE, DROP, ALTER, INSERT in a READ_ONLY catalog ("... attached in read-only
 * mode") whatever the search path, and reads of an attached file keep working after
 * enable_external_access = false. */
int ws_compat_build(const char *sql, const char *path, ds_err *err) {
    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(NULL, &db) == DuckDBError) return ds_fail(err, DS_E_INTERNAL, "cannot build the compat catalog");
    if (duckdb_connect(db, &con) == DuckDBError) {
        duckdb_close(&db);
        return ds_fail(err, DS_E_INTERNAL, "cannot build the compat catalog");
    }
    int rc = pcat_register(con, NULL) ? ds_fail(err, DS_E_INTERNAL, "cannot build the compat catalog") : 0;
    sb q;
    sb_init(&q);
    sb_append(&q, "ATTACH ");
    sb_literal(&q, path);
    sb_append(&q, " AS " WS_COMPAT_ALIAS);
    duckdb_result res;
    /* Names inside macro bodies are checked against the search path when the macro is
     * made: the compat schema's own names must resolve while it is built. */
    const char *steps[] = {q.data, "SET search_path = '" WS_COMPAT_ALIAS ".main'", sql, "RESET search_path",
                           "DETACH " WS_COMPAT_ALIAS};
    for (int i = 0; rc == 0 && i < 5; i++) {
        if (!steps[i]) {
            rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
            break;
        }
        if (duckdb_query(con, steps[i], &res) == DuckDBError) {
            log_error("compat catalog: %s", duckdb_result_error(&res));
            rc = ds_fail(err, DS_E_INTERNAL, "cannot build the compat catalog");
        }
        duckdb_destroy_result(&res);
    }
    sb_free(&q);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    if (rc) unlink(path);
    return rc;
}

void ws_registry_set_threads(ws_registry *r, int threads) { r->threads = threads > 0 ? threads : 0; }

void ws_registry_set_compat_path(ws_registry *r, const char *path) {
    snprintf(r->compat_path, sizeof r->compat_path, "%s", path);
    /* Its name stays out of messages: DuckDB names the catalog in errors such as
     * 'Cannot execute statement of type "DROP" on database "ds_compat" which is attached
     * in read-only mode!'; users see PostgreSQL's name for system catalogs instead. */
    dberr_scrub_add("\"" WS_COMPAT_ALIAS "\"", "\"pg_catalog\"");
    dberr_scrub_add(WS_COMPAT_ALIAS ".main", "pg_catalog");
    dberr_scrub_add(WS_COMPAT_ALIAS, "pg_catalog");
    /* information_schema.X lives in it as information_schema_X (the schema name is reserved
     * in every DuckDB catalog): messages and their "Did you mean" say it as users write it. */
    dberr_scrub_prefix_add("information_schema_", "information_schema.");
}

void ws_registry_free(ws_registry *r) {
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cv);
    pthread_cond_broadcast(&r->guard_cv);
    pthread_mutex_unlock(&r->mu);
    if (r->guard_started) pthread_join(r->guard, NULL);
    while (r->list) {
        ws_instance *i = r->list;
        r->list = i->next;
        inst_close(i);
    }
    pthread_cond_destroy(&r->guard_cv);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int ws_acquire(ws_registry *r, const cat_workspace *w, const stor_ws_paths *paths, ws_instance **out, ds_err *err) {
    pthread_mutex_lock(&r->mu);
    ws_instance *i = r->list;
    while (i && strcmp(i->w.id, w->id) != 0) i = i->next;
    int rc = 0;
    if (i && i->doomed) {
        rc = ds_fail(err, DS_E_WORKSPACE_NOT_FOUND, "workspace \"%s\" is being deleted", w->id);
    } else if (!i) {
        /* Opening is cheap (tables attach lazily), so it happens under the lock: two
         * callers can never open the same file twice. */
        rc = inst_open(r, w, paths, &i, err);
        if (rc == 0) {
            i->next = r->list;
            r->list = i;
        }
    }
    if (rc == 0) {
        i->refcount++;
        *out = i;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void ws_release(ws_registry *r, ws_instance *inst) {
    if (!inst) return;
    pthread_mutex_lock(&r->mu);
    if (--inst->refcount == 0) {
        inst->idle_since = ds_monotonic();
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
}

/* The size guard: every GUARD_INTERVAL_MS, each instance with a statement running gets
 * one inst_size_guard look (a stat of its files; DuckDB's block count only when the
 * files are past the limit). The instances are held by a reference, not under the
 * registry's mutex, while they are looked at. A statement can grow the workspace for at
 * most one interval (plus the time DuckDB takes to notice the interrupt) beyond limit +
 * allowance before it stops. */
static void *guard_main(void *arg) {
    ws_registry *r = arg;
    ws_instance **busy = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        struct timespec ts = ds_deadline(CLOCK_MONOTONIC, GUARD_INTERVAL_MS);
        pthread_cond_timedwait(&r->guard_cv, &r->mu, &ts);
        if (r->stopping) break;
        size_t n = 0;
        for (ws_instance *i = r->list; i; i = i->next) {
            if (i->doomed || atomic_load(&i->nrunning) == 0) continue;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                ws_instance **g = realloc(busy, ncap * sizeof *g);
                if (!g) break; /* the others get their look next time */
                busy = g;
                cap = ncap;
            }
            i->refcount++;
            busy[n++] = i;
        }
        pthread_mutex_unlock(&r->mu);
        for (size_t k = 0; k < n; k++) inst_size_guard(busy[k], r->cfg->workspace_size_allowance);
        for (size_t k = 0; k < n; k++) ws_release(r, busy[k]);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    free(busy);
    return NULL;
}
