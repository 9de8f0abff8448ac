/* copy.c - COPY ... FROM STDIN and COPY ... TO STDOUT, as PostgreSQL's commands/copy*.c:
 * the statement read from PostgreSQL's parse tree, COPY TO streamed from a query in
 * text, csv or binary, and COPY FROM as a sub-state of the protocol (CopyInResponse,
 * then CopyData/CopyDone/CopyFail) that parses the rows (copyparse.c) into a DuckDB
 * appender on the workspace's own table, inside one transaction. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pgexec/copyparse.h"
#include "pgexec/internal.h"
#include "pgexec/pgtree.h"
#include "util/dberr.h"
#include "util/str.h"

#define COPY_ROW_MAX (256u << 20) /* a row longer than the largest message is an error */

typedef struct {
    bool from;
    cp_format fmt;
    char *schema, *table; /* the target or source table (NULL with a query) */
    char **cols;
    int ncols;
    char *query; /* COPY (query) TO: the query's text */
    char delim, quote, escape;
    char *null_str;
    bool header, header_match;
    bool force_quote_all;
    char **fq, **fnull, **fnn; /* FORCE_QUOTE, FORCE_NULL, FORCE_NOT_NULL column names */
    int nfq, nfnull, nfnn;
    bool has_delim, has_null, has_quote, has_escape, has_header, has_fmt, has_fq, has_fnull, has_fnn, has_enc;
} copy_stmt;

/* COPY FROM STDIN in progress (x->copy). */
struct pgx_copy {
    copy_stmt st;
    cp_parser *cp;
    duckdb_appender app;
    char **names; /* target columns, appender order */
    int ncols;
    duckdb_type *types;
    uint32_t *oids; /* PostgreSQL's type of each column (pgt_oid) */
    bool *force_null, *force_not_null;
    bool own_tx;   /* autocommit: the transaction is ours */
    bool extended; /* started by Execute */
    char *rest;    /* simple protocol: the script's statements after the COPY */
    pgx *x;
    /* The first failure while taking rows: sqlstate, message, CONTEXT. */
    char fail_state[6];
    char fail_msg[300];
    char fail_ctx[400];
};

