/* rewrite.c - PostgreSQL's SQL made DuckDB's, on the parse tree.
 *
 * One generic walk over libpg_query's protobuf-c tree (it reads each message's
 * descriptor, so no statement kind needs a walker of its own) applies a few rules; the
 * tree is deparsed only when one fired (analyze.c). The rules and why (DuckDB 1.4.4,
 * measured; ../shared/compat/client-compat-notes.md, "DuckDB 1.4.4 facts"):
 *  - OPERATOR(pg_catalog.op) binds in DuckDB as a call of a function "pg_catalog":
 *    the qualifier is dropped.
 *  - ~ is a full match in DuckDB and a search in PostgreSQL ('pg_catalog' ~ '^pg_' is
 *    false in DuckDB): ~ !~ ~* !~* become regexp_matches(l, r [, 'i']) [negated].
 *  - COLLATE pg_catalog."default" / "C" / "POSIX" is a syntax or catalog error in
 *    DuckDB and means nothing to it: dropped.
 *  - pg_catalog.t types and PostgreSQL-only ones (name, "char", oid, int2vector, ...)
 *    become DuckDB types; regclass / regtype / regnamespace / regproc casts become the
 *    compat layer's lookups (ds_reg*_in / _out) in both directions.
 *  - '{a,b}'::T[] is not a DuckDB list literal, and = ANY('{..}') / <> ALL(..) fail:
 *    ARRAY[...] / IN (...) / list_contains.
 *  - pg_catalog.X and information_schema.X relations are the compat layer's (DuckDB
 *    resolves pg_catalog.X to its own views whatever the search path), functions lose
 *    the pg_catalog. qualifier, public. is the workspace's own schema (main).
 *  - current_user, session_user, current_database(), current_schema() answer for this
 *    login instead of DuckDB's "duckdb" and the workspace file's name. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgexec/pgtree.h"

/* The walk gives up (and DuckDB gets the text as written) past this depth. PostgreSQL's
 * parser refuses far deeper trees than clients send; the walk's stack stays small. */
#define WALK_MAX_DEPTH 2000

typedef struct {
    const char *sql;
    size_t sqllen;
    const pga_session *ss;
    unsigned rules;
    bool oom, too_deep;
} rw;

/* ---- building nodes (all malloc'd, so protobuf-c's free_unpacked frees them) ---- */

static void *zalloc(rw *c, size_t n) {
    void *p = calloc(1, n);
    if (!p) c->oom = true;
    return p;
}

static char *dupstr(rw *c, const char *s) {
    char *d = strdup(s);
    if (!d) c->oom = true;
    return d;
}

/* Replaces a protobuf-c string field's value (defaults are static and not freed). */
static void set_str(rw *c, char **field, const char *v) {
    char *d = dupstr(c, v);
    if (!d) return;
    if (*field && *field != protobuf_c_empty_string) free(*field);
    *field = d;
}

static PgQuery__Node *wrap(rw *c, PgQuery__Node__NodeCase nc, void *msg) {
    if (!msg) return NULL;
    PgQuery__Node *n = zalloc(c, sizeof *n);
    if (!n) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return NULL;
    }
    pg_query__node__init(n);
    n->node_case = nc;
    switch (nc) {
    case PG_QUERY__NODE__NODE_STRING: n->string = msg; break;
    case PG_QUERY__NODE__NODE_A_CONST: n->a_const = msg; break;
    case PG_QUERY__NODE__NODE_FUNC_CALL: n->func_call = msg; break;
    case PG_QUERY__NODE__NODE_BOOL_EXPR: n->bool_expr = msg; break;
    case PG_QUERY__NODE__NODE_A_EXPR: n->a_expr = msg; break;
    case PG_QUERY__NODE__NODE_LIST: n->list = msg; break;
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR: n->a_array_expr = msg; break;
    case PG_QUERY__NODE__NODE_TYPE_CAST: n->type_cast = msg; break;
    case PG_QUERY__NODE__NODE_RES_TARGET: n->res_target = msg; break;
    case PG_QUERY__NODE__NODE_SELECT_STMT: n->select_stmt = msg; break;
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: n->range_subselect = msg; break;
    default: abort(); /* only the cases above are built */
    }
    return n;
}

static PgQuery__Node *mk_string(rw *c, const char *s) {
    PgQuery__String *m = zalloc(c, sizeof *m);
    if (!m) return NULL;
    pg_query__string__init(m);
    if (!(m->sval = dupstr(c, s))) {
        free(m);
        return NULL;
    }
    return wrap(c, PG_QUERY__NODE__NODE_STRING, m);
}

