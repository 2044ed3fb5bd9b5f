#!/usr/bin/env bash
# Import of CSV exams: good rows go in, broken rows are quarantined with file,
# record, field and rule; re-import adds nothing; a corrected resubmission
# becomes version 2; quarantine retry imports a fixed record.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
cat > a.csv <<CSV
$H
inst-a,r1,2024-05-10,1410000001,０６１４００１９,ＡＢ,１２３,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1
inst-a,r2,2024-06-11,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.4,66.0,5.7,1
inst-a,r3,2024-06-12,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市川崎区2,1580,50.1,5.2,1
inst-a,r4,2024-06-13,1410000001,06140019,AB,125,00,例示,一郎,レイジ,イチロウ,1,1975-01-01,2100001,川崎市川崎区3,abc,50.1,5.2,1
inst-a,r5,2024-02-30,1410000001,06140019,AB,126,00,例示,次郎,レイジ,ジロウ,1,1976-01-01,2100001,川崎市川崎区3,160,50.1,5.2,1
inst-a,r6,2024-06-14,1410000001,06140019,AB,127,00,例示,三郎,レイジ,サブロウ,1,1977-01-01,2100001,川崎市川崎区3,160,50.1,5.2,1
CSV

"$K" init --data d >/dev/null
set +e; out=$("$K" import --data d --source inst-a a.csv); rc=$?; set -e
[ $rc -eq 3 ] || fail "import with bad rows should exit 3, got $rc: $out"
grep -q '^exams accepted      3 ' <<<"$out" || fail "3 accepted expected: $out"
grep -q '^exams quarantined   3' <<<"$out" || fail "3 quarantined expected: $out"
grep -q '^new persons         2' <<<"$out" || fail "r1/r2 link on folded ids, r6 is new: $out"

q=$("$K" quarantine list --data d)
[ "$(tail -n +2 <<<"$q" | wc -l)" -eq 3 ] || fail "quarantine should list 3: $q"
grep -q '^1,open,inst-a,a.csv,r3,9N001000000000001 身長,身長 1580 cm outside the plausible range' <<<"$q" || fail "r3 reason: $q"
grep -q "a.csv,line 5 r4,9N001000000000001,\"身長 must be a number, got 'abc'\"" <<<"$q" || fail "r4 reason: $q"
grep -q "a.csv,r5,exam_date,\"exam_date must be a valid YYYY-MM-DD date, got '2024-02-30'\"" <<<"$q" || fail "r5 reason: $q"

# the quarantined raw record is kept whole
"$K" quarantine show --data d --id 1 > r3.csv
grep -q '^inst-a,r3,2024-06-12' r3.csv || fail "raw record lost"
head -1 r3.csv | grep -q '^source,record_id' || fail "raw record lacks its header"

# same file again: nothing new
out=$("$K" import --data d --source inst-a a.csv) || fail "re-import should exit 0"
grep -q '(1 already imported, skipped)' <<<"$out" || fail "file not recognised: $out"
# The file is known by its SHA-256, the same any other tool computes.
[ "$(kb_sql d identity "SELECT sha256 FROM import_files WHERE path LIKE '%a.csv'")" = "$(sha256sum a.csv | cut -d' ' -f1)" ] ||
  fail "stored file hash is not the file's SHA-256"

# a different file carrying the same rows: duplicates, not new exams
cp a.csv b.csv; echo "" >> b.csv
set +e; out=$("$K" import --data d --source inst-a b.csv); set -e
grep -q '^duplicates skipped  3' <<<"$out" || fail "row-level duplicates: $out"

# corrected resubmission of r1 -> version 2, history kept
printf '%s\n%s\n' "$H" 'inst-a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,64.0,5.6,1' > c.csv
out=$("$K" import --data d --source inst-a c.csv) || fail "correction should import: $out"
grep -q '(1 corrected versions)' <<<"$out" || fail "correction not versioned: $out"
s=$("$K" stats --data d)
grep -q 'exams (current)   3' <<<"$s" || fail "current exams: $s"
grep -q 'exams (all versions) 4' <<<"$s" || fail "history kept: $s"

# within one file (one batch, keys not yet written): a repeated row is a
# duplicate and a changed one a further version
printf '%s\n%s\n%s\n%s\n' "$H" \
  'inst-a,r7,2024-07-01,1410000001,06140019,AB,128,00,例示,四郎,レイジ,シロウ,1,1978-01-01,2100001,川崎市川崎区3,161,51.1,5.2,1' \
  'inst-a,r7,2024-07-01,1410000001,06140019,AB,128,00,例示,四郎,レイジ,シロウ,1,1978-01-01,2100001,川崎市川崎区3,161,51.1,5.2,1' \
  'inst-a,r7,2024-07-01,1410000001,06140019,AB,128,00,例示,四郎,レイジ,シロウ,1,1978-01-01,2100001,川崎市川崎区3,161,52.0,5.2,1' > e.csv
