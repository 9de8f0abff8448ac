/* tcop.c - what a statement is, from its text: the executor's only lexing (on top of
 * util/sqlscan). The hand-written readers here are meant to be replaced by one
 * analysis with PostgreSQL's parser without touching the files that act on the result. */
#include "pgexec/tcop.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/sqlscan.h"

tcop_kind tcop_classify(const char *sql, size_t len) {
    char w[4][32];
    int n = sqlscan_keywords(sql, len, w, 4);
    if (n == 0) return TC_OTHER;
    if (!strcmp(w[0], "begin") || (!strcmp(w[0], "start") && n > 1 && !strcmp(w[1], "transaction"))) return TC_BEGIN;
    if (!strcmp(w[0], "commit") || !strcmp(w[0], "end")) return TC_COMMIT;
    if (!strcmp(w[0], "rollback") || !strcmp(w[0], "abort")) {
        /* ROLLBACK [WORK | TRANSACTION] TO ...; ABORT has no TO form */
        int to = n > 1 && (!strcmp(w[1], "work") || !strcmp(w[1], "transaction")) ? 2 : 1;
        if (!strcmp(w[0], "rollback") && n > to && !strcmp(w[to], "to")) return TC_ROLLBACK_TO;
        return TC_ROLLBACK;
    }
    if (!strcmp(w[0], "savepoint")) return TC_SAVEPOINT;
    if (!strcmp(w[0], "release")) return TC_RELEASE;
    if (!strcmp(w[0], "deallocate")) return TC_DEALLOCATE;
    if (!strcmp(w[0], "declare")) return TC_DECLARE;
    if (!strcmp(w[0], "fetch")) return TC_FETCH;
    if (!strcmp(w[0], "move")) return TC_MOVE;
    if (!strcmp(w[0], "close")) return TC_CLOSE;
    if (!strcmp(w[0], "listen") || !strcmp(w[0], "unlisten") || !strcmp(w[0], "notify") || !strcmp(w[0], "discard"))
        return TC_LISTEN;
    if (!strcmp(w[0], "copy")) {
        /* COPY ... FROM STDIN / TO STDOUT (the protocol's COPY) vs files (refused in the sandbox). */
        for (size_t i = 0; i + 5 <= len; i++)
            if (!strncasecmp(sql + i, "stdin", 5) || (i + 6 <= len && !strncasecmp(sql + i, "stdout", 6)))
                return TC_COPY_STDIO;
    }
    return TC_OTHER;
}

bool tcop_allowed_when_failed(tcop_kind k) { return k == TC_ROLLBACK || k == TC_COMMIT || k == TC_ROLLBACK_TO; }

void tcop_analyze(const char *sql, size_t len, tcop_stmt *out) {
    memset(out, 0, sizeof *out);
    out->kind = tcop_classify(sql, len);
    out->nwords = sqlscan_keywords(sql, len, out->words, 2);
    out->set_config = out->nwords >= 2 && !strcmp(out->words[0], "select") &&
                      (!strcmp(out->words[1], "set_config") || !strcmp(out->words[1], "pg_catalog")) &&
                      strcasestr(sql, "set_config");
}

bool tcop_first_word(const char *sql, size_t len, char out[32]) {
    char w[1][32];
    if (sqlscan_keywords(sql, len, w, 1) != 1) {
        out[0] = '\0';
        return false;
    }
    memcpy(out, w[0], 32);
    return true;
}

static void upper(char *p) {
    for (; *p; p++) *p = (char)(*p - 32 * (*p >= 'a' && *p <= 'z'));
}

void tcop_verb_tag(const char *sql, size_t len, char out[32]) {
    char w[1][32] = {""};
    sqlscan_keywords(sql, len, w, 1); /* none: "" */
    memcpy(out, w[0], 32);
    upper(out);
}

