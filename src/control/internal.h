/* internal.h - what the control/ files share. */
#ifndef DS_CONTROL_INTERNAL_H
#define DS_CONTROL_INTERNAL_H

#include "control/control.h"

struct ctl {
    const ds_config *cfg;
    cat *cat;
    wk_pool *pool; /* the workspaces' worker processes */
    /* The SQL front end: set before REST starts and cleared after it stopped, so REST
     * threads read it without a lock. */
    const ctl_sessions_ops *sessions;
    void *sessions_ud;
};

#endif
