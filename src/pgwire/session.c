/* session.c - one client connection from first byte to last: SSL negotiation, the
 * startup packet, authentication, limits, then the hand-over to the workspace's worker
 * and the relay (relay.c) until the session ends. Runs on its own thread. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pgwire/internal.h"
#include "util/log.h"
#include "util/timeutil.h"

void pgw_session_run(pgw_session *s);
void pgw_session_cancel(pgw_server *srv, int32_t pid, int32_t secret);
bool pgw_session_admit(pgw_session *s, char *why, size_t whysz);
void pgw_session_startup_done(pgw_session *s);
void pgw_session_leave(pgw_session *s);

bool pgw_has_buffered(const pgw_session *s);

static int tls_accept(pgw_session *s) {
    s->ssl = SSL_new(s->srv->tls);
    if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1) return -1;
    for (;;) {
        int r = SSL_accept(s->ssl);
        if (r == 1) return 0;
        int e = SSL_get_error(s->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            struct pollfd p = {.fd = s->fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
            if (poll(&p, 1, pgw_auth_remaining_ms(s)) <= 0) return -1;
            continue;
        }
        ERR_clear_error();
        return -1;
    }
}

/* Reads the startup packet, negotiating SSL/GSS first. Returns 1 for a v3 startup in
 * st (body in *buf), 0 when the connection is done (cancel, refusal, EOF). */
static int startup(pgw_session *s, pgw_startup *st, uint8_t **buf) {
    for (int round = 0; round < 3; round++) {
        uint8_t lenb[4];
        if (pgw_read_exact(s, lenb, 4, pgw_auth_remaining_ms(s)) != 1) return 0;
        uint32_t len = wire_be32(lenb);
        if (len < 8 || len > PGW_STARTUP_MAX) {
            pgw_error(s, "FATAL", "08P01", "invalid length of startup packet", 0);
            pgw_flush(s);
            return 0;
        }
        free(*buf);
        *buf = malloc(len - 4);
        if (!*buf || pgw_read_exact(s, *buf, len - 4, pgw_auth_remaining_ms(s)) != 1) return 0;
        pgw_parse_startup(*buf, len - 4, st);
        switch (st->kind) {
        case PGW_START_SSL: {
            /* Bytes the client sent after SSLRequest before our answer would be
             * readable without encryption: refuse them (CVE-2021-23214). */
            if (pgw_has_buffered(s)) return 0;
            bool tls = s->srv->tls && !s->ssl;
            char c = tls ? PqSSL_Accept : PqSSL_Refuse;
            if (send(s->fd, &c, 1, MSG_NOSIGNAL) != 1) return 0;
            if (tls && tls_accept(s) != 0) {
                log_info("pgwire: %s: TLS handshake failed", s->client_addr);
                return 0;
            }
            continue;
        }
        case PGW_START_GSSENC: {
            char c = PqSSL_Refuse;
            if (send(s->fd, &c, 1, MSG_NOSIGNAL) != 1) return 0;
            continue;
        }
        case PGW_START_CANCEL:
            pgw_session_cancel(s->srv, st->cancel_pid, st->cancel_secret);
            return 0;
        case PGW_START_V3:
            return 1;
        default:
            pgw_error(s, "FATAL",
                      !strncmp(st->error, "unsupported frontend protocol", 29) ? "0A000"
                      : !strncmp(st->error, "no PostgreSQL user name", 23)     ? "28000"
                                                                               : "08P01",
                      st->error, 0);
            pgw_flush(s);
            return 0;
        }
    }
    pgw_error(s, "FATAL", "08P01", "too many negotiation requests", 0);
    pgw_flush(s);
    return 0;
}

static void fatal(pgw_session *s, const char *state, const char *msg) {
    pgw_error(s, "FATAL", state, msg, 0);
    pgw_flush(s);
}

/* Hands the session to its workspace's worker (started now if needed), which sends
 * the first messages after authentication. Returns 0, or -1 with a FATAL sent. */
static int open_session(pgw_session *s, const pgw_startup *st) {
    ds_err e;
    ds_err_clear(&e);
    wk_worker *k = NULL;
    if (wk_acquire(s->srv->pool, &s->w, &k, &e) != 0) {
        fatal(s, "57P03", "the workspace cannot be opened now");
        return -1;
    }
    wk_session_req r = {
        .id = s->id,
        .user = st->user,
        .database = st->database,
        .pid = s->pid,
        .secret = s->secret,
        .keys = st->keys,
        .values = st->values,
        .nparams = st->nparams,
    };
    int fd = -1;
    if (wk_session_open(k, &r, &fd, &e) != 0) {
        wk_release(s->srv->pool, k);
        fatal(s, "57P03", "the workspace cannot be opened now");
        return -1;
    }
    pthread_mutex_lock(&s->srv->mu);
    s->worker = k;
    s->wfd = fd;
    pthread_mutex_unlock(&s->srv->mu);
    return 0;
}

void pgw_session_run(pgw_session *s) {
    char ctx[24];
    snprintf(ctx, sizeof ctx, "pg-%d", s->pid);
    log_set_context(ctx);
    wire_wb_init(&s->out, PGW_MSG_MAX + (64u << 10));
    pgw_startup st;
    uint8_t *sbuf = NULL;
    bool admitted = false;
    if (startup(s, &st, &sbuf) != 1) goto out;
    if (st.minor > 0 || st.nunknown > 0) {
        /* NegotiateProtocolVersion: we speak 3.0 and know no _pq_ options. */
        wire_wb_begin(&s->out, PqMsg_NegotiateProtocolVersion);
        wire_wb_i32(&s->out, 3 << 16);
        wire_wb_i32(&s->out, st.nunknown);
        for (int i = 0; i < st.nunknown; i++) wire_wb_cstr(&s->out, st.unknown_opts[i]);
        wire_wb_end(&s->out);
    }
    if (s->srv->cfg->require_ssl && !s->ssl) {
        fatal(s, "28000", "SSL is required: connect with sslmode=require");
        goto out;
    }
    if (pgw_authenticate(s, &st) != 0) {
        pgw_flush(s); /* the FATAL error, when one is pending */
        goto out;
    }
    char why[160];
    if (!pgw_session_admit(s, why, sizeof why)) {
        fatal(s, "53300", why);
        goto out;
    }
    admitted = true;
    s->auth_deadline_ms = 0; /* reads wait by the session's own timeouts from now on */
    if (open_session(s, &st) != 0) goto out;
    if (pgw_flush(s) != 0) goto out; /* NegotiateProtocolVersion, when there is one */
    log_info("pgwire: %s connected to workspace %s as %s", s->client_addr, s->w.id, s->user);
    pgw_relay(s, s->worker, s->wfd);
    log_info("pgwire: %s disconnected from workspace %s", s->client_addr, s->w.id);
out:
    if (!admitted && atomic_load(&s->evicted)) {
        wire_wb_reset(&s->out);
        fatal(s, "53300", "sorry, too many clients already");
    }
    if (admitted) pgw_session_leave(s); /* off the list first: nobody reaches s->worker after */
    else pgw_session_startup_done(s);
    if (s->wfd >= 0) close(s->wfd); /* the worker ends the session (a ROLLBACK of an open transaction) */
    if (s->worker) wk_release(s->srv->pool, s->worker);
    if (s->ssl) {
        SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
    }
    close(s->fd);
    free(sbuf);
    free(s->in);
    wire_wb_free(&s->out);
    log_set_context(NULL);
}
