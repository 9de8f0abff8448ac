/* Unit tests for the catalog's login lookup: what a login reads must never be staler
 * than the last write (credentials reset, workspace, branch or project deleted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog/catalog.h"

typedef struct {
    char dir[64];
    cat *c;
} fixture;

static int setup(void **st) {
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ds-cat-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    char p[128];
    snprintf(p, sizeof p, "%s/metadata.duckdb", f->dir);
    ds_err e;
    if (cat_open(p, &f->c, &e) != 0) return -1;
    cat_project p1;
    if (cat_project_create(f->c, "p1", "one", "hash-1", &p1, &e) != 0) return -1;
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

static void make_ws(fixture *f, const char *id, const char *branch, const char *username, const char *verifier) {
    cat_workspace w;
    memset(&w, 0, sizeof w);
    snprintf(w.id, sizeof w.id, "%s", id);
    snprintf(w.project_id, sizeof w.project_id, "p1");
    snprintf(w.branch_id, sizeof w.branch_id, "%s", branch);
    snprintf(w.name, sizeof w.name, "%s", id);
    snprintf(w.status, sizeof w.status, "active");
    snprintf(w.username, sizeof w.username, "%s", username);
    w.size_limit_bytes = 1 << 20;
    ds_err e;
    assert_int_equal(cat_workspace_create(f->c, &w, verifier, 1000, &e), 0);
}

/* Looks the user up twice (the second from memory); both give verifier `want`, or
 * both fail when want is NULL. */
static void expect_login(fixture *f, const char *username, const char *ws_id, const char *want) {
    for (int round = 0; round < 2; round++) {
        cat_workspace w;
        char v[256] = "";
        ds_err e;
        int rc = cat_workspace_by_username(f->c, username, &w, v, sizeof v, &e);
        if (!want) {
            assert_int_not_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_string_equal(v, want);
        assert_string_equal(w.id, ws_id);
        assert_string_equal(w.username, username);
    }
}

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_sees_new_verifier_after_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_fails_after_workspace_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_fails_after_branch_and_project_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_similar_names_fail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
