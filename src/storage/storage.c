/* storage.c - table files, generations and their publication, branches, clean-up. */
#include "storage/storage.h"

#include <dirent.h>
#include <duckdb.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dberr.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"

#define TABLE_LOCKS 64
#define HEADER_MAX (1 << 20)

/* A table file in use by a reader: kept on disk until the last reader is done. */
typedef struct pin {
    struct pin *next;
    char path[PATH_MAX];
    char alias[32];
    int refs;
    bool retired; /* superseded or dropped: unlink when refs reaches 0 */
} pin;

struct stor {
    char dir[PATH_MAX];
    char tmpdir[PATH_MAX];
    cat *cat;
    int import_threads;
    bool preserve_order;
    /* Imports of one table run one at a time (striped by name hash). */
    pthread_mutex_t table_locks[TABLE_LOCKS];
    /* Reader instance (in-memory) and pins, under mu. */
    pthread_mutex_t mu;
    duckdb_database reader;
    duckdb_connection reader_admin;
    pin *pins;
    unsigned long alias_seq;
    unsigned long spool_seq;
};

/* ---- paths ---- */

static int branch_dir(const stor *s, const char *pid, const char *bid, char *out, size_t outsz) {
    int n = *bid ? snprintf(out, outsz, "%s/project_%s_branch_%s", s->dir, pid, bid)
                 : snprintf(out, outsz, "%s/project_%s", s->dir, pid);
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

static int table_path(const stor *s, const char *pid, const char *bid, const char *bucket_id, const char *table,
                      int64_t gen, char *out, size_t outsz) {
    char base[PATH_MAX], schema[CAT_ID_MAX];
    if (branch_dir(s, pid, bid, base, sizeof base)) return -1;
    bucket_schema_name(bucket_id, schema, sizeof schema);
    int n = snprintf(out, outsz, "%s/%s/%s.g%lld.duckdb", base, schema, table, (long long)gen);
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

static int mkdir_p(const char *path) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    if (remove(path) != 0 && errno != ENOENT) log_warn("storage: cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static void rmtree(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void fsync_dir(const char *file) {
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", file);
    char *slash = strrchr(d, '/');
    if (!slash) return;
    *slash = '\0';
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Published table files are read-only on disk (mode 0444): a workspace reaches them
 * through hard links in its own directory, which DuckDB's sandbox lets it open, and a
 * hard link shares the file's inode and mode. Without write permission no open for
 * writing succeeds (DuckDB 1.4.4, probed: ATTACH read-write and COPY ... TO the file
 * fail with "Permission denied", ATTACH ... (READ_ONLY) works), as long as the process
 * cannot override file modes: main() drops those capabilities (util/privs.h). */
#define PUBLISHED_MODE 0444

/* Makes the finished generation read-only and durable: returns 0 or -1 (errno). */
static int seal_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fchmod(fd, PUBLISHED_MODE) == 0 && fsync(fd) == 0 ? 0 : -1;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* Copies src to dst (a new file) with copy_file_range; returns 0 or -1. */
static int copy_file(const char *src, const char *dst) {
    int in = open(src, O_RDONLY);
    if (in < 0) return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (out < 0) {
        close(in);
        return -1;
    }
    struct stat st;
    int rc = fstat(in, &st);
    off_t left = rc == 0 ? st.st_size : 0;
    while (rc == 0 && left > 0) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n <= 0) {
            rc = -1;
            break;
        }
        left -= n;
    }
    close(in);
    if (close(out) != 0) rc = -1;
    return rc;
}

/* ---- pins and the reader instance ---- */

static unsigned hash_str(const char *a, const char *b, const char *c, const char *d) {
    unsigned h = 2166136261u;
    const char *parts[] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
        for (const char *p = parts[i]; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
        h = (h ^ 0xff) * 16777619u;
    }
    return h;
}

static pin *pin_find(stor *s, const char *path) {
    for (pin *p = s->pins; p; p = p->next)
        if (strcmp(p->path, path) == 0) return p;
    return NULL;
}

static void reader_exec(stor *s, const char *sql) {
    duckdb_result r;
    if (duckdb_query(s->reader_admin, sql, &r) == DuckDBError)
        log_warn("storage: reader: %s", duckdb_result_error(&r));
    duckdb_destroy_result(&r);
}

/* Removes a superseded or dropped generation now, or when its last reader is done. */
static void retire(stor *s, const char *path) {
    pthread_mutex_lock(&s->mu);
    pin *p = pin_find(s, path);
    if (p) p->retired = true;
    else if (unlink(path) != 0 && errno != ENOENT) log_warn("storage: cannot remove %s: %s", path, strerror(errno));
    pthread_mutex_unlock(&s->mu);
}

int stor_read_begin(stor *s, const char *pid, const char *bid, const char *bucket_id, const char *name,
                    stor_read *out, cat_table *t, ds_err *err) {
    memset(out, 0, sizeof *out);
    /* Look up the current generation and pin it under mu: retire() takes mu too, and
     * an import commits its new generation before it retires the old one, so the
     * generation read here still exists until it is pinned. */
    pthread_mutex_lock(&s->mu);
    int rc = cat_table_get(s->cat, pid, bid, bucket_id, name, t, err);
    if (rc) {
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    if (table_path(s, t->project_id, t->branch_id, t->bucket_id, t->name, t->generation, out->path, sizeof out->path)) {
        pthread_mutex_unlock(&s->mu);
        return ds_fail(err, DS_E_INTERNAL, "path too long");
    }
    pin *p = pin_find(s, out->path);
    if (!p) {
        p = calloc(1, sizeof *p);
        if (!p) {
            pthread_mutex_unlock(&s->mu);
            out->path[0] = '\0';
            return ds_fail(err, DS_E_INTERNAL, "out of memory");
        }
        snprintf(p->path, sizeof p->path, "%s", out->path);
        snprintf(p->alias, sizeof p->alias, "r%lu", ++s->alias_seq);
        sb q;
        sb_init(&q);
        sb_append(&q, "ATTACH ");
        sb_literal(&q, p->path);
        sb_printf(&q, " AS %s (READ_ONLY)", p->alias);
        duckdb_result r;
        bool ok = !sb_failed(&q) && duckdb_query(s->reader_admin, q.data, &r) != DuckDBError;
        if (!ok) log_error("storage: cannot attach %s: %s", p->path, sb_failed(&q) ? "oom" : duckdb_result_error(&r));
        if (!sb_failed(&q)) duckdb_destroy_result(&r);
        sb_free(&q);
        if (!ok) {
            free(p);
            pthread_mutex_unlock(&s->mu);
            out->path[0] = '\0';
            return ds_fail(err, DS_E_INTERNAL, "cannot open the table's data");
        }
        p->next = s->pins;
        s->pins = p;
    }
    p->refs++;
    char schema[CAT_ID_MAX];
    bucket_schema_name(t->bucket_id, schema, sizeof schema);
    snprintf(out->relation, sizeof out->relation, "%s.\"%s\".\"%s\"", p->alias, schema, t->name);
    pthread_mutex_unlock(&s->mu);
    duckdb_connection con;
    if (duckdb_connect(s->reader, &con) == DuckDBError) {
        stor_read_end(s, out);
        return ds_fail(err, DS_E_INTERNAL, "cannot connect to the reader");
    }
    out->con = con;
    return 0;
}

void stor_read_end(stor *s, stor_read *r) {
    if (r->con) {
        duckdb_connection con = r->con;
        duckdb_disconnect(&con);
        r->con = NULL;
    }
    if (!r->path[0]) return;
    pthread_mutex_lock(&s->mu);
    pin **pp = &s->pins;
    while (*pp && strcmp((*pp)->path, r->path) != 0) pp = &(*pp)->next;
    pin *p = *pp;
    if (p && --p->refs == 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "DETACH %s", p->alias);
        reader_exec(s, sql);
        if (p->retired && unlink(p->path) != 0 && errno != ENOENT)
            log_warn("storage: cannot remove %s: %s", p->path, strerror(errno));
        *pp = p->next;
        free(p);
    }
    pthread_mutex_unlock(&s->mu);
    r->path[0] = '\0';
}

/* ---- start-up clean-up ---- */

typedef struct {
    char **items;
    size_t n, cap;
} strset;

static int strset_add(strset *set, const char *s) {
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        char **it = realloc(set->items, cap * sizeof *it);
        if (!it) return -1;
        set->items = it;
        set->cap = cap;
    }
    if (!(set->items[set->n] = strdup(s))) return -1;
    set->n++;
    return 0;
}

