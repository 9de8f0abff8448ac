/* workspaces.c - the workspace lifecycle: create (id, login name, one-time password and
 * its verifier, catalog row, file, preloads), drop, credentials reset, load. The
 * formats of ids and login names are decided here, once. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

#include "control/internal.h"
#include "util/scram.h"
#include "util/secure.h"
#include "util/timeutil.h"

#define GB (1024LL * 1024 * 1024)

int ctl_workspace_load(ctl *c, const cat_workspace *w, json_t *items, json_t **loaded, int64_t *size, ds_err *e) {
    wk_worker *k;
    int rc = wk_acquire(c->pool, w, &k, e);
    if (rc) return rc;
    if (wk_size_bytes(k) >= w->size_limit_bytes) {
        rc = ds_fail(e, DS_E_LIMIT_EXCEEDED, "the workspace has reached its size limit of %lld GB",
                     (long long)(w->size_limit_bytes / GB));
        char lim[32];
        snprintf(lim, sizeof lim, "%lld", (long long)(w->size_limit_bytes / GB));
        ds_err_detail(e, "limit", lim, 1);
    } else {
        rc = wk_load(k, items, loaded, size, e);
    }
    wk_release(c->pool, k);
    return rc;
}

int ctl_workspace_contents(ctl *c, const cat_workspace *w, int64_t *size, json_t **objects, ds_err *e) {
    wk_worker *k;
    int rc = wk_acquire(c->pool, w, &k, e);
    if (rc) return rc;
    *size = wk_size_bytes(k);
    rc = wk_objects(k, objects, e);
    wk_release(c->pool, k);
    return rc;
}

int ctl_workspace_clear(ctl *c, const cat_workspace *w, ds_err *e) {
    wk_worker *k;
    int rc = wk_acquire(c->pool, w, &k, e);
    if (rc) return rc;
    rc = wk_clear(k, e);
    wk_release(c->pool, k);
    return rc;
}

int ctl_workspace_drop_object(ctl *c, const cat_workspace *w, const char *name, ds_err *e) {
    wk_worker *k;
    int rc = wk_acquire(c->pool, w, &k, e);
    if (rc) return rc;
    rc = wk_drop_object(k, name, e);
    wk_release(c->pool, k);
    return rc;
}

/* "ws_" + 12 hex digits, the login "<id>_" + 8 more; a fresh password and verifier. */
static int new_identity(cat_workspace *w, char password[CTL_PASSWORD_LEN], char *verifier, ds_err *e) {
    char hex12[13], hex8[9];
    if (sec_random_hex(hex12, 6) != 0 || sec_random_hex(hex8, 4) != 0 || scram_random_password(password) != 0 ||
        scram_make_verifier(password, verifier) != 0)
        return ds_fail(e, DS_E_INTERNAL, "random number generator failed");
    snprintf(w->id, sizeof w->id, "ws_%s", hex12);
    snprintf(w->username, sizeof w->username, "%s_%s", w->id, hex8);
    return 0;
}

int ctl_workspace_create(ctl *c, const ctl_ws_spec *spec, cat_workspace *out, char password[CTL_PASSWORD_LEN],
                         json_t **loaded, ds_err *e) {
    cat_workspace w = {0};
    char verifier[SCRAM_VERIFIER_MAX];
    if (new_identity(&w, password, verifier, e) != 0) return -1;
    snprintf(w.project_id, sizeof w.project_id, "%s", spec->project_id);
    snprintf(w.branch_id, sizeof w.branch_id, "%s", spec->branch_id);
    snprintf(w.name, sizeof w.name, "%s", spec->name);
    w.created_at = ds_now();
    w.expires_at = w.created_at + spec->ttl_hours * 3600;
    w.size_limit_bytes = spec->size_limit_gb * GB;
    snprintf(w.status, sizeof w.status, "active");
    if (cat_workspace_create(c->cat, &w, verifier, c->cfg->workspaces_per_project, e) != 0) {
        OPENSSL_cleanse(password, CTL_PASSWORD_LEN);
        return -1;
    }
    /* Create the file now (and load the preloads), so errors surface here. */
    int rc;
    if (json_array_size(spec->preload) > 0) {
        int64_t size = 0;
        rc = ctl_workspace_load(c, &w, spec->preload, loaded, &size, e);
    } else {
        wk_worker *k;
        rc = wk_acquire(c->pool, &w, &k, e);
        if (rc == 0) wk_release(c->pool, k);
    }
    if (rc != 0) {
        ds_err e2;
        wk_destroy(c->pool, &w);
        cat_workspace_delete(c->cat, w.id, &e2);
        OPENSSL_cleanse(password, CTL_PASSWORD_LEN);
        return -1;
    }
    *out = w;
    return 0;
}

int ctl_workspace_drop(ctl *c, const cat_workspace *w, ds_err *e) {
    wk_destroy(c->pool, w); /* its sessions end through the pool's gone callback */
    return cat_workspace_delete(c->cat, w->id, e);
}

int ctl_workspaces_drop(ctl *c, const char *pid, const char *bid, ds_err *e) {
    cat_workspace *ws = NULL;
    int n = 0;
    int64_t total = 0;
    int rc = cat_workspace_list(c->cat, pid, bid, 0, 0, &ws, &n, &total, e);
    for (int i = 0; rc == 0 && i < n; i++) rc = ctl_workspace_drop(c, &ws[i], e);
    free(ws);
    return rc;
}

int ctl_workspace_reset_password(ctl *c, const char *ws_id, char password[CTL_PASSWORD_LEN], ds_err *e) {
    char verifier[SCRAM_VERIFIER_MAX];
    if (scram_random_password(password) != 0 || scram_make_verifier(password, verifier) != 0)
        return ds_fail(e, DS_E_INTERNAL, "random number generator failed");
    if (cat_workspace_set_verifier(c->cat, ws_id, verifier, e) != 0) {
        OPENSSL_cleanse(password, CTL_PASSWORD_LEN);
        return -1;
    }
    return 0;
}
