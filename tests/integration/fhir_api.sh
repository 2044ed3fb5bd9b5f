#!/usr/bin/env bash
# The member's MHLW hc08 download (schema-valid, round trips through the hc08
# reader, audited, own data only) and the FHIR facade beyond Observation:
# Specimen, Consent, ResearchStudy, Group, and the transaction import.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }
XSD="$SHARED/data/kenshin/xsd/hc08_V08.xsd"

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
cat > a.csv <<CSV
$H
inst-a,r1,2023-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,169.8,66.0,5.5,1
inst-a,r1b,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1
inst-a,r2,2024-06-12,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市川崎区2,158.0,50.1,5.2,1
CSV
"$K" init --data d >/dev/null
"$K" import --data d --source inst-a a.csv >/dev/null
PW=password-for-tests
for role in institution biobank researcher reviewer provider admin; do
  KENBANK_PASSWORD=$PW "$K" user add --data d --username "u_$role" --role "$role" --org "org-$role" >/dev/null
done
KENBANK_PASSWORD=$PW "$K" user add --data d --username u_res2 --role researcher --org org-r2 >/dev/null
CODE_A=$("$K" enrol --data d --source inst-a --record-id r1)
CODE_B=$("$K" enrol --data d --source inst-a --record-id r2)

"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start"
B="http://127.0.0.1:$PORT"
req() {
  local m=$1 p=$2 body=${3:-}; shift 3 || shift $#
  local out
  if [ -n "$body" ]; then out=$(curl -s -o resp -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data "$body" "$@" "$B$p")
  else out=$(curl -s -o resp -w '%{http_code}' -X "$m" "$@" "$B$p"); fi
  echo "$out $(cat resp)"
}
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=eval("JSON.parse(s)"+process.argv[1]);console.log(v===undefined?"":v)})' "$1"; }
declare -A CSRF
login() {
  local r; r=$(req POST /api/login "{\"username\":\"$2\",\"password\":\"$PW\"}" -c "jar_$1")
  [[ "$r" == 200* ]] || fail "login $2: $r"
  CSRF[$1]=$(cut -d' ' -f2- <<<"$r" | jget .csrf)
}
r=$(req POST /api/enrol "{\"code\":\"$CODE_A\",\"username\":\"taro\",\"password\":\"$PW\"}"); [[ "$r" == 201* ]] || fail "enrol A: $r"
r=$(req POST /api/enrol "{\"code\":\"$CODE_B\",\"username\":\"hanako\",\"password\":\"$PW\"}"); [[ "$r" == 201* ]] || fail "enrol B: $r"
login taro taro; login hanako hanako
for role in institution biobank researcher reviewer provider admin; do login "$role" "u_$role"; done
login res2 u_res2
as() { echo "-b jar_$1 -H X-CSRF-Token:${CSRF[$1]}"; }

