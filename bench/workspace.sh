#!/usr/bin/env bash
# Workspace benchmark (one command): see bench/workspace_open.py. Usage: bench/workspace.sh [TABLES] [ROWS]
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/workspace_open.py" "$@"
