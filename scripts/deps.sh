#!/usr/bin/env bash
# Installs every Debian package kenbank builds, tests or runs with.
# Idempotent: packages already present are skipped, so a second run is quick
# and needs no network.
set -euo pipefail

PKGS=(
  build-essential clang pkg-config make
  libsqlite3-dev sqlite3
  libpq-dev postgresql postgresql-contrib
  libsodium-dev libssl-dev
  libxml2-dev libxml2-utils
  libicu-dev
  libmicrohttpd-dev
  libcjson-dev
  libcmocka-dev
  libzip-dev libdeflate-dev zip unzip
  libzint-dev
  libclang-rt-14-dev
  chromium fonts-noto-cjk
  libcairo2-dev libpango1.0-dev
  poppler-utils
  curl
  wrk
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js may come from elsewhere than Debian (its npm then conflicts with
# Debian's), so ask for the commands, not the packages.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Tests craft archives the way third-party tools write them (zip entry
# names kenbank's own writer never produces) with Python's zipfile.
command -v python3 >/dev/null 2>&1 || missing+=(python3)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
