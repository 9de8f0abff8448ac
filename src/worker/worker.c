/* worker.c - the worker process (worker.h): the "open" frame, the lock-down, the
 * workspace's instance, the requests of the main process, the watchdog. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pgexec/pgexec.h"
#include "util/dberr.h"
#include "util/log.h"
#include "util/proclimit.h"
#include "util/timeutil.h"
#include "worker/records.h"
#include "worker/rpc.h"
#include "worker/sandbox.h"
#include "worker/session.h"
#include "worker/worker.h"

#define WATCH_INTERVAL_MS 50
#define MAX_STUCK 16

static struct {
    ds_config cfg;
    cat_workspace w;
    stor_ws_paths paths;
    rpc *ch;
    ws_registry *reg;
    ws_instance *inst;
    const _Atomic uint64_t *version; /* the catalog's, in a page the main process writes */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool exiting; /* "exit" came, or the main process is gone */
    bool probes;  /* DUCKSPACE_TEST_PROBES=1 at start: the tests' "probe" request is served */
    int cores;    /* seen before the lock-down */
} W = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void stop(void) {
    pthread_mutex_lock(&W.mu);
    W.exiting = true;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
}

/* ---- the project's tables, from the main process (ws_source) ---- */

static uint64_t src_version(void *ud) {
    (void)ud;
    return W.version ? atomic_load(W.version) : 0;
}

static int src_table_get(void *ud, const char *bucket_id, const char *name, cat_table *out, ds_err *err) {
    (void)ud;
    json_t *a = NULL;
    int rc = rpc_call(W.ch, "table", json_pack("{s:s, s:s}", "bucket_id", bucket_id, "name", name), -1, &a, err);
    if (rc) return rc;
    if (rec_table_from(json_object_get(a, "table"), out) != 0) rc = ds_fail(err, DS_E_INTERNAL, "malformed answer");
    json_decref(a);
    return rc;
}

static int src_table_list(void *ud, cat_tables *out, ds_err *err) {
    (void)ud;
    json_t *a = NULL;
    memset(out, 0, sizeof *out);
    int rc = rpc_call(W.ch, "tables", NULL, -1, &a, err);
    if (rc) return rc;
    json_t *arr = json_object_get(a, "tables");
    size_t n = json_array_size(arr);
    out->items = n ? calloc(n, sizeof *out->items) : NULL;
    if (n && !out->items) rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (rec_table_from(json_array_get(arr, i), &out->items[i]) != 0) rc = ds_fail(err, DS_E_INTERNAL, "malformed answer");
        else out->count++;
    }
    json_decref(a);
    if (rc) cat_tables_free(out);
    return rc;
}

static int src_link_table(void *ud, const char *bucket_id, const char *name, char *path, size_t pathsz, cat_table *t,
                          ds_err *err) {
    (void)ud;
    json_t *a = NULL;
    int rc = rpc_call(W.ch, "link", json_pack("{s:s, s:s}", "bucket_id", bucket_id, "name", name), -1, &a, err);
    if (rc) return rc;
    if (rec_str(a, "path", path, pathsz) != 0 || rec_table_from(json_object_get(a, "table"), t) != 0)
        rc = ds_fail(err, DS_E_INTERNAL, "malformed answer");
    json_decref(a);
    return rc;
}

/* ---- requests of the main process ---- */

static int load_items(json_t *args, ws_load_item **items, int *n, ds_err *err) {
    json_t *arr = json_object_get(args, "items");
    size_t k = json_array_size(arr);
    if (!json_is_array(arr) || k == 0 || k > 1000) return ds_fail(err, DS_E_INVALID_REQUEST, "malformed load request");
    *items = calloc(k, sizeof **items);
    if (!*items) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    for (size_t i = 0; i < k; i++) {
        json_t *o = json_array_get(arr, i);
        ws_load_item *it = &(*items)[i];
        it->source = json_string_value(json_object_get(o, "source"));
        it->destination = json_string_value(json_object_get(o, "destination"));
        it->columns = json_object_get(o, "columns");
        if (json_is_null(it->columns)) it->columns = NULL; /* as absent */
        it->where = json_string_value(json_object_get(o, "where"));
        if (!it->source || (it->columns && !json_is_array(it->columns))) {
            free(*items);
            return ds_fail(err, DS_E_INVALID_REQUEST, "malformed load request");
        }
    }
    *n = (int)k;
    return 0;
}

