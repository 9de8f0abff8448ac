"""Basics: health, OpenAPI, metrics, routing errors, command line, configuration, admin key."""

import json
import os
import re
import socket
import stat
import tempfile
import shutil
import unittest

import harness
from harness import Server, ServerTestCase, run_cli, free_port, port_answers, KEY_RE


class HttpBasics(ServerTestCase):

    def test_health_needs_no_auth_and_reports_status_and_version(self):
        st, body, hdrs = self.req("GET", "/health", key=None)
        self.assertEqual(st, 200, body)
        self.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
        self.assertEqual(body.get("status"), "ok", body)
        self.assertIsInstance(body.get("version"), str)
        self.assertTrue(body["version"].strip())

    def test_health_version_matches_cli_version(self):
        _, body, _ = self.req("GET", "/health", key=None)
        rc, out, err = run_cli(["--version"])
        self.assertEqual(rc, 0, err)
        self.assertIn(body["version"], out + err)

    def test_openapi_json_is_an_openapi3_document_with_paths(self):
        st, body, hdrs = self.req("GET", "/openapi.json")
        self.assertEqual(st, 200, body)
        self.assertIsInstance(body, dict, "not JSON: %r" % (body if isinstance(body, str) else "")[:200])
        self.assertIn("openapi", body)
        self.assertTrue(str(body["openapi"]).startswith("3"), body["openapi"])
        self.assertIsInstance(body.get("paths"), dict)
        self.assertTrue(body["paths"])
        # the documented paths include the ones of the contract
        joined = " ".join(body["paths"].keys())
        for frag in ("/health", "/projects", "/buckets", "/tables", "/preview", "/import", "/branches"):
            self.assertIn(frag, joined)

    def test_metrics_count_requests_by_route_method_and_status(self):
        pid, _ = self.create_project()
        for _ in range(3):
            self.assertOk(self.req("GET", "/health", key=None))
        self.assertOk(self.req("GET", "/projects/%s" % pid))
        self.req("GET", "/projects/%s" % pid, key=None)  # 401
        st, text, hdrs = self.req("GET", "/metrics", key=None)
        self.assertEqual(st, 200, text)
        self.assertIsInstance(text, str)
        self.assertTrue(hdrs.get("content-type", "").startswith("text/plain"), hdrs)
        self.assertIn("duckspace_http_requests_total", text)
        self.assertIn("duckspace_http_request_duration_seconds", text)

        def samples(metric):
            out = []
            for line in text.splitlines():
                m = re.match(r"^%s\{(.*)\}\s+([0-9.eE+-]+|\+Inf|NaN)\s*$" % re.escape(metric), line)
                if m:
                    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
                    out.append((labels, float(m.group(2))))
            return out

        reqs = samples("duckspace_http_requests_total")
        self.assertTrue(reqs, "no duckspace_http_requests_total samples:\n" + text[:3000])
        health = [v for l, v in reqs if l.get("route") == "/health" and l.get("method") == "GET"
                  and l.get("status") == "200"]
        self.assertEqual(len(health), 1, reqs)
        self.assertGreaterEqual(health[0], 3)
        # route is the pattern, not the concrete path
        proj = [l for l, v in reqs if l.get("method") == "GET" and l.get("status") == "200"
                and l.get("route", "").startswith("/projects/")]
        self.assertTrue(proj, reqs)
        for l in proj:
            self.assertNotIn(pid, l["route"].split("/"), l)
        self.assertTrue(any(l.get("route") == "/projects/{pid}" and l.get("status") == "401"
                            for l, _ in reqs), reqs)
        hist = [l for l, _ in samples("duckspace_http_request_duration_seconds_bucket")
                if l.get("route") == "/health"]
        self.assertTrue(hist, "no histogram buckets for /health")

    def test_keep_alive_connection_serves_several_requests(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=30)
        try:
            for path in ("/health", "/projects", "/health", "/nope"):
                conn.request("GET", path, headers={"Authorization": "Bearer " + self.server.admin_key})
                r = conn.getresponse()
                r.read()
                self.assertEqual(r.status, 404 if path == "/nope" else 200)
        finally:
            conn.close()

    def test_json_bodies_are_one_line_ending_in_a_newline(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=30)
        try:
            for path in ("/health", "/projects", "/nope"):
                conn.request("GET", path, headers={"Authorization": "Bearer " + self.server.admin_key})
                r = conn.getresponse()
                body = r.read()
                self.assertTrue(body.endswith(b"\n") and body.count(b"\n") == 1, body)
                self.assertIsInstance(json.loads(body), dict)
        finally:
            conn.close()

    def test_unknown_path_is_404_not_found(self):
        self.assertError(self.req("GET", "/no/such/path"), 404, "not_found")
        self.assertError(self.req("GET", "/projectsx"), 404, "not_found")

    def test_wrong_method_is_405_method_not_allowed(self):
        self.assertError(self.req("PUT", "/projects", {"name": "x"}), 405, "method_not_allowed")
        self.assertError(self.req("DELETE", "/health"), 405, "method_not_allowed")
        pid, _ = self.create_project()
        self.assertError(self.req("PATCH", "/projects/%s" % pid, {"name": "y"}), 405, "method_not_allowed")
        self.assertError(self.req("PUT", "/projects/%s/buckets" % pid, {}), 405, "method_not_allowed")

    def test_every_error_has_error_and_message(self):
        pid, _ = self.create_project()
        cases = [
            (self.req("GET", "/projects", key=None), 401, "unauthorized"),
            (self.req("GET", "/projects", key="dsk_" + "0" * 48), 401, "unauthorized"),
            (self.req("GET", "/projects/does-not-exist"), 404, "project_not_found"),
            (self.req("POST", "/projects", raw=b"{not json", content_type="application/json"),
             400, "invalid_request"),
            (self.req("POST", "/projects", {"id": pid, "name": "dup"}), 409, "project_exists"),
            (self.req("GET", "/nothing-here"), 404, "not_found"),
            (self.req("DELETE", "/projects"), 405, "method_not_allowed"),
        ]
        for resp, status, code in cases:
            with self.subTest(code=code):
                self.assertError(resp, status, code)


