/* text.c - PostgreSQL text output of DuckDB values: what a PostgreSQL 15 server would
 * print for the same value (DateStyle ISO, IntervalStyle postgres, extra_float_digits 1,
 * bytea_output hex, the session's TimeZone); result column plans; type OIDs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgexec/types/codec.h"
#include "pgexec/types/tz.h"

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

/* ---- strings ---- */


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
    if (pgt_put_char(out, '{'))
        return -1;
    for (idx_t i = 0; i < n; i++)
        if ((i && pgt_put_char(out, ',')) || format_elem(elem, child, off + i, out, false))
            return -1;
    return pgt_put_char(out, '}');
}

/* MAP in DuckDB's own style: {k=v, k2=NULL}. */
static int format_map(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out) {
    const duckdb_list_entry *e = (const duckdb_list_entry *)duckdb_vector_get_data(v) + row;
    duckdb_vector entries = duckdb_list_vector_get_child(v);
    duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
    duckdb_vector vals = duckdb_struct_vector_get_child(entries, 1);
    if (pgt_put_char(out, '{'))
        return -1;
    for (idx_t i = 0; i < e->length; i++) {
        idx_t r = e->offset + i;
        if (i && PUT_LIT(out, ", "))
            return -1;
        if ((pgt_is_null(keys, r) ? PUT_LIT(out, "NULL") : format_cell(&c->kids[0], keys, r, out)) ||
            pgt_put_char(out, '='))
            return -1;
        if (pgt_is_null(vals, r) ? PUT_LIT(out, "NULL") : format_cell(&c->kids[1], vals, r, out))
            return -1;
    }
    return pgt_put_char(out, '}');
}

static int format_cell(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out) {
    const void *data = duckdb_vector_get_data(v);
    switch (c->id) {
    case DUCKDB_TYPE_BOOLEAN:
        return pgt_put_char(out, ((const bool *)data)[row] ? 't' : 'f');
    case DUCKDB_TYPE_TINYINT:
        return pgt_put_i64(out, ((const int8_t *)data)[row]);
    case DUCKDB_TYPE_SMALLINT:
        return pgt_put_i64(out, ((const int16_t *)data)[row]);
    case DUCKDB_TYPE_INTEGER:
        return pgt_put_i64(out, ((const int32_t *)data)[row]);
    case DUCKDB_TYPE_BIGINT:
        return pgt_put_i64(out, ((const int64_t *)data)[row]);
    case DUCKDB_TYPE_UTINYINT:
        return pgt_put_u64(out, ((const uint8_t *)data)[row]);
    case DUCKDB_TYPE_USMALLINT:
        return pgt_put_u64(out, ((const uint16_t *)data)[row]);
    case DUCKDB_TYPE_UINTEGER:
        return pgt_put_u64(out, ((const uint32_t *)data)[row]);
    case DUCKDB_TYPE_UBIGINT:
        return pgt_put_u64(out, ((const uint64_t *)data)[row]);
    case DUCKDB_TYPE_HUGEINT: {
        bool neg;
        pgt_u128 mag = pgt_hugeint_mag(((const duckdb_hugeint *)data)[row], &neg);
        return pgt_put_u128(out, neg, mag);
    }
    case DUCKDB_TYPE_UHUGEINT: {
        duckdb_uhugeint u = ((const duckdb_uhugeint *)data)[row];
        return pgt_put_u128(out, false, ((pgt_u128)u.upper << 64) | u.lower);
    }
    case DUCKDB_TYPE_FLOAT:
        return pgt_put_float(out, ((const float *)data)[row], true);
    case DUCKDB_TYPE_DOUBLE:
        return pgt_put_float(out, ((const double *)data)[row], false);
    case DUCKDB_TYPE_DECIMAL: {
        int64_t x;
        switch (c->internal) {
        case DUCKDB_TYPE_SMALLINT: x = ((const int16_t *)data)[row]; break;
        case DUCKDB_TYPE_INTEGER: x = ((const int32_t *)data)[row]; break;
        case DUCKDB_TYPE_BIGINT: x = ((const int64_t *)data)[row]; break;
        default: {
            bool neg;
            pgt_u128 mag = pgt_hugeint_mag(((const duckdb_hugeint *)data)[row], &neg);
            return pgt_put_decimal(out, neg, mag, c->scale);
        }
        }
        return pgt_put_decimal(out, x < 0, x < 0 ? 0 - (uint64_t)x : (uint64_t)x, c->scale);
    }
    case DUCKDB_TYPE_VARCHAR: {
        const char *p;
        uint32_t n;
        pgt_str_of((const duckdb_string_t *)data + row, &p, &n);
        return pgt_buf_append(out, p, n);
    }
    case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_BIT:
    case DUCKDB_TYPE_BIGNUM: {
        const char *p;
        uint32_t n;
        pgt_str_of((const duckdb_string_t *)data + row, &p, &n);
        if (c->id == DUCKDB_TYPE_BLOB)
            return put_bytea(out, (const uint8_t *)p, n);
        if (c->id == DUCKDB_TYPE_BIT)
            return put_bits(out, (const uint8_t *)p, n);
        return pgt_put_bignum(out, (const uint8_t *)p, n);
    }
    case DUCKDB_TYPE_DATE:
        return pgt_put_date(out, ((const duckdb_date *)data)[row].days);
    case DUCKDB_TYPE_TIME:
        return pgt_put_time(out, (uint64_t)((const duckdb_time *)data)[row].micros, false, 0);
    case DUCKDB_TYPE_TIME_NS: {
        int64_t ns = ((const duckdb_time_ns *)data)[row].nanos;
        return pgt_put_time(out, ((uint64_t)ns + 500) / 1000, false, 0);
    }
    case DUCKDB_TYPE_TIME_TZ: {
        duckdb_time_tz_struct t = duckdb_from_time_tz(((const duckdb_time_tz *)data)[row]);
        uint64_t us = (uint64_t)t.time.hour * (uint64_t)USECS_PER_HOUR + (uint64_t)t.time.min * (uint64_t)USECS_PER_MIN +
                      (uint64_t)t.time.sec * (uint64_t)USECS_PER_SEC + (uint64_t)t.time.micros;
        return pgt_put_time(out, us, true, t.offset);
    }
    case DUCKDB_TYPE_TIMESTAMP:
        return pgt_put_timestamp(out, ((const int64_t *)data)[row], USECS_PER_SEC, false);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return pgt_put_timestamptz(out, ((const int64_t *)data)[row], c->tz);
    case DUCKDB_TYPE_TIMESTAMP_S:
        return pgt_put_timestamp(out, ((const int64_t *)data)[row], 1, false);
    case DUCKDB_TYPE_TIMESTAMP_MS:
        return pgt_put_timestamp(out, ((const int64_t *)data)[row], 1000, false);
    case DUCKDB_TYPE_TIMESTAMP_NS:
        return pgt_put_timestamp(out, ((const int64_t *)data)[row], INT64_C(1000000000), false);
    case DUCKDB_TYPE_INTERVAL:
        return pgt_put_interval(out, ((const duckdb_interval *)data)[row]);
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
        if (pgt_put_char(out, '('))
            return -1;
        for (uint32_t i = 0; i < c->n; i++)
            if ((i && pgt_put_char(out, ',')) || format_elem(&c->kids[i], duckdb_struct_vector_get_child(v, i), row, out, true))
                return -1;
        return pgt_put_char(out, ')');
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

