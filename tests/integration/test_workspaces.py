"""Workspaces REST API: create, list, detail, drop, credentials reset, validation, auth,
the per-project cap, branch workspaces, expiry and the reaper, removal with the project
or branch. Loading, clearing and the sandbox of `where` are in test_workspace_sandbox.py."""

import os
import time

import harness
from harness import uniq
from wshelpers import (WsTestCase, WS_ID_RE, PASSWORD_RE, CREATE_FIELDS, DETAIL_FIELDS, CONNECTION_FIELDS,
                       UNKNOWN_WS, is_int, parse_ts, ws_files, ws_db, ws_dir, all_ws_files, grep_tree, project_dir)


class WorkspaceCreate(WsTestCase):

    def assertConnection(self, ws, password_expected):
        c = ws["connection"]
        expected = CONNECTION_FIELDS | ({"password"} if password_expected else set())
        self.assertEqual(set(c.keys()), expected, c)
        self.assertIsInstance(c["host"], str)
        self.assertTrue(c["host"])
        self.assertEqual(c["port"], self.server.pg_port)
        self.assertEqual(c["database"], "workspace_" + ws["id"])
        self.assertRegex(c["username"], r"^%s_[0-9a-f]{8}$" % ws["id"])
        self.assertEqual(c["ssl_mode"], "disable")  # no TLS configured
        if password_expected:
            self.assertRegex(c["password"], PASSWORD_RE)
            userinfo = "%s:%s" % (c["username"], c["password"])
        else:
            userinfo = c["username"]
        self.assertEqual(c["connection_string"], "postgresql://%s@%s:%d/%s?sslmode=disable"
                         % (userinfo, c["host"], c["port"], c["database"]))

    def test_create_returns_201_workspace_with_connection_and_password(self):
        t = self.sales_table()
        st, ws, hdrs = self.req("POST", self.ws_url(), {"name": "My Analysis"})
        self.assertEqual(st, 201, ws)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"))
        self.assertEqual(set(ws.keys()), CREATE_FIELDS, ws)
        self.assertRegex(ws["id"], WS_ID_RE)
        self.assertEqual(ws["name"], "My Analysis")
        self.assertEqual(ws["project_id"], self.pid)
        self.assertIsNone(ws["branch_id"])
        self.assertEqual(ws["status"], "active")
        self.assertTimestamp(ws["created_at"])
        self.assertTimestamp(ws["expires_at"])
        self.assertConnection(ws, password_expected=True)
        self.assertEqual(ws["attached_tables"], [{"schema": "in_c_sales", "table": "orders", "rows": 10}])
        self.assertTrue(t)

    def test_create_defaults_ttl_24_hours_and_size_limit_10_gb(self):
        ws = self.create_ws()
        self.assertEqual(parse_ts(ws["expires_at"]) - parse_ts(ws["created_at"]), 24 * 3600)
        self.assertEqual(ws["size_limit_gb"], 10)

    def test_create_with_ttl_and_size_limit_at_their_bounds(self):
        for ttl, size in ((1, 1), (168, 1000), (5, 3)):
            with self.subTest(ttl=ttl, size=size):
                ws = self.create_ws(ttl_hours=ttl, size_limit_gb=size)
                self.assertEqual(parse_ts(ws["expires_at"]) - parse_ts(ws["created_at"]), ttl * 3600)
                self.assertEqual(ws["size_limit_gb"], size)
                d = self.detail(ws["id"])
                self.assertEqual((d["expires_at"], d["size_limit_gb"]), (ws["expires_at"], size))

    def test_create_makes_the_workspace_files(self):
        ws = self.create_ws()
        names = ws_files(self.server.data_dir, self.pid, ws["id"])
        self.assertIn(os.path.join(ws["id"], ws["id"] + ".duckdb"), names)
        self.assertTrue(os.path.isfile(ws_db(self.server.data_dir, self.pid, ws["id"])))

    def test_workspace_ids_usernames_and_passwords_are_distinct(self):
        a, b = self.create_ws(), self.create_ws()
        self.assertNotEqual(a["id"], b["id"])
        self.assertNotEqual(a["connection"]["username"], b["connection"]["username"])
        self.assertNotEqual(a["connection"]["password"], b["connection"]["password"])

    def test_name_is_kept_verbatim(self):
        ws = self.create_ws(name="Analýza \"Q4\" / 2026")
        self.assertEqual(ws["name"], "Analýza \"Q4\" / 2026")
        self.assertEqual(self.detail(ws["id"])["name"], "Analýza \"Q4\" / 2026")

    def test_attached_tables_lists_every_project_table_with_rows(self):
        self.sales_table()
        self.sales_table(name="customers", rows=[(1, 1, "a"), (2, 2, "b")])
        self.sales_table(bucket="crm", name="leads", rows=[])
        ws = self.create_ws()
        got = sorted((x["schema"], x["table"], x["rows"]) for x in ws["attached_tables"])
        self.assertEqual(got, [("in_c_crm", "leads", 0), ("in_c_sales", "customers", 2), ("in_c_sales", "orders", 10)])
        d = self.detail(ws["id"])
        self.assertEqual(sorted((x["schema"], x["table"], x["rows"]) for x in d["attached_tables"]), got)

    def test_create_in_an_empty_project_works(self):
        ws = self.create_ws()
        self.assertEqual(ws["attached_tables"], [])
        self.assertEqual(self.detail(ws["id"])["workspace_objects"], [])

    # ---- preload ------------------------------------------------------------------------

    def test_preload_tables_are_copied_into_the_workspace(self):
        self.sales_table()
        self.sales_table(name="customers", rows=[(1, 1, "a"), (2, 2, "b")])
        ws = self.create_ws(preload_tables=["in.c-sales.orders", "in.c-sales.customers"])
        self.assertEqual(self.objects(ws["id"]), {"orders": 10, "customers": 2})
        types = {o["name"]: o["type"] for o in self.detail(ws["id"])["workspace_objects"]}
        self.assertEqual(types, {"orders": "table", "customers": "table"})

    def test_unknown_preload_table_is_404_table_not_found_and_creates_nothing(self):
        self.sales_table()
        before = all_ws_files(self.server.data_dir)
        resp = self.req("POST", self.ws_url(), {"name": "x", "preload_tables": ["in.c-sales.orders", "in.c-sales.nope"]})
        self.assertError(resp, 404, "table_not_found")
        self.assertError(self.req("POST", self.ws_url(), {"name": "x", "preload_tables": ["in.c-nobucket.t"]}),
                         404, "table_not_found")
        self.assertEqual(self.list_ws()["count"], 0)
        self.assertEqual(all_ws_files(self.server.data_dir), before)

    # ---- validation --------------------------------------------------------------------

    def assertCreateRefused(self, body=None, raw=None):
        before = all_ws_files(self.server.data_dir)
        if raw is not None:
            resp = self.req("POST", self.ws_url(), raw=raw, content_type="application/json")
        else:
            resp = self.req("POST", self.ws_url(), body)
        self.assertError(resp, 400, "invalid_request")
        self.assertEqual(self.list_ws()["count"], 0)
        self.assertEqual(all_ws_files(self.server.data_dir), before)

    def test_malformed_or_non_object_body_is_400(self):
        for raw in (b"{", b"", b"[]", b"\"name\"", b"null", b"{\"name\": \"x\",}"):
            with self.subTest(raw=raw):
                self.assertCreateRefused(raw=raw)

    def test_missing_empty_or_non_string_name_is_400(self):
        for body in ({}, {"name": ""}, {"name": None}, {"name": 7}, {"name": ["a"]}, {"ttl_hours": 2}):
            with self.subTest(body=body):
                self.assertCreateRefused(body)

    def test_ttl_out_of_range_or_wrong_type_is_400(self):
        for ttl in (0, -1, 169, 100000, 1.5, "24", True, [24]):
            with self.subTest(ttl=ttl):
                self.assertCreateRefused({"name": "x", "ttl_hours": ttl})

    def test_null_ttl_is_400(self):
        self.assertCreateRefused({"name": "x", "ttl_hours": None})

    def test_size_limit_out_of_range_or_wrong_type_is_400(self):
        for size in (0, -5, 1001, 10 ** 12, 2.5, "10", False):
            with self.subTest(size=size):
                self.assertCreateRefused({"name": "x", "size_limit_gb": size})

    def test_unknown_fields_are_400(self):
        for body in ({"name": "x", "ttl": 3}, {"name": "x", "password": "secret"}, {"name": "x", "branch_id": "1"}):
            with self.subTest(body=body):
                self.assertCreateRefused(body)

    def test_bad_preload_tables_are_400(self):
        self.sales_table()
        for pre in ("in.c-sales.orders", [7], [None], [["in.c-sales.orders"]], {"a": 1}):
            with self.subTest(preload=pre):
                self.assertCreateRefused({"name": "x", "preload_tables": pre})


