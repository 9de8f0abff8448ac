"""Differential tests: the same statements, through the same client (psycopg2 with its
default settings), against a real PostgreSQL 15 (tests/integration/pgref.py) and a
duckspace workspace holding the same data. Each step must give the same outcome: on
success the same column names, rows (as psycopg2 parses them) and command tag; on
failure the same SQLSTATE.

The cases are what a workspace already promises to do as PostgreSQL does. Statements
whose answer still differs join this file as they are fixed, such as type input like
'\\x0102ff'::bytea, three bytes in PostgreSQL, five in DuckDB's BLOB cast (issue "Every
PostgreSQL type in both formats"). The catalogs are compared by test_pg_catalog_corpus.py.

Run: /usr/bin/python3 tests/integration/test_pg_reference.py [-v] [Class.test_name]"""

import psycopg2

import harness
from pghelpers import PgTestCase
from pgref import PgReference

ROWS = [(i, i * 10, "n%d" % i) for i in range(1, 11)]
WIDE = ", ".join("%d AS c%d" % (i, i) for i in range(300))
TOO_WIDE = ", ".join("%d AS c%d" % (i, i) for i in range(1665))

# (name, [statements run one after another on one connection, autocommit off])
CASES = [
    ("project table rows", ["SELECT id, amount, name FROM in_c_sales.orders ORDER BY id"]),
    ("filter and order", ["SELECT name FROM in_c_sales.orders WHERE amount > 50 ORDER BY id DESC LIMIT 3"]),
    ("aliased aggregates", ["SELECT count(*)::int AS n, min(amount) AS lo, max(name) AS hi FROM in_c_sales.orders"]),
    ("scalar types as text", ["SELECT 1 AS a, 'x' AS b, NULL::text AS c, true AS d, 1.5::float8 AS e, "
                              "12.50::numeric(10,2) AS f, (-3)::smallint AS g, 2147483648::bigint AS h"]),
    ("dates and times", ["SELECT DATE '2024-02-29' AS d, TIMESTAMP '2024-01-01 12:34:56.5' AS ts, "
                         "TIME '23:59:59' AS t, INTERVAL '1 day 02:03:04' AS i"]),
    ("uuid", ["SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u"]),
    ("300 columns", ["SELECT %s FROM (VALUES (1), (2)) AS v(x)" % WIDE]),
    ("1665 columns is 54011", ["SELECT " + TOO_WIDE]),
    ("undefined table", ["SELECT * FROM no_such_table"]),
    ("undefined column", ["SELECT no_such_column FROM in_c_sales.orders"]),
    ("syntax error", ["SELEC 1"]),
    ("invalid integer text", ["SELECT 'abc'::int AS x"]),
    ("aborted transaction", ["SELECT * FROM no_such_table", "SELECT 1 AS one"]),
    ("command tags", ["CREATE TABLE ref_t (id integer PRIMARY KEY, v text)",
                      "INSERT INTO ref_t VALUES (1, 'a'), (2, 'b')",
                      "UPDATE ref_t SET v = 'c' WHERE id = 2",
                      "SELECT id, v FROM ref_t ORDER BY id",
                      "DELETE FROM ref_t WHERE id = 1",
                      "DROP TABLE ref_t"]),
    ("unique violation", ["CREATE TABLE ref_u (id integer PRIMARY KEY)", "INSERT INTO ref_u VALUES (1), (1)"]),
    # PostgreSQL's names for unaliased results (pgexec/analyze.c): count, ?column?, the
    # cast's type, the function's name, column1 for VALUES
    ("result names as PostgreSQL's",
     ["SELECT count(*)::int, 1, 'a'::text, min(id) + 1, CASE WHEN min(id) > 0 THEN 1 END, max(name), "
      "coalesce(max(name), 'x'), (SELECT 2), EXISTS (SELECT 1), id FROM in_c_sales.orders GROUP BY id ORDER BY id LIMIT 2"]),
    ("VALUES names", ["VALUES (1, 'a'), (2, 'b')"]),
    ("names in a UNION and of a star", ["SELECT *, amount * 2 FROM in_c_sales.orders WHERE id = 1 UNION ALL "
                                        "SELECT 0, 0, 'z', 0 ORDER BY 1"]),
    # ~ searches in PostgreSQL (DuckDB's matches whole strings)
    ("regular expressions", ["SELECT 'pg_catalog' ~ '^pg_' AS a, 'abc' ~ 'b' AS b, 'ABC' ~* 'b' AS c, "
                             "'abc' !~ 'z' AS d, 'abc' !~* 'B' AS e, 'abc' OPERATOR(pg_catalog.~) 'c$' AS f"]),
    ("array literals and ANY / ALL", ["SELECT '{1,2,3}'::int[] AS a, 2 = ANY('{1,2}') AS b, 3 <> ALL('{1,2}'::int[]) AS c, "
                                      "name FROM in_c_sales.orders WHERE name = ANY('{n1,n3}') ORDER BY id"]),
    ("the workspace schema is public", ["SELECT current_schema()",
                                        "CREATE TABLE public.ref_p (a int)", "SELECT count(*) FROM public.ref_p"]),
    ("join a workspace table with a project table",
     ["CREATE TABLE ref_j AS SELECT id, amount * 2 AS doubled FROM in_c_sales.orders WHERE id <= 3",
      "SELECT o.name, j.doubled FROM ref_j j JOIN in_c_sales.orders o USING (id) ORDER BY o.id"]),
]


