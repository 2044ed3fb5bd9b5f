#!/usr/bin/env bash
# kenbank biobank end to end through the CLI: storage, registration linked
# to an identity, SPREC refusal, aliquot, label, import with quarantine, an
# application through every review stage, consent-checked reserve and ship
# (one donor withdraws between the two and is never shipped), results,
# statistics in the zone --actuals format, and the audit chain intact.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
EXAMPLES="$(cd "$(dirname "$0")/../../examples" && pwd)"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
BB() { "$K" biobank "$@" --data d; }

H='source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001,9N006000000000001,3D046000001906202,1A020000000191111'
cat > a.csv <<CSV
$H
hosp-a,r1,2024-05-10,1410000001,06140019,AB,123,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2,65.3,5.6,1
hosp-a,r2,2024-06-12,1410000001,06140019,AB,124,00,見本,花子,ミホン,ハナコ,2,1980-02-29,2100001,川崎市川崎区2,158.0,50.1,5.2,1
hosp-a,r3,2024-06-13,1410000001,06140019,AB,125,00,例示,次郎,レイジ,ジロウ,1,1975-01-15,2100002,川崎市川崎区3,165.0,60.1,5.4,1
CSV
"$K" init --data d >/dev/null
"$K" import --data d --source hosp-a a.csv >/dev/null

# storage
BB freezer --name F1 --temperature -80
BB rack --freezer F1 --name R1
BB box --freezer F1 --rack R1 --name BOX1 --rows 2 --cols 3

# registration, identity linked through the source record
S1=$(BB register --donor-source hosp-a --donor-record r1 --type serum --collected 2026-05-01 --quantity 1.0 --unit mL --event visit-1 --sprec SER-SST-A-D-N-A-E --box BOX1 --position A1)
S2=$(BB register --donor-source hosp-a --donor-record r2 --type serum --collected 2026-05-01 --quantity 1.0 --unit mL --box BOX1 --position A2)
S3=$(BB register --donor-source hosp-a --donor-record r3 --type serum --collected 2026-05-02 --quantity 1.0 --unit mL)
[ "$S1" = KB00000001 ] && [ "$S3" = KB00000003 ] || fail "barcodes: $S1 $S3"
P1=$(BB show --id "$S1" | sed -n 's/^donor=//p')
P2=$(BB show --id "$S2" | sed -n 's/^donor=//p')
P3=$(BB show --id "$S3" | sed -n 's/^donor=//p')
[[ "$P1" == R-* && "$P1" != "$P2" ]] || fail "pseudonyms: $P1 $P2"
[ "$(kb_rows=$(kb_sql d identity 'SELECT COUNT(*) FROM biobank_registrations'); echo $kb_rows)" = 3 ] || fail "identity links"
kb_sql d research "SELECT COUNT(*) FROM bb_specimens WHERE pseudonym LIKE 'R-%'" | grep -qx 3 || fail "research holds pseudonyms"

# refusals name field and rule; exit 1 (runtime) or 2 (usage)
set +e
BB register --donor "$P1" --type ffpe --collected 2026-05-01 --quantity 1 --unit block --sprec SER-SST-A-D-N-A-E 2>err; rc=$?
set -e
[ $rc = 1 ] && grep -q "field sprec: 'SER-SST-A-D-N-A-E' is a fluid code but type ffpe" err || fail "sprec refusal: $rc $(cat err)"
set +e; BB place --id "$S3" --box BOX1 --position A1 2>err; rc=$?; set -e
[ $rc = 1 ] && grep -q "position BOX1 A1 is occupied by $S1" err || fail "occupied: $(cat err)"
set +e; BB place --id "$S3" --box BOX1 --position Q1 2>err; rc=$?; set -e
[ $rc = 1 ] && grep -q "outside box BOX1" err || fail "outside: $(cat err)"
set +e; BB register --type serum 2>/dev/null; rc=$?; set -e
[ $rc = 2 ] || fail "usage exit code: $rc"

# move, free positions, map
BB move --id "$S1" --box BOX1 --position B3 >/dev/null
BB free --box BOX1 | grep -qx 'A1 A3 B1 B2' || fail "free: $(BB free --box BOX1)"
BB map --box BOX1 > map.txt
grep -q '^B    .  .  #$' map.txt && grep -q "2 of 6 positions used" map.txt || fail "map: $(cat map.txt)"

# lineage and freeze-thaw
AL=$(BB aliquot --id "$S3" --quantity 0.25)
BB show --id "$AL" | grep -qx "parent=$S3" || fail "aliquot parent"
BB show --id "$S3" | grep -qx "quantity=0.75 mL" || fail "parent quantity"
BB thaw --id "$S3" | grep -q "freeze-thaw 1" || fail thaw

