#!/bin/bash
# scripts/run-local.sh - the whole stack on this machine, for trying it out:
# complaint-milter, the reply worker and a private Postfix on 127.0.0.1:2525
# wired to the milter, with the SQLite database under ./local/.  Ctrl-C stops
# everything.  Run as root on Debian: it installs what it needs.
#
#   env: PORT (default 2525)  STATE (default ./local)
set -eu
cd "$(dirname "$0")/.."
top=$PWD
PORT=${PORT:-2525}
STATE=${STATE:-$top/local}

./scripts/install-deps.sh --test
make -s all

id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
# the milter drops to user complaint-milter: its files must be reachable
if ! su -s /bin/sh complaint-milter -c "test -x '$STATE'" 2>/dev/null; then
	echo "note: $STATE is not reachable by user complaint-milter; using /var/tmp/complaint-milter-local"
	STATE=/var/tmp/complaint-milter-local
	mkdir -p "$STATE"
fi
chmod 755 "$STATE"
mkdir -p "$STATE/db"
chown complaint-milter "$STATE/db"
rm -rf "$STATE/rules" "$STATE/templates" "$STATE/holidays" "$STATE/bin"
cp -r rules "$STATE/rules"
cp -r conf/templates "$STATE/templates"
cp -r conf/holidays "$STATE/holidays"
# the worker runs as complaint-milter, which may not reach this tree
mkdir -p "$STATE/bin"
install -m 755 build/complaint-reply "$STATE/bin/complaint-reply"
chmod -R a+rX "$STATE/rules" "$STATE/templates" "$STATE/holidays" "$STATE/bin"
sockdir=/run/complaint-milter-local
mkdir -p -m 755 "$sockdir"

cat >"$STATE/complaint-milter.conf" <<EOF
# written by scripts/run-local.sh
Socket              local:$sockdir/milter.sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
IncompleteAction    reject
Database            $STATE/db/cases.sqlite
RulesDir            $STATE/rules
UserID              complaint-milter
ReplyFrom           Klachtenservice <complaints@example.com>
ReplyTransport      smtp:127.0.0.1:$PORT
TemplatesDir        $STATE/templates
HolidaysDir         $STATE/holidays
HolidayCountry      NL
EOF

pids=()
stop_all() {
	trap - INT TERM EXIT
	echo
	echo "stopping..."
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	bash tests/mta/postfix.sh stop "$STATE/postfix" >/dev/null 2>&1 || true
	wait 2>/dev/null || true
	echo "stopped; the database and delivered mail stay in $STATE"
}
trap stop_all INT TERM EXIT

build/complaint-milter -c "$STATE/complaint-milter.conf" -n
build/complaint-milter -c "$STATE/complaint-milter.conf" -f &
pids+=($!)
for _ in $(seq 100); do [ -S "$sockdir/milter.sock" ] && break; sleep 0.05; done
PF_KEEP=1 bash tests/mta/postfix.sh start "$STATE/postfix" "$PORT" "unix:$sockdir/milter.sock" >/dev/null
build/complaint-reply -c "$STATE/complaint-milter.conf" -n >/dev/null
# setpriv execs the worker itself, so its pid is the one to stop
setpriv --reuid=complaint-milter --regid="$(id -g complaint-milter)" --clear-groups \
	"$STATE/bin/complaint-reply" -c "$STATE/complaint-milter.conf" -f &
pids+=($!)

cat <<EOF

complaint-milter and complaint-reply are running:
  Postfix     127.0.0.1:$PORT (private instance in $STATE/postfix), milter on $sockdir/milter.sock
  database    $STATE/db/cases.sqlite
  delivered   $STATE/postfix/vmail/box/new/   (all mail for @example.com)
  replies     complaint-reply answers each new case within seconds, through this
              Postfix: the reply lands in the same Maildir (To: the customer)

Send a complaint (a customer address @example.com, so the reply lands here too):
  swaks --server 127.0.0.1:$PORT --from customer@example.com --to complaints@example.com \\
        --data @tests/corpus/dev/001-nl-product-labeled.eml
An incomplete one is rejected with a 550 that says what is missing:
  swaks --server 127.0.0.1:$PORT --from customer@example.com --to complaints@example.com \\
        --data @tests/corpus/dev/007-nl-vague-no-fields.eml
Look at the cases and the replies:
  sqlite3 $STATE/db/cases.sqlite 'select case_id, status, kind, models, serials, missing, update_by, resolve_by from cases'
  sqlite3 $STATE/db/cases.sqlite 'select case_id, kind, status, recipient, attempts from replies'
  grep -l '^Auto-Submitted: auto-replied' $STATE/postfix/vmail/box/new/*
  build/complaint-cases -c $STATE/complaint-milter.conf list      (once it exists)

Ctrl-C stops it all.
EOF
wait
