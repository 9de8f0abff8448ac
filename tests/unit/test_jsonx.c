/* Unit tests for util/jsonx (request JSON checks, error bodies) and util/err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/err.h"
#include "util/jsonx.h"

static void test_parse_object_rejects_malformed_and_non_objects(void **st) {
    (void)st;
    ds_err e;
    assert_null(jx_parse_object("{\"a\":", 5, &e));
    assert_int_equal(e.code, DS_E_INVALID_REQUEST);
    assert_non_null(strstr(e.message, "malformed JSON"));
    assert_null(jx_parse_object("[1,2]", 5, &e));
    assert_int_equal(e.code, DS_E_INVALID_REQUEST);
    assert_null(jx_parse_object(NULL, 0, &e));
    assert_null(jx_parse_object("{\"a\":1,\"a\":2}", 13, &e)); /* duplicate keys */
    json_t *j = jx_parse_object("{\"a\":1}", 7, &e);
    assert_non_null(j);
    json_decref(j);
}

static void test_string_member_types_and_lengths(void **st) {
    (void)st;
    ds_err e;
    json_t *j = json_pack("{s:s, s:i, s:n}", "name", "Sales", "n", 3, "z");
    const char *v;
    assert_int_equal(jx_string(j, "name", true, 10, &v, &e), 0);
    assert_string_equal(v, "Sales");
    assert_int_not_equal(jx_string(j, "name", true, 3, &v, &e), 0); /* too long */
    assert_int_not_equal(jx_string(j, "n", false, 10, &v, &e), 0);  /* wrong type */
    assert_non_null(strstr(e.message, "must be a string"));
    assert_int_not_equal(jx_string(j, "missing", true, 10, &v, &e), 0);
    assert_int_equal(jx_string(j, "missing", false, 10, &v, &e), 0);
    assert_null(v);
    assert_int_equal(jx_string(j, "z", false, 10, &v, &e), 0); /* null = absent */
    json_decref(j);
}

static void test_int_member_bounds(void **st) {
    (void)st;
    ds_err e;
    json_t *j = json_pack("{s:i, s:f, s:s}", "ttl", 200, "f", 1.5, "s", "24");
    int64_t v = 24;
    bool present;
    assert_int_not_equal(jx_int(j, "ttl", 1, 168, &v, &present, &e), 0);
    assert_int_equal(v, 24);
    assert_int_equal(jx_int(j, "ttl", 1, 1000, &v, &present, &e), 0);
    assert_int_equal(v, 200);
    assert_true(present);
    assert_int_not_equal(jx_int(j, "f", 1, 10, &v, &present, &e), 0);
    assert_int_not_equal(jx_int(j, "s", 1, 100, &v, &present, &e), 0);
    assert_int_equal(jx_int(j, "absent", 1, 10, &v, &present, &e), 0);
    assert_false(present);
    json_decref(j);
}

static void test_only_rejects_unknown_fields(void **st) {
    (void)st;
    ds_err e;
    json_t *j = json_pack("{s:s, s:s}", "name", "x", "nmae", "y");
    static const char *const allowed[] = {"name", NULL};
    assert_int_not_equal(jx_only(j, allowed, &e), 0);
    assert_non_null(strstr(e.message, "nmae"));
    json_decref(j);
}

static void test_error_body_has_code_message_and_details(void **st) {
    (void)st;
    ds_err e;
    ds_fail(&e, DS_E_LIMIT_EXCEEDED, "at most %d workspaces", 10);
    ds_err_detail(&e, "limit", "10", 1);
    json_t *j = jx_error_body(&e);
    assert_string_equal(json_string_value(json_object_get(j, "error")), "limit_exceeded");
    assert_string_equal(json_string_value(json_object_get(j, "message")), "at most 10 workspaces");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "details"), "limit")), 10);
    json_decref(j);
}

static void test_error_table_statuses(void **st) {
    (void)st;
    assert_int_equal(ds_code_http_status(DS_E_INVALID_REQUEST), 400);
    assert_int_equal(ds_code_http_status(DS_E_UNAUTHORIZED), 401);
    assert_int_equal(ds_code_http_status(DS_E_FORBIDDEN), 403);
    assert_int_equal(ds_code_http_status(DS_E_TABLE_NOT_FOUND), 404);
    assert_int_equal(ds_code_http_status(DS_E_METHOD_NOT_ALLOWED), 405);
    assert_int_equal(ds_code_http_status(DS_E_BUCKET_NOT_EMPTY), 409);
    assert_int_equal(ds_code_http_status(DS_E_WORKSPACE_EXPIRED), 410);
    assert_int_equal(ds_code_http_status(DS_E_PAYLOAD_TOO_LARGE), 413);
    assert_int_equal(ds_code_http_status(DS_E_UNSUPPORTED_MEDIA_TYPE), 415);
    assert_int_equal(ds_code_http_status(DS_E_IMPORT_FAILED), 400);
    assert_int_equal(ds_code_http_status(DS_E_INTERNAL), 500);
    assert_string_equal(ds_code_name(DS_E_IMPORT_FAILED), "import_failed");
    assert_string_equal(ds_code_sqlstate(DS_E_TABLE_NOT_FOUND), "42P01");
    assert_string_equal(ds_code_name((ds_code)9999), "internal_error");
}

static void test_time_is_rfc3339_utc(void **st) {
    (void)st;
    json_t *j = json_object();
    jx_set_time(j, "t", 1795687200); /* 2026-11-26T10:00:00Z */
    assert_string_equal(json_string_value(json_object_get(j, "t")), "2026-11-26T10:00:00Z");
    json_decref(j);
}

static void test_strings_with_nul_inside_are_not_text(void **st) {
    (void)st;
    /* The parser refuses \u0000 by default; a string built with json_stringn can hold it. */
    json_error_t je;
    assert_null(json_loads("{\"name\": \"a\\u0000b\"}", 0, &je));
    json_t *nul = json_stringn("a\0b", 3), *ok = json_string("ab"), *num = json_integer(1);
    assert_false(jx_is_text(nul));
    assert_true(jx_is_text(ok));
    assert_false(jx_is_text(num));
    assert_false(jx_is_text(NULL));
    json_t *obj = json_object();
    json_object_set(obj, "name", nul);
    const char *out = "unchanged";
    ds_err e;
    assert_int_equal(jx_string(obj, "name", true, 64, &out, &e), -(int)DS_E_INVALID_REQUEST);
    assert_null(out);
    json_decref(obj);
    json_decref(nul);
    json_decref(ok);
    json_decref(num);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_object_rejects_malformed_and_non_objects),
        cmocka_unit_test(test_string_member_types_and_lengths),
        cmocka_unit_test(test_int_member_bounds),
        cmocka_unit_test(test_only_rejects_unknown_fields),
        cmocka_unit_test(test_error_body_has_code_message_and_details),
        cmocka_unit_test(test_error_table_statuses),
        cmocka_unit_test(test_time_is_rfc3339_utc),
        cmocka_unit_test(test_strings_with_nul_inside_are_not_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
