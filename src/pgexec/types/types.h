/* types.h - DuckDB values as PostgreSQL sees them, both ways: the type table (OIDs,
 * typlen, array types), text and binary output cell by cell for results and COPY TO,
 * and text and binary input of parameters and COPY FROM into DuckDB values. */
#ifndef DS_PGX_TYPES_H
#define DS_PGX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duckdb.h"

struct pgt_tz;

/* THE type table: one row per PostgreSQL type duckspace speaks, read by RowDescription
 * and ParameterDescription (pgt_oid, pgt_typlen), the result codecs, Bind and COPY
 * (pgt_text_in, pgt_binary_in) and the array codecs (pgt_array_oid, pgt_elem_oid).
 *
 *   X(NAME, oid, array oid, typlen, DuckDB type a value of it becomes, codec)
 *
 * `codec` names the receive functions: text.c's text_in_<codec> (PostgreSQL's text
 * input) and binary.c's recv_<codec> (PostgreSQL's binary receive format). The send
 * side works from DuckDB's vectors; which PostgreSQL type (and so which byte width) a
 * DuckDB type is sent as is PGT_DUCK_TABLE below. typlen is pg_type.typlen (-1 varlena,
 * -2 C string). */
#define PGT_TYPE_TABLE(X)                                                            \
    X(BOOL, 16, 1000, 1, DUCKDB_TYPE_BOOLEAN, bool)                                   \
    X(BYTEA, 17, 1001, -1, DUCKDB_TYPE_BLOB, bytea)                                   \
    X(NAME, 19, 1003, 64, DUCKDB_TYPE_VARCHAR, text)                                  \
    X(INT8, 20, 1016, 8, DUCKDB_TYPE_BIGINT, int8)                                    \
    X(INT2, 21, 1005, 2, DUCKDB_TYPE_SMALLINT, int2)                                  \
    X(INT4, 23, 1007, 4, DUCKDB_TYPE_INTEGER, int4)                                   \
    X(TEXT, 25, 1009, -1, DUCKDB_TYPE_VARCHAR, text)                                  \
    X(OID, 26, 1028, 4, DUCKDB_TYPE_UINTEGER, oid)                                    \
    X(JSON, 114, 199, -1, DUCKDB_TYPE_VARCHAR, text)                                  \
    X(FLOAT4, 700, 1021, 4, DUCKDB_TYPE_FLOAT, float4)                                \
    X(FLOAT8, 701, 1022, 8, DUCKDB_TYPE_DOUBLE, float8)                               \
    X(UNKNOWN, 705, 0, -2, DUCKDB_TYPE_VARCHAR, text)                                 \
    X(BPCHAR, 1042, 1014, -1, DUCKDB_TYPE_VARCHAR, text)                              \
    X(VARCHAR, 1043, 1015, -1, DUCKDB_TYPE_VARCHAR, text)                             \
    X(DATE, 1082, 1182, 4, DUCKDB_TYPE_DATE, date)                                    \
    X(TIME, 1083, 1183, 8, DUCKDB_TYPE_TIME, time)                                    \
    X(TIMESTAMP, 1114, 1115, 8, DUCKDB_TYPE_TIMESTAMP, timestamp)                     \
    X(TIMESTAMPTZ, 1184, 1185, 8, DUCKDB_TYPE_TIMESTAMP_TZ, timestamptz)              \
    X(INTERVAL, 1186, 1187, 16, DUCKDB_TYPE_INTERVAL, interval)                       \
    X(TIMETZ, 1266, 1270, 12, DUCKDB_TYPE_TIME_TZ, timetz)                            \
    X(NUMERIC, 1700, 1231, -1, DUCKDB_TYPE_DECIMAL, numeric)                          \
    X(UUID, 2950, 2951, 16, DUCKDB_TYPE_UUID, uuid)                                   \
    X(JSONB, 3802, 3807, -1, DUCKDB_TYPE_VARCHAR, jsonb)

/* DuckDB type -> the PostgreSQL type its values are sent as (RowDescription, binary
 * send widths). Types not listed are sent as text (25): their text output, which is
 * also their binary form. VARCHAR with the JSON alias is json (pgt_oid); LIST and
 * ARRAY are the element's array type. */
