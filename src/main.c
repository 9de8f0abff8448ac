/* main.c - command line, start-up, signals and orderly shutdown. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "config.h"
#include "pgexec/compat/compat.h"
#include "control/control.h"
#include "http/http.h"
#include "storage/storage.h"
#include "pgwire/pgwire.h"
#include "util/dberr.h"
#include "util/log.h"
#include "util/proclimit.h"
#include "util/privs.h"
#include "util/timeutil.h"
#include "worker/pool.h"
#include "worker/worker.h"
#include "util/secure.h"

#include <openssl/crypto.h>
#include <pthread.h>

extern char **environ;

#define EXIT_CONFIG 2

static void usage(FILE *f) {
    fprintf(f, "duckspace %s - private PostgreSQL-compatible SQL workspaces over DuckDB\n\n"
               "Usage:\n"
               "  duckspace serve [settings]   start the server\n"
               "  duckspace catalog copy --from CATALOG --to CATALOG\n"
               "                               copy all metadata from one catalog to another (server\n"
               "                               stopped; the destination must be empty); CATALOG as the\n"
               "                               catalog setting: a metadata.duckdb path or a PostgreSQL URL\n"
               "  duckspace --help             this text\n"
               "  duckspace --version          print the version\n\n",
            DUCKSPACE_VERSION);
    config_print_help(f);
}

/* One clear line on stderr; the caller exits with EXIT_CONFIG. */
__attribute__((format(printf, 1, 2))) static int die(const char *fmt, ...) {
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "duckspace: %s\n", line);
    return EXIT_CONFIG;
}

static int mkdir_p(const char *path) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

/* The admin key: configured, or read from admin_key_file (a secret mounted by the
 * container runtime or systemd), or kept in DATA_DIR/admin.key, or generated now (then
 * written 0600 and printed once on stdout, never to the log). -1 with errno set, -2
 * when admin_key_file holds no key. */
static int admin_key(const ds_config *cfg, char *out, size_t outsz, bool *generated) {
    *generated = false;
    if (cfg->admin_key[0]) {
        snprintf(out, outsz, "%s", cfg->admin_key);
        return 0;
    }
    if (cfg->admin_key_file[0]) {
        FILE *kf = fopen(cfg->admin_key_file, "r");
        if (!kf) return -1;
        int ok = fgets(out, (int)outsz, kf) != NULL;
        fclose(kf);
        out[ok ? strcspn(out, "\r\n") : 0] = '\0';
        return out[0] ? 0 : -2;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/admin.key", cfg->data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        int ok = fgets(out, (int)outsz, f) != NULL;
        fclose(f);
        out[strcspn(out, "\r\n")] = '\0';
        if (ok && out[0]) return 0;
    }
    if (sec_new_api_key(out) != 0) return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return -1;
    dprintf(fd, "%s\n", out);
    fsync(fd);
    close(fd);
    *generated = true;
    return 0;
}

/* The data directory belongs to one catalog: DATA_DIR/catalog.id records its identity
 * at the first start. Start-up removes every project directory the catalog does not
 * know, so a server pointed at another (or a new, empty) catalog by mistake would wipe
 * the data directory: it refuses to start instead. */
static int check_catalog_id(const char *data_dir, cat *c) {
    char path[PATH_MAX], have[128] = "";
    snprintf(path, sizeof path, "%s/catalog.id", data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(have, sizeof have, f)) have[0] = '\0';
        fclose(f);
        have[strcspn(have, "\r\n")] = '\0';
        if (strcmp(have, cat_id(c)) == 0) return 0;
        return die("data directory %s belongs to another catalog (its catalog.id is \"%s\", this %s catalog's is "
                   "\"%s\"): not starting, nothing removed; use the catalog it was made with, or move the catalog "
                   "with `duckspace catalog copy`",
                   data_dir, have, cat_backend(c), cat_id(c));
    }
    if (errno != ENOENT) return die("cannot read %s: %s", path, strerror(errno));
    /* No record yet (a first start, or a data directory from before records): a data
     * directory with projects and a catalog without any is the same mistake. */
    bool has_projects = false;
    DIR *d = opendir(data_dir);
    for (struct dirent *de; d && (de = readdir(d));)
        if (strncmp(de->d_name, "project_", 8) == 0) has_projects = true;
    if (d) closedir(d);
    cat_project *ps = NULL;
    int np = 0;
    ds_err e;
    if (has_projects && cat_project_list(c, &ps, &np, &e) != 0) return die("%s", e.message);
    free(ps);
    if (has_projects && np == 0)
        return die("data directory %s holds projects but the %s catalog has none: not starting, nothing removed; "
                   "copy the catalog first (`duckspace catalog copy --from %s/metadata.duckdb --to CATALOG`)",
                   data_dir, cat_backend(c), data_dir);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/catalog.id.tmp", data_dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || dprintf(fd, "%s\n", cat_id(c)) < 0 || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
        return die("cannot write %s: %s", path, strerror(errno));
    return 0;
}

