/* extended.c - the extended query protocol: Parse, Bind (with binary parameters),
 * Describe, Execute, Close, Sync and Flush. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgexec/internal.h"
#include "util/sqlscan.h"
#include "util/str.h"

static int protocol_error(pgx *x, const char *what) {
    char m[128];
    snprintf(m, sizeof m, "invalid %s message", what);
    msg_error(x, "ERROR", "08P01", m, 0);
    return -1;
}

typedef struct {
    int count;
    size_t first_start, first_len;
} count_ctx;

static void count_one(void *ud, size_t start, size_t n) {
    count_ctx *c = ud;
    if (c->count++ == 0) {
        c->first_start = start;
        c->first_len = n;
    }
}

static bool unresolved(pgx_stmt *t) { return t->unresolved; }

/* Judged at Parse: once a value is bound, DuckDB reports the value's type instead. */
static bool params_unresolved(duckdb_prepared_statement st) {
    for (idx_t i = 1; i <= duckdb_nparams(st); i++)
        if (duckdb_param_type(st, i) == DUCKDB_TYPE_INVALID) return true;
    return false;
}

/* The type a cast in the client's SQL gives parameter $n ("$1::oid[]", "$2::integer"),
 * as PostgreSQL infers it; 0 when there is no such cast. The catalogs' compat layer
 * rewrites some types (oid becomes bigint), so DuckDB's inferred type alone would tell
 * asyncpg int8[] where PostgreSQL says oid[], and asyncpg then introspects int8[] with
 * the same query, forever. */
static uint32_t param_cast_oid(const char *sql, int n) {
    char tag[16];
    int tl = snprintf(tag, sizeof tag, "$%d", n);
    for (const char *p = strstr(sql, tag); p; p = strstr(p + 1, tag)) {
        const char *q = p + tl;
        if (*q >= '0' && *q <= '9') continue;
        while (*q == ' ') q++;
        if (q[0] != ':' || q[1] != ':') continue;
        q += 2;
        while (*q == ' ') q++;
        const char *name = q;
        while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_' || *q == '.') q++;
        uint32_t oid = pgt_oid_by_name(name, (size_t)(q - name));
        if (!oid) continue;
        while (*q == ' ') q++;
        if (q[0] == '[' && q[1] == ']') oid = pgt_array_oid(oid);
        if (oid) return oid;
    }
    return 0;
}

