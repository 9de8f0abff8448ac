"""The metadata catalog on PostgreSQL: real servers on a throwaway PostgreSQL 15 cluster
(pgref.PgReference), whatever DUCKSPACE_TEST_CATALOG says.

  CatalogFeed          changes made by any writer (here: SQL in psql's place) reach the
                       server: logins refused within 100 ms of a DELETE / verifier UPDATE,
                       a table deleted from duckspace.tables gone at an open session's
                       next statement
  ListenerKilled       the change-feed connection terminated: old password refused
                       within 2 s of a change made meanwhile (and never after), a new
                       listener subscribes; a listener that cannot come back bounds
                       cached logins to 5 s; a resubscription during a transaction does
                       not split it (nor break the workspace limit)
  CatalogOutage        PostgreSQL stopped for 10 s: cold logins FATAL 57P03, REST 503
                       catalog_unavailable, open sessions keep working, the process
                       lives; after the restart everything works again, no server restart;
                       an import whose publish meets the outage (503, nothing changed) or
                       whose publish committed unacknowledged (the table stays readable)
  TwoServers           two processes on one catalog: the workspace limit holds across
                       them, generated project ids stay distinct, a delete on one is seen
                       by the other
  CatalogStartUp       an unreachable or refusing catalog at start-up: exit 2, no password
                       in any message; a data directory bound to its catalog; one server
                       per data directory
  CatalogCopy          `duckspace catalog copy` DuckDB -> PostgreSQL -> DuckDB: the REST
                       answers byte for byte, passwords and keys keep working; a non-empty
                       destination is refused (exit 1, nothing changed); bad usage exit 2

Timings printed (stderr) are for the report; the only timing assertions are the
deadlines the catalog issue states (100 ms for the feed, 2 s after a lost listener,
5 s for a cached login while the catalog is down).

Run: /usr/bin/python3 tests/integration/test_catalog_pg.py [-v] [Class.test_name]"""

import atexit
import base64
import concurrent.futures
import hashlib
import hmac
import os
import secrets
import socket
import sys
import threading
import time

import psycopg2

import harness
from harness import PgCatalog, Server, ServerTestCase, new_pg_catalog, run_cli, uniq
from pghelpers import parse_error_fields, read_message, scram_login, startup_packet
from pgref import PgReference

UNAVAILABLE_MSG = "the metadata catalog is unavailable; try again later"
FEED_DEADLINE = 0.100      # a change through SQL: new logins see it within this
LISTENER_DEADLINE = 2.0    # after the listener's connection is lost
CACHED_LOGIN_TTL = 5.0     # a cached login while the catalog is unreachable
POLL = 0.010

# No throttling of failed logins (every attempt also comes from its own address) and
# room for the short sessions the polls open.
BASE_ARGS = ["--auth-failure-delay", "0", "--sessions-per-workspace", "1000"]


def note(fmt, *args):
    sys.stderr.write("    [timing] " + (fmt % args) + "\n")
    sys.stderr.flush()


# ---- logins from many client addresses ------------------------------------------------------

_src_lock = threading.Lock()
_src_n = [0]


