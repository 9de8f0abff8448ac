/* text.c - PostgreSQL text output of DuckDB values: what a PostgreSQL 15 server would
 * print for the same value (DateStyle ISO, IntervalStyle postgres, extra_float_digits 1,
 * bytea_output hex, the session's TimeZone); result column plans; type OIDs. */
#include <ctype.h>
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



/* ---- OIDs: the type table ---- */

typedef struct {
    uint32_t oid, array_oid;
    int16_t typlen;
    duckdb_type duck;
} type_row;

#define ROW(name, oid, arr, len, duck, codec) {oid, arr, len, duck},
static const type_row type_rows[] = {PGT_TYPE_TABLE(ROW)};
#undef ROW
#define NROWS (sizeof type_rows / sizeof type_rows[0])

static const type_row *row_of(uint32_t oid) {
    for (size_t i = 0; i < NROWS; i++)
        if (type_rows[i].oid == oid) return &type_rows[i];
    return NULL;
}

static uint32_t scalar_oid(duckdb_type id) {
    switch (id) {
#define DUCK(duck, name) case duck: return PGT_##name;
        PGT_DUCK_TABLE(DUCK)
#undef DUCK
    default:
        return PGT_TEXT;
    }
}

uint32_t pgt_array_oid(uint32_t elem) {
    const type_row *r = row_of(elem);
    return r ? r->array_oid : 0;
}

uint32_t pgt_elem_oid(uint32_t arr) {
    for (size_t i = 0; arr && i < NROWS; i++)
        if (type_rows[i].array_oid == arr) return type_rows[i].oid;
    return 0;
}

bool pgt_oid_known(uint32_t oid) { return row_of(oid) || pgt_elem_oid(oid); }

duckdb_type pgt_duck_type(uint32_t oid) {
    const type_row *r = row_of(oid);
    if (r) return r->duck;
    return pgt_elem_oid(oid) ? DUCKDB_TYPE_LIST : DUCKDB_TYPE_INVALID;
}

uint32_t pgt_oid_by_name(const char *name, size_t n) {
    static const struct {
        const char *name;
        uint32_t oid;
    } names[] = {
#define NAMED(name_, oid, arr, len, duck, codec) {#name_, oid},
        PGT_TYPE_TABLE(NAMED)
#undef NAMED
        {"boolean", PGT_BOOL}, {"smallint", PGT_INT2}, {"integer", PGT_INT4}, {"int", PGT_INT4},
        {"bigint", PGT_INT8}, {"real", PGT_FLOAT4}, {"decimal", PGT_NUMERIC}, {"char", PGT_BPCHAR},
        {"character", PGT_BPCHAR}, {"regclass", PGT_OID}, {"regtype", PGT_OID}, {"regproc", PGT_OID},
        {"regnamespace", PGT_OID},
    };
    if (n >= 11 && !strncasecmp(name, "pg_catalog.", 11)) name += 11, n -= 11;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == n && !strncasecmp(names[i].name, name, n)) return names[i].oid;
    return 0;
}

static bool is_json(duckdb_logical_type t) {
    char *alias = duckdb_logical_type_get_alias(t);
    bool json = alias && strcasecmp(alias, "JSON") == 0;
    if (alias) duckdb_free(alias);
    return json;
}

uint32_t pgt_oid(duckdb_logical_type t) {
    duckdb_type id = duckdb_get_type_id(t);
    if (id != DUCKDB_TYPE_LIST && id != DUCKDB_TYPE_ARRAY)
        return id == DUCKDB_TYPE_VARCHAR && is_json(t) ? PGT_JSON : scalar_oid(id);
    duckdb_logical_type child =
        id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(t) : duckdb_array_type_child_type(t);
    if (!child)
        return PGT_TEXT_ARRAY;
    /* Nested lists are sent as text[] of their literals (PostgreSQL arrays are not
     * arrays of arrays), and so are lists of records. */
    uint32_t elem = pgt_oid(child);
    duckdb_destroy_logical_type(&child);
    uint32_t arr = pgt_elem_oid(elem) ? 0 : pgt_array_oid(elem);
    return arr ? arr : PGT_TEXT_ARRAY;
}

int16_t pgt_typlen(uint32_t oid) {
    const type_row *r = row_of(oid);
    return r ? r->typlen : -1;
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
    c->oid = pgt_oid(t);
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


/* ---- text input: PostgreSQL's input syntax of each type ---- */

/* Valid UTF-8 without NUL (PostgreSQL refuses both; DuckDB aborts on invalid UTF-8 in
 * duckdb_create_varchar, measured with 1.4.4). */
bool pgt_utf8_ok(const char *s, size_t n) {
    if (n == 0) return true; /* s may be NULL then */
    const uint8_t *p = (const uint8_t *)s, *e = p + n;
    while (p < e) {
        uint8_t c = *p;
        if (c < 0x80) {
            if (!c) return false;
            p++;
            continue;
        }
        size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (!k || c > 0xF4 || (size_t)(e - p) < k) return false;
        for (size_t i = 1; i < k; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        if (k == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))) return false; /* overlong, surrogate */
        if (k == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))) return false; /* overlong, > U+10FFFF */
        p += k;
    }
    return true;
}

