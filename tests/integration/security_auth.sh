#!/usr/bin/env bash
# Issue 17's authentication and server findings, against the real binary:
# an enrolled person gets no second enrolment code, and a lost account is
# recovered by two parties, in the member's audit view (1); failed logins
# slow down the (name, address) they come from, never lock the account, and
# unknown names answer like known ones (2); X-Forwarded-For counts only from
# a trusted proxy (3); reading the audit log is audited (5), static files stay inside web/ even
# past a symlink to a sibling that starts like it (8), a second server on a
# port in use fails with "cannot listen" (9), and the SQLite stores are 0600,
# also when an older directory left them 0644 (14).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; for f in srv*.err; do [ -f "$f" ] && tail -20 "$f" >&2; done; exit 1; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
cat > a.csv <<CSV
$H
inst-a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1
inst-a,r2,2024-06-12,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市川崎区2,158.0,50.1,5.2,1
CSV
"$K" init --data d >/dev/null
"$K" import --data d --source inst-a a.csv >/dev/null
PW=password-for-tests
for u in admin:admin admin2:admin rev:reviewer inst:institution; do
  KENBANK_PASSWORD=$PW "$K" user add --data d --username "u_${u%%:*}" --role "${u#*:}" --org inst-a >/dev/null
done
CODE_A=$("$K" enrol --data d --source inst-a --record-id r1)

# A web root of our own: a symlink inside it leads to a sibling "web2".
mkdir -p web web2
echo '<!doctype html><title>ok</title>' > web/index.html
echo 'outside the web root' > web2/secret.txt
ln -s ../web2 web/sib

