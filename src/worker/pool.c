/* pool.c - worker processes from the main process's side (pool.h): start, open,
 * requests both ways, idle close, expiry, deletion, and noticing a worker's end. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/timeutil.h"
#include "worker/pool.h"
#include "worker/records.h"
#include "worker/rpc.h"
#include "worker/worker.h"

extern char **environ;

#define MAX_STUCK 16

struct wk_worker {
    wk_pool *pool;
    wk_worker *next; /* pool->list (live) or pool->corpses (dead), under pool->mu */
    cat_workspace w;
    stor_ws_paths paths;
    pid_t pid;
    rpc *ch;
    /* Under pool->mu: */
    int refcount;
    double idle_since;
    bool ready;    /* its answer to open came */
    bool dead;     /* its channel closed and the process was reaped */
    bool doomed;   /* the workspace is being deleted */
    bool stopping; /* asked to exit, or killed, by this process */
    int status;    /* waitpid's */
    char stuck[MAX_STUCK][24]; /* sessions whose statement would not stop */
    int nstuck;
};

struct wk_pool {
    const ds_config *cfg;
    cat *cat;
    stor *stor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wk_worker *list, *corpses;
    pthread_t supervisor;
    bool supervisor_started, stopping;
    wk_gone_fn gone;
    void *gone_ud;
    char compat_path[4200];
    int version_fd; /* the page with the catalog version, shared read-only with workers */
    _Atomic uint64_t *version;
    int threads_total;
    atomic_bool sandbox_noted; /* what the sandbox cannot enforce here was logged */
    atomic_int failed_exits;   /* workers asked to exit that exited non-zero */
};

/* ---- the compat catalog file and the version page ---- */

static int write_compat(wk_pool *p, const void *db, size_t len, ds_err *err) {
    char path[4200];
    int fd;
    int rc = stor_spool_create(p->stor, &fd, path, sizeof path - 16, err);
    if (rc) return rc;
    close(fd);
    unlink(path);
    strcat(path, ".duckdb"); /* unique: the spool name was */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return ds_fail(err, DS_E_INTERNAL, "cannot write the compat catalog");
    const char *b = db;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, b + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            unlink(path);
            return ds_fail(err, DS_E_INTERNAL, "cannot write the compat catalog");
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        unlink(path);
        return ds_fail(err, DS_E_INTERNAL, "cannot write the compat catalog");
    }
    snprintf(p->compat_path, sizeof p->compat_path, "%s", path);
    return 0;
}

/* A memfd page: this process writes the catalog version there (cat_set_version_mirror);
 * sealed against new writable mappings, so a worker can only map it read-only. */
static int version_page(wk_pool *p, ds_err *err) {
    p->version_fd = memfd_create("duckspace-catalog-version", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (p->version_fd < 0 || ftruncate(p->version_fd, 4096) != 0)
        return ds_fail(err, DS_E_INTERNAL, "cannot make the catalog version page: %s", strerror(errno));
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, p->version_fd, 0);
    if (m == MAP_FAILED) return ds_fail(err, DS_E_INTERNAL, "cannot map the catalog version page: %s", strerror(errno));
    if (fcntl(p->version_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) != 0)
        log_warn("workers: cannot seal the catalog version page: %s", strerror(errno));
    p->version = m;
    cat_set_version_mirror(p->cat, p->version);
    return 0;
}

/* ---- requests from a worker: about its own workspace only ---- */