class WorkspaceReadAndDrop(WsTestCase):

    def test_detail_has_every_field_and_no_password(self):
        self.sales_table()
        ws = self.create_ws(name="d", ttl_hours=3, size_limit_gb=2, preload_tables=["in.c-sales.orders"])
        d = self.detail(ws["id"])
        self.assertEqual(set(d.keys()), DETAIL_FIELDS, d)
        for k in ("id", "name", "project_id", "branch_id", "created_at", "expires_at", "size_limit_gb", "status"):
            self.assertEqual(d[k], ws[k], k)
        self.assertEqual(set(d["connection"].keys()), CONNECTION_FIELDS, d["connection"])
        self.assertNotIn("password", d["connection"])
        for k in ("host", "port", "database", "username", "ssl_mode"):
            self.assertEqual(d["connection"][k], ws["connection"][k], k)
        c = d["connection"]
        self.assertEqual(c["connection_string"], "postgresql://%s@%s:%d/%s?sslmode=disable"
                         % (c["username"], c["host"], c["port"], c["database"]))
        self.assertNotIn(ws["connection"]["password"], repr(d))
        self.assertTrue(is_int(d["size_bytes"]) and d["size_bytes"] > 0, d)
        self.assertEqual(d["active_sessions"], 0)
        self.assertEqual(d["workspace_objects"], [{"name": "orders", "type": "table", "rows": 10}])
        self.assertEqual(d["attached_tables"], [{"schema": "in_c_sales", "table": "orders", "rows": 10}])

    def test_size_bytes_grows_with_loaded_data(self):
        self.sales_table(rows=[(i, i, "name-%d" % i) for i in range(20000)])
        ws = self.create_ws()
        empty = self.detail(ws["id"])["size_bytes"]
        body = self.load(ws["id"], [{"source": "in.c-sales.orders"}])
        self.assertTrue(is_int(body["workspace_size_bytes"]), body)
        full = self.detail(ws["id"])["size_bytes"]
        self.assertGreater(full, empty)
        self.assertGreater(body["workspace_size_bytes"], empty)

    def test_unknown_workspace_is_404_workspace_not_found_on_every_endpoint(self):
        for wid in (UNKNOWN_WS, "nonsense", "ws_ABCDEF012345", "ws_0123456789abc"):
            for method, rest, body in (("GET", "", None), ("DELETE", "", None), ("POST", "/clear", None),
                                       ("DELETE", "/objects/orders", None),
                                       ("POST", "/load", {"tables": [{"source": "in.c-sales.orders"}]}),
                                       ("POST", "/credentials/reset", None)):
                with self.subTest(ws=wid, method=method, rest=rest):
                    self.assertError(self.req(method, self.ws_url(wid, rest), body), 404, "workspace_not_found")

    def test_unknown_project_or_branch_is_404(self):
        self.assertError(self.req("GET", "/projects/%s/workspaces" % uniq("none")), 404, "project_not_found")
        self.assertError(self.req("POST", "/projects/%s/workspaces" % uniq("none"), {"name": "x"}), 404,
                         "project_not_found")
        self.assertError(self.req("GET", self.ws_url(branch="999999")), 404, "branch_not_found")
        self.assertError(self.req("POST", self.ws_url(branch="999999"), {"name": "x"}), 404, "branch_not_found")

    def test_workspace_of_another_project_is_404_via_this_projects_path(self):
        other, okey = self.create_project(uniq("q"))
        theirs = self.create_ws(pid=other)
        mine = self.create_ws()
        for pid, wid in ((self.pid, theirs["id"]), (other, mine["id"])):
            for method, rest, body in (("GET", "", None), ("POST", "/clear", None), ("DELETE", "/objects/x", None),
                                       ("POST", "/load", {"tables": [{"source": "in.c-sales.orders"}]}),
                                       ("POST", "/credentials/reset", None), ("DELETE", "", None)):
                with self.subTest(pid=pid, method=method, rest=rest):
                    self.assertError(self.req(method, self.ws_url(wid, rest, pid=pid), body), 404,
                                     "workspace_not_found")
        # the wrong-path DELETE did not drop them
        self.detail(theirs["id"], pid=other)
        self.detail(mine["id"])
        self.assertEqual([w["id"] for w in self.list_ws()["workspaces"]], [mine["id"]])

    def test_drop_returns_204_removes_files_then_404(self):
        self.sales_table()
        ws = self.create_ws(preload_tables=["in.c-sales.orders"])
        self.assertTrue(ws_files(self.server.data_dir, self.pid, ws["id"]))
        st, body, _ = self.req("DELETE", self.ws_url(ws["id"]))
        self.assertEqual(st, 204, body)
        self.assertEqual(ws_files(self.server.data_dir, self.pid, ws["id"]), [])
        self.assertError(self.req("GET", self.ws_url(ws["id"])), 404, "workspace_not_found")
        self.assertError(self.req("DELETE", self.ws_url(ws["id"])), 404, "workspace_not_found")
        self.assertEqual(self.list_ws(), {"workspaces": [], "count": 0})
        # the project's tables are untouched
        self.assertEqual(self.table(self.pid, "in.c-sales.orders")["rows"], 10)

    def test_drop_leaves_other_workspaces_alone(self):
        self.sales_table()
        a = self.create_ws(preload_tables=["in.c-sales.orders"])
        b = self.create_ws(preload_tables=["in.c-sales.orders"])
        self.assertEqual(self.req("DELETE", self.ws_url(a["id"]))[0], 204)
        self.assertEqual(self.objects(b["id"]), {"orders": 10})
        self.assertTrue(ws_files(self.server.data_dir, self.pid, b["id"]))

    def test_wrong_method_is_405(self):
        ws = self.create_ws()
        self.assertError(self.req("PUT", self.ws_url(ws["id"]), {"name": "y"}), 405, "method_not_allowed")
        self.assertError(self.req("GET", self.ws_url(ws["id"], "/load")), 405, "method_not_allowed")


