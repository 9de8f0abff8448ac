/* tz.c - a bounded TZif reader (RFC 8536: version 1 and 2+ data blocks, and the POSIX
 * TZ footer for instants after the last transition). */
#include "pgexec/types/tz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#define TZ_MAX_TRANS 4096
#define TZ_MAX_TYPES 256

/* A POSIX rule "STDoffset[DST[offset][,Mm.w.d[/time],Mm.w.d[/time]]]". */
typedef struct {
    bool valid, has_dst;
    int32_t std_off, dst_off; /* seconds east */
    int start_m, start_w, start_d, end_m, end_w, end_d;
    int32_t start_t, end_t; /* seconds after local midnight */
} posix_rule;

struct pgt_tz {
    int n;
    int64_t *times;   /* transitions, UTC seconds */
    int32_t *offsets; /* offset in force from times[i] on */
    int32_t first;    /* before the first transition */
    posix_rule rule;
};

/* TZif stores every number big-endian. */
static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int64_t be64(const uint8_t *p) { return (int64_t)(((uint64_t)be32(p) << 32) | be32(p + 4)); }

/* Reads "[+-]hh[:mm[:ss]]" as POSIX does (positive = west); returns chars used. */
static int posix_offset(const char *s, int32_t *secs) {
    const char *p = s;
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*p)) return 0;
    int h = 0, m = 0, sec = 0;
    /* At most 3 digits per field: anything longer is malformed (and would overflow). */
    for (int d = 0; isdigit((unsigned char)*p); d++) {
        if (d == 3) return 0;
        h = h * 10 + (*p++ - '0');
    }
    if (*p == ':') {
        p++;
        for (int d = 0; isdigit((unsigned char)*p); d++) {
            if (d == 2) return 0;
            m = m * 10 + (*p++ - '0');
        }
        if (*p == ':') {
            p++;
            for (int d = 0; isdigit((unsigned char)*p); d++) {
                if (d == 2) return 0;
                sec = sec * 10 + (*p++ - '0');
            }
        }
    }
    if (h > 167 || m > 59 || sec > 59) return 0;
    *secs = sign * (h * 3600 + m * 60 + sec);
    return (int)(p - s);
}

static int posix_name(const char *s) {
    const char *p = s;
    if (*p == '<') {
        while (*p && *p != '>') p++;
        return *p ? (int)(p - s + 1) : 0;
    }
    while (isalpha((unsigned char)*p)) p++;
    return p - s >= 3 ? (int)(p - s) : 0;
}

static int posix_date(const char *s, int *m, int *w, int *d, int32_t *t) {
    const char *p = s;
    if (*p++ != 'M') return 0; /* only the Mm.w.d form (what tzdata uses) */
    char *e;
    long lm = strtol(p, &e, 10);
    if (*e != '.' || e - p > 2) return 0;
    const char *q = e + 1;
    long lw = strtol(q, &e, 10);
    if (*e != '.' || e - q > 1) return 0;
    q = e + 1;
    long ld = strtol(q, &e, 10);
    if (e - q > 1) return 0;
    *m = (int)lm, *w = (int)lw, *d = (int)ld;
    if (*m < 1 || *m > 12 || *w < 1 || *w > 5 || *d < 0 || *d > 6) return 0;
    *t = 7200;
    p = e;
    if (*p == '/') {
        int n = posix_offset(p + 1, t);
        if (!n) return 0;
        p += 1 + n;
    }
    return (int)(p - s);
}

static void parse_rule(const char *s, posix_rule *r) {
    memset(r, 0, sizeof *r);
    int n = posix_name(s);
    if (!n) return;
    s += n;
    int32_t off;
    if (!(n = posix_offset(s, &off))) return;
    s += n;
    r->std_off = -off;
    r->valid = true;
    if (!*s) return;
    if (!(n = posix_name(s))) return;
    s += n;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (!(n = posix_offset(s, &off))) {
            r->valid = false;
            return;
        }
        r->dst_off = -off;
        s += n;
    }
    if (*s++ != ',' || !(n = posix_date(s, &r->start_m, &r->start_w, &r->start_d, &r->start_t))) {
        r->valid = false;
        return;
    }
    s += n;
    if (*s++ != ',' || !(n = posix_date(s, &r->end_m, &r->end_w, &r->end_d, &r->end_t))) {
        r->valid = false;
        return;
    }
    r->has_dst = true;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Local midnight (as days since epoch) of the w-th weekday d of month m in year y. */
static int64_t rule_day(int64_t y, int m, int w, int d) {
    int64_t first = days_from_civil(y, m, 1);
    int wd = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + ((d - wd + 7) % 7) + (int64_t)(w - 1) * 7;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int len = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    while (day >= first + len) day -= 7;
    return day;
}

