#!/usr/bin/env bash
# Citus pass only (KENBANK_INIT_CITUS): `kenbank init --citus` leaves a
# working cluster.  Both workers are registered in the research database;
# every table the plan distributes is distributed and every per-person table
# holds rows on both workers, which together hold all of them; the reference
# tables have a copy on each; and the import's merges, `kenbank check` and the
# insurer report run with Citus's defaults (no repartition joins).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
PLAN="$(cd "$(dirname "$0")/../.." && pwd)/scripts/citus/distribute.sql"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${KENBANK_INIT_CITUS:-}" ] || fail "needs the runner's throwaway Citus cluster (KENBANK_INIT_CITUS)"

"$K" init --data d >/dev/null
q() { kb_sql d research "$1"; }
# every worker of the list, and no other, is an active primary of the research database
want=$(tr ',' '\n' <<<"$KENBANK_INIT_CITUS" | sort)
[ "$(wc -l <<<"$want")" -ge 2 ] || fail "needs a cluster of at least two workers, got $KENBANK_INIT_CITUS"
got=$(q "SELECT nodename || ':' || nodeport FROM pg_dist_node WHERE groupid <> 0 AND isactive AND noderole = 'primary' ORDER BY 1")
[ "$got" = "$want" ] || fail "workers registered: [$got], expected [$want]"
# kenbank's own sessions (kb_sql turns repartitioning on for the tests' queries)
[ "$(psql "$(sed -n 's/^research=//p' d/kenbank.conf)" -XAtc "SHOW citus.enable_repartition_joins")" = off ] \
  || fail "repartition joins are on for kenbank"
# and they keep a connection per shard open between batches (two colocation
# groups: twice the shards per worker), or every COPY reconnects
shards=$(q "SELECT COUNT(*) FROM pg_dist_shard WHERE logicalrelid = 'subjects'::regclass")
nw=$(wc -l <<<"$want")
cached=$(psql "$(sed -n 's/^research=//p' d/kenbank.conf)" -XAtc "SHOW citus.max_cached_conns_per_worker")
[ "$cached" = $((2 * ((shards + nw - 1) / nw))) ] \
  || fail "citus.max_cached_conns_per_worker is $cached, not two per shard of a worker ($shards shards, $nw workers)"

# an import with identity noise: new persons, links and merges (consents,
# sensor readings and points move to the survivor in the merge)
"$K" gen --people 400 --years 2 --seed 61 --out pop --format csv 2>/dev/null
out=$("$K" import --data d --source k pop/exams.csv) || fail "import: $out"
"$K" check --data d >/dev/null || fail "kenbank check: $("$K" check --data d 2>&1 | tail -5)"

# placement: what the plan says is what the cluster did
for t in $(sed -n "s/^SELECT create_distributed_table('\([a-z_]*\)'.*/\1/p" "$PLAN"); do
  [ "$(q "SELECT COUNT(*) FROM pg_dist_partition WHERE logicalrelid = '$t'::regclass AND partmethod = 'h'")" = 1 ] \
    || fail "$t is not hash-distributed"
done
for t in $(sed -n "s/^SELECT create_reference_table('\([a-z_]*\)').*/\1/p" "$PLAN"); do
  n=$(q "SELECT COUNT(DISTINCT nodeport) FROM citus_shards WHERE table_name = '$t'::regclass AND nodeport <> $(q "SELECT nodeport FROM pg_dist_node WHERE groupid = 0")")
  [ "$n" = 2 ] || fail "reference table $t is on $n workers"
done

# rows on both workers, adding up to the table
for t in subjects exams observations exam_flags exam_keys; do
  per=$(q "SELECT c.nodename || ':' || c.nodeport, SUM(r.result::bigint) FROM run_command_on_shards('$t', \$\$SELECT COUNT(*) FROM %s\$\$) r
           JOIN citus_shards c ON c.shardid = r.shardid GROUP BY 1 ORDER BY 1")
  [ "$(cut -d'|' -f1 <<<"$per")" = "$want" ] || fail "$t: shards on [$per], expected both workers"
  while IFS='|' read -r node n; do [ "$n" -gt 0 ] || fail "$t: no rows on $node"; done <<<"$per"
  sum=$(awk -F'|' '{ s += $2 } END { print s }' <<<"$per")
  [ "$sum" = "$(q "SELECT COUNT(*) FROM $t")" ] || fail "$t: workers hold $sum rows, the table $(q "SELECT COUNT(*) FROM $t")"
  [ "$sum" -gt 0 ] || fail "$t is empty"
done

echo "ok: 2 workers; $(q "SELECT COUNT(*) FROM pg_dist_partition") tables placed; rows on both workers"
