#!/usr/bin/env bash
# bench/pgwire.sh [ROWS] — PostgreSQL wire protocol benchmark: duckspace vs PostgreSQL 15.
#
# Starts a throwaway PostgreSQL 15 cluster (SCRAM-SHA-256 over TCP 127.0.0.1) and a throwaway
# duckspace server (one project, one workspace), creates the same data in both, and measures
# with the same clients, each measurement on PostgreSQL and then on duckspace:
#   1. streaming a ROWS-row (default 10,000,000) table of (bigint, integer, double, text):
#      `SELECT * FROM big` through libpq in single-row mode (bench/pgwire_fetch.c) and through
#      `psql -At -c "SELECT * FROM big" > /dev/null` — rows/s,
#   2. pgbench -n -c 8 -j 2 -T 10 with a custom script `SELECT 1;` and with a primary-key point
#      lookup on a 100,000-row table, each with -M simple and -M prepared — transactions/s,
#   3. pgbench -C (a new connection, SCRAM authentication included, per transaction) with
#      `SELECT 1;` — connections/s,
# and prints each figure and the ratio duckspace/PostgreSQL. Everything it starts is stopped
# and removed at the end, also on failure or Ctrl-C. A measurement that fails is reported as
# FAILED with the client's error and the run goes on. See bench/README.md.
#
# Environment: BENCH_TMPDIR (where the temp dir goes, default $TMPDIR or /tmp), BENCH_KEEP=1
# (keep the temp dir), BENCH_PG_OPTS (extra postgres -c options), BENCH_DURATION (seconds per
# pgbench run, default 10), BENCH_CLIENTS (pgbench clients, default 8), BENCH_THREADS (pgbench
# threads, default 2), BENCH_STREAM_RUNS (runs per libpq streaming figure, best kept, default 3),
# BENCH_ONLY=postgres|duckspace (one server only), BENCH_DS_LOG_LEVEL (default warn), PG_BINDIR (default
# /usr/lib/postgresql/15/bin), DUCKSPACE_BIN (binary to measure, default build/duckspace;
# built when missing only in the default place).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ROWS=${1:-10000000}
if ! [[ "$ROWS" =~ ^[0-9]+$ ]] || [ "$ROWS" -lt 1 ]; then
  echo "usage: bench/pgwire.sh [ROWS]   (ROWS: positive integer, default 10000000)" >&2
  exit 2
fi
LOOKUP_ROWS=100000
DURATION=${BENCH_DURATION:-10}
CLIENTS=${BENCH_CLIENTS:-8}
THREADS=${BENCH_THREADS:-2}
STREAM_RUNS=${BENCH_STREAM_RUNS:-3}
for v in DURATION CLIENTS THREADS STREAM_RUNS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "bench/pgwire.sh: $v must be a positive integer" >&2; exit 2; }
done
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
DS_BIN=${DUCKSPACE_BIN:-$top/build/duckspace}
ONLY=${BENCH_ONLY:-}
case "$ONLY" in ""|postgres|duckspace) ;; *) echo "BENCH_ONLY must be postgres or duckspace" >&2; exit 2 ;; esac
run_pg=1; run_ds=1
[ "$ONLY" = postgres ] && run_ds=0
[ "$ONLY" = duckspace ] && run_pg=0

for tool in cc curl awk timeout; do
  command -v "$tool" >/dev/null || { echo "bench/pgwire.sh: $tool not found (run scripts/setup-deps.sh)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
PGBENCH=$PG_BINDIR/pgbench
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench) || die "pgbench not found (package postgresql-contrib)"
PSQL=$PG_BINDIR/psql
pq_inc=$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
[ -f "$pq_inc/libpq-fe.h" ] || die "libpq-fe.h not found: install libpq-dev"

bench_workdir duckspace-pgwire
[ "$run_ds" = 0 ] || ensure_duckspace

# --- 0. compile the client ------------------------------------------------------------------
cc -O2 -std=c11 -I"$pq_inc" -o "$work/pgwire_fetch" "$top/bench/pgwire_fetch.c" -lpq ||
  die "compiling bench/pgwire_fetch.c failed (needs libpq-dev)"

printf 'SELECT 1;\n' >"$work/select1.sql"
printf '\\set id random(1, %d)\nSELECT * FROM lookup WHERE id = :id;\n' "$LOOKUP_ROWS" >"$work/lookup.sql"

