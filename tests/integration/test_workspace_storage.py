"""Workspaces and the files underneath them: published table files are read-only on disk
and the server cannot override that (S24/S25 of the 2026-11-29 audit); the size counted
against a workspace's limit, the guard that stops a statement outgrowing it, and DROP /
clear making room (S26, S27, S63, S64); duckspace's own queries about a workspace's
objects not steered by objects the user made (S50, S51)."""

import glob
import hashlib
import os
import stat

import harness
from pghelpers import PgTestCase
from wshelpers import ws_db, ws_dir

ORDERS = "in.c-sales.orders"

# Linux capability bits (include/uapi/linux/capability.h).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def thread_caps(pid):
    """{tid: CapEff as an int} for every thread of the process."""
    out = {}
    for d in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(os.path.join(d, "status")) as f:
                for line in f:
                    if line.startswith("CapEff:"):
                        out[os.path.basename(d)] = int(line.split()[1], 16)
        except FileNotFoundError:
            pass  # the thread ended meanwhile
    return out


class ReadOnlyTableFiles(PgTestCase):
    """A workspace reaches project tables through hard links to the published files;
    nothing may write through them."""

    def setUp(self):
        super().setUp()
        self.sales_table()  # in.c-sales.orders, 10 rows

    def published(self, branch=None):
        d = harness.table_dir(self.server.data_dir, self.pid, "in_c_sales", branch)
        files = [os.path.join(d, n) for n in harness.table_files(self.server.data_dir, self.pid, "in_c_sales",
                                                                   "orders", branch)]
        self.assertEqual(len(files), 1, files)
        return files[0]

    def links(self, ws_id, branch=None):
        return sorted(glob.glob(os.path.join(ws_dir(self.server.data_dir, self.pid, branch), ws_id + ".tables", "*")))

    def test_published_file_and_its_workspace_link_are_mode_0444(self):
        ws = self.make_ws()
        conn = self.pg2(ws)
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM in_c_sales.orders"), 10)
        pub = self.published()
        self.assertEqual(stat.S_IMODE(os.stat(pub).st_mode), 0o444)
        links = self.links(ws["id"])
        self.assertEqual(len(links), 1, links)
        st = os.stat(links[0])
        self.assertEqual((st.st_ino, st.st_dev), (os.stat(pub).st_ino, os.stat(pub).st_dev))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o444)
        # a full and an incremental import publish new read-only files and still work
        self.import_csv(self.pid, ORDERS, "id,amount,name\n1,1,a\n2,2,b\n")
        self.import_csv(self.pid, ORDERS, "id,amount,name\n3,3,c\n", incremental=True)
        self.assertEqual(self.table(self.pid, ORDERS)["rows"], 3)
        self.assertEqual(stat.S_IMODE(os.stat(self.published()).st_mode), 0o444)
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM in_c_sales.orders"), 3)

    def test_server_threads_cannot_override_file_modes(self):
        caps = thread_caps(self.server.proc.pid)
        self.assertTrue(caps)
        mask = (1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH) | (1 << CAP_FOWNER)
        for tid, eff in caps.items():
            self.assertEqual(eff & mask, 0, "thread %s has CapEff %x" % (tid, eff))

    def write_through_link(self, ws, link):
        """The audit's S24: EXPLAIN ANALYZE COPY ... TO the link, in place. Refused by the
        statement gate or by the file system; either way it must not reach the file."""
        conn = self.pg2(ws)
        try:
            self.q2(conn, "EXPLAIN ANALYZE COPY (SELECT 'overwritten' AS x) TO '%s' (USE_TMP_FILE false)" % link)
        except Exception:  # noqa: BLE001 (refused one way or another: what counts is the file)
            pass

    def test_copy_to_a_link_does_not_change_the_published_file(self):
        ws = self.make_ws()
        conn = self.pg2(ws)
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM in_c_sales.orders"), 10)
        pub = self.published()
        before = sha256(pub)
        link = self.links(ws["id"])[0]
        self.write_through_link(ws, link)
        self.assertEqual(sha256(pub), before)
        self.assertEqual(len(self.rows(self.pid, ORDERS)), 10)
        other = self.make_ws()
        self.assertEqual(self.scalar(self.pg2(other), "SELECT count(*) FROM in_c_sales.orders"), 10)
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM in_c_sales.orders"), 10)

    def test_branch_workspace_cannot_write_mains_file(self):
        br = self.assertOk(self.req("POST", self.base(self.pid) + "/branches", {"name": "b1"}), 201)["id"]
        ws = self.make_ws(branch=br)
        conn = self.pg2(ws)
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM in_c_sales.orders"), 10)
        pub = self.published()
        before = sha256(pub)
        self.write_through_link(ws, self.links(ws["id"], branch=br)[0])
        self.assertEqual(sha256(pub), before)
        self.assertEqual(len(self.rows(self.pid, ORDERS)), 10)
        # the branch's copy on write still works, and main keeps its rows
        self.import_csv(self.pid, ORDERS, "id,amount,name\n11,1,x\n", incremental=True, branch=br)
        self.assertEqual(self.table(self.pid, ORDERS, branch=br)["rows"], 11)
        self.assertEqual(stat.S_IMODE(os.stat(self.published(branch=br)).st_mode), 0o444)
        self.assertEqual(self.table(self.pid, ORDERS)["rows"], 10)


