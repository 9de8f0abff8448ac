/* sandbox.c - placeholder until the sandbox branch lands: nothing is enforced. */
#include "worker/sandbox.h"

#include <stdio.h>

int sb_enter(const sb_spec *s, char *why, size_t whysz) {
    (void)s;
    if (why) snprintf(why, whysz, "no sandbox in this build");
    return 0;
}

int sb_landlock_abi(void) { return 0; }