static void names_free(char **v, int n) {
    for (int i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static void stmt_clear(copy_stmt *s) {
    free(s->schema);
    free(s->table);
    names_free(s->cols, s->ncols);
    free(s->query);
    free(s->null_str);
    names_free(s->fq, s->nfq);
    names_free(s->fnull, s->nfnull);
    names_free(s->fnn, s->nfnn);
    memset(s, 0, sizeof *s);
}

/* ---- the statement ---- */

typedef struct {
    char state[6];
    char msg[200];
} copy_perr;

/* msg may hold one "%s", filled with arg. */
static int perr(copy_perr *e, const char *state, const char *msg, const char *arg) {
    snprintf(e->state, sizeof e->state, "%s", state);
    const char *at = strstr(msg, "%s");
    if (at) snprintf(e->msg, sizeof e->msg, "%.*s%.100s%s", (int)(at - msg), msg, arg ? arg : "", at + 2);
    else snprintf(e->msg, sizeof e->msg, "%s", msg);
    return -1;
}

/* A DefElem's value as text (String, Integer, Boolean, Float); NULL when absent. */
static const char *def_text(const PgQuery__DefElem *d, char buf[32]) {
    const PgQuery__Node *a = d->arg;
    if (!a) return NULL;
    switch (a->node_case) {
    case PG_QUERY__NODE__NODE_STRING: return a->string->sval;
    case PG_QUERY__NODE__NODE_INTEGER: snprintf(buf, 32, "%d", (int)a->integer->ival); return buf;
    case PG_QUERY__NODE__NODE_BOOLEAN: return a->boolean->boolval ? "true" : "false";
    case PG_QUERY__NODE__NODE_FLOAT: return a->float_->fval;
    default: return NULL;
    }
}

static int name_list(const PgQuery__Node *a, char ***out, int *n) {
    if (!a || a->node_case != PG_QUERY__NODE__NODE_LIST) return -1;
    size_t k = a->list->n_items;
    *out = calloc(k ? k : 1, sizeof **out);
    if (!*out) return -1;
    for (size_t i = 0; i < k; i++) {
        const char *s = pgt_sval(a->list->items[i]);
        if (!s || !((*out)[i] = strdup(s))) return -1;
        *n = (int)i + 1;
    }
    return 0;
}

static int bool_opt(const char *v, bool *out) {
    if (!v) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1")) *out = true;
    else if (!strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0")) *out = false;
    else return -1;
    return 0;
}

/* One option. */
static int option(copy_stmt *s, const PgQuery__DefElem *d, copy_perr *e) {
    char nb[32];
    const char *n = d->defname ? d->defname : "", *v = def_text(d, nb);
#define ONCE(flag)                                                                   \
    do {                                                                             \
        if (s->flag) return perr(e, "42601", "conflicting or redundant options", NULL); \
        s->flag = true;                                                              \
    } while (0)
    if (!strcmp(n, "format")) {
        ONCE(has_fmt);
        if (!v) return perr(e, "42601", "COPY format needs a value", NULL);
        if (!strcasecmp(v, "text")) s->fmt = CP_TEXT;
        else if (!strcasecmp(v, "csv")) s->fmt = CP_CSV;
        else if (!strcasecmp(v, "binary")) s->fmt = CP_BINARY;
        else return perr(e, "22023", "COPY format \"%s\" not recognized", v);
    } else if (!strcmp(n, "delimiter") || !strcmp(n, "quote") || !strcmp(n, "escape")) {
        if (!strcmp(n, "delimiter")) ONCE(has_delim);
        else if (!strcmp(n, "quote")) ONCE(has_quote);
        else ONCE(has_escape);
        if (!v || strlen(v) != 1 || (unsigned char)v[0] >= 0x80) {
            return perr(e, "0A000",
                        !strcmp(n, "delimiter") ? "COPY delimiter must be a single one-byte character"
                        : !strcmp(n, "quote")   ? "COPY quote must be a single one-byte character"
                                                : "COPY escape must be a single one-byte character",
                        NULL);
        }
        if (!strcmp(n, "delimiter")) s->delim = v[0];
        else if (!strcmp(n, "quote")) s->quote = v[0];
        else s->escape = v[0];
    } else if (!strcmp(n, "null")) {
        ONCE(has_null);
        free(s->null_str);
        if (!v || !(s->null_str = strdup(v))) return perr(e, "42601", "NULL needs a value", NULL);
    } else if (!strcmp(n, "header")) {
        ONCE(has_header);
        if (v && !strcasecmp(v, "match")) {
            s->header = s->header_match = true;
        } else if (bool_opt(v, &s->header) != 0) {
            return perr(e, "22023", "header requires a Boolean value or \"match\"", NULL);
        }
    } else if (!strcmp(n, "force_quote")) {
        ONCE(has_fq);
        if (d->arg && d->arg->node_case == PG_QUERY__NODE__NODE_A_STAR) s->force_quote_all = true;
        else if (name_list(d->arg, &s->fq, &s->nfq) != 0) return perr(e, "42601", "argument to option \"force_quote\" must be a list of column names", NULL);
    } else if (!strcmp(n, "force_null")) {
        ONCE(has_fnull);
        if (name_list(d->arg, &s->fnull, &s->nfnull) != 0) return perr(e, "42601", "argument to option \"force_null\" must be a list of column names", NULL);
    } else if (!strcmp(n, "force_not_null")) {
        ONCE(has_fnn);
        if (name_list(d->arg, &s->fnn, &s->nfnn) != 0) return perr(e, "42601", "argument to option \"force_not_null\" must be a list of column names", NULL);
    } else if (!strcmp(n, "encoding")) {
        ONCE(has_enc);
        if (!v || (strcasecmp(v, "utf8") && strcasecmp(v, "utf-8") && strcasecmp(v, "unicode") && strcasecmp(v, "sql_ascii")))
            return perr(e, "0A000", "COPY ENCODING \"%s\" is not supported: data must be UTF8", v ? v : "");
    } else if (!strcmp(n, "freeze")) {
        bool b;
        if (bool_opt(v, &b) != 0) return perr(e, "22023", "freeze requires a Boolean value", NULL);
    } else if (!strcmp(n, "oids")) {
        bool b = false;
        if (bool_opt(v, &b) != 0 || b) return perr(e, "0A000", "COPY with OIDS is not supported", NULL);
    } else {
        return perr(e, "42601", "option \"%s\" not recognized", n);
    }
    return 0;
#undef ONCE
}

/* The query of COPY (query) TO as text: the node deparsed alone. */
static char *deparse_query(PgQuery__Node *q) {
    PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
    raw.stmt = q;
    PgQuery__RawStmt *stmts[1] = {&raw};
    PgQuery__ParseResult pr = PG_QUERY__PARSE_RESULT__INIT;
    pr.version = PG_VERSION_NUM;
    pr.n_stmts = 1;
    pr.stmts = stmts;
    size_t len = pg_query__parse_result__get_packed_size(&pr);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return NULL;
    pg_query__parse_result__pack(&pr, buf);
    PgQueryProtobuf pb = {.len = len, .data = (char *)buf};
    PgQueryDeparseResult d = pg_query_deparse_protobuf(pb);
    free(buf);
    char *out = !d.error && d.query ? strdup(d.query) : NULL;
    pg_query_free_deparse_result(d);
    return out;
}

/* Checks the options against each other, and fills the format's defaults, as
 * PostgreSQL's ProcessCopyOptions. */
static int check_options(copy_stmt *s, copy_perr *e) {
    if (s->fmt == CP_BINARY) {
        if (s->has_delim) return perr(e, "42601", "cannot specify DELIMITER in BINARY mode", NULL);
        if (s->has_null) return perr(e, "42601", "cannot specify NULL in BINARY mode", NULL);
        if (s->has_header) return perr(e, "0A000", "cannot specify HEADER in BINARY mode", NULL);
    }
    if (s->fmt != CP_CSV) {
        if (s->has_quote) return perr(e, "0A000", "COPY quote available only in CSV mode", NULL);
        if (s->has_escape) return perr(e, "0A000", "COPY escape available only in CSV mode", NULL);
        if (s->has_fq) return perr(e, "0A000", "COPY force quote available only in CSV mode", NULL);
        if (s->has_fnull) return perr(e, "0A000", "COPY force null available only in CSV mode", NULL);
        if (s->has_fnn) return perr(e, "0A000", "COPY force not null available only in CSV mode", NULL);
    }
    if (s->has_fq && s->from) return perr(e, "0A000", "COPY force quote only available using COPY TO", NULL);
    if ((s->has_fnull || s->has_fnn) && !s->from)
        return perr(e, "0A000", "COPY force not null only available using COPY FROM", NULL);
    if (s->header_match && !s->from) return perr(e, "0A000", "cannot use \"match\" with HEADER in COPY TO", NULL);
    if (!s->has_delim) s->delim = s->fmt == CP_CSV ? ',' : '\t';
    if (!s->has_quote) s->quote = '"';
    if (!s->has_escape) s->escape = s->quote;
    if (!s->null_str && !(s->null_str = strdup(s->fmt == CP_CSV ? "" : "\\N")))
        return perr(e, "53200", "out of memory", NULL);
    if (s->delim == '\n' || s->delim == '\r')
        return perr(e, "22023", "COPY delimiter cannot be newline or carriage return", NULL);
    if (strchr(s->null_str, '\n') || strchr(s->null_str, '\r'))
        return perr(e, "22023", "COPY null representation cannot use newline or carriage return", NULL);
    if (s->fmt == CP_TEXT && strchr("\\.abcdefghijklmnopqrstuvwxyz0123456789", s->delim))
        return perr(e, "22023", "COPY delimiter cannot be \"%s\"", (char[2]){s->delim, 0});
    if (s->fmt == CP_CSV) {
        if (s->delim == s->quote) return perr(e, "22023", "COPY delimiter and quote must be different", NULL);
        if (strchr(s->null_str, s->delim)) return perr(e, "22023", "COPY delimiter must not appear in the NULL specification", NULL);
        if (strchr(s->null_str, s->quote)) return perr(e, "22023", "CSV quote character must not appear in the NULL specification", NULL);
    } else if (s->fmt == CP_TEXT && strchr(s->null_str, s->delim)) {
        return perr(e, "22023", "COPY delimiter must not appear in the NULL specification", NULL);
    }
    return 0;
}

/* Reads a COPY ... FROM STDIN / TO STDOUT statement (database: the one the client is
 * connected to). Returns 0, or -1 with e filled. */
static int parse_copy(const char *sql, size_t len, const char *database, copy_stmt *s, copy_perr *e) {
    memset(s, 0, sizeof *s);
    char *text = strndup(sql, len);
    if (!text) return perr(e, "53200", "out of memory", NULL);
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(text);
    PgQuery__ParseResult *tree = NULL;
    int rc = -1;
    if (pr.error || !pr.parse_tree.data) {
        perr(e, "42601", "syntax error in COPY: %s", pr.error && pr.error->message ? pr.error->message : "");
        goto out;
    }
    tree = pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    if (!tree || tree->n_stmts != 1 || !tree->stmts[0]->stmt ||
        tree->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_COPY_STMT) {
        perr(e, "42601", "syntax error in COPY", NULL);
        goto out;
    }
    PgQuery__CopyStmt *c = tree->stmts[0]->stmt->copy_stmt;
    s->from = c->is_from;
    if (c->is_program || (c->filename && *c->filename)) {
        /* tcop.c sends only STDIN/STDOUT here; the gate refuses files for DuckDB. */
        perr(e, "42501", "COPY to or from a file is not allowed in a workspace", NULL);
        goto out;
    }
    if (c->where_clause) {
        perr(e, "0A000", "COPY FROM ... WHERE is not supported", NULL);
        goto out;
    }
    if (c->relation) {
        /* database.schema.table: the connected database only, as PostgreSQL */
        if (c->relation->catalogname && *c->relation->catalogname && strcmp(c->relation->catalogname, database) != 0) {
            perr(e, "0A000", "cross-database references are not implemented: %s", c->relation->catalogname);
            goto out;
        }
        const char *sch = c->relation->schemaname;
        if (sch && *sch && !strcmp(sch, "public")) sch = "main"; /* the workspace's own schema */
        if ((sch && *sch && !(s->schema = strdup(sch))) || !(s->table = strdup(c->relation->relname ? c->relation->relname : ""))) {
            perr(e, "53200", "out of memory", NULL);
            goto out;
        }
    } else if (c->query) {
        if (s->from) {
            perr(e, "42601", "COPY FROM needs a table", NULL);
            goto out;
        }
        if (!(s->query = deparse_query(c->query))) {
            perr(e, "42601", "the query of COPY cannot be read", NULL);
            goto out;
        }
    }
    if (c->n_attlist && name_list(&(PgQuery__Node){.node_case = PG_QUERY__NODE__NODE_LIST,
                                                   .list = &(PgQuery__List){.n_items = c->n_attlist, .items = c->attlist}},
                                  &s->cols, &s->ncols) != 0) {
        perr(e, "53200", "out of memory", NULL);
        goto out;
    }
    for (int i = 0; i < s->ncols; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(s->cols[i], s->cols[j])) {
                perr(e, "42701", "column \"%s\" specified more than once", s->cols[i]);
                goto out;
            }
    for (size_t i = 0; i < c->n_options; i++) {
        const PgQuery__Node *o = c->options[i];
        if (o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
        if (option(s, o->def_elem, e) != 0) goto out;
    }
    rc = check_options(s, e);
out:
    if (tree) pg_query__parse_result__free_unpacked(tree, NULL);
    pg_query_free_protobuf_parse_result(pr);
    free(text);
    if (rc) stmt_clear(s);
    return rc;
}

/* Index of name in names, or -1. */
static int find_name(char *const *names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcasecmp(names[i], name)) return i;
    return -1;
}

/* ---- COPY TO STDOUT ---- */

/* Per-byte tables of a COPY TO: what a text value's byte is escaped with (0: none),
 * and which bytes make a csv value need quotes. */
typedef struct {
    uint8_t esc[256];
    uint8_t special[256];
} copy_tables;

static void tables_init(copy_tables *t, const copy_stmt *s) {
    memset(t, 0, sizeof *t);
    t->esc[(uint8_t)s->delim] = (uint8_t)s->delim;
    t->esc['\\'] = '\\';
    t->esc['\b'] = 'b', t->esc['\f'] = 'f', t->esc['\n'] = 'n', t->esc['\r'] = 'r', t->esc['\t'] = 't', t->esc['\v'] = 'v';
    t->special[(uint8_t)s->delim] = t->special[(uint8_t)s->quote] = t->special['\n'] = t->special['\r'] = 1;
}

/* A text-format value straight into the open CopyData message; bytes that need no
 * escape are copied in runs. */
static void wb_text_value(wire_wb *w, const char *v, size_t n, const copy_tables *t) {
    uint8_t *d = wire_wb_reserve(w, 2 * n);
    if (!d) return;
    uint8_t *start = d;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !t->esc[(uint8_t)v[j]]) j++;
        memcpy(d, v + i, j - i);
        d += j - i;
        if (j == n) break;
        *d++ = '\\';
        *d++ = t->esc[(uint8_t)v[j]];
        i = j + 1;
    }
    w->len -= 2 * n - (size_t)(d - start);
}

/* A csv value straight into the open CopyData message, quoted when it must be (or
 * force), as PostgreSQL's CopyAttributeOutCSV. */
static void wb_csv_value(wire_wb *w, const char *v, size_t n, const copy_stmt *s, size_t null_len, bool force,
                         const copy_tables *t) {
    bool need = force || (n == null_len && !memcmp(v, s->null_str, n)) || (n == 2 && v[0] == '\\' && v[1] == '.');
    for (size_t i = 0; !need && i < n; i++) need = t->special[(uint8_t)v[i]] != 0;
    if (!need) {
        wire_wb_bytes(w, v, n);
        return;
    }
    uint8_t *d = wire_wb_reserve(w, 2 * n + 2);
    if (!d) return;
    uint8_t *start = d;
    *d++ = (uint8_t)s->quote;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == s->quote || v[i] == s->escape) *d++ = (uint8_t)s->escape;
        *d++ = (uint8_t)v[i];
    }
    *d++ = (uint8_t)s->quote;
    w->len -= 2 * n + 2 - (size_t)(d - start);
}

