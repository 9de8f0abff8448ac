/* proto.h - PostgreSQL protocol 3.0 bytes: a bounds-checked reader for untrusted
 * input, a message writer with a sticky failure flag, and the startup packet parser.
 * No I/O here: conn.c moves the bytes. */
#ifndef DS_PGW_PROTO_H
#define DS_PGW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGW_PROTO_V3 196608
#define PGW_SSL_REQUEST 80877103
#define PGW_GSSENC_REQUEST 80877104
#define PGW_CANCEL_REQUEST 80877102

/* Reader over [p, end): every read checks the remaining length first; a failed read
 * sets bad and leaves the output untouched. */
typedef struct {
    const uint8_t *p, *end;
    bool bad;
} pgw_rd;

void pgw_rd_init(pgw_rd *r, const void *buf, size_t len);
size_t pgw_rd_left(const pgw_rd *r);
bool pgw_rd_u8(pgw_rd *r, uint8_t *out);
bool pgw_rd_i16(pgw_rd *r, int16_t *out);
bool pgw_rd_i32(pgw_rd *r, int32_t *out);
/* A NUL-terminated string inside the buffer; *out points into it. */
bool pgw_rd_cstr(pgw_rd *r, const char **out);
/* n bytes; *out points into the buffer. */
bool pgw_rd_bytes(pgw_rd *r, size_t n, const uint8_t **out);

/* Outgoing messages. A failed allocation (or exceeding max) sets failed; every later
 * put is a no-op; the caller checks once before sending. */
typedef struct {
    uint8_t *data;
    size_t len, cap, max;
    size_t msg_start; /* offset of the open message's length field */
    bool failed;
} pgw_wb;

void pgw_wb_init(pgw_wb *w, size_t max);
void pgw_wb_free(pgw_wb *w);
void pgw_wb_reset(pgw_wb *w);
void pgw_wb_begin(pgw_wb *w, char type); /* type byte + length placeholder */
void pgw_wb_end(pgw_wb *w);              /* patches the length */
void pgw_wb_u8(pgw_wb *w, uint8_t v);
void pgw_wb_i16(pgw_wb *w, int16_t v);
void pgw_wb_i32(pgw_wb *w, int32_t v);
void pgw_wb_bytes(pgw_wb *w, const void *p, size_t n);
void pgw_wb_cstr(pgw_wb *w, const char *s); /* with its NUL */
/* Reserves n bytes and returns where to write them (NULL after a failure). */
uint8_t *pgw_wb_reserve(pgw_wb *w, size_t n);

/* The first packet of a connection. */
typedef enum { PGW_START_BAD = 0, PGW_START_SSL, PGW_START_GSSENC, PGW_START_CANCEL, PGW_START_V3 } pgw_start_kind;

#define PGW_MAX_PARAMS 32
typedef struct {
    pgw_start_kind kind;
    int32_t cancel_pid, cancel_secret;
    const char *user, *database, *application_name, *options;
    const char *keys[PGW_MAX_PARAMS], *values[PGW_MAX_PARAMS];
    int nparams;
    int minor;                                /* 3.minor asked for; we speak 3.0 */
    const char *unknown_opts[PGW_MAX_PARAMS]; /* "_pq_." options we do not know */
    int nunknown;
    char error[128]; /* why it is bad */
} pgw_startup;

/* Parses a startup packet body (after its 4-byte length). Strings point into buf. */
void pgw_parse_startup(const uint8_t *buf, size_t len, pgw_startup *out);

/* Bind: every count is checked against the bytes actually there before it is used;
 * strings and values point into body. */
typedef struct {
    const char *portal, *stmt;
    int nformats;
    int16_t *formats; /* parameter formats */
    int nparams;
    const uint8_t **values;
    int32_t *lengths; /* -1: NULL */
    int nresults;
    int16_t *results; /* result formats */
} pgw_bind_msg;
int pgw_parse_bind(const uint8_t *body, size_t len, pgw_bind_msg *out);
void pgw_bind_msg_free(pgw_bind_msg *m);
int16_t pgw_bind_param_format(const pgw_bind_msg *m, int i);

/* Parse: name, query, parameter type OIDs (out->oids owned, NULL when none). */
typedef struct {
    const char *name, *query;
    int noids;
    uint32_t *oids;
} pgw_parse_msg;
int pgw_parse_parse(const uint8_t *body, size_t len, pgw_parse_msg *out);

static inline uint32_t pgw_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif
