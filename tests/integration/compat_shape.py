"""The shape that the PostgreSQL client-compatibility tests (test_pg_catalog_corpus.py,
test_pg_clients.py) browse, built the same way on a real PostgreSQL 15 (pgref.py) and on a
duckspace workspace, and a Target: how a client connects to one of them.

The shape (the one ../shared/compat/ captured the clients against):
  - a project table: schema in_c_crm, table orders(id bigint PRIMARY KEY, customer varchar,
    amount double precision, ordered_on date) with ORDERS_ROWS, readable but not writable by
    the login. On duckspace: bucket in.c-crm (schema in_c_crm), the table defined through
    REST with a primary key and its rows imported from CSV. On PostgreSQL: the schema and
    table owned by the superuser, USAGE and SELECT granted to the login (a workspace user
    cannot write project tables or create objects in a bucket schema either).
  - the search path "$user", public, in_c_crm: a workspace resolves unqualified names
    through its own schema, then the bucket schemas.
  - in the workspace's own schema (public), created by the login over the wire:
    table big(id bigint, customer varchar, amount numeric(12,2)), view v_big and index
    big_idx (WORKSPACE_DDL). On PostgreSQL the login owns the database, so public is its.

Every expected value in the tests comes from this file or from PostgreSQL's answers,
never from duckspace's output."""

import datetime
import os
import re
import unittest
from decimal import Decimal

import psycopg2

from pghelpers import PgTestCase
from pgref import PgReference

ORDERS_COLUMNS = [("id", "bigint"), ("customer", "character varying"), ("amount", "double precision"),
                  ("ordered_on", "date")]
ORDERS_ROWS = [(1, "alice", 19.9, datetime.date(2026, 11, 1)),
               (2, "bob", 5.5, datetime.date(2026, 11, 2)),
               (3, "carol", 100.0, datetime.date(2026, 11, 3))]
ORDERS_CSV = "id,customer,amount,ordered_on\n" + "".join(
    "%d,%s,%r,%s\n" % (i, c, a, d.isoformat()) for i, c, a, d in ORDERS_ROWS)

BIG_COLUMNS = [("id", "bigint"), ("customer", "character varying"), ("amount", "numeric(12,2)")]
BIG_ROWS = [(1, "a", Decimal("1.50")), (2, "b", Decimal("2.25"))]
V_BIG_COLUMNS = [("id", "bigint"), ("amount", "numeric(12,2)")]
WORKSPACE_DDL = [
    "CREATE TABLE big (id bigint, customer varchar, amount numeric(12,2))",
    "INSERT INTO big VALUES (1, 'a', 1.50), (2, 'b', 2.25)",
    "CREATE VIEW v_big AS SELECT id, amount FROM big WHERE amount > 1",
    "CREATE INDEX big_idx ON big (customer)",
]

PSQLODBC = os.environ.get("PSQLODBC_DRIVER", "/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so")


