/* str.c - name rules from rest-api.md, SQL quoting, percent-decoding, growable strings. */
#include "util/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool name_check(const char *s, bool allow_dash) {
    if (!s) return false;
    size_t n = strlen(s);
    if (n == 0 || n > DS_NAME_MAX) return false;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_alnum(c) || c == '_' || (allow_dash && c == '-')) continue;
        return false;
    }
    return true;
}

bool name_is_valid(const char *s) { return name_check(s, true); }
bool name_is_valid_table(const char *s) { return name_check(s, false); }

bool name_is_valid_column(const char *s) {
    if (!name_check(s, false)) return false;
    return !(s[0] >= '0' && s[0] <= '9');
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

ptrdiff_t str_pct_decode(const char *in, size_t n, char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        if (in[i] != '%') {
            out[o++] = in[i++];
            continue;
        }
        /* Two hex digits must follow inside the n bytes: checked before reading them. */
        if (n - i < 3) return -1;
        int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return -1;
        out[o++] = (char)(hi << 4 | lo);
        i += 3;
    }
    out[o] = '\0';
    return (ptrdiff_t)o;
}

bool bucket_id_parse(const char *id, char stage[4], char name[DS_NAME_MAX + 1]) {
    if (!id) return false;
    const char *rest;
    if (strncmp(id, "in.c-", 5) == 0) {
        memcpy(stage, "in", 3);
        rest = id + 5;
    } else if (strncmp(id, "out.c-", 6) == 0) {
        memcpy(stage, "out", 4);
        rest = id + 6;
    } else {
        return false;
    }
    if (!name_is_valid(rest)) return false;
    memcpy(name, rest, strlen(rest) + 1);
    return true;
}

void bucket_schema_name(const char *bucket_id, char *out, size_t outsz) {
    size_t i = 0;
    for (; bucket_id[i] && i + 1 < outsz; i++) out[i] = is_alnum(bucket_id[i]) ? bucket_id[i] : '_';
    if (outsz) out[i] = '\0';
}

bool table_id_parse(const char *id, char *bucket, size_t bucketsz, char table[DS_NAME_MAX + 1]) {
    if (!id) return false;
    const char *dot = strrchr(id, '.');
    if (!dot) return false;
    size_t blen = (size_t)(dot - id);
    if (blen + 1 > bucketsz) return false;
    memcpy(bucket, id, blen);
    bucket[blen] = '\0';
    char stage[4], bname[DS_NAME_MAX + 1];
    if (!bucket_id_parse(bucket, stage, bname)) return false;
    if (!name_is_valid_table(dot + 1)) return false;
    memcpy(table, dot + 1, strlen(dot + 1) + 1);
    return true;
}

void sb_init(sb *b) { memset(b, 0, sizeof *b); }

void sb_free(sb *b) {
    free(b->data);
    sb_init(b);
}

static bool sb_grow(sb *b, size_t extra) {
    if (b->failed) return false;
    if (extra > ((size_t)-1) / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void sb_appendn(sb *b, const char *s, size_t n) {
    if (!sb_grow(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sb_append(sb *b, const char *s) { sb_appendn(b, s, strlen(s)); }

void sb_printf(sb *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb_grow(b, (size_t)n)) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void sb_quoted(sb *b, const char *s, char q) {
    sb_appendn(b, &q, 1);
    for (const char *p = s; *p; p++) {
        if (*p == q) sb_appendn(b, &q, 1);
        sb_appendn(b, p, 1);
    }
    sb_appendn(b, &q, 1);
}

void sb_ident(sb *b, const char *s) { sb_quoted(b, s, '"'); }
void sb_literal(sb *b, const char *s) { sb_quoted(b, s, '\''); }

char *sb_take(sb *b) {
    if (b->failed) {
        sb_free(b);
        return NULL;
    }
    char *d = b->data ? b->data : strdup("");
    sb_init(b);
    return d;
}
