"""Helpers for the PostgreSQL wire-protocol integration tests (test_pg_*.py): workspaces
with connection settings, psycopg2 / psycopg 3 / psql / pgJDBC clients, a test CA with a
server certificate, raw protocol messages, and the server process's RSS and open files.

Clients: /usr/bin/python3 with psycopg2 and psycopg (3), psql (postgresql-client), Java 17
with /usr/share/java/postgresql.jar (pgJDBC), the openssl CLI."""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import psycopg
import psycopg2
import psycopg2.errors  # noqa: F401  (psycopg2.errors.lookup)
import psycopg2.extensions

from harness import uniq
from wshelpers import WsTestCase

PGJDBC = os.environ.get("PGJDBC_JAR", "/usr/share/java/postgresql.jar")
PSQL = shutil.which("psql") or "/usr/bin/psql"
JAVAC = shutil.which("javac") or "/usr/bin/javac"
JAVA = shutil.which("java") or "/usr/bin/java"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

CONNECT_TIMEOUT = 10


def wait_until(fn, timeout=15.0, interval=0.1):
    """Polls fn() until it returns a true value (returned) or timeout (returns the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


# ---- server process --------------------------------------------------------------------

def proc_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for %d" % pid)


def proc_fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# ---- TLS material ------------------------------------------------------------------------

def make_test_ca(d):
    """A CA and a server certificate for 127.0.0.1 / localhost in directory d.
    Returns dict(ca=..., cert=..., key=..., other_ca=...) (other_ca: a CA that did not sign it)."""
    def run(*args):
        p = subprocess.run([OPENSSL] + list(args), cwd=d, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], p.stderr.decode("utf-8", "replace")))
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=duckspace test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other CA",
        "-keyout", "other.key", "-out", "other.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "ext.cnf", "-out", "server.crt")
    os.chmod(os.path.join(d, "server.key"), 0o600)
    return {"ca": os.path.join(d, "ca.crt"), "cert": os.path.join(d, "server.crt"),
            "key": os.path.join(d, "server.key"), "other_ca": os.path.join(d, "other.crt")}


# ---- raw protocol --------------------------------------------------------------------------

def startup_packet(params, version=196608):
    body = struct.pack("!I", version)
    for k, v in params.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def read_message(sock):
    """(type byte, payload) of one backend message."""
    t = recv_exact(sock, 1)
    (n,) = struct.unpack("!I", recv_exact(sock, 4))
    return t, recv_exact(sock, n - 4)


def parse_error_fields(payload):
    """ErrorResponse / NoticeResponse payload -> {field char: value}."""
    out = {}
    for part in payload.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return out


def scram_login(port, user, database, password, extra_params=None, timeout=15.0, sock=None, client_first=None,
                final_bare=None, final=None):
    """Logs in with a hand-written SCRAM-SHA-256 client over a raw socket.

    To send malformed exchanges: client_first (bytes) replaces the client-first-message;
    final_bare(text) changes client-final-message-without-proof before the proof is
    computed; final(bytes) changes the whole client-final-message as sent.

    Returns (outcome, info, sock): outcome "ok" (info: {"params": ParameterStatus dict,
    "key": (pid, secret)}, sock open and ready for queries) or "error" (info: the
    ErrorResponse fields; sock closed) or "closed" (the server closed the connection
    without an ErrorResponse; info: the messages seen)."""
    import base64
    import hashlib
    import hmac
    import secrets as _secrets
    if sock is None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    params = {"user": user, "database": database}
    params.update(extra_params or {})
    seen = []
    try:
        sock.sendall(startup_packet(params))
        cnonce = base64.b64encode(_secrets.token_bytes(18)).decode()
        cfirst_bare = "n=,r=" + cnonce
        sfirst = None
        auth_message = None
        salted = None
        info = {"params": {}, "key": None}
        while True:
            t, payload = read_message(sock)
            seen.append((t, payload))
            if t == b"E":
                sock.close()
                return "error", parse_error_fields(payload), None
            if t == b"R":
                (code,) = struct.unpack("!I", payload[:4])
                if code == 0:
                    continue
                if code == 10:  # AuthenticationSASL
                    mechs = [m for m in payload[4:].split(b"\0") if m]
                    if b"SCRAM-SHA-256" not in mechs:
                        raise AssertionError("no SCRAM-SHA-256 in %r" % mechs)
                    data = client_first if client_first is not None else ("n,," + cfirst_bare).encode()
                    body = b"SCRAM-SHA-256\0" + struct.pack("!I", len(data)) + data
                    sock.sendall(b"p" + struct.pack("!I", len(body) + 4) + body)
                elif code == 11:  # AuthenticationSASLContinue
                    sfirst = payload[4:].decode()
                    attrs = dict(kv.split("=", 1) for kv in sfirst.split(","))
                    salt = base64.b64decode(attrs["s"])
                    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(attrs["i"]))
                    cfinal_bare = "c=biws,r=" + attrs["r"]
                    if final_bare:
                        cfinal_bare = final_bare(cfinal_bare)
                    auth_message = ",".join((cfirst_bare, sfirst, cfinal_bare)).encode()
                    ckey = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
                    skey = hashlib.sha256(ckey).digest()
                    sig = hmac.new(skey, auth_message, hashlib.sha256).digest()
                    proof = bytes(a ^ b for a, b in zip(ckey, sig))
                    data = (cfinal_bare + ",p=" + base64.b64encode(proof).decode()).encode()
                    if final:
                        data = final(data)
                    sock.sendall(b"p" + struct.pack("!I", len(data) + 4) + data)
                elif code == 12:  # AuthenticationSASLFinal
                    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
                    want = base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest())
                    if payload[4:] != b"v=" + want:
                        raise AssertionError("bad server signature %r" % payload[4:])
                else:
                    raise AssertionError("unexpected authentication request %d" % code)
            elif t == b"S":
                k, v = payload[:-1].split(b"\0", 1)
                info["params"][k.decode()] = v.decode()
            elif t == b"K":
                info["key"] = struct.unpack("!II", payload[:8])
            elif t == b"Z":
                return "ok", info, sock
    except (EOFError, ConnectionError, socket.timeout) as e:
        sock.close()
        return "closed", {"seen": seen, "error": repr(e)}, None


def read_until_error_or_eof(sock):
    """Reads backend messages until an ErrorResponse (returns its fields) or EOF, a reset
    or the socket's timeout (None)."""
    while True:
        try:
            t, payload = read_message(sock)
        except (EOFError, OSError):
            return None
        if t == b"E":
            return parse_error_fields(payload)


