#!/usr/bin/env bash
# The national FHIR checkup report (JP eCheckupReport) in and out:
#   - GET /fhir/Composition/{exam}/$document: the member's own exam as a
#     document Bundle, valid R4 (npm `fhir` validator), with every element
#     the IG's profiles require (tests/tools/echeckup_required.mjs), audited,
#     own exams only;
#   - round trips: hc08 XML -> store -> document -> store -> hc08 -> store,
#     and a document with a 詳細な健診 group (COMP + RSON), method, reference
#     range, interpretation and a data-absent value -> store -> document ->
#     store, comparing every stored field of every observation;
#   - `kenbank import FILE.json`, and broken documents answered with an
#     OperationOutcome naming Bundle.entry[i] (POST) or quarantined (import);
#   - the IG's own example Bundle, when its repository mirror is on this
#     machine (it is not ours to commit).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }
XSD="$SHARED/data/kenshin/xsd/hc08_V08.xsd"
IG_MIRROR=/work/.mirror/jami-fhir-jp-wg+eCheckupReport/repo
HAVE_FHIR_NPM=0
[ -d "$ROOT/node_modules/fhir" ] && HAVE_FHIR_NPM=1
[ "$HAVE_FHIR_NPM" = 1 ] || echo "NOTICE: node_modules/fhir absent (run scripts/npm.sh): R4 validation skipped"

"$K" gen --people 4 --years 1 --seed 21 --out pop --format xml --no-noise >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/xml >/dev/null
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username u_inst --role institution --org org-inst >/dev/null
RID=$(kb_sql d identity "SELECT record_id FROM person_records WHERE source='kenshin' ORDER BY id LIMIT 1")
CODE=$("$K" enrol --data d --source kenshin --record-id "$RID")

"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening srv.out 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start"
B="http://127.0.0.1:$PORT"
req() { # METHOD PATH BODY-FILE-OR-EMPTY CURL-ARGS... -> "status body"
  local m=$1 p=$2 body=${3:-}; shift 3 || shift $#
  local out
  if [ -n "$body" ]; then out=$(curl -s -o resp -w '%{http_code}' -X "$m" -H 'Content-Type: application/fhir+json' --data-binary "@$body" "$@" "$B$p")
  else out=$(curl -s -o resp -w '%{http_code}' -X "$m" "$@" "$B$p"); fi
  echo "$out $(cat resp)"
}
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=eval("JSON.parse(s)"+process.argv[1]);console.log(v===undefined?"":v)})' "$1"; }
# jedit IN OUT 'js on d': a changed copy of a JSON file
jedit() { node -e 'const fs=require("fs");const d=JSON.parse(fs.readFileSync(process.argv[1]));eval(process.argv[3]);fs.writeFileSync(process.argv[2],JSON.stringify(d))' "$1" "$2" "$3"; }
echo "{\"code\":\"$CODE\",\"username\":\"member\",\"password\":\"$PW\"}" > enrol.json
r=$(req POST /api/enrol enrol.json); [[ "$r" == 201* ]] || fail "enrol: $r"
login() {
  echo "{\"username\":\"$2\",\"password\":\"$PW\"}" > login.json
  local r; r=$(req POST /api/login login.json -c "jar_$1"); [[ "$r" == 200* ]] || fail "login $2: $r"
  echo "-b jar_$1 -H X-CSRF-Token:$(cut -d' ' -f2- <<<"$r" | jget .csrf)" > "as_$1"
}
login member member; login inst u_inst
AS_INST=$(cat as_inst)

# Every stored field of every observation of an exam, in stored order.
OBSQ="SELECT code||'|'||type||'|'||coalesce(num_text,'')||'|'||coalesce(unit,'')||'|'||coalesce(coded,'')||'|'||
 coalesce(coded_system,'')||'|'||coalesce(text,'')||'|'||coalesce(null_flavor,'')||'|'||not_done||'|'||coalesce(interp,'')||'|'||
 grp||'|'||coalesce(rel,'')||'|'||coalesce(method,'')||'|'||coalesce(ref_low,'')||'|'||coalesce(ref_high,'')
 FROM observations WHERE exam_id = %s ORDER BY seq"
