#!/usr/bin/env bash
# Cancer screening documents of the JP eMunicipalCheckup IG (issue 22), by
# `kenbank import FILE.json` and POST /fhir:
#   - our own synthetic lung screening document (tests/fixtures/screening,
#     written from the IG's profiles, not copied) is accepted, linked to a
#     person, and queryable (a cohort on 9P504000000000011 >= 0 counts it);
#   - each IG rule kenbank checks is refused with the element named
#     (Bundle.entry[i].resource.field) and the rule: Composition and
#     Observation status, code system, a display that contradicts its code,
#     Observation.category, the answer's system, code and display, the
#     ObservationGroup invariant (cancelled => no members);
#   - the IG's own lung example and its ng variants, read from the IG's
#     repository mirror when it is on this machine (it is not ours to commit).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIX="$ROOT/tests/fixtures/screening"
IG_MIRROR=/work/.mirror/jami-fhir-jp-wg+eMunicipalCheckupIG/repo
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }
# jedit IN OUT 'js on d': a changed copy of a JSON file
jedit() { node -e 'const fs=require("fs");const d=JSON.parse(fs.readFileSync(process.argv[1]));eval(process.argv[3]);fs.writeFileSync(process.argv[2],JSON.stringify(d))' "$1" "$2" "$3"; }
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=eval("JSON.parse(s)"+process.argv[1]);console.log(v===undefined?"":v)})' "$1"; }

# ---- 1. kenbank import of our lung document ----
"$K" init --data d >/dev/null
"$K" import --data d --source city "$FIX/lung_primary.json" >imp.out 2>&1 || fail "import: $(cat imp.out)"
grep -q '^exams accepted      1 ' imp.out || fail "not accepted: $(cat imp.out)"
[ "$("$K" cohort --data d --all-subjects '9P504000000000011 >= 0')" = 1 ] || fail "cohort on 9P504 must count the document"
[ "$("$K" cohort --data d --all-subjects '9P504000000000011 = 2 AND 9N737000000000012 >= 600')" = 1 ] || fail "cohort on 要精検 and 喫煙指数"
[ "$(kb_sql d research "SELECT exam_date || '|' || performer_org FROM exams")" = "2025-06-12|1410000017" ] || fail "exam date from the Encounter"
# the two X-ray items are one 一連検査グループ, the group itself no item
[ "$(kb_sql d research "SELECT code || ':' || grp || ':' || COALESCE(rel, '') FROM observations ORDER BY seq" | paste -sd' ')" = \
  "9P502000000000011:1:COMP 9P503160800000049:1:COMP 9P504000000000011:0: 9P506000000000011:0: 9P501000000000011:0: 9N737000000000012:0:" ] \
  || fail "stored observations: $(kb_sql d research "SELECT code, grp, rel FROM observations")"
# linked to a person like every record: the identity store holds the examinee
[ "$(kb_sql d identity "SELECT COUNT(*) FROM person_records WHERE record_id = 'fhir-urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f01'")" = 1 ] \
  || fail "no identity record for the document"

# ---- 2. each rule: refused (quarantined) with the element and the rule ----
refused() { # NAME 'js edit' 'expected field' 'expected rule fragment'
  jedit "$FIX/lung_primary.json" "$1.json" "$2"
  set +e; "$K" import --data d --source city "$1.json" >imp.out 2>&1; local rc=$?; set -e
  [ "$rc" = 3 ] || fail "$1: must be quarantined (exit 3), got $rc: $(cat imp.out)"
  local row; row=$("$K" quarantine list --data d | grep ",$1.json,") || fail "$1: not in quarantine"
  [[ "$row" == *",$3,"* ]] || fail "$1: field $3 expected: $row"
  [[ "$row" == *"$4"* ]] || fail "$1: rule '$4' expected: $row"
}
refused comp_status 'd.entry[0].resource.status="preliminary"' 'Bundle.entry[0].resource.status' "status 'final', got 'preliminary'"
refused obs_status 'd.entry[9].resource.status="registered"' 'Bundle.entry[9].resource.status' "got 'registered'"
refused value_system 'd.entry[10].resource.valueCodeableConcept.coding[0].system="urn:oid:1.2.392.100495.100.2011"' \
  'Bundle.entry[10].resource.valueCodeableConcept.coding[0].system' 'takes its answers from urn:oid:1.2.392.100495.100.2010'
refused value_display 'd.entry[10].resource.valueCodeableConcept.coding[0].display="あり"' \
  'Bundle.entry[10].resource.valueCodeableConcept.coding[0].display' "display 'あり' contradicts code 1 ('なし')"
refused value_code 'd.entry[9].resource.valueCodeableConcept.coding[0].code="7"' \
  'Bundle.entry[9].resource.valueCodeableConcept.coding[0].code' "'7' is not a code of urn:oid:1.2.392.100495.100.2140"