#define PGT_DUCK_TABLE(X)                         \
    X(DUCKDB_TYPE_BOOLEAN, BOOL)                  \
    X(DUCKDB_TYPE_TINYINT, INT2)                  \
    X(DUCKDB_TYPE_UTINYINT, INT2)                 \
    X(DUCKDB_TYPE_SMALLINT, INT2)                 \
    X(DUCKDB_TYPE_USMALLINT, INT4)                \
    X(DUCKDB_TYPE_INTEGER, INT4)                  \
    X(DUCKDB_TYPE_UINTEGER, OID)                  \
    X(DUCKDB_TYPE_BIGINT, INT8)                   \
    X(DUCKDB_TYPE_UBIGINT, NUMERIC)               \
    X(DUCKDB_TYPE_HUGEINT, NUMERIC)               \
    X(DUCKDB_TYPE_UHUGEINT, NUMERIC)              \
    X(DUCKDB_TYPE_DECIMAL, NUMERIC)               \
    X(DUCKDB_TYPE_BIGNUM, NUMERIC)                \
    X(DUCKDB_TYPE_FLOAT, FLOAT4)                  \
    X(DUCKDB_TYPE_DOUBLE, FLOAT8)                 \
    X(DUCKDB_TYPE_VARCHAR, TEXT)                  \
    X(DUCKDB_TYPE_BLOB, BYTEA)                    \
    X(DUCKDB_TYPE_DATE, DATE)                     \
    X(DUCKDB_TYPE_TIME, TIME)                     \
    X(DUCKDB_TYPE_TIME_NS, TIME)                  \
    X(DUCKDB_TYPE_TIME_TZ, TIMETZ)                \
    X(DUCKDB_TYPE_TIMESTAMP, TIMESTAMP)           \
    X(DUCKDB_TYPE_TIMESTAMP_S, TIMESTAMP)         \
    X(DUCKDB_TYPE_TIMESTAMP_MS, TIMESTAMP)        \
    X(DUCKDB_TYPE_TIMESTAMP_NS, TIMESTAMP)        \
    X(DUCKDB_TYPE_TIMESTAMP_TZ, TIMESTAMPTZ)      \
    X(DUCKDB_TYPE_INTERVAL, INTERVAL)             \
    X(DUCKDB_TYPE_UUID, UUID)

/* PGT_BOOL = 16, ... and PGT_BOOL_ARRAY = 1000, ... from the table. */
#define PGT_X_OID(name, oid, arr, len, duck, codec) PGT_##name = oid,
#define PGT_X_ARR(name, oid, arr, len, duck, codec) PGT_##name##_ARRAY = arr,
enum { PGT_TYPE_TABLE(PGT_X_OID) };
enum { PGT_TYPE_TABLE(PGT_X_ARR) };
#undef PGT_X_OID
#undef PGT_X_ARR

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
/* pg_type.typlen of an OID in the type table: the fixed size, -1 (varlena, also for
 * arrays and OIDs not in the table) or -2 (unknown). */
int16_t pgt_typlen(uint32_t oid);
/* The array type of element type `elem` (0 when none); the element type of array type
 * `arr` (0 when `arr` is not an array type of the table). */
uint32_t pgt_array_oid(uint32_t elem);
uint32_t pgt_elem_oid(uint32_t arr);
/* The OID of a PostgreSQL type name of the table ("int4", "integer", "pg_catalog.oid",
 * any case; n bytes, not NUL-terminated); 0 when not known here. */
uint32_t pgt_oid_by_name(const char *name, size_t n);
/* True when `oid` is in the type table, as a scalar or as its array type. */
bool pgt_oid_known(uint32_t oid);
/* The DuckDB type a value of PostgreSQL type `oid` becomes (LIST for arrays; DECIMAL's
 * width and scale depend on the value); DUCKDB_TYPE_INVALID when oid is not known. */
duckdb_type pgt_duck_type(uint32_t oid);
/* Why a value was refused: a SQLSTATE and a message (no server paths, no SQL). */
typedef struct {
    char sqlstate[6];
    char msg[160];
} pgt_err;