obs_of() { kb_sql "$1" research "$(printf "$OBSQ" "$2")"; }
# What a schema-valid hc08 document carries: all but the sender's
# interpretation, method and reference range (hc08_V08.xsd has no place for
# them; hc08_write.h).
obs_hc08() { obs_of "$1" "$2" | awk -F'|' 'BEGIN{OFS="|"} {$10=""; $13=""; $14=""; $15=""; print}'; }
same_obs() { # DIR1 EXAM1 DIR2 EXAM2 WHAT
  obs_of "$1" "$2" > a.txt; obs_of "$3" "$4" > b.txt
  [ -s a.txt ] || fail "$5: no observations in exam $2"
  diff a.txt b.txt > d.txt || fail "$5: observations differ:
$(cat d.txt)"
}
check_doc() { # FILE WHAT: R4-valid and every IG-required element present
  if [ "$HAVE_FHIR_NPM" = 1 ]; then node "$TOOLS/fhir_validate.mjs" "$1" > val.txt || fail "$2 is not valid R4: $(head -20 val.txt)"; fi
  node "$TOOLS/echeckup_required.mjs" "$1" > req.txt || fail "$2 lacks required elements: $(cat req.txt)"
}
new_exam() { kb_sql d research "SELECT MAX(id) FROM exams"; }

# ---- 1. the member's own exam as a document ----
E1=$(req GET /api/me/exams "" -b jar_member | cut -d' ' -f2- | jget '.exams[0].id')
[ -n "$E1" ] || fail "member has no exam"
code=$(curl -s -D hdr -o doc1.json -w '%{http_code}' -b jar_member "$B/fhir/Composition/$E1/\$document")
[ "$code" = 200 ] || fail "\$document: $code $(cat doc1.json)"
grep -qi '^content-type: application/fhir+json' hdr || fail "\$document content type: $(cat hdr)"
check_doc doc1.json "the document of a generated exam"
ITEMS='.entry.filter(e=>e.resource.resourceType=="Observation" && e.resource.code.coding[0].system=="urn:oid:1.2.392.200119.6.1005").length'
[ "$(jget "$ITEMS" < doc1.json)" = "$(obs_of d "$E1" | wc -l)" ] || fail "one Observation per stored observation"
# the generator writes 詳細な健診 creatinine groups: one ObservationGroup here
[ "$(obs_of d "$E1" | awk -F'|' '$11 > 0' | wc -l)" -gt 0 ] || fail "test setup: the generated exam has no group"
[ "$(jget '.entry.filter(e=>e.resource.hasMember).length' < doc1.json)" = 1 ] || fail "the creatinine group as an ObservationGroup"
# identity from the identity store: the generator's truth for that record
IFS=, read -r _ _ _ _ FKANA _ _ BIRTH _ _ INSURER _ NUMBER _ < <(grep ",$RID," pop/identities.csv)
[ "$(jget '.entry[1].resource.birthDate' < doc1.json)" = "$BIRTH" ] || fail "Patient.birthDate"
[ "$(jget '.entry[1].resource.name.find(n=>n.extension[0].valueCode=="SYL").family' < doc1.json)" = "$FKANA" ] || fail "Patient kana name"
[ "$(jget '.entry.find(e=>e.resource.resourceType=="Organization" && e.resource.type[0].coding[0].code=="ins").resource.identifier[0].value' < doc1.json)" = "$INSURER" ] ||
  fail "insurer Organization"
[ "$(jget '.entry.find(e=>e.resource.resourceType=="Coverage").resource.extension.find(x=>x.url.endsWith("InsuredPersonNumber")).valueString' < doc1.json)" = "$NUMBER" ] ||
  fail "Coverage 番号"
kb_sql d research "SELECT action||' '||result||' '||detail FROM audit_log" | grep -q "^fhir.document ok exam $E1 eCheckupReport$" ||
  fail "document read not audited: $(kb_sql d research "SELECT action, detail FROM audit_log" | tail -3)"
