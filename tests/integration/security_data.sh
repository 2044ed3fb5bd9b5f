#!/usr/bin/env bash
# Issue 17 through the HTTP API: over-long JSON fields are refused with 400
# naming the field and its limit, not cut (finding 12); the linkage review
# queue is paged and every pair shown is audited under both people's
# pseudonyms (finding 4); a biobank application's review decision needs a
# reviewer who neither applied nor opened the review, and the API lists the
# caller's allowed next states (finding 10).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
declare -A CODE
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001'
{
  echo "$H"
  for i in $(seq 1 50); do
    printf 'hosp-a,r%d,2024-05-10,1410000001,06140019,AB,%d,00,試験,太郎%d,シケン,タロウ,1,1970-04-%02d,2310023,横浜市中区%d,170.2,65.3\n' \
      "$i" "$((1000 + i))" "$i" "$(((i % 28) + 1))" "$i"
  done
} > a.csv
"$K" init --data d >/dev/null
"$K" import --data d --source hosp-a a.csv >/dev/null
# 25 pending review pairs: (r1, r2), (r3, r4), ... (r49, r50)
kb_sql d identity "INSERT INTO review_queue (record_a, record_b, score, status, created_at)
  SELECT a.id, b.id, 4.5, 'pending', '2026-01-01T00:00:00.000Z' FROM person_records a JOIN person_records b
  ON b.record_id = 'r' || (CAST(substr(a.record_id, 2) AS INTEGER) + 1)
  WHERE CAST(substr(a.record_id, 2) AS INTEGER) % 2 = 1 ORDER BY a.id"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM review_queue WHERE status = 'pending'")" = 25 ] || fail "review pairs"
for m in 1 2 49; do CODE[$m]=$("$K" enrol --data d --source hosp-a --record-id r$m); done
PW=password-for-tests
for u in ins:insurer:06140019 bank:biobank:bank-1 resa:researcher:uni-1 revw:reviewer:irb-1 rev2:reviewer:irb-1 \
         inst:institution:1410000001 admn:admin:ops adm2:admin:ops; do
  IFS=: read -r name role org <<<"$u"
  KENBANK_PASSWORD=$PW "$K" user add --data d --username "$name" --role "$role" --org "$org" >/dev/null
done

"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening srv.out 2>/dev/null && break; sleep 0.1; done
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
for m in 1 2 49; do
  r=$(curl -s -o resp -w '%{http_code}' -H 'Content-Type: application/json' --data "{\"code\":\"${CODE[$m]}\",\"username\":\"mem$m\",\"password\":\"$PW\"}" "$B/api/enrol")
  [ "$r" = 201 ] || fail "enrol m$m: $r $(cat resp)"
done
for u in ins bank resa revw rev2 inst admn adm2 mem1 mem2 mem49; do login $u; done
# call USER METHOD PATH [BODY] -> "STATUS BODY"
call() {
  local u=$1 m=$2 p=$3 body=${4:-}
  local code
  if [ -n "$body" ]; then
    code=$(curl -s -o resp -w '%{http_code}' -b "jar_$u" -X "$m" -H "X-CSRF-Token: ${CSRF[$u]}" -H 'Content-Type: application/json' --data-binary @- "$B$p" <<<"$body")
  else
    code=$(curl -s -o resp -w '%{http_code}' -b "jar_$u" -X "$m" -H "X-CSRF-Token: ${CSRF[$u]}" "$B$p")
  fi
  echo "$code $(cat resp)"
}
expect() { # expect CODE "STATUS BODY" what
  [[ "$2" == "$1 "* ]] || fail "$3: expected $1, got $2"
}
long() { head -c "$1" /dev/zero | tr '\0' x; }