SRVS=()
trap 'for p in "${SRVS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
# start NAME ARGS...: starts a server on a free port, sets B and PORT.
start() {
  local name=$1; shift
  KENBANK_WEB="$WORK/web" "$K" serve --data d --listen 127.0.0.1:0 --threads 2 "$@" >"srv_$name.out" 2>"srv_$name.err" &
  SRVS+=($!)
  for _ in $(seq 100); do grep -q listening "srv_$name.out" 2>/dev/null && break; sleep 0.1; done
  PORT=$(grep -o '127.0.0.1:[0-9]*' "srv_$name.out" | cut -d: -f2 || true)
  [ -n "$PORT" ] || fail "server $name did not start: $(cat "srv_$name.err")"
  B="http://127.0.0.1:$PORT"
}
# stop: SIGTERM to the newest server, wait for it.
stop() {
  local p=${SRVS[-1]}
  kill -TERM "$p"; wait "$p" || true
  unset 'SRVS[-1]'
}
req() {
  local m=$1 p=$2 body=${3:-}; shift 3 || shift $#
  local out
  if [ -n "$body" ]; then out=$(curl -s -o resp -w '%{http_code}' -X "$m" -H 'Content-Type: application/json' --data "$body" "$@" "$B$p")
  else out=$(curl -s -o resp -w '%{http_code}' -X "$m" "$@" "$B$p"); fi
  echo "$out $(cat resp)"
}
jget() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=eval("JSON.parse(s)"+process.argv[1]);console.log(v===undefined?"":v)})' "$1"; }
declare -A CSRF
login() { # LABEL USERNAME
  local r; r=$(req POST /api/login "{\"username\":\"$2\",\"password\":\"$PW\"}" -c "jar_$1")
  [[ "$r" == 200* ]] || fail "login $2: $r"
  CSRF[$1]=$(cut -d' ' -f2- <<<"$r" | jget .csrf)
}
audit_count() { kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = '$1'"; }

start main --login-rate 1000
r=$(req POST /api/enrol "{\"code\":\"$CODE_A\",\"username\":\"taro\",\"password\":\"$PW\"}"); [[ "$r" == 201* ]] || fail "enrol: $r"
login admin u_admin; login rev u_rev; login taro taro

# ---- finding 8: static files stay under the (resolved) web root ----
r=$(curl -s -o body -w '%{http_code}' "$B/"); [ "$r" = 200 ] && grep -q '<title>ok' body || fail "static index: $r"
r=$(curl -s -o body -w '%{http_code}' "$B/sib/secret.txt")
[ "$r" = 404 ] || fail "a symlink to the sibling web2/ was served: $r $(cat body)"

# ---- finding 9: a second server on the same port fails ----
set +e
timeout 20 "$K" serve --data d --listen "127.0.0.1:$PORT" --threads 2 >srv_dup.out 2>srv_dup.err &
DUP=$!
SRVS+=($DUP)
for _ in $(seq 100); do
  kill -0 $DUP 2>/dev/null || break
  grep -q listening srv_dup.out && break
  sleep 0.1
done
if grep -q listening srv_dup.out; then fail "a second server started on port $PORT: $(cat srv_dup.out)"; fi
wait $DUP; rc=$?
set -e
unset 'SRVS[-1]'
[ $rc -eq 1 ] || fail "second serve on a port in use must exit 1, got $rc"
grep -q "cannot listen on 127.0.0.1:$PORT" srv_dup.err || fail "second serve message: $(cat srv_dup.err)"

# ---- finding 3: X-Forwarded-For only from a trusted proxy ----
# The per-address limiter counts in one-minute windows: start a sequence
# early in a minute so that it cannot straddle two (waits at most 12 s).
early_in_minute() { for _ in $(seq 130); do [ $((10#$(date +%S))) -lt 48 ] && return; sleep 0.1; done; }
bad_login() { req POST /api/login "{\"username\":\"${2:-u_admin}\",\"password\":\"not-the-password\"}" -H "X-Forwarded-For: $1"; }
stop
start spoof --login-rate 3
early_in_minute
for a in 10.0.0.1 10.0.0.2 10.0.0.3; do r=$(bad_login $a x_$a); [[ "$r" == 401* ]] || fail "attempt from 'X-Forwarded-For: $a': $r"; done
r=$(bad_login 10.0.0.4 x_4); [[ "$r" == 429*rate_limited* ]] || fail "an untrusted peer chose its address with X-Forwarded-For: $r"
stop
start proxy --login-rate 3 --trusted-proxies '127.0.0.1, ::1'
grep -q 'X-Forwarded-For from trusted proxies' srv_proxy.out || fail "trusted proxies not reported: $(cat srv_proxy.out)"
early_in_minute
for i in 1 2 3; do r=$(bad_login 203.0.113.1 y_$i); [[ "$r" == 401* ]] || fail "proxied attempt $i: $r"; done
r=$(bad_login 203.0.113.1 y_4); [[ "$r" == 429*rate_limited* ]] || fail "4th from one forwarded client: $r"
r=$(bad_login '198.51.100.5, 203.0.113.1' y_5); [[ "$r" == 429*rate_limited* ]] || fail "hops left of the proxy's are the client's to invent: $r"
r=$(bad_login "$(printf '10.9.8.7,%.0s' $(seq 300))203.0.113.1" y_6); [[ "$r" == 429*rate_limited* ]] || fail "a header longer than the buffer must keep the proxy's hop: $r"
r=$(bad_login 203.0.113.2 y_7); [[ "$r" == 401* ]] || fail "another client behind the same proxy is limited too: $r"
stop
set +e; "$K" serve --data d --listen 127.0.0.1:0 --trusted-proxies 'nonsense' >srv_bad.out 2>srv_bad.err; rc=$?; set -e
[ $rc -eq 1 ] && grep -q "trusted_proxies: 'nonsense' is not an IP address" srv_bad.err || fail "bad proxy list: $rc $(cat srv_bad.err)"

# ---- finding 2: throttle per (name, address), unknown names answered alike ----
echo 'trusted_proxies=127.0.0.1' >> d/kenbank.conf   # the configuration file's way
start thr --login-rate 1000
# Each name's 6th attempt follows its 5th failure at once: the first delay
# is 5 s, and nothing slow (no password hash) runs in between.
try_name() { # NAME: five wrong passwords, then the right one (u_admin2's)
  for i in 1 2 3 4 5; do bad_login 203.0.113.50 "$1"; echo; done
  req POST /api/login "{\"username\":\"$1\",\"password\":\"$PW\"}" -H 'X-Forwarded-For: 203.0.113.50'
}
try_name u_admin2 > known.txt
try_name no_such_user > unknown.txt
[ "$(grep -c '^401 ' known.txt)" = 5 ] || fail "five wrong passwords answer 401: $(cat known.txt)"
k=$(tail -1 known.txt)
[[ "$k" == 429*'"error":"throttled"'* ]] || fail "the guessing address is slowed down, even with the right password: $k"
# known and unknown names answer alike, step by step (the wait may differ by a second)
[ "$(tr -d 0-9 < known.txt)" = "$(tr -d 0-9 < unknown.txt)" ] || fail "known and unknown names answered differently: $(paste known.txt unknown.txt)"
r=$(req POST /api/login "{\"username\":\"u_admin2\",\"password\":\"$PW\"}" -H 'X-Forwarded-For: 198.51.100.20')
[[ "$r" == 200* ]] || fail "the account must not be locked for everyone: $r"
stop
sed -i '/^trusted_proxies=/d' d/kenbank.conf
start main --login-rate 1000
login admin u_admin; login rev u_rev; login taro taro

# ---- finding 5: reading the audit log is audited ----
PSEUD=$(kb_sql d research "SELECT pseudonym FROM audit_log WHERE action = 'enrolment.redeem'") # taro's
r=$(req GET "/api/audit?limit=5" "" -b jar_admin); [[ "$r" == 200* ]] || fail "audit list: $r"
# (a pseudonym's check character may be * ~ $ = U: encode it, match it literally)
r=$(req GET "/api/audit?pseudonym=$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$PSEUD")" "" -b jar_rev); [[ "$r" == 200* ]] || fail "audit list for one: $r"
r=$(req GET /api/audit/verify "" -b jar_admin); [[ "$r" == 200*'"ok":true'* ]] || fail "audit verify: $r"
# the member sees that their entries were read
r=$(req GET /api/me/audit "" -b jar_taro)
grep -q '"actor":"u_rev@inst-a","role":"reviewer","action":"audit.list"' resp || fail "member's view lacks the audit read: $r"
stop
# (the entries are checked in the store once the server has stopped)
kb_sql d research "SELECT actor, role, pseudonym, detail FROM audit_log WHERE action = 'audit.list'" > al.txt
[ "$(wc -l < al.txt)" = 2 ] || fail "two API audit listings should add two audit.list entries: $(cat al.txt)"
grep -qx 'u_admin@inst-a|admin||limit=5' al.txt || fail "admin's listing not named: $(cat al.txt)"
grep -qxF "u_rev@inst-a|reviewer|$PSEUD|limit=100" al.txt || fail "a listing for one person goes under their pseudonym: $(cat al.txt)"
kb_sql d research "SELECT actor, detail FROM audit_log WHERE action = 'audit.verify'" | grep -q '^u_admin@inst-a|entries=[0-9]* problems=0$' \
  || fail "API verify not audited"
[ "$(audit_count audit.read)" = 1 ] || fail "the member's own audit view is a read as well"
# the CLI
n0=$(audit_count audit.list)
"$K" audit list --data d --limit 3 >/dev/null
"$K" audit list --data d --pseudonym "$PSEUD" >/dev/null
[ "$(audit_count audit.list)" = $((n0 + 2)) ] || fail "CLI audit list not audited"
kb_sql d research "SELECT actor, pseudonym, detail FROM audit_log WHERE action = 'audit.list' AND actor = 'cli'" > cl.txt
grep -F "cli|$PSEUD|os_user=" cl.txt | grep -q ' limit=100$' || fail "CLI listing for one person: $(cat cl.txt)"
"$K" audit verify --data d >/dev/null
kb_sql d research "SELECT actor, detail FROM audit_log WHERE action = 'audit.verify' AND actor = 'cli'" | grep -q '^cli|os_user=.* entries=[0-9]* problems=0$' \
  || fail "CLI verify not audited"
# and the chain, with all those entries, is whole
"$K" audit verify --data d | grep -q '^audit log intact' || fail "chain after audited reads"

# ---- finding 1: no second account for an enrolled person; recovery instead ----
set +e; out=$("$K" enrol --data d --source inst-a --record-id r1 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "CLI enrol for an enrolled person must exit 1, got $rc: $out"
grep -q 'already enrolled (account taro)' <<<"$out" || fail "CLI enrol message: $out"
start rec --login-rate 1000
login inst u_inst; login admin u_admin; login taro taro
r=$(req POST /api/enrolment-codes '{"source":"inst-a","record_id":"r1"}' -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}")
[[ "$r" == 409*'"error":"already_enrolled"'* ]] || fail "second code over HTTP: $r"
r=$(req POST /api/enrolment-codes '{"source":"inst-a","record_id":"r2"}' -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}")
[[ "$r" == 201*'"code"'* ]] || fail "a code for a person without an account still works: $r"
# recovery: the requester alone gets nowhere
r=$(req POST /api/recoveries '{"source":"inst-a","record_id":"r2"}' -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}")
[[ "$r" == 409*not_enrolled* ]] || fail "recovery for a person without an account: $r"
r=$(req POST /api/recoveries '{"source":"inst-a","record_id":"r1","reason":"lost password"}' -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}")
[[ "$r" == 201*'"status":"pending"'* ]] || fail "recovery request: $r"
RID=$(cut -d' ' -f2- <<<"$r" | jget .id)
r=$(req POST "/api/recoveries/$RID/approve" '{}' -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}")
[[ "$r" == 403*second_person_required* ]] || fail "the requester approving: $r"
r=$(req GET /api/me/recoveries "" -b jar_taro)
[[ "$r" == 200*"\"id\":$RID,\"status\":\"pending\",\"requested_by\":\"u_inst\""* ]] || fail "member sees the pending request: $r"
r=$(req POST "/api/recoveries/$RID/approve" '{}' -b jar_admin -H "X-CSRF-Token: ${CSRF[admin]}")
[[ "$r" == 201*'"code"'* ]] || fail "second staff approves: $r"
RCODE=$(cut -d' ' -f2- <<<"$r" | jget .code)
r=$(req POST /api/recover "{\"code\":\"$RCODE\",\"password\":\"new-password-1\"}")
[[ "$r" == 200*'"username":"taro"'* ]] || fail "redeem recovery: $r"
r=$(req POST /api/recover "{\"code\":\"$RCODE\",\"password\":\"new-password-2\"}")
[[ "$r" == 400*"already used"* ]] || fail "a recovery code twice: $r"
r=$(req GET /api/me "" -b jar_taro); [[ "$r" == 401* ]] || fail "the old session must end on recovery: $r"
r=$(req POST /api/login "{\"username\":\"taro\",\"password\":\"$PW\"}"); [[ "$r" == 401* ]] || fail "old password after recovery: $r"
PW=new-password-1 login taro taro
r=$(req GET /api/users "" -b jar_admin)
[ "$(cut -d' ' -f2- <<<"$r" | jget '.users.filter(u=>u.role==="individual").length')" = 1 ] || fail "recovery must not add an account: $r"
# the member's own confirmation is the second party too; the code goes to them
r=$(req POST /api/recoveries '{"source":"inst-a","record_id":"r1"}' -b jar_inst -H "X-CSRF-Token: ${CSRF[inst]}")
RID2=$(cut -d' ' -f2- <<<"$r" | jget .id)
r=$(req POST "/api/me/recoveries/$RID2/confirm" '{}' -b jar_taro -H "X-CSRF-Token: ${CSRF[taro]}")
[[ "$r" == 201*'"code"'* ]] || fail "member confirms: $r"
# who used my data: every step, under the member's pseudonym
r=$(req GET /api/me/audit "" -b jar_taro)
for a in 'action":"enrolment.issue","purpose":"enrolment","result":"refused"' 'action":"recovery.request"' \
         'action":"recovery.approve","purpose":"account_recovery","result":"refused"' \
         '"actor":"u_admin@inst-a","role":"admin","action":"recovery.approve","purpose":"account_recovery","result":"ok"' \
         'action":"recovery.redeem"' 'action":"recovery.confirm"'; do
  grep -q "$a" resp || fail "member's audit view lacks $a: $r"
done
stop
# the CLI: request, the same person cannot approve, another can
"$K" recover request --data d --as u_inst --source inst-a --record-id r2 >/dev/null 2>&1 && fail "CLI recovery for a person without an account"
"$K" recover cancel --data d --as u_inst --id "$RID2" >/dev/null
"$K" recover request --data d --as u_inst --source inst-a --record-id r1 > req.out || fail "CLI request: $(cat req.out)"
RID3=$(grep -o 'recovery [0-9]*' req.out | cut -d' ' -f2)
set +e; out=$("$K" recover approve --data d --as u_inst --id "$RID3" 2>&1); rc=$?; set -e
[ $rc -eq 1 ] && grep -q 'may not approve it too' <<<"$out" || fail "CLI self-approval: $rc $out"
CODE3=$("$K" recover approve --data d --as u_admin2 --id "$RID3")
[[ "$CODE3" =~ ^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$ ]] || fail "CLI approve prints the code: $CODE3"
"$K" recover list --data d | grep -q "^$RID3,approved,taro,inst-a,r1,u_inst,u_admin2," || fail "recover list: $("$K" recover list --data d)"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM accounts WHERE role = 'individual'")" = 1 ] || fail "one member account"

# ---- finding 14: the SQLite stores are private ----
if [ "$(kb_backend d)" = sqlite ]; then
  for f in d/identity.db d/research.db d/identity.db-wal d/research.db-wal d/identity.db-shm d/research.db-shm; do
    [ -e "$f" ] || continue
    m=$(stat -c %a "$f"); [ "$m" = 600 ] || fail "$f has mode $m, expected 600"
  done
  # a directory from before the fix: the next open puts it right
  "$K" init --data old >/dev/null
  chmod 0644 old/identity.db old/research.db
  : > old/research.db-journal; chmod 0644 old/research.db-journal
  "$K" audit verify --data old >/dev/null
  for f in old/identity.db old/research.db old/research.db-journal old/identity.db-wal old/research.db-wal; do
    [ -e "$f" ] || continue
    m=$(stat -c %a "$f"); [ "$m" = 600 ] || fail "$f still has mode $m after an open, expected 600"
  done
fi
echo ok
