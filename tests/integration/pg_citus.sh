#!/usr/bin/env bash
# PostgreSQL only (run in the pg pass): the research schema is ready to be
# distributed by person pseudonym as scripts/citus/distribute.sql says.
# Citus itself is not packaged by Debian, so its rules are checked on the
# catalog of a live store instead:
#   - every table is placed exactly once (distributed, reference or local);
#   - a distributed table's primary key and unique constraints contain its
#     distribution column;
#   - a foreign key between distributed tables joins co-located tables on
#     the distribution column; none runs from a distributed table to a local
#     one or into a distributed table from elsewhere;
#   - an UPDATE of a distribution column is refused, while an import, a
#     corrected resubmission and `kenbank check` all go through.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
PLAN="$(cd "$(dirname "$0")/../.." && pwd)/scripts/citus/distribute.sql"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -n "${KENBANK_INIT_PG:-}" ] || fail "needs the runner's throwaway cluster (KENBANK_INIT_PG)"

"$K" init --data d >/dev/null
"$K" gen --people 200 --years 2 --seed 31 --out pop --format csv 2>/dev/null
"$K" import --data d --source k pop/exams.csv >/dev/null || fail "import"
q() { kb_sql d research "$1"; }

# The plan, read from the script operators run.
declare -A dist kind
while read -r t c; do dist[$t]=$c; kind[$t]=distributed; done < <(
  sed -n "s/^SELECT create_distributed_table('\([a-z_]*\)', '\([a-z_]*\)'.*/\1 \2/p" "$PLAN")
for t in $(sed -n "s/^SELECT create_reference_table('\([a-z_]*\)').*/\1/p" "$PLAN"); do
  [ -z "${kind[$t]:-}" ] || fail "$t placed twice"; kind[$t]=reference; done
for t in $(sed -n 's/^-- coordinator-local: //p' "$PLAN"); do
  [ -z "${kind[$t]:-}" ] || fail "$t placed twice"; kind[$t]=local; done
[ "${dist[observations]:-}" = pseudonym ] || fail "plan does not distribute observations by pseudonym"

# 1. every table of the store is placed
tables=$(q "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
            AND relkind IN ('r','p') AND NOT relispartition ORDER BY 1")
for t in $tables; do [ -n "${kind[$t]:-}" ] || fail "table $t is not placed in scripts/citus/distribute.sql"; done
# (a here-string, not `echo | grep -q`: under pipefail grep's early exit can
# fail the pipeline; the list is printed so a failure shows what was read)
[ -n "$tables" ] || fail "no tables listed in the research database"
for t in "${!kind[@]}"; do
  grep -qx "$t" <<<"$tables" || fail "the plan places $t, which the store does not have (store: $(tr '\n' ' ' <<<"$tables"))"
done

# 2. keys of distributed tables contain the distribution column
for t in "${!dist[@]}"; do
  c=${dist[$t]}
  bad=$(q "SELECT conname FROM pg_constraint k WHERE k.conrelid = '$t'::regclass AND k.contype IN ('p','u')
           AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = k.conrelid
                           AND a.attname = '$c' AND a.attnum = ANY (k.conkey))")
  [ -z "$bad" ] || fail "$t: constraint $bad lacks the distribution column $c"
  [ -n "$(q "SELECT 1 FROM pg_constraint WHERE conrelid = '$t'::regclass AND contype = 'p'")" ] \
    || fail "$t has no primary key"
done

# 3. foreign keys: (child, parent, child columns, parent columns)
group() { # co-location group of a distributed table: its column, or "none"
  if [ "$1" = exam_keys ]; then echo none; else echo "${dist[$1]}"; fi; }
fks=$(q "SELECT k.conrelid::regclass, k.confrelid::regclass,
                (SELECT string_agg(a.attname, ',' ORDER BY u.i) FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n),
                (SELECT string_agg(a.attname, ',' ORDER BY u.i) FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                   JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n)
         FROM pg_constraint k WHERE k.contype = 'f' AND k.conparentid = 0
         AND k.connamespace = 'public'::regnamespace")
n_dd=0
while IFS='|' read -r child parent ccols pcols; do
  [ -n "$child" ] || continue
  ck=${kind[$child]} pk=${kind[$parent]}
  case "$ck>$pk" in
    distributed\>distributed)
      [ "$(group "$child")" = "$(group "$parent")" ] || fail "$child -> $parent: not co-located"
      # the distribution column must map onto the parent's distribution column
      IFS=, read -ra cc <<<"$ccols"; IFS=, read -ra pc <<<"$pcols"; ok=0
      for i in "${!cc[@]}"; do
        [ "${cc[$i]}" = "${dist[$child]}" ] && [ "${pc[$i]}" = "${dist[$parent]}" ] && ok=1
      done
      [ $ok = 1 ] || fail "$child($ccols) -> $parent($pcols) does not join on the distribution column"
      n_dd=$((n_dd + 1)) ;;
    distributed\>reference|local\>local|local\>reference|reference\>reference) ;;
    *) fail "$child -> $parent: a foreign key from a $ck table to a $pk table" ;;
  esac
done <<<"$fks"
[ "$n_dd" -ge 3 ] || fail "expected the exam tables' foreign keys, found $n_dd between distributed tables"

# 4. the distribution columns are never updated: the guard refuses it ...
pseudo=$(q "SELECT pseudonym FROM subjects LIMIT 1")
q "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, channel, recorded_at, recorded_by)
   VALUES ('$pseudo', 'academic_research', '', 1, 'granted', '2024-04-01', 'paper', 'x', 'test')" >/dev/null
q "INSERT INTO sensor_readings (pseudonym, kind, measured_on, value, channel, recorded_at)
   VALUES ('$pseudo', 'steps', '2024-05-01', 9000, 'web', 'x')" >/dev/null
q "INSERT INTO point_ledger (pseudonym, rule, ref, points, at) VALUES ('$pseudo', 'checkup', 'FY2024', 500, 'x')" >/dev/null
for t in "${!dist[@]}"; do
  c=${dist[$t]}
  [ "$(q "SELECT COUNT(*) > 0 FROM $t")" = t ] || fail "$t is empty; cannot try its guard"
  if out=$(q "UPDATE $t SET $c = $c || 'x' WHERE ctid = (SELECT ctid FROM $t LIMIT 1)" 2>&1); then
    fail "$t.$c was updated"
  fi
  grep -q "distribution column" <<<"$out" || fail "$t.$c update failed for another reason: $out"
done

# ... and the importer never needs to: a corrected resubmission of one
# record becomes version 2 beside version 1, found through exam_keys.
# (column 17 is the height, 9N001000000000001)
awk -F, -v OFS=, 'NR == 1 { print } NR == 2 { $17 = $17 + 1.5; print }' pop/exams.csv > fix.csv
out=$("$K" import --data d --source k fix.csv) || fail "corrected import: $out"
grep -q "exams accepted *1 (1 corrected" <<<"$out" || fail "correction not recognised: $out"
[ "$(q "SELECT COUNT(*) FROM exam_keys WHERE version = 2")" = 1 ] || fail "exam_keys lacks version 2"
[ "$(q "SELECT COUNT(*) FROM exams WHERE version = 1 AND current = 0")" = 1 ] || fail "version 1 still current"
"$K" check --data d >/dev/null || fail "kenbank check after the correction"
echo "ok: ${#dist[@]} distributed, $(printf '%s\n' "${kind[@]}" | grep -c reference) reference, $(printf '%s\n' "${kind[@]}" | grep -c local) local tables; $n_dd co-located foreign keys; guards hold"
