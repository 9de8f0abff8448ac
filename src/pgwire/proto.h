/* proto.h - the startup packet of PostgreSQL protocol 3.0 (the bounded reader and the
 * writer are util/wire.h). No I/O here: conn.c moves the bytes. */
#ifndef DS_PGW_PROTO_H
#define DS_PGW_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/wire.h"

#define PGW_PROTO_V3 196608
#define PGW_SSL_REQUEST 80877103
#define PGW_GSSENC_REQUEST 80877104
#define PGW_CANCEL_REQUEST 80877102

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

#endif
