#!/usr/bin/env bash
# PostgreSQL only (run in the pg pass): observations are partitioned by
# fiscal year.  An import of three checkup years puts each observation in
# its year's partition (none in the default one), a query for one year
# reads one partition only, and `kenbank check` finds the stores consistent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${KENBANK_INIT_PG:-}" ] || fail "needs the runner's throwaway cluster (KENBANK_INIT_PG)"

"$K" init --data d >/dev/null
[ "$(kb_backend d)" = postgresql ] || fail "init did not choose PostgreSQL"
"$K" gen --people 300 --years 3 --seed 77 --out pop --format csv 2>/dev/null
"$K" import --data d --source k pop/exams.csv >/dev/null || fail "import"

q() { kb_sql d research "$1"; }
[ "$(q "SELECT relkind FROM pg_class WHERE relname = 'observations'")" = p ] || fail "observations is not partitioned"
total=$(q "SELECT COUNT(*) FROM observations")
[ "$total" -gt 1000 ] || fail "only $total observations imported"
years=$(q "SELECT DISTINCT fiscal_year FROM exams ORDER BY 1")
[ "$(echo "$years" | wc -l)" -eq 3 ] || fail "expected 3 fiscal years, got: $years"
sum=0
for y in $years; do
  want=$(q "SELECT COUNT(*) FROM observations o JOIN exams x ON x.id = o.exam_id WHERE x.fiscal_year = $y")
  got=$(q "SELECT COUNT(*) FROM observations_fy$y")
  [ "$got" = "$want" ] || fail "FY$y: partition holds $got observations, the exams of that year have $want"
  [ "$(q "SELECT COUNT(*) FROM observations_fy$y WHERE fiscal_year <> $y")" = 0 ] || fail "FY$y partition holds other years"
  sum=$((sum + got))
  # partition pruning: a one-year query scans that year's partition only
  plan=$(q "EXPLAIN (COSTS OFF) SELECT COUNT(*) FROM observations WHERE fiscal_year = $y")
  scanned=$(echo "$plan" | grep -o 'observations_fy[0-9a-z_]*' | sort -u)
  [ "$scanned" = "observations_fy$y" ] || fail "FY$y query scans: $scanned"
done
[ "$sum" = "$total" ] || fail "partitions hold $sum of $total observations"
[ "$(q "SELECT COUNT(*) FROM observations_fy_other")" = 0 ] || fail "rows in the default partition"
"$K" check --data d >/dev/null || fail "kenbank check after a partitioned import"
# the exam list through the store's own query path still sees every item
n=$(q "SELECT COUNT(*) FROM observations WHERE exam_id = (SELECT MIN(id) FROM exams)")
[ "$n" -gt 10 ] || fail "first exam has $n observations"
echo "ok: $total observations in $(echo $years | wc -w) fiscal-year partitions, pruning per year"
