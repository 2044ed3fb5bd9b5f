#!/usr/bin/env bash
# The web portal's endpoints at the HTTP level: a member's results with
# judgements and ranges, sensor uploads by form (session) and device token,
# health points awarded once, no IDOR between two members, the insurer
# dashboard with small-cell suppression, point rules as data, and a
# checkup institution's upload through the importer with quarantine errors.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

"$K" gen --people 120 --years 3 --seed 11 --no-noise --out pop --format both >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/xml >/dev/null || [ $? -eq 3 ]
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins --role insurer --org kenshin >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins2 --role insurer --org other >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username inst --role institution --org clinic-9 >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username oper --role admin >/dev/null
# two members with three checkups each
mapfile -t RIDS < <(awk -F, 'NR==FNR{if(FNR>1) ex[$2]=1; next} FNR>1 && ($2 in ex){n[$3]++; r[$3]=$2} END{for(p in n) if(n[p]==3) print r[p]}' pop/exams.csv pop/truth.csv | sort | head -2)
CODE_A=$("$K" enrol --data d --source kenshin --record-id "${RIDS[0]}")
CODE_B=$("$K" enrol --data d --source kenshin --record-id "${RIDS[1]}")

mkdir -p "$WORK/tmp"
TMPDIR="$WORK/tmp" "$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 --max-body 4000000 \
  --max-upload 60000000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start: $(cat srv.err)"
B="http://127.0.0.1:$PORT"
req() {
  local m=$1 p=$2 body=${3:-}; shift 3 || shift $#
  local out
  if [ -n "$body" ]; then out=$(curl -s -o resp -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data "$body" "$@" "$B$p")
  else out=$(curl -s -o resp -w '%{http_code}' -X "$m" "$@" "$B$p"); fi
  echo "$out $(cat resp)"
}
jq_() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const v=(new Function("j","return ("+process.argv[1]+")"))(j);console.log(typeof v==="object"?JSON.stringify(v):v)})' "$1" <resp; }
declare -A CSRF
login() { local r; r=$(req POST /api/login "{\"username\":\"$2\",\"password\":\"$PW\"}" -c "jar_$1"); [[ "$r" == 200* ]] || fail "login $2: $r"; CSRF[$1]=$(jq_ j.csrf); }

for who in a b; do
  code=CODE_${who^^}
  r=$(req POST /api/enrol "{\"code\":\"${!code}\",\"username\":\"m_$who\",\"password\":\"$PW\"}"); [[ "$r" == 201* ]] || fail "enrol $who: $r"
  login "$who" "m_$who"
done
login ins ins; login ins2 ins2; login inst inst; login op oper

