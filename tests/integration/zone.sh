#!/usr/bin/env bash
# zone: `kenbank zone check` on the FY2013 worked example lists exactly the
# seed's real inconsistencies; a corrected ledger is clean; --actuals pulls
# kenbank's own figures in; the report is a self-contained Japanese page.
set -euo pipefail
: "${KENBANK:?}" "${WORK:?}"
EX=examples/zone2013

fail() { echo "FAIL: $*" >&2; exit 1; }

rc=0
"$KENBANK" zone check --targets $EX/targets.csv --support $EX/support.csv >"$WORK/check.csv" || rc=$?
[ "$rc" -eq 3 ] || fail "zone check on the seed exited $rc, want 3"

cat >"$WORK/want.csv" <<'CSV'
where,rule,reported,computed
targets.csv:12 (1)-② 2013,growth_undefined,0,undefined
targets.csv:16 (1)-② total,share,1.6,1.7
targets.csv:19 (1)-③ 2013,growth,779.4,679.4
support.csv:77 ヒトiPS細胞・体性幹細胞を用いた医療産業の基盤構築（JST S-イノベ） national cumulative,support_cumulative,105404,148140
support.csv:85 ヒトiPS細胞・体性幹細胞を用いた医療産業の基盤構築（JST S-イノベ） total cumulative,support_cumulative,105404,148140
CSV
diff -u "$WORK/want.csv" "$WORK/check.csv" || fail "zone check findings differ from the seed's known errors"

# Correct the five figures: the ledger must then be clean (exit 0, header only).
sed -e 's/,68\.1,779\.4,$/,68.1,679.4,/' \
    -e 's/,5,2013,2,0\.0,0\.0,0,$/,5,2013,2,0.0,0.0,,/' \
    -e '/(1)-②/s/,1\.6$/,1.7/' $EX/targets.csv >"$WORK/targets_fixed.csv"
sed -e '/JST/s/,cumulative,105404,/,cumulative,148140,/' $EX/support.csv >"$WORK/support_fixed.csv"
rc=0
"$KENBANK" zone check --targets "$WORK/targets_fixed.csv" --support "$WORK/support_fixed.csv" >"$WORK/clean.csv" || rc=$?
[ "$rc" -eq 0 ] || { cat "$WORK/clean.csv"; fail "corrected ledger exited $rc, want 0"; }
[ "$(cat "$WORK/clean.csv")" = "where,rule,reported,computed" ] || fail "corrected ledger has findings"

# A figure the precision cannot explain: 42.3% -> 42.4% for (1)-① 2013.
sed -e 's/,2013,11,4\.6,42\.3,/,2013,11,4.6,42.4,/' "$WORK/targets_fixed.csv" >"$WORK/t2.csv"
rc=0
"$KENBANK" zone check --targets "$WORK/t2.csv" >"$WORK/t2.out" || rc=$?
[ "$rc" -eq 3 ] || fail "42.4% was not flagged"
[ "$(sed 1d "$WORK/t2.out")" = 't2.csv:5 (1)-① 2013,progress,42.4,41.8' ] || { cat "$WORK/t2.out"; fail "42.4% finding missing"; }

# --actuals: kenbank's own figures fill an actual; a 2013 actual of 5.0 for
# (1)-① makes the reported 42.3% and -16.4% wrong.
printf 'target_id,fiscal_year,actual\n(1)-①,2013,5.0\n' >"$WORK/actuals.csv"
rc=0
"$KENBANK" zone check --targets "$WORK/targets_fixed.csv" --actuals "$WORK/actuals.csv" >"$WORK/a.out" || rc=$?
[ "$rc" -eq 3 ] || fail "--actuals override not applied"
grep -q '(1)-① 2013,progress,42.3,45.5' "$WORK/a.out" || { cat "$WORK/a.out"; fail "--actuals progress finding missing"; }
grep -q '(1)-① 2013,growth,-16.4,-9.1' "$WORK/a.out" || { cat "$WORK/a.out"; fail "--actuals growth finding missing"; }
printf 'target_id,fiscal_year,actual\n(9)-①,2013,5\n' >"$WORK/bad_actuals.csv"
rc=0
"$KENBANK" zone check --targets "$WORK/targets_fixed.csv" --actuals "$WORK/bad_actuals.csv" 2>"$WORK/err" >/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "unknown target in --actuals exited $rc, want 1"
grep -q 'bad_actuals.csv line 2 field target_id' "$WORK/err" || fail "error does not name file, line and field"

# Usage errors exit 2.
rc=0; "$KENBANK" zone check 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "missing --targets exited $rc, want 2"

# The report: self-contained (Chart.js inlined, no external src/href), in
# Japanese, with the findings highlighted.
"$KENBANK" zone report --targets $EX/targets.csv --support $EX/support.csv --out "$WORK/r.html" 2>/dev/null
H="$WORK/r.html"
grep -q '<html lang="ja">' "$H" || fail "report is not marked Japanese"
grep -q 'Chart.js v4' "$H" || fail "Chart.js not inlined"
! grep -Eq '<script[^>]+src=|<link[^>]+href=' "$H" || fail "report loads external resources"
grep -q '別紙１' "$H" || fail "report lacks the 別紙１ heading"
grep -q '平成25年度' "$H" || fail "report lacks era years"
# Four findings sit in table cells, the share one beside the weight.
[ "$(grep -o '<td class="bad"' "$H" | wc -l)" -eq 4 ] || fail "report does not highlight the 4 cell findings"
grep -q '（報告 <span class="badtxt">1.6' "$H" || fail "share finding not highlighted"
grep -q '779.4%<span class="calc">→ 679.4' "$H" || fail "growth finding not shown in its cell"
echo ok
