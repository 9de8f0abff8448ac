/* sessions.c - the live SQL sessions as REST sees them, answered by whichever SQL front
 * end registered (pgwire/ in this process). */
#include <stdlib.h>

#include "control/internal.h"

ctl *ctl_new(const ds_config *cfg, cat *c, wk_pool *pool) {
    ctl *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->cfg = cfg;
    x->cat = c;
    x->pool = pool;
    return x;
}

void ctl_free(ctl *c) { free(c); }

void ctl_sessions_register(ctl *c, const ctl_sessions_ops *ops, void *ud) {
    c->sessions = ops;
    c->sessions_ud = ops ? ud : NULL;
}

int ctl_session_count(ctl *c, const char *ws_id) {
    return c->sessions ? c->sessions->count(c->sessions_ud, ws_id) : 0;
}

json_t *ctl_sessions_json(ctl *c, const char *ws_id) {
    return c->sessions ? c->sessions->list(c->sessions_ud, ws_id) : json_array();
}

int ctl_kill_session(ctl *c, const char *ws_id, const char *session_id, ds_err *err) {
    if (!c->sessions) return ds_fail(err, DS_E_SESSION_NOT_FOUND, "session \"%.40s\" not found", session_id);
    return c->sessions->kill(c->sessions_ud, ws_id, session_id, err);
}

int ctl_kill_workspace(ctl *c, const char *ws_id, const char *why) {
    return c->sessions ? c->sessions->kill_workspace(c->sessions_ud, ws_id, why) : 0;
}

int ctl_sql_port(ctl *c, int fallback) { return c->sessions ? c->sessions->port(c->sessions_ud) : fallback; }
