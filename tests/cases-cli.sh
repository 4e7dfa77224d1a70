#!/bin/sh
# cases-cli.sh - complaint-cases end to end.  Builds a fixture database by
# running the real pipeline (complaint-milter -t) on corpus messages, moves
# the received dates to fixed days with sqlite3, then checks the output and
# exit codes of list, show, set-status, extend, overdue and stats (tables,
# JSON parsed by python3, CSV parsed by python3's csv), case ID hints,
# reading as another user without the -shm file, reading while a writer
# holds the lock, valgrind, and the Sieve example with Dovecot's
# sieve-test.  Prints "cases-cli: N passed, N failed".
#
# usage: tests/cases-cli.sh [BUILD_DIR]     (from the top of the tree)
set -u
export TZ=UTC		# dates are local dates; the fixture's times are 09:00 UTC
B=${1:-build}
CASES=$PWD/$B/complaint-cases
MILTER=$PWD/$B/complaint-milter
CORPUS=tests/corpus/dev
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run CMD...: stdout in $tmp/out, stderr in $tmp/err, exit status in $rc.
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
# expect WANT_RC WHAT CMD...
expect() {
	want=$1 what=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$want" ]; then ok; else bad "$what: exit $rc, want $want: $(head -3 "$tmp/err")"; fi
}
has_out() { if grep -q -- "$1" "$tmp/out"; then ok; else bad "$2: output lacks '$1'"; fi; }
has_err() { if grep -q -- "$1" "$tmp/err"; then ok; else bad "$2: stderr lacks '$1': $(cat "$tmp/err")"; fi; }
# The case IDs of the table in $tmp/out, in order, comma-joined.
ids() { awk '$1 ~ /^CASE-/ { printf "%s%s", n++ ? "," : "", $1 }' "$tmp/out"; }
is() { if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', want '$2'"; fi; }
# py WHAT SCRIPT: run python3 on $tmp/out (as sys.stdin); it asserts.
py() { if python3 -c "$2" <"$tmp/out" 2>"$tmp/pyerr"; then ok; else bad "$1: $(tail -1 "$tmp/pyerr")"; fi; }

conf() {	# conf FILE DB CHECKCHAR
	cat >"$1" <<EOF
Recipient complaints@example.com
Database $2
DatabaseBusyTimeout 500
RulesDir $PWD/rules
IncompleteAction flag
HolidaysDir $PWD/conf/holidays
HolidayCountry NL
CaseIdCheckChar $3
EOF
}

deliver() {	# deliver CONF FILE
	"$MILTER" -c "$1" -t "$2" >"$tmp/milter.out" 2>&1 || bad "complaint-milter -t $2 failed"
}

db=$tmp/cases.db
C="$tmp/cases.conf"
conf "$C" "$db" no
for m in 001-nl-product-labeled 002-nl-service-ticket 003-nl-productklacht-no-model \
    004-en-product-alt 011-nl-qp-soft-break-serial 007-nl-vague-no-fields; do
	deliver "$C" "$CORPUS/$m.eml"
done
q() { sqlite3 "$db" "$1"; }
ID1=$(q "SELECT case_id FROM cases WHERE message_id LIKE 'nl-product-labeled%'")
ID2=$(q "SELECT case_id FROM cases WHERE message_id LIKE 'nl-service-ticket%'")
ID3=$(q "SELECT case_id FROM cases WHERE message_id LIKE 'nl-productklacht-no-model%'")
ID4=$(q "SELECT case_id FROM cases WHERE message_id LIKE 'en-product-alt%'")
ID5=$(q "SELECT case_id FROM cases WHERE message_id LIKE 'qp-soft@%'")
ID6=$(q "SELECT case_id FROM cases WHERE message_id LIKE 'nl-vague-no-fields%'")
for id in "$ID1" "$ID2" "$ID3" "$ID4" "$ID5" "$ID6"; do
	[ -n "$id" ] || { bad "fixture: a corpus message made no case"; }
done
YEAR=$(echo "$ID1" | cut -d- -f2)
# the customer sends the serial number later (follow-up with the tag)
sed "s/CASE-2026-000123/$ID1/" "$CORPUS/018-nl-followup-subject-tag.eml" >"$tmp/followup.eml"
deliver "$C" "$tmp/followup.eml"
# fixed received dates (NL 2026 holidays: 3 and 6 April, 27 April, 14 and 25 May)
q "UPDATE cases SET received_at = '2026-04-01T09:00:00Z' WHERE case_id = '$ID1';
   UPDATE cases SET received_at = '2026-04-20T09:00:00Z' WHERE case_id = '$ID2';
   UPDATE cases SET received_at = '2026-05-04T09:00:00Z' WHERE case_id = '$ID3';
   UPDATE cases SET received_at = '2026-03-02T09:00:00Z' WHERE case_id = '$ID4';
   UPDATE cases SET received_at = '2026-05-18T09:00:00Z' WHERE case_id = '$ID5';
   UPDATE cases SET received_at = '2026-01-05T09:00:00Z' WHERE case_id = '$ID6';"

# ---- list ----
expect 0 "list" "$CASES" -c "$C" list --today 2026-05-20
has_out "6 cases (working days, today 2026-05-20)" "list footer"
is "$(ids)" "$ID5,$ID3,$ID2,$ID1,$ID4,$ID6" "list: newest first"
expect 0 "list --model" "$CASES" -c "$C" list --model SUN2000-5KTL-L1
is "$(ids)" "$ID1" "list --model SUN2000-5KTL-L1"
expect 0 "list --model normalised" "$CASES" -c "$C" list --model "sun2000 5ktl.l1"
is "$(ids)" "$ID1" "list --model in another spelling"
expect 0 "list --model prefix" "$CASES" -c "$C" list --model 'SUN2000*' --sort case
is "$(ids)" "$ID1,$ID5" "list --model SUN2000*"
expect 0 "list --serial" "$CASES" -c "$C" list --serial "hv 2150 123456"
is "$(ids)" "$ID1" "list --serial (added by the follow-up)"
expect 0 "list --status" "$CASES" -c "$C" list --status incomplete --sort case
is "$(ids)" "$ID3,$ID6" "list --status incomplete"
expect 0 "list --from" "$CASES" -c "$C" list --from P.JANSEN
is "$(ids)" "$ID2" "list --from (any case)"
expect 0 "list --since --until" "$CASES" -c "$C" list --since 2026-04-01 --until 2026-04-30
is "$(ids)" "$ID2,$ID1" "list --since --until"
expect 0 "list --kind" "$CASES" -c "$C" list --kind service
is "$(ids)" "$ID2" "list --kind service"
expect 0 "list --page" "$CASES" -c "$C" list --sort case --limit 4 --page 2
is "$(ids)" "$ID5,$ID6" "list --page 2 --limit 4"
has_out "2 of 6 cases" "list --page footer"
expect 0 "list nothing" "$CASES" -c "$C" list --model NO-SUCH-MODEL
has_out "no cases match" "empty list"
expect 0 "list --json" "$CASES" -c "$C" list --json --today 2026-05-20
py "list --json" "
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, list) and len(d) == 6, d
assert [c['case_id'] for c in d] == '$ID5 $ID3 $ID2 $ID1 $ID4 $ID6'.split(), d
c = [c for c in d if c['case_id'] == '$ID1'][0]
assert c['models'] == ['SUN2000-5KTL-L1'] and c['serials'] == ['HV2150123456'], c
assert c['ack_by'] == '2026-04-14' and c['resolve_by'] == '2026-05-19', c
assert c['overdue'] is True and c['overdue_what'] == 'ack' and c['overdue_days'] == 24, c
"
expect 0 "list --csv" "$CASES" -c "$C" list --csv --today 2026-05-20
py "list --csv" "
import csv, sys
data = sys.stdin.buffer.read().decode()
assert data.endswith('\r\n') and '\r\n' in data.split('\n')[0] + '\n', 'CRLF'
rows = list(csv.reader(data.splitlines()))
want = ('case_id,received_at,status,kind,language,from_addr,from_name,subject,tickets,'
        'models,serials,missing,ack_by,update_by,resolve_by,next_due,next_due_date,'
        'working_days_left,overdue_days').split(',')
