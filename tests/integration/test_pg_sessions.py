"""PostgreSQL wire protocol: sessions (pgwire.md "Protocol coverage", rest-api.md sessions).

CancelRequest, statement_timeout (SET and --statement-timeout), idle_session_timeout,
client disconnects mid-query, the REST sessions list, DELETE of a session, disconnect-all,
deleting a workspace with connected sessions, and 50 concurrent sessions on 5 workspaces
with the server's sessions and open files back to their baseline afterwards.

Run: /usr/bin/python3 tests/integration/test_pg_sessions.py [-v] [Class.test_name]"""

import random
import socket
import struct
import threading
import time

import psycopg
import psycopg2
import psycopg2.errors

import harness
from harness import uniq
from pghelpers import (PgTestCase, proc_fd_count, read_message, read_until_error_or_eof,
                       scram_login, simple_query, wait_until)
from wshelpers import is_int, parse_ts

LONG_QUERY = "SELECT sum(i) FROM range(100000000000) t(i)"  # minutes of work unless interrupted


def send_query(sock, sql):
    data = sql.encode() + b"\0"
    sock.sendall(b"Q" + struct.pack("!I", len(data) + 4) + data)


class PgSessionBase(PgTestCase):

    def setUp(self):
        super().setUp()
        self.sales_table()
        self.ws = self.make_ws()

    def raw_login(self, ws=None, srv=None, timeout=60.0):
        ws = ws or self.ws
        srv = srv or self.server
        c = ws["connection"]
        outcome, info, sock = scram_login(srv.pg_port, c["username"], c["database"], c["password"], timeout=timeout)
        self.assertEqual(outcome, "ok", info)
        self.addCleanup(sock.close)
        return sock

    def own_server(self, *args):
        srv = self.extra_server(extra_args=list(args))
        srv.start()
        self._mark_log(srv)
        pid = self.assertOk(srv.req("POST", "/projects", {"id": uniq("p"), "name": "x"}), 201)["id"]
        ws = self.make_ws(pid=pid, srv=srv)
        return srv, pid, ws

    def wait_running(self, ws=None):
        """Waits until a session of the workspace is listed as running a query."""
        ws = ws or self.ws
        ok = wait_until(lambda: any(s.get("state") == "active" for s in self.sessions(ws["id"])), 10)
        self.assertTrue(ok, "no active session: %r" % self.sessions(ws["id"]))
        time.sleep(0.3)

    def run_in_thread(self, fn):
        """Runs fn() in a thread; returns (thread, box) where box gets 'result' or 'error'."""
        box = {}

        def target():
            try:
                box["result"] = fn()
            except BaseException as e:  # noqa: B902
                box["error"] = e
        th = threading.Thread(target=target, daemon=True)
        th.start()
        return th, box


