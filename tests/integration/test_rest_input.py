"""REST input hardening (security audit 2026-11-29): the path is routed as sent, each
segment and query argument percent-decoded once, and a NUL, an encoded '/' or a
malformed escape is a 400 instead of a request for another route or another name."""


import harness
from harness import uniq
from wshelpers import WsTestCase


class PathDecoding(WsTestCase):

    def setUp(self):
        super().setUp()
        self.bucket = self.create_bucket(self.pid, "crm")
        self.table = self.create_table_csv(self.pid, self.bucket, "orders", "id,x\n1,2\n")["id"]

    def test_nul_in_a_segment_is_400_not_the_shorter_route(self):
        # S89: the path used to be cut at the NUL, so this answered the table detail.
        body = self.assertError(self.req("GET", "/projects/%s/tables/%s%%00/preview" % (self.pid, self.table)),
                                400, "invalid_request")
        self.assertIn("path", body["message"])
        self.assertError(self.req("GET", "/projects/%s%%00x/buckets" % self.pid), 400, "invalid_request")

    def test_encoded_slash_is_part_of_a_segment_not_a_separator(self):
        # S89: "%2F" used to add a segment, so this listed the buckets.
        self.assertError(self.req("GET", "/projects/%s%%2Fbuckets" % self.pid), 400, "invalid_request")
        self.assertError(self.req("GET", "/projects/%s%%2fbuckets" % self.pid), 400, "invalid_request")
        self.assertError(self.req("GET", "/projects/%s/tables/in.c-crm%%2Forders" % self.pid),
                         400, "invalid_request")

    def test_nul_in_workspace_id_does_not_reach_the_workspace_delete_route(self):
        # S89: DELETE .../workspaces/WS%00/sessions/1 used to delete the workspace.
        ws = self.create_ws()["id"]
        self.assertError(self.req("DELETE", self.ws_url(ws, "%00/sessions/1")), 400, "invalid_request")
        self.assertOk(self.req("GET", self.ws_url(ws)))

    def test_empty_segments_are_400_not_the_collapsed_route(self):
        """Re-audit: '//' and a trailing '/' were skipped, so //projects/P/buckets and
        .../workspaces/W//sessions reached the real routes past a proxy rule on the raw path."""
        ws = self.create_ws()["id"]
        for path in ("//projects/%s/buckets" % self.pid, "/projects//%s/buckets" % self.pid,
                     "/projects/%s/buckets/" % self.pid, self.ws_url(ws, "//sessions"), "/health/"):
            with self.subTest(path=path):
                self.assertError(self.req("GET", path), 400, "invalid_request")
        self.assertError(self.req("DELETE", "/projects/%s/workspaces//%s" % (self.pid, ws)), 400, "invalid_request")
        self.assertOk(self.req("GET", self.ws_url(ws)))
        self.assertOk(self.req("GET", "/projects/%s/buckets" % self.pid))

    def test_malformed_escapes_and_control_characters_in_the_path_are_400(self):
        for path in ("/projects/%zz", "/projects/abc%4", "/projects/abc%", "/projects/%%41",
                     "/projects/a%0Ab", "/projects/a%7Fb", "/projects/%s/tables/%s%%" % (self.pid, self.table)):
            with self.subTest(path=path):
                self.assertError(self.req("GET", path), 400, "invalid_request")

    def test_bad_path_is_400_before_authentication(self):
        self.assertError(self.req("GET", "/projects/%s%%2Fbuckets" % self.pid, key=None), 400, "invalid_request")

    def test_segments_are_decoded_exactly_once(self):
        encoded = "".join("%%%02X" % ord(c) for c in self.pid)
        self.assertEqual(self.assertOk(self.req("GET", "/projects/" + encoded))["id"], self.pid)
        self.assertEqual(self.assertOk(self.req("GET", "/projects/%s/tables/in.c-crm%%2Eorders" % self.pid))["id"],
                         self.table)
        # "%2541" is "%41" after one decoding: not a valid id, never "A".
        st, body, _ = self.req("GET", "/projects/%s/tables/in.c-crm.%%256Frders" % self.pid)
        self.assertIn(st, (400, 404), body)
        # '+' in a path is a plus, not a space.
        self.assertError(self.req("GET", "/projects/%s/tables/in.c-crm.or+ders" % self.pid), 400, "invalid_request")

    def test_unknown_and_too_deep_paths_are_still_404(self):
        self.assertError(self.req("GET", "/nope"), 404, "not_found")
        self.assertError(self.req("GET", "/a" * 40), 404, "not_found")
        self.assertError(self.req("GET", "/projects/%s/../x" % self.pid), 404, "not_found")


