#!/usr/bin/python3
"""Prints PostgreSQL 15's own pg_type rows (base and pseudo types of pg_catalog and the
array types of those) and the pg_proc rows of their I/O functions as SQL VALUES lists,
for src/pgexec/compat/catalog.sql. Starts a throwaway PostgreSQL 15 cluster with the
test suite's tests/integration/pgref.py (as user postgres when run as root).

    /usr/bin/python3 src/pgexec/compat/gen_pg_rows.py > /tmp/rows.sql
then paste the two lists over the ones in catalog.sql (between the GENERATED markers)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../tests/integration"))
from pgref import PgReference  # noqa: E402

TYPES = """SELECT t.oid, t.typname, t.typlen, t.typbyval, t.typtype, t.typcategory, t.typispreferred,
    t.typdelim, t.typrelid, t.typelem, t.typarray, t.typinput::oid, t.typoutput::oid, t.typreceive::oid,
    t.typsend::oid, t.typmodin::oid, t.typmodout::oid, t.typalign, t.typstorage, t.typnotnull, t.typbasetype,
    t.typtypmod, t.typndims, t.typcollation, format_type(t.oid, NULL)
  FROM pg_type t WHERE t.typnamespace = 11 AND t.typtype IN ('b', 'p')
   AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typtype = 'c') ORDER BY t.oid"""
PROCS = """SELECT DISTINCT p.oid, p.proname, p.pronargs, p.prorettype
  FROM pg_type t JOIN pg_proc p ON p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend, t.typmodin, t.typmodout)
  WHERE t.typnamespace = 11 AND t.typtype IN ('b', 'p') ORDER BY p.oid"""


def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def values(cur, sql):
    cur.execute(sql)
    return ",\n".join("(" + ", ".join(lit(v) for v in r) + ")" for r in cur.fetchall())


pg = PgReference()
pg.start()
try:
    con = pg.connect()
    cur = con.cursor()
    cur.execute("SELECT version()")
    print("-- from: " + cur.fetchone()[0])
    print("-- pg_type\n" + values(cur, TYPES))
    print("-- pg_proc\n" + values(cur, PROCS))
finally:
    pg.stop()
