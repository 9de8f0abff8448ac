/* bench/pgwire_fetch.c — stream one query's result through libpq and time it.
 *
 *   pgwire_fetch CONNINFO QUERY
 *
 * Connects (the connection is not timed), sends QUERY with the simple query protocol
 * (PQsendQuery, no COPY, no cursor), switches to single-row mode (PQsetSingleRowMode: libpq
 * hands over every row as soon as it has arrived instead of collecting the whole result in
 * memory) and reads the result to the end. Every value is touched: its length is added to a
 * byte count and its first byte to a checksum, so both servers can be checked to have sent
 * the same text. Prints one line on stdout:
 *
 *   ROWS BYTES SECONDS FIRST_ROW_SECONDS CHECKSUM
 *
 * SECONDS runs from sending the query to the final result (CommandComplete); FIRST_ROW_SECONDS
 * until the first row arrived. Exit status 1 (message on stderr) on any error.
 *
 * Build: cc -O2 -I$(pg_config --includedir) -o pgwire_fetch pgwire_fetch.c -lpq
 */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CONNINFO QUERY\n", argv[0]);
        return 2;
    }
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pgwire_fetch: connection failed: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    double t0 = now(), t_first = -1;
    if (!PQsendQuery(conn, argv[2])) {
        fprintf(stderr, "pgwire_fetch: PQsendQuery: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    if (!PQsetSingleRowMode(conn)) {
        fprintf(stderr, "pgwire_fetch: PQsetSingleRowMode failed\n");
        PQfinish(conn);
        return 1;
    }
    uint64_t rows = 0, bytes = 0, checksum = 0;
    int failed = 0, results = 0;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE) {
            if (t_first < 0) t_first = now();
            int nf = PQnfields(res);
            for (int f = 0; f < nf; f++) {
                if (PQgetisnull(res, 0, f)) continue;
                int len = PQgetlength(res, 0, f);
                bytes += (uint64_t)len;
                checksum = checksum * 31 + (unsigned char)PQgetvalue(res, 0, f)[0] + (uint64_t)len;
            }
            rows++;
        } else if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            results++;
        } else {
            fprintf(stderr, "pgwire_fetch: query failed after %llu rows: %s",
                    (unsigned long long)rows, PQresultErrorMessage(res));
            failed = 1;
        }
        PQclear(res);
    }
    double t1 = now();
    PQfinish(conn);
    if (failed) return 1;
    if (results != 1) {
        fprintf(stderr, "pgwire_fetch: expected one final result, got %d\n", results);
        return 1;
    }
    printf("%llu %llu %.6f %.6f %llu\n", (unsigned long long)rows, (unsigned long long)bytes,
           t1 - t0, t_first < 0 ? t1 - t0 : t_first - t0, (unsigned long long)checksum);
    return 0;
}