static int do_parse(pgx *x, const uint8_t *body, size_t len) {
    pgx_parse_msg pm;
    if (pgx_parse_parse(body, len, &pm) != 0) {
        free(pm.oids);
        return protocol_error(x, "Parse");
    }
    const char *name = pm.name, *query = pm.query;
    int np = pm.noids;
    uint32_t *oids = pm.oids ? pm.oids : calloc(1, sizeof *oids);
    if (!oids) return protocol_error(x, "Parse");
    if (*name && stmt_find(x, name)) {
        free(oids);
        char m[200];
        snprintf(m, sizeof m, "prepared statement \"%.100s\" already exists", name);
        msg_error(x, "ERROR", "42P05", m, 0);
        return -1;
    }
    if (!*name && stmt_find(x, "")) stmt_replace_unnamed(x, stmt_find(x, ""));
    count_ctx cc = {0};
    sqlscan_split(query, strlen(query), count_one, &cc);
    if (cc.count > 1) {
        free(oids);
        msg_error(x, "ERROR", "42601", "cannot insert multiple commands into a prepared statement", 0);
        return -1;
    }
    pgx_stmt *t = calloc(1, sizeof *t);
    if (!t) {
        free(oids);
        return protocol_error(x, "Parse");
    }
    t->name = strdup(name);
    t->sql = strdup(query);
    t->param_oids = oids;
    t->nparams = np;
    if (cc.count == 0) {
        t->kind = STMT_EMPTY;
    } else {
        /* Transaction control and settings run here; their text is enough. */
        tcop_stmt a;
        tcop_analyze(query, strlen(query), &a);
        const char *w0 = a.words[0];
        bool local = a.kind != TC_OTHER || !strcmp(w0, "set") || !strcmp(w0, "reset") ||
                     (!strcmp(w0, "show") && setting_get(x, a.words[1])) || a.set_config;
        if (local) {
            t->kind = STMT_LOCAL;
        } else {
            if (exec_prepare(x, t->sql, EXEC_REPORT | EXEC_MACROS, 0, &t->st, &t->runs, &t->an) != 0) {
                free(t->name);
                free(t->sql);
                free(oids);
                free(t);
                return -1;
            }
            t->kind = STMT_DUCK;
            t->unresolved = params_unresolved(t->st);
            /* The parameter types DuckDB inferred, before any value is bound. */
            idx_t npar = duckdb_nparams(t->st);
            t->param_types = calloc(npar ? npar : 1, sizeof *t->param_types);
            t->slot_oids = calloc(npar ? npar : 1, sizeof *t->slot_oids);
            for (idx_t k = 0; t->param_types && t->slot_oids && k < npar; k++) {
                t->param_types[k] = duckdb_param_type(t->st, k + 1);
                duckdb_logical_type lt = duckdb_param_logical_type(t->st, k + 1);
                if (lt && duckdb_get_type_id(lt) != DUCKDB_TYPE_INVALID) t->slot_oids[k] = pgt_oid(lt);
                if (lt) duckdb_destroy_logical_type(&lt);
                uint32_t cast = param_cast_oid(t->sql, (int)k + 1);
                if (cast) t->slot_oids[k] = cast;
            }
            int n = (int)duckdb_nparams(t->st);
            if (n > t->nparams) {
                uint32_t *g = realloc(t->param_oids, (size_t)n * sizeof *g);
                if (g) {
                    for (int i = t->nparams; i < n; i++) g[i] = 0;
                    t->param_oids = g;
                    t->nparams = n;
                }
            }
        }
    }
    t->next = x->stmts;
    x->stmts = t;
    msg_empty(x, PqMsg_ParseComplete);
    return 0;
}

/* A text parameter for an integer or floating-point slot, bound with its own type:
 * binding VARCHAR to an INTEGER parameter makes DuckDB re-plan the statement at every
 * execution (ClientContext::RebindPreparedStatement; measured with DuckDB 1.4.4).
 * Returns 1 when bound, 0 when the text is not a plain number (DuckDB then casts it). */
static int bind_text_typed(pgx_stmt *t, idx_t idx, const uint8_t *v, int32_t len) {
    if (len <= 0 || len > 40) return 0;
    char buf[48];
    memcpy(buf, v, (size_t)len);
    buf[len] = '\0';
    char *end;
    switch (t->param_types ? t->param_types[idx - 1] : DUCKDB_TYPE_INVALID) {
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: {
        errno = 0;
        long long n = strtoll(buf, &end, 10);
        if (errno || end == buf || *end) return 0;
        duckdb_type pt = t->param_types[idx - 1];
        duckdb_state st = pt == DUCKDB_TYPE_BIGINT ? duckdb_bind_int64(t->st, idx, n)
                          : pt == DUCKDB_TYPE_INTEGER && n >= INT32_MIN && n <= INT32_MAX ? duckdb_bind_int32(t->st, idx, (int32_t)n)
                          : pt == DUCKDB_TYPE_SMALLINT && n >= INT16_MIN && n <= INT16_MAX ? duckdb_bind_int16(t->st, idx, (int16_t)n)
                          : pt == DUCKDB_TYPE_TINYINT && n >= INT8_MIN && n <= INT8_MAX ? duckdb_bind_int8(t->st, idx, (int8_t)n)
                                                                                         : DuckDBError;
        return st == DuckDBSuccess;
    }
    case DUCKDB_TYPE_DOUBLE: {
        errno = 0;
        double d = strtod(buf, &end);
        if (errno || end == buf || *end) return 0;
        return duckdb_bind_double(t->st, idx, d) == DuckDBSuccess;
    }
    default:
        return 0;
    }
}