class QueryDecoding(WsTestCase):

    def setUp(self):
        super().setUp()
        self.bucket = self.create_bucket(self.pid, "crm")

    def tables_url(self, query):
        return "/projects/%s/buckets/%s/tables?%s" % (self.pid, self.bucket, query)

    def table_names(self):
        return sorted(t["name"] for t in
                      self.assertOk(self.req("GET", "/projects/%s/buckets/%s/tables" % (self.pid, self.bucket)))["tables"])

    def test_nul_in_a_query_value_is_400_and_creates_nothing(self):
        # S90: ?name=a%00b used to create table "a".
        self.assertError(self.req("POST", self.tables_url("name=a%00b"), raw=b"id\n1\n", content_type="text/csv"),
                         400, "invalid_request")
        self.assertError(self.req("POST", self.tables_url("name=t&primary_key=id%00x"), raw=b"id\n1\n",
                                  content_type="text/csv"), 400, "invalid_request")
        self.assertEqual(self.table_names(), [])

    def test_malformed_escape_or_control_key_in_the_query_is_400(self):
        for q in ("name=a%zz", "name=a%4", "name%=t", "na%00me=t", "na%0Ame=t"):
            with self.subTest(query=q):
                self.assertError(self.req("POST", self.tables_url(q), raw=b"id\n1\n", content_type="text/csv"),
                                 400, "invalid_request")
        self.assertEqual(self.table_names(), [])

    def test_query_keys_and_values_are_decoded_once(self):
        self.assertOk(self.req("POST", self.tables_url("na%6De=or%64ers&primary_key=i%64"), raw=b"id\n1\n2\n",
                               content_type="text/csv"), 201)
        self.assertEqual(self.table_names(), ["orders"])
        # "%2541" decodes to "%41", which is not a valid table name.
        self.assertError(self.req("POST", self.tables_url("name=a%2541"), raw=b"id\n1\n", content_type="text/csv"),
                         400, "invalid_request")
        prev = self.assertOk(self.req("GET", "/projects/%s/tables/%s.orders/preview?limit=%%31" % (self.pid, self.bucket)))
        self.assertEqual(len(prev["rows"]), 1)

    def test_too_many_query_arguments_is_400(self):
        q = "&".join("k%d=v" % i for i in range(40))
        self.assertError(self.req("GET", "/projects/%s/buckets?%s" % (self.pid, q)), 400, "invalid_request")
        q = "&".join("k%d=v" % i for i in range(20))
        self.assertOk(self.req("GET", "/projects/%s/buckets?%s" % (self.pid, q)))


class JsonNames(WsTestCase):

    def test_nul_in_json_names_is_400(self):
        bucket = self.create_bucket(self.pid, "crm")
        url = "/projects/%s/buckets/%s/tables" % (self.pid, bucket)
        for body in ({"name": "a\u0000b", "columns": [{"name": "id", "type": "integer"}]},
                     {"name": "t", "columns": [{"name": "id\u0000x", "type": "integer"}]},
                     {"name": "t", "columns": [{"name": "id", "type": "integer"}], "primary_key": ["id\u0000x"]}):
            with self.subTest(body=body):
                self.assertError(self.req("POST", url, body), 400, "invalid_request")
        self.assertError(self.req("POST", "/projects/%s/buckets" % self.pid, {"stage": "in", "name": "a\u0000b"}),
                         400, "invalid_request")
        self.assertEqual(self.assertOk(self.req("GET", url))["tables"], [])


