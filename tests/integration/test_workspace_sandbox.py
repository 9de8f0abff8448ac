"""Workspaces REST API, data side: load (columns, where, destination, all-or-nothing,
validation), drop object, clear, imports into tables a workspace has attached, and the
sandbox around the `where`/`columns` of load (no files, no other project, no other
workspace, no statement stacking)."""

import os
import time

import harness
from harness import uniq, write_parquet
from wshelpers import WsTestCase, LOADED_FIELDS, is_int, ws_db, ws_dir

ORDERS = "in.c-sales.orders"


class LoadBase(WsTestCase):

    def setUp(self):
        super().setUp()
        self.sales_table()  # orders(id 1..10, amount = id*10, name = 'n{id}')
        self.ws = self.create_ws()["id"]

    def objs(self, ws=None):
        return self.objects(ws or self.ws)


class Load(LoadBase):

    def test_load_copies_every_row_under_the_table_name(self):
        st, body, _ = self.load_req(self.ws, [{"source": ORDERS}])
        self.assertEqual(st, 200, body)
        self.assertEqual(set(body.keys()), {"loaded", "workspace_size_bytes"})
        self.assertEqual(len(body["loaded"]), 1)
        item = body["loaded"][0]
        self.assertEqual(set(item.keys()), LOADED_FIELDS)
        self.assertEqual((item["source"], item["destination"], item["rows"]), (ORDERS, "orders", 10))
        self.assertTrue(is_int(item["size_bytes"]) and item["size_bytes"] >= 0, item)
        self.assertTrue(is_int(body["workspace_size_bytes"]) and body["workspace_size_bytes"] > 0, body)
        self.assertEqual(self.objs(), {"orders": 10})
        self.assertEqual(self.detail(self.ws)["workspace_objects"], [{"name": "orders", "type": "table", "rows": 10}])
        # the project table is unchanged
        self.assertEqual(self.table(self.pid, ORDERS)["rows"], 10)

    def test_null_optional_fields_count_as_absent(self):
        st, body, _ = self.load_req(self.ws, [{"source": ORDERS, "destination": None, "columns": None, "where": None}])
        self.assertEqual(st, 200, body)
        self.assertEqual(self.objs(), {"orders": 10})

    def test_load_into_a_named_destination(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="orders_copy"), 10)
        self.assertEqual(self.objs(), {"orders_copy": 10})

    def test_where_loads_exactly_the_matching_rows(self):
        cases = (("amount > 50", 5), ("name = 'n3'", 1), ("id BETWEEN 2 AND 4 AND amount <> 30", 2),
                 ("false", 0), ("id % 2 = 0 OR name LIKE 'n1%'", 6), ("amount IS NULL", 0),
                 ("id IN (SELECT id FROM in_c_sales.orders WHERE amount < 40)", 3))
        for i, (where, n) in enumerate(cases):
            with self.subTest(where=where):
                dest = "f%d" % i
                self.assertEqual(self.load_rows(self.ws, ORDERS, destination=dest, where=where), n)
                self.assertEqual(self.objs().get(dest), n)

    def test_where_with_a_trailing_comment_still_filters(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="c", where="id <= 2 -- two rows"), 2)
        self.assertEqual(self.objs(), {"c": 2})

    def test_columns_loads_only_those_columns(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="slim", columns=["id", "amount"],
                                        where="amount >= 30"), 8)
        self.assertEqual(self.objs(), {"slim": 8})
        # The copy has id and amount and no name: a filter (which runs in the workspace)
        # can read slim.id and slim.amount, and reading slim.name is a bad filter.
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="probe",
                                        where="id IN (SELECT slim.id FROM slim WHERE slim.amount >= 30)"), 8)
        self.assertError(self.load_req(self.ws, [{"source": ORDERS, "destination": "probe2",
                                                  "where": "(SELECT count(slim.name) FROM slim) >= 0"}]),
                         400, "invalid_request")
        self.assertNotIn("probe2", self.objs())

    def test_empty_columns_means_every_column(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="everything", columns=[]), 10)
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="probe",
                                        where="name IN (SELECT everything.name FROM everything)"), 10)

    def test_load_again_replaces_the_destination(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS), 10)
        self.assertEqual(self.load_rows(self.ws, ORDERS, where="id <= 3"), 3)
        self.assertEqual(self.objs(), {"orders": 3})

    def test_several_tables_in_one_call(self):
        self.sales_table(name="customers", rows=[(1, 1, "a"), (2, 2, "b")])
        body = self.load(self.ws, [{"source": ORDERS, "where": "id > 7"},
                                   {"source": "in.c-sales.customers"},
                                   {"source": ORDERS, "destination": "o_all"}])
        got = [(x["source"], x["destination"], x["rows"]) for x in body["loaded"]]
        self.assertEqual(got, [(ORDERS, "orders", 3), ("in.c-sales.customers", "customers", 2), (ORDERS, "o_all", 10)])
        self.assertEqual(self.objs(), {"orders": 3, "customers": 2, "o_all": 10})

    def test_unknown_source_is_404_table_not_found(self):
        for src in ("in.c-sales.nope", "in.c-nobucket.orders", "out.c-sales.orders"):
            with self.subTest(source=src):
                self.assertError(self.load_req(self.ws, [{"source": src}]), 404, "table_not_found")
        self.assertEqual(self.objs(), {})

    def test_all_or_nothing_when_the_second_source_is_unknown(self):
        self.load_rows(self.ws, ORDERS, destination="keep", where="id <= 4")
        resp = self.load_req(self.ws, [{"source": ORDERS, "destination": "first"},
                                       {"source": ORDERS, "destination": "keep"},
                                       {"source": "in.c-sales.missing", "destination": "second"}])
        self.assertError(resp, 404, "table_not_found")
        self.assertEqual(self.objs(), {"keep": 4})

    def test_all_or_nothing_when_the_second_item_has_a_bad_column(self):
        self.load_rows(self.ws, ORDERS, destination="keep", where="id <= 4")
        resp = self.load_req(self.ws, [{"source": ORDERS, "destination": "first"},
                                       {"source": ORDERS, "destination": "keep", "columns": ["id", "nope"]}])
        self.assertError(resp, 400, "invalid_request")
        self.assertEqual(self.objs(), {"keep": 4})

    def test_all_or_nothing_when_the_second_filter_fails_while_running(self):
        self.load_rows(self.ws, ORDERS, destination="keep", where="id <= 4")
        # binds fine, fails on the rows: the cast of 'n1' to integer
        resp = self.load_req(self.ws, [{"source": ORDERS, "destination": "first"},
                                       {"source": ORDERS, "destination": "keep", "where": "CAST(name AS INTEGER) > 0"}])
        self.assertError(resp, 400, "invalid_request")
        self.assertEqual(self.objs(), {"keep": 4})

    def test_bad_column_is_400(self):
        for cols in (["nope"], ["id", "ID2"], ["id; DROP TABLE x"], ["\"id\""], [""]):
            with self.subTest(columns=cols):
                self.assertError(self.load_req(self.ws, [{"source": ORDERS, "columns": cols}]), 400, "invalid_request")
        self.assertEqual(self.objs(), {})

    def test_bad_where_is_400(self):
        for where in ("nope > 1", "amount >", "amount > 'abc'", "((id = 1)", "id = 1)",
                      "sum(amount) > 1", ")"):
            with self.subTest(where=where):
                self.assertError(self.load_req(self.ws, [{"source": ORDERS, "where": where}]), 400, "invalid_request")
        self.assertEqual(self.objs(), {})

    def test_bad_load_bodies_are_400(self):
        url = self.ws_url(self.ws, "/load")
        for raw in (b"{", b"[]", b"", b"{\"tables\": [}"):
            with self.subTest(raw=raw):
                self.assertError(self.req("POST", url, raw=raw, content_type="application/json"), 400,
                                 "invalid_request")
        for body in ({}, {"tables": []}, {"tables": "x"}, {"tables": None}, {"tables": [ORDERS]},
                     {"tables": [{}]}, {"tables": [{"source": 7}]}, {"tables": [{"source": None}]},
                     {"tables": [{"source": ORDERS}], "extra": 1},
                     {"tables": [{"source": ORDERS, "extra": 1}]},
                     {"tables": [{"source": ORDERS, "columns": "id"}]},
                     {"tables": [{"source": ORDERS, "columns": [1]}]},
                     {"tables": [{"source": ORDERS, "where": 7}]},
                     {"tables": [{"source": ORDERS, "destination": 7}]},
                     {"tables": [{"source": ORDERS, "destination": ""}]},
                     {"tables": [{"source": ORDERS, "destination": "a b"}]},
                     {"tables": [{"source": ORDERS, "destination": "../x"}]},
                     {"tables": [{"source": ORDERS, "destination": "x\"; DROP TABLE y; --"}]},
                     {"tables": [{"source": ORDERS, "destination": "x" * 300}]}):
            with self.subTest(body=body):
                self.assertError(self.req("POST", url, body), 400, "invalid_request")
        self.assertEqual(self.objs(), {})

    def test_load_sees_a_table_created_after_the_workspace(self):
        self.sales_table(bucket="late", name="fresh", rows=[(1, 1, "a")])
        self.assertEqual(self.load_rows(self.ws, "in.c-late.fresh"), 1)
        self.assertIn({"schema": "in_c_late", "table": "fresh", "rows": 1}, self.detail(self.ws)["attached_tables"])

    def test_load_of_a_deleted_table_is_404(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS), 10)  # attached now
        st, body, _ = self.req("DELETE", "%s/tables/%s" % (self.base(self.pid), ORDERS))
        self.assertEqual(st, 204, body)
        self.assertError(self.load_req(self.ws, [{"source": ORDERS, "destination": "again"}]), 404, "table_not_found")
        # the workspace's own copy stays
        self.assertEqual(self.objs(), {"orders": 10})


