#!/usr/bin/env bash
# The Debian packages, end to end, on this machine: built from this tree
# with dpkg-buildpackage, checked by lintian (no error), installed, their
# units checked by systemd-analyze verify, the client library linked by a
# program built against libjrclient-dev, then the installed programs run as
# their units run them: `joinedreview setup-database` against a private
# PostgreSQL (scripts/pg.sh), joinedreviewd from its unit's command line
# with the installed configuration, an adapter from its unit's command line
# on the installed sample export, and the exporter from its unit's command
# line writing that stream's extract of the review the sample holds; keys,
# allow-list and server_key put where the README's "Installing on a server"
# puts them.
# Then an upgrade (a reinstall: the maintainer scripts' upgrade path), after
# which the daemon, started as its unit starts it, brings a database left at
# the previous release's migrations up to date; and a purge, after which
# nothing the packages installed is left and the database is still there.
#
#   tests/package/test_package.sh SOURCE_DIR WORK_DIR
#
# Needs root, or sudo without a password, to install; exits 77 (skipped)
# without, when JR_SKIP_PACKAGE is set, or when any of the packages is
# already installed here (this test never replaces a real installation).
# What it prints (lintian's output, each package's files, setup-database's
# two runs) is kept in WORK_DIR.
set -euo pipefail

src=$(cd "$1" && pwd)
work=$2
skip() { echo "SKIPPED: $*"; exit 77; }

[ -z "${JR_SKIP_PACKAGE:-}" ] || skip "JR_SKIP_PACKAGE is set"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  skip "installing packages needs root or sudo without a password"
fi
packages=(joinedreview-daemon joinedreview-adapter joinedreview-export joinedreview-tools
  joinedreview-web libjrclient0 libjrclient-dev)
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    skip "$p is installed on this machine; this test installs and removes its own"
  fi
done
for tool in dpkg-buildpackage lintian systemd-analyze pkg-config cc; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/deps.sh installs it)"; exit 1; }
done

apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -qq)
start=$SECONDS
step() { echo "== [$((SECONDS - start)) s] $*"; }
fail() { echo "FAILED: $*"; exit 1; }

rm -rf "$work"
mkdir -p "$work/src"
work=$(cd "$work" && pwd) # apt-get takes a .deb by a path with a slash
installed=false
daemon_pid='' adapter_pid='' export_pid=''
adapter_cmd=() export_cmd=()
cleanup() {
  [ -z "$export_pid" ] || { kill -TERM "$export_pid" 2>/dev/null || true; wait "$export_pid" 2>/dev/null || true; }
  [ -z "$adapter_pid" ] || { kill -TERM "$adapter_pid" 2>/dev/null || true; wait "$adapter_pid" 2>/dev/null || true; }
  [ -z "$daemon_pid" ] || { kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; }
  "$src/scripts/pg.sh" stop "$work/pg" || true
  if $installed; then
    "${apt[@]}" purge "${packages[@]}" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

step "building the packages from a copy of $src"
if [ -d "$src/.git" ] || [ -f "$src/.git" ]; then
  # What is checked out, uncommitted changes included; .gitignore keeps
  # build trees out.
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -C "$work/src" -xf -
else
  tar -C "$src" --exclude='./build*' --exclude=./.demo --exclude='./obj-*' -cf - . |
    tar -C "$work/src" -xf -
fi
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
  >"$work/build.log" 2>&1 || { tail -n 60 "$work/build.log"; fail "dpkg-buildpackage"; }
for deb in "$work"/*.deb; do echo "   ${deb##*/}"; done

step "lintian (fails on an error; every tag it reports, pedantic, informational and overridden, below)"
rc=0
lintian --fail-on error -I --pedantic --show-overrides "$work"/*.changes >"$work/lintian.raw" 2>&1 || rc=$?
grep -v "running with root privileges" "$work/lintian.raw" | tee "$work/lintian.txt" || true
[ "$rc" -eq 0 ] || fail "lintian reports an error"
echo "   no error ($(grep -c . "$work/lintian.txt" || true) lines above)"

step "installing"
debs=()
for p in "${packages[@]}"; do debs+=("$(ls "$work/${p}"_*.deb)"); done
installed=true
"${apt[@]}" install --no-install-recommends "${debs[@]}" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install"; }
for p in "${packages[@]}"; do
  echo "-- dpkg -L $p"
  dpkg -L "$p" | grep -v '^/\.$' | while read -r f; do [ -d "$f" ] || echo "   $f"; done
done | tee "$work/files.txt"
for prog in /usr/sbin/joinedreviewd /usr/sbin/joinedreview-web /usr/bin/joinedreview-adapter \
  /usr/bin/joinedreview-export /usr/bin/joinedreview; do
  "$prog" --version | grep -q "^${prog##*/} [0-9]" || fail "$prog --version"
  man -w "${prog##*/}" >/dev/null || fail "no manual page for ${prog##*/}"
