"""A real PostgreSQL 15 server for the tests, as the reference for what a client should
see: a throwaway cluster (initdb in a temp dir, SCRAM-SHA-256 over TCP on 127.0.0.1, a
free port), started by the test that needs it and removed afterwards.

PostgreSQL refuses to run as root; as root (CI), initdb and pg_ctl run as the 'postgres'
user that Debian's postgresql package creates. PG_BINDIR overrides the binaries' folder
(default /usr/lib/postgresql/15/bin)."""

import os
import secrets
import shutil
import subprocess
import tempfile

import psycopg2

from harness import free_port

PG_BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
PASSWORD = "reference-password"


class PgReferenceError(Exception):
    pass


class PgReference:
    """One PostgreSQL 15 cluster. start() then connect(); stop() removes it.
    pause() / resume() stop and start the same cluster on the same port, keeping its data
    (an outage seen by the clients)."""

    password = PASSWORD

    def __init__(self, max_connections=None, extra_opts=""):
        for tool in ("initdb", "pg_ctl"):
            if not os.access(os.path.join(PG_BINDIR, tool), os.X_OK):
                raise PgReferenceError("PostgreSQL 15 not found in %s (scripts/setup-deps.sh installs it)" % PG_BINDIR)
        self.root = tempfile.mkdtemp(prefix="duckspace-pgref-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = None
        self.started = False
        self.running = False
        self.max_connections = max_connections
        self.extra_opts = extra_opts  # more server options, e.g. "-c max_prepared_transactions=4"
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_pg:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args):
        p = subprocess.run(self.as_pg + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            raise PgReferenceError("%s failed: %s" % (os.path.basename(args[0]), p.stdout.decode(errors="replace")))

    def start(self):
        pwfile = os.path.join(self.root, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        if self.as_pg:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(os.path.join(PG_BINDIR, "initdb"), "-D", self.data, "-U", "postgres", "--pwfile", pwfile,
                  "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8")
        for attempt in range(3):
            self.port = free_port()
            try:
                self._pg_ctl_start()
                self.started = True
                return self
            except PgReferenceError:
                with open(self.log, errors="replace") as f:
                    if attempt < 2 and "Address already in use" in f.read():
                        continue
                raise

    def _pg_ctl_start(self):
        opts = "-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off" % (
            self.port, self.root)
        if self.max_connections:
            opts += " -c max_connections=%d" % self.max_connections
        if self.extra_opts:
            opts += " " + self.extra_opts
        self._run(os.path.join(PG_BINDIR, "pg_ctl"), "-D", self.data, "-l", self.log, "-o", opts,
                  "-w", "-t", "60", "start")
        self.running = True

    def pause(self, mode="fast"):
        """Stops the server (pg_ctl stop -m mode: every client connection is closed), keeping
        the cluster for resume()."""
        self._run(os.path.join(PG_BINDIR, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def resume(self):
        """Starts the paused cluster again on the same port."""
        self._pg_ctl_start()

    def url(self, dbname="postgres"):
        """A libpq URL without the password (give it as PGPASSWORD)."""
        return "postgresql://postgres@127.0.0.1:%d/%s?sslmode=disable" % (self.port, dbname)

    def conninfo(self, dbname="postgres"):
        """A libpq key=value conninfo without the password."""
        return "host=127.0.0.1 port=%d dbname=%s user=postgres sslmode=disable" % (self.port, dbname)

    def create_database(self, name=None):
        """CREATE DATABASE name (default ds_<random hex>); returns the name."""
        name = name or "ds_" + secrets.token_hex(6)
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute('CREATE DATABASE "%s"' % name.replace('"', '""'))
        finally:
            conn.close()
        return name

    def dsn(self, dbname="postgres"):
        return {"host": "127.0.0.1", "port": self.port, "dbname": dbname, "user": "postgres",
                "password": PASSWORD, "sslmode": "disable", "connect_timeout": 10}

    def connect(self, dbname="postgres", autocommit=True):
        conn = psycopg2.connect(**self.dsn(dbname))
        conn.autocommit = autocommit
        return conn

    def stop(self):
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self._run(os.path.join(PG_BINDIR, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            self.started = False
            self.running = False
            shutil.rmtree(self.root, ignore_errors=True)
