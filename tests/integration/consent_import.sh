#!/usr/bin/env bash
# Paper consents loaded from CSV: good rows are recorded for the person behind
# the named source record (and audited under their pseudonym), a withdrawal
# later in the file wins, and rows that break a rule -- unknown record, bad
# purpose, bad date, bad state, provider_sharing without a provider -- are
# quarantined with file, line, field and rule while the rows around them go
# in.  Cohort counts then see exactly the consenting persons.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 60 --years 1 --seed 5 --out pop --format csv 2>/dev/null
"$K" init --data d >/dev/null
"$K" import --data d --source k pop/exams.csv >/dev/null
mapfile -t rids < <(awk -F, 'NR > 1 { print $2 }' pop/exams.csv | head -12)
src=$(awk -F, 'NR == 2 { print $1 }' pop/exams.csv)

{
  echo "source,record_id,purpose,provider,state,valid_from,valid_to,channel"
  for i in 0 1 2 3 4 5 6 7 8 9; do echo "$src,${rids[$i]},academic_research,,granted,2024-04-01,,paper"; done
  echo "$src,${rids[3]},academic_research,,withdrawn,2024-04-01,,paper"         # line 12: a later withdrawal
  echo "$src,NO-SUCH-RECORD,academic_research,,granted,,,paper"                  # line 13
  echo "$src,${rids[10]},astrology,,granted,,,paper"                            # line 14
  echo "$src,${rids[10]},academic_research,,granted,2024-13-01,,paper"          # line 15
  echo "$src,${rids[11]},academic_research,,maybe,,,paper"                      # line 16
  echo "$src,${rids[11]},provider_sharing,,granted,,,paper"                     # line 17
  echo ""
  echo "$src,${rids[11]},commercial_research,,granted,,,app"                    # line 19
} > consents.csv

set +e
"$K" consent import --data d --by clinic-desk consents.csv > out.txt 2> err.txt
rc=$?
set -e
[ "$rc" = 3 ] || { cat out.txt err.txt; fail "exit $rc, expected 3 (some rows quarantined)"; }
grep -q "consents recorded   12" out.txt || { cat out.txt; fail "expected 12 recorded"; }
grep -q "quarantined         5" out.txt || { cat out.txt; fail "expected 5 quarantined"; }
grep -q "consents.csv:13: record_id: no such record" err.txt || { cat err.txt; fail "unknown record not named"; }
grep -q "consents.csv:14: purpose:" err.txt || fail "bad purpose not named"
grep -q "consents.csv:15: valid_from:" err.txt || fail "bad date not named"
grep -q "consents.csv:16: state: must be granted or withdrawn" err.txt || fail "bad state not named"
grep -q "consents.csv:17: provider:" err.txt || fail "provider_sharing without provider not named"
[ "$("$K" quarantine list --data d | grep -c ',consent,')" = 5 ] || fail "5 quarantine entries expected"

# the research store: 12 events, all by the desk, under research pseudonyms only
[ "$(kb_sql d research "SELECT COUNT(*) FROM consents WHERE recorded_by = 'clinic-desk'")" = 12 ] || fail "consent rows"
[ "$(kb_sql d research "SELECT COUNT(*) FROM consents WHERE pseudonym NOT LIKE 'R-%'")" = 0 ] || fail "non-pseudonym key"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'consent.import'")" = 12 ] || fail "audit entries"
# 10 granted, one withdrawn again: 9 persons consent to academic research
n=$("$K" cohort --data d 'sex = M OR sex = F' | tail -1)
[ "$n" = 9 ] || fail "cohort with consent counts $n, expected 9"
"$K" check --data d >/dev/null || fail "check"
# no identity in the research store from this path either
kb_dump d research dump.bin
[ -s dump.bin ] || fail "empty research dump"
! grep -aq -- "${rids[0]}" dump.bin || fail "a source record id reached the research store"

# a row that is not UTF-8, and an unterminated quote that swallows the rest
# of the file: both kept in quarantine, the good row before them recorded
{
  echo "source,record_id,purpose,provider,state,valid_from,valid_to,channel"
  echo "$src,${rids[4]},recontact,,granted,,,paper"
  printf '%s,%s,recontact,,granted,,,\xff\xfe\n' "$src" "${rids[5]}"
  echo "$src,\"${rids[6]},recontact,,granted,,,paper"
  echo "$src,${rids[7]},recontact,,granted,,,paper"
} > consents2.csv
set +e
"$K" consent import --data d consents2.csv > out2.txt 2> err2.txt
rc=$?
set -e
[ "$rc" = 3 ] || { cat out2.txt err2.txt; fail "second file: exit $rc, expected 3"; }
grep -q "consents recorded   1" out2.txt || { cat out2.txt; fail "second file: expected 1 recorded"; }
grep -q "quarantined         2" out2.txt || { cat out2.txt err2.txt; fail "second file: expected 2 quarantined"; }
grep -q "consents2.csv:3: record: text is not UTF-8" err2.txt || { cat err2.txt; fail "non-UTF-8 row not named"; }
grep -q "consents2.csv:4: record:" err2.txt || { cat err2.txt; fail "unterminated quote not quarantined"; }
[ "$(kb_sql d research "SELECT COUNT(*) FROM consents WHERE purpose = 'recontact'")" = 1 ] || fail "recontact rows"
# The same signature twice -- the file sent again, or one form per checkup
# record of one person (three records over three years) -- is one event: a
# row repeating the standing decision is not recorded again, so the member's
# history shows the paper consent once.
head -4 consents.csv > again.csv # three grants already standing
"$K" consent import --data d --by clinic-desk again.csv > out3.txt
grep -q "consents recorded   0" out3.txt || { cat out3.txt; fail "the same rows again recorded new events"; }
grep -q "already recorded    3" out3.txt || { cat out3.txt; fail "expected 3 rows already recorded"; }
[ "$(kb_sql d research "SELECT COUNT(*) FROM consents WHERE recorded_by = 'clinic-desk'")" = 12 ] || fail "rows after re-import"
"$K" gen --people 4 --years 3 --seed 5 --no-noise --out pop3 --format csv 2>/dev/null
"$K" init --data d3 >/dev/null
"$K" import --data d3 --source k pop3/exams.csv >/dev/null
# the checkup records (exams.csv) of the first person, one per year
awk -F, 'FNR == 1 { next } NR == FNR { exam[$2] = 1; next } ($2 in exam) { print $3 "," $1 "," $2 }' \
  pop3/exams.csv pop3/truth.csv | sort > records3.txt
p3=$(head -1 records3.txt | cut -d, -f1)
mapfile -t r3 < <(awk -F, -v p="$p3" '$1 == p { print $2 "," $3 }' records3.txt)
[ "${#r3[@]}" = 3 ] || fail "no person with three records"
{
  echo "source,record_id,purpose,provider,state,valid_from,valid_to,channel"
  for x in "${r3[@]}"; do echo "$x,academic_research,,granted,2024-04-01,,paper"; done
} > per-record.csv
"$K" consent import --data d3 --by desk per-record.csv > out4.txt
grep -q "consents recorded   1" out4.txt || { cat out4.txt; fail "one person's three records gave more than one event"; }
[ "$(kb_sql d3 research "SELECT COUNT(*) FROM consents")" = 1 ] || fail "consent rows for one person's three records"

echo "ok: 12 recorded, 5 quarantined with line, field and rule; 9 consenting; malformed rows kept"