# ---- 1. hc08 XML download ----
EXAMS=$(req GET /api/me/exams "" -b jar_taro | cut -d' ' -f2-)
OLD=$(jget '.exams.find(x=>x.exam_date=="2023-05-10").id' <<<"$EXAMS")
NEW=$(jget '.exams.find(x=>x.exam_date=="2024-05-10").id' <<<"$EXAMS")
HANAKO=$(req GET /api/me/exams "" -b jar_hanako | cut -d' ' -f2- | jget '.exams[0].id')
[ -n "$OLD" ] && [ -n "$NEW" ] && [ -n "$HANAKO" ] || fail "exam ids: $EXAMS"
code=$(curl -s -D hdr -o latest.xml -w '%{http_code}' -b jar_taro "$B/api/me/export.xml")
[ "$code" = 200 ] || fail "export.xml: $code $(cat latest.xml)"
grep -qi '^content-type: application/xml' hdr || fail "export.xml content type: $(cat hdr)"
xmllint --noout --schema "$XSD" latest.xml 2>xsd.err || fail "latest.xml is not valid hc08: $(cat xsd.err)"
grep -q '<effectiveTime value="20240510"/>' latest.xml || fail "default must be the latest exam"
grep -q 'extension="06140019"' latest.xml || fail "insurer number missing"
grep -q 'extension="r1b"' latest.xml || fail "the source record id should be the exam's own (r1b)"
grep -q '<birthTime value="19700401"/>' latest.xml || fail "birth date missing"
code=$(curl -s -o old.xml -w '%{http_code}' -b jar_taro "$B/api/me/export.xml?exam=$OLD")
[ "$code" = 200 ] || fail "export.xml?exam=$OLD: $code"
xmllint --noout --schema "$XSD" old.xml 2>xsd.err || fail "old.xml: $(cat xsd.err)"
grep -q '<effectiveTime value="20230510"/>' old.xml || fail "?exam= must pick that exam"
grep -q 'extension="r1"' old.xml || fail "old exam's record id"
# no IDOR: another person's exam id is absent; garbage is a 400
r=$(req GET "/api/me/export.xml?exam=$HANAKO" "" -b jar_taro); [[ "$r" == 404* ]] || fail "IDOR on export.xml: $r"
r=$(req GET "/api/me/export.xml?exam=1x" "" -b jar_taro); [[ "$r" == 400*"exam"* ]] || fail "bad exam id: $r"
r=$(req GET "/api/me/export.xml" ""); [[ "$r" == 401* ]] || fail "anonymous export: $r"
# round trip: the hc08 reader (kenbank import) gives back the same observations
"$K" init --data d2 >/dev/null
"$K" import --data d2 --source rt latest.xml >imp.out 2>&1 || fail "re-import: $(cat imp.out)"
q="SELECT code||'|'||type||'|'||coalesce(num_text,'')||'|'||coalesce(unit,'')||'|'||coalesce(coded,'') FROM observations WHERE exam_id=%s ORDER BY code"
kb_sql d research "$(printf "$q" "$NEW")" > orig.txt
kb_sql d2 research "$(printf "$q" "(SELECT MAX(id) FROM exams)")" > back.txt
[ -s orig.txt ] || fail "no observations for exam $NEW"
diff orig.txt back.txt >/dev/null || fail "round trip differs: $(diff orig.txt back.txt)"
[ "$(kb_sql d2 research "SELECT exam_date FROM exams")" = 2024-05-10 ] || fail "round trip exam date"
"$K" audit list --data d 2>/dev/null | grep -q 'export.hc08' || kb_sql d research "SELECT action FROM audit_log" | grep -q '^export.hc08$' || fail "export not audited"

