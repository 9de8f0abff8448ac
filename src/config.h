/* config.h - every setting of duckspace: command-line flag, environment variable,
 * config file and default, in that order of precedence.
 *
 * The table DS_SETTINGS is the single list: --help, the environment names
 * (DUCKSPACE_<UPPER_NAME>), the config-file keys and docs/configuration.md follow it. */
#ifndef DS_CONFIG_H
#define DS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { CFG_STR, CFG_INT, CFG_SIZE, CFG_BOOL } cfg_type;

/* X(field, type, default, min, max, help) -- min/max bound CFG_INT and CFG_SIZE values. */
#define DS_SETTINGS(X)                                                                                     \
    X(data_dir, CFG_STR, "./data", 0, 0, "directory for metadata, table files and workspaces")            \
    X(catalog, CFG_STR, "", 0, 0, "where metadata lives: empty for DATA_DIR/metadata.duckdb (one server), or a PostgreSQL URL or conninfo, e.g. postgresql://duckspace@db1,db2/duckspace?target_session_attrs=read-write (password from PGPASSWORD or ~/.pgpass)") \
    X(listen_address, CFG_STR, "127.0.0.1", 0, 0, "address the HTTP and PostgreSQL listeners bind to")    \
    X(http_port, CFG_INT, "8080", 0, 65535, "HTTP (REST API) port; 0 picks a free port")                  \
    X(pg_port, CFG_INT, "5432", 0, 65535, "PostgreSQL wire protocol port")                                \
    X(advertised_host, CFG_STR, "", 0, 0, "host name put in workspace connection info (default: the machine's host name)") \
    X(admin_key, CFG_STR, "", 0, 0, "admin API key (default: generated once, kept in DATA_DIR/admin.key)") \
    X(admin_key_file, CFG_STR, "", 0, 0, "file whose first line is the admin API key (a container or systemd secret); used when admin_key is unset") \
    X(max_body_size, CFG_SIZE, "5GB", 1, INT64_MAX, "largest CSV/Parquet upload body accepted (413 past it)") \
    X(max_json_body_size, CFG_SIZE, "1MB", 64, 1073741824LL, "largest JSON request body accepted")        \
    X(log_level, CFG_STR, "info", 0, 0, "debug, info, warn or error")                                     \
    X(metrics, CFG_BOOL, "on", 0, 1, "serve Prometheus metrics at GET /metrics")                          \
    X(import_threads, CFG_INT, "0", 0, 256, "DuckDB threads per import (0: number of cores)")              \
    X(import_preserve_order, CFG_BOOL, "on", 0, 1, "keep the file's row order in imported tables (off: faster)") \
    X(workspace_ttl_hours, CFG_INT, "24", 1, 100000, "default workspace time to live")                    \
    X(workspace_max_ttl_hours, CFG_INT, "168", 1, 100000, "largest ttl_hours a workspace may ask for")    \
    X(workspace_size_limit_gb, CFG_INT, "10", 1, 1000000, "default workspace size limit")                 \
    X(workspace_max_size_limit_gb, CFG_INT, "1000", 1, 1000000, "largest size_limit_gb allowed")          \
    X(workspaces_per_project, CFG_INT, "10", 1, 100000, "workspaces one project may have")               \
    X(max_attached_tables, CFG_INT, "1000", 1, 1000000, "project tables reachable from one workspace")   \
    X(workspace_memory_limit, CFG_SIZE, "4GB", 16777216LL, INT64_MAX, "DuckDB memory limit per workspace") \
    X(workspace_temp_limit, CFG_SIZE, "10GB", 0, INT64_MAX, "DuckDB temp storage per workspace")         \
    X(server_memory_limit, CFG_SIZE, "0", 0, INT64_MAX, "memory the whole server may allocate; past it a statement fails with 53200 (0: 80% of physical memory)") \
    X(workspace_size_allowance, CFG_SIZE, "64MB", 0, INT64_MAX, "how far a running statement may take a workspace past its size limit before it is stopped (53100)") \
    X(sessions_per_workspace, CFG_INT, "10", 1, 100000, "SQL sessions one workspace may have")           \
    X(max_sessions, CFG_INT, "500", 1, 1000000, "SQL sessions in total")                                  \
    X(max_startup_connections, CFG_INT, "100", 1, 10000, "PostgreSQL connections not yet authenticated, in total (not counted in max_sessions)") \
    X(startup_connections_per_address, CFG_INT, "16", 1, 100000, "PostgreSQL connections not yet authenticated from one client address (IPv6: one /64)") \
    X(auth_failure_delay, CFG_INT, "100", 0, 60000, "milliseconds between login attempts from one address after 3 failures, doubling per failure") \
    X(auth_failure_max_delay, CFG_INT, "3000", 0, 600000, "longest spacing of login attempts from one address, in milliseconds") \
    X(authentication_timeout, CFG_INT, "10", 1, 600, "seconds a PostgreSQL client has for TLS, startup and authentication together") \
    X(idle_session_timeout, CFG_INT, "3600", 0, 31536000, "seconds before an idle SQL session is closed") \
    X(statement_timeout, CFG_INT, "300", 0, 31536000, "default statement timeout in seconds (0: none)")  \
    X(suspended_result_memory, CFG_SIZE, "256MB", 0, INT64_MAX, "memory per SQL session for the unread rest of cursors and portals while other statements run") \
    X(tls_cert, CFG_STR, "", 0, 0, "PEM certificate file; TLS is on when this and tls_key are set")       \
    X(tls_key, CFG_STR, "", 0, 0, "PEM private key file")                                                 \
    X(require_ssl, CFG_BOOL, "off", 0, 1, "refuse PostgreSQL connections without TLS")                    \
    X(reaper_interval, CFG_INT, "60", 1, 86400, "seconds between sweeps for expired workspaces")             \
    X(workspace_idle_close, CFG_INT, "300", 0, 86400, "seconds an unused workspace's worker process keeps running") \
    X(worker_memory_headroom, CFG_SIZE, "512MB", 0, INT64_MAX, "memory a workspace's worker may allocate beyond workspace_memory_limit before its allocations fail (53200)") \
    X(worker_threads, CFG_INT, "0", 0, 1024, "DuckDB threads in all workspace workers together (0: number of cores); each worker gets a share, at least 1") \
    X(worker_stop_grace, CFG_INT, "5", 1, 3600, "seconds a statement may go on after a cancel or timeout before its worker is ended (57014)") \
    X(clock_offset, CFG_INT, "0", -3153600000LL, 3153600000LL, "seconds added to the clock (testing expiry)")

