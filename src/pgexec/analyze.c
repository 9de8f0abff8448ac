/* analyze.c - one parse of each statement with PostgreSQL's parser: its kind, the names
 * PostgreSQL gives its result columns, and (through rewrite.c) the text DuckDB runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/pgtree.h"
#include "pgexec/quick.h"

const char *pgt_sval(const PgQuery__Node *n) {
    return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ? n->string->sval : NULL;
}

void pga_result_free(pga_result *r) {
    if (!r) return;
    free(r->sql);
    for (int i = 0; i < r->ncols; i++) free(r->colnames[i]);
    free(r->colnames);
    memset(r, 0, sizeof *r);
    r->ncols = -1;
}

void pga_thread_exit(void) { pg_query_exit(); }

/* ---- statement kind ---- */

static pga_kind kind_of(const PgQuery__Node *n) {
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        return n->select_stmt->into_clause ? PGA_CREATE_TABLE_AS : PGA_SELECT;
    case PG_QUERY__NODE__NODE_INSERT_STMT: return PGA_INSERT;
    case PG_QUERY__NODE__NODE_UPDATE_STMT: return PGA_UPDATE;
    case PG_QUERY__NODE__NODE_DELETE_STMT: return PGA_DELETE;
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT: return PGA_CREATE_TABLE_AS;
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT: return PGA_TRANSACTION;
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: return PGA_SET;
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT: return PGA_SHOW;
    case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
    case PG_QUERY__NODE__NODE_FETCH_STMT:
    case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT: return PGA_CURSOR;
    case PG_QUERY__NODE__NODE_COPY_STMT: return PGA_COPY;
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT: return PGA_EXPLAIN;
    default: return PGA_OTHER;
    }
}

/* ---- result column names: PostgreSQL's FigureColname (parse_target.c) ---- */

static const char *last_sval(PgQuery__Node **l, size_t n) {
    const char *s = NULL;
    for (size_t i = 0; i < n; i++)
        if (pgt_sval(l[i])) s = pgt_sval(l[i]);
    return s;
}

static const PgQuery__SelectStmt *leftmost(const PgQuery__SelectStmt *s) {
    while (s && s->op != PG_QUERY__SET_OPERATION__SETOP_NONE && s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED &&
           s->larg)
        s = s->larg;
    return s;
}

static int figure(const PgQuery__Node *n, const char **name, int depth);

static int first_target_name(const PgQuery__SelectStmt *s, const char **name, int depth) {
    s = leftmost(s);
    if (!s || s->n_target_list == 0 || s->target_list[0]->node_case != PG_QUERY__NODE__NODE_RES_TARGET) return 0;
    const PgQuery__ResTarget *rt = s->target_list[0]->res_target;
    if (rt->name && rt->name[0]) {
        *name = rt->name;
        return 2;
    }
    if (figure(rt->val, name, depth + 1) == 0) *name = "?column?";
    return 2;
}

