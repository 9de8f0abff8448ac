/* str.h - name validation, SQL quoting, percent-decoding and a growable string buffer. */
#ifndef DS_STR_H
#define DS_STR_H

#include <stdbool.h>
#include <stddef.h>

#define DS_NAME_MAX 64

/* Project id, branch name, bucket name: 1-64 of [A-Za-z0-9_-], never "." or "..". */
bool name_is_valid(const char *s);
/* Table name: 1-64 of [A-Za-z0-9_]. */
bool name_is_valid_table(const char *s);
/* Column name of a JSON-defined table: [A-Za-z_][A-Za-z0-9_]{0,63}. */
bool name_is_valid_column(const char *s);
/* Bucket id "in.c-sales" -> stage and name (validated). Returns false when malformed. */
bool bucket_id_parse(const char *id, char stage[4], char name[DS_NAME_MAX + 1]);
/* SQL schema of a bucket id: every non-alphanumeric character replaced by '_'. */
void bucket_schema_name(const char *bucket_id, char *out, size_t outsz);
/* Table id "in.c-sales.orders" -> bucket id and table name (validated). */
bool table_id_parse(const char *id, char *bucket, size_t bucketsz, char table[DS_NAME_MAX + 1]);

/* Percent-decodes in[0..n) into out, exactly once ("%41" -> "A", "%2541" -> "%41");
 * '+' stays '+'. out needs n + 1 bytes (decoding never lengthens) and may be in itself:
 * every byte is written at or before the one it came from. out is NUL-terminated, but
 * "%00" puts a NUL inside it, so callers compare the returned length with strlen(out).
 * Returns the decoded length, or -1 for a malformed escape ('%' not followed by two hex
 * digits), leaving out unspecified. */
ptrdiff_t str_pct_decode(const char *in, size_t n, char *out);

/* Growable NUL-terminated buffer with a sticky failure flag: after an allocation
 * failure every later append is a no-op and sb_failed() is true. */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} sb;

void sb_init(sb *b);
void sb_free(sb *b);
void sb_append(sb *b, const char *s);
void sb_appendn(sb *b, const char *s, size_t n);
void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a double-quoted SQL identifier ("a""b"). */
void sb_ident(sb *b, const char *s);
/* Appends s as a single-quoted SQL string literal ('it''s'). */
void sb_literal(sb *b, const char *s);
static inline bool sb_failed(const sb *b) { return b->failed; }
/* Returns the buffer (caller frees) and resets b; NULL after a failure. */
char *sb_take(sb *b);

#endif
