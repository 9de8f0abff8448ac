/* binary.c - PostgreSQL's binary format: send (result format 1) of DuckDB values, and
 * receive (Bind parameters in format 1, COPY BINARY) into DuckDB values. The widths
 * come from the type table (types.h): a DuckDB type is sent as the PostgreSQL type
 * PGT_DUCK_TABLE maps it to, at that type's typlen. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/types/codec.h"
#include "util/wire.h"

/* ---- send ---- */

/* Every type has a binary form: the table's types their PostgreSQL one, the others
 * (announced as text) their text output, which is text's binary form. */
bool pgt_col_binary_ok(const pgt_col *c) {
    (void)c;
    return true;
}

static int send_int(pgt_buf *out, uint32_t oid, int64_t v) { return pgt_put_be(out, (uint64_t)v, pgt_typlen(oid)); }

static int send_cell(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, pgt_buf *scratch);

/* array_send of a LIST/ARRAY cell: ndim (0 when empty, else 1), has-null flag, element
 * OID, then size and lower bound 1, then each element as int32 length (-1: NULL) and
 * bytes. Elements of a text[] sent for nested types are their text output. */
static int send_array(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, pgt_buf *scratch) {
    duckdb_vector child;
    idx_t off, n;
    if (c->id == DUCKDB_TYPE_LIST) {
        const duckdb_list_entry *e = (const duckdb_list_entry *)duckdb_vector_get_data(v) + row;
        child = duckdb_list_vector_get_child(v);
        off = e->offset, n = e->length;
    } else {
        child = duckdb_array_vector_get_child(v);
        off = row * c->array_size, n = c->array_size;
    }
    if (n > INT32_MAX) return -1;
    uint32_t elem = pgt_elem_oid(c->oid);
    const pgt_col *k = &c->kids[0];
    bool as_text = elem == PGT_TEXT && k->oid != PGT_TEXT;
    if (pgt_put_be(out, n ? 1 : 0, 4)) return -1;
    size_t flag_at = out->len;
    if (pgt_put_be(out, 0, 4) || pgt_put_be(out, elem, 4)) return -1;
    if (n && (pgt_put_be(out, n, 4) || pgt_put_be(out, 1, 4))) return -1;
    bool has_null = false;
    for (idx_t i = off; i < off + n; i++) {
        if (pgt_is_null(child, i)) {
            has_null = true;
            if (pgt_put_be(out, UINT32_MAX, 4)) return -1;
            continue;
        }
        size_t len_at = out->len;
        if (pgt_put_be(out, 0, 4)) return -1;
        int rc = as_text ? pgt_col_format(k, child, i, out) : send_cell(k, child, i, out, scratch);
        if (rc) return rc;
        size_t len = out->len - len_at - 4;
        if (len > INT32_MAX) return -1;
        for (int b = 0; b < 4; b++) out->data[len_at + (size_t)b] = (char)(len >> (24 - 8 * b));
    }
    if (has_null) out->data[flag_at + 3] = 1;
    return 0;
}

