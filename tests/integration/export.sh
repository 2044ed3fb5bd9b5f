#!/usr/bin/env bash
# kenbank export end to end: only for an approved project (its purpose and
# data items; refusals otherwise), only consenting subjects, per-project
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

# Exports belong to approved projects: biobank applications through their review
# (two people: the one who opens the review does not decide it).
BB() { "$K" biobank "$@" --data d; }
approve() { # approve APP
  BB transition --app "$1" --to screening --actor bb1 --as biobank >/dev/null
  BB transition --app "$1" --to scientific_review --actor bb1 --as biobank >/dev/null
  BB review --app "$1" --decision approve --actor rv1 --as reviewer >/dev/null
  BB review --app "$1" --decision approve --actor rv1 --as reviewer >/dev/null
}
apply() { # apply TITLE ITEMS [PURPOSE] -> id
  BB apply --title "$1" --pi "Dr Sato" --org uni-1 --specimens serum:1 --purpose "${3:-academic_research}" \
    --data-items "$2" --owner res1 --actor res1 --as researcher
}
PJ1=$(apply "Metabolic markers" 'HbA1c,9N001000000000001,収縮期血圧,9N006000000000001')
approve "$PJ1"
PJ2=$(apply "Cohort overview" '')
approve "$PJ2"
PJ3=$(apply "Not yet reviewed" 'HbA1c')

Q='age >= 0'
n=$("$K" cohort --data d --purpose academic_research "$Q")
QIS=sex,age,exam_month,insurer,institution

# 1: k=5, items including height (a quasi-identifier), l-diversity on metabo
"$K" export --data d --project "$PJ1" --purpose academic_research --query "$Q" \
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
"$K" export --data d --project "$PJ2" --purpose academic_research --query "$Q" --k 5 --out e2 >/dev/null
node "$CHECK" --out e2/data.csv --sep , --qi $QIS --k 5 --suppress 0.05 || fail "export 2 not 5-anonymous"
comm -12 <(cut -d, -f1 e1/data.csv | sort) <(cut -d, -f1 e2/data.csv | sort) | grep -q P- && fail "projects share pseudonyms"

# 3: a narrower cohort at k=10 with weight, guidance as the sensitive column (l=3)
"$K" export --data d --project "$PJ1" --purpose academic_research --query 'sex = F AND age >= 40' \
  --items '9N006000000000001,HbA1c' --k 10 --l 3 --sensitive guidance --suppress 0.1 --out e3 >/dev/null
node "$CHECK" --out e3/data.csv --sep , --qi $QIS,9N006000000000001 --k 10 --sensitive guidance --l 3 --suppress 0.1 \
  || fail "export 3 not 10-anonymous / 3-diverse"
cut -d, -f2 e3/data.csv | tail -n +2 | sort -u | grep -qvE '^(F|\*)$' && fail "cohort sex = F leaked men"

# 4: infeasible (k larger than the cohort, no suppression): exit 1, nothing written
set +e; "$K" export --data d --project "$PJ1" --purpose academic_research --query 'age >= 70' --k 5000 --suppress 0 \
  --out e4 >/dev/null 2>err; rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'no generalisation' err || fail "infeasible export: rc=$rc $(cat err)"
[ ! -e e4/data.csv ] || fail "infeasible export wrote data"

# the report names the approved project
grep -q "^project: $PJ1 Metabolic markers\$" e1/report.txt || fail "report project: $(head -2 e1/report.txt)"
grep -qE '^approved: [0-9]{4}-[0-9]{2}-[0-9]{2}T.* \(application state approved; data items HbA1c,' e1/report.txt \
  || fail "report approval: $(sed -n 2p e1/report.txt)"

# 5: refusals, each before anything is written: exit 2 for a malformed id, 1 for the store's answer
refuse() { # refuse RC PATTERN what ARGS...
  local want=$1 pat=$2 what=$3; shift 3
  set +e; "$K" export --data d --query "$Q" --k 5 --out e5 "$@" >/dev/null 2>err; local rc=$?; set -e
  [ $rc -eq "$want" ] && grep -q -- "$pat" err || fail "$what: rc=$rc $(cat err)"
  [ ! -e e5 ] || fail "$what: wrote output"
}
refuse 2 "--project: the id of an approved biobank application" "ad-hoc project string" --project PJ-1 --purpose academic_research
refuse 1 "project 999: no such application" "unknown project" --project 999 --purpose academic_research
refuse 1 "project $PJ3 (Not yet reviewed) is submitted, not approved" "unapproved project" --project "$PJ3" --purpose academic_research
refuse 1 "purpose commercial_research is outside what project $PJ1 was approved for (academic_research)" "purpose" \
  --project "$PJ1" --purpose commercial_research
refuse 1 "item 'LDLコレステロール' is outside what project $PJ1 was approved for" "item" --project "$PJ1" --purpose academic_research \
  --items 'HbA1c,LDLコレステロール'
refuse 1 "item 'HbA1c' is outside what project $PJ2 was approved for (data items: none)" "item of a project without items" \
  --project "$PJ2" --purpose academic_research --items HbA1c
BB transition --app "$PJ2" --to withdrawn --actor res1 --as researcher >/dev/null
refuse 1 "is withdrawn, not approved" "withdrawn project" --project "$PJ2" --purpose academic_research

# logged and audited
[ "$(kb_sql d research "SELECT COUNT(*) FROM export_log")" = 3 ] || fail "export_log rows"
[ "$(kb_sql d research "SELECT DISTINCT project FROM export_log ORDER BY 1" | paste -sd,)" = "$PJ1,$PJ2" ] || fail "export_log projects"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'export' AND purpose = 'academic_research'")" = 3 ] || fail "export audit"
echo ok
