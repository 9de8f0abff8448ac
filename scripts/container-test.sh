#!/usr/bin/env bash
# The container image and the systemd unit, tested as an operator would use them:
#   1. a Debian 12 base image made locally (debootstrap; no image registry is needed) and
#      the image built from deploy/Containerfile with podman,
#   2. the container started with a named volume, the admin key from a secret file, TLS
#      certificate and key mounted, settings by environment,
#   3. its health check, the non-root user, the workers' sandbox (no "not applied"
#      warning), a project, a table (CSV import) and a workspace through the REST API,
#      psql from the host over TLS, a table of the workspace's own,
#   4. the container restarted: everything still there; stopped: exit code 0,
#   5. deploy/duckspace.service checked by systemd-analyze.
# Ends with "N passed, N failed"; exits non-zero when anything failed. A documented
# separate command (docs/deployment.md), not part of scripts/test.sh: the first run
# downloads and builds a base image (several minutes).
#
# Environment: CONTAINER_TEST_KEEP=1 keeps the container, volume and image;
# CONTAINER_BASE_MIRROR (default http://deb.debian.org/debian).
# Podman on this kind of VM: runc (crun refuses the hybrid cgroups), cgroupfs, ulimits
# within the VM's hard limits, host networking (no iptables/nft for published ports).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