static int send_cell(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, pgt_buf *scratch) {
    const void *data = duckdb_vector_get_data(v);
    switch (c->id) {
    case DUCKDB_TYPE_BOOLEAN: return pgt_put_be(out, ((const bool *)data)[row] ? 1 : 0, 1);
    case DUCKDB_TYPE_TINYINT: return send_int(out, c->oid, ((const int8_t *)data)[row]);
    case DUCKDB_TYPE_UTINYINT: return send_int(out, c->oid, ((const uint8_t *)data)[row]);
    case DUCKDB_TYPE_SMALLINT: return send_int(out, c->oid, ((const int16_t *)data)[row]);
    case DUCKDB_TYPE_USMALLINT: return send_int(out, c->oid, ((const uint16_t *)data)[row]);
    case DUCKDB_TYPE_INTEGER: return send_int(out, c->oid, ((const int32_t *)data)[row]);
    case DUCKDB_TYPE_UINTEGER: return send_int(out, c->oid, ((const uint32_t *)data)[row]);
    case DUCKDB_TYPE_BIGINT: return send_int(out, c->oid, ((const int64_t *)data)[row]);
    case DUCKDB_TYPE_FLOAT: {
        uint32_t u;
        memcpy(&u, (const float *)data + row, 4);
        return pgt_put_be(out, u, 4);
    }
    case DUCKDB_TYPE_DOUBLE: {
        uint64_t u;
        memcpy(&u, (const double *)data + row, 8);
        return pgt_put_be(out, u, 8);
    }
    case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_DECIMAL:
    case DUCKDB_TYPE_BIGNUM:
        scratch->len = 0;
        if (pgt_col_format(c, v, row, scratch)) return -1;
        return pgt_put_numeric_text(out, scratch->data, scratch->len);
    case DUCKDB_TYPE_BLOB: {
        const char *p;
        uint32_t n;
        pgt_str_of((const duckdb_string_t *)data + row, &p, &n);
        return pgt_buf_append(out, p, n);
    }
    case DUCKDB_TYPE_DATE: {
        int32_t d = ((const duckdb_date *)data)[row].days;
        int64_t pd = d == INT32_MAX ? INT32_MAX : d == -INT32_MAX ? INT32_MIN : (int64_t)d - PG_EPOCH_DAYS;
        return pgt_put_be(out, (uint64_t)pd, 4);
    }
    case DUCKDB_TYPE_TIME: return pgt_put_be(out, (uint64_t)((const duckdb_time *)data)[row].micros, 8);
    case DUCKDB_TYPE_TIME_NS: {
        int64_t ns = ((const duckdb_time_ns *)data)[row].nanos;
        return pgt_put_be(out, (uint64_t)((ns + 500) / 1000), 8);
    }
    case DUCKDB_TYPE_TIME_TZ: {
        /* timetz_send: int64 microseconds, int32 zone in seconds WEST of UTC. */
        duckdb_time_tz_struct t = duckdb_from_time_tz(((const duckdb_time_tz *)data)[row]);
        int64_t us = ((int64_t)t.time.hour * 3600 + t.time.min * 60 + t.time.sec) * USECS_PER_SEC + t.time.micros;
        return pgt_put_be(out, (uint64_t)us, 8) || pgt_put_be(out, (uint64_t)(int64_t)-t.offset, 4) ? -1 : 0;
    }
    case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS: case DUCKDB_TYPE_TIMESTAMP_NS: {
        int64_t t = ((const int64_t *)data)[row];
        if (t == INT64_MAX || t == -INT64_MAX) return pgt_put_be(out, t == INT64_MAX ? (uint64_t)INT64_MAX : (uint64_t)INT64_MIN, 8);
        if (c->id == DUCKDB_TYPE_TIMESTAMP_S) t *= 1000000;
        else if (c->id == DUCKDB_TYPE_TIMESTAMP_MS) t *= 1000;
        else if (c->id == DUCKDB_TYPE_TIMESTAMP_NS) t /= 1000;
        return pgt_put_be(out, (uint64_t)(t - PG_EPOCH_US), 8);
    }
    case DUCKDB_TYPE_INTERVAL: {
        duckdb_interval iv = ((const duckdb_interval *)data)[row];
        return pgt_put_be(out, (uint64_t)iv.micros, 8) || pgt_put_be(out, (uint64_t)(int64_t)iv.days, 4) ||
                       pgt_put_be(out, (uint64_t)(int64_t)iv.months, 4)
                   ? -1
                   : 0;
    }
    case DUCKDB_TYPE_UUID: {
        duckdb_hugeint h = ((const duckdb_hugeint *)data)[row];
        return pgt_put_be(out, (uint64_t)h.upper ^ (UINT64_C(1) << 63), 8) || pgt_put_be(out, h.lower, 8) ? -1 : 0;
    }
    case DUCKDB_TYPE_LIST: case DUCKDB_TYPE_ARRAY:
        return send_array(c, v, row, out, scratch);
    default:
        /* VARCHAR, JSON, ENUM, BIT, STRUCT, MAP, UNION...: announced as text or json,
         * whose binary form is their text. */
        return pgt_col_format(c, v, row, out);
    }
}

int pgt_col_format_binary(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, pgt_buf *scratch) {
    return send_cell(c, v, row, out, scratch);
}

/* ---- receive ---- */

static duckdb_value bad_format(pgt_err *err) {
    pgt_err_set(err, "22P03", "incorrect binary data format");
    return NULL;
}