void tcop_tag(const char *sql, size_t len, duckdb_statement_type t, bool changed, uint64_t n, char *out, size_t outsz) {
    char w[6][32];
    int nw = sqlscan_keywords(sql, len, w, 6);
    switch (t) {
    case DUCKDB_STATEMENT_TYPE_INSERT: snprintf(out, outsz, "INSERT 0 %llu", (unsigned long long)n); return;
    case DUCKDB_STATEMENT_TYPE_UPDATE: snprintf(out, outsz, "UPDATE %llu", (unsigned long long)n); return;
    case DUCKDB_STATEMENT_TYPE_DELETE:
        if (nw && !strcmp(w[0], "truncate")) snprintf(out, outsz, "TRUNCATE TABLE");
        else snprintf(out, outsz, "DELETE %llu", (unsigned long long)n);
        return;
    case DUCKDB_STATEMENT_TYPE_SELECT: snprintf(out, outsz, "SELECT %llu", (unsigned long long)n); return;
    default: break;
    }
    if (changed && t == DUCKDB_STATEMENT_TYPE_CREATE) { /* CREATE TABLE AS */
        snprintf(out, outsz, "SELECT %llu", (unsigned long long)n);
        return;
    }
    if (nw == 0) {
        snprintf(out, outsz, "OK");
        return;
    }
    /* "CREATE [OR REPLACE] [TEMP] TABLE" -> "CREATE TABLE"; "DROP VIEW" ... */
    static const char *skip[] = {"or", "replace", "temp", "temporary", "unique", "unlogged", "materialized", NULL};
    const char *obj = NULL;
    for (int i = 1; i < nw && !obj; i++) {
        bool sk = false;
        for (int k = 0; skip[k]; k++)
            if (!strcmp(w[i], skip[k])) sk = true;
        if (!sk) obj = w[i];
    }
    char a[32], b[32] = "";
    snprintf(a, sizeof a, "%s", w[0]);
    if (obj && (t == DUCKDB_STATEMENT_TYPE_CREATE || t == DUCKDB_STATEMENT_TYPE_DROP || t == DUCKDB_STATEMENT_TYPE_ALTER ||
                t == DUCKDB_STATEMENT_TYPE_CREATE_FUNC))
        snprintf(b, sizeof b, "%s", !strcmp(obj, "macro") ? "function" : obj);
    upper(a);
    upper(b);
    snprintf(out, outsz, "%s%s%s", a, b[0] ? " " : "", b);
}

int tcop_deallocate(const char *sql, size_t len, char name[32]) {
    char w[3][32];
    int n = sqlscan_keywords(sql, len, w, 3);
    int k = n > 1 && !strcmp(w[1], "prepare") ? 2 : 1;
    if (k >= n) return -1;
    if (!strcmp(w[k], "all")) return 1;
    memcpy(name, w[k], 32);
    return 0;
}

/* ---- cursors ---- */

/* Next token: a bare word (lower-cased) or a "quoted identifier"; returns the end. */
static const char *next_token(const char *p, const char *end, char *out, size_t outsz, bool *quoted) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    size_t o = 0;
    *quoted = false;
    if (p < end && *p == '"') {
        *quoted = true;
        p = sqlscan_read_quoted(p, end, out, outsz, &o);
    } else {
        while (p < end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') {
            if (o + 1 < outsz) out[o++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
            p++;
        }
    }
    out[o] = '\0';
    return p;
}

static tcop_cursor_rc parse_declare(const char *sql, const char *p, const char *end, tcop_cursor *c) {
    char tok[128];
    bool q;
    p = next_token(p, end, c->name, sizeof c->name, &q);
    /* ... [BINARY] [[NO] SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR <query> */
    bool with = false;
    while (p < end) {
        p = next_token(p, end, tok, sizeof tok, &q);
        if (!q && !strcmp(tok, "for")) break;
        if (!*tok) break;
        if (!q && !strcmp(tok, "hold")) c->hold = with;
        with = !q && !strcmp(tok, "with");
    }
    if (!c->name[0] || p >= end) return TCOP_CURSOR_SYNTAX;
    c->query_at = (size_t)(p - sql);
    return TCOP_CURSOR_OK;
}

