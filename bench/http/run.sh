#!/usr/bin/env bash
# bench/http: authenticated reads of an individual's exam list (bearer
# token), measured with wrk against `kenbank serve`, beside a static file
# served by the same server in the same run.  Goal: >= 20,000 req/s with
# p99 < 20 ms on this 2-core machine.
#   DURATION=10s CONNECTIONS=32 THREADS=2 SERVER_THREADS=16
set -euo pipefail
cd "$(dirname "$0")/../.."
K="${KENBANK:-$PWD/build/kenbank}"
OUT="${BENCH_OUT:-bench/out/http}"
DURATION="${DURATION:-10s}"; CONNECTIONS="${CONNECTIONS:-32}"; THREADS="${THREADS:-2}"
rm -rf "$OUT"; mkdir -p "$OUT"
"$K" gen --people 500 --years 3 --seed 9 --out "$OUT/pop" --format csv 2>/dev/null
"$K" init --data "$OUT/d" >/dev/null
"$K" import --data "$OUT/d" --source bench "$OUT/pop/exams.csv" >/dev/null
src=$(awk -F, 'NR == 2 { print $1 }' "$OUT/pop/exams.csv")
rid=$(awk -F, 'NR == 2 { print $2 }' "$OUT/pop/exams.csv")
code=$("$K" enrol --data "$OUT/d" --source "$src" --record-id "$rid")
"$K" serve --data "$OUT/d" --listen 127.0.0.1:0 --threads "${SERVER_THREADS:-16}" > "$OUT/srv.out" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q listening "$OUT/srv.out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$OUT/srv.out")
curl -sf -X POST "$base/api/enrol" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$code\",\"username\":\"bench1\",\"password\":\"bench-password-1\"}" >/dev/null
tok=$("$K" user token --data "$OUT/d" --username bench1 --scope read | grep -oE 'kbt_[A-Za-z0-9_-]+' | sed -n 1p)
curl -sf -H "Authorization: Bearer $tok" "$base/api/me/exams" | grep -q '"exams"' || { echo "exam list not readable"; exit 1; }

run() { # url label [header]
  if [ -n "${3:-}" ]; then wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$3" "$1" > "$OUT/$2.txt"
  else wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$1" > "$OUT/$2.txt"; fi
  local rps p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$OUT/$2.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$OUT/$2.txt")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' "$OUT/$2.txt")
  printf '%-34s %10s req/s  p99 %8s  %s\n' "$2" "$rps" "$p99" "${errs:-0 errors}"
  echo "$rps" > "$OUT/$2.rps"
}
run "$base/index.html" "static file (reference)"
run "$base/api/me/exams" "authenticated exam list" "Authorization: Bearer $tok"
awk -v a="$(cat "$OUT/authenticated exam list.rps")" -v s="$(cat "$OUT/static file (reference).rps")" \
  'BEGIN { printf "ratio exam list / static file      %.3f\n", a / s }'
entries=$("$K" audit list --data "$OUT/d" --limit 100000000 2>/dev/null | grep -c exam.list || true)
echo "exam-list reads audited during the run: $entries (every read of personal data is audited)"
