/* server.c - libmicrohttpd glue: listening socket, per-request context, authentication,
 * bodies (JSON in memory, CSV/Parquet spooled to disk), responses, request logs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "http/internal.h"
#include "util/dberr.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/secure.h"
#include "util/timeutil.h"

#include <openssl/crypto.h>

struct http_server {
    struct MHD_Daemon *daemon;
    int listen_fd;
    http_app app;
};

static atomic_ulong req_seq;

/* ---- responses ---- */

void http_json(http_req *r, int status, json_t *body) {
    if (r->resp) json_decref(r->resp);
    r->status = status;
    r->resp = body;
    r->responded = true;
}

void http_error(http_req *r, const ds_err *e) {
    if (e->code == DS_E_INTERNAL) log_error("internal error: %s", e->message);
    ds_err shown = *e;
    if (e->code == DS_E_INTERNAL) snprintf(shown.message, sizeof shown.message, "internal error (request %s)", r->id);
    /* DuckDB text passed through dberr is scrubbed already; this catches messages that
     * quoted it some other way, so no client sees a server path. */
    dberr_scrub(shown.message, sizeof shown.message);
    http_json(r, ds_code_http_status(e->code), jx_error_body(&shown));
}

void http_fail(http_req *r, ds_code code, const char *fmt, ...) {
    ds_err e;
    ds_err_clear(&e);
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    http_error(r, &e);
}

void http_no_content(http_req *r) {
    r->status = 204;
    r->responded = true;
}

const char *http_query(http_req *r, const char *key) {
    for (int i = 0; i < r->nargs; i++)
        if (strcmp(r->args[i].key, key) == 0) return r->args[i].value;
    return NULL;
}

const char *http_header(http_req *r, const char *key) {
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, key);
}

struct header_count {
    const char *name;
    int n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    (void)value;
    struct header_count *c = cls;
    if (key && strcasecmp(key, c->name) == 0) c->n++;
    return MHD_YES;
}

/* How many times the request carries header name (any case). */
static int header_count(http_req *r, const char *name) {
    struct header_count c = {name, 0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &c);
    return c.n;
}

static enum MHD_Result send_response(http_req *r) {
    /* Counted before the response leaves, so a client that reads /metrics right
     * after a response sees it counted. */
    if (r->app->cfg->metrics && !r->recorded) {
        metrics_record(r->route ? router_metric_name(r) : "unmatched", r->method, r->status,
                       ds_monotonic() - r->started);
        r->recorded = true;
    }
    struct MHD_Response *resp;
    if (r->resp) {
        /* 15 significant digits: 3.1 stays 3.1 (17 would print 3.1000000000000001). */
        char *body = json_dumps(r->resp, JSON_COMPACT | JSON_REAL_PRECISION(15));
        if (!body) return MHD_NO;
        size_t len = strlen(body);
        char *nl = realloc(body, len + 2); /* a final newline: curl output ends its line */
        if (!nl) {
            free(body);
            return MHD_NO;
        }
        body = nl;
        body[len++] = '\n';
        body[len] = '\0';
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (resp) MHD_add_response_header(resp, "Content-Type", "application/json");
    } else if (r->owned_text) {
        resp = MHD_create_response_from_buffer(r->text_len, r->owned_text, MHD_RESPMEM_MUST_FREE);
        r->owned_text = NULL;
    } else {
        resp = MHD_create_response_from_buffer(r->text ? r->text_len : 0, (void *)(r->text ? r->text : ""),
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) return MHD_NO;
    if (r->content_type) MHD_add_response_header(resp, "Content-Type", r->content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->id);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- authentication ---- */

/* Admin key: everything. Project key: its own project only (not the admin routes).
 * Checked before existence, so a project key learns nothing about other projects. */
static int authenticate(http_req *r) {
    if (r->route->flags & ROUTE_PUBLIC) return 0;
    const char *h = http_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
        http_fail(r, DS_E_UNAUTHORIZED, "missing API key: send \"Authorization: Bearer <key>\"");
        return -1;
    }
    const char *key = h + 7;
    if (sec_equal(key, r->app->admin_key)) {
        r->is_admin = true;
        return 0;
    }
    char hash[65], pid[DS_NAME_MAX + 1];
    sec_sha256_hex(key, hash);
    ds_err e;
    int rc = cat_project_by_key(r->app->cat, hash, pid, &e);
    if (rc == -(int)DS_E_UNAUTHORIZED) {
        http_fail(r, DS_E_UNAUTHORIZED, "invalid API key");
        return -1;
    }
    if (rc) {
        http_error(r, &e);
        return -1;
    }
    if ((r->route->flags & ROUTE_ADMIN) || !r->pid || strcmp(r->pid, pid) != 0) {
        http_fail(r, DS_E_FORBIDDEN, "this API key may not do this");
        return -1;
    }
    return 0;
}

/* ---- request life cycle ---- */

/* libmicrohttpd would percent-decode the path, and the keys and values of query
 * arguments, in place before we see them: "%00" then cut the path short and "%2F"
 * added a segment, so a request could reach another route than its raw URL names.
 * Leave the text as sent; router_split_path and collect_arg decode it once, with
 * checks. (libmicrohttpd still turns '+' into ' ' in query arguments, before this.) */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s) {
    (void)cls, (void)conn;
    return strlen(s);
}