/* A string constant, or NULL when s is NULL. */
static PgQuery__Node *mk_const(rw *c, const char *s) {
    PgQuery__AConst *a = zalloc(c, sizeof *a);
    if (!a) return NULL;
    pg_query__a__const__init(a);
    a->location = -1;
    if (!s) {
        a->isnull = true;
        return wrap(c, PG_QUERY__NODE__NODE_A_CONST, a);
    }
    PgQuery__String *m = zalloc(c, sizeof *m);
    if (m) {
        pg_query__string__init(m);
        m->sval = dupstr(c, s);
    }
    if (!m || !m->sval) {
        free(m);
        free(a);
        return NULL;
    }
    a->val_case = PG_QUERY__A__CONST__VAL_SVAL;
    a->sval = m;
    return wrap(c, PG_QUERY__NODE__NODE_A_CONST, a);
}

/* Takes ownership of args (freed on failure). */
static PgQuery__Node *mk_call(rw *c, const char *name, PgQuery__Node **args, size_t nargs) {
    PgQuery__FuncCall *f = zalloc(c, sizeof *f);
    PgQuery__Node **fn = zalloc(c, sizeof *fn);
    PgQuery__Node **av = nargs ? zalloc(c, nargs * sizeof *av) : NULL;
    if (f) pg_query__func_call__init(f);
    if (fn) fn[0] = mk_string(c, name);
    if (!f || !fn || !fn[0] || (nargs && !av)) {
        if (fn && fn[0]) protobuf_c_message_free_unpacked(&fn[0]->base, NULL);
        free(fn);
        free(av);
        free(f);
        for (size_t i = 0; i < nargs; i++)
            if (args[i]) protobuf_c_message_free_unpacked(&args[i]->base, NULL);
        return NULL;
    }
    f->n_funcname = 1;
    f->funcname = fn;
    for (size_t i = 0; i < nargs; i++) av[i] = args[i];
    f->n_args = nargs;
    f->args = av;
    f->funcformat = PG_QUERY__COERCION_FORM__COERCE_EXPLICIT_CALL;
    f->location = -1;
    return wrap(c, PG_QUERY__NODE__NODE_FUNC_CALL, f);
}

static PgQuery__Node *mk_not(rw *c, PgQuery__Node *arg) {
    if (!arg) return NULL;
    PgQuery__BoolExpr *b = zalloc(c, sizeof *b);
    PgQuery__Node **av = zalloc(c, sizeof *av);
    if (!b || !av) {
        free(b);
        free(av);
        protobuf_c_message_free_unpacked(&arg->base, NULL);
        return NULL;
    }
    pg_query__bool_expr__init(b);
    b->boolop = PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR;
    av[0] = arg;
    b->n_args = 1;
    b->args = av;
    b->location = -1;
    return wrap(c, PG_QUERY__NODE__NODE_BOOL_EXPR, b);
}

static void free_node(PgQuery__Node *n) {
    if (n) protobuf_c_message_free_unpacked(&n->base, NULL);
}

/* *slot becomes repl (the old node freed); a NULL repl (out of memory) leaves *slot. */
static void replace(PgQuery__Node **slot, PgQuery__Node *repl) {
    if (!repl) return;
    free_node(*slot);
    *slot = repl;
}

/* Removes the first element of a repeated Node field. */
static void drop_first(PgQuery__Node **l, size_t *n) {
    if (*n == 0) return;
    free_node(l[0]);
    memmove(l, l + 1, (*n - 1) * sizeof *l);
    (*n)--;
}

/* ---- reading nodes ---- */

static bool sval_is(const PgQuery__Node *n, const char *s) {
    const char *v = pgt_sval(n);
    return v && strcmp(v, s) == 0;
}

static const char *const_str(const PgQuery__Node *n) {
    if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->isnull) return NULL;
    if (n->a_const->val_case != PG_QUERY__A__CONST__VAL_SVAL || !n->a_const->sval) return NULL;
    return n->a_const->sval->sval;
}

static const char *type_last(const PgQuery__TypeName *t) {
    return t && t->n_names ? pgt_sval(t->names[t->n_names - 1]) : NULL;
}

/* Did the text say "pg_catalog" at this location (not a type PostgreSQL's grammar
 * qualified itself, as it does for int, varchar, timestamp, ...)? */
static bool written_pg_catalog(rw *c, int32_t loc) {
    if (loc < 0 || (size_t)loc >= c->sqllen) return false;
    const char *p = c->sql + loc;
    if (*p == '"') p++;
    return strncasecmp(p, "pg_catalog", 10) == 0;
}

/* ---- rule: regular-expression operators ---- */

static void rule_a_expr_op(rw *c, PgQuery__Node **slot) {
    PgQuery__AExpr *e = (*slot)->a_expr;
    /* OPERATOR(pg_catalog.op) -> op */
    if (e->n_name == 2 && sval_is(e->name[0], "pg_catalog")) {
        drop_first(e->name, &e->n_name);
        c->rules |= PGA_R_OPERATOR;
    }
    if (e->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || e->n_name != 1 || !e->lexpr || !e->rexpr) return;
    const char *op = pgt_sval(e->name[0]);
    if (!op) return;
    bool neg = op[0] == '!';
    const char *o = neg ? op + 1 : op;
    bool icase;
    if (strcmp(o, "~") == 0)
        icase = false;
    else if (strcmp(o, "~*") == 0)
        icase = true;
    else
        return;
    PgQuery__Node *args[3] = {e->lexpr, e->rexpr, NULL};
    e->lexpr = e->rexpr = NULL;
    size_t nargs = 2;
    if (icase && !(args[nargs++] = mk_const(c, "i"))) nargs--;
    PgQuery__Node *call = mk_call(c, "regexp_matches", args, nargs);
    if (call && neg) call = mk_not(c, call);
    if (!call) return; /* out of memory: the tree is freed as it stands */
    replace(slot, call);
    c->rules |= PGA_R_REGEX;
}

