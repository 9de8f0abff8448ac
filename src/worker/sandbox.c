/* sandbox.c - a worker process locks itself down before it opens DuckDB (sandbox.h).
 *
 * Kernel mechanisms, none needing privilege once PR_SET_NO_NEW_PRIVS is set:
 * - rlimits: address space, file size, open files, no core dumps.
 * - no capabilities (privs_drop_all): a worker run as root keeps uid 0, nothing more.
 * - Landlock, by raw system calls: Debian 12's linux/landlock.h is Linux 6.1's (ABI 2),
 *   the kernels we run offer ABI 7, so the newer constants and the three-field ruleset
 *   attribute are defined here. Every right the running ABI knows is handled (denied
 *   unless a rule grants it), down to ABI 1.
 * - seccomp, as a raw BPF program (libseccomp would be one more run-time dependency for
 *   one fixed filter). RLIMIT_NPROC cannot stand in for no_spawn: it does not bind a
 *   process with CAP_SYS_ADMIN or CAP_SYS_RESOURCE, and workers may run as root.
 *
 * Measured with DuckDB 1.4.4 in this sandbox (Linux 6.18, Landlock ABI 7, glibc 2.36;
 * its database and temp_directory in a read-write tree, a file attached READ_ONLY from a
 * read-only tree, threads=2; test_duckdb_works_in_sandbox repeats the essentials):
 * - Paths: DuckDB needs none beyond those. Left at their defaults, threads and
 *   memory_limit make the open read /proc/self/cgroup and the cgroup's
 *   memory.limit_in_bytes, and fail ("Cannot open file "/proc/self/cgroup": Permission
 *   denied"): a worker sets both instead of being granted /proc and /sys. Denied and
 *   harmless: /sys/devices/system/cpu/online and /proc/stat (glibc counting CPUs falls
 *   back to sched_getaffinity), /etc/localtime (glibc's local time is UTC; ICU takes the
 *   zone name from readlink, which Landlock does not govern, and has its tz data built
 *   in: SET TimeZone = 'Europe/Prague' works). duckspace's own pgt_tz_load reads
 *   /usr/share/zoneinfo: grant that read-only where session time zones are handled.
 * - VmSize: 67 MB before the open, 78 MB after, 144 MB idle a second later (the worker
 *   thread's glibc arena, 64 MB of address space; 80 MB with M_ARENA_MAX=1), 152 MB
 *   after small queries, 280-370 MB after a sort spilling at memory_limit 100 MB,
 *   1.4-2.1 GB peak (1.1 GB resident) for 10M-row sorts, groups and joins at 1 GB.
 * - SELECT length(repeat('x', 3000000000)) ignores memory_limit: unlimited, it succeeds
 *   after 43 s with VmPeak 8.1 GB (VmSize stays 5.3 GB: DuckDB's jemalloc keeps address
 *   space). Under RLIMIT_AS 2.5 GiB it fails at once with "Out of Memory Error: Failed to
 *   allocate block of 4294967296 bytes (bad allocation)" and the instance carries on. No
 *   run under RLIMIT_AS (100 MiB to 2.5 GiB) aborted: glibc falls back to its main arena
 *   when it cannot reserve another, DuckDB turns failed allocations into errors.
 * - Headroom (10M-row sort, group, join; one run each). memory_limit '1GB' (954 MiB),
 *   threads=2: RLIMIT_AS 1280 MiB failed the group and the join, 1408 MiB and more ran
 *   everything that runs unlimited; '512MB' (488 MiB): 768 MiB failed the sort, 1024 MiB
 *   did not. threads=4 (idle VmSize 288 MB), '1GB': 1680 MiB failed the join, 2048 MiB
 *   did not. So mem_bytes = memory_limit + 512 MiB at threads=2, + 1 GiB at threads=4.
 *   M_ARENA_MAX=2 (mallopt before any thread) trims 64 MiB of arena per thread past the
 *   second (idle 288 -> 160 MB at threads=4, and the join then passed at 1680 MiB) but
 *   did not change the peaks at threads=2: DuckDB's buffers come from its jemalloc. */
#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/privs.h"
#include "util/proclimit.h"

/* Landlock constants newer than linux-libc-dev 6.1 (values from the kernel's uapi). */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The newest ABI whose rights this file knows; a newer kernel's extra rights stay
 * unhandled (allowed), and sb_enter says so. */
#define SB_KNOWN_ABI 7

/* struct landlock_ruleset_attr as of ABI 6; older kernels get a prefix of it. */
struct sb_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net; /* ABI 4 */
    uint64_t scoped;             /* ABI 6 */
};

