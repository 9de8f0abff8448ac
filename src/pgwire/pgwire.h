/* pgwire.h - the PostgreSQL wire protocol server: the front door of pgwire/.
 *
 * One listener thread accepts connections; each session runs on its own thread: TLS,
 * the startup packet, authentication and limits here, then the session is handed to
 * its workspace's worker process (worker/pool.h), which runs its SQL, and the thread
 * relays bytes between the two. A watchdog thread ends sessions of expired workspaces. */
#ifndef DS_PGWIRE_H
#define DS_PGWIRE_H

#include <jansson.h>

#include "catalog/catalog.h"
#include "control/control.h"
#include "config.h"
#include "util/err.h"
#include "worker/pool.h"

typedef struct pgw_server pgw_server;

/* Starts listening on cfg->listen_address:cfg->pg_port (TLS when tls_cert and tls_key
 * are set). *bound_port receives the port. Registers its sessions with control. */
int pgw_start(const ds_config *cfg, cat *c, wk_pool *pool, ctl *control, pgw_server **out, int *bound_port,
              ds_err *err);
/* Stops accepting, ends every session with an error message, frees everything; its
 * sessions leave control first. */
void pgw_stop(pgw_server *s);

/* The port it listens on (fallback when s is NULL). */
int pgw_port(pgw_server *s, int fallback);

/* The sessions view (registered with control/ for REST). */
int pgw_session_count(pgw_server *s, const char *ws_id);
/* [{"id","client_addr","connected_at","last_activity_at","query_count","state"}] */
json_t *pgw_sessions_json(pgw_server *s, const char *ws_id);
/* Ends one session (DS_E_SESSION_NOT_FOUND when it is not one of ws_id's). */
int pgw_kill_session(pgw_server *s, const char *ws_id, const char *session_id, ds_err *err);
/* Ends every session of a workspace, each with a PostgreSQL error; returns how many. */
int pgw_kill_workspace(pgw_server *s, const char *ws_id, const char *why);

#endif