static json_t *handle(void *ud, const char *op, json_t *args, int fd, ds_err *err) {
    wk_worker *k = ud;
    wk_pool *p = k->pool;
    if (fd >= 0) close(fd); /* a worker passes no descriptors */
    char bucket[CAT_ID_MAX], name[DS_NAME_MAX + 1];
    bool named = rec_str(args, "bucket_id", bucket, sizeof bucket) == 0 && rec_str(args, "name", name, sizeof name) == 0;
    if (!strcmp(op, "tables")) {
        cat_tables l = {0};
        if (cat_table_list(p->cat, k->w.project_id, k->w.branch_id, NULL, &l, err) != 0) return NULL;
        json_t *arr = json_array();
        for (int i = 0; i < l.count; i++) json_array_append_new(arr, rec_table_json(&l.items[i]));
        cat_tables_free(&l);
        return json_pack("{s:o}", "tables", arr);
    }
    if (!strcmp(op, "table") && named) {
        cat_table t;
        if (cat_table_get(p->cat, k->w.project_id, k->w.branch_id, bucket, name, &t, err) != 0) return NULL;
        json_t *o = json_pack("{s:o}", "table", rec_table_json(&t));
        cat_table_clear(&t);
        return o;
    }
    if (!strcmp(op, "link") && named) {
        char path[8400];
        cat_table t;
        if (stor_link_table(p->stor, k->w.project_id, k->w.branch_id, bucket, name, k->paths.links, path, sizeof path, &t,
                            err) != 0)
            return NULL;
        json_t *o = json_pack("{s:s, s:o}", "path", path, "table", rec_table_json(&t));
        cat_table_clear(&t);
        return o;
    }
    if (!strcmp(op, "stuck")) {
        json_t *ids = json_object_get(args, "sessions");
        size_t i;
        json_t *v;
        pthread_mutex_lock(&p->mu);
        json_array_foreach(ids, i, v) {
            if (k->nstuck < MAX_STUCK && json_is_string(v) && json_string_length(v) < 24)
                snprintf(k->stuck[k->nstuck++], 24, "%s", json_string_value(v));
        }
        k->stopping = true;
        pthread_mutex_unlock(&p->mu);
        log_warn("workspace %s: a statement did not stop %lld s after its cancel or timeout: ending its worker "
                 "(pid %d)", k->w.id, (long long)p->cfg->worker_stop_grace, (int)k->pid);
        kill(k->pid, SIGKILL);
        return json_object();
    }
    ds_fail(err, DS_E_INVALID_REQUEST, "unknown request");
    return NULL;
}

/* ---- a worker's end ---- */