static void put_be16(pgt_buf *o, int16_t v) {
    uint8_t b[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    pgt_buf_append(o, b, 2);
}
static void put_be32(pgt_buf *o, int32_t v) {
    uint32_t u = (uint32_t)v;
    uint8_t b[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    pgt_buf_append(o, b, 4);
}

/* Sends row (or header/trailer) bytes as one CopyData message. */
static void copy_data(pgx *x, const pgt_buf *b) {
    wire_wb_begin(x->out, PqMsg_CopyData);
    wire_wb_bytes(x->out, b->data, b->len);
    wire_wb_end(x->out);
}

static int copy_to(pgx *x, copy_stmt *s) {
    sb q;
    sb_init(&q);
    if (s->query) {
        sb_append(&q, s->query);
    } else {
        sb_append(&q, "SELECT ");
        for (int i = 0; i < s->ncols; i++) {
            if (i) sb_append(&q, ", ");
            sb_ident(&q, s->cols[i]);
        }
        if (!s->ncols) sb_append(&q, "*");
        sb_append(&q, " FROM ");
        if (s->schema) {
            sb_ident(&q, s->schema);
            sb_append(&q, ".");
        }
        sb_ident(&q, s->table);
    }
    if (sb_failed(&q)) {
        sb_free(&q);
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        return -1;
    }
    pgx_stmt st = {.sql = q.data, .kind = STMT_DUCK};
    if (exec_prepare(x, q.data, EXEC_REPORT | EXEC_MACROS, 0, &st.st, &st.runs, &st.an) != 0) {
        sb_free(&q);
        return -1;
    }
    int rc = -1;
    pgx_portal p = {.stmt = &st};
    bool *fq = NULL;
    pgt_buf row;
    pgt_buf_init(&row);
    if (st.runs != DUCKDB_STATEMENT_TYPE_SELECT) {
        msg_error(x, "ERROR", "0A000", "COPY query must be a SELECT", 0);
        goto out;
    }
    if (portal_start(x, &p) != 0) goto out;
    int nc = p.ncols;
    if (duckdb_result_return_type(p.res) != DUCKDB_RESULT_TYPE_QUERY_RESULT) {
        msg_error(x, "ERROR", "0A000", "COPY query must return rows", 0);
        exec_end_running(x);
        goto out;
    }
    fq = calloc((size_t)(nc ? nc : 1), sizeof *fq);
    if (!fq) {
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        exec_end_running(x);
        goto out;
    }
    for (int i = 0; i < nc; i++) {
        fq[i] = s->force_quote_all;
        if (s->fmt == CP_BINARY && !pgt_col_binary_ok(&p.cols[i])) {
            char m[200];
            snprintf(m, sizeof m, "binary COPY is not supported for column \"%.80s\" of this type: use text or csv",
                     duckdb_column_name(&p.res, (idx_t)i));
            msg_error(x, "ERROR", "0A000", m, 0);
            exec_end_running(x);
            goto out;
        }
    }
    for (int k = 0; k < s->nfq; k++) {
        int found = -1;
        for (int i = 0; i < nc; i++)
            if (!strcasecmp(duckdb_column_name(&p.res, (idx_t)i), s->fq[k])) found = i;
        if (found < 0) {
            char m[200];
            snprintf(m, sizeof m, "FORCE_QUOTE column \"%.100s\" not referenced by COPY", s->fq[k]);
            msg_error(x, "ERROR", "42P10", m, 0);
            exec_end_running(x);
            goto out;
        }
        fq[found] = true;
    }
    /* CopyOutResponse */
    wire_wb_begin(x->out, PqMsg_CopyOutResponse);
    wire_wb_u8(x->out, s->fmt == CP_BINARY ? 1 : 0);
    wire_wb_i16(x->out, (int16_t)nc);
    for (int i = 0; i < nc; i++) wire_wb_i16(x->out, s->fmt == CP_BINARY ? 1 : 0);
    wire_wb_end(x->out);
    if (s->fmt == CP_BINARY) {
        static const uint8_t sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0377, '\r', '\n', 0};
        pgt_buf_append(&row, sig, 11);
        put_be32(&row, 0);
        put_be32(&row, 0); /* goes out with the first row, as PostgreSQL sends it */
    }
    uint64_t n = 0;
    size_t null_len = strlen(s->null_str);
    copy_tables tables;
    tables_init(&tables, s);
    if (s->fmt != CP_BINARY && s->header) { /* the column names, as PostgreSQL names them */
        wire_wb_begin(x->out, PqMsg_CopyData);
        for (int i = 0; i < nc; i++) {
            if (i) wire_wb_u8(x->out, (uint8_t)s->delim);
            const char *pn = pga_colname(&st.an, nc, i);
            const char *nm = pn ? pn : duckdb_column_name(&p.res, (idx_t)i);
            if (s->fmt == CP_CSV) wb_csv_value(x->out, nm, strlen(nm), s, null_len, false, &tables);
            else wb_text_value(x->out, nm, strlen(nm), &tables);
        }
        wire_wb_u8(x->out, '\n');
        wire_wb_end(x->out);
    }
    for (;;) {
        /* A cancel or statement_timeout stops the COPY here too: DuckDB may still hand
         * out chunks it made before the interrupt. */
        int why = atomic_load(&x->cancel_reason);
        if (why == PGX_STOP_USER || why == PGX_STOP_TIMEOUT) {
            msg_error(x, "ERROR", "57014",
                      why == PGX_STOP_USER ? "canceling statement due to user request"
                                           : "canceling statement due to statement timeout", 0);
            exec_end_running(x);
            goto out;
        }
        duckdb_data_chunk ch = duckdb_fetch_chunk(p.res);
        if (!ch) {
            if (duckdb_result_error(&p.res)) {
                portal_result_error(x, &p.res);
                exec_end_running(x);
                goto out;
            }
            break;
        }
        idx_t rows = duckdb_data_chunk_get_size(ch);
        for (int c = 0; c < nc; c++) p.vecs[c] = duckdb_data_chunk_get_vector(ch, (idx_t)c);
        wire_wb *w = x->out;
        for (idx_t r = 0; r < rows; r++) {
            /* one row, one CopyData (the binary header goes with the first) */
            wire_wb_begin(w, PqMsg_CopyData);
            if (row.len) {
                wire_wb_bytes(w, row.data, row.len);
                row.len = 0;
            }
            if (s->fmt == CP_BINARY) wire_wb_i16(w, (int16_t)nc);
            for (int c = 0; c < nc; c++) {
                bool null = pgt_is_null(p.vecs[c], r);
                if (s->fmt == CP_BINARY) {
                    if (null) {
                        wire_wb_i32(w, -1);
                        continue;
                    }
                    x->cell.len = 0;
                    if (pgt_col_format_binary(&p.cols[c], p.vecs[c], r, &x->cell, &x->cell2) != 0) w->failed = true;
                    wire_wb_i32(w, (int32_t)x->cell.len);
                    wire_wb_bytes(w, x->cell.data, x->cell.len);
                    continue;
                }
                if (c) wire_wb_u8(w, (uint8_t)s->delim);
                if (null) {
                    wire_wb_bytes(w, s->null_str, null_len);
                    continue;
                }
                x->cell.len = 0;
                if (pgt_col_format(&p.cols[c], p.vecs[c], r, &x->cell) != 0) w->failed = true;
                if (s->fmt == CP_CSV) wb_csv_value(w, x->cell.data, x->cell.len, s, null_len, fq[c], &tables);
                else wb_text_value(w, x->cell.data, x->cell.len, &tables);
            }
            if (s->fmt != CP_BINARY) wire_wb_u8(w, '\n');
            wire_wb_end(w);
            n++;
        }
        duckdb_destroy_data_chunk(&ch);
        if (x->out->len >= PGX_FLUSH_AT && msg_flush(x) != 0) {
            exec_stop(x, PGX_STOP_DISCONNECTED);
            exec_end_running(x);
            goto out;
        }
    }
    exec_end_running(x);
    if (s->fmt == CP_BINARY) { /* the header too when there was no row */
        put_be16(&row, -1);
        if (!row.data) x->out->failed = true;
        else copy_data(x, &row);
    }
    msg_empty(x, PqMsg_CopyDone);
    char tag[40];
    snprintf(tag, sizeof tag, "COPY %llu", (unsigned long long)n);
    msg_complete(x, tag);
    rc = 0;
out:
    free(fq);
    pgt_buf_free(&row);
    portal_clear_result(x, &p);
    duckdb_destroy_prepare(&st.st);
    pga_result_free(&st.an);
    sb_free(&q);
    return rc;
}

/* ---- COPY FROM STDIN ---- */

static const char *pg_type_name(duckdb_type t) {
    switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "boolean";
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT: return "smallint";
    case DUCKDB_TYPE_INTEGER: return "integer";
    case DUCKDB_TYPE_BIGINT: return "bigint";
    case DUCKDB_TYPE_FLOAT: return "real";
    case DUCKDB_TYPE_DOUBLE: return "double precision";
    case DUCKDB_TYPE_DECIMAL: return "numeric";
    case DUCKDB_TYPE_DATE: return "date";
    case DUCKDB_TYPE_TIME: return "time without time zone";
    case DUCKDB_TYPE_TIMESTAMP: return "timestamp without time zone";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "timestamp with time zone";
    case DUCKDB_TYPE_INTERVAL: return "interval";
    case DUCKDB_TYPE_UUID: return "uuid";
    case DUCKDB_TYPE_BLOB: return "bytea";
    case DUCKDB_TYPE_LIST: return "array";
    default: return "text";
    }
}

