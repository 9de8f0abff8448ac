#!/usr/bin/env bash
# Installs the dependencies (once) and builds build/duckspace. Extra arguments go to
# cmake's configure step (e.g. -DCMAKE_BUILD_TYPE=Release).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$(nproc)"
