#!/usr/bin/env bash
# 特定保健指導 episodes: a provider records them by CSV (bad rows and members
# on no roster quarantined with line, field and rule) and by API; the member
# sees their own in the portal API and nobody else's; an insurer's staff see
# only the members on their own roster; every read and write is in the
# member's access log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

"$K" gen --people 600 --years 2 --seed 23 --insurers 3 --roster --no-noise --format both --out pop >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/xml >/dev/null
# two insurers' rosters under two organisations: the biggest insurer's rows
# as "kenshin", the rest as "other-ins"
INS=$(awk -F, 'NR>1 {print $1}' pop/roster.csv | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
head -1 pop/roster.csv > mine.csv; head -1 pop/roster.csv > theirs.csv
awk -F, -v i="$INS" 'NR>1 && $1==i' pop/roster.csv >> mine.csv
awk -F, -v i="$INS" 'NR>1 && $1!=i' pop/roster.csv >> theirs.csv
"$K" roster import --data d --source kenshin mine.csv >/dev/null
"$K" roster import --data d --source other-ins theirs.csv >/dev/null

# CSV: the generator's episodes, one broken row and one stranger
{
    cat pop/guidance.csv
    sed -n 2p pop/guidance.csv | awk -F, '{OFS=","; $8="telepathy"; print}'
    sed -n 2p pop/guidance.csv | awk -F, '{OFS=","; $3="99999999"; print}'
    # completed with its 実績評価 only a month after the start
    echo "$INS,1,1,00,2023,1,2023-06-01,individual,,completed,2023-07-01,-2.0,-2.0,"
} > g.csv
N=$(($(wc -l < pop/guidance.csv) - 1))
[ "$N" -gt 20 ] || fail "too few generated episodes: $N"
rc=0; "$K" guidance import --data d --provider hoken-1 g.csv > out1 || rc=$?
[ "$rc" = 3 ] || fail "exit status $rc, want 3: $(cat out1)"
grep -q "recorded      $N" out1 || fail "recorded: $(cat out1)"
grep -q "quarantined   3" out1 || fail "quarantined: $(cat out1)"
"$K" quarantine list --data d > q.csv
grep -q "g.csv,line $((N + 2)),form," q.csv || fail "bad form: $(cat q.csv)"
grep -q "g.csv,line $((N + 3)),insured_number,.*no imported roster" q.csv || fail "stranger: $(cat q.csv)"
grep -q "g.csv,line $((N + 4)),eval_date,.*3 months" q.csv || fail "early 実績評価: $(cat q.csv)"
[ "$(kb_sql d research "SELECT COUNT(*) FROM guidance_episodes")" = "$N" ] || fail "episodes stored"
# identity stays out: the member keys are not in the research store
awk -F, 'NR>1 && length($3) >= 5 {print $1 $2 $3}' pop/guidance.csv | sort -u > keys.txt
kb_dump d research research.dump
! LC_ALL=C grep -a -q -F -f keys.txt research.dump || fail "insurer keys in the research store"
# recording again replaces, and adds no second episode
"$K" guidance import --data d --provider hoken-1 pop/guidance.csv >/dev/null
[ "$(kb_sql d research "SELECT COUNT(*) FROM guidance_episodes")" = "$N" ] || fail "re-recording added episodes"

# member A: on the kenshin roster, with an exam to enrol by, and no episode yet
PA=$(python3 - "$INS" <<'PY'
import csv, sys
ins = sys.argv[1]
tp = {(r['insurer_no'], r['insured_symbol'], r['insured_number'], r['branch_no']): r['true_person'] for r in csv.DictReader(open('pop/roster_truth.csv'))}
with_ep = {tp[(r['insurer_no'], r['insured_symbol'], r['insured_number'], r['branch_no'])] for r in csv.DictReader(open('pop/guidance.csv'))}
seen = {r['true_person'] for r in csv.DictReader(open('pop/truth.csv')) if r['record_id'].startswith('h')}
for r in csv.DictReader(open('pop/roster.csv')):
    k = (r['insurer_no'], r['insured_symbol'], r['insured_number'], r['branch_no'])
    if r['insurer_no'] == ins and tp[k] in seen and tp[k] not in with_ep:
        print(tp[k], *k)
        break
PY
)
read -r P AINS ASYM ANUM ABR <<<"$PA"
[ -n "$P" ] || fail "no member to test with"
RID=$(awk -F, -v p="$P" 'NR>1 && $3==p && $2 ~ /^h/ {print $2; exit}' pop/truth.csv)
CODE=$("$K" enrol --data d --source kenshin --record-id "$RID")

PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username prov --role provider --org hoken-1 >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins --role insurer --org kenshin >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins2 --role insurer --org other-ins >/dev/null
mkdir -p "$WORK/tmp"
TMPDIR="$WORK/tmp" "$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start: $(cat srv.err)"
B="http://127.0.0.1:$PORT"
req() {
  local m=$1 p=$2 body=${3:-}; shift 3 || shift $#
  if [ -n "$body" ]; then curl -s -o resp -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data "$body" "$@" "$B$p"
  else curl -s -o resp -w '%{http_code}' -X "$m" "$@" "$B$p"; fi
}
js() { python3 -c "import json,sys; j=json.load(open('resp')); print($1)"; }
declare -A CSRF
login() { [ "$(req POST /api/login "{\"username\":\"$2\",\"password\":\"$PW\"}" -c "jar_$1")" = 200 ] || fail "login $2: $(cat resp)"; CSRF[$1]=$(js "j['csrf']"); }
[ "$(req POST /api/enrol "{\"code\":\"$CODE\",\"username\":\"m_a\",\"password\":\"$PW\"}")" = 201 ] || fail "enrol: $(cat resp)"
login a m_a; login prov prov; login ins ins; login ins2 ins2

# the member has no episode yet
[ "$(req GET /api/me/guidance "" -b jar_a)" = 200 ] || fail "me/guidance: $(cat resp)"
[ "$(js "len(j['episodes'])")" = 0 ] || fail "member A already has episodes: $(cat resp)"

# the provider records A's episode by API
EP="{\"insurer_no\":\"$AINS\",\"insured_symbol\":\"$ASYM\",\"insured_number\":\"$ANUM\",\"branch_no\":\"$ABR\",
 \"fiscal_year\":2023,\"level\":1,\"start_date\":\"2023-07-10\",\"form\":\"remote\",
 \"contacts\":[{\"date\":\"2023-08-10\",\"form\":\"remote\"},{\"date\":\"2023-09-10\",\"form\":\"individual\"}],
 \"status\":\"completed\",\"eval_date\":\"2023-10-12\",\"weight_change\":-2.4,\"waist_change\":-3.0}"
H=(-b jar_prov -H "X-CSRF-Token: ${CSRF[prov]}")
[ "$(req POST /api/guidance "$EP" "${H[@]}")" = 201 ] || fail "provider records: $(cat resp)"
grep -q '"R-' resp && fail "a pseudonym went back to the provider: $(cat resp)"
[ "$(req POST /api/guidance "${EP/\"remote\",/\"smoke\",}" "${H[@]}")" = 400 ] || fail "bad form accepted: $(cat resp)"
grep -q 'field form' resp || fail "400 must name the field: $(cat resp)"
[ "$(req POST /api/guidance "${EP/$ANUM/77777777}" "${H[@]}")" = 404 ] || fail "stranger: $(cat resp)"
[ "$(req POST /api/guidance "$EP" -b jar_ins -H "X-CSRF-Token: ${CSRF[ins]}")" = 403 ] || fail "insurer may not record"

# the member sees exactly their own episode
[ "$(req GET /api/me/guidance "" -b jar_a)" = 200 ] || fail "me/guidance: $(cat resp)"
[ "$(js "len(j['episodes'])")" = 1 ] || fail "member episodes: $(cat resp)"
[ "$(js "(lambda e: (e['fiscal_year'], e['level'], e['status'], e['outcome_2cm2kg'], len(e['contacts'])))(j['episodes'][0])")" = "(2023, 1, 'completed', True, 2)" ] \
    || fail "member's episode: $(cat resp)"

# insurers: only their own roster's members
[ "$(req GET '/api/insurer/guidance?fiscal_year=2023' "" -b jar_ins)" = 200 ] || fail "insurer list: $(cat resp)"
cp resp mine.json
[ "$(req GET '/api/insurer/guidance?fiscal_year=2023' "" -b jar_ins2)" = 200 ] || fail "insurer2 list: $(cat resp)"
cp resp theirs.json
WANT_MINE=$(kb_sql d research "SELECT COUNT(*) FROM guidance_episodes g WHERE fiscal_year = 2023 AND EXISTS
  (SELECT 1 FROM roster_members r WHERE r.pseudonym = g.pseudonym AND r.current = 1 AND r.source = 'kenshin')")
python3 - "$WANT_MINE" <<'PY' || fail "insurer scopes"
import json, sys
mine = {e['pseudonym'] for e in json.load(open('mine.json'))['episodes']}
theirs = {e['pseudonym'] for e in json.load(open('theirs.json'))['episodes']}
assert len(mine) == int(sys.argv[1]) and mine, (len(mine), sys.argv[1])
assert theirs and not (mine & theirs), 'an insurer sees another insurer\'s member'
PY
[ "$(req GET '/api/insurer/guidance?fiscal_year=2023' "" -b jar_a)" = 403 ] || fail "member reading the insurer list"

# every read and the write are in the member's own access log
[ "$(req GET /api/me/audit "" -b jar_a)" = 200 ] || fail "me/audit: $(cat resp)"
python3 <<'PY' || fail "access log: $(head -c 1500 resp)"
import json
es = json.load(open('resp'))['entries']
acts = {(e['actor'], e['action']) for e in es}
assert ('prov@hoken-1', 'guidance.record') in acts, acts
assert ('ins@kenshin', 'guidance.read') in acts, acts
assert any(a == 'guidance.read' and actor.startswith('m_a') for actor, a in acts), acts
assert not any(actor.startswith('ins2') for actor, a in acts), 'the other insurer read this member'
PY
# a file with a header and no row imports nothing, and says so
head -1 pop/guidance.csv > empty.csv
rc=0; "$K" guidance import --data d --provider hoken-1 empty.csv >/dev/null 2>err || rc=$?
[ $rc = 3 ] && grep -q 'empty.csv: no row after the header' err || fail "header-only guidance file: exit $rc $(cat err)"
echo "guidance: ok"
