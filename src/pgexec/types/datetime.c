/* datetime.c - dates, times, timestamps and intervals as PostgreSQL writes them. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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


/* ---- dates and times in: PostgreSQL's input syntax (DateStyle ISO) ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (astronomical year), after Howard
 * Hinnant's days_from_civil. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* PostgreSQL's range: 4713-11-24 BC (Julian day 0) to 5874897-12-31 (dates) and
 * 294276-12-31 (timestamps), as days since 1970-01-01. */
#define PG_DATE_MIN_DAYS INT64_C(-2440588)
#define PG_DATE_END_DAYS INT64_C(2145031948) /* first day past 5874897-12-31 */

typedef struct {
    const char *s;
    size_t n, i;
} scan;

static void skip_space(scan *c) {
    while (c->i < c->n && isspace((unsigned char)c->s[c->i])) c->i++;
}

/* Up to `max` decimal digits; returns the count (0: none). */
static int digits(scan *c, int max, int64_t *v) {
    int k = 0;
    *v = 0;
    while (c->i < c->n && k < max && isdigit((unsigned char)c->s[c->i])) *v = *v * 10 + (c->s[c->i++] - '0'), k++;
    return k;
}

static bool word_is(scan *c, const char *w) {
    size_t n = strlen(w);
    if (c->n - c->i < n || strncasecmp(c->s + c->i, w, n)) return false;
    if (c->i + n < c->n && isalpha((unsigned char)c->s[c->i + n])) return false;
    c->i += n;
    return true;
}

/* "Y-M-D" (year of 1+ digits) or "YYYYMMDD"; -1 syntax, -2 field out of range. */
static int scan_date(scan *c, int64_t *y, unsigned *m, unsigned *d) {
    int64_t a, b, e;
    size_t start = c->i;
    int na = digits(c, 9, &a);
    if (na == 8 && (c->i == c->n || c->s[c->i] != '-')) {
        *y = a / 10000, *m = (unsigned)(a / 100 % 100), *d = (unsigned)(a % 100);
    } else {
        if (!na || c->i >= c->n || c->s[c->i] != '-') return c->i = start, -1;
        c->i++;
        if (!digits(c, 2, &b) || c->i >= c->n || c->s[c->i] != '-') return -1;
        c->i++;
        if (!digits(c, 2, &e)) return -1;
        *y = a, *m = (unsigned)b, *d = (unsigned)e;
    }
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*y < 1 || *m < 1 || *m > 12 || *d < 1 || *d > mdays[*m - 1] + (*m == 2 && leap(*y))) return -2;
    return 0;
}

/* "HH:MM[:SS[.fraction]]" as microseconds (fraction rounded to the microsecond); -1
 * syntax, -2 out of range (24:00:00 is allowed, as PostgreSQL does). */
static int scan_time(scan *c, int64_t *us) {
    int64_t h, mi, s = 0, frac = 0;
    if (!digits(c, 9, &h) || c->i >= c->n || c->s[c->i] != ':') return -1;
    c->i++;
    if (digits(c, 2, &mi) != 2) return -1;
    if (c->i < c->n && c->s[c->i] == ':') {
        c->i++;
        if (digits(c, 2, &s) != 2) return -1;
        if (c->i < c->n && c->s[c->i] == '.') {
            c->i++;
            int k = 0;
            while (c->i < c->n && isdigit((unsigned char)c->s[c->i])) {
                if (k < 6) frac = frac * 10 + (c->s[c->i] - '0');
                else if (k == 6 && c->s[c->i] >= '5') frac++;
                c->i++, k++;
            }
            for (; k < 6; k++) frac *= 10;
        }
    }
    if (mi > 59 || s > 60 || h > 24) return -2;
    *us = ((h * 60 + mi) * 60 + s) * USECS_PER_SEC + frac;
    if (*us > USECS_PER_DAY) return -2;
    return 0;
}

/* A zone after a time: Z, UTC/GMT, +HH, +HHMM, +HH:MM[:SS] (east positive), or a
 * tz database name (resolved at utc_guess). 1 found, 0 none, -1 malformed. */
