#!/usr/bin/env bash
# A private, throwaway PostgreSQL under a directory of your choice.
#
#   scripts/pg.sh start DIR   initialise (first time) and start; prints the conninfo
#   scripts/pg.sh stop DIR    stop it (the data stays in DIR/data)
#   scripts/pg.sh conninfo DIR
#
# It listens only on a Unix socket inside DIR, never on a network port.
# PostgreSQL refuses to run as root; when run as root the cluster belongs to
# the 'postgres' system user that Debian's postgresql package creates.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|conninfo DIR" >&2; exit 2; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/pg_ctl" ] || { echo "$0: PostgreSQL server binaries not found; install postgresql" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

conninfo() {
  echo "host=$dir port=5432 user=postgres dbname=joinedreview"
}

case $cmd in
  start)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      # postgres must be able to reach DIR through its parents.
      p=$dir
      while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
        -o "-k $dir -c listen_addresses='' -c port=5432 -c fsync=on -c max_connections=50" start >/dev/null \
        || { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
    fi
    as_owner "$bindir/psql" -h "$dir" -U postgres -d postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = 'joinedreview'" | grep -q 1 \
      || as_owner "$bindir/createdb" -h "$dir" -U postgres joinedreview
    conninfo
    ;;
  stop)
    if [ -f "$data/PG_VERSION" ]; then
      as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  conninfo)
    conninfo
    ;;
  *)
    echo "usage: $0 start|stop|conninfo DIR" >&2; exit 2
    ;;
esac