class PgCancelAndTimeouts(PgSessionBase):

    def test_cancel_request_interrupts_a_running_query(self):
        conn = self.pg2(self.ws)
        th, box = self.run_in_thread(lambda: self.q2(conn, LONG_QUERY))
        # wait until the server reports the query running, then cancel from this thread
        self.wait_running()
        conn.cancel()
        th.join(60)
        self.assertFalse(th.is_alive(), "query still running 60 s after the cancel")
        e = box.get("error")
        self.assertIsInstance(e, psycopg2.errors.QueryCanceled, box)
        self.assertEqual(e.pgcode, "57014")
        # the session is usable afterwards
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])

    def test_cancel_request_needs_the_right_secret(self):
        c = self.ws["connection"]
        outcome, info, sock = scram_login(self.server.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "ok", info)
        self.addCleanup(sock.close)
        pid, secret = info["key"]
        send_query(sock, LONG_QUERY)
        self.assertTrue(wait_until(lambda: any(s["state"] == "active" for s in self.sessions(self.ws["id"])), 10))

        def cancel(p, k):
            cs = socket.create_connection(("127.0.0.1", self.server.pg_port), timeout=10)
            try:
                cs.sendall(struct.pack("!IIII", 16, 80877102, p, k))
                try:
                    cs.recv(1)
                except OSError:
                    pass
            finally:
                cs.close()
        cancel(pid, (secret + 1) & 0xFFFFFFFF)
        cancel((pid + 1) & 0xFFFFFFFF, secret)
        time.sleep(1.0)
        self.assertEqual([s["state"] for s in self.sessions(self.ws["id"])], ["active"],
                         "a CancelRequest with a wrong key stopped the query")
        cancel(pid, secret)
        sock.settimeout(60)
        fields = read_until_error_or_eof(sock)
        self.assertIsNotNone(fields)
        self.assertEqual((fields.get("S"), fields.get("C")), ("ERROR", "57014"), fields)
        t, payload = read_message(sock)
        self.assertEqual((t, payload), (b"Z", b"I"))
        msgs = simple_query(sock, "SELECT 1")
        self.assertEqual(b"".join(t for t, _ in msgs), b"TDCZ")

    def test_cancel_with_psycopg3(self):
        conn = self.pg3(self.ws)
        th, box = self.run_in_thread(lambda: conn.execute(LONG_QUERY).fetchall())
        self.wait_running()
        conn.cancel()
        th.join(60)
        self.assertFalse(th.is_alive(), "query still running 60 s after the cancel")
        self.assertIsInstance(box.get("error"), psycopg.errors.QueryCanceled, box)
        self.assertEqual(conn.execute("SELECT 2").fetchone(), (2,))

    def test_cancel_inside_a_transaction_fails_the_transaction(self):
        conn = self.pg2(self.ws, autocommit=False)
        self.q2(conn, "SELECT 1")
        th, box = self.run_in_thread(lambda: self.q2(conn, LONG_QUERY))
        self.wait_running()
        conn.cancel()
        th.join(60)
        self.assertIsInstance(box.get("error"), psycopg2.errors.QueryCanceled, box)
        self.assertPgError("25P02", self.q2, conn, "SELECT 1")
        conn.rollback()
        self.assertEqual(self.q2(conn, "SELECT 3"), [(3,)])

    def test_statement_timeout_via_set(self):
        conn = self.pg2(self.ws)
        self.q2(conn, "SET statement_timeout = '1s'")
        th, box = self.run_in_thread(lambda: self.q2(conn, LONG_QUERY))
        th.join(60)
        self.assertFalse(th.is_alive(), "statement_timeout 1s did not stop the query within 60 s")
        e = box.get("error")
        self.assertIsInstance(e, psycopg2.errors.QueryCanceled, box)
        self.assertEqual(e.pgcode, "57014")
        self.q2(conn, "SET statement_timeout = 0")
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM range(1000)"), [(1000,)])
        # integer milliseconds
        self.q2(conn, "SET statement_timeout = 500")
        th, box = self.run_in_thread(lambda: self.q2(conn, LONG_QUERY))
        th.join(60)
        self.assertIsInstance(box.get("error"), psycopg2.errors.QueryCanceled, box)

    def test_statement_timeout_flag(self):
        srv, pid, ws = self.own_server("--statement-timeout", "1")
        conn = self.pg2(ws, srv=srv)
        self.assertIn(self.scalar(conn, "SHOW statement_timeout"), ("1s", "1000", "1000ms"))
        th, box = self.run_in_thread(lambda: self.q2(conn, LONG_QUERY))
        th.join(60)
        self.assertFalse(th.is_alive(), "--statement-timeout 1 did not stop the query within 60 s")
        e = box.get("error")
        self.assertIsInstance(e, psycopg2.errors.QueryCanceled, box)
        self.assertEqual(e.pgcode, "57014")
        # a session may lift it
        self.q2(conn, "SET statement_timeout = 0")
        self.assertEqual(self.q2(conn, "SELECT 1"), [(1,)])
        conn.close()

    def test_idle_session_timeout(self):
        srv, pid, ws = self.own_server("--idle-session-timeout", "2")
        sock = self.raw_login(ws, srv=srv)
        simple_query(sock, "SELECT 1")
        conn = self.pg2(ws, srv=srv)
        self.q2(conn, "SELECT 1")
        busy = self.pg2(ws, srv=srv)
        # a session that keeps working is not closed
        for _ in range(8):
            self.assertEqual(self.q2(busy, "SELECT 1"), [(1,)])
            time.sleep(0.5)
        # the idle raw session got 57P05 and was closed
        sock.settimeout(10)
        fields = read_until_error_or_eof(sock)
        self.assertIsNotNone(fields, "closed without an ErrorResponse")
        self.assertEqual((fields.get("S"), fields.get("C")), ("FATAL", "57P05"), fields)
        try:
            self.assertEqual(sock.recv(1), b"")
        except ConnectionError:
            pass
        # the idle psycopg2 session fails on its next query
        # (libpq 15 reports "server closed the connection unexpectedly" without the SQLSTATE,
        # as it does against PostgreSQL itself; the raw socket above checked the ErrorResponse)
        with self.assertRaises(psycopg2.OperationalError):
            self.q2(conn, "SELECT 1")
        # only the busy one is left
        self.assertEqual(self.wait_active_sessions(ws["id"], 1, pid=pid, srv=srv), 1)
        self.assertEqual(self.q2(busy, "SELECT 2"), [(2,)])
        busy.close()
        self.assertEqual(self.wait_active_sessions(ws["id"], 0, pid=pid, srv=srv), 0)

    def test_client_disconnect_mid_query_frees_the_session(self):
        sock = self.raw_login()
        send_query(sock, LONG_QUERY)
        self.assertTrue(wait_until(lambda: any(s.get("state") == "active" for s in self.sessions(self.ws["id"])), 10),
                        self.sessions(self.ws["id"]))
        sock.close()
        self.assertTrue(wait_until(lambda: self.sessions(self.ws["id"]) == [], 30),
                        "session still listed 30 s after the client left: %r" % self.sessions(self.ws["id"]))
        self.assertEqual(self.active_sessions(self.ws["id"]), 0)
        # the workspace still serves
        conn = self.pg2(self.ws)
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])

    def test_client_disconnect_idle_and_in_transaction(self):
        a = self.raw_login()
        simple_query(a, "SELECT 1")
        b = self.raw_login()
        simple_query(b, "BEGIN")
        simple_query(b, "CREATE TABLE half (a INTEGER)")
        self.assertEqual(self.wait_active_sessions(self.ws["id"], 2), 2)
        a.close()
        b.close()
        self.assertEqual(self.wait_active_sessions(self.ws["id"], 0), 0)
        conn = self.pg2(self.ws)
        self.assertSqlError(conn, "SELECT * FROM half", "42P01")  # rolled back


