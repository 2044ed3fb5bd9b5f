#!/usr/bin/env bash
# PostgreSQL only (run in the pg pass): a fast shutdown of the database
# server in the middle of an import.  The import fails with a clear message,
# the stores stay consistent, and rerunning completes it without duplicates.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${KENBANK_PGTEST_DIR:-}" ] || fail "needs the runner's throwaway cluster (KENBANK_PGTEST_DIR)"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

"$K" gen --people 1500 --years 2 --seed 31 --out pop --format xml 2>/dev/null
"$K" init --data d >/dev/null
"$K" import --data d --source k pop/xml > out1.txt 2> err1.txt &
pid=$!
sleep 0.8
as_pg "$PGBIN/pg_ctl" -D "$KENBANK_PGTEST_DIR/data" -m fast -w restart >/dev/null 2>&1 \
  || fail "could not restart the cluster"
set +e; wait $pid; rc=$?; set -e
if [ $rc -eq 0 ]; then
  echo "note: the import finished before the shutdown; the restart still must not harm it"
else
  [ $rc -eq 1 ] || fail "interrupted import should exit 1, got $rc"
  grep -q 'kenbank import: .*postgresql database kb_' err1.txt || fail "message should name the database: $(cat err1.txt)"
  grep -q 'password' err1.txt && fail "message leaks connection secrets"
fi
"$K" check --data d > chk.txt || fail "inconsistent after the shutdown: $(cat chk.txt)"
"$K" import --data d --source k pop/xml > out2.txt || fail "rerun failed: $(cat out2.txt)"
"$K" check --data d | grep -q '0 violation(s), 0 warning(s)' || fail "not complete after rerun"
n=$(kb_sql d research "SELECT COUNT(*) FROM exams")
[ "$n" -eq 3000 ] || fail "expected 3000 exams exactly once, got $n"
echo ok
