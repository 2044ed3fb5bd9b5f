#!/usr/bin/env bash
# A store failure in the middle of an import (issue 20 saw one on Citus):
# the batch it hit is rolled back whole, the import stops with the store's
# message, and the summary counts what the stores hold -- never exams that
# were rolled back.  The failure is planted as a trigger on the research
# store that refuses the observations of every exam from id 250 on (ids come
# in reserved blocks, so the store may hold no exam 250 itself).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 300 --years 1 --seed 3 --out pop --format xml >/dev/null 2>&1
"$K" init --data d >/dev/null
if [ "$(kb_backend d)" = postgresql ]; then
  kb_sql d research "CREATE FUNCTION kb_test_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'planted failure'; END \$\$;
    CREATE TRIGGER refuse BEFORE INSERT ON observations FOR EACH ROW WHEN (NEW.exam_id >= 250) EXECUTE FUNCTION kb_test_refuse();" >/dev/null
else
  kb_sql d research "CREATE TRIGGER refuse BEFORE INSERT ON observations WHEN NEW.exam_id >= 250 BEGIN SELECT RAISE(ABORT, 'planted failure'); END;"
fi
rc=0; "$K" import --data d --source inst pop/xml >out 2>err || rc=$?
[ $rc = 1 ] || { cat out err; fail "a store failure should exit 1, got $rc"; }
grep -q 'planted failure' err || { cat err; fail "the store's message is not reported"; }
shown=$(sed -n 's/^exams accepted *\([0-9]*\) .*/\1/p' out)
held=$(kb_sql d research "SELECT COUNT(*) FROM exams")
[ -n "$shown" ] && [ "$shown" = "$held" ] || { cat out; fail "the summary shows $shown exams accepted, the store holds $held"; }
[ "$held" -lt 250 ] || fail "the batch that failed was committed ($held exams held)"
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams x WHERE x.n_obs <> (SELECT COUNT(*) FROM observations o WHERE o.exam_id = x.id)")" = 0 ] ||
  fail "an exam was committed without its observations"
"$K" check --data d >/dev/null || fail "the stores are inconsistent after the failure: $("$K" check --data d 2>&1 | tail -3)"

# once the cause is gone, the same command completes the import
kb_sql d research "DROP TRIGGER refuse$([ "$(kb_backend d)" = postgresql ] && echo ' ON observations')" >/dev/null
"$K" import --data d --source inst pop/xml >out 2>err || { cat out err; fail "the rerun failed"; }
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams")" = 300 ] || fail "the rerun did not complete the 300 exams"
"$K" check --data d >/dev/null || fail "check after the rerun"
echo "import_failure: ok (summary $shown = store $held after the failure)"