class PgRestSessions(PgSessionBase):

    def test_sessions_list_fields(self):
        self.assertEqual(self.sessions(self.ws["id"]), [])
        before = int(time.time()) - 2
        a = self.pg2(self.ws, application_name="a-app")
        for _ in range(3):
            self.q2(a, "SELECT count(*) FROM in_c_sales.orders")
        b = self.pg2(self.ws)
        lst = self.sessions(self.ws["id"])
        self.assertEqual(len(lst), 2, lst)
        ids = set()
        for s in lst:
            self.assertLessEqual({"id", "client_addr", "connected_at", "last_activity_at", "query_count", "state"},
                                 set(s.keys()), s)
            self.assertIsInstance(s["id"], str, s)
            self.assertTrue(s["id"], s)
            ids.add(s["id"])
            self.assertEqual(s["client_addr"], "127.0.0.1", s)
            self.assertTimestamp(s["connected_at"])
            self.assertTimestamp(s["last_activity_at"])
            self.assertGreaterEqual(parse_ts(s["connected_at"]), before, s)
            self.assertLessEqual(parse_ts(s["connected_at"]), int(time.time()) + 2, s)
            self.assertGreaterEqual(parse_ts(s["last_activity_at"]), parse_ts(s["connected_at"]), s)
            self.assertTrue(is_int(s["query_count"]) and s["query_count"] >= 0, s)
            self.assertEqual(s["state"], "idle", s)
        self.assertEqual(len(ids), 2)
        self.assertEqual(sorted(s["query_count"] for s in lst)[-1] >= 3, True, lst)
        self.assertEqual(self.active_sessions(self.ws["id"]), 2)
        # a running query is "active"
        th, box = self.run_in_thread(lambda: self.q2(b, LONG_QUERY))
        self.assertTrue(wait_until(lambda: any(s["state"] == "active" for s in self.sessions(self.ws["id"])), 10),
                        self.sessions(self.ws["id"]))
        b.cancel()
        th.join(60)
        self.assertIsInstance(box.get("error"), psycopg2.errors.QueryCanceled, box)
        a.close()
        b.close()
        self.assertTrue(wait_until(lambda: self.sessions(self.ws["id"]) == [], 15), self.sessions(self.ws["id"]))
        self.assertEqual(self.active_sessions(self.ws["id"]), 0)

    def test_sessions_of_another_workspace_are_not_listed(self):
        other = self.make_ws()
        self.pg2(other)
        self.assertEqual(self.sessions(self.ws["id"]), [])
        self.assertEqual(len(self.sessions(other["id"])), 1)

    def test_sessions_endpoints_404(self):
        self.assertError(self.req("GET", self.ws_url("ws_0123456789ab", "/sessions")), 404, "workspace_not_found")
        self.assertError(self.req("DELETE", self.ws_url(self.ws["id"], "/sessions/999999")), 404, "session_not_found")
        self.assertError(self.req("POST", self.ws_url("ws_0123456789ab", "/disconnect-all")), 404,
                         "workspace_not_found")
        # a session of another workspace is not found through this one
        other = self.make_ws()
        self.pg2(other)
        sid = self.sessions(other["id"])[0]["id"]
        self.assertError(self.req("DELETE", self.ws_url(self.ws["id"], "/sessions/%s" % sid)), 404,
                         "session_not_found")
        self.assertEqual(len(self.sessions(other["id"])), 1)

    def test_delete_session_gives_the_client_57P01(self):
        sock = self.raw_login()
        simple_query(sock, "SELECT 1")
        conn = self.pg2(self.ws)
        self.q2(conn, "SELECT 1")
        keep = self.pg2(self.ws)
        lst = self.sessions(self.ws["id"])
        self.assertEqual(len(lst), 3, lst)
        # the psycopg2 session is the one with the newest activity but one; delete both others than `keep`
        self.q2(keep, "SELECT 1")
        self.q2(keep, "SELECT 1")
        self.q2(keep, "SELECT 1")
        by_count = sorted(self.sessions(self.ws["id"]), key=lambda s: s["query_count"])
        keep_id = by_count[-1]["id"]
        for s in by_count[:-1]:
            st, body, _ = self.req("DELETE", self.ws_url(self.ws["id"], "/sessions/%s" % s["id"]))
            self.assertEqual(st, 204, body)
        sock.settimeout(10)
        fields = read_until_error_or_eof(sock)
        self.assertIsNotNone(fields, "connection closed without an ErrorResponse")
        self.assertEqual((fields.get("S"), fields.get("C")), ("FATAL", "57P01"), fields)
        with self.assertRaises(psycopg2.OperationalError):  # libpq drops the SQLSTATE (as with PostgreSQL)
            self.q2(conn, "SELECT 1")
        self.assertEqual(self.q2(keep, "SELECT 4"), [(4,)])
        self.assertEqual([s["id"] for s in self.sessions(self.ws["id"])], [keep_id])
        self.assertEqual(self.active_sessions(self.ws["id"]), 1)

    def test_delete_session_while_its_query_runs(self):
        conn = self.pg2(self.ws)
        th, box = self.run_in_thread(lambda: self.q2(conn, LONG_QUERY))
        self.assertTrue(wait_until(lambda: any(s["state"] == "active" for s in self.sessions(self.ws["id"])), 10))
        sid = self.sessions(self.ws["id"])[0]["id"]
        st, body, _ = self.req("DELETE", self.ws_url(self.ws["id"], "/sessions/%s" % sid))
        self.assertEqual(st, 204, body)
        th.join(60)
        self.assertFalse(th.is_alive(), "query still running 60 s after its session was deleted")
        e = box.get("error")
        self.assertIsInstance(e, psycopg2.OperationalError, box)
        self.assertTrue(wait_until(lambda: self.sessions(self.ws["id"]) == [], 15))
        # the same over a raw socket: the running query ends with FATAL 57P01
        sock = self.raw_login()
        send_query(sock, LONG_QUERY)
        self.assertTrue(wait_until(lambda: any(s["state"] == "active" for s in self.sessions(self.ws["id"])), 10))
        sid = self.sessions(self.ws["id"])[0]["id"]
        st, body, _ = self.req("DELETE", self.ws_url(self.ws["id"], "/sessions/%s" % sid))
        self.assertEqual(st, 204, body)
        sock.settimeout(60)
        fields = read_until_error_or_eof(sock)
        self.assertIsNotNone(fields, "connection closed without an ErrorResponse")
        self.assertEqual((fields.get("S"), fields.get("C")), ("FATAL", "57P01"), fields)

    def test_disconnect_all(self):
        socks = [self.raw_login() for _ in range(3)]
        for s in socks:
            simple_query(s, "SELECT 1")
        other = self.make_ws()
        other_conn = self.pg2(other)
        body = self.assertOk(self.req("POST", self.ws_url(self.ws["id"], "/disconnect-all")))
        self.assertEqual(body, {"disconnected": 3})
        for s in socks:
            s.settimeout(10)
            fields = read_until_error_or_eof(s)
            self.assertIsNotNone(fields, "connection closed without an ErrorResponse")
            self.assertEqual((fields.get("S"), fields.get("C")), ("FATAL", "57P01"), fields)
        self.assertEqual(self.wait_active_sessions(self.ws["id"], 0), 0)
        self.assertEqual(self.sessions(self.ws["id"]), [])
        # other workspaces keep their sessions; the workspace accepts new ones
        self.assertEqual(self.q2(other_conn, "SELECT 1"), [(1,)])
        conn = self.pg2(self.ws)
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])
        self.assertEqual(self.assertOk(self.req("POST", self.ws_url(self.ws["id"], "/disconnect-all"))),
                         {"disconnected": 1})
        self.assertOk(self.req("POST", self.ws_url(self.ws["id"], "/disconnect-all")))
        self.assertEqual(self.assertOk(self.req("POST", self.ws_url(self.ws["id"], "/disconnect-all"))),
                         {"disconnected": 0})

    def test_deleting_the_workspace_disconnects_its_sessions(self):
        sock = self.raw_login()
        simple_query(sock, "SELECT 1")
        conn = self.pg2(self.ws)
        self.q2(conn, "CREATE TABLE doomed AS SELECT 1 AS a")
        running = self.pg2(self.ws)
        th, box = self.run_in_thread(lambda: self.q2(running, LONG_QUERY))
        wait_until(lambda: any(s.get("state") == "active" for s in self.sessions(self.ws["id"])), 10)
        other = self.make_ws()
        other_conn = self.pg2(other)
        st, body, _ = self.req("DELETE", self.ws_url(self.ws["id"]))
        self.assertEqual(st, 204, body)
        sock.settimeout(10)
        fields = read_until_error_or_eof(sock)
        self.assertIsNotNone(fields, "connection closed without an ErrorResponse")
        self.assertEqual(fields.get("S"), "FATAL", fields)
        self.assertRegex(fields.get("C", ""), r"^57P0[1-4]$", fields)
        with self.assertRaises(psycopg2.OperationalError):
            self.q2(conn, "SELECT 1")
        th.join(60)
        self.assertFalse(th.is_alive(), "query still running 60 s after its workspace was deleted")
        self.assertIsInstance(box.get("error"), psycopg2.Error, box)
        self.assertError(self.req("GET", self.ws_url(self.ws["id"], "/sessions")), 404, "workspace_not_found")
        self.assertEqual(self.q2(other_conn, "SELECT 1"), [(1,)])
        self.assertHealthy()