MIRROR=${CONTAINER_BASE_MIRROR:-http://deb.debian.org/debian}
BASE_IMAGE=localhost/duckspace-base:bookworm
IMAGE=localhost/duckspace:test
NAME=duckspace-ctest-$$
VOLUME=duckspace-ctest-data-$$
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
passed=0
failed=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
ok() { passed=$((passed + 1)); log "ok: $*"; }
bad() { failed=$((failed + 1)); log "FAILED: $*"; }
check() { # description command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

need=()
for tool in podman runc debootstrap psql openssl curl; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing podman, runc, debootstrap (missing: ${need[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc debootstrap uidmap fuse-overlayfs postgresql-client openssl curl >/dev/null
fi
scripts/setup-deps.sh # third_party/duckdb, which the image's build stage copies

work=$(mktemp -d)
cleanup() {
  if [ "${CONTAINER_TEST_KEEP:-0}" != 1 ]; then
    "${PODMAN[@]}" rm -f -t 5 "$NAME" >/dev/null 2>&1 || true
    "${PODMAN[@]}" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    "${PODMAN[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. images --------------------------------------------------------------------------
if ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  log "making the base image $BASE_IMAGE with debootstrap (bookworm, minbase) from $MIRROR"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; exit 1; }
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$work/rootfs" -c . | "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$work/rootfs"
fi
log "building $IMAGE from deploy/Containerfile"
t0=$(date +%s)
"${PODMAN[@]}" build --network host --format docker --build-arg BASE="$BASE_IMAGE" \
  -f deploy/Containerfile -t "$IMAGE" . >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
log "built in $(( $(date +%s) - t0 )) s"
size=$("${PODMAN[@]}" image inspect "$IMAGE" --format '{{.Size}}')
log "image size: $((size / 1048576)) MB"
no_compiler() {
  local out
  out=$("${PODMAN[@]}" run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    --entrypoint /bin/sh "$IMAGE" -c 'for t in cc gcc c++ cmake make ld; do command -v $t; done; echo checked' 2>/dev/null)
  [ "$out" = checked ] || { echo "  $out"; return 1; }
}
check "the runtime image has no compiler or build tools" no_compiler

# ---- 2. start ---------------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port)
PG_PORT=$(free_port)
key="dsk_$(openssl rand -hex 24)"
mkdir -p "$work/secrets"
printf '%s\n' "$key" >"$work/secrets/admin_key"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/secrets/tls.key" -out "$work/secrets/tls.crt" >/dev/null 2>&1
chmod 0644 "$work/secrets/"* # readable by the image's user (uid 10001); a runtime's secrets do this with uid/mode

start() {
  "${PODMAN[@]}" run -d --name "$NAME" --network host \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    -v "$VOLUME":/var/lib/duckspace \
    -v "$work/secrets/admin_key":/run/secrets/admin_key:ro \
    -v "$work/secrets/tls.crt":/run/secrets/tls_cert:ro \
    -v "$work/secrets/tls.key":/run/secrets/tls_key:ro \
    -e DUCKSPACE_LISTEN_ADDRESS=127.0.0.1 -e DUCKSPACE_ADVERTISED_HOST=127.0.0.1 \
    -e DUCKSPACE_HTTP_PORT="$HTTP_PORT" -e DUCKSPACE_PG_PORT="$PG_PORT" \
    -e DUCKSPACE_ADMIN_KEY_FILE=/run/secrets/admin_key \
    -e DUCKSPACE_TLS_CERT=/run/secrets/tls_cert -e DUCKSPACE_TLS_KEY=/run/secrets/tls_key \
    -e DUCKSPACE_REQUIRE_SSL=on \
    "$IMAGE" >/dev/null
}
wait_health() {
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$HTTP_PORT/health" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  "${PODMAN[@]}" logs "$NAME" | tail -20
  return 1
}
API="http://127.0.0.1:$HTTP_PORT"
api() { # METHOD PATH [curl args...]
  local m=$1 p=$2; shift 2
  curl -sS -X "$m" -H "Authorization: Bearer $key" "$@" "$API$p"
}
log "starting the container"
start
check "the server answers /health" wait_health
check "the image's health check passes" "${PODMAN[@]}" healthcheck run "$NAME"
check "the server runs as the image's user (uid 10001)" \
  bash -c "[ \"\$(${PODMAN[*]} top $NAME huser | tail -n +2 | sort -u | tr -d ' ')\" = 10001 ]"
check "the admin key from the secret file works" \
  bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $key' $API/projects)\" = 200 ]"
check "no admin key was generated into the volume" \
  bash -c "! ${PODMAN[*]} exec $NAME test -e /var/lib/duckspace/admin.key"

# ---- 3. use it --------------------------------------------------------------------------
api POST /projects -H 'Content-Type: application/json' -d '{"id":"shop","name":"Shop"}' >/dev/null
api POST /projects/shop/buckets -H 'Content-Type: application/json' -d '{"stage":"in","name":"sales"}' >/dev/null
printf 'id,amount\n1,10.5\n2,20\n3,7.25\n' >"$work/orders.csv"
api POST "/projects/shop/buckets/in.c-sales/tables?name=orders&primary_key=id" \
  -H 'Content-Type: text/csv' --data-binary @"$work/orders.csv" >"$work/table.json"
check "a table imported from CSV (3 rows)" grep -q '"rows":3' "$work/table.json"
api POST /projects/shop/workspaces -H 'Content-Type: application/json' -d '{"name":"analysis"}' >"$work/ws.json"
conn=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connection"]["connection_string"])' "$work/ws.json" \
  2>/dev/null || true)
check "a workspace with connection info" test -n "$conn"
conn=${conn/sslmode=disable/sslmode=require}
q() { PGCONNECT_TIMEOUT=10 psql "$conn" -XAtq -v ON_ERROR_STOP=1 -c "$1" 2>&1; }
q_is() { # EXPECTED SQL: the query's single value is EXPECTED
  local got
  got=$(q "$2") || true
  [ "$got" = "$1" ] || { echo "  $2 -> $got (want $1)"; return 1; }
}
check "psql from the host over TLS reads the project table" q_is 37.75 "SELECT sum(amount) FROM in_c_sales.orders"
check "a session without TLS is refused (require_ssl)" \
  bash -c "! PGCONNECT_TIMEOUT=10 psql '${conn/sslmode=require/sslmode=disable}' -XAtq -c 'SELECT 1' >/dev/null 2>&1"
q "CREATE TABLE notes AS SELECT id, 'note ' || id AS txt FROM in_c_sales.orders" >/dev/null || true
check "the workspace keeps a table of its own" q_is 3 "SELECT count(*) FROM notes"
# A worker has run the queries above; any part of its lock-down it could not apply
# (no Landlock, an older ABI, seccomp refused) is logged once as "workspace workers: sandbox: …".
if "${PODMAN[@]}" logs "$NAME" 2>&1 | grep -q "workspace workers: sandbox:"; then
  bad "the workers' sandbox is applied in the container: $("${PODMAN[@]}" logs "$NAME" 2>&1 | grep sandbox | head -2)"
else
  ok "the workers' sandbox is applied in the container (no warning in the log)"
fi

# ---- 4. restart, stop -------------------------------------------------------------------
log "restarting the container"
"${PODMAN[@]}" restart -t 30 "$NAME" >/dev/null
check "the server answers after the restart" wait_health
check "the project table survived the restart" q_is 3 "SELECT count(*) FROM in_c_sales.orders"
check "the workspace's own table survived the restart" \
  q_is "note 1,note 2,note 3" "SELECT string_agg(txt, ',' ORDER BY id) FROM notes"
"${PODMAN[@]}" stop -t 30 "$NAME" >/dev/null
check "a stop (SIGTERM) ends the server with exit code 0" \
  bash -c "[ \"\$(${PODMAN[*]} inspect $NAME --format '{{.State.ExitCode}}')\" = 0 ]"
if "${PODMAN[@]}" logs "$NAME" 2>&1 | grep -q "$key"; then bad "the admin key is in the container's log"; else ok "the admin key is not in the container's log"; fi

# ---- 5. the systemd unit ----------------------------------------------------------------
sed "s|/usr/local/bin/duckspace|$top/build/duckspace|" deploy/duckspace.service >"$work/duckspace.service"
[ -x build/duckspace ] || scripts/build.sh >/dev/null
check "deploy/duckspace.service passes systemd-analyze verify" \
  bash -c "out=\$(systemd-analyze verify '$work/duckspace.service' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
