"""Concurrency: parallel imports into different tables while previews run; no reader sees a
half-written table and every import lands completely."""

import os
import threading
import time

import harness
from harness import ServerTestCase

ROWS = 200_000
TABLES = 4
PREVIEW_THREADS = 2
DEADLINE = 180.0  # seconds; bounds every loop of the test


def new_row(k, i):
    return [i, "t%d_%d" % (k, i), (i * (k + 3)) % 1000003]


def old_row(k, i):
    return [i, "old%d_%d" % (k, i), k]


class ParallelImports(ServerTestCase):

    def write_csv(self, k):
        path = os.path.join(self.server.root, "t%d.csv" % k)
        with open(path, "w") as f:
            f.write("id,name,val\n")
            f.write("".join("%d,t%d_%d,%d\n" % (i, k, i, (i * (k + 3)) % 1000003) for i in range(ROWS)))
        return path

    def test_parallel_imports_with_concurrent_previews(self):
        pid, _ = self.create_project("conc")
        b = self.create_bucket(pid, "par")
        tables = []
        for k in range(TABLES):
            csv = "id,name,val\n" + "".join("%d,old%d_%d,%d\n" % (i, k, i, k) for i in range(10))
            tables.append(self.create_table_csv(pid, b, "t%d" % k, csv)["id"])
        files = [self.write_csv(k) for k in range(TABLES)]

        results = [None] * TABLES
        preview_errors = []
        preview_counts = [0] * PREVIEW_THREADS
        seen = {"old": 0, "new": 0}
        imports_done = threading.Event()
        start = threading.Barrier(TABLES + PREVIEW_THREADS)
        deadline = time.monotonic() + DEADLINE

        def importer(k):
            start.wait()
            try:
                results[k] = self.server.req("POST", "/projects/%s/tables/%s/import" % (pid, tables[k]),
                                             raw_file=files[k], content_type="text/csv", timeout=DEADLINE)
            except Exception as e:
                results[k] = (None, repr(e), {})

        def previewer(n):
            start.wait()
            j = 0
            while time.monotonic() < deadline:
                done = imports_done.is_set()
                k = (j + n) % TABLES
                j += 1
                try:
                    st, body, _ = self.server.req("GET", "/projects/%s/tables/%s/preview?limit=50" % (pid, tables[k]),
                                                  timeout=60)
                except Exception as e:
                    preview_errors.append("table %d: %r" % (k, e))
                    continue
                preview_counts[n] += 1
                if st != 200:
                    preview_errors.append("table %d: status %s %r" % (k, st, body))
                elif body["total_rows"] == 10:
                    seen["old"] += 1
                    if body["rows"] != [old_row(k, i) for i in range(10)]:
                        preview_errors.append("table %d: old count, wrong rows %r" % (k, body["rows"][:3]))
                elif body["total_rows"] == ROWS:
                    seen["new"] += 1
                    if body["rows"] != [new_row(k, i) for i in range(50)]:
                        preview_errors.append("table %d: new count, wrong rows %r" % (k, body["rows"][:3]))
                else:
                    preview_errors.append("table %d: half-written? total_rows=%r" % (k, body["total_rows"]))
                if done:
                    break

        threads = [threading.Thread(target=importer, args=(k,), daemon=True) for k in range(TABLES)]
        readers = [threading.Thread(target=previewer, args=(n,), daemon=True) for n in range(PREVIEW_THREADS)]
        for t in threads + readers:
            t.start()
        for t in threads:
            t.join(max(1.0, deadline - time.monotonic()))
        imports_done.set()
        for t in readers:
            t.join(max(1.0, deadline - time.monotonic() + 5))
        self.assertFalse(any(t.is_alive() for t in threads + readers), "threads still running at the deadline")

        for k in range(TABLES):
            st, body, _ = results[k]
            self.assertEqual(st, 200, "import %d: %r" % (k, body))
            self.assertEqual(body["table_id"], tables[k])
            self.assertEqual((body["imported_rows"], body["rows"]), (ROWS, ROWS))
        self.assertEqual(preview_errors, [])
        self.assertGreater(sum(preview_counts), 0)
        print("\npreviews during the imports: %d of old generations, %d of new ones" % (seen["old"], seen["new"]))

        # afterwards: every table has exactly its rows, in file order
        for k in range(TABLES):
            d = self.table(pid, tables[k])
            self.assertEqual(d["rows"], ROWS)
            pv = self.preview(pid, tables[k], limit=10000)
            self.assertEqual(pv["total_rows"], ROWS)
            rows = pv["rows"]
            self.assertEqual(len(rows), 10000)
            exp = [new_row(k, i) for i in range(10000)]
            self.assertEqual((sum(r[0] for r in rows), sum(r[2] for r in rows)),
                             (sum(r[0] for r in exp), sum(r[2] for r in exp)), "checksum of table %d" % k)
            self.assertEqual(rows, exp)

    def test_parallel_imports_into_the_same_table_each_land_whole(self):
        pid, _ = self.create_project("conc2")
        b = self.create_bucket(pid, "same")
        tid = self.create_table_csv(pid, b, "t", "id,name,val\n0,x,0\n")["id"]
        n = 20_000
        bodies = []
        for k in range(3):
            bodies.append(("id,name,val\n" + "".join("%d,t%d_%d,%d\n" % (i, k, i, (i * (k + 3)) % 1000003)
                                                     for i in range(n))).encode())
        results = [None] * 3

        def importer(k):
            try:
                results[k] = self.server.req("POST", "/projects/%s/tables/%s/import" % (pid, tid), raw=bodies[k],
                                             content_type="text/csv", timeout=DEADLINE)
            except Exception as e:
                results[k] = (None, repr(e), {})

        threads = [threading.Thread(target=importer, args=(k,), daemon=True) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
        ok = [k for k in range(3) if results[k][0] == 200]
        self.assertTrue(ok, results)
        for k in range(3):
            # a concurrent import of the same table may be refused (409), never half-applied
            self.assertIn(results[k][0], (200, 409), results[k][1])
        for k in ok:
            self.assertEqual(results[k][1]["imported_rows"], n)
        rows = self.rows(pid, tid)
        self.assertEqual(self.table(pid, tid)["rows"], n)
        # the table is exactly one of the imports that succeeded, not a mix
        winners = [k for k in ok if rows == [new_row(k, i) for i in range(10000)]]
        self.assertEqual(len(winners), 1, rows[:3])

    def test_concurrent_creates_of_the_same_object_give_one_201_and_409s(self):
        pid = "race"
        def run(n, fn):
            out = [None] * n
            barrier = threading.Barrier(n)
            def work(i):
                barrier.wait()
                try:
                    out[i] = fn(i)
                except Exception as e:
                    out[i] = (None, repr(e), {})
            ts = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            return out

        res = run(8, lambda i: self.server.req("POST", "/projects", {"id": pid, "name": "r%d" % i}))
        self.assertEqual(sorted(r[0] for r in res), [201] + [409] * 7, [r[:2] for r in res])
        for r in res:
            if r[0] == 409:
                self.assertEqual(r[1]["error"], "project_exists")
        res = run(8, lambda i: self.server.req("POST", "/projects/%s/buckets" % pid, {"stage": "in", "name": "b"}))
        self.assertEqual(sorted(r[0] for r in res), [201] + [409] * 7, [r[:2] for r in res])
        res = run(6, lambda i: self.server.req("POST", "/projects/%s/buckets/in.c-b/tables?name=t" % pid,
                                               raw=("id\n%d\n" % i).encode(), content_type="text/csv"))
        self.assertEqual(sorted(r[0] for r in res), [201] + [409] * 5, [r[:2] for r in res])
        winner = [i for i, r in enumerate(res) if r[0] == 201][0]
        self.assertEqual(self.rows(pid, "in.c-b.t"), [[winner]])
        res = run(6, lambda i: self.server.req("POST", "/projects/%s/branches" % pid, {"name": "same"}))
        self.assertEqual(sorted(r[0] for r in res), [201] + [409] * 5, [r[:2] for r in res])
        # generated ids under concurrency are distinct
        res = run(8, lambda i: self.server.req("POST", "/projects", {"name": "gen%d" % i}))
        self.assertEqual([r[0] for r in res], [201] * 8, [r[:2] for r in res])
        self.assertEqual(len({r[1]["id"] for r in res}), 8)


    def big_file(self, n):
        path = os.path.join(self.server.root, "big%d.csv" % n)
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write("id,name,val\n")
                f.write("".join("%d,t9_%d,%d\n" % (i, i, (i * 12) % 1000003) for i in range(n)))
        return path

    def test_branch_first_write_during_a_main_import_copies_a_whole_generation(self):
        pid, _ = self.create_project("cow-race")
        b = self.create_bucket(pid, "s")
        tid = self.create_table_csv(pid, b, "t", "id,name,val\n0,x,0\n")["id"]
        br = self.assertOk(self.req("POST", "/projects/%s/branches" % pid, {"name": "dev"}), 201)["id"]
        n = 1_000_000
        path = self.big_file(n)
        res = {}

        def main_import():
            res["main"] = self.server.req("POST", "/projects/%s/tables/%s/import" % (pid, tid), raw_file=path,
                                          content_type="text/csv", timeout=DEADLINE)

        def branch_import():
            res["branch"] = self.server.req("POST", "/projects/%s/branches/%s/tables/%s/import?incremental=true"
                                            % (pid, br, tid), raw=b"id,name,val\n-1,branch,-1\n",
                                            content_type="text/csv", timeout=DEADLINE)

        t1 = threading.Thread(target=main_import, daemon=True)
        t2 = threading.Thread(target=branch_import, daemon=True)
        t1.start()
        time.sleep(0.3)
        t2.start()
        t1.join(DEADLINE)
        t2.join(DEADLINE)
        self.assertEqual(res["main"][0], 200, res["main"][1])
        self.assertEqual(res["branch"][0], 200, res["branch"][1])
        self.assertEqual(self.table(pid, tid)["rows"], n)
        brows = self.table(pid, tid, branch=br)["rows"]
        self.assertIn(brows, (2, n + 1), "branch copy is neither main's old nor its new generation")
        if brows == 2:
            self.assertEqual(self.rows(pid, tid, branch=br), [[0, "x", 0], [-1, "branch", -1]])
        else:
            # The branch copied main's new generation whole (imports keep no row order, so
            # the check is on content, not on which rows come first).
            p = self.preview(pid, tid, limit=10000, branch=br)
            self.assertEqual(p["total_rows"], n + 1)
            self.assertTrue(all(r[1] == "t9_%d" % r[0] for r in p["rows"] if r[0] >= 0), p["rows"][:5])
        self.assertEqual(self.table(pid, tid, branch=br)["source"], "branch")
        self.assertNotIn([-1, "branch", -1], self.preview(pid, tid, limit=5)["rows"])

    def import_in_background(self, pid, tid, path):
        """Starts importing the file into the table; res["import"] gets (status, body,
        headers) when it ends, or (None, error text, {})."""
        res = {}

        def do_import():
            try:
                res["import"] = self.server.req("POST", "/projects/%s/tables/%s/import" % (pid, tid), raw_file=path,
                                                content_type="text/csv", timeout=DEADLINE)
            except Exception as e:
                res["import"] = (None, repr(e), {})

        th = threading.Thread(target=do_import, daemon=True)
        th.start()
        return th, res

    def test_project_delete_during_an_import_is_clean(self):
        pid, _ = self.create_project("del-race")
        b = self.create_bucket(pid, "s")
        tid = self.create_table_csv(pid, b, "t", "id,name,val\n0,x,0\n")["id"]
        path = self.big_file(2_500_000)  # an import of about a second: the delete lands inside it
        th, res = self.import_in_background(pid, tid, path)
        time.sleep(0.5)
        st, body, _ = self.req("DELETE", "/projects/%s" % pid)
        th.join(DEADLINE)
        self.assertEqual(st, 204, body)
        ist, ibody, _ = res["import"]
        # the import either finished first (200) or lost its table (a 4xx), never a 500
        self.assertTrue(ist == 200 or (ist is not None and 400 <= ist < 500), (ist, ibody))
        if ist != 200:
            self.assertIn(ibody.get("error"), ("project_not_found", "table_not_found", "bucket_not_found"), ibody)
        self.assertError(self.req("GET", "/projects/%s" % pid), 404, "project_not_found")
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "project_%s" % pid)),
                         "files of the deleted project came back")


    def test_table_delete_during_an_import_leaves_no_table_and_no_file(self):
        pid, _ = self.create_project("tdel-race")
        b = self.create_bucket(pid, "s")
        tid = self.create_table_csv(pid, b, "t", "id,name,val\n0,x,0\n")["id"]
        path = self.big_file(2_500_000)
        th, res = self.import_in_background(pid, tid, path)
        time.sleep(0.5)
        st, body, _ = self.req("DELETE", "/projects/%s/tables/%s" % (pid, tid))
        th.join(DEADLINE)
        self.assertEqual(st, 204, body)
        ist, ibody, _ = res["import"]
        self.assertTrue(ist in (200, 404), (ist, ibody))
        # the delete answered 204 after the import started: the table stays deleted
        self.assertError(self.req("GET", "/projects/%s/tables/%s" % (pid, tid)), 404, "table_not_found")
        files = harness.table_files(self.server.data_dir, pid, "in_c_s", "t")
        self.assertEqual(files, [], "files of a deleted table left behind")


if __name__ == "__main__":
    harness.main()
