#!/usr/bin/env bash
# Runs every test of grassroots on a fresh machine: sets up what the tests need (a Python venv with the reference
# implementations, a PostgreSQL server and a Citus cluster started here), runs the Rust tests against SQLite,
# PostgreSQL and Citus, then the
# cross-checks against the real references and the browser journeys of the web pages, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work="$root/.tmp/test"
mkdir -p "$work"

step() { printf '\n==> %s\n' "$*"; }

# --- Python venv for the cross-checks (csdid, georeport, schemathesis) ---
step "python venv (.venv) with crosscheck/requirements.txt"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
if ! cmp -s crosscheck/requirements.txt .venv/.installed-requirements 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r crosscheck/requirements.txt
  cp crosscheck/requirements.txt .venv/.installed-requirements
fi
if ! cmp -s tests/web/requirements.txt .venv/.installed-web-requirements 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/web/requirements.txt
  cp tests/web/requirements.txt .venv/.installed-web-requirements
fi

# --- Debian's Chromium and CJK fonts for the browser tests (Playwright's own browser download cannot work here) ---
step "chromium and fonts-noto-cjk (apt)"
if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
/usr/bin/chromium --version

# --- PostgreSQL, started as the postgres user (initdb refuses root) ---
step "postgresql"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pg_bin" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
pg_dir="$work/pg"
pg_port=${GRASSROOTS_PG_PORT:-54329}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_pg() { as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true; }
citus_dir="$work/citus"
stop_all() { stop_pg; scripts/cluster.sh stop "$citus_dir" >/dev/null 2>&1 || true; }
trap stop_all EXIT
stop_pg
rm -rf "$pg_dir"
mkdir -p "$pg_dir"
[ "$(id -u)" = 0 ] && chown postgres "$pg_dir" "$work"
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U app --no-sync >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -w start >/dev/null
export GRASSROOTS_TEST_PG="postgres://app@127.0.0.1:$pg_port/postgres"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on port $pg_port"

# --- Citus: a coordinator and two workers (scripts/cluster.sh builds Citus once into .tmp/citus) ---
step "citus cluster (scripts/cluster.sh)"
scripts/cluster.sh stop "$citus_dir" >/dev/null 2>&1 || true
rm -rf "$citus_dir"
GRASSROOTS_TEST_CITUS=$(scripts/cluster.sh start "$citus_dir" | tail -n 1)
export GRASSROOTS_TEST_CITUS GRASSROOTS_TEST_CITUS_DIR="$citus_dir"
echo "Citus coordinator at $GRASSROOTS_TEST_CITUS"

# --- Rust tests: unit tests and one integration binary per crate, SQLite and PostgreSQL ---
step "cargo build --release (the binary the cross-checks drive)"
cargo build --release -p cli
export GRASSROOTS_BIN="${CARGO_TARGET_DIR:-$root/target}/release/grassroots"

# The tests build in the release profile too, so the dependencies are compiled once for both (half the CI time).
step "cargo nextest run --workspace --release"
# The worker-restart test stops a worker of the shared cluster, so it runs alone after the others.
cargo nextest run --workspace --release --no-fail-fast -E 'not test(/a_worker_restart/)'
step "cargo nextest run: the server's tests on Citus, then a Citus worker restart"
# Every test creates a database on every node: two at a time, so the workers are not short of connections.
GRASSROOTS_TEST_BACKEND=citus cargo nextest run --release --no-fail-fast --test-threads 2 -p server
cargo nextest run --release -p store -E 'test(/a_worker_restart/)'

# --- Cross-checks against the real references ---
step "cross-checks (pytest)"
export OPENBLAS_NUM_THREADS=1
.venv/bin/python -m pytest -q crosscheck

# --- The web pages in a real browser: journeys, axe, keyboard only, 375-px screenshots in .tmp/screenshots ---
step "browser journeys (pytest tests/web)"
.venv/bin/python -m pytest -q tests/web

# --- Crash safety, short: SIGKILL under load on SQLite and PostgreSQL, nothing acknowledged lost (bench/crash) ---
step "crash safety, 10 kills per backend (bench/crash/run.sh; the full run is --kills 200)"
PYTHON=.venv/bin/python bench/crash/run.sh --kills 10

# --- Fuzzing, short: every parser of outside input for 5 s (scripts/fuzz.sh; the long run is scripts/fuzz.sh --runs N) ---
step "fuzzing, 5 s per target (scripts/fuzz.sh)"
scripts/fuzz.sh 5
