"""COPY FROM STDIN and COPY TO STDOUT with real clients at their default settings: psql
\\copy, psycopg 2 copy_expert, psycopg 3 cursor.copy (text and binary, both directions),
asyncpg copy_records_to_table / copy_from_query, pgJDBC CopyManager. Where output is
compared, the same statements run on a real PostgreSQL 15 (pgref.py) shaped like the
workspace (compat_shape.py), and the expected bytes are PostgreSQL's.

Also: atomicity (CopyFail, a malformed row mid-stream), PostgreSQL's errors with their
CONTEXT line, 25006 for a project table, 42501 for files and PROGRAM (also a query that
reads a file), cancel of a running COPY TO, and server memory staying flat during a big
COPY in each direction.

Run: /usr/bin/python3 tests/integration/test_pg_copy.py [-v] [Class.test_name]"""

import asyncio
import io
import os
import subprocess
import tempfile
import threading
import time
import unittest

import asyncpg
import psycopg
import psycopg2

import harness
from compat_shape import shape_postgres, shape_workspace
import struct

from pghelpers import JAVA, JAVAC, PGJDBC, PSQL, PgTestCase, parse_error_fields, proc_rss_kb, read_message, scram_login
from pgref import PgReference

TYPED_DDL = ("CREATE TABLE typed (i int, b bigint, t text, f double precision, d date, ok boolean, "
             "n numeric(12,2), ts timestamp, bin bytea)")
TYPED_CSV = ('i,b,t,f,d,ok,n,ts,bin\n'
             '1,10000000000,plain,1.5,2024-01-02,t,12.34,2024-01-02 03:04:05,\\x4142\n'
             '2,,"with, comma and ""quotes""",-0.25,1999-12-31,false,-0.5,2000-01-01 00:00:00,\n'
             '3,3,"multi\nline",,2024-02-29,yes,0,,\\x\n'
             ',4,"",1e10,,off,1,1970-01-01 00:00:01,\\x00ff\n')
TEXT_ROWS = 'a\\tb\t1\nback\\\\slash\t\\N\nnew\\nline\t3\n\\N\t4\n'


