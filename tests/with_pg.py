"""Runs one command against a throwaway PostgreSQL 15 database.

Usage: /usr/bin/python3 tests/with_pg.py [--url] -- CMD ARGS...

Starts a private cluster (tests/integration/pgref.py: initdb in a temp dir, SCRAM over
TCP on 127.0.0.1, a free port; as root the server runs as user postgres), creates a
database, runs CMD with
  DS_TEST_CATALOG_URL  a libpq key=value conninfo of that database (--url: a
                       postgresql:// URL instead), without the password
  PGPASSWORD           the password
and exits with CMD's exit code after removing the cluster (also on SIGTERM / SIGINT).
For the C unit test of the catalog on PostgreSQL (ctest unit_test_catalog_pg)."""

import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))

from pgref import PgReference  # noqa: E402


def main(argv):
    use_url = False
    args = list(argv)
    while args and args[0] != "--":
        if args[0] == "--url":
            use_url = True
            args.pop(0)
        else:
            sys.stderr.write("with_pg.py: unknown option %s\n%s" % (args[0], __doc__))
            return 2
    if not args or len(args) < 2:
        sys.stderr.write("with_pg.py: no command\n%s" % __doc__)
        return 2
    cmd = args[1:]
    ref = PgReference()
    child = [None]

    def on_signal(signum, frame):
        if child[0] is not None and child[0].poll() is None:
            child[0].send_signal(signum)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        ref.start()
        db = ref.create_database()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["DS_TEST_CATALOG_URL"] = ref.url(db) if use_url else ref.conninfo(db)
        env["PGPASSWORD"] = ref.password
        sys.stderr.write("with_pg.py: PostgreSQL on port %d, database %s\n" % (ref.port, db))
        sys.stderr.flush()
        child[0] = subprocess.Popen(cmd, env=env)
        rc = child[0].wait()
        return 128 - rc if rc < 0 else rc  # killed by a signal: 128 + its number, as a shell says
    finally:
        if child[0] is not None and child[0].poll() is None:
            child[0].kill()
            child[0].wait()
        ref.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
