/* Unit tests for config: defaults, file < environment < flag precedence, bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char conf_path[64];

static int write_conf(void **st) {
    (void)st;
    snprintf(conf_path, sizeof conf_path, "/tmp/ds-conf-XXXXXX");
    int fd = mkstemp(conf_path);
    if (fd < 0) return -1;
    dprintf(fd, "# a comment\nhttp_port = 9001\npg_port=9002\ndata_dir = \"/tmp/from-file\"  # trailing\n"
                "max_body_size = 2GB\nmetrics = off\n");
    close(fd);
    return 0;
}

static int remove_conf(void **st) {
    (void)st;
    unlink(conf_path);
    return 0;
}

static void test_defaults_match_overview(void **st) {
    (void)st;
    ds_config c;
    char err[256];
    char *env[] = {NULL};
    assert_int_equal(config_load(&c, 0, NULL, env, err, sizeof err), 0);
    assert_int_equal(c.http_port, 8080);
    assert_int_equal(c.pg_port, 5432);
    assert_string_equal(c.data_dir, "./data");
    assert_int_equal(c.workspace_ttl_hours, 24);
    assert_int_equal(c.workspace_max_ttl_hours, 168);
    assert_int_equal(c.workspaces_per_project, 10);
    assert_int_equal(c.max_attached_tables, 1000);
    assert_int_equal(c.workspace_memory_limit, 4LL << 30);
    assert_int_equal(c.sessions_per_workspace, 10);
    assert_int_equal(c.max_sessions, 500);
    assert_int_equal(c.idle_session_timeout, 3600);
    assert_int_equal(c.statement_timeout, 300);
    assert_false(c.require_ssl);
    assert_true(c.metrics);
    config_free(&c);
}

static void test_flag_beats_env_beats_file(void **st) {
    (void)st;
    ds_config c;
    char err[256];
    char *argv[] = {"--config", conf_path, "--http-port", "9100"};
    char *env[] = {"DUCKSPACE_HTTP_PORT=9050", "DUCKSPACE_PG_PORT=9060", "HOME=/root", NULL};
    assert_int_equal(config_load(&c, 4, argv, env, err, sizeof err), 0);
    assert_int_equal(c.http_port, 9100);          /* flag */
    assert_int_equal(c.pg_port, 9060);            /* env over file */
    assert_string_equal(c.data_dir, "/tmp/from-file"); /* file over default */
    assert_int_equal(c.max_body_size, 2LL << 30);
    assert_false(c.metrics);
    config_free(&c);
}

static void test_config_file_from_environment(void **st) {
    (void)st;
    ds_config c;
    char err[256];
    char envc[128];
    snprintf(envc, sizeof envc, "DUCKSPACE_CONFIG=%s", conf_path);
    char *env[] = {envc, NULL};
    assert_int_equal(config_load(&c, 0, NULL, env, err, sizeof err), 0);
    assert_int_equal(c.http_port, 9001);
    config_free(&c);
}

static void test_flag_with_equals_sign(void **st) {
    (void)st;
    ds_config c;
    char err[256];
    char *argv[] = {"--data-dir=/srv/ds", "--require-ssl=on"};
    char *env[] = {NULL};
    assert_int_equal(config_load(&c, 2, argv, env, err, sizeof err), 0);
    assert_string_equal(c.data_dir, "/srv/ds");
    assert_true(c.require_ssl);
    config_free(&c);
}

static void test_bad_values_are_refused_with_a_reason(void **st) {
    (void)st;
    ds_config c;
    char err[256];
    char *env[] = {NULL};
    char *a1[] = {"--http-port", "70000"};
    assert_int_equal(config_load(&c, 2, a1, env, err, sizeof err), -1);
    assert_non_null(strstr(err, "http_port"));
    config_free(&c);
    char *a2[] = {"--no-such-flag", "1"};
    assert_int_equal(config_load(&c, 2, a2, env, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown option"));
    config_free(&c);
    char *a3[] = {"--max-body-size", "lots"};
    assert_int_equal(config_load(&c, 2, a3, env, err, sizeof err), -1);
    config_free(&c);
    char *a4[] = {"--http-port"};
    assert_int_equal(config_load(&c, 1, a4, env, err, sizeof err), -1);
    config_free(&c);
    char *e5[] = {"DUCKSPACE_STATEMENT_TIMEOUT=soon", NULL};
    assert_int_equal(config_load(&c, 0, NULL, e5, err, sizeof err), -1);
    assert_non_null(strstr(err, "DUCKSPACE_STATEMENT_TIMEOUT"));
    config_free(&c);
}

static void test_parse_size_units(void **st) {
    (void)st;
    int64_t v;
    assert_int_equal(config_parse_size("1024", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(config_parse_size("1KB", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(config_parse_size("10GB", &v), 0);
    assert_int_equal(v, 10LL << 30);
    assert_int_equal(config_parse_size("1.5MB", &v), 0);
    assert_int_equal(v, 1572864);
    assert_int_equal(config_parse_size("-1", &v), -1);
    assert_int_equal(config_parse_size("12XB", &v), -1);
    assert_int_equal(config_parse_size("", &v), -1);
    assert_int_equal(config_parse_size("99999999TB", &v), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_match_overview),
        cmocka_unit_test_setup_teardown(test_flag_beats_env_beats_file, write_conf, remove_conf),
        cmocka_unit_test_setup_teardown(test_config_file_from_environment, write_conf, remove_conf),
        cmocka_unit_test(test_flag_with_equals_sign),
        cmocka_unit_test(test_bad_values_are_refused_with_a_reason),
        cmocka_unit_test(test_parse_size_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