OTHER=$(kb_sql d research "SELECT id FROM exams WHERE subject_id <> (SELECT subject_id FROM exams WHERE id = $E1) LIMIT 1")
r=$(req GET "/fhir/Composition/$OTHER/\$document" "" -b jar_member); [[ "$r" == 404*OperationOutcome* ]] || fail "IDOR on \$document: $r"
r=$(req GET "/fhir/Composition/x1/\$document" "" -b jar_member); [[ "$r" == 404* ]] || fail "garbage id: $r"
r=$(req GET "/fhir/Composition/$E1/\$document" ""); [[ "$r" == 401* ]] || fail "anonymous \$document: $r"
r=$(req GET "/fhir/Composition/$E1/\$document" "" $AS_INST); [[ "$r" == 403* ]] || fail "institution reads a member's document: $r"

# ---- 2. hc08 -> store -> document -> store -> hc08 -> store ----
r=$(req POST /fhir doc1.json $AS_INST); [[ "$r" == 200*'"type":"transaction-response"'*'201 Created'* ]] || fail "POST document: $r"
E1B=$(new_exam)
[ "$E1B" != "$E1" ] || fail "POST document stored no exam"
[ "$(kb_sql d research "SELECT COUNT(DISTINCT subject_id) FROM exams WHERE id IN ($E1, $E1B)")" = 1 ] ||
  fail "the document's exam was not linked to the same person"
same_obs d "$E1" d "$E1B" "hc08 -> document -> store"
[ "$(kb_sql d research "SELECT exam_date||' '||performer_org FROM exams WHERE id = $E1")" = \
  "$(kb_sql d research "SELECT exam_date||' '||performer_org FROM exams WHERE id = $E1B")" ] || fail "exam date / institution differ"
curl -s -o back.xml -b jar_member "$B/api/me/export.xml?exam=$E1B"
xmllint --noout --schema "$XSD" back.xml 2>xsd.err || fail "document-imported exam as hc08: $(cat xsd.err)"
"$K" init --data d3 >/dev/null
"$K" import --data d3 --source rt back.xml >imp.out 2>&1 || fail "re-import hc08: $(cat imp.out)"
E3=$(kb_sql d3 research "SELECT MAX(id) FROM exams")
obs_hc08 d "$E1" > a.txt; obs_hc08 d3 "$E3" > b.txt
diff a.txt b.txt > d.txt || fail "hc08 -> document -> store -> hc08: observations differ:
$(cat d.txt)"
grep -q '|COMP|' b.txt && grep -q '|RSON|' b.txt || fail "the group's relations did not survive the hc08 leg"

# ---- 3. everything the model holds: a group, reason, method, range, flags ----
CRE=3C015000002399901 EGFR=8A065000002391901 WHY=3C015161002399949
jedit doc1.json rich.json '
d.identifier.value = "rich-1";
// the generated creatinine group goes; ours replaces it
const gone = new Set(d.entry.filter(e=>e.resource.hasMember || /^(3C015|8A065)/.test(e.resource.code?.coding?.[0]?.code || "")).map(e=>e.fullUrl));
d.entry = d.entry.filter(e=>!gone.has(e.fullUrl));
for (const s of d.entry[0].resource.section) s.entry = s.entry.filter(r=>!gone.has(r.reference));
const subj = d.entry[1].fullUrl, when = d.entry.find(e=>e.resource.resourceType=="Encounter").resource.period.start;
const item = (c) => ({coding:[{system:"urn:oid:1.2.392.200119.6.1005", code:c}]});
const obs = (url, o) => ({fullUrl:url, resource:Object.assign({resourceType:"Observation", status:"final", subject:{reference:subj}, effectiveDateTime:when}, o)});
const rel = (url, c) => ({reference:url, extension:[{url:"http://jpfhir.jp/fhir/Common/Extension/StructureDefinition/observatioGroupRelationship", valueCode:c}]});
const u = (n) => "urn:uuid:00000000-0000-4000-8000-00000000000" + n;
d.entry.push(obs(u(1), {code:{coding:[{system:"http://jpfhir.jp/fhir/eCheckup/CodeSystem/observationGroup-codes", code:"3C015"}]},
  hasMember:[rel(u(2),"COMP"), rel(u(3),"COMP"), rel(u(4),"RSON")]}));