done
man -w 5 joinedreviewd.conf >/dev/null || fail "no manual page for joinedreviewd.conf(5)"

step "systemd-analyze verify the installed units"
units=/lib/systemd/system
systemd-analyze verify "$units/joinedreviewd.service" "$units/joinedreview-web.service" \
  "$units/joinedreview-adapter@SC.service" "$units/joinedreview-export@SC.service" 2>&1 | tee "$work/verify.txt"
if [ "${PIPESTATUS[0]}" -ne 0 ] || [ -s "$work/verify.txt" ]; then fail "systemd-analyze verify"; fi
echo "   no complaint"

step "a program built against libjrclient-dev"
cat >"$work/client.c" <<'C'
#include <jr_client.h>
#include <stdio.h>
int main(void)
{
    jr_client_options_t options = {0};
    jr_client_t *client = jr_client_new("tcp://127.0.0.1:9", &options);
    Joinedreview__V1__Envelope env = JOINEDREVIEW__V1__ENVELOPE__INIT;
    printf("client %s, envelope of %zu bytes\n", client ? "made" : "refused",
           joinedreview__v1__envelope__get_packed_size(&env));
    jr_client_destroy(&client);
    return client == NULL ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -o "$work/client" "$work/client.c" $(pkg-config --cflags --libs libjrclient) && "$work/client"

step "setup-database against a private PostgreSQL, twice"
"$src/scripts/pg.sh" start "$work/pg" >/dev/null
pg="host=$work/pg user=postgres"
psql "$pg dbname=postgres" -qc "DROP DATABASE joinedreview" # pg.sh's own, owned by postgres
/usr/bin/joinedreview setup-database --database "$pg dbname=postgres" | tee "$work/setup-1.txt"
/usr/bin/joinedreview setup-database --database "$pg dbname=postgres" | tee "$work/setup-2.txt"
grep -q "^nothing to do" "$work/setup-2.txt" || fail "a second setup-database changed something"

# A unit's ExecStart= as the installed file has it, with %i, %d (the
# credentials' directory) and %S filled in as systemd would.
exec_start() {
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$units/$1" | sed -n 's/^ExecStart=//p' |
    sed -e "s|%i|$2|g" -e "s|%d|$3|g" -e "s|%S|/var/lib|g"
}

step "joinedreviewd from its unit's command line, with the installed configuration"
# Keys as the README makes them; the credentials' directory as systemd fills
# it. The allow-list entry goes in the installed allow-list.
mkdir -m 700 "$work/keys" "$work/cred-daemon" "$work/cred-adapter" "$work/cred-export"
/usr/bin/joinedreview keygen "$work/keys/server" >/dev/null
/usr/bin/joinedreview keygen "$work/keys/adapter-SC" >/dev/null
/usr/bin/joinedreview keygen "$work/keys/export-SC" >/dev/null
pubkey() { sed -n 's/^public-key = "\(.*\)"$/\1/p' "$work/keys/$1.pub"; }
cp "$work/keys/server.key" "$work/cred-daemon/server.key"
(umask 077 && head -c 32 /dev/urandom >"$work/cred-daemon/pseudonym.key")
cp "$work/keys/adapter-SC.key" "$work/cred-adapter/adapter.key"
cp "$work/keys/export-SC.key" "$work/cred-export/export.key"
printf '\n[client.sc-adapter]\npublic_key = %s\nstreams = SC\n\n[client.export-SC]\npublic_key = %s\nrecords = SC\n' \
  "$(pubkey adapter-SC)" "$(pubkey export-SC)" |
  "${sudo[@]}" tee -a /etc/joinedreview/allow-list.ini >/dev/null
read -ra daemon_cmd <<<"$(exec_start joinedreviewd.service "" "$work/cred-daemon")"
echo "   ${daemon_cmd[*]}"
[ "${daemon_cmd[0]}" = /usr/sbin/joinedreviewd ] || fail "the unit runs ${daemon_cmd[0]}"

# Starts the daemon as its unit does on database $1, with what a drop-in
# would add on a server: this test's database and free ports; waits until
# it is ready and sets $ingest. Its log goes to $work/$2.
start_daemon() {
  "${daemon_cmd[@]}" \
    --set daemon.database="$pg dbname=$1 user=jr_daemon" \
    --set daemon.database_owner="$pg dbname=$1 user=joinedreview_owner" \
    --set 'daemon.ingest_endpoint=tcp://127.0.0.1:*' \
    --set 'daemon.publish_endpoint=tcp://127.0.0.1:*' \
    --set 'daemon.catchup_endpoint=tcp://127.0.0.1:*' \
    --set 'daemon.pseudonymised_endpoint=tcp://127.0.0.1:*' \
    --set 'daemon.statistics_endpoint=tcp://127.0.0.1:*' 2>"$work/$2" &
  daemon_pid=$!
  ingest=
  for _ in $(seq 300); do
    ingest=$(sed -n 's/.*ready: ingest \([^,]*\),.*/\1/p' "$work/$2")
    catchup=$(sed -n 's/.*ready: .*, catch-up \([^,]*\),.*/\1/p' "$work/$2")
    [ -z "$ingest" ] || break
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/$2"; fail "joinedreviewd exited"; }
    sleep 0.1
  done
  [ -n "$ingest" ] || { cat "$work/$2"; fail "joinedreviewd not ready"; }
}
stop_daemon() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || { cat "$work/$1"; fail "joinedreviewd did not stop cleanly"; }
  daemon_pid=
}
start_daemon joinedreview daemon.log
echo "   ready, ingest on $ingest"

