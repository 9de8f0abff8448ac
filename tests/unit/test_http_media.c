/* Unit tests for http/media: which Content-Type values make a JSON body (S100) and which
 * a table data upload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static void test_json_types_any_case_with_utf8_or_no_charset(void **st) {
    (void)st;
    const char *ok[] = {"application/json",
                        "APPLICATION/JSON",
                        "application/json; charset=utf-8",
                        "application/json;charset=UTF-8",
                        "application/json; charset=\"utf-8\"",
                        "application/json ; q=1 ; charset=utf-8",
                        "application/json;",
                        " application/json",
                        "application/problem+json",
                        "application/vnd.duckspace.v1+JSON; charset=utf-8"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) assert_true(http_media_is_json(ok[i]));
}

static void test_other_types_and_charsets_are_not_json(void **st) {
    (void)st;
    const char *bad[] = {"",
                         "text/plain",
                         "text/json",
                         "application/x-www-form-urlencoded",
                         "application/jsonp",
                         "application/json-seq",
                         "application/+json",
                         "application/json+zip",
                         "application/json; charset=utf-16",
                         "application/json; charset=\"utf-8",
                         "application/json; charset=",
                         "application/json; charset",
                         "application/json; charset=utf-8-but-longer-than-any-charset",
                         "application/json x",
                         "application /json",
                         "multipart/form-data; boundary=x",
                         "text/csv"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) assert_false(http_media_is_json(bad[i]));
    assert_false(http_media_is_json(NULL));
}

static void test_data_types(void **st) {
    (void)st;
    assert_true(http_media_is_data("text/csv"));
    assert_true(http_media_is_data("Text/CSV; charset=utf-8"));
    assert_true(http_media_is_data("application/vnd.apache.parquet"));
    assert_true(http_media_is_data("application/x-parquet"));
    assert_false(http_media_is_data("application/json"));
    assert_false(http_media_is_data("text/csvx"));
    assert_false(http_media_is_data(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_types_any_case_with_utf8_or_no_charset),
        cmocka_unit_test(test_other_types_and_charsets_are_not_json),
        cmocka_unit_test(test_data_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
