#!/usr/bin/env bash
# 精密検査 follow-up and process indicators (issue 22): a 要精検 screen opens
# a case; a 精密検査結果 of the same screening for the same person closes it,
# whether it came as a document or as CSV; a case without a result lapses
# when its window (the fiscal year and the next) ends; a result outside the
# window or of another screening closes nothing.  `kenbank report screening`
# counts 受診者数, 要精検者数, 精検受診者数, 未把握者数 and がん by the national
# definitions and suppresses small cells.  Listings are audited.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIX="$ROOT/tests/fixtures/screening"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
jedit() { node -e 'const fs=require("fs");const d=JSON.parse(fs.readFileSync(process.argv[1]));eval(process.argv[3]);fs.writeFileSync(process.argv[2],JSON.stringify(d))' "$1" "$2" "$3"; }

"$K" init --data d >/dev/null
"$K" import --data d --source city "$FIX/lung_primary.json" >/dev/null || fail "primary document"
cases() { "$K" screening cases --data d "$@" | tail -n +2 | cut -d, -f2-; }
[ "$(cases --today 2025-07-01)" = "lung,2025,2025-06-12,open,,,2027-03-31" ] || fail "open case: $(cases --today 2025-07-01)"
[ "$(cases --today 2027-04-01)" = "lung,2025,2025-06-12,lapsed,,,2027-03-31" ] || fail "lapsed after the window: $(cases --today 2027-04-01)"

# the 精密検査 result arrives as a document of its own (検診区分 2 精密検査)
jedit "$FIX/lung_primary.json" result.json '
d.identifier.value = "urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f10";
d.entry[0].resource.event[0].code[0].coding[0].code = "2";
d.entry[0].resource.event[0].period = {start: "2025-08-20", end: "2025-08-20"};
d.entry[3].resource.period = {start: "2025-08-20", end: "2025-08-20"};
const obs = (code, sys, v, disp) => ({fullUrl: "urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f" + code.slice(3, 5), resource: {
  resourceType: "Observation", status: "final",
  category: [{coding: [{system: "http://terminology.hl7.org/CodeSystem/observation-category", code: "exam"}]}],
  code: {coding: [{system: "http://jpfhir.jp/fhir/eCheckup/CodeSystem/jlac10", code: code}]},
  subject: {reference: d.entry[1].fullUrl},
  valueCodeableConcept: {coding: [{system: sys, code: v, display: disp}]}}});
d.entry = d.entry.slice(0, 6).concat([
  obs("9P507000000000011", "urn:oid:1.2.392.100495.100.2150", "3", "「２：肺がんであった者」のうち臨床病期0～Ⅰ期"),
  obs("9P509000000000011", "urn:oid:1.2.392.100495.100.2011", "1", "なし")]);'
"$K" import --data d --source hospital result.json >imp.out 2>&1 || fail "result document: $(cat imp.out)"
[ "$(cases --today 2025-09-01)" = "lung,2025,2025-06-12,closed,cancer,2025-08-20,2027-03-31" ] || fail "closed by the document: $(cases --today 2025-09-01)"

# the tumour tissue the 精密検査 took, banked under the hospital's record of
# that examination, belongs to the same person as the screen
"$K" biobank register --data d --donor-source hospital --donor-record 'fhir-urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f10' \
  --type frozen_tissue --collected 2025-08-20 --quantity 50 --unit mg >/dev/null || fail "biobank register from the 精密検査"
[ "$(kb_sql d research "SELECT pseudonym FROM bb_specimens")" = "$("$K" screening cases --data d | tail -n +2 | cut -d, -f1)" ] \
  || fail "the specimen's donor is not the screened person"

# CSV: three more people of the same municipality
H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9P504000000000011,9P507000000000011,9P582000000000011,9P585000000000011'
cat > s.csv <<CSV
$H
city,c1,2025-05-01,1410000017,141003,A1,3001,00,例示,一郎,レイジ,イチロウ,1,1950-01-10,2310023,横浜市中区1,2,,1,
city,c2,2025-05-02,1410000017,141003,A1,3002,00,例示,二郎,レイジ,ジロウ,1,1975-02-10,2310023,横浜市中区2,2,,,
city,c3,2025-05-03,1410000017,141003,A1,3003,00,例示,三子,レイジ,ミツコ,2,1980-03-10,2310023,横浜市中区3,1,,2,
city,c1r,2025-07-15,1410000017,141003,A1,3001,00,例示,一郎,レイジ,イチロウ,1,1950-01-10,2310023,横浜市中区1,,1,,
city,c2r,2027-05-01,1410000017,141003,A1,3002,00,例示,二郎,レイジ,ジロウ,1,1975-02-10,2310023,横浜市中区2,,5,,
city,c3r,2025-06-30,1410000017,141003,A1,3003,00,例示,三子,レイジ,ミツコ,2,1980-03-10,2310023,横浜市中区3,,2,,
CSV
"$K" import --data d --source city s.csv >imp.out 2>&1 || fail "CSV: $(cat imp.out)"
[ "$(kb_sql d research "SELECT COUNT(DISTINCT subject_id) FROM exams")" = 4 ] || fail "the CSV rows link to 3 persons (4 with the document's)"
got=$(cases --today 2026-01-01 | sort)
want=$(printf '%s\n' \
  "lung,2025,2025-05-01,closed,done,2025-07-15,2027-03-31" \
  "lung,2025,2025-05-02,open,,,2027-03-31" \
  "lung,2025,2025-06-12,closed,cancer,2025-08-20,2027-03-31" \
  "colon,2025,2025-05-03,open,,,2027-03-31" | sort)
