#!/usr/bin/env bash
# bench/copy.sh [ROWS] — COPY over the wire: duckspace vs PostgreSQL 15, the same client (psql).
#
# Generates the import benchmark's CSV (bench/gen_csv.c, ROWS rows, default 10,000,000),
# starts a throwaway PostgreSQL 15 cluster (SCRAM-SHA-256 over TCP 127.0.0.1) and a
# throwaway duckspace server (one project, one workspace), and measures, each on PostgreSQL
# and then on duckspace, with psql over TCP as the client (one run each):
#   1. COPY FROM STDIN: `psql -c "\copy orders FROM '<csv>' WITH (FORMAT csv, HEADER)"` into
#      an empty orders(id bigint, customer_id integer, amount numeric(12,2), order_date date,
#      status text, note text) — rows/s,
#   2. COPY TO STDOUT of that table in text: `psql -c "\copy orders TO '/dev/null'"` — rows/s,
#   3. COPY TO STDOUT in binary: `psql -c "\copy orders TO '/dev/null' (FORMAT binary)"` — rows/s,
#   4. for comparison, duckspace's REST import of the same file (POST .../tables, CSV body),
# and prints each figure and the ratio duckspace/PostgreSQL. Everything it starts is stopped
# and removed at the end, also on failure or Ctrl-C. See bench/README.md.
#
# Environment: BENCH_TMPDIR, BENCH_KEEP=1, BENCH_PG_OPTS, PG_BINDIR, DUCKSPACE_BIN (as
# bench/import.sh).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-10000000}
if ! [[ "$ROWS" =~ ^[0-9]+$ ]] || [ "$ROWS" -lt 1 ]; then
  echo "usage: bench/copy.sh [ROWS]   (ROWS: positive integer, default 10000000)" >&2
  exit 2