static void set_fail(struct pgx_copy *c, const char *state, const char *msg) {
    if (c->fail_state[0]) return;
    snprintf(c->fail_state, sizeof c->fail_state, "%s", state);
    snprintf(c->fail_msg, sizeof c->fail_msg, "%s", msg);
}

/* "COPY t, line N[, column c][: "value"]" for the ErrorResponse's CONTEXT field. */
static void set_context(struct pgx_copy *c, uint64_t line, int col, const char *v, size_t n, bool has_value) {
    char val[140] = "";
    if (has_value) {
        size_t k = n > 100 ? 100 : n;
        /* whole UTF-8 characters only */
        while (k > 0 && k < n && ((unsigned char)v[k] & 0xc0) == 0x80) k--;
        snprintf(val, sizeof val, ": \"%.*s%s\"", (int)k, v, k < n ? "..." : "");
    }
    if (line == 0) snprintf(c->fail_ctx, sizeof c->fail_ctx, "COPY %.100s", c->st.table);
    else if (col >= 0 && col < c->ncols)
        snprintf(c->fail_ctx, sizeof c->fail_ctx, "COPY %.100s, line %llu, column %.100s%s", c->st.table,
                 (unsigned long long)line, c->names[col], val);
    else
        snprintf(c->fail_ctx, sizeof c->fail_ctx, "COPY %.100s, line %llu%s", c->st.table, (unsigned long long)line, val);
}