# --- 1. PostgreSQL ------------------------------------------------------------------------
pg_version="-"
if [ "$run_pg" = 1 ]; then
  pg_setup_scram -c max_connections=100   # clients: TCP + SCRAM as pg_user (lib.sh)
  pg_conninfo="host=127.0.0.1 port=$pg_port dbname=$pg_db user=$pg_user password=$pg_pass sslmode=disable"
  # everything below goes over TCP with SCRAM, as the benchmark user
  pg_sql() { PGPASSWORD=$pg_pass "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" \
    -U "$pg_user" -d "$pg_db" "$@"; }
  [ "$(pg_sql -At -c 'SELECT 1')" = 1 ] || die "PostgreSQL: SCRAM login over TCP failed"
  log "PostgreSQL $pg_version: creating big ($ROWS rows) and lookup ($LOOKUP_ROWS rows)"
  t0=$(now)
  pg_sql -c "CREATE TABLE big (id bigint, k integer, amount double precision, label text)" \
    -c "INSERT INTO big SELECT i, (i % 1000000)::integer, (i % 100000)::double precision / 100,
               'row-' || i FROM generate_series(1, $ROWS) AS s(i)" \
    -c "VACUUM (FREEZE, ANALYZE) big" \
    -c "CREATE TABLE lookup (id integer PRIMARY KEY, v text)" \
    -c "INSERT INTO lookup SELECT i, 'value-' || i FROM generate_series(1, $LOOKUP_ROWS) AS s(i)" \
    -c "VACUUM (FREEZE, ANALYZE) lookup"
  pg_super -c CHECKPOINT
  t1=$(now)
  pg_load_secs=$(elapsed "$t0" "$t1")
  log "PostgreSQL: data created in $pg_load_secs s"
fi

# --- 2. duckspace -------------------------------------------------------------------------
ds_version="-"
if [ "$run_ds" = 1 ]; then
  ds_start --log-level "${BENCH_DS_LOG_LEVEL:-warn}" --sessions-per-workspace 50 --max-sessions 200
  pid=$(api POST /projects -H 'Content-Type: application/json' -d '{"name":"bench"}' | json_field id)
  [ -n "$pid" ] || die "no project id in the POST /projects response"
  ws=$(api POST "/projects/$pid/workspaces" -H 'Content-Type: application/json' -d '{"name":"pgwire bench"}')
  ds_user=$(printf '%s' "$ws" | json_field username)
  ds_pass=$(printf '%s' "$ws" | json_field password)
  ds_db=$(printf '%s' "$ws" | json_field database)
  [ -n "$ds_user" ] && [ -n "$ds_pass" ] && [ -n "$ds_db" ] || die "no connection info in the workspace: $ws"
  ds_conninfo="host=127.0.0.1 port=$ds_pg_port dbname=$ds_db user=$ds_user password=$ds_pass sslmode=disable"
  ds_sql() { PGPASSWORD=$ds_pass "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$ds_pg_port" \
    -U "$ds_user" -d "$ds_db" "$@"; }
  out=$(ds_sql -At -c 'SELECT 1' 2>&1) || die "duckspace: psql login failed: $out"
  [ "$out" = 1 ] || die "duckspace: SELECT 1 answered '$out'"
  log "duckspace $ds_version: creating big ($ROWS rows) and lookup ($LOOKUP_ROWS rows) in workspace $ds_db"
  t0=$(now)
  ds_sql -c "CREATE TABLE big AS SELECT i::BIGINT AS id, (i % 1000000)::INTEGER AS k,
               (i % 100000)::DOUBLE / 100 AS amount, 'row-' || i AS label
             FROM range(1, $ROWS + 1) AS s(i) ORDER BY i" \
    -c "CREATE TABLE lookup (id INTEGER PRIMARY KEY, v TEXT)" \
    -c "INSERT INTO lookup SELECT i, 'value-' || i FROM range(1, $LOOKUP_ROWS + 1) AS s(i)" ||
    die "duckspace: creating the tables failed"
  t1=$(now)
  ds_load_secs=$(elapsed "$t0" "$t1")
  log "duckspace: data created in $ds_load_secs s"
fi

# --- CPU accounting ------------------------------------------------------------------------
# Server CPU time in clock ticks (lib.sh): for PostgreSQL the postmaster's own time plus that
# of its reaped children (the backends, once they have exited); for duckspace the main
# process's, its exited workers' and its running worker processes' (one per workspace in use).
server_ticks() { # SIDE
  if [ "$1" = ds ]; then tree_ticks "$ds_pid"; else proc_ticks "$(head -n1 "$pgdir/data/postmaster.pid")" 1; fi
}