/* Slots whose DuckDB type reads text differently from PostgreSQL (DuckDB's VARCHAR cast
 * takes '\x41' as one escaped byte, has no 'on'/'off' booleans, no '{1,2}' arrays and
 * no ISO 8601 intervals, measured with 1.4.4): a text value for them goes through
 * PostgreSQL's input function even when the client left the type to the server. */
static bool pg_text_input_needed(uint32_t slot_oid) {
    return slot_oid == PGT_BOOL || slot_oid == PGT_BYTEA || slot_oid == PGT_INTERVAL || pgt_elem_oid(slot_oid);
}

/* The type a parameter value is read as: the type Parse declared, else the type DuckDB
 * inferred for the slot (the one ParameterDescription reported), else 0 (text). */
static uint32_t param_oid(const pgx_stmt *t, int i) {
    uint32_t oid = i < t->nparams ? t->param_oids[i] : 0;
    if (!oid && t->slot_oids) oid = t->slot_oids[i];
    return oid;
}

/* Binds one parameter value: text through the fast path or PostgreSQL's input of its
 * type, binary through the type's receive function (types/). A value of the declared
 * type also types a slot DuckDB could not infer, so SELECT $1 declared bool is a bool
 * (DuckDB 1.4.4 infers an untyped parameter's type from the bound value; measured).
 * Returns 0, or -1 with *err set. */
static int bind_param(pgx *x, pgx_stmt *t, int i, int16_t fmt, const uint8_t *v, int32_t len, pgt_err *err) {
    idx_t idx = (idx_t)i + 1;
    if (len < 0) return duckdb_bind_null(t->st, idx) == DuckDBSuccess ? 0 : -1;
    uint32_t declared = i < t->nparams ? t->param_oids[i] : 0, oid = param_oid(t, i);
    duckdb_value val;
    if (fmt == 0) {
        if (bind_text_typed(t, idx, v, len)) return 0;
        bool textual = oid == 0 || oid == PGT_TEXT || oid == PGT_VARCHAR || oid == PGT_UNKNOWN || oid == PGT_BPCHAR ||
                       oid == PGT_NAME || !pgt_oid_known(oid);
        if (textual || (!declared && !pg_text_input_needed(oid))) {
            /* DuckDB casts the text to the slot's type. */
            if (!pgt_utf8_ok((const char *)v, (size_t)len)) {
                snprintf(err->sqlstate, sizeof err->sqlstate, "22021");
                snprintf(err->msg, sizeof err->msg, "invalid byte sequence for encoding \"UTF8\"");
                return -1;
            }
            return duckdb_bind_varchar_length(t->st, idx, (const char *)v, (idx_t)len) == DuckDBSuccess ? 0 : -1;
        }
        val = pgt_text_in_tz(oid, (const char *)v, (size_t)len, x->tz, err);
    } else {
        val = pgt_binary_in(oid, v, (size_t)len, err);
    }
    if (!val) return -1;
    duckdb_state st = duckdb_bind_value(t->st, idx, val);
    duckdb_destroy_value(&val);
    return st == DuckDBSuccess ? 0 : -1;
}

/* Binds Bind's parameter values into t's DuckDB statement; -1 with an error sent. */
int bind_values(pgx *x, pgx_stmt *t, const pgx_bind_msg *m) {
    duckdb_clear_bindings(t->st);
    for (int i = 0; i < m->nparams; i++) {
        pgt_err err = {"", ""};
        if (bind_param(x, t, i, pgx_bind_param_format(m, i), m->values[i], m->lengths[i], &err) == 0) continue;
        char msg[240];
        if (!err.sqlstate[0])
            snprintf(err.sqlstate, sizeof err.sqlstate, "22P02"), snprintf(err.msg, sizeof err.msg, "invalid value");
        if (!strcmp(err.sqlstate, "22P03"))
            snprintf(msg, sizeof msg, "%s in bind parameter %d", err.msg, i + 1); /* as PostgreSQL words it */
        else
            snprintf(msg, sizeof msg, "%s", err.msg);
        msg_error(x, "ERROR", err.sqlstate, msg, 0);
        return -1;
    }
    return 0;
}

