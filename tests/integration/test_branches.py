"""Branches: CRUD and copy-on-write semantics of dev branches."""

import os

import harness
from harness import ServerTestCase, uniq, table_files


class BranchBase(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.pid, self.key = self.create_project(uniq("p"))

    def url(self, rest, branch=None):
        return self.base(self.pid, branch) + rest

    def branch(self, name=None, description=None):
        body = {"name": name or uniq("br").replace("_", "-")}
        if description is not None:
            body["description"] = description
        return self.assertOk(self.req("POST", self.url("/branches"), body), 201)

    def main_table(self, rows=((1, "a"), (2, "b")), pk=None):
        b = self.create_bucket(self.pid, "sales")
        csv = "id,name\n" + "".join("%d,%s\n" % r for r in rows)
        return self.create_table_csv(self.pid, b, "orders", csv, primary_key=pk)["id"]


class BranchCrud(BranchBase):

    def test_create_branch_returns_fields(self):
        st, br, _ = self.req("POST", self.url("/branches"), {"name": "feature-x", "description": "try things"})
        self.assertEqual(st, 201, br)
        self.assertEqual(set(br.keys()), {"id", "name", "description", "created_at"})
        self.assertRegex(br["id"], r"^[0-9]+$")
        self.assertEqual(br["name"], "feature-x")
        self.assertEqual(br["description"], "try things")
        self.assertTimestamp(br["created_at"])

    def test_list_and_get_branch(self):
        a = self.branch("a-1")
        b = self.branch("b_2", description="second")
        body = self.assertOk(self.req("GET", self.url("/branches")))
        self.assertEqual(set(body.keys()), {"branches"})
        dev = {x["id"]: x for x in body["branches"] if x["id"] in (a["id"], b["id"])}
        self.assertEqual(set(dev), {a["id"], b["id"]})
        self.assertEqual(dev[b["id"]]["name"], "b_2")
        self.assertEqual(dev[b["id"]]["description"], "second")
        got = self.assertOk(self.req("GET", self.url("/branches/%s" % a["id"])))
        self.assertEqual(got["id"], a["id"])
        self.assertEqual(got["name"], "a-1")
        self.assertEqual(got["created_at"], a["created_at"])
        self.assertEqual(got["copied_tables"], [])
        self.assertNotEqual(a["id"], b["id"])

    def test_existing_branch_name_is_409_branch_exists(self):
        self.branch("dup")
        self.assertError(self.req("POST", self.url("/branches"), {"name": "dup"}), 409, "branch_exists")

    def test_bad_branch_names_are_400(self):
        for name in ("", "..", "a/b", "x" * 65, "é", "a b", "a.b", 7, None):
            with self.subTest(name=name):
                self.assertError(self.req("POST", self.url("/branches"), {"name": name}), 400, "invalid_request")
        self.assertError(self.req("POST", self.url("/branches"), {}), 400, "invalid_request")
        self.assertError(self.req("POST", self.url("/branches"), raw=b"{", content_type="application/json"),
                         400, "invalid_request")

    def test_unknown_branch_is_404_branch_not_found(self):
        self.assertError(self.req("GET", self.url("/branches/999999")), 404, "branch_not_found")
        self.assertError(self.req("DELETE", self.url("/branches/999999")), 404, "branch_not_found")
        self.assertError(self.req("GET", self.url("/buckets", branch="999999")), 404, "branch_not_found")
        self.assertError(self.req("POST", self.url("/buckets", branch="999999"), {"stage": "in", "name": "x"}),
                         404, "branch_not_found")
        # a branch of another project is unknown here
        other, _ = self.create_project(uniq("q"))
        ob = self.assertOk(self.req("POST", "/projects/%s/branches" % other, {"name": "theirs"}), 201)
        self.assertError(self.req("GET", self.url("/branches/%s" % ob["id"])), 404, "branch_not_found")

    def test_default_means_main(self):
        b = self.create_bucket(self.pid, "sales", branch="default")
        self.assertOk(self.req("GET", self.url("/buckets/" + b)))
        t = self.create_table_csv(self.pid, b, "orders", "id\n1\n2\n")["id"]
        d = self.table(self.pid, t, branch="default")
        self.assertEqual((d["rows"], d["source"]), (2, "main"))
        self.import_csv(self.pid, t, "id\n5\n", branch="default")
        self.assertEqual(self.rows(self.pid, t), [[5]])
        self.assertOk(self.req("GET", self.url("/branches/default")))
        self.assertEqual(self.assertOk(self.req("GET", self.url("/buckets", branch="default"))),
                         self.assertOk(self.req("GET", self.url("/buckets"))))

    def test_main_branch_cannot_be_deleted(self):
        t = self.main_table()
        st, body, _ = self.req("DELETE", self.url("/branches/default"))
        self.assertTrue(400 <= st < 500, (st, body))
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])

    def test_project_key_manages_its_branches(self):
        br = self.assertOk(self.req("POST", self.url("/branches"), {"name": "k"}, key=self.key), 201)
        self.assertOk(self.req("GET", self.url("/branches/%s" % br["id"]), key=self.key))
        other, okey = self.create_project(uniq("q"))
        self.assertError(self.req("GET", self.url("/branches/%s" % br["id"]), key=okey), 403, "forbidden")
        st, body, _ = self.req("DELETE", self.url("/branches/%s" % br["id"]), key=self.key)
        self.assertEqual(st, 204, body)


