/* relay.c - after login, a session's bytes between its client (plain or TLS) and the
 * workspace's worker process, both ways at once, until either side ends.
 *
 * The relay does not interpret the client's messages (the worker frames and checks
 * them); it follows the worker's message boundaries, so that when the worker is gone
 * or the session is ended from here, the client gets one FATAL ErrorResponse between
 * two whole messages, never inside one. Both sockets are non-blocking; each direction
 * has one buffer, and reading a side waits until what was read before is passed on:
 * a slow client slows its worker down (back-pressure), never the relay's memory. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgwire/internal.h"
#include "util/log.h"
#include "util/timeutil.h"

#define CHUNK (256u << 10)

/* What the worker's byte stream is in the middle of. */
typedef struct {
    uint8_t hdr[5];
    int nhdr;          /* header bytes of the current message seen (5: in its body) */
    uint32_t left;     /* body bytes of the current message still to come */
    char type;         /* of the last message begun */
    char head[16];     /* its first body bytes */
    size_t nhead;
    bool last_fatal;   /* the last whole message was a FATAL ErrorResponse */
    char last_type;    /* of the last whole message */
} boundary;

static bool at_boundary(const boundary *b) { return b->nhdr == 0; }

static void follow(boundary *b, const uint8_t *p, size_t n) {
    while (n > 0) {
        if (b->nhdr < 5) {
            b->hdr[b->nhdr++] = *p++;
            n--;
            if (b->nhdr == 5) {
                uint32_t len = wire_be32(b->hdr + 1);
                b->type = (char)b->hdr[0];
                b->left = len >= 4 ? len - 4 : 0;
                b->nhead = 0;
                if (b->left == 0) {
                    b->last_fatal = false;
                    b->last_type = b->type;
                    b->nhdr = 0;
                }
            }
            continue;
        }
        size_t take = n < b->left ? n : b->left;
        for (size_t i = 0; i < take && b->nhead < sizeof b->head; i++) b->head[b->nhead++] = (char)p[i];
        p += take;
        n -= take;
        b->left -= (uint32_t)take;
        if (b->left == 0) {
            /* Our ErrorResponse writer puts the severity first: S then "FATAL". */
            b->last_fatal = b->type == PqMsg_ErrorResponse && b->nhead >= 6 && !memcmp(b->head, "SFATAL", 6);
            b->last_type = b->type;
            b->nhdr = 0;
        }
    }
}

typedef struct {
    uint8_t *buf;
    size_t off, len;
} pending;

static void set_nonblocking(int fd, bool on) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Reads from the client: >0 bytes, 0 EOF, -1 error, -2 nothing now (*want: the poll
 * events that would make it go on). */
static ssize_t client_read(pgw_session *s, uint8_t *buf, size_t n, short *want) {
    if (s->r_pos < s->r_len) { /* what came pipelined with the last login message */
        size_t take = s->r_len - s->r_pos < n ? s->r_len - s->r_pos : n;
        memcpy(buf, s->rbuf + s->r_pos, take);
        s->r_pos += take;
        return (ssize_t)take;
    }
    if (s->ssl) {
        int r = SSL_read(s->ssl, buf, (int)n);
        if (r > 0) return r;
        int e = SSL_get_error(s->ssl, r);
        if (e == SSL_ERROR_WANT_READ) return *want = POLLIN, -2;
        if (e == SSL_ERROR_WANT_WRITE) return *want = POLLOUT, -2;
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        ERR_clear_error();
        return -1;
    }
    ssize_t r = recv(s->fd, buf, n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) return *want = POLLIN, -2;
    return r;
}

static ssize_t client_write(pgw_session *s, const uint8_t *buf, size_t n, short *want) {
    if (s->ssl) {
        int w = SSL_write(s->ssl, buf, (int)(n > (1u << 30) ? (1u << 30) : n));
        if (w > 0) return w;
        int e = SSL_get_error(s->ssl, w);
        if (e == SSL_ERROR_WANT_WRITE) return *want = POLLOUT, -2;
        if (e == SSL_ERROR_WANT_READ) return *want = POLLIN, -2;
        ERR_clear_error();
        return -1;
    }
    ssize_t w = send(s->fd, buf, n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) return *want = POLLOUT, -2;
    return w;
}

/* Sends a last FATAL to the client, blocking (the session is over). */
static void final_fatal(pgw_session *s, const char *sqlstate, const char *msg) {
    set_nonblocking(s->fd, false);
    wire_wb_reset(&s->out);
    pgw_error(s, "FATAL", sqlstate, msg, 0);
    pgw_flush(s);
}