def simple_query(sock, sql):
    """Sends one Query message; returns the messages up to ReadyForQuery."""
    data = sql.encode() + b"\0"
    sock.sendall(b"Q" + struct.pack("!I", len(data) + 4) + data)
    return read_to_ready(sock)


def pg_msg(t, body):
    """A frontend message: type byte, length, body."""
    return t + struct.pack("!I", len(body) + 4) + body


def read_to_ready(sock):
    """The messages up to and including ReadyForQuery, as (type, payload)."""
    out = []
    while True:
        t, payload = read_message(sock)
        out.append((t, payload))
        if t == b"Z":
            return out


# ---- test case -----------------------------------------------------------------------------

class PgTestCase(WsTestCase):
    """WsTestCase with PostgreSQL clients for a workspace's connection."""

    # ---- workspaces ------------------------------------------------------------------------

    def make_ws(self, pid=None, srv=None, **fields):
        return self.create_ws(pid=pid, srv=srv, **fields)

    def dsn(self, ws, srv=None, **over):
        """libpq keyword dict for a workspace (create response with the password)."""
        srv = srv or self.server
        c = ws["connection"]
        d = {"host": "127.0.0.1", "port": srv.pg_port, "dbname": c["database"], "user": c["username"],
             "password": c["password"], "sslmode": "disable", "connect_timeout": CONNECT_TIMEOUT}
        d.update(over)
        return d

    def pg2(self, ws, srv=None, autocommit=True, **over):
        conn = psycopg2.connect(**self.dsn(ws, srv, **over))
        conn.autocommit = autocommit
        self.addCleanup(_close_quietly, conn)
        return conn

    def pg3(self, ws, srv=None, autocommit=True, **over):
        conn = psycopg.connect(autocommit=autocommit, **self.dsn(ws, srv, **over))
        self.addCleanup(_close_quietly, conn)
        return conn

    def q2(self, conn, sql, args=None):
        """Runs sql on a psycopg2 connection, returns all rows (or None without a result)."""
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description is not None else None

    def scalar(self, conn, sql, args=None):
        rows = self.q2(conn, sql, args)
        self.assertEqual(len(rows), 1, rows)
        return rows[0][0]

    def assertPgError(self, sqlstate, fn, *args, **kw):
        """fn(*args) raises a psycopg2 / psycopg error with that SQLSTATE; returns the error."""
        try:
            fn(*args, **kw)
        except (psycopg2.Error, psycopg.Error) as e:
            got = getattr(e, "pgcode", None) if isinstance(e, psycopg2.Error) else e.sqlstate
            self.assertEqual(got, sqlstate, "expected SQLSTATE %s, got %s: %s" % (sqlstate, got, e))
            return e
        self.fail("expected SQLSTATE %s, no error" % sqlstate)

    def assertSqlError(self, conn, sql, sqlstate):
        """sql on a psycopg2 connection fails with sqlstate."""
        return self.assertPgError(sqlstate, self.q2, conn, sql)

    # ---- psql ------------------------------------------------------------------------------

    def psql(self, ws, *args, srv=None, sql=None, timeout=60, **over):
        """Runs psql (-X, no password prompt) against the workspace; returns (rc, stdout, stderr)."""
        d = self.dsn(ws, srv, **over)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGPASSWORD"] = d.pop("password")
        env["PGCONNECT_TIMEOUT"] = str(d.pop("connect_timeout"))
        conninfo = " ".join("%s=%s" % (k, v) for k, v in d.items())
        cmd = [PSQL, "-X", "-w", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-d", conninfo]
        cmd += list(args)
        if sql is not None:
            cmd += ["-c", sql]
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    # ---- REST ------------------------------------------------------------------------------

    def sessions(self, ws_id, pid=None, srv=None):
        srv = srv or self.server
        body = self.assertOk(srv.req("GET", self.ws_url(ws_id, "/sessions", pid=pid)))
        self.assertIsInstance(body.get("sessions"), list, body)
        return body["sessions"]

    def active_sessions(self, ws_id, pid=None, srv=None):
        return self.detail(ws_id, pid=pid, srv=srv)["active_sessions"]

    def wait_active_sessions(self, ws_id, n, pid=None, srv=None, timeout=15.0):
        got = wait_until(lambda: self.active_sessions(ws_id, pid=pid, srv=srv) == n, timeout)
        return self.active_sessions(ws_id, pid=pid, srv=srv) if not got else n

    # ---- raw sockets -----------------------------------------------------------------------

    def raw_socket(self, srv=None, timeout=10.0):
        srv = srv or self.server
        s = socket.create_connection(("127.0.0.1", srv.pg_port), timeout=timeout)
        self.addCleanup(s.close)
        return s

    def assertHealthy(self, srv=None):
        srv = srv or self.server
        self.assertIsNone(srv.proc.poll(), "server process exited:\n" + srv.log_tail())
        st, body, _ = srv.req("GET", "/health", key=None, timeout=10)
        self.assertEqual((st, body.get("status") if isinstance(body, dict) else body), (200, "ok"))


class TlsPgTestCase(PgTestCase):
    """PgTestCase whose server has --tls-cert/--tls-key from a fresh test CA (self.certs)."""

    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="duckspace-tls-")
        cls.certs = make_test_ca(cls.certdir)
        cls.server_args = ["--tls-cert", cls.certs["cert"], "--tls-key", cls.certs["key"]]
        try:
            super().setUpClass()
        except Exception:
            shutil.rmtree(cls.certdir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.certdir, ignore_errors=True)


