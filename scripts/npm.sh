#!/usr/bin/env bash
# Installs the npm packages the web UI, reports and browser tests use, exactly
# as package-lock.json pins them.  Skipped when node_modules is newer than the
# lock, so repeated `make test` runs need no network.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f package-lock.json ] || exit 0
if ! [ node_modules/.package-lock.json -nt package-lock.json ] 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Browser-side libraries are served from web/vendor (not committed).
mkdir -p web/vendor
cp -u node_modules/chart.js/dist/chart.umd.min.js web/vendor/
