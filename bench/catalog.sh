#!/usr/bin/env bash
# bench/catalog.sh — the metadata catalog on PostgreSQL vs the embedded DuckDB catalog.
#
# In one run, on the same machine state: one throwaway PostgreSQL 15 cluster (the catalog,
# reached over TCP 127.0.0.1 with SCRAM-SHA-256) and two duckspace servers of the same
# binary, one with the default catalog (DATA_DIR/metadata.duckdb) and one with
# --catalog postgresql://...; each measurement runs on both, alternating which goes first:
#   1. pgbench -C (a new connection, SCRAM included, per transaction), SELECT 1, -M simple,
#      one workspace user (the login cache always hits): connections/s and server CPU per
#      connection, median of BENCH_ROUNDS runs,
#   2. logins round-robin over many workspaces (bench/catalog_login.c): a warm set (users
#      alone in their slot of the server's 64-slot login cache: every login hits) and a
#      cold set as large (pairs of users sharing a slot: every login misses, one catalog
#      lookup each); connections/s and CPU per login with BENCH_CLIENTS threads, and the
#      time per login with one client and warm and cold logins interleaved,
#   3. the lookup statement itself (bench/catalog_lookup.c), back to back and one every
#      BENCH_LOOKUP_PAUSE_US: over libpq against the catalog database (also as a statement
#      prepared once), and in process on the DuckDB server's metadata.duckdb once stopped,
#   4. REST latency (p50/p95 of BENCH_REST_N requests each): create and delete a workspace,
#      create a table from a small CSV, a full and an incremental import into one table;
#      and the catalog statements each request runs (pg_stat_statements, untimed),
#   5. a REST import of BENCH_IMPORT_ROWS rows (bench/gen_csv.c), BENCH_IMPORT_RUNS times,
# and prints one table: metric, DuckDB catalog, PostgreSQL catalog, ratio, target, verdict,
# also saved to bench/out/catalog-<UTC time>.txt. Everything it starts is stopped and removed
# at the end, also on failure or Ctrl-C. See bench/README.md.
#
# Environment: BENCH_DURATION (seconds per login run, default 10), BENCH_ROUNDS (pgbench
# runs per server, default 3), BENCH_CLIENTS (clients of the throughput runs, default 4),
# BENCH_THREADS (pgbench -j, default 2), BENCH_WORKSPACES (workspaces per server, default
# 128, more than the 64 cache slots), BENCH_REST_N (requests per REST figure, default 30),
# BENCH_LOOKUPS (back-to-back lookups on PostgreSQL, default 20000; a tenth on DuckDB, a
# twentieth spaced), BENCH_LOOKUP_PAUSE_US (default 5000), BENCH_IMPORT_ROWS (default
# 1000000; 0 skips the import), BENCH_IMPORT_RUNS (default 3), BENCH_TMPDIR, BENCH_KEEP=1,
# BENCH_PG_OPTS, PG_BINDIR, DUCKSPACE_BIN (as for the other benchmarks).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-10}
CLIENTS=${BENCH_CLIENTS:-4}
THREADS=${BENCH_THREADS:-2}
NWS=${BENCH_WORKSPACES:-128}
ROUNDS=${BENCH_ROUNDS:-3}
NREST=${BENCH_REST_N:-30}
LOOKUPS=${BENCH_LOOKUPS:-20000}
PAUSE=${BENCH_LOOKUP_PAUSE_US:-5000}
IMPORT_ROWS=${BENCH_IMPORT_ROWS:-1000000}
IMPORT_RUNS=${BENCH_IMPORT_RUNS:-3}
for v in DURATION CLIENTS THREADS NWS ROUNDS NREST LOOKUPS PAUSE IMPORT_RUNS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "bench/catalog.sh: $v must be a positive integer" >&2; exit 2; }
done
[[ "$IMPORT_ROWS" =~ ^[0-9]+$ ]] || { echo "bench/catalog.sh: BENCH_IMPORT_ROWS must be a number" >&2; exit 2; }
[ "$NWS" -gt 64 ] || { echo "bench/catalog.sh: BENCH_WORKSPACES must exceed the 64 login cache slots" >&2; exit 2; }
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
DS_BIN=${DUCKSPACE_BIN:-$top/build/duckspace}
unset BENCH_DS_CATALOG   # each server's catalog is chosen below