/* ---- rule: array literals and ANY / ALL ---- */

/* Parses a one-dimensional PostgreSQL array literal {a,"b c",NULL} into elements (NULL
 * for SQL NULL). Returns the count, or -1 when it is not one (nested, malformed). */
static int parse_array(rw *c, const char *s, PgQuery__Node ***out) {
    size_t len = strlen(s), i = 0;
    while (i < len && isspace((unsigned char)s[i])) i++;
    if (i >= len || s[i] != '{') return -1;
    i++;
    int n = 0, cap = 0;
    PgQuery__Node **v = NULL;
    char *buf = malloc(len + 1);
    if (!buf) {
        c->oom = true;
        return -1;
    }
    for (;;) {
        while (i < len && isspace((unsigned char)s[i])) i++;
        if (i < len && s[i] == '}' && n == 0) {
            i++;
            break;
        }
        size_t b = 0;
        bool quoted = false;
        if (i < len && s[i] == '"') {
            quoted = true;
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < len) i++;
                buf[b++] = s[i];
            }
            if (i >= len) goto bad;
            i++;
        } else {
            for (; i < len && s[i] != ',' && s[i] != '}'; i++) {
                if (s[i] == '{' || s[i] == '"') goto bad;
                if (s[i] == '\\' && i + 1 < len) i++;
                buf[b++] = s[i];
            }
            while (b > 0 && isspace((unsigned char)buf[b - 1])) b--;
        }
        buf[b] = '\0';
        if (!quoted && b == 0) goto bad;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            PgQuery__Node **g = realloc(v, (size_t)cap * sizeof *g);
            if (!g) {
                c->oom = true;
                goto bad;
            }
            v = g;
        }
        if (!(v[n] = mk_const(c, (!quoted && strcasecmp(buf, "null") == 0) ? NULL : buf))) goto bad;
        n++;
        while (i < len && isspace((unsigned char)s[i])) i++;
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == '}') {
            i++;
            break;
        }
        goto bad;
    }
    while (i < len && isspace((unsigned char)s[i])) i++;
    if (i != len) goto bad;
    free(buf);
    *out = v;
    return n;
bad:
    for (int k = 0; k < n; k++) free_node(v[k]);
    free(v);
    free(buf);
    return -1;
}

/* '{...}'::T[] -> ARRAY[...]::T[] */
static void rule_array_cast(rw *c, PgQuery__TypeCast *tc) {
    const char *s = const_str(tc->arg);
    if (!s || !tc->type_name || tc->type_name->n_array_bounds == 0) return;
    PgQuery__Node **el = NULL;
    int n = parse_array(c, s, &el);
    if (n < 0) return;
    PgQuery__AArrayExpr *a = zalloc(c, sizeof *a);
    if (!a) {
        for (int k = 0; k < n; k++) free_node(el[k]);
        free(el);
        return;
    }
    pg_query__a__array_expr__init(a);
    a->n_elements = (size_t)n;
    a->elements = el;
    a->location = -1;
    PgQuery__Node *arr = wrap(c, PG_QUERY__NODE__NODE_A_ARRAY_EXPR, a);
    if (!arr) return;
    free_node(tc->arg);
    tc->arg = arr;
    c->rules |= PGA_R_ARRAY;
}

/* x = ANY('{a,b}') -> x IN ('a','b'); x <> ALL('{..}') -> x NOT IN (..);
 * x = ANY(ARRAY(SELECT ..)) -> x = ANY(SELECT ..); x = ANY(col) -> list_contains(col, x). */
static void rule_any_all(rw *c, PgQuery__Node **slot) {
    PgQuery__AExpr *e = (*slot)->a_expr;
    bool any = e->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY;
    if (!any && e->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL) return;
    if (e->n_name != 1 || !e->lexpr || !e->rexpr) return;
    const char *op = pgt_sval(e->name[0]);
    if (!op || strcmp(op, any ? "=" : "<>") != 0) return;
    PgQuery__Node *r = e->rexpr;
    const char *lit = const_str(r);
    if (!lit && r->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && r->type_cast->type_name &&
        r->type_cast->type_name->n_array_bounds > 0)
        lit = const_str(r->type_cast->arg);
    if (lit) {
        PgQuery__Node **el = NULL;
        int n = parse_array(c, lit, &el);
        if (n < 0) return;
        if (n == 0) { /* = ANY of nothing is false, <> ALL of nothing true */
            free(el);
            PgQuery__AConst *b = zalloc(c, sizeof *b);
            PgQuery__Boolean *bv = zalloc(c, sizeof *bv);
            if (!b || !bv) {
                free(b);
                free(bv);
                return;
            }
            pg_query__a__const__init(b);
            pg_query__boolean__init(bv);
            bv->boolval = !any;
            b->val_case = PG_QUERY__A__CONST__VAL_BOOLVAL;
            b->boolval = bv;
            b->location = -1;
            replace(slot, wrap(c, PG_QUERY__NODE__NODE_A_CONST, b));
            c->rules |= PGA_R_ARRAY;
            return;
        }
        PgQuery__List *l = zalloc(c, sizeof *l);
        if (!l) {
            for (int k = 0; k < n; k++) free_node(el[k]);
            free(el);
            return;
        }
        pg_query__list__init(l);
        l->n_items = (size_t)n;
        l->items = el;
        PgQuery__Node *ln = wrap(c, PG_QUERY__NODE__NODE_LIST, l);
        if (!ln) return;
        free_node(e->rexpr);
        e->rexpr = ln;
        e->kind = PG_QUERY__A__EXPR__KIND__AEXPR_IN; /* name "=" is IN, "<>" NOT IN */
        c->rules |= PGA_R_ARRAY;
        return;
    }
    if (r->node_case == PG_QUERY__NODE__NODE_SUB_LINK &&
        r->sub_link->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK) {
        /* The ARRAY(SELECT ..) becomes the subquery ANY / ALL compares with directly. */
        PgQuery__SubLink *sl = r->sub_link;
        sl->sub_link_type = any ? PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK : PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK;
        sl->testexpr = e->lexpr;
        sl->oper_name = e->name;
        sl->n_oper_name = e->n_name;
        e->lexpr = NULL;
        e->name = NULL;
        e->n_name = 0;
        e->rexpr = NULL;
        free_node(*slot);
        *slot = r;
        c->rules |= PGA_R_ARRAY;
        return;
    }
    if (r->node_case == PG_QUERY__NODE__NODE_SUB_LINK) return; /* ANY (SELECT ..) is DuckDB's too */
    PgQuery__Node *args[2] = {e->rexpr, e->lexpr};
    e->rexpr = e->lexpr = NULL;
    PgQuery__Node *call = mk_call(c, "list_contains", args, 2);
    if (call && !any) call = mk_not(c, call);
    if (!call) return;
    replace(slot, call);
    c->rules |= PGA_R_ARRAY;
}

/* ---- rule: types and casts ---- */

static const char *reg_family(const char *t) {
    if (!t) return NULL;
    if (!strcmp(t, "regclass")) return "regclass";
    if (!strcmp(t, "regtype")) return "regtype";
    if (!strcmp(t, "regnamespace")) return "regnamespace";
    if (!strcmp(t, "regproc") || !strcmp(t, "regprocedure")) return "regproc";
    return NULL;
}

static bool is_text_type(const char *t) {
    return t && (!strcmp(t, "text") || !strcmp(t, "varchar") || !strcmp(t, "name") || !strcmp(t, "bpchar"));
}

/* A reg* cast of x, where x is an oid (not a name): the value stays the oid. */
static bool names_an_object(const PgQuery__Node *x) {
    if (!x) return false;
    switch (x->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST: return const_str(x) != NULL;
    case PG_QUERY__NODE__NODE_PARAM_REF:
    case PG_QUERY__NODE__NODE_FUNC_CALL: return true;
    case PG_QUERY__NODE__NODE_TYPE_CAST: return is_text_type(type_last(x->type_cast->type_name));
    default: return false;
    }
}

/* ds_<family>_<dir>(arg), arg taken from *argp. */
static PgQuery__Node *reg_call(rw *c, const char *family, const char *dir, PgQuery__Node **argp) {
    char fn[40];
    snprintf(fn, sizeof fn, "ds_%s_%s", family, dir);
    PgQuery__Node *a[1] = {*argp};
    *argp = NULL;
    return mk_call(c, fn, a, 1);
}

