#!/usr/bin/env bash
# bench/http/soak.sh: mixed reads and writes (4:1, every one audited) against
# `kenbank serve` for SOAK_SECONDS (default 600), sampling the server's
# resident memory every 15 s.  Passes when wrk saw no error and no non-2xx
# answer, and memory in the last third is within 10% of the middle third
# (the first third is SQLite's page caches warming up, not a leak).
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${KENBANK:-$PWD/build/kenbank}"
OUT="${BENCH_OUT:-bench/out/soak}"
SECS="${SOAK_SECONDS:-600}"
rm -rf "$OUT"; mkdir -p "$OUT"
"$K" gen --people 300 --years 3 --seed 12 --out "$OUT/pop" --format csv 2>/dev/null
"$K" init --data "$OUT/d" >/dev/null
"$K" import --data "$OUT/d" --source bench "$OUT/pop/exams.csv" >/dev/null
src=$(awk -F, 'NR == 2 { print $1 }' "$OUT/pop/exams.csv")
rid=$(awk -F, 'NR == 2 { print $2 }' "$OUT/pop/exams.csv")
code=$("$K" enrol --data "$OUT/d" --source "$src" --record-id "$rid")
"$K" serve --data "$OUT/d" --listen 127.0.0.1:0 --threads 16 > "$OUT/srv.out" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q listening "$OUT/srv.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$OUT/srv.out")
curl -sf -X POST "$base/api/enrol" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$code\",\"username\":\"soak1\",\"password\":\"soak-password-1\"}" >/dev/null
tok=$("$K" user token --data "$OUT/d" --username soak1 --scope write | grep -oE 'kbt_[A-Za-z0-9_-]+' | sed -n 1p)
( while kill -0 $srv 2>/dev/null; do ps -o rss= -p $srv >> "$OUT/rss.txt" 2>/dev/null || true; sleep 15; done ) &
sampler=$!
wrk -t2 -c16 -d"${SECS}s" --latency -s bench/http/mixed.lua -H "Authorization: Bearer $tok" "$base" > "$OUT/wrk.txt"
kill $sampler 2>/dev/null || true
cat "$OUT/wrk.txt"
errs=$(grep -E 'Non-2xx|Socket errors' "$OUT/wrk.txt" || true)
n=$(wc -l < "$OUT/rss.txt")
awk -v n="$n" 'NR > n/3 && NR <= 2*n/3 { a += $1; na++ } NR > 2*n/3 { b += $1; nb++ } NR == 1 { f = $1 }
  END { printf "resident memory: start %.1f MiB, middle third %.1f MiB, last third %.1f MiB (%+.1f%%)\n", f/1024, a/na/1024, b/nb/1024, (b/nb - a/na) * 100 / (a/na) }' "$OUT/rss.txt"
"$K" audit verify --data "$OUT/d" | tail -1
if [ -n "$errs" ]; then echo "soak FAILED: $errs"; exit 1; fi
awk -v n="$n" 'NR > n/3 && NR <= 2*n/3 { a += $1; na++ } NR > 2*n/3 { b += $1; nb++ } END { exit !(b/nb <= 1.10 * a/na) }' "$OUT/rss.txt" \
  || { echo "soak FAILED: memory grew more than 10%"; exit 1; }
echo "soak passed: 0 errors, memory flat"
