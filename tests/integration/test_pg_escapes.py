"""The escape catalogue: every way found for user SQL to get past the statement gate
(src/workspace/gate.c), each kept here as a regression test with its variants. The
security audit of 2026-11-29 found the first ones (its finding ids are in the test
names' docstrings). The rule each test pins: no statement, however wrapped (EXPLAIN,
EXPLAIN ANALYZE, options, comments, case, the extended protocol, a script), may write a
file, read a file other than through the workspace's own storage, show a server path or
setting, or run SQL past the gate.

Add a test here for every new way SQL reaches DuckDB.

Run: /usr/bin/python3 tests/integration/test_pg_escapes.py [-v] [Class.test_name]"""

import hashlib
import io
import os

import psycopg2

import harness
from harness import uniq
from pghelpers import PgTestCase
from wshelpers import project_dir, ws_dir

ORDERS = "in.c-sales.orders"

# Each wrapper puts a statement where DuckDB runs (or plans) it; {s} is the statement.
WRAPPERS = (
    "EXPLAIN ANALYZE {s}",
    "explain analyse {s}",
    "EXPLAIN (ANALYZE) {s}",
    "EXPLAIN (ANALYZE true) {s}",
    "EXPLAIN (FORMAT JSON, ANALYZE) {s}",
    "EXPLAIN /* c */ ANALYZE /* d */ {s}",
    "EXPLAIN\nANALYZE\n{s}",
    "  -- leading comment\nEXPLAIN ANALYZE {s}",
    "EXPLAIN {s}",
    "EXPLAIN (FORMAT JSON) {s}",
    "SELECT 1; EXPLAIN ANALYZE {s}",
)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class GateCase(PgTestCase):

    def setUp(self):
        super().setUp()
        self.sales_table()
        self.ws = self.make_ws()
        self.conn = self.pg2(self.ws)
        self.q2(self.conn, "CREATE TABLE mine (a INTEGER)")
        self.q2(self.conn, "INSERT INTO mine VALUES (1), (2)")
        # Reading the table attaches it: its generation is linked into <ws>.tables/.
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])

    def published(self, pid=None, branch=None):
        d = os.path.join(project_dir(self.server.data_dir, pid or self.pid, branch), "in_c_sales")
        return sorted(os.path.join(d, n) for n in os.listdir(d) if n.startswith("orders.") and n.endswith(".duckdb"))

    def links(self, ws, pid=None, branch=None):
        d = os.path.join(ws_dir(self.server.data_dir, pid or self.pid, branch), ws["id"] + ".tables")
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def ws_files(self, pid=None, branch=None):
        return harness.snapshot(ws_dir(self.server.data_dir, pid or self.pid, branch))

    def refused(self, conn, sql, codes=("42501",)):
        """sql fails with one of codes; returns the error message."""
        try:
            rows = self.q2(conn, sql)
        except psycopg2.Error as e:
            self.assertIn(e.pgcode, codes, "%s: expected %s, got %s: %s" % (sql, "/".join(codes), e.pgcode, e))
            return e.pgerror or ""
        self.fail("not refused: %s -> %r" % (sql, rows if rows is None else rows[:3]))

    def assertAllRefused(self, conn, sqls, codes=("42501",)):
        data = os.path.realpath(self.server.data_dir)
        for sql in sqls:
            with self.subTest(sql=sql):
                msg = self.refused(conn, sql, codes)
                self.assertNotIn(data, msg, "the refusal shows a server path")
        self.assertHealthy()