GB = 1 << 30
ALLOWANCE = 64 << 20  # workspace_size_allowance default
# The guard samples every 200 ms, and DuckDB takes a moment to notice an interrupt: this
# much more may be written past limit + allowance (measured: ~250 MB/s for the UUID
# tables below on this kind of machine, so ~50 MB per interval).
MARGIN = 256 << 20
# UUIDs do not compress: 32 bytes a row on disk.
FILL = "SELECT gen_random_uuid() a, gen_random_uuid() b FROM range(%d)"


class SizeLimit(PgTestCase):
    """size_limit_gb is held while statements run, and DROP / clear make room (S26, S27,
    S63, S64). 1 GB, the smallest limit the API takes."""

    def ws_disk(self, ws_id):
        base = ws_db(self.server.data_dir, self.pid, ws_id)
        n = 0
        for p in (base, base + ".wal"):
            if os.path.exists(p):
                n += os.path.getsize(p)
        return n

    def fill_past_the_limit(self, conn):
        """Commits just over 1 GB (under limit + allowance) into table big, in steps of
        32 MB, until a statement is refused at its start with 53100."""
        self.q2(conn, "CREATE TABLE big AS " + FILL % 29000000)  # ~0.93 GB
        for _ in range(20):
            try:
                self.q2(conn, "INSERT INTO big " + FILL % 1000000)
            except Exception as e:  # noqa: BLE001
                self.assertEqual(getattr(e, "pgcode", None), "53100", e)
                break
        else:
            self.fail("the workspace never reached its size limit")
        self.assertSqlError(conn, "CREATE TABLE t2(a int)", "53100")
        # S27: EXPLAIN ANALYZE runs the statement it explains, so it is refused the same way.
        self.assertSqlError(conn, "EXPLAIN ANALYZE INSERT INTO big " + FILL % 1000, "53100")
        self.assertSqlError(conn, "EXPLAIN (ANALYZE) CREATE TABLE big2 AS " + FILL % 1000, "53100")
        self.assertTrue(self.q2(conn, "EXPLAIN INSERT INTO big " + FILL % 1000))  # plans only

    def test_statement_outgrowing_the_limit_is_stopped_with_53100_and_rolled_back(self):
        ws = self.make_ws(size_limit_gb=1)
        conn = self.pg2(ws)
        # ~2.5 GB if nothing stopped it (the audit's S63 took a 1 GB workspace to 2.8 GB)
        e = self.assertSqlError(conn, "CREATE TABLE big AS " + FILL % 80000000, "53100")
        self.assertIn("size limit", str(e))
        self.assertLessEqual(self.ws_disk(ws["id"]), GB + ALLOWANCE + MARGIN)
        # What the stopped statement wrote is given back before its ReadyForQuery: a read
        # that runs for well over the guard's 200 ms interval is not stopped too.
        self.assertEqual(self.scalar(conn, "SELECT sum(i * i % 7) FROM range(1000000000) t(i)"), 2000000001)
        # rolled back: nothing was made and the space is free again
        d = self.detail(ws["id"])
        self.assertEqual(d["workspace_objects"], [])
        self.assertLess(d["size_bytes"], 64 << 20)
        self.q2(conn, "CREATE TABLE small(a int)")
        self.q2(conn, "INSERT INTO small VALUES (1)")
        self.assertEqual(self.scalar(conn, "SELECT count(*) FROM small"), 1)

    def test_size_bytes_falls_after_drop_below_the_limit(self):
        """size_bytes is what the workspace uses now, also far from its limit: what DROP
        freed is not counted once DROP has committed."""
        ws = self.make_ws(size_limit_gb=1)
        conn = self.pg2(ws)
        self.q2(conn, "CREATE TABLE mid AS " + FILL % 6000000)  # ~190 MB
        self.assertGreater(self.detail(ws["id"])["size_bytes"], 150 << 20)
        self.q2(conn, "DROP TABLE mid")
        self.assertLess(self.detail(ws["id"])["size_bytes"], 64 << 20)

    def test_drop_and_clear_make_room_again(self):
        ws = self.make_ws(size_limit_gb=1)
        conn = self.pg2(ws)
        self.fill_past_the_limit(conn)
        self.assertGreaterEqual(self.detail(ws["id"])["size_bytes"], GB)
        self.q2(conn, "DROP TABLE big")
        self.q2(conn, "CREATE TABLE t2(a int)")
        self.assertLess(self.detail(ws["id"])["size_bytes"], 64 << 20)
        # again, then REST clear
        self.fill_past_the_limit(conn)
        self.assertEqual(self.req("POST", self.ws_url(ws["id"], "/clear"))[0], 204)
        self.assertLess(self.detail(ws["id"])["size_bytes"], 64 << 20)
        self.q2(conn, "CREATE TABLE t3(a int)")
        self.assertEqual(self.objects(ws["id"]), {"t3": 0})


