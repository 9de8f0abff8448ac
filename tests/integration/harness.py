"""Integration test harness for the duckspace REST API.

Starts a real `duckspace serve` process on free loopback ports with a fresh temporary
data directory, talks HTTP to it with the standard library only, and stops it with
SIGTERM (asserting a clean exit 0) when the test class is done.

Environment:
  DUCKSPACE_BIN        server binary (default: <repo>/build/duckspace)
  DUCKSPACE_LIBDUCKDB  libduckdb.so used to write Parquet test files through ctypes
                       (default: <repo>/third_party/duckdb/lib/libduckdb.so)
  DUCKSPACE_TEST_KEEP  set to 1 to keep temporary directories after the run
  DUCKSPACE_TEST_CATALOG
                       "postgresql": every Server (unless given catalog=) keeps its metadata
                       in a fresh database of one throwaway PostgreSQL 15 cluster, started
                       once per test process (pgref.PgReference) and removed at exit;
                       unset or "duckdb": the embedded DuckDB file DATA_DIR/metadata.duckdb
"""

import atexit
import ctypes
import http.client
import json
import os
import re
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DUCKSPACE_BIN", os.path.join(REPO, "build", "duckspace"))
LIBDUCKDB = os.environ.get(
    "DUCKSPACE_LIBDUCKDB", os.path.join(REPO, "third_party", "duckdb", "lib", "libduckdb.so"))

START_TIMEOUT = 15.0       # seconds to wait for GET /health after start
STOP_TIMEOUT = 30.0        # seconds to wait for exit after SIGTERM
REQUEST_TIMEOUT = 300.0    # per HTTP request

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KEY_RE = re.compile(r"^dsk_[0-9a-f]{48}$")

_DEFAULT = object()


_handed_out_ports = set()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Never the same port twice in one test process (two calls in a row used to be able to
    return the same port, and a server given it for both HTTP and PostgreSQL could not
    start), and chosen below the kernel's ephemeral range (32768-60999) so that outgoing
    connections of other processes do not take it between this check and the bind."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        if port in _handed_out_ports:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        _handed_out_ports.add(port)
        return port
    raise RuntimeError("no free TCP port found on 127.0.0.1")


def port_answers(port, timeout=1.0):
    """True when something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def new_admin_key():
    return "dsk_" + secrets.token_hex(24)


def clean_env(extra=None):
    """The inherited environment without any DUCKSPACE_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUCKSPACE_")}
    # ASan/UBSan builds: make a sanitizer report fail the exit code, keep output in the log.
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    if extra:
        env.update(extra)
    return env


def require_binary():
    if not os.path.isfile(BIN) or not os.access(BIN, os.X_OK):
        raise RuntimeError(
            "duckspace binary not found at %s (build it first or set DUCKSPACE_BIN)" % BIN)


