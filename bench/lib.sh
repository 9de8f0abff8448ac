# bench/lib.sh — what the benchmark scripts share; sourced, not run. Before sourcing, set
# top (the repository), PG_BINDIR and DS_BIN. Gives: log, die, now, elapsed, free_port,
# bench_workdir PREFIX (sets work, pgdir; cleans up at exit), as_pg, pg_start [extra
# postgres -c options] (sets pg_port, pg_started), pg_setup_scram (a cluster where clients
# log in over TCP with SCRAM; sets pg_user, pg_pass, pg_db, pg_version, defines pg_super),
# ensure_duckspace, ds_start [extra serve args] (sets admin_key, http_port, ds_pg_port,
# ds_pid, base, ds_version, ds_data, ds_log; DS_INSTANCE=NAME runs several side by side),
# ds_stop PID (sets ds_rc), api, json_field, and CPU accounting: clk_tck, proc_ticks, tree_ticks,
# cpu_us_per.

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

[ -x "$PG_BINDIR/initdb" ] && [ -x "$PG_BINDIR/pg_ctl" ] && [ -x "$PG_BINDIR/psql" ] ||
  die "PostgreSQL 15 not found in $PG_BINDIR (run scripts/setup-deps.sh; it installs 'postgresql')"

if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: run initdb and pg_ctl as the postgres user.
  getent passwd postgres >/dev/null || die "running as root but there is no 'postgres' user"
  as_pg=(runuser -u postgres --)
else
  as_pg=()
fi

# Listening ports come from below the kernel's ephemeral range (where they cannot collide
# with the local end of some client connection); starting a server is retried on new ports.
eph_lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 0)
if [ "${eph_lo:-0}" -gt 22000 ] 2>/dev/null; then port_span=$((eph_lo - 20000)); else port_span=40000; fi
free_port() { # a loopback TCP port nothing listens on
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % port_span))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