refused code_display 'd.entry[9].resource.code.coding[0].display="肺がん検診の精密検査結果"' \
  'Bundle.entry[9].resource.code.coding[0].display' "contradicts code 9P504000000000011"
refused code_system 'd.entry[9].resource.code.coding[0].system="http://loinc.org"' \
  'Bundle.entry[9].resource.code.coding[0].system' "must be coded in http://jpfhir.jp/fhir/eCheckup/CodeSystem/jlac10"
refused category 'd.entry[10].resource.category[0].coding[0].code="imaging"' \
  'Bundle.entry[10].resource.category[0].coding[0].code' "category 'imaging' is not the one the IG gives"
refused group_cancelled 'd.entry[6].resource.status="cancelled"' 'Bundle.entry[6].resource.status' \
  'a cancelled ObservationGroup must have no hasMember'
refused group_code 'd.entry[6].resource.code.coding[0].code="9P599"' 'Bundle.entry[6].resource.code.coding[0].code' \
  "'9P599' is not a group code"
# an unknown item code is the importer's: the record is quarantined, not dropped
refused unknown_code 'd.entry[11].resource.code.coding[0].code="9P599000000000011"' '9P599000000000011' 'unknown item code 9P599000000000011'
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams")" = 1 ] || fail "a refused document stored an exam"

# ---- 3. POST /fhir ----
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username u_inst --role institution --org org-inst >/dev/null
"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || fail "server did not start"
B="http://127.0.0.1:$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)"
req() { # METHOD PATH BODY-FILE CURL-ARGS... -> "status body"
  local m=$1 p=$2 body=$3; shift 3
  echo "$(curl -s -o resp -w '%{http_code}' -X "$m" -H 'Content-Type: application/fhir+json' --data-binary "@$body" "$@" "$B$p") $(cat resp)"
}
echo "{\"username\":\"u_inst\",\"password\":\"$PW\"}" > login.json
r=$(req POST /api/login login.json -c jar); [[ "$r" == 200* ]] || fail "login: $r"
AS_INST="-b jar -H X-CSRF-Token:$(cut -d' ' -f2- <<<"$r" | jget .csrf)"
jedit "$FIX/lung_primary.json" post.json 'd.identifier.value="urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f02"; d.entry[12].resource.valueInteger=800'
r=$(req POST /fhir post.json $AS_INST)
[[ "$r" == 200*'"type":"transaction-response"'*'201 Created'* ]] || fail "POST screening document: $r"
[ "$(kb_sql d research "SELECT COUNT(*) FROM exams")" = 2 ] || fail "POST stored no exam"
[ "$(kb_sql d research "SELECT COUNT(DISTINCT pseudonym) FROM exams")" = 1 ] || fail "the same examinee must link to one person"
# a 精密検査 result by API closes the person's follow-up case
[[ "$("$K" screening cases --data d | tail -n +2 | cut -d, -f2-6)" =~ ^lung,2025,2025-06-12,(open|lapsed),$ ]] || fail "no result before the API's"
jedit "$FIX/lung_primary.json" result.json '
d.identifier.value = "urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f20";
d.entry[0].resource.event[0].code[0].coding[0].code = "2";
d.entry[3].resource.period = {start: "2025-07-30", end: "2025-07-30"};
d.entry = d.entry.slice(0, 6).concat([{fullUrl: "urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f21", resource: {
  resourceType: "Observation", status: "final",
  category: [{coding: [{system: "http://terminology.hl7.org/CodeSystem/observation-category", code: "exam"}]}],
  code: {coding: [{system: "http://jpfhir.jp/fhir/eCheckup/CodeSystem/jlac10", code: "9P507000000000011"}]},
  subject: {reference: d.entry[1].fullUrl},
  valueCodeableConcept: {coding: [{system: "urn:oid:1.2.392.100495.100.2150", code: "1", display: "異常認めず"}]}}}]);'
r=$(req POST /fhir result.json $AS_INST)
[[ "$r" == 200*'201 Created'* ]] || fail "POST 精密検査 result: $r"
[ "$("$K" screening cases --data d | tail -n +2 | cut -d, -f2-7)" = "lung,2025,2025-06-12,closed,done,2025-07-30" ] \
  || fail "the case must be closed by the API result: $("$K" screening cases --data d)"

r=$(req POST /fhir obs_status.json $AS_INST)
[[ "$r" == 400*'"resourceType":"OperationOutcome"'*'"expression":["Bundle.entry[9].resource.status"]'* ]] || fail "POST bad status: $r"
r=$(req POST /fhir value_display.json $AS_INST)
[[ "$r" == 400*"contradicts code 1"*'"expression":["Bundle.entry[10].resource.valueCodeableConcept.coding[0].display"]'* ]] || fail "POST bad display: $r"

