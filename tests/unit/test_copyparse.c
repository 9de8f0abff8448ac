/* Unit tests for pgexec/copyparse: COPY FROM STDIN's text, csv and binary input, fed
 * whole and split at every byte boundary, with PostgreSQL's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/copyparse.h"

/* Rows rendered as text: fields joined by '|', NULL as <null>, rows by ';'. */
typedef struct {
    char out[4096];
    size_t len;
    int rows, headers;
    uint64_t last_line;
} collect;

static int on_row(void *ud, const cp_row *r) {
    collect *c = ud;
    if (r->header) {
        c->headers++;
        return 0;
    }
    for (int i = 0; i < r->n; i++) {
        const char *v = r->f[i].null ? "<null>" : NULL;
        size_t n = v ? strlen(v) : r->f[i].n;
        if (c->len + n + 2 >= sizeof c->out) return 1;
        memcpy(c->out + c->len, v ? v : r->f[i].p, n);
        c->len += n;
        c->out[c->len++] = i + 1 < r->n ? '|' : ';';
    }
    c->out[c->len] = 0;
    c->rows++;
    c->last_line = r->line;
    return 0;
}

static int count_row(void *ud, const cp_row *r) {
    (void)ud;
    return r->n == 1 ? 0 : 1;
}

static cp_opts text_opts(int ncols) {
    return (cp_opts){.format = CP_TEXT, .ncols = ncols, .delim = '\t', .null_str = "\\N", .null_len = 2, .max_row = 1 << 20};
}
static cp_opts csv_opts(int ncols) {
    return (cp_opts){.format = CP_CSV, .ncols = ncols, .delim = ',', .quote = '"', .escape = '"', .null_str = "",
                     .null_len = 0, .max_row = 1 << 20};
}
static cp_opts bin_opts(int ncols) { return (cp_opts){.format = CP_BINARY, .ncols = ncols, .max_row = 1 << 20}; }

/* Parses in whole, then split at every byte boundary (two feeds) and one byte at a time;
 * every way must give the same rows. Returns the parse's rc; *out the rows. */
static int parse_all(const cp_opts *o, const void *in, size_t n, collect *out, cp_err *err) {
    int rc0 = 0;
    for (size_t cut = 0; cut <= n + 1; cut++) {
        collect c = {0};
        cp_parser *p = cp_new(o, on_row, &c);
        assert_non_null(p);
        int rc;
        if (cut == n + 1) { /* byte by byte */
            rc = 0;
            for (size_t i = 0; i < n && !rc; i++) rc = cp_feed(p, (const uint8_t *)in + i, 1, err);
        } else {
            rc = cp_feed(p, in, cut, err);
            if (!rc) rc = cp_feed(p, (const uint8_t *)in + cut, n - cut, err);
        }
        if (!rc) rc = cp_finish(p, err);
        if (cut == 0) {
            *out = c;
            rc0 = rc;
        } else {
            assert_int_equal(rc, rc0);
            assert_string_equal(c.out, out->out);
        }
        cp_free(p);
    }
    return rc0;
}

#define S(x) x, sizeof(x) - 1

static void test_text_fields_nulls_and_escapes(void **st) {
    (void)st;
    cp_opts o = text_opts(3);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("a\tb\tc\n\\N\t\t\\\\N\nx\\ty\t\\n\\r\\\\\t\\101\\x41\\x4a\\7\n"), &c, &e), 0);
    assert_int_equal(c.rows, 3);
    assert_string_equal(c.out, "a|b|c;<null>||\\N;x\ty|\n\r\\|AAJ\a;");
}

static void test_text_end_marker_and_last_line_without_newline(void **st) {
    (void)st;
    cp_opts o = text_opts(1);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("1\n2\n\\.\nignored\n"), &c, &e), 0);
    assert_string_equal(c.out, "1;2;");
    assert_int_equal(parse_all(&o, S("1\n2"), &c, &e), 0);
    assert_string_equal(c.out, "1;2;");
    assert_int_equal(parse_all(&o, S("1\r\n2\r\n"), &c, &e), 0); /* \r\n lines, from the first */
    assert_string_equal(c.out, "1;2;");
}

static void test_text_escaped_newline_is_data(void **st) {
    (void)st;
    cp_opts o = text_opts(2);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("a\\\nb\tc\n"), &c, &e), 0);
    assert_string_equal(c.out, "a\nb|c;");
    assert_int_equal(c.last_line, 1);
}

