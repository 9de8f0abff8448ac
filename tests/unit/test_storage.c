/* Unit tests for storage/: generation publishing, crash leftovers, readers pinning old
 * generations, copy on write, failed imports leaving the table as it was. Uses a real
 * catalog and real DuckDB files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <duckdb.h>
#include <errno.h>

#include "catalog/catalog.h"
#include "storage/storage.h"
#include "util/privs.h"
#include "util/timeutil.h"

typedef struct {
    char dir[64];
    cat *c;
    stor *s;
} fixture;

static char *path_in(fixture *f, const char *rel) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", f->dir, rel);
    return p;
}

static bool exists(fixture *f, const char *rel) {
    struct stat st;
    return stat(path_in(f, rel), &st) == 0;
}

static void touch(fixture *f, const char *rel) {
    int fd = open(path_in(f, rel), O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
}

static int count_files(fixture *f, const char *rel) {
    DIR *d = opendir(path_in(f, rel));
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void open_all(fixture *f) {
    ds_err e;
    char p[256];
    snprintf(p, sizeof p, "%s/metadata.duckdb", f->dir);
    assert_int_equal(cat_open(p, &f->c, &e), 0);
    assert_int_equal(stor_open(f->dir, f->c, 1, true, &f->s, &e), 0);
}

static void close_all(fixture *f) {
    stor_close(f->s);
    cat_close(f->c);
    f->s = NULL;
    f->c = NULL;
}

static char *write_csv(fixture *f, const char *name, const char *text) {
    char *p = strdup(path_in(f, name));
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return p;
}

static int setup(void **st) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ds-stor-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    open_all(f);
    ds_err e;
    cat_project p;
    assert_int_equal(cat_project_create(f->c, "p1", "P", "hash1", &p, &e), 0);
    cat_bucket b = {.created_at = ds_now()};
    strcpy(b.project_id, "p1");
    strcpy(b.id, "in.c-s");
    strcpy(b.stage, "in");
    strcpy(b.name, "s");
    assert_int_equal(cat_bucket_create(f->c, &b, &e), 0);
    stor_import_req req = {.project_id = "p1", .branch_id = "", .bucket_id = "in.c-s", .table = "t",
                           .mode = STOR_CREATE, .format = STOR_FMT_NONE,
                           .columns_json = "[{\"name\":\"id\",\"type\":\"BIGINT\"},{\"name\":\"v\",\"type\":\"VARCHAR\"}]",
                           .primary_key_json = "[\"id\"]"};
    cat_table t;
    assert_int_equal(stor_import(f->s, &req, NULL, &t, &e), 0);
    assert_int_equal(t.generation, 1);
    cat_table_clear(&t);
    *st = f;
    return 0;
}

static int teardown(void **st) {
    fixture *f = *st;
    close_all(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static int64_t import_csv(fixture *f, const char *bid, stor_mode mode, const char *csv, cat_table *out, ds_err *e) {
    char *p = write_csv(f, "upload.csv", csv);
    stor_import_req req = {.project_id = "p1", .branch_id = bid, .bucket_id = "in.c-s", .table = "t",
                           .mode = mode, .format = STOR_FMT_CSV, .src_path = p};
    int64_t imported = -1;
    int rc = stor_import(f->s, &req, &imported, out, e);
    free(p);
    return rc == 0 ? imported : rc;
}

static void test_import_publishes_next_generation_and_removes_old(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_table t;
    assert_true(exists(f, "project_p1/in_c_s/t.g1.duckdb"));
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n1,a\n2,b\n", &t, &e), 2);
    assert_int_equal(t.generation, 2);
    assert_int_equal(t.rows, 2);
    cat_table_clear(&t);
    assert_true(exists(f, "project_p1/in_c_s/t.g2.duckdb"));
    assert_false(exists(f, "project_p1/in_c_s/t.g1.duckdb"));
    assert_int_equal(count_files(f, "project_p1/in_c_s"), 1);
    /* Incremental with a primary key upserts. */
    assert_int_equal(import_csv(f, "", STOR_APPEND, "id,v\n2,B\n3,c\n", &t, &e), 2);
    assert_int_equal(t.rows, 3);
    assert_int_equal(t.generation, 3);
    cat_table_clear(&t);
}

