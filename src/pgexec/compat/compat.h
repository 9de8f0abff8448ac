/* compat.h - PostgreSQL's catalogs for workspace instances: catalog.sql (views and
 * macros named like pg_catalog's, information_schema_* views, the ds_reg*_in/out helpers
 * of the SQL rewriter), compiled into the binary by cmake/embed.cmake and handed to the
 * workspace registry as its opaque init SQL (ws_registry_set_init_sql, from main.c). */
#ifndef DS_PGEXEC_COMPAT_H
#define DS_PGEXEC_COMPAT_H

#include <stddef.h>

extern const char ds_compat_catalog_sql[];
extern const size_t ds_compat_catalog_sql_len;

#endif
