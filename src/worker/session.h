/* session.h - the SQL sessions of a worker: each a thread running the executor
 * (pgexec.h) over the socket the main process passed, which carries the session's
 * PostgreSQL messages after authentication. The main process keeps the client's
 * socket, TLS and the login; it relays bytes. */
#ifndef DS_WORKER_SESSION_H
#define DS_WORKER_SESSION_H

#include <jansson.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "config.h"
#include "util/err.h"
#include "workspace/workspace.h"

/* Once per worker, before the first session. */
void wks_init(const ds_config *cfg, const cat_workspace *w, ws_instance *inst);
/* A session on fd (taken: closed when the session ends) from the "session" request's
 * args {id, user, database, pid, secret, params:[[k,v],...]}: its thread sends the
 * session's first messages (ParameterStatus, BackendKeyData, ReadyForQuery, or a
 * FATAL) and then serves it. */
int wks_start(int fd, const json_t *args, ds_err *err);
/* A cancel request for session id; 0, or DS_E_SESSION_NOT_FOUND. */
int wks_cancel(const char *id, ds_err *err);
/* [{id, state, query_count}] of every session. */
json_t *wks_list(void);
/* The watchdog's look, every few tens of ms: statement_timeout, clients gone (the main
 * process closed its end), statements still running grace_ms after an interrupt (their
 * ids into stuck, at most max; returns how many). */
int wks_watch(double now_ms, double grace_ms, char (*stuck)[24], int max);
/* Ends every session (FATAL 57P01 of message) and waits for their threads. */
void wks_end_all(const char *message);

#endif