static int scan_zone(scan *c, bool *fixed, int32_t *secs_east, pgt_tz **named) {
    skip_space(c);
    if (c->i >= c->n) return 0;
    char ch = c->s[c->i];
    if (ch == '+' || ch == '-') {
        c->i++;
        int64_t h, m = 0, s = 0;
        int nh = digits(c, 4, &h);
        if (!nh) return -1;
        if (nh == 4) m = h % 100, h /= 100;
        else if (nh == 3) return -1;
        else if (c->i < c->n && c->s[c->i] == ':') {
            c->i++;
            if (digits(c, 2, &m) != 2) return -1;
            if (c->i < c->n && c->s[c->i] == ':') {
                c->i++;
                if (digits(c, 2, &s) != 2) return -1;
            }
        }
        if (h > 15 || m > 59 || s > 59) return -1;
        *fixed = true;
        *secs_east = (int32_t)((h * 3600 + m * 60 + s) * (ch == '-' ? -1 : 1));
        return 1;
    }
    if (isalpha((unsigned char)ch)) {
        size_t st = c->i;
        while (c->i < c->n && (isalnum((unsigned char)c->s[c->i]) || strchr("/_+-", c->s[c->i]))) c->i++;
        char name[64];
        size_t len = c->i - st;
        if (len >= sizeof name) return -1;
        memcpy(name, c->s + st, len);
        name[len] = '\0';
        if (!strcasecmp(name, "BC") || !strcasecmp(name, "AD")) return c->i = st, 0;
        if (!strcasecmp(name, "Z") || !strcasecmp(name, "UTC") || !strcasecmp(name, "GMT") ||
            !strcasecmp(name, "Etc/UTC")) {
            *fixed = true;
            *secs_east = 0;
            return 1;
        }
        if (!strchr(name, '/')) return -1; /* abbreviations (CET, PST) are not known here */
        *named = pgt_tz_load(name);
        return *named ? 1 : -1;
    }
    return -1;
}

static int scan_era(scan *c, bool *bc) {
    skip_space(c);
    if (word_is(c, "BC")) *bc = true;
    else word_is(c, "AD");
    skip_space(c);
    return c->i == c->n ? 0 : -1;
}

static bool special(const char *s, size_t n, const char *w) { return strlen(w) == n && !strncasecmp(s, w, n); }

static void err_range(pgt_err *err, const char *p, size_t n) {
    pgt_err_set(err, "22008", "date/time field value out of range: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
}

/* The words PostgreSQL reads as "now": 0 now, 1 today, 2 tomorrow, 3 yesterday; -1
 * none. */
static int relative_word(const char *s, size_t n) {
    static const char *const words[] = {"now", "today", "tomorrow", "yesterday"};
    for (int i = 0; i < 4; i++)
        if (special(s, n, words[i])) return i;
    return -1;
}

/* Local microseconds since 1970 of `word` (relative_word) in zone (NULL: UTC): now, or
 * midnight of today, tomorrow or yesterday. *now_utc gets the current UTC time. */
static int64_t relative_local(int word, const struct pgt_tz *zone, int64_t *now_utc) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t utc = (int64_t)ts.tv_sec * USECS_PER_SEC + ts.tv_nsec / 1000;
    *now_utc = utc;
    int64_t local = utc + (zone ? (int64_t)pgt_tz_offset(zone, (int64_t)ts.tv_sec) * USECS_PER_SEC : 0);
    if (word == 0) return local;
    int64_t day = floor_div(local, USECS_PER_DAY) + (word == 2 ? 1 : word == 3 ? -1 : 0);
    return day * USECS_PER_DAY;
}

/* date_in for ISO dates ("2024-02-29", "20240229", "0044-03-15 BC", "2024-02-29
 * 10:00" whose time is ignored), "infinity", "-infinity", "epoch", and "now", "today",
 * "tomorrow", "yesterday" in zone (NULL: UTC). */
