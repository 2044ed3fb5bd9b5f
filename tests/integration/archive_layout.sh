#!/usr/bin/env bash
# Archives as real senders' converters write them (issue 15): everything
# under a root folder, settlements in CLAIMS, schemas in XSD, 詳細な健診
# grouped with a reason.  Every entry must be accounted for, never a silent
# zero; unsafe names are quarantined; `kenbank judge` reads what import
# reads, because both ask the one entry rule.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
K="$KENBANK"
XSD="$SHARED/data/kenshin/xsd"

"$K" gen --people 400 --years 1 --seed 11 --out "$WORK/pop" --format xml 2>/dev/null
mkdir "$WORK/u"
for z in "$WORK"/pop/xml/*.zip; do unzip -qo "$z" -d "$WORK/u"; done
grep -l 3C015000002399901 "$WORK"/u/*/DATA/h*.xml >"$WORK/grouped"
head -30 "$WORK/grouped" >"$WORK/picked"
[ "$(wc -l <"$WORK/picked")" -eq 30 ] || fail "the population has fewer than 30 exams with a creatinine group"

R=KENSHIN_1410100008_202405
args=()
nclaims=0
while read -r f; do
  b=$(basename "$f" .xml)
  args+=("DATA/$b.xml=$f")
  c="$(dirname "$(dirname "$f")")/CLAIMS/c${b#h}.xml"
  if [ -f "$c" ]; then args+=("CLAIMS/c${b#h}.xml=$c"); nclaims=$((nclaims + 1)); fi
done <"$WORK/picked"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<index xmlns="urn:hl7-org:v3"><sender><id root="1.2.392.200119.6.102" extension="1410100008"/><name>健診センター</name></sender><receiver><id root="1.2.392.200119.6.101" extension="06141378"/><name>保険者</name></receiver><creationTime value="20240520"/><serviceEventType code="1"/><totalRecordCount value="%d"/></index>\n' $((30 + nclaims)) >"$WORK/ix.xml"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<summary xmlns="https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html"><serviceEventType code="1"/><totalSubjectCount value="30"/><totalCostAmount value="0"/><totalPaymentAmount value="0"/><totalClaimAmount value="0"/></summary>\n' >"$WORK/su.xml"
kb_mkzip "$WORK/real.zip" "$R" "ix08_V08.xml=$WORK/ix.xml" "su08_V08.xml=$WORK/su.xml" "${args[@]}" \
  "XSD/hc08_V08.xsd=$XSD/hc08_V08.xsd" "XSD/cc08_V08.xsd=$XSD/cc08_V08.xsd" "XSD/co08_V08.xsd=$XSD/co08_V08.xsd"
[ "$nclaims" -ge 25 ] || fail "only $nclaims of the 30 exams have a settlement"

# 1. 30 of 30 exams, and the creatinine value of every one of them.
"$K" init --data "$WORK/d" >/dev/null
rc=0; "$K" import --data "$WORK/d" --source inst "$WORK/real.zip" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ $rc -eq 0 ] || { cat "$WORK/out" "$WORK/err"; fail "third-party layout: exit $rc"; }
grep -q '^exams accepted      30 ' "$WORK/out" || { cat "$WORK/out"; fail "not 30 of 30 exams"; }
grep -q "^archive entries .*exam 30 claim $nclaims index 1 summary 1 schema 3 folder 4\$" "$WORK/out" ||
  { cat "$WORK/out"; fail "entries not accounted for by kind"; }
grep -q "^settlements kept    $nclaims ($nclaims tied to their exam)" "$WORK/out" || { cat "$WORK/out"; fail "settlements"; }
if grep -q totalRecordCount "$WORK/err"; then cat "$WORK/err"; fail "ix08 count agrees, no warning wanted"; fi
n=$("$K" cohort --data "$WORK/d" --all-subjects '3C015000002399901 >= 0')
[ "$n" = 30 ] || fail "cohort on serum creatinine counts $n, not 30"
[ "$(kb_sql "$WORK/d" research "SELECT COUNT(*) FROM observations WHERE rel = 'RSON' AND code = '3C015161002399949'")" = 30 ] ||
  fail "the 30 group reasons were not stored with their relation"
[ "$(kb_sql "$WORK/d" identity "SELECT COUNT(*) FROM archive_documents WHERE kind = 'cc08' AND status = 'linked' AND exam_record_key IS NOT NULL")" = "$nclaims" ] ||
  fail "settlements not kept tied to their exams"
# judge asks the same rule, so it reads the same 30
[ "$("$K" judge "$WORK/real.zip" | tail -n +2 | wc -l)" -eq 30 ] || fail "judge and import disagree on the archive"

# 2. The silent zero: DATA holds files but no exam.  Exit 3 with the reason.
printf 'x' >"$WORK/readme.txt"
kb_mkzip "$WORK/empty.zip" E "ix08_V08.xml=$WORK/ix.xml" "DATA/readme.txt=$WORK/readme.txt" "DATA/x0001.xml=$WORK/su.xml"
rc=0; "$K" import --data "$WORK/d" --source inst "$WORK/empty.zip" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ $rc -eq 3 ] || { cat "$WORK/out" "$WORK/err"; fail "an archive without exams exited $rc, not 3"; }
grep -q 'no exam document' "$WORK/err" || fail "no reason given for the empty archive"
grep -q '^findings            1 ' "$WORK/out" || fail "finding not in the summary"

