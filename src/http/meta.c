/* meta.c - unauthenticated service endpoints: health, metrics, the OpenAPI document. */
#include <string.h>

#include "http/internal.h"

extern const char ds_openapi_json[];
extern const size_t ds_openapi_json_len;

void h_health(http_req *r) {
    http_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "version", DUCKSPACE_VERSION));
}

void h_metrics(http_req *r) {
    if (!r->app->cfg->metrics) {
        http_fail(r, DS_E_NOT_FOUND, "metrics are turned off (setting \"metrics\")");
        return;
    }
    char *text = metrics_render();
    if (!text) {
        http_fail(r, DS_E_INTERNAL, "out of memory");
        return;
    }
    r->status = 200;
    r->owned_text = text;
    r->text_len = strlen(text);
    r->content_type = "text/plain; version=0.0.4";
    r->responded = true;
}

void h_openapi(http_req *r) {
    r->status = 200;
    r->text = ds_openapi_json;
    r->text_len = ds_openapi_json_len;
    r->content_type = "application/json";
    r->responded = true;
}