fi
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
DS_BIN=${DUCKSPACE_BIN:-$top/build/duckspace}
PSQL=$PG_BINDIR/psql
for tool in cc curl awk; do
  command -v "$tool" >/dev/null || { echo "bench/copy.sh: $tool not found (run scripts/setup-deps.sh)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bench_workdir duckspace-copy
ensure_duckspace

# --- the data -------------------------------------------------------------------------------
csv="$work/orders.csv"
cc -O2 -std=c11 -o "$work/gen_csv" "$top/bench/gen_csv.c" || die "compiling bench/gen_csv.c failed"
log "generating $ROWS rows"
"$work/gen_csv" "$ROWS" "$csv"
chmod 644 "$csv"
csv_bytes=$(stat -c %s "$csv")
DDL="CREATE TABLE orders (id bigint, customer_id integer, amount numeric(12,2), order_date date, status text, note text)"

# Runs one psql command (\copy ...) through $1 (pg_sql or ds_sql); prints the seconds.
timed() {
  local fn=$1 t0 t1
  shift
  t0=$(now)
  "$fn" "$@" >/dev/null || return 1
  t1=$(now)
  elapsed "$t0" "$t1"
}

# Measures the three COPYs on one server; sets <prefix>_in, _text, _bin (seconds).
measure() {
  local fn=$1 prefix=$2 n
  "$fn" -c "DROP TABLE IF EXISTS orders" -c "$DDL" >/dev/null
  log "$prefix: \\copy orders FROM csv"
  eval "${prefix}_in=\$(timed $fn -c \"\\\\copy orders FROM '$csv' WITH (FORMAT csv, HEADER)\")" ||
    die "$prefix: COPY FROM STDIN failed"
  n=$("$fn" -At -c "SELECT count(*) FROM orders")
  [ "$n" = "$ROWS" ] || die "$prefix: $n rows after COPY FROM, expected $ROWS"
  log "$prefix: \\copy orders TO (text)"
  eval "${prefix}_text=\$(timed $fn -c \"\\\\copy orders TO '/dev/null'\")" || die "$prefix: COPY TO (text) failed"
  log "$prefix: \\copy orders TO (binary)"
  eval "${prefix}_bin=\$(timed $fn -c \"\\\\copy orders TO '/dev/null' (FORMAT binary)\")" ||
    die "$prefix: COPY TO (binary) failed"
}

# --- PostgreSQL -------------------------------------------------------------------------------
pg_setup_scram   # clients: TCP + SCRAM as pg_user (lib.sh)
pg_sql() { PGPASSWORD=$pg_pass "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d "$pg_db" "$@"; }
measure pg_sql pg
"${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null && pg_started=0

# --- duckspace --------------------------------------------------------------------------------
ds_start --log-level warn
pid=$(api POST /projects -H 'Content-Type: application/json' -d '{"name":"bench"}' | json_field id)
[ -n "$pid" ] || die "no project id in the POST /projects response"
ws=$(api POST "/projects/$pid/workspaces" -H 'Content-Type: application/json' -d '{"name":"copy bench"}')
ds_user=$(printf '%s' "$ws" | json_field username)
ds_pass=$(printf '%s' "$ws" | json_field password)
ds_db=$(printf '%s' "$ws" | json_field database)
[ -n "$ds_user" ] && [ -n "$ds_pass" ] && [ -n "$ds_db" ] || die "no connection info in the workspace: $ws"
ds_sql() { PGPASSWORD=$ds_pass "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$ds_pg_port" -U "$ds_user" -d "$ds_db" "$@"; }
measure ds_sql ds
api POST "/projects/$pid/buckets" -H 'Content-Type: application/json' -d '{"stage":"in","name":"sales"}' >/dev/null
log "duckspace: REST import of the same file"
resp=$(curl -sS -X POST -H "Authorization: Bearer $admin_key" -H 'Content-Type: text/csv' \
  --data-binary @"$csv" -w '\n%{http_code} %{time_total}' "$base/projects/$pid/buckets/in.c-sales/tables?name=orders")
tail_line=${resp##*$'\n'}
[ "${tail_line%% *}" = 201 ] || die "REST import -> ${tail_line%% *}: ${resp%$'\n'*}"
rest_secs=$(awk -v t="${tail_line#* }" 'BEGIN { printf "%.3f", t }')

# --- report -----------------------------------------------------------------------------------
report=$(awk -v rows="$ROWS" -v bytes="$csv_bytes" -v pgv="$pg_version" -v dsv="${ds_version:-?}" \
  -v pin="$pg_in" -v ptx="$pg_text" -v pbi="$pg_bin" -v din="$ds_in" -v dtx="$ds_text" -v dbi="$ds_bin" \
  -v rest="$rest_secs" -v cores="$(nproc)" '
  function line(what, p, d) {
    printf "%-34s %12.0f %12.0f %8.2fx\n", what, rows / p, rows / d, p / d
  }
  BEGIN {
    printf "rows: %d   CSV: %.1f MB   cores: %s   PostgreSQL %s, duckspace %s, client psql\n\n",
           rows, bytes / 1048576, cores, pgv, dsv
    printf "%-34s %12s %12s %9s\n", "rows/s", "PostgreSQL", "duckspace", "ratio"
    line("COPY orders FROM STDIN (csv)", pin, din)
    line("COPY orders TO STDOUT (text)", ptx, dtx)
    line("COPY orders TO STDOUT (binary)", pbi, dbi)
    printf "%-34s %12s %12.0f\n", "REST import of the same CSV", "-", rows / rest
    printf "\nCOPY FROM STDIN time / REST import time: %.2fx\n", din / rest
  }')
echo
printf '%s\n' "$report"
mkdir -p "$top/bench/out"
{
  echo "bench/copy.sh $ROWS — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(uname -srm)"
  printf '%s\n' "$report"
} >"$top/bench/out/copy-$(date -u +%Y%m%d-%H%M%S).txt"