# ---- finding 12: over-long fields ----
# too_long USER PATH BODY FIELD LEN MAX what
too_long() {
  local r; r=$(call "$1" POST "$2" "$3")
  expect 400 "$r" "$7"
  [[ "$r" == *"field $4: $5 bytes, at most $6"* ]] || fail "$7: message must name field $4 and its maximum $6: $r"
}
L=$(long 10000)
too_long ins /api/points/rules "{\"rule\":\"$L\",\"kind\":\"steps\",\"threshold\":5000,\"points\":20}" rule 10000 31 "point rule name"
r=$(call ins GET /api/points/rules); [[ "$r" != *"$(long 31)"* ]] || fail "a cut rule name was stored"
expect 200 "$(call ins POST /api/points/rules "{\"rule\":\"$(long 31)\",\"kind\":\"steps\",\"threshold\":5000,\"points\":20}")" "rule name at its maximum"
too_long ins /api/points/rules "{\"rule\":\"r\",\"kind\":\"steps\",\"item\":\"$(long 24)\",\"threshold\":1,\"points\":1}" item 24 23 "point rule item"
# A title is counted in characters (200 kanji fit), refused past 200, never cut
r=$(call resa POST /api/biobank/applications "{\"title\":\"$(long 300)\",\"pi\":\"Dr A\",\"purpose\":\"academic_research\",\"specimens\":\"serum:1\"}")
expect 400 "$r" "application title"
[[ "$r" == *'"field_too_long"'*"field title: 300 characters, at most 200"* ]] || fail "application title: message must name field title and its maximum 200: $r"
too_long resa /api/biobank/applications "{\"title\":\"t\",\"pi\":\"Dr A\",\"purpose\":\"academic_research\",\"data_items\":\"$(long 600)\",\"specimens\":\"serum:1\"}" data_items 600 511 "application data items"
too_long bank /api/biobank/specimens "{\"donor_source\":\"hosp-a\",\"donor_record\":\"r1\",\"type\":\"serum\",\"collected_on\":\"2026-05-01\",\"quantity\":1,\"unit\":\"mL\",\"site\":\"$(long 100)\"}" site 100 63 "specimen site"
too_long bank /api/biobank/specimens "{\"donor_source\":\"hosp-a\",\"donor_record\":\"r1\",\"type\":\"serum\",\"collected_on\":\"2026-05-01\",\"quantity\":1,\"unit\":\"$(long 16)\"}" unit 16 15 "specimen unit"
[ "$(kb_sql d research "SELECT COUNT(*) FROM bb_specimens")" = 0 ] || fail "a specimen was registered from an over-long field"
too_long admn /api/users "{\"username\":\"$(long 64)\",\"password\":\"$PW\",\"role\":\"reviewer\",\"org\":\"irb\"}" username 64 63 "user name"
too_long admn /api/users "{\"username\":\"u1\",\"password\":\"$PW\",\"role\":\"reviewer\",\"org\":\"$(long 200)\"}" org 200 63 "user org"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM accounts WHERE username = 'u1' OR length(username) > 60")" = 0 ] || fail "an account was made from an over-long field"
too_long admn /api/tokens "{\"scope\":\"read $(long 40)\"}" scope 45 31 "token scope"
r=$(curl -s -o resp -w '%{http_code}' -H 'Content-Type: application/json' --data "{\"username\":\"$(long 100)\",\"password\":\"x\"}" "$B/api/login")
[ "$r" = 400 ] && grep -q 'field username: 100 bytes, at most 63' resp || fail "login with an over-long username: $r $(cat resp)"
# FHIR transaction: an over-long family name is refused with an OperationOutcome naming the field
bundle() {
  cat <<JSON
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Patient","identifier":[
   {"system":"urn:oid:1.2.392.200119.6.101","value":"06140019"},
   {"system":"urn:oid:1.2.392.200119.6.205","value":"$2"}],
   "name":[{"family":"$1","given":["花子"]}],"gender":"female","birthDate":"1980-02-29"},"request":{"method":"POST","url":"Patient"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"urn:oid:1.2.392.200119.6.1005","code":"9N001000000000001"}]},
   "effectiveDateTime":"2025-06-01","performer":[{"identifier":{"system":"urn:oid:1.2.392.200119.6.102","value":"1410000001"}}],"valueQuantity":{"value":158.4,"code":"cm"}},"request":{"method":"POST","url":"Observation"}}]}
JSON
}
r=$(call inst POST /fhir "$(bundle "$(long 2000)" 777)")
expect 400 "$r" "FHIR over-long name"
[[ "$r" == *OperationOutcome*'name.family'*'2000 bytes, at most'* ]] || fail "FHIR over-long name: $r"
r=$(call inst POST /fhir "$(bundle 見本 "$(long 300)")")
expect 400 "$r" "FHIR over-long insured number"
[[ "$r" == *'identifier.value'*'300 bytes, at most'* ]] || fail "FHIR over-long identifier: $r"
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams")" = 50 ] || fail "an exam was imported from an over-long field"

# ---- finding 4: the review queue is paged and audited per person ----
reads() { call "$1" GET /api/me/audit | cut -d' ' -f2- | jget '.entries.filter(a=>a.action==="linkage.review.read").length'; }
for m in mem1 mem2 mem49; do [ "$(reads $m)" = 0 ] || fail "$m: review reads before any"; done
r=$(call admn GET /api/review)
expect 200 "$r" "review page 1"
J=$(cut -d' ' -f2- <<<"$r")
[ "$(jget '.total' <<<"$J"),$(jget '.limit' <<<"$J"),$(jget '.offset' <<<"$J"),$(jget '.pairs.length' <<<"$J")" = "25,20,0,20" ] \
  || fail "default page: total,limit,offset,pairs = $(jget '.total' <<<"$J"),$(jget '.limit' <<<"$J"),$(jget '.offset' <<<"$J"),$(jget '.pairs.length' <<<"$J")"
