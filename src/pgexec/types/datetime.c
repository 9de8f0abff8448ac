/* datetime.c - dates, times, timestamps and intervals as PostgreSQL writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/types/codec.h"
#include "pgexec/types/tz.h"

/* ---- dates and times ---- */

static inline int64_t floor_div(int64_t a, int64_t d) {
    int64_t q = a / d;
    return (a % d != 0 && (a < 0) != (d < 0)) ? q - 1 : q;
}

/* Proleptic Gregorian calendar from days since 1970-01-01 (astronomical years: 0 is
 * 1 BC), after Howard Hinnant's civil_from_days. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static inline char *two(char *o, unsigned v) {
    o[0] = pgt_digit_pairs[v * 2];
    o[1] = pgt_digit_pairs[v * 2 + 1];
    return o + 2;
}

/* "YYYY-MM-DD" (year zero-padded to 4, BC years as 1 - y); sets *bc. Needs 24 bytes. */
static char *date_ymd(char *o, int64_t days, bool *bc) {
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    *bc = y <= 0;
    uint64_t yy = *bc ? (uint64_t)(1 - y) : (uint64_t)y;
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = pgt_u64_rev(end, yy);
    while (end - p < 4)
        *--p = '0';
    memcpy(o, p, (size_t)(end - p));
    o += end - p;
    *o++ = '-';
    o = two(o, m);
    *o++ = '-';
    return two(o, d);
}

/* Fraction of a second: ".ffffff" without trailing zeros, nothing when zero. */
static char *frac6(char *o, uint32_t us) {
    if (!us)
        return o;
    *o++ = '.';
    int n = 6;
    while (us % 10 == 0) {
        us /= 10;
        n--;
    }
    for (int i = n - 1; i >= 0; i--) {
        o[i] = (char)('0' + us % 10);
        us /= 10;
    }
    return o + n;
}

/* "HH:MM:SS[.ffffff]" from microseconds since midnight (HH may exceed 23). */
static char *hms(char *o, uint64_t us) {
    uint64_t h = us / (uint64_t)USECS_PER_HOUR;
    us %= (uint64_t)USECS_PER_HOUR;
    if (h < 100) {
        o = two(o, (unsigned)h);
    } else {
        char tmp[24];
        char *p = pgt_u64_rev(tmp + sizeof tmp, h);
        memcpy(o, p, (size_t)(tmp + sizeof tmp - p));
        o += tmp + sizeof tmp - p;
    }
    *o++ = ':';
    o = two(o, (unsigned)(us / (uint64_t)USECS_PER_MIN));
    us %= (uint64_t)USECS_PER_MIN;
    *o++ = ':';
    o = two(o, (unsigned)(us / (uint64_t)USECS_PER_SEC));
    return frac6(o, (uint32_t)(us % (uint64_t)USECS_PER_SEC));
}

/* PostgreSQL's EncodeTimezone: "+HH", "+HH:MM" or "+HH:MM:SS"; east is positive. */
static char *tz_offset(char *o, int32_t secs_east) {
    *o++ = secs_east < 0 ? '-' : '+';
    uint32_t s = (uint32_t)(secs_east < 0 ? -secs_east : secs_east);
    o = two(o, s / 3600 % 100);
    s %= 3600;
    if (s) {
        *o++ = ':';
        o = two(o, s / 60);
        if (s % 60) {
            *o++ = ':';
            o = two(o, s % 60);
        }
    }
    return o;
}