class ImportsWhileAttached(LoadBase):

    def test_import_into_an_attached_table_succeeds_and_the_next_load_sees_it(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS), 10)  # the instance has the table attached
        r = self.import_csv(self.pid, ORDERS, "id,amount,name\n1,1,a\n2,2,b\n3,3,c\n")
        self.assertEqual(r["rows"], 3)
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="after"), 3)
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="after_f", where="name = 'b'"), 1)
        r = self.import_csv(self.pid, ORDERS, "id,amount,name\n4,4,d\n", incremental=True)
        self.assertEqual(r["rows"], 4)
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="after2"), 4)
        self.assertEqual(self.objs(), {"orders": 10, "after": 3, "after_f": 1, "after2": 4})
        d = self.detail(self.ws)
        self.assertIn({"schema": "in_c_sales", "table": "orders", "rows": 4}, d["attached_tables"])

    def test_import_while_several_workspaces_have_the_table_attached(self):
        other = self.create_ws()["id"]
        self.load_rows(self.ws, ORDERS)
        self.load_rows(other, ORDERS)
        for i in range(3):
            csv = "id,amount,name\n" + "".join("%d,%d,x\n" % (k, k) for k in range(i + 1))
            self.import_csv(self.pid, ORDERS, csv)
            self.assertEqual(self.load_rows(self.ws, ORDERS, destination="a%d" % i), i + 1)
            self.assertEqual(self.load_rows(other, ORDERS, destination="b%d" % i), i + 1)


