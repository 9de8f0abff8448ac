/* bench/catalog_lookup.c — the cost of one cold login lookup in the catalog, on either backend.
 *
 *   catalog_lookup [-p] [-s USEC] duckdb:PATH USERFILE COUNT  (a stopped server's metadata.duckdb)
 *   catalog_lookup [-p] [-s USEC] CONNINFO    USERFILE COUNT  (the PostgreSQL catalog database)
 *
 * Runs the statement cat_workspace_by_username (src/catalog/catalog.c) sends on a login
 * cache miss, COUNT times, with the user names of USERFILE ("USER PASSWORD DATABASE" lines)
 * in turn, the way each backend's exec runs it:
 *   - DuckDB (src/catalog/duckdb.c): in process, threads = 1, duckdb_prepare + bind +
 *     duckdb_execute_prepared + every cell read as text, per lookup;
 *   - PostgreSQL (src/catalog/pg.c): over libpq with search_path = duckspace, one
 *     PQexecParams per lookup (Parse/Bind/Execute of an unnamed statement, one round trip),
 *     every cell copied. With -p: PQprepare once, then PQexecPrepared per lookup
 *     (Bind/Execute of a named statement: no parsing or planning per lookup), to show what
 *     the statement costs without its planning.
 * With -s USEC it sleeps USEC microseconds before each lookup (not timed): in a server a
 * cache miss comes alone, between logins that keep the CPUs busy with other work, with
 * the caches of the CPU and the backend's process cooled meanwhile — unlike lookups back
 * to back, which measure the best case.
 * Every lookup must find exactly one row. Prints one line on stdout:
 *
 *   COUNT MEAN_US P50_US P95_US CLIENT_CPU_US BACKEND_CPU_US
 *
 * wall time per lookup (mean, median, 95th percentile), this process's CPU per lookup and,
 * for PostgreSQL, the CPU of the backend serving the connection per lookup (from
 * /proc/PID/stat: clock ticks, so coarse for small COUNT; 0 for DuckDB).
 *
 * Build: cc -O2 -I$(pg_config --includedir) -I third_party/duckdb/include -o catalog_lookup \
 *          catalog_lookup.c -lpq -L third_party/duckdb/lib -lduckdb
 */
#define _POSIX_C_SOURCE 200809L
#include <duckdb.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <getopt.h>
#include <unistd.h>

/* The statement of cat_workspace_by_username (WS_COLS, WS_FROM in catalog.c), verbatim. */
static const char *lookup_sql =
    "SELECT w.id, w.project_id, w.branch_id, w.name, w.created_at, coalesce(w.expires_at, 0), w.size_limit_bytes,"
    " w.status, coalesce(c.username, ''), c.scram_verifier"
    " FROM workspaces w LEFT JOIN workspace_credentials c ON c.workspace_id = w.id WHERE c.username = $1";

