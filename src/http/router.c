/* router.c - the route table: method + path pattern -> handler, with auth flags.
 * Bucket and table routes exist for main and for every dev branch:
 * /projects/{pid}/branches/{bid}/<rest> routes like /projects/{pid}/<rest>. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static const http_route routes[] = {
    {"GET", "/health", h_health, ROUTE_PUBLIC},
    {"GET", "/metrics", h_metrics, ROUTE_PUBLIC},
    {"GET", "/openapi.json", h_openapi, ROUTE_PUBLIC},
    {"POST", "/projects", h_project_create, ROUTE_ADMIN | ROUTE_JSON},
    {"GET", "/projects", h_project_list, ROUTE_ADMIN},
    {"GET", "/projects/{pid}", h_project_get, 0},
    {"DELETE", "/projects/{pid}", h_project_delete, ROUTE_ADMIN},
    {"POST", "/projects/{pid}/branches", h_branch_create, ROUTE_JSON},
    {"GET", "/projects/{pid}/branches", h_branch_list, 0},
    {"GET", "/projects/{pid}/branches/{bid}", h_branch_get, 0},
    {"DELETE", "/projects/{pid}/branches/{bid}", h_branch_delete, 0},
    {"POST", "/projects/{pid}/buckets", h_bucket_create, ROUTE_BRANCHABLE | ROUTE_JSON},
    {"GET", "/projects/{pid}/buckets", h_bucket_list, ROUTE_BRANCHABLE},
    {"GET", "/projects/{pid}/buckets/{bucket_id}", h_bucket_get, ROUTE_BRANCHABLE},
    {"DELETE", "/projects/{pid}/buckets/{bucket_id}", h_bucket_delete, ROUTE_BRANCHABLE},
    {"POST", "/projects/{pid}/buckets/{bucket_id}/tables", h_table_create, ROUTE_BRANCHABLE | ROUTE_DATA | ROUTE_JSON},
    {"GET", "/projects/{pid}/buckets/{bucket_id}/tables", h_table_list, ROUTE_BRANCHABLE},
    {"GET", "/projects/{pid}/tables/{table_id}", h_table_get, ROUTE_BRANCHABLE},
    {"DELETE", "/projects/{pid}/tables/{table_id}", h_table_delete, ROUTE_BRANCHABLE},
    {"POST", "/projects/{pid}/tables/{table_id}/import", h_table_import, ROUTE_BRANCHABLE | ROUTE_DATA},
    {"GET", "/projects/{pid}/tables/{table_id}/preview", h_table_preview, ROUTE_BRANCHABLE},
    {"POST", "/projects/{pid}/workspaces", h_ws_create, ROUTE_BRANCHABLE | ROUTE_JSON},
    {"GET", "/projects/{pid}/workspaces", h_ws_list, ROUTE_BRANCHABLE},
    {"GET", "/projects/{pid}/workspaces/{ws_id}", h_ws_get, ROUTE_BRANCHABLE},
    {"DELETE", "/projects/{pid}/workspaces/{ws_id}", h_ws_delete, ROUTE_BRANCHABLE},
    {"POST", "/projects/{pid}/workspaces/{ws_id}/clear", h_ws_clear, ROUTE_BRANCHABLE},
    {"DELETE", "/projects/{pid}/workspaces/{ws_id}/objects/{name}", h_ws_drop_object, ROUTE_BRANCHABLE},
    {"POST", "/projects/{pid}/workspaces/{ws_id}/load", h_ws_load, ROUTE_BRANCHABLE | ROUTE_JSON},
    {"POST", "/projects/{pid}/workspaces/{ws_id}/credentials/reset", h_ws_reset, ROUTE_BRANCHABLE},
    {"GET", "/projects/{pid}/workspaces/{ws_id}/sessions", h_ws_sessions, ROUTE_BRANCHABLE},
    {"DELETE", "/projects/{pid}/workspaces/{ws_id}/sessions/{session_id}", h_ws_session_delete, ROUTE_BRANCHABLE},
    {"POST", "/projects/{pid}/workspaces/{ws_id}/disconnect-all", h_ws_disconnect_all, ROUTE_BRANCHABLE},
    /* The same table routes under their bucket: {table} is the table id or its name. */
    {"GET", "/projects/{pid}/buckets/{bucket_id}/tables/{table}", h_table_get, ROUTE_BRANCHABLE},
    {"DELETE", "/projects/{pid}/buckets/{bucket_id}/tables/{table}", h_table_delete, ROUTE_BRANCHABLE},
    {"POST", "/projects/{pid}/buckets/{bucket_id}/tables/{table}/import", h_table_import, ROUTE_BRANCHABLE | ROUTE_DATA},
    {"GET", "/projects/{pid}/buckets/{bucket_id}/tables/{table}/preview", h_table_preview, ROUTE_BRANCHABLE},
};

