/* Unit tests for the metadata catalog, run on both backends with the same expectations:
 * the embedded DuckDB file (a temp file per test) and, when DS_TEST_CATALOG_URL is set
 * (tests/with_pg.py; ctest unit_test_catalog_pg), PostgreSQL, where every test starts
 * from an empty catalog (schema duckspace dropped before cat_open).
 *
 * What a login reads must never be staler than the last write (credentials reset,
 * workspace, branch or project deleted); ids, compare-and-set table writes, the
 * workspace limit, listings, cascading deletes and the catalog version behave alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog/catalog.h"

#ifdef DS_TEST_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

typedef struct {
    char dir[64];
    const char *url; /* PostgreSQL conninfo / URL, or NULL: DuckDB file in dir */
    cat *c;
} fixture;

static const char *pg_url(void) {
    const char *u = getenv("DS_TEST_CATALOG_URL");
    return u && *u ? u : NULL;
}

/* Empties the PostgreSQL catalog: a test must not see the rows of the one before. */
static int pg_reset(const char *url) {
#ifdef DS_TEST_HAVE_LIBPQ
    PGconn *pc = PQconnectdb(url);
    if (PQstatus(pc) != CONNECTION_OK) {
        fprintf(stderr, "test_catalog: cannot connect to %s: %s", url, PQerrorMessage(pc));
        PQfinish(pc);
        return -1;
    }
    PGresult *r = PQexec(pc, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS duckspace CASCADE");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) fprintf(stderr, "test_catalog: DROP SCHEMA duckspace failed: %s", PQerrorMessage(pc));
    PQclear(r);
    PQfinish(pc);
    return ok ? 0 : -1;
#else
    fprintf(stderr, "test_catalog: DS_TEST_CATALOG_URL is set but this test was built without libpq\n");
    (void)url;
    return -1;
#endif
}

static int open_catalog(fixture *f, cat **out) {
    ds_err e;
    if (f->url) {
        if (cat_open(f->url, out, &e) != 0) {
            fprintf(stderr, "test_catalog: cat_open(PostgreSQL) failed: %s\n", e.message);
            return -1;
        }
        return 0;
    }
    char p[128];
    snprintf(p, sizeof p, "%s/metadata.duckdb", f->dir);
    if (cat_open(p, out, &e) != 0) {
        fprintf(stderr, "test_catalog: cat_open(%s) failed: %s\n", p, e.message);
        return -1;
    }
    return 0;
}

static int setup(void **st) {
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->url = pg_url();
    snprintf(f->dir, sizeof f->dir, "/tmp/ds-cat-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    if (f->url && pg_reset(f->url) != 0) return -1;
    if (open_catalog(f, &f->c) != 0) return -1;
    ds_err e;
    cat_project p1;
    if (cat_project_create(f->c, "p1", "one", "hash-1", &p1, &e) != 0) {
        fprintf(stderr, "test_catalog: creating project p1 failed: %s\n", e.message);
        return -1;
    }
    *st = f;
    return 0;
}

static int teardown(void **st) {
    fixture *f = *st;
    cat_close(f->c);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- helpers ---- */

#define ANY_FAILURE 1 /* want_rc: any non-zero result */

static void make_ws_full(fixture *f, const char *id, const char *pid, const char *branch, const char *username,
                         const char *verifier, int64_t created_at, int64_t expires_at, int64_t max, int want_rc) {
    cat_workspace w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "%s", id);
    snprintf(w.project_id, sizeof w.project_id, "%s", pid);
    snprintf(w.branch_id, sizeof w.branch_id, "%s", branch);
    snprintf(w.name, sizeof w.name, "%s", id);
    snprintf(w.status, sizeof w.status, "active");
    snprintf(w.username, sizeof w.username, "%s", username);
    w.size_limit_bytes = 1 << 20;
    w.created_at = created_at;
    w.expires_at = expires_at;
    ds_err e;
    int rc = cat_workspace_create(f->c, &w, verifier, max, &e);
    if (want_rc == ANY_FAILURE ? rc == 0 : rc != want_rc) fail_msg("cat_workspace_create(%s): rc %d (want %d): %s", id, rc, want_rc, e.message);
}

static void make_ws(fixture *f, const char *id, const char *branch, const char *username, const char *verifier) {
    make_ws_full(f, id, "p1", branch, username, verifier, 1000, 0, 1000, 0);
}

/* Looks the user up twice (the second from memory); both give verifier `want`, or
 * both fail when want is NULL. */
static void expect_login_on(cat *c, const char *username, const char *ws_id, const char *want) {
    for (int round = 0; round < 2; round++) {
        cat_workspace w;
        char v[256] = "";
        ds_err e;
        int rc = cat_workspace_by_username(c, username, &w, v, sizeof v, &e);
        if (!want) {
            if (rc == 0) fail_msg("login %s (round %d) found workspace %s, want none", username, round, w.id);
            continue;
        }
        if (rc != 0) fail_msg("login %s (round %d) failed: %s", username, round, e.message);
        assert_string_equal(v, want);
        assert_string_equal(w.id, ws_id);
        assert_string_equal(w.username, username);
    }
}

static void expect_login(fixture *f, const char *username, const char *ws_id, const char *want) {
    expect_login_on(f->c, username, ws_id, want);
}

static void make_project(fixture *f, const char *id, const char *hash, cat_project *out) {
    ds_err e;
    int rc = cat_project_create(f->c, id, "name", hash, out, &e);
    if (rc != 0) fail_msg("cat_project_create(%s): %s", id ? id : "(next)", e.message);
}

static void make_bucket(fixture *f, const char *pid, const char *branch, const char *id, int want_rc) {
    cat_bucket b;
    memset(&b, 0, sizeof b);
    snprintf(b.project_id, sizeof b.project_id, "%s", pid);
    snprintf(b.branch_id, sizeof b.branch_id, "%s", branch);
    snprintf(b.id, sizeof b.id, "%s", id);
    const char *dot = strstr(id, ".c-");
    snprintf(b.stage, sizeof b.stage, "%.*s", dot ? (int)(dot - id) : 2, id);
    snprintf(b.name, sizeof b.name, "%s", dot ? dot + 3 : id);
    snprintf(b.description, sizeof b.description, "bucket %s", id);
    b.created_at = 2000;
    ds_err e;
    int rc = cat_bucket_create(f->c, &b, &e);
    if (rc != want_rc) fail_msg("cat_bucket_create(%s, branch '%s'): rc %d (want %d): %s", id, branch, rc, want_rc,
                                e.message);
}

static int put_table(fixture *f, const char *pid, const char *branch, const char *bucket, const char *name,
                     int64_t generation, int64_t expect, int64_t rows) {
    cat_table t;
    memset(&t, 0, sizeof t);
    snprintf(t.project_id, sizeof t.project_id, "%s", pid);
    snprintf(t.branch_id, sizeof t.branch_id, "%s", branch);
    snprintf(t.bucket_id, sizeof t.bucket_id, "%s", bucket);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.columns_json = (char *)"[{\"name\":\"id\",\"type\":\"INTEGER\",\"nullable\":true}]";
    t.primary_key_json = (char *)"[]";
    t.generation = generation;
    t.rows = rows;
    t.size_bytes = rows * 100;
    t.created_at = 3000;
    t.updated_at = 3000 + generation;
    t.copied_at = branch[0] ? 3500 : 0;
    ds_err e;
    return cat_table_put(f->c, &t, expect, &e);
}

static int64_t table_generation(fixture *f, const char *pid, const char *branch, const char *bucket,
                                const char *name) {
    cat_table t;
    ds_err e;
    if (cat_table_get(f->c, pid, branch, bucket, name, &t, &e) != 0) return -1;
    int64_t g = t.generation;
    cat_table_clear(&t);
    return g;
}

static int ids_contain(cat_workspace *ws, int n, const char *id) {
    for (int i = 0; i < n; i++)
        if (strcmp(ws[i].id, id) == 0) return 1;
    return 0;
}

/* ---- logins (the original cases) ---- */

static void test_login_sees_new_verifier_after_reset(void **st) {
    fixture *f = *st;
    make_ws(f, "ws_a", "", "ws_a_1", "verifier-1");
    expect_login(f, "ws_a_1", "ws_a", "verifier-1");
    ds_err e;
    assert_int_equal(cat_workspace_set_verifier(f->c, "ws_a", "verifier-2", &e), 0);
    expect_login(f, "ws_a_1", "ws_a", "verifier-2");
}

static void test_login_fails_after_workspace_delete(void **st) {
    fixture *f = *st;
    make_ws(f, "ws_b", "", "ws_b_1", "vb");
    expect_login(f, "ws_b_1", "ws_b", "vb");
    ds_err e;
    assert_int_equal(cat_workspace_delete(f->c, "ws_b", &e), 0);
    expect_login(f, "ws_b_1", NULL, NULL);
}

static void test_login_fails_after_branch_and_project_delete(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    make_ws(f, "ws_c", b.id, "ws_c_1", "vc");
    make_ws(f, "ws_d", "", "ws_d_1", "vd");
    expect_login(f, "ws_c_1", "ws_c", "vc");
    expect_login(f, "ws_d_1", "ws_d", "vd");
    assert_int_equal(cat_branch_delete(f->c, "p1", b.id, &e), 0);
    expect_login(f, "ws_c_1", NULL, NULL);
    expect_login(f, "ws_d_1", "ws_d", "vd");
    assert_int_equal(cat_project_delete(f->c, "p1", &e), 0);
    expect_login(f, "ws_d_1", NULL, NULL);
}

static void test_unknown_and_similar_names_fail(void **st) {
    fixture *f = *st;
    make_ws(f, "ws_e", "", "ws_e_1", "ve");
    expect_login(f, "ws_e_1", "ws_e", "ve");
    expect_login(f, "ws_e_2", NULL, NULL);
    expect_login(f, "ws_e_1 ", NULL, NULL);
    expect_login(f, "WS_E_1", NULL, NULL);
    expect_login(f, "ws_e_%", NULL, NULL);
    expect_login(f, "", NULL, NULL);
    /* many users: entries that share a slot do not answer for each other */
    char name[48], id[24], ver[32];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "ws_m%d", i);
        snprintf(name, sizeof name, "ws_m%d_u", i);
        snprintf(ver, sizeof ver, "vm%d", i);
        make_ws(f, id, "", name, ver);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "ws_m%d", i);
        snprintf(name, sizeof name, "ws_m%d_u", i);
        snprintf(ver, sizeof ver, "vm%d", i);
        expect_login(f, name, id, ver);
    }
}