static int do_bind(pgx *x, const uint8_t *body, size_t len) {
    pgx_bind_msg m;
    if (pgx_parse_bind(body, len, &m) != 0) return protocol_error(x, "Bind");
    int rc = -1;
    pgx_stmt *t = stmt_find(x, m.stmt);
    char msg[200];
    if (!t) {
        msg_missing(x, "prepared statement", m.stmt, "26000");
        goto out;
    }
    if (t->kind == STMT_DUCK && m.nparams != (int)duckdb_nparams(t->st)) {
        snprintf(msg, sizeof msg, "bind message supplies %d parameters, but prepared statement \"%.100s\" requires %d",
                 m.nparams, m.stmt, (int)duckdb_nparams(t->st));
        msg_error(x, "ERROR", "08P01", msg, 0);
        goto out;
    }
    if (t->kind == STMT_DUCK && bind_values(x, t, &m) != 0) goto out;
    pgx_portal *old = portal_find(x, m.portal);
    if (old) {
        if (*m.portal) {
            snprintf(msg, sizeof msg, "portal \"%.100s\" already exists", m.portal);
            msg_error(x, "ERROR", "42P03", msg, 0);
            goto out;
        }
        portal_free(x, old);
    }
    pgx_portal *p = calloc(1, sizeof *p);
    if (!p || !(p->name = strdup(m.portal))) {
        free(p);
        msg_error(x, "ERROR", "53200", "out of memory", 0);
        goto out;
    }
    p->stmt = t;
    t->nportals++;
    p->nformats = m.nresults;
    p->formats = m.results; /* taken */
    m.results = NULL;
    if (t->kind == STMT_DUCK && m.nparams > 0) {
        /* The values live in the DuckDB statement, which other portals of it may bind
         * again before this one runs: keep the message to bind them again then. */
        p->bind_body = malloc(len ? len : 1);
        if (!p->bind_body) {
            portal_free(x, p);
            msg_error(x, "ERROR", "53200", "out of memory", 0);
            goto out;
        }
        memcpy(p->bind_body, body, len);
        p->bind_len = len;
    }
    t->bound_by = p;
    p->next = x->portals;
    x->portals = p;
    msg_empty(x, PqMsg_BindComplete);
    rc = 0;
out:
    pgx_bind_msg_free(&m);
    return rc;
}

static bool returns_rows(pgx_stmt *t) {
    duckdb_statement_type st = duckdb_prepared_statement_type(t->st);
    idx_t n = duckdb_prepared_statement_column_count(t->st);
    if (n == 0) return false;
    if (st == DUCKDB_STATEMENT_TYPE_INSERT || st == DUCKDB_STATEMENT_TYPE_UPDATE || st == DUCKDB_STATEMENT_TYPE_DELETE) {
        char *nm = (char *)duckdb_prepared_statement_column_name(t->st, 0); /* owned */
        bool count_only = n == 1 && nm && !strcmp(nm, "Count");
        duckdb_free(nm);
        return !count_only;
    }
    return st == DUCKDB_STATEMENT_TYPE_SELECT || st == DUCKDB_STATEMENT_TYPE_EXPLAIN || st == DUCKDB_STATEMENT_TYPE_CALL ||
           st == DUCKDB_STATEMENT_TYPE_PRAGMA;
}

/* DuckDB cannot give result columns of a statement whose parameter types it could not
 * infer ("SELECT $1, $2::int" reports one column): measured with DuckDB 1.4.4. */


