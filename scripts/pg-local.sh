#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benches and trying the multi-machine setup locally.
#   scripts/pg-local.sh start DIR [PORT]   initdb + start in DIR (created), print the database URL
#   scripts/pg-local.sh stop DIR           stop it (the folder stays; remove it yourself)
# It listens on 127.0.0.1:PORT (default 55432) and a unix socket in DIR, trusts local connections
# (a throwaway cluster: never expose it), and has a database `lrcast`. initdb refuses to run as
# root, so as root the cluster runs as the `postgres` system user (created if missing).
set -euo pipefail

find_bin() {
  local initdb
  initdb=$(ls -1 /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$initdb" ]; then initdb=$(command -v initdb || true); fi
  [ -n "$initdb" ] || { echo "pg-local: no initdb found (apt-get install postgresql)" >&2; exit 1; }
  dirname "$initdb"
}

# As root, run as `postgres` from / (it may not enter the caller's folder, e.g. a private temp one).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }
bin=$(find_bin)

case "$cmd" in
  start)
    port=${3:-55432}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
      chown postgres "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # Already running (started before): only print its URL.
    if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$port/lrcast"
      exit 0
    fi
    # fsync off: a throwaway cluster trades durability across power loss for speed.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
      start >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
    as_owner psql -h "$dir" -p "$port" -U postgres -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = 'lrcast'" | grep -q 1 \
      || as_owner psql -h "$dir" -p "$port" -U postgres -d postgres -qc "CREATE DATABASE lrcast" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/lrcast"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