/* ---- projects ---- */

static void test_project_ids_generated_and_explicit(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_project p;
    /* the next free decimal id, counting only decimal ids ("p1" exists) */
    make_project(f, NULL, "h-a", &p);
    assert_string_equal(p.id, "1");
    assert_string_equal(p.name, "name");
    make_project(f, NULL, "h-b", &p);
    assert_string_equal(p.id, "2");
    make_project(f, "10", "h-c", &p);
    assert_string_equal(p.id, "10");
    make_project(f, NULL, "h-d", &p);
    assert_string_equal(p.id, "11"); /* after the largest, never a gap below it */
    /* an explicit id that exists, and a key hash that exists, are refused */
    assert_int_equal(cat_project_create(f->c, "1", "again", "h-new", &p, &e), -(int)DS_E_PROJECT_EXISTS);
    assert_int_not_equal(cat_project_create(f->c, "x-dup-key", "dup key", "h-a", &p, &e), 0);
    assert_int_equal(cat_project_get(f->c, "x-dup-key", &p, &e), -(int)DS_E_PROJECT_NOT_FOUND);
    assert_int_equal(cat_project_get(f->c, "1", &p, &e), 0);
    assert_string_equal(p.name, "name"); /* not replaced by the refused create */
    /* a decimal id too large for a 64-bit integer does not break generated ids */
    make_project(f, "99999999999999999999", "h-big", &p);
    make_project(f, NULL, "h-e", &p);
    assert_string_not_equal(p.id, "99999999999999999999");
    assert_string_not_equal(p.id, "1");
    assert_string_not_equal(p.id, "2");
    assert_string_not_equal(p.id, "10");
    assert_string_not_equal(p.id, "11");
    char after_big[DS_NAME_MAX + 1];
    snprintf(after_big, sizeof after_big, "%s", p.id);
    make_project(f, NULL, "h-f", &p);
    assert_string_not_equal(p.id, after_big);
    /* the list has every project once */
    cat_project *list = NULL;
    int n = 0;
    assert_int_equal(cat_project_list(f->c, &list, &n, &e), 0);
    assert_int_equal(n, 8);
    const char *want[] = {"p1", "1", "2", "10", "11", "99999999999999999999", after_big, p.id};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int seen = 0;
        for (int j = 0; j < n; j++) seen += strcmp(list[j].id, want[i]) == 0;
        if (seen != 1) fail_msg("project %s listed %d times", want[i], seen);
    }
    free(list);
    /* keys find their project */
    char id[DS_NAME_MAX + 1];
    assert_int_equal(cat_project_by_key(f->c, "h-c", id, &e), 0);
    assert_string_equal(id, "10");
    assert_int_equal(cat_project_by_key(f->c, "hash-1", id, &e), 0);
    assert_string_equal(id, "p1");
    assert_int_equal(cat_project_by_key(f->c, "h-zzz", id, &e), -(int)DS_E_UNAUTHORIZED);
    assert_int_equal(cat_project_get(f->c, "nope", &p, &e), -(int)DS_E_PROJECT_NOT_FOUND);
}