static uint64_t be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

typedef duckdb_value (*recv_fn)(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err);

static duckdb_value recv_bool(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return n == 1 ? duckdb_create_bool(p[0] != 0) : bad_format(err);
}
static duckdb_value recv_int2(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return n == 2 ? duckdb_create_int16((int16_t)be(p, 2)) : bad_format(err);
}
static duckdb_value recv_int4(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return n == 4 ? duckdb_create_int32((int32_t)be(p, 4)) : bad_format(err);
}
static duckdb_value recv_int8(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return n == 8 ? duckdb_create_int64((int64_t)be(p, 8)) : bad_format(err);
}
static duckdb_value recv_oid(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return n == 4 ? duckdb_create_uint32((uint32_t)be(p, 4)) : bad_format(err);
}
static duckdb_value recv_float4(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    if (n != 4) return bad_format(err);
    uint32_t u = (uint32_t)be(p, 4);
    float f;
    memcpy(&f, &u, 4);
    return duckdb_create_float(f);
}
static duckdb_value recv_float8(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    if (n != 8) return bad_format(err);
    uint64_t u = be(p, 8);
    double d;
    memcpy(&d, &u, 8);
    return duckdb_create_double(d);
}
static duckdb_value recv_numeric(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return pgt_numeric_recv(p, n, err);
}
static duckdb_value recv_text(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return pgt_varchar_value((const char *)p, n, err);
}
/* jsonb_recv: a version byte (1), then the JSON text. */
static duckdb_value recv_jsonb(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    if (n < 1 || p[0] != 1) {
        pgt_err_set(err, "22P03", "unsupported jsonb version number %d", n ? p[0] : -1);
        return NULL;
    }
    return pgt_varchar_value((const char *)p + 1, n - 1, err);
}
static duckdb_value recv_bytea(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid, (void)err;
    return duckdb_create_blob(p, (idx_t)n);
}

/* date_recv: int32 days since 2000-01-01; INT32_MIN/MAX are -infinity/infinity (DuckDB's
 * -INT32_MAX/INT32_MAX days). Dates outside PostgreSQL's range are refused as it does. */
static duckdb_value recv_date(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    if (n != 4) return bad_format(err);
    int32_t d = (int32_t)be(p, 4);
    duckdb_date out;
    if (d == INT32_MAX) out.days = INT32_MAX;
    else if (d == INT32_MIN) out.days = -INT32_MAX;
    else if ((int64_t)d < -2451545 || (int64_t)d >= 2147483494 - 2451545) {
        pgt_err_set(err, "22008", "date out of range");
        return NULL;
    } else out.days = (int32_t)((int64_t)d + PG_EPOCH_DAYS);
    return duckdb_create_date(out);
}

static duckdb_value recv_time(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    if (n != 8) return bad_format(err);
    int64_t us = (int64_t)be(p, 8);
    if (us < 0 || us > USECS_PER_DAY) {
        pgt_err_set(err, "22008", "time out of range");
        return NULL;
    }
    return duckdb_create_time((duckdb_time){.micros = us});
}

/* timetz_recv: int64 microseconds and int32 zone in seconds west of UTC (DuckDB's
 * offset is east). */
static duckdb_value recv_timetz(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    if (n != 12) return bad_format(err);
    int64_t us = (int64_t)be(p, 8);
    int32_t west = (int32_t)be(p + 8, 4);
    if (us < 0 || us > USECS_PER_DAY) {
        pgt_err_set(err, "22008", "time out of range");
        return NULL;
    }
    if (west < -57599 || west > 57599) {
        pgt_err_set(err, "22009", "time zone displacement out of range");
        return NULL;
    }
    return duckdb_create_time_tz_value(duckdb_create_time_tz(us, -west));
}

/* timestamp_recv / timestamptz_recv: int64 microseconds since 2000-01-01 (UTC for
 * timestamptz); INT64_MIN/MAX are -infinity/infinity (DuckDB's -INT64_MAX/INT64_MAX).
 * Values DuckDB's timestamp cannot hold are refused, never wrapped. */
