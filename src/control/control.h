/* control.h - operations of the product, independent of HTTP (the future control
 * plane): the workspace lifecycle (ids, login, password verifier, file, preloads) and
 * the view of live SQL sessions. The front ends call in; the SQL front end also
 * registers its sessions here, so that REST never reaches pgwire/. */
#ifndef DS_CONTROL_H
#define DS_CONTROL_H

#include <jansson.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "config.h"
#include "util/err.h"
#include "worker/pool.h"

typedef struct ctl ctl;

ctl *ctl_new(const ds_config *cfg, cat *c, wk_pool *pool);
void ctl_free(ctl *c); /* NULL is a no-op */

/* ---- live SQL sessions (sessions.c) ---- */

/* What the SQL front end offers about its sessions. */
typedef struct {
    int (*count)(void *ud, const char *ws_id);
    /* [{"id","client_addr","connected_at","last_activity_at","query_count","state"}] */
    json_t *(*list)(void *ud, const char *ws_id);
    /* DS_E_SESSION_NOT_FOUND when session_id is not one of ws_id's. */
    int (*kill)(void *ud, const char *ws_id, const char *session_id, ds_err *err);
    /* Ends every session of a workspace, each with a PostgreSQL error; how many. */
    int (*kill_workspace)(void *ud, const char *ws_id, const char *why);
    int (*port)(void *ud); /* the port it listens on */
} ctl_sessions_ops;

/* Registers the SQL front end (before the REST front end starts; ops NULL after it
 * stopped, to unregister). Without one, there are no sessions. */
void ctl_sessions_register(ctl *c, const ctl_sessions_ops *ops, void *ud);
int ctl_session_count(ctl *c, const char *ws_id);
json_t *ctl_sessions_json(ctl *c, const char *ws_id);
int ctl_kill_session(ctl *c, const char *ws_id, const char *session_id, ds_err *err);
int ctl_kill_workspace(ctl *c, const char *ws_id, const char *why);
/* The SQL port clients connect to (fallback without a front end). */
int ctl_sql_port(ctl *c, int fallback);

/* ---- workspaces (workspaces.c) ---- */

typedef struct {
    const char *project_id, *branch_id, *name;
    int64_t ttl_hours, size_limit_gb;
    json_t *preload; /* NULL, or the tables copied in at creation, as for load */
} ctl_ws_spec;

#define CTL_PASSWORD_LEN 44 /* a generated password with its NUL */

/* Creates a workspace: id, login name, a one-time password (into password, shown once)
 * and its SCRAM verifier, the catalog row, the file, and the preloads (their result
 * into *loaded when there are any). On failure nothing is left behind. */
int ctl_workspace_create(ctl *c, const ctl_ws_spec *spec, cat_workspace *out, char password[CTL_PASSWORD_LEN],
                         json_t **loaded, ds_err *e);
/* Drops a workspace: its sessions, its files, its catalog row. */
int ctl_workspace_drop(ctl *c, const cat_workspace *w, ds_err *e);
/* Drops every workspace of a project (bid NULL) or of one branch. */
int ctl_workspaces_drop(ctl *c, const char *pid, const char *bid, ds_err *e);
/* A new password (into password) and verifier for the workspace's login. */
int ctl_workspace_reset_password(ctl *c, const char *ws_id, char password[CTL_PASSWORD_LEN], ds_err *e);
/* Copies tables into the workspace within its size limit. items: a checked array of
 * {"source","destination"?,"columns"?,"where"?} (borrowed). */
int ctl_workspace_load(ctl *c, const cat_workspace *w, json_t *items, json_t **loaded, int64_t *size, ds_err *e);
/* What the workspace holds: its size (as counted against the limit) and the user's
 * objects [{"name","type","rows"}]. */
int ctl_workspace_contents(ctl *c, const cat_workspace *w, int64_t *size, json_t **objects, ds_err *e);
/* Drops every object the user made. */
int ctl_workspace_clear(ctl *c, const cat_workspace *w, ds_err *e);
/* Drops one table or view (DS_E_OBJECT_NOT_FOUND when there is none by that name). */
int ctl_workspace_drop_object(ctl *c, const cat_workspace *w, const char *name, ds_err *e);

#endif