static uint64_t rd_be(const char *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | (uint8_t)p[i];
    return v;
}

/* A value made by the type codecs (types.h) into the appender; NULL: err says why. */
static int append_made(struct pgx_copy *c, duckdb_value v, const pgt_err *e, const cp_field *f, int col, uint64_t line,
                       bool show_value) {
    if (!v) {
        set_fail(c, e->sqlstate[0] ? e->sqlstate : "22P02", e->msg[0] ? e->msg : "invalid input");
        set_context(c, line, col, f->p, f->n, show_value);
        return -1;
    }
    int rc = duckdb_append_value(c->app, v) == DuckDBSuccess ? 0 : -1;
    duckdb_destroy_value(&v);
    if (rc) {
        char m[200];
        snprintf(m, sizeof m, "value out of range for column \"%.100s\" (%s)", c->names[col], pg_type_name(c->types[col]));
        set_fail(c, "22003", m);
        set_context(c, line, col, f->p, f->n, show_value);
    }
    return rc;
}

static int append_codec(struct pgx_copy *c, int col, const cp_field *f, uint64_t line) {
    pgt_err e = {{0}, {0}};
    duckdb_value v = pgt_binary_in(c->oids[col], (const uint8_t *)f->p, f->n, &e);
    return append_made(c, v, &e, f, col, line, false);
}

/* One binary field: the fixed-size scalars directly, the rest through PostgreSQL's
 * binary receive (pgt_binary_in) by the column's PostgreSQL type. */
static int append_binary(struct pgx_copy *c, int col, const cp_field *f, uint64_t line) {
    duckdb_appender a = c->app;
    const char *p = f->p;
    size_t n = f->n;
    int rc;
    switch (c->types[col]) {
    case DUCKDB_TYPE_BOOLEAN: rc = n == 1 ? (duckdb_append_bool(a, p[0] != 0) ? -1 : 0) : -1; break;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: {
        /* int2, int4 or int8 on the wire: any of them fits the column or is refused */
        if (n != 2 && n != 4 && n != 8) {
            rc = -1;
            break;
        }
        int64_t v = n == 2 ? (int16_t)rd_be(p, 2) : n == 4 ? (int32_t)rd_be(p, 4) : (int64_t)rd_be(p, 8);
        rc = duckdb_append_int64(a, v) ? -1 : 0;
        break;
    }
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_FLOAT:
        if (n == 4) {
            uint32_t u = (uint32_t)rd_be(p, 4);
            float fl;
            memcpy(&fl, &u, 4);
            rc = duckdb_append_double(a, fl) ? -1 : 0;
        } else if (n == 8) {
            uint64_t u = rd_be(p, 8);
            double d;
            memcpy(&d, &u, 8);
            rc = duckdb_append_double(a, d) ? -1 : 0;
        } else {
            rc = -1;
        }
        break;
    case DUCKDB_TYPE_VARCHAR:
        if (c->oids[col] == 25 || c->oids[col] == 1043) {
            rc = duckdb_append_varchar_length(a, p, n) ? -1 : 0;
            break;
        }
        return append_codec(c, col, f, line); /* json and others */
    default:
        return append_codec(c, col, f, line);
    case DUCKDB_TYPE_BLOB: rc = duckdb_append_blob(a, p, n) ? -1 : 0; break;
    }
    if (rc) {
        set_fail(c, "22P03", "incorrect binary data format");
        set_context(c, line, col, NULL, 0, false);
    }
    return rc;
}

/* Whether DuckDB's cast of text to t reads it as PostgreSQL would: numbers, strings,
 * uuids, and dates and timestamps written as digits (not 'epoch', 'today', BC, ...). */