class WrappedWrites(GateCase):

    def test_explain_analyze_copy_cannot_overwrite_a_linked_project_table(self):
        """S24: EXPLAIN ANALYZE COPY ... TO '<link>' (USE_TMP_FILE false) wrote through the
        hard link into the published table file."""
        links = self.links(self.ws)
        self.assertTrue(links, "reading a project table links its generation")
        files = self.published()
        before = {f: sha(f) for f in files}
        ws_before = self.ws_files()
        targets = links + files
        sqls = [w.format(s="COPY (SELECT 'overwritten' AS x) TO '%s' (USE_TMP_FILE false)" % t)
                for t in targets for w in WRAPPERS]
        sqls += [w.format(s="COPY (SELECT 'x' AS x) TO '%s'" % t) for t in targets for w in WRAPPERS[:3]]
        self.assertAllRefused(self.conn, sqls)
        self.assertEqual({f: sha(f) for f in files}, before)
        self.assertEqual(self.ws_files(), ws_before)
        self.assertEqual(len(self.rows(self.pid, ORDERS)), 10)
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])

    def test_branch_workspace_cannot_overwrite_main_table(self):
        """S25: the same from a branch workspace that reads main's table file."""
        b = self.assertOk(self.req("POST", "/projects/%s/branches" % self.pid, body={"name": uniq("b")}), 201)
        bws = self.make_ws(branch=b["id"])
        conn = self.pg2(bws)
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])
        links = self.links(bws, branch=b["id"])
        self.assertTrue(links)
        files = self.published()
        before = {f: sha(f) for f in files}
        self.assertAllRefused(conn, [w.format(s="COPY (SELECT 1 AS x) TO '%s' (USE_TMP_FILE false)" % t)
                                     for t in links for w in WRAPPERS])
        self.assertEqual({f: sha(f) for f in files}, before)
        self.assertEqual(len(self.rows(self.pid, ORDERS)), 10)

    def test_no_file_is_written_into_the_workspace_directories(self):
        """S23/S26: EXPLAIN ANALYZE COPY wrote arbitrary (and unaccounted) files next to the
        workspace's own files."""
        d = ws_dir(self.server.data_dir, self.pid)
        own = os.path.join(d, self.ws["id"])
        before = self.ws_files()
        targets = [own + "/tmp/pwn.csv", own + ".tables/pwn.csv", own + "/" + self.ws["id"] + ".duckdb.wal",
                   own + "/pwn.parquet", own + ".pwn.parquet"]
        self.assertAllRefused(self.conn, [w.format(s="COPY (SELECT repeat('x', 100) AS x FROM range(10)) TO '%s'" % t)
                                          for t in targets for w in WRAPPERS] +
                              [w.format(s="COPY mine TO '%s' (FORMAT parquet)" % t) for t in targets
                               for w in WRAPPERS[:2]])
        self.assertEqual(self.ws_files(), before)
        self.assertEqual(self.q2(self.conn, "SELECT sum(a) FROM mine"), [(3,)])

    def test_copy_from_a_file_is_refused_before_it_is_opened(self):
        """S21: COPY t FROM '<file>' was prepared (DuckDB opens and sniffs the file while
        binding) and failed with a CSV error instead of a refusal."""
        target = self.links(self.ws)[0]
        sqls = ["COPY mine FROM '%s'" % target, "copy mine from '%s' (FORMAT csv)" % target,
                "/* x */ COPY mine FROM '%s'" % target]
        sqls += [w.format(s="COPY mine FROM '%s'" % target) for w in WRAPPERS]
        self.assertAllRefused(self.conn, sqls)

    def test_copy_over_the_wire_meets_the_same_gate(self):
        """COPY FROM STDIN / TO STDOUT: the query of COPY (query) TO STDOUT is judged like
        any statement, COPY FROM STDIN writes the workspace's own tables only, and files and
        programs stay refused whatever the form."""
        target = self.links(self.ws)[0]
        before = sha(target)
        out_refused = ["COPY (SELECT * FROM read_csv('/etc/passwd')) TO STDOUT",
                       "COPY (SELECT * FROM read_text('%s')) TO STDOUT (FORMAT binary)" % target,
                       "COPY (SELECT * FROM glob('/*')) TO STDOUT WITH CSV HEADER",
                       "COPY (SELECT * FROM duckdb_settings()) TO STDOUT",
                       "COPY (SELECT * FROM duckdb_databases()) TO STDOUT",
                       "COPY (SELECT * FROM query('SELECT 1')) TO STDOUT",
                       "COPY mine TO PROGRAM 'id'", "COPY mine FROM PROGRAM 'id'",
                       "COPY mine TO '/tmp/x.csv'", "COPY mine FROM '%s'" % target]
        for sql in out_refused:
            with self.subTest(sql=sql):
                with self.conn.cursor() as cur:
                    with self.assertRaises(psycopg2.Error) as cm:
                        cur.copy_expert(sql, io.StringIO("1\n"))
                self.assertEqual(cm.exception.pgcode, "42501", (sql, cm.exception))
                self.assertNotIn(os.path.realpath(self.server.data_dir), str(cm.exception))
        in_refused = [("COPY in_c_sales.orders FROM STDIN", "25006"), ("COPY orders FROM STDIN", "25006"),
                      ("COPY pg_catalog.pg_class FROM STDIN", "42501"),
                      ("COPY information_schema.tables FROM STDIN", "42501"),
                      ("COPY ds_compat.main.pg_class FROM STDIN", "0A000"),
                      ("COPY other_db.main.mine FROM STDIN", "0A000")]
        for sql, code in in_refused:
            with self.subTest(sql=sql):
                with self.conn.cursor() as cur:
                    with self.assertRaises(psycopg2.Error) as cm:
                        cur.copy_expert(sql, io.StringIO("1\n"))
                self.assertEqual(cm.exception.pgcode, code, (sql, cm.exception))
                self.assertNotIn(os.path.realpath(self.server.data_dir), str(cm.exception))
        self.assertEqual(sha(target), before)
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])
        self.assertHealthy()

    def test_refused_statements_stay_refused_inside_explain(self):
        """S28: EXPLAIN ANALYZE ran CHECKPOINT, VACUUM, PRAGMA; every kind the gate refuses
        alone is refused inside EXPLAIN too."""
        inner = ["CHECKPOINT", "FORCE CHECKPOINT", "VACUUM", "VACUUM mine", "PRAGMA enable_profiling",
                 "PRAGMA version", "CALL pragma_version()", "INSTALL json", "LOAD json", "RESET threads",
                 "SET threads = 1", "PREPARE p AS SELECT 1", "EXECUTE p", "ATTACH ':memory:' AS m",
                 "DETACH memory", "USE memory", "EXPORT DATABASE '/tmp/x'", "IMPORT DATABASE '/tmp'",
                 "CREATE SECRET s (TYPE s3)", "COPY mine TO '/tmp/x.csv'"]
        sqls = [w.format(s=s) for s in inner for w in ("EXPLAIN ANALYZE {s}", "EXPLAIN {s}", "EXPLAIN (ANALYZE) {s}")]
        # Some of these are syntax errors inside EXPLAIN for DuckDB: refused either way.
        self.assertAllRefused(self.conn, sqls, codes=("42501", "42601"))

    def test_extended_protocol_applies_the_same_gate(self):
        conn = self.pg3(self.ws)
        target = self.links(self.ws)[0]
        before = sha(target)
        for sql in ("EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '%s' (USE_TMP_FILE false)" % target,
                    "EXPLAIN ANALYZE CHECKPOINT", "SELECT * FROM duckdb_databases"):
            with self.subTest(sql=sql):
                self.assertPgError("42501", conn.execute, sql, prepare=True)
        self.assertEqual(sha(target), before)

    def test_explain_of_allowed_statements_still_works(self):
        plan = self.q2(self.conn, "EXPLAIN SELECT * FROM in_c_sales.orders")
        self.assertTrue(plan)
        self.assertTrue(self.q2(self.conn, "EXPLAIN ANALYZE SELECT count(*) FROM in_c_sales.orders"))
        self.assertTrue(self.q2(self.conn, "EXPLAIN (FORMAT JSON) SELECT 1"))
        self.q2(self.conn, "EXPLAIN ANALYZE INSERT INTO mine VALUES (10)")
        self.q2(self.conn, "EXPLAIN ANALYZE CREATE TABLE made AS SELECT 1 AS x")
        self.assertEqual(self.q2(self.conn, "SELECT sum(a) FROM mine"), [(13,)])
        self.assertEqual(self.q2(self.conn, "SELECT x FROM made"), [(1,)])
        # Plain EXPLAIN plans but does not run.
        self.q2(self.conn, "EXPLAIN INSERT INTO mine VALUES (100)")
        self.assertEqual(self.q2(self.conn, "SELECT sum(a) FROM mine"), [(13,)])
        # Project tables stay read-only inside EXPLAIN ANALYZE.
        self.assertSqlError(self.conn, "EXPLAIN ANALYZE DELETE FROM in_c_sales.orders", "25006")


