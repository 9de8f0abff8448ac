"""Every PostgreSQL type in both formats, through real drivers with their DEFAULT settings,
compared with a real PostgreSQL 15 (pgref.py) running the same code: psycopg 3 (`%s`,
`%b`, executemany, binary results), asyncpg (binary for everything: typed parameters and
typed fetch, arrays with NULLs, numeric Decimals, infinity dates) and pgJDBC (BigDecimal,
UUID, arrays with setArray/getArray, java.time with setObject). Declared parameter types
type the slot: `SELECT $1` bound as a bool or a uuid comes back as that type.

Each check runs the same function on both targets and compares what the driver returns
(values and their Python/Java types, column type OIDs, SQLSTATEs).

asyncpg decodes every array type but oid[] and text[] through its type-introspection
query, whose pg_attribute.atttypid array must be oid[] (a core codec of asyncpg's): the
compat catalogs hold it as UINTEGER, which is PostgreSQL's oid.

Not covered, and why: `SELECT $1` declared json/jsonb (DuckDB 1.4.4's C API has no
JSON-typed value: such a slot is text).

Run: /usr/bin/python3 tests/integration/test_pg_types.py [-v] [Class.test_name]"""

import asyncio
import datetime
import decimal
import math
import uuid

import asyncpg
import psycopg
from psycopg.types.json import Json, Jsonb

import harness
from pghelpers import Jdbc, PgTestCase, jdbc_url
from pgref import PASSWORD, PgReference

D = decimal.Decimal
UTC = datetime.timezone.utc
PLUS2 = datetime.timezone(datetime.timedelta(hours=2))
U = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")

# One value of every type psycopg 3 adapts, each sent as `%s` (psycopg picks the format:
# binary for numbers, dates, times, uuid...) and `%b` (binary).
VALUES = [
    True, 7, 2 ** 40, -(2 ** 62), D("123.45"), D("-0.00120"), D("99999999999999999999999999999999999999"),
    1.5, -2.25e300, float("inf"), "héllo", "", b"\x00\xff\x01", datetime.date(2024, 2, 29),
    datetime.date(1, 1, 1), datetime.time(13, 45, 6, 789000), datetime.datetime(2024, 2, 29, 10, 11, 12, 123456),
    datetime.datetime(2024, 2, 29, 10, 11, 12, tzinfo=PLUS2), datetime.timedelta(days=-1, seconds=7200, microseconds=5),
    U, [1, None, 3], ["a", None, "b c", ""], [D("1.5"), None, D("-2.5")],
    [datetime.date(2024, 1, 1), None], [U], [True, False, None], [1.5, None], [b"\x01", None],
    [datetime.datetime(2024, 1, 1, 1, 2, 3, tzinfo=UTC), None], [datetime.timedelta(hours=1)],
]


def show(v):
    """A comparable picture of a value: its Python type and value (NaN-safe)."""
    if isinstance(v, float) and math.isnan(v):
        return ("float", "nan")
    if isinstance(v, list):
        return ("list", [show(x) for x in v])
    return (type(v).__name__, v)


