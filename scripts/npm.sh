#!/usr/bin/env bash
# Installs the npm packages the web UI, reports and browser tests use, exactly
# as package-lock.json pins them.  Skipped when node_modules is newer than the
# lock, so repeated `make test` runs need no network.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f package-lock.json ] || exit 0
if [ node_modules/.package-lock.json -nt package-lock.json ] 2>/dev/null; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
