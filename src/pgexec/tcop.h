/* tcop.h - the "traffic cop": what a statement is, read from its text. Every lexing of
 * statement text the executor does is here (and in util/sqlscan underneath), so that a
 * real analysis (PostgreSQL's parser) can replace it behind these functions. Nothing
 * here runs anything or knows the session. */
#ifndef DS_PGX_TCOP_H
#define DS_PGX_TCOP_H

#include <duckdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Statements answered by the executor itself, by their leading keywords. */
typedef enum {
    TC_OTHER = 0, /* for DuckDB (or a setting statement: see tcop_set) */
    TC_BEGIN,
    TC_COMMIT,
    TC_ROLLBACK,
    TC_SAVEPOINT,    /* SAVEPOINT name */
    TC_RELEASE,      /* RELEASE [SAVEPOINT] name */
    TC_ROLLBACK_TO,  /* ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name */
    TC_COPY_STDIO, /* COPY ... FROM STDIN / TO STDOUT */
    TC_LISTEN,     /* LISTEN, UNLISTEN, NOTIFY, DISCARD: accepted, nothing done */
    TC_DEALLOCATE,
    TC_DECLARE,
    TC_FETCH,
    TC_CLOSE,
    TC_MOVE
} tcop_kind;

/* What may run in a failed transaction block: ROLLBACK, COMMIT (which rolls back) and
 * ROLLBACK TO SAVEPOINT, as in PostgreSQL. */
bool tcop_allowed_when_failed(tcop_kind k);

/* What a statement is. */
typedef struct {
    tcop_kind kind;
    char words[2][32]; /* the first two keywords, lower-case ("" when fewer) */
    int nwords;
    bool set_config; /* SELECT [pg_catalog.]set_config(...) */
} tcop_stmt;

void tcop_analyze(const char *sql, size_t len, tcop_stmt *out);
tcop_kind tcop_classify(const char *sql, size_t len);
/* The first keyword, lower-case, into out[32]; false when there is none. */
bool tcop_first_word(const char *sql, size_t len, char out[32]);
/* The CommandComplete tag of a DuckDB statement of type t that returned or changed n
 * rows (changed: a row count came back). */
void tcop_tag(const char *sql, size_t len, duckdb_statement_type t, bool changed, uint64_t n, char *out, size_t outsz);
/* The first keyword upper-cased: the tag of LISTEN and friends. */
void tcop_verb_tag(const char *sql, size_t len, char out[32]);

/* DEALLOCATE [PREPARE] name | ALL: 1 for ALL, 0 with the name in name[32], -1 when
 * there is no name. */
int tcop_deallocate(const char *sql, size_t len, char name[32]);

/* DECLARE name ... CURSOR [WITH HOLD] FOR query; CLOSE name|ALL; FETCH|MOVE [FORWARD|NEXT]
 * [count|ALL] [FROM|IN] name. */
typedef struct {
    char name[128];
    bool hold;       /* DECLARE: WITH HOLD */
    size_t query_at; /* DECLARE: where the query starts in the text */
    bool all;        /* CLOSE ALL; FETCH ALL */
    int64_t count;   /* FETCH/MOVE: rows (1 when not given) */
} tcop_cursor;
typedef enum { TCOP_CURSOR_OK = 0, TCOP_CURSOR_SYNTAX, TCOP_CURSOR_BACKWARD } tcop_cursor_rc;
tcop_cursor_rc tcop_parse_cursor(tcop_kind k, const char *sql, size_t len, tcop_cursor *out);

/* SET / RESET / SHOW of a client setting. */
typedef enum {
    TSET_NONE = 0,        /* not one of these (or not one we read: DuckDB's SHOW TABLES ...) */
    TSET_SHOW,            /* name */
    TSET_SHOW_ALL,
    TSET_RESET,           /* name */
    TSET_RESET_ALL,
    TSET_SET,             /* name, value, local */
    TSET_SET_TRANSACTION, /* SET [SESSION CHARACTERISTICS AS] TRANSACTION ... */
    TSET_SET_ROLE         /* SET ROLE / SESSION AUTHORIZATION */
} tcop_set_verb;
typedef struct {
    tcop_set_verb verb;
    bool local;
    char name[64];
    char value[256];
} tcop_set;
void tcop_parse_set(const char *sql, size_t len, tcop_set *out);

/* SELECT [pg_catalog.]set_config('name', 'value', is_local) [AS alias]: true when the
 * statement is exactly that. */
typedef struct {
    char name[64];
    char value[256];
    bool is_local;
} tcop_set_config;
bool tcop_parse_set_config(const char *sql, size_t len, tcop_set_config *out);

#endif
