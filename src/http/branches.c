/* branches.c - /projects/{pid}/branches: dev branches (copy on write). */
#include <string.h>

#include "http/internal.h"
#include "util/jsonx.h"

static json_t *branch_json(const cat_branch *b) {
    json_t *j = json_pack("{s:s, s:s, s:s}", "id", b->id, "name", b->name, "description", b->description);
    jx_set_time(j, "created_at", b->created_at);
    return j;
}

/* For branch routes: checks the branch exists ("" = main always does). */
int require_branch(http_req *r) {
    if (!r->bid[0]) return 0;
    if (!name_is_valid(r->bid)) {
        http_fail(r, DS_E_INVALID_REQUEST, "invalid branch id");
        return -1;
    }
    cat_branch b;
    ds_err e;
    if (cat_branch_get(r->app->cat, r->pid, r->bid, &b, &e) != 0) {
        http_error(r, &e);
        return -1;
    }
    return 0;
}

void h_branch_create(http_req *r) {
    if (require_project(r)) return;
    ds_err e;
    json_t *body = jx_parse_object(r->json.data, r->json.len, &e);
    const char *name = NULL, *desc = NULL;
    static const char *const allowed[] = {"name", "description", NULL};
    if (!body || jx_only(body, allowed, &e) || jx_string(body, "name", true, DS_NAME_MAX, &name, &e) ||
        jx_string(body, "description", false, CAT_DESC_MAX, &desc, &e))
        goto fail;
    if (!name_is_valid(name) || strcmp(name, "default") == 0) {
        ds_fail(&e, DS_E_INVALID_REQUEST, "invalid branch name: use 1-64 characters of A-Z a-z 0-9 _ - (not \"default\")");
        goto fail;
    }
    cat_branch b;
    if (cat_branch_create(r->app->cat, r->pid, name, desc, &b, &e) != 0) goto fail;
    http_json(r, 201, branch_json(&b));
    json_decref(body);
    return;
fail:
    json_decref(body);
    http_error(r, &e);
}

void h_branch_list(http_req *r) {
    if (require_project(r)) return;
    cat_branch *bs = NULL;
    int n = 0;
    ds_err e;
    if (cat_branch_list(r->app->cat, r->pid, &bs, &n, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(arr, branch_json(&bs[i]));
    free(bs);
    http_json(r, 200, json_pack("{s:o}", "branches", arr));
}

void h_branch_get(http_req *r) {
    if (require_project(r)) return;
    if (strcmp(r->bid, "default") == 0) {
        /* The main branch, by its alias: it never has copies. */
        cat_project p;
        ds_err e;
        if (cat_project_get(r->app->cat, r->pid, &p, &e) != 0) {
            http_error(r, &e);
            return;
        }
        json_t *j = json_pack("{s:s, s:s, s:s}", "id", "default", "name", "main", "description", "the main branch");
        jx_set_time(j, "created_at", p.created_at);
        json_object_set_new(j, "copied_tables", json_array());
        http_json(r, 200, j);
        return;
    }
    if (!r->bid[0] || !name_is_valid(r->bid)) {
        http_fail(r, DS_E_INVALID_REQUEST, "invalid branch id");
        return;
    }
    cat_branch b;
    ds_err e;
    cat_tables l = {0};
    if (cat_branch_get(r->app->cat, r->pid, r->bid, &b, &e) != 0 ||
        cat_table_list(r->app->cat, r->pid, r->bid, NULL, &l, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *j = branch_json(&b), *copied = json_array();
    for (int i = 0; i < l.count; i++) {
        cat_table *t = &l.items[i];
        if (strcmp(t->branch_id, r->bid) != 0 || !t->copied_at) continue;
        json_t *c = json_object();
        char id[CAT_ID_MAX + DS_NAME_MAX + 2];
        snprintf(id, sizeof id, "%s.%s", t->bucket_id, t->name);
        json_object_set_new(c, "table_id", json_string(id));
        jx_set_time(c, "copied_at", t->copied_at);
        json_array_append_new(copied, c);
    }
    cat_tables_free(&l);
    json_object_set_new(j, "copied_tables", copied);
    http_json(r, 200, j);
}

void h_branch_delete(http_req *r) {
    if (require_project(r)) return;
    if (!r->bid[0] || !name_is_valid(r->bid) || strcmp(r->bid, "default") == 0) {
        http_fail(r, DS_E_INVALID_REQUEST, "invalid branch id (the main branch cannot be deleted)");
        return;
    }
    cat_branch b;
    ds_err e;
    if (cat_branch_get(r->app->cat, r->pid, r->bid, &b, &e) != 0 || ctl_workspaces_drop(r->app->ctl, r->pid, r->bid, &e) != 0 ||
        cat_branch_delete(r->app->cat, r->pid, r->bid, &e) != 0) {
        http_error(r, &e);
        return;
    }
    stor_branch_remove_files(r->app->stor, r->pid, r->bid, &e);
    http_no_content(r);
}
