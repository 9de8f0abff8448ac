/* sandbox.h - the lock-down a workspace worker process puts itself in before it opens
 * DuckDB: rlimits, Landlock (files, TCP, signals, abstract sockets) and a seccomp filter
 * (no new processes, no new sockets, no debugging of others). Linux x86_64 only:
 * elsewhere sb_enter fails with -ENOSYS rather than run without its seccomp filter. */
#ifndef DS_SANDBOX_H
#define DS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the sandboxed process may still do. Paths must exist when sb_enter runs; a path
 * is a directory tree (everything beneath it) or a single file. */
typedef struct {
    const char *const *ro_paths; /* may be read (files, directories listed) */
    int n_ro;
    const char *const *rw_paths; /* may be read, written, truncated, created in, removed from */
    int n_rw;
    int64_t mem_bytes;  /* RLIMIT_AS (address space, not resident memory); 0: none */
    int64_t file_bytes; /* RLIMIT_FSIZE per file; SIGXFSZ is ignored, so a write past it
                         * fails with EFBIG instead of killing the process; 0: none */
    int64_t max_files;  /* RLIMIT_NOFILE; 0: leave as is */
    bool no_network;    /* no socket() of any family (EACCES), socketpair(AF_UNIX) only,
                         * no TCP bind or connect even on sockets made before */
    bool no_spawn;      /* no fork, vfork, execve, posix_spawn (EPERM); threads allowed */
} sb_spec;

/* Puts the calling process in the sandbox s describes, irreversibly. Must run before the
 * process starts any thread: Landlock binds the calling thread and the threads it
 * creates later, not those already running (-EBUSY when others run). File descriptors
 * already open keep working as opened (a socketpair end to the parent, stdout).
 * Always: PR_SET_NO_NEW_PRIVS, no capabilities, RLIMIT_CORE 0, no changing an rlimit,
 * no ptrace, process_vm_readv/writev, bpf, mount, namespaces, io_uring, keyrings, no
 * chmod, chown, xattrs or file times; with Landlock, no files but s's and no signals or
 * abstract-socket connections to processes outside the sandbox.
 * Returns 0, or -errno with why (may be NULL) saying what failed; the process may then
 * be half locked down and should exit. On success why is "" or a note on what this
 * kernel could not enforce (older or absent Landlock, AddressSanitizer): the caller
 * decides whether that is acceptable (sb_landlock_abi). */
int sb_enter(const sb_spec *s, char *why, size_t whysz);

/* The Landlock ABI version the running kernel offers; 0 when it has none (too old, or
 * Landlock not enabled at boot). */
int sb_landlock_abi(void);

#endif
