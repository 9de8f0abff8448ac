"""Crash safety: kill -9 during a large full import; after restart the table is exactly the old
or exactly the new generation, and only one table file is left."""

import os
import shutil
import tempfile
import threading
import time

import harness
from harness import ServerTestCase, table_dir

BIG_ROWS = 3_000_000


def big_row(i):
    return (i, "name_%d" % i, "%d.%02d" % (i % 1000, i % 100))


def write_big_csv(path, n):
    with open(path, "w") as f:
        f.write("id,name,amount\n")
        step = 100_000
        for start in range(0, n, step):
            f.write("".join("%d,name_%d,%d.%02d\n" % (i, i, i % 1000, i % 100)
                            for i in range(start, min(n, start + step))))
    return path


class CrashDuringImport(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.big_dir = tempfile.mkdtemp(prefix="duckspace-crash-")
        cls.big_csv = write_big_csv(os.path.join(cls.big_dir, "big.csv"), BIG_ROWS)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.big_dir, ignore_errors=True)

    def expected_new_head(self, n):
        return [[i, "name_%d" % i, float("%d.%02d" % (i % 1000, i % 100))] for i in range(n)]

    def check_table_state(self, pid, tid, old_rows, import_result):
        d = self.table(pid, tid)
        pv = self.preview(pid, tid, limit=5)
        self.assertEqual(pv["total_rows"], d["rows"])
        if import_result is not None and import_result[0] == 200:
            self.assertEqual(d["rows"], BIG_ROWS, "import returned 200 before the crash but its rows are gone")
        if d["rows"] == len(old_rows):
            self.assertEqual(pv["rows"], old_rows, "row count of the old generation but other rows")
            return "old"
        self.assertEqual(d["rows"], BIG_ROWS, "table is neither the old nor the new generation")
        got = pv["rows"]
        # amount may be inferred as DOUBLE or DECIMAL (string); compare on its numeric value
        norm = [[r[0], r[1], float(r[2])] for r in got]
        self.assertEqual(norm, self.expected_new_head(5))
        return "new"

    def test_kill_9_during_full_import_leaves_old_or_new_generation(self):
        pid, _ = self.create_project("crash")
        b = self.create_bucket(pid, "load")
        schema = b.replace(".", "_").replace("-", "_")
        old_csv = "id,name,amount\n1,old_a,1.50\n2,old_b,2.50\n3,old_c,3.50\n"
        t = self.create_table_csv(pid, b, "orders", old_csv)
        tid = t["id"]
        # one undisturbed big import first: it must work, and its duration places the kills
        # inside the import (upload, parse, write, publish) whatever the machine's speed
        t0 = time.monotonic()
        r = self.assertOk(self.server.req("POST", "/projects/%s/tables/%s/import" % (pid, tid),
                                          raw_file=self.big_csv, content_type="text/csv", timeout=300))
        took = time.monotonic() - t0
        self.assertEqual((r["imported_rows"], r["rows"]), (BIG_ROWS, BIG_ROWS))
        delays = (max(0.3, 0.3 * took), max(0.5, 0.65 * took), max(0.7, 0.95 * took))
        outcomes = []
        for cycle, delay in enumerate(delays):
            with self.subTest(delay=delay):
                small = "id,name,amount\n1,c%d_a,1.50\n2,c%d_b,2.50\n3,c%d_c,3.50\n" % (cycle, cycle, cycle)
                self.import_csv(pid, tid, small)
                old_rows = self.preview(pid, tid, limit=5)["rows"]
                self.assertEqual(len(old_rows), 3)
                result = []

                def do_import():
                    try:
                        st, body, _ = self.server.req("POST", "/projects/%s/tables/%s/import" % (pid, tid),
                                                      raw_file=self.big_csv, content_type="text/csv",
                                                      timeout=120)
                        result.append((st, body))
                    except Exception as e:  # the connection dies with the server
                        result.append((None, repr(e)))

                th = threading.Thread(target=do_import, daemon=True)
                th.start()
                time.sleep(delay)
                self.server.kill()
                th.join(60)
                self.assertFalse(th.is_alive(), "import request still running after kill -9")
                self.server.start()
                self._mark_log(self.server)
                outcome = self.check_table_state(pid, tid, old_rows, result[0] if result else None)
                outcomes.append((delay, outcome, result[0][0] if result else None))

                files = sorted(os.listdir(table_dir(self.server.data_dir, pid, schema)))
                self.assertEqual(len(files), 1, "leftover files after crash recovery: %s" % files)
                self.assertRegex(files[0], r"^orders\.g\d+\.duckdb$")

                # the table stays usable
                r = self.import_csv(pid, tid, "id,name,amount\n7,after,7.00\n", incremental=True)
                self.assertEqual(r["rows"], (3 if outcome == "old" else BIG_ROWS) + 1)
        # durability: kill -9 right after an import returned 200 keeps its rows
        self.import_csv(pid, tid, "id,name,amount\n1,x,1.00\n")
        old_rows = self.preview(pid, tid, limit=5)["rows"]
        r = self.server.req("POST", "/projects/%s/tables/%s/import" % (pid, tid), raw_file=self.big_csv,
                            content_type="text/csv", timeout=300)
        self.assertEqual(r[0], 200, r[1])
        self.server.kill()
        self.server.start()
        self._mark_log(self.server)
        self.assertEqual(self.check_table_state(pid, tid, old_rows, r), "new")
        files = sorted(os.listdir(table_dir(self.server.data_dir, pid, schema)))
        self.assertEqual(len(files), 1, "leftover files after crash recovery: %s" % files)
        print("\nfull import took %.2f s; crash outcomes (delay, state, import status): %s" % (took, outcomes))

    def test_kill_9_during_table_create_leaves_no_table_or_a_whole_one(self):
        pid, _ = self.create_project("crash2")
        b = self.create_bucket(pid, "create")
        schema = b.replace(".", "_").replace("-", "_")
        result = []

        def do_create():
            try:
                st, body, _ = self.server.req("POST", "/projects/%s/buckets/%s/tables?name=big" % (pid, b),
                                              raw_file=self.big_csv, content_type="text/csv", timeout=120)
                result.append((st, body))
            except Exception as e:
                result.append((None, repr(e)))

        th = threading.Thread(target=do_create, daemon=True)
        th.start()
        time.sleep(1.0)
        self.server.kill()
        th.join(60)
        self.server.start()
        self._mark_log(self.server)
        st, body, _ = self.req("GET", "/projects/%s/tables/%s.big" % (pid, b))
        d = table_dir(self.server.data_dir, pid, schema)
        files = sorted(os.listdir(d)) if os.path.isdir(d) else []
        if st == 404:
            self.assertEqual(body.get("error"), "table_not_found")
            self.assertEqual(files, [], "files of a table that does not exist: %s" % files)
            self.assertNotEqual(result and result[0][0], 201, "create returned 201 but the table is gone")
            # the name is free
            self.create_table_csv(pid, b, "big", "id\n1\n")
        else:
            self.assertEqual(st, 200, body)
            self.assertEqual(body["rows"], BIG_ROWS)
            self.assertEqual(len(files), 1, files)
            self.assertRegex(files[0], r"^big\.g\d+\.duckdb$")


if __name__ == "__main__":
    harness.main()
