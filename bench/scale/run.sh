#!/usr/bin/env bash
# bench/scale: the limits at PERSONS people on PostgreSQL, beside SQLite in
# the same run (issue 9, "the scale path").
#   1. one generated population (PERSONS people x YEARS checkup years, MHLW
#      zips), imported end to end into a fresh SQLite data directory and into a
#      fresh PostgreSQL one (a throwaway local cluster with fsync on and
#      synchronous_commit off -- the durability SQLite's WAL with
#      synchronous=NORMAL gives: a crash may lose the last commits, never
#      consistency);
#   2. the cohort count of bench/cohort (sex = F AND age >= 50 AND
#      HbA1c >= 6.5) on each: snapshot build, first count, then p50/p99 of
#      warm counts, beside one full scan of the observation values in the
#      same store.
#   3. when Citus is installed (../shared/tools/citus-build.sh --check) and
#      CITUS is not 0: the same import into a throwaway Citus cluster (a
#      coordinator and two workers on this machine, scripts/citustest.sh),
#      reported as a ratio to plain PostgreSQL in the same run.
# SQLite is the reference: the figures to compare are the PostgreSQL/SQLite
# ratios.  PERSONS=1000000 YEARS=1 RUNS=51 by default; BENCH_OUT= picks the
# scratch directory (about 6 GB at the default size).
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${KENBANK:-$PWD/build/kenbank}"
PERSONS="${PERSONS:-1000000}"
YEARS="${YEARS:-1}"
RUNS="${RUNS:-51}"
OUT="${BENCH_OUT:-bench/out/scale}"
rm -rf "$OUT"; mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PKGS="sqlite3 libpq libsodium libxml-2.0 icu-uc icu-i18n libmicrohttpd libcjson libzip zlib"
# shellcheck disable=SC2046
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Isrc -Ibuild/gen $(pkg-config --cflags $PKGS) \
  -o "$OUT/cohortbench" bench/cohort/cohortbench.c build/libkenbank.a $(make -s --no-print-directory print-ldlibs)

PG="$OUT/pg"
admin=$(PGTEST_DURABLE=1 bash scripts/pgtest.sh start "$PG")
trap 'bash scripts/pgtest.sh stop "$PG"' EXIT

echo "== generating $PERSONS people x $YEARS years (MHLW zips)"
"$K" gen --people "$PERSONS" --years "$YEARS" --seed 42 --out "$OUT/pop" --format xml 2>&1 | tail -1

import() { # label, extra init args...
  local label=$1; shift
  "$K" init --data "$OUT/$label" "$@" >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  "$K" import --data "$OUT/$label" --source bench "$OUT/pop/xml" > "$OUT/$label.import.txt" || [ $? -eq 3 ]
  t1=$(date +%s.%N)
  local n; n=$(awk '/^exams accepted/ {print $3}' "$OUT/$label.import.txt")
  awk -v n="$n" -v a="$t0" -v b="$t1" -v l="$label" 'BEGIN { printf "%s %d %.1f %.0f\n", l, n, b - a, n / (b - a) }' \
    > "$OUT/$label.ingest"
  read -r _ n secs rate < "$OUT/$label.ingest"
  printf '%-10s import: %d exams in %.0f s = %d exams/s\n' "$label" "$n" "$secs" "$rate"
}
echo "== ingest"
import sqlite
KENBANK_INIT_PG="$admin" import postgresql

CITUS_DIR=""
if [ "${CITUS:-1}" != 0 ] && bash "${SHARED:-../shared}/tools/citus-build.sh" --check 2>/dev/null; then
  CITUS_DIR="$OUT/citus"
  mapfile -t cl < <(PGTEST_DURABLE=1 bash scripts/citustest.sh start "$CITUS_DIR")
  trap 'bash scripts/pgtest.sh stop "$PG"; bash scripts/citustest.sh stop "$CITUS_DIR"' EXIT
  KENBANK_INIT_PG="${cl[0]}" KENBANK_INIT_CITUS="${cl[1]}" import citus
fi

echo "== cohort count, $RUNS warm runs each"
for label in sqlite postgresql; do
  "$OUT/cohortbench" count "$OUT/$label" "$RUNS" > "$OUT/$label.count.txt"
  sed "s/^/$label: /" "$OUT/$label.count.txt"
done

echo "== summary (PostgreSQL / SQLite)"
awk -v sq="$(cat "$OUT/sqlite.ingest")" -v pg="$(cat "$OUT/postgresql.ingest")" 'BEGIN {
  split(sq, s, " "); split(pg, p, " ")
  printf "ingest exams/s           sqlite %8d   postgresql %8d   ratio %.2f\n", s[4], p[4], p[4] / s[4] }'
for f in p50_ms p99_ms build_ms first_ms scan_ms; do
  a=$(grep -o "$f=[0-9.]*" "$OUT/sqlite.count.txt" | cut -d= -f2)
  b=$(grep -o "$f=[0-9.]*" "$OUT/postgresql.count.txt" | cut -d= -f2)
  awk -v f="$f" -v a="$a" -v b="$b" 'BEGIN { printf "cohort %-17s sqlite %8.2f   postgresql %8.2f   ratio %.2f\n", f, a, b, (a > 0 ? b / a : 0) }'
done
if [ -n "$CITUS_DIR" ]; then
  awk -v pg="$(cat "$OUT/postgresql.ingest")" -v ci="$(cat "$OUT/citus.ingest")" 'BEGIN {
    split(pg, p, " "); split(ci, c, " ")
    printf "ingest exams/s           postgresql %8d   citus %8d   ratio %.2f (citus / postgresql)\n", p[4], c[4], c[4] / p[4] }'
fi
