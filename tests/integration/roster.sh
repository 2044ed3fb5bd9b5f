#!/usr/bin/env bash
# kenbank roster import: rows link to the same persons as the exams (one
# resolver), identity stays out of the research store, sending the roster
# again adds nothing, a changed member becomes a new version, and bad rows
# are quarantined with their line, field and rule.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$K" gen --people 400 --years 2 --seed 5 --roster --no-noise --out pop >/dev/null 2>&1
"$K" init --data d >/dev/null
"$K" import --data d --source kenshin pop/exams.csv >/dev/null
ROWS=$(($(wc -l < pop/roster.csv) - 1))
"$K" roster import --data d --source ins-roster pop/roster.csv > out1 || fail "roster import: $(cat out1)"
grep -q "members added       $ROWS" out1 || fail "first import: $(cat out1)"

# same persons as the exams: every true person with exams has one pseudonym,
# and the roster rows of people with exams land on exactly those pseudonyms
NP=$(kb_sql d research "SELECT COUNT(DISTINCT pseudonym) FROM roster_members WHERE current = 1")
TP=$(awk -F, 'NR>1 {print $5}' pop/roster_truth.csv | sort -u | wc -l)
[ "$NP" = "$TP" ] || fail "roster rows of $TP true persons landed on $NP pseudonyms"
BOTH=$(kb_sql d research "SELECT COUNT(DISTINCT r.pseudonym) FROM roster_members r JOIN subjects s ON s.pseudonym = r.pseudonym")
SUBJ=$(kb_sql d research "SELECT COUNT(*) FROM subjects")
[ "$BOTH" = "$SUBJ" ] || fail "$SUBJ examined subjects, only $BOTH found through the roster"
[ "$NP" -gt "$SUBJ" ] || fail "no roster member who never attended ($NP members, $SUBJ examined)"

# identity only in the identity store (sealed): names, kana, addresses,
# birth dates and 番号 never in the research store
awk -F, 'NR>1 { print $5; print $7; print $10; print $12; if (length($3) >= 5) print $1 $2 $3 }' pop/roster.csv \
    | awk 'length($0) >= 4' | sort -u > patterns.txt
kb_dump d research research.dump
if hits=$(LC_ALL=C grep -a -o -F -f patterns.txt research.dump | sort -u | sed -n 1,3p) && [ -n "$hits" ]; then
    fail "identity values in the research store: $hits"
fi

# again, unchanged: nothing added
"$K" roster import --data d --source ins-roster pop/roster.csv > out2
grep -q "unchanged           $ROWS" out2 || fail "re-import: $(cat out2)"
[ "$(kb_sql d research "SELECT COUNT(*) FROM roster_members")" = "$ROWS" ] || fail "re-import added rows"

# one member leaves (喪失日 set): a new version, the old one kept, not current
head -1 pop/roster.csv > changed.csv
awk -F, 'NR>1 && $14=="" {OFS=","; $14="2023-09-30"; print; exit}' pop/roster.csv >> changed.csv
"$K" roster import --data d --source ins-roster changed.csv > out3
grep -q "new versions        1" out3 || fail "changed member: $(cat out3)"
[ "$(kb_sql d research "SELECT COUNT(*) FROM roster_members WHERE version = 2 AND current = 1 AND eligible_to = '2023-09-30'")" = 1 ] \
    || fail "version 2 not current"
[ "$(kb_sql d research "SELECT COUNT(*) FROM roster_members WHERE current = 0")" = 1 ] || fail "version 1 not kept"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM roster_rows WHERE current = 1")" = "$ROWS" ] || fail "identity versions"
[ "$(kb_sql d research "SELECT COUNT(DISTINCT pseudonym) FROM roster_members WHERE current = 1")" = "$NP" ] \
    || fail "the new version linked to another person"

# a Shift_JIS (CP932) roster, as many insurers' systems write it, is read
# as such: the same members sent again in CP932 are unchanged (the content
# hash covers the names, so a misread name would be a new version)
head -1 pop/roster.csv > sjis_utf8.csv
sed -n '30,39p' pop/roster.csv >> sjis_utf8.csv
iconv -f UTF-8 -t CP932 sjis_utf8.csv > sjis.csv
! iconv -f UTF-8 -t UTF-8 sjis.csv >/dev/null 2>&1 || fail "the test file is still UTF-8"
"$K" roster import --data d --source ins-roster sjis.csv > out_sjis || fail "Shift_JIS roster: $(cat out_sjis)"
grep -q "unchanged           10" out_sjis || fail "Shift_JIS roster: $(cat out_sjis)"