class Leaks(GateCase):

    LEAKS = [
        # S12: serialized SQL ran refused functions past the gate.
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT name, value FROM duckdb_settings()'))",
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 42'))",
        "SELECT * FROM JSON_EXECUTE_SERIALIZED_SQL(json_serialize_sql('SELECT 42'))",
        "SELECT * FROM \"json_execute_serialized_sql\"(json_serialize_sql('SELECT 42'))",
        # S13: the view (no parentheses) shows absolute paths.
        "SELECT database_name, path FROM duckdb_databases",
        "SELECT * FROM system.main.duckdb_databases",
        "SELECT * FROM \"duckdb_databases\"",
        "SELECT * FROM pragma_database_list",
        "SELECT (SELECT max(path) FROM duckdb_databases)",
        "CREATE VIEW v_db AS SELECT * FROM duckdb_databases",
        # S14: every DuckDB setting, paths included. (Unqualified and pg_catalog.pg_settings
        # are the compat catalog's PostgreSQL-shaped view: PgSettingsView below.)
        "SELECT * FROM system.pg_catalog.pg_settings",
        "SELECT * FROM system.main.pg_settings",
        "SELECT * FROM memory.pg_catalog.pg_settings",
        "SELECT * FROM temp.pg_catalog.pg_settings",
        "SELECT * FROM ds_compat.pg_catalog.pg_settings",
        "SELECT * FROM \"system\" . pg_catalog . pg_settings",
        "CREATE MACRO m_s() AS TABLE SELECT * FROM system.pg_catalog.pg_settings",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM DuckDB_Settings()",
        # Re-audit: json_serialize_plan binds (and folds) SQL given as text, past the gate.
        "SELECT json_serialize_plan('SELECT current_setting(''temp_directory'') a', optimize := true)",
        "SELECT json_serialize_plan('SELECT * FROM read_csv(''x.csv'')')",
        "SELECT * FROM pragma_database_size()",
        # S15: DuckDB's own current_setting() behind the session's macro.
        "SELECT system.main.current_setting('memory_limit')",
        "SELECT main.current_setting('temp_directory')",
        "SELECT pg_catalog . current_setting('home_directory') || system.main.current_setting('x')",
        "SELECT \"system\".\"main\".\"current_setting\"('memory_limit')",
        "DROP MACRO current_setting",
        "DROP MACRO temp.main.current_setting",
        # S16 and the rest of DuckDB's server-facing table functions.
        "SELECT * FROM duckdb_extensions()",
        "SELECT * FROM duckdb_temporary_files()",
        "SELECT * FROM duckdb_external_file_cache()",
        "SELECT * FROM duckdb_logs",
        "SELECT * FROM duckdb_secrets()",
        "SELECT * FROM sql_auto_complete('SELECT * FROM ''/')",
        "SELECT * FROM arrow_scan(0, 0, 0)",
        "SELECT * FROM enable_logging()",
        "SELECT write_log('x')",
        "SELECT getenv('HOME')",
    ]

    def test_server_paths_and_settings_are_not_shown(self):
        """S12-S16."""
        self.assertAllRefused(self.conn, self.LEAKS)
        self.assertAllRefused(self.pg2(self.ws, autocommit=False), self.LEAKS[:3], codes=("42501", "25P02"))

    def test_current_setting_answers_client_settings_only(self):
        self.assertEqual(self.scalar(self.conn, "SELECT current_setting('TimeZone')"),
                         self.scalar(self.conn, "SHOW TimeZone"))
        self.assertIsNone(self.scalar(self.conn, "SELECT current_setting('memory_limit')"))
        self.assertIsNone(self.scalar(self.conn, "SELECT pg_catalog.current_setting('temp_directory')"))
        self.q2(self.conn, "SET application_name = 'gate'")
        self.assertEqual(self.scalar(self.conn, "SELECT current_setting('application_name')"), "gate")

    def test_current_setting_after_a_rollback_is_still_the_sessions(self):
        """The session's current_setting() macro, made inside a transaction block, goes with
        its ROLLBACK (DuckDB's DDL is transactional); DuckDB's own current_setting() then
        answered with the server's settings (temp_directory: a server path) through a cursor,
        which does not remake the macro. Now the gate refuses until it is made again."""
        conn = self.pg2(self.ws, autocommit=False)
        data = os.path.realpath(self.server.data_dir)
        self.assertIsNone(self.scalar(conn, "SELECT current_setting('temp_directory')"))  # made in this block
        conn.rollback()
        for sql in ("SELECT current_setting('temp_directory')",
                    "DECLARE c CURSOR FOR SELECT current_setting('temp_directory'); FETCH ALL FROM c"):
            with self.subTest(sql=sql):
                try:
                    with conn.cursor() as cur:
                        cur.execute(sql)
                        v = cur.fetchall()
                    self.assertNotIn(data, repr(v))
                    self.assertEqual(v, [(None,)])
                except psycopg2.Error as e:
                    self.assertEqual(e.pgcode, "42501", e)
                    self.assertNotIn(data, str(e))
                conn.rollback()

    def test_compat_pg_settings_shows_no_server_setting(self):
        """pg_settings is the compat catalog's view: PostgreSQL's client settings and fixed
        values only, however it is reached without a qualifier DuckDB's own would take."""
        # pg_catalog . "pg_settings" is the compat view too: PostgreSQL's parser reads the
        # qualified name and the rewrite names the compat layer's (a view of it stays one)
        self.q2(self.conn, 'CREATE VIEW v_s AS SELECT * FROM pg_catalog . "pg_settings"')
        for sql in ("SELECT name, setting FROM pg_settings", "SELECT name, setting FROM pg_catalog.pg_settings",
                    "SELECT name, setting FROM ds_compat.main.pg_settings", "SELECT name, setting FROM v_s",
                    'SELECT name, setting FROM "pg_catalog"."pg_settings"'):
            rows = self.q2(self.conn, sql)
            names = {r[0] for r in rows}
            self.assertIn("max_index_keys", names, sql)
            for bad in ("memory_limit", "temp_directory", "home_directory", "extension_directory", "allowed_directories"):
                self.assertNotIn(bad, names, sql)
            self.assertFalse([r for r in rows if r[1] and "/" in r[1]], rows)
        self.q2(self.conn, "CREATE MACRO m_s() AS TABLE SELECT name FROM pg_settings")
        self.assertNotIn(("memory_limit",), self.q2(self.conn, "SELECT * FROM m_s()"))

    def test_compat_catalog_cannot_be_written_or_shadowed_for_others(self):
        """The compat catalog is a READ_ONLY attachment: DDL and DML into it fail in DuckDB."""
        for sql in ("DROP VIEW pg_class", "DROP VIEW pg_settings", "DROP MACRO format_type",
                    "DROP MACRO current_setting", "CREATE OR REPLACE MACRO ds_compat.main.x() AS 1",
                    "CREATE OR REPLACE VIEW ds_compat.main.pg_settings AS SELECT 1 AS name",
                    "CREATE TABLE ds_compat.main.t (a INTEGER)", "ALTER VIEW pg_roles RENAME TO r2",
                    "CREATE SCHEMA ds_compat.evil", "COMMENT ON VIEW pg_class IS 'x'"):
            with self.subTest(sql=sql):
                try:
                    self.q2(self.conn, sql)
                    self.fail("no error: " + sql)
                except psycopg2.Error as err:
                    self.assertIn(err.pgcode, ("42501", "25006"), "%s: %s" % (sql, err))
                    self.assertNotIn("ds_compat", str(err))
        # a TEMP shadow is the user's own session only
        self.q2(self.conn, "CREATE TEMP VIEW pg_class AS SELECT 1 AS oid")
        other = self.pg2(self.ws)
        self.assertGreater(self.scalar(other, "SELECT count(*) FROM pg_namespace"), 2)
        self.assertEqual(self.scalar(other, "SELECT count(*) FROM pg_class WHERE relname = 'pg_class'"), 0)

    def test_load_filter_gets_the_same_gate(self):
        """S96: the same expressions passed in REST load's where."""
        for where in ("EXISTS (SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1')))",
                      "EXISTS (SELECT * FROM system.pg_catalog.pg_settings)",
                      "EXISTS (SELECT * FROM duckdb_databases)",
                      "system.main.current_setting('memory_limit') IS NOT NULL",
                      "current_setting('memory_limit') IS NOT NULL",
                      "name = current_setting('temp_directory')",
                      "json_serialize_plan($$SELECT current_setting('home_directory') x$$, optimize := true) "
                      "IS NOT NULL"):
            with self.subTest(where=where):
                self.assertError(self.load_req(self.ws["id"], [{"source": ORDERS, "destination": "x",
                                                                 "where": where}]), 400, "invalid_request")
        self.assertNotIn("x", self.objects(self.ws["id"]))


