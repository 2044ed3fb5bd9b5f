#!/usr/bin/env bash
# kenbank biobank end to end through the HTTP API with curl: biobank staff
# set up storage and specimens, a researcher applies, staff screen,
# reviewers decide, staff reserve and ship (a donor withdraws in between
# and is not shipped), the researcher returns results, statistics.  Also:
# role refusals from the route table, a researcher cannot see another
# researcher's application, illegal transitions are 409 with from/to.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
cat > a.csv <<CSV
$H
hosp-a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1
hosp-a,r2,2024-06-12,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市川崎区2,158.0,50.1,5.2,1
hosp-a,r3,2024-06-13,1410000001,06140019,AB,125,00,例示,次郎,レイジ,ジロウ,1,1975-01-15,2100002,川崎市川崎区3,165.0,60.1,5.4,1
CSV
"$K" init --data d >/dev/null
"$K" import --data d --source hosp-a a.csv >/dev/null
PW=password-for-tests
for u in bank:biobank:bank-1 resa:researcher:uni-1 resb:researcher:uni-2 revw:reviewer:irb-1 inst:institution:hosp-1 admn:admin:ops; do
  IFS=: read -r name role org <<<"$u"
  KENBANK_PASSWORD=$PW "$K" user add --data d --username "$name" --role "$role" --org "$org" >/dev/null
done

"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start"
B="http://127.0.0.1:$PORT"
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=eval("JSON.parse(s)"+process.argv[1]);console.log(v===undefined?"":(typeof v==="object"?JSON.stringify(v):v))})' "$1"; }

declare -A CSRF
login() {
  local out; out=$(curl -s -c "jar_$1" -H 'Content-Type: application/json' --data "{\"username\":\"$1\",\"password\":\"$PW\"}" "$B/api/login")
  CSRF[$1]=$(jget .csrf <<<"$out")
  [ -n "${CSRF[$1]}" ] || fail "login $1: $out"
}
for u in bank resa resb revw inst admn; do login $u; done
# call USER METHOD PATH [BODY] -> "STATUS BODY"
call() {
  local u=$1 m=$2 p=$3 body=${4:-}
  local code
  if [ -n "$body" ]; then
    code=$(curl -s -o resp -w '%{http_code}' -b "jar_$u" -X "$m" -H "X-CSRF-Token: ${CSRF[$u]}" -H 'Content-Type: application/json' --data "$body" "$B$p")
  else
    code=$(curl -s -o resp -w '%{http_code}' -b "jar_$u" -X "$m" -H "X-CSRF-Token: ${CSRF[$u]}" "$B$p")
  fi
  echo "$code $(cat resp)"
}
expect() { # expect CODE "STATUS BODY" what
  [[ "$2" == "$1 "* ]] || fail "$3: expected $1, got $2"
}

# route table: who may not
expect 403 "$(call resa POST /api/biobank/storage/freezers '{"name":"F1","temperature":-80}')" "researcher makes freezer"
expect 403 "$(call inst GET /api/biobank/applications)" "institution lists applications"
expect 403 "$(call revw POST /api/biobank/applications '{}')" "reviewer applies"
expect 401 "$(curl -s -o resp -w '%{http_code}' "$B/api/biobank/stats") x" "anonymous stats"

# storage and specimens (staff)
expect 201 "$(call bank POST /api/biobank/storage/freezers '{"name":"F1","temperature":-80}')" freezer
expect 201 "$(call bank POST /api/biobank/storage/racks '{"freezer":"F1","name":"R1"}')" rack
expect 201 "$(call bank POST /api/biobank/storage/boxes '{"freezer":"F1","rack":"R1","name":"BOX1","rows":2,"cols":2}')" box
# a name in use is a 409 with a stable code naming the field, never the store's SQL
for dup in 'freezers {"name":"F1","temperature":-80}' 'racks {"freezer":"F1","name":"R1"}' \
           'boxes {"freezer":"F1","rack":"R1","name":"BOX1","rows":2,"cols":2}'; do
  r=$(call bank POST "/api/biobank/storage/${dup%% *}" "${dup#* }")
  expect 409 "$r" "duplicate ${dup%% *}"
  [[ "$r" == *'"error":"already_exists"'* && "$r" == *"already exists"* ]] || fail "duplicate ${dup%% *} code: $r"
  [[ "$r" != *UNIQUE* && "$r" != *INSERT* && "$r" != *bb_* ]] || fail "duplicate ${dup%% *} leaks SQL: $r"