typedef struct ds_config {
#define CFG_FIELD_CFG_STR char *
#define CFG_FIELD_CFG_INT int64_t
#define CFG_FIELD_CFG_SIZE int64_t
#define CFG_FIELD_CFG_BOOL bool
#define CFG_DECL(name, type, def, min, max, help) CFG_FIELD_##type name;
    DS_SETTINGS(CFG_DECL)
#undef CFG_DECL
    char *config_file; /* the --config file read, or NULL */
} ds_config;

/* Fills cfg from defaults, then the config file (--config FILE or DUCKSPACE_CONFIG),
 * then DUCKSPACE_* environment variables (envp, NULL-terminated "K=V" strings), then
 * the flags in argv. Returns 0, or -1 with a one-line reason in err. */
int config_load(ds_config *cfg, int argc, char **argv, char **envp, char *err, size_t errsz);
void config_free(ds_config *cfg);
/* The i-th setting's name and value as text (what a flag would give): 1, or 0 past the
 * last. With config_set, how the main process hands its settings to a worker. */
int config_get(const ds_config *cfg, size_t i, const char **name, char *val, size_t valsz);
/* Sets one setting by name from text. 0, or -1 with a reason. */
int config_set(ds_config *cfg, const char *name, const char *val, char *err, size_t errsz);
/* Prints the settings, with flags, environment names and defaults, for --help. */
void config_print_help(void *stream);

/* Parses "10GB", "512MB", "1024" (1024-based units). Returns 0 or -1. */
int config_parse_size(const char *s, int64_t *out);
/* Parses on/off/true/false/yes/no/1/0. Returns 0 or -1. */
int config_parse_bool(const char *s, bool *out);

#endif
