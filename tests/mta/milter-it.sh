#!/bin/bash
# tests/mta/milter-it.sh - complaint-milter through a real Postfix and a real
# Sendmail 8.17, on loopback only, mail sent with swaks.
#
# Usage (as root, from anywhere): tests/mta/milter-it.sh [postfix|sendmail|all]
#   env: SM_CACHE  unpacked Sendmail (default /var/tmp/cm-sendmail-cache)
#        MILTER_BIN the milter to test (default build/complaint-milter; CI also
#                  runs it with build/asan/complaint-milter)
#        KEEP=1    keep the work directory for inspection
#
# The milter runs as it would in production: started as root, socket under a
# root-owned 755 directory in /run with group postfix and mode 0660, then
# running as user complaint-milter (created here when missing).
# Ends with "milter-it: N passed, N failed"; exit 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PF_LIB=1 . "$here/postfix.sh"
. "$here/lib.sh"
SM_LIB=1 . "$here/sendmail.sh"

MILTER=${MILTER_BIN:-$top/build/complaint-milter}
# the staff tool of the same build as the milter (build/ or build/asan/)
CASES=$(dirname "$MILTER")/complaint-cases
CORPUS=$top/tests/corpus/dev
SM_CACHE=${SM_CACHE:-/var/tmp/cm-sendmail-cache}
what=${1:-all}
pass=0
fail=0
milter_pid=
work=$(mktemp -d /tmp/cm-it.XXXXXX)
chmod 755 "$work"
sockdir=/run/cm-it-$$
sock=$sockdir/milter.sock
port=$((26000 + $$ % 2000))
pfdir=$work/postfix
db=$work/db/cases.sqlite

