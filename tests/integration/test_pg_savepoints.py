"""SAVEPOINT, RELEASE and ROLLBACK TO SAVEPOINT as clients use them, on a real PostgreSQL 15
(SavepointsOnPostgres, which proves each test right) and on a duckspace workspace
(SavepointsOnWorkspace), shaped alike (compat_shape.py).

DuckDB has no savepoints, and a statement that fails while running aborts its whole
transaction (src/pgexec/savepoint.c has the measurements). The executor emulates them for
the patterns clients use: psqlODBC's savepoint around each statement (Tableau, Power BI,
Excel), a nested block that fails or is rolled back at the start of a transaction
(asyncpg's and SQLAlchemy's nested transactions), nested blocks that succeed. Where a
workspace cannot do what PostgreSQL does (undo part of a transaction that wrote before
the savepoint), it fails loudly and keeps nothing: WorkspaceOnly checks that.

Run: /usr/bin/python3 tests/integration/test_pg_savepoints.py [-v] [Class.test_name]"""

import asyncio
import itertools
import os

import psycopg
import psycopg2
import psycopg2.errors

import harness
from compat_shape import ShapedPostgres, ShapedWorkspace

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

_names = itertools.count(1)


class SavepointChecks:
    """Each test makes its own table in the login's schema and compares what is kept."""

    def table(self):
        name = "sp_t%d" % next(_names)
        conn = self.target.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE %s (id int PRIMARY KEY, note varchar)" % name)
        finally:
            conn.close()
        return name

    def kept(self, table):
        conn = self.target.connect()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM %s ORDER BY id" % table)
                return [r[0] for r in cur.fetchall()]
        finally:
            conn.close()

    def script(self, steps):
        """Runs (sql, expected sqlstate or None) steps on one psycopg2 connection in
        autocommit mode (the statements carry their own BEGIN/COMMIT); returns the tags."""
        conn = self.target.connect()
        tags = []
        try:
            with conn.cursor() as cur:
                for sql, state in steps:
                    if state is None:
                        cur.execute(sql)
                        tags.append(cur.statusmessage)
                    else:
                        with self.assertRaises(psycopg2.Error, msg=sql) as cm:
                            cur.execute(sql)
                        self.assertEqual(cm.exception.pgcode, state, "%s: %s" % (sql, cm.exception))
                        tags.append(state)
        finally:
            conn.close()
        return tags

    # ---- the protocol's answers ----

    def test_tags_of_savepoint_release_and_rollback_to(self):
        t = self.table()
        tags = self.script([("BEGIN", None), ("SAVEPOINT a", None), ("INSERT INTO %s VALUES (1, 'x')" % t, None),
                            ("SAVEPOINT \"B b\"", None), ("RELEASE SAVEPOINT \"B b\"", None),
                            ("SAVEPOINT c", None), ("ROLLBACK TO SAVEPOINT c", None), ("RELEASE a", None),
                            ("COMMIT", None)])
        self.assertEqual(tags, ["BEGIN", "SAVEPOINT", "INSERT 0 1", "SAVEPOINT", "RELEASE", "SAVEPOINT", "ROLLBACK",
                                "RELEASE", "COMMIT"])
        self.assertEqual(self.kept(t), [1])

    def test_errors_outside_a_block_and_for_unknown_names(self):
        self.script([("SAVEPOINT a", "25P01"), ("RELEASE a", "25P01"), ("ROLLBACK TO a", "25P01"),
                     ("BEGIN", None), ("SAVEPOINT a", None), ("RELEASE nosuch", "3B001"), ("ROLLBACK", None),
                     ("BEGIN", None), ("ROLLBACK TO nosuch", "3B001"), ("ROLLBACK", None),
                     # a released savepoint is gone, and so are the ones after it
                     ("BEGIN", None), ("SAVEPOINT a", None), ("SAVEPOINT b", None), ("RELEASE a", None),
                     ("ROLLBACK TO b", "3B001"), ("ROLLBACK", None)])

    def test_a_failed_block_takes_only_rollback_to(self):
        t = self.table()
        self.script([("BEGIN", None), ("SAVEPOINT a", None), ("SELECT nosuch FROM %s" % t, "42703"),
                     ("RELEASE a", "25P02"), ("SELECT 1", "25P02"), ("ROLLBACK TO a", None), ("SELECT 1", None),
                     ("COMMIT", None)])

    def test_same_name_twice_uses_the_latest(self):
        t = self.table()
        self.script([("BEGIN", None), ("SAVEPOINT a", None), ("SAVEPOINT a", None), ("RELEASE a", None),
                     ("ROLLBACK TO a", None), ("RELEASE a", None), ("ROLLBACK TO a", "3B001"), ("ROLLBACK", None)])
        self.assertEqual(self.kept(t), [])

    # ---- the patterns clients use ----

    def test_statement_that_fails_to_bind_is_rolled_back_to_its_savepoint(self):
        # psqlODBC / psql ON_ERROR_ROLLBACK: a savepoint before each statement; a misspelt
        # column fails; the transaction goes on with what was written before.
        t = self.table()
        self.script([("BEGIN", None), ("INSERT INTO %s VALUES (1, 'a')" % t, None), ("SAVEPOINT s", None),
                     ("SELECT nosuch FROM %s" % t, "42703"), ("ROLLBACK TO SAVEPOINT s", None),
                     ("RELEASE s", None), ("SAVEPOINT s", None), ("INSERT INTO %s VALUES (2, 'b')" % t, None),
                     ("RELEASE s", None), ("COMMIT", None)])
        self.assertEqual(self.kept(t), [1, 2])

    def test_nested_block_that_fails_at_the_start_of_a_transaction(self):
        t = self.table()
        self.script([("BEGIN", None), ("SAVEPOINT n", None), ("INSERT INTO %s VALUES (1, 'a')" % t, None),
                     ("INSERT INTO %s VALUES (1, 'dup')" % t, "23505"), ("ROLLBACK TO SAVEPOINT n", None),
                     ("INSERT INTO %s VALUES (5, 'e')" % t, None), ("COMMIT", None)])
        self.assertEqual(self.kept(t), [5])

    def test_nested_block_rolled_back_on_purpose(self):
        t = self.table()
        self.script([("BEGIN", None), ("SAVEPOINT n", None), ("INSERT INTO %s VALUES (1, 'a')" % t, None),
                     ("ROLLBACK TO n", None), ("INSERT INTO %s VALUES (2, 'b')" % t, None), ("COMMIT", None)])
        self.assertEqual(self.kept(t), [2])

    def test_nested_blocks_that_succeed(self):
        t = self.table()
        self.script([("BEGIN", None), ("INSERT INTO %s VALUES (1, 'a')" % t, None), ("SAVEPOINT n1", None),
                     ("INSERT INTO %s VALUES (2, 'b')" % t, None), ("SAVEPOINT n2", None),
                     ("UPDATE %s SET note = 'c' WHERE id = 2" % t, None), ("RELEASE n2", None), ("RELEASE n1", None),
                     ("COMMIT", None)])
        self.assertEqual(self.kept(t), [1, 2])

    def test_copy_from_inside_a_nested_block(self):
        # rows loaded with COPY FROM STDIN after a savepoint go with ROLLBACK TO it
        import io
        t = self.table()
        conn = self.target.connect()
        self.addCleanup(conn.close)
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SAVEPOINT s")
            cur.copy_expert("COPY %s FROM STDIN" % t, io.StringIO("1\ta\n2\tb\n"))
            cur.execute("ROLLBACK TO s")
            cur.copy_expert("COPY %s FROM STDIN" % t, io.StringIO("3\tc\n"))
            cur.execute("COMMIT")
        self.assertEqual(self.kept(t), [3])

    def test_extended_protocol(self):
        # psycopg 3 sends every statement with Parse/Bind/Execute; its nested transaction()
        # blocks are savepoints.
        t = self.table()
        with psycopg.connect(**self.target.dsn()) as conn:
            with conn.transaction():
                with self.assertRaises(psycopg.errors.UndefinedColumn):
                    with conn.transaction():
                        conn.execute("SELECT nosuch FROM %s" % t)
                conn.execute("INSERT INTO %s VALUES (%%s, %%s)" % t, (1, "a"))
                with conn.transaction():
                    conn.execute("INSERT INTO %s VALUES (%%s, %%s)" % t, (2, "b"))
        self.assertEqual(self.kept(t), [1, 2])

    def test_psqlodbc_statement_level_rollback(self):
        # pyodbc's default is autocommit off; psqlODBC's default wraps each statement of the
        # transaction in a savepoint and rolls back to it when the statement fails.
        import pyodbc
        t = self.table()
        conn = pyodbc.connect(self.target.odbc_connstr(), timeout=10)
        self.addCleanup(conn.close)
        cur = conn.cursor()
        self.assertEqual(cur.execute("SELECT count(*) FROM %s" % t).fetchone()[0], 0)
        with self.assertRaises(pyodbc.Error) as cm:
            cur.execute("SELECT nosuch FROM %s" % t)
        self.assertIn("nosuch", str(cm.exception))
        self.assertNotIn("SAVEPOINT", str(cm.exception).upper())
        self.assertEqual(cur.execute("SELECT count(*) FROM %s" % t).fetchone()[0], 0)
        cur.execute("INSERT INTO %s VALUES (1, 'a')" % t)
        cur.execute("INSERT INTO %s VALUES (2, 'b')" % t)
        conn.commit()
        self.assertEqual(self.kept(t), [1, 2])

    def test_asyncpg_nested_transactions(self):
        import asyncpg
        t = self.table()

        async def run():
            conn = await asyncpg.connect(host=self.target.host, port=self.target.port, user=self.target.user,
                                         password=self.target.password, database=self.target.dbname, ssl=False)
            try:
                async with conn.transaction():
                    with self.assertRaises(asyncpg.exceptions.UniqueViolationError):
                        async with conn.transaction():
                            await conn.execute("INSERT INTO %s VALUES ($1, $2)" % t, 1, "a")
                            await conn.execute("INSERT INTO %s VALUES ($1, $2)" % t, 1, "again")
                    await conn.execute("INSERT INTO %s VALUES ($1, $2)" % t, 3, "c")
                    async with conn.transaction():
                        await conn.execute("INSERT INTO %s VALUES ($1, $2)" % t, 4, "d")
            finally:
                await conn.close()

        asyncio.run(run())
        self.assertEqual(self.kept(t), [3, 4])

    def test_sqlalchemy_begin_nested(self):
        import sqlalchemy
        t = self.table()
        eng = sqlalchemy.create_engine(self.target.sqlalchemy_url())
        self.addCleanup(eng.dispose)
        with eng.connect() as conn:
            tx = conn.begin()
            nested = conn.begin_nested()
            conn.execute(sqlalchemy.text("INSERT INTO %s VALUES (1, 'a')" % t))
            nested.rollback()
            conn.execute(sqlalchemy.text("INSERT INTO %s VALUES (2, 'b')" % t))
            nested = conn.begin_nested()
            conn.execute(sqlalchemy.text("INSERT INTO %s VALUES (3, 'c')" % t))
            nested.commit()
            tx.commit()
        self.assertEqual(self.kept(t), [2, 3])


