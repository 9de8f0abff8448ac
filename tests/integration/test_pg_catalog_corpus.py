"""The differential catalog suite: every statement that 12 real clients send while connecting
and browsing (data/client_corpus.json, a copy of shared/compat/corpus.json: psql 15, pgJDBC,
SQLAlchemy, psycopg 3, DBeaver, DataGrip, Metabase, pgcli, Npgsql, Grafana, pgAdmin, ADBC;
the capture is described in shared/compat/client-compat-notes.md), replayed against a real
PostgreSQL 15 and against a target shaped the same way (compat_shape.py).

For each statement, in the client's order on one connection per client and target:
  1. it runs on the target (same outcome class: a result, a command, or a COPY);
  2. it gives the same column names in the same order (a command: the same command tag);
  3. where the data is the same on both by construction, the same rows, after the explicit
     per-statement normalisation in CHECKS (only some columns, only rows about the shaped
     objects, values that are the target's own OIDs masked). Rows are compared as sets
     (sorted), values as psycopg2 parses them.
Statements that fail on PostgreSQL too are skipped (KNOWN_PG_FAILURES says which and why;
the suite fails if PostgreSQL fails any other).

What the replay substitutes, on each target from that target's own answers:
  - the literal OIDs of the capture, 16385 in_c_crm.orders, 16390 in_c_crm.orders_pkey,
    16392 public.big, 16397 public.v_big, by the target's OIDs looked up by name in
    pg_class/pg_namespace (a target without them cannot run those statements: they fail
    with that reason);
  - the logged parameters $n, inlined as string literals;
  - values the client takes from its connection or the user's choice: the database name
    in DBeaver's pg_database query, Grafana's picked table 'public.games' -> 'public.big',
    ADBC's 'clubs' -> 'in_c_crm.orders' (the capture's tables do not exist here);
  - in results, the target's database name and login name become <db> and <user>.

Classes:
  CorpusOnPostgres   the suite against a second database of the same PostgreSQL (other
                     OIDs, other database and login names): proves the normalisation.
  CorpusOnWorkspace  the suite against a duckspace workspace. Fails until the SQL front end
                     and the catalogs of issue 8 land; each subTest says which statement
                     and why.

Run: /usr/bin/python3 tests/integration/test_pg_catalog_corpus.py [-v] [Class.test_name]
Environment: COMPAT_CORPUS overrides the corpus path."""

import collections
import io
import json
import os
import re
import struct
import sys
import unittest

import psycopg2

import harness
from compat_shape import Target, shape_postgres, shape_workspace  # noqa: F401
from pghelpers import PgTestCase
from pgref import PgReference

