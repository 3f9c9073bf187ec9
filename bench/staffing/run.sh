#!/usr/bin/env bash
# Staffing matcher vs scipy's linear_sum_assignment on the same seeded problems: same optimum, times and their ratio.
# Usage: bench/staffing/run.sh [SIZES...]   (each size PEOPLExPOSTS; default 500x100 2000x400 11000x2000)
# Needs a release build of `grassroots` (GRASSROOTS_BIN, default target/release/grassroots) and a venv with scipy
# (VENV, default .tmp/venv-bench: python3 -m venv .tmp/venv-bench && .tmp/venv-bench/bin/pip install scipy).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${GRASSROOTS_BIN:-${CARGO_TARGET_DIR:-target}/release/grassroots}
VENV=${VENV:-.tmp/venv-bench}
MAX_KM=${MAX_KM:-50}
SEED=${SEED:-14}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(500x100 2000x400 11000x2000)
WORK=.tmp/bench-staffing
mkdir -p "$WORK"
printf '%-12s %7s %8s %16s %16s %5s %9s %9s %8s %9s %8s\n' size places pairs grassroots_total scipy_total same grass_s lsa_s ratio scipy_s ratio
status=0
for size in "${SIZES[@]}"; do
  people=${size%x*}; posts=${size#*x}
  dir="$WORK/$size"; mkdir -p "$dir"
  "$VENV/bin/python" bench/staffing/gen_problem.py "$people" "$posts" "$SEED" "$dir"
  start=$(date +%s.%N)
  "$BIN" staffing match --people "$dir/people.csv" --posts "$dir/posts.csv" --max-km "$MAX_KM" --json > "$dir/grassroots.json"
  end=$(date +%s.%N)
  scipy_start=$(date +%s.%N)
  "$VENV/bin/python" bench/staffing/scipy_match.py "$dir/people.csv" "$dir/posts.csv" "$MAX_KM" > "$dir/scipy.json"
  scipy_end=$(date +%s.%N)
  "$VENV/bin/python" - "$dir" "$start" "$end" "$size" "$scipy_start" "$scipy_end" <<'PY' || status=1
import json, sys
d, start, end, size = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
scipy_process = float(sys.argv[6]) - float(sys.argv[5])
g = json.load(open(f"{d}/grassroots.json")); s = json.load(open(f"{d}/scipy.json"))
g_scaled = round(g["total_fit"] * 10_000)
same = g_scaled == s["total_scaled_fit"]
grass = end - start
print(f"{size:<12} {g['places']:>7} {g['allowed_pairs']:>8} {g['total_fit']:>16.4f} {s['total_fit']:>16.4f} "
      f"{'yes' if same else 'NO':>5} {grass:>9.3f} {s['solve_seconds']:>9.3f} {s['solve_seconds'] / grass:>7.2f}x "
      f"{scipy_process:>9.3f} {scipy_process / grass:>7.2f}x")
sys.exit(0 if same else 1)
PY
done
echo "grass_s: the whole grassroots process (CSV reading, candidate pairs, flow, JSON); lsa_s: linear_sum_assignment"
echo "alone on the prepared dense matrix; scipy_s: the whole Python process (CSV reading, matrix, solve); ratio = scipy / grassroots"
exit $status