static void test_project_counts_describe_main(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    make_bucket(f, "p1", "", "in.c-a", 0);
    make_bucket(f, "p1", "", "out.c-b", 0);
    make_bucket(f, "p1", b.id, "in.c-br", 0);
    assert_int_equal(put_table(f, "p1", "", "in.c-a", "t1", 1, 0, 10), 0);
    assert_int_equal(put_table(f, "p1", "", "out.c-b", "t2", 1, 0, 5), 0);
    assert_int_equal(put_table(f, "p1", b.id, "in.c-br", "t3", 1, 0, 7), 0);
    assert_int_equal(put_table(f, "p1", b.id, "in.c-a", "t1", 2, 0, 99), 0); /* branch copy */
    cat_project p;
    assert_int_equal(cat_project_get(f->c, "p1", &p, &e), 0);
    assert_int_equal(p.bucket_count, 2);
    assert_int_equal(p.table_count, 2);
    assert_int_equal(p.size_bytes, 1500);
    int64_t n = -1;
    assert_int_equal(cat_bucket_table_count(f->c, "p1", "", "in.c-a", &n, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cat_bucket_table_count(f->c, "p1", b.id, "in.c-a", &n, &e), 0);
    assert_int_equal(n, 1); /* the branch's copy */
    assert_int_equal(cat_bucket_table_count(f->c, "p1", b.id, "out.c-b", &n, &e), 0);
    assert_int_equal(n, 0); /* main's table is not the branch's row */
}

/* ---- branches ---- */

static void test_branch_ids_and_names(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_project p2;
    make_project(f, "p2", "hash-2", &p2);
    cat_branch b1, b2, b3, bx;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "first", &b1, &e), 0);
    assert_string_equal(b1.id, "1");
    assert_string_equal(b1.name, "dev");
    assert_string_equal(b1.description, "first");
    assert_string_equal(b1.project_id, "p1");
    assert_int_equal(cat_branch_create(f->c, "p1", "dev2", NULL, &b2, &e), 0);
    assert_string_equal(b2.id, "2");
    assert_string_equal(b2.description, "");
    /* the same name in the same project is refused; in another project it is fine */
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &bx, &e), -(int)DS_E_BRANCH_EXISTS);
    assert_int_equal(cat_branch_create(f->c, "p2", "dev", "", &b3, &e), 0);
    assert_string_not_equal(b3.id, b1.id);
    assert_string_not_equal(b3.id, b2.id);
    assert_true(atoll(b3.id) > 2);
    /* ten more: listed in numeric order */
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "more%d", i);
        assert_int_equal(cat_branch_create(f->c, "p1", name, "", &bx, &e), 0);
    }
    cat_branch *list = NULL;
    int n = 0;
    assert_int_equal(cat_branch_list(f->c, "p1", &list, &n, &e), 0);
    assert_int_equal(n, 12);
    for (int i = 1; i < n; i++) {
        if (atoll(list[i - 1].id) >= atoll(list[i].id))
            fail_msg("branches out of order: %s before %s", list[i - 1].id, list[i].id);
        assert_string_equal(list[i].project_id, "p1");
    }
    free(list);
    assert_int_equal(cat_branch_list(f->c, "p2", &list, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, b3.id);
    free(list);
    assert_int_equal(cat_branch_get(f->c, "p1", b2.id, &bx, &e), 0);
    assert_string_equal(bx.name, "dev2");
    assert_int_equal(cat_branch_get(f->c, "p2", b1.id, &bx, &e), -(int)DS_E_BRANCH_NOT_FOUND);
    assert_int_equal(cat_branch_get(f->c, "p1", "999", &bx, &e), -(int)DS_E_BRANCH_NOT_FOUND);
    /* a deleted branch's name can be used again, with a new id */
    assert_int_equal(cat_branch_delete(f->c, "p1", b1.id, &e), 0);
    assert_int_equal(cat_branch_get(f->c, "p1", b1.id, &bx, &e), -(int)DS_E_BRANCH_NOT_FOUND);
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &bx, &e), 0);
    assert_string_not_equal(bx.id, b1.id);
}

