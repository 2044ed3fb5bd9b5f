#!/usr/bin/env bash
# Linkage benchmarks (issue 4 sections 5 and 6, issue 16), in one run:
#   - accuracy: pairwise precision/recall/F1 and the review share (records
#     in review pairs / all records, bench/linkage/score.sh) of `kenbank link`
#     on FEBRL 4a+4b (goal F1 >= 0.999), FEBRL dataset2 (duplicates within
#     one file, goal >= 0.995), the generator's multi-source population of
#     issue 16 (`kenbank gen --multi-source`, MPEOPLE people x 2 years, about
#     4.2 records per person; goal F1 >= 0.98, precision >= 0.999, review
#     share <= 1%) and its default population (goal F1 >= 0.99, review < 1%);
#   - speed: N new records (default 1,000,000) against an index of N persons,
#     records/s beside a hash join on exact birth date + sex of the same
#     records in the same run (bench/linkage/speed.c, goal >= 50,000/s).
#     N=0 skips it (the accuracy figures take seconds, the speed run minutes).
# Truth: FEBRL rec-N-org / rec-N-dup-K are entity N; gen writes truth.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="${SHARED:-$(pwd)/../shared}"
KENBANK="${KENBANK:-$(pwd)/build/kenbank}"
N="${N:-1000000}"
PEOPLE="${PEOPLE:-100000}"
MPEOPLE="${MPEOPLE:-12000}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FEBRL="$SHARED/data/febrl"
SUMMARY=()

goal() { awk -v v="$1" -v g="$2" 'BEGIN { printf "%s (goal >= %s)\n", (v >= g ? "met" : "MISSED"), g }'; }
below() { awk -v v="$1" -v g="$2" 'BEGIN { printf "%s (goal <= %s)\n", (v <= g ? "met" : "MISSED"), g }'; }

# measure NAME TRUTH|--febrl F1GOAL -- link args...: links, scores, prints.
measure() {
  local name=$1 truth=$2 f1goal=$3 out="$TMP/$1"
  shift 4
  local t0 t1 p r f n nr share
  t0=$(date +%s.%N)
  "$KENBANK" link "$@" --out "$out.assign.csv" --review "$out.review.csv"
  t1=$(date +%s.%N)
  read -r p r f n nr share < <(bench/linkage/score.sh "$truth" "$out.assign.csv" "$out.review.csv")
  local pairs=$(($(wc -l <"$out.review.csv") - 1))
  local pct; pct=$(awk -v s="$share" 'BEGIN { printf "%.2f", 100 * s }')
  echo "$n records: precision $p recall $r F1 $f; review $pairs pairs, $nr records = $pct% of records;" \
    "$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN{printf "%.2f s, %.0f records/s", b-a, n/(b-a)}')"
  echo "F1 $(goal "$f" "$f1goal")"
  SUMMARY+=("$(printf '%-34s P %s  R %s  F1 %s  review %5s%%' "$name" "$p" "$r" "$f" "$pct")")
  LAST_P=$p LAST_SHARE=$share
}

echo "== linkage: FEBRL 4a + 4b"
measure febrl4 --febrl 0.999 -- --febrl --in "$FEBRL/dataset4a.csv" --in "$FEBRL/dataset4b.csv"
echo "== linkage: FEBRL dataset2"
measure febrl2 --febrl 0.995 -- --febrl --in "$FEBRL/dataset2.csv"

if "$KENBANK" help gen >/dev/null 2>&1; then
  echo "== linkage: multi-source population (issue 16), $MPEOPLE people x 2 years"
  "$KENBANK" gen --people "$MPEOPLE" --years 2 --seed 16 --multi-source --out "$TMP/multi" >/dev/null 2>&1
  measure multi-source "$TMP/multi/truth.csv" 0.98 -- --in "$TMP/multi/identities.csv"
  echo "precision $(goal "$LAST_P" 0.999); review share $(below "$LAST_SHARE" 0.01)"
  echo "== linkage: default generated population, $PEOPLE people x 3 years"
  "$KENBANK" gen --people "$PEOPLE" --years 3 --seed 4 --out "$TMP/gen" >/dev/null 2>&1
  measure default "$TMP/gen/truth.csv" 0.99 -- --in "$TMP/gen/identities.csv"
  echo "review share $(below "$LAST_SHARE" 0.01)"
else
  echo "(kenbank gen not available: Japanese populations skipped)"
fi

if [ "$N" -gt 0 ]; then
echo "== linkage: speed, $N new records against an index of $N persons"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-format-truncation -Isrc -Ibuild/gen"
# shellcheck disable=SC2086
if ! cc $CFLAGS -o "$TMP/speed" bench/linkage/speed.c build/libkenbank.a \
  $(make -s --no-print-directory print-ldlibs) 2>"$TMP/cc.err"; then
  # build/libkenbank.a can be briefly unusable while others edit the tree;
  # the linker needs only its own sources and src/util.
  echo "(build/libkenbank.a unusable, compiling the linkage sources directly: $(head -1 "$TMP/cc.err"))"
  cc $CFLAGS -o "$TMP/speed" bench/linkage/speed.c src/ident/linkage.c src/ident/compare.c src/ident/normalize.c \
    src/util/buf.c src/util/kb.c src/util/date.c build/gen/embedded.o $(pkg-config --libs icu-uc icu-i18n) -lm -lpthread
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$TMP/speed" "$N" | tee "$TMP/speed.txt"
rate=$(sed -n 's/^RESULT records_per_s=\([0-9]*\).*/\1/p' "$TMP/speed.txt")
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "speed $(goal "$rate" 50000)"
SUMMARY+=("$(printf '%-34s %s records/s' "speed, $N against $N" "$rate")")
fi
echo "== linkage summary"
printf '%s\n' "${SUMMARY[@]}"
