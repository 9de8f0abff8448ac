"""Projects: create, list, get, delete, authentication and authorisation, validation."""

import os

import harness
from harness import ServerTestCase, KEY_RE, uniq, snapshot

PROJECT_LIST_FIELDS = {"id", "name", "created_at", "bucket_count", "table_count", "size_bytes"}


class Projects(ServerTestCase):

    def test_create_with_id_returns_201_fields_and_api_key(self):
        pid = uniq("p")
        st, body, hdrs = self.req("POST", "/projects", {"id": pid, "name": "Sales"})
        self.assertEqual(st, 201, body)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"))
        self.assertEqual(set(body.keys()), {"id", "name", "created_at", "api_key"})
        self.assertEqual(body["id"], pid)
        self.assertEqual(body["name"], "Sales")
        self.assertTimestamp(body["created_at"])
        self.assertRegex(body["api_key"], KEY_RE)

    def test_create_without_id_generates_distinct_decimal_ids(self):
        a = self.assertOk(self.req("POST", "/projects", {"name": "A"}), 201)
        b = self.assertOk(self.req("POST", "/projects", {"name": "B"}), 201)
        for p in (a, b):
            self.assertIsInstance(p["id"], str)
            self.assertRegex(p["id"], r"^[0-9]+$")
            self.assertRegex(p["api_key"], KEY_RE)
        self.assertNotEqual(a["id"], b["id"])
        self.assertNotEqual(a["api_key"], b["api_key"])
        self.assertOk(self.req("GET", "/projects/%s" % a["id"]))

    def test_generated_id_does_not_collide_with_an_explicit_numeric_id(self):
        a = self.assertOk(self.req("POST", "/projects", {"name": "A"}), 201)
        nxt = str(int(a["id"]) + 1)
        self.assertOk(self.req("POST", "/projects", {"id": nxt, "name": "explicit"}), 201)
        b = self.assertOk(self.req("POST", "/projects", {"name": "B"}), 201)
        self.assertNotEqual(b["id"], nxt)
        self.assertEqual(self.assertOk(self.req("GET", "/projects/%s" % nxt))["name"], "explicit")

    def test_create_existing_id_is_409_project_exists(self):
        pid, _ = self.create_project(uniq("p"))
        self.assertError(self.req("POST", "/projects", {"id": pid, "name": "again"}), 409, "project_exists")
        self.assertEqual(self.assertOk(self.req("GET", "/projects/%s" % pid))["name"], "Test project")

    def test_list_has_every_project_with_counts_and_no_api_key(self):
        pid, _ = self.create_project(uniq("p"), name="Listed")
        b = self.create_bucket(pid, "sales")
        self.create_table_csv(pid, b, "orders", "id,v\n1,a\n2,b\n")
        body = self.assertOk(self.req("GET", "/projects"))
        self.assertEqual(set(body.keys()), {"projects"})
        mine = [p for p in body["projects"] if p["id"] == pid]
        self.assertEqual(len(mine), 1, body)
        for p in body["projects"]:
            self.assertEqual(set(p.keys()), PROJECT_LIST_FIELDS, p)
            self.assertTimestamp(p["created_at"])
            for f in ("bucket_count", "table_count", "size_bytes"):
                self.assertIsInstance(p[f], int)
                self.assertNotIsInstance(p[f], bool)
        p = mine[0]
        self.assertEqual(p["name"], "Listed")
        self.assertEqual(p["bucket_count"], 1)
        self.assertEqual(p["table_count"], 1)
        self.assertGreater(p["size_bytes"], 0)

    def test_get_returns_the_project_as_in_the_list(self):
        pid, _ = self.create_project(uniq("p"), name="Got")
        p = self.assertOk(self.req("GET", "/projects/%s" % pid))
        self.assertEqual(set(p.keys()), PROJECT_LIST_FIELDS)
        self.assertEqual((p["id"], p["name"], p["bucket_count"], p["table_count"]), (pid, "Got", 0, 0))
        listed = [x for x in self.assertOk(self.req("GET", "/projects"))["projects"] if x["id"] == pid][0]
        self.assertEqual(p, listed)

    def test_get_with_own_project_key(self):
        pid, key = self.create_project(uniq("p"))
        p = self.assertOk(self.req("GET", "/projects/%s" % pid, key=key))
        self.assertEqual(p["id"], pid)
        self.assertNotIn("api_key", p)

    def test_unknown_project_is_404_project_not_found(self):
        self.assertError(self.req("GET", "/projects/nope-%s" % uniq()), 404, "project_not_found")
        self.assertError(self.req("DELETE", "/projects/nope-%s" % uniq()), 404, "project_not_found")
        self.assertError(self.req("GET", "/projects/nope-%s/buckets" % uniq()), 404, "project_not_found")

    def test_delete_returns_204_then_404_and_removes_files(self):
        pid, key = self.create_project(uniq("p"))
        b = self.create_bucket(pid, "sales")
        self.create_table_csv(pid, b, "orders", "id,v\n1,a\n")
        pdir = os.path.join(self.server.data_dir, "project_%s" % pid)
        self.assertTrue(os.path.isdir(pdir), "expected project dir %s" % pdir)
        st, body, _ = self.req("DELETE", "/projects/%s" % pid)
        self.assertEqual(st, 204, body)
        self.assertEqual(body, "", "204 with a body")
        self.assertError(self.req("GET", "/projects/%s" % pid), 404, "project_not_found")
        self.assertError(self.req("DELETE", "/projects/%s" % pid), 404, "project_not_found")
        self.assertFalse(os.path.exists(pdir), "project dir still there: %s" % pdir)
        leftovers = [n for n in os.listdir(self.server.data_dir) if n.startswith("project_%s" % pid)
                     and (n == "project_%s" % pid or n.startswith("project_%s_" % pid))]
        self.assertEqual(leftovers, [])
        self.assertNotIn(pid, [p["id"] for p in self.assertOk(self.req("GET", "/projects"))["projects"]])
        # the deleted project's key no longer opens anything
        st, body, _ = self.req("GET", "/projects/%s" % pid, key=key)
        self.assertIn(st, (401, 403, 404), body)
        # the id can be used again, and the new project starts empty
        self.assertOk(self.req("POST", "/projects", {"id": pid, "name": "again"}), 201)
        p = self.assertOk(self.req("GET", "/projects/%s" % pid))
        self.assertEqual((p["bucket_count"], p["table_count"]), (0, 0))
        self.assertEqual(self.assertOk(self.req("GET", "/projects/%s/buckets" % pid))["buckets"], [])

    def test_delete_with_a_branch_removes_branch_files(self):
        pid, _ = self.create_project(uniq("p"))
        b = self.create_bucket(pid, "sales")
        t = self.create_table_csv(pid, b, "orders", "id,v\n1,a\n")["id"]
        br = self.assertOk(self.req("POST", "/projects/%s/branches" % pid, {"name": "dev"}), 201)["id"]
        self.import_csv(pid, t, "id,v\n2,b\n", branch=br)
        bdir = os.path.join(self.server.data_dir, "project_%s_branch_%s" % (pid, br))
        self.assertTrue(os.path.isdir(bdir), "expected branch dir %s" % bdir)
        st, body, _ = self.req("DELETE", "/projects/%s" % pid)
        self.assertEqual(st, 204, body)
        self.assertFalse(os.path.exists(bdir), "branch dir still there after project delete")

    def test_old_key_does_not_open_a_recreated_project(self):
        pid, old_key = self.create_project(uniq("p"))
        st, body, _ = self.req("DELETE", "/projects/%s" % pid)
        self.assertEqual(st, 204, body)
        _, new_key = self.create_project(pid)
        self.assertNotEqual(old_key, new_key)
        st, body, _ = self.req("GET", "/projects/%s" % pid, key=old_key)
        self.assertIn(st, (401, 403), body)
        self.assertOk(self.req("GET", "/projects/%s" % pid, key=new_key))

    def test_projects_keys_and_tables_survive_a_restart(self):
        pid, key = self.create_project(uniq("p"), name="Durable")
        b = self.create_bucket(pid, "sales")
        t = self.create_table_csv(pid, b, "orders", "id,v\n1,a\n2,b\n")["id"]
        before = self.assertOk(self.req("GET", "/projects/%s" % pid))
        self.server.restart()
        self._mark_log(self.server)
        self.assertEqual(self.assertOk(self.req("GET", "/projects/%s" % pid, key=key)), before)
        self.assertEqual(self.rows(pid, t), [[1, "a"], [2, "b"]])
        self.assertOk(self.req("GET", "/projects/%s/buckets/%s" % (pid, b), key=key))
        self.assertError(self.req("POST", "/projects", {"id": pid, "name": "x"}), 409, "project_exists")
        # generated ids keep counting after a restart: no reuse of an existing id
        a = self.assertOk(self.req("POST", "/projects", {"name": "after restart"}), 201)
        listed = [p["id"] for p in self.assertOk(self.req("GET", "/projects"))["projects"]]
        self.assertEqual(listed.count(a["id"]), 1)

    # ---- authentication / authorisation -------------------------------------------------

    def test_no_key_is_401_unauthorized(self):
        pid, _ = self.create_project(uniq("p"))
        for method, path, body in (("GET", "/projects", None), ("POST", "/projects", {"name": "x"}),
                                   ("GET", "/projects/%s" % pid, None),
                                   ("DELETE", "/projects/%s" % pid, None),
                                   ("GET", "/projects/%s/buckets" % pid, None)):
            with self.subTest(method=method, path=path):
                self.assertError(self.req(method, path, body, key=None), 401, "unauthorized")
        self.assertOk(self.req("GET", "/projects/%s" % pid))  # delete above did not happen

    def test_bad_key_is_401_unauthorized(self):
        pid, key = self.create_project(uniq("p"))
        for bad in ("dsk_" + "0" * 48, "nonsense", key[:-1], key + "0", self.server.admin_key.upper()):
            with self.subTest(key=bad):
                self.assertError(self.req("GET", "/projects/%s" % pid, key=bad), 401, "unauthorized")
        for hdr in ("Basic " + key, "Bearer", "Bearer ", key, "bearer-" + key):
            with self.subTest(header=hdr):
                self.assertError(self.req("GET", "/projects", key=None, headers={"Authorization": hdr}),
                                 401, "unauthorized")

    def test_unknown_key_on_missing_project_is_401_not_404(self):
        self.assertError(self.req("GET", "/projects/no-such-%s" % uniq(), key="dsk_" + "1" * 48),
                         401, "unauthorized")

    def test_project_key_on_another_project_is_403_forbidden(self):
        a, key_a = self.create_project(uniq("pa"))
        b, _ = self.create_project(uniq("pb"))
        bucket = self.create_bucket(b, "sales")
        for method, path, body in (("GET", "/projects/%s" % b, None),
                                   ("DELETE", "/projects/%s" % b, None),
                                   ("GET", "/projects/%s/buckets" % b, None),
                                   ("POST", "/projects/%s/buckets" % b, {"stage": "in", "name": "x"}),
                                   ("GET", "/projects/%s/buckets/%s" % (b, bucket), None),
                                   ("GET", "/projects/%s/branches" % b, None)):
            with self.subTest(method=method, path=path):
                self.assertError(self.req(method, path, body, key=key_a), 403, "forbidden")
        self.assertOk(self.req("GET", "/projects/%s" % b))
        self.assertOk(self.req("GET", "/projects/%s/buckets/%s" % (b, bucket)))

    def test_project_key_on_nonexistent_project_is_403_not_404(self):
        _, key = self.create_project(uniq("p"))
        missing = "missing-%s" % uniq()
        self.assertError(self.req("GET", "/projects/%s" % missing, key=key), 403, "forbidden")
        self.assertError(self.req("GET", "/projects/%s/buckets" % missing, key=key), 403, "forbidden")
        self.assertError(self.req("GET", "/projects/%s/buckets/in.c-x/tables/in.c-x.t" % missing, key=key),
                         403, "forbidden")

    def test_project_key_cannot_list_create_or_delete_projects(self):
        pid, key = self.create_project(uniq("p"))
        self.assertError(self.req("GET", "/projects", key=key), 403, "forbidden")
        new = uniq("p")
        self.assertError(self.req("POST", "/projects", {"id": new, "name": "x"}, key=key), 403, "forbidden")
        self.assertError(self.req("GET", "/projects/%s" % new), 404, "project_not_found")
        self.assertError(self.req("DELETE", "/projects/%s" % pid, key=key), 403, "forbidden")
        self.assertOk(self.req("GET", "/projects/%s" % pid))

    def test_project_key_works_inside_its_project(self):
        pid, key = self.create_project(uniq("p"))
        b = self.create_bucket(pid, "sales", key=key)
        self.assertOk(self.req("GET", "/projects/%s/buckets/%s" % (pid, b), key=key))
        self.assertOk(self.req("POST", "/projects/%s/buckets/%s/tables?name=t" % (pid, b),
                               raw=b"id\n1\n", content_type="text/csv", key=key), 201)
        self.assertOk(self.req("GET", "/projects/%s/buckets/%s/tables/%s.t/preview" % (pid, b, b), key=key))

    def test_api_key_only_returned_on_create(self):
        pid, key = self.create_project(uniq("p"))
        self.assertNotIn("api_key", self.assertOk(self.req("GET", "/projects/%s" % pid)))
        self.assertNotIn("api_key", self.assertOk(self.req("GET", "/projects/%s" % pid, key=key)))
        st, body, _ = self.req("GET", "/projects")
        self.assertNotIn(key, str(body))
        self.assertNotIn("api_key", str(body))

    # ---- validation ------------------------------------------------------------------------

    def test_malformed_json_is_400_invalid_request(self):
        for raw in (b"{", b"{\"name\": }", b"not json", b"", b"[]", b"\"Sales\"", b"{\"name\":\"x\"} trailing"):
            with self.subTest(raw=raw):
                self.assertError(self.req("POST", "/projects", raw=raw, content_type="application/json"),
                                 400, "invalid_request")

    def test_wrong_field_types_are_400_invalid_request(self):
        for body in ({"name": 5}, {"name": None}, {"name": ["x"]}, {"id": 123, "name": "x"},
                     {"id": True, "name": "x"}, {"id": {"a": 1}, "name": "x"}, {}):
            with self.subTest(body=body):
                self.assertError(self.req("POST", "/projects", body), 400, "invalid_request")

    def test_bad_project_ids_are_400_and_create_nothing(self):
        root = self.server.root
        parent = os.path.dirname(root)
        before_root = snapshot(root)
        marker = uniq("evil")
        bad_ids = ["..", ".", "a/b", "", "x" * 65, "é", "caf\u00e9", "a b", " lead", "tab\tid",
                   "../%s" % marker, "../../%s" % marker, "/tmp/%s" % marker, "%s/../.." % marker,
                   "a.b", "a\\b", "nul\x00byte", "%s;rm" % marker]
        for pid in bad_ids:
            with self.subTest(pid=pid):
                self.assertError(self.req("POST", "/projects", {"id": pid, "name": "x"}), 400,
                                 "invalid_request")
        after_root = {p for p in snapshot(root) if not p.endswith((".log", ".wal"))}
        self.assertEqual(after_root - before_root, set(),
                         "new files after rejected creates")
        self.assertEqual([n for n in os.listdir(parent) if marker in n], [])
        self.assertFalse(os.path.exists("/tmp/" + marker))
        self.assertFalse(any(marker in p for p in snapshot(root)))
        listed = [p["id"] for p in self.assertOk(self.req("GET", "/projects"))["projects"]]
        for pid in bad_ids:
            self.assertNotIn(pid, listed)

    def test_id_of_64_chars_with_dash_and_underscore_is_accepted(self):
        pid = ("A-b_" + uniq("z").replace("_", "-") + "x" * 64)[:64]
        self.assertEqual(len(pid), 64)
        self.assertOk(self.req("POST", "/projects", {"id": pid, "name": "long"}), 201)
        self.assertOk(self.req("GET", "/projects/%s" % pid))

    def test_bad_project_id_in_path_is_400(self):
        before = snapshot(self.server.root)
        for path in ("/projects/bad%20id", "/projects/caf%C3%A9", "/projects/" + "y" * 65):
            with self.subTest(path=path):
                self.assertError(self.req("DELETE", path), 400, "invalid_request")
                self.assertError(self.req("GET", path + "/buckets"), 400, "invalid_request")
        self.assertEqual({p for p in snapshot(self.server.root) - before if not p.endswith((".log", ".wal"))},
                         set())


if __name__ == "__main__":
    harness.main()