assert rows[0] == want, rows[0]
assert len(rows) == 7 and all(len(r) == len(want) for r in rows), rows
r = dict(zip(want, [r for r in rows if r[0] == '$ID1'][0]))
assert r['models'] == 'SUN2000-5KTL-L1' and r['overdue_days'] == '24', r
"

# ---- show ----
expect 0 "show" "$CASES" -c "$C" show "$ID1" --today 2026-04-10
has_out "Events (" "show prints the events"
has_out "received" "show: received event"
has_out "follow-up" "show: follow-up event"
has_out "Messages (2)" "show: the complaint and the follow-up"
has_out "acknowledge by  2026-04-14\*  2 working days left" "show: deadline in working days"
expect 0 "show lower case" "$CASES" -c "$C" show "$(echo "$ID1" | tr A-Z a-z)"
expect 0 "show --json" "$CASES" -c "$C" show "$ID1" --json
py "show --json" "
import json, sys
d = json.load(sys.stdin)
assert d['case']['case_id'] == '$ID1', d
assert [e['type'] for e in d['events']][:2] == ['received', 'follow-up'], d['events']
assert d['messages'][1]['kind'] == 'follow-up', d['messages']
"
expect 1 "show: no such case" "$CASES" -c "$C" show "CASE-$YEAR-999999"
has_err "no such case" "show: no such case message"
expect 2 "show: bad ID" "$CASES" -c "$C" show CASE-2026-00012
has_err "CASE-2026-00012: not a case ID (expected CASE-YYYY-NNNNNN): did you mean CASE-2026-000012?" "bad ID hint"
expect 2 "show --csv" "$CASES" -c "$C" show "$ID1" --csv