cleanup() {
	stop_milter
	pf_stop "$pfdir" >/dev/null 2>&1
	rm -rf "$sockdir"
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$MILTER" ] || { echo "milter-it: build $MILTER first"; exit 1; }
id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
mkdir -p -m 755 "$sockdir" "$work/db"
chown complaint-milter "$work/db"
cp -r "$top/rules" "$work/rules"
cp -r "$top/conf/holidays" "$work/holidays"
chmod -R a+rX "$work/rules" "$work/holidays"

write_conf() { # write_conf ACTION
	cat >"$work/milter.conf" <<EOF
Socket              local:$sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
Recipient           klachten@example.com
IncompleteAction    $1
Database            $db
RulesDir            $work/rules
UserID              complaint-milter
PidFile             $work/db/milter.pid
Staff               staff@example.com
Staff               @support.example.com
HolidaysDir         $work/holidays
EOF
}

send() { # send OUTFILE swaks-args...
	local out=$1
	shift
	swaks --server "127.0.0.1:$port" --from "${FROM-customer@example.org}" "$@" >"$out" 2>&1
}

# the delivered message whose text contains PATTERN
delivered_with() {
	local f
	for f in $(pf_delivered "$pfdir"); do
		grep -q -- "$1" "$f" && { echo "$f"; return 0; }
	done
	return 1
}

wait_delivered() { # wait_delivered PATTERN
	for _ in $(seq 100); do delivered_with "$1" >/dev/null && return 0; sleep 0.1; done
	return 1
}

postfix_tests() {
	write_conf reject
	start_milter || { bad "milter starts"; return; }
	ok "milter starts"
	check "socket is 0660, owner complaint-milter, group postfix" \
		test "$(stat -c '%a %U %G' "$sock")" = "660 complaint-milter postfix"
	check "milter runs as complaint-milter" test "$(ps -o user= -p "$milter_pid")" = complaint-milter
	pf_start "$pfdir" "$port" "unix:$sock" >/dev/null || { bad "postfix starts"; return; }

	# 1. a complete complaint: delivered with the tag and headers, one case
	fresh "$CORPUS/001-nl-product-labeled.eml" it-complete >"$work/m1.eml"
	send "$work/o1" --to complaints@example.com --data "@$work/m1.eml"
	check "complete complaint accepted (250)" accepted "$work/o1"
	wait_delivered "it-complete@test.example"
	f=$(delivered_with "it-complete@test.example")
	cid=$(sql "select case_id from cases where message_id='it-complete@test.example'")
	check "one case recorded" test "$(sql "select count(*) from cases where message_id='it-complete@test.example'")" = 1
	check "case ID format" grep -qE '^CASE-[0-9]{4}-[0-9]{6}$' <<<"$cid"
	check "subject tagged" grep -q "^Subject: \[$cid\] Klacht over omvormer SUN2000-5KTL-L1" "$f"
	check "X-Case-ID header" grep -q "^X-Case-ID: $cid" "$f"
	check "X-Complaint-Status complete" grep -q '^X-Complaint-Status: complete' "$f"
	check "X-Complaint-Model" grep -q '^X-Complaint-Model: SUN2000-5KTL-L1' "$f"
	check "X-Complaint-Serial" grep -q '^X-Complaint-Serial: HV2150123456' "$f"
	check "X-Complaint-Kind product" grep -q '^X-Complaint-Kind: product' "$f"
	check "queue ID recorded" test -n "$(sql "select queue_id from cases where case_id='$cid' and queue_id<>'' and queue_id<>'NOQUEUE'")"

	# 2. a retried delivery: same case, same subject
	send "$work/o2" --to complaints@example.com --data "@$work/m1.eml"
	check "retry accepted" accepted "$work/o2"
	for _ in $(seq 50); do [ "$(grep -l "it-complete@test.example" $(pf_delivered "$pfdir") | wc -l)" -ge 2 ] && break; sleep 0.1; done
	check "retry: still one case" test "$(sql "select count(*) from cases where message_id='it-complete@test.example'")" = 1
	check "retry: both copies carry the same tag" test "$(grep -l "^Subject: \[$cid\]" $(pf_delivered "$pfdir") | wc -l)" = 2

	# 3. copies of our headers arriving from outside are removed
	{ echo "X-Case-ID: CASE-1999-999999"; echo "X-Complaint-Status: complete"; fresh "$CORPUS/004-en-product-alt.eml" it-forged; } >"$work/m3.eml"
	send "$work/o3" --to complaints@example.com --data "@$work/m3.eml"
	wait_delivered "it-forged@test.example"
	f=$(delivered_with "it-forged@test.example")
	check "forged X-Case-ID removed" bash -c "! grep -q 'CASE-1999-999999' '$f'"
	check "exactly one X-Case-ID and one status" test "$(grep -cE '^X-(Case-ID|Complaint-Status):' "$f")" = 2

	# 4. incomplete: 550 that names what is missing; a rejection event, no case
	fresh "$CORPUS/003-nl-productklacht-no-model.eml" it-incomplete >"$work/m4.eml"
	send "$work/o4" --to complaints@example.com --data "@$work/m4.eml"
	check "incomplete rejected with 550 5.7.1" grep -q '^<\*\* 550.5\.7\.1' "$work/o4"
	check "reply names the missing model (nl)" grep -q 'Ontbreekt: het model van de omvormer' "$work/o4"
	check "reply names the missing model (en)" grep -q 'Missing: the inverter model' "$work/o4"
	check "no case for the rejected message" test "$(sql "select count(*) from cases where message_id='it-incomplete@test.example'")" = 0
	check "rejection event recorded" test "$(sql "select count(*) from events where type='rejected' and message_id='it-incomplete@test.example'")" = 1

	# 5. mixed recipients: never rejected, flagged instead
	send "$work/o5" --to complaints@example.com,box@example.com --data "@$work/m4.eml"
	check "mixed recipients: accepted" accepted "$work/o5"
	wait_delivered "it-incomplete@test.example"
	f=$(delivered_with "it-incomplete@test.example")
	check "mixed recipients: flagged incomplete" grep -q '^X-Complaint-Status: incomplete; missing=model' "$f"

	# 6. follow-up: same case, fields merged (a serial sent later)
	cat >"$work/m6.eml" <<EOF
From: Jan de Vries <jan.devries@example.nl>
To: complaints@example.com
Subject: Re: [$cid] Klacht over omvormer
Message-ID: <it-followup@test.example>

Hierbij nog het serienummer van de tweede omvormer: HV2150000777
EOF
	send "$work/o6" --to complaints@example.com --data "@$work/m6.eml"
	check "follow-up accepted" accepted "$work/o6"
	wait_delivered "it-followup@test.example"
	f=$(delivered_with "it-followup@test.example")
	check "follow-up: no new case" test "$(sql "select count(*) from cases where message_id='it-followup@test.example'")" = 0
	check "follow-up: serial merged into the case" grep -q HV2150000777 <<<"$(sql "select serials from cases where case_id='$cid'")"
	check "follow-up: recorded on the case" test "$(sql "select count(*) from messages where case_id='$cid' and message_id='it-followup@test.example'")" = 1
	check "follow-up: subject keeps one tag" test "$(grep '^Subject:' "$f" | grep -o "$cid" | wc -l)" = 1
	check "follow-up: X-Case-ID" grep -q "^X-Case-ID: $cid" "$f"

	# 7. automatic mail: accepted, no case, never rejected
	fresh "$CORPUS/021-dsn-bounce.eml" it-bounce >"$work/m7.eml"
	FROM="" send "$work/o7" --to complaints@example.com --data "@$work/m7.eml"
	check "bounce (null sender) accepted" accepted "$work/o7"
	fresh "$CORPUS/020-auto-reply-ooo.eml" it-ooo >"$work/m7b.eml"
	send "$work/o7b" --to complaints@example.com --data "@$work/m7b.eml"
	check "auto-reply accepted" accepted "$work/o7b"
	wait_delivered "it-ooo@test.example"
	check "auto-reply marked auto-submitted" grep -q '^X-Complaint-Status: auto-submitted' "$(delivered_with it-ooo@test.example)"
	check "no case for automatic mail" test "$(sql "select count(*) from cases where message_id in ('it-bounce@test.example','it-ooo@test.example')")" = 0

	# 8. mail to another recipient: untouched
	fresh "$CORPUS/007-nl-vague-no-fields.eml" it-other >"$work/m8.eml"
	send "$work/o8" --to box@example.com --data "@$work/m8.eml"
	check "other recipient: accepted" accepted "$work/o8"
	wait_delivered "it-other@test.example"
	f=$(delivered_with "it-other@test.example")
	check "other recipient: no headers of ours" bash -c "! grep -qE '^X-(Case-ID|Complaint-)' '$f'"
	check "other recipient: subject untouched" grep -q '^Subject: Omvormer doet het niet$' "$f"

	# 9. +detail and case-insensitive recipient
	fresh "$CORPUS/002-nl-service-ticket.eml" it-detail >"$work/m9.eml"
	send "$work/o9" --to Complaints+NL@Example.COM --data "@$work/m9.eml"
	wait_delivered "it-detail@test.example"
	check "+detail recipient is a complaints address" grep -q '^X-Complaint-Ticket: TCK-204518' "$(delivered_with it-detail@test.example)"

	# 10. flag mode (reload with SIGUSR1): incomplete accepted and flagged
	write_conf flag
	kill -USR1 "$milter_pid"
	sleep 0.5
	fresh "$CORPUS/007-nl-vague-no-fields.eml" it-flag >"$work/m10.eml"
	send "$work/o10" --to complaints@example.com --data "@$work/m10.eml"
	check "flag mode: accepted" accepted "$work/o10"
	wait_delivered "it-flag@test.example"
	f=$(delivered_with "it-flag@test.example")
	check "flag mode: status names what is missing" grep -q '^X-Complaint-Status: incomplete; missing=ticket_or_model' "$f"
	check "flag mode: case stored as incomplete" test "$(sql "select status from cases where message_id='it-flag@test.example'")" = incomplete
	check "flag mode: subject tagged" grep -qE '^Subject: \[CASE-[0-9]{4}-[0-9]{6}\] Omvormer' "$f"

	# 11. a broken reload keeps the running configuration
	echo "IncompleteAction maybe" >>"$work/milter.conf"
	kill -USR1 "$milter_pid"
	sleep 0.3
	check "broken reload: milter still running" kill -0 "$milter_pid"
	fresh "$CORPUS/007-nl-vague-no-fields.eml" it-flag2 >"$work/m11.eml"
	send "$work/o11" --to complaints@example.com --data "@$work/m11.eml"
	check "broken reload: old configuration (flag) still in force" accepted "$work/o11"

	# 11b. rules faults: a broken rules file at reload keeps the old rules;
	# at start it is a clear error (file:line) and no daemon
	write_conf flag
	kill -USR1 "$milter_pid"
	sleep 0.3
	cp "$work/rules/tickets.rules" "$work/tickets.rules.good"
	echo 'ticket.label   (unclosed' >>"$work/rules/tickets.rules"
	kill -USR1 "$milter_pid"
	sleep 0.3
	check "broken rules at reload: milter still running" kill -0 "$milter_pid"
	fresh "$CORPUS/002-nl-service-ticket.eml" it-rules-kept >"$work/m11b.eml"
	send "$work/o11b" --to complaints@example.com --data "@$work/m11b.eml"
	wait_delivered "it-rules-kept@test.example"
	check "broken rules at reload: old rules still extract the ticket" \
		grep -q '^X-Complaint-Ticket: TCK-204518' "$(delivered_with it-rules-kept@test.example)"
	"$MILTER" -c "$work/milter.conf" -n >"$work/n.out" 2>&1
	rc=$?
	check "broken rules at start: -n fails" test "$rc" -ne 0
	check "broken rules at start: the error names file and line" \
		grep -qE 'tickets\.rules:[0-9]+: ' "$work/n.out"
	cp "$work/tickets.rules.good" "$work/rules/tickets.rules"

	# 12. quarantine mode: Postfix holds the message
	write_conf quarantine
	kill -USR1 "$milter_pid"
	sleep 0.5
	fresh "$CORPUS/003-nl-productklacht-no-model.eml" it-quarantine >"$work/m12.eml"
	send "$work/o12" --to complaints@example.com --data "@$work/m12.eml"
	check "quarantine mode: accepted" accepted "$work/o12"
	sleep 1
	check "quarantine mode: message held" test -n "$(pf_held "$pfdir")"
	check "quarantine mode: case stored as incomplete" test "$(sql "select status from cases where message_id='it-quarantine@test.example'")" = incomplete

	# 13. milter not running: 4xx; the message is delivered once it is back
	write_conf reject
	stop_milter
	fresh "$CORPUS/012-nl-model-in-subject.eml" it-down >"$work/m13.eml"
	send "$work/o13" --to complaints@example.com --data "@$work/m13.eml"
	check "milter down: SMTP 4xx" grep -qE '^<\*\* 4[0-9][0-9]' "$work/o13"
	sendmail -C "$pfdir" -f customer@example.org complaints@example.com <"$work/m13.eml"
	sleep 1
	check "milter down: local submission waits in the queue" test -z "$(delivered_with it-down@test.example)"
	start_milter || bad "milter restarts"
	kill -9 "$milter_pid"
	wait "$milter_pid" 2>/dev/null
	milter_pid=
	check "SIGKILL leaves a stale socket" test -S "$sock"
	if start_milter; then ok "restart after SIGKILL replaces the stale socket"; else bad "restart after SIGKILL"; fi
	pf_flush "$pfdir" >/dev/null 2>&1
	wait_delivered "it-down@test.example"
	check "milter back: queued message delivered and tagged" grep -qE '^Subject: \[CASE-' "$(delivered_with it-down@test.example)"
	send "$work/o13b" --to complaints@example.com --data "@$work/m13.eml"
	check "milter back: the sender's retry is accepted" accepted "$work/o13b"
	check "milter back: one case for both copies" test "$(sql "select count(*) from cases where message_id='it-down@test.example'")" = 1

	lifecycle_tests

	pf_stop "$pfdir" >/dev/null
	stop_milter
}

# A case's life from the mail that flows: an incomplete complaint, a
# follow-up that completes it, two staff replies, the customer's escalation;
# then complaint-cases tells the whole story.
lifecycle_tests() {
	local cid f
	write_conf flag
	kill -USR1 "$milter_pid"
	sleep 0.5
	fresh "$CORPUS/003-nl-productklacht-no-model.eml" it-life >"$work/l1.eml"
	FROM=customer@example.com send "$work/ol1" --to complaints@example.com --data "@$work/l1.eml"
	cid=$(sql "select case_id from cases where message_id='it-life@test.example'")
	check "lifecycle: incomplete case opened" test "$(sql "select status from cases where case_id='$cid'")" = incomplete
	printf 'From: Jan de Vries <customer@example.com>\nTo: complaints@example.com\nSubject: Re: [%s] Productklacht\nMessage-ID: <it-life-2@test.example>\n\nHet gaat om de omvormer SUN2000-6KTL-L1.\n' "$cid" >"$work/l2.eml"
	FROM=customer@example.com send "$work/ol2" --to complaints@example.com --data "@$work/l2.eml"
	check "lifecycle: follow-up completes the case" test "$(sql "select status from cases where case_id='$cid'")" = new
	check "lifecycle: completed event" test "$(sql "select count(*) from events where case_id='$cid' and type='completed'")" = 1
	printf 'From: Klachtenservice <staff@example.com>\nTo: customer@example.com\nSubject: Re: [%s] Productklacht\nMessage-ID: <it-life-3@test.example>\n\nBeste klant, we hebben uw klacht in behandeling genomen.\n' "$cid" >"$work/l3.eml"
	FROM=staff@example.com send "$work/ol3" --to customer@example.com --data "@$work/l3.eml"
	check "lifecycle: staff reply accepted" accepted "$work/ol3"
	check "lifecycle: first staff reply acknowledges" test "$(sql "select status from cases where case_id='$cid'")" = acknowledged
	check "lifecycle: acknowledged_at and update_by set" test -n "$(sql "select 1 from cases where case_id='$cid' and acknowledged_at is not null and update_by is not null")"
	check "lifecycle: staff reply recorded as outgoing" test "$(sql "select count(*) from messages where case_id='$cid' and direction='out' and kind_of_message='staff'")" = 1
	wait_delivered "it-life-3@test.example"
	f=$(delivered_with "it-life-3@test.example")
	check "lifecycle: staff reply delivered unchanged" grep -q "^Subject: Re: \[$cid\] Productklacht$" "$f"
	sed -e 's/it-life-3/it-life-4/' -e 's/in behandeling genomen/onderzocht: de monteur komt dinsdag/' \
		-e 's/staff@example.com/anna@support.example.com/' "$work/l3.eml" >"$work/l4.eml"
	FROM=anna@support.example.com send "$work/ol4" --to customer@example.com --data "@$work/l4.eml"
	check "lifecycle: a later staff reply (staff domain) is an update" test "$(sql "select status from cases where case_id='$cid'")" = updated
	printf 'From: Jan de Vries <customer@example.com>\nTo: complaints@example.com\nSubject: Re: [%s] Productklacht\nMessage-ID: <it-life-5@test.example>\n\nIk ben niet tevreden over de oplossing en wil dit escaleren.\n' "$cid" >"$work/l5.eml"
	FROM=customer@example.com send "$work/ol5" --to complaints@example.com --data "@$work/l5.eml"
	check "lifecycle: the customer's escalation escalates the case" test "$(sql "select status from cases where case_id='$cid'")" = escalated
	check "lifecycle: the escalation event names the words" grep -q "tevreden" <<<"$(sql "select detail from events where case_id='$cid' and type='escalated'")"
	fresh "$CORPUS/001-nl-product-labeled.eml" it-staff-new >"$work/l6.eml"
	FROM=staff@example.com send "$work/ol6" --to complaints@example.com --data "@$work/l6.eml"
	check "lifecycle: staff mail never opens a case" test "$(sql "select count(*) from cases where message_id='it-staff-new@test.example'")" = 0
	"$CASES" --db "$db" -c "$work/milter.conf" show "$cid" >"$work/show.out" 2>&1
	for ev in flagged completed acknowledged updated escalated; do
		check "complaint-cases show: the story has '$ev'" grep -q "$ev" "$work/show.out"
	done
	"$CASES" --db "$db" -c "$work/milter.conf" --today 2027-06-01 overdue >"$work/overdue.out" 2>&1
	check "complaint-cases overdue: the case is overdue on 2027-06-01" grep -q "$cid" "$work/overdue.out"
	"$CASES" --db "$db" -c "$work/milter.conf" --today "$(date +%F)" overdue >"$work/overdue2.out" 2>&1
	check "complaint-cases overdue: not overdue today" bash -c "! grep -q '$cid' '$work/overdue2.out'"
}

sendmail_tests() {
	sm_prepare "$SM_CACHE" >/dev/null || { bad "sendmail unpacked"; return; }
	write_conf reject
	start_milter || { bad "milter starts (sendmail)"; return; }
	sm_setup "$work/sendmail" "$SM_CACHE" "$sock" || { bad "sendmail setup"; return; }
	fresh "$CORPUS/002-nl-service-ticket.eml" it-sm-complete >"$work/s1.eml"
	swaks --pipe "$work/sendmail/smtp.sh" --from customer@example.org --to complaints@example.com \
		--data "@$work/s1.eml" >"$work/so1" 2>&1
	check "sendmail: complete complaint accepted" accepted "$work/so1"
	qf=$(grep -l 'it-sm-complete@test.example' $(sm_queued "$work/sendmail") /dev/null | head -1)
	check "sendmail: queued" test -n "$qf"
	cid=$(sql "select case_id from cases where message_id='it-sm-complete@test.example'")
	check "sendmail: case recorded" test -n "$cid"
	check "sendmail: subject tagged in the queue file" grep -q "Subject: \[$cid\] Serviceklacht" "$qf"
	check "sendmail: X-Case-ID in the queue file" grep -q "X-Case-ID: $cid" "$qf"
	fresh "$CORPUS/007-nl-vague-no-fields.eml" it-sm-incomplete >"$work/s2.eml"
	swaks --pipe "$work/sendmail/smtp.sh" --from customer@example.org --to complaints@example.com \
		--data "@$work/s2.eml" >"$work/so2" 2>&1
	check "sendmail: incomplete rejected with 550 5.7.1" grep -q '^<\*\* 550.5\.7\.1' "$work/so2"
	check "sendmail: reply names what is missing" grep -q 'Missing: the ticket number' "$work/so2"
	stop_milter
}

case $what in
postfix) postfix_tests ;;
sendmail) sendmail_tests ;;
*) postfix_tests; sendmail_tests ;;
esac
echo "milter-it: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
