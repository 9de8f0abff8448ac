/* privs.h - giving up the capabilities that would let the server write read-only files,
 * and, in a worker process, all of them.
 *
 * Published table files are mode 0444 so that nothing in the process can open them for
 * writing (a workspace reaches them through hard links; see storage.h). Root ignores
 * file modes through CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER (which also
 * allows chmod of any file), so a server started as root gives those up first. */
#ifndef DS_PRIVS_H
#define DS_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* Removes CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the calling
 * thread's effective, permitted and inheritable sets (and so from its ambient set), and
 * from the process's bounding set when the thread may change it (CAP_SETPCAP).
 * Capabilities are per thread and threads inherit them when created: call this before
 * the process starts any thread. *held: whether any of the three was in the effective
 * or permitted set before. Returns 0, or -errno when they could not be dropped (a
 * bounding-set failure alone is not an error: without them in the permitted set the
 * process cannot get them back except through exec of a privileged file, and duckspace
 * never execs); -EBUSY when they are held and other threads already run. why (may be NULL) gets a one-line note on what happened. */
int privs_drop_file_override(bool *held, char *why, size_t whysz);

/* Gives up every capability, for a worker process that needs none: empties the calling
 * thread's effective, permitted, inheritable and ambient sets and, while it still holds
 * CAP_SETPCAP, the process's bounding set (so not even an exec as root brings them
 * back). A process running as uid 0 still owns root's files. Same thread rule as
 * above. Returns 0, or -errno with why (may be NULL) saying what failed. */
int privs_drop_all(char *why, size_t whysz);

/* Whether the calling thread has any of the three in its effective set. */
bool privs_can_override_files(void);

#endif