def next_src():
    """A fresh 127/8 source address for each login attempt: a refused attempt never slows
    down the next one, whatever the server's per-address throttle does."""
    with _src_lock:
        _src_n[0] += 1
        n = _src_n[0]
    return "127.%d.%d.%d" % (60 + n // 62500 % 100, n // 250 % 250, n % 250 + 1)


def connect_from(port, timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((next_src(), 0))
    s.connect(("127.0.0.1", port))
    return s


def login(srv, conn, password, timeout=10.0):
    """One SCRAM login: ("ok", info) or (SQLSTATE, ErrorResponse fields) or ("closed", info)."""
    sock = connect_from(srv.pg_port, timeout)
    outcome, info, s = scram_login(srv.pg_port, conn["username"], conn["database"], password, sock=sock,
                                   timeout=timeout)
    if s is not None:
        s.close()
    if outcome == "ok":
        return "ok", info
    if outcome == "error":
        return info.get("C"), info
    return "closed", info


def first_message(srv, conn, timeout=10.0):
    """Sends only the startup packet: (type, fields or payload) of the server's first reply."""
    sock = connect_from(srv.pg_port, timeout)
    try:
        sock.sendall(startup_packet({"user": conn["username"], "database": conn["database"]}))
        t, payload = read_message(sock)
        return t, parse_error_fields(payload) if t == b"E" else payload
    finally:
        sock.close()


def scram_verifier(password, iterations=4096):
    """A SCRAM-SHA-256 verifier in PostgreSQL's format, as the server stores them."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key))


def poll(fn, done, deadline, interval=POLL):
    """Calls fn() every `interval` s until done(result). Returns (result, start of the call
    that gave it, in s after now, [(start, result), ...]) or (None, None, attempts) when no
    call that started within `deadline` s gave it."""
    t0 = time.monotonic()
    attempts = []
    while True:
        start = time.monotonic() - t0
        if start > deadline:
            return None, None, attempts
        r = fn()
        attempts.append((round(start, 3), r))
        if done(r):
            return r, start, attempts
        time.sleep(interval)


class PgCatalogCase(ServerTestCase):
    """A ServerTestCase whose server keeps its catalog in a fresh database of the shared
    PostgreSQL cluster (self.cat, a harness.PgCatalog)."""

    server_args = BASE_ARGS

    @classmethod
    def setUpClass(cls):
        cls.cat = cls.make_catalog()
        cls.server_catalog = cls.cat
        super().setUpClass()

    @classmethod
    def make_catalog(cls):
        return new_pg_catalog()

    def sql(self, query, args=None, cat=None):
        """Runs SQL on the catalog database in its own transaction; rows or None."""
        conn = (cat or self.cat).connect(autocommit=False)
        try:
            with conn.cursor() as cur:
                cur.execute(query, args)
                rows = cur.fetchall() if cur.description is not None else None
            conn.commit()
            return rows
        finally:
            conn.close()

    def new_ws(self, pid, srv=None, **fields):
        body = {"name": uniq("ws")}
        body.update(fields)
        srv = srv or self.server
        return self.assertOk(srv.req("POST", "/projects/%s/workspaces" % pid, body), 201)

    def assertLogin(self, srv, conn, password, want="ok"):
        got, info = login(srv, conn, password)
        self.assertEqual(got, want, info)
        return info

    def listener_pids(self, cat=None):
        cat = cat or self.cat
        return [r[0] for r in self.sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'duckspace-listener'"
            " AND datname = current_database() AND query = 'LISTEN ds_catalog'", cat=cat)]


class CatalogFeed(PgCatalogCase):
    """Changes made through SQL by another writer reach the server at once."""

    def setUp(self):
        super().setUp()
        self.pid, _ = self.create_project(uniq("p"))

    def wait_refused(self, conn, password, want_code="28P01"):
        """Polls logins until refused; the first call started after FEED_DEADLINE must be
        refused. Returns the seconds until the first refusal."""
        got, at, attempts = poll(lambda: login(self.server, conn, password)[0], lambda r: r != "ok",
                                 FEED_DEADLINE)
        self.assertIsNotNone(got, "a login that started %.0f ms after the change still succeeded: %r"
                             % (FEED_DEADLINE * 1000, attempts))
        self.assertEqual(got, want_code, attempts)
        return at

    def test_workspace_deleted_through_sql_refuses_new_logins_within_100_ms(self):
        ws = self.new_ws(self.pid)
        c = ws["connection"]
        self.assertLogin(self.server, c, c["password"])
        self.assertLogin(self.server, c, c["password"])  # now in the login cache
        self.sql("DELETE FROM duckspace.workspace_credentials WHERE workspace_id = %s;"
                 " DELETE FROM duckspace.workspaces WHERE id = %s", (ws["id"], ws["id"]))
        at = self.wait_refused(c, c["password"])
        note("login refused %.1f ms after the DELETE committed", at * 1000)
        for _ in range(3):
            self.assertLogin(self.server, c, c["password"], "28P01")
        self.assertError(self.req("GET", "/projects/%s/workspaces/%s" % (self.pid, ws["id"])), 404,
                         "workspace_not_found")

    def test_verifier_replaced_through_sql_switches_passwords_within_100_ms(self):
        ws = self.new_ws(self.pid)
        c = ws["connection"]
        self.assertLogin(self.server, c, c["password"])
        self.assertLogin(self.server, c, c["password"])
        new_pw = secrets.token_urlsafe(32)
        self.sql("UPDATE duckspace.workspace_credentials SET scram_verifier = %s WHERE workspace_id = %s",
                 (scram_verifier(new_pw), ws["id"]))
        at = self.wait_refused(c, c["password"])
        note("old password refused %.1f ms after the UPDATE committed", at * 1000)
        got, at, attempts = poll(lambda: login(self.server, c, new_pw)[0], lambda r: r == "ok", FEED_DEADLINE)
        self.assertEqual(got, "ok", attempts)
        self.assertLogin(self.server, c, c["password"], "28P01")
        self.assertLogin(self.server, c, new_pw)

    def test_verifier_copied_from_another_workspace(self):
        a, b = self.new_ws(self.pid), self.new_ws(self.pid)
        ca, cb = a["connection"], b["connection"]
        self.assertLogin(self.server, ca, ca["password"])
        self.sql("UPDATE duckspace.workspace_credentials SET scram_verifier ="
                 " (SELECT scram_verifier FROM duckspace.workspace_credentials WHERE workspace_id = %s)"
                 " WHERE workspace_id = %s", (b["id"], a["id"]))
        self.wait_refused(ca, ca["password"])
        self.assertLogin(self.server, ca, cb["password"])  # a's user, b's password
        self.assertLogin(self.server, cb, cb["password"])

    def test_table_deleted_through_sql_is_gone_at_the_next_statement(self):
        self.create_bucket(self.pid, "sales")
        self.create_table_csv(self.pid, "in.c-sales", "orders", "id,amount\n1,10\n2,20\n3,30\n")
        self.create_table_csv(self.pid, "in.c-sales", "keep", "id\n7\n")
        ws = self.new_ws(self.pid)
        c = ws["connection"]
        conn = psycopg2.connect(host="127.0.0.1", port=self.server.pg_port, dbname=c["database"], user=c["username"],
                                password=c["password"], sslmode="disable", connect_timeout=10)
        conn.autocommit = True
        self.addCleanup(conn.close)

        def count(table):
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM in_c_sales.%s" % table)
                return cur.fetchone()[0]

        self.assertEqual(count("orders"), 3)
        self.sql("DELETE FROM duckspace.tables WHERE project_id = %s AND branch_id = '' AND bucket_id = 'in.c-sales'"
                 " AND name = 'orders'", (self.pid,))

        def attempt():
            try:
                return count("orders")
            except psycopg2.Error as e:
                return e.pgcode or "error"

        got, at, attempts = poll(attempt, lambda r: not isinstance(r, int), LISTENER_DEADLINE)
        self.assertIsNotNone(got, "the deleted table still answers in the open session: %r" % attempts[-5:])
        self.assertEqual(got, "42P01", attempts[-5:])
        note("deleted table gone for the open session after %.1f ms (%d statements)", at * 1000, len(attempts))
        self.assertEqual(count("keep"), 1)  # the session itself is fine
        self.assertError(self.req("GET", "/projects/%s/tables/in.c-sales.orders" % self.pid), 404, "table_not_found")
        names = [t["table"] for t in self.assertOk(self.req("GET", "/projects/%s/workspaces/%s" % (self.pid, ws["id"])))
                 ["attached_tables"]]
        self.assertEqual(names, ["keep"])


class ListenerKilled(PgCatalogCase):
    """The change feed's connection is terminated; a change made meanwhile is not lost."""

    def test_listener_terminated_then_verifier_changed(self):
        pid, _ = self.create_project(uniq("p"))
        ws = self.new_ws(pid)
        c = ws["connection"]
        self.assertLogin(self.server, c, c["password"])
        self.assertLogin(self.server, c, c["password"])
        old = self.listener_pids()
        self.assertEqual(len(old), 1, "expected one listener subscribed to ds_catalog: %r" % old)
        killed = self.sql("SELECT pg_terminate_backend(%s)", (old[0],))
        self.assertEqual(killed, [(True,)])
        new_pw = secrets.token_urlsafe(32)
        self.sql("UPDATE duckspace.workspace_credentials SET scram_verifier = %s WHERE workspace_id = %s",
                 (scram_verifier(new_pw), ws["id"]))
        t0 = time.monotonic()
        got, at, attempts = poll(lambda: login(self.server, c, c["password"])[0], lambda r: r != "ok",
                                 LISTENER_DEADLINE)
        self.assertIsNotNone(got, "the old password still works %.1f s after the change (listener killed): %r"
                             % (LISTENER_DEADLINE, attempts))
        self.assertEqual(got, "28P01", attempts)
        note("old password refused %.1f ms after the change (listener killed just before)", at * 1000)
        # never accepted again, also after the deadline
        while time.monotonic() - t0 < LISTENER_DEADLINE + 2.0:
            self.assertLogin(self.server, c, c["password"], "28P01")
            time.sleep(0.1)
        self.assertLogin(self.server, c, new_pw)
        # a new listener has subscribed
        got, at, attempts = poll(lambda: [p for p in self.listener_pids() if p not in old], bool, 10.0, 0.05)
        self.assertIsNotNone(got, "no new duckspace-listener subscribed within 10 s")
        self.assertEqual(len(got), 1, got)
        note("a new listener subscribed %.0f ms after the check started", at * 1000)
        # and the feed works again: the 100 ms bound holds
        self.sql("DELETE FROM duckspace.workspaces WHERE id = %s", (ws["id"],))
        got, at, attempts = poll(lambda: login(self.server, c, new_pw)[0], lambda r: r != "ok", FEED_DEADLINE)
        self.assertEqual(got, "28P01", attempts)
        self.assertIsNone(self.server.proc.poll())


    def test_listener_that_cannot_resubscribe_bounds_cached_logins_to_5_s(self):
        """The listener is terminated and cannot come back (the database refuses new
        connections; the server's statement connection stays): a password changed meanwhile
        keeps working from the login cache for at most 5 s after it was read, then the
        new one works; the feed comes back when connections are allowed again."""
        pid, _ = self.create_project(uniq("p"))
        ws = self.new_ws(pid)
        c = ws["connection"]
        writer = self.cat.connect()  # opened before the database is closed to new connections
        self.addCleanup(writer.close)
        admin = self.cat.ref.connect()  # the cluster's postgres database
        self.addCleanup(admin.close)

        def allow(on):
            with admin.cursor() as cur:
                cur.execute('ALTER DATABASE "%s" ALLOW_CONNECTIONS %s' % (self.cat.dbname, "true" if on else "false"))

        self.assertLogin(self.server, c, c["password"])  # read now: cached from here
        t_fetch = time.monotonic()
        allow(False)
        self.addCleanup(allow, True)
        with writer.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'duckspace-listener'"
                        " AND datname = current_database()")
            old = [r[0] for r in cur.fetchall()]
            self.assertEqual(len(old), 1, old)
            cur.execute("SELECT pg_terminate_backend(%s)", (old[0],))
            new_pw = secrets.token_urlsafe(32)
            cur.execute("UPDATE duckspace.workspace_credentials SET scram_verifier = %s WHERE workspace_id = %s",
                        (scram_verifier(new_pw), ws["id"]))
        deadline = CACHED_LOGIN_TTL + 0.3 - (time.monotonic() - t_fetch)
        got, at, attempts = poll(lambda: login(self.server, c, c["password"])[0], lambda r: r != "ok", deadline, 0.1)
        self.assertIsNotNone(got, "the old password still works %.1f s after it was read, with the feed down: %r"
                             % (CACHED_LOGIN_TTL, attempts[-3:]))
        self.assertEqual(got, "28P01", attempts[-3:])
        note("feed down: old password refused %.2f s after it was read", time.monotonic() - t_fetch)
        self.assertLogin(self.server, c, new_pw)
        allow(True)
        got, _, _ = poll(self.listener_pids, bool, 10.0, 0.05)
        self.assertTrue(got, "no listener subscribed again once connections were allowed")

    def test_listener_resubscribing_during_a_transaction_does_not_split_it(self):
        """The listener's resubscription makes the server replace its statement connection;
        a transaction in flight on it (here: a workspace create waiting for the project's
        row lock) must not go on, half of it, on the new connection (its row lock lost,
        its later statements committed one by one, COMMIT outside any transaction)."""
        pid, _ = self.create_project(uniq("p"))
        pglog = self.cat.ref.log
        holder = self.cat.connect(autocommit=False)
        self.addCleanup(holder.close)
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM duckspace.projects WHERE id = %s FOR UPDATE", (pid,))
        result = {}
        th = threading.Thread(target=lambda: result.setdefault(
            "resp", self.server.req("POST", "/projects/%s/workspaces" % pid, {"name": "blocked"}, timeout=60)))
        th.start()
        self.addCleanup(th.join, 60)
        waiting = lambda: self.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'duckspace'"
            " AND datname = current_database() AND wait_event_type = 'Lock'")[0][0]
        got, _, _ = poll(waiting, bool, 10.0, 0.02)
        self.assertTrue(got, "the workspace create never waited for the project's row lock")
        old = self.listener_pids()
        self.assertEqual(self.sql("SELECT pg_terminate_backend(%s)", (old[0],)), [(True,)])
        got, _, _ = poll(lambda: [p for p in self.listener_pids() if p not in old], bool, 10.0, 0.02)
        self.assertTrue(got, "no new listener")
        with open(pglog, "rb") as f:
            f.seek(0, 2)
            offset = f.tell()
        holder.rollback()  # the create goes on
        th.join(60)
        st, body, _ = result["resp"]
        rows = self.sql("SELECT count(*) FROM duckspace.workspaces w JOIN duckspace.workspace_credentials c"
                        " ON c.workspace_id = w.id WHERE w.project_id = %s", (pid,))[0][0]
        with open(pglog, "rb") as f:
            f.seek(offset)
            log = f.read().decode("utf-8", "replace")
        note("create after the resubscription: %s; workspaces with credentials: %d", st, rows)
        self.assertNotIn("there is no transaction in progress", log,
                         "the server's transaction went on on a new connection (PostgreSQL log):\n" + log)
        self.assertIn(st, (201, 503), body)
        self.assertEqual(rows, 1 if st == 201 else 0)


    def test_workspace_limit_holds_when_the_listener_resubscribes_mid_create(self):
        """The same split, seen as a broken rule: the create's count and insert run without
        the project's row lock, so a second writer that follows the protocol (lock the
        project's row, count, insert) gets in between and the limit (10) is exceeded.
        A writer blocked by the lock (as it must be) gives up after lock_timeout."""
        pid, _ = self.create_project(uniq("p"))
        now = int(time.time())
        for i in range(9):  # nine workspaces already (rows only; the limit counts rows)
            wid = "ws_%012x" % secrets.randbits(48)
            self.sql("INSERT INTO duckspace.workspaces (id, project_id, branch_id, name, created_at, expires_at,"
                     " size_limit_bytes, status) VALUES (%s, %s, '', 'pre', %s, %s, 1073741824, 'active');"
                     " INSERT INTO duckspace.workspace_credentials (workspace_id, username, scram_verifier, created_at)"
                     " VALUES (%s, %s, %s, %s)",
                     (wid, pid, now, now + 3600, wid, wid + "_0000000%d" % i, scram_verifier("x"), now))
        holder = self.cat.connect(autocommit=False)
        self.addCleanup(holder.close)
        with holder.cursor() as cur:
            cur.execute("SELECT id FROM duckspace.projects WHERE id = %s FOR UPDATE", (pid,))
        other = self.cat.connect(autocommit=False)  # the second writer
        self.addCleanup(other.close)
        with other.cursor() as cur:
            cur.execute("SET lock_timeout = '500ms'")
            cur.execute("LOCK TABLE duckspace.workspaces IN SHARE MODE")  # holds the server's INSERT back
        result = {}
        th = threading.Thread(target=lambda: result.setdefault(
            "resp", self.server.req("POST", "/projects/%s/workspaces" % pid, {"name": "tenth"}, timeout=60)))
        th.start()
        self.addCleanup(th.join, 60)

        def server_waits(query_prefix):
            return self.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'duckspace'"
                            " AND datname = current_database() AND wait_event_type = 'Lock'"
                            " AND query LIKE %s", (query_prefix + "%",))[0][0]

        got, _, _ = poll(lambda: server_waits("SELECT id FROM projects"), bool, 10.0, 0.02)
        self.assertTrue(got, "the workspace create never waited for the project's row lock")
        old = self.listener_pids()
        self.assertEqual(self.sql("SELECT pg_terminate_backend(%s)", (old[0],)), [(True,)])
        got, _, _ = poll(lambda: [p for p in self.listener_pids() if p not in old], bool, 10.0, 0.02)
        self.assertTrue(got, "no new listener")
        holder.rollback()  # the server's create has the project's row now ...
        got, _, _ = poll(lambda: server_waits("INSERT INTO workspaces"), bool, 10.0, 0.02)
        self.assertTrue(got, "the server's insert did not wait for the SHARE lock")
        # ... so the second writer must not get it before the server's COMMIT
        try:
            with other.cursor() as cur:
                cur.execute("SELECT id FROM duckspace.projects WHERE id = %s FOR UPDATE", (pid,))
                cur.execute("SELECT count(*) FROM duckspace.workspaces WHERE project_id = %s", (pid,))
                n = cur.fetchone()[0]
                if n < 10:
                    wid = "ws_%012x" % secrets.randbits(48)
                    cur.execute("INSERT INTO duckspace.workspaces (id, project_id, branch_id, name, created_at,"
                                " expires_at, size_limit_bytes, status) VALUES (%s, %s, '', 'other', %s, %s,"
                                " 1073741824, 'active')", (wid, pid, now, now + 3600))
            other.commit()
            second = "got the row lock while the server's create held it: counted %d, inserted" % n
        except psycopg2.Error as e:
            other.rollback()
            second = "blocked (%s)" % (e.pgcode,)
        th.join(60)
        st, body, _ = result["resp"]
        total = self.sql("SELECT count(*) FROM duckspace.workspaces WHERE project_id = %s", (pid,))[0][0]
        note("second writer: %s; server create: %s; workspaces: %d (limit 10)", second, st, total)
        self.assertLessEqual(total, 10, "workspace limit exceeded: %d workspaces (second writer %s; server %s %r)"
                             % (total, second, st, body))