typedef struct {
    http_req *r;
    int error; /* 0, or ARG_BAD / ARG_TOO_MANY / ARG_NOMEM */
} arg_walk;
enum { ARG_BAD = 1, ARG_TOO_MANY, ARG_NOMEM };

/* One query argument into r->args, decoded. Stops the walk (MHD_NO) with w->error set
 * for a malformed escape, a NUL in the result (or any control character in a key),
 * too many arguments or no memory. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    arg_walk *w = cls;
    http_req *r = w->r;
    if (r->nargs == HTTP_MAX_ARGS) {
        w->error = ARG_TOO_MANY;
        return MHD_NO;
    }
    size_t kn = strlen(key), vn = value ? strlen(value) : 0;
    char *buf = malloc(kn + vn + 2);
    if (!buf) {
        w->error = ARG_NOMEM;
        return MHD_NO;
    }
    char *v = buf + kn + 1;
    ptrdiff_t kl = str_pct_decode(key, kn, buf);
    ptrdiff_t vl = value ? str_pct_decode(value, vn, v) : 0;
    bool ok = kl >= 0 && vl >= 0;
    for (ptrdiff_t i = 0; ok && i < kl; i++) ok = (unsigned char)buf[i] >= 0x20 && buf[i] != 0x7f;
    /* A NUL would cut the value short: "?name=a%00b" must not create table "a". */
    if (ok && value && memchr(v, '\0', (size_t)vl)) ok = false;
    if (!ok) {
        free(buf);
        w->error = ARG_BAD;
        return MHD_NO;
    }
    r->args[r->nargs].key = buf;
    r->args[r->nargs].value = value ? v : NULL;
    r->nargs++;
    return MHD_YES;
}

/* Decodes every query argument into r->args. Returns 0, or responds with the error and
 * returns -1. */
static int collect_args(http_req *r) {
    arg_walk w = {.r = r};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &w);
    if (w.error == ARG_NOMEM) http_fail(r, DS_E_INTERNAL, "out of memory");
    else if (w.error == ARG_TOO_MANY) http_fail(r, DS_E_INVALID_REQUEST, "more than %d query arguments", HTTP_MAX_ARGS);
    else if (w.error == ARG_BAD)
        http_fail(r, DS_E_INVALID_REQUEST,
                  "malformed query argument: a %% must be followed by two hex digits, and a name or value must not "
                  "decode to NUL (a name: to no control character)");
    return w.error ? -1 : 0;
}

static void req_free(http_req *r) {
    if (!r) return;
    if (r->spool_fd > 0) close(r->spool_fd);
    if (r->spool_path[0]) unlink(r->spool_path);
    sb_free(&r->json);
    json_decref(r->resp);
    free(r->owned_text);
    free(r->path);
    for (int i = 0; i < r->nargs; i++) free(r->args[i].key);
    free(r);
}

static http_req *req_new(http_app *app, struct MHD_Connection *conn, const char *method, const char *url) {
    http_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->conn = conn;
    r->app = app;
    r->method = method;
    r->spool_fd = -1;
    r->started = ds_monotonic();
    sb_init(&r->json);
    snprintf(r->id, sizeof r->id, "req-%lu", (unsigned long)atomic_fetch_add(&req_seq, 1) + 1);
    r->path_status = router_split_path(r, url);
    return r;
}

/* A body that a handler reads as JSON must say it is JSON: a client that sends JSON as
 * text/plain or as a form (curl -d without -H) learns so with a 415 instead of having
 * it parsed anyway, and a JSON body in another charset is not read as UTF-8. Called only
 * for a non-empty body: a request without one needs no Content-Type. Routes that read
 * no body ignore it, as before. Responds and returns true when refused. */
