/* Unit tests for pgexec/tcop: the utility statements the executor answers itself
 * (transactions, cursors, SET/SHOW/RESET, set_config(), DEALLOCATE) and command tags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pgexec/tcop.h"

#define S(x) x, strlen(x)

static void test_classify(void **st) {
    (void)st;
    assert_int_equal(tcop_classify(S("BEGIN")), TC_BEGIN);
    assert_int_equal(tcop_classify(S("start transaction isolation level serializable")), TC_BEGIN);
    assert_int_equal(tcop_classify(S("/* c */ COMMIT")), TC_COMMIT);
    assert_int_equal(tcop_classify(S("end")), TC_COMMIT);
    assert_int_equal(tcop_classify(S("ROLLBACK")), TC_ROLLBACK);
    assert_int_equal(tcop_classify(S("rollback to savepoint a")), TC_ROLLBACK_TO);
    assert_int_equal(tcop_classify(S("ROLLBACK WORK TO a")), TC_ROLLBACK_TO);
    assert_int_equal(tcop_classify(S("rollback transaction to savepoint a")), TC_ROLLBACK_TO);
    assert_int_equal(tcop_classify(S("ROLLBACK WORK")), TC_ROLLBACK);
    assert_int_equal(tcop_classify(S("abort")), TC_ROLLBACK);
    assert_int_equal(tcop_classify(S("SAVEPOINT a")), TC_SAVEPOINT);
    assert_int_equal(tcop_classify(S("release savepoint a")), TC_RELEASE);
    assert_int_equal(tcop_classify(S("RELEASE a")), TC_RELEASE);
    assert_true(tcop_allowed_when_failed(TC_ROLLBACK_TO));
    assert_true(tcop_allowed_when_failed(TC_COMMIT));
    assert_false(tcop_allowed_when_failed(TC_RELEASE));
    assert_false(tcop_allowed_when_failed(TC_SAVEPOINT));
    assert_int_equal(tcop_classify(S("DECLARE c CURSOR FOR SELECT 1")), TC_DECLARE);
    assert_int_equal(tcop_classify(S("fetch 10 from c")), TC_FETCH);
    assert_int_equal(tcop_classify(S("COPY t FROM STDIN")), TC_COPY_STDIO);
    assert_int_equal(tcop_classify(S("COPY t FROM '/etc/passwd'")), TC_OTHER); /* the gate refuses it */
    assert_int_equal(tcop_classify(S("LISTEN x")), TC_LISTEN);
    assert_int_equal(tcop_classify(S("DEALLOCATE ALL")), TC_DEALLOCATE);
    assert_int_equal(tcop_classify(S("SELECT 1")), TC_OTHER);
    assert_int_equal(tcop_classify(S("")), TC_OTHER);
}

static void test_cursors(void **st) {
    (void)st;
    tcop_cursor c;
    const char *d = "DECLARE \"My c\" CURSOR WITH HOLD FOR SELECT * FROM t";
    assert_int_equal(tcop_parse_cursor(TC_DECLARE, S(d), &c), TCOP_CURSOR_OK);
    assert_string_equal(c.name, "My c");
    assert_true(c.hold);
    assert_string_equal(d + c.query_at + strspn(d + c.query_at, " "), "SELECT * FROM t");
    assert_int_equal(tcop_parse_cursor(TC_FETCH, S("FETCH FORWARD 25 FROM c"), &c), TCOP_CURSOR_OK);
    assert_int_equal(c.count, 25);
    assert_string_equal(c.name, "c");
    assert_int_equal(tcop_parse_cursor(TC_FETCH, S("FETCH ALL IN c"), &c), TCOP_CURSOR_OK);
    assert_true(c.all);
    assert_int_equal(tcop_parse_cursor(TC_FETCH, S("FETCH BACKWARD 1 FROM c"), &c), TCOP_CURSOR_BACKWARD);
    assert_int_equal(tcop_parse_cursor(TC_CLOSE, S("CLOSE ALL"), &c), TCOP_CURSOR_OK);
    assert_true(c.all);
    assert_int_equal(tcop_parse_cursor(TC_DECLARE, S("DECLARE"), &c), TCOP_CURSOR_SYNTAX);
}

static void test_settings(void **st) {
    (void)st;
    tcop_set s;
    tcop_parse_set(S("SET search_path TO 'a', b"), &s);
    assert_int_equal(s.verb, TSET_SET);
    assert_string_equal(s.name, "search_path");
    tcop_parse_set(S("SET LOCAL statement_timeout = '5s'"), &s);
    assert_int_equal(s.verb, TSET_SET);
    assert_true(s.local);
    assert_string_equal(s.value, "5s");
    tcop_parse_set(S("SHOW ALL"), &s);
    assert_int_equal(s.verb, TSET_SHOW_ALL);
    tcop_parse_set(S("RESET TimeZone"), &s);
    assert_int_equal(s.verb, TSET_RESET);
    tcop_parse_set(S("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"), &s);
    assert_int_equal(s.verb, TSET_SET_TRANSACTION);
    tcop_parse_set(S("SELECT 1"), &s);
    assert_int_equal(s.verb, TSET_NONE);
    tcop_set_config sc;
    assert_true(tcop_parse_set_config(S("SELECT pg_catalog.set_config('search_path', '', false)"), &sc));
    assert_string_equal(sc.name, "search_path");
    assert_false(sc.is_local);
    assert_false(tcop_parse_set_config(S("SELECT set_config('a', 'b', false), 1"), &sc));
    char name[32];
    assert_int_equal(tcop_deallocate(S("DEALLOCATE PREPARE s1"), name), 0);
    assert_string_equal(name, "s1");
    assert_int_equal(tcop_deallocate(S("DEALLOCATE ALL"), name), 1);
}

static void test_tags(void **st) {
    (void)st;
    char tag[64];
    tcop_tag(S("INSERT INTO t VALUES (1)"), DUCKDB_STATEMENT_TYPE_INSERT, true, 3, tag, sizeof tag);
    assert_string_equal(tag, "INSERT 0 3");
    tcop_tag(S("UPDATE t SET a = 1"), DUCKDB_STATEMENT_TYPE_UPDATE, true, 2, tag, sizeof tag);
    assert_string_equal(tag, "UPDATE 2");
    tcop_tag(S("TRUNCATE t"), DUCKDB_STATEMENT_TYPE_DELETE, true, 5, tag, sizeof tag);
    assert_string_equal(tag, "TRUNCATE TABLE");
    tcop_tag(S("SELECT 1"), DUCKDB_STATEMENT_TYPE_SELECT, false, 1, tag, sizeof tag);
    assert_string_equal(tag, "SELECT 1");
    char verb[32];
    tcop_verb_tag(S("listen x"), verb);
    assert_string_equal(verb, "LISTEN");
    tcop_verb_tag(S(""), verb);
    assert_string_equal(verb, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_cursors),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_tags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
