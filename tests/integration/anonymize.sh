#!/usr/bin/env bash
# kenbank anonymize on ARX's adult benchmark (9 quasi-identifiers, k=5, 5%
# suppression), verified by an independent checker written in JavaScript
# (tests/tools/kanon_check.mjs); plus l-diversity, pruned-vs-exhaustive on a
# subset, and the error paths.
set -euo pipefail
: "${KENBANK:?}" "${WORK:?}" "${SHARED:?}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="$ROOT/tests/tools/kanon_check.mjs"
A="$SHARED/data/adult"
H="$A/hierarchies"
QIS=(sex age race marital-status education native-country workclass occupation salary-class)

fail() { echo "FAIL: $*" >&2; exit 1; }

qi_args() { # names... -> --qi name:file ...
  local c
  for c in "$@"; do printf -- '--qi\n%s:%s/%s.csv\n' "$c" "$H" "$c"; done
}
hier_args() {
  local c
  for c in "$@"; do printf -- '--hier\n%s:%s/%s.csv\n' "$c" "$H" "$c"; done
}
field() { # summary-file key -> value after "key: "
  sed -n "s/^$2: \([0-9.]*\).*/\1/p" "$1" | head -1
}

# Under ASan the full file still runs in a few seconds; the exhaustive
# comparison always uses a subset.
head -n 4001 "$A/adult.csv" > "$WORK/adult4k.csv"

# --- 1. adult, 9 QIs, k=5, 5% suppression --------------------------------
mapfile -t QA < <(qi_args "${QIS[@]}")
mapfile -t HA < <(hier_args "${QIS[@]}")
"$KENBANK" anonymize --in "$A/adult.csv" --sep ';' "${QA[@]}" --k 5 --suppress 0.05 \
  --out "$WORK/out.csv" --report "$WORK/report.txt" > "$WORK/summary.txt"
cat "$WORK/summary.txt"
supp=$(field "$WORK/summary.txt" "records suppressed")
loss=$(field "$WORK/summary.txt" "loss")
[ -n "$supp" ] && [ -n "$loss" ] || fail "summary lacks suppression or loss"
[ "$supp" -le 1508 ] || fail "suppressed $supp > 5% of 30162"
grep -q '^sex;age;race;marital-status;education;native-country;workclass;occupation;salary-class$' "$WORK/out.csv" \
  || fail "output header/separator differs from input"
[ "$(wc -l < "$WORK/out.csv")" -eq "$(wc -l < "$A/adult.csv")" ] || fail "row count changed"
grep -q '^loss: ' "$WORK/report.txt" || fail "report lacks loss"
grep -q '5-anonymity' "$WORK/report.txt" || fail "report lacks the guarantee"
node "$CHECK" --out "$WORK/out.csv" --in "$A/adult.csv" --sep ';' --qi "$(IFS=,; echo "${QIS[*]}")" \
  --k 5 --suppress 0.05 --expect-suppressed "$supp" "${HA[@]}"
# the checker must also be able to fail: the same output is not 50-anonymous
if node "$CHECK" --out "$WORK/out.csv" --sep ';' --qi "$(IFS=,; echo "${QIS[*]}")" --k 50 --suppress 0.05 \
  2>/dev/null; then fail "checker accepted k=50"; fi

# --- 2. l-diversity: occupation sensitive, the other 8 QIs ---------------
Q8=(sex age race marital-status education native-country workclass salary-class)
mapfile -t QA8 < <(qi_args "${Q8[@]}")
mapfile -t HA8 < <(hier_args "${Q8[@]}")
"$KENBANK" anonymize --in "$A/adult.csv" "${QA8[@]}" --sensitive occupation --l 3 --k 5 --suppress 0.05 \
  --out "$WORK/outl.csv" > "$WORK/suml.txt"
suppl=$(field "$WORK/suml.txt" "records suppressed")
node "$CHECK" --out "$WORK/outl.csv" --in "$A/adult.csv" --qi "$(IFS=,; echo "${Q8[*]}")" --k 5 \
  --sensitive occupation --l 3 --suppress 0.05 --expect-suppressed "$suppl" "${HA8[@]}"