/* ---- buckets and tables ---- */

static void test_bucket_rules(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    make_bucket(f, "p1", "", "in.c-main", 0);
    make_bucket(f, "p1", "", "in.c-main", -(int)DS_E_BUCKET_EXISTS);
    make_bucket(f, "p1", b.id, "in.c-main", -(int)DS_E_BUCKET_EXISTS); /* main has it */
    make_bucket(f, "p1", b.id, "out.c-br", 0);
    make_bucket(f, "p1", b.id, "out.c-br", -(int)DS_E_BUCKET_EXISTS);
    cat_bucket *list = NULL;
    int n = 0;
    assert_int_equal(cat_bucket_list(f->c, "p1", "", &list, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, "in.c-main");
    assert_string_equal(list[0].stage, "in");
    assert_string_equal(list[0].name, "main");
    assert_string_equal(list[0].description, "bucket in.c-main");
    assert_int_equal(list[0].created_at, 2000);
    free(list);
    assert_int_equal(cat_bucket_list(f->c, "p1", b.id, &list, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "in.c-main");
    assert_string_equal(list[0].branch_id, "");
    assert_string_equal(list[1].id, "out.c-br");
    assert_string_equal(list[1].branch_id, b.id);
    free(list);
    cat_bucket one;
    assert_int_equal(cat_bucket_get(f->c, "p1", b.id, "in.c-main", &one, &e), 0);
    assert_string_equal(one.branch_id, "");
    assert_int_equal(cat_bucket_get(f->c, "p1", "", "out.c-br", &one, &e), -(int)DS_E_BUCKET_NOT_FOUND);
    assert_int_equal(cat_bucket_get(f->c, "p1", "", "in.c-nope", &one, &e), -(int)DS_E_BUCKET_NOT_FOUND);
    /* deleting a bucket deletes its tables */
    assert_int_equal(put_table(f, "p1", "", "in.c-main", "t", 1, 0, 1), 0);
    assert_int_equal(cat_bucket_delete(f->c, "p1", "", "in.c-main", &e), 0);
    cat_tables all = {0};
    assert_int_equal(cat_table_list_all(f->c, &all, &e), 0);
    assert_int_equal(all.count, 0);
    cat_tables_free(&all);
    make_bucket(f, "p1", "", "in.c-main", 0); /* and the id is free again */
    assert_int_equal(table_generation(f, "p1", "", "in.c-main", "t"), -1);
}

static void test_table_put_compare_and_set(void **st) {
    fixture *f = *st;
    ds_err e;
    make_bucket(f, "p1", "", "in.c-s", 0);
    /* 0: must not exist */
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 1, 0, 10), 0);
    assert_int_equal(table_generation(f, "p1", "", "in.c-s", "t"), 1);
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 1, 0, 10), -(int)DS_E_TABLE_EXISTS);
    /* a stale generation fails (table_changed: another import won) and leaves the row alone */
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 2, 5, 20), -(int)DS_E_TABLE_CHANGED);
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 2, 2, 20), -(int)DS_E_TABLE_CHANGED);
    assert_int_equal(table_generation(f, "p1", "", "in.c-s", "t"), 1);
    /* the right one succeeds, once */
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 2, 1, 20), 0);
    assert_int_equal(table_generation(f, "p1", "", "in.c-s", "t"), 2);
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 3, 1, 30), -(int)DS_E_TABLE_CHANGED);
    assert_int_equal(table_generation(f, "p1", "", "in.c-s", "t"), 2);
    /* a positive expectation on a row that does not exist fails too */
    assert_int_not_equal(put_table(f, "p1", "", "in.c-s", "nope", 2, 1, 1), 0);
    assert_int_equal(table_generation(f, "p1", "", "in.c-s", "nope"), -1);
    /* -1: unconditional */
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 7, -1, 70), 0);
    cat_table t;
    assert_int_equal(cat_table_get(f->c, "p1", "", "in.c-s", "t", &t, &e), 0);
    assert_int_equal(t.generation, 7);
    assert_int_equal(t.rows, 70);
    assert_int_equal(t.size_bytes, 7000);
    assert_int_equal(t.created_at, 3000);
    assert_int_equal(t.updated_at, 3007);
    assert_int_equal(t.copied_at, 0);
    assert_string_equal(t.columns_json, "[{\"name\":\"id\",\"type\":\"INTEGER\",\"nullable\":true}]");
    assert_string_equal(t.primary_key_json, "[]");
    cat_table_clear(&t);
    /* a table needs its project, branch and bucket */
    assert_int_equal(put_table(f, "p1", "", "in.c-none", "t", 1, 0, 1), -(int)DS_E_BUCKET_NOT_FOUND);
    assert_int_equal(put_table(f, "nope", "", "in.c-s", "t", 1, 0, 1), -(int)DS_E_PROJECT_NOT_FOUND);
    assert_int_equal(put_table(f, "p1", "42", "in.c-s", "t", 1, 0, 1), -(int)DS_E_BRANCH_NOT_FOUND);
    /* delete */
    assert_int_equal(cat_table_delete(f->c, "p1", "", "in.c-s", "t", &e), 0);
    assert_int_equal(cat_table_get(f->c, "p1", "", "in.c-s", "t", &t, &e), -(int)DS_E_TABLE_NOT_FOUND);
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 1, 0, 1), 0); /* must-not-exist holds again */
}