/* Returns PostgreSQL's strength (0 none, 1 a type name, 2 a real name) and sets *name. */
static int figure(const PgQuery__Node *n, const char **name, int depth) {
    if (!n || depth > 64) return 0;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
        const char *s = last_sval(n->column_ref->fields, n->column_ref->n_fields);
        if (!s) return 0;
        *name = s;
        return 2;
    }
    case PG_QUERY__NODE__NODE_A_INDIRECTION: {
        const char *s = last_sval(n->a_indirection->indirection, n->a_indirection->n_indirection);
        if (s) {
            *name = s;
            return 2;
        }
        return figure(n->a_indirection->arg, name, depth + 1);
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        const char *s = last_sval(n->func_call->funcname, n->func_call->n_funcname);
        if (!s) return 0;
        *name = s;
        return 2;
    }
    case PG_QUERY__NODE__NODE_A_EXPR:
        if (n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF) {
            *name = "nullif";
            return 2;
        }
        return 0;
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
        int st = figure(n->type_cast->arg, name, depth + 1);
        if (st <= 1 && n->type_cast->type_name) {
            const char *s = last_sval(n->type_cast->type_name->names, n->type_cast->type_name->n_names);
            if (s) {
                *name = s;
                return 1;
            }
        }
        return st;
    }
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE: return figure(n->collate_clause->arg, name, depth + 1);
    case PG_QUERY__NODE__NODE_GROUPING_FUNC: *name = "grouping"; return 2;
    case PG_QUERY__NODE__NODE_SUB_LINK:
        switch (n->sub_link->sub_link_type) {
        case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK: *name = "exists"; return 2;
        case PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK: *name = "array"; return 2;
        case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK:
            if (n->sub_link->subselect && n->sub_link->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
                return first_target_name(n->sub_link->subselect->select_stmt, name, depth);
            return 0;
        default: return 0;
        }
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
        int st = figure(n->case_expr->defresult, name, depth + 1);
        if (st <= 1) {
            *name = "case";
            return 1;
        }
        return st;
    }
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR: *name = "array"; return 2;
    case PG_QUERY__NODE__NODE_ROW_EXPR: *name = "row"; return 2;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR: *name = "coalesce"; return 2;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        *name = n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "greatest" : "least";
        return 2;
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
        static const char *names[] = {NULL, "current_date", "current_time", "current_time", "current_timestamp",
                                      "current_timestamp", "localtime", "localtime", "localtimestamp", "localtimestamp",
                                      "current_role", "current_user", "user", "session_user", "current_catalog",
                                      "current_schema"};
        unsigned op = (unsigned)n->sqlvalue_function->op;
        if (op == 0 || op >= sizeof names / sizeof names[0]) return 0;
        *name = names[op];
        return 2;
    }
    case PG_QUERY__NODE__NODE_XML_SERIALIZE: *name = "xmlserialize"; return 2;
    default: return 0;
    }
}