done
S=()
P=()
for i in 1 2 3; do
  r=$(call bank POST /api/biobank/specimens "{\"donor_source\":\"hosp-a\",\"donor_record\":\"r$i\",\"type\":\"serum\",\"collected_on\":\"2026-05-0$i\",\"quantity\":1,\"unit\":\"mL\",\"sprec\":\"SER-SST-A-D-N-A-E\"}")
  expect 201 "$r" "register $i"
  S[$i]=$(cut -d' ' -f2- <<<"$r" | jget .barcode)
  P[$i]=$(cut -d' ' -f2- <<<"$r" | jget .donor)
done
[[ "${P[1]}" == R-* && "${P[1]}" != "${P[2]}" ]] || fail "pseudonyms ${P[*]}"
r=$(call bank POST /api/biobank/specimens '{"donor_source":"hosp-a","donor_record":"nobody","type":"serum","collected_on":"2026-05-01","quantity":1,"unit":"mL"}')
expect 400 "$r" "unknown donor"; [[ "$r" == *"no record 'nobody'"* ]] || fail "unknown donor message: $r"
r=$(call bank POST /api/biobank/specimens "{\"donor\":\"${P[1]}\",\"type\":\"ffpe\",\"collected_on\":\"2026-05-01\",\"quantity\":1,\"unit\":\"block\",\"sprec\":\"SER-SST-A-D-N-A-E\"}")
expect 400 "$r" "sprec"; [[ "$r" == *"field sprec"* ]] || fail "sprec message: $r"

# place, conflict, move, map, free, label, aliquot
expect 200 "$(call bank POST "/api/biobank/specimens/${S[1]}/place" '{"box":"BOX1","position":"A1"}')" place
r=$(call bank POST "/api/biobank/specimens/${S[2]}/place" '{"box":"BOX1","position":"A1"}')
expect 409 "$r" "occupied"; [[ "$r" == *"occupied by ${S[1]}"* ]] || fail "occupied message: $r"
expect 200 "$(call bank POST "/api/biobank/specimens/${S[2]}/place" '{"box":"BOX1","position":"B2"}')" place2
r=$(call bank GET /api/biobank/boxes/BOX1/free)
[ "$(cut -d' ' -f2- <<<"$r" | jget .free)" = '["A2","B1"]' ] || fail "free: $r"
r=$(call bank GET /api/biobank/boxes/BOX1/map); [[ "$r" == *"2 of 4 positions used"* ]] || fail "map: $r"
code=$(curl -s -o label.svg -w '%{http_code}' -b jar_bank "$B/api/biobank/specimens/${S[1]}/label")
[ "$code" = 200 ] && grep -q '<svg' label.svg && grep -q "${S[1]}" label.svg || fail "label $code"
r=$(call bank POST "/api/biobank/specimens/${S[3]}/derive" '{"lineage":"aliquot","quantity":0.5}')
expect 201 "$r" aliquot; [ "$(cut -d' ' -f2- <<<"$r" | jget .parent)" = "${S[3]}" ] || fail "aliquot parent: $r"
expect 200 "$(call bank POST "/api/biobank/specimens/${S[3]}/thaw" '{}')" thaw

r=$(call bank GET '/api/biobank/specimens?status=available&type=serum')
[ "$(cut -d' ' -f2- <<<"$r" | jget '.specimens.length')" = 4 ] || fail "list: $r"

# import through the API: one good row, one quarantined
printf 'donor,collected_on,type,quantity,unit\n%s,2026-06-01,plasma,0.5,mL\n%s,2026-06-01,plasma,-1,mL\n' "${P[1]}" "${P[2]}" > imp.csv
code=$(curl -s -o resp -w '%{http_code}' -b jar_bank -H "X-CSRF-Token: ${CSRF[bank]}" -H 'Content-Type: text/csv' --data-binary @imp.csv "$B/api/biobank/import")
[ "$code" = 207 ] && [ "$(jget .quarantined <resp)" = 1 ] && [ "$(jget .accepted <resp)" = 1 ] || fail "import: $code $(cat resp)"

# paper consent for donors 1 and 2
for i in 1 2; do expect 201 "$(call bank POST /api/biobank/consents "{\"donor\":\"${P[$i]}\",\"purpose\":\"academic_research\",\"granted\":true}")" "consent $i"; done

# researcher applies; another researcher cannot see it
r=$(call resa POST /api/biobank/applications '{"title":"Serum lipids","pi":"Dr Sato","specimens":"serum:3","purpose":"academic_research","data_items":"HbA1c"}')
expect 201 "$r" apply
APP=$(cut -d' ' -f2- <<<"$r" | jget .id)
[ "$(cut -d' ' -f2- <<<"$r" | jget .owner)" = resa ] || fail "owner: $r"
expect 404 "$(call resb GET /api/biobank/applications/$APP)" "other researcher reads"
expect 404 "$(call resb POST /api/biobank/applications/$APP/transition '{"to":"withdrawn"}')" "other researcher withdraws"
[ "$(call resb GET /api/biobank/applications | cut -d' ' -f2- | jget '.applications.length')" = 0 ] || fail "res2 list"
[ "$(call resa GET /api/biobank/applications | cut -d' ' -f2- | jget '.applications.length')" = 1 ] || fail "res list"

