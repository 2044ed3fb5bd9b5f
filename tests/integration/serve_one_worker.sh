#!/usr/bin/env bash
# One server worker serves every route (issue 17, finding 16).  Each worker
# thread keeps one connection per store, and each connection caches every
# statement it prepares; the cache used to hold 64 and then answer 500
# ("statement cache full").  With --threads 1 every request below lands on
# the same connections: portal, API, biobank (a whole application life),
# FHIR (searches, reads, a transaction), reports and admin routes, each
# with a valid request so that its statements are really prepared.  No
# answer may be a 5xx, and every route of `kenbank serve --routes` must have
# been requested.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
cat > a.csv <<CSV
$H
inst-a,r1,2023-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,169.8,66.0,5.5,1
inst-a,r1b,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1
inst-a,r2,2024-06-12,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市川崎区2,158.0,50.1,5.2,1
inst-a,r3,2024-06-13,1410000001,06140019,AB,125,00,例示,一郎,レイジ,イチロウ,1,1975-01-01,2100001,川崎市川崎区3,165.0,60.1,5.4,1
CSV
"$K" init --data d >/dev/null
"$K" import --data d --source inst-a a.csv >/dev/null
PW=password-for-tests
for u in inst:institution:inst-a ins:insurer:inst-a bank:biobank:bank-1 resa:researcher:uni-1 revw:reviewer:irb-1 \
         prov:provider:clinic-1 admn:admin:ops; do
  IFS=: read -r name role org <<<"$u"
  KENBANK_PASSWORD=$PW "$K" user add --data d --username "$name" --role "$role" --org "$org" >/dev/null
done
CODE=$("$K" enrol --data d --source inst-a --record-id r1)

"$K" serve --data d --listen 127.0.0.1:0 --threads 1 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || fail "server did not start: $(cat srv.err)"
grep -q '(1 threads' srv.out || fail "server should run one worker: $(cat srv.out)"
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start within 60 s"
B="http://127.0.0.1:$PORT"
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=eval("JSON.parse(s)"+process.argv[1]);console.log(v===undefined?"":(typeof v==="object"?JSON.stringify(v):v))})' "$1"; }

declare -A CSRF
: > hits.txt
# call USER METHOD PATH [BODY [CONTENT-TYPE]] -> "STATUS BODY"; USER anon
# sends no credentials.  Every answer is checked for a server error here.
call() {
  local u=$1 m=$2 p=$3 body=${4:-} ctype=${5:-application/json}
  local args=(-s -o resp -w '%{http_code}' -X "$m")
  [ "$u" != anon ] && args+=(-b "jar_$u" -c "jar_$u" -H "X-CSRF-Token: ${CSRF[$u]:-}")
  [ -n "$body" ] && args+=(-H "Content-Type: $ctype" --data-binary "$body")
  local code; code=$(curl "${args[@]}" "$B$p")
  echo "$m ${p%%\?*}" >> hits.txt
  [[ "$code" =~ ^5 || "$code" == 000 ]] && fail "$m $p as $u: $code $(cat resp)"
  echo "$code $(tr -d '\000' < resp)"
}
expect() { [[ "$2" == "$1 "* ]] || fail "$3: expected $1, got $2"; }
login() {
  local r; r=$(call "$1" POST /api/login "{\"username\":\"$2\",\"password\":\"$PW\"}")
  expect 200 "$r" "login $2"
  CSRF[$1]=$(cut -d' ' -f2- <<<"$r" | jget .csrf)
}

# ---- public, enrolment, sessions ----
expect 200 "$(call anon GET /api/health)" health
expect 200 "$(call anon GET /api/consent-texts)" texts
expect 200 "$(call anon GET /fhir/metadata)" metadata
expect 201 "$(call anon POST /api/enrol "{\"code\":\"$CODE\",\"username\":\"taro\",\"password\":\"$PW\"}")" enrol
login taro taro
for u in inst ins bank resa revw prov admn; do login $u $u; done
for u in taro inst admn; do expect 200 "$(call $u GET /api/me)" "me $u"; done
expect 201 "$(call inst POST /api/tokens '{"scope":"read","ttl_days":1}')" token
r=$(call inst POST /api/enrolment-codes '{"source":"inst-a","record_id":"r2"}'); [[ "$r" == 20* ]] || fail "enrolment code: $r"

