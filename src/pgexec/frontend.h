/* frontend.h - parsers of the extended protocol's frontend message bodies (Parse,
 * Bind) for the executor: bounded, nothing trusted. */
#ifndef DS_PGX_FRONTEND_H
#define DS_PGX_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/wire.h"

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
} pgx_bind_msg;
int pgx_parse_bind(const uint8_t *body, size_t len, pgx_bind_msg *out);
void pgx_bind_msg_free(pgx_bind_msg *m);
int16_t pgx_bind_param_format(const pgx_bind_msg *m, int i);

/* Parse: name, query, parameter type OIDs (out->oids owned, NULL when none). */
typedef struct {
    const char *name, *query;
    int noids;
    uint32_t *oids;
} pgx_parse_msg;
int pgx_parse_parse(const uint8_t *body, size_t len, pgx_parse_msg *out);

#endif
