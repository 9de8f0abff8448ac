/* Unit tests for worker/sandbox.c. Each case forks a child that enters the sandbox and
 * tries things; the child reports the first check that did not hold through a pipe and
 * its exit status, and the parent asserts on both. Landlock cases skip (with a message)
 * on a kernel without the Landlock ABI they need; RLIMIT_AS cases skip under
 * AddressSanitizer, whose shadow memory is terabytes of address space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <duckdb.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/proclimit.h"
#include "worker/sandbox.h"

extern char **environ;

/* base/ro (holds data.txt and p.duckdb), base/rw, base/outside.txt */
static char base[64], ro_dir[96], rw_dir[96], ro_file[128], outside_file[128], ro_db[128];

/* ---- child side ------------------------------------------------------------------- */

static int report_fd = -1;

/* Sends the parent a line saying why the child fails. */
__attribute__((format(printf, 1, 2))) static void report(const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n > 0 && report_fd >= 0) {
        ssize_t w = write(report_fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        (void)w;
    }
}

/* In a child: the first check that does not hold ends it with its line and errno. */
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            report("line %d: %s (errno %d %s)", __LINE__, #cond, errno, strerror(errno));    \
            return 1;                                                                        \
        }                                                                                    \
    } while (0)

/* The spec most cases use: base/ro read-only, base/rw read-write, no network, no spawn. */
static sb_spec spec_default(void) {
    static const char *ro[1], *rw[1];
    ro[0] = ro_dir;
    rw[0] = rw_dir;
    return (sb_spec){.ro_paths = ro, .n_ro = 1, .rw_paths = rw, .n_rw = 1, .no_network = true, .no_spawn = true};
}

static int enter(const sb_spec *s) {
    char why[256];
    int rc = sb_enter(s, why, sizeof why);
    if (rc != 0) report("sb_enter: %d %s", rc, why);
    return rc;
}

#define ENTER(spec) CHECK(enter(spec) == 0)

typedef int (*child_fn)(void *arg);

typedef struct {
    int status;
    char msg[512];
} child_result;

/* Runs fn(arg) in a child process; fills r with its wait status and report. */
static void run_child(child_fn fn, void *arg, child_result *r) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        report_fd = p[1];
        _exit(fn(arg) ? 1 : 0); /* _exit: no atexit handlers, no LeakSanitizer pass */
    }
    close(p[1]);
    size_t len = 0;
    ssize_t n;
    while (len < sizeof r->msg - 1 && (n = read(p[0], r->msg + len, sizeof r->msg - 1 - len)) > 0)
        len += (size_t)n;
    r->msg[len] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

/* Runs fn in a child and fails the test unless it exits 0. */
static void child_ok(child_fn fn, void *arg) {
    child_result r;
    run_child(fn, arg, &r);
    if (WIFSIGNALED(r.status)) fail_msg("child killed by signal %d; %s", WTERMSIG(r.status), r.msg);
    if (WEXITSTATUS(r.status) != 0) fail_msg("child: %s", r.msg);
}

static bool need_landlock(int abi, const char *what) {
    int have = sb_landlock_abi();
    if (have >= abi) return true;
    print_message("[  SKIPPED ] %s needs Landlock ABI %d, this kernel has %d\n", what, abi, have);
    return false;
}

/* ---- files ------------------------------------------------------------------------ */

