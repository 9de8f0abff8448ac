"""Helpers for the workspace integration tests (test_workspaces.py,
test_workspace_sandbox.py): URLs, creating workspaces, loading, listing a workspace's
files on disk, parsing timestamps."""

import calendar
import os
import re
import time

from harness import ServerTestCase, uniq

WS_ID_RE = re.compile(r"^ws_[0-9a-f]{12}$")
PASSWORD_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

WS_FIELDS = {"id", "name", "project_id", "branch_id", "created_at", "expires_at", "size_limit_gb",
             "status", "connection"}
CREATE_FIELDS = WS_FIELDS | {"attached_tables"}
DETAIL_FIELDS = WS_FIELDS | {"size_bytes", "active_sessions", "workspace_objects", "attached_tables"}
CONNECTION_FIELDS = {"host", "port", "database", "username", "ssl_mode", "connection_string"}
LOADED_FIELDS = {"source", "destination", "rows", "size_bytes"}

UNKNOWN_WS = "ws_0123456789ab"


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def parse_ts(s):
    """RFC 3339 UTC timestamp (2026-11-26T10:00:00Z) -> seconds since the epoch."""
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def project_dir(data_dir, pid, branch=None):
    name = "project_%s" % pid if branch is None else "project_%s_branch_%s" % (pid, branch)
    return os.path.join(data_dir, name)


def ws_dir(data_dir, pid, branch=None):
    return os.path.join(project_dir(data_dir, pid, branch), "_workspaces")


def ws_db(data_dir, pid, ws_id, branch=None):
    """A workspace's database file: _workspaces/{id}/{id}.duckdb."""
    return os.path.join(ws_dir(data_dir, pid, branch), ws_id, ws_id + ".duckdb")


def ws_files(data_dir, pid, ws_id, branch=None):
    """Paths (relative to the _workspaces directory) of everything that belongs to ws_id:
    its directory {id}/ and what is in it ({id}.duckdb, its WAL, tmp/), its links
    directory {id}.tables/ and what is in it."""
    base = ws_dir(data_dir, pid, branch)
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return []
    out = []
    for n in names:
        if n != ws_id and not n.startswith(ws_id + "."):
            continue
        out.append(n)
        for d, dirs, files in os.walk(os.path.join(base, n)):
            out.extend(os.path.relpath(os.path.join(d, x), base) for x in dirs + files)
    return sorted(out)


def all_ws_files(data_dir):
    """Every path (relative to data_dir) under any _workspaces directory."""
    out = []
    for d, dirs, files in os.walk(data_dir):
        rel = os.path.relpath(d, data_dir)
        if "_workspaces" in rel.split(os.sep):
            out.extend(os.path.join(rel, n) for n in dirs + files)
    return sorted(out)


def grep_tree(root, needle):
    """Paths of the files under root whose bytes contain needle (bytes)."""
    hits = []
    for d, _, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


class WsTestCase(ServerTestCase):
    """ServerTestCase with one fresh project per test (self.pid, self.key) and workspace
    shortcuts. Every helper takes branch=None (main) or a branch id."""

    def setUp(self):
        super().setUp()
        self.pid, self.key = self.create_project(uniq("p"))

    # ---- URLs ------------------------------------------------------------------------

    def ws_url(self, ws_id=None, rest="", pid=None, branch=None):
        u = self.base(pid or self.pid, branch) + "/workspaces"
        if ws_id is not None:
            u += "/" + ws_id
        return u + rest

    # ---- calls -----------------------------------------------------------------------

    def create_ws(self, name=None, pid=None, branch=None, key=None, srv=None, **fields):
        body = {"name": name or uniq("ws")}
        body.update(fields)
        srv = srv or self.server
        kw = {} if key is None else {"key": key}
        return self.assertOk(srv.req("POST", self.ws_url(pid=pid, branch=branch), body=body, **kw), 201)

    def detail(self, ws_id, pid=None, branch=None, srv=None):
        srv = srv or self.server
        return self.assertOk(srv.req("GET", self.ws_url(ws_id, pid=pid, branch=branch)))

    def list_ws(self, pid=None, branch=None, query=""):
        return self.assertOk(self.req("GET", self.ws_url(pid=pid, branch=branch) + query))

    def load_req(self, ws_id, items, pid=None, branch=None, srv=None):
        srv = srv or self.server
        return srv.req("POST", self.ws_url(ws_id, "/load", pid=pid, branch=branch), body={"tables": items})

    def load(self, ws_id, items, pid=None, branch=None, srv=None):
        return self.assertOk(self.load_req(ws_id, items, pid=pid, branch=branch, srv=srv))

    def load_rows(self, ws_id, source, destination=None, where=None, columns=None, pid=None, branch=None):
        """Loads one table and returns the rows the server says it loaded."""
        item = {"source": source}
        if destination is not None:
            item["destination"] = destination
        if where is not None:
            item["where"] = where
        if columns is not None:
            item["columns"] = columns
        body = self.load(ws_id, [item], pid=pid, branch=branch)
        self.assertEqual(len(body["loaded"]), 1, body)
        return body["loaded"][0]["rows"]

    def objects(self, ws_id, pid=None, branch=None, srv=None):
        """workspace_objects of the detail as {name: rows}."""
        d = self.detail(ws_id, pid=pid, branch=branch, srv=srv)
        out = {}
        for o in d["workspace_objects"]:
            self.assertNotIn(o["name"], out, d["workspace_objects"])
            out[o["name"]] = o["rows"]
        return out

    def sales_table(self, pid=None, branch=None, bucket="sales", name="orders", rows=None):
        """Bucket in.c-{bucket} and table {name}(id, amount, name) with rows
        (default: ids 1..10, amount = id*10, name = 'n{id}'). Returns the table id."""
        pid = pid or self.pid
        if rows is None:
            rows = [(i, i * 10, "n%d" % i) for i in range(1, 11)]
        st, _, _ = self.req("GET", "%s/buckets/in.c-%s" % (self.base(pid, branch), bucket))
        if st != 200:
            self.create_bucket(pid, bucket, branch=branch)
        csv = "id,amount,name\n" + "".join("%d,%d,%s\n" % r for r in rows)
        return self.create_table_csv(pid, "in.c-" + bucket, name, csv, branch=branch)["id"]

    def assertWsError(self, resp, status, code):
        return self.assertError(resp, status, code)