static void test_tables_seen_from_a_branch(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    make_bucket(f, "p1", "", "in.c-s", 0);
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "a", 1, 0, 1), 0);
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "b", 1, 0, 2), 0);
    /* the branch reads main's rows until it writes its own */
    cat_table t;
    assert_int_equal(cat_table_get(f->c, "p1", b.id, "in.c-s", "a", &t, &e), 0);
    assert_string_equal(t.branch_id, "");
    cat_table_clear(&t);
    /* its first write: expect_generation 0 is about the branch's own row */
    assert_int_equal(put_table(f, "p1", b.id, "in.c-s", "a", 5, 0, 50), 0);
    assert_int_equal(cat_table_get(f->c, "p1", b.id, "in.c-s", "a", &t, &e), 0);
    assert_string_equal(t.branch_id, b.id);
    assert_int_equal(t.generation, 5);
    assert_int_equal(t.copied_at, 3500);
    cat_table_clear(&t);
    assert_int_equal(table_generation(f, "p1", "", "in.c-s", "a"), 1); /* main unchanged */
    cat_tables l = {0};
    assert_int_equal(cat_table_list(f->c, "p1", b.id, "in.c-s", &l, &e), 0);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].name, "a");
    assert_string_equal(l.items[0].branch_id, b.id);
    assert_string_equal(l.items[1].name, "b");
    assert_string_equal(l.items[1].branch_id, "");
    cat_tables_free(&l);
    assert_int_equal(cat_table_list(f->c, "p1", "", NULL, &l, &e), 0);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].branch_id, "");
    assert_string_equal(l.items[1].branch_id, "");
    cat_tables_free(&l);
    /* deleting the branch drops its rows only */
    assert_int_equal(cat_branch_delete(f->c, "p1", b.id, &e), 0);
    assert_int_equal(cat_table_list_all(f->c, &l, &e), 0);
    assert_int_equal(l.count, 2);
    cat_tables_free(&l);
}

/* Values that need quoting anywhere SQL text is built. */
static void test_text_round_trips(void **st) {
    fixture *f = *st;
    ds_err e;
    const char *odd = "it's \"odd\" \\ $1 %s ?; -- \xc3\xa9\xf0\x9f\xa6\x86";
    cat_project p;
    assert_int_equal(cat_project_create(f->c, "p-odd", odd, "hash-odd", &p, &e), 0);
    assert_int_equal(cat_project_get(f->c, "p-odd", &p, &e), 0);
    assert_string_equal(p.name, odd);
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p-odd", "dev", odd, &b, &e), 0);
    assert_int_equal(cat_branch_get(f->c, "p-odd", b.id, &b, &e), 0);
    assert_string_equal(b.description, odd);
    cat_bucket bk;
    memset(&bk, 0, sizeof bk);
    snprintf(bk.project_id, sizeof bk.project_id, "p-odd");
    snprintf(bk.id, sizeof bk.id, "in.c-x");
    snprintf(bk.stage, sizeof bk.stage, "in");
    snprintf(bk.name, sizeof bk.name, "x");
    snprintf(bk.description, sizeof bk.description, "%s", odd);
    assert_int_equal(cat_bucket_create(f->c, &bk, &e), 0);
    assert_int_equal(cat_bucket_get(f->c, "p-odd", "", "in.c-x", &bk, &e), 0);
    assert_string_equal(bk.description, odd);
    /* a large columns_json */
    size_t big = 200000;
    char *cols = malloc(big + 1);
    assert_non_null(cols);
    for (size_t i = 0; i < big; i++) cols[i] = (char)('a' + i % 26);
    memcpy(cols, "[\"", 2);
    memcpy(cols + big - 2, "\"]", 2);
    cols[big] = 0;
    cat_table t;
    memset(&t, 0, sizeof t);
    snprintf(t.project_id, sizeof t.project_id, "p-odd");
    snprintf(t.bucket_id, sizeof t.bucket_id, "in.c-x");
    snprintf(t.name, sizeof t.name, "t");
    t.columns_json = cols;
    t.primary_key_json = (char *)"[\"it's\"]";
    t.generation = 1;
    t.rows = INT64_C(5000000000);
    t.size_bytes = INT64_C(6000000000);
    t.created_at = INT64_C(4102444800);
    t.updated_at = INT64_C(4102444801);
    assert_int_equal(cat_table_put(f->c, &t, 0, &e), 0);
    cat_table got;
    assert_int_equal(cat_table_get(f->c, "p-odd", "", "in.c-x", "t", &got, &e), 0);
    assert_string_equal(got.columns_json, cols);
    assert_string_equal(got.primary_key_json, "[\"it's\"]");
    assert_true(got.rows == INT64_C(5000000000));
    assert_true(got.size_bytes == INT64_C(6000000000));
    assert_true(got.created_at == INT64_C(4102444800));
    assert_true(got.updated_at == INT64_C(4102444801));
    cat_table_clear(&got);
    free(cols);
    /* a workspace with an odd name and a long expiry */
    cat_workspace w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "ws_odd");
    snprintf(w.project_id, sizeof w.project_id, "p-odd");
    snprintf(w.branch_id, sizeof w.branch_id, "%s", b.id);
    snprintf(w.name, sizeof w.name, "%s", odd);
    snprintf(w.status, sizeof w.status, "active");
    snprintf(w.username, sizeof w.username, "ws_odd_0123abcd");
    w.created_at = 1000;
    w.expires_at = INT64_C(4102444800);
    w.size_limit_bytes = INT64_C(1099511627776);
    assert_int_equal(cat_workspace_create(f->c, &w, "SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2Vy", 10, &e), 0);
    cat_workspace g;
    assert_int_equal(cat_workspace_get(f->c, "ws_odd", &g, &e), 0);
    assert_string_equal(g.name, odd);
    assert_string_equal(g.branch_id, b.id);
    assert_string_equal(g.project_id, "p-odd");
    assert_string_equal(g.status, "active");
    assert_string_equal(g.username, "ws_odd_0123abcd");
    assert_true(g.created_at == 1000);
    assert_true(g.expires_at == INT64_C(4102444800));
    assert_true(g.size_limit_bytes == INT64_C(1099511627776));
    expect_login(f, "ws_odd_0123abcd", "ws_odd", "SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2Vy");
}