static int child_ro_read(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    char buf[16] = {0};
    int fd = open(ro_file, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(read(fd, buf, sizeof buf - 1) == 5 && strcmp(buf, "hello") == 0);
    close(fd);
    DIR *d = opendir(ro_dir);
    CHECK(d != NULL);
    closedir(d);
    return 0;
}

static void test_ro_file_can_be_read(void **state) {
    if (!need_landlock(1, "files")) skip();
    child_ok(child_ro_read, NULL);
}

static int child_ro_write(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    char p[160];
    snprintf(p, sizeof p, "%s/new.txt", ro_dir);
    CHECK(open(ro_file, O_WRONLY) == -1 && errno == EACCES);
    CHECK(open(ro_file, O_RDWR) == -1 && errno == EACCES);
    if (sb_landlock_abi() >= 3) /* truncate(2) is governed from ABI 3 */
        CHECK(truncate(ro_file, 0) == -1 && errno == EACCES);
    CHECK(open(p, O_WRONLY | O_CREAT, 0644) == -1 && errno == EACCES);
    CHECK(unlink(ro_file) == -1 && errno == EACCES);
    return 0;
}

static void test_ro_file_cannot_be_written(void **state) {
    if (!need_landlock(1, "files")) skip();
    child_ok(child_ro_write, NULL);
}

static int child_rw(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    char sub[160], f[200], moved[200];
    snprintf(sub, sizeof sub, "%s/sub", rw_dir);
    snprintf(f, sizeof f, "%s/f.bin", sub);
    snprintf(moved, sizeof moved, "%s/moved.bin", rw_dir);
    CHECK(mkdir(sub, 0755) == 0);
    int fd = open(f, O_RDWR | O_CREAT | O_EXCL, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "abcdef", 6) == 6);
    CHECK(ftruncate(fd, 3) == 0);
    close(fd);
    CHECK(truncate(f, 2) == 0);
    CHECK(rename(f, moved) == 0); /* to another directory of the tree */
    struct stat st;
    CHECK(stat(moved, &st) == 0 && st.st_size == 2);
    CHECK(unlink(moved) == 0);
    CHECK(rmdir(sub) == 0);
    return 0;
}

static void test_rw_dir_allows_create_write_rename_remove(void **state) {
    if (!need_landlock(1, "files")) skip();
    child_ok(child_rw, NULL);
}

static int child_outside(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    char p[160];
    CHECK(open("/etc/passwd", O_RDONLY) == -1 && errno == EACCES);
    CHECK(open(outside_file, O_RDONLY) == -1 && errno == EACCES);
    CHECK(opendir("/") == NULL && errno == EACCES);
    snprintf(p, sizeof p, "%s/new", base);
    CHECK(mkdir(p, 0755) == -1 && errno == EACCES);
    /* Not granted even in the read-write tree. */
    snprintf(p, sizeof p, "%s/link", rw_dir);
    CHECK(symlink("/etc/passwd", p) == -1 && errno == EACCES);
    snprintf(p, sizeof p, "%s/fifo", rw_dir);
    CHECK(mkfifo(p, 0600) == -1 && errno == EACCES);
    return 0;
}

static void test_paths_outside_are_denied(void **state) {
    if (!need_landlock(1, "files")) skip();
    child_ok(child_outside, NULL);
}

/* ---- network ---------------------------------------------------------------------- */

static int child_tcp_connect(void *arg) {
    const struct sockaddr_in *to = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* before: socket() itself is denied after */
    CHECK(fd >= 0);
    sb_spec s = spec_default();
    ENTER(&s);
    CHECK(connect(fd, (const struct sockaddr *)to, sizeof *to) == -1 && errno == EACCES);
    return 0;
}

static void test_tcp_connect_to_loopback_listener_fails(void **state) {
    if (!need_landlock(4, "TCP rules")) skip();
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 4), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    child_ok(child_tcp_connect, &a);
    close(l);
}

static int child_tcp_bind(void *arg) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    sb_spec s = spec_default();
    ENTER(&s);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == -1 && errno == EACCES);
    return 0;
}

static void test_tcp_bind_fails(void **state) {
    if (!need_landlock(4, "TCP rules")) skip();
    child_ok(child_tcp_bind, NULL);
}

static int child_sockets(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    static const int families[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        errno = 0;
        int fd = socket(families[i], SOCK_DGRAM, 0);
        if (fd >= 0 || errno != EACCES) {
            report("socket(family %d): %d, errno %d", families[i], fd, errno);
            return 1;
        }
    }
    int sp[2];
    char c = 0;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    CHECK(write(sp[0], "x", 1) == 1 && read(sp[1], &c, 1) == 1 && c == 'x');
    return 0;
}

