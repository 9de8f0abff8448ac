/* rpc.c - the main process <-> worker channel (see rpc.h): frames, descriptors, the
 * reader thread, calls waiting for their answers, a thread per incoming request. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "util/wire.h"
#include "worker/rpc.h"

#define MAX_QUEUED_FDS 16

struct pending {
    struct pending *next;
    json_int_t id;
    bool done;
    json_t *answer; /* the whole answer frame */
};

struct rpc {
    int sock;
    rpc_handler handler;
    rpc_closed_fn closed_fn;
    void *ud;
    pthread_t reader;
    pthread_mutex_t mu; /* everything below */
    pthread_mutex_t wmu; /* one frame at a time on the socket */
    pthread_cond_t cv;
    json_int_t next_id;
    struct pending *pending;
    bool closed;
    int handlers; /* request threads running */
    int max_handlers;
    /* Descriptors received and not yet claimed by a frame (reader thread only). */
    int fds[MAX_QUEUED_FDS];
    int nfds;
};

/* ---- frames ---- */

static int send_all(int sock, const uint8_t *p, size_t n, int fd) {
    bool fd_sent = fd < 0;
    while (n > 0) {
        struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } u;
        if (!fd_sent) {
            memset(&u, 0, sizeof u);
            m.msg_control = u.buf;
            m.msg_controllen = sizeof u.buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        ssize_t w = sendmsg(sock, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        fd_sent = true;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rpc_send_frame(int sock, const json_t *obj, int fd) {
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    size_t n = strlen(text);
    if (n > RPC_MAX_FRAME) {
        free(text);
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t *frame = malloc(4 + n);
    if (!frame) {
        free(text);
        errno = ENOMEM;
        return -1;
    }
    frame[0] = (uint8_t)(n >> 24);
    frame[1] = (uint8_t)(n >> 16);
    frame[2] = (uint8_t)(n >> 8);
    frame[3] = (uint8_t)n;
    memcpy(frame + 4, text, n);
    free(text);
    int rc = send_all(sock, frame, 4 + n, fd);
    free(frame);
    return rc;
}

/* Reads exactly n bytes, queueing the descriptors that come with them (at most
 * MAX_QUEUED_FDS; more are closed). 1, 0 on EOF before any byte, -1 on error. */
static int recv_all(int sock, uint8_t *p, size_t n, int *fds, int *nfds) {
    size_t got = 0;
    while (got < n) {
        struct iovec iov = {.iov_base = p + got, .iov_len = n - got};
        union {
            char buf[CMSG_SPACE(sizeof(int) * 4)];
            struct cmsghdr align;
        } u;
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
        ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof fd);
                if (fds && *nfds < MAX_QUEUED_FDS) fds[(*nfds)++] = fd;
                else close(fd);
            }
        }
        if (m.msg_flags & MSG_CTRUNC) return -1; /* descriptors were lost: the peer misbehaves */
        if (r == 0) return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

json_t *rpc_parse(const void *buf, size_t len) {
    json_error_t je;
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static int recv_frame(int sock, json_t **obj, size_t max, int *fds, int *nfds) {
    uint8_t h[4];
    int r = recv_all(sock, h, 4, fds, nfds);
    if (r <= 0) return r;
    uint32_t n = wire_be32(h);
    if (n == 0 || n > max) return -1;
    uint8_t *body = malloc(n);
    if (!body) return -1;
    r = recv_all(sock, body, n, fds, nfds);
    if (r != 1) {
        free(body);
        return -1;
    }
    *obj = rpc_parse(body, n);
    free(body);
    return *obj ? 1 : -1;
}

/* The descriptor a frame says it carries: the oldest queued one. */
static int claim_fd(const json_t *frame, int *fds, int *nfds) {
    if (!json_is_true(json_object_get(frame, "fd"))) return -1;
    if (*nfds == 0) return -2;
    int fd = fds[0];
    memmove(fds, fds + 1, (size_t)(*nfds - 1) * sizeof *fds);
    (*nfds)--;
    return fd;
}

int rpc_recv_frame(int sock, json_t **obj, int *fd, size_t max) {
    int fds[MAX_QUEUED_FDS], nfds = 0;
    *obj = NULL;
    *fd = -1;
    int r = recv_frame(sock, obj, max, fds, &nfds);
    if (r == 1) {
        *fd = claim_fd(*obj, fds, &nfds);
        if (*fd == -2) {
            *fd = -1;
            r = -1;
        }
    }
    for (int i = 0; i < nfds; i++) close(fds[i]);
    if (r != 1) {
        json_decref(*obj);
        *obj = NULL;
    }
    return r;
}

/* ---- errors ---- */

json_t *rpc_err_json(const ds_err *e) {
    json_t *o = json_pack("{s:s, s:s}", "code", ds_code_name(e->code), "message", e->message);
    if (!o) return NULL;
    if (e->detail_key[0]) {
        json_object_set_new(o, "detail_key", json_string(e->detail_key));
        json_object_set_new(o, "detail_value", json_string(e->detail_value));
        json_object_set_new(o, "number", json_boolean(e->detail_is_number));
    }
    if (e->sqlstate[0]) json_object_set_new(o, "sqlstate", json_string(e->sqlstate));
    if (e->position) json_object_set_new(o, "position", json_integer(e->position));
    return o;
}

int rpc_err_from_json(const json_t *o, ds_err *e) {
    const char *code = json_string_value(json_object_get(o, "code"));
    const char *msg = json_string_value(json_object_get(o, "message"));
    ds_code c = DS_E_INTERNAL;
    for (int i = 1; code && i < DS_E__COUNT; i++)
        if (!strcmp(ds_code_name((ds_code)i), code)) c = (ds_code)i;
    int rc = ds_fail(e, c, "%s", msg ? msg : "the worker failed");
    const char *k = json_string_value(json_object_get(o, "detail_key"));
    const char *v = json_string_value(json_object_get(o, "detail_value"));
    if (k && v) ds_err_detail(e, k, v, json_is_true(json_object_get(o, "number")));
    const char *st = json_string_value(json_object_get(o, "sqlstate"));
    if (st && strlen(st) == 5) memcpy(e->sqlstate, st, 6);
    json_t *pos = json_object_get(o, "position");
    if (json_is_integer(pos) && json_integer_value(pos) > 0 && json_integer_value(pos) < 1000000000)
        e->position = (int)json_integer_value(pos);
    return rc;
}

/* ---- the channel ---- */

struct job {
    rpc *c;
    json_int_t id;
    char *op;
    json_t *args;
    int fd;
};

static void answer(rpc *c, json_int_t id, json_t *ok, const ds_err *e) {
    json_t *a = json_pack("{s:I}", "re", id);
    if (!a) {
        json_decref(ok);
        return;
    }
    if (ok) json_object_set_new(a, "ok", ok);
    else json_object_set_new(a, "err", rpc_err_json(e));
    pthread_mutex_lock(&c->wmu);
    if (rpc_send_frame(c->sock, a, -1) != 0) log_debug("rpc: cannot answer: %s", strerror(errno));
    pthread_mutex_unlock(&c->wmu);
    json_decref(a);
}

static void *job_main(void *arg) {
    struct job *j = arg;
    rpc *c = j->c;
    ds_err e;
    ds_err_clear(&e);
    json_t *ok = c->handler(c->ud, j->op, j->args, j->fd, &e);
    if (!ok && e.code == DS_OK) ds_fail(&e, DS_E_INTERNAL, "request failed");
    answer(c, j->id, ok, &e);
    json_decref(j->args);
    free(j->op);
    free(j);
    pthread_mutex_lock(&c->mu);
    c->handlers--;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* A request from the peer: on a thread of its own. -1 when it is malformed. */
static int take_request(rpc *c, json_t *f) {
    json_t *id = json_object_get(f, "id");
    const char *op = json_string_value(json_object_get(f, "op"));
    json_t *args = json_object_get(f, "args");
    if (!json_is_integer(id) || !op || strlen(op) > 64 || (args && !json_is_object(args))) return -1;
    int fd = claim_fd(f, c->fds, &c->nfds);
    if (fd == -2) return -1;
    struct job *j = calloc(1, sizeof *j);
    if (!j || !(j->op = strdup(op))) {
        free(j);
        if (fd >= 0) close(fd);
        ds_err e;
        ds_fail(&e, DS_E_INTERNAL, "out of memory");
        answer(c, json_integer_value(id), NULL, &e);
        return 0;
    }
    j->c = c;
    j->id = json_integer_value(id);
    j->args = args ? json_incref(args) : json_object();
    j->fd = fd;
    pthread_mutex_lock(&c->mu);
    bool full = c->handlers >= c->max_handlers;
    if (!full) c->handlers++;
    pthread_mutex_unlock(&c->mu);
    if (full) {
        ds_err e;
        ds_fail(&e, DS_E_LIMIT_EXCEEDED, "too many requests at once");
        answer(c, j->id, NULL, &e);
        if (j->fd >= 0) close(j->fd);
        json_decref(j->args);
        free(j->op);
        free(j);
        return 0;
    }
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &at, job_main, j);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        job_main(j); /* cannot happen often: answer it here, after the handler ran */
    }
    return 0;
}

static int take_answer(rpc *c, json_t *f) {
    json_t *re = json_object_get(f, "re");
    if (!json_is_integer(re)) return -1;
    json_t *ok = json_object_get(f, "ok"), *err = json_object_get(f, "err");
    if ((ok && !json_is_object(ok)) || (err && !json_is_object(err)) || (!ok && !err)) return -1;
    pthread_mutex_lock(&c->mu);
    struct pending *p = c->pending;
    while (p && p->id != json_integer_value(re)) p = p->next;
    if (p && !p->done) {
        p->done = true;
        p->answer = json_incref(f);
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return p ? 0 : -1;
}

static void *reader_main(void *arg) {
    rpc *c = arg;
    for (;;) {
        json_t *f = NULL;
        int r = recv_frame(c->sock, &f, RPC_MAX_FRAME, c->fds, &c->nfds);
        if (r != 1) {
            if (r < 0) log_debug("rpc: channel closed: %s", errno ? strerror(errno) : "malformed frame");
            break;
        }
        int ok = json_object_get(f, "op") ? take_request(c, f) : take_answer(c, f);
        json_decref(f);
        if (ok != 0) {
            log_warn("rpc: malformed frame from the peer: closing the channel");
            break;
        }
    }
    shutdown(c->sock, SHUT_RDWR);
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < c->nfds; i++) close(c->fds[i]);
    c->nfds = 0;
    if (c->closed_fn) c->closed_fn(c->ud);
    return NULL;
}

rpc *rpc_start(int sock, rpc_handler h, rpc_closed_fn closed, void *ud) {
    rpc *c = calloc(1, sizeof *c);
    if (!c) {
        close(sock);
        return NULL;
    }
    c->sock = sock;
    c->handler = h;
    c->closed_fn = closed;
    c->ud = ud;
    c->next_id = 1;
    c->max_handlers = RPC_MAX_HANDLERS;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->wmu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->reader, NULL, reader_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->wmu);
        pthread_mutex_destroy(&c->mu);
        close(sock);
        free(c);
        return NULL;
    }
    return c;
}

int rpc_call(rpc *c, const char *op, json_t *args, int send_fd, json_t **out, ds_err *err) {
    if (out) *out = NULL;
    struct pending p = {0};
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        json_decref(args);
        return ds_fail(err, DS_E_INTERNAL, "the workspace's worker process is gone");
    }
    p.id = c->next_id++;
    p.next = c->pending;
    c->pending = &p;
    pthread_mutex_unlock(&c->mu);
    json_t *req = json_pack("{s:I, s:s, s:o}", "id", p.id, "op", op, "args", args ? args : json_object());
    if (req && send_fd >= 0) json_object_set_new(req, "fd", json_true());
    pthread_mutex_lock(&c->wmu);
    int sent = req ? rpc_send_frame(c->sock, req, send_fd) : -1;
    pthread_mutex_unlock(&c->wmu);
    json_decref(req);
    pthread_mutex_lock(&c->mu);
    while (sent == 0 && !p.done && !c->closed) pthread_cond_wait(&c->cv, &c->mu);
    for (struct pending **pp = &c->pending; *pp; pp = &(*pp)->next)
        if (*pp == &p) {
            *pp = p.next;
            break;
        }
    pthread_mutex_unlock(&c->mu);
    if (!p.done) return ds_fail(err, DS_E_INTERNAL, "the workspace's worker process is gone");
    int rc = 0;
    json_t *e = json_object_get(p.answer, "err");
    if (e) rc = rpc_err_from_json(e, err);
    else if (out) *out = json_incref(json_object_get(p.answer, "ok"));
    json_decref(p.answer);
    return rc;
}

void rpc_set_max_handlers(rpc *c, int n) {
    pthread_mutex_lock(&c->mu);
    c->max_handlers = n;
    pthread_mutex_unlock(&c->mu);
}

int rpc_answer(rpc *c, const json_t *frame) {
    pthread_mutex_lock(&c->wmu);
    int rc = rpc_send_frame(c->sock, frame, -1);
    pthread_mutex_unlock(&c->wmu);
    return rc;
}

void rpc_free(rpc *c) {
    if (!c) return;
    shutdown(c->sock, SHUT_RDWR);
    pthread_join(c->reader, NULL);
    pthread_mutex_lock(&c->mu);
    while (c->handlers > 0) pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
    close(c->sock);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->wmu);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
