#!/usr/bin/env bash
# kenbank gen: file layout, headers, counts, determinism, bad arguments, and
# XSD validation of a sample of the generated MHLW archives.
set -euo pipefail
: "${KENBANK:?}" "${WORK:?}"
SHARED=${SHARED:-$(cd "$(dirname "$0")/../.." && pwd)/../shared}
XSD=$SHARED/data/kenshin/xsd
fail() { echo "FAIL: $*" >&2; exit 1; }

"$KENBANK" gen --people 50 --years 2 --seed 7 --out "$WORK/a" --format both 2>"$WORK/a.log"
"$KENBANK" gen --people 50 --years 2 --seed 7 --out "$WORK/b" --format both 2>/dev/null
grep -q '100 exams' "$WORK/a.log" || fail "summary line: $(cat "$WORK/a.log")"

# Headers, exactly.
IDH='source,record_id,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,insurer_no,insured_symbol,insured_number,branch_no,other_id,record_date'
[ "$(head -1 "$WORK/a/identities.csv")" = "$IDH" ] || fail "identities.csv header"
[ "$(head -1 "$WORK/a/truth.csv")" = "source,record_id,true_person" ] || fail "truth.csv header"
EXH=$(head -1 "$WORK/a/exams.csv")
case "$EXH" in
  source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,*) ;;
  *) fail "exams.csv header: $EXH" ;;
esac
for code in 9N001000000000001 9N006000000000001 9N011000000000001 9N016160100000001 9A751000000000001 \
            9A761000000000001 3F015000002327101 3F070000002327101 3F077000002327101 3B035000002327201 \
            3B045000002327201 3B090000002327101 3D010000002227101 3D046000001906202 1A020000000191111 \
            1A010000000191111 9N701000000000011 9N706000000000011 9N711000000000011 9N736000000000011; do
  grep -q ",$code" <<<"$EXH" || fail "exams.csv lacks column $code"
done

# Row counts: 50 people x 2 years; every record in truth; every exam an identity.
[ "$(($(wc -l <"$WORK/a/exams.csv") - 1))" -eq 100 ] || fail "exams.csv rows"
NID=$(($(wc -l <"$WORK/a/identities.csv") - 1))
[ "$NID" -eq "$(($(wc -l <"$WORK/a/truth.csv") - 1))" ] || fail "identities and truth differ in rows"
[ "$NID" -gt 150 ] || fail "only $NID identity records"
cut -d, -f1,2 "$WORK/a/identities.csv" | sort >"$WORK/ids"
cut -d, -f1,2 "$WORK/a/truth.csv" | sort >"$WORK/truth"
cmp -s "$WORK/ids" "$WORK/truth" || fail "truth.csv does not cover identities.csv"
tail -n +2 "$WORK/a/exams.csv" | cut -d, -f1,2 | sort >"$WORK/exams"
[ -z "$(comm -23 "$WORK/exams" "$WORK/ids")" ] || fail "exam record ids missing from identities.csv"
awk -F, 'NR>1 && $3 !~ /^[0-9]+$/ {bad=1} END {exit bad}' "$WORK/a/truth.csv" || fail "true_person not an integer"
awk -F, 'NR>1 {print $1}' "$WORK/a/identities.csv" | sort -u | grep -q '^ins-' || fail "no insurer records"

# Determinism: byte-identical, zips included.
(cd "$WORK/a" && find . -type f | sort | xargs md5sum) >"$WORK/a.md5"
(cd "$WORK/b" && find . -type f | sort | xargs md5sum) >"$WORK/b.md5"
cmp -s "$WORK/a.md5" "$WORK/b.md5" || fail "two runs with the same seed differ"
"$KENBANK" gen --people 50 --years 2 --seed 8 --out "$WORK/c" 2>/dev/null
cmp -s "$WORK/a/exams.csv" "$WORK/c/exams.csv" && fail "another seed gave the same exams"

