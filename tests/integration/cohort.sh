#!/usr/bin/env bash
# kenbank cohort end to end: exact operator counts agree with an independent
# SQL count, parser errors name the position, consent withdrawal counts at
# once, the researcher path (CLI and POST /api/cohort/count) is noisy,
# rounded, thresholded, repeatable and budget-limited, and every count is
# audited.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

"$K" gen --people 300 --years 3 --seed 11 --out pop --format csv >/dev/null
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/exams.csv >/dev/null || [ $? -eq 3 ]

# Operator counts against plain SQL over the store (HbA1c by any method code).
H="'3D046000001906202','3D046000001920402','3D046000001927102','3D046000001999902'"
want=$(kb_sql d research "SELECT COUNT(DISTINCT x.subject_id) FROM exams x JOIN observations o ON o.exam_id = x.id
  WHERE x.current = 1 AND o.code IN ($H) AND o.num >= 6.0")
got=$("$K" cohort --data d --all-subjects 'HbA1c >= 6.0')
[ "$got" = "$want" ] && [ "$got" -gt 0 ] || fail "HbA1c >= 6.0: got $got, SQL says $want"
want=$(kb_sql d research "SELECT COUNT(DISTINCT x.subject_id) FROM exams x JOIN subjects s ON s.id = x.subject_id
  WHERE x.current = 1 AND s.sex = 2 AND x.metabo = 2")
got=$("$K" cohort --data d --all-subjects 'ANY EXAM(sex = F AND metabo = 予備群)')
[ "$got" = "$want" ] || fail "female 予備群: got $got, SQL says $want"
if [ "$(kb_backend d)" = postgresql ]; then PLUS2="to_char(a.exam_date::date + interval '2 years', 'YYYY-MM-DD')"
else PLUS2="date(a.exam_date, '+2 years')"; fi
want=$(kb_sql d research "SELECT COUNT(DISTINCT a.subject_id) FROM exams a JOIN exams b ON b.subject_id = a.subject_id
  JOIN observations o ON o.exam_id = b.id WHERE a.current = 1 AND b.current = 1 AND a.metabo = 2
  AND b.exam_date > a.exam_date AND b.exam_date <= $PLUS2 AND o.code IN ($H) AND o.num >= 5.6")
got=$("$K" cohort --data d --all-subjects 'HbA1c >= 5.6 WITHIN 2 YEARS AFTER metabo = 予備群')
[ "$got" = "$want" ] && [ "$got" -gt 0 ] || fail "temporal: got $got, SQL says $want"
# JSON form gives the same count
got_j=$("$K" cohort --data d --all-subjects --json '{"within":{"n":2,"unit":"years","event":{"item":"HbA1c","op":">=","value":5.6},"anchor":{"field":"metabo","op":"=","value":"予備群"}}}')
[ "$got_j" = "$got" ] || fail "JSON form: $got_j vs $got"

# Parser errors: exit 2, position and expectation named
set +e; out=$("$K" cohort --data d 'age >= 40 AND (sex = F OR' 2>&1); rc=$?; set -e
[ $rc -eq 2 ] || fail "parse error exit $rc"
grep -q 'at 26: expected a condition' <<<"$out" || fail "parse error message: $out"

# Consent: opt-in, so nobody counts until consent is recorded; withdrawal counts at once
[ "$("$K" cohort --data d 'age >= 0')" = 0 ] || fail "no consent should count 0"
kb_sql d research "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, channel, recorded_at, recorded_by)
  SELECT pseudonym, 'academic_research', '', 1, 'granted', '2024-01-01', 'paper', '2024-01-01T00:00:00.000Z', 't' FROM subjects"
all=$("$K" cohort --data d --all-subjects 'age >= 0')
[ "$("$K" cohort --data d 'age >= 0')" = "$all" ] || fail "everyone consented"
P1=$(kb_sql d research "SELECT pseudonym FROM subjects ORDER BY id LIMIT 1")
kb_sql d research "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, channel, recorded_at, recorded_by)
  VALUES ('$P1', 'academic_research', '', 1, 'withdrawn', '2024-01-01', 'web', '2025-01-01T00:00:00.000Z', 't')"
[ "$("$K" cohort --data d 'age >= 0')" = "$((all - 1))" ] || fail "withdrawal must count at once"

# Researcher path: rounded to 5, same answer twice, budget
r1=$("$K" cohort --data d --as-researcher alice --budget 3 'age >= 50' 2>/dev/null)
r2=$("$K" cohort --data d --as-researcher alice --budget 3 'age>=50' 2>/dev/null)
[ "$r1" = "$r2" ] || fail "same query, different answers: $r1 $r2"
[ $((r1 % 5)) -eq 0 ] || fail "not rounded to 5: $r1"
r=$("$K" cohort --data d --as-researcher alice --budget 3 'age >= 200' 2>/dev/null)
[ "$r" = "<10" ] || fail "empty cohort must be hidden: $r"
"$K" cohort --data d --as-researcher alice --budget 3 'age >= 51' >/dev/null 2>&1
set +e; "$K" cohort --data d --as-researcher alice --budget 3 'age >= 52' >/dev/null 2>err; rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'budget' err || fail "4th distinct query must be refused: rc=$rc $(cat err)"

# The API, as a researcher; other roles are refused
PW=password-for-tests
for role in researcher insurer; do KENBANK_PASSWORD=$PW "$K" user add --data d --username "u_$role" --role $role --org 01140011 >/dev/null; done
"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
B="http://127.0.0.1:$PORT"
tok() { "$K" user token --data d --username "$1" --scope write; }
TR=$(tok u_researcher); TI=$(tok u_insurer)
post() { curl -s -o resp -w '%{http_code}' -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' --data "$2" "$B/api/cohort/count"; }
c=$(post "$TR" '{"query":"age >= 50"}'); [ "$c" = 200 ] || fail "API count: $c $(cat resp)"
grep -q '"count":"[0-9]*[05]"' resp || fail "API count body: $(cat resp)"
a1=$(cat resp)
c=$(post "$TR" '{"criteria":{"field":"age","op":">=","value":50}}'); [ "$c" = 200 ] || fail "API JSON count: $c"
[ "$(sed 's/"budget_used":[0-9]*//' resp)" = "$(sed 's/"budget_used":[0-9]*//' <<<"$a1")" ] || fail "JSON and text differ: $(cat resp) vs $a1"
c=$(post "$TR" '{"query":"age >="}'); [ "$c" = 400 ] && grep -q 'expected a value' resp || fail "API parse error: $c $(cat resp)"
c=$(post "$TI" '{"query":"age >= 50"}'); [ "$c" = 403 ] || fail "insurer must not count cohorts: $c"
kill $SRV; wait $SRV 2>/dev/null || true; trap - EXIT

# Every count is in the audit log, researcher answers without true counts
n=$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'cohort.count'")
[ "$n" -ge 6 ] || fail "researcher counts audited: $n"
kb_sql d research "SELECT detail FROM audit_log WHERE action = 'cohort.count.exact'" | grep -q '^exact count' || fail "operator count audit"
"$K" audit verify --data d >/dev/null || fail "audit chain"
echo ok