class SavepointsOnPostgres(SavepointChecks, ShapedPostgres):
    SHAPE = ("workspace_sp", "sp_login", "sp-login-pw")


class SavepointsOnWorkspace(SavepointChecks, ShapedWorkspace):
    # ---- where a workspace cannot do what PostgreSQL does: loudly, keeping nothing ----

    def test_partial_rollback_after_writes_fails_loudly(self):
        # PostgreSQL would keep row 1 and drop row 2. DuckDB cannot undo part of a
        # transaction: the ROLLBACK TO fails with 0A000, the transaction stays failed,
        # and COMMIT rolls it all back. Nothing is kept that the client did not mean to.
        t = self.table()
        tags = self.script([("BEGIN", None), ("INSERT INTO %s VALUES (1, 'a')" % t, None), ("SAVEPOINT s", None),
                            ("INSERT INTO %s VALUES (2, 'b')" % t, None), ("ROLLBACK TO s", "0A000"),
                            ("SELECT 1", "25P02"), ("COMMIT", None)])
        self.assertEqual(tags[-1], "ROLLBACK")
        self.assertEqual(self.kept(t), [])

    def test_runtime_failure_after_writes_fails_loudly(self):
        t = self.table()
        conn = self.target.connect()
        self.addCleanup(conn.close)
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO %s VALUES (1, 'a')" % t)
            cur.execute("SAVEPOINT s")
            with self.assertRaises(psycopg2.errors.UniqueViolation):
                cur.execute("INSERT INTO %s VALUES (1, 'dup')" % t)
            with self.assertRaises(psycopg2.errors.FeatureNotSupported) as cm:
                cur.execute("ROLLBACK TO SAVEPOINT s")
            self.assertIn('savepoint "s"', str(cm.exception))
            self.assertIn("roll back the whole transaction", str(cm.exception))
            cur.execute("ROLLBACK")
        self.assertEqual(self.kept(t), [])

    def test_copy_after_writes_cannot_be_rolled_back_to(self):
        import io
        t = self.table()
        conn = self.target.connect()
        self.addCleanup(conn.close)
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO %s VALUES (1, 'a')" % t)
            cur.execute("SAVEPOINT s")
            cur.copy_expert("COPY %s FROM STDIN" % t, io.StringIO("2\tb\n"))
            with self.assertRaises(psycopg2.errors.FeatureNotSupported):
                cur.execute("ROLLBACK TO s")
            cur.execute("ROLLBACK")
        self.assertEqual(self.kept(t), [])

    def test_open_cursor_survives_a_restarting_rollback_to(self):
        # ROLLBACK TO a savepoint set before any write restarts DuckDB's transaction; a
        # cursor declared before the savepoint keeps its rows.
        t = self.table()
        conn = self.target.connect()
        self.addCleanup(conn.close)
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("DECLARE c CURSOR FOR SELECT i FROM range(5) r(i)")
            cur.execute("FETCH 2 FROM c")
            self.assertEqual(cur.fetchall(), [(0,), (1,)])
            cur.execute("SAVEPOINT s")
            cur.execute("INSERT INTO %s VALUES (1, 'a')" % t)
            cur.execute("ROLLBACK TO s")
            cur.execute("FETCH ALL FROM c")
            self.assertEqual(cur.fetchall(), [(2,), (3,), (4,)])
            cur.execute("COMMIT")
        self.assertEqual(self.kept(t), [])

    def test_current_setting_after_a_restarting_rollback_to(self):
        # The session's current_setting() macro may be made inside the transaction and go
        # with DuckDB's rollback: it must be made again, not refused.
        conn = self.target.connect()
        self.addCleanup(conn.close)
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("SAVEPOINT s")
            cur.execute("SELECT current_setting('application_name')")
            with self.assertRaises(psycopg2.errors.InvalidTextRepresentation):
                cur.execute("SELECT 'x'::int")
            cur.execute("ROLLBACK TO s")
            cur.execute("SET application_name = 'after'")
            cur.execute("SELECT current_setting('application_name')")
            self.assertEqual(cur.fetchone()[0], "after")
            cur.execute("COMMIT")


if __name__ == "__main__":
    harness.main()
