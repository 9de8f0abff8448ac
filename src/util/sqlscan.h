/* sqlscan.h - a small SQL lexer for what the server must know before DuckDB sees a
 * statement: where statements end, their leading keywords, and which functions they
 * call. It understands '...' (and E'...'), "...", $tag$...$tag$, -- and nested
 * block comments; it never allocates and never reads past len. */
#ifndef DS_SQLSCAN_H
#define DS_SQLSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Calls cb for each statement of sql[0..len) (without its ';'), skipping statements
 * that hold only spaces and comments. Returns the number of statements. */
int sqlscan_split(const char *sql, size_t len, void (*cb)(void *ud, size_t start, size_t n), void *ud);
/* True when sql[0..len) holds nothing but spaces and comments. */
bool sqlscan_is_empty(const char *sql, size_t len);
/* The first n keywords (identifiers, lower-cased, at most 31 chars each) of a
 * statement, skipping comments; returns how many were found. Stops at anything that is
 * not a bare word. */
int sqlscan_keywords(const char *sql, size_t len, char words[][32], int n);
/* If the statement calls (identifier followed by '(') one of the NULL-terminated,
 * lower-case names, returns that name; else NULL. Qualified calls (x.name() count. */
const char *sqlscan_calls(const char *sql, size_t len, const char *const *names);

/* If any identifier of sql[0..len) (bare, any case, or "quoted"; outside strings and
 * comments; in any position: a call, a table, a column, a qualifier) is one of the
 * NULL-terminated, lower-case names, returns that name; else NULL. */
const char *sqlscan_mentions(const char *sql, size_t len, const char *const *names);
/* True when every mention of the lower-case identifier name in sql[0..len) is an
 * unqualified call, "name(" (no "x." before it); true when there is none. */
bool sqlscan_plain_calls_only(const char *sql, size_t len, const char *name);

/* True when no mention of the lower-case identifier name in sql[0..len) is qualified
 * ("x.name", quoted or not), except by exactly allowed ("a.b." with its dot; NULL: no
 * exception) standing alone. */
bool sqlscan_qualified_only_by(const char *sql, size_t len, const char *name, const char *allowed);
/* How many block comments sql[0..len) opens ("/" "*", nested ones too), counting no
 * further than limit + 1. DuckDB's parser takes time quadratic in this number. */
size_t sqlscan_block_comments(const char *sql, size_t len, size_t limit);

/* When sql[0..len) is EXPLAIN [ANALYZE|ANALYSE] [VERBOSE] stmt or EXPLAIN (options)
 * stmt, returns true, sets *inner to the offset of stmt (the statement DuckDB plans, and
 * runs when analyzing) and *analyze when the options ask to run it (any ANALYZE word
 * among them counts). Else returns false. */
bool sqlscan_explain(const char *sql, size_t len, size_t *inner, bool *analyze);

/* True when every parenthesis opened in sql[0..len) (outside strings and comments) is
 * closed in order, none is closed that was not opened, and no ';' appears: a text that
 * can be put between parentheses without escaping them. */
bool sqlscan_balanced(const char *sql, size_t len);

/* At p, a quote (' or "): appends the quoted text, doubled quotes made single, to
 * out[*o..outsz-1) (what does not fit is dropped; out stays NUL-terminated) and returns
 * the position after the closing quote (end when there is none). Never reads at end. */
const char *sqlscan_read_quoted(const char *p, const char *end, char *out, size_t outsz, size_t *o);

/* Copies sql to a new string with PostgreSQL's names made DuckDB's, outside strings
 * and comments: the qualifier public. / "public". becomes main. (PostgreSQL clients call
 * the workspace's own schema public), and pg_catalog. before a function call is dropped
 * (pg_catalog.version() -> version(): DuckDB reads it as a column's method call).
 * Never longer than sql. Returns NULL on allocation failure; the caller frees. */
char *sqlscan_rewrite_pg_names(const char *sql, size_t len);

#endif