# A client of the daemon as its unit $1 (instance SC) runs it, with the
# credentials in $2: the daemon's public key goes in the installed
# configuration $3 (/etc/joinedreview/$3.conf) as the README says, and the
# unit's command line is read into the array named $4. (Z85 keys hold
# characters that sed's replacement would read: awk takes it as a value.)
client_as_unit() {
  awk -v key="$(pubkey server)" '/^# server_key =/ { print "server_key = " key; next } { print }' \
    "/etc/joinedreview/$3.conf" >"$work/$3.conf"
  grep -qxF "server_key = $(pubkey server)" "$work/$3.conf" || fail "no server_key line in $3.conf"
  "${sudo[@]}" cp "$work/$3.conf" "/etc/joinedreview/$3.conf"
  local -n cmd=$4
  read -ra cmd <<<"$(exec_start "$1@.service" SC "$2")"
  echo "   ${cmd[*]}"
  [ "${cmd[0]}" = "/usr/bin/$1" ] || fail "the unit runs ${cmd[0]}"
}

step "joinedreview-adapter@SC from its unit's command line, on the installed sample export"
client_as_unit joinedreview-adapter "$work/cred-adapter" adapter-SC adapter_cmd
mkdir -p "$work/adapter-SC/inbox"
cp /usr/share/joinedreview/adapters/sc/sample.csv "$work/adapter-SC/inbox/sc-export.csv"
(cd "$work/adapter-SC" && exec "${adapter_cmd[@]}" --set endpoint="$ingest" --set settle_ms=200 \
  2>"$work/adapter.log") &
adapter_pid=$!
for _ in $(seq 600); do
  [ ! -f "$work/adapter-SC/inbox/done/sc-export.csv" ] || break
  kill -0 "$adapter_pid" 2>/dev/null || { cat "$work/adapter.log"; fail "the adapter exited"; }
  sleep 0.1
done
[ -f "$work/adapter-SC/inbox/done/sc-export.csv" ] || { cat "$work/adapter.log"; fail "sample not taken"; }
kill -TERM "$adapter_pid"
wait "$adapter_pid" || { cat "$work/adapter.log"; fail "the adapter did not stop cleanly"; }
adapter_pid=
events=$(psql "$pg dbname=joinedreview" -Atc "SELECT count(*) FROM event WHERE stream = 'SC'")
[ "$events" -gt 0 ] || fail "no SC event stored"
echo "   $events SC events stored; $(tail -n 1 "$work/adapter.log")"

step "joinedreview-export@SC from its unit's command line: the review the sample holds, as SC's extract"
client_as_unit joinedreview-export "$work/cred-export" export-SC export_cmd
mkdir -p "$work/export-SC"
(cd "$work/export-SC" && exec "${export_cmd[@]}" --set export.catchup_endpoint="$catchup" \
  --idle-exit 2 2>"$work/export.log") &
export_pid=$!
wait "$export_pid" || { cat "$work/export.log"; fail "the exporter did not finish cleanly"; }
export_pid=
extracts=$(find "$work/export-SC/outbound" -name '*.csv' | wc -l)
if [ "$extracts" -lt 1 ] || [ ! -s "$work/export-SC/state/sequence" ]; then
  cat "$work/export.log"
  fail "no SC extract written"
