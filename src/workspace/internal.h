/* internal.h - what the workspace/ files share. */
#ifndef DS_WORKSPACE_INTERNAL_H
#define DS_WORKSPACE_INTERNAL_H

#include <duckdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "workspace/workspace.h"

/* A project table made reachable in an instance: its generation file attached as
 * alias, reached through alias."schema" in the search path. */
typedef struct {
    char bucket_id[CAT_ID_MAX];
    char name[DS_NAME_MAX + 1];
    char schema[CAT_ID_MAX];
    char src_branch[DS_NAME_MAX + 1];
    int64_t generation;
    char alias[24];
    bool present; /* false once the table was dropped */
} ws_table_ref;

struct ws_instance {
    ws_registry *reg;
    cat_workspace w;
    stor_ws_paths paths;
    duckdb_database db;
    duckdb_connection admin; /* attachments and views; under mu */
    char dbname[64];         /* catalog name of the workspace's own database */
    pthread_mutex_t mu;
    ws_table_ref *refs;
    int nrefs, caprefs;
    uint64_t synced_version; /* cat_version() when last synchronised */
    uint64_t sp_version;     /* changes when the search path changes */
    char *search_path;       /* '"ws".main,t1."in_c_sales",...' */
    unsigned long alias_seq;
    /* Under the registry's mutex: */
    int refcount;
    double idle_since;
    bool doomed;
    struct ws_instance *next;
    /* Every open connection, so that the size guard can stop their statements. */
    pthread_mutex_t conns_mu;
    ws_conn *conns;       /* under conns_mu */
    atomic_int nrunning;  /* connections with a statement running */
    duckdb_connection guard; /* the size guard's own connection (search path system.main) */
    /* The guard stopped a statement: the blocks it wrote stay counted as used until a
     * checkpoint (size.c), which ws_conn_reclaim makes once no transaction is open. */
    atomic_bool reclaim;
    /* The project's tables as catalog rows (project_catalog.c), under pcat_mu. */
    pthread_mutex_t pcat_mu;
    struct pcat_snap *pcat;
    bool compat; /* the compat catalog is attached (its schema is in the search path) */
};

struct ws_conn {
    ws_instance *inst;
    duckdb_connection con;
    uint64_t sp_version; /* the search path this connection has */
    bool setting_shim;   /* current_setting() is the front end's macro here */
    ws_conn *next;       /* in inst->conns, under inst->conns_mu */
    bool running;        /* a statement runs (ws_conn_begin/end), under inst->conns_mu */
    atomic_bool size_stopped; /* the size guard interrupted the running statement */
};

struct ws_registry {
    const ds_config *cfg;
    ws_source src;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ws_instance *list;
    pthread_t guard;
    bool guard_started;
    pthread_cond_t guard_cv; /* wakes the size guard to stop */
    bool stopping;
    /* The compat catalog (ws_registry_set_compat_path): a database file written once by
     * the main process, attached READ_ONLY by every instance as WS_COMPAT_ALIAS. */
    char compat_path[4200]; /* "" when there is none */
    int threads;            /* DuckDB threads per instance, 0: DuckDB's default */
};

/* The catalog name the compat database is attached under in every instance. */
#define WS_COMPAT_ALIAS "ds_compat"

/* instance.c */
int inst_open(ws_registry *r, const cat_workspace *w, const stor_ws_paths *paths, ws_instance **out, ds_err *err);
void inst_close(ws_instance *inst);
/* Makes sure the project table (bucket_id, name) is reachable (attached, view made). */
int inst_ensure_table(ws_instance *inst, const char *bucket_id, const char *name, ds_err *err);
/* Runs SQL on the admin connection (under mu). */
int inst_admin_exec(ws_instance *inst, const char *sql, ds_err *err);

/* project_catalog.c: registers ds_project_schemas/tables/columns/constraints() on con's
 * database; with inst NULL they return no rows (the compat catalog's build). Returns 0
 * or -1. pcat_free drops the instance's cached rows. */
typedef struct pcat_snap pcat_snap;
int pcat_register(duckdb_connection con, ws_instance *inst);
void pcat_free(ws_instance *inst);

/* gate.c: the statement gate. gate_text judges the text before DuckDB parses it (and the
 * statement inside EXPLAIN); gate_refuse_type the kind DuckDB prepared. Both return 0 or
 * fill err (SQLSTATE 42501, or 54001 for a statement too complex to parse safely). */
/* compat: the compat catalog is attached (its pg_settings answers unqualified names). */
int gate_text(const char *sql, bool setting_shim, bool compat, ds_err *err);
const char *gate_refused_type(duckdb_statement_type t);
int gate_refuse_type(duckdb_statement_type t, bool in_explain, ds_err *err);
/* size.c */
/* CHECKPOINT of the workspace's own database on the admin connection (takes mu):
 * frees what DROP and DELETE released. Returns 0, or -1 (logged) e.g. while another
 * connection has a write transaction open. */
int inst_checkpoint(ws_instance *inst);
/* One look of the size guard at an instance with statements running: when what the
 * workspace uses passes its limit plus allowance, interrupts every running statement
 * and marks their connections (ws_conn_size_stopped). Returns how many it stopped.
 * Only the guard thread calls it (it uses inst->guard without a lock). */
int inst_size_guard(ws_instance *inst, int64_t allowance);

#endif
