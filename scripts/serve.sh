#!/usr/bin/env bash
# Builds duckspace and starts it with the embedded defaults: data in ./data, HTTP on
# 127.0.0.1:8080, an admin key generated and printed on the first start. Any argument
# is passed on to "duckspace serve" (see build/duckspace --help).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/build.sh"
exec "$top/build/duckspace" serve "$@"
