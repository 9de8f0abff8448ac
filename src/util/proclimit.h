/* proclimit.h - limits the kernel enforces on the whole server process. */
#ifndef DS_PROCLIMIT_H
#define DS_PROCLIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* DS_ASAN is defined under AddressSanitizer (GCC's and clang's spellings). Its shadow
 * memory is terabytes of reserved address space and counts as data, so no memory
 * rlimit can be set under it. */
#if defined(__SANITIZE_ADDRESS__)
#define DS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DS_ASAN 1
#endif
#endif

/* Caps the process's data segment (RLIMIT_DATA: every private writable mapping, so
 * every malloc, DuckDB's included) at bytes; 0 means 80% of physical memory. Past the
 * cap an allocation fails and DuckDB answers that statement with an out-of-memory
 * error, instead of the kernel's OOM killer ending the whole server. Sets *applied to
 * the cap in force (0 when none could be set: under AddressSanitizer, whose shadow
 * memory counts as data). Returns 0, or -errno. */
int proc_limit_memory(int64_t bytes, int64_t *applied);

/* Sets the soft limit of resource (RLIMIT_*) to value, or to the hard limit when that is
 * lower; with hard, lowers the hard limit to the same, so that the process cannot raise
 * it again (short of CAP_SYS_RESOURCE). Sets *applied (may be NULL) to the soft limit
 * now in force. Returns 0, or -errno. */
int proc_set_limit(int resource, int64_t value, bool hard, int64_t *applied);

/* Threads of the calling process (1 when only the caller runs), or -1 when unknown
 * (/proc not readable). */
int proc_thread_count(void);

#endif
