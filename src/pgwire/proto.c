/* proto.c - the startup packet. */
#include "pgwire/proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- startup ---- */

void pgw_parse_startup(const uint8_t *buf, size_t len, pgw_startup *out) {
    memset(out, 0, sizeof *out);
    wire_rd r;
    wire_rd_init(&r, buf, len);
    int32_t code;
    if (!wire_rd_i32(&r, &code)) {
        snprintf(out->error, sizeof out->error, "startup packet too short");
        return;
    }
    switch (code) {
    case PGW_SSL_REQUEST:
    case PGW_GSSENC_REQUEST:
        if (wire_rd_left(&r) != 0) {
            snprintf(out->error, sizeof out->error, "malformed SSL/GSS request");
            return;
        }
        out->kind = code == PGW_SSL_REQUEST ? PGW_START_SSL : PGW_START_GSSENC;
        return;
    case PGW_CANCEL_REQUEST:
        if (!wire_rd_i32(&r, &out->cancel_pid) || !wire_rd_i32(&r, &out->cancel_secret) || wire_rd_left(&r) != 0) {
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
        if (!wire_rd_cstr(&r, &k)) {
            snprintf(out->error, sizeof out->error, "invalid startup packet layout: expected terminator as last byte");
            return;
        }
        if (!*k) break;
        if (!wire_rd_cstr(&r, &v)) {
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
    if (wire_rd_left(&r) != 0) {
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
