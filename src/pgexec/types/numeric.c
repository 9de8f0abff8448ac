/* numeric.c - numbers as PostgreSQL writes them: integers, DECIMAL with its scale,
 * the shortest float that reads back, BIGNUM, and numeric's binary form. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "pgexec/types/codec.h"

/* ---- numbers ---- */

const char pgt_digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* Writes v in decimal ending just before `end`; returns the first character. */
char *pgt_u64_rev(char *end, uint64_t v) {
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        *--end = pgt_digit_pairs[i + 1];
        *--end = pgt_digit_pairs[i];
    }
    if (v >= 10) {
        unsigned i = (unsigned)v * 2;
        *--end = pgt_digit_pairs[i + 1];
        *--end = pgt_digit_pairs[i];
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
        char *p = pgt_u64_rev(end, r);
        while (end - p < 19)
            *--p = '0';
        end = p;
    }
    return pgt_u64_rev(end, (uint64_t)v);
}

int pgt_put_u128(pgt_buf *b, bool neg, pgt_u128 mag) {
    char tmp[48];
    char *end = tmp + sizeof tmp;
    char *p = u128_rev(end, mag);
    if (neg)
        *--p = '-';
    return pgt_buf_append(b, p, (size_t)(end - p));
}

int pgt_put_i64(pgt_buf *b, int64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = pgt_u64_rev(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
    if (v < 0)
        *--p = '-';
    return pgt_buf_append(b, p, (size_t)(end - p));
}

int pgt_put_u64(pgt_buf *b, uint64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = pgt_u64_rev(end, v);
    return pgt_buf_append(b, p, (size_t)(end - p));
}

pgt_u128 pgt_hugeint_mag(duckdb_hugeint h, bool *neg) {
    pgt_u128 u = ((pgt_u128)(uint64_t)h.upper << 64) | h.lower;
    *neg = h.upper < 0;
    return *neg ? (pgt_u128)0 - u : u;
}

/* A DECIMAL's unscaled value printed with exactly `scale` fraction digits. */
int pgt_put_decimal(pgt_buf *b, bool neg, pgt_u128 mag, unsigned scale) {
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
            char *p = pgt_u64_rev(end, (uint64_t)r);
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
int pgt_put_float(pgt_buf *b, double v, bool is_float) {
    if (isnan(v))
        return PUT_LIT(b, "NaN");
    if (isinf(v))
        return v < 0 ? PUT_LIT(b, "-Infinity") : PUT_LIT(b, "Infinity");
    if (v == 0)
        return signbit(v) ? PUT_LIT(b, "-0") : pgt_put_char(b, '0');

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
int pgt_put_bignum(pgt_buf *b, const uint8_t *p, size_t n) {
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
        return pgt_put_u128(b, neg && mag, mag);
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
    int rc = neg ? pgt_put_char(b, '-') : 0;
    if (!rc)
        rc = pgt_put_u64(b, nc ? chunks[nc - 1] : 0);
    for (size_t i = nc - 1; !rc && i-- > 0;) {
        char tmp[9];
        char *q = pgt_u64_rev(tmp + 9, chunks[i]);
        while (q > tmp)
            *--q = '0';
        rc = pgt_buf_append(b, tmp, 9);
    }
    free(m);
    free(chunks);
    return rc;
}


/* ---- numeric binary ---- */

/* PostgreSQL numeric binary from decimal text ("-123.4500", "NaN"). */
int pgt_put_numeric_text(pgt_buf *b, const char *t, size_t n) {
    if (n == 3 && !memcmp(t, "NaN", 3))
        return pgt_put_be(b, 0, 2) | pgt_put_be(b, 0, 2) | pgt_put_be(b, 0xC000, 2) | pgt_put_be(b, 0, 2);
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
    if (pgt_put_be(b, (uint64_t)nd, 2) || pgt_put_be(b, (uint64_t)(uint16_t)weight, 2) || pgt_put_be(b, neg && nd ? 0x4000 : 0, 2) ||
        pgt_put_be(b, (uint64_t)nfrac, 2))
        return -1;
    for (int k = first; k <= last; k++)
        if (pgt_put_be(b, g[k], 2)) return -1;
    return 0;
}

/* ---- numbers in: PostgreSQL's input syntax and binary receive ---- */

#define DEC_MAX_DIGITS 38 /* DuckDB's DECIMAL */

void pgt_err_set(pgt_err *err, const char *sqlstate, const char *fmt, ...) {
    if (!err) return;
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", sqlstate);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

void pgt_err_syntax(pgt_err *err, const char *type, const char *p, size_t n) {
    pgt_err_set(err, "22P02", "invalid input syntax for type %s: \"%.*s\"", type, (int)(n > 60 ? 60 : n), p);
}

/* Strips PostgreSQL's allowed surrounding white space. */
void pgt_trim(const char **p, size_t *n) {
    while (*n && isspace((unsigned char)**p)) (*p)++, (*n)--;
    while (*n && isspace((unsigned char)(*p)[*n - 1])) (*n)--;
}

/* A DECIMAL value from its decimal digits: `d` holds nint integer digits then nfrac
 * fraction digits (ASCII). Leading integer zeros and, when needed to fit, trailing
 * fraction zeros are dropped (the value is unchanged); beyond 38 significant digits
 * the value cannot be held: NULL with 22003. */
duckdb_value pgt_decimal_value(bool neg, const char *d, size_t nint, size_t nfrac, pgt_err *err) {
    while (nint && d[0] == '0') d++, nint--;
    while (nfrac && (nint + nfrac > DEC_MAX_DIGITS || nfrac > DEC_MAX_DIGITS) && d[nint + nfrac - 1] == '0') nfrac--;
    if (nint + nfrac > DEC_MAX_DIGITS) {
        pgt_err_set(err, "22003", "numeric field overflow: DuckDB's DECIMAL holds at most %d significant digits",
                    DEC_MAX_DIGITS);
        return NULL;
    }
    pgt_u128 mag = 0;
    for (size_t i = 0; i < nint + nfrac; i++) mag = mag * 10 + (pgt_u128)(d[i] - '0');
    pgt_u128 v = neg ? (pgt_u128)0 - mag : mag;
    size_t width = nint + nfrac ? nint + nfrac : 1;
    duckdb_decimal dec = {.width = (uint8_t)width, .scale = (uint8_t)nfrac,
                          .value = {.lower = (uint64_t)v, .upper = (int64_t)(uint64_t)(v >> 64)}};
    duckdb_value out = duckdb_create_decimal(dec);
    if (!out) pgt_err_set(err, "53200", "out of memory");
    return out;
}

static void err_special_numeric(pgt_err *err, const char *what) {
    pgt_err_set(err, "22003", "cannot store numeric %s: DuckDB's DECIMAL has no NaN or infinity", what);
}

/* numeric_in: [+-]digits[.digits][e[+-]exp], NaN, [+-]Infinity (refused: see above). */
duckdb_value pgt_numeric_text_in(const char *p, size_t n, pgt_err *err) {
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if ((len - i == 3 && !strncasecmp(s + i, "NaN", 3) && i == 0)) {
        err_special_numeric(err, "NaN");
        return NULL;
    }
    if ((len - i == 8 && !strncasecmp(s + i, "Infinity", 8)) || (len - i == 3 && !strncasecmp(s + i, "inf", 3))) {
        err_special_numeric(err, neg ? "-Infinity" : "Infinity");
        return NULL;
    }
    size_t istart = i;
    while (i < len && isdigit((unsigned char)s[i])) i++;
    size_t nint = i - istart, fstart = i, nfrac = 0;
    if (i < len && s[i] == '.') {
        fstart = ++i;
        while (i < len && isdigit((unsigned char)s[i])) i++;
        nfrac = i - fstart;
    }
    long exp = 0;
    if (nint + nfrac > 0 && i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        bool eneg = false;
        if (j < len && (s[j] == '+' || s[j] == '-')) eneg = s[j++] == '-';
        size_t es = j;
        while (j < len && isdigit((unsigned char)s[j]) && j - es < 6) exp = exp * 10 + (s[j++] - '0');
        if (j == es || (j < len && isdigit((unsigned char)s[j]))) goto bad;
        if (eneg) exp = -exp;
        i = j;
    }
    if (nint + nfrac == 0 || i != len) goto bad;
    /* Lay the digits out around the decimal point moved by exp. */
    char digs[2 * 1000 + 100];
    long ni = (long)nint + exp, total = (long)(nint + nfrac);
    if (total > 1000 || ni > 1000 || ni < -1000) {
        pgt_err_set(err, "22003", "numeric field overflow: DuckDB's DECIMAL holds at most %d significant digits",
                    DEC_MAX_DIGITS);
        return NULL;
    }
    size_t k = 0;
    for (long z = ni; z < 0; z++) digs[k++] = '0'; /* leading zeros of the fraction */
    for (size_t a = 0; a < nint; a++) digs[k++] = s[istart + a];
    for (size_t a = 0; a < nfrac; a++) digs[k++] = s[fstart + a];
    for (long z = total; z < ni; z++) digs[k++] = '0'; /* trailing zeros of the integer */
    size_t int_digits = ni > 0 ? (size_t)ni : 0;
    return pgt_decimal_value(neg, digs, int_digits, k - int_digits, err);
bad:
    pgt_err_syntax(err, "numeric", p, n);
    return NULL;
}

/* numeric_recv: int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then ndigits
 * base-10000 digits. Digits hidden by dscale are truncated away, as numeric_recv does. */
duckdb_value pgt_numeric_recv(const uint8_t *p, size_t n, pgt_err *err) {
    if (n < 8) goto bad;
    int ndigits = (int16_t)(p[0] << 8 | p[1]), weight = (int16_t)(p[2] << 8 | p[3]);
    unsigned sign = (unsigned)(p[4] << 8 | p[5]), dscale = (unsigned)(p[6] << 8 | p[7]);
    if (ndigits < 0 || n != 8 + 2 * (size_t)ndigits) goto bad;
    if (sign == 0xC000 || sign == 0xD000 || sign == 0xF000) {
        err_special_numeric(err, sign == 0xC000 ? "NaN" : sign == 0xD000 ? "Infinity" : "-Infinity");
        return NULL;
    }
    if ((sign != 0 && sign != 0x4000) || dscale > 0x3FFF) {
        pgt_err_set(err, "22P03", "invalid sign or scale in external \"numeric\" value");
        return NULL;
    }
    /* Integer digits: 4 * (weight + 1) (or none); fraction digits: dscale. */
    long nint = weight >= 0 ? 4L * (weight + 1) : 0;
    if (nint > 1000 || dscale > 1000) {
        pgt_err_set(err, "22003", "numeric field overflow: DuckDB's DECIMAL holds at most %d significant digits",
                    DEC_MAX_DIGITS);
        return NULL;
    }
    char digs[2100];
    size_t total = (size_t)nint + dscale;
    memset(digs, '0', total);
    /* Digit group g covers decimal positions [4*(weight-g)...]: position 0 is the
     * first of the 4*(weight+1) integer digits. */
    for (int g = 0; g < ndigits; g++) {
        unsigned v = (unsigned)(p[8 + 2 * g] << 8 | p[9 + 2 * g]);
        if (v >= 10000) {
            pgt_err_set(err, "22P03", "invalid digit in external \"numeric\" value");
            return NULL;
        }
        long start = nint - 4L * (weight - g + 1); /* index of the group's first digit */
        for (int k = 0; k < 4; k++) {
            long pos = start + k;
            char ch = (char)('0' + (k == 0 ? v / 1000 : k == 1 ? v / 100 % 10 : k == 2 ? v / 10 % 10 : v % 10));
            if (pos >= 0 && pos < (long)total) digs[pos] = ch;
            else if (pos < 0 && ch != '0') goto bad; /* cannot happen for a valid weight */
        }
    }
    return pgt_decimal_value(sign == 0x4000, digs, (size_t)nint, dscale, err);
bad:
    pgt_err_set(err, "22P03", "incorrect binary data format");
    return NULL;
}

/* int2in/int4in/int8in: white space, a sign and decimal digits. */
static bool parse_i64(const char *p, size_t n, int64_t *out) {
    pgt_trim(&p, &n);
    if (!n || n > 40) return false;
    char buf[48];
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (!(isdigit((unsigned char)buf[0]) || ((buf[0] == '-' || buf[0] == '+') && isdigit((unsigned char)buf[1]))))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (*end || errno == ERANGE) return false;
    *out = v;
    return true;
}

duckdb_value pgt_int_text_in(uint32_t oid, const char *p, size_t n, pgt_err *err) {
    int64_t v = 0;
    const char *tname = oid == PGT_INT2 ? "smallint" : oid == PGT_INT4 ? "integer" : oid == PGT_OID ? "oid" : "bigint";
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    bool syntax = true;
    for (size_t i = 0; i < len; i++)
        if (!(isdigit((unsigned char)s[i]) || (i == 0 && (s[i] == '-' || s[i] == '+') && len > 1))) syntax = false;
    if (!syntax || !len) {
        pgt_err_syntax(err, tname, p, n);
        return NULL;
    }
    bool ok = parse_i64(s, len, &v);
    int64_t lo = oid == PGT_INT2 ? INT16_MIN : oid == PGT_INT4 ? INT32_MIN : oid == PGT_OID ? INT32_MIN : INT64_MIN;
    int64_t hi = oid == PGT_INT2 ? INT16_MAX : oid == PGT_INT4 ? INT32_MAX : oid == PGT_OID ? UINT32_MAX : INT64_MAX;
    if (!ok || v < lo || v > hi) {
        pgt_err_set(err, "22003", "value \"%.*s\" is out of range for type %s", (int)(len > 60 ? 60 : len), s, tname);
        return NULL;
    }
    switch (oid) {
    case PGT_INT2: return duckdb_create_int16((int16_t)v);
    case PGT_INT4: return duckdb_create_int32((int32_t)v);
    case PGT_OID: return duckdb_create_uint32((uint32_t)v); /* oidin wraps negatives */
    default: return duckdb_create_int64(v);
    }
}

/* float4in/float8in: strtod's syntax plus NaN, [+-]Infinity and [+-]inf. */
duckdb_value pgt_float_text_in(uint32_t oid, const char *p, size_t n, pgt_err *err) {
    const char *tname = oid == PGT_FLOAT4 ? "real" : "double precision";
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    char buf[512];
    if (!len || len >= sizeof buf) goto bad;
    memcpy(buf, s, len);
    buf[len] = '\0';
    double d;
    const char *b = buf + (buf[0] == '+' || buf[0] == '-');
    if (!strcasecmp(b, "NaN") && b == buf) d = NAN;
    else if (!strcasecmp(b, "Infinity") || !strcasecmp(b, "inf")) d = buf[0] == '-' ? -INFINITY : INFINITY;
    else {
        if (!strcasecmp(b, "nan")) goto bad; /* "+nan", "-nan" */
        char *end;
        errno = 0;
        d = oid == PGT_FLOAT4 ? (double)strtof(buf, &end) : strtod(buf, &end);
        if (end == buf || *end || (b[0] == '0' && (b[1] == 'x' || b[1] == 'X'))) goto bad;
        if (errno == ERANGE && (d == 0.0 || isinf(d))) {
            pgt_err_set(err, "22003", "\"%.60s\" is out of range for type %s", buf, tname);
            return NULL;
        }
    }
    return oid == PGT_FLOAT4 ? duckdb_create_float((float)d) : duckdb_create_double(d);
bad:
    pgt_err_syntax(err, tname, p, n);
    return NULL;
}
