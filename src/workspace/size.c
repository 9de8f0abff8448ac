/* size.c - what a workspace uses on disk, as counted against its size limit, and the
 * size guard's look at a workspace whose statements are running.
 *
 * Measured with DuckDB 1.4.4 (a probe against the bundled libduckdb.so):
 * - system.main.pragma_database_size() answers in 1-2 ms, also while another
 *   connection runs a large CREATE TABLE AS; its used_blocks follow that statement's
 *   blocks as they are written (uncommitted data included), block_size is 262144.
 * - DROP TABLE frees nothing until a checkpoint; after CHECKPOINT used_blocks falls,
 *   but the file keeps its length (free blocks are reused, the file is not truncated).
 *   So the file's length is an upper bound of what is used, not the measure.
 * - CHECKPOINT fails ("Cannot CHECKPOINT: there are other write transactions active")
 *   while another connection has an open write transaction.
 * - A user macro main.pragma_database_size() (or duckdb_tables(), ...) does not change
 *   what system.main.pragma_database_size() returns on a connection whose search path
 *   is system.main. */
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"
#include "workspace/internal.h"

/* The WAL and the temp directory: counted as they are on disk. */
static int64_t side_bytes(const ws_instance *inst, int64_t *db_file) {
    stor_ws_disk d;
    stor_workspace_disk(&inst->paths, &d);
    if (db_file) *db_file = d.db;
    return d.wal + d.tmp;
}

/* Used blocks x block size of the workspace's own database, asked on con (whose search
 * path is system.main: no user object can stand in for the function); -1 on error. */
static int64_t used_bytes(const ws_instance *inst, duckdb_connection con) {
    sb q;
    sb_init(&q);
    sb_append(&q, "SELECT used_blocks * block_size FROM system.main.pragma_database_size() WHERE database_name = ");
    sb_literal(&q, inst->dbname);
    duckdb_result r;
    int64_t n = -1;
    if (!sb_failed(&q) && duckdb_query(con, q.data, &r) != DuckDBError) {
        if (duckdb_row_count(&r) == 1) n = duckdb_value_int64(&r, 0, 0);
    } else if (!sb_failed(&q)) {
        log_warn("workspace %s: database size: %s", inst->w.id, duckdb_result_error(&r));
    }
    if (!sb_failed(&q)) duckdb_destroy_result(&r);
    sb_free(&q);
    return n;
}

/* What counts against the limit, on con; the file's length when DuckDB cannot say. */
static int64_t measure(const ws_instance *inst, duckdb_connection con) {
    int64_t db_file, side = side_bytes(inst, &db_file);
    int64_t used = used_bytes(inst, con);
    return (used >= 0 ? used : db_file) + side;
}

/* A checkpoint that really happens (mu held). Two things measured with DuckDB 1.4.4:
 * - CHECKPOINT names the database: on the admin connection (search path system.main) a
 *   bare CHECKPOINT checkpoints the system catalog, which DuckDB answers with an
 *   INTERNAL error that invalidates the whole instance.
 * - A checkpoint with nothing in the WAL does nothing, and the blocks a rolled-back
 *   statement wrote (one the size guard stopped) stay counted as used until a real
 *   one. So a table is made and dropped in one transaction first (invisible to every
 *   other connection, 150 bytes of WAL); after it, CHECKPOINT frees those blocks. */
static int checkpoint_locked(ws_instance *inst) {
    sb q;
    sb_init(&q);
    sb_append(&q, "BEGIN; CREATE TABLE ");
    sb_ident(&q, inst->dbname);
    sb_append(&q, ".main._duckspace_checkpoint (a INTEGER); DROP TABLE ");
    sb_ident(&q, inst->dbname);
    sb_append(&q, ".main._duckspace_checkpoint; COMMIT");
    duckdb_result r;
    if (!sb_failed(&q) && duckdb_query(inst->admin, q.data, &r) == DuckDBError) {
        duckdb_destroy_result(&r);
        duckdb_query(inst->admin, "ROLLBACK", &r); /* a user table of that name: never mind */
    }
    if (!sb_failed(&q)) duckdb_destroy_result(&r);
    sb_free(&q);
    sb_init(&q);
    sb_append(&q, "CHECKPOINT ");
    sb_ident(&q, inst->dbname);
    int rc = -1;
    if (!sb_failed(&q)) {
        if (duckdb_query(inst->admin, q.data, &r) != DuckDBError) rc = 0;
        else log_debug("workspace %s: checkpoint: %s", inst->w.id, duckdb_result_error(&r));
        duckdb_destroy_result(&r);
    }
    sb_free(&q);
    return rc;
}

int inst_checkpoint(ws_instance *inst) {
    pthread_mutex_lock(&inst->mu);
    int rc = checkpoint_locked(inst);
    pthread_mutex_unlock(&inst->mu);
    return rc;
}

void ws_conn_reclaim(ws_conn *c) {
    if (!c || !atomic_load(&c->inst->reclaim)) return;
    ws_instance *inst = c->inst;
    pthread_mutex_lock(&inst->mu);
    /* Checked again under mu: two idle sessions need not both checkpoint. */
    if (atomic_load(&inst->reclaim) && checkpoint_locked(inst) == 0) atomic_store(&inst->reclaim, false);
    pthread_mutex_unlock(&inst->mu);
}

int64_t ws_size_bytes(ws_instance *inst) {
    pthread_mutex_lock(&inst->mu);
    int64_t n = measure(inst, inst->admin);
    stor_ws_disk d;
    stor_workspace_disk(&inst->paths, &d);
    if (n >= inst->w.size_limit_bytes || d.wal > 0 || atomic_load(&inst->reclaim)) {
        /* What DROP and DELETE released (something is in the WAL), or what a stopped
         * statement wrote, is only free after a checkpoint: the number said is what the
         * workspace really uses, and room is made before saying there is none. Fails
         * harmlessly while another connection has a write transaction open. */
        if (checkpoint_locked(inst) == 0) atomic_store(&inst->reclaim, false);
        n = measure(inst, inst->admin);
    }
    pthread_mutex_unlock(&inst->mu);
    return n;
}

bool ws_size_reached(ws_instance *inst) {
    /* Cheap first (a statement start): the file's length bounds what it uses. */
    int64_t db_file, side = side_bytes(inst, &db_file);
    if (db_file + side < inst->w.size_limit_bytes) return false;
    return ws_size_bytes(inst) >= inst->w.size_limit_bytes;
}

int inst_size_guard(ws_instance *inst, int64_t allowance) {
    int64_t limit = inst->w.size_limit_bytes + allowance;
    /* Cheap first: the file's length bounds what it uses. */
    int64_t db_file, side = side_bytes(inst, &db_file);
    if (db_file + side <= limit) return 0;
    int64_t used = used_bytes(inst, inst->guard);
    int64_t n = (used >= 0 ? used : db_file) + side;
    if (n <= limit) return 0;
    int stopped = 0;
    pthread_mutex_lock(&inst->conns_mu);
    for (ws_conn *c = inst->conns; c; c = c->next) {
        if (!c->running) continue;
        atomic_store(&c->size_stopped, true);
        duckdb_interrupt(c->con);
        stopped++;
    }
    pthread_mutex_unlock(&inst->conns_mu);
    if (stopped) atomic_store(&inst->reclaim, true);
    if (stopped)
        log_warn("workspace %s: uses %lld bytes, past its size limit of %lld bytes plus the allowance of %lld: "
                 "stopped %d running statement(s)",
                 inst->w.id, (long long)n, (long long)inst->w.size_limit_bytes, (long long)allowance, stopped);
    return stopped;
}