d.entry.push(obs(u(2), {code:item("'$CRE'"), valueQuantity:{value:1.10, unit:"mg/dL", system:"http://unitsofmeasure.org", code:"mg/dL"},
  interpretation:[{coding:[{system:"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", code:"H"}]}],
  method:{coding:[{system:"urn:oid:1.2.392.200119.6.1007", code:"3C01510000"}]},
  referenceRange:[{low:{value:0.60}, high:{value:1.00}}]}));
d.entry.push(obs(u(3), {code:item("'$EGFR'"), dataAbsentReason:{coding:[{system:"http://terminology.hl7.org/CodeSystem/data-absent-reason", code:"error"}], text:"測定不能"}}));
d.entry.push(obs(u(4), {code:item("'$WHY'"), valueString:"詳細な健診の基準に該当"}));
'
# the value as written: 1.10 must survive JSON parsing (cJSON would say 1.1)
sed -i 's/"value":1\.1,"unit"/"value":1.10,"unit"/; s/"low":{"value":0\.6}/"low":{"value":0.60}/; s/"high":{"value":1}/"high":{"value":1.00}/' rich.json
grep -q '"value":1.10,' rich.json && grep -q '"value":0.60' rich.json || fail "test setup: rich.json numbers"
r=$(req POST /fhir rich.json $AS_INST); [[ "$r" == 200*'201 Created'* ]] || fail "POST rich document: $r"
E2=$(new_exam)
obs_of d "$E2" | grep -qx "$CRE|1|1.10|mg/dL|||||0|H|1|COMP|3C01510000|0.60|1.00" || fail "creatinine as sent: $(obs_of d "$E2" | grep $CRE)"
obs_of d "$E2" | grep -qx "$EGFR|1||||||OTH|0||1|COMP|||" || fail "eGFR not measurable: $(obs_of d "$E2" | grep $EGFR)"
obs_of d "$E2" | grep -qx "$WHY|4|||||詳細な健診の基準に該当||0||1|RSON|||" || fail "reason: $(obs_of d "$E2" | grep $WHY)"
curl -s -o doc2.json -b jar_member "$B/fhir/Composition/$E2/\$document"
check_doc doc2.json "the document of a grouped exam"
grep -q '"value":1.10,' doc2.json || fail "the document writes the value as stored (1.10)"
[ "$(jget '.entry.find(e=>e.resource.hasMember).resource.hasMember.map(m=>m.extension[0].valueCode).join()' < doc2.json)" = COMP,COMP,RSON ] ||
  fail "the group's members and relations"
[ "$(jget '.entry.find(e=>e.resource.dataAbsentReason).resource.dataAbsentReason.coding[0].code' < doc2.json)" = error ] ||
  fail "eGFR's data-absent reason"
r=$(req POST /fhir doc2.json $AS_INST); [[ "$r" == 200*'201 Created'* ]] || fail "POST document of the grouped exam: $r"
same_obs d "$E2" d "$(new_exam)" "grouped exam -> document -> store"

# ---- 4. kenbank import FILE.json ----
"$K" init --data d4 >/dev/null
"$K" import --data d4 --source files doc2.json >imp.out 2>&1 || fail "import doc2.json: $(cat imp.out)"
same_obs d "$E2" d4 "$(kb_sql d4 research "SELECT MAX(id) FROM exams")" "kenbank import of a document"
jedit doc2.json nopatient.json 'd.entry = d.entry.filter(e=>e.resource.resourceType!="Patient")'
set +e; "$K" import --data d4 --source files nopatient.json >imp.out 2>&1; rc=$?; set -e
[ "$rc" = 3 ] || fail "a broken document must exit 3 (quarantined): $rc $(cat imp.out)"
"$K" quarantine list --data d4 | grep -q 'nopatient.json.*Bundle.entry.*Patient' || fail "quarantine: $("$K" quarantine list --data d4)"