class ObjectsAndClear(LoadBase):

    def test_drop_object_removes_only_that_table(self):
        self.load(self.ws, [{"source": ORDERS, "destination": "a"}, {"source": ORDERS, "destination": "b"}])
        st, body, _ = self.req("DELETE", self.ws_url(self.ws, "/objects/a"))
        self.assertEqual(st, 204, body)
        self.assertEqual(self.objs(), {"b": 10})
        self.assertError(self.req("DELETE", self.ws_url(self.ws, "/objects/a")), 404, "object_not_found")

    def test_unknown_object_is_404_object_not_found(self):
        self.load_rows(self.ws, ORDERS, destination="a")
        for name in ("nope", "A", "orders", "in_c_sales.orders", "a;b", "x" * 300):
            with self.subTest(name=name):
                self.assertError(self.req("DELETE", self.ws_url(self.ws, "/objects/" + name)), 404, "object_not_found")
        self.assertEqual(self.objs(), {"a": 10})
        self.assertEqual(self.table(self.pid, ORDERS)["rows"], 10)

    def test_clear_drops_every_object_and_the_workspace_stays_usable(self):
        self.sales_table(name="customers", rows=[(1, 1, "a")])
        self.load(self.ws, [{"source": ORDERS}, {"source": "in.c-sales.customers"},
                            {"source": ORDERS, "destination": "x", "where": "id < 3"}])
        self.assertEqual(len(self.objs()), 3)
        st, body, _ = self.req("POST", self.ws_url(self.ws, "/clear"))
        self.assertEqual(st, 204, body)
        d = self.detail(self.ws)
        self.assertEqual(d["workspace_objects"], [])
        self.assertEqual(sorted(t["table"] for t in d["attached_tables"]), ["customers", "orders"])
        # project tables are untouched and still loadable
        self.assertEqual(self.table(self.pid, ORDERS)["rows"], 10)
        self.assertEqual(self.load_rows(self.ws, ORDERS, where="id > 5"), 5)
        self.assertEqual(self.load_rows(self.ws, "in.c-sales.customers"), 1)
        self.assertEqual(self.objs(), {"orders": 5, "customers": 1})

    def test_clear_of_an_empty_workspace_is_204(self):
        for _ in range(2):
            st, body, _ = self.req("POST", self.ws_url(self.ws, "/clear"))
            self.assertEqual(st, 204, body)
        self.assertEqual(self.objs(), {})

    def test_clear_touches_no_other_workspace(self):
        other = self.create_ws(preload_tables=[ORDERS])["id"]
        self.load_rows(self.ws, ORDERS)
        self.assertEqual(self.req("POST", self.ws_url(self.ws, "/clear"))[0], 204)
        self.assertEqual(self.objects(other), {"orders": 10})