class WorkspaceList(WsTestCase):

    def test_list_has_every_workspace_count_and_no_password(self):
        made = [self.create_ws(name="w%d" % i) for i in range(3)]
        body = self.list_ws()
        self.assertEqual(set(body.keys()), {"workspaces", "count"})
        self.assertEqual(body["count"], 3)
        by_id = {w["id"]: w for w in body["workspaces"]}
        self.assertEqual(set(by_id), {w["id"] for w in made})
        for w in made:
            got = by_id[w["id"]]
            self.assertLessEqual({"id", "name", "project_id", "branch_id", "created_at", "expires_at",
                                  "size_limit_gb", "status", "connection"}, set(got.keys()), got)
            for k in ("name", "project_id", "branch_id", "created_at", "expires_at", "size_limit_gb", "status"):
                self.assertEqual(got[k], w[k], k)
            self.assertNotIn("password", got["connection"])
            self.assertEqual(got["connection"]["username"], w["connection"]["username"])
            self.assertNotIn(w["connection"]["password"], repr(body))
            self.assertNotIn(":" + w["connection"]["password"], got["connection"]["connection_string"])

    def test_list_of_another_project_does_not_show_these(self):
        self.create_ws()
        other, _ = self.create_project(uniq("q"))
        self.assertEqual(self.list_ws(pid=other), {"workspaces": [], "count": 0})

    def test_limit_and_offset_page_through_all_workspaces(self):
        made = {self.create_ws(name="w%d" % i)["id"] for i in range(5)}
        seen = []
        for offset in (0, 2, 4):
            body = self.list_ws(query="?limit=2&offset=%d" % offset)
            self.assertEqual(body["count"], 5, body)
            self.assertEqual(len(body["workspaces"]), 2 if offset < 4 else 1, body)
            seen += [w["id"] for w in body["workspaces"]]
        self.assertEqual(sorted(seen), sorted(made))
        past = self.list_ws(query="?offset=5")
        self.assertEqual(past, {"workspaces": [], "count": 5})
        self.assertEqual(len(self.list_ws(query="?limit=1")["workspaces"]), 1)
        self.assertEqual(len(self.list_ws(query="?limit=1000")["workspaces"]), 5)

    def test_bad_limit_or_offset_is_400(self):
        for q in ("limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=", "limit=1.5",
                  "offset=-1", "offset=abc", "offset=1.5"):
            with self.subTest(q=q):
                self.assertError(self.req("GET", self.ws_url() + "?" + q), 400, "invalid_request")