/* Test-only (W.probes): tries one thing the sandbox must forbid or allow, from inside
 * this process, and says how it went: {"errno": 0 when it worked}. The main process
 * never sends it; the tests start a worker themselves to ask (test_workers.py). */
static json_t *probe(json_t *args, ds_err *err) {
    const char *what = json_string_value(json_object_get(args, "what"));
    const char *path = json_string_value(json_object_get(args, "path"));
    int port = (int)json_integer_value(json_object_get(args, "port"));
    int rc = -1, fd = -1;
    errno = 0;
    if (!what) {
        ds_fail(err, DS_E_INVALID_REQUEST, "probe what?");
        return NULL;
    }
    if (!strcmp(what, "read") && path) fd = open(path, O_RDONLY | O_CLOEXEC);
    else if (!strcmp(what, "write") && path) fd = open(path, O_WRONLY | O_CLOEXEC);
    else if (!strcmp(what, "create") && path) fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    else if (!strcmp(what, "tcp")) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            rc = connect(fd, (struct sockaddr *)&a, sizeof a);
            if (rc != 0) {
                int e = errno;
                close(fd);
                fd = -1;
                errno = e;
            }
        }
    } else if (!strcmp(what, "fork")) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid > 0) {
            waitpid(pid, NULL, 0);
            fd = 0; /* worked */
        }
    } else {
        ds_fail(err, DS_E_INVALID_REQUEST, "unknown probe");
        return NULL;
    }
    int e = fd >= 0 ? 0 : errno ? errno : EPERM;
    if (fd > 0) close(fd);
    return json_pack("{s:i}", "errno", e);
}

static json_t *handle(void *ud, const char *op, json_t *args, int fd, ds_err *err) {
    (void)ud;
    const char *id = json_string_value(json_object_get(args, "id"));
    if (!strcmp(op, "session")) {
        if (fd < 0) {
            ds_fail(err, DS_E_INVALID_REQUEST, "a session needs its socket");
            return NULL;
        }
        return wks_start(fd, args, err) == 0 ? json_object() : NULL;
    }
    if (fd >= 0) close(fd);
    if (!strcmp(op, "cancel")) return id && wks_cancel(id, err) == 0 ? json_object() : NULL;
    if (!strcmp(op, "sessions")) return json_pack("{s:o}", "sessions", wks_list());
    if (!strcmp(op, "size")) return json_pack("{s:I}", "size_bytes", (json_int_t)ws_size_bytes(W.inst));
    if (!strcmp(op, "objects")) {
        json_t *o = NULL;
        return ws_objects(W.inst, &o, err) == 0 ? json_pack("{s:o}", "objects", o) : NULL;
    }
    if (!strcmp(op, "clear")) return ws_clear(W.inst, err) == 0 ? json_object() : NULL;
    if (!strcmp(op, "drop")) {
        const char *name = json_string_value(json_object_get(args, "name"));
        if (!name) {
            ds_fail(err, DS_E_INVALID_REQUEST, "malformed drop request");
            return NULL;
        }
        return ws_drop_object(W.inst, name, err) == 0 ? json_object() : NULL;
    }
    if (!strcmp(op, "load")) {
        ws_load_item *items = NULL;
        int n = 0;
        if (load_items(args, &items, &n, err) != 0) return NULL;
        json_t *loaded = NULL;
        int rc = ws_load(W.inst, items, n, &loaded, err);
        free(items);
        if (rc) return NULL;
        return json_pack("{s:o, s:I}", "loaded", loaded, "size_bytes", (json_int_t)ws_size_bytes(W.inst));
    }
    if (!strcmp(op, "probe") && W.probes) return probe(args, err);
    if (!strcmp(op, "exit")) {
        stop();
        return json_object();
    }
    ds_fail(err, DS_E_INVALID_REQUEST, "unknown request \"%.64s\"", op);
    return NULL;
}

static void channel_closed(void *ud) {
    (void)ud;
    stop(); /* the main process is gone: nobody can reach this workspace any more */
}

/* ---- the open frame ---- */