static void rule_type_cast(rw *c, PgQuery__Node **slot, bool shown) {
    PgQuery__TypeCast *tc = (*slot)->type_cast;
    const char *t = type_last(tc->type_name);
    const char *fam = tc->type_name && tc->type_name->n_array_bounds == 0 ? reg_family(t) : NULL;
    /* oids::regtype[] (pgcli): the names of a list of oids */
    if (!fam && tc->type_name && tc->type_name->n_array_bounds == 1 && reg_family(t) && tc->arg && !const_str(tc->arg)) {
        char fn[40];
        snprintf(fn, sizeof fn, "%s_array", reg_family(t));
        PgQuery__Node *call = reg_call(c, fn, "out", &tc->arg);
        if (call) {
            replace(slot, call);
            c->rules |= PGA_R_REGCAST;
        }
        return;
    }
    /* (x::regclass)::text -> ds_regclass_out(x): the name of the object x is the oid of */
    if (is_text_type(t) && tc->arg && tc->arg->node_case == PG_QUERY__NODE__NODE_TYPE_CAST) {
        PgQuery__TypeCast *in = tc->arg->type_cast;
        const char *ifam = in->type_name && in->type_name->n_array_bounds == 0 ? reg_family(type_last(in->type_name)) : NULL;
        if (ifam && !names_an_object(in->arg)) {
            PgQuery__Node *call = reg_call(c, ifam, "out", &in->arg);
            if (call) {
                replace(slot, call);
                c->rules |= PGA_R_REGCAST;
            }
            return;
        }
    }
    if (fam) {
        PgQuery__Node *call = NULL;
        if (names_an_object(tc->arg))
            call = reg_call(c, fam, "in", &tc->arg);
        else if (shown) /* a select-list entry: PostgreSQL prints the name */
            call = reg_call(c, fam, "out", &tc->arg);
        else { /* compared, joined: the oid itself */
            PgQuery__Node *x = tc->arg;
            tc->arg = NULL;
            free_node(*slot);
            *slot = x;
            c->rules |= PGA_R_REGCAST;
            return;
        }
        if (call) {
            replace(slot, call);
            c->rules |= PGA_R_REGCAST;
        }
        return;
    }
    rule_array_cast(c, tc);
}

/* PostgreSQL type names DuckDB does not know, as the DuckDB type that holds them. */
static void rule_type_name(rw *c, PgQuery__TypeName *tn) {
    if (tn->n_names == 2 && sval_is(tn->names[0], "pg_catalog") && written_pg_catalog(c, tn->location)) {
        drop_first(tn->names, &tn->n_names);
        c->rules |= PGA_R_TYPES;
    }
    if (tn->n_names != 1 || !tn->names[0] || tn->names[0]->node_case != PG_QUERY__NODE__NODE_STRING) return;
    static const struct {
        const char *pg, *duck;
    } map[] = {{"name", "varchar"},         {"char", "varchar"},     {"oid", "bigint"},        {"xid", "bigint"},
               {"cid", "bigint"},           {"tid", "varchar"},      {"regrole", "bigint"},    {"int2vector", "smallint[]"},
               {"oidvector", "bigint[]"},   {"pg_node_tree", "varchar"}, {"aclitem", "varchar"}, {"jsonb", "json"},
               {"regoper", "bigint"},       {"regconfig", "bigint"}, {"pg_lsn", "varchar"}};
    char **sv = &tn->names[0]->string->sval;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(*sv, map[i].pg) != 0) continue;
        const char *d = map[i].duck;
        size_t dl = strlen(d);
        bool arr = dl > 2 && strcmp(d + dl - 2, "[]") == 0;
        char base[32];
        snprintf(base, sizeof base, "%.*s", (int)(arr ? dl - 2 : dl), d);
        set_str(c, sv, base);
        if (arr && tn->n_array_bounds == 0) {
            PgQuery__Node **b = zalloc(c, sizeof *b);
            PgQuery__Integer *iv = zalloc(c, sizeof *iv);
            PgQuery__Node *bn = NULL;
            if (b && iv) {
                pg_query__integer__init(iv);
                iv->ival = -1;
                bn = zalloc(c, sizeof *bn);
                if (bn) {
                    pg_query__node__init(bn);
                    bn->node_case = PG_QUERY__NODE__NODE_INTEGER;
                    bn->integer = iv;
                    b[0] = bn;
                    tn->array_bounds = b;
                    tn->n_array_bounds = 1;
                }
            }
            if (!bn) {
                free(b);
                free(iv);
            }
        }
        c->rules |= PGA_R_TYPES;
        return;
    }
}

/* ---- rule: names ---- */

static void rule_range_var(rw *c, PgQuery__RangeVar *rv) {
    if (rv->catalogname && rv->catalogname[0]) return;
    const char *s = rv->schemaname;
    if (!s || !s[0]) return;
    if (!strcmp(s, "pg_catalog")) {
        set_str(c, &rv->catalogname, "ds_compat");
        set_str(c, &rv->schemaname, "main");
        c->rules |= PGA_R_CATALOG;
    } else if (!strcmp(s, "information_schema")) {
        char name[160];
        snprintf(name, sizeof name, "information_schema_%s", rv->relname ? rv->relname : "");
        set_str(c, &rv->catalogname, "ds_compat");
        set_str(c, &rv->schemaname, "main");
        set_str(c, &rv->relname, name);
        c->rules |= PGA_R_CATALOG;
    } else if (!strcmp(s, "public")) {
        set_str(c, &rv->schemaname, "main");
        c->rules |= PGA_R_PUBLIC;
    }
}

static void rule_func_call(rw *c, PgQuery__FuncCall *f) {
    if (f->n_funcname == 2 &&
        (sval_is(f->funcname[0], "pg_catalog") ||
         (sval_is(f->funcname[0], "information_schema") && sval_is(f->funcname[1], "_pg_expandarray")))) {
        drop_first(f->funcname, &f->n_funcname);
        c->rules |= PGA_R_CATALOG;
    }
}

