/* internal.h - what the http/ files share: the request, the app context, handlers. */
#ifndef DS_HTTP_INTERNAL_H
#define DS_HTTP_INTERNAL_H

#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "config.h"
#include "storage/storage.h"
#include "util/err.h"
#include "util/str.h"
#include "control/control.h"
#include "storage/storage.h"

#define HTTP_MAX_SEGS 12
/* Query arguments kept per request: the API reads at most three; more is a client bug. */
#define HTTP_MAX_ARGS 32

typedef struct {
    const ds_config *cfg;
    cat *cat;
    stor *stor;
    char admin_key[256];
    char host[256];                            /* advertised in connection info */
    ctl *ctl; /* product operations: workspace lifecycle, SQL sessions */
} http_app;

typedef enum { BODY_NONE = 0, BODY_JSON, BODY_FILE } body_kind;

typedef struct http_req {
    struct MHD_Connection *conn;
    http_app *app;
    char id[24];
    const char *method;
    char *path; /* owned copy */
    char *segs[HTTP_MAX_SEGS];
    int nseg;
    int path_status; /* router_split_path's result */
    /* Query arguments, each decoded once (key and value in one allocation; value NULL
     * for "?flag"), in the order sent. */
    struct {
        char *key;
        char *value;
    } args[HTTP_MAX_ARGS];
    int nargs;
    /* From the route: the project (segs[1]) and branch ("" = main, or segs[3]). */
    const char *pid;
    char bid[DS_NAME_MAX + 1];
    const struct http_route *route;
    bool branch_route; /* reached through /projects/{pid}/branches/{bid}/... */
    bool is_admin;
    /* Body. */
    body_kind body;
    sb json;
    int spool_fd;
    char spool_path[PATH_MAX];
    uint64_t body_len;
    bool body_too_large;
    bool body_write_failed;
    /* Response. */
    int status;
    json_t *resp;        /* JSON body, or NULL */
    const char *text;    /* static text body (metrics/openapi), when resp is NULL */
    char *owned_text;    /* heap text body */
    size_t text_len;
    const char *content_type;
    double started;
    bool responded;
    bool recorded; /* counted in the metrics */
} http_req;

typedef void (*http_handler)(http_req *r);

/* ROUTE_JSON: the handler reads a JSON body, which must then be sent as JSON.
 * ROUTE_DATA: the route takes a CSV or Parquet body (spooled to a file). Other routes
 * read no body. */
enum { ROUTE_PUBLIC = 1, ROUTE_ADMIN = 2, ROUTE_BRANCHABLE = 4, ROUTE_JSON = 8, ROUTE_DATA = 16 };

typedef struct http_route {
    const char *method;
    const char *pattern; /* "/projects/{pid}/buckets" */
    http_handler fn;
    int flags;
} http_route;

/* router.c: finds the route for method + segments. Sets r->route, r->pid, r->bid and
 * strips the branch segments of branch routes. Returns 0, or a ds_code (404/405). */
int router_match(http_req *r);
/* Splits the raw (still percent-encoded) URL path at its '/' into r->segs and decodes
 * each segment once, inside r->path (a copy it owns). Returns HTTP_PATH_OK, or
 * HTTP_PATH_BAD when the path does not start with '/', has an empty segment ("//" or a
 * trailing '/'), or a segment has a malformed escape or decodes to contain NUL, '/' or
 * a control character, HTTP_PATH_TOO_DEEP past HTTP_MAX_SEGS segments,
 * HTTP_PATH_NOMEM. */
enum { HTTP_PATH_OK = 0, HTTP_PATH_NOMEM = -1, HTTP_PATH_TOO_DEEP = -2, HTTP_PATH_BAD = -3 };
int router_split_path(http_req *r, const char *url);
/* Name of the route pattern for metrics ("/projects/{pid}/branches/{bid}/buckets"). */
const char *router_metric_name(const http_req *r);

/* media.c: Content-Type values. JSON: application/json or application/<x>+json, any
 * case, with parameters, whose charset (if named) is UTF-8. Data: text/csv,
 * application/vnd.apache.parquet, application/x-parquet. NULL is neither. */
bool http_media_is_json(const char *ct);
bool http_media_is_data(const char *ct);

/* Responses (server.c). */
void http_json(http_req *r, int status, json_t *body); /* takes body */
void http_error(http_req *r, const ds_err *e);
void http_fail(http_req *r, ds_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void http_no_content(http_req *r);
/* The first query argument named key (both decoded), or NULL. */
const char *http_query(http_req *r, const char *key);
const char *http_header(http_req *r, const char *key);

/* Resource handlers. */
/* Every handler, once: declared here, and stubbed by the router's fuzz target. */
#define HTTP_HANDLERS(X) \
    X(h_health) \
    X(h_metrics) \
    X(h_openapi) \
    X(h_project_create) \
    X(h_project_list) \
    X(h_project_get) \
    X(h_project_delete) \
    X(h_branch_create) \
    X(h_branch_list) \
    X(h_branch_get) \
    X(h_branch_delete) \
    X(h_bucket_create) \
    X(h_bucket_list) \
    X(h_bucket_get) \
    X(h_bucket_delete) \
    X(h_table_create) \
    X(h_table_list) \
    X(h_table_get) \
    X(h_table_delete) \
    X(h_table_import) \
    X(h_table_preview) \
    X(h_ws_create) \
    X(h_ws_list) \
    X(h_ws_get) \
    X(h_ws_delete) \
    X(h_ws_clear) \
    X(h_ws_drop_object) \
    X(h_ws_load) \
    X(h_ws_reset) \
    X(h_ws_sessions) \
    X(h_ws_session_delete) \
    X(h_ws_disconnect_all)
#define HTTP_DECLARE_HANDLER(name) void name(http_req *r);
HTTP_HANDLERS(HTTP_DECLARE_HANDLER)
#undef HTTP_DECLARE_HANDLER
/* Drops every workspace of project pid in branch bid (NULL: all branches). */

/* Shared checks: the project of the route exists and, for branch routes, the branch.
 * Return 0, or respond with the error and return -1. */
int require_project(http_req *r);
int require_branch(http_req *r);
/* require_project + require_branch + the bucket id of .../buckets/{bucket_id}/... */
int bucket_route(http_req *r, const char **bucket_id);

/* JSON of catalog records (tables.c / buckets.c). */
json_t *table_json(const cat_table *t, bool in_branch);
json_t *bucket_json(const cat_bucket *b);

/* metrics.c */
void metrics_record(const char *route, const char *method, int status, double seconds);
char *metrics_render(void); /* caller frees */

#endif
