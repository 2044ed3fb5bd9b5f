#!/usr/bin/env bash
# bench/biobank: `kenbank biobank import` of N specimens (default 100,000;
# N= overrides) beside the reference measured in the same run: the same
# rows inserted into a plain SQLite table by one prepared statement in one
# transaction (no validation, no audit, no identity lookups).
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${KENBANK:-$PWD/build/kenbank}"
N="${N:-100000}"
OUT="${BENCH_OUT:-bench/out/biobank}"
rm -rf "$OUT"; mkdir -p "$OUT"
cc -std=c11 -D_DEFAULT_SOURCE -O2 -Isrc -Ibuild/gen -o "$OUT/bbref" bench/biobank/bbref.c build/libkenbank.a \
  $(make -s --no-print-directory print-ldlibs)
"$K" init --data "$OUT/data" >/dev/null
"$OUT/bbref" gen "$OUT/data" "$N" "$OUT/specimens.csv"
t0=$(date +%s.%N)
"$K" biobank import --data "$OUT/data" "$OUT/specimens.csv" > "$OUT/import.txt"
t1=$(date +%s.%N)
stored=$(sqlite3 "$OUT/data/research.db" "SELECT COUNT(*) FROM bb_specimens")
audited=$(sqlite3 "$OUT/data/research.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'specimen.register'")
[ "$stored" = "$N" ] && [ "$audited" = "$N" ] || { echo "stored $stored audited $audited of $N"; exit 1; }
read -r rt rrate < <("$OUT/bbref" ref "$OUT/ref.db" "$OUT/specimens.csv")
awk -v n="$N" -v t0="$t0" -v t1="$t1" -v rt="$rt" -v rrate="$rrate" 'BEGIN {
  t = t1 - t0
  printf "specimens                  %d (all stored, each audited)\n", n
  printf "biobank import             %.2f s, %.0f specimens/s\n", t, n / t
  printf "reference: SQLite insert   %.2f s, %.0f rows/s (same rows, plain table)\n", rt, rrate
  printf "ratio import / reference   %.1f x the time\n", t / rt
  met = "NOT met"; if (t <= 10) met = "met"
  printf "goal: 100,000 in seconds (<= 10 s)  %s\n", met
}'