# ---- the member's portal ----
expect 201 "$(call taro POST /api/me/consents '{"purpose":"provider_sharing","provider":"clinic-1","granted":true}')" consent
expect 201 "$(call taro POST /api/me/consents '{"purpose":"academic_research","granted":true}')" consent2
expect 200 "$(call taro GET /api/me/consents)" consents
r=$(call taro GET /api/me/exams); expect 200 "$r" exams
EXAM=$(cut -d' ' -f2- <<<"$r" | jget '.exams[0].id')
expect 200 "$(call taro GET /api/me/exams/$EXAM)" exam
expect 200 "$(call taro GET /api/me/results)" results
expect 201 "$(call taro POST /api/me/sensors '{"kind":"steps","date":"2024-05-01","value":9500}')" sensor
expect 200 "$(call taro GET /api/me/sensors)" sensors
expect 201 "$(call taro POST /api/me/tokens '{"label":"watch"}')" device-token
expect 200 "$(call taro GET /api/me/points)" points
expect 200 "$(call taro GET /api/me/export.xml)" export.xml
expect 200 "$(call taro GET /api/me/audit)" my-audit
expect 200 "$(call taro GET "/api/me/audit?who=others&limit=20&offset=0")" my-audit-page
expect 200 "$(call taro GET /api/me/providers)" providers
expect 200 "$(call taro GET /api/me/results.pdf)" results.pdf

# ---- insurer, institution, provider, researcher ----
expect 200 "$(call ins POST /api/points/rules '{"rule":"steps","kind":"steps","threshold":5000,"points":20,"cap":100,"enabled":true}')" rule
expect 200 "$(call ins GET /api/points/rules)" rules
expect 200 "$(call ins GET /api/insurer/dashboard)" dashboard
expect 200 "$(call ins GET "/api/reports/insurer?fiscal_year=2024")" report
{ echo "$H"; echo 'inst-a,up-1,2024-07-01,1410000001,06140019,AB,126,00,例示,次郎,レイジ,ジロウ,1,1976-01-01,2100001,川崎市4,160.0,55.0,5.1,1'; } > up.csv
r=$(call inst POST '/api/uploads?filename=up.csv' "$(cat up.csv)" text/csv); [[ "$r" == 20* ]] || fail "upload: $r"
expect 200 "$(call inst GET /api/uploads)" uploads
call inst POST /api/quarantine/999999/retry >/dev/null
call inst POST /api/quarantine/999999/discard >/dev/null
r=$(call prov GET /api/provider/subjects); expect 200 "$r" subjects
PSEUD=$(cut -d' ' -f2- <<<"$r" | jget '.subjects[0]')
[[ "$PSEUD" == R-* ]] || fail "provider subject: $r"
expect 200 "$(call prov GET /api/provider/subjects/$PSEUD/exams)" provider-exams
expect 200 "$(call resa POST /api/cohort/count '{"query":"sex = M"}')" cohort

# ---- biobank: storage, specimens, an application from submission to close ----
expect 201 "$(call bank POST /api/biobank/storage/freezers '{"name":"F1","temperature":-80}')" freezer
expect 201 "$(call bank POST /api/biobank/storage/racks '{"freezer":"F1","name":"R1"}')" rack
expect 201 "$(call bank POST /api/biobank/storage/boxes '{"freezer":"F1","rack":"R1","name":"BOX1","rows":2,"cols":2}')" box
expect 200 "$(call bank GET /api/biobank/storage)" storage
S=()
for i in 1 2; do
  r=$(call bank POST /api/biobank/specimens "{\"donor_source\":\"inst-a\",\"donor_record\":\"r$i\",\"type\":\"serum\",\"collected_on\":\"2026-05-0$i\",\"quantity\":1,\"unit\":\"mL\",\"sprec\":\"SER-SST-A-D-N-A-E\"}")
  expect 201 "$r" "specimen $i"
  S[$i]=$(cut -d' ' -f2- <<<"$r" | jget .barcode)
