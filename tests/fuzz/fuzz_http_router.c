/* libFuzzer target: the REST path splitter and router (http/router.c) read every request
 * path. Input: one byte choosing the method, then the path. Handlers are stubs: only the
 * matching runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

#define STUB_HANDLER(name) \
    void name(http_req *r) { (void)r; }
HTTP_HANDLERS(STUB_HANDLER)

/* Inside the request's copy of the path (n: its length before splitting put NULs in). */
static bool in_path(const http_req *r, size_t n, const char *p) {
    return p && r->path && p >= r->path && p <= r->path + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"};
    if (size < 1) return 0;
    char *url = malloc(size);
    if (!url) return 0;
    memcpy(url, data + 1, size - 1);
    url[size - 1] = '\0';
    http_req *r = calloc(1, sizeof *r);
    if (!r) {
        free(url);
        return 0;
    }
    r->method = methods[data[0] % 6];
    if (router_split_path(r, url) == 0 && router_match(r) == 0) {
        if (!r->route || r->nseg < 0 || r->nseg > HTTP_MAX_SEGS) abort();
        size_t n = strlen(url);
        for (int i = 0; i < r->nseg; i++)
            if (!in_path(r, n, r->segs[i]) || !*r->segs[i]) abort(); /* no empty segment */
        if (r->pid && !in_path(r, n, r->pid)) abort();
        if (strlen(r->bid) > DS_NAME_MAX) abort();
        if (!router_metric_name(r)) abort();
    }
    free(r->path);
    free(r);
    free(url);
    return 0;
}
