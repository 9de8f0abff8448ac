/* workspaces.c - .../workspaces: create (with one-time credentials), list, detail,
 * drop, clear, drop object, load, credentials reset. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "http/internal.h"
#include "util/jsonx.h"
#include "util/timeutil.h"

#include <openssl/crypto.h>
#include <stdlib.h>

#define GB (1024LL * 1024 * 1024)

static const char *ssl_mode(const ds_config *cfg) {
    if (cfg->require_ssl) return "require";
    return cfg->tls_cert[0] && cfg->tls_key[0] ? "prefer" : "disable";
}

static json_t *connection_json(http_req *r, const cat_workspace *w, const char *password) {
    const ds_config *cfg = r->app->cfg;
    char db[64], cs[512];
    snprintf(db, sizeof db, "workspace_%s", w->id);
    snprintf(cs, sizeof cs, "postgresql://%s%s%s@%s:%lld/%s?sslmode=%s", w->username, password ? ":" : "",
             password ? password : "", r->app->host, (long long)ctl_sql_port(r->app->ctl, (int)cfg->pg_port), db, ssl_mode(cfg));
    json_t *c = json_pack("{s:s, s:I, s:s, s:s}", "host", r->app->host, "port", (json_int_t)ctl_sql_port(r->app->ctl, (int)cfg->pg_port), "database", db,
                          "username", w->username);
    if (password) json_object_set_new(c, "password", json_string(password));
    json_object_set_new(c, "ssl_mode", json_string(ssl_mode(cfg)));
    json_object_set_new(c, "connection_string", json_string(cs));
    return c;
}

static bool is_expired(const cat_workspace *w) { return w->expires_at > 0 && w->expires_at <= ds_now(); }

static json_t *ws_json(http_req *r, const cat_workspace *w, const char *password) {
    json_t *j = json_pack("{s:s, s:s, s:s}", "id", w->id, "name", w->name, "project_id", w->project_id);
    json_object_set_new(j, "branch_id", w->branch_id[0] ? json_string(w->branch_id) : json_null());
    jx_set_time(j, "created_at", w->created_at);
    if (w->expires_at) jx_set_time(j, "expires_at", w->expires_at);
    else json_object_set_new(j, "expires_at", json_null());
    json_object_set_new(j, "size_limit_gb", json_integer(w->size_limit_bytes / GB));
    json_object_set_new(j, "status", json_string(is_expired(w) ? "expired" : "active"));
    json_object_set_new(j, "connection", connection_json(r, w, password));
    return j;
}

/* [{"schema","table","rows"}]: every table the workspace reaches (the branch's view),
 * row counts from the catalog. Fails with limit_exceeded past max_attached_tables. */
static int attached_tables(http_req *r, const char *pid, const char *bid, json_t **out, ds_err *e) {
    cat_tables l = {0};
    int rc = cat_table_list(r->app->cat, pid, bid, NULL, &l, e);
    if (rc) return rc;
    if (l.count > r->app->cfg->max_attached_tables) {
        rc = ds_fail(e, DS_E_LIMIT_EXCEEDED, "the project has %d tables; a workspace reaches at most %lld", l.count,
                     (long long)r->app->cfg->max_attached_tables);
        char lim[32];
        snprintf(lim, sizeof lim, "%lld", (long long)r->app->cfg->max_attached_tables);
        ds_err_detail(e, "limit", lim, 1);
    } else {
        json_t *arr = json_array();
        for (int i = 0; i < l.count; i++) {
            char schema[CAT_ID_MAX];
            bucket_schema_name(l.items[i].bucket_id, schema, sizeof schema);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "schema", schema, "table", l.items[i].name, "rows",
                                                 (json_int_t)l.items[i].rows));
        }
        *out = arr;
    }
    cat_tables_free(&l);
    return rc;
}

static bool ws_id_valid(const char *id) {
    if (strlen(id) != 15 || strncmp(id, "ws_", 3) != 0) return false;
    for (int i = 3; i < 15; i++)
        if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i])) return false;
    return true;
}

/* The workspace of the path, in the route's project and branch. Expired workspaces
 * answer 410 unless allow_expired. Returns 0, or responds and returns -1. */
static int load_ws(http_req *r, cat_workspace *w, bool allow_expired) {
    if (require_project(r) || require_branch(r)) return -1;
    const char *id = r->segs[3];
    ds_err e;
    if (!ws_id_valid(id)) {
        http_fail(r, DS_E_WORKSPACE_NOT_FOUND, "workspace \"%.40s\" not found", id);
        return -1;
    }
    if (cat_workspace_get(r->app->cat, id, w, &e) != 0) {
        http_error(r, &e);
        return -1;
    }
    if (strcmp(w->project_id, r->pid) != 0 || strcmp(w->branch_id, r->bid) != 0) {
        http_fail(r, DS_E_WORKSPACE_NOT_FOUND, "workspace \"%s\" not found", id);
        return -1;
    }
    if (!allow_expired && is_expired(w)) {
        char when[DS_RFC3339_LEN];
        ds_rfc3339(w->expires_at, when);
        ds_fail(&e, DS_E_WORKSPACE_EXPIRED, "workspace \"%s\" expired at %s", id, when);
        ds_err_detail(&e, "expired_at", when, 0);
        http_error(r, &e);
        return -1;
    }
    return 0;
}