done
DONOR=$(call bank GET "/api/biobank/specimens/${S[1]}" | cut -d' ' -f2- | jget .donor)
expect 200 "$(call bank POST "/api/biobank/specimens/${S[1]}/place" '{"box":"BOX1","position":"A1"}')" place
expect 200 "$(call bank GET /api/biobank/boxes/BOX1/map)" map
expect 200 "$(call bank GET "/api/biobank/specimens/${S[1]}/label")" label
expect 201 "$(call bank POST "/api/biobank/specimens/${S[2]}/derive" '{"lineage":"aliquot","quantity":0.5}')" derive
r=$(call bank POST /api/biobank/pools "{\"barcodes\":[\"${S[2]}\"],\"quantity\":0.1}"); [[ "$r" == [24]* ]] || fail "pool: $r"
expect 200 "$(call bank GET '/api/biobank/specimens?type=serum')" specimens
r=$(call bank POST /api/biobank/import "$(printf 'donor,collected_on,type,quantity,unit\n%s,2026-06-01,plasma,0.5,mL\n' "$DONOR")" text/csv)
[[ "$r" == 20* ]] || fail "biobank import: $r"
expect 201 "$(call bank POST /api/biobank/consents "{\"donor\":\"$DONOR\",\"purpose\":\"academic_research\",\"granted\":true}")" bb-consent
r=$(call resa POST /api/biobank/applications '{"title":"Serum lipids","pi":"Dr Sato","specimens":"serum:1","purpose":"academic_research","data_items":"HbA1c"}')
expect 201 "$r" apply
APP=$(cut -d' ' -f2- <<<"$r" | jget .id)
expect 200 "$(call resa GET /api/biobank/applications)" apps
r=$(call resa GET /api/biobank/purposes); expect 200 "$r" purposes
[[ "$r" == *'"academic_research"'* && "$r" != *provider_sharing* ]] || fail "application purposes: $r"
expect 200 "$(call bank POST /api/biobank/applications/$APP/transition '{"to":"screening"}')" screening
expect 200 "$(call bank POST /api/biobank/applications/$APP/transition '{"to":"scientific_review"}')" sci
expect 200 "$(call revw POST /api/biobank/applications/$APP/reviews '{"decision":"approve","comment":"ok"}')" review1
expect 200 "$(call revw POST /api/biobank/applications/$APP/reviews '{"decision":"approve","comment":"ok"}')" review2
expect 200 "$(call bank POST /api/biobank/applications/$APP/transition '{"to":"agreement_signed","comment":"MTA-1"}')" mta
expect 200 "$(call bank POST /api/biobank/applications/$APP/reserve)" reserve
expect 200 "$(call bank POST /api/biobank/applications/$APP/ship)" ship
expect 200 "$(call resa GET /api/biobank/applications/$APP)" app
expect 200 "$(call revw GET /api/biobank/stats)" stats

# ---- FHIR ----
expect 200 "$(call taro GET '/fhir/Observation?date=ge2024')" obs-search
expect 200 "$(call taro GET "/fhir/Observation/$EXAM-0")" obs-read
expect 200 "$(call prov GET "/fhir/Observation?subject=Patient/$PSEUD")" obs-provider
expect 200 "$(call taro GET '/fhir/Patient/$everything')" everything
r=$(call bank GET /fhir/Specimen); expect 200 "$r" specimen-search
SID=$(cut -d' ' -f2- <<<"$r" | jget '.entry[0].resource.id')
expect 200 "$(call bank GET /fhir/Specimen/$SID)" specimen-read
r=$(call taro GET /fhir/Consent); expect 200 "$r" consent-search
CID=$(cut -d' ' -f2- <<<"$r" | jget '.entry[0].resource.id')
expect 200 "$(call taro GET /fhir/Consent/$CID)" consent-read
expect 200 "$(call revw GET /fhir/ResearchStudy)" studies
expect 200 "$(call revw GET /fhir/ResearchStudy/$APP)" study
expect 200 "$(call bank GET /fhir/Group/$APP)" group
BUNDLE='{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Patient","identifier":[
   {"system":"urn:oid:1.2.392.200119.6.101","value":"06140019"},{"system":"urn:oid:1.2.392.200119.6.204","value":"AB"},
   {"system":"urn:oid:1.2.392.200119.6.205","value":"124"},{"system":"urn:oid:1.2.392.200119.6.211","value":"00"}],
   "name":[{"family":"見本","given":["花子"]},
     {"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"SYL"}],"family":"ミホン","given":["ハナコ"]}],
   "gender":"female","birthDate":"1980-02-29"},"request":{"method":"POST","url":"Patient"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"urn:oid:1.2.392.200119.6.1005","code":"9N001000000000001"}]},
   "effectiveDateTime":"2025-06-01","performer":[{"identifier":{"system":"urn:oid:1.2.392.200119.6.102","value":"1410000001"}}],
   "valueQuantity":{"value":158.4,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}},"request":{"method":"POST","url":"Observation"}}]}'
expect 200 "$(call inst POST /fhir "$BUNDLE")" transaction
expect 200 "$(call inst POST /fhir/ "$BUNDLE")" transaction-resubmitted

