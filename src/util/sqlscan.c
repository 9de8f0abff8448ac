/* sqlscan.c - statement splitting, keywords and function calls of SQL text. */
#include "util/sqlscan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Skips the token that starts at i if it is a quote, dollar quote or comment;
 * returns the index after it (or i when it is none of these). Unterminated
 * constructs run to len. */
static size_t skip_special(const char *s, size_t len, size_t i) {
    char c = s[i];
    if (c == '\'' || c == '"') {
        bool backslash = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                         (i < 2 || !(isalnum((unsigned char)s[i - 2]) || s[i - 2] == '_'));
        size_t j = i + 1;
        while (j < len) {
            if (backslash && s[j] == '\\') {
                j += 2;
                continue;
            }
            if (s[j] == c) {
                if (j + 1 < len && s[j + 1] == c) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j++;
        }
        return len;
    }
    if (c == '-' && i + 1 < len && s[i + 1] == '-') {
        const char *nl = memchr(s + i, '\n', len - i);
        return nl ? (size_t)(nl - s) + 1 : len;
    }
    if (c == '/' && i + 1 < len && s[i + 1] == '*') {
        size_t j = i + 2;
        int depth = 1;
        while (j < len && depth > 0) {
            if (j + 1 < len && s[j] == '/' && s[j + 1] == '*') {
                depth++;
                j += 2;
            } else if (j + 1 < len && s[j] == '*' && s[j + 1] == '/') {
                depth--;
                j += 2;
            } else {
                j++;
            }
        }
        return j;
    }
    if (c == '$' && !(i > 0 && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))) {
        /* $tag$ ... $tag$ (tag: letters, digits, _; not starting with a digit). */
        size_t j = i + 1;
        while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_')) j++;
        if (j >= len || s[j] != '$' || (j > i + 1 && isdigit((unsigned char)s[i + 1]))) return i;
        size_t taglen = j - i + 1;
        for (size_t k = j + 1; k + taglen <= len; k++)
            if (s[k] == '$' && memcmp(s + k, s + i, taglen) == 0) return k + taglen;
        return len;
    }
    return i;
}