class ContentTypes(WsTestCase):
    """S100: a JSON endpoint takes a body only when it says it is JSON."""

    def branch_body(self):
        return ('{"name": "%s"}' % uniq("br")).encode()

    def test_json_body_without_a_json_content_type_is_415_and_creates_nothing(self):
        url = "/projects/%s/branches" % self.pid
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/octet-stream", "text/json",
                   "application/json; charset=utf-16", "application/json;charset=latin1", "application/jsonx",
                   "application/json; charset", "application/+json", "text/csv", None):
            with self.subTest(content_type=ct):
                body = self.assertError(self.req("POST", url, raw=self.branch_body(), content_type=ct),
                                        415, "unsupported_media_type")
                self.assertIn("application/json", body["message"])
        self.assertEqual(self.assertOk(self.req("GET", url))["branches"], [])
        self.assertError(self.req("POST", "/projects", raw=b'{"name": "x"}', content_type="text/plain"),
                         415, "unsupported_media_type")

    def test_json_content_types_with_parameters_and_suffixes_are_accepted(self):
        url = "/projects/%s/branches" % self.pid
        for ct in ("application/json", "Application/JSON", "application/json; charset=utf-8",
                   "application/json;charset=\"UTF-8\"", "application/json ; foo=bar", "application/json;",
                   "application/merge-patch+json", "application/vnd.duckspace+json; charset=utf-8"):
            with self.subTest(content_type=ct):
                self.assertOk(self.req("POST", url, raw=self.branch_body(), content_type=ct), 201)

    def test_chunked_body_without_json_content_type_is_415(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=30)
        try:
            conn.putrequest("POST", "/projects/%s/branches" % self.pid)
            conn.putheader("Authorization", "Bearer " + self.server.admin_key)
            conn.putheader("Content-Type", "text/plain")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            data = self.branch_body()
            conn.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
            resp = conn.getresponse()
            self.assertEqual(resp.status, 415, resp.read())
        finally:
            conn.close()

    def test_two_content_type_headers_are_400(self):
        """Re-audit: the first of two Content-Type headers won, so a JSON body passed as
        JSON while a proxy may have judged it by the other header."""
        import http.client
        url = "/projects/%s/branches" % self.pid
        for first, second in (("application/json", "text/plain"), ("text/plain", "application/json"),
                              ("application/json", "application/json")):
            with self.subTest(first=first, second=second):
                conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=30)
                try:
                    data = self.branch_body()
                    conn.putrequest("POST", url)
                    conn.putheader("Authorization", "Bearer " + self.server.admin_key)
                    conn.putheader("Content-Type", first)
                    conn.putheader("Content-Type", second)
                    conn.putheader("Content-Length", str(len(data)))
                    conn.endheaders(data)
                    resp = conn.getresponse()
                    self.assertEqual(resp.status, 400, resp.read())
                finally:
                    conn.close()
        self.assertEqual(self.assertOk(self.req("GET", url))["branches"], [])

    def test_requests_without_a_body_need_no_content_type(self):
        ws = self.create_ws()["id"]
        self.assertEqual(self.req("POST", self.ws_url(ws, "/clear"))[0], 204)
        self.assertOk(self.req("POST", self.ws_url(ws, "/credentials/reset")))
        self.assertOk(self.req("POST", self.ws_url(ws, "/disconnect-all")))
        # An empty body with any content type is still just an empty body.
        self.assertEqual(self.req("POST", self.ws_url(ws, "/clear"), raw=b"", content_type="text/plain")[0], 204)
        # Endpoints that take no body do not read one, whatever its type.
        self.assertEqual(self.req("POST", self.ws_url(ws, "/clear"), raw=b"x", content_type="text/plain")[0], 204)
        self.assertOk(self.req("GET", self.ws_url(ws), raw=b"x", content_type="text/plain"))
        # A JSON endpoint given no body at all: the body is checked, not the type.
        self.assertError(self.req("POST", "/projects/%s/branches" % self.pid), 400, "invalid_request")

    def test_table_uploads_keep_their_own_content_types(self):
        bucket = self.create_bucket(self.pid, "crm")
        url = "/projects/%s/buckets/%s/tables" % (self.pid, bucket)
        self.assertOk(self.req("POST", url + "?name=a", raw=b"id\n1\n", content_type="text/csv; charset=utf-8"), 201)
        self.assertOk(self.req("POST", url, {"name": "b", "columns": [{"name": "id", "type": "integer"}]}), 201)
        self.assertError(self.req("POST", url + "?name=c", raw=b"id\n1\n", content_type="text/plain"),
                         415, "unsupported_media_type")
        self.assertError(self.req("POST", url, raw=b'{"name": "c", "columns": [{"name": "id", "type": "integer"}]}',
                                  content_type="text/plain"), 415, "unsupported_media_type")
        # A CSV body sent to an endpoint that takes JSON only is not spooled as data.
        self.assertError(self.req("POST", "/projects/%s/buckets" % self.pid, raw=b"stage,name\nin,x\n",
                                  content_type="text/csv"), 415, "unsupported_media_type")
        self.assertError(self.req("POST", "/projects/%s/tables/%s.a/import" % (self.pid, bucket), raw=b"id\n2\n",
                                  content_type="text/plain"), 415, "unsupported_media_type")
        self.assertEqual(sorted(t["name"] for t in self.assertOk(self.req("GET", url))["tables"]), ["a", "b"])


if __name__ == "__main__":
    harness.main()