# ---- 2. FHIR resources ----
ctype() { curl -s -D - -o /dev/null "$@" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Tt]ype: //p'; }
[[ "$(ctype -b jar_taro "$B/fhir/Consent")" == application/fhir+json* ]] || fail "Consent content type"
# Consent: taro grants provider sharing; he sees his own, the provider sees it while in force
r=$(req POST /api/me/consents '{"purpose":"provider_sharing","provider":"org-provider","granted":true}' $(as taro)); [[ "$r" == 201* ]] || fail "grant: $r"
r=$(req POST /api/me/consents '{"purpose":"recontact","granted":true}' $(as taro)); [[ "$r" == 201* ]] || fail "grant recontact: $r"
r=$(req GET /fhir/Consent "" -b jar_taro); [[ "$r" == 200*'"total":2'* ]] || fail "own consents: $r"
PSEUD=$(cut -d' ' -f2- <<<"$r" | jget '.entry[0].resource.patient.reference.slice(8)')
CID=$(cut -d' ' -f2- <<<"$r" | jget '.entry.find(e=>e.resource.category[0].coding[0].code=="provider_sharing").resource.id')
RID=$(cut -d' ' -f2- <<<"$r" | jget '.entry.find(e=>e.resource.category[0].coding[0].code=="recontact").resource.id')
[[ "$(cut -d' ' -f2- <<<"$r" | jget '.entry[0].resource.provision.type')" == permit ]] || fail "provision type: $r"
r=$(req GET "/fhir/Consent?patient=Patient/$PSEUD" "" -b jar_provider); [[ "$r" == 200*provider_sharing*'"total":1'* ]] || fail "provider consent search: $r"
r=$(req GET "/fhir/Consent/$CID" "" -b jar_provider); [[ "$r" == 200*'"resourceType":"Consent"'* ]] || fail "provider consent read: $r"
r=$(req GET "/fhir/Consent/$RID" "" -b jar_provider); [[ "$r" == 404* ]] || fail "provider must not read recontact consent: $r"
r=$(req GET "/fhir/Consent/$CID" "" -b jar_hanako); [[ "$r" == 404* ]] || fail "IDOR on Consent: $r"
r=$(req GET "/fhir/Consent?patient=Patient/$PSEUD" "" -b jar_hanako); [[ "$r" == 404* ]] || fail "IDOR on Consent search: $r"
r=$(req GET "/fhir/Consent" "" -b jar_provider); [[ "$r" == 400*patient* ]] || fail "provider search without patient: $r"
r=$(req POST /api/me/consents '{"purpose":"provider_sharing","provider":"org-provider","granted":false}' $(as taro)); [[ "$r" == 201* ]] || fail "withdraw: $r"
r=$(req GET "/fhir/Consent?patient=Patient/$PSEUD" "" -b jar_provider); [[ "$r" == 200*'"total":0'* ]] || fail "after withdrawal: $r"
r=$(req GET /fhir/Consent "" -b jar_taro); [[ "$r" == 200*'"status":"inactive"'* ]] || fail "withdrawn consent must read inactive: $r"
r=$(req GET /fhir/Consent ""); [[ "$r" == 401* ]] || fail "anonymous Consent: $r"

# Specimen: biobank registers two for taro (consent first), one for hanako
r=$(req POST /api/me/consents '{"purpose":"academic_research","granted":true}' $(as taro)); [[ "$r" == 201* ]] || fail "grant research: $r"
PSEUD_B=$(req GET /fhir/Consent "" -b jar_hanako >/dev/null; kb_sql d research "SELECT pseudonym FROM subjects WHERE pseudonym <> '$PSEUD' LIMIT 1")
mk() { req POST /api/biobank/specimens "{\"barcode\":\"$1\",\"donor\":\"$2\",\"type\":\"$3\",\"collected_on\":\"2024-05-10\",\"quantity\":1.5,\"unit\":\"mL\"}" $(as biobank); }
r=$(mk BC0001 "$PSEUD" serum); [[ "$r" == 201* ]] || fail "specimen 1: $r"
r=$(mk BC0002 "$PSEUD" plasma); [[ "$r" == 201* ]] || fail "specimen 2: $r"
r=$(mk BC0003 "$PSEUD_B" serum); [[ "$r" == 201* ]] || fail "specimen 3: $r"
r=$(req GET /fhir/Specimen "" -b jar_taro); [[ "$r" == 200*'"total":2'* ]] || fail "own specimens: $r"
r=$(req GET "/fhir/Specimen?type=serum" "" -b jar_taro); [[ "$r" == 200*BC0001*'"total":1'* ]] || fail "own specimens by type: $r"
r=$(req GET "/fhir/Specimen?type=serum" "" -b jar_biobank); [[ "$r" == 200*'"total":2'* ]] || fail "biobank by type: $r"
r=$(req GET "/fhir/Specimen?subject=Patient/$PSEUD_B" "" -b jar_biobank); [[ "$r" == 200*BC0003*'"total":1'* ]] || fail "biobank by subject: $r"
SB=$(cut -d' ' -f2- <<<"$r" | jget '.entry[0].resource.id')
r=$(req GET "/fhir/Specimen/$SB" "" -b jar_taro); [[ "$r" == 404* ]] || fail "IDOR on Specimen: $r"
r=$(req GET "/fhir/Specimen?subject=Patient/$PSEUD_B" "" -b jar_taro); [[ "$r" == 404* ]] || fail "IDOR on Specimen search: $r"
r=$(req GET "/fhir/Specimen/$SB" "" -b jar_biobank); [[ "$r" == 200*'"resourceType":"Specimen"'*'"collectedDateTime":"2024-05-10"'* ]] || fail "Specimen read: $r"

