/* proclimit.c - limits the kernel enforces on the whole server process.
 *
 * Why RLIMIT_DATA: DuckDB's memory_limit bounds its buffer manager, not every
 * allocation; one SELECT length(repeat('x', 3000000000)) takes ~6 GB whatever the limit,
 * and a few in parallel made the kernel kill the server (security audit S56/S57).
 * Measured with DuckDB 1.4.4: under RLIMIT_DATA the allocation fails and the statement
 * ends with "Failed to allocate ... (bad allocation)", the server and every other
 * session carry on. The server's data segment is ~200 MB when idle. The per-workspace
 * bound that this cannot give comes with worker processes (overview.md, "Isolation"). */
#include "util/proclimit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

int proc_limit_memory(int64_t bytes, int64_t *applied) {
    *applied = 0;
#ifdef DS_ASAN
    (void)bytes;
    return 0;
#else
    if (bytes <= 0) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        if (pages <= 0 || psz <= 0) return -EINVAL;
        bytes = (int64_t)pages * psz / 10 * 8;
    }
    return proc_set_limit(RLIMIT_DATA, bytes, false, applied);
#endif
}

int proc_set_limit(int resource, int64_t value, bool hard, int64_t *applied) {
    if (applied) *applied = 0;
    if (value < 0) return -EINVAL;
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0) return -errno;
    rlim_t want = (rlim_t)value;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) want = rl.rlim_max;
    rl.rlim_cur = want;
    if (hard) rl.rlim_max = want;
    if (setrlimit(resource, &rl) != 0) return -errno;
    if (applied) *applied = (int64_t)want;
    return 0;
}

int proc_thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') n++;
    closedir(d);
    return n;
}