sides=()
[ "$run_pg" = 1 ] && sides+=(pg)
[ "$run_ds" = 1 ] && sides+=(ds)
side_name() { [ "$1" = pg ] && echo "PostgreSQL" || echo "duckspace"; }
conninfo_of() { [ "$1" = pg ] && echo "$pg_conninfo" || echo "$ds_conninfo"; }
# Results: res[KEY.SIDE] = rows/s or tps, or FAILED; err[KEY.SIDE] = the client's error;
# scpu/ccpu[KEY.SIDE] = server / client CPU microseconds per row (streaming: per 1000 rows)
# or per transaction.
declare -A res err scpu ccpu stream_bytes stream_sum stream_first

fail() { # KEY SIDE MESSAGE
  res[$1.$2]=FAILED
  err[$1.$2]=$3
  log "$(side_name "$2"): $1 FAILED: $3"
}

# --- 3. streaming ---------------------------------------------------------------------------
# bound per run: 60 s + 20 µs per row; a stuck server cannot hang the benchmark
stream_timeout=$(( 60 + ROWS / 50000 ))
TIMEFORMAT='%U %S'
stream_libpq() { # SIDE: best of STREAM_RUNS runs of pgwire_fetch
  local side=$1 ci best="" r out n bytes secs first sum rc t_a t_b c
  ci=$(conninfo_of "$side")
  for r in $(seq 1 "$STREAM_RUNS"); do
    rc=0
    t_a=$(server_ticks "$side")
    { time timeout "$stream_timeout" "$work/pgwire_fetch" "$ci" "SELECT * FROM big" >"$work/out" 2>"$work/err" || rc=$?; } 2>"$work/time"
    sleep 0.2   # let the postmaster reap the backend
    t_b=$(server_ticks "$side")
    if [ "$rc" = 0 ]; then
      read -r n bytes secs first sum <"$work/out"
      log "$(side_name "$side"): libpq single-row run $r: $n rows, $bytes bytes in $secs s (first row after $first s)"
      if [ "$n" != "$ROWS" ]; then fail stream_libpq "$side" "got $n rows, expected $ROWS"; return; fi
      stream_bytes[$side]=$bytes; stream_sum[$side]=$sum; stream_first[$side]=$first
      if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
        best=$secs
        scpu[stream_libpq.$side]=$(cpu_us_per "$t_a" "$t_b" "$((ROWS / 1000))")
        c=$(awk '{ printf "%.0f", ($1 + $2) * 100 }' "$work/time")
        ccpu[stream_libpq.$side]=$(cpu_us_per 0 "$c" "$((ROWS / 1000))")
      fi
    else
      local msg
      msg=$(head -c 600 "$work/err" | tr '\n' ' ')
      [ "$rc" = 124 ] && msg="timed out after $stream_timeout s. $msg"
      fail stream_libpq "$side" "$msg"; return
    fi
  done
  res[stream_libpq.$side]=$(awk -v n="$ROWS" -v s="$best" 'BEGIN { printf "%.0f", n / s }')
}
stream_psql() { # SIDE: psql collects the whole result in memory, then prints it unaligned
  local side=$1 ci rc=0 t0 t1 t_a t_b secs c
  ci=$(conninfo_of "$side")
  t_a=$(server_ticks "$side")
  t0=$(now)
  { time timeout "$stream_timeout" "$PSQL" -X -At -d "$ci" -c "SELECT * FROM big" >/dev/null 2>"$work/err" || rc=$?; } 2>"$work/time"
  t1=$(now)
  sleep 0.2
  t_b=$(server_ticks "$side")
  if [ "$rc" = 0 ]; then
    secs=$(elapsed "$t0" "$t1")
    log "$(side_name "$side"): psql -At: $secs s"
    res[stream_psql.$side]=$(awk -v n="$ROWS" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    scpu[stream_psql.$side]=$(cpu_us_per "$t_a" "$t_b" "$((ROWS / 1000))")
    c=$(awk '{ printf "%.0f", ($1 + $2) * 100 }' "$work/time")
    ccpu[stream_psql.$side]=$(cpu_us_per 0 "$c" "$((ROWS / 1000))")
  else
    local msg
    msg=$(head -c 600 "$work/err" | tr '\n' ' ')
    [ "$rc" = 124 ] && msg="timed out after $stream_timeout s. $msg"
    fail stream_psql "$side" "$msg"
  fi
}
for side in "${sides[@]}"; do stream_libpq "$side"; done
for side in "${sides[@]}"; do stream_psql "$side"; done

# --- 4. pgbench ---------------------------------------------------------------------------
pgbench_run() { # KEY SIDE SCRIPT [pgbench options...]: stores tps in res[KEY.SIDE]
  local key=$1 side=$2 script=$3; shift 3
  local ci port user db pass out tps rc=0 t_a t_b txs failed_tx c msg
  ci=$(conninfo_of "$side")
  port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' <<<"$ci")
  user=$(sed -n 's/.*user=\([^ ]*\).*/\1/p' <<<"$ci")
  db=$(sed -n 's/.*dbname=\([^ ]*\).*/\1/p' <<<"$ci")
  pass=$(sed -n 's/.*password=\([^ ]*\).*/\1/p' <<<"$ci")
  log "$(side_name "$side"): pgbench $key ($*, ${DURATION} s)"
  t_a=$(server_ticks "$side")
  { time PGPASSWORD=$pass PGSSLMODE=disable timeout $((DURATION + 60)) "$PGBENCH" -n -f "$script" \
      -c "$CLIENTS" -j "$THREADS" -T "$DURATION" "$@" -h 127.0.0.1 -p "$port" -U "$user" "$db" \
      >"$work/pgbench-$key-$side.log" 2>&1 || rc=$?; } 2>"$work/time"
  sleep 0.3   # let the postmaster reap the backends
  t_b=$(server_ticks "$side")
  out=$(cat "$work/pgbench-$key-$side.log")
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n1)
  txs=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out" | head -n1)
  failed_tx=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out" | head -n1)
  if [ "$rc" != 0 ] || [ -z "$tps" ] || [ "${failed_tx:-0}" != 0 ] || grep -q 'aborted' <<<"$out"; then
    # pgbench prints the server's message after "error:"; keep the distinct ones
    msg=$(grep -i 'error\|fatal\|aborted\|failed\|could not' <<<"$out" | sort | uniq -c | sort -rn | head -n 4 |
          sed 's/^ *\([0-9]*\) /(x\1) /' | tr '\n' ' ')
    [ "$rc" = 124 ] && msg="timed out. $msg"
    [ -n "$msg" ] || msg="exit code $rc: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    fail "$key" "$side" "$msg"
    return 0
  fi
  res[$key.$side]=$tps
  scpu[$key.$side]=$(cpu_us_per "$t_a" "$t_b" "$txs")
  c=$(awk '{ printf "%.0f", ($1 + $2) * 100 }' "$work/time")
  ccpu[$key.$side]=$(cpu_us_per 0 "$c" "$txs")
  log "$(side_name "$side"): $tps tps ($txs transactions)"
}
for t in "select1_simple select1 -M simple" "select1_prepared select1 -M prepared" \
         "lookup_simple lookup -M simple" "lookup_prepared lookup -M prepared" \
         "connect select1 -M simple -C"; do
  read -r key script opts <<<"$t"
  for side in "${sides[@]}"; do
    # shellcheck disable=SC2086  # opts are words
    pgbench_run "$key" "$side" "$work/$script.sql" $opts
  done
