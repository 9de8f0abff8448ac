#!/usr/bin/env bash
# bench/import.sh [ROWS] — CSV bulk-import benchmark: duckspace vs PostgreSQL 15.
#
# Generates a CSV of ROWS rows (default 10,000,000) with bench/gen_csv.c, then
#   1. PostgreSQL 15: a throwaway cluster (initdb into a temp dir, loopback port, unix
#      socket in the temp dir); times server-side `COPY orders FROM '<file>' WITH (FORMAT
#      csv, HEADER)` into a plain (logged, no primary key) table,
#   2. duckspace: a throwaway server (build/duckspace serve on a temp data dir); times
#      creating a project + bucket, and the whole HTTP import
#      `POST /projects/{pid}/buckets/in.c-sales/tables?name=orders` with the CSV as body,
#   3. in-process DuckDB (baseline): bench/duckdb_load.c, linked to the same libduckdb.so,
#      times CREATE TABLE orders AS SELECT * FROM read_csv(<file>) + CHECKPOINT,
# and prints rows/s for each and the ratio duckspace/PostgreSQL. Everything it starts is
# stopped and removed at the end, also on failure or Ctrl-C. See bench/README.md.
#
# Environment: BENCH_TMPDIR (where the temp dir goes, default $TMPDIR or /tmp),
# BENCH_KEEP=1 (keep the temp dir), BENCH_PG_OPTS (extra postgres -c options),
# PG_BINDIR (default /usr/lib/postgresql/15/bin), BENCH_ONLY=postgres (skip the duckspace
# half, e.g. while the server does not build), DUCKSPACE_BIN (binary to measure, default
# build/duckspace; built when missing only in the default place).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-10000000}
if ! [[ "$ROWS" =~ ^[0-9]+$ ]] || [ "$ROWS" -lt 1 ]; then
  echo "usage: bench/import.sh [ROWS]   (ROWS: positive integer, default 10000000)" >&2
  exit 2
fi
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
DS_BIN=${DUCKSPACE_BIN:-$top/build/duckspace}

for tool in cc curl awk; do
  command -v "$tool" >/dev/null || { echo "bench/import.sh: $tool not found (run scripts/setup-deps.sh)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

bench_workdir duckspace-bench   # the postgres server process must reach the CSV file

only_pg=0
[ "${BENCH_ONLY:-}" = postgres ] && only_pg=1
[ "$only_pg" = 1 ] || ensure_duckspace

# --- 1. generate the CSV ------------------------------------------------------------------
csv="$work/orders.csv"
cc -O2 -std=c11 -o "$work/gen_csv" "$top/bench/gen_csv.c" || die "compiling bench/gen_csv.c failed"
log "generating $ROWS rows"
t0=$(now)
"$work/gen_csv" "$ROWS" "$csv"
t1=$(now)
chmod 644 "$csv"
csv_bytes=$(stat -c %s "$csv")
log "CSV: $csv_bytes bytes in $(elapsed "$t0" "$t1") s"

# --- 2. PostgreSQL ------------------------------------------------------------------------
mkdir -p "$pgdir"
[ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
log "PostgreSQL: initdb"
"${as_pg[@]}" "$PG_BINDIR/initdb" -D "$pgdir/data" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; die "initdb failed"; }
pg_start
log "PostgreSQL: started on 127.0.0.1:$pg_port"
psql_() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$pg_port" -U bench -d postgres "$@"; }
pg_version=$(psql_ -At -c 'SHOW server_version' | awk '{ print $1 }')
psql_ -c 'CREATE TABLE orders (id bigint, customer_id integer, amount numeric(12,2),
                                order_date date, status text, note text)'
log "PostgreSQL $pg_version: COPY orders FROM '$csv' (server-side COPY)"
out=$(psql_ -c '\timing on' -c "COPY orders FROM '$csv' WITH (FORMAT csv, HEADER)")
pg_secs=$(printf '%s\n' "$out" | awk '/^Time:/ { printf "%.3f", $2 / 1000 }')
[ -n "$pg_secs" ] || die "could not read the COPY time from psql: $out"
pg_rows=$(psql_ -At -c 'SELECT count(*) FROM orders')
pg_size=$(psql_ -At -c "SELECT pg_total_relation_size('orders')")
[ "$pg_rows" = "$ROWS" ] || die "PostgreSQL has $pg_rows rows, expected $ROWS"
log "PostgreSQL: $pg_rows rows in $pg_secs s"
"${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null && pg_started=0

if [ "$only_pg" = 1 ]; then
  echo
  awk -v rows="$ROWS" -v pg="$pg_secs" -v bytes="$csv_bytes" -v v="$pg_version" 'BEGIN {
    printf "PostgreSQL %s COPY: %d rows in %.2f s = %.0f rows/s (%.1f MB/s)\n",
           v, rows, pg, rows / pg, bytes / 1048576 / pg }'
  exit 0
fi

# --- 3. duckspace -------------------------------------------------------------------------
# IMPORT_PRESERVE_ORDER=off measures the faster, unordered load (setting import_preserve_order).
ds_args=(--log-level info --import-preserve-order "${IMPORT_PRESERVE_ORDER:-on}")
if [ "$csv_bytes" -gt $((4 * 1024 * 1024 * 1024)) ]; then
  # default max_body_size is 5GB; give big runs room
  ds_args+=(--max-body-size "$(( csv_bytes / 1024 / 1024 / 1024 + 2 ))GB")
fi
ds_start "${ds_args[@]}"