class CopyChecks:
    """Run against self.target (a compat_shape Target): PostgreSQL or a workspace."""

    def conn(self):
        c = self.target.connect()
        self.addCleanup(c.close)
        return c

    def fresh(self, conn, name, ddl):
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS %s" % name)
            cur.execute(ddl)

    def copy_out(self, conn, sql):
        buf = io.StringIO()
        with conn.cursor() as cur:
            cur.copy_expert(sql, buf)
        return buf.getvalue()

    # ---- psycopg 2 copy_expert ----

    def test_copy_expert_csv_round_trip(self):
        c = self.conn()
        self.fresh(c, "typed_a", TYPED_DDL.replace("typed", "typed_a"))
        with c.cursor() as cur:
            cur.copy_expert("COPY typed_a FROM STDIN WITH (FORMAT csv, HEADER true)", io.StringIO(TYPED_CSV))
            self.assertEqual(cur.rowcount, 4)
        out = self.copy_out(c, "COPY typed_a TO STDOUT WITH (FORMAT csv, HEADER)")
        self.record("csv_round_trip", out)
        out = self.copy_out(c, "COPY (SELECT i, t, bin FROM typed_a ORDER BY i NULLS LAST) TO STDOUT")
        self.record("text_of_query", out)

    def test_copy_expert_text_escapes(self):
        c = self.conn()
        self.fresh(c, "esc", "CREATE TABLE esc (s text, n int)")
        with c.cursor() as cur:
            cur.copy_expert("COPY esc FROM STDIN", io.StringIO(TEXT_ROWS + "\\.\n"))
        self.record("text_escapes", self.copy_out(c, "COPY esc TO STDOUT"))
        self.record("text_escapes_csv", self.copy_out(c, "COPY esc TO STDOUT (FORMAT csv, FORCE_QUOTE *, NULL 'nil')"))
        self.record("octal_hex", self.copy_out(c, "COPY (SELECT s FROM esc WHERE n = 1) TO STDOUT (DELIMITER '|')"))

    def test_postgres_input_syntax_text_and_binary(self):
        """Values whose text DuckDB's own cast reads differently: PostgreSQL's syntax wins."""
        c = self.conn()
        self.fresh(c, "pgsyn", "CREATE TABLE pgsyn (k int, ok boolean, bin bytea, arr int[], iv interval, "
                               "d date, ts timestamp, tz timestamptz, u uuid)")
        data = ("1\tyes\t\\\\x4142\t{1,2,NULL}\t1 day 02:03:04\tinfinity\t-infinity\t2024-01-02 03:04:05+02\t"
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\n"
                "2\toff\tab\\\\000c\t{}\tP1Y2M3DT4H5M6S\t2024-02-29\t2024-02-29 12:00:00\t2024-02-29 12:00:00\t\\N\n"
                "3\tT\t\\N\t{-3}\t-1 mons +2 days\tepoch\t2000-01-01 00:00:00.123456\tinfinity\t\\N\n")
        with c.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'")
            cur.copy_expert("COPY pgsyn FROM STDIN", io.StringIO(data))
            self.record("pg_syntax_text", self.copy_out(c, "COPY (SELECT * FROM pgsyn ORDER BY k) TO STDOUT"))
            self.record("pg_syntax_csv", self.copy_out(c, "COPY pgsyn TO STDOUT (FORMAT csv, HEADER)"))
            # binary out and back in: the same rows
            bin_out = io.BytesIO()
            cur.copy_expert("COPY (SELECT * FROM pgsyn ORDER BY k) TO STDOUT (FORMAT binary)", bin_out)
            cur.execute("CREATE TEMP TABLE pgsyn2 AS SELECT * FROM pgsyn LIMIT 0")
            bin_out.seek(0)
            cur.copy_expert("COPY pgsyn2 FROM STDIN (FORMAT binary)", bin_out)
            self.record("pg_syntax_binary_round_trip",
                        self.copy_out(c, "COPY (SELECT * FROM pgsyn2 ORDER BY k) TO STDOUT"))

    def test_names_qualified_with_the_database_and_schema(self):
        c = self.conn()
        self.fresh(c, "qual", "CREATE TABLE qual (a int)")
        db = self.target.dbname
        with c.cursor() as cur:
            cur.copy_expert('COPY "%s".public.qual FROM STDIN' % db, io.StringIO("1\n"))
            cur.copy_expert("COPY public.qual (a) FROM STDIN", io.StringIO("2\n"))
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY otherdb.public.qual FROM STDIN", io.StringIO("3\n"))
            self.assertEqual(cm.exception.pgcode, "0A000")
        self.record("qualified", self.copy_out(c, 'COPY "%s".public.qual TO STDOUT' % db))

    def test_old_syntax_and_options(self):
        c = self.conn()
        self.fresh(c, "opt", "CREATE TABLE opt (a int, b text, c text)")
        with c.cursor() as cur:
            cur.copy_expert("COPY opt (a, b) FROM STDIN WITH CSV HEADER DELIMITER ';' NULL 'NULL'",
                            io.StringIO("a;b\n1;x\n2;NULL\n3;\"NULL\"\n"))
            cur.copy_expert("COPY opt (a, c, b) FROM STDIN (FORMAT csv, FORCE_NULL (c), FORCE_NOT_NULL (b))",
                            io.StringIO('4,"",\n5,x,y\n'))
            cur.copy_expert("COPY opt FROM STDIN (FORMAT csv, HEADER match)", io.StringIO("a,b,c\n6,m,n\n"))
        self.record("options", self.copy_out(c, "COPY (SELECT a, b, c, b IS NULL, c IS NULL FROM opt ORDER BY a) "
                                                "TO STDOUT WITH CSV"))

    def test_errors_have_postgres_sqlstate_and_context(self):
        c = self.conn()
        self.fresh(c, "errs", "CREATE TABLE errs (a int, b text)")
        cases = [
            ("COPY errs FROM STDIN", "1\tx\n2\tx\tz\n", "22P04"),
            ("COPY errs FROM STDIN", "1\tx\n2\n", "22P04"),
            ("COPY errs FROM STDIN (FORMAT csv)", "1,x\nabc,y\n", "22P02"),
            ("COPY errs FROM STDIN (FORMAT csv, HEADER match)", "a,c\n1,x\n", "22P04"),
            ("COPY errs FROM STDIN (FORMAT csv)", '1,"x\n', "22P04"),
            ("COPY nosuch FROM STDIN", "", "42P01"),
            ("COPY errs (a, nosuch) FROM STDIN", "", "42703"),
            ("COPY errs FROM STDIN (FORMAT xml)", "", "22023"),
            ("COPY errs FROM STDIN (FORMAT binary, HEADER)", "", "0A000"),
            ("COPY errs FROM STDIN (FORMAT binary, DELIMITER ',')", "", "42601"),
        ]
        got = []
        for sql, data, state in cases:
            with c.cursor() as cur:
                try:
                    cur.copy_expert(sql, io.StringIO(data))
                    got.append((sql, "no error"))
                except psycopg2.Error as e:
                    got.append((sql, e.pgcode, e.diag.context))
                    self.assertEqual(e.pgcode, state, (sql, e))
        self.assertEqual(self.count(c, "errs"), 0)
        self.record("errors", got)

    def test_constraint_violations_fail_the_copy_and_leave_nothing(self):
        c = self.conn()
        self.fresh(c, "cons", "CREATE TABLE cons (a int PRIMARY KEY, b text NOT NULL)")
        many = "".join("%d\tx\n" % i for i in range(1, 300001))
        for data, state in [("1\tx\n1\ty\n", "23505"), ("1\t\\N\n", "23502"),
                            (many + "5\tdup\n" + "".join("%d\tx\n" % i for i in range(400000, 700000)), "23505")]:
            with c.cursor() as cur:
                with self.assertRaises(psycopg2.Error) as cm:
                    cur.copy_expert("COPY cons FROM STDIN", io.StringIO(data))
                self.assertEqual(cm.exception.pgcode, state)
                self.assertTrue(cm.exception.diag.context.startswith("COPY cons"), cm.exception.diag.context)
            self.assertEqual(self.count(c, "cons"), 0)

    def count(self, conn, table):
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM %s" % table)
            return cur.fetchone()[0]

    def test_malformed_row_mid_stream_leaves_the_table_unchanged(self):
        c = self.conn()
        self.fresh(c, "mid", "CREATE TABLE mid (a int, b text)")
        with c.cursor() as cur:
            cur.execute("INSERT INTO mid VALUES (0, 'before')")
        rows = ["%d\trow %d\n" % (i, i) for i in range(1, 100001)]
        rows[49999] = "oops\trow 50000\n"
        with c.cursor() as cur:
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY mid FROM STDIN", io.StringIO("".join(rows)))
        self.assertEqual(cm.exception.pgcode, "22P02")
        self.assertEqual(cm.exception.diag.context, 'COPY mid, line 50000, column a: "oops"')
        self.assertEqual(self.count(c, "mid"), 1)
        # in a transaction block: the block fails, as on PostgreSQL
        c.autocommit = False
        with c.cursor() as cur:
            with self.assertRaises(psycopg2.Error):
                cur.copy_expert("COPY mid FROM STDIN", io.StringIO("1\tx\nbad\ty\n"))
            self.assertEqual(c.get_transaction_status(), psycopg2.extensions.TRANSACTION_STATUS_INERROR)
        c.rollback()
        c.autocommit = True
        self.assertEqual(self.count(c, "mid"), 1)

    # ---- psycopg 3 ----

    def test_psycopg3_copy_text_and_binary_both_ways(self):
        d = self.target.dsn()
        with psycopg.connect(autocommit=True, **d) as c:
            c.execute("DROP TABLE IF EXISTS p3")
            c.execute("CREATE TABLE p3 (id int, name text, amount double precision, born date)")
            import datetime
            rows = [(1, "ann", 1.5, datetime.date(2001, 2, 3)), (2, None, -2.0, None), (3, "tab\there", 0.0,
                                                                                         datetime.date(1999, 1, 1))]
            with c.cursor() as cur:
                with cur.copy("COPY p3 (id, name, amount, born) FROM STDIN") as cp:
                    for r in rows:
                        cp.write_row(r)
                with cur.copy("COPY p3 FROM STDIN (FORMAT BINARY)") as cp:
                    cp.set_types(["int4", "text", "float8", "date"])
                    for r in rows:
                        cp.write_row((r[0] + 10,) + r[1:])
                with cur.copy("COPY (SELECT * FROM p3 ORDER BY id) TO STDOUT") as cp:
                    text_rows = list(cp.rows())
                with cur.copy("COPY (SELECT * FROM p3 ORDER BY id) TO STDOUT (FORMAT BINARY)") as cp:
                    cp.set_types(["int4", "text", "float8", "date"])
                    bin_rows = list(cp.rows())
        self.assertEqual(bin_rows, rows + [(r[0] + 10,) + r[1:] for r in rows])
        self.record("psycopg3_text_rows", text_rows)
        self.record("psycopg3_binary_rows", bin_rows)

    # ---- asyncpg ----

    def test_asyncpg_copy_records_and_copy_from_query(self):
        d = self.target.dsn()

        async def go():
            conn = await asyncpg.connect(host=d["host"], port=d["port"], user=d["user"], password=d["password"],
                                         database=d["dbname"], ssl=False)
            try:
                await conn.execute("DROP TABLE IF EXISTS ap")
                await conn.execute("CREATE TABLE ap (id bigint, name text, x double precision)")
                n = await conn.copy_records_to_table("ap", records=[(1, "a", 0.5), (2, None, 2.0), (3, "c", None)])
                buf = io.BytesIO()
                await conn.copy_from_query("SELECT * FROM ap ORDER BY id", output=buf, format="csv")
                rows = await conn.fetch("SELECT * FROM ap ORDER BY id")
                return n, buf.getvalue(), [tuple(r) for r in rows]
            finally:
                await conn.close()

        n, out, rows = asyncio.run(go())
        self.assertEqual(n, "COPY 3")
        self.assertEqual(rows, [(1, "a", 0.5), (2, None, 2.0), (3, "c", None)])
        self.record("asyncpg_csv", out)

    # ---- psql ----

    def test_psql_copy_both_ways(self):
        c = self.conn()
        self.fresh(c, "pq", "CREATE TABLE pq (a int, b text)")
        argv, env = self.target.psql_command(PSQL)
        with tempfile.TemporaryDirectory() as d:
            src, dst = os.path.join(d, "in.csv"), os.path.join(d, "out.csv")
            with open(src, "w") as f:
                f.write("a,b\n" + "".join("%d,val %d\n" % (i, i) for i in range(1000)))
            p = subprocess.run(argv + ["-v", "ON_ERROR_STOP=1", "-c", "\\copy pq FROM '%s' WITH (FORMAT csv, HEADER)" % src,
                                       "-c", "\\copy (SELECT * FROM pq WHERE a < 5 ORDER BY a) TO '%s' CSV HEADER" % dst],
                               env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.decode().split(), ["COPY", "1000", "COPY", "5"])
            with open(dst) as f:
                self.record("psql_out", f.read())

    # ---- pgJDBC ----

    def test_jdbc_copy_manager(self):
        c = self.conn()
        self.fresh(c, "jc", "CREATE TABLE jc (a int, b text)")
        src = r"""
import java.sql.*; import java.io.*; import org.postgresql.copy.CopyManager; import org.postgresql.PGConnection;
public class CopyIt { public static void main(String[] a) throws Exception {
  try (Connection c = DriverManager.getConnection(a[0], a[1], a[2])) {
    CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
    long n = cm.copyIn("COPY jc FROM STDIN (FORMAT csv)", new StringReader("1,one\n2,\"t,wo\"\n3,\n"));
    StringWriter w = new StringWriter();
    long m = cm.copyOut("COPY (SELECT * FROM jc ORDER BY a) TO STDOUT (FORMAT csv, HEADER)", w);
    System.out.print(n + " " + m + "\n" + w);
  } } }
"""
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "CopyIt.java"), "w") as f:
                f.write(src)
            subprocess.run([JAVAC, "-cp", PGJDBC, "CopyIt.java"], cwd=d, check=True, capture_output=True, timeout=120)
            p = subprocess.run([JAVA, "-cp", PGJDBC + ":" + d, "CopyIt", self.target.jdbc_url(), self.target.user,
                                self.target.password], capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.record("jdbc", p.stdout.decode())

    # ---- the protocol itself, message by message ----

    def raw(self):
        outcome, info, sock = scram_login(self.target.port, self.target.user, self.target.dbname, self.target.password)
        self.assertEqual(outcome, "ok", info)
        self.addCleanup(sock.close)
        return sock

    @staticmethod
    def msg(t, body=b""):
        return t + struct.pack("!I", len(body) + 4) + body

    def until(self, sock, last=b"Z"):
        """Backend messages up to `last` (None: until the server closes): types, with the
        SQLSTATE/CONTEXT of errors and tags."""
        got = []
        while True:
            try:
                t, body = read_message(sock)
            except (EOFError, ConnectionError):
                if last is None:
                    return got + ["EOF"]
                raise
            if t == b"E":
                f = parse_error_fields(body)
                got.append(("E", f.get("S"), f.get("C"), f.get("W")))
            elif t == b"C":
                got.append(("C", body.rstrip(b"\0").decode()))
            elif t == b"G":
                got.append(("G", body))
            elif t != b"N":
                got.append(t.decode())
            if t == last:
                return got

    def test_protocol_extended_copy_in_and_errors(self):
        c = self.conn()
        self.fresh(c, "rawx", "CREATE TABLE rawx (a int, b text)")
        s = self.raw()
        m = self.msg
        sql = b"COPY rawx FROM STDIN (FORMAT csv)\0"
        # extended: a pipelined Sync and a Flush during copy-in are ignored
        s.sendall(m(b"P", b"\0" + sql + b"\0\0") + m(b"B", b"\0\0" + b"\0\0\0\0\0\0") + m(b"E", b"\0\0\0\0\0")
                  + m(b"S"))
        first = self.until(s, b"G")
        s.sendall(m(b"d", b"1,x\n2") + m(b"H") + m(b"d", b",y\n") + m(b"c") + m(b"S"))
        second = self.until(s)
        # an error mid-copy: then everything up to Sync is dropped
        s.sendall(m(b"P", b"\0" + sql + b"\0\0") + m(b"B", b"\0\0" + b"\0\0\0\0\0\0") + m(b"E", b"\0\0\0\0\0")
                  + m(b"H"))
        third = self.until(s, b"G")
        s.sendall(m(b"d", b"3,z\nbad,w\n") + m(b"d", b"4,v\n") + m(b"c") + m(b"S"))
        fourth = self.until(s)
        # simple protocol: CopyFail, then a message that has no place in copy-in
        s.sendall(m(b"Q", b"COPY rawx FROM STDIN\0"))
        fifth = self.until(s, b"G")
        s.sendall(m(b"d", b"5\tq\n") + m(b"f", b"client says no\0"))
        sixth = self.until(s)
        s.sendall(m(b"Q", b"COPY rawx FROM STDIN\0"))
        self.until(s, b"G")
        s.sendall(m(b"Q", b"SELECT 1\0"))
        seventh = self.until(s, None)  # PostgreSQL: protocol synchronization was lost (FATAL)
        # a script: the statement after COPY runs once the copy is done
        s = self.raw()
        s.sendall(m(b"Q", b"COPY rawx FROM STDIN; SELECT count(*) FROM rawx\0"))
        self.until(s, b"G")
        s.sendall(m(b"d", b"9\tlast\n") + m(b"c"))
        eighth = self.until(s)
        s.sendall(m(b"X"))
        self.record("protocol", [first, second, third, fourth, fifth, sixth, seventh, eighth])

    # ---- CopyFail ----

    def test_copy_fail_leaves_the_table_unchanged(self):
        c = self.conn()
        self.fresh(c, "cf", "CREATE TABLE cf (a int)")
        d = self.target.dsn()
        with psycopg.connect(autocommit=True, **d) as c3:
            with self.assertRaises(psycopg.Error) as cm:
                with c3.cursor() as cur:
                    with cur.copy("COPY cf FROM STDIN") as cp:
                        for i in range(10000):
                            cp.write_row((i,))
                        raise RuntimeError("client gave up")
            self.assertEqual(cm.exception.sqlstate, "57014")
            self.assertIn("COPY from stdin failed", str(cm.exception))
            self.assertEqual(c3.execute("SELECT count(*) FROM cf").fetchone()[0], 0)


class CopyOnPostgres(CopyChecks, unittest.TestCase):
    """The checks on PostgreSQL 15: proves them right and records PostgreSQL's output."""

    results = {}

    @classmethod
    def setUpClass(cls):
        cls.ref = PgReference()
        cls.ref.start()
        cls.target = shape_postgres(cls.ref, "copy_pg", "copy_login", "copy-login-pw")

    @classmethod
    def tearDownClass(cls):
        cls.ref.stop()

    def record(self, key, value):
        CopyOnPostgres.results[key] = value


class CopyOnWorkspace(CopyChecks, PgTestCase):
    """The same checks on a workspace: what they record must equal PostgreSQL's."""

    target = None

    def setUp(self):
        super().setUp()
        if CopyOnWorkspace.target is None:
            type(self).pid = self.create_project()
            CopyOnWorkspace.target = shape_workspace(self)
            CopyOnWorkspace.ref_results = _postgres_results()

    def record(self, key, value):
        self.assertIn(key, self.ref_results, "PostgreSQL's run did not record %s" % key)
        self.assertEqual(value, self.ref_results[key], key)

    # ---- workspace only: the sandbox and the project tables ----

    def test_project_table_refused_with_25006(self):
        c = self.conn()
        with c.cursor() as cur:
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY in_c_crm.orders FROM STDIN (FORMAT csv)", io.StringIO("9,x,1,2024-01-01\n"))
            self.assertEqual(cm.exception.pgcode, "25006")
            # reading it is fine
            self.assertEqual(self.copy_out(c, "COPY in_c_crm.orders (id) TO STDOUT"), "1\n2\n3\n")

    def test_files_and_programs_refused_with_42501(self):
        c = self.conn()
        for sql in ["COPY in_c_crm.orders TO '/tmp/x.csv'", "COPY in_c_crm.orders FROM '/etc/passwd'",
                    "COPY in_c_crm.orders TO PROGRAM 'cat'", "COPY in_c_crm.orders FROM PROGRAM 'id'",
                    "COPY (SELECT * FROM read_csv('/etc/passwd')) TO STDOUT",
                    "COPY (SELECT * FROM read_text('/etc/hostname')) TO STDOUT (FORMAT csv)",
                    "COPY (SELECT * FROM glob('/*')) TO STDOUT"]:
            with c.cursor() as cur:
                with self.assertRaises(psycopg2.Error, msg=sql) as cm:
                    cur.copy_expert(sql, io.StringIO())
                self.assertEqual(cm.exception.pgcode, "42501", (sql, cm.exception))
                self.assertNotIn("/work", str(cm.exception))

    def test_cancel_of_a_running_copy_to(self):
        c = self.conn()
        threading.Timer(1.0, c.cancel).start()
        t0 = time.monotonic()
        with c.cursor() as cur:
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY (SELECT sum(i * i % 7) FROM range(100000000000) t(i)) TO STDOUT", io.StringIO())
        self.assertEqual(cm.exception.pgcode, "57014")
        self.assertIn("user request", str(cm.exception))
        self.assertLess(time.monotonic() - t0, 20)
        self.assertEqual(self.copy_out(c, "COPY (SELECT 1) TO STDOUT"), "1\n")

    def test_cancel_of_a_running_copy_from(self):
        c = self.conn()
        self.fresh(c, "cfrom", "CREATE TABLE cfrom (a int)")

        class Pause(io.RawIOBase):
            """Some rows, a pause (the cancel comes then), more rows."""
            def __init__(s):
                s.parts = [b"1\n2\n", None, b"3\n"]

            def readable(s):
                return True

            def readinto(s, b):
                if not s.parts:
                    return 0
                p = s.parts.pop(0)
                if p is None:
                    time.sleep(2.0)
                    p = s.parts.pop(0)
                b[:len(p)] = p
                return len(p)

        threading.Timer(1.0, c.cancel).start()
        with c.cursor() as cur:
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY cfrom FROM STDIN", Pause(), size=4)
        self.assertEqual(cm.exception.pgcode, "57014")
        self.assertIn("user request", str(cm.exception))
        self.assertEqual(self.count(c, "cfrom"), 0)

    def test_statement_timeout_stops_copy_to_and_copy_from(self):
        c = self.conn()
        self.fresh(c, "slow", "CREATE TABLE slow (a int)")
        with c.cursor() as cur:
            cur.execute("SET statement_timeout = 800")
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY (SELECT sum(i * i % 7) FROM range(100000000000) t(i)) TO STDOUT", io.StringIO())
            self.assertEqual(cm.exception.pgcode, "57014")
            self.assertIn("statement timeout", str(cm.exception))

        class Dawdle(io.RawIOBase):
            """Rows, then a pause longer than statement_timeout, then more rows."""
            def __init__(s):
                s.parts = [b"1\n2\n", None, b"3\n"]

            def readable(s):
                return True

            def readinto(s, b):
                if not s.parts:
                    return 0
                p = s.parts.pop(0)
                if p is None:
                    time.sleep(2.0)
                    p = s.parts.pop(0)
                b[:len(p)] = p
                return len(p)

        with c.cursor() as cur:
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY slow FROM STDIN", Dawdle(), size=4)
            self.assertEqual(cm.exception.pgcode, "57014")
            cur.execute("RESET statement_timeout")
        self.assertEqual(self.count(c, "slow"), 0)

    def test_size_limit_stops_a_big_copy_from_and_leaves_nothing(self):
        ws = self.make_ws(size_limit_gb=1)
        conn = self.pg2(ws)
        # ~0.93 GB of random UUIDs (they do not compress: 32 bytes a row), made in DuckDB
        self.q2(conn, "CREATE TABLE filled AS SELECT gen_random_uuid() a, gen_random_uuid() b FROM range(29000000)")

        class Uuids(io.RawIOBase):
            """8 million rows of two random UUIDs: ~250 MB more on disk."""
            def __init__(s):
                s.left = 8000000
                s.pending = b""

            def readable(s):
                return True

            def readinto(s, b):
                while len(s.pending) < len(b) and s.left > 0:
                    k = min(s.left, 20000)
                    h = os.urandom(32 * k).hex().encode()
                    s.pending += b"".join(h[64 * i:64 * i + 32] + b"\t" + h[64 * i + 32:64 * i + 64] + b"\n"
                                          for i in range(k))
                    s.left -= k
                n = min(len(b), len(s.pending))
                b[:n] = s.pending[:n]
                s.pending = s.pending[n:]
                return n

        with conn.cursor() as cur:
            with self.assertRaises(psycopg2.Error) as cm:
                cur.copy_expert("COPY filled FROM STDIN", io.BufferedReader(Uuids(), 1 << 16))
        self.assertEqual(cm.exception.pgcode, "53100", cm.exception)
        self.assertIn("the COPY was stopped when the workspace grew past its size limit", str(cm.exception))
        # What the stopped COPY wrote is given back before its ReadyForQuery: a read that
        # runs for well over the guard's interval is not stopped too (it was, in CI).
        self.assertEqual(self.scalar(conn, "SELECT sum(i * i % 7) FROM range(1000000000) t(i)"), 2000000001)
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM filled"), 29000000)
        self.q2(conn, "DROP TABLE filled")
        self.assertLess(self.detail(ws["id"])["size_bytes"], 64 << 20)

    def test_big_copy_keeps_server_memory_flat(self):
        """10 million rows each way (~190 MB of text): RSS grows by far less than the data."""
        c = self.conn()
        self.fresh(c, "huge", "CREATE TABLE huge (i bigint, s text)")
        pid = self.server.proc.pid
        base = proc_rss_kb(pid)
        peak = [base]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], proc_rss_kb(pid))
                time.sleep(0.05)

        th = threading.Thread(target=sample)
        th.start()
        try:
            n = 10000000

            class Gen(io.RawIOBase):
                def __init__(s):
                    s.i = 0
                    s.pending = b""

                def readable(s):
                    return True

                def readinto(s, b):
                    while len(s.pending) < len(b) and s.i < n:
                        s.pending += b"".join(b"%d\tsome text %d\n" % (k, k) for k in range(s.i, min(n, s.i + 10000)))
                        s.i = min(n, s.i + 10000)
                    k = min(len(b), len(s.pending))
                    b[:k] = s.pending[:k]
                    s.pending = s.pending[k:]
                    return k

            with c.cursor() as cur:
                cur.copy_expert("COPY huge FROM STDIN", io.BufferedReader(Gen(), 1 << 16))

            class Count(io.RawIOBase):
                def __init__(s):
                    s.n = 0

                def writable(s):
                    return True

                def write(s, b):
                    s.n += len(b)
                    return len(b)

            sink = Count()
            with c.cursor() as cur:
                cur.copy_expert("COPY huge TO STDOUT", sink)
        finally:
            stop.set()
            th.join()
        self.assertEqual(self.count(c, "huge"), n)
        self.assertGreater(sink.n, 180 << 20)
        grew_mb = (peak[0] - base) / 1024
        print("big COPY: RSS %d MB before, peak %d MB" % (base // 1024, peak[0] // 1024))
        self.assertLess(grew_mb, 400, "server RSS grew by %d MB during a %d MB COPY" % (grew_mb, sink.n >> 20))


def _postgres_results():
    """Runs CopyOnPostgres once and returns what it recorded."""
    if not CopyOnPostgres.results:
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(CopyOnPostgres)
        res = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
        if not res.wasSuccessful():
            raise AssertionError("the checks fail on PostgreSQL: %s" % (res.failures + res.errors))
    return CopyOnPostgres.results


if __name__ == "__main__":
    harness.main()
