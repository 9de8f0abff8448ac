/* timeutil.c - clocks and timestamp formatting. */
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t clock_offset;

void ds_set_clock_offset(int64_t seconds) { clock_offset = seconds; }

int64_t ds_now(void) { return (int64_t)time(NULL) + clock_offset; }

double ds_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct timespec ds_deadline(int clock, long ms) {
    struct timespec ts;
    clock_gettime((clockid_t)clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

void ds_rfc3339(int64_t epoch, char out[DS_RFC3339_LEN]) {
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    memcpy(out, buf, DS_RFC3339_LEN - 1);
    out[DS_RFC3339_LEN - 1] = '\0';
}