static double now(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* utime + stime of a process, in seconds (-1 when unreadable). */
static double proc_cpu(long pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the name in parentheses may hold spaces */
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static char **names;
static int nnames;
static bool prepared;

static int pg_lookup(PGconn *c, const char *user) {
    Oid text = 25;
    PGresult *r = prepared ? PQexecPrepared(c, "lookup", 1, &user, NULL, NULL, 0)
                           : PQexecParams(c, lookup_sql, 1, &text, &user, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok) /* pg.c copies every cell */
        for (int col = 0; col < PQnfields(r); col++) free(strdup(PQgetvalue(r, 0, col)));
    else fprintf(stderr, "catalog_lookup: %s: %s", user, PQresultStatus(r) == PGRES_TUPLES_OK ? "no row\n" : PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

static int ddb_lookup(duckdb_connection con, const char *user) {
    duckdb_prepared_statement st;
    if (duckdb_prepare(con, lookup_sql, &st) == DuckDBError) {
        fprintf(stderr, "catalog_lookup: prepare: %s\n", duckdb_prepare_error(st));
        duckdb_destroy_prepare(&st);
        return -1;
    }
    duckdb_bind_varchar(st, 1, user);
    duckdb_result r;
    int ok = duckdb_execute_prepared(st, &r) == DuckDBSuccess && duckdb_row_count(&r) == 1;
    if (ok) /* duckdb.c reads every cell as text */
        for (idx_t col = 0; col < duckdb_column_count(&r); col++) {
            char *v = duckdb_value_varchar(&r, col, 0);
            free(strdup(v ? v : ""));
            duckdb_free(v);
        }
    else fprintf(stderr, "catalog_lookup: %s: %s\n", user, duckdb_result_error(&r) ? duckdb_result_error(&r) : "no row");
    duckdb_destroy_result(&r);
    duckdb_destroy_prepare(&st);
    return ok ? 0 : -1;
}

int main(int argc, char **argv) {
    long pause_us = 0;
    for (int o; (o = getopt(argc, argv, "ps:")) != -1;) {
        if (o == 'p') prepared = true;
        else if (o == 's') pause_us = atol(optarg);
        else return 2;
    }
    if (argc - optind != 3 || pause_us < 0 || pause_us > 1000000) {
        fprintf(stderr, "usage: %s [-p] [-s USEC] duckdb:PATH|CONNINFO USERFILE COUNT\n", argv[0]);
        return 2;
    }
    argv += optind - 1; /* argv[1..3]: TARGET USERFILE COUNT */
    long count = atol(argv[3]);
    if (count < 1) return 2;
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    char u[256], line[1024];
    int cap = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%255s", u) == 1) {
            if (nnames == cap) {
                cap = cap ? cap * 2 : 64;
                char **p = realloc(names, (size_t)cap * sizeof *p);
                if (!p) return 1;
                names = p;
            }
            names[nnames++] = strdup(u);
        }
    fclose(f);
    if (nnames == 0) return 2;

    bool is_duckdb = strncmp(argv[1], "duckdb:", 7) == 0;
    PGconn *pc = NULL;
    duckdb_database db = NULL;
    duckdb_connection con = NULL;
    long backend = 0;
    if (is_duckdb) {
        duckdb_config cfg;
        char *err = NULL;
        duckdb_create_config(&cfg);
        duckdb_set_config(cfg, "threads", "1"); /* as the server's catalog */
        duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
        duckdb_set_config(cfg, "autoload_known_extensions", "false");
        if (duckdb_open_ext(argv[1] + 7, &db, cfg, &err) == DuckDBError || duckdb_connect(db, &con) == DuckDBError) {
            fprintf(stderr, "catalog_lookup: cannot open %s: %s\n", argv[1] + 7, err ? err : "?");
            return 1;
        }
        duckdb_destroy_config(&cfg);
    } else {
        pc = PQconnectdb(argv[1]);
        if (PQstatus(pc) != CONNECTION_OK) {
            fprintf(stderr, "catalog_lookup: connection failed: %s", PQerrorMessage(pc));
            return 1;
        }
        PGresult *r = PQexec(pc, "SELECT pg_catalog.set_config('search_path', 'duckspace', false), pg_backend_pid()");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "catalog_lookup: %s", PQerrorMessage(pc));
            return 1;
        }
        backend = atol(PQgetvalue(r, 0, 1));
        PQclear(r);
        if (prepared) {
            Oid text = 25;
            r = PQprepare(pc, "lookup", lookup_sql, 1, &text);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                fprintf(stderr, "catalog_lookup: prepare: %s", PQerrorMessage(pc));
                return 1;
            }
            PQclear(r);
        }
    }
    /* a short warm-up: plans, caches and pages as on a running server */
    for (int i = 0; i < nnames && i < 200; i++)
        if ((is_duckdb ? ddb_lookup(con, names[i]) : pg_lookup(pc, names[i])) != 0) return 1;

    double *lat = malloc((size_t)count * sizeof *lat), sum = 0; /* seconds per lookup */
    if (!lat) return 1;
    double b0 = backend ? proc_cpu(backend) : 0, c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < count; i++) {
        const char *name = names[i % nnames];
        if (pause_us > 0) {
            struct timespec p = {pause_us / 1000000, pause_us % 1000000 * 1000};
            nanosleep(&p, NULL);
        }
        double a = now(CLOCK_MONOTONIC);
        if ((is_duckdb ? ddb_lookup(con, name) : pg_lookup(pc, name)) != 0) return 1;
        sum += lat[i] = now(CLOCK_MONOTONIC) - a;
    }
    double c1 = now(CLOCK_PROCESS_CPUTIME_ID), b1 = backend ? proc_cpu(backend) : 0;
    qsort(lat, (size_t)count, sizeof *lat, cmp_double);
    printf("%ld %.1f %.1f %.1f %.1f %.1f\n", count, sum / (double)count * 1e6, lat[(count - 1) / 2] * 1e6,
           lat[(size_t)((double)(count - 1) * 0.95)] * 1e6, (c1 - c0) / (double)count * 1e6,
           (b1 - b0) / (double)count * 1e6);
    if (pc) PQfinish(pc);
    if (con) duckdb_disconnect(&con);
    if (db) duckdb_close(&db);
    return 0;
}