/* FETCH|MOVE [FORWARD|NEXT] [count|ALL] [FROM|IN] name */
static tcop_cursor_rc parse_fetch(const char *p, const char *end, tcop_cursor *c) {
    char tok[128];
    bool q;
    for (;;) {
        const char *before = p;
        p = next_token(p, end, tok, sizeof tok, &q);
        if (!*tok) {
            p = before;
            break;
        }
        if (!q && (!strcmp(tok, "forward") || !strcmp(tok, "next"))) continue;
        if (!q && (!strcmp(tok, "from") || !strcmp(tok, "in"))) {
            p = next_token(p, end, c->name, sizeof c->name, &q);
            break;
        }
        if (!q && !strcmp(tok, "all")) {
            c->all = true;
            continue;
        }
        if (!q && tok[0] >= '0' && tok[0] <= '9') {
            c->count = strtoll(tok, NULL, 10);
            continue;
        }
        if (!q && (!strcmp(tok, "backward") || !strcmp(tok, "prior") || !strcmp(tok, "absolute") ||
                   !strcmp(tok, "relative") || !strcmp(tok, "first") || !strcmp(tok, "last")))
            return TCOP_CURSOR_BACKWARD;
        snprintf(c->name, sizeof c->name, "%s", tok); /* FETCH 10 name */
        break;
    }
    return TCOP_CURSOR_OK;
}

tcop_cursor_rc tcop_parse_cursor(tcop_kind k, const char *sql, size_t len, tcop_cursor *out) {
    memset(out, 0, sizeof *out);
    out->count = 1;
    const char *p = sql, *end = sql + len;
    char tok[128];
    bool q;
    p = next_token(p, end, tok, sizeof tok, &q); /* the verb */
    if (k == TC_DECLARE) return parse_declare(sql, p, end, out);
    if (k == TC_CLOSE) {
        next_token(p, end, out->name, sizeof out->name, &q);
        out->all = !q && !strcmp(out->name, "all");
        return TCOP_CURSOR_OK;
    }
    return parse_fetch(p, end, out);
}

/* ---- SET / RESET / SHOW ---- */

/* Collects the value part of SET: words, quoted strings and numbers, joined by ", ". */
static void set_value(const char *p, const char *end, char *out, size_t outsz) {
    size_t o = 0;
    out[0] = '\0';
    while (p < end) {
        while (p < end && (isspace((unsigned char)*p) || *p == ',')) {
            if (*p == ',' && o > 0 && o + 2 < outsz) {
                out[o++] = ',';
                out[o++] = ' ';
            }
            p++;
        }
        if (p >= end) break;
        if (*p == '\'' || *p == '"') {
            p = sqlscan_read_quoted(p, end, out, outsz, &o);
        } else {
            while (p < end && !isspace((unsigned char)*p) && *p != ',') {
                if (o + 1 < outsz) out[o++] = *p;
                p++;
            }
        }
        out[o] = '\0';
    }
    out[o] = '\0';
}

static void parse_show(char w[4][32], int nw, tcop_set *out) {
    if (nw < 2) return;
    if (!strcmp(w[1], "all")) {
        out->verb = TSET_SHOW_ALL;
        return;
    }
    if (nw >= 3 && !strcmp(w[1], "time") && !strcmp(w[2], "zone")) snprintf(out->name, sizeof out->name, "TimeZone");
    else if (nw >= 4 && !strcmp(w[1], "transaction") && !strcmp(w[2], "isolation"))
        snprintf(out->name, sizeof out->name, "transaction_isolation");
    else snprintf(out->name, sizeof out->name, "%s", w[1]);
    out->verb = TSET_SHOW;
}

static void parse_reset(char w[4][32], int nw, tcop_set *out) {
    if (nw < 2) return;
    out->verb = !strcmp(w[1], "all") ? TSET_RESET_ALL : TSET_RESET;
    snprintf(out->name, sizeof out->name, "%s", w[1]);
}

