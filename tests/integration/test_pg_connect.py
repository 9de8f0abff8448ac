"""PostgreSQL wire protocol: connecting (pgwire.md "Connecting").

Logins with psql, psycopg2, psycopg 3 and pgJDBC; TLS (sslmode=require and verify-full
with a test CA) and require_ssl; the uniform 28P01 for every authentication failure;
repeated failures; session limits (53300); the ParameterStatus set; malformed startup
packets; SSLRequest / GSSENCRequest answers.

Run: /usr/bin/python3 tests/integration/test_pg_connect.py [-v] [Class.test_name]"""

import os
import re
import socket
import struct

import psycopg2

import harness
from harness import uniq
from pghelpers import (Jdbc, PgTestCase, TlsPgTestCase, jdbc_url, parse_error_fields, read_message,
                       recv_exact, scram_login, simple_query, startup_packet)

SSL_REQUEST = struct.pack("!II", 8, 80877103)
GSSENC_REQUEST = struct.pack("!II", 8, 80877104)

JAVA_LOGIN = r"""
import java.sql.*;
import java.util.Properties;

public class PgLogin {
    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", a[1]);
        p.setProperty("password", a[2]);
        try (Connection c = DriverManager.getConnection(a[0], p)) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product=" + md.getDatabaseProductName());
            System.out.println("version=" + md.getDatabaseProductVersion());
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) AS n, sum(amount) AS s FROM in_c_sales.orders")) {
                rs.next();
                System.out.println("orders=" + rs.getLong(1) + "," + rs.getLong(2));
            }
            if (a.length > 3 && a[3].equals("show")) {
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SHOW application_name")) {
                    rs.next();
                    System.out.println("app=" + rs.getString(1));
                }
            }
        } catch (SQLException e) {
            System.out.println("sqlstate=" + e.getSQLState());
            System.out.println("message=" + e.getMessage());
            System.exit(3);
        }
    }
}
"""


def auth_message(user):
    return 'password authentication failed for user "%s"' % user


