#!/usr/bin/env bash
# 受診勧奨 follow-up: the insurer lists its own members whose checkup flagged
# an item at 受診勧奨判定値, by pseudonym; a visit recorded by API or CSV
# closes one; without a visit it expires when the fiscal year ends; the
# member's contact comes from the identity store to the insurer's own staff
# only; every read is audited under the member's pseudonym.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

"$K" gen --people 500 --years 2 --seed 29 --insurers 3 --roster --no-noise --format both --out pop >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/xml >/dev/null
INS=$(awk -F, 'NR>1 {print $1}' pop/roster.csv | sort | uniq -c | sort -rn | awk 'NR==1{print $2}')
head -1 pop/roster.csv > mine.csv; head -1 pop/roster.csv > theirs.csv
awk -F, -v i="$INS" 'NR>1 && $1==i' pop/roster.csv >> mine.csv
awk -F, -v i="$INS" 'NR>1 && $1!=i' pop/roster.csv >> theirs.csv
"$K" roster import --data d --source kenshin mine.csv >/dev/null
"$K" roster import --data d --source other-ins theirs.csv >/dev/null

PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins --role insurer --org kenshin >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins2 --role insurer --org other-ins >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username clinic --role institution --org 1410000013 >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username oper --role admin >/dev/null
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
login ins ins; login ins2 ins2; login clinic clinic; login op oper

# the open list, as of mid-year: every entry flagged, all open
[ "$(req GET '/api/insurer/referrals?fiscal_year=2023&as_of=2024-01-15' "" -b jar_ins)" = 200 ] || fail "list: $(cat resp)"
cp resp list1.json
N=$(js "len(j['referrals'])")
[ "$N" -gt 5 ] || fail "too few referrals to test: $N"
[ "$(js "all(r['state'] == 'open' and r['items'] and r['pseudonym'].startswith('R-') for r in j['referrals'])")" = True ] \
    || fail "open list: $(head -c 600 resp)"
