#!/usr/bin/env bash
# A private PostgreSQL cluster for tests and local runs (Debian's postgresql package).
#   scripts/postgres.sh start [DIR]   initdb (first time) + start on a free 127.0.0.1 port; prints the store URL
#   scripts/postgres.sh stop [DIR]    stop it (fast shutdown)
#   scripts/postgres.sh status [DIR]  exit 0 and print the URL if running
#   scripts/postgres.sh url [DIR]     print the SQLAlchemy URL (LINEWATCH_STORE__URL)
#   scripts/postgres.sh destroy [DIR] stop and delete the cluster
# DIR defaults to .pg/ in the repository. PostgreSQL refuses to run as root, so as root the
# server runs as the unprivileged `postgres` user with its data in a directory that user owns
# (recorded in DIR/datadir). The cluster trusts local TCP only on 127.0.0.1 and runs with
# fsync=off: it is for tests and development, never for production data.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-}; dir=$(realpath -m "${2:-.pg}")
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "postgres.sh: PostgreSQL not installed (apt-get install postgresql)" >&2; exit 1; }

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
datadir() { cat "$dir/datadir" 2>/dev/null || true; }
url() { echo "postgresql+psycopg://linewatch@127.0.0.1:$(cat "$dir/port")/linewatch"; }
running() { local d; d=$(datadir); [ -n "$d" ] && as_pg "$bin/pg_ctl" -D "$d" status >/dev/null 2>&1; }

init() {
  mkdir -p "$dir"
  local d; d=$(datadir)
  if [ -n "$d" ] && [ -f "$d/PG_VERSION" ]; then return 0; fi
  if [ "$(id -u)" = 0 ]; then
    d=$(mktemp -d /tmp/linewatch-pg.XXXXXX); chown postgres: "$d"
  else
    d="$dir/data"; mkdir -p "$d"
  fi
  echo "$d" > "$dir/datadir"
  as_pg "$bin/initdb" -D "$d" -U linewatch --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
}

start() {
  init
  if running; then url; return 0; fi
  local d port; d=$(datadir)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$port" > "$dir/port"
  as_pg "$bin/pg_ctl" -D "$d" -w -t 60 -l "$d/server.log" start \
    -o "-p $port -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null || { cat "$d/server.log" >&2; exit 1; }
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U linewatch linewatch 2>/dev/null || true
  url
}

stop() {
  local d; d=$(datadir)
  if running; then as_pg "$bin/pg_ctl" -D "$d" -m fast -w stop >/dev/null; fi
  # as root the data lives outside DIR: remove it when DIR is removed by the caller
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) running && url ;;
  url) url ;;
  destroy) stop; d=$(datadir); [ -n "$d" ] && rm -rf "$d"; rm -rf "$dir" ;;
  *) echo "usage: $0 start|stop|status|url|destroy [DIR]" >&2; exit 2 ;;
esac
