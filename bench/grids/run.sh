#!/usr/bin/env bash
# grids design vs PySAL spopt (max-p, SKATER) on the same cells and workloads: balance (max/min and cv of grid
# workload) and time. Usage: bench/grids/run.sh [UNIT...]  (default: township 330502001; SKATER alone takes ~70 s on it)
# Needs the demo database (DB, default sqlite://.tmp/demo.db), a release `grassroots` (GRASSROOTS_BIN) and a venv with
# spopt (VENV, default .tmp/venv-bench: python3 -m venv .tmp/venv-bench && .tmp/venv-bench/bin/pip install spopt).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${GRASSROOTS_BIN:-${CARGO_TARGET_DIR:-target}/release/grassroots}
VENV=${VENV:-.tmp/venv-bench}
DB=${DB:-sqlite://.tmp/demo.db}
UNITS=("$@")
[ ${#UNITS[@]} -eq 0 ] && UNITS=(330502001)
WORK=.tmp/bench-grids
mkdir -p "$WORK"
printf '%-10s %6s %5s | %-24s | %-24s | %-24s | %-16s | %s\n' unit cells grids "current max/min cv" \
  "grassroots max/min cv s" "spopt max-p n max/min cv s" "skater max/min s" "time ratio (max-p/grassroots)"
for unit in "${UNITS[@]}"; do
  "$BIN" --db "$DB" grids design --unit "$unit" --json --cells-csv "$WORK/$unit.csv" > "$WORK/$unit.json"
  "$VENV/bin/python" bench/grids/spopt_regions.py "$WORK/$unit.csv" "$WORK/$unit.json" > "$WORK/$unit.spopt.json"
  "$VENV/bin/python" - "$WORK/$unit.spopt.json" "$unit" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); u = sys.argv[2]
c, g, m, s = r["current"], r["grassroots"], r["maxp"], r["skater"]
print(f"{u:<10} {r['cells']:>6} {r['grids']:>5} | {c[1]:>8.2f} {c[2]:>6.3f}          | {g[1]:>7.2f} {g[2]:>6.3f} {g[3]:>8.4f} | "
      f"{m[0]:>4} {m[1]:>6.2f} {m[2]:>6.3f} {m[3]:>6.2f} | {s[1]:>7.2f} {s[3]:>7.2f} | {m[3] / g[3]:>8.0f}x (skater {s[3] / g[3]:.0f}x)")
PY
done
echo "balance: max/min and cv (sd/mean) of grid workload (cases located in the grid's cells); grassroots s: the design"
echo "alone (graph, seeds, growth, refinement), spopt s: solve alone; max-p chooses its own number of regions (n)."
