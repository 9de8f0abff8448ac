"""Two more analysts' clients with their default settings, on a real PostgreSQL 15
(OnPostgres, which proves each test right) and on a duckspace workspace (OnWorkspace),
shaped alike (compat_shape.py), with the same expectations:

- node-postgres 8 with pg-copy-streams (tests/integration/node/copy_roundtrip.js):
  COPY FROM STDIN in text format, COPY (query) TO STDOUT in csv with a header, a
  parameterised query. Installed by scripts/setup-deps.sh (npm ci, pinned lock file).
- R with RPostgreSQL (Debian's r-cran-rpostgresql): dbWriteTable, which loads a data
  frame with COPY ... FROM STDIN, dbReadTable and dbGetQuery.

A missing tool is a failure, never a skip: scripts/setup-deps.sh installs them.

Run: /usr/bin/python3 tests/integration/test_pg_node_r.py [-v] [Class.test_name]"""

import itertools
import json
import os
import shutil
import subprocess

import harness
from compat_shape import ShapedPostgres, ShapedWorkspace

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "node")
NODE = shutil.which("node") or "/usr/bin/node"
RSCRIPT = shutil.which("Rscript") or "/usr/bin/Rscript"

_names = itertools.count(1)

R_SCRIPT = r"""
suppressPackageStartupMessages(library(RPostgreSQL))
a <- commandArgs(trailingOnly = TRUE)
con <- dbConnect(PostgreSQL(), host = a[1], port = as.integer(a[2]), dbname = a[3], user = a[4], password = a[5])
df <- data.frame(id = 1:1000, name = sprintf("name %d\twith tab", 1:1000), amount = (1:1000) * 0.5,
                 day = as.Date("2026-11-01") + (0:999) %% 30, flag = (1:1000) %% 3 == 0, stringsAsFactors = FALSE)
df$name[c(7, 70)] <- NA
df$amount[5] <- NA
stopifnot(dbWriteTable(con, a[6], df, row.names = FALSE))
back <- dbReadTable(con, a[6])
back <- back[order(back$id), ]
agg <- dbGetQuery(con, sprintf("SELECT count(*) AS n, count(name) AS named, sum(amount) AS total, max(day) AS last_day, sum(CASE WHEN flag THEN 1 ELSE 0 END) AS flags FROM %s", a[6]))
cat(sprintf("rows=%d cols=%s\n", nrow(back), paste(names(back), collapse = ",")))
cat(sprintf("same=%s\n", isTRUE(all.equal(back$name, df$name)) && isTRUE(all.equal(back$amount, df$amount)) &&
            isTRUE(all.equal(as.Date(back$day), df$day)) && isTRUE(all.equal(back$flag, df$flag))))
cat(sprintf("agg=%d,%d,%.1f,%s,%d\n", as.integer(agg$n), as.integer(agg$named), agg$total, format(agg$last_day), as.integer(agg$flags)))
invisible(dbDisconnect(con))
"""


class ClientChecks:

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({"PGHOST": self.target.host, "PGPORT": str(self.target.port), "PGUSER": self.target.user,
                    "PGPASSWORD": self.target.password, "PGDATABASE": self.target.dbname, "PGSSLMODE": "disable"})
        return env

    def test_node_postgres_copy_both_ways(self):
        self.assertTrue(os.path.isdir(os.path.join(NODE_DIR, "node_modules", "pg-copy-streams")),
                        "node modules missing: run scripts/setup-deps.sh")
        table = "node_t%d" % next(_names)
        p = subprocess.run([NODE, os.path.join(NODE_DIR, "copy_roundtrip.js"), table, "20000"], env=self.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        got = json.loads(out)
        self.assertEqual(got["copy_in"], 20000, got)
        self.assertEqual(got["csv_header"], "id,name,amount,day", got)
        self.assertEqual(got["csv_first"], ["1,n\t1,1.25,2026-11-02", "2,n\t2,2.50,2026-11-03",
                                            "3,n\t3,3.75,2026-11-04"], got)
        self.assertEqual(got["csv_lines"], 20002, got)  # header, rows, and the empty string after the last \n
        self.assertEqual(got["query"], {"n": 20000, "total": "250012500.00", "named": 18000}, got)

    def test_r_rpostgresql_write_and_read_table(self):
        table = "r_t%d" % next(_names)
        t = self.target
        p = subprocess.run([RSCRIPT, "--vanilla", "-e", R_SCRIPT, t.host, str(t.port), t.dbname, t.user,
                            t.password, table], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode())
        lines = out.splitlines()
        self.assertEqual(lines[0], "rows=1000 cols=id,name,amount,day,flag", out)
        self.assertEqual(lines[1], "same=TRUE", out)
        # sum over 1..1000 of i/2, less the missing amount of row 5; 333 multiples of 3
        self.assertEqual(lines[2], "agg=1000,998,250247.5,2026-11-30,333", out)


class OnPostgres(ClientChecks, ShapedPostgres):
    SHAPE = ("workspace_nr", "nr_login", "nr-login-pw")


class OnWorkspace(ClientChecks, ShapedWorkspace):
    pass


if __name__ == "__main__":
    harness.main()