duckdb_value pgt_date_text_in(const char *p, size_t n, const struct pgt_tz *zone, pgt_err *err) {
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    duckdb_date d;
    int rel = relative_word(s, len);
    int64_t now_utc;
    if (rel >= 0) d.days = (int32_t)floor_div(relative_local(rel, zone, &now_utc), USECS_PER_DAY);
    else if (special(s, len, "infinity") || special(s, len, "+infinity")) d.days = INT32_MAX;
    else if (special(s, len, "-infinity")) d.days = -INT32_MAX;
    else if (special(s, len, "epoch")) d.days = 0;
    else {
        scan c = {s, len, 0};
        int64_t y;
        unsigned m, dd;
        int r = scan_date(&c, &y, &m, &dd);
        if (r == -2) goto range;
        if (r) goto bad;
        size_t save = c.i;
        skip_space(&c);
        if (c.i < c.n && (c.s[c.i] == 'T' || isdigit((unsigned char)c.s[c.i]))) {
            if (c.s[c.i] == 'T') c.i++;
            int64_t us;
            if (scan_time(&c, &us)) goto bad;
            bool fixed = false;
            int32_t off;
            pgt_tz *named = NULL;
            if (scan_zone(&c, &fixed, &off, &named) < 0) goto bad;
            pgt_tz_free(named);
        } else {
            c.i = save;
        }
        bool bc = false;
        if (scan_era(&c, &bc)) goto bad;
        if (bc) y = 1 - y;
        int64_t days = days_from_civil(y, m, dd);
        if (days < PG_DATE_MIN_DAYS || days >= PG_DATE_END_DAYS) {
            pgt_err_set(err, "22008", "date out of range: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
            return NULL;
        }
        d.days = (int32_t)days;
    }
    return duckdb_create_date(d);
range:
    err_range(err, p, n);
    return NULL;
bad:
    pgt_err_set(err, "22007", "invalid input syntax for type date: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
    return NULL;
}

/* time_in / timetz_in: "HH:MM[:SS[.f]]" (also "allballs"), with a zone for timetz (none:
 * UTC). A zone on a time without time zone is ignored, as PostgreSQL does. */
duckdb_value pgt_time_text_in(const char *p, size_t n, bool tz, pgt_err *err) {
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    const char *tname = tz ? "time with time zone" : "time without time zone";
    int64_t us = 0;
    int32_t off = 0;
    if (!special(s, len, "allballs")) {
        scan c = {s, len, 0};
        int r = scan_time(&c, &us);
        if (r == -2) goto range;
        if (r) goto bad;
        bool fixed = false;
        pgt_tz *named = NULL;
        int z = scan_zone(&c, &fixed, &off, &named);
        if (named) {
            off = pgt_tz_offset(named, (int64_t)time(NULL));
            pgt_tz_free(named);
        }
        skip_space(&c);
        if (z < 0 || c.i != c.n) goto bad;
    }
    if (!tz) return duckdb_create_time((duckdb_time){.micros = us});
    return duckdb_create_time_tz_value(duckdb_create_time_tz(us, off));
range:
    err_range(err, p, n);
    return NULL;
bad:
    pgt_err_set(err, "22007", "invalid input syntax for type %s: \"%.*s\"", tname, (int)(n > 60 ? 60 : n), p);
    return NULL;
}

/* Seconds east of UTC of local time `local_s` in zone tz (as PostgreSQL resolves local
 * times: the offset in force at local - offset, tried twice). */
static int32_t local_offset(const pgt_tz *tz, int64_t local_s) {
    int32_t off = pgt_tz_offset(tz, local_s);
    return pgt_tz_offset(tz, local_s - off);
}

/* timestamp_in / timestamptz_in: "date[( |T)time][zone][ BC]", "infinity",
 * "-infinity", "epoch", "now", "today", "tomorrow", "yesterday" (midnight in `zone`; now
 * is the current time, not the transaction's start as in PostgreSQL). A timestamptz without a zone is in `zone` (NULL: UTC); a zone
 * on a timestamp without time zone is ignored, as PostgreSQL does. */
duckdb_value pgt_timestamp_text_in(const char *p, size_t n, bool tz, const struct pgt_tz *zone, pgt_err *err) {
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    const char *tname = tz ? "timestamp with time zone" : "timestamp without time zone";
    duckdb_timestamp ts;
    pgt_tz *named = NULL;
    int rel = relative_word(s, len);
    if (rel >= 0) {
        int64_t now_utc, local = relative_local(rel, zone, &now_utc);
        ts.micros = !tz ? local : rel == 0 ? now_utc : zone ? local - (int64_t)local_offset(zone, floor_div(local, USECS_PER_SEC)) * USECS_PER_SEC : local;
    } else if (special(s, len, "infinity") || special(s, len, "+infinity")) ts.micros = INT64_MAX;
    else if (special(s, len, "-infinity")) ts.micros = -INT64_MAX;
    else if (special(s, len, "epoch")) ts.micros = 0;
    else {
        scan c = {s, len, 0};
        int64_t y, us = 0;
        unsigned m, d;
        int r = scan_date(&c, &y, &m, &d);
        if (r == -2) goto range;
        if (r) goto bad;
        size_t save = c.i;
        skip_space(&c);
        if (c.i < c.n && (c.s[c.i] == 'T' || c.s[c.i] == 't')) c.i++;
        if (c.i < c.n && isdigit((unsigned char)c.s[c.i])) {
            r = scan_time(&c, &us);
            if (r == -2) goto range;
            if (r) goto bad;
        } else {
            c.i = save;
        }
        bool fixed = false, bc = false;
        int32_t off = 0;
        if (scan_zone(&c, &fixed, &off, &named) < 0 || scan_era(&c, &bc)) goto bad;
        if (bc) y = 1 - y;
        int64_t days = days_from_civil(y, m, d);
        if (days < PG_DATE_MIN_DAYS || days >= PG_DATE_END_DAYS) goto range;
        /* PostgreSQL's timestamps reach 294276 AD, DuckDB's (microseconds since 1970 in an
         * int64) 294247: past that the value cannot be held (found by fuzz_pgrecv) */
        int64_t local;
        if (__builtin_mul_overflow(days, USECS_PER_DAY, &local) || __builtin_add_overflow(local, us, &local)) goto range;
        int64_t local_s = floor_div(local, USECS_PER_SEC);
        if (tz) {
            if (named) off = local_offset(named, local_s);
            else if (!fixed && zone) off = local_offset(zone, local_s);
        } else {
            off = 0; /* a zone on a timestamp without time zone is ignored */
        }
        int64_t utc;
        if (__builtin_sub_overflow(local, (int64_t)off * USECS_PER_SEC, &utc) || utc == INT64_MAX || utc == -INT64_MAX)
            goto range;
        ts.micros = utc;
    }
    pgt_tz_free(named);
    return tz ? duckdb_create_timestamp_tz(ts) : duckdb_create_timestamp(ts);
range:
    pgt_tz_free(named);
    pgt_err_set(err, "22008", "timestamp out of range: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
    return NULL;
bad:
    pgt_tz_free(named);
    pgt_err_set(err, "22007", "invalid input syntax for type %s: \"%.*s\"", tname, (int)(n > 60 ? 60 : n), p);
    return NULL;
}

/* ---- interval_in ---- */

typedef struct {
    int64_t months, days, micros;
    bool overflow;
} ivacc;

static void iv_add(int64_t *f, long double v, ivacc *a) {
    long double r = rintl(v);
    if (r > (long double)INT64_MAX / 2 || r < -(long double)INT64_MAX / 2 || __builtin_add_overflow(*f, (int64_t)r, f))
        a->overflow = true;
}

static bool is_one_of(const char *w, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(w, *list)) return true;
    return false;
}

/* Adds `v` units of `unit` (PostgreSQL's units and abbreviations); fractions spill into
 * the smaller fields as PostgreSQL does (AdjustFractDays: a month is 30 days). False
 * when the unit is unknown. */
static bool iv_unit(ivacc *a, long double v, const char *u, size_t n) {
    char w[16];
    if (n >= sizeof w) return false;
    for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)u[i]);
    w[n] = '\0';
    if (n > 1 && w[n - 1] == 's' && strcmp(w, "ms") && strcmp(w, "us") && strcmp(w, "s")) w[--n] = '\0';
    long double ip = truncl(v), fp = v - ip;
#define IS(...) is_one_of(w, (const char *[]){__VA_ARGS__, NULL})
    if (IS("microsecond", "us", "usec", "microsecon")) iv_add(&a->micros, v, a);
    else if (IS("millisecond", "ms", "msec", "millisecon")) iv_add(&a->micros, v * 1000, a);
    else if (IS("second", "s", "sec")) iv_add(&a->micros, v * USECS_PER_SEC, a);
    else if (IS("minute", "m", "min")) iv_add(&a->micros, v * USECS_PER_MIN, a);
    else if (IS("hour", "h", "hr")) iv_add(&a->micros, v * USECS_PER_HOUR, a);
    else if (IS("day", "d")) {
        iv_add(&a->days, ip, a);
        iv_add(&a->micros, fp * USECS_PER_DAY, a);
    } else if (IS("week", "w")) {
        iv_add(&a->days, ip * 7, a);
        long double fd = fp * 7;
        iv_add(&a->days, truncl(fd), a);
        iv_add(&a->micros, (fd - truncl(fd)) * USECS_PER_DAY, a);
    } else if (IS("month", "mon")) {
        iv_add(&a->months, ip, a);
        long double fd = fp * 30;
        iv_add(&a->days, truncl(fd), a);
        iv_add(&a->micros, (fd - truncl(fd)) * USECS_PER_DAY, a);
    } else if (IS("year", "y", "yr")) {
        iv_add(&a->months, ip * 12 + rintl(fp * 12), a);
    } else if (IS("decade", "dec")) {
        iv_add(&a->months, ip * 120 + rintl(fp * 120), a);
    } else if (IS("century", "centurie", "c", "cent")) {
        iv_add(&a->months, ip * 1200 + rintl(fp * 1200), a);
    } else if (IS("millennium", "millennia", "millennium", "mil", "millenniu")) {
        iv_add(&a->months, ip * 12000 + rintl(fp * 12000), a);
    } else {
        return false;
    }
#undef IS
    return true;
}