static bool refuse_media_type(http_req *r) {
    if (r->body != BODY_JSON || !(r->route->flags & ROUTE_JSON)) return false;
    const char *ct = http_header(r, "Content-Type");
    if (http_media_is_json(ct)) return false;
    if (r->route->flags & ROUTE_DATA)
        http_fail(r, DS_E_UNSUPPORTED_MEDIA_TYPE,
                  "Content-Type must be application/json, text/csv or application/vnd.apache.parquet");
    else
        http_fail(r, DS_E_UNSUPPORTED_MEDIA_TYPE,
                  "the request body must be JSON, sent as Content-Type: application/json (charset, if given, utf-8)");
    return true;
}

/* First call for a request: route, authenticate and check the declared body size
 * before any body byte is read. Returns true when a response is already decided. */
static bool req_start(http_req *r) {
    log_set_context(r->id);
    if (r->path_status == HTTP_PATH_BAD) {
        /* Before routing and authentication: nothing about the path can be trusted. */
        http_fail(r, DS_E_INVALID_REQUEST,
                  "invalid path: no empty segments ('//' or a trailing '/'), a %% must be followed by two hex "
                  "digits, and a path segment must not decode to NUL, '/' or a control character");
        return true;
    }
    if (r->path_status != HTTP_PATH_OK) {
        http_fail(r, DS_E_NOT_FOUND, "no such path");
        return true;
    }
    int rc = router_match(r);
    if (rc) {
        http_fail(r, (ds_code)rc, rc == DS_E_METHOD_NOT_ALLOWED ? "method %s is not allowed here" : "no such path%s",
                  rc == DS_E_METHOD_NOT_ALLOWED ? r->method : "");
        return true;
    }
    if (authenticate(r) != 0) return true;
    if (collect_args(r) != 0) return true;
    /* Which one counts would be a guess, and a proxy may have judged the other one. */
    if (header_count(r, "Content-Type") > 1) {
        http_fail(r, DS_E_INVALID_REQUEST, "the request has more than one Content-Type header");
        return true;
    }
    const char *ct = http_header(r, "Content-Type");
    uint64_t limit;
    if ((r->route->flags & ROUTE_DATA) && http_media_is_data(ct)) {
        r->body = BODY_FILE;
        limit = (uint64_t)r->app->cfg->max_body_size;
    } else {
        r->body = BODY_JSON;
        limit = (uint64_t)r->app->cfg->max_json_body_size;
    }
    const char *cl = http_header(r, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > limit) {
        http_fail(r, DS_E_PAYLOAD_TOO_LARGE, "the request body is larger than the limit of %llu bytes",
                  (unsigned long long)limit);
        return true;
    }
    if (cl && strtoull(cl, NULL, 10) > 0 && refuse_media_type(r)) return true;
    return false;
}

