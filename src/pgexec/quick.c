/* quick.c - the analysis' fast path: a token scan that answers, without PostgreSQL's
 * parser, for the plainest statements: SELECT, INSERT, UPDATE, DELETE that nothing in
 * rewrite.c would change and whose result columns are named by plain column
 * references, stars and constants.
 *
 * Why: libpg_query's parse itself is cheap (~2 us), but handing its tree over as
 * protobuf costs ~30 us for a 60-byte SELECT (measured, libpg_query 15-4.0.0), a tenth
 * of a point lookup's server CPU. Whenever this scan is not sure it says so, and the
 * full parse decides. The fuzz target checks that whatever the scan answers, the full
 * parse answers too (same kind and names, no rewrite). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgexec/quick.h"

typedef enum { T_END, T_WORD, T_QIDENT, T_CONST, T_PUNCT, T_CAST } tok_kind;

typedef struct {
    tok_kind kind;
    const char *p; /* the token's text (for T_QIDENT: inside the quotes) */
    size_t n;
    char c; /* T_PUNCT: the character */
} tok;

typedef struct {
    const char *s;
    size_t len, i;
    bool unsure;
} lexer;

/* Reads the next token; sets unsure for anything this scan does not model. */
static tok next(lexer *lx) {
    tok t = {T_END, NULL, 0, 0};
    const char *s = lx->s;
    for (;;) {
        while (lx->i < lx->len && (s[lx->i] == ' ' || s[lx->i] == '\t' || s[lx->i] == '\n' || s[lx->i] == '\r'))
            lx->i++;
        if (lx->i + 1 < lx->len && s[lx->i] == '-' && s[lx->i + 1] == '-') {
            const char *nl = memchr(s + lx->i, '\n', lx->len - lx->i);
            lx->i = nl ? (size_t)(nl - s) + 1 : lx->len;
            continue;
        }
        break;
    }
    if (lx->i >= lx->len) return t;
    size_t b = lx->i;
    unsigned char c = (unsigned char)s[b];
    if (isalpha(c) || c == '_') {
        size_t e = b + 1;
        while (e < lx->len && (isalnum((unsigned char)s[e]) || s[e] == '_' || s[e] == '$')) e++;
        /* E'..', B'..', X'..', U&'..', N'..': prefixed constants */
        if (e < lx->len && (s[e] == '\'' || s[e] == '&')) lx->unsure = true;
        if (e < lx->len && (unsigned char)s[e] >= 0x80) lx->unsure = true;
        t = (tok){T_WORD, s + b, e - b, 0};
        lx->i = e;
        return t;
    }
    if (c == '"' || c == '\'') {
        size_t e = b + 1;
        for (;;) {
            if (e >= lx->len) {
                lx->unsure = true;
                lx->i = lx->len;
                return t;
            }
            if ((unsigned char)s[e] == c) {
                if (e + 1 < lx->len && (unsigned char)s[e + 1] == c) {
                    e += 2;
                    continue;
                }
                break;
            }
            if (s[e] == '\0') lx->unsure = true;
            e++;
        }
        if (c == '"') {
            /* a "" inside would need unescaping; a name that long or empty: not modelled */
            if (memchr(s + b + 1, '"', e - b - 1) || e - b - 1 == 0 || e - b - 1 > 63) lx->unsure = true;
            t = (tok){T_QIDENT, s + b + 1, e - b - 1, 0};
        } else {
            if (e > b + 1 && s[b + 1] == '{') lx->unsure = true; /* maybe an array literal */
            t = (tok){T_CONST, s + b, e + 1 - b, 0};
        }
        lx->i = e + 1;
        return t;
    }
    if (isdigit(c) || (c == '.' && b + 1 < lx->len && isdigit((unsigned char)s[b + 1]))) {
        /* digits [. digits]; exponents, 0x.., 1_000 and a number glued to a word: unsure */
        size_t e = b;
        while (e < lx->len && isdigit((unsigned char)s[e])) e++;
        if (e < lx->len && s[e] == '.') e++;
        while (e < lx->len && isdigit((unsigned char)s[e])) e++;
        if (e < lx->len && (isalpha((unsigned char)s[e]) || s[e] == '_' || s[e] == '.' || (unsigned char)s[e] >= 0x80))
            lx->unsure = true;
        t = (tok){T_CONST, s + b, e - b, 0};
        lx->i = e;
        return t;
    }
    if (c == '$') {
        size_t e = b + 1;
        while (e < lx->len && isdigit((unsigned char)s[e])) e++;
        if (e == b + 1) lx->unsure = true; /* $tag$ quoting */
        t = (tok){T_CONST, s + b, e - b, 0};
        lx->i = e;
        return t;
    }
    if (c == ':' && b + 1 < lx->len && s[b + 1] == ':') {
        lx->i = b + 2;
        return (tok){T_CAST, s + b, 2, 0};
    }
    if (strchr("(),;.*[]", c)) {
        lx->i = b + 1;
        return (tok){T_PUNCT, s + b, 1, (char)c};
    }
    if (strchr("+-/<>=!@#%^&|`?", c)) {
        size_t e = b;
        while (e < lx->len && strchr("+-*/<>=!@#%^&|`?~", s[e]) && s[e]) {
            if (e + 1 < lx->len && ((s[e] == '-' && s[e + 1] == '-') || (s[e] == '/' && s[e + 1] == '*'))) break;
            e++;
        }
        if (e == b) e = b + 1;
        t = (tok){T_PUNCT, s + b, e - b, (char)c};
        lx->i = e;
        return t;
    }
    /* ~ operators, block comments, ':' alone, bytes this scan does not model */
    lx->unsure = true;
    lx->i = lx->len;
    return t;
}