# ---- set-status ----
expect 0 "set-status acknowledged" "$CASES" -c "$C" set-status "$ID2" acknowledged --note "phoned"
has_out "$ID2: new -> acknowledged (next update due by" "set-status output"
expect 3 "set-status back to new" "$CASES" -c "$C" set-status "$ID2" new
has_err "allowed from acknowledged: in-progress, updated, resolved, escalated, closed" "refusal names what is allowed"
expect 0 "set-status closed" "$CASES" -c "$C" set-status "$ID2" closed --json
py "set-status --json" "
import json, sys
d = json.load(sys.stdin)
assert d == {'case_id': '$ID2', 'from': 'acknowledged', 'to': 'closed', 'update_by': None}, d
"
expect 3 "set-status closed -> new" "$CASES" -c "$C" set-status "$ID2" new
has_err "closed is final" "closed -> new refusal"
expect 2 "set-status bogus" "$CASES" -c "$C" set-status "$ID3" done
expect 2 "set-status --today" "$CASES" -c "$C" set-status "$ID3" acknowledged --today 2026-05-01
expect 1 "set-status no such case" "$CASES" -c "$C" set-status "CASE-$YEAR-999999" closed
is "$(q "SELECT count(*) FROM events WHERE case_id = '$ID2' AND type = 'status'")" 2 "one event per change"
is "$(q "SELECT json_extract(detail, '\$.note') FROM events WHERE case_id = '$ID2' AND type = 'status' ORDER BY id LIMIT 1")" \
    phoned "the note is in the event"

# ---- extend ----
expect 0 "extend" "$CASES" -c "$C" extend "$ID4" --until 2099-01-30 --reason "waiting for parts"
has_out "$ID4: resolve by 2099-01-30 (was 2026-04-15)" "extend output"
expect 0 "show after extend" "$CASES" -c "$C" show "$ID4"
has_out "extended" "show: extended event"
has_out "waiting for parts" "show: the reason"
expect 2 "extend into the past" "$CASES" -c "$C" extend "$ID4" --until 2000-01-03 --reason x
expect 2 "extend without reason" "$CASES" -c "$C" extend "$ID4" --until 2099-01-30
expect 3 "extend a closed case" "$CASES" -c "$C" extend "$ID2" --until 2099-01-30 --reason x