/* SET [SESSION|LOCAL] name {TO|=} value; SET TIME ZONE value. */
static void parse_set(const char *sql, size_t len, char w[4][32], int nw, tcop_set *out) {
    int k = 1;
    out->local = k < nw && !strcmp(w[k], "local");
    if (k < nw && (!strcmp(w[k], "session") || !strcmp(w[k], "local"))) k++;
    if (k < nw && (!strcmp(w[k], "transaction") || !strcmp(w[k], "characteristics"))) {
        out->verb = TSET_SET_TRANSACTION;
        return;
    }
    if (k < nw && (!strcmp(w[k], "role") || !strcmp(w[k], "authorization"))) {
        out->verb = TSET_SET_ROLE;
        return;
    }
    if (k >= nw) return;
    /* Find where the name ends in the text to read the value after TO or =. */
    const char *p = sql, *end = sql + len;
    const char *key = w[k];
    bool timezone = k + 1 < nw && !strcmp(w[k], "time") && !strcmp(w[k + 1], "zone");
    snprintf(out->name, sizeof out->name, "%s", timezone ? "TimeZone" : key);
    const char *hit = NULL;
    for (const char *q = p; q + strlen(timezone ? "zone" : key) <= end; q++)
        if (!strncasecmp(q, timezone ? "zone" : key, strlen(timezone ? "zone" : key))) {
            hit = q + strlen(timezone ? "zone" : key);
            break;
        }
    if (!hit) return;
    while (hit < end && isspace((unsigned char)*hit)) hit++;
    if (!timezone) {
        if (hit < end && *hit == '=') hit++;
        else if (end - hit >= 2 && !strncasecmp(hit, "to", 2)) hit += 2;
        else return;
    }
    set_value(hit, end, out->value, sizeof out->value);
    out->verb = TSET_SET;
}

void tcop_parse_set(const char *sql, size_t len, tcop_set *out) {
    memset(out, 0, sizeof *out);
    char w[4][32];
    int nw = sqlscan_keywords(sql, len, w, 4);
    if (nw == 0) return;
    if (!strcmp(w[0], "show")) parse_show(w, nw, out);
    else if (!strcmp(w[0], "reset")) parse_reset(w, nw, out);
    else if (!strcmp(w[0], "set")) parse_set(sql, len, w, nw, out);
}

/* ---- set_config() ---- */

/* Reads a '...' literal at p (doubling '' inside); returns the position after it. */
static const char *read_literal(const char *p, const char *end, char *out, size_t outsz) {
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p >= end || *p != '\'') return NULL;
    size_t o = 0;
    for (p++; p < end; p++) {
        if (*p == '\'') {
            if (p + 1 < end && p[1] == '\'') p++;
            else {
                out[o] = '\0';
                return p + 1;
            }
        }
        if (o + 1 < outsz) out[o++] = *p;
    }
    return NULL;
}

static const char *expect_char(const char *p, const char *end, char c) {
    while (p < end && isspace((unsigned char)*p)) p++;
    return p < end && *p == c ? p + 1 : NULL;
}

bool tcop_parse_set_config(const char *sql, size_t len, tcop_set_config *out) {
    /* SELECT [pg_catalog.]set_config('name', 'value', is_local) [AS alias] */
    const char *end = sql + len, *p = strcasestr(sql, "set_config");
    char w[3][32];
    int nw = sqlscan_keywords(sql, len, w, 3);
    if (!p || p >= end || nw < 2 || strcmp(w[0], "select") != 0 ||
        (strcmp(w[1], "set_config") != 0 && strcmp(w[1], "pg_catalog") != 0))
        return false;
    char local[16] = "";
    p += 10;
    if (!(p = expect_char(p, end, '(')) || !(p = read_literal(p, end, out->name, sizeof out->name)) ||
        !(p = expect_char(p, end, ',')) || !(p = read_literal(p, end, out->value, sizeof out->value)) ||
        !(p = expect_char(p, end, ',')))
        return false;
    while (p < end && isspace((unsigned char)*p)) p++;
    size_t k = 0;
    while (p < end && isalpha((unsigned char)*p) && k < sizeof local - 1) local[k++] = (char)tolower((unsigned char)*p++);
    local[k] = '\0';
    if (!(p = expect_char(p, end, ')'))) return false;
    /* Only an optional alias may follow. */
    char rest[2][32];
    int nr = sqlscan_keywords(p, (size_t)(end - p), rest, 2);
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p < end && !(nr >= 1 && (!strcmp(rest[0], "as") || nr == 1))) return false;
    out->is_local = !strcmp(local, "true") || !strcmp(local, "t");
    return true;
}