class WorkspaceCredentials(WsTestCase):

    def test_reset_returns_a_new_password_and_keeps_the_username(self):
        ws = self.create_ws()
        st, body, _ = self.req("POST", self.ws_url(ws["id"], "/credentials/reset"))
        self.assertEqual(st, 200, body)
        self.assertEqual(set(body.keys()), {"connection"})
        c, old = body["connection"], ws["connection"]
        self.assertEqual(set(c.keys()), CONNECTION_FIELDS | {"password"})
        self.assertRegex(c["password"], PASSWORD_RE)
        self.assertNotEqual(c["password"], old["password"])
        for k in ("host", "port", "database", "username", "ssl_mode"):
            self.assertEqual(c[k], old[k], k)
        self.assertEqual(c["connection_string"], "postgresql://%s:%s@%s:%d/%s?sslmode=disable"
                         % (c["username"], c["password"], c["host"], c["port"], c["database"]))
        again = self.assertOk(self.req("POST", self.ws_url(ws["id"], "/credentials/reset")))["connection"]
        self.assertNotIn(again["password"], (c["password"], old["password"]))
        self.assertEqual(again["username"], old["username"])
        # detail and list still show no password after a reset
        d = self.detail(ws["id"])
        self.assertNotIn("password", d["connection"])
        for pw in (old["password"], c["password"], again["password"]):
            self.assertNotIn(pw, repr(d))
            self.assertNotIn(pw, repr(self.list_ws()))

    def test_reset_keeps_the_workspace_and_its_objects(self):
        self.sales_table()
        ws = self.create_ws(preload_tables=["in.c-sales.orders"])
        self.assertOk(self.req("POST", self.ws_url(ws["id"], "/credentials/reset")))
        d = self.detail(ws["id"])
        self.assertEqual((d["id"], d["expires_at"], d["created_at"]), (ws["id"], ws["expires_at"], ws["created_at"]))
        self.assertEqual(self.objects(ws["id"]), {"orders": 10})

    def test_password_is_not_stored_in_plain_anywhere_in_the_data_dir(self):
        ws = self.create_ws()
        reset = self.assertOk(self.req("POST", self.ws_url(ws["id"], "/credentials/reset")))["connection"]
        for pw in (ws["connection"]["password"], reset["password"]):
            self.assertEqual(grep_tree(self.server.data_dir, pw.encode()), [])
            self.assertEqual(grep_tree(self.server.root, pw.encode()), [], "password in the server's logs")