static void test_new_sockets_fail_but_socketpair_works(void **state) { child_ok(child_sockets, NULL); }

static int child_abstract(void *arg) {
    const struct sockaddr_un *to = arg;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    sb_spec s = spec_default();
    ENTER(&s);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(to->sun_path + 1));
    CHECK(connect(fd, (const struct sockaddr *)to, len) == -1 && errno == EPERM);
    return 0;
}

static void test_abstract_socket_outside_is_unreachable(void **state) {
    if (!need_landlock(6, "scoping of abstract sockets")) skip();
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "ds-sandbox-test-%d", (int)getpid());
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1));
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(l, (struct sockaddr *)&a, len), 0);
    assert_int_equal(listen(l, 4), 0);
    child_ok(child_abstract, &a);
    close(l);
}

/* ---- processes and signals -------------------------------------------------------- */

static void *thread_main(void *arg) {
    *(int *)arg = 42;
    return NULL;
}

static int child_spawn(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    pid_t p = fork();
    if (p == 0) _exit(0);
    if (p > 0) waitpid(p, NULL, 0);
    CHECK(p == -1 && errno == EPERM);
    p = (pid_t)syscall(SYS_fork); /* glibc's fork() is clone(); this is the old call */
    if (p == 0) _exit(0);
    if (p > 0) waitpid(p, NULL, 0);
    CHECK(p == -1 && errno == EPERM);
    p = vfork(); /* glibc's, which is safe to call this way (a raw syscall() is not) */
    if (p == 0) _exit(0);
    CHECK(p == -1 && errno == EPERM);
    /* clone3 as fork, flags in memory: ENOSYS (pthread_create falls back to clone). */
    struct {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    } cl = {.exit_signal = SIGCHLD};
    p = (pid_t)syscall(SYS_clone3, &cl, sizeof cl);
    if (p == 0) _exit(0);
    if (p > 0) waitpid(p, NULL, 0);
    CHECK(p == -1 && errno == ENOSYS);
    char *argv[] = {"false", NULL}; /* should an exec get through, the child fails */
    CHECK(execve("/bin/false", argv, environ) == -1 && errno == EPERM);
    CHECK(posix_spawn(&p, "/bin/false", NULL, NULL, argv, environ) != 0);
    pthread_t t;
    int v = 0;
    CHECK(pthread_create(&t, NULL, thread_main, &v) == 0);
    CHECK(pthread_join(t, NULL) == 0 && v == 42);
    return 0;
}

static void test_fork_fails_but_threads_work(void **state) { child_ok(child_spawn, NULL); }

/* Signals only go inward: the sandboxed child cannot signal its parent, the parent can
 * still kill the child. */
static void test_parent_can_kill_child_but_not_the_reverse(void **state) {
    if (!need_landlock(6, "scoping of signals")) skip();
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        sb_spec s = spec_default();
        char why[256];
        if (sb_enter(&s, why, sizeof why) != 0) _exit(2);
        char c = (kill(getppid(), 0) == -1 && errno == EPERM) ? 'y' : 'n';
        if (write(p[1], &c, 1) != 1) _exit(3);
        for (;;) pause();
    }
    close(p[1]);
    char c = 0;
    ssize_t n = read(p[0], &c, 1);
    close(p[0]);
    int killed = kill(pid, SIGTERM), status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(n, 1);
    assert_int_equal(c, 'y'); /* the child could not signal the parent */
    assert_int_equal(killed, 0);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
}