static duckdb_value recv_timestamp(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    if (n != 8) return bad_format(err);
    int64_t t = (int64_t)be(p, 8);
    duckdb_timestamp ts;
    if (t == INT64_MAX) ts.micros = INT64_MAX;
    else if (t == INT64_MIN) ts.micros = -INT64_MAX;
    else if (t < INT64_C(-211813488000000000) || __builtin_add_overflow(t, PG_EPOCH_US, &ts.micros) ||
             ts.micros == INT64_MAX) {
        pgt_err_set(err, "22008", "timestamp out of range");
        return NULL;
    }
    return oid == PGT_TIMESTAMPTZ ? duckdb_create_timestamp_tz(ts) : duckdb_create_timestamp(ts);
}
#define recv_timestamptz recv_timestamp

/* interval_recv: int64 microseconds, int32 days, int32 months (DuckDB's own fields). */
static duckdb_value recv_interval(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    if (n != 16) return bad_format(err);
    duckdb_interval iv = {.micros = (int64_t)be(p, 8), .days = (int32_t)be(p + 8, 4), .months = (int32_t)be(p + 12, 4)};
    return duckdb_create_interval(iv);
}

duckdb_value pgt_uuid_value(const uint8_t b[16]) {
    /* duckdb_create_uuid takes the UUID as an unsigned 128-bit number in its written
     * order (it flips the top bit into DuckDB's storage itself); checked by the unit
     * tests against uuid_send. */
    duckdb_uhugeint u = {.lower = be(b + 8, 8), .upper = be(b, 8)};
    return duckdb_create_uuid(u);
}

static duckdb_value recv_uuid(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    (void)oid;
    return n == 16 ? pgt_uuid_value(p) : bad_format(err);
}

static recv_fn recv_of(uint32_t oid) {
    switch (oid) {
#define RECV(name, oid_, arr, len, duck, codec) case oid_: return recv_##codec;
        PGT_TYPE_TABLE(RECV)
#undef RECV
    default:
        return NULL;
    }
}

/* ---- lists ---- */

int pgt_vals_push(pgt_vals *a, duckdb_value v) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        duckdb_value *g = realloc(a->v, cap * sizeof *g);
        if (!g) {
            duckdb_destroy_value(&v);
            return -1;
        }
        a->v = g, a->cap = cap;
    }
    a->v[a->n++] = v;
    return 0;
}

