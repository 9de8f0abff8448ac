/* libFuzzer target: the SQL lexer (util/sqlscan.c) reads every statement users send. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/sqlscan.h"

typedef struct {
    size_t len;
} ctx;

static void piece(void *ud, size_t start, size_t n) {
    ctx *c = ud;
    if (start > c->len || n > c->len - start) abort(); /* a piece outside the input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    ctx c = {size};
    sqlscan_split(s, size, piece, &c);
    char words[4][32];
    sqlscan_keywords(s, size, words, 4);
    static const char *const names[] = {"read_csv", "glob", "read_blob", NULL};
    sqlscan_calls(s, size, names);
    sqlscan_mentions(s, size, names);
    sqlscan_plain_calls_only(s, size, "glob");
    if (sqlscan_block_comments(s, size, 8) > 9) abort(); /* counts no further than limit + 1 */
    size_t inner;
    bool analyze;
    if (sqlscan_explain(s, size, &inner, &analyze) && inner > size) abort();
    sqlscan_is_empty(s, size);
    sqlscan_balanced(s, size);
    char *r = sqlscan_rewrite_pg_names(s, size);
    if (r && strlen(r) > size) abort(); /* the rewrite never grows the text */
    free(r);
    if (size > 0 && (s[0] == '\'' || s[0] == '"')) {
        char out[16];
        size_t o = 0;
        const char *after = sqlscan_read_quoted(s, s + size, out, sizeof out, &o);
        if (after < s + 1 || after > s + size || o >= sizeof out) abort();
    }
    return 0;
}
