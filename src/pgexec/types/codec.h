/* codec.h - private to src/pgexec/types/: helpers the codec files share (not for the
 * rest of the program, which includes types.h). */
#ifndef DS_PGX_TYPES_CODEC_H
#define DS_PGX_TYPES_CODEC_H

#include <stdbool.h>
#include <stdint.h>

#include "pgexec/types/types.h"

typedef unsigned __int128 pgt_u128;

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_MIN INT64_C(60000000)
#define USECS_PER_HOUR INT64_C(3600000000)
#define USECS_PER_DAY INT64_C(86400000000)
#define PG_EPOCH_DAYS 10957             /* 2000-01-01 - 1970-01-01 */
#define PG_EPOCH_US INT64_C(946684800000000)
#define PUT_LIT(b, s) pgt_buf_append((b), (s), sizeof(s) - 1)

static inline int pgt_put_char(pgt_buf *b, char ch) {
    if (b->len == b->cap && pgt_buf_reserve(b, 1))
        return -1;
    b->data[b->len++] = ch;
    return 0;
}

/* Appends v as n big-endian bytes. */
static inline int pgt_put_be(pgt_buf *b, uint64_t v, int n) {
    if (pgt_buf_reserve(b, (size_t)n)) return -1;
    for (int i = n - 1; i >= 0; i--) b->data[b->len + (size_t)(n - 1 - i)] = (char)(v >> (8 * i));
    b->len += (size_t)n;
    return 0;
}

static inline void pgt_str_of(const duckdb_string_t *s, const char **p, uint32_t *n) {
    *n = s->value.inlined.length;
    *p = *n <= 12 ? s->value.inlined.inlined : s->value.pointer.ptr;
}

/* numeric.c: numbers as PostgreSQL prints them. */
extern const char pgt_digit_pairs[201];
/* Writes v in decimal ending just before `end`; returns the first character. */
char *pgt_u64_rev(char *end, uint64_t v);
int pgt_put_u128(pgt_buf *b, bool neg, pgt_u128 mag);
int pgt_put_i64(pgt_buf *b, int64_t v);
int pgt_put_u64(pgt_buf *b, uint64_t v);
pgt_u128 pgt_hugeint_mag(duckdb_hugeint h, bool *neg);
int pgt_put_decimal(pgt_buf *b, bool neg, pgt_u128 mag, unsigned scale);
int pgt_put_float(pgt_buf *b, double v, bool is_float);
int pgt_put_bignum(pgt_buf *b, const uint8_t *p, size_t n);
/* PostgreSQL numeric binary from decimal text ("-123.4500", "NaN"). */
int pgt_put_numeric_text(pgt_buf *b, const char *t, size_t n);

/* datetime.c: dates and times as PostgreSQL prints them. */
int pgt_put_date(pgt_buf *b, int32_t days);
int pgt_put_timestamp(pgt_buf *b, int64_t v, int64_t per_sec, bool tz);
int pgt_put_timestamptz(pgt_buf *b, int64_t us, const struct pgt_tz *tz);
int pgt_put_time(pgt_buf *b, uint64_t us, bool has_tz, int32_t secs_east);
int pgt_put_interval(pgt_buf *b, duckdb_interval iv);

/* Errors of the receive functions. */
void pgt_err_set(pgt_err *err, const char *sqlstate, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 22P02 invalid input syntax for type <type>: "<value>". */
void pgt_err_syntax(pgt_err *err, const char *type, const char *p, size_t n);
void pgt_trim(const char **p, size_t *n);

/* numeric.c: numbers in. */
duckdb_value pgt_decimal_value(bool neg, const char *d, size_t nint, size_t nfrac, pgt_err *err);
duckdb_value pgt_numeric_text_in(const char *p, size_t n, pgt_err *err);
duckdb_value pgt_numeric_recv(const uint8_t *p, size_t n, pgt_err *err);
duckdb_value pgt_int_text_in(uint32_t oid, const char *p, size_t n, pgt_err *err);
duckdb_value pgt_float_text_in(uint32_t oid, const char *p, size_t n, pgt_err *err);

/* datetime.c: dates and times in (PostgreSQL's input syntax). */
duckdb_value pgt_date_text_in(const char *p, size_t n, pgt_err *err);
duckdb_value pgt_time_text_in(const char *p, size_t n, bool tz, pgt_err *err);
duckdb_value pgt_timestamp_text_in(const char *p, size_t n, bool tz, const struct pgt_tz *zone, pgt_err *err);
duckdb_value pgt_interval_text_in(const char *p, size_t n, pgt_err *err);

/* text.c */
bool pgt_utf8_ok(const char *s, size_t n);
/* A VARCHAR value of valid UTF-8 (22021 otherwise). */
duckdb_value pgt_varchar_value(const char *p, size_t n, pgt_err *err);

/* binary.c: a growing list of values, and a LIST value made of them. */
typedef struct {
    duckdb_value *v;
    size_t n, cap;
} pgt_vals;
int pgt_vals_push(pgt_vals *a, duckdb_value v); /* takes v; destroys it on failure */
void pgt_vals_free(pgt_vals *a);
/* A LIST of the values in a (taken: a is emptied) with elements of PostgreSQL type
 * elem (NUMERIC elements: the DECIMAL that holds them all). NULL with *err set. */
duckdb_value pgt_list_value(uint32_t elem, pgt_vals *a, pgt_err *err);
/* A UUID value from its 16 bytes in PostgreSQL's (network) order. */
duckdb_value pgt_uuid_value(const uint8_t b[16]);

#endif