# ---- overdue ----
# On 20 May 2026: $ID6 ack 2026-01-14, $ID4 ack 2026-03-11, $ID1 ack 2026-04-14 (24
# late), $ID3 ack 2026-05-13 (4 late); $ID5 is due 28 May; $ID2 is closed.
expect 0 "overdue" "$CASES" -c "$C" overdue --today 2026-05-20
is "$(ids)" "$ID6,$ID4,$ID1,$ID3" "overdue: most overdue first"
has_out "4 overdue cases" "overdue footer"
expect 0 "overdue --json" "$CASES" -c "$C" overdue --today 2026-05-20 --json
py "overdue --json" "
import json, sys
d = json.load(sys.stdin)
late = [c['overdue_days'] for c in d]
assert late == sorted(late, reverse=True) and late[-2:] == [24, 4], late
"
expect 0 "list --overdue" "$CASES" -c "$C" list --overdue --today 2026-05-20 --sort case
is "$(ids)" "$ID1,$ID3,$ID4,$ID6" "list --overdue"

# ---- stats ----
expect 0 "stats" "$CASES" -c "$C" stats --today 2026-05-20
has_out "By model" "stats table"
expect 0 "stats --json" "$CASES" -c "$C" stats --json --today 2026-05-20
py "stats --json" "
import json, sys
d = json.load(sys.stdin)
assert d['total'] == 6 and d['by_status']['closed'] == 1 and d['by_kind']['service'] == 1, d
assert d['by_model']['SUN2000-5KTL-L1'] == 1 and d['measured']['acknowledgement'] == 1, d
"
expect 0 "stats --csv" "$CASES" -c "$C" stats --csv
py "stats --csv" "
import csv, sys
rows = list(csv.reader(sys.stdin))
assert rows[0] == ['group', 'key', 'value'] and ['total', '', '6'] in rows, rows
"

# ---- usage and errors ----
expect 2 "no command" "$CASES" -c "$C"
expect 2 "unknown command" "$CASES" -c "$C" frobnicate
expect 2 "unknown option" "$CASES" -c "$C" list --colour
expect 2 "bad date" "$CASES" -c "$C" list --since 2026-02-30
expect 2 "bad status" "$CASES" -c "$C" list --status pending
expect 2 "--overdue on stats" "$CASES" -c "$C" stats --overdue
expect 0 "--help" "$CASES" --help
expect 4 "no database" "$CASES" -c "$C" --db "$tmp/none.db" list
has_err "no such database" "missing database message"
[ ! -e "$tmp/none.db" ] && ok || bad "a missing database was created"
expect 4 "bad config" "$CASES" -c "$tmp/no.conf" list