class WorkspaceAuth(WsTestCase):

    def endpoints(self, wid):
        return (("GET", self.ws_url(), None),
                ("POST", self.ws_url(), {"name": "x"}),
                ("GET", self.ws_url(wid), None),
                ("POST", self.ws_url(wid, "/clear"), None),
                ("DELETE", self.ws_url(wid, "/objects/orders"), None),
                ("POST", self.ws_url(wid, "/load"), {"tables": [{"source": "in.c-sales.orders"}]}),
                ("POST", self.ws_url(wid, "/credentials/reset"), None),
                ("DELETE", self.ws_url(wid), None))

    def assertUntouched(self, ws):
        self.assertEqual(self.list_ws()["count"], 1)
        self.assertEqual(self.objects(ws["id"]), {"orders": 10})

    def test_no_key_or_unknown_key_is_401(self):
        self.sales_table()
        ws = self.create_ws(preload_tables=["in.c-sales.orders"])
        for key in (None, harness.new_admin_key(), "garbage"):
            for method, path, body in self.endpoints(ws["id"]):
                with self.subTest(key=key, method=method, path=path):
                    self.assertError(self.req(method, path, body, key=key), 401, "unauthorized")
        self.assertUntouched(ws)

    def test_another_projects_key_is_403_forbidden(self):
        self.sales_table()
        ws = self.create_ws(preload_tables=["in.c-sales.orders"])
        _, okey = self.create_project(uniq("q"))
        for method, path, body in self.endpoints(ws["id"]):
            with self.subTest(method=method, path=path):
                self.assertError(self.req(method, path, body, key=okey), 403, "forbidden")
        # auth before existence: an unknown workspace is 403 too, not 404
        self.assertError(self.req("GET", self.ws_url(UNKNOWN_WS), key=okey), 403, "forbidden")
        self.assertUntouched(ws)

    def test_project_key_manages_its_workspaces(self):
        self.sales_table()
        k = self.key
        ws = self.create_ws(key=k, preload_tables=["in.c-sales.orders"])
        self.assertOk(self.req("GET", self.ws_url(ws["id"]), key=k))
        self.assertEqual(self.assertOk(self.req("GET", self.ws_url(), key=k))["count"], 1)
        self.assertOk(self.req("POST", self.ws_url(ws["id"], "/load"),
                               {"tables": [{"source": "in.c-sales.orders", "destination": "o2"}]}, key=k))
        self.assertEqual(self.req("DELETE", self.ws_url(ws["id"], "/objects/o2"), key=k)[0], 204)
        self.assertIn("password", self.assertOk(self.req("POST", self.ws_url(ws["id"], "/credentials/reset"),
                                                         key=k))["connection"])
        self.assertEqual(self.req("POST", self.ws_url(ws["id"], "/clear"), key=k)[0], 204)
        self.assertEqual(self.req("DELETE", self.ws_url(ws["id"]), key=k)[0], 204)


class WorkspaceSessionsEndpoints(WsTestCase):
    """The session endpoints of the Workspaces contract, with no SQL session connected."""

    def test_sessions_list_is_empty_without_clients(self):
        ws = self.create_ws()
        self.assertEqual(self.assertOk(self.req("GET", self.ws_url(ws["id"], "/sessions"))), {"sessions": []})

    def test_disconnect_all_without_clients_disconnects_0(self):
        ws = self.create_ws()
        self.assertEqual(self.assertOk(self.req("POST", self.ws_url(ws["id"], "/disconnect-all"))),
                         {"disconnected": 0})

    def test_unknown_session_is_404_session_not_found(self):
        ws = self.create_ws()
        self.assertError(self.req("DELETE", self.ws_url(ws["id"], "/sessions/12345")), 404, "session_not_found")


class WorkspacePerProjectCap(WsTestCase):
    server_args = ("--workspaces-per-project", "2", "--workspace-max-ttl-hours", "5")

    def test_third_workspace_is_409_limit_exceeded_with_details_limit(self):
        a = self.create_ws()
        self.create_ws()
        before = all_ws_files(self.server.data_dir)
        body = self.assertError(self.req("POST", self.ws_url(), {"name": "third"}), 409, "limit_exceeded")
        self.assertIn("details", body)
        self.assertEqual(int(body["details"].get("limit")), 2, body)
        self.assertEqual(self.list_ws()["count"], 2)
        self.assertEqual(all_ws_files(self.server.data_dir), before)
        # another project has its own allowance
        other, _ = self.create_project(uniq("q"))
        self.create_ws(pid=other)
        # dropping one makes room again
        self.assertEqual(self.req("DELETE", self.ws_url(a["id"]))[0], 204)
        self.create_ws()
        self.assertError(self.req("POST", self.ws_url(), {"name": "again"}), 409, "limit_exceeded")

    def test_configured_max_ttl_bounds_ttl_hours(self):
        self.assertError(self.req("POST", self.ws_url(), {"name": "x", "ttl_hours": 6}), 400, "invalid_request")
        ws = self.create_ws(ttl_hours=5)
        self.assertEqual(parse_ts(ws["expires_at"]) - parse_ts(ws["created_at"]), 5 * 3600)