static bool duckdb_cast_agrees(duckdb_type t, const char *p, size_t n) {
    switch (t) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_UUID:
        return true;
    case DUCKDB_TYPE_DECIMAL: /* NaN and infinity need PostgreSQL's clear error */
        return n > 0 && (p[0] == '-' || p[0] == '+' || p[0] == '.' || (p[0] >= '0' && p[0] <= '9'));
    case DUCKDB_TYPE_DATE:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIME:
        if (n < 8 || p[0] < '0' || p[0] > '9') return false;
        for (size_t i = 0; i < n; i++) {
            char ch = p[i];
            if (!((ch >= '0' && ch <= '9') || ch == '-' || ch == ':' || ch == '.' || ch == ' ' || ch == 'T')) return false;
        }
        return true;
    default:
        return false;
    }
}

/* One cell into the appender: THE conversion of COPY FROM. Text goes through DuckDB's
 * cast (as fast as DuckDB's own CSV reader) where it reads text as PostgreSQL does, and
 * through PostgreSQL's input syntax (pgt_text_in) elsewhere: bytea, bool spellings,
 * arrays, intervals, timestamptz in the session's TimeZone, infinity, numeric NaN. */
/* Plain decimal digits with an optional sign into *v; false for anything else
 * (spaces, overflow, ...), which DuckDB's cast then reads or refuses. */
static bool plain_int(const char *p, size_t n, int64_t *v) {
    size_t i = 0;
    bool neg = false;
    if (n && (p[0] == '-' || p[0] == '+')) neg = p[i++] == '-';
    if (i == n || n - i > 18) return false;
    int64_t r = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (d > 9) return false;
        r = r * 10 + (int64_t)d;
    }
    *v = neg ? -r : r;
    return true;
}

/* YYYY-MM-DD (years 1..9999) into days since 1970-01-01; false otherwise. */
static bool plain_date(const char *p, size_t n, int32_t *days) {
    if (n != 10 || p[4] != '-' || p[7] != '-') return false;
    int v[8];
    static const int at[8] = {0, 1, 2, 3, 5, 6, 8, 9};
    for (int i = 0; i < 8; i++) {
        v[i] = p[at[i]] - '0';
        if (v[i] < 0 || v[i] > 9) return false;
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap)) return false;
    /* days from civil (Howard Hinnant's algorithm) */
    int yy = m <= 2 ? y - 1 : y;
    int era = yy / 400, yoe = yy - era * 400, mp = (m + 9) % 12;
    int doy = (153 * mp + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *days = era * 146097 + doe - 719468;
    return true;
}

/* The commonest cells without a cast: integers and plain dates. 1 appended, 0 not
 * handled here, -1 the append failed. */
static int append_plain(struct pgx_copy *c, duckdb_type t, const char *p, size_t n) {
    int64_t v;
    int32_t d;
    switch (t) {
    case DUCKDB_TYPE_BIGINT:
        if (!plain_int(p, n, &v)) return 0;
        return duckdb_append_int64(c->app, v) == DuckDBSuccess ? 1 : -1;
    case DUCKDB_TYPE_INTEGER:
        if (!plain_int(p, n, &v) || v < INT32_MIN || v > INT32_MAX) return 0;
        return duckdb_append_int32(c->app, (int32_t)v) == DuckDBSuccess ? 1 : -1;
    case DUCKDB_TYPE_DATE:
        if (!plain_date(p, n, &d)) return 0;
        return duckdb_append_date(c->app, (duckdb_date){d}) == DuckDBSuccess ? 1 : -1;
    default:
        return 0;
    }
}

static int copy_cell(struct pgx_copy *c, int col, const cp_field *f, uint64_t line) {
    if (f->null) return duckdb_append_null(c->app) == DuckDBSuccess ? 0 : -1;
    if (c->st.fmt == CP_BINARY) return append_binary(c, col, f, line);
    duckdb_type t = c->types[col];
    int pr = append_plain(c, t, f->p, f->n);
    if (pr == 1) return 0;
    if (pr < 0) {
        set_fail(c, "22P02", "invalid input");
        set_context(c, line, col, f->p, f->n, true);
        return -1;
    }
    if (t == DUCKDB_TYPE_VARCHAR) {
        if (duckdb_append_varchar_length(c->app, f->p, f->n) == DuckDBSuccess) return 0;
        set_fail(c, "22021", "invalid byte sequence for encoding \"UTF8\"");
        set_context(c, line, col, NULL, 0, false);
        return -1;
    }
    if (duckdb_cast_agrees(t, f->p, f->n)) {
        if (duckdb_append_varchar_length(c->app, f->p, f->n) == DuckDBSuccess) return 0;
        char m[260];
        size_t k = f->n > 100 ? 100 : f->n;
        snprintf(m, sizeof m, "invalid input syntax for type %s: \"%.*s%s\"", pg_type_name(t), (int)k, f->p,
                 k < f->n ? "..." : "");
        set_fail(c, "22P02", m);
        set_context(c, line, col, f->p, f->n, true);
        return -1;
    }
    pgt_err e = {{0}, {0}};
    duckdb_value v = pgt_text_in_tz(c->oids[col], f->p, f->n, c->x->tz, &e);
    return append_made(c, v, &e, f, col, line, true);
}

static bool copy_interrupted(pgx *x);

/* When the appender's last error is a constraint violation (found when it flushes rows
 * into the table: NOT NULL, PRIMARY KEY, UNIQUE, CHECK), makes it the COPY's error, with
 * PostgreSQL's SQLSTATE; the row is not known then. */
static bool constraint_error(struct pgx_copy *c) {
    duckdb_error_data ed = duckdb_appender_error_data(c->app);
    bool is = ed && duckdb_error_data_error_type(ed) == DUCKDB_ERROR_CONSTRAINT;
    if (is) {
        ds_err e;
        ds_err_clear(&e);
        const char *m = duckdb_error_data_message(ed);
        if (m && !strncmp(m, "Failed to append: ", 18)) m += 18;
        dberr_fail(&e, DS_E_INVALID_REQUEST, DUCKDB_ERROR_CONSTRAINT, m ? m : "constraint violation");
        c->fail_state[0] = 0;
        set_fail(c, e.sqlstate[0] ? e.sqlstate : "23000", e.message);
        set_context(c, 0, -1, NULL, 0, false);
    }
    if (ed) duckdb_destroy_error_data(&ed);
    return is;
}

/* An append failed: when the size guard, a cancel or statement_timeout interrupted the
 * connection meanwhile (DuckDB then fails the appender's flush), that is the error to
 * report, not the value. Returns -1. */
