"""Real clients browsing a workspace as an analyst's tool would: psql 15 meta-commands,
pgJDBC DatabaseMetaData (what DBeaver and DataGrip use), the SQLAlchemy 1.4 inspector with
pandas.read_sql_table, and ODBC catalog calls through Debian's psqlODBC (what Tableau, Power
BI and Excel use).

Every test runs against two targets shaped the same way (compat_shape.py): a real
PostgreSQL 15 (ClientsOnPostgres, which proves the test right) and a duckspace workspace
(ClientsOnWorkspace). Expected values come from the shape (table and column names, types,
the primary key orders_pkey, the login) and from what PostgreSQL answers, never from
duckspace's output. No test is skipped when a tool is missing: scripts/setup-deps.sh
installs psql, Java with pgJDBC, SQLAlchemy and pandas, unixODBC, psqlODBC and pyodbc, so a
missing tool fails.

ODBC: psqlODBC's defaults are kept except what a Tableau user would have in the DSN anyway
(see OdbcChecks).

Run: /usr/bin/python3 tests/integration/test_pg_clients.py [-v] [Class.test_name]"""

import datetime
import os
import re
import subprocess

import harness

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # pandas 1.5 uses 1.4 APIs that 2.0 dropped
from compat_shape import (BIG_COLUMNS, ORDERS_COLUMNS, ORDERS_ROWS, PSQLODBC, V_BIG_COLUMNS, ShapedPostgres,
                          ShapedWorkspace)
from pghelpers import JAVA, JAVAC, PGJDBC, PSQL, Jdbc

# ---- psql ---------------------------------------------------------------------------------------

ROW_COUNT_RE = re.compile(r"^\((\d+) rows?\)$")