static void req_body(http_req *r, const char *data, size_t n) {
    uint64_t limit = r->body == BODY_FILE ? (uint64_t)r->app->cfg->max_body_size
                                          : (uint64_t)r->app->cfg->max_json_body_size;
    r->body_len += n;
    if (r->body_too_large || r->body_write_failed) return;
    if (r->body_len > limit) {
        r->body_too_large = true;
        sb_free(&r->json);
        if (r->spool_fd >= 0) {
            close(r->spool_fd);
            r->spool_fd = -1;
            unlink(r->spool_path);
            r->spool_path[0] = '\0';
        }
        return;
    }
    if (r->body == BODY_JSON) {
        sb_appendn(&r->json, data, n);
        return;
    }
    if (r->spool_fd < 0) {
        ds_err e;
        if (stor_spool_create(r->app->stor, &r->spool_fd, r->spool_path, sizeof r->spool_path, &e) != 0) {
            r->spool_path[0] = '\0';
            r->body_write_failed = true;
            return;
        }
    }
    while (n > 0) {
        ssize_t w = write(r->spool_fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            r->body_write_failed = true;
            return;
        }
        data += w;
        n -= (size_t)w;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    http_app *app = cls;
    http_req *r = *con_cls;
    if (!r) {
        r = req_new(app, conn, method, url);
        if (!r) return MHD_NO;
        *con_cls = r;
        if (req_start(r)) return send_response(r);
        return MHD_YES;
    }
    log_set_context(r->id);
    if (*upload_data_size) {
        if (!r->responded) req_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->responded) return MHD_YES; /* answered early; the rest of the body was discarded */
    if (r->body_too_large) {
        http_fail(r, DS_E_PAYLOAD_TOO_LARGE, "the request body is larger than the limit of %lld bytes",
                  (long long)(r->body == BODY_FILE ? app->cfg->max_body_size : app->cfg->max_json_body_size));
    } else if (r->body_write_failed) {
        http_fail(r, DS_E_INTERNAL, "cannot store the request body");
    } else if (r->body_len > 0 && refuse_media_type(r)) {
        /* a body without Content-Length (chunked): only known now */
    } else {
        if (r->spool_fd >= 0) {
            if (close(r->spool_fd) != 0) r->body_write_failed = true;
            r->spool_fd = -1;
        }
        if (r->body == BODY_FILE && !r->spool_path[0]) {
            /* An empty data body: an empty spool file, so handlers see one shape. */
            ds_err e;
            if (stor_spool_create(app->stor, &r->spool_fd, r->spool_path, sizeof r->spool_path, &e) == 0) {
                close(r->spool_fd);
                r->spool_fd = -1;
            }
        }
        r->route->fn(r);
        if (!r->responded) http_fail(r, DS_E_INTERNAL, "no response");
        if (r->spool_path[0]) {
            unlink(r->spool_path); /* the import has its own copy by now */
            r->spool_path[0] = '\0';
        }
    }
    return send_response(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)conn;
    http_req *r = *con_cls;
    if (!r) return;
    double secs = ds_monotonic() - r->started;
    const char *route = r->route ? router_metric_name(r) : "unmatched";
    int status = r->responded ? r->status : 499;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->responded) status = 499;
    if (r->app->cfg->metrics && !r->recorded) metrics_record(route, r->method, status, secs);
    log_set_context(r->id);
    /* The path only: query strings and headers (keys) are never logged. */
    log_info("%s /%s%s %d %.1f ms%s", r->method, r->nseg > 0 ? r->segs[0] : "", r->nseg > 1 ? "/..." : "", status,
             secs * 1000, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
    log_set_context(NULL);
    req_free(r);
    *con_cls = NULL;
}

/* ---- start / stop ---- */

static int open_listener(const char *addr, int port, int *bound, ds_err *err) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    int family;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        family = in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        len = sizeof *in4;
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        family = in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        len = sizeof *in6;
    } else {
        return ds_fail(err, DS_E_INVALID_REQUEST, "listen_address \"%s\" is not an IP address", addr);
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ds_fail(err, DS_E_INTERNAL, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return ds_fail(err, DS_E_INTERNAL, "cannot listen on %s:%d: %s", addr, port, strerror(e));
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound = ntohs(family == AF_INET ? in4->sin_port : in6->sin6_port);
    return fd;
}

int http_start(const ds_config *cfg, cat *c, stor *s, ctl *control, const char *admin_key,
               http_server **out, int *bound_port, ds_err *err) {
    http_server *h = calloc(1, sizeof *h);
    if (!h) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    h->app.cfg = cfg;
    h->app.cat = c;
    h->app.stor = s;
    h->app.ctl = control;
    if (cfg->advertised_host[0]) snprintf(h->app.host, sizeof h->app.host, "%s", cfg->advertised_host);
    else if (gethostname(h->app.host, sizeof h->app.host - 1) != 0) snprintf(h->app.host, sizeof h->app.host, "localhost");
    snprintf(h->app.admin_key, sizeof h->app.admin_key, "%s", admin_key);
    int fd = open_listener(cfg->listen_address, (int)cfg->http_port, bound_port, err);
    if (fd < 0) {
        free(h);
        return fd;
    }
    h->listen_fd = fd;
    h->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                 0, NULL, NULL, on_request, &h->app, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK,
                                 keep_escaped, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)300, MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
                                 /* Upload bodies arrive in pieces of up to about this size: with
                                  * the default 32 kB, a 557 MB CSV took 2.3-2.6 s to spool, with
                                  * 1 MB 1.2-1.7 s (bench/import.sh). Pages are touched only as
                                  * used. */
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(1u << 20), MHD_OPTION_END);
    if (!h->daemon) {
        close(fd);
        free(h);
        return ds_fail(err, DS_E_INTERNAL, "cannot start the HTTP server");
    }
    *out = h;
    return 0;
}

void http_stop(http_server *h) {
    if (!h) return;
    MHD_quiesce_daemon(h->daemon); /* stop accepting; in-flight requests finish */
    MHD_stop_daemon(h->daemon);
    close(h->listen_fd);
    OPENSSL_cleanse(h->app.admin_key, sizeof h->app.admin_key);
    free(h);
}
