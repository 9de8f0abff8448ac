/* Unit tests for pgwire/proto: the bounded reader, the writer's sticky failure, the
 * startup packet and the Bind/Parse parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/frontend.h"
#include "pgwire/proto.h"
#include "util/wire.h"

static void test_reader_refuses_reads_past_the_end(void **st) {
    (void)st;
    const uint8_t buf[] = {0, 0, 0, 5, 'a', 'b', 0, 7};
    wire_rd r;
    wire_rd_init(&r, buf, sizeof buf);
    int32_t n;
    const char *s;
    const uint8_t *b;
    assert_true(wire_rd_i32(&r, &n));
    assert_int_equal(n, 5);
    assert_true(wire_rd_cstr(&r, &s));
    assert_string_equal(s, "ab");
    assert_false(wire_rd_bytes(&r, 2, &b)); /* only 1 byte left */
    assert_true(r.bad);
    uint8_t u;
    assert_false(wire_rd_u8(&r, &u)); /* sticky */
    wire_rd_init(&r, "abc", 3);
    assert_false(wire_rd_cstr(&r, &s)); /* no terminator inside the buffer */
    wire_rd_init(&r, buf, 3);
    assert_false(wire_rd_i32(&r, &n));
}

static void test_writer_patches_lengths_and_fails_sticky(void **st) {
    (void)st;
    wire_wb w;
    wire_wb_init(&w, 16);
    wire_wb_begin(&w, 'Z');
    wire_wb_u8(&w, 'I');
    wire_wb_end(&w);
    assert_int_equal(w.len, 6);
    assert_memory_equal(w.data, "Z\0\0\0\5I", 6);
    wire_wb_bytes(&w, "0123456789abcdef", 16); /* past max */
    assert_true(w.failed);
    size_t before = w.len;
    wire_wb_u8(&w, 1);
    assert_int_equal(w.len, before);
    wire_wb_free(&w);
}