def outcome(conn, sql):
    """('ok', column names, rows, command tag) or ('error', SQLSTATE)."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            if cur.description is None:
                return ("ok", None, None, cur.statusmessage)
            rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cur.fetchall()]
            return ("ok", [d.name for d in cur.description], rows, cur.statusmessage)
    except psycopg2.Error as e:
        return ("error", e.pgcode)


class AgainstPostgres(PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ref = PgReference()
        try:
            cls.ref.start()
            conn = cls.ref.connect()
            with conn.cursor() as cur:
                cur.execute("CREATE SCHEMA in_c_sales")
                cur.execute("CREATE TABLE in_c_sales.orders (id bigint, amount bigint, name text)")
                cur.executemany("INSERT INTO in_c_sales.orders VALUES (%s, %s, %s)", ROWS)
            conn.close()
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
        self.sales_table(rows=ROWS)
        self.ws = self.make_ws()

    def test_the_reference_is_postgresql_15(self):
        conn = self.ref.connect()
        self.addCleanup(conn.close)
        self.assertEqual(conn.server_version // 10000, 15)

    def test_same_outcome_as_postgresql(self):
        for name, steps in CASES:
            with self.subTest(case=name):
                ref = self.ref.connect(autocommit=False)
                ds = self.pg2(self.ws, autocommit=False)
                try:
                    want = [outcome(ref, sql) for sql in steps]
                    got = [outcome(ds, sql) for sql in steps]
                finally:
                    ref.rollback()
                    ref.close()
                    ds.rollback()
                    ds.close()
                self.assertEqual(got, want)

    def test_numeric_precision_and_scale(self):
        """RowDescription carries numeric(p,s)'s type modifier, as PostgreSQL's: clients read
        precision and scale from it (psycopg2's description, JDBC's getPrecision/getScale)."""
        sql = "SELECT 12.50::numeric(10,2) AS f, 1::numeric(38,10) AS g, amount::numeric(18,0) AS h FROM in_c_sales.orders LIMIT 1"
        ref = self.ref.connect()
        self.addCleanup(ref.close)
        ds = self.pg2(self.ws)
        descs = []
        for conn in (ref, ds):
            with conn.cursor() as cur:
                cur.execute(sql)
                descs.append([(d.name, d.type_code, d.precision, d.scale) for d in cur.description])
        self.assertEqual(descs[1], descs[0])
        self.assertEqual(descs[0][0], ("f", 1700, 10, 2))


if __name__ == "__main__":
    harness.main()