done

# --- 5. report ----------------------------------------------------------------------------
ds_exit=""
if [ -n "$ds_pid" ]; then
  # duckspace must exit cleanly with 0 on SIGTERM
  kill -TERM "$ds_pid" 2>/dev/null || true
  ds_exit=0
  wait "$ds_pid" 2>/dev/null || ds_exit=$?
  ds_pid=""
  [ "$ds_exit" = 0 ] || log "warning: duckspace exited with code $ds_exit on SIGTERM"
fi
fmt() { # value -> 1.23 M / 45.6 k / 789 / FAILED / -
  local v=${1:-}
  case "$v" in
    "") echo "-" ;;
    FAILED) echo "FAILED" ;;
    *) awk -v x="$v" 'BEGIN { if (x >= 1e6) printf "%.2f M", x / 1e6; else if (x >= 1e4) printf "%.1f k", x / 1e3; else printf "%.0f", x }' ;;
  esac
}
ratio() { # KEY -> duckspace / PostgreSQL
  local a=${res[$1.ds]:-} b=${res[$1.pg]:-}
  if [[ "$a" =~ ^[0-9.]+$ ]] && [[ "$b" =~ ^[0-9.]+$ ]] && awk -v b="$b" 'BEGIN { exit !(b > 0) }'; then
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }'
  else
    echo "-"
  fi
}
keys=(stream_libpq stream_psql select1_simple select1_prepared lookup_simple lookup_prepared connect)
declare -A label target unit
label[stream_libpq]="SELECT * FROM big, libpq single-row";    target[stream_libpq]=">=1.5x"; unit[stream_libpq]="rows/s"
label[stream_psql]="SELECT * FROM big, psql -At";              target[stream_psql]=">=1.5x";  unit[stream_psql]="rows/s"
label[select1_simple]="pgbench SELECT 1, -M simple";           target[select1_simple]=">=1x";  unit[select1_simple]="tps"
label[select1_prepared]="pgbench SELECT 1, -M prepared";       target[select1_prepared]=">=1x"; unit[select1_prepared]="tps"
label[lookup_simple]="pgbench point lookup, -M simple";        target[lookup_simple]=">=1x";   unit[lookup_simple]="tps"
label[lookup_prepared]="pgbench point lookup, -M prepared";    target[lookup_prepared]=">=1x"; unit[lookup_prepared]="tps"
label[connect]="pgbench -C SELECT 1, SCRAM";                   target[connect]=">=10x";        unit[connect]="conn/s"
report=$(
  printf 'rows: %d (lookup table: %d)   cores: %s   pgbench -n -c %d -j %d -T %d   PostgreSQL %s, duckspace %s\n' \
    "$ROWS" "$LOOKUP_ROWS" "$(nproc)" "$CLIENTS" "$THREADS" "$DURATION" "$pg_version" "$ds_version"
  if [ "$run_pg" = 1 ]; then
    printf 'data creation: PostgreSQL %s s (INSERT ... FROM generate_series, VACUUM FREEZE, CHECKPOINT)\n' "$pg_load_secs"
  fi
  if [ "$run_ds" = 1 ]; then
    printf 'data creation: duckspace %s s (CREATE TABLE big AS ... FROM range(), INSERT INTO lookup ... FROM range(), in the workspace)\n' "$ds_load_secs"
  fi
  echo
  printf '%-38s %7s %11s %11s %7s %7s   %s\n' "measurement" "unit" "PostgreSQL" "duckspace" "ds/pg" "target" \
    "server CPU/client CPU, us per tx (streaming: per 1000 rows) pg | ds"
  for k in "${keys[@]}"; do
    printf '%-38s %7s %11s %11s %7s %7s   %s/%s | %s/%s\n' "${label[$k]}" "${unit[$k]}" "$(fmt "${res[$k.pg]:-}")" \
      "$(fmt "${res[$k.ds]:-}")" "$(ratio "$k")" "${target[$k]}" "${scpu[$k.pg]:--}" "${ccpu[$k.pg]:--}" \
      "${scpu[$k.ds]:--}" "${ccpu[$k.ds]:--}"
  done
  echo
  if [ -n "${stream_bytes[pg]:-}" ] && [ -n "${stream_bytes[ds]:-}" ]; then
    if [ "${stream_bytes[pg]}" = "${stream_bytes[ds]}" ] && [ "${stream_sum[pg]}" = "${stream_sum[ds]}" ]; then
      printf 'streamed values: %s bytes of text from each server, checksums equal\n' "${stream_bytes[pg]}"
    else
      printf 'streamed values DIFFER: PostgreSQL %s bytes (checksum %s), duckspace %s bytes (checksum %s)\n' \
        "${stream_bytes[pg]}" "${stream_sum[pg]}" "${stream_bytes[ds]}" "${stream_sum[ds]}"
    fi
  fi
  if [[ "${ccpu[connect.ds]:-}" =~ ^[0-9.]+$ ]]; then
    # libpq's SCRAM client computes PBKDF2 (4096 HMAC-SHA-256 rounds) per connection
    awk -v c="${ccpu[connect.ds]}" -v n="$(nproc)" 'BEGIN {
      printf "client CPU per new connection (libpq SCRAM): %.1f ms: with all %d cores for the client and a free server, at most %.0f connections/s\n", c / 1000, n, n * 1e6 / c }'
  fi
  for s in pg ds; do
    if [ -n "${stream_first[$s]:-}" ]; then
      printf 'time to first row, %s: %s s\n' "$(side_name "$s")" "${stream_first[$s]}"
    fi
  done
  if [ -n "$ds_exit" ] && [ "$ds_exit" != 0 ]; then printf 'duckspace exited with code %s on SIGTERM\n' "$ds_exit"; fi
  for k in "${keys[@]}"; do
    for s in pg ds; do
      if [ -n "${err[$k.$s]:-}" ]; then printf 'FAILED: %s on %s: %s\n' "${label[$k]}" "$(side_name "$s")" "${err[$k.$s]}"; fi
    done
  done
)
echo
printf '%s\n' "$report"
mkdir -p "$top/bench/out"
{
  echo "bench/pgwire.sh $ROWS — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(uname -srm)"
  printf '%s\n' "$report"
} >"$top/bench/out/pgwire-$(date -u +%Y%m%d-%H%M%S).txt"