# 3. Unsafe names are quarantined with the reason; the good exam beside them goes in.
good=$(sed -n 1p "$WORK/picked")
kb_mkzip "$WORK/evil.zip" V "DATA/h9990000000000000001.xml=$good" "../DATA/h1.xml=$good" "/abs/DATA/h2.xml=$good"
"$K" init --data "$WORK/e" >/dev/null
rc=0; "$K" import --data "$WORK/e" --source inst "$WORK/evil.zip" >"$WORK/out" 2>"$WORK/err" || rc=$?
[ $rc -eq 3 ] || { cat "$WORK/out" "$WORK/err"; fail "unsafe entries: exit $rc, not 3"; }
grep -q '^exams accepted      1 ' "$WORK/out" || { cat "$WORK/out"; fail "the good exam beside unsafe names was lost"; }
grep -q '^unsafe entry names  2 ' "$WORK/out" || { cat "$WORK/out"; fail "unsafe names not counted"; }
"$K" quarantine list --data "$WORK/e" >"$WORK/q"
[ "$(grep -c "archive entry name" "$WORK/q")" -eq 2 ] || { cat "$WORK/q"; fail "unsafe names not quarantined with the field"; }
grep -q "never unpacked" "$WORK/q" || fail "quarantine does not say why"
# a retry keeps them quarantined (nothing to import), never drops them
rc=0; "$K" quarantine retry --data "$WORK/e" >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 3 ] && grep -q "2 still quarantined" "$WORK/out" || { cat "$WORK/out"; fail "retry of unsafe entries: exit $rc"; }
[ "$("$K" quarantine list --data "$WORK/e" | grep -c "archive entry name")" -eq 2 ] || fail "unsafe entries lost by a retry"

# 3b. A settlement that breaks a rule is quarantined naming the field; the
# corrected one, sent through retry, is kept.
c1=$(sed -n 's/^CLAIMS\/\(.*\)=\(.*\)$/\2/p' <(printf '%s\n' "${args[@]}") | sed -n 1p)
sed 's/extension="[0-9]\{10\}"/extension="12345"/' "$c1" >"$WORK/badclaim.xml"
kb_mkzip "$WORK/badclaim.zip" B "DATA/h9990000000000000003.xml=$good" "CLAIMS/c9990000000000000003.xml=$WORK/badclaim.xml"
rc=0; "$K" import --data "$WORK/e" --source inst "$WORK/badclaim.zip" >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 3 ] || { cat "$WORK/out"; fail "a bad settlement: exit $rc"; }
"$K" quarantine list --data "$WORK/e" >"$WORK/q"
qid=$(grep 'performerOrganization/id/@extension' "$WORK/q" | cut -d, -f1)
[ -n "$qid" ] || { cat "$WORK/q"; fail "bad settlement not quarantined with its field"; }
"$K" quarantine retry --data "$WORK/e" --id "$qid" --replace "$c1" >"$WORK/out" || fail "corrected settlement: $(cat "$WORK/out")"
[ "$(kb_sql "$WORK/e" identity "SELECT COUNT(*) FROM archive_documents WHERE kind = 'cc08'")" = 1 ] || fail "corrected settlement not kept"

# 4. ix08's 総ファイル数 is checked against what the archive holds, as a warning.
sed 's/totalRecordCount value="[0-9]*"/totalRecordCount value="99"/' "$WORK/ix.xml" >"$WORK/ix99.xml"
kb_mkzip "$WORK/count.zip" C "ix08_V08.xml=$WORK/ix99.xml" "su08_V08.xml=$WORK/su.xml" "DATA/h9990000000000000002.xml=$good"
"$K" init --data "$WORK/c" >/dev/null
"$K" import --data "$WORK/c" --source inst "$WORK/count.zip" >"$WORK/out" 2>"$WORK/err" || fail "a count mismatch must not fail the import"
grep -q 'totalRecordCount says 99 files, the archive holds 1 data and settlement files' "$WORK/err" || { cat "$WORK/err"; fail "count mismatch not reported"; }

# 5. A whole generated year: converter senders' interpretation, method and
# range are kept; every group's members share their group.
"$K" init --data "$WORK/all" >/dev/null
"$K" import --data "$WORK/all" --source gen "$WORK/pop/xml" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/out" "$WORK/err"; fail "whole population"; }
[ "$(kb_sql "$WORK/all" research "SELECT COUNT(*) FROM observations WHERE interp IS NOT NULL AND ref_high IS NOT NULL AND method IS NOT NULL")" -gt 100 ] ||
  fail "converter annotations not stored"
[ "$(kb_sql "$WORK/all" research "SELECT COUNT(*) FROM (SELECT exam_id, grp FROM observations WHERE grp > 0 GROUP BY exam_id, grp HAVING COUNT(*) <> 3) g")" = 0 ] ||
  fail "a creatinine group lost a member"
"$K" check --data "$WORK/all" >/dev/null || fail "store inconsistent after the import"
echo ok