# ---- results: items with names, units, levels and ranges ----
r=$(req GET /api/me/results "" -b jar_a); [[ "$r" == 200* ]] || fail "results: $r"
[ "$(jq_ 'j.exams.length')" = 3 ] || fail "member A should have 3 exams: $(jq_ 'j.exams.map(x=>x.fiscal_year)')"
[ "$(jq_ 'j.exams.every(x=>x.items.length>10 && x.metabo>=1 && x.guidance>=1)')" = true ] || fail "exam items/judgements: $(cat resp | head -c 400)"
hb=$(jq_ 'j.exams[0].items.find(i=>i.key==="hba1c")')
[[ "$hb" == *'"name":"HbA1c'* && "$hb" == *'"unit":"%"'* && "$hb" == *'"range":{"direction":"ge","guidance":5.6,"referral":6.5}'* ]] || fail "HbA1c item: $hb"
# every level agrees with the value and the range (ge items)
bad=$(jq_ 'j.exams.flatMap(x=>x.items).filter(i=>i.range&&i.range.direction==="ge"&&i.value!==undefined&&i.key!=="sbp"&&i.key!=="dbp"&&i.key!=="uprot").filter(i=>(i.range.referral!==null&&i.value>=i.range.referral?2:i.value>=i.range.guidance?1:0)!==i.level).map(i=>i.key+"="+i.value+"/"+i.level)')
[ "$bad" = "[]" ] || fail "levels disagree with the ranges: $bad"
# referrals list equals the items at level 2
[ "$(jq_ 'j.exams.every(x=>JSON.stringify([...new Set(x.items.filter(i=>i.level===2).map(i=>i.key))].sort())===JSON.stringify([...x.referrals].sort()) || x.referrals.some(k=>k==="sbp"||k==="dbp"))')" = true ] || fail "referrals vs item levels"
IDS_A=$(jq_ 'j.exams.map(x=>x.id).join(",")')
# the institution's own range and flag beside ours, exactly where it sent them
got=$(jq_ 'j.exams.flatMap(x=>x.items).filter(i=>i.sender).length')
want=$(kb_sql d research "SELECT COUNT(*) FROM observations WHERE exam_id IN ($IDS_A) AND (interp IS NOT NULL OR ref_low IS NOT NULL OR ref_high IS NOT NULL)")
[ "$got" = "$want" ] || fail "sender ranges shown for $got items, stored for $want"
[ "$(jq_ 'j.exams.flatMap(x=>x.items).filter(i=>i.sender).every(i=>(i.sender.low||i.sender.high)&&/^[HLN]$/.test(i.sender.flag))')" = true ] || fail "sender range shape: $(jq_ 'j.exams[0].items.filter(i=>i.sender)')"
[ "$(jq_ 'j.exams.flatMap(x=>x.items).filter(i=>i.group).every(i=>i.rel==="COMP"||i.rel==="RSON")')" = true ] || fail "group members lack their relation"
r=$(req GET /api/me/results "" -b jar_b); IDS_B=$(jq_ 'j.exams.map(x=>x.id).join(",")')
[ "$IDS_A" != "$IDS_B" ] || fail "A and B see the same exams"
for id in ${IDS_A//,/ }; do [[ ",$IDS_B," == *",$id,"* ]] && fail "B's results include A's exam $id"; done
r=$(req GET /api/me/results ""); [[ "$r" == 401* ]] || fail "results without login: $r"
r=$(req GET /api/me/results "" -b jar_ins); [[ "$r" == 403* ]] || fail "insurer reading /api/me/results: $r"

# ---- sensors: form (session + CSRF) and device token ----
TODAY=$(date -u +%F); D1=$(date -u -d '-1 day' +%F); D2=$(date -u -d '-2 day' +%F)
r=$(req POST /api/me/sensors "{\"kind\":\"steps\",\"date\":\"$D1\",\"value\":9500}" -b jar_a); [[ "$r" == 403*csrf* ]] || fail "sensor form without CSRF: $r"
r=$(req POST /api/me/sensors "{\"kind\":\"steps\",\"date\":\"$D1\",\"value\":9500}" -b jar_a -H "X-CSRF-Token: ${CSRF[a]}"); [[ "$r" == 201*'"added":1'* ]] || fail "sensor form: $r"
r=$(req POST /api/me/sensors "{\"kind\":\"bp\",\"date\":\"$D1\",\"value\":80,\"value2\":120}" -b jar_a -H "X-CSRF-Token: ${CSRF[a]}")
[[ "$r" == 400*'reading 0: field value2'* ]] || fail "diastolic above systolic must be refused naming the field: $r"
r=$(req POST /api/me/sensors "{\"kind\":\"weight\",\"date\":\"2999-01-01\",\"value\":60}" -b jar_a -H "X-CSRF-Token: ${CSRF[a]}")
[[ "$r" == 400*'field date'* ]] || fail "future date: $r"
r=$(req POST /api/me/tokens '{"label":"watch"}' -b jar_a -H "X-CSRF-Token: ${CSRF[a]}"); [[ "$r" == 201* ]] || fail "device token: $r"
TOK=$(jq_ j.token)
r=$(req POST /api/me/sensors "{\"readings\":[{\"kind\":\"steps\",\"date\":\"$D2\",\"value\":12000},{\"kind\":\"bp\",\"date\":\"$D2\",\"value\":128,\"value2\":82},{\"kind\":\"weight\",\"date\":\"$D2\",\"value\":64.5}]}" -H "Authorization: Bearer $TOK")
[[ "$r" == 201*'"added":3'* ]] || fail "device upload: $r"
r=$(req POST /api/me/tokens '{}' -H "Authorization: Bearer $TOK"); [[ "$r" == 403*session_required* ]] || fail "token minting a token: $r"
r=$(req GET /api/me/sensors "" -b jar_a)
[ "$(jq_ 'j.readings.length')" = 4 ] || fail "A's readings: $(cat resp)"
[ "$(jq_ 'j.readings.filter(x=>x.channel==="api").length')" = 3 ] || fail "channel api: $(cat resp)"
r=$(req GET /api/me/sensors "" -b jar_b); [ "$(jq_ 'j.readings.length')" = 0 ] || fail "B sees A's readings"

# ---- points: checkups + step days, each paid once ----
r=$(req GET /api/me/points "" -b jar_a); [[ "$r" == 200* ]] || fail "points: $r"
[ "$(jq_ 'j.ledger.filter(x=>x.rule==="checkup").length')" = 3 ] || fail "3 checkup awards: $(cat resp)"
[ "$(jq_ 'j.ledger.filter(x=>x.rule==="steps").length')" = 2 ] || fail "2 step days: $(cat resp)"
BAL=$(jq_ j.balance)
[ "$(jq_ 'j.ledger.reduce((s,x)=>s+x.points,0)===j.balance')" = true ] || fail "balance = sum of ledger"
r=$(req GET /api/me/points "" -b jar_a); [ "$(jq_ j.balance)" = "$BAL" ] || fail "second evaluation paid again: $BAL -> $(jq_ j.balance)"
[ "$(kb_sql d research "SELECT COUNT(*) FROM point_ledger WHERE rule='checkup'")" = 3 ] || fail "ledger rows for B before B looked"

# ---- point rules: data, insurer-set, validated ----
r=$(req POST /api/points/rules '{"rule":"steps","kind":"steps","threshold":5000,"points":20,"cap":100,"enabled":true}' -b jar_ins -H "X-CSRF-Token: ${CSRF[ins]}")
[[ "$r" == 200*'"points":20'* ]] || fail "insurer sets a rule: $r"
r=$(req POST /api/points/rules '{"rule":"x","kind":"improve","item":"nonsense","threshold":1,"points":5}' -b jar_ins -H "X-CSRF-Token: ${CSRF[ins]}")
[[ "$r" == 400*'field item'* ]] || fail "bad rule must name the field: $r"
r=$(req POST /api/points/rules '{"rule":"steps","kind":"steps","threshold":1,"points":999}' -b jar_a -H "X-CSRF-Token: ${CSRF[a]}"); [[ "$r" == 403* ]] || fail "member setting rules: $r"
r=$(req GET /api/points/rules "" -b jar_ins); [ "$(jq_ 'j.rules.find(x=>x.rule==="steps").threshold')" = 5000 ] || fail "rule stored: $(cat resp)"

# ---- insurer dashboard: own scope, suppression ----
r=$(req GET /api/insurer/dashboard "" -b jar_ins); [[ "$r" == 200* ]] || fail "dashboard: $r"
[ "$(jq_ 'j.years.map(x=>x.fiscal_year).join()')" = 2022,2023,2024 ] || fail "years: $(cat resp)"
EX=$(kb_sql d research "SELECT COUNT(DISTINCT subject_id) FROM exams WHERE current=1 AND source='kenshin' AND fiscal_year=2023")
[ "$(jq_ 'j.years[1].examinees')" = "$EX" ] || fail "examinees 2023: $(jq_ 'j.years[1].examinees') vs $EX"
M1=$(kb_sql d research "SELECT COUNT(*) FROM exams WHERE current=1 AND source='kenshin' AND fiscal_year=2023 AND metabo=3")
[ "$(jq_ 'j.years[1].metabo["3"]')" = "$M1" ] || fail "metabo=3 2023: $(jq_ 'j.years[1].metabo') vs $M1"
[ "$(jq_ 'j.years.every(y=>[y.metabo,y.guidance,y.referral_items].every(d=>Object.values(d).every(v=>v===null||v===0||v>=10)))')" = true ] || fail "cells under 10 must be suppressed: $(cat resp)"
[ "$(jq_ 'j.years.every(y=>[y.metabo,y.guidance].every(d=>Object.values(d).filter(v=>v===null).length!==1))')" = true ] || fail "a lone suppressed cell is recoverable: $(cat resp)"
r=$(req GET /api/insurer/dashboard "" -b jar_ins2); [ "$(jq_ 'j.years.length')" = 0 ] || fail "another insurer sees kenshin's exams: $(cat resp)"
# an operator names the organisation code; the dashboard says who (and a
# second naming replaces the first)
[ "$(req GET /api/insurer/dashboard "" -b jar_ins >/dev/null; jq_ 'j.scope_name === undefined')" = true ] || fail "a name before any was set: $(cat resp)"
"$K" user org --data d --org kenshin --name 'かながわ健保' >/dev/null || fail "user org"
"$K" user org --data d --org kenshin --name 'かながわ健康保険組合' >/dev/null || fail "user org again"
r=$(req GET /api/insurer/dashboard "" -b jar_ins); [ "$(jq_ 'j.scope_name')" = 'かながわ健康保険組合' ] || fail "scope_name: $(cat resp)"
r=$(req GET /api/insurer/dashboard "" -b jar_a); [[ "$r" == 403* ]] || fail "member reading dashboard: $r"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action='dashboard.read' AND actor='ins@kenshin'")" -ge 1 ] || fail "dashboard read not audited"