static void test_message_lengths_are_checked_before_anything_is_buffered(void **st) {
    (void)st;
    char m[128];
    const uint8_t ok[5] = {'Q', 0, 0, 0, 9}, self_only[5] = {'S', 0, 0, 0, 4}, under[5] = {'Q', 0, 0, 0, 3},
                  over[5] = {'Q', 0, 0, 0x10, 5}, huge[5] = {'Q', 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(wire_msg_body_len(ok, 100, m, sizeof m), 5);
    assert_int_equal(wire_msg_body_len(self_only, 100, m, sizeof m), 0);
    assert_int_equal(wire_msg_body_len(under, 100, m, sizeof m), -1);
    assert_string_equal(m, "invalid message length 3 (limit 100)");
    assert_int_equal(wire_msg_body_len(over, 100, m, sizeof m), -1); /* 4101 - 4 > 100 */
    assert_int_equal(wire_msg_body_len(huge, 100, m, sizeof m), -1);
    assert_int_equal(wire_msg_body_len(over, 4097, m, sizeof m), 4097);
    uint8_t *buf = NULL;
    size_t cap = 0;
    assert_int_equal(wire_buf_grow(&buf, &cap, 10), 0);
    assert_int_equal(cap, 8192);
    assert_int_equal(wire_buf_grow(&buf, &cap, 20000), 0);
    assert_int_equal(cap, 32768);
    uint8_t *same = buf;
    assert_int_equal(wire_buf_grow(&buf, &cap, 100), 0); /* never shrinks */
    assert_ptr_equal(buf, same);
    free(buf);
}

static void test_startup_kinds(void **st) {
    (void)st;
    pgw_startup s;
    const uint8_t ssl[] = {0x04, 0xd2, 0x16, 0x2f};
    pgw_parse_startup(ssl, sizeof ssl, &s);
    assert_int_equal(s.kind, PGW_START_SSL);
    const uint8_t gss[] = {0x04, 0xd2, 0x16, 0x30};
    pgw_parse_startup(gss, sizeof gss, &s);
    assert_int_equal(s.kind, PGW_START_GSSENC);
    const uint8_t cancel[] = {0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 9, 0, 0, 1, 0};
    pgw_parse_startup(cancel, sizeof cancel, &s);
    assert_int_equal(s.kind, PGW_START_CANCEL);
    assert_int_equal(s.cancel_pid, 9);
    assert_int_equal(s.cancel_secret, 256);
    static const uint8_t v3[] = "\x00\x03\x00\x00user\0ws_1_ab\0database\0workspace_ws_1\0application_name\0psql\0\0";
    pgw_parse_startup(v3, sizeof v3 - 1, &s);
    assert_int_equal(s.kind, PGW_START_V3);
    assert_string_equal(s.user, "ws_1_ab");
    assert_string_equal(s.database, "workspace_ws_1");
    assert_string_equal(s.application_name, "psql");
}

static void test_startup_refuses_malformed_packets(void **st) {
    (void)st;
    pgw_startup s;
    static const uint8_t v2[] = "\x00\x02\x00\x00user\0x\0\0";
    pgw_parse_startup(v2, sizeof v2 - 1, &s);
    assert_int_equal(s.kind, PGW_START_BAD);
    assert_non_null(strstr(s.error, "unsupported frontend protocol"));
    static const uint8_t nouser[] = "\x00\x03\x00\x00database\0d\0\0";
    pgw_parse_startup(nouser, sizeof nouser - 1, &s);
    assert_int_equal(s.kind, PGW_START_BAD);
    static const uint8_t unterminated[] = "\x00\x03\x00\x00user\0x";
    pgw_parse_startup(unterminated, sizeof unterminated - 1, &s);
    assert_int_equal(s.kind, PGW_START_BAD);
    static const uint8_t trailing[] = "\x00\x03\x00\x00user\0x\0\0junk";
    pgw_parse_startup(trailing, sizeof trailing - 1, &s);
    assert_int_equal(s.kind, PGW_START_BAD);
    const uint8_t shortp[] = {0, 3};
    pgw_parse_startup(shortp, sizeof shortp, &s);
    assert_int_equal(s.kind, PGW_START_BAD);
    /* 3.1 with a _pq_ option: accepted, to be answered with NegotiateProtocolVersion. */
    static const uint8_t v31[] = "\x00\x03\x00\x01user\0u\0_pq_.x\0y\0\0";
    pgw_parse_startup(v31, sizeof v31 - 1, &s);
    assert_int_equal(s.kind, PGW_START_V3);
    assert_int_equal(s.minor, 1);
    assert_int_equal(s.nunknown, 1);
    /* More _pq_ options than slots: refused, not written past the array (found by fuzzing). */
    uint8_t many[4 + 40 * 12 + 1];
    size_t o = 0;
    memcpy(many, "\x00\x03\x00\x01", 4);
    o = 4;
    for (int i = 0; i < 40; i++) {
        memcpy(many + o, "_pq_.ab\0v\0", 10);
        many[o + 6] = (uint8_t)('a' + i % 26);
        o += 10;
    }
    many[o++] = 0;
    pgw_parse_startup(many, o, &s);
    assert_int_equal(s.kind, PGW_START_BAD);
    assert_non_null(strstr(s.error, "too many"));
}

static void test_bind_counts_are_checked_against_bytes(void **st) {
    (void)st;
    /* portal "", stmt "s", 1 format (text), 2 params: "42" and NULL, 1 result format (binary) */
    static const uint8_t good[] = "\0s\0\x00\x01\x00\x00\x00\x02\x00\x00\x00\x02"
                                  "42\xff\xff\xff\xff\x00\x01\x00\x01";
    pgx_bind_msg m;
    assert_int_equal(pgx_parse_bind(good, sizeof good - 1, &m), 0);
    assert_string_equal(m.stmt, "s");
    assert_int_equal(m.nparams, 2);
    assert_int_equal(m.lengths[0], 2);
    assert_memory_equal(m.values[0], "42", 2);
    assert_int_equal(m.lengths[1], -1);
    assert_int_equal(m.nresults, 1);
    assert_int_equal(m.results[0], 1);
    pgx_bind_msg_free(&m);
    /* A parameter length past the message. */
    static const uint8_t longp[] = "\0s\0\x00\x00\x00\x01\x7f\xff\xff\xff" "ab\x00\x00";
    assert_int_equal(pgx_parse_bind(longp, sizeof longp - 1, &m), -1);
    /* 30000 parameters announced, none there. */
    static const uint8_t many[] = "\0s\0\x00\x00\x75\x30\x00\x00";
    assert_int_equal(pgx_parse_bind(many, sizeof many - 1, &m), -1);
    /* A format code that is neither 0 nor 1. */
    static const uint8_t fmt[] = "\0s\0\x00\x01\x00\x07\x00\x00\x00\x00";
    assert_int_equal(pgx_parse_bind(fmt, sizeof fmt - 1, &m), -1);
}

static void test_parse_message(void **st) {
    (void)st;
    static const uint8_t good[] = "q1\0SELECT $1\0\x00\x01\x00\x00\x00\x17";
    pgx_parse_msg p;
    assert_int_equal(pgx_parse_parse(good, sizeof good - 1, &p), 0);
    assert_string_equal(p.name, "q1");
    assert_string_equal(p.query, "SELECT $1");
    assert_int_equal(p.noids, 1);
    assert_int_equal(p.oids[0], 23);
    free(p.oids);
    static const uint8_t bad[] = "q1\0SELECT 1\0\x00\x05\x00\x00";
    assert_int_equal(pgx_parse_parse(bad, sizeof bad - 1, &p), -1);
    free(p.oids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_refuses_reads_past_the_end),
        cmocka_unit_test(test_writer_patches_lengths_and_fails_sticky),
        cmocka_unit_test(test_message_lengths_are_checked_before_anything_is_buffered),
        cmocka_unit_test(test_startup_kinds),
        cmocka_unit_test(test_startup_refuses_malformed_packets),
        cmocka_unit_test(test_bind_counts_are_checked_against_bytes),
        cmocka_unit_test(test_parse_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