# ResearchStudy + Group: researcher's own only; counts for researchers
r=$(req POST /api/biobank/applications '{"title":"HbA1c study","pi":"Dr A","organisation":"Univ","purpose":"academic_research","specimens":"serum:1"}' $(as researcher))
[[ "$r" == 201* ]] || fail "application: $r"
APP=$(cut -d' ' -f2- <<<"$r" | jget '.id')
r=$(req GET /fhir/ResearchStudy "" -b jar_researcher); [[ "$r" == 200*'"status":"in-review"'*'"total":1'* ]] || fail "own studies: $r"
r=$(req GET /fhir/ResearchStudy "" -b jar_res2); [[ "$r" == 200*'"total":0'* ]] || fail "other researcher's studies: $r"
r=$(req GET "/fhir/ResearchStudy/$APP" "" -b jar_res2); [[ "$r" == 404* ]] || fail "other researcher reads study: $r"
r=$(req GET "/fhir/ResearchStudy/$APP" "" -b jar_reviewer); [[ "$r" == 200*'"title":"HbA1c study"'* ]] || fail "reviewer reads study: $r"
# ship specimen 1 to the study directly in the store (the distribution workflow is the biobank's test)
S1=$(kb_sql d research "SELECT id FROM bb_specimens WHERE barcode='BC0001'")
kb_sql d research "INSERT INTO bb_distributions (app_id, specimen_id, reserved_at, shipped_at) VALUES ($APP, $S1, '2024-06-01', '2024-06-02')"
r=$(req GET "/fhir/Group/$APP" "" -b jar_researcher); [[ "$r" == 200*'"quantity":1'* ]] || fail "group count: $r"
[[ "$r" != *'"member"'* ]] || fail "researchers get counts only: $r"
r=$(req GET "/fhir/Group/$APP" "" -b jar_biobank); [[ "$r" == 200*'"member"'*"$PSEUD"* ]] || fail "group members for biobank: $r"
r=$(req GET "/fhir/Group/$APP" "" -b jar_res2); [[ "$r" == 404* ]] || fail "other researcher reads group: $r"

# ---- 3. transaction import ----
bundle() { # $1 date $2 height $3 extra entry
  cat <<JSON
{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Patient","identifier":[
   {"system":"urn:oid:1.2.392.200119.6.101","value":"06140019"},
   {"system":"urn:oid:1.2.392.200119.6.204","value":"AB"},
   {"system":"urn:oid:1.2.392.200119.6.205","value":"124"},
   {"system":"urn:oid:1.2.392.200119.6.211","value":"00"}],
   "name":[{"family":"見本","given":["花子"]},
     {"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation","valueCode":"SYL"}],"family":"ミホン","given":["ハナコ"]}],
   "address":[{"text":"川崎市川崎区2","postalCode":"210-0001"}],
   "gender":"female","birthDate":"1980-02-29"},"request":{"method":"POST","url":"Patient"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"urn:oid:1.2.392.200119.6.1005","code":"9N001000000000001"}]},
   "effectiveDateTime":"$1","performer":[{"identifier":{"system":"urn:oid:1.2.392.200119.6.102","value":"${4:-1410000001}"}}],"valueQuantity":{"value":$2,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}},"request":{"method":"POST","url":"Observation"}},
 {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"urn:oid:1.2.392.200119.6.1005","code":"9N006000000000001"}]},
   "effectiveDateTime":"$1","valueQuantity":{"value":51.0,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}},"request":{"method":"POST","url":"Observation"}}${3:-}]}