BB list --status available --type serum > list.csv
[ "$(head -1 list.csv)" = "barcode,type,status,quantity,unit,lineage,parent,collected_on,freeze_thaw" ] && grep -q "^$AL,serum,available,0.25,mL,aliquot,$S3," list.csv || fail "list: $(cat list.csv)"

# label
BB label --id "$S1" --out label.svg >/dev/null
grep -q '<svg' label.svg && grep -q "$S1" label.svg && [ "$(grep -c '<rect x=' label.svg)" -gt 40 ] || fail "label svg"
if grep -q "$P1" label.svg; then fail "label must not carry the pseudonym"; fi

# import with quarantine (exit 3), nothing dropped
cat > spec.csv <<CSV
barcode,donor,event,collected_on,type,site,sprec,quantity,unit,box,position
IMP-1,$P1,visit-2,2026-06-01,plasma,,PL1-PED-B-C-N-B-A,0.5,mL,BOX1,A3
IMP-2,$P2,visit-2,2026-06-01,plasma,,,0.5,litre,,
IMP-3,$P3,visit-2,2026-13-01,plasma,,,0.5,mL,,
CSV
set +e; BB import spec.csv > imp.out; rc=$?; set -e
[ $rc = 3 ] || fail "import exit $rc"
grep -q 'rows=3 accepted=1 quarantined=2 placed=1' imp.out || fail "import: $(cat imp.out)"
"$K" quarantine list --data d > q.csv
grep -q 'spec.csv,line 3,unit' q.csv && grep -q 'spec.csv,line 4,collected_on' q.csv || fail "quarantine: $(cat q.csv)"

# consent on paper: P1 and P2 grant, P3 never does
BB consent --donor "$P1" --purpose academic_research --grant >/dev/null
BB consent --donor "$P2" --purpose academic_research --grant >/dev/null

# an application through every stage
APP=$(BB apply --title "Serum lipids and HbA1c" --pi "Dr Sato" --org uni-1 --specimens serum:3 --purpose academic_research --data-items "HbA1c,LDL" --owner res1 --actor res1 --as researcher)
[ "$APP" = 1 ] || fail "application id $APP"
set +e; BB transition --app "$APP" --to approved 2>err; rc=$?; set -e
[ $rc = 1 ] && grep -q "transition submitted -> approved is not allowed (allowed from submitted: screening, withdrawn)" err || fail "illegal transition: $(cat err)"
set +e; BB transition --app "$APP" --to screening --actor res1 --as researcher 2>err; rc=$?; set -e
[ $rc = 1 ] && grep -q "role researcher may not move submitted -> screening" err || fail "role check: $(cat err)"
BB transition --app "$APP" --to screening --actor bb1 --as biobank >/dev/null
BB transition --app "$APP" --to scientific_review --actor bb1 --as biobank >/dev/null
BB review --app "$APP" --decision return --comment "justify n" --actor rv1 --as reviewer | grep -q returned_for_changes
BB transition --app "$APP" --to submitted --comment "n justified" --actor res1 --as researcher >/dev/null
BB transition --app "$APP" --to screening --actor bb1 --as biobank >/dev/null
BB transition --app "$APP" --to scientific_review --actor bb1 --as biobank >/dev/null
BB review --app "$APP" --decision approve --comment "sound" --actor rv1 --as reviewer | grep -q ethics_review
BB review --app "$APP" --decision approve --comment "ethics ok" --actor rv2 --as reviewer | grep -q approved
BB transition --app "$APP" --to agreement_signed --comment "MTA-1" --actor bb1 --as biobank >/dev/null

BB distribute --app "$APP" --step reserve --actor bb1 --as biobank > res.out || [ $? = 3 ] || fail reserve
grep -qx 'reserved=2 skipped_no_consent=2 shortfall=1' res.out || fail "reserve: $(cat res.out)"
# P2 withdraws between reservation and shipping
BB consent --donor "$P2" --purpose academic_research --withdraw >/dev/null
set +e; BB distribute --app "$APP" --step ship --actor bb1 --as biobank > ship.out; rc=$?; set -e
[ $rc = 3 ] && grep -qx 'shipped=1 released_no_consent=1' ship.out || fail "ship: $rc $(cat ship.out)"
BB show --id "$S1" | grep -qx 'status=distributed' || fail "S1 distributed"
BB show --id "$S1" | grep -qx 'position=' || fail "S1 left the freezer"
BB show --id "$S2" | grep -qx 'status=available' || fail "S2 released"
[ "$(kb_sql d research "SELECT COUNT(*) FROM bb_distributions x JOIN bb_specimens s ON s.id=x.specimen_id WHERE x.shipped_at IS NOT NULL AND s.pseudonym IN ('$P2','$P3')")" = 0 ] || fail "withdrawn donor shipped"

