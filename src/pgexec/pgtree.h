/* pgtree.h - inside the SQL analysis: libpg_query's protobuf-c tree and the rewrite
 * pass over it (rewrite.c). Only analyze.c, rewrite.c and copy.c (the COPY statement's
 * options) include this. */
#ifndef DS_PGEXEC_PGTREE_H
#define DS_PGEXEC_PGTREE_H

#include <pg_query.h>
#include <pg_query.pb-c.h>

#include "pgexec/analyze.h"

/* The string of a String node, or NULL. */
const char *pgt_sval(const PgQuery__Node *n);

/* Rewrites the tree in place (rules of rewrite.c) for DuckDB. sql is the text the tree
 * came from (to see how a name was written). Adds the PGA_R_* bits applied to *rules.
 * Returns 0, or -1 when out of memory (the tree stays valid to free). */
int pga_rewrite(PgQuery__ParseResult *tree, const char *sql, const pga_session *ss, unsigned *rules);

#endif
