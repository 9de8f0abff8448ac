/* types.c - PostgreSQL type OIDs and text output for DuckDB values: what a PostgreSQL 15
 * server would print for the same value (DateStyle ISO, IntervalStyle postgres,
 * extra_float_digits 1, bytea_output hex, TimeZone UTC). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgexec/types.h"
#include "pgexec/tz.h"

typedef unsigned __int128 pgt_u128;

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_MIN INT64_C(60000000)
#define USECS_PER_HOUR INT64_C(3600000000)
#define USECS_PER_DAY INT64_C(86400000000)

/* ---- buffer ---- */

void pgt_buf_init(pgt_buf *b) {
    b->data = NULL;
    b->len = b->cap = 0;
}

void pgt_buf_free(pgt_buf *b) {
    if (!b)
        return;
    free(b->data);
    pgt_buf_init(b);
}

int pgt_buf_reserve(pgt_buf *b, size_t extra) {
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return -1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int pgt_buf_append(pgt_buf *b, const void *p, size_t n) {
    if (pgt_buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static inline int put_char(pgt_buf *b, char ch) {
    if (b->len == b->cap && pgt_buf_reserve(b, 1))
        return -1;
    b->data[b->len++] = ch;
    return 0;
}

#define PUT_LIT(b, s) pgt_buf_append((b), (s), sizeof(s) - 1)

/* ---- OIDs ---- */

static uint32_t scalar_oid(duckdb_logical_type t, duckdb_type id) {
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
        return PGT_BOOL;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_UTINYINT:
        return PGT_INT2;
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_USMALLINT:
        return PGT_INT4;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UINTEGER:
        return PGT_INT8;
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_DECIMAL:
    case DUCKDB_TYPE_BIGNUM:
        return PGT_NUMERIC;
    case DUCKDB_TYPE_FLOAT:
        return PGT_FLOAT4;
    case DUCKDB_TYPE_DOUBLE:
        return PGT_FLOAT8;
    case DUCKDB_TYPE_VARCHAR: {
        char *alias = duckdb_logical_type_get_alias(t);
        bool json = alias && strcasecmp(alias, "JSON") == 0;
        if (alias)
            duckdb_free(alias);
        return json ? PGT_JSON : PGT_TEXT;
    }
    case DUCKDB_TYPE_BLOB:
        return PGT_BYTEA;
    case DUCKDB_TYPE_DATE:
        return PGT_DATE;
    case DUCKDB_TYPE_TIME:
    case DUCKDB_TYPE_TIME_NS:
        return PGT_TIME;
    case DUCKDB_TYPE_TIME_TZ:
        return PGT_TIMETZ;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return PGT_TIMESTAMP;
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return PGT_TIMESTAMPTZ;
    case DUCKDB_TYPE_INTERVAL:
        return PGT_INTERVAL;
    case DUCKDB_TYPE_UUID:
        return PGT_UUID;
    default:
        return PGT_TEXT;
    }
}

static uint32_t array_oid_of(uint32_t elem) {
    switch (elem) {
    case PGT_BOOL: return PGT_BOOL_ARRAY;
    case PGT_INT2: return PGT_INT2_ARRAY;
    case PGT_INT4: return PGT_INT4_ARRAY;
    case PGT_INT8: return PGT_INT8_ARRAY;
    case PGT_FLOAT4: return PGT_FLOAT4_ARRAY;
    case PGT_FLOAT8: return PGT_FLOAT8_ARRAY;
    case PGT_NUMERIC: return PGT_NUMERIC_ARRAY;
    case PGT_DATE: return PGT_DATE_ARRAY;
    case PGT_TIME: return PGT_TIME_ARRAY;
    case PGT_TIMESTAMP: return PGT_TIMESTAMP_ARRAY;
    case PGT_TIMESTAMPTZ: return PGT_TIMESTAMPTZ_ARRAY;
    case PGT_INTERVAL: return PGT_INTERVAL_ARRAY;
    case PGT_UUID: return PGT_UUID_ARRAY;
    case PGT_JSON: return PGT_JSON_ARRAY;
    case PGT_BYTEA: return PGT_BYTEA_ARRAY;
    default: return PGT_TEXT_ARRAY;
    }
}

uint32_t pgt_oid(duckdb_logical_type t) {
    duckdb_type id = duckdb_get_type_id(t);
    if (id != DUCKDB_TYPE_LIST && id != DUCKDB_TYPE_ARRAY)
        return scalar_oid(t, id);
    duckdb_logical_type child =
        id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(t) : duckdb_array_type_child_type(t);
    if (!child)
        return PGT_TEXT_ARRAY;
    duckdb_type cid = duckdb_get_type_id(child);
    /* Nested lists and lists of records are sent as text[] of their literals. */
    uint32_t elem = (cid == DUCKDB_TYPE_LIST || cid == DUCKDB_TYPE_ARRAY) ? PGT_TEXT : scalar_oid(child, cid);
    duckdb_destroy_logical_type(&child);
    return array_oid_of(elem);
}

int16_t pgt_typlen(uint32_t oid) {
    switch (oid) {
    case PGT_BOOL: return 1;
    case PGT_INT2: return 2;
    case PGT_INT4:
    case PGT_FLOAT4:
    case PGT_DATE: return 4;
    case PGT_INT8:
    case PGT_FLOAT8:
    case PGT_TIME:
    case PGT_TIMESTAMP:
    case PGT_TIMESTAMPTZ: return 8;
    case PGT_TIMETZ: return 12;
    case PGT_INTERVAL:
    case PGT_UUID: return 16;
    default: return -1;
    }
}

bool pgt_is_null(duckdb_vector v, idx_t row) {
    const uint64_t *mask = duckdb_vector_get_validity(v);
    return mask && !((mask[row >> 6] >> (row & 63)) & 1);
}

/* ---- numbers ---- */

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* Writes v in decimal ending just before `end`; returns the first character. */
static char *u64_rev(char *end, uint64_t v) {
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--end = digit_pairs[i + 1];
        *--end = digit_pairs[i];
    }
    if (v >= 10) {
        unsigned i = (unsigned)v * 2;
        *--end = digit_pairs[i + 1];
        *--end = digit_pairs[i];
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

static char *u128_rev(char *end, pgt_u128 v) {
    const uint64_t e19 = UINT64_C(10000000000000000000);
    while (v > UINT64_MAX) {
        uint64_t r = (uint64_t)(v % e19);
        v /= e19;
        char *p = u64_rev(end, r);
        while (end - p < 19)
            *--p = '0';
        end = p;
    }
    return u64_rev(end, (uint64_t)v);
}

static int put_u128(pgt_buf *b, bool neg, pgt_u128 mag) {
    char tmp[48];
    char *end = tmp + sizeof tmp;
    char *p = u128_rev(end, mag);
    if (neg)
        *--p = '-';
    return pgt_buf_append(b, p, (size_t)(end - p));
}

static int put_i64(pgt_buf *b, int64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = u64_rev(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    return pgt_buf_append(b, p, (size_t)(end - p));
}

static int put_u64(pgt_buf *b, uint64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = u64_rev(end, v);
    return pgt_buf_append(b, p, (size_t)(end - p));
}

static pgt_u128 hugeint_mag(duckdb_hugeint h, bool *neg) {
    pgt_u128 u = ((pgt_u128)(uint64_t)h.upper << 64) | h.lower;
    *neg = h.upper < 0;
    return *neg ? (pgt_u128)0 - u : u;
}

/* A DECIMAL's unscaled value printed with exactly `scale` fraction digits. */
static int put_decimal(pgt_buf *b, bool neg, pgt_u128 mag, unsigned scale) {
    char tmp[48];
    char *end = tmp + sizeof tmp;
    char *p = u128_rev(end, mag);
    size_t nd = (size_t)(end - p);
    if (pgt_buf_reserve(b, nd + scale + 3))
        return -1;
    char *o = b->data + b->len;
    if (neg && mag)
        *o++ = '-';
    if (scale == 0) {
        memcpy(o, p, nd);
        o += nd;
    } else if (nd <= scale) {
        *o++ = '0';
        *o++ = '.';
        memset(o, '0', scale - nd);
        o += scale - nd;
        memcpy(o, p, nd);
        o += nd;
    } else {
        memcpy(o, p, nd - scale);
        o += nd - scale;
        *o++ = '.';
        memcpy(o, p + nd - scale, scale);
        o += scale;
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

/* True when the decimal d * 10^k equals mid (a positive dyadic rational) exactly:
 * with d = d_odd * 2^t and mid = q * 2^s (d_odd, q odd), that is t + k == s and
 * d_odd * 5^k == q. */
static bool dec_equals(uint64_t d, int k, long double mid) {
    if (d == 0)
        return false;
    int ex;
    long double fr = frexpl(mid, &ex);
    uint64_t q = (uint64_t)ldexpl(fr, 64);
    int sh = ex - 64;
    while (!(q & 1)) {
        q >>= 1;
        sh++;
    }
    int t = 0;
    while (!(d & 1)) {
        d >>= 1;
        t++;
    }
    if (t + k != sh || k > 27 || k < -27)
        return false;
    pgt_u128 p5 = 1;
    for (int i = 0; i < (k < 0 ? -k : k); i++)
        p5 *= 5;
    return k >= 0 ? (pgt_u128)d * p5 == q : (pgt_u128)q * p5 == d;
}

/* True when the decimal s ("[-]d.ddde+XX", digits d * 10^k) reads back as v and is
 * not exactly halfway between v and a neighbour: PostgreSQL builds Ryu with
 * STRICTLY_SHORTEST 0, so it never prints a midpoint that only round-half-even maps
 * back (float4 3e10 prints "3.0000001e+10"). The midpoints are exact in the wider
 * type (54 bits in long double, 25 in double); a parse landing on one is then checked
 * exactly, as a decimal near a midpoint may round onto it. */
static bool reads_back(const char *s, uint64_t d, int k, double v, bool is_float) {
    long double x, lo, hi;
    /* Below 2^49 (2^20 for float) a midpoint is an odd multiple of a power of two
     * below one whose exact decimal needs more digits than a shortest candidate has
     * (17, or 9), so a parse that lands on v is enough. */
    if (is_float) {
        float f = (float)v;
        if (strtof(s, NULL) != f)
            return false;
        if (fabsf(f) < 0x1p20f)
            return true;
        x = strtod(s, NULL);
        lo = ((double)f + (double)nextafterf(f, -INFINITY)) / 2;
        hi = ((double)f + (double)nextafterf(f, INFINITY)) / 2;
    } else {
        if (strtod(s, NULL) != v)
            return false;
        if (fabs(v) < 0x1p49)
            return true;
        x = strtold(s, NULL);
        lo = ((long double)v + (long double)nextafter(v, -INFINITY)) / 2;
        hi = ((long double)v + (long double)nextafter(v, INFINITY)) / 2;
    }
    if (x == lo && dec_equals(d, k, fabsl(lo)))
        return false;
    if (x == hi && dec_equals(d, k, fabsl(hi)))
        return false;
    return true;
}

/* Splits "[-]d.ddde(+|-)XX" into its digits and decimal exponent; returns the count. */
static int sci_digits(const char *s, char dig[24], int *exp) {
    int nd = 0;
    if (*s == '-')
        s++;
    for (; *s != 'e' && nd < 23; s++)
        if (*s != '.')
            dig[nd++] = *s;
    *exp = atoi(s + 1);
    return nd;
}

static int put_sci_layout(pgt_buf *b, bool neg, const char *dig, int nd, int exp, bool is_float);

/* Fast path for the common doubles that are a decimal of at most 15 digits with at
 * most 6 fraction digits (prices, measurements, integers): finds r with r / 10^k == |v|
 * exactly in double arithmetic. Such a decimal reads back as v, and as every decimal of
 * at most DBL_DIG digits maps to a distinct double, it is the shortest one; below 2^49
 * it is never a midpoint. Returns false when the slow search is needed. */
static bool short_double(double v, char dig[24], int *nd, int *exp) {
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    double a = fabs(v);
    if (!(a < 0x1p49))
        return false;
    for (int k = 0; k < 7; k++) {
        double sc = a * p10[k];
        if (sc >= 1e15)
            return false;
        double r = nearbyint(sc);
        if (r != 0 && r / p10[k] == a) {
            char *end = dig + 24;
            char *p = u64_rev(end, (uint64_t)r);
            *nd = (int)(end - p);
            memmove(dig, p, (size_t)*nd);
            *exp = *nd - 1 - k;
            return true;
        }
    }
    return false;
}

/* Shortest decimal that reads back as the same value, laid out as PostgreSQL 12+ does
 * (Ryu's float8out/float4out): fixed notation for decimal exponents in [-4, 15) for
 * double and [-4, 6) for float, otherwise d.ddde+XX. Every decimal of at most DBL_DIG
 * (FLT_DIG) digits survives a round trip, so for normal numbers the search starts
 * there; subnormals have fewer significant bits and start from one digit. */
static int put_float(pgt_buf *b, double v, bool is_float) {
    if (isnan(v))
        return PUT_LIT(b, "NaN");
    if (isinf(v))
        return v < 0 ? PUT_LIT(b, "-Infinity") : PUT_LIT(b, "Infinity");
    if (v == 0)
        return signbit(v) ? PUT_LIT(b, "-0") : put_char(b, '0');

    char tmp[40];
    char dig[24];
    int nd, exp;
    if (!is_float && short_double(v, dig, &nd, &exp))
        return put_sci_layout(b, signbit(v), dig, nd, exp, false);
    int maxp = is_float ? 8 : 16;
    int prec = is_float ? (fabs(v) < FLT_MIN ? 0 : 5) : (fabs(v) < DBL_MIN ? 0 : 14);
    for (;; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, v);
        nd = sci_digits(tmp, dig, &exp);
        if (prec >= maxp)
            break;
        uint64_t d = 0;
        for (int i = 0; i < nd; i++)
            d = d * 10 + (uint64_t)(dig[i] - '0');
        if (reads_back(tmp, d, exp - (nd - 1), v, is_float))
            break;
    }
    return put_sci_layout(b, tmp[0] == '-', dig, nd, exp, is_float);
}

/* Lays out significant digits dig[0..nd) with decimal exponent exp as float4out and
 * float8out do (trailing zeros of dig are dropped). */
static int put_sci_layout(pgt_buf *b, bool neg, const char *dig, int nd, int exp, bool is_float) {
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    if (pgt_buf_reserve(b, 48))
        return -1;
    char *o = b->data + b->len;
    if (neg)
        *o++ = '-';
    if (exp >= -4 && exp < (is_float ? 6 : 15)) {
        if (exp < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp - 1; i++)
                *o++ = '0';
            memcpy(o, dig, (size_t)nd);
            o += nd;
        } else if (nd <= exp + 1) {
            memcpy(o, dig, (size_t)nd);
            o += nd;
            for (int i = nd; i < exp + 1; i++)
                *o++ = '0';
        } else {
            memcpy(o, dig, (size_t)exp + 1);
            o += exp + 1;
            *o++ = '.';
            memcpy(o, dig + exp + 1, (size_t)(nd - exp - 1));
            o += nd - exp - 1;
        }
    } else {
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = exp < 0 ? '-' : '+';
        int ae = exp < 0 ? -exp : exp;
        if (ae >= 100)
            *o++ = (char)('0' + ae / 100);
        *o++ = (char)('0' + ae / 10 % 10);
        *o++ = (char)('0' + ae % 10);
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

/* Variable-size integer (BIGNUM/VARINT): 3-byte header whose top bit is set for
 * non-negative numbers (the whole header and the payload are bit-inverted for
 * negative ones), then the magnitude big-endian. */
static int put_bignum(pgt_buf *b, const uint8_t *p, size_t n) {
    if (n < 3)
        return PUT_LIT(b, "0");
    bool neg = !(p[0] & 0x80);
    uint8_t inv = neg ? 0xff : 0;
    p += 3;
    n -= 3;
    while (n && (uint8_t)(p[0] ^ inv) == 0) {
        p++;
        n--;
    }
    if (n <= 16) {
        pgt_u128 mag = 0;
        for (size_t i = 0; i < n; i++)
            mag = (mag << 8) | (uint8_t)(p[i] ^ inv);
        return put_u128(b, neg && mag, mag);
    }
    /* Long division by 10^9 on a copy of the magnitude; rare, so it may allocate. */
    uint8_t *m = malloc(n);
    size_t nchunks = n * 241 / 900 + 2; /* 9-digit chunks: n bytes < 10^(2.41 n) */
    uint32_t *chunks = malloc(nchunks * sizeof *chunks);
    if (!m || !chunks) {
        free(m);
        free(chunks);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        m[i] = (uint8_t)(p[i] ^ inv);
    size_t nc = 0, start = 0;
    while (start < n && nc < nchunks) {
        uint64_t rem = 0;
        for (size_t i = start; i < n; i++) {
            rem = (rem << 8) | m[i];
            m[i] = (uint8_t)(rem / 1000000000u);
            rem %= 1000000000u;
        }
        chunks[nc++] = (uint32_t)rem;
        while (start < n && m[start] == 0)
            start++;
    }
    int rc = neg ? put_char(b, '-') : 0;
    if (!rc)
        rc = put_u64(b, nc ? chunks[nc - 1] : 0);
    for (size_t i = nc - 1; !rc && i-- > 0;) {
        char tmp[9];
        char *q = u64_rev(tmp + 9, chunks[i]);
        while (q > tmp)
            *--q = '0';
        rc = pgt_buf_append(b, tmp, 9);
    }
    free(m);
    free(chunks);
    return rc;
}

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
    o[0] = digit_pairs[v * 2];
    o[1] = digit_pairs[v * 2 + 1];
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
    char *p = u64_rev(end, yy);
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
        char *p = u64_rev(tmp + sizeof tmp, h);
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

static int put_date(pgt_buf *b, int32_t days) {
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
static int put_timestamp(pgt_buf *b, int64_t v, int64_t per_sec, bool tz) {
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
static int put_timestamptz(pgt_buf *b, int64_t us, const struct pgt_tz *tz) {
    if (!tz || us == INT64_MAX || us == -INT64_MAX) return put_timestamp(b, us, USECS_PER_SEC, true);
    int64_t secs = us / USECS_PER_SEC - (us % USECS_PER_SEC < 0);
    int32_t off = pgt_tz_offset(tz, secs);
    size_t start = b->len;
    if (put_timestamp(b, us + (int64_t)off * USECS_PER_SEC, USECS_PER_SEC, false) != 0) return -1;
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

static int put_time(pgt_buf *b, uint64_t us, bool has_tz, int32_t secs_east) {
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
    put_i64(b, value);
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
static int put_interval(pgt_buf *b, duckdb_interval iv) {
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

/* ---- strings ---- */

static inline void str_of(const duckdb_string_t *s, const char **p, uint32_t *n) {
    *n = s->value.inlined.length;
    *p = *n <= 12 ? s->value.inlined.inlined : s->value.pointer.ptr;
}

static int put_bytea(pgt_buf *b, const uint8_t *p, uint32_t n) {
    static const char hex[] = "0123456789abcdef";
    if (pgt_buf_reserve(b, 2 + (size_t)n * 2))
        return -1;
    char *o = b->data + b->len;
    *o++ = '\\';
    *o++ = 'x';
    for (uint32_t i = 0; i < n; i++) {
        *o++ = hex[p[i] >> 4];
        *o++ = hex[p[i] & 15];
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

/* DuckDB BIT: first byte = number of padding bits at the start of the second byte. */
static int put_bits(pgt_buf *b, const uint8_t *p, uint32_t n) {
    if (n < 2)
        return 0;
    unsigned pad = p[0] & 7;
    if (pgt_buf_reserve(b, (size_t)(n - 1) * 8))
        return -1;
    char *o = b->data + b->len;
    for (uint32_t i = 1; i < n; i++)
        for (unsigned bit = i == 1 ? pad : 0; bit < 8; bit++)
            *o++ = (p[i] >> (7 - bit)) & 1 ? '1' : '0';
    b->len = (size_t)(o - b->data);
    return 0;
}

static int put_uuid(pgt_buf *b, duckdb_hugeint h) {
    static const char hex[] = "0123456789abcdef";
    uint64_t hi = (uint64_t)h.upper ^ (UINT64_C(1) << 63), lo = h.lower;
    if (pgt_buf_reserve(b, 36))
        return -1;
    char *o = b->data + b->len;
    for (int i = 0; i < 32; i++) {
        uint64_t w = i < 16 ? hi : lo;
        int shift = 60 - 4 * (i & 15);
        if (i == 8 || i == 12 || i == 16 || i == 20)
            *o++ = '-';
        *o++ = hex[(w >> shift) & 15];
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

/* ---- nested values ---- */

static inline bool array_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Quotes the element text written since `start` the way array_out (record == false) or
 * record_out (record == true) does, rewriting it in place. */
static int quote_elem(pgt_buf *b, size_t start, bool record) {
    size_t n = b->len - start;
    const char *s = b->data + start;
    bool q = n == 0 || (!record && n == 4 && strncasecmp(s, "NULL", 4) == 0);
    size_t esc = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '"' || ch == '\\') {
            esc++;
            q = true;
        } else if (array_space(ch) || ch == ',' || (record ? ch == '(' || ch == ')' : ch == '{' || ch == '}')) {
            q = true;
        }
    }
    if (!q)
        return 0;
    if (pgt_buf_reserve(b, esc + 2))
        return -1;
    char *p = b->data + start;
    size_t src = n, dst = n + esc + 2;
    p[--dst] = '"';
    while (src) {
        char ch = p[--src];
        p[--dst] = ch;
        if (ch == '"' || ch == '\\')
            p[--dst] = record ? ch : '\\';
    }
    p[--dst] = '"';
    b->len += esc + 2;
    return 0;
}

static int format_cell(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out);

/* One element of an array or a record: NULL (array) or nothing (record) for NULL,
 * otherwise the value's text, quoted when needed. */
static int format_elem(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, bool record) {
    if (pgt_is_null(v, row))
        return record ? 0 : PUT_LIT(out, "NULL");
    size_t start = out->len;
    if (format_cell(c, v, row, out))
        return -1;
    return quote_elem(out, start, record);
}

static int format_array(const pgt_col *elem, duckdb_vector child, idx_t off, idx_t n, pgt_buf *out) {
    if (put_char(out, '{'))
        return -1;
    for (idx_t i = 0; i < n; i++)
        if ((i && put_char(out, ',')) || format_elem(elem, child, off + i, out, false))
            return -1;
    return put_char(out, '}');
}

/* MAP in DuckDB's own style: {k=v, k2=NULL}. */
static int format_map(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out) {
    const duckdb_list_entry *e = (const duckdb_list_entry *)duckdb_vector_get_data(v) + row;
    duckdb_vector entries = duckdb_list_vector_get_child(v);
    duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
    duckdb_vector vals = duckdb_struct_vector_get_child(entries, 1);
    if (put_char(out, '{'))
        return -1;
    for (idx_t i = 0; i < e->length; i++) {
        idx_t r = e->offset + i;
        if (i && PUT_LIT(out, ", "))
            return -1;
        if ((pgt_is_null(keys, r) ? PUT_LIT(out, "NULL") : format_cell(&c->kids[0], keys, r, out)) ||
            put_char(out, '='))
            return -1;
        if (pgt_is_null(vals, r) ? PUT_LIT(out, "NULL") : format_cell(&c->kids[1], vals, r, out))
            return -1;
    }
    return put_char(out, '}');
}

static int format_cell(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out) {
    const void *data = duckdb_vector_get_data(v);
    switch (c->id) {
    case DUCKDB_TYPE_BOOLEAN:
        return put_char(out, ((const bool *)data)[row] ? 't' : 'f');
    case DUCKDB_TYPE_TINYINT:
        return put_i64(out, ((const int8_t *)data)[row]);
    case DUCKDB_TYPE_SMALLINT:
        return put_i64(out, ((const int16_t *)data)[row]);
    case DUCKDB_TYPE_INTEGER:
        return put_i64(out, ((const int32_t *)data)[row]);
    case DUCKDB_TYPE_BIGINT:
        return put_i64(out, ((const int64_t *)data)[row]);
    case DUCKDB_TYPE_UTINYINT:
        return put_u64(out, ((const uint8_t *)data)[row]);
    case DUCKDB_TYPE_USMALLINT:
        return put_u64(out, ((const uint16_t *)data)[row]);
    case DUCKDB_TYPE_UINTEGER:
        return put_u64(out, ((const uint32_t *)data)[row]);
    case DUCKDB_TYPE_UBIGINT:
        return put_u64(out, ((const uint64_t *)data)[row]);
    case DUCKDB_TYPE_HUGEINT: {
        bool neg;
        pgt_u128 mag = hugeint_mag(((const duckdb_hugeint *)data)[row], &neg);
        return put_u128(out, neg, mag);
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint u = ((const duckdb_uhugeint *)data)[row];
        return put_u128(out, false, ((pgt_u128)u.upper << 64) | u.lower);
    }
    case DUCKDB_TYPE_FLOAT:
        return put_float(out, ((const float *)data)[row], true);
    case DUCKDB_TYPE_DOUBLE:
        return put_float(out, ((const double *)data)[row], false);
    case DUCKDB_TYPE_DECIMAL: {
        int64_t x;
        switch (c->internal) {
        case DUCKDB_TYPE_SMALLINT: x = ((const int16_t *)data)[row]; break;
        case DUCKDB_TYPE_INTEGER: x = ((const int32_t *)data)[row]; break;
        case DUCKDB_TYPE_BIGINT: x = ((const int64_t *)data)[row]; break;
        default: {
            bool neg;
            pgt_u128 mag = hugeint_mag(((const duckdb_hugeint *)data)[row], &neg);
            return put_decimal(out, neg, mag, c->scale);
        }
        }
        return put_decimal(out, x < 0, x < 0 ? 0 - (uint64_t)x : (uint64_t)x, c->scale);
    }
    case DUCKDB_TYPE_VARCHAR: {
        const char *p;
        uint32_t n;
        str_of((const duckdb_string_t *)data + row, &p, &n);
        return pgt_buf_append(out, p, n);
    }
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_BIT:
    case DUCKDB_TYPE_BIGNUM: {
        const char *p;
        uint32_t n;
        str_of((const duckdb_string_t *)data + row, &p, &n);
        if (c->id == DUCKDB_TYPE_BLOB)
            return put_bytea(out, (const uint8_t *)p, n);
        if (c->id == DUCKDB_TYPE_BIT)
            return put_bits(out, (const uint8_t *)p, n);
        return put_bignum(out, (const uint8_t *)p, n);
    }
    case DUCKDB_TYPE_DATE:
        return put_date(out, ((const duckdb_date *)data)[row].days);
    case DUCKDB_TYPE_TIME:
        return put_time(out, (uint64_t)((const duckdb_time *)data)[row].micros, false, 0);
    case DUCKDB_TYPE_TIME_NS: {
        int64_t ns = ((const duckdb_time_ns *)data)[row].nanos;
        return put_time(out, ((uint64_t)ns + 500) / 1000, false, 0);
    }
    case DUCKDB_TYPE_TIME_TZ: {
        duckdb_time_tz_struct t = duckdb_from_time_tz(((const duckdb_time_tz *)data)[row]);
        uint64_t us = (uint64_t)t.time.hour * (uint64_t)USECS_PER_HOUR + (uint64_t)t.time.min * (uint64_t)USECS_PER_MIN +
                      (uint64_t)t.time.sec * (uint64_t)USECS_PER_SEC + (uint64_t)t.time.micros;
        return put_time(out, us, true, t.offset);
    }
    case DUCKDB_TYPE_TIMESTAMP:
        return put_timestamp(out, ((const int64_t *)data)[row], USECS_PER_SEC, false);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return put_timestamptz(out, ((const int64_t *)data)[row], c->tz);
    case DUCKDB_TYPE_TIMESTAMP_S:
        return put_timestamp(out, ((const int64_t *)data)[row], 1, false);
    case DUCKDB_TYPE_TIMESTAMP_MS:
        return put_timestamp(out, ((const int64_t *)data)[row], 1000, false);
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return put_timestamp(out, ((const int64_t *)data)[row], INT64_C(1000000000), false);
    case DUCKDB_TYPE_INTERVAL:
        return put_interval(out, ((const duckdb_interval *)data)[row]);
    case DUCKDB_TYPE_UUID:
        return put_uuid(out, ((const duckdb_hugeint *)data)[row]);
    case DUCKDB_TYPE_ENUM: {
        uint64_t i;
        switch (c->internal) {
        case DUCKDB_TYPE_UTINYINT: i = ((const uint8_t *)data)[row]; break;
        case DUCKDB_TYPE_USMALLINT: i = ((const uint16_t *)data)[row]; break;
        default: i = ((const uint32_t *)data)[row]; break;
        }
        if (i >= c->n)
            return 0;
        return pgt_buf_append(out, c->strs + c->offs[i], c->offs[i + 1] - c->offs[i]);
    }
    case DUCKDB_TYPE_LIST: {
        const duckdb_list_entry *e = (const duckdb_list_entry *)data + row;
        return format_array(&c->kids[0], duckdb_list_vector_get_child(v), e->offset, e->length, out);
    }
    case DUCKDB_TYPE_ARRAY:
        return format_array(&c->kids[0], duckdb_array_vector_get_child(v), row * c->array_size, c->array_size, out);
    case DUCKDB_TYPE_MAP:
        return format_map(c, v, row, out);
    case DUCKDB_TYPE_STRUCT:
        if (put_char(out, '('))
            return -1;
        for (uint32_t i = 0; i < c->n; i++)
            if ((i && put_char(out, ',')) || format_elem(&c->kids[i], duckdb_struct_vector_get_child(v, i), row, out, true))
                return -1;
        return put_char(out, ')');
    case DUCKDB_TYPE_UNION: {
        /* Physically a struct: child 0 is the tag, child 1 + k member k. */
        uint8_t tag = ((const uint8_t *)duckdb_vector_get_data(duckdb_struct_vector_get_child(v, 0)))[row];
        if (tag >= c->n)
            return 0;
        duckdb_vector m = duckdb_struct_vector_get_child(v, (idx_t)tag + 1);
        return pgt_is_null(m, row) ? 0 : format_cell(&c->kids[tag], m, row, out);
    }
    default: {
        char tmp[48];
        int n = snprintf(tmp, sizeof tmp, "<unsupported type %d>", (int)c->id);
        return pgt_buf_append(out, tmp, (size_t)n);
    }
    }
}

/* ---- plans ---- */

void pgt_col_destroy(pgt_col *c) {
    if (!c)
        return;
    if (c->kids) {
        uint32_t nk = c->id == DUCKDB_TYPE_ENUM ? 0 : c->n;
        for (uint32_t i = 0; i < nk; i++)
            pgt_col_destroy(&c->kids[i]);
        free(c->kids);
    }
    free(c->strs);
    free(c->offs);
    memset(c, 0, sizeof *c);
}

/* Plans the child `i` of c from a logical type this function takes and destroys. */
static int init_kid(pgt_col *c, uint32_t i, duckdb_logical_type t) {
    if (!t)
        return -1;
    int rc = pgt_col_init(&c->kids[i], t);
    duckdb_destroy_logical_type(&t);
    return rc;
}

static int load_enum(pgt_col *c, duckdb_logical_type t) {
    c->internal = duckdb_enum_internal_type(t);
    uint32_t n = duckdb_enum_dictionary_size(t);
    c->offs = malloc(((size_t)n + 1) * sizeof *c->offs);
    if (!c->offs)
        return -1;
    pgt_buf all = {0};
    c->offs[0] = 0;
    for (uint32_t i = 0; i < n; i++) {
        char *s = duckdb_enum_dictionary_value(t, i);
        if (!s)
            goto fail;
        int rc = pgt_buf_append(&all, s, strlen(s));
        duckdb_free(s);
        if (rc || all.len > UINT32_MAX)
            goto fail;
        c->offs[i + 1] = (uint32_t)all.len;
    }
    c->strs = all.data;
    c->n = n;
    return 0;
fail:
    pgt_buf_free(&all);
    return -1;
}

int pgt_col_init(pgt_col *c, duckdb_logical_type t) {
    memset(c, 0, sizeof *c);
    c->id = duckdb_get_type_id(t);
    switch (c->id) {
    case DUCKDB_TYPE_DECIMAL:
        c->scale = duckdb_decimal_scale(t);
        c->internal = duckdb_decimal_internal_type(t);
        return 0;
    case DUCKDB_TYPE_ENUM:
        if (load_enum(c, t))
            goto fail;
        return 0;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY:
        c->kids = calloc(1, sizeof *c->kids);
        if (!c->kids)
            goto fail;
        c->n = 1;
        if (c->id == DUCKDB_TYPE_ARRAY)
            c->array_size = duckdb_array_type_array_size(t);
        if (init_kid(c, 0, c->id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(t) : duckdb_array_type_child_type(t)))
            goto fail;
        return 0;
    case DUCKDB_TYPE_MAP:
        c->kids = calloc(2, sizeof *c->kids);
        if (!c->kids)
            goto fail;
        c->n = 2;
        if (init_kid(c, 0, duckdb_map_type_key_type(t)) || init_kid(c, 1, duckdb_map_type_value_type(t)))
            goto fail;
        return 0;
    case DUCKDB_TYPE_STRUCT:
    case DUCKDB_TYPE_UNION: {
        idx_t n = c->id == DUCKDB_TYPE_STRUCT ? duckdb_struct_type_child_count(t) : duckdb_union_type_member_count(t);
        if (n > UINT32_MAX)
            goto fail;
        c->kids = calloc(n ? n : 1, sizeof *c->kids);
        if (!c->kids)
            goto fail;
        c->n = (uint32_t)n;
        for (uint32_t i = 0; i < c->n; i++) {
            duckdb_logical_type k =
                c->id == DUCKDB_TYPE_STRUCT ? duckdb_struct_type_child_type(t, i) : duckdb_union_type_member_type(t, i);
            if (init_kid(c, i, k))
                goto fail;
        }
        return 0;
    }
    default:
        return 0;
    }
fail:
    pgt_col_destroy(c);
    return -1;
}

int pgt_col_format(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out) {
    return format_cell(c, v, row, out);
}

int pgt_format_text(duckdb_vector v, duckdb_logical_type t, idx_t row, pgt_buf *out) {
    duckdb_type id = duckdb_get_type_id(t);
    if (id == DUCKDB_TYPE_ENUM) {
        /* Look up the one entry instead of copying the whole dictionary. */
        const void *data = duckdb_vector_get_data(v);
        uint64_t i;
        switch (duckdb_enum_internal_type(t)) {
        case DUCKDB_TYPE_UTINYINT: i = ((const uint8_t *)data)[row]; break;
        case DUCKDB_TYPE_USMALLINT: i = ((const uint16_t *)data)[row]; break;
        default: i = ((const uint32_t *)data)[row]; break;
        }
        char *s = duckdb_enum_dictionary_value(t, i);
        if (!s)
            return i < duckdb_enum_dictionary_size(t) ? -1 : 0;
        int rc = pgt_buf_append(out, s, strlen(s));
        duckdb_free(s);
        return rc;
    }
    pgt_col c;
    if (pgt_col_init(&c, t))
        return -1;
    int rc = format_cell(&c, v, row, out);
    pgt_col_destroy(&c);
    return rc;
}

void pgt_col_set_tz(pgt_col *c, const struct pgt_tz *tz) {
    if (!c) return;
    c->tz = tz;
    uint32_t kids = 0;
    if (c->id == DUCKDB_TYPE_LIST || c->id == DUCKDB_TYPE_ARRAY) kids = 1;
    else if (c->id == DUCKDB_TYPE_MAP) kids = 2;
    else if (c->id == DUCKDB_TYPE_STRUCT || c->id == DUCKDB_TYPE_UNION) kids = c->n;
    for (uint32_t i = 0; c->kids && i < kids; i++) pgt_col_set_tz(&c->kids[i], tz);
}

/* ---- binary format ---- */

#define PG_EPOCH_DAYS 10957             /* 2000-01-01 - 1970-01-01 */
#define PG_EPOCH_US INT64_C(946684800000000)

static int put_be(pgt_buf *b, uint64_t v, int n) {
    if (pgt_buf_reserve(b, (size_t)n)) return -1;
    for (int i = n - 1; i >= 0; i--) b->data[b->len + (size_t)(n - 1 - i)] = (char)(v >> (8 * i));
    b->len += (size_t)n;
    return 0;
}

/* PostgreSQL numeric binary from decimal text ("-123.4500", "NaN"). */
static int put_numeric_text(pgt_buf *b, const char *t, size_t n) {
    if (n == 3 && !memcmp(t, "NaN", 3))
        return put_be(b, 0, 2) | put_be(b, 0, 2) | put_be(b, 0xC000, 2) | put_be(b, 0, 2);
    bool neg = n > 0 && t[0] == '-';
    size_t i = neg ? 1 : 0;
    char digs[160];
    size_t nint = 0, nfrac = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9' && nint < 80) digs[nint++] = t[i++];
    if (i < n && t[i] == '.') {
        i++;
        while (i < n && t[i] >= '0' && t[i] <= '9' && nint + nfrac < 158) digs[nint + nfrac++] = t[i++];
    }
    /* Base-10000 groups aligned on the decimal point. */
    size_t lead = (4 - nint % 4) % 4, trail = (4 - nfrac % 4) % 4;
    char padded[176];
    memset(padded, '0', sizeof padded);
    memcpy(padded + lead, digs, nint + nfrac);
    size_t total = lead + nint + nfrac + trail;
    int ngroups = (int)(total / 4), int_groups = (int)((lead + nint) / 4);
    uint16_t g[44];
    for (int k = 0; k < ngroups && k < 44; k++) {
        const char *p = padded + 4 * k;
        g[k] = (uint16_t)((p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0'));
    }
    int first = 0, last = ngroups - 1;
    while (first <= last && g[first] == 0) first++;
    while (last >= first && g[last] == 0) last--;
    int nd = last >= first ? last - first + 1 : 0;
    int weight = nd ? int_groups - 1 - first : 0;
    if (put_be(b, (uint64_t)nd, 2) || put_be(b, (uint64_t)(uint16_t)weight, 2) || put_be(b, neg && nd ? 0x4000 : 0, 2) ||
        put_be(b, (uint64_t)nfrac, 2))
        return -1;
    for (int k = first; k <= last; k++)
        if (put_be(b, g[k], 2)) return -1;
    return 0;
}

bool pgt_col_binary_ok(const pgt_col *c) {
    switch (c->id) {
    case DUCKDB_TYPE_BOOLEAN: case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_DECIMAL:
    case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_ENUM:
    case DUCKDB_TYPE_BLOB: case DUCKDB_TYPE_DATE: case DUCKDB_TYPE_TIME: case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_S: case DUCKDB_TYPE_TIMESTAMP_MS: case DUCKDB_TYPE_TIMESTAMP_NS:
    case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_INTERVAL: case DUCKDB_TYPE_UUID:
        return true;
    default:
        return false;
    }
}

int pgt_col_format_binary(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, pgt_buf *scratch) {
    const void *data = duckdb_vector_get_data(v);
    switch (c->id) {
    case DUCKDB_TYPE_BOOLEAN: return put_be(out, ((const bool *)data)[row] ? 1 : 0, 1);
    case DUCKDB_TYPE_TINYINT: return put_be(out, (uint64_t)(int64_t)((const int8_t *)data)[row], 2);
    case DUCKDB_TYPE_UTINYINT: return put_be(out, ((const uint8_t *)data)[row], 2);
    case DUCKDB_TYPE_SMALLINT: return put_be(out, (uint64_t)(int64_t)((const int16_t *)data)[row], 2);
    case DUCKDB_TYPE_USMALLINT: return put_be(out, ((const uint16_t *)data)[row], 4);
    case DUCKDB_TYPE_INTEGER: return put_be(out, (uint64_t)(int64_t)((const int32_t *)data)[row], 4);
    case DUCKDB_TYPE_UINTEGER: return put_be(out, ((const uint32_t *)data)[row], 8);
    case DUCKDB_TYPE_BIGINT: return put_be(out, (uint64_t)((const int64_t *)data)[row], 8);
    case DUCKDB_TYPE_FLOAT: {
        uint32_t u;
        memcpy(&u, (const float *)data + row, 4);
        return put_be(out, u, 4);
    }
    case DUCKDB_TYPE_DOUBLE: {
        uint64_t u;
        memcpy(&u, (const double *)data + row, 8);
        return put_be(out, u, 8);
    }
    case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_DECIMAL:
        scratch->len = 0;
        if (pgt_col_format(c, v, row, scratch)) return -1;
        return put_numeric_text(out, scratch->data, scratch->len);
    case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_ENUM:
        return pgt_col_format(c, v, row, out); /* text, json and enum: their text is their binary form */
    case DUCKDB_TYPE_BLOB: {
        const char *p;
        uint32_t n;
        str_of((const duckdb_string_t *)data + row, &p, &n);
        return pgt_buf_append(out, p, n);
    }
    case DUCKDB_TYPE_DATE: {
        int32_t d = ((const duckdb_date *)data)[row].days;
        int64_t pd = d == INT32_MAX ? INT32_MAX : d == -INT32_MAX ? INT32_MIN : (int64_t)d - PG_EPOCH_DAYS;
        return put_be(out, (uint64_t)pd, 4);
    }
    case DUCKDB_TYPE_TIME: return put_be(out, (uint64_t)((const duckdb_time *)data)[row].micros, 8);
    case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS: case DUCKDB_TYPE_TIMESTAMP_NS: {
        int64_t t = ((const int64_t *)data)[row];
        if (t == INT64_MAX || t == -INT64_MAX) return put_be(out, t == INT64_MAX ? (uint64_t)INT64_MAX : (uint64_t)INT64_MIN, 8);
        if (c->id == DUCKDB_TYPE_TIMESTAMP_S) t *= 1000000;
        else if (c->id == DUCKDB_TYPE_TIMESTAMP_MS) t *= 1000;
        else if (c->id == DUCKDB_TYPE_TIMESTAMP_NS) t /= 1000;
        return put_be(out, (uint64_t)(t - PG_EPOCH_US), 8);
    }
    case DUCKDB_TYPE_INTERVAL: {
        duckdb_interval iv = ((const duckdb_interval *)data)[row];
        return put_be(out, (uint64_t)iv.micros, 8) | put_be(out, (uint64_t)(int64_t)iv.days, 4) |
               put_be(out, (uint64_t)(int64_t)iv.months, 4);
    }
    case DUCKDB_TYPE_UUID: {
        duckdb_hugeint h = ((const duckdb_hugeint *)data)[row];
        return put_be(out, (uint64_t)h.upper ^ (UINT64_C(1) << 63), 8) | put_be(out, h.lower, 8);
    }
    default:
        return -2;
    }
}