static int child_denied_calls(void *arg) {
    sb_spec s = spec_default();
    s.no_network = s.no_spawn = false; /* denied whatever the spec */
    ENTER(&s);
    CHECK(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1 && errno == EPERM);
    char buf[128] = {0}, copy[8]; /* buf: room for struct io_uring_params */
    struct iovec local = {copy, sizeof copy}, remote = {buf, sizeof copy};
    /* Of itself: of another process Landlock alone would refuse it. */
    CHECK(process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == -1 && errno == EPERM);
    CHECK(unshare(CLONE_NEWUSER) == -1 && errno == EPERM);
    CHECK(syscall(SYS_io_uring_setup, 4, buf) == -1 && errno == EPERM);
    return 0;
}

static void test_debugging_and_namespace_calls_are_denied(void **state) { child_ok(child_denied_calls, NULL); }

/* An i386 system call (int 0x80) or an x32 one would bypass a filter written for
 * x86_64 numbers: the filter kills the process. */
#if defined(__x86_64__)
static int child_i386_call(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L /* i386 getpid */) : "memory");
    report("int 0x80 returned %ld", r);
    return 1;
}

static int child_x32_call(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    long r = syscall(0x40000000 /* __X32_SYSCALL_BIT */ | SYS_getpid);
    report("x32 getpid returned %ld", r);
    return 1;
}

#endif

static void test_other_syscall_abis_kill_the_process(void **state) {
#if !defined(__x86_64__)
    print_message("[  SKIPPED ] i386 and x32 calls exist on x86_64 only\n");
    skip();
#else
    child_fn fns[] = {child_i386_call, child_x32_call};
    for (int i = 0; i < 2; i++) {
        child_result r;
        run_child(fns[i], NULL, &r);
        if (!WIFSIGNALED(r.status) || WTERMSIG(r.status) != SIGSYS)
            fail_msg("child %d: status 0x%x, %s", i, r.status, r.msg);
    }
#endif
}

static int child_metadata(void *arg) {
    sb_spec s = spec_default();
    ENTER(&s);
    /* The files are root's and so, when the test runs as root, the child's to change. */
    int fd = open(ro_file, O_RDONLY);
    CHECK(fd >= 0);
    CHECK(chmod(ro_file, 0644) == -1 && errno == EPERM);
    CHECK(fchmod(fd, 0644) == -1 && errno == EPERM);
    CHECK(fchownat(AT_FDCWD, ro_file, getuid(), getgid(), 0) == -1 && errno == EPERM);
    CHECK(fsetxattr(fd, "user.ds", "x", 1, 0) == -1 && errno == EPERM);
    CHECK(utimensat(AT_FDCWD, ro_file, NULL, 0) == -1 && errno == EPERM);
    return 0;
}

static void test_file_metadata_cannot_be_changed(void **state) { child_ok(child_metadata, NULL); }

static int child_caps(void *arg) {
    bool root = geteuid() == 0;
    sb_spec s = spec_default();
    ENTER(&s);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    CHECK(syscall(SYS_capget, &h, d) == 0);
    CHECK((d[0].effective | d[0].permitted | d[0].inheritable | d[1].effective | d[1].permitted |
           d[1].inheritable) == 0);
    if (root) {
        /* uid 0 without CAP_SETUID cannot become another user; nor regain caps by exec. */
        CHECK(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 0);
        CHECK(setuid(12345) == -1 && errno == EPERM);
    }
    return 0;
}

static void test_capabilities_are_gone(void **state) { child_ok(child_caps, NULL); }

/* ---- limits ----------------------------------------------------------------------- */

static int child_fsize(void *arg) {
    sb_spec s = spec_default();
    s.file_bytes = 8192;
    ENTER(&s);
    char p[160], block[4096] = {0};
    snprintf(p, sizeof p, "%s/big.bin", rw_dir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, block, sizeof block) == 4096 && write(fd, block, sizeof block) == 4096);
    CHECK(write(fd, block, 1) == -1 && errno == EFBIG); /* alive: SIGXFSZ is ignored */
    close(fd);
    CHECK(unlink(p) == 0);
    return 0;
}