static int read_settings(const json_t *o, char *why, size_t whysz) {
    char *empty[] = {NULL};
    if (config_load(&W.cfg, 0, NULL, empty, why, whysz) != 0) return -1;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (!json_is_string(v)) return snprintf(why, whysz, "setting %.64s is not a string", k), -1;
        if (config_set(&W.cfg, k, json_string_value(v), why, whysz) != 0) return -1;
    }
    return 0;
}

static const char **str_array(const json_t *a, int *n) {
    *n = 0;
    size_t k = json_array_size(a);
    const char **v = calloc(k + 1, sizeof *v);
    for (size_t i = 0; v && i < k; i++)
        if (json_is_string(json_array_get(a, i))) v[(*n)++] = json_string_value(json_array_get(a, i));
    return v;
}

/* Everything before the first thread: settings, workspace, paths, the version page,
 * the lock-down. 0, or -1 with why. */
static int setup(json_t *args, int version_fd, char *why, size_t whysz) {
    if (read_settings(json_object_get(args, "settings"), why, whysz) != 0) return -1;
    if (rec_workspace_from(json_object_get(args, "workspace"), &W.w) != 0 ||
        rec_paths_from(json_object_get(args, "paths"), &W.paths) != 0)
        return snprintf(why, whysz, "malformed open request"), -1;
    if (version_fd >= 0) {
        void *p = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, version_fd, 0);
        close(version_fd);
        if (p == MAP_FAILED) return snprintf(why, whysz, "cannot map the version page: %s", strerror(errno)), -1;
        W.version = p;
    }
    json_t *sbx = json_object_get(args, "sandbox");
    int nro = 0, nrw = 0;
    const char **ro = str_array(json_object_get(sbx, "ro"), &nro);
    const char **rw = str_array(json_object_get(sbx, "rw"), &nrw);
    if (!ro || !rw) {
        free(ro);
        free(rw);
        return snprintf(why, whysz, "out of memory"), -1;
    }
    sb_spec spec = {
        .ro_paths = ro,
        .n_ro = nro,
        .rw_paths = rw,
        .n_rw = nrw,
        .mem_bytes = (int64_t)json_integer_value(json_object_get(sbx, "mem_bytes")),
        .file_bytes = (int64_t)json_integer_value(json_object_get(sbx, "file_bytes")),
        .max_files = (int64_t)json_integer_value(json_object_get(sbx, "max_files")),
        .no_network = true,
        .no_spawn = true,
    };
#ifdef DS_ASAN
    /* LeakSanitizer's check at exit needs /proc and ptrace, which the sandbox takes away:
     * AddressSanitizer builds (the test suite's second run) keep leak checks in the
     * worker's code instead; the normal build runs with the sandbox, and its own unit
     * tests run under both. */
    (void)spec;
    snprintf(why, whysz, "not applied in AddressSanitizer builds");
    int rc = 0;
#else
    int rc = sb_enter(&spec, why, whysz) == 0 ? 0 : -1;
#endif
    free(ro);
    free(rw);
    return rc;
}

static void *watchdog_main(void *arg) {
    (void)arg;
    double grace = (double)W.cfg.worker_stop_grace * 1000.0;
    pthread_mutex_lock(&W.mu);
    while (!W.exiting) {
        struct timespec ts = ds_deadline(CLOCK_REALTIME, WATCH_INTERVAL_MS);
        pthread_cond_timedwait(&W.cv, &W.mu, &ts);
        if (W.exiting) break;
        pthread_mutex_unlock(&W.mu);
        char stuck[MAX_STUCK][24];
        int n = wks_watch(pgx_now_ms(), grace, stuck, MAX_STUCK);
        if (n > 0) {
            /* DuckDB does not stop it: the main process ends this worker (57014 for these
             * sessions). Told, not done here: a process that cannot stop its own thread
             * is not trusted to end itself cleanly. */
            json_t *ids = json_array();
            for (int i = 0; i < n; i++) json_array_append_new(ids, json_string(stuck[i]));
            log_warn("workspace %s: %d statement(s) still running %lld s after being interrupted", W.w.id, n,
                     (long long)W.cfg.worker_stop_grace);
            ds_err e;
            rpc_call(W.ch, "stuck", json_pack("{s:o}", "sessions", ids), -1, NULL, &e);
        }
        pthread_mutex_lock(&W.mu);
    }
    pthread_mutex_unlock(&W.mu);
    return NULL;
}