class BranchWorkspaces(WsTestCase):

    def setUp(self):
        super().setUp()
        self.orders = self.sales_table()  # main: ids 1..10
        self.br = self.assertOk(self.req("POST", self.base(self.pid) + "/branches",
                                         {"name": uniq("br").replace("_", "-")}), 201)["id"]

    def test_branch_workspace_has_branch_id_and_lives_in_the_branch_directory(self):
        ws = self.create_ws(branch=self.br)
        self.assertEqual(ws["branch_id"], self.br)
        self.assertEqual(ws["project_id"], self.pid)
        self.assertEqual(self.detail(ws["id"], branch=self.br)["branch_id"], self.br)
        self.assertTrue(os.path.isfile(ws_db(self.server.data_dir, self.pid, ws["id"], branch=self.br)))
        self.assertEqual(ws_files(self.server.data_dir, self.pid, ws["id"]), [])

    def test_main_lists_only_main_workspaces_and_a_branch_only_its_own(self):
        m = self.create_ws()
        b = self.create_ws(branch=self.br)
        br2 = self.assertOk(self.req("POST", self.base(self.pid) + "/branches", {"name": "other-br"}), 201)["id"]
        b2 = self.create_ws(branch=br2)
        self.assertEqual(([w["id"] for w in self.list_ws()["workspaces"]], self.list_ws()["count"]), ([m["id"]], 1))
        lb = self.list_ws(branch=self.br)
        self.assertEqual(([w["id"] for w in lb["workspaces"]], lb["count"]), ([b["id"]], 1))
        lb2 = self.list_ws(branch=br2)
        self.assertEqual(([w["id"] for w in lb2["workspaces"]], lb2["count"]), ([b2["id"]], 1))
        self.assertEqual(lb["workspaces"][0]["branch_id"], self.br)

    def test_default_branch_path_is_main(self):
        m = self.create_ws()
        self.assertEqual([w["id"] for w in self.list_ws(branch="default")["workspaces"]], [m["id"]])
        self.assertEqual(self.detail(m["id"], branch="default")["id"], m["id"])

    def test_workspace_via_the_wrong_branch_path_is_404(self):
        m = self.create_ws()
        b = self.create_ws(branch=self.br)
        br2 = self.assertOk(self.req("POST", self.base(self.pid) + "/branches", {"name": "other-br"}), 201)["id"]
        for wid, branch in ((m["id"], self.br), (b["id"], None), (b["id"], br2)):
            for method, rest, body in (("GET", "", None), ("POST", "/clear", None), ("DELETE", "/objects/x", None),
                                       ("POST", "/load", {"tables": [{"source": self.orders}]}),
                                       ("POST", "/credentials/reset", None), ("DELETE", "", None)):
                with self.subTest(ws=wid, branch=branch, method=method, rest=rest):
                    self.assertError(self.req(method, self.ws_url(wid, rest, branch=branch), body), 404,
                                     "workspace_not_found")
        self.detail(m["id"])
        self.detail(b["id"], branch=self.br)

    def test_branch_only_table_loads_in_a_branch_workspace_and_is_404_in_main(self):
        self.create_bucket(self.pid, "dev", branch=self.br)
        self.create_table_csv(self.pid, "in.c-dev", "only", "id\n1\n2\n3\n", branch=self.br)
        bws = self.create_ws(branch=self.br)
        mws = self.create_ws()
        self.assertIn({"schema": "in_c_dev", "table": "only", "rows": 3}, bws["attached_tables"])
        self.assertNotIn("in_c_dev", [t["schema"] for t in mws["attached_tables"]])
        self.assertEqual(self.load_rows(bws["id"], "in.c-dev.only", branch=self.br), 3)
        self.assertEqual(self.objects(bws["id"], branch=self.br), {"only": 3})
        self.assertError(self.load_req(mws["id"], [{"source": "in.c-dev.only"}]), 404, "table_not_found")
        self.assertEqual(self.objects(mws["id"]), {})
        # and a branch workspace created with it preloaded
        pre = self.create_ws(branch=self.br, preload_tables=["in.c-dev.only"])
        self.assertEqual(self.objects(pre["id"], branch=self.br), {"only": 3})
        self.assertError(self.req("POST", self.ws_url(), {"name": "x", "preload_tables": ["in.c-dev.only"]}),
                         404, "table_not_found")

    def test_table_rewritten_in_the_branch_loads_branch_rows_in_branch_workspace_and_main_rows_in_main(self):
        self.import_csv(self.pid, self.orders, "id,amount,name\n100,1,x\n200,2,y\n", branch=self.br)
        bws = self.create_ws(branch=self.br)
        mws = self.create_ws()
        self.assertIn({"schema": "in_c_sales", "table": "orders", "rows": 2}, bws["attached_tables"])
        self.assertIn({"schema": "in_c_sales", "table": "orders", "rows": 10}, mws["attached_tables"])
        self.assertEqual(self.load_rows(bws["id"], self.orders, branch=self.br), 2)
        self.assertEqual(self.load_rows(mws["id"], self.orders), 10)
        # the branch's rows, not main's: ids 100 and 200 exist only in the branch copy
        self.assertEqual(self.load_rows(bws["id"], self.orders, destination="big", where="id >= 100",
                                        branch=self.br), 2)
        self.assertEqual(self.load_rows(mws["id"], self.orders, destination="big", where="id >= 100"), 0)

    def test_branch_workspace_reads_main_tables_the_branch_has_not_written(self):
        bws = self.create_ws(branch=self.br)
        self.assertEqual(self.load_rows(bws["id"], self.orders, branch=self.br), 10)
        # main changes are seen live while the branch has not written the table
        self.import_csv(self.pid, self.orders, "id,amount,name\n1,1,a\n")
        self.assertEqual(self.load_rows(bws["id"], self.orders, destination="again", branch=self.br), 1)
        # once the branch writes it, the branch workspace reads the copy
        self.import_csv(self.pid, self.orders, "id,amount,name\n1,1,a\n2,2,b\n3,3,c\n", branch=self.br)
        self.import_csv(self.pid, self.orders, "id,amount,name\n9,9,z\n9,9,z\n9,9,z\n9,9,z\n")
        self.assertEqual(self.load_rows(bws["id"], self.orders, destination="third", branch=self.br), 3)

    def test_delete_branch_removes_its_workspaces_and_keeps_main_ones(self):
        bws = self.create_ws(branch=self.br, preload_tables=[self.orders])
        mws = self.create_ws(preload_tables=[self.orders])
        self.assertTrue(ws_files(self.server.data_dir, self.pid, bws["id"], branch=self.br))
        st, body, _ = self.req("DELETE", self.base(self.pid) + "/branches/" + self.br)
        self.assertEqual(st, 204, body)
        self.assertEqual(ws_files(self.server.data_dir, self.pid, bws["id"], branch=self.br), [])
        self.assertFalse(os.path.exists(ws_dir(self.server.data_dir, self.pid, self.br)))
        st, body, _ = self.req("GET", self.ws_url(bws["id"], branch=self.br))
        self.assertEqual(st, 404, body)
        self.assertError(self.req("GET", self.ws_url(bws["id"])), 404, "workspace_not_found")
        self.assertEqual(self.objects(mws["id"]), {"orders": 10})
        self.assertEqual(self.list_ws()["count"], 1)