#define FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
/* The rights a rule on a single file (not a directory) may carry. */
#define FS_FILE_RIGHTS                                                                   \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                        \
     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* Read-only paths: read files and list directories. No EXECUTE: workers never exec, and
 * Landlock's EXECUTE does not govern mmap(PROT_EXEC) anyway. */
#define FS_RO_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* Read-write trees: what DuckDB does with a database, its WAL and its temp directory
 * (create, write, truncate, rename, remove files and directories). Not granted even
 * there: EXECUTE, device nodes, FIFOs, sockets, symlinks, device ioctls. REFER lets a
 * file move between directories of the same tree. */
#define FS_RW_RIGHTS                                                                     \
    (FS_RO_RIGHTS | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |        \
     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR |                         \
     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REFER)

/* Appends a note ("; " between notes) to why, which holds a string already. */
__attribute__((format(printf, 3, 4))) static void note(char *why, size_t whysz, const char *fmt, ...) {
    if (!why || whysz == 0) return;
    size_t len = strlen(why);
    if (len > 0 && len + 2 < whysz) {
        memcpy(why + len, "; ", 3);
        len += 2;
    }
    if (len + 1 >= whysz) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + len, whysz - len, fmt, ap);
    va_end(ap);
}

/* Replaces why with the reason for a failure and returns err (a negative errno). */
__attribute__((format(printf, 4, 5))) static int fail(char *why, size_t whysz, int err, const char *fmt, ...) {
    if (why && whysz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whysz, fmt, ap);
        va_end(ap);
    }
    return err;
}

int sb_landlock_abi(void) {
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v > 0 ? (int)v : 0;
}

/* ---- rlimits ---------------------------------------------------------------------- */

/* Sets soft and hard limit of resource to value (never above the current hard limit). */
static int limit(int resource, const char *name, int64_t value, char *why, size_t whysz) {
    int rc = proc_set_limit(resource, value, true, NULL);
    return rc ? fail(why, whysz, rc, "setrlimit(%s, %lld): %s", name, (long long)value, strerror(-rc)) : 0;
}

static int apply_limits(const sb_spec *s, char *why, size_t whysz) {
    int rc = limit(RLIMIT_CORE, "RLIMIT_CORE", 0, why, whysz);
    if (!rc && s->file_bytes > 0) {
        /* Without this the write past the limit kills the process with SIGXFSZ. */
        struct sigaction sa = {.sa_handler = SIG_IGN};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGXFSZ, &sa, NULL) != 0)
            return fail(why, whysz, -errno, "sigaction(SIGXFSZ): %s", strerror(errno));
        rc = limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", s->file_bytes, why, whysz);
    }
    if (!rc && s->max_files > 0) rc = limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", s->max_files, why, whysz);
    if (!rc && s->mem_bytes > 0) {
#ifdef DS_ASAN
        note(why, whysz, "RLIMIT_AS not set under AddressSanitizer");
#else
        rc = limit(RLIMIT_AS, "RLIMIT_AS", s->mem_bytes, why, whysz);
#endif
    }
    return rc;
}

/* ---- Landlock --------------------------------------------------------------------- */

static uint64_t fs_rights(int abi) {
    uint64_t r = FS_ABI1;
    if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return r;
}

/* Grants want (masked by what the ruleset handles, and to file rights when path is not
 * a directory) beneath path. */