void pgt_vals_free(pgt_vals *a) {
    for (size_t i = 0; i < a->n; i++) duckdb_destroy_value(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* The element type of a list of `elem` values: the table's DuckDB type, or for numeric
 * the DECIMAL wide enough for every element (NULL with 22003 when none is). */
static duckdb_logical_type elem_type(uint32_t elem, const pgt_vals *a, pgt_err *err) {
    if (elem != PGT_NUMERIC) {
        duckdb_type d = pgt_duck_type(elem);
        return duckdb_create_logical_type(d == DUCKDB_TYPE_INVALID ? DUCKDB_TYPE_VARCHAR : d);
    }
    int ints = 0, scale = 0;
    bool any = false;
    for (size_t i = 0; i < a->n; i++) {
        duckdb_logical_type t = duckdb_get_value_type(a->v[i]); /* borrowed */
        if (duckdb_get_type_id(t) != DUCKDB_TYPE_DECIMAL) continue;
        int w = duckdb_decimal_width(t), s = duckdb_decimal_scale(t);
        if (w - s > ints) ints = w - s;
        if (s > scale) scale = s;
        any = true;
    }
    if (!any) return duckdb_create_decimal_type(18, 3);
    if (ints + scale > 38) {
        pgt_err_set(err, "22003", "numeric field overflow: DuckDB's DECIMAL holds at most 38 significant digits");
        return NULL;
    }
    return duckdb_create_decimal_type((uint8_t)(ints + scale ? ints + scale : 1), (uint8_t)scale);
}

duckdb_value pgt_list_value(uint32_t elem, pgt_vals *a, pgt_err *err) {
    duckdb_logical_type t = elem_type(elem, a, err);
    if (!t) {
        pgt_vals_free(a);
        return NULL;
    }
    /* duckdb_create_list_value refuses a NULL array even for no values (1.4.4). */
    duckdb_value none = NULL;
    duckdb_value v = duckdb_create_list_value(t, a->n ? a->v : &none, (idx_t)a->n);
    duckdb_destroy_logical_type(&t);
    pgt_vals_free(a);
    if (!v) pgt_err_set(err, "22P02", "array elements do not fit the array's element type");
    return v;
}

/* array_recv of a one-dimensional array (or an empty one): ndim, has-null flag, element
 * OID (must be the array type's), size and lower bound per dimension, then each element
 * as int32 length (-1 NULL) and bytes. Every count is checked against what is there. */
static duckdb_value array_recv(uint32_t elem, const uint8_t *p, size_t n, pgt_err *err) {
    wire_rd r;
    wire_rd_init(&r, p, n);
    int32_t ndim, flags, eoid, dim = 0, lbound = 1;
    if (!wire_rd_i32(&r, &ndim) || !wire_rd_i32(&r, &flags) || !wire_rd_i32(&r, &eoid)) return bad_format(err);
    if (ndim < 0 || ndim > 6) {
        pgt_err_set(err, "22P03", "invalid number of dimensions: %d", ndim);
        return NULL;
    }
    if (ndim > 1) {
        pgt_err_set(err, "0A000", "multidimensional arrays are not supported");
        return NULL;
    }
    if (flags != 0 && flags != 1) {
        pgt_err_set(err, "22P03", "invalid array flags");
        return NULL;
    }
    if ((uint32_t)eoid != elem) {
        pgt_err_set(err, "42804", "wrong element type");
        return NULL;
    }
    if (ndim == 1 && (!wire_rd_i32(&r, &dim) || !wire_rd_i32(&r, &lbound))) return bad_format(err);
    if (dim < 0 || (size_t)dim > wire_rd_left(&r) / 4) return bad_format(err);
    if (dim && lbound != 1) {
        pgt_err_set(err, "0A000", "array lower bounds other than 1 are not supported");
        return NULL;
    }
    pgt_vals vals = {0};
    for (int32_t i = 0; i < dim; i++) {
        int32_t len;
        const uint8_t *ep;
        duckdb_value v;
        if (!wire_rd_i32(&r, &len) || len < -1 || (len >= 0 && !wire_rd_bytes(&r, (size_t)len, &ep))) {
            bad_format(err);
            goto fail;
        }
        v = len < 0 ? duckdb_create_null_value() : pgt_binary_in(elem, ep, (size_t)len, err);
        if (!v) goto fail;
        if (pgt_vals_push(&vals, v)) {
            pgt_err_set(err, "53200", "out of memory");
            goto fail;
        }
    }
    if (wire_rd_left(&r)) {
        bad_format(err);
        goto fail;
    }
    return pgt_list_value(elem, &vals, err);
fail:
    pgt_vals_free(&vals);
    return NULL;
}

duckdb_value pgt_binary_in(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err) {
    recv_fn f = recv_of(oid);
    if (f) return f(oid, p, n, err);
    uint32_t elem = pgt_elem_oid(oid);
    if (elem) return array_recv(elem, p, n, err);
    if (oid == 0) return recv_text(oid, p, n, err); /* unspecified: text's binary form */
    pgt_err_set(err, "0A000", "binary format is not supported for type %u", oid);
    return NULL;
}

/* ---- slot typing ---- */

duckdb_value pgt_zero_value(uint32_t oid) {
    static const uint8_t zeros[16] = {0};
    pgt_err err;
    uint32_t elem = pgt_elem_oid(oid);
    if (elem) {
        /* An empty array of the element type: ndim 0, no nulls, element OID. */
        uint8_t hdr[12] = {0};
        for (int b = 0; b < 4; b++) hdr[8 + b] = (uint8_t)(elem >> (24 - 8 * b));
        return array_recv(elem, hdr, sizeof hdr, &err);
    }
    int16_t len = pgt_typlen(oid);
    switch (oid) {
    case 0: case PGT_UNKNOWN: return NULL;
    case PGT_NUMERIC: return pgt_numeric_recv(zeros, 8, &err);
    case PGT_JSONB: return recv_text(oid, (const uint8_t *)"null", 4, &err);
    case PGT_JSON: return recv_text(oid, (const uint8_t *)"null", 4, &err);
    default: break;
    }
    recv_fn f = recv_of(oid);
    if (!f) return NULL;
    return f(oid, zeros, len > 0 && len <= 16 ? (size_t)len : 0, &err);
}