int sqlscan_split(const char *sql, size_t len, void (*cb)(void *ud, size_t start, size_t n), void *ud) {
    size_t start = 0, i = 0;
    int count = 0;
    while (i < len) {
        size_t j = skip_special(sql, len, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (sql[i] == ';') {
            if (!sqlscan_is_empty(sql + start, i - start)) {
                cb(ud, start, i - start);
                count++;
            }
            start = i + 1;
        }
        i++;
    }
    if (start < len && !sqlscan_is_empty(sql + start, len - start)) {
        cb(ud, start, len - start);
        count++;
    }
    return count;
}

bool sqlscan_is_empty(const char *sql, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (isspace((unsigned char)sql[i])) {
            i++;
            continue;
        }
        if ((sql[i] == '-' && i + 1 < len && sql[i + 1] == '-') || (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*')) {
            i = skip_special(sql, len, i);
            continue;
        }
        return false;
    }
    return true;
}

int sqlscan_keywords(const char *sql, size_t len, char words[][32], int n) {
    size_t i = 0;
    int got = 0;
    while (i < len && got < n) {
        if (isspace((unsigned char)sql[i]) || sql[i] == '(') {
            i++;
            continue;
        }
        if ((sql[i] == '-' && i + 1 < len && sql[i + 1] == '-') || (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*')) {
            i = skip_special(sql, len, i);
            continue;
        }
        if (!(isalpha((unsigned char)sql[i]) || sql[i] == '_')) break;
        size_t k = 0;
        while (i < len && (isalnum((unsigned char)sql[i]) || sql[i] == '_')) {
            if (k < 31) words[got][k++] = (char)tolower((unsigned char)sql[i]);
            i++;
        }
        words[got][k] = '\0';
        got++;
    }
    return got;
}

const char *sqlscan_calls(const char *sql, size_t len, const char *const *names) {
    size_t i = 0;
    while (i < len) {
        size_t j = sql[i] == '"' ? i : skip_special(sql, len, i);
        if (j != i) {
            i = j;
            continue;
        }
        if (isalpha((unsigned char)sql[i]) || sql[i] == '_') {
            size_t start = i;
            while (i < len && (isalnum((unsigned char)sql[i]) || sql[i] == '_' || sql[i] == '$')) i++;
            size_t wl = i - start, k = i;
            while (k < len && isspace((unsigned char)sql[k])) k++;
            if (k < len && sql[k] == '(') {
                for (const char *const *nm = names; *nm; nm++)
                    if (strlen(*nm) == wl && strncasecmp(sql + start, *nm, wl) == 0) return *nm;
            }
            continue;
        }
        if (sql[i] == '"') {
            /* A quoted identifier used as a function name: "read_csv"(...) */
            size_t end = skip_special(sql, len, i);
            size_t k = end;
            while (k < len && isspace((unsigned char)sql[k])) k++;
            if (k < len && sql[k] == '(' && end >= i + 2) {
                for (const char *const *nm = names; *nm; nm++)
                    if (strlen(*nm) == end - i - 2 && strncasecmp(sql + i + 1, *nm, end - i - 2) == 0) return *nm;
            }
            i = end;
            continue;
        }
        i++;
    }
    return NULL;
}

/* At i: a bare or double-quoted identifier; returns the index after it, or i. */
static size_t skip_identifier(const char *s, size_t len, size_t i) {
    if (i < len && s[i] == '"') return skip_special(s, len, i);
    size_t j = i;
    while (j < len && (isalnum((unsigned char)s[j]) || s[j] == '_')) j++;
    return j > i && !isdigit((unsigned char)s[i]) ? j : i;
}

/* The length of a qualifier `word .` (spaces allowed around the dot) at i, where word
 * is the bare word w (any case) or "w" quoted; 0 when there is none. */
static size_t qualifier_at(const char *s, size_t len, size_t i, const char *w) {
    size_t wl = strlen(w), tl = 0;
    if (i + wl <= len && strncasecmp(s + i, w, wl) == 0 &&
        !(i + wl < len && (isalnum((unsigned char)s[i + wl]) || s[i + wl] == '_')))
        tl = wl;
    else if (i + wl + 2 <= len && s[i] == '"' && strncmp(s + i + 1, w, wl) == 0 && s[i + wl + 1] == '"')
        tl = wl + 2;
    if (!tl) return 0;
    size_t k = i + tl;
    while (k < len && isspace((unsigned char)s[k])) k++;
    if (k >= len || s[k] != '.') return 0;
    k++;
    while (k < len && isspace((unsigned char)s[k])) k++;
    return k - i;
}

char *sqlscan_rewrite_pg_names(const char *sql, size_t len) {
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t j = sql[i] == '"' ? i : skip_special(sql, len, i);
        if (j != i) {
            memcpy(out + o, sql + i, j - i);
            o += j - i;
            i = j;
            continue;
        }
        bool word_start = i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_' || sql[i - 1] == '.' ||
                                      sql[i - 1] == '"');
        size_t ql = word_start ? qualifier_at(sql, len, i, "public") : 0;
        if (ql) {
            memcpy(out + o, "main.", 5);
            o += 5;
            i += ql;
            continue;
        }
        ql = word_start ? qualifier_at(sql, len, i, "pg_catalog") : 0;
        if (ql) {
            /* pg_catalog.fn( -> fn( ; pg_catalog.pg_type stays (DuckDB has those views),
             * but pg_catalog.pg_settings -> pg_settings: the compat catalog's, not DuckDB's
             * (which shows server settings and paths). */
            size_t e = skip_identifier(sql, len, i + ql);
            size_t k = e;
            while (k < len && isspace((unsigned char)sql[k])) k++;
            if (e > i + ql && ((k < len && sql[k] == '(') ||
                               (e - (i + ql) == 11 && strncasecmp(sql + i + ql, "pg_settings", 11) == 0))) {
                i += ql;
                continue;
            }
        }
        if (sql[i] == '"') { /* another quoted identifier: copy it whole */
            size_t e = skip_special(sql, len, i);
            memcpy(out + o, sql + i, e - i);
            o += e - i;
            i = e;
            continue;
        }
        out[o++] = sql[i++];
    }
    out[o] = '\0';
    return out;
}

