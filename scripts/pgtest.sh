#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite and benchmarks.
#   scripts/pgtest.sh start DIR   creates and starts it; prints the admin conninfo
#   scripts/pgtest.sh stop DIR    stops it and removes DIR
# It listens on a free port on 127.0.0.1 and a socket in DIR.  Tests run it
# with fsync off; PGTEST_DURABLE=1 (benchmarks) keeps fsync on and only
# turns synchronous_commit off, the durability SQLite's WAL mode gives.  The superuser
# logs in over the socket without a password; every other role needs its
# password (scram), so the tests exercise real authentication.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?DIR}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || { echo "pgtest: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat > "$dir/data/pg_hba.conf" <<HBA
local all postgres trust
local replication postgres trust
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
HBA
  sync="-c fsync=off -c synchronous_commit=off"
  [ -n "${PGTEST_DURABLE:-}" ] && sync="-c synchronous_commit=off -c max_wal_size=4GB -c shared_buffers=1GB"
  # PGTEST_OPTS: more server settings (scripts/citustest.sh preloads Citus)
  sync="$sync ${PGTEST_OPTS:-}"
  # Ports below the kernel's ephemeral range (32768-60999 by default), so
  # no client connection's source port can take ours between the probe and
  # the bind; and a failed start tries the next free port all the same.
  port=""
  for p in $(seq 25432 25632); do
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
    if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $p -k $dir -c listen_addresses=127.0.0.1 $sync -c max_connections=200" start >/dev/null 2>&1; then
      port=$p; break
    fi
    grep -q "could not bind\|could not create any TCP" "$dir/server.log" || { cat "$dir/server.log" >&2; exit 1; }
  done
  [ -n "$port" ] || { echo "pgtest: no free port" >&2; cat "$dir/server.log" >&2; exit 1; }
  echo "host=$dir port=$port user=postgres dbname=postgres" | tee "$dir/admin"
  ;;
stop)
  if [ -d "$dir/data" ]; then as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
  ;;
*) echo "usage: pgtest.sh start|stop DIR" >&2; exit 2 ;;
esac
