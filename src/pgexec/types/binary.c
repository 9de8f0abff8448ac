/* binary.c - PostgreSQL binary send format of DuckDB values (result format 1). */
#include <string.h>

#include "pgexec/types/codec.h"

/* ---- binary format ---- */




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
    case DUCKDB_TYPE_BOOLEAN: return pgt_put_be(out, ((const bool *)data)[row] ? 1 : 0, 1);
    case DUCKDB_TYPE_TINYINT: return pgt_put_be(out, (uint64_t)(int64_t)((const int8_t *)data)[row], 2);
    case DUCKDB_TYPE_UTINYINT: return pgt_put_be(out, ((const uint8_t *)data)[row], 2);
    case DUCKDB_TYPE_SMALLINT: return pgt_put_be(out, (uint64_t)(int64_t)((const int16_t *)data)[row], 2);
    case DUCKDB_TYPE_USMALLINT: return pgt_put_be(out, ((const uint16_t *)data)[row], 4);
    case DUCKDB_TYPE_INTEGER: return pgt_put_be(out, (uint64_t)(int64_t)((const int32_t *)data)[row], 4);
    case DUCKDB_TYPE_UINTEGER: return pgt_put_be(out, ((const uint32_t *)data)[row], 8);
    case DUCKDB_TYPE_BIGINT: return pgt_put_be(out, (uint64_t)((const int64_t *)data)[row], 8);
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
        scratch->len = 0;
        if (pgt_col_format(c, v, row, scratch)) return -1;
        return pgt_put_numeric_text(out, scratch->data, scratch->len);
    case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_ENUM:
        return pgt_col_format(c, v, row, out); /* text, json and enum: their text is their binary form */
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
        return pgt_put_be(out, (uint64_t)iv.micros, 8) | pgt_put_be(out, (uint64_t)(int64_t)iv.days, 4) |
               pgt_put_be(out, (uint64_t)(int64_t)iv.months, 4);
    }
    case DUCKDB_TYPE_UUID: {
        duckdb_hugeint h = ((const duckdb_hugeint *)data)[row];
        return pgt_put_be(out, (uint64_t)h.upper ^ (UINT64_C(1) << 63), 8) | pgt_put_be(out, h.lower, 8);
    }
    default:
        return -2;
    }
}

