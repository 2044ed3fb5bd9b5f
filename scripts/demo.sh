#!/usr/bin/env bash
# `make run`: a demo population on the embedded SQLite store, then the product.
#   demo/population  10,000 people over 3 fiscal years (generated, synthetic)
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
  $K gen --people 10000 --years 3 --seed 2024 --out demo/population --format both
  echo "== creating the data directory"
  $K init --data demo/data
  echo "== importing the checkup institutions' MHLW archives"
  $K import --data demo/data --source kenshin demo/population/xml || [ $? -eq 3 ]
  if $K help demo-setup >/dev/null 2>&1; then $K demo-setup --data demo/data; fi
fi

$K stats --data demo/data
if $K help serve >/dev/null 2>&1; then
  echo
  echo "== kenbank is serving http://$LISTEN/  (Ctrl-C stops it)"
  [ -f demo/LOGINS.txt ] && cat demo/LOGINS.txt
  exec $K serve --data demo/data --listen "$LISTEN"
fi
