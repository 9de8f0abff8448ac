/* pool.h - the main process's side of worker processes: one worker per workspace in
 * use, started on first use, ended after workspace_idle_close seconds unused, watched
 * (a worker that dies is noticed at once; the next use starts a new one), and deleted
 * workspaces' files. Every operation on a workspace's data goes to its worker.
 *
 * A worker is started as "duckspace worker" (worker.h) from this process's own
 * executable, with only its channel open; it gets the settings, its workspace and
 * files, the compat catalog and its sandbox (what it may read and write, memory and
 * file-size limits) in the "open" request. */
#ifndef DS_WORKER_POOL_H
#define DS_WORKER_POOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "config.h"
#include "storage/storage.h"
#include "util/err.h"

typedef struct wk_pool wk_pool;
typedef struct wk_worker wk_worker;

/* Told before a workspace goes away (deleted, expired), so the SQL front end can end
 * its sessions. */
typedef void (*wk_gone_fn)(void *ud, const char *ws_id);

/* compat: the compat catalog database's bytes (written into the data directory for
 * the workers). Starts the supervisor thread (idle close, expiry). */
int wk_pool_new(const ds_config *cfg, cat *c, stor *s, const void *compat, size_t compat_len, wk_pool **out,
                ds_err *err);
/* Ends every worker (each checkpoints its workspace) and frees. Returns how many
 * workers, in the pool's life, failed when asked to exit (a non-zero exit status: a
 * sanitizer's report, say), each logged; 0 for NULL. */
int wk_pool_free(wk_pool *p);
void wk_pool_on_gone(wk_pool *p, wk_gone_fn fn, void *ud);

/* The worker of workspace w, started now if it is not running (creating the files of
 * a new workspace). Reference counted: every acquire is paired with a release. */
int wk_acquire(wk_pool *p, const cat_workspace *w, wk_worker **out, ds_err *err);
void wk_release(wk_pool *p, wk_worker *k);
/* One more reference to a worker already held (released with wk_release). */
void wk_hold(wk_worker *k);
/* Ends the workspace's worker (waiting for current users) and removes its files. The
 * catalog row is the caller's. */
void wk_destroy(wk_pool *p, const cat_workspace *w);
/* Deletes workspaces past their expires_at (what the supervisor does every
 * reaper_interval). Returns how many. */
int wk_reap_expired(wk_pool *p);

/* ---- operations, each a request to the worker ---- */

/* Bytes the workspace uses, as counted against its size limit (-1 on error). */
int64_t wk_size_bytes(wk_worker *k);
/* [{"name","type","rows"}] of the user's objects. */
int wk_objects(wk_worker *k, json_t **out, ds_err *err);
int wk_clear(wk_worker *k, ds_err *err);
int wk_drop_object(wk_worker *k, const char *name, ds_err *err);
/* items: [{"source","destination"?,"columns"?,"where"?}] (borrowed). On success
 * *loaded and *size. */
int wk_load(wk_worker *k, json_t *items, json_t **loaded, int64_t *size, ds_err *err);

/* ---- SQL sessions ---- */

typedef struct {
    const char *id;  /* the session id REST shows */
    const char *user, *database;
    int32_t pid, secret; /* BackendKeyData */
    const char *const *keys, *const *values; /* startup parameters */
    int nparams;
} wk_session_req;

/* Hands a logged-in session to the worker: *fd is this process's end of the socket
 * that carries the session's PostgreSQL messages from now on (the worker sends the
 * first ones: ParameterStatus, BackendKeyData, ReadyForQuery). */
int wk_session_open(wk_worker *k, const wk_session_req *r, int *fd, ds_err *err);
void wk_session_cancel(wk_worker *k, const char *id);
/* {"<id>": {"state","query_count"}} of the worker's sessions ({} when it cannot say). */
json_t *wk_session_states(wk_worker *k);
/* After the session's socket closed without a FATAL from the worker: whether the worker
 * is gone and why, as the FATAL the client gets (waits up to wait_ms for the worker's
 * exit to be seen). false when the worker still runs. */
bool wk_gone_reason(wk_worker *k, const char *id, char sqlstate[6], char *message, size_t msgsz, int wait_ms);

#endif
