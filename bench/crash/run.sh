#!/usr/bin/env bash
# Crash safety: SIGKILL `grassroots serve` at random moments under load, on SQLite and PostgreSQL, and check that
# nothing acknowledged is lost (bench/crash/run.py; `--kills N`, default 200 per backend). Needs the release binary
# (GRASSROOTS_BIN, else $CARGO_TARGET_DIR/release/grassroots) and, for PostgreSQL, GRASSROOTS_TEST_PG.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" bench/crash/run.py "$@"