class ObjectsNotSteerable(PgTestCase):
    """REST detail, objects delete and clear ask DuckDB's catalog with their own queries:
    user objects named like the system functions those use must not steer them."""

    def setUp(self):
        super().setUp()
        self.sales_table()
        self.ws = self.make_ws()
        self.conn = self.pg2(self.ws)

    def run_sql(self, *stmts):
        for sql in stmts:
            self.q2(self.conn, sql)

    def clear(self):
        st, body, _ = self.req("POST", self.ws_url(self.ws["id"], "/clear"))
        self.assertEqual(st, 204, body)

    def test_a_macro_named_duckdb_tables_breaks_neither_detail_nor_drop_nor_clear(self):
        self.run_sql("CREATE TABLE a AS SELECT 1 AS x", "CREATE VIEW v AS SELECT 2 AS y",
                     "CREATE MACRO duckdb_tables() AS TABLE SELECT 'fake' AS database_name",
                     "CREATE MACRO duckdb_views() AS TABLE SELECT 'fake' AS database_name")
        d = self.detail(self.ws["id"])
        self.assertEqual(d["workspace_objects"], [{"name": "a", "type": "table", "rows": 1},
                                                  {"name": "v", "type": "view", "rows": None}])
        self.assertEqual(self.req("DELETE", self.ws_url(self.ws["id"], "/objects/a"))[0], 204)
        self.assertEqual(self.objects(self.ws["id"]), {"v": None})
        self.clear()
        self.assertEqual(self.objects(self.ws["id"]), {})
        # the macros went too: duckdb_tables() is DuckDB's again in the session
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'a'"), 0)

    def test_a_forged_duckdb_tables_hides_nothing_and_clear_removes_the_hidden_table(self):
        self.run_sql("CREATE TABLE hidden_exfil AS SELECT * FROM in_c_sales.orders",
                     "CREATE TABLE ld AS SELECT 1 AS x",
                     "CREATE MACRO duckdb_tables() AS TABLE "
                     "SELECT * FROM system.main.duckdb_tables() WHERE table_name <> 'hidden_exfil' "
                     "UNION ALL SELECT * REPLACE ('FAKE_TABLE' AS table_name) FROM system.main.duckdb_tables() "
                     "WHERE table_name = 'ld'")
        self.assertEqual(self.objects(self.ws["id"]), {"hidden_exfil": 10, "ld": 1})
        self.clear()
        self.assertEqual(self.objects(self.ws["id"]), {})
        self.assertSqlError(self.conn, "SELECT count(*) FROM hidden_exfil", "42P01")

    def test_clear_removes_every_kind_of_user_object(self):
        self.run_sql("CREATE SCHEMA s2", "CREATE TABLE s2.t AS SELECT 1 AS x", "CREATE VIEW s2.v AS SELECT 1 AS x",
                     "CREATE SCHEMA system", "CREATE TABLE \"%s\".system.duckdb_tables AS SELECT 1 AS x" % self.ws["id"],
                     "CREATE TABLE duckdb_views AS SELECT 1 AS x",
                     "CREATE SEQUENCE seq1", "CREATE TABLE withseq (id INTEGER DEFAULT nextval('seq1'), x INTEGER)",
                     "CREATE INDEX withseq_x ON withseq (x)",
                     "CREATE TYPE mood AS ENUM ('happy', 'sad')", "CREATE TABLE moods (m mood)",
                     "CREATE MACRO twice(x) AS x * 2", "CREATE MACRO tab() AS TABLE SELECT 1 AS x",
                     "CREATE VIEW uses AS SELECT twice(x) FROM withseq")
        names = set(self.objects(self.ws["id"]))
        self.assertEqual(names, {"s2.t", "s2.v", "system.duckdb_tables", "duckdb_views", "withseq", "moods", "uses"})
        self.clear()
        self.assertEqual(self.objects(self.ws["id"]), {})
        for sql in ("SELECT twice(1)", "SELECT * FROM tab()", "SELECT nextval('seq1')", "SELECT 'happy'::mood",
                    "SELECT * FROM s2.t"):
            with self.subTest(sql=sql):
                self.assertRaises(Exception, self.q2, self.conn, sql)
        # everything can be made again under the same names
        self.run_sql("CREATE SCHEMA s2", "CREATE SEQUENCE seq1", "CREATE TYPE mood AS ENUM ('ok')",
                     "CREATE MACRO twice(x) AS x * 2")


if __name__ == "__main__":
    harness.main()
