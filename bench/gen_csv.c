/*
 * gen_csv: fast, deterministic CSV generator for the duckspace import benchmark.
 *
 *   gen_csv ROWS [OUTFILE]      (stdout when OUTFILE is absent or "-")
 *
 * Writes a header row and ROWS data rows with the columns
 *   id bigint, customer_id integer, amount decimal(12,2), order_date date,
 *   status text, note text
 * id is 1..ROWS; the other values come from a fixed-seed xorshift generator, so the
 * same ROWS always gives the same file. About 1 row in 10 has an empty note (NULL in
 * both PostgreSQL and DuckDB CSV readers) and about 1 in 20 a quoted note containing a
 * comma, so the parsers do some real work.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static inline uint64_t next_rand(void)
{
    /* xorshift64* */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static char *put_u64(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

#define NDATES 1827 /* 2020-01-01 .. 2024-12-31 */
static char dates[NDATES][10]; /* "YYYY-MM-DD", not NUL-terminated */

static void init_dates(void)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 2020, m = 1, d = 1;
    for (int i = 0; i < NDATES; i++) {
        char *q = dates[i];
        q[0] = (char)('0' + y / 1000);
        q[1] = (char)('0' + y / 100 % 10);
        q[2] = (char)('0' + y / 10 % 10);
        q[3] = (char)('0' + y % 10);
        q[4] = '-';
        q[5] = (char)('0' + m / 10);
        q[6] = (char)('0' + m % 10);
        q[7] = '-';
        q[8] = (char)('0' + d / 10);
        q[9] = (char)('0' + d % 10);
        int dim = mdays[m - 1] + (m == 2 && is_leap(y));
        if (++d > dim) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
}

static const char *statuses[] = {"new", "paid", "shipped", "delivered", "cancelled", "returned"};
static const char *words[] = {"express", "gift",     "fragile", "bulk",   "priority", "standard",
                              "reorder", "discount", "b2b",     "retail", "online",   "store"};

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s ROWS [OUTFILE]\n", argv[0]);
        return 2;
    }
    char *end;
    unsigned long long rows = strtoull(argv[1], &end, 10);
    if (*end || argv[1][0] == '\0' || argv[1][0] == '-') {
        fprintf(stderr, "gen_csv: ROWS must be a non-negative integer\n");
        return 2;
    }
    FILE *out = stdout;
    if (argc == 3 && strcmp(argv[2], "-") != 0) {
        out = fopen(argv[2], "wb");
        if (!out) {
            perror(argv[2]);
            return 1;
        }
    }
    init_dates();
    size_t nstat = sizeof statuses / sizeof statuses[0];
    size_t nwords = sizeof words / sizeof words[0];
    size_t slen[8], wlen[16];
    for (size_t i = 0; i < nstat; i++)
        slen[i] = strlen(statuses[i]);
    for (size_t i = 0; i < nwords; i++)
        wlen[i] = strlen(words[i]);

    enum { BUFSZ = 1 << 20, MAXROW = 256 };
    char *buf = malloc(BUFSZ);
    if (!buf)
        return 1;
    char *p = buf;
    static const char header[] = "id,customer_id,amount,order_date,status,note\n";
    memcpy(p, header, sizeof header - 1);
    p += sizeof header - 1;

    for (unsigned long long id = 1; id <= rows; id++) {
        if (p - buf > BUFSZ - MAXROW) {
            if (fwrite(buf, 1, (size_t)(p - buf), out) != (size_t)(p - buf)) {
                perror("gen_csv: write");
                return 1;
            }
            p = buf;
        }
        uint64_t r1 = next_rand(), r2 = next_rand();
        p = put_u64(p, id);
        *p++ = ',';
        p = put_u64(p, 1 + (r1 % 1000000));               /* customer_id 1..1e6 */
        *p++ = ',';
        uint64_t cents = (r1 >> 20) % 10000000;            /* 0.00 .. 99999.99 */
        p = put_u64(p, cents / 100);
        *p++ = '.';
        *p++ = (char)('0' + (cents / 10) % 10);
        *p++ = (char)('0' + cents % 10);
        *p++ = ',';
        memcpy(p, dates[r2 % NDATES], 10);
        p += 10;
        *p++ = ',';
        size_t s = (r2 >> 16) % nstat;
        memcpy(p, statuses[s], slen[s]);
        p += slen[s];
        *p++ = ',';
        unsigned kind = (unsigned)((r2 >> 32) % 20);
        size_t w1 = (r2 >> 40) % nwords, w2 = (r2 >> 48) % nwords;
        if (kind < 2) {
            /* empty note: NULL */
        } else if (kind == 2) {
            *p++ = '"';
            memcpy(p, words[w1], wlen[w1]);
            p += wlen[w1];
            *p++ = ',';
            *p++ = ' ';
            memcpy(p, words[w2], wlen[w2]);
            p += wlen[w2];
            *p++ = '"';
        } else {
            memcpy(p, words[w1], wlen[w1]);
            p += wlen[w1];
            *p++ = ' ';
            memcpy(p, words[w2], wlen[w2]);
            p += wlen[w2];
            *p++ = ' ';
            p = put_u64(p, (r2 >> 56) + 1);
        }
        *p++ = '\n';
    }
    if (p > buf && fwrite(buf, 1, (size_t)(p - buf), out) != (size_t)(p - buf)) {
        perror("gen_csv: write");
        return 1;
    }
    if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
        perror("gen_csv: close");
        return 1;
    }
    free(buf);
    return 0;
}