int pgt_put_date(pgt_buf *b, int32_t days) {
    if (days == INT32_MAX)
        return PUT_LIT(b, "infinity");
    if (days == -INT32_MAX)
        return PUT_LIT(b, "-infinity");
    if (pgt_buf_reserve(b, 40))
        return -1;
    bool bc;
    char *o = date_ymd(b->data + b->len, days, &bc);
    if (bc) {
        memcpy(o, " BC", 3);
        o += 3;
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

/* A timestamp given as `v` units of 1/per_sec second since the epoch (per_sec one of
 * 1, 10^3, 10^6, 10^9); nanoseconds are rounded to microseconds as PostgreSQL would on
 * input. INT64_MAX and -INT64_MAX are DuckDB's infinities. */
int pgt_put_timestamp(pgt_buf *b, int64_t v, int64_t per_sec, bool tz) {
    if (v == INT64_MAX)
        return PUT_LIT(b, "infinity");
    if (v == -INT64_MAX)
        return PUT_LIT(b, "-infinity");
    int64_t per_day = 86400 * per_sec;
    int64_t days = floor_div(v, per_day);
    int64_t rem = v - days * per_day;
    uint64_t us;
    if (per_sec <= USECS_PER_SEC) {
        us = (uint64_t)rem * (uint64_t)(USECS_PER_SEC / per_sec);
    } else {
        us = ((uint64_t)rem + 500) / 1000;
        if (us == (uint64_t)USECS_PER_DAY) {
            days++;
            us = 0;
        }
    }
    if (pgt_buf_reserve(b, 64))
        return -1;
    bool bc;
    char *o = date_ymd(b->data + b->len, days, &bc);
    *o++ = ' ';
    o = hms(o, us);
    if (tz)
        o = tz_offset(o, 0);
    if (bc) {
        memcpy(o, " BC", 3);
        o += 3;
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

/* A timestamptz shown in zone tz (UTC when NULL), like PostgreSQL: local time and
 * the offset in force then ("2024-07-01 14:00:00+02"). */
int pgt_put_timestamptz(pgt_buf *b, int64_t us, const struct pgt_tz *tz) {
    if (!tz || us == INT64_MAX || us == -INT64_MAX) return pgt_put_timestamp(b, us, USECS_PER_SEC, true);
    int64_t secs = us / USECS_PER_SEC - (us % USECS_PER_SEC < 0);
    int32_t off = pgt_tz_offset(tz, secs);
    size_t start = b->len;
    if (pgt_put_timestamp(b, us + (int64_t)off * USECS_PER_SEC, USECS_PER_SEC, false) != 0) return -1;
    /* Insert the offset before a trailing " BC". */
    bool bc = b->len - start > 3 && memcmp(b->data + b->len - 3, " BC", 3) == 0;
    if (bc) b->len -= 3;
    if (pgt_buf_reserve(b, 16)) return -1;
    char *o = tz_offset(b->data + b->len, off);
    if (bc) {
        memcpy(o, " BC", 3);
        o += 3;
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

int pgt_put_time(pgt_buf *b, uint64_t us, bool has_tz, int32_t secs_east) {
    if (pgt_buf_reserve(b, 48))
        return -1;
    char *o = hms(b->data + b->len, us);
    if (has_tz)
        o = tz_offset(o, secs_east);
    b->len = (size_t)(o - b->data);
    return 0;
}

/* PostgreSQL's AddPostgresIntPart: " [+]N unit[s]". */
static int interval_part(pgt_buf *b, int64_t value, const char *unit, bool *is_zero, bool *is_before) {
    if (value == 0)
        return 0;
    if (pgt_buf_reserve(b, 40))
        return -1;
    if (!*is_zero)
        b->data[b->len++] = ' ';
    if (*is_before && value > 0)
        b->data[b->len++] = '+';
    pgt_put_i64(b, value);
    b->data[b->len++] = ' ';
    size_t n = strlen(unit);
    memcpy(b->data + b->len, unit, n);
    b->len += n;
    if (value != 1)
        b->data[b->len++] = 's';
    *is_before = value < 0;
    *is_zero = false;
    return 0;
}

/* IntervalStyle postgres: "1 year 2 mons 3 days 04:05:06.5", "-1 days +02:00:00". */
int pgt_put_interval(pgt_buf *b, duckdb_interval iv) {
    bool is_zero = true, is_before = false;
    if (interval_part(b, iv.months / 12, "year", &is_zero, &is_before) ||
        interval_part(b, iv.months % 12, "mon", &is_zero, &is_before) ||
        interval_part(b, iv.days, "day", &is_zero, &is_before))
        return -1;
    if (!is_zero && iv.micros == 0)
        return 0;
    if (pgt_buf_reserve(b, 48))
        return -1;
    char *o = b->data + b->len;
    if (!is_zero)
        *o++ = ' ';
    if (iv.micros < 0)
        *o++ = '-';
    else if (is_before)
        *o++ = '+';
    o = hms(o, iv.micros < 0 ? 0 - (uint64_t)iv.micros : (uint64_t)iv.micros);
    b->len = (size_t)(o - b->data);
    return 0;
}

