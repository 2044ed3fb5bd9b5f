#!/usr/bin/env bash
# The importer's two threads share an archive's settlements: the reader
# notes them, whichever thread would otherwise wait reads them, and the
# reader seals their bundle.  Every settlement must be kept exactly once,
# whatever the order of entries and however the work fell; bad ones are
# quarantined.  Run under TSan too (tests/run.sh, pass 1c), where
# KENBANK_GEN names an uninstrumented binary for the generator.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
K="$KENBANK"
G="${KENBANK_GEN:-$K}"

"$G" gen --people 300 --years 1 --seed 5 --out "$WORK/pop" --format xml >/dev/null 2>&1
mkdir "$WORK/u"
for z in "$WORK"/pop/xml/*.zip; do unzip -qo "$z" -d "$WORK/u"; done
ls "$WORK"/u/*/DATA/h*.xml | sed -n 1,200p >"$WORK/exams"
[ "$(wc -l <"$WORK/exams")" -eq 200 ] || fail "the population has fewer than 200 exams"

# Two layouts of the same documents: settlements all first (CLAIMS/ sorts
# before DATA/, as converters write), and each beside its exam.  Every
# tenth settlement has a broken performer id.
first=() beside=() good=0 bad=0 bytes=0 i=0
while read -r f; do
  b=$(basename "$f" .xml); c="$(dirname "$(dirname "$f")")/CLAIMS/c${b#h}.xml"
  [ -f "$c" ] || continue
  i=$((i + 1))
  if [ $((i % 10)) -eq 0 ]; then
    sed 's/extension="[0-9]\{10\}"/extension="12345"/' "$c" >"$WORK/bad$i.xml"; c="$WORK/bad$i.xml"; bad=$((bad + 1))
  else
    good=$((good + 1)); bytes=$((bytes + $(stat -c %s "$c")))
  fi
  first=("CLAIMS/c${b#h}.xml=$c" "${first[@]}")
  first+=("DATA/$b.xml=$f")
  beside+=("CLAIMS/c${b#h}.xml=$c" "DATA/$b.xml=$f")
done <"$WORK/exams"
[ "$good" -ge 150 ] || fail "only $good settlements"
n=$(( ${#first[@]} - good - bad ))

for layout in first beside; do
  if [ $layout = first ]; then kb_mkzip "$WORK/$layout.zip" R1 "${first[@]}"
  else kb_mkzip "$WORK/$layout.zip" R2 "${beside[@]}"; fi
  "$K" init --data "$WORK/d-$layout" >/dev/null
  rc=0; "$K" import --data "$WORK/d-$layout" --source inst "$WORK/$layout.zip" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ $rc -eq 3 ] || { cat "$WORK/out" "$WORK/err"; fail "$layout: exit $rc, not 3 (partial)"; }
  grep -q "^exams accepted      $n " "$WORK/out" || { cat "$WORK/out"; fail "$layout: not $n exams"; }
  grep -q "^settlements kept    $good ($good tied to their exam)" "$WORK/out" || { cat "$WORK/out"; fail "$layout: settlements"; }
  q=$("$K" quarantine list --data "$WORK/d-$layout" | grep -c 'performerOrganization/id/@extension' || true)
  [ "$q" -eq "$bad" ] || fail "$layout: $q of $bad bad settlements quarantined"
  # each kept once: distinct places in one bundle whose length is the sum
  row=$(kb_sql "$WORK/d-$layout" identity "SELECT COUNT(*), COUNT(DISTINCT bundle_offset), SUM(bundle_length), COUNT(DISTINCT bundle_id) FROM archive_documents WHERE kind = 'cc08'")
  [ "$row" = "$good|$good|$bytes|1" ] || fail "$layout: bundle rows $row, want $good|$good|$bytes|1"
  [ "$(kb_sql "$WORK/d-$layout" identity "SELECT bytes FROM archive_bundles")" = "$bytes" ] || fail "$layout: bundle size"
  [ "$(kb_sql "$WORK/d-$layout" identity "SELECT COUNT(DISTINCT exam_record_key) FROM archive_documents WHERE status = 'linked'")" = "$good" ] ||
    fail "$layout: settlements tied to the wrong exams"
done
echo "import_threads: ok ($n exams, $good settlements kept, $bad quarantined, both layouts)"