# ---- 4. the IG's own example and ng variants ----
if git --git-dir="$IG_MIRROR" rev-parse HEAD >/dev/null 2>&1; then
  ig() { git --git-dir="$IG_MIRROR" show "HEAD:samples/$1"; }
  ig Bundle-example17.json > ig17.json
  "$K" init --data g >/dev/null
  # The sample's entry 22 (9P501 症状の有無) says code 2 with display なし;
  # code system 2052 has 2 = あり, and the IG's own FSH instance
  # (Inline-Instance-for-GOFSH-GENERATED-ID-21-23) says #2 "あり".  A display
  # contradicting its code is the rule its ng-result-2010 variant breaks,
  # so kenbank refuses the sample as published, naming the element ...
  set +e; "$K" import --data g --source city ig17.json >imp.out 2>&1; rc=$?; set -e
  [ "$rc" = 3 ] || fail "IG example as published: the contradicting display at entry 22 must be refused: $(cat imp.out)"
  "$K" quarantine list --data g | grep -q "ig17.json,Bundle.entry\[22\].resource.valueCodeableConcept.coding\[0\].display,display 'なし' contradicts code 2 ('あり')" \
    || fail "IG example: $("$K" quarantine list --data g)"
  # ... and accepts it with that display as the IG's own source has it.
  jedit ig17.json ig17fix.json 'd.entry[22].resource.valueCodeableConcept.coding[0].display="あり"'
  "$K" import --data g --source city ig17fix.json >imp.out 2>&1 || fail "IG example (display as in the IG's FSH): $(cat imp.out)"
  [ "$("$K" cohort --data g --all-subjects '9P504000000000011 >= 0')" = 1 ] || fail "IG example: cohort on 9P504 must count it"
  [ "$(kb_sql g research "SELECT COUNT(*) FROM observations")" = 14 ] || fail "IG example: 14 items (two groups' 5 members + 9)"
  [ "$(kb_sql g research "SELECT exam_date || '|' || performer_org FROM exams")" = "2021-10-01|1311234567" ] || fail "IG example: date/institution"
  # each ng variant that breaks a rule kenbank checks, refused at its element
  ng() { # VARIANT 'expected field' 'rule fragment'
    ig "Bundle-example17-$1.json" > "$1.json"
    jedit "$1.json" "$1.json" 'd.entry[22].resource.valueCodeableConcept.coding[0].display="あり"'
    set +e; "$K" import --data g --source city "$1.json" >imp.out 2>&1; local rc=$?; set -e
    [ "$rc" = 3 ] || fail "IG $1 must be refused: $(cat imp.out)"
    local row; row=$("$K" quarantine list --data g | grep ",$1.json,") || fail "IG $1: not quarantined"
    [[ "$row" == *",$2,"* && "$row" == *"$3"* ]] || fail "IG $1: expected $2 / $3: $row"
  }
  ng ng-obs-1 'Bundle.entry[9].resource.status' "got 'registered'"
  ng ng-obs-g1 'Bundle.entry[8].resource.status' 'a cancelled ObservationGroup must have no hasMember'
  ng ng-obs-9P506000000000011-system 'Bundle.entry[17].resource.valueCodeableConcept.coding[0].system' 'takes its answers from urn:oid:1.2.392.100495.100.2010'
  ng ng-obs-9P506000000000011-disp 'Bundle.entry[17].resource.code.coding[0].display' 'contradicts code 9P506000000000011'
  ng ng-obs-9P506000000000011-cat 'Bundle.entry[17].resource.category[0].coding[0].code' "category 'imaging'"
  ng ng-result-2010 'Bundle.entry[17].resource.valueCodeableConcept.coding[0].display' "display 'あり' contradicts code 1 ('なし')"
  # the other ng files are templates with unexpanded $placeholders: not JSON
  # (some are byte-identical, so each goes into a data directory of its own)
  for v in ng ng-cmp-2 ng-obs-3 ng-pat-1; do
    "$K" init --data "t_$v" >/dev/null
    ig "Bundle-example17-$v.json" > "t_$v.json"
    if node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "t_$v.json" 2>/dev/null; then
      fail "IG $v is JSON now: add its rule to this test"; fi
    set +e; "$K" import --data "t_$v" --source city "t_$v.json" >/dev/null 2>&1; rc=$?; set -e
    [ "$rc" = 3 ] && "$K" quarantine list --data "t_$v" | grep -q 'Bundle.resourceType,the body must be a FHIR Bundle (JSON)' \
      || fail "IG template $v must be refused as not JSON"
  done
  [ "$(kb_sql g research "SELECT COUNT(*) FROM exams")" = 1 ] || fail "IG: only the valid example is stored"
else
  echo "NOTICE: $IG_MIRROR absent: the IG example test is skipped"
fi
echo "screening_fhir: ok"
