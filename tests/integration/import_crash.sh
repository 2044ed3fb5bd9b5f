#!/usr/bin/env bash
# Crash safety: kill -9 the importer at random moments, 20 times, checking
# after each kill that both stores are consistent; then rerun to completion
# and check that every exam is there exactly once.  One more run crashes at
# the worst moment, between the identity and the research commit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

people=600
[ -n "${KB_SANITIZED:-}" ] && people=300
"$K" gen --people $people --years 2 --seed 21 --out pop --format both 2>/dev/null
exams=$((people * 2))
"$K" init --data d >/dev/null

RANDOM=4242
for i in $(seq 1 20); do
  "$K" import --data d --source kenshin pop/xml >/dev/null 2>&1 &
  pid=$!
  # 10..400 ms into the import
  sleep "0.$(printf '%03d' $((RANDOM % 390 + 10)))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  out=$("$K" check --data d) || fail "after kill $i: $out"
done

"$K" import --data d --source kenshin pop/xml > out.txt || fail "final import: $(cat out.txt)"
out=$("$K" check --data d) || fail "after completion: $out"
grep -q '0 warning' <<<"$out" || fail "an import file is still unfinished: $out"
n=$(kb_sql d research "SELECT COUNT(*) FROM exams")
[ "$n" -eq $exams ] || fail "expected $exams exams exactly once, got $n"
q=$("$K" quarantine list --data d | tail -n +2 | wc -l)
[ "$q" -eq 0 ] || fail "a clean population quarantined $q records"

# the worst moment: identity committed, research not
"$K" init --data d2 >/dev/null
set +e
KENBANK_CRASH_BETWEEN_COMMITS=1 "$K" import --data d2 --source csv pop/exams.csv >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 9 ] || fail "crash hook did not fire (exit $rc)"
[ "$(kb_sql d2 identity "SELECT COUNT(*) FROM person_records")" -gt 0 ] || fail "identity batch not committed"
[ "$(kb_sql d2 research "SELECT COUNT(*) FROM exams")" -eq 0 ] || fail "research batch should be lost"
"$K" check --data d2 >/dev/null || fail "identity-only state must be consistent"
"$K" import --data d2 --source csv pop/exams.csv >/dev/null || fail "resume failed"
[ "$(kb_sql d2 research "SELECT COUNT(*) FROM exams")" -eq $exams ] || fail "resume did not add exactly the missing exams"
"$K" check --data d2 >/dev/null || fail "after resume"
echo ok