class CommandLine(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="duckspace-cli-")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def base_args(self, **over):
        args = {"--data-dir": os.path.join(self.tmp, "data"), "--http-port": str(free_port()),
                "--pg-port": str(free_port()), "--listen-address": "127.0.0.1",
                "--admin-key": harness.new_admin_key()}
        args.update(over)
        out = ["serve"]
        for k, v in args.items():
            if v is not None:
                out += [k, v]
        return out

    def test_help_lists_the_flags(self):
        rc, out, err = run_cli(["--help"])
        self.assertEqual(rc, 0, err)
        for flag in ("--data-dir", "--http-port", "--pg-port", "--listen-address", "--admin-key",
                     "--config", "--max-body-size", "--log-level"):
            self.assertIn(flag, out, "--help does not list %s:\n%s" % (flag, out))

    def test_every_flag_in_help_is_in_the_configuration_reference(self):
        rc, out, err = run_cli(["--help"])
        self.assertEqual(rc, 0, err)
        flags = set(re.findall(r"^\s+(--[a-z0-9-]+)\s+(DUCKSPACE_[A-Z0-9_]+)", out, re.M))
        self.assertGreater(len(flags), 20, out)
        doc_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "configuration.md")
        with open(doc_path) as f:
            doc = f.read()
        for flag, env in sorted(flags):
            with self.subTest(flag=flag):
                self.assertIn("`%s`" % flag, doc)
                self.assertIn("`%s`" % env, doc)
                self.assertIn("`%s`" % flag[2:].replace("-", "_"), doc)

    def test_version_prints_a_version(self):
        rc, out, err = run_cli(["--version"])
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.strip(), "no output from --version")

    def assertExit2OneLine(self, rc, out, err, what):
        self.assertEqual(rc, 2, "%s: exit %r\nstdout:%s\nstderr:%s" % (what, rc, out, err))
        lines = [l for l in err.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, "%s: stderr should be one line, got:\n%s" % (what, err))

    def test_bad_config_values_exit_2_with_one_line_on_stderr(self):
        cases = [
            ("http port not a number", self.base_args(**{"--http-port": "eighty"}), None),
            ("http port out of range", self.base_args(**{"--http-port": "70000"}), None),
            ("bad size unit", self.base_args(**{"--max-body-size": "12XB"}), None),
            ("bad log level", self.base_args(**{"--log-level": "chatty"}), None),
            ("bad env value", self.base_args(), {"DUCKSPACE_MAX_BODY_SIZE": "lots"}),
        ]
        cfg = os.path.join(self.tmp, "bad.conf")
        with open(cfg, "w") as f:
            f.write("# duckspace config\nhttp_port = not-a-port\n")
        cases.append(("bad config file value", self.base_args(**{"--config": cfg}), None))
        cfg2 = os.path.join(self.tmp, "unknown.conf")
        with open(cfg2, "w") as f:
            f.write("no_such_setting = 1\n")
        cases.append(("unknown config key", self.base_args(**{"--config": cfg2}), None))
        cases.append(("unknown flag", self.base_args() + ["--no-such-flag", "1"], None))
        cases.append(("flag without value", self.base_args() + ["--http-port"], None))
        for what, args, env in cases:
            with self.subTest(what):
                rc, out, err = run_cli(args, env=env)
                self.assertExit2OneLine(rc, out, err, what)

    def test_missing_config_file_exits_2(self):
        rc, out, err = run_cli(self.base_args(**{"--config": os.path.join(self.tmp, "nope.conf")}))
        self.assertExit2OneLine(rc, out, err, "missing config file")

    def test_http_port_in_use_exits_2(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        try:
            port = s.getsockname()[1]
            rc, out, err = run_cli(self.base_args(**{"--http-port": str(port)}))
            self.assertExit2OneLine(rc, out, err, "http port in use")
        finally:
            s.close()

    def test_unwritable_data_dir_exits_2(self):
        regular = os.path.join(self.tmp, "a-file")
        with open(regular, "w") as f:
            f.write("x")
        rc, out, err = run_cli(self.base_args(**{"--data-dir": os.path.join(regular, "data")}))
        self.assertExit2OneLine(rc, out, err, "data dir under a regular file")
        with open(regular) as f:
            self.assertEqual(f.read(), "x")

    def _serve(self, **kw):
        srv = Server(root=os.path.join(self.tmp, "srv%d" % len(self.servers)), **kw)
        os.makedirs(srv.root, exist_ok=True)
        self.servers.append(srv)
        return srv

    def _stop_ok(self, srv):
        rc = srv.stop()
        self.assertEqual(rc, 0, "exit code on SIGTERM %r\n%s" % (rc, srv.log_tail()))

    def test_config_precedence_flag_over_env_over_file(self):
        p_file, p_env, p_flag = free_port(), free_port(), free_port()
        while len({p_file, p_env, p_flag}) < 3:
            p_flag = free_port()
        cfg = os.path.join(self.tmp, "duckspace.conf")
        with open(cfg, "w") as f:
            f.write("# test config\n\nhttp_port = %d\n" % p_file)

        # config file only
        srv = self._serve(pass_ports=False, http_port=p_file,
                          extra_args=["--config", cfg, "--pg-port", str(free_port())])
        srv.start()
        self.assertTrue(port_answers(p_file))
        self._stop_ok(srv)

        # env beats config file
        srv = self._serve(pass_ports=False, http_port=p_env, env={"DUCKSPACE_HTTP_PORT": str(p_env)},
                          extra_args=["--config", cfg, "--pg-port", str(free_port())])
        srv.start()
        self.assertFalse(port_answers(p_file), "config file port answers although env overrides it")
        self._stop_ok(srv)

        # flag beats env and config file
        srv = self._serve(pass_ports=False, http_port=p_flag, env={"DUCKSPACE_HTTP_PORT": str(p_env)},
                          extra_args=["--config", cfg, "--http-port", str(p_flag),
                                      "--pg-port", str(free_port())])
        srv.start()
        self.assertFalse(port_answers(p_file), "config file port answers although a flag overrides it")
        self.assertFalse(port_answers(p_env), "env port answers although a flag overrides it")
        self._stop_ok(srv)

    def test_env_data_dir_is_used(self):
        data = os.path.join(self.tmp, "env-data")
        srv = self._serve(extra_args=[], catalog="")  # the DuckDB catalog: its file shows the data dir
        srv.data_dir = None  # do not pass --data-dir
        srv.command = lambda: [harness.BIN, "serve", "--listen-address", "127.0.0.1",
                               "--http-port", str(srv.http_port), "--pg-port", str(srv.pg_port),
                               "--admin-key", srv.admin_key]
        srv.env = {"DUCKSPACE_DATA_DIR": data}
        srv.start()
        st, body, _ = srv.req("POST", "/projects", {"id": "envdir", "name": "x"})
        self.assertEqual(st, 201, body)
        self.assertTrue(os.path.exists(os.path.join(data, "metadata.duckdb")),
                        os.listdir(data) if os.path.isdir(data) else "no data dir")
        self._stop_ok(srv)

    def test_generated_admin_key_is_stored_printed_once_and_kept(self):
        srv = self._serve(admin_key=None, extra_args=["--log-level", "debug"])
        srv.start()
        key_path = os.path.join(srv.data_dir, "admin.key")
        self.assertTrue(os.path.isfile(key_path), "no %s" % key_path)
        self.assertEqual(stat.S_IMODE(os.stat(key_path).st_mode), 0o600,
                         "admin.key mode %o" % stat.S_IMODE(os.stat(key_path).st_mode))
        with open(key_path) as f:
            key = f.read().strip()
        self.assertRegex(key, KEY_RE)
        # printed on stdout
        self.assertIn(key, srv.read_log("stdout"), srv.log_tail())

        # works as a Bearer key, and is the only key that does
        st, body, _ = srv.req("GET", "/projects", key=key)
        self.assertEqual(st, 200, body)
        st, body, _ = srv.req("GET", "/projects", key="dsk_" + "f" * 48)
        self.assertEqual(st, 401, body)
        st, body, _ = srv.req("POST", "/projects", {"id": "genkey", "name": "g"}, key=key)
        self.assertEqual(st, 201, body)
        pkey = body["api_key"]
        for path in ("/projects/genkey", "/projects/genkey/buckets", "/projects/nope"):
            srv.req("GET", path, key=key)
        srv.req("GET", "/projects/genkey", key=pkey)
        srv.req("GET", "/projects", key=pkey)  # 403
        srv.req("POST", "/projects/genkey/buckets", {"stage": "in", "name": "s"}, key=pkey)

        # restart: same key, kept in the file, not printed again
        self._stop_ok(srv)
        srv.start()
        with open(key_path) as f:
            self.assertEqual(f.read().strip(), key)
        st, body, _ = srv.req("GET", "/projects", key=key)
        self.assertEqual(st, 200, body)
        srv.req("GET", "/projects/genkey/buckets/in.c-s", key=pkey)
        self.assertNotIn(key, srv.read_log(since_run_start=True),
                         "admin key printed again on restart")
        self._stop_ok(srv)

        # the key appears exactly once in everything the server printed; the project key never
        log = srv.read_log()
        self.assertEqual(log.count(key), 1, "admin key appears %d times in the log" % log.count(key))
        self.assertNotIn(pkey, log, "project key appears in the log")
        self.assertNotIn(key[4:], log.replace(key, "", 1), "admin key (without prefix) in the log")

    def test_admin_key_file_is_read_and_never_stored_or_shown(self):
        key = harness.new_admin_key()
        key_file = os.path.join(self.tmp, "admin_key_secret")
        with open(key_file, "w") as f:
            f.write(key + "\n")
        srv = self._serve(admin_key=None, extra_args=["--admin-key-file", key_file])
        srv.start()
        st, body, _ = srv.req("GET", "/projects", key=key)
        self.assertEqual(st, 200, body)
        st, body, _ = srv.req("GET", "/projects", key=harness.new_admin_key())
        self.assertEqual(st, 401, body)
        self.assertFalse(os.path.exists(os.path.join(srv.data_dir, "admin.key")), "a key was generated")
        self._stop_ok(srv)
        self.assertNotIn(key[4:], srv.read_log(), "the key from the file appears in the log")
        # a missing or empty file is a configuration error, not a generated key
        empty = os.path.join(self.tmp, "empty_secret")
        open(empty, "w").close()
        for path, what in ((os.path.join(self.tmp, "missing"), "missing"), (empty, "empty")):
            with self.subTest(file=what):
                rc, out, err = run_cli(["serve", "--data-dir", os.path.join(self.tmp, "d-" + what),
                                        "--listen-address", "127.0.0.1", "--http-port", str(free_port()),
                                        "--pg-port", str(free_port()), "--admin-key-file", path])
                self.assertExit2OneLine(rc, out, err, "admin_key_file " + what)
                self.assertIn("admin_key_file", err)

    def test_given_admin_key_never_appears_in_the_log(self):
        srv = self._serve(extra_args=["--log-level", "debug"])
        srv.start()
        st, body, _ = srv.req("POST", "/projects", {"name": "n"})
        self.assertEqual(st, 201, body)
        srv.req("GET", "/projects/%s" % body["id"], key=body["api_key"])
        srv.req("GET", "/projects")
        self._stop_ok(srv)
        log = srv.read_log()
        self.assertNotIn(srv.admin_key, log)
        self.assertNotIn(body["api_key"], log)

    def test_listening_line_is_logged(self):
        srv = self._serve()
        srv.start()
        self.assertIn("listening on http://127.0.0.1:%d" % srv.http_port, srv.read_log(), srv.log_tail())
        self._stop_ok(srv)

    def test_metrics_off_does_not_serve_metrics(self):
        srv = self._serve(extra_args=["--metrics", "off"])
        srv.start()
        st, body, _ = srv.req("GET", "/metrics", key=None)
        self.assertEqual(st, 404, body)
        self.assertNotIn("duckspace_http_requests_total", str(body))
        self._stop_ok(srv)

    def test_sigint_exits_0(self):
        srv = self._serve()
        srv.start()
        import signal
        srv.proc.send_signal(signal.SIGINT)
        rc = srv.proc.wait(timeout=30)
        self.assertEqual(rc, 0, srv.log_tail())


if __name__ == "__main__":
    harness.main()