static void test_write_past_file_bytes_fails_with_efbig(void **state) { child_ok(child_fsize, NULL); }

static int child_mem(void *arg) {
    sb_spec s = spec_default();
    s.mem_bytes = 256 << 20;
    ENTER(&s);
    void *big = malloc(512u << 20);
    CHECK(big == NULL);
    void *small = malloc(1 << 20);
    CHECK(small != NULL);
    memset(small, 1, 1 << 20);
    free(small);
    return 0;
}

static void test_malloc_past_mem_bytes_returns_null(void **state) {
#ifdef DS_ASAN
    print_message("[  SKIPPED ] RLIMIT_AS cannot apply under AddressSanitizer\n");
    skip();
#endif
    child_ok(child_mem, NULL);
}

static int child_limits(void *arg) {
    sb_spec s = spec_default();
    s.file_bytes = 1 << 20;
    s.max_files = 32;
    ENTER(&s);
    struct rlimit rl;
    CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
    CHECK(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0);
    CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur == 1 << 20 && rl.rlim_max == 1 << 20);
    rl.rlim_cur = 1 << 19; /* not even lowering: no setrlimit at all */
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == -1 && errno == EPERM);
    int last = -1, fd;
    while ((fd = dup(report_fd)) >= 0) last = fd;
    CHECK(errno == EMFILE && last < 32 && last >= 3);
    return 0;
}

static void test_limits_hold_and_cannot_be_changed(void **state) { child_ok(child_limits, NULL); }

/* ---- what stays open, and refusals ------------------------------------------------ */

static int child_inherited(void *arg) {
    int fd = *(int *)arg;
    int passwd = open("/etc/passwd", O_RDONLY); /* opened before: stays readable */
    CHECK(passwd >= 0);
    sb_spec s = spec_default();
    ENTER(&s);
    char buf[8] = {0};
    CHECK(write(fd, "ping", 4) == 4);
    CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "pong", 4) == 0);
    CHECK(read(passwd, buf, 4) == 4);
    return 0;
}

static void test_inherited_fds_keep_working(void **state) {
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    /* The parent answers the child's ping itself, so no run_child here. */
    int p[2];
    assert_int_equal(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        close(sp[0]);
        report_fd = p[1];
        _exit(child_inherited(&sp[1]) ? 1 : 0);
    }
    close(p[1]);
    close(sp[1]);
    char buf[4] = {0};
    if (read(sp[0], buf, 4) == 4 && memcmp(buf, "ping", 4) == 0 && write(sp[0], "pong", 4) != 4)
        buf[0] = 0;
    char msg[512] = {0};
    ssize_t n = read(p[0], msg, sizeof msg - 1);
    (void)n;
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(p[0]);
    close(sp[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("child: status 0x%x, %s", status, msg);
    assert_memory_equal(buf, "ping", 4);
}

static void *sleeper(void *arg) {
    pause();
    return arg;
}

static int child_threads_running(void *arg) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0);
    sb_spec s = spec_default();
    char why[256];
    CHECK(sb_enter(&s, why, sizeof why) == -EBUSY && strstr(why, "threads") != NULL);
    return 0;
}

static void test_enter_refuses_when_threads_run(void **state) { child_ok(child_threads_running, NULL); }

static int child_missing_path(void *arg) {
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-dir", base);
    const char *ro[] = {missing};
    sb_spec s = {.ro_paths = ro, .n_ro = 1};
    char why[256];
    CHECK(sb_enter(&s, why, sizeof why) == -ENOENT && strstr(why, missing) != NULL);
    return 0;
}

static void test_enter_reports_a_missing_path(void **state) {
    if (!need_landlock(1, "path rules")) skip();
    child_ok(child_missing_path, NULL);
}

/* ---- DuckDB in the sandbox -------------------------------------------------------- */