static int interrupted_instead(struct pgx_copy *c, uint64_t line) {
    char state[6], msg[sizeof c->fail_msg], ctx[sizeof c->fail_ctx];
    memcpy(state, c->fail_state, sizeof state);
    memcpy(msg, c->fail_msg, sizeof msg);
    memcpy(ctx, c->fail_ctx, sizeof ctx);
    c->fail_state[0] = 0;
    if (copy_interrupted(c->x)) {
        set_context(c, line, -1, NULL, 0, false);
    } else if (constraint_error(c)) {
        /* the append flushed earlier rows, and one of them broke a constraint */
    } else {
        memcpy(c->fail_state, state, sizeof state);
        memcpy(c->fail_msg, msg, sizeof msg);
        memcpy(c->fail_ctx, ctx, sizeof ctx);
    }
    return -1;
}

/* The parser's callback: one row into the appender, or the header checked. */
static int on_row(void *ud, const cp_row *r) {
    struct pgx_copy *c = ud;
    if (r->header) {
        for (int i = 0; i < r->n || i < c->ncols; i++) {
            char m[300];
            if (i >= r->n || i >= c->ncols) {
                snprintf(m, sizeof m, "wrong number of fields in header line: field count is %d, expected %d", r->n,
                         c->ncols);
            } else if (r->f[i].n != strlen(c->names[i]) || memcmp(r->f[i].p, c->names[i], r->f[i].n) != 0) {
                snprintf(m, sizeof m, "column name mismatch in header line field %d: got \"%.*s\", expected \"%.100s\"",
                         i + 1, (int)(r->f[i].n > 100 ? 100 : r->f[i].n), r->f[i].p, c->names[i]);
            } else {
                continue;
            }
            set_fail(c, "22P04", m);
            set_context(c, r->line, -1, r->raw, r->raw_n, true);
            return -1;
        }
        return 0;
    }
    for (int i = 0; i < r->n; i++)
        if (copy_cell(c, i, &r->f[i], r->line) != 0) return interrupted_instead(c, r->line);
    if (duckdb_appender_end_row(c->app) == DuckDBError) {
        set_fail(c, "22P02", "invalid row");
        set_context(c, r->line, -1, NULL, 0, false);
        return interrupted_instead(c, r->line);
    }
    return 0;
}

static void copy_free(struct pgx_copy *c) {
    if (!c) return;
    if (c->app) duckdb_appender_destroy(&c->app);
    cp_free(c->cp);
    names_free(c->names, c->ncols);
    free(c->types);
    free(c->oids);
    free(c->force_null);
    free(c->force_not_null);
    free(c->rest);
    stmt_clear(&c->st);
    free(c);
}

/* Ends COPY FROM: ok commits (in autocommit) and answers "COPY n"; else the rows go
 * (ROLLBACK, or the transaction block fails) and the error is sent. Then what follows
 * in the protocol: the rest of the script and ReadyForQuery (simple), or nothing until
 * Sync (extended, after an error). */
static void copy_end(pgx *x, bool ok) {
    struct pgx_copy *c = x->copy;
    x->copy = NULL;
    uint64_t n = c->cp ? cp_rows(c->cp) : 0;
    if (ok && c->app && duckdb_appender_close(c->app) == DuckDBError) {
        ok = false;
        if (!copy_interrupted(x) && !constraint_error(c)) {
            duckdb_error_data ed = duckdb_appender_error_data(c->app);
            ds_err e;
            ds_err_clear(&e);
            const char *m = ed ? duckdb_error_data_message(ed) : NULL;
            if (m && !strncmp(m, "Failed to append: ", 18)) m += 18;
            dberr_fail(&e, DS_E_INVALID_REQUEST, ed ? duckdb_error_data_error_type(ed) : DUCKDB_ERROR_INVALID,
                       m ? m : "COPY failed");
            if (ed) duckdb_destroy_error_data(&ed);
            set_fail(c, e.sqlstate[0] ? e.sqlstate : ds_code_sqlstate(e.code), e.message);
            set_context(c, 0, -1, NULL, 0, false);
        }
    }
    if (c->app) duckdb_appender_destroy(&c->app);
    exec_copy_running(x, false);
    if (ok && c->own_tx && exec_sql(x, "COMMIT", 0, NULL) != 0) {
        ok = false;
        set_fail(c, "40001", "could not commit the COPY");
    }
    if (ok) {
        char tag[40];
        snprintf(tag, sizeof tag, "COPY %llu", (unsigned long long)n);
        msg_complete(x, tag);
    } else {
        if (c->own_tx) exec_sql(x, "ROLLBACK", 0, NULL);
        else if (x->tx == PqTrans_InBlock) x->tx = PqTrans_Failed;
        msg_error_context(x, c->fail_state[0] ? c->fail_state : "XX000", c->fail_msg[0] ? c->fail_msg : "COPY failed",
                  c->fail_ctx);
    }
    if (c->extended) {
        if (!ok) x->ext_error = true;
    } else if (ok && c->rest) {
        char *rest = c->rest;
        c->rest = NULL;
        copy_free(c);
        simple_query(x, rest, strlen(rest));
        free(rest);
        return;
    } else {
        exec_ready(x);
    }
    copy_free(c);
}

/* Whether the COPY must stop now: a cancel, statement_timeout, the size guard. */
static bool copy_interrupted(pgx *x) {
    struct pgx_copy *c = x->copy;
    if (exec_size_stopped(x)) {
        char m[200];
        snprintf(m, sizeof m, "workspace size limit exceeded: the COPY was stopped when the workspace grew past its size "
                              "limit of %lld GB", (long long)(x->size_limit_bytes >> 30));
        set_fail(c, "53100", m);
        return true;
    }
    int why = atomic_load(&x->cancel_reason);
    if (why == PGX_STOP_TIMEOUT) set_fail(c, "57014", "canceling statement due to statement timeout");
    else if (why != PGX_STOP_NONE) set_fail(c, "57014", "canceling statement due to user request");
    else return false;
    return true;
}

static void parse_failed(struct pgx_copy *c, const cp_err *e) {
    if (c->fail_state[0]) return; /* the callback's own error */
    char m[260];
    if (!strcmp(e->msg, "missing data for column") && e->col >= 0 && e->col < c->ncols)
        snprintf(m, sizeof m, "missing data for column \"%.100s\"", c->names[e->col]);
    else
        snprintf(m, sizeof m, "%s", e->msg);
    set_fail(c, e->sqlstate, m);
    bool whole = !strcmp(e->msg, "missing data for column") || e->col < 0;
    set_context(c, e->line, whole ? -1 : e->col, e->value, strlen(e->value), e->has_value);
}