/* Columns of a SELECT with unresolved parameters: run it wrapped in LIMIT 0 with NULLs. */
static int describe_by_running(pgx *x, pgx_stmt *t) {
    sb q;
    sb_init(&q);
    sb_printf(&q, "SELECT * FROM (%s\n) AS _describe LIMIT 0", t->sql);
    duckdb_prepared_statement st = NULL;
    int rc = sb_failed(&q) ? -1 : exec_prepare(x, q.data, 0, 0, &st, NULL, NULL);
    sb_free(&q);
    if (rc) return -1;
    /* NULL, or a value of the declared type so that the slot has that type. */
    for (idx_t i = 1; i <= duckdb_nparams(st); i++) {
        duckdb_value z = (int)i <= t->nparams ? pgt_zero_value(t->param_oids[i - 1]) : NULL;
        if (!z || duckdb_bind_value(st, i, z) != DuckDBSuccess) duckdb_bind_null(st, i);
        if (z) duckdb_destroy_value(&z);
    }
    duckdb_result r;
    int xr = exec_execute(x, NULL, st, &r, 0);
    if (xr != 0) {
        if (xr == -2) duckdb_destroy_result(&r);
        duckdb_destroy_prepare(&st);
        return -1;
    }
    msg_rowdesc(x, (int)duckdb_column_count(&r), msg_res_name, msg_res_type, &r, &t->an);
    duckdb_destroy_result(&r);
    duckdb_destroy_prepare(&st);
    return 0;
}

/* The RowDescription (or NoData) of statement t; -1 with an error sent. */
static int describe_stmt_rows(pgx *x, pgx_stmt *t) {
    char w0[32];
    if (t->kind == STMT_LOCAL && tcop_first_word(t->sql, strlen(t->sql), w0) && !strcmp(w0, "select")) {
        static const char *const col[] = {"set_config"}; /* SELECT set_config(...): one text column */
        msg_text_row_description(x, 1, col);
        return 0;
    }
    if (t->kind == STMT_LOCAL) {
        if (settings_statement(x, t->sql, strlen(t->sql), true) == 1) {
            char w[32];
            tcop_first_word(t->sql, strlen(t->sql), w);
            if (!strcmp(w, "show")) return 0; /* RowDescription written */
        }
        msg_empty(x, PqMsg_NoData);
        return 0;
    }
    if (t->kind == STMT_EMPTY || !returns_rows(t)) {
        msg_empty(x, PqMsg_NoData);
        return 0;
    }
    if (unresolved(t) && duckdb_prepared_statement_type(t->st) == DUCKDB_STATEMENT_TYPE_SELECT &&
        describe_by_running(x, t) == 0)
        return 0;
    if (msg_too_wide(x, duckdb_prepared_statement_column_count(t->st))) return -1;
    msg_rowdesc(x, (int)duckdb_prepared_statement_column_count(t->st), msg_st_name, msg_st_type, &t->st, &t->an);
    return 0;
}

