/* Unit tests for http/router: the raw path is split at the slashes the client sent,
 * each segment decoded once, and a segment that decodes to NUL, '/' or a control
 * character (or has a malformed escape) is refused instead of naming another route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

typedef struct {
    http_req r;
    int split;
} parsed;

static void parse(parsed *p, const char *method, const char *url) {
    memset(p, 0, sizeof *p);
    p->r.method = method;
    p->split = router_split_path(&p->r, url);
}

static void done(parsed *p) { free(p->r.path); }

static void test_split_decodes_each_segment_once(void **st) {
    (void)st;
    parsed p;
    parse(&p, "GET", "/projects/%61lpha/tables/in.c-crm%2Eorders/preview");
    assert_int_equal(p.split, HTTP_PATH_OK);
    assert_int_equal(p.r.nseg, 5);
    assert_string_equal(p.r.segs[1], "alpha");
    assert_string_equal(p.r.segs[3], "in.c-crm.orders");
    assert_int_equal(router_match(&p.r), 0);
    assert_ptr_equal(p.r.route->fn, h_table_preview);
    assert_string_equal(p.r.pid, "alpha");
    done(&p);
    parse(&p, "GET", "/projects/alpha/tables/in.c-crm.%256Frders");
    assert_int_equal(p.split, HTTP_PATH_OK);
    assert_string_equal(p.r.segs[3], "in.c-crm.%6Frders"); /* once, not twice */
    done(&p);
}

static void test_split_refuses_empty_segments(void **st) {
    (void)st;
    parsed p;
    /* Skipping them made //projects/alpha/buckets and /projects/alpha/workspaces/W//sessions
     * reach the real routes past a proxy rule on the raw path (security re-audit). */
    const char *bad[] = {"//projects/alpha/buckets", "/projects//alpha", "/projects/alpha/", "/health/", "//",
                         "projects/alpha", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse(&p, "GET", bad[i]);
        if (p.split != HTTP_PATH_BAD) fail_msg("%s: %d", bad[i], p.split);
        done(&p);
    }
    parse(&p, "GET", "/");
    assert_int_equal(p.split, HTTP_PATH_OK);
    assert_int_equal(p.r.nseg, 0);
    done(&p);
    parse(&p, "GET", "/projects/alpha");
    assert_int_equal(p.split, HTTP_PATH_OK);
    assert_int_equal(p.r.nseg, 2);
    done(&p);
}

static void test_split_refuses_nul_instead_of_cutting_the_path(void **st) {
    (void)st;
    parsed p;
    /* Decoded before splitting, this path used to be .../tables/in.c-crm.orders: the detail. */
    parse(&p, "GET", "/projects/alpha/tables/in.c-crm.orders%00/preview");
    assert_int_equal(p.split, HTTP_PATH_BAD);
    done(&p);
    parse(&p, "DELETE", "/projects/alpha/workspaces/ws_1%00/sessions/1");
    assert_int_equal(p.split, HTTP_PATH_BAD);
    done(&p);
}

static void test_split_refuses_encoded_slash_instead_of_a_new_segment(void **st) {
    (void)st;
    parsed p;
    parse(&p, "GET", "/projects/alpha%2Fbuckets");
    assert_int_equal(p.split, HTTP_PATH_BAD);
    done(&p);
    parse(&p, "GET", "/projects/alpha%2fbuckets");
    assert_int_equal(p.split, HTTP_PATH_BAD);
    done(&p);
}

static void test_split_refuses_malformed_escapes_and_control_characters(void **st) {
    (void)st;
    const char *bad[] = {"/projects/%zz", "/projects/a%4", "/projects/a%", "/projects/%%41", "/a/%0Ab",
                         "/a/%7F",        "/a/%1b[31m",   "/x%/y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parsed p;
        parse(&p, "GET", bad[i]);
        assert_int_equal(p.split, HTTP_PATH_BAD);
        done(&p);
    }
}

static void test_split_refuses_too_many_segments(void **st) {
    (void)st;
    parsed p;
    parse(&p, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12");
    assert_int_equal(p.split, HTTP_PATH_OK);
    assert_int_equal(p.r.nseg, HTTP_MAX_SEGS);
    done(&p);
    parse(&p, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13");
    assert_int_equal(p.split, HTTP_PATH_TOO_DEEP);
    done(&p);
}

static void test_encoded_branch_id_routes_like_the_plain_one(void **st) {
    (void)st;
    parsed p;
    parse(&p, "GET", "/projects/alpha/branches/%31/buckets");
    assert_int_equal(p.split, HTTP_PATH_OK);
    assert_int_equal(router_match(&p.r), 0);
    assert_ptr_equal(p.r.route->fn, h_bucket_list);
    assert_string_equal(p.r.bid, "1");
    assert_true(p.r.branch_route);
    done(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_decodes_each_segment_once),
        cmocka_unit_test(test_split_refuses_empty_segments),
        cmocka_unit_test(test_split_refuses_nul_instead_of_cutting_the_path),
        cmocka_unit_test(test_split_refuses_encoded_slash_instead_of_a_new_segment),
        cmocka_unit_test(test_split_refuses_malformed_escapes_and_control_characters),
        cmocka_unit_test(test_split_refuses_too_many_segments),
        cmocka_unit_test(test_encoded_branch_id_routes_like_the_plain_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
