/* wire.h - big-endian, length-prefixed message bytes (the framing of the PostgreSQL
 * protocol 3.0, but no meaning): a bounds-checked reader for untrusted input and a
 * message writer with a sticky failure flag. No I/O here. */
#ifndef DS_UTIL_WIRE_H
#define DS_UTIL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reader over [p, end): every read checks the remaining length first; a failed read
 * sets bad and leaves the output untouched. */
typedef struct {
    const uint8_t *p, *end;
    bool bad;
} wire_rd;

void wire_rd_init(wire_rd *r, const void *buf, size_t len);
size_t wire_rd_left(const wire_rd *r);
bool wire_rd_u8(wire_rd *r, uint8_t *out);
bool wire_rd_i16(wire_rd *r, int16_t *out);
bool wire_rd_i32(wire_rd *r, int32_t *out);
/* A NUL-terminated string inside the buffer; *out points into it. */
bool wire_rd_cstr(wire_rd *r, const char **out);
/* n bytes; *out points into the buffer. */
bool wire_rd_bytes(wire_rd *r, size_t n, const uint8_t **out);

/* Outgoing messages. A failed allocation (or exceeding max) sets failed; every later
 * put is a no-op; the caller checks once before sending. */
typedef struct {
    uint8_t *data;
    size_t len, cap, max;
    size_t msg_start; /* offset of the open message's length field */
    bool failed;
} wire_wb;

void wire_wb_init(wire_wb *w, size_t max);
void wire_wb_free(wire_wb *w);
void wire_wb_reset(wire_wb *w);
void wire_wb_begin(wire_wb *w, char type); /* type byte + length placeholder */
void wire_wb_end(wire_wb *w);              /* patches the length */
void wire_wb_u8(wire_wb *w, uint8_t v);
void wire_wb_i16(wire_wb *w, int16_t v);
void wire_wb_i32(wire_wb *w, int32_t v);
void wire_wb_bytes(wire_wb *w, const void *p, size_t n);
void wire_wb_cstr(wire_wb *w, const char *s); /* with its NUL */
/* Reserves n bytes and returns where to write them (NULL after a failure). */
uint8_t *wire_wb_reserve(wire_wb *w, size_t n);

/* The body length of a message whose header (type byte, 4-byte length) is hdr. The
 * length counts itself: one below 4, or a body longer than max, is nonsense (-1, msg
 * says so in PostgreSQL's words) and ends the connection before anything is buffered. */
int64_t wire_msg_body_len(const uint8_t hdr[5], size_t max, char *msg, size_t msgsz);
/* Makes *buf (of capacity *cap) hold at least n bytes, doubling from 8 KB. 0 or -1. */
int wire_buf_grow(uint8_t **buf, size_t *cap, size_t n);

static inline uint32_t wire_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif
