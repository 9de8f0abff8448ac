"""PostgreSQL wire protocol: queries (pgwire.md "What a session sees", "Protocol coverage").

Project tables as schema.table, joins with workspace tables, DML with command tags,
25006 on writes to project tables, error SQLSTATEs, several statements per Query,
prepared statements (psycopg 3 server-side, pgJDBC), row-limited fetches (JDBC
setFetchSize, psycopg2 named cursors, raw Execute with a row limit), a streamed
1,000,000-row result with bounded server memory, transactions, SET/SHOW/RESET, refused
DuckDB settings, version(), and imports seen by a connected session.

Run: /usr/bin/python3 tests/integration/test_pg_query.py [-v] [Class.test_name]"""

import datetime
import struct
import threading
import time

import psycopg
import psycopg2
import psycopg2.extensions

import harness
from harness import uniq
from pghelpers import (Jdbc, PgTestCase, jdbc_url, parse_error_fields, pg_msg, proc_rss_kb,
                       read_to_ready, scram_login, simple_query)

JAVA_QUERY = r"""
import java.sql.*;
import java.util.Properties;

public class PgQuery {
    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", a[1]);
        p.setProperty("password", a[2]);
        String mode = a[3];
        try (Connection c = DriverManager.getConnection(a[0], p)) {
            if (mode.equals("prepared")) prepared(c);
            else if (mode.equals("fetchsize")) fetchsize(c, 10000, 0);
            else if (mode.equals("interleaved")) fetchsize(c, 20000, 2500);
            else throw new RuntimeException("mode " + mode);
        } catch (SQLException e) {
            System.out.println("sqlstate=" + e.getSQLState());
            System.out.println("message=" + e.getMessage());
            System.exit(3);
        }
    }

    static void prepared(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE jp (i INTEGER, t VARCHAR, d DOUBLE, day DATE)");
        }
        // run more than prepareThreshold (5) times so the driver switches to a named statement
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO jp VALUES (?, ?, ?, ?)")) {
            for (int k = 1; k <= 7; k++) {
                ps.setInt(1, k);
                ps.setString(2, "t'" + k);
                ps.setDouble(3, k + 0.5);
                ps.setDate(4, Date.valueOf("2024-01-0" + k));
                int n = ps.executeUpdate();
                if (n != 1) throw new RuntimeException("executeUpdate returned " + n);
            }
            ps.setNull(1, Types.INTEGER);
            ps.setNull(2, Types.VARCHAR);
            ps.setNull(3, Types.DOUBLE);
            ps.setNull(4, Types.DATE);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT i, t, d, day FROM jp WHERE i >= ? AND t <> ? AND d < ? AND day <= ? ORDER BY i")) {
            for (int round = 0; round < 6; round++) {
                ps.setInt(1, 2);
                ps.setString(2, "t'3");
                ps.setDouble(3, 6.0);
                ps.setDate(4, Date.valueOf("2024-01-07"));
                StringBuilder sb = new StringBuilder();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        sb.append(rs.getInt(1)).append('|').append(rs.getString(2)).append('|')
                          .append(rs.getDouble(3)).append('|').append(rs.getDate(4)).append(';');
                    }
                }
                System.out.println("round" + round + "=" + sb);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM jp WHERE i IS NULL AND ? IS NULL")) {
            ps.setNull(1, Types.INTEGER);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                System.out.println("nulls=" + rs.getLong(1));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT sum(amount) FROM in_c_sales.orders WHERE id <= ?")) {
            ps.setLong(1, 4L);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                System.out.println("project=" + rs.getLong(1));
            }
        }
    }

    // Reads `rows` rows with a fetch size of 100 and prints rows, sum and order. With
    // every > 0, other statements run each `every` rows while the result is only partly
    // read: the portal is suspended and must still deliver every row afterwards.
    static void fetchsize(Connection c, int rows, int every) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement(); Statement other = c.createStatement();
             PreparedStatement ps = c.prepareStatement("SELECT ? * 2")) {
            s.setFetchSize(100);
            long n = 0, sum = 0, last = -1, checks = 0;
            boolean ordered = true;
            try (ResultSet rs = s.executeQuery("SELECT i FROM range(" + rows + ") t(i) ORDER BY i")) {
                while (rs.next()) {
                    long v = rs.getLong(1);
                    if (v != last + 1) ordered = false;
                    last = v;
                    n++;
                    sum += v;
                    if (every > 0 && n % every == 0) {
                        try (ResultSet r2 = other.executeQuery("SELECT count(*) FROM range(5000)")) {
                            r2.next();
                            if (r2.getLong(1) == 5000) checks++;
                        }
                        ps.setInt(1, (int) n);
                        try (ResultSet r3 = ps.executeQuery()) {
                            r3.next();
                            if (r3.getLong(1) == 2 * n) checks++;
                        }
                    }
                }
            }
            System.out.println("rows=" + n);
            System.out.println("sum=" + sum);
            System.out.println("ordered=" + ordered);
            System.out.println("checks=" + checks);
            // the connection is still usable within the same transaction
            try (ResultSet rs = s.executeQuery("SELECT 42")) {
                rs.next();
                System.out.println("after=" + rs.getInt(1));
            }
        }
        c.commit();
    }
}
"""


def tag(cur):
    return cur.statusmessage


class PgQueries(PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jdbc = Jdbc("PgQuery", JAVA_QUERY)

    @classmethod
    def tearDownClass(cls):
        cls.jdbc.cleanup()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.orders = self.sales_table()
        self.ws = self.make_ws()
        self.conn = self.pg2(self.ws)

    def run_jdbc(self, mode, **props):
        c = self.ws["connection"]
        rc, out, err = self.jdbc.run(jdbc_url(self.ws, self.server, sslmode="disable", **props),
                                     c["username"], c["password"], mode)
        self.assertEqual(rc, 0, out + err[-3000:])
        return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)

    def raw_session(self):
        """A logged-in socket for raw protocol messages."""
        c = self.ws["connection"]
        outcome, info, sock = scram_login(self.server.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "ok", info)
        self.addCleanup(sock.close)
        return sock

    msg = staticmethod(pg_msg)

    @staticmethod
    def read_to_ready(sock):
        return read_to_ready(sock)

    # ---- reading ---------------------------------------------------------------------------

    def test_project_tables_readable_as_schema_table(self):
        self.sales_table(bucket="crm", name="customers",
                         rows=[(1, 5, "alice"), (2, 6, "bob")])
        self.assertEqual(self.q2(self.conn, "SELECT id, amount, name FROM in_c_sales.orders ORDER BY id LIMIT 3"),
                         [(1, 10, "n1"), (2, 20, "n2"), (3, 30, "n3")])
        self.assertEqual(self.q2(self.conn, "SELECT name FROM in_c_crm.customers ORDER BY id"),
                         [("alice",), ("bob",)])
        self.assertEqual(self.scalar(self.conn, 'SELECT count(*) FROM "in_c_sales"."orders"'), 10)

    def test_join_project_and_workspace_tables(self):
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE targets (id INTEGER, target INTEGER)")
            cur.execute("INSERT INTO targets VALUES (1, 5), (2, 50), (3, 25)")
        rows = self.q2(self.conn, """
            WITH j AS (SELECT o.id, o.amount, t.target FROM in_c_sales.orders o JOIN targets t ON t.id = o.id)
            SELECT id, amount > target AS hit, row_number() OVER (ORDER BY amount DESC) AS rk FROM j ORDER BY id""")
        self.assertEqual(rows, [(1, True, 3), (2, False, 2), (3, True, 1)])
        # a workspace table made from a project table
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE big AS SELECT * FROM in_c_sales.orders WHERE amount > 50")
        self.assertEqual(self.scalar(self.conn, "SELECT sum(amount) FROM big"), 400)

    def test_create_table_as_command_tag_is_select_n(self):
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE big AS SELECT * FROM in_c_sales.orders WHERE amount > 50")
            self.assertEqual((cur.statusmessage, cur.rowcount), ("SELECT 5", 5))
        self.assertEqual(self.scalar(self.conn, "SELECT sum(amount) FROM big"), 400)

    # ---- DML and command tags ----------------------------------------------------------

    def test_workspace_ddl_and_dml_command_tags(self):
        cur = self.conn.cursor()
        cur.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR)")
        self.assertEqual(tag(cur), "CREATE TABLE")
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        self.assertEqual((tag(cur), cur.rowcount), ("INSERT 0 3", 3))
        cur.execute("UPDATE t SET v = v || 'x' WHERE id >= 2")
        self.assertEqual((tag(cur), cur.rowcount), ("UPDATE 2", 2))
        cur.execute("DELETE FROM t WHERE id = 1")
        self.assertEqual((tag(cur), cur.rowcount), ("DELETE 1", 1))
        cur.execute("SELECT * FROM t ORDER BY id")
        self.assertEqual((tag(cur), cur.rowcount, cur.fetchall()), ("SELECT 2", 2, [(2, "bx"), (3, "cx")]))
        cur.execute("CREATE VIEW tv AS SELECT id FROM t")
        self.assertEqual(tag(cur), "CREATE VIEW")
        cur.execute("DROP VIEW tv")
        self.assertEqual(tag(cur), "DROP VIEW")
        cur.execute("DROP TABLE t")
        self.assertEqual(tag(cur), "DROP TABLE")
        self.assertSqlError(self.conn, "SELECT * FROM t", "42P01")

    def test_psql_command_tags(self):
        rc, out, err = self.psql(self.ws, "-A", "-t",
                                 "-c", "CREATE TABLE pt (a INTEGER)",
                                 "-c", "INSERT INTO pt SELECT * FROM range(5)",
                                 "-c", "UPDATE pt SET a = a + 1 WHERE a < 2",
                                 "-c", "DELETE FROM pt WHERE a > 3",
                                 "-c", "SELECT count(*) FROM pt",
                                 "-c", "DROP TABLE pt")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split("\n")[:6],
                         ["CREATE TABLE", "INSERT 0 5", "UPDATE 2", "DELETE 1", "4", "DROP TABLE"], out)

    def test_workspace_tables_visible_over_rest(self):
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE mine AS SELECT range AS i FROM range(7)")
        self.assertEqual(self.objects(self.ws["id"]).get("mine"), 7)

    def test_public_and_main_schemas_are_the_workspace(self):
        cur = self.conn.cursor()
        cur.execute("CREATE TABLE public.pub (a INTEGER)")
        cur.execute("INSERT INTO pub VALUES (1)")
        cur.execute("INSERT INTO main.pub VALUES (2)")
        cur.execute("INSERT INTO public.pub VALUES (3)")
        self.assertEqual(self.q2(self.conn, "SELECT a FROM public.pub ORDER BY a"), [(1,), (2,), (3,)])
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM main.pub"), [(3,)])

    # ---- project tables are read-only ----------------------------------------------------

    def test_writes_to_project_tables_refused_with_25006(self):
        for sql in ("INSERT INTO in_c_sales.orders VALUES (99, 1, 'x')",
                    "INSERT INTO in_c_sales.orders SELECT * FROM in_c_sales.orders",
                    "UPDATE in_c_sales.orders SET amount = 0",
                    "DELETE FROM in_c_sales.orders",
                    "DELETE FROM in_c_sales.orders WHERE id = 1",
                    "TRUNCATE in_c_sales.orders",
                    "DROP TABLE in_c_sales.orders",
                    "ALTER TABLE in_c_sales.orders ADD COLUMN z INTEGER",
                    "ALTER TABLE in_c_sales.orders RENAME TO o2"):
            with self.subTest(sql=sql):
                self.assertSqlError(self.conn, sql, "25006")
        self.assertEqual(self.q2(self.conn, "SELECT count(*), sum(amount) FROM in_c_sales.orders"), [(10, 550)])
        self.assertEqual(len(self.rows(self.pid, self.orders)), 10)

    def test_project_schemas_cannot_be_written(self):
        """No object can be created, replaced or dropped in a project table's schema."""
        for sql in ("CREATE OR REPLACE VIEW in_c_sales.orders AS SELECT 42 AS id",
                    "CREATE OR REPLACE TABLE in_c_sales.orders AS SELECT 42 AS id",
                    "DROP VIEW in_c_sales.orders",
                    "CREATE TABLE in_c_sales.extra (a INTEGER)",
                    "CREATE VIEW in_c_sales.extra_v AS SELECT 1 AS a"):
            with self.subTest(sql=sql):
                self.assertSqlError(self.conn, sql, "25006")
        self.assertEqual(self.q2(self.conn, "SELECT count(*), sum(amount) FROM in_c_sales.orders"), [(10, 550)])
        other = self.pg2(self.ws)
        self.assertEqual(self.q2(other, "SELECT count(*), sum(amount) FROM in_c_sales.orders"), [(10, 550)])

    def test_write_refusal_inside_a_transaction_fails_the_transaction(self):
        self.q2(self.conn, "SELECT count(*) FROM in_c_sales.orders")  # attached before the transaction
        conn = self.pg2(self.ws, autocommit=False)
        self.assertPgError("25006", self.q2, conn, "INSERT INTO in_c_sales.orders VALUES (99, 1, 'x')")
        self.assertPgError("25P02", self.q2, conn, "SELECT 1")
        conn.rollback()
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])
        conn.rollback()

    # ---- errors ----------------------------------------------------------------------------

    def test_error_sqlstates(self):
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE pk (id INTEGER PRIMARY KEY, v VARCHAR)")
            cur.execute("INSERT INTO pk VALUES (1, 'a')")
        cases = [("SELECT * FROM no_such_table", "42P01"),
                 ("SELECT * FROM in_c_sales.no_such_table", "42P01"),
                 ("SELECT no_such_column FROM pk", "42703"),
                 ("SELEC 1", "42601"),
                 ("SELECT (1", "42601"),
                 ("INSERT INTO pk VALUES (1, 'dup')", "23505"),
                 ("SELECT 'abc'::INTEGER", "22P02"),
                 ("SELECT 2147483647::INTEGER + 1", "22003"),
                 ("SELECT no_such_function(1)", "42883")]
        for sql, state in cases:
            with self.subTest(sql=sql):
                e = self.assertSqlError(self.conn, sql, state)
                self.assertEqual(e.diag.severity, "ERROR")
                self.assertTrue(e.diag.message_primary)
        # the session is fine afterwards
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM pk"), [(1,)])

    def test_division_by_zero_22012_where_duckdb_raises_it(self):
        # DuckDB returns NULL for integer // 0 and % 0 and Infinity for / 0; it raises only
        # where it raises: when it does, the SQLSTATE must be 22012.
        rows = self.q2(self.conn, "SELECT 1 // 0, 1 % 0")
        self.assertEqual(rows, [(None, None)])
        for sql in ("SELECT 1::DECIMAL(18,3) // 0::DECIMAL(18,3)", "SELECT (-9223372036854775808)::BIGINT // 0"):
            with self.subTest(sql=sql):
                try:
                    self.q2(self.conn, sql)
                except psycopg2.Error as e:
                    self.assertIn(e.pgcode, ("22012", "22003"), e)

    def test_syntax_error_has_a_position(self):
        e = self.assertSqlError(self.conn, "SELECT 1 FROM WHERE", "42601")
        self.assertEqual(e.diag.statement_position, "15")

    # ---- simple query with several statements -----------------------------------------

    def test_several_statements_in_one_query(self):
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE m (a INTEGER); INSERT INTO m VALUES (1), (2); SELECT sum(a) FROM m")
            self.assertEqual(cur.fetchall(), [(3,)])
        c = self.ws["connection"]
        outcome, info, sock = scram_login(self.server.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "ok", info)
        self.addCleanup(sock.close)
        msgs = simple_query(sock, "SELECT 1; INSERT INTO m VALUES (5); SELECT a FROM m ORDER BY a")
        types = b"".join(t for t, _ in msgs)
        self.assertEqual(types, b"TDCCTDDDCZ", msgs)
        self.assertEqual([p for t, p in msgs if t == b"C"], [b"SELECT 1\0", b"INSERT 0 1\0", b"SELECT 3\0"])
        # stops at the first error: one ErrorResponse, one ReadyForQuery
        msgs = simple_query(sock, "SELECT 1; SELECT nope_col FROM m; INSERT INTO m VALUES (9)")
        self.assertEqual(b"".join(t for t, _ in msgs), b"TDCEZ", msgs)
        self.assertEqual(parse_error_fields(msgs[3][1]).get("C"), "42703")
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM m WHERE a = 9"), 0)
        # empty query
        msgs = simple_query(sock, "")
        self.assertEqual(b"".join(t for t, _ in msgs), b"IZ", msgs)

    def test_psql_multiple_statements_in_one_c(self):
        rc, out, err = self.psql(self.ws, "-A", "-t",
                                 sql="CREATE TABLE q (a INTEGER); INSERT INTO q VALUES (4), (6); SELECT sum(a) FROM q")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip().split("\n")[-1], "10", out)

    # ---- prepared statements -----------------------------------------------------------

    def test_psycopg3_server_side_prepared_statements(self):
        conn = self.pg3(self.ws)
        conn.prepare_threshold = 0
        conn.execute("CREATE TABLE pp (i INTEGER, t VARCHAR, d DOUBLE, day DATE)")
        rows = [(1, "a'b", 1.5, datetime.date(2024, 1, 1)), (2, "ü", -2.25, datetime.date(2024, 2, 29)),
                (None, None, None, None)]
        for r in rows:
            cur = conn.execute("INSERT INTO pp VALUES (%t, %t, %t, %t)", r, prepare=True)
            self.assertEqual(cur.rowcount, 1)
        for _ in range(3):
            got = conn.execute("SELECT i, t, d, day FROM pp WHERE i >= %t AND t <> %t ORDER BY i",
                               (1, "zz"), prepare=True).fetchall()
            self.assertEqual(got, rows[:2])
        self.assertEqual(conn.execute("SELECT count(*) FROM pp WHERE i IS NULL AND %t::INTEGER IS NULL",
                                      (None,), prepare=True).fetchone(), (1,))
        self.assertEqual(conn.execute("SELECT sum(amount) FROM in_c_sales.orders WHERE id <= %t",
                                      (3,), prepare=True).fetchone(), (60,))
        self.assertEqual(conn.execute("SELECT %t::DATE + 1", (datetime.date(2024, 12, 31),), prepare=True).fetchone(),
                         (datetime.date(2025, 1, 1),))

    def test_psycopg3_prepared_statement_error_then_recovers(self):
        conn = self.pg3(self.ws)
        self.assertPgError("42P01", conn.execute, "SELECT * FROM nope WHERE a = %t", (1,), prepare=True)
        self.assertEqual(conn.execute("SELECT %t::INTEGER * 2", (21,), prepare=True).fetchone(), (42,))

    def test_jdbc_prepared_statements_text_transfer(self):
        out = self.run_jdbc("prepared", binaryTransfer="false")
        want = "2|t'2|2.5|2024-01-02;4|t'4|4.5|2024-01-04;5|t'5|5.5|2024-01-05;"
        for r in range(6):
            self.assertEqual(out.get("round%d" % r), want, out)
        self.assertEqual(out.get("nulls"), "1", out)
        self.assertEqual(out.get("project"), "100", out)

    def test_jdbc_prepared_statements_default_settings(self):
        """pgJDBC defaults: after prepareThreshold (5) executions the driver binds with
        binary result formats for int4/float8/date and reads the rows as binary."""
        out = self.run_jdbc("prepared")
        want = "2|t'2|2.5|2024-01-02;4|t'4|4.5|2024-01-04;5|t'5|5.5|2024-01-05;"
        for r in range(6):
            self.assertEqual(out.get("round%d" % r), want, out)
        self.assertEqual(out.get("nulls"), "1", out)
        self.assertEqual(out.get("project"), "100", out)

    # ---- row-limited fetches -------------------------------------------------------------

    def test_jdbc_fetch_size_returns_every_row(self):
        out = self.run_jdbc("fetchsize")
        self.assertEqual((out.get("rows"), out.get("sum"), out.get("ordered"), out.get("after")),
                         ("10000", str(sum(range(10000))), "true", "42"), out)

    def test_jdbc_fetch_size_with_other_statements_in_between(self):
        """DuckDB ends a streaming result when anything else runs on its connection; the
        suspended portal keeps the rest of its rows instead of ending early."""
        out = self.run_jdbc("interleaved")
        self.assertEqual((out.get("rows"), out.get("sum"), out.get("ordered"), out.get("checks"), out.get("after")),
                         ("20000", str(sum(range(20000))), "true", "16", "42"), out)

    def test_psycopg2_named_cursors_interleaved_with_queries(self):
        conn = self.pg2(self.ws, autocommit=False)
        a = conn.cursor(name=uniq("a"))
        b = conn.cursor(name=uniq("b"))
        plain = conn.cursor()
        a.itersize = 1000
        b.itersize = 700
        a.execute("SELECT i FROM range(30000) t(i) ORDER BY i")
        b.execute("SELECT i * 3 FROM range(20000) t(i) ORDER BY i")
        got_a, got_b = [], []
        while True:
            ra = a.fetchmany(1500)
            rb = b.fetchmany(900)
            plain.execute("SELECT count(*) FROM range(%s)", (len(ra) + 1,))
            self.assertEqual(plain.fetchone(), (len(ra) + 1,))
            got_a += [r[0] for r in ra]
            got_b += [r[0] for r in rb]
            if not ra and not rb:
                break
        self.assertEqual(got_a, list(range(30000)))
        self.assertEqual(got_b, [3 * i for i in range(20000)])
        conn.commit()

    def test_sql_cursors_declare_fetch_move_close(self):
        conn = self.pg2(self.ws, autocommit=False)
        cur = conn.cursor()
        cur.execute("DECLARE c CURSOR FOR SELECT i FROM range(10000) t(i) ORDER BY i")
        cur.execute("FETCH 3 FROM c")
        self.assertEqual((tag(cur), cur.fetchall()), ("FETCH 3", [(0,), (1,), (2,)]))
        cur.execute("SELECT 42")  # another statement on the connection in between
        self.assertEqual(cur.fetchall(), [(42,)])
        cur.execute("MOVE 5000 IN c")
        self.assertEqual((tag(cur), cur.description), ("MOVE 5000", None))
        cur.execute("FETCH NEXT FROM c")
        self.assertEqual(cur.fetchall(), [(5003,)])
        cur.execute("FETCH FORWARD ALL FROM c")
        rows = cur.fetchall()
        self.assertEqual((tag(cur), rows[0], rows[-1]), ("FETCH %d" % (10000 - 5004), (5004,), (9999,)))
        cur.execute("FETCH c")
        self.assertEqual((tag(cur), cur.fetchall()), ("FETCH 0", []))
        cur.execute("MOVE c")
        self.assertEqual(tag(cur), "MOVE 0")
        cur.execute("CLOSE c")
        self.assertEqual(tag(cur), "CLOSE CURSOR")
        self.assertPgError("34000", cur.execute, "FETCH c")
        conn.rollback()
        cur.execute("DECLARE d CURSOR FOR SELECT 1")
        self.assertPgError("0A000", cur.execute, "FETCH BACKWARD 1 FROM d")  # forward only
        conn.rollback()

    def test_sql_cursors_end_with_their_transaction_unless_with_hold(self):
        conn = self.pg2(self.ws, autocommit=True)
        cur = conn.cursor()
        self.assertPgError("25P01", cur.execute, "DECLARE c CURSOR FOR SELECT 1")
        cur.execute("BEGIN")
        cur.execute("DECLARE c CURSOR FOR SELECT i FROM range(10) t(i) ORDER BY i")
        cur.execute("DECLARE h CURSOR WITH HOLD FOR SELECT i FROM range(10) t(i) ORDER BY i")
        cur.execute("FETCH 2 FROM h")
        self.assertEqual(cur.fetchall(), [(0,), (1,)])
        cur.execute("COMMIT")
        self.assertPgError("34000", cur.execute, "FETCH c")
        cur.execute("FETCH ALL FROM h")  # a held cursor outlives its transaction
        self.assertEqual(cur.fetchall(), [(i,) for i in range(2, 10)])
        cur.execute("CLOSE h")
        cur.execute("DECLARE h2 CURSOR WITH HOLD FOR SELECT 7")  # outside a block: allowed
        cur.execute("FETCH h2")
        self.assertEqual(cur.fetchall(), [(7,)])
        cur.execute("BEGIN")
        cur.execute("DECLARE h3 CURSOR WITH HOLD FOR SELECT 8")
        cur.execute("ROLLBACK")  # its transaction did not commit: gone
        self.assertPgError("34000", cur.execute, "FETCH h3")
        cur.execute("CLOSE ALL")
        self.assertPgError("34000", cur.execute, "FETCH h2")

    def test_psycopg2_named_cursor_with_itersize(self):
        conn = self.pg2(self.ws, autocommit=False)
        cur = conn.cursor(name=uniq("cur"))
        cur.itersize = 333
        cur.execute("SELECT i, i * 2 FROM range(5000) t(i) ORDER BY i")
        n = 0
        total = 0
        for i, j in cur:
            self.assertEqual(j, 2 * i)
            n += 1
            total += i
        self.assertEqual((n, total), (5000, sum(range(5000))))
        cur.close()
        conn.commit()

    def test_execute_with_row_limit_suspends_and_resumes(self):
        sock = self.raw_session()
        msg = self.msg
        sql = b"SELECT i FROM range(10) t(i) ORDER BY i"
        sock.sendall(msg(b"P", b"s1\0" + sql + b"\0" + b"\0\0") +
                     msg(b"B", b"p1\0s1\0" + b"\0\0" + b"\0\0" + b"\0\0") +
                     msg(b"D", b"Pp1\0") +
                     msg(b"E", b"p1\0" + struct.pack("!I", 4)) +
                     msg(b"E", b"p1\0" + struct.pack("!I", 4)) +
                     msg(b"E", b"p1\0" + struct.pack("!I", 4)) +
                     msg(b"C", b"Pp1\0") + msg(b"C", b"Ss1\0") + msg(b"S", b""))
        got = self.read_to_ready(sock)
        types = b"".join(t for t, _ in got)
        self.assertEqual(types, b"12T" + b"DDDDs" + b"DDDDs" + b"DDC" + b"33Z", got)
        values = [int(p[6:]) for t, p in got if t == b"D"]
        self.assertEqual(values, list(range(10)))
        self.assertEqual([p for t, p in got if t == b"C"], [b"SELECT 2\0"])

    def test_portal_outlives_a_new_unnamed_statement_but_not_a_close(self):
        """Parse into the unnamed statement leaves portals made from the old one running;
        Close of a statement closes its portals (PostgreSQL's rules)."""
        sock = self.raw_session()
        msg = self.msg
        sock.sendall(msg(b"P", b"\0SELECT i FROM range(5000) t(i) ORDER BY i\0\0\0") +
                     msg(b"B", b"p1\0\0" + b"\0\0" + b"\0\0" + b"\0\0") +
                     msg(b"E", b"p1\0" + struct.pack("!I", 3)) +
                     msg(b"P", b"\0SELECT 'other'\0\0\0") +
                     msg(b"B", b"\0\0\0\0\0\0\0\0") + msg(b"E", b"\0" + struct.pack("!I", 0)) +
                     msg(b"E", b"p1\0" + struct.pack("!I", 0)) + msg(b"S", b""))
        got = self.read_to_ready(sock)
        values = [p[6:].decode() for t, p in got if t == b"D"]
        self.assertEqual(values, ["0", "1", "2", "other"] + [str(i) for i in range(3, 5000)])
        self.assertEqual([p for t, p in got if t == b"C"], [b"SELECT 1\0", b"SELECT 4997\0"])
        # two portals of one statement keep their own parameter values
        def bind(portal, value):
            v = str(value).encode()
            return msg(b"B", portal + b"\0two\0" + b"\0\0" + b"\0\1" + struct.pack("!I", len(v)) + v + b"\0\0")
        sock.sendall(msg(b"P", b"two\0SELECT $1::INTEGER * 10\0\0\0") + bind(b"a", 1) + bind(b"b", 2) +
                     msg(b"E", b"b\0" + struct.pack("!I", 0)) + msg(b"E", b"a\0" + struct.pack("!I", 0)) +
                     msg(b"S", b""))
        got = self.read_to_ready(sock)
        self.assertEqual([p[6:] for t, p in got if t == b"D"], [b"20", b"10"], got)
        sock.sendall(msg(b"P", b"named\0SELECT i FROM range(10) t(i)\0\0\0") +
                     msg(b"B", b"p2\0named\0" + b"\0\0" + b"\0\0" + b"\0\0") +
                     msg(b"E", b"p2\0" + struct.pack("!I", 2)) + msg(b"C", b"Snamed\0") +
                     msg(b"E", b"p2\0" + struct.pack("!I", 2)) + msg(b"S", b""))
        got = self.read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"12DDs3EZ", got)
        self.assertEqual(parse_error_fields([p for t, p in got if t == b"E"][0]).get("C"), "34000")

    def test_describe_show_in_extended_protocol_sends_one_row_description(self):
        """Execute must not repeat the RowDescription that Describe sent (pgJDBC breaks)."""
        sock = self.raw_session()
        msg = self.msg
        for sql in (b"SHOW application_name", b"SHOW TimeZone", b"SELECT 1 AS x"):
            with self.subTest(sql=sql):
                sock.sendall(msg(b"P", b"\0" + sql + b"\0\0\0") + msg(b"B", b"\0\0\0\0\0\0\0\0") +
                             msg(b"D", b"P\0") + msg(b"E", b"\0\0\0\0\0") + msg(b"S", b""))
                got = self.read_to_ready(sock)
                self.assertEqual(b"".join(t for t, _ in got), b"12TDCZ")

    def test_extended_error_discards_until_sync(self):
        sock = self.raw_session()
        m = self.msg
        sock.sendall(m(b"P", b"bad\0SELECT FROM WHERE\0\0\0") + m(b"B", b"\0bad\0\0\0\0\0\0\0") +
                     m(b"E", b"\0\0\0\0\0") + m(b"P", b"\0SELECT 1\0\0\0") + m(b"S", b""))
        got = self.read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"EZ", got)
        self.assertEqual(parse_error_fields(got[0][1]).get("C"), "42601")
        self.assertEqual(got[-1][1], b"I")
        # the session goes on
        sock.sendall(m(b"P", b"\0SELECT 5\0\0\0") + m(b"B", b"\0\0\0\0\0\0\0\0") +
                     m(b"E", b"\0\0\0\0\0") + m(b"S", b""))
        got = self.read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"12DCZ", got)

    def test_describe_statement_gives_parameter_types_without_executing(self):
        sock = self.raw_session()
        m = self.msg
        self.q2(self.conn, "CREATE TABLE nx (a INTEGER)")
        sql = b"INSERT INTO nx SELECT $1::INTEGER WHERE $2::VARCHAR IS NOT NULL"
        sock.sendall(m(b"P", b"st\0" + sql + b"\0\0\0") + m(b"D", b"Sst\0") + m(b"S", b""))
        got = self.read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"1tnZ", got)
        n = struct.unpack("!H", got[1][1][:2])[0]
        oids = struct.unpack("!%dI" % n, got[1][1][2:2 + 4 * n])
        self.assertEqual(oids[0], 23, got)  # int4
        self.assertIn(oids[1], (25, 1043), got)  # text or varchar
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM nx"), 0)
        # SELECT: RowDescription with the column types
        sock.sendall(m(b"P", b"s2\0SELECT $1::BIGINT AS a, 'x'::VARCHAR AS b\0\0\0") + m(b"D", b"Ss2\0") +
                     m(b"S", b""))
        got = self.read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"1tTZ", got)
        self.assertEqual(struct.unpack("!HI", got[1][1][:6]), (1, 20), got)
        # Close the statement: a later Bind to it fails
        sock.sendall(m(b"C", b"Ss2\0") + m(b"S", b""))
        self.assertEqual(b"".join(t for t, _ in self.read_to_ready(sock)), b"3Z")
        sock.sendall(m(b"B", b"\0s2\0\0\0\0\0\0\0") + m(b"S", b""))
        got = self.read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"EZ", got)
        self.assertEqual(parse_error_fields(got[0][1]).get("C"), "26000", got)

    def test_psycopg3_pipeline_mode(self):
        conn = self.pg3(self.ws)
        conn.execute("CREATE TABLE pl (a INTEGER)")
        with conn.pipeline():
            for i in range(20):
                conn.execute("INSERT INTO pl VALUES (%t)", (i,))
            cur = conn.execute("SELECT count(*), sum(a) FROM pl")
        self.assertEqual(cur.fetchone(), (20, sum(range(20))))

    # ---- streaming -------------------------------------------------------------------------

    def test_million_row_result_streams_with_flat_server_memory(self):
        pid = self.server.proc.pid
        conn = self.pg3(self.ws)
        conn.execute("SELECT count(*) FROM range(1000)").fetchall()  # warm up the instance
        base = proc_rss_kb(pid)
        peak = [base]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], proc_rss_kb(pid))
                except Exception:
                    pass
                time.sleep(0.05)
        th = threading.Thread(target=sample, daemon=True)
        th.start()
        n = 0
        s = 0
        try:
            with conn.cursor() as cur:
                for i, j in cur.stream("SELECT range AS i, range * 2 AS j FROM range(1000000)"):
                    n += 1
                    s += j
                    if n == 1000:
                        time.sleep(0.5)  # let the server run ahead if it buffers
        finally:
            stop.set()
            th.join()
        self.assertEqual((n, s), (1000000, 2 * sum(range(1000000))))
        grown_mb = (peak[0] - base) / 1024.0
        self.assertLess(grown_mb, 300, "server RSS grew by %.0f MB (base %d kB, peak %d kB)" % (grown_mb, base, peak[0]))
        self.assertEqual(conn.execute("SELECT 1").fetchone(), (1,))

    # ---- transactions --------------------------------------------------------------------

    def test_commit_visible_to_another_session_and_rollback_discards(self):
        a = self.pg3(self.ws, autocommit=True)
        b = self.pg3(self.ws, autocommit=True)
        a.execute("CREATE TABLE tx (v INTEGER)")
        self.assertEqual(a.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)
        a.execute("BEGIN")
        self.assertEqual(a.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS)
        a.execute("INSERT INTO tx VALUES (1)")
        self.assertEqual(b.execute("SELECT count(*) FROM tx").fetchone(), (0,))
        a.execute("COMMIT")
        self.assertEqual(a.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)
        self.assertEqual(b.execute("SELECT count(*) FROM tx").fetchone(), (1,))
        a.execute("BEGIN")
        a.execute("INSERT INTO tx VALUES (2)")
        self.assertEqual(a.execute("SELECT count(*) FROM tx").fetchone(), (2,))
        a.execute("ROLLBACK")
        self.assertEqual(a.execute("SELECT count(*) FROM tx").fetchone(), (1,))
        self.assertEqual(b.execute("SELECT count(*) FROM tx").fetchone(), (1,))

    def test_failed_transaction_is_25P02_until_rollback(self):
        conn = self.pg3(self.ws, autocommit=True)
        conn.execute("CREATE TABLE ft (v INTEGER)")
        conn.execute("BEGIN")
        conn.execute("INSERT INTO ft VALUES (1)")
        self.assertPgError("42P01", conn.execute, "SELECT * FROM nope")
        self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.INERROR)
        for sql in ("SELECT 1", "INSERT INTO ft VALUES (2)", "SHOW application_name"):
            with self.subTest(sql=sql):
                self.assertPgError("25P02", conn.execute, sql)
                self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.INERROR)
        conn.execute("ROLLBACK")
        self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)
        self.assertEqual(conn.execute("SELECT count(*) FROM ft").fetchone(), (0,))

    def test_commit_of_a_failed_transaction_rolls_back(self):
        conn = self.pg2(self.ws)
        self.q2(conn, "CREATE TABLE fc (v INTEGER)")
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO fc VALUES (1)")
            self.assertPgError("22P02", cur.execute, "SELECT 'x'::INTEGER")
            cur.execute("COMMIT")
            self.assertEqual(cur.statusmessage, "ROLLBACK")
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM fc"), 0)

    def test_psycopg2_transactions_autocommit_off(self):
        conn = self.pg2(self.ws, autocommit=False)
        other = self.pg2(self.ws)
        self.q2(conn, "CREATE TABLE t2 (v INTEGER)")
        conn.commit()
        self.q2(conn, "INSERT INTO t2 VALUES (1), (2)")
        self.assertEqual(conn.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_INTRANS)
        self.assertEqual(self.scalar(other, "SELECT count(*) FROM t2"), 0)
        conn.commit()
        self.assertEqual(self.scalar(other, "SELECT count(*) FROM t2"), 2)
        self.q2(conn, "DELETE FROM t2")
        conn.rollback()
        self.assertEqual(self.scalar(other, "SELECT count(*) FROM t2"), 2)

    def test_nested_begin_is_a_warning(self):
        conn = self.pg3(self.ws, autocommit=True)
        notices = []
        conn.add_notice_handler(lambda d: notices.append((d.severity_nonlocalized or d.severity, d.sqlstate,
                                                          d.message_primary)))
        conn.execute("BEGIN")
        conn.execute("BEGIN")
        self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS)
        self.assertEqual(len(notices), 1, notices)
        self.assertEqual(notices[0][:2], ("WARNING", "25001"), notices)
        conn.execute("COMMIT")
        # COMMIT outside a transaction is a warning too
        conn.execute("COMMIT")
        self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)
        self.assertEqual(notices[-1][:2], ("WARNING", "25P01"), notices)

    def test_transaction_variants_accepted(self):
        conn = self.pg3(self.ws, autocommit=True)
        conn.execute("SELECT count(*) FROM in_c_sales.orders")  # attached before the transactions
        for begin in ("BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN READ ONLY",
                      "START TRANSACTION ISOLATION LEVEL READ COMMITTED", "BEGIN TRANSACTION READ WRITE"):
            with self.subTest(begin=begin):
                try:
                    conn.execute(begin)
                    self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS)
                    self.assertEqual(conn.execute("SELECT count(*) FROM in_c_sales.orders").fetchone(), (10,))
                    conn.execute("COMMIT")
                    self.assertEqual(conn.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)
                finally:
                    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        conn.execute("ROLLBACK")

    def test_project_table_first_read_inside_a_transaction(self):
        """A fresh session on a fresh workspace whose first statement is BEGIN (psycopg2 and
        pgJDBC with autocommit off) reads project tables."""
        conn = self.pg2(self.ws, autocommit=False)
        self.assertEqual(self.q2(conn, "SELECT count(*), sum(amount) FROM in_c_sales.orders"), [(10, 550)])
        conn.rollback()
        conn3 = self.pg3(self.make_ws(), autocommit=True)
        conn3.execute("BEGIN")
        self.assertEqual(conn3.execute("SELECT count(*) FROM in_c_sales.orders").fetchone(), (10,))
        conn3.execute("COMMIT")

    # ---- settings --------------------------------------------------------------------------

    def test_set_show_reset_client_settings(self):
        conn = self.pg3(self.ws)
        cases = [("application_name", "'my app'", "my app"),
                 ("statement_timeout", "'5s'", "5s"),
                 ("TimeZone", "'Europe/Prague'", "Europe/Prague"),
                 ("DateStyle", "'ISO, DMY'", "ISO, DMY"),
                 ("search_path", "in_c_sales, public", None),
                 ("extra_float_digits", "3", "3")]
        for name, value, shown in cases:
            with self.subTest(name=name):
                before = conn.execute("SHOW %s" % name).fetchone()[0]
                cur = conn.execute("SET %s = %s" % (name, value))
                self.assertEqual(cur.statusmessage, "SET")
                now = conn.execute("SHOW %s" % name).fetchone()[0]
                if shown is not None:
                    self.assertEqual(now, shown)
                else:
                    self.assertIn("in_c_sales", now)
                cur = conn.execute("RESET %s" % name)
                self.assertEqual(cur.statusmessage, "RESET")
                self.assertEqual(conn.execute("SHOW %s" % name).fetchone()[0], before)

    def test_settings_are_per_session(self):
        a = self.pg3(self.ws)
        b = self.pg3(self.ws)
        a.execute("SET application_name = 'only-a'")
        a.execute("SET extra_float_digits = 2")
        a.execute("SET TimeZone = 'Asia/Tokyo'")
        self.assertNotEqual(b.execute("SHOW application_name").fetchone()[0], "only-a")
        self.assertNotEqual(b.execute("SHOW extra_float_digits").fetchone()[0], "2")
        self.assertNotEqual(b.execute("SHOW TimeZone").fetchone()[0], "Asia/Tokyo")
        self.assertEqual(a.execute("SHOW TimeZone").fetchone()[0], "Asia/Tokyo")

    def test_search_path_resolves_unqualified_names(self):
        conn = self.pg3(self.ws)
        conn.execute("SET search_path = in_c_sales, public")
        self.assertEqual(conn.execute("SELECT count(*) FROM orders").fetchone(), (10,))

    def test_set_local_and_set_session(self):
        conn = self.pg3(self.ws)
        conn.execute("SET SESSION application_name = 'sess'")
        self.assertEqual(conn.execute("SHOW application_name").fetchone(), ("sess",))
        conn.execute("BEGIN")
        conn.execute("SET LOCAL application_name = 'loc'")
        self.assertEqual(conn.execute("SHOW application_name").fetchone(), ("loc",))
        conn.execute("COMMIT")
        self.assertEqual(conn.execute("SHOW application_name").fetchone(), ("sess",))

    def test_current_setting_and_set_config(self):
        conn = self.pg3(self.ws)
        conn.execute("SET application_name = 'cs'")
        self.assertEqual(conn.execute("SELECT current_setting('application_name')").fetchone(), ("cs",))
        self.assertEqual(conn.execute("SELECT set_config('application_name', 'sc', false)").fetchone(), ("sc",))
        self.assertEqual(conn.execute("SHOW application_name").fetchone(), ("sc",))

    def test_timezone_setting_applies_to_timestamptz(self):
        conn = self.pg2(self.ws)
        self.q2(conn, "SET TimeZone = 'Europe/Prague'")
        v = self.scalar(conn, "SELECT '2024-01-01 12:00:00+00'::TIMESTAMPTZ")
        self.assertEqual((v.hour, v.utcoffset()), (13, datetime.timedelta(hours=1)), v)

    def test_duckdb_settings_refused_with_42501(self):
        conn = self.pg2(self.ws)
        before = self.scalar(conn, "SELECT current_setting('threads')")
        for sql in ("SET threads = 1", "SET threads TO 64", "SET memory_limit = '100GB'",
                    "SET memory_limit = '1MB'", "SET enable_external_access = true",
                    "SET GLOBAL threads = 1", "SET SESSION memory_limit = '1GB'",
                    "SET GLOBAL enable_external_access = true", "RESET memory_limit", "RESET threads",
                    "SET temp_directory = '/tmp'", "SET allowed_directories = ['/']"):
            with self.subTest(sql=sql):
                self.assertSqlError(conn, sql, "42501")
        self.assertEqual(self.scalar(conn, "SELECT current_setting('threads')"), before)
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM in_c_sales.orders"), 10)

    def test_version(self):
        v = self.scalar(self.conn, "SELECT version()")
        self.assertRegex(v, r"^PostgreSQL 15\.\d+ ")
        self.assertIn("duckspace", v)
        self.assertRegex(self.scalar(self.conn, "SHOW server_version"), r"^15\.\d+")

    def test_wide_results_keep_every_column(self):
        """More than 256 columns used to break the protocol: RowDescription announced
        them all, DataRow carried 256 (psql: unexpected field count in "D" message)."""
        cols = ", ".join("%d AS c%d" % (i, i) for i in range(300))
        rc, out, err = self.psql(self.ws, "-A", "-t", sql="SELECT %s FROM range(3)" % cols)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), ["|".join(str(i) for i in range(300))] * 3)
        conn = self.pg3(self.ws)
        for prepare in (False, True):
            with self.subTest(prepare=prepare):
                cur = conn.execute("SELECT %s FROM range(2)" % cols, prepare=prepare)
                self.assertEqual(len(cur.description), 300)
                self.assertEqual(cur.fetchall(), [tuple(range(300))] * 2)
        self.q2(self.conn, "CREATE TABLE wide AS SELECT %s" % cols)
        self.assertEqual(self.q2(self.conn, "SELECT * FROM wide"), [tuple(range(300))])

    def test_more_columns_than_postgresql_allows_is_54011(self):
        cols = ", ".join("%d AS c%d" % (i, i) for i in range(1665))
        self.assertSqlError(self.conn, "SELECT " + cols, "54011")
        self.assertPgError("54011", self.pg3(self.ws).execute, "SELECT " + cols, prepare=True)
        self.assertEqual(self.scalar(self.conn, "SELECT 1"), 1)
        ok = ", ".join("%d AS c%d" % (i, i) for i in range(1664))
        self.assertEqual(len(self.q2(self.conn, "SELECT " + ok)[0]), 1664)

    # ---- imports while connected ------------------------------------------------------

    def test_import_through_rest_seen_in_the_next_transaction(self):
        conn = self.pg3(self.ws, autocommit=True)
        self.assertEqual(conn.execute("SELECT count(*) FROM in_c_sales.orders").fetchone(), (10,))
        conn.execute("BEGIN")
        self.assertEqual(conn.execute("SELECT count(*) FROM in_c_sales.orders").fetchone(), (10,))
        self.import_csv(self.pid, self.orders, "id,amount,name\n11,110,n11\n12,120,n12\n", incremental=True)
        conn.execute("COMMIT")
        self.assertEqual(conn.execute("SELECT count(*), max(id) FROM in_c_sales.orders").fetchone(), (12, 12))
        # a full (non-incremental) import replaces the rows
        self.import_csv(self.pid, self.orders, "id,amount,name\n1,1,x\n")
        self.assertEqual(conn.execute("SELECT count(*), sum(amount) FROM in_c_sales.orders").fetchone(), (1, 1))

    def test_table_created_after_connect_is_visible(self):
        conn = self.pg3(self.ws, autocommit=True)
        conn.execute("SELECT 1")
        self.sales_table(name="late", rows=[(1, 2, "a"), (2, 3, "b")])
        self.assertEqual(conn.execute("SELECT sum(amount) FROM in_c_sales.late").fetchone(), (5,))