static bool strset_has(const strset *set, const char *s) {
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->items[i], s) == 0) return true;
    return false;
}

static void strset_free(strset *set) {
    for (size_t i = 0; i < set->n; i++) free(set->items[i]);
    free(set->items);
}

/* In a _workspaces directory: link directories and temp directories go (instances
 * rebuild them), and so do the files of workspaces the catalog no longer has. A
 * workspace's database from before each workspace had its own directory
 * (<ws>.duckdb and its WAL beside the others) moves into it. */
static int cleanup_workspaces(const char *dir, const strset *wsids) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char f[PATH_MAX], id[64];
        if (snprintf(f, sizeof f, "%s/%s", dir, de->d_name) >= (int)sizeof f) continue;
        snprintf(id, sizeof id, "%.*s", (int)strcspn(de->d_name, "."), de->d_name);
        const char *ext = de->d_name + strlen(id);
        if (!strset_has(wsids, id)) {
            rmtree(f);
            removed++;
        } else if (strcmp(ext, ".tables") == 0 || strcmp(ext, ".tmp") == 0) {
            rmtree(f);
        } else if (strcmp(ext, "") == 0) {
            char t[PATH_MAX];
            if (snprintf(t, sizeof t, "%s/tmp", f) < (int)sizeof t) rmtree(t);
        } else if (strcmp(ext, ".duckdb") == 0 || strcmp(ext, ".duckdb.wal") == 0) {
            char wd[PATH_MAX], to[PATH_MAX];
            if (snprintf(wd, sizeof wd, "%s/%s", dir, id) >= (int)sizeof wd ||
                snprintf(to, sizeof to, "%s/%s", wd, de->d_name) >= (int)sizeof to)
                continue;
            if ((mkdir(wd, 0750) == 0 || errno == EEXIST) && rename(f, to) == 0)
                log_info("storage: moved workspace %s into its own directory", id);
            else
                log_warn("storage: cannot move workspace %s into its own directory: %s", id, strerror(errno));
        }
    }
    closedir(d);
    return removed;
}

/* Removes every file under a project/branch directory that is not a published
 * generation (keep), and directories of projects and branches that no longer exist. */
