/* proto.c - bounded reads, sticky-failure writes, the startup packet. */
#include "pgwire/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgw_rd_init(pgw_rd *r, const void *buf, size_t len) {
    r->p = buf;
    r->end = r->p + len;
    r->bad = false;
}

size_t pgw_rd_left(const pgw_rd *r) { return (size_t)(r->end - r->p); }

static bool need(pgw_rd *r, size_t n) {
    if (r->bad || n > (size_t)(r->end - r->p)) {
        r->bad = true;
        return false;
    }
    return true;
}

bool pgw_rd_u8(pgw_rd *r, uint8_t *out) {
    if (!need(r, 1)) return false;
    *out = *r->p++;
    return true;
}

bool pgw_rd_i16(pgw_rd *r, int16_t *out) {
    if (!need(r, 2)) return false;
    *out = (int16_t)(((uint16_t)r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return true;
}

bool pgw_rd_i32(pgw_rd *r, int32_t *out) {
    if (!need(r, 4)) return false;
    *out = (int32_t)pgw_be32(r->p);
    r->p += 4;
    return true;
}

bool pgw_rd_cstr(pgw_rd *r, const char **out) {
    if (r->bad) return false;
    const uint8_t *nul = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!nul) {
        r->bad = true;
        return false;
    }
    *out = (const char *)r->p;
    r->p = nul + 1;
    return true;
}

bool pgw_rd_bytes(pgw_rd *r, size_t n, const uint8_t **out) {
    if (!need(r, n)) return false;
    *out = r->p;
    r->p += n;
    return true;
}

/* ---- writer ---- */

void pgw_wb_init(pgw_wb *w, size_t max) {
    memset(w, 0, sizeof *w);
    w->max = max;
}

void pgw_wb_free(pgw_wb *w) {
    free(w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

void pgw_wb_reset(pgw_wb *w) {
    w->len = 0;
    w->failed = false;
}

uint8_t *pgw_wb_reserve(pgw_wb *w, size_t n) {
    if (w->failed) return NULL;
    if (n > w->max || w->len > w->max - n) {
        w->failed = true;
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 8192;
        while (cap < w->len + n) cap *= 2;
        uint8_t *d = realloc(w->data, cap);
        if (!d) {
            w->failed = true;
            return NULL;
        }
        w->data = d;
        w->cap = cap;
    }
    uint8_t *p = w->data + w->len;
    w->len += n;
    return p;
}

void pgw_wb_bytes(pgw_wb *w, const void *p, size_t n) {
    uint8_t *d = pgw_wb_reserve(w, n);
    if (d && n) memcpy(d, p, n);
}

void pgw_wb_u8(pgw_wb *w, uint8_t v) { pgw_wb_bytes(w, &v, 1); }

void pgw_wb_i16(pgw_wb *w, int16_t v) {
    uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    pgw_wb_bytes(w, b, 2);
}

void pgw_wb_i32(pgw_wb *w, int32_t v) {
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    pgw_wb_bytes(w, b, 4);
}

void pgw_wb_cstr(pgw_wb *w, const char *s) { pgw_wb_bytes(w, s, strlen(s) + 1); }

void pgw_wb_begin(pgw_wb *w, char type) {
    pgw_wb_u8(w, (uint8_t)type);
    w->msg_start = w->len;
    pgw_wb_i32(w, 0);
}

void pgw_wb_end(pgw_wb *w) {
    if (w->failed) return;
    uint32_t n = (uint32_t)(w->len - w->msg_start);
    uint8_t *p = w->data + w->msg_start;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}

/* ---- startup ---- */

void pgw_parse_startup(const uint8_t *buf, size_t len, pgw_startup *out) {
    memset(out, 0, sizeof *out);
    pgw_rd r;
    pgw_rd_init(&r, buf, len);
    int32_t code;
    if (!pgw_rd_i32(&r, &code)) {
        snprintf(out->error, sizeof out->error, "startup packet too short");
        return;
    }
    switch (code) {
    case PGW_SSL_REQUEST:
    case PGW_GSSENC_REQUEST:
        if (pgw_rd_left(&r) != 0) {
            snprintf(out->error, sizeof out->error, "malformed SSL/GSS request");
            return;
        }
        out->kind = code == PGW_SSL_REQUEST ? PGW_START_SSL : PGW_START_GSSENC;
        return;
    case PGW_CANCEL_REQUEST:
        if (!pgw_rd_i32(&r, &out->cancel_pid) || !pgw_rd_i32(&r, &out->cancel_secret) || pgw_rd_left(&r) != 0) {
            snprintf(out->error, sizeof out->error, "malformed cancel request");
            return;
        }
        out->kind = PGW_START_CANCEL;
        return;
    case PGW_PROTO_V3:
        break;
    default:
        if (((uint32_t)code >> 16) == 3) { /* 3.x: answered with NegotiateProtocolVersion */
            out->minor = code & 0xffff;
            break;
        }
        snprintf(out->error, sizeof out->error, "unsupported frontend protocol %d.%d: server supports 3.0",
                 (int)((uint32_t)code >> 16), code & 0xffff);
        return;
    }
    /* Name/value pairs, ended by an empty name. */
    for (;;) {
        const char *k, *v;
        if (!pgw_rd_cstr(&r, &k)) {
            snprintf(out->error, sizeof out->error, "invalid startup packet layout: expected terminator as last byte");
            return;
        }
        if (!*k) break;
        if (!pgw_rd_cstr(&r, &v)) {
            snprintf(out->error, sizeof out->error, "invalid startup packet layout: missing value");
            return;
        }
        if (out->nparams == PGW_MAX_PARAMS) {
            snprintf(out->error, sizeof out->error, "too many startup parameters");
            return;
        }
        if (strncmp(k, "_pq_.", 5) == 0) { /* protocol options: none are known */
            if (out->nunknown == PGW_MAX_PARAMS) {
                snprintf(out->error, sizeof out->error, "too many startup parameters");
                return;
            }
            out->unknown_opts[out->nunknown++] = k;
            continue;
        }
        out->keys[out->nparams] = k;
        out->values[out->nparams++] = v;
        if (strcmp(k, "user") == 0) out->user = v;
        else if (strcmp(k, "database") == 0) out->database = v;
        else if (strcmp(k, "application_name") == 0) out->application_name = v;
        else if (strcmp(k, "options") == 0) out->options = v;
    }
    if (pgw_rd_left(&r) != 0) {
        snprintf(out->error, sizeof out->error, "invalid startup packet layout: expected terminator as last byte");
        return;
    }
    if (!out->user || !*out->user) {
        snprintf(out->error, sizeof out->error, "no PostgreSQL user name specified in startup packet");
        return;
    }
    if (!out->database || !*out->database) out->database = out->user;
    out->kind = PGW_START_V3;
}

/* ---- Bind and Parse ---- */

void pgw_bind_msg_free(pgw_bind_msg *m) {
    free(m->formats);
    free(m->values);
    free(m->lengths);
    free(m->results);
    memset(m, 0, sizeof *m);
}

int16_t pgw_bind_param_format(const pgw_bind_msg *m, int i) {
    if (m->nformats == 0) return 0;
    return m->nformats == 1 ? m->formats[0] : m->formats[i];
}

static int16_t *read_i16s(pgw_rd *r, int n) {
    if ((size_t)n * 2 > pgw_rd_left(r)) {
        r->bad = true;
        return NULL;
    }
    int16_t *a = calloc((size_t)n + 1, sizeof *a);
    for (int i = 0; a && i < n; i++) pgw_rd_i16(r, &a[i]);
    return a;
}

int pgw_parse_bind(const uint8_t *body, size_t len, pgw_bind_msg *out) {
    memset(out, 0, sizeof *out);
    pgw_rd r;
    pgw_rd_init(&r, body, len);
    int16_t nf, np, nr;
    if (!pgw_rd_cstr(&r, &out->portal) || !pgw_rd_cstr(&r, &out->stmt) || !pgw_rd_i16(&r, &nf) || nf < 0) goto bad;
    out->nformats = nf;
    if (!(out->formats = read_i16s(&r, nf))) goto bad;
    for (int i = 0; i < nf; i++)
        if (out->formats[i] != 0 && out->formats[i] != 1) goto bad;
    if (!pgw_rd_i16(&r, &np) || np < 0 || (nf > 1 && nf != np)) goto bad;
    /* Each parameter takes at least its 4-byte length. */
    if ((size_t)np * 4 > pgw_rd_left(&r)) goto bad;
    out->nparams = np;
    out->values = calloc((size_t)np + 1, sizeof *out->values);
    out->lengths = calloc((size_t)np + 1, sizeof *out->lengths);
    if (!out->values || !out->lengths) goto bad;
    for (int i = 0; i < np; i++) {
        int32_t l;
        if (!pgw_rd_i32(&r, &l) || l < -1) goto bad;
        out->lengths[i] = l;
        if (l >= 0 && !pgw_rd_bytes(&r, (size_t)l, &out->values[i])) goto bad;
    }
    if (!pgw_rd_i16(&r, &nr) || nr < 0) goto bad;
    out->nresults = nr;
    if (!(out->results = read_i16s(&r, nr)) || pgw_rd_left(&r) != 0) goto bad;
    for (int i = 0; i < nr; i++)
        if (out->results[i] != 0 && out->results[i] != 1) goto bad;
    return 0;
bad:
    pgw_bind_msg_free(out);
    return -1;
}

int pgw_parse_parse(const uint8_t *body, size_t len, pgw_parse_msg *out) {
    memset(out, 0, sizeof *out);
    pgw_rd r;
    pgw_rd_init(&r, body, len);
    int16_t n;
    if (!pgw_rd_cstr(&r, &out->name) || !pgw_rd_cstr(&r, &out->query) || !pgw_rd_i16(&r, &n) || n < 0 ||
        (size_t)n * 4 != pgw_rd_left(&r))
        return -1;
    out->noids = n;
    if (n) {
        out->oids = calloc((size_t)n, sizeof *out->oids);
        if (!out->oids) return -1;
        for (int i = 0; i < n; i++) {
            int32_t o = 0;
            pgw_rd_i32(&r, &o);
            out->oids[i] = (uint32_t)o;
        }
    }
    return 0;
}