class CopyOnWrite(BranchBase):

    def test_branch_reads_main_until_it_writes(self):
        t = self.main_table()
        br = self.branch()["id"]
        d = self.table(self.pid, t, branch=br)
        self.assertEqual((d["rows"], d["source"]), (2, "main"))
        self.assertEqual(self.rows(self.pid, t, branch=br), [[1, "a"], [2, "b"]])
        # main changes are seen live by a branch that has not written the table
        self.import_csv(self.pid, t, "id,name\n3,c\n")
        self.assertEqual(self.rows(self.pid, t, branch=br), [[3, "c"]])
        self.assertEqual(self.table(self.pid, t, branch=br)["source"], "main")
        self.assertEqual(self.assertOk(self.req("GET", self.url("/branches/%s" % br)))["copied_tables"], [])
        # the table is listed in the branch's bucket
        ids = [x["id"] for x in self.assertOk(self.req("GET", self.url("/buckets/in.c-sales/tables", br)))["tables"]]
        self.assertEqual(ids, [t])

    def test_import_via_branch_copies_the_table(self):
        t = self.main_table()
        br = self.branch()["id"]
        r = self.import_csv(self.pid, t, "id,name\n10,x\n20,y\n30,z\n", branch=br)
        self.assertEqual((r["imported_rows"], r["rows"]), (3, 3))
        self.assertEqual(r["table_id"], t)
        detail = self.assertOk(self.req("GET", self.url("/branches/%s" % br)))
        self.assertEqual([c["table_id"] for c in detail["copied_tables"]], [t])
        self.assertEqual(set(detail["copied_tables"][0].keys()), {"table_id", "copied_at"})
        self.assertTimestamp(detail["copied_tables"][0]["copied_at"])
        self.assertEqual(self.rows(self.pid, t, branch=br), [[10, "x"], [20, "y"], [30, "z"]])
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])
        bd, md = self.table(self.pid, t, branch=br), self.table(self.pid, t)
        self.assertEqual((bd["source"], bd["rows"]), ("branch", 3))
        self.assertEqual((md["source"], md["rows"]), ("main", 2))
        self.assertEqual(bd["id"], md["id"])
        self.assertEqual(bd["columns"], md["columns"])
        # main keeps changing independently; the branch keeps reading its copy
        self.import_csv(self.pid, t, "id,name\n4,d\n", incremental=True)
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"], [4, "d"]])
        self.assertEqual(self.rows(self.pid, t, branch=br), [[10, "x"], [20, "y"], [30, "z"]])
        self.assertTrue(table_files(self.server.data_dir, self.pid, "in_c_sales", "orders", branch=br))

    def test_incremental_import_in_branch_starts_from_main_rows(self):
        t = self.main_table(pk="id")
        br = self.branch()["id"]
        r = self.import_csv(self.pid, t, "id,name\n2,B\n3,c\n", incremental=True, branch=br)
        self.assertEqual((r["imported_rows"], r["rows"]), (2, 3))
        self.assertEqual(sorted(self.rows(self.pid, t, branch=br)), [[1, "a"], [2, "B"], [3, "c"]])
        self.assertEqual(self.table(self.pid, t, branch=br)["primary_key"], ["id"])
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])

    def test_failed_import_in_branch_changes_nothing(self):
        t = self.main_table()
        br = self.branch()["id"]
        self.assertError(self.import_csv(self.pid, t, "id,name\nnot-int,x\n", branch=br, expect=None), 400,
                         "import_failed")
        self.assertEqual(self.rows(self.pid, t, branch=br), [[1, "a"], [2, "b"]])
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])

    def test_two_branches_are_isolated_from_each_other_and_main(self):
        t = self.main_table()
        b1, b2 = self.branch()["id"], self.branch()["id"]
        self.import_csv(self.pid, t, "id,name\n100,one\n", branch=b1)
        self.import_csv(self.pid, t, "id,name\n200,two\n201,two\n", branch=b2)
        self.assertEqual(self.rows(self.pid, t, branch=b1), [[100, "one"]])
        self.assertEqual(self.rows(self.pid, t, branch=b2), [[200, "two"], [201, "two"]])
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])
        self.import_csv(self.pid, t, "id,name\n101,one\n", branch=b1, incremental=True)
        self.assertEqual(self.rows(self.pid, t, branch=b1), [[100, "one"], [101, "one"]])
        self.assertEqual(self.rows(self.pid, t, branch=b2), [[200, "two"], [201, "two"]])
        self.assertEqual(self.table(self.pid, t)["rows"], 2)
        b3 = self.branch()["id"]
        self.assertEqual(self.rows(self.pid, t, branch=b3), [[1, "a"], [2, "b"]])

    def test_buckets_and_tables_created_in_a_branch_exist_only_there(self):
        t = self.main_table()
        br = self.branch()["id"]
        nb = self.create_bucket(self.pid, "devonly", branch=br)
        self.assertOk(self.req("GET", self.url("/buckets/" + nb, br)))
        self.assertError(self.req("GET", self.url("/buckets/" + nb)), 404, "bucket_not_found")
        self.assertNotIn(nb, [x["id"] for x in self.assertOk(self.req("GET", self.url("/buckets")))["buckets"]])
        bl = [x["id"] for x in self.assertOk(self.req("GET", self.url("/buckets", br)))["buckets"]]
        self.assertEqual(sorted(bl), sorted(["in.c-sales", nb]))
        # a branch-only table in a main bucket, and one in the branch-only bucket
        t2 = self.create_table_csv(self.pid, "in.c-sales", "dev_table", "k\n1\n", branch=br)
        self.assertEqual(t2["source"], "branch")
        t3 = self.create_table_json(self.pid, nb, "dev2", [("k", "integer")], branch=br)
        self.assertEqual(t3["source"], "branch")
        self.assertError(self.req("GET", self.url("/tables/" + t2["id"])), 404, "table_not_found")
        st, body, _ = self.req("GET", self.url("/tables/" + t3["id"]))
        self.assertEqual(st, 404, body)
        self.assertIn(body.get("error"), ("table_not_found", "bucket_not_found"))
        self.assertEqual([x["id"] for x in self.assertOk(self.req("GET", self.url("/buckets/in.c-sales/tables")))["tables"]],
                         [t])
        self.assertEqual(sorted(x["id"] for x in self.assertOk(self.req("GET", self.url("/buckets/in.c-sales/tables", br)))["tables"]),
                         sorted([t, t2["id"]]))
        p = self.assertOk(self.req("GET", self.url("")))
        self.assertEqual((p["bucket_count"], p["table_count"]), (1, 1))
        # main does not know the branch-only bucket: creating it there works
        self.assertOk(self.req("POST", self.url("/buckets"), {"stage": "in", "name": "devonly"}), 201)
        self.assertEqual(self.assertOk(self.req("GET", self.url("/buckets/" + nb)))["tables"], [])
        # branch-only table can be deleted in the branch
        st, body, _ = self.req("DELETE", self.url("/tables/" + t2["id"], br))
        self.assertEqual(st, 204, body)
        self.assertError(self.req("GET", self.url("/tables/" + t2["id"], br)), 404, "table_not_found")

    def test_creating_in_a_branch_what_main_already_has_is_409(self):
        t = self.main_table()
        br = self.branch()["id"]
        self.assertError(self.req("POST", self.url("/buckets", br), {"stage": "in", "name": "sales"}),
                         409, "bucket_exists")
        self.assertError(self.req("POST", self.url("/buckets/in.c-sales/tables?name=orders", br), raw=b"x\n1\n",
                                  content_type="text/csv"), 409, "table_exists")
        self.assertError(self.req("POST", self.url("/buckets/in.c-sales/tables", br),
                                  {"name": "orders", "columns": [{"name": "x", "type": "integer"}]}),
                         409, "table_exists")
        self.assertEqual(self.rows(self.pid, t, branch=br), [[1, "a"], [2, "b"]])
        self.assertEqual(self.table(self.pid, t, branch=br)["source"], "main")

    def test_deleting_a_main_table_via_a_branch_is_400(self):
        t = self.main_table()
        br = self.branch()["id"]
        self.assertError(self.req("DELETE", self.url("/tables/" + t, br)), 400, "invalid_request")
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])
        self.assertEqual(self.rows(self.pid, t, branch=br), [[1, "a"], [2, "b"]])
        self.assertEqual(self.table(self.pid, t, branch=br)["source"], "main")

    def test_deleting_a_main_bucket_via_a_branch_is_400(self):
        t = self.main_table()
        br = self.branch()["id"]
        for q in ("", "?force=true"):
            self.assertError(self.req("DELETE", self.url("/buckets/in.c-sales" + q, br)), 400, "invalid_request")
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])
        self.assertOk(self.req("GET", self.url("/buckets/in.c-sales", br)))

    def test_deleting_the_branch_copy_makes_the_branch_read_main_again(self):
        t = self.main_table()
        br = self.branch()["id"]
        self.import_csv(self.pid, t, "id,name\n9,z\n", branch=br)
        self.assertEqual(self.table(self.pid, t, branch=br)["source"], "branch")
        st, body, _ = self.req("DELETE", self.url("/tables/" + t, br))
        self.assertEqual(st, 204, body)
        d = self.table(self.pid, t, branch=br)
        self.assertEqual((d["source"], d["rows"]), ("main", 2))
        self.assertEqual(self.rows(self.pid, t, branch=br), [[1, "a"], [2, "b"]])
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])
        self.assertEqual(self.assertOk(self.req("GET", self.url("/branches/%s" % br)))["copied_tables"], [])
        self.assertEqual(table_files(self.server.data_dir, self.pid, "in_c_sales", "orders", branch=br), [])
        # and deleting again is now a delete of a main table: 400
        self.assertError(self.req("DELETE", self.url("/tables/" + t, br)), 400, "invalid_request")

    def test_deleting_a_branch_removes_its_copies_and_keeps_main(self):
        t = self.main_table()
        br = self.branch("dev-x")["id"]
        self.import_csv(self.pid, t, "id,name\n9,z\n", branch=br)
        self.create_bucket(self.pid, "devonly", branch=br)
        bdir = os.path.join(self.server.data_dir, "project_%s_branch_%s" % (self.pid, br))
        self.assertTrue(os.path.isdir(bdir), bdir)
        st, body, _ = self.req("DELETE", self.url("/branches/%s" % br))
        self.assertEqual(st, 204, body)
        self.assertError(self.req("GET", self.url("/branches/%s" % br)), 404, "branch_not_found")
        self.assertError(self.req("GET", self.url("/tables/" + t, br)), 404, "branch_not_found")
        self.assertFalse(os.path.exists(bdir), "branch dir left: %s" % bdir)
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])
        self.assertEqual(self.table(self.pid, t)["source"], "main")
        self.assertNotIn(br, [x["id"] for x in self.assertOk(self.req("GET", self.url("/branches")))["branches"]])
        # a new branch with the same name starts clean
        nb = self.branch("dev-x")["id"]
        self.assertEqual(self.rows(self.pid, t, branch=nb), [[1, "a"], [2, "b"]])
        self.assertEqual(self.table(self.pid, t, branch=nb)["source"], "main")
        self.assertError(self.req("GET", self.url("/buckets/in.c-devonly", nb)), 404, "bucket_not_found")

    def test_deleting_a_main_table_is_seen_by_branches_that_did_not_copy_it(self):
        t = self.main_table()
        br = self.branch()["id"]
        st, body, _ = self.req("DELETE", self.url("/tables/" + t))
        self.assertEqual(st, 204, body)
        self.assertError(self.req("GET", self.url("/tables/" + t, br)), 404, "table_not_found")

    def test_branch_state_survives_restart(self):
        t = self.main_table()
        br = self.branch()["id"]
        self.import_csv(self.pid, t, "id,name\n9,z\n", branch=br)
        self.server.restart()
        self._mark_log(self.server)
        self.assertEqual(self.rows(self.pid, t, branch=br), [[9, "z"]])
        self.assertEqual(self.rows(self.pid, t), [[1, "a"], [2, "b"]])
        self.assertEqual([c["table_id"] for c in
                          self.assertOk(self.req("GET", self.url("/branches/%s" % br)))["copied_tables"]], [t])


if __name__ == "__main__":
    harness.main()