static int cleanup(stor *s, ds_err *err) {
    strset keep = {0}, dirs = {0}, wsids = {0};
    int rc = 0;
    cat_workspace *wss = NULL;
    int nws = 0;
    cat_tables all = {0};
    cat_project *projects = NULL;
    int np = 0;
    if ((rc = cat_table_list_all(s->cat, &all, err))) goto out;
    if ((rc = cat_project_list(s->cat, &projects, &np, err))) goto out;
    if ((rc = cat_workspace_all(s->cat, &wss, &nws, err))) goto out;
    for (int i = 0; i < nws; i++) strset_add(&wsids, wss[i].id);
    char path[PATH_MAX];
    for (int i = 0; i < all.count; i++) {
        cat_table *t = &all.items[i];
        if (table_path(s, t->project_id, t->branch_id, t->bucket_id, t->name, t->generation, path, sizeof path) == 0 &&
            strset_add(&keep, path) != 0) {
            rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
            goto out;
        }
    }
    for (int i = 0; i < np; i++) {
        cat_branch *br = NULL;
        int nb = 0;
        if ((rc = cat_branch_list(s->cat, projects[i].id, &br, &nb, err))) goto out;
        branch_dir(s, projects[i].id, "", path, sizeof path);
        strset_add(&dirs, strrchr(path, '/') + 1);
        for (int j = 0; j < nb; j++) {
            branch_dir(s, projects[i].id, br[j].id, path, sizeof path);
            strset_add(&dirs, strrchr(path, '/') + 1);
        }
        free(br);
    }
    DIR *top = opendir(s->dir);
    if (!top) {
        rc = ds_fail(err, DS_E_INTERNAL, "cannot read data directory %s: %s", s->dir, strerror(errno));
        goto out;
    }
    struct dirent *de;
    int removed = 0, sealed = 0;
    while ((de = readdir(top))) {
        if (strncmp(de->d_name, "project_", 8) != 0) continue;
        if (snprintf(path, sizeof path, "%s/%s", s->dir, de->d_name) >= (int)sizeof path) continue;
        if (!strset_has(&dirs, de->d_name)) {
            log_info("storage: removing %s (its project or branch no longer exists)", de->d_name);
            rmtree(path);
            continue;
        }
        DIR *pd = opendir(path);
        if (!pd) continue;
        struct dirent *sd;
        while ((sd = readdir(pd))) {
            if (sd->d_name[0] == '.') continue;
            if (strcmp(sd->d_name, "_workspaces") == 0) {
                char wdir[PATH_MAX];
                if (snprintf(wdir, sizeof wdir, "%s/%s", path, sd->d_name) < (int)sizeof wdir)
                    removed += cleanup_workspaces(wdir, &wsids);
                continue;
            }
            char sdir[PATH_MAX];
            if (snprintf(sdir, sizeof sdir, "%s/%s", path, sd->d_name) >= (int)sizeof sdir) continue;
            DIR *td = opendir(sdir);
            if (!td) continue;
            struct dirent *fe;
            int kept = 0;
            while ((fe = readdir(td))) {
                if (fe->d_name[0] == '.') continue;
                char f[PATH_MAX];
                if (snprintf(f, sizeof f, "%s/%s", sdir, fe->d_name) >= (int)sizeof f) continue;
                if (strset_has(&keep, f)) {
                    kept++;
                    /* Data directories from before published files were read-only. */
                    struct stat st;
                    if (stat(f, &st) == 0 && (st.st_mode & 07777) != PUBLISHED_MODE) {
                        if (chmod(f, PUBLISHED_MODE) == 0) sealed++;
                        else log_warn("storage: cannot make %s read-only: %s", f, strerror(errno));
                    }
                    continue;
                }
                if (unlink(f) == 0) removed++;
            }
            closedir(td);
            if (!kept) rmdir(sdir);
        }
        closedir(pd);
    }
    closedir(top);
    if (removed) log_info("storage: removed %d leftover file(s) of unfinished imports", removed);
    if (sealed) log_info("storage: made %d published table file(s) read-only", sealed);
out:
    cat_tables_free(&all);
    free(projects);
    strset_free(&keep);
    strset_free(&dirs);
    strset_free(&wsids);
    free(wss);
    return rc;
}

/* ---- open / close ---- */