/* ---- the catalog version ---- */

static void test_version_changes_on_bucket_and_table_writes(void **st) {
    fixture *f = *st;
    ds_err e;
    uint64_t v = cat_version(f->c), w;
#define EXPECT_BUMP(what)                                                                   \
    do {                                                                                    \
        w = cat_version(f->c);                                                              \
        if (w <= v) fail_msg("cat_version did not grow after %s (%llu -> %llu)", what,      \
                             (unsigned long long)v, (unsigned long long)w);                 \
        v = w;                                                                              \
    } while (0)
    make_bucket(f, "p1", "", "in.c-v", 0);
    EXPECT_BUMP("bucket create");
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t", 1, 0, 1), 0);
    EXPECT_BUMP("table put (new)");
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t", 2, 1, 2), 0);
    EXPECT_BUMP("table put (replace)");
    assert_int_equal(cat_table_delete(f->c, "p1", "", "in.c-v", "t", &e), 0);
    EXPECT_BUMP("table delete");
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t2", 1, 0, 1), 0);
    EXPECT_BUMP("table put (second)");
    assert_int_equal(cat_bucket_delete(f->c, "p1", "", "in.c-v", &e), 0);
    EXPECT_BUMP("bucket delete");
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    make_bucket(f, "p1", b.id, "in.c-bv", 0);
    assert_int_equal(put_table(f, "p1", b.id, "in.c-bv", "t", 1, 0, 1), 0);
    v = cat_version(f->c);
    assert_int_equal(cat_branch_delete(f->c, "p1", b.id, &e), 0);
    EXPECT_BUMP("branch delete");
    make_bucket(f, "p1", "", "in.c-v", 0);
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t", 1, 0, 1), 0);
    v = cat_version(f->c);
    assert_int_equal(cat_project_delete(f->c, "p1", &e), 0);
    EXPECT_BUMP("project delete");
#undef EXPECT_BUMP
    /* a failed write may or may not count, but must not lower it */
    assert_int_not_equal(put_table(f, "p1", "", "in.c-v", "t", 1, 0, 1), 0);
    assert_true(cat_version(f->c) >= v);
}

/* ---- workspaces ---- */

static void test_workspace_limit(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_project p2;
    make_project(f, "p2", "hash-2", &p2);
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    make_ws_full(f, "ws_l1", "p1", "", "ws_l1_u", "v1", 1001, 0, 3, 0);
    make_ws_full(f, "ws_l2", "p1", b.id, "ws_l2_u", "v2", 1002, 0, 3, 0); /* branch ones count */
    make_ws_full(f, "ws_l3", "p1", "", "ws_l3_u", "v3", 1003, 0, 3, 0);
    cat_workspace w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "ws_l4");
    snprintf(w.project_id, sizeof w.project_id, "p1");
    snprintf(w.name, sizeof w.name, "four");
    snprintf(w.status, sizeof w.status, "active");
    snprintf(w.username, sizeof w.username, "ws_l4_u");
    w.size_limit_bytes = 1;
    w.created_at = 1004;
    ds_err_clear(&e);
    assert_int_equal(cat_workspace_create(f->c, &w, "v4", 3, &e), -(int)DS_E_LIMIT_EXCEEDED);
    assert_int_equal(e.code, DS_E_LIMIT_EXCEEDED);
    assert_string_equal(e.detail_key, "limit");
    assert_string_equal(e.detail_value, "3");
    assert_int_equal(e.detail_is_number, 1);
    /* nothing of the refused one was written: not its workspace, not its login */
    assert_int_equal(cat_workspace_get(f->c, "ws_l4", &w, &e), -(int)DS_E_WORKSPACE_NOT_FOUND);
    expect_login(f, "ws_l4_u", NULL, NULL);
    /* another project has its own count */
    make_ws_full(f, "ws_o1", "p2", "", "ws_o1_u", "vo", 1005, 0, 3, 0);
    /* a delete frees a place */
    assert_int_equal(cat_workspace_delete(f->c, "ws_l2", &e), 0);
    make_ws_full(f, "ws_l4", "p1", "", "ws_l4_u", "v4", 1006, 0, 3, 0);
    expect_login(f, "ws_l4_u", "ws_l4", "v4");
    make_ws_full(f, "ws_l5", "p1", "", "ws_l5_u", "v5", 1007, 0, 3, -(int)DS_E_LIMIT_EXCEEDED);
    /* duplicate ids and user names are refused */
    make_ws_full(f, "ws_o1", "p2", "", "ws_o1_other", "vo", 1008, 0, 100, ANY_FAILURE);
    make_ws_full(f, "ws_o2", "p2", "", "ws_o1_u", "vo", 1008, 0, 100, ANY_FAILURE);
    expect_login(f, "ws_o1_u", "ws_o1", "vo");
    cat_workspace g;
    assert_int_equal(cat_workspace_get(f->c, "ws_o2", &g, &e), -(int)DS_E_WORKSPACE_NOT_FOUND);
}

