#!/usr/bin/env bash
# Soak: `grassroots serve` at half its measured maximum intake rate, reads mixed in, a row per minute (latency
# percentiles, errors, server RSS). bench/soak/run.py; `--minutes N` (default 10). Needs the release binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" bench/soak/run.py "$@"
