#!/usr/bin/env bash
# kenbank review split undoes a wrong merge (issue 16): the named records
# become a person of their own in both stores, their exams follow, the
# member's own data stays, and no later import joins the two again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
row() { # SOURCE RECORD DATE
  echo "$1,$2,$3,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1"
}
{ echo "$H"; row inst-a a1 2023-05-10; } >a.csv
{ echo "$H"; row inst-b b1 2024-05-10; row inst-b b2 2024-06-10; } >b.csv
"$K" init --data d >/dev/null
"$K" import --data d --source inst-a a.csv >/dev/null
"$K" import --data d --source inst-b b.csv >/dev/null
active() { kb_sql d identity "SELECT COUNT(*) FROM persons WHERE status = 'active'"; }
subjects() { kb_sql d research "SELECT COUNT(DISTINCT subject_id) FROM exams"; }
[ "$(active)" = 1 ] && [ "$(subjects)" = 1 ] || fail "the three records should start as one person"

# refused: unknown record, all of a person's records, records of two persons
set +e
"$K" review split --data d --record inst-b:nope --as op1 2>err; rc=$?
[ $rc = 1 ] && grep -q 'inst-b:nope: no such source record' err || fail "unknown record: exit $rc $(cat err)"
"$K" review split --data d --record inst-a:a1 --record inst-b:b1 --record inst-b:b2 --as op1 2>err; rc=$?
[ $rc = 1 ] && grep -q 'nothing to split' err || fail "all records: exit $rc $(cat err)"
"$K" review split --data d --record inst-b:b1 2>err; rc=$?
[ $rc = 2 ] || fail "no --as: exit $rc"
set -e
[ "$(active)" = 1 ] || fail "a refused split changed the persons"

out=$("$K" review split --data d --record inst-b:b1 --record inst-b:b2 --as op1 --why "two men of one name")
grep -q '^split: 2 records now a person of their own' <<<"$out" || fail "split output: $out"
[ "$(active)" = 2 ] || fail "split did not make a second person"
[ "$(subjects)" = 2 ] || fail "the split records' exams did not move to a subject of their own"
[ "$(kb_sql d research "SELECT COUNT(DISTINCT subject_id) FROM exams WHERE source = 'inst-b'")" = 1 ] ||
  fail "the two split exams should share the new subject"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM review_queue WHERE status = 'rejected' AND decided_by = 'op1'")" = 2 ] ||
  fail "the split should record a rejection between every moved and every remaining record"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'linkage.split' AND actor = 'op1' AND detail LIKE '%two men of one name%'")" = 2 ] ||
  fail "the split is audited under both pseudonyms"
"$K" check --data d >/dev/null || fail "check after split: $("$K" check --data d 2>&1 | tail -3)"

# a later import of the same identity joins one of them, never both
{ echo "$H"; row inst-c c1 2025-05-10; } >c.csv
"$K" import --data d --source inst-c c.csv >/dev/null
[ "$(active)" = 2 ] || fail "a later import merged the split persons again"
[ "$(subjects)" = 2 ] || fail "a later import folded the split exams back"
"$K" check --data d >/dev/null || fail "check after re-import"
echo "split: ok"
