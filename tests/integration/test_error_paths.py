"""No server path and no internal SQL in a message a client sees (security audit
2026-11-29, S102 and S16): import errors say what could not be read, in the user's
terms, and DuckDB's error text has the data directory, the working directory, $HOME and
the temp directory taken out before it reaches REST or PostgreSQL clients."""

import os
import tempfile

import harness
from pghelpers import PgTestCase

# Internal SQL and reader options that used to show in import errors.
INTERNALS = ("read_parquet", "read_csv", "DESCRIBE", "SELECT", "INSERT", "LINE 1", "strict_mode", "sample_size",
             "upload-")


class ServerPathsInErrors(PgTestCase):

    @classmethod
    def setUpClass(cls):
        # A $HOME of our own, so the test can look for it in messages.
        cls.home = tempfile.mkdtemp(prefix="duckspace-home-")
        cls.server_env = {"HOME": cls.home}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            os.rmdir(cls.home)

    def setUp(self):
        super().setUp()
        self.bucket = self.create_bucket(self.pid, "crm")

    def assertNoServerPath(self, text):
        for path in (self.server.data_dir, os.path.realpath(self.server.data_dir), self.server.root, self.home,
                     os.path.realpath(self.home)):
            self.assertNotIn(path, text)

    def assertImportMessage(self, resp, starts):
        body = self.assertError(resp, 400, "import_failed")
        msg = body["message"]
        self.assertNoServerPath(msg)
        for word in INTERNALS:
            self.assertNotIn(word, msg)
        self.assertTrue(msg.startswith(starts), msg)
        self.assertNotIn("\n", msg)
        return msg

    def test_malformed_parquet_upload_names_no_path_and_no_sql(self):
        # S102: the message held the absolute upload path and DESCRIBE SELECT * FROM read_parquet('...').
        url = "/projects/%s/buckets/%s/tables?name=pq" % (self.pid, self.bucket)
        for body in (b"PAR1garbage", b"PAR1\x00\x01garbagePAR1", b"not parquet at all, but long enough" * 4):
            with self.subTest(body=body[:16]):
                self.assertImportMessage(self.req("POST", url, raw=body, content_type="application/vnd.apache.parquet"),
                                         "the file is not a valid Parquet file: ")
        t = self.create_table_csv(self.pid, self.bucket, "orders", "id,x\n1,2\n")["id"]
        self.assertImportMessage(self.req("POST", "/projects/%s/tables/%s/import" % (self.pid, t), raw=b"PAR1garbage",
                                          content_type="application/vnd.apache.parquet"),
                                 "the file is not a valid Parquet file: ")

    def test_malformed_csv_upload_names_no_path_and_no_reader_options(self):
        url = "/projects/%s/buckets/%s/tables?name=c" % (self.pid, self.bucket)
        self.assertImportMessage(self.req("POST", url, raw=b'id,x\n1,"2\n3,4', content_type="text/csv"),
                                 "the CSV data cannot be imported: ")
        t = self.create_table_csv(self.pid, self.bucket, "orders", "id,x\n1,2\n")["id"]
        imp = "/projects/%s/tables/%s/import" % (self.pid, t)
        msg = self.assertImportMessage(self.req("POST", imp, raw=b"id,x\nabc,2\n", content_type="text/csv"),
                                       "the CSV data cannot be imported: ")
        self.assertIn("abc", msg)  # the reason stays: which value could not be converted
        msg = self.assertImportMessage(self.req("POST", imp, raw=b"id,x\n1,2,3\n", content_type="text/csv"),
                                       "the CSV data cannot be imported: ")
        self.assertIn("Line: 2", msg)

    def test_duplicate_key_import_says_constraint(self):
        t = self.create_table_csv(self.pid, self.bucket, "keyed", "id,x\n1,2\n", primary_key="id")["id"]
        msg = self.assertImportMessage(self.req("POST", "/projects/%s/tables/%s/import" % (self.pid, t),
                                                raw=b"id,x\n5,1\n5,2\n", content_type="text/csv"),
                                       "the data breaks a constraint of the table: ")
        self.assertIn("5", msg)

    def test_sql_error_naming_home_shows_no_home(self):
        # S16: DuckDB's error for duckdb_extensions() named the server user's home. (Where
        # the statement gate refuses the function by name first, this holds as well.)
        ws = self.make_ws()
        conn = self.pg2(ws)
        for sql in ("SELECT * FROM duckdb_extensions()", "SELECT count(*) FROM (SELECT * FROM duckdb_extensions())"):
            with self.subTest(sql=sql):
                e = self.assertSqlError(conn, sql, "42501")
                self.assertNoServerPath(str(e))


if __name__ == "__main__":
    harness.main()