static bool is_star(const PgQuery__Node *v) {
    if (!v || v->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return false;
    const PgQuery__ColumnRef *c = v->column_ref;
    return c->n_fields > 0 && c->fields[c->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
}

/* Fills r->colnames from a target list (SELECT's or RETURNING's). */
static int names_of_targets(pga_result *r, PgQuery__Node **tl, size_t n) {
    r->colnames = calloc(n ? n : 1, sizeof *r->colnames);
    if (!r->colnames) return -1;
    r->ncols = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (tl[i]->node_case != PG_QUERY__NODE__NODE_RES_TARGET) continue;
        const PgQuery__ResTarget *rt = tl[i]->res_target;
        if (is_star(rt->val)) continue;
        const char *name = rt->name && rt->name[0] ? rt->name : NULL;
        if (!name && figure(rt->val, &name, 0) == 0) name = "?column?";
        if (!(r->colnames[i] = strdup(name))) return -1;
    }
    return 0;
}

static int names_of_values(pga_result *r, const PgQuery__SelectStmt *s) {
    const PgQuery__Node *first = s->values_lists[0];
    size_t n = first->node_case == PG_QUERY__NODE__NODE_LIST ? first->list->n_items : 0;
    r->colnames = calloc(n ? n : 1, sizeof *r->colnames);
    if (!r->colnames) return -1;
    r->ncols = (int)n;
    for (size_t i = 0; i < n; i++) {
        char b[24];
        snprintf(b, sizeof b, "column%zu", i + 1);
        if (!(r->colnames[i] = strdup(b))) return -1;
    }
    return 0;
}

static int result_names(pga_result *r, const PgQuery__Node *st) {
    switch (st->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT: {
        const PgQuery__SelectStmt *s = leftmost(st->select_stmt);
        if (!s || st->select_stmt->into_clause) return 0;
        if (s->n_values_lists > 0) return names_of_values(r, s);
        return names_of_targets(r, s->target_list, s->n_target_list);
    }
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        return st->insert_stmt->n_returning_list
                   ? names_of_targets(r, st->insert_stmt->returning_list, st->insert_stmt->n_returning_list)
                   : 0;
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        return st->update_stmt->n_returning_list
                   ? names_of_targets(r, st->update_stmt->returning_list, st->update_stmt->n_returning_list)
                   : 0;
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        return st->delete_stmt->n_returning_list
                   ? names_of_targets(r, st->delete_stmt->returning_list, st->delete_stmt->n_returning_list)
                   : 0;
    default: return 0;
    }
}

const char *pga_colname(const pga_result *r, int ncols, int i) {
    if (!r || r->ncols <= 0 || i < 0 || i >= ncols) return NULL;
    int stars = 0;
    for (int k = 0; k < r->ncols; k++) stars += r->colnames[k] == NULL;
    int fixed = r->ncols - stars;
    /* Without a '*' the counts must agree; with one, it stands for the difference. With
     * more, which column belongs to which is unknown: DuckDB's names stand. */
    if ((stars == 0 && ncols != r->ncols) || stars > 1 || ncols < fixed) return NULL;
    int width = ncols - fixed; /* columns the one '*' expands to */
    int pos = 0;
    for (int k = 0; k < r->ncols; k++) {
        int span = r->colnames[k] ? 1 : width;
        if (i < pos + span) return r->colnames[k];
        pos += span;
    }
    return NULL;
}

/* ---- the analysis ---- */

int pga_analyze(const char *sql, size_t len, const pga_session *ss, pga_result *out) {
    int q = pga_quick(sql, len, out);
    if (q != 0) return q < 0 ? -1 : 0;
    return pga_analyze_full(sql, len, ss, out);
}

int pga_analyze_full(const char *sql, size_t len, const pga_session *ss, pga_result *out) {
    memset(out, 0, sizeof *out);
    out->ncols = -1;
    char *text = malloc(len + 1);
    if (!text) return -1;
    memcpy(text, sql, len);
    text[len] = '\0';
    /* An embedded NUL would make the parser see less than DuckDB does: not analysed. */
    if (strlen(text) != len) {
        free(text);
        return 0;
    }
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(text);
    int rc = 0;
    if (pr.error || !pr.parse_tree.data) goto done;
    PgQuery__ParseResult *tree =
        pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
    if (!tree) goto done;
    /* One statement: callers split scripts; anything else is left to DuckDB as written. */
    if (tree->n_stmts != 1 || !tree->stmts[0]->stmt) goto free_tree;
    const PgQuery__Node *st = tree->stmts[0]->stmt;
    out->kind = kind_of(st);
    if (result_names(out, st) != 0) {
        rc = -1;
        goto free_tree;
    }
    if (pga_rewrite(tree, text, ss, &out->rules) != 0) {
        rc = -1;
        goto free_tree;
    }
    if (out->rules) {
        size_t plen = pg_query__parse_result__get_packed_size(tree);
        uint8_t *buf = malloc(plen ? plen : 1);
        if (!buf) {
            rc = -1;
            goto free_tree;
        }
        pg_query__parse_result__pack(tree, buf);
        PgQueryProtobuf pb = {.len = plen, .data = (char *)buf};
        PgQueryDeparseResult d = pg_query_deparse_protobuf(pb);
        free(buf);
        if (d.error || !d.query) {
            /* The deparser cannot print what a rule made: DuckDB gets the input. */
            out->rules = 0;
        } else if (!(out->sql = strdup(d.query))) {
            rc = -1;
        }
        pg_query_free_deparse_result(d);
    }
free_tree:
    pg_query__parse_result__free_unpacked(tree, NULL);
done:
    pg_query_free_protobuf_parse_result(pr);
    free(text);
    if (rc) pga_result_free(out);
    return rc;
}

int pga_savepoint_name(const char *sql, size_t len, char name[64]) {
    name[0] = '\0';
    char *text = malloc(len + 1);
    if (!text) return -1;
    memcpy(text, sql, len);
    text[len] = '\0';
    int rc = 0;
    if (strlen(text) != len) goto out;
    PgQueryProtobufParseResult pr = pg_query_parse_protobuf(text);
    if (!pr.error && pr.parse_tree.data) {
        PgQuery__ParseResult *tree =
            pg_query__parse_result__unpack(NULL, pr.parse_tree.len, (const uint8_t *)pr.parse_tree.data);
        if (!tree) {
            rc = -1;
        } else {
            const PgQuery__Node *st = tree->n_stmts == 1 ? tree->stmts[0]->stmt : NULL;
            const PgQuery__TransactionStmt *ts =
                st && st->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT ? st->transaction_stmt : NULL;
            if (ts && ts->savepoint_name && *ts->savepoint_name &&
                (ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT ||
                 ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE ||
                 ts->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO)) {
                snprintf(name, 64, "%s", ts->savepoint_name);
                rc = 1;
            }
            pg_query__parse_result__free_unpacked(tree, NULL);
        }
    }
    pg_query_free_protobuf_parse_result(pr);
out:
    free(text);
    return rc;
}