def run_cli(args, env=None, timeout=15.0, cwd=None):
    """Runs the binary to completion: returns (exit code, stdout, stderr).

    A process still running after `timeout` seconds is killed and reported as exit
    code None (e.g. a server that started when it should have refused to)."""
    require_binary()
    p = subprocess.Popen([BIN] + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=clean_env(env), cwd=cwd,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


class ServerError(Exception):
    pass


# ---- metadata catalog on PostgreSQL ------------------------------------------------------

def catalog_kind():
    """"postgresql" or "duckdb": the catalog backend servers get by default."""
    v = os.environ.get("DUCKSPACE_TEST_CATALOG", "").strip().lower()
    if v in ("", "duckdb"):
        return "duckdb"
    if v in ("postgresql", "postgres", "pg"):
        return "postgresql"
    raise RuntimeError("DUCKSPACE_TEST_CATALOG=%r: expected postgresql or duckdb" % v)


_shared_pg_lock = threading.Lock()
_shared_pg = None


def shared_pg():
    """The one PostgreSQL cluster of this test process, started on first use and removed
    at exit (pgref imports this module: imported here, not at the top)."""
    global _shared_pg
    with _shared_pg_lock:
        if _shared_pg is None:
            from pgref import PgReference
            ref = PgReference(max_connections=300)  # a few connections per server, many servers
            try:
                ref.start()
            except Exception:
                ref.stop()
                raise
            atexit.register(ref.stop)
            _shared_pg = ref
        return _shared_pg


class PgCatalog:
    """One database of a PgReference cluster that a server uses as its catalog.
    url / conninfo name it without the password; env carries the password (PGPASSWORD),
    as it must reach the server (command lines are visible in ps)."""

    def __init__(self, ref, dbname):
        self.ref = ref
        self.dbname = dbname
        self.url = ref.url(dbname)
        self.conninfo = ref.conninfo(dbname)
        self.env = {"PGPASSWORD": ref.password}

    def connect(self, autocommit=True):
        """A psycopg2 connection to the catalog database (the caller closes it)."""
        return self.ref.connect(self.dbname, autocommit=autocommit)


def redact_catalog(where):
    """A catalog setting with any password in it replaced by ***, for the logs."""
    where = re.sub(r"(://[^:/@?#]*):[^@/?#]*@", r"\1:***@", where)
    where = re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", where)
    return where


def new_pg_catalog(ref=None):
    """A fresh, empty database (ds_<random>) in ref (default: shared_pg())."""
    ref = ref or shared_pg()
    return PgCatalog(ref, ref.create_database())


class Server:
    """One duckspace server process on a private temporary directory.

    Layout of the temporary directory (self.root):
      data/          the data dir (--data-dir)
      stdout.log     the server's standard output, all runs appended
      stderr.log     the server's standard error, all runs appended
    """

    def __init__(self, admin_key=_DEFAULT, extra_args=(), env=None, root=None,
                 data_dir=None, pass_ports=True, http_port=None, pg_port=None, catalog=None):
        """catalog: None follows DUCKSPACE_TEST_CATALOG (a fresh PostgreSQL database per
        Server, chosen at the first start and kept by restarts); "" forces the embedded
        DuckDB default; a PgCatalog, or a string (URL, conninfo, duckdb:PATH, a path) is
        passed as DUCKSPACE_CATALOG (for a string, put PGPASSWORD in env yourself)."""
        require_binary()
        self.root = root or tempfile.mkdtemp(prefix="duckspace-it-")
        self.data_dir = data_dir or os.path.join(self.root, "data")
        self.admin_key = new_admin_key() if admin_key is _DEFAULT else admin_key
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.pass_ports = pass_ports
        self.auto_ports = http_port is None and pg_port is None
        self.http_port = http_port or free_port()
        self.pg_port = pg_port or free_port()
        self.stdout_path = os.path.join(self.root, "stdout.log")
        self.stderr_path = os.path.join(self.root, "stderr.log")
        self.proc = None
        self.runs = 0
        self.catalog = catalog
        if catalog is None and catalog_kind() == "postgresql":
            self.catalog = _DEFAULT  # a fresh database at the first start

    @property
    def pg_catalog(self):
        """The PgCatalog of this server, or None (DuckDB, or a catalog given as a string)."""
        return self.catalog if isinstance(self.catalog, PgCatalog) else None

    def catalog_env(self):
        """Environment for the catalog setting (DUCKSPACE_CATALOG and PGPASSWORD)."""
        if self.catalog is _DEFAULT:
            self.catalog = new_pg_catalog()
        if isinstance(self.catalog, PgCatalog):
            env = dict(self.catalog.env)
            env["DUCKSPACE_CATALOG"] = self.catalog.url
            return env
        if self.catalog:
            return {"DUCKSPACE_CATALOG": self.catalog}
        return {}

    # ---- process control -------------------------------------------------------------

    def command(self):
        cmd = [BIN, "serve", "--data-dir", self.data_dir, "--listen-address", "127.0.0.1"]
        if self.pass_ports:
            cmd += ["--http-port", str(self.http_port), "--pg-port", str(self.pg_port)]
        if self.admin_key is not None:
            cmd += ["--admin-key", self.admin_key]
        return cmd + self.extra_args

    def start(self):
        """Start the server and wait until /health answers. When the test let the harness
        choose the ports and another process took one of them between the choice and the
        bind, choose again (at most twice): that is the harness's race, not the server's."""
        for attempt in range(3):
            try:
                return self._start_once()
            except ServerError as e:
                if not (self.auto_ports and self.pass_ports and attempt < 2
                        and "Address already in use" in str(e)):
                    raise
                self.http_port, self.pg_port = free_port(), free_port()

    def _start_once(self):
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("server already running")
        self.runs += 1
        self.log_offsets = (self._size(self.stdout_path), self._size(self.stderr_path))
        with open(self.stdout_path, "ab") as so, open(self.stderr_path, "ab") as se:
            shown = " ".join(self.command())
            if self.admin_key:
                shown = shown.replace(self.admin_key, "<admin-key>")  # keep keys out of the log files
            banner = ("\n===== run %d: %s =====\n" % (self.runs, shown)).encode()
            so.write(banner)
            se.write(banner)
            cat_line = ("catalog: %s\n" % redact_catalog(
                self.catalog_env().get("DUCKSPACE_CATALOG", "DuckDB (default)"))).encode()
            so.write(cat_line)
            se.write(cat_line)
            so.flush()
            se.flush()
            self.log_offsets = (self._size(self.stdout_path), self._size(self.stderr_path))
            env = self.catalog_env()
            env.update(self.env)
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=so,
                                         stderr=se, env=clean_env(env), cwd=self.root,
                                         start_new_session=True)
        self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerError("server exited with code %s during start-up\n%s"
                                  % (rc, self.log_tail()))
            try:
                status, _, _ = self.req("GET", "/health", key=None, timeout=2.0)
                if status == 200:
                    return
                last = "status %s" % status
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.1)
        self.kill()
        raise ServerError("server not ready after %.0f s (last: %s)\n%s"
                          % (timeout, last, self.log_tail()))

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def kill(self):
        """SIGKILL (crash simulation)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        """Clean stop (must exit 0) and start again on the same data dir and ports."""
        rc = self.stop()
        if rc != 0:
            raise ServerError("server exited with code %s on SIGTERM\n%s" % (rc, self.log_tail()))
        return self.start()

    def cleanup(self):
        self.kill()
        if os.environ.get("DUCKSPACE_TEST_KEEP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- logs --------------------------------------------------------------------------

    @staticmethod
    def _size(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def read_log(self, which="both", since_run_start=False):
        out = []
        for i, (name, path) in enumerate((("stdout", self.stdout_path), ("stderr", self.stderr_path))):
            if which not in ("both", name):
                continue
            try:
                with open(path, "rb") as f:
                    if since_run_start:
                        f.seek(self.log_offsets[i])
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)

    def log_tail(self, limit=20000):
        parts = []
        for name, path in (("stdout", self.stdout_path), ("stderr", self.stderr_path)):
            try:
                with open(path, "rb") as f:
                    data = f.read().decode("utf-8", "replace")
            except OSError:
                data = ""
            if len(data) > limit:
                data = "...[cut]...\n" + data[-limit:]
            parts.append("----- server %s (%s) -----\n%s" % (name, path, data))
        return "\n".join(parts)

    # ---- HTTP --------------------------------------------------------------------------

    def req(self, method, path, body=None, key=_DEFAULT, headers=None, raw=None,
            raw_file=None, content_type=None, timeout=REQUEST_TIMEOUT, port=None, raw_response=False):
        """One HTTP request on a new connection.

        body: a Python value sent as JSON (Content-Type: application/json);
        raw: bytes sent as is (Content-Type from `content_type` or `headers`);
        raw_file: a path streamed as the body;
        key: Bearer key (default: the admin key; None: no Authorization header).
        Returns (status, parsed JSON or text, headers as a lower-cased dict); with
        raw_response the body as the bytes received instead."""
        hdrs = {}
        if key is _DEFAULT:
            key = self.admin_key
        if key is not None:
            hdrs["Authorization"] = "Bearer " + key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        elif raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if headers:
            hdrs.update(headers)
        conn = http.client.HTTPConnection("127.0.0.1", port or self.http_port, timeout=timeout)
        try:
            if raw_file is not None:
                hdrs["Content-Length"] = str(os.path.getsize(raw_file))
                with open(raw_file, "rb") as f:
                    conn.request(method, path, body=f, headers=hdrs)
                    resp = conn.getresponse()
            else:
                if data is None and method in ("POST", "PUT", "PATCH"):
                    hdrs.setdefault("Content-Length", "0")
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
            payload = resp.read()
            rh = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        if raw_response:
            return resp.status, payload, rh
        text = payload.decode("utf-8", "replace")
        parsed = text
        if text:
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
        return resp.status, parsed, rh


# ---- Parquet writer (through the project's own libduckdb, standard-library ctypes) -------

_duck_lock = threading.Lock()
_duck = None


def _libduckdb():
    global _duck
    with _duck_lock:
        if _duck is None:
            if not os.path.isfile(LIBDUCKDB):
                raise RuntimeError("libduckdb.so not found at %s (run scripts/setup-deps.sh or set "
                                   "DUCKSPACE_LIBDUCKDB); needed to write Parquet test files"
                                   % LIBDUCKDB)
            lib = ctypes.CDLL(LIBDUCKDB)
            lib.duckdb_open.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
            lib.duckdb_connect.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
            lib.duckdb_query.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
            lib.duckdb_result_error.argtypes = [ctypes.c_void_p]
            lib.duckdb_result_error.restype = ctypes.c_char_p
            lib.duckdb_destroy_result.argtypes = [ctypes.c_void_p]
            lib.duckdb_disconnect.argtypes = [ctypes.c_void_p]
            lib.duckdb_close.argtypes = [ctypes.c_void_p]
            _duck = lib
        return _duck


def duckdb_exec(sql):
    """Runs SQL statements in a private in-memory DuckDB (e.g. COPY ... TO 'x.parquet')."""
    lib = _libduckdb()
    db = ctypes.c_void_p()
    con = ctypes.c_void_p()
    if lib.duckdb_open(None, ctypes.byref(db)) != 0:
        raise RuntimeError("duckdb_open failed")
    try:
        if lib.duckdb_connect(db, ctypes.byref(con)) != 0:
            raise RuntimeError("duckdb_connect failed")
        try:
            res = ctypes.create_string_buffer(512)  # duckdb_result is smaller than this
            rc = lib.duckdb_query(con, sql.encode(), res)
            err = lib.duckdb_result_error(res) if rc != 0 else None
            lib.duckdb_destroy_result(res)
            if rc != 0:
                raise RuntimeError("duckdb: %s" % (err.decode() if err else "query failed"))
        finally:
            lib.duckdb_disconnect(ctypes.byref(con))
    finally:
        lib.duckdb_close(ctypes.byref(db))


def write_parquet(path, select_sql):
    duckdb_exec("COPY (%s) TO '%s' (FORMAT parquet)" % (select_sql, path.replace("'", "''")))
    return path


# ---- test case base ------------------------------------------------------------------------

_counter = [0]
_counter_lock = threading.Lock()


def uniq(prefix="x"):
    with _counter_lock:
        _counter[0] += 1
        return "%s%d_%s" % (prefix, _counter[0], secrets.token_hex(3))


def csv_text(header, rows):
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join("" if v is None else str(v) for v in r))
    return "\n".join(lines) + "\n"


class ServerTestCase(unittest.TestCase):
    """A test class sharing one server (started in setUpClass, stopped with SIGTERM and
    checked for exit code 0 in tearDownClass). The server log is printed when a test fails."""

    server_args = ()
    server_env = None
    server_catalog = None  # Server(catalog=...): None follows DUCKSPACE_TEST_CATALOG
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra_args=cls.server_args, env=cls.server_env, catalog=cls.server_catalog)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        srv = cls.server
        try:
            rc = srv.stop()
            if rc != 0:
                sys.stderr.write("\n" + srv.log_tail() + "\n")
                raise AssertionError("server exit code on SIGTERM: %r (expected 0)" % rc)
        finally:
            srv.cleanup()

    def setUp(self):
        self._extra_servers = []
        self._log_marks = {}
        self._mark_log(self.server)

    def _mark_log(self, srv):
        self._log_marks[id(srv)] = (srv, Server._size(srv.stdout_path), Server._size(srv.stderr_path))

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if not getattr(outcome, "success", True):
            return True
        result = getattr(outcome, "result", None)
        if result is not None:
            for t, _ in list(result.errors) + list(result.failures):
                if t is self:
                    return True
        return False

    def tearDown(self):
        failed = self._failed()
        bad = []
        for srv in self._extra_servers:
            try:
                rc = srv.stop()
                if rc != 0:
                    bad.append(rc)
                if failed or rc != 0:
                    sys.stderr.write("\n" + srv.log_tail() + "\n")
            finally:
                srv.cleanup()
        if failed:
            for srv, o1, o2 in self._log_marks.values():
                sys.stderr.write("\n----- server log during %s -----\n" % self.id())
                for path, off in ((srv.stdout_path, o1), (srv.stderr_path, o2)):
                    try:
                        with open(path, "rb") as f:
                            f.seek(off)
                            data = f.read().decode("utf-8", "replace")
                    except OSError:
                        data = ""
                    if len(data) > 20000:
                        data = "...[cut]...\n" + data[-20000:]
                    sys.stderr.write("[%s]\n%s\n" % (os.path.basename(path), data))
        if bad:
            self.fail("extra server exit code(s) on SIGTERM: %r (expected 0)" % bad)

    def extra_server(self, **kw):
        """A further server owned by this test (stopped, exit 0 checked, in tearDown)."""
        srv = Server(**kw)
        self._extra_servers.append(srv)
        return srv

    # ---- HTTP shortcuts ----------------------------------------------------------------

    def req(self, method, path, body=None, key=_DEFAULT, **kw):
        return self.server.req(method, path, body=body, key=key, **kw)

    def assertError(self, resp, status, code):
        """resp = (status, body, headers): the status and the error body
        {"error": code, "message": non-empty str, "details"?: object}."""
        st, body, hdrs = resp
        self.assertEqual(st, status, "expected %s %s, got %s: %r" % (status, code, st, body))
        self.assertIsInstance(body, dict, "error body is not a JSON object: %r" % (body,))
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"),
                        "error Content-Type: %r" % hdrs.get("content-type"))
        self.assertEqual(body.get("error"), code, "error body: %r" % (body,))
        self.assertIsInstance(body.get("message"), str, "error body: %r" % (body,))
        self.assertTrue(body["message"].strip(), "empty message: %r" % (body,))
        if "details" in body:
            self.assertIsInstance(body["details"], dict, "details: %r" % (body,))
        return body

    def assertOk(self, resp, status=200):
        st, body, _ = resp
        self.assertEqual(st, status, "expected %s, got %s: %r" % (status, st, body))
        return body

    def assertTimestamp(self, value):
        self.assertIsInstance(value, str)
        self.assertRegex(value, TS_RE)

    # ---- object helpers ----------------------------------------------------------------

    @staticmethod
    def base(pid, branch=None):
        return "/projects/%s" % pid if branch is None else "/projects/%s/branches/%s" % (pid, branch)

    def create_project(self, pid=None, name="Test project"):
        body = {"name": name}
        if pid is not None:
            body["id"] = pid
        p = self.assertOk(self.req("POST", "/projects", body), 201)
        return p["id"], p["api_key"]

    def create_bucket(self, pid, name=None, stage="in", branch=None, key=_DEFAULT):
        name = name or uniq("b")
        b = self.assertOk(self.req("POST", self.base(pid, branch) + "/buckets",
                                   {"stage": stage, "name": name}, key=key), 201)
        return b["id"]

    def create_table_json(self, pid, bucket_id, name, columns, primary_key=None, branch=None):
        body = {"name": name, "columns": [{"name": n, "type": t} for n, t in columns]}
        if primary_key is not None:
            body["primary_key"] = primary_key
        return self.assertOk(self.req("POST", "%s/buckets/%s/tables" % (self.base(pid, branch), bucket_id),
                                      body), 201)

    def create_table_csv(self, pid, bucket_id, name, csv, primary_key=None, branch=None):
        q = "?name=" + name + ("&primary_key=" + primary_key if primary_key else "")
        return self.assertOk(self.req("POST", "%s/buckets/%s/tables%s" % (self.base(pid, branch), bucket_id, q),
                                      raw=csv.encode() if isinstance(csv, str) else csv,
                                      content_type="text/csv"), 201)

    def import_csv(self, pid, table_id, csv, incremental=False, branch=None, expect=200):
        q = "?incremental=true" if incremental else ""
        resp = self.req("POST", "%s/tables/%s/import%s" % (self.base(pid, branch), table_id, q),
                        raw=csv.encode() if isinstance(csv, str) else csv, content_type="text/csv")
        if expect is None:
            return resp
        return self.assertOk(resp, expect)

    def table(self, pid, table_id, branch=None):
        return self.assertOk(self.req("GET", "%s/tables/%s" % (self.base(pid, branch), table_id)))

    def preview(self, pid, table_id, limit=None, branch=None):
        q = "" if limit is None else "?limit=%s" % limit
        return self.assertOk(self.req("GET", "%s/tables/%s/preview%s" % (self.base(pid, branch), table_id, q)))

    def rows(self, pid, table_id, branch=None):
        """All preview rows (limit 10000)."""
        return self.preview(pid, table_id, limit=10000, branch=branch)["rows"]


def main():
    unittest.main(verbosity=2)


def snapshot(root):
    """Every path under root (relative to it), for 'nothing was created' checks."""
    out = set()
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def table_dir(data_dir, pid, schema, branch=None):
    proj = "project_%s" % pid if branch is None else "project_%s_branch_%s" % (pid, branch)
    return os.path.join(data_dir, proj, schema)


def table_files(data_dir, pid, schema, table, branch=None):
    """Files of one table in its schema directory: {table}.duckdb, {table}.g{N}.duckdb and
    anything else starting with '{table}.' (wal, temp files)."""
    d = table_dir(data_dir, pid, schema, branch)
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.startswith(table + "."))
