// node-postgres with pg-copy-streams, default settings: makes table `name`, streams `rows`
// rows into it with COPY FROM STDIN (text format), reads them back with COPY TO STDOUT in
// csv, and runs one parameterised query. Prints one JSON object; the Python test
// (test_pg_node.py) runs this against PostgreSQL 15 and a workspace and compares.
// Connection: the libpq environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE). Usage: node copy_roundtrip.js <table> <rows>
'use strict';
const { Client } = require('pg');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');
const { Readable } = require('stream');
const { pipeline } = require('stream/promises');

async function main() {
  const [table, nrows] = [process.argv[2], parseInt(process.argv[3], 10)];
  const client = new Client();
  await client.connect();
  const out = {};
  try {
    await client.query(`CREATE TABLE ${table} (id int, name varchar, amount numeric(12,2), day date)`);
    function* lines() {
      for (let i = 1; i <= nrows; i++) {
        const name = i % 10 === 0 ? '\\N' : `n\\t${i}`; // a NULL every 10 rows, an escaped tab
        yield `${i}\t${name}\t${(i * 1.25).toFixed(2)}\t2026-11-${String((i % 28) + 1).padStart(2, '0')}\n`;
      }
    }
    const ingest = client.query(copyFrom(`COPY ${table} FROM STDIN`));
    await pipeline(Readable.from(lines()), ingest);
    out.copy_in = ingest.rowCount;
    const chunks = [];
    const egress = client.query(copyTo(`COPY (SELECT * FROM ${table} ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)`));
    for await (const c of egress) chunks.push(c);
    const csv = Buffer.concat(chunks).toString('utf8');
    const csvLines = csv.split('\n');
    out.csv_header = csvLines[0];
    out.csv_first = csvLines.slice(1, 4);
    out.csv_lines = csvLines.length;
    const r = await client.query(`SELECT count(*)::int AS n, sum(amount)::text AS total, count(name)::int AS named FROM ${table} WHERE id <= $1`, [nrows]);
    out.query = r.rows[0];
  } finally {
    await client.end();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: e.message, code: e.code || null }) + '\n');
  process.exit(1);
});