# review path
r=$(call bank POST /api/biobank/applications/$APP/transition '{"to":"approved"}')
expect 409 "$r" "illegal"; [[ "$r" == *"submitted -> approved is not allowed (allowed from submitted: screening, withdrawn)"* ]] || fail "illegal msg: $r"
expect 403 "$(call resa POST /api/biobank/applications/$APP/transition '{"to":"screening"}')" "researcher screens"
expect 200 "$(call bank POST /api/biobank/applications/$APP/transition '{"to":"screening"}')" screening
expect 200 "$(call bank POST /api/biobank/applications/$APP/transition '{"to":"scientific_review"}')" sci
expect 403 "$(call bank POST /api/biobank/applications/$APP/reviews '{"decision":"approve"}')" "staff approves"
r=$(call revw POST /api/biobank/applications/$APP/reviews '{"decision":"approve","comment":"sound design"}')
[ "$(cut -d' ' -f2- <<<"$r" | jget .state)" = ethics_review ] || fail "sci review: $r"
r=$(call revw POST /api/biobank/applications/$APP/reviews '{"decision":"approve","comment":"ethics ok"}')
[ "$(cut -d' ' -f2- <<<"$r" | jget .state)" = approved ] || fail "ethics review: $r"
expect 200 "$(call bank POST /api/biobank/applications/$APP/transition '{"to":"agreement_signed","comment":"MTA-9"}')" mta
expect 403 "$(call resa POST /api/biobank/applications/$APP/reserve)" "researcher reserves"
r=$(call bank POST /api/biobank/applications/$APP/reserve)
expect 200 "$r" reserve
[ "$(cut -d' ' -f2- <<<"$r" | jget .reserved)" = 2 ] && [ "$(cut -d' ' -f2- <<<"$r" | jget .skipped_no_consent)" = 2 ] || fail "reserve counts: $r"
# donor 2 withdraws between reserve and ship
expect 201 "$(call bank POST /api/biobank/consents "{\"donor\":\"${P[2]}\",\"purpose\":\"academic_research\",\"granted\":false}")" withdraw
r=$(call bank POST /api/biobank/applications/$APP/ship)
expect 200 "$r" ship
[ "$(cut -d' ' -f2- <<<"$r" | jget .shipped)" = 1 ] && [ "$(cut -d' ' -f2- <<<"$r" | jget .released_no_consent)" = 1 ] || fail "ship counts: $r"
[ "$(call bank GET /api/biobank/specimens/${S[2]} | cut -d' ' -f2- | jget .status)" = available ] || fail "withdrawn donor's specimen must stay"
[ "$(call bank GET /api/biobank/specimens/${S[1]} | cut -d' ' -f2- | jget .status)" = distributed ] || fail "S1 shipped"
# results by the researcher
r=$(call resa POST /api/biobank/applications/$APP/results "{\"results\":[{\"barcode\":\"${S[2]}\",\"code\":\"LDL\",\"value\":120}]}")
expect 400 "$r" "result on unshipped"; [[ "$r" == *"results[0]: field barcode: specimen ${S[2]} was not shipped"* ]] || fail "unshipped msg: $r"
r=$(call resa POST /api/biobank/applications/$APP/results "{\"results\":[{\"barcode\":\"${S[1]}\",\"code\":\"LDL\",\"value\":120,\"unit\":\"mg/dL\"}]}")
expect 200 "$r" results; [ "$(cut -d' ' -f2- <<<"$r" | jget .state)" = results_returned ] || fail "results state: $r"
expect 200 "$(call bank POST /api/biobank/applications/$APP/transition '{"to":"closed"}')" close
r=$(call resa GET /api/biobank/applications/$APP)
[[ "$r" == *"results_returned -> closed"* ]] && [ "$(cut -d' ' -f2- <<<"$r" | jget '.distribution.length')" = 2 ] || fail "detail: $r"

# statistics
expect 403 "$(call resa GET /api/biobank/stats)" "researcher stats"
r=$(call revw GET /api/biobank/stats)
expect 200 "$r" stats
[ "$(cut -d' ' -f2- <<<"$r" | jget '.provided[0].count')" = 1 ] && [ "$(cut -d' ' -f2- <<<"$r" | jget '.applications_by_state.closed')" = 1 ] || fail "stats: $r"
"$K" audit verify --data d >/dev/null || fail "audit chain"
echo "biobank api ok"
