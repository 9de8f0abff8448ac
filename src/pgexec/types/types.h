/* types.h - DuckDB values as PostgreSQL sees them: the type OID announced in
 * RowDescription and the text output format of every value, cell by cell. */
#ifndef DS_PGX_TYPES_H
#define DS_PGX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duckdb.h"

/* PostgreSQL type OIDs used by pgt_oid(). */
enum {
    PGT_BOOL = 16,
    PGT_BYTEA = 17,
    PGT_INT8 = 20,
    PGT_INT2 = 21,
    PGT_INT4 = 23,
    PGT_TEXT = 25,
    PGT_JSON = 114,
    PGT_JSON_ARRAY = 199,
    PGT_FLOAT4 = 700,
    PGT_FLOAT8 = 701,
    PGT_BOOL_ARRAY = 1000,
    PGT_BYTEA_ARRAY = 1001,
    PGT_INT2_ARRAY = 1005,
    PGT_INT4_ARRAY = 1007,
    PGT_TEXT_ARRAY = 1009,
    PGT_INT8_ARRAY = 1016,
    PGT_FLOAT4_ARRAY = 1021,
    PGT_FLOAT8_ARRAY = 1022,
    PGT_DATE = 1082,
    PGT_TIME = 1083,
    PGT_TIMESTAMP = 1114,
    PGT_TIMESTAMP_ARRAY = 1115,
    PGT_DATE_ARRAY = 1182,
    PGT_TIME_ARRAY = 1183,
    PGT_TIMESTAMPTZ = 1184,
    PGT_TIMESTAMPTZ_ARRAY = 1185,
    PGT_INTERVAL = 1186,
    PGT_INTERVAL_ARRAY = 1187,
    PGT_NUMERIC_ARRAY = 1231,
    PGT_TIMETZ = 1266,
    PGT_NUMERIC = 1700,
    PGT_UUID = 2950,
    PGT_UUID_ARRAY = 2951,
};

/* Growable byte buffer (not NUL-terminated). Zero-initialise it ({0}) or call
 * pgt_buf_init; pgt_buf_free releases it. Appends return 0, or -1 when an allocation
 * fails (the buffer then keeps its previous contents). */
typedef struct {
    char *data;
    size_t len, cap;
} pgt_buf;

void pgt_buf_init(pgt_buf *b);
void pgt_buf_free(pgt_buf *b);
/* Makes room for at least `extra` more bytes after len. */
int pgt_buf_reserve(pgt_buf *b, size_t extra);
int pgt_buf_append(pgt_buf *b, const void *p, size_t n);

/* The PostgreSQL type OID announced for a DuckDB type (text, 25, when nothing closer
 * exists). VARCHAR with the JSON alias is json; LIST/ARRAY of a base type is the
 * PostgreSQL array of that element, text[] otherwise. */
uint32_t pgt_oid(duckdb_logical_type t);
/* pg_type.typlen of an OID returned by pgt_oid: the fixed size, or -1 (varlena). */
int16_t pgt_typlen(uint32_t oid);

/* True when row `row` of `v` is NULL (validity mask bit clear). */
bool pgt_is_null(duckdb_vector v, idx_t row);

/* A formatting plan for one result column: the type's details (decimal scale, enum
 * dictionary, children of nested types) resolved once, so that formatting a cell never
 * calls back into the type API or allocates. The fields are private. */
typedef struct pgt_col {
    duckdb_type id;
    duckdb_type internal; /* DECIMAL storage type, ENUM index type */
    uint8_t scale;        /* DECIMAL */
    idx_t array_size;     /* ARRAY */
    uint32_t n;           /* ENUM entries, or number of children */
    char *strs;           /* ENUM: all entries, back to back */
    uint32_t *offs;       /* ENUM: n + 1 offsets into strs */
    struct pgt_col *kids; /* LIST/ARRAY: 1, MAP: 2 (key, value), STRUCT/UNION: n */
    const struct pgt_tz *tz; /* TIMESTAMP WITH TIME ZONE shown in this zone (NULL: UTC) */
} pgt_col;

/* Builds the plan for a column of type t (t is borrowed). Returns 0 or -1 on allocation
 * failure (c is then already destroyed). Release with pgt_col_destroy. */
int pgt_col_init(pgt_col *c, duckdb_logical_type t);
void pgt_col_destroy(pgt_col *c);
/* Appends the PostgreSQL text output of row `row` of `v` (a vector of the plan's type,
 * e.g. from duckdb_fetch_chunk) to out. The cell must not be NULL (see pgt_is_null);
 * NULLs nested inside lists and structs are written as PostgreSQL writes them.
 * TIMESTAMP WITH TIME ZONE and TIME WITH TIME ZONE are written in UTC ("+00"): there
 * is no session TimeZone yet. Returns 0 or -1 on allocation failure. */
int pgt_col_format(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out);
/* Binary format (the client asked for format 1). pgt_col_binary_ok says whether the
 * column's type has one here (bool, int2/4/8, float4/8, numeric, text/json/enum, bytea,
 * date, time, timestamp[tz], interval, uuid); pgt_col_format_binary appends the
 * PostgreSQL binary representation of a non-NULL cell (scratch is working space).
 * Returns 0, -1 on allocation failure, -2 when the type has no binary form here. */
bool pgt_col_binary_ok(const pgt_col *c);
int pgt_col_format_binary(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, pgt_buf *scratch);

/* Shows TIMESTAMP WITH TIME ZONE values of c (and of its nested types) in zone tz
 * (borrowed; it must outlive c's use). */
void pgt_col_set_tz(pgt_col *c, const struct pgt_tz *tz);

/* One-shot pgt_col_format: builds and drops a plan per call, which is free for scalar
 * types but allocates for ENUM and nested types; prefer pgt_col for whole results. */
int pgt_format_text(duckdb_vector v, duckdb_logical_type t, idx_t row, pgt_buf *out);

#endif