# c1: lung result by CSV closes it; c2: its result comes after the window;
# c3: referred for colon, her lung result closes nothing
[ "$got" = "$want" ] || fail "cases after CSV:
$got
want
$want"
[ "$(cases --today 2026-01-01 --state open | wc -l)" = 2 ] || fail "--state open"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'screening.cases'")" -ge 1 ] || fail "listing not audited"

# the indicators, unsuppressed: lung 2025 (4 screened: 3 referred, 2 examined, 1 cancer)
rep() { "$K" report screening --data d --today 2026-01-01 "$@"; }
row=$(rep --threshold 1 | grep '^lung,2025,計,計,')
[ "$row" = "lung,2025,計,計,4,3,75.000,2,66.667,1,33.333,1,25.000,33.333,1" ] || fail "lung totals: $row"
row=$(rep --threshold 1 | grep '^colon,2025,計,計,')
[ "$row" = "colon,2025,計,計,2,1,50.000,0,0.000,1,100.000,0,0.000,0.000,1" ] || fail "colon totals: $row"
row=$(rep --threshold 1 | grep '^lung,2025,女,60-69,')
[ "$row" = "lung,2025,女,60-69,1,1,100.000,1,100.000,0,0.000,1,100.000,100.000,0" ] || fail "lung 女 60-69: $row"
# default threshold 10: every count here is small, so shown as <10, rates empty
row=$(rep | grep '^lung,2025,計,計,')
[ "$row" = "lung,2025,計,計,<10,<10,,<10,,<10,,<10,,,<10" ] || fail "suppressed: $row"
[ "$(rep --fiscal-year 2024 | wc -l)" = 1 ] || fail "--fiscal-year 2024 has no rows"
# the HTML page: the same figures in the table, the rates in the chart data
rep --threshold 1 --html --out r1.html
grep -q '<tr><td>肺がん</td><td>2025</td><td>計</td><td>計</td><td>4</td><td>3</td><td>75.000</td><td>2</td><td>66.667</td><td>1</td><td>33.333</td><td>1</td><td>25.000</td><td>33.333</td><td>1</td></tr>' r1.html \
  || fail "HTML lung totals row"
grep -q '"labels":\["肺がん 2025","大腸がん 2025"\],"series":\[\[75.000,50.000\],\[66.667,0.000\],\[33.333,100.000\],\[33.333,0.000\]\]' r1.html \
  || fail "HTML chart data: $(grep -o '"labels".*' r1.html | head -c 300)"
rep --html --out r10.html
grep -q '<td class="sup">&lt;10</td>' r10.html && grep -q '"series":\[\[null,null\]' r10.html || fail "HTML suppression"
! grep -q '例示\|ミホン\|R-' r10.html || fail "identity or pseudonyms in the report"
# ---- the municipality's own open cases over the API (pseudonymous, audited) ----
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username u_city --role insurer --org city >/dev/null
KENBANK_PASSWORD=$PW "$K" user add --data d --username u_other --role insurer --org other-town >/dev/null
"$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || fail "server did not start: $(cat srv.err)"
B="http://127.0.0.1:$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)"
login() { curl -s -o /dev/null -c "jar_$1" -H 'Content-Type: application/json' -d "{\"username\":\"$1\",\"password\":\"$PW\"}" "$B/api/login"; }
login u_city; login u_other
open_cases() { curl -s -b "jar_$1" "$B/api/screening/cases?state=open" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s).cases;console.log(c.map(x=>[x.screening,x.screen_date,x.state,x.pseudonym.slice(0,2)].join(" ")).sort().join(";"))})'; }
# c2's lung case and c3's colon case are open today (the window of FY2025 ends 2027-03-31)
if [[ "$(date -u +%F)" < 2027-04-01 ]]; then
  [ "$(open_cases u_city)" = "colon 2025-05-03 open R-;lung 2025-05-02 open R-" ] || fail "city's open cases: $(open_cases u_city)"