static int add_path(int ruleset, const char *path, uint64_t want, uint64_t handled, char *why,
                    size_t whysz) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) return fail(why, whysz, -errno, "open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = fail(why, whysz, -errno, "stat %s: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    struct landlock_path_beneath_attr rule = {
        .allowed_access = want & handled & (S_ISDIR(st.st_mode) ? ~0ULL : FS_FILE_RIGHTS),
        .parent_fd = fd,
    };
    int rc = 0;
    if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0)
        rc = fail(why, whysz, -errno, "landlock_add_rule %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static int apply_landlock(const sb_spec *s, int abi, char *why, size_t whysz) {
    struct sb_ruleset_attr attr = {.handled_access_fs = fs_rights(abi)};
    size_t attr_size = sizeof attr.handled_access_fs;
    if (abi >= 4) {
        /* No rule ever grants a port: handled means denied. */
        if (s->no_network)
            attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
        attr_size = offsetof(struct sb_ruleset_attr, scoped);
    } else if (s->no_network) {
        note(why, whysz, "Landlock ABI %d has no TCP rules: sockets made before sb_enter may connect", abi);
    }
    if (abi >= 6) {
        /* Both restrict what the sandboxed process does to others (signal a process or
         * connect to an abstract socket outside its domain); the parent still signals it. */
        attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
        attr_size = sizeof attr;
    } else {
        note(why, whysz, "Landlock ABI %d cannot scope signals and abstract sockets", abi);
    }
    if (abi > SB_KNOWN_ABI)
        note(why, whysz, "Landlock ABI %d: rights added after ABI %d are not handled", abi, SB_KNOWN_ABI);

    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
    if (ruleset < 0) return fail(why, whysz, -errno, "landlock_create_ruleset: %s", strerror(errno));
    int rc = 0;
    for (int i = 0; !rc && i < s->n_ro; i++)
        rc = add_path(ruleset, s->ro_paths[i], FS_RO_RIGHTS, attr.handled_access_fs, why, whysz);
    for (int i = 0; !rc && i < s->n_rw; i++)
        rc = add_path(ruleset, s->rw_paths[i], FS_RW_RIGHTS, attr.handled_access_fs, why, whysz);
    if (!rc && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
        rc = fail(why, whysz, -errno, "landlock_restrict_self: %s", strerror(errno));
    close(ruleset);
    return rc;
}

/* ---- seccomp ---------------------------------------------------------------------- */

#if defined(__x86_64__)

/* A straight list of comparisons, about 160 instructions. Cheap all the same: the kernel
 * runs it JIT-compiled, and caches "allowed" for each call whose verdict depends on no
 * argument (Linux 5.11+), so read, write, pread, futex and the like skip it. */
#define BPF_MAX 256

/* x86_64 numbers newer than linux-libc-dev 6.1. */
#define SYS_FCHMODAT2 452    /* Linux 6.6 */
#define SYS_SETXATTRAT 463   /* Linux 6.13 */
#define SYS_REMOVEXATTRAT 466

typedef struct {
    struct sock_filter ins[BPF_MAX];
    unsigned short n;
    bool full;
} bpf_buf;

static void emit(bpf_buf *b, struct sock_filter ins) {
    if (b->n < BPF_MAX)
        b->ins[b->n++] = ins;
    else
        b->full = true;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define LOAD_NR STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* The low 32 bits of argument i (x86_64 is little-endian). */
#define LOAD_ARG_LO(i) STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))
#define LOAD_ARG_HI(i) STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]) + 4)
#define RET(v) STMT(BPF_RET | BPF_K, v)
#define DENY(err) RET(SECCOMP_RET_ERRNO | ((err) & SECCOMP_RET_DATA))

/* System call nr returns -err. The accumulator holds the number before and after. */
static void deny(bpf_buf *b, int nr, int err) {
    emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1));
    emit(b, DENY(err));
}

/* System call nr is allowed when the low 32 bits of argument arg, masked by mask, equal
 * want; otherwise it returns -err. */
static void allow_only_if(bpf_buf *b, int nr, int arg, uint32_t mask, uint32_t want, int err) {
    emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 5));
    emit(b, LOAD_ARG_LO(arg));
    emit(b, STMT(BPF_ALU | BPF_AND | BPF_K, mask));
    emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, want, 1, 0));
    emit(b, DENY(err));
    emit(b, RET(SECCOMP_RET_ALLOW));
}

/* Calls a worker has no use for, and that would reach out of the sandbox or into the
 * kernel's larger attack surfaces. Several need root, listed because workers may be
 * root. io_uring: its operations (socket, connect, openat) bypass seccomp. */
static const int denied_always[] = {
    SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_pidfd_getfd, SYS_kcmp,
    SYS_bpf, SYS_perf_event_open, SYS_userfaultfd, SYS_io_uring_setup, SYS_io_uring_enter,
    SYS_io_uring_register, SYS_keyctl, SYS_add_key, SYS_request_key, SYS_unshare, SYS_setns,
    SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_open_tree, SYS_move_mount,
    SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_mount_setattr,
    SYS_open_by_handle_at, SYS_kexec_load, SYS_kexec_file_load, SYS_init_module,
    SYS_finit_module, SYS_delete_module, SYS_reboot, SYS_swapon, SYS_swapoff, SYS_iopl,
    SYS_ioperm, SYS_acct, SYS_syslog,
    /* The limits set above stay (glibc's getrlimit is prlimit64 without a new limit). */
    SYS_setrlimit,
    /* File metadata: Landlock governs none of these, and a worker running as uid 0 owns
     * every file of root's, such as the 0444 table files it reads (DuckDB uses none). */
    SYS_chmod, SYS_fchmod, SYS_fchmodat, SYS_FCHMODAT2, SYS_chown, SYS_fchown, SYS_lchown,
    SYS_fchownat, SYS_setxattr, SYS_lsetxattr, SYS_fsetxattr, SYS_SETXATTRAT,
    SYS_removexattr, SYS_lremovexattr, SYS_fremovexattr, SYS_REMOVEXATTRAT, SYS_utime,
    SYS_utimes, SYS_futimesat, SYS_utimensat,
};