static int do_describe(pgx *x, wire_rd *r) {
    uint8_t kind;
    const char *name;
    if (!wire_rd_u8(r, &kind) || !wire_rd_cstr(r, &name) || (kind != PqDescribe_Statement && kind != PqDescribe_Portal)) return protocol_error(x, "Describe");
    if (kind == PqDescribe_Statement) {
        pgx_stmt *t = stmt_find(x, name);
        if (!t) return msg_missing(x, "prepared statement", name, "26000");
        wire_wb_begin(x->out, PqMsg_ParameterDescription);
        wire_wb_i16(x->out, (int16_t)t->nparams);
        /* What the statement takes: the declared type, else the PostgreSQL type of
         * what DuckDB inferred at Parse, else text. */
        for (int i = 0; i < t->nparams; i++) {
            uint32_t oid = t->kind == STMT_DUCK ? param_oid(t, i) : t->param_oids[i];
            wire_wb_i32(x->out, (int32_t)(oid ? oid : 25));
        }
        wire_wb_end(x->out);
        return describe_stmt_rows(x, t);
    }
    pgx_portal *p = portal_find(x, name);
    if (!p) return msg_missing(x, "portal", name, "34000");
    pgx_stmt *t = p->stmt;
    if (t->kind == STMT_DUCK && unresolved(t) && returns_rows(t)) {
        /* The bound values decide the columns: start the portal, describe its result. */
        if (!p->started && portal_start(x, p) != 0) return -1;
        exec_end_running(x);
        if (duckdb_result_return_type(p->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT)
            msg_row_description(x, p->ncols, msg_res_name, msg_res_type, &p->res, p->formats, p->nformats, &t->an);
        else
            msg_empty(x, PqMsg_NoData);
        return 0;
    }
    if (t->kind == STMT_DUCK && returns_rows(t)) {
        if (msg_too_wide(x, duckdb_prepared_statement_column_count(t->st))) return -1;
        msg_row_description(x, (int)duckdb_prepared_statement_column_count(t->st), msg_st_name, msg_st_type, &t->st, p->formats,
                          p->nformats, &t->an);
        return 0;
    }
    return describe_stmt_rows(x, t);
}

static int do_execute(pgx *x, wire_rd *r) {
    const char *name;
    int32_t max;
    if (!wire_rd_cstr(r, &name) || !wire_rd_i32(r, &max)) return protocol_error(x, "Execute");
    pgx_portal *p = portal_find(x, name);
    if (!p) return msg_missing(x, "portal", name, "34000");
    pgx_stmt *t = p->stmt;
    if (x->tx == PqTrans_Failed) {
        tcop_kind k = t->kind == STMT_LOCAL ? tcop_classify(t->sql, strlen(t->sql)) : TC_OTHER;
        if (!tcop_allowed_when_failed(k)) {
            msg_error(x, "ERROR", "25P02", "current transaction is aborted, commands ignored until end of transaction block",
                      0);
            return -1;
        }
    }
    if (t->kind == STMT_EMPTY) {
        msg_empty(x, PqMsg_EmptyQueryResponse);
        return 0;
    }
    if (t->kind == STMT_LOCAL) {
        x->in_execute = true;
        int lr = utility_statement(x, t->sql, strlen(t->sql), false);
        x->in_execute = false;
        if (lr == 0) {
            msg_error(x, "ERROR", "0A000", "this statement is not supported in the extended query protocol", 0);
            return -1;
        }
        return lr < 0 ? -1 : 0;
    }
    if (p->done) {
        msg_complete(x, "SELECT 0");
        return 0;
    }
    return portal_run(x, p, max > 0 ? max : 0, false);
}

static int do_close(pgx *x, wire_rd *r) {
    uint8_t kind;
    const char *name;
    if (!wire_rd_u8(r, &kind) || !wire_rd_cstr(r, &name) || (kind != PqDescribe_Statement && kind != PqDescribe_Portal)) return protocol_error(x, "Close");
    if (kind == PqDescribe_Statement) {
        pgx_stmt *t = stmt_find(x, name);
        if (t) stmt_free(x, t);
    } else {
        pgx_portal *p = portal_find(x, name);
        if (p) portal_free(x, p);
    }
    msg_empty(x, PqMsg_CloseComplete);
    return 0;
}

int extended_message(pgx *x, char type, const uint8_t *body, size_t len) {
    if (type == PqMsg_Sync) {
        /* The unnamed portal ends at Sync; a failed implicit transaction is over. */
        pgx_portal *p = portal_find(x, "");
        if (p) portal_free(x, p);
        if (x->ext_error && x->tx == PqTrans_InBlock) x->tx = PqTrans_Failed;
        x->ext_error = false;
        exec_ready(x);
        return msg_flush(x);
    }
    if (type == PqMsg_Flush) return msg_flush(x);
    if (x->ext_error) return 0;           /* discard until Sync */
    wire_rd r;
    wire_rd_init(&r, body, len);
    int rc;
    switch (type) {
    case PqMsg_Parse: rc = do_parse(x, body, len); break;
    case PqMsg_Bind: rc = do_bind(x, body, len); break;
    case PqMsg_Describe: rc = do_describe(x, &r); break;
    case PqMsg_Execute: rc = do_execute(x, &r); break;
    case PqMsg_Close: rc = do_close(x, &r); break;
    default: rc = protocol_error(x, "frontend");
    }
    if (rc != 0) x->ext_error = true;
    if (x->out->len >= PGX_FLUSH_AT) return msg_flush(x);
    return 0;
}