# ---- institution upload: importer + per-record quarantine ----
H=$(head -1 pop/exams.csv)
{ echo "$H"; sed -n 2p pop/exams.csv | sed 's/^[^,]*,[^,]*,/clinic-9,up-1,/'; sed -n 3p pop/exams.csv | sed 's/^[^,]*,[^,]*,[^,]*,/clinic-9,up-2,2024-13-45,/'; } > up.csv
r=$(curl -s -o resp -w '%{http_code}' -X POST --data-binary @up.csv -H 'Content-Type: text/csv' -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}" "$B/api/uploads?filename=up.csv")
[ "$r" = 201 ] || fail "upload: $r $(cat resp)"
[ "$(jq_ 'j.accepted+"/"+j.quarantined')" = 1/1 ] || fail "upload counts: $(cat resp)"
[ "$(jq_ 'j.quarantine.length===1 && j.quarantine[0].record==="up-2" && j.quarantine[0].file==="up.csv" && /date/.test(j.quarantine[0].field+j.quarantine[0].rule)')" = true ] || fail "quarantine detail: $(cat resp)"
r=$(req GET /api/uploads "" -b jar_inst); [ "$(jq_ 'j.uploads[0].status+" "+j.uploads[0].filename')" = "partial up.csv" ] || fail "upload history: $(cat resp)"
[ "$(jq_ 'j.quarantine.every(q=>q.record.startsWith("up-"))')" = true ] || fail "institution sees other sources' quarantine"
r=$(curl -s -o resp -w '%{http_code}' -X POST --data-binary @up.csv -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}" "$B/api/uploads?filename=../../etc/x.sh")
[ "$r" = 400 ] || fail "bad file name: $r"
r=$(curl -s -o resp -w '%{http_code}' -X POST --data-binary @up.csv -b jar_a -H "X-CSRF-Token: ${CSRF[a]}" "$B/api/uploads?filename=a.csv")
[ "$r" = 403 ] || fail "member uploading: $r"
ls "$WORK"/tmp/kenbank-upload-* >/dev/null 2>&1 && fail "temporary upload files left behind"

