/* libFuzzer target: the SQL analysis (pgexec/analyze.c, rewrite.c) parses every
 * statement users send with PostgreSQL's parser, rewrites the tree and deparses it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/analyze.h"
#include "pgexec/quick.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const pga_session ss = {"ws_1_fuzz", "workspace_ws_1"};
    pga_result r;
    if (pga_analyze((const char *)data, size, &ss, &r) != 0) return 0; /* out of memory */
    if (r.kind == PGA_UNPARSED && (r.sql || r.rules)) abort();       /* unparsed text is never rewritten */
    if ((r.sql != NULL) != (r.rules != 0)) abort();                   /* a rewrite is deparsed, and only then */
    for (int n = 0; n < 8; n++)
        for (int i = 0; i < n; i++) {
            const char *c = pga_colname(&r, n, i);
            if (c && strlen(c) > 100000) abort();
        }
    pga_result_free(&r);
    /* The fast path answers only where PostgreSQL's parser would say the same. */
    pga_result q, f;
    if (pga_quick((const char *)data, size, &q) != 1) return 0;
    if (pga_analyze_full((const char *)data, size, &ss, &f) == 0) {
        if (f.kind != PGA_UNPARSED) {
            if (f.kind != q.kind || f.rules != 0 || f.ncols != q.ncols) abort();
            for (int i = 0; i < q.ncols; i++)
                if ((q.colnames[i] == NULL) != (f.colnames[i] == NULL) ||
                    (q.colnames[i] && strcmp(q.colnames[i], f.colnames[i]) != 0))
                    abort();
        }
        pga_result_free(&f);
    }
    pga_result_free(&q);
    return 0;
}
