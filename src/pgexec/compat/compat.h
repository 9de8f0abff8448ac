/* compat.h - PostgreSQL's catalogs for workspace instances: catalog.sql (views and
 * macros named like pg_catalog's, information_schema_* views, the ds_reg*_in/out helpers
 * of the SQL rewriter). At build time compat_db_gen runs the SQL (embedded by
 * cmake/embed.cmake) into a DuckDB database and writes that file out as C; the server
 * embeds the file and hands it to the workspace registry (ws_registry_set_compat_db,
 * from main.c), so no start-up builds it again. */
#ifndef DS_PGEXEC_COMPAT_H
#define DS_PGEXEC_COMPAT_H

#include <stddef.h>

extern const char ds_compat_catalog_sql[];
extern const size_t ds_compat_catalog_sql_len;
/* The database built from it (in the server binary only). */
extern const unsigned char ds_compat_db[];
extern const size_t ds_compat_db_len;

#endif