/* current_database(), current_schema(), current_catalog, current_user, ... */
static void rule_identity(rw *c, PgQuery__Node **slot) {
    PgQuery__Node *n = *slot;
    const char *v = NULL;
    if (n->node_case == PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION) {
        switch (n->sqlvalue_function->op) {
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_ROLE:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER: v = c->ss ? c->ss->user : NULL; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG: v = c->ss ? c->ss->database : NULL; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA: v = "public"; break;
        default: return;
        }
    } else if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && n->func_call->n_args == 0 &&
               !n->func_call->agg_star && !n->func_call->over) {
        const PgQuery__FuncCall *f = n->func_call;
        const char *name = f->n_funcname ? pgt_sval(f->funcname[f->n_funcname - 1]) : NULL;
        bool qualified_ok = f->n_funcname == 1 || (f->n_funcname == 2 && sval_is(f->funcname[0], "pg_catalog"));
        if (!name || !qualified_ok) return;
        if (!strcmp(name, "current_database"))
            v = c->ss ? c->ss->database : NULL;
        else if (!strcmp(name, "current_schema"))
            v = "public";
        else
            return;
    } else
        return;
    if (!v) return;
    PgQuery__Node *k = mk_const(c, v);
    if (!k) return;
    replace(slot, k);
    c->rules |= PGA_R_IDENTITY;
}

/* ---- rule: 0-based vectors ----
 * pg_index.indkey (int2vector) and its kin (oidvector) are indexed from 0 in PostgreSQL
 * (psqlODBC's SQLPrimaryKeys: i.indkey[ia.attnum-1]); the compat catalog holds them as
 * DuckDB lists, indexed from 1. A subscript of one of these columns gets + 1. */
static void rule_vector_subscript(rw *c, PgQuery__AIndirection *ind) {
    static const char *const vectors[] = {"indkey", "indclass", "indcollation", "indoption", "proargtypes", NULL};
    const PgQuery__Node *a = ind->arg;
    if (!a || a->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || !a->column_ref->n_fields) return;
    const char *col = pgt_sval(a->column_ref->fields[a->column_ref->n_fields - 1]);
    bool vec = false;
    for (int i = 0; col && vectors[i]; i++) vec |= strcmp(col, vectors[i]) == 0;
    if (!vec || ind->n_indirection != 1 || ind->indirection[0]->node_case != PG_QUERY__NODE__NODE_A_INDICES) return;
    PgQuery__AIndices *ix = ind->indirection[0]->a_indices;
    if (ix->is_slice || !ix->uidx) return;
    PgQuery__AExpr *e = zalloc(c, sizeof *e);
    PgQuery__Node **nm = zalloc(c, sizeof *nm);
    PgQuery__AConst *one = zalloc(c, sizeof *one);
    PgQuery__Integer *iv = zalloc(c, sizeof *iv);
    PgQuery__Node *plus = NULL, *onen = NULL;
    if (e && nm && one && iv && (nm[0] = mk_string(c, "+"))) {
        pg_query__a__expr__init(e);
        pg_query__a__const__init(one);
        pg_query__integer__init(iv);
        iv->ival = 1;
        one->val_case = PG_QUERY__A__CONST__VAL_IVAL;
        one->ival = iv;
        one->location = -1;
        iv = NULL;
        onen = wrap(c, PG_QUERY__NODE__NODE_A_CONST, one);
        one = NULL;
        if (onen) {
            e->kind = PG_QUERY__A__EXPR__KIND__AEXPR_OP;
            e->name = nm;
            e->n_name = 1;
            nm = NULL;
            e->rexpr = onen;
            e->location = -1;
            plus = wrap(c, PG_QUERY__NODE__NODE_A_EXPR, e); /* frees e when it fails */
            e = NULL;
            if (plus) {
                plus->a_expr->lexpr = ix->uidx;
                ix->uidx = plus;
                c->rules |= PGA_R_CATALOG;
            }
        }
    }
    if (nm && nm[0]) free_node(nm[0]);
    free(nm), free(e), free(one), free(iv);
}

/* ---- rule: functions in FROM ---- */

