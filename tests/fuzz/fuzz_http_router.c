/* libFuzzer target: the REST path splitter and router (http/router.c) read every request
 * path, still percent-encoded, and the decoder (util/str.c str_pct_decode) reads every
 * path segment and query argument. Input: one byte choosing the method, then the path.
 * The bytes are also read as a Content-Type (http/media.c). Handlers are stubs: only
 * the matching runs. */
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

/* The decoder on the raw bytes (NULs included): never longer than its input, the same
 * in place as into another buffer, and undone by re-encoding every byte. */
static void check_decoder(const char *in, size_t n) {
    char *out = malloc(n + 1), *inplace = malloc(n + 1), *enc = malloc(3 * n + 1), *back = malloc(n + 1);
    if (!out || !inplace || !enc || !back) goto done;
    memcpy(inplace, in, n);
    ptrdiff_t len = str_pct_decode(in, n, out);
    if (str_pct_decode(inplace, n, inplace) != len) abort();
    if (len < 0) goto done;
    if ((size_t)len > n || out[len] != '\0' || memcmp(out, inplace, (size_t)len) != 0) abort();
    static const char hex[] = "0123456789ABCDEF";
    for (ptrdiff_t i = 0; i < len; i++) {
        enc[3 * i] = '%';
        enc[3 * i + 1] = hex[(unsigned char)out[i] >> 4];
        enc[3 * i + 2] = hex[(unsigned char)out[i] & 15];
    }
    if (str_pct_decode(enc, 3 * (size_t)len, back) != len || memcmp(back, out, (size_t)len) != 0) abort();
done:
    free(out);
    free(inplace);
    free(enc);
    free(back);
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
    check_decoder((const char *)data + 1, size - 1);
    /* The same bytes as a Content-Type value (media.c): only the answer may vary. */
    if (http_media_is_json(url) && http_media_is_data(url)) abort();
    int split = router_split_path(r, url);
    if (split != HTTP_PATH_OK && split != HTTP_PATH_BAD && split != HTTP_PATH_TOO_DEEP && split != HTTP_PATH_NOMEM)
        abort();
    /* Every kept segment is decoded text without NUL, '/' or control characters: a
     * segment can never name more (or less) of the path than the client sent. */
    for (int i = 0; i < r->nseg; i++)
        for (const unsigned char *c = (const unsigned char *)r->segs[i]; *c; c++)
            if (*c == '/' || *c < 0x20 || *c == 0x7f) abort();
    if (split == HTTP_PATH_OK && router_match(r) == 0) {
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
