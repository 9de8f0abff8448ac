/* session.c - one client connection from first byte to last: SSL negotiation, the
 * startup packet, authentication, limits, the workspace connection with its executor,
 * and the message loop with the one switch over every frontend message type (with the
 * copy-in sub-state of COPY FROM STDIN). Runs on
 * its own thread. */
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

/* The sink's back-pressure: the executor's messages go to the socket. */
static int sink_flush(void *ud) { return pgw_flush(ud); }

/* Opens the workspace connection and the executor on it, and makes the executor
 * visible to the watchdog and cancel requests. Returns 0, or -1 with a FATAL sent. */
static int open_executor(pgw_session *s, const pgw_startup *st) {
    ds_err e;
    ds_err_clear(&e);
    if (ws_acquire(s->srv->reg, &s->w, &s->inst, &e) != 0 || ws_conn_open(s->inst, &s->wc, &e) != 0) {
        fatal(s, "57P03", "the workspace cannot be opened now");
        return -1;
    }
    const ds_config *cfg = s->srv->cfg;
    pgx_params p = {
        .inst = s->inst,
        .wc = s->wc,
        .size_limit_bytes = s->w.size_limit_bytes,
        .suspended_result_memory = cfg->suspended_result_memory,
        .statement_timeout_s = cfg->statement_timeout,
        .idle_session_timeout_s = cfg->idle_session_timeout,
        .user = st->user,
        .database = st->database,
        .keys = st->keys,
        .values = st->values,
        .nparams = st->nparams,
    };
    pgx *x = pgx_new(&p, (pgx_sink){.out = &s->out, .flush = sink_flush, .ud = s});
    if (!x) {
        fatal(s, "57P03", "the workspace cannot be opened now");
        return -1;
    }
    pthread_mutex_lock(&s->srv->mu);
    s->x = x;
    pthread_mutex_unlock(&s->srv->mu);
    return 0;
}

/* The session was ended from outside (REST, workspace deleted or expired, stop): what
 * the executor wrote is dropped for the FATAL. Returns true then. */
static bool killed(pgw_session *s) {
    if (!atomic_load(&s->killed)) return false;
    wire_wb_reset(&s->out);
    fatal(s, "57P01", s->kill_message);
    return true;
}

/* One message after login. THE switch over every frontend message type: the query
 * protocols go to the executor, the rest ends the session. Returns 0 to go on, -1 to
 * end the session (any FATAL sent). */
static int dispatch(pgw_session *s, char type, const uint8_t *body, size_t len) {
    /* The copy-in sub-state: during COPY FROM STDIN every message but Terminate is the
     * executor's (CopyData/CopyDone/CopyFail, Flush and Sync ignored, anything else an
     * error that ends the COPY). */
    if (type != PqMsg_Terminate && pgx_copy_in(s->x)) {
        int rc = pgx_message(s->x, type, body, len);
        if (killed(s)) return -1;
        if (s->out.len && pgw_flush(s) != 0) return -1;
        return rc; /* -1: a FATAL was sent */
    }
    switch (type) {
    case PqMsg_Terminate:
        return -1;
    case PqMsg_Query:
        if (len == 0 || body[len - 1] != 0) {
            fatal(s, "08P01", "invalid Query message");
            return -1;
        }
        pgx_message(s->x, type, body, len);
        if (killed(s)) return -1;
        return pgw_flush(s) != 0 ? -1 : 0;
    case PqMsg_Parse:
    case PqMsg_Bind:
    case PqMsg_Describe:
    case PqMsg_Execute:
    case PqMsg_Close:
    case PqMsg_Sync:
    case PqMsg_Flush:
        if (pgx_message(s->x, type, body, len) != 0) return -1;
        return killed(s) ? -1 : 0;
    case PqMsg_CopyData:
    case PqMsg_CopyDone:
    case PqMsg_CopyFail:
        /* Not in copy-in: what a client still sends after a failed COPY, dropped as
         * PostgreSQL does. */
        return 0;
    case PqMsg_FunctionCall:
    default: {
        char m[64];
        snprintf(m, sizeof m, "invalid frontend message type %d", (unsigned char)type);
        fatal(s, "08P01", m);
        return -1;
    }
    }
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
    if (open_executor(s, &st) != 0) goto out;
    pgx_report_settings(s->x);
    wire_wb_begin(&s->out, PqMsg_BackendKeyData);
    wire_wb_i32(&s->out, s->pid);
    wire_wb_i32(&s->out, s->secret);
    wire_wb_end(&s->out);
    pgx_ready(s->x);
    if (pgw_flush(s) != 0) goto out;
    log_info("pgwire: %s connected to workspace %s as %s", s->client_addr, s->w.id, s->user);

    for (;;) {
        int64_t idle = pgx_idle_timeout_ms(s->x);
        int idle_ms = idle > 0 ? (int)(idle > 2000000000 ? 2000000000 : idle) : -1;
        char type;
        const uint8_t *body;
        size_t len;
        int r = pgw_read_msg(s, &type, &body, &len, PGW_MSG_MAX, idle_ms);
        if (atomic_load(&s->killed)) {
            fatal(s, "57P01", s->kill_message);
            break;
        }
        if (r == -2) {
            fatal(s, "57P05", "terminating connection due to idle-session timeout");
            break;
        }
        if (r <= 0) break;
        atomic_store(&s->last_activity, (long long)ds_now());
        if (dispatch(s, type, body, len) != 0) break;
    }
    log_info("pgwire: %s disconnected from workspace %s", s->client_addr, s->w.id);
out:
    if (!admitted && atomic_load(&s->evicted)) {
        wire_wb_reset(&s->out);
        fatal(s, "53300", "sorry, too many clients already");
    }
    if (admitted) pgw_session_leave(s); /* off the list first: nobody reaches s->x after */
    else pgw_session_startup_done(s);
    pgx_free(s->x); /* its statements, and a ROLLBACK of an open transaction */
    s->x = NULL;
    ws_conn_close(s->wc);
    if (s->inst) ws_release(s->srv->reg, s->inst);
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
