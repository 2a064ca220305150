#!/usr/bin/env bash
# Installs the Debian 12 packages joinedreview builds, tests and runs with.
# Asks apt only for what is missing; uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
  libpq-dev postgresql
  libcunit1-dev libsystemd-dev libinih-dev libjansson-dev libcsv-dev libsodium-dev
  libmicrohttpd-dev libgnutls28-dev
  # joinedreview-web's browser test: headless chromium driven by selenium,
  # its printed PDF read back with pdftotext.
  chromium chromium-driver python3-selenium poppler-utils
  # The manual pages' lint, and the Debian packages' build, check, install
  # and units' verification (tests/package).
  mandoc debhelper dpkg-dev lintian man-db systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# postgresql's package would start a system cluster; the project never uses it.
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