for tool in cc curl awk timeout pgrep /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "bench/catalog.sh: $tool not found (run scripts/setup-deps.sh)" >&2; exit 1; }
done
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
PGBENCH=$PG_BINDIR/pgbench
[ -x "$PGBENCH" ] || PGBENCH=$(command -v pgbench) || die "pgbench not found (package postgresql-contrib)"
pq_inc=$(pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
[ -f "$pq_inc/libpq-fe.h" ] || die "libpq-fe.h not found: install libpq-dev"
ddb_dir="$top/third_party/duckdb"

bench_workdir duckspace-catalog
ensure_duckspace
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 0. the clients ---------------------------------------------------------------------------
cc -O2 -std=c11 -pthread -I"$pq_inc" -o "$work/catalog_login" "$top/bench/catalog_login.c" -lpq ||
  die "compiling bench/catalog_login.c failed (needs libpq-dev)"
cc -O2 -std=c11 -I"$pq_inc" -I"$ddb_dir/include" -o "$work/catalog_lookup" "$top/bench/catalog_lookup.c" -lpq \
  -L"$ddb_dir/lib" -lduckdb -Wl,-rpath,"$ddb_dir/lib" || die "compiling bench/catalog_lookup.c failed"
if [ "$IMPORT_ROWS" -gt 0 ]; then
  cc -O2 -std=c11 -o "$work/gen_csv" "$top/bench/gen_csv.c" || die "compiling bench/gen_csv.c failed"
fi
printf 'SELECT 1;\n' >"$work/select1.sql"

# --- 1. PostgreSQL: the catalog's cluster ------------------------------------------------------
pg_setup_scram -c max_connections=100 -c shared_preload_libraries=pg_stat_statements
cat_db=dscatalog
pg_super -c "CREATE DATABASE $cat_db OWNER $pg_user"
pg_super -d "$cat_db" -c "CREATE EXTENSION pg_stat_statements"
# counting statements only for the untimed pass after the REST figures (track_stmts on)
track_stmts() { # none | top
  pg_super -c "ALTER SYSTEM SET pg_stat_statements.track = '$1'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
}
track_stmts none
cat_url="postgresql://$pg_user@127.0.0.1:$pg_port/$cat_db?sslmode=disable"
cat_conninfo="host=127.0.0.1 port=$pg_port dbname=$cat_db user=$pg_user password=$pg_pass sslmode=disable"
log "PostgreSQL $pg_version on 127.0.0.1:$pg_port: catalog database $cat_db"

# --- 2. two duckspace servers ------------------------------------------------------------------
sides=(ddb pgc)
declare -A S_base S_key S_pid S_port S_data S_proj S_rest
side_name() { [ "$1" = ddb ] && echo "DuckDB catalog" || echo "PostgreSQL catalog"; }
save_side() { S_base[$1]=$base; S_key[$1]=$admin_key; S_pid[$1]=$ds_pid; S_port[$1]=$ds_pg_port; S_data[$1]=$ds_data; }
use_side() { base=${S_base[$1]}; admin_key=${S_key[$1]}; ds_pid=${S_pid[$1]}; ds_pg_port=${S_port[$1]}; }
serve_args=(--log-level warn --sessions-per-workspace 50 --max-sessions 400 --workspace-idle-close 3600
            --workspaces-per-project $((NWS + 10)))
DS_INSTANCE=duckdb ds_start "${serve_args[@]}"
save_side ddb
PGPASSWORD=$pg_pass DS_INSTANCE=postgresql ds_start "${serve_args[@]}" --catalog "$cat_url"
save_side pgc
# The PostgreSQL side must really use the catalog database: its two connections are there.
n_conns=$(pg_super -At -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$cat_db'
                           AND application_name IN ('duckspace', 'duckspace-listener')")
[ "$n_conns" = 2 ] || die "the PostgreSQL-catalog server has $n_conns connections to $cat_db (expected 2)"

catalog_backend_ticks() { # SIDE: CPU ticks of the catalog's PostgreSQL backends (0 for DuckDB)
  local t=0 p
  if [ "$1" = pgc ]; then
    for p in $(pg_super -At -c "SELECT pid FROM pg_stat_activity WHERE datname = '$cat_db'
                                AND application_name IN ('duckspace', 'duckspace-listener')"); do
      t=$(( t + $(proc_ticks "$p") ))
    done
  fi
  echo "$t"
}

# Per server: project "bench" with NWS workspaces (one "USER PASSWORD DATABASE" line each)
# and project "rest" with bucket in.c-pub for the REST figures.
for side in "${sides[@]}"; do
  use_side "$side"
  log "$(side_name "$side"): creating $NWS workspaces"
  S_proj[$side]=$(api POST /projects -H 'Content-Type: application/json' -d '{"name":"bench"}' | json_field id)
  [ -n "${S_proj[$side]}" ] || die "no project id in the POST /projects response"
  : >"$work/users-$side.txt"
  for i in $(seq 1 "$NWS"); do
    ws=$(api POST "/projects/${S_proj[$side]}/workspaces" -H 'Content-Type: application/json' -d "{\"name\":\"w$i\"}")
    u=$(json_field username <<<"$ws"); p=$(json_field password <<<"$ws"); d=$(json_field database <<<"$ws")
    if [ -z "$u" ] || [ -z "$p" ] || [ -z "$d" ]; then die "no connection info in the workspace: $ws"; fi
    printf '%s %s %s\n' "$u" "$p" "$d" >>"$work/users-$side.txt"
  done
  S_rest[$side]=$(api POST /projects -H 'Content-Type: application/json' -d '{"name":"rest"}' | json_field id)
  api POST "/projects/${S_rest[$side]}/buckets" -H 'Content-Type: application/json' \
    -d '{"stage":"in","name":"pub"}' >/dev/null
done

# The login cache (catalog.c, cat_workspace_by_username) has 64 slots, slot = FNV-1a-64 of
# the user name mod 64, one user per slot. Warm set: the users alone in their slot (nobody
# evicts them: every login but the first hits). Cold set: as many users, two from each of
# enough slots that several users share (round-robin, each login finds its slot holding its
# slot-mate: every login misses). Mixed: the two interleaved, tagged, for the one-client
# timing (warm and cold logins under the same conditions).
split_sets() { # SIDE
  /usr/bin/python3 - "$work/users-$1.txt" "$work/warm-$1.txt" "$work/cold-$1.txt" "$work/mixed-$1.txt" <<'EOF'
import sys
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
def slot(name):
    h = 1469598103934665603
    for b in name.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h % 64
slots = {}
for l in lines:
    slots.setdefault(slot(l.split()[0]), []).append(l)
warm = [v[0] for v in slots.values() if len(v) == 1]
pairs = [v for v in slots.values() if len(v) > 1][:(len(warm) + 1) // 2]
cold = [v[0] for v in pairs] + [v[1] for v in pairs]
if not warm or len(cold) < len(warm):
    sys.exit("cannot split %d users into a warm and a cold set: use more workspaces" % len(lines))
open(sys.argv[2], "w").writelines(l + "\n" for l in warm)
open(sys.argv[3], "w").writelines(l + "\n" for l in cold)
# one round of the mixed list goes through the cold set exactly once, in order
open(sys.argv[4], "w").writelines("%s warm\n%s cold\n" % (warm[i % len(warm)], cold[i]) for i in range(len(cold)))
EOF
}
for side in "${sides[@]}"; do
  split_sets "$side" || die "$(side_name "$side"): splitting the users into a warm and a cold set failed"
  log "$(side_name "$side"): warm set $(wc -l <"$work/warm-$side.txt") users, cold set $(wc -l <"$work/cold-$side.txt") users"
  # one login per workspace: every worker process runs before anything is measured
  out=$(timeout 600 "$work/catalog_login" 127.0.0.1 "${S_port[$side]}" "$work/users-$side.txt" 2 0 1 2>&1) ||
    die "$(side_name "$side"): logging in to every workspace failed: $out"
  nw=$(pgrep -c -P "${S_pid[$side]}" || true)
  log "$(side_name "$side"): $nw worker processes running"
done

# Idle workers are not free: each wakes up now and then (DuckDB's threads), which over 128
# workers adds up to a steady trickle of CPU that has nothing to do with logins. Measured
# here, on both servers at once, and taken off every CPU figure below.
declare -A idle_rate idle0
sleep 1
w0=$(now)
for side in "${sides[@]}"; do idle0[$side]=$(tree_ticks "${S_pid[$side]}"); done
sleep "$DURATION"
w1=$(now)
for side in "${sides[@]}"; do
  idle_rate[$side]=$(awk -v a="${idle0[$side]}" -v b="$(tree_ticks "${S_pid[$side]}")" -v s="$(elapsed "$w0" "$w1")" \
    'BEGIN { printf "%.3f", (b - a) / s }')
  log "$(side_name "$side"): idle, with $NWS workers: $(awk -v r="${idle_rate[$side]}" -v hz="$clk_tck" 'BEGIN { printf "%.1f", r / hz * 1000 }') ms of CPU per second"
done
busy_ticks() { # SIDE SINCE: the server's CPU ticks now, less its idle trickle since SINCE (now)
  awk -v t="$(tree_ticks "${S_pid[$1]}")" -v r="${idle_rate[$1]}" -v s="$(elapsed "$2" "$(now)")" \
    'BEGIN { printf "%.2f", t - r * s }'
}

# --- measurements ------------------------------------------------------------------------------
# res[KEY.SIDE]: the figure (or FAILED); scpu: duckspace's CPU (main + workers) and bcpu: the
# catalog backends' CPU, microseconds per connection; ccpu: the client's; lat/p50/p95: ms.
declare -A res err scpu bcpu ccpu lat p50 p95
fail() { res[$1.$2]=FAILED; err[$1.$2]=$3; log "$(side_name "$2"): $1 FAILED: $3"; }
TIMEFORMAT='%U %S'
order="pgc ddb"
next_order() { # sets order: which server goes first alternates from one measurement to the next
  if [ "$order" = "ddb pgc" ]; then order="pgc ddb"; else order="ddb pgc"; fi
}
client_cpu_us() { # TIMEFILE COUNT
  awk -v n="$2" '{ if (n > 0) printf "%.1f", ($1 + $2) * 1e6 / n }' "$1"
}

pgbench_connect() { # SIDE ROUND: pgbench -C as the first workspace's user
  local side=$1 key=pgbench$2 user pass db rc=0 t_a t_b w_a b_a b_b out tps txs
  read -r user pass db <"$work/users-$side.txt"
  log "$(side_name "$side"): pgbench -C SELECT 1 (-c $CLIENTS -j $THREADS, ${DURATION} s), round $2 of $ROUNDS"
  t_a=$(tree_ticks "${S_pid[$side]}"); b_a=$(catalog_backend_ticks "$side"); w_a=$(now)
  { time PGPASSWORD=$pass PGSSLMODE=disable timeout $((DURATION + 60)) "$PGBENCH" -n -C -M simple \
      -f "$work/select1.sql" -c "$CLIENTS" -j "$THREADS" -T "$DURATION" -h 127.0.0.1 -p "${S_port[$side]}" \
      -U "$user" "$db" >"$work/pgbench-$side.log" 2>&1 || rc=$?; } 2>"$work/time"
  sleep 0.3
  t_b=$(busy_ticks "$side" "$w_a"); b_b=$(catalog_backend_ticks "$side")
  out=$(cat "$work/pgbench-$side.log")
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out" | head -n1)
  txs=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out" | head -n1)
  if [ "$rc" != 0 ] || [ -z "$tps" ] || grep -q 'aborted' <<<"$out"; then
    fail "$key" "$side" "$(grep -i 'error\|fatal\|aborted' <<<"$out" | sort | uniq -c | head -n 3 | tr '\n' ' ')"
    return 0
  fi
  res[$key.$side]=$(awk -v t="$tps" 'BEGIN { printf "%.1f", t }')
  scpu[$key.$side]=$(cpu_us_per "$t_a" "$t_b" "$txs")
  bcpu[$key.$side]=$(cpu_us_per "$b_a" "$b_b" "$txs")
  ccpu[$key.$side]=$(client_cpu_us "$work/time" "$txs")
  log "$(side_name "$side"): $tps connections/s, duckspace CPU ${scpu[$key.$side]} us/connection"
}

logins() { # KEY SIDE SET THREADS: round-robin logins over the users of SET; for a tagged set
  # (mixed) the times of each group go to KEY_GROUP
  local key=$1 side=$2 set=$3 nthreads=$4 rc=0 t_a t_b w_a b_a b_b g n secs mean p50v p95v gk total=0
  log "$(side_name "$side"): $key ($set set, $nthreads thread(s), ${DURATION} s)"
  t_a=$(tree_ticks "${S_pid[$side]}"); b_a=$(catalog_backend_ticks "$side"); w_a=$(now)
  { time timeout $((DURATION + 60)) "$work/catalog_login" 127.0.0.1 "${S_port[$side]}" "$work/$set-$side.txt" \
      "$nthreads" "$DURATION" >"$work/out" 2>"$work/err" || rc=$?; } 2>"$work/time"
  sleep 0.3
  t_b=$(busy_ticks "$side" "$w_a"); b_b=$(catalog_backend_ticks "$side")
  if [ "$rc" != 0 ]; then fail "$key" "$side" "$(head -c 400 "$work/err")"; return 0; fi
  while read -r g n _ secs mean p50v p95v; do
    if [ "$g" = all ]; then gk=$key; else gk=${key}_$g; fi
    res[$gk.$side]=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
    lat[$gk.$side]=$mean; p50[$gk.$side]=$p50v; p95[$gk.$side]=$p95v
    total=$((total + n))
    log "$(side_name "$side"): $gk: $n logins in $secs s, mean $mean ms, p50 $p50v ms"
  done <"$work/out"
  scpu[$key.$side]=$(cpu_us_per "$t_a" "$t_b" "$total")
  bcpu[$key.$side]=$(cpu_us_per "$b_a" "$b_b" "$total")
  ccpu[$key.$side]=$(client_cpu_us "$work/time" "$total")
  log "$(side_name "$side"): $key: duckspace CPU ${scpu[$key.$side]} us/login, catalog backends ${bcpu[$key.$side]} us/login"
}

# --- 3. logins -----------------------------------------------------------------------------------
for r in $(seq 1 "$ROUNDS"); do
  next_order; for side in $order; do pgbench_connect "$side" "$r"; done
done
median() { # numbers as arguments (others ignored) -> their median
  printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
for side in "${sides[@]}"; do
  for a in res scpu bcpu ccpu; do
    declare -n arr=$a
    vals=()
    for r in $(seq 1 "$ROUNDS"); do vals+=("${arr[pgbench$r.$side]:-}"); done
    arr[pgbench.$side]=$(median "${vals[@]}")
    unset -n arr
  done
done
next_order; for side in $order; do logins warm_n "$side" warm "$CLIENTS"; done
next_order; for side in $order; do logins cold_n "$side" cold "$CLIENTS"; done
next_order; for side in $order; do logins mixed "$side" mixed 1; done

# --- 4. REST latency -------------------------------------------------------------------------------
small_csv() { # ROWS OFFSET
  awk -v n="$1" -v o="$2" 'BEGIN { print "id,amount,label"; for (i = 1; i <= n; i++) printf "%d,%d.25,row-%d\n", o + i, i, o + i }'
}
small_csv 100 0 >"$work/small.csv"
rest_timed() { # KEY SIDE METHOD PATH [curl args]: appends the request's milliseconds to rest-KEY-SIDE.txt
  local key=$1 side=$2 method=$3 path=$4 out code t; shift 4
  out=$(curl -sS -o "$work/body" -X "$method" -H "Authorization: Bearer ${S_key[$side]}" \
    -w '%{http_code} %{time_total}' "$@" "${S_base[$side]}$path") || { fail "$key" "$side" "curl failed"; return 1; }
  code=${out%% *}; t=${out#* }
  if [ "$code" -ge 300 ]; then fail "$key" "$side" "$method $path -> HTTP $code: $(head -c 300 "$work/body")"; return 1; fi
  awk -v t="$t" 'BEGIN { printf "%.3f\n", t * 1000 }' >>"$work/rest-$key-$side.txt"
}
rest_keys=(ws_create ws_delete table_create import_full import_incr)
for side in "${sides[@]}"; do
  for k in "${rest_keys[@]}"; do : >"$work/rest-$k-$side.txt"; done
  # the table the full and incremental imports go to (not timed)
  curl -fsS -o /dev/null -X POST -H "Authorization: Bearer ${S_key[$side]}" -H 'Content-Type: text/csv' \
    --data-binary @"$work/small.csv" "${S_base[$side]}/projects/${S_rest[$side]}/buckets/in.c-pub/tables?name=r" ||
    die "$(side_name "$side"): creating table in.c-pub.r failed"
done
log "REST: $NREST rounds of workspace create + delete, table create, full import, incremental import"
for i in $(seq 1 "$NREST"); do
  small_csv 100 $((i * 100)) >"$work/incr.csv"
  next_order; for side in $order; do
    rp=${S_rest[$side]}
    if rest_timed ws_create "$side" POST "/projects/$rp/workspaces" -H 'Content-Type: application/json' \
         -d "{\"name\":\"rest$i\"}"; then
      wid=$(json_field id <"$work/body")
      rest_timed ws_delete "$side" DELETE "/projects/$rp/workspaces/$wid" || true
    fi
    rest_timed table_create "$side" POST "/projects/$rp/buckets/in.c-pub/tables?name=t$i" \
      -H 'Content-Type: text/csv' --data-binary @"$work/small.csv" || true
    rest_timed import_full "$side" POST "/projects/$rp/tables/in.c-pub.r/import" \
      -H 'Content-Type: text/csv' --data-binary @"$work/small.csv" || true
    rest_timed import_incr "$side" POST "/projects/$rp/tables/in.c-pub.r/import?incremental=true" \
      -H 'Content-Type: text/csv' --data-binary @"$work/incr.csv" || true
  done
done
# Catalog statements per REST request, counted on the PostgreSQL side (both backends run the
# same statements: catalog.c), for one more untimed request of each kind; least of 2 rounds
# (the reaper's periodic SELECT may land in between).
stmt_calls() {
  pg_super -At -d "$cat_db" -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
                   JOIN pg_database d ON d.oid = s.dbid WHERE r.rolname = '$pg_user' AND d.datname = '$cat_db'"
}
declare -A stmts
counted() { # KEY METHOD PATH [curl args]: one request on the PostgreSQL side, its statements -> stmts[KEY]
  local key=$1 method=$2 path=$3 c0 c1; shift 3
  c0=$(stmt_calls)
  curl -fsS -o "$work/body" -X "$method" -H "Authorization: Bearer ${S_key[pgc]}" "$@" "${S_base[pgc]}$path" ||
    { log "statement count for $key failed"; return 0; }
  c1=$(stmt_calls)
  if [ -z "${stmts[$key]:-}" ] || [ $((c1 - c0)) -lt "${stmts[$key]}" ]; then stmts[$key]=$((c1 - c0)); fi
}
track_stmts top
for i in 1 2; do
  rp=${S_rest[pgc]}
  counted ws_create POST "/projects/$rp/workspaces" -H 'Content-Type: application/json' -d "{\"name\":\"count$i\"}"
  wid=$(json_field id <"$work/body")
  counted ws_delete DELETE "/projects/$rp/workspaces/$wid"
  counted table_create POST "/projects/$rp/buckets/in.c-pub/tables?name=count$i" -H 'Content-Type: text/csv' \
    --data-binary @"$work/small.csv"
  counted import_full POST "/projects/$rp/tables/in.c-pub.r/import" -H 'Content-Type: text/csv' --data-binary @"$work/small.csv"
  counted import_incr POST "/projects/$rp/tables/in.c-pub.r/import?incremental=true" -H 'Content-Type: text/csv' \
    --data-binary @"$work/incr.csv"
done
track_stmts none

pct() { # FILE P: the P-th percentile (nearest rank) of the numbers in FILE
  sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { if (NR) { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print v[i] } }'
}
for side in "${sides[@]}"; do
  for k in "${rest_keys[@]}"; do
    [ "${res[$k.$side]:-}" = FAILED ] && continue
    res[$k.$side]=$(pct "$work/rest-$k-$side.txt" 50)
    p95[$k.$side]=$(pct "$work/rest-$k-$side.txt" 95)
  done
done

# --- 5. import --------------------------------------------------------------------------------------
if [ "$IMPORT_ROWS" -gt 0 ]; then
  csv="$work/orders.csv"
  log "generating $IMPORT_ROWS rows"
  "$work/gen_csv" "$IMPORT_ROWS" "$csv"
  for side in "${sides[@]}"; do : >"$work/import-$side.txt"; done
  for r in $(seq 1 "$IMPORT_RUNS"); do
    next_order; for side in $order; do
      log "$(side_name "$side"): import $r of $IMPORT_RUNS ($IMPORT_ROWS rows)"
      out=$(curl -sS -o "$work/body" -X POST -H "Authorization: Bearer ${S_key[$side]}" -H 'Content-Type: text/csv' \
        --data-binary @"$csv" -w '%{http_code} %{time_total}' \
        "${S_base[$side]}/projects/${S_rest[$side]}/buckets/in.c-pub/tables?name=orders$r") || out="000 0"
      if [ "${out%% *}" != 201 ] || [ "$(json_field rows <"$work/body")" != "$IMPORT_ROWS" ]; then
        fail import "$side" "HTTP ${out%% *}: $(head -c 300 "$work/body")"
        continue
      fi
      echo "${out#* }" >>"$work/import-$side.txt"
    done
  done
  for side in "${sides[@]}"; do
    [ "${res[import.$side]:-}" = FAILED ] && continue
    # median seconds -> rows/s
    res[import.$side]=$(awk -v n="$IMPORT_ROWS" -v s="$(pct "$work/import-$side.txt" 50)" 'BEGIN { printf "%.0f", n / s }')
    lat[import.$side]=$(pct "$work/import-$side.txt" 50)
  done
fi

# --- stop the servers -----------------------------------------------------------------------------
declare -A ds_exit
for side in "${sides[@]}"; do
  ds_stop "${S_pid[$side]}"
  ds_exit[$side]=$ds_rc
  [ "${ds_exit[$side]}" = 0 ] || log "warning: $(side_name "$side") server exited with code ${ds_exit[$side]} on SIGTERM"
done
ds_pid=""; ds_pids=()

# --- 6. the lookup statement alone -------------------------------------------------------------------
lookup_run() { # KEY SIDE TARGET COUNT [catalog_lookup options]
  local key=$1 side=$2 target=$3 count=$4 rc=0 n mean p50v p95v ccpu_us bcpu_us; shift 4
  log "$(side_name "$side"): $count lookups $* (the statement of cat_workspace_by_username)"
  timeout 600 "$work/catalog_lookup" "$@" "$target" "$work/users-$side.txt" "$count" >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" != 0 ]; then fail "$key" "$side" "$(head -c 400 "$work/err")"; return 0; fi
  read -r n mean p50v p95v ccpu_us bcpu_us <"$work/out"
  res[$key.$side]=$mean; p50[$key.$side]=$p50v; p95[$key.$side]=$p95v
  ccpu[$key.$side]=$ccpu_us; bcpu[$key.$side]=$bcpu_us
}
# back to back (the best case), then one every PAUSE microseconds (as a miss comes in a
# server, between logins: the CPU caches and the backend have cooled meanwhile)
ddb_file="duckdb:${S_data[ddb]}/metadata.duckdb"
spaced=$(( LOOKUPS / 20 > 100 ? LOOKUPS / 20 : 100 ))
lookup_run lookup ddb "$ddb_file" $(( LOOKUPS / 10 > 200 ? LOOKUPS / 10 : 200 ))
lookup_run lookup pgc "$cat_conninfo" "$LOOKUPS"
lookup_run lookup_prep pgc "$cat_conninfo" "$LOOKUPS" -p
lookup_run spaced ddb "$ddb_file" $(( spaced / 5 > 100 ? spaced / 5 : 100 )) -s "$PAUSE"
lookup_run spaced pgc "$cat_conninfo" "$spaced" -s "$PAUSE"
lookup_run spaced_prep pgc "$cat_conninfo" "$spaced" -p -s "$PAUSE"
# PostgreSQL's own view of the statement: planning and execution time (EXPLAIN ANALYZE of
# the third execution in the session)
first_user=$(awk 'NR == 1 { print $1 }' "$work/users-pgc.txt")
explain=$(pg_super -At -d "$cat_db" -c "SET search_path = duckspace" \
  -c "PREPARE q(text) AS SELECT w.id, w.project_id, w.branch_id, w.name, w.created_at, coalesce(w.expires_at, 0),
        w.size_limit_bytes, w.status, coalesce(c.username, ''), c.scram_verifier
        FROM workspaces w LEFT JOIN workspace_credentials c ON c.workspace_id = w.id WHERE c.username = \$1" \
  -c "EXECUTE q('$first_user')" -c "EXECUTE q('$first_user')" -c "EXPLAIN (ANALYZE) EXECUTE q('$first_user')" 2>&1 || true)
pg_plan=$(sed -n 's/^Planning Time: \(.*\)/\1/p' <<<"$explain" | tail -n1)
pg_exec=$(sed -n 's/^Execution Time: \(.*\)/\1/p' <<<"$explain" | tail -n1)
pg_shape=$(grep -o 'Index Scan using [a-z_]*\|Seq Scan on [a-z_]*\|Hash Join\|Nested Loop' <<<"$explain" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 7. report ------------------------------------------------------------------------------------------
num() { [[ "${1:-}" =~ ^-?[0-9.]+$ ]]; }
ms() { if num "${1:-}"; then awk -v x="$1" 'BEGIN { printf "%.2f", x / 1000 }'; else echo "${1:--}"; fi; }
sum_v() { if num "${1:-}" && num "${2:-}"; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a + b }'; fi; }
diff_v() { if num "${1:-}" && num "${2:-}"; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; fi; }
declare -A tcpu extra_cpu extra_mean extra_p50
for side in "${sides[@]}"; do
  # duckspace's CPU plus the catalog backends' (0 on DuckDB)
  for k in pgbench warm_n cold_n; do tcpu[$k.$side]=$(sum_v "${scpu[$k.$side]:-}" "${bcpu[$k.$side]:-}"); done
  # what a cache miss adds: CPU per login (cold set - warm set); time per login, one client,
  # cold and warm logins interleaved
  extra_cpu[$side]=$(diff_v "${tcpu[cold_n.$side]:-}" "${tcpu[warm_n.$side]:-}")
  extra_mean[$side]=$(diff_v "${lat[mixed_cold.$side]:-}" "${lat[mixed_warm.$side]:-}")
  extra_p50[$side]=$(diff_v "${p50[mixed_cold.$side]:-}" "${p50[mixed_warm.$side]:-}")
done

# row LABEL UNIT DUCKDB PG TARGET: TARGET is ">=R" / "<=R" (on the ratio PG/DuckDB), "pg<=V"
# (on the PostgreSQL value), or "-" (reported only)
row() {
  local label=$1 unit=$2 a=${3:-} b=${4:-} target=$5 ratio="-" verdict="-"
  if num "$a" && num "$b" && awk -v a="$a" 'BEGIN { exit !(a > 0) }'; then
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", b / a }')
  fi
  case "$target" in
    ">="*) if [ "$ratio" != - ]; then
             verdict=$(awk -v r="${ratio%x}" -v t="${target#>=}" 'BEGIN { print (r >= t ? "PASS" : "MISS") }'); fi
           target="${target}x" ;;
    "<="*) if [ "$ratio" != - ]; then
             verdict=$(awk -v r="${ratio%x}" -v t="${target#<=}" 'BEGIN { print (r <= t ? "PASS" : "MISS") }'); fi
           target="${target}x" ;;
    "pg<="*) if num "$b"; then
             verdict=$(awk -v v="$b" -v t="${target#pg<=}" 'BEGIN { print (v <= t ? "PASS" : "MISS") }'); fi
           target="PG ${target#pg}" ;;
  esac
  printf '%-52s %-6s %10s %10s %9s %9s %7s\n' "$label" "$unit" "${a:--}" "${b:--}" "$ratio" "$target" "$verdict"
}
wc_set() { wc -l <"$work/$1-$2.txt" | tr -d ' '; }
report=$(
  printf 'cores: %s   load average at start %s, at end %s   PostgreSQL %s, duckspace %s\n' "$(nproc)" \
    "$load_start" "$load_end" "$pg_version" "$ds_version"
  printf 'logins: %d workspaces per server, warm set %s / %s users, cold set %s / %s users (DuckDB / PostgreSQL catalog);\n' \
    "$NWS" "$(wc_set warm ddb)" "$(wc_set warm pgc)" "$(wc_set cold ddb)" "$(wc_set cold pgc)"
  printf '        %d s per run, pgbench -C -c %d -j %d median of %d runs; REST: %d requests each; import: %s rows x %d\n' \
    "$DURATION" "$CLIENTS" "$THREADS" "$ROUNDS" "$NREST" "$IMPORT_ROWS" "$IMPORT_RUNS"
  echo
  printf '%-52s %-6s %10s %10s %9s %9s %7s\n' "metric" "unit" "DuckDB" "PostgreSQL" "PG/DuckDB" "target" "verdict"
  row "pgbench -C SELECT 1, one user (warm cache)" "conn/s" "${res[pgbench.ddb]:-}" "${res[pgbench.pgc]:-}" ">=0.90"
  row "  server CPU per connection (duckspace)" "ms" "$(ms "${scpu[pgbench.ddb]:-}")" "$(ms "${scpu[pgbench.pgc]:-}")" "<=1.10"
  row "  the same + catalog backends" "ms" "$(ms "${tcpu[pgbench.ddb]:-}")" "$(ms "${tcpu[pgbench.pgc]:-}")" "<=1.10"
  row "logins round-robin, warm set, $CLIENTS clients" "conn/s" "${res[warm_n.ddb]:-}" "${res[warm_n.pgc]:-}" "-"
  row "  server CPU per login (+ catalog backends)" "ms" "$(ms "${tcpu[warm_n.ddb]:-}")" "$(ms "${tcpu[warm_n.pgc]:-}")" "-"
  row "logins round-robin, cold set, $CLIENTS clients" "conn/s" "${res[cold_n.ddb]:-}" "${res[cold_n.pgc]:-}" "-"
  row "  server CPU per login (+ catalog backends)" "ms" "$(ms "${tcpu[cold_n.ddb]:-}")" "$(ms "${tcpu[cold_n.pgc]:-}")" "-"
  row "    of which catalog backends" "ms" "$(ms "${bcpu[cold_n.ddb]:-}")" "$(ms "${bcpu[cold_n.pgc]:-}")" "-"
  row "  extra server CPU per cold login (cold - warm)" "ms" "$(ms "${extra_cpu[ddb]:-}")" "$(ms "${extra_cpu[pgc]:-}")" "-"
  row "login time, 1 client, warm/cold interleaved: warm" "ms" "${lat[mixed_warm.ddb]:-}" "${lat[mixed_warm.pgc]:-}" "-"
  row "  cold" "ms" "${lat[mixed_cold.ddb]:-}" "${lat[mixed_cold.pgc]:-}" "-"
  row "  extra time per cold login, mean" "ms" "${extra_mean[ddb]:-}" "${extra_mean[pgc]:-}" "pg<=0.3"
  row "  extra time per cold login, median" "ms" "${extra_p50[ddb]:-}" "${extra_p50[pgc]:-}" "pg<=0.3"
  row "lookup statement alone, back to back, mean" "ms" "$(ms "${res[lookup.ddb]:-}")" "$(ms "${res[lookup.pgc]:-}")" "pg<=0.3"
  row "  p95" "ms" "$(ms "${p95[lookup.ddb]:-}")" "$(ms "${p95[lookup.pgc]:-}")" "-"
  row "  CPU in the duckspace process" "ms" "$(ms "${ccpu[lookup.ddb]:-}")" "$(ms "${ccpu[lookup.pgc]:-}")" "-"
  row "  CPU in the PostgreSQL backend" "ms" "-" "$(ms "${bcpu[lookup.pgc]:-}")" "-"
  row "lookup statement alone, one every $((PAUSE / 1000)) ms, mean" "ms" "$(ms "${res[spaced.ddb]:-}")" "$(ms "${res[spaced.pgc]:-}")" "pg<=0.3"
  row "  p95" "ms" "$(ms "${p95[spaced.ddb]:-}")" "$(ms "${p95[spaced.pgc]:-}")" "-"
  row "  CPU in the duckspace process" "ms" "$(ms "${ccpu[spaced.ddb]:-}")" "$(ms "${ccpu[spaced.pgc]:-}")" "-"
  row "  CPU in the PostgreSQL backend" "ms" "-" "$(ms "${bcpu[spaced.pgc]:-}")" "-"
  row "PG lookup prepared once (as pg.c does), back to back" "ms" "-" "$(ms "${res[lookup_prep.pgc]:-}")" "-"
  row "  one every $((PAUSE / 1000)) ms" "ms" "-" "$(ms "${res[spaced_prep.pgc]:-}")" "-"
  for k in "${rest_keys[@]}"; do
    case $k in
      ws_create) l="REST POST .../workspaces (create)" ;;
      ws_delete) l="REST DELETE .../workspaces/{id}" ;;
      table_create) l="REST POST .../tables, 100-row CSV (new table)" ;;
      import_full) l="REST POST .../import, 100 rows (full replace)" ;;
      import_incr) l="REST POST .../import?incremental=true, 100 rows" ;;
    esac
    row "$l, p50" "ms" "${res[$k.ddb]:-}" "${res[$k.pgc]:-}" "-"
    row "  p95" "ms" "${p95[$k.ddb]:-}" "${p95[$k.pgc]:-}" "-"
  done
  if [ "$IMPORT_ROWS" -gt 0 ]; then
    row "REST import of $IMPORT_ROWS rows, median of $IMPORT_RUNS" "rows/s" "${res[import.ddb]:-}" "${res[import.pgc]:-}" ">=0.95"
  fi
  echo
  printf 'catalog statements per REST request (pg_stat_statements, BEGIN/COMMIT included):'
  for k in "${rest_keys[@]}"; do printf ' %s %s' "$k" "${stmts[$k]:--}"; done
  echo
  printf 'PostgreSQL EXPLAIN ANALYZE of the lookup: planning %s, execution %s (%s)\n' "${pg_plan:--}" "${pg_exec:--}" "${pg_shape:--}"
  printf 'client CPU per login (the same work on both sides: a yardstick of machine noise), DuckDB / PostgreSQL catalog:'
  for k in pgbench warm_n cold_n mixed; do printf ' %s %s / %s ms;' "$k" "$(ms "${ccpu[$k.ddb]:-}")" "$(ms "${ccpu[$k.pgc]:-}")"; done
  echo
  printf 'idle CPU of each server with its %d workers, taken off the CPU figures: DuckDB catalog %s, PostgreSQL catalog %s ms per second\n' \
    "$NWS" "$(awk -v r="${idle_rate[ddb]}" -v hz="$clk_tck" 'BEGIN { printf "%.1f", r / hz * 1000 }')" \
    "$(awk -v r="${idle_rate[pgc]}" -v hz="$clk_tck" 'BEGIN { printf "%.1f", r / hz * 1000 }')"
  printf 'pgbench -C runs, conn/s: DuckDB'
  for r in $(seq 1 "$ROUNDS"); do printf ' %s' "${res[pgbench$r.ddb]:--}"; done
  printf ', PostgreSQL'
  for r in $(seq 1 "$ROUNDS"); do printf ' %s' "${res[pgbench$r.pgc]:--}"; done
  echo
  printf 'login time p95, 1 client: warm %s / %s ms, cold %s / %s ms (DuckDB / PostgreSQL catalog)\n' \
    "${p95[mixed_warm.ddb]:-}" "${p95[mixed_warm.pgc]:-}" "${p95[mixed_cold.ddb]:-}" "${p95[mixed_cold.pgc]:-}"
  for side in "${sides[@]}"; do
    [ "${ds_exit[$side]}" = 0 ] || printf '%s server exited with code %s on SIGTERM\n' "$(side_name "$side")" "${ds_exit[$side]}"
  done
  for k in "${!err[@]}"; do printf 'FAILED: %s: %s\n' "$k" "${err[$k]}"; done
)
echo
printf '%s\n' "$report"
mkdir -p "$top/bench/out"
{
  echo "bench/catalog.sh — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(uname -srm)"
  printf '%s\n' "$report"
} >"$top/bench/out/catalog-$(date -u +%Y%m%d-%H%M%S).txt"
