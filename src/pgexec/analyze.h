/* analyze.h - one analysis of each SQL statement, with PostgreSQL's own parser
 * (libpg_query, the PostgreSQL 15 grammar).
 *
 * From the one parse tree it tells what the statement is, what PostgreSQL would name its
 * result columns, and the text DuckDB should run: the tree rewritten where PostgreSQL's
 * dialect and DuckDB's differ (rewrite.c), deparsed only when a rule changed something.
 * SQL that PostgreSQL's parser rejects (DuckDB-only syntax: FROM-first, PIVOT, SUMMARIZE,
 * lambdas, ...) is passed through as written, with parsed == false; everything DuckDB
 * runs still goes through the workspace's gate, rewritten or not.
 *
 * Thread safety: libpg_query keeps its memory per thread and frees it itself when the
 * thread ends (a pthread key destructor in 15-4.0.0: calling pg_query_exit() in a
 * thread as well frees it twice, found with ASan). Only the main thread, which ends
 * without running key destructors, calls pga_thread_exit (tests, fuzz targets). */
#ifndef DS_PGEXEC_ANALYZE_H
#define DS_PGEXEC_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>

/* Who is asking: what current_user, session_user and current_database() mean. */
typedef struct {
    const char *user;     /* the login role */
    const char *database; /* the database the client connected to */
} pga_session;

typedef enum {
    PGA_UNPARSED = 0, /* PostgreSQL's parser refused it: DuckDB gets the text as is */
    PGA_SELECT,       /* SELECT, VALUES, TABLE, set operations, WITH ... SELECT */
    PGA_INSERT,
    PGA_UPDATE,
    PGA_DELETE,
    PGA_CREATE_TABLE_AS,
    PGA_TRANSACTION, /* BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ... */
    PGA_SET,         /* SET, RESET */
    PGA_SHOW,
    PGA_CURSOR, /* DECLARE, FETCH, MOVE, CLOSE */
    PGA_COPY,
    PGA_EXPLAIN,
    PGA_OTHER, /* any other statement PostgreSQL's grammar accepts (DDL, ...) */
} pga_kind;

/* Rewrites applied (bits of pga_result.rules), for tests and the debug log. */
enum {
    PGA_R_OPERATOR = 1 << 0,  /* OPERATOR(pg_catalog.op) -> op */
    PGA_R_REGEX = 1 << 1,     /* ~ !~ ~* !~* with PostgreSQL's meaning (a search) */
    PGA_R_COLLATE = 1 << 2,   /* COLLATE pg_catalog.default / "C" / "POSIX" dropped */
    PGA_R_TYPES = 1 << 3,     /* pg_catalog. qualified or PostgreSQL-only type names */
    PGA_R_REGCAST = 1 << 4,   /* regclass / regtype / regnamespace / regproc casts */
    PGA_R_ARRAY = 1 << 5,     /* '{...}' array literals, = ANY / <> ALL */
    PGA_R_CATALOG = 1 << 6,   /* pg_catalog. / information_schema. relations and functions */
    PGA_R_PUBLIC = 1 << 7,    /* public. -> the workspace's own schema */
    PGA_R_IDENTITY = 1 << 8,  /* current_user, current_database(), ... for this login */
};

typedef struct {
    pga_kind kind;
    char *sql;        /* the rewritten text for DuckDB (malloc'd), or NULL: run the input */
    unsigned rules;   /* PGA_R_* applied */
    int ncols;        /* entries of colnames; -1 when the statement returns no select list */
    char **colnames;  /* PostgreSQL's name for each select-list entry; NULL for a '*' */
    bool fast;        /* answered by the parser-free path (quick.c): a plain statement that
                       * names nothing of pg_catalog or information_schema */
} pga_result;

/* Analyses sql[0..len) (one statement). Returns 0, or -1 when out of memory (out is then
 * empty). Never fails on bad SQL: that is kind PGA_UNPARSED. */
int pga_analyze(const char *sql, size_t len, const pga_session *ss, pga_result *out);
void pga_result_free(pga_result *r);
/* The same without the fast path (quick.c) of plain statements: always PostgreSQL's
 * parser. For tests and the fuzz target, which check that both agree. */
int pga_analyze_full(const char *sql, size_t len, const pga_session *ss, pga_result *out);

/* The name PostgreSQL gives result column i of the ncols that DuckDB returned, or NULL
 * when DuckDB's name stands (a column of a '*', or a shape the analysis cannot map). */
const char *pga_colname(const pga_result *r, int ncols, int i);

/* The savepoint a SAVEPOINT, RELEASE [SAVEPOINT] or ROLLBACK TO [SAVEPOINT] statement
 * names, as PostgreSQL's parser reads it (unquoted names folded to lower case, at most
 * 63 bytes as NAMEDATALEN truncates). Returns 1, 0 when sql is not exactly one such
 * statement (a syntax error), -1 when out of memory. */
int pga_savepoint_name(const char *sql, size_t len, char name[64]);

/* Frees the main thread's parser memory (other threads' is freed when they end). */
void pga_thread_exit(void);

#endif