/* PostgreSQL's text input of a value of type `oid` (PostgreSQL's input syntax: 't'/'yes'/
 * 'on' bools, '\\x..' hex and escape bytea, '{..}' arrays with quoting and NULL,
 * 'infinity' dates/timestamps, PostgreSQL interval syntax incl. '1 day 02:00:00' and ISO
 * 8601, timestamptz offsets) into a new DuckDB value (the caller destroys it); NULL with
 * *err set when it is not a valid value (PostgreSQL's SQLSTATE and message: 22P02,
 * 22007, 22008, 22003...). oid 0, 25, 705 (unknown) and OIDs not in the table: VARCHAR.
 * A timestamptz without an offset is taken in UTC, a timetz without one too (see
 * pgt_text_in_tz). */
duckdb_value pgt_text_in(uint32_t oid, const char *p, size_t n, pgt_err *err);
/* pgt_text_in with a session time zone (borrowed, NULL: UTC) for timestamptz values
 * written without an offset, as PostgreSQL reads them in its TimeZone. */
duckdb_value pgt_text_in_tz(uint32_t oid, const char *p, size_t n, const struct pgt_tz *tz, pgt_err *err);
/* PostgreSQL's binary receive format of type `oid` into a new DuckDB value (the caller
 * destroys it); NULL with *err set, with PostgreSQL's SQLSTATEs: 22P03 "incorrect binary
 * data format" for bytes left over, 08P01 "insufficient data left in message" for too
 * few, 22003/22008 for values DuckDB cannot hold (numeric beyond 38 digits or NaN, dates
 * and timestamps out of range), 0A000 for multidimensional arrays and for an OID
 * without a binary receiver here. oid 0: text. */
duckdb_value pgt_binary_in(uint32_t oid, const uint8_t *p, size_t n, pgt_err *err);
/* True when s[0..n) is valid UTF-8 without NUL bytes, as PostgreSQL requires of text
 * (DuckDB 1.4.4 aborts the process on invalid UTF-8 in duckdb_create_varchar). */
bool pgt_utf8_ok(const char *s, size_t n);
/* A non-NULL value of type `oid` (false, 0, '', epoch...) used to type a parameter slot
 * when describing a statement; NULL when oid is 0 or unknown. */
duckdb_value pgt_zero_value(uint32_t oid);

/* True when row `row` of `v` is NULL (validity mask bit clear). */
bool pgt_is_null(duckdb_vector v, idx_t row);

/* A formatting plan for one result column: the type's details (decimal scale, enum
 * dictionary, children of nested types) resolved once, so that formatting a cell never
 * calls back into the type API or allocates. The fields are private. */
typedef struct pgt_col {
    duckdb_type id;
    duckdb_type internal; /* DECIMAL storage type, ENUM index type */
    uint32_t oid;         /* the PostgreSQL type it is sent as (pgt_oid) */
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
 * TIMESTAMP WITH TIME ZONE is written in the plan's zone (pgt_col_set_tz; UTC when
 * none), TIME WITH TIME ZONE with its own offset. Returns 0 or -1 on allocation
 * failure. */
int pgt_col_format(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out);
/* Binary format (the client asked for format 1): pgt_col_format_binary appends the
 * PostgreSQL binary representation of a non-NULL cell (scratch is working space): the
 * table's types in their PostgreSQL form at the width of the OID they are announced as,
 * LIST/ARRAY as PostgreSQL arrays, and the types announced as text (enum, struct, map,
 * union, bit, ...) as their text output, which is text's binary form. Returns 0 or -1
 * on allocation failure. pgt_col_binary_ok is true for every column (kept for callers). */
bool pgt_col_binary_ok(const pgt_col *c);
int pgt_col_format_binary(const pgt_col *c, duckdb_vector v, idx_t row, pgt_buf *out, pgt_buf *scratch);

/* Shows TIMESTAMP WITH TIME ZONE values of c (and of its nested types) in zone tz
 * (borrowed; it must outlive c's use). */
void pgt_col_set_tz(pgt_col *c, const struct pgt_tz *tz);

/* One-shot pgt_col_format: builds and drops a plan per call, which is free for scalar
 * types but allocates for ENUM and nested types; prefer pgt_col for whole results. */
int pgt_format_text(duckdb_vector v, duckdb_logical_type t, idx_t row, pgt_buf *out);

#endif