/* Checks the load items of a JSON array: {"source", "destination"?, "columns"?, "where"?}. */
static int check_load_items(json_t *tables, ds_err *e) {
    if (!json_is_array(tables) || json_array_size(tables) == 0 || json_array_size(tables) > 1000)
        return ds_fail(e, DS_E_INVALID_REQUEST, "\"tables\" must be an array of 1 to 1000 items");
    size_t i;
    json_t *t;
    static const char *const allowed[] = {"source", "destination", "columns", "where", NULL};
    json_array_foreach(tables, i, t) {
        const char *v;
        if (!json_is_object(t)) return ds_fail(e, DS_E_INVALID_REQUEST, "tables[%zu] must be an object", i);
        if (jx_only(t, allowed, e) || jx_string(t, "source", true, 200, &v, e) ||
            jx_string(t, "destination", false, DS_NAME_MAX, &v, e) || jx_string(t, "where", false, 65536, &v, e))
            return -(int)e->code;
        json_t *cols = json_object_get(t, "columns");
        if (cols && !json_is_null(cols)) {
            size_t k;
            json_t *c;
            bool ok = json_is_array(cols);
            if (ok) json_array_foreach(cols, k, c) ok = ok && jx_is_text(c);
            if (!ok) return ds_fail(e, DS_E_INVALID_REQUEST, "tables[%zu].columns must be an array of column names", i);
        }
    }
    return 0;
}

/* Runs a load on w, refusing it once the workspace is at its size limit. */
void h_ws_create(http_req *r) {
    if (require_project(r) || require_branch(r)) return;
    const ds_config *cfg = r->app->cfg;
    ds_err e;
    json_t *body = jx_parse_object(r->json.data, r->json.len, &e), *attached = NULL, *loaded = NULL;
    json_t *items = NULL;
    const char *name = NULL;
    int64_t ttl = cfg->workspace_ttl_hours, size_gb = cfg->workspace_size_limit_gb;
    static const char *const allowed[] = {"name", "ttl_hours", "size_limit_gb", "preload_tables", NULL};
    cat_workspace w = {0};
    if (body && json_is_null(json_object_get(body, "ttl_hours"))) {
        ds_fail(&e, DS_E_INVALID_REQUEST, "\"ttl_hours\" must be from 1 to %lld (workspaces always expire)",
                (long long)cfg->workspace_max_ttl_hours);
        goto fail;
    }
    if (!body || jx_only(body, allowed, &e) || jx_string(body, "name", true, 256, &name, &e) ||
        jx_int(body, "ttl_hours", 1, cfg->workspace_max_ttl_hours, &ttl, NULL, &e) ||
        jx_int(body, "size_limit_gb", 1, cfg->workspace_max_size_limit_gb, &size_gb, NULL, &e))
        goto fail;
    if (!*name) {
        ds_fail(&e, DS_E_INVALID_REQUEST, "\"name\" must not be empty");
        goto fail;
    }
    json_t *pre = json_object_get(body, "preload_tables");
    if (pre && !json_is_null(pre)) {
        if (!json_is_array(pre)) {
            ds_fail(&e, DS_E_INVALID_REQUEST, "\"preload_tables\" must be an array of table ids");
            goto fail;
        }
        items = json_array();
        size_t i;
        json_t *t;
        json_array_foreach(pre, i, t) json_array_append_new(items, json_pack("{s:O}", "source", t));
        if (json_array_size(items) && check_load_items(items, &e)) goto fail;
        /* Unknown preload tables: 404 before anything is created. */
        json_array_foreach(items, i, t) {
            const char *source = json_string_value(json_object_get(t, "source"));
            char bucket[CAT_ID_MAX], tname[DS_NAME_MAX + 1];
            cat_table ct;
            if (!table_id_parse(source, bucket, sizeof bucket, tname)) {
                ds_fail(&e, DS_E_INVALID_REQUEST, "invalid table id \"%.140s\"", source);
                goto fail;
            }
            if (cat_table_get(r->app->cat, r->pid, r->bid, bucket, tname, &ct, &e) != 0) goto fail;
            cat_table_clear(&ct);
        }
    }
    if (attached_tables(r, r->pid, r->bid, &attached, &e) != 0) goto fail;

    char password[CTL_PASSWORD_LEN];
    ctl_ws_spec spec = {.project_id = r->pid, .branch_id = r->bid, .name = name, .ttl_hours = ttl,
                        .size_limit_gb = size_gb, .preload = items};
    if (ctl_workspace_create(r->app->ctl, &spec, &w, password, &loaded, &e) != 0) goto fail;
    json_t *j = ws_json(r, &w, password);
    json_object_set_new(j, "attached_tables", attached);
    attached = NULL;
    OPENSSL_cleanse(password, sizeof password);
    http_json(r, 201, j);
    goto out;
fail:
    http_error(r, &e);
out:
    json_decref(attached);
    json_decref(loaded);
    json_decref(items);
    json_decref(body);
}