/* A signed decimal number "[+-]d[.d]"; false when there is none. */
static bool scan_number(scan *c, long double *v, bool *had_sign, bool *neg) {
    size_t st = c->i;
    *neg = *had_sign = false;
    if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-')) *had_sign = true, *neg = c->s[c->i++] == '-';
    long double x = 0;
    int nd = 0;
    while (c->i < c->n && isdigit((unsigned char)c->s[c->i])) x = x * 10 + (c->s[c->i++] - '0'), nd++;
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        long double scale = 0.1L;
        while (c->i < c->n && isdigit((unsigned char)c->s[c->i])) x += (c->s[c->i++] - '0') * scale, scale /= 10, nd++;
    }
    if (!nd) return c->i = st, false;
    *v = *neg ? -x : x;
    return true;
}

/* ISO 8601 "P1Y2M3W4DT5H6M7.5S" (the designator format; the alternative format
 * "P0001-02-03T..." is not read). */
static bool iv_iso(scan *c, ivacc *a) {
    c->i++; /* P */
    bool in_time = false, any = false;
    while (c->i < c->n) {
        if (c->s[c->i] == 'T' || c->s[c->i] == 't') {
            if (in_time) return false;
            in_time = true;
            c->i++;
            continue;
        }
        long double v;
        bool hs, neg;
        if (!scan_number(c, &v, &hs, &neg) || c->i >= c->n) return false;
        char u = (char)toupper((unsigned char)c->s[c->i++]);
        const char *unit = NULL;
        if (!in_time) unit = u == 'Y' ? "year" : u == 'M' ? "mon" : u == 'W' ? "week" : u == 'D' ? "day" : NULL;
        else unit = u == 'H' ? "hour" : u == 'M' ? "min" : u == 'S' ? "sec" : NULL;
        if (!unit || !iv_unit(a, v, unit, strlen(unit))) return false;
        any = true;
    }
    return any;
}

