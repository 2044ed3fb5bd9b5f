#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (fuzzer + ASan + UBSan) straight
# from the library sources and runs each for FUZZ_SECONDS (default 600).
#
#   tests/fuzz/run.sh                 all harnesses, one after the other
#   tests/fuzz/run.sh fuzz_hc08       just one
#   FUZZ_SECONDS=60 tests/fuzz/run.sh
#
# Seeds come from tests/fuzz/corpus/<harness>/ (kept small, in git); what the
# fuzzer discovers goes to build/fuzz/corpus/<harness>/ and crash inputs to
# build/fuzz/artifacts/.  Exits non-zero when any harness finds a crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=${FUZZ_BUILD:-build/fuzz}
SECS=${FUZZ_SECONDS:-600}
CC=${FUZZ_CC:-clang}
HARNESSES=("$@")
[ ${#HARNESSES[@]} -eq 0 ] && HARNESSES=(fuzz_hc08 fuzz_zip fuzz_csv fuzz_cohort fuzz_claim)

mkdir -p "$OUT/gen" "$OUT/artifacts"
# kb.c wants the embedded-data table; embed our data files like the build does.
$CC -std=c11 -O1 -o "$OUT/embed" tools/embed.c
# shellcheck disable=SC2046
"$OUT/embed" "$OUT/gen/embedded" $(ls data/*.csv data/*.tsv 2>/dev/null || true)

PKGS="libxml-2.0 libzip libcjson"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -Isrc -I$OUT/gen $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm"
COMMON="src/util/kb.c src/util/buf.c src/util/date.c $OUT/gen/embedded.c"

srcs_for() {
  case "$1" in
    fuzz_hc08) echo "$COMMON src/domain/exam.c src/formats/hc08_read.c" ;;
    fuzz_zip)  echo "$COMMON src/domain/exam.c src/formats/hc08_read.c src/formats/mhlw_zip.c" ;;
    fuzz_csv)  echo "$COMMON src/util/csv.c" ;;
    fuzz_claim) echo "$COMMON src/formats/claim_read.c" ;;
    fuzz_cohort) echo "$COMMON src/util/csv.c src/domain/exam.c src/domain/items.c src/analytics/cohort.c" ;;
    *) echo "unknown harness $1" >&2; exit 2 ;;
  esac
}

maxlen_for() {
  case "$1" in
    fuzz_zip) echo 65536 ;;
    *) echo 32768 ;;
  esac
}

rc=0
for h in "${HARNESSES[@]}"; do
  echo "== $h: build"
  # shellcheck disable=SC2086
  $CC $CFLAGS -o "$OUT/$h" "tests/fuzz/$h.c" $(srcs_for "$h") $LIBS
  mkdir -p "$OUT/corpus/$h"
  echo "== $h: run ${SECS}s"
  if ! "$OUT/$h" -max_total_time="$SECS" -max_len="$(maxlen_for "$h")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$h-" \
        "$OUT/corpus/$h" "tests/fuzz/corpus/$h" 2>"$OUT/$h.log"; then
    tail -60 "$OUT/$h.log"
    echo "== $h: FAILED (crash input in $OUT/artifacts/)"
    rc=1
  else
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$OUT/$h.log" || true
    echo "== $h: ok"
  fi
done
exit $rc
