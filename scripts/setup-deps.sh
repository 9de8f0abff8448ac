#!/usr/bin/env bash
# Installs everything duckspace needs to build, run and test on Debian 12, and fetches
# DuckDB 1.4.4 (libduckdb.so and duckdb.h) from the npm registry into third_party/duckdb,
# verifying each download by SHA-256. Idempotent: does nothing when all is present.
# No Node.js code runs: npm is only used as a download client ("npm pack").
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest="$top/third_party/duckdb"

DEB_PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libssl-dev libmicrohttpd-dev libjansson-dev libcmocka-dev
  libpg-query-dev libprotobuf-c-dev
  postgresql postgresql-client libpq-dev curl ca-certificates
  python3 python3-psycopg2 python3-psycopg python3-sqlalchemy python3-pandas
  default-jdk-headless libpostgresql-jdbc-java
  unixodbc odbc-postgresql python3-pyodbc python3-asyncpg r-cran-rpostgresql
  npm
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  # npm may come from elsewhere (a machine image with Node.js); only install it if absent.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node-postgres and pg-copy-streams for the Node.js client test, pinned by
# tests/integration/node/package-lock.json (npm ci checks every package's integrity hash).
node_dir="$top/tests/integration/node"
lock_sha=$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$node_dir/node_modules/.duckspace-lock" 2>/dev/null)" != "$lock_sha" ]; then
  echo "setup-deps: installing node-postgres for the client tests"
  (cd "$node_dir" && npm ci --silent --no-audit --no-fund >/dev/null)
  echo "$lock_sha" > "$node_dir/node_modules/.duckspace-lock"
fi

# DuckDB, pinned by version and checksum.
LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_TGZ="duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz"
LIB_SHA=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b
HDR_PKG="duckdb@1.4.4"
HDR_TGZ="duckdb-1.4.4.tgz"
HDR_SHA=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

if [ -f "$dest/lib/libduckdb.so" ] && [ -f "$dest/include/duckdb.h" ] && \
   [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$LIB_SHA $HDR_SHA" ]; then
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() { # pkg tgz sha
  (cd "$work" && npm pack --silent "$1" >/dev/null)
  got=$(sha256sum "$work/$2" | cut -d' ' -f1)
  if [ "$got" != "$3" ]; then
    echo "setup-deps: checksum mismatch for $2: got $got, want $3" >&2
    exit 1
  fi
}
echo "setup-deps: fetching DuckDB 1.4.4"
fetch "$LIB_PKG" "$LIB_TGZ" "$LIB_SHA"
fetch "$HDR_PKG" "$HDR_TGZ" "$HDR_SHA"
rm -rf "$dest"
mkdir -p "$dest/lib" "$dest/include"
tar -xzf "$work/$LIB_TGZ" -C "$work" package/libduckdb.so
mv "$work/package/libduckdb.so" "$dest/lib/"
tar -xzf "$work/$HDR_TGZ" -C "$work" package/src/duckdb/src/include/duckdb.h
mv "$work/package/src/duckdb/src/include/duckdb.h" "$dest/include/"
echo "$LIB_SHA $HDR_SHA" > "$dest/VERSION"
echo "setup-deps: DuckDB installed in $dest"
