#!/usr/bin/env bash
# kenbank serve end to end: every endpoint x every role (exact allowed set),
# no IDOR between two individuals, CSRF, token scope, login throttle, body limit,
# static files, consent withdrawal on the provider paths (API and FHIR),
# audit chain intact then tampered, and a clean SIGTERM shutdown.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; [ -f srv.err ] && tail -20 srv.err >&2; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
cat > a.csv <<CSV
$H
inst-a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1
inst-a,r2,2024-06-12,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市川崎区2,158.0,50.1,5.2,1
CSV
"$K" init --data d >/dev/null
"$K" import --data d --source inst-a a.csv >/dev/null
PW=password-for-tests
declare -A ORG=([institution]=inst-a [insurer]=inst-a [biobank]=bb-1 [researcher]=uni-1 [reviewer]=irb-1 [provider]=clinic-1 [admin]=ops)
for role in "${!ORG[@]}"; do
  KENBANK_PASSWORD=$PW "$K" user add --data d --username "u_$role" --role "$role" --org "${ORG[$role]}" >/dev/null
done
CODE_A=$("$K" enrol --data d --source inst-a --record-id r1)
CODE_B=$("$K" enrol --data d --source inst-a --record-id r2)
[[ "$CODE_A" =~ ^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$ ]] || fail "enrolment code format: $CODE_A"

"$K" serve --data d --listen 127.0.0.1:0 --threads 3 --login-rate 1000 --max-body 65536 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start: $(cat srv.err)"
B="http://127.0.0.1:$PORT"

# req METHOD PATH [BODY] [curl args...] -> prints "STATUS BODY"
req() {
  local m=$1 p=$2 body=${3:-}; shift 3 || shift $#
  local out
  if [ -n "$body" ]; then out=$(curl -s -o resp -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data "$body" "$@" "$B$p")
  else out=$(curl -s -o resp -w '%{http_code}' -X "$m" "$@" "$B$p"); fi
  echo "$out $(cat resp)"
}
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=eval("JSON.parse(s)"+process.argv[1]);console.log(v===undefined?"":v)})' "$1"; }

# enrol two individuals
r=$(req POST /api/enrol "{\"code\":\"$CODE_A\",\"username\":\"taro\",\"password\":\"$PW\"}")
[[ "$r" == 201* ]] || fail "enrol A: $r"
r=$(req POST /api/enrol "{\"code\":\"$CODE_A\",\"username\":\"taro2\",\"password\":\"$PW\"}")
[[ "$r" == 400*"already used"* ]] || fail "code reuse must fail: $r"
r=$(req POST /api/enrol "{\"code\":\"$CODE_B\",\"username\":\"hanako\",\"password\":\"$PW\"}")
[[ "$r" == 201* ]] || fail "enrol B: $r"

# sessions for every role
declare -A CSRF
login() { # $1 label $2 username
  local r; r=$(req POST /api/login "{\"username\":\"$2\",\"password\":\"$PW\"}" -c "jar_$1")
  [[ "$r" == 200* ]] || fail "login $2: $r"
  grep -q 'HttpOnly' "jar_$1" || fail "session cookie must be HttpOnly"
  CSRF[$1]=$(cut -d' ' -f2- <<<"$r" | jget .csrf)
}
ROLES="individual institution insurer biobank researcher reviewer provider admin"
for role in $ROLES; do
  if [ "$role" = individual ]; then login individual taro; else login "$role" "u_$role"; fi
done
login hanako hanako
curl -s -D hdr -o /dev/null -X POST -H 'Content-Type: application/json' --data "{\"username\":\"taro\",\"password\":\"$PW\"}" "$B/api/login"
grep -qi '^Set-Cookie: kb_session=kbs_.*HttpOnly; SameSite=Strict' hdr || fail "cookie flags: $(cat hdr)"

# the individual's own exam, and consent to share with clinic-1
EXAM_A=$(req GET /api/me/exams "" -b jar_individual | cut -d' ' -f2- | jget '.exams[0].id')
EXAM_B=$(req GET /api/me/exams "" -b jar_hanako | cut -d' ' -f2- | jget '.exams[0].id')
[ -n "$EXAM_A" ] && [ -n "$EXAM_B" ] && [ "$EXAM_A" != "$EXAM_B" ] || fail "exam ids: '$EXAM_A' '$EXAM_B'"
r=$(req POST /api/me/consents '{"purpose":"provider_sharing","provider":"clinic-1","granted":true}' -b jar_individual -H "X-CSRF-Token: ${CSRF[individual]}")
[[ "$r" == 201* ]] || fail "grant: $r"
PSEUD=$(req GET /api/provider/subjects "" -b jar_provider | cut -d' ' -f2- | jget '.subjects[0]')
[[ "$PSEUD" == R-* ]] || fail "provider should see the consenting subject: $PSEUD"

