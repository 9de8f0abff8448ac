"""Workspaces in worker processes (overview.md, "Isolation"): one process per workspace
in use, under limits the kernel enforces; a worker that dies, runs out of memory or
will not stop ends only its own sessions, with a clear error, and the next connection
gets a new one; committed data survives any kill.

Run: /usr/bin/python3 tests/integration/test_workers.py [-v] [Class.test_name]"""

import errno
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import psycopg2

import harness
from harness import uniq
from pghelpers import PgTestCase, read_message, read_until_error_or_eof, scram_login, simple_query, wait_until
from wshelpers import ws_db, ws_dir

GRACE = 2  # --worker-stop-grace


def children(pid):
    """{worker pid: workspace id} of the server's worker processes."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and len(argv) >= 3 and argv[1] == b"worker":
            out[int(d)] = argv[2].decode()
    return out


def open_files(pid):
    out = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                out.add(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
            except OSError:
                pass
    except OSError:
        pass
    return out


class WorkerCase(PgTestCase):
    server_args = ["--workspace-idle-close", "2", "--worker-stop-grace", str(GRACE)]

    def setUp(self):
        super().setUp()
        self.ws = self.make_ws()
        self.keys = {}  # BackendKeyData of raw sessions, by descriptor

    def worker_of(self, ws_id, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid, wid in children(self.server.proc.pid).items():
                if wid == ws_id:
                    return pid
            time.sleep(0.05)
        self.fail("no worker process for %s" % ws_id)

    def run_in_thread(self, conn, sql):
        """Runs sql on conn in a thread; returns (thread, outcome dict)."""
        outcome = {}

        def run():
            try:
                outcome["rows"] = self.q2(conn, sql)
            except psycopg2.Error as e:
                outcome["error"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, outcome

    def raw_login(self, ws):
        c = ws["connection"]
        outcome, info, sock = scram_login(self.server.pg_port, c["username"], c["database"], c["password"], timeout=60)
        self.assertEqual(outcome, "ok", info)
        self.addCleanup(sock.close)
        self.keys[sock.fileno()] = info["key"]
        return sock

    def raw_cancel(self, sock):
        with socket.create_connection(("127.0.0.1", self.server.pg_port), timeout=10) as c:
            c.sendall(struct.pack("!IIII", 16, 80877102, *self.keys[sock.fileno()]))


    def raw_query_error(self, sock, sql, timeout=60):
        """Sends sql and reads until an ErrorResponse: its fields (None at EOF). libpq
        drops the SQLSTATE of a FATAL that ends the connection, as with PostgreSQL."""
        data = sql.encode() + b"\0"
        sock.sendall(b"Q" + struct.pack("!I", len(data) + 4) + data)
        sock.settimeout(timeout)
        return read_until_error_or_eof(sock)

    def raw_idle_error(self, sock, timeout=20):
        """The ErrorResponse an idle session got (None at EOF): read before sending, since
        a client that writes to a closed connection gets a reset and loses it."""
        sock.settimeout(timeout)
        return read_until_error_or_eof(sock)

    def assertServerHealthy(self):
        self.assertEqual(self.req("GET", "/health")[0], 200)


class Processes(WorkerCase):

    def test_each_workspace_in_use_has_its_own_worker_holding_its_database(self):
        other = self.make_ws()
        a, b = self.pg2(self.ws), self.pg2(other)
        self.q2(a, "CREATE TABLE t AS SELECT 1 AS x")
        self.q2(b, "CREATE TABLE t AS SELECT 2 AS x")
        wa, wb = self.worker_of(self.ws["id"]), self.worker_of(other["id"])
        self.assertNotEqual(wa, wb)
        db_a = ws_db(self.server.data_dir, self.pid, self.ws["id"])
        # The worker has the database open; the server process does not.
        self.assertIn(db_a, open_files(wa))
        self.assertNotIn(db_a, open_files(self.server.proc.pid))
        self.assertNotIn(db_a, open_files(wb))
        self.assertEqual(self.q2(a, "SELECT x FROM t"), [(1,)])
        self.assertEqual(self.q2(b, "SELECT x FROM t"), [(2,)])
        # A worker holds no descriptor of the server's: no listener, no client socket.
        for fd in os.listdir("/proc/%d/fd" % wa):
            self.assertLessEqual(int(fd), 64, "worker has many descriptors open: %s" % fd)
        self.assertFalse(any(":" in f and "socket" not in f for f in open_files(wa)))

    def test_an_unused_worker_ends_and_the_next_use_starts_another(self):
        conn = self.pg2(self.ws)
        self.q2(conn, "CREATE TABLE kept AS SELECT 42 AS x")
        first = self.worker_of(self.ws["id"])
        conn.close()
        deadline = time.monotonic() + 15
        while first in children(self.server.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertNotIn(first, children(self.server.proc.pid), "the idle worker did not end")
        conn = self.pg2(self.ws)
        self.assertEqual(self.q2(conn, "SELECT x FROM kept"), [(42,)])
        self.assertNotEqual(self.worker_of(self.ws["id"]), first)

    def test_terminate_ends_the_session_without_an_error(self):
        """The worker closes the session on Terminate; the relay must not take that for a
        worker gone (node-postgres raised on the FATAL it got)."""
        sock = self.raw_login(self.ws)
        simple_query(sock, "SELECT 1")
        sock.sendall(b"X" + struct.pack("!I", 4))
        sock.settimeout(10)
        got = []
        while True:
            try:
                t, payload = read_message(sock)
            except (EOFError, ConnectionError):
                break
            got.append((t, payload))
        self.assertEqual(got, [])

    def test_rest_on_a_workspace_goes_to_its_worker(self):
        conn = self.pg2(self.ws)
        self.q2(conn, "CREATE TABLE r AS SELECT * FROM range(10) t(i)")
        d = self.detail(self.ws["id"])
        self.assertEqual({o["name"]: o["rows"] for o in d["workspace_objects"]}, {"r": 10})
        self.assertGreater(d["size_bytes"], 0)
        self.assertEqual(d["active_sessions"], 1)
        sessions = self.assertOk(self.req("GET", self.ws_url(self.ws["id"], "/sessions")))["sessions"]
        self.assertEqual(len(sessions), 1)
        self.assertEqual(sessions[0]["state"], "idle")
        self.assertGreaterEqual(sessions[0]["query_count"], 1)


class Kills(WorkerCase):

    def test_sigkill_mid_query_ends_only_that_workspaces_sessions(self):
        other = self.make_ws()
        a, idle, b = self.raw_login(self.ws), self.raw_login(self.ws), self.pg2(other)
        setup = self.pg2(self.ws)
        self.q2(setup, "CREATE TABLE committed AS SELECT * FROM range(1000) t(i)")
        self.q2(b, "CREATE TABLE theirs AS SELECT 7 AS x")
        tx = self.pg2(self.ws, autocommit=False)
        self.q2(tx, "INSERT INTO committed VALUES (-1)")  # never committed
        box = {}
        t = threading.Thread(target=lambda: box.update(
            fields=self.raw_query_error(a, "SELECT sum(i * i % 7) FROM range(100000000000) t(i)")), daemon=True)
        t.start()
        self.assertTrue(wait_until(lambda: any(x["state"] == "active" for x in self.sessions(self.ws["id"]))))
        os.kill(self.worker_of(self.ws["id"]), signal.SIGKILL)
        t.join(20)
        fields = box.get("fields")
        self.assertIsNotNone(fields, "the connection closed without an ErrorResponse")
        self.assertEqual((fields["S"], fields["C"]), ("FATAL", "57P01"), fields)
        self.assertIn("worker process was killed by signal 9", fields["M"])
        idle_fields = self.raw_idle_error(idle)
        self.assertEqual((idle_fields["S"], idle_fields["C"]), ("FATAL", "57P01"), idle_fields)
        self.assertIn("worker process was killed by signal 9", idle_fields["M"])
        # The other workspace did not notice.
        self.assertEqual(self.q2(b, "SELECT x FROM theirs"), [(7,)])
        self.assertServerHealthy()
        # The next connection gets a new worker: committed rows are there, the rest is not.
        c = self.pg2(self.ws)
        self.assertEqual(self.q2(c, "SELECT count(*), min(i) FROM committed"), [(1000, 0)])
        self.assertEqual({o["name"] for o in self.detail(self.ws["id"])["workspace_objects"]}, {"committed"})
        log = self.server.read_log("stderr", since_run_start=True)
        self.assertIn("was killed by signal 9", log)

    def test_sigkill_mid_write_keeps_what_was_committed(self):
        a = self.pg2(self.ws)
        self.q2(a, "CREATE TABLE w (i BIGINT)")
        self.q2(a, "INSERT INTO w SELECT * FROM range(500)")
        t, outcome = self.run_in_thread(a, "INSERT INTO w SELECT i FROM range(2000000000) t(i) WHERE i * i % 7 = 8")
        self.wait_active_sessions(self.ws["id"], 1)
        time.sleep(0.5)
        os.kill(self.worker_of(self.ws["id"]), signal.SIGKILL)
        t.join(20)
        self.assertIn("error", outcome)
        c = self.pg2(self.ws)
        self.assertEqual(self.q2(c, "SELECT count(*) FROM w"), [(500,)])
        self.q2(c, "INSERT INTO w VALUES (1)")
        self.assertEqual(self.q2(c, "SELECT count(*) FROM w"), [(501,)])


class StatementsThatWillNotStop(WorkerCase):
    """DuckDB cannot interrupt one long function call (levenshtein of two 300,000-character
    strings runs for minutes through statement_timeout and cancel): past the grace period
    its worker is ended. Only its workspace's sessions end."""

    def test_timeout_plus_grace_ends_an_uninterruptible_statement(self):
        other = self.make_ws()
        a, idle, b = self.raw_login(self.ws), self.raw_login(self.ws), self.pg2(other)
        self.q2(self.pg2(self.ws), "CREATE TABLE keep AS SELECT 1 AS x")
        simple_query(a, "SET statement_timeout = '1s'")
        # It runs for minutes if nothing ends it: the 60 s read timeout fails the test then.
        fields = self.raw_query_error(a, "SELECT levenshtein(repeat('a', 300000), repeat('b', 300000))", timeout=60)
        self.assertIsNotNone(fields, "the connection closed without an ErrorResponse")
        self.assertEqual((fields["S"], fields["C"]), ("FATAL", "57014"), fields)
        self.assertIn("did not stop within %d s" % GRACE, fields["M"])
        idle_fields = self.raw_idle_error(idle)
        self.assertEqual((idle_fields["S"], idle_fields["C"]), ("FATAL", "57P01"), idle_fields)
        self.assertIn("another session would not stop", idle_fields["M"])
        self.assertEqual(self.q2(b, "SELECT 1"), [(1,)])
        c = self.pg2(self.ws)
        self.assertEqual(self.q2(c, "SELECT x FROM keep"), [(1,)])

    def test_a_cancel_that_does_not_stop_it_ends_it_too(self):
        a = self.raw_login(self.ws)
        simple_query(a, "SET statement_timeout = 0")
        box = {}
        t = threading.Thread(target=lambda: box.update(
            fields=self.raw_query_error(a, "SELECT levenshtein(repeat('a', 300000), repeat('b', 300000))")), daemon=True)
        t.start()
        self.assertTrue(wait_until(lambda: any(x["state"] == "active" for x in self.sessions(self.ws["id"]))))
        self.raw_cancel(a)
        t.join(GRACE + 30)
        self.assertFalse(t.is_alive())
        fields = box.get("fields")
        self.assertIsNotNone(fields, "the connection closed without an ErrorResponse")
        self.assertEqual((fields["S"], fields["C"]), ("FATAL", "57014"), fields)
        self.assertIn("did not stop within %d s of its cancel" % GRACE, fields["M"])
        self.assertEqual(self.q2(self.pg2(self.ws), "SELECT 1"), [(1,)])


