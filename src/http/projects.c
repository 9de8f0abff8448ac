/* projects.c - /projects: create (with its API key), list, get, delete. */
#include <string.h>

#include "http/internal.h"
#include "util/jsonx.h"
#include "util/secure.h"

static json_t *project_json(const cat_project *p) {
    json_t *j = json_pack("{s:s, s:s}", "id", p->id, "name", p->name);
    jx_set_time(j, "created_at", p->created_at);
    json_object_set_new(j, "bucket_count", json_integer(p->bucket_count));
    json_object_set_new(j, "table_count", json_integer(p->table_count));
    json_object_set_new(j, "size_bytes", json_integer(p->size_bytes));
    return j;
}

/* Checks the route's project id and that the project exists. */
int require_project(http_req *r) {
    if (!name_is_valid(r->pid)) {
        http_fail(r, DS_E_INVALID_REQUEST, "invalid project id: use 1-64 characters of A-Z a-z 0-9 _ -");
        return -1;
    }
    cat_project p;
    ds_err e;
    if (cat_project_get(r->app->cat, r->pid, &p, &e) != 0) {
        http_error(r, &e);
        return -1;
    }
    return 0;
}

void h_project_create(http_req *r) {
    ds_err e;
    json_t *body = jx_parse_object(r->json.data, r->json.len, &e);
    const char *id = NULL, *name = NULL;
    static const char *const allowed[] = {"id", "name", NULL};
    if (!body || jx_only(body, allowed, &e) || jx_string(body, "id", false, DS_NAME_MAX, &id, &e) ||
        jx_string(body, "name", true, 256, &name, &e))
        goto fail;
    if (id && (!name_is_valid(id) || strstr(id, "_branch_"))) {
        ds_fail(&e, DS_E_INVALID_REQUEST,
                "invalid project id: use 1-64 characters of A-Z a-z 0-9 _ - (and not \"_branch_\")");
        goto fail;
    }
    if (!*name) {
        ds_fail(&e, DS_E_INVALID_REQUEST, "\"name\" must not be empty");
        goto fail;
    }
    char key[SEC_API_KEY_LEN + 1], hash[65];
    if (sec_new_api_key(key) != 0) {
        ds_fail(&e, DS_E_INTERNAL, "random number generator failed");
        goto fail;
    }
    sec_sha256_hex(key, hash);
    cat_project p;
    if (cat_project_create(r->app->cat, id, name, hash, &p, &e) != 0) goto fail;
    json_t *j = json_pack("{s:s, s:s}", "id", p.id, "name", p.name);
    jx_set_time(j, "created_at", p.created_at);
    json_object_set_new(j, "api_key", json_string(key));
    http_json(r, 201, j);
    json_decref(body);
    return;
fail:
    json_decref(body);
    http_error(r, &e);
}

void h_project_list(http_req *r) {
    cat_project *ps = NULL;
    int n = 0;
    ds_err e;
    if (cat_project_list(r->app->cat, &ps, &n, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(arr, project_json(&ps[i]));
    free(ps);
    http_json(r, 200, json_pack("{s:o}", "projects", arr));
}

void h_project_get(http_req *r) {
    if (!name_is_valid(r->pid)) {
        http_fail(r, DS_E_INVALID_REQUEST, "invalid project id");
        return;
    }
    cat_project p;
    ds_err e;
    if (cat_project_get(r->app->cat, r->pid, &p, &e) != 0) {
        http_error(r, &e);
        return;
    }
    http_json(r, 200, project_json(&p));
}

void h_project_delete(http_req *r) {
    if (require_project(r)) return;
    ds_err e;
    cat_branch *bs = NULL;
    int nb = 0;
    if (cat_branch_list(r->app->cat, r->pid, &bs, &nb, &e) != 0) {
        http_error(r, &e);
        return;
    }
    const char **ids = calloc((size_t)nb + 1, sizeof *ids);
    for (int i = 0; ids && i < nb; i++) ids[i] = bs[i].id;
    /* Workspaces first (their sessions end, instances close), then the metadata: a
     * crash after it leaves only files, which start-up removes. */
    if (!ids || ctl_workspaces_drop(r->app->ctl, r->pid, NULL, &e) != 0 || cat_project_delete(r->app->cat, r->pid, &e) != 0) {
        if (!ids) ds_fail(&e, DS_E_INTERNAL, "out of memory");
        http_error(r, &e);
    } else {
        stor_project_remove_files(r->app->stor, r->pid, ids, nb, &e);
        http_no_content(r);
    }
    free(ids);
    free(bs);
}