int copy_message(pgx *x, char type, const uint8_t *body, size_t len) {
    struct pgx_copy *c = x->copy;
    cp_err e;
    switch (type) {
    case PqMsg_CopyData:
        if (copy_interrupted(x)) break;
        if (cp_feed(c->cp, body, len, &e) != 0) {
            parse_failed(c, &e);
            break;
        }
        return 0;
    case PqMsg_CopyDone:
        if (copy_interrupted(x)) break;
        if (cp_finish(c->cp, &e) != 0) {
            parse_failed(c, &e);
            break;
        }
        copy_end(x, true);
        return 0;
    case PqMsg_CopyFail: {
        char m[300];
        const char *why = len > 0 && memchr(body, 0, len) ? (const char *)body : "";
        snprintf(m, sizeof m, "COPY from stdin failed: %.200s", why);
        set_fail(c, "57014", m);
        break;
    }
    case PqMsg_Flush:
    case PqMsg_Sync:
        return 0; /* ignored during COPY, as PostgreSQL does */
    default: {
        /* PostgreSQL: the ERROR, then FATAL as the protocol is out of step. */
        char m[100];
        snprintf(m, sizeof m, "unexpected message type 0x%02X during COPY from stdin", (unsigned char)type);
        char ctx[160];
        snprintf(ctx, sizeof ctx, "COPY %.100s, line %llu", c->st.table, (unsigned long long)cp_line(c->cp) + 1);
        msg_error_context(x, "08P01", m, ctx);
        copy_abort(x);
        msg_error(x, "FATAL", "08P01", "terminating connection because protocol synchronization was lost", 0);
        return -1;
    }
    }
    if (!c->fail_ctx[0]) /* as PostgreSQL: the line it was about to read */
        set_context(c, cp_line(c->cp) + 1, -1, NULL, 0, false);
    copy_end(x, false);
    return 0;
}

void copy_abort(pgx *x) {
    if (!x->copy) return;
    struct pgx_copy *c = x->copy;
    x->copy = NULL;
    if (c->app) duckdb_appender_destroy(&c->app);
    exec_copy_running(x, false);
    if (c->own_tx) exec_sql(x, "ROLLBACK", 0, NULL);
    copy_free(c);
}

static int copy_from(pgx *x, copy_stmt *s, bool extended) {
    struct pgx_copy *c = calloc(1, sizeof *c);
    if (!c) {
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        return -1;
    }
    c->st = *s;
    memset(s, 0, sizeof *s);
    c->x = x;
    c->extended = extended;
    if (x->tx == PqTrans_Idle) {
        if (exec_sql(x, "BEGIN TRANSACTION", EXEC_REPORT, NULL) != 0) goto fail;
        c->own_tx = true;
    }
    ds_err e;
    ds_err_clear(&e);
    if (exec_appender_open(x, c->st.schema, c->st.table, (const char *const *)c->st.cols, c->st.ncols, &c->app, &c->names,
                           &c->ncols, &e) != 0) {
        if (e.code != 0 || e.message[0]) msg_error_from(x, &e, 0);
        goto fail;
    }
    exec_note_write(x); /* rows go into an open transaction block: savepoint.c must know */
    c->types = calloc((size_t)c->ncols + 1, sizeof *c->types);
    c->oids = calloc((size_t)c->ncols + 1, sizeof *c->oids);
    c->force_null = calloc((size_t)c->ncols + 1, sizeof *c->force_null);
    c->force_not_null = calloc((size_t)c->ncols + 1, sizeof *c->force_not_null);
    if (!c->types || !c->oids || !c->force_null || !c->force_not_null) goto oom;
    for (int i = 0; i < c->ncols; i++) {
        duckdb_logical_type lt = duckdb_appender_column_type(c->app, (idx_t)i);
        c->types[i] = lt ? duckdb_get_type_id(lt) : DUCKDB_TYPE_VARCHAR;
        c->oids[i] = lt ? pgt_oid(lt) : 25;
        if (lt) duckdb_destroy_logical_type(&lt);
    }
    for (int pass = 0; pass < 2; pass++) {
        char **l = pass ? c->st.fnn : c->st.fnull;
        int nl = pass ? c->st.nfnn : c->st.nfnull;
        for (int k = 0; k < nl; k++) {
            int i = find_name(c->names, c->ncols, l[k]);
            if (i < 0) {
                char m[200];
                snprintf(m, sizeof m, "%s column \"%.100s\" not referenced by COPY", pass ? "FORCE_NOT_NULL" : "FORCE_NULL",
                         l[k]);
                msg_error(x, "ERROR", "42P10", m, 0);
                goto fail;
            }
            (pass ? c->force_not_null : c->force_null)[i] = true;
        }
    }
    if (c->ncols == 0) {
        msg_error(x, "ERROR", "0A000", "COPY FROM into a table without columns is not supported", 0);
        goto fail;
    }
    cp_opts o = {
        .format = c->st.fmt,
        .ncols = c->ncols,
        .delim = c->st.delim,
        .quote = c->st.quote,
        .escape = c->st.escape,
        .null_str = c->st.null_str,
        .null_len = strlen(c->st.null_str),
        .header = c->st.header,
        .header_match = c->st.header_match,
        .force_null = c->force_null,
        .force_not_null = c->force_not_null,
        .max_row = COPY_ROW_MAX,
    };
    if (!(c->cp = cp_new(&o, on_row, c))) goto oom;
    /* CopyInResponse: overall format, then each column's */
    wire_wb_begin(x->out, PqMsg_CopyInResponse);
    wire_wb_u8(x->out, c->st.fmt == CP_BINARY ? 1 : 0);
    wire_wb_i16(x->out, (int16_t)c->ncols);
    for (int i = 0; i < c->ncols; i++) wire_wb_i16(x->out, c->st.fmt == CP_BINARY ? 1 : 0);
    wire_wb_end(x->out);
    x->copy = c;
    exec_copy_running(x, true);
    return 1;
oom:
    msg_error(x, "ERROR", "53200", "out of memory", 0);
fail:
    if (c->app) duckdb_appender_destroy(&c->app);
    if (c->own_tx) exec_sql(x, "ROLLBACK", 0, NULL);
    copy_free(c);
    return -1;
}

int copy_statement(pgx *x, const char *sql, size_t len, bool extended) {
    copy_stmt s;
    copy_perr pe;
    if (parse_copy(sql, len, x->database, &s, &pe) != 0) {
        msg_error(x, "ERROR", pe.state, pe.msg, 0);
        return -1;
    }
    if (s.from) return copy_from(x, &s, extended);
    int rc = copy_to(x, &s);
    stmt_clear(&s);
    return rc < 0 ? -1 : 1;
}

void copy_set_rest(pgx *x, const char *rest) {
    if (x->copy && !x->copy->rest) x->copy->rest = strdup(rest); /* out of memory: the rest is dropped */
}
