/* frontend.c - the bodies of the extended protocol's Parse and Bind messages: every
 * count is checked against the bytes present before it is used. */
#include "pgexec/frontend.h"

#include <stdlib.h>
#include <string.h>

/* ---- Bind and Parse ---- */

void pgx_bind_msg_free(pgx_bind_msg *m) {
    free(m->formats);
    free(m->values);
    free(m->lengths);
    free(m->results);
    memset(m, 0, sizeof *m);
}

int16_t pgx_bind_param_format(const pgx_bind_msg *m, int i) {
    if (m->nformats == 0) return 0;
    return m->nformats == 1 ? m->formats[0] : m->formats[i];
}

static int16_t *read_i16s(wire_rd *r, int n) {
    if ((size_t)n * 2 > wire_rd_left(r)) {
        r->bad = true;
        return NULL;
    }
    int16_t *a = calloc((size_t)n + 1, sizeof *a);
    for (int i = 0; a && i < n; i++) wire_rd_i16(r, &a[i]);
    return a;
}

int pgx_parse_bind(const uint8_t *body, size_t len, pgx_bind_msg *out) {
    memset(out, 0, sizeof *out);
    wire_rd r;
    wire_rd_init(&r, body, len);
    int16_t nf, np, nr;
    if (!wire_rd_cstr(&r, &out->portal) || !wire_rd_cstr(&r, &out->stmt) || !wire_rd_i16(&r, &nf) || nf < 0) goto bad;
    out->nformats = nf;
    if (!(out->formats = read_i16s(&r, nf))) goto bad;
    for (int i = 0; i < nf; i++)
        if (out->formats[i] != 0 && out->formats[i] != 1) goto bad;
    if (!wire_rd_i16(&r, &np) || np < 0 || (nf > 1 && nf != np)) goto bad;
    /* Each parameter takes at least its 4-byte length. */
    if ((size_t)np * 4 > wire_rd_left(&r)) goto bad;
    out->nparams = np;
    out->values = calloc((size_t)np + 1, sizeof *out->values);
    out->lengths = calloc((size_t)np + 1, sizeof *out->lengths);
    if (!out->values || !out->lengths) goto bad;
    for (int i = 0; i < np; i++) {
        int32_t l;
        if (!wire_rd_i32(&r, &l) || l < -1) goto bad;
        out->lengths[i] = l;
        if (l >= 0 && !wire_rd_bytes(&r, (size_t)l, &out->values[i])) goto bad;
    }
    if (!wire_rd_i16(&r, &nr) || nr < 0) goto bad;
    out->nresults = nr;
    if (!(out->results = read_i16s(&r, nr)) || wire_rd_left(&r) != 0) goto bad;
    for (int i = 0; i < nr; i++)
        if (out->results[i] != 0 && out->results[i] != 1) goto bad;
    return 0;
bad:
    pgx_bind_msg_free(out);
    return -1;
}

int pgx_parse_parse(const uint8_t *body, size_t len, pgx_parse_msg *out) {
    memset(out, 0, sizeof *out);
    wire_rd r;
    wire_rd_init(&r, body, len);
    int16_t n;
    if (!wire_rd_cstr(&r, &out->name) || !wire_rd_cstr(&r, &out->query) || !wire_rd_i16(&r, &n) || n < 0 ||
        (size_t)n * 4 != wire_rd_left(&r))
        return -1;
    out->noids = n;
    if (n) {
        out->oids = calloc((size_t)n, sizeof *out->oids);
        if (!out->oids) return -1;
        for (int i = 0; i < n; i++) {
            int32_t o = 0;
            wire_rd_i32(&r, &o);
            out->oids[i] = (uint32_t)o;
        }
    }
    return 0;
}