[ "$(jget '.pairs[0].records[0].record_id' <<<"$J")" = r1 ] || fail "oldest pair first: $(jget '.pairs[0].records[0]' <<<"$J")"
# each pair shown: one read under each of its two people, in their own "who used my data"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'linkage.review.read'")" = 40 ] || fail "per-person review audit: $(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'linkage.review.read'")"
[ "$(kb_sql d research "SELECT COUNT(DISTINCT pseudonym) FROM audit_log WHERE action = 'linkage.review.read' AND pseudonym <> ''")" = 40 ] || fail "review reads need both pseudonyms"
[ "$(reads mem1)" = 1 ] && [ "$(reads mem2)" = 1 ] || fail "members of pair 1 do not see the read: $(reads mem1) $(reads mem2)"
[ "$(reads mem49)" = 0 ] || fail "m49 is not on page 1 but sees a read"
r=$(call admn GET '/api/review?limit=10&offset=20')
expect 200 "$r" "review page 3"
J=$(cut -d' ' -f2- <<<"$r")
[ "$(jget '.pairs.map(p=>p.records[0].record_id).join()' <<<"$J")" = "r41,r43,r45,r47,r49" ] || fail "last page: $J"
[ "$(jget '.total' <<<"$J")" = 25 ] || fail "total on the last page"
[ "$(reads mem49)" = 1 ] || fail "m49 does not see the read of its pair"
for q in 'limit=0' 'limit=101' 'limit=x' 'offset=-1' 'offset=1e3'; do
  r=$(call admn GET "/api/review?$q"); expect 400 "$r" "review ?$q"
  [[ "$r" == *"query ${q%%=*}"* ]] || fail "review ?$q names the parameter: $r"
done
expect 200 "$(call admn GET '/api/review?limit=100')" "review at the maximum page"
expect 403 "$(call mem1 GET /api/review)" "member reads the queue"

# ---- finding 10: separation of duties on applications ----
r=$(call resa POST /api/biobank/applications '{"title":"Lipids","pi":"Dr A","purpose":"academic_research","data_items":"HbA1c","specimens":"serum:1"}')
expect 201 "$r" "apply"
APP=$(cut -d' ' -f2- <<<"$r" | jget .id)
expect 200 "$(call admn POST /api/biobank/applications/$APP/transition '{"to":"screening"}')" screening
r=$(call admn POST /api/biobank/applications/$APP/transition '{"to":"scientific_review"}')
expect 200 "$r" "to review"
[ "$(cut -d' ' -f2- <<<"$r" | jget '.next.join()')" = "returned_for_changes,withdrawn" ] || fail "opener's next states: $r"
r=$(call admn GET /api/biobank/applications/$APP)
[ "$(cut -d' ' -f2- <<<"$r" | jget '.next.join()')" = "returned_for_changes,withdrawn" ] || fail "opener's next states (GET): $r"
r=$(call adm2 GET /api/biobank/applications/$APP)
[ "$(cut -d' ' -f2- <<<"$r" | jget '.next.join()')" = "ethics_review,returned_for_changes,rejected,withdrawn" ] || fail "other admin's next states: $r"
# the admin who opened the review decides neither by review nor by transition
r=$(call admn POST /api/biobank/applications/$APP/reviews '{"decision":"approve"}')
expect 403 "$r" "opener approves"
[[ "$r" == *'"separation_of_duties"'*'admn@ops may not decide scientific_review -> ethics_review after moving it to review'* ]] || fail "opener approves: $r"
expect 403 "$(call admn POST /api/biobank/applications/$APP/transition '{"to":"ethics_review"}')" "opener moves on"
expect 403 "$(call admn POST /api/biobank/applications/$APP/reviews '{"decision":"reject"}')" "opener rejects"
# another reviewer decides; an application's own researcher never sees a decision offered
expect 200 "$(call revw POST /api/biobank/applications/$APP/reviews '{"decision":"approve","comment":"sound"}')" "reviewer approves"
r=$(call resa GET /api/biobank/applications/$APP)
[ "$(cut -d' ' -f2- <<<"$r" | jget '.next.join()')" = "withdrawn" ] || fail "applicant's next states: $r"
r=$(call rev2 POST /api/biobank/applications/$APP/reviews '{"decision":"approve","comment":"ethics ok"}')
expect 200 "$r" "ethics approval"
[ "$(cut -d' ' -f2- <<<"$r" | jget .state)" = approved ] || fail "not approved: $r"
[ "$(kb_sql d research "SELECT COUNT(*) FROM bb_reviews WHERE app_id = $APP")" = 2 ] || fail "refused decisions left reviews"

echo ok
