/* wire.c - bounded reads and sticky-failure writes of big-endian, length-prefixed messages. */
#include "util/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wire_rd_init(wire_rd *r, const void *buf, size_t len) {
    r->p = buf;
    r->end = r->p + len;
    r->bad = false;
}

size_t wire_rd_left(const wire_rd *r) { return (size_t)(r->end - r->p); }

static bool need(wire_rd *r, size_t n) {
    if (r->bad || n > (size_t)(r->end - r->p)) {
        r->bad = true;
        return false;
    }
    return true;
}

bool wire_rd_u8(wire_rd *r, uint8_t *out) {
    if (!need(r, 1)) return false;
    *out = *r->p++;
    return true;
}

bool wire_rd_i16(wire_rd *r, int16_t *out) {
    if (!need(r, 2)) return false;
    *out = (int16_t)(((uint16_t)r->p[0] << 8) | r->p[1]);
    r->p += 2;
    return true;
}

bool wire_rd_i32(wire_rd *r, int32_t *out) {
    if (!need(r, 4)) return false;
    *out = (int32_t)wire_be32(r->p);
    r->p += 4;
    return true;
}

bool wire_rd_cstr(wire_rd *r, const char **out) {
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

bool wire_rd_bytes(wire_rd *r, size_t n, const uint8_t **out) {
    if (!need(r, n)) return false;
    *out = r->p;
    r->p += n;
    return true;
}

/* ---- writer ---- */

void wire_wb_init(wire_wb *w, size_t max) {
    memset(w, 0, sizeof *w);
    w->max = max;
}

void wire_wb_free(wire_wb *w) {
    free(w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

void wire_wb_reset(wire_wb *w) {
    w->len = 0;
    w->failed = false;
}

uint8_t *wire_wb_reserve(wire_wb *w, size_t n) {
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

void wire_wb_bytes(wire_wb *w, const void *p, size_t n) {
    uint8_t *d = wire_wb_reserve(w, n);
    if (d && n) memcpy(d, p, n);
}

void wire_wb_u8(wire_wb *w, uint8_t v) { wire_wb_bytes(w, &v, 1); }

void wire_wb_i16(wire_wb *w, int16_t v) {
    uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    wire_wb_bytes(w, b, 2);
}

void wire_wb_i32(wire_wb *w, int32_t v) {
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    wire_wb_bytes(w, b, 4);
}

void wire_wb_cstr(wire_wb *w, const char *s) { wire_wb_bytes(w, s, strlen(s) + 1); }

void wire_wb_begin(wire_wb *w, char type) {
    wire_wb_u8(w, (uint8_t)type);
    w->msg_start = w->len;
    wire_wb_i32(w, 0);
}

void wire_wb_end(wire_wb *w) {
    if (w->failed) return;
    uint32_t n = (uint32_t)(w->len - w->msg_start);
    uint8_t *p = w->data + w->msg_start;
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
}


int64_t wire_msg_body_len(const uint8_t hdr[5], size_t max, char *msg, size_t msgsz) {
    uint32_t n = wire_be32(hdr + 1);
    if (n < 4 || n - 4 > max) {
        snprintf(msg, msgsz, "invalid message length %u (limit %zu)", n, max);
        return -1;
    }
    return (int64_t)n - 4;
}

int wire_buf_grow(uint8_t **buf, size_t *cap, size_t n) {
    if (n <= *cap) return 0;
    size_t c = *cap ? *cap : 8192;
    while (c < n) c *= 2;
    uint8_t *nb = realloc(*buf, c);
    if (!nb) return -1;
    *buf = nb;
    *cap = c;
    return 0;
}