class CatalogLockedByOperator(PgCatalogCase):
    """An operator's transaction holds a lock on a catalog table (psql, a migration, a
    backup tool): the server's catalog calls wait a bounded time, then answer 503, and work
    again once it is released; logins from the cache go on meanwhile."""

    def test_lock_held_past_lock_timeout_is_503_then_recovers(self):
        pid, _ = self.create_project(uniq("p"))
        ws = self.new_ws(pid)
        c = ws["connection"]
        self.assertLogin(self.server, c, c["password"])  # now in the login cache
        holder = self.cat.connect(autocommit=False)
        try:
            with holder.cursor() as cur:
                cur.execute("LOCK TABLE duckspace.projects IN ACCESS EXCLUSIVE MODE")
            t0 = time.monotonic()
            st, body, _ = self.server.req("GET", "/projects", timeout=60)
            waited = time.monotonic() - t0
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"], "catalog_unavailable", body)
            self.assertLess(waited, 20.0, "the call waited %.1f s for the lock" % waited)
            self.assertLogin(self.server, c, c["password"])  # the cache does not wait
        finally:
            holder.rollback()
            holder.close()
        self.assertOk(self.server.req("GET", "/projects/%s" % pid), 200)


class CatalogOutage(PgCatalogCase):
    """PostgreSQL stopped for 10 s and started again on the same port (its own cluster)."""

    OUTAGE = 10.0
    RECOVERY_DEADLINE = 15.0

    @classmethod
    def make_catalog(cls):
        # prepared transactions: a lock that outlives every session (see the import test)
        cls.ref = PgReference(extra_opts="-c max_prepared_transactions=4")
        atexit.register(cls.ref.stop)  # also when setUpClass fails after this (stop twice is fine)
        cls.ref.start()
        return PgCatalog(cls.ref, cls.ref.create_database())

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.ref.stop()

    def wait_recovered(self):
        """PostgreSQL running and the server's REST answering 200 again."""
        if not self.ref.running:
            self.ref.resume()
        got, _, attempts = poll(lambda: self.server.req("GET", "/projects", timeout=30)[0], lambda r: r == 200,
                                self.RECOVERY_DEADLINE, 0.1)
        self.assertEqual(got, 200, "REST not back %.0f s after PostgreSQL restarted: %r"
                         % (self.RECOVERY_DEADLINE, attempts[-3:]))

    def server_waits_for_lock(self, query_prefix):
        return self.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'duckspace'"
                        " AND datname = current_database() AND wait_event_type = 'Lock' AND query LIKE %s",
                        (query_prefix + "%",))[0][0]

    def test_import_whose_publish_meets_the_outage_is_503_and_changes_nothing(self):
        """PostgreSQL goes away while an import publishes its new generation (the publish
        is held back by a lock until then): the import answers 503 catalog_unavailable,
        not a 404 about a deleted project; after the outage the table is as it was, its
        directory has no leftover, and a new import works."""
        srv = self.server
        pid, _ = self.create_project(uniq("p"))
        self.create_bucket(pid, "s")
        self.create_table_csv(pid, "in.c-s", "t", "id,v\n1,a\n2,b\n")
        files_before = harness.table_files(srv.data_dir, pid, "in_c_s", "t")
        # Reads go on, the publish waits. A prepared transaction holds the lock: the fast
        # shutdown ends every session at once, and a session's lock could be released
        # before the server's backend is ended, letting the publish commit after all.
        holder = self.cat.connect(autocommit=False)
        gid = "hold_" + secrets.token_hex(4)
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE duckspace.tables IN SHARE MODE")
            cur.execute("PREPARE TRANSACTION %s", (gid,))
        holder.close()

        def release():
            conn = self.cat.connect()
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT count(*) FROM pg_prepared_xacts WHERE gid = %s", (gid,))
                    if cur.fetchone()[0]:
                        cur.execute("ROLLBACK PREPARED %s", (gid,))
            finally:
                conn.close()

        self.addCleanup(release)
        result = {}
        th = threading.Thread(target=lambda: result.setdefault("resp", srv.req(
            "POST", "/projects/%s/tables/in.c-s.t/import" % pid, raw=b"id,v\n3,c\n", content_type="text/csv",
            timeout=60)))
        th.start()
        self.addCleanup(th.join, 60)
        got, _, _ = poll(lambda: self.server_waits_for_lock("UPDATE tables"), bool, 20.0, 0.02)
        self.assertTrue(got, "the import's publish never waited for the lock")
        self.ref.pause("fast")
        self.addCleanup(self.wait_recovered)  # also when an assertion below fails
        try:
            th.join(60)
            self.assertFalse(th.is_alive())
            resp = result["resp"]
        finally:
            self.ref.resume()
        release()
        self.wait_recovered()
        self.assertError(resp, 503, "catalog_unavailable")
        self.assertEqual(self.table(pid, "in.c-s.t")["rows"], 2)
        # While the outcome of a publish is unknown its file is kept (a catalog that did
        # commit must find it): at most that one extra file, which the next import of
        # the table replaces.
        left = harness.table_files(srv.data_dir, pid, "in_c_s", "t")
        self.assertIn(left, (files_before, sorted(files_before + ["t.g2.duckdb"])))
        self.import_csv(pid, "in.c-s.t", "id,v\n3,c\n")
        self.assertEqual(self.rows(pid, "in.c-s.t"), [[3, "c"]])
        self.assertEqual(harness.table_files(srv.data_dir, pid, "in_c_s", "t"), ["t.g2.duckdb"])

    def test_publish_committed_but_not_acknowledged_leaves_a_readable_table(self):
        """The connection ends after PostgreSQL committed the publish but before the server
        read the answer (made certain here: the commit waits for a synchronous standby that
        does not exist, and the server's backend is terminated in that wait; PostgreSQL
        keeps such a commit). The server cannot know which generation won: whatever it
        answers, the catalog's generation must still have its file, so the table reads."""
        cat = PgCatalog(self.ref, self.ref.create_database())
        srv = self.extra_server(catalog=cat, extra_args=self.server_args)  # on failure its table stays broken
        srv.start()
        self._mark_log(srv)
        pid = self.assertOk(srv.req("POST", "/projects", {"name": "x"}), 201)["id"]
        self.assertOk(srv.req("POST", "/projects/%s/buckets" % pid, {"stage": "in", "name": "s"}), 201)
        self.assertOk(srv.req("POST", "/projects/%s/buckets/in.c-s/tables?name=t" % pid, raw=b"id,v\n1,a\n2,b\n",
                              content_type="text/csv"), 201)
        admin = self.cat.ref.connect()
        self.addCleanup(admin.close)

        def sync_standby(name):
            with admin.cursor() as cur:
                if name:
                    cur.execute("ALTER SYSTEM SET synchronous_standby_names = %s", (name,))
                else:
                    cur.execute("ALTER SYSTEM RESET synchronous_standby_names")
                cur.execute("SELECT pg_reload_conf()")

        sync_standby("nobody")
        self.addCleanup(sync_standby, None)
        result = {}
        th = threading.Thread(target=lambda: result.setdefault("resp", srv.req(
            "POST", "/projects/%s/tables/in.c-s.t/import" % pid, raw=b"id,v\n3,c\n", content_type="text/csv",
            timeout=60)))
        th.start()
        self.addCleanup(th.join, 60)
        waiting = lambda: self.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'duckspace'"
                                   " AND datname = current_database() AND wait_event = 'SyncRep'", cat=cat)
        got, _, _ = poll(waiting, bool, 20.0, 0.02)
        self.assertTrue(got, "the publish never waited for the synchronous standby")
        self.assertEqual(self.sql("SELECT pg_terminate_backend(%s)", (got[0][0],), cat=cat), [(True,)])
        th.join(60)
        sync_standby(None)
        got, _, attempts = poll(lambda: srv.req("GET", "/projects", timeout=30)[0], lambda r: r == 200,
                                self.RECOVERY_DEADLINE, 0.1)
        self.assertEqual(got, 200, attempts[-3:])
        st, body, _ = result["resp"]
        gen = self.sql("SELECT generation FROM duckspace.tables WHERE project_id = %s AND bucket_id = 'in.c-s'"
                       " AND name = 't'", (pid,), cat=cat)[0][0]
        files = harness.table_files(srv.data_dir, pid, "in_c_s", "t")
        note("import answered %s; catalog generation %d; files %s", st, gen, files)
        resp = srv.req("GET", "/projects/%s/tables/in.c-s.t/preview" % pid)
        note("preview: %s %r", resp[0], resp[1])
        self.assertIn("t.g%d.duckdb" % gen, files,
                      "the catalog's generation %d has no file (import answered %s %r)" % (gen, st, body))
        self.assertEqual(resp[0], 200, resp[1])
        self.assertIn(resp[1]["rows"], ([[1, "a"], [2, "b"]], [[3, "c"]]))
        if st == 200:
            self.assertEqual(resp[1]["rows"], [[3, "c"]])

    def test_ten_second_outage(self):
        srv = self.server
        pid, pkey = self.create_project(uniq("p"))
        self.create_bucket(pid, "sales")
        self.create_table_csv(pid, "in.c-sales", "orders", "id,amount\n1,10\n2,20\n")
        a = self.new_ws(pid)          # an established session
        b = self.new_ws(pid)          # never logged in
        cached = self.new_ws(pid)     # logged in once: in the login cache
        d = self.new_ws(pid)          # never logged in, used after the outage
        e = self.new_ws(pid)          # deleted through SQL after the outage
        ca = a["connection"]
        sess = psycopg2.connect(host="127.0.0.1", port=srv.pg_port, dbname=ca["database"], user=ca["username"],
                                password=ca["password"], sslmode="disable", connect_timeout=10)
        sess.autocommit = True
        self.addCleanup(sess.close)

        def q(sql):
            with sess.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall() if cur.description is not None else None

        self.assertEqual(q("SELECT count(*) FROM in_c_sales.orders"), [(2,)])
        self.assertLogin(srv, cached["connection"], cached["connection"]["password"])

        self.ref.pause("fast")
        t_down = time.monotonic()
        try:
            # a cold login: FATAL 57P03 at once, before any authentication exchange
            t, fields = first_message(srv, b["connection"])
            self.assertEqual(t, b"E", "expected an ErrorResponse before authentication, got %r %r" % (t, fields))
            self.assertEqual((fields.get("S"), fields.get("C"), fields.get("M")), ("FATAL", "57P03", UNAVAILABLE_MSG),
                             fields)
            self.assertLogin(srv, b["connection"], b["connection"]["password"], "57P03")
            # REST calls that need the catalog: 503 catalog_unavailable
            for method, path, body, key in (("GET", "/projects", None, harness._DEFAULT),
                                            ("GET", "/projects/%s" % pid, None, pkey),
                                            ("GET", "/projects/%s/buckets" % pid, None, harness._DEFAULT),
                                            ("GET", "/projects/%s/workspaces" % pid, None, harness._DEFAULT),
                                            ("POST", "/projects/%s/workspaces" % pid, {"name": "x"}, harness._DEFAULT),
                                            ("POST", "/projects", {"name": "x"}, harness._DEFAULT)):
                with self.subTest(method=method, path=path):
                    resp = srv.req(method, path, body, key=key, timeout=30)
                    err = self.assertError(resp, 503, "catalog_unavailable")
                    self.assertEqual(err["message"], UNAVAILABLE_MSG)
            # the open session works
            self.assertEqual(q("SELECT count(*) FROM in_c_sales.orders"), [(2,)])
            q("CREATE TABLE during_outage AS SELECT 41 AS x")
            q("INSERT INTO during_outage VALUES (1)")
            self.assertEqual(q("SELECT sum(x) FROM during_outage"), [(42,)])
            # through the outage: the process lives, the session answers, REST says 503;
            # a cached login is trusted at most CACHED_LOGIN_TTL s
            checked_cached = False
            while time.monotonic() - t_down < self.OUTAGE:
                self.assertIsNone(srv.proc.poll(), "the server exited during the outage:\n" + srv.log_tail())
                self.assertEqual(q("SELECT 1"), [(1,)])
                self.assertError(srv.req("GET", "/projects", timeout=30), 503, "catalog_unavailable")
                self.assertEqual(srv.req("GET", "/health", key=None, timeout=30)[0], 200)  # docs/deployment.md
                if not checked_cached and time.monotonic() - t_down > CACHED_LOGIN_TTL + 0.5:
                    code, info = login(srv, cached["connection"], cached["connection"]["password"])
                    self.assertEqual(code, "57P03", "a cached login %.1f s into the outage: %r"
                                     % (time.monotonic() - t_down, info))
                    checked_cached = True
                time.sleep(0.5)
            self.assertTrue(checked_cached)
        finally:
            self.ref.resume()
        t_up = time.monotonic()
        # REST and logins work again, without a restart of duckspace
        got, at, attempts = poll(lambda: srv.req("GET", "/projects", timeout=30)[0], lambda r: r == 200,
                                 self.RECOVERY_DEADLINE, 0.1)
        self.assertEqual(got, 200, "REST not back %.0f s after PostgreSQL restarted: %r"
                         % (self.RECOVERY_DEADLINE, attempts[-5:]))
        note("REST answered 200 %.2f s after PostgreSQL was back", time.monotonic() - t_up)
        got, at, attempts = poll(lambda: login(srv, d["connection"], d["connection"]["password"])[0],
                                 lambda r: r == "ok", self.RECOVERY_DEADLINE, 0.1)
        self.assertEqual(got, "ok", attempts[-5:])
        note("cold logins work %.2f s after PostgreSQL was back", time.monotonic() - t_up)
        self.assertLogin(srv, b["connection"], b["connection"]["password"])
        self.assertLogin(srv, cached["connection"], cached["connection"]["password"])
        self.assertOk(srv.req("GET", "/projects/%s" % pid, key=pkey))
        self.new_ws(pid)
        self.assertEqual(q("SELECT sum(x) FROM during_outage"), [(42,)])
        self.assertEqual(q("SELECT count(*) FROM in_c_sales.orders"), [(2,)])
        # the change feed is back: a listener subscribed, a change through SQL is seen
        got, _, _ = poll(self.listener_pids, bool, 10.0, 0.05)
        self.assertTrue(got, "no duckspace-listener subscribed after the outage")
        ce = e["connection"]
        self.assertLogin(srv, ce, ce["password"])
        self.sql("DELETE FROM duckspace.workspaces WHERE id = %s", (e["id"],))
        got, at, attempts = poll(lambda: login(srv, ce, ce["password"])[0], lambda r: r != "ok", FEED_DEADLINE)
        self.assertEqual(got, "28P01", attempts)
        sess.close()
        self.assertEqual(srv.stop(), 0, srv.log_tail())