class PgLogin(PgTestCase):
    """Logins with every client on a plaintext server (no TLS configured)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jdbc = Jdbc("PgLogin", JAVA_LOGIN)

    @classmethod
    def tearDownClass(cls):
        cls.jdbc.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.sales_table()
        self.ws = self.make_ws()

    def test_psql_logs_in_and_reads_a_project_table(self):
        rc, out, err = self.psql(self.ws, "-A", "-t", sql="SELECT count(*), sum(amount) FROM in_c_sales.orders")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "10|550")

    def test_psycopg2_logs_in(self):
        conn = self.pg2(self.ws)
        self.assertEqual(self.q2(conn, "SELECT count(*), sum(amount) FROM in_c_sales.orders"), [(10, 550)])
        self.assertEqual(conn.server_version // 10000, 15, conn.server_version)
        self.assertNotEqual(conn.get_backend_pid(), 0)

    def test_psycopg3_logs_in(self):
        conn = self.pg3(self.ws)
        self.assertEqual(conn.execute("SELECT count(*), sum(amount) FROM in_c_sales.orders").fetchall(),
                         [(10, 550)])
        self.assertEqual(conn.info.server_version // 10000, 15, conn.info.server_version)
        self.assertNotEqual(conn.info.backend_pid, 0)

    def test_sqlalchemy_and_pandas_connect_write_and_read(self):
        """SQLAlchemy's first connect runs select pg_catalog.version(), current_schema()
        and SHOWs; pandas writes a DataFrame through it and reads a query back."""
        import pandas
        import sqlalchemy
        c = self.ws["connection"]
        url = sqlalchemy.engine.URL.create("postgresql+psycopg2", username=c["username"], password=c["password"],
                                           host="127.0.0.1", port=self.server.pg_port, database=c["database"],
                                           query={"sslmode": "disable"})
        engine = sqlalchemy.create_engine(url)
        self.addCleanup(engine.dispose)
        with engine.connect() as conn:
            self.assertEqual(engine.dialect.server_version_info[0], 15)
            self.assertEqual(conn.execute(sqlalchemy.text("SELECT sum(amount) FROM in_c_sales.orders")).scalar(), 550)
        frame = pandas.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c'd"], "score": [1.5, None, 3.25]})
        self.assertEqual(frame.to_sql("from_pandas", engine, index=False), 3)
        back = pandas.read_sql("SELECT id, name, score FROM from_pandas ORDER BY id", engine)
        self.assertEqual(back["id"].tolist(), [1, 2, 3])
        self.assertEqual(back["name"].tolist(), ["a", "b", "c'd"])
        self.assertEqual(back["score"].tolist()[0::2], [1.5, 3.25])
        self.assertTrue(pandas.isna(back["score"].tolist()[1]))
        self.assertIn("from_pandas", sqlalchemy.inspect(engine).get_table_names())
        with engine.connect() as conn:  # pg_catalog.<function>() as clients write it
            self.assertEqual(conn.execute(sqlalchemy.text(
                "SELECT pg_catalog.lower('AB'), \"pg_catalog\".upper('cd'), 'pg_catalog.version()'")).fetchone(),
                ("ab", "CD", "pg_catalog.version()"))

    def test_jdbc_logs_in(self):
        c = self.ws["connection"]
        rc, out, err = self.jdbc.run(jdbc_url(self.ws, self.server, sslmode="disable"),
                                     c["username"], c["password"])
        self.assertEqual(rc, 0, out + err)
        lines = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
        self.assertEqual(lines.get("product"), "PostgreSQL", out)
        self.assertTrue(lines.get("version", "").startswith("15."), out)
        self.assertEqual(lines.get("orders"), "10,550", out)

    def test_jdbc_show_application_name(self):
        """pgJDBC runs SHOW through the extended protocol (Parse/Bind/Describe/Execute)."""
        c = self.ws["connection"]
        rc, out, err = self.jdbc.run(jdbc_url(self.ws, self.server, sslmode="disable"),
                                     c["username"], c["password"], "show")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("app=PostgreSQL JDBC Driver", out)

    def test_jdbc_wrong_password_is_28P01(self):
        c = self.ws["connection"]
        rc, out, err = self.jdbc.run(jdbc_url(self.ws, self.server, sslmode="disable"),
                                     c["username"], c["password"] + "x")
        self.assertEqual(rc, 3, out + err)
        self.assertIn("sqlstate=28P01", out)
        self.assertIn(auth_message(c["username"]), out)

    def test_connection_string_from_the_create_response_works_with_host_replaced(self):
        cs = self.ws["connection"]["connection_string"]
        m = re.match(r"^postgresql://([^:@/]+):([^@/]+)@([^:/]+):(\d+)/([^?]+)\?sslmode=(\w+)$", cs)
        self.assertIsNotNone(m, cs)
        user, pw, _, port, db, mode = m.groups()
        self.assertEqual((int(port), mode), (self.server.pg_port, "disable"), cs)
        conn = psycopg2.connect(host="127.0.0.1", port=int(port), user=user, password=pw, dbname=db,
                                sslmode=mode, connect_timeout=10)
        try:
            conn.autocommit = True
            self.assertEqual(self.q2(conn, "SELECT 7"), [(7,)])
        finally:
            conn.close()

    def test_parameter_status_set(self):
        conn = self.pg3(self.ws, application_name="pg-it")
        ps = conn.info.parameter_status
        self.assertRegex(ps("server_version") or "", r"^15\.\d+ \(duckspace [^,]+, DuckDB [^)]+\)$")
        self.assertEqual(ps("server_encoding"), "UTF8")
        self.assertEqual(ps("client_encoding"), "UTF8")
        self.assertEqual(ps("DateStyle"), "ISO, MDY")
        self.assertEqual(ps("integer_datetimes"), "on")
        self.assertEqual(ps("standard_conforming_strings"), "on")
        self.assertEqual(ps("is_superuser"), "off")
        self.assertEqual(ps("IntervalStyle"), "postgres")
        self.assertTrue(ps("TimeZone"), "TimeZone not reported")
        self.assertEqual(ps("session_authorization"), self.ws["connection"]["username"])
        self.assertEqual(ps("application_name"), "pg-it")

    def test_parameter_status_resent_when_application_name_changes(self):
        conn = self.pg3(self.ws)
        conn.execute("SET application_name = 'renamed'")
        self.assertEqual(conn.info.parameter_status("application_name"), "renamed")
        conn.execute("SET TimeZone = 'Europe/Prague'")
        self.assertEqual(conn.info.parameter_status("TimeZone"), "Europe/Prague")

    def test_version_function_in_postgresql_form(self):
        conn = self.pg2(self.ws)
        v = self.scalar(conn, "SELECT version()")
        self.assertRegex(v, r"^PostgreSQL 15\.\d+\b")
        self.assertIn("duckspace", v)


class PgAuthFailures(PgTestCase):
    """Every authentication failure is 28P01 with the same message (raw SCRAM client)."""

    def setUp(self):
        super().setUp()
        self.ws = self.make_ws()
        self.c = self.ws["connection"]

    def login(self, user, database, password, srv=None):
        srv = srv or self.server
        return scram_login(srv.pg_port, user, database, password)

    def assertAuthFailed(self, user, database, password, srv=None):
        outcome, info, _ = self.login(user, database, password, srv=srv)
        self.assertEqual(outcome, "error", info)
        self.assertEqual((info.get("S"), info.get("C"), info.get("M")),
                         ("FATAL", "28P01", auth_message(user)), info)

    def scram(self, **tamper):
        return scram_login(self.server.pg_port, self.c["username"], self.c["database"], self.c["password"], **tamper)

    def test_malformed_client_first_messages_are_08P01(self):
        for first in (b"n,,n=,r=", b"n,,r=abc", b"n,a=admin,n=,r=abc", b"n,,n=,r=abc,m=must", b"n,,n=,r=a\x00b",
                      b"n,,n=,r=abc" + b"x" * 3000):
            with self.subTest(first=first[:40]):
                outcome, info, _ = self.scram(client_first=first)
                self.assertEqual((outcome, info.get("S"), info.get("C")), ("error", "FATAL", "08P01"), info)
        outcome, info, _ = self.scram(client_first=b"p=tls-server-end-point,,n=,r=abc")
        self.assertEqual((outcome, info.get("C")), ("error", "08P01"), info)
        self.assertIn("channel binding", info.get("M", ""))
        self.assertHealthy()

    def test_malformed_client_final_messages_are_08P01(self):
        for final in (lambda d: d.split(b",p=")[0],                   # no proof
                      lambda d: d + b",x=1",                          # something after the proof
                      lambda d: d.replace(b",p=", b",m=1,p="),        # a mandatory extension
                      lambda d: d[:-4] + b"!!!=",                     # a proof that is not base64
                      lambda d: b"r=" + d.split(b",r=", 1)[1]):       # no channel binding
            outcome, info, _ = self.scram(final=final)
            self.assertEqual((outcome, info.get("S"), info.get("C")), ("error", "FATAL", "08P01"), info)
        self.assertHealthy()

    def test_final_message_with_another_nonce_or_binding_is_28P01(self):
        for bare in (lambda b: b + "x",                               # our nonce with more after it
                     lambda b: b.replace(",r=", ",r=A", 1),           # another nonce
                     lambda b: b.replace("c=biws", "c=eSws", 1)):     # a binding for another gs2 header
            outcome, info, _ = self.scram(final_bare=bare)
            self.assertEqual((outcome, info.get("C"), info.get("M")),
                             ("error", "28P01", auth_message(self.c["username"])), info)

    def test_extensions_in_the_final_message_are_ignored(self):
        outcome, info, sock = self.scram(final_bare=lambda b: b + ",x=ext")
        self.assertEqual(outcome, "ok", info)
        sock.close()

    def test_correct_password_logs_in(self):
        outcome, info, sock = self.login(self.c["username"], self.c["database"], self.c["password"])
        self.assertEqual(outcome, "ok", info)
        msgs = simple_query(sock, "SELECT 1")
        sock.close()
        self.assertIn(b"D", [t for t, _ in msgs])

    def test_wrong_password(self):
        self.assertAuthFailed(self.c["username"], self.c["database"], self.c["password"][:-1] + "#")

    def test_unknown_user(self):
        self.assertAuthFailed("ws_0123456789ab_deadbeef", self.c["database"], self.c["password"])
        self.assertAuthFailed("postgres", self.c["database"], self.c["password"])

    def test_unknown_database(self):
        self.assertAuthFailed(self.c["username"], "workspace_ws_0123456789ab", self.c["password"])
        self.assertAuthFailed(self.c["username"], "postgres", self.c["password"])

    def test_other_workspaces_database(self):
        other = self.make_ws()
        # right user and password, other workspace's database
        self.assertAuthFailed(self.c["username"], other["connection"]["database"], self.c["password"])
        # other workspace in another project
        pid2, _ = self.create_project(uniq("p"))
        other2 = self.make_ws(pid=pid2)
        self.assertAuthFailed(self.c["username"], other2["connection"]["database"], self.c["password"])
        # the other workspace's own credentials still work
        outcome, info, sock = self.login(other["connection"]["username"], other["connection"]["database"],
                                         other["connection"]["password"])
        self.assertEqual(outcome, "ok", info)
        sock.close()

    def test_deleted_workspace(self):
        ws = self.make_ws()
        c = ws["connection"]
        outcome, info, sock = self.login(c["username"], c["database"], c["password"])  # known to the server now
        self.assertEqual(outcome, "ok", info)
        sock.close()
        st, body, _ = self.req("DELETE", self.ws_url(ws["id"]))
        self.assertEqual(st, 204, body)
        self.assertAuthFailed(c["username"], c["database"], c["password"])

    def test_old_password_after_credentials_reset(self):
        outcome, info, sock = self.login(self.c["username"], self.c["database"], self.c["password"])
        self.assertEqual(outcome, "ok", info)  # the old password worked, and its login is remembered
        sock.close()
        body = self.assertOk(self.req("POST", self.ws_url(self.ws["id"], "/credentials/reset")))
        new = body["connection"]["password"]
        self.assertNotEqual(new, self.c["password"])
        self.assertAuthFailed(self.c["username"], self.c["database"], self.c["password"])
        user = body["connection"]["username"]
        outcome, info, sock = self.login(user, body["connection"]["database"], new)
        self.assertEqual(outcome, "ok", info)
        sock.close()

    def test_no_cleartext_or_md5_offered(self):
        s = socket.create_connection(("127.0.0.1", self.server.pg_port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(startup_packet({"user": self.c["username"], "database": self.c["database"]}))
        t, payload = read_message(s)
        self.assertEqual(t, b"R")
        (code,) = struct.unpack("!I", payload[:4])
        self.assertEqual(code, 10, "expected AuthenticationSASL, got request %d" % code)
        self.assertIn(b"SCRAM-SHA-256", payload[4:].split(b"\0"))

    def test_psycopg2_sees_the_message(self):
        with self.assertRaises(psycopg2.OperationalError) as cm:
            psycopg2.connect(**self.dsn(self.ws, password="wrong"))
        self.assertIn(auth_message(self.c["username"]), str(cm.exception))

    def test_repeated_failures_still_answer_then_the_right_password_works(self):
        for i in range(8):
            with self.subTest(attempt=i):
                self.assertAuthFailed(self.c["username"], self.c["database"], "wrong%d" % i)
        # still answering (possibly slowed down): a correct login succeeds
        outcome, info, sock = self.login(self.c["username"], self.c["database"], self.c["password"])
        self.assertEqual(outcome, "ok", info)
        sock.close()
        self.assertHealthy()


class PgExpiredWorkspace(PgTestCase):
    """An expired workspace refuses logins with the same 28P01."""

    def test_expired_workspace_login_is_28P01(self):
        srv = self.extra_server()
        srv.start()
        self._mark_log(srv)
        pid = self.assertOk(srv.req("POST", "/projects", {"id": uniq("p"), "name": "x"}), 201)["id"]
        ws = self.make_ws(pid=pid, srv=srv, ttl_hours=1)
        c = ws["connection"]
        outcome, info, sock = scram_login(srv.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "ok", info)
        sock.close()
        self.assertEqual(srv.stop(), 0)
        srv.extra_args = ["--clock-offset", "3700", "--reaper-interval", "3600"]
        srv.start()
        outcome, info, _ = scram_login(srv.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "error", info)
        self.assertEqual((info.get("C"), info.get("M")), ("28P01", auth_message(c["username"])), info)


class PgTls(TlsPgTestCase):
    """A server with --tls-cert/--tls-key from a test CA."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jdbc = Jdbc("PgLogin", JAVA_LOGIN)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.jdbc.cleanup()
        finally:
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.sales_table()
        self.ws = self.make_ws()

    def test_ssl_request_answered_S(self):
        s = self.raw_socket()
        s.sendall(SSL_REQUEST)
        self.assertEqual(recv_exact(s, 1), b"S")

    def test_sslmode_require_psycopg2(self):
        conn = self.pg2(self.ws, sslmode="require")
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])
        self.assertEqual(conn.info.ssl_in_use, True)

    def test_sslmode_verify_full_psycopg3_with_the_ca(self):
        for host in ("127.0.0.1", "localhost"):
            with self.subTest(host=host):
                conn = self.pg3(self.ws, host=host, sslmode="verify-full", sslrootcert=self.certs["ca"])
                self.assertTrue(conn.info.pgconn.ssl_in_use)
                self.assertEqual(conn.execute("SELECT sum(amount) FROM in_c_sales.orders").fetchone(), (550,))
                conn.close()

    def test_sslmode_verify_full_psql(self):
        rc, out, err = self.psql(self.ws, "-A", "-t", sql="SELECT 40 + 2",
                                 sslmode="verify-full", sslrootcert=self.certs["ca"])
        self.assertEqual((rc, out.strip()), (0, "42"), err)

    def test_verify_full_with_another_ca_fails_on_the_client(self):
        with self.assertRaises(psycopg2.OperationalError):
            psycopg2.connect(**self.dsn(self.ws, sslmode="verify-full", sslrootcert=self.certs["other_ca"]))
        self.assertHealthy()
        conn = self.pg2(self.ws, sslmode="require")
        self.assertEqual(self.q2(conn, "SELECT 1"), [(1,)])

    def test_wrong_password_over_tls_is_28P01(self):
        with self.assertRaises(psycopg2.OperationalError) as cm:
            psycopg2.connect(**self.dsn(self.ws, sslmode="require", password="nope"))
        self.assertIn(auth_message(self.ws["connection"]["username"]), str(cm.exception))

    def test_plaintext_still_allowed_without_require_ssl(self):
        conn = self.pg2(self.ws, sslmode="disable")
        self.assertFalse(conn.info.ssl_in_use)
        self.assertEqual(self.q2(conn, "SELECT 1"), [(1,)])

    def test_jdbc_over_tls_verify_full(self):
        c = self.ws["connection"]
        url = jdbc_url(self.ws, self.server, sslmode="verify-full", sslrootcert=self.certs["ca"])
        url = url.replace("127.0.0.1", "localhost")
        rc, out, err = self.jdbc.run(url, c["username"], c["password"])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("orders=10,550", out)

    def test_require_ssl_refuses_plaintext_with_28000_and_accepts_tls(self):
        srv = self.extra_server(extra_args=["--tls-cert", self.certs["cert"], "--tls-key", self.certs["key"],
                                            "--require-ssl", "on"])
        srv.start()
        self._mark_log(srv)
        pid = self.assertOk(srv.req("POST", "/projects", {"id": uniq("p"), "name": "x"}), 201)["id"]
        ws = self.make_ws(pid=pid, srv=srv)
        c = ws["connection"]
        self.assertEqual(c.get("ssl_mode"), "require", c)
        self.assertIn("sslmode=require", c.get("connection_string", ""), c)
        # raw plaintext startup
        outcome, info, _ = scram_login(srv.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "error", info)
        self.assertEqual(info.get("C"), "28000", info)
        # libpq with sslmode=disable
        with self.assertRaises(psycopg2.OperationalError):
            psycopg2.connect(**self.dsn(ws, srv=srv, sslmode="disable"))
        # TLS works
        conn = self.pg2(ws, srv=srv, sslmode="require")
        self.assertTrue(conn.info.ssl_in_use)
        self.assertEqual(self.q2(conn, "SELECT 5"), [(5,)])
        conn3 = self.pg3(ws, srv=srv, host="localhost", sslmode="verify-full", sslrootcert=self.certs["ca"])
        self.assertEqual(conn3.execute("SELECT 6").fetchone(), (6,))
        # sslmode=prefer picks TLS
        conn4 = self.pg2(ws, srv=srv, sslmode="prefer")
        self.assertTrue(conn4.info.ssl_in_use)