# ---- uploads of real size: streamed to disk, never held in memory ----
# A month of a clinic is tens of MB.  This archive is 40 MB (the exams of
# one generated archive plus a 40 MB entry of the kind senders ship beside
# them), far over --max-body; the server's peak memory must not grow by it.
Z=$(ls pop/xml/*.zip | sed -n 1p)
head -c 40000000 /dev/urandom > pad.bin
cp "$Z" big.zip && zip -q -0 big.zip pad.bin
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$SRV/status"; }
before=$(hwm)
r=$(curl -s -o resp -w '%{http_code}' -X POST --data-binary @big.zip -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}" "$B/api/uploads?filename=big.zip")
[ "$r" = 201 ] || fail "40 MB upload: $r $(cat resp)"
N=$(unzip -Z1 "$Z" | grep -c '/DATA/h')
[ "$(jq_ 'j.entries.exam+" "+j.entries.other+" "+(j.accepted+j.duplicates)')" = "$N 1 $N" ] || fail "big upload not read entry by entry: $(cat resp)"
grown=$(( $(hwm) - before ))
[ "$grown" -lt 20000 ] || fail "the server's peak memory grew by $grown kB for a 40 MB upload: the body was held in memory"
# over --max-upload: 413, and nothing kept
truncate -s 61000000 huge.zip
r=$(curl -s -o resp -w '%{http_code}' -X POST --data-binary @huge.zip -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}" "$B/api/uploads?filename=huge.zip")
[ "$r" = 413 ] || fail "upload over --max-upload: $r"
# refused on its headers before a byte is stored
r=$(curl -s -o resp -w '%{http_code}' -X POST --data-binary @big.zip "$B/api/uploads?filename=big.zip")
[ "$r" = 401 ] || fail "anonymous upload: $r"
r=$(curl -s -o resp -w '%{http_code}' -X POST --data-binary @big.zip -b jar_inst "$B/api/uploads?filename=big.zip")
[ "$r" = 403 ] && grep -q csrf resp || fail "upload without the CSRF token: $r $(cat resp)"
ls "$WORK"/tmp/kenbank-body-* "$WORK"/tmp/kenbank-upload-* >/dev/null 2>&1 && fail "streamed bodies left behind"

# ---- the audit trail ----
r=$(req GET /api/me/audit "" -b jar_a)
[ "$(jq_ '["exam.read","sensor.write","points.read","token.issue"].every(a=>j.entries.some(x=>x.action===a))')" = true ] || fail "A's audit view lacks portal actions: $(cat resp | head -c 600)"
out=$("$K" audit verify --data d) || fail "audit chain: $out"
echo ok