class PsqlChecks:
    """psql 15 as a user runs it: psql -X -A (unaligned, '|' between fields) -c '<meta-command>'."""

    def psql(self, command):
        argv, env = self.target.psql_command(PSQL)
        p = subprocess.run(argv + ["-A", "-c", command], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        if p.returncode != 0 or err:
            self.fail("psql -c '%s' on %r: exit %d\n%s%s" % (command, self.target, p.returncode, out, err))
        return out.splitlines()

    def listing(self, command, title, header):
        """A 'List of ...' answer: the title, the header fields, the data rows as tuples."""
        lines = self.psql(command)
        self.assertGreaterEqual(len(lines), 2, lines)
        self.assertEqual(lines[0], title, lines)
        self.assertEqual(lines[1].split("|"), header, lines)
        rows = []
        for line in lines[2:]:
            m = ROW_COUNT_RE.match(line)
            if m:
                self.assertEqual(int(m.group(1)), len(rows), lines)
                break
            rows.append(tuple(line.split("|")))
        return rows

    def describe(self, command, title, header):
        """A \\d answer: the column rows as tuples, and the footer lines (Indexes: ...)."""
        lines = self.psql(command)
        self.assertGreaterEqual(len(lines), 2, lines)
        self.assertEqual(lines[0], title, lines)
        self.assertEqual(lines[1].split("|"), header, lines)
        cols, footer = [], []
        for line in lines[2:]:
            if footer or not line.count("|") == len(header) - 1:
                footer.append(line)
            else:
                cols.append(tuple(line.split("|")))
        return cols, footer

    # \d on a table: Column|Type|Collation|Nullable|Default
    @staticmethod
    def d_rows(columns, not_null=()):
        return [(n, t, "", "not null" if n in not_null else "", "") for n, t in columns]

    def test_psql_l_lists_the_connected_database(self):
        lines = self.psql("\\l")
        self.assertEqual(lines[0], "List of databases", lines)
        self.assertEqual(lines[1].split("|"), ["Name", "Owner", "Encoding", "Collate", "Ctype", "ICU Locale",
                                               "Locale Provider", "Access privileges"], lines)
        mine = [l.split("|") for l in lines[2:] if l.startswith(self.target.dbname + "|")]
        self.assertEqual(len(mine), 1, lines)
        self.assertEqual(mine[0][:3], [self.target.dbname, self.target.user, "UTF8"], lines)

    def test_psql_dn_lists_public_and_the_bucket_schema(self):
        rows = self.listing("\\dn", "List of schemas", ["Name", "Owner"])
        self.assertEqual([r[0] for r in rows], ["in_c_crm", "public"], rows)

    def test_psql_dt_lists_the_workspace_table(self):
        rows = self.listing("\\dt", "List of relations", ["Schema", "Name", "Type", "Owner"])
        # the bucket schema is on the search path too (compat_shape): its table is listed,
        # owned by the system role, not by the login
        self.assertEqual(rows, [("in_c_crm", "orders", "table", self.target.system_role),
                                ("public", "big", "table", self.target.user)])

    def test_psql_dt_on_the_bucket_schema_lists_the_project_table(self):
        rows = self.listing("\\dt in_c_crm.*", "List of relations", ["Schema", "Name", "Type", "Owner"])
        self.assertEqual([r[:3] for r in rows], [("in_c_crm", "orders", "table")], rows)

    def test_psql_d_lists_tables_and_views(self):
        rows = self.listing("\\d", "List of relations", ["Schema", "Name", "Type", "Owner"])
        self.assertEqual(rows, [("in_c_crm", "orders", "table", self.target.system_role),
                                ("public", "big", "table", self.target.user),
                                ("public", "v_big", "view", self.target.user)])

    def test_psql_d_project_table(self):
        cols, footer = self.describe("\\d in_c_crm.orders", 'Table "in_c_crm.orders"',
                                     ["Column", "Type", "Collation", "Nullable", "Default"])
        self.assertEqual(cols, self.d_rows(ORDERS_COLUMNS, not_null=("id",)))
        self.assertEqual(footer, ["Indexes:", '    "orders_pkey" PRIMARY KEY, btree (id)'])

    def test_psql_d_plus_project_table(self):
        header = ["Column", "Type", "Collation", "Nullable", "Default", "Storage", "Compression", "Stats target",
                  "Description"]
        cols, footer = self.describe("\\d+ in_c_crm.orders", 'Table "in_c_crm.orders"', header)
        self.assertEqual([c[:5] for c in cols], self.d_rows(ORDERS_COLUMNS, not_null=("id",)))
        self.assertEqual([c[8] for c in cols], [""] * len(ORDERS_COLUMNS), cols)
        self.assertEqual(footer[:2], ["Indexes:", '    "orders_pkey" PRIMARY KEY, btree (id)'], footer)

    def test_psql_d_workspace_table(self):
        cols, footer = self.describe("\\d big", 'Table "public.big"',
                                     ["Column", "Type", "Collation", "Nullable", "Default"])
        self.assertEqual(cols, self.d_rows(BIG_COLUMNS))
        self.assertEqual(footer, ["Indexes:", '    "big_idx" btree (customer)'])

    def test_psql_d_plus_workspace_table(self):
        header = ["Column", "Type", "Collation", "Nullable", "Default", "Storage", "Compression", "Stats target",
                  "Description"]
        cols, footer = self.describe("\\d+ big", 'Table "public.big"', header)
        self.assertEqual([c[:5] for c in cols], self.d_rows(BIG_COLUMNS))
        self.assertEqual(footer[:2], ["Indexes:", '    "big_idx" btree (customer)'], footer)

    def test_psql_d_view(self):
        cols, footer = self.describe("\\d v_big", 'View "public.v_big"',
                                     ["Column", "Type", "Collation", "Nullable", "Default"])
        self.assertEqual(cols, self.d_rows(V_BIG_COLUMNS))
        self.assertEqual(footer, [])

    def test_psql_di_lists_indexes(self):
        header = ["Schema", "Name", "Type", "Owner", "Table"]
        rows = self.listing("\\di", "List of relations", header)
        self.assertEqual(rows, [("in_c_crm", "orders_pkey", "index", self.target.system_role, "orders"),
                                ("public", "big_idx", "index", self.target.user, "big")])
        rows = self.listing("\\di in_c_crm.*", "List of relations", header)
        self.assertEqual([(r[0], r[1], r[2], r[4]) for r in rows], [("in_c_crm", "orders_pkey", "index", "orders")])

    def test_psql_dv_lists_the_view(self):
        rows = self.listing("\\dv", "List of relations", ["Schema", "Name", "Type", "Owner"])
        self.assertEqual(rows, [("public", "v_big", "view", self.target.user)])

    def test_psql_df_lists_no_user_function(self):
        rows = self.listing("\\df", "List of functions",
                            ["Schema", "Name", "Result data type", "Argument data types", "Type"])
        self.assertEqual(rows, [])

    def test_psql_du_lists_the_login(self):
        lines = self.psql("\\du")
        self.assertEqual(lines[0], "List of roles", lines)
        self.assertEqual(lines[1].split("|"), ["Role name", "Attributes", "Member of"], lines)
        mine = [l.split("|") for l in lines[2:] if l.startswith(self.target.user + "|")]
        self.assertEqual(len(mine), 1, lines)
        self.assertNotIn("Superuser", mine[0][1], lines)


# ---- pgJDBC ------------------------------------------------------------------------------------

JAVA_META = r"""
import java.sql.*;
import java.util.Properties;

public class PgMeta {
    static String s(Object o) { return o == null ? "<null>" : o.toString().replace('\t', ' ').replace('\n', ' '); }

    static void dump(String tag, ResultSet rs, String... cols) throws SQLException {
        try (ResultSet r = rs) {
            while (r.next()) {
                StringBuilder b = new StringBuilder(tag);
                for (String c : cols) b.append('\t').append(s(r.getObject(c)));
                System.out.println(b);
            }
        }
    }

    interface Call { void run() throws SQLException; }

    static void call(String tag, Call c) {
        try { c.run(); }
        catch (SQLException e) { System.out.println("error\t" + tag + "\t" + e.getSQLState() + "\t" + s(e.getMessage())); }
    }

    public static void main(String[] a) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", a[1]);
        p.setProperty("password", a[2]);
        try (Connection c = DriverManager.getConnection(a[0], p)) {
            DatabaseMetaData md = c.getMetaData();
            call("schemas", () -> dump("schemas", md.getSchemas(), "TABLE_SCHEM"));
            call("tables", () -> dump("tables", md.getTables(null, null, "%", new String[] {"TABLE", "VIEW"}),
                                      "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE"));
            for (String[] t : new String[][] {{"in_c_crm", "orders"}, {"public", "big"}}) {
                call("columns", () -> dump("columns", md.getColumns(null, t[0], t[1], "%"), "TABLE_SCHEM",
                                           "TABLE_NAME", "ORDINAL_POSITION", "COLUMN_NAME", "TYPE_NAME", "DATA_TYPE",
                                           "COLUMN_SIZE", "DECIMAL_DIGITS", "NULLABLE"));
                call("pk", () -> dump("pk", md.getPrimaryKeys(null, t[0], t[1]), "TABLE_SCHEM", "TABLE_NAME",
                                      "COLUMN_NAME", "KEY_SEQ", "PK_NAME"));
                call("index", () -> dump("index", md.getIndexInfo(null, t[0], t[1], false, false), "TABLE_SCHEM",
                                         "TABLE_NAME", "NON_UNIQUE", "INDEX_NAME", "ORDINAL_POSITION", "COLUMN_NAME"));
            }
            call("types", () -> dump("types", md.getTypeInfo(), "TYPE_NAME", "DATA_TYPE"));
        } catch (SQLException e) {
            System.out.println("connect\t" + e.getSQLState() + "\t" + s(e.getMessage()));
            System.exit(3);
        }
    }
}
"""

JDBC_BIGINT, JDBC_VARCHAR, JDBC_DOUBLE, JDBC_DATE, JDBC_NUMERIC = -5, 12, 8, 91, 2
NO_NULLS, NULLABLE = "0", "1"


class JdbcChecks:
    """pgJDBC's DatabaseMetaData, as DBeaver and DataGrip browse a database."""

    _meta = None

    def jdbc_meta(self):
        """{call: [tuple of fields]} of one run of PgMeta (cached per target)."""
        if getattr(self, "_meta_target", None) is not self.target:
            jdbc = Jdbc("PgMeta", JAVA_META)
            self.addCleanup(jdbc.cleanup)
            rc, out, err = jdbc.run(self.target.jdbc_url(), self.target.user, self.target.password)
            self.assertEqual(rc, 0, out + err[-3000:])
            meta = {}
            for line in out.splitlines():
                f = line.split("\t")
                meta.setdefault(f[0], []).append(tuple(f[1:]))
            type(self)._meta, type(self)._meta_target = meta, self.target
        return type(self)._meta

    def jdbc_call(self, call):
        meta = self.jdbc_meta()
        errors = [e for e in meta.get("error", []) if e[0] == call]
        self.assertEqual(errors, [], "DatabaseMetaData.%s failed" % call)
        return meta.get(call, [])

    def test_jdbc_tools_are_installed(self):
        for path in (JAVA, JAVAC, PGJDBC):
            self.assertTrue(os.path.exists(path), "%s missing (scripts/setup-deps.sh installs it)" % path)

    def test_jdbc_get_schemas(self):
        self.assertEqual(sorted(r[0] for r in self.jdbc_call("schemas")),
                         ["in_c_crm", "information_schema", "pg_catalog", "public"])

    def test_jdbc_get_tables(self):
        self.assertEqual(sorted(self.jdbc_call("tables")),
                         [("in_c_crm", "orders", "TABLE"), ("public", "big", "TABLE"), ("public", "v_big", "VIEW")])

    def test_jdbc_get_columns(self):
        cols = self.jdbc_call("columns")
        want = [("in_c_crm", "orders", "1", "id", "int8", str(JDBC_BIGINT), "19", "0", NO_NULLS),
                ("in_c_crm", "orders", "2", "customer", "varchar", str(JDBC_VARCHAR), "2147483647", "0", NULLABLE),
                ("in_c_crm", "orders", "3", "amount", "float8", str(JDBC_DOUBLE), "17", "17", NULLABLE),
                ("in_c_crm", "orders", "4", "ordered_on", "date", str(JDBC_DATE), "13", "0", NULLABLE),
                ("public", "big", "1", "id", "int8", str(JDBC_BIGINT), "19", "0", NULLABLE),
                ("public", "big", "2", "customer", "varchar", str(JDBC_VARCHAR), "2147483647", "0", NULLABLE),
                ("public", "big", "3", "amount", "numeric", str(JDBC_NUMERIC), "12", "2", NULLABLE)]
        # names, positions, type names, java.sql.Types and nullability are the shape's; the
        # sizes are pgJDBC's own for those types (varchar without a length: Integer.MAX_VALUE)
        self.assertEqual([c[:6] + c[8:] for c in cols], [w[:6] + w[8:] for w in want])
        self.assertEqual(cols, want)

    def test_jdbc_get_primary_keys(self):
        self.assertEqual(self.jdbc_call("pk"), [("in_c_crm", "orders", "id", "1", "orders_pkey")])

    def test_jdbc_get_index_info(self):
        self.assertEqual(sorted(self.jdbc_call("index")),
                         [("in_c_crm", "orders", "false", "orders_pkey", "1", "id"),
                          ("public", "big", "true", "big_idx", "1", "customer")])

    def test_jdbc_get_type_info(self):
        types = dict(self.jdbc_call("types"))
        want = {"int8": JDBC_BIGINT, "int4": 4, "int2": 5, "varchar": JDBC_VARCHAR, "text": JDBC_VARCHAR,
                "float8": JDBC_DOUBLE, "float4": 7, "numeric": JDBC_NUMERIC, "date": JDBC_DATE, "bool": -7,
                "bytea": -2, "timestamp": 93}
        self.assertEqual({k: types.get(k) for k in want}, {k: str(v) for k, v in want.items()})


# ---- SQLAlchemy and pandas ------------------------------------------------------------------------

class SqlAlchemyChecks:
    """The SQLAlchemy 1.4 inspector over psycopg2, and pandas.read_sql_table on top of it."""

    def engine(self):
        import sqlalchemy
        eng = sqlalchemy.create_engine(self.target.sqlalchemy_url())
        self.addCleanup(eng.dispose)
        return eng

    def inspector(self):
        import sqlalchemy
        return sqlalchemy.inspect(self.engine())

    def test_sqlalchemy_schema_names(self):
        insp = self.inspector()
        self.assertEqual(insp.default_schema_name, "public")
        self.assertEqual(insp.get_schema_names(), ["in_c_crm", "information_schema", "public"])

    def test_sqlalchemy_table_and_view_names(self):
        insp = self.inspector()
        self.assertEqual(insp.get_table_names(schema="in_c_crm"), ["orders"])
        self.assertEqual(insp.get_table_names(), ["big"])
        self.assertEqual(insp.get_view_names(), ["v_big"])
        self.assertTrue(insp.has_table("orders", schema="in_c_crm"))
        self.assertFalse(insp.has_table("no_such_table", schema="in_c_crm"))

    def test_sqlalchemy_columns(self):
        insp = self.inspector()
        cols = insp.get_columns("orders", schema="in_c_crm")
        self.assertEqual([(c["name"], type(c["type"]).__name__, c["nullable"]) for c in cols],
                         [("id", "BIGINT", False), ("customer", "VARCHAR", True),
                          ("amount", "DOUBLE_PRECISION", True), ("ordered_on", "DATE", True)])
        cols = insp.get_columns("big")
        self.assertEqual([(c["name"], type(c["type"]).__name__) for c in cols],
                         [("id", "BIGINT"), ("customer", "VARCHAR"), ("amount", "NUMERIC")])
        self.assertEqual((cols[2]["type"].precision, cols[2]["type"].scale), (12, 2))

    def test_sqlalchemy_primary_key(self):
        pk = self.inspector().get_pk_constraint("orders", schema="in_c_crm")
        self.assertEqual((pk["constrained_columns"], pk["name"]), (["id"], "orders_pkey"))
        self.assertEqual(self.inspector().get_pk_constraint("big")["constrained_columns"], [])

    def test_sqlalchemy_table_autoload(self):
        import sqlalchemy
        eng = self.engine()
        t = sqlalchemy.Table("orders", sqlalchemy.MetaData(), schema="in_c_crm", autoload_with=eng)
        self.assertEqual([c.name for c in t.columns], [n for n, _ in ORDERS_COLUMNS])
        self.assertEqual([c.name for c in t.primary_key.columns], ["id"])
        with eng.connect() as conn:
            rows = conn.execute(sqlalchemy.select(t).order_by(t.c.id)).fetchall()
        self.assertEqual([tuple(r) for r in rows], ORDERS_ROWS)

    def test_pandas_read_sql_table(self):
        import pandas
        df = pandas.read_sql_table("orders", self.engine(), schema="in_c_crm")
        self.assertEqual(list(df.columns), [n for n, _ in ORDERS_COLUMNS])
        df = df.sort_values("id")
        got = [(int(r.id), r.customer, float(r.amount), pandas.Timestamp(r.ordered_on).date())
               for r in df.itertuples()]
        self.assertEqual(got, ORDERS_ROWS)


# ---- ODBC ------------------------------------------------------------------------------------------

SQL_BIGINT, SQL_WVARCHAR, SQL_VARCHAR, SQL_DOUBLE, SQL_FLOAT, SQL_TYPE_DATE, SQL_NUMERIC = -5, -9, 12, 8, 6, 91, 2


class OdbcChecks:
    """SQLTables / SQLColumns / SQLPrimaryKeys through unixODBC, Debian's psqlODBC (the Unicode
    driver, DSN-less: Driver= the .so path) and pyodbc, as Tableau or Power BI browse.

    Connection options: psqlODBC's defaults (ODBC_OPTIONS is empty), pyodbc's default of
    autocommit off. psqlODBC's default statement-level rollback wraps statements of a
    transaction in SAVEPOINTs: test_pg_savepoints.py checks that pattern."""

    ODBC_OPTIONS = {}

    def odbc(self):
        try:
            import pyodbc
        except ImportError as e:  # installed by scripts/setup-deps.sh: missing is a failure
            self.fail("pyodbc missing (python3-pyodbc): %s" % e)
        self.assertTrue(os.path.exists(PSQLODBC), "%s missing (odbc-postgresql)" % PSQLODBC)
        conn = pyodbc.connect(self.target.odbc_connstr(**self.ODBC_OPTIONS), timeout=10)
        self.addCleanup(conn.close)
        return conn

    def test_odbc_tables(self):
        cur = self.odbc().cursor()
        rows = cur.tables(schema="in_c_crm").fetchall()
        self.assertEqual(sorted((r.table_schem, r.table_name, r.table_type) for r in rows),
                         [("in_c_crm", "orders", "TABLE")])
        rows = cur.tables(tableType="TABLE,VIEW").fetchall()
        self.assertEqual(sorted((r.table_schem, r.table_name, r.table_type) for r in rows),
                         [("in_c_crm", "orders", "TABLE"), ("public", "big", "TABLE"), ("public", "v_big", "VIEW")])

    def test_odbc_columns(self):
        cur = self.odbc().cursor()
        rows = cur.columns(table="orders", schema="in_c_crm").fetchall()
        self.assertEqual([(r.column_name, r.type_name, r.data_type, r.nullable, r.ordinal_position) for r in rows],
                         [("id", "int8", SQL_BIGINT, 0, 1), ("customer", "varchar", SQL_WVARCHAR, 1, 2),
                          ("amount", "float8", SQL_FLOAT, 1, 3), ("ordered_on", "date", SQL_TYPE_DATE, 1, 4)])
        rows = cur.columns(table="big", schema="public").fetchall()
        self.assertEqual([(r.column_name, r.type_name, r.data_type, r.column_size, r.decimal_digits) for r in rows
                          if r.column_name == "amount"], [("amount", "numeric", SQL_NUMERIC, 12, 2)])

    def test_odbc_primary_keys(self):
        cur = self.odbc().cursor()
        rows = cur.primaryKeys("orders", schema="in_c_crm").fetchall()
        self.assertEqual([(r.table_schem, r.table_name, r.column_name, r.key_seq, r.pk_name) for r in rows],
                         [("in_c_crm", "orders", "id", 1, "orders_pkey")])

    def test_odbc_reads_the_project_table(self):
        cur = self.odbc().cursor()
        rows = cur.execute("SELECT id, customer, amount, ordered_on FROM in_c_crm.orders ORDER BY id").fetchall()
        self.assertEqual([tuple(r) for r in rows], ORDERS_ROWS)


# ---- the two targets -----------------------------------------------------------------------------------

class ClientsOnPostgres(PsqlChecks, JdbcChecks, SqlAlchemyChecks, OdbcChecks, ShapedPostgres):
    """Every client test against a real PostgreSQL 15 shaped like a workspace: must pass."""

    maxDiff = 4000
    SHAPE = ("workspace_pg", "analyst_login", "analyst-login-pw")


class ClientsOnWorkspace(PsqlChecks, JdbcChecks, SqlAlchemyChecks, OdbcChecks, ShapedWorkspace):
    """Every client test against a duckspace workspace shaped the same way."""


if __name__ == "__main__":
    harness.main()