class PgNoTls(PgTestCase):
    """A server without a certificate: SSLRequest and GSSENCRequest answered 'N'."""

    def setUp(self):
        super().setUp()
        self.ws = self.make_ws()
        self.c = self.ws["connection"]

    def test_ssl_request_answered_N_then_plaintext_login(self):
        s = self.raw_socket()
        s.sendall(SSL_REQUEST)
        self.assertEqual(recv_exact(s, 1), b"N")
        outcome, info, sock = scram_login(None, self.c["username"], self.c["database"], self.c["password"], sock=s)
        self.assertEqual(outcome, "ok", info)

    def test_gssenc_request_answered_N_then_login(self):
        s = self.raw_socket()
        s.sendall(GSSENC_REQUEST)
        self.assertEqual(recv_exact(s, 1), b"N")
        outcome, info, sock = scram_login(None, self.c["username"], self.c["database"], self.c["password"], sock=s)
        self.assertEqual(outcome, "ok", info)
        msgs = simple_query(sock, "SELECT 3")
        self.assertIn((b"C", b"SELECT 1\0"), msgs)

    def test_gssenc_then_ssl_request_both_N(self):
        s = self.raw_socket()
        s.sendall(GSSENC_REQUEST)
        self.assertEqual(recv_exact(s, 1), b"N")
        s.sendall(SSL_REQUEST)
        self.assertEqual(recv_exact(s, 1), b"N")
        outcome, info, sock = scram_login(None, self.c["username"], self.c["database"], self.c["password"], sock=s)
        self.assertEqual(outcome, "ok", info)

    def test_libpq_gssencmode_prefer_and_sslmode_prefer_work(self):
        conn = self.pg2(self.ws, sslmode="prefer", gssencmode="prefer")
        self.assertFalse(conn.info.ssl_in_use)
        self.assertEqual(self.q2(conn, "SELECT 1"), [(1,)])

    def test_sslmode_require_fails_without_a_certificate(self):
        with self.assertRaises(psycopg2.OperationalError):
            psycopg2.connect(**self.dsn(self.ws, sslmode="require"))
        self.assertHealthy()


