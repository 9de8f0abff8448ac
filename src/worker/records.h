/* records.h - the catalog's records and a workspace's paths as JSON, as they cross the
 * channel between the main process and a worker (rpc.h). Readers check every field:
 * a missing or mistyped one, or a string too long for its field, fails the record. */
#ifndef DS_WORKER_RECORDS_H
#define DS_WORKER_RECORDS_H

#include <jansson.h>

#include "catalog/catalog.h"
#include "storage/storage.h"

json_t *rec_table_json(const cat_table *t);
/* 0, or -1 (t is then cleared). */
int rec_table_from(const json_t *o, cat_table *t);
json_t *rec_workspace_json(const cat_workspace *w);
int rec_workspace_from(const json_t *o, cat_workspace *w);
json_t *rec_paths_json(const stor_ws_paths *p);
int rec_paths_from(const json_t *o, stor_ws_paths *p);
/* A string member of o into buf (bufsz with its NUL): 0, or -1 when it is missing, not
 * a string, holds a NUL or does not fit. */
int rec_str(const json_t *o, const char *key, char *buf, size_t bufsz);

#endif