class TwoServers(PgCatalogCase):
    """Two duckspace processes (own data directories) on one catalog database."""

    server_args = BASE_ARGS + ["--workspaces-per-project", "10"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server2 = Server(extra_args=cls.server_args, catalog=cls.cat)
        try:
            cls.server2.start()
        except Exception:
            cls.server2.cleanup()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        srv = cls.server2
        try:
            rc = srv.stop()
            if rc != 0:
                sys.stderr.write("\n" + srv.log_tail() + "\n")
                raise AssertionError("second server exit code on SIGTERM: %r (expected 0)" % rc)
        finally:
            srv.cleanup()
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        self._mark_log(self.server2)

    def parallel(self, n, fn):
        """fn(i, server) for i in 0..n-1, all started together, even i on server 1."""
        barrier = threading.Barrier(n)

        def run(i):
            barrier.wait()
            return fn(i, self.server if i % 2 == 0 else self.server2)

        with concurrent.futures.ThreadPoolExecutor(n) as pool:
            return list(pool.map(run, range(n)))

    def test_workspace_limit_holds_across_servers(self):
        pid, _ = self.create_project(uniq("p"))
        results = self.parallel(20, lambda i, srv: srv.req("POST", "/projects/%s/workspaces" % pid,
                                                           {"name": "w%d" % i}, timeout=120))
        created = [r for r in results if r[0] == 201]
        refused = [r for r in results if r[0] != 201]
        self.assertEqual(len(created), 10, [(r[0], r[1]) for r in results])
        for r in refused:
            body = self.assertError(r, 409, "limit_exceeded")
            self.assertEqual(body.get("details"), {"limit": 10}, body)
        self.assertEqual(len({r[1]["id"] for r in created}), 10)
        for srv in (self.server, self.server2):
            listed = self.assertOk(srv.req("GET", "/projects/%s/workspaces" % pid))
            self.assertEqual(listed["count"], 10, listed)
        self.assertEqual(self.sql("SELECT count(*) FROM duckspace.workspaces WHERE project_id = %s", (pid,)), [(10,)])
        # both servers created some: the limit was not held by one process alone
        by = {1: 0, 2: 0}
        for i, r in enumerate(results):
            if r[0] == 201:
                by[1 if i % 2 == 0 else 2] += 1
        note("workspaces created: %d through server 1, %d through server 2", by[1], by[2])

    def test_generated_project_ids_are_distinct_across_servers(self):
        results = self.parallel(50, lambda i, srv: srv.req("POST", "/projects", {"name": "gen%d" % i}, timeout=120))
        bad = [(r[0], r[1]) for r in results if r[0] != 201]
        self.assertEqual(bad, [])
        ids = [r[1]["id"] for r in results]
        self.assertEqual(len(set(ids)), 50, sorted(ids))
        for i in ids:
            self.assertRegex(i, r"^[0-9]+$")
        keys = {r[1]["api_key"] for r in results}
        self.assertEqual(len(keys), 50)
        # each project answers with its own key on both servers
        for r in results[:6]:
            for srv in (self.server, self.server2):
                self.assertEqual(self.assertOk(srv.req("GET", "/projects/%s" % r[1]["id"], key=r[1]["api_key"]))["name"],
                                 r[1]["name"])

    def test_delete_through_one_server_refuses_logins_on_the_other(self):
        pid, _ = self.create_project(uniq("p"))
        ws = self.new_ws(pid, srv=self.server2)
        c = ws["connection"]
        # the other server knows the workspace from the shared catalog
        self.assertEqual(self.assertOk(self.server.req("GET", "/projects/%s/workspaces" % pid))["count"], 1)
        self.assertLogin(self.server2, c, c["password"])
        self.assertLogin(self.server2, c, c["password"])
        st, body, _ = self.server.req("DELETE", "/projects/%s/workspaces/%s" % (pid, ws["id"]))
        self.assertEqual(st, 204, body)
        got, at, attempts = poll(lambda: login(self.server2, c, c["password"])[0], lambda r: r != "ok", FEED_DEADLINE)
        self.assertEqual(got, "28P01", attempts)
        note("delete through server 1 seen by server 2's logins after %.1f ms", at * 1000)

    def test_restart_of_one_server_keeps_the_others_workspaces_and_tables(self):
        pid, _ = self.create_project(uniq("p"))
        self.assertOk(self.server2.req("POST", "/projects/%s/buckets" % pid, {"stage": "in", "name": "s"}), 201)
        self.assertOk(self.server2.req("POST", "/projects/%s/buckets/in.c-s/tables?name=t" % pid,
                                       raw=b"id\n1\n2\n", content_type="text/csv"), 201)
        ws = self.new_ws(pid, srv=self.server2, preload_tables=["in.c-s.t"])
        self.server.restart()  # its start-up clean-up sees rows whose files are on server 2
        detail = self.assertOk(self.server2.req("GET", "/projects/%s/workspaces/%s" % (pid, ws["id"])))
        self.assertEqual({o["name"]: o["rows"] for o in detail["workspace_objects"]}, {"t": 2})
        self.assertEqual(self.sql("SELECT count(*) FROM duckspace.workspaces WHERE id = %s", (ws["id"],)), [(1,)])
        self.assertEqual(self.sql("SELECT count(*) FROM duckspace.tables WHERE project_id = %s", (pid,)), [(1,)])
        self.assertEqual(self.assertOk(self.server2.req("GET", "/projects/%s/tables/in.c-s.t/preview" % pid))["rows"],
                         [[1], [2]])
        c = ws["connection"]
        self.assertLogin(self.server2, c, c["password"])


class CatalogStartUp(ServerTestCase):
    """Starting on a PostgreSQL catalog: unreachable or refused -> exit 2 with a message that
    never shows a password; a data directory stays bound to its catalog; one server per
    data directory."""

    server_catalog = ""  # the class's own server is not used

    def start_fails(self, srv, code=2):
        try:
            srv.start()
        except harness.ServerError:
            pass
        else:
            self.fail("the server started:\n" + srv.log_tail())
        self.assertEqual(srv.proc.returncode, code, srv.log_tail())
        srv.proc = None  # nothing to stop in tearDown
        return srv.read_log(since_run_start=True)

    def test_unreachable_catalog_exits_2_without_showing_the_password(self):
        secret = "inline-" + secrets.token_hex(8)
        url = "postgresql://postgres:%s@127.0.0.1:%d/nowhere?sslmode=disable" % (secret, harness.free_port())
        log = self.start_fails(self.extra_server(catalog=url, extra_args=BASE_ARGS))
        self.assertIn("catalog", log)
        self.assertNotIn(secret, log)

    def test_wrong_password_exits_2_without_showing_it(self):
        cat = new_pg_catalog()
        secret = "wrong-" + secrets.token_hex(8)
        log = self.start_fails(self.extra_server(catalog=cat.url, env={"PGPASSWORD": secret}, extra_args=BASE_ARGS))
        self.assertNotIn(secret, log)
        self.assertNotIn(cat.ref.password, log)

    def test_password_in_the_url_is_never_shown(self):
        cat = new_pg_catalog()
        url = "postgresql://postgres:%s@127.0.0.1:%d/%s?sslmode=disable" % (cat.ref.password, cat.ref.port, cat.dbname)
        srv = self.extra_server(catalog=url, extra_args=BASE_ARGS + ["--log-level", "debug"])
        srv.start()
        pid = self.assertOk(srv.req("POST", "/projects", {"name": "x"}), 201)["id"]
        ws = self.assertOk(srv.req("POST", "/projects/%s/workspaces" % pid, {"name": "w"}), 201)
        c = ws["connection"]
        self.assertEqual(login(srv, c, c["password"])[0], "ok")
        st, metrics, _ = srv.req("GET", "/metrics", raw_response=True)
        self.assertNotIn(cat.ref.password.encode(), metrics)
        cmdlines = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[3]) != srv.proc.pid:  # session id: the server and what it started
                    continue
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmdlines.append(f.read())
            except (OSError, IndexError, ValueError):
                continue
        self.assertTrue(cmdlines)
        for cl in cmdlines:
            self.assertNotIn(cat.ref.password.encode(), cl)
        self.assertEqual(srv.stop(), 0)
        self.assertNotIn(cat.ref.password, srv.read_log())

    def test_every_form_of_the_catalog_setting(self):
        """--catalog or DUCKSPACE_CATALOG; postgresql:// or postgres:// URL or a libpq
        key=value string (password from PGPASSWORD); duckdb:PATH or a plain path."""
        def check(srv, where):
            srv.start()
            pid = self.assertOk(srv.req("POST", "/projects", {"name": "form"}), 201)["id"]
            self.assertEqual(srv.stop(), 0, srv.log_tail())
            if isinstance(where, PgCatalog):
                self.assertEqual(self.sql_count(where, pid), 1)
            else:
                self.assertTrue(os.path.isfile(where), where)
                self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "metadata.duckdb")))

        for form in ("flag url", "env postgres://", "flag conninfo", "env conninfo"):
            with self.subTest(form=form):
                cat = new_pg_catalog()
                value = {"flag url": cat.url, "env postgres://": cat.url.replace("postgresql://", "postgres://", 1),
                         "flag conninfo": cat.conninfo, "env conninfo": cat.conninfo}[form]
                if form.startswith("flag"):
                    srv = self.extra_server(catalog="", env=cat.env, extra_args=BASE_ARGS + ["--catalog", value])
                else:
                    srv = self.extra_server(catalog=value, env=cat.env, extra_args=BASE_ARGS)
                check(srv, cat)
        for form in ("duckdb:", ""):
            with self.subTest(form=form or "path"):
                srv = self.extra_server(catalog="", extra_args=BASE_ARGS)
                path = os.path.join(srv.root, "elsewhere.duckdb")
                srv.extra_args += ["--catalog", form + path]
                check(srv, path)

    @staticmethod
    def sql_count(cat, pid):
        conn = cat.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM duckspace.projects WHERE id = %s", (pid,))
                return cur.fetchone()[0]
        finally:
            conn.close()

    def test_data_directory_stays_bound_to_its_catalog(self):
        first = new_pg_catalog()
        srv = self.extra_server(catalog=first, extra_args=BASE_ARGS)
        srv.start()
        pid = self.assertOk(srv.req("POST", "/projects", {"id": "bound", "name": "x"}), 201)["id"]
        self.assertOk(srv.req("POST", "/projects/%s/buckets" % pid, {"stage": "in", "name": "s"}), 201)
        self.assertOk(srv.req("POST", "/projects/%s/buckets/in.c-s/tables?name=t" % pid, raw=b"id\n1\n",
                              content_type="text/csv"), 201)
        self.assertEqual(srv.stop(), 0)
        before = harness.snapshot(srv.data_dir)
        for other in (new_pg_catalog(), ""):  # an empty PostgreSQL database, the embedded default
            with self.subTest(catalog=getattr(other, "url", other or "DuckDB")):
                srv.catalog = other
                log = self.start_fails(srv)
                self.assertIn(srv.data_dir, log)
                self.assertTrue(before <= harness.snapshot(srv.data_dir), "files were removed")
        srv.catalog = first
        srv.start()
        self.assertEqual(self.assertOk(srv.req("GET", "/projects/%s/tables/in.c-s.t/preview" % pid))["rows"], [[1]])

    def test_one_server_per_data_directory(self):
        cat = new_pg_catalog()
        srv = self.extra_server(catalog=cat, extra_args=BASE_ARGS)
        srv.start()
        pid = self.assertOk(srv.req("POST", "/projects", {"name": "x"}), 201)["id"]
        second = self.extra_server(catalog=cat, data_dir=srv.data_dir, extra_args=BASE_ARGS)
        self.start_fails(second)
        self.assertOk(srv.req("GET", "/projects/%s" % pid))