pg_started=0
ds_pid=""
ds_pids=()   # every duckspace server ds_start started (stopped at exit)
bench_cleanup() {
  local rc=$?
  local p
  trap - EXIT INT TERM
  for p in "$ds_pid" "${ds_pids[@]}"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
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

bench_workdir() { # PREFIX: a temp dir (work) that the postgres user can read, removed at exit
  work=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/$1.XXXXXX")
  chmod 755 "$work"
  pgdir="$work/pg"
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Starts the cluster initdb'ed in $pgdir/data on a free port, retrying when the port was
# taken meanwhile. Arguments: extra postgres options ("-c name=value ...").
pg_start() {
  local attempt pg_opts
  pg_port=$(free_port)
  for attempt in 1 2 3; do
    pg_opts="-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pgdir"
    pg_opts+=" -c max_wal_size=4GB $* ${BENCH_PG_OPTS:-}"
    if "${as_pg[@]}" "$PG_BINDIR/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -o "$pg_opts" -w -t 60 \
        start >/dev/null; then
      pg_started=1
      return 0
    fi
    if [ "$attempt" -lt 3 ] && grep -q 'Address already in use' "$pgdir/server.log" 2>/dev/null; then
      pg_port=$(free_port)
      log "PostgreSQL: port taken meanwhile, retrying on 127.0.0.1:$pg_port"
      continue
    fi
    cat "$pgdir/server.log" >&2 || true
    die "pg_ctl start failed"
  done
}

# A fresh cluster in $pgdir/data where the superuser `bench` connects over the unix socket
# without a password (setup) and everyone else only over TCP 127.0.0.1 with SCRAM-SHA-256;
# started with pg_start (arguments: extra postgres options). Creates a login role with a
# random password and a database it owns. Sets pg_user, pg_pass, pg_db, pg_version;
# pg_super [psql args] runs psql as the superuser.
pg_super() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdir" -p "$pg_port" -U bench -d postgres "$@"; }
pg_setup_scram() {
  mkdir -p "$pgdir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
  log "PostgreSQL: initdb"
  "${as_pg[@]}" "$PG_BINDIR/initdb" -D "$pgdir/data" -U bench --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$pgdir/initdb.log" 2>&1 ||
    { cat "$pgdir/initdb.log" >&2; die "initdb failed"; }
  # Only the unix socket (setup, as superuser) is trusted; TCP needs SCRAM-SHA-256.
  "${as_pg[@]}" sh -c "printf '%s\n' 'local all all trust' \
    'host all all 127.0.0.1/32 scram-sha-256' >'$pgdir/data/pg_hba.conf'"
  pg_start -c password_encryption=scram-sha-256 "$@"
  pg_version=$(pg_super -At -c 'SHOW server_version' | awk '{ print $1 }')
  pg_user=benchuser
  pg_pass="pw_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  pg_db=bench
  pg_super -c "CREATE ROLE $pg_user LOGIN PASSWORD '$pg_pass'" -c "CREATE DATABASE $pg_db OWNER $pg_user"
}

ensure_duckspace() { # builds build/duckspace when DUCKSPACE_BIN is not given and it is missing
  if [ -n "${DUCKSPACE_BIN:-}" ] && [ ! -x "$DS_BIN" ]; then
    die "DUCKSPACE_BIN=$DS_BIN is not an executable"
  fi
  [ -x "$DS_BIN" ] && return 0
  log "build/duckspace missing: building (Release)"
  if [ ! -f "$top/third_party/duckdb/lib/libduckdb.so" ]; then
    "$top/scripts/setup-deps.sh"
  fi
  (cd "$top" && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build -j2 >/dev/null) || die "building duckspace failed"
  [ -x "$DS_BIN" ] || die "the build did not produce $DS_BIN"
}

# Starts duckspace on a fresh data dir (ds_data: $work/ds-data, log ds_log:
# $work/duckspace.log; with DS_INSTANCE=NAME $work/ds-data-NAME and $work/duckspace-NAME.log,
# so that several servers can run side by side) and waits for /health, retrying on other
# ports when it exits at start. Arguments: extra `serve` arguments. BENCH_DS_CATALOG, when
# set, is passed as --catalog (e.g. a PostgreSQL URL; its password in PGPASSWORD).
ds_start() {
  local attempt up
  local sfx=${DS_INSTANCE:+-$DS_INSTANCE}
  local cat_args=()
  [ -z "${BENCH_DS_CATALOG:-}" ] || cat_args=(--catalog "$BENCH_DS_CATALOG")
  ds_data="$work/ds-data$sfx"
  ds_log="$work/duckspace$sfx.log"
  admin_key="dsk_$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
  for attempt in 1 2 3; do
    http_port=$(free_port)
    ds_pg_port=$(free_port)
    rm -rf "$ds_data"
    mkdir -p "$ds_data"
    log "duckspace${DS_INSTANCE:+ ($DS_INSTANCE)}: starting (HTTP 127.0.0.1:$http_port, PostgreSQL protocol 127.0.0.1:$ds_pg_port)"
    "$DS_BIN" serve --data-dir "$ds_data" --listen-address 127.0.0.1 --http-port "$http_port" \
      --pg-port "$ds_pg_port" --admin-key "$admin_key" "${cat_args[@]}" "$@" >"$ds_log" 2>&1 &
    ds_pid=$!
    ds_pids+=("$ds_pid")
    base="http://127.0.0.1:$http_port"
    up=0
    for _ in $(seq 1 300); do
      if ! kill -0 "$ds_pid" 2>/dev/null; then break; fi
      if curl -fsS -o /dev/null "$base/health" 2>/dev/null; then up=1; break; fi
      sleep 0.1
    done
    if [ "$up" = 1 ] && kill -0 "$ds_pid" 2>/dev/null; then break; fi
    if ! kill -0 "$ds_pid" 2>/dev/null; then
      wait "$ds_pid" 2>/dev/null || true
      ds_pid=""
      # most likely a port taken between the check and the bind: try new ports
      if [ "$attempt" -lt 3 ]; then log "duckspace exited at start: retrying on other ports"; continue; fi
      cat "$ds_log" >&2
      die "duckspace exited at start"
    fi
    cat "$ds_log" >&2
    die "duckspace did not answer /health in 30 s"
  done
  ds_version=$(curl -fsS "$base/health" | sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p')
}

ds_stop() { # PID: SIGTERM, then waits; sets ds_rc to the exit code (duckspace must exit with 0).
  # Not in $(...): only the shell that started the server can wait for it.
  ds_rc=0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || ds_rc=$?
}

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

# --- CPU accounting -------------------------------------------------------------------------
# CPU time in clock ticks from /proc/PID/stat (utime + stime; with_children adds cutime +
# cstime: the processes it has reaped, e.g. PostgreSQL's exited backends, duckspace's exited
# workers).
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
proc_ticks() { # PID [with_children]
  local f
  f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  f=${f##*) }   # fields from the 3rd on (the name in parentheses may hold spaces)
  awk -v c="${2:-0}" '{ t = $12 + $13; if (c) t += $14 + $15; print t }' <<<"$f"
}
tree_ticks() { # PID: its own and its reaped children's ticks, plus those of its live children
  # (a duckspace server: the main process and its worker processes, one per workspace in use)
  local t kids
  t=$(proc_ticks "$1" 1)
  kids=$(pgrep -P "$1" 2>/dev/null | sed 's|.*|/proc/&/stat|' | tr '\n' ' ')
  if [ -n "$kids" ]; then
    # shellcheck disable=SC2086  # one file per word
    t=$(( t + $(cat $kids 2>/dev/null | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }') ))
  fi
  echo "$t"
}
cpu_us_per() { # TICKS_BEFORE TICKS_AFTER COUNT -> microseconds of CPU per unit
  awk -v a="$1" -v b="$2" -v n="$3" -v hz="$clk_tck" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / hz * 1e6 / n }'
}