static int32_t rule_offset(const posix_rule *r, int64_t t) {
    if (!r->has_dst) return r->std_off;
    int64_t days = t / 86400 - (t % 86400 < 0);
    int64_t y = 1970 + days / 365;
    /* Find the year of t in UTC (close enough: transitions are months apart). */
    while (days_from_civil(y, 1, 1) > days) y--;
    while (days_from_civil(y + 1, 1, 1) <= days) y++;
    int64_t start = rule_day(y, r->start_m, r->start_w, r->start_d) * 86400 + r->start_t - r->std_off;
    int64_t end = rule_day(y, r->end_m, r->end_w, r->end_d) * 86400 + r->end_t - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

pgt_tz *pgt_tz_parse(const uint8_t *buf, size_t len) {
    if (len < 44 || memcmp(buf, "TZif", 4) != 0) return NULL;
    const uint8_t *p = buf, *end = buf + len;
    int version = buf[4] ? buf[4] - '0' : 1;
    size_t tsize = 4;
    uint32_t cnt[6];
    for (int pass = 0; pass < 2; pass++) {
        if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0) return NULL;
        for (int i = 0; i < 6; i++) cnt[i] = be32(p + 20 + 4 * i);
        p += 44;
        uint32_t isut = cnt[0], isstd = cnt[1], leap = cnt[2], timecnt = cnt[3], typecnt = cnt[4], charcnt = cnt[5];
        if (timecnt > TZ_MAX_TRANS || typecnt == 0 || typecnt > TZ_MAX_TYPES || leap > 1000 || charcnt > 1000 ||
            isut > typecnt || isstd > typecnt)
            return NULL;
        size_t body = timecnt * tsize + timecnt + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
        if (body > (size_t)(end - p)) return NULL;
        if (version >= 2 && pass == 0) { /* skip the 32-bit block, read the 64-bit one */
            p += body;
            tsize = 8;
            continue;
        }
        pgt_tz *tz = calloc(1, sizeof *tz);
        if (!tz) return NULL;
        tz->times = calloc(timecnt ? timecnt : 1, sizeof *tz->times);
        tz->offsets = calloc(timecnt ? timecnt : 1, sizeof *tz->offsets);
        if (!tz->times || !tz->offsets) {
            pgt_tz_free(tz);
            return NULL;
        }
        const uint8_t *times = p, *idx = p + timecnt * tsize, *types = idx + timecnt;
        int32_t type_off[TZ_MAX_TYPES];
        for (uint32_t i = 0; i < typecnt; i++) type_off[i] = (int32_t)be32(types + 6 * i);
        tz->first = type_off[0];
        for (uint32_t i = 0; i < timecnt; i++) {
            if (idx[i] >= typecnt) {
                pgt_tz_free(tz);
                return NULL;
            }
            tz->times[i] = tsize == 8 ? be64(times + 8 * i) : (int64_t)(int32_t)be32(times + 4 * i);
            tz->offsets[i] = type_off[idx[i]];
            if (i && tz->times[i] < tz->times[i - 1]) {
                pgt_tz_free(tz);
                return NULL;
            }
        }
        tz->n = (int)timecnt;
        p += body;
        /* Version 2+: "\nPOSIX-TZ\n" after the data. */
        if (version >= 2 && p < end && *p == '\n') {
            const uint8_t *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
            if (nl && nl - p - 1 < 128) {
                char rule[128];
                memcpy(rule, p + 1, (size_t)(nl - p - 1));
                rule[nl - p - 1] = '\0';
                parse_rule(rule, &tz->rule);
            }
        }
        return tz;
    }
    return NULL;
}

void pgt_tz_free(pgt_tz *tz) {
    if (!tz) return;
    free(tz->times);
    free(tz->offsets);
    free(tz);
}

int32_t pgt_tz_offset(const pgt_tz *tz, int64_t t) {
    if (!tz) return 0;
    if (tz->n == 0) return tz->rule.valid ? rule_offset(&tz->rule, t) : tz->first;
    if (t < tz->times[0]) return tz->first;
    if (t >= tz->times[tz->n - 1] && tz->rule.valid) return rule_offset(&tz->rule, t);
    int lo = 0, hi = tz->n - 1;
    while (lo < hi) { /* last transition <= t */
        int mid = (lo + hi + 1) / 2;
        if (tz->times[mid] <= t) lo = mid;
        else hi = mid - 1;
    }
    return tz->offsets[lo];
}

static pgt_tz *fixed(int32_t off) {
    pgt_tz *tz = calloc(1, sizeof *tz);
    if (tz) tz->first = off;
    return tz;
}

pgt_tz *pgt_tz_load(const char *name) {
    if (!name || !*name || strlen(name) > 100) return NULL;
    if (!strcasecmp(name, "UTC") || !strcasecmp(name, "GMT") || !strcasecmp(name, "Z") || !strcasecmp(name, "Etc/UTC"))
        return fixed(0);
    /* A bare number or [+-]hh[:mm]: hours east of UTC. */
    if (isdigit((unsigned char)name[0]) || ((name[0] == '+' || name[0] == '-') && isdigit((unsigned char)name[1]))) {
        int32_t west;
        int n = posix_offset(name, &west);
        if (!n || name[n]) return NULL;
        return fixed(west); /* posix_offset reads positive as west; here positive is east */
    }
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '/' || *p == '_' || *p == '-' || *p == '+')) return NULL;
    if (strstr(name, "..") || name[0] == '/') return NULL;
    char path[160];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return pgt_tz_parse(buf, n);
}
