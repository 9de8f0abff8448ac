/* jsonx.c - request JSON checks that give clear 400s, and the error body. */
#include "util/jsonx.h"

#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

json_t *jx_parse_object(const char *text, size_t len, ds_err *err) {
    if (!text || len == 0) {
        ds_fail(err, DS_E_INVALID_REQUEST, "the request body must be a JSON object");
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        ds_fail(err, DS_E_INVALID_REQUEST, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        ds_fail(err, DS_E_INVALID_REQUEST, "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

bool jx_is_text(const json_t *v) {
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

int jx_string(json_t *obj, const char *key, bool required, size_t maxlen, const char **out, ds_err *err) {
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required) return ds_fail(err, DS_E_INVALID_REQUEST, "\"%s\" is required", key);
        return 0;
    }
    if (!json_is_string(v)) return ds_fail(err, DS_E_INVALID_REQUEST, "\"%s\" must be a string", key);
    if (json_string_length(v) > maxlen)
        return ds_fail(err, DS_E_INVALID_REQUEST, "\"%s\" is longer than %zu characters", key, maxlen);
    if (!jx_is_text(v)) return ds_fail(err, DS_E_INVALID_REQUEST, "\"%s\" must not contain NUL characters", key);
    *out = json_string_value(v);
    return 0;
}

int jx_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, bool *present, ds_err *err) {
    json_t *v = json_object_get(obj, key);
    if (present) *present = false;
    if (!v) return 0;
    if (!json_is_integer(v))
        return ds_fail(err, DS_E_INVALID_REQUEST, "\"%s\" must be an integer from %lld to %lld", key, (long long)min,
                       (long long)max);
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return ds_fail(err, DS_E_INVALID_REQUEST, "\"%s\" must be from %lld to %lld", key, (long long)min,
                       (long long)max);
    *out = i;
    if (present) *present = true;
    return 0;
}

int jx_only(json_t *obj, const char *const *allowed, ds_err *err) {
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0) ok = true;
        if (!ok) return ds_fail(err, DS_E_INVALID_REQUEST, "unknown field \"%.64s\"", k);
    }
    return 0;
}

json_t *jx_error_body(const ds_err *e) {
    json_t *j = json_pack("{s:s, s:s}", "error", ds_code_name(e->code), "message",
                          e->message[0] ? e->message : ds_code_name(e->code));
    if (j && e->detail_key[0]) {
        json_t *d = json_object();
        if (e->detail_is_number) {
            long long v = strtoll(e->detail_value, NULL, 10);
            json_object_set_new(d, e->detail_key, json_integer(v));
        } else {
            json_object_set_new(d, e->detail_key, json_string(e->detail_value));
        }
        json_object_set_new(j, "details", d);
    }
    return j;
}

void jx_set_time(json_t *obj, const char *key, int64_t epoch) {
    char buf[DS_RFC3339_LEN];
    ds_rfc3339(epoch, buf);
    json_object_set_new(obj, key, json_string(buf));
}