class TypesAgainstPostgres(PgTestCase):
    maxDiff = 8000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ref = PgReference()
        try:
            cls.ref.start()
        except Exception:
            cls.ref.stop()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.ref.stop()
        finally:
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.ws = self.make_ws()

    # ---- targets ---------------------------------------------------------------------------

    def dsns(self):
        """(name, libpq keyword dict) of both targets."""
        return [("postgres", self.ref.dsn()), ("duckspace", self.dsn(self.ws))]

    def on_both(self, fn):
        """fn(dsn) on PostgreSQL and on the workspace; asserts the same result."""
        got = {name: fn(dsn) for name, dsn in self.dsns()}
        self.assertEqual(got["duckspace"], got["postgres"])
        return got["postgres"]

    def pg3_conn(self, dsn):
        conn = psycopg.connect(autocommit=True, **dsn)
        self.addCleanup(conn.close)
        return conn

    # ---- psycopg 3 -------------------------------------------------------------------------

    def test_psycopg_round_trips_every_type_as_s_and_b(self):
        def run(dsn):
            out = []
            with psycopg.connect(autocommit=True, **dsn) as conn:
                for fmt in ("%s", "%b"):
                    for binary_results in (False, True):
                        for v in VALUES:
                            with conn.cursor(binary=binary_results) as cur:
                                try:
                                    cur.execute("SELECT " + fmt, [v])
                                    got = (cur.description[0].type_code, show(cur.fetchone()[0]))
                                except psycopg.Error as e:
                                    got = ("error", e.sqlstate, str(e))
                            out.append((fmt, binary_results, repr(v), got))
            return out

        got = dict((name, run(dsn)) for name, dsn in self.dsns())
        for mine, ref in zip(got["duckspace"], got["postgres"]):
            with self.subTest(fmt=ref[0], binary=ref[1], value=ref[2]):
                self.assertEqual(mine, ref)
                self.assertNotEqual(ref[3][0], "error")

    def test_psycopg_executemany_into_typed_columns(self):
        rows = [(1, datetime.date(2024, 2, 29), datetime.time(1, 2, 3, 4), datetime.datetime(2024, 2, 29, 10, 11, 12, 5),
                 datetime.datetime(2024, 2, 29, 10, 11, 12, tzinfo=PLUS2), datetime.timedelta(days=3, hours=4), U,
                 D("12.34"), b"\x00\xde\xad", Json({"k": 1})),
                (2, datetime.date(1999, 12, 31), datetime.time(23, 59, 59), datetime.datetime(1900, 1, 1),
                 datetime.datetime(2000, 1, 1, tzinfo=UTC), datetime.timedelta(microseconds=-1), uuid.UUID(int=0),
                 D("-0.01"), b"", Json([1, 2])),
                (3, None, None, None, None, None, None, None, None, None)]

        def run(dsn):
            conn = self.pg3_conn(dsn)
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE tm (id int, d date, t time, ts timestamp, tz timestamptz, iv interval, "
                            "u uuid, n numeric(10,2), b bytea, j json)")
                cur.executemany("INSERT INTO tm VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
                cur.executemany("INSERT INTO tm VALUES (%b, %b, %b, %b, %b, %b, %b, %b, %b, %b)",
                                [(r[0] + 10,) + r[1:] for r in rows])
                cur.execute("SELECT * FROM tm ORDER BY id")
                text = [tuple(show(x) for x in r) for r in cur.fetchall()]
            with conn.cursor(binary=True) as cur:
                cur.execute("SELECT * FROM tm ORDER BY id")
                binary = [tuple(show(x) for x in r) for r in cur.fetchall()]
            return text, binary

        text, binary = self.on_both(run)
        self.assertEqual(len(text), 6)
        self.assertEqual(text, binary)

    def test_select_param_declared_bool_or_uuid_has_that_type(self):
        def run(dsn):
            conn = self.pg3_conn(dsn)
            out = []
            with conn.cursor() as cur:
                for v in (True, U, datetime.date(2024, 1, 2), 5):
                    cur.execute("SELECT %s AS x", [v])
                    out.append((cur.description[0].type_code, show(cur.fetchone()[0])))
            return out

        got = self.on_both(run)
        self.assertEqual([g[0] for g in got], [16, 2950, 1082, 21])  # psycopg sends 5 as int2

    def test_numeric_beyond_38_digits_and_nan_are_refused(self):
        """DuckDB's DECIMAL holds 38 digits and no NaN: a clear 22003, never a wrong value
        (PostgreSQL accepts these; this is the documented difference)."""
        conn = self.pg3_conn(self.dsn(self.ws))
        for v in (D("1" * 39), D("NaN"), D("Infinity"), D("1e-40")):
            with self.subTest(value=v), conn.cursor() as cur:
                with self.assertRaises(psycopg.Error) as cm:
                    cur.execute("SELECT %b::numeric", [v])
                self.assertEqual(cm.exception.sqlstate, "22003")
                self.assertIn("numeric", str(cm.exception))

    def test_bad_binary_parameter_is_22P03(self):
        def run(dsn):
            conn = self.pg3_conn(dsn)
            out = []
            # int4 declared: 5 bytes sent (22P03), 3 bytes sent (08P01, "insufficient data
            # left in message"), as PostgreSQL's int4recv
            for data in (b"\x00\x00\x00\x01\x02", b"\x00\x00\x01"):
                res = conn.pgconn.exec_params(b"SELECT $1", [data], [23], [1])
                out.append(res.error_field(psycopg.pq.DiagnosticField.SQLSTATE))
            res = conn.pgconn.exec_params(b"SELECT 1", [], [], [])
            out.append(res.status)
            return out

        self.assertEqual(self.on_both(run), [b"22P03", b"08P01", psycopg.pq.ExecStatus.TUPLES_OK])

    # ---- asyncpg ---------------------------------------------------------------------------

    def asyncpg_run(self, dsn, coro_fn):
        async def main():
            conn = await asyncpg.connect(host=dsn["host"], port=dsn["port"], user=dsn["user"],
                                         password=dsn["password"], database=dsn["dbname"], ssl=False)
            try:
                return await coro_fn(conn)
            finally:
                await conn.close()
        return asyncio.run(main())

    def test_asyncpg_typed_fetch_of_every_type(self):
        sql = ("SELECT true AS b, 2::int2 AS i2, 4::int4 AS i4, 8::int8 AS i8, 1.5::float4 AS f4, 2.5::float8 AS f8, "
               "12.34::numeric(10,2) AS n, 'x'::text AS t, 'ab'::bytea AS by, DATE '2024-02-29' AS d, "
               "'infinity'::date AS dinf, '-infinity'::date AS dninf, TIME '13:45:06.5' AS tm, "
               "'13:45:06+02'::timetz AS ttz, TIMESTAMP '2024-02-29 10:11:12.5' AS ts, "
               "'infinity'::timestamp AS tsinf, '2024-02-29 10:11:12+00'::timestamptz AS tstz, "
               "INTERVAL '1 day 02:03:04' AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, "
               "ARRAY['a', NULL, 'b c']::text[] AS atext, ARRAY[]::text[] AS aempty")

        async def fetch(conn):
            row = await conn.fetchrow(sql)
            return [(k, show(v)) for k, v in row.items()]

        self.on_both(lambda dsn: self.asyncpg_run(dsn, fetch))

    def test_asyncpg_arrays_of_every_type(self):
        # each array type makes asyncpg run its type-introspection query once
        sql = ("SELECT ARRAY[true, NULL]::bool[] AS ab, ARRAY[1, NULL, 3]::int2[] AS ai2, "
               "ARRAY[1, NULL, 3]::int4[] AS ai4, ARRAY[2 ^ 40, NULL]::int8[] AS ai8, "
               "ARRAY[1.5, NULL]::float4[] AS af4, ARRAY[2.5::float8, NULL, 'NaN'::float8] AS af8, "
               "ARRAY[1.25, NULL]::numeric(10,2)[] AS an, ARRAY['x', NULL]::varchar[] AS avc, "
               "ARRAY['ab'::bytea, NULL] AS aby, ARRAY[DATE '2024-02-29', NULL, 'infinity'] AS ad, "
               "ARRAY[TIME '13:45:06.5', NULL] AS atm, ARRAY[TIMESTAMP '2024-02-29 10:11:12.5', NULL] AS ats, "
               "ARRAY['2024-02-29 10:11:12+00'::timestamptz, NULL] AS atstz, "
               "ARRAY[INTERVAL '1 day 02:03:04', NULL] AS aiv, "
               "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, NULL] AS au, ARRAY[]::int4[] AS aempty")

        async def fetch(conn):
            row = await conn.fetchrow(sql)
            return [(k, None if v is None else [show(e) for e in v]) for k, v in row.items()]

        self.on_both(lambda dsn: self.asyncpg_run(dsn, fetch))

    def test_asyncpg_array_parameters(self):
        async def run(conn):
            await conn.execute("CREATE TABLE tarr (a int4[], d date[], n numeric(10,2)[], u uuid[])")
            await conn.execute("INSERT INTO tarr VALUES ($1, $2, $3, $4)", [1, None, 3],
                               [datetime.date(2024, 2, 29), None], [D("1.25"), None], [U, None])
            row = await conn.fetchrow("SELECT a, d, n, u, $1::int8[] AS p FROM tarr", [2 ** 40, None])
            return [(k, [show(e) for e in v]) for k, v in row.items()]

        self.on_both(lambda dsn: self.asyncpg_run(dsn, run))

    def test_asyncpg_binary_parameters_of_every_type(self):
        cols = [("b", "boolean", True), ("i2", "smallint", 2), ("i4", "integer", -4), ("i8", "bigint", 2 ** 40),
                ("f4", "real", 1.5), ("f8", "double precision", -0.25), ("n", "numeric(20,4)", D("-12345.6789")),
                ("t", "text", "héllo"), ("vc", "varchar", "v"), ("bt", "bytea", b"\x00\xff"),
                ("d", "date", datetime.date(2024, 2, 29)), ("dinf", "date", datetime.date.max),
                ("tm", "time", datetime.time(1, 2, 3, 4)),
                ("ts", "timestamp", datetime.datetime(2024, 2, 29, 10, 11, 12, 13)),
                ("tstz", "timestamptz", datetime.datetime(2024, 2, 29, 10, 11, 12, tzinfo=UTC)),
                ("iv", "interval", datetime.timedelta(days=2, seconds=3, microseconds=4)), ("u", "uuid", U),
                ("atext", "text[]", ["a", None, "b c"])]
        create = "CREATE TABLE ta (%s)" % ", ".join("%s %s" % (c, t) for c, t, _ in cols)
        insert = "INSERT INTO ta VALUES (%s)" % ", ".join("$%d" % (i + 1) for i in range(len(cols)))

        async def run(conn):
            await conn.execute(create)
            await conn.execute(insert, *[v for _, _, v in cols])
            await conn.executemany(insert, [[v for _, _, v in cols], [None] * len(cols)])
            rows = await conn.fetch("SELECT * FROM ta")
            # a Decimal parameter for a numeric slot, and a typed fetch of it
            n = await conn.fetchval("SELECT $1::numeric(20,4) + 1", D("0.5"))
            return [[(k, show(v)) for k, v in r.items()] for r in rows], show(n)

        rows, n = self.on_both(lambda dsn: self.asyncpg_run(dsn, run))
        self.assertEqual(len(rows), 3)
        self.assertEqual(n, ("Decimal", D("1.5000")))

    # ---- pgJDBC ----------------------------------------------------------------------------

    JAVA = r"""
import java.math.BigDecimal;
import java.sql.*;
import java.time.*;
import java.util.*;

public class PgTypes {
    static String s(Object o) {
        if (o == null) return "null";
        if (o instanceof Array) {
            try { return "array:" + ((Array) o).getBaseTypeName() + Arrays.deepToString((Object[]) ((Array) o).getArray()); }
            catch (SQLException e) { return "array-error:" + e.getSQLState(); }
        }
        if (o instanceof byte[]) return "bytes:" + Arrays.toString((byte[]) o);
        return o.getClass().getSimpleName() + ":" + o;
    }

    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", a[1]);
        p.setProperty("password", a[2]);
        try (Connection c = DriverManager.getConnection(a[0], p)) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE tj (n numeric(20,5), u uuid, ai integer[], tx text[], d date, t time, "
                         + "ts timestamp, tz timestamptz, b bytea)");
            }
            UUID u = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tj VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (int k = 0; k < 7; k++) { // past prepareThreshold: named statements, binary transfer
                    ps.setBigDecimal(1, new BigDecimal("12345.6789" + k));
                    ps.setObject(2, u);
                    ps.setArray(3, c.createArrayOf("int4", new Integer[] {1, null, k}));
                    ps.setArray(4, c.createArrayOf("text", new String[] {"a", null, "b \"c\""}));
                    ps.setObject(5, LocalDate.of(2024, 2, 29));
                    ps.setObject(6, LocalTime.of(13, 45, 6, 789000000));
                    ps.setObject(7, LocalDateTime.of(2024, 2, 29, 10, 11, 12, 123456000));
                    ps.setObject(8, OffsetDateTime.of(2024, 2, 29, 10, 11, 12, 0, ZoneOffset.ofHours(2)));
                    ps.setBytes(9, new byte[] {0, -1, 7});
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM tj ORDER BY n");
                 ResultSet r = ps.executeQuery()) {
                while (r.next()) {
                    System.out.println("row\t" + s(r.getBigDecimal(1)) + "\t" + s(r.getObject(2)) + "\t"
                        + s(r.getArray(3)) + "\t" + s(r.getArray(4)) + "\t" + s(r.getObject(5, LocalDate.class)) + "\t"
                        + s(r.getObject(6, LocalTime.class)) + "\t" + s(r.getObject(7, LocalDateTime.class)) + "\t"
                        + s(r.getObject(8, OffsetDateTime.class)) + "\t" + s(r.getBytes(9)));
                }
            }
            for (Object v : new Object[] {Boolean.TRUE, u, new BigDecimal("-1.50"), LocalDate.of(2024, 1, 2)}) {
                for (int k = 0; k < 6; k++) {
                    try (PreparedStatement ps = c.prepareStatement("SELECT ?")) {
                        ps.setObject(1, v);
                        try (ResultSet r = ps.executeQuery()) {
                            r.next();
                            if (k == 5) System.out.println("select\t" + r.getMetaData().getColumnTypeName(1) + "\t" + s(r.getObject(1)));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            System.out.println("error\t" + e.getSQLState() + "\t" + e.getMessage());
            System.exit(3);
        }
    }
}
"""

    def test_pgjdbc_bigdecimal_uuid_arrays_java_time(self):
        jdbc = Jdbc("PgTypes", self.JAVA)
        self.addCleanup(jdbc.cleanup)
        ref_url = "jdbc:postgresql://127.0.0.1:%d/postgres" % self.ref.port
        rc, want, err = jdbc.run(ref_url, "postgres", PASSWORD)
        self.assertEqual(rc, 0, want + err[-3000:])
        c = self.ws["connection"]
        rc, got, err = jdbc.run(jdbc_url(self.ws, self.server), c["username"], c["password"])
        self.assertEqual(rc, 0, got + err[-3000:])
        self.assertEqual(got.splitlines(), want.splitlines())
        self.assertIn("select\tbool\tBoolean:true", got)
        self.assertIn("select\tuuid\tUUID:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", got)


if __name__ == "__main__":
    harness.main()