class MemoryLimits(WorkerCase):
    """The attack of the issue: SELECT length(repeat('x', 3000000000)) took 5.9 GB in a
    workspace limited to 2 GB, and five at once got the whole server killed."""

    server_args = WorkerCase.server_args + ["--workspace-memory-limit", "512MB", "--worker-memory-headroom", "512MB"]

    def setUp(self):
        super().setUp()
        log = self.server.read_log("stderr")
        if "AddressSanitizer" in log:
            self.skipTest("memory limits are not applied under AddressSanitizer (its shadow memory counts)")

    def test_memory_attack_in_several_sessions_fails_them_with_53200_and_harms_nothing_else(self):
        other = self.make_ws()
        b = self.pg2(other)
        self.q2(b, "CREATE TABLE theirs AS SELECT 7 AS x")
        conns = [self.pg2(self.ws) for _ in range(4)]
        runs = [self.run_in_thread(c, "SELECT length(repeat('x', 3000000000))") for c in conns]
        # Meanwhile an import into the project and the other workspace go on.
        table = self.create_table_csv(self.pid, self.create_bucket(self.pid), "during",
                                      harness.csv_text(["id"], [[i] for i in range(1000)]))
        self.assertEqual(self.q2(b, "SELECT x FROM theirs"), [(7,)])
        for t, outcome in runs:
            t.join(60)
            self.assertIn("error", outcome)
            self.assertIn(outcome["error"].pgcode, ("53200", "57P01", "58000"), outcome["error"])
        codes = [o["error"].pgcode for _, o in runs]
        self.assertIn("53200", codes, codes)
        self.assertServerHealthy()
        self.assertEqual(len(self.rows(self.pid, table["id"])), 1000)
        self.assertEqual(self.q2(self.pg2(self.ws), "SELECT 1"), [(1,)])