class PgConcurrentSessions(PgSessionBase):
    """50 sessions on 5 workspaces running mixed queries, then back to the baseline."""

    # the 50 connect at once from one address: more logins in progress than its default share
    server_args = ["--sessions-per-workspace", "10", "--startup-connections-per-address", "64"]
    DURATION = 25.0

    def worker(self, ws, n, deadline, errors, counts):
        try:
            conn = psycopg2.connect(**self.dsn(ws))
            conn.autocommit = True
        except Exception as e:
            errors.append(("connect", ws["id"], n, repr(e)))
            return
        rnd = random.Random(n)
        table = "w%d" % n
        done = 0
        try:
            cur = conn.cursor()
            cur.execute("CREATE TABLE %s (i INTEGER, v VARCHAR)" % table)
            while time.monotonic() < deadline and done < 5000:
                k = rnd.randrange(7)
                if k == 0:
                    cur.execute("SELECT count(*), sum(amount) FROM in_c_sales.orders")
                    if cur.fetchall() != [(10, 550)]:
                        raise AssertionError("project table read")
                elif k == 1:
                    cur.execute("INSERT INTO %s SELECT range, 'v' || range FROM range(%d)" % (table, rnd.randrange(1, 50)))
                elif k == 2:
                    cur.execute("SELECT o.id, count(w.i) FROM in_c_sales.orders o LEFT JOIN %s w ON w.i = o.id "
                                "GROUP BY o.id ORDER BY o.id" % table)
                    if len(cur.fetchall()) != 10:
                        raise AssertionError("join")
                elif k == 3:
                    cur.execute("BEGIN")
                    cur.execute("DELETE FROM %s WHERE i %% 3 = 0" % table)
                    cur.execute("ROLLBACK" if rnd.random() < 0.5 else "COMMIT")
                elif k == 4:
                    cur.execute("SELECT sum(i) FROM range(200000) t(i)")
                    if cur.fetchone()[0] != sum(range(200000)):
                        raise AssertionError("range sum")
                elif k == 5:
                    try:
                        cur.execute("SELECT * FROM nope_%d" % n)
                        raise AssertionError("no error for a missing table")
                    except psycopg2.errors.UndefinedTable:
                        pass
                else:
                    cur.execute("SELECT i, v FROM %s ORDER BY i LIMIT 100" % table)
                    cur.fetchall()
                done += 1
            cur.execute("DROP TABLE %s" % table)
        except Exception as e:
            errors.append(("query", ws["id"], n, done, repr(e)))
        finally:
            counts.append(done)
            try:
                conn.close()
            except Exception:
                pass

    def test_50_sessions_on_5_workspaces(self):
        srv_pid = self.server.proc.pid
        workspaces = [self.ws] + [self.make_ws() for _ in range(4)]
        # open each workspace's instance once, then take the baseline
        for ws in workspaces:
            c = self.pg2(ws)
            self.q2(c, "SELECT count(*) FROM in_c_sales.orders")
            c.close()
        for ws in workspaces:
            self.assertEqual(self.wait_active_sessions(ws["id"], 0), 0)
        base_fds = proc_fd_count(srv_pid)
        errors, counts = [], []
        deadline = time.monotonic() + self.DURATION
        threads = []
        for i in range(50):
            ws = workspaces[i % 5]
            th = threading.Thread(target=self.worker, args=(ws, i, deadline, errors, counts), daemon=True)
            th.start()
            threads.append(th)
        # all 50 connected at some point: the limit of 10 per workspace is not exceeded
        peak = 0
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 60:
            try:
                peak = max(peak, sum(self.active_sessions(ws["id"]) for ws in workspaces))
            except Exception:
                pass
            time.sleep(1.0)
        for th in threads:
            th.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "workers still running")
        self.assertEqual(errors, [])
        self.assertEqual(len(counts), 50)
        self.assertGreater(min(counts), 0, counts)
        self.assertLessEqual(peak, 50)
        for ws in workspaces:
            with self.subTest(ws=ws["id"]):
                self.assertEqual(self.wait_active_sessions(ws["id"], 0), 0)
                self.assertEqual(self.sessions(ws["id"]), [])
        # sessions close their sockets and instances idle out asynchronously: wait, then check
        wait_until(lambda: proc_fd_count(srv_pid) <= base_fds + 8, 15)
        now = proc_fd_count(srv_pid)
        self.assertLessEqual(now, base_fds + 8, "open files: %d before, %d after" % (base_fds, now))
        self.assertHealthy()
        for ws in workspaces:
            self.assertEqual(self.objects(ws["id"]), {})


if __name__ == "__main__":
    harness.main()