class PgSuspendedResultLimit(PgTestCase):
    """The unread rest of a cursor is kept in memory when another statement runs, up to
    suspended_result_memory per session; past it the other statement is refused (54000)
    and the cursor stays whole. Transaction-scoped portals are dropped at COMMIT, so
    leaving a big cursor unread never makes a COMMIT fail."""

    server_args = ["--suspended-result-memory", "1MB"]

    def setUp(self):
        super().setUp()
        self.ws = self.make_ws()

    def test_over_the_limit_the_other_statement_is_refused_and_the_cursor_is_whole(self):
        conn = self.pg2(self.ws, autocommit=True)
        cur = conn.cursor()
        cur.execute("DECLARE h CURSOR WITH HOLD FOR SELECT i, 'label-' || i AS l FROM range(300000) t(i) ORDER BY i")
        cur.execute("FETCH 5 FROM h")
        self.assertEqual([r[0] for r in cur.fetchall()], [0, 1, 2, 3, 4])
        e = self.assertPgError("54000", cur.execute, "SELECT 42")
        self.assertIn('cursor "h"', str(e))
        self.assertIn("suspended_result_memory", str(e))
        cur.execute("FETCH ALL FROM h")  # nothing was lost: part kept in memory, the rest still streaming
        rows = cur.fetchall()
        self.assertEqual((len(rows), rows[0], rows[-1]), (299995, (5, "label-5"), (299999, "label-299999")))
        self.assertEqual(sum(r[0] for r in rows), sum(range(5, 300000)))
        cur.execute("SELECT 42")  # read to the end: nothing to keep any more
        self.assertEqual(cur.fetchall(), [(42,)])
        cur.execute("CLOSE h")

    def test_under_the_limit_other_statements_run_between_fetches(self):
        conn = self.pg2(self.ws, autocommit=False)
        cur = conn.cursor()
        cur.execute("DECLARE c CURSOR FOR SELECT i FROM range(20000) t(i) ORDER BY i")
        got = []
        for _ in range(5):
            cur.execute("FETCH 1000 FROM c")
            got += [r[0] for r in cur.fetchall()]
            cur.execute("SELECT count(*) FROM range(10)")
            self.assertEqual(cur.fetchone(), (10,))
        cur.execute("FETCH ALL FROM c")
        got += [r[0] for r in cur.fetchall()]
        self.assertEqual(got, list(range(20000)))
        conn.commit()

    def test_commit_with_a_big_unread_cursor_or_portal_succeeds(self):
        conn = self.pg2(self.ws, autocommit=False)
        named = conn.cursor(name=uniq("big"))
        named.itersize = 100
        named.execute("SELECT i, repeat('x', 100) FROM range(500000) t(i)")
        self.assertEqual(len(named.fetchmany(10)), 10)
        conn.commit()  # the cursor ends with the transaction; its rest is not kept
        cur = conn.cursor()
        cur.execute("SELECT 7")
        self.assertEqual(cur.fetchone(), (7,))
        conn.commit()

    def test_commit_drops_a_suspended_protocol_portal(self):
        """As pgJDBC with a fetch size and autocommit off: read 50 rows of a big result,
        COMMIT through the extended protocol, run another query."""
        c = self.ws["connection"]
        outcome, info, sock = scram_login(self.server.pg_port, c["username"], c["database"], c["password"])
        self.assertEqual(outcome, "ok", info)
        self.addCleanup(sock.close)
        m = pg_msg
        simple_query(sock, "BEGIN")
        sock.sendall(m(b"P", b"\0SELECT i, repeat('y', 100) FROM range(500000) t(i)\0\0\0") +
                     m(b"B", b"C_1\0\0\0\0\0\0\0\0") + m(b"E", b"C_1\0" + struct.pack("!I", 50)) + m(b"S", b""))
        got = read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"12" + b"D" * 50 + b"sZ", got[:3])
        sock.sendall(m(b"P", b"\0COMMIT\0\0\0") + m(b"B", b"\0\0\0\0\0\0\0\0") + m(b"E", b"\0\0\0\0\0") +
                     m(b"S", b""))
        got = read_to_ready(sock)
        self.assertEqual(b"".join(t for t, _ in got), b"12CZ", got)
        got = simple_query(sock, "SELECT 8")
        self.assertEqual([p[6:] for t, p in got if t == b"D"], [b"8"], got)
        sock.sendall(m(b"E", b"C_1\0\0\0\0\0") + m(b"S", b""))  # gone with its transaction
        got = read_to_ready(sock)
        self.assertEqual(parse_error_fields([p for t, p in got if t == b"E"][0]).get("C"), "34000", got)


if __name__ == "__main__":
    harness.main()
