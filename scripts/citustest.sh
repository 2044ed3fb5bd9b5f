#!/usr/bin/env bash
# A throwaway Citus cluster for the test suite and benchmarks: a coordinator
# and two workers, each a scripts/pgtest.sh cluster with Citus preloaded, on
# free loopback ports.
#   scripts/citustest.sh start DIR   starts them; prints two lines: the
#                                    administrator conninfo of the coordinator
#                                    (over TCP, with a password, as the workers
#                                    reach it) and the workers, HOST:PORT,HOST:PORT
#   scripts/citustest.sh stop DIR    stops all three and removes DIR
# `kenbank init --pg ADMIN --citus WORKERS` does the rest (docs/SCALING.md).
# The superuser gets a password (the same on every node) because Citus
# connects between nodes over TCP, where every role needs one.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?DIR}
here=$(cd "$(dirname "$0")" && pwd)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

case "$cmd" in
start)
  bash "${SHARED:-$here/../../shared}/tools/citus-build.sh" --check 2>/dev/null \
    || [ -f "$("$PGBIN/pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)/citus.so" ] \
    || { echo "citustest: Citus is not installed (../shared/tools/citus-build.sh)" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  pw=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  ports=()
  for n in coord w1 w2; do
    # Citus runs a maintenance worker per database that has the extension,
    # and every test makes its own research database: room for many.
    PGTEST_OPTS="-c shared_preload_libraries=citus -c max_worker_processes=256 ${CITUSTEST_OPTS:-}" \
      bash "$here/pgtest.sh" start "$dir/$n" >/dev/null
    ports+=("$(sed -n 's/.* port=\([0-9]*\) .*/\1/p' "$dir/$n/admin")")
    psql -X -q -v ON_ERROR_STOP=1 "$(cat "$dir/$n/admin")" -c "ALTER ROLE postgres PASSWORD '$pw'" >/dev/null
  done
  echo "host=127.0.0.1 port=${ports[0]} user=postgres password=$pw dbname=postgres" > "$dir/admin"
  echo "127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}" > "$dir/workers"
  cat "$dir/admin" "$dir/workers"
  ;;
stop)
  for n in coord w1 w2; do bash "$here/pgtest.sh" stop "$dir/$n" || true; done
  rm -rf "$dir"
  ;;
*) echo "usage: citustest.sh start|stop DIR" >&2; exit 2 ;;
esac
