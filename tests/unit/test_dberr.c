/* Unit tests for util/dberr's scrubber: server paths never reach a client message,
 * whichever front end DuckDB's error text goes to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/dberr.h"

/* The registry is process-wide: every test registers what it needs (duplicates are
 * ignored) and only looks for its own paths. */

static void test_scrub_replaces_registered_paths_longest_first(void **st) {
    (void)st;
    dberr_scrub_add("/srv/app", "<server-dir>");
    dberr_scrub_add("/srv/app/data", "<data-dir>");
    char m[256] = "File '/srv/app/data/tmp/upload-3-x' too small; cwd /srv/app, file /srv/app/data.";
    dberr_scrub(m, sizeof m);
    assert_string_equal(m, "File '<data-dir>/tmp/upload-3-x' too small; cwd <server-dir>, file <data-dir>.");
}

static void test_scrub_matches_whole_paths_only(void **st) {
    (void)st;
    dberr_scrub_add("/home/ann", "<home>");
    dberr_scrub_add("/tmp", "<tmp>");
    char m[256] = "/home/anna /x/home/ann /home/ann/.duckdb \"/home/ann\" /tmpfs /var/tmp <data-dir>/tmp/x /tmp";
    dberr_scrub(m, sizeof m);
    assert_string_equal(m, "/home/anna /x/home/ann <home>/.duckdb \"<home>\" /tmpfs /var/tmp <data-dir>/tmp/x <tmp>");
}

static void test_scrub_prefix_replaces_inside_longer_names(void **st) {
    (void)st;
    dberr_scrub_prefix_add("information_schema_", "information_schema.");
    char m[128] = "Table with name information_schema_nosuch does not exist! Did you mean \"information_schema_columns\"? "
                  "my_information_schema_x";
    dberr_scrub(m, sizeof m);
    assert_string_equal(m, "Table with name information_schema.nosuch does not exist! Did you mean "
                           "\"information_schema.columns\"? my_information_schema_x");
}

static void test_scrub_ignores_root_and_one_character_paths(void **st) {
    (void)st;
    dberr_scrub_add("/", "<root>");
    dberr_scrub_add("", "<empty>");
    char m[64] = "a/b /c";
    dberr_scrub(m, sizeof m);
    assert_string_equal(m, "a/b /c");
}

static void test_scrub_stays_within_capacity(void **st) {
    (void)st;
    char m[16] = "/q/r /q/r /q/r";
    dberr_scrub_path(m, sizeof m, "/q/r", "<a-long-label>");
    assert_int_equal(strlen(m), sizeof m - 1);
    assert_null(strstr(m, "/q/r"));
    char big[8] = "/q/r";
    dberr_scrub_path(big, sizeof big, "/q/r", "<x>");
    assert_string_equal(big, "<x>");
}

static void test_init_registers_data_dir_cwd_home_and_tmp(void **st) {
    (void)st;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    setenv("HOME", "/nonexistent/home/duckspace-test", 1);
    setenv("TMPDIR", "/nonexistent/tmpdir", 1);
    dberr_scrub_init("reldata"); /* relative: matched with its slash only */
    char m[1024];
    snprintf(m, sizeof m, "a %s/x b /nonexistent/home/duckspace-test/.duckdb c /nonexistent/tmpdir/f d reldata/t.duckdb "
             "e ./reldata/u f the reldata word", cwd);
    dberr_scrub(m, sizeof m);
    assert_null(strstr(m, cwd));
    assert_string_equal(m, "a <server-dir>/x b <home>/.duckdb c <tmp>/f d <data-dir>/t.duckdb e <data-dir>/u f the "
                           "reldata word");
}

static void test_dberr_fail_message_has_no_path_and_no_sql(void **st) {
    (void)st;
    dberr_scrub_add("/var/lib/duckspace", "<data-dir>");
    ds_err e;
    const char *text = "Invalid Input Error: File '/var/lib/duckspace/tmp/upload-1' too small to be a Parquet file\n\n"
                       "LINE 1: DESCRIBE SELECT * FROM read_parquet('/var/lib/duckspace/tmp/upload...\n"
                       "                               ^";
    assert_int_equal(dberr_fail(&e, DS_E_IMPORT_FAILED, DUCKDB_ERROR_INVALID_INPUT, text), -(int)DS_E_IMPORT_FAILED);
    assert_string_equal(e.message, "File '<data-dir>/tmp/upload-1' too small to be a Parquet file");
    db_error d;
    dberr_parse("Permission Error: Cannot access directory \"/var/lib/duckspace\" - file system operations are "
                "disabled by configuration",
                NULL, &d);
    assert_null(strstr(d.message, "/var/lib"));
    assert_non_null(strstr(d.message, "\"<data-dir>\""));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrub_replaces_registered_paths_longest_first),
        cmocka_unit_test(test_scrub_matches_whole_paths_only),
        cmocka_unit_test(test_scrub_prefix_replaces_inside_longer_names),
        cmocka_unit_test(test_scrub_ignores_root_and_one_character_paths),
        cmocka_unit_test(test_scrub_stays_within_capacity),
        cmocka_unit_test(test_init_registers_data_dir_cwd_home_and_tmp),
        cmocka_unit_test(test_dberr_fail_message_has_no_path_and_no_sql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
