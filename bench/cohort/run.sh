#!/usr/bin/env bash
# Cohort benchmarks (issue 8, section 5):
#   - generate and import PERSONS people over 3 years (default 1,000,000; the
#     data directory is kept in BENCH_DIR and reused when it exists);
#   - a three-criterion cohort count, p50/p99 over RUNS, beside one full scan
#     of the observation values measured in the same run (targets: p50 <= 50
#     ms, p99 <= 200 ms); the snapshot build is reported separately;
#   - an export of every subject with 6 quasi-identifiers, k=5, 5%
#     suppression (target <= 10 s at 1,000,000 rows).
# The driver is compiled against build/libkenbank.a (`make all` first).
set -euo pipefail
cd "$(dirname "$0")/../.."
PERSONS="${PERSONS:-1000000}"
RUNS="${RUNS:-101}"
BENCH_DIR="${BENCH_DIR:-bench/out/cohort-$PERSONS}"
K=./build/kenbank
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PKGS="sqlite3 libpq libsodium libxml-2.0 icu-uc icu-i18n libmicrohttpd libcjson libzip zlib"
# shellcheck disable=SC2046
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -Wall -Wextra -Werror -Isrc -Ibuild/gen \
  $(pkg-config --cflags $PKGS) -o "$TMP/cohortbench" bench/cohort/cohortbench.c build/libkenbank.a \
  $(make -s --no-print-directory print-ldlibs)

if [ ! -f "$BENCH_DIR/d/research.db" ]; then
  rm -rf "$BENCH_DIR"; mkdir -p "$BENCH_DIR"
  echo "== generating $PERSONS people over 3 years"
  t0=$(date +%s.%N)
  $K gen --people "$PERSONS" --years 3 --seed 42 --out "$BENCH_DIR/pop" --format csv >/dev/null 2>&1
  t1=$(date +%s.%N)
  $K init --data "$BENCH_DIR/d" >/dev/null
  $K import --data "$BENCH_DIR/d" --source kenshin "$BENCH_DIR/pop/exams.csv" > "$BENCH_DIR/import.txt" || [ $? -eq 3 ]
  t2=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "gen %.0f s, import %.0f s\n", b - a, c - b }' | tee "$BENCH_DIR/setup.txt"
  # everyone consents, so the export covers every subject
  sqlite3 "$BENCH_DIR/d/research.db" "INSERT INTO consents (pseudonym, purpose, provider, text_version, state,
    valid_from, channel, recorded_at, recorded_by) SELECT pseudonym, 'academic_research', '', 1, 'granted',
    '2024-01-01', 'paper', '2024-01-01T00:00:00.000Z', 'bench' FROM subjects"
fi
[ -f "$BENCH_DIR/setup.txt" ] && cat "$BENCH_DIR/setup.txt"

echo "== cohort: three-criterion count, $PERSONS persons"
"$TMP/cohortbench" count "$BENCH_DIR/d" "$RUNS" | tee "$TMP/count.txt"
awk '/^RESULT count/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "targets: p50 <= 50 ms %s, p99 <= 200 ms %s\n", (v["p50_ms"] <= 50 ? "met" : "MISSED"), (v["p99_ms"] <= 200 ? "met" : "MISSED") }' "$TMP/count.txt"

echo "== cohort: export of every subject, 6 QIs, k=5, 5% suppression"
"$TMP/cohortbench" export "$BENCH_DIR/d" "$TMP/export" | tee "$TMP/export.txt"
node tests/tools/kanon_check.mjs --out "$TMP/export/data.csv" --sep , \
  --qi sex,age,exam_month,insurer,institution,9N001000000000001 --k 5 --suppress 0.05