int worker_main(void) {
    signal(SIGPIPE, SIG_IGN);
    const char *pr = getenv("DUCKSPACE_TEST_PROBES");
    W.probes = pr && !strcmp(pr, "1");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    W.cores = cores > 0 ? (int)cores : 1;
    int ch = WORKER_CHANNEL_FD;
    json_t *open = NULL;
    int vfd = -1;
    if (rpc_recv_frame(ch, &open, &vfd, RPC_MAX_FRAME) != 1) {
        fprintf(stderr, "duckspace worker: no open request on descriptor %d\n", ch);
        return 2;
    }
    json_t *id = json_object_get(open, "id");
    json_t *args = json_object_get(open, "args");
    const char *op = json_string_value(json_object_get(open, "op"));
    char why[512] = ""; /* after setup: what the sandbox could not enforce ("" all) */
    int rc = !json_is_integer(id) || !op || strcmp(op, "open") != 0 ? (snprintf(why, sizeof why, "expected open"), -1)
                                                                     : setup(args, vfd, why, sizeof why);
    ds_err e;
    ds_err_clear(&e);
    if (rc == 0) {
        log_level lvl;
        if (log_parse_level(W.cfg.log_level, &lvl) == 0) log_set_level(lvl);
        ds_set_clock_offset(W.cfg.clock_offset);
        dberr_scrub_init(W.cfg.data_dir);
        char ctx[40];
        snprintf(ctx, sizeof ctx, "worker %s", W.w.id);
        log_set_context(ctx);
    } else {
        ds_fail(&e, DS_E_INTERNAL, "the workspace's worker cannot start: %s", why);
    }
    /* From here on threads may start. */
    if (rc == 0 && !(W.ch = rpc_start(ch, handle, channel_closed, NULL))) rc = ds_fail(&e, DS_E_INTERNAL, "out of memory");
    ws_source src = {.version = src_version, .table_get = src_table_get, .table_list = src_table_list,
                     .link_table = src_link_table};
    if (rc == 0) rc = ws_registry_new(&W.cfg, &src, &W.reg, &e);
    const char *compat = json_string_value(json_object_get(args, "compat"));
    if (rc == 0 && compat) ws_registry_set_compat_path(W.reg, compat);
    /* Always set: left to DuckDB, the open reads /proc/self/cgroup, which the sandbox
     * denies (sandbox.c). */
    json_t *threads = json_object_get(args, "threads");
    if (rc == 0) ws_registry_set_threads(W.reg, json_is_integer(threads) ? (int)json_integer_value(threads) : W.cores);
    if (rc == 0) rc = ws_acquire(W.reg, &W.w, &W.paths, &W.inst, &e);
    pthread_t wd;
    bool wd_started = false;
    if (rc == 0) {
        wks_init(&W.cfg, &W.w, W.inst);
        wd_started = pthread_create(&wd, NULL, watchdog_main, NULL) == 0;
    }
    /* The answer to open: with what the sandbox could not enforce here, if anything. */
    json_t *ans = rc == 0 ? json_pack("{s:I, s:{s:s}}", "re", json_integer_value(id), "ok", "sandbox", why)
                          : json_pack("{s:I, s:o}", "re", json_is_integer(id) ? json_integer_value(id) : 0, "err",
                                      rpc_err_json(&e));
    int sent = W.ch ? rpc_answer(W.ch, ans) : rpc_send_frame(ch, ans, -1);
    json_decref(ans);
    json_decref(open);
    if (rc == 0 && sent == 0) {
        pthread_mutex_lock(&W.mu);
        while (!W.exiting) pthread_cond_wait(&W.cv, &W.mu);
        pthread_mutex_unlock(&W.mu);
    }
    stop();
    if (wd_started) pthread_join(wd, NULL);
    wks_end_all("terminating connection because the workspace was closed");
    if (W.inst) ws_release(W.reg, W.inst);
    ws_registry_free(W.reg); /* closes DuckDB: a checkpoint */
    rpc_free(W.ch);
    if (!W.ch) close(ch);
    config_free(&W.cfg);
    /* A refused open was answered (the main process logs it): that is a clean end. */
    return sent == 0 ? 0 : 3;
}
