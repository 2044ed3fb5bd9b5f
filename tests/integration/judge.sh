#!/usr/bin/env bash
# kenbank judge: files, directories and a submission zip; exact CSV, stderr
# naming file/field/rule, and exit codes 0 / 3 / 2.
set -euo pipefail
: "${KENBANK:?}" "${WORK:?}"
FX=tests/fixtures/hc08
fail() { echo "FAIL: $*" >&2; exit 1; }

HEADER='record_id,exam_date,sex,age,metabo,guidance_level,referrals'
# Hand-worked (see tests/fixtures/hc08 and docs/internals/judge.md):
#  h1 man 64, waist 88, BP mean 139/79, TG 160, smoker      -> metabo 1, 積極的 1
#  h2 woman 66 (Shift_JIS), BMI 25.8, HDL 38, FPG 101, smoker -> 3, 動機付け 2 (65-74 cap)
#  h3 man 74, on BP medication, many values over 受診勧奨    -> 1, 3
#  h4 woman 64, waist 90 (自己判定), random TG 175, HbA1c 5.6 -> 2, 1
#  h5 man 65 (born 1 April), waist 95, BP + TG              -> 1, 2 (cap)
#  h6 no waist, no BMI, BP + TG risks                       -> 4, 4
EXPECTED="$HEADER
h0000000001,2024-05-15,1,64,1,1,
h0000000002,2024-06-01,2,66,3,2,
h0000000003,2025-03-10,1,74,1,3,収縮期血圧;拡張期血圧;空腹時中性脂肪;HDLコレステロール;HbA1c;AST;ALT;γ-GT
h0000000004,2024-07-01,2,64,2,1,
h0000000005,2024-05-15,1,65,1,2,
h0000000006,2024-05-15,1,55,4,4,"

# 1. good files: exit 0, exact output, the file's own 9N506 disagreement on stderr
rc=0
"$KENBANK" judge $FX/h00000000{01,02,03,04,05,06}.xml >"$WORK/out.csv" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 0 ] || fail "good files: exit $rc, want 0: $(cat "$WORK/err.txt")"
[ "$(cat "$WORK/out.csv")" = "$EXPECTED" ] || { diff <(echo "$EXPECTED") "$WORK/out.csv" >&2 || true; fail "good files: CSV differs"; }
grep -q 'h0000000001.xml: 9N506: the file says 2, the rules give 1' "$WORK/err.txt" || fail "disagreement not reported"
[ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || fail "unexpected stderr: $(cat "$WORK/err.txt")"

# 2. the fixture directory: bad files reported (file, field, rule), the rest judged, exit 3
rc=0
"$KENBANK" judge $FX >"$WORK/out.csv" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 3 ] || fail "directory: exit $rc, want 3"
WANT_DIR="$HEADER
ext_negation,2024-07-01,2,64,4,1,
$(echo "$EXPECTED" | tail -n +2)"
[ "$(cat "$WORK/out.csv")" = "$WANT_DIR" ] || { diff <(echo "$WANT_DIR") "$WORK/out.csv" >&2 || true; fail "directory: CSV differs"; }
grep -q "bad_date.xml: line 20: patient/birthTime/@value: '19600230' is not a date" "$WORK/err.txt" || fail "bad_date not reported"
grep -q 'bad_malformed.xml: line 20: XML: not well-formed' "$WORK/err.txt" || fail "bad_malformed not reported"
grep -q 'bad_noids.xml: recordTarget/patientRole/id\[@root=1.2.392.200119.6.101\]: missing' "$WORK/err.txt" || fail "bad_noids not reported"
grep -q "bad_value.xml: line 60: observation\[9N011000000000001\]/value: @value '2x.0' is not a number" "$WORK/err.txt" || fail "bad_value not reported"