duckdb_value pgt_varchar_value(const char *p, size_t n, pgt_err *err) {
    if (!pgt_utf8_ok(p, n)) {
        pgt_err_set(err, "22021", "invalid byte sequence for encoding \"UTF8\"");
        return NULL;
    }
    return duckdb_create_varchar_length(p, (idx_t)n);
}

typedef duckdb_value (*text_in_fn)(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err);

static duckdb_value text_in_text(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)tz;
    if (oid == PGT_NAME && n > 63) {
        /* namein: truncated to NAMEDATALEN - 1 bytes, on a character boundary */
        n = 63;
        while (n && ((uint8_t)p[n] & 0xC0) == 0x80) n--;
    }
    return pgt_varchar_value(p, n, err);
}

static duckdb_value text_in_jsonb(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    return text_in_text(oid, p, n, tz, err);
}

/* boolin: t, true, y, yes, on, 1 and their opposites, any case, unique prefixes. */
static duckdb_value text_in_bool(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)oid, (void)tz;
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    static const struct {
        const char *w;
        size_t min;
        bool v;
    } words[] = {{"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false},
                 {"on", 2, true},   {"off", 2, false},   {"1", 1, true},   {"0", 1, false}};
    for (size_t i = 0; len && i < sizeof words / sizeof words[0]; i++)
        if (len >= words[i].min && len <= strlen(words[i].w) && !strncasecmp(s, words[i].w, len))
            return duckdb_create_bool(words[i].v);
    pgt_err_syntax(err, "boolean", p, n);
    return NULL;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* byteain: "\x" then hex pairs (white space between pairs allowed), or the escape
 * format (\\ for a backslash, \ooo octal, other bytes as they are). */
static duckdb_value text_in_bytea(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)oid, (void)tz;
    uint8_t *out = malloc(n ? n : 1);
    if (!out) {
        pgt_err_set(err, "53200", "out of memory");
        return NULL;
    }
    size_t k = 0;
    if (n >= 2 && p[0] == '\\' && p[1] == 'x') {
        for (size_t i = 2; i < n;) {
            if (isspace((unsigned char)p[i])) {
                i++;
                continue;
            }
            int h = hexval(p[i]), l = i + 1 < n ? hexval(p[i + 1]) : -2;
            if (h < 0 || l < 0) {
                free(out);
                if (l == -2 && h >= 0) pgt_err_set(err, "22023", "invalid hexadecimal data: odd number of digits");
                else pgt_err_set(err, "22023", "invalid hexadecimal digit: \"%c\"", h < 0 ? p[i] : p[i + 1]);
                return NULL;
            }
            out[k++] = (uint8_t)(h << 4 | l);
            i += 2;
        }
    } else {
        for (size_t i = 0; i < n;) {
            if (p[i] != '\\') {
                out[k++] = (uint8_t)p[i++];
            } else if (i + 1 < n && p[i + 1] == '\\') {
                out[k++] = '\\';
                i += 2;
            } else if (i + 3 < n + 0 && p[i + 1] >= '0' && p[i + 1] <= '3' && p[i + 2] >= '0' && p[i + 2] <= '7' &&
                       p[i + 3] >= '0' && p[i + 3] <= '7') {
                out[k++] = (uint8_t)((p[i + 1] - '0') << 6 | (p[i + 2] - '0') << 3 | (p[i + 3] - '0'));
                i += 4;
            } else {
                free(out);
                pgt_err_syntax(err, "bytea", p, n);
                return NULL;
            }
        }
    }
    duckdb_value v = duckdb_create_blob(out, (idx_t)k);
    free(out);
    return v;
}

/* uuid_in: 32 hex digits, optionally in braces, with a hyphen allowed after any group
 * of four digits. */
static duckdb_value text_in_uuid(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)oid, (void)tz;
    size_t i = 0, end = n, nd = 0;
    uint8_t b[16] = {0};
    if (n && p[0] == '{') {
        if (p[n - 1] != '}') goto bad;
        i = 1, end = n - 1;
    }
    for (; i < end; i++) {
        if (p[i] == '-' && nd && nd % 4 == 0 && nd < 32 && i + 1 < end && p[i + 1] != '-') continue;
        int h = hexval(p[i]);
        if (h < 0 || nd >= 32) goto bad;
        b[nd / 2] |= (uint8_t)(nd % 2 ? h : h << 4);
        nd++;
    }
    if (nd != 32) goto bad;
    return pgt_uuid_value(b);
bad:
    pgt_err_syntax(err, "uuid", p, n);
    return NULL;
}

