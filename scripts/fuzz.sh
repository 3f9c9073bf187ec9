#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that take outside input (fuzz/, cargo-fuzz and libFuzzer; issue 16 §2).
#   scripts/fuzz.sh [SECONDS]   runs every target for SECONDS each (default 10: the short run of CI);
#   scripts/fuzz.sh --runs N    runs every target for N executions each (the long run: 10000000).
# Built on the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly flags), without a sanitizer: the
# targets are safe Rust, and what the fuzzer looks for is panics, hangs, wrong answers and runaway memory. cargo-fuzz
# is installed from crates.io when missing. Each target starts from its seeds in fuzz/corpus/<target>/ (found
# inputs go to .tmp/fuzz/corpus/<target>/, crashes to fuzz/artifacts/<target>/); a crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
limit=(-max_total_time="${1:-10}")
if [ "${1:-}" = "--runs" ]; then limit=(-runs="${2:?--runs N}"); fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
export RUSTC_BOOTSTRAP=1
# Its own target directory: the fuzzing flags would otherwise rebuild the workspace's artifacts.
export CARGO_TARGET_DIR="$root/.tmp/fuzz/target"
cd fuzz
cargo fuzz build --sanitizer none --release
for target in $(cargo fuzz list); do
  corpus="$root/.tmp/fuzz/corpus/$target"
  mkdir -p "$corpus"
  printf '\n==> fuzz %s\n' "$target"
  # -rss_limit_mb and -timeout turn runaway memory and hangs into failures; -max_len bounds the inputs (bodies over
  # the server's 64 KiB limit never reach a parser).
  log="$root/.tmp/fuzz/$target.log"
  set +e
  cargo fuzz run --sanitizer none --release "$target" "$corpus" "corpus/$target" -- \
    "${limit[@]}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)|panicked|deadly signal|Test unit written' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz $target failed (exit $status); the input is in fuzz/artifacts/$target/" >&2
    exit "$status"
  fi
done