fi
echo "   $extracts SC extract(s): $(cd "$work/export-SC/outbound" && ls)"
stop_daemon daemon.log

step "an upgrade (reinstalling): the maintainer scripts' upgrade path restarts what runs"
# This machine may run no systemd (the scripts then leave units alone):
# what they would do is read from them.
info=/var/lib/dpkg/info
for pair in joinedreview-daemon:joinedreviewd joinedreview-web:joinedreview-web; do
  p=${pair%:*} unit=${pair#*:}
  if ! grep -q "_dh_action=restart" "$info/$p.postinst" ||
    ! grep -q "deb-systemd-invoke \$_dh_action '\?$unit.service" "$info/$p.postinst"; then
    fail "$p's postinst does not restart $unit on upgrade"
  fi
  grep -q "deb-systemd-invoke stop '\?$unit.service" "$info/$p.prerm" ||
    fail "$p's prerm does not stop $unit on removal"
  [ ! -e "/etc/systemd/system/multi-user.target.wants/$unit.service" ] ||
    fail "installing enabled $unit"
done
grep -q "try-restart 'joinedreview-adapter@\*.service'" "$info/joinedreview-adapter.postinst" ||
  fail "the adapter's postinst does not restart its instances on upgrade"
grep -q "stop 'joinedreview-adapter@\*.service'" "$info/joinedreview-adapter.prerm" ||
  fail "the adapter's prerm does not stop its instances on removal"
grep -q "try-restart 'joinedreview-export@\*.service'" "$info/joinedreview-export.postinst" ||
  fail "the exporter's postinst does not restart its instances on upgrade"
grep -q "stop 'joinedreview-export@\*.service'" "$info/joinedreview-export.prerm" ||
  fail "the exporter's prerm does not stop its instances on removal"
"${apt[@]}" -o Dpkg::Options::=--force-confold install --reinstall "${debs[@]}" \
  >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "reinstall"; }
grep -q "^\[client.sc-adapter\]" /etc/joinedreview/allow-list.ini ||
  fail "the upgrade lost the allow-list's entry"

step "the upgraded daemon, started as its unit starts it, applies the migrations a database lacks"
# A database as the previous release left it: every migration but the
# newest, applied from the installed SQL and recorded as the daemon does.
psql "$pg dbname=postgres" -qc "CREATE DATABASE jr_previous OWNER joinedreview_owner"
owner="$pg dbname=jr_previous user=joinedreview_owner"
psql "$owner" -qc "CREATE TABLE schema_migration (version integer PRIMARY KEY, name text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"
sql=(/usr/share/joinedreview/schema/[0-9]*.sql)
[ "${#sql[@]}" -ge 2 ] || fail "no migrations installed"
for f in "${sql[@]:0:${#sql[@]}-1}"; do
  name=${f##*/}
  psql "$owner" -q -v ON_ERROR_STOP=1 -1 -f "$f" -c \
    "INSERT INTO schema_migration (version, name) VALUES (${name%%_*}, '$name')" >/dev/null ||
    fail "$name"
done
newest=${sql[-1]##*/}
start_daemon jr_previous daemon-upgraded.log
stop_daemon daemon-upgraded.log
grep -o "applying migration .*" "$work/daemon-upgraded.log" | sed 's/^/   /'
if [ "$(grep -c "applying migration" "$work/daemon-upgraded.log")" != 1 ] ||
  ! grep -q "applying migration $newest" "$work/daemon-upgraded.log"; then
  fail "the daemon did not apply $newest alone"
fi
recorded=$(psql "$owner" -Atc "SELECT count(*) FROM schema_migration")
[ "$recorded" = "${#sql[@]}" ] || fail "$recorded migrations recorded, ${#sql[@]} installed"
echo "   the database now has all ${#sql[@]} migrations"

step "purging"
"${apt[@]}" purge "${packages[@]}" >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "apt-get purge"; }
installed=false
left=$(sed -n 's/^   //p' "$work/files.txt" | while read -r f; do [ ! -e "$f" ] || echo "$f"; done)
[ -z "$left" ] || fail "left after purge: $left"
[ ! -e /etc/joinedreview ] || fail "/etc/joinedreview is left after purge"
after=$(psql "$pg dbname=joinedreview" -Atc "SELECT count(*) FROM event WHERE stream = 'SC'")
[ "$after" = "$events" ] || fail "the database changed on purge"
echo "   nothing left; the database keeps its $after SC events"
echo "   $((SECONDS - start)) s in all"
echo "package: 1 passed, 0 failed"