static void test_text_errors(void **st) {
    (void)st;
    cp_opts o = text_opts(2);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("1\t2\n3\t4\t5\n"), &c, &e), -1);
    assert_string_equal(e.sqlstate, "22P04");
    assert_string_equal(e.msg, "extra data after last expected column");
    assert_int_equal(e.line, 2);
    assert_string_equal(e.value, "3\t4\t5");
    assert_int_equal(parse_all(&o, S("1\n"), &c, &e), -1);
    assert_string_equal(e.msg, "missing data for column");
    assert_int_equal(e.col, 1);
    assert_int_equal(parse_all(&o, S("1\t2\r\n3\t4\n"), &c, &e), -1);
    assert_string_equal(e.msg, "literal newline found in data");
    assert_int_equal(parse_all(&o, S("1\t2\n3\t4\r\n"), &c, &e), -1);
    assert_string_equal(e.msg, "literal carriage return found in data");
    assert_int_equal(parse_all(&o, S("1\t\\000\n"), &c, &e), -1);
    assert_string_equal(e.sqlstate, "22021");
    assert_int_equal(e.col, 1);
}

static void test_text_header_skipped_or_handed_on(void **st) {
    (void)st;
    cp_opts o = text_opts(2);
    o.header = true;
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("a\tb\n1\t2\n"), &c, &e), 0);
    assert_string_equal(c.out, "1|2;");
    assert_int_equal(c.headers, 0);
    assert_int_equal(c.last_line, 2);
    o.header_match = true;
    assert_int_equal(parse_all(&o, S("a\tb\tc\n1\t2\n"), &c, &e), 0);
    assert_int_equal(c.headers, 1);
}

static void test_csv_quoting_embedded_newlines_and_nulls(void **st) {
    (void)st;
    cp_opts o = csv_opts(3);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("1,\"a,b\",\"say \"\"hi\"\"\"\n2,,\"\"\n3,\"multi\nline\",x\"y\"z\n"), &c, &e), 0);
    assert_string_equal(c.out, "1|a,b|say \"hi\";2|<null>|;3|multi\nline|xyz;");
    assert_int_equal(c.last_line, 3); /* records, as PostgreSQL counts lines */
}

static void test_csv_escape_force_null_and_not_null(void **st) {
    (void)st;
    cp_opts o = csv_opts(3);
    o.escape = '\\';
    o.null_str = "NULL";
    o.null_len = 4;
    bool fnull[3] = {false, true, false}, fnn[3] = {false, false, true};
    o.force_null = fnull;
    o.force_not_null = fnn;
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("NULL,\"NULL\",NULL\n\"a\\\"b\",\"c\\\\d\",\"e\\f\"\n"), &c, &e), 0);
    assert_string_equal(c.out, "<null>|<null>|NULL;a\"b|c\\d|e\\f;");
}

static void test_csv_errors_and_end_marker(void **st) {
    (void)st;
    cp_opts o = csv_opts(2);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("1,\"open\n"), &c, &e), -1);
    assert_string_equal(e.sqlstate, "22P04");
    assert_string_equal(e.msg, "unterminated CSV quoted field");
    assert_int_equal(parse_all(&o, S("1,2\n\\.\n3,4\n"), &c, &e), 0);
    assert_string_equal(c.out, "1|2;");
    assert_int_equal(parse_all(&o, S("1,2\n3\n"), &c, &e), -1);
    assert_string_equal(e.msg, "missing data for column");
    assert_int_equal(e.line, 2);
}

static size_t put16(uint8_t *b, int v) {
    b[0] = (uint8_t)((unsigned)v >> 8);
    b[1] = (uint8_t)v;
    return 2;
}
static size_t put32(uint8_t *b, int32_t v) {
    uint32_t u = (uint32_t)v;
    b[0] = (uint8_t)(u >> 24), b[1] = (uint8_t)(u >> 16), b[2] = (uint8_t)(u >> 8), b[3] = (uint8_t)u;
    return 4;
}
static size_t bin_header(uint8_t *b, int32_t ext) {
    static const uint8_t sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0377, '\r', '\n', 0};
    memcpy(b, sig, 11);
    size_t n = 11 + put32(b + 11, 0) + put32(b + 15, ext);
    memset(b + n, 'e', (size_t)ext);
    return n + (size_t)ext;
}

