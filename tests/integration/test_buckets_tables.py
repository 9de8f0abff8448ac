"""Buckets and tables on the main branch: CRUD, types, CSV/Parquet imports, preview, limits."""

import http.client
import os
import re

import harness
from harness import ServerTestCase, uniq, csv_text, snapshot, table_files, table_dir, write_parquet

TABLE_FIELDS = {"id", "bucket_id", "name", "schema", "columns", "primary_key", "rows", "size_bytes",
                "created_at", "updated_at", "source"}
IMPORT_FIELDS = {"table_id", "imported_rows", "rows", "size_bytes"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class Base(ServerTestCase):

    def setUp(self):
        super().setUp()
        self.pid, self.key = self.create_project(uniq("p"))

    def url(self, rest):
        return "/projects/%s%s" % (self.pid, rest)

    def assertTableDetail(self, t, bucket_id, name):
        self.assertEqual(set(t.keys()), TABLE_FIELDS, t)
        self.assertEqual(t["id"], "%s.%s" % (bucket_id, name))
        self.assertEqual(t["bucket_id"], bucket_id)
        self.assertEqual(t["name"], name)
        self.assertEqual(t["schema"], re.sub(r"[^A-Za-z0-9]", "_", bucket_id))
        self.assertIsInstance(t["columns"], list)
        for c in t["columns"]:
            self.assertEqual(set(c.keys()), {"name", "type", "nullable"}, c)
            self.assertIsInstance(c["name"], str)
            self.assertIsInstance(c["type"], str)
            self.assertIsInstance(c["nullable"], bool)
        self.assertIsInstance(t["primary_key"], list)
        self.assertTrue(is_int(t["rows"]), t)
        self.assertTrue(is_int(t["size_bytes"]), t)
        self.assertTimestamp(t["created_at"])
        self.assertTimestamp(t["updated_at"])
        self.assertGreaterEqual(t["updated_at"], t["created_at"])
        self.assertIn(t["source"], ("main", "branch"))

    def sales(self):
        return self.create_bucket(self.pid, uniq("s"))


class Buckets(Base):

    def test_create_bucket_returns_id_stage_name_schema(self):
        st, b, _ = self.req("POST", self.url("/buckets"), {"stage": "in", "name": "sales", "description": "d"})
        self.assertEqual(st, 201, b)
        self.assertEqual(set(b.keys()), {"id", "stage", "name", "schema", "description", "created_at"})
        self.assertEqual(b["id"], "in.c-sales")
        self.assertEqual(b["stage"], "in")
        self.assertEqual(b["name"], "sales")
        self.assertEqual(b["schema"], "in_c_sales")
        self.assertEqual(b["description"], "d")
        self.assertTimestamp(b["created_at"])

    def test_out_stage_and_dashes_map_to_schema(self):
        b = self.assertOk(self.req("POST", self.url("/buckets"), {"stage": "out", "name": "my-data_2"}), 201)
        self.assertEqual(b["id"], "out.c-my-data_2")
        self.assertEqual(b["schema"], "out_c_my_data_2")

    def test_list_and_get_bucket_with_tables(self):
        b = self.create_bucket(self.pid, "sales")
        self.create_bucket(self.pid, "crm", stage="out")
        self.create_table_csv(self.pid, b, "orders", "id\n1\n")
        body = self.assertOk(self.req("GET", self.url("/buckets")))
        self.assertEqual(sorted(x["id"] for x in body["buckets"]), ["in.c-sales", "out.c-crm"])
        for x in body["buckets"]:
            self.assertIn("schema", x)
            self.assertTimestamp(x["created_at"])
        got = self.assertOk(self.req("GET", self.url("/buckets/in.c-sales")))
        self.assertEqual(got["id"], "in.c-sales")
        self.assertEqual(got["schema"], "in_c_sales")
        self.assertEqual([t["id"] for t in got["tables"]], ["in.c-sales.orders"])
        empty = self.assertOk(self.req("GET", self.url("/buckets/out.c-crm")))
        self.assertEqual(empty["tables"], [])

    def test_bad_stage_is_400(self):
        for stage in ("mid", "", "IN", "../in", 1, None):
            with self.subTest(stage=stage):
                self.assertError(self.req("POST", self.url("/buckets"), {"stage": stage, "name": "x"}),
                                 400, "invalid_request")
        self.assertEqual(self.assertOk(self.req("GET", self.url("/buckets")))["buckets"], [])

    def test_bad_bucket_names_are_400_and_touch_nothing(self):
        before = snapshot(self.server.root)
        marker = uniq("evil")
        for name in ("..", ".", "a/b", "../" + marker, "", "x" * 65, "é", "a b", "a.b", marker + "/../..", 5):
            with self.subTest(name=name):
                self.assertError(self.req("POST", self.url("/buckets"), {"stage": "in", "name": name}),
                                 400, "invalid_request")
        self.assertError(self.req("POST", self.url("/buckets"), {"stage": "in"}), 400, "invalid_request")
        new = {p for p in snapshot(self.server.root) - before if not p.endswith((".log", ".wal"))}
        self.assertEqual(new, set())
        self.assertFalse([n for n in os.listdir(os.path.dirname(self.server.root)) if marker in n])

    def test_64_char_bucket_name_ok_65_rejected(self):
        self.assertOk(self.req("POST", self.url("/buckets"), {"stage": "in", "name": "b" * 64}), 201)
        self.assertError(self.req("POST", self.url("/buckets"), {"stage": "in", "name": "b" * 65}),
                         400, "invalid_request")

    def test_existing_bucket_is_409_bucket_exists(self):
        self.create_bucket(self.pid, "sales")
        self.assertError(self.req("POST", self.url("/buckets"), {"stage": "in", "name": "sales"}),
                         409, "bucket_exists")
        # same name in the other stage is another bucket
        self.assertOk(self.req("POST", self.url("/buckets"), {"stage": "out", "name": "sales"}), 201)

    def test_unknown_bucket_is_404_bucket_not_found(self):
        self.assertError(self.req("GET", self.url("/buckets/in.c-nope")), 404, "bucket_not_found")
        self.assertError(self.req("DELETE", self.url("/buckets/in.c-nope")), 404, "bucket_not_found")
        self.assertError(self.req("GET", self.url("/buckets/in.c-nope/tables")), 404, "bucket_not_found")
        self.assertError(self.req("POST", self.url("/buckets/in.c-nope/tables?name=t"), raw=b"id\n1\n",
                                  content_type="text/csv"), 404, "bucket_not_found")
        self.assertError(self.req("POST", self.url("/buckets/in.c-nope/tables"),
                                  {"name": "t", "columns": [{"name": "id", "type": "integer"}]}),
                         404, "bucket_not_found")

    def test_bucket_in_unknown_project_is_404_project_not_found(self):
        self.assertError(self.req("POST", "/projects/nope-%s/buckets" % uniq(), {"stage": "in", "name": "s"}),
                         404, "project_not_found")

    def test_delete_empty_bucket_is_204(self):
        b = self.create_bucket(self.pid, "sales")
        st, body, _ = self.req("DELETE", self.url("/buckets/" + b))
        self.assertEqual(st, 204, body)
        self.assertError(self.req("GET", self.url("/buckets/" + b)), 404, "bucket_not_found")
        self.assertOk(self.req("POST", self.url("/buckets"), {"stage": "in", "name": "sales"}), 201)

    def test_delete_non_empty_bucket_needs_force(self):
        b = self.create_bucket(self.pid, "sales")
        t = self.create_table_csv(self.pid, b, "orders", "id,v\n1,a\n2,b\n")["id"]
        self.assertError(self.req("DELETE", self.url("/buckets/" + b)), 409, "bucket_not_empty")
        self.assertEqual(self.table(self.pid, t)["rows"], 2)
        for falsy in ("false", "0"):
            st, body, _ = self.req("DELETE", self.url("/buckets/%s?force=%s" % (b, falsy)))
            self.assertNotEqual(st, 204, "force=%s deleted a non-empty bucket" % falsy)
        self.assertEqual(self.table(self.pid, t)["rows"], 2)
        d = table_dir(self.server.data_dir, self.pid, "in_c_sales")
        self.assertTrue(table_files(self.server.data_dir, self.pid, "in_c_sales", "orders"), d)
        st, body, _ = self.req("DELETE", self.url("/buckets/%s?force=true" % b))
        self.assertEqual(st, 204, body)
        self.assertError(self.req("GET", self.url("/buckets/" + b)), 404, "bucket_not_found")
        st, body, _ = self.req("GET", self.url("/tables/" + t))
        self.assertEqual(st, 404, body)
        self.assertIn(body["error"], ("table_not_found", "bucket_not_found"))
        self.assertEqual(table_files(self.server.data_dir, self.pid, "in_c_sales", "orders"), [])
        p = self.assertOk(self.req("GET", self.url("")))
        self.assertEqual((p["bucket_count"], p["table_count"]), (0, 0))


class TablesJson(Base):

    def test_json_create_returns_table_detail(self):
        b = self.sales()
        st, t, _ = self.req("POST", self.url("/buckets/%s/tables" % b), {
            "name": "orders",
            "columns": [{"name": "id", "type": "integer"}, {"name": "amount", "type": "decimal(10,2)"},
                        {"name": "note", "type": "text"}],
            "primary_key": ["id"]})
        self.assertEqual(st, 201, t)
        self.assertTableDetail(t, b, "orders")
        self.assertEqual([(c["name"], c["type"]) for c in t["columns"]],
                         [("id", "INTEGER"), ("amount", "DECIMAL(10,2)"), ("note", "VARCHAR")])
        self.assertFalse(t["columns"][0]["nullable"], "primary key column reported nullable")
        self.assertTrue(t["columns"][2]["nullable"])
        self.assertEqual(t["primary_key"], ["id"])
        self.assertEqual(t["rows"], 0)
        self.assertEqual(t["source"], "main")
        self.assertEqual(self.table(self.pid, t["id"]), t)
        pv = self.preview(self.pid, t["id"])
        self.assertEqual(pv, {"columns": ["id", "amount", "note"], "rows": [], "total_rows": 0})

    def test_type_aliases_are_accepted_and_normalised(self):
        b = self.sales()
        aliases = [("integer", "INTEGER"), ("INTEGER", "INTEGER"), ("int4", "INTEGER"), ("int8", "BIGINT"),
                   ("bigint", "BIGINT"), ("double", "DOUBLE"), ("float8", "DOUBLE"),
                   ("decimal(10,2)", "DECIMAL(10,2)"), ("numeric(12,3)", "DECIMAL(12,3)"),
                   ("varchar", "VARCHAR"), ("text", "VARCHAR"), ("boolean", "BOOLEAN"), ("bool", "BOOLEAN"),
                   ("date", "DATE"), ("timestamp", "TIMESTAMP"), ("timestamptz", "TIMESTAMP WITH TIME ZONE"),
                   ("json", "JSON")]
        cols = [("c%d" % i, a) for i, (a, _) in enumerate(aliases)]
        t = self.create_table_json(self.pid, b, "types", cols)
        self.assertEqual([c["type"] for c in t["columns"]], [n for _, n in aliases])
        self.assertEqual([c["name"] for c in t["columns"]], [n for n, _ in cols])

    def test_types_outside_the_allow_list_are_400_and_create_nothing(self):
        b = self.sales()
        bad = ["integer; drop table x", "foo", "varchar)--", "", "decimal(10,2", "decimal(100,2)",
               "integer not null", "varchar(10)); drop table x; --", "int DEFAULT 1", "text/**/", 5, None]
        for i, ty in enumerate(bad):
            with self.subTest(type=ty):
                name = "bad%d" % i
                self.assertError(self.req("POST", self.url("/buckets/%s/tables" % b),
                                          {"name": name, "columns": [{"name": "id", "type": "integer"},
                                                                     {"name": "x", "type": ty}]}),
                                 400, "invalid_request")
                self.assertError(self.req("GET", self.url("/tables/%s.%s" % (b, name))), 404, "table_not_found")
        self.assertEqual(self.assertOk(self.req("GET", self.url("/buckets/%s/tables" % b)))["tables"], [])

    def test_bad_json_table_definitions_are_400(self):
        b = self.sales()
        bodies = [
            {"name": "t", "columns": []},
            {"name": "t"},
            {"columns": [{"name": "id", "type": "integer"}]},
            {"name": "t", "columns": [{"name": "id", "type": "integer"}, {"name": "id", "type": "text"}]},
            {"name": "t", "columns": [{"name": "a b", "type": "integer"}]},
            {"name": "t", "columns": [{"name": "1abc", "type": "integer"}]},
            {"name": "t", "columns": [{"name": "x\"; drop", "type": "integer"}]},
            {"name": "t", "columns": [{"name": "c" * 65, "type": "integer"}]},
            {"name": "t", "columns": [{"name": "id"}]},
            {"name": "t", "columns": "id integer"},
            {"name": "t", "columns": [{"name": "id", "type": "integer"}], "primary_key": ["nope"]},
            {"name": "t", "columns": [{"name": "id", "type": "integer"}], "primary_key": "id"},
        ]
        for body in bodies:
            with self.subTest(body=body):
                self.assertError(self.req("POST", self.url("/buckets/%s/tables" % b), body), 400, "invalid_request")
        self.assertError(self.req("GET", self.url("/tables/%s.t" % b)), 404, "table_not_found")

    def test_existing_table_is_409_table_exists(self):
        b = self.sales()
        self.create_table_json(self.pid, b, "orders", [("id", "integer")])
        self.assertError(self.req("POST", self.url("/buckets/%s/tables" % b),
                                  {"name": "orders", "columns": [{"name": "x", "type": "text"}]}),
                         409, "table_exists")
        self.assertError(self.req("POST", self.url("/buckets/%s/tables?name=orders" % b), raw=b"x\n1\n",
                                  content_type="text/csv"), 409, "table_exists")
        self.assertEqual([c["name"] for c in self.table(self.pid, "%s.orders" % b)["columns"]], ["id"])

    def test_preview_values_are_typed_as_the_contract_says(self):
        b = self.sales()
        t = self.create_table_json(self.pid, b, "vals", [
            ("i", "integer"), ("bi", "bigint"), ("d", "double"), ("dec", "decimal(10,2)"), ("s", "varchar"),
            ("f", "boolean"), ("day", "date"), ("ts", "timestamp")])["id"]
        r = self.import_csv(self.pid, t, "i,bi,d,dec,s,f,day,ts\n"
                                         "1,9000000000,1.5,3.25,hello,true,2024-01-02,2024-01-02 03:04:05\n"
                                         ",,,,,,,\n")
        self.assertEqual(r["rows"], 2)
        pv = self.preview(self.pid, t)
        self.assertEqual(pv["columns"], ["i", "bi", "d", "dec", "s", "f", "day", "ts"])
        row = pv["rows"][0]
        self.assertEqual(row[:6], [1, 9000000000, 1.5, "3.25", "hello", True])
        self.assertTrue(is_int(row[0]) and is_int(row[1]))
        self.assertEqual(row[6], "2024-01-02")
        self.assertIsInstance(row[7], str)
        self.assertTrue(row[7].startswith("2024-01-02"), row[7])
        self.assertIn("03:04:05", row[7])
        self.assertEqual(pv["rows"][1], [None] * 8)


class TablesCsvParquet(Base):

    def test_csv_create_infers_types_and_counts_rows(self):
        b = self.sales()
        csv = ("id,name,amount,day,flag\n"
               "1,alpha,1.5,2024-01-01,true\n"
               "2,beta,2.25,2024-01-02,false\n"
               "3,gamma,3.75,2024-01-03,true\n")
        st, t, _ = self.req("POST", self.url("/buckets/%s/tables?name=orders&primary_key=id" % b),
                            raw=csv.encode(), content_type="text/csv")
        self.assertEqual(st, 201, t)
        self.assertTableDetail(t, b, "orders")
        types = {c["name"]: c["type"] for c in t["columns"]}
        self.assertEqual([c["name"] for c in t["columns"]], ["id", "name", "amount", "day", "flag"])
        self.assertIn(types["id"], ("BIGINT", "INTEGER"))
        self.assertEqual(types["name"], "VARCHAR")
        self.assertEqual(types["amount"], "DOUBLE")
        self.assertEqual(types["day"], "DATE")
        self.assertEqual(types["flag"], "BOOLEAN")
        self.assertEqual(t["primary_key"], ["id"])
        self.assertEqual(t["rows"], 3)
        self.assertGreater(t["size_bytes"], 0)
        self.assertEqual(self.preview(self.pid, t["id"])["rows"], [
            [1, "alpha", 1.5, "2024-01-01", True], [2, "beta", 2.25, "2024-01-02", False],
            [3, "gamma", 3.75, "2024-01-03", True]])
        files = table_files(self.server.data_dir, self.pid, t["schema"], "orders")
        self.assertEqual(len(files), 1, files)
        self.assertRegex(files[0], r"^orders\.g\d+\.duckdb$")

    def test_csv_quoting_unicode_and_embedded_newlines_round_trip(self):
        b = self.sales()
        csv = ('id,text\n'
               '1,"comma, inside"\n'
               '2,"quote "" inside"\n'
               '3,"line\nbreak"\n'
               '4,Žluťoučký kůň 🦆\n'
               '5,plain\n')
        t = self.create_table_csv(self.pid, b, "q", csv)
        self.assertEqual(t["rows"], 5)
        self.assertEqual(self.rows(self.pid, t["id"]), [
            [1, "comma, inside"], [2, 'quote " inside'], [3, "line\nbreak"], [4, "Žluťoučký kůň 🦆"],
            [5, "plain"]])

    def test_bigint_extremes_are_exact_json_numbers(self):
        b = self.sales()
        t = self.create_table_json(self.pid, b, "big", [("v", "bigint")])["id"]
        self.import_csv(self.pid, t, "v\n9223372036854775807\n-9223372036854775808\n0\n")
        self.assertEqual(self.rows(self.pid, t), [[9223372036854775807], [-9223372036854775808], [0]])

    def test_csv_with_charset_parameter_is_accepted(self):
        b = self.sales()
        st, t, _ = self.req("POST", self.url("/buckets/%s/tables?name=t" % b), raw=b"id\n1\n",
                            content_type="text/csv; charset=utf-8")
        self.assertEqual(st, 201, t)

    def test_csv_create_composite_primary_key(self):
        b = self.sales()
        t = self.create_table_csv(self.pid, b, "t", "a,b,v\n1,1,x\n1,2,y\n", primary_key="a,b")
        self.assertEqual(t["primary_key"], ["a", "b"])
        r = self.import_csv(self.pid, t["id"], "a,b,v\n1,2,Y\n2,1,z\n", incremental=True)
        self.assertEqual(r["rows"], 3)
        self.assertEqual(sorted(self.rows(self.pid, t["id"])), [[1, 1, "x"], [1, 2, "Y"], [2, 1, "z"]])

    def test_parquet_create_keeps_parquet_types(self):
        b = self.sales()
        path = os.path.join(self.server.root, "sample.parquet")
        write_parquet(path, "SELECT i::BIGINT AS id, 'n' || i AS name, i * 0.5::DOUBLE AS amount, "
                            "DATE '2024-01-01' + i::INTEGER AS day, i % 2 = 0 AS even FROM range(1, 11) t(i)")
        st, t, _ = self.req("POST", self.url("/buckets/%s/tables?name=pq" % b), raw_file=path,
                            content_type="application/vnd.apache.parquet")
        self.assertEqual(st, 201, t)
        self.assertTableDetail(t, b, "pq")
        self.assertEqual([(c["name"], c["type"]) for c in t["columns"]],
                         [("id", "BIGINT"), ("name", "VARCHAR"), ("amount", "DOUBLE"), ("day", "DATE"),
                          ("even", "BOOLEAN")])
        self.assertEqual(t["rows"], 10)
        self.assertEqual(t["primary_key"], [])
        rows = self.rows(self.pid, t["id"])
        self.assertEqual(rows[:2], [[1, "n1", 0.5, "2024-01-02", False], [2, "n2", 1.0, "2024-01-03", True]])
        self.assertEqual(len(rows), 10)

    def test_parquet_import_full_and_incremental(self):
        b = self.sales()
        t = self.create_table_json(self.pid, b, "pq", [("id", "bigint"), ("name", "varchar")], ["id"])["id"]
        p1 = write_parquet(os.path.join(self.server.root, "p1.parquet"),
                           "SELECT i::BIGINT AS id, 'a' || i AS name FROM range(5) t(i)")
        p2 = write_parquet(os.path.join(self.server.root, "p2.parquet"),
                           "SELECT i::BIGINT AS id, 'b' || i AS name FROM range(3, 8) t(i)")
        st, r, _ = self.req("POST", self.url("/tables/%s/import" % t), raw_file=p1,
                            content_type="application/vnd.apache.parquet")
        self.assertEqual(st, 200, r)
        self.assertEqual((r["imported_rows"], r["rows"]), (5, 5))
        st, r, _ = self.req("POST", self.url("/tables/%s/import?incremental=true" % t), raw_file=p2,
                            content_type="application/x-parquet")
        self.assertEqual(st, 200, r)
        self.assertEqual((r["imported_rows"], r["rows"]), (5, 8))
        self.assertEqual(sorted(self.rows(self.pid, t)),
                         [[0, "a0"], [1, "a1"], [2, "a2"], [3, "b3"], [4, "b4"], [5, "b5"], [6, "b6"], [7, "b7"]])

    def test_csv_create_with_malformed_body_is_400_import_failed_and_no_table(self):
        b = self.sales()
        for i, csv in enumerate(("a,b\n1,2\n3,4,5\n6,7\n", "a,b\n1,\"open\n", "")):
            with self.subTest(csv=csv):
                name = "broken%d" % i
                st, body, _ = self.req("POST", self.url("/buckets/%s/tables?name=%s" % (b, name)),
                                       raw=csv.encode(), content_type="text/csv")
                self.assertEqual(st, 400, body)
                self.assertIn(body.get("error"), ("import_failed", "invalid_request"), body)
                self.assertError(self.req("GET", self.url("/tables/%s.%s" % (b, name))), 404, "table_not_found")
                self.assertEqual(table_files(self.server.data_dir, self.pid,
                                             b.replace(".", "_").replace("-", "_"), name), [])
        st, body, _ = self.req("POST", self.url("/buckets/%s/tables?name=bad" % b), raw=b"PAR1garbagePAR1",
                               content_type="application/vnd.apache.parquet")
        self.assertError((st, body, _), 400, "import_failed")

    def test_csv_create_without_or_with_bad_name_is_400(self):
        b = self.sales()
        marker = uniq("evil")
        before = snapshot(self.server.root)
        for q in ("", "?name=", "?name=a.b", "?name=a-b", "?name=..", "?name=..%2F" + marker,
                  "?name=%2Ftmp%2F" + marker, "?name=" + "t" * 65, "?name=caf%C3%A9", "?name=a%20b"):
            with self.subTest(q=q):
                self.assertError(self.req("POST", self.url("/buckets/%s/tables%s" % (b, q)), raw=b"id\n1\n",
                                          content_type="text/csv"), 400, "invalid_request")
        st, body, _ = self.req("POST", self.url("/buckets/%s/tables?name=t&primary_key=nope" % b),
                               raw=b"id\n1\n", content_type="text/csv")
        self.assertEqual(st, 400, body)
        self.assertIn(body.get("error"), ("invalid_request", "import_failed"), body)
        new = {p for p in snapshot(self.server.root) - before if not p.endswith((".log", ".wal"))}
        self.assertEqual(new, set())
        self.assertFalse(os.path.exists("/tmp/" + marker))
        self.assertEqual(self.assertOk(self.req("GET", self.url("/buckets/%s/tables" % b)))["tables"], [])

    def test_bad_table_names_in_json_and_paths_are_400(self):
        b = self.sales()
        marker = uniq("evil")
        before = snapshot(self.server.root)
        for name in ("..", "../" + marker, "a/b", "a.b", "a-b", "", "t" * 65, "é"):
            with self.subTest(name=name):
                self.assertError(self.req("POST", self.url("/buckets/%s/tables" % b),
                                          {"name": name, "columns": [{"name": "id", "type": "integer"}]}),
                                 400, "invalid_request")
        # invalid names without a slash: 400
        for method, path in (("POST", "/buckets/in.c-../tables?name=t"), ("POST", "/buckets/in.c-a.b/tables?name=t"),
                             ("GET", "/tables/%s.a-b" % b), ("GET", "/tables/%s.a.b/preview" % b),
                             ("POST", "/tables/%s.../import" % b), ("GET", "/buckets/in.c-..")):
            with self.subTest(path=path):
                self.assertError(self.req(method, self.url(path), raw=b"id\n1\n", content_type="text/csv"),
                                 400, "invalid_request")
        # encoded slashes: rejected (400, or 404 when the decoded path matches no route)
        for method, path in (("POST", "/buckets/in.c-..%2F" + marker + "/tables?name=t"),
                             ("POST", "/buckets/in.c-..%2F..%2F/tables?name=t"),
                             ("POST", "/buckets/in.c-a%2Fb/tables?name=t"),
                             ("GET", "/tables/%s.a%%2Fb/preview" % b),
                             ("POST", "/tables/%s..%%2F..%%2F%s/import" % (b, marker))):
            with self.subTest(path=path):
                st, body, _ = self.req(method, self.url(path), raw=b"id\n1\n", content_type="text/csv")
                self.assertIn(st, (400, 404), body)
                self.assertIn(body.get("error"), ("invalid_request", "not_found"), body)
        new = {p for p in snapshot(self.server.root) - before if not p.endswith((".log", ".wal"))}
        self.assertEqual(new, set())
        self.assertFalse([n for n in os.listdir(os.path.dirname(self.server.root)) if marker in n])


class Imports(Base):

    def make(self, csv="id,name\n1,a\n2,b\n", pk=None):
        b = self.sales()
        return self.create_table_csv(self.pid, b, "t", csv, primary_key=pk)

    def test_full_import_replaces_all_rows(self):
        t = self.make()
        r = self.import_csv(self.pid, t["id"], "id,name\n7,x\n8,y\n9,z\n")
        self.assertEqual(set(r.keys()), IMPORT_FIELDS)
        self.assertEqual(r["table_id"], t["id"])
        self.assertEqual((r["imported_rows"], r["rows"]), (3, 3))
        self.assertTrue(is_int(r["size_bytes"]) and r["size_bytes"] > 0)
        self.assertEqual(self.rows(self.pid, t["id"]), [[7, "x"], [8, "y"], [9, "z"]])
        d = self.table(self.pid, t["id"])
        self.assertEqual(d["rows"], 3)
        self.assertGreaterEqual(d["updated_at"], t["updated_at"])
        self.assertEqual(d["created_at"], t["created_at"])
        files = table_files(self.server.data_dir, self.pid, d["schema"], "t")
        self.assertEqual(len(files), 1, "old generation not removed: %s" % files)
        self.assertEqual(d["size_bytes"], os.path.getsize(os.path.join(
            table_dir(self.server.data_dir, self.pid, d["schema"]), files[0])), "size_bytes is not the file size")

    def test_full_import_with_only_a_header_empties_the_table(self):
        t = self.make()
        r = self.import_csv(self.pid, t["id"], "id,name\n")
        self.assertEqual((r["imported_rows"], r["rows"]), (0, 0))
        self.assertEqual(self.preview(self.pid, t["id"])["total_rows"], 0)

    def test_import_matches_columns_by_header_name(self):
        t = self.make()
        r = self.import_csv(self.pid, t["id"], "name,id\nz,9\n")
        self.assertEqual(r["rows"], 1)
        self.assertEqual(self.rows(self.pid, t["id"]), [[9, "z"]])

    def test_incremental_import_appends(self):
        t = self.make()
        r = self.import_csv(self.pid, t["id"], "id,name\n1,a\n3,c\n", incremental=True)
        self.assertEqual((r["imported_rows"], r["rows"]), (2, 4))
        self.assertEqual(self.rows(self.pid, t["id"]), [[1, "a"], [2, "b"], [1, "a"], [3, "c"]])

    def test_incremental_import_with_primary_key_upserts(self):
        t = self.make(pk="id")
        r = self.import_csv(self.pid, t["id"], "id,name\n2,B\n3,c\n", incremental=True)
        self.assertEqual((r["imported_rows"], r["rows"]), (2, 3))
        self.assertEqual(sorted(self.rows(self.pid, t["id"])), [[1, "a"], [2, "B"], [3, "c"]])
        self.assertEqual(self.table(self.pid, t["id"])["rows"], 3)

    def test_full_import_with_duplicate_primary_key_fails_and_keeps_rows(self):
        t = self.make(pk="id")
        before = self.preview(self.pid, t["id"])
        self.assertError(self.import_csv(self.pid, t["id"], "id,name\n5,a\n5,b\n", expect=None), 400,
                         "import_failed")
        self.assertEqual(self.preview(self.pid, t["id"]), before)

    def test_malformed_imports_are_400_import_failed_and_keep_rows_exactly(self):
        b = self.sales()
        t = self.create_table_json(self.pid, b, "t", [("id", "integer"), ("name", "varchar")], ["id"])["id"]
        self.import_csv(self.pid, t, "id,name\n1,a\n2,b\n3,c\n")
        before = self.preview(self.pid, t)
        before_detail = self.table(self.pid, t)
        bad = [
            ("wrong column count", "id,name\n4,d\n5,e,extra\n6,f\n"),
            ("too few columns", "id,name\n4,d\n5\n6,f\n"),
            ("not an integer", "id,name\n4,d\nabc,e\n6,f\n"),
            ("integer overflow", "id,name\n4,d\n99999999999,e\n"),
            ("unknown column", "id,nope\n4,d\n"),
            ("unterminated quote", "id,name\n4,\"d\n5,e\n"),
        ]
        for what, csv in bad:
            for inc in (False, True):
                with self.subTest(what=what, incremental=inc):
                    body = self.assertError(self.import_csv(self.pid, t, csv, incremental=inc, expect=None),
                                            400, "import_failed")
                    self.assertGreater(len(body["message"]), 5)
                    self.assertEqual(self.preview(self.pid, t), before)
        st, body, _ = self.req("POST", self.url("/tables/%s/import" % t), raw=b"PAR1\x00\x01garbagePAR1",
                               content_type="application/vnd.apache.parquet")
        self.assertError((st, body, _), 400, "import_failed")
        self.assertEqual(self.preview(self.pid, t), before)
        after = self.table(self.pid, t)
        self.assertEqual(after["rows"], 3)
        self.assertEqual(after["updated_at"], before_detail["updated_at"])
        files = table_files(self.server.data_dir, self.pid, after["schema"], "t")
        self.assertEqual(len(files), 1, "leftover files after failed imports: %s" % files)

    def test_wrong_content_type_is_415(self):
        t = self.make()
        before = self.preview(self.pid, t["id"])
        path = self.url("/tables/%s/import" % t["id"])
        for ct in ("application/json", "text/plain", "application/octet-stream", "multipart/form-data", None):
            with self.subTest(content_type=ct):
                self.assertError(self.req("POST", path, raw=b"id,name\n5,e\n", content_type=ct),
                                 415, "unsupported_media_type")
        self.assertError(self.req("POST", path, {"rows": [[5, "e"]]}), 415, "unsupported_media_type")
        self.assertError(self.req("POST", self.url("/buckets/%s/tables?name=x" % t["bucket_id"]), raw=b"id\n1\n",
                                  content_type="text/plain"), 415, "unsupported_media_type")
        self.assertEqual(self.preview(self.pid, t["id"]), before)

    def test_unknown_table_is_404_table_not_found(self):
        b = self.sales()
        tid = "%s.nope" % b
        self.assertError(self.req("GET", self.url("/tables/" + tid)), 404, "table_not_found")
        self.assertError(self.req("GET", self.url("/tables/%s/preview" % tid)), 404, "table_not_found")
        self.assertError(self.req("DELETE", self.url("/tables/" + tid)), 404, "table_not_found")
        self.assertError(self.import_csv(self.pid, tid, "id\n1\n", expect=None), 404, "table_not_found")
        st, body, _ = self.req("GET", self.url("/tables/in.c-nobucket.t"))
        self.assertEqual(st, 404, body)
        self.assertIn(body.get("error"), ("table_not_found", "bucket_not_found"))

    def test_list_tables_in_bucket(self):
        b = self.sales()
        self.create_table_csv(self.pid, b, "one", "id\n1\n")
        self.create_table_json(self.pid, b, "two", [("id", "integer")])
        body = self.assertOk(self.req("GET", self.url("/buckets/%s/tables" % b)))
        self.assertEqual(sorted(x["id"] for x in body["tables"]), ["%s.one" % b, "%s.two" % b])
        for x in body["tables"]:
            self.assertTableDetail(x, b, x["name"])
        one = [x for x in body["tables"] if x["name"] == "one"][0]
        self.assertEqual(one["rows"], 1)

    def test_delete_table_removes_it_and_its_file(self):
        t = self.make()
        st, body, _ = self.req("DELETE", self.url("/tables/" + t["id"]))
        self.assertEqual(st, 204, body)
        self.assertError(self.req("GET", self.url("/tables/" + t["id"])), 404, "table_not_found")
        self.assertEqual(table_files(self.server.data_dir, self.pid, t["schema"], "t"), [])
        self.assertEqual(self.assertOk(self.req("GET", self.url("/buckets/" + t["bucket_id"])))["tables"], [])
        p = self.assertOk(self.req("GET", self.url("")))
        self.assertEqual(p["table_count"], 0)
        # the name is free again
        again = self.create_table_csv(self.pid, t["bucket_id"], "t", "x\n5\n")
        self.assertEqual(self.rows(self.pid, again["id"]), [[5]])


class Preview(Base):

    def setUp(self):
        super().setUp()
        b = self.sales()
        self.t = self.create_table_csv(self.pid, b, "big", csv_text(["id", "v"], [(i, "v%d" % i) for i in range(150)]))

    def test_default_limit_is_100_and_total_rows_counts_all(self):
        pv = self.preview(self.pid, self.t["id"])
        self.assertEqual(set(pv.keys()), {"columns", "rows", "total_rows"})
        self.assertEqual(pv["columns"], ["id", "v"])
        self.assertEqual(len(pv["rows"]), 100)
        self.assertEqual(pv["rows"][:3], [[0, "v0"], [1, "v1"], [2, "v2"]])
        self.assertEqual(pv["total_rows"], 150)

    def test_limit_bounds(self):
        pv = self.preview(self.pid, self.t["id"], limit=1)
        self.assertEqual((pv["rows"], pv["total_rows"]), ([[0, "v0"]], 150))
        pv = self.preview(self.pid, self.t["id"], limit=10000)
        self.assertEqual(pv["rows"], [[i, "v%d" % i] for i in range(150)])
        path = self.url("/tables/%s/preview" % self.t["id"])
        for bad in ("0", "10001", "-1", "abc", "1.5", "", "99999999999999999999"):
            with self.subTest(limit=bad):
                self.assertError(self.req("GET", path + "?limit=" + bad), 400, "invalid_request")


UUID = "550e8400-e29b-41d4-a716-446655440000"


class PreviewTypes(Base):
    """Each test on its own server: a crash in one must not hide the others' results."""

    def fresh(self):
        srv = self.extra_server()
        srv.start()
        self._mark_log(srv)
        self.assertEqual(srv.req("POST", "/projects", {"id": "u", "name": "u"})[0], 201)
        self.assertEqual(srv.req("POST", "/projects/u/buckets", {"stage": "in", "name": "s"})[0], 201)
        return srv

    def get(self, srv, path):
        try:
            st, body, _ = srv.req("GET", path)
        except (OSError, http.client.HTTPException) as e:
            self.fail("server died on GET %s: %r (exit code %r)" % (path, e, srv.proc.poll()))
        self.assertEqual(st, 200, body)
        return body

    def parquet_table(self, srv, select):
        path = write_parquet(os.path.join(srv.root, "t.parquet"), select)
        st, body, _ = srv.req("POST", "/projects/u/buckets/in.c-s/tables?name=t", raw_file=path,
                              content_type="application/vnd.apache.parquet")
        self.assertEqual(st, 201, body)
        return body

    def test_preview_shows_uuid_timestamptz_and_nested_values_as_text(self):
        srv = self.fresh()
        t = self.parquet_table(srv, "SELECT 1 AS id, TIMESTAMPTZ '2024-01-01 10:00:00+00' AS tz, "
                                    "[1, 2, 3] AS l, {'a': 7, 'b': 'xyz'} AS s, MAP {'k': 5} AS m, "
                                    "INTERVAL 1 DAY AS iv, TIME '10:11:12' AS tm, '%s'::UUID AS u" % UUID)
        self.assertEqual([c["type"] for c in t["columns"]][:2], ["INTEGER", "TIMESTAMP WITH TIME ZONE"])
        self.assertEqual(t["columns"][-1]["type"], "UUID")
        row = self.get(srv, "/projects/u/tables/in.c-s.t/preview")["rows"][0]
        self.assertEqual(row[0], 1)
        self.assertIsInstance(row[1], str)
        self.assertTrue(row[1].startswith("2024-01-01"), "TIMESTAMPTZ value %r" % row[1])
        for v, parts in ((row[2], ("1", "2", "3")), (row[3], ("7", "xyz")), (row[4], ("k", "5"))):
            self.assertIsInstance(v, str)
            for part in parts:
                self.assertIn(part, v, "nested value %r" % v)
        self.assertIn("1 day", row[5])
        self.assertEqual(row[6], "10:11:12")
        self.assertEqual(row[7], UUID, "UUID value")

    def test_preview_of_json_created_uuid_and_timestamptz_columns(self):
        srv = self.fresh()
        st, body, _ = srv.req("POST", "/projects/u/buckets/in.c-s/tables", {"name": "t", "columns": [
            {"name": "id", "type": "integer"}, {"name": "u", "type": "uuid"}, {"name": "tz", "type": "timestamptz"}]})
        self.assertEqual(st, 201, body)
        st, body, _ = srv.req("POST", "/projects/u/tables/in.c-s.t/import",
                              raw=("id,u,tz\n1,%s,2024-01-01 10:00:00+00\n" % UUID).encode(), content_type="text/csv")
        self.assertEqual(st, 200, body)
        row = self.get(srv, "/projects/u/tables/in.c-s.t/preview")["rows"][0]
        self.assertEqual(row[1], UUID)
        self.assertTrue(isinstance(row[2], str) and row[2].startswith("2024-01-01"), row[2])

    def test_preview_of_a_table_whose_first_column_is_uuid_keeps_the_server_up(self):
        srv = self.fresh()
        self.parquet_table(srv, "SELECT '%s'::UUID AS u, 1 AS id" % UUID)
        body = self.get(srv, "/projects/u/tables/in.c-s.t/preview")
        self.assertEqual(body["rows"], [[UUID, 1]])
        self.assertEqual(srv.req("GET", "/health", key=None)[0], 200)

    def test_csv_with_timezone_timestamps_previews_them(self):
        srv = self.fresh()
        st, t, _ = srv.req("POST", "/projects/u/buckets/in.c-s/tables?name=t",
                           raw=b"id,at\n1,2024-01-01 10:00:00+00\n2,2024-01-02 11:00:00+00\n", content_type="text/csv")
        self.assertEqual(st, 201, t)
        rows = self.get(srv, "/projects/u/tables/in.c-s.t/preview")["rows"]
        self.assertEqual([r[0] for r in rows], [1, 2])
        for r, day in zip(rows, ("2024-01-01", "2024-01-02")):
            self.assertTrue(isinstance(r[1], str) and r[1].startswith(day), "timestamp value %r" % r[1])


class BodyLimits(Base):
    server_args = ("--max-body-size", "1KB", "--max-json-body-size", "1KB")

    def test_body_over_max_body_size_is_413_and_changes_nothing(self):
        b = self.sales()
        t = self.create_table_csv(self.pid, b, "t", "id,name\n1,a\n")
        before = self.preview(self.pid, t["id"])

        def csv_of(size):
            head = "id,name\n"
            line = "2,"
            body = head + line + "x" * (size - len(head) - len(line) - 1) + "\n"
            assert len(body) == size
            return body

        # exactly the limit is accepted
        r = self.import_csv(self.pid, t["id"], csv_of(1024))
        self.assertEqual(r["rows"], 1)
        self.import_csv(self.pid, t["id"], "id,name\n1,a\n")
        for size in (1025, 4096):
            with self.subTest(size=size):
                self.assertError(self.import_csv(self.pid, t["id"], csv_of(size), expect=None), 413,
                                 "payload_too_large")
                self.assertEqual(self.preview(self.pid, t["id"]), before)
        self.assertError(self.req("POST", self.url("/buckets/%s/tables?name=big" % b), raw=csv_of(2048).encode(),
                                  content_type="text/csv"), 413, "payload_too_large")
        self.assertError(self.req("GET", self.url("/tables/%s.big" % b)), 404, "table_not_found")

    def test_chunked_body_over_limit_is_413(self):
        b = self.sales()
        t = self.create_table_csv(self.pid, b, "t", "id,name\n1,a\n")
        before = self.preview(self.pid, t["id"])
        conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=60)
        try:
            chunks = [b"id,name\n"] + [("%d,%s\n" % (i, "y" * 60)).encode() for i in range(100)]
            conn.request("POST", self.url("/tables/%s/import" % t["id"]), body=iter(chunks),
                         headers={"Authorization": "Bearer " + self.server.admin_key,
                                  "Content-Type": "text/csv"}, encode_chunked=True)
            resp = conn.getresponse()
            status = resp.status
            data = resp.read()
        finally:
            conn.close()
        self.assertEqual(status, 413, data)
        self.assertEqual(self.preview(self.pid, t["id"]), before)

    def test_expect_100_continue_upload_works_and_oversized_is_refused_before_the_body(self):
        """curl sends 'Expect: 100-continue' for large uploads."""
        import socket
        b = self.sales()
        t = self.create_table_csv(self.pid, b, "t", "id,name\n1,a\n")

        def send(body):
            c = socket.create_connection(("127.0.0.1", self.server.http_port), timeout=30)
            try:
                c.sendall(("POST %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                           "Content-Type: text/csv\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                           % (self.url("/tables/%s/import" % t["id"]), self.server.admin_key, len(body))).encode())
                first = c.recv(65536)
                if first.startswith(b"HTTP/1.1 100"):
                    c.sendall(body)
                    rest = b""
                    while b"\r\n\r\n" not in rest or len(rest.split(b"\r\n\r\n", 1)[1]) == 0:
                        chunk = c.recv(65536)
                        if not chunk:
                            break
                        rest += chunk
                    return first, rest
                return first, b""
            finally:
                c.close()

        first, rest = send(b"id,name\n2,b\n")
        self.assertTrue(first.startswith(b"HTTP/1.1 100"), first)
        self.assertTrue(rest.startswith(b"HTTP/1.1 200"), rest)
        self.assertEqual(self.rows(self.pid, t["id"]), [[2, "b"]])
        first, _ = send(b"id,name\n" + b"3,c\n" * 600)
        self.assertTrue(first.startswith(b"HTTP/1.1 413"), first)
        self.assertEqual(self.rows(self.pid, t["id"]), [[2, "b"]])

    def test_json_body_over_max_json_body_size_is_413(self):
        self.assertError(self.req("POST", "/projects", {"name": "n" * 2000}), 413, "payload_too_large")
        b = self.sales()
        cols = [{"name": "c%d" % i, "type": "integer"} for i in range(60)]
        self.assertError(self.req("POST", self.url("/buckets/%s/tables" % b), {"name": "wide", "columns": cols}),
                         413, "payload_too_large")


if __name__ == "__main__":
    harness.main()