static void test_restart_removes_unpublished_and_superseded_generations(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_table t;
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n1,a\n", &t, &e), 1);
    cat_table_clear(&t); /* now generation 2 is published */
    close_all(f);
    /* What crashes leave: an old generation not yet removed, a renamed but
     * uncommitted generation, a half-written temp file and its WAL, a spool file,
     * the directory of a project that was being deleted. */
    touch(f, "project_p1/in_c_s/t.g1.duckdb");
    touch(f, "project_p1/in_c_s/t.g3.duckdb");
    touch(f, "project_p1/in_c_s/t.g3.duckdb.tmp");
    touch(f, "project_p1/in_c_s/t.g3.duckdb.tmp.wal");
    touch(f, "tmp/upload-1-abc");
    mkdir(path_in(f, "project_gone"), 0700);
    touch(f, "project_gone/x.duckdb");
    open_all(f);
    assert_int_equal(count_files(f, "project_p1/in_c_s"), 1);
    assert_true(exists(f, "project_p1/in_c_s/t.g2.duckdb"));
    assert_false(exists(f, "tmp/upload-1-abc"));
    assert_false(exists(f, "project_gone"));
    assert_int_equal(cat_table_get(f->c, "p1", "", "in.c-s", "t", &t, &e), 0);
    assert_int_equal(t.generation, 2);
    assert_int_equal(t.rows, 1);
    cat_table_clear(&t);
}

static void test_failed_import_keeps_table_and_leaves_no_files(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_table t;
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n1,a\n2,b\n", &t, &e), 2);
    cat_table_clear(&t);
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n1,a\nnot-a-number,b\n", &t, &e), -(int)DS_E_IMPORT_FAILED);
    assert_true(strlen(e.message) > 0);
    assert_int_equal(import_csv(f, "", STOR_APPEND, "id,nope\n5,x\n", &t, &e), -(int)DS_E_IMPORT_FAILED);
    assert_non_null(strstr(e.message, "nope"));
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "", &t, &e), -(int)DS_E_IMPORT_FAILED);
    assert_int_equal(count_files(f, "project_p1/in_c_s"), 1);
    assert_int_equal(cat_table_get(f->c, "p1", "", "in.c-s", "t", &t, &e), 0);
    assert_int_equal(t.generation, 2);
    assert_int_equal(t.rows, 2);
    cat_table_clear(&t);
}

static void test_reader_pins_generation_until_done(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_table t, rt;
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n1,a\n", &t, &e), 1);
    cat_table_clear(&t);
    stor_read rd;
    assert_int_equal(stor_read_begin(f->s, "p1", "", "in.c-s", "t", &rd, &rt, &e), 0);
    assert_int_equal(rt.generation, 2);
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n7,x\n8,y\n9,z\n", &t, &e), 3);
    cat_table_clear(&t);
    /* The reader still has generation 2, which stays on disk until it is done. */
    assert_true(exists(f, "project_p1/in_c_s/t.g2.duckdb"));
    assert_true(exists(f, "project_p1/in_c_s/t.g3.duckdb"));
    stor_read_end(f->s, &rd);
    cat_table_clear(&rt);
    assert_false(exists(f, "project_p1/in_c_s/t.g2.duckdb"));
}

static void test_branch_write_copies_and_main_is_unchanged(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_table t;
    cat_branch b;
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n1,a\n", &t, &e), 1);
    cat_table_clear(&t);
    assert_int_equal(cat_branch_create(f->c, "p1", "dev", "", &b, &e), 0);
    assert_int_equal(cat_table_get(f->c, "p1", b.id, "in.c-s", "t", &t, &e), 0);
    assert_string_equal(t.branch_id, ""); /* reads main until written */
    cat_table_clear(&t);
    assert_int_equal(import_csv(f, b.id, STOR_APPEND, "id,v\n2,b\n", &t, &e), 1);
    assert_string_equal(t.branch_id, b.id);
    assert_int_equal(t.rows, 2);
    assert_true(t.copied_at > 0);
    cat_table_clear(&t);
    char rel[128];
    snprintf(rel, sizeof rel, "project_p1_branch_%s/in_c_s/t.g1.duckdb", b.id);
    assert_true(exists(f, rel));
    assert_int_equal(cat_table_get(f->c, "p1", "", "in.c-s", "t", &t, &e), 0);
    assert_int_equal(t.rows, 1);
    assert_int_equal(t.generation, 2);
    cat_table_clear(&t);
    /* Dropping the branch's copy: the branch reads main again. */
    assert_int_equal(cat_table_get(f->c, "p1", b.id, "in.c-s", "t", &t, &e), 0);
    assert_int_equal(stor_table_drop(f->s, &t, &e), 0);
    cat_table_clear(&t);
    assert_false(exists(f, rel));
    assert_int_equal(cat_table_get(f->c, "p1", b.id, "in.c-s", "t", &t, &e), 0);
    assert_string_equal(t.branch_id, "");
    cat_table_clear(&t);
}

static int file_mode(fixture *f, const char *rel) {
    struct stat st;
    assert_int_equal(stat(path_in(f, rel), &st), 0);
    return (int)(st.st_mode & 07777);
}