static void build_filter(const sb_spec *s, bpf_buf *b) {
    /* Another architecture's numbers (i386 via int 0x80) or the x32 ABI: kill. */
    emit(b, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
    emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
    emit(b, RET(SECCOMP_RET_KILL_PROCESS));
    emit(b, LOAD_NR);
    emit(b, JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, 0, 1));
    emit(b, RET(SECCOMP_RET_KILL_PROCESS));

    for (size_t i = 0; i < sizeof denied_always / sizeof denied_always[0]; i++)
        deny(b, denied_always[i], EPERM);
    /* prlimit64 only to read: new_limit (argument 2) must be NULL, both halves. */
    emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prlimit64, 0, 6));
    emit(b, LOAD_ARG_LO(2));
    emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2));
    emit(b, LOAD_ARG_HI(2));
    emit(b, JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0));
    emit(b, DENY(EPERM));
    emit(b, RET(SECCOMP_RET_ALLOW));

    if (s->no_spawn) {
        deny(b, SYS_fork, EPERM);
        deny(b, SYS_vfork, EPERM);
        deny(b, SYS_execve, EPERM);
        deny(b, SYS_execveat, EPERM);
        /* clone3 passes its flags in memory, out of BPF's reach: ENOSYS makes glibc's
         * pthread_create fall back to clone, whose flags are argument 0. */
        deny(b, SYS_clone3, ENOSYS);
        allow_only_if(b, SYS_clone, 0, CLONE_THREAD, CLONE_THREAD, EPERM);
    }
    if (s->no_network) {
        /* Every family, AF_UNIX included: Landlock (to ABI 7) does not govern connect()
         * to a named socket such as /run/docker.sock. The parent passes what the worker
         * needs as open descriptors. */
        deny(b, SYS_socket, EACCES);
        allow_only_if(b, SYS_socketpair, 0, 0xffffffffu, AF_UNIX, EACCES);
    }
    emit(b, RET(SECCOMP_RET_ALLOW));
}

static int apply_seccomp(const sb_spec *s, char *why, size_t whysz) {
    bpf_buf b = {.n = 0};
    build_filter(s, &b);
    if (b.full) return fail(why, whysz, -E2BIG, "seccomp filter longer than %d instructions", BPF_MAX);
    struct sock_fprog prog = {.len = b.n, .filter = b.ins};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        return fail(why, whysz, -errno, "seccomp: %s", strerror(errno));
    return 0;
}

#else
/* The filter is written for x86_64 numbers and ABIs; elsewhere sb_enter refuses rather
 * than run without it (the rest of the program still builds). */
static int apply_seccomp(const sb_spec *s, char *why, size_t whysz) {
    return fail(why, whysz, -ENOSYS, "no seccomp filter for this architecture (x86_64 only)");
}
#endif

/* ---- all together ----------------------------------------------------------------- */

int sb_enter(const sb_spec *s, char *why, size_t whysz) {
    if (why && whysz) why[0] = '\0';
    if ((s->n_ro > 0 && !s->ro_paths) || (s->n_rw > 0 && !s->rw_paths) || s->n_ro < 0 || s->n_rw < 0)
        return fail(why, whysz, -EINVAL, "path count without paths");
    if (proc_thread_count() > 1)
        return fail(why, whysz, -EBUSY, "other threads already run and would stay outside the sandbox");
    int rc = apply_limits(s, why, whysz);
    if (rc) return rc;
    /* Required by seccomp and Landlock without CAP_SYS_ADMIN; also no set-id gain on exec. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail(why, whysz, -errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    char cwhy[160];
    if ((rc = privs_drop_all(cwhy, sizeof cwhy)) != 0)
        return fail(why, whysz, rc, "capabilities: %s", cwhy);
    int abi = sb_landlock_abi();
    if (abi > 0)
        rc = apply_landlock(s, abi, why, whysz);
    else
        note(why, whysz, "no Landlock in this kernel: files and TCP not restricted");
    return rc ? rc : apply_seccomp(s, why, whysz);
}