int stor_open(const char *data_dir, cat *c, int import_threads, bool preserve_order, stor **out, ds_err *err) {
    stor *s = calloc(1, sizeof *s);
    if (!s) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    if (!realpath(data_dir, s->dir)) {
        free(s);
        return ds_fail(err, DS_E_INTERNAL, "data directory %s: %s", data_dir, strerror(errno));
    }
    if (snprintf(s->tmpdir, sizeof s->tmpdir, "%s/tmp", s->dir) >= (int)sizeof s->tmpdir) {
        free(s);
        return ds_fail(err, DS_E_INTERNAL, "data directory path too long");
    }
    rmtree(s->tmpdir); /* spool files and DuckDB temp files of a previous run */
    if (mkdir_p(s->tmpdir) != 0) {
        int rc = ds_fail(err, DS_E_INTERNAL, "cannot create %s: %s", s->tmpdir, strerror(errno));
        free(s);
        return rc;
    }
    s->cat = c;
    s->import_threads = import_threads;
    s->preserve_order = preserve_order;
    for (int i = 0; i < TABLE_LOCKS; i++) pthread_mutex_init(&s->table_locks[i], NULL);
    pthread_mutex_init(&s->mu, NULL);
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    duckdb_set_config(cfg, "threads", "2");
    duckdb_set_config(cfg, "memory_limit", "1GB");
    char *oerr = NULL;
    if (duckdb_open_ext(NULL, &s->reader, cfg, &oerr) == DuckDBError ||
        duckdb_connect(s->reader, &s->reader_admin) == DuckDBError) {
        duckdb_destroy_config(&cfg);
        ds_fail(err, DS_E_INTERNAL, "cannot start the reader: %s", oerr ? oerr : "unknown");
        duckdb_free(oerr);
        free(s);
        return -(int)err->code;
    }
    duckdb_destroy_config(&cfg);
    int rc = cleanup(s, err);
    if (rc) {
        stor_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void stor_close(stor *s) {
    if (!s) return;
    while (s->pins) {
        pin *p = s->pins;
        s->pins = p->next;
        free(p);
    }
    duckdb_disconnect(&s->reader_admin);
    duckdb_close(&s->reader);
    for (int i = 0; i < TABLE_LOCKS; i++) pthread_mutex_destroy(&s->table_locks[i]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int stor_spool_create(stor *s, int *fd, char *path, size_t pathsz, ds_err *err) {
    pthread_mutex_lock(&s->mu);
    unsigned long seq = ++s->spool_seq;
    pthread_mutex_unlock(&s->mu);
    snprintf(path, pathsz, "%s/upload-%lu-XXXXXX", s->tmpdir, seq);
    *fd = mkstemp(path);
    if (*fd < 0) return ds_fail(err, DS_E_INTERNAL, "cannot create an upload file: %s", strerror(errno));
    return 0;
}

/* ---- import ---- */

typedef struct {
    duckdb_database db;
    duckdb_connection con;
    const stor_import_req *req; /* for the user's words in import errors */
} importer;

static int imp_open(stor *s, const char *path, importer *im, ds_err *err) {
    duckdb_config cfg;
    duckdb_create_config(&cfg);
    char threads[16];
    if (s->import_threads > 0) {
        snprintf(threads, sizeof threads, "%d", s->import_threads);
        duckdb_set_config(cfg, "threads", threads);
    }
    duckdb_set_config(cfg, "temp_directory", s->tmpdir);
    /* import_preserve_order off: rows may land in any order (a table has none, as in
     * PostgreSQL), which lets DuckDB load in parallel, about a third faster on a 10M-row
     * CSV (bench/import.sh). On by default: previews then show the file's first rows. */
    if (!s->preserve_order) duckdb_set_config(cfg, "preserve_insertion_order", "false");
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    char *oerr = NULL;
    int rc = 0;
    if (duckdb_open_ext(path, &im->db, cfg, &oerr) == DuckDBError) {
        rc = ds_fail(err, DS_E_INTERNAL, "cannot create a table file");
        log_error("storage: open %s: %s", path, oerr ? oerr : "?");
        duckdb_free(oerr);
    } else if (duckdb_connect(im->db, &im->con) == DuckDBError) {
        duckdb_close(&im->db);
        rc = ds_fail(err, DS_E_INTERNAL, "cannot connect to a table file");
    }
    duckdb_destroy_config(&cfg);
    return rc;
}

static void imp_close(importer *im) {
    duckdb_disconnect(&im->con);
    duckdb_close(&im->db);
}

/* An import failure in the user's terms: what could not be read, then DuckDB's reason
 * without the upload's path, the server's other paths (dberr_parse scrubs them), the
 * internal SQL (its "LINE 1:" excerpt) or DuckDB's advice about reader options that the
 * API does not offer ("strict_mode=false", "sample_size=-1"). The full text goes to the
 * log at debug level. Returns -DS_E_IMPORT_FAILED. */
static int import_failed(const stor_import_req *req, const char *text, ds_err *err) {
    log_debug("storage: import failed: %s", text ? text : "?");
    char raw[2048];
    snprintf(raw, sizeof raw, "%s", text ? text : "unknown error");
    if (req && req->src_path) dberr_scrub_path(raw, sizeof raw, req->src_path, "upload");
    db_error d;
    dberr_parse(raw, NULL, &d);
    static const char *const cuts[] = {"\n\n", "\nPossible fixes", "\nPossible solutions", "\nThe search space",
                                       "\n  file = "};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char *c = strstr(d.message, cuts[i]);
        if (c) *c = '\0';
    }
    /* What is left may be a few lines ("CSV Error on Line: 2", "Original Line: ..."):
     * one line, "; " between them. */
    char reason[sizeof d.message];
    size_t n = 0;
    for (const char *c = d.message; *c && n + 3 < sizeof reason; c++) {
        if (*c != '\n') reason[n++] = *c;
        else if (n > 0 && reason[n - 1] == '.') reason[n++] = ' ';
        else if (n > 0 && reason[n - 1] != ' ') reason[n++] = ';', reason[n++] = ' ';
    }
    while (n > 0 && (reason[n - 1] == ' ' || reason[n - 1] == ';' || reason[n - 1] == '.')) n--;
    reason[n] = '\0';
    const char *what;
    if (strcmp(d.type, "Constraint") == 0) what = "the data breaks a constraint of the table";
    else if (req && req->format == STOR_FMT_PARQUET)
        what = strcmp(d.type, "Invalid Input") == 0 || strcmp(d.type, "IO") == 0 ? "the file is not a valid Parquet file"
                                                                                 : "the Parquet data cannot be imported";
    else if (req && req->format == STOR_FMT_CSV) what = "the CSV data cannot be imported";
    else what = "the data cannot be imported";
    return ds_fail(err, DS_E_IMPORT_FAILED, "%s: %s", what, n ? reason : "unknown error");
}

/* Runs sql; a failure is an import error carrying DuckDB's message. With out_count the
 * first value of the first row is returned (row counts). */
static int imp_exec(importer *im, const char *sql, int64_t *out_count, ds_err *err) {
    duckdb_result r;
    int rc = 0;
    if (duckdb_query(im->con, sql, &r) == DuckDBError) {
        const char *m = duckdb_result_error(&r);
        duckdb_error_type et = duckdb_result_error_type(&r);
        rc = (et == DUCKDB_ERROR_OUT_OF_MEMORY || et == DUCKDB_ERROR_IO || et == DUCKDB_ERROR_INTERNAL ||
              et == DUCKDB_ERROR_FATAL) && strstr(m, "read_") == NULL && strstr(m, "CSV") == NULL &&
                     strstr(m, "arquet") == NULL
                 ? ds_fail(err, DS_E_INTERNAL, "storage error during import")
                 : import_failed(im->req, m, err);
        if (rc == -(int)DS_E_INTERNAL) log_error("storage: import: %s", m);
    } else if (out_count) {
        *out_count = duckdb_row_count(&r) > 0 && duckdb_column_count(&r) > 0 ? duckdb_value_int64(&r, 0, 0) : 0;
    }
    duckdb_destroy_result(&r);
    return rc;
}

typedef struct {
    json_t *cols; /* table columns [{"name","type","nullable"}] */
    sb sql;       /* read_csv columns={...} being built */
    int unknown;  /* header names not in the table */
    char unknown_name[256];
    int count;
} header_ctx;

static const char *col_type(json_t *cols, const char *name) {
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            return json_string_value(json_object_get(c, "type"));
    }
    return NULL;
}

static void header_field(void *ud, const char *name, size_t n) {
    header_ctx *h = ud;
    (void)n;
    if (!h->cols) return;
    const char *type = col_type(h->cols, name);
    if (!type) {
        if (!h->unknown++) snprintf(h->unknown_name, sizeof h->unknown_name, "%s", name);
        return;
    }
    sb_append(&h->sql, h->count++ ? ", " : "");
    sb_literal(&h->sql, name);
    sb_append(&h->sql, ": ");
    sb_literal(&h->sql, type);
}

/* The SELECT that reads the uploaded file. For CSV into a known table, the header is
 * read here and each column gets the table's type, so that values are parsed once,
 * strictly, into the right type. cols NULL: types are inferred (table creation). */
static int source_select(const stor_import_req *req, json_t *cols, sb *out, ds_err *err) {
    if (req->format == STOR_FMT_PARQUET) {
        sb_append(out, "SELECT * FROM read_parquet(");
        sb_literal(out, req->src_path);
        sb_append(out, ")");
        return 0;
    }
    sb_append(out, "SELECT * FROM read_csv(");
    sb_literal(out, req->src_path);
    sb_append(out, ", header = true, delim = ',', quote = '\"', escape = '\"'");
    {
        FILE *f = fopen(req->src_path, "rb");
        if (!f) return ds_fail(err, DS_E_INTERNAL, "cannot read the upload");
        char *buf = malloc(HEADER_MAX + 1);
        size_t n = buf ? fread(buf, 1, HEADER_MAX, f) : 0;
        fclose(f);
        if (!buf) return ds_fail(err, DS_E_INTERNAL, "out of memory");
        if (n < HEADER_MAX) buf[n++] = '\n'; /* the whole body is here: its end ends the line */
        header_ctx h = {.cols = cols};
        sb_init(&h.sql);
        int nf = stor_csv_header(buf, n, header_field, &h);
        free(buf);
        int rc = 0;
        if (nf <= 0) rc = ds_fail(err, DS_E_IMPORT_FAILED, "the CSV body has no valid header line");
        else if (!cols) {
            /* Table creation: the header is only checked; DuckDB infers the types. */
        } else if (h.unknown)
            rc = ds_fail(err, DS_E_IMPORT_FAILED, "the CSV header names column \"%s\", which the table does not have",
                         h.unknown_name);
        else {
            sb_append(out, ", auto_detect = false, columns = {");
            sb_append(out, h.sql.data ? h.sql.data : "");
            sb_append(out, "}");
        }
        sb_free(&h.sql);
        if (rc) return rc;
    }
    sb_append(out, ")");
    return 0;
}

/* "schema"."table": inside its file a table lives in its bucket's schema, so that a
 * workspace that attaches the file reaches it as schema.table through its search path
 * (duckdb-facts.md, "Two-part names across catalogs"). */
static void qualified(sb *q, const char *bucket_id, const char *table) {
    char schema[CAT_ID_MAX];
    bucket_schema_name(bucket_id, schema, sizeof schema);
    sb_ident(q, schema);
    sb_append(q, ".");
    sb_ident(q, table);
}

/* CREATE SCHEMA + CREATE TABLE from [{"name","type"}] and ["pk", ...]. */
static void create_sql(sb *q, const char *bucket_id, const char *table, json_t *cols, json_t *pk) {
    char schema[CAT_ID_MAX];
    bucket_schema_name(bucket_id, schema, sizeof schema);
    sb_append(q, "CREATE SCHEMA IF NOT EXISTS ");
    sb_ident(q, schema);
    sb_append(q, "; CREATE TABLE ");
    qualified(q, bucket_id, table);
    sb_append(q, " (");
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c) {
        if (i) sb_append(q, ", ");
        sb_ident(q, json_string_value(json_object_get(c, "name")));
        sb_append(q, " ");
        sb_append(q, json_string_value(json_object_get(c, "type"))); /* canonical: from the allow-list or DuckDB */
        if (json_is_false(json_object_get(c, "nullable"))) sb_append(q, " NOT NULL");
    }
    if (pk && json_array_size(pk) > 0) {
        sb_append(q, ", PRIMARY KEY (");
        json_array_foreach(pk, i, c) {
            if (i) sb_append(q, ", ");
            sb_ident(q, json_string_value(c));
        }
        sb_append(q, ")");
    }
    sb_append(q, ")");
}

/* Reads the table's columns back from the file: [{"name","type","nullable"}]. */
static json_t *describe(importer *im, const char *bucket_id, const char *table, ds_err *err) {
    sb q;
    sb_init(&q);
    char schema[CAT_ID_MAX];
    bucket_schema_name(bucket_id, schema, sizeof schema);
    sb_append(&q, "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = ");
    sb_literal(&q, table);
    sb_append(&q, " AND table_schema = ");
    sb_literal(&q, schema);
    sb_append(&q, " ORDER BY ordinal_position");
    duckdb_result r;
    json_t *cols = NULL;
    if (!sb_failed(&q) && duckdb_query(im->con, q.data, &r) != DuckDBError) {
        cols = json_array();
        for (idx_t i = 0; i < duckdb_row_count(&r); i++) {
            char *n = duckdb_value_varchar(&r, 0, i), *t = duckdb_value_varchar(&r, 1, i),
                 *nl = duckdb_value_varchar(&r, 2, i);
            json_array_append_new(cols, json_pack("{s:s, s:s, s:b}", "name", n ? n : "", "type", t ? t : "",
                                                  "nullable", nl && strcmp(nl, "YES") == 0));
            duckdb_free(n);
            duckdb_free(t);
            duckdb_free(nl);
        }
    } else {
        ds_fail(err, DS_E_INTERNAL, "cannot read the table's columns");
    }
    duckdb_destroy_result(&r);
    sb_free(&q);
    return cols;
}

/* Columns of the source (table creation from data), as CREATE TABLE input. */
static json_t *describe_source(importer *im, const char *select_sql, ds_err *err) {
    sb q;
    sb_init(&q);
    sb_append(&q, "DESCRIBE ");
    sb_append(&q, select_sql);
    duckdb_result r;
    json_t *cols = NULL;
    if (sb_failed(&q)) {
        ds_fail(err, DS_E_INTERNAL, "out of memory");
    } else if (duckdb_query(im->con, q.data, &r) == DuckDBError) {
        import_failed(im->req, duckdb_result_error(&r), err);
    } else {
        cols = json_array();
        for (idx_t i = 0; i < duckdb_row_count(&r); i++) {
            char *n = duckdb_value_varchar(&r, 0, i), *t = duckdb_value_varchar(&r, 1, i);
            json_array_append_new(cols, json_pack("{s:s, s:s}", "name", n ? n : "", "type", t ? t : ""));
            duckdb_free(n);
            duckdb_free(t);
        }
        if (json_array_size(cols) == 0) {
            json_decref(cols);
            cols = NULL;
            ds_fail(err, DS_E_IMPORT_FAILED, "the data has no columns");
        }
    }
    duckdb_destroy_result(&r);
    sb_free(&q);
    return cols;
}

static int check_pk(json_t *cols, json_t *pk, ds_err *err) {
    size_t i;
    json_t *p;
    json_array_foreach(pk, i, p) {
        if (!json_is_string(p) || !col_type(cols, json_string_value(p)))
            return ds_fail(err, DS_E_INVALID_REQUEST, "primary key column \"%s\" is not a column of the table",
                           json_is_string(p) ? json_string_value(p) : "?");
    }
    return 0;
}

/* Builds the new generation in tmp. cur: the table as the branch sees it (NULL on
 * create). Fills *cols_out with the final columns. */
static int build_generation(stor *s, const stor_import_req *req, const cat_table *cur, const char *cur_path,
                            const char *tmp, int64_t *imported, int64_t *rows, json_t **cols_out, json_t **pk_out,
                            ds_err *err) {
    json_t *cols = NULL, *pk = NULL;
    json_error_t je;
    importer im;
    sb q, src;
    sb_init(&q);
    sb_init(&src);
    int rc;
    if (req->mode == STOR_APPEND) {
        if (copy_file(cur_path, tmp) != 0)
            return ds_fail(err, DS_E_INTERNAL, "cannot copy the table file: %s", strerror(errno));
    }
    if ((rc = imp_open(s, tmp, &im, err))) return rc;
    im.req = req;

    if (cur) {
        cols = json_loads(cur->columns_json, 0, &je);
        pk = json_loads(cur->primary_key_json, 0, &je);
    } else if (req->format == STOR_FMT_NONE) {
        cols = json_loads(req->columns_json, 0, &je);
        pk = req->primary_key_json ? json_loads(req->primary_key_json, 0, &je) : json_array();
    } else {
        if ((rc = source_select(req, NULL, &src, err))) goto out;
        if (!(cols = describe_source(&im, src.data, err))) {
            rc = -(int)err->code;
            goto out;
        }
        pk = req->primary_key_json ? json_loads(req->primary_key_json, 0, &je) : json_array();
    }
    if (!cols || !pk) {
        rc = ds_fail(err, DS_E_INTERNAL, "bad table metadata");
        goto out;
    }
    if (!cur && (rc = check_pk(cols, pk, err))) goto out;

    if (req->mode != STOR_APPEND) {
        create_sql(&q, req->bucket_id, req->table, cols, pk);
        if ((rc = imp_exec(&im, q.data, NULL, err))) goto out;
    }
    if (req->format != STOR_FMT_NONE) {
        sb_free(&src);
        sb_init(&src);
        /* Into a known table, CSV columns take the table's types (strict parse). */
        json_t *typed = NULL;
        if (req->format == STOR_FMT_CSV) {
            if (cur) typed = cols;
        }
        if ((rc = source_select(req, typed, &src, err))) goto out;
        sb_free(&q);
        sb_init(&q);
        sb_append(&q, req->mode == STOR_APPEND && json_array_size(pk) > 0 ? "INSERT OR REPLACE INTO " : "INSERT INTO ");
        qualified(&q, req->bucket_id, req->table);
        sb_append(&q, " BY NAME ");
        sb_append(&q, src.data);
        if (sb_failed(&q)) {
            rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
            goto out;
        }
        if ((rc = imp_exec(&im, q.data, imported, err))) goto out;
    }
    sb_free(&q);
    sb_init(&q);
    sb_append(&q, "SELECT count(*) FROM ");
    qualified(&q, req->bucket_id, req->table);
    if ((rc = imp_exec(&im, q.data, rows, err))) goto out;
    if (!cur) {
        json_decref(cols);
        if (!(cols = describe(&im, req->bucket_id, req->table, err))) {
            rc = -(int)err->code;
            goto out;
        }
    }
    if ((rc = imp_exec(&im, "CHECKPOINT", NULL, err))) goto out;
out:
    imp_close(&im);
    sb_free(&q);
    sb_free(&src);
    if (rc) {
        json_decref(cols);
        json_decref(pk);
    } else {
        *cols_out = cols;
        *pk_out = pk;
    }
    return rc;
}

/* Removes dir and then its parent, each only when empty (rmdir refuses otherwise). */
static void rmdir_up(const char *dir) {
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", dir);
    if (rmdir(d) != 0) return;
    char *slash = strrchr(d, '/');
    if (slash) {
        *slash = '\0';
        rmdir(d);
    }
}

static void remove_tmp(const char *tmp) {
    char wal[PATH_MAX];
    unlink(tmp);
    snprintf(wal, sizeof wal, "%s.wal", tmp);
    unlink(wal);
}

int stor_import(stor *s, const stor_import_req *req, int64_t *imported_rows, cat_table *out, ds_err *err) {
    /* Keyed without the branch: a branch's first write copies main's file, which must
     * not be superseded by a main import meanwhile. */
    unsigned lock = hash_str(req->project_id, "", req->bucket_id, req->table) % TABLE_LOCKS;
    pthread_mutex_lock(&s->table_locks[lock]);
    cat_table cur = {0};
    bool have_cur = false;
    json_t *cols = NULL, *pk = NULL;
    char cur_path[PATH_MAX] = "", final[PATH_MAX], tmp[PATH_MAX];
    int rc = cat_table_get(s->cat, req->project_id, req->branch_id, req->bucket_id, req->table, &cur, err);
    if (rc == 0) {
        have_cur = true;
        if (req->mode == STOR_CREATE) {
            rc = ds_fail(err, DS_E_TABLE_EXISTS, "table \"%s.%s\" already exists", req->bucket_id, req->table);
            goto out;
        }
        table_path(s, cur.project_id, cur.branch_id, cur.bucket_id, cur.name, cur.generation, cur_path, sizeof cur_path);
    } else if (rc != -(int)DS_E_TABLE_NOT_FOUND || req->mode != STOR_CREATE) {
        goto out;
    }
    /* Same branch: next generation. A branch's first write of a main table: generation 1
     * of the branch's own copy (copy on write; main's file is only read). */
    bool own = have_cur && strcmp(cur.branch_id, req->branch_id) == 0;
    int64_t gen = own ? cur.generation + 1 : 1;
    if (table_path(s, req->project_id, req->branch_id, req->bucket_id, req->table, gen, final, sizeof final) ||
        snprintf(tmp, sizeof tmp, "%s.tmp", final) >= (int)sizeof tmp) {
        rc = ds_fail(err, DS_E_INVALID_REQUEST, "name too long");
        goto out;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", final);
    *strrchr(dir, '/') = '\0';
    if (mkdir_p(dir) != 0) {
        rc = ds_fail(err, DS_E_INTERNAL, "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    remove_tmp(tmp);
    int64_t imported = 0, rows = 0;
    double t0 = ds_monotonic();
    rc = build_generation(s, req, have_cur ? &cur : NULL, cur_path, tmp, &imported, &rows, &cols, &pk, err);
    /* Read-only before it is published: never writable under its final name. */
    if (rc == 0 && seal_file(tmp) != 0)
        rc = ds_fail(err, DS_E_INTERNAL, "cannot seal the table file: %s", strerror(errno));
    if (rc == 0 && rename(tmp, final) != 0) rc = ds_fail(err, DS_E_INTERNAL, "cannot publish: %s", strerror(errno));
    if (rc) {
        remove_tmp(tmp);
        rmdir_up(dir); /* only what is empty: the table's first import failed */
        goto out;
    }
    fsync_dir(final);
    struct stat st;
    cat_table nt = {0};
    snprintf(nt.project_id, sizeof nt.project_id, "%s", req->project_id);
    snprintf(nt.branch_id, sizeof nt.branch_id, "%s", req->branch_id);
    snprintf(nt.bucket_id, sizeof nt.bucket_id, "%s", req->bucket_id);
    snprintf(nt.name, sizeof nt.name, "%s", req->table);
    nt.columns_json = json_dumps(cols, JSON_COMPACT);
    nt.primary_key_json = json_dumps(pk, JSON_COMPACT);
    nt.generation = gen;
    nt.rows = rows;
    nt.size_bytes = stat(final, &st) == 0 ? (int64_t)st.st_size : 0;
    nt.updated_at = ds_now();
    nt.created_at = have_cur ? cur.created_at : nt.updated_at;
    nt.copied_at = own ? cur.copied_at : (have_cur && *req->branch_id ? nt.updated_at : 0);
    if (!nt.columns_json || !nt.primary_key_json) rc = ds_fail(err, DS_E_INTERNAL, "out of memory");
    else rc = cat_table_put(s->cat, &nt, own ? cur.generation : 0, err);
    if (rc) {
        unlink(final);
        rmdir_up(dir);
        cat_table_clear(&nt);
        goto out;
    }
    /* Published. The previous generation of this branch's row goes when unused. */
    if (own) retire(s, cur_path);
    log_info("storage: %s table %s.%s of project %s branch %s: generation %lld, %lld rows imported, %lld rows, "
             "%.2f s",
             req->mode == STOR_CREATE ? "created" : req->mode == STOR_APPEND ? "appended to" : "replaced",
             req->bucket_id, req->table, req->project_id, *req->branch_id ? req->branch_id : "main", (long long)gen,
             (long long)imported, (long long)rows, ds_monotonic() - t0);
    if (imported_rows) *imported_rows = imported;
    *out = nt;
out:
    if (rc && rc != -(int)DS_E_IMPORT_FAILED && rc != -(int)DS_E_CATALOG_UNAVAILABLE) {
        /* The project, branch or bucket may have been deleted while the import ran
         * (asked only when the catalog answers: an unreachable one says nothing). */
        cat_project p;
        cat_bucket b;
        ds_err e2;
        int prc = cat_project_get(s->cat, req->project_id, &p, &e2);
        if (prc == -(int)DS_E_PROJECT_NOT_FOUND)
            rc = ds_fail(err, DS_E_PROJECT_NOT_FOUND, "project \"%s\" was deleted", req->project_id);
        else if (prc == 0 && cat_bucket_get(s->cat, req->project_id, req->branch_id, req->bucket_id, &b, &e2) != 0 &&
                 e2.code != DS_E_CATALOG_UNAVAILABLE)
            rc = ds_fail(err, e2.code, "%s", e2.message);
    }
    json_decref(cols);
    json_decref(pk);
    cat_table_clear(&cur);
    pthread_mutex_unlock(&s->table_locks[lock]);
    return rc;
}

/* ---- drops ---- */

int stor_table_drop(stor *s, const cat_table *t, ds_err *err) {
    unsigned lock = hash_str(t->project_id, "", t->bucket_id, t->name) % TABLE_LOCKS;
    pthread_mutex_lock(&s->table_locks[lock]);
    /* Re-read under the lock: an import may have published a newer generation since
     * the caller looked. */
    cat_table cur;
    int rc = cat_table_get(s->cat, t->project_id, t->branch_id, t->bucket_id, t->name, &cur, err);
    if (rc == 0 && strcmp(cur.branch_id, t->branch_id) != 0)
        rc = ds_fail(err, DS_E_TABLE_NOT_FOUND, "table \"%s.%s\" not found", t->bucket_id, t->name);
    if (rc == 0) rc = cat_table_delete(s->cat, t->project_id, t->branch_id, t->bucket_id, t->name, err);
    if (rc == 0) {
        char path[PATH_MAX];
        if (table_path(s, cur.project_id, cur.branch_id, cur.bucket_id, cur.name, cur.generation, path, sizeof path) == 0)
            retire(s, path);
    }
    cat_table_clear(&cur);
    pthread_mutex_unlock(&s->table_locks[lock]);
    return rc;
}

int stor_bucket_drop(stor *s, const char *pid, const char *bid, const char *bucket_id, ds_err *err) {
    cat_tables l = {0};
    int rc = cat_table_list(s->cat, pid, bid, bucket_id, &l, err);
    if (rc) return rc;
    rc = cat_bucket_delete(s->cat, pid, bid, bucket_id, err);
    for (int i = 0; rc == 0 && i < l.count; i++) {
        cat_table *t = &l.items[i];
        if (strcmp(t->branch_id, bid) != 0) continue; /* inherited from main: not ours */
        char path[PATH_MAX];
        if (table_path(s, pid, bid, bucket_id, t->name, t->generation, path, sizeof path) == 0) retire(s, path);
    }
    cat_tables_free(&l);
    return rc;
}

int stor_branch_remove_files(stor *s, const char *pid, const char *bid, ds_err *err) {
    char path[PATH_MAX];
    if (!*bid || branch_dir(s, pid, bid, path, sizeof path)) return ds_fail(err, DS_E_INTERNAL, "bad branch");
    rmtree(path);
    return 0;
}

int stor_project_remove_files(stor *s, const char *pid, const char *const *branch_ids, int nbranches, ds_err *err) {
    char path[PATH_MAX];
    for (int i = 0; i < nbranches; i++) stor_branch_remove_files(s, pid, branch_ids[i], err);
    if (branch_dir(s, pid, "", path, sizeof path)) return ds_fail(err, DS_E_INTERNAL, "bad project");
    rmtree(path);
    return 0;
}

/* ---- workspace files ---- */

int stor_workspace_paths(stor *s, const char *pid, const char *bid, const char *ws_id, bool create,
                         stor_ws_paths *out, ds_err *err) {
    char base[PATH_MAX];
    if (branch_dir(s, pid, bid, base, sizeof base) ||
        snprintf(out->dir, sizeof out->dir, "%s/_workspaces/%s", base, ws_id) >= (int)sizeof out->dir)
        return ds_fail(err, DS_E_INTERNAL, "path too long");
    snprintf(out->db, sizeof out->db, "%s/%s.duckdb", out->dir, ws_id);
    snprintf(out->wal, sizeof out->wal, "%s.wal", out->db);
    snprintf(out->links, sizeof out->links, "%s.tables", out->dir);
    snprintf(out->tmp, sizeof out->tmp, "%s/tmp", out->dir);
    if (create && (mkdir_p(out->links) != 0 || mkdir_p(out->tmp) != 0))
        return ds_fail(err, DS_E_INTERNAL, "cannot create workspace directories: %s", strerror(errno));
    return 0;
}

void stor_workspace_remove(stor *s, const stor_ws_paths *p) {
    (void)s;
    rmtree(p->dir);
    rmtree(p->links);
}

void stor_workspace_drop_links(const stor_ws_paths *p) {
    DIR *d = opendir(p->links);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char f[PATH_MAX];
        if (de->d_name[0] != '.' && snprintf(f, sizeof f, "%s/%s", p->links, de->d_name) < (int)sizeof f) unlink(f);
    }
    closedir(d);
}

void stor_workspace_disk(const stor_ws_paths *p, stor_ws_disk *out) {
    struct stat st;
    memset(out, 0, sizeof *out);
    if (stat(p->db, &st) == 0) out->db = st.st_size;
    if (stat(p->wal, &st) == 0) out->wal = st.st_size;
    DIR *d = opendir(p->tmp);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char f[PATH_MAX];
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            snprintf(f, sizeof f, "%s/%s", p->tmp, de->d_name) >= (int)sizeof f)
            continue;
        if (lstat(f, &st) == 0 && S_ISREG(st.st_mode)) out->tmp += (int64_t)st.st_blocks * 512;
    }
    closedir(d);
}

int stor_link_table(stor *s, const char *pid, const char *bid, const char *bucket_id, const char *name,
                    const char *links_dir, char *out_path, size_t outsz, cat_table *t, ds_err *err) {
    char src[PATH_MAX], schema[CAT_ID_MAX];
    pthread_mutex_lock(&s->mu);
    int rc = cat_table_get(s->cat, pid, bid, bucket_id, name, t, err);
    if (rc) goto out;
    bucket_schema_name(t->bucket_id, schema, sizeof schema);
    if (table_path(s, t->project_id, t->branch_id, t->bucket_id, t->name, t->generation, src, sizeof src) ||
        snprintf(out_path, outsz, "%s/%s.%s.%s%s.g%lld.duckdb", links_dir, schema, t->name, *t->branch_id ? "b" : "m",
                 t->branch_id, (long long)t->generation) >= (int)outsz) {
        rc = ds_fail(err, DS_E_INTERNAL, "path too long");
        goto out;
    }
    if (link(src, out_path) != 0) {
        /* A link left by an earlier attach is reused only while it is still the same
         * file: the links directory is inside the workspace's sandbox, so whatever is
         * there by that name now may have been put there from SQL. */
        struct stat a, b;
        bool same = errno == EEXIST && stat(src, &a) == 0 && lstat(out_path, &b) == 0 && S_ISREG(b.st_mode) &&
                    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
        if (!same && (unlink(out_path) != 0 && errno != ENOENT)) {
            rc = ds_fail(err, DS_E_INTERNAL, "cannot replace %s: %s", out_path, strerror(errno));
        } else if (!same && link(src, out_path) != 0) {
            rc = ds_fail(err, DS_E_INTERNAL, "cannot link %s: %s", src, strerror(errno));
        }
    }
out:
    pthread_mutex_unlock(&s->mu);
    if (rc) cat_table_clear(t);
    return rc;
}