static int query(duckdb_connection c, const char *sql, char **first, char **error) {
    duckdb_result r;
    int ok = duckdb_query(c, sql, &r) == DuckDBSuccess;
    if (first) *first = ok && duckdb_row_count(&r) > 0 ? duckdb_value_varchar(&r, 0, 0) : NULL;
    if (error) *error = ok ? NULL : strdup(duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return ok ? 0 : -1;
}

/* In a child, so that no DuckDB thread runs in the test process: the read-only
 * database the sandboxed child attaches. */
static int child_make_ro_db(void *arg) {
    duckdb_database db;
    duckdb_connection c;
    CHECK(duckdb_open(ro_db, &db) == DuckDBSuccess);
    CHECK(duckdb_connect(db, &c) == DuckDBSuccess);
    CHECK(query(c, "CREATE TABLE src AS SELECT range AS i FROM range(12345)", NULL, NULL) == 0);
    duckdb_disconnect(&c);
    duckdb_close(&db);
    CHECK(chmod(ro_db, 0444) == 0);
    return 0;
}

/* Whether the first value v is want (NULL: any). */
static bool value_is(const char *v, const char *want) { return !want || (v && strcmp(v, want) == 0); }

#define QUERY_OK(c, sql, want)                                                               \
    do {                                                                                     \
        char *v_ = NULL, *e_ = NULL;                                                         \
        if (query(c, sql, &v_, &e_) != 0 || !value_is(v_, want)) {                           \
            report("line %d: %s -> %s", __LINE__, sql, e_ ? e_ : v_ ? v_ : "(null)");        \
            return 1;                                                                        \
        }                                                                                    \
        duckdb_free(v_);                                                                     \
    } while (0)

#define QUERY_FAILS(c, sql, want_error)                                                      \
    do {                                                                                     \
        char *e_ = NULL;                                                                     \
        if (query(c, sql, NULL, &e_) == 0 || !strstr(e_, want_error)) {                      \
            report("line %d: %s should fail with '%s', got %s", __LINE__, sql, want_error,   \
                   e_ ? e_ : "success");                                                     \
            return 1;                                                                        \
        }                                                                                    \
        free(e_);                                                                            \
    } while (0)

/* What a worker does: its database in the read-write tree, a project table file attached
 * READ_ONLY from the read-only tree, a sort that spills to a temp directory in the
 * read-write tree. threads and memory_limit are set: left at their defaults DuckDB
 * reads /proc/self/cgroup and the cgroup's files, which the sandbox does not grant, and
 * the open fails. */
static int child_duckdb(void *arg) {
    char dbpath[160], tmp[160];
    snprintf(dbpath, sizeof dbpath, "%s/w.duckdb", rw_dir);
    snprintf(tmp, sizeof tmp, "%s/tmp", rw_dir);
    sb_spec s = spec_default();
    s.file_bytes = 1LL << 30;
    s.max_files = 256;
#ifndef DS_ASAN
    s.mem_bytes = 1LL << 30;
#endif
    ENTER(&s);
    duckdb_config cfg;
    duckdb_database db;
    duckdb_connection c;
    char *err = NULL;
    CHECK(duckdb_create_config(&cfg) == DuckDBSuccess);
    duckdb_set_config(cfg, "threads", "2");
    duckdb_set_config(cfg, "memory_limit", "256MB");
    duckdb_set_config(cfg, "temp_directory", tmp);
    duckdb_set_config(cfg, "autoinstall_known_extensions", "false");
    duckdb_set_config(cfg, "autoload_known_extensions", "false");
    if (duckdb_open_ext(dbpath, &db, cfg, &err) != DuckDBSuccess) {
        report("open: %s", err ? err : "?");
        return 1;
    }
    duckdb_destroy_config(&cfg);
    CHECK(duckdb_connect(db, &c) == DuckDBSuccess);
    QUERY_OK(c, "CREATE TABLE t AS SELECT range AS i FROM range(100000)", NULL);
    QUERY_OK(c, "SELECT sum(i) FROM t", "4999950000");
    char attach[256];
    snprintf(attach, sizeof attach, "ATTACH '%s' AS p (READ_ONLY)", ro_db);
    QUERY_OK(c, attach, NULL);
    QUERY_OK(c, "SELECT count(*) FROM p.src", "12345");
    QUERY_FAILS(c, "INSERT INTO p.src VALUES (1)", "read-only");
    QUERY_OK(c, "SET memory_limit = '64MB'", NULL);
    QUERY_OK(c, "SELECT count(*) FROM (SELECT md5(range::VARCHAR) m FROM range(2000000) ORDER BY m)", "2000000");
    struct stat st;
    CHECK(stat(tmp, &st) == 0 && S_ISDIR(st.st_mode)); /* it did spill there */
    QUERY_OK(c, "CHECKPOINT", NULL);
    QUERY_FAILS(c, "SELECT count(*) FROM read_csv('/etc/passwd')", "Permission denied");
#ifndef DS_ASAN
    /* Far past memory_limit in one allocation: only RLIMIT_AS stops it. */
    QUERY_FAILS(c, "SELECT length(repeat('x', 3000000000))", "Out of Memory Error");
    QUERY_OK(c, "SELECT 42", "42");
#endif
    duckdb_disconnect(&c);
    duckdb_close(&db);
    return 0;
}

static void test_duckdb_works_in_sandbox(void **state) {
    if (!need_landlock(1, "files")) skip();
    child_ok(child_make_ro_db, NULL);
    child_ok(child_duckdb, NULL);
}

/* ---- fixture ---------------------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(p);
}

static int setup(void **state) {
    snprintf(base, sizeof base, "/tmp/ds-sandbox-XXXXXX");
    if (!mkdtemp(base)) return -1;
    snprintf(ro_dir, sizeof ro_dir, "%s/ro", base);
    snprintf(rw_dir, sizeof rw_dir, "%s/rw", base);
    snprintf(ro_file, sizeof ro_file, "%s/data.txt", ro_dir);
    snprintf(ro_db, sizeof ro_db, "%s/p.duckdb", ro_dir);
    snprintf(outside_file, sizeof outside_file, "%s/outside.txt", base);
    if (mkdir(ro_dir, 0755) || mkdir(rw_dir, 0755)) return -1;
    write_file(ro_file, "hello");
    write_file(outside_file, "secret");
    return 0;
}

static int teardown(void **state) {
    return nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ro_file_can_be_read),
        cmocka_unit_test(test_ro_file_cannot_be_written),
        cmocka_unit_test(test_rw_dir_allows_create_write_rename_remove),
        cmocka_unit_test(test_paths_outside_are_denied),
        cmocka_unit_test(test_tcp_connect_to_loopback_listener_fails),
        cmocka_unit_test(test_tcp_bind_fails),
        cmocka_unit_test(test_new_sockets_fail_but_socketpair_works),
        cmocka_unit_test(test_abstract_socket_outside_is_unreachable),
        cmocka_unit_test(test_fork_fails_but_threads_work),
        cmocka_unit_test(test_parent_can_kill_child_but_not_the_reverse),
        cmocka_unit_test(test_debugging_and_namespace_calls_are_denied),
        cmocka_unit_test(test_other_syscall_abis_kill_the_process),
        cmocka_unit_test(test_file_metadata_cannot_be_changed),
        cmocka_unit_test(test_capabilities_are_gone),
        cmocka_unit_test(test_write_past_file_bytes_fails_with_efbig),
        cmocka_unit_test(test_malloc_past_mem_bytes_returns_null),
        cmocka_unit_test(test_limits_hold_and_cannot_be_changed),
        cmocka_unit_test(test_inherited_fds_keep_working),
        cmocka_unit_test(test_enter_refuses_when_threads_run),
        cmocka_unit_test(test_enter_reports_a_missing_path),
        cmocka_unit_test(test_duckdb_works_in_sandbox),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
