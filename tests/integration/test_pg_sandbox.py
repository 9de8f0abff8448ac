"""PostgreSQL wire protocol: the sandbox (pgwire.md "The sandbox").

Every way out of the workspace is refused with SQLSTATE 42501, the server keeps serving,
no file is created, and the project's data, the other workspace and the metadata are
unchanged: file readers (read_csv, read_parquet, read_text, read_blob, glob, replacement
scans of paths), COPY TO/FROM a file, EXPORT/IMPORT DATABASE, ATTACH/DETACH/USE,
INSTALL/LOAD, CREATE SECRET, global settings, PRAGMA, getenv(), query('...'), through the
simple and the extended protocol, in several spellings.

Run: /usr/bin/python3 tests/integration/test_pg_sandbox.py [-v] [Class.test_name]"""

import os
import tempfile

import psycopg2

import harness
from harness import uniq
from pghelpers import PgTestCase
from wshelpers import project_dir, ws_db, ws_dir


class PgSandbox(PgTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.outside = tempfile.mkdtemp(prefix="duckspace-sbx-")
        cls.secret_csv = os.path.join(cls.outside, "secret.csv")
        with open(cls.secret_csv, "w") as f:
            f.write("k,v\nsecret,42\n")

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.outside, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.orders = self.sales_table()
        self.ws = self.make_ws()
        self.other_ws = self.make_ws()
        oc = self.pg2(self.other_ws)
        self.q2(oc, "CREATE TABLE private_t AS SELECT 'other-ws-secret' AS s")
        oc.close()
        self.conn = self.pg2(self.ws)
        self.q2(self.conn, "CREATE TABLE mine (a INTEGER)")
        self.q2(self.conn, "INSERT INTO mine VALUES (1), (2)")
        self.before = self.state()

    def state(self):
        return (self.rows(self.pid, self.orders), self.table(self.pid, self.orders)["rows"],
                self.objects(self.ws["id"]), self.objects(self.other_ws["id"]))

    def paths(self):
        data = self.server.data_dir
        pdir = project_dir(data, self.pid)
        return {
            "passwd": "/etc/passwd",
            "secret": self.secret_csv,
            "metadata": os.path.join(data, "metadata.duckdb"),
            "table_file": os.path.join(pdir, "in_c_sales", "orders.duckdb"),
            "other_ws": ws_db(data, self.pid, self.other_ws["id"]),
            "own_ws": ws_db(data, self.pid, self.ws["id"]),
            "out": os.path.join(self.outside, uniq("out")),
        }

    def assertRefused(self, sqls, conn=None, codes=("42501",)):
        conn = conn or self.conn
        for sql in sqls:
            with self.subTest(sql=sql):
                try:
                    with conn.cursor() as cur:
                        cur.execute(sql)
                        rows = cur.fetchall() if cur.description is not None else None
                except psycopg2.Error as e:
                    self.assertIn(e.pgcode, codes, "expected %s, got %s: %s" % ("/".join(codes), e.pgcode, e))
                    continue
                finally:
                    if not conn.autocommit and conn.info.transaction_status != 0:
                        conn.rollback()
                self.fail("not refused: %s -> %r" % (sql, rows if rows is None else rows[:3]))
        self.assertHealthy()
        self.assertEqual(self.q2(conn, "SELECT count(*), sum(amount) FROM in_c_sales.orders"), [(10, 550)])
        self.assertEqual(self.q2(conn, "SELECT sum(a) FROM mine"), [(3,)])
        self.assertEqual(self.state(), self.before)
        leftovers = [n for n in os.listdir(self.outside) if n != "secret.csv"]
        self.assertEqual(leftovers, [], "files created outside the workspace")

    # ---- file readers ----------------------------------------------------------------------

    def test_file_reader_functions(self):
        p = self.paths()
        sqls = []
        for name in ("passwd", "secret", "metadata", "table_file", "other_ws"):
            path = p[name]
            sqls += ["SELECT * FROM read_csv('%s')" % path,
                     "SELECT * FROM read_csv_auto('%s')" % path,
                     "SELECT * FROM read_parquet('%s')" % path,
                     "SELECT * FROM read_text('%s')" % path,
                     "SELECT * FROM read_blob('%s')" % path,
                     "SELECT * FROM read_json_auto('%s')" % path]
        sqls += ["SELECT * FROM glob('/*')", "SELECT * FROM glob('%s/*')" % self.server.data_dir,
                 "SELECT * FROM glob('*')", "SELECT count(*) FROM glob('**')",
                 "SELECT * FROM parquet_scan('%s')" % p["secret"],
                 "SELECT * FROM parquet_metadata('%s')" % p["secret"],
                 "SELECT * FROM sniff_csv('%s')" % p["secret"],
                 "SELECT * FROM read_ndjson('%s')" % p["secret"],
                 "SELECT * FROM read_csv(['%s', '%s'])" % (p["secret"], p["passwd"])]
        self.assertRefused(sqls)

    def test_file_readers_in_other_spellings(self):
        s = self.secret_csv
        self.assertRefused([
            "SELECT * FROM READ_CSV('%s')" % s,
            "SELECT * FROM Read_Text('%s')" % s,
            "SELECT * FROM read_csv /* comment */ ('%s')" % s,
            "SELECT * FROM read_csv\n(\n'%s')" % s,
            "SELECT * FROM \"read_csv\"('%s')" % s,
            "SELECT * FROM main.read_csv('%s')" % s,
            "SELECT * FROM system.main.read_csv('%s')" % s,
            "SELECT * FROM read_csv('/etc/' || 'passwd')",
            "WITH x AS (SELECT * FROM read_text('%s')) SELECT * FROM x" % s,
            "SELECT (SELECT content FROM read_text('%s'))" % s,
            "SELECT 1 WHERE EXISTS (SELECT * FROM read_blob('%s'))" % s,
            "CREATE TABLE stolen AS SELECT * FROM read_csv('%s')" % s,
            "CREATE VIEW stolen_v AS SELECT * FROM read_text('%s')" % s,
            "INSERT INTO mine SELECT length(content) FROM read_text('%s')" % s,
            "CREATE MACRO rd(p) AS TABLE SELECT * FROM read_text(p)",
        ])
        self.assertSqlError(self.conn, "SELECT * FROM stolen", "42P01")

    def test_replacement_scans_of_paths(self):
        p = self.paths()
        self.assertRefused([
            "SELECT * FROM '%s'" % p["secret"],
            "SELECT * FROM \"%s\"" % p["secret"],
            "SELECT * FROM '%s/*.csv'" % self.outside,
            "SELECT * FROM 'secret.csv'",
            "SELECT * FROM '%s.parquet'" % p["out"],
            "SELECT * FROM '%s.json'" % p["out"],
        ])
        # paths DuckDB has no replacement scan for are "no such table" at worst
        self.assertRefused([
            "FROM '%s'" % p["passwd"],
            "SELECT * FROM '%s'" % p["metadata"],
            "SELECT * FROM '%s'" % p["table_file"],
            "SELECT * FROM 'data/metadata.duckdb'",
        ], codes=("42501", "42P01"))

    def test_prepared_statements_are_sandboxed_too(self):
        conn = self.pg3(self.ws)
        for sql, args in (("SELECT * FROM read_text(%t)", (self.secret_csv,)),
                          ("SELECT * FROM read_csv(%t)", (self.secret_csv,)),
                          ("SELECT * FROM glob(%t)", ("/*",)),
                          ("SELECT getenv(%t)", ("HOME",))):
            with self.subTest(sql=sql):
                self.assertPgError("42501", conn.execute, sql, args, prepare=True)
        self.assertEqual(self.state(), self.before)

    # ---- COPY, EXPORT, IMPORT ----------------------------------------------------------

    def test_copy_to_and_from_files(self):
        p = self.paths()
        out = p["out"]
        self.assertRefused([
            "COPY in_c_sales.orders TO '%s.csv'" % out,
            "COPY in_c_sales.orders TO '%s.parquet' (FORMAT parquet)" % out,
            "COPY (SELECT * FROM in_c_sales.orders) TO '%s.csv' (HEADER)" % out,
            "COPY mine TO '%s'" % out,
            "COPY mine TO '%s/x.csv'" % ws_dir(self.server.data_dir, self.pid),
            "COPY mine FROM '%s'" % p["secret"],
            "COPY mine FROM '%s' (FORMAT csv, HEADER)" % p["passwd"],
            "COPY mine FROM '%s'" % p["other_ws"],
            "copy mine to '%s.csv'" % out,
            "SELECT 1; COPY mine TO '%s.csv'" % out,
        ])
        self.assertFalse(os.path.exists(out + ".csv"))

    def test_export_database(self):
        out = self.paths()["out"]
        self.assertRefused([
            "EXPORT DATABASE '%s'" % out,
            "EXPORT DATABASE '%s' (FORMAT parquet)" % out,
            "export database '%s'" % out,
        ])
        self.assertFalse(os.path.exists(out))

    def test_import_database(self):
        src = tempfile.mkdtemp(prefix="duckspace-sbx-import-")
        self.addCleanup(lambda: __import__("shutil").rmtree(src, ignore_errors=True))
        with open(os.path.join(src, "schema.sql"), "w") as f:
            f.write("CREATE TABLE imported (a INTEGER);\n")
        with open(os.path.join(src, "load.sql"), "w") as f:
            f.write("INSERT INTO imported VALUES (1);\n")
        self.assertRefused([
            "IMPORT DATABASE '%s'" % src,
            "import database '%s'" % self.outside,
        ])
        self.assertSqlError(self.conn, "SELECT * FROM imported", "42P01")

    # ---- other databases -------------------------------------------------------------------

    def test_attach_detach_use(self):
        p = self.paths()
        self.assertRefused([
            "ATTACH '%s' AS o" % p["other_ws"],
            "ATTACH '%s' AS o (READ_ONLY)" % p["other_ws"],
            "ATTACH '%s' AS meta (READ_ONLY)" % p["metadata"],
            "ATTACH '%s' AS tf" % p["table_file"],
            "ATTACH '%s' AS own2" % p["own_ws"],
            "ATTACH ':memory:' AS m",
            "ATTACH '%s/new.duckdb' AS n" % self.outside,
            "ATTACH DATABASE '%s' AS o" % p["other_ws"],
            "attach '%s' as o" % p["other_ws"],
            "DETACH memory",
            "DETACH DATABASE IF EXISTS system",
            "USE memory",
            "USE system.main",
            "USE temp",
        ])

    def test_database_list_with_server_paths_is_refused(self):
        self.assertRefused(["SELECT * FROM duckdb_databases()", "SELECT path FROM pragma_database_list()",
                            "PRAGMA database_list", "SELECT * FROM duckdb_settings()"])

    def test_detach_of_attached_project_databases(self):
        # The project table read above is attached under an alias t1, t2, ... (the names
        # cannot be listed: duckdb_databases() is refused, it shows server paths).
        self.q2(self.conn, "SELECT count(*) FROM in_c_sales.orders")
        names = ["t%d" % i for i in range(1, 6)] + ["memory", "system", "temp"]
        self.assertRefused(["DETACH %s" % n for n in names] + ["DETACH DATABASE \"%s\"" % n for n in names] +
                           ["USE %s" % n for n in names])

    def test_other_workspace_and_project_unreachable_by_name(self):
        pid2, _ = self.create_project(uniq("p"))
        self.sales_table(pid=pid2, bucket="secret", name="t2")
        for sql in ("SELECT * FROM private_t", "SELECT * FROM in_c_secret.t2"):
            with self.subTest(sql=sql):
                try:
                    rows = self.q2(self.conn, sql)
                    self.fail("%s -> %r" % (sql, rows))
                except psycopg2.Error as e:
                    self.assertIn(e.pgcode, ("42P01", "3F000", "42501"), e)
        # The other project's table must not have been attached by the attempt.
        for n in range(1, 10):
            with self.assertRaises(psycopg2.Error):
                self.q2(self.conn, "SELECT * FROM t%d.in_c_secret.t2" % n)

    # ---- extensions, secrets, settings, pragmas ----------------------------------------

    def test_install_load_extensions(self):
        self.assertRefused([
            "INSTALL httpfs", "LOAD httpfs", "FORCE INSTALL httpfs", "INSTALL 'httpfs'",
            "INSTALL httpfs FROM core_nightly", "LOAD '%s/x.duckdb_extension'" % self.outside,
            "INSTALL spatial", "LOAD json", "load parquet",
        ])

    def test_create_secret(self):
        self.assertRefused([
            "CREATE SECRET s1 (TYPE s3, KEY_ID 'a', SECRET 'b')",
            "CREATE PERSISTENT SECRET s2 (TYPE s3, KEY_ID 'a', SECRET 'b')",
            "CREATE OR REPLACE SECRET s3 (TYPE http)",
            "CREATE TEMPORARY SECRET s4 (TYPE s3)",
        ])

    def test_global_settings(self):
        self.assertRefused([
            "SET memory_limit = '1TB'", "SET threads = 1", "SET enable_external_access = true",
            "SET GLOBAL memory_limit = '1GB'", "SET lock_configuration = false",
            "SET allow_unsigned_extensions = true", "SET autoinstall_known_extensions = true",
            "SET temp_directory = '%s'" % self.outside, "SET home_directory = '%s'" % self.outside,
            "SET extension_directory = '%s'" % self.outside, "SET allowed_paths = ['/']",
            "SET allowed_directories = ['/']", "RESET enable_external_access",
        ])

    def test_pragmas(self):
        self.assertRefused([
            "PRAGMA memory_limit = '1TB'", "PRAGMA threads = 1", "PRAGMA enable_profiling",
            "PRAGMA profiling_output = '%s/p.json'" % self.outside, "PRAGMA database_list",
            "PRAGMA enable_checkpoint_on_shutdown", "pragma threads=1",
        ])

    def test_getenv_and_query_functions(self):
        self.assertRefused([
            "SELECT getenv('HOME')", "SELECT GETENV('PATH')", "SELECT \"getenv\"('HOME')",
            "SELECT * FROM query('SELECT 1')",
            "SELECT * FROM query('SELECT * FROM read_text(''%s'')')" % self.secret_csv,
            "SELECT * FROM query_table('mine')",
            "SELECT * FROM query_table(['mine'])",
        ])

    # ---- the session stays usable -----------------------------------------------------

    def test_refusals_inside_a_transaction_fail_only_that_transaction(self):
        conn = self.pg2(self.ws, autocommit=False)
        self.q2(conn, "SELECT count(*) FROM mine")
        self.assertSqlError(conn, "SELECT * FROM read_text('%s')" % self.secret_csv, "42501")
        self.assertSqlError(conn, "SELECT 1", "25P02")
        conn.rollback()
        self.assertEqual(self.q2(conn, "SELECT sum(a) FROM mine"), [(3,)])
        conn.rollback()
        self.assertEqual(self.state(), self.before)


if __name__ == "__main__":
    harness.main()
