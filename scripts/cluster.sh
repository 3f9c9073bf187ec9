#!/usr/bin/env bash
# A Citus cluster on this machine for grassroots: a coordinator and two workers on free loopback ports, each a
# PostgreSQL server run as the postgres user under DIR (initdb refuses root).
#
#   scripts/cluster.sh start DIR         build Citus if needed, start (or restart) the nodes, print the coordinator's
#                                        postgres:// URL as the last line
#   scripts/cluster.sh stop DIR [NODE]   stop every node, or only NODE (coordinator, worker1, worker2)
#   scripts/cluster.sh status DIR        each node, its port and whether it runs
#
# Citus is in no package registry here: it is built once from the vendored source (../shared/vendor next to the
# checkout, or GRASSROOTS_VENDOR) into the cache .tmp/citus and installed into Debian's PostgreSQL. The superuser of
# every node is `app` (as in scripts/test.sh), trusted on loopback; the `app` database is created with the Citus
# extension on every node, and the workers are registered with the coordinator in `postgres` and `app`. Starting a
# cluster that runs already only prints its URL; starting a stopped one starts its nodes on the ports it had.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

citus_version=13.2.2
citus_sha256=dd2453caec20a830e5e63f1def5c5a98cb6f57ae510407cdcd800916fcdab430
cache="$root/.tmp/citus"
nodes=(coordinator worker1 worker2)

die() { echo "cluster.sh: $*" >&2; exit 1; }
say() { echo "cluster.sh: $*" >&2; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] || die "no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql-15)"
pg_major=$(basename "$(dirname "$pg_bin")")

# The vendored sources: GRASSROOTS_VENDOR, else ../shared/vendor beside this checkout, else beside the main checkout
# of which this one is a git worktree.
find_vendor() {
  local candidates=("${GRASSROOTS_VENDOR:-}" "$root/../shared/vendor")
  local common
  if common=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
    candidates+=("$(dirname "$common")/../shared/vendor")
  fi
  for c in "${candidates[@]}"; do
    if [ -n "$c" ] && [ -f "$c/citus-$citus_version.tar.gz" ]; then (cd "$c" && pwd); return; fi
  done
  die "citus-$citus_version.tar.gz not found in \$GRASSROOTS_VENDOR, $root/../shared/vendor or the main checkout's ../shared/vendor"
}