void pgw_relay(pgw_session *s, wk_worker *k, int wfd) {
    pending c2w = {malloc(CHUNK), 0, 0}, w2c = {malloc(CHUNK), 0, 0};
    boundary b = {0};  /* the worker's messages */
    boundary cb = {0}; /* the client's (after login every message has a type byte) */
    bool client_eof = false, worker_eof = false;
    short cwant_r = POLLIN, cwant_w = POLLOUT; /* what the client side waits for (TLS may swap) */
    if (!c2w.buf || !w2c.buf) goto out;
    if (s->ssl) SSL_set_mode(s->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    set_nonblocking(s->fd, true);
    set_nonblocking(wfd, true);
    while (!worker_eof && !atomic_load(&s->killed)) {
        /* Move what can move without waiting. */
        bool progress = false;
        if (!client_eof && c2w.len == 0) {
            ssize_t r = client_read(s, c2w.buf, CHUNK, &cwant_r);
            if (r > 0) {
                c2w.off = 0;
                c2w.len = (size_t)r;
                follow(&cb, c2w.buf, (size_t)r);
                atomic_store(&s->last_activity, (long long)ds_now());
                progress = true;
            } else if (r == 0 || r == -1) {
                if (atomic_load(&s->killed)) break; /* pgw kill: shutdown(SHUT_RD) woke us */
                client_eof = true;                  /* the client is gone: so is its session */
                break;
            }
        }
        if (c2w.len > 0) {
            ssize_t w = send(wfd, c2w.buf + c2w.off, c2w.len, MSG_NOSIGNAL);
            if (w > 0) {
                c2w.off += (size_t)w;
                c2w.len -= (size_t)w;
                progress = true;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                worker_eof = true;
            }
        }
        if (w2c.len == 0 && !worker_eof) {
            ssize_t r = recv(wfd, w2c.buf, CHUNK, 0);
            if (r > 0) {
                w2c.off = 0;
                w2c.len = (size_t)r;
                follow(&b, w2c.buf, (size_t)r);
                progress = true;
            } else if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                worker_eof = true;
            }
        }
        if (w2c.len > 0) {
            ssize_t w = client_write(s, w2c.buf + w2c.off, w2c.len, &cwant_w);
            if (w > 0) {
                w2c.off += (size_t)w;
                w2c.len -= (size_t)w;
                progress = true;
            } else if (w == 0 || w == -1) {
                client_eof = true;
                break;
            }
        }
        if (progress || worker_eof) continue;
        /* Nothing moved: wait for a side. */
        struct pollfd pf[2] = {{.fd = s->fd}, {.fd = wfd}};
        if (c2w.len == 0) pf[0].events |= cwant_r;
        if (w2c.len > 0) pf[0].events |= cwant_w;
        if (c2w.len > 0) pf[1].events |= POLLOUT;
        if (w2c.len == 0) pf[1].events |= POLLIN;
        if (s->ssl && c2w.len == 0 && SSL_pending(s->ssl) > 0) continue;
        /* While the client's side is not watched for reading, a kill (which shuts it
         * down for reading) is seen by the timeout. */
        int pr = poll(pf, 2, c2w.len == 0 ? -1 : 250);
        if (pr < 0 && errno != EINTR) break;
    }
    /* Whatever the worker said last is the client's (its FATAL, when it ended the session). */
    set_nonblocking(s->fd, false);
    while (!client_eof && w2c.len > 0) {
        short want;
        ssize_t w = client_write(s, w2c.buf + w2c.off, w2c.len, &want);
        if (w <= 0) break;
        w2c.off += (size_t)w;
        w2c.len -= (size_t)w;
    }
    if (client_eof) goto out;
    if (atomic_load(&s->killed)) {
        if (at_boundary(&b)) final_fatal(s, "57P01", s->kill_message);
        goto out;
    }
    bool terminated = at_boundary(&cb) && cb.last_type == PqMsg_Terminate;
    if (worker_eof && !b.last_fatal && !terminated && at_boundary(&b)) {
        /* The worker closed the session without a word and not on the client's
         * Terminate: it is gone, or ending. */
        char state[6], msg[300];
        if (!wk_gone_reason(k, s->id, state, msg, sizeof msg, 3000)) {
            snprintf(state, sizeof state, "57P01");
            snprintf(msg, sizeof msg, "terminating connection because the workspace's worker ended the session");
        }
        final_fatal(s, state, msg);
    }
out:
    free(c2w.buf);
    free(w2c.buf);
}