bool sqlscan_balanced(const char *sql, size_t len) {
    size_t i = 0;
    long depth = 0;
    while (i < len) {
        size_t j = skip_special(sql, len, i);
        if (j != i) {
            /* An unterminated quote or comment would swallow the closing parenthesis. */
            if (j >= len && !(sql[i] == '-' && i + 1 < len && sql[i + 1] == '-')) {
                char c = sql[i];
                if (c == '\'' || c == '"' || c == '$' || c == '/') {
                    /* terminated exactly at the end is fine; check the last char closes it */
                    if (c == '/' && !(len >= 2 && sql[len - 2] == '*' && sql[len - 1] == '/')) return false;
                    if ((c == '\'' || c == '"') && !(len - i >= 2 && sql[len - 1] == c)) return false;
                }
            }
            i = j;
            continue;
        }
        if (sql[i] == '(') depth++;
        else if (sql[i] == ')' && --depth < 0) return false;
        else if (sql[i] == ';') return false;
        i++;
    }
    return depth == 0;
}

const char *sqlscan_read_quoted(const char *p, const char *end, char *out, size_t outsz, size_t *o) {
    char q = *p++;
    while (p < end) {
        if (*p == q) {
            if (p + 1 < end && p[1] == q) p++;
            else {
                p++;
                break;
            }
        }
        if (*o + 1 < outsz) out[(*o)++] = *p;
        p++;
    }
    if (outsz) out[*o < outsz ? *o : outsz - 1] = '\0';
    return p;
}

/* ---- identifiers, comments and EXPLAIN, for the workspace's statement gate ---- */

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '$'; }

/* At i, skips spaces and comments; returns the index of the next significant byte. */
static size_t skip_blank(const char *s, size_t len, size_t i) {
    while (i < len) {
        if (isspace((unsigned char)s[i])) {
            i++;
        } else if ((s[i] == '-' && i + 1 < len && s[i + 1] == '-') || (s[i] == '/' && i + 1 < len && s[i + 1] == '*')) {
            i = skip_special(s, len, i);
        } else {
            break;
        }
    }
    return i;
}

/* Calls fn for each identifier (bare or quoted) outside strings and comments with its
 * text (quotes stripped), whether a '.' stands before it and whether a '(' follows. Stops
 * and returns what fn returns when that is not NULL. */
typedef const char *(*ident_fn)(void *ud, const char *name, size_t n, bool qualified, bool call);
static const char *scan_idents(const char *s, size_t len, ident_fn fn, void *ud) {
    size_t i = 0;
    char prev = 0; /* the last significant byte before the current token */
    while (i < len) {
        size_t j = s[i] == '"' ? i : skip_special(s, len, i);
        if (j != i) { /* a string or a comment: a string is significant, a comment is not */
            if (!(s[i] == '-' || s[i] == '/')) prev = '\'';
            i = j;
            continue;
        }
        if (isspace((unsigned char)s[i])) {
            i++;
            continue;
        }
        const char *name = NULL;
        size_t n = 0, end = i;
        if (isalpha((unsigned char)s[i]) || s[i] == '_' || (unsigned char)s[i] >= 0x80) {
            while (end < len && (ident_char(s[end]) || (unsigned char)s[end] >= 0x80)) end++;
            name = s + i;
            n = end - i;
        } else if (s[i] == '"') {
            end = skip_special(s, len, i);
            name = s + i + 1;
            n = end - i >= 2 ? end - i - 2 : 0;
        } else if (isdigit((unsigned char)s[i])) { /* a number, 1e5 included */
            while (end < len && ident_char(s[end])) end++;
            prev = '0';
            i = end;
            continue;
        }
        if (!name) {
            prev = s[i++];
            continue;
        }
        size_t k = skip_blank(s, len, end);
        const char *hit = fn(ud, name, n, prev == '.', k < len && s[k] == '(');
        if (hit) return hit;
        prev = 'a';
        i = end;
    }
    return NULL;
}

static const char *mention_fn(void *ud, const char *name, size_t n, bool qualified, bool call) {
    (void)qualified;
    (void)call;
    for (const char *const *nm = ud; *nm; nm++)
        if (strlen(*nm) == n && strncasecmp(name, *nm, n) == 0) return *nm;
    return NULL;
}

const char *sqlscan_mentions(const char *sql, size_t len, const char *const *names) {
    return scan_idents(sql, len, mention_fn, (void *)names);
}