/* How long a clean stop may take at most. DuckDB cannot interrupt a statement inside
 * one function call (levenshtein of two long strings ran for minutes through
 * statement_timeout, cancel and disconnect: security re-audit); the worker running one
 * is killed worker_stop_grace seconds after it was asked to exit (worker/pool.c). This
 * is the last resort past that: the process exits at once; committed work is safe in
 * each database's WAL, as after a crash. */
#define SHUTDOWN_GRACE_S 10

static void *shutdown_deadline(void *arg) {
    (void)arg;
    struct timespec ts = {SHUTDOWN_GRACE_S, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    log_warn("statements still running %d s after the stop signal (DuckDB cannot interrupt them): exiting "
             "without waiting for them", SHUTDOWN_GRACE_S);
    _exit(0);
    return NULL;
}

static int serve(int argc, char **argv) {
    ds_config cfg;
    char err[1024];
    if (config_load(&cfg, argc, argv, environ, err, sizeof err) != 0) {
        config_free(&cfg);
        return die("%s", err);
    }
    log_level lvl;
    if (log_parse_level(cfg.log_level, &lvl) != 0) {
        int rc = die("invalid log_level \"%s\" (want debug, info, warn or error)", cfg.log_level);
        config_free(&cfg);
        return rc;
    }
    log_set_level(lvl);
    ds_set_clock_offset(cfg.clock_offset);
    int64_t mem_cap;
    int mrc = proc_limit_memory(cfg.server_memory_limit, &mem_cap); /* said once listening */
    int rc = EXIT_CONFIG;
    cat *c = NULL;
    stor *s = NULL;
    http_server *h = NULL;
    wk_pool *pool = NULL;
    pgw_server *pg = NULL;
    ctl *control = NULL;
    char key[256] = "";

    if (mkdir_p(cfg.data_dir) != 0 || access(cfg.data_dir, W_OK | X_OK) != 0) {
        die("data directory %s is not writable: %s", cfg.data_dir, strerror(errno));
        goto out;
    }
    /* One server per data directory: a second one's start-up clean-up would remove the
     * first one's imports and workspace links. The embedded catalog's file lock used to
     * say so by accident; a PostgreSQL catalog has no such lock. Kept (and never
     * inherited: workers start with only their channel) until the process ends. */
    char lock_path[PATH_MAX];
    snprintf(lock_path, sizeof lock_path, "%s/duckspace.lock", cfg.data_dir);
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) die("data directory %s is in use by another duckspace server", cfg.data_dir);
        else die("cannot lock %s: %s", lock_path, strerror(errno));
        if (lock_fd >= 0) close(lock_fd);
        goto out;
    }
    dberr_scrub_init(cfg.data_dir); /* before any thread: server paths out of client messages */
    /* Block the stop signals in every thread; main waits for them with sigwait. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    ds_err e;
    char path[PATH_MAX];
    if (cfg.catalog[0]) snprintf(path, sizeof path, "%s", cfg.catalog);
    else snprintf(path, sizeof path, "%s/metadata.duckdb", cfg.data_dir);
    if (cat_open(path, &c, &e) != 0) {
        die("%s", e.message);
        goto out;
    }
    if (check_catalog_id(cfg.data_dir, c) != 0) goto out;
    if (stor_open(cfg.data_dir, c, (int)cfg.import_threads, cfg.import_preserve_order, &s, &e) != 0) {
        die("%s", e.message);
        goto out;
    }
    bool generated;
    int krc = admin_key(&cfg, key, sizeof key, &generated);
    if (krc == -2) {
        die("admin_key_file %s holds no key (its first line is empty)", cfg.admin_key_file);
        goto out;
    }
    if (krc != 0) {
        if (cfg.admin_key_file[0]) die("cannot read admin_key_file %s: %s", cfg.admin_key_file, strerror(errno));
        else die("cannot create %s/admin.key: %s", cfg.data_dir, strerror(errno));
        goto out;
    }
    /* Workspaces run in worker processes; each attaches PostgreSQL's catalogs
     * (src/pgexec/compat/catalog.sql, built into a database at build time). */
    if (wk_pool_new(&cfg, c, s, ds_compat_db, ds_compat_db_len, &pool, &e) != 0) {
        die("%s", e.message);
        goto out;
    }
    if (!(control = ctl_new(&cfg, c, pool))) {
        die("out of memory");
        goto out;
    }
    int pg_port = 0;
    if (pgw_start(&cfg, c, pool, control, &pg, &pg_port, &e) != 0) {
        die("%s", e.message);
        goto out;
    }
    int port = 0;
    if (http_start(&cfg, c, s, control, key, &h, &port, &e) != 0) {
        die("%s", e.message);
        goto out;
    }
    if (generated) {
        /* Printed once, on stdout, never to the log. */
        printf("\nGenerated the admin API key (stored in %s/admin.key, mode 0600; shown only now):\n\n    %s\n\n"
               "Try it:\n    curl -H \"Authorization: Bearer $(cat %s/admin.key)\" http://%s:%d/projects\n\n",
               cfg.data_dir, key, cfg.data_dir, cfg.listen_address, port);
        fflush(stdout);
    }
    log_info("duckspace %s listening on http://%s:%d and postgresql://%s:%d (data in %s)", DUCKSPACE_VERSION,
             cfg.listen_address, port, cfg.listen_address, pg_port, cfg.data_dir);
    if (mrc != 0)
        log_warn("cannot limit the server's memory: %s", strerror(-mrc));
    else if (mem_cap)
        log_info("server memory limit: %lld MB", (long long)(mem_cap >> 20));
    else
        log_warn("server memory limit not applied (AddressSanitizer build)");
    int sig = 0;
    sigwait(&stop, &sig);
    log_info("received %s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    pthread_t deadline;
    if (pthread_create(&deadline, NULL, shutdown_deadline, NULL) == 0) pthread_detach(deadline);
    rc = 0;
out:
    http_stop(h);
    pgw_stop(pg);
    ctl_free(control);
    if (wk_pool_free(pool) > 0 && rc == 0) rc = 1; /* a worker failed at its exit: logged */
    stor_close(s);
    cat_close(c);
    OPENSSL_cleanse(key, sizeof key);
    config_free(&cfg);
    if (rc == 0) log_info("stopped");
    return rc;
}