class CatalogCopy(ServerTestCase):
    """duckspace catalog copy: DuckDB -> PostgreSQL -> DuckDB, same REST answers."""

    server_catalog = ""  # the embedded DuckDB catalog, whatever DUCKSPACE_TEST_CATALOG says
    server_args = BASE_ARGS

    def build(self):
        """Projects, buckets, tables, branches and workspaces; returns what to compare."""
        a, akey = self.create_project("copy-a", name="Copy A")
        b, bkey = self.create_project(None, name="Copy B (generated id)")
        self.assertOk(self.req("POST", "/projects/%s/buckets" % a, {"stage": "in", "name": "sales",
                                                                  "description": "it's \"sales\""}), 201)
        self.create_bucket(a, "res", stage="out")
        self.create_table_csv(a, "in.c-sales", "orders", "id,amount,name\n1,10,a\n2,20,b\n3,30,c\n", primary_key="id")
        self.create_table_json(a, "out.c-res", "empty", [("id", "INTEGER"), ("label", "VARCHAR")], primary_key=["id"])
        br = self.assertOk(self.req("POST", "/projects/%s/branches" % a, {"name": "dev", "description": "d"}), 201)["id"]
        gone = self.assertOk(self.req("POST", "/projects/%s/branches" % a, {"name": "gone"}), 201)["id"]
        self.assertEqual(self.req("DELETE", "/projects/%s/branches/%s" % (a, gone))[0], 204)
        self.create_bucket(a, "br", branch=br)
        self.create_table_csv(a, "in.c-br", "only", "x\n5\n", branch=br)
        self.import_csv(a, "in.c-sales.orders", "id,amount,name\n9,90,z\n", incremental=True, branch=br)  # a copy
        self.create_bucket(b, "s")
        self.create_table_csv(b, "in.c-s", "t", "v\n1\n")
        ws1 = self.assertOk(self.req("POST", "/projects/%s/workspaces" % a,
                                     {"name": "main ws", "ttl_hours": 5, "preload_tables": ["in.c-sales.orders"]}), 201)
        ws2 = self.assertOk(self.req("POST", "/projects/%s/branches/%s/workspaces" % (a, br), {"name": "branch ws"}), 201)
        ws3 = self.assertOk(self.req("POST", "/projects/%s/workspaces" % b, {"name": "b ws", "size_limit_gb": 2}), 201)
        paths = ["/projects", "/projects/%s" % a, "/projects/%s" % b,
                 "/projects/%s/buckets" % a, "/projects/%s/buckets/in.c-sales" % a,
                 "/projects/%s/buckets/in.c-sales/tables" % a, "/projects/%s/buckets/out.c-res/tables" % a,
                 "/projects/%s/tables/in.c-sales.orders" % a, "/projects/%s/tables/in.c-sales.orders/preview" % a,
                 "/projects/%s/branches" % a, "/projects/%s/branches/%s" % (a, br),
                 "/projects/%s/branches/%s/buckets" % (a, br),
                 "/projects/%s/branches/%s/buckets/in.c-sales/tables" % (a, br),
                 "/projects/%s/branches/%s/buckets/in.c-br/tables" % (a, br),
                 "/projects/%s/branches/%s/tables/in.c-sales.orders/preview" % (a, br),
                 "/projects/%s/buckets" % b, "/projects/%s/buckets/in.c-s/tables" % b,
                 "/projects/%s/workspaces" % a, "/projects/%s/branches/%s/workspaces" % (a, br),
                 "/projects/%s/workspaces" % b,
                 "/projects/%s/workspaces/%s" % (a, ws1["id"]),
                 "/projects/%s/branches/%s/workspaces/%s" % (a, br, ws2["id"]),
                 "/projects/%s/workspaces/%s" % (b, ws3["id"])]
        return {"a": a, "b": b, "akey": akey, "bkey": bkey, "br": br, "gone": gone, "ws": [ws1, ws2, ws3],
                "paths": paths}

    def answers(self, paths):
        out = {}
        for p in paths:
            st, body, _ = self.server.req("GET", p, raw_response=True)
            self.assertEqual(st, 200, "%s: %s %r" % (p, st, body))
            out[p] = body
        return out

    def assertSameAnswers(self, want, got, what):
        for p in want:
            self.assertEqual(got[p].decode(), want[p].decode(), "%s: GET %s differs" % (what, p))

    def copy(self, src, dst, env=None):
        rc, out, err = run_cli(["catalog", "copy", "--from", src, "--to", dst], env=env, timeout=60)
        return rc, out, err

    def restart_on(self, catalog):
        rc = self.server.stop()
        self.assertEqual(rc, 0, self.server.log_tail())
        if catalog is not None:
            self.server.catalog = catalog
        self.server.start()

    def snapshot_pg(self, cat):
        conn = cat.connect()
        try:
            out = {}
            with conn.cursor() as cur:
                for t in ("projects", "branches", "buckets", "tables", "workspaces", "workspace_credentials"):
                    cur.execute("SELECT * FROM duckspace.%s ORDER BY 1, 2" % t)
                    out[t] = cur.fetchall()
                cur.execute("SELECT last_value, is_called FROM duckspace.branch_ids")
                out["branch_ids"] = cur.fetchall()
            return out
        finally:
            conn.close()

    def test_round_trip_duckdb_postgresql_duckdb(self):
        srv = self.server
        info = self.build()
        want = self.answers(info["paths"])
        duck_file = os.path.join(srv.data_dir, "metadata.duckdb")
        pg = new_pg_catalog()
        self.assertEqual(srv.stop(), 0, srv.log_tail())

        # DuckDB -> PostgreSQL
        rc, out, err = self.copy(duck_file, pg.url, env=pg.env)
        self.assertEqual(rc, 0, "stdout: %s\nstderr: %s" % (out, err))
        self.assertEqual(len(out.strip().splitlines()), 1, "expected a one-line summary, got %r" % out)
        note("copy summary: %s", out.strip())
        self.assertNotIn(pg.ref.password, out + err)
        srv.catalog = pg
        srv.start()
        self.assertSameAnswers(want, self.answers(info["paths"]), "after the copy to PostgreSQL")
        for ws in info["ws"]:
            c = ws["connection"]
            got, detail = login(srv, c, c["password"])
            self.assertEqual(got, "ok", detail)
        self.assertOk(srv.req("GET", "/projects/%s" % info["a"], key=info["akey"]))
        self.assertOk(srv.req("GET", "/projects/%s" % info["b"], key=info["bkey"]))
        self.assertEqual(srv.stop(), 0, srv.log_tail())

        # PostgreSQL -> a new DuckDB file
        duck2 = os.path.join(srv.root, "copy2.duckdb")
        rc, out, err = self.copy(pg.url, "duckdb:" + duck2, env=pg.env)
        self.assertEqual(rc, 0, "stdout: %s\nstderr: %s" % (out, err))
        self.assertEqual(len(out.strip().splitlines()), 1, out)
        srv.catalog = "duckdb:" + duck2
        srv.start()
        self.assertSameAnswers(want, self.answers(info["paths"]), "after the copy back to DuckDB")
        c = info["ws"][0]["connection"]
        self.assertEqual(login(srv, c, c["password"])[0], "ok")
        self.assertEqual(srv.stop(), 0, srv.log_tail())

        # a destination that is not empty: exit 1, nothing changed
        before = self.snapshot_pg(pg)
        rc, out, err = self.copy(duck_file, pg.url, env=pg.env)
        self.assertEqual(rc, 1, "stdout: %s\nstderr: %s" % (out, err))
        self.assertTrue(err.strip(), "no message on stderr")
        self.assertEqual(self.snapshot_pg(pg), before)
        rc, out, err = self.copy(pg.url, "duckdb:" + duck2, env=pg.env)
        self.assertEqual(rc, 1, "stdout: %s\nstderr: %s" % (out, err))
        self.assertTrue(err.strip(), "no message on stderr")
        srv.start()
        self.assertSameAnswers(want, self.answers(info["paths"]), "after a refused copy into the DuckDB copy")
        self.assertEqual(srv.stop(), 0, srv.log_tail())

        # new ids on the copies continue after the copied ones
        for catalog in (pg, "duckdb:" + duck2):
            with self.subTest(catalog=getattr(catalog, "url", catalog)):
                srv.catalog = catalog
                srv.start()
                try:
                    p = self.assertOk(srv.req("POST", "/projects", {"name": "new"}), 201)
                    self.assertNotIn(p["id"], (info["a"], info["b"]))
                    self.assertEqual(int(p["id"]), int(info["b"]) + 1)
                    nb = self.assertOk(srv.req("POST", "/projects/%s/branches" % info["a"], {"name": "new"}), 201)
                    self.assertNotIn(nb["id"], (info["br"],))
                    # the branch id sequence is copied (docs/deployment.md): a deleted
                    # branch's id is not handed out again
                    self.assertGreater(int(nb["id"]), int(info["gone"]),
                                       "branch id %s of the deleted branch reused after the copy" % nb["id"])
                    listed = [x["id"] for x in self.assertOk(srv.req("GET", "/projects/%s/branches" % info["a"]))
                              ["branches"]]
                    self.assertEqual(listed, [info["br"], nb["id"]])
                finally:
                    self.assertEqual(srv.stop(), 0, srv.log_tail())
        srv.catalog = ""
        srv.start()  # tearDownClass stops it

    def test_bad_usage_is_exit_2(self):
        for args in (["catalog"], ["catalog", "copy"], ["catalog", "copy", "--from", "/nonexistent/x.duckdb"],
                     ["catalog", "copy", "--to", "/tmp/x.duckdb"], ["catalog", "move", "--from", "a", "--to", "b"],
                     ["catalog", "copy", "--from", "a", "--to", "b", "--force"]):
            with self.subTest(args=args):
                rc, out, err = run_cli(args)
                self.assertEqual(rc, 2, "stdout: %s\nstderr: %s" % (out, err))
                self.assertTrue(err.strip())

    def test_unreadable_source_is_exit_1_and_creates_nothing(self):
        dst = os.path.join(self.server.root, "never.duckdb")
        rc, out, err = self.copy("/nonexistent/metadata.duckdb", dst)
        self.assertIn(rc, (1, 2), "stdout: %s\nstderr: %s" % (out, err))
        self.assertFalse(os.path.exists(dst))


if __name__ == "__main__":
    harness.main()