# 3. a submission zip built with zip(1): one bad entry, the others go on
mkdir -p "$WORK/sub/DATA"
cat >"$WORK/sub/ix08_V08.xml" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<index xmlns="urn:hl7-org:v3"><sender><id root="1.2.392.200119.6.102" extension="1312345678"/><name>テスト</name></sender><receiver><id root="1.2.392.200119.6.105" extension="06123456"/><name>テスト保険者</name></receiver><creationTime value="20250401"/><serviceEventType code="1"/><totalRecordCount value="3"/></index>
X
cat >"$WORK/sub/su08_V08.xml" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<summary xmlns="https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html"><serviceEventType code="1"/><totalSubjectCount value="3"/><totalCostAmount value="0"/><totalPaymentAmount value="0"/><totalClaimAmount value="0"/></summary>
X
cp $FX/h0000000004.xml "$WORK/sub/DATA/h0000000004.xml"
cp $FX/bad_noids.xml "$WORK/sub/DATA/h0000000009.xml"
cp $FX/h0000000002.xml "$WORK/sub/DATA/h0000000002.xml"
(cd "$WORK/sub" && zip -q -r ../sub.zip ix08_V08.xml su08_V08.xml DATA)
rc=0
"$KENBANK" judge "$WORK/sub.zip" >"$WORK/out.csv" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 3 ] || fail "zip: exit $rc, want 3"
WANT_ZIP="$HEADER
h0000000002,2024-06-01,2,66,3,2,
h0000000004,2024-07-01,2,64,2,1,"
[ "$(cat "$WORK/out.csv")" = "$WANT_ZIP" ] || { diff <(echo "$WANT_ZIP") "$WORK/out.csv" >&2 || true; fail "zip: CSV differs"; }
grep -q 'sub.zip:DATA/h0000000009.xml: recordTarget/patientRole/id\[@root=1.2.392.200119.6.101\]: missing: insurer number is mandatory' "$WORK/err.txt" \
  || fail "zip: bad entry not named: $(cat "$WORK/err.txt")"
grep -q 'totalRecordCount' "$WORK/err.txt" && fail "zip: counts agree, no warning wanted"

# 4. a clean zip exits 0; a count mismatch is a warning, not a failure
rm "$WORK/sub/DATA/h0000000009.xml"
(cd "$WORK/sub" && zip -q -r ../good.zip ix08_V08.xml DATA)
rc=0
"$KENBANK" judge "$WORK/good.zip" >"$WORK/out.csv" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 0 ] || fail "good zip: exit $rc, want 0"
[ "$(cat "$WORK/out.csv")" = "$WANT_ZIP" ] || fail "good zip: CSV differs"
grep -q 'su08_V08.xml: missing' "$WORK/err.txt" || fail "good zip: missing summary not reported"
grep -q 'totalRecordCount: says 3 files, the archive holds 2 data and settlement files' "$WORK/err.txt" || fail "good zip: count mismatch not reported"

# 5. usage and missing paths
rc=0; "$KENBANK" judge >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "no PATH: exit $rc, want 2"
rc=0; "$KENBANK" judge --frobnicate x >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "bad option: exit $rc, want 2"
rc=0; "$KENBANK" judge "$WORK/none.xml" $FX/h0000000005.xml >"$WORK/out.csv" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 3 ] || fail "missing file: exit $rc, want 3"
grep -q 'none.xml: cannot open' "$WORK/err.txt" || fail "missing file not reported"
[ "$(tail -1 "$WORK/out.csv")" = "h0000000005,2024-05-15,1,65,1,2," ] || fail "missing file stopped the rest"

# 6. the legend of the codes: on stderr with --legend, the CSV unchanged
rc=0; "$KENBANK" judge --legend $FX/h0000000005.xml >"$WORK/out.csv" 2>"$WORK/err.txt" || rc=$?
[ "$rc" -eq 0 ] || fail "--legend: exit $rc"
grep -q 'metabo (9N501) 1 基準該当, 2 予備群該当, 3 非該当, 4 判定不能' "$WORK/err.txt" || fail "no legend: $(cat "$WORK/err.txt")"
grep -q 'guidance_level (9N506) 1 積極的支援, 2 動機付け支援, 3 なし' "$WORK/err.txt" || fail "no guidance legend"
[ "$(cat "$WORK/out.csv")" = "$HEADER
h0000000005,2024-05-15,1,65,1,2," ] || fail "--legend changed the CSV: $(cat "$WORK/out.csv")"
# a person at a terminal gets it without asking (stderr a pty, stdout a file)
script -qec "\"$KENBANK\" judge $FX/h0000000005.xml >\"$WORK/tty.csv\"" /dev/null >"$WORK/tty.txt" 2>&1 || fail "judge under a pty failed"
grep -q '基準該当' "$WORK/tty.txt" || fail "no legend at a terminal: $(cat "$WORK/tty.txt")"
grep -q '基準該当' "$WORK/tty.csv" && fail "legend leaked into the CSV"
echo ok