/* duckspace catalog copy --from A --to B */
static int catalog_cmd(int argc, char **argv) {
    const char *from = NULL, *to = NULL;
    if (argc < 1 || strcmp(argv[0], "copy") != 0) return die("usage: duckspace catalog copy --from CATALOG --to CATALOG");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) to = argv[++i];
        else return die("catalog copy: unexpected argument \"%.100s\" (want --from CATALOG --to CATALOG)", argv[i]);
    }
    if (!from || !to || !*from || !*to) return die("usage: duckspace catalog copy --from CATALOG --to CATALOG");
    if (strcmp(from, to) == 0) return die("catalog copy: --from and --to are the same catalog");
    const char *src_file = strncmp(from, "duckdb:", 7) == 0 ? from + 7 : from;
    if (!cat_is_postgres(from) && access(src_file, R_OK) != 0)
        return die("catalog copy: cannot read %s: %s", src_file, strerror(errno)), 1;
    log_set_level(LOG_WARN);
    cat *src = NULL, *dst = NULL;
    ds_err e;
    int rc = 1;
    char summary[300];
    if (cat_open(from, &src, &e) != 0) fprintf(stderr, "duckspace: catalog copy: source: %s\n", e.message);
    else if (cat_open(to, &dst, &e) != 0) fprintf(stderr, "duckspace: catalog copy: destination: %s\n", e.message);
    else if (cat_copy(src, dst, summary, sizeof summary, &e) != 0) fprintf(stderr, "duckspace: catalog copy: %s\n", e.message);
    else {
        printf("%s\n", summary);
        rc = 0;
    }
    cat_close(dst);
    cat_close(src);
    return rc;
}

int main(int argc, char **argv) {
    /* First, before any thread exists (capabilities are per thread): a server run as
     * root must not be able to write the read-only published table files (privs.h). */
    bool held = false;
    char why[200];
    if (privs_drop_file_override(&held, why, sizeof why) != 0) {
        fprintf(stderr, "duckspace: cannot give up the file-override capabilities: %s\n", why);
        return EXIT_CONFIG;
    }
    if (why[0]) fprintf(stderr, "duckspace: warning: file-override capabilities: %s\n", why);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0)) {
        printf("duckspace %s (DuckDB 1.4.4)\n", DUCKSPACE_VERSION);
        return 0;
    }
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "worker") == 0) return worker_main(); /* started by the server */
    if (argc >= 2 && strcmp(argv[1], "catalog") == 0) return catalog_cmd(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0) {
                usage(stdout);
                return 0;
            }
        return serve(argc - 2, argv + 2);
    }
    usage(stderr);
    return EXIT_CONFIG;
}
