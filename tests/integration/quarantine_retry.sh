#!/usr/bin/env bash
# `kenbank quarantine retry` over many entries (issue 21, item 3): the run
# loads the linkage index once per source, not once per entry (which made a
# few hundred entries take minutes), and still imports what now passes and
# re-quarantines what does not, each old entry closed exactly once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 240 --years 1 --seed 21 --out pop >/dev/null
# every 8th row carries an item nobody has registered yet (passes once it is),
# every 8th+4 an impossible date (never passes); two senders
awk 'BEGIN { FS = OFS = "," }
     NR == 1 { print $0, "AICS-LUNG"; next }
     NR % 8 == 0 { print $0, "A"; next }
     NR % 8 == 4 { $3 = "2023-02-30" }
     { print $0, "" }' pop/exams.csv > all.csv
head -n 121 all.csv > a.csv
{ head -n 1 all.csv; tail -n +122 all.csv; } > b.csv
items=$(awk 'NR > 1 && NR % 8 == 0' all.csv | wc -l)
dates=$(awk 'NR > 1 && NR % 8 == 4' all.csv | wc -l)
n=$((items + dates))
[ "$n" -ge 50 ] || fail "expected at least 50 broken rows, made $n"

"$K" init --data d >/dev/null
set +e
"$K" import --data d --source sender-a a.csv >/dev/null
"$K" import --data d --source sender-b b.csv >/dev/null
set -e
exams_before=$(kb_sql d research "SELECT COUNT(*) FROM exams")
[ "$(kb_sql d identity "SELECT COUNT(*) FROM quarantine WHERE status = 'open'")" -eq "$n" ] ||
  fail "expected $n open entries before the retry"

"$K" items register --data d --code AICS-LUNG --system urn:kenbank:local:aics --type CD --codes A,B \
  --name 肺がんリスク >/dev/null
set +e; out=$("$K" quarantine retry --data d); rc=$?; set -e
[ $rc -eq 3 ] || fail "retry with entries still broken should exit 3, got $rc: $out"
grep -qx "retried $n: $items imported, $dates still quarantined (linkage index loaded 2 times)" <<<"$out" ||
  fail "retry of $n entries of two senders should load the index twice: $out"

# every old entry closed once; the still-broken ones open again under new ids
[ "$(kb_sql d identity "SELECT COUNT(*) FROM quarantine WHERE status = 'resolved'")" -eq "$items" ] || fail "resolved"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM quarantine WHERE status = 'superseded'")" -eq "$dates" ] || fail "superseded"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM quarantine WHERE status = 'open'")" -eq "$dates" ] || fail "open"
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams")" -eq $((exams_before + items)) ] || fail "imported exams"
"$K" check --data d | grep -q "^consistent" || fail "stores inconsistent after the retry"

# a single entry still retries on its own
id=$(kb_sql d identity "SELECT MIN(id) FROM quarantine WHERE status = 'open'")
set +e; out=$("$K" quarantine retry --data d --id "$id"); rc=$?; set -e
[ $rc -eq 3 ] && grep -q "^retried 1: 0 imported, 1 still quarantined" <<<"$out" || fail "single retry: $rc $out"
echo ok