static void describe_end(const wk_worker *k, char *buf, size_t n) {
    int st = k->status;
    if (WIFEXITED(st)) snprintf(buf, n, "exited with status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(buf, n, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    else snprintf(buf, n, "ended");
}

/* Its channel closed (on the channel's reader thread): reaps the process. A worker
 * closes its channel only when it exits, so waiting is short; one that lingers is
 * killed. */
static void on_closed(void *ud) {
    wk_worker *k = ud;
    wk_pool *p = k->pool;
    int st = 0;
    double deadline = ds_monotonic() + 2.0;
    pid_t r;
    while ((r = waitpid(k->pid, &st, WNOHANG)) == 0 && ds_monotonic() < deadline) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (r == 0) {
        kill(k->pid, SIGKILL);
        r = waitpid(k->pid, &st, 0);
    }
    /* The links kept table generations alive for it; a new worker links afresh. */
    stor_workspace_drop_links(&k->paths);
    pthread_mutex_lock(&p->mu);
    k->status = st;
    k->dead = true;
    for (wk_worker **pp = &p->list; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            k->next = p->corpses;
            p->corpses = k;
            break;
        }
    bool expected = k->stopping && k->nstuck == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    bool failed = k->stopping && k->nstuck == 0 && WIFEXITED(st) && WEXITSTATUS(st) != 0;
    if (failed) atomic_fetch_add(&p->failed_exits, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    char how[120];
    describe_end(k, how, sizeof how);
    if (expected) log_debug("workspace %s: its worker (pid %d) %s", k->w.id, (int)k->pid, how);
    else if (failed) log_error("workspace %s: its worker (pid %d), asked to exit, %s", k->w.id, (int)k->pid, how);
    else log_warn("workspace %s: its worker (pid %d) %s; its sessions were ended", k->w.id, (int)k->pid, how);
}

bool wk_gone_reason(wk_worker *k, const char *id, char sqlstate[6], char *message, size_t msgsz, int wait_ms) {
    wk_pool *p = k->pool;
    struct timespec ts = ds_deadline(CLOCK_MONOTONIC, wait_ms);
    pthread_mutex_lock(&p->mu);
    while (!k->dead && pthread_cond_timedwait(&p->cv, &p->mu, &ts) == 0) {
    }
    bool dead = k->dead;
    bool mine = false;
    for (int i = 0; i < k->nstuck; i++) mine |= !strcmp(k->stuck[i], id);
    int nstuck = k->nstuck, st = k->status;
    bool asked = k->stopping;
    pthread_mutex_unlock(&p->mu);
    if (!dead) return false;
    char how[120];
    describe_end(k, how, sizeof how);
    if (mine) {
        snprintf(sqlstate, 6, "57014");
        snprintf(message, msgsz, "canceling statement: it did not stop within %lld s of its cancel or timeout, so "
                 "the workspace's worker process was ended", (long long)p->cfg->worker_stop_grace);
    } else if (nstuck > 0) {
        snprintf(sqlstate, 6, "57P01");
        snprintf(message, msgsz, "terminating connection because the workspace's worker process was ended (a "
                 "statement of another session would not stop)");
    } else if (asked) {
        snprintf(sqlstate, 6, "57P01");
        snprintf(message, msgsz, "terminating connection because the workspace was closed");
    } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
        snprintf(sqlstate, 6, "57P01");
        snprintf(message, msgsz, "terminating connection because the workspace's worker process %s; the next "
                 "connection starts a new one", how);
    } else {
        snprintf(sqlstate, 6, "58000");
        snprintf(message, msgsz, "the workspace's worker process %s; the next connection starts a new one", how);
    }
    return true;
}

/* ---- starting ---- */

static json_t *settings_json(const ds_config *cfg) {
    json_t *o = json_object();
    const char *name;
    char val[4200];
    for (size_t i = 0; config_get(cfg, i, &name, val, sizeof val); i++) {
        /* Nothing a worker does not need; never a secret. */
        if (!strcmp(name, "admin_key") || !strcmp(name, "tls_key") || !strcmp(name, "tls_cert")) continue;
        json_object_set_new(o, name, json_string(val));
    }
    return o;
}

/* DuckDB threads of a worker that starts now: a share of worker_threads (all cores by
 * default) among the workers running, at least one. */
static int threads_share(wk_pool *p) {
    int running = 1;
    pthread_mutex_lock(&p->mu);
    for (wk_worker *k = p->list; k; k = k->next) running += !k->dead;
    pthread_mutex_unlock(&p->mu);
    int n = p->threads_total / running;
    return n < 1 ? 1 : n;
}

static json_t *open_args(wk_pool *p, wk_worker *k) {
    const ds_config *cfg = p->cfg;
    json_t *settings = settings_json(cfg);
    int threads = threads_share(p);
    /* Measured (sandbox.c): memory_limit + 512 MB ran 10 M-row sorts, groups and joins at
     * two threads; each further thread took about 256 MB more address space. */
    int64_t mem = cfg->workspace_memory_limit + cfg->worker_memory_headroom + (threads > 2 ? (threads - 2) * (256LL << 20) : 0);
    int64_t file_bytes = k->w.size_limit_bytes + cfg->workspace_size_allowance + (1LL << 30);
    if (cfg->workspace_temp_limit + (256LL << 20) > file_bytes) file_bytes = cfg->workspace_temp_limit + (256LL << 20);
    json_t *ro = json_array();
    json_array_append_new(ro, json_string(k->paths.links));
    if (p->compat_path[0]) json_array_append_new(ro, json_string(p->compat_path));
    /* Session time zones (pgexec/types/tz.c reads the system's tz database). */
    if (access("/usr/share/zoneinfo", R_OK) == 0) json_array_append_new(ro, json_string("/usr/share/zoneinfo"));
    json_t *sandbox = json_pack("{s:o, s:[s], s:I, s:I, s:I}", "ro", ro, "rw", k->paths.dir, "mem_bytes",
                                (json_int_t)mem, "file_bytes",
                                (json_int_t)file_bytes, "max_files",
                                (json_int_t)(cfg->max_attached_tables + cfg->sessions_per_workspace + 256));
    json_t *a = json_pack("{s:o, s:o, s:o, s:o}", "settings", settings, "workspace", rec_workspace_json(&k->w),
                          "paths", rec_paths_json(&k->paths), "sandbox", sandbox);
    if (a && p->compat_path[0]) json_object_set_new(a, "compat", json_string(p->compat_path));
    if (a) json_object_set_new(a, "threads", json_integer(threads));
    return a;
}

/* Starts k's process and opens the workspace in it. */
static int start(wk_pool *p, wk_worker *k, ds_err *err) {
    double t0 = ds_monotonic();
    int rc = stor_workspace_paths(p->stor, k->w.project_id, k->w.branch_id, k->w.id, true, &k->paths, err);
    if (rc) return rc;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return ds_fail(err, DS_E_INTERNAL, "cannot start the workspace's worker: %s", strerror(errno));
    int child = sv[1];
    if (child <= WORKER_CHANNEL_FD) { /* dup2 onto itself would keep close-on-exec */
        child = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
        close(sv[1]);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, child, WORKER_CHANNEL_FD);
    /* Nothing else of this process reaches the worker: no client socket, no file. */
    posix_spawn_file_actions_addclosefrom_np(&fa, WORKER_CHANNEL_FD + 1);
    char *argv[] = {"duckspace", "worker", k->w.id, NULL}; /* the id: for ps and the operator */
    int src = posix_spawn(&k->pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(child);
    if (src != 0) {
        close(sv[0]);
        return ds_fail(err, DS_E_INTERNAL, "cannot start the workspace's worker: %s", strerror(src));
    }
    k->ch = rpc_start(sv[0], handle, on_closed, k);
    if (!k->ch) {
        kill(k->pid, SIGKILL);
        waitpid(k->pid, NULL, 0);
        return ds_fail(err, DS_E_INTERNAL, "cannot start the workspace's worker");
    }
    json_t *ans = NULL;
    rc = rpc_call(k->ch, "open", open_args(p, k), p->version_fd, &ans, err);
    const char *note = json_string_value(json_object_get(ans, "sandbox"));
    if (rc == 0 && note && note[0] && !atomic_exchange(&p->sandbox_noted, true))
        log_warn("workspace workers: sandbox: %s", note);
    json_decref(ans);
    if (rc) {
        log_error("workspace %s: its worker did not open it: %s", k->w.id, err->message);
        if (err->code != DS_E_LIMIT_EXCEEDED) ds_fail(err, DS_E_INTERNAL, "the workspace cannot be opened now");
        return rc; /* the caller ends it */
    }
    log_info("workspace %s: worker started (pid %d) in %.1f ms", k->w.id, (int)k->pid, (ds_monotonic() - t0) * 1000);
    return 0;
}

/* Asks k to exit and waits for its end (SIGKILL past worker_stop_grace). pool->mu not held. */
static void end_worker(wk_pool *p, wk_worker *k) {
    pthread_mutex_lock(&p->mu);
    k->stopping = true;
    bool dead = k->dead;
    pthread_mutex_unlock(&p->mu);
    if (dead) return;
    ds_err e;
    if (k->ch && rpc_call(k->ch, "exit", NULL, -1, NULL, &e) != 0) log_debug("workspace %s: exit: %s", k->w.id, e.message);
    /* Its sessions' statements get the grace a cancel gets; then it is killed (its
     * committed work is in its WAL, replayed by the next open). */
    struct timespec ts = ds_deadline(CLOCK_MONOTONIC, (long)(p->cfg->worker_stop_grace + 1) * 1000);
    pthread_mutex_lock(&p->mu);
    while (!k->dead && pthread_cond_timedwait(&p->cv, &p->mu, &ts) == 0) {
    }
    dead = k->dead;
    pthread_mutex_unlock(&p->mu);
    if (!dead) {
        log_warn("workspace %s: its worker did not exit within %lld s: killing it", k->w.id,
                 (long long)p->cfg->worker_stop_grace + 1);
        kill(k->pid, SIGKILL);
        pthread_mutex_lock(&p->mu);
        while (!k->dead) pthread_cond_wait(&p->cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

static void free_worker(wk_worker *k) {
    rpc_free(k->ch);
    free(k);
}

int wk_acquire(wk_pool *p, const cat_workspace *w, wk_worker **out, ds_err *err) {
    pthread_mutex_lock(&p->mu);
    for (;;) {
        wk_worker *k = p->list;
        while (k && strcmp(k->w.id, w->id) != 0) k = k->next;
        if (k && k->doomed) {
            pthread_mutex_unlock(&p->mu);
            return ds_fail(err, DS_E_WORKSPACE_NOT_FOUND, "workspace \"%s\" is being deleted", w->id);
        }
        if (k && k->ready && !k->stopping) {
            k->refcount++;
            pthread_mutex_unlock(&p->mu);
            *out = k;
            return 0;
        }
        if (k) { /* starting, or on its way out: wait for either end */
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        break;
    }
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return ds_fail(err, DS_E_INTERNAL, "the server is shutting down");
    }
    wk_worker *k = calloc(1, sizeof *k);
    if (!k) {
        pthread_mutex_unlock(&p->mu);
        return ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    k->pool = p;
    k->w = *w;
    k->refcount = 1;
    k->next = p->list;
    p->list = k; /* others wait for it to be ready */
    pthread_mutex_unlock(&p->mu);
    int rc = start(p, k, err);
    pthread_mutex_lock(&p->mu);
    if (rc == 0) k->ready = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (rc) {
        if (k->ch) {
            end_worker(p, k);
        } else {
            pthread_mutex_lock(&p->mu);
            for (wk_worker **pp = &p->list; *pp; pp = &(*pp)->next)
                if (*pp == k) {
                    *pp = k->next;
                    break;
                }
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
            free(k);
            return rc;
        }
        wk_release(p, k);
        return rc;
    }
    *out = k;
    return 0;
}

void wk_hold(wk_worker *k) {
    pthread_mutex_lock(&k->pool->mu);
    k->refcount++;
    pthread_mutex_unlock(&k->pool->mu);
}

void wk_release(wk_pool *p, wk_worker *k) {
    if (!k) return;
    pthread_mutex_lock(&p->mu);
    if (--k->refcount == 0) {
        k->idle_since = ds_monotonic();
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

void wk_destroy(wk_pool *p, const cat_workspace *w) {
    pthread_mutex_lock(&p->mu);
    wk_gone_fn gone = p->gone;
    void *ud = p->gone_ud;
    pthread_mutex_unlock(&p->mu);
    if (gone) gone(ud, w->id); /* SQL sessions are told and let go */
    pthread_mutex_lock(&p->mu);
    wk_worker *k = p->list;
    while (k && strcmp(k->w.id, w->id) != 0) k = k->next;
    if (k) {
        k->doomed = true;
        while (k->refcount > 0 && !k->dead) pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    if (k) end_worker(p, k);
    stor_ws_paths paths;
    ds_err e;
    if (stor_workspace_paths(p->stor, w->project_id, w->branch_id, w->id, false, &paths, &e) == 0)
        stor_workspace_remove(p->stor, &paths);
}

int wk_reap_expired(wk_pool *p) {
    cat_workspace *ws = NULL;
    int n = 0, done = 0;
    ds_err e;
    if (cat_workspace_expired(p->cat, ds_now(), &ws, &n, &e) != 0) {
        log_error("reaper: %s", e.message);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        log_info("reaper: workspace %s of project %s expired; deleting it", ws[i].id, ws[i].project_id);
        wk_destroy(p, &ws[i]);
        if (cat_workspace_delete(p->cat, ws[i].id, &e) == 0) done++;
        else log_error("reaper: %s", e.message);
    }
    free(ws);
    return done;
}

/* ---- the supervisor: idle close, expiry, freeing ended workers ---- */

static void *supervisor_main(void *arg) {
    wk_pool *p = arg;
    double next_reap = ds_monotonic() + 1;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
        if (p->stopping) break;
        /* Ended workers nobody holds any more. */
        for (wk_worker **pp = &p->corpses; *pp;) {
            wk_worker *k = *pp;
            if (k->refcount == 0) {
                *pp = k->next;
                pthread_mutex_unlock(&p->mu);
                free_worker(k);
                pthread_mutex_lock(&p->mu);
                pp = &p->corpses; /* the list may have changed */
                continue;
            }
            pp = &k->next;
        }
        /* One idle worker per round is asked to exit. */
        double now = ds_monotonic();
        wk_worker *idle = NULL;
        for (wk_worker *k = p->list; k && !idle; k = k->next)
            if (k->ready && !k->dead && !k->stopping && !k->doomed && k->refcount == 0 &&
                now - k->idle_since >= (double)p->cfg->workspace_idle_close)
                idle = k;
        if (idle) {
            idle->refcount++; /* held while it is asked */
            pthread_mutex_unlock(&p->mu);
            log_debug("workspace %s: ending its idle worker", idle->w.id);
            end_worker(p, idle);
            pthread_mutex_lock(&p->mu);
            idle->refcount--;
        }
        if (ds_monotonic() >= next_reap) {
            next_reap = ds_monotonic() + (double)p->cfg->reaper_interval;
            pthread_mutex_unlock(&p->mu);
            wk_reap_expired(p);
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int wk_pool_new(const ds_config *cfg, cat *c, stor *s, const void *compat, size_t compat_len, wk_pool **out,
                ds_err *err) {
    wk_pool *p = calloc(1, sizeof *p);
    if (!p) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    p->cfg = cfg;
    p->cat = c;
    p->stor = s;
    p->version_fd = -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p->threads_total = cfg->worker_threads > 0 ? (int)cfg->worker_threads : cores > 0 ? (int)cores : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = version_page(p, err);
    if (rc == 0 && compat) rc = write_compat(p, compat, compat_len, err);
    if (rc == 0 && pthread_create(&p->supervisor, NULL, supervisor_main, p) != 0)
        rc = ds_fail(err, DS_E_INTERNAL, "cannot start the worker supervisor thread");
    if (rc) {
        wk_pool_free(p);
        return rc;
    }
    p->supervisor_started = true;
    *out = p;
    return 0;
}

void wk_pool_on_gone(wk_pool *p, wk_gone_fn fn, void *ud) {
    pthread_mutex_lock(&p->mu);
    p->gone = fn;
    p->gone_ud = ud;
    pthread_mutex_unlock(&p->mu);
}

int wk_pool_free(wk_pool *p) {
    if (!p) return 0;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->supervisor_started) pthread_join(p->supervisor, NULL);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        wk_worker *k = p->list;
        while (k && (!k->ready || k->dead)) k = k->next;
        pthread_mutex_unlock(&p->mu);
        if (!k) break;
        end_worker(p, k);
    }
    pthread_mutex_lock(&p->mu);
    while (p->list) pthread_cond_wait(&p->cv, &p->mu); /* workers still starting end by themselves */
    pthread_mutex_unlock(&p->mu);
    while (p->corpses) {
        wk_worker *k = p->corpses;
        p->corpses = k->next;
        free_worker(k);
    }
    if (p->version) {
        cat_set_version_mirror(p->cat, NULL);
        munmap((void *)p->version, 4096);
    }
    if (p->version_fd >= 0) close(p->version_fd);
    if (p->compat_path[0]) {
        unlink(p->compat_path);
        char wal[4300];
        snprintf(wal, sizeof wal, "%s.wal", p->compat_path);
        unlink(wal);
    }
    int failed = atomic_load(&p->failed_exits);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    return failed;
}

/* ---- operations ---- */

int64_t wk_size_bytes(wk_worker *k) {
    json_t *a = NULL;
    ds_err e;
    if (rpc_call(k->ch, "size", NULL, -1, &a, &e) != 0) return -1;
    json_t *n = json_object_get(a, "size_bytes");
    int64_t v = json_is_integer(n) ? (int64_t)json_integer_value(n) : -1;
    json_decref(a);
    return v;
}

int wk_objects(wk_worker *k, json_t **out, ds_err *err) {
    json_t *a = NULL;
    int rc = rpc_call(k->ch, "objects", NULL, -1, &a, err);
    if (rc) return rc;
    json_t *o = json_object_get(a, "objects");
    if (!json_is_array(o)) {
        json_decref(a);
        return ds_fail(err, DS_E_INTERNAL, "malformed answer from the worker");
    }
    *out = json_incref(o);
    json_decref(a);
    return 0;
}

int wk_clear(wk_worker *k, ds_err *err) { return rpc_call(k->ch, "clear", NULL, -1, NULL, err); }

int wk_drop_object(wk_worker *k, const char *name, ds_err *err) {
    return rpc_call(k->ch, "drop", json_pack("{s:s}", "name", name), -1, NULL, err);
}

int wk_load(wk_worker *k, json_t *items, json_t **loaded, int64_t *size, ds_err *err) {
    json_t *a = NULL;
    int rc = rpc_call(k->ch, "load", json_pack("{s:O}", "items", items), -1, &a, err);
    if (rc) return rc;
    json_t *l = json_object_get(a, "loaded"), *n = json_object_get(a, "size_bytes");
    if (!json_is_array(l) || !json_is_integer(n)) {
        json_decref(a);
        return ds_fail(err, DS_E_INTERNAL, "malformed answer from the worker");
    }
    *loaded = json_incref(l);
    *size = (int64_t)json_integer_value(n);
    json_decref(a);
    return 0;
}

/* ---- sessions ---- */

int wk_session_open(wk_worker *k, const wk_session_req *r, int *fd, ds_err *err) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return ds_fail(err, DS_E_INTERNAL, "cannot make the session's socket: %s", strerror(errno));
    json_t *params = json_array();
    for (int i = 0; i < r->nparams; i++) json_array_append_new(params, json_pack("[s, s]", r->keys[i], r->values[i]));
    json_t *args = json_pack("{s:s, s:s, s:s, s:i, s:i, s:o}", "id", r->id, "user", r->user, "database", r->database,
                             "pid", (int)r->pid, "secret", (int)r->secret, "params", params);
    int rc = rpc_call(k->ch, "session", args, sv[1], NULL, err);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return rc;
    }
    *fd = sv[0];
    return 0;
}

void wk_session_cancel(wk_worker *k, const char *id) {
    ds_err e;
    rpc_call(k->ch, "cancel", json_pack("{s:s}", "id", id), -1, NULL, &e);
}

json_t *wk_session_states(wk_worker *k) {
    json_t *a = NULL, *out = json_object();
    ds_err e;
    if (rpc_call(k->ch, "sessions", NULL, -1, &a, &e) != 0) return out;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(a, "sessions"), i, s) {
        const char *id = json_string_value(json_object_get(s, "id"));
        if (id) json_object_set(out, id, s);
    }
    json_decref(a);
    return out;
}
