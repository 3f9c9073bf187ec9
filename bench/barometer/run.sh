#!/usr/bin/env bash
# Benchmarks of issue 12 (the barometer), each against its named reference, side by side:
#   classify — `barometer evaluate` vs scikit-learn char 1–2 TF-IDF + LinearSVC on THUCNews-10k (5 stratified folds).
# Usage: bench/barometer/run.sh [classify]   (needs the release binary and a venv with crosscheck/requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${GRASSROOTS_BIN:-target/release/grassroots}
PY=${PYTHON:-.venv/bin/python}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
what=("$@")
[ ${#what[@]} -eq 0 ] && what=(classify)
for item in "${what[@]}"; do
  case "$item" in
    classify) "$PY" bench/barometer/classify.py "$BIN" ;;
    *) echo "unknown benchmark: $item" >&2; exit 2 ;;
  esac
done
