#!/usr/bin/env bash
# Imports run one at a time per data directory (each holds the linkage index
# in memory).  While another holder has the import lock, an import waits for
# it and then runs; a lock that is not released within the wait makes the
# import fail with a message that says why, having written nothing.  The
# lock is taken from outside the way an operator's tool would: flock(1) on
# SQLite, an advisory lock on PostgreSQL (docs/internals/import.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 300 --years 2 --seed 12 --out pop --format csv 2>/dev/null
"$K" init --data d >/dev/null
hold() { # seconds: take the import lock in the background, for that long
  if [ "$(kb_backend d)" = postgresql ]; then
    psql "$(sed -n 's/^identity=//p' d/kenbank.conf)" -X -q -At \
      -c "SELECT pg_advisory_lock(hashtext('kenbank:import')), pg_sleep($1)" >/dev/null 2>&1 &
  else
    # the subshell becomes the sleep, so killing $holder releases the lock
    ( flock 9 && exec sleep "$1" ) 9>d/identity.db.import.lock &
  fi
  holder=$!
  # until the holder has the lock (bounded), rather than a second's guess:
  # a holder not yet scheduled let the import through before it
  kb_wait_until 30 lock_is_held || fail "the background holder did not take the lock within 30 s"
}
lock_is_held() {
  if [ "$(kb_backend d)" = postgresql ]; then
    [ "$(kb_sql d identity "SELECT COUNT(*) FROM pg_locks l JOIN pg_database b ON b.oid = l.database
                            WHERE l.locktype = 'advisory' AND l.granted AND b.datname = current_database()")" -ge 1 ]
  else
    ! flock -n d/identity.db.import.lock true
  fi
}

# held for 4 s: the import waits, then goes through
hold 4
t0=$(date +%s.%N)
out=$("$K" import --data d --source k pop/exams.csv 2>&1) || fail "import after the lock was released: $out"
t1=$(date +%s.%N)
wait $holder || true
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 2.0) }' || fail "the import did not wait for the lock ($t0 .. $t1)"
grep -q '^exams accepted      600 ' <<<"$out" || fail "after waiting: $out"

# held past the wait (10 s, with room for a slow start): the import gives
# up, clearly, and writes nothing
hold 25
before=$(kb_sql d research "SELECT COUNT(*) FROM exams")
set +e; out=$("$K" import --data d --source k2 pop/exams.csv 2>&1); rc=$?; set -e
kill $holder 2>/dev/null || true; wait $holder 2>/dev/null || true
if [ "$(kb_backend d)" = postgresql ]; then # psql gone, its backend still sleeps holding the lock
  kb_sql d identity "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_database b ON b.oid = l.database
                     WHERE l.locktype = 'advisory' AND b.datname = current_database()" >/dev/null || true
fi
[ $rc -eq 1 ] || fail "import under a held lock should exit 1, got $rc: $out"
grep -q "another import is running on this data directory" <<<"$out" || fail "message: $out"
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams")" = "$before" ] || fail "an import under a held lock wrote exams"
echo "ok: an import waits for the lock, and gives up with a message when it is not released"
