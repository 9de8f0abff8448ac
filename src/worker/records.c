/* records.c - catalog records and workspace paths <-> JSON (records.h). */
#include <stdlib.h>
#include <string.h>

#include "worker/records.h"

int rec_str(const json_t *o, const char *key, char *buf, size_t bufsz) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) return -1;
    size_t n = json_string_length(v);
    if (n >= bufsz || memchr(json_string_value(v), 0, n)) return -1;
    memcpy(buf, json_string_value(v), n + 1);
    return 0;
}

static int get_int(const json_t *o, const char *key, int64_t *out) {
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int dup_str(const json_t *o, const char *key, char **out) {
    json_t *v = json_object_get(o, key);
    if (json_is_null(v) || !v) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v) || memchr(json_string_value(v), 0, json_string_length(v))) return -1;
    *out = strdup(json_string_value(v));
    return *out ? 0 : -1;
}

json_t *rec_table_json(const cat_table *t) {
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "project_id", t->project_id,
                          "branch_id", t->branch_id, "bucket_id", t->bucket_id, "name", t->name, "generation",
                          (json_int_t)t->generation, "rows", (json_int_t)t->rows, "size_bytes",
                          (json_int_t)t->size_bytes, "created_at", (json_int_t)t->created_at, "updated_at",
                          (json_int_t)t->updated_at, "copied_at", (json_int_t)t->copied_at);
    if (!o) return NULL;
    json_object_set_new(o, "columns", t->columns_json ? json_string(t->columns_json) : json_null());
    json_object_set_new(o, "primary_key", t->primary_key_json ? json_string(t->primary_key_json) : json_null());
    return o;
}

int rec_table_from(const json_t *o, cat_table *t) {
    memset(t, 0, sizeof *t);
    if (!json_is_object(o) || rec_str(o, "project_id", t->project_id, sizeof t->project_id) ||
        rec_str(o, "branch_id", t->branch_id, sizeof t->branch_id) ||
        rec_str(o, "bucket_id", t->bucket_id, sizeof t->bucket_id) || rec_str(o, "name", t->name, sizeof t->name) ||
        get_int(o, "generation", &t->generation) || get_int(o, "rows", &t->rows) ||
        get_int(o, "size_bytes", &t->size_bytes) || get_int(o, "created_at", &t->created_at) ||
        get_int(o, "updated_at", &t->updated_at) || get_int(o, "copied_at", &t->copied_at) ||
        dup_str(o, "columns", &t->columns_json) || dup_str(o, "primary_key", &t->primary_key_json)) {
        cat_table_clear(t);
        return -1;
    }
    return 0;
}

json_t *rec_workspace_json(const cat_workspace *w) {
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "id", w->id, "project_id", w->project_id,
                     "branch_id", w->branch_id, "name", w->name, "created_at", (json_int_t)w->created_at,
                     "expires_at", (json_int_t)w->expires_at, "size_limit_bytes", (json_int_t)w->size_limit_bytes,
                     "status", w->status, "username", w->username);
}

int rec_workspace_from(const json_t *o, cat_workspace *w) {
    memset(w, 0, sizeof *w);
    return !json_is_object(o) || rec_str(o, "id", w->id, sizeof w->id) ||
                   rec_str(o, "project_id", w->project_id, sizeof w->project_id) ||
                   rec_str(o, "branch_id", w->branch_id, sizeof w->branch_id) ||
                   rec_str(o, "name", w->name, sizeof w->name) || get_int(o, "created_at", &w->created_at) ||
                   get_int(o, "expires_at", &w->expires_at) ||
                   get_int(o, "size_limit_bytes", &w->size_limit_bytes) ||
                   rec_str(o, "status", w->status, sizeof w->status) ||
                   rec_str(o, "username", w->username, sizeof w->username)
               ? -1
               : 0;
}

json_t *rec_paths_json(const stor_ws_paths *p) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "dir", p->dir, "db", p->db, "wal", p->wal, "links", p->links, "tmp",
                     p->tmp);
}

int rec_paths_from(const json_t *o, stor_ws_paths *p) {
    memset(p, 0, sizeof *p);
    return !json_is_object(o) || rec_str(o, "dir", p->dir, sizeof p->dir) || rec_str(o, "db", p->db, sizeof p->db) ||
                   rec_str(o, "wal", p->wal, sizeof p->wal) || rec_str(o, "links", p->links, sizeof p->links) ||
                   rec_str(o, "tmp", p->tmp, sizeof p->tmp)
               ? -1
               : 0;
}