class BothParsers(GateCase):
    """Every statement is parsed by PostgreSQL's parser first (pgexec/analyze.c): what it
    accepts may be rewritten and deparsed, what it refuses (DuckDB-only syntax) goes to
    DuckDB as written. Either way the gate judges the text DuckDB runs: neither path, nor
    a rewrite, lets a refused name through, and no refusal shows the compat layer."""

    DUCKDB_ONLY = [
        # FROM-first, SUMMARIZE, PIVOT, lambdas, [lists], macros: PostgreSQL's grammar refuses them
        "FROM read_csv('/etc/passwd') SELECT *",
        "FROM duckdb_settings() SELECT name, value",
        "FROM duckdb_databases SELECT path",
        "SUMMARIZE duckdb_databases",
        "SUMMARIZE SELECT * FROM duckdb_settings()",
        "PIVOT (FROM duckdb_settings()) ON name USING first(value)",
        "SELECT list_transform([1], x -> getenv('HOME'))",
        "SELECT [getenv('HOME')]",
        "FROM glob('/*') SELECT *",
        "CREATE MACRO m_evil(x) AS (SELECT max(path) FROM duckdb_databases)",
        "CREATE MACRO m_evil2() AS TABLE FROM duckdb_settings()",
        "FROM pg_catalog.duckdb_settings() SELECT *",
        "FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1')) SELECT *",
    ]
    REWRITTEN = [
        # statements a rule rewrites (regex, OPERATOR, COLLATE, reg*, arrays, catalogs,
        # identity, public.): the rewrite keeps the refused name in the text DuckDB gets
        "SELECT 'a' ~ 'b', name, value FROM duckdb_settings()",
        "SELECT * FROM pg_catalog.duckdb_settings()",
        "SELECT current_user, path FROM duckdb_databases",
        "SELECT path FROM duckdb_databases WHERE path OPERATOR(pg_catalog.~) '/' COLLATE pg_catalog.default",
        "SELECT 'x'::regclass, * FROM duckdb_databases",
        "SELECT 1 WHERE 'x' = ANY('{a,b}') UNION ALL SELECT length(getenv('HOME'))",
        "SELECT * FROM public.mine, read_csv('/etc/passwd')",
        "SELECT c.oid::pg_catalog.regclass::pg_catalog.text, (SELECT max(path) FROM duckdb_databases) FROM pg_class c",
        "SELECT * FROM string_to_array(current_setting('temp_directory'), ',') s, duckdb_settings()",
        "COPY (SELECT 'a' ~ 'b') TO '/tmp/x.csv'",
        "SELECT pg_catalog.current_database(), pg_catalog.getenv('HOME')",
    ]

    def test_duckdb_only_statements_meet_the_same_gate(self):
        self.assertAllRefused(self.conn, self.DUCKDB_ONLY)

    def test_rewritten_statements_meet_the_same_gate(self):
        self.assertAllRefused(self.conn, self.REWRITTEN)

    def test_the_compat_layer_cannot_be_written_through_a_rewrite(self):
        """pg_catalog.X and information_schema.X become the compat layer's names: writes there
        fail (the layer is a read-only attachment), and the refusal does not name it."""
        for sql in ("CREATE TABLE pg_catalog.evil (a INT)", "DROP VIEW pg_catalog.pg_class",
                    "CREATE VIEW information_schema.evil AS SELECT 1", "INSERT INTO pg_catalog.pg_type (oid) VALUES (1)",
                    "ALTER VIEW pg_catalog.pg_namespace RENAME TO x"):
            with self.subTest(sql=sql):
                try:
                    self.q2(self.conn, sql)
                    self.fail("not refused: " + sql)
                except psycopg2.Error as e:
                    # 42704: DROP of a pg_catalog name reaches DuckDB's own (internal) entry,
                    # which DuckDB refuses to drop
                    self.assertIn(e.pgcode, ("42501", "25006", "0A000", "42P01", "42809", "42704"), e)
                    self.assertNotIn("ds_compat", str(e))
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'evil'"), [(0,)])
        # a missing catalog relation is named as the client wrote it, never as the layer has it
        for sql in ("SELECT * FROM information_schema.nosuch", "SELECT * FROM pg_catalog.nosuch"):
            with self.subTest(sql=sql):
                try:
                    self.q2(self.conn, sql)
                    self.fail("ran: " + sql)
                except psycopg2.Error as e:
                    self.assertNotIn("information_schema_", str(e))
                    self.assertNotIn("ds_compat", str(e))
        self.assertHealthy()

    def test_unparsed_and_rewritten_statements_still_work(self):
        """The gate refuses the names, not the syntax: DuckDB-only SQL and rewritten SQL on
        the workspace's own and the project's tables run."""
        self.assertEqual(self.q2(self.conn, "FROM mine SELECT sum(a)"), [(3,)])
        self.assertEqual(self.q2(self.conn, "SELECT list_transform([1, 2], x -> x + 1)"), [([2, 3],)])
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM in_c_sales.orders WHERE 'ab' ~ '^a'"), [(10,)])
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM public.mine WHERE a = ANY('{1,2}')"), [(2,)])


