#!/usr/bin/env bash
# Cancer screening items and registered local items in the item catalogue
# (issue 22): the IG's screening items import from CSV with their answer
# codes checked; an unregistered local code quarantines its record (never
# dropped); once an operator registers it, quarantine retry imports it; a
# registration may not reuse a public code or change a definition.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9P504000000000011,9N737000000000012,9P505160800000049,AICS-LUNG'
cat > a.csv <<CSV
$H
city,s1,2025-06-10,1410000017,141003,A1,1001,00,検診,一郎,ケンシン,イチロウ,1,1955-05-04,2310023,横浜市中区1,2,400,特記事項なし,
city,s2,2025-06-11,1410000017,141003,A1,1002,00,検診,二郎,ケンシン,ジロウ,1,1956-06-05,2310023,横浜市中区2,1,,,B
city,s3,2025-06-12,1410000017,141003,A1,1003,00,検診,三郎,ケンシン,サブロウ,1,1957-07-06,2310023,横浜市中区3,5,,,
CSV

"$K" init --data d >/dev/null
set +e; out=$("$K" import --data d --source city a.csv); rc=$?; set -e
[ $rc -eq 3 ] || fail "import should exit 3 (quarantined rows), got $rc: $out"
grep -q '^exams accepted      1 ' <<<"$out" || fail "only s1 is clean: $out"
q=$("$K" quarantine list --data d)
grep -q 'a.csv,s2,AICS-LUNG,"unknown item code AICS-LUNG' <<<"$q" || fail "s2 must be quarantined for its unregistered code: $q"
grep -q "a.csv,s3,9P504000000000011 肺がん検診の精密検査対象有無,answer code '5' is not in code system urn:oid:1.2.392.100495.100.2140" <<<"$q" \
  || fail "s3's answer is not a code of the IG's system: $q"

# the stored screening answers carry the IG's answer system; 喫煙指数 is a number
[ "$(kb_sql d research "SELECT coded || '|' || coded_system FROM observations WHERE code='9P504000000000011'")" = "2|1.2.392.100495.100.2140" ] \
  || fail "9P504 stored wrong"
[ "$(kb_sql d research "SELECT num_text FROM observations WHERE code='9N737000000000012'")" = "400" ] || fail "9N737 stored wrong"
[ "$("$K" cohort --data d --all-subjects '9P504000000000011 >= 0')" = 1 ] || fail "cohort on 9P504 should count s1"

# registration rules
set +e
"$K" items register --data d --code 9P504000000000011 --system urn:x --type CD --name x >/dev/null 2>err; rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'public item tables' err || fail "a public code must not be registered as local ($rc): $(cat err)"
"$K" items register --data d --code AICS-LUNG --system urn:kenbank:local:aics --type CD --codes A,B,C,D \
  --name 'AICS 肺がんリスクランク' --by op1 >/dev/null
set +e; "$K" items register --data d --code AICS-LUNG --system urn:kenbank:local:aics --type CD --codes A,B \
  --name 'AICS 肺がんリスクランク' >/dev/null 2>err; rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'already registered differently' err || fail "a definition must not change ($rc): $(cat err)"
[ "$("$K" items list --data d)" = 'AICS-LUNG,urn:kenbank:local:aics,CD,,,,"A,B,C,D",AICS 肺がんリスクランク' ] \
  || fail "list: $("$K" items list --data d)"
[ "$(kb_sql d research "SELECT registered_by FROM local_items")" = op1 ] || fail "who registered it is kept"

# once registered, the quarantined record imports
"$K" quarantine retry --data d --id 1 >/dev/null || fail "retry of s2 after registration"
[ "$(kb_sql d research "SELECT coded FROM observations WHERE code='AICS-LUNG'")" = B ] || fail "AICS-LUNG not stored"
[ "$("$K" cohort --data d --all-subjects '9P504000000000011 >= 0')" = 2 ] || fail "cohort should now count s1 and s2"

# a registered answer list is enforced
printf '%s\ncity,s4,2025-06-13,1410000017,141003,A1,1004,00,検診,四郎,ケンシン,シロウ,1,1958-08-07,2310023,横浜市中区4,1,,,E\n' "$H" > b.csv
set +e; "$K" import --data d --source city b.csv >/dev/null; rc=$?; set -e
[ $rc -eq 3 ] || fail "s4 should be quarantined"
"$K" quarantine list --data d | grep -q "b.csv,s4,AICS-LUNG AICS 肺がんリスクランク,\"answer 'E' is not one of the registered answers A,B,C,D" \
  || fail "s4 reason: $("$K" quarantine list --data d)"

# a numeric local item with unit and range, queryable in cohorts
"$K" items register --data d --code AICS-SCORE --system urn:kenbank:local:aics --type PQ --unit 1 --range 0..10 \
  --name 'AICS スコア' >/dev/null
printf '%s\ncity,s5,2025-06-14,1410000017,141003,A1,1005,00,検診,五郎,ケンシン,ゴロウ,1,1959-09-08,2310023,横浜市中区5,4.5\ncity,s6,2025-06-14,1410000017,141003,A1,1006,00,検診,六郎,ケンシン,ロクロウ,1,1960-10-09,2310023,横浜市中区6,12\n' \
  'source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,AICS-SCORE' > d.csv
set +e; "$K" import --data d --source city d.csv >/dev/null; rc=$?; set -e
[ $rc -eq 3 ] || fail "s6's score 12 is outside the registered range"
"$K" quarantine list --data d | grep -q 'd.csv,s6,AICS-SCORE AICS スコア,AICS スコア 12 1 outside the plausible range 0..10' \
  || fail "s6 reason: $("$K" quarantine list --data d)"
[ "$("$K" cohort --data d --all-subjects 'AICS-SCORE >= 4')" = 1 ] || fail "cohort on a local item"

# a column that cannot be an item code is a header error, not a dropped column
printf 'source,record_id,exam_date,performer_org,this-is-not-an-item-code\n' > c.csv
set +e; "$K" import --data d --source city c.csv >out 2>&1; rc=$?; set -e
[ $rc -ne 0 ] && grep -q "column 'this-is-not-an-item-code' is neither a fixed column nor an item code" out \
  || fail "long unknown column must be refused ($rc): $(cat out)"
echo "screening_items: ok"
