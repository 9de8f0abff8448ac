/* fuzz_copy_common.h - what the three COPY input fuzz targets share: options from the
 * first byte, the rest split into CopyData-sized pieces at the cuts the second byte
 * chooses, every row checked against the column count. */
#ifndef FUZZ_COPY_COMMON_H
#define FUZZ_COPY_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/copyparse.h"

static int fuzz_row(void *ud, const cp_row *r) {
    const cp_opts *o = ud;
    if (!r->header && r->n != o->ncols) abort();
    for (int i = 0; i < r->n; i++) {
        if (r->f[i].null) continue;
        volatile char sink = 0;
        for (size_t k = 0; k < r->f[i].n; k++) sink ^= r->f[i].p[k]; /* every byte readable */
        (void)sink;
    }
    return 0;
}

static int fuzz_copy_one(cp_format fmt, const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint8_t opt = data[0], step = data[1];
    data += 2;
    size -= 2;
    static bool fnull[4] = {false, true, false, true}, fnn[4] = {true, false, false, false};
    cp_opts o = {.format = fmt, .ncols = 1 + (opt & 3), .max_row = 64 + (opt & 0x40 ? 4096 : 0)};
    if (fmt == CP_CSV) {
        o.delim = opt & 4 ? ';' : ',';
        o.quote = '"';
        o.escape = opt & 8 ? '\\' : '"';
        o.null_str = opt & 16 ? "NULL" : "";
        o.null_len = strlen(o.null_str);
        o.force_null = opt & 32 ? fnull : NULL;
        o.force_not_null = opt & 32 ? fnn : NULL;
    } else if (fmt == CP_TEXT) {
        o.delim = opt & 4 ? '|' : '\t';
        o.null_str = opt & 16 ? "" : "\\N";
        o.null_len = strlen(o.null_str);
    }
    o.header = fmt != CP_BINARY && (opt & 0x80);
    o.header_match = o.header && (opt & 32);
    cp_parser *p = cp_new(&o, fuzz_row, &o);
    if (!p) return 0;
    cp_err e;
    size_t piece = 1 + step, at = 0;
    int rc = 0;
    while (at < size && rc == 0) {
        size_t n = size - at < piece ? size - at : piece;
        rc = cp_feed(p, data + at, n, &e);
        at += n;
    }
    if (rc == 0) rc = cp_finish(p, &e);
    if (rc == -1 && (strlen(e.sqlstate) != 5 || !memchr(e.msg, 0, sizeof e.msg))) abort();
    cp_free(p);
    return 0;
}

#endif