class ParserBombs(GateCase):

    def test_statements_with_thousands_of_comments_are_refused_before_parsing(self):
        """S60: DuckDB's parser takes time quadratic in the number of block comments and
        cannot be interrupted (100,000 pairs burnt a core for 332 s)."""
        for sql in ("SELECT 1 " + "/**/" * 5000, "SELECT 1 " + "/*" * 3000 + "*/" * 3000,
                    "SELECT 1 /* " + "/* " * 2000 + "*/ " * 2001,
                    "EXPLAIN ANALYZE SELECT 1 " + "/**/" * 1001):
            with self.subTest(n=len(sql)):
                self.assertSqlError(self.conn, sql, "54001")
        self.assertEqual(self.q2(self.conn, "SELECT 1 " + "/**/" * 500), [(1,)])

    SCRIPT = ("SELECT 1 " + "/**/" * 999 + ";") * 600  # each statement under the limit: ~20 s of parsing

    def test_statement_timeout_covers_a_whole_script(self):
        """Re-audit: a script of many statements, each just under the comment limit, ran on
        through statement_timeout (PostgreSQL times the whole Query message)."""
        self.q2(self.conn, "SET statement_timeout = '1s'")
        self.assertSqlError(self.conn, self.SCRIPT, "57014")
        self.q2(self.conn, "SET statement_timeout = 0")
        # a SET at the head of the message arms the timeout for the rest of it
        self.assertSqlError(self.conn, "SET statement_timeout = '1s';" + self.SCRIPT, "57014")
        self.q2(self.conn, "RESET statement_timeout")
        self.assertEqual(self.q2(self.conn, "SELECT 1"), [(1,)])

    def test_cancel_stops_a_whole_script(self):
        import threading
        conn = self.pg2(self.ws)
        self.q2(conn, "SET statement_timeout = 0")
        timer = threading.Timer(0.5, conn.cancel)
        timer.start()
        try:
            self.assertSqlError(conn, self.SCRIPT, "57014")
        finally:
            timer.cancel()
        self.assertEqual(self.q2(conn, "SELECT 2"), [(2,)])
        self.assertEqual(self.q2(self.conn, "SELECT '" + "/**/" * 5000 + "' IS NOT NULL -- /* /*"), [(True,)])
        self.assertHealthy()