static bool word_is(const tok *t, const char *w) {
    return t->kind == T_WORD && t->n == strlen(w) && strncasecmp(t->p, w, t->n) == 0;
}

static bool word_in(const tok *t, const char *const *set) {
    for (int i = 0; set[i]; i++)
        if (word_is(t, set[i])) return true;
    return false;
}

/* A quoted name is exactly its text: "pg_catalog" is the schema, "PG_CATALOG" is not. */
static bool qident_in(const tok *t, const char *const *set) {
    for (int i = 0; set[i]; i++)
        if (t->n == strlen(set[i]) && memcmp(t->p, set[i], t->n) == 0) return true;
    return false;
}

/* Words after which rewrite.c could change something, or that are expressions of their
 * own (SELECT current_user, SELECT true): the full parse decides. */
static const char *const trigger_words[] = {
    "pg_catalog", "information_schema", "public", "operator", "collate", "current_user", "session_user",
    "current_role", "user", "current_catalog", "current_schema", "current_database", "_pg_expandarray",
    "true", "false", "null", "current_date", "current_time", "current_timestamp", "localtime",
    "localtimestamp", "array", "with", "returning", "case", "cast", "interval", "default", NULL};
static const char *const any_all[] = {"any", "all", "some", NULL};
/* Words a string constant or a parameter may follow; after any other word it is a typed
 * literal (int4 '1', oidvector 'x') or a typed parameter (PostgreSQL's parser reads
 * name $2 as $2::name), whose type rewrite.c may translate. */
static const char *const before_string[] = {"select", "and", "or", "not", "like", "ilike", "between", "escape",
                                            "when", "then", "else", "is", "in", "by", "values", "set", NULL};
static const char *const before_param_too[] = {"limit", "offset", NULL};
/* Words that start a FROM list, and that end one. */
static const char *const from_start[] = {"from", "join", "using", NULL};
static const char *const from_end[] = {"where", "on", "group", "having", "window", "order", "limit", "offset",
                                       "fetch", "for", "union", "intersect", "except", "set", "returning", NULL};
static const char *const list_end[] = {"from", "where", "group", "having", "window", "order", "limit", "offset",
                                       "fetch", "for", "union", "intersect", "except", NULL};

/* One select-list entry: a column reference, a star or a constant, [AS] alias. Sets *name
 * (malloc'd; NULL for a star) and returns true, or false when it is anything else. */
static bool entry_name(const tok *e, int n, char **name, bool *oom) {
    *name = NULL;
    int k = 0;
    const char *nm = NULL;
    size_t nl = 0;
    bool quoted = false, star = false, constant = false;
    if (n == 0) return false;
    if (e[0].kind == T_CONST) {
        constant = true;
        k = 1;
    } else {
        for (;;) {
            if (k < n && e[k].kind == T_PUNCT && e[k].c == '*' && e[k].n == 1) {
                star = true;
                k++;
                break;
            }
            if (k >= n || (e[k].kind != T_WORD && e[k].kind != T_QIDENT)) return false;
            nm = e[k].p;
            nl = e[k].n;
            quoted = e[k].kind == T_QIDENT;
            k++;
            if (k < n && e[k].kind == T_PUNCT && e[k].c == '.' && e[k].n == 1) {
                k++;
                continue;
            }
            break;
        }
    }
    if (k < n) { /* an alias */
        if (star) return false;
        if (word_is(&e[k], "as")) k++;
        if (k != n - 1 || (e[k].kind != T_WORD && e[k].kind != T_QIDENT)) return false;
        nm = e[k].p;
        nl = e[k].n;
        quoted = e[k].kind == T_QIDENT;
    } else if (star) {
        return true;
    } else if (constant) {
        nm = "?column?";
        nl = 8;
        quoted = true;
    }
    if (nl > 63) return false;
    char *v = malloc(nl + 1);
    if (!v) {
        *oom = true;
        return false;
    }
    for (size_t i = 0; i < nl; i++) v[i] = quoted ? nm[i] : (char)tolower((unsigned char)nm[i]);
    v[nl] = '\0';
    *name = v;
    return true;
}

#define QUICK_MAX_ENTRY_TOKENS 8