static PgQuery__FuncCall *range_func_call(const PgQuery__RangeFunction *rf) {
    if (rf->is_rowsfrom || rf->n_functions != 1 || rf->n_coldeflist) return NULL;
    const PgQuery__Node *l = rf->functions[0];
    if (!l || l->node_case != PG_QUERY__NODE__NODE_LIST || l->list->n_items < 1 || !l->list->items[0] ||
        l->list->items[0]->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
        return NULL;
    return l->list->items[0]->func_call;
}

static const char *func_name(const PgQuery__FuncCall *f) {
    return f && f->n_funcname ? pgt_sval(f->funcname[f->n_funcname - 1]) : NULL;
}

/* FROM generate_series(1, 3) s: in PostgreSQL s also names the column (prattrs[s]); in
 * DuckDB it names only the table. The alias gets the column name too. */
static void rule_srf_alias(rw *c, PgQuery__RangeFunction *rf) {
    PgQuery__FuncCall *f = range_func_call(rf);
    const char *fn = func_name(f);
    if (!fn || !rf->alias || rf->alias->n_colnames || rf->ordinality || !rf->alias->aliasname) return;
    if (strcmp(fn, "generate_series") && strcmp(fn, "generate_subscripts") && !(strcmp(fn, "unnest") == 0 && f->n_args == 1))
        return;
    PgQuery__Node **cn = zalloc(c, sizeof *cn);
    if (!cn) return;
    if (!(cn[0] = mk_string(c, rf->alias->aliasname))) {
        free(cn);
        return;
    }
    rf->alias->colnames = cn;
    rf->alias->n_colnames = 1;
    c->rules |= PGA_R_CATALOG;
}

/* FROM string_to_array(..) s: PostgreSQL takes a function returning one value as a
 * one-row table; DuckDB wants a table function. -> FROM (SELECT f(..) AS s) s */
static void rule_scalar_in_from(rw *c, PgQuery__Node **slot) {
    PgQuery__RangeFunction *rf = (*slot)->range_function;
    PgQuery__FuncCall *f = range_func_call(rf);
    const char *fn = func_name(f);
    if (!fn || rf->ordinality || (rf->alias && rf->alias->n_colnames)) return;
    if (strcmp(fn, "string_to_array") && strcmp(fn, "current_schemas") && strcmp(fn, "parse_ident")) return;
    const char *name = rf->alias && rf->alias->aliasname && rf->alias->aliasname[0] ? rf->alias->aliasname : fn;
    PgQuery__ResTarget *rt = zalloc(c, sizeof *rt);
    PgQuery__SelectStmt *sel = zalloc(c, sizeof *sel);
    PgQuery__RangeSubselect *sub = zalloc(c, sizeof *sub);
    PgQuery__Alias *al = zalloc(c, sizeof *al);
    PgQuery__Node **tl = zalloc(c, sizeof *tl);
    char *rtname = dupstr(c, name), *alname = dupstr(c, name);
    if (!rt || !sel || !sub || !al || !tl || !rtname || !alname) {
        free(rt), free(sel), free(sub), free(al), free(tl), free(rtname), free(alname);
        return;
    }
    pg_query__res_target__init(rt);
    pg_query__select_stmt__init(sel);
    pg_query__range_subselect__init(sub);
    pg_query__alias__init(al);
    /* The function call moves from the RangeFunction into the select list. */
    PgQuery__Node **fslot = &rf->functions[0]->list->items[0];
    rt->val = *fslot;
    *fslot = NULL;
    rt->name = rtname;
    rt->location = -1;
    tl[0] = wrap(c, PG_QUERY__NODE__NODE_RES_TARGET, rt);
    sel->target_list = tl;
    sel->n_target_list = 1;
    sel->op = PG_QUERY__SET_OPERATION__SETOP_NONE;
    sel->limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
    al->aliasname = alname;
    sub->alias = al;
    sub->subquery = wrap(c, PG_QUERY__NODE__NODE_SELECT_STMT, sel);
    if (!tl[0] || !sub->subquery) { /* out of memory: c->oom is set, the tree is dropped */
        protobuf_c_message_free_unpacked(&sub->base, NULL);
        return;
    }
    replace(slot, wrap(c, PG_QUERY__NODE__NODE_RANGE_SUBSELECT, sub));
    c->rules |= PGA_R_CATALOG;
}

/* ORDER BY oid where oid is an output column's name: PostgreSQL sorts by that output
 * column; DuckDB also sees the input columns of that name and calls it ambiguous
 * (Npgsql's type loading). -> ORDER BY <its position>. */
static void rule_order_by_output(rw *c, PgQuery__SelectStmt *s) {
    if (s->n_sort_clause == 0 || s->n_target_list == 0 || s->n_values_lists) return;
    for (size_t i = 0; i < s->n_target_list; i++) {
        const PgQuery__Node *t = s->target_list[i];
        if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET) return;
        const PgQuery__Node *v = t->res_target->val;
        if (v && v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && v->column_ref->n_fields &&
            v->column_ref->fields[v->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR)
            return; /* positions are unknown past a '*' */
    }
    for (size_t k = 0; k < s->n_sort_clause; k++) {
        PgQuery__Node *sn = s->sort_clause[k];
        if (sn->node_case != PG_QUERY__NODE__NODE_SORT_BY || !sn->sort_by->node) continue;
        PgQuery__Node *key = sn->sort_by->node;
        if (key->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || key->column_ref->n_fields != 1) continue;
        const char *name = pgt_sval(key->column_ref->fields[0]);
        if (!name) continue;
        int found = -1, matches = 0;
        for (size_t i = 0; i < s->n_target_list; i++) {
            const PgQuery__ResTarget *rt = s->target_list[i]->res_target;
            const char *out = rt->name && rt->name[0] ? rt->name : NULL;
            if (!out && rt->val && rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF)
                out = pgt_sval(rt->val->column_ref->fields[rt->val->column_ref->n_fields - 1]);
            if (out && strcmp(out, name) == 0) {
                found = (int)i;
                matches++;
            }
        }
        /* only where DuckDB would see more than the output column: a qualified ref or an alias */
        if (matches != 1) continue;
        const PgQuery__ResTarget *rt = s->target_list[found]->res_target;
        if (!(rt->name && rt->name[0]) && rt->val->column_ref->n_fields == 1) continue;
        PgQuery__AConst *a = zalloc(c, sizeof *a);
        PgQuery__Integer *iv = zalloc(c, sizeof *iv);
        if (!a || !iv) {
            free(a);
            free(iv);
            return;
        }
        pg_query__a__const__init(a);
        pg_query__integer__init(iv);
        iv->ival = found + 1;
        a->val_case = PG_QUERY__A__CONST__VAL_IVAL;
        a->ival = iv;
        a->location = -1;
        PgQuery__Node *pos = wrap(c, PG_QUERY__NODE__NODE_A_CONST, a);
        if (!pos) return;
        free_node(sn->sort_by->node);
        sn->sort_by->node = pos;
        c->rules |= PGA_R_CATALOG;
    }
}

/* ---- the walk ---- */

static void walk(rw *c, ProtobufCMessage *m, int depth);

static void visit(rw *c, PgQuery__Node **slot, int depth, bool shown) {
    if (!*slot || c->oom) return;
    switch ((*slot)->node_case) {
    case PG_QUERY__NODE__NODE_A_EXPR:
        rule_any_all(c, slot);
        if ((*slot)->node_case == PG_QUERY__NODE__NODE_A_EXPR) rule_a_expr_op(c, slot);
        break;
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE: {
        PgQuery__CollateClause *cc = (*slot)->collate_clause;
        const char *coll = cc->n_collname ? pgt_sval(cc->collname[cc->n_collname - 1]) : NULL;
        if (coll && cc->arg && (!strcmp(coll, "default") || !strcmp(coll, "C") || !strcmp(coll, "POSIX"))) {
            PgQuery__Node *arg = cc->arg;
            cc->arg = NULL;
            free_node(*slot);
            *slot = arg;
            c->rules |= PGA_R_COLLATE;
            visit(c, slot, depth + 1, shown);
            return;
        }
        break;
    }
    case PG_QUERY__NODE__NODE_TYPE_CAST: rule_type_cast(c, slot, shown); break;
    case PG_QUERY__NODE__NODE_A_INDIRECTION: rule_vector_subscript(c, (*slot)->a_indirection); break;
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
        rule_scalar_in_from(c, slot);
        if ((*slot)->node_case == PG_QUERY__NODE__NODE_RANGE_FUNCTION) rule_srf_alias(c, (*slot)->range_function);
        break;
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
    case PG_QUERY__NODE__NODE_FUNC_CALL: rule_identity(c, slot); break;
    default: break;
    }
    if (*slot) walk(c, &(*slot)->base, depth + 1);
}

static void walk(rw *c, ProtobufCMessage *m, int depth) {
    if (c->oom || c->too_deep) return;
    if (depth > WALK_MAX_DEPTH) {
        c->too_deep = true;
        return;
    }
    const ProtobufCMessageDescriptor *d = m->descriptor;
    bool res_target = false;
    if (d == &pg_query__range_var__descriptor)
        rule_range_var(c, (PgQuery__RangeVar *)m);
    else if (d == &pg_query__func_call__descriptor)
        rule_func_call(c, (PgQuery__FuncCall *)m);
    else if (d == &pg_query__type_name__descriptor)
        rule_type_name(c, (PgQuery__TypeName *)m);
    else if (d == &pg_query__res_target__descriptor)
        res_target = true;
    else if (d == &pg_query__select_stmt__descriptor)
        rule_order_by_output(c, (PgQuery__SelectStmt *)m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)((const char *)m + f->quantifier_offset) != f->id)
            continue;
        bool node = f->descriptor == &pg_query__node__descriptor;
        void **p = (void **)((char *)m + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            void **arr = *p;
            for (size_t k = 0; k < n; k++) {
                if (node)
                    visit(c, (PgQuery__Node **)&arr[k], depth, false);
                else if (arr[k])
                    walk(c, arr[k], depth + 1);
            }
        } else if (*p) {
            if (node)
                visit(c, (PgQuery__Node **)p, depth, res_target && strcmp(f->name, "val") == 0);
            else
                walk(c, *p, depth + 1);
        }
    }
}

int pga_rewrite(PgQuery__ParseResult *tree, const char *sql, const pga_session *ss, unsigned *rules) {
    rw c = {.sql = sql, .sqllen = strlen(sql), .ss = ss};
    walk(&c, &tree->base, 0);
    if (c.oom) return -1;
    /* Too deep to walk whole: a half-rewritten tree is not run; DuckDB gets the text. */
    *rules = c.too_deep ? 0 : c.rules;
    return 0;
}