def _close_quietly(conn):
    try:
        conn.close()
    except Exception:
        pass


# ---- pgJDBC ------------------------------------------------------------------------------

class Jdbc:
    """Compiles a Java source (class `name`) once into a temp dir and runs it with pgJDBC."""

    _lock = threading.Lock()

    def __init__(self, name, source):
        self.name = name
        self.source = source
        self.dir = None

    def compile(self):
        with self._lock:
            if self.dir is None:
                d = tempfile.mkdtemp(prefix="duckspace-jdbc-")
                with open(os.path.join(d, self.name + ".java"), "w") as f:
                    f.write(self.source)
                p = subprocess.run([JAVAC, "-cp", PGJDBC, "-d", d, os.path.join(d, self.name + ".java")],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
                if p.returncode != 0:
                    raise RuntimeError("javac failed:\n" + p.stderr.decode("utf-8", "replace"))
                self.dir = d
        return self.dir

    def run(self, *args, timeout=120):
        d = self.compile()
        p = subprocess.run([JAVA, "-cp", d + os.pathsep + PGJDBC, self.name] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def cleanup(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def jdbc_url(ws, srv, **props):
    c = ws["connection"]
    q = "&".join("%s=%s" % kv for kv in props.items())
    return "jdbc:postgresql://127.0.0.1:%d/%s%s" % (srv.pg_port, c["database"], "?" + q if q else "")


__all__ = ["PgTestCase", "Jdbc", "jdbc_url", "make_test_ca", "startup_packet", "read_message",
           "recv_exact", "parse_error_fields", "scram_login", "simple_query", "proc_rss_kb", "proc_fd_count", "wait_until", "uniq"]