JSON
}
r=$(req POST /fhir "$(bundle 2025-06-01 158.4)" $(as institution)); [[ "$r" == 200*'"type":"transaction-response"'*'201 Created'* ]] || fail "transaction: $r"
LOC=$(cut -d' ' -f2- <<<"$r" | jget '.entry[1].response.location')
[[ "$LOC" == Observation/*-0 ]] || fail "location: $LOC"
# the new exam is hanako's (linked by insurer number + 番号 + birth date)
r=$(req GET "/fhir/$LOC" "" -b jar_hanako); [[ "$r" == 200*'"effectiveDateTime":"2025-06-01"'*'"value":158.4'* ]] || fail "hanako reads the imported Observation: $r"
r=$(req GET "/fhir/$LOC" "" -b jar_taro); [[ "$r" == 404* ]] || fail "taro must not see it: $r"
# ... and goes out again as schema-valid hc08 (her latest exam now)
curl -s -o fhir_in.xml -b jar_hanako "$B/api/me/export.xml"
xmllint --noout --schema "$XSD" fhir_in.xml 2>xsd.err || fail "FHIR-imported exam as hc08: $(cat xsd.err)"
grep -q '<effectiveTime value="20250601"/>' fhir_in.xml && grep -q 'value="158.4"' fhir_in.xml || fail "FHIR-imported exam content: $(head -c 600 fhir_in.xml)"
# invalid entries: OperationOutcome naming entry index, field and rule
r=$(req POST /fhir "$(bundle 2025-06-01 '"tall"')" $(as institution)); [[ "$r" == 400*'OperationOutcome'*'entry[1]'*valueQuantity.value*number* ]] || fail "bad value: $r"
r=$(req POST /fhir "$(bundle 2025-06-01 158 ',{"resource":{"resourceType":"Observation","code":{"coding":[{"system":"urn:oid:1.2.392.200119.6.1005","code":"9N001000000000001"}]},"effectiveDateTime":"2025-07-01","valueString":"x"}}')" $(as institution))
[[ "$r" == 400*'entry[3]'*effectiveDateTime*'share the exam date'* ]] || fail "mixed dates: $r"
r=$(req POST /fhir "$(bundle 2025-06-01 158 "" 14100)" $(as institution)); [[ "$r" == 400*'entry[1]'*performer*10-digit* ]] || fail "no institution number: $r"
r=$(req POST /fhir '{"resourceType":"Bundle","type":"batch","entry":[]}' $(as institution)); [[ "$r" == 400*'Bundle.type'* ]] || fail "batch: $r"
r=$(req POST /fhir "$(bundle 2025-06-01 158 | sed 's/"birthDate":"1980-02-29"//; s/"female",/"female"/')" $(as institution)); [[ "$r" == 400*'entry[0]'*birthDate* ]] || fail "no birth date: $r"
r=$(req POST /fhir "$(bundle 2025-06-01 158)" $(as hanako)); [[ "$r" == 403* ]] || fail "individuals may not import: $r"
kb_sql d research "SELECT action||' '||result FROM audit_log" | grep -q '^fhir.transaction ok$' || fail "transaction not audited"
# resubmitting the same bundle is a duplicate (no second exam)
n1=$(kb_sql d research "SELECT COUNT(*) FROM exams")
r=$(req POST /fhir "$(bundle 2025-06-01 158.4)" $(as institution)); [[ "$r" == 200*'200 OK'* ]] || fail "resubmission: $r"
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams")" = "$n1" ] || fail "duplicate created a new exam"

# ---- CapabilityStatement lists exactly what is served ----
CAP=$(req GET /fhir/metadata "" | cut -d' ' -f2-)
got=$(jget '.rest[0].resource.map(r=>r.type).sort().join(",")' <<<"$CAP")
want=$("$K" serve --routes | sed -n 's#^GET|/fhir/\([A-Z][A-Za-z]*\).*#\1#p' | sort -u | paste -sd,)
[ "$got" = "$want" ] || fail "CapabilityStatement resources [$got], route table [$want]"
jget '.rest[0].interaction[0].code' <<<"$CAP" | grep -qx transaction || fail "transaction interaction missing"

kill -TERM $SRV; wait $SRV || fail "server exit status"
trap - EXIT
echo ok
