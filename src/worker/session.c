/* session.c - a worker's SQL sessions (session.h): the message loop over the socket
 * the main process passed, framing with length limits, the executor, kills, cancels
 * and the watchdog's look. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgexec/pgexec.h"
#include "util/log.h"
#include "worker/records.h"
#include "worker/session.h"

#define MSG_MAX (256u << 20) /* any message after login, as the wire server's limit */
#define MAX_PARAMS 64

typedef struct wsess wsess;
struct wsess {
    wsess *next;
    char id[24];
    int fd;
    int32_t pid, secret;
    char user[128], database[128];
    char *keys[MAX_PARAMS], *values[MAX_PARAMS];
    int nparams;
    ws_conn *wc;
    pgx *x; /* set under mu once made */
    atomic_bool killed;
    char kill_message[200];
    bool stuck_told; /* reported stuck once */
    pthread_t thread;
    /* Received bytes not yet consumed, and the body of the current message. */
    uint8_t rbuf[16384];
    size_t r_len, r_pos;
    uint8_t *in;
    size_t in_cap;
    wire_wb out;
};

static struct {
    const ds_config *cfg;
    cat_workspace w;
    ws_instance *inst;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wsess *list;
    int nthreads;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

void wks_init(const ds_config *cfg, const cat_workspace *w, ws_instance *inst) {
    S.cfg = cfg;
    S.w = *w;
    S.inst = inst;
}

/* ---- bytes ---- */

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int flush(void *ud) {
    wsess *s = ud;
    if (s->out.failed) {
        wire_wb_reset(&s->out);
        return -1;
    }
    int rc = s->out.len ? write_all(s->fd, s->out.data, s->out.len) : 0;
    wire_wb_reset(&s->out);
    return rc;
}

static void fatal(wsess *s, const char *state, const char *msg) {
    pgx_msg_error_fields(&s->out, PqMsg_ErrorResponse, "FATAL", state, msg, 0);
    flush(s);
}

/* Reads exactly n bytes; timeout_ms < 0 waits forever. 1, 0 on EOF, -1 error, -2 timeout. */
static int read_exact(wsess *s, uint8_t *p, size_t n, int timeout_ms) {
    while (n > 0) {
        if (s->r_pos < s->r_len) {
            size_t take = s->r_len - s->r_pos < n ? s->r_len - s->r_pos : n;
            memcpy(p, s->rbuf + s->r_pos, take);
            s->r_pos += take;
            p += take;
            n -= take;
            continue;
        }
        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
        int pr = poll(&pf, 1, timeout_ms);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) return -2;
        if (pr < 0) return -1;
        bool big = n >= sizeof s->rbuf;
        ssize_t r = recv(s->fd, big ? p : s->rbuf, big ? n : sizeof s->rbuf, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) return r == 0 ? 0 : -1;
        if (big) {
            p += r;
            n -= (size_t)r;
        } else {
            s->r_pos = 0;
            s->r_len = (size_t)r;
        }
    }
    return 1;
}

/* One message: 1 with it, 0 EOF, -1 error or a message over the limit (FATAL sent),
 * -2 idle timeout. */
static int read_msg(wsess *s, char *type, size_t *len, int idle_ms) {
    uint8_t hdr[5];
    int r = read_exact(s, hdr, 5, idle_ms);
    if (r != 1) return r;
    char m[128];
    int64_t body = wire_msg_body_len(hdr, MSG_MAX, m, sizeof m);
    if (body < 0) {
        fatal(s, "08P01", m);
        return -1;
    }
    if (wire_buf_grow(&s->in, &s->in_cap, (size_t)body + 1) != 0) return -1;
    r = read_exact(s, s->in, (size_t)body, 60000);
    if (r != 1) return r == -2 ? -1 : r;
    s->in[body] = 0;
    *type = (char)hdr[0];
    *len = (size_t)body;
    return 1;
}

/* ---- a session ---- */