class PgMalformedStartup(PgTestCase):
    """Malformed startup packets get an error (or a closed connection), never a crash or a
    hang, and the server keeps serving."""

    def setUp(self):
        super().setUp()
        self.ws = self.make_ws()
        self.c = self.ws["connection"]

    def tearDown(self):
        try:
            self.assertHealthy()
            outcome, info, sock = scram_login(self.server.pg_port, self.c["username"], self.c["database"],
                                              self.c["password"])
            self.assertEqual(outcome, "ok", info)
            sock.close()
        finally:
            super().tearDown()

    def response(self, data, shut=False):
        """Sends data; returns ('E', fields), ('closed', None) or (type, payload) of the first reply."""
        s = self.raw_socket(timeout=10)
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        try:
            t, payload = read_message(s)
        except (EOFError, ConnectionError):
            return "closed", None
        except socket.timeout:
            return "timeout", None
        if t == b"E":
            return "E", parse_error_fields(payload)
        return t, payload

    def assertRefused(self, data, shut=False):
        kind, info = self.response(data, shut)
        self.assertIn(kind, ("E", "closed"), "reply to %r: %r %r" % (data[:40], kind, info))
        if kind == "E":
            self.assertEqual(info.get("S"), "FATAL", info)
            self.assertRegex(info.get("C", ""), r"^[0-9A-Z]{5}$", info)
        return kind, info

    def test_newer_minor_version_gets_negotiate_protocol_version(self):
        """Protocol 3.99 (a newer minor): as PostgreSQL, NegotiateProtocolVersion ('v')
        naming 3.0 and the unrecognized _pq_ options, then authentication goes on."""
        s = self.raw_socket()
        s.sendall(startup_packet({"user": self.c["username"], "database": self.c["database"],
                                  "_pq_.future_option": "x"}, version=(3 << 16) | 99))
        t, payload = read_message(s)
        self.assertEqual(t, b"v", (t, payload))
        newest, n = struct.unpack("!II", payload[:8])
        self.assertEqual((newest, n), ((3 << 16) | 0, 1), payload)
        self.assertEqual(payload[8:], b"_pq_.future_option\0")
        t, payload = read_message(s)
        self.assertEqual(t, b"R", (t, payload))

    def test_length_too_small(self):
        self.assertRefused(struct.pack("!I", 4) + struct.pack("!I", 196608))

    def test_length_zero(self):
        self.assertRefused(b"\0\0\0\0")

    def test_length_huge_is_refused_not_awaited(self):
        self.assertRefused(struct.pack("!II", 0x7FFFFFFF, 196608) + b"user\0x\0\0")

    def test_length_larger_than_the_data_then_eof(self):
        self.assertRefused(struct.pack("!II", 100, 196608) + b"user\0x\0", shut=True)

    def test_unsupported_protocol_version_is_0A000(self):
        """As PostgreSQL: FATAL 0A000 feature_not_supported "unsupported frontend protocol"."""
        for version in ((9 << 16) | 9, 2 << 16, 0):
            with self.subTest(version="%d.%d" % (version >> 16, version & 0xFFFF)):
                kind, info = self.response(startup_packet({"user": self.c["username"],
                                                           "database": self.c["database"]}, version=version))
                self.assertEqual(kind, "E", info)
                self.assertEqual((info.get("S"), info.get("C")), ("FATAL", "0A000"), info)

    def test_http_request_on_the_pg_port(self):
        self.assertRefused(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", shut=True)

    def test_garbage_bytes(self):
        self.assertRefused(os.urandom(3000), shut=True)

    def test_parameters_not_terminated(self):
        body = struct.pack("!I", 196608) + b"user\0abc"  # no terminating NULs
        self.assertRefused(struct.pack("!I", len(body) + 4) + body, shut=True)

    def test_no_user(self):
        kind, info = self.assertRefused(startup_packet({"database": self.c["database"]}))
        self.assertEqual(kind, "E", info)

    def test_cancel_request_with_unknown_key(self):
        s = self.raw_socket()
        s.sendall(struct.pack("!IIII", 16, 80877102, 12345, 67890))
        s.settimeout(10)
        try:
            self.assertEqual(s.recv(10), b"")
        except ConnectionError:
            pass

    def test_message_before_authentication_finishes(self):
        # a Query instead of the SASL response
        s = self.raw_socket()
        s.sendall(startup_packet({"user": self.c["username"], "database": self.c["database"]}))
        t, _ = read_message(s)
        self.assertEqual(t, b"R")
        s.sendall(b"Q" + struct.pack("!I", 13) + b"SELECT 1;\0")
        try:
            t, payload = read_message(s)
        except (EOFError, ConnectionError):
            return
        self.assertEqual(t, b"E")
        self.assertNotEqual(parse_error_fields(payload).get("C"), None)

    def test_many_half_open_connections(self):
        # from other client addresses: one address has only startup_connections_per_address
        # logins in progress at once (the ones past it are refused with 53300)
        socks = []
        for i in range(30):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.addCleanup(s.close)
            s.settimeout(10)
            s.bind(("127.0.0.%d" % (2 + i % 3), 0))
            s.connect(("127.0.0.1", self.server.pg_port))
            try:
                s.sendall(b"\0\0")
            except ConnectionError:
                pass
            socks.append(s)
        # the half-open ones wait for their length; a whole login still goes through meanwhile
        c = self.ws["connection"]
        outcome, info, sock = scram_login(self.server.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "ok", info)
        sock.close()
        for s in socks:
            s.close()
        self.assertHealthy()


class PgSessionLimits(PgTestCase):
    """--sessions-per-workspace 3 --max-sessions 5 -> 53300 too_many_connections."""

    server_args = ["--sessions-per-workspace", "3", "--max-sessions", "5"]

    def login(self, ws):
        c = ws["connection"]
        outcome, info, sock = scram_login(self.server.pg_port, c["username"], c["database"], c["password"])
        if sock is not None:
            self.addCleanup(sock.close)
        return outcome, info, sock

    def assertTooMany(self, ws):
        outcome, info, _ = self.login(ws)
        self.assertEqual(outcome, "error", info)
        self.assertEqual(info.get("C"), "53300", info)
        self.assertTrue(info.get("M"), info)

    def test_per_workspace_limit(self):
        ws = self.make_ws()
        socks = []
        for _ in range(3):
            outcome, info, sock = self.login(ws)
            self.assertEqual(outcome, "ok", info)
            socks.append(sock)
        self.assertTooMany(ws)
        # psycopg2 sees it too
        with self.assertRaises(psycopg2.OperationalError) as cm:
            psycopg2.connect(**self.dsn(ws))
        self.assertIn("too many", str(cm.exception).lower())
        # another workspace is unaffected
        other = self.make_ws()
        outcome, info, s2 = self.login(other)
        self.assertEqual(outcome, "ok", info)
        s2.close()
        # closing one frees a slot
        socks.pop().close()
        self.assertEqual(self.wait_active_sessions(ws["id"], 2), 2)
        outcome, info, sock = self.login(ws)
        self.assertEqual(outcome, "ok", info)
        for s in socks + [sock]:
            s.close()
        self.assertEqual(self.wait_active_sessions(ws["id"], 0), 0)

    def test_total_limit(self):
        a, b, c = self.make_ws(), self.make_ws(), self.make_ws()
        socks = []
        for ws in (a, a, a, b, b):
            outcome, info, sock = self.login(ws)
            self.assertEqual(outcome, "ok", info)
            socks.append(sock)
        self.assertTooMany(c)
        self.assertTooMany(b)
        socks.pop().close()
        self.assertEqual(self.wait_active_sessions(b["id"], 1), 1)
        outcome, info, sock = self.login(c)
        self.assertEqual(outcome, "ok", info)
        for s in socks + [sock]:
            s.close()
        for ws in (a, b, c):
            self.assertEqual(self.wait_active_sessions(ws["id"], 0), 0)

    def test_failed_logins_do_not_use_up_slots(self):
        ws = self.make_ws()
        c = ws["connection"]
        for _ in range(6):
            outcome, info, _ = scram_login(self.server.pg_port, c["username"], c["database"], "wrong")
            self.assertEqual(info.get("C") if outcome == "error" else outcome, "28P01", info)
        socks = []
        for _ in range(3):
            outcome, info, sock = self.login(ws)
            self.assertEqual(outcome, "ok", info)
            socks.append(sock)
        for s in socks:
            s.close()


if __name__ == "__main__":
    harness.main()