# the same count from the store: roster members of kenshin whose last FY2023 exam has a level-2 flag
WANT=$(kb_sql d research "SELECT COUNT(DISTINCT r.pseudonym) FROM roster_members r JOIN subjects s ON s.pseudonym = r.pseudonym
  JOIN exams x ON x.subject_id = s.id AND x.current = 1 AND x.fiscal_year = 2023
  WHERE r.current = 1 AND r.source = 'kenshin' AND EXISTS (SELECT 1 FROM exam_flags f WHERE f.exam_id = x.id AND f.level >= 2)")
[ "$N" = "$WANT" ] || fail "list has $N, store $WANT"
# no identity in the list, and another insurer sees none of these members
grep -q '"family_name"\|"address"' resp && fail "identity in the list"
[ "$(req GET '/api/insurer/referrals?fiscal_year=2023&as_of=2024-01-15' "" -b jar_ins2)" = 200 ] || fail "list 2"
python3 -c '
import json
a = {r["pseudonym"] for r in json.load(open("list1.json"))["referrals"]}
b = {r["pseudonym"] for r in json.load(open("resp"))["referrals"]}
assert b and not (a & b), "insurers overlap"' || fail "insurer scope"

# contact: own staff only, from the identity store
P=$(python3 -c 'import json; print(json.load(open("list1.json"))["referrals"][0]["pseudonym"])')
P2=$(python3 -c 'import json; print(json.load(open("list1.json"))["referrals"][1]["pseudonym"])')
[ "$(req GET "/api/insurer/referrals/$P/contact" "" -b jar_ins)" = 200 ] || fail "contact: $(cat resp)"
read -r CINS CSYM CNUM CBR <<<"$(js "' '.join([j['insurer_no'], j['insured_symbol'], j['insured_number'], j['branch_no']])")"
[ "$CINS" = "$INS" ] && [ -n "$(js "j['family_name'] or j['family_kana']")" ] || fail "contact content: $(cat resp)"
grep -q "^$CINS,$CSYM,$CNUM,$CBR," mine.csv || fail "contact is not the roster's member"
[ "$(req GET "/api/insurer/referrals/$P/contact" "" -b jar_ins2)" = 404 ] || fail "another insurer got the contact: $(cat resp)"
[ "$(req GET "/api/insurer/referrals/$P/contact" "" -b jar_op)" = 403 ] || fail "an operator got the contact: $(cat resp)"

# a visit by API (the clinic) closes P; one by CSV closes P2
EXAM_DATE=$(python3 -c 'import json,sys; print(next(r["exam_date"] for r in json.load(open("list1.json"))["referrals"] if r["pseudonym"] == sys.argv[1]))' "$P")
V="{\"insurer_no\":\"$CINS\",\"insured_symbol\":\"$CSYM\",\"insured_number\":\"$CNUM\",\"branch_no\":\"$CBR\",\"fiscal_year\":2023,\"visit_date\":\"$EXAM_DATE\"}"
[ "$(req POST /api/referrals/visits "$V" -b jar_clinic -H "X-CSRF-Token: ${CSRF[clinic]}")" = 201 ] || fail "visit: $(cat resp)"
[ "$(req POST /api/referrals/visits "${V/$EXAM_DATE/2023-13-01}" -b jar_clinic -H "X-CSRF-Token: ${CSRF[clinic]}")" = 400 ] || fail "bad date"
grep -q 'field visit_date' resp || fail "400 names the field: $(cat resp)"
[ "$(req POST /api/referrals/visits "${V/$CNUM/88888888}" -b jar_clinic -H "X-CSRF-Token: ${CSRF[clinic]}")" = 404 ] || fail "stranger visit"
[ "$(req GET "/api/insurer/referrals/$P2/contact" "" -b jar_ins)" = 200 ] || fail "contact 2"
C2=$(js "','.join([j['insurer_no'], j['insured_symbol'], j['insured_number'], j['branch_no']])")
{ echo "insurer_no,insured_symbol,insured_number,branch_no,fiscal_year,visit_date,institution"
  echo "$C2,2023,2024-03-01,1410000021"
  echo "$C2,2023,2024-02-30,1410000021"; } > visits.csv
rc=0; "$K" referral visits --data d --source clinic-feed visits.csv > vout || rc=$?
[ "$rc" = 3 ] && grep -q "recorded      1" vout || fail "visits CSV: rc=$rc $(cat vout)"
"$K" quarantine list --data d | grep -q "visits.csv,line 3,visit_date," || fail "bad visit row not quarantined"

[ "$(req GET '/api/insurer/referrals?fiscal_year=2023&as_of=2024-03-15' "" -b jar_ins)" = 200 ] || fail "list 2"
python3 - "$P" "$P2" <<'PY' || fail "states after visits: $(head -c 800 resp)"
import json, sys
rs = {r['pseudonym']: r for r in json.load(open('resp'))['referrals']}
assert rs[sys.argv[1]]['state'] == 'visited', rs[sys.argv[1]]
assert rs[sys.argv[2]]['state'] == 'visited' and rs[sys.argv[2]]['visit_date'] == '2024-03-01', rs[sys.argv[2]]
assert sum(r['state'] == 'open' for r in rs.values()) == len(rs) - 2
PY
# after the year's end the rest expire; visited stay visited
[ "$(req GET '/api/insurer/referrals?fiscal_year=2023&as_of=2024-04-01' "" -b jar_ins)" = 200 ] || fail "list 3"
[ "$(js "sorted(set(r['state'] for r in j['referrals']))")" = "['expired', 'visited']" ] || fail "expiry: $(head -c 400 resp)"

# the member's access log: the insurer's reads, the contact, the visit
LOG=$(kb_sql d research "SELECT actor || ' ' || action FROM audit_log WHERE pseudonym = '$P' ORDER BY seq")
for want in "ins@kenshin referral.read" "ins@kenshin referral.contact" "clinic@1410000013 referral.visit"; do
    grep -qF "$want" <<<"$LOG" || fail "missing '$want' in the member's log: $LOG"
done
grep -q "ins2" <<<"$LOG" && fail "the other insurer appears in the member's log: $LOG"
echo "referrals: ok"
