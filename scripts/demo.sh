#!/usr/bin/env bash
# `make run`: a demo population on the embedded SQLite store, then the product.
#   demo/population  10,000 people over 3 fiscal years (generated, synthetic),
#                    with the insurer's roster, 特定保健指導 episodes and the
#                    city's cancer screenings
#   demo/data        the data directory (keys, identity.db, research.db)
# Delete ./demo to start again.
set -euo pipefail
cd "$(dirname "$0")/.."
K=./build/kenbank
LISTEN="${LISTEN:-127.0.0.1:8080}"

if [ ! -f demo/data/kenbank.conf ]; then
  rm -rf demo
  mkdir -p demo
  echo "== generating 10,000 people over 3 years (seed 2024)"
  $K gen --people 10000 --years 3 --seed 2024 --out demo/population --format both --roster --screening
  echo "== creating the data directory"
  $K init --data demo/data
  echo "== importing the checkup institutions' MHLW archives"
  $K import --data demo/data --source kenshin demo/population/xml || [ $? -eq 3 ]
  echo "== paper consents collected at the checkup (about 70% academic, 30% commercial research)"
  # the archives were imported as source "kenshin"; the record ids are the
  # same as in the generator's CSV
  awk -F, 'NR == 1 { print "source,record_id,purpose,provider,state,valid_from,valid_to,channel"; next }
    !seen[$2]++ { h = (NR * 7919) % 100
      if (h < 70) print "kenshin," $2 ",academic_research,,granted,2024-04-01,,paper"
      if (h < 30) print "kenshin," $2 ",commercial_research,,granted,2024-04-01,,paper" }' \
    demo/population/exams.csv > demo/population/consents.csv
  $K consent import --data demo/data --by checkup-desk demo/population/consents.csv || [ $? -eq 3 ]
  echo "== the insurer's eligibility roster and its 特定保健指導 episodes"
  $K roster import --data demo/data --source kenshin demo/population/roster.csv || [ $? -eq 3 ]
  $K guidance import --data demo/data --provider hoken-center demo/population/guidance.csv || [ $? -eq 3 ]
  echo "== the city's cancer screenings and 精密検査 results"
  # the institutions' screening results reach kenbank through the city that
  # commissioned them: the city is their source (the generator names the
  # institution), so the city desk's login sees its cases and indicators
  awk -F, -v OFS=, 'NR > 1 { $1 = "city" } { print }' demo/population/screening.csv > demo/population/screening-city.csv
  $K import --data demo/data --source city demo/population/screening-city.csv || [ $? -eq 3 ]
  echo "== demo accounts"
  export KENBANK_PASSWORD=kenbank-demo-2026
  $K user add --data demo/data --username admin --role admin >/dev/null
  $K user add --data demo/data --username insurer --role insurer --org kenshin >/dev/null
  $K user add --data demo/data --username clinic --role institution --org kenshin >/dev/null
  $K user add --data demo/data --username researcher --role researcher >/dev/null
  $K user add --data demo/data --username reviewer --role reviewer >/dev/null
  $K user add --data demo/data --username biobank --role biobank >/dev/null
  $K user add --data demo/data --username city --role insurer --org city >/dev/null
  $K user add --data demo/data --username guidance --role provider --org hoken-center >/dev/null
  # what the organisation codes stand for, shown on the staff screens
  $K user org --data demo/data --org kenshin --name "かながわ健診ネットワーク（デモ）" >/dev/null
  $K user org --data demo/data --org city --name "横浜市 健康福祉局（デモ）" >/dev/null
  $K user org --data demo/data --org hoken-center --name "保健指導センター（デモ）" >/dev/null
  unset KENBANK_PASSWORD
  # one member gets an enrolment code, as their insurer would issue it
  # an archive from an institution whose software sends the whole
  # questionnaire and the doctor's words (医師の判断), so the member sees them
  first_zip=$(ls demo/population/xml/*.zip | sed -n 1p)
  for z in demo/population/xml/*.zip; do
    if [ "$(unzip -p "$z" 2>/dev/null | grep -c 9N511000000000049)" -gt 0 ]; then first_zip=$z; break; fi
  done
  # the archive's first exam, as kenbank itself reads the archive (judge asks
  # the same entry rule as import: exams sit under NAME/DATA/ in real layouts)
  rid=$($K judge "$first_zip" | sed -n 2p | cut -d, -f1)
  code=$($K enrol --data demo/data --source kenshin --record-id "$rid" | grep -oE '[0-9A-Z]{4}(-[0-9A-Z]{4}){3}' | sed -n 1p)
  cat > demo/LOGINS.txt <<LOGINS
Demo logins (password for all staff accounts: kenbank-demo-2026)
  admin       operator / administrator
  insurer     insurer (保険者), organisation "kenshin"
  clinic      checkup institution (健診機関), organisation "kenshin"
  city        the city's cancer screening desk (市町村), organisation "city"
  guidance    特定保健指導 provider, organisation "hoken-center"
  researcher, reviewer, biobank
A member's one-time enrolment code (受診者の登録コード): $code
  redeem: curl -X POST http://$LISTEN/api/enrol -H 'Content-Type: application/json' \\
            -d '{"code":"$code","username":"member1","password":"kenbank-demo-2026"}'
LOGINS
fi

$K stats --data demo/data
if $K help serve >/dev/null 2>&1; then
  echo
  echo "== kenbank is serving http://$LISTEN/  (Ctrl-C stops it)"
  [ -f demo/LOGINS.txt ] && cat demo/LOGINS.txt
  exec $K serve --data demo/data --listen "$LISTEN"
fi
