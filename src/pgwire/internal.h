/* internal.h - what the pgwire/ files share: the session and the server. */
#ifndef DS_PGW_INTERNAL_H
#define DS_PGW_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pgexec/protocol.h"
#include "util/wire.h"
#include "worker/pool.h"
#include "pgwire/pgwire.h"
#include "pgwire/proto.h"

#define PGW_STARTUP_MAX 10000        /* bytes of a startup packet */
#define PGW_PREAUTH_MSG_MAX 10000    /* any message before authentication */
#define PGW_MSG_MAX (256u << 20)     /* any message after it */
#define PGW_FREE_FAILURES 3          /* failed logins from an address before the slow-down */
#define PGW_FORGIVE_S 60.0           /* ... forgotten after this many quiet seconds */
#define PGW_FAIL_SLOTS 4096          /* addresses remembered */

typedef struct pgw_session pgw_session;

struct pgw_session {
    pgw_server *srv;
    pgw_session *next; /* server list, under srv->mu */
    int fd;
    SSL *ssl;
    char client_addr[64];
    /* Whose budget of unauthenticated connections this one counts in: the IPv4 address,
     * or the /64 prefix of an IPv6 one (a single host usually holds a whole /64). */
    char addr_key[64];
    char id[24];
    int32_t pid, secret;
    pthread_t thread;
    /* Received bytes not yet consumed (one recv takes what the client pipelined). */
    uint8_t rbuf[16384];
    size_t r_len, r_pos;
    /* The body of the current message. */
    uint8_t *in;
    size_t in_cap;
    wire_wb out; /* backend messages, ours and the executor's (its sink) */
    /* Who. */
    char user[128];
    cat_workspace w;
    /* The workspace's worker, which runs the session's SQL (held from admission to the
     * end), and this side's socket to it. */
    wk_worker *worker;
    int wfd;
    /* Shared with the watchdog, cancel requests and REST (atomics or srv->mu). */
    atomic_bool killed;
    char kill_message[200];
    int64_t connected_at;
    atomic_llong last_activity;
    /* Before authentication (srv->mu): on srv->startups, counted in the pre-auth budget. */
    pgw_session *next_startup;
    bool in_startup;
    double accepted_ms;    /* monotonic: when it was accepted (the oldest is evicted first) */
    double auth_deadline_ms; /* monotonic: TLS, startup and authentication end by then */
    atomic_bool evicted;   /* pushed out of the pre-auth budget by a newcomer */
};

struct pgw_server {
    const ds_config *cfg;
    cat *cat;
    wk_pool *pool;
    ctl *control; /* where REST finds the sessions */
    SSL_CTX *tls;
    int listen_fd;
    int port; /* bound */
    int wake[2]; /* pipe that stops the listener */
    pthread_t listener, watchdog;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pgw_session *sessions;
    int nsessions;    /* authenticated, counted against limits */
    pgw_session *startups; /* not yet authenticated, oldest first */
    int nstartups;
    int nthreads;     /* session threads alive */
    bool stopping;
    unsigned char mock_secret[32]; /* for mock SCRAM of unknown users */
    /* tls-server-end-point channel binding data (RFC 5929): the hash of our certificate;
     * cbind_len 0 when TLS is off or the certificate's signature has no usable hash. */
    unsigned char cbind[EVP_MAX_MD_SIZE];
    size_t cbind_len;
    /* Failed logins per client address (the slow-down; see server.c). */
    struct pgw_addr_fails {
        char addr[64];   /* addr_key; "" for a free entry */
        int failures;    /* since the last quiet PGW_FORGIVE_S */
        double last;     /* monotonic s of the last failure */
        double next_at;  /* monotonic s of the next free turn */
    } *fails;            /* PGW_FAIL_SLOTS entries */
};

/* conn.c */
/* Milliseconds left of s's handshake (TLS, startup, authentication); 0 when past. */
int pgw_auth_remaining_ms(const pgw_session *s);
int pgw_read_exact(pgw_session *s, void *buf, size_t n, int timeout_ms);
/* Reads one message: type byte, length, body (into s->in). Returns 1 with the message,
 * 0 on a clean EOF, -1 on an error or a message over max (after sending 08P01),
 * -2 on idle timeout. */
int pgw_read_msg(pgw_session *s, char *type, const uint8_t **body, size_t *len, size_t max, int timeout_ms);
int pgw_flush(pgw_session *s);
/* A FATAL (or other) ErrorResponse of the client side, into s->out. */
void pgw_error(pgw_session *s, const char *severity, const char *sqlstate, const char *msg, int position);

/* auth.c: runs SCRAM; on success fills s->w and returns 0; on failure has sent 28P01. */
int pgw_authenticate(pgw_session *s, const pgw_startup *st);

/* relay.c: the session's bytes between its client and wfd (its worker) until either
 * ends; a kill (s->killed) or a worker gone ends it with a FATAL to the client. */
void pgw_relay(pgw_session *s, wk_worker *k, int wfd);

/* server.c */
/* Before a password attempt: waits for the address's next turn when it has failed
 * recently (see server.c). 0 to go on; -1 when the turn would come after the handshake
 * deadline (nothing sent; the caller refuses); -2 when the server stops or s was evicted. */
int pgw_throttle_wait(pgw_session *s);
/* A failed (or abandoned) SCRAM exchange, and a successful one, from addr (an addr_key). */
void pgw_login_failed(pgw_server *srv, const char *addr);
void pgw_login_ok(pgw_server *srv, const char *addr);
double pgw_now_ms(void);

#endif