class Target:
    """Where a client connects: kind 'postgres' or 'duckspace', and the login."""

    def __init__(self, kind, host, port, dbname, user, password):
        self.kind, self.host, self.port = kind, host, port
        # The role that owns what the login may only read (the project's tables, the bucket
        # schemas): the cluster's bootstrap superuser on PostgreSQL; duckspace's system role
        # "duckspace" (oid 10, as PostgreSQL's) in a workspace.
        self.system_role = "postgres" if kind == "postgres" else "duckspace"
        self.dbname, self.user, self.password = dbname, user, password

    def __repr__(self):
        return "<%s %s@%s:%d/%s>" % (self.kind, self.user, self.host, self.port, self.dbname)

    def dsn(self, **over):
        d = {"host": self.host, "port": self.port, "dbname": self.dbname, "user": self.user,
             "password": self.password, "sslmode": "disable", "connect_timeout": 10}
        d.update(over)
        return d

    def connect(self, autocommit=True):
        conn = psycopg2.connect(**self.dsn())
        conn.autocommit = autocommit
        return conn

    def psql_command(self, psql="psql"):
        """(argv prefix, environment) for psql as a user runs it: -X (no ~/.psqlrc), no prompt."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({"PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10", "PGSSLMODE": "disable"})
        conninfo = "host=%s port=%d dbname=%s user=%s" % (self.host, self.port, self.dbname, self.user)
        return [psql, "-X", "-w", "-d", conninfo], env

    def jdbc_url(self, **props):
        props.setdefault("sslmode", "disable")
        return "jdbc:postgresql://%s:%d/%s?%s" % (self.host, self.port, self.dbname,
                                                  "&".join("%s=%s" % kv for kv in props.items()))

    def sqlalchemy_url(self):
        from urllib.parse import quote
        return "postgresql+psycopg2://%s:%s@%s:%d/%s?sslmode=disable" % (
            quote(self.user, safe=""), quote(self.password, safe=""), self.host, self.port, self.dbname)

    def odbc_connstr(self, **opts):
        """DSN-less psqlODBC connection string (Driver= the .so path, no odbcinst.ini needed)."""
        parts = {"Driver": PSQLODBC, "Server": self.host, "Port": str(self.port), "Database": self.dbname,
                 "Uid": self.user, "Pwd": self.password, "SSLmode": "disable"}
        parts.update(opts)
        return ";".join("%s={%s}" % (k, v) if k in ("Pwd", "Driver") else "%s=%s" % (k, v)
                        for k, v in parts.items()) + ";"


def _ident(s):
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", s):
        raise ValueError("not a plain identifier: %r" % s)
    return s


def shape_postgres(ref, dbname, user, password):
    """A database `dbname` in the running PgReference `ref`, owned by a new login role `user`,
    shaped as the module docstring says. Returns its Target."""
    dbname, user = _ident(dbname), _ident(user)
    admin = ref.connect()
    try:
        with admin.cursor() as cur:
            cur.execute("CREATE ROLE %s LOGIN PASSWORD %%s" % user, (password,))
            cur.execute("CREATE DATABASE %s OWNER %s" % (dbname, user))
            # A workspace resolves unqualified names through its own schema and then every
            # bucket schema (user-guide "What a session sees"): the same search path here, so
            # visibility (pg_table_is_visible, current_schemas, psql's \dt) is compared alike.
            cur.execute('ALTER DATABASE %s SET search_path = "$user", public, in_c_crm' % dbname)
    finally:
        admin.close()
    su = ref.connect(dbname)
    try:
        with su.cursor() as cur:
            cur.execute("CREATE SCHEMA in_c_crm")
            cur.execute("CREATE TABLE in_c_crm.orders (id bigint PRIMARY KEY, customer varchar, "
                        "amount double precision, ordered_on date)")
            cur.executemany("INSERT INTO in_c_crm.orders VALUES (%s, %s, %s, %s)", ORDERS_ROWS)
            cur.execute("GRANT USAGE ON SCHEMA in_c_crm TO %s" % user)
            cur.execute("GRANT SELECT ON in_c_crm.orders TO %s" % user)
    finally:
        su.close()
    t = Target("postgres", "127.0.0.1", ref.port, dbname, user, password)
    conn = t.connect()
    try:
        with conn.cursor() as cur:
            for sql in WORKSPACE_DDL:
                cur.execute(sql)
    finally:
        conn.close()
    return t


def shape_workspace(case):
    """The same shape in a duckspace project (case: a PgTestCase in its test, self.pid its
    project): bucket in.c-crm, table orders defined through REST and imported from CSV, a
    workspace, and WORKSPACE_DDL run by the workspace login. Returns its Target."""
    bucket = case.create_bucket(case.pid, "crm")
    case.assertEqual(bucket, "in.c-crm")
    t = case.create_table_json(case.pid, bucket, "orders",
                               [("id", "bigint"), ("customer", "varchar"), ("amount", "double"),
                                ("ordered_on", "date")], primary_key=["id"])
    case.assertEqual(t["schema"], "in_c_crm", t)
    case.assertEqual([(c["name"], c["type"]) for c in t["columns"]],
                     [("id", "BIGINT"), ("customer", "VARCHAR"), ("amount", "DOUBLE"), ("ordered_on", "DATE")], t)
    case.assertEqual(t["primary_key"], ["id"], t)
    case.import_csv(case.pid, t["id"], ORDERS_CSV)
    case.assertEqual(len(case.rows(case.pid, t["id"])), len(ORDERS_ROWS))
    ws = case.make_ws()
    c = ws["connection"]
    target = Target("duckspace", "127.0.0.1", case.server.pg_port, c["database"], c["username"], c["password"])
    conn = target.connect()
    try:
        with conn.cursor() as cur:
            for sql in WORKSPACE_DDL:
                cur.execute(sql)
    finally:
        conn.close()
    return target


class ShapedPostgres(unittest.TestCase):
    """Base of a test class whose tests run against a real PostgreSQL 15 shaped as above
    (one cluster per class): self.target. SHAPE names the database, login and password."""

    SHAPE = ("workspace_pg", "analyst_login", "analyst-login-pw")

    @classmethod
    def setUpClass(cls):
        cls.ref = PgReference()
        try:
            cls.ref.start()
            cls.shared_target = shape_postgres(cls.ref, *cls.SHAPE)
        except Exception:
            cls.ref.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.ref.stop()

    def setUp(self):
        self.target = self.shared_target


class ShapedWorkspace(PgTestCase):
    """Base of a test class whose tests run against a duckspace workspace shaped the same
    way (made by the first test of the class): self.target."""

    shared_target = None

    def setUp(self):
        super().setUp()
        if type(self).shared_target is None:
            type(self).shared_target = shape_workspace(self)
        self.target = self.shared_target
