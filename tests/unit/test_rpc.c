/* Unit tests for worker/rpc.c (the main process <-> worker channel) and
 * worker/records.c (records as they cross it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "worker/records.h"
#include "worker/rpc.h"

static void pair(int sv[2]) { assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0); }

static void raw(int fd, const void *p, size_t n) { assert_int_equal(write(fd, p, n), (ssize_t)n); }

static void test_frame_round_trip_with_a_descriptor(void **st) {
    (void)st;
    int sv[2], pp[2];
    pair(sv);
    assert_int_equal(pipe(pp), 0);
    json_t *o = json_pack("{s:I, s:s, s:b}", "id", (json_int_t)7, "op", "session", "fd", 1);
    assert_int_equal(rpc_send_frame(sv[0], o, pp[1]), 0);
    json_decref(o);
    close(pp[1]);
    json_t *got = NULL;
    int fd = -1;
    assert_int_equal(rpc_recv_frame(sv[1], &got, &fd, 1024), 1);
    assert_string_equal(json_string_value(json_object_get(got, "op")), "session");
    assert_true(fd >= 0);
    raw(fd, "x", 1); /* the descriptor that came is the pipe's write end */
    char c = 0;
    assert_int_equal(read(pp[0], &c, 1), 1);
    assert_int_equal(c, 'x');
    close(fd);
    json_decref(got);
    close(pp[0]);
    close(sv[0]);
    assert_int_equal(rpc_recv_frame(sv[1], &got, &fd, 1024), 0); /* EOF between frames */
    close(sv[1]);
}

/* Each bad stream is refused: -1, nothing returned. */
static void test_malformed_frames_are_refused(void **st) {
    (void)st;
    static const struct {
        const char *bytes;
        size_t n;
    } bad[] = {
        {"\0\0\0\0", 4},                 /* empty */
        {"\0\0\x10\0{}", 6},             /* longer than the limit (4096 > 1024) */
        {"\0\0\0\x05[1,2]", 9},          /* not an object */
        {"\0\0\0\x04{\"a\"", 8},         /* not JSON */
        {"\0\0\0\x0a{}", 6},             /* cut short */
        {"\0\0", 2},                     /* a header cut short */
        {"\0\0\0\x14{\"op\":\"x\",\"fd\":true}", 24}, /* says it carries a descriptor: none came */
        {"\0\0\0\x0d{\"a\":1,\"a\":2}", 17},          /* duplicate keys */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int sv[2];
        pair(sv);
        raw(sv[0], bad[i].bytes, bad[i].n);
        close(sv[0]);
        json_t *o = (json_t *)1;
        int fd = 5;
        int r = rpc_recv_frame(sv[1], &o, &fd, 1024);
        if (r != -1) fail_msg("case %zu: %d", i, r);
        assert_null(o);
        assert_int_equal(fd, -1);
        close(sv[1]);
    }
}

/* ---- two channels talking ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int quick_done, slow_started;

static json_t *handler(void *ud, const char *op, json_t *args, int fd, ds_err *err) {
    (void)ud;
    if (fd >= 0) close(fd);
    if (!strcmp(op, "echo")) return json_deep_copy(args);
    if (!strcmp(op, "fail")) {
        ds_fail(err, DS_E_LIMIT_EXCEEDED, "too many: %s", json_string_value(json_object_get(args, "what")));
        ds_err_detail(err, "limit", "10", 1);
        return NULL;
    }
    if (!strcmp(op, "quick")) {
        pthread_mutex_lock(&mu);
        quick_done = 1;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
        return json_object();
    }
    if (!strcmp(op, "slow")) { /* waits for a later request: only works if both run at once */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 10;
        pthread_mutex_lock(&mu);
        slow_started = 1;
        pthread_cond_broadcast(&cv);
        while (!quick_done && pthread_cond_timedwait(&cv, &mu, &ts) == 0) {
        }
        int ok = quick_done;
        pthread_mutex_unlock(&mu);
        return json_pack("{s:b}", "saw_quick", ok);
    }
    ds_fail(err, DS_E_INVALID_REQUEST, "unknown");
    return NULL;
}

static void test_calls_answers_and_errors_both_ways(void **st) {
    (void)st;
    int sv[2];
    pair(sv);
    rpc *a = rpc_start(sv[0], handler, NULL, NULL), *b = rpc_start(sv[1], handler, NULL, NULL);
    assert_non_null(a);
    assert_non_null(b);
    json_t *out = NULL;
    ds_err e;
    assert_int_equal(rpc_call(a, "echo", json_pack("{s:s}", "x", "from a"), -1, &out, &e), 0);
    assert_string_equal(json_string_value(json_object_get(out, "x")), "from a");
    json_decref(out);
    assert_int_equal(rpc_call(b, "echo", json_pack("{s:i}", "n", 5), -1, &out, &e), 0); /* the other way */
    assert_int_equal(json_integer_value(json_object_get(out, "n")), 5);
    json_decref(out);
    int rc = rpc_call(a, "fail", json_pack("{s:s}", "what", "tables"), -1, &out, &e);
    assert_int_equal(rc, -(int)DS_E_LIMIT_EXCEEDED);
    assert_null(out);
    assert_int_equal(e.code, DS_E_LIMIT_EXCEEDED);
    assert_string_equal(e.message, "too many: tables");
    assert_string_equal(e.detail_key, "limit");
    assert_string_equal(e.detail_value, "10");
    assert_int_equal(e.detail_is_number, 1);
    rpc_free(a);
    /* b's peer is gone: its calls fail at once, they do not hang */
    rc = rpc_call(b, "echo", NULL, -1, &out, &e);
    assert_int_equal(rc, -(int)DS_E_INTERNAL);
    assert_non_null(strstr(e.message, "gone"));
    rpc_free(b);
}