static bool killed(wsess *s) {
    if (!atomic_load(&s->killed)) return false;
    wire_wb_reset(&s->out);
    fatal(s, "57P01", s->kill_message);
    return true;
}

static int open_executor(wsess *s) {
    ds_err e;
    ds_err_clear(&e);
    if (ws_conn_open(S.inst, &s->wc, &e) != 0) return -1;
    const ds_config *cfg = S.cfg;
    pgx_params p = {
        .inst = S.inst,
        .wc = s->wc,
        .size_limit_bytes = S.w.size_limit_bytes,
        .suspended_result_memory = cfg->suspended_result_memory,
        .statement_timeout_s = cfg->statement_timeout,
        .idle_session_timeout_s = cfg->idle_session_timeout,
        .user = s->user,
        .database = s->database,
        .keys = (const char *const *)s->keys,
        .values = (const char *const *)s->values,
        .nparams = s->nparams,
    };
    pgx *x = pgx_new(&p, (pgx_sink){.out = &s->out, .flush = flush, .ud = s});
    if (!x) return -1;
    pthread_mutex_lock(&S.mu);
    s->x = x;
    pthread_mutex_unlock(&S.mu);
    return 0;
}

static void serve(wsess *s) {
    if (open_executor(s) != 0) {
        fatal(s, "57P03", "the workspace cannot be opened now");
        return;
    }
    pgx_report_settings(s->x);
    wire_wb_begin(&s->out, PqMsg_BackendKeyData);
    wire_wb_i32(&s->out, s->pid);
    wire_wb_i32(&s->out, s->secret);
    wire_wb_end(&s->out);
    pgx_ready(s->x);
    if (flush(s) != 0) return;
    for (;;) {
        int64_t idle = pgx_idle_timeout_ms(s->x);
        int idle_ms = idle > 0 ? (int)(idle > 2000000000 ? 2000000000 : idle) : -1;
        char type = 0;
        size_t len = 0;
        int r = read_msg(s, &type, &len, idle_ms);
        if (killed(s)) return;
        if (r == -2) {
            fatal(s, "57P05", "terminating connection due to idle-session timeout");
            return;
        }
        if (r <= 0) return;
        int rc = pgx_message(s->x, type, s->in, len);
        if (killed(s)) return;
        if (s->out.len && flush(s) != 0) return;
        if (rc != 0) return; /* Terminate, or a FATAL now sent */
    }
}

static void sess_free(wsess *s) {
    for (int i = 0; i < s->nparams; i++) {
        free(s->keys[i]);
        free(s->values[i]);
    }
    free(s->in);
    wire_wb_free(&s->out);
    free(s);
}

