/* privs.c - dropping the file-permission capabilities, or all (see privs.h for why).
 *
 * Raw capget/capset and prctl(PR_CAPBSET_DROP): the three capabilities are below 32, so
 * only the first of the two 32-bit words of _LINUX_CAPABILITY_VERSION_3 changes (all of
 * them: both words zero). No libcap: it would be one more run-time dependency for three
 * system calls. */
#include "util/privs.h"
#include "util/proclimit.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int dropped_caps[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER};
#define NDROPPED (sizeof dropped_caps / sizeof dropped_caps[0])

static uint32_t drop_mask(void) {
    uint32_t m = 0;
    for (size_t i = 0; i < NDROPPED; i++) m |= 1u << dropped_caps[i];
    return m;
}

static int caps_get(struct __user_cap_data_struct d[2]) {
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    memset(d, 0, 2 * sizeof d[0]);
    return syscall(SYS_capget, &h, d) == 0 ? 0 : -errno;
}

bool privs_can_override_files(void) {
    struct __user_cap_data_struct d[2];
    return caps_get(d) == 0 && (d[0].effective & drop_mask()) != 0;
}

int privs_drop_file_override(bool *held, char *why, size_t whysz) {
    struct __user_cap_data_struct d[2];
    uint32_t mask = drop_mask();
    *held = false;
    if (why && whysz) why[0] = '\0';
    int rc = caps_get(d);
    if (rc) {
        if (why) snprintf(why, whysz, "capget: %s", strerror(-rc));
        return rc;
    }
    *held = ((d[0].effective | d[0].permitted) & mask) != 0;
    if (*held && proc_thread_count() > 1) {
        /* Threads already running would keep them: a start-up order mistake. */
        if (why) snprintf(why, whysz, "other threads already run and would keep the capabilities");
        return -EBUSY;
    }
    /* The bounding set first: dropping from it needs CAP_SETPCAP, which stays. */
    int bounding_failed = 0;
    if (d[0].effective & (1u << CAP_SETPCAP)) {
        for (size_t i = 0; i < NDROPPED; i++)
            if (prctl(PR_CAPBSET_READ, dropped_caps[i], 0, 0, 0) == 1 &&
                prctl(PR_CAPBSET_DROP, dropped_caps[i], 0, 0, 0) != 0)
                bounding_failed = errno;
    }
    if (*held || (d[0].inheritable & mask)) {
        d[0].effective &= ~mask;
        d[0].permitted &= ~mask;
        d[0].inheritable &= ~mask;
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        if (syscall(SYS_capset, &h, d) != 0) {
            rc = -errno;
            if (why) snprintf(why, whysz, "capset: %s", strerror(errno));
            return rc;
        }
    }
    if (why && bounding_failed)
        snprintf(why, whysz, "could not drop them from the bounding set: %s", strerror(bounding_failed));
    return 0;
}

int privs_drop_all(char *why, size_t whysz) {
    struct __user_cap_data_struct d[2];
    if (why && whysz) why[0] = '\0';
    int rc = caps_get(d);
    if (rc) {
        if (why) snprintf(why, whysz, "capget: %s", strerror(-rc));
        return rc;
    }
    /* The bounding set first, while CAP_SETPCAP is there; READ fails past the last cap. */
    if (d[0].effective & (1u << CAP_SETPCAP)) {
        for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
            if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
                rc = -errno;
                if (why) snprintf(why, whysz, "PR_CAPBSET_DROP %d: %s", c, strerror(errno));
                return rc;
            }
    }
    /* EINVAL before Linux 4.3, which has no ambient set to clear. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        rc = -errno;
        if (why) snprintf(why, whysz, "PR_CAP_AMBIENT_CLEAR_ALL: %s", strerror(errno));
        return rc;
    }
    memset(d, 0, 2 * sizeof d[0]);
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    if (syscall(SYS_capset, &h, d) != 0) {
        rc = -errno;
        if (why) snprintf(why, whysz, "capset: %s", strerror(errno));
        return rc;
    }
    return 0;
}
