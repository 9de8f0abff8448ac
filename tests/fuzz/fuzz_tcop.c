/* libFuzzer target: the executor's readers of utility statements (pgexec/tcop.c):
 * transactions, cursors (DECLARE/FETCH/MOVE/CLOSE), SET/SHOW/RESET, set_config(),
 * DEALLOCATE and command tags, all fed client SQL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/tcop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The executor hands tcop a statement inside a NUL-terminated Query string. */
    char *sql = malloc(size + 1);
    if (!sql) return 0;
    memcpy(sql, data, size);
    sql[size] = '\0';
    tcop_stmt ts;
    tcop_analyze(sql, size, &ts);
    if (ts.nwords < 0 || ts.nwords > 2) abort();
    static const tcop_kind kinds[] = {TC_DECLARE, TC_FETCH, TC_MOVE, TC_CLOSE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        tcop_cursor c;
        if (tcop_parse_cursor(kinds[i], sql, size, &c) == TCOP_CURSOR_OK) {
            if (memchr(c.name, '\0', sizeof c.name) == NULL) abort();
            if (kinds[i] == TC_DECLARE && c.query_at > size) abort(); /* the query lies inside the text */
        }
    }
    tcop_set s;
    tcop_parse_set(sql, size, &s);
    if (!memchr(s.name, '\0', sizeof s.name) || !memchr(s.value, '\0', sizeof s.value)) abort();
    tcop_set_config sc;
    tcop_parse_set_config(sql, size, &sc);
    char name[32], tag[64], verb[32];
    tcop_deallocate(sql, size, name);
    tcop_tag(sql, size, DUCKDB_STATEMENT_TYPE_SELECT, size & 1, size, tag, sizeof tag);
    tcop_verb_tag(sql, size, verb);
    if (!memchr(tag, '\0', sizeof tag) || !memchr(verb, '\0', sizeof verb)) abort();
    free(sql);
    return 0;
}
