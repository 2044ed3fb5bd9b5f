#!/usr/bin/env bash
# PostgreSQL only (run in the pg pass): a streaming replica serves read-only
# analytics.  A standby made with pg_basebackup follows the primary; a data
# directory pointed at it answers stats and check with the primary's data,
# and any write through it is refused with a clear message.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${KENBANK_PGTEST_DIR:-}" ] || fail "needs the runner's throwaway cluster (KENBANK_PGTEST_DIR)"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
P=$KENBANK_PGTEST_DIR
pport=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$P/admin")

R="$P/replica"
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$R" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$R"; }
trap cleanup EXIT
as_pg "$PGBIN/pg_basebackup" -h "$P" -p "$pport" -U postgres -D "$R" -R -X stream --checkpoint=fast >/dev/null 2>&1 \
  || fail "pg_basebackup failed"
# A free port near the primary's (scripts/pgtest.sh says why below the
# ephemeral range); a start that loses its port to a race tries the next.
rport=""
for p in $(seq $((pport + 100)) $((pport + 200))); do
  (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
  if as_pg "$PGBIN/pg_ctl" -D "$R" -l "$P/replica.log" -w -t 60 \
    -o "-p $p -k $P -c listen_addresses=127.0.0.1 -c hot_standby=on -c max_connections=200" start >/dev/null 2>&1; then
    rport=$p; break
  fi
  grep -q "could not bind\|could not create any TCP" "$P/replica.log" || fail "replica did not start: $(tail -5 "$P/replica.log")"
done
[ -n "$rport" ] || fail "replica did not start: $(tail -5 "$P/replica.log")"

"$K" init --data d >/dev/null
"$K" gen --people 200 --years 2 --seed 41 --out pop --format csv 2>/dev/null
"$K" import --data d --source k pop/exams.csv >/dev/null || fail "import on the primary"

# the same data directory, pointed at the replica
mkdir ro && cp -p d/keys ro/keys
sed "s/port=$pport/port=$rport/g" d/kenbank.conf > ro/kenbank.conf && chmod 600 ro/kenbank.conf
# the standby replays at its own pace: wait (bounded) rather than guess
replica_exams() { n=$("$K" stats --data ro 2>/dev/null | awk '/exams \(current\)/ {print $3}') || true; [ "${n:-0}" = 400 ]; }
kb_wait_until 60 replica_exams || true
[ "${n:-0}" = 400 ] || fail "replica did not catch up: ${n:-none}"
"$K" check --data ro | grep -q '^consistent' || fail "check on the replica"
[ "$(kb_sql ro research "SELECT pg_is_in_recovery()")" = t ] || fail "ro is not the standby"

# writes through the replica are refused, and say why
"$K" gen --people 5 --years 1 --seed 42 --out more --format csv 2>/dev/null
if "$K" import --data ro --source k more/exams.csv >out.txt 2>err.txt; then fail "a write reached the replica"; fi
grep -q 'read-only transaction' err.txt || fail "unclear message: $(cat err.txt)"

# The portal from the standby.  A member enrols on the primary; the standby's
# data directory also names the primary, so a server on it answers the
# member's reads from the standby, appends their audit entries on the
# primary, and refuses changes with 503 (a proxy sends those to the primary).
serve() { # DIR OUT -> sets base, srv
  "$K" serve --data "$1" --listen 127.0.0.1:0 --threads 2 > "$2" 2>&1 &
  srv=$!
  kb_wait_listening "$2" $srv || true
  base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$2")
  [ -n "$base" ] || fail "server on $1 did not start: $(cat "$2")"
}
src=$(awk -F, 'NR == 2 { print $1 }' pop/exams.csv)
rid=$(awk -F, 'NR == 2 { print $2 }' pop/exams.csv)
code=$("$K" enrol --data d --source "$src" --record-id "$rid")
serve d primary.out
curl -sf -X POST "$base/api/enrol" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$code\",\"username\":\"member1\",\"password\":\"replica-test-pw-1\"}" >/dev/null \
  || fail "enrolment on the primary"
kill "$srv"; wait "$srv" 2>/dev/null || true
tok=$("$K" user token --data d --username member1 --scope read | grep -oE 'kbt_[A-Za-z0-9_-]+' | sed -n 1p)
{ sed -n 's/^identity=/primary_identity=/p; s/^research=/primary_research=/p' d/kenbank.conf; } >> ro/kenbank.conf
replica_has_token() { [ "$(kb_sql ro identity "SELECT COUNT(*) FROM api_tokens")" = 1 ]; }
kb_wait_until 60 replica_has_token || fail "the token did not reach the standby within 60 s"
before=$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'exam.list'")
serve ro standby.out
grep -q 'reads from a standby' standby.out || fail "the server did not say it is on a standby: $(cat standby.out)"
body=$(curl -sf -H "Authorization: Bearer $tok" "$base/api/me/exams") || fail "exam list from the standby"
echo "$body" | grep -q '"exam_date"' || fail "no exams from the standby: $body"
curl -sf -H "Authorization: Bearer $tok" "$base/api/me/points" >/dev/null || fail "points from the standby"
code503=$(curl -s -o w.json -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
  -d '{"kind":"steps","measured_on":"2024-05-01","value":8000}' "$base/api/me/sensors")
[ "$code503" = 503 ] && grep -q 'primary' w.json || fail "a change on the standby answered $code503: $(cat w.json)"
kill "$srv"; wait "$srv" 2>/dev/null || true
after=$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'exam.list'")
[ "$after" = $((before + 1)) ] || fail "the standby's read was not audited on the primary ($before -> $after)"
"$K" audit verify --data d >/dev/null || fail "audit chain on the primary"
echo ok
