/* quick.h - the analysis' fast path (quick.c): a token scan for the plainest statements.
 * Only analyze.c calls it. */
#ifndef DS_PGEXEC_QUICK_H
#define DS_PGEXEC_QUICK_H

#include "pgexec/analyze.h"

/* Returns 1 and fills out (kind, PostgreSQL's column names; never a rewrite) when sure
 * that the full analysis would say the same and rewrite nothing; 0 when not sure (out
 * empty); -1 when out of memory. */
int pga_quick(const char *sql, size_t len, pga_result *out);

#endif
