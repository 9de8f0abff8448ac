/* copyparse.h - the three input formats of COPY FROM STDIN (text, csv, binary) as
 * PostgreSQL 15 reads them, as an incremental parser: bytes go in as the client's
 * CopyData messages cut them (a row may span messages, at any byte), rows come out
 * through a callback as fields. Pure and bounded: no DuckDB, no I/O; its memory is one
 * buffer of at most max_row bytes plus one slice, and the field array.
 *
 * Errors are PostgreSQL's (SQLSTATE 22P04 bad copy file format, 22P02 invalid input,
 * 54000 row too long) with the line (or tuple) number and, when one is to blame, the
 * column index, so that the caller can write PostgreSQL's CONTEXT line. */
#ifndef DS_PGX_COPYPARSE_H
#define DS_PGX_COPYPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { CP_TEXT = 0, CP_CSV = 1, CP_BINARY = 2 } cp_format;

typedef struct {
    cp_format format;
    int ncols;             /* fields every row must have (1..) */
    char delim;            /* text: '\t', csv: ',' */
    char quote, escape;    /* csv: '"', and escape defaults to quote */
    const char *null_str;  /* text: "\\N", csv: "" (not NUL-terminated: null_len) */
    size_t null_len;
    bool header;           /* text/csv: the first line is a header */
    bool header_match;     /* ... handed to the callback (row.header) to be checked */
    const bool *force_null;     /* csv, per column (NULL: none): a quoted null_str is NULL too */
    const bool *force_not_null; /* csv, per column (NULL: none): null_str is a value */
    size_t max_row;        /* bytes of one row (line, csv record, binary tuple) */
} cp_opts;

typedef struct {
    const char *p; /* not NUL-terminated; valid during the callback */
    size_t n;
    bool null;
} cp_field;

typedef struct {
    const cp_field *f;
    int n;         /* == ncols, except for a header (whatever it had) */
    uint64_t line; /* 1-based: the line of text/csv (where the row starts), the tuple of binary */
    bool header;   /* the header line, only with header_match */
    const char *raw; /* text/csv: the line as read (without its end of line) */
    size_t raw_n;
} cp_row;

typedef struct {
    char sqlstate[6];
    char msg[200];
    uint64_t line; /* 0: not tied to a line */
    int col;       /* 0-based column to blame, -1 for the whole line */
    char value[128]; /* the column's value or the start of the line, for CONTEXT */
    bool has_value;
} cp_err;

/* Returns 0 to go on, or non-zero to stop the parse (cp_feed then returns that). */
typedef int (*cp_row_fn)(void *ud, const cp_row *row);

typedef struct cp_parser cp_parser;

/* NULL when out of memory. opts is copied (its pointers are borrowed for the parser's
 * life). */
cp_parser *cp_new(const cp_opts *opts, cp_row_fn fn, void *ud);
void cp_free(cp_parser *p);
/* The next bytes of the stream. Returns 0; -1 with *err filled (the parse is over);
 * or the callback's non-zero return. After the end-of-data marker (text/csv "\." line,
 * binary trailer) the rest is ignored, as PostgreSQL does. */
int cp_feed(cp_parser *p, const uint8_t *data, size_t len, cp_err *err);
/* The end of the stream (CopyDone): a last line without its newline is a row; a binary
 * stream must have had its header. Returns as cp_feed. */
int cp_finish(cp_parser *p, cp_err *err);
/* Lines (tuples) read so far, a header included. */
uint64_t cp_line(const cp_parser *p);
/* Rows handed to the callback so far (not counting a header). */
uint64_t cp_rows(const cp_parser *p);

#endif