# Zip names and contents.
ls "$WORK/a/xml" >"$WORK/zips"
[ -s "$WORK/zips" ] || fail "no zips"
if grep -vE '^[0-9]{10}_[0-9]{8}_[0-9]{8}[0-9]_1\.zip$' "$WORK/zips"; then fail "zip name pattern"; fi
TOTAL=0
# Archives are laid out as real senders' converters lay them out: every
# member under a root folder named like the archive, with folder entries,
# one settlement per paid exam in CLAIMS, and ix08 counting data and
# settlement files together.
for z in "$WORK"/a/xml/*.zip; do
  R=$(basename "$z" .zip)
  unzip -Z1 "$z" >"$WORK/members"
  grep -qx "$R/ix08_V08.xml" "$WORK/members" || fail "$z lacks $R/ix08_V08.xml"
  grep -qx "$R/su08_V08.xml" "$WORK/members" || fail "$z lacks $R/su08_V08.xml"
  grep -qx "$R/DATA/" "$WORK/members" || fail "$z lacks the folder entry $R/DATA/"
  if grep -vE "^$R/((ix08_V08|su08_V08)\.xml|DATA/(h[0-9]+\.xml)?|CLAIMS/(c[0-9]+\.xml)?)?\$" "$WORK/members"; then
    fail "$z: unexpected member"
  fi
  N=$(grep -c "^$R/DATA/h" "$WORK/members")
  C=$(grep -c "^$R/CLAIMS/c" "$WORK/members" || true)
  unzip -p "$z" "$R/ix08_V08.xml" | grep -q "<totalRecordCount value=\"$((N + C))\"/>" || fail "$z: index count is not $N + $C"
  TOTAL=$((TOTAL + N)); CLAIMS=$((${CLAIMS:-0} + C))
done
[ "$TOTAL" -eq 100 ] || fail "zips hold $TOTAL DATA files, expected 100"
[ "$CLAIMS" -ge 80 ] && [ "$CLAIMS" -le 100 ] || fail "zips hold $CLAIMS settlements for 100 exams"

# The DATA base names are the exam record ids.
for z in "$WORK"/a/xml/*.zip; do unzip -Z1 "$z" | sed -n 's#^[^/]*/DATA/\(.*\)\.xml$#\1#p'; done | sort >"$WORK/dataids"
cut -d, -f2 "$WORK/exams" | sort | cmp -s - "$WORK/dataids" || fail "DATA file names differ from exam record ids"