# results come back and attach to the specimen
printf 'barcode,code,value,unit\n%s,3D046000001906202,5.7,%%\n' "$S1" > results.csv
BB results --app "$APP" results.csv --actor res1 --as researcher | grep -qx 'results=1'
printf 'barcode,code,value,unit\n%s,3D046000001906202,5.7,%%\n' "$S2" > bad.csv
set +e; BB results --app "$APP" bad.csv --as researcher 2>err; rc=$?; set -e
[ $rc = 1 ] && grep -q "bad.csv line 2: field barcode: specimen $S2 was not shipped" err || fail "results for unshipped: $(cat err)"
BB transition --app "$APP" --to closed --actor bb1 --as biobank >/dev/null
BB history --app "$APP" > hist.txt
grep -q 'results_returned -> closed' hist.txt && grep -q 'review by rv1 at scientific_review: return: justify n' hist.txt || fail "history: $(cat hist.txt)"

# a later application never gets the withdrawn donor
S4=$(BB register --donor "$P1" --type serum --collected 2026-07-01 --quantity 1 --unit mL)
APP2=$(BB apply --title "Second" --pi "Dr Ito" --org uni-2 --specimens serum:5 --purpose academic_research)
for s in screening scientific_review; do BB transition --app "$APP2" --to $s >/dev/null; done
# separation of duties: the default actor applied and opened the review, so it may not decide
set +e; BB review --app "$APP2" --decision approve 2>err; rc=$?; set -e
[ $rc = 1 ] && grep -q "cli may not decide scientific_review -> ethics_review on their own application (rule: separation of duties" err \
  || fail "separation of duties: rc=$rc $(cat err)"
for s in ethics_review approved; do BB transition --app "$APP2" --to $s --actor adm2 >/dev/null; done
BB transition --app "$APP2" --to agreement_signed >/dev/null
BB distribute --app "$APP2" --step reserve > res2.out || [ $? = 3 ]
grep -qx 'reserved=1 skipped_no_consent=3 shortfall=4' res2.out || fail "second reserve: $(cat res2.out)"
kb_sql d research "SELECT s.pseudonym FROM bb_distributions x JOIN bb_specimens s ON s.id=x.specimen_id WHERE x.app_id=$APP2" | grep -qx "$P2" && fail "withdrawn donor reserved again"

# statistics
BB stats > stats.txt
grep -q '^serum,1,1$' stats.txt && grep -q '^closed,1$' stats.txt && grep -q '^reserved,1$' stats.txt || fail "stats: $(cat stats.txt)"
grep -q '^submitted_to_approved,2,' stats.txt && grep -q '^approved_to_distributed,1,' stats.txt || fail "turnaround: $(cat stats.txt)"
BB stats --csv --target '(2)-①' > actuals.csv
FY=$(TZ=Asia/Tokyo date +%Y); [ "$(TZ=Asia/Tokyo date +%m)" -lt 4 ] && FY=$((FY-1))
[ "$(cat actuals.csv)" = "target_id,fiscal_year,actual
(2)-①,$FY,1" ] || fail "actuals: $(cat actuals.csv)"
# the zone ledger accepts the figures as its actuals
BB stats --csv --target '(1)-①' > zone_actuals.csv
set +e; "$K" zone check --targets "$EXAMPLES/zone2013/targets.csv" --actuals zone_actuals.csv >/dev/null 2>zerr; rc=$?; set -e
[ $rc = 0 ] || [ $rc = 3 ] || fail "zone --actuals refused our csv: $(cat zerr)"
BB stats --json | grep -q '"applications_by_state"' || fail "stats json"

# every step audited, chain intact
for a in specimen.register specimen.move specimen.place specimen.status specimen.reserve specimen.ship specimen.result application.transition application.review; do
  [ "$(kb_sql d research "SELECT COUNT(*) FROM audit_log WHERE action='$a'")" -gt 0 ] || fail "no audit for $a"
done
"$K" audit verify --data d >/dev/null || fail "audit chain"

# Usage errors exit 2 and name what is missing, before anything is opened.
usage() { # expected-text args...
  local want="$1" rc=0; shift
  BB "$@" >/dev/null 2>u.err || rc=$?
  [ $rc -eq 2 ] && grep -q -- "$want" u.err || { cat u.err; fail "biobank $*: exit $rc"; }
}
usage "unknown action 'frob'" frob
usage "register needs --collected" register --type serum
usage "box needs --freezer, --rack, --name, --rows and --cols" box --freezer F1
usage "--step must be reserve or ship, got 'go'" distribute --app 1 --step go
usage "stats --csv needs --target ID" stats --csv
usage "unexpected argument 'x.csv'" list x.csv
usage "import needs one FILE.csv" import
echo "biobank ok"
