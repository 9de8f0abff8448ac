/* Unit tests for the column type allow-list and the CSV header parser (storage/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "storage/storage.h"

static void expect_type(const char *in, const char *want) {
    char out[64];
    assert_int_equal(stor_type_normalize(in, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void test_type_aliases_map_to_duckdb_names(void **st) {
    (void)st;
    expect_type("integer", "INTEGER");
    expect_type("INT4", "INTEGER");
    expect_type("int8", "BIGINT");
    expect_type("text", "VARCHAR");
    expect_type("varchar(255)", "VARCHAR");
    expect_type("  Double   Precision ", "DOUBLE");
    expect_type("numeric(10, 2)", "DECIMAL(10,2)");
    expect_type("decimal(38,38)", "DECIMAL(38,38)");
    expect_type("numeric(5)", "DECIMAL(5,0)");
    expect_type("timestamptz", "TIMESTAMP WITH TIME ZONE");
    expect_type("timestamp with time zone", "TIMESTAMP WITH TIME ZONE");
    expect_type("bool", "BOOLEAN");
    expect_type("json", "JSON");
}

static void test_type_outside_allow_list_is_refused(void **st) {
    (void)st;
    char out[64];
    const char *bad[] = {"foo", "integer; drop table x", "varchar)--", "decimal(39,2)", "decimal(5,6)",
                         "decimal(10,2", "decimal()", "decimal(1,2,3)", "int[]", "struct(a int)", "", "   ",
                         "varchar(0)", "text(10)", "decimal(999999999999,1)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (stor_type_normalize(bad[i], out, sizeof out) == 0) fail_msg("accepted \"%s\" as %s", bad[i], out);
    }
    assert_int_equal(stor_type_normalize(NULL, out, sizeof out), -1);
}

typedef struct {
    char names[8][300];
    int n;
} fields;

static void collect(void *ud, const char *name, size_t n) {
    fields *f = ud;
    if (f->n < 8) snprintf(f->names[f->n++], sizeof f->names[0], "%.*s", (int)n, name);
}

static int parse(const char *s, fields *f) {
    memset(f, 0, sizeof *f);
    return stor_csv_header(s, strlen(s), collect, f);
}

static void test_csv_header_plain_quoted_and_bom(void **st) {
    (void)st;
    fields f;
    assert_int_equal(parse("id,amount,name\n1,2,3\n", &f), 3);
    assert_string_equal(f.names[2], "name");
    assert_int_equal(parse("\xEF\xBB\xBF\"a,b\",\"say \"\"hi\"\"\"\r\n", &f), 2);
    assert_string_equal(f.names[0], "a,b");
    assert_string_equal(f.names[1], "say \"hi\"");
    assert_int_equal(parse("\"multi\nline\",x\n", &f), 2);
    assert_string_equal(f.names[0], "multi\nline");
}

static void test_csv_header_malformed_is_refused(void **st) {
    (void)st;
    fields f;
    assert_int_equal(parse("", &f), -1);
    assert_int_equal(parse("id,amount", &f), -1);   /* no end of line */
    assert_int_equal(parse("id,,x\n", &f), -1);     /* empty name */
    assert_int_equal(parse("\"open,x\n", &f), -1);  /* unterminated quote */
    assert_int_equal(parse("a\"b,c\n", &f), -1);    /* quote inside unquoted field */
    assert_int_equal(parse("\"a\"b,c\n", &f), -1);  /* text after closing quote */
    char longname[400];
    memset(longname, 'x', 300);
    strcpy(longname + 300, "\n");
    assert_int_equal(parse(longname, &f), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_aliases_map_to_duckdb_names),
        cmocka_unit_test(test_type_outside_allow_list_is_refused),
        cmocka_unit_test(test_csv_header_plain_quoted_and_bom),
        cmocka_unit_test(test_csv_header_malformed_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