void h_ws_list(http_req *r) {
    if (require_project(r) || require_branch(r)) return;
    int64_t limit = 100, offset = 0;
    const char *ls = http_query(r, "limit"), *os = http_query(r, "offset");
    char *end;
    if (ls) {
        limit = strtoll(ls, &end, 10);
        if (!*ls || *end || limit < 1 || limit > 1000) {
            http_fail(r, DS_E_INVALID_REQUEST, "\"limit\" must be an integer from 1 to 1000");
            return;
        }
    }
    if (os) {
        offset = strtoll(os, &end, 10);
        if (!*os || *end || offset < 0) {
            http_fail(r, DS_E_INVALID_REQUEST, "\"offset\" must be an integer of at least 0");
            return;
        }
    }
    cat_workspace *ws = NULL;
    int n = 0;
    int64_t total = 0;
    ds_err e;
    if (cat_workspace_list(r->app->cat, r->pid, r->bid, limit, offset, &ws, &n, &total, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(arr, ws_json(r, &ws[i], NULL));
    free(ws);
    http_json(r, 200, json_pack("{s:o, s:I}", "workspaces", arr, "count", (json_int_t)total));
}

void h_ws_get(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    ds_err e;
    json_t *objects = NULL, *attached = NULL;
    int64_t size = 0;
    if (attached_tables(r, w.project_id, w.branch_id, &attached, &e) != 0 ||
        ctl_workspace_contents(r->app->ctl, &w, &size, &objects, &e) != 0) {
        json_decref(attached);
        http_error(r, &e);
        return;
    }
    json_t *j = ws_json(r, &w, NULL);
    json_object_set_new(j, "size_bytes", json_integer(size));
    json_object_set_new(j, "active_sessions", json_integer(ctl_session_count(r->app->ctl, w.id)));
    json_object_set_new(j, "workspace_objects", objects);
    json_object_set_new(j, "attached_tables", attached);
    http_json(r, 200, j);
}

void h_ws_delete(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, true)) return;
    ds_err e;
    if (ctl_workspace_drop(r->app->ctl, &w, &e) != 0) {
        http_error(r, &e);
        return;
    }
    http_no_content(r);
}

void h_ws_clear(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    ds_err e;
    if (ctl_workspace_clear(r->app->ctl, &w, &e) != 0) http_error(r, &e);
    else http_no_content(r);
}

void h_ws_drop_object(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    const char *name = r->segs[5];
    ds_err e;
    if (strlen(name) > 255) {
        http_fail(r, DS_E_OBJECT_NOT_FOUND, "the workspace has no such object");
        return;
    }
    if (ctl_workspace_drop_object(r->app->ctl, &w, name, &e) != 0) http_error(r, &e);
    else http_no_content(r);
}

void h_ws_load(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    ds_err e;
    json_t *body = jx_parse_object(r->json.data, r->json.len, &e), *loaded = NULL;
    int64_t size = 0;
    static const char *const allowed[] = {"tables", NULL};
    json_t *items = body ? json_object_get(body, "tables") : NULL;
    if (!body || jx_only(body, allowed, &e) || check_load_items(items, &e) ||
        ctl_workspace_load(r->app->ctl, &w, items, &loaded, &size, &e)) {
        http_error(r, &e);
    } else {
        http_json(r, 200, json_pack("{s:o, s:I}", "loaded", loaded, "workspace_size_bytes", (json_int_t)size));
    }
    json_decref(body);
}

void h_ws_reset(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    char password[CTL_PASSWORD_LEN];
    ds_err e;
    if (ctl_workspace_reset_password(r->app->ctl, w.id, password, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *j = json_pack("{s:o}", "connection", connection_json(r, &w, password));
    OPENSSL_cleanse(password, sizeof password);
    http_json(r, 200, j);
}

void h_ws_sessions(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    http_json(r, 200, json_pack("{s:o}", "sessions", ctl_sessions_json(r->app->ctl, w.id)));
}

void h_ws_session_delete(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    ds_err e;
    if (ctl_kill_session(r->app->ctl, w.id, r->segs[5], &e) != 0) http_error(r, &e);
    else http_no_content(r);
}

void h_ws_disconnect_all(http_req *r) {
    cat_workspace w;
    if (load_ws(r, &w, false)) return;
    int n = ctl_kill_workspace(r->app->ctl, w.id, "terminating connection due to administrator command");
    http_json(r, 200, json_pack("{s:i}", "disconnected", n));
}