# --- 3. pruned search == exhaustive search (4,000-row subset) ------------
for k in 2 10; do
  "$KENBANK" anonymize --in "$WORK/adult4k.csv" "${QA[@]}" --k $k --suppress 0.02 --out "$WORK/p.csv" > "$WORK/p.txt"
  "$KENBANK" anonymize --in "$WORK/adult4k.csv" "${QA[@]}" --k $k --suppress 0.02 --out "$WORK/x.csv" \
    --exhaustive > "$WORK/x.txt"
  cmp -s "$WORK/p.csv" "$WORK/x.csv" || fail "k=$k: pruned and exhaustive outputs differ"
  [ "$(field "$WORK/p.txt" loss)" = "$(field "$WORK/x.txt" loss)" ] || fail "k=$k: losses differ"
  grep -q 'nodes checked: 12960 of 12960' "$WORK/x.txt" || fail "exhaustive did not visit the lattice"
  node "$CHECK" --out "$WORK/p.csv" --in "$WORK/adult4k.csv" --qi "$(IFS=,; echo "${QIS[*]}")" --k $k \
    --suppress 0.02 --expect-suppressed "$(field "$WORK/p.txt" "records suppressed")" "${HA[@]}"
done

# --- 4. no solution -------------------------------------------------------
set +e
"$KENBANK" anonymize --in "$WORK/adult4k.csv" "${QA[@]}" --k 5000 --suppress 0 --out "$WORK/none.csv" \
  2> "$WORK/none.err" >/dev/null
rc=$?
set -e
[ $rc -eq 1 ] || fail "no-solution exit $rc, want 1"
grep -q 'no generalisation satisfies 5000-anonymity' "$WORK/none.err" || fail "no-solution message: $(cat "$WORK/none.err")"

# --- 5. errors --------------------------------------------------------------
expect_rc() { # rc pattern -- args...
  local want=$1 pat=$2 rc
  shift 3
  set +e
  "$KENBANK" anonymize "$@" > "$WORK/e.out" 2> "$WORK/e.err"
  rc=$?
  set -e
  [ $rc -eq "$want" ] || fail "exit $rc, want $want for: $*"
  grep -q -- "$pat" "$WORK/e.err" || fail "stderr lacks '$pat' for: $* -- $(cat "$WORK/e.err")"
}
expect_rc 2 'usage:' -- --in "$A/adult.csv" --qi "sex:$H/sex.csv" --out "$WORK/o.csv"
expect_rc 2 '--suppress wants a fraction' -- --in "$A/adult.csv" --qi "sex:$H/sex.csv" --k 2 --suppress 1.5 --out "$WORK/o.csv"
expect_rc 2 '--qi wants COLUMN:HIERARCHY' -- --in "$A/adult.csv" --qi sex --k 2 --out "$WORK/o.csv"
expect_rc 2 "no column 'gender'" -- --in "$A/adult.csv" --qi "gender:$H/sex.csv" --k 2 --out "$WORK/o.csv"
expect_rc 2 'unknown option' -- --in "$A/adult.csv" --qi "sex:$H/sex.csv" --k 2 --out "$WORK/o.csv" --bogus 1
expect_rc 2 '--sensitive and --l go together' -- --in "$A/adult.csv" --qi "sex:$H/sex.csv" --k 2 --l 2 --out "$WORK/o.csv"
# a value missing from its hierarchy: file, line, column and value
grep -v '^Holand-Netherlands;' "$H/native-country.csv" > "$WORK/nc.csv"
line=$(grep -n ';Holand-Netherlands;' "$A/adult.csv" | head -1 | cut -d: -f1)
[ -n "$line" ] || fail "fixture: Holand-Netherlands not in adult.csv"
expect_rc 1 "adult.csv line $line column 'native-country': value 'Holand-Netherlands' is not in hierarchy $WORK/nc.csv" \
  -- --in "$A/adult.csv" --qi "native-country:$WORK/nc.csv" --k 2 --out "$WORK/o.csv"
# a malformed hierarchy: file and line
printf 'Male;*\nFemale\n' > "$WORK/bad.csv"
expect_rc 1 "bad.csv line 2: 1 fields" -- --in "$A/adult.csv" --qi "sex:$WORK/bad.csv" --k 2 --out "$WORK/o.csv"
echo "anonymize: ok (suppressed $supp, loss $loss)"
