"""PostgreSQL's catalogs in every workspace instance (issue 8, item 4): the compat catalog
(src/pgexec/compat/catalog.sql, attached READ_ONLY, last in the search path) and the
project's tables from duckspace's metadata (src/workspace/project_catalog.c), listed
before any query touched them.

Queried through unqualified names (pg_class, information_schema_tables, ...): the SQL
rewriter that maps pg_catalog.X / information_schema.X onto them lands separately.

Run: /usr/bin/python3 tests/integration/test_pg_catalogs.py [-v] [Class.test_name]"""

import re

import harness
from pghelpers import PgTestCase


class PgCatalogs(PgTestCase):

    def setUp(self):
        super().setUp()
        self.create_bucket(self.pid, "crm")
        self.create_table_json(self.pid, "in.c-crm", "orders",
                               [("id", "bigint"), ("amount", "numeric(12,2)"), ("note", "varchar"),
                                ("day", "date"), ("at", "timestamp")], primary_key=["id"])
        self.ws = self.make_ws()
        self.conn = self.pg2(self.ws)
        self.q2(self.conn, "CREATE TABLE big (k INTEGER PRIMARY KEY, name VARCHAR NOT NULL DEFAULT 'x', "
                           "price DECIMAL(10,3), tags VARCHAR[], ts TIMESTAMPTZ)")

    def rel(self, name, schema):
        rows = self.q2(self.conn, "SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                  "WHERE c.relname = %s AND n.nspname = %s", (name, schema))
        self.assertEqual(len(rows), 1, rows)
        return rows[0][0]

    # ---- namespaces and relations ---------------------------------------------------------

    def test_pg_namespace(self):
        rows = dict(self.q2(self.conn, "SELECT nspname, oid FROM pg_namespace"))
        self.assertEqual(rows["public"], 2200)
        self.assertEqual(rows["pg_catalog"], 11)
        self.assertEqual(rows["information_schema"], 13183)
        self.assertIn("in_c_crm", rows)
        self.assertGreaterEqual(rows["in_c_crm"], 20000000)
        self.assertLess(rows["in_c_crm"], 30000000)
        self.assertEqual(self.scalar(self.conn, "SELECT nspowner FROM pg_namespace WHERE nspname = 'public'"), 6171)
        for name in rows:
            self.assertNotIn(name, ("main", "ds_compat", "system", "temp"))
            self.assertIsNone(re.match(r"t\d+$", name), name)
        # a schema the user makes is listed by its name
        self.q2(self.conn, "CREATE SCHEMA mine")
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'mine'"), 1)

    def test_pg_class_and_pg_attribute_before_any_query(self):
        orders = self.rel("orders", "in_c_crm")
        big = self.rel("big", "public")
        self.assertGreaterEqual(orders, 1000000000)
        self.assertLess(orders, 2 ** 31)
        cols = self.q2(self.conn, "SELECT attname, atttypid, atttypmod, attnum, attnotnull, format_type(atttypid, atttypmod) "
                                  "FROM pg_attribute WHERE attrelid = %s ORDER BY attnum", (orders,))
        self.assertEqual(cols, [("id", 20, -1, 1, True, "bigint"),
                                ("amount", 1700, (12 << 16 | 2) + 4, 2, False, "numeric(12,2)"),
                                ("note", 1043, -1, 3, False, "character varying"),
                                ("day", 1082, -1, 4, False, "date"),
                                ("at", 1114, -1, 5, False, "timestamp without time zone")])
        cols = self.q2(self.conn, "SELECT attname, atttypid, format_type(atttypid, atttypmod), atthasdef FROM pg_attribute "
                                  "WHERE attrelid = %s ORDER BY attnum", (big,))
        self.assertEqual(cols, [("k", 23, "integer", False), ("name", 1043, "character varying", True),
                                ("price", 1700, "numeric(10,3)", False), ("tags", 1015, "character varying[]", False),
                                ("ts", 1184, "timestamp with time zone", False)])
        self.assertEqual(self.q2(self.conn, "SELECT relkind, reltuples, relhasindex FROM pg_class WHERE oid = %s", (orders,)),
                         [("r", 0.0, True)])
        # nothing of the layer's own or DuckDB's internals shows
        names = [r[0] for r in self.q2(self.conn, "SELECT relname FROM pg_class")]
        self.assertEqual(sorted(names), ["big", "big_pkey", "orders", "orders_pkey"])
        self.assertEqual(self.q2(self.conn, "SELECT adnum, pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = %s",
                                 (big,)), [(2, "'x'")])

    def test_format_type(self):
        self.assertEqual(self.q2(self.conn, "SELECT format_type(1700, 786438), format_type(1043, 14), format_type(1007, NULL), "
                                            "format_type(23, -1), format_type(1184, NULL), format_type(16, NULL), "
                                            "format_type(99999, NULL), format_type(NULL, NULL)"),
                         [("numeric(12,2)", "character varying(10)", "integer[]", "integer", "timestamp with time zone",
                           "boolean", "???", None)])

    def test_pg_type_is_postgresql_15s(self):
        rows = dict((r[0], r[1:]) for r in self.q2(
            self.conn, "SELECT typname, oid, typlen, typarray, typcategory FROM pg_type "
                       "WHERE typname IN ('int4', 'varchar', 'numeric', '_int4', 'text', 'uuid', 'jsonb')"))
        self.assertEqual(rows["int4"], (23, 4, 1007, "N"))
        self.assertEqual(rows["varchar"], (1043, -1, 1015, "S"))
        self.assertEqual(rows["numeric"], (1700, -1, 1231, "N"))
        self.assertEqual(rows["_int4"], (1007, -1, 0, "A"))
        self.assertEqual(rows["uuid"], (2950, 16, 2951, "U"))
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM pg_type WHERE oid IS NULL"), 0)
        self.assertEqual(self.scalar(self.conn, "SELECT proname FROM pg_proc p JOIN pg_type t ON p.oid = t.typreceive "
                                                "WHERE t.typname = '_int4'"), "array_recv")

    def test_primary_keys_in_pg_index_and_pg_constraint(self):
        orders = self.rel("orders", "in_c_crm")
        big = self.rel("big", "public")
        for tab, name, schema in ((orders, "orders", "in_c_crm"), (big, "big", "public")):
            idx = self.q2(self.conn, "SELECT i.indexrelid, c.relname, i.indkey::VARCHAR, i.indisprimary, i.indisunique, "
                                     "pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                     "WHERE i.indrelid = %s", (tab,))
            self.assertEqual(len(idx), 1, idx)
            self.assertEqual(idx[0][1:], (name + "_pkey", "[1]", True, True,
                                          # unqualified, as PostgreSQL prints a table on the search path
                                          "CREATE UNIQUE INDEX %s_pkey ON %s USING btree (%s)"
                                          % (name, name, "id" if name == "orders" else "k")))
            con = self.q2(self.conn, "SELECT conname, contype, conkey::VARCHAR, conindid, pg_get_constraintdef(oid) "
                                     "FROM pg_constraint WHERE conrelid = %s", (tab,))
            self.assertEqual(con, [(name + "_pkey", "p", "[1]", idx[0][0],
                                    "PRIMARY KEY (%s)" % ("id" if name == "orders" else "k"))])
        if orders:  # the PK index's OID derives from the table's
            self.assertEqual(self.scalar(self.conn, "SELECT indexrelid FROM pg_index WHERE indrelid = %s", (orders,)),
                             orders + 1)
        # pgJDBC getPrimaryKeys' shape: _pg_expandarray over indkey
        self.assertEqual(self.q2(self.conn, "SELECT a.attname, (i.keys).n FROM pg_attribute a, "
                                            "(SELECT _pg_expandarray(indkey) AS keys, indrelid FROM pg_index) i "
                                            "WHERE a.attrelid = i.indrelid AND a.attnum = (i.keys).x AND i.indrelid = %s",
                                 (orders,)), [("id", 1)])

    def test_information_schema_spellings(self):
        rows = self.q2(self.conn, "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema_tables "
                                  "ORDER BY table_schema, table_name")
        db = self.ws["connection"]["database"]
        self.assertEqual(rows, [(db, "in_c_crm", "orders", "BASE TABLE"), (db, "public", "big", "BASE TABLE")])
        cols = self.q2(self.conn, "SELECT column_name, ordinal_position, data_type, udt_name, is_nullable, numeric_precision, "
                                  "numeric_scale, numeric_precision_radix, datetime_precision, column_default "
                                  "FROM information_schema_columns WHERE table_name = 'orders' ORDER BY ordinal_position")
        self.assertEqual(cols, [("id", 1, "bigint", "int8", "NO", 64, 0, 2, None, None),
                                ("amount", 2, "numeric", "numeric", "YES", 12, 2, 10, None, None),
                                ("note", 3, "character varying", "varchar", "YES", None, None, None, None, None),
                                ("day", 4, "date", "date", "YES", None, None, None, 0, None),
                                ("at", 5, "timestamp without time zone", "timestamp", "YES", None, None, None, 6, None)])
        self.assertEqual(self.q2(self.conn, "SELECT table_catalog, table_schema, column_name, data_type, column_default "
                                            "FROM information_schema_columns WHERE table_name = 'big' AND ordinal_position = 2"),
                         [(db, "public", "name", "character varying", "'x'")])
        self.assertEqual(sorted(r[0] for r in self.q2(self.conn, "SELECT schema_name FROM information_schema_schemata")),
                         ["in_c_crm", "information_schema", "pg_catalog", "pg_temp_3", "public"])
        self.assertEqual(self.q2(self.conn, "SELECT constraint_name, column_name, ordinal_position "
                                            "FROM information_schema_key_column_usage WHERE table_name = 'orders'"),
                         [("orders_pkey", "id", 1)])

    def test_identity(self):
        c = self.ws["connection"]
        self.assertEqual(self.q2(self.conn, "SELECT current_database(), current_schema(), current_user, session_user, "
                                            "ds_current_user(), pg_get_userbyid(16386), pg_get_userbyid(10), "
                                            "pg_get_userbyid(6171)"),
                         [(c["database"], "public", c["username"], c["username"], c["username"], c["username"],
                           "duckspace", "pg_database_owner")])
        self.assertEqual(self.q2(self.conn, "SELECT current_schemas(true), current_schemas(false)"),
                         [(["pg_catalog", "public", "in_c_crm"], ["public", "in_c_crm"])])
        self.assertEqual(self.q2(self.conn, "SELECT datname FROM pg_database"), [(c["database"],)])
        # the login (owner of the database and the workspace's objects) and the role that
        # owns the project's tables
        self.assertEqual(self.q2(self.conn, "SELECT rolname, oid, rolsuper, rolcanlogin FROM pg_roles ORDER BY oid"),
                         [("duckspace", 10, True, False), (c["username"], 16386, False, True)])
        self.assertEqual(self.q2(self.conn, "SELECT pg_get_userbyid(datdba) FROM pg_database"), [(c["username"],)])
        self.assertEqual(self.q2(self.conn, "SELECT usename FROM pg_user ORDER BY usesysid"), [("duckspace",), (c["username"],)])

    def test_oids_stable_across_sessions(self):
        sql = "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1"
        first = self.q2(self.conn, sql)
        other = self.pg2(self.ws)
        self.assertEqual(self.q2(other, sql), first)
        self.assertEqual(self.q2(other, sql), first)
        # a query that attaches the project table changes nothing
        self.q2(other, "SELECT count(*) FROM in_c_crm.orders")
        self.assertEqual(self.q2(other, sql), first)
        self.assertEqual(self.q2(self.conn, sql), first)

    def test_visibility_and_shadowing(self):
        orders = self.rel("orders", "in_c_crm")
        self.assertTrue(self.scalar(self.conn, "SELECT pg_table_is_visible(%s)", (orders,)))
        self.q2(self.conn, "CREATE TABLE orders (x INTEGER)")
        self.assertFalse(self.scalar(self.conn, "SELECT pg_table_is_visible(%s)", (orders,)))
        mine = self.rel("orders", "public")
        self.assertTrue(self.scalar(self.conn, "SELECT pg_table_is_visible(%s)", (mine,)))

    def test_regclass_helpers(self):
        orders = self.rel("orders", "in_c_crm")
        big = self.rel("big", "public")
        self.assertEqual(self.q2(self.conn, "SELECT ds_regclass_in('big'), ds_regclass_in('in_c_crm.orders'), "
                                            "ds_regclass_in('\"in_c_crm\".\"orders\"'), ds_regclass_in('nope'), "
                                            "ds_regclass_out(%s), ds_regclass_out(%s), ds_regclass_out(12345)", (big, orders)),
                         [(big, orders, orders, None, "big", "orders", "12345")])
        self.assertEqual(self.q2(self.conn, "SELECT ds_regtype_in('integer'), ds_regtype_in('int4'), "
                                            "ds_regtype_in('character varying(10)'), ds_regtype_out(1043), "
                                            "ds_regnamespace_in('public'), ds_regnamespace_out(11), "
                                            "ds_regproc_in('pg_catalog.array_in'), ds_regproc_out(2400)"),
                         [(23, 23, 1043, "character varying", 2200, "pg_catalog", 750, "array_recv")])

    def test_functions(self):
        self.assertEqual(self.q2(self.conn, "SELECT quote_ident('abc'), quote_ident('Abc'), parse_ident('a.\"B c\".d'), "
                                            "array_upper([1, 2, 3], 1), array_lower([1], 1), btrim('  x  '), "
                                            "pg_encoding_to_char(6), pg_is_in_recovery(), pg_total_relation_size(0)"),
                         [("abc", '"Abc"', ["a", "B c", "d"], 3, 1, "x", "UTF8", False, 0)])
        self.assertGreater(self.scalar(self.conn, "SELECT count(*) FROM pg_get_keywords()"), 100)
        settings = dict(self.q2(self.conn, "SELECT name, setting FROM pg_settings"))
        self.assertEqual(settings["max_index_keys"], "32")
        self.assertEqual(settings["max_identifier_length"], "63")
        self.assertEqual(settings["server_version_num"], "150000")
        self.assertEqual(settings["standard_conforming_strings"], "on")
        # the session's own settings show through its current_setting() macro (which the
        # SQL front end brings up to date when a statement names current_setting)
        self.q2(self.conn, "SET application_name = 'catalog-test'")
        self.assertEqual(self.q2(self.conn, "SELECT current_setting('application_name'), setting FROM pg_settings "
                                            "WHERE name = 'application_name'"), [("catalog-test", "catalog-test")])
        self.assertEqual(self.scalar(self.conn, "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'block_size'"),
                         "8192")
        self.q2(self.conn, "CREATE MACRO add2(a, b) AS a + b")
        self.assertEqual(self.q2(self.conn, "SELECT proname, pg_get_function_arguments(oid), pg_get_function_result(oid) "
                                            "FROM pg_proc WHERE proname = 'add2'"),
                         [("add2", "a anyelement, b anyelement", "anyelement")])
        for stub in ("pg_inherits", "pg_policy", "pg_statistic_ext", "pg_publication", "pg_extension", "pg_range",
                     "pg_enum", "pg_depend", "pg_trigger", "pg_matviews", "pg_sequence", "pg_stat_activity"):
            self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM %s" % stub), 0, stub)

    # ---- the layer cannot be written, and hides itself --------------------------------------

    def test_compat_layer_is_read_only(self):
        for sql in ("DROP VIEW pg_class", "DROP MACRO format_type", "CREATE OR REPLACE MACRO ds_compat.main.x() AS 1",
                    "CREATE VIEW ds_compat.main.v AS SELECT 1", "ALTER VIEW pg_namespace RENAME TO n2",
                    "DROP MACRO TABLE pg_get_keywords"):
            e = self.assertSqlError(self.conn, sql, "42501")
            self.assertNotIn("ds_compat", str(e), sql)
            self.assertIn("pg_catalog", str(e), sql)
        # an unqualified CREATE goes to the workspace, and then shadows the layer's view there
        self.q2(self.conn, "CREATE TABLE pg_class (a INTEGER)")
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM pg_class"), 0)
        self.assertIn("pg_class", self.objects(self.ws["id"]))
        self.q2(self.conn, "DROP TABLE pg_class")
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM pg_class WHERE relname = 'big'"), 1)
        # the REST listing shows the user's objects only
        self.assertEqual(sorted(self.objects(self.ws["id"])), ["big"])

    def test_duckdbs_pg_settings_stays_refused(self):
        # ("pg_catalog"."pg_settings" is pg_catalog.pg_settings: PostgreSQL's parser reads
        # the quoted names as the same, and the rewrite names the compat view.)
        self.assertEqual(self.scalar(self.conn, 'SELECT count(*) FROM "pg_catalog"."pg_settings" '
                                                "WHERE name IN ('memory_limit', 'temp_directory')"), 0)
        for sql in ("SELECT * FROM system.pg_catalog.pg_settings",
                    "SELECT * FROM system.main.pg_settings", "SELECT * FROM memory.pg_catalog.pg_settings",
                    "SELECT * FROM ds_compat.pg_catalog.pg_settings", "SELECT * FROM x.ds_compat.main.pg_settings"):
            self.assertSqlError(self.conn, sql, "42501")
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM ds_compat.main.pg_settings WHERE name = 'memory_limit'"), 0)
        self.assertEqual(self.scalar(self.conn, "SELECT count(*) FROM pg_settings WHERE name IN ('memory_limit', 'temp_directory')"), 0)

    def test_instance_open_time_logged(self):
        lines = [l for l in self.server.read_log().splitlines() if "instance opened in" in l]
        self.assertTrue(lines)
        ms = [float(re.search(r"opened in ([\d.]+) ms", l).group(1)) for l in lines]
        print("\ninstance open times (ms): %s" % ms)


if __name__ == "__main__":
    harness.main()