# ---- 5. broken documents: 400 OperationOutcome naming entry, field and rule ----
NO=$(jget '.entry.findIndex(e=>e.resource.resourceType=="Observation" && e.resource.valueQuantity)' < doc1.json)
r=$(req POST /fhir nopatient.json $AS_INST)
[[ "$r" == 400*'"resourceType":"OperationOutcome"'*'Bundle.entry'*'a Patient entry'* ]] || fail "missing Patient: $r"
jedit doc1.json nocode.json "delete d.entry[$NO].resource.code"
r=$(req POST /fhir nocode.json $AS_INST)
[[ "$r" == 400*"Bundle.entry[$NO].resource.code.coding"*'item code is required'* ]] || fail "Observation without code: $r"
jedit doc1.json badvalue.json "d.entry[$NO].resource.valueQuantity.value = 'tall'"
r=$(req POST /fhir badvalue.json $AS_INST)
[[ "$r" == 400*'not a number"'*'"expression":["Bundle.entry['"$NO"'].resource.valueQuantity.value"]'* ]] || fail "bad value: $r"
jedit doc1.json nocomp.json 'd.entry.push(d.entry.shift())'
r=$(req POST /fhir nocomp.json $AS_INST); [[ "$r" == 400*'Composition must be the first entry'* ]] || fail "Composition not first: $r"
jedit doc1.json noorg.json 'd.entry = d.entry.filter(e=>!(e.resource.resourceType=="Organization" && e.resource.type[0].coding[0].code=="prov"))'
r=$(req POST /fhir noorg.json $AS_INST); [[ "$r" == 400*'10-digit institution code'* ]] || fail "no institution: $r"

# ---- 6. the IG's own example ----
if git --git-dir="$IG_MIRROR" rev-parse HEAD >/dev/null 2>&1; then
  git --git-dir="$IG_MIRROR" show HEAD:packages_snapshot/jp-eChekupReport.r4.tgz |
    tar xzO package/Bundle-Bundle-eCheckupReport-Sample-01.json > ig.json
  [ "$(jget '.entry.filter(e=>e.resource.resourceType=="Observation").length' < ig.json)" = 44 ] || fail "IG example: not the 44-Observation Bundle"
  r=$(req POST /fhir ig.json $AS_INST); [[ "$r" == 200*'transaction-response'* ]] || fail "IG example refused: $r"
  [ "$(cut -d' ' -f2- <<<"$r" | jget '.entry.filter(e=>(e.response.location||"").startsWith("Observation/")).length')" = 44 ] ||
    fail "IG example: 44 Observations stored: $r"
  EIG=$(new_exam)
  [ "$(kb_sql d research "SELECT exam_date||' '||performer_org FROM exams WHERE id = $EIG")" = "2020-04-04 1311234567" ] ||
    fail "IG example: exam date / institution"
  # 44 Observations; 既往歴 and 自覚症状 each carry their free text as a
  # component with its own item code, stored as the item hc08 has for it.
  [ "$(obs_of d "$EIG" | wc -l)" = 46 ] || fail "IG example: 44 + 2 component observations: $(obs_of d "$EIG" | wc -l)"
  obs_of d "$EIG" | grep -qx "9A751000000000001|1|149|mm\[Hg\]|||||0|N|0|||80|130" || fail "IG example: blood pressure with range"
  obs_of d "$EIG" | grep -q "^9N056160400000049|4|||||ヘルニア、膀胱炎|" || fail "IG example: component text"
  obs_of d "$EIG" | grep -q "^3F015000002327101|1|60|mg/dL|.*|3F01510000|50|149$" || fail "IG example: method and range"
  [ "$(kb_sql d identity "SELECT COUNT(*) FROM person_records WHERE record_id = 'fhir-12345'")" = 1 ] || fail "IG example: identity record"
else
  echo "NOTICE: $IG_MIRROR absent: the IG example test is skipped"
fi

kill -TERM $SRV; wait $SRV || fail "server exit status"
trap - EXIT
echo ok