/* "H:MM[:SS[.f]]" (hours unbounded) after its sign was read; adds it with that sign.
 * False (nothing read) when the text there is not a clock time. */
static bool iv_clock(scan *c, ivacc *a, bool neg) {
    size_t st = c->i;
    int64_t h, mi, sec = 0;
    if (!digits(c, 12, &h) || c->i >= c->n || c->s[c->i] != ':') return c->i = st, false;
    c->i++;
    if (digits(c, 2, &mi) != 2) return c->i = st, false;
    long double us = 0;
    if (c->i < c->n && c->s[c->i] == ':') {
        c->i++;
        if (digits(c, 2, &sec) != 2) return c->i = st, false;
        if (c->i < c->n && c->s[c->i] == '.') {
            c->i++;
            long double scale = 100000.0L;
            while (c->i < c->n && isdigit((unsigned char)c->s[c->i])) us += (c->s[c->i++] - '0') * scale, scale /= 10;
        }
    }
    if (mi > 59 || sec > 59) return c->i = st, false;
    long double total = (long double)h * USECS_PER_HOUR + (long double)mi * USECS_PER_MIN + (long double)sec * USECS_PER_SEC + us;
    iv_add(&a->micros, neg ? -total : total, a);
    return true;
}

/* interval_in (IntervalStyle postgres input): "[@] n unit [n unit ...] [H:MM:SS] [ago]",
 * e.g. "1 year 2 mons 3 days 04:05:06.5", "-1 days +02:00:00", "1.5 hours", "3 4:05:06"
 * (days and a time), "1-2" (years-months), a bare number (seconds), and ISO 8601. */
