/* rpc.h - the channel between the main process and one worker process: requests and
 * answers both ways at once over one stream socket.
 *
 * A frame is a 4-byte big-endian length and that many bytes of one JSON object:
 *   request  {"id":N, "op":"name", "args":{...}}       (+ "fd":true: one descriptor)
 *   answer   {"re":N, "ok":{...}}  or  {"re":N, "err":{"code":"limit_exceeded",
 *             "message":"...", "detail_key":"...", "detail_value":"...", "number":true,
 *             "sqlstate":"..."}}
 * A descriptor travels with its frame (SCM_RIGHTS) on a local socket; nothing else in
 * the format assumes one, so the same frames can run over TCP to another node
 * (scale-out.md), where a session is its own connection instead of a passed socket.
 *
 * The peer is not trusted: frames are bounded (max_frame), every field is checked, and
 * a malformed frame closes the channel. Each request is handled on a thread of its own,
 * so a slow one (a load) never holds up a quick one (a cancel); at most RPC_MAX_HANDLERS
 * at once per channel (more are answered "too many requests" at once), so a peer cannot
 * make the other side start threads without bound. */
#ifndef DS_WORKER_RPC_H
#define DS_WORKER_RPC_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

typedef struct rpc rpc;

/* One request from the peer: returns the answer (a JSON object, stolen; NULL with err
 * filled for an error answer). fd is the descriptor that came with it (the handler owns
 * it) or -1. args is borrowed. */
typedef json_t *(*rpc_handler)(void *ud, const char *op, json_t *args, int fd, ds_err *err);
/* The peer is gone (EOF, error, malformed frame): called once, on the reader thread,
 * after every pending call has failed. */
typedef void (*rpc_closed_fn)(void *ud);

#define RPC_MAX_FRAME (64u << 20)
#define RPC_MAX_HANDLERS 64

/* Takes sock (closed by rpc_free) and starts the reader thread. NULL when out of
 * resources (sock is then closed). */
rpc *rpc_start(int sock, rpc_handler h, rpc_closed_fn closed, void *ud);
/* Sends a request (args stolen; NULL: {}) with send_fd (-1: none; not closed here) and
 * waits for the answer: 0 with *out (NULL allowed; caller decrefs), or a negative
 * ds_code with err filled: the peer's error, or DS_E_INTERNAL when the channel is
 * closed. Thread-safe. */
int rpc_call(rpc *c, const char *op, json_t *args, int send_fd, json_t **out, ds_err *err);
/* Sends a frame built by the caller (an answer to a request read outside the channel,
 * e.g. the worker's first frame) under the channel's write lock. 0 or -1. */
int rpc_answer(rpc *c, const json_t *frame);
/* Lowers the number of requests handled at once (tests). */
void rpc_set_max_handlers(rpc *c, int n);
/* Shuts down, waits for the reader and for running handlers, frees. NULL: no-op. */
void rpc_free(rpc *c);

/* ---- frames (exposed for the fuzz target and the worker's first frame) ---- */

/* Writes one frame of obj (with fd, -1: none). 0 or -1 (errno). */
int rpc_send_frame(int sock, const json_t *obj, int fd);
/* Reads one frame: 1 with *obj (and *fd, -1 when none came), 0 on EOF, -1 on an error
 * or a malformed frame (over max bytes, not a JSON object). */
int rpc_recv_frame(int sock, json_t **obj, int *fd, size_t max);
/* Parses a frame's bytes: the JSON object, or NULL. */
json_t *rpc_parse(const void *buf, size_t len);

/* ds_err <-> the "err" object. */
json_t *rpc_err_json(const ds_err *e);
int rpc_err_from_json(const json_t *o, ds_err *e);

#endif
