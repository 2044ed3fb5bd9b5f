#!/usr/bin/env bash
# bench/gen: exams per second of `kenbank gen`, CSV and XML, beside a
# reference measured in the same run: dd writing the same number of bytes
# (into the page cache, as gen does).  The ratio gen/dd is what to compare
# across machines; the absolute figures move with the machine's load.
#
#   bash bench/gen/run.sh            # 1,000,002 exams (333,334 people x 3 years)
#   PEOPLE=33334 bash bench/gen/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
KENBANK=${KENBANK:-$PWD/build/kenbank}
PEOPLE=${PEOPLE:-333334}
YEARS=${YEARS:-3}
LEVEL=${LEVEL:-1}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-gen.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }

run() { # $1 format, extra args...
  local fmt=$1; shift
  rm -rf "$TMP/out"
  local t0 t1 bytes
  t0=$(now)
  "$KENBANK" gen --people "$PEOPLE" --years "$YEARS" --seed 1 --out "$TMP/out" --format "$fmt" "$@" 2>"$TMP/log"
  t1=$(now)
  bytes=$(du -sb "$TMP/out" | cut -f1)
  local gen_s; gen_s=$(secs "$t0" "$t1")
  local exams=$((PEOPLE * YEARS))
  # Reference: the same bytes through dd, 1 MiB blocks.
  local mib=$(((bytes + 1048575) / 1048576))
  rm -rf "$TMP/out"
  t0=$(now)
  dd if=/dev/zero of="$TMP/dd" bs=1M count="$mib" status=none
  t1=$(now)
  rm -f "$TMP/dd"
  local dd_s; dd_s=$(secs "$t0" "$t1")
  printf '%-4s %9d exams %7.1f s %9.0f exams/s | %6d MiB out | dd same bytes %5.1f s | ratio gen/dd %5.1f\n' \
    "$fmt" "$exams" "$gen_s" "$(echo "$exams / $gen_s" | bc -l)" "$mib" "$dd_s" "$(echo "$gen_s / $dd_s" | bc -l)"
}

echo "== gen: $PEOPLE people x $YEARS years, load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
run csv
run xml --zip-level "$LEVEL"