/* The path reaches us still percent-encoded (server.c turns libmicrohttpd's decoding
 * off), so that the split happens on the slashes the client sent: "%2F" is a character
 * of a segment, not a separator. Each segment is then decoded once, in place (decoding
 * never lengthens), and refused when the result could name a different path than the
 * raw text shows: a NUL would end the string early, a '/' would look like a separator
 * to whatever splits it again, and control characters have no place in a name (and
 * would reach the request log). */
int router_split_path(http_req *r, const char *url) {
    r->path = strdup(url);
    if (!r->path) return HTTP_PATH_NOMEM;
    char *p = r->path;
    if (*p != '/') return HTTP_PATH_BAD;
    p++;
    while (*p) {
        /* An empty segment ("//", or a trailing '/') is refused, not skipped: a path
         * reaches exactly one route, as a proxy rule on the raw path would read it. */
        if (*p == '/') return HTTP_PATH_BAD;
        char *seg = p;
        size_t n = strcspn(seg, "/");
        bool last = seg[n] == '\0';
        if (r->nseg == HTTP_MAX_SEGS) return HTTP_PATH_TOO_DEEP;
        ptrdiff_t len = str_pct_decode(seg, n, seg); /* writes the segment's NUL at or before seg[n] */
        if (len < 0) return HTTP_PATH_BAD;
        for (ptrdiff_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)seg[i];
            if (c == '\0' || c == '/' || c < 0x20 || c == 0x7f) return HTTP_PATH_BAD;
        }
        r->segs[r->nseg++] = seg;
        if (!last && seg[n + 1] == '\0') return HTTP_PATH_BAD; /* a trailing '/' */
        p = last ? seg + n : seg + n + 1;
    }
    return HTTP_PATH_OK;
}

/* Does the pattern match segs (without the branch part)? */
static bool pattern_match(const char *pattern, char *const *segs, int nseg) {
    int i = 0;
    const char *p = pattern;
    while (*p == '/') p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= nseg) return false;
        if (!(p[0] == '{' && p[len - 1] == '}') && (strlen(segs[i]) != len || strncmp(segs[i], p, len) != 0))
            return false;
        i++;
        p += len;
        while (*p == '/') p++;
    }
    return i == nseg;
}

int router_match(http_req *r) {
    char *segs[HTTP_MAX_SEGS];
    int nseg = r->nseg;
    memcpy(segs, r->segs, sizeof segs);
    bool branch = false;
    /* /projects/{pid}/branches/{bid}/X... with X a branchable resource. */
    if (nseg >= 5 && strcmp(segs[0], "projects") == 0 && strcmp(segs[2], "branches") == 0) {
        branch = true;
        for (int i = 2; i + 2 < nseg; i++) segs[i] = segs[i + 2];
        nseg -= 2;
    }
    bool path_found = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const http_route *rt = &routes[i];
        if (branch && !(rt->flags & ROUTE_BRANCHABLE)) continue;
        if (!pattern_match(rt->pattern, segs, nseg)) continue;
        path_found = true;
        if (strcmp(rt->method, r->method) != 0) continue;
        r->route = rt;
        r->pid = nseg >= 2 && strcmp(segs[0], "projects") == 0 ? segs[1] : NULL;
        r->bid[0] = '\0';
        if (branch) {
            /* "default" names the main branch. Longer than a name: left for the handler
             * to reject (an empty bid would mean main). */
            const char *b = r->segs[3];
            if (strcmp(b, "default") != 0) {
                strncpy(r->bid, b, DS_NAME_MAX);
                r->bid[DS_NAME_MAX] = '\0';
                if (strlen(b) > DS_NAME_MAX) r->bid[0] = '.'; /* invalid on purpose */
            }
        } else if (strcmp(rt->pattern, "/projects/{pid}/branches/{bid}") == 0) {
            snprintf(r->bid, sizeof r->bid, "%s", strlen(segs[3]) <= DS_NAME_MAX ? segs[3] : ".");
        }
        /* Handlers see the segments without the branch part. */
        memcpy(r->segs, segs, sizeof segs);
        r->nseg = nseg;
        r->branch_route = branch;
        return 0;
    }
    return path_found ? DS_E_METHOD_NOT_ALLOWED : DS_E_NOT_FOUND;
}

#define NROUTES (sizeof routes / sizeof routes[0])
static char *branch_names[NROUTES];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

/* "/projects/{pid}/branches/{bid}" + the rest of each branchable pattern. */
static void make_branch_names(void) {
    const size_t plen = strlen("/projects/{pid}");
    for (size_t i = 0; i < NROUTES; i++) {
        if (!(routes[i].flags & ROUTE_BRANCHABLE)) continue;
        size_t n = strlen(routes[i].pattern) + 32;
        branch_names[i] = malloc(n);
        if (branch_names[i])
            snprintf(branch_names[i], n, "/projects/{pid}/branches/{bid}%s", routes[i].pattern + plen);
    }
}

const char *router_metric_name(const http_req *r) {
    if (!r->route) return "unmatched";
    if (!r->branch_route) return r->route->pattern;
    pthread_once(&names_once, make_branch_names);
    const char *n = branch_names[r->route - routes];
    return n ? n : r->route->pattern;
}
