#!/usr/bin/env bash
# The main job, end to end, on this machine:
#   installs what is missing, builds, starts a private PostgreSQL under
#   .demo/ (a Unix socket only, no network port), starts joinedreviewd,
#   pushes the sample events of six funding streams, pushes them all again
#   (every one comes back as a duplicate: resending is harmless), and shows
#   the consolidated reviews. Stops the daemon and PostgreSQL at the end;
#   the data stays in .demo/ for inspection.
#
# Every socket uses CURVE, with keys and an allow-list made for the run.
# Underspend rules, which a council sets per funding stream: ILF's is
# returned, social care's carried forward, Supporting People's kept by the
# person; DFG has none, and shows "no agreed rule".
# Ports: JR_INGEST (default tcp://127.0.0.1:5560), JR_PUBLISH (5561),
# JR_CATCHUP (5562), JR_PSEUDONYMISED (5563), JR_STATISTICS (5564).
#
# The daemon logs in as jr_daemon, a member of joinedreview_app, which can
# read and write rows and nothing more; the schema's owner (the cluster's
# superuser here) runs the migrations, as in production.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/.demo
ingest=${JR_INGEST:-tcp://127.0.0.1:5560}
publish=${JR_PUBLISH:-tcp://127.0.0.1:5561}
catchup=${JR_CATCHUP:-tcp://127.0.0.1:5562}
pseudonymised=${JR_PSEUDONYMISED:-tcp://127.0.0.1:5563}
statistics=${JR_STATISTICS:-tcp://127.0.0.1:5564}

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== built"

mkdir -p "$demo"
conninfo=$(scripts/pg.sh start "$demo/pg")
echo "== PostgreSQL running under $demo/pg ($conninfo)"
# A fresh database each run, so the output below is the sample's alone.
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$pgbin/dropdb" -h "$demo/pg" -U postgres --if-exists --force joinedreview
as_pg "$pgbin/createdb" -h "$demo/pg" -U postgres joinedreview
# The daemon's own login, with no right to change the schema (what the DBA
# does once per cluster; migration 004 grants the group its rights), and an
# analyst's, which reads the reporting views and nothing else.
as_pg "$pgbin/psql" -q -h "$demo/pg" -U postgres -d joinedreview -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'joinedreview_app') THEN
    CREATE ROLE joinedreview_app NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'joinedreview_reader') THEN
    CREATE ROLE joinedreview_reader NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jr_daemon') THEN
    CREATE ROLE jr_daemon LOGIN IN ROLE joinedreview_app; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jr_analyst') THEN
    CREATE ROLE jr_analyst LOGIN IN ROLE joinedreview_reader; END IF;
END $$;
SQL
owner_conninfo=$conninfo
daemon_conninfo="host=$demo/pg user=jr_daemon dbname=joinedreview"

# Keys, as in production: the daemon's pair, one per client, an allow-list
# naming each client's rights, and the pseudonym key. Made afresh each run.
jr=build/tools/joinedreview
keys=$demo/keys
rm -rf "$keys" "$demo/inbox" "$demo/state" "$demo/adapters.log" && mkdir -m 700 "$keys"
for name in daemon review-team dashboard equipment-dashboard sp-adapter ilf-adapter \
  ices-adapter atw-adapter dfg-adapter sc-adapter; do
  "$jr" keygen "$keys/$name" >/dev/null
done
pubkey() { sed -n 's/^public-key = "\(.*\)"$/\1/p' "$keys/$1.pub"; }
(umask 077 && head -c 32 /dev/urandom >"$keys/pseudonym.key")
{
for stream in SP ILF ICES ATW DFG SC; do
  lower=$(echo "$stream" | tr 'A-Z' 'a-z')
  printf '[client.%s-adapter]\npublic_key = %s\nstreams = %s\n\n' "$lower" "$(pubkey "$lower-adapter")" "$stream"
done
cat <<ALLOW
[client.review-team]
public_key = $(pubkey review-team)
feeds = identifiable

[client.dashboard]
public_key = $(pubkey dashboard)
feeds = pseudonymised statistics

[client.equipment-dashboard]
public_key = $(pubkey equipment-dashboard)
feeds = statistics
ALLOW
} >"$demo/allow-list.ini"
server_key=$(pubkey daemon)
echo "== CURVE keys and allow-list in $keys (server key $server_key)"

# The daemon's own figures for operations (Prometheus text), on the
# loopback only; joinedreview-web's /metrics includes them. Port: JR_METRICS.
metrics_port=${JR_METRICS:-9560}
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  scripts/pg.sh stop "$demo/pg"
}
trap cleanup EXIT

build/daemon/joinedreviewd --config systemd/joinedreviewd.conf \
  --database "$daemon_conninfo" --ingest "$ingest" --publish "$publish" \
  --set daemon.database_owner="$owner_conninfo" \
  --set daemon.catchup_endpoint="$catchup" --set daemon.pseudonymised_endpoint="$pseudonymised" \
  --set daemon.statistics_endpoint="$statistics" \
  --set daemon.server_key_file="$keys/daemon.key" --set daemon.allow_list_file="$demo/allow-list.ini" \
  --set daemon.pseudonym_key_file="$keys/pseudonym.key" \
  --set daemon.metrics_port="$metrics_port" \
  --set stream.ILF.underspend=returned --set stream.SC.underspend=carried_forward \
  --set stream.SP.underspend=kept 2>"$demo/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
  grep -q "ready: ingest" "$demo/daemon.log" && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$demo/daemon.log" >&2; exit 1; }
  sleep 0.1
done
echo "== joinedreviewd running as the database login jr_daemon (log: $demo/daemon.log)"

# joinedreview-web, for the people who arrange reviews: over TLS with a
# self-signed certificate made for the run (the browser will warn about it),
# logged in to PostgreSQL as jr_web, a member of joinedreview_web (migration
# 020: it reads what the pages show and writes the audit trail), with four
# demo accounts whose passwords are made for the run. Port: JR_WEB (8443).
web_port=${JR_WEB:-8443}
web_pid=
as_pg "$pgbin/psql" -q -h "$demo/pg" -U postgres -d joinedreview -v ON_ERROR_STOP=1 -c \
  "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jr_web') THEN
     CREATE ROLE jr_web LOGIN IN ROLE joinedreview_web; END IF; END \$\$"
rm -rf "$demo/web" && mkdir -m 700 "$demo/web"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -keyout "$demo/web/web.key" -out "$demo/web/web.crt" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
chmod 600 "$demo/web/web.key"
cat >"$demo/web/web.conf" <<WEBCONF
[web]
listen_address = 127.0.0.1
port = $web_port
tls_cert_file = $demo/web/web.crt
tls_key_file = $demo/web/web.key
accounts_file = $demo/web/accounts
database = host=$demo/pg user=jr_web dbname=joinedreview
daemon_config = $root/systemd/joinedreviewd.conf
daemon_metrics = 127.0.0.1:$metrics_port
WEBCONF
web=build/web/joinedreview-web
web_accounts=""
for account in "review-scheduler scheduler SC SP ILF ICES DFG ATW" "atw-officer stream-officer ATW" \
  "sp-data-officer data-officer SP" "analyst analyst"; do
  set -- $account
  password=$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')
  echo "$password" | "$web" --config "$demo/web/web.conf" --add-account "$@" >/dev/null
  web_accounts+=$(printf '   %-17s %-15s %s\n' "$1" "$password" "$2 ${*:3}")$'\n'
done
"$web" --config "$demo/web/web.conf" 2>"$demo/web.log" &
web_pid=$!
trap 'kill -TERM "$web_pid" 2>/dev/null; wait "$web_pid" 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do
  grep -q "ready: " "$demo/web.log" && break
  kill -0 "$web_pid" 2>/dev/null || { cat "$demo/web.log" >&2; exit 1; }
  sleep 0.1
done
echo "== joinedreview-web at https://127.0.0.1:$web_port/ (self-signed certificate; log: $demo/web.log)"
echo "   accounts (name, password, role and scope), made for this run:"
printf '%s' "$web_accounts"

# The six back offices: each adapter reads its stream's CSV export from its
# inbox, with its own key, which the allow-list lets speak for that stream
# only.
adapter=build/adapters/adapter/joinedreview-adapter
run_adapters() {
  for stream in SP ILF ICES ATW DFG SC; do
    lower=$(echo "$stream" | tr 'A-Z' 'a-z')
    mkdir -p "$demo/inbox/$stream"
    cp "adapters/$lower/sample.csv" "$demo/inbox/$stream/$lower-export.csv"
    rc=0
    "$adapter" --stream "$stream" --endpoint "$ingest" --inbox "$demo/inbox/$stream" \
      --state "$demo/state/$stream" --server-key "$server_key" \
      --key-file "$keys/$lower-adapter.key" --timeout 60 2>"$demo/adapter.log" || rc=$?
    cat "$demo/adapter.log" >>"$demo/adapters.log"
    [ "$rc" -le 1 ] || { cat "$demo/adapter.log" >&2; echo "adapter $stream failed" >&2; exit 1; }
    # Its closing line: files and rows, and what became of them.
    sed -n "s/^<[0-9]>adapter: \($stream: .* rows: .*\)/   \1/p" "$demo/adapter.log" | tail -n 1
  done
}
echo "== the six funding streams' adapters on their sample exports"
run_adapters
echo "== the same exports again: every row comes back as a duplicate, nothing changes"
run_adapters
echo "   rows refused, with reasons, beside the inputs:"
find "$demo/inbox" -name '*.rejected.csv' | while read -r f; do sed "s|^|     ${f#$demo/}: |" "$f"; done

echo "== the consolidated reviews"
build/tools/joinedreview reviews --database "$conninfo"

echo "== due-date notices and suggested group reviews published"
build/tools/joinedreview notices --database "$conninfo"

echo "== what a statistics dashboard sees (the statistics feed, a CURVE key with statistics rights only)"
"$jr" tail --kind statistics --count 1 --publish "$statistics" --catchup "$catchup" \
  --server-key "$server_key" --key-file "$keys/equipment-dashboard.key"

quarter=$(date -u +%Y)Q$((($(date -u +%-m) - 1) / 3 + 1))
echo "== national capture: the quarterly summary for $quarter (an analyst's read-only login; 1 to 7 shown as *, others to the nearest 5)"
"$jr" summary --quarter "$quarter" --database "host=$demo/pg user=jr_analyst dbname=joinedreview"

echo "== rejected input kept for inspection"
as_pg "$pgbin/psql" -h "$demo/pg" -U postgres -d joinedreview -P pager=off -c \
  "SELECT stream, source_event_id, reason_code, times, reason FROM rejected_event ORDER BY id"

echo "== the daemon's own figures for operations (http://127.0.0.1:$metrics_port/metrics, loopback only)"
{
  exec 3<>"/dev/tcp/127.0.0.1/$metrics_port"
  printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  grep -E '^joinedreviewd_(acks_total|batch_commit_seconds_count|database_reconnects_total)' <&3
  exec 3<&-
} || echo "(the metrics endpoint did not answer)"

if [ -t 0 ]; then
  read -r -p "== joinedreview-web is still at https://127.0.0.1:$web_port/: press Enter to stop everything " _
fi