/* ATTACH path [READ_ONLY] in a fresh in-memory DuckDB: true when it worked. */
static bool duckdb_attach(const char *path, bool read_only) {
    duckdb_database db;
    duckdb_connection con;
    assert_int_equal(duckdb_open(NULL, &db), DuckDBSuccess);
    assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
    char sql[700];
    snprintf(sql, sizeof sql, "ATTACH '%s' AS x%s", path, read_only ? " (READ_ONLY)" : "");
    duckdb_result r;
    bool ok = duckdb_query(con, sql, &r) == DuckDBSuccess;
    duckdb_destroy_result(&r);
    if (ok) {
        ok = duckdb_query(con, "SELECT count(*) FROM x.in_c_s.t", &r) == DuckDBSuccess;
        duckdb_destroy_result(&r);
    }
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return ok;
}

static void test_published_generations_are_read_only_files(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_table t;
    assert_int_equal(file_mode(f, "project_p1/in_c_s/t.g1.duckdb"), 0444);
    assert_int_equal(import_csv(f, "", STOR_REPLACE, "id,v\n1,a\n", &t, &e), 1); /* full import: a new file */
    cat_table_clear(&t);
    assert_int_equal(file_mode(f, "project_p1/in_c_s/t.g2.duckdb"), 0444);
    assert_int_equal(import_csv(f, "", STOR_APPEND, "id,v\n2,b\n", &t, &e), 1); /* incremental: a copy */
    assert_int_equal(t.rows, 2);
    cat_table_clear(&t);
    assert_int_equal(file_mode(f, "project_p1/in_c_s/t.g3.duckdb"), 0444);
    assert_int_equal(count_files(f, "project_p1/in_c_s"), 1);
}

static void test_published_generation_cannot_be_opened_for_writing(void **st) {
    fixture *f = *st;
    /* main() gave up the capabilities that override file modes, as the server does. */
    assert_false(privs_can_override_files());
    const char *p = path_in(f, "project_p1/in_c_s/t.g1.duckdb");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    errno = 0;
    int fd = open(path, O_RDWR);
    assert_int_equal(fd, -1);
    assert_int_equal(errno, EACCES);
    assert_int_equal(open(path, O_WRONLY | O_TRUNC), -1);
    /* Through a hard link, as a workspace sees it. */
    char link_path[600];
    snprintf(link_path, sizeof link_path, "%s/linked.duckdb", f->dir);
    assert_int_equal(link(path, link_path), 0);
    assert_int_equal(open(link_path, O_RDWR), -1);
    assert_false(duckdb_attach(link_path, false));
    assert_true(duckdb_attach(link_path, true));
    assert_false(duckdb_attach(path, false));
    assert_true(duckdb_attach(path, true));
    unlink(link_path);
}

static void test_restart_makes_existing_generations_read_only(void **st) {
    fixture *f = *st;
    close_all(f);
    /* A data directory written before published files were read-only. */
    assert_int_equal(chmod(path_in(f, "project_p1/in_c_s/t.g1.duckdb"), 0640), 0);
    open_all(f);
    assert_int_equal(file_mode(f, "project_p1/in_c_s/t.g1.duckdb"), 0444);
}

static void test_link_table_replaces_a_foreign_file_under_the_link_name(void **st) {
    fixture *f = *st;
    ds_err e;
    cat_table t;
    char links[256], out[1024], first[1024];
    snprintf(links, sizeof links, "%s/links", f->dir);
    assert_int_equal(mkdir(links, 0750), 0);
    assert_int_equal(stor_link_table(f->s, "p1", "", "in.c-s", "t", links, first, sizeof first, &t, &e), 0);
    cat_table_clear(&t);
    /* Something else put there (from SQL, say) is not attached in place of the table. */
    assert_int_equal(unlink(first), 0);
    FILE *fp = fopen(first, "w");
    assert_non_null(fp);
    fputs("x\nnot a table\n", fp);
    fclose(fp);
    assert_int_equal(stor_link_table(f->s, "p1", "", "in.c-s", "t", links, out, sizeof out, &t, &e), 0);
    cat_table_clear(&t);
    assert_string_equal(out, first);
    struct stat a, b;
    assert_int_equal(stat(path_in(f, "project_p1/in_c_s/t.g1.duckdb"), &a), 0);
    assert_int_equal(stat(out, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
}

int main(void) {
    /* As the server does first in main(): root (CI) would otherwise open any file. */
    bool held;
    char why[200];
    if (privs_drop_file_override(&held, why, sizeof why) != 0) {
        fprintf(stderr, "cannot drop capabilities: %s\n", why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_publishes_next_generation_and_removes_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_removes_unpublished_and_superseded_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_import_keeps_table_and_leaves_no_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_pins_generation_until_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_write_copies_and_main_is_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_published_generations_are_read_only_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_published_generation_cannot_be_opened_for_writing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_makes_existing_generations_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_table_replaces_a_foreign_file_under_the_link_name, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
