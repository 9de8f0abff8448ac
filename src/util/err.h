/* err.h - the one error type carried from storage up to both front ends.
 *
 * One table (DS_ERR_MAP) gives each error its machine code, HTTP status and SQLSTATE,
 * so a failure becomes an HTTP status + JSON body in http/ and an ErrorResponse in
 * pgwire/ from the same place. Functions return 0 on success or a negative ds_code and
 * fill a caller-provided ds_err with a human sentence. */
#ifndef DS_ERR_H
#define DS_ERR_H

#include <stdarg.h>

/* X(name, machine_code, http_status, sqlstate) */
#define DS_ERR_MAP(X)                                                         \
    X(INVALID_REQUEST, "invalid_request", 400, "22023")                       \
    X(UNAUTHORIZED, "unauthorized", 401, "28000")                             \
    X(FORBIDDEN, "forbidden", 403, "42501")                                   \
    X(NOT_FOUND, "not_found", 404, "42704")                                   \
    X(PROJECT_NOT_FOUND, "project_not_found", 404, "3D000")                   \
    X(BRANCH_NOT_FOUND, "branch_not_found", 404, "42704")                     \
    X(BUCKET_NOT_FOUND, "bucket_not_found", 404, "3F000")                     \
    X(TABLE_NOT_FOUND, "table_not_found", 404, "42P01")                       \
    X(WORKSPACE_NOT_FOUND, "workspace_not_found", 404, "3D000")               \
    X(OBJECT_NOT_FOUND, "object_not_found", 404, "42704")                     \
    X(SESSION_NOT_FOUND, "session_not_found", 404, "42704")                   \
    X(METHOD_NOT_ALLOWED, "method_not_allowed", 405, "0A000")                 \
    X(PROJECT_EXISTS, "project_exists", 409, "42710")                         \
    X(BRANCH_EXISTS, "branch_exists", 409, "42710")                           \
    X(BUCKET_EXISTS, "bucket_exists", 409, "42P06")                           \
    X(TABLE_EXISTS, "table_exists", 409, "42P07")                             \
    X(BUCKET_NOT_EMPTY, "bucket_not_empty", 409, "2BP01")                     \
    X(TABLE_CHANGED, "table_changed", 409, "40001")                           \
    X(LIMIT_EXCEEDED, "limit_exceeded", 409, "53400")                         \
    X(WORKSPACE_EXPIRED, "workspace_expired", 410, "28000")                   \
    X(PAYLOAD_TOO_LARGE, "payload_too_large", 413, "54000")                   \
    X(UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415, "22023")         \
    X(IMPORT_FAILED, "import_failed", 400, "22000")                           \
    X(CATALOG_UNAVAILABLE, "catalog_unavailable", 503, "57P03")               \
    X(INTERNAL, "internal_error", 500, "XX000")

typedef enum {
    DS_OK = 0,
#define DS_ERR_ENUM(name, code, status, sqlstate) DS_E_##name,
    DS_ERR_MAP(DS_ERR_ENUM)
#undef DS_ERR_ENUM
    DS_E__COUNT
} ds_code;

#define DS_ERR_MSG_MAX 512
#define DS_ERR_DETAIL_MAX 128

typedef struct ds_err {
    ds_code code;
    char message[DS_ERR_MSG_MAX];
    /* One optional detail, e.g. key "limit" value "10" (rendered into "details"). */
    char detail_key[32];
    char detail_value[DS_ERR_DETAIL_MAX];
    int detail_is_number;
    /* For the SQL front end: a SQLSTATE more precise than the code's (e.g. from a
     * DuckDB error), and the 1-based position in the statement (0: none). */
    char sqlstate[6];
    int position;
} ds_err;

/* Sets *e (when e is not NULL) and returns -code, so callers can `return ds_fail(...)`. */
int ds_fail(ds_err *e, ds_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ds_err_detail(ds_err *e, const char *key, const char *value, int is_number);
void ds_err_clear(ds_err *e);

const char *ds_code_name(ds_code code);     /* "invalid_request" */
int ds_code_http_status(ds_code code);      /* 400 */
const char *ds_code_sqlstate(ds_code code); /* "22023" */

#endif
