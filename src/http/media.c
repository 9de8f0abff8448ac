/* media.c - Content-Type values: which request bodies are JSON, which are table data. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"

/* RFC 9110 token characters. */
static bool is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c);
}

static const char *skip_ows(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

static size_t token_len(const char *p) {
    size_t n = 0;
    while (p[n] && is_tchar(p[n])) n++;
    return n;
}

/* Parameters after "type/subtype": each `;` name `=` (token | quoted-string). Returns
 * false when malformed or when a charset other than UTF-8 is named: the JSON parser
 * reads UTF-8 only. */
static bool params_ok(const char *p) {
    for (;;) {
        p = skip_ows(p);
        if (!*p) return true;
        if (*p++ != ';') return false;
        p = skip_ows(p);
        if (!*p) return true; /* a trailing ";" */
        size_t nn = token_len(p);
        if (nn == 0 || p[nn] != '=') return false;
        bool charset = nn == 7 && strncasecmp(p, "charset", 7) == 0;
        p += nn + 1;
        char value[16];
        size_t vn = 0;
        bool fits = true;
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) p++;
                if (vn + 1 < sizeof value) value[vn++] = *p;
                else fits = false;
            }
            if (*p++ != '"') return false;
        } else {
            size_t n = token_len(p);
            if (n == 0) return false;
            if (n < sizeof value) memcpy(value, p, vn = n);
            else fits = false;
            p += n;
        }
        value[vn] = '\0';
        if (charset && !(fits && strcasecmp(value, "utf-8") == 0)) return false;
    }
}

bool http_media_is_json(const char *ct) {
    if (!ct) return false;
    const char *p = skip_ows(ct);
    size_t tn = token_len(p);
    if (tn != 11 || strncasecmp(p, "application", 11) != 0 || p[tn] != '/') return false;
    p += tn + 1;
    size_t sn = token_len(p);
    /* application/json, or a structured syntax suffix: application/problem+json. */
    bool json = (sn == 4 && strncasecmp(p, "json", 4) == 0) ||
                (sn > 5 && strncasecmp(p + sn - 5, "+json", 5) == 0);
    return json && params_ok(p + sn);
}

bool http_media_is_data(const char *ct) {
    if (!ct) return false;
    size_t n = strcspn(ct, ";");
    while (n > 0 && ct[n - 1] == ' ') n--;
    return (n == 8 && strncasecmp(ct, "text/csv", 8) == 0) ||
           (n == 30 && strncasecmp(ct, "application/vnd.apache.parquet", 30) == 0) ||
           (n == 21 && strncasecmp(ct, "application/x-parquet", 21) == 0);
}