t0=$(now)
pid=$(api POST /projects -H 'Content-Type: application/json' -d '{"name":"bench"}' | json_field id)
[ -n "$pid" ] || die "no project id in the POST /projects response"
api POST "/projects/$pid/buckets" -H 'Content-Type: application/json' \
  -d '{"stage":"in","name":"sales"}' >/dev/null
t1=$(now)
setup_secs=$(elapsed "$t0" "$t1")

log "duckspace $ds_version: POST /projects/$pid/buckets/in.c-sales/tables?name=orders (CSV body)"
resp=$(curl -sS -X POST -H "Authorization: Bearer $admin_key" -H 'Content-Type: text/csv' \
  --data-binary @"$csv" -w '\n%{http_code} %{time_total}' \
  "$base/projects/$pid/buckets/in.c-sales/tables?name=orders")
tail_line=${resp##*$'\n'}
body=${resp%$'\n'*}
code=${tail_line%% *}
ds_secs=$(awk -v t="${tail_line#* }" 'BEGIN { printf "%.3f", t }')
[ "$code" = 201 ] || die "import -> HTTP $code: $body"
ds_rows=$(printf '%s' "$body" | json_field rows)
ds_size=$(printf '%s' "$body" | json_field size_bytes)
[ "$ds_rows" = "$ROWS" ] || die "duckspace reports rows=$ds_rows, expected $ROWS: $body"
log "duckspace: $ds_rows rows in $ds_secs s"
# The server logs how long the storage part (parse, write, publish) took, e.g.
# "storage: created table in.c-sales.orders ... 0.05 s"; the rest is HTTP upload + spool.
ds_store_secs=$(sed -n 's/.*storage: created table in\.c-sales\.orders.* \([0-9.]*\) s$/\1/p' \
  "$work/duckspace.log" | tail -n 1)
[ -n "$ds_store_secs" ] && log "duckspace: of which storage (parse, write, publish) $ds_store_secs s"

# --- 4. in-process DuckDB baseline ----------------------------------------------------------
ddb_dir="$top/third_party/duckdb"
# stop duckspace first (frees its memory); it must exit cleanly with 0 on SIGTERM
kill -TERM "$ds_pid" 2>/dev/null || true
ds_rc=0
wait "$ds_pid" 2>/dev/null || ds_rc=$?
ds_pid=""
[ "$ds_rc" = 0 ] || log "warning: duckspace exited with code $ds_rc on SIGTERM"
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$ddb_dir/include" -o "$work/duckdb_load" \
  "$top/bench/duckdb_load.c" -L"$ddb_dir/lib" -lduckdb -Wl,-rpath,"$ddb_dir/lib" ||
  die "compiling bench/duckdb_load.c failed"
log "DuckDB (in process): CREATE TABLE orders AS SELECT * FROM read_csv(...)"
read -r ddb_rows ddb_secs < <("$work/duckdb_load" "$work/baseline.duckdb" "$csv") ||
  die "the DuckDB baseline failed"
[ "$ddb_rows" = "$ROWS" ] || die "DuckDB baseline has $ddb_rows rows, expected $ROWS"
ddb_size=$(stat -c %s "$work/baseline.duckdb")
log "DuckDB: $ddb_rows rows in $ddb_secs s"

# --- 5. report ----------------------------------------------------------------------------
report=$(BENCH_NPROC=$(nproc) BENCH_DSV="${ds_version:-?}" awk -v rows="$ROWS" -v bytes="$csv_bytes" -v pg="$pg_secs" -v ds="$ds_secs" \
  -v pgsize="$pg_size" -v dssize="${ds_size:-0}" -v setup="$setup_secs" \
  -v ddb="$ddb_secs" -v ddbsize="$ddb_size" -v store="${ds_store_secs:-}" \
  -v pgv="PostgreSQL $pg_version" -v dsv="duckspace HTTP import" '
  function human(b) {
    if (b >= 1073741824) return sprintf("%.2f GB", b / 1073741824)
    if (b >= 1048576) return sprintf("%.1f MB", b / 1048576)
    return sprintf("%.1f KB", b / 1024)
  }
  BEGIN {
    printf "rows: %d   CSV: %s   cores: %s   %s, duckspace %s\n\n", rows, human(bytes),
           ENVIRON["BENCH_NPROC"], pgv, ENVIRON["BENCH_DSV"]
    printf "%-28s %10s %14s %10s %12s\n", "system", "seconds", "rows/s", "MB/s", "stored"
    printf "%-28s %10.2f %14.0f %10.1f %12s\n", "PostgreSQL COPY (server)", pg, rows / pg, bytes / 1048576 / pg, human(pgsize)
    printf "%-28s %10.2f %14.0f %10.1f %12s\n", dsv, ds, rows / ds, bytes / 1048576 / ds, human(dssize)
    printf "%-28s %10.2f %14.0f %10.1f %12s\n", "DuckDB in-process (baseline)", ddb, rows / ddb, bytes / 1048576 / ddb, human(ddbsize)
    printf "\nratio duckspace/PostgreSQL (rows/s): %.2fx\n", pg / ds
    printf "duckspace time / in-process DuckDB time: %.2fx\n", ds / ddb
    if (store != "")
      printf "duckspace import split: %.2f s storage (parse, write, publish) + %.2f s HTTP upload/spool\n",
             store, ds - store
    printf "duckspace project + bucket creation: %.3f s (not included above)\n", setup
  }')
echo
printf '%s\n' "$report"
mkdir -p "$top/bench/out"
{
  echo "bench/import.sh $ROWS — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(uname -srm)"
  printf '%s\n' "$report"
} >"$top/bench/out/import-$(date -u +%Y%m%d-%H%M%S).txt"
