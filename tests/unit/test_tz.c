/* Unit tests for pgwire/tz: offsets from the tz database agree with the C library's
 * localtime_r for the same zone, over past, present and far-future instants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "pgexec/types/tz.h"

static void check_zone(const char *zone) {
    pgt_tz *tz = pgt_tz_load(zone);
    assert_non_null(tz);
    setenv("TZ", zone, 1);
    tzset();
    /* Every ~9 days from 1900 to 2100 (covers DST switches and the POSIX rule era). */
    for (int64_t t = -2208988800LL; t < 4102444800LL; t += 86400 * 9 + 3607) {
        time_t tt = (time_t)t;
        struct tm tm;
        localtime_r(&tt, &tm);
        int32_t got = pgt_tz_offset(tz, t);
        if (got != tm.tm_gmtoff) fail_msg("%s at %lld: got %d, libc says %ld", zone, (long long)t, got, tm.tm_gmtoff);
    }
    pgt_tz_free(tz);
}

static void test_zones_match_libc(void **st) {
    (void)st;
    check_zone("Europe/Prague");
    check_zone("America/New_York");
    check_zone("Australia/Sydney");
    check_zone("Asia/Kolkata");
}

static void test_fixed_offsets_and_bad_names(void **st) {
    (void)st;
    pgt_tz *tz = pgt_tz_load("UTC");
    assert_int_equal(pgt_tz_offset(tz, 1000), 0);
    pgt_tz_free(tz);
    tz = pgt_tz_load("-7");
    assert_int_equal(pgt_tz_offset(tz, 1000), -7 * 3600);
    pgt_tz_free(tz);
    tz = pgt_tz_load("+05:30");
    assert_int_equal(pgt_tz_offset(tz, 1000), 5 * 3600 + 1800);
    pgt_tz_free(tz);
    assert_null(pgt_tz_load("../../etc/passwd"));
    assert_null(pgt_tz_load("/etc/localtime"));
    assert_null(pgt_tz_load("No/Such_Zone"));
    assert_null(pgt_tz_load(""));
    /* Absurd offsets in a POSIX rule are refused, not overflowed (found by fuzzing). */
    assert_null(pgt_tz_load("555555555555"));
    static const uint8_t junk[] = "TZif2 not really a tz file at all, just bytes....";
    assert_null(pgt_tz_parse(junk, sizeof junk));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zones_match_libc),
        cmocka_unit_test(test_fixed_offsets_and_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
