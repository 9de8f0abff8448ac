/* jsonx.h - checked reads of request JSON (jansson) and error bodies. */
#ifndef DS_JSONX_H
#define DS_JSONX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

/* Parses a request body that must be a JSON object. NULL with err on failure. */
json_t *jx_parse_object(const char *text, size_t len, ds_err *err);
/* Reads an optional string member: 0 with *out NULL when absent (or null when
 * allow_null), DS_E_INVALID_REQUEST when present with another type or longer than maxlen. */
int jx_string(json_t *obj, const char *key, bool required, size_t maxlen, const char **out, ds_err *err);
/* A JSON string without NUL inside: jansson can hold one (json_stringn, or a parser
 * given JSON_ALLOW_NUL), and C code reading it as a C string would see a shorter name. */
bool jx_is_text(const json_t *v);
/* Reads an optional integer member into *out (left unchanged when absent), checking
 * min..max. Sets *present when given. */
int jx_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, bool *present, ds_err *err);
/* Fails with invalid_request when obj has a member not in the NULL-terminated list. */
int jx_only(json_t *obj, const char *const *allowed, ds_err *err);
/* {"error": code, "message": ..., "details": {...}} for e. Caller decrefs. */
json_t *jx_error_body(const ds_err *e);
/* RFC 3339 UTC string member. */
void jx_set_time(json_t *obj, const char *key, int64_t epoch);

#endif
