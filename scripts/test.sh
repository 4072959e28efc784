#!/usr/bin/env bash
# Set up and run the whole test suite: SQLite and the PostgreSQL at 127.0.0.1:5432 (database `test`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
if ! .venv/bin/python -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then
  echo "########################################################################" >&2
  echo "## PostgreSQL is NOT reachable at 127.0.0.1:5432 (database test).     ##" >&2
  echo "## The PostgreSQL half of the suite will FAIL, not pass quietly.       ##" >&2
  echo "## Start it, or set OMR_SKIP_POSTGRES=1 to run SQLite only.            ##" >&2
  echo "########################################################################" >&2
fi
exec .venv/bin/python -m pytest -q "$@"