static void test_workspace_list_pagination(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_branch b;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    /* created out of id order; the list is by created_at, then id */
    make_ws_full(f, "ws_5", "p1", "", "ws_5_u", "v", 1000, 0, 100, 0);
    make_ws_full(f, "ws_1", "p1", "", "ws_1_u", "v", 1001, 5000, 100, 0);
    make_ws_full(f, "ws_4", "p1", "", "ws_4_u", "v", 1001, 0, 100, 0);
    make_ws_full(f, "ws_2", "p1", "", "ws_2_u", "v", 1003, 0, 100, 0);
    make_ws_full(f, "ws_3", "p1", "", "ws_3_u", "v", 1004, 0, 100, 0);
    make_ws_full(f, "ws_b1", "p1", b.id, "ws_b1_u", "v", 1002, 0, 100, 0);
    make_ws_full(f, "ws_b2", "p1", b.id, "ws_b2_u", "v", 1005, 0, 100, 0);
    const char *main_order[] = {"ws_5", "ws_1", "ws_4", "ws_2", "ws_3"};
    cat_workspace *ws = NULL;
    int n = -1;
    int64_t total = -1;
    /* pages of 2 */
    for (int off = 0; off <= 6; off += 2) {
        assert_int_equal(cat_workspace_list(f->c, "p1", "", 2, off, &ws, &n, &total, &e), 0);
        assert_int_equal(total, 5);
        int want = off >= 5 ? 0 : (5 - off < 2 ? 5 - off : 2);
        assert_int_equal(n, want);
        for (int i = 0; i < n; i++) assert_string_equal(ws[i].id, main_order[off + i]);
        free(ws);
        ws = NULL;
    }
    /* limit <= 0: all */
    assert_int_equal(cat_workspace_list(f->c, "p1", "", 0, 0, &ws, &n, &total, &e), 0);
    assert_int_equal(n, 5);
    assert_int_equal(total, 5);
    assert_string_equal(ws[1].id, "ws_1");
    assert_true(ws[1].expires_at == 5000);
    assert_true(ws[1].created_at == 1001);
    assert_true(ws[0].expires_at == 0);
    assert_string_equal(ws[1].username, "ws_1_u");
    assert_string_equal(ws[1].status, "active");
    assert_string_equal(ws[1].branch_id, "");
    assert_true(ws[1].size_limit_bytes == (1 << 20));
    free(ws);
    /* one branch, every branch */
    assert_int_equal(cat_workspace_list(f->c, "p1", b.id, 0, 0, &ws, &n, &total, &e), 0);
    assert_int_equal(n, 2);
    assert_int_equal(total, 2);
    assert_string_equal(ws[0].id, "ws_b1");
    assert_string_equal(ws[0].branch_id, b.id);
    free(ws);
    assert_int_equal(cat_workspace_list(f->c, "p1", NULL, 3, 1, &ws, &n, &total, &e), 0);
    assert_int_equal(total, 7);
    assert_int_equal(n, 3);
    assert_string_equal(ws[0].id, "ws_1");
    assert_string_equal(ws[1].id, "ws_4");
    assert_string_equal(ws[2].id, "ws_b1");
    free(ws);
    assert_int_equal(cat_workspace_list(f->c, "nope", NULL, 0, 0, &ws, &n, &total, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);
    free(ws);
    /* all, and expired */
    assert_int_equal(cat_workspace_all(f->c, &ws, &n, &e), 0);
    assert_int_equal(n, 7);
    free(ws);
    assert_int_equal(cat_workspace_expired(f->c, 4999, &ws, &n, &e), 0);
    assert_int_equal(n, 0);
    free(ws);
    assert_int_equal(cat_workspace_expired(f->c, 5000, &ws, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ws[0].id, "ws_1");
    free(ws);
}

static void test_project_delete_cascades(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_project p2;
    make_project(f, "p2", "hash-2", &p2);
    cat_branch b, b2;
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    assert_int_equal(cat_branch_create(f->c, "p2", "dev", "", &b2, &e), 0);
    make_bucket(f, "p1", "", "in.c-s", 0);
    make_bucket(f, "p1", b.id, "in.c-br", 0);
    make_bucket(f, "p2", "", "in.c-s", 0);
    assert_int_equal(put_table(f, "p1", "", "in.c-s", "t", 1, 0, 1), 0);
    assert_int_equal(put_table(f, "p1", b.id, "in.c-br", "t", 1, 0, 1), 0);
    assert_int_equal(put_table(f, "p2", "", "in.c-s", "t", 1, 0, 1), 0);
    make_ws_full(f, "ws_p1a", "p1", "", "ws_p1a_u", "va", 1000, 0, 100, 0);
    make_ws_full(f, "ws_p1b", "p1", b.id, "ws_p1b_u", "vb", 1000, 0, 100, 0);
    make_ws_full(f, "ws_p2a", "p2", "", "ws_p2a_u", "vc", 1000, 0, 100, 0);
    expect_login(f, "ws_p1a_u", "ws_p1a", "va"); /* cached */
    expect_login(f, "ws_p1b_u", "ws_p1b", "vb");
    expect_login(f, "ws_p2a_u", "ws_p2a", "vc");
    assert_int_equal(cat_project_delete(f->c, "p1", &e), 0);
    cat_project p;
    assert_int_equal(cat_project_get(f->c, "p1", &p, &e), -(int)DS_E_PROJECT_NOT_FOUND);
    cat_workspace w;
    assert_int_equal(cat_workspace_get(f->c, "ws_p1a", &w, &e), -(int)DS_E_WORKSPACE_NOT_FOUND);
    assert_int_equal(cat_workspace_get(f->c, "ws_p1b", &w, &e), -(int)DS_E_WORKSPACE_NOT_FOUND);
    expect_login(f, "ws_p1a_u", NULL, NULL);
    expect_login(f, "ws_p1b_u", NULL, NULL);
    expect_login(f, "ws_p2a_u", "ws_p2a", "vc");
    cat_workspace *ws = NULL;
    int n = -1;
    assert_int_equal(cat_workspace_all(f->c, &ws, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_true(ids_contain(ws, n, "ws_p2a"));
    free(ws);
    cat_tables all = {0};
    assert_int_equal(cat_table_list_all(f->c, &all, &e), 0);
    assert_int_equal(all.count, 1);
    assert_string_equal(all.items[0].project_id, "p2");
    cat_tables_free(&all);
    cat_branch *bl = NULL;
    assert_int_equal(cat_branch_list(f->c, "p1", &bl, &n, &e), 0);
    assert_int_equal(n, 0);
    free(bl);
    /* the id can be used again and starts empty (nothing left behind) */
    make_project(f, "p1", "hash-1-new", &p);
    assert_int_equal(p.bucket_count, 0);
    assert_int_equal(p.table_count, 0);
    cat_bucket *buckets = NULL;
    assert_int_equal(cat_bucket_list(f->c, "p1", b.id, &buckets, &n, &e), 0);
    assert_int_equal(n, 0);
    free(buckets);
    assert_int_equal(cat_branch_list(f->c, "p1", &bl, &n, &e), 0);
    assert_int_equal(n, 0);
    free(bl);
    int64_t total = -1;
    assert_int_equal(cat_workspace_list(f->c, "p1", NULL, 0, 0, &ws, &n, &total, &e), 0);
    assert_int_equal(total, 0);
    free(ws);
    make_ws_full(f, "ws_p1a", "p1", "", "ws_p1a_u", "new", 1000, 0, 100, 0);
    expect_login(f, "ws_p1a_u", "ws_p1a", "new");
    /* the other project is whole */
    assert_int_equal(cat_branch_get(f->c, "p2", b2.id, &b, &e), 0);
    assert_int_equal(cat_project_get(f->c, "p2", &p, &e), 0);
    assert_int_equal(p.table_count, 1);
}

/* ---- PostgreSQL only: two handles on one catalog (two servers) ---- */

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Polls c's login for username until it gives `want` (NULL: until it fails), for at
 * most `deadline` seconds; returns the seconds it took, or -1. */
static double wait_login(cat *c, const char *username, const char *want, double deadline) {
    double t0 = now_s();
    for (;;) {
        cat_workspace w;
        char v[256] = "";
        ds_err e;
        int rc = cat_workspace_by_username(c, username, &w, v, sizeof v, &e);
        if (want ? rc == 0 && strcmp(v, want) == 0 : rc != 0) return now_s() - t0;
        if (now_s() - t0 > deadline) return -1;
        sleep_ms(10);
    }
}

static void test_pg_second_handle_sees_writes(void **st) {
    fixture *f = *st;
    if (!f->url) {
        skip();
        return;
    }
    cat *c2 = NULL;
    assert_int_equal(open_catalog(f, &c2), 0);
    make_ws(f, "ws_x", "", "ws_x_u", "v1");
    expect_login_on(c2, "ws_x_u", "ws_x", "v1"); /* now in c2's login cache */
    ds_err e;
    assert_int_equal(cat_workspace_set_verifier(f->c, "ws_x", "v2", &e), 0);
    double t = wait_login(c2, "ws_x_u", "v2", 2.0);
    if (t < 0) fail_msg("the other handle still logs in with the old verifier after 2 s");
    fprintf(stderr, "    other handle saw the new verifier after %.3f s\n", t);
    assert_int_equal(cat_workspace_delete(f->c, "ws_x", &e), 0);
    t = wait_login(c2, "ws_x_u", NULL, 2.0);
    if (t < 0) fail_msg("the other handle still logs in to a deleted workspace after 2 s");
    fprintf(stderr, "    other handle saw the delete after %.3f s\n", t);
    /* the version of the other handle moves on a table write */
    uint64_t v = cat_version(c2);
    make_bucket(f, "p1", "", "in.c-v", 0);
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t", 1, 0, 1), 0);
    double t0 = now_s();
    while (cat_version(c2) == v && now_s() - t0 < 2.0) sleep_ms(10);
    if (cat_version(c2) == v) fail_msg("the other handle's cat_version did not change within 2 s of a table write");
    fprintf(stderr, "    other handle's version moved after %.3f s\n", now_s() - t0);
    /* and it reads the row the first wrote; its CAS sees the first's generation */
    assert_int_equal(table_generation(f, "p1", "", "in.c-v", "t"), 1);
    cat *keep = f->c;
    f->c = c2;
    assert_int_equal(table_generation(f, "p1", "", "in.c-v", "t"), 1);
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t", 1, 0, 1), -(int)DS_E_TABLE_EXISTS);
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t", 2, 1, 1), 0);
    f->c = keep;
    /* the first handle's publish based on generation 1 loses */
    assert_int_equal(put_table(f, "p1", "", "in.c-v", "t", 2, 1, 1), -(int)DS_E_TABLE_CHANGED);
    assert_int_equal(table_generation(f, "p1", "", "in.c-v", "t"), 2);
    cat_close(c2);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_login_sees_new_verifier_after_reset),
        T(test_login_fails_after_workspace_delete),
        T(test_login_fails_after_branch_and_project_delete),
        T(test_unknown_and_similar_names_fail),
        T(test_project_ids_generated_and_explicit),
        T(test_project_counts_describe_main),
        T(test_branch_ids_and_names),
        T(test_bucket_rules),
        T(test_table_put_compare_and_set),
        T(test_tables_seen_from_a_branch),
        T(test_text_round_trips),
        T(test_version_changes_on_bucket_and_table_writes),
        T(test_workspace_limit),
        T(test_workspace_list_pagination),
        T(test_project_delete_cascades),
        T(test_pg_second_handle_sees_writes),
    };
#undef T
    fprintf(stderr, "test_catalog: backend %s\n", pg_url() ? "PostgreSQL (DS_TEST_CATALOG_URL)" : "DuckDB file");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