class MemoryBombs(GateCase):
    """S56/S57: one string value is not bounded by DuckDB's per-workspace memory_limit
    (repeat('x', 3e9) took 5.9 GB in a 2 GB workspace) and a few in parallel got the whole
    server killed by the kernel. The server caps its own memory (server_memory_limit,
    RLIMIT_DATA): the statement fails, the server and the other sessions carry on."""

    server_args = ("--server-memory-limit", "2GB", "--workspace-memory-limit", "512MB")

    def test_a_huge_value_fails_its_statement_not_the_server(self):
        with open(self.server.stderr_path) as f:
            if "memory limit not applied" in f.read():
                self.skipTest("AddressSanitizer build: its shadow memory counts against RLIMIT_DATA")
        other = self.pg2(self.ws)
        for sql in ("SELECT length(repeat('x', 3000000000))",
                    "SELECT length(repeat('abc', 1000000000))",
                    "SELECT length(lpad('x', 2100000000, 'y'))"):
            with self.subTest(sql=sql):
                self.assertSqlError(self.conn, sql, "53200")
                self.assertEqual(self.q2(other, "SELECT sum(a) FROM mine"), [(3,)])
        self.assertHealthy()
        self.assertEqual(self.q2(self.conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])


class UncancellableStatements(GateCase):
    """Re-audit: DuckDB cannot interrupt a statement inside one function call
    (levenshtein of two 300,000-character strings runs for minutes through
    statement_timeout, cancel and disconnect). It cannot keep the server from stopping
    (SIGTERM used to close every tenant's listeners and then wait for it): its worker is
    killed past worker_stop_grace (test_workers.py covers timeouts and cancels)."""

    def test_sigterm_does_not_wait_for_an_uninterruptible_statement(self):
        import threading
        conn = self.pg2(self.ws)
        self.q2(conn, "SET statement_timeout = 0")
        outcome = {}

        def run():
            try:
                outcome["rows"] = self.q2(conn, "SELECT levenshtein(repeat('a', 300000), repeat('b', 300000))")
            except psycopg2.Error as e:
                outcome["error"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.wait_active_sessions(self.ws["id"], 1)
        rc = self.server.stop(timeout=harness.STOP_TIMEOUT)
        self.assertEqual(rc, 0, "the server did not exit on SIGTERM within %s s" % harness.STOP_TIMEOUT)
        t.join(10)
        self.assertIn("error", outcome)  # the connection ended; no result came
        with open(self.server.stderr_path) as f:
            self.assertIn("its worker did not exit within", f.read())
        self.server.start()
        conn = self.pg2(self.ws)
        self.assertEqual(self.q2(conn, "SELECT sum(a) FROM mine"), [(3,)])
        self.assertEqual(self.q2(conn, "SELECT count(*) FROM in_c_sales.orders"), [(10,)])


if __name__ == "__main__":
    harness.main()
