#!/usr/bin/env bash
# Storage invariants under concurrent moves, on whichever store the data
# directory uses (SQLite here, PostgreSQL in the pg pass): four processes
# move six specimens around a 3x3 box at random; afterwards no position
# holds two specimens, every specimen is in exactly one position, and every
# refusal was the one-specimen-per-position rule.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
K="$KENBANK"
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
"$K" init --data d >/dev/null
"$K" biobank freezer --data d --name F1 --temperature -80
"$K" biobank rack --data d --freezer F1 --name R1
"$K" biobank box --data d --freezer F1 --rack R1 --name BX --rows 3 --cols 3
# any valid pseudonym will do as donor: take one from a registered source record
printf 'source,record_id,exam_date,performer_org,insurer_no,insured_symbol,insured_number,branch_no,family_name,given_name,family_kana,given_kana,sex,birth_date,postal_code,address,9N001000000000001\nh,r1,2024-05-10,1410000001,06140019,AB,1,00,試験,太郎,シケン,タロウ,1,1970-04-01,2310023,横浜市中区1,170.2\n' > a.csv
"$K" import --data d --source h a.csv >/dev/null
for i in 1 2 3 4 5 6; do
  "$K" biobank register --data d --donor-source h --donor-record r1 --type serum --collected 2026-05-01 --quantity 1 --unit mL --barcode "C$i" --box BX --position "$(printf '%s%d' ABC | cut -c$(( (i-1)/3 + 1 )))$(( (i-1)%3 + 1 ))" >/dev/null
done
mover() {
  local n ok=0 refused=0
  RANDOM=$1
  for n in $(seq 12); do
    if "$K" biobank move --data d --id "C$((RANDOM % 6 + 1))" --box BX --position "$(echo ABC | cut -c$((RANDOM % 3 + 1)))$((RANDOM % 3 + 1))" >/dev/null 2>err.$1; then
      ok=$((ok + 1))
    elif grep -q 'one specimen per position' err.$1; then refused=$((refused + 1))
    else cat err.$1 >&2; echo "unexpected" > bad.$1; fi
  done
  echo "$ok $refused" > res.$1
}
for p in 11 22 33 44; do mover $p & done
wait
[ -z "$(ls bad.* 2>/dev/null)" ] || fail "a move failed for another reason"
refused=$(cat res.* | awk '{s += $2} END {print s}')
[ "$refused" -gt 0 ] || fail "no collisions happened; the test proves nothing"
[ "$(kb_sql d research 'SELECT COUNT(*) FROM bb_positions')" = 6 ] || fail "rows"
[ "$(kb_sql d research 'SELECT COUNT(*) FROM (SELECT DISTINCT box_id, row_no, col_no FROM bb_positions) t')" = 6 ] || fail "two in one position"
[ "$(kb_sql d research 'SELECT COUNT(DISTINCT specimen_id) FROM bb_positions')" = 6 ] || fail "specimen lost or doubled"
"$K" biobank map --data d --box BX | grep -q '6 of 9 positions used' || fail map
"$K" audit verify --data d >/dev/null || fail "audit chain"
echo "biobank concurrent ok ($refused refused)"
