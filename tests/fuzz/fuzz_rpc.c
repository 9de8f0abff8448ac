/* libFuzzer target: what one process of the main/worker pair reads from the other
 * (worker/rpc.c frames, worker/records.c records). The main process does not trust a
 * worker: any bytes must give a clean refusal. A record that reads must read back the
 * same after writing it out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker/records.h"
#include "worker/rpc.h"

static void records(const json_t *o) {
    cat_table t, t2;
    if (rec_table_from(o, &t) == 0) {
        json_t *j = rec_table_json(&t);
        if (!j || rec_table_from(j, &t2) != 0) abort();
        if (strcmp(t.name, t2.name) || strcmp(t.bucket_id, t2.bucket_id) || t.generation != t2.generation ||
            (t.columns_json == NULL) != (t2.columns_json == NULL) ||
            (t.columns_json && strcmp(t.columns_json, t2.columns_json)))
            abort();
        json_decref(j);
        cat_table_clear(&t);
        cat_table_clear(&t2);
    }
    cat_workspace w;
    if (rec_workspace_from(o, &w) == 0 && (strlen(w.id) >= sizeof w.id || strlen(w.username) >= sizeof w.username))
        abort();
    stor_ws_paths p;
    if (rec_paths_from(o, &p) == 0 && strlen(p.db) >= sizeof p.db) abort();
    ds_err e;
    if (json_is_object(o) && rpc_err_from_json(o, &e) >= 0) abort(); /* always an error code */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* One frame's body. */
    json_t *o = rpc_parse(data, size);
    if (o) {
        records(o);
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) records(v);
        json_decref(o);
    }
    /* The bytes as a stream of frames on a socket (small frames: max 1024). */
    int sv[2];
    if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 0;
    if (write(sv[0], data, size) != (ssize_t)size) abort();
    close(sv[0]);
    for (;;) {
        json_t *f = NULL;
        int fd = -1;
        int r = rpc_recv_frame(sv[1], &f, &fd, 1024);
        if (r != 1) {
            if (f || fd != -1) abort();
            break;
        }
        if (!json_is_object(f)) abort();
        json_decref(f);
    }
    close(sv[1]);
    return 0;
}
