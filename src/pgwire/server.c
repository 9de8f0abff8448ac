/* server.c - the listener, the list of sessions (limits, cancel, REST views and
 * disconnects), the watchdog for timeouts and vanished clients, TLS set-up, and the
 * slow-down of repeated failed logins. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pgexec/pgexec.h"
#include "pgwire/internal.h"
#include "util/jsonx.h"
#include "util/log.h"
#include "util/timeutil.h"

void pgw_session_run(pgw_session *s);

double pgw_now_ms(void) { return pgx_now_ms(); }

/* ---- failed logins ---- */

/* The slow-down of guessing, per client address (its addr_key). Each attempt from an
 * address with PGW_FREE_FAILURES or more recent failures takes the next free turn: turns
 * are spaced by a delay that doubles per failure, and an attempt whose turn would come
 * after its handshake deadline is refused at once. So parallel attempts wait one after
 * another instead of each waiting once, side by side. The table is bounded: when it is
 * full, the address whose last failure is the oldest is forgotten. */

/* The spacing of turns after `failures` failures: 0 below PGW_FREE_FAILURES, then
 * auth_failure_delay doubling per failure, at most auth_failure_max_delay (seconds). */
static double fail_delay(const ds_config *cfg, int failures) {
    if (failures < PGW_FREE_FAILURES) return 0;
    int shift = failures - PGW_FREE_FAILURES;
    double ms = (double)cfg->auth_failure_delay * (double)(1L << (shift > 20 ? 20 : shift));
    if (ms > (double)cfg->auth_failure_max_delay) ms = (double)cfg->auth_failure_max_delay;
    return ms / 1000.0;
}

/* The entry of addr (srv->mu held), forgiving it after a quiet PGW_FORGIVE_S; NULL when
 * there is none and create is false. */
static struct pgw_addr_fails *fails_entry_locked(pgw_server *srv, const char *addr, bool create, double now) {
    struct pgw_addr_fails *e = NULL, *oldest = &srv->fails[0];
    for (int i = 0; i < PGW_FAIL_SLOTS; i++) {
        struct pgw_addr_fails *f = &srv->fails[i];
        if (f->addr[0] && !strcmp(f->addr, addr)) {
            e = f;
            break;
        }
        if (!f->addr[0] || (oldest->addr[0] && f->last < oldest->last)) oldest = f;
    }
    if (e && now - e->last > PGW_FORGIVE_S && now >= e->next_at) {
        e->failures = 0;
        e->next_at = 0;
    }
    if (e || !create) return e;
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
    return oldest;
}

