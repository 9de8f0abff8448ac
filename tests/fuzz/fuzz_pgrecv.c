/* libFuzzer target: the type table's receivers (pgexec/types/) read client bytes from
 * Bind parameters and COPY FROM: pgt_binary_in (PostgreSQL's binary receive formats) and
 * pgt_text_in (PostgreSQL's text input syntax) for every OID of the table, its array
 * types, 0 and an unknown OID. Byte 0 picks the OID, byte 1 text or binary (and, for
 * text, whether a session time zone is given); the rest is the value. */
#include <stddef.h>
#include <stdint.h>

#include "pgexec/types/types.h"
#include "pgexec/types/tz.h"

#define OIDS(name, oid, arr, len, duck, codec) oid, arr,
static const uint32_t oids[] = {PGT_TYPE_TABLE(OIDS) 0, 99999};
#undef OIDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static pgt_tz *zone;
    static int loaded;
    if (!loaded) zone = pgt_tz_load("Europe/Prague"), loaded = 1;
    if (size < 2) return 0;
    uint32_t oid = oids[data[0] % (sizeof oids / sizeof oids[0])];
    pgt_err err;
    duckdb_value v;
    if (data[1] & 1)
        v = pgt_binary_in(oid, data + 2, size - 2, &err);
    else
        v = pgt_text_in_tz(oid, (const char *)data + 2, size - 2, (data[1] & 2) ? zone : NULL, &err);
    if (v) {
        (void)duckdb_get_value_type(v);
        duckdb_destroy_value(&v);
    } else if (!err.sqlstate[0] || !err.msg[0]) {
        __builtin_trap(); /* a refusal always says why */
    }
    return 0;
}