struct slow_call {
    rpc *c;
    json_t *out;
    int rc;
};

static void *call_slow(void *arg) {
    struct slow_call *s = arg;
    ds_err e;
    s->rc = rpc_call(s->c, "slow", NULL, -1, &s->out, &e);
    return NULL;
}

static void test_a_slow_request_does_not_hold_up_a_quick_one(void **st) {
    (void)st;
    int sv[2];
    pair(sv);
    rpc *a = rpc_start(sv[0], handler, NULL, NULL), *b = rpc_start(sv[1], handler, NULL, NULL);
    quick_done = 0;
    struct slow_call s = {.c = a};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_slow, &s), 0);
    ds_err e;
    assert_int_equal(rpc_call(a, "quick", NULL, -1, NULL, &e), 0);
    pthread_join(t, NULL);
    assert_int_equal(s.rc, 0);
    assert_true(json_is_true(json_object_get(s.out, "saw_quick")));
    json_decref(s.out);
    rpc_free(a);
    rpc_free(b);
}

static void test_requests_past_the_handler_limit_are_refused_at_once(void **st) {
    (void)st;
    int sv[2];
    pair(sv);
    rpc *a = rpc_start(sv[0], handler, NULL, NULL), *b = rpc_start(sv[1], handler, NULL, NULL);
    rpc_set_max_handlers(b, 1);
    quick_done = slow_started = 0;
    struct slow_call s = {.c = a};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, call_slow, &s), 0); /* holds b's one handler */
    pthread_mutex_lock(&mu);
    while (!slow_started) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    ds_err e;
    int rc = rpc_call(a, "echo", NULL, -1, NULL, &e);
    assert_int_equal(rc, -(int)DS_E_LIMIT_EXCEEDED);
    assert_string_equal(e.message, "too many requests at once");
    pthread_mutex_lock(&mu); /* let "slow" finish */
    quick_done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    assert_int_equal(s.rc, 0);
    json_decref(s.out);
    /* Room again once "slow"'s thread has ended (it counts itself out after answering). */
    for (int i = 0; i < 400 && (rc = rpc_call(a, "echo", NULL, -1, NULL, &e)) != 0; i++) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rc, 0);
    rpc_free(a);
    rpc_free(b);
}

/* ---- records ---- */

static void test_table_record_round_trip_and_refusals(void **st) {
    (void)st;
    cat_table t = {.generation = 3, .rows = 10, .size_bytes = 262144, .created_at = 1, .updated_at = 2};
    strcpy(t.project_id, "p1");
    strcpy(t.bucket_id, "in.c-crm");
    strcpy(t.name, "orders");
    t.columns_json = strdup("[{\"name\":\"id\",\"type\":\"INTEGER\"}]");
    json_t *j = rec_table_json(&t);
    cat_table u;
    assert_int_equal(rec_table_from(j, &u), 0);
    assert_string_equal(u.bucket_id, "in.c-crm");
    assert_string_equal(u.columns_json, t.columns_json);
    assert_null(u.primary_key_json);
    assert_int_equal(u.generation, 3);
    cat_table_clear(&u);
    /* a name longer than its field, a mistyped field, a missing one: refused */
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    json_object_set_new(j, "name", json_string(big));
    assert_int_equal(rec_table_from(j, &u), -1);
    json_object_set_new(j, "name", json_integer(1));
    assert_int_equal(rec_table_from(j, &u), -1);
    json_object_del(j, "name");
    assert_int_equal(rec_table_from(j, &u), -1);
    json_object_set_new(j, "name", json_stringn("a\0b", 3)); /* an embedded NUL */
    assert_int_equal(rec_table_from(j, &u), -1);
    json_decref(j);
    cat_table_clear(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_round_trip_with_a_descriptor),
        cmocka_unit_test(test_malformed_frames_are_refused),
        cmocka_unit_test(test_calls_answers_and_errors_both_ways),
        cmocka_unit_test(test_a_slow_request_does_not_hold_up_a_quick_one),
        cmocka_unit_test(test_requests_past_the_handler_limit_are_refused_at_once),
        cmocka_unit_test(test_table_record_round_trip_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
