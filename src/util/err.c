/* err.c - error codes, their HTTP statuses and SQLSTATEs, from one table. */
#include "util/err.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int status;
    const char *sqlstate;
} ds_codes[DS_E__COUNT] = {
    [DS_OK] = {"ok", 200, "00000"},
#define DS_ERR_ROW(n, code, status, sqlstate) [DS_E_##n] = {code, status, sqlstate},
    DS_ERR_MAP(DS_ERR_ROW)
#undef DS_ERR_ROW
};

int ds_fail(ds_err *e, ds_code code, const char *fmt, ...) {
    if (e) {
        ds_err_clear(e);
        e->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return -(int)code;
}

void ds_err_detail(ds_err *e, const char *key, const char *value, int is_number) {
    if (!e) return;
    snprintf(e->detail_key, sizeof e->detail_key, "%s", key);
    snprintf(e->detail_value, sizeof e->detail_value, "%s", value);
    e->detail_is_number = is_number;
}

void ds_err_clear(ds_err *e) {
    if (!e) return;
    e->code = DS_OK;
    e->message[0] = '\0';
    e->detail_key[0] = '\0';
    e->detail_value[0] = '\0';
    e->detail_is_number = 0;
    e->sqlstate[0] = '\0';
    e->position = 0;
}

static int valid(ds_code c) { return (int)c >= 0 && c < DS_E__COUNT; }

const char *ds_code_name(ds_code c) { return valid(c) ? ds_codes[c].name : "internal_error"; }
int ds_code_http_status(ds_code c) { return valid(c) ? ds_codes[c].status : 500; }
const char *ds_code_sqlstate(ds_code c) { return valid(c) ? ds_codes[c].sqlstate : "XX000"; }