# ---- check characters ----
CK="$tmp/check.conf"
conf "$CK" "$tmp/check.db" yes
deliver "$CK" "$CORPUS/001-nl-product-labeled.eml"
KID=$(sqlite3 "$tmp/check.db" "SELECT case_id FROM cases")
BASE=${KID%-?}
GOOD=${KID##*-}
WRONG=$(printf '%s' 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ | tr -d "$GOOD" | cut -c1)
expect 0 "show with check character" "$CASES" -c "$CK" show "$KID"
expect 2 "wrong check character" "$CASES" -c "$CK" show "$BASE-$WRONG"
has_err "$BASE-$WRONG: check character wrong: did you mean $KID?" "check character hint"
expect 2 "missing check character" "$CASES" -c "$CK" show "$BASE"
has_err "check character missing: did you mean $KID?" "missing check character hint"

# ---- reading beside the milter ----
# A write lock held by another process: reading goes on, writing waits
# DatabaseBusyTimeout (500 ms) and gives up with exit 4.
python3 -c "
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN IMMEDIATE')
c.execute(\"UPDATE cases SET updated_at = updated_at\")
open(sys.argv[2], 'w').close()
time.sleep(4)
c.execute('ROLLBACK')
" "$db" "$tmp/locked" &
lockpid=$!
n=0
while [ ! -e "$tmp/locked" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
expect 0 "list while locked" timeout 3 "$CASES" -c "$C" list
expect 4 "set-status while locked" timeout 3 "$CASES" -c "$C" set-status "$ID3" acknowledged
has_err "locked" "busy message"
wait "$lockpid"

# Another user, read-only directory: with the database in use (-shm there,
# read-only for us) and with nobody using it (no -shm: immutable read).
# (The binary, calendar and configuration are copied where any user can read them.)
ro=$tmp/ro
mkdir "$ro" "$tmp/bin" && cp "$db" "$ro/cases.db" && chmod 644 "$ro/cases.db"
cp "$CASES" "$tmp/bin/" && cp -r conf/holidays "$tmp/holidays" && chmod -R a+rX "$tmp/bin" "$tmp/holidays"
RC="$tmp/ro.conf"
sed "s|^HolidaysDir .*|HolidaysDir $tmp/holidays|" "$C" >"$RC"
as_other() {
	if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else "$@"; fi
}
if [ "$(id -u)" -ne 0 ] || command -v setpriv >/dev/null; then
	chmod 755 "$ro"
	[ "$(id -u)" -ne 0 ] && chmod 555 "$ro"
	expect 0 "read-only, no -shm" as_other "$tmp/bin/complaint-cases" -c "$RC" --db "$ro/cases.db" list
	has_out "6 cases" "read-only, no -shm: all cases"
	[ ! -e "$ro/cases.db-shm" ] && ok || bad "read-only reader created a -shm"
	chmod 755 "$ro"
	python3 -c "
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute('SELECT count(*) FROM cases').fetchall()
open(sys.argv[2], 'w').close()
time.sleep(3)
" "$ro/cases.db" "$tmp/open" &
holdpid=$!
	n=0
	while [ ! -e "$tmp/open" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	[ "$(id -u)" -ne 0 ] && chmod 555 "$ro"
	expect 0 "read-only, -shm in use" as_other "$tmp/bin/complaint-cases" -c "$RC" --db "$ro/cases.db" list
	has_out "6 cases" "read-only beside a writer: all cases"
	wait "$holdpid"
	chmod 755 "$ro"
else
	echo "cases-cli: setpriv not installed, read-only tests skipped"
fi

# ---- valgrind ----
if command -v valgrind >/dev/null; then
	vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"
	expect 0 "valgrind list" $vg "$CASES" -c "$C" list --json --model 'SUN2000*' --from example
	expect 0 "valgrind show" $vg "$CASES" -c "$C" show "$ID1"
	expect 0 "valgrind overdue" $vg "$CASES" -c "$C" overdue --csv --today 2026-05-20
	expect 0 "valgrind stats" $vg "$CASES" -c "$C" stats
	expect 0 "valgrind set-status" $vg "$CASES" -c "$C" set-status "$ID5" in-progress --note x
	expect 3 "valgrind refused" $vg "$CASES" -c "$C" set-status "$ID2" new
	expect 2 "valgrind bad ID" $vg "$CASES" -c "$CK" show "$BASE"
else
	echo "cases-cli: valgrind not installed, memcheck runs skipped"
fi

# ---- the Sieve example (doc/examples/complaints.sieve) ----
# A message as the milter leaves it: its edits (complaint-milter -t) applied.
tagged() {	# tagged CONF IN OUT
	"$MILTER" -c "$1" -t "$2" >"$tmp/edits" 2>&1
	python3 -c "
import sys
edits, src, dst = sys.argv[1:4]
raw = open(src, 'rb').read().decode('utf-8', 'surrogateescape').replace('\r\n', '\n')
head, body = raw.split('\n\n', 1)
lines = []
for l in head.split('\n'):
    if l[:1] in (' ', '\t') and lines:
        lines[-1] += '\n' + l
    else:
        lines.append(l)
add = []
for e in open(edits, encoding='utf-8', errors='replace'):
    e = e.rstrip('\n')
    if e.startswith('chgheader '):
        name, _, value = e[10:].partition(':')
        value = value.strip()
        name = name.split('[')[0]
        lines = [l for l in lines if l.split(':')[0].lower() != name.lower()]
        if value:
            add.append(name + ': ' + value)
    elif e.startswith('addheader '):
        add.append(e[10:])
open(dst, 'wb').write(('\n'.join(add + lines) + '\n\n' + body).encode('utf-8', 'surrogateescape'))
" "$tmp/edits" "$2" "$3"
}
sieve_folder() {	# sieve_folder MESSAGE: where the example script files it
	cp "$1" "$sv/msg.eml"
	as_other env HOME="$sv" sieve-test -c "$sv/dovecot.conf" "$sv/complaints.sieve" "$sv/msg.eml" 2>/dev/null |
	    sed -n 's/^ \* store message in folder: //p' | head -1
}
if command -v sieve-test >/dev/null && { [ "$(id -u)" -ne 0 ] || command -v setpriv >/dev/null; }; then
	sv=$tmp/sieve
	mkdir -p "$sv/mail" && chmod 777 "$sv" "$sv/mail"
	printf 'mail_location = maildir:%s/mail\n' "$sv" >"$sv/dovecot.conf"
	cp doc/examples/complaints.sieve "$sv/complaints.sieve"
	chmod 644 "$sv/dovecot.conf" "$sv/complaints.sieve"
	SC="$tmp/sieve.conf"
	conf "$SC" "$tmp/sieve.db" no
	tagged "$SC" "$CORPUS/001-nl-product-labeled.eml" "$tmp/s1.eml"
	grep -q "^X-Case-ID: " "$tmp/s1.eml" && ok || bad "sieve: the milter did not tag the message"
	is "$(sieve_folder "$tmp/s1.eml")" "Complaints/Product" "sieve: product complaint"
	tagged "$SC" "$CORPUS/002-nl-service-ticket.eml" "$tmp/s2.eml"
	is "$(sieve_folder "$tmp/s2.eml")" "Complaints/Service" "sieve: service complaint"
	tagged "$SC" "$CORPUS/003-nl-productklacht-no-model.eml" "$tmp/s3.eml"
	is "$(sieve_folder "$tmp/s3.eml")" "Complaints/Incomplete" "sieve: incomplete complaint"
	SID=$(sqlite3 "$tmp/sieve.db" "SELECT case_id FROM cases ORDER BY seq LIMIT 1")
	sed "s/CASE-2026-000123/$SID/" "$CORPUS/018-nl-followup-subject-tag.eml" >"$tmp/f.eml"
	tagged "$SC" "$tmp/f.eml" "$tmp/s4.eml"
	is "$(sieve_folder "$tmp/s4.eml")" "Complaints/Follow-ups" "sieve: follow-up"
	tagged "$SC" "$CORPUS/020-auto-reply-ooo.eml" "$tmp/s5.eml"
	is "$(sieve_folder "$tmp/s5.eml")" "Complaints/Automatic" "sieve: auto-reply"
	printf 'From: a@example.com\nSubject: Fwd: [%s] Klacht\n\nx\n' "$SID" >"$tmp/s6.eml"
	is "$(sieve_folder "$tmp/s6.eml")" "Complaints/Other" "sieve: subject tag only"
	printf 'From: a@example.com\nSubject: Re: [CASE-2026-000042] x\nX-Case-ID: CASE-2026-000042\nX-Complaint-Kind: product\n\nx\n' >"$tmp/s7.eml"
	is "$(sieve_folder "$tmp/s7.eml")" "Complaints/Watched" "sieve: watched case"
	printf 'From: a@example.com\nSubject: Question [CASE 12]\n\nx\n' >"$tmp/s8.eml"
	is "$(sieve_folder "$tmp/s8.eml")" "INBOX" "sieve: untagged mail stays in INBOX"
else
	echo "cases-cli: sieve-test (dovecot-sieve) not installed, Sieve example not tested"
fi

echo "cases-cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