class WhereSandbox(LoadBase):
    """`where` and `columns` of load run in the sandbox: no files, no other project or
    workspace, no second statement. Refused with 400, nothing loaded, nothing changed."""

    def setUp(self):
        super().setUp()
        self.load_rows(self.ws, ORDERS, destination="keep", where="id <= 4")
        self.root = self.server.root
        self.parquet = write_parquet(os.path.join(self.root, "real_%s.parquet" % uniq("f")),
                                     "SELECT 1 AS id, 2 AS amount, 'x' AS name")
        self.csv = os.path.join(self.root, "real_%s.csv" % uniq("f"))
        with open(self.csv, "w") as f:
            f.write("id,amount,name\n1,2,x\n")

    def assertRefused(self, where=None, columns=None, dest="h", made=()):
        item = {"source": ORDERS, "destination": dest}
        if where is not None:
            item["where"] = where
        if columns is not None:
            item["columns"] = columns
        resp = self.load_req(self.ws, [item])
        self.assertError(resp, 400, "invalid_request")
        self.assertEqual(self.objs(), {"keep": 4})
        for path in made:
            self.assertFalse(os.path.exists(path), "%s was created" % path)

    def assertServerFine(self):
        self.assertEqual(self.req("GET", "/health", key=None)[0], 200)
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="ok", where="id = 1"), 1)
        self.assertEqual(self.table(self.pid, ORDERS)["rows"], 10)

    def test_file_readers_in_where_are_refused(self):
        meta = os.path.join(self.server.data_dir, "metadata.duckdb")
        table_file = os.path.join(self.server.data_dir, "project_%s" % self.pid, "in_c_sales")
        for where in ("(SELECT count(*) FROM read_csv('/etc/passwd')) > 0",
                      "EXISTS (SELECT * FROM read_csv_auto('/etc/passwd'))",
                      "EXISTS (SELECT * FROM read_csv('%s'))" % self.csv,
                      "EXISTS (SELECT * FROM '%s')" % self.csv,
                      "EXISTS (SELECT * FROM read_text('/etc/passwd'))",
                      "EXISTS (SELECT * FROM read_json('/etc/passwd'))",
                      "EXISTS (SELECT * FROM sniff_csv('/etc/passwd'))",
                      "EXISTS (SELECT * FROM read_parquet('%s'))" % self.parquet,
                      "EXISTS (SELECT * FROM '%s')" % self.parquet,
                      "EXISTS (SELECT * FROM parquet_metadata('%s'))" % self.parquet,
                      "EXISTS (SELECT * FROM glob('/*'))",
                      "EXISTS (SELECT * FROM glob('%s/*'))" % table_file,
                      "EXISTS (SELECT * FROM read_blob('%s'))" % meta,
                      "EXISTS (SELECT * FROM read_text('%s'))" % meta,
                      "id IN (SELECT * FROM query('SELECT 1 FROM read_csv(''/etc/passwd'')'))"):
            with self.subTest(where=where):
                self.assertRefused(where)
        self.assertServerFine()

    def test_file_readers_in_where_are_refused_even_on_the_workspace_own_files(self):
        own = os.path.join(ws_dir(self.server.data_dir, self.pid), self.ws)
        self.assertTrue(os.path.exists(ws_db(self.server.data_dir, self.pid, self.ws)))
        for where in ("EXISTS (SELECT * FROM read_blob('%s'))" % ws_db(self.server.data_dir, self.pid, self.ws),
                      "EXISTS (SELECT * FROM glob('%s.tables/*'))" % own,
                      "EXISTS (SELECT * FROM read_blob('%s.tables/*'))" % own):
            with self.subTest(where=where):
                self.assertRefused(where)
        self.assertServerFine()

    def test_stacked_statements_in_where_are_refused_and_not_run(self):
        copied = os.path.join(self.root, "copied_%s.csv" % uniq("f"))
        evil = os.path.join(self.root, "evil_%s.duckdb" % uniq("f"))
        exported = os.path.join(self.root, "export_%s" % uniq("f"))
        meta = os.path.join(self.server.data_dir, "metadata.duckdb")
        cases = (("1=1); COPY (SELECT 42 AS x) TO '%s' (FORMAT csv); SELECT (1" % copied, [copied]),
                 ("1=1); COPY keep TO '%s'; SELECT (1" % copied, [copied]),
                 ("1=1); ATTACH '%s' AS evil; SELECT (1" % evil, [evil]),
                 ("1=1); ATTACH '%s' AS meta (READ_ONLY); SELECT (1" % meta, []),
                 ("1=1); EXPORT DATABASE '%s'; SELECT (1" % exported, [exported]),
                 ("1=1); CREATE TABLE stacked AS SELECT 1 AS x; SELECT (1", []),
                 ("1=1); DROP TABLE keep; SELECT (1", []),
                 ("1=1); DELETE FROM keep; SELECT (1", []),
                 ("1=1); SET enable_external_access = true; SELECT (1", []),
                 ("1=1); INSTALL httpfs; SELECT (1", []),
                 ("1=1); LOAD parquet; SELECT (1", []),
                 ("1=1);; SELECT (1", []),
                 ("1=1)\n;\nCREATE TABLE stacked2 AS SELECT 1 AS x;\nSELECT (1", []))
        for where, made in cases:
            with self.subTest(where=where):
                self.assertRefused(where, made=made)
        self.assertServerFine()

    def test_union_escapes_from_the_filter_are_refused(self):
        for where in ("1=1) UNION ALL SELECT * FROM read_csv('/etc/passwd') WHERE (1=1",
                      "1=1) UNION ALL SELECT 1, 2, content FROM read_text('/etc/passwd') WHERE (1=1",
                      "1=1) UNION ALL SELECT * FROM read_csv('%s') WHERE (1=1" % self.csv,
                      "1=1) UNION ALL SELECT 1, 2, file FROM glob('/*') WHERE (1=1"):
            with self.subTest(where=where):
                self.assertRefused(where)
        self.assertServerFine()

    def test_hostile_columns_are_refused(self):
        for cols in (["read_csv('/etc/passwd')"], ["* FROM read_csv('/etc/passwd') --"],
                     ["id\" FROM read_text('/etc/passwd') --"], ["id, (SELECT 1)"]):
            with self.subTest(columns=cols):
                self.assertRefused(columns=cols)
        self.assertServerFine()

    def test_where_cannot_read_another_projects_table(self):
        other, _ = self.create_project(uniq("q"))
        self.create_bucket(other, "other")
        self.create_table_csv(other, "in.c-other", "secret", "id,amount,name\n1,1,s\n2,2,s\n")
        for where in ("id IN (SELECT id FROM in_c_other.secret)",
                      "EXISTS (SELECT 1 FROM secret)",
                      "id IN (SELECT id FROM project.in_c_other.secret)",
                      "1=1) UNION ALL SELECT id, amount, name FROM in_c_other.secret WHERE (1=1"):
            with self.subTest(where=where):
                self.assertRefused(where)
        # still refused when this project has a bucket of that name (without the table)
        self.create_bucket(self.pid, "other")
        self.create_table_csv(self.pid, "in.c-other", "public_t", "id\n1\n")
        self.assertRefused("id IN (SELECT id FROM in_c_other.secret)")
        self.assertServerFine()

    def test_where_cannot_read_another_workspaces_objects(self):
        other = self.create_ws()["id"]
        self.load_rows(other, ORDERS, destination="private_copy")
        for where in ("EXISTS (SELECT 1 FROM private_copy)",
                      "id IN (SELECT id FROM main.private_copy)",
                      "id IN (SELECT id FROM \"%s\".main.private_copy)" % other):
            with self.subTest(where=where):
                self.assertRefused(where)
        self.assertEqual(self.objects(other), {"private_copy": 10})


class InstanceReopen(LoadBase):
    """Workspace instances closed when idle (after 1 s here) open again on the next call."""
    server_args = ("--workspace-idle-close", "1")

    def test_objects_persist_and_loads_work_after_the_instance_was_closed(self):
        self.assertEqual(self.load_rows(self.ws, ORDERS, where="id > 2"), 8)
        time.sleep(2.5)
        self.assertEqual(self.objs(), {"orders": 8})
        time.sleep(2.5)
        self.import_csv(self.pid, ORDERS, "id,amount,name\n1,1,a\n")
        self.assertEqual(self.load_rows(self.ws, ORDERS, destination="again"), 1)
        self.assertEqual(self.objs(), {"orders": 8, "again": 1})
        time.sleep(2.5)
        self.assertEqual(self.req("POST", self.ws_url(self.ws, "/clear"))[0], 204)
        self.assertEqual(self.objs(), {})
        time.sleep(2.5)
        st, body, _ = self.req("DELETE", self.ws_url(self.ws))
        self.assertEqual(st, 204, body)
        self.assertEqual([n for n in os.listdir(ws_dir(self.server.data_dir, self.pid)) if n.startswith(self.ws)], [])


if __name__ == "__main__":
    harness.main()
