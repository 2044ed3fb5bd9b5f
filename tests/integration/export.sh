#!/usr/bin/env bash
# kenbank export end to end: only consenting subjects, per-project
# pseudonyms, no identifiers, generalised quasi-identifiers, and every export
# verified k-anonymous (and l-diverse) by the independent checker
# tests/tools/kanon_check.mjs; an infeasible model writes nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
CHECK="$(cd "$(dirname "$0")/../tools" && pwd)/kanon_check.mjs"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 800 --years 3 --seed 5 --out pop --format csv >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/exams.csv >/dev/null || [ $? -eq 3 ]
# 90% consent to academic research; one of them withdraws later
kb_sql d research "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, channel, recorded_at, recorded_by)
  SELECT pseudonym, 'academic_research', '', 1, 'granted', '2024-01-01', 'paper', '2024-01-01T00:00:00.000Z', 't' FROM subjects WHERE id % 10 != 3"
W=$(kb_sql d research "SELECT pseudonym FROM subjects WHERE id % 10 = 5 ORDER BY id LIMIT 1")
kb_sql d research "INSERT INTO consents (pseudonym, purpose, provider, text_version, state, valid_from, channel, recorded_at, recorded_by)
  VALUES ('$W', 'academic_research', '', 1, 'withdrawn', '2024-01-01', 'web', '2025-01-01T00:00:00.000Z', 't')"

Q='age >= 0'
n=$("$K" cohort --data d --purpose academic_research "$Q")
QIS=sex,age,exam_month,insurer,institution

# 1: k=5, items including height (a quasi-identifier), l-diversity on metabo
"$K" export --data d --project PJ-1 --purpose academic_research --query "$Q" \
  --items 'HbA1c,9N001000000000001,収縮期血圧' --k 5 --l 2 --sensitive metabo --suppress 0.05 --out e1 >out1
rows=$(($(wc -l < e1/data.csv) - 1))
[ "$rows" = "$n" ] || fail "export rows $rows, consenting cohort $n"
node "$CHECK" --out e1/data.csv --sep , --qi $QIS,9N001000000000001 --k 5 --sensitive metabo --l 2 --suppress 0.05 \
  || fail "export 1 is not 5-anonymous / 2-diverse"
head -1 e1/data.csv | grep -q '^pid,sex,age,exam_month,insurer,institution,metabo,guidance,HbA1c,9N001000000000001,収縮期血圧$' \
  || fail "header: $(head -1 e1/data.csv)"
grep -q '^9N001000000000001,quasi-identifier,身長' e1/dictionary.csv || fail "dictionary: height as QI"
grep -q '^HbA1c,attribute,HbA1c(NGSP値)' e1/dictionary.csv || fail "dictionary: HbA1c"
grep -q '^guarantee: 5-anonymity, distinct 2-diversity of metabo' e1/report.txt || fail "report guarantee"
grep -q '^information loss: 0\.[0-9]*' e1/report.txt || fail "report loss"

# no identifiers: no research pseudonym, no name, birth date, postal code, record id; pids per project
cut -d, -f1 e1/data.csv | tail -n +2 | grep -qv '^P-' && fail "pid must be a project pseudonym"
kb_sql d research "SELECT pseudonym FROM subjects" > research_ids
grep -qFf research_ids e1/data.csv && fail "research pseudonyms leaked"
# names, birth dates, postal codes, addresses: none appears as a field
tail -n +2 pop/identities.csv | cut -d, -f3,4,8,9,10 | tr ',' '\n' | grep -v '^$' | sort -u > idvals
[ "$(wc -l < idvals)" -gt 100 ] || fail "identity values list too short"
tr ',' '\n' < e1/data.csv | sort -u > outvals
[ -z "$(comm -12 idvals outvals)" ] || fail "identity values leaked: $(comm -12 idvals outvals | head -3)"
grep -q "$W" e1/data.csv && fail "withdrawn subject exported"

# 2: another project: the same people get unrelated pseudonyms
"$K" export --data d --project PJ-2 --purpose academic_research --query "$Q" --k 5 --out e2 >/dev/null
node "$CHECK" --out e2/data.csv --sep , --qi $QIS --k 5 --suppress 0.05 || fail "export 2 not 5-anonymous"
comm -12 <(cut -d, -f1 e1/data.csv | sort) <(cut -d, -f1 e2/data.csv | sort) | grep -q P- && fail "projects share pseudonyms"

# 3: a narrower cohort at k=10 with weight, guidance as the sensitive column (l=3)
"$K" export --data d --project PJ-1 --purpose academic_research --query 'sex = F AND age >= 40' \
  --items '9N006000000000001,HbA1c' --k 10 --l 3 --sensitive guidance --suppress 0.1 --out e3 >/dev/null
node "$CHECK" --out e3/data.csv --sep , --qi $QIS,9N006000000000001 --k 10 --sensitive guidance --l 3 --suppress 0.1 \
  || fail "export 3 not 10-anonymous / 3-diverse"
cut -d, -f2 e3/data.csv | tail -n +2 | sort -u | grep -qvE '^(F|\*)$' && fail "cohort sex = F leaked men"

# 4: infeasible (k larger than the cohort, no suppression): exit 1, nothing written
set +e; "$K" export --data d --project PJ-1 --purpose academic_research --query 'age >= 70' --k 5000 --suppress 0 \
  --out e4 >/dev/null 2>err; rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'no generalisation' err || fail "infeasible export: rc=$rc $(cat err)"
[ ! -e e4/data.csv ] || fail "infeasible export wrote data"

# logged and audited
[ "$(kb_sql d research "SELECT COUNT(*) FROM export_log")" = 3 ] || fail "export_log rows"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND purpose = 'academic_research'")" = 3 ] || fail "export audit"
echo ok