# ---- admin ----
expect 201 "$(call admn POST /api/users "{\"username\":\"extra\",\"password\":\"$PW\",\"role\":\"biobank\",\"org\":\"bank-1\"}")" user-add
expect 200 "$(call admn GET /api/users)" users
expect 200 "$(call admn POST /api/users/extra/disable)" disable
expect 200 "$(call admn GET /api/audit)" audit
expect 200 "$(call admn GET /api/audit/verify)" verify
expect 200 "$(call admn GET /api/review)" review
expect 404 "$(call admn POST /api/review/999999/accept '{}')" accept
expect 404 "$(call admn POST /api/review/999999/reject '{}')" reject
expect 200 "$(call taro GET "/fhir/Composition/$EXAM/\$document")" ecr-document

# ---- insurer roster, 特定保健指導, 受診勧奨 follow-up (issue 19) and cancer
# screening (issue 22); an answer of 4xx still prepares the route's reads ----
printf '%s\n%s\n' 'insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,eligible_from,eligible_to,exclusion,exclusion_from,exclusion_to' \
  '06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,2020-04-01,,,,' > roster.csv
call ins POST /api/roster "$(cat roster.csv)" text/csv >/dev/null
expect 200 "$(call taro GET /api/me/guidance)" my-guidance
expect 200 "$(call ins GET "/api/insurer/guidance?fiscal_year=2024")" insurer-guidance
call prov POST /api/guidance '{"insurer_no":"06140019","insured_symbol":"AB","insured_number":"123","branch_no":"00","fiscal_year":2024,"level":1,"start_date":"2024-07-01","form":"individual"}' >/dev/null
expect 200 "$(call ins GET "/api/insurer/referrals?fiscal_year=2024")" referrals
call ins GET /api/insurer/referrals/R-NOPE/contact >/dev/null
call inst POST /api/referrals/visits '{"insurer_no":"06140019","insured_symbol":"AB","insured_number":"123","branch_no":"00","fiscal_year":2024,"visit_date":"2024-08-01"}' >/dev/null
expect 200 "$(call ins GET /api/screening/cases)" screening-cases
call ins GET "/api/screening/contact?pseudonym=R-NOPE&screening=lung&fiscal_year=2024" >/dev/null
expect 200 "$(call ins GET /api/screening/indicators)" screening-indicators

# ---- operator: user management and review ----
call admn POST /api/users/inst/unlock >/dev/null
call admn POST /api/users/inst/enable >/dev/null
call admn POST /api/review/999999/undo >/dev/null

# ---- account recovery: refused by the member, confirmed by the member,
# approved by a second staff member and redeemed ----
rid() { cut -d' ' -f2- <<<"$1" | jget .id; }
r=$(call inst POST /api/recoveries '{"source":"inst-a","record_id":"r1"}'); expect 201 "$r" recovery-request; R1=$(rid "$r")
expect 200 "$(call inst GET /api/recoveries)" recoveries
expect 200 "$(call taro GET /api/me/recoveries)" my-recoveries
expect 200 "$(call taro POST /api/me/recoveries/$R1/cancel)" member-refuses
r=$(call inst POST /api/recoveries '{"source":"inst-a","record_id":"r1"}'); expect 201 "$r" recovery-request2; R2=$(rid "$r")
expect 201 "$(call taro POST /api/me/recoveries/$R2/confirm)" member-confirms
expect 200 "$(call inst POST /api/recoveries/$R2/cancel)" staff-cancels
r=$(call inst POST /api/recoveries '{"source":"inst-a","record_id":"r1"}'); expect 201 "$r" recovery-request3; R3=$(rid "$r")
r=$(call admn POST /api/recoveries/$R3/approve); expect 201 "$r" second-person-approves
RCODE=$(cut -d' ' -f2- <<<"$r" | jget .code)
expect 200 "$(call taro POST /api/logout)" logout
expect 200 "$(call anon POST /api/recover "{\"code\":\"$RCODE\",\"password\":\"another-password-1\"}")" redeem

# ---- every route in the server's own table was requested ----
"$K" serve --routes > routes.txt
[ "$(wc -l < routes.txt)" -gt 20 ] || fail "route table not printed"
missing=""
while IFS='|' read -r m pat roles; do
  re="^$m $(sed -e 's/[$]/\\$/g' -e 's/{}/[^\/ ]+/g' <<<"$pat")\$"
  grep -qE "$re" hits.txt || missing="$missing $m $pat;"
done < routes.txt
[ -z "$missing" ] || fail "routes not requested through the single worker:$missing"
! grep -q 'statement cache full' srv.err || fail "statement cache full: $(grep 'statement cache' srv.err | head -3)"
echo "ok: $(wc -l < hits.txt) requests over $(wc -l < routes.txt) routes through one worker, no server error"