# Schema validation of a sample: every file of one zip from each of the
# first three senders.  The
# converter senders add interpretationCode, methodCode and referenceRange,
# which hc08_V08.xsd does not have (as real converters do); everything else
# in their files must validate, so those three are stripped before the check
# and must have been there.
strip_ext() { perl -pe 's#<referenceRange>.*?</referenceRange>##g; s#<interpretationCode[^>]*/>##g; s#<methodCode[^>]*/>##g' "$1"; }
mkdir -p "$WORK/x" "$WORK/xs"
for z in $(ls "$WORK"/a/xml/*.zip | awk -F/ '{ split($NF, p, "_") } !seen[p[1]]++' | head -3); do
  R=$(basename "$z" .zip)
  d="$WORK/x/$R"
  unzip -q "$z" -d "$WORK/x"
  for f in "$d"/DATA/*.xml; do strip_ext "$f" >"$WORK/xs/$(basename "$f")"; done
  xmllint --noout --schema "$XSD/hc08_V08.xsd" "$WORK"/xs/*.xml 2>"$WORK/xmllint.log" || { cat "$WORK/xmllint.log"; fail "hc08 validation in $z"; }
  rm -f "$WORK"/xs/*.xml
  xmllint --noout --schema "$XSD/cc08_V08.xsd" "$d"/CLAIMS/*.xml 2>"$WORK/xmllint.log" || { cat "$WORK/xmllint.log"; fail "cc08 validation in $z"; }
  xmllint --noout --schema "$XSD/ix08_V08.xsd" "$d/ix08_V08.xml" 2>>"$WORK/xmllint.log" || fail "ix08 validation in $z"
  xmllint --noout --schema "$XSD/su08_V08.xsd" "$d/su08_V08.xml" 2>>"$WORK/xmllint.log" || fail "su08 validation in $z"
done
cat "$WORK"/x/*/DATA/*.xml > "$WORK/all.xml"
grep -q '<code nullFlavor="NA"/><entryRelationship typeCode="COMP">' "$WORK/all.xml" || fail "no 詳細な健診 group written"
grep -q '<entryRelationship typeCode="RSON">' "$WORK/all.xml" || fail "no group reason (RSON) written"
grep -q '<interpretationCode code="H"' "$WORK/all.xml" || fail "no converter sender's interpretation code"
grep -q '<referenceRange><observationRange>' "$WORK/all.xml" || fail "no converter sender's reference range"
# A noisy run (every noise high) must still validate.
"$KENBANK" gen --people 40 --years 1 --seed 3 --out "$WORK/n" --format xml --rate-width 1 --rate-missing 1 \
  --rate-typo 1 --rate-variant 1 --zip-level 0 2>/dev/null
z=$(ls "$WORK"/n/xml/*.zip | sed -n 1p)
unzip -q "$z" -d "$WORK/n/x"
mkdir -p "$WORK/n/s"
for f in "$WORK"/n/x/*/DATA/*.xml; do strip_ext "$f" >"$WORK/n/s/$(basename "$f")"; done
xmllint --noout --schema "$XSD/hc08_V08.xsd" "$WORK"/n/s/*.xml 2>"$WORK/xmllint.log" || { cat "$WORK/xmllint.log"; fail "noisy hc08 validation"; }

# --no-noise: no half-width kana at all; the default run has some noise.
"$KENBANK" gen --people 300 --years 1 --seed 3 --out "$WORK/q" --no-noise 2>/dev/null
HALF=$'\xef(\xbd[\xa6-\xbf]|\xbe[\x80-\x9f])'  # U+FF66..U+FF9F as UTF-8 bytes
if LC_ALL=C grep -qE "$HALF" "$WORK/q/identities.csv"; then fail "--no-noise left half-width kana"; fi
"$KENBANK" gen --people 300 --years 1 --seed 3 --out "$WORK/r" --rate-width 1 2>/dev/null
LC_ALL=C grep -qE "$HALF" "$WORK/r/identities.csv" || fail "--rate-width 1 gave no half-width kana"

# Bad arguments exit 2 with the usage.
expect2() {
  local rc=0
  "$KENBANK" gen "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "gen $* exited $rc, expected 2"
  grep -q 'usage:' "$WORK/err" || fail "gen $* printed no usage"
}
expect2 --people 10 --years 1 --seed 1
expect2 --people 0 --years 1 --seed 1 --out "$WORK/z"
expect2 --people 10 --years 31 --seed 1 --out "$WORK/z"
expect2 --people 10 --years 1 --seed -1 --out "$WORK/z"
expect2 --people 10 --years 1 --seed 1 --out "$WORK/z" --format pdf
expect2 --people 10 --years 1 --seed 1 --out "$WORK/z" --rate-typo 1.5
expect2 --people 10 --years 1 --seed 1 --out "$WORK/z" --rate-bogus 0.1
expect2 --people 10 --years 1 --seed 1 --out "$WORK/z" --frobnicate
expect2 --people

# A runtime failure (output under a regular file) exits 1 and names the path.
touch "$WORK/file"
rc=0; "$KENBANK" gen --people 5 --years 1 --seed 1 --out "$WORK/file/sub" 2>"$WORK/err" || rc=$?
[ "$rc" -eq 1 ] || fail "unwritable --out exited $rc, expected 1"
grep -q "$WORK/file/sub" "$WORK/err" || fail "error does not name the path: $(cat "$WORK/err")"
echo ok
