#!/usr/bin/env bash
# Benchmark of issue 4 item 5: grassroots evaluate vs csdid 0.4.3 side by side.
# DR with one covariate, fit + four aggregations + 1,000-draw bootstrap with bands,
# on 40,000 units × 24 periods (and 10,000 to check that cost grows linearly). grassroots is run RUNS
# times (default 5; median reported), csdid once.
# Usage: bench/did/run.sh [UNITS...]   (needs the release binary and .venv from crosscheck/requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${GRASSROOTS_BIN:-target/release/grassroots}
PY=${PYTHON:-.venv/bin/python}
export OPENBLAS_NUM_THREADS=1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 40000)

measure() { # command... -> prints "wall_seconds cpu_seconds peak_kb"
  local log="$TMP/time.log"
  # Wall time from bash's microsecond clock (time -v prints hundredths).
  local start=$EPOCHREALTIME
  /usr/bin/time -v "$@" >"$TMP/out.txt" 2>"$log"
  local end=$EPOCHREALTIME
  local secs cpu kb
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$log")
  kb=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  echo "$secs $cpu $kb"
}

for n in "${sizes[@]}"; do
  csv="$TMP/panel_$n.csv"
  "$PY" bench/did/gen_panel.py "$n" "$csv"
  # grassroots runs in well under a second, where one run is at the mercy of the scheduler on a shared
  # machine: run it RUNS times and report the median of each measure (and every run, for the record).
  runs=()
  for _ in $(seq "${RUNS:-5}"); do
    runs+=("$(measure "$BIN" evaluate --data "$csv" --unit id --time period --group first_treat \
      --outcome y --covariates x --method dr --bootstrap 1000 --seed 1 --json)")
  done
  median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  g_s=$(printf '%s\n' "${runs[@]}" | awk '{ print $1 }' | median)
  g_cpu=$(printf '%s\n' "${runs[@]}" | awk '{ print $2 }' | median)
  g_kb=$(printf '%s\n' "${runs[@]}" | awk '{ print $3 }' | median)
  echo "units=$n grassroots runs (wall cpu KB): $(printf '%s; ' "${runs[@]}")"
  g_dyn=$("$PY" -c "import json,sys; print(round(json.load(open('$TMP/out.txt'))['aggregations']['dynamic']['att'],6))")
  read -r c_s c_cpu c_kb < <(measure "$PY" bench/did/run_csdid.py "$csv")
  c_line=$(cat "$TMP/out.txt")
  echo "units=$n grassroots (median of ${#runs[@]}): ${g_s}s wall ${g_cpu}s cpu ${g_kb}KB (dynamic ATT $g_dyn) | csdid: ${c_s}s wall ${c_cpu}s cpu ${c_kb}KB ($c_line)"
  awk -v gs="$g_s" -v cs="$c_s" -v gc="$g_cpu" -v cc="$c_cpu" -v gk="$g_kb" -v ck="$c_kb" -v n="$n" \
    'BEGIN { printf "units=%d speed-up %.1fx wall, %.1fx cpu; memory %.1f%% of csdid (goal: >=100x, <=20%%)\n", n, cs/gs, cc/gc, 100*gk/ck }'
done
