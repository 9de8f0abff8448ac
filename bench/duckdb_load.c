/*
 * duckdb_load: the in-process DuckDB baseline of bench/import.sh.
 *
 *   duckdb_load DBFILE CSVFILE
 *
 * Opens (creates) the DuckDB database DBFILE with the same libduckdb.so duckspace uses,
 * runs CREATE TABLE orders AS SELECT * FROM read_csv(CSVFILE, header = true) and
 * CHECKPOINT, and prints "ROWS SECONDS" (the time of those two statements) on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duckdb.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(duckdb_connection con, const char *sql, long long *count)
{
    duckdb_result r;
    if (duckdb_query(con, sql, &r) == DuckDBError) {
        fprintf(stderr, "duckdb_load: %s\n", duckdb_result_error(&r));
        duckdb_destroy_result(&r);
        return -1;
    }
    if (count)
        *count = (long long)duckdb_value_int64(&r, 0, 0);
    duckdb_destroy_result(&r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DBFILE CSVFILE\n", argv[0]);
        return 2;
    }
    /* the CSV path as a SQL string literal */
    size_t n = strlen(argv[2]);
    char *lit = malloc(2 * n + 3), *q = lit;
    if (!lit)
        return 1;
    *q++ = '\'';
    for (const char *p = argv[2]; *p; p++) {
        if (*p == '\'')
            *q++ = '\'';
        *q++ = *p;
    }
    *q++ = '\'';
    *q = '\0';
    char *sql = malloc(strlen(lit) + 128);
    if (!sql)
        return 1;
    sprintf(sql, "CREATE TABLE orders AS SELECT * FROM read_csv(%s, header = true)", lit);

    duckdb_database db;
    duckdb_connection con;
    if (duckdb_open(argv[1], &db) == DuckDBError) {
        fprintf(stderr, "duckdb_load: cannot open %s\n", argv[1]);
        return 1;
    }
    if (duckdb_connect(db, &con) == DuckDBError) {
        fprintf(stderr, "duckdb_load: cannot connect\n");
        return 1;
    }
    long long rows = 0;
    double t0 = now();
    if (run(con, sql, NULL) != 0 || run(con, "CHECKPOINT", NULL) != 0)
        return 1;
    double t1 = now();
    if (run(con, "SELECT count(*) FROM orders", &rows) != 0)
        return 1;
    printf("%lld %.3f\n", rows, t1 - t0);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    free(sql);
    free(lit);
    return 0;
}
