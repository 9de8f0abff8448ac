/* buckets.c - .../buckets: create, list, get (with its tables), delete. */
#include <string.h>

#include "http/internal.h"
#include "util/jsonx.h"
#include "util/timeutil.h"

json_t *bucket_json(const cat_bucket *b) {
    char schema[CAT_ID_MAX];
    bucket_schema_name(b->id, schema, sizeof schema);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", b->id, "stage", b->stage, "name", b->name, "schema",
                          schema, "description", b->description);
    jx_set_time(j, "created_at", b->created_at);
    return j;
}

/* Project, branch and a well-formed bucket id from the path (segment 3). */
int bucket_route(http_req *r, const char **bucket_id) {
    if (require_project(r) || require_branch(r)) return -1;
    char stage[4], name[DS_NAME_MAX + 1];
    *bucket_id = r->nseg > 3 ? r->segs[3] : "";
    if (!bucket_id_parse(*bucket_id, stage, name)) {
        http_fail(r, DS_E_INVALID_REQUEST, "invalid bucket id \"%.80s\": expected in.c-NAME or out.c-NAME", *bucket_id);
        return -1;
    }
    return 0;
}

void h_bucket_create(http_req *r) {
    if (require_project(r) || require_branch(r)) return;
    ds_err e;
    json_t *body = jx_parse_object(r->json.data, r->json.len, &e);
    const char *stage = NULL, *name = NULL, *desc = NULL;
    static const char *const allowed[] = {"stage", "name", "description", NULL};
    cat_bucket *all = NULL;
    int n = 0;
    if (!body || jx_only(body, allowed, &e) || jx_string(body, "stage", true, 8, &stage, &e) ||
        jx_string(body, "name", true, DS_NAME_MAX, &name, &e) ||
        jx_string(body, "description", false, CAT_DESC_MAX, &desc, &e))
        goto fail;
    if (strcmp(stage, "in") != 0 && strcmp(stage, "out") != 0) {
        ds_fail(&e, DS_E_INVALID_REQUEST, "\"stage\" must be \"in\" or \"out\"");
        goto fail;
    }
    if (!name_is_valid(name)) {
        ds_fail(&e, DS_E_INVALID_REQUEST, "invalid bucket name: use 1-64 characters of A-Z a-z 0-9 _ -");
        goto fail;
    }
    cat_bucket b = {0};
    snprintf(b.project_id, sizeof b.project_id, "%s", r->pid);
    snprintf(b.branch_id, sizeof b.branch_id, "%s", r->bid);
    snprintf(b.id, sizeof b.id, "%s.c-%s", stage, name);
    snprintf(b.stage, sizeof b.stage, "%s", stage);
    snprintf(b.name, sizeof b.name, "%s", name);
    snprintf(b.description, sizeof b.description, "%s", desc ? desc : "");
    b.created_at = ds_now();
    /* Two bucket ids can map to one SQL schema (in.c-a-b and in.c-a_b): refuse the second. */
    char schema[CAT_ID_MAX], other[CAT_ID_MAX];
    bucket_schema_name(b.id, schema, sizeof schema);
    if (cat_bucket_list(r->app->cat, r->pid, r->bid, &all, &n, &e) != 0) goto fail;
    for (int i = 0; i < n; i++) {
        bucket_schema_name(all[i].id, other, sizeof other);
        if (strcmp(all[i].id, b.id) != 0 && strcmp(other, schema) == 0) {
            ds_fail(&e, DS_E_BUCKET_EXISTS, "bucket \"%s\" already uses the SQL schema \"%s\"", all[i].id, schema);
            goto fail;
        }
    }
    if (cat_bucket_create(r->app->cat, &b, &e) != 0) goto fail;
    free(all);
    json_decref(body);
    http_json(r, 201, bucket_json(&b));
    return;
fail:
    free(all);
    json_decref(body);
    http_error(r, &e);
}

void h_bucket_list(http_req *r) {
    if (require_project(r) || require_branch(r)) return;
    cat_bucket *bs = NULL;
    int n = 0;
    ds_err e;
    if (cat_bucket_list(r->app->cat, r->pid, r->bid, &bs, &n, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(arr, bucket_json(&bs[i]));
    free(bs);
    http_json(r, 200, json_pack("{s:o}", "buckets", arr));
}

void h_bucket_get(http_req *r) {
    const char *bucket_id;
    if (bucket_route(r, &bucket_id)) return;
    cat_bucket b;
    cat_tables l = {0};
    ds_err e;
    if (cat_bucket_get(r->app->cat, r->pid, r->bid, bucket_id, &b, &e) != 0 ||
        cat_table_list(r->app->cat, r->pid, r->bid, bucket_id, &l, &e) != 0) {
        http_error(r, &e);
        return;
    }
    json_t *j = bucket_json(&b), *tables = json_array();
    for (int i = 0; i < l.count; i++) json_array_append_new(tables, table_json(&l.items[i], r->bid[0] != 0));
    cat_tables_free(&l);
    json_object_set_new(j, "tables", tables);
    http_json(r, 200, j);
}

void h_bucket_delete(http_req *r) {
    const char *bucket_id;
    if (bucket_route(r, &bucket_id)) return;
    cat_bucket b;
    ds_err e;
    if (cat_bucket_get(r->app->cat, r->pid, r->bid, bucket_id, &b, &e) != 0) {
        http_error(r, &e);
        return;
    }
    if (strcmp(b.branch_id, r->bid) != 0) {
        http_fail(r, DS_E_INVALID_REQUEST, "bucket \"%s\" belongs to the main branch and cannot be deleted from a branch",
                  bucket_id);
        return;
    }
    const char *force = http_query(r, "force");
    bool forced = force && (strcmp(force, "true") == 0 || strcmp(force, "1") == 0);
    int64_t n = 0;
    if (cat_bucket_table_count(r->app->cat, r->pid, r->bid, bucket_id, &n, &e) != 0) {
        http_error(r, &e);
        return;
    }
    if (n > 0 && !forced) {
        ds_fail(&e, DS_E_BUCKET_NOT_EMPTY, "bucket \"%s\" has %lld table(s): delete them or use ?force=true", bucket_id,
                (long long)n);
        http_error(r, &e);
        return;
    }
    if (stor_bucket_drop(r->app->stor, r->pid, r->bid, bucket_id, &e) != 0) {
        http_error(r, &e);
        return;
    }
    http_no_content(r);
}