static void test_binary_header_tuples_and_trailer(void **st) {
    (void)st;
    uint8_t b[256];
    size_t n = bin_header(b, 3);
    n += put16(b + n, 2);
    n += put32(b + n, 3);
    memcpy(b + n, "abc", 3), n += 3;
    n += put32(b + n, -1);
    n += put16(b + n, 2);
    n += put32(b + n, 0);
    n += put32(b + n, 1);
    b[n++] = 'z';
    n += put16(b + n, -1);
    b[n++] = 'X'; /* after the trailer: ignored */
    cp_opts o = bin_opts(2);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, b, n, &c, &e), 0);
    assert_string_equal(c.out, "abc|<null>;|z;");
    assert_int_equal(c.last_line, 2);
}

static void test_binary_errors(void **st) {
    (void)st;
    uint8_t b[256];
    cp_opts o = bin_opts(2);
    collect c;
    cp_err e;
    assert_int_equal(parse_all(&o, S("PGCOPX\n\377\r\n\0\0\0\0\0\0\0\0\0"), &c, &e), -1);
    assert_string_equal(e.msg, "COPY file signature not recognized");
    size_t n = bin_header(b, 0);
    n += put16(b + n, 3);
    assert_int_equal(parse_all(&o, b, n, &c, &e), -1);
    assert_string_equal(e.msg, "row field count is 3, expected 2");
    n = bin_header(b, 0);
    n += put16(b + n, 2);
    n += put32(b + n, -7);
    assert_int_equal(parse_all(&o, b, n, &c, &e), -1);
    assert_string_equal(e.msg, "invalid field size");
    n = bin_header(b, 0);
    n += put16(b + n, 2);
    n += put32(b + n, 5);
    memcpy(b + n, "ab", 2), n += 2; /* cut short */
    assert_int_equal(parse_all(&o, b, n, &c, &e), -1);
    assert_string_equal(e.msg, "unexpected EOF in COPY data");
    n = bin_header(b, 0); /* a clean end without the trailer is accepted, as PostgreSQL */
    assert_int_equal(parse_all(&o, b, n, &c, &e), 0);
    assert_int_equal(parse_all(&o, "", 0, &c, &e), -1);
    assert_string_equal(e.msg, "COPY file signature not recognized");
}

static void test_row_longer_than_the_limit_is_an_error(void **st) {
    (void)st;
    cp_opts o = text_opts(1);
    o.max_row = 1000;
    collect c = {0};
    cp_err e;
    cp_parser *p = cp_new(&o, on_row, &c);
    char chunk[512];
    memset(chunk, 'x', sizeof chunk);
    int rc = 0;
    for (int i = 0; i < 100000 && !rc; i++) rc = cp_feed(p, (const uint8_t *)chunk, sizeof chunk, &e);
    assert_int_equal(rc, -1);
    assert_string_equal(e.sqlstate, "54000");
    cp_free(p);
    /* the same bytes as many short rows are fine */
    o.max_row = 1000;
    p = cp_new(&o, count_row, NULL);
    for (int i = 0; i < 4; i++) chunk[100 * i + 99] = '\n';
    rc = 0;
    for (int i = 0; i < 1000 && !rc; i++) rc = cp_feed(p, (const uint8_t *)chunk, 400, &e);
    assert_int_equal(rc, 0);
    assert_int_equal(cp_rows(p), 4000);
    cp_free(p);
}

static void test_callback_stop_is_returned(void **st) {
    (void)st;
    cp_opts o = text_opts(1);
    collect c = {0};
    c.len = sizeof c.out - 1; /* on_row returns 1: full */
    cp_err e;
    cp_parser *p = cp_new(&o, on_row, &c);
    assert_int_equal(cp_feed(p, (const uint8_t *)"1\n", 2, &e), 1);
    cp_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_fields_nulls_and_escapes),
        cmocka_unit_test(test_text_end_marker_and_last_line_without_newline),
        cmocka_unit_test(test_text_escaped_newline_is_data),
        cmocka_unit_test(test_text_errors),
        cmocka_unit_test(test_text_header_skipped_or_handed_on),
        cmocka_unit_test(test_csv_quoting_embedded_newlines_and_nulls),
        cmocka_unit_test(test_csv_escape_force_null_and_not_null),
        cmocka_unit_test(test_csv_errors_and_end_marker),
        cmocka_unit_test(test_binary_header_tuples_and_trailer),
        cmocka_unit_test(test_binary_errors),
        cmocka_unit_test(test_row_longer_than_the_limit_is_an_error),
        cmocka_unit_test(test_callback_stop_is_returned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
