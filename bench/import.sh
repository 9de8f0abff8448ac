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

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in cc curl awk; do
  command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup-deps.sh)"
done
[ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] && [ -x "$PG_BINDIR/psql" ] ||
  die "PostgreSQL 15 not found in $PG_BINDIR (run scripts/setup-deps.sh; it installs 'postgresql')"

# --- temp dir, cleanup -------------------------------------------------------------------
work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/duckspace-bench.XXXXXX")
chmod 755 "$work"   # the postgres server process must reach the CSV file
pgdir="$work/pg"
pg_started=0
ds_pid=""

if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: run initdb and pg_ctl as the postgres user.
  getent passwd postgres >/dev/null || die "running as root but there is no 'postgres' user"
  as_pg=(runuser -u postgres --)
else
  as_pg=()
fi

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$ds_pid" ] && kill -0 "$ds_pid" 2>/dev/null; then
    kill -TERM "$ds_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$ds_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ds_pid" 2>/dev/null || true
    wait "$ds_pid" 2>/dev/null || true
  fi
  if [ "$pg_started" = 1 ]; then
    "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { # a loopback TCP port nothing listens on
  local p
  for _ in $(seq 1 200); do
    # below the kernel's range for outgoing connections, so no client takes it meanwhile
    p=$((20000 + RANDOM % ($(cut -f1 /proc/sys/net/ipv4/ip_local_port_range) - 20000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# --- 0. build duckspace if needed ---------------------------------------------------------
only_pg=0
[ "${BENCH_ONLY:-}" = postgres ] && only_pg=1
if [ "$only_pg" = 0 ] && [ -n "${DUCKSPACE_BIN:-}" ] && [ ! -x "$DS_BIN" ]; then
  die "DUCKSPACE_BIN=$DS_BIN is not an executable"
fi
if [ "$only_pg" = 0 ] && [ ! -x "$DS_BIN" ]; then
  log "build/duckspace missing: building (Release)"
  if [ ! -f "$top/third_party/duckdb/lib/libduckdb.so" ]; then
    "$top/scripts/setup-deps.sh"
  fi
  (cd "$top" && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build -j2 >/dev/null) || die "building duckspace failed"
  [ -x "$DS_BIN" ] || die "the build did not produce $DS_BIN"
fi

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
pg_port=$(free_port)
mkdir -p "$pgdir"
[ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
log "PostgreSQL: initdb + start on 127.0.0.1:$pg_port"
"${as_pg[@]}" "$PG_BINDIR/initdb" -D "$pgdir/data" -U bench --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$pgdir/initdb.log" 2>&1 || { cat "$pgdir/initdb.log" >&2; die "initdb failed"; }
pg_opts="-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pgdir"
pg_opts+=" -c max_wal_size=4GB ${BENCH_PG_OPTS:-}"
"${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -o "$pg_opts" -w -t 60 start \
  >/dev/null || { cat "$pgdir/server.log" >&2 || true; die "pg_ctl start failed"; }
pg_started=1
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
http_port=$(free_port)
ds_pg_port=$(free_port)
admin_key="dsk_$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
ds_args=(serve --data-dir "$work/ds-data" --listen-address 127.0.0.1 --http-port "$http_port"
         --pg-port "$ds_pg_port" --admin-key "$admin_key" --log-level info)
# IMPORT_PRESERVE_ORDER=off measures the faster, unordered load (setting import_preserve_order).
ds_args+=(--import-preserve-order "${IMPORT_PRESERVE_ORDER:-on}")
if [ "$csv_bytes" -gt $((4 * 1024 * 1024 * 1024)) ]; then
  # default max_body_size is 5GB; give big runs room
  ds_args+=(--max-body-size "$(( csv_bytes / 1024 / 1024 / 1024 + 2 ))GB")
fi
mkdir -p "$work/ds-data"
log "duckspace: starting on 127.0.0.1:$http_port"
"$DS_BIN" "${ds_args[@]}" >"$work/duckspace.log" 2>&1 &
ds_pid=$!
base="http://127.0.0.1:$http_port"
for i in $(seq 1 300); do
  curl -fsS -o /dev/null "$base/health" 2>/dev/null && break
  kill -0 "$ds_pid" 2>/dev/null || { cat "$work/duckspace.log" >&2; die "duckspace exited at start"; }
  [ "$i" = 300 ] && { cat "$work/duckspace.log" >&2; die "duckspace did not answer /health in 30 s"; }
  sleep 0.1
done
ds_version=$(curl -fsS "$base/health" | sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p')

api() { # METHOD PATH [curl args...] -> body on stdout; fails on HTTP >= 400
  local method=$1 path=$2; shift 2
  local resp code
  resp=$(curl -sS -X "$method" -H "Authorization: Bearer $admin_key" -w '\n%{http_code}' "$@" "$base$path")
  code=${resp##*$'\n'}
  resp=${resp%$'\n'*}
  if [ "$code" -ge 400 ]; then die "$method $path -> HTTP $code: $resp"; fi
  printf '%s' "$resp"
}
json_field() { # NAME: first "NAME": value of a JSON object on stdin (string or number)
  sed -n "s/.*\"$1\" *: *\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n1
}

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
