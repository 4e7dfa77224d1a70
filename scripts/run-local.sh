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
rm -rf "$STATE/rules"
cp -r rules "$STATE/rules"
chmod -R a+rX "$STATE/rules"
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
TemplatesDir        $top/conf/templates
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
if [ -x build/complaint-reply ]; then
	su -s /bin/sh complaint-milter -c "exec build/complaint-reply -c '$STATE/complaint-milter.conf'" &
	pids+=($!)
fi

cat <<EOF

complaint-milter is running:
  Postfix     127.0.0.1:$PORT (private instance in $STATE/postfix), milter on $sockdir/milter.sock
  database    $STATE/db/cases.sqlite
  delivered   $STATE/postfix/vmail/box/new/   (all mail for @example.com)

Send a complaint (a customer address @example.com, so the reply lands here too):
  swaks --server 127.0.0.1:$PORT --from customer@example.com --to complaints@example.com \\
        --data @tests/corpus/dev/001-nl-product-labeled.eml
An incomplete one is rejected with a 550 that says what is missing:
  swaks --server 127.0.0.1:$PORT --from customer@example.com --to complaints@example.com \\
        --data @tests/corpus/dev/007-nl-vague-no-fields.eml
Look at the cases:
  sqlite3 $STATE/db/cases.sqlite 'select case_id, status, kind, models, serials, missing from cases'
  build/complaint-cases -c $STATE/complaint-milter.conf list      (once it exists)

Ctrl-C stops it all.
EOF
wait
