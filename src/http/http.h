/* http.h - the REST API server (libmicrohttpd): the front door for http/. */
#ifndef DS_HTTP_H
#define DS_HTTP_H

#include "catalog/catalog.h"
#include "config.h"
#include "storage/storage.h"
#include "util/err.h"
#include "control/control.h"
#include "storage/storage.h"

typedef struct http_server http_server;

/* Starts listening on cfg->listen_address:cfg->http_port. admin_key is copied.
 * *bound_port receives the port (useful with http_port 0). */
int http_start(const ds_config *cfg, cat *c, stor *s, ctl *control, const char *admin_key,
               http_server **out, int *bound_port, ds_err *err);
/* Stops accepting, waits for in-flight requests, frees everything. NULL is a no-op. */
void http_stop(http_server *h);

#endif