CORPUS = os.environ.get("COMPAT_CORPUS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                                                      "client_corpus.json"))

REF_DB, REF_USER, REF_PASSWORD = "reference_db", "reference_user", "reference-login-pw"

# Statements PostgreSQL 15 itself refuses with the shape above (skipped on every target).
KNOWN_PG_FAILURES = {
    39: "psql \\sf add1: the capture's function add1 is not part of the shape (42883)",
    107: "psycopg 3: SELECT $1 with a binary parameter the server log did not record (42P02)",
    110: "psycopg 3 executemany: parameters $3, $4 were binary and not logged (42P02)",
    141: "DBeaver: c.relnamespace='public' is invalid on PostgreSQL too (22P02)",
}

# capture OID -> (schema, relation) whose OID replaces it on each target
CAPTURE_OIDS = {"16385": ("in_c_crm", "orders"), "16390": ("in_c_crm", "orders_pkey"),
                "16392": ("public", "big"), "16397": ("public", "v_big")}

# corpus index -> [(text that must be there, replacement)]; "{db}" is the target's database
SUBSTITUTIONS = {
    133: [("datname='postgres'", "datname='{db}'")],
    154: [("'public.games'", "'public.big'")],
    170: [("'clubs'::regclass", "'in_c_crm.orders'::regclass")],
}

# Data for COPY ... FROM STDIN statements.
COPY_IN = {
    114: b"1\tx\n2\ty\n",
    117: (b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
          + struct.pack("!hi", 2, 4) + struct.pack("!i", 1) + struct.pack("!i", 1) + b"x"
          + struct.pack("!hi", 2, 4) + struct.pack("!i", 2) + struct.pack("!i", 1) + b"y"
          + struct.pack("!h", -1)),
}

SHAPED_SCHEMAS = ("in_c_crm", "public")
# Types both systems have; pg_type rows of these must be PostgreSQL 15's.
CORE_TYPES = ("bool", "bytea", "char", "name", "int8", "int2", "int4", "text", "oid", "json", "float4", "float8",
              "varchar", "bpchar", "date", "time", "timestamp", "timestamptz", "interval", "numeric", "uuid")
CORE_AND_ARRAYS = CORE_TYPES + tuple("_" + t for t in CORE_TYPES)


def pg_major(v):
    m = re.match(r"PostgreSQL (\d+)\.\d+", v or "")
    return "PostgreSQL %s" % m.group(1) if m else v


class Check:
    """What is compared for one corpus statement beyond 'runs, same column names'.

    snippet: text the statement must contain (guards against a changed corpus).
    rows: compare rows (False: shape only; `why` says why the data differs by nature).
    cols: the columns compared (names, or indexes where a name repeats); None = all.
    where: keep only the rows for which where(row as {column: value}) is true.
    mask: columns whose non-NULL values become '<x>' (the target's own OIDs and sizes).
    norm: {column: function} applied to values before comparing."""

    def __init__(self, snippet, rows=True, cols=None, where=None, mask=(), norm=None, why=""):
        self.snippet, self.rows, self.cols, self.where = snippet, rows, cols, where
        self.mask, self.norm, self.why = tuple(mask), dict(norm or {}), why


def shape_only(snippet, why):
    return Check(snippet, rows=False, why=why)


def in_shaped(col):
    return lambda r: r[col] in SHAPED_SCHEMAS


def not_pg_internal_schema(col):
    return lambda r: not str(r[col]).startswith(("pg_temp", "pg_toast"))


def is_db(col):
    return lambda r: r[col] == "<db>"


def core_type(col, names=CORE_TYPES):
    return lambda r: r[col] in names


REL_FLAGS = ["relchecks", "relkind", "relhasindex", "relispartition"]
ATT_COLS = ["attname", "format_type", "pg_get_expr", "attnotnull", "attcollation", "attidentity", "attgenerated"]
OWNER_WHY = "owner names differ by nature (superuser vs login)"

CHECKS = {
    # ---- psql 15 ----
    0: Check("pg_catalog.pg_database d", cols=["Name", "Encoding"], where=is_db("Name"),
             why="only the connected database is the same; locale and ACLs are server settings"),
    1: Check("pg_get_userbyid(n.nspowner)", cols=["Name"], why=OWNER_WHY),
    2: Check("ORDER BY 1,2", cols=["Schema", "Name", "Type"], why=OWNER_WHY),  # \dt
    3: Check("'^(in_c_crm)$'", cols=["Schema", "Name", "Type"], why=OWNER_WHY),  # \dt in_c_crm.*
    4: Check("c.relkind IN ('r','p','v','m','S','f','')", cols=["Schema", "Name", "Type"], why=OWNER_WHY),  # \d
    5: Check("c.relkind IN ('v','')", cols=["Schema", "Name", "Type"], why=OWNER_WHY),  # \dv
    6: Check("c.relkind IN ('i','I','')", cols=["Schema", "Name", "Type", "Table"], why=OWNER_WHY),  # \di
    7: Check("c.relkind IN ('S','')", cols=["Schema", "Name", "Type"], why=OWNER_WHY),  # \ds
    8: Check("pg_get_function_result(p.oid)"),  # \df: no user functions on either
    9: Check("format_type(t.oid, NULL) AS \"Name\""),  # \dT: no user types on either
    10: Check("r.rolname, r.rolsuper", cols=["rolname", "rolsuper", "rolcanlogin"],
              where=lambda r: r["rolname"] == "<user>", why="only the login role exists on both"),
    11: shape_only("pg_extension", "plpgsql and other extensions exist only in PostgreSQL"),
    12: Check("'^(orders)$'", mask=["oid"]),
    13: Check("c.relchecks", cols=REL_FLAGS, why="storage details (tablespace, replica identity, am) are PG's"),
    14: Check("pg_catalog.format_type(a.atttypid, a.atttypmod)", cols=ATT_COLS, why="storage details"),
    15: Check("pg_get_indexdef(i.indexrelid, 0, true)",
              cols=["relname", "indisprimary", "indisunique", "indisclustered", "indisvalid", "pg_get_indexdef",
                    "pg_get_constraintdef", "contype", "condeferrable", "condeferred", "indisreplident"]),
    16: Check("pg_catalog.pg_policy pol"),
    17: Check("pg_catalog.pg_statistic_ext"),
    18: Check("pg_catalog.pg_publication p"),
    19: Check("i.inhrelid ="),
    20: Check("i.inhparent ="),
    21: Check("c.relchecks", cols=REL_FLAGS, why="storage details"),
    22: Check("col_description", cols=ATT_COLS + ["col_description"], why="attstorage, attcompression, stats"),
    23: Check("'^(big)$'", mask=["oid"]),
    24: Check("c.relchecks", cols=REL_FLAGS, why="storage details"),
    25: Check("pg_catalog.format_type(a.atttypid, a.atttypmod)", cols=ATT_COLS, why="storage details"),
    26: Check("pg_get_indexdef(i.indexrelid, 0, true)",
              cols=["relname", "indisprimary", "indisunique", "indisclustered", "indisvalid", "pg_get_indexdef",
                    "pg_get_constraintdef", "contype", "condeferrable", "condeferred", "indisreplident"]),
    27: Check("pg_catalog.pg_policy pol"),
    28: Check("pg_catalog.pg_statistic_ext"),
    29: Check("pg_catalog.pg_publication p"),
    30: Check("i.inhrelid ="),
    31: Check("i.inhparent ="),
    32: Check("c.relchecks", cols=REL_FLAGS, why="storage details"),
    33: Check("col_description", cols=ATT_COLS + ["col_description"], why="attstorage, attcompression, stats"),
    34: Check("'^(v_big)$'", mask=["oid"]),
    35: Check("c.relchecks", cols=REL_FLAGS, why="storage details"),
    36: Check("pg_catalog.format_type(a.atttypid, a.atttypmod)", cols=ATT_COLS, why="storage details"),
    37: Check("pg_table_size", cols=["Schema", "Name", "Type", "Persistence", "Description"],
              why="owner, access method and size differ by nature"),
    38: Check("nspacl", cols=["Name"], why="owners, ACLs and PostgreSQL's own schema comments"),
    39: shape_only("regproc", "skipped: fails on PostgreSQL"),
    40: shape_only("pg_get_functiondef", "the literal function OID 16402 is the capture's, meaningless here"),
    41: Check("'^(in_c_crm)$'", mask=["oid"]),
    42: Check("c.relchecks", cols=REL_FLAGS, why="storage details"),
    43: Check("is_key"),
    44: Check("indnullsnotdistinct"),
    # ---- pgJDBC 42.5 ----
    45: Check("TABLE_SCHEM"),  # getSchemas
    46: Check("nspname LIKE 'in%'"),  # getSchemas(pattern)
    47: Check("AS TABLE_TYPE"),  # getTables(all)
    48: Check("AS TABLE_TYPE"),  # getTables(in_c_crm)
    49: Check("row_number() OVER (PARTITION BY a.attrelid"),  # getColumns
    50: Check("PK_NAME"),  # getPrimaryKeys
    51: Check("max_index_keys"),
    52: Check("PKTABLE_CAT"),
    53: Check("PKTABLE_CAT"),
    54: Check("INDEX_QUALIFIER", mask=["cardinality", "pages"], why="index statistics"),
    55: Check("SELECT t.typname,t.oid", where=core_type("typname"),
              why="PostgreSQL 15's OIDs of the types both systems have; the rest is PG's"),
    56: Check("typinput='pg_catalog.array_in'::regproc", where=core_type("typname", CORE_AND_ARRAYS),
              why="core types and their arrays"),
    57: Check("FUNCTION_CAT"),
    58: Check("PROCEDURE_CAT"),
    59: shape_only("type_cat", "a table's composite row type is a PostgreSQL-only object"),
    60: Check("c.relacl", cols=["nspname", "relname"], why=OWNER_WHY),
    61: Check("_pg_expandarray(i.indkey) AS keys"),
    62: Check("SELECT * FROM in_c_crm.orders"),
    63: Check("a.attidentity != ''", cols=[1, 2, 3, 4, 5, 6], why="the table OID is the target's"),
    64: Check("$1::int + 1"),
    65: Check("$1::timestamp"),
    # ---- SQLAlchemy 1.4 + psycopg2 ----
    66: Check("BEGIN"),
    67: Check("typname = 'hstore'"),
    68: Check("ROLLBACK"),
    69: Check("pg_catalog.version()", norm={"version": pg_major}),
    70: Check("current_schema()"),
    71: shape_only("transaction isolation", "an isolation level is the engine's own"),
    72: Check("standard_conforming_strings"),
    73: Check("NOT LIKE 'pg_%'"),
    74: Check("n.nspname = 'public' AND c.relkind in ('r', 'p')"),
    75: Check("n.nspname = 'in_c_crm' AND c.relkind in ('r', 'p')"),
    76: Check("c.relkind IN ('v', 'm')"),
    77: Check("relname='orders'"),
    78: Check("c.relname = 'orders'", mask=["oid"]),
    79: Check("identity_options", mask=["table_oid"]),
    80: shape_only("format_type(t.typbasetype, t.typtypmod)", "information_schema's domains are PostgreSQL's"),
    81: Check("e.enumlabel"),
    82: Check("generate_subscripts(ix.indkey, 1)"),
    83: Check("r.contype = 'p'"),
    84: Check("r.contype = 'f'"),
    85: Check("ix.indkey::varchar"),
    86: Check("cons.contype = 'u'"),
    87: Check("cons.contype = 'c'"),
    88: Check("table_comment"),
    89: Check("in_c_crm.orders.ordered_on"),
    # ---- psycopg 3 ----
    **{i: Check("SELECT $1 AS v") for i in range(90, 107)},
    107: shape_only("SELECT $1 AS v", "skipped: fails on PostgreSQL"),
    108: Check("t3"),
    109: Check("INSERT INTO t3"),
    110: shape_only("INSERT INTO t3", "skipped: fails on PostgreSQL"),
    111: Check("TO STDOUT"),
    112: Check("(FORMAT BINARY)"),
    113: Check("t4"),
    114: Check("COPY t4"),
    115: Check("count(*) FROM t4"),
    116: Check("t5"),
    117: Check("COPY t5"),
    118: Check("count(*) FROM t5"),
    119: Check("BEGIN"),
    120: Check("DECLARE"),
    121: Check("FETCH FORWARD 10"),
    122: Check("CLOSE"),
    123: Check("COMMIT"),
    124: Check("oid::regtype::text"),
    # ---- DBeaver 25.1 ----
    125: Check("extra_float_digits"),
    126: Check("application_name"),
    127: Check("application_name"),
    128: Check("current_schema(),session_user"),
    129: Check("n.oid,n.*", cols=["nspname"], where=not_pg_internal_schema("nspname"),
              why="OIDs, owners, ACLs, PostgreSQL's comments; temp/toast schemas are PG's"),
    130: Check("t.oid = 1034"),
    131: Check("typinput='pg_catalog.array_in'::regproc"),
    132: Check("SHOW search_path"),
    133: Check("db.oid,db.*", cols=["datname"], why="the database's settings and ACLs are the server's"),
    134: Check("standard_conforming_strings", cols=["name", "setting"]),
    135: Check("pg_get_keywords()"),
    136: Check("SELECT version()", norm={"version": pg_major}),
    137: Check("pg_enum WHERE 1<>1"),
    138: Check("pg_class WHERE 1<>1"),
    139: Check("format_type(nullif(t.typbasetype, 0), t.typtypmod)",
              cols=[0, "typname", "typlen", "typtype", "typcategory", "typelem", "typarray", "typbasetype",
                    "typtypmod", "relkind", "base_type_name"], where=core_type("typname"),
              why="PostgreSQL 15's pg_type rows of the core types"),
    140: shape_only("c.relnamespace=11", "pg_catalog's own tables are PostgreSQL's"),
    141: shape_only("c.relnamespace='public'", "skipped: fails on PostgreSQL"),
    142: Check("index_num_scans"),
    143: Check("consrc_copy"),
    # ---- Metabase 0.55 ----
    144: Check("extra_float_digits"),
    145: Check("application_name"),
    146: shape_only("TRANSACTION ISOLATION", "an isolation level is the engine's own"),
    147: Check("READ UNCOMMITTED"),
    148: Check("\"TABLE_SCHEM\""),
    149: Check("table_privileges"),
    150: Check("estimated_row_count", mask=["estimated_row_count"], why="statistics"),
    151: Check("READ COMMITTED"),
    152: shape_only("show timezone", "the default time zone is the server's"),
    # ---- Grafana ----
    153: Check("timescaledb_information"),
    154: Check("information_schema.columns"),
    # ---- pgAdmin 4 ----
    155: Check("SELECT version()", norm={"version": pg_major}),
    156: Check("extname='bdr'"),
    # ---- pgcli ----
    157: Check("SELECT 1"),
    158: shape_only("show time zone", "the default time zone is the server's"),
    159: Check("set time zone"),
    160: Check("unnest(current_schemas(true))"),
    161: Check("SELECT nspname FROM pg_catalog.pg_namespace ORDER BY 1", where=not_pg_internal_schema("nspname")),
    162: Check("ANY('{r,p,f}')", where=in_shaped("schema_name"), why="pg_catalog's tables are PG's"),
    163: Check("att.atttypid::regtype::text", where=in_shaped("schema_name")),
    164: Check("parentschema"),
    165: Check("ANY('{v,m}')", where=in_shaped("schema_name")),
    166: Check("att.atttypid::regtype::text", where=in_shaped("schema_name")),
    167: Check("type_name"),
    168: Check("SELECT d.datname", where=is_db("datname"), why="only the connected database is the same"),
    169: Check("proallargtypes::regtype[]", where=in_shaped("schema_name"), why="PG's own functions"),
    # ---- ADBC ----
    170: Check("attr.attnum >= 0"),
    # ---- Npgsql 8 ----
    171: Check("SELECT version()", norm={"version": pg_major}),
    172: Check("elemtypoid", where=core_type("typname"), why="PostgreSQL 15's types both have"),
    173: Check("composite types"),
    174: Check("enum fields"),
    # ---- DataGrip 2025.2 ----
    175: Check("extra_float_digits"),
    176: Check("application_name"),
    177: Check("select version()", norm={"version": pg_major}),
    178: Check("application_name"),
    179: Check("current_schemas(false) as b"),
    180: shape_only("TRANSACTION ISOLATION", "an isolation level is the engine's own"),
    181: Check("current_database(), current_schema(), current_user"),
}


def load_corpus():
    with open(CORPUS, encoding="utf-8") as f:
        return json.load(f)


# ---- running one statement ----------------------------------------------------------------

class Outcome:
    """kind: 'rows' (columns, rows), 'command' (tag), 'copy' (tag, data), 'error' (sqlstate, message)."""

    def __init__(self, kind, columns=None, rows=None, tag=None, data=None, sqlstate=None, message=None):
        self.kind, self.columns, self.rows, self.tag = kind, columns, rows, tag
        self.data, self.sqlstate, self.message = data, sqlstate, message

    def __repr__(self):
        if self.kind == "error":
            return "error %s: %s" % (self.sqlstate, self.message)
        if self.kind == "rows":
            return "%d row(s) %r" % (len(self.rows), self.columns)
        return "%s %r" % (self.kind, self.tag)


def _value(v):
    if isinstance(v, memoryview):
        return bytes(v)
    return v


def execute(conn, sql, copy_in=None):
    try:
        with conn.cursor() as cur:
            if re.match(r"\s*COPY\b", sql, re.I):
                buf = io.BytesIO(copy_in or b"")
                cur.copy_expert(sql, buf)
                data = buf.getvalue() if copy_in is None else None
                return Outcome("copy", tag=cur.statusmessage, data=data)
            cur.execute(sql)
            if cur.description is None:
                return Outcome("command", tag=cur.statusmessage)
            rows = [tuple(_value(v) for v in r) for r in cur.fetchall()]
            return Outcome("rows", columns=[d.name for d in cur.description], rows=rows)
    except psycopg2.Error as e:
        msg = (getattr(e.diag, "message_primary", None) or str(e)).strip().splitlines()
        return Outcome("error", sqlstate=e.pgcode, message=msg[0] if msg else repr(e))


def lookup_oids(target):
    """{capture OID: the target's OID as text or None} looked up by name."""
    out = {}
    conn = target.connect()
    try:
        for capture, (nsp, rel) in CAPTURE_OIDS.items():
            o = execute(conn, "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                              "ON n.oid = c.relnamespace WHERE n.nspname = '%s' AND c.relname = '%s'" % (nsp, rel))
            out[capture] = str(o.rows[0][0]) if o.kind == "rows" and len(o.rows) == 1 else None
    finally:
        conn.close()
    return out


def prepare(i, stmt, target, oids):
    """(sql, None) or (None, why it cannot be replayed on this target)."""
    sql = stmt["sql"]
    for old, new in SUBSTITUTIONS.get(i, []):
        assert old in sql, "corpus statement %d no longer contains %r" % (i, old)
        sql = sql.replace(old, new.replace("{db}", target.dbname))
    oid_re = re.compile(r"\b(%s)\b" % "|".join(CAPTURE_OIDS))
    for capture in sorted(set(oid_re.findall(sql))):
        if oids.get(capture) is None:
            return None, "%s.%s not found in pg_class/pg_namespace (needed for the OID %s)" % (
                CAPTURE_OIDS[capture] + (capture,))
    sql = oid_re.sub(lambda m: oids[m.group(1)], sql)  # all at once: a new OID may equal another old one
    params = stmt.get("params") or {}
    for k in sorted(params, key=len, reverse=True):
        sql = sql.replace(k, "'" + params[k].replace("'", "''") + "'")
    return sql, None


def replay(target, corpus, indexes):
    """{index: Outcome} for the statements `indexes` (one client), in order, on one connection."""
    oids = lookup_oids(target)
    conn = target.connect()
    out = {}
    try:
        for i in indexes:
            sql, why = prepare(i, corpus[i], target, oids)
            out[i] = Outcome("error", sqlstate=None, message=why) if sql is None else \
                execute(conn, sql, COPY_IN.get(i))
    finally:
        try:
            conn.close()
        except psycopg2.Error:
            pass
    return out


# ---- normalising and comparing ----------------------------------------------------------------

def placeholders(v, target):
    if isinstance(v, str):
        if v == target.dbname:
            return "<db>"
        if v == target.user:
            return "<user>"
    return v


def project(check, outcome, target):
    """The comparable rows of a 'rows' outcome, sorted; or COPY data lines."""
    if outcome.kind == "copy":
        if outcome.data is None:
            return outcome.tag
        if outcome.data.startswith(b"PGCOPY"):
            return outcome.data
        return sorted(outcome.data.split(b"\n"))
    cols = outcome.columns
    first = {}
    for n, c in enumerate(cols):
        first.setdefault(c, n)
    want = range(len(cols)) if check.cols is None else [c if isinstance(c, int) else first[c] for c in check.cols]
    out = []
    for r in outcome.rows:
        r = [placeholders(v, target) for v in r]
        for n, c in enumerate(cols):
            if c in check.norm:
                r[n] = check.norm[c](r[n])
            if c in check.mask and r[n] is not None:
                r[n] = "<x>"
        if check.where is not None and not check.where({c: r[first[c]] for c in first}):
            continue
        out.append(tuple(r[n] for n in want))
    return sorted(out, key=repr)


def compare(check, want, got, want_target, got_target):
    """None when `got` matches `want` for this check, else (stage, message)."""
    if got.kind == "error":
        return "runs", "does not run: %s %s" % (got.sqlstate or "", got.message)
    if got.kind != want.kind:
        return "runs", "PostgreSQL gives a %s, the target a %s" % (want.kind, got.kind)
    if want.kind == "rows" and got.columns != want.columns:
        return "columns", "column names %r, PostgreSQL's %r" % (got.columns, want.columns)
    if want.kind in ("command", "copy") and got.tag != want.tag:
        return "columns", "command tag %r, PostgreSQL's %r" % (got.tag, want.tag)
    if not check.rows or want.kind == "command":
        return None
    try:
        w, g = project(check, want, want_target), project(check, got, got_target)
    except KeyError as e:
        return "rows", "column %s missing" % e
    if w != g:
        missing = [r for r in w if r not in g][:5]
        extra = [r for r in g if r not in w][:5]
        return "rows", "rows differ (%d vs PostgreSQL's %d); missing %r; unexpected %r" % (
            len(g) if isinstance(g, list) else 1, len(w) if isinstance(w, list) else 1, missing, extra)
    return None


# ---- the tests ------------------------------------------------------------------------------------

CLIENTS = collections.OrderedDict([
    ("psql", "psql 15.18"), ("pgjdbc", "pgJDBC 42.5.5"), ("sqlalchemy", "SQLAlchemy 1.4.46 + psycopg2 2.9.5"),
    ("psycopg3", "psycopg 3.1.7"), ("dbeaver", "DBeaver 25.1 (via pgJDBC)"), ("metabase", "Metabase 0.55"),
    ("grafana", "Grafana"), ("pgadmin", "pgAdmin 4"), ("pgcli", "pgcli"), ("adbc", "ADBC PostgreSQL driver"),
    ("npgsql", "Npgsql 8 (Power BI, .NET)"), ("datagrip", "DataGrip 2025.2 (via pgJDBC)"),
])


class CorpusChecks:
    """Test methods shared by both targets. The class sets cls.reference (a PostgreSQL Target)
    and, in setUp, self.target."""

    corpus = None
    reference = None
    ref_outcomes = None
    summary = None

    @classmethod
    def prepare_reference(cls, ref):
        cls.corpus = load_corpus()
        cls.summary = []
        cls.reference = shape_postgres(ref, REF_DB, REF_USER, REF_PASSWORD)
        cls.ref_outcomes = {}
        for client in CLIENTS.values():
            cls.ref_outcomes.update(replay(cls.reference, cls.corpus, cls.indexes(client)))

    @classmethod
    def indexes(cls, client):
        return [i for i, s in enumerate(cls.corpus) if s["client"] == client]

    @classmethod
    def print_summary(cls):
        if cls.summary:
            sys.stderr.write("\n%s: per client and action (runs / same columns / same rows of those "
                             "compared)\n" % cls.__name__)
            for line in cls.summary:
                sys.stderr.write("  " + line + "\n")

    def test_corpus_is_the_one_the_checks_were_written_for(self):
        self.assertEqual(sorted(CHECKS), list(range(len(self.corpus))), "every statement needs a Check")
        self.assertEqual(sorted(CLIENTS.values()), sorted({s["client"] for s in self.corpus}))
        for i, s in enumerate(self.corpus):
            self.assertIn(" ".join(CHECKS[i].snippet.split()), " ".join(s["sql"].split()),
                          "corpus statement %d changed" % i)

    def test_postgresql_fails_only_the_known_statements(self):
        failed = {i: o for i, o in self.ref_outcomes.items() if o.kind == "error"}
        self.assertEqual(sorted(failed), sorted(KNOWN_PG_FAILURES),
                         "PostgreSQL's failures: %r" % {i: repr(o) for i, o in failed.items()})

    def check_client(self, key):
        client = CLIENTS[key]
        idx = self.indexes(client)
        got = replay(self.target, self.corpus, idx)
        per_action = collections.OrderedDict()
        for i in idx:
            stmt = self.corpus[i]
            stats = per_action.setdefault(stmt["action"], collections.Counter())
            stats["statements"] += 1
            if i in KNOWN_PG_FAILURES:
                stats["skipped"] += 1
                continue
            check = CHECKS[i]
            bad = compare(check, self.ref_outcomes[i], got[i], self.reference, self.target)
            stage = bad[0] if bad else None
            stats["runs"] += stage != "runs"
            stats["columns"] += stage not in ("runs", "columns")
            if check.rows and self.ref_outcomes[i].kind != "command":
                stats["rows compared"] += 1
                stats["rows"] += stage is None
            with self.subTest(statement=i, action=stmt["action"]):
                if bad:
                    self.fail("[%s] %s\n  sql: %s" % (stage, bad[1], " ".join(stmt["sql"].split())[:300]))
        for action, s in per_action.items():
            type(self).summary.append("%-34s %-36s %2d stmts: runs %2d, columns %2d, rows %2d/%2d%s" % (
                client[:34], action[:36], s["statements"], s["runs"], s["columns"], s["rows"], s["rows compared"],
                ", skipped %d" % s["skipped"] if s["skipped"] else "")
                )

    def test_psql(self):
        self.check_client("psql")

    def test_pgjdbc(self):
        self.check_client("pgjdbc")

    def test_sqlalchemy(self):
        self.check_client("sqlalchemy")

    def test_psycopg3(self):
        self.check_client("psycopg3")

    def test_dbeaver(self):
        self.check_client("dbeaver")

    def test_metabase(self):
        self.check_client("metabase")

    def test_grafana(self):
        self.check_client("grafana")

    def test_pgadmin(self):
        self.check_client("pgadmin")

    def test_pgcli(self):
        self.check_client("pgcli")

    def test_adbc(self):
        self.check_client("adbc")

    def test_npgsql(self):
        self.check_client("npgsql")

    def test_datagrip(self):
        self.check_client("datagrip")


class CorpusOnPostgres(CorpusChecks, unittest.TestCase):
    """The suite against another database of the same PostgreSQL 15, with its own login, so
    that OIDs, database and user names differ: every check must pass here."""

    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.ref = PgReference()
        try:
            cls.ref.start()
            cls.prepare_reference(cls.ref)
            cls.target = shape_postgres(cls.ref, "workspace_other", "other_login", "other-login-pw")
        except Exception:
            cls.ref.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.print_summary()
        cls.ref.stop()


class CorpusOnWorkspace(CorpusChecks, PgTestCase):
    """The suite against a duckspace workspace shaped like the reference."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ref = PgReference()
        cls.target = None
        try:
            cls.ref.start()
            cls.prepare_reference(cls.ref)
        except Exception:
            cls.ref.stop()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.print_summary()
        try:
            cls.ref.stop()
        finally:
            super().tearDownClass()

    def setUp(self):
        super().setUp()
        if type(self).target is None:
            type(self).target = shape_workspace(self)
        self.target = type(self).target


if __name__ == "__main__":
    harness.main()