class Landlock(unittest.TestCase):
    """From inside a worker (started here as the server starts it, with the test-only
    probe request on): what it may open, and what the kernel refuses."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="duckspace-sbx-")
        self.addCleanup(shutil.rmtree, self.root, True)
        d = os.path.join(self.root, "_workspaces")
        self.wsdir = os.path.join(d, "ws_probe")
        self.links = os.path.join(d, "ws_probe.tables")
        self.sibling = os.path.join(d, "ws_other")
        for p in (self.wsdir, os.path.join(self.wsdir, "tmp"), self.links, self.sibling):
            os.makedirs(p)
        self.table = os.path.join(self.links, "t.duckdb")
        with open(self.table, "w") as f:
            f.write("x")
        with open(os.path.join(self.sibling, "ws_other.duckdb"), "w") as f:
            f.write("y")
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.addCleanup(self.listener.close)
        self.start_worker()

    def start_worker(self):
        parent, child = socket.socketpair()
        env = dict(os.environ, DUCKSPACE_TEST_PROBES="1")
        cfd = child.fileno()
        # As the server starts it: "duckspace worker <id>" with its channel on descriptor 3.
        self.proc = subprocess.Popen(["/bin/sh", "-c", 'exec "$0" worker ws_probe 3<&%d %d<&-' % (cfd, cfd), harness.BIN],
                                     pass_fds=(cfd,), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        child.close()
        self.sock = parent
        self.addCleanup(self.stop_worker)
        paths = {"dir": self.wsdir, "db": os.path.join(self.wsdir, "ws_probe.duckdb"),
                 "wal": os.path.join(self.wsdir, "ws_probe.duckdb.wal"), "links": self.links,
                 "tmp": os.path.join(self.wsdir, "tmp")}
        w = {"id": "ws_probe", "project_id": "p", "branch_id": "", "name": "probe", "created_at": 0,
             "expires_at": 0, "size_limit_bytes": 1 << 30, "status": "active", "username": "ws_probe_u"}
        sandbox = {"ro": [self.links], "rw": [self.wsdir], "mem_bytes": 4 << 30, "file_bytes": 1 << 30,
                   "max_files": 256}
        args = {"settings": {"data_dir": self.root, "log_level": "warn"}, "workspace": w, "paths": paths,
                "sandbox": sandbox}
        ans = self.call({"id": 1, "op": "open", "args": args})
        self.assertIn("ok", ans, ans)
        if "AddressSanitizer" in ans["ok"].get("sandbox", ""):
            self.skipTest("the worker sandbox is not applied in AddressSanitizer builds (LeakSanitizer needs "
                          "/proc and ptrace); the normal build runs these")

    def stop_worker(self):
        try:
            self.call({"id": 99, "op": "exit", "args": {}})
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()

    def call(self, req):
        b = json.dumps(req).encode()
        self.sock.sendall(struct.pack(">I", len(b)) + b)
        while True:
            n = struct.unpack(">I", self.recv(4))[0]
            f = json.loads(self.recv(n))
            if "re" in f:
                return f
            # a request of the worker's own (not expected here): answer with an error
            self.sock.sendall(self.frame({"re": f["id"], "err": {"code": "internal_error", "message": "no"}}))

    @staticmethod
    def frame(o):
        b = json.dumps(o).encode()
        return struct.pack(">I", len(b)) + b

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            c = self.sock.recv(n - len(buf))
            if not c:
                raise OSError("worker closed its channel: %s" % self.proc.stderr.read().decode()[-2000:])
            buf += c
        return buf

    def probe(self, what, path=None, port=0):
        ans = self.call({"id": 2, "op": "probe", "args": {"what": what, "path": path, "port": port}})
        self.assertIn("ok", ans, ans)
        return ans["ok"]["errno"]

    def test_files_outside_its_directories_cannot_be_opened(self):
        self.assertEqual(self.probe("read", self.table), 0)
        self.assertEqual(self.probe("create", os.path.join(self.wsdir, "mine.txt")), 0)
        self.assertEqual(self.probe("write", self.table), errno.EACCES)  # a project table: read-only
        self.assertEqual(self.probe("create", os.path.join(self.links, "new.duckdb")), errno.EACCES)
        self.assertEqual(self.probe("read", "/etc/passwd"), errno.EACCES)
        self.assertEqual(self.probe("read", os.path.join(self.sibling, "ws_other.duckdb")), errno.EACCES)
        self.assertEqual(self.probe("create", os.path.join(self.root, "escaped.txt")), errno.EACCES)
        self.assertFalse(os.path.exists(os.path.join(self.root, "escaped.txt")))

    def test_no_network_and_no_new_processes(self):
        self.assertIn(self.probe("tcp", port=self.listener.getsockname()[1]), (errno.EACCES, errno.EPERM))
        self.assertIn(self.probe("fork"), (errno.EPERM, errno.EACCES, errno.ENOSYS))


if __name__ == "__main__":
    harness.main()
