#!/usr/bin/env bash
# Runs every benchmark (bench/<name>/run.sh), each of which prints its figure
# beside a reference measured in the same run.  BENCH=name runs one.
set -u
cd "$(dirname "$0")/.."
export KENBANK="${KENBANK:-$PWD/build/kenbank}"
export SHARED="${SHARED:-$PWD/../shared}"
status=0
for b in bench/*/run.sh; do
  name=$(basename "$(dirname "$b")")
  [ -n "${BENCH:-}" ] && [ "$BENCH" != "$name" ] && continue
  echo "== bench/$name"
  if ! bash "$b"; then echo "bench/$name FAILED"; status=1; fi
  echo
done
exit $status