static duckdb_value text_in_numeric(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)oid, (void)tz;
    return pgt_numeric_text_in(p, n, err);
}
static duckdb_value text_in_int2(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)tz;
    return pgt_int_text_in(oid, p, n, err);
}
#define text_in_int4 text_in_int2
#define text_in_int8 text_in_int2
#define text_in_oid text_in_int2
static duckdb_value text_in_float8(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)tz;
    return pgt_float_text_in(oid, p, n, err);
}
#define text_in_float4 text_in_float8
static duckdb_value text_in_date(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)oid;
    return pgt_date_text_in(p, n, tz, err);
}
static duckdb_value text_in_time(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)tz;
    return pgt_time_text_in(p, n, oid == PGT_TIMETZ, err);
}
#define text_in_timetz text_in_time
static duckdb_value text_in_timestamp(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    return pgt_timestamp_text_in(p, n, oid == PGT_TIMESTAMPTZ, tz, err);
}
#define text_in_timestamptz text_in_timestamp
static duckdb_value text_in_interval(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    (void)oid, (void)tz;
    return pgt_interval_text_in(p, n, err);
}

static text_in_fn text_in_of(uint32_t oid) {
    switch (oid) {
#define TIN(name, oid_, arr, len, duck, codec) case oid_: return text_in_##codec;
        PGT_TYPE_TABLE(TIN)
#undef TIN
    default:
        return NULL;
    }
}

/* array_in for one-dimensional arrays: '{a, "b c", NULL, "x\"y"}'. Elements are read
 * with the element type's input; an unquoted NULL (any case) is NULL. */
static duckdb_value array_text_in(uint32_t elem, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    text_in_fn in = text_in_of(elem);
    const char *s = p;
    size_t len = n;
    pgt_trim(&s, &len);
    if (len < 2 || s[0] != '{' || s[len - 1] != '}') {
        if (len && s[0] == '[')
            pgt_err_set(err, "0A000", "array bounds ([lo:hi]=...) are not supported in array input");
        else
            pgt_err_set(err, "22P02", "malformed array literal: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
        return NULL;
    }
    pgt_vals vals = {0};
    pgt_buf el = {0};
    size_t i = 1, end = len - 1;
    while (i < end && isspace((unsigned char)s[i])) i++;
    bool empty = i == end;
    while (!empty) {
        while (i < end && isspace((unsigned char)s[i])) i++;
        el.len = 0;
        bool quoted = false, any = false;
        size_t last_sig = 0; /* el.len after the last character that is not trailing space */
        if (i < end && s[i] == '{') {
            pgt_err_set(err, "0A000", "multidimensional arrays are not supported");
            goto fail;
        }
        if (i < end && s[i] == '"') {
            quoted = true;
            i++;
            while (i < end && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < end) i++;
                if (pgt_buf_append(&el, &s[i++], 1)) goto oom;
            }
            if (i >= end) goto malformed;
            i++;
            last_sig = el.len;
            while (i < end && isspace((unsigned char)s[i])) i++;
        } else {
            while (i < end && s[i] != ',') {
                if (s[i] == '"' || s[i] == '{' || s[i] == '}') goto malformed;
                bool esc = s[i] == '\\' && i + 1 < end;
                if (esc) i++;
                if (pgt_buf_append(&el, &s[i], 1)) goto oom;
                if (esc || !isspace((unsigned char)s[i])) last_sig = el.len;
                i++;
                any = true;
            }
            el.len = last_sig;
            if (!any || !el.len) goto malformed;
        }
        duckdb_value v;
        if (!quoted && el.len == 4 && !strncasecmp(el.data, "NULL", 4)) {
            v = duckdb_create_null_value();
        } else {
            const char *ed = el.data ? el.data : ""; /* "" (an empty quoted element): nothing buffered */
            v = in ? in(elem, ed, el.len, tz, err) : pgt_varchar_value(ed, el.len, err);
            if (!v) goto fail;
        }
        if (pgt_vals_push(&vals, v)) goto oom;
        if (i >= end) break;
        if (s[i] != ',') goto malformed;
        i++;
    }
    pgt_buf_free(&el);
    return pgt_list_value(elem, &vals, err);
malformed:
    pgt_err_set(err, "22P02", "malformed array literal: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
    goto fail;
oom:
    pgt_err_set(err, "53200", "out of memory");
fail:
    pgt_buf_free(&el);
    pgt_vals_free(&vals);
    return NULL;
}

duckdb_value pgt_text_in_tz(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err) {
    text_in_fn in = text_in_of(oid);
    if (in) return in(oid, p, n, tz, err);
    uint32_t elem = pgt_elem_oid(oid);
    if (elem) return array_text_in(elem, p, n, tz, err);
    return pgt_varchar_value(p, n, err); /* 0, unknown OIDs: DuckDB casts the text */
}

duckdb_value pgt_text_in(uint32_t oid, const char *p, size_t n, pgt_err *err) {
    return pgt_text_in_tz(oid, p, n, NULL, err);
}
