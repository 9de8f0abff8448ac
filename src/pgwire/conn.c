/* conn.c - bytes in and out of a session's socket (plain or TLS), message framing
 * with length limits, flushing, and the client side's own error messages. */
#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgexec/pgexec.h"
#include "pgwire/internal.h"
#include "util/log.h"

int pgw_auth_remaining_ms(const pgw_session *s) {
    double left = s->auth_deadline_ms - pgw_now_ms();
    return left <= 0 ? 0 : left > 2e9 ? 2000000000 : (int)left + 1;
}

/* Waits until fd is readable or timeout_ms passes (<0: forever). 1 ready, 0 timeout.
 * During the handshake the deadline of the whole handshake counts instead, so that a
 * client trickling a byte at a time cannot hold the connection longer. */
static int wait_readable(pgw_session *s, int timeout_ms) {
    if (s->ssl && SSL_pending(s->ssl) > 0) return 1;
    if (s->auth_deadline_ms > 0) timeout_ms = pgw_auth_remaining_ms(s);
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        return r > 0 ? 1 : r;
    }
}

/* Reads up to n bytes. Returns bytes read, 0 on EOF, -1 on error, -2 on timeout. */
static ssize_t read_some(pgw_session *s, void *buf, size_t n, int timeout_ms) {
    for (;;) {
        int w = wait_readable(s, timeout_ms);
        if (w == 0) return -2;
        if (w < 0) return -1;
        if (s->ssl) {
            int r = SSL_read(s->ssl, buf, (int)(n > 1 << 30 ? 1 << 30 : n));
            if (r > 0) return r;
            int e = SSL_get_error(s->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
            if (e == SSL_ERROR_ZERO_RETURN) return 0;
            ERR_clear_error();
            return -1;
        }
        ssize_t r = recv(s->fd, buf, n, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        return r;
    }
}

int pgw_read_exact(pgw_session *s, void *buf, size_t n, int timeout_ms) {
    uint8_t *p = buf;
    while (n > 0) {
        /* Serve from what is already buffered first. */
        if (s->r_pos < s->r_len) {
            size_t take = s->r_len - s->r_pos < n ? s->r_len - s->r_pos : n;
            memcpy(p, s->rbuf + s->r_pos, take);
            s->r_pos += take;
            p += take;
            n -= take;
            continue;
        }
        ssize_t r;
        if (n >= sizeof s->rbuf) { /* a big body: straight into place */
            r = read_some(s, p, n, timeout_ms);
            if (r <= 0) return r == 0 ? 0 : (int)r;
            p += r;
            n -= (size_t)r;
            continue;
        }
        r = read_some(s, s->rbuf, sizeof s->rbuf, timeout_ms);
        if (r <= 0) return r == 0 ? 0 : (int)r;
        s->r_pos = 0;
        s->r_len = (size_t)r;
    }
    return 1;
}

bool pgw_has_buffered(const pgw_session *s) { return s->r_pos < s->r_len; }

int pgw_read_msg(pgw_session *s, char *type, const uint8_t **body, size_t *len, size_t max, int timeout_ms) {
    uint8_t hdr[5];
    int r = pgw_read_exact(s, hdr, 5, timeout_ms);
    if (r != 1) return r == -2 ? -2 : r;
    char m[128];
    int64_t body_len = wire_msg_body_len(hdr, max, m, sizeof m);
    if (body_len < 0) {
        pgw_error(s, "FATAL", "08P01", m, 0);
        pgw_flush(s);
        return -1;
    }
    if (wire_buf_grow(&s->in, &s->in_cap, (size_t)body_len + 1) != 0) return -1;
    r = pgw_read_exact(s, s->in, (size_t)body_len, timeout_ms < 0 ? 60000 : timeout_ms);
    if (r != 1) return r == -2 ? -1 : r;
    s->in[body_len] = 0; /* convenience terminator; parsers still use len */
    *type = (char)hdr[0];
    *body = s->in;
    *len = (size_t)body_len;
    return 1;
}

static int write_all(pgw_session *s, const uint8_t *p, size_t n) {
    while (n > 0) {
        if (s->ssl) {
            int w = SSL_write(s->ssl, p, (int)(n > 1 << 30 ? 1 << 30 : n));
            if (w <= 0) {
                int e = SSL_get_error(s->ssl, w);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) continue;
                ERR_clear_error();
                return -1;
            }
            p += w;
            n -= (size_t)w;
        } else {
            ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return -1;
            p += w;
            n -= (size_t)w;
        }
    }
    return 0;
}

int pgw_flush(pgw_session *s) {
    if (s->out.failed) {
        wire_wb_reset(&s->out);
        return -1;
    }
    int rc = s->out.len ? write_all(s, s->out.data, s->out.len) : 0;
    wire_wb_reset(&s->out);
    return rc;
}

void pgw_error(pgw_session *s, const char *severity, const char *sqlstate, const char *msg, int position) {
    pgx_msg_error_fields(&s->out, PqMsg_ErrorResponse, severity, sqlstate, msg, position);
}