static const char *plain_fn(void *ud, const char *name, size_t n, bool qualified, bool call) {
    const char *want = ud;
    if (strlen(want) == n && strncasecmp(name, want, n) == 0 && (qualified || !call)) return want;
    return NULL;
}

bool sqlscan_plain_calls_only(const char *sql, size_t len, const char *name) {
    return scan_idents(sql, len, plain_fn, (void *)name) == NULL;
}

typedef struct {
    const char *sql, *name, *allowed;
} qualified_ud;

/* A qualified mention of ud->name whose qualifier is not exactly ud->allowed. */
static const char *qualified_fn(void *ud, const char *name, size_t n, bool qualified, bool call) {
    (void)call;
    qualified_ud *q = ud;
    if (!qualified || strlen(q->name) != n || strncasecmp(name, q->name, n) != 0) return NULL;
    size_t al = q->allowed ? strlen(q->allowed) : 0;
    const char *start = name > q->sql && name[-1] == '"' ? name - 1 : name; /* the quote of "name" */
    if (al && (size_t)(start - q->sql) >= al && strncasecmp(start - al, q->allowed, al) == 0) {
        const char *b = start - al; /* the qualifier must stand alone: not x.<allowed> or x<allowed> */
        if (b == q->sql || !(ident_char(b[-1]) || b[-1] == '.' || b[-1] == '"' || (unsigned char)b[-1] >= 0x80))
            return NULL;
    }
    return q->name;
}

bool sqlscan_qualified_only_by(const char *sql, size_t len, const char *name, const char *allowed) {
    qualified_ud q = {sql, name, allowed};
    return scan_idents(sql, len, qualified_fn, &q) == NULL;
}

size_t sqlscan_block_comments(const char *sql, size_t len, size_t limit) {
    size_t i = 0, count = 0;
    while (i < len && count <= limit) {
        if (sql[i] == '/' && i + 1 < len && sql[i + 1] == '*') {
            size_t j = i + 2;
            int depth = 1;
            count++;
            while (j < len && depth > 0 && count <= limit) {
                if (j + 1 < len && sql[j] == '/' && sql[j + 1] == '*') {
                    depth++;
                    count++;
                    j += 2;
                } else if (j + 1 < len && sql[j] == '*' && sql[j + 1] == '/') {
                    depth--;
                    j += 2;
                } else {
                    j++;
                }
            }
            i = j;
            continue;
        }
        size_t j = skip_special(sql, len, i);
        i = j != i ? j : i + 1;
    }
    return count;
}

/* At i (significant), the bare word w in any case followed by a non-identifier byte:
 * returns the index after it, or i. */
static size_t word_at(const char *s, size_t len, size_t i, const char *w) {
    size_t wl = strlen(w);
    if (i + wl <= len && strncasecmp(s + i, w, wl) == 0 && !(i + wl < len && ident_char(s[i + wl]))) return i + wl;
    return i;
}

bool sqlscan_explain(const char *sql, size_t len, size_t *inner, bool *analyze) {
    size_t i = skip_blank(sql, len, 0), j;
    if ((j = word_at(sql, len, i, "explain")) == i) return false;
    *analyze = false;
    i = skip_blank(sql, len, j);
    if (i < len && sql[i] == '(') { /* EXPLAIN (option [value], ...) */
        long depth = 0;
        while (i < len) {
            j = skip_special(sql, len, i);
            if (j != i) {
                i = j;
                continue;
            }
            if (word_at(sql, len, i, "analyze") != i || word_at(sql, len, i, "analyse") != i) *analyze = true;
            if (sql[i] == '(') depth++;
            else if (sql[i] == ')' && --depth == 0) {
                i++;
                break;
            }
            if (ident_char(sql[i]))
                while (i < len && ident_char(sql[i])) i++;
            else
                i++;
        }
    } else {
        if ((j = word_at(sql, len, i, "analyze")) != i || (j = word_at(sql, len, i, "analyse")) != i) {
            *analyze = true;
            i = skip_blank(sql, len, j);
        }
        if ((j = word_at(sql, len, i, "verbose")) != i) i = j;
    }
    *inner = skip_blank(sql, len, i);
    return true;
}