duckdb_value pgt_interval_text_in(const char *p, size_t n, pgt_err *err) {
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    scan c = {s, len, 0};
    ivacc a = {0};
    bool any = false, ago = false;
    if (len && (s[0] == 'P' || s[0] == 'p')) {
        if (!iv_iso(&c, &a)) goto bad;
        any = true;
    }
    while (!any || c.i < c.n) {
        skip_space(&c);
        if (c.i >= c.n) break;
        if (c.s[c.i] == '@') {
            c.i++;
            continue;
        }
        if (word_is(&c, "ago")) {
            skip_space(&c);
            if (c.i != c.n) goto bad;
            ago = true;
            break;
        }
        size_t st = c.i;
        bool hs = false, neg = false;
        if (c.s[c.i] == '+' || c.s[c.i] == '-') hs = true, neg = c.s[c.i++] == '-';
        if (iv_clock(&c, &a, neg)) {
            any = true;
            continue;
        }
        c.i = st;
        long double v;
        if (!scan_number(&c, &v, &hs, &neg)) goto bad;
        /* "1-2": years-months */
        if (c.i < c.n && c.s[c.i] == '-' && v == truncl(v)) {
            c.i++;
            int64_t mo;
            if (!digits(&c, 2, &mo) || mo > 11) goto bad;
            iv_unit(&a, v, "year", 4);
            iv_add(&a.months, neg ? -(long double)mo : (long double)mo, &a);
            any = true;
            continue;
        }
        skip_space(&c);
        size_t ws = c.i;
        while (c.i < c.n && isalpha((unsigned char)c.s[c.i])) c.i++;
        if (c.i > ws && !(c.i - ws == 3 && !strncasecmp(c.s + ws, "ago", 3))) {
            if (!iv_unit(&a, v, c.s + ws, c.i - ws)) goto bad;
        } else {
            c.i = ws;
            /* A bare number: days when a time follows ("3 4:05:06"), else seconds. */
            scan look = c;
            int64_t dummy;
            bool clock_next = look.i < look.n && digits(&look, 12, &dummy) && look.i < look.n && look.s[look.i] == ':';
            iv_unit(&a, v, clock_next ? "day" : "sec", clock_next ? 3 : 3);
        }
        any = true;
    }
    if (!any) goto bad;
    if (ago) a.months = -a.months, a.days = -a.days, a.micros = -a.micros;
    if (a.overflow || a.months > INT32_MAX || a.months < INT32_MIN || a.days > INT32_MAX || a.days < INT32_MIN) {
        pgt_err_set(err, "22015", "interval field value out of range: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
        return NULL;
    }
    return duckdb_create_interval((duckdb_interval){.months = (int32_t)a.months, .days = (int32_t)a.days, .micros = a.micros});
bad:
    pgt_err_set(err, "22007", "invalid input syntax for type interval: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
    return NULL;
}