int pgw_throttle_wait(pgw_session *s) {
    pgw_server *srv = s->srv;
    pthread_mutex_lock(&srv->mu);
    double now = ds_monotonic();
    struct pgw_addr_fails *e = fails_entry_locked(srv, s->addr_key, false, now);
    if (!e || e->failures < PGW_FREE_FAILURES) {
        pthread_mutex_unlock(&srv->mu);
        return 0;
    }
    double turn = e->next_at > now ? e->next_at : now;
    if (turn - now >= (double)pgw_auth_remaining_ms(s) / 1000.0) {
        pthread_mutex_unlock(&srv->mu);
        log_info("pgwire: %s: login refused: too many failed logins from this address", s->client_addr);
        return -1;
    }
    e->next_at = turn + fail_delay(srv->cfg, e->failures);
    if (turn > now) log_debug("pgwire: %s: login waits %.0f ms for its turn", s->client_addr, (turn - now) * 1000);
    /* Wait on the condition (not sleep) so that stop and eviction end the wait. */
    while (ds_monotonic() < turn && !srv->stopping && !atomic_load(&s->evicted)) {
        double left = turn - ds_monotonic();
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ns = (long long)ts.tv_nsec + (long long)(left * 1e9);
        ts.tv_sec += (time_t)(ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
    }
    bool go = !srv->stopping && !atomic_load(&s->evicted);
    pthread_mutex_unlock(&srv->mu);
    return go ? 0 : -2;
}

void pgw_login_failed(pgw_server *srv, const char *addr) {
    pthread_mutex_lock(&srv->mu);
    double now = ds_monotonic();
    struct pgw_addr_fails *e = fails_entry_locked(srv, addr, true, now);
    e->failures++;
    e->last = now;
    pthread_mutex_unlock(&srv->mu);
}

void pgw_login_ok(pgw_server *srv, const char *addr) {
    pthread_mutex_lock(&srv->mu);
    /* Not back to zero: whoever holds any valid credentials could otherwise wipe the
     * address's record between guesses at another workspace's password. */
    struct pgw_addr_fails *e = fails_entry_locked(srv, addr, false, ds_monotonic());
    if (e && e->failures > PGW_FREE_FAILURES) e->failures = PGW_FREE_FAILURES;
    pthread_mutex_unlock(&srv->mu);
}

/* ---- the session list ---- */

/* Takes s off the list of unauthenticated connections, if it is there (srv->mu held). */
static void startup_leave_locked(pgw_session *s) {
    pgw_server *srv = s->srv;
    if (!s->in_startup) return;
    for (pgw_session **pp = &srv->startups; *pp; pp = &(*pp)->next_startup)
        if (*pp == s) {
            *pp = s->next_startup;
            break;
        }
    s->in_startup = false;
    s->next_startup = NULL;
    srv->nstartups--;
}

/* Ends s's place among the unauthenticated connections (a no-op when it has none). Called
 * before its socket is closed: others may shut a listed socket down (eviction, stop),
 * and must never reach a descriptor number already reused. */
void pgw_session_startup_done(pgw_session *s) {
    pthread_mutex_lock(&s->srv->mu);
    startup_leave_locked(s);
    pthread_mutex_unlock(&s->srv->mu);
}

/* Moves an authenticated s from the pre-auth budget to the session list, unless a limit
 * says no (then why says which). */
bool pgw_session_admit(pgw_session *s, char *why, size_t whysz) {
    pgw_server *srv = s->srv;
    pthread_mutex_lock(&srv->mu);
    startup_leave_locked(s);
    int in_ws = 0;
    for (pgw_session *o = srv->sessions; o; o = o->next)
        if (!strcmp(o->w.id, s->w.id)) in_ws++;
    bool ok = true;
    if (atomic_load(&s->evicted)) {
        snprintf(why, whysz, "sorry, too many clients already");
        ok = false;
    } else if (srv->nsessions >= srv->cfg->max_sessions) {
        snprintf(why, whysz, "sorry, too many clients already (max_sessions is %lld)", (long long)srv->cfg->max_sessions);
        ok = false;
    } else if (in_ws >= srv->cfg->sessions_per_workspace) {
        snprintf(why, whysz, "too many connections to workspace %s (sessions_per_workspace is %lld)", s->w.id,
                 (long long)srv->cfg->sessions_per_workspace);
        ok = false;
    } else if (srv->stopping) {
        snprintf(why, whysz, "the server is shutting down");
        ok = false;
    }
    if (ok) {
        s->next = srv->sessions;
        srv->sessions = s;
        srv->nsessions++;
    }
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

void pgw_session_leave(pgw_session *s) {
    pgw_server *srv = s->srv;
    pthread_mutex_lock(&srv->mu);
    for (pgw_session **pp = &srv->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            srv->nsessions--;
            break;
        }
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

void pgw_session_cancel(pgw_server *srv, int32_t pid, int32_t secret) {
    char id[24] = "";
    wk_worker *k = NULL;
    pthread_mutex_lock(&srv->mu);
    for (pgw_session *s = srv->sessions; s; s = s->next) {
        if (s->pid != pid) continue;
        if (CRYPTO_memcmp(&s->secret, &secret, sizeof secret) == 0 && s->worker) {
            k = s->worker;
            wk_hold(k); /* past srv->mu: the session may end meanwhile */
            snprintf(id, sizeof id, "%s", s->id);
        }
        break;
    }
    pthread_mutex_unlock(&srv->mu);
    if (!k) return;
    wk_session_cancel(k, id);
    wk_release(srv->pool, k);
}

/* Marks s killed and wakes its relay, which sends the FATAL (srv->mu held). */
static void kill_locked(pgw_session *s, const char *why) {
    snprintf(s->kill_message, sizeof s->kill_message, "%s", why);
    atomic_store(&s->killed, true);
    shutdown(s->fd, SHUT_RD);
}

int pgw_session_count(pgw_server *srv, const char *ws_id) {
    if (!srv) return 0;
    pthread_mutex_lock(&srv->mu);
    int n = 0;
    for (pgw_session *s = srv->sessions; s; s = s->next)
        if (!strcmp(s->w.id, ws_id) && !atomic_load(&s->killed)) n++;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

json_t *pgw_sessions_json(pgw_server *srv, const char *ws_id) {
    json_t *arr = json_array();
    if (!srv) return arr;
    wk_worker *k = NULL;
    pthread_mutex_lock(&srv->mu);
    for (pgw_session *s = srv->sessions; s; s = s->next) {
        if (strcmp(s->w.id, ws_id) != 0 || atomic_load(&s->killed)) continue;
        json_t *o = json_pack("{s:s, s:s}", "id", s->id, "client_addr", s->client_addr);
        jx_set_time(o, "connected_at", s->connected_at);
        jx_set_time(o, "last_activity_at", (int64_t)atomic_load(&s->last_activity));
        json_array_append_new(arr, o);
        if (!k && s->worker) {
            k = s->worker;
            wk_hold(k);
        }
    }
    pthread_mutex_unlock(&srv->mu);
    /* What each session is doing, from the worker that runs them. */
    json_t *states = k ? wk_session_states(k) : json_object();
    if (k) wk_release(srv->pool, k);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        json_t *st = json_object_get(states, json_string_value(json_object_get(o, "id")));
        json_t *qc = json_object_get(st, "query_count"), *state = json_object_get(st, "state");
        json_object_set_new(o, "query_count", json_is_integer(qc) ? json_incref(qc) : json_integer(0));
        json_object_set_new(o, "state", json_is_string(state) ? json_incref(state) : json_string("idle"));
    }
    json_decref(states);
    return arr;
}

int pgw_kill_session(pgw_server *srv, const char *ws_id, const char *session_id, ds_err *err) {
    int rc = ds_fail(err, DS_E_SESSION_NOT_FOUND, "session \"%.40s\" not found", session_id);
    if (!srv) return rc;
    pthread_mutex_lock(&srv->mu);
    for (pgw_session *s = srv->sessions; s; s = s->next)
        if (!strcmp(s->w.id, ws_id) && !strcmp(s->id, session_id) && !atomic_load(&s->killed)) {
            kill_locked(s, "terminating connection due to administrator command");
            rc = 0;
            break;
        }
    pthread_mutex_unlock(&srv->mu);
    return rc;
}

int pgw_kill_workspace(pgw_server *srv, const char *ws_id, const char *why) {
    if (!srv) return 0;
    pthread_mutex_lock(&srv->mu);
    int n = 0;
    for (pgw_session *s = srv->sessions; s; s = s->next)
        if (!strcmp(s->w.id, ws_id) && !atomic_load(&s->killed)) {
            kill_locked(s, why);
            n++;
        }
    pthread_mutex_unlock(&srv->mu);
    return n;
}

/* ---- threads ---- */

static void *session_thread(void *arg) {
    pgw_session *s = arg;
    pgw_server *srv = s->srv;
    pgw_session_run(s);
    pthread_mutex_lock(&srv->mu);
    free(s);
    srv->nthreads--;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* Ends the sessions of workspaces that expired, when they expire rather than when the
 * reaper next runs: expired is expired for SQL as it is for REST (410) and for new
 * logins. (Statement timeouts and clients that hang up mid-query are the worker's.) */
static void *watchdog_main(void *arg) {
    pgw_server *srv = arg;
    pthread_mutex_lock(&srv->mu);
    while (!srv->stopping) {
        struct timespec ts = ds_deadline(CLOCK_REALTIME, 100);
        pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
        int64_t wall = ds_now(); /* with clock_offset, as the reaper and REST judge expiry */
        for (pgw_session *s = srv->sessions; s; s = s->next) {
            if (s->w.expires_at > 0 && wall >= s->w.expires_at && !atomic_load(&s->killed)) {
                log_info("pgwire: session %s: workspace %s expired", s->id, s->w.id);
                kill_locked(s, "terminating connection because the workspace expired");
            }
        }
    }
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* The budget key of a client address (see addr_key in internal.h). */
static void address_key(const struct sockaddr_storage *ss, char *host, size_t hostsz, char *key, size_t keysz) {
    snprintf(host, hostsz, "?");
    snprintf(key, keysz, "?");
    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, host, (socklen_t)hostsz);
        snprintf(key, keysz, "%s", host);
    } else if (ss->ss_family == AF_INET6) {
        struct in6_addr a = ((const struct sockaddr_in6 *)ss)->sin6_addr;
        inet_ntop(AF_INET6, &a, host, (socklen_t)hostsz);
        if (IN6_IS_ADDR_V4MAPPED(&a)) {
            inet_ntop(AF_INET, &a.s6_addr[12], key, (socklen_t)keysz);
        } else {
            memset(&a.s6_addr[8], 0, 8);
            char net[INET6_ADDRSTRLEN];
            inet_ntop(AF_INET6, &a, net, sizeof net);
            snprintf(key, keysz, "%s/64", net);
        }
    }
}

/* Refuses a connection the way PostgreSQL does when it is full, without a thread: one
 * ErrorResponse, then close. What the client sent already is read first, so that the
 * close does not turn into a reset that could discard the error before it is read. */
static void refuse_cheaply(int fd) {
    static const char fields[] = "SFATAL\0VFATAL\0C53300\0Msorry, too many clients already\0";
    uint8_t buf[128];
    size_t n = sizeof fields; /* the fields, their NULs and the final NUL */
    buf[0] = PqMsg_ErrorResponse;
    uint32_t len = (uint32_t)(n + 4);
    buf[1] = (uint8_t)(len >> 24), buf[2] = (uint8_t)(len >> 16), buf[3] = (uint8_t)(len >> 8), buf[4] = (uint8_t)len;
    memcpy(buf + 5, fields, n);
    ssize_t w = send(fd, buf, 5 + n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    shutdown(fd, SHUT_WR);
    char drain[512];
    for (int i = 0; i < 8 && recv(fd, drain, sizeof drain, MSG_DONTWAIT) > 0; i++) {
    }
    close(fd);
}

/* Decides whether a new connection from key gets a place among the unauthenticated
 * ones (srv->mu held). Each address holds at most startup_connections_per_address. When
 * all max_startup_connections places are taken, the newcomer takes the place of the
 * oldest connection of the address that holds the most, if that address holds more than
 * the newcomer's would after admission: one address (or a few) cannot lock the others
 * out. Returns the session to evict (its place is already freed), s itself when there is
 * no place, or NULL when there was a free place. */
static pgw_session *startup_place_locked(pgw_server *srv, const char *key, pgw_session *s) {
    int mine = 0;
    for (pgw_session *o = srv->startups; o; o = o->next_startup)
        if (!strcmp(o->addr_key, key)) mine++;
    if (mine >= srv->cfg->startup_connections_per_address) return s;
    if (srv->nstartups < srv->cfg->max_startup_connections) return NULL;
    /* Full: the heaviest address's oldest connection (the list is oldest first). */
    pgw_session *victim = NULL;
    int most = 0;
    for (pgw_session *o = srv->startups; o; o = o->next_startup) {
        int n = 0;
        for (pgw_session *p = srv->startups; p; p = p->next_startup)
            if (!strcmp(p->addr_key, o->addr_key)) n++;
        if (n > most) most = n, victim = o;
    }
    if (!victim || most <= mine + 1) return s;
    startup_leave_locked(victim);
    atomic_store(&victim->evicted, true);
    shutdown(victim->fd, SHUT_RD); /* wakes its thread; it sends 53300 and ends */
    pthread_cond_broadcast(&srv->cv); /* ... also when it waits for its turn (throttle) */
    return victim;
}

static void *listener_main(void *arg) {
    pgw_server *srv = arg;
    static int32_t pid_seq;
    for (;;) {
        struct pollfd p[2] = {{.fd = srv->listen_fd, .events = POLLIN}, {.fd = srv->wake[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) break;
        if (!(p[0].revents & POLLIN)) continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(srv->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pgw_session *s = calloc(1, sizeof *s);
        if (s) s->wfd = -1;
        if (!s) {
            refuse_cheaply(fd);
            continue;
        }
        char host[INET6_ADDRSTRLEN];
        address_key(&ss, host, sizeof host, s->addr_key, sizeof s->addr_key);
        snprintf(s->client_addr, sizeof s->client_addr, "%s", host);
        s->srv = srv;
        s->fd = fd;
        s->accepted_ms = pgw_now_ms();
        s->auth_deadline_ms = s->accepted_ms + (double)srv->cfg->authentication_timeout * 1000.0;
        /* Unauthenticated connections have their own budget, apart from the sessions'
         * limits: idle sockets cannot make valid logins fail. Threads are bounded too. */
        pthread_mutex_lock(&srv->mu);
        pgw_session *out = NULL;
        char evicted_addr[64] = ""; /* copied under the lock: the evicted one may be gone after it */
        bool room = !srv->stopping &&
                    srv->nthreads < srv->cfg->max_sessions + srv->cfg->max_startup_connections + 64;
        if (room) {
            out = startup_place_locked(srv, s->addr_key, s);
            room = out != s;
            if (out && room) snprintf(evicted_addr, sizeof evicted_addr, "%s", out->client_addr);
        }
        if (room) {
            pgw_session **tail = &srv->startups;
            while (*tail) tail = &(*tail)->next_startup;
            *tail = s;
            s->in_startup = true;
            srv->nstartups++;
            srv->nthreads++;
        }
        pthread_mutex_unlock(&srv->mu);
        if (evicted_addr[0])
            log_info("pgwire: %s: an unauthenticated connection from %s was closed to make room", s->client_addr,
                     evicted_addr);
        if (!room) {
            log_debug("pgwire: %s: refused: too many unauthenticated connections", host);
            refuse_cheaply(fd);
            free(s);
            continue;
        }
        s->pid = __atomic_add_fetch(&pid_seq, 1, __ATOMIC_RELAXED) + 1000;
        RAND_bytes((unsigned char *)&s->secret, sizeof s->secret);
        snprintf(s->id, sizeof s->id, "%d", s->pid);
        s->connected_at = ds_now();
        atomic_store(&s->last_activity, (long long)s->connected_at);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&s->thread, &attr, session_thread, s) != 0) {
            pthread_mutex_lock(&srv->mu);
            startup_leave_locked(s);
            srv->nthreads--;
            pthread_mutex_unlock(&srv->mu);
            close(fd);
            free(s);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

/* ---- start / stop ---- */

/* The tls-server-end-point binding data of RFC 5929 section 4.1: the certificate's DER
 * hashed with the hash of its signature algorithm, SHA-256 when that is MD5 or SHA-1.
 * A certificate whose signature has no such hash (Ed25519, ...) leaves channel binding
 * off, and SCRAM-SHA-256-PLUS is not offered. */
static void cbind_setup(pgw_server *srv) {
    X509 *cert = SSL_CTX_get0_certificate(srv->tls);
    int md_nid = NID_undef;
    const EVP_MD *md = NULL;
    if (cert && X509_get_signature_info(cert, &md_nid, NULL, NULL, NULL) == 1)
        md = md_nid == NID_md5 || md_nid == NID_sha1 ? EVP_sha256() : EVP_get_digestbynid(md_nid);
    unsigned int n = 0;
    if (!md || X509_digest(cert, md, srv->cbind, &n) != 1) {
        ERR_clear_error();
        log_warn("pgwire: no channel binding: the certificate's signature algorithm has no usable hash");
        return;
    }
    srv->cbind_len = n;
}

static int tls_setup(pgw_server *srv, ds_err *err) {
    const ds_config *cfg = srv->cfg;
    if (cfg->require_ssl && (!cfg->tls_cert[0] || !cfg->tls_key[0]))
        return ds_fail(err, DS_E_INVALID_REQUEST, "require_ssl is on but no tls_cert and tls_key are configured");
    if (!cfg->tls_cert[0] && !cfg->tls_key[0]) return 0;
    if (!cfg->tls_cert[0] || !cfg->tls_key[0]) return ds_fail(err, DS_E_INVALID_REQUEST, "tls_cert and tls_key go together");
    srv->tls = SSL_CTX_new(TLS_server_method());
    if (!srv->tls) return ds_fail(err, DS_E_INTERNAL, "cannot create the TLS context");
    SSL_CTX_set_min_proto_version(srv->tls, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(srv->tls, cfg->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(srv->tls, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(srv->tls) != 1) {
        unsigned long e = ERR_get_error();
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        SSL_CTX_free(srv->tls);
        srv->tls = NULL;
        return ds_fail(err, DS_E_INVALID_REQUEST, "cannot load the TLS certificate or key: %s", buf);
    }
    cbind_setup(srv);
    return 0;
}

static int listen_on(const char *addr, int port, int *bound, ds_err *err) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        len = sizeof *in4;
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        len = sizeof *in6;
    } else {
        return ds_fail(err, DS_E_INVALID_REQUEST, "listen_address \"%s\" is not an IP address", addr);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ds_fail(err, DS_E_INTERNAL, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 256) != 0) {
        int e = errno;
        close(fd);
        return ds_fail(err, DS_E_INTERNAL, "cannot listen on %s:%d (PostgreSQL protocol): %s", addr, port, strerror(e));
    }
    len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
    return fd;
}

static void on_workspace_gone(void *ud, const char *ws_id) {
    pgw_kill_workspace(ud, ws_id, "terminating connection: the workspace was deleted");
}

/* The session operations as control/ calls them. */
static int ops_count(void *ud, const char *ws_id) { return pgw_session_count(ud, ws_id); }
static json_t *ops_list(void *ud, const char *ws_id) { return pgw_sessions_json(ud, ws_id); }
static int ops_kill(void *ud, const char *ws_id, const char *session_id, ds_err *err) {
    return pgw_kill_session(ud, ws_id, session_id, err);
}
static int ops_kill_workspace(void *ud, const char *ws_id, const char *why) { return pgw_kill_workspace(ud, ws_id, why); }
static int ops_port(void *ud) { return pgw_port(ud, 0); }
static const ctl_sessions_ops session_ops = {ops_count, ops_list, ops_kill, ops_kill_workspace, ops_port};

int pgw_start(const ds_config *cfg, cat *c, wk_pool *pool, ctl *control, pgw_server **out, int *bound_port,
              ds_err *err) {
    pgw_server *srv = calloc(1, sizeof *srv);
    if (!srv) return ds_fail(err, DS_E_INTERNAL, "out of memory");
    srv->cfg = cfg;
    srv->cat = c;
    srv->control = control;
    srv->pool = pool;
    srv->listen_fd = srv->wake[0] = srv->wake[1] = -1;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);
    RAND_bytes(srv->mock_secret, sizeof srv->mock_secret);
    srv->fails = calloc(PGW_FAIL_SLOTS, sizeof *srv->fails);
    int rc = srv->fails ? tls_setup(srv, err) : ds_fail(err, DS_E_INTERNAL, "out of memory");
    if (rc) goto fail;
    if ((srv->listen_fd = listen_on(cfg->listen_address, (int)cfg->pg_port, bound_port, err)) < 0) {
        rc = srv->listen_fd;
        goto fail;
    }
    if (pipe2(srv->wake, O_CLOEXEC) != 0) {
        rc = ds_fail(err, DS_E_INTERNAL, "pipe: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv) != 0) {
        rc = ds_fail(err, DS_E_INTERNAL, "cannot start the watchdog");
        goto fail;
    }
    if (pthread_create(&srv->listener, NULL, listener_main, srv) != 0) {
        pthread_mutex_lock(&srv->mu);
        srv->stopping = true;
        pthread_cond_broadcast(&srv->cv);
        pthread_mutex_unlock(&srv->mu);
        pthread_join(srv->watchdog, NULL);
        rc = ds_fail(err, DS_E_INTERNAL, "cannot start the listener");
        goto fail;
    }
    wk_pool_on_gone(pool, on_workspace_gone, srv);
    srv->port = *bound_port;
    if (control) ctl_sessions_register(control, &session_ops, srv);
    *out = srv;
    return 0;
fail:
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    if (srv->wake[0] >= 0) close(srv->wake[0]), close(srv->wake[1]);
    if (srv->tls) SSL_CTX_free(srv->tls);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv->fails);
    free(srv);
    return rc;
}

void pgw_stop(pgw_server *srv) {
    if (!srv) return;
    if (srv->control) ctl_sessions_register(srv->control, NULL, NULL);
    ssize_t w = write(srv->wake[1], "x", 1);
    (void)w;
    pthread_join(srv->listener, NULL);
    close(srv->listen_fd);
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    for (pgw_session *s = srv->sessions; s; s = s->next)
        if (!atomic_load(&s->killed)) kill_locked(s, "terminating connection due to administrator command");
    /* Sessions still authenticating are woken by shutting their sockets down; wait. */
    for (pgw_session *s = srv->startups; s; s = s->next_startup) shutdown(s->fd, SHUT_RD);
    pthread_cond_broadcast(&srv->cv); /* ... and those waiting for their turn (throttle) */
    while (srv->nthreads > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&srv->cv, &srv->mu, &ts);
        for (pgw_session *s = srv->sessions; s; s = s->next)
            if (!atomic_load(&s->killed)) kill_locked(s, "terminating connection due to administrator command");
    }
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
    pthread_join(srv->watchdog, NULL);
    wk_pool_on_gone(srv->pool, NULL, NULL);
    close(srv->wake[0]);
    close(srv->wake[1]);
    if (srv->tls) SSL_CTX_free(srv->tls);
    pthread_cond_destroy(&srv->cv);
    pthread_mutex_destroy(&srv->mu);
    free(srv->fails);
    free(srv);
}

int pgw_port(pgw_server *s, int fallback) { return s ? s->port : fallback; }
