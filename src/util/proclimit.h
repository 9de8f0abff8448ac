/* proclimit.h - limits the kernel enforces on the whole server process. */
#ifndef DS_PROCLIMIT_H
#define DS_PROCLIMIT_H

#include <stdint.h>

/* Caps the process's data segment (RLIMIT_DATA: every private writable mapping, so
 * every malloc, DuckDB's included) at bytes; 0 means 80% of physical memory. Past the
 * cap an allocation fails and DuckDB answers that statement with an out-of-memory
 * error, instead of the kernel's OOM killer ending the whole server. Sets *applied to
 * the cap in force (0 when none could be set: under AddressSanitizer, whose shadow
 * memory counts as data). Returns 0, or -errno. */
int proc_limit_memory(int64_t bytes, int64_t *applied);

#endif