static void *sess_main(void *arg) {
    wsess *s = arg;
    char ctx[40];
    snprintf(ctx, sizeof ctx, "pg-%d", s->pid);
    log_set_context(ctx);
    serve(s);
    pthread_mutex_lock(&S.mu);
    for (wsess **pp = &S.list; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    pgx *x = s->x;
    s->x = NULL;
    pthread_mutex_unlock(&S.mu);
    pgx_free(x); /* its statements, and a ROLLBACK of an open transaction */
    ws_conn_close(s->wc);
    close(s->fd);
    sess_free(s);
    log_set_context(NULL);
    pthread_mutex_lock(&S.mu);
    S.nthreads--;
    pthread_cond_broadcast(&S.cv);
    pthread_mutex_unlock(&S.mu);
    return NULL;
}

int wks_start(int fd, const json_t *args, ds_err *err) {
    wsess *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return ds_fail(err, DS_E_INTERNAL, "out of memory");
    }
    s->fd = fd;
    wire_wb_init(&s->out, MSG_MAX + (64u << 10));
    json_t *pid = json_object_get(args, "pid"), *secret = json_object_get(args, "secret");
    json_t *params = json_object_get(args, "params");
    if (rec_str(args, "id", s->id, sizeof s->id) || rec_str(args, "user", s->user, sizeof s->user) ||
        rec_str(args, "database", s->database, sizeof s->database) || !json_is_integer(pid) ||
        !json_is_integer(secret) || !json_is_array(params) || json_array_size(params) > MAX_PARAMS) {
        close(fd);
        sess_free(s);
        return ds_fail(err, DS_E_INVALID_REQUEST, "malformed session request");
    }
    s->pid = (int32_t)json_integer_value(pid);
    s->secret = (int32_t)json_integer_value(secret);
    size_t i;
    json_t *kv;
    json_array_foreach(params, i, kv) {
        const char *k = json_string_value(json_array_get(kv, 0)), *v = json_string_value(json_array_get(kv, 1));
        if (!k || !v) continue;
        s->keys[s->nparams] = strdup(k);
        s->values[s->nparams] = strdup(v);
        if (!s->keys[s->nparams] || !s->values[s->nparams]) break;
        s->nparams++;
    }
    pthread_mutex_lock(&S.mu);
    s->next = S.list;
    S.list = s;
    S.nthreads++;
    pthread_mutex_unlock(&S.mu);
    if (pthread_create(&s->thread, NULL, sess_main, s) != 0) {
        pthread_mutex_lock(&S.mu);
        S.list = s->next;
        S.nthreads--;
        pthread_mutex_unlock(&S.mu);
        close(fd);
        sess_free(s);
        return ds_fail(err, DS_E_INTERNAL, "cannot start the session");
    }
    pthread_detach(s->thread);
    return 0;
}

static wsess *find_locked(const char *id) {
    for (wsess *s = S.list; s; s = s->next)
        if (!strcmp(s->id, id)) return s;
    return NULL;
}

int wks_cancel(const char *id, ds_err *err) {
    pthread_mutex_lock(&S.mu);
    wsess *s = find_locked(id);
    if (s) pgx_cancel(s->x);
    pthread_mutex_unlock(&S.mu);
    return s ? 0 : ds_fail(err, DS_E_SESSION_NOT_FOUND, "session not found");
}

static void kill_locked(wsess *s, const char *message) {
    snprintf(s->kill_message, sizeof s->kill_message, "%s", message);
    atomic_store(&s->killed, true);
    pgx_interrupt(s->x, PGX_STOP_KILLED);
    shutdown(s->fd, SHUT_RD);
}

json_t *wks_list(void) {
    json_t *arr = json_array();
    pthread_mutex_lock(&S.mu);
    for (wsess *s = S.list; s; s = s->next)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "id", s->id, "state", pgx_state(s->x), "query_count",
                                             (json_int_t)pgx_query_count(s->x)));
    pthread_mutex_unlock(&S.mu);
    return arr;
}

int wks_watch(double now_ms, double grace_ms, char (*stuck)[24], int max) {
    int n = 0;
    pthread_mutex_lock(&S.mu);
    for (wsess *s = S.list; s; s = s->next) {
        if (!s->x) continue;
        if (pgx_interrupted_for_ms(s->x, now_ms) > grace_ms && !s->stuck_told && n < max) {
            s->stuck_told = true;
            snprintf(stuck[n++], 24, "%s", s->id);
            continue;
        }
        if (!pgx_watch(s->x, now_ms)) continue; /* idle, interrupted, or past its timeout now */
        /* The main process closed its end (the client hung up mid-query): stop it. */
        struct pollfd p = {.fd = s->fd, .events = POLLRDHUP};
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) pgx_interrupt(s->x, PGX_STOP_DISCONNECTED);
    }
    pthread_mutex_unlock(&S.mu);
    return n;
}

void wks_end_all(const char *message) {
    pthread_mutex_lock(&S.mu);
    for (wsess *s = S.list; s; s = s->next) kill_locked(s, message);
    while (S.nthreads > 0) pthread_cond_wait(&S.cv, &S.mu);
    pthread_mutex_unlock(&S.mu);
}
