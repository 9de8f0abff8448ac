/* types.c - the column type allow-list: user text never reaches DDL unless it maps to
 * one of these canonical DuckDB type names. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "storage/storage.h"

static const struct {
    const char *alias;
    const char *canonical;
} type_aliases[] = {
    {"integer", "INTEGER"}, {"int", "INTEGER"}, {"int4", "INTEGER"}, {"bigint", "BIGINT"}, {"int8", "BIGINT"},
    {"long", "BIGINT"}, {"smallint", "SMALLINT"}, {"int2", "SMALLINT"}, {"tinyint", "TINYINT"},
    {"hugeint", "HUGEINT"}, {"double", "DOUBLE"}, {"float8", "DOUBLE"}, {"double precision", "DOUBLE"},
    {"real", "FLOAT"}, {"float4", "FLOAT"}, {"float", "FLOAT"}, {"varchar", "VARCHAR"}, {"text", "VARCHAR"},
    {"string", "VARCHAR"}, {"character varying", "VARCHAR"}, {"boolean", "BOOLEAN"}, {"bool", "BOOLEAN"},
    {"date", "DATE"}, {"time", "TIME"}, {"timestamp", "TIMESTAMP"}, {"datetime", "TIMESTAMP"},
    {"timestamp without time zone", "TIMESTAMP"}, {"timestamptz", "TIMESTAMP WITH TIME ZONE"},
    {"timestamp with time zone", "TIMESTAMP WITH TIME ZONE"}, {"json", "JSON"}, {"uuid", "UUID"},
    {"blob", "BLOB"}, {"bytea", "BLOB"}, {"interval", "INTERVAL"}, {"decimal", "DECIMAL(18,3)"},
    {"numeric", "DECIMAL(18,3)"},
};

/* Lower-cases, trims and collapses runs of spaces; returns -1 when too long. */
static int squash(const char *in, char *out, size_t outsz) {
    size_t o = 0;
    bool space = false;
    while (isspace((unsigned char)*in)) in++;
    for (; *in; in++) {
        if (isspace((unsigned char)*in)) {
            space = true;
            continue;
        }
        if (space && o > 0 && *in != '(' && *in != ')' && *in != ',' && out[o - 1] != '(' && out[o - 1] != ',') {
            if (o + 1 >= outsz) return -1;
            out[o++] = ' ';
        }
        space = false;
        if (o + 1 >= outsz) return -1;
        out[o++] = (char)tolower((unsigned char)*in);
    }
    out[o] = '\0';
    return 0;
}

/* Reads "(a)" or "(a,b)" with small decimal numbers at p. */
static int parse_args(const char *p, int *a, int *b, int *nargs) {
    if (*p != '(') return -1;
    p++;
    *nargs = 0;
    for (;;) {
        if (!isdigit((unsigned char)*p)) return -1;
        long v = 0;
        while (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p - '0');
            if (v > 100000) return -1;
            p++;
        }
        if (*nargs == 0) *a = (int)v;
        else if (*nargs == 1) *b = (int)v;
        else return -1;
        (*nargs)++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ')' && p[1] == '\0') return 0;
        return -1;
    }
}

int stor_type_normalize(const char *in, char *out, size_t outsz) {
    char t[64];
    if (!in || squash(in, t, sizeof t) != 0 || !*t) return -1;
    char *paren = strchr(t, '(');
    if (!paren) {
        for (size_t i = 0; i < sizeof type_aliases / sizeof type_aliases[0]; i++)
            if (strcmp(t, type_aliases[i].alias) == 0)
                return snprintf(out, outsz, "%s", type_aliases[i].canonical) < (int)outsz ? 0 : -1;
        return -1;
    }
    int a = 0, b = 0, n = 0;
    if (parse_args(paren, &a, &b, &n) != 0) return -1;
    *paren = '\0';
    if (strcmp(t, "decimal") == 0 || strcmp(t, "numeric") == 0) {
        if (n == 1) b = 0;
        if (a < 1 || a > 38 || b > a) return -1;
        return snprintf(out, outsz, "DECIMAL(%d,%d)", a, b) < (int)outsz ? 0 : -1;
    }
    /* Length modifiers are accepted for compatibility; DuckDB strings are unbounded. */
    if ((strcmp(t, "varchar") == 0 || strcmp(t, "character varying") == 0 || strcmp(t, "char") == 0 ||
         strcmp(t, "character") == 0) && n == 1 && a >= 1)
        return snprintf(out, outsz, "VARCHAR") < (int)outsz ? 0 : -1;
    return -1;
}