class ProjectDeletion(WsTestCase):

    def test_delete_project_removes_its_workspaces(self):
        self.sales_table()
        ws = self.create_ws(preload_tables=["in.c-sales.orders"])
        br = self.assertOk(self.req("POST", self.base(self.pid) + "/branches", {"name": "b1"}), 201)["id"]
        bws = self.create_ws(branch=br)
        other, _ = self.create_project(uniq("q"))
        keep = self.create_ws(pid=other)
        st, body, _ = self.req("DELETE", "/projects/" + self.pid)
        self.assertEqual(st, 204, body)
        self.assertFalse(os.path.exists(project_dir(self.server.data_dir, self.pid)))
        self.assertFalse(os.path.exists(project_dir(self.server.data_dir, self.pid, br)))
        self.assertEqual(ws_files(self.server.data_dir, self.pid, ws["id"]), [])
        st, body, _ = self.req("GET", self.ws_url(ws["id"]))
        self.assertEqual(st, 404, body)
        # a project recreated under the same id does not inherit them
        self.assertOk(self.req("POST", "/projects", {"id": self.pid, "name": "again"}), 201)
        self.assertError(self.req("GET", self.ws_url(ws["id"])), 404, "workspace_not_found")
        self.assertEqual(self.list_ws(), {"workspaces": [], "count": 0})
        self.assertError(self.req("GET", "/projects/%s/workspaces/%s" % (other, bws["id"])), 404,
                         "workspace_not_found")
        # the other project's workspace is untouched
        self.detail(keep["id"], pid=other)
        self.assertTrue(ws_files(self.server.data_dir, other, keep["id"]))