fi
[ -z "$(open_cases u_other)" ] || fail "another municipality sees nothing: $(open_cases u_other)"
r=$(curl -s -b jar_u_city "$B/api/screening/cases")
[[ "$r" != *'"family_name"'* && "$r" != *'例示'* && "$r" != *'3002'* ]] || fail "identity in the case list: $r"
[ "$(curl -s -o /dev/null -w '%{http_code}' -b jar_u_city "$B/api/screening/cases?state=bogus")" = 400 ] || fail "bad state must be 400"
# the audit batcher writes asynchronously: wait for the entries, bounded
audited() { [ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'screening.cases' AND actor = 'u_city@city'")" -ge 2 ]; }
kb_wait_until 20 audited || fail "API listing not audited: $(kb_sql d research "SELECT actor, action FROM audit_log WHERE action = 'screening.cases'")"
# a cancer screening is not a 特定健診: the checkup dashboard and the insurer
# report count none of these exams
[ "$(kb_sql d research "SELECT kind || ':' || COUNT(*) FROM exams GROUP BY kind")" = "screening:8" ] || fail "exam kinds: $(kb_sql d research "SELECT kind, COUNT(*) FROM exams GROUP BY kind")"
[ "$(curl -s -b jar_u_city "$B/api/insurer/dashboard" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).years.length))')" = 0 ] \
  || fail "screenings counted as checkups on the dashboard: $(curl -s -b jar_u_city "$B/api/insurer/dashboard")"
"$K" report insurer --data d --insurer 141003 --fiscal-year 2025 --json --out ir.json 2>/dev/null
node -e 'const r=JSON.parse(require("fs").readFileSync("ir.json"));if(r.participation.examinees!==0){console.error(JSON.stringify(r).slice(0,300));process.exit(1)}' \
  || fail "screenings counted as checkups in the insurer report"

# the dashboard's figures: the municipality's own screens, small cells null
ind() { curl -s -b "jar_$1" "$B/api/screening/indicators" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);console.log(o.scope+" "+o.rows.map(r=>[r.screening,r.fiscal_year,r.sex,r.screened,r.referred,r.referral_rate].map(String).join(":")).join(" "))})'; }
[ "$(ind u_city)" = "city lung:2025:male:null:null:null lung:2025:female:null:null:null lung:2025:all:null:null:null colon:2025:male:null:0:null colon:2025:female:null:null:null colon:2025:all:null:null:null" ] \
  || fail "city's indicators: $(ind u_city)"
[ "$(ind u_other)" = "other-town " ] || fail "another municipality's indicators: $(ind u_other)"

# the municipality's staff may read the contact details of its own case:
# the identity of the record it sent itself, audited; nobody else may
P2=$("$K" screening cases --data d | grep ',lung,2025,2025-05-02,' | cut -d, -f1)
r=$(curl -s -w ' %{http_code}' -b jar_u_city "$B/api/screening/contact?pseudonym=$P2&screening=lung&fiscal_year=2025")
[[ "$r" == *'"family_name":"例示","given_name":"二郎"'*'"address":"横浜市中区2"'*' 200' ]] || fail "contact of an own case: $r"
r=$(curl -s -w ' %{http_code}' -b jar_u_other "$B/api/screening/contact?pseudonym=$P2&screening=lung&fiscal_year=2025")
[[ "$r" == *' 404' && "$r" != *例示* ]] || fail "another municipality must not read it: $r"
r=$(curl -s -w ' %{http_code}' -b jar_u_city "$B/api/screening/contact?pseudonym=$P2&screening=colon&fiscal_year=2025")
[[ "$r" == *' 404' ]] || fail "no colon case for c2: $r"
contact_audited() { [ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'screening.contact' AND pseudonym = '$P2'")" = 1 ]; }
kb_wait_until 20 contact_audited || fail "contact read not audited once"

# ---- the member sees their screening answers and follow-up in plain words ----
CODE=$("$K" enrol --data d --source city --record-id 'fhir-urn:uuid:6b1d7c1e-2f0a-4c55-9d3e-0b7a1e5c9f01')
curl -s -o enrol.out -H 'Content-Type: application/json' -d "{\"code\":\"$CODE\",\"username\":\"hanako\",\"password\":\"$PW\"}" "$B/api/enrol"
login hanako
curl -s -b jar_hanako "$B/api/me/results" > me.json
node -e '
const r = JSON.parse(require("fs").readFileSync("me.json"));
const items = r.exams.flatMap(x => x.items);
const refer = items.find(i => i.code === "9P504000000000011"), res = items.find(i => i.code === "9P507000000000011");
const want = (c, m) => { if (!c) { console.error(m, JSON.stringify(r)); process.exit(1); } };
want(refer && refer.screening === "lung" && refer.answer === "要精密検査（肺がん疑い）" && refer.explanation.startsWith("精密検査が必要です"), "refer item");
want(res && res.answer.includes("肺がんであった者") && res.explanation.startsWith("精密検査でがんが見つかりました"), "result item");
const f = r.screening_followup;
want(f.length === 1 && f[0].screening === "lung" && f[0].state === "closed" && f[0].result === "cancer" &&
     f[0].result_date === "2025-08-20" && f[0].explanation === "精密検査の結果が届いています。", "follow-up");
' || fail "member's results"
echo "screening_followup: ok"
