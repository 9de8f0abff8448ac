#!/usr/bin/python3
"""Workspace benchmark: a project with TABLES tables (one DuckDB file each, ROWS rows),
then the time to create a workspace, to open its instance cold, and the resident
memory one open instance costs; side by side with in-process DuckDB attaching every
table file up front (what a workspace would cost without lazy attachment).

Usage: bench/workspace.sh [TABLES] [ROWS]     (defaults 1000 and 1000)
Targets (issue 3): create < 200 ms, cold open < 500 ms, < 100 MB per open instance."""

import ctypes, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("DUCKSPACE_BIN", os.path.join(REPO, "build", "duckspace"))
LIB = os.path.join(REPO, "third_party", "duckdb", "lib", "libduckdb.so")
TABLES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
KEY = "bench-admin-key"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    def __init__(self, data, *extra):
        self.port = free_port()
        self.log = open(os.path.join(data, "..", "server.log"), "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--data-dir", data, "--http-port", str(self.port),
                                      "--pg-port", str(free_port()), "--admin-key", KEY, *extra],
                                     stdout=self.log, stderr=self.log)
        for _ in range(200):
            try:
                self.req("GET", "/health")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start")

    def req(self, method, path, body=None, ctype="application/json"):
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        r = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=data, method=method,
                                   headers={"Authorization": "Bearer " + KEY, "Content-Type": ctype})
        with urllib.request.urlopen(r, timeout=600) as resp:
            text = resp.read()
            return json.loads(text) if text else None

    def rss_mb(self, pid=None):
        with open("/proc/%d/status" % (pid or self.proc.pid)) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024

    def workers(self):
        """pids of its worker processes (one per workspace in use)."""
        out = []
        for d in os.listdir("/proc"):
            try:
                with open("/proc/%s/stat" % d) as f:
                    if d.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                        out.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)
        self.log.close()


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def make_project(srv):
    srv.req("POST", "/projects", {"id": "bench", "name": "bench"})
    nb = max(1, TABLES // 100)
    for b in range(nb):
        srv.req("POST", "/projects/bench/buckets", {"stage": "in", "name": "b%d" % b})
    csv = ("id,amount,name\n" + "".join("%d,%d.5,n%d\n" % (i, i, i) for i in range(ROWS))).encode()
    todo = list(range(TABLES))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            srv.req("POST", "/projects/bench/buckets/in.c-b%d/tables?name=t%d" % (i % nb, i), csv, "text/csv")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def duckdb_attach_all(data):
    """In-process DuckDB: open a database and ATTACH every table file READ_ONLY."""
    files = []
    for root, _, names in os.walk(data):
        files += [os.path.join(root, n) for n in names if re.match(r"t\d+\.g\d+\.duckdb$", n)]
    code = r'''
import ctypes, sys, time, re
lib = ctypes.CDLL(sys.argv[1])
db = ctypes.c_void_p(); con = ctypes.c_void_p()
lib.duckdb_open(None, ctypes.byref(db)); lib.duckdb_connect(db, ctypes.byref(con))
class Res(ctypes.Structure): _fields_ = [("a", ctypes.c_byte * 64)]
files = sys.argv[2:]
t = time.perf_counter()
for i, f in enumerate(files):
    r = Res()
    lib.duckdb_query(con, ("ATTACH '%s' AS a%d (READ_ONLY)" % (f, i)).encode(), ctypes.byref(r))
    lib.duckdb_destroy_result(ctypes.byref(r))
ms = (time.perf_counter() - t) * 1000
rss = int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024
print(ms, rss)
'''
    base = subprocess.run(["/usr/bin/python3", "-c", code, LIB], capture_output=True, text=True, check=True)
    full = subprocess.run(["/usr/bin/python3", "-c", code, LIB, *files], capture_output=True, text=True, check=True)
    ms = float(full.stdout.split()[0])
    rss = float(full.stdout.split()[1]) - float(base.stdout.split()[1])
    return ms, rss, len(files)


def main():
    if not os.path.exists(BIN):
        subprocess.run([os.path.join(REPO, "scripts", "build.sh"), "-DCMAKE_BUILD_TYPE=Release"], check=True)
    root = tempfile.mkdtemp(prefix="duckspace-bench-ws-")
    data = os.path.join(root, "data")
    os.makedirs(data)
    try:
        srv = Server(data, "--workspaces-per-project", "100", "--workspace-idle-close", "0",
                     "--max-attached-tables", str(max(TABLES, 1000)))
        t0 = time.perf_counter()
        make_project(srv)
        print("project: %d tables of %d rows created in %.1f s" % (TABLES, ROWS, time.perf_counter() - t0))

        creates = []
        ids = []
        for i in range(7):
            ms, ws = timed(lambda: srv.req("POST", "/projects/bench/workspaces", {"name": "w%d" % i}))
            creates.append(ms)
            ids.append(ws["id"])
        # idle close 0: every call below opens the workspace cold (and lists 1000 attached
        # tables), once the worker of the call before has ended
        details = []
        for _ in range(7):
            deadline = time.monotonic() + 10
            while srv.workers() and time.monotonic() < deadline:
                time.sleep(0.05)
            details.append(timed(lambda: srv.req("GET", "/projects/bench/workspaces/" + ids[0]))[0])
        srv.stop()
        log = open(os.path.join(root, "server.log"), encoding="utf-8", errors="replace").read()
        opens = [float(m) for m in re.findall(r"instance opened in ([0-9.]+) ms", log)]
        # with worker processes: start of the process + the open in it (the server's view)
        starts = [float(m) for m in re.findall(r"worker started \(pid \d+\) in ([0-9.]+) ms", log)]

        # Memory: instances kept open; each reaches one project table.
        srv = Server(data, "--workspaces-per-project", "100", "--workspace-idle-close", "3600",
                     "--max-attached-tables", str(max(TABLES, 1000)))
        time.sleep(0.5)
        before = srv.rss_mb()
        n_open = 5
        for wid in ids[:n_open]:
            srv.req("POST", "/projects/bench/workspaces/%s/load" % wid,
                    {"tables": [{"source": "in.c-b0.t0", "destination": "copy"}]})
        per_instance = (srv.rss_mb() - before) / n_open
        workers = srv.workers()
        per_worker = statistics.median([srv.rss_mb(w) for w in workers]) if workers else 0
        srv.stop()

        dd_ms, dd_rss, nfiles = duckdb_attach_all(data)
        med = statistics.median
        print()
        print("%-52s %12s" % ("measure (median of 7)", "value"))
        print("%-52s %9.1f ms   (target < 200 ms)" % ("create workspace (POST .../workspaces)", med(creates)))
        print("%-52s %9.1f ms   (target < 500 ms)" % ("cold instance open (server log)", med(opens)))
        if starts:
            print("%-52s %9.1f ms   (target < 100 ms)" % ("cold worker start + open (server log)", med(starts)))
        print("%-52s %9.1f ms" % ("GET workspace detail, cold (open + %d tables listed)" % TABLES, med(details)))
        print("%-52s %9.1f MB   (target < 100 MB)" % ("server's resident memory per open workspace", per_instance))
        if workers:
            print("%-52s %9.1f MB" % ("resident memory of an idle worker (median of %d)" % len(workers), per_worker))
        print("%-52s %9.1f ms" % ("in-process DuckDB: ATTACH all %d table files" % nfiles, dd_ms))
        print("%-52s %9.1f MB" % ("in-process DuckDB: memory after attaching all", dd_rss))
        print("%-52s %9.1fx" % ("ratio: attach-all time / duckspace cold open", dd_ms / max(med(opens), 0.001)))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