# bad rows: quarantined with line, field and rule; good rows still go in
{
    head -1 pop/roster.csv
    sed -n 2p pop/roster.csv | awk -F, '{OFS=","; $1="1234567"; print}'           # line 2
    sed -n 3p pop/roster.csv | awk -F, '{OFS=","; $10="1970-02-30"; print}'       # line 3
    sed -n 4p pop/roster.csv | awk -F, '{OFS=","; $15="retired"; $16="2023-01-01"; print}' # line 4
    sed -n 5p pop/roster.csv | awk -F, '{OFS=","; $13=""; print}'                 # line 5
} > bad.csv
rc=0; "$K" roster import --data d --source ins-roster bad.csv > out4 || rc=$?
[ "$rc" = 3 ] || fail "exit status $rc with quarantined rows, want 3"
grep -q "quarantined         4" out4 || fail "bad rows: $(cat out4)"
"$K" quarantine list --data d > q.csv
grep -q 'bad.csv,line 2,insurer_no,' q.csv || fail "line 2: $(cat q.csv)"
grep -q 'bad.csv,line 3,birth_date,' q.csv || fail "line 3: $(cat q.csv)"
grep -q 'bad.csv,line 4,exclusion,.*告示第3号' q.csv || fail "line 4: $(cat q.csv)"
grep -q 'bad.csv,line 5,eligible_from,' q.csv || fail "line 5: $(cat q.csv)"
# a missing column stops the file, naming it
cut -d, -f1-16 pop/roster.csv > short.csv
rc=0; "$K" roster import --data d --source ins-roster short.csv 2> err5 || rc=$?
[ "$rc" = 1 ] && grep -q "exclusion_to" err5 || fail "missing column: rc=$rc $(cat err5)"
# audited
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'roster.import'")" -ge 4 ] || fail "not audited"

# the insurer API: the same import, the account's organisation as source
PW=password-for-tests
KENBANK_PASSWORD=$PW "$K" user add --data d --username ins --role insurer --org ins-api >/dev/null
mkdir -p "$WORK/tmp"
TMPDIR="$WORK/tmp" "$K" serve --data d --listen 127.0.0.1:0 --threads 2 --login-rate 1000 >srv.out 2>srv.err &
SRV=$!
trap 'kill $SRV 2>/dev/null || true' EXIT
kb_wait_listening srv.out $SRV || true
PORT=$(grep -o '127.0.0.1:[0-9]*' srv.out | cut -d: -f2)
[ -n "$PORT" ] || fail "server did not start: $(cat srv.err)"
B="http://127.0.0.1:$PORT"
code=$(curl -s -o login.json -w '%{http_code}' -c jar -H 'Content-Type: application/json' \
    --data "{\"username\":\"ins\",\"password\":\"$PW\"}" "$B/api/login")
[ "$code" = 200 ] || fail "login: $code"
CSRF=$(python3 -c 'import json; print(json.load(open("login.json"))["csrf"])')
post() { curl -s -o resp -w '%{http_code}' -b jar -H "X-CSRF-Token: $CSRF" -H 'Content-Type: text/csv' --data-binary "@$1" "$B/api/roster"; }
# members new to the store (a membership is keyed by insurer number, 記号,
# 番号 and 枝番 whoever sends it, so these get new 番号)
head -1 pop/roster.csv > api.csv
sed -n '2,41p' pop/roster.csv | awk -F, '{OFS=","; $3="9" $3; print}' >> api.csv
code=$(post api.csv); [ "$code" = 201 ] || fail "POST /api/roster: $code $(cat resp)"
grep -q '"added":40' resp && grep -q '"status":"ok"' resp || fail "API import: $(cat resp)"
[ "$(kb_sql d research "SELECT COUNT(*) FROM roster_members WHERE source = 'ins-api' AND current = 1")" = 40 ] \
    || fail "API rows not under the account's organisation"
code=$(post short.csv); [ "$code" = 422 ] && grep -q exclusion_to resp || fail "missing column over the API: $code $(cat resp)"
code=$(post bad.csv); [ "$code" = 201 ] && grep -q '"quarantined":4' resp && grep -q '"status":"partial"' resp \
    || fail "bad rows over the API: $code $(cat resp)"
[ "$(kb_sql d identity "SELECT COUNT(*) FROM quarantine WHERE file = 'api:ins-api'")" = 4 ] || fail "API quarantine label"
[ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action = 'roster.import' AND actor = 'ins@ins-api'")" -ge 2 ] \
    || fail "API import not audited as the insurer"
echo "roster: ok"