# Builds Citus into .tmp/citus once (about 95 s on 2 cores) and installs it into the server's directories when the
# installed copy differs from the cached build.
ensure_citus() {
  local src="$cache/citus-$citus_version" pg_config="$pg_bin/pg_config"
  local lib
  lib="$("$pg_config" --pkglibdir)/citus.so"
  if [ ! -f "$cache/built-$citus_version" ]; then
    local vendor tarball
    vendor=$(find_vendor)
    tarball="$vendor/citus-$citus_version.tar.gz"
    echo "$citus_sha256  $tarball" | sha256sum -c --quiet - || die "$tarball: sha256 differs from the vendored one"
    local devpkg="postgresql-server-dev-$pg_major" server_version
    server_version=$(dpkg-query -W -f='${Version}' "postgresql-$pg_major" 2>/dev/null || true)
    if ! dpkg -s "$devpkg" liblz4-dev libzstd-dev libcurl4-openssl-dev libkrb5-dev >/dev/null 2>&1; then
      say "installing the build dependencies of Citus (apt)"
      [ "$(id -u)" = 0 ] || die "the build dependencies of Citus are missing and only root can install them"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$devpkg${server_version:+=$server_version}" \
        liblz4-dev libzstd-dev libcurl4-openssl-dev libkrb5-dev >/dev/null
    fi
    say "building Citus $citus_version in $src (once; cached)"
    rm -rf "$src"
    mkdir -p "$cache"
    tar xzf "$tarball" -C "$cache"
    (cd "$src" && ./configure -q PG_CONFIG="$pg_config" >"$cache/configure.log" 2>&1) \
      || die "configure failed: see $cache/configure.log"
    (cd "$src" && make -j2 with_llvm=no >"$cache/make.log" 2>&1) || die "make failed: see $cache/make.log"
    touch "$cache/built-$citus_version"
  fi
  if ! cmp -s "$src/src/backend/distributed/citus.so" "$lib"; then
    [ -w "$(dirname "$lib")" ] || die "cannot install Citus into $(dirname "$lib"): run as root"
    say "installing Citus $citus_version into PostgreSQL $pg_major"
    (cd "$src" && make install with_llvm=no >"$cache/install.log" 2>&1) || die "make install failed: see $cache/install.log"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() { as_pg "$pg_bin/pg_ctl" -D "$dir/$1/data" status >/dev/null 2>&1; }
port_of() { cat "$dir/$1/port"; }
psql_on() { local node=$1 db=$2; shift 2; "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port_of "$node")" -U app -d "$db" "$@"; }

start_node() {
  local node=$1
  if running "$node"; then return; fi
  as_pg "$pg_bin/pg_ctl" -D "$dir/$node/data" -l "$dir/$node/log" \
    -o "-p $(port_of "$node") -k $dir/$node -c listen_addresses=127.0.0.1" -w -t 60 start >/dev/null \
    || die "$node did not start on port $(port_of "$node"): see $dir/$node/log"
}

init_node() {
  local node=$1
  mkdir -p "$dir/$node"
  free_port >"$dir/$node/port"
  [ "$(id -u)" = 0 ] && chown -R postgres "$dir/$node"
  as_pg "$pg_bin/initdb" -D "$dir/$node/data" -A trust -U app --no-sync >/dev/null \
    || die "initdb of $node in $dir/$node/data failed"
  cat >>"$dir/$node/data/postgresql.conf" <<EOF
# scripts/cluster.sh: a Citus node for tests on loopback
shared_preload_libraries = 'citus'
citus.node_conninfo = 'sslmode=disable'
fsync = off
max_connections = 300
max_prepared_transactions = 300
EOF
}

start() {
  ensure_citus
  if [ ! -d "$dir/coordinator/data" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    for node in "${nodes[@]}"; do init_node "$node"; done
  fi
  for node in "${nodes[@]}"; do
    [ -d "$dir/$node/data" ] || die "$dir/$node/data is missing: remove $dir and start afresh"
    start_node "$node"
  done
  # Every step below is idempotent, so a setup that failed half-way is finished by the next start.
  if [ ! -f "$dir/ready" ]; then
    for node in "${nodes[@]}"; do
      if [ -z "$(psql_on "$node" postgres -At -c "SELECT 1 FROM pg_database WHERE datname = 'app'")" ]; then
        psql_on "$node" postgres -c "CREATE DATABASE app" || die "creating the app database on $node failed"
      fi
      for db in postgres app; do
        psql_on "$node" "$db" -c "CREATE EXTENSION IF NOT EXISTS citus" || die "CREATE EXTENSION citus on $node/$db failed"
      done
    done
    for db in postgres app; do
      psql_on coordinator "$db" -c "SELECT citus_set_coordinator_host('127.0.0.1', $(port_of coordinator))" >/dev/null
      for worker in worker1 worker2; do
        psql_on coordinator "$db" -c "SELECT citus_add_node('127.0.0.1', $(port_of "$worker"))" >/dev/null \
          || die "registering $worker with the coordinator ($db) failed"
      done
    done
    touch "$dir/ready"
  fi
  local workers
  workers=$(psql_on coordinator postgres -At -c "SELECT count(*) FROM citus_get_active_worker_nodes()")
  [ "$workers" = 2 ] || die "the coordinator sees $workers active workers, not 2"
  echo "postgres://app@127.0.0.1:$(port_of coordinator)/postgres"
}

stop() {
  local only=${1:-}
  [ -d "$dir" ] || { say "$dir holds no cluster: nothing to stop"; return; }
  for node in "${nodes[@]}"; do
    if [ -n "$only" ] && [ "$node" != "$only" ]; then continue; fi
    [ -d "$dir/$node/data" ] || continue
    if running "$node"; then
      as_pg "$pg_bin/pg_ctl" -D "$dir/$node/data" -m fast -w stop >/dev/null || die "stopping $node failed"
    fi
  done
}

status() {
  for node in "${nodes[@]}"; do
    [ -d "$dir/$node/data" ] || { echo "$node: absent"; continue; }
    if running "$node"; then echo "$node: running on 127.0.0.1:$(port_of "$node")"; else echo "$node: stopped (port $(port_of "$node"))"; fi
  done
}

usage() { die "usage: scripts/cluster.sh start DIR | stop DIR [coordinator|worker1|worker2] | status DIR"; }
[ $# -ge 2 ] || usage
command=$1
if [ "$command" = start ]; then mkdir -p "$2"; fi
[ -d "$2" ] || die "$2 holds no cluster"
dir=$(cd "$2" && pwd)
case "$command" in
  start) [ $# = 2 ] || usage; start ;;
  stop)
    [ $# -le 3 ] || usage
    if [ $# = 3 ]; then case "$3" in coordinator | worker1 | worker2) ;; *) usage ;; esac; fi
    stop "${3:-}"
    ;;
  status) [ $# = 2 ] || usage; status ;;
  *) usage ;;
esac