# ---- the role x endpoint matrix ----
# Each line: METHOD|PATH|BODY|allowed roles (anon = no credentials).  Allowed
# means the authorisation layer let the request through (no 401/403 from it).
MATRIX="GET|/api/health||anon $ROLES
POST|/api/login|{\"username\":\"nobody\",\"password\":\"xxxxxxxxxxxx\"}|anon $ROLES
POST|/api/enrol|{\"code\":\"0000-0000-0000-0000\",\"username\":\"abc\",\"password\":\"xxxxxxxxxxxx\"}|anon $ROLES
GET|/api/consent-texts||anon $ROLES
GET|/api/me||$ROLES
POST|/api/tokens|{\"scope\":\"read\",\"ttl_days\":1}|institution insurer biobank researcher reviewer provider admin
POST|/api/enrolment-codes|{\"source\":\"inst-a\",\"record_id\":\"r2\"}|institution insurer admin
POST|/api/recover|{\"code\":\"0000-0000-0000-0000\",\"password\":\"xxxxxxxxxxxx\"}|anon $ROLES
GET|/api/recoveries||institution insurer admin
POST|/api/recoveries|{\"source\":\"inst-a\",\"record_id\":\"nope\"}|institution insurer admin
POST|/api/recoveries/999999/approve|{}|institution insurer admin
POST|/api/recoveries/999999/cancel|{}|institution insurer admin
GET|/api/me/recoveries||individual
POST|/api/me/recoveries/999999/confirm|{}|individual
POST|/api/me/recoveries/999999/cancel|{}|individual
GET|/api/me/exams||individual
GET|/api/me/exams/$EXAM_A||individual
GET|/api/me/consents||individual
POST|/api/me/consents|{\"purpose\":\"recontact\",\"granted\":true}|individual
GET|/api/me/audit||individual
GET|/api/me/providers||individual
GET|/api/me/results.pdf||individual
GET|/api/users||admin
POST|/api/users|{\"username\":\"extra\",\"password\":\"xxxxxxxxxxxx\",\"role\":\"biobank\"}|admin
POST|/api/users/ghost/disable||admin
POST|/api/users/ghost/enable||admin
POST|/api/users/ghost/unlock||admin
GET|/api/audit||reviewer admin
GET|/api/audit/verify||reviewer admin
GET|/api/provider/subjects||provider
GET|/api/provider/subjects/$PSEUD/exams||provider
GET|/api/me/results||individual
GET|/api/me/sensors||individual
POST|/api/me/sensors|{}|individual
GET|/api/me/points||individual
GET|/api/me/export.xml||individual
GET|/api/me/guidance||individual
GET|/api/points/rules||insurer admin
GET|/api/insurer/dashboard||insurer admin
GET|/api/insurer/guidance||insurer admin
POST|/api/guidance|{}|provider admin
POST|/api/roster||insurer admin
GET|/api/insurer/referrals||insurer admin
GET|/api/insurer/referrals/R-NOPE/contact||insurer
POST|/api/referrals/visits|{}|institution insurer admin
GET|/api/screening/cases||insurer admin
GET|/api/screening/contact||insurer
GET|/api/screening/indicators||insurer admin
GET|/api/uploads||institution admin
POST|/api/uploads||institution admin
POST|/api/quarantine/999999/discard|{}|institution admin
POST|/api/quarantine/999999/retry||institution admin
GET|/api/review||admin
POST|/api/review/999999/accept|{}|admin
POST|/api/review/999999/reject|{}|admin
POST|/api/review/999999/undo|{}|admin
POST|/api/cohort/count|{}|researcher
GET|/api/reports/insurer||insurer admin
GET|/api/biobank/specimens||biobank admin
POST|/api/biobank/specimens|{}|biobank admin
GET|/api/biobank/specimens/NOPE||biobank admin
GET|/api/biobank/specimens/NOPE/label||biobank admin
POST|/api/biobank/specimens/NOPE/derive|{}|biobank admin
POST|/api/biobank/specimens/NOPE/move|{}|biobank admin
POST|/api/biobank/pools|{}|biobank admin
POST|/api/biobank/import||biobank admin
POST|/api/biobank/consents|{}|biobank admin
GET|/api/biobank/storage||biobank admin
GET|/api/biobank/purposes||biobank researcher reviewer admin
POST|/api/biobank/storage/freezers|{}|biobank admin
GET|/api/biobank/boxes/999999/map||biobank admin
GET|/api/biobank/applications||biobank researcher reviewer admin
POST|/api/biobank/applications|{}|researcher admin
GET|/api/biobank/applications/999999||biobank researcher reviewer admin
POST|/api/biobank/applications/999999/screening|{}|biobank researcher reviewer admin
GET|/api/biobank/stats||biobank reviewer admin
GET|/fhir/metadata||anon $ROLES
GET|/fhir/Observation||individual provider
GET|/fhir/Observation/$EXAM_A-0||individual provider
GET|/fhir/Patient/\$everything||individual
GET|/fhir/Specimen||individual biobank admin
GET|/fhir/Specimen/999999||individual biobank admin
GET|/fhir/Consent||individual provider
GET|/fhir/Consent/999999||individual provider
GET|/fhir/ResearchStudy||biobank researcher reviewer admin
GET|/fhir/ResearchStudy/999999||biobank researcher reviewer admin
GET|/fhir/Group/999999||biobank researcher reviewer admin
GET|/fhir/Composition/$EXAM_A/\$document||individual
POST|/fhir|{}|institution admin
POST|/fhir/|{}|institution admin
POST|/api/logout||$ROLES"
n=0
while IFS='|' read -r m p body want; do
  got=""
  for who in anon $ROLES; do
    args=()
    [ "$who" != anon ] && args=(-b "jar_$who" -H "X-CSRF-Token: ${CSRF[$who]}")
    r=$(req "$m" "$p" "$body" "${args[@]}")
    code=${r%% *}
    if [[ "$r" == *'"error":"unauthenticated"'* || "$r" == *'"error":"forbidden"'* || "$r" == *'"code":"login"'* || "$r" == *'"code":"forbidden"'* ]]; then
      [[ "$code" == 401 || "$code" == 403 ]] || fail "$m $p as $who: refusal with status $code"
      [ "$who" = anon ] && [ "$code" != 401 ] && fail "$m $p anonymous must be 401, got $code"
    else
      [[ "$code" =~ ^(2|4)..$ ]] || fail "$m $p as $who: $r"
      got="$got $who"
    fi
    n=$((n + 1))
  done
  [ "${got# }" = "$want" ] || fail "$m $p allowed [${got# }], expected [$want]"
done <<<"$MATRIX"
echo "matrix: $n requests checked"

# Coverage: every route in the server's own table has a line above, so a new
# endpoint cannot escape this test.  (Side-effect routes that run last are
# exempt below: POST /api/me/tokens and /api/points/rules, /api/logout.)
"$K" serve --routes > routes.txt
[ "$(wc -l < routes.txt)" -gt 20 ] || fail "route table not printed"
missing=""
while IFS='|' read -r m pat roles; do
  re="^$m\\|$(sed -e 's/[$]/\\$/g' -e 's/{}/[^\/|]+/g' <<<"$pat")\\|"
  grep -qE "$re" <<<"$MATRIX
POST|/api/me/tokens|
POST|/api/points/rules|" || missing="$missing $m $pat;"
done < routes.txt
[ -z "$missing" ] || fail "routes not covered by the role matrix:$missing"

# sessions are gone after logout
r=$(req GET /api/me "" -b jar_provider); [[ "$r" == 401* ]] || fail "session must end at logout: $r"
login individual taro; login hanako hanako; login provider u_provider

# ---- no IDOR ----
r=$(req GET "/api/me/exams/$EXAM_A" "" -b jar_hanako); [[ "$r" == 404* ]] || fail "B reading A's exam: $r"
r=$(req GET "/api/me/exams/$EXAM_B" "" -b jar_hanako); [[ "$r" == 200*'"observations":['* ]] || fail "B own exam: $r"
r=$(req GET "/api/me/exams/999999" "" -b jar_hanako); [[ "$r" == 404* ]] || fail "missing exam: $r"
r=$(req GET "/fhir/Observation/$EXAM_A-0" "" -b jar_hanako); [[ "$r" == 404* ]] || fail "B reading A's Observation: $r"
r=$(req GET "/fhir/Observation?subject=Patient/$PSEUD" "" -b jar_hanako); [[ "$r" == 404* ]] || fail "B searching A: $r"
r=$(req GET "/fhir/Patient/\$everything" "" -b jar_hanako)
[[ "$r" == 200*'"type":"collection"'* ]] || fail "B export: $r"
grep -q "$PSEUD" resp && fail "B's export holds A's data"

# ---- CSRF, scope, lockout, limits, static ----
r=$(req POST /api/me/consents '{"purpose":"recontact","granted":true}' -b jar_individual)
[[ "$r" == 403*csrf* ]] || fail "missing CSRF token must be refused: $r"
TOKR=$("$K" user token --data d --username u_admin --scope read)
r=$(req GET /api/users "" -H "Authorization: Bearer $TOKR"); [[ "$r" == 200* ]] || fail "bearer read: $r"
r=$(req POST /api/users '{"username":"zzz","password":"xxxxxxxxxxxx","role":"biobank"}' -H "Authorization: Bearer $TOKR")
[[ "$r" == 403*scope* ]] || fail "read-only token writing: $r"
r=$(req GET /api/users "" -H "Authorization: Bearer kbt_forged"); [[ "$r" == 401* ]] || fail "forged token: $r"
for i in 1 2 3 4 5; do r=$(req POST /api/login '{"username":"u_biobank","password":"wrong-password"}'); [[ "$r" == 401* ]] || fail "bad pw $i: $r"; done
r=$(req POST /api/login "{\"username\":\"u_biobank\",\"password\":\"$PW\"}"); [[ "$r" == 429*throttled* ]] || fail "throttled even with right pw: $r"
head -c 100000 /dev/zero | tr '\0' a > big
r=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @big "$B/api/login"); [ "$r" = 413 ] || fail "body limit: $r"
r=$(curl -s -D hdr -o body -w '%{http_code}' "$B/"); [ "$r" = 200 ] && grep -qi 'content-type: text/html' hdr || fail "static index: $r"
r=$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$B/../keys"); [ "$r" = 404 ] || fail "traversal: $r"
r=$(curl -s -D hdr -o body "$B/fhir/metadata"); grep -qi 'content-type: application/fhir+json' hdr || fail "fhir ctype"
grep -q '"resourceType":"CapabilityStatement"' body || fail "CapabilityStatement"
r=$(req GET "/fhir/Observation?subject=Patient/$PSEUD" ""); [[ "$r" == 401* ]] || fail "FHIR without credentials: $r"

# ---- consent withdrawal takes effect at once on every provider path ----
r=$(req GET "/api/provider/subjects/$PSEUD/exams" "" -b jar_provider); [[ "$r" == 200*'"detail"'* ]] || fail "provider read: $r"
r=$(req GET "/fhir/Observation?subject=Patient/$PSEUD&code=9N001000000000001" "" -b jar_provider)
[[ "$r" == 200*'"total":1'* ]] || fail "provider FHIR search by code: $r"
r=$(req POST /api/me/consents '{"purpose":"provider_sharing","provider":"clinic-1","granted":false}' -b jar_individual -H "X-CSRF-Token: ${CSRF[individual]}")
[[ "$r" == 201* ]] || fail "withdraw: $r"
r=$(req GET "/api/provider/subjects/$PSEUD/exams" "" -b jar_provider); [[ "$r" == 403*withdrawn* ]] || fail "after withdrawal (API): $r"
r=$(req GET "/fhir/Observation?subject=Patient/$PSEUD" "" -b jar_provider); [[ "$r" == 403* ]] || fail "after withdrawal (FHIR search): $r"
r=$(req GET "/fhir/Observation/$EXAM_A-0" "" -b jar_provider); [[ "$r" == 404* ]] || fail "after withdrawal (FHIR read): $r"
r=$(req GET /api/provider/subjects "" -b jar_provider); [[ "$r" == *'"subjects":[]'* ]] || fail "after withdrawal (list): $r"

# ---- who used my data ----
r=$(req GET /api/me/audit "" -b jar_individual)
grep -q '"actor":"u_provider@clinic-1","role":"provider","action":"exam.read","purpose":"provider_sharing","result":"ok"' resp || fail "A's audit view lacks the provider read: $r"
grep -q '"result":"denied","detail":"withdrawn"' resp || fail "A's audit view lacks the refused read: $r"
r=$(req GET /api/me/audit "" -b jar_hanako); grep -q 'u_provider' resp && fail "B's audit view shows A's accesses"

# ---- graceful shutdown ----
kill -TERM $SRV
set +e; wait $SRV; rc=$?; set -e
trap - EXIT
[ $rc -eq 0 ] || fail "serve exit code after SIGTERM: $rc"
grep -q 'stopped cleanly' srv.err || fail "no clean stop message"

# ---- audit chain: intact, then tampered ----
out=$("$K" audit verify --data d) || fail "audit verify on an intact log: $out"
grep -q '^audit log intact: [0-9]* entries' <<<"$out" || fail "verify output: $out"
kb_sql d research "UPDATE audit_log SET result = 'ok' WHERE result = 'denied' AND detail = 'withdrawn'"
set +e; out=$("$K" audit verify --data d 2>&1); rc=$?; set -e
[ $rc -eq 3 ] || fail "tampered log must exit 3, got $rc: $out"
grep -q 'field hash does not match' <<<"$out" || fail "tamper report: $out"
echo ok