class WorkspaceExpiryAndRestart(WsTestCase):
    """Each test runs its own servers (restarts and clock offsets)."""

    def own_server(self, *args):
        srv = self.extra_server(extra_args=list(args))
        srv.start()
        self._mark_log(srv)
        return srv

    def wait_status(self, srv, path, status, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            resp = srv.req("GET", path)
            if resp[0] == status or time.monotonic() > deadline:
                return resp
            time.sleep(0.2)

    def test_expired_workspace_answers_410_on_every_call_but_delete(self):
        srv = self.own_server()
        pid = self.create_project_on(srv)
        srv.req("POST", "/projects/%s/buckets" % pid, {"stage": "in", "name": "sales"})
        self.assertOk(srv.req("POST", "/projects/%s/buckets/in.c-sales/tables?name=orders" % pid,
                              raw=b"id\n1\n2\n", content_type="text/csv"), 201)
        ws = self.create_ws(pid=pid, srv=srv, ttl_hours=1, preload_tables=["in.c-sales.orders"])
        ws2 = self.create_ws(pid=pid, srv=srv, ttl_hours=1)
        alive = self.create_ws(pid=pid, srv=srv, ttl_hours=2)
        # Restart with the clock moved so that the 1-hour workspaces expire about 4 s after
        # the start, after the reaper's first sweep (1 s after start); its next sweep is an
        # hour away, so the expired workspaces stay to be looked at.
        self.assertEqual(srv.stop(), 0)
        offset = 3600 - (int(time.time()) - parse_ts(ws2["created_at"])) - 4
        srv.extra_args = ["--clock-offset", str(offset), "--reaper-interval", "3600"]
        srv.start()
        url = lambda w, rest="": "/projects/%s/workspaces/%s%s" % (pid, w["id"], rest)
        resp = self.wait_status(srv, url(ws), 410)
        body = self.assertError(resp, 410, "workspace_expired")
        self.assertEqual(body.get("details", {}).get("expired_at"), ws["expires_at"], body)
        for method, rest, b in (("GET", "", None), ("POST", "/clear", None), ("DELETE", "/objects/orders", None),
                                ("POST", "/load", {"tables": [{"source": "in.c-sales.orders", "destination": "x"}]}),
                                ("POST", "/credentials/reset", None)):
            with self.subTest(method=method, rest=rest):
                body = self.assertError(srv.req(method, url(ws, rest), body=b), 410, "workspace_expired")
                self.assertEqual(body.get("details", {}).get("expired_at"), ws["expires_at"], body)
        # a workspace with time left is unaffected
        self.assertEqual(self.detail(alive["id"], pid=pid, srv=srv)["status"], "active")
        # the list still answers
        self.assertOk(srv.req("GET", "/projects/%s/workspaces" % pid))
        # DELETE works on an expired workspace
        self.assertEqual(self.wait_status(srv, url(ws2), 410)[0], 410)
        st, b, _ = srv.req("DELETE", url(ws2))
        self.assertEqual(st, 204, b)
        self.assertError(srv.req("GET", url(ws2)), 404, "workspace_not_found")
        self.assertEqual(ws_files(srv.data_dir, pid, ws2["id"]), [])

    def test_reaper_deletes_expired_workspaces_after_restart_with_the_clock_moved(self):
        srv = self.own_server()
        pid = self.create_project_on(srv)
        srv.req("POST", "/projects/%s/buckets" % pid, {"stage": "in", "name": "sales"})
        self.assertOk(srv.req("POST", "/projects/%s/buckets/in.c-sales/tables?name=orders" % pid,
                              raw=b"id\n1\n2\n", content_type="text/csv"), 201)
        short = self.create_ws(pid=pid, srv=srv, ttl_hours=1, preload_tables=["in.c-sales.orders"])
        long = self.create_ws(pid=pid, srv=srv, ttl_hours=3, preload_tables=["in.c-sales.orders"])
        self.assertTrue(ws_files(srv.data_dir, pid, short["id"]))
        rc = srv.stop()
        self.assertEqual(rc, 0)
        srv.extra_args = ["--clock-offset", "3700", "--reaper-interval", "1"]
        srv.start()
        url = "/projects/%s/workspaces/%s" % (pid, short["id"])
        st, body, _ = srv.req("GET", url)
        self.assertIn(st, (404, 410), body)  # expired, and reaped within seconds
        resp = self.wait_status(srv, url, 404)
        self.assertError(resp, 404, "workspace_not_found")
        self.assertEqual(ws_files(srv.data_dir, pid, short["id"]), [])
        listed = self.assertOk(srv.req("GET", "/projects/%s/workspaces" % pid))
        self.assertEqual(([w["id"] for w in listed["workspaces"]], listed["count"]), ([long["id"]], 1))
        self.assertEqual(self.objects(long["id"], pid=pid, srv=srv), {"orders": 2})
        # the project's tables are untouched by the reaper
        self.assertEqual(self.assertOk(srv.req("GET", "/projects/%s/tables/in.c-sales.orders" % pid))["rows"], 2)

    def test_workspace_objects_and_credentials_survive_a_restart(self):
        srv = self.own_server()
        pid = self.create_project_on(srv)
        srv.req("POST", "/projects/%s/buckets" % pid, {"stage": "in", "name": "sales"})
        self.assertOk(srv.req("POST", "/projects/%s/buckets/in.c-sales/tables?name=orders" % pid,
                              raw=b"id\n1\n2\n3\n", content_type="text/csv"), 201)
        ws = self.create_ws(pid=pid, srv=srv, preload_tables=["in.c-sales.orders"])
        before = self.detail(ws["id"], pid=pid, srv=srv)
        srv.restart()
        after = self.detail(ws["id"], pid=pid, srv=srv)
        for k in ("id", "name", "created_at", "expires_at", "connection", "workspace_objects", "attached_tables"):
            self.assertEqual(after[k], before[k], k)
        self.assertEqual(grep_tree(srv.data_dir, ws["connection"]["password"].encode()), [])
        # still usable
        self.assertEqual(self.load(ws["id"], [{"source": "in.c-sales.orders", "destination": "o2",
                                                "where": "id > 1"}], pid=pid, srv=srv)["loaded"][0]["rows"], 2)

    def create_project_on(self, srv):
        p = self.assertOk(srv.req("POST", "/projects", {"id": uniq("p"), "name": "x"}), 201)
        return p["id"]


if __name__ == "__main__":
    harness.main()
