/* bench/catalog_login.c — new SCRAM logins, round-robin over many users, timed one by one.
 *
 *   catalog_login HOST PORT USERFILE THREADS SECONDS [PASSES]
 *
 * USERFILE has one "USER PASSWORD DATABASE [GROUP]" line per workspace. Each of THREADS threads
 * connects (libpq, sslmode=disable: a new connection with a full SCRAM-SHA-256 exchange),
 * runs SELECT 1 with the simple protocol, disconnects, and moves on to the next user:
 * thread t takes users t, t + THREADS, t + 2 THREADS, ... (mod the number of users), so
 * together the threads go round the list in order, which is what makes a login whose user
 * shares a slot of the server's login cache with another miss that cache. pgbench -C cannot
 * do this: it connects as one user.
 *
 * With SECONDS > 0 it runs for that long; with SECONDS = 0 it makes PASSES passes over the
 * list (default 1) — used to start every workspace's worker before measuring. Prints one
 * line per GROUP (in order of first appearance; "all" for lines without one) on stdout:
 *
 *   GROUP LOGINS ERRORS SECONDS MEAN_MS P50_MS P95_MS
 *
 * so that two kinds of login interleaved in one list (e.g. one that hits the login cache,
 * one that misses it) are timed under the same conditions. A login's time runs from the start of PQconnectdbParams to the end of PQfinish
 * (connection, SCRAM, startup, SELECT 1, Terminate). The first error goes to stderr;
 * the exit status is 1 when any login failed.
 *
 * Build: cc -O2 -pthread -I$(pg_config --includedir) -o catalog_login catalog_login.c -lpq
 */
#define _POSIX_C_SOURCE 200809L
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_GROUPS 8

typedef struct {
    char user[128], pass[128], db[128];
    int group;
} login_user;

static const char *host, *port;
static login_user *users;
static int nusers, nthreads, passes, ngroups;
static char groups[MAX_GROUPS][32];
static double deadline;
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static char first_error[512];

typedef struct {
    int id;
    double *lat; /* latencies in seconds */
    int *grp;    /* the group of each */
    size_t n, cap;
    long errors[MAX_GROUPS];
} thread_state;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_error(const char *what, PGconn *c) {
    pthread_mutex_lock(&err_mu);
    if (!first_error[0])
        snprintf(first_error, sizeof first_error, "%s: %.400s", what, c ? PQerrorMessage(c) : "out of memory");
    pthread_mutex_unlock(&err_mu);
}

/* One login as u: 0, or -1 (error noted). */
static int login(const login_user *u) {
    const char *keys[] = {"host", "port", "user", "password", "dbname", "sslmode", "connect_timeout", NULL};
    const char *vals[] = {host, port, u->user, u->pass, u->db, "disable", "10", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    int rc = 0;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        note_error("connect", c);
        rc = -1;
    } else {
        PGresult *r = PQexec(c, "SELECT 1");
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            note_error("SELECT 1", c);
            rc = -1;
        }
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

static void *run(void *arg) {
    thread_state *t = arg;
    long limit = deadline > 0 ? -1 : ((long)nusers * passes + nthreads - 1 - t->id) / nthreads;
    for (long k = 0, i = t->id; limit < 0 || k < limit; k++, i += nthreads) {
        if (deadline > 0 && now() >= deadline) break;
        const login_user *u = &users[i % nusers];
        double a = now();
        if (login(u) != 0) t->errors[u->group]++;
        double b = now();
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 4096;
            double *p = realloc(t->lat, cap * sizeof *p);
            int *g = realloc(t->grp, cap * sizeof *g);
            if (p) t->lat = p;
            if (g) t->grp = g;
            if (!p || !g) break;
            t->cap = cap;
        }
        t->grp[t->n] = u->group;
        t->lat[t->n++] = b - a;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: %s HOST PORT USERFILE THREADS SECONDS [PASSES]\n", argv[0]);
        return 2;
    }
    host = argv[1];
    port = argv[2];
    nthreads = atoi(argv[4]);
    double seconds = atof(argv[5]);
    passes = argc > 6 ? atoi(argv[6]) : 1;
    if (nthreads < 1 || nthreads > 256 || seconds < 0 || passes < 1) {
        fprintf(stderr, "catalog_login: bad THREADS, SECONDS or PASSES\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "r");
    if (!f) {
        perror(argv[3]);
        return 2;
    }
    int cap = 0;
    login_user u;
    char line[1024], gname[32];
    while (fgets(line, sizeof line, f)) {
        int k = sscanf(line, "%127s %127s %127s %31s", u.user, u.pass, u.db, gname);
        if (k < 3) continue;
        if (k == 3) snprintf(gname, sizeof gname, "all");
        for (u.group = 0; u.group < ngroups && strcmp(groups[u.group], gname) != 0; u.group++) {}
        if (u.group == ngroups) {
            if (ngroups == MAX_GROUPS) {
                fprintf(stderr, "catalog_login: more than %d groups\n", MAX_GROUPS);
                return 2;
            }
            snprintf(groups[ngroups++], sizeof groups[0], "%s", gname);
        }
        if (nusers == cap) {
            cap = cap ? cap * 2 : 64;
            login_user *p = realloc(users, (size_t)cap * sizeof *p);
            if (!p) return 1;
            users = p;
        }
        users[nusers++] = u;
    }
    fclose(f);
    if (nusers == 0) {
        fprintf(stderr, "catalog_login: no users in %s\n", argv[3]);
        return 2;
    }

    thread_state *ts = calloc((size_t)nthreads, sizeof *ts);
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    if (!ts || !th) return 1;
    double start = now();
    deadline = seconds > 0 ? start + seconds : 0;
    for (int i = 0; i < nthreads; i++) {
        ts[i].id = i;
        if (pthread_create(&th[i], NULL, run, &ts[i]) != 0) return 1;
    }
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    double secs = now() - start;

    size_t all_n = 0;
    long all_errors = 0;
    for (int i = 0; i < nthreads; i++) all_n += ts[i].n;
    double *lat = malloc((all_n ? all_n : 1) * sizeof *lat);
    if (!lat) return 1;
    for (int g = 0; g < ngroups; g++) {
        size_t n = 0;
        long errors = 0;
        double sum = 0;
        for (int i = 0; i < nthreads; i++) {
            errors += ts[i].errors[g];
            for (size_t j = 0; j < ts[i].n; j++)
                if (ts[i].grp[j] == g) sum += lat[n++] = ts[i].lat[j];
        }
        all_errors += errors;
        qsort(lat, n, sizeof *lat, cmp_double);
        double p50 = n ? lat[(n - 1) / 2] : 0, p95 = n ? lat[(size_t)((double)(n - 1) * 0.95)] : 0;
        printf("%s %zu %ld %.3f %.3f %.3f %.3f\n", groups[g], n, errors, secs, n ? sum / (double)n * 1e3 : 0,
               p50 * 1e3, p95 * 1e3);
    }
    if (all_errors)
        fprintf(stderr, "catalog_login: %ld of %zu logins failed; first: %s", all_errors, all_n, first_error);
    return all_errors ? 1 : 0;
}
