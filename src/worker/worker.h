/* worker.h - the worker process: one workspace's DuckDB instance and the executor of
 * its SQL sessions, in a process of its own under limits the kernel enforces
 * (../shared/spec/overview.md, "Isolation").
 *
 * The main process starts it as "duckspace worker <ws_id>" with its end of the channel
 * (rpc.h) on descriptor WORKER_CHANNEL_FD. The first frame is the "open" request: the
 * settings, the workspace, its files, the compat catalog, the sandbox; the worker locks
 * itself down (sandbox.h) before it starts a thread or opens DuckDB, then answers.
 *
 * Requests the worker serves (from the main process):
 *   session {id, user, database, params:[[k,v],...]} + a socket: a logged-in SQL
 *           session; the socket carries PostgreSQL messages after authentication, both
 *           ways, until either side closes it (the main process ends a session, with
 *           its own FATAL to the client, by closing it)
 *   cancel {id}, sessions -> {sessions:[{id,state,query_count}]}
 *   objects -> {objects:[...]}, clear, drop {name}, load {items} -> {loaded, size_bytes},
 *   size -> {size_bytes}, exit
 * Requests it makes (to the main process), about its own workspace only:
 *   tables -> {tables:[row]}, table {bucket_id, name} -> {table:row},
 *   link {bucket_id, name} -> {path, table:row}, stuck {sessions:[id], why}
 * The catalog version is read from a shared page the main process keeps current (a
 * descriptor sent with "open"), not asked per statement. */
#ifndef DS_WORKER_H
#define DS_WORKER_H

#define WORKER_CHANNEL_FD 3

/* The worker process's main (argv after "worker"). Returns the exit status. */
int worker_main(void);

#endif