int pga_quick(const char *sql, size_t len, pga_result *out) {
    memset(out, 0, sizeof *out);
    out->ncols = -1;
    lexer lx = {sql, len, 0, false};
    tok first = next(&lx);
    pga_kind kind;
    if (word_is(&first, "select"))
        kind = PGA_SELECT;
    else if (word_is(&first, "insert"))
        kind = PGA_INSERT;
    else if (word_is(&first, "update"))
        kind = PGA_UPDATE;
    else if (word_is(&first, "delete"))
        kind = PGA_DELETE;
    else
        return 0;
    /* the select list, entry by entry */
    tok ent[QUICK_MAX_ENTRY_TOKENS];
    int nent = 0, depth = 0, cap = 0;
    bool in_list = kind == PGA_SELECT, oom = false, first_tok = true;
    bool named_entries = false; /* an entry with a qualifier or an alias */
    bool in_from = false;       /* between FROM (JOIN, USING) and the clause after it */
    char **names = NULL;
    int ncols = 0;
    tok prev = first;
    for (;;) {
        tok t = next(&lx);
        if (lx.unsure) goto unsure;
        if (t.kind == T_WORD && word_in(&t, trigger_words)) goto unsure;
        if (t.kind == T_QIDENT && qident_in(&t, trigger_words)) goto unsure; /* "pg_catalog"."pg_settings" */
        /* pg_class, pg_roles, ds_current_user(): the catalogs answer for the session's
         * identity, which the executor gives a connection on its first such statement */
        if ((t.kind == T_WORD || t.kind == T_QIDENT) && t.n >= 3 &&
            (strncasecmp(t.p, "pg_", 3) == 0 || strncasecmp(t.p, "ds_", 3) == 0))
            goto unsure;
        if (kind == PGA_SELECT && word_is(&t, "into")) goto unsure; /* SELECT INTO creates a table */
        if (t.kind == T_PUNCT && memchr(t.p, '~', t.n)) goto unsure; /* regular expressions */
        if (t.kind == T_PUNCT && t.c == '(' && word_in(&prev, any_all)) goto unsure;
        if (t.kind == T_CAST) goto unsure; /* a cast names its column, and may name a PostgreSQL-only type */
        if (t.kind == T_PUNCT && t.c == '[') goto unsure; /* subscripts of 0-based vectors (rewrite.c) */
        /* a function in FROM: rewrite.c names an aliased set-returning function's column
         * after the alias, and wraps scalar functions in a subselect */
        if (in_from && t.kind == T_PUNCT && t.c == '(' && (prev.kind == T_WORD || prev.kind == T_QIDENT) &&
            !word_in(&prev, from_start) && !word_is(&prev, "lateral"))
            goto unsure;
        if (t.kind == T_CONST && t.p[0] == '\'' && prev.kind == T_WORD && !word_in(&prev, before_string)) goto unsure;
        if (t.kind == T_CONST && t.p[0] == '$' && prev.kind == T_WORD && !word_in(&prev, before_string) &&
            !word_in(&prev, before_param_too))
            goto unsure;
        if (word_in(&t, from_start)) in_from = true;
        if (word_in(&t, from_end)) in_from = false;
        if (t.kind == T_PUNCT && t.n == 1 && t.c == ';') {
            tok rest = next(&lx);
            if (rest.kind != T_END || lx.unsure) goto unsure; /* one statement only */
            t = rest;
        }
        if (in_list && first_tok && (word_is(&t, "distinct") || word_is(&t, "all"))) goto unsure;
        first_tok = false;
        if (t.kind == T_PUNCT && t.c == '(') depth++;
        if (t.kind == T_PUNCT && t.c == ')' && --depth < 0) goto unsure;
        if (in_list && depth == 0 &&
            (t.kind == T_END || (t.kind == T_PUNCT && t.c == ',' && t.n == 1) || word_in(&t, list_end))) {
            if (nent == 0) goto unsure; /* SELECT FROM t, SELECT , */
            if (ncols == cap) {
                cap = cap ? cap * 2 : 8;
                char **g = realloc(names, (size_t)cap * sizeof *g);
                if (!g) {
                    oom = true;
                    goto unsure;
                }
                names = g;
            }
            if (!entry_name(ent, nent, &names[ncols], &oom)) goto unsure;
            if (nent > 1) named_entries = true;
            ncols++;
            nent = 0;
            if (!(t.kind == T_PUNCT && t.c == ',')) in_list = false;
        } else if (in_list) {
            if (nent == QUICK_MAX_ENTRY_TOKENS) goto unsure;
            ent[nent++] = t;
        }
        /* ORDER BY a name of the select list: rewrite.c may make it a position (checked
         * after the entry that ORDER itself may end) */
        if (named_entries && word_is(&t, "order")) goto unsure;
        if (t.kind == T_END) break;
        prev = t;
    }
    if (depth != 0) goto unsure;
    out->kind = kind;
    out->fast = true;
    if (kind == PGA_SELECT) {
        out->ncols = ncols;
        out->colnames = names;
    }
    return 1;
unsure:
    for (int i = 0; i < ncols; i++) free(names[i]);
    free(names);
    return oom ? -1 : 0;
}
