/* session.c - one client connection from first byte to last: SSL negotiation, the
 * startup packet, authentication, limits, the session's DuckDB connection, and the
 * message loop. Runs on its own thread. */
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
#include "util/sqlscan.h"
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
            char c = tls ? 'S' : 'N';
            if (send(s->fd, &c, 1, MSG_NOSIGNAL) != 1) return 0;
            if (tls && tls_accept(s) != 0) {
                log_info("pgwire: %s: TLS handshake failed", s->client_addr);
                return 0;
            }
            continue;
        }
        case PGW_START_GSSENC: {
            char c = 'N';
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

/* Session-local helpers in DuckDB: version() answers like PostgreSQL, current_setting()
 * answers the client settings. Made on first use (a statement that calls one of them):
 * two DDL statements per connection would cost more than the rest of the login. */
void pgw_session_macros(pgw_session *s, const char *sql, size_t len) {
    static const char *const names[] = {"version", "current_setting", NULL};
    if (s->macros_ready || !s->con || !sqlscan_calls(sql, len, names)) return;
    if (pgw_park_portals(s, NULL, false) != 0) return; /* made at a later statement */
    s->macros_ready = true;
    duckdb_result r;
    char q[512];
    snprintf(q, sizeof q,
             "CREATE OR REPLACE TEMP MACRO version() AS 'PostgreSQL 15.0 (duckspace %s, DuckDB 1.4.4) on "
             "x86_64-pc-linux-gnu, compiled by gcc, 64-bit'",
             DUCKSPACE_VERSION);
    if (duckdb_query(s->con, q, &r) == DuckDBError) log_warn("pgwire: version(): %s", duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    pgw_settings_sync_macro(s);
}

static void fatal(pgw_session *s, const char *state, const char *msg) {
    pgw_error(s, "FATAL", state, msg, 0);
    pgw_flush(s);
}

void pgw_session_run(pgw_session *s) {
    char ctx[24];
    snprintf(ctx, sizeof ctx, "pg-%d", s->pid);
    log_set_context(ctx);
    wire_wb_init(&s->out, PGW_MSG_MAX + (64u << 10));
    pgt_buf_init(&s->cell);
    pgt_buf_init(&s->cell2);
    s->tx = 'I';
    pgw_startup st;
    uint8_t *sbuf = NULL;
    bool admitted = false;
    if (startup(s, &st, &sbuf) != 1) goto out;
    if (st.minor > 0 || st.nunknown > 0) {
        /* NegotiateProtocolVersion: we speak 3.0 and know no _pq_ options. */
        wire_wb_begin(&s->out, 'v');
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
    ds_err e;
    ds_err_clear(&e);
    if (ws_acquire(s->srv->reg, &s->w, &s->inst, &e) != 0 || ws_conn_open(s->inst, &s->wc, &e) != 0) {
        fatal(s, "57P03", "the workspace cannot be opened now");
        goto out;
    }
    s->con = ws_conn_duckdb(s->wc);
    pgw_settings_init(s, &st);
    pgw_settings_report_all(s);
    wire_wb_begin(&s->out, 'K'); /* BackendKeyData */
    wire_wb_i32(&s->out, s->pid);
    wire_wb_i32(&s->out, s->secret);
    wire_wb_end(&s->out);
    pgw_ready(s);
    if (pgw_flush(s) != 0) goto out;
    log_info("pgwire: %s connected to workspace %s as %s", s->client_addr, s->w.id, s->user);

    for (;;) {
        int idle_ms = -1;
        if (s->tx == 'I' && s->idle_timeout_ms > 0)
            idle_ms = (int)(s->idle_timeout_ms > 2000000000 ? 2000000000 : s->idle_timeout_ms);
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
        if (type == 'X') break;
        if (type == 'Q') {
            if (len == 0 || body[len - 1] != 0) {
                fatal(s, "08P01", "invalid Query message");
                break;
            }
            pgw_simple_query(s, (const char *)body, len - 1);
            if (atomic_load(&s->killed)) {
                wire_wb_reset(&s->out);
                fatal(s, "57P01", s->kill_message);
                break;
            }
            if (pgw_flush(s) != 0) break;
            continue;
        }
        if (strchr("PBDESCH", type)) {
            if (pgw_extended(s, type, body, len) != 0) break;
            if (atomic_load(&s->killed)) {
                wire_wb_reset(&s->out);
                fatal(s, "57P01", s->kill_message);
                break;
            }
            continue;
        }
        char m[64];
        snprintf(m, sizeof m, "invalid frontend message type %d", (unsigned char)type);
        fatal(s, "08P01", m);
        break;
    }
    log_info("pgwire: %s disconnected from workspace %s", s->client_addr, s->w.id);
out:
    if (!admitted && atomic_load(&s->evicted)) {
        wire_wb_reset(&s->out);
        fatal(s, "53300", "sorry, too many clients already");
    }
    if (admitted) pgw_session_leave(s);
    else pgw_session_startup_done(s);
    pgw_free_statements(s);
    if (s->tx != 'I' && s->con) {
        duckdb_result r;
        duckdb_query(s->con, "ROLLBACK", &r);
        duckdb_destroy_result(&r);
    }
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
    pgt_buf_free(&s->cell);
    pgt_buf_free(&s->cell2);
    pgt_tz_free(s->tz);
    log_set_context(NULL);
}