out=$("$K" import --data d --source inst-a e.csv) || fail "in-batch versions should import: $out"
grep -q '^exams accepted      2 (1 corrected versions)' <<<"$out" || fail "in-batch correction: $out"
grep -q '^duplicates skipped  1' <<<"$out" || fail "in-batch duplicate: $out"
"$K" check --data d >/dev/null || fail "check after in-batch versions"
s=$("$K" stats --data d)
grep -q 'exams (current)   4' <<<"$s" || fail "current exams after r7: $s"

# retry with a fixed record
sed -i 's/,1580,/,158.0,/' r3.csv
out=$("$K" quarantine retry --data d --id 1 --replace r3.csv) || fail "retry should succeed: $out"
grep -q '1 imported' <<<"$out" || fail "retry: $out"
"$K" quarantine list --data d --all | grep -q '^1,resolved,' || fail "entry 1 should be resolved"

# retry of every open entry (no --id): those still broken stay quarantined,
# once each (the old entry superseded by a fresh one), and the run says so
open_before=$("$K" quarantine list --data d | tail -n +2 | wc -l)
[ "$open_before" -ge 1 ] || fail "no open entry left to retry"
set +e; out=$("$K" quarantine retry --data d); rc=$?; set -e
[ $rc -eq 3 ] || fail "retry of still-broken entries exit $rc: $out"
grep -q "^retried $open_before: 0 imported, $open_before still quarantined" <<<"$out" || fail "retry all: $out"
[ "$("$K" quarantine list --data d | tail -n +2 | wc -l)" -eq "$open_before" ] || fail "retry all listed entries twice"

# Shift_JIS (CP932) from an older sender reads the same as UTF-8
"$K" init --data s >/dev/null
iconv -f UTF-8 -t CP932 a.csv > sjis.csv
set +e; out=$("$K" import --data s --source old sjis.csv); rc=$?; set -e
[ $rc -eq 3 ] || fail "sjis import exit $rc: $out"
grep -q '^exams accepted      3 ' <<<"$out" || fail "sjis accepted: $out"
"$K" quarantine show --data s --id 1 | grep -q '見本,花子,ミホン,ハナコ' || fail "sjis text not converted"
# a row that is neither UTF-8 nor Shift_JIS is quarantined, the rest go in
{ head -2 a.csv; printf 'inst-a,r9,2024-06-14,1410000001,06140019,AB,129,00,\xff\xfe,x,y,z,1,1977-01-01,2100001,a,160,50.1,5.2,1\n'; } > mixed.csv
set +e; out=$("$K" import --data s --source mixed mixed.csv); rc=$?; set -e
[ $rc -eq 3 ] || fail "mixed import exit $rc: $out"
"$K" quarantine list --data s | grep -q 'mixed.csv,line 3,record,text is neither UTF-8 nor Shift_JIS' || fail "bad bytes not quarantined"

# kenbank check notices rows whose distribution column strays from their
# exam's (on PostgreSQL the guard trigger refuses the update instead)
if [ "$(kb_backend d)" = sqlite ]; then
  cp -r d broken
  kb_sql broken research "UPDATE observations SET pseudonym = 'R-XXXX' WHERE rowid = (SELECT MIN(rowid) FROM observations)"
  kb_sql broken research "UPDATE exam_keys SET pseudonym = 'R-XXXX' WHERE rowid = (SELECT MIN(rowid) FROM exam_keys)"
  set +e; out=$("$K" check --data broken 2>&1); rc=$?; set -e
  [ $rc -ne 0 ] || fail "check passed a store with a stray pseudonym: $out"
  grep -q "1 observations whose pseudonym differs from their exam's" <<<"$out" || fail "check (observations): $out"
  grep -q "1 exams without their exam_keys row" <<<"$out" || fail "check (exam_keys): $out"
fi

# errors: usage -> 2, runtime -> 1 with a message naming the path
set +e
"$K" import --data d a.csv 2>err; rc=$?
[ $rc -eq 2 ] || fail "missing --source should exit 2, got $rc"
grep -q 'usage:' err || fail "usage not printed"
"$K" import --data nowhere --source x a.csv 2>err; rc=$?
[ $rc -eq 1 ] || fail "missing data dir should exit 1, got $rc"
grep -q 'nowhere: not a kenbank data directory' err || fail "message: $(cat err)"
"$K" import --data d --source x missing.csv 2>err; rc=$?
[ $rc -eq 1 ] || fail "missing file should exit 1"
grep -q 'missing.csv' err || fail "message should name the file: $(cat err)"
set -e
echo ok
